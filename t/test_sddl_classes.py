"""An SDDL on a class holds whatever reaches the class (issue [7] 2).

The access check runs on the class a request resolves to, not on the URI
it was sent to: WQL FROM behind the `…/*` wildcard URIs, the class's alias
URIs (the IPMI classes answer under the DMTF and the WMI root/hardware
URIs), other spellings (case, a trailing slash) and a Pull on a context
made where the class was allowed are all checked against the class's
SDDL.  wsman_resource_sddl on any URI of a class protects it under all of
them.  `nginx -t` warns about a wsman_resource_sddl URI nothing serves.

Users (Basic, conftest.USERS): alice is in admins (BA), henry has no group
(AU only), rita is in readers (ER)."""

import subprocess
import time

import pytest

import ipmi_sim as S
import wsman_helpers as H
from conftest import USERS  # noqa: E402

CIM = H.CIM_BASE
CIMV2 = H.WMI_BASE
HW = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/hardware/"

# everyone authenticated reads, only administrators may touch processes
OPEN = "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;AU)"
ADMINS = "O:NSG:BAD:P(A;;GA;;;BA)"

CLASSES_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_auth basic;
        wsman_user_file @USERFILE@;
        wsman_allow_unencrypted on;
        wsman_root_sddl "%(open)s";
        location /wsman {
            wsman;
            wsman_resource_sddl %(cimv2)sWin32_Process "%(admins)s";
            wsman_resource_sddl %(cim)sCIM_Process "%(admins)s";
        }
        location /slash {
            wsman;
            wsman_resource_sddl %(cim)sCIM_Process/ "%(admins)s";
            wsman_resource_sddl %(cimv2)sWin32_Process/ "%(admins)s";
        }
        location /case {
            wsman;
            wsman_resource_sddl %(cim_upper)sCIM_PROCESS "%(admins)s";
            wsman_resource_sddl %(cimv2)swin32_process "%(admins)s";
        }
        location /open { wsman; }
        location /longest {
            wsman;
            wsman_resource_sddl %(hw)s "%(admins)s";
            wsman_resource_sddl %(cim)sCIM_Chassis "%(open)s";
        }
    }
""" % {"open": OPEN, "admins": ADMINS, "cim": CIM, "cimv2": CIMV2,
       "cim_upper": CIM.upper(), "hw": HW}


@pytest.fixture(scope="module")
def srv(nginx_factory):
    n = nginx_factory(CLASSES_HTTP)
    return n, H.Client(n.port, USERS)


def _denied(n, r, user, cls, offset):
    f = H.assert_fault(r, status=500, code="Sender",
                       subcode=("w", "AccessDenied"))
    assert f.wsman_code == "5", f
    line = H.wait_for_line(n.error_log,
                           lambda l: "access denied" in l and user in l
                           and cls.lower() in l.lower(), offset=offset)
    assert line is not None, n.read_log(offset)[-2000:]
    return f


def _enum(c, uri, wql=None, path="/wsman", user="alice", **kw):
    xml, _ = H.enumerate_request(uri, wql=wql, optimize=True,
                                 max_elements=5, **kw)
    return c.post(xml, path=path, user=user)


def _items(r):
    page = H.EnumPage(r, pull=False)
    return page


# ---------------------------------------------- WQL behind a wildcard --

@pytest.mark.parametrize("uri,wql,cls", [
    (CIMV2 + "*", "SELECT * FROM Win32_Process", "Win32_Process"),
    (CIMV2 + "*", "select Handle from win32_process", "Win32_Process"),
    (CIM + "*", "SELECT * FROM CIM_Process", "CIM_Process"),
    (CIM + "*", "SELECT Name FROM cim_PROCESS WHERE Handle = '1'",
     "CIM_Process"),
])
def test_wql_from_through_wildcard_is_checked(srv, uri, wql, cls):
    n, c = srv
    off = n.log_size()
    _denied(n, _enum(c, uri, wql, user="henry"), "henry", cls, off)
    # the class's own URI says the same
    off = n.log_size()
    _denied(n, _enum(c, (CIMV2 if cls.startswith("Win32") else CIM) + cls,
                     user="henry"), "henry", cls, off)
    # an administrator gets the processes through the wildcard
    page = _items(_enum(c, uri, wql, user="alice"))
    assert page.items, page


def test_wildcard_for_an_allowed_class_still_works(srv):
    n, c = srv
    page = _items(_enum(c, CIMV2 + "*", "SELECT * FROM Win32_OperatingSystem",
                        user="henry"))
    assert len(page.items) == 1, page
    page = _items(_enum(c, CIM + "*", "SELECT * FROM CIM_OperatingSystem",
                        user="henry"))
    assert len(page.items) == 1, page


# ------------------------------------------- other spellings of a URI --

@pytest.mark.parametrize("uri", [
    CIM + "CIM_Process/",
    CIM + "cim_process",
    CIM.upper() + "CIM_PROCESS",
    CIM.upper() + "CIM_PROCESS/",
])
def test_spellings_of_the_class_uri_are_the_class(srv, uri):
    n, c = srv
    off = n.log_size()
    _denied(n, _enum(c, uri, user="henry"), "henry", "CIM_Process", off)
    xml, _ = H.get_request(uri, {"Handle": "1"})
    off = n.log_size()
    _denied(n, c.post(xml, user="henry"), "henry", "CIM_Process", off)
    # the same spelling serves the class to those allowed
    page = _items(_enum(c, uri, user="alice"))
    assert page.items, page
    r = c.post(xml, user="alice")
    assert r.status == 200, r
    assert H.props(H.body_child(r))["Handle"] == "1"


@pytest.mark.parametrize("path", ["/slash", "/case"])
@pytest.mark.parametrize("uri,wql,cls", [
    (CIM + "CIM_Process", None, "CIM_Process"),
    (CIM + "*", "SELECT * FROM CIM_Process", "CIM_Process"),
    (CIMV2 + "Win32_Process", None, "Win32_Process"),
    (CIMV2 + "*", "SELECT * FROM Win32_Process", "Win32_Process"),
])
def test_directive_spelling_protects_the_class(srv, path, uri, wql, cls):
    """wsman_resource_sddl with a trailing slash or in another case
    protects the class all the same."""
    n, c = srv
    off = n.log_size()
    _denied(n, _enum(c, uri, wql, path=path, user="henry"), "henry", cls,
            off)
    page = _items(_enum(c, uri, wql, path=path, user="alice"))
    assert page.items, page
    # other classes keep the root SDDL
    page = _items(_enum(c, CIM + "CIM_OperatingSystem", path=path,
                        user="henry"))
    assert len(page.items) == 1, page


@pytest.mark.parametrize("uri,denied", [
    (HW + "CIM_Sensor", True),           # the namespace's SDDL
    (CIM + "CIM_Sensor", True),          # ... holds under the DMTF URI too
    (CIM.upper() + "cim_sensor/", True),
    (HW + "CIM_Chassis", False),         # the longer prefix of the class
    (CIM + "CIM_Chassis", False),
    (CIM + "CIM_Process", False),        # not an IPMI class: RootSDDL
])
def test_longest_prefix_over_all_uris_of_the_class(srv, uri, denied):
    """Without wsman_ipmi the IPMI classes exist but have no data: an
    allowed Get answers DestinationUnreachable (or the instance), a
    denied one AccessDenied, before anything is looked up."""
    n, c = srv
    cls = uri.rstrip("/").rsplit("/", 1)[1]
    key = {"cim_sensor": "DeviceID", "cim_chassis": "Tag",
           "cim_process": "Handle"}[cls.lower()]
    xml, _ = H.get_request(uri, {key: "1"})
    off = n.log_size()
    r = c.post(xml, path="/longest", user="henry")
    if denied:
        _denied(n, r, "henry", cls, off)
    else:
        if r.status != 200:
            f = H.assert_fault(r, 500)
            assert f.subcode != (H.NS["w"], "AccessDenied"), f


# ------------------------------------------------------------- Pull --

@pytest.mark.parametrize("pull_uri", [
    H.CONFIG_URI,
    CIM + "CIM_OperatingSystem",
    CIMV2 + "Win32_Process",
])
def test_pull_checks_the_class_of_the_context(srv, pull_uri):
    """An Enumerate allowed in /open, then Pulls in /wsman, where the
    class is denied to henry, whatever URI the Pull names."""
    n, c = srv
    xml, _ = H.enumerate_request(CIMV2 + "Win32_Process", max_elements=1)
    page = H.EnumPage(c.post(xml, path="/open", user="henry"), pull=False)
    assert page.context, page
    xml, _ = H.pull_request(page.context, pull_uri, max_elements=3)
    off = n.log_size()
    _denied(n, c.post(xml, path="/wsman", user="henry"), "henry",
            "Win32_Process", off)
    # nor in a later Pull: a context whose class was denied is ended (or,
    # refused before it was looked at, still there for /open)
    r = c.post(xml, path="/wsman", user="henry")
    H.assert_fault(r, status=500)
    r = c.post(xml, path="/open", user="henry")
    if r.status == 200:
        assert H.EnumPage(r, pull=True).items
    else:
        f = H.assert_fault(r, status=500)
        assert f.wsman_code == H.CODE_INVALID_ENUMERATION_CONTEXT, f


def test_pull_allowed_for_an_allowed_class(srv):
    n, c = srv
    items, pages = H.enumerate_all(c, CIMV2 + "Win32_Process", path="/wsman",
                                   user="alice", pull_max=50)
    assert len(pages) >= 2 and items


# -------------------------------------- certificate mappings with uri= --

CERT_HTTP = """
    server {
        listen 127.0.0.1:@PORT@ ssl;
        ssl_certificate @PKI@/server.pem;
        ssl_certificate_key @PKI@/server.key;
        ssl_client_certificate @PKI@/ca.pem;
        ssl_verify_client optional;
        wsman_user_file @USERFILE@;
        location /basic { wsman; wsman_auth basic; }
        location /scoped {
            wsman;
            wsman_auth certificate;
            wsman_cert_map subject=alice@wsman.test issuer=@CA@ user=alice
                           uri=%sCIM_OperatingSystem;
        }
    }
""" % CIM

def _https(n, xml, path, pki=None, user=None):
    cmd = ["curl", "-sS", "-k", "-o", "-", "-w", "\n%{http_code}",
           "-H", "Content-Type: " + H.SOAP_CT, "--data-binary", "@-"]
    if pki:
        cmd += ["-H", "Authorization: " + H.PROFILE_HTTPS_MUTUAL,
                "--cert", pki.p("alice.pem"), "--key", pki.p("alice.key")]
    else:
        cmd += ["-u", "%s:%s" % (user, USERS[user][0])]
    cmd.append("https://localhost:%d%s" % (n.port, path))
    p = subprocess.run(cmd, input=xml.encode(), capture_output=True,
                       timeout=30)
    body, _, code = p.stdout.rpartition(b"\n")
    return H.Response(int(code or 0),
                      [("Content-Type", "application/soap+xml")], body)


def test_certificate_uri_scope_holds_for_pull(nginx_factory, pki):
    """alice's certificate is limited to CIM_OperatingSystem: a context
    for CIM_Process that alice made with Basic elsewhere cannot be pulled
    through the certificate location by naming the allowed URI."""
    n = nginx_factory(pki.conf(CERT_HTTP))
    # the mapping works for its own class
    xml, _ = H.get_request(CIM + "CIM_OperatingSystem")
    r = _https(n, xml, "/scoped", pki=pki)
    assert r.status == 200, r
    xml, _ = H.enumerate_request(CIM + "CIM_Process", max_elements=1)
    page = H.EnumPage(_https(n, xml, "/basic", user="alice"), pull=False)
    assert page.context, page
    xml, _ = H.pull_request(page.context, CIM + "CIM_OperatingSystem",
                            max_elements=5)
    off = n.log_size()
    r = _https(n, xml, "/scoped", pki=pki)
    H.assert_fault(r, 500, subcode=("w", "AccessDenied"))
    assert b"CIM_Process" not in r.body.split(b"<s:Body>")[-1]
    line = H.wait_for_line(n.error_log,
                           lambda l: "access denied" in l and "alice" in l
                           and "CIM_Process" in l, offset=off)
    assert line is not None, n.read_log(off)[-2000:]


# ----------------------------------------------------------- nginx -t --

@pytest.mark.parametrize("uri,warn", [
    (CIM + "CIM_NoSuchClass", True),
    ("http://example.org/nothing", True),
    (CIMV2 + "Win32_Proces", True),
    (CIM + "CIM_Process", False),
    (CIM + "cim_process/", False),
    (HW + "CIM_PowerManagementService", False),
    (CIMV2 + "Win32_Process", False),
    (CIMV2, False),
    (CIMV2 + "*", False),
    ("http://schemas.microsoft.com/wbem/wsman/1", False),
    (H.CONFIG_URI + "/service", False),
    ("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd", False),
])
def test_nginx_t_warns_about_unserved_uri(nginx_factory, uri, warn):
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
        wsman_resource_sddl %s "O:NSG:BAD:P(A;;GA;;;BA)";
      } }
""" % uri, start=False)
    p = n.test_config()
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stderr.splitlines()
             if "[warn]" in l and "wsman_resource_sddl" in l]
    if warn:
        assert lines, p.stderr
        assert uri in lines[0], lines
    else:
        assert not lines, p.stderr


# ------------------------------------------------ IPMI alias prefixes --

PMS = "CIM_PowerManagementService"
PMS_NAME = "IPMI Power Management Service"

IPMI_HTTP = """
    wsman_group_sid readers ER;
    wsman_ipmi %(directive)s;
    server {
        listen 127.0.0.1:@PORT@;
        wsman_auth basic; wsman_user_file @USERFILE@;
        wsman_allow_unencrypted on;
        wsman_root_sddl "O:NSG:BAD:P(A;;GA;;;BA)(A;;GA;;;ER)";
        location /dmtf {
            wsman;
            wsman_resource_sddl %(cim)s%(pms)s "O:NSG:BAD:P(A;;GA;;;BA)";
        }
        location /wmi {
            wsman;
            wsman_resource_sddl %(hw)s%(pms)s "O:NSG:BAD:P(A;;GA;;;BA)";
        }
    }
"""


@pytest.fixture(scope="module")
def bmc(nginx_factory, tmp_path_factory):
    sim = S.IpmiSim(tmp_path_factory.mktemp("ipmisim")).start()
    directive = sim.wsman_ipmi("timeout=2s cache=0s")
    n = nginx_factory(IPMI_HTTP % {"directive": directive, "cim": CIM,
                                   "hw": HW, "pms": PMS})
    yield sim, n, H.Client(n.port, USERS)
    n.stop()
    sim.close()


def _rpsc(c, base, path, user, state=8):
    u = base + PMS
    body = ('<p:RequestPowerStateChange_INPUT xmlns:p="%s"><p:PowerState>'
            '%d</p:PowerState></p:RequestPowerStateChange_INPUT>' % (u, state))
    xml, _ = H.invoke_request(u, "RequestPowerStateChange",
                              {"Name": PMS_NAME}, body=body)
    return c.post(xml, path=path, user=user, timeout=30)


def _sets_since(sim, mark):
    return [args[1:] for _, args in sim.chassis_log()[mark:]
            if args and args[0] == "set"]


@pytest.mark.parametrize("path", ["/dmtf", "/wmi"])
@pytest.mark.parametrize("base", [CIM, HW, HW.upper()])
def test_alias_uri_reaches_the_protected_power_service(bmc, path, base):
    """The SDDL on either URI of CIM_PowerManagementService holds the
    class under both: an operator (rita, ER) cannot change power through
    the other one, nor read it by WQL through root/hardware/*."""
    sim, n, c = bmc
    mark = len(sim.chassis_log())
    off = n.log_size()
    _denied(n, _rpsc(c, base, path, "rita"), "rita", PMS, off)
    xml, _ = H.get_request(base + PMS, {"Name": PMS_NAME})
    off = n.log_size()
    _denied(n, c.post(xml, path=path, user="rita", timeout=30), "rita",
            PMS, off)
    off = n.log_size()
    _denied(n, _enum(c, HW + "*", "SELECT * FROM " + PMS, path=path,
                     user="rita"), "rita", PMS, off)
    time.sleep(0.3)
    assert _sets_since(sim, mark) == []
    # the administrator gets it under both URIs
    r = c.post(xml, path=path, user="alice", timeout=30)
    assert r.status == 200, r
    assert H.props(H.body_child(r))["Name"] == PMS_NAME
    # and the operator still reads the other IPMI classes
    r = _enum(c, HW + "CIM_AssociatedPowerManagementService", path=path,
              user="rita")
    assert len(_items(r).items) == 1
