"""Hostile and broken authentication and encryption input on the
Negotiate/Kerberos server (conftest `gss_server`): each is refused with
401/400, logged, and leaves the workers alive (the autouse log guard
fails the test on alert/crit/emerg lines or a crashed worker)."""

import base64
import struct

import pytest

import wsman_gss as G
import wsman_helpers as H

KRB5_OID_DER = b"\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"
SPNEGO_OID_DER = b"\x06\x06\x2b\x06\x01\x05\x05\x02"


def _b64(data):
    return base64.b64encode(data).decode()


def _post(server, auth, path="/wsman", body=None, extra=()):
    if body is None:
        body, _ = H.config_get()
    h = [("Content-Type", H.SOAP_CT)]
    if auth is not None:
        h.append(("Authorization", auth))
    h.extend(extra)
    return H.request(server.port, "POST", path, body, h)


def _still_serving(server):
    s = G.Session(server.port, "/wsman", gss=G.GssClient("krb5"))
    try:
        xml, _ = H.config_get()
        r = s.authenticate(xml)
        assert r.status == 200, r
    finally:
        s.close()


def _warned(server, off):
    """A line about the refusal: [info] for input that is malformed,
    [warn] for a token that is well-formed but does not authenticate."""
    return H.wait_for_line(server.error_log,
                           lambda l: ("[info]" in l or "[warn]" in l)
                           and "wsman:" in l, offset=off)


def _fresh_krb5_token():
    return G.GssClient("krb5").step()


GARBAGE = {
    "ntlm-signature-only": b"NTLMSSP\x00",
    "ntlm-short-type1": b"NTLMSSP\x00\x01\x00\x00\x00",
    "ntlm-type3-junk": b"NTLMSSP\x00\x03\x00\x00\x00" + b"\xff" * 80,
    "ntlm-type3-offsets-out-of-range": (
        b"NTLMSSP\x00\x03\x00\x00\x00" +
        struct.pack("<HHI", 0xffff, 0xffff, 0x7ffffff0) * 6 +
        b"\x05\x82\x88\xa2"),
    "ntlm-type2-from-client": b"NTLMSSP\x00\x02\x00\x00\x00" + b"\0" * 40,
    "krb5-header-junk": b"\x60\x20" + KRB5_OID_DER + b"\x01\x00" +
                        b"\x41" * 19,
    "krb5-length-lies": b"\x60\x84\x7f\xff\xff\xff" + KRB5_OID_DER +
                        b"\x01\x00\x6e\x00",
    "spnego-empty-init": b"\x60\x0a" + SPNEGO_OID_DER + b"\xa0\x00",
    "spnego-bad-mechlist": b"\x60\x14" + SPNEGO_OID_DER +
                           b"\xa0\x0a\x30\x08\xa0\x06\x30\x04\x06\x02\x2b",
    "der-garbage": b"\x30\x82\xff\xff" + b"\x00" * 16,
    "random": bytes(range(256)) * 4,
    "zero": b"\x00",
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_negotiate_token(gss_server, name):
    off = gss_server.log_size()
    r = _post(gss_server, "Negotiate " + _b64(GARBAGE[name]))
    assert r.status == 401, r
    assert b"Config" not in r.body
    assert _warned(gss_server, off), gss_server.read_log(off)


def test_truncated_kerberos_token(gss_server, realm):
    tok = _fresh_krb5_token()
    for cut in (len(tok) // 2, len(tok) - 1, 20):
        off = gss_server.log_size()
        r = _post(gss_server, "Negotiate " + _b64(tok[:cut]))
        assert r.status == 401, (cut, r)
        assert _warned(gss_server, off)
    _still_serving(gss_server)


def test_bit_flipped_kerberos_token(gss_server, realm):
    tok = bytearray(_fresh_krb5_token())
    tok[len(tok) - 30] ^= 0x40         # inside the authenticator cipher
    r = _post(gss_server, "Negotiate " + _b64(bytes(tok)))
    assert r.status == 401, r


@pytest.mark.parametrize("auth", [
    None, "", "Negotiate", "Negotiate ", "Negotiate !!!not*base64!!!",
    "Negotiate ====", "Negotiate YII", "Kerberos", "Kerberos %%%",
    "NTLM " + _b64(b"NTLMSSP\x00\x01\x00\x00\x00" + b"\x00" * 28),
    "Negotiate " + "A" * 6000,
])
def test_malformed_authorization(gss_server, auth):
    r = _post(gss_server, auth)
    assert r.status == 401, r
    assert b"Config" not in r.body


def test_kerberos_scheme_token_on_negotiate_only_syntax(gss_server, realm):
    """/kerb offers only `Kerberos`: a Negotiate header there is not
    accepted."""
    r = _post(gss_server, "Negotiate " + _b64(_fresh_krb5_token()),
              path="/kerb")
    assert r.status == 401, r


def test_replayed_ap_req_on_new_connection(gss_server, realm):
    """The same AP-REQ twice on two connections (the second worker or the
    same one): the replay cache refuses the second, with a log line."""
    tok = _fresh_krb5_token()
    auth = "Negotiate " + _b64(tok)
    r1 = _post(gss_server, auth)
    assert r1.status == 200, r1
    off = gss_server.log_size()
    for _ in range(3):
        r2 = _post(gss_server, auth)
        assert r2.status == 401, r2
        assert b"Config" not in r2.body
    assert H.wait_for_line(gss_server.error_log,
                           lambda l: "GSSAPI authentication failed" in l,
                           offset=off), gss_server.read_log(off)
    _still_serving(gss_server)


# ------------------------------------------------------------ encryption --

def _krb_session(server):
    s = G.Session(server.port, "/enc", gss=G.GssClient("krb5"))
    r = s.authenticate()
    assert r.status == 200, r
    return s


def _ntlm_session(server):
    s = G.Session(server.port, "/enc",
                  gss=G.GssClient("ntlm", user="bob",
                                  password="BobPassw0rd!"))
    r = s.authenticate()
    assert r.status == 200, r
    return s


SESSIONS = {"krb5": _krb_session, "ntlm": _ntlm_session}


def _send_raw(s, body, protocol=G.PROTO_SPNEGO):
    return s.post(body, content_type=G.encrypted_content_type(protocol))


@pytest.mark.parametrize("mech", sorted(SESSIONS))
def test_wrong_signature_is_400(gss_server, realm, ntlm_users, mech):
    s = SESSIONS[mech](gss_server)
    try:
        xml, _ = H.config_get()
        hdr, data = s.gss.seal(xml.encode())
        hdr = bytearray(hdr)
        hdr[-1] ^= 0x01
        off = gss_server.log_size()
        r = _send_raw(s, G.build_encrypted(bytes(hdr), data, len(xml)))
        assert r.status == 400, r
        assert b"Config" not in r.body
        assert _warned(gss_server, off) or H.wait_for_line(
            gss_server.error_log, lambda l: "[info]" in l, offset=off)
    finally:
        s.close()


@pytest.mark.parametrize("mech", sorted(SESSIONS))
def test_tampered_ciphertext_is_400(gss_server, realm, ntlm_users, mech):
    s = SESSIONS[mech](gss_server)
    try:
        xml, _ = H.config_get()
        hdr, data = s.gss.seal(xml.encode())
        data = bytearray(data)
        data[len(data) // 2] ^= 0x80
        r = _send_raw(s, G.build_encrypted(hdr, bytes(data), len(xml)))
        assert r.status == 400, r
    finally:
        s.close()


@pytest.mark.parametrize("delta", [1, -1, 100000])
@pytest.mark.parametrize("mech", sorted(SESSIONS))
def test_wrong_length_is_400(gss_server, realm, ntlm_users, mech, delta):
    s = SESSIONS[mech](gss_server)
    try:
        xml, _ = H.config_get()
        hdr, data = s.gss.seal(xml.encode())
        off = gss_server.log_size()
        r = _send_raw(s, G.build_encrypted(hdr, data, len(xml) + delta))
        assert r.status == 400, r
        assert gss_server.read_log(off).strip() or H.wait_for_line(
            gss_server.error_log, lambda l: True, offset=off)
    finally:
        s.close()


@pytest.mark.parametrize("hlen", [0, 15, 0x7fffffff, 0xffffffff])
def test_lying_header_length_is_400(gss_server, realm, hlen):
    s = _krb_session(gss_server)
    try:
        xml, _ = H.config_get()
        hdr, data = s.gss.seal(xml.encode())
        r = _send_raw(s, G.build_encrypted(hdr, data, len(xml),
                                           header_len=hlen))
        assert r.status == 400, r
    finally:
        s.close()


@pytest.mark.parametrize("mangle", [
    "no-closing-boundary", "no-octet-part", "no-originalcontent",
    "empty", "only-boundary", "truncated-header",
])
def test_broken_multipart_is_400(gss_server, realm, mangle):
    s = _krb_session(gss_server)
    try:
        xml, _ = H.config_get()
        hdr, data = s.gss.seal(xml.encode())
        body = G.build_encrypted(hdr, data, len(xml))
        if mangle == "no-closing-boundary":
            body = body[:body.rindex(G.BOUNDARY)]
        elif mangle == "no-octet-part":
            body = body[:body.index(G.BOUNDARY, 5)] + G.BOUNDARY + b"--\r\n"
        elif mangle == "no-originalcontent":
            body = body.replace(b"\tOriginalContent: ", b"\tX-Other: ")
        elif mangle == "empty":
            body = b""
        elif mangle == "only-boundary":
            body = G.BOUNDARY + b"--\r\n"
        elif mangle == "truncated-header":
            i = body.index(b"octet-stream\r\n") + len(b"octet-stream\r\n")
            body = body[:i + 10]
        r = _send_raw(s, body)
        if mangle == "empty":
            # no body at all is the context-building empty POST
            assert r.status == 200, r
            assert r.body == b"", r
        else:
            assert r.status == 400, r
        assert b"Config" not in r.body
    finally:
        s.close()


def test_encrypted_body_on_fresh_connection_is_400(gss_server, realm):
    """Sealed with a context the server never saw (the handshake ran on
    another connection)."""
    s = _krb_session(gss_server)
    try:
        xml, _ = H.config_get()
        body = G.encrypt(s.gss, xml)
    finally:
        s.close()
    off = gss_server.log_size()
    r = H.request(gss_server.port, "POST", "/enc", body,
                  {"Content-Type": G.encrypted_content_type()})
    assert r.status == 400, r
    assert b"Config" not in r.body
    assert gss_server.read_log(off).strip() or H.wait_for_line(
        gss_server.error_log, lambda l: True, offset=off)


def test_encrypted_body_after_failed_handshake_is_refused(gss_server,
                                                           ntlm_users):
    s = G.Session(gss_server.port, "/enc",
                  gss=G.GssClient("ntlm", user="bob", password="wrong"))
    try:
        assert s.authenticate().status == 401
        xml, _ = H.config_get()
        body = G.build_encrypted(b"\0" * 16, b"x" * len(xml), len(xml))
        r = _send_raw(s, body)
        assert r.status == 400, r
    finally:
        s.close()


def test_kerberos_protocol_mismatch_rejected_or_consistent(gss_server,
                                                           realm):
    """A Negotiate-established context that sends the Kerberos protocol
    label is answered with the same label (never a plaintext response)."""
    s = _krb_session(gss_server)
    try:
        xml, _ = H.config_get()
        body = G.encrypt(s.gss, xml, G.PROTO_KERBEROS)
        r = _send_raw(s, body, G.PROTO_KERBEROS)
        # answered under the label it came with, sealed
        assert r.status == 200, r
        assert G.PROTO_KERBEROS in r.header("Content-Type")
        G.decrypt_response(s.gss, r, G.PROTO_KERBEROS)
    finally:
        s.close()


def test_plaintext_soap_on_encrypted_location_after_ntlm(gss_server,
                                                         ntlm_users):
    s = _ntlm_session(gss_server)
    try:
        xml, _ = H.config_get()
        r = s.post(xml)
        assert r.status == 401, r
        assert b"Config" not in r.body
    finally:
        s.close()
    _still_serving(gss_server)


@pytest.mark.parametrize("auth", ["Negotiate !!!not*base64!!!",
                                  "Basic !!!", "Frobnicate abc"])
def test_malformed_authorization_logged_at_info(gss_server, auth):
    """Client errors are logged at info, as nginx logs them; [warn] stays
    for failed credentials and access denials (audit lines)."""
    off = gss_server.log_size()
    r = _post(gss_server, auth)
    assert r.status == 401, r
    line = H.wait_for_line(gss_server.error_log,
                           lambda l: "wsman:" in l, offset=off)
    assert line is not None and "[info]" in line, gss_server.read_log(off)
    assert "[warn]" not in gss_server.read_log(off)
