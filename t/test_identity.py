"""One account per name ([7] section 3): an NTLM name is case-insensitive,
so every spelling of it is the same account, with the same groups, SIDs
and log name; a Negotiate identity's groups come from the location that
serves each request and follow user-file edits on a kept-alive
connection."""

import os
import time

import pytest

import wsman_gss as G
import wsman_helpers as H

BLOCKED_SID = "S-1-5-21-1-2-3-4444"

# bob is blocked by a deny ACE on his group; henry is an administrator
USERS_A = "bob:*:blocked\nhenry:*:admins\n"
USERS_B = "bob:*:blocked\nhenry:*\n"

IDENT_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_allow_unencrypted on;
        wsman_auth negotiate;
        wsman_group_sid admins BA;
        wsman_group_sid blocked %(sid)s;
        # everyone authenticated, except the blocked group
        location /deny { wsman; wsman_user_file @A@;
            wsman_root_sddl "O:NSG:BAD:P(D;;GA;;;%(sid)s)(A;;GA;;;AU)"; }
        # administrators only
        location /admins { wsman; wsman_user_file @A@; }
        location /other  { wsman; wsman_user_file @B@; }
        # shells run as nobody; one per user
        location /shell  { wsman; wsman_user_file @A@;
            wsman_shell_run_as nobody; wsman_shell_max_per_user 1; }
        location /ambig  { wsman; wsman_user_file @C@;
            wsman_root_sddl "O:NSG:BAD:P(D;;GA;;;%(sid)s)(A;;GA;;;AU)"; }
    }
""" % {"sid": BLOCKED_SID}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("identity")
    a, b, c = d / "a.users", d / "b.users", d / "c.users"
    a.write_text(USERS_A)
    b.write_text(USERS_B)
    # two lines for what NTLM takes as one name
    c.write_text("bob:*:blocked\nBOB:*:admins\n")
    os.chmod(d, 0o755)
    return a, b, c


@pytest.fixture(scope="module")
def ident_server(nginx_factory, auth_env, files):
    a, b, c = files
    return nginx_factory(IDENT_HTTP.replace("@A@", str(a))
                         .replace("@B@", str(b)).replace("@C@", str(c)),
                         main_snippet=auth_env, group_sids=False)


def _session(server, path, user, password):
    s = G.Session(server.port, path,
                  gss=G.GssClient("ntlm", user=user, password=password))
    r = s.authenticate()
    assert r.status == 200, r
    return s


def _get(s, path=None):
    if path:
        s.path = path
    xml, _ = H.config_get()
    return s.post(xml)


# ------------------------------------------------------ NTLM spelling --

@pytest.mark.parametrize("spelling", ["bob", "BOB", "Bob", "bOb"])
def test_ntlm_spelling_does_not_escape_a_deny_ace(ident_server, ntlm_users,
                                                  spelling):
    """gss-ntlmssp accepts any case of bob; the deny ACE on bob's group
    must hold for each, and the logs name the one account."""
    off = H.file_size(ident_server.wsman_log)
    s = _session(ident_server, "/deny", spelling, "BobPassw0rd!")
    try:
        H.assert_fault(_get(s), status=500, subcode=("w", "AccessDenied"))
    finally:
        s.close()
    assert H.logged_users(ident_server, off, ["bob"]) == ["bob"]


@pytest.mark.parametrize("spelling", ["HENRY", "Henry"])
def test_ntlm_spelling_gets_the_accounts_groups(ident_server, ntlm_users,
                                                spelling):
    off = H.file_size(ident_server.wsman_log)
    s = _session(ident_server, "/admins", spelling, "HenryPassw0rd!")
    try:
        r = _get(s)
        assert r.status == 200, r
        assert H.body_child(r).tag == H.q("cfg", "Config")
    finally:
        s.close()
    assert H.logged_users(ident_server, off, ["henry"]) == ["henry"]


def test_ntlm_name_unknown_everywhere_is_lower_case(ident_server,
                                                    ntlm_users):
    """nina has no user-file line and no local account: her SIDs and log
    name do not depend on how she typed her name either."""
    off = H.file_size(ident_server.wsman_log)
    s = _session(ident_server, "/deny", "NINA", "NinaPassw0rd!")
    try:
        r = _get(s)
        assert r.status == 200, r
    finally:
        s.close()
    assert H.logged_users(ident_server, off, ["nina"]) == ["nina"]


@pytest.mark.parametrize("spelling", ["bob", "BOB"])
def test_user_file_with_two_spellings_of_an_ntlm_name_refuses_it(
        ident_server, ntlm_users, spelling):
    """Which line would be the account is a guess an attacker could pick:
    neither is taken."""
    off = ident_server.log_size()
    s = G.Session(ident_server.port, "/ambig",
                  gss=G.GssClient("ntlm", user=spelling,
                                  password="BobPassw0rd!"))
    try:
        assert s.authenticate().status == 401
        assert _get(s).status == 401
    finally:
        s.close()
    assert H.wait_for_line(ident_server.error_log,
                           lambda l: "more than one way" in l, offset=off)


def test_ntlm_spellings_share_shells_and_quota(ident_server, ntlm_users):
    """Shell ownership and MaxShellsPerUser count the account, not the
    spelling: HENRY reaches henry's shell and cannot open a second one."""
    a = _session(ident_server, "/shell", "henry", "HenryPassw0rd!")
    b = _session(ident_server, "/shell", "HENRY", "HenryPassw0rd!")
    try:
        xml, _ = H.create_shell_request()
        r = a.post(xml)
        assert r.status == 200, r
        shell = H.shell_id_of(r)
        try:
            xml, _ = H.create_shell_request()
            H.assert_fault(b.post(xml), status=500,
                           subcode=("w", "QuotaLimit"))
            xml, _ = H.command_request(shell, "true")
            r = b.post(xml)
            assert r.status == 200, r
        finally:
            xml, _ = H.delete_shell_request(shell)
            assert b.post(xml).status == 200
    finally:
        a.close()
        b.close()


# ------------------------------------ groups per location, live edits --

def test_groups_follow_the_location_on_one_connection(ident_server,
                                                      ntlm_users):
    """henry is an administrator in /admins' user file but has no group
    in /other's: the connection authenticated on /admins must not carry
    the group over."""
    s = _session(ident_server, "/admins", "henry", "HenryPassw0rd!")
    try:
        assert _get(s).status == 200
        H.assert_fault(_get(s, "/other"), status=500,
                       subcode=("w", "AccessDenied"))
        assert _get(s, "/admins").status == 200
    finally:
        s.close()


def test_user_file_edit_applies_to_live_connection(ident_server, ntlm_users,
                                                   files):
    a = files[0]
    s = _session(ident_server, "/admins", "henry", "HenryPassw0rd!")
    try:
        assert _get(s).status == 200
        a.write_text(USERS_A.replace("henry:*:admins", "henry:*"))
        try:
            H.assert_fault(_get(s), status=500,
                           subcode=("w", "AccessDenied"))
        finally:
            a.write_text(USERS_A)
            # a different size and times: the next request sees it
        time.sleep(0.01)
        assert _get(s).status == 200
    finally:
        s.close()


# ------------------------------------------ Kerberos: krb5's own mapping --

A2L_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_allow_unencrypted on;
        wsman_auth negotiate kerberos;
        wsman_keytab @KEYTAB@;
        location /wsman { wsman; wsman_user_file @USERFILE@; }
    }
"""


@pytest.fixture(scope="module")
def a2l_server(nginx_factory, realm, ntlm_users, tmp_path_factory):
    """krb5.conf with auth_to_local rules: mallory@WSMAN.TEST is the local
    account bob; other principals of the realm map as usual."""
    d = tmp_path_factory.mktemp("a2l")
    conf = d / "krb5.conf"
    text = realm.krb5_conf.read_text().replace(
        "        kdc = 127.0.0.1:",
        "        auth_to_local = RULE:[1:$1@$0](mallory@WSMAN\\.TEST)"
        "s/.*/bob/\n        auth_to_local = DEFAULT\n"
        "        kdc = 127.0.0.1:")
    assert "auth_to_local" in text
    conf.write_text(text)
    os.chmod(d, 0o755)
    conf.chmod(0o644)
    env = realm.nginx_env().replace(str(realm.krb5_conf), str(conf))
    return nginx_factory(A2L_HTTP.replace("@KEYTAB@", str(realm.keytab)),
                         main_snippet=env + ntlm_users.nginx_env())


def test_kerberos_principal_maps_with_auth_to_local(a2l_server, realm,
                                                    tmp_path):
    """mallory has no user-file line: as herself she would be denied;
    krb5.conf's auth_to_local makes her bob (admins), as sshd would."""
    cc = realm.kinit("mallory", tmp_path / "cc.mallory")
    off = H.file_size(a2l_server.wsman_log)
    s = G.Session(a2l_server.port, "/wsman",
                  gss=G.GssClient("krb5", ccache=cc))
    try:
        assert s.authenticate().status == 200
        r = _get(s)
        assert r.status == 200, r
    finally:
        s.close()
    s = G.Session(a2l_server.port, "/wsman", gss=G.GssClient("krb5"))
    try:
        assert s.authenticate().status == 200
        assert _get(s).status == 200
    finally:
        s.close()
    assert H.logged_users(a2l_server, off, ["bob", "alice"]) == \
        ["bob", "alice"]


# ---------------------------------------------- Basic stays case-sensitive --

def test_basic_names_are_case_sensitive_like_htpasswd(server, users):
    """htpasswd names are exact: another spelling of alice is nobody, so
    nothing downstream can see two spellings of one Basic account."""
    xml, _ = H.config_get()
    for name in ("ALICE", "Alice"):
        r = H.request(server.port, "POST", "/wsman", xml,
                      {"Content-Type": H.SOAP_CT,
                       "Authorization": H.basic(name, users["alice"][0])})
        assert r.status == 401, (name, r)
    off = H.file_size(server.wsman_log)
    r = H.request(server.port, "POST", "/wsman", xml,
                  {"Content-Type": H.SOAP_CT,
                   "Authorization": H.basic("alice", users["alice"][0])})
    assert r.status == 200, r
    assert H.logged_users(server, off, ["alice"]) == ["alice"]
