"""The same locations over HTTPS: AllowUnencrypted only concerns plain
HTTP, and the security profiles switch to https/*."""

import socket
import ssl
import subprocess

import pytest

import wsman_helpers as H

TLS_HTTP = """
    server {
        listen 127.0.0.1:@PORT@ ssl;
        ssl_certificate @PREFIX@/cert.pem;
        ssl_certificate_key @PREFIX@/key.pem;
        location /strict { wsman; wsman_auth basic; wsman_user_file @USERFILE@; }
        location /open { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                         wsman_allow_unencrypted on; }
    }
"""


@pytest.fixture(scope="module")
def tls_server(nginx_factory):
    n = nginx_factory(TLS_HTTP, start=False)
    subprocess.run(["/usr/bin/openssl", "req", "-x509", "-newkey",
                    "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(n.prefix / "key.pem"),
                    "-out", str(n.prefix / "cert.pem")],
                   check=True, capture_output=True)
    # start() pings with plain HTTP; nginx answers that with a 400, which
    # is enough to know a worker is up
    return n.start()


def _tls_post(n, path, body, headers):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", n.port), 10)
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(H.build_request(n.port, "POST", path, body, headers))
        r, _ = H._read_response(s, "POST")
    return r


def _hdr(users, user="alice", ct=True):
    h = {"Authorization": H.basic(user, users[user][0])}
    if ct:
        h["Content-Type"] = H.SOAP_CT
    return h


def test_strict_accepts_basic_over_tls(tls_server, users):
    xml, mid = H.config_get()
    r = _tls_post(tls_server, "/strict", xml, _hdr(users))
    assert r.status == 200, r
    cfg = H.body_child(r)
    assert cfg.tag == H.q("cfg", "Config")
    v = cfg.find("cfg:Service/cfg:AllowUnencrypted", H.NS)
    assert v is not None and v.text.strip() == "false"
    assert H.header_text(r, "a", "RelatesTo") == mid


def test_open_reports_allow_unencrypted_true_over_tls(tls_server, users):
    xml, _ = H.config_get()
    r = _tls_post(tls_server, "/open", xml, _hdr(users, "bob"))
    assert r.status == 200, r
    v = H.body_child(r).find("cfg:Service/cfg:AllowUnencrypted", H.NS)
    assert v.text.strip() == "true"


def test_tls_wrong_password(tls_server, users):
    xml, _ = H.config_get()
    r = _tls_post(tls_server, "/strict", xml,
                  {"Authorization": H.basic("alice", "nope"),
                   "Content-Type": H.SOAP_CT})
    assert r.status == 401, r
    assert [v.strip() for v in r.all("WWW-Authenticate")] == \
        ['Basic realm="WSMAN"']


def test_tls_identify_profiles(tls_server, users):
    r = _tls_post(tls_server, "/strict", H.IDENTIFY, _hdr(users))
    assert r.status == 200, r
    el = H.body_child(r)
    assert el.tag == H.q("wsmid", "IdentifyResponse")
    names = [(e.text or "").strip() for e in
             el.findall("wsmid:SecurityProfiles/wsmid:SecurityProfileName",
                        H.NS)]
    assert "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/" \
           "https/basic" in names, names
    assert H.PROFILE_HTTP_BASIC not in names, names


def test_tls_empty_post(tls_server, users):
    r = _tls_post(tls_server, "/strict", b"",
                  dict(_hdr(users, ct=False), **{"Content-Length": "0"}))
    assert r.status == 200, r
    assert r.body == b""
