"""Client certificate authentication (secprofile/https/mutual) mapped to
local users by wsman_cert_map, with curl and masterzen/winrm's
certificate transport."""

import subprocess

import pytest

import wsman_helpers as H

CERT_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@ ssl;
        ssl_certificate @PKI@/server.pem;
        ssl_certificate_key @PKI@/server.key;
        ssl_client_certificate @PKI@/ca.pem;
        ssl_verify_client optional;
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_user_file @USERFILE@;
        location /wsman {
            wsman;
            wsman_auth certificate basic;
            # UPN SAN (thumbprint in upper case)
            wsman_cert_map subject=alice@wsman.test issuer=@CA@ user=alice;
            # no SAN: the subject CN; thumbprint in lower case
            wsman_cert_map subject=carol issuer=@ca@ user=carol;
            # right subject, wrong issuer: never matches
            wsman_cert_map subject=dave@example.org issuer=@ROGUE@ user=dave;
        }
        location /wild {
            wsman;
            wsman_auth certificate;
            wsman_cert_map subject=*@example.org issuer=@CA@ user=erin;
        }
        location /scoped {
            wsman;
            wsman_auth certificate;
            wsman_cert_map subject=alice@wsman.test issuer=@CA@ user=alice
                           uri=http://schemas.example.org/only/this;
        }
    }
"""


@pytest.fixture(scope="module")
def cert_server(nginx_factory, pki):
    return nginx_factory(pki.conf(CERT_HTTP))


def _curl(server, pki, cert=None, auth=H.PROFILE_HTTPS_MUTUAL,
           path="/wsman", xml=None):
    if xml is None:
        xml, _ = H.config_get()
    cmd = ["curl", "-sS", "-k", "-o", "-", "-w", "\n%{http_code}",
           "-H", "Content-Type: " + H.SOAP_CT, "--data-binary", "@-"]
    if auth:
        cmd += ["-H", "Authorization: " + auth]
    if cert:
        cmd += ["--cert", pki.p(cert + ".pem"), "--key", pki.p(cert + ".key")]
    cmd.append("https://localhost:%d%s" % (server.port, path))
    p = subprocess.run(cmd, input=xml.encode(), capture_output=True,
                       timeout=30)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code or 0), body, p


def _config(body):
    return H.body_child(H.Response(200, [], body)).tag == H.q("cfg",
                                                               "Config")


def test_upn_certificate_maps_to_alice(cert_server, pki):
    off = H.file_size(cert_server.wsman_log)
    code, body, p = _curl(cert_server, pki, "alice")
    assert code == 200, (body[:400], p.stderr)
    assert _config(body)
    assert "alice" in H.logged_users(cert_server, off, "alice")


def test_cn_only_certificate_maps_by_subject_cn(cert_server, pki):
    off = H.file_size(cert_server.wsman_log)
    code, body, p = _curl(cert_server, pki, "carol")
    assert code == 200, (body[:400], p.stderr)
    assert _config(body)
    assert "carol" in H.logged_users(cert_server, off, "carol")


def test_mapping_with_other_issuer_refused(cert_server, pki):
    code, body, _ = _curl(cert_server, pki, "dave")
    assert code == 401, body[:300]


def test_wildcard_subject(cert_server, pki):
    off = H.file_size(cert_server.wsman_log)
    code, body, _ = _curl(cert_server, pki, "dave", path="/wild")
    assert code == 200, body[:300]
    assert "erin" in H.logged_users(cert_server, off, "erin")
    # alice@wsman.test does not match *@example.org
    code, body, _ = _curl(cert_server, pki, "alice", path="/wild")
    assert code == 401, body[:300]


def test_mapping_limited_to_other_uri_gives_no_config(cert_server, pki):
    code, body, _ = _curl(cert_server, pki, "alice", path="/scoped")
    assert code in (401, 500), body[:300]
    assert not (body and b"Config" in body and code == 200)


def test_unknown_ca_refused(cert_server, pki):
    off = cert_server.log_size()
    code, body, _ = _curl(cert_server, pki, "rogue")
    assert code in (400, 401), body[:300]
    assert b"Config" not in body
    assert cert_server.read_log(off).strip(), "refusal not logged"


def test_mutual_header_without_certificate_refused(cert_server, pki):
    off = cert_server.log_size()
    code, body, _ = _curl(cert_server, pki, None)
    assert code == 401, body[:300]
    assert H.wait_for_line(cert_server.error_log,
                           lambda l: "certificate" in l.lower(), offset=off)


def test_certificate_without_mutual_header_is_not_used(cert_server, pki):
    """A client certificate alone does not authenticate; the request
    must ask for the https/mutual profile."""
    code, body, _ = _curl(cert_server, pki, "alice", auth=None)
    assert code == 401, body[:300]


def test_basic_still_works_next_to_certificates(cert_server, pki, users):
    code, body, _ = _curl(cert_server, pki, None,
                          auth=H.basic("alice", users["alice"][0]))
    assert code == 200 and _config(body), body[:300]


def test_401_offers_basic_not_negotiate(cert_server):
    import ssl
    import http.client
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", cert_server.port,
                                    context=ctx, timeout=10)
    xml, _ = H.config_get()
    c.request("POST", "/wsman", xml, {"Content-Type": H.SOAP_CT})
    r = c.getresponse()
    r.read()
    assert r.status == 401
    schemes = [v.strip() for v in r.headers.get_all("WWW-Authenticate")]
    assert 'Basic realm="WSMAN"' in schemes
    assert "Negotiate" not in schemes
    c.close()


def test_go_client_certificate(cert_server, pki, goclient):
    off = H.file_size(cert_server.wsman_log)
    p = subprocess.run([str(goclient), "-host", "localhost", "-port",
                        str(cert_server.port), "-https", "-insecure",
                        "-cert", pki.p("alice.pem"),
                        "-key", pki.p("alice.key")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert _config(p.stdout.encode())
    assert "alice" in H.logged_users(cert_server, off, "alice")


def test_go_client_unknown_ca(cert_server, pki, goclient):
    p = subprocess.run([str(goclient), "-host", "localhost", "-port",
                        str(cert_server.port), "-https", "-insecure",
                        "-cert", pki.p("rogue.pem"),
                        "-key", pki.p("rogue.key")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3, (p.stdout, p.stderr)


@pytest.mark.parametrize("line", [
    "wsman_cert_map subject=alice issuer=1234 user=alice;",
    "wsman_cert_map subject=alice issuer=%s user=;" % ("A" * 40),
    "wsman_cert_map subject=alice issuer=%s;" % ("A" * 40),
    "wsman_cert_map issuer=%s user=alice;" % ("A" * 40),
    "wsman_cert_map subject=alice issuer=%s user=alice bogus=1;"
    % ("G" * 40),
])
def test_bad_cert_map_rejected(nginx_factory, line):
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_auth certificate; %s } }
""" % line, start=False)
    p = n.test_config()
    assert p.returncode != 0, p.stderr
    assert "wsman_cert_map" in p.stderr, p.stderr
