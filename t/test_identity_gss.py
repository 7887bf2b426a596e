"""Which GSSAPI mechanism a location accepts ([7] section 3, [8] defects 1
and 4): the `Kerberos` scheme is Kerberos only, `wsman_negotiate_ntlm off`
keeps NTLM out of Negotiate, SPNEGO may carry NTLM next to a keytab, and
a 32-byte NTLM NEGOTIATE_MESSAGE (no Version field) completes."""

import base64
import os
import subprocess
import sys

import pytest

import infra
import wsman_gss as G
import wsman_helpers as H

HERE = os.path.dirname(os.path.abspath(__file__))


def _is_config(r):
    return H.body_child(r).tag == H.q("cfg", "Config")


def ntlm(mech="ntlm", user="bob", password="BobPassw0rd!"):
    return G.GssClient(mech, user=user, password=password)


def _handshake(port, path, scheme, gss):
    """Run the handshake and one config Get on the same connection;
    returns (handshake response, Get response)."""
    s = G.Session(port, path, scheme=scheme, gss=gss)
    try:
        r = s.authenticate()
        xml, _ = H.config_get()
        return r, s.post(xml)
    finally:
        s.close()


# ------------------------------------------------ mechanism per scheme --

def test_kerberos_scheme_refuses_raw_ntlm(gss_server, ntlm_users):
    """`wsman_auth kerberos` (/kerb): a raw NTLMSSP handshake under the
    Kerberos scheme must not end in an identity."""
    off = gss_server.log_size()
    r, get = _handshake(gss_server.port, "/kerb", "Kerberos", ntlm())
    assert r.status == 401, r
    assert get.status == 401, get
    assert H.wait_for_line(gss_server.error_log,
                           lambda l: "[info]" in l and "NTLM" in l,
                           offset=off), gss_server.read_log(off)


def test_kerberos_scheme_refuses_spnego_ntlm(gss_server, ntlm_users):
    """The same with NTLM inside SPNEGO: the mechanism gss_accept_sec_
    context negotiated is what counts, not the token's wrapping."""
    r, get = _handshake(gss_server.port, "/kerb", "Kerberos",
                        ntlm("spnego"))
    assert r.status == 401, r
    assert get.status == 401, get


def test_kerberos_scheme_still_takes_kerberos(gss_server, realm):
    r, get = _handshake(gss_server.port, "/kerb", "Kerberos",
                        G.GssClient("krb5"))
    assert r.status == 200, r
    assert get.status == 401, get   # /kerb wants sealed SOAP


NEGO_OFF_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_user_file @USERFILE@;
        wsman_allow_unencrypted on;
        location /wsman { wsman; wsman_auth negotiate;
                          wsman_keytab @KEYTAB@;
                          wsman_negotiate_ntlm off; }
        location /both  { wsman; wsman_auth negotiate;
                          wsman_keytab @KEYTAB@; }
        location /nokeytab { wsman; wsman_auth negotiate; }
    }
"""


@pytest.fixture(scope="module")
def nego_server(nginx_factory, auth_env, realm):
    return nginx_factory(NEGO_OFF_HTTP.replace("@KEYTAB@",
                                               str(realm.keytab)),
                         main_snippet=auth_env)


@pytest.mark.parametrize("mech", ["ntlm", "spnego"])
def test_negotiate_ntlm_off_refuses_ntlm(nego_server, ntlm_users, mech):
    off = nego_server.log_size()
    r, get = _handshake(nego_server.port, "/wsman", "Negotiate", ntlm(mech))
    assert r.status == 401, r
    assert get.status == 401, get
    # raw NTLMSSP is refused by name; SPNEGO, limited to Kerberos, has
    # nothing to agree on
    assert H.wait_for_line(nego_server.error_log,
                           lambda l: ("[warn]" in l or "[info]" in l) and (
                               "wsman_negotiate_ntlm" in l
                               or "unsupported mechanism" in l),
                           offset=off), nego_server.read_log(off)


def test_negotiate_ntlm_off_takes_kerberos(nego_server, realm):
    for mech in ("krb5", "spnego"):
        r, get = _handshake(nego_server.port, "/wsman", "Negotiate",
                            G.GssClient(mech))
        assert r.status == 200, (mech, r)
        assert get.status == 200 and _is_config(get), (mech, get)


def test_ntlm_connection_not_reused_where_ntlm_is_off(nego_server,
                                                     ntlm_users):
    """NTLM proved on /both does not carry over to /wsman (NTLM off) on the
    same kept-alive connection."""
    s = G.Session(nego_server.port, "/both", gss=ntlm())
    try:
        assert s.authenticate().status == 200
        xml, _ = H.config_get()
        assert s.post(xml).status == 200
        s.path = "/wsman"
        assert s.post(xml).status == 401
        s.path = "/both"
        assert s.post(xml).status == 200
    finally:
        s.close()


def test_negotiate_ntlm_bad_value_refused(nginx_factory):
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_negotiate_ntlm maybe; } }
""", start=False)
    p = n.test_config()
    assert p.returncode != 0
    assert "wsman_negotiate_ntlm" in p.stderr, p.stderr


# ------------------------------ [8] 1: NTLM inside SPNEGO with a keytab --

@pytest.mark.parametrize("path", ["/both", "/nokeytab"])
def test_spnego_ntlm_next_to_keytab(nego_server, ntlm_users, realm, path):
    """What Windows sends without a ticket (and `wsman -y gss`): SPNEGO
    offering NTLM, to a location with wsman_keytab."""
    off = H.file_size(nego_server.wsman_log)
    r, get = _handshake(nego_server.port, path, "Negotiate",
                        ntlm("spnego"))
    assert r.status == 200, (r, nego_server.read_log()[-2000:])
    assert get.status == 200 and _is_config(get), get
    assert "bob" in H.logged_users(nego_server, off, "bob")


def test_spnego_kerberos_next_to_keytab_still_works(nego_server, realm):
    r, get = _handshake(nego_server.port, "/both", "Negotiate",
                        G.GssClient("spnego"))
    assert r.status == 200, r
    assert get.status == 200 and _is_config(get), get


def test_spnego_ntlm_encrypted_next_to_keytab(gss_server, ntlm_users):
    """The sealed session after SPNEGO/NTLM on /enc (keytab set)."""
    s = G.Session(gss_server.port, "/enc", gss=ntlm("spnego"))
    try:
        r = s.authenticate()
        assert r.status == 200, r
        xml, mid = H.config_get()
        r, plain = s.send_encrypted(xml)
        assert r.status == 200, r
        pr = G.plain_response(r, plain)
        assert _is_config(pr)
        assert H.header_text(pr, "a", "RelatesTo") == mid
    finally:
        s.close()


# ------------------------------------ [8] 4: 32-byte NEGOTIATE_MESSAGE --

def _short_client(port, path, user, password, workstation=None,
                  auth="version"):
    env = dict(os.environ, OPENSSL_CONF=str(infra.OPENSSL_LEGACY),
               PYTHONPATH=HERE)
    cmd = [sys.executable, os.path.join(HERE, "ntlm_short_client.py"),
           "--auth", auth, str(port), path, user, password, "WSMAN"]
    if workstation:
        cmd.append(workstation)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          env=env)


def _assert_short_login(server, workstation, auth):
    """bob logs in with ntlm_short_client.py's messages (auth: its
    AUTHENTICATE_MESSAGE shape): 401 with the challenge, 200 for the
    third leg and for the config Get after it, logged as bob."""
    off = H.file_size(server.wsman_log)
    p = _short_client(server.port, "/wsman", "bob", "BobPassw0rd!",
                      workstation, auth=auth)
    assert p.returncode == 0, (p.returncode, p.stdout[:600], p.stderr,
                               server.read_log()[-1500:])
    lines = p.stdout.split("\n", 3)
    assert lines[:3] == ["401", "200", "200"], p.stdout[:300]
    assert _is_config(H.Response(200, [], lines[3].encode()))
    assert "bob" in H.logged_users(server, off, "bob")


@pytest.mark.parametrize("workstation", [None, "NODEBOX"])
def test_ntlm_negotiate_without_version(gss_server, ntlm_users, workstation):
    _assert_short_login(gss_server, workstation, "version")


def test_ntlm_negotiate_without_version_wrong_password(gss_server,
                                                       ntlm_users):
    p = _short_client(gss_server.port, "/wsman", "bob", "nope")
    assert p.returncode == 4, (p.returncode, p.stdout, p.stderr)


@pytest.mark.parametrize("token", [
    # 32 bytes claiming a workstation name past the end
    b"NTLMSSP\x00\x01\x00\x00\x00\x07\x32\x00\x00"
    b"\x00\x00\x00\x00\x20\x00\x00\x00\x10\x00\x10\x00\x20\x00\x00\x00",
    # a domain field pointing into the fixed header
    b"NTLMSSP\x00\x01\x00\x00\x00\x07\x32\x00\x00"
    b"\x04\x00\x04\x00\x08\x00\x00\x00\x00\x00\x00\x00\x20\x00\x00\x00",
    # too short even without a Version
    b"NTLMSSP\x00\x01\x00\x00\x00\x07\x32\x00\x00\x00\x00",
])
def test_broken_short_negotiate_is_401(gss_server, ntlm_users, token):
    off = gss_server.log_size()
    r = H.request(gss_server.port, "POST", "/wsman", b"",
                  {"Authorization": "Negotiate "
                   + base64.b64encode(token).decode()})
    assert r.status == 401, r
    assert not G.www_tokens(r, "Negotiate"), r.headers
    # malformed client input: logged at info, as nginx logs client errors
    assert H.wait_for_line(gss_server.error_log,
                           lambda l: "[info]" in l
                           and "NTLM NEGOTIATE_MESSAGE" in l
                           and "refused" in l,
                           offset=off), gss_server.read_log(off)


# ------------------------- [8] 4: AUTHENTICATE_MESSAGE without Version --

@pytest.mark.parametrize("workstation", [None, "NODEBOX"])
def test_ntlm_authenticate_without_version(gss_server, ntlm_users,
                                           workstation):
    """winrm-client's third leg: a 64-byte header, no Version, no MIC,
    the payload at 64; gss-ntlmssp wants it at 72."""
    _assert_short_login(gss_server, workstation, "64")


def test_ntlm_authenticate_without_version_wrong_password(gss_server,
                                                          ntlm_users):
    """Completing the header proves nothing: the NTProofStr still
    decides."""
    off = gss_server.log_size()
    p = _short_client(gss_server.port, "/wsman", "bob", "nope", auth="64")
    assert p.returncode == 4, (p.returncode, p.stdout, p.stderr)
    assert "refused" not in gss_server.read_log(off)


@pytest.mark.parametrize("auth,line", [
    # a MIC claimed in the NTLMv2 blob, no room for it in the message
    ("64-mic", "claims a MIC but has no room for one"),
    # the user name field runs past the end of the message
    ("64-outside", "field 3 (512 bytes at"),
])
def test_broken_authenticate_without_version_is_401(gss_server, ntlm_users,
                                                    auth, line):
    off = gss_server.log_size()
    p = _short_client(gss_server.port, "/wsman", "bob", "BobPassw0rd!",
                      auth=auth)
    assert p.returncode == 4, (p.returncode, p.stdout, p.stderr)
    assert p.stdout.split("\n")[:2] == ["401", "401"], p.stdout
    assert H.wait_for_line(
        gss_server.error_log,
        lambda l: "[info]" in l and "NTLM AUTHENTICATE_MESSAGE refused" in l
        and line in l, offset=off), gss_server.read_log(off)


def test_ntlm_authenticate_with_mic_untouched(gss_server, ntlm_users):
    """A MIC covers the three messages as sent: a complete NEGOTIATE and
    an AUTHENTICATE with Version and MIC (payload at 88) pass unchanged
    and gss-ntlmssp verifies the MIC."""
    off = H.file_size(gss_server.wsman_log)
    p = _short_client(gss_server.port, "/wsman", "bob", "BobPassw0rd!",
                      auth="mic")
    assert p.returncode == 0, (p.returncode, p.stdout[:600], p.stderr,
                               gss_server.read_log()[-1500:])
    assert p.stdout.split("\n")[:3] == ["401", "200", "200"], p.stdout
    assert "bob" in H.logged_users(gss_server, off, "bob")


# ----------------------- wsman_keytab is the location's, not the process's --

KEYTAB_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_user_file @USERFILE@;
        wsman_allow_unencrypted on;
        location /keytab   { wsman; wsman_auth negotiate kerberos;
                             wsman_keytab @KEYTAB@; }
        location /krbonly  { wsman; wsman_auth kerberos;
                             wsman_keytab @KEYTAB@; }
        location /default  { wsman; wsman_auth negotiate kerberos; }
    }
"""


@pytest.fixture(scope="module")
def keytab_server(nginx_factory, realm, ntlm_users, tmp_path_factory):
    """The process's default keytab (KRB5_KTNAME) is empty: only
    wsman_keytab can accept Kerberos."""
    empty = tmp_path_factory.mktemp("nokeytab") / "missing.keytab"
    env = realm.nginx_env().replace("KRB5_KTNAME=FILE:%s" % realm.keytab,
                                    "KRB5_KTNAME=FILE:%s" % empty)
    assert str(empty) in env
    return nginx_factory(KEYTAB_HTTP.replace("@KEYTAB@", str(realm.keytab)),
                         main_snippet=env + ntlm_users.nginx_env())


@pytest.mark.parametrize("path,scheme,mech,ok", [
    ("/keytab", "Negotiate", "krb5", True),
    ("/keytab", "Negotiate", "spnego", True),
    ("/krbonly", "Kerberos", "krb5", True),
    ("/default", "Negotiate", "krb5", False),
    ("/default", "Negotiate", "spnego", False),
])
def test_kerberos_uses_the_locations_keytab(keytab_server, realm, path,
                                            scheme, mech, ok):
    r, get = _handshake(keytab_server.port, path, scheme,
                        G.GssClient(mech))
    if ok:
        assert r.status == 200, (r, keytab_server.read_log()[-1500:])
    else:
        assert r.status == 401 and get.status == 401, r


@pytest.mark.parametrize("path", ["/keytab", "/default"])
def test_ntlm_next_to_any_keytab(keytab_server, ntlm_users, path):
    for mech in ("ntlm", "spnego"):
        r, get = _handshake(keytab_server.port, path, "Negotiate",
                            ntlm(mech))
        assert r.status == 200, (mech, r)
        assert get.status == 200 and _is_config(get), (mech, get)
