"""Channel binding tokens (tls-server-end-point) over HTTPS:
wsman_cbt_hardening relaxed (default: a missing binding is fine, a wrong
one is not) and strict (the binding must be there and match)."""

import pytest

import infra
import wsman_gss as G
import wsman_helpers as H


def _session(server, path, mech, binding):
    """Open a TLS connection and authenticate with `binding`: 'right',
    'wrong' or None."""
    s = G.Session(server.tls_port, path, tls=True)
    cb = None
    if binding == "right":
        cb = G.tls_server_end_point(s.conn.peer_cert)
    elif binding == "wrong":
        cb = G.tls_server_end_point(b"not the server certificate")
    if mech == "ntlm":
        s.gss = G.GssClient("ntlm", user="bob", password="BobPassw0rd!",
                            channel_bindings=cb)
    else:
        s.gss = G.GssClient(mech, channel_bindings=cb)
    return s


def _auth_status(server, path, mech, binding):
    s = _session(server, path, mech, binding)
    try:
        xml, _ = H.config_get()
        r = s.authenticate(xml)
        if r.status == 200:
            assert H.body_child(r).tag == H.q("cfg", "Config"), r
        return r.status
    finally:
        s.close()


@pytest.mark.parametrize("mech", ["krb5", "ntlm"])
def test_relaxed_accepts_right_or_missing_binding(gss_server, realm,
                                                  ntlm_users, mech):
    assert _auth_status(gss_server, "/enc", mech, "right") == 200
    assert _auth_status(gss_server, "/enc", mech, None) == 200


@pytest.mark.parametrize("mech", ["krb5", "ntlm"])
def test_wrong_binding_always_refused(gss_server, realm, ntlm_users, mech):
    off = gss_server.log_size()
    assert _auth_status(gss_server, "/enc", mech, "wrong") == 401
    assert _auth_status(gss_server, "/cbt", mech, "wrong") == 401
    assert H.wait_for_line(gss_server.error_log, lambda l: "[warn]" in l,
                           offset=off)


@pytest.mark.parametrize("mech", ["krb5", "ntlm"])
def test_strict_requires_binding(gss_server, realm, ntlm_users, mech):
    assert _auth_status(gss_server, "/cbt", mech, "right") == 200
    assert _auth_status(gss_server, "/cbt", mech, None) == 401


def test_strict_with_pywinrm_ntlm(gss_server, ntlm_users):
    """requests_ntlm sends the tls-server-end-point binding over
    HTTPS."""
    xml, _ = H.config_get()
    p = infra.run_pywinrm("https://127.0.0.1:%d/cbt" % gss_server.tls_port,
                          "ntlm", "WSMAN\\bob", "BobPassw0rd!", xml)
    assert p.returncode == 0, p.stderr
    assert "Config" in p.stdout
