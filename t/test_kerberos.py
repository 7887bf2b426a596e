"""Kerberos through Negotiate and the Kerberos scheme against a real MIT KDC
(conftest `realm`): pywinrm, curl --negotiate and our own python3-gssapi
client with WinRM message encryption (wire-protocol.md 1d)."""

import base64
import subprocess

import pytest

import infra
import wsman_gss as G
import wsman_helpers as H


def _is_config(text):
    if isinstance(text, str):
        text = text.encode()
    child = H.body_child(H.Response(200, [], text))
    return child is not None and child.tag == H.q("cfg", "Config")


# ------------------------------------------------------------- pywinrm --

def test_pywinrm_kerberos_https(gss_server, realm):
    """pywinrm sends a raw krb5 AP-REQ preemptively and insists on the
    AP-REP (mutual authentication) in the 200 response."""
    off = H.file_size(gss_server.wsman_log)
    xml, _ = H.config_get()
    p = infra.run_pywinrm("https://localhost:%d/enc" % gss_server.tls_port,
                          "kerberos", "alice@WSMAN.TEST", "", xml)
    assert p.returncode == 0, p.stderr
    assert _is_config(p.stdout), p.stdout[:500]
    assert "alice" in H.logged_users(gss_server, off, "alice")


def test_pywinrm_kerberos_http_unencrypted_location(gss_server, realm):
    xml, _ = H.config_get()
    p = infra.run_pywinrm("http://localhost:%d/wsman" % gss_server.port,
                          "kerberos", "alice@WSMAN.TEST", "", xml,
                          encryption="never")
    assert p.returncode == 0, p.stderr
    assert _is_config(p.stdout)


def test_pywinrm_kerberos_plaintext_refused_on_encrypted_location(
        gss_server, realm):
    xml, _ = H.config_get()
    p = infra.run_pywinrm("http://localhost:%d/enc" % gss_server.port,
                          "kerberos", "alice@WSMAN.TEST", "", xml,
                          encryption="never")
    assert p.returncode == 4, (p.returncode, p.stdout[:300], p.stderr)


def test_pywinrm_kerberos_without_ticket_fails(gss_server, realm, tmp_path):
    xml, _ = H.config_get()
    p = infra.run_pywinrm("https://localhost:%d/enc" % gss_server.tls_port,
                          "kerberos", "alice@WSMAN.TEST", "", xml,
                          env={"KRB5CCNAME": "FILE:%s" % (tmp_path / "none")})
    assert p.returncode in (4, 5, 6), (p.returncode, p.stdout[:300])
    assert "Config" not in p.stdout


# ---------------------------------------------------------------- curl --

def _curl_negotiate(url, xml, ccache=None, extra=()):
    import os
    env = dict(os.environ)
    if ccache:
        env["KRB5CCNAME"] = ccache
    return subprocess.run(
        ["curl", "-sS", "--negotiate", "-u", ":", "-k", "-o", "-",
         "-w", "\n%{http_code}", "-H", "Content-Type: " + H.SOAP_CT,
         "--data-binary", "@-", *extra, url],
        input=xml.encode(), capture_output=True, env=env, timeout=30)


@pytest.mark.parametrize("tls", [True, False])
def test_curl_negotiate(gss_server, realm, tls):
    off = H.file_size(gss_server.wsman_log)
    xml, _ = H.config_get()
    url = ("https://localhost:%d/enc" % gss_server.tls_port if tls
           else "http://localhost:%d/wsman" % gss_server.port)
    p = _curl_negotiate(url, xml)
    body, _, code = p.stdout.rpartition(b"\n")
    assert code == b"200", (p.stdout[-600:], p.stderr)
    assert _is_config(body)
    assert "alice" in H.logged_users(gss_server, off, "alice")


def test_curl_negotiate_plaintext_http_refused(gss_server, realm):
    xml, _ = H.config_get()
    p = _curl_negotiate("http://localhost:%d/enc" % gss_server.port, xml)
    assert p.stdout.rpartition(b"\n")[2] == b"401", p.stdout[-300:]


# ------------------------------------------------ our own GSSAPI client --

@pytest.mark.parametrize("mech", ["krb5", "spnego"])
def test_preemptive_token_with_body_gets_mutual_token(gss_server, realm,
                                                      mech):
    """The first request carries the token and the envelope; the 200
    response carries the server's token that completes the context."""
    s = G.Session(gss_server.port, "/wsman", gss=G.GssClient(mech))
    try:
        xml, mid = H.config_get()
        r = s.authenticate(xml)
        assert r.status == 200, r
        assert H.body_child(r).tag == H.q("cfg", "Config")
        assert H.header_text(r, "a", "RelatesTo") == mid
        assert G.www_tokens(r, "Negotiate"), r.headers
        assert s.gss.complete, "server token did not complete the context"
        # later requests on the connection carry no Authorization
        xml, _ = H.config_get()
        r = s.post(xml)
        assert r.status == 200, r
        assert H.body_child(r).tag == H.q("cfg", "Config")
    finally:
        s.close()


@pytest.mark.parametrize("mech", ["krb5", "spnego"])
def test_encrypted_config_get_over_http(gss_server, realm, mech):
    off = H.file_size(gss_server.wsman_log)
    s = G.Session(gss_server.port, "/enc", gss=G.GssClient(mech))
    try:
        r = s.authenticate()              # empty POST builds the context
        assert r.status == 200, r
        assert r.body == b"", r
        assert s.gss.complete
        for _ in range(3):                # sequence numbers advance
            xml, mid = H.config_get()
            r, plain = s.send_encrypted(xml)
            assert r.status == 200, r
            assert plain is not None, r
            pr = G.plain_response(r, plain)
            assert H.body_child(pr).tag == H.q("cfg", "Config")
            assert H.header_text(pr, "a", "RelatesTo") == mid
    finally:
        s.close()
    assert H.logged_users(gss_server, off, ["alice"] * 3).count("alice") == 3


def test_encrypted_fault_is_encrypted(gss_server, realm):
    s = G.Session(gss_server.port, "/enc", gss=G.GssClient("krb5"))
    try:
        assert s.authenticate().status == 200
        xml, _ = H.envelope(resource_uri="http://example.org/no/such")
        r, plain = s.send_encrypted(xml)
        assert r.status == 500, r
        assert plain is not None, "fault sent in clear: %r" % r
        H.assert_fault(G.plain_response(r, plain))
    finally:
        s.close()


def test_kerberos_scheme_with_kerberos_encryption(gss_server, realm):
    """The `Kerberos` scheme (WEF): 200 carries `WWW-Authenticate:
    Kerberos <AP-REP>`, bodies use HTTP-Kerberos-session-encrypted."""
    s = G.Session(gss_server.port, "/kerb", scheme="Kerberos",
                  gss=G.GssClient("krb5"))
    try:
        r = s.authenticate()
        assert r.status == 200, r
        assert G.www_tokens(r, "Kerberos"), r.headers
        assert not G.www_tokens(r, "Negotiate"), r.headers
        assert s.gss.complete
        xml, _ = H.config_get()
        r, plain = s.send_encrypted(xml, protocol=G.PROTO_KERBEROS)
        assert r.status == 200, r
        assert 'protocol="application/HTTP-Kerberos-session-encrypted"' in \
            r.header("Content-Type"), r.headers
        assert H.body_child(G.plain_response(r, plain)).tag == \
            H.q("cfg", "Config")
    finally:
        s.close()


def test_kerberos_only_location_challenge(gss_server):
    xml, _ = H.config_get()
    r = H.request(gss_server.port, "POST", "/kerb", xml,
                  {"Content-Type": H.SOAP_CT})
    assert r.status == 401, r
    assert [v.strip() for v in r.all("WWW-Authenticate")] == ["Kerberos"]


def test_negotiate_location_challenge_lists_schemes(gss_server):
    xml, _ = H.config_get()
    r = H.request(gss_server.port, "POST", "/enc", xml,
                  {"Content-Type": H.SOAP_CT})
    assert r.status == 401, r
    assert sorted(v.strip() for v in r.all("WWW-Authenticate")) == \
        sorted(["Negotiate", "Kerberos", 'Basic realm="WSMAN"'])


def test_plaintext_after_kerberos_on_encrypted_location_is_401(gss_server,
                                                               realm):
    s = G.Session(gss_server.port, "/enc", gss=G.GssClient("krb5"))
    try:
        assert s.authenticate().status == 200
        xml, _ = H.config_get()
        r = s.post(xml)
        assert r.status == 401, r
        assert b"Config" not in r.body
    finally:
        s.close()


def test_kerberos_user_without_groups_is_denied(gss_server, realm, tmp_path):
    """mallory has a ticket but no user-file entry, so no group SIDs:
    the default RootSDDL denies config Get (identity = local name)."""
    off = H.file_size(gss_server.wsman_log)
    cc = realm.kinit("mallory", tmp_path / "cc.mallory")
    s = G.Session(gss_server.port, "/wsman",
                  gss=G.GssClient("krb5", ccache=cc))
    try:
        xml, _ = H.config_get()
        r = s.authenticate(xml)
        f = H.assert_fault(r, status=500, subcode=("w", "AccessDenied"))
        assert f.wsman_code == "5", f
    finally:
        s.close()
    assert "mallory" in H.logged_users(gss_server, off, "mallory")


def test_ticket_for_a_service_not_in_the_keytab_rejected(gss_server, realm):
    """A valid AP-REQ for host/localhost, whose key the acceptor keytab
    does not hold: 401 and a [warn] line, never a 200."""
    realm.kadmin("addprinc -randkey host/localhost@%s" % infra.REALM)
    target = G.gssapi.Name("host@localhost",
                           G.gssapi.NameType.hostbased_service)
    ctx = G.gssapi.SecurityContext(name=target, usage="initiate",
                                   mech=G.KRB5)
    tok = ctx.step()
    xml, _ = H.config_get()
    off = gss_server.log_size()
    r = H.request(gss_server.port, "POST", "/wsman", xml,
                  {"Content-Type": H.SOAP_CT,
                   "Authorization": "Negotiate " +
                   base64.b64encode(tok).decode()})
    assert r.status == 401, r
    assert b"Config" not in r.body
    assert H.wait_for_line(gss_server.error_log, lambda l: "[warn]" in l,
                           offset=off), gss_server.read_log(off)
