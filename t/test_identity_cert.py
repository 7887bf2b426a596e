"""Client certificates as real clients use them ([7] section 3): a resumed
TLS session keeps the issuer nginx verified (never an unverified chain),
and `uri=` limits a mapping on path boundaries."""

import socket
import ssl

import pytest

import wsman_helpers as H

CONFIG = H.CONFIG_URI

CERT_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@ ssl;
        ssl_certificate @PKI@/server.pem;
        ssl_certificate_key @PKI@/server.key;
        ssl_client_certificate @PKI@/ca.pem;
        ssl_verify_client optional;
        %(cache)s
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_user_file @USERFILE@;
        wsman_auth certificate;
        location /wsman { wsman;
            wsman_cert_map subject=alice@wsman.test issuer=@CA@ user=alice; }
        location /config { wsman;
            wsman_cert_map subject=alice@wsman.test issuer=@CA@ user=alice
                           uri=%(config)s; }
        location /slash { wsman;
            wsman_cert_map subject=alice@wsman.test issuer=@CA@ user=alice
                           uri=%(config)s/; }
        location /partial { wsman;
            wsman_cert_map subject=alice@wsman.test issuer=@CA@ user=alice
                           uri=%(config)s/serv; }
    }
"""


def _server(nginx_factory, pki, cache):
    return nginx_factory(pki.conf(CERT_HTTP % {"cache": cache,
                                               "config": CONFIG}))


@pytest.fixture(scope="module", params=["tickets", "cache"])
def cert_server(request, nginx_factory, pki):
    """TLS 1.3 session tickets (nginx's default), and a TLS 1.2 shared
    session cache without tickets."""
    if request.param == "tickets":
        n = _server(nginx_factory, pki, "ssl_protocols TLSv1.3;")
        n.tls = ssl.TLSVersion.TLSv1_3
    else:
        n = _server(nginx_factory, pki, "ssl_session_cache shared:wsc:1m; "
                    "ssl_session_tickets off; ssl_protocols TLSv1.2;")
        n.tls = ssl.TLSVersion.TLSv1_2
    return n


def _context(server, pki, cert="alice"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = server.tls
    if cert:
        ctx.load_cert_chain(pki.p(cert + ".pem"), pki.p(cert + ".key"))
    return ctx


def _request(server, ctx, path="/wsman", session=None, uri=CONFIG):
    """One request on a new TLS connection.  Returns (response, session,
    reused)."""
    xml, _ = H.config_get(resource_uri=uri)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    try:
        s.sendall(H.build_request(server.port, "POST", path, xml.encode(), {
            "Content-Type": H.SOAP_CT,
            "Authorization": H.PROFILE_HTTPS_MUTUAL,
            "Connection": "close"}))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = [tuple(v.strip() for v in l.split(":", 1))
                   for l in lines[1:] if ":" in l]
        return H.Response(status, headers, body), s.session, \
            s.session_reused
    finally:
        s.close()


def test_resumed_session_keeps_the_certificate_mapping(cert_server, pki):
    ctx = _context(cert_server, pki)
    off = H.file_size(cert_server.wsman_log)
    r, session, reused = _request(cert_server, ctx)
    assert r.status == 200, r
    assert not reused
    for _ in range(3):
        r, session, reused = _request(cert_server, ctx, session=session)
        assert reused, "the client did not resume"
        assert r.status == 200, (r, cert_server.read_log()[-1500:])
        assert H.body_child(r).tag == H.q("cfg", "Config")
    assert H.logged_users(cert_server, off, ["alice"] * 4) == ["alice"] * 4


def test_resumed_session_of_unverified_client_is_refused(cert_server, pki):
    """The rogue certificate fails verification on the full handshake
    (optional: the connection stays up) and on every resumption."""
    ctx = _context(cert_server, pki, "rogue")
    r, session, _ = _request(cert_server, ctx)
    assert r.status == 400, r
    assert session is not None, "the server offered no session to resume"
    r, _, reused = _request(cert_server, ctx, session=session)
    assert r.status == 400, r


@pytest.mark.parametrize("path,uri,ok", [
    ("/config", CONFIG, True),
    ("/config", CONFIG + "/service", True),
    ("/config", CONFIG + "/service/auth", True),
    ("/config", CONFIG.upper() + "/service", True),  # as routed
    ("/config", CONFIG.upper() + "URATION", False),
    ("/config", CONFIG + "uration", False),     # /configuration
    ("/config", CONFIG + "_other", False),
    ("/slash", CONFIG + "/service", True),
    # trailing slashes are ignored, as in wsman_resource_sddl prefixes and
    # class URIs: uri=.../config/ is uri=.../config, whole parts only
    ("/slash", CONFIG, True),
    ("/slash", CONFIG + "uration", False),
    ("/partial", CONFIG + "/service", False),  # /serv is not /service
    ("/partial", CONFIG + "/serv", True),
])
def test_uri_limit_matches_on_path_boundaries(cert_server, pki, path, uri,
                                              ok):
    r, _, _ = _request(cert_server, _context(cert_server, pki), path,
                       uri=uri)
    if ok:
        assert not (r.status == 500 and H.is_fault(r)
                    and H.Fault(r).subcode == ("w", "AccessDenied")), r
    else:
        H.assert_fault(r, status=500, subcode=("w", "AccessDenied"))
