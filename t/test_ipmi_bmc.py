"""The IPMI plug-in's BMC side (src/plugins/ipmi/ngx_wsman_ipmi_bmc*.c, the
libfreeipmi backend) without nginx: t/unit/ipmi_bmc_probe reads the
simulated BMC of t/ipmi_sim.py and dumps everything it read, and that
dump must equal what freeipmi's tools read from the same simulator:
sensors (ipmi-sensors), SEL records and info (ipmi-sel), FRU fields
(ipmi-fru), chassis status (ipmi-chassis) and device id and GUID
(bmc-info).  Also: power control and Clear SEL through the probe, reads
across a killed and restarted BMC, and the probe under valgrind (no
memory errors, no definite leaks)."""

import calendar
import os
import re
import shutil
import subprocess
import time

import pytest

import ipmi_sim as S
from conftest import SO

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "unit")
PROBE = os.path.join(UNIT, "ipmi_bmc_probe")
VALGRIND = shutil.which("valgrind")

# the probe prints thresholds by the spec's index, as S.THRESHOLD_NAMES
PROBE_THRESHOLDS = ["LNC", "UNC", "LC", "UC", "LNR", "UNR"]
# freeipmi's sensor state -> the probe's (the same libfreeipmi
# interpretation; "N/A" without a reading)
TOOL_STATE = {"Nominal": "OK", "Warning": "Warning", "Critical": "Critical",
              "N/A": "Unknown"}
# ipmi-fru label -> (probe area, probe field)
FRU_FIELDS = {
    "FRU Chassis Part Number": ("chassis", "part"),
    "FRU Chassis Serial Number": ("chassis", "serial"),
    "FRU Board Manufacturer": ("board", "manufacturer"),
    "FRU Board Product Name": ("board", "product"),
    "FRU Board Serial Number": ("board", "serial"),
    "FRU Board Part Number": ("board", "part"),
    "FRU Product Manufacturer Name": ("product", "manufacturer"),
    "FRU Product Name": ("product", "name"),
    "FRU Product Part/Model Number": ("product", "part"),
    "FRU Product Version": ("product", "version"),
    "FRU Product Serial Number": ("product", "serial"),
    "FRU Product Asset Tag": ("product", "asset"),
}
RESTORE_POLICY = {"Always off": 0,
                  "Restore power to state when AC power was lost": 1,
                  "Always on": 2, "Unknown": 3}


# ------------------------------------------------------- the probe dump --

def _value(text):
    """a dump value: "quoted" -> str, 0x.. / digits -> int, time -> epoch
    ("none" -> None), else the text"""
    if text.startswith('"'):
        return text[1:-1]
    if re.match(r"^0x[0-9a-f]+$", text):
        return int(text, 16)
    if re.match(r"^-?\d+$", text):
        return int(text)
    if text == "none":
        return None
    if re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", text):
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    return text


def _pairs(text):
    """'a 1 b "x y" c 0x02' -> {"a": 1, "b": "x y", "c": 2}; anything
    else in the text fails"""
    out = {}
    pos = 0
    pair = re.compile(r'\s*(\w+) ("[^"]*"|[^\s"]+)')
    while text[pos:].strip():
        m = pair.match(text, pos)
        if not m:
            raise ValueError("not key value pairs: %r" % text)
        out[m.group(1)] = _value(m.group(2))
        pos = m.end()
    return out


def parse_probe(text):
    """ipmi_bmc_probe's stdout -> {"reads": [...], "control", "clear"}.
    Each read: {"ok", "ms", "error"} and, when it went well,
    "sensors" (list), "sel" (info + "records"), "frus" (list), "chassis".
    A line the parser does not know fails: the dump format and this
    parser change together."""
    out = {"reads": [], "control": None, "clear": None}
    read = cur = None
    for line in text.splitlines():
        if re.match(r"^=== read \d+$", line):
            continue
        m = re.match(r"^read: OK in (\d+) ms, what (0x\w+)$", line)
        if m:
            read = {"ok": True, "ms": int(m.group(1)),
                    "what": int(m.group(2), 16), "sensors": [],
                    "frus": []}
            out["reads"].append(read)
            continue
        m = re.match(r"^read: ERROR after (\d+) ms: (.*)$", line)
        if m:
            read = {"ok": False, "ms": int(m.group(1)),
                    "error": m.group(2)}
            out["reads"].append(read)
            continue
        m = re.match(r"^(chassis control \d+|clear SEL): (OK|ERROR after "
                     r"(\d+) ms: (.*))$", line)
        if m:
            key = "clear" if m.group(1) == "clear SEL" else "control"
            out[key] = {"ok": m.group(2) == "OK", "error": m.group(4)}
            continue
        if re.match(r"^(sensors|frus): \d+$", line) \
                or re.match(r"^  records: \d+$", line):
            continue
        m = re.match(r'^sensor (\d+\.\d+\.\d+) "(.*)"$', line)
        if m:
            cur = {"device_id": m.group(1), "name": m.group(2)}
            read["sensors"].append(cur)
            continue
        m = re.match(r"^  reading (N/A|-?[\d.]+)(?: raw (\d+))?$", line)
        if m:
            cur["reading"] = (None if m.group(1) == "N/A"
                              else float(m.group(1)))
            continue
        m = re.match(r"^  thresholds (0x\w+):(.*)$", line)
        if m:
            cur["thresholds_readable"] = int(m.group(1), 16)
            cur["thresholds"] = {
                PROBE_THRESHOLDS.index(k): float(v)
                for k, v in re.findall(r"(\w+) (-?[\d.]+)", m.group(2))}
            continue
        m = re.match(r'^  type (0x\w+) "(.*)" event_reading_type (0x\w+) '
                     r"threshold (\d)$", line)
        if m:
            cur.update(type=int(m.group(1), 16), type_name=m.group(2),
                       event_reading_type=int(m.group(3), 16),
                       threshold=m.group(4) == "1")
            continue
        m = re.match(r'^  units (\d+) rate (\d+) "(.*)" r_exponent (-?\d+)$',
                     line)
        if m:
            cur.update(units=int(m.group(1)), rate=int(m.group(2)),
                       units_name=m.group(3), r_exponent=int(m.group(4)))
            continue
        m = re.match(r'^  generator (0x\w+) sensor_type (0x\w+) "(.*)" '
                     r'number (\d+) name "(.*)"$', line)
        if m:
            cur.update(generator=int(m.group(1), 16),
                       sensor_type=int(m.group(2), 16),
                       type_name=m.group(3), number=int(m.group(4)),
                       name=m.group(5))
            continue
        m = re.match(r"^  record_id (\d+) entity (\d+)\.(\d+)$", line)
        if m:
            cur.update(record_id=int(m.group(1)),
                       entity=(int(m.group(2)), int(m.group(3))))
            continue
        if line.startswith("sel: "):
            cur = _pairs(line[5:])
            cur["records"] = []
            read["sel"] = cur
            continue
        m = re.match(r"^record (\d+) type (0x\w+) time (\S+)$", line)
        if m:
            cur = {"id": int(m.group(1)), "type": int(m.group(2), 16),
                   "time": _value(m.group(3))}
            read["sel"]["records"].append(cur)
            continue
        m = re.match(r"^  raw((?: [0-9A-F]{2}){16})$", line)
        if m:
            cur["raw"] = bytes.fromhex(m.group(1))
            continue
        m = re.match(r"^  event_type (0x\w+) (Assertion|Deassertion) "
                     r'message "(.*)"$', line)
        if m:
            cur.update(event_type=int(m.group(1), 16),
                       direction=m.group(2), message=m.group(3))
            continue
        m = re.match(r'^fru (\d+) "(.*)"$', line)
        if m:
            cur = {"id": int(m.group(1)), "name": m.group(2)}
            read["frus"].append(cur)
            continue
        m = re.match(r"^  (chassis|board|product) (.*)$", line)
        if m:
            cur[m.group(1)] = _pairs(m.group(2))
            continue
        if line.startswith("chassis: "):
            cur = _pairs(line[9:])
            read["chassis"] = cur
            continue
        if line.startswith("  ") and cur is not None:
            # state_bits, last_addition, restore_policy, manufacturer_id
            # lines: key value pairs
            cur.update(_pairs(line))
            continue
        raise ValueError("unknown probe line: %r" % line)
    return out


# ------------------------------------------------------------- fixtures --

@pytest.fixture(scope="module")
def probe():
    """t/unit/ipmi_bmc_probe, built against the configured build dir of
    the module under test (as the top Makefile's `unit` target does)."""
    build = os.path.dirname(SO)
    if not os.path.exists(os.path.join(build, "ngx_auto_config.h")):
        pytest.fail("%s/ngx_auto_config.h missing: run `make` first" % build)
    p = subprocess.run(
        ["make", "-s", "-C", UNIT, "ipmi_bmc_probe", "BUILD=" + build,
         "NGX_SRC=" + os.environ.get("NGX_SRC", "/usr/share/nginx/src")],
        capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "building the probe failed:\n%s%s" % (
        p.stdout, p.stderr)
    return PROBE


def _probe_cmd(sim, *args, host=None, timeout_ms=None):
    cmd = [PROBE, host or sim.host, S.USER, S.PASSWORD, "-W",
           "opensesspriv"]
    if timeout_ms:
        cmd += ["--timeout", str(timeout_ms)]
    return cmd + list(args)


def run_probe(sim, *args, check=True, prefix=(), timeout=60, **kw):
    """Run the probe against `sim` -> (parsed dump, CompletedProcess)."""
    p = subprocess.run(list(prefix) + _probe_cmd(sim, *args, **kw),
                       capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check:
        assert p.returncode == 0, "probe failed (rc=%d):\n%s%s" % (
            p.returncode, p.stdout, p.stderr)
    return parse_probe(p.stdout), p


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = S.IpmiSim(tmp_path_factory.mktemp("ipmisim")).start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def dump(probe, sim):
    """One full read (sensors, SEL, FRU, chassis) of the fresh simulator."""
    out, _ = run_probe(sim)
    assert len(out["reads"]) == 1 and out["reads"][0]["ok"], out
    assert out["reads"][0]["what"] == 0x0f
    return out["reads"][0]


@pytest.fixture
def own_sim(probe, tmp_path):
    """A simulator of the test's own (it gets changed or killed)."""
    s = S.IpmiSim(tmp_path / "sim").start()
    yield s
    s.close()


# ---------------------------------------------------- probe vs. tools --

def test_sensors_equal_ipmi_sensors(dump, sim):
    tool = sim.sensors()                # by SDR record id
    mine = {s["record_id"]: s for s in dump["sensors"]}
    assert len(mine) == len(dump["sensors"])
    assert sorted(mine) == sorted(tool)
    model = {s.name: s for s in S.SENSORS}
    assert sorted(model) == sorted(s["name"] for s in dump["sensors"])
    for rid, t in tool.items():
        p = mine[rid]
        what = (p, t)
        assert p["name"] == t["name"], what
        assert p["type_name"] == t["type"], what
        assert p["state"] == TOOL_STATE[t["state"]], what
        assert p["thresholds"] == pytest.approx(t["thresholds"],
                                                abs=0.005), what
        # the events that hold, "OK" when none does ("N/A": no reading)
        assert p["events"] == "; ".join(
            e for e in t["events"] if e != "OK"), what
        # the SDR as modelled: owner.lun.number, entity, type
        m = model[p["name"]]
        assert p["device_id"] == m.device_id, what
        assert p["entity"] == m.entity, what
        assert (p["type"], p["event_reading_type"], p["threshold"]) == \
            (m.stype, m.ertype, m.threshold), what
        if p["threshold"]:
            if t["reading"] is None:
                assert p["reading"] is None, what
            else:
                assert p["reading"] == pytest.approx(t["reading"],
                                                     abs=0.005), what
            assert p["units_name"] == t["units"], what
            assert (p["units"], p["r_exponent"]) == (m.unit, m.rexp), what
            assert p["thresholds_readable"] == sum(
                1 << i for i in t["thresholds"]), what
        else:
            # no analog reading: ipmi-sensors has none, nor units
            assert (t["reading"], t["units"]) == (None, "N/A"), what
            assert p["state_bits"] == sum(1 << b for b in m.bits), what


def test_sel_equals_ipmi_sel(dump, sim):
    tool = sim.sel()
    raw = sim.sel_hex()
    mine = dump["sel"]["records"]
    assert [r["id"] for r in mine] == [t["id"] for t in tool] == sorted(raw)
    assert len(mine) == len(S.SEL)
    for p, t, model in zip(mine, tool, S.SEL):
        what = (p, t)
        assert p["raw"] == raw[t["id"]] == model.record(t["id"]), what
        assert p["type"] == 0x02, what
        assert p["time"] == t["timestamp"] == model.timestamp, what
        assert p["generator"] == S.BMC_ADDR, what
        assert (p["sensor_type"], p["number"]) == \
            (model.sensor_type, model.sensor_number), what
        name = t["name"]
        if name == "N/A" or name.startswith("Sensor #"):
            name = ""
        assert p["name"] == name, what
        assert p["type_name"] == t["type"], what
        assert p["event_type"] == model.event_type, what
        assert p["direction"] + " Event" == t["direction"], what
        assert p["message"] == t["event"], what


def test_sel_info_equals_ipmi_sel_info(dump, sim):
    info = sim.sel_info()
    p = dump["sel"]
    assert p["entries"] == int(info["Number of log entries"]) == len(S.SEL)
    assert "%d bytes" % p["free_space"] == info["Free space remaining"]
    assert p["entries"] + p["free_space"] // 16 == S.SEL_MAX_ENTRIES
    major, minor = info["SEL version"].split(".")
    assert p["version"] == int(minor) << 4 | int(major)
    assert p["overflow"] == (
        info["Events dropped due to lack of space"] == "Yes")
    assert p["delete_supported"] == (
        info["Delete SEL Command"] == "supported")
    assert p["last_addition"] == S.parse_sel_time(
        info["Recent addition timestamp"]) == S.SEL[-1].timestamp
    assert p["last_erase"] == S.parse_sel_time(
        info["Recent erase timestamp"]) is None


def test_fru_equals_ipmi_fru(dump, sim):
    tool = sim.fru()
    mine = {f["id"]: f for f in dump["frus"]}
    assert sorted(mine) == sorted(tool) == sorted(S.FRUS)
    for dev, t in tool.items():
        p = mine[dev]
        what = (p, t)
        name = t["name"]
        if name == "Default FRU Device":
            name = "FRU %d" % dev
        assert p["name"] == name, what
        for label, (area, field) in FRU_FIELDS.items():
            assert p[area][field] == t.get(label, ""), (label, what)
        assert p["board"]["made"] == calendar.timegm(time.strptime(
            t["FRU Board Manufacturing Date/Time"], "%m/%d/%y - %H:%M:%S"))
        assert p["board"]["made"] == S.FRUS[dev]["board"]["time"], what
        assert p["chassis"]["type"] == \
            S.FRUS[dev].get("chassis", {}).get("type", 0), what
    assert tool[0]["FRU Chassis Type"] == "Rack Mount Chassis"
    assert mine[0]["chassis"]["type"] == 23


def _assert_chassis_equal(p, status):
    what = (p, status)
    assert p["power_on"] == (status["System Power"] == "on"), what
    assert p["power_fault"] == (status["Power fault"] == "true"), what
    assert p["power_overload"] == (status["Power overload"] == "true"), what
    assert p["interlock"] == (status["Interlock"] == "active"), what
    assert p["intrusion"] == (status["Chassis intrusion"] == "active"), what
    assert p["restore_policy"] == \
        RESTORE_POLICY[status["Power restore policy"]], what
    # ipmi_sim reports no last power event
    assert (p["last_event"], status["Last Power Event"]) == (0, "unknown")


def test_chassis_status_equals_ipmi_chassis(dump, sim):
    _assert_chassis_equal(dump["chassis"], sim.chassis_status())
    assert dump["chassis"]["power_on"] == 1


def test_device_id_and_guid_equal_bmc_info(dump, sim):
    info = sim.device_id()
    p = dump["chassis"]
    assert p["firmware"] == info["Firmware Revision"]
    assert "(%d)" % p["manufacturer_id"] in info["Manufacturer ID"]
    assert p["product_id"] == int(info["Product ID"])
    guid = sim.tool("bmc-info", "--get-system-guid").strip()
    assert p["guid"] == guid == "efcdab89-6745-23a1-efcd-ab89674523a1"


def test_probe_what_selects(probe, sim, dump):
    """--what reads only the parts asked for, and the same values."""
    out, _ = run_probe(sim, "--what", "sel,chassis")
    r = out["reads"][0]
    assert r["ok"] and r["what"] == 0x0a, r
    assert r["sensors"] == [] and r["frus"] == [] and "sel" in r
    assert r["sel"] == dump["sel"]
    assert r["chassis"] == dump["chassis"]


# -------------------------------------------------------- BMC changes --

def test_power_control_through_the_probe(own_sim):
    """--power drives the chassis (ipmi-chassis sees it, the chassis
    program was called) and the next read shows it; a diagnostic
    interrupt is refused by ipmi_sim and reported."""
    sim = own_sim
    out, _ = run_probe(sim, "--power", "off")
    assert out["control"] == {"ok": True, "error": None}, out
    assert sim.power() == "off" and sim.power_file_state() == "0"
    out, _ = run_probe(sim, "--what", "chassis")
    _assert_chassis_equal(out["reads"][0]["chassis"], sim.chassis_status())
    assert out["reads"][0]["chassis"]["power_on"] == 0
    out, _ = run_probe(sim, "--power", "on")
    assert out["control"]["ok"] and sim.power() == "on"
    mark = len(sim.chassis_log())
    out, _ = run_probe(sim, "--power", "reset")
    assert out["control"]["ok"]
    assert [a for _, a in sim.chassis_log()[mark:] if a[0] == "set"] == \
        [["set", "reset", "1"]]
    out, p = run_probe(sim, "--power", "diag", check=False)
    assert p.returncode == 1 and not out["control"]["ok"], p.stdout
    assert "BMC" in out["control"]["error"], out
    assert sim.power() == "on"


def test_clear_sel_through_the_probe(own_sim):
    sim = own_sim
    before = time.time()
    out, _ = run_probe(sim, "--clear-sel")
    assert out["clear"] == {"ok": True, "error": None}, out
    assert sim.sel() == []
    erased = S.parse_sel_time(sim.sel_info()["Recent erase timestamp"])
    assert erased is not None and abs(erased - before) < 30
    out, _ = run_probe(sim, "--what", "sel")
    sel = out["reads"][0]["sel"]
    assert (sel["entries"], sel["records"]) == (0, [])
    assert sel["last_erase"] == erased
    assert sel["entries"] + sel["free_space"] // 16 == S.SEL_MAX_ENTRIES


def test_reading_change_seen_by_probe_and_tool(own_sim):
    """A reading changed through the console: the probe and ipmi-sensors
    agree on the new value and on the state it crosses into."""
    sim = own_sim
    sim.console("sensor_set_value 0x20 0 1 0x56 0")    # MB Temp 86 C
    tool = sim.sensors_by_name()["MB Temp"]
    out, _ = run_probe(sim, "--what", "sensors")
    p = {s["name"]: s for s in out["reads"][0]["sensors"]}["MB Temp"]
    assert p["reading"] == tool["reading"] == 86.0
    assert p["state"] == TOOL_STATE[tool["state"]] == "Critical"
    assert p["events"] == "; ".join(tool["events"])


# ------------------------------------------------- killed and restarted --

def _next_read(proc):
    """The probe's stdout lines up to the next "read:" line."""
    seen = []
    while True:
        line = proc.stdout.readline()
        assert line, "the probe ended early: %r" % seen
        seen.append(line)
        if line.startswith("read: "):
            return seen


@pytest.mark.parametrize("outage", ["down", "quick"])
def test_bmc_killed_and_restarted(own_sim, outage, tmp_path):
    """--repeat reads on one session while the BMC is killed.  "down": a
    read while it is gone fails in time with a BMC error, and once it is
    back the next read reconnects.  "quick": killed and restarted
    between two reads: the read on the stale session is tried again on a
    new one and works.  Every read after the restart has the same
    sensors, SEL and FRU data (the restarted BMC has the same state)."""
    sim = own_sim
    timeout_ms = 1000
    repeat = 3 if outage == "down" else 2
    cmd = _probe_cmd(sim, "--repeat", str(repeat), "--interval", "2000",
                     timeout_ms=timeout_ms)
    with open(tmp_path / "probe.err", "w+") as err:
        # UNIT_VERBOSE: the backend's log on stderr
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err,
                                text=True, stdin=subprocess.DEVNULL,
                                env=dict(os.environ, UNIT_VERBOSE="1"))
        try:
            # a read's dump is flushed as a whole: after its "read:"
            # line the probe sleeps its interval
            seen = _next_read(proc)
            sim.kill()
            if outage == "down":
                seen += _next_read(proc)
                assert seen[-1].startswith("read: ERROR"), seen[-1]
            sim.restart()
            seen += proc.stdout.readlines()
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        err.seek(0)
        stderr = err.read()
    out = parse_probe("".join(seen))
    reads = out["reads"]
    assert len(reads) == repeat, (reads, stderr)
    first = reads[0]
    assert first["ok"], first
    if outage == "down":
        failed = reads[1]
        assert not failed["ok"]
        assert re.search(r"^BMC 127\.0\.0\.1:%d: .*timeout" % sim.port,
                         failed["error"]), failed
        # in time: the request on the old session, then one new session
        # (each about the timeout; see t/ipmi_sim.py)
        assert failed["ms"] < timeout_ms * 4, failed
        after = reads[2:]
    else:
        after = reads[1:]
    assert all(r["ok"] for r in after), reads
    # the read after the kill found its session gone and opened another
    assert "trying again on a new session" in stderr, stderr
    for r in after:
        for part in ("sensors", "frus", "chassis"):
            assert r[part] == first[part], part
        assert r["sel"]["records"] == first["sel"]["records"]
    assert proc.returncode == (0 if all(r["ok"] for r in reads) else 1)


# ------------------------------------------------------------ valgrind --

VALGRIND_CMD = [VALGRIND or "valgrind", "-q", "--leak-check=full",
                "--errors-for-leak-kinds=definite", "--error-exitcode=99"]


@pytest.mark.skipif(VALGRIND is None,
                    reason="valgrind not installed (apt-get install "
                    "valgrind)")
@pytest.mark.parametrize("what", ["read", "control", "unreachable"])
def test_probe_under_valgrind(probe, sim, dump, what, tmp_path):
    """No memory errors and no definite leaks: two full reads on one
    session (the second with the SDR cached), a chassis control, and a
    read of a BMC that does not answer (the error path)."""
    if what == "read":
        out, p = run_probe(sim, "--repeat", "2", prefix=VALGRIND_CMD,
                           check=False, timeout=180)
        assert p.returncode == 0, p.stderr
        assert [r["ok"] for r in out["reads"]] == [True, True]
        for r in out["reads"]:
            for part in ("sensors", "sel", "frus", "chassis"):
                assert r[part] == dump[part], part
    elif what == "control":
        out, p = run_probe(sim, "--power", "reset", prefix=VALGRIND_CMD,
                           check=False, timeout=180)
        assert p.returncode == 0, p.stderr
        assert out["control"]["ok"]
    else:
        out, p = run_probe(sim, prefix=VALGRIND_CMD, check=False,
                           host="127.0.0.1:%d" % S.free_udp_port(),
                           timeout_ms=500, timeout=180)
        assert p.returncode == 1, p.stderr
        assert not out["reads"][0]["ok"]
    assert "==" not in p.stderr, p.stderr
