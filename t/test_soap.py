"""SOAP envelope handling: response addressing headers, namespaces matched
by URI not prefix, mustUnderstand, OperationTimeout, selectors."""

import pytest

import wsman_helpers as H


def _config_ok(r):
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("cfg", "Config"), r


def test_response_envelope_and_addressing(client):
    xml, mid = H.config_get()
    r = client.post(xml)
    _config_ok(r)
    root = H.parse(r)
    assert root.tag == H.q("s", "Envelope")
    hdr = root.find("s:Header", H.NS)
    assert hdr is not None
    assert hdr.find("a:Action", H.NS).text == H.ACTION_GET_RESPONSE
    assert H.UUID_RE.match(hdr.find("a:MessageID", H.NS).text)
    assert hdr.find("a:To", H.NS).text == H.ANONYMOUS
    assert hdr.find("a:RelatesTo", H.NS).text == mid


def test_message_ids_unique(client):
    seen = set()
    for _ in range(8):
        xml, _ = H.config_get()
        r = client.post(xml)
        _config_ok(r)
        seen.add(H.header_text(r, "a", "MessageID"))
    assert len(seen) == 8


@pytest.mark.parametrize("mid", [
    "uuid:ABCDEF01-2345-6789-ABCD-EF0123456789",
    "uuid:abcdef01-2345-6789-abcd-ef0123456789",
    "urn:uuid:0b3d4c6a-5f7e-4a1b-9c2d-3e4f5a6b7c8d",
])
def test_relates_to_echoed_exactly(client, mid):
    xml, _ = H.config_get(message_id=mid)
    r = client.post(xml)
    _config_ok(r)
    assert H.header_text(r, "a", "RelatesTo") == mid


def test_relates_to_on_fault(client):
    xml, mid = H.envelope(action="http://example.com/bogus")
    r = client.post(xml)
    f = H.assert_fault(r, status=500)
    assert f.relates_to == mid


def test_pywinrm_style_prefixes(client):
    xml, mid = H.config_get(pfx={"s": "env", "a": "wsa", "w": "wsman"})
    r = client.post(xml)
    _config_ok(r)
    assert H.header_text(r, "a", "RelatesTo") == mid


def test_default_namespace_elements(client):
    # no prefixes at all on the addressing headers: default xmlns
    mid = H.new_message_id()
    xml = ('<Envelope xmlns="%s"><Header>'
           '<Action xmlns="%s">%s</Action>'
           '<MessageID xmlns="%s">%s</MessageID>'
           '<ResourceURI xmlns="%s">%s</ResourceURI>'
           '</Header><Body/></Envelope>'
           % (H.NS["s"], H.NS["a"], H.ACTION_GET, H.NS["a"], mid,
              H.NS["w"], H.CONFIG_URI))
    r = client.post(xml)
    _config_ok(r)
    assert H.header_text(r, "a", "RelatesTo") == mid


def test_action_in_wrong_namespace_is_not_the_action(client):
    # right prefix, wrong URI: a:Action here is not WS-Addressing Action
    xml, _ = H.config_get()
    xml = xml.replace('xmlns:a="%s"' % H.NS["a"],
                      'xmlns:a="http://example.com/not-addressing"')
    r = client.post(xml)
    assert r.status == 500, r
    assert H.is_fault(r), r
    assert b"MaxEnvelopeSizekb" not in r.body


def test_resource_uri_in_wrong_namespace_is_not_the_resource(client):
    xml, _ = H.config_get()
    xml = xml.replace('xmlns:w="%s"' % H.NS["w"],
                      'xmlns:w="http://example.com/not-wsman"')
    r = client.post(xml)
    assert r.status == 500, r
    assert H.is_fault(r), r
    assert b"MaxEnvelopeSizekb" not in r.body


@pytest.mark.parametrize("attr", [
    'mustUnderstand="true"',
    's:mustUnderstand="true"',
    'mustUnderstand="1"',
    's:mustUnderstand="1"',
])
def test_unknown_mandatory_header_is_must_understand(client, attr):
    hdr = '<z:Frob xmlns:z="urn:example:frob" %s>1</z:Frob>' % attr
    xml, mid = H.config_get(headers=hdr)
    r = client.post(xml)
    f = H.assert_fault(r, status=(500, 400), code="MustUnderstand")
    assert f.relates_to == mid
    assert b"MaxEnvelopeSizekb" not in r.body


@pytest.mark.parametrize("attr", [
    "",
    'mustUnderstand="false"',
    's:mustUnderstand="false"',
    'mustUnderstand="0"',
    # a mustUnderstand attribute from some other namespace means nothing
    'q:mustUnderstand="true" xmlns:q="urn:other"',
])
def test_unknown_optional_header_ignored(client, attr):
    hdr = '<z:Frob xmlns:z="urn:example:frob" %s>1</z:Frob>' % attr
    xml, _ = H.config_get(headers=hdr)
    _config_ok(client.post(xml))


def test_must_understand_on_nested_element_not_a_header_block(client):
    # only direct children of s:Header are header blocks
    hdr = ('<z:Frob xmlns:z="urn:example:frob"><z:Inner '
           's:mustUnderstand="true">1</z:Inner></z:Frob>')
    xml, _ = H.config_get(headers=hdr)
    _config_ok(client.post(xml))


def test_pywinrm_must_understand_headers_accepted(client):
    # pywinrm: a:ReplyTo/a:Address, w:ResourceURI, w:MaxEnvelopeSize and
    # a:Action all carry unqualified mustUnderstand="true"; plus
    # p:DataLocale mustUnderstand="false"
    hdr = ('<p:DataLocale xmlns:p="%s" mustUnderstand="false" '
           'xml:lang="en-US"/>' % H.NS["p"])
    xml, _ = H.config_get(headers=hdr, pfx={"s": "env"})
    _config_ok(client.post(xml))


def test_option_set_must_understand_accepted(client):
    hdr = ('<w:OptionSet s:mustUnderstand="true">'
           '<w:Option Name="WSMAN_CMDSHELL_OPTION_KEEPALIVE">True</w:Option>'
           '</w:OptionSet>')
    xml, _ = H.config_get(headers=hdr)
    _config_ok(client.post(xml))


def test_missing_action_is_fault(client):
    xml, _ = H.config_get(action=None)
    xml = xml.replace("<s:Body></s:Body>",
                      '<s:Body><x:Foo xmlns:x="urn:x"/></s:Body>')
    r = client.post(xml)
    assert r.status == 500, r
    H.assert_fault(r)


def test_missing_action_empty_body_is_fault(client):
    xml, _ = H.config_get(action=None)
    r = client.post(xml)
    assert r.status == 500, r
    H.assert_fault(r)


@pytest.mark.parametrize("timeout", ["PT60S", "PT0.5S", "P1DT2H", "PT20S",
                                     "PT60.000S", "PT1M30S", "P0DT0H0M5S",
                                     "PT3600S"])
def test_operation_timeout_valid(client, timeout):
    xml, _ = H.config_get(operation_timeout=timeout)
    _config_ok(client.post(xml))


@pytest.mark.parametrize("timeout", ["60", "PTXS", "", "P", "PT", "1S",
                                     "PT-5S", "PT5", "P1Y2X", "PT5S junk"])
def test_operation_timeout_invalid(client, timeout):
    xml, _ = H.config_get(operation_timeout=timeout)
    r = client.post(xml)
    assert r.status == 500, r
    H.assert_fault(r)
    assert b"MaxEnvelopeSizekb" not in r.body


def test_selector_set_does_not_break(client):
    hdr = ('<w:SelectorSet><w:Selector Name="ShellID">abc</w:Selector>'
           '<w:Selector Name="shellid">def</w:Selector></w:SelectorSet>')
    xml, _ = H.config_get(headers=hdr)
    r = client.post(xml)
    assert r.status == 500, r
    root = H.parse(r)
    assert root.tag == H.q("s", "Envelope")


def test_utf8_bom_and_whitespace_accepted(client):
    xml, mid = H.config_get()
    body = b"\xef\xbb\xbf" + xml.encode() + b"\r\n\r\n"
    r = client.post(body)
    _config_ok(r)


def test_header_values_with_surrounding_whitespace(client):
    # WinRM clients that pretty-print XML put newlines around values
    xml, _ = H.config_get()
    xml = xml.replace(">%s<" % H.CONFIG_URI, ">\n  %s\n<" % H.CONFIG_URI)
    xml = xml.replace(">%s<" % H.ACTION_GET, ">\n  %s\n<" % H.ACTION_GET)
    _config_ok(client.post(xml))


def test_cdata_resource_uri(client):
    xml, _ = H.config_get()
    xml = xml.replace(">%s<" % H.CONFIG_URI,
                      "><![CDATA[%s]]><" % H.CONFIG_URI)
    _config_ok(client.post(xml))


@pytest.mark.parametrize("value", [
    "P99999999999999999999D", "PT99999999999999999999.5S",
    "PT0.00000000000000000001S", "P2147483648DT2147483648H",
    "PT" + "9" * 5000 + "S",
])
def test_operation_timeout_extreme_values_do_not_break(client, value):
    xml, mid = H.config_get(operation_timeout=value)
    r = client.post(xml)
    if r.status == 200:
        assert H.body_child(r).tag == H.q("cfg", "Config")
    else:
        H.assert_fault(r, status=(400, 500))
    assert client.post(H.config_get()[0]).status == 200


@pytest.mark.parametrize("value", ["abc", "-1", "0", "99999999999999999999",
                                   ""])
def test_max_envelope_size_header_garbage_does_not_break(client, value):
    xml, _ = H.config_get()
    xml = xml.replace(">153600<", ">%s<" % value)
    r = client.post(xml)
    assert r.status == 500, r
    H.assert_fault(r)


def test_comments_tolerated(client):
    xml, mid = H.config_get()
    xml = xml.replace("<s:Header>", "<s:Header><!-- hello -->")
    xml = xml.replace("<s:Body>", "<!-- between --><s:Body>")
    r = client.post(xml)
    _config_ok(r)
    assert H.header_text(r, "a", "RelatesTo") == mid


@pytest.mark.parametrize("where", ["<s:Header>", "<s:Body>"])
def test_processing_instructions_refused(client, where):
    # SOAP 1.2 (part 1, 5): a message must not contain processing
    # instructions
    xml, mid = H.config_get()
    xml = xml.replace(where, where + "<?pi x?>")
    r = client.post(xml)
    assert r.status == 400, r
    H.assert_fault(r)


def test_text_directly_in_envelope_refused(client):
    xml, mid = H.config_get()
    xml = xml.replace("<s:Body>", "junk<s:Body>")
    r = client.post(xml)
    assert r.status == 400, r
    H.assert_fault(r)
