"""Node.js clients from the npm registry (installed by `make deps-test` into
t/node/node_modules with `npm ci`, never globally):

- `winrm-client` 0.0.11: commands over Basic and NTLM (it picks NTLM for a
  user written DOMAIN\\user and sends a 32-byte NEGOTIATE_MESSAGE and an
  AUTHENTICATE_MESSAGE with its payload at 64, both without the Version
  field and without a MIC), and interactive input: it watches the output for
  prompts and answers each with a Send -- reusing one a:MessageID for
  every request it makes.
- Intel's `@device-management-toolkit/wsman-messages` 5.14.1, the message
  builder of AMT tools: CIM Get/Enumerate/Pull and
  CIM_PowerManagementService.RequestPowerStateChange against the BMC
  simulator (t/ipmi_sim.py), sent with node's http and Basic.

The scripts the tests run are t/node/winrm_client.js and
t/node/wsman_messages_client.js (JSON in on stdin, one JSON line out)."""

import json
import os
import pathlib
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

import infra
import ipmi_sim as S
import wsman_helpers as H
from conftest import USERS  # noqa: E402  (t/ is on sys.path)

pytestmark = pytest.mark.usefixtures("deadline")

NODE_DIR = pathlib.Path(__file__).resolve().parent / "node"
NODE = shutil.which("node") or "/usr/bin/node"


def node(script, cfg, timeout=60):
    """Run t/node/<script> with cfg as JSON on stdin; its JSON answer."""
    if not (NODE_DIR / "node_modules").is_dir():
        pytest.fail("t/node/node_modules missing: run `make deps-test` "
                    "(npm ci in t/node)")
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                "NO_PROXY")}
    p = subprocess.run([NODE, str(NODE_DIR / script)],
                       input=json.dumps(cfg), capture_output=True,
                       text=True, timeout=timeout, cwd=str(NODE_DIR),
                       env=env)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


# ------------------------------------------------------- winrm-client --

@pytest.fixture(scope="module")
def srv(shell_nginx):
    # winrm-client always posts to /wsman
    return shell_nginx({"/wsman": ""})


@pytest.fixture(scope="module")
def ntlm_srv(ntlm_shell_nginx):
    """the client speaks NTLM without sealing the messages"""
    return ntlm_shell_nginx(unencrypted=True)


def winrm_client(port, user, password, command, prompts=None, timeout=60):
    cfg = dict(host="127.0.0.1", port=port, user=user, password=password,
               command=command)
    if prompts is not None:
        cfg.update(prompts=[dict(pattern=p, response=r) for p, r in prompts],
                   timeout=40000)
    return node("winrm_client.js", cfg, timeout=timeout)


def test_winrm_client_basic_runs_as_caller(srv, local_user):
    off = H.file_size(srv.logs / "shell.log")
    r = winrm_client(srv.port, local_user.name, local_user.password,
                     "id -un")
    assert r == {"ok": True, "output": local_user.name}, r
    # the whole shell life cycle, as this caller, without faults
    H.assert_shell_cycle(srv, off, local_user.name)


def test_winrm_client_basic_stderr_only(srv, local_user):
    # winrm-client returns stdout, or stderr when there is no stdout
    r = winrm_client(srv.port, local_user.name, local_user.password,
                     "printf '%s+%s' \"$(expr 6 \\* 7)\" x-arg >&2; exit 3")
    assert r == {"ok": True, "output": "42+x-arg"}, r


def test_winrm_client_basic_wrong_password(srv, local_user):
    r = winrm_client(srv.port, local_user.name, "not-the-password",
                     "id -un")
    assert r["ok"] is False
    assert "401" in r["error"], r


def test_winrm_client_ntlm(ntlm_srv, ntlm_users, local_user):
    """DOMAIN\\user makes winrm-client speak NTLM (raw NTLMSSP in a
    Negotiate header, 32-byte NEGOTIATE_MESSAGE, AUTHENTICATE_MESSAGE
    without Version: the third leg needs the normaliser too)."""
    r = winrm_client(ntlm_srv.port, "%s\\bob" % infra.NtlmUsers.DOMAIN,
                     infra.NtlmUsers.USERS["bob"], "id -un")
    assert r == {"ok": True, "output": local_user.name}, r
    log = ntlm_srv.logs / "shell.log"
    assert H.wait_until(lambda: any(
        l.split("|")[1] == H.ACTION_COMMAND and l.split("|")[2] == "bob"
        for l in log.read_text().splitlines()), 5), log.read_text()


def test_winrm_client_ntlm_wrong_password(ntlm_srv, ntlm_users):
    """Refused at the third leg (the challenge came), never a shell."""
    off = H.file_size(ntlm_srv.logs / "shell.log")
    r = winrm_client(ntlm_srv.port, "%s\\bob" % infra.NtlmUsers.DOMAIN,
                     "wrong-" + infra.NtlmUsers.USERS["bob"], "id -un")
    assert r["ok"] is False, r
    assert "NTLM authentication failed: 401" in r["error"], r
    assert not H.shell_log(ntlm_srv, off)


INTERACTIVE = ('printf "Name: "; read a; echo "got $a"; '
               'printf "Color: "; read b; echo "got $b"')


def test_winrm_client_interactive_input(srv, local_user):
    """Two prompts, two Sends ("Alice", then "blue") carrying the same
    a:MessageID: both lines must reach the command."""
    off = H.file_size(srv.logs / "shell.log")
    r = winrm_client(srv.port, local_user.name, local_user.password,
                     INTERACTIVE, prompts=[("Name:", "Alice"),
                                           ("Color:", "blue")])
    assert r["ok"] is True, r
    assert "got Alice" in r["output"], r
    assert "got blue" in r["output"], r
    assert r["output"].index("got Alice") < r["output"].index("got blue")
    sends = [l for l in H.shell_log(srv, off) if l[1] == H.ACTION_SEND]
    assert len(sends) == 2, sends
    assert all(l[3] in ("", "-") for l in sends), sends


def test_winrm_client_interactive_input_ntlm(ntlm_srv, ntlm_users):
    r = winrm_client(ntlm_srv.port, "%s\\bob" % infra.NtlmUsers.DOMAIN,
                     infra.NtlmUsers.USERS["bob"], INTERACTIVE,
                     prompts=[("Name:", "Alice"), ("Color:", "blue")])
    assert r["ok"] is True, r
    assert "got Alice" in r["output"] and "got blue" in r["output"], r


# --------------------------------------------- wsman-messages (Intel) --

CIM = H.CIM_BASE
PMS_NAME = "IPMI Power Management Service"
ADMIN = "alice"
READER = "rita"

IPMI_HTTP = """
    wsman_group_sid readers ER;
    wsman_ipmi %s;
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on; }
    }
"""


@pytest.fixture(scope="module")
def bmc(nginx_factory, tmp_path_factory):
    """ipmi_sim and an nginx serving it (cache=0s: every request reads the
    simulator)."""
    sim = S.IpmiSim(tmp_path_factory.mktemp("ipmisim")).start()
    n = nginx_factory(IPMI_HTTP % sim.wsman_ipmi("cache=0s"))
    n.sim = sim
    yield n
    n.stop()
    sim.close()


@pytest.fixture(scope="module")
def idle_bmc(nginx_factory, bmc):
    """The same simulator behind one worker whose BMC session times out
    after 2 s without an answer (timeout=2s), but is kept for 30 s."""
    n = nginx_factory(IPMI_HTTP % bmc.sim.wsman_ipmi(
        "timeout=2s idle=30s cache=0s"), workers=1)
    n.sim = bmc.sim
    yield n
    n.stop()


def amt(server, op, cls, user=ADMIN, **cfg):
    """One request built by wsman-messages, sent by node."""
    cfg.update(port=server.port, user=user, password=USERS[user][0],
               op=op, cls=cls)
    r = node("wsman_messages_client.js", cfg)
    # it really is the library's message (its numeric MessageIDs)
    req = ET.fromstring(r["request"])
    mid = req.find("{%s}Header/a:MessageID" % H.NS["s"], H.NS)
    assert mid is not None and mid.text.isdigit(), r["request"][:400]
    resp = H.Response(r["status"], [("Content-Type", r["contentType"])],
                      r["body"].encode())
    return resp, mid.text


def _ok_body(resp, mid):
    assert resp.status == 200, resp
    assert H.header_text(resp, "a", "RelatesTo") == mid, resp
    return H.body_child(resp)


def amt_enumerate(server, cls):
    """Enumerate then Pull until EndOfSequence, as AMT tools do."""
    resp, mid = amt(server, "enumerate", cls)
    body = _ok_body(resp, mid)
    assert body.tag == H.q("n", "EnumerateResponse"), resp
    ctx = body.find("n:EnumerationContext", H.NS).text
    items = []
    for _ in range(100):
        resp, mid = amt(server, "pull", cls, context=ctx)
        body = _ok_body(resp, mid)
        assert body.tag == H.q("n", "PullResponse"), resp
        items += [H.props(i) for i in body.find("n:Items", H.NS)]
        if body.find("n:EndOfSequence", H.NS) is not None:
            return items
        ctx = body.find("n:EnumerationContext", H.NS).text
    raise AssertionError("no EndOfSequence")


def amt_get(server, cls, name, value, user=ADMIN):
    resp, mid = amt(server, "get", cls, user=user,
                    selector={"name": name, "value": value})
    body = _ok_body(resp, mid)
    assert body.tag == "{%sCIM_%s}CIM_%s" % (CIM, cls, cls), resp
    return H.props(body)


def test_wsman_messages_chassis_and_packages_match_ipmi_fru(bmc):
    fru = bmc.sim.fru()
    chassis = amt_enumerate(bmc, "Chassis")
    assert [c["Tag"] for c in chassis] == ["0"], chassis
    c = chassis[0]
    assert c["PartNumber"] == fru[0]["FRU Chassis Part Number"]
    assert c["SerialNumber"] == fru[0]["FRU Chassis Serial Number"]
    assert amt_get(bmc, "Chassis", "Tag", "0") == c
    packages = {p["Tag"]: p for p in amt_enumerate(bmc, "PhysicalPackage")}
    assert sorted(packages) == sorted(str(i) for i in fru), packages
    for dev_id, f in fru.items():
        p = packages[str(dev_id)]
        assert p["BoardSerialNumber"] == f["FRU Board Serial Number"], p
        assert amt_get(bmc, "PhysicalPackage", "Tag", str(dev_id)) == p


def test_wsman_messages_unknown_instance(bmc):
    resp, _ = amt(bmc, "get", "PhysicalPackage",
                  selector={"name": "Tag", "value": "7"})
    H.assert_fault(resp, 500, subcode=("a", "DestinationUnreachable"))


def test_wsman_messages_processors(bmc):
    """An inventory class through the same client: one CIM_Processor per
    CPU."""
    cpus = amt_enumerate(bmc, "Processor")
    assert sorted(p["DeviceID"] for p in cpus) == \
        sorted("CPU%d" % i for i in range(os.cpu_count()))
    assert amt_get(bmc, "Processor", "DeviceID", "CPU0")["DeviceID"] == \
        "CPU0"


def _power_on(sim):
    if sim.power() != "on":
        sim.chassis_control("power-up")
        assert H.wait_until(lambda: sim.power() == "on", 15)


def _return_value(resp, mid):
    body = _ok_body(resp, mid)
    assert body.tag == "{%sCIM_PowerManagementService}" \
        "RequestPowerStateChange_OUTPUT" % CIM, resp
    return int(body.find("{%sCIM_PowerManagementService}ReturnValue"
                         % CIM).text)


def _sets_since(sim, mark):
    return [args[1:] for _, args in sim.chassis_log()[mark:]
            if args and args[0] == "set"]


def test_wsman_messages_power_service(bmc):
    _power_on(bmc.sim)
    services = amt_enumerate(bmc, "PowerManagementService")
    assert [s["Name"] for s in services] == [PMS_NAME], services
    assert int(services[0]["PowerState"]) == 2
    assert amt_get(bmc, "PowerManagementService", "Name",
                   PMS_NAME)["PowerState"] == "2"


def test_wsman_messages_power_off_and_on(bmc):
    """RequestPowerStateChange exactly as wsman-messages builds it (no
    selectors, the managed system as an EPR in the body)."""
    sim = bmc.sim
    _power_on(sim)
    mark = len(sim.chassis_log())
    resp, mid = amt(bmc, "power", "PowerManagementService", state=8)
    assert _return_value(resp, mid) == 0
    assert H.wait_until(lambda: sim.power() == "off", 15), sim.power()
    assert ["power", "0"] in _sets_since(sim, mark)
    assert H.wait_until(lambda: amt_get(
        bmc, "PowerManagementService", "Name", PMS_NAME)["PowerState"]
        == "8", 10)
    mark = len(sim.chassis_log())
    resp, mid = amt(bmc, "power", "PowerManagementService", state=2)
    assert _return_value(resp, mid) == 0
    assert H.wait_until(lambda: sim.power() == "on", 15), sim.power()
    assert _sets_since(sim, mark) == [["power", "1"]]


def test_wsman_messages_power_cycle_and_reset(bmc):
    sim = bmc.sim
    _power_on(sim)
    mark = len(sim.chassis_log())
    resp, mid = amt(bmc, "power", "PowerManagementService", state=5)
    assert _return_value(resp, mid) == 0
    assert H.wait_until(lambda: _sets_since(sim, mark) ==
                        [["power", "0"], ["power", "1"]], 15), \
        _sets_since(sim, mark)
    assert H.wait_until(lambda: sim.power() == "on", 15)
    mark = len(sim.chassis_log())
    resp, mid = amt(bmc, "power", "PowerManagementService", state=10)
    assert _return_value(resp, mid) == 0
    assert H.wait_until(lambda: _sets_since(sim, mark) ==
                        [["reset", "1"]], 10), _sets_since(sim, mark)
    assert sim.power() == "on"


def test_wsman_messages_power_needs_execute_right(bmc):
    """A reader (GR only) may look but not act."""
    sim = bmc.sim
    _power_on(sim)
    mark = len(sim.chassis_log())
    assert amt_get(bmc, "PowerManagementService", "Name", PMS_NAME,
                   user=READER)["PowerState"] == "2"
    resp, _ = amt(bmc, "power", "PowerManagementService", user=READER,
                  state=8)
    H.assert_fault(resp, 500, subcode=("w", "AccessDenied"))
    assert _sets_since(sim, mark) == []
    assert sim.power() == "on"


def test_wsman_messages_power_on_a_session_idle_past_its_timeout(idle_bmc):
    """libfreeipmi declares a session timed out when nothing came back
    for longer than its timeout -- checked after sending the next request,
    which the BMC then carries out.  A power change on a session kept
    idle past that must still be done once and answered 0, not answered
    w:InternalError "session timeout" while the BMC powers the machine."""
    sim = idle_bmc.sim
    _power_on(sim)
    assert amt_get(idle_bmc, "PowerManagementService", "Name",
                   PMS_NAME)["PowerState"] == "2"
    time.sleep(2.5)
    mark = len(sim.chassis_log())
    resp, mid = amt(idle_bmc, "power", "PowerManagementService", state=8)
    assert _return_value(resp, mid) == 0
    assert H.wait_until(lambda: sim.power() == "off", 15), sim.power()
    assert _sets_since(sim, mark) == [["power", "0"]]
    time.sleep(2.5)
    mark = len(sim.chassis_log())
    resp, mid = amt(idle_bmc, "power", "PowerManagementService", state=2)
    assert _return_value(resp, mid) == 0
    assert H.wait_until(lambda: sim.power() == "on", 15), sim.power()
    assert _sets_since(sim, mark) == [["power", "1"]]
