"""NTLM through Negotiate (gss-ntlmssp on the server): pywinrm with message
encryption, masterzen/winrm's go-ntlmssp client, our own raw-NTLMSSP
client, and the identity that stays on the TCP connection."""

import base64
import os
import subprocess
import time


import infra
import wsman_gss as G
import wsman_helpers as H

BOB = ("bob", "BobPassw0rd!")


def _is_config(r):
    return H.body_child(r).tag == H.q("cfg", "Config")


def ntlm(user="bob", password="BobPassw0rd!"):
    return G.GssClient("ntlm", user=user, password=password)


# ------------------------------------------------------------- pywinrm --

def test_pywinrm_ntlm_encrypted_over_http(gss_server, ntlm_users):
    """pywinrm: empty POST, NTLM legs 1-3 on one connection, then the
    envelope sealed as HTTP-SPNEGO-session-encrypted."""
    off = H.file_size(gss_server.wsman_log)
    xml, _ = H.config_get()
    p = infra.run_pywinrm("http://127.0.0.1:%d/enc" % gss_server.port,
                          "ntlm", "WSMAN\\bob", "BobPassw0rd!", xml)
    assert p.returncode == 0, p.stderr
    assert _is_config(H.Response(200, [], p.stdout.encode()))
    assert "bob" in H.logged_users(gss_server, off, "bob")


def test_pywinrm_ntlm_https(gss_server, ntlm_users):
    xml, _ = H.config_get()
    p = infra.run_pywinrm("https://127.0.0.1:%d/enc" % gss_server.tls_port,
                          "ntlm", "WSMAN\\bob", "BobPassw0rd!", xml)
    assert p.returncode == 0, p.stderr
    assert _is_config(H.Response(200, [], p.stdout.encode()))


def test_pywinrm_ntlm_wrong_password(gss_server, ntlm_users):
    off = gss_server.log_size()
    xml, _ = H.config_get()
    p = infra.run_pywinrm("http://127.0.0.1:%d/enc" % gss_server.port,
                          "ntlm", "WSMAN\\bob", "WrongPassw0rd!", xml)
    assert p.returncode == 4, (p.returncode, p.stderr)
    assert H.wait_for_line(gss_server.error_log, lambda l: "[warn]" in l,
                           offset=off), gss_server.read_log(off)


def test_pywinrm_ntlm_user_without_groups_denied(gss_server, ntlm_users):
    """henry has no groups in the user file: authenticated, then denied
    by the default RootSDDL (pywinrm reports the 500 fault)."""
    off = H.file_size(gss_server.wsman_log)
    xml, _ = H.config_get()
    p = infra.run_pywinrm("http://127.0.0.1:%d/enc" % gss_server.port,
                          "ntlm", "WSMAN\\henry", "HenryPassw0rd!", xml)
    assert p.returncode == 5, (p.returncode, p.stdout, p.stderr)
    assert "AccessDenied" in p.stderr, p.stderr
    assert "henry" in H.logged_users(gss_server, off, "henry")


# ----------------------------------------------------------- Go client --

def test_go_client_ntlm(gss_server, ntlm_users, goclient):
    off = H.file_size(gss_server.wsman_log)
    p = subprocess.run([str(goclient), "-port", str(gss_server.port),
                        "-user", "bob", "-pass", "BobPassw0rd!", "-ntlm"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert _is_config(H.Response(200, [], p.stdout.encode()))
    assert "bob" in H.logged_users(gss_server, off, "bob")


def test_go_client_ntlm_wrong_password(gss_server, ntlm_users, goclient):
    p = subprocess.run([str(goclient), "-port", str(gss_server.port),
                        "-user", "bob", "-pass", "nope", "-ntlm"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "401" in p.stderr, p.stderr


def test_go_client_ntlm_identify(gss_server, ntlm_users, goclient):
    # henry has no rights at all, Identify needs none
    p = subprocess.run([str(goclient), "-port", str(gss_server.port),
                        "-user", "henry", "-pass", "HenryPassw0rd!",
                        "-ntlm", "-op", "identify"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    child = H.body_child(H.Response(200, [], p.stdout.encode()))
    assert child.tag == H.q("wsmid", "IdentifyResponse"), p.stdout


# ------------------------------------------------- raw NTLMSSP handshake --

def test_ntlm_legs_and_identity_on_connection(gss_server, ntlm_users):
    """Leg 1 -> 401 `Negotiate <challenge>`; leg 3 -> 200; then requests
    without Authorization on the same connection run as bob, while a new
    connection without Authorization gets 401."""
    off = H.file_size(gss_server.wsman_log)
    s = G.Session(gss_server.port, "/wsman", gss=ntlm())
    try:
        t1 = s.gss.step()
        assert t1.startswith(b"NTLMSSP\x00\x01")
        r = s.post(b"", [("Authorization",
                          "Negotiate " + base64.b64encode(t1).decode())])
        assert r.status == 401, r
        chal = G.www_tokens(r, "Negotiate")
        assert len(chal) == 1 and chal[0].startswith(b"NTLMSSP\x00\x02"), \
            r.headers
        t3 = s.gss.step(chal[0])
        r = s.post(b"", [("Authorization",
                          "Negotiate " + base64.b64encode(t3).decode())])
        assert r.status == 200, r
        assert r.body == b""
        for _ in range(3):
            xml, mid = H.config_get()
            r = s.post(xml)
            assert r.status == 200, r
            assert _is_config(r)
            assert H.header_text(r, "a", "RelatesTo") == mid
    finally:
        s.close()
    assert H.logged_users(gss_server, off, ["bob"] * 3).count("bob") == 3
    xml, _ = H.config_get()
    r = H.request(gss_server.port, "POST", "/wsman", xml,
                  {"Content-Type": H.SOAP_CT})
    assert r.status == 401, r


DEBUG_HTTP = """
    server {
        listen 127.0.0.1:@PORT@;
        wsman_keytab @KEYTAB@;
        wsman_user_file @USERFILE@;
        location /wsman { wsman; wsman_auth negotiate;
                          wsman_allow_unencrypted on;
                          error_log @PREFIX@/logs/debug.log debug; }
    }
"""


def test_kept_alive_identity_resolved_once(nginx_factory, auth_env, realm,
                                           ntlm_users, user_file):
    """A kept-alive NTLM connection's account, groups and SIDs are
    resolved once for its location and user-file version: the requests
    after the handshake reuse them instead of asking NSS, the user file
    and the group map again."""
    # a user file changed in the last 2 s is read again on every request
    age = time.time() - os.stat(user_file).st_ctime
    if age < 3:
        time.sleep(3 - age)
    n = nginx_factory(DEBUG_HTTP.replace("@KEYTAB@", str(realm.keytab)),
                      main_snippet=auth_env)
    s = G.Session(n.port, "/wsman", gss=ntlm())
    try:
        r = s.authenticate()
        assert r.status == 200, r
        for _ in range(3):
            xml, _ = H.config_get()
            r = s.post(xml)
            assert r.status == 200, r
            assert _is_config(r)
    finally:
        s.close()
    log = (n.logs / "debug.log").read_text(errors="replace")
    assert log.count('account "bob" of the connection reused') == 3, \
        [l for l in log.splitlines() if "account" in l]


def test_ntlm_encrypted_session(gss_server, ntlm_users):
    s = G.Session(gss_server.port, "/enc", gss=ntlm())
    try:
        r = s.authenticate()
        assert r.status == 200, r
        assert s.gss.complete
        for _ in range(3):       # RC4 state must advance in step
            xml, mid = H.config_get()
            r, plain = s.send_encrypted(xml)
            assert r.status == 200, r
            pr = G.plain_response(r, plain)
            assert _is_config(pr)
            assert H.header_text(pr, "a", "RelatesTo") == mid
        # plaintext on a location that requires encryption
        xml, _ = H.config_get()
        assert s.post(xml).status == 401
    finally:
        s.close()


def test_ntlm_wrong_password_raw(gss_server, ntlm_users):
    off = gss_server.log_size()
    s = G.Session(gss_server.port, "/wsman", gss=ntlm(password="bad"))
    try:
        r = s.authenticate()
        assert r.status == 401, r
        xml, _ = H.config_get()
        assert s.post(xml).status == 401
    finally:
        s.close()
    assert H.wait_for_line(gss_server.error_log, lambda l: "[warn]" in l,
                           offset=off)


def test_ntlm_user_unknown_to_gss_ntlmssp(gss_server, ntlm_users):
    s = G.Session(gss_server.port, "/wsman",
                  gss=ntlm(user="zoe", password="ZoePassw0rd!"))
    try:
        assert s.authenticate().status == 401
    finally:
        s.close()


def test_ntlm_user_not_in_user_file_gets_no_groups(gss_server, ntlm_users):
    """nina is known to gss-ntlmssp only: identity `nina` with WD/AU/NU,
    so the default RootSDDL denies config Get, yet Identify works."""
    s = G.Session(gss_server.port, "/wsman",
                  gss=ntlm(user="nina", password="NinaPassw0rd!"))
    try:
        assert s.authenticate().status == 200
        xml, _ = H.config_get()
        f = H.assert_fault(s.post(xml), status=500,
                           subcode=("w", "AccessDenied"))
        assert f.wsman_code == "5"
        r = s.post(H.IDENTIFY)
        assert r.status == 200, r
        assert H.body_child(r).tag == H.q("wsmid", "IdentifyResponse")
    finally:
        s.close()


def test_new_handshake_replaces_identity(gss_server, ntlm_users, realm):
    """bob by NTLM, then alice by Kerberos on the same connection: the
    next request runs as alice."""
    off = H.file_size(gss_server.wsman_log)
    s = G.Session(gss_server.port, "/wsman", gss=ntlm())
    try:
        assert s.authenticate().status == 200
        xml, _ = H.config_get()
        assert s.post(xml).status == 200
        s.gss = G.GssClient("krb5")
        xml, _ = H.config_get()
        r = s.authenticate(xml)
        assert r.status == 200, r
        xml, _ = H.config_get()
        assert s.post(xml).status == 200
    finally:
        s.close()
    assert H.logged_users(gss_server, off, ["bob", "alice", "alice"]) == \
        ["bob", "alice", "alice"]


def test_failed_token_drops_identity(gss_server, ntlm_users):
    off = gss_server.log_size()
    s = G.Session(gss_server.port, "/wsman", gss=ntlm())
    try:
        assert s.authenticate().status == 200
        xml, _ = H.config_get()
        assert s.post(xml).status == 200
        r = s.post(xml, [("Authorization", "Negotiate " + base64.b64encode(
            b"NTLMSSP\x00\x03\x00\x00\x00" + b"\xff" * 40).decode())])
        assert r.status == 401, r
        r = s.post(xml)
        assert r.status == 401, "identity survived a failed token: %r" % r
    finally:
        s.close()
    assert H.wait_for_line(gss_server.error_log, lambda l: "[warn]" in l,
                           offset=off)


def test_abandoned_handshake_then_new_connection(gss_server, ntlm_users):
    for _ in range(5):
        s = G.Session(gss_server.port, "/wsman", gss=ntlm())
        t1 = s.gss.step()
        r = s.post(b"", [("Authorization",
                          "Negotiate " + base64.b64encode(t1).decode())])
        assert r.status == 401
        s.close()
    s = G.Session(gss_server.port, "/wsman", gss=ntlm())
    try:
        xml, _ = H.config_get()
        r = s.authenticate(xml)
        assert r.status == 200 and _is_config(r), r
    finally:
        s.close()


def test_leg1_then_request_without_token_is_401(gss_server, ntlm_users):
    """A half-finished handshake is no identity."""
    s = G.Session(gss_server.port, "/wsman", gss=ntlm())
    try:
        t1 = s.gss.step()
        r = s.post(b"", [("Authorization",
                          "Negotiate " + base64.b64encode(t1).decode())])
        assert r.status == 401
        xml, _ = H.config_get()
        assert s.post(xml).status == 401
    finally:
        s.close()


def test_leg3_from_another_connection_rejected(gss_server, ntlm_users):
    """The challenge belongs to the connection that asked for it: leg 3
    sent on a different connection must not authenticate."""
    a = G.Session(gss_server.port, "/wsman", gss=ntlm())
    b = G.Session(gss_server.port, "/wsman")
    try:
        t1 = a.gss.step()
        r = a.post(b"", [("Authorization",
                          "Negotiate " + base64.b64encode(t1).decode())])
        t3 = a.gss.step(G.www_tokens(r, "Negotiate")[0])
        xml, _ = H.config_get()
        r = b.post(xml, [("Authorization",
                          "Negotiate " + base64.b64encode(t3).decode())])
        assert r.status == 401, r
    finally:
        a.close()
        b.close()
