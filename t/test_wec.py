"""Windows Event Collector, first slice (issue [10]): the subscription
manager.  A Windows source (source-initiated subscriptions) Enumerates
SubscriptionManager/Subscription at /wsman/SubscriptionManager/WEC and
gets one m:Subscription (Version + Subscribe envelope) per subscription
that applies to it; then it sends End.  What sources deliver afterwards
is t/test_wec_delivery.py's."""

import signal
import uuid
import xml.etree.ElementTree as ET

import pytest

import conftest

import wsman_gss as G
import wsman_helpers as H

SUB_URI = ("http://schemas.microsoft.com/wbem/wsman/1/SubscriptionManager/"
           "Subscription")
FULLDUPLEX_URI = "http://schemas.microsoft.com/wbem/wsman/1/wsman/FullDuplex"
EVENTLOG_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/EventLog"
ACTION_ENUMERATE = \
    "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
ACTION_END = "http://schemas.microsoft.com/wbem/wsman/1/wsman/End"
EVENTS_MODE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Events"
EVENTQUERY = "http://schemas.microsoft.com/win/2004/08/events/eventquery"
PROFILE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/"

NS = dict(H.NS)
NS.update({
    "m": "http://schemas.microsoft.com/wbem/wsman/1/subscription",
    "e": "http://schemas.xmlsoap.org/ws/2004/08/eventing",
    "c": "http://schemas.xmlsoap.org/ws/2002/12/policy",
    "auth": "http://schemas.microsoft.com/wbem/wsman/1/authentication",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
})

QUERY_SEC = ('<QueryList><Query Id="0"><Select Path="Security">'
             '*[System[(Level=1 or Level=2)]]</Select></Query></QueryList>')
QUERY_APP = ('<QueryList><Query Id="0"><Select Path="Application">*'
             '</Select></Query></QueryList>')

SUBS = """
    wsman_wec_subscription everyone {
        query '%(q1)s';
        delivery min_latency;
        read_existing_events on;
        locale fr-FR;
    }
    wsman_wec_subscription named {
        query '%(q2)s';
        content_format Raw;
        delivery min_bandwidth;
        ignore_channel_error off;
        sources alice bo*;
        issuer_thumbprints @CA@ @ROGUE@;
    }
    wsman_wec_subscription ops {
        query_file @PREFIX@/ops.xml;
        max_time 45s;
        heartbeat 10m;
        max_items 50;
        sources group:ops;
    }
"""

WEC_HTTP = """
    server {
        listen 127.0.0.1:@PORT@;
        listen 127.0.0.1:@TLSPORT@ ssl;
        ssl_certificate @PKI@/server.pem;
        ssl_certificate_key @PKI@/server.key;
        ssl_client_certificate @PKI@/ca.pem;
        ssl_verify_client optional;
        wsman_keytab @KEYTAB@;
        wsman_user_file @USERFILE@;
        location /wsman {
            wsman; wsman_wec on;
            wsman_auth kerberos negotiate basic certificate;
            wsman_cert_map subject=alice@wsman.test issuer=@CA@ user=alice;
            wsman_allow_unencrypted on;
        }
        location /open {
            wsman; wsman_wec on; wsman_auth kerberos;
            wsman_resource_sddl
                http://schemas.microsoft.com/wbem/wsman/1/SubscriptionManager
                "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;AU)";
            wsman_resource_sddl
                http://schemas.microsoft.com/wbem/wsman/1/wsman/FullDuplex
                "O:NSG:BAD:P(A;;GA;;;BA)(A;;GX;;;AU)";
        }
        location /nowec {
            wsman; wsman_auth basic; wsman_allow_unencrypted on;
        }
    }
""" + SUBS


def _snippet(pki, realm, tls_port, subs_args):
    return pki.conf(WEC_HTTP.replace("@TLSPORT@", str(tls_port))
                    .replace("@KEYTAB@", str(realm.keytab))
                    % subs_args)


@pytest.fixture(scope="module")
def wec(nginx_factory, auth_env, realm, pki):
    tls_port = conftest.free_port()
    n = nginx_factory(_snippet(pki, realm, tls_port,
                               {"q1": QUERY_SEC, "q2": QUERY_APP}),
                      start=False, main_snippet=auth_env)
    (n.prefix / "ops.xml").write_text(QUERY_APP)
    n.start()
    n.tls_port = tls_port
    return n


def enumerate_request(host, port, path="/wsman/SubscriptionManager/WEC",
                      machine="win10.wsman.test", max_elements=32000,
                      optimize=True):
    """The Enumerate a Windows source sends (MS-WSMV 3.1.4.1.30): the
    SubscriptionManager resource, its machine name in m:MachineID, a
    512000-byte envelope limit, OptimizeEnumeration in the body."""
    mid = "uuid:%s" % str(uuid.uuid4()).upper()
    xml = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'
        ' xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"'
        ' xmlns:b="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd">'
        '<s:Header>'
        '<a:To>http://%(host)s:%(port)d%(path)s</a:To>'
        '<w:ResourceURI s:mustUnderstand="true">%(uri)s</w:ResourceURI>'
        '<m:MachineID xmlns:m="http://schemas.microsoft.com/wbem/wsman/1/'
        'machineid" s:mustUnderstand="false">%(machine)s</m:MachineID>'
        '<a:ReplyTo><a:Address s:mustUnderstand="true">%(anon)s</a:Address>'
        '</a:ReplyTo>'
        '<a:Action s:mustUnderstand="true">%(action)s</a:Action>'
        '<w:MaxEnvelopeSize s:mustUnderstand="true">512000'
        '</w:MaxEnvelopeSize>'
        '<a:MessageID>%(mid)s</a:MessageID>'
        '<w:Locale xml:lang="en-US" s:mustUnderstand="false"/>'
        '<p:DataLocale xml:lang="en-US" s:mustUnderstand="false"/>'
        '<p:SessionId s:mustUnderstand="false">uuid:%(sid)s</p:SessionId>'
        '<p:OperationID s:mustUnderstand="false">uuid:%(oid)s'
        '</p:OperationID>'
        '<p:SequenceId s:mustUnderstand="false">1</p:SequenceId>'
        '<w:OperationTimeout>PT60.000S</w:OperationTimeout>'
        '</s:Header><s:Body><n:Enumerate>%(opt)s</n:Enumerate></s:Body>'
        '</s:Envelope>' % {
            "opt": ('<w:OptimizeEnumeration/><w:MaxElements>%d'
                    '</w:MaxElements>' % max_elements) if optimize else "",
            "host": host, "port": port, "path": path, "uri": SUB_URI,
            "machine": machine, "anon": H.ANONYMOUS,
            "action": ACTION_ENUMERATE, "mid": mid,
            "sid": str(uuid.uuid4()).upper(),
            "oid": str(uuid.uuid4()).upper()})
    return xml, mid


def end_request():
    mid = "uuid:%s" % str(uuid.uuid4()).upper()
    xml = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'
        ' xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
        '<s:Header><a:To>%s</a:To>'
        '<w:ResourceURI s:mustUnderstand="true">%s</w:ResourceURI>'
        '<a:Action s:mustUnderstand="true">%s</a:Action>'
        '<a:MessageID>%s</a:MessageID>'
        '<p:OperationID>uuid:%s</p:OperationID>'
        '</s:Header><s:Body></s:Body></s:Envelope>'
        % (H.ANONYMOUS, FULLDUPLEX_URI, ACTION_END, mid,
           str(uuid.uuid4()).upper()))
    return xml, mid


def utf16(xml):
    return b"\xff\xfe" + xml.encode("utf-16-le")


UTF16_CT = "application/soap+xml;charset=UTF-16"
PATH = "/wsman/SubscriptionManager/WEC"


def basic_enumerate(n, user, path=PATH, host=None):
    xml, mid = enumerate_request("127.0.0.1", n.port, path)
    c = H.Client(n.port, _users())
    hdrs = {"Host": host} if host else None
    r = c.post(utf16(xml), path=path, user=user, content_type=UTF16_CT,
               headers=hdrs)
    return r, mid


def _users():
    return conftest.USERS


def _text(body):
    if body.startswith(b"\xff\xfe") or body.startswith(b"\xfe\xff"):
        return body.decode("utf-16")
    return body.decode()


def subscriptions(body, mid):
    """Parse an EnumerateResponse; check what every answer must have and
    return {name: m:Subscription element}."""
    root = ET.fromstring(_text(body))
    hdr = root.find("s:Header", NS)
    assert hdr.find("a:Action", NS).text == \
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse"
    assert hdr.find("a:RelatesTo", NS).text == mid
    resp = root.find("s:Body/n:EnumerateResponse", NS)
    assert resp is not None
    assert resp.find("n:EnumerationContext", NS) is not None
    assert resp.find("w:EndOfSequence", NS) is not None
    items = resp.find("w:Items", NS)
    assert items is not None
    out = {}
    for sub in items:
        assert sub.tag == "{%s}Subscription" % NS["m"]
        env = sub.find("s:Envelope", NS)
        name = env.find("s:Header/w:OptionSet/w:Option[@Name="
                        "'SubscriptionName']", NS).text
        out[name] = sub
    return out


def options(sub):
    opts = {}
    for o in sub.find("s:Envelope/s:Header/w:OptionSet", NS):
        nil = o.get("{%s}nil" % NS["xsi"]) == "true"
        opts[o.get("Name")] = None if nil else o.text
    return opts


def version(sub):
    v = sub.find("m:Version", NS).text
    assert v.startswith("uuid:")
    uuid.UUID(v[5:])
    assert v[5:] == v[5:].upper()
    return v


def check_subscribe(sub, base, profile, heartbeat, max_time, query,
                    locale="en-US", bookmark=False, max_elements=None):
    """Every field of the Subscribe envelope a source acts on."""
    v = version(sub)
    env = sub.find("s:Envelope", NS)
    hdr = env.find("s:Header", NS)
    assert hdr.find("a:To", NS).text == H.ANONYMOUS
    assert hdr.find("w:ResourceURI", NS).text == EVENTLOG_URI
    assert hdr.find("a:Action", NS).text == \
        "http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe"
    assert hdr.find("a:ReplyTo/a:Address", NS).text == H.ANONYMOUS
    assert hdr.find("w:MaxEnvelopeSize", NS).text == "512000"
    assert hdr.find("a:MessageID", NS).text.startswith("uuid:")
    for where in (hdr, env.find("s:Body/e:Subscribe/e:Delivery", NS)):
        for loc in ("w:Locale", "p:DataLocale"):
            e = where.find(loc, NS)
            assert e.get("{http://www.w3.org/XML/1998/namespace}lang") == \
                locale
            assert e.get("{%s}mustUnderstand" % NS["s"]) == "false"
    s = env.find("s:Body/e:Subscribe", NS)
    for epr in ("e:EndTo", "e:Delivery/e:NotifyTo"):
        addr = s.find(epr + "/a:Address", NS).text
        assert addr.startswith(base + "/wsman/subscriptions/"), addr
        uuid.UUID(addr.rsplit("/", 1)[1])
        assert s.find(epr + "/a:ReferenceProperties/e:Identifier",
                      NS).text == v[5:]
    d = s.find("e:Delivery", NS)
    assert d.get("Mode") == EVENTS_MODE
    assert d.find("w:Heartbeats", NS).text == "PT%d.000S" % heartbeat
    assert d.find("w:MaxTime", NS).text == "PT%d.000S" % max_time
    cr = d.find("w:ConnectionRetry", NS)
    assert cr.get("Total") == "5" and cr.text == "PT60.0S"
    mes = d.find("w:MaxEnvelopeSize", NS)
    assert mes.get("Policy") == "Notify" and mes.text == "512000"
    assert d.find("w:Locale", NS).get(
        "{http://www.w3.org/XML/1998/namespace}lang") == locale
    assert d.find("w:ContentEncoding", NS).text == "UTF-16"
    me = d.find("w:MaxElements", NS)
    if max_elements is None:
        assert me is None
    else:
        assert me.text == str(max_elements)
    a = d.find("e:NotifyTo/c:Policy/c:ExactlyOne/c:All/auth:Authentication",
               NS)
    assert a.get("Profile") == PROFILE + profile
    f = s.find("w:Filter", NS)
    assert f.get("Dialect") == EVENTQUERY
    ql = f.find("QueryList")
    assert ql is not None
    assert ET.tostring(ql, encoding="unicode") == query
    b = s.find("w:Bookmark", NS)
    if bookmark:
        assert b.text == ("http://schemas.dmtf.org/wbem/wsman/1/wsman/"
                          "bookmark/earliest")
    else:
        assert b is None
    assert s.find("w:SendBookmarks", NS) is not None
    return s.find("e:EndTo/a:Address", NS).text


# ------------------------------------------------------------- tests --

def test_basic_source_gets_its_subscriptions(wec):
    """bob (no "ops" group) matches "everyone" and "bo*"."""
    r, mid = basic_enumerate(wec, "bob")
    assert r.status == 200, r
    subs = subscriptions(r.body, mid)
    assert sorted(subs) == ["everyone", "named"]
    base = "http://127.0.0.1:%d" % wec.port
    a1 = check_subscribe(subs["everyone"], base, "http/basic", 3600, 30,
                         QUERY_SEC, locale="fr-FR", bookmark=True)
    a2 = check_subscribe(subs["named"], base, "http/basic", 21600, 21600,
                         QUERY_APP)
    assert a1 != a2
    o = options(subs["everyone"])
    assert o == {"SubscriptionName": "everyone", "Compression": "SLDC",
                 "CDATA": None, "ContentFormat": "RenderedText",
                 "IgnoreChannelError": None, "ReadExistingEvents": None}
    o = options(subs["named"])
    assert o == {"SubscriptionName": "named", "Compression": "SLDC",
                 "CDATA": None, "ContentFormat": "Raw"}
    assert version(subs["everyone"]) != version(subs["named"])


def test_sources_filter_by_group_and_name(wec):
    # carol: groups ops,admins -> everyone and ops (not "named")
    r, mid = basic_enumerate(wec, "carol")
    subs = subscriptions(r.body, mid)
    assert sorted(subs) == ["everyone", "ops"]
    check_subscribe(subs["ops"], "http://127.0.0.1:%d" % wec.port,
                    "http/basic", 600, 45, QUERY_APP, max_elements=50)
    # dave: neither named nor in ops -> only the subscription for all
    r, mid = basic_enumerate(wec, "dave")
    assert sorted(subscriptions(r.body, mid)) == ["everyone"]


def test_version_stable_per_source_view(wec):
    r1, m1 = basic_enumerate(wec, "bob")
    r2, m2 = basic_enumerate(wec, "alice")
    v1 = {k: version(v) for k, v in subscriptions(r1.body, m1).items()}
    v2 = {k: version(v) for k, v in subscriptions(r2.body, m2).items()}
    assert v1["everyone"] == v2["everyone"]
    # another address is something the source sees: another Version
    r3, m3 = basic_enumerate(wec, "bob", host="collector.wsman.test:5985")
    s3 = subscriptions(r3.body, m3)
    check_subscribe(s3["everyone"], "http://collector.wsman.test:5985",
                    "http/basic", 3600, 30, QUERY_SEC, locale="fr-FR",
                    bookmark=True)
    assert version(s3["everyone"]) != v1["everyone"]


@pytest.mark.parametrize("scheme,mech,proto", [
    ("Kerberos", "krb5", G.PROTO_KERBEROS),
    ("Negotiate", "spnego", G.PROTO_SPNEGO)])
def test_kerberos_source_encrypted_utf16(wec, realm, scheme, mech, proto):
    """What Windows does: the Kerberos (or Negotiate) scheme, sealed
    UTF-16 bodies."""
    s = G.Session(wec.port, PATH, scheme=scheme, gss=G.GssClient(mech))
    try:
        assert s.authenticate().status == 200
        xml, mid = enumerate_request("localhost", wec.port)
        body = G.encrypt(s.gss, utf16(xml), proto)
        r = s.post(body, content_type=G.encrypted_content_type(
            proto))
        assert r.status == 200, r
        plain = G.decrypt_response(s.gss, r, proto)
        subs = subscriptions(plain, mid)
        assert "everyone" in subs and "named" in subs
        check_subscribe(subs["named"], "http://127.0.0.1:%d" % wec.port,
                        "http/spnego-kerberos", 21600, 21600, QUERY_APP)
        # then End on the same connection: an empty answer
        xml, mid = end_request()
        body = G.encrypt(s.gss, utf16(xml), proto)
        r = s.post(body, content_type=G.encrypted_content_type(
            proto))
        assert r.status == 200, r
        root = ET.fromstring(_text(G.decrypt_response(
            s.gss, r, proto)))
        assert root.find("s:Header/a:RelatesTo", NS).text == mid
        assert list(root.find("s:Body", NS)) == []
    finally:
        s.close()


def _kerberos_exchange(s, xml):
    body = G.encrypt(s.gss, utf16(xml), G.PROTO_KERBEROS)
    r = s.post(body, content_type=G.encrypted_content_type(
        G.PROTO_KERBEROS))
    return r, G.decrypt_response(s.gss, r, G.PROTO_KERBEROS)


def test_machine_account_needs_a_grant(wec, realm, tmp_path):
    """mallory (a ticket, no groups: like a machine account) is denied by
    the default RootSDDL, and served where the README's SDDLs grant
    Authenticated Users read (Enumerate) and execute (End)."""
    cc = realm.kinit("mallory", tmp_path / "cc.mallory")
    s = G.Session(wec.port, PATH, scheme="Kerberos",
                  gss=G.GssClient("krb5", ccache=cc))
    try:
        assert s.authenticate().status == 200
        xml, mid = enumerate_request("localhost", wec.port)
        r, plain = _kerberos_exchange(s, xml)
        f = H.assert_fault(G.plain_response(r, plain), status=500,
                           subcode=("w", "AccessDenied"))
        assert f.relates_to == mid
    finally:
        s.close()
    s = G.Session(wec.port, "/open", scheme="Kerberos",
                  gss=G.GssClient("krb5", ccache=cc))
    try:
        assert s.authenticate().status == 200
        xml, mid = enumerate_request("localhost", wec.port, path="/open")
        r, plain = _kerberos_exchange(s, xml)
        assert r.status == 200, r
        assert sorted(subscriptions(plain, mid)) == ["everyone"]
        xml, mid = end_request()
        r, plain = _kerberos_exchange(s, xml)
        assert r.status == 200, r
    finally:
        s.close()


def test_https_source_address_and_profile(wec):
    xml, mid = enumerate_request("127.0.0.1", wec.tls_port)
    h = {"Authorization": H.basic("bob", _users()["bob"][0]),
         "Content-Type": UTF16_CT}
    conn = H.Connection(wec.tls_port, tls=True)
    try:
        r = conn.request("POST", PATH, utf16(xml), list(h.items()))
    finally:
        conn.close()
    assert r.status == 200, r
    subs = subscriptions(r.body, mid)
    check_subscribe(subs["named"], "https://127.0.0.1:%d" % wec.tls_port,
                    "https/basic", 21600, 21600, QUERY_APP)


def test_certificate_source_gets_mutual_with_issuers(wec, pki):
    """A source that authenticated with a client certificate is told to
    deliver the same way, to a collector that trusts these issuers."""
    import socket
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(pki.p("alice.pem"), pki.p("alice.key"))
    xml, mid = enumerate_request("127.0.0.1", wec.tls_port)
    sock = ctx.wrap_socket(socket.create_connection(
        ("127.0.0.1", wec.tls_port), 10), server_hostname="localhost")
    try:
        sock.sendall(H.build_request(
            wec.tls_port, "POST", PATH, utf16(xml),
            [("Authorization", H.PROFILE_HTTPS_MUTUAL),
             ("Content-Type", UTF16_CT)]))
        r, _ = H._read_response(H._KeepOpen(sock), "POST")
    finally:
        sock.close()
    assert r.status == 200, r
    subs = subscriptions(r.body, mid)
    # alice: named, and in the "ops" group
    assert sorted(subs) == ["everyone", "named", "ops"]
    check_subscribe(subs["named"], "https://127.0.0.1:%d" % wec.tls_port,
                    "https/mutual", 21600, 21600, QUERY_APP)
    a = subs["named"].find(
        "s:Envelope/s:Body/e:Subscribe/e:Delivery/e:NotifyTo/c:Policy/"
        "c:ExactlyOne/c:All/auth:Authentication", NS)
    tps = [t.text for t in a.findall("auth:ClientCertificate/"
                                     "auth:Thumbprint[@Role='issuer']", NS)]
    assert tps == [pki.thumbprint("ca"), pki.thumbprint("rogueca")]
    # none configured: the profile alone
    a = subs["everyone"].find(
        "s:Envelope/s:Body/e:Subscribe/e:Delivery/e:NotifyTo/c:Policy/"
        "c:ExactlyOne/c:All/auth:Authentication", NS)
    assert list(a) == []


def test_end_gets_an_empty_answer(wec):
    xml, mid = end_request()
    c = H.Client(wec.port, _users())
    r = c.post(xml, path=PATH, user="bob")
    assert r.status == 200, r
    root = H.parse(r)
    assert root.find("s:Header/a:RelatesTo", NS).text == mid
    assert list(root.find("s:Body", NS)) == []


def test_unauthenticated_enumerate_refused(wec):
    xml, _ = enumerate_request("127.0.0.1", wec.port)
    r = H.request(wec.port, "POST", PATH, xml,
                  {"Content-Type": H.SOAP_CT})
    assert r.status == 401, r
    assert b"Subscription" not in r.body
    r = H.Client(wec.port, _users()).post(xml, path=PATH, user="bob",
                                           password="wrong")
    assert r.status == 401, r


def test_location_without_wsman_wec_refuses(wec):
    xml, mid = enumerate_request("127.0.0.1", wec.port, path="/nowec")
    r = H.Client(wec.port, _users()).post(xml, path="/nowec", user="bob")
    f = H.assert_fault(r, status=500, subcode=("a", "DestinationUnreachable"))
    assert f.relates_to == mid
    assert b"everyone" not in r.body


def test_bad_host_header_is_a_fault(wec):
    r, _ = basic_enumerate(wec, "bob", host="evil\"host")
    assert r.status in (400, 500), r
    assert b"<m:Subscription" not in r.body


def test_reload_keeps_or_changes_version(nginx_factory, auth_env, realm,
                                         pki):
    tls_port = conftest.free_port()
    n = nginx_factory(_snippet(pki, realm, tls_port,
                               {"q1": QUERY_SEC, "q2": QUERY_APP}),
                      start=False, main_snippet=auth_env)
    (n.prefix / "ops.xml").write_text(QUERY_APP)
    n.start()

    def versions():
        r, mid = basic_enumerate(n, "carol")
        return {k: version(v) for k, v in subscriptions(r.body, mid).items()}

    def reload(text):
        old = set(H.worker_pids(n))
        n.conf.write_text(text)
        off = n.log_size()
        n.proc.send_signal(signal.SIGHUP)
        assert H.wait_until(lambda: all(
            "worker process %d exited" % p in n.read_log(off) for p in old),
            30), n.read_log(off)

    before = versions()
    conf = n.conf.read_text()
    reload(conf + " ")
    assert versions() == before
    # the query of "everyone" changes; "ops" (its file) does not
    reload(conf.replace("Level=1 or Level=2", "Level=1"))
    after = versions()
    assert after["ops"] == before["ops"]
    assert after["everyone"] != before["everyone"]
    # and the file-based one changes when its file does
    (n.prefix / "ops.xml").write_text(QUERY_SEC)
    reload(n.conf.read_text())
    assert versions()["ops"] != after["ops"]
    n.stop()


BAD = [
    ("no query", "wsman_wec_subscription a { delivery normal; }",
     "has no query"),
    ("bad XML", "wsman_wec_subscription a { query '<QueryList><Query>'; }",
     "well-formed"),
    ("not a QueryList", "wsman_wec_subscription a { query '<Foo/>'; }",
     "well-formed"),
    ("DTD", "wsman_wec_subscription a { query '<!DOCTYPE QueryList "
     "[<!ENTITY x \"y\">]><QueryList>&x;</QueryList>'; }", "well-formed"),
    ("XML declaration", "wsman_wec_subscription a { query '<?xml version="
     "\"1.0\"?>%s'; }" % QUERY_APP, "well-formed"),
    ("duplicate", "wsman_wec_subscription a { query '%s'; }\n"
     "wsman_wec_subscription A { query '%s'; }" % (QUERY_APP, QUERY_APP),
     "duplicate subscription"),
    ("two presets", "wsman_wec_subscription a { query '%s'; "
     "delivery normal; delivery min_latency; }" % QUERY_APP,
     "duplicate subscription setting \"delivery\""),
    ("bad delivery", "wsman_wec_subscription a { query '%s'; "
     "delivery fast; }" % QUERY_APP, "invalid subscription setting"),
    ("bad format", "wsman_wec_subscription a { query '%s'; "
     "content_format Xml; }" % QUERY_APP, "invalid subscription setting"),
    ("unknown", "wsman_wec_subscription a { query '%s'; foo bar; }"
     % QUERY_APP, "unknown subscription setting"),
    ("bad locale", "wsman_wec_subscription a { query '%s'; "
     "locale 'en\"US'; }" % QUERY_APP, "invalid subscription setting"),
    ("bad name", "wsman_wec_subscription 'a<b' { query '%s'; }" % QUERY_APP,
     "invalid subscription name"),
    ("missing file", "wsman_wec_subscription a { query_file /nonexistent; }",
     "/nonexistent"),
    ("two queries", "wsman_wec_subscription a { query '%s'; query '%s'; }"
     % (QUERY_APP, QUERY_APP), "duplicate subscription setting \"query\""),
    ("bad thumbprint", "wsman_wec_subscription a { query '%s'; "
     "issuer_thumbprints 12AB; }" % QUERY_APP, "invalid subscription setting"),
    ("bad max_time", "wsman_wec_subscription a { query '%s'; max_time 0; }"
     % QUERY_APP, "invalid subscription setting"),
    ("unknown output", "wsman_wec_subscription a { query '%s'; "
     "output carrier_pigeon x; }" % QUERY_APP, "unknown output kind"),
    ("output without target", "wsman_wec_subscription a { query '%s'; "
     "output json_file; }" % QUERY_APP, "needs a kind and a target"),
    ("unknown path variable", "wsman_wec_subscription a { query '%s'; "
     "output json_file /tmp/$host.json; }" % QUERY_APP,
     "unknown variable"),
    ("file output to a directory", "wsman_wec_subscription a { query '%s'; "
     "output json_file /tmp/; }" % QUERY_APP, "names a directory"),
    ("spool_size alone", "wsman_wec_subscription a { query '%s'; "
     "output json_file /tmp/x.json spool_size=1m; }" % QUERY_APP,
     "without \"spool=\""),
    ("tiny spool", "wsman_wec_subscription a { query '%s'; "
     "output json_file /tmp/x.json spool=/tmp/s spool_size=1k; }"
     % QUERY_APP, "at least 64k"),
    # DIR/NAME.batch.damaged, the replay's longest name, must fit a path
    ("spool path too long", "wsman_wec_subscription a { query '%s'; "
     "output json_file /tmp/x.json spool=/tmp/%s; }"
     % (QUERY_APP, "d/" * 2013), "directory is too long"),
    ("unknown store", "wsman_wec_store mysql:localhost;", "unknown state "
     "store"),
    ("store without kind", "wsman_wec_store /var/lib/wec.db;",
     "KIND:ADDRESS"),
]


@pytest.mark.parametrize("snippet,message", [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_nginx_t_refuses(nginx_factory, snippet, message):
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_wec on; wsman_auth basic;
                        wsman_user_file @USERFILE@; } }
""" + snippet, start=False)
    p = n.test_config()
    assert p.returncode != 0, p.stderr
    assert message in p.stderr, p.stderr
    assert "emerg" in p.stderr


def test_source_with_no_subscription_gets_empty_enumeration(nginx_factory):
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_wec on; wsman_auth basic;
                        wsman_user_file @USERFILE@;
                        wsman_allow_unencrypted on; } }
    wsman_wec_subscription only-servers { query '%s';
                                          sources 'SRV*$' group:servers; }
""" % QUERY_APP)
    r, mid = basic_enumerate(n, "bob")
    assert r.status == 200, r
    assert subscriptions(r.body, mid) == {}
    n.stop()


def test_nginx_t_accepts_good_block(nginx_factory):
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_wec on; wsman_auth basic;
                        wsman_user_file @USERFILE@; } }
    wsman_wec_subscription a { query '%s'; delivery normal;
                               sources 'WIN*$' group:Domain*; }
""" % QUERY_APP, start=False)
    p = n.test_config()
    assert p.returncode == 0, p.stderr


# ------------------------------------------------------- w:MaxElements --

def _names(items):
    return [sub.find("s:Envelope/s:Header/w:OptionSet/w:Option[@Name="
                     "'SubscriptionName']", NS).text for sub in items]


def _answer(r, mid, action, element):
    assert r.status == 200, (r, _text(r.body)[:600])
    root = ET.fromstring(_text(r.body))
    hdr = root.find("s:Header", NS)
    assert hdr.find("a:Action", NS).text == \
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/" + action
    assert hdr.find("a:RelatesTo", NS).text == mid
    return root.find("s:Body/n:" + element, NS)


@pytest.fixture(scope="module")
def four(nginx_factory):
    """Four subscriptions, of which three apply to alice; bob's only one
    sits between hers in the configuration."""
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_wec on; wsman_auth basic;
                        wsman_user_file @USERFILE@;
                        wsman_allow_unencrypted on; } }
    wsman_wec_subscription first { query '%(q)s'; sources alice; }
    wsman_wec_subscription bobs { query '%(q)s'; sources bob; }
    wsman_wec_subscription second { query '%(q)s'; }
    wsman_wec_subscription third { query '%(q)s'; sources alice bob;
        output json_file @PREFIX@/ev/third.jsonl; }
""" % {"q": QUERY_APP}, start=False)
    conftest.worker_dirs(n, "ev")
    n.start()
    return n


def _enumerate(n, user, max_elements, optimize=True):
    xml, mid = enumerate_request("127.0.0.1", n.port,
                                 max_elements=max_elements,
                                 optimize=optimize)
    r = H.Client(n.port, _users()).post(utf16(xml), path=PATH, user=user,
                                         content_type=UTF16_CT)
    return _answer(r, mid, "EnumerateResponse", "EnumerateResponse")


def _pull(n, user, context, max_elements):
    xml, mid = H.pull_request(context, SUB_URI, max_elements=max_elements,
                              max_envelope_size=512000)
    return H.Client(n.port, _users()).post(xml, path=PATH, user=user), mid


def _pulled(r, mid):
    """The PullResponse to mid, its items and end in n: alone."""
    page = H.EnumPage(r, pull=True)
    assert H.header_text(r, "a", "RelatesTo") == mid
    return page


def test_max_elements_first_batch_then_pull(four):
    """MaxElements 2 with three subscriptions for alice: two in the
    EnumerateResponse with a context and no EndOfSequence, the third by
    Pull (with the bookmark the store has for it), then the end."""
    from test_wec_delivery import (ACTION_EVENTS, assert_ack, delivery,
                                   event_xml, notify_to, post)
    addr = notify_to(four, "alice", "third")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(77)], bookmark=77)
    assert_ack(post(four, addr, xml, "alice"), mid)

    resp = _enumerate(four, "alice", 2)
    assert _names(resp.find("w:Items", NS)) == ["first", "second"]
    assert resp.find("w:EndOfSequence", NS) is None
    ctx = resp.findtext("n:EnumerationContext", "", NS).strip()
    assert ctx

    # not alice's to Pull
    r, _ = _pull(four, "bob", ctx, 2)
    H.assert_fault(r, subcode=("n", "InvalidEnumerationContext"))

    r, mid = _pull(four, "alice", ctx, 2)
    page = _pulled(r, mid)
    items = page.items
    assert _names(items) == ["third"]
    assert page.end and page.context is None
    bm = items[0].find("s:Envelope/s:Body/e:Subscribe/w:Bookmark", NS)
    assert bm is not None and 'RecordId="77"' in ET.tostring(
        bm, encoding="unicode")

    # the context is gone with the end
    r, _ = _pull(four, "alice", ctx, 2)
    H.assert_fault(r, subcode=("n", "InvalidEnumerationContext"))


def test_max_elements_one_by_one_and_everything_at_once(four):
    resp = _enumerate(four, "alice", 1)
    got = _names(resp.find("w:Items", NS))
    ctx = resp.findtext("n:EnumerationContext", "", NS).strip()
    end = resp.find("w:EndOfSequence", NS) is not None
    while not end:
        r, mid = _pull(four, "alice", ctx, 1)
        page = _pulled(r, mid)
        got += _names(page.items)
        ctx, end = page.context or ctx, page.end
    assert got == ["first", "second", "third"]
    # Windows' 32000: everything in the first answer
    resp = _enumerate(four, "alice", 32000)
    assert _names(resp.find("w:Items", NS)) == ["first", "second", "third"]
    assert resp.find("w:EndOfSequence", NS) is not None
    # bob sees his two, never alice's
    resp = _enumerate(four, "bob", 1)
    got = _names(resp.find("w:Items", NS))
    ctx = resp.findtext("n:EnumerationContext", "", NS).strip()
    r, mid = _pull(four, "bob", ctx, 5)
    assert got == ["bobs"]
    assert _names(_pulled(r, mid).items) == ["second", "third"]


def test_enumerate_without_optimize_then_pull(four):
    resp = _enumerate(four, "alice", 0, optimize=False)
    assert resp.find("w:Items", NS) is None
    ctx = resp.findtext("n:EnumerationContext", "", NS).strip()
    assert ctx
    r, mid = _pull(four, "alice", ctx, 10)
    page = _pulled(r, mid)
    assert _names(page.items) == ["first", "second", "third"]
    assert page.end


def test_simulated_source_pulls_what_does_not_fit(four):
    """The source simulator (t/wef_source.py) with MaxElements 2: it
    Pulls the third subscription and forwards events to it."""
    import wef_source as W
    from test_wec_delivery import lines
    src = W.Source("http://127.0.0.1:%d%s" % (four.port, PATH),
                   auth="basic", user="alice",
                   password=conftest.USERS["alice"][0], max_elements=2)
    before = len(lines(four.prefix / "ev/third.jsonl"))
    try:
        subs = src.enumerate()
        assert sorted(subs) == ["first", "second", "third"]
        assert src.stats["pulls"] == 1
        evs = W.EventGenerator("win10.wsman.test", seed=3).events(2)
        assert src.send(evs, name="third"), src.last_error
    finally:
        src.close()
    assert len(lines(four.prefix / "ev/third.jsonl")) == before + 2
