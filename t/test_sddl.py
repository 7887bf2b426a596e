"""The access check: RootSDDL and wsman_resource_sddl decide, per action,
whether an authenticated identity may go on (wire-protocol.md 4).
Basic users from the shared user file: alice (admins -> BA), rita
(readers -> ER), henry (no groups: WD, AU, NU only)."""

import re

import pytest

import wsman_helpers as H

PUT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"
DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
COMMAND = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
CFG = H.CONFIG_URI
CFG_ROOT = "http://schemas.microsoft.com/wbem/wsman/1"

SDDL_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_auth basic;
        wsman_user_file @USERFILE@;
        wsman_allow_unencrypted on;
        wsman_group_sid admins BA;
        wsman_group_sid readers ER;
        wsman_group_sid ops S-1-5-21-1004336348-1177238915-682003330-1013;
        location /wsman { wsman; }
        location /denyfirst {
            wsman;
            wsman_root_sddl "O:NSG:BAD:P(D;;GA;;;BA)(A;;GA;;;BA)(A;;GA;;;ER)";
        }
        location /cfgopen {
            wsman;
            wsman_root_sddl "O:NSG:BAD:P(A;;GA;;;BA)";
            wsman_resource_sddl http://schemas.microsoft.com/wbem/wsman/1/config "O:NSG:BAD:P(A;;GR;;;WD)";
        }
        location /longest-a {
            wsman;
            wsman_resource_sddl http://schemas.microsoft.com/wbem/wsman/1/config "O:NSG:BAD:P(A;;GR;;;AU)";
            wsman_resource_sddl http://schemas.microsoft.com/wbem/wsman/1 "O:NSG:BAD:P(D;;GA;;;WD)";
        }
        location /longest-b {
            wsman;
            wsman_resource_sddl http://schemas.microsoft.com/wbem/wsman/1 "O:NSG:BAD:P(D;;GA;;;WD)";
            wsman_resource_sddl http://schemas.microsoft.com/wbem/wsman/1/config "O:NSG:BAD:P(A;;GR;;;AU)";
        }
        location /sid {
            wsman;
            wsman_root_sddl "O:NSG:BAD:P(A;;GR;;;S-1-5-21-1004336348-1177238915-682003330-1013)";
        }
        location /nodacl { wsman; wsman_root_sddl "O:NSG:BAD:P"; }
        location /writeonly { wsman; wsman_root_sddl "O:NSG:BAD:P(A;;GW;;;BA)"; }
    }
"""


@pytest.fixture(scope="module")
def sddl(nginx_factory, users):
    n = nginx_factory(SDDL_HTTP, group_sids=False)
    return n, H.Client(n.port, users)


def _denied(r):
    f = H.assert_fault(r, status=500, code="Sender",
                       subcode=("w", "AccessDenied"))
    assert f.wsman_code == "5", f
    return f


def _config(r):
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("cfg", "Config"), r


def _get(c, user, path="/wsman", uri=CFG):
    xml, _ = H.config_get(resource_uri=uri)
    return c.post(xml, path=path, user=user)


def _put(c, user, path="/wsman"):
    xml, _ = H.envelope(action=PUT, resource_uri=CFG,
                        body='<cfg:Config xmlns:cfg="%s"/>' % CFG)
    return c.post(xml, path=path, user=user)


def test_administrator_allowed(sddl):
    n, c = sddl
    _config(_get(c, "alice"))


def test_no_group_user_denied_and_logged(sddl):
    n, c = sddl
    off = n.log_size()
    aoff = H.file_size(n.wsman_log)
    _denied(_get(c, "henry"))
    line = H.wait_for_line(n.error_log,
                           lambda l: "AccessDenied" in l or
                           "access denied" in l.lower(), offset=off)
    assert line is not None, n.read_log(off)
    assert "henry" in line, line
    assert CFG in line, line
    assert H.ACTION_GET in line or "Get" in line, line
    assert "henry" in H.logged_users(n, aoff, "henry")


def test_reader_can_get_but_not_put(sddl):
    n, c = sddl
    _config(_get(c, "rita"))
    _denied(_put(c, "rita"))


def test_administrator_put_reaches_the_plugin(sddl):
    """Allowed Put on config is refused by the (read-only) plug-in, not by
    the access check."""
    n, c = sddl
    r = _put(c, "alice")
    f = H.assert_fault(r)
    assert f.subcode != (H.NS["w"], "AccessDenied"), f
    assert f.wsman_code != "5", f


@pytest.mark.parametrize("action", [DELETE, CREATE])
def test_reader_write_actions_denied(sddl, action):
    n, c = sddl
    xml, _ = H.envelope(action=action, resource_uri=CFG)
    _denied(c.post(xml, user="rita"))


def test_shell_action_needs_execute(sddl):
    """Shell operations need GX: a reader (GR only) is denied before the
    request is dispatched (no ActionNotSupported/DestinationUnreachable)."""
    n, c = sddl
    xml, _ = H.envelope(action=COMMAND, resource_uri=SHELL_URI,
                        body="<rsp:CommandLine xmlns:rsp=\"%s\">"
                        "<rsp:Command>dir</rsp:Command></rsp:CommandLine>"
                        % H.NS["rsp"])
    _denied(c.post(xml, user="rita"))
    _denied(c.post(xml, user="henry"))


def test_deny_ace_before_allow_wins(sddl):
    n, c = sddl
    _denied(_get(c, "alice", path="/denyfirst"))
    _config(_get(c, "rita", path="/denyfirst"))


def test_resource_sddl_overrides_root(sddl):
    n, c = sddl
    _config(_get(c, "henry", path="/cfgopen"))     # WD may read config
    _denied(_put(c, "henry", path="/cfgopen"))     # ... but not write it
    # another URI falls back to the root SDDL (BA only)
    xml, _ = H.envelope(action=ENUMERATE, resource_uri=SHELL_URI,
                        body='<n:Enumerate xmlns:n="%s"/>' % H.NS["n"])
    _denied(c.post(xml, path="/cfgopen", user="henry"))


@pytest.mark.parametrize("path", ["/longest-a", "/longest-b"])
def test_longest_prefix_wins_whatever_the_order(sddl, path):
    n, c = sddl
    _config(_get(c, "henry", path=path))
    # the shorter prefix applies to other URIs below it
    xml, _ = H.envelope(action=ENUMERATE, resource_uri=SHELL_URI,
                        body='<n:Enumerate xmlns:n="%s"/>' % H.NS["n"])
    _denied(c.post(xml, path=path, user="alice"))


def test_full_sid_from_group(sddl):
    n, c = sddl
    _config(_get(c, "carol", path="/sid"))         # ops -> S-1-5-21-...
    _denied(_get(c, "erin", path="/sid"))          # admins is not enough


def test_empty_dacl_denies_everyone(sddl):
    n, c = sddl
    _denied(_get(c, "alice", path="/nodacl"))


def test_write_only_cannot_read(sddl):
    n, c = sddl
    _denied(_get(c, "alice", path="/writeonly"))


@pytest.mark.parametrize("path", ["/wsman", "/denyfirst", "/nodacl"])
@pytest.mark.parametrize("user", ["henry", "alice", None])
def test_identify_needs_no_rights(sddl, path, user):
    n, c = sddl
    r = c.post(H.IDENTIFY, path=path, user=user or "alice",
               auth=bool(user),
               headers=None if user else {"WSMANIDENTIFY": "unauthenticated"})
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("wsmid", "IdentifyResponse")


def test_denied_request_is_not_a_401(sddl):
    """AccessDenied is a SOAP fault (HTTP 500), not an authentication
    failure: pywinrm must be able to show it."""
    n, c = sddl
    r = _get(c, "henry")
    assert r.status == 500
    assert not r.all("WWW-Authenticate")


# --------------------------------------------------- configuration errors --

@pytest.mark.parametrize("directive,line,positions", [
    ("wsman_root_sddl", 'wsman_root_sddl "O:NSG:BAD:P(A;;XX;;;BA)";',
     (15, 16)),
    ("wsman_root_sddl", 'wsman_root_sddl "O:NSG:BAD:P(A;;GA;;;BA";',
     (11, 22, 23)),    # where "(" opened, or where the text ends
    ("wsman_resource_sddl",
     'wsman_resource_sddl http://example.org/r "O:NSG:BAD:P(A;;GA;;;QQ)";',
     (20, 21)),
    ("wsman_resource_sddl",
     'wsman_resource_sddl http://example.org/r "O:NSG:BAD:P(Z;;GA;;;BA)";',
     (12, 13)),
])
def test_invalid_sddl_fails_nginx_t(nginx_factory, directive, line,
                                    positions):
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                        %s } }
""" % line, start=False)
    p = n.test_config()
    assert p.returncode != 0, p.stderr
    assert directive in p.stderr, p.stderr
    m = re.search(r"position (\d+)", p.stderr)
    assert m, "no position in: %s" % p.stderr
    assert int(m.group(1)) in positions, p.stderr


@pytest.mark.parametrize("line", [
    "wsman_group_sid admins XX;",
    "wsman_group_sid admins S-1-;",
    "wsman_group_sid admins S-1-5-abc;",
    "wsman_group_sid admins;",
])
def test_invalid_group_sid_fails_nginx_t(nginx_factory, line):
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                        %s } }
""" % line, start=False, group_sids=False)
    p = n.test_config()
    assert p.returncode != 0, p.stderr
    assert "wsman_group_sid" in p.stderr, p.stderr


def test_valid_sddl_forms_pass_nginx_t(nginx_factory):
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
        wsman_root_sddl "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)(A;;GA;;;RM)S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)";
        wsman_resource_sddl http://example.org/a "O:BAG:BAD:PAI(A;CIOI;0x10000000;;;S-1-5-32-544)(D;;GW;;;AN)";
        wsman_group_sid admins S-1-5-32-544;
      } }
""", start=False, group_sids=False)
    p = n.test_config()
    assert p.returncode == 0, p.stderr
