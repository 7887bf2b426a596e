"""WS-Management Identify, authenticated and anonymous."""

import pytest

import wsman_helpers as H

ANON = {"WSMANIDENTIFY": "unauthenticated"}


def _identify_response(r):
    assert r.status == 200, r
    assert r.header("Content-Type") == H.SOAP_CT
    el = H.body_child(r)
    assert el is not None and el.tag == H.q("wsmid", "IdentifyResponse"), r
    return el


def _text(el, local):
    e = el.find("wsmid:" + local, H.NS)
    return None if e is None else (e.text or "").strip()


def _profiles(el):
    sp = el.find("wsmid:SecurityProfiles", H.NS)
    if sp is None:
        return None
    return [(e.text or "").strip()
            for e in sp.findall("wsmid:SecurityProfileName", H.NS)]


def test_identify_authenticated(client):
    el = _identify_response(client.post(H.IDENTIFY))
    assert _text(el, "ProtocolVersion") == \
        "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
    assert _text(el, "ProductVendor")
    assert "Stack: 3.0" in _text(el, "ProductVersion")
    assert _profiles(el) == [H.PROFILE_HTTP_BASIC]


def test_identify_on_nego_lists_spnego(client):
    el = _identify_response(client.post(H.IDENTIFY, path="/nego"))
    profiles = _profiles(el)
    assert H.PROFILE_HTTP_BASIC in profiles
    assert H.PROFILE_HTTP_SPNEGO in profiles
    assert len(profiles) == len(set(profiles))
    assert not any("/https/" in p for p in profiles)


def test_identify_with_other_prefix_and_whitespace(client):
    xml = ('<env:Envelope xmlns:env="%s"><env:Header></env:Header>'
           '<env:Body>\n  <id:Identify xmlns:id="%s"></id:Identify>\n'
           '</env:Body></env:Envelope>' % (H.NS["s"], H.NS["wsmid"]))
    _identify_response(client.post(xml))


def test_identify_wrong_namespace_is_not_identify(client):
    xml = H.IDENTIFY.replace(H.NS["wsmid"], "urn:not-identify")
    r = client.post(xml)
    assert r.status == 500, r
    assert H.is_fault(r)


def test_identify_requires_credentials(client):
    r = client.post(H.IDENTIFY, auth=False)
    assert r.status == 401, r
    assert b"IdentifyResponse" not in r.body


def test_identify_wrong_password(client):
    r = client.post(H.IDENTIFY, password="wrong")
    assert r.status == 401, r
    assert b"IdentifyResponse" not in r.body


@pytest.mark.parametrize("path", ["/wsman", "/nego", "/small"])
def test_anonymous_identify(client, path):
    r = client.post(H.IDENTIFY, path=path, auth=False, headers=ANON)
    el = _identify_response(r)
    assert _text(el, "ProductVersion") == "OS: 0.0.0 SP: 0.0 Stack: 3.0"
    assert _text(el, "ProtocolVersion") == \
        "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
    assert _text(el, "ProductVendor")
    assert el.find("wsmid:SecurityProfiles", H.NS) is None


def test_anonymous_identify_header_case_insensitive(client):
    r = client.post(H.IDENTIFY, auth=False,
                    headers={"WSManIdentify": "unauthenticated"})
    el = _identify_response(r)
    assert el.find("wsmid:SecurityProfiles", H.NS) is None


def test_anonymous_header_does_not_unlock_other_requests(client):
    xml, _ = H.config_get()
    r = client.post(xml, auth=False, headers=ANON)
    assert r.status == 401, r
    assert b"Config" not in r.body


def test_anonymous_header_with_bad_credentials_on_config_get(client):
    xml, _ = H.config_get()
    r = client.post(xml, password="bad", headers=ANON)
    assert r.status == 401, r


@pytest.mark.parametrize("name,value", [
    ("wsmanidentify", "unauthenticated"),
    ("WsManIdentify", "Unauthenticated"),
    ("WSMANIDENTIFY", "UNAUTHENTICATED"),
])
def test_anonymous_header_any_case(client, name, value):
    el = _identify_response(client.post(H.IDENTIFY, auth=False,
                                        headers={name: value}))
    assert _profiles(el) is None


@pytest.mark.parametrize("name,value", [
    ("WSMANIDENTIFY", "unauthenticatex"),
    ("WSMANIDENTIFX", "unauthenticated"),
    ("WSMANIDENTIFY", "unauthenticate"),
])
def test_anonymous_header_near_misses_require_auth(client, name, value):
    r = client.post(H.IDENTIFY, auth=False, headers={name: value})
    assert r.status == 401, r


def test_anonymous_header_other_value_requires_auth(client):
    r = client.post(H.IDENTIFY, auth=False,
                    headers={"WSMANIDENTIFY": "please"})
    assert r.status == 401, r


def test_anonymous_identify_with_action_header_of_get(client):
    # an anonymous request that is really a config Get
    xml, _ = H.config_get()
    xml = xml.replace("<s:Body></s:Body>",
                      '<s:Body><wsmid:Identify xmlns:wsmid="%s"/></s:Body>'
                      % H.NS["wsmid"])
    r = client.post(xml, auth=False, headers=ANON)
    assert b"MaxEnvelopeSizekb" not in r.body
    # the body decides: an Identify, whatever the Action header says
    _identify_response(r)


def test_no_header_no_credentials_is_401(client):
    xml, _ = H.config_get()
    r = client.post(xml, auth=False)
    assert r.status == 401, r


MULTI = """
    wsman_auth basic;
    wsman_user_file @USERFILE@;
    wsman_allow_unencrypted on;
    server {
        listen 127.0.0.1:@PORT@;
        location /inherited { wsman; }
        location /kerbonly { wsman; wsman_auth negotiate kerberos; }
    }
"""


@pytest.fixture(scope="module")
def multi(nginx_factory, users):
    n = nginx_factory(MULTI)
    return H.Client(n.port, users)


def test_http_level_directives_inherited(multi):
    el = _identify_response(multi.post(H.IDENTIFY, path="/inherited"))
    assert _profiles(el) == [H.PROFILE_HTTP_BASIC]
    xml, _ = H.config_get()
    r = multi.post(xml, path="/inherited")
    assert r.status == 200, r


def test_negotiate_only_location_refuses_basic(multi):
    xml, _ = H.config_get()
    r = multi.post(xml, path="/kerbonly")
    assert r.status == 401, r
    got = sorted(v.strip() for v in r.all("WWW-Authenticate"))
    assert got == ["Kerberos", "Negotiate"], got


def test_negotiate_only_anonymous_identify(multi):
    r = multi.post(H.IDENTIFY, path="/kerbonly", auth=False, headers=ANON)
    el = _identify_response(r)
    assert el.find("wsmid:SecurityProfiles", H.NS) is None


@pytest.mark.parametrize("body", [
    b"<oops",
    b"",
    H.IDENTIFY.replace('<?xml version="1.0"?>',
                       '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                       '"file:///etc/passwd">]>')
     .replace("<s:Header/>", "<s:Header>&e;</s:Header>").encode(),
    H.IDENTIFY.replace(H.NS["wsmid"], "urn:other").encode(),
], ids=["malformed", "empty", "xxe", "wrong-ns"])
def test_anonymous_header_with_non_identify_body(client, body):
    r = client.post(body, auth=False,
                    headers=dict(ANON, **{"Content-Length": str(len(body))}))
    assert r.status == 401, r
    assert b"IdentifyResponse" not in r.body
    assert b"root:" not in r.body


def test_anonymous_identify_wrong_content_type(client):
    r = client.post(H.IDENTIFY, auth=False, headers=ANON,
                    content_type="text/plain")
    assert r.status == 415, r
    assert b"IdentifyResponse" not in r.body
