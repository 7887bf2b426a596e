"""Faults that mislead (issue [8] defect 6), with the requests openwsman's
`wsman` CLI sends (captured from openwsman 2.8.1: a Put of the whole
config/service document and a Get with w:FragmentTransfer), built here and
posted with curl:

- `wsman put …/config/service` sends the whole document it got, one value
  changed: the fault names the directive of the value that differs (not
  the first setting of the document), or says nothing would change;
- `wsman get -F NAME` (w:FragmentTransfer, mustUnderstand) gets the one
  property in <w:XmlFragment>, as Windows answers it; a fragment on an
  operation that does not take one gets w:UnsupportedFeature with the
  FragmentLevelAccess detail, not s:MustUnderstand."""

import subprocess
import uuid
import xml.etree.ElementTree as ET

import pytest

import wsman_helpers as H
from conftest import USERS  # noqa: E402

CFG = H.CONFIG_URI
XPATH_LEVEL = "http://www.w3.org/TR/1999/REC-xpath-19991116"
FRAGMENT_DETAIL = ("http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"
                   "FragmentLevelAccess")
PUT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"
ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"


def openwsman_envelope(action, uri, port, body="", fragment=None,
                       dialect=None):
    """An envelope as openwsman 2.x writes it (wsa/wsman prefixes,
    s:mustUnderstand on the addressing headers)."""
    frag = ""
    if fragment is not None:
        frag = ('<wsman:FragmentTransfer s:mustUnderstand="true"%s>%s'
                '</wsman:FragmentTransfer>'
                % (' Dialect="%s"' % dialect if dialect else "",
                   H.xml_escape(fragment)))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
        '<s:Header><wsa:Action s:mustUnderstand="true">%s</wsa:Action>'
        '<wsa:To s:mustUnderstand="true">http://127.0.0.1:%d/wsman</wsa:To>'
        '<wsman:ResourceURI s:mustUnderstand="true">%s</wsman:ResourceURI>'
        '<wsa:MessageID s:mustUnderstand="true">uuid:%s</wsa:MessageID>'
        '%s<wsa:ReplyTo><wsa:Address>'
        'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous'
        '</wsa:Address></wsa:ReplyTo></s:Header><s:Body%s</s:Envelope>'
        % (action, port, uri, uuid.uuid4(), frag,
           ("/>" if not body else ">%s</s:Body>" % body)))


def curl(port, xml, path="/wsman", user="alice"):
    """POST with curl as the CLI does; returns a helpers Response."""
    out = subprocess.run(
        ["curl", "-s", "-i", "--max-time", "20", "-u",
         "%s:%s" % (user, USERS[user][0]),
         "-H", "Content-Type: application/soap+xml;charset=UTF-8",
         "-H", "User-Agent: openwsman 2.2.0",
         "--data-binary", "@-",
         "http://127.0.0.1:%d%s" % (port, path)],
        input=xml.encode(), capture_output=True, timeout=30)
    raw = out.stdout
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(l.split(": ", 1)) for l in lines[1:] if ": " in l]
    return H.Response(status, headers, body)


def _fault_text(f):
    text = f.reason or ""
    if f.wsman_fault is not None:
        text += " " + " ".join(f.wsman_fault.itertext())
    return text


def _get_doc(server, uri, path="/wsman"):
    r = curl(server.port, openwsman_envelope(H.ACTION_GET, uri, server.port),
             path=path)
    assert r.status == 200, r
    return H.body_child(r)


def _put(server, uri, element, path="/wsman"):
    body = ET.tostring(element, encoding="unicode")
    return curl(server.port, openwsman_envelope(PUT, uri, server.port, body),
                path=path)


def _set(element, local, value):
    for el in element.iter():
        if el.tag == H.q("cfg", local):
            el.text = value
            return
    raise AssertionError("no %s in %s" % (local, ET.tostring(element)))


# ----------------------------------------------------------------- Put --

@pytest.mark.parametrize("uri,setting,value,directive", [
    (CFG + "/service", "AllowUnencrypted", "false",
     "wsman_allow_unencrypted"),
    (CFG + "/service", "EnumerationTimeoutms", "120000",
     "wsman_enumeration_timeout"),
    (CFG + "/service", "Certificate", "true", "wsman_auth"),
    (CFG + "/service/auth", "Basic", "false", "wsman_auth"),
    (CFG, "MaxEnvelopeSizekb", "8192", "wsman_max_envelope_size"),
    (CFG, "MaxShellsPerUser", "5", "wsman_shell_max_per_user"),
    (CFG + "/winrs", "IdleTimeout", "60000", "wsman_shell_idle_timeout"),
])
def test_put_names_the_directive_of_the_changed_value(server, uri, setting,
                                                      value, directive):
    doc = _get_doc(server, uri)
    _set(doc, setting, value)
    r = _put(server, uri, doc)
    f = H.assert_fault(r, 500, subcode=("w", "UnsupportedFeature"))
    text = _fault_text(f)
    assert directive in text, text
    assert setting in text, text
    # the first setting of the document is not the one blamed
    if directive != "wsman_root_sddl":
        assert "wsman_root_sddl" not in text, text


def test_put_of_an_unchanged_document(server):
    doc = _get_doc(server, CFG + "/service")
    r = _put(server, CFG + "/service", doc)
    f = H.assert_fault(r, 500, subcode=("w", "UnsupportedFeature"))
    text = _fault_text(f)
    assert "nginx.conf" in text, text
    assert "wsman_" not in text, text


def test_put_of_the_root_sddl_names_it(server):
    doc = _get_doc(server, CFG + "/service")
    _set(doc, "RootSDDL", "O:NSG:BAD:P(A;;GA;;;WD)")
    f = H.assert_fault(_put(server, CFG + "/service", doc), 500)
    assert "wsman_root_sddl" in _fault_text(f)


# ------------------------------------------------------------ fragments --

def _fragment(r):
    assert r.status == 200, r
    assert H.header_text(r, "a", "Action") == H.ACTION_GET_RESPONSE
    frag = H.body_child(r)
    assert frag.tag == H.q("w", "XmlFragment"), r.body[:1000]
    return frag


@pytest.mark.parametrize("path,uri,expr,want", [
    ("/wsman", CFG + "/service", "AllowUnencrypted", "true"),
    ("/wsman", CFG, "MaxEnvelopeSizekb", "500"),
    ("/small", CFG, "MaxEnvelopeSizekb", "8"),
])
def test_fragment_get_of_one_setting(server, path, uri, expr, want):
    """`wsman get …/config/service -F AllowUnencrypted` as captured."""
    xml = openwsman_envelope(H.ACTION_GET, uri, server.port, fragment=expr)
    frag = _fragment(curl(server.port, xml, path=path))
    kids = list(frag)
    assert [k.tag for k in kids] == [H.q("cfg", expr)], kids
    assert kids[0].text == want


@pytest.mark.parametrize("expr", ["Auth/Basic", "Service/Auth/Basic",
                                  "cfg:Auth/cfg:Basic", "/Service/Auth/Basic"])
def test_fragment_get_of_a_nested_setting(server, expr):
    xml = openwsman_envelope(H.ACTION_GET, CFG + "/service", server.port,
                             fragment=expr, dialect=XPATH_LEVEL)
    kids = list(_fragment(curl(server.port, xml)))
    assert [k.tag for k in kids] == [H.q("cfg", "Basic")], kids
    assert kids[0].text == "true"


def test_fragment_get_text(server):
    xml = openwsman_envelope(H.ACTION_GET, CFG, server.port,
                             fragment="MaxEnvelopeSizekb/text()")
    frag = _fragment(curl(server.port, xml))
    assert list(frag) == []
    assert frag.text == "500"


def test_fragment_get_of_a_section(server):
    xml = openwsman_envelope(H.ACTION_GET, CFG, server.port,
                             fragment="Service/Auth")
    kids = list(_fragment(curl(server.port, xml)))
    assert [k.tag for k in kids] == [H.q("cfg", "Auth")], kids
    assert [c.tag for c in kids[0]][:2] == [H.q("cfg", "Basic"),
                                            H.q("cfg", "Kerberos")]


def test_fragment_get_of_a_class_property(server):
    uri = H.CIM_BASE + "CIM_OperatingSystem"
    xml = openwsman_envelope(H.ACTION_GET, uri, server.port,
                             fragment="CSName")
    kids = list(_fragment(curl(server.port, xml)))
    assert [k.tag for k in kids] == ["{%s}CSName" % uri], kids
    assert kids[0].text


# a path naming no element is a bad parameter; anything but a path of
# element names (and empty) is a feature this service does not have
NAMING_NOTHING = {"NoSuchSetting": "InvalidParameter",
                  "Auth/NoSuch": "InvalidParameter",
                  "../../x": "UnsupportedFeature",
                  "Auth[1]": "UnsupportedFeature",
                  "//Basic": "UnsupportedFeature",
                  "": "UnsupportedFeature"}


@pytest.mark.parametrize("expr", list(NAMING_NOTHING))
def test_fragment_naming_nothing(server, expr):
    xml = openwsman_envelope(H.ACTION_GET, CFG + "/service", server.port,
                             fragment=expr)
    r = curl(server.port, xml)
    H.assert_fault(r, 500, code="Sender",
                   subcode=("w", NAMING_NOTHING[expr]))


def _fragment_unsupported(r):
    f = H.assert_fault(r, 500, subcode=("w", "UnsupportedFeature"))
    detail = f.element.find("s:Detail/w:FaultDetail", H.NS)
    assert detail is not None and detail.text == FRAGMENT_DETAIL, \
        r.body[:1500]


def test_fragment_with_another_dialect(server):
    xml = openwsman_envelope(H.ACTION_GET, CFG + "/service", server.port,
                             fragment="AllowUnencrypted",
                             dialect="http://example.org/other")
    _fragment_unsupported(curl(server.port, xml))


@pytest.mark.parametrize("action,uri,body", [
    (ENUMERATE, H.CIM_BASE + "CIM_Process",
     '<n:Enumerate xmlns:n="%s"/>' % H.NS["n"]),
    (PUT, CFG + "/service",
     '<cfg:AllowUnencrypted xmlns:cfg="%s">true</cfg:AllowUnencrypted>'
     % CFG),
])
def test_fragment_where_none_is_taken(server, action, uri, body):
    xml = openwsman_envelope(action, uri, server.port, body=body,
                             fragment="AllowUnencrypted")
    _fragment_unsupported(curl(server.port, xml))


# ------------------------------------------------------ hostile input --

def test_put_with_many_changed_settings(server):
    """Thousands of differing settings: the fault names a few, says there
    are more, and stays small."""
    doc = ('<cfg:Service xmlns:cfg="%s">%s</cfg:Service>'
           % (CFG, "".join("<cfg:S%d>%d</cfg:S%d>" % (i, i, i)
                           for i in range(5000))))
    r = curl(server.port, openwsman_envelope(PUT, CFG + "/service",
                                             server.port, doc))
    f = H.assert_fault(r, 500, subcode=("w", "UnsupportedFeature"))
    text = _fault_text(f)
    assert "S0 is not a setting" in text and "and more" in text, text
    assert len(r.body) < 4096, len(r.body)


def test_put_deeply_nested(server):
    doc = ("<cfg:Service xmlns:cfg=\"%s\">" % CFG
           + "<cfg:A>" * 60 + "<cfg:AllowUnencrypted>false"
           "</cfg:AllowUnencrypted>" + "</cfg:A>" * 60 + "</cfg:Service>")
    r = curl(server.port, openwsman_envelope(PUT, CFG + "/service",
                                             server.port, doc))
    H.assert_fault(r, 500, subcode=("w", "UnsupportedFeature"))


@pytest.mark.parametrize("expr,subcode", [
    # long paths of names: walked, and they name nothing
    ("/".join(["Auth"] * 20), "InvalidParameter"),
    ("A" * 20000, "InvalidParameter"),
    # steps other than names
    ("Auth/Basic/text()/text()", "UnsupportedFeature"),
    ("Auth/../Basic", "UnsupportedFeature"),
    ("Auth/*", "UnsupportedFeature")])
def test_fragment_hostile_expressions(server, expr, subcode):
    xml = openwsman_envelope(H.ACTION_GET, CFG + "/service", server.port,
                             fragment=expr)
    r = curl(server.port, xml)
    H.assert_fault(r, 500, code="Sender", subcode=("w", subcode))
