"""Basic authentication against the htpasswd-style user file, 401
behaviour, auth ordering and AllowUnencrypted."""

import base64

import pytest

import wsman_helpers as H

KINDS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]


def _ok(r):
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("cfg", "Config"), r


def _is_401(r, schemes=('Basic realm="WSMAN"',)):
    assert r.status == 401, r
    got = [v.strip() for v in r.all("WWW-Authenticate")]
    assert sorted(got) == sorted(schemes), got
    assert b"Envelope" not in r.body and b"soap-envelope" not in r.body, r


@pytest.mark.parametrize("user", KINDS)
def test_each_hash_kind_logs_in(client, users, user):
    xml, _ = H.config_get()
    _ok(client.post(xml, user=user))


@pytest.mark.parametrize("user", KINDS)
def test_each_hash_kind_rejects_wrong_password(client, users, user):
    xml, _ = H.config_get()
    _is_401(client.post(xml, user=user, password=users[user][0] + "x"))


@pytest.mark.parametrize("user", ["alice", "erin", "frank"])
def test_password_prefix_and_extension_rejected(client, users, user):
    pw = users[user][0]
    xml, _ = H.config_get()
    _is_401(client.post(xml, user=user, password=pw[:-1]))
    _is_401(client.post(xml, user=user, password=pw[:3]))
    _is_401(client.post(xml, user=user, password=""))
    _is_401(client.post(xml, user=user, password=pw + pw))


def test_plain_entry_is_not_a_hash_for_other_formats(client, users):
    # {PLAIN}secret must not log in with the literal stored string
    xml, _ = H.config_get()
    _is_401(client.post(xml, user="erin",
                        password="{PLAIN}" + users["erin"][0]))


def test_user_name_case_sensitive(client, users):
    xml, _ = H.config_get()
    _is_401(client.post(xml, user="ALICE", password=users["alice"][0]))


def test_other_users_password_rejected(client, users):
    xml, _ = H.config_get()
    _is_401(client.post(xml, user="alice", password=users["bob"][0]))


@pytest.mark.parametrize("auth", [
    None,
    "",
    "Basic",
    "Basic ",
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b"alicenocolon").decode(),
    "Basic " + base64.b64encode(b":").decode(),
    "Basic " + base64.b64encode(b"nosuchuser:whatever").decode(),
    "Bearer abcdef",
    "Digest username=\"alice\"",
    "Negotiate YIIBAAAA",
    "Kerberos YIIBAAAA",
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual",
    "Basic " + "A" * 6000,
])
def test_bad_authorization_is_401(client, auth):
    xml, _ = H.config_get()
    if auth is None:
        r = client.post(xml, auth=False)
    else:
        r = client.post(xml, auth=False, headers={"Authorization": auth})
    _is_401(r)


def test_basic_scheme_name_case_insensitive(client, users):
    xml, _ = H.config_get()
    raw = base64.b64encode(("alice:" + users["alice"][0]).encode()).decode()
    _ok(client.post(xml, auth="basic " + raw))


def test_nego_401_lists_every_scheme(client):
    xml, _ = H.config_get()
    r = client.post(xml, path="/nego", auth=False)
    _is_401(r, schemes=("Negotiate", "Kerberos", 'Basic realm="WSMAN"'))


def test_nego_location_accepts_basic(client):
    xml, _ = H.config_get()
    _ok(client.post(xml, path="/nego"))


def test_nego_bogus_negotiate_token_is_401(client):
    xml, _ = H.config_get()
    r = client.post(xml, path="/nego",
                    auth="Negotiate " + base64.b64encode(b"\x60\x05garbage")
                    .decode())
    assert r.status == 401, r
    assert b"Envelope" not in r.body


@pytest.mark.parametrize("case", ["content_type", "huge_body", "bad_xml",
                                  "empty_body"])
def test_auth_checked_before_everything(client, case):
    xml, _ = H.config_get()
    kw = {}
    if case == "content_type":
        kw = dict(body=xml, content_type="text/plain")
    elif case == "huge_body":
        kw = dict(body="<" * 9000, path="/small")
    elif case == "bad_xml":
        kw = dict(body="<not-xml")
    else:
        kw = dict(body=b"", headers={"Content-Length": "0"})
    r = client.post(auth=False, **kw)
    _is_401(r)
    r = client.post(password="wrong-password", **kw)
    _is_401(r)


def test_401_logged_with_user_and_address_not_password(server, client):
    secret = "Sup3r-S3cret-Not-In-Log"
    off = server.log_size()
    xml, _ = H.config_get()
    _is_401(client.post(xml, user="mallory", password=secret))
    _is_401(client.post(xml, user="alice", password=secret + "2"))
    line = H.wait_for_line(server.error_log,
                           lambda l: "[warn]" in l and "mallory" in l,
                           offset=off)
    assert line is not None, server.read_log(off)
    assert "127.0.0.1" in line
    line = H.wait_for_line(server.error_log,
                           lambda l: "[warn]" in l and "alice" in l,
                           offset=off)
    assert line is not None, server.read_log(off)
    whole = server.read_log(0)
    assert secret not in whole


def test_passwords_never_logged(server, client, users):
    xml, _ = H.config_get()
    for u in KINDS:
        client.post(xml, user=u)
        client.post(xml, user=u, password=users[u][0] + "!")
    whole = server.read_log(0)
    for u in KINDS:
        assert users[u][0] not in whole, u
    access = server.wsman_log.read_text() if server.wsman_log.exists() \
        else ""
    for u in KINDS:
        assert users[u][0] not in access, u


def test_strict_refuses_basic_over_plain_http(server, client):
    off = server.log_size()
    xml, _ = H.config_get()
    r = client.post(xml, path="/strict")
    _is_401(r)
    line = H.wait_for_line(server.error_log,
                           lambda l: "[info]" in l
                           and "unencrypted" in l.lower(), offset=off)
    assert line is not None, server.read_log(off)
    assert client.users["alice"][0] not in server.read_log(off)


def test_strict_refuses_without_credentials(client):
    xml, _ = H.config_get()
    _is_401(client.post(xml, path="/strict", auth=False))


def test_authenticated_config_get_on_wsman_after_failures(client):
    # failures do not poison later requests (no per-worker state leak)
    xml, _ = H.config_get()
    for _ in range(3):
        _is_401(client.post(xml, password="nope"))
    for _ in range(4):
        _ok(client.post(xml))


def _ssha(password, salt=b"s4lt!"):
    import hashlib
    d = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(d + salt).decode()


@pytest.fixture(scope="module")
def crlf_server(nginx_factory, tmp_path_factory, users):
    """A user file written on Windows: CRLF line ends, comments, blank
    lines, a trailing colon, an {SSHA} entry and an unsupported hash."""
    import subprocess
    d = tmp_path_factory.mktemp("crlf")
    h6 = subprocess.run(["/usr/bin/openssl", "passwd", "-6", "-stdin"],
                        input=b"Win-Pw-1", capture_output=True,
                        check=True).stdout.decode().strip()
    lines = [
        "# comment line",
        "",
        "winuser:%s" % h6,
        "trail:{PLAIN}Trail-Pw:",
        "salty:%s:admins" % _ssha("Salty-Pw"),
        "weird:$9$unsupported$hash",
        "nohash:",
        "last:{PLAIN}Last-Pw",
    ]
    uf = d / "users.crlf"
    uf.write_bytes(("\r\n".join(lines)).encode())   # no final newline
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic; wsman_user_file %s;
                          wsman_allow_unencrypted on;
                          # user-file parsing, not group membership, is
                          # under test here
                          wsman_root_sddl "O:NSG:BAD:P(A;;GA;;;AU)"; }
    }
""" % uf)
    return H.Client(n.port, users)


@pytest.mark.parametrize("user,pw", [("winuser", "Win-Pw-1"),
                                     ("trail", "Trail-Pw"),
                                     ("last", "Last-Pw")])
def test_crlf_user_file(crlf_server, user, pw):
    xml, _ = H.config_get()
    _ok(crlf_server.post(xml, user=user, password=pw))
    _is_401(crlf_server.post(xml, user=user, password=pw + "\r"))


def test_ssha_entry(crlf_server):
    # {SSHA} is accepted by nginx's auth_basic_user_file too
    xml, _ = H.config_get()
    _ok(crlf_server.post(xml, user="salty", password="Salty-Pw"))
    _is_401(crlf_server.post(xml, user="salty", password="Salty-Pw2"))


@pytest.mark.parametrize("user,pw", [("weird", "anything"),
                                     ("weird", "$9$unsupported$hash"),
                                     ("nohash", ""), ("nohash", "x"),
                                     ("#", " comment line")])
def test_unusable_entries_never_log_in(crlf_server, user, pw):
    xml, _ = H.config_get()
    _is_401(crlf_server.post(xml, user=user, password=pw))


def test_basic_is_not_remembered_on_the_connection(client):
    """Basic is per request: after a successful request, the next one on
    the same keep-alive connection without (or with wrong) credentials is
    refused -- no identity carried over from the connection."""
    c = H.Connection(client.port)
    try:
        xml, _ = H.config_get()
        ok = {"Authorization": client.auth(), "Content-Type": H.SOAP_CT}
        r = c.request("POST", "/wsman", xml, ok)
        _ok(r)
        r = c.request("POST", "/wsman", xml, {"Content-Type": H.SOAP_CT})
        _is_401(r)
        if c.closed:
            return
        r = c.request("POST", "/wsman", xml, {
            "Authorization": H.basic("alice", "wrong"),
            "Content-Type": H.SOAP_CT})
        _is_401(r)
        if c.closed:
            return
        r = c.request("POST", "/wsman", b"", {"Content-Length": "0"})
        _is_401(r)
    finally:
        c.close()


def test_identity_not_leaking_between_users_on_connection(server, client,
                                                          users):
    c = H.Connection(client.port)
    try:
        off = H.file_size(server.wsman_log)
        for user in ("alice", "bob", "alice"):
            xml, _ = H.envelope(action="http://example.com/who-%s" % user)
            r = c.request("POST", "/wsman", xml, {
                "Authorization": client.auth(user),
                "Content-Type": H.SOAP_CT})
            assert r.status == 500, r
        for user in ("alice", "bob"):
            line = H.wait_for_line(server.wsman_log,
                                   lambda l: "who-%s|" % user in l,
                                   offset=off)
            assert line is not None
            assert line.split("|")[2] == user, line
    finally:
        c.close()
