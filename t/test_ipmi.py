"""The IPMI plug-in (wsman_ipmi) against OpenIPMI's ipmi_sim on loopback
(t/ipmi_sim.py): what /wsman reports for sensors, the SEL, FRU data and
chassis power is compared with freeipmi's ipmi-sensors, ipmi-sel, ipmi-fru
and ipmi-chassis reading the same simulator.  Power changes are observed
through ipmi-chassis --get-status and the simulator's chassis control log.
A killed simulator gives w:InternalError in time while the worker keeps
answering; a restarted one is used again.  Also: `wsman_ipmi inband;`
without a BMC, no directive (a:DestinationUnreachable), rights (ClearLog
and RequestPowerStateChange need GX) and `nginx -t` errors."""

import calendar
import datetime
import os
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET

import pytest

import ipmi_sim as S
import wsman_helpers as H
from conftest import USERS  # noqa: E402  (t/ is on sys.path)

CIM = H.CIM_BASE
WMI_HW = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/hardware/"
PREFIXES = {"cim": CIM, "wmi": WMI_HW}

NUMERIC = "CIM_NumericSensor"
SENSOR = "CIM_Sensor"
RECORD_LOG = "CIM_RecordLog"
LOG_RECORD = "CIM_LogRecord"
PACKAGE = "CIM_PhysicalPackage"
CHASSIS = "CIM_Chassis"
PMS = "CIM_PowerManagementService"
APMS = "CIM_AssociatedPowerManagementService"
CLASSES = [NUMERIC, SENSOR, RECORD_LOG, LOG_RECORD, PACKAGE, CHASSIS, PMS,
           APMS]

SEL_ID = "IPMI:SEL"
POWER_ID = "IPMI:Power"
PMS_NAME = "IPMI Power Management Service"

CODE_INVALID_PARAMETER = "2150858810"
DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# the admin user (alice, in admins -> BA: GA) and a reader (rita, in
# readers -> ER: GR only, so no GX for ClearLog/RequestPowerStateChange)
ADMIN = "alice"
READER = "rita"

IPMI_HTTP = """
    wsman_group_sid readers ER;
    wsman_ipmi %(directive)s;
    log_format ipmi '$pid|$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/ipmi.log ipmi;
        location /wsman { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on; }
    }
"""


def uri(cls, prefix="cim"):
    return PREFIXES[prefix] + cls


# ------------------------------------------------------------ fixtures --

class Bmc:
    """A simulator, an nginx whose wsman_ipmi points at it, a client."""

    def __init__(self, sim, server):
        self.sim = sim
        self.server = server
        self.client = H.Client(server.port, USERS)


def _directive(sim, extra="", password_file=None):
    return sim.wsman_ipmi("timeout=2s " + extra, password_file)


@pytest.fixture(scope="module")
def make_bmc(nginx_factory, tmp_path_factory):
    """make(sim=None, extra="cache=0s", workers=2) -> Bmc: an nginx for
    `sim` (a new simulator when None); nginx and the simulators made here
    are stopped at the end of the module."""
    sims, servers = [], []

    def make(sim=None, extra="cache=0s", workers=2):
        if sim is None:
            sim = S.IpmiSim(tmp_path_factory.mktemp("ipmisim"))
            sims.append(sim)
            sim.start()
        n = nginx_factory(IPMI_HTTP % {"directive": _directive(sim, extra)},
                          workers=workers)
        servers.append(n)
        return Bmc(sim, n)

    yield make
    for n in servers:
        n.stop()
    for sim in sims:
        sim.close()


@pytest.fixture(scope="module")
def bmc_sim(tmp_path_factory):
    """The simulator of `bmc` (the simulator-only tests need no nginx)."""
    sim = S.IpmiSim(tmp_path_factory.mktemp("ipmisim")).start()
    yield sim
    sim.close()


@pytest.fixture(scope="module")
def bmc(make_bmc, bmc_sim):
    """Read-only tests and power: cache=0s, so every request reads the
    simulator (no worker reuses an older read)."""
    return make_bmc(bmc_sim)


@pytest.fixture(scope="module")
def clear_bmc(make_bmc):
    """Its own simulator: ClearLog empties the SEL."""
    return make_bmc()


@pytest.fixture(scope="module")
def fail_bmc(make_bmc):
    """Its own simulator, killed and restarted; one worker, so requests
    answered meanwhile prove the event loop is not blocked."""
    return make_bmc(workers=1)


@pytest.fixture(scope="module")
def tool_sensors(bmc_sim):
    return bmc_sim.sensors_by_name()


# ------------------------------------------------------------- helpers --

def _enum(client, cls, prefix="cim", user=ADMIN, **kw):
    u = uri(cls, prefix)
    items, _ = H.enumerate_all(client, u, user=user, pull_max=20, **kw)
    for it in items:
        assert it.tag == "{%s}%s" % (u, cls), it.tag
    return [H.props(it) for it in items]


def _get(client, cls, selectors, prefix="cim", user=ADMIN, **kw):
    xml, mid = H.get_request(uri(cls, prefix), selectors, **kw)
    return client.post(xml, user=user, timeout=30), mid


def _get_ok(client, cls, selectors, prefix="cim", user=ADMIN):
    r, mid = _get(client, cls, selectors, prefix, user)
    assert r.status == 200, r
    assert H.header_text(r, "a", "Action") == H.ACTION_GET_RESPONSE
    assert H.header_text(r, "a", "RelatesTo") == mid
    obj = H.body_child(r)
    u = uri(cls, prefix)
    assert obj.tag == "{%s}%s" % (u, cls), obj.tag
    return H.props(obj)


def _assert_not_found(r):
    f = H.assert_fault(r, 500, subcode=("a", "DestinationUnreachable"))
    assert f.wsman_code == H.CODE_DESTINATION_UNREACHABLE, f
    return f


def _fault_text(f):
    """s:Reason/s:Text and the f:Message of f:WSManFault."""
    text = f.reason or ""
    if f.wsman_fault is not None:
        text += " " + " ".join(f.wsman_fault.itertext())
    return text


def _assert_bmc_internal_error(r):
    f = H.assert_fault(r, 500, code="Receiver", subcode=("w", "InternalError"))
    text = _fault_text(f)
    assert "BMC" in text, text
    return f


def _list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _epoch(text):
    assert DATETIME_RE.match(text or ""), text
    t = text.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(t).timestamp()


def _norm(text):
    return re.sub(r"[^a-z0-9]+", " ", (text or "").lower()).strip()


def _by(items, key):
    out = {}
    for p in items:
        assert p[key] not in out, "duplicate %s %r" % (key, p[key])
        out[p[key]] = p
    return out


def _system_name_ok(sim, value):
    return value in ("127.0.0.1", sim.host)


# ------------------------------------------------------------- sensors --

# ipmi-sensors' threshold event words -> (CurrentState, HealthState),
# worst first
_THRESHOLD_EVENTS = [
    ("Upper Non-Recoverable", "Upper Fatal", 30),
    ("Lower Non-Recoverable", "Lower Fatal", 30),
    ("Upper Critical", "Upper Critical", 25),
    ("Lower Critical", "Lower Critical", 25),
    ("Upper Non-Critical", "Upper Non-Critical", 10),
    ("Lower Non-Critical", "Lower Non-Critical", 10),
]
# freeipmi's sensor state (default interpretation) for each HealthState
_FREEIPMI_STATE = {5: "Nominal", 10: "Nominal", 25: "Critical",
                   30: "Critical", 0: "N/A"}


def _expected_state(tool):
    """(CurrentState, HealthState) from what ipmi-sensors read."""
    if tool["reading"] is None:
        return "Unknown", 0
    for words, state, health in _THRESHOLD_EVENTS:
        if any(("%s Threshold" % words).lower() in e.lower()
               for e in tool["events"]):
            return state, health
    assert tool["events"] == ["OK"], tool
    return "Normal", 5


def test_simulator_sensors_as_modelled(tool_sensors):
    """The simulator itself: ipmi-sensors reads what t/ipmi_sim.py put
    there (so a difference below is the plug-in's)."""
    assert sorted(tool_sensors) == sorted(s.name for s in S.SENSORS)
    for s in S.THRESHOLD_SENSORS:
        t = tool_sensors[s.name]
        if s.reading is None:
            assert t["reading"] is None, t
        else:
            assert t["reading"] == pytest.approx(s.reading, abs=0.005), t
        assert set(t["thresholds"]) == set(s.thresholds), t
        for i, v in s.threshold_values().items():
            assert t["thresholds"][i] == pytest.approx(v, abs=0.005), t
        assert _expected_state(t) == (s.crossed(), s.health()), t
        assert t["state"] == _FREEIPMI_STATE[s.health()], t
    for s in S.DISCRETE_SENSORS:
        assert tool_sensors[s.name]["reading"] is None
        assert tool_sensors[s.name]["type"] == S.IPMI_TYPE_NAME[s.stype]


def test_simulator_sel_as_modelled(bmc_sim):
    tool = bmc_sim.sel()
    raw = bmc_sim.sel_hex()
    assert len(tool) == len(S.SEL)
    for t, model in zip(tool, S.SEL):
        assert t["timestamp"] == model.timestamp, t
        assert raw[t["id"]] == model.record(t["id"]), t
        assert t["direction"] == ("Deassertion Event" if model.deassertion
                                  else "Assertion Event"), t
    info = bmc_sim.sel_info()
    assert int(info["Number of log entries"]) == len(S.SEL)
    assert S.parse_sel_time(info["Recent addition timestamp"]) == \
        S.SEL[-1].timestamp


def test_simulator_chassis_control(tmp_path):
    """ipmi-chassis drives the simulator's chassis program: power state
    in its file, every call in its log, a cycle is off then on."""
    with S.IpmiSim(tmp_path) as sim:
        sim.start()
        assert sim.power() == "on"
        sim.chassis_control("power-down")
        assert sim.power() == "off" and sim.power_file_state() == "0"
        mark = len(sim.chassis_log())
        sim.chassis_control("power-cycle")
        assert H.wait_until(lambda: sim.power() == "on", 10)
        sets = [a[1:] for _, a in sim.chassis_log()[mark:] if a[0] == "set"]
        assert sets == [["power", "0"], ["power", "1"]], sets
        sim.chassis_control("hard-reset")
        assert sim.chassis_log()[-1][1] == ["set", "reset", "1"]
        assert sim.power() == "on"


def test_simulator_restart_keeps_state(tmp_path):
    """SIGKILL, then a restart on the same port: the same sensors, the
    SEL as it was (not refilled), the power state file kept."""
    with S.IpmiSim(tmp_path) as sim:
        sim.start()
        sim.clear_sel()
        sim.chassis_control("power-down")
        sim.kill()
        with pytest.raises(S.ToolError):
            sim.tool("bmc-info", "--get-device-id", session_timeout=500)
        port = sim.port
        sim.restart()
        assert sim.port == port
        assert sorted(sim.sensors_by_name()) == \
            sorted(s.name for s in S.SENSORS)
        assert sim.sel() == []
        assert sim.power() == "off"


@pytest.mark.parametrize("prefix", ["cim", "wmi"])
def test_numeric_sensors_match_ipmi_sensors(bmc, tool_sensors, prefix):
    items = _by(_enum(bmc.client, NUMERIC, prefix), "DeviceID")
    assert sorted(items) == sorted(s.device_id for s in S.THRESHOLD_SENSORS)
    for s in S.THRESHOLD_SENSORS:
        p = items[s.device_id]
        t = tool_sensors[s.name]
        what = (s.name, p)
        assert p["ElementName"] == s.name == t["name"], what
        assert p["CreationClassName"] == NUMERIC, what
        assert p["SystemCreationClassName"] == "CIM_ComputerSystem", what
        assert _system_name_ok(bmc.sim, p["SystemName"]), what
        if s.stype in S.CIM_SENSOR_TYPE:
            assert int(p["SensorType"]) == S.CIM_SENSOR_TYPE[s.stype], what
        else:
            assert int(p["SensorType"]) == 1, what
            assert p["OtherSensorTypeDescription"] == t["type"] == \
                S.IPMI_TYPE_NAME[s.stype], what
        assert int(p["BaseUnits"]) == s.unit + 1, what
        mod = int(p["UnitModifier"])
        assert mod == s.rexp, what
        assert int(p["RateUnits"]) == 0, what
        scale = 10.0 ** mod
        if t["reading"] is None:
            assert "CurrentReading" in p and p["CurrentReading"] is None, \
                what
            assert int(p["EnabledState"]) == 5, what
        else:
            assert int(p["CurrentReading"]) * scale == pytest.approx(
                t["reading"], abs=scale / 2 + 0.005), what
            assert int(p["EnabledState"]) == 2, what
        for idx, name in enumerate(S.THRESHOLD_NAMES):
            if idx in t["thresholds"]:
                assert name in p, (name, what)
                assert int(p[name]) * scale == pytest.approx(
                    t["thresholds"][idx], abs=scale / 2 + 0.005), \
                    (name, what)
            else:
                assert name not in p, (name, what)
        assert sorted(int(v) for v in _list(p.get("SupportedThresholds"))) \
            == sorted(t["thresholds"]), what
        state, health = _expected_state(t)
        assert p["CurrentState"] == state, what
        assert int(p["HealthState"]) == health, what


def test_numeric_sensor_values(bmc):
    """The conversion written out once: 12.00 V is 1200 * 10^-2, 4800 RPM
    is 480 * 10^1, 2.5 A is 25 * 10^-1, 42 C is 42 * 10^0; 300 W of a
    Power Supply sensor is SensorType 1 (Other) with the IPMI name."""
    p = _get_ok(bmc.client, NUMERIC, {"DeviceID": "32.0.2"})
    assert (p["ElementName"], p["CurrentReading"], p["UnitModifier"],
            p["BaseUnits"], p["SensorType"]) == ("12V", "1200", "-2", "5",
                                                 "3")
    assert (p["LowerThresholdCritical"], p["UpperThresholdFatal"]) == \
        ("1080", "1440")
    p = _get_ok(bmc.client, NUMERIC, {"DeviceID": "32.0.3"})
    assert (p["CurrentReading"], p["UnitModifier"], p["BaseUnits"],
            p["SensorType"]) == ("480", "1", "19", "5")
    p = _get_ok(bmc.client, NUMERIC, {"DeviceID": "32.0.8"})
    assert (p["ElementName"], p["CurrentReading"], p["UnitModifier"],
            p["BaseUnits"], p["SensorType"], p["UpperThresholdCritical"]) \
        == ("PSU1 Current", "25", "-1", "6", "4", "80")
    p = _get_ok(bmc.client, NUMERIC, {"DeviceID": "32.0.7"})
    assert (p["CurrentReading"], p["UnitModifier"], p["BaseUnits"],
            p["SensorType"], p["OtherSensorTypeDescription"]) == \
        ("300", "0", "7", "1", "Power Supply")
    p = _get_ok(bmc.client, NUMERIC, {"DeviceID": "32.0.1"})
    assert (p["ElementName"], p["CurrentReading"], p["UnitModifier"],
            p["BaseUnits"], p["SensorType"], p["CurrentState"],
            p["HealthState"]) == ("MB Temp", "42", "0", "2", "2", "Normal",
                                  "5")


@pytest.mark.parametrize("prefix", ["cim", "wmi"])
def test_discrete_sensors_match_ipmi_sensors(bmc, tool_sensors, prefix):
    items = _by(_enum(bmc.client, SENSOR, prefix), "DeviceID")
    assert sorted(items) == sorted(s.device_id for s in S.DISCRETE_SENSORS)
    for s in S.DISCRETE_SENSORS:
        p = items[s.device_id]
        t = tool_sensors[s.name]
        what = (s.name, p, t)
        assert p["ElementName"] == s.name, what
        assert p["CreationClassName"] == SENSOR, what
        if s.stype in S.CIM_SENSOR_TYPE:
            assert int(p["SensorType"]) == S.CIM_SENSOR_TYPE[s.stype], what
        else:
            assert int(p["SensorType"]) == 1, what
            assert p["OtherSensorTypeDescription"] == t["type"] == \
                S.IPMI_TYPE_NAME[s.stype], what
        assert p["CurrentState"] == "; ".join(t["events"]), what
        assert int(p["EnabledState"]) == 2, what
        assert int(p["HealthState"]) in (0, 5, 10, 15, 20, 25, 30), what


def test_discrete_sensor_states(bmc):
    items = _by(_enum(bmc.client, SENSOR), "ElementName")
    assert items["Chassis Intru"]["CurrentState"] == "OK"
    assert items["Chassis Intru"]["SensorType"] == "16"
    assert items["PSU1 Presence"]["SensorType"] == "11"
    assert items["PSU1 Presence"]["CurrentState"] == "Entity Present"
    assert items["PSU1 Status"]["CurrentState"] == \
        "Presence detected; Power Supply Failure detected"


def test_get_sensor_by_device_id_equals_enumeration(bmc):
    for cls, sensors in ((NUMERIC, S.THRESHOLD_SENSORS),
                         (SENSOR, S.DISCRETE_SENSORS)):
        items = _by(_enum(bmc.client, cls), "DeviceID")
        for s in sensors:
            for prefix in ("cim", "wmi"):
                p = _get_ok(bmc.client, cls, {"DeviceID": s.device_id},
                            prefix)
                assert p == items[s.device_id], (prefix, p)


@pytest.mark.parametrize("cls,device_id", [
    (NUMERIC, "32.0.99"),
    (NUMERIC, "32.0.16"),       # a discrete sensor is no CIM_NumericSensor
    (SENSOR, "32.0.1"),         # ... and a threshold one no CIM_Sensor
    (NUMERIC, "32.1.1"),
])
def test_get_unknown_sensor(bmc, cls, device_id):
    r, _ = _get(bmc.client, cls, {"DeviceID": device_id})
    _assert_not_found(r)


@pytest.mark.parametrize("device_id", ["no.such.id", "32.0", "", "32.0.1.5"])
def test_get_malformed_device_id(bmc, device_id):
    """Not an instance: no such instance, or a bad selector value (the
    spec says neither)."""
    r, _ = _get(bmc.client, NUMERIC, {"DeviceID": device_id})
    f = H.assert_fault(r, (400, 500))
    assert f.subcode in ((H.NS["a"], "DestinationUnreachable"),
                         (H.NS["w"], "InvalidSelectors")), f


def test_get_sensor_bad_selector(bmc):
    r, _ = _get(bmc.client, NUMERIC, {"NoSuchKey": "1"})
    H.assert_fault(r, (400, 500), subcode=("w", "InvalidSelectors"))


@pytest.fixture
def live_bmc(make_bmc):
    """Its own simulator, changed while it runs (through its console)."""
    return make_bmc()


def _reading(b, device_id):
    p = _get_ok(b.client, NUMERIC, {"DeviceID": device_id})
    return int(p["CurrentReading"]) * 10 ** int(p["UnitModifier"])


def test_readings_follow_the_bmc(live_bmc):
    """A reading that changes on the BMC shows in the next request
    (cache=0s), on every worker, and agrees with ipmi-sensors."""
    b = live_bmc
    assert _reading(b, "32.0.1") == 42
    b.sim.console("sensor_set_value 0x20 0 1 0x30 0")
    assert H.wait_until(lambda: b.sim.sensors_by_name()["MB Temp"]["reading"]
                 == 48.0, 10)
    for _ in range(4):      # whichever worker answers
        assert _reading(b, "32.0.1") == 48


def test_new_sdr_record_is_read(live_bmc):
    """A sensor added to the BMC's SDR appears: the plug-in re-reads the
    SDR when the repository's timestamps change."""
    b = live_bmc
    before = {p["DeviceID"] for p in _enum(b.client, NUMERIC)}
    assert "32.0.48" not in before
    new = S.Sensor(0x30, "New Temp", 0x01, unit=1, raw=0x21,
                   thresholds={3: 0x60})
    b.sim.console("sensor_add 0x20 0 0x30 0x01 0x01",
                  "sensor_set_event_support 0x20 0 0x30 enable scanning "
                  "per-state 000111111111111 000111111111111 "
                  "000111111111111 000111111111111",
                  "sensor_set_threshold 0x20 0 0x30 settable 010000 "
                  "0x00 0x60 0x00 0x00 0x00 0x00",
                  "sensor_set_value 0x20 0 0x30 0x21 0")
    # ipmi_sim sometimes drops a console SDR addition once the SDR has
    # been read (seen with freeipmi's tools as well): add until it is there
    for _ in range(10):
        b.sim.console("main_sdr_add 0x20 "
                      + S._hex(S.full_sensor_record(new)))
        if H.wait_until(lambda: "New Temp" in b.sim.sensors_by_name(), 2):
            break
    assert "New Temp" in b.sim.sensors_by_name()

    def added():
        items = {p["DeviceID"]: p for p in _enum(b.client, NUMERIC)}
        return items.get("32.0.48")

    p = H.wait_until(added, 10)
    assert p, "the new sensor never appeared"
    assert p["ElementName"] == "New Temp"
    assert int(p["CurrentReading"]) == 0x21
    assert int(p["UpperThresholdCritical"]) == 0x60
    assert {q["DeviceID"] for q in _enum(b.client, NUMERIC)} \
        == before | {"32.0.48"}


def test_idle_session_is_given_back(make_bmc):
    """BMCs have few session slots: a worker ends its session once it has
    not used it for idle= (the simulator's console reports sessions)."""
    b = make_bmc(extra="cache=0s idle=1s")
    with socket.create_connection(("127.0.0.1", b.sim.console_port),
                                  timeout=1) as c:
        seen = [b""]

        def drain():
            try:
                while True:
                    data = c.recv(65536)
                    if not data:
                        break
                    seen[0] += data
            except OSError:
                pass
            return seen[0]

        assert _reading(b, "32.0.1") == 42
        opened = H.wait_until(lambda: drain().count(b"Session started"), 5)
        assert opened >= 1
        # the idle timer runs 1 s after the last use
        assert H.wait_until(lambda: drain().count(b"Session closed") >= opened, 10)
        # and the next request opens a new one
        assert _reading(b, "32.0.1") == 42
        assert H.wait_until(lambda: drain().count(b"Session started") > opened, 5)


def test_wql_over_wmi_hardware_prefix(bmc):
    query = "SELECT * FROM CIM_NumericSensor WHERE SensorType = 2"
    items, _ = H.enumerate_all(bmc.client, WMI_HW + "*", pull_max=20,
                               wql=query)
    for it in items:
        assert it.tag == "{%s}%s" % (WMI_HW + NUMERIC, NUMERIC), it.tag
    got = sorted(H.props(i)["ElementName"] for i in items)
    assert got == sorted(s.name for s in S.THRESHOLD_SENSORS
                         if s.stype == 0x01), got
    items, _ = H.enumerate_all(bmc.client, WMI_HW + "*", pull_max=20,
                               wql="SELECT * FROM CIM_Sensor")
    got = sorted(H.props(i)["DeviceID"] for i in items)
    assert got == sorted(s.device_id for s in S.DISCRETE_SENSORS), got


def test_sensor_enumeration_through_pywinrm(bmc):
    """pywinrm's Protocol sends an optimized Enumerate and gets every
    threshold sensor in the response."""
    import infra
    xml, _ = H.enumerate_request(uri(NUMERIC), optimize=True,
                                 max_elements=100)
    out = infra.run_pywinrm(bmc.server.url(), "basic", ADMIN,
                            USERS[ADMIN][0], xml)
    assert out.returncode == 0, out.stderr
    page = H.EnumPage(H.Response(200, [("Content-Type", H.SOAP_CT)],
                                 out.stdout.encode()), pull=False)
    assert page.end, page
    got = sorted(H.props(i)["DeviceID"] for i in page.items)
    assert got == sorted(s.device_id for s in S.THRESHOLD_SENSORS)


def test_reader_may_read_sensors(bmc):
    items = _enum(bmc.client, NUMERIC, user=READER)
    assert len(items) == len(S.THRESHOLD_SENSORS)


# ----------------------------------------------------------------- SEL --

def test_record_log_matches_sel_info(bmc):
    info = bmc.sim.sel_info()
    entries = int(info["Number of log entries"])
    free = int(info["Free space remaining"].split()[0])
    assert entries == len(S.SEL)
    for prefix in ("cim", "wmi"):
        items = _enum(bmc.client, RECORD_LOG, prefix)
        assert len(items) == 1, items
        p = items[0]
        assert p["InstanceID"] == SEL_ID
        assert p["ElementName"] == "IPMI System Event Log"
        assert int(p["CurrentNumberOfRecords"]) == entries
        assert int(p["MaxNumberOfRecords"]) == entries + free // 16 == \
            S.SEL_MAX_ENTRIES
        assert int(p["LogState"]) == 4
        assert int(p["OverwritePolicy"]) == 7
        assert int(p["EnabledState"]) == 2
        last = [t for t in (S.parse_sel_time(info["Recent addition "
                                                  "timestamp"]),
                            S.parse_sel_time(info["Recent erase timestamp"]))
                if t is not None]
        assert last == [S.SEL[-1].timestamp], info
        assert _epoch(p["TimeOfLastChange"]) == max(last), p
        assert _get_ok(bmc.client, RECORD_LOG, {"InstanceID": SEL_ID},
                       prefix) == p


def test_log_records_match_ipmi_sel(bmc):
    tool = bmc.sim.sel()
    raw = bmc.sim.sel_hex()
    assert [r["id"] for r in tool] == sorted(raw)
    assert len(tool) == len(S.SEL)
    for prefix in ("cim", "wmi"):
        items = _enum(bmc.client, LOG_RECORD, prefix)
        # numeric order of RecordID
        assert [p["RecordID"] for p in items] == \
            [str(r["id"]) for r in tool], items
        for p, t, model in zip(items, tool, S.SEL):
            what = (p, t)
            assert p["LogCreationClassName"] == RECORD_LOG, what
            assert p["LogName"] == SEL_ID, what
            assert p["CreationClassName"] == LOG_RECORD, what
            assert p["RecordFormat"] == "IPMI SEL record", what
            assert p["RecordData"] == " ".join(
                "%02X" % b for b in raw[t["id"]]), what
            assert raw[t["id"]] == model.record(t["id"]), what
            assert t["timestamp"] == model.timestamp, t
            assert _epoch(p["MessageTimestamp"]) == t["timestamp"], what
            assert int(p["SensorNumber"]) == model.sensor_number, what
            assert int(p["SensorType"]) == model.sensor_type, what
            assert p["SensorName"] == t["name"], what
            assert int(p["EventType"]) == model.event_type, what
            assert p["EventDirection"] == (
                "Deassertion" if model.deassertion else "Assertion"), what
            assert t["direction"] == p["EventDirection"] + " Event", what
            # freeipmi's message for the event offset ("Upper
            # Non-critical - going high"), spelled with or without the
            # dash, and perhaps followed by the reading/threshold details
            assert _norm(t["event"].split(" ; ")[0]) in \
                _norm(p["Description"]), what


def test_log_records_wql_by_sensor_number(bmc):
    want = [str(r["id"]) for r in bmc.sim.sel() if r["name"] == "CPU Temp"]
    assert len(want) == 2
    for u in (uri(LOG_RECORD), WMI_HW + "*"):
        items, _ = H.enumerate_all(
            bmc.client, u, pull_max=20,
            wql="SELECT * FROM CIM_LogRecord WHERE SensorNumber = 4")
        assert [H.props(i)["RecordID"] for i in items] == want, u
        assert all(H.props(i)["SensorNumber"] == "4" for i in items)


def test_log_record_selector_filter_and_get(bmc):
    rid = str(bmc.sim.sel()[2]["id"])
    items, _ = H.enumerate_all(bmc.client, uri(LOG_RECORD),
                               selectors={"RecordID": rid})
    assert [H.props(i)["RecordID"] for i in items] == [rid]
    p = _get_ok(bmc.client, LOG_RECORD, {"RecordID": rid})
    assert p == H.props(items[0])
    assert p["SensorName"] == "Chassis Intru"
    r, _ = _get(bmc.client, LOG_RECORD, {"RecordID": "4000"})
    _assert_not_found(r)


def _clear_log(client, user, prefix="cim", selectors=None):
    u = uri(RECORD_LOG, prefix)
    xml, mid = H.invoke_request(u, "ClearLog", selectors)
    return client.post(xml, user=user, timeout=30), mid, u


def _return_value(r, mid, u, method):
    assert r.status == 200, r
    assert H.header_text(r, "a", "Action") == "%s/%sResponse" % (u, method)
    assert H.header_text(r, "a", "RelatesTo") == mid
    out = H.body_child(r)
    assert out.tag == "{%s}%s_OUTPUT" % (u, method), out.tag
    rv = out.find("{%s}ReturnValue" % u)
    assert rv is not None, r.body[:600]
    return int(rv.text)


def test_clear_log_needs_admin(clear_bmc):
    r, _, _ = _clear_log(clear_bmc.client, READER,
                         selectors={"InstanceID": SEL_ID})
    H.assert_fault(r, (400, 500), subcode=("w", "AccessDenied"))
    assert len(clear_bmc.sim.sel()) == len(S.SEL)


def test_clear_log(clear_bmc):
    b = clear_bmc
    assert len(b.sim.sel()) == len(S.SEL)
    assert len(_enum(b.client, LOG_RECORD)) == len(S.SEL)
    before = time.time()
    r, mid, u = _clear_log(b.client, ADMIN, selectors={"InstanceID": SEL_ID})
    assert _return_value(r, mid, u, "ClearLog") == 0
    assert b.sim.sel() == []
    info = b.sim.sel_info()
    assert info["Number of log entries"] == "0"
    erased = S.parse_sel_time(info["Recent erase timestamp"])
    assert erased is not None and abs(erased - before) < 30, info
    # what /wsman reports follows
    assert H.wait_until(lambda: _enum(b.client, LOG_RECORD) == [], 10)
    p = _get_ok(b.client, RECORD_LOG, {"InstanceID": SEL_ID})
    assert int(p["CurrentNumberOfRecords"]) == 0
    assert int(p["MaxNumberOfRecords"]) == S.SEL_MAX_ENTRIES
    assert abs(_epoch(p["TimeOfLastChange"]) - erased) <= 1, p
    # selectors are optional; the WMI prefix works too; clearing an
    # empty log is fine
    r, mid, u = _clear_log(b.client, ADMIN, prefix="wmi")
    assert _return_value(r, mid, u, "ClearLog") == 0
    assert b.sim.sel() == []


# ----------------------------------------------------------------- FRU --

def _fru_time(text):
    return calendar.timegm(time.strptime(text, "%m/%d/%y - %H:%M:%S"))


def test_simulator_fru_as_modelled(bmc_sim):
    fru = bmc_sim.fru()
    assert sorted(fru) == sorted(S.FRUS)
    assert fru[0]["FRU Chassis Type"] == "Rack Mount Chassis"
    assert fru[1]["name"] == S.FRUS[1]["name"]
    for dev_id, dev in S.FRUS.items():
        assert _fru_time(fru[dev_id]["FRU Board Manufacturing Date/Time"]) \
            == dev["board"]["time"]


@pytest.mark.parametrize("prefix", ["cim", "wmi"])
def test_physical_packages_match_ipmi_fru(bmc, prefix):
    fru = bmc.sim.fru()
    items = _by(_enum(bmc.client, PACKAGE, prefix), "Tag")
    assert sorted(items) == sorted(str(i) for i in fru), items
    for dev_id, f in fru.items():
        p = items[str(dev_id)]
        what = (p, f)
        assert p["CreationClassName"] == PACKAGE, what
        assert p["ElementName"], what
        assert p["BoardManufacturer"] == f["FRU Board Manufacturer"], what
        assert p["BoardProductName"] == f["FRU Board Product Name"], what
        assert p["BoardSerialNumber"] == f["FRU Board Serial Number"], what
        assert p["BoardPartNumber"] == f["FRU Board Part Number"], what
        assert _epoch(p["ManufactureDate"]) == \
            _fru_time(f["FRU Board Manufacturing Date/Time"]), what
        if "FRU Product Name" in f:
            assert p["Manufacturer"] == f["FRU Product Manufacturer Name"]
            assert p["Model"] == f["FRU Product Name"], what
            assert p["SerialNumber"] == f["FRU Product Serial Number"]
            assert p["PartNumber"] == f["FRU Product Part/Model Number"]
            assert p["Version"] == f["FRU Product Version"], what
        else:
            # no product area: the board's values
            assert p["Manufacturer"] == f["FRU Board Manufacturer"], what
            assert p["Model"] == f["FRU Board Product Name"], what
            assert p["SerialNumber"] == f["FRU Board Serial Number"], what
            assert p["PartNumber"] == f["FRU Board Part Number"], what
            assert not p.get("Version"), what
    # the FRU with an SDR locator is named by it
    assert items["1"]["ElementName"] == fru[1]["name"] == "PSU 1"
    assert items["0"]["Manufacturer"] == "Acme Systems"
    assert items["1"]["Manufacturer"] == "PowerCo"


@pytest.mark.parametrize("prefix", ["cim", "wmi"])
def test_chassis_matches_ipmi_fru(bmc, prefix):
    fru = bmc.sim.fru()
    items = _by(_enum(bmc.client, CHASSIS, prefix), "Tag")
    # only FRU 0 has a chassis info area
    assert sorted(items) == ["0"], items
    p, f = items["0"], fru[0]
    assert p["CreationClassName"] == CHASSIS
    assert p["ElementName"]
    assert int(p["ChassisPackageType"]) == 23      # Rack Mount Chassis
    assert p["PartNumber"] == f["FRU Chassis Part Number"] == "CH-4200-A"
    assert p["SerialNumber"] == f["FRU Chassis Serial Number"]
    assert p["Manufacturer"] == f["FRU Product Manufacturer Name"]
    assert p["Model"] == f["FRU Product Name"]
    assert _get_ok(bmc.client, CHASSIS, {"Tag": "0"}, prefix) == p
    r, _ = _get(bmc.client, CHASSIS, {"Tag": "1"}, prefix)
    _assert_not_found(r)
    pkg = _get_ok(bmc.client, PACKAGE, {"Tag": "1"}, prefix)
    assert pkg["Tag"] == "1"
    r, _ = _get(bmc.client, PACKAGE, {"Tag": "7"}, prefix)
    _assert_not_found(r)


# --------------------------------------------------------------- power --

def _power_state(client, cls=APMS):
    sels = {"InstanceID": POWER_ID} if cls == APMS else {"Name": PMS_NAME}
    return int(_get_ok(client, cls, sels)["PowerState"])


def _rpsc(client, state, user=ADMIN, prefix="cim", selectors=None):
    u = uri(PMS, prefix)
    body = ('<p:RequestPowerStateChange_INPUT xmlns:p="%s">%s'
            '</p:RequestPowerStateChange_INPUT>'
            % (u, "" if state is None
               else "<p:PowerState>%s</p:PowerState>" % state))
    xml, mid = H.invoke_request(u, "RequestPowerStateChange",
                                selectors or {"Name": PMS_NAME}, body=body)
    return client.post(xml, user=user, timeout=30), mid, u


def _rpsc_ok(client, state, **kw):
    r, mid, u = _rpsc(client, state, **kw)
    return _return_value(r, mid, u, "RequestPowerStateChange")


def _sets_since(sim, mark):
    """chassis control `set` calls after the log had `mark` entries."""
    return [args[1:] for _, args in sim.chassis_log()[mark:]
            if args and args[0] == "set"]


def _wait_power(sim, want, timeout=15):
    got = H.wait_until(lambda: sim.power() == want, timeout)
    assert got, "ipmi-chassis still says %r" % sim.power()


def _wait_wsman_power(client, want, timeout=10):
    got = H.wait_until(lambda: _power_state(client) == want, timeout)
    assert got, "PowerState still %r" % _power_state(client)


def _power_on(b):
    if b.sim.power() != "on":
        b.sim.chassis_control("power-up")
        _wait_power(b.sim, "on")


def test_power_services(bmc):
    _power_on(bmc)
    for prefix in ("cim", "wmi"):
        items = _enum(bmc.client, APMS, prefix)
        assert len(items) == 1, items
        p = items[0]
        assert p["InstanceID"] == POWER_ID
        assert int(p["PowerState"]) == 2
        assert sorted(int(v) for v in
                      _list(p["AvailableRequestedPowerStates"])) == \
            [2, 5, 6, 8, 10, 11, 12]
        assert _get_ok(bmc.client, APMS, {"InstanceID": POWER_ID},
                       prefix)["PowerState"] == "2"
        items = _enum(bmc.client, PMS, prefix)
        assert len(items) == 1, items
        p = items[0]
        assert p["Name"] == PMS_NAME
        assert p["CreationClassName"] == PMS
        assert _system_name_ok(bmc.sim, p["SystemName"]), p
        assert p["ElementName"]
        assert int(p["EnabledState"]) == 2
        assert int(p["PowerState"]) == 2
        assert _get_ok(bmc.client, PMS, {"Name": PMS_NAME},
                       prefix)["Name"] == PMS_NAME


def test_power_state_follows_the_chassis(bmc):
    """Power changed behind the plug-in's back (ipmi-chassis) shows up
    (cache=0s)."""
    _power_on(bmc)
    bmc.sim.chassis_control("power-down")
    _wait_power(bmc.sim, "off")
    _wait_wsman_power(bmc.client, 8)
    assert _power_state(bmc.client, PMS) == 8
    bmc.sim.chassis_control("power-up")
    _wait_power(bmc.sim, "on")
    _wait_wsman_power(bmc.client, 2)


@pytest.mark.parametrize("off", [8, 6])
def test_power_off_then_on(bmc, off):
    b = bmc
    _power_on(b)
    mark = len(b.sim.chassis_log())
    assert _rpsc_ok(b.client, off) == 0
    _wait_power(b.sim, "off")
    assert ["power", "0"] in _sets_since(b.sim, mark)
    _wait_wsman_power(b.client, 8)
    mark = len(b.sim.chassis_log())
    assert _rpsc_ok(b.client, 2) == 0
    _wait_power(b.sim, "on")
    assert _sets_since(b.sim, mark) == [["power", "1"]]
    _wait_wsman_power(b.client, 2)


@pytest.mark.parametrize("cycle", [5, 9])
def test_power_cycle(bmc, cycle):
    """ipmi_sim cycles as `set power 0`, then one second later `set power
    1`: both appear in the chassis log, in that order, and it ends on."""
    b = bmc
    _power_on(b)
    mark = len(b.sim.chassis_log())
    assert _rpsc_ok(b.client, cycle) == 0
    assert H.wait_until(lambda: _sets_since(b.sim, mark) ==
                 [["power", "0"], ["power", "1"]], 15), \
        _sets_since(b.sim, mark)
    _wait_power(b.sim, "on")
    _wait_wsman_power(b.client, 2)


@pytest.mark.parametrize("reset", [10, 14])
def test_power_reset(bmc, reset):
    b = bmc
    _power_on(b)
    mark = len(b.sim.chassis_log())
    assert _rpsc_ok(b.client, reset) == 0
    assert H.wait_until(lambda: _sets_since(b.sim, mark) == [["reset", "1"]], 10), \
        _sets_since(b.sim, mark)
    assert b.sim.power() == "on"
    assert _power_state(b.client) == 2


def test_soft_shutdown(bmc):
    """12: soft shutdown (ACPI), which the simulator's chassis program
    turns into power off."""
    b = bmc
    _power_on(b)
    mark = len(b.sim.chassis_log())
    assert _rpsc_ok(b.client, 12) == 0
    assert H.wait_until(lambda: ["shutdown", "1"] in _sets_since(b.sim, mark), 10)
    _wait_power(b.sim, "off")
    _wait_wsman_power(b.client, 8)
    _power_on(b)


@pytest.mark.parametrize("state", [3, 4, 7, 13, 15, 16])
def test_power_state_not_supported(bmc, state):
    b = bmc
    _power_on(b)
    mark = len(b.sim.chassis_log())
    assert _rpsc_ok(b.client, state) == 1
    time.sleep(0.3)
    assert _sets_since(b.sim, mark) == []
    assert b.sim.power() == "on"


@pytest.mark.parametrize("state", [99, 0, 17, -2, "abc", "", None])
def test_power_state_invalid(bmc, state):
    b = bmc
    _power_on(b)
    mark = len(b.sim.chassis_log())
    r, _, _ = _rpsc(b.client, state)
    f = H.assert_fault(r, 500, subcode=("w", "InvalidParameter"))
    assert f.wsman_code == CODE_INVALID_PARAMETER, f
    time.sleep(0.3)
    assert _sets_since(b.sim, mark) == []
    assert b.sim.power() == "on"


@pytest.mark.parametrize("selectors, subcode", [
    ({"Name": "Some Other Service"}, ("a", "DestinationUnreachable")),
    ({"Name": PMS_NAME, "Colour": "red"}, ("w", "InvalidSelectors")),
])
def test_power_change_for_another_instance_is_refused(bmc, selectors,
                                                      subcode):
    """Selectors that do not name our service never reach the BMC."""
    _power_on(bmc)
    mark = len(bmc.sim.chassis_log())
    r, _, _ = _rpsc(bmc.client, 8, selectors=selectors)
    H.assert_fault(r, (400, 500), subcode=subcode)
    time.sleep(0.3)
    assert _sets_since(bmc.sim, mark) == []
    assert bmc.sim.power() == "on"


def test_clear_log_for_another_instance_is_refused(bmc):
    before = len(bmc.sim.sel())
    r, _, _ = _clear_log(bmc.client, ADMIN,
                         selectors={"InstanceID": "IPMI:Other"})
    H.assert_fault(r, (400, 500), subcode=("a", "DestinationUnreachable"))
    assert len(bmc.sim.sel()) == before > 0


def test_power_change_needs_admin(bmc):
    b = bmc
    _power_on(b)
    mark = len(b.sim.chassis_log())
    # the reader may look ...
    assert _power_state(b.client) == 2
    assert int(_get_ok(b.client, APMS, {"InstanceID": POWER_ID},
                       user=READER)["PowerState"]) == 2
    # ... but not act
    r, _, _ = _rpsc(b.client, 8, user=READER)
    H.assert_fault(r, (400, 500), subcode=("w", "AccessDenied"))
    time.sleep(0.3)
    assert _sets_since(b.sim, mark) == []
    assert b.sim.power() == "on"


# ------------------------------------------------------------ failures --

def _identify(client):
    r = H.request(client.port, "POST", "/wsman", H.IDENTIFY,
                  {"Content-Type": H.SOAP_CT,
                   "Authorization": client.auth(ADMIN)}, timeout=30)
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("wsmid", "IdentifyResponse")
    return r


def _config_get(client):
    xml, _ = H.config_get()
    r = client.post(xml, timeout=30)
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("cfg", "Config")
    return r


def _inventory_get(client):
    p = _get_ok(client, "CIM_OperatingSystem", None)
    assert p
    return p


def test_bmc_killed_and_restarted(fail_bmc):
    """Kill the simulator: IPMI requests answer w:InternalError naming the
    BMC before their OperationTimeout, while Identify, config and an
    inventory class on the same (single) worker are answered at once.
    Restart it: a sensor Get succeeds again within a bounded time."""
    b = fail_bmc
    p = _get_ok(b.client, NUMERIC, {"DeviceID": "32.0.1"})
    assert p["CurrentReading"] == "42"
    b.sim.kill()

    done = {}

    def ipmi_request(name, cls, sels, op_timeout):
        xml, _ = H.get_request(uri(cls), sels, operation_timeout=op_timeout)
        t0 = time.monotonic()
        r = b.client.post(xml, timeout=60)
        done[name] = (time.monotonic(), time.monotonic() - t0, r)

    threads = [
        threading.Thread(target=ipmi_request, args=(
            "sensor", NUMERIC, {"DeviceID": "32.0.1"}, "PT10S")),
        threading.Thread(target=ipmi_request, args=(
            "sel", RECORD_LOG, {"InstanceID": SEL_ID}, "PT10S")),
    ]
    start = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(0.3)
    quick = []
    for fn in (_identify, _config_get, _inventory_get, _identify):
        t0 = time.monotonic()
        fn(b.client)
        quick.append((fn.__name__, time.monotonic(), time.monotonic() - t0))
    for t in threads:
        t.join(60)
    assert sorted(done) == ["sel", "sensor"], done
    for name in ("sensor", "sel"):
        end, elapsed, r = done[name]
        _assert_bmc_internal_error(r)
        # OperationTimeout PT10S: answered before it ran out
        assert elapsed < 10, (name, elapsed)
    # the worker was not blocked: while the BMC requests waited (at
    # least one session timeout when they took that long), the others
    # were answered first
    first_fault = min(d[0] for d in done.values())
    if first_fault - start > 1.0:
        for name, when, took in quick:
            assert when < first_fault, (
                "%s waited for the BMC: answered %.2fs, BMC fault %.2fs"
                % (name, when - start, first_fault - start))
    for name, when, took in quick:
        assert took < 1.5, (name, took)
    # no OperationTimeout: timeout=2s plus a little
    ipmi_request("power", APMS, {"InstanceID": POWER_ID}, None)
    end, elapsed, r = done["power"]
    _assert_bmc_internal_error(r)
    assert elapsed < 10, elapsed

    # the BMC comes back on the same port with the same state
    b.sim.restart()
    assert b.sim.sensors_by_name()["MB Temp"]["reading"] == 42.0

    def sensor_ok():
        r, _ = _get(b.client, NUMERIC, {"DeviceID": "32.0.1"})
        return r.status == 200 and \
            H.props(H.body_child(r))["CurrentReading"] == "42"
    assert H.wait_until(sensor_ok, 30, step=0.5), \
        "no successful sensor Get within 30 s of the restart"
    # the SEL survived the restart, and the plug-in reads it again
    assert len(_enum(b.client, LOG_RECORD)) == len(S.SEL)
    _identify(b.client)


def test_bmc_unreachable_from_the_start(nginx_factory, tmp_path):
    """Nothing listens on the BMC's port: InternalError in time, and the
    server goes on answering."""
    pw = tmp_path / "pw"
    pw.write_text(S.PASSWORD + "\n")
    host = "127.0.0.1:%d" % S.free_udp_port()
    n = nginx_factory(IPMI_HTTP % {"directive": (
        "%s user=%s password_file=%s workaround=opensesspriv timeout=1s"
        % (host, S.USER, pw))}, workers=1)
    c = H.Client(n.port, USERS)
    try:
        # optimized: the items are due in the EnumerateResponse itself
        xml, _ = H.enumerate_request(uri(NUMERIC), optimize=True,
                                     max_elements=100,
                                     operation_timeout="PT10S")
        t0 = time.monotonic()
        r = c.post(xml, timeout=60)
        assert time.monotonic() - t0 < 10
        _assert_bmc_internal_error(r)
        _identify(c)
        _config_get(c)
    finally:
        n.stop()


def test_bmc_wrong_password(nginx_factory, bmc, tmp_path):
    """The BMC refuses the login: InternalError naming the BMC."""
    pw = tmp_path / "pw"
    pw.write_text("not-the-password\n")
    n = nginx_factory(IPMI_HTTP % {"directive": _directive(
        bmc.sim, password_file=pw)}, workers=1)
    c = H.Client(n.port, USERS)
    try:
        r, _ = _get(c, NUMERIC, {"DeviceID": "32.0.1"},
                    operation_timeout="PT10S")
        _assert_bmc_internal_error(r)
        _identify(c)
    finally:
        n.stop()


def test_inband_without_a_bmc(nginx_factory):
    """`wsman_ipmi inband;` on a machine without a BMC: InternalError with
    a message that says so (more than the generic reason)."""
    for dev in ("/dev/ipmi0", "/dev/ipmi/0", "/dev/ipmidev/0"):
        if os.path.exists(dev):
            pytest.skip("this machine has a local BMC (%s)" % dev)
    n = nginx_factory(IPMI_HTTP % {"directive": "inband"}, workers=1)
    c = H.Client(n.port, USERS)
    try:
        for cls in (NUMERIC, APMS):
            xml, _ = H.enumerate_request(uri(cls), optimize=True,
                                         max_elements=100,
                                         operation_timeout="PT20S")
            t0 = time.monotonic()
            r = c.post(xml, timeout=60)
            assert time.monotonic() - t0 < 20
            f = _assert_bmc_internal_error(r)
            generic = ("The service met an internal error while "
                       "processing the request.")
            assert len(f.reason.replace(generic, "").strip()) > 5, f.reason
        _identify(c)
    finally:
        n.stop()


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("prefix", ["cim", "wmi"])
def test_without_directive_destination_unreachable(client, cls, prefix):
    """The main test server has no wsman_ipmi: the classes exist and say
    why they cannot answer (not an unknown class)."""
    xml, _ = H.enumerate_request(uri(cls, prefix))
    f = _assert_not_found(client.post(xml))
    assert "wsman_ipmi" in ET.tostring(f.wsman_fault, encoding="unicode")
    sels = {NUMERIC: {"DeviceID": "32.0.1"}, SENSOR: {"DeviceID": "32.0.16"},
            RECORD_LOG: {"InstanceID": SEL_ID}, LOG_RECORD: {"RecordID": "1"},
            PACKAGE: {"Tag": "0"}, CHASSIS: {"Tag": "0"},
            PMS: {"Name": PMS_NAME}, APMS: {"InstanceID": POWER_ID}}[cls]
    xml, _ = H.get_request(uri(cls, prefix), sels)
    _assert_not_found(client.post(xml))


def test_without_directive_invoke_destination_unreachable(client):
    r, _, _ = _rpsc(client, 8)
    _assert_not_found(r)
    r, _, _ = _clear_log(client, ADMIN, selectors={"InstanceID": SEL_ID})
    _assert_not_found(r)


# ------------------------------------------------------- nginx -t ------

CONF = """
    %s
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on; }
    }
"""


def _t(nginx_factory, http_lines):
    return nginx_factory(CONF % http_lines, start=False).test_config()


@pytest.fixture
def pw_file(tmp_path):
    p = tmp_path / "bmc.pw"
    p.write_text("Passw0rd1\n")
    return p


def test_good_directives_pass(nginx_factory, pw_file):
    for line in (
            "wsman_ipmi inband;",
            "wsman_ipmi 127.0.0.1:9623 user=admin password_file=%s "
            "workaround=opensesspriv timeout=2s;" % pw_file,
            "wsman_ipmi localhost:623 user=admin password=secret "
            "privilege=operator driver=lan workaround=authcap "
            "timeout=5s cache=2s;",
            "wsman_ipmi 10.0.0.1 user=u password=p privilege=user "
            "driver=lan_2_0 cipher=3 workaround=opensesspriv,intel20 "
            "cache=0s;"):
        p = _t(nginx_factory, line)
        assert p.returncode == 0, (line, p.stderr)


BAD = [
    ("unknown parameter", "wsman_ipmi 127.0.0.1 user=admin password=x "
                          "colour=blue;"),
    ("unknown workaround", "wsman_ipmi 127.0.0.1 user=admin password=x "
                           "workaround=nosuchworkaround;"),
    ("unknown workaround in list",
     "wsman_ipmi 127.0.0.1 user=admin password=x "
     "workaround=opensesspriv,bogus;"),
    ("bad privilege", "wsman_ipmi 127.0.0.1 user=admin password=x "
                      "privilege=root;"),
    ("bad driver", "wsman_ipmi 127.0.0.1 user=admin password=x "
                   "driver=serial;"),
    ("missing user", "wsman_ipmi 127.0.0.1 password=x;"),
    ("no password", "wsman_ipmi 127.0.0.1 user=admin;"),
    ("both passwords", "wsman_ipmi 127.0.0.1 user=admin password=x "
                       "password_file=@PW@;"),
    ("missing password_file", "wsman_ipmi 127.0.0.1 user=admin "
                              "password_file=/nonexistent/bmc.pw;"),
    ("password_file is a directory", "wsman_ipmi 127.0.0.1 user=admin "
                                     "password_file=@DIR@;"),
    ("bad timeout", "wsman_ipmi 127.0.0.1 user=admin password=x "
                    "timeout=soon;"),
    ("twice", "wsman_ipmi inband; wsman_ipmi inband;"),
]


@pytest.fixture(scope="module")
def valid_directive_passes(nginx_factory, tmp_path_factory):
    """A rejection only means something when a valid wsman_ipmi line
    passes `nginx -t` (a module built without libfreeipmi, or without the
    directive, rejects everything)."""
    pw = tmp_path_factory.mktemp("ipmipw") / "bmc.pw"
    pw.write_text("Passw0rd1\n")
    p = _t(nginx_factory, "wsman_ipmi 127.0.0.1:9623 user=admin "
                          "password_file=%s workaround=opensesspriv "
                          "timeout=2s;" % pw)
    assert p.returncode == 0, \
        "a valid wsman_ipmi line fails nginx -t: %s" % p.stderr


@pytest.mark.usefixtures("valid_directive_passes")
@pytest.mark.parametrize("what,line", BAD, ids=[b[0] for b in BAD])
def test_bad_directive_rejected(nginx_factory, pw_file, tmp_path, what,
                                line):
    line = line.replace("@PW@", str(pw_file)).replace("@DIR@",
                                                      str(tmp_path))
    p = _t(nginx_factory, line)
    assert p.returncode != 0, (line, p.stderr)
    assert "wsman_ipmi" in p.stderr, p.stderr
    # rejected for its parameters, not because nobody knows the directive
    assert "unknown directive" not in p.stderr, p.stderr


@pytest.mark.usefixtures("valid_directive_passes")
def test_unreadable_password_file_rejected(nginx_factory, pw_file):
    if os.geteuid() == 0:
        # root reads any mode; a file it cannot open: a dangling link
        bad = pw_file.parent / "dangling"
        bad.symlink_to(pw_file.parent / "gone")
    else:
        pw_file.chmod(0)
        bad = pw_file
    p = _t(nginx_factory, "wsman_ipmi 127.0.0.1 user=admin "
                          "password_file=%s;" % bad)
    assert p.returncode != 0, p.stderr
    assert "wsman_ipmi" in p.stderr and "unknown directive" not in p.stderr


@pytest.mark.usefixtures("valid_directive_passes")
def test_directive_only_at_http_level(nginx_factory):
    p = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        wsman_ipmi inband;
        location /wsman { wsman; wsman_auth basic;
                          wsman_user_file @USERFILE@; }
    }
""", start=False).test_config()
    assert p.returncode != 0, p.stderr
    assert "wsman_ipmi" in p.stderr and "unknown directive" not in p.stderr
