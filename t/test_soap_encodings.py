"""Envelopes in other encodings than UTF-8 parse like UTF-8 ones (the
module converts UTF-16 itself and tells libxml2 to ignore the declaration
then; libxml2 converts ISO-8859-1), one after the other on the same
kept-alive connection, so on a reused parser context (whose options
libxml2 only ever adds to)."""

import pytest

import wsman_helpers as H


def _bodies():
    xml, _ = H.config_get()
    xml = xml.replace('<w:Locale mustUnderstand="false" xml:lang="en-US"/>',
                      '<w:Locale mustUnderstand="false" xml:lang="en-\u00e9"/>')
    decl = '<?xml version="1.0" encoding="utf-8"?>'
    assert xml.startswith(decl)
    rest = xml[len(decl):]
    return [
        ("utf-8", xml.encode()),
        ("utf-16le BOM", b"\xff\xfe" + (
            '<?xml version="1.0" encoding="UTF-16"?>' + rest)
         .encode("utf-16-le")),
        ("utf-16be BOM", b"\xfe\xff" + (
            '<?xml version="1.0" encoding="UTF-16"?>' + rest)
         .encode("utf-16-be")),
        ("iso-8859-1", ('<?xml version="1.0" encoding="ISO-8859-1"?>'
                        + rest).encode("latin-1")),
        ("no declaration", rest.encode()),
    ]


@pytest.mark.parametrize("rounds", [2])
def test_encodings_on_one_connection(client, rounds):
    c = H.Connection(client.port)
    try:
        for _ in range(rounds):
            for name, body in _bodies():
                r = c.request("POST", "/wsman", body, {
                    "Authorization": client.auth(),
                    "Content-Type": H.SOAP_CT})
                assert r.status == 200, (name, r)
                assert H.body_child(r).tag == H.q("cfg", "Config"), name
    finally:
        c.close()


# ------------------------------------------------ answers in UTF-16 [8] --
# openwsman's `wsman -j UTF-16` and Windows Event Forwarding sources send
# charset=UTF-16 and read the answer as UTF-16; Windows answers in the
# request's encoding, UTF-16LE with a BOM.

import subprocess  # noqa: E402

BOMS = {"utf-16": b"\xff\xfe", "utf-16le": b"\xff\xfe",
        "utf-16be": b"\xfe\xff"}


def _utf16(xml, charset):
    decl = '<?xml version="1.0" encoding="utf-8"?>'
    if xml.startswith(decl):
        xml = '<?xml version="1.0" encoding="UTF-16"?>' + xml[len(decl):]
    codec = "utf-16-be" if charset.lower() == "utf-16be" else "utf-16-le"
    return BOMS[charset.lower()] + xml.encode(codec)


def _strict_utf16(resp, charset):
    """The answer is labelled and encoded as asked, BOM first, and decodes
    strictly; returns a Response with the text as UTF-8 for the parsers."""
    ct = resp.header("Content-Type") or ""
    assert ct.lower().replace(" ", "").endswith(
        "charset=%s" % charset.lower()), ct
    assert resp.body.startswith(BOMS[charset.lower()]), resp.body[:20]
    codec = "utf-16-be" if charset.lower() == "utf-16be" else "utf-16-le"
    text = resp.body[2:].decode(codec, errors="strict")
    assert "\ufeff" not in text
    assert "encoding=\"utf-8\"" not in text.lower()
    return H.Response(resp.status, [("Content-Type", H.SOAP_CT)],
                      text.encode())


@pytest.mark.parametrize("charset", ["UTF-16", "UTF-16LE", "UTF-16BE"])
def test_utf16_request_gets_utf16_answer(client, charset):
    xml, mid = H.config_get()
    r = client.post(_utf16(xml, charset),
                    content_type="application/soap+xml;charset=%s" % charset)
    assert r.status == 200, r
    r8 = _strict_utf16(r, charset)
    assert H.body_child(r8).tag == H.q("cfg", "Config")
    assert H.header_text(r8, "a", "RelatesTo") == mid
    # and the raw bytes are a document any XML parser reads as they are
    assert H.parse(r).tag == H.q("s", "Envelope")


def test_utf16_fault_is_utf16(client):
    xml, _ = H.config_get(resource_uri="http://example.com/no/such/thing")
    r = client.post(_utf16(xml, "UTF-16"),
                    content_type="application/soap+xml;charset=UTF-16")
    H.assert_fault(_strict_utf16(r, "UTF-16"), 500)


def test_utf16_fault_before_parsing_is_utf16(client):
    """Too large for /small (8k): refused unparsed, still in UTF-16."""
    xml, _ = H.config_get(headers="<x:P xmlns:x='urn:x'>%s</x:P>"
                          % ("p" * 9000))
    r = client.post(_utf16(xml, "UTF-16"), path="/small",
                    content_type="application/soap+xml; charset=\"utf-16\"")
    f = H.assert_fault(_strict_utf16(r, "utf-16"), 500)
    assert f.subcode == (H.NS["w"], "EncodingLimit"), f


def test_utf8_request_still_utf8(client):
    r = client.post(H.config_get()[0])
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/soap+xml;charset=UTF-8"
    assert not r.body.startswith(b"\xff\xfe")


def test_utf16_with_curl(server, users, tmp_path):
    """curl as openwsman's `wsman -j UTF-16` sends it."""
    xml, _ = H.config_get()
    path = tmp_path / "req.xml"
    path.write_bytes(_utf16(xml, "UTF-16"))
    out = subprocess.run(
        ["curl", "-sS", "-D", "-", "-o", str(tmp_path / "resp"),
         "-u", "alice:%s" % users["alice"][0],
         "-H", "Content-Type: application/soap+xml;charset=UTF-16",
         "--data-binary", "@%s" % path, server.url()],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "charset=UTF-16" in out.stdout, out.stdout
    body = (tmp_path / "resp").read_bytes()
    r8 = _strict_utf16(H.Response(200, [("Content-Type",
                                         "application/soap+xml;"
                                         "charset=UTF-16")], body),
                       "UTF-16")
    assert H.body_child(r8).tag == H.q("cfg", "Config")


def test_utf16_sealed_ntlm(gss_server, ntlm_users):
    """Sealed with NTLM, OriginalContent charset=UTF-16: the sealed answer
    is UTF-16 and its OriginalContent says so."""
    import struct
    import wsman_gss as G
    s = G.Session(gss_server.port, "/enc",
                  gss=G.GssClient("ntlm", user="bob",
                                  password="BobPassw0rd!"))
    try:
        assert s.authenticate().status == 200
        xml, mid = H.config_get()
        plain = _utf16(xml, "UTF-16")
        header, data = s.gss.seal(plain)
        body = (G.BOUNDARY + b"\r\n\tContent-Type: " + G.PROTO_SPNEGO.encode()
                + b"\r\n\tOriginalContent: type=application/soap+xml;"
                b"charset=UTF-16;Length=" + str(len(plain)).encode()
                + b"\r\n" + G.BOUNDARY + b"\r\n"
                b"\tContent-Type: application/octet-stream\r\n"
                + struct.pack("<I", len(header)) + header + data
                + G.BOUNDARY + b"--\r\n")
        r = s.post(body, content_type=G.encrypted_content_type())
        assert r.status == 200, r
        m = G._PART1.match(r.body)
        assert m and m.group("type").lower() == \
            b"application/soap+xml;charset=utf-16", r.body[:200]
        answer = G.decrypt_response(s.gss, r)
        r8 = _strict_utf16(H.Response(200, [
            ("Content-Type", "application/soap+xml;charset=UTF-16")],
            answer), "UTF-16")
        assert H.body_child(r8).tag == H.q("cfg", "Config")
        assert H.header_text(r8, "a", "RelatesTo") == mid
    finally:
        s.close()


def test_utf16_answer_fits_max_envelope_size(client, sleepers):
    """w:MaxEnvelopeSize counts the bytes the client receives: in UTF-16
    a batch of processes is cut at half as many UTF-8 bytes."""
    xml, _ = H.enumerate_request(H.class_uri("CIM_Process"), optimize=True,
                                 max_elements=1000, max_envelope_size=8192)
    r8 = client.post(xml)
    assert r8.status == 200, r8
    r = client.post(_utf16(xml, "UTF-16"),
                    content_type="application/soap+xml;charset=UTF-16")
    assert r.status == 200, r
    assert len(r.body) <= 8192, len(r.body)
    page = H.EnumPage(_strict_utf16(r, "UTF-16"), pull=False)
    assert 1 <= len(page.items) < len(H.EnumPage(r8, pull=False).items)
