"""The root shell host's memory is bounded (issue [7] section 4): many
commands whose output nobody reads do not grow the host beyond
`wsman_shell_max_buffered` (producers are paused, not read), and none of
that output is lost once clients read it.  Windows' defaults for
MaxShellsPerUser, MaxProcessesPerShell and MaxMemoryPerShellMB apply
without any directive."""

import os
import time

import pytest

import wsman_helpers as H
from conftest import SHELL_LOC

pytestmark = pytest.mark.usefixtures("deadline")

NCMD = 30
LINES = 170000                      # `seq 1 170000`: 1.1 MB each
WANT = "".join("%d\n" % i for i in range(1, LINES + 1)).encode()


def _server(nginx_factory, shell_user_file, http="", loc=""):
    return nginx_factory("""
    %s
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { %s %s }
    }
""" % (http, SHELL_LOC.replace("@SHELLUSERS@", str(shell_user_file)), loc))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_unread_output_keeps_the_host_bounded(nginx_factory,
                                              shell_user_file, local_user):
    n = _server(nginx_factory, shell_user_file,
                http="wsman_shell_max_buffered 4m;",
                loc="wsman_shell_max_processes 200;")
    c = H.ShellClient(n.port, local_user.name, local_user.password)
    sid = c.create()
    try:
        host = H.shell_host_pid(n)
        before = rss_kb(host)
        cids = [c.command(sid, "seq 1 %d" % LINES) for _ in range(NCMD)]
        # every command has written what its pipe takes and waits; the
        # host read until its cap and stopped
        peak = before
        for _ in range(20):
            time.sleep(0.2)
            peak = max(peak, rss_kb(host))
        grown = peak - before
        # unbounded, each command's stdout buffer fills to 1 MB (30 MB)
        assert grown < 12 * 1024, (before, peak)
        # nothing is lost: every command's output, whole and in order
        for cid in cids:
            out, err, code, _ = c.collect(sid, cid, deadline=60,
                                          op_timeout=5)
            assert (len(out), err, code) == (len(WANT), b"", 0)
            assert out == WANT
            c.signal(sid, cid)
        # (under make sanitize, ASan's quarantine keeps freed memory on
        # purpose: the host gives nothing back there)
        if not os.environ.get("WSMAN_NGINX_PRELOAD"):
            assert rss_kb(host) - before < 12 * 1024
    finally:
        c.delete(sid)
        local_user.kill_all()


def test_reader_is_not_starved_by_unread_commands(nginx_factory,
                                                  shell_user_file,
                                                  local_user):
    """The cap is full of output nobody reads; a client that waits in a
    Receive still gets its command's output."""
    n = _server(nginx_factory, shell_user_file,
                http="wsman_shell_max_buffered 1m;",
                loc="wsman_shell_max_processes 200;")
    c = H.ShellClient(n.port, local_user.name, local_user.password)
    sid = c.create()
    try:
        for _ in range(6):
            c.command(sid, "seq 1 %d" % LINES)
        time.sleep(1)
        cid = c.command(sid, "echo reader; seq 1 50000")
        out, err, code, _ = c.collect(sid, cid, deadline=40)
        want = b"reader\n" + "".join(
            "%d\n" % i for i in range(1, 50001)).encode()
        assert (out, err, code) == (want, b"", 0)
    finally:
        c.delete(sid)
        local_user.kill_all()


def test_windows_defaults_apply(nginx_factory, shell_user_file, local_user):
    """No directive: MaxShellsPerUser 30 (the 31st Create is refused),
    MaxProcessesPerShell 25 and MaxMemoryPerShellMB 1024 (a command sees
    them as its limits)."""
    n = _server(nginx_factory, shell_user_file)
    c = H.ShellClient(n.port, local_user.name, local_user.password)
    sids = []
    try:
        out, _, code = c.run("grep -E '^Max (processes|address space)' "
                             "/proc/self/limits")
        assert code == 0
        lim = {l[:26].strip(): l[26:].split()[:2]
               for l in out.decode().splitlines()}
        assert lim == {"Max processes": ["25", "25"],
                       "Max address space": [str(1 << 30)] * 2}, out
        for _ in range(30):
            sids.append(c.create())
        resp, _ = c.create_raw()
        H.assert_fault(resp, 500, subcode=("w", "QuotaLimit"))
    finally:
        for sid in sids:
            c.delete(sid)


def test_unread_input_counts_too(nginx_factory, shell_user_file,
                                 local_user):
    """Input a command does not read is host memory as well: beyond the
    cap a further Send to a command with input waiting is refused
    (w:QuotaLimit), while a command with none waiting still gets its
    chunk; once read, input flows again."""
    n = _server(nginx_factory, shell_user_file,
                http="wsman_shell_max_buffered 1m;",
                loc="wsman_shell_max_processes 200;")
    c = H.ShellClient(n.port, local_user.name, local_user.password)
    sid = c.create()
    try:
        chunk = b"x" * 300000
        stuck = [c.command(sid, "sleep 30") for _ in range(4)]
        for cid in stuck:
            c.send(sid, cid, chunk)            # an empty buffer takes it
        xml, _ = H.send_request(sid, stuck[0], chunk)
        H.assert_fault(c.post(xml), 500, subcode=("w", "QuotaLimit"))
        # the stuck commands go; their input with them
        for cid in stuck:
            c.signal(sid, cid, H.SIGNAL_CTRL_C)
            assert c.collect(sid, cid, deadline=10)[2] != 0
        cid = c.command(sid, "wc -c")
        c.send(sid, cid, chunk)
        c.send(sid, cid, chunk, end=True)
        out, _, code, _ = c.collect(sid, cid, deadline=20)
        assert (out.strip(), code) == (b"600000", 0)
    finally:
        c.delete(sid)
        local_user.kill_all()


@pytest.mark.parametrize("http,loc", [
    ("wsman_shell_max_buffered 0;", ""),
    ("wsman_shell_max_buffered 1k;", ""),
    ("wsman_shell_max_buffered lots;", ""),
    ("", "wsman_shell_max_buffered 8m;"),     # http{} only
])
def test_max_buffered_bad_values_refused(nginx_factory, shell_user_file,
                                         http, loc):
    """Never unbounded, never too small to read a chunk: nginx -t says
    which directive is wrong."""
    n = nginx_factory("""
    %s
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { %s %s }
    }
""" % (http, SHELL_LOC.replace("@SHELLUSERS@", str(shell_user_file)), loc),
        start=False)
    p = n.test_config()
    assert p.returncode != 0, p.stderr
    assert "wsman_shell_max_buffered" in p.stderr, p.stderr
