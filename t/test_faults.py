"""Faults: structure, dispatch faults, malformed and hostile XML, fault
logging."""

import os
import time

import pytest

import wsman_helpers as H


def _check_fault_shape(r, status):
    f = H.assert_fault(r, status=status)
    assert r.header("Content-Type") == H.SOAP_CT
    assert f.code[0] == H.NS["s"]
    assert f.code[1] in ("Sender", "Receiver", "MustUnderstand",
                         "VersionMismatch", "DataEncodingUnknown")
    assert f.action in H.FAULT_ACTIONS, f.action
    root = f.root
    mid = root.find("s:Header/a:MessageID", H.NS)
    assert mid is not None and H.UUID_RE.match(mid.text)
    to = root.find("s:Header/a:To", H.NS)
    assert to is not None and to.text == H.ANONYMOUS
    assert f.element.find("s:Reason/s:Text", H.NS) is not None
    return f


def test_action_not_supported(client):
    xml, mid = H.envelope(action="http://example.com/bogus")
    r = client.post(xml)
    f = _check_fault_shape(r, 500)
    assert f.subcode == (H.NS["a"], "ActionNotSupported"), f
    assert f.code == (H.NS["s"], "Sender"), f
    assert f.wsman_code == H.CODE_ACTION_NOT_SUPPORTED, f
    assert f.relates_to == mid


def test_destination_unreachable(client):
    xml, mid = H.envelope(resource_uri="http://example.com/nothing")
    r = client.post(xml)
    f = _check_fault_shape(r, 500)
    assert f.subcode == (H.NS["a"], "DestinationUnreachable"), f
    assert f.code == (H.NS["s"], "Sender"), f
    assert f.wsman_code == H.CODE_DESTINATION_UNREACHABLE, f
    assert f.relates_to == mid


def test_missing_resource_uri_on_get(client):
    xml, _ = H.envelope(resource_uri=None)
    r = client.post(xml)
    assert r.status == 500, r
    H.assert_fault(r)
    assert b"MaxEnvelopeSizekb" not in r.body


def test_config_uri_prefix_is_not_config(client):
    xml, _ = H.envelope(resource_uri=H.CONFIG_URI + "x")
    r = client.post(xml)
    f = H.assert_fault(r, status=500)
    assert f.subcode == (H.NS["a"], "DestinationUnreachable"), f


def test_fault_wsman_fault_detail_namespace(client):
    xml, _ = H.envelope(action="http://example.com/bogus")
    r = client.post(xml)
    f = H.assert_fault(r, status=500)
    assert f.wsman_fault is not None
    assert f.wsman_fault.get("Code").isdigit()


# ------------------------------------------------------ malformed XML ---

MALFORMED = {
    "not_xml": b"this is not xml at all",
    "truncated": H.config_get()[0][:-20].encode(),
    "mismatched_tags": b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/'
                       b'soap-envelope"><s:Body></s:Header></s:Envelope>',
    "unbound_prefix": b"<s:Envelope><s:Body/></s:Envelope>",
    "root_not_envelope": ('<s:Body xmlns:s="%s"/>' % H.NS["s"]).encode(),
    "envelope_wrong_ns": b'<s:Envelope xmlns:s="urn:wrong"><s:Body/>'
                         b'</s:Envelope>',
    "no_body": ('<s:Envelope xmlns:s="%s"><s:Header/></s:Envelope>'
                % H.NS["s"]).encode(),
    "two_roots": ('<s:Envelope xmlns:s="%s"><s:Body/></s:Envelope><x/>'
                  % H.NS["s"]).encode(),
    "bad_utf8": ('<s:Envelope xmlns:s="%s"><s:Body/></s:Envelope>'
                 % H.NS["s"]).encode().replace(b"<s:Body/>",
                                               b"<s:Body>\xff\xfe</s:Body>"),
    "body_before_header": ('<s:Envelope xmlns:s="%s"><s:Body/><s:Header/>'
                           '</s:Envelope>' % H.NS["s"]).encode(),
    "two_bodies": ('<s:Envelope xmlns:s="%s"><s:Body/><s:Body/></s:Envelope>'
                   % H.NS["s"]).encode(),
    "two_headers": ('<s:Envelope xmlns:s="%s"><s:Header/><s:Header/><s:Body/>'
                    '</s:Envelope>' % H.NS["s"]).encode(),
    "element_after_body": ('<s:Envelope xmlns:s="%s"><s:Body/><s:X/>'
                           '</s:Envelope>' % H.NS["s"]).encode(),
    "nul_byte": ('<s:Envelope xmlns:s="%s"><s:Body/></s:Envelope>'
                 % H.NS["s"]).encode().replace(b"<s:Body/>",
                                               b"<s:Body>\x00</s:Body>"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_is_400_sender_fault(client, name):
    r = client.post(MALFORMED[name])
    f = H.assert_fault(r, status=400)
    if name in ("root_not_envelope", "envelope_wrong_ns"):
        # SOAP 1.2 part 1, 5.4.6: a root that is not {soap-envelope}Envelope
        # may be reported as VersionMismatch
        assert f.code in ((H.NS["s"], "Sender"),
                          (H.NS["s"], "VersionMismatch")), f
    else:
        assert f.code == (H.NS["s"], "Sender"), f


def test_soap11_envelope_is_version_mismatch(client):
    xml, _ = H.config_get()
    xml = xml.replace(H.NS["s"], H.NS["s11"])
    r = client.post(xml)
    f = H.assert_fault(r, status=400)
    assert f.code == (H.NS["s"], "VersionMismatch"), f


# ----------------------------------------------------- hostile XML ------

def test_xxe_in_message_id_refused(client):
    xml, _ = H.config_get(message_id="&e;")
    xml = xml.replace('<?xml version="1.0" encoding="utf-8"?>',
                      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                      '"file:///etc/passwd">]>')
    r = client.post(xml)
    H.assert_fault(r, status=400)
    assert b"root:" not in r.body


def test_xxe_in_resource_uri_refused(client):
    xml, _ = H.config_get()
    xml = xml.replace(">%s<" % H.CONFIG_URI, ">&e;<")
    xml = xml.replace('<?xml version="1.0" encoding="utf-8"?>',
                      '<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY e '
                      'SYSTEM "file:///etc/passwd">]>')
    r = client.post(xml)
    H.assert_fault(r, status=400)
    assert b"root:" not in r.body


def test_parameter_entity_xxe_refused(client):
    xml, _ = H.config_get()
    xml = xml.replace('<?xml version="1.0" encoding="utf-8"?>',
                      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM '
                      '"file:///etc/passwd"> %p;]>')
    r = client.post(xml)
    H.assert_fault(r, status=400)
    assert b"root:" not in r.body


def test_internal_doctype_refused(client):
    xml, _ = H.config_get()
    xml = xml.replace('<?xml version="1.0" encoding="utf-8"?>',
                      '<?xml version="1.0"?><!DOCTYPE s:Envelope>')
    r = client.post(xml)
    H.assert_fault(r, status=400)


def test_billion_laughs_answered_fast(client):
    ents = ['<!ENTITY l0 "lolololololololololol">']
    for i in range(1, 12):
        ents.append('<!ENTITY l%d "%s">' % (i, ("&l%d;" % (i - 1)) * 10))
    xml, _ = H.config_get(message_id="&l11;")
    xml = xml.replace('<?xml version="1.0" encoding="utf-8"?>',
                      '<?xml version="1.0"?><!DOCTYPE x [%s]>'
                      % "".join(ents))
    t0 = time.monotonic()
    r = client.post(xml, timeout=30)
    elapsed = time.monotonic() - t0
    H.assert_fault(r, status=400)
    assert elapsed < 2.5, "entity bomb took %.1fs" % elapsed
    assert len(r.body) < 64 * 1024


def test_quadratic_blowup_refused(client):
    big = "A" * 4000
    xml, _ = H.config_get(message_id="&a;" * 1000)
    xml = xml.replace('<?xml version="1.0" encoding="utf-8"?>',
                      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "%s">]>'
                      % big)
    r = client.post(xml, timeout=30)
    H.assert_fault(r, status=400)
    assert len(r.body) < 64 * 1024


def test_deep_nesting_refused(client):
    depth = 10000
    body = "<z:n xmlns:z=\"urn:z\">" + "<z:n>" * (depth - 1) + \
        "</z:n>" * depth
    xml, _ = H.config_get()
    xml = xml.replace("<s:Body></s:Body>", "<s:Body>%s</s:Body>" % body)
    r = client.post(xml, timeout=30)
    H.assert_fault(r, status=400)
    # the server is still alive
    xml, _ = H.config_get()
    assert client.post(xml).status == 200


def test_deep_nesting_in_header_refused(client):
    depth = 5000
    hdr = "<z:n xmlns:z=\"urn:z\">" + "<z:n>" * (depth - 1) + \
        "</z:n>" * depth
    xml, _ = H.config_get(headers=hdr)
    r = client.post(xml, timeout=30)
    H.assert_fault(r, status=400)


def test_undefined_entity_is_400(client):
    xml, _ = H.config_get(message_id="uuid:&nothere;")
    r = client.post(xml)
    H.assert_fault(r, status=400)


def test_predefined_entities_still_work(client):
    # &amp; etc. are not DTD entities; they must keep working
    mid = "uuid:1&amp;2&lt;3"
    xml, _ = H.config_get(message_id=mid)
    r = client.post(xml)
    assert r.status == 200, r
    assert H.header_text(r, "a", "RelatesTo") == "uuid:1&2<3"


def test_xinclude_not_processed(client):
    xml, _ = H.config_get(
        message_id='<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                   'href="file:///etc/passwd" parse="text"/>')
    r = client.post(xml)
    assert b"root:" not in r.body


def test_many_attributes_and_huge_text_survive(client):
    attrs = " ".join('a%d="v"' % i for i in range(2000))
    hdr = '<z:Frob xmlns:z="urn:z" %s>%s</z:Frob>' % (attrs, "t" * 200000)
    xml, _ = H.config_get(headers=hdr)
    r = client.post(xml, timeout=30)
    assert r.status == 500, r
    assert H.parse(r).tag == H.q("s", "Envelope")


# ---------------------------------------------------------- logging -----

FAULT_CASES = {
    "ActionNotSupported": lambda: H.envelope(
        action="http://example.com/bogus")[0],
    "DestinationUnreachable": lambda: H.envelope(
        resource_uri="http://example.com/nothing")[0],
    "not-well-formed": lambda: "<oops",
    "MustUnderstand": lambda: H.config_get(
        headers='<z:F xmlns:z="urn:z" mustUnderstand="true"/>')[0],
    "bad-OperationTimeout": lambda: H.config_get(
        operation_timeout="PTXS")[0],
    "VersionMismatch": lambda: H.config_get()[0].replace(H.NS["s"],
                                                         H.NS["s11"]),
    "doctype": lambda: H.config_get()[0].replace(
        '<?xml version="1.0" encoding="utf-8"?>', "<!DOCTYPE x>"),
    "missing-Action": lambda: H.config_get(action=None)[0],
}


@pytest.mark.parametrize("case", sorted(FAULT_CASES))
def test_every_fault_logged_at_info(server, client, case):
    """Each fault leaves an [info] line naming it (its subcode, or its
    code when it has none)."""
    off = server.log_size()
    r = client.post(FAULT_CASES[case]())
    f = H.assert_fault(r)
    name = (f.subcode or f.code)[1]
    line = H.wait_for_line(server.error_log,
                           lambda l: "[info]" in l and name in l,
                           offset=off)
    assert line is not None, (name, server.read_log(off))


def test_encoding_limit_logged(server, client):
    off = server.log_size()
    r = client.post(b"<" * 9000, path="/small")
    H.assert_fault(r, status=500, subcode=("w", "EncodingLimit"))
    line = H.wait_for_line(server.error_log,
                           lambda l: "[info]" in l and "EncodingLimit" in l,
                           offset=off)
    assert line is not None, server.read_log(off)


def test_access_log_variables_success(server, client):
    off = H.file_size(server.wsman_log)
    xml, _ = H.config_get()
    assert client.post(xml, user="alice").status == 200
    line = H.wait_for_line(server.wsman_log,
                           lambda l: H.ACTION_GET in l, offset=off)
    assert line is not None, open(server.wsman_log).read()[-2000:]
    action, uri, user, fault = line.split("|")
    assert action == H.ACTION_GET
    assert uri == H.CONFIG_URI
    assert user == "alice"
    assert fault in ("", "-")


def test_access_log_variables_fault(server, client):
    off = H.file_size(server.wsman_log)
    xml, _ = H.envelope(action="http://example.com/bogus-logged")
    H.assert_fault(client.post(xml, user="bob"), status=500)
    line = H.wait_for_line(server.wsman_log,
                           lambda l: "bogus-logged" in l, offset=off)
    assert line is not None
    action, uri, user, fault = line.split("|")
    assert action == "http://example.com/bogus-logged"
    assert uri == H.CONFIG_URI
    assert user == "bob"
    assert "ActionNotSupported" in fault


def test_access_log_unauthenticated_has_no_user(server, client):
    off = H.file_size(server.wsman_log)
    xml, _ = H.envelope(action="http://example.com/unauth-logged")
    r = client.post(xml, user="mallory", password="x")
    assert r.status == 401
    # wait for the line of this request (the log is written after the
    # response); the user was not authenticated, so it must not appear
    assert H.wait_for_line(server.wsman_log, lambda l: True, offset=off)
    with open(server.wsman_log, "rb") as f:
        f.seek(off)
        new = f.read().decode(errors="replace")
    for line in new.splitlines():
        assert line.split("|")[2] in ("", "-"), line


@pytest.mark.parametrize("where", ["action", "resource_uri"])
def test_error_log_cannot_be_forged_through_headers(server, client, where):
    """Client-controlled strings (an authenticated caller's Action or
    ResourceURI) are written to the error log; a newline in them must not
    start a new, forged log line."""
    forged = "http://e.com/x\n2001/01/01 00:00:00 [notice] 1#1: FORGED-LINE"
    off = server.log_size()
    kw = {where: forged.replace("\n", "&#10;")}
    xml, _ = H.envelope(**kw)
    r = client.post(xml)
    H.assert_fault(r, status=500)
    # the string is logged (else there is nothing to check) ...
    assert H.wait_for_line(server.error_log, lambda l: "FORGED-LINE" in l,
                           offset=off), server.read_log(off)
    # ... inside the line of the request, never as one of its own
    for line in server.read_log(off).splitlines():
        assert not line.startswith("2001/01/01"), line


def _seeds():
    import glob
    seeds = [H.config_get()[0].encode(), H.IDENTIFY.encode(),
             H.config_get(pfx={"s": "env", "a": "wsa", "w": "wsman"},
                          headers='<w:SelectorSet><w:Selector Name="ShellId">'
                                  'X</w:Selector></w:SelectorSet>')[0]
             .encode()]
    for f in sorted(glob.glob(os.path.join(H.CAPTURES,
                                           "*-plain.xml")))[:12]:
        with open(f, "rb") as fh:
            seeds.append(fh.read())
    return seeds


TOKENS = [b"<", b">", b"&", b"&amp;", b"<![CDATA[", b"]]>", b"<!--", b"-->",
          b"\x00", b"\xff", b"\xc3", b'"', b"'", b"xmlns:s=\"\"",
          b"xmlns=\"urn:x\"", b"s:mustUnderstand=\"true\"", b"</s:Body>",
          b"<s:Header>", b"<?xml version=\"1.0\"?>", b"&#0;", b"&#x110000;",
          b":", b"a:", b"\r\n", b" " * 1000]


@pytest.mark.parametrize("seed_round", range(int(os.environ.get("WSMAN_FUZZ_ROUNDS", "6"))))
def test_mutated_messages_never_crash(client, seed_round):
    import random
    rnd = random.Random(1234 + seed_round)
    seeds = _seeds()
    for i in range(60):
        data = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 4)):
            op = rnd.randrange(4)
            pos = rnd.randrange(len(data) + 1)
            if op == 0 and data:
                data[min(pos, len(data) - 1)] = rnd.randrange(256)
            elif op == 1:
                data[pos:pos] = rnd.choice(TOKENS)
            elif op == 2:
                end = min(len(data), pos + rnd.randint(1, 200))
                del data[pos:end]
            else:
                end = min(len(data), pos + rnd.randint(1, 200))
                data[pos:pos] = data[pos:end] * rnd.randint(1, 5)
        r = client.post(bytes(data), timeout=10)
        assert r.status in (200, 400, 500), (r, bytes(data)[:300])
        if r.status != 200:
            H.assert_fault(r)
        elif r.body:
            assert H.parse(r).tag == H.q("s", "Envelope")
    xml, _ = H.config_get()
    assert client.post(xml).status == 200


def test_dispatch_answers_each_uri_on_one_worker(nginx_factory):
    """A worker remembers the plug-in and class of the last resource URI
    it dispatched (src/engine/ngx_wsman_dispatch.c): a URI of the same
    length with other bytes, or another spelling, is looked up again."""
    from conftest import MAIN_HTTP, USERS
    n = nginx_factory(MAIN_HTTP, workers=1)
    client = H.Client(n.port, USERS)
    other = H.CONFIG_URI[:-1] + "X"            # same length, not config
    for uri, ok in ((H.CONFIG_URI, True), (other, False),
                    (H.CONFIG_URI, True), (H.CONFIG_URI.upper(), True),
                    (other, False), (other.upper(), False),
                    (H.CONFIG_URI, True)):
        xml, _ = H.envelope(resource_uri=uri)
        r = client.post(xml)
        if ok:
            assert r.status == 200 and b"MaxEnvelopeSizekb" in r.body, \
                (uri, r)
        else:
            f = H.assert_fault(r, status=500)
            assert f.subcode == (H.NS["a"], "DestinationUnreachable"), \
                (uri, f)
