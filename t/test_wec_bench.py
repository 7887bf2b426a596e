"""bench/wec_bench.py in its tiny mode (50 sources, batches of 10
events, half-second runs): the event collector's benchmark still runs
against this tree, and what it prints is what it measured (the events it
counts as acknowledged are in the output files; every source's heartbeat
was answered)."""

import os
import re
import subprocess
import sys

import conftest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_wec_bench_tiny_run(tmp_path):
    env = dict(os.environ)
    for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        env.pop(k, None)
    results = os.path.join(TOP, "bench", "RESULTS.md")
    before = open(results, "rb").read()
    p = subprocess.run([sys.executable, os.path.join(TOP, "bench",
                                                     "wec_bench.py"),
                        conftest.SO, "--tiny"],
                       capture_output=True, text=True, timeout=60, env=env,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    out = p.stdout
    # the collector acknowledged batches, and each of their events is a
    # line of the json_file output
    m = re.search(r"events in the files / acknowledged × batch \| "
                  r"(\d+) / (\d+) \|", out)
    assert m, out
    assert int(m.group(1)) == int(m.group(2)) > 0
    m = re.search(r"\| events/s \(batches of 10, \d+ kept-alive "
                  r"connections\) \| (\d+) \| (\d+) \|", out)
    assert m and int(m.group(1)) > 0 and int(m.group(2)) > 0, out
    assert re.search(r"failed batches \(not acknowledged\) \| 0 \|", out)
    # with the source simulator's compressor, SLDC bodies too
    if os.path.exists(os.path.join(TOP, "t", "wef_source.py")):
        m = re.search(r"\| collector, SLDC bodies \((\d+) bytes\) \|", out)
        assert m, out
        assert re.search(r"\| events/s \| [1-9]\d* \|", out), out
        assert re.search(r"\| failed batches \| 0 \|", out), out
    # 50 sources, none of whose heartbeats failed
    assert "## Heartbeats of 50 sources" in out
    assert re.search(r"\| failed heartbeats \| 0 \| 0 \|", out), out
    m = re.search(r"worker RSS per 1,000 sources.*\| \*\*(-?\d+) kB\*\*",
                  out)
    assert m, out
    # the state store (when this build has it) got all 50 rows, twice
    m = re.search(r"\| SQLite [^|]*\| 50 \| [0-9.]+ s, \*\*(\d+)\*\* \| "
                  r"[0-9.]+ s, \*\*(\d+)\*\* \|", out)
    assert (m and int(m.group(1)) > 0 and int(m.group(2)) > 0) or \
        "Not measured: SQLite: this build has no" in out, out
    # the tiny run leaves bench/RESULTS.md alone
    assert open(results, "rb").read() == before
