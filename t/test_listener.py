"""config/Listener: one p:Listener per listen socket of every server with
a wsman location; servers without one are not listed."""

import hashlib
import os

import pytest

import conftest
import wsman_helpers as H

LNS = H.LISTENER_URI

LISTENER_HTTP = """
    server {
        listen 127.0.0.1:@PORT@;
        listen 127.0.0.1:@TLSPORT@ ssl;
        server_name wsman.example.test;
        ssl_certificate @PKI@/server.pem;
        ssl_certificate_key @PKI@/server.key;
        location /wsman { wsman; wsman_auth basic;
                          wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on; }
    }
    server {
        listen 127.0.0.1:@STATICPORT@;
        server_name static.example.test;
        location / { return 200 "static\\n"; }
    }
"""


@pytest.fixture(scope="module")
def lsrv(nginx_factory, pki):
    tls = conftest.free_port()
    static = conftest.free_port()
    n = nginx_factory(pki.conf(LISTENER_HTTP.replace("@TLSPORT@", str(tls))
                               .replace("@STATICPORT@", str(static))))
    n.tls_port = tls
    n.static_port = static
    c = H.Connection(tls, tls=True)
    n.thumbprint = hashlib.sha1(c.peer_cert).hexdigest().upper()
    c.close()
    return n


def _listeners(n, users):
    client = H.Client(n.port, users)
    items, _ = H.enumerate_all(client, LNS, pull_max=50)
    out = []
    for it in items:
        assert it.tag == "{%s}Listener" % LNS, it.tag
        out.append(H.props(it))
    return out


def _expected(n, port, transport, thumb):
    return {
        "Address": "127.0.0.1",
        "Transport": transport,
        "Port": str(port),
        "Hostname": "wsman.example.test",
        "Enabled": "true",
        "URLPrefix": "wsman",
        "ListeningOn": "127.0.0.1:%d" % port,
        "CertificateThumbprint": thumb,
    }


def _norm(listener):
    v = dict(listener)
    # no certificate: nil or empty
    if v.get("CertificateThumbprint") in (None, ""):
        v["CertificateThumbprint"] = ""
    return v


def test_listener_list_is_exact(lsrv, users):
    got = sorted((_norm(v) for v in _listeners(lsrv, users)),
                 key=lambda v: v.get("Port", ""))
    want = sorted([_expected(lsrv, lsrv.port, "HTTP", ""),
                   _expected(lsrv, lsrv.tls_port, "HTTPS",
                             lsrv.thumbprint)],
                  key=lambda v: v["Port"])
    assert len(got) == 2, got
    for g, w in zip(got, want):
        for k, val in w.items():
            assert g.get(k) == val, (k, g)
    assert str(lsrv.static_port) not in [g.get("Port") for g in got]


def test_listener_over_tls(lsrv, users):
    """The same list through the TLS listener."""
    c = H.Connection(lsrv.tls_port, tls=True)
    try:
        xml, _ = H.enumerate_request(LNS, optimize=True, max_elements=100)
        r = c.request("POST", "/wsman", xml,
                      [("Authorization", H.basic("alice",
                                                 users["alice"][0])),
                       ("Content-Type", H.SOAP_CT)])
    finally:
        c.close()
    page = H.EnumPage(r, pull=False)
    assert page.end and len(page.items) == 2
    ports = sorted(H.props(i)["Port"] for i in page.items)
    assert ports == sorted([str(lsrv.port), str(lsrv.tls_port)])


def test_listener_get_by_keys(lsrv, users):
    client = H.Client(lsrv.port, users)
    xml, _ = H.get_request(LNS, {"Address": "127.0.0.1",
                                 "Transport": "HTTPS"})
    r = client.post(xml)
    assert r.status == 200, r
    obj = H.body_child(r)
    assert obj.tag == "{%s}Listener" % LNS
    v = H.props(obj)
    assert v["Port"] == str(lsrv.tls_port)
    assert v["CertificateThumbprint"] == lsrv.thumbprint


def test_listener_epr_selectors(lsrv, users):
    client = H.Client(lsrv.port, users)
    items, _ = H.enumerate_all(client, LNS, mode="EnumerateEPR")
    keys = sorted((s.get("Address"), s.get("Transport"))
                  for _, uri, s in map(H.epr, items))
    assert keys == [("127.0.0.1", "HTTP"), ("127.0.0.1", "HTTPS")]


WILDCARD_HTTP = """
    server {
        listen @PORT@;
        location /wsman { wsman; wsman_auth basic;
                          wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on; }
    }
"""


def test_listener_wildcard_address(nginx_factory, users):
    n = nginx_factory(WILDCARD_HTTP)
    ls = _listeners(n, users)
    assert len(ls) == 1, ls
    v = ls[0]
    assert v["Address"] == "*" and v["Transport"] == "HTTP"
    assert v["Port"] == str(n.port) and v["URLPrefix"] == "wsman"
    assert v["Enabled"] == "true"
    assert v.get("CertificateThumbprint") in (None, "")
    # no server_name: the host name
    assert v["Hostname"] == os.uname().nodename
