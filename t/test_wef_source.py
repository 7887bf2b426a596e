"""The WEF source simulator (t/wef_source.py) against the real parts: its
SLDC compressor against the module's decoder (t/unit/sldc_probe, built
from src/soap/ngx_wsman_sldc.c), and its enumeration against nginx with
every way a Windows source authenticates (Basic over HTTP and HTTPS,
Kerberos and Negotiate sealed, NTLM sealed, a client certificate), and
end to end: events it forwards with each of them, SLDC or not, land in
a json_file output; a failing output gets no Ack and the batch, kept by
the source, lands once it is back."""

import json
import os
import random
import signal
import struct
import subprocess
import sys

import pytest

import conftest
import infra
import wsman_helpers as H
import wef_source as W

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "unit")
SLDC_PROBE = os.path.join(UNIT, "sldc_probe")

QUERY_SEC = ('<QueryList><Query Id="0"><Select Path="Security">'
             '*[System[(Level=1 or Level=2)]]</Select></Query></QueryList>')
QUERY_APP = ('<QueryList><Query Id="0"><Select Path="Application">*'
             '</Select></Query></QueryList>')

PROFILE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/"

# /wsman: every scheme a source may use, plaintext allowed (Basic);
# /sealed: Kerberos and Negotiate only, AllowUnencrypted off (over HTTP
# only sealed envelopes are served): the enumeration URL of the GSS
# sources, so a source that did not seal would fail there
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
        location /sealed {
            wsman; wsman_wec on;
            wsman_auth kerberos negotiate;
        }
    }
    wsman_wec_subscription everyone {
        query '%(q1)s';
        delivery min_latency;
    }
    wsman_wec_subscription named {
        query '%(q2)s';
        content_format Raw;
        max_items 5;
        sources bob alice;
    }
"""


def _snippet(pki, realm, tls_port, q1=QUERY_SEC, q2=QUERY_APP):
    return pki.conf(WEC_HTTP.replace("@TLSPORT@", str(tls_port))
                    .replace("@KEYTAB@", str(realm.keytab))
                    % {"q1": q1, "q2": q2})


@pytest.fixture(scope="module")
def wec(nginx_factory, auth_env, realm, pki):
    tls_port = conftest.free_port()
    n = nginx_factory(_snippet(pki, realm, tls_port),
                      main_snippet=auth_env)
    n.tls_port = tls_port
    return n


# ---------------------------------------------------------------- SLDC --

@pytest.fixture(scope="module")
def sldc_probe():
    """t/unit/sldc_probe, built against the configured build dir of the
    module under test."""
    build = os.path.dirname(conftest.SO)
    if not os.path.exists(os.path.join(build, "ngx_auto_config.h")):
        pytest.fail("%s/ngx_auto_config.h missing: run `make` first" % build)
    p = subprocess.run(
        ["make", "-s", "-C", UNIT, "sldc_probe", "BUILD=" + build,
         "NGX_SRC=" + os.environ.get("NGX_SRC", "/usr/share/nginx/src")],
        capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "building the probe failed:\n%s%s" % (
        p.stdout, p.stderr)
    return SLDC_PROBE


def c_decode(probe, bodies, cap=None):
    """[(rc, error class, looks compressed, decoded bytes)] from the
    module's decoder, one per body."""
    data = b"".join(struct.pack("<I", len(b)) + b for b in bodies)
    p = subprocess.run([probe] + ([str(cap)] if cap else []), input=data,
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out, i, res = p.stdout, 0, []
    while i < len(out):
        rc, err, n = struct.unpack("<iII", out[i:i + 12])
        i += 12
        res.append((rc, err & 0x7fffffff, bool(err >> 31), out[i:i + n]))
        i += n
    assert len(res) == len(bodies)
    return res


def _vectors():
    rng = random.Random(20261206)
    gen = W.EventGenerator("vectors.wsman.test", seed=3)
    xml = "".join(e.xml for e in gen.events(40))
    v = [b"", b"a", b"ab", b"abc", b"\xff", b"\xff\xff\xff\x00\xff",
         b"ab" * 700,                           # one long run
         b"x" * 271, b"x" * 272, b"x" * 273,    # copy length classes
         bytes(rng.randrange(256) for _ in range(5000)),    # noise
         bytes(rng.choice(b"ab\xff") for _ in range(4000)),
         b"\xff" * 3000,
         W.encode_body(xml),                    # what sources send
         xml.encode(),
         W.encode_body(xml)[:1023], W.encode_body(xml)[:1024],
         W.encode_body(xml)[:1025], W.encode_body(xml)[:2049]]
    for k in range(40):
        n = rng.randrange(1, 6000)
        alpha = bytes(rng.sample(range(256), rng.randrange(1, 20)))
        v.append(bytes(rng.choice(alpha) for _ in range(n)))
    for _ in range(10):
        # copies of every length class, far and near in the history
        parts = []
        for _ in range(30):
            chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(
                1, 40)))
            parts.append(chunk * rng.randrange(1, 12))
            if parts and rng.random() < 0.5:
                parts.append(rng.choice(parts))
        v.append(b"".join(parts))
    return v


def test_sldc_round_trips_through_the_c_decoder(sldc_probe):
    """Every vector, compressed by the simulator in scheme 1 (LZ77 with
    copies), scheme 2, with and without the length trailer and padding,
    decodes to itself in the module's decoder (and in the simulator's
    reference decoder), and the module's raw-or-compressed guess says
    compressed."""
    vectors = _vectors()
    encoded, expect = [], []
    for i, v in enumerate(vectors):
        for kw in ({}, {"trailer": False}, {"pad": 3},
                   {"scheme": 2}, {"max_match": 17, "trailer": False}):
            encoded.append(W.sldc_compress(v, **kw))
            expect.append(v)
    res = c_decode(sldc_probe, encoded)
    for (rc, err, guess, out), e, v in zip(res, encoded, expect):
        assert (rc, err) == (0, 0), (rc, err, e[:40], v[:40])
        assert out == v
        assert guess
        assert W.sldc_decompress(e) == v


def test_sldc_compresses_what_sources_send(sldc_probe):
    """The Events bodies of a source shrink (copy pointers are used),
    and a 500 kB one still decodes exactly, with Windows' trailer."""
    gen = W.EventGenerator("big.wsman.test", seed=9)
    body = W.encode_body("".join(e.xml for e in gen.events(250)))
    assert len(body) > 500000
    z = W.sldc_compress(body)
    assert len(z) < len(body) * 0.45, (len(z), len(body))
    assert struct.unpack("<I", z[-4:])[0] == len(body)
    [(rc, err, guess, out)] = c_decode(sldc_probe, [z])
    assert (rc, err, guess) == (0, 0, True)
    assert out == body


def test_sldc_writer_symbols_match_the_decoder(sldc_probe):
    """Hand-built streams with the symbol writer: every match count class
    edge, a copy that runs into its own output, a scheme change and the
    no-op controls decode as the format says; a copy from history not
    written since the Reset, a reserved control and a missing End of
    Record are refused by both decoders."""
    def stream(build):
        w = W.SldcWriter()
        build(w)
        w.control(W.SLDC_END_RECORD)
        w.align()
        return w.bytes()

    good = []
    for n in (2, 3, 4, 7, 8, 15, 16, 31, 32, 100, 271):
        def b(w, n=n):
            w.control(W.SLDC_RESET_1)
            w.literal(ord("a"))
            w.literal(ord("b"))
            w.copy(n, 0)            # ababab...: reads what it writes
        good.append((stream(b), (b"ab" * 200)[:2 + n]))

    def mixed(w):
        w.control(W.SLDC_RESET_1)
        for c in b"hello":
            w.literal(c)
        w.control(W.SLDC_SCHEME_2)
        for c in b"\xff\x00\xff":
            w.raw(c)
        w.control(W.SLDC_FLUSH)
        w.control(W.SLDC_SCHEME_1)
        w.copy(5, 0)
        w.control(W.SLDC_FILE_MARK)
        w.control(W.SLDC_END_MARKER)
        w.control(W.SLDC_RESET_2)
        w.raw(ord("z"))
    good.append((stream(mixed), b"hello\xff\x00\xffhelloz"))

    def unwritten(w):
        w.control(W.SLDC_RESET_1)
        w.literal(ord("a"))
        w.copy(2, 5)

    def reserved(w):
        w.control(W.SLDC_RESET_1)
        w.literal(ord("a"))
        w.control(0x9)

    bad = [stream(unwritten), stream(reserved),
           W.sldc_compress(b"hello world")[:-6]]
    res = c_decode(sldc_probe, [g[0] for g in good] + bad)
    for (rc, err, guess, out), (z, v) in zip(res, good):
        assert (rc, err) == (0, 0), (rc, err)
        assert out == v
        assert W.sldc_decompress(z) == v
    for (rc, err, guess, out), z in zip(res[len(good):], bad):
        assert rc == -5 and err != 0, (rc, err)     # NGX_DECLINED
        with pytest.raises(ValueError):
            W.sldc_decompress(z)


def test_raw_bodies_are_not_taken_for_sldc(sldc_probe):
    """The Windows quirk (SLDC announced, raw UTF-16 sent): the bodies
    the simulator sends raw are what the module's guess calls raw."""
    gen = W.EventGenerator(seed=4)
    bodies = [W.encode_body(gen.event().xml),
              W.encode_body(gen.event().xml, utf16=False),
              b"\xef\xbb\xbf" + gen.event().xml.encode()]
    for rc, err, guess, out in c_decode(sldc_probe, bodies):
        assert not guess


# -------------------------------------------------------------- events --

def test_event_generator_fields_and_bad_events():
    import xml.etree.ElementTree as ET
    gen = W.EventGenerator("pc1.wsman.test", seed=2)
    evs = gen.events(30)
    seen = {}
    for e in evs:
        root = ET.fromstring(e.xml)
        ns = {"e": W.NS_EVENT}
        sysf = root.find("e:System", ns)
        assert sysf.find("e:Computer", ns).text == "pc1.wsman.test"
        assert sysf.find("e:Channel", ns).text == e.channel
        assert int(sysf.find("e:EventRecordID", ns).text) == e.record_id
        assert int(sysf.find("e:EventID", ns).text) == e.event_id
        assert sysf.find("e:Provider", ns).get("Name") == e.provider
        assert sysf.find("e:TimeCreated", ns).get("SystemTime") == \
            e.time_created
        assert root.find("e:EventData/e:Data", ns) is not None
        # record ids grow by one per channel
        assert e.record_id == seen.get(e.channel, 999) + 1
        seen[e.channel] = e.record_id
    # the bad ones
    t = gen.event("truncated")
    with pytest.raises(ET.ParseError):
        ET.fromstring(t.xml)
    s = gen.event("surrogate")
    with pytest.raises(UnicodeEncodeError):
        s.xml.encode("utf-16-le")
    raw = W.encode_body(s.xml)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-16")
    o = gen.event("oversized")
    assert len(W.encode_body(o.xml)) > W.MAX_ENVELOPE
    c = gen.event("cdata_end")
    wrapped = "<x>%s</x>" % W.cdata(c.xml)
    assert ET.fromstring(wrapped).text == c.xml


# --------------------------------------------------------- enumeration --

def _check_subs(n, subs, scheme, port, profile, names, path="/wsman"):
    """NotifyTo: the address the source used, the location's path
    (where it authenticated), /subscriptions/<id>."""
    assert sorted(subs) == sorted(names), subs
    base = "%s://127.0.0.1:%d%s" % (scheme, port, path)
    for name, s in subs.items():
        assert s.notify_to.startswith(base + "/subscriptions/"), \
            s.notify_to
        assert s.version.startswith("uuid:")
        assert s.profile == PROFILE + profile
        assert s.compression == "SLDC"
        assert s.resource_uri == W.EVENTLOG_URI
        assert s.send_bookmarks
        # the reference properties to echo: the identifier is the Version
        assert len(s.echo_headers) == 1
        assert "Identifier" in s.echo_headers[0]
        assert s.version[5:] in s.echo_headers[0]
        assert s.retry_total == 5 and s.retry_interval == 60
    e = subs["everyone"]
    assert (e.heartbeat, e.max_time) == (3600, 30)
    assert e.content_format == "RenderedText"
    assert e.query == QUERY_SEC
    if "named" in subs:
        m = subs["named"]
        assert m.max_elements == 5 and m.content_format == "Raw"
        assert (m.heartbeat, m.max_time) == (900, 900)
        assert m.query == QUERY_APP


def _url(n, path="/wsman", tls=False):
    if tls:
        return "https://127.0.0.1:%d%s/SubscriptionManager/WEC" % (
            n.tls_port, path)
    return "http://127.0.0.1:%d%s/SubscriptionManager/WEC" % (n.port, path)


@pytest.mark.parametrize("utf16", [True, False], ids=["utf16", "utf8"])
def test_basic_source_enumerates(wec, utf16):
    src = W.Source(_url(wec), auth="basic", user="bob",
                   password=conftest.USERS["bob"][0], utf16=utf16)
    try:
        subs = src.enumerate()
    finally:
        src.close()
    _check_subs(wec, subs, "http", wec.port, "http/basic",
                ["everyone", "named"])
    assert not src.last_reply.encrypted
    assert src.stats["enumerations"] == 1


def test_basic_source_over_https(wec):
    src = W.Source(_url(wec, tls=True), auth="basic", user="dave",
                   password=conftest.USERS["dave"][0])
    try:
        subs = src.enumerate()
    finally:
        src.close()
    _check_subs(wec, subs, "https", wec.tls_port, "https/basic",
                ["everyone"])


def test_certificate_source_enumerates(wec, pki):
    src = W.Source(_url(wec, tls=True), auth="cert",
                   cert=pki.p("alice.pem"), key=pki.p("alice.key"),
                   cafile=pki.p("server.pem"))
    try:
        subs = src.enumerate()
    finally:
        src.close()
    _check_subs(wec, subs, "https", wec.tls_port, "https/mutual",
                ["everyone", "named"])


def test_certificate_from_unknown_ca_refused(wec, pki):
    src = W.Source(_url(wec, tls=True), auth="cert",
                   cert=pki.p("rogue.pem"), key=pki.p("rogue.key"))
    try:
        with pytest.raises(W.ProtocolError, match="HTTP (400|401|403)"):
            src.enumerate()
    finally:
        src.close()


@pytest.mark.parametrize("auth", ["kerberos", "negotiate"])
def test_kerberos_source_enumerates_sealed(wec, realm, auth):
    """alice's ticket; the enumeration URL (/sealed) serves only sealed
    envelopes over HTTP, and the answers come back sealed."""
    src = W.Source(_url(wec, "/sealed"), auth=auth, gss_host="localhost")
    try:
        subs = src.enumerate()
        assert src.last_reply.encrypted
        ch = list(src.channels.values())[0]
    finally:
        src.close()
    # Kerberos and Negotiate sources are told spnego-kerberos
    _check_subs(wec, subs, "http", wec.port, "http/spnego-kerberos",
                ["everyone", "named"], "/sealed")
    assert ch.connects == 1


def test_unsealed_gss_source_refused_where_encryption_is_required(wec,
                                                                  realm):
    src = W.Source(_url(wec, "/sealed"), auth="kerberos",
                   gss_host="localhost", seal=False)
    try:
        with pytest.raises(W.ProtocolError, match="HTTP 4"):
            src.enumerate()
    finally:
        src.close()


NTLM_CHILD = r"""
import json, sys
sys.path.insert(0, %(here)r)
import wef_source as W
src = W.Source(%(url)r, auth="ntlm", user="bob", password="BobPassw0rd!",
               gss_host="localhost")
subs = src.enumerate()
src.close()
print(json.dumps({"encrypted": src.last_reply.encrypted,
                  "subs": {n: [s.version, s.notify_to, s.profile,
                               s.echo_headers] for n, s in subs.items()}}))
"""


def test_ntlm_source_enumerates_sealed(wec, ntlm_users):
    """bob with NTLM (gss-ntlmssp), every envelope sealed; run in a
    child with the legacy OpenSSL configuration (MD4)."""
    env = dict(os.environ, OPENSSL_CONF=str(infra.OPENSSL_LEGACY))
    p = subprocess.run([sys.executable, "-c", NTLM_CHILD % {
        "here": os.path.dirname(os.path.abspath(__file__)),
        "url": _url(wec, "/sealed")}], capture_output=True, text=True,
        timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["encrypted"] is True
    assert sorted(out["subs"]) == ["everyone", "named"]
    for name, (version, notify, profile, echo) in out["subs"].items():
        assert notify.startswith(
            "http://127.0.0.1:%d/sealed/subscriptions/" % wec.port)
        assert profile == PROFILE + "http/spnego-kerberos"
        assert version[5:] in echo[0]


def test_cli_enumerates(wec):
    p = subprocess.run(
        [sys.executable, os.path.join(HERE, "wef_source.py"), "--url",
         _url(wec), "--user", "carol", "--password",
         conftest.USERS["carol"][0], "--machine", "pc7.wsman.test"],
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout)
    assert sorted(out["subscriptions"]) == ["everyone"]
    assert out["subscriptions"]["everyone"]["heartbeat"] == 3600
    assert out["enumerations"] == 1
    # a wrong password: exit 1, the reason in the JSON
    p = subprocess.run(
        [sys.executable, os.path.join(HERE, "wef_source.py"), "--url",
         _url(wec), "--user", "carol", "--password", "nope"],
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "HTTP 401" in json.loads(p.stdout)["error"]


def test_version_change_resubscribes(nginx_factory, auth_env, realm, pki):
    """A reload that changes a subscription's query changes its Version:
    the source's next refresh subscribes again (keeping its pending
    batches and bookmark); the unchanged one stays as it was."""
    tls_port = conftest.free_port()
    n = nginx_factory(_snippet(pki, realm, tls_port), main_snippet=auth_env)
    src = W.Source(_url(n), auth="basic", user="bob",
                   password=conftest.USERS["bob"][0])
    try:
        first = src.enumerate()
        v_every, v_named = first["everyone"].version, first["named"].version
        named = first["named"]
        gen = W.EventGenerator(seed=8)
        named.pending.append(gen.events(2))
        named.acked = {"Application": 41}
        again = src.enumerate()
        assert again["named"] is named
        assert src.stats["resubscribed"] == 0

        old = set(H.worker_pids(n))
        n.conf.write_text(n.conf.read_text().replace(
            "Level=1 or Level=2", "Level=1"))
        off = n.log_size()
        n.proc.send_signal(signal.SIGHUP)
        assert H.wait_until(lambda: all(
            "worker process %d exited" % p in n.read_log(off) for p in old),
            30), n.read_log(off)

        after = src.enumerate()
        assert after["everyone"].version != v_every
        assert after["everyone"].resubscribed == 1
        assert after["everyone"].query == QUERY_SEC.replace(
            "Level=1 or Level=2", "Level=1")
        assert after["named"].version == v_named
        assert after["named"] is named
        assert after["named"].pending and after["named"].acked == {
            "Application": 41}
        assert src.stats["resubscribed"] == 1
    finally:
        src.close()
        n.stop()


# ------------------------------------------------------- end to end --
# The delivery path: events forwarded by the simulator land in a
# json_file output; an output that fails gets no Ack, and the batch,
# kept by the source, lands once the output is back.

E2E_HTTP = """
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
        location /sealed {
            wsman; wsman_wec on;
            wsman_auth kerberos negotiate;
        }
    }
    wsman_wec_subscription fwd {
        query '%(q)s';
        delivery min_latency;
        max_items 5;
        output json_file @PREFIX@/events/$machine/events.jsonl;
    }
"""


def _e2e_snippet(pki, realm, tls_port, q=QUERY_SEC):
    return pki.conf(E2E_HTTP.replace("@TLSPORT@", str(tls_port))
                    .replace("@KEYTAB@", str(realm.keytab)) % {"q": q})



@pytest.fixture(scope="module")
def collector(nginx_factory, auth_env, realm, pki):
    tls_port = conftest.free_port()
    n = nginx_factory(_e2e_snippet(pki, realm, tls_port),
                      main_snippet=auth_env, start=False)
    conftest.worker_dirs(n, "events")
    n.tls_port = tls_port
    return n.start()


def stored(n, machine, want=None, timeout=10):
    """The JSON lines the output wrote for machine (waiting up to
    timeout for `want` of them)."""
    path = n.prefix / "events" / machine / "events.jsonl"

    def lines():
        try:
            return [json.loads(x) for x in path.read_text().splitlines()]
        except FileNotFoundError:
            return []
    if want is not None:
        H.wait_until(lambda: len(lines()) >= want, timeout)
    return lines()


def _check_stored(rows, events, machine):
    assert sorted((r["channel"], r["record_id"]) for r in rows) == \
        sorted((e.channel, e.record_id) for e in events)
    by_id = {(e.channel, e.record_id): e for e in events}
    for r in rows:
        e = by_id[(r["channel"], r["record_id"])]
        assert r["subscription"] == "fwd"
        assert r["machine"] == machine
        assert r["computer"] == machine
        assert r["event_id"] == e.event_id
        assert r["provider"] == e.provider
        assert r["time_created"] == e.time_created
        assert r["xml"] == e.xml


SOURCES = {
    # auth mode: (Source keyword arguments, enumeration path, TLS)
    "basic": (dict(auth="basic", user="bob",
                   password=conftest.USERS["bob"][0]), "/wsman", False),
    "basic_https": (dict(auth="basic", user="dave",
                         password=conftest.USERS["dave"][0]), "/wsman",
                    True),
    "kerberos": (dict(auth="kerberos", gss_host="localhost"), "/sealed",
                 False),
    "negotiate": (dict(auth="negotiate", gss_host="localhost"), "/sealed",
                  False),
    "cert": (None, "/wsman", True),
}


def _source(n, pki, mode, machine, **kw):
    args, path, tls = SOURCES[mode]
    if args is None:
        args = dict(auth="cert", cert=pki.p("alice.pem"),
                    key=pki.p("alice.key"))
    args = dict(args, machine=machine, **kw)
    return W.Source(_url(n, path, tls), **args)


@pytest.mark.parametrize("sldc", ["sldc", "plain"])
@pytest.mark.parametrize("mode", sorted(SOURCES))
def test_events_arrive(collector, realm, pki, mode, sldc):
    """Each way in x SLDC on/off, UTF-16: a heartbeat and 12 events in
    batches of 5 (the subscription's MaxElements) are acked, and every
    event is in the output once, with its System fields."""
    machine = "%s-%s.wsman.test" % (mode.replace("_", "-"), sldc)
    src = _source(collector, pki, mode, machine, sldc=(sldc == "sldc"))
    try:
        subs = src.enumerate()
        assert sorted(subs) == ["fwd"]
        assert src.heartbeat() == {"fwd": True}, src.last_error
        evs = W.EventGenerator(machine, seed=11).events(12)
        assert src.send(evs), src.last_error
        assert src.stats["batches_acked"] == 3
        if mode in ("kerberos", "negotiate"):
            assert src.last_reply.encrypted
        assert src.bookmark("fwd") == {
            c: max(e.record_id for e in evs if e.channel == c)
            for c in {e.channel for e in evs}}
        assert src.end() == {"fwd": True}, src.last_error
    finally:
        src.close()
    _check_stored(stored(collector, machine, 12), evs, machine)


@pytest.mark.parametrize("sldc", ["sldc", "plain"])
def test_ntlm_events_arrive(collector, ntlm_users, sldc):
    """NTLM sealed, through the CLI (in a child with the legacy OpenSSL
    configuration, for MD4)."""
    machine = "ntlm-%s.wsman.test" % sldc
    env = dict(os.environ, OPENSSL_CONF=str(infra.OPENSSL_LEGACY))
    p = subprocess.run(
        [sys.executable, os.path.join(HERE, "wef_source.py"), "--url",
         _url(collector, "/sealed"), "--auth", "ntlm", "--user", "bob",
         "--password", "BobPassw0rd!", "--gss-host", "localhost",
         "--machine", machine, "--events", "12", "--seed", "11",
         "--heartbeat", "--end", "--sldc" if sldc == "sldc" else
         "--no-sldc"], capture_output=True, text=True, timeout=60,
        env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout)
    assert out["batches_acked"] == 3 and out["heartbeats_acked"] == 1
    evs = W.EventGenerator(machine, seed=11).events(12)
    _check_stored(stored(collector, machine, 12), evs, machine)


@pytest.mark.parametrize("variant", ["sldc_announced_raw", "utf8",
                                     "utf8_sldc"])
def test_events_arrive_quirks(collector, pki, variant):
    """Windows announcing SLDC and sending raw UTF-16; UTF-8 bodies,
    plain and compressed."""
    machine = "quirk-%s.wsman.test" % variant.replace("_", "-")
    kw = {"sldc_announced_raw": dict(sldc=True, sldc_raw=True),
          "utf8": dict(sldc=False, utf16=False),
          "utf8_sldc": dict(sldc=True, utf16=False)}[variant]
    src = _source(collector, pki, "basic", machine, **kw)
    try:
        src.enumerate()
        evs = W.EventGenerator(machine, seed=12).events(7)
        assert src.send(evs), src.last_error
    finally:
        src.close()
    _check_stored(stored(collector, machine, 7), evs, machine)


def test_output_down_no_ack_then_retry(collector, pki):
    """The output cannot write (its directory is not the workers' to
    write): no Ack (a fault), the source keeps the batch and its
    bookmark; once the directory is the workers' the same batch is acked
    and stored exactly once."""
    if os.geteuid() != 0:
        pytest.skip("needs root (workers as %s)" % conftest.WORKER_USER)
    machine = "retry.wsman.test"
    d = collector.prefix / "events" / machine
    d.mkdir()
    os.chmod(d, 0o755)                  # root's: the workers cannot write
    src = _source(collector, pki, "basic", machine)
    try:
        src.enumerate()
        # the collector's bookmark of this principal (other tests'
        # machines send as the same user), or none
        initial = dict(src.bookmark("fwd"))
        gen = W.EventGenerator(machine, seed=13)
        first = gen.events(4)
        assert not src.send(first)
        assert src.last_reply is not None
        H.assert_fault(H.Response(src.last_reply.status, [
            ("Content-Type", "application/soap+xml")], src.last_reply.body),
            subcode=("w", "InternalError"))
        assert src.pending() == 4
        assert src.bookmark("fwd") == initial
        # retried, still down
        assert not src.flush()
        assert src.pending() == 4
        os.chown(d, *conftest.worker_ids())
        assert src.flush(), src.last_error
        assert src.pending() == 0
        # a bookmark only moves forward (other machines of this user may
        # have reached further record ids)
        for c in {e.channel for e in first}:
            initial[c] = max([initial.get(c, 0)] + [
                e.record_id for e in first if e.channel == c])
        assert src.bookmark("fwd") == initial
        more = gen.events(3)
        assert src.send(more)
    finally:
        src.close()
    _check_stored(stored(collector, machine, 7), first + more, machine)


def test_collector_down_then_back(collector, pki):
    """nginx stopped: the batch is kept (no answer at all); started
    again, the retried batch is acked."""
    machine = "down.wsman.test"
    src = _source(collector, pki, "basic", machine)
    try:
        src.enumerate()
        gen = W.EventGenerator(machine, seed=14)
        evs = gen.events(3)
        collector.stop()
        try:
            assert not src.send(evs)
            assert src.last_reply is None and src.last_error
            assert src.pending() == 3
        finally:
            collector.start()
        assert src.flush(), src.last_error
    finally:
        src.close()
    _check_stored(stored(collector, machine, 3), evs, machine)


def test_run_mode_batches_by_max_time(collector, pki):
    """The timed mode: 30 s MaxTime (min_latency) scaled to 0.3 s, 20
    events a second for 2 s; every event generated is acked and stored,
    in batches of at most 5."""
    machine = "run.wsman.test"
    src = _source(collector, pki, "basic", machine)
    gen = W.EventGenerator(machine, seed=15)
    try:
        src.enumerate()
        src.run(2.0, gen, rate=20, time_scale=0.01)
        assert src.flush(), src.last_error
    finally:
        src.close()
    n = sum(gen.records.values()) - len(gen.records) * (
        gen.first_record - 1)
    assert n >= 20
    assert src.stats["events_acked"] == n
    assert src.stats["batches_acked"] >= n // 5
    assert len(stored(collector, machine, n)) == n


def test_load_mode_heartbeats_acked(collector):
    """The load mode (many sources from one process, asyncio): each
    source enumerates once, then heartbeats (SLDC) on the same
    keep-alive connection, and every heartbeat is acked."""
    p = subprocess.run(
        [sys.executable, os.path.join(HERE, "wef_source.py"), "--url",
         _url(collector), "--user", "dave", "--password",
         conftest.USERS["dave"][0], "--load", "100", "--interval", "0.5",
         "--duration", "2", "--sldc"],
        capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout)
    assert out["heartbeats_failed"] == 0 and out["errors"] == 0
    assert out["enumerations"] == 100
    assert out["connects"] == 100
    assert out["heartbeats_acked"] >= 100


def test_bad_events_do_not_fail_their_batch(collector, pki):
    """What Windows sends now and then, from the generator: invalid
    UTF-16 (lone surrogates), XML cut short, `]]>` in the data.  Every
    batch is acked and every event stored once: the cut one raw and
    flagged, the surrogates replaced, the CDATA split undone."""
    for sldc in (False, True):
        machine = "bad-%s.wsman.test" % ("sldc" if sldc else "plain")
        gen = W.EventGenerator(machine, seed=16)
        good = gen.events(2)
        cut, sur, cd = (gen.event("truncated"), gen.event("surrogate"),
                        gen.event("cdata_end"))
        tail = gen.events(1)
        src = _source(collector, pki, "basic", machine, sldc=sldc)
        try:
            src.enumerate()
            assert src.send(good + [cut, sur, cd] + tail), src.last_error
            assert src.stats["batches_acked"] == 2
        finally:
            src.close()
        rows = stored(collector, machine, 6)
        assert len(rows) == 6
        flagged = [r for r in rows if r.get("malformed")]
        assert [r["xml"] for r in flagged] == [cut.xml]
        rest = [r for r in rows if not r.get("malformed")]
        fixed = sur.xml.replace("\ud800", "\ufffd").replace("\udc41",
                                                            "\ufffd")
        _check_stored([r for r in rest if r["record_id"] != sur.record_id
                       or r["channel"] != sur.channel],
                      good + [cd] + tail, machine)
        [r] = [r for r in rest if (r["channel"], r["record_id"]) ==
               (sur.channel, sur.record_id)]
        assert r["xml"] == fixed


def test_version_change_resubscribe_and_deliver(nginx_factory, auth_env,
                                                realm, pki):
    """A reload changes the subscription's query: the source's next
    refresh sees a new Version and subscribes again; what it sends then
    is acked and stored after what it sent before."""
    tls_port = conftest.free_port()
    n = nginx_factory(_e2e_snippet(pki, realm, tls_port),
                      main_snippet=auth_env, start=False)
    conftest.worker_dirs(n, "events")
    n.tls_port = tls_port
    n.start()
    machine = "version.wsman.test"
    src = _source(n, pki, "basic", machine)
    gen = W.EventGenerator(machine, seed=17)
    try:
        v1 = src.enumerate()["fwd"].version
        before = gen.events(3)
        assert src.send(before), src.last_error

        old = set(H.worker_pids(n))
        conf = n.conf.read_text()
        assert "Level=1 or Level=2" in conf
        n.conf.write_text(conf.replace("Level=1 or Level=2", "Level=2"))
        off = n.log_size()
        n.proc.send_signal(signal.SIGHUP)
        assert H.wait_until(lambda: all(
            "worker process %d exited" % p in n.read_log(off) for p in old),
            30), n.read_log(off)

        sub = src.refresh()["fwd"]
        assert sub.version != v1
        assert sub.resubscribed == 1 and src.stats["resubscribed"] == 1
        assert "(Level=2)" in sub.query
        # the bookmark carried over to the new subscription
        assert src.bookmark("fwd") == {
            c: max(e.record_id for e in before if e.channel == c)
            for c in {e.channel for e in before}}
        after = gen.events(4)
        assert src.send(after), src.last_error
    finally:
        src.close()
        n.stop()
    rows = stored(n, machine, 7)
    _check_stored(rows, before + after, machine)
    assert [r["record_id"] for r in rows[:3]] == [e.record_id
                                                  for e in before]


def test_oversized_event(collector, pki):
    """An event larger than MaxEnvelopeSize: the source drops it and the
    rest of its batch is delivered; sent anyway (compressed, so that it
    reaches the module), the collector refuses it (w:EncodingLimit),
    stores nothing, and the source keeps it pending."""
    machine = "oversized.wsman.test"
    gen = W.EventGenerator(machine, seed=18)
    small = gen.events(2)
    big = gen.event("oversized")
    src = _source(collector, pki, "basic", machine)
    try:
        src.enumerate()
        assert src.send([small[0], big, small[1]]), src.last_error
        assert src.stats["dropped"] == 1
    finally:
        src.close()
    _check_stored(stored(collector, machine, 2), small, machine)

    machine = "oversized-sent.wsman.test"
    src = _source(collector, pki, "basic", machine, sldc=True,
                  oversize="send")
    try:
        src.enumerate()
        assert not src.send([W.EventGenerator(machine).event("oversized")])
        r = src.last_reply
        H.assert_fault(H.Response(r.status, [
            ("Content-Type", "application/soap+xml")], r.body),
            subcode=("w", "EncodingLimit"))
        assert src.pending() == 1
    finally:
        src.close()
    assert stored(collector, machine) == []


def test_load_mode_events(collector):
    """The load mode's throughput form (--load-events): a few sources
    sending batches back to back; every batch acked and in the output."""
    p = subprocess.run(
        [sys.executable, os.path.join(HERE, "wef_source.py"), "--url",
         _url(collector), "--user", "dave", "--password",
         conftest.USERS["dave"][0], "--load", "4", "--load-events", "50",
         "--interval", "0", "--duration", "1.5", "--machine-prefix",
         "tput"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout)
    assert out["batches_failed"] == 0 and out["errors"] == 0
    assert out["batches_acked"] >= 4
    assert out["events_acked"] == 50 * out["batches_acked"]
    assert out["events_per_second"] > 0
    total = sum(len(stored(collector, "tput%05d.wsman.test" % i))
                for i in range(4))
    assert total == out["events_acked"]


def test_load_mode_collector_unreachable():
    """Nothing listening: every source fails to enumerate, backs off
    instead of spinning, and the run ends on time with exit status 1."""
    port = conftest.free_port()
    p = subprocess.run(
        [sys.executable, os.path.join(HERE, "wef_source.py"), "--url",
         "http://127.0.0.1:%d/wsman/SubscriptionManager/WEC" % port,
         "--user", "dave", "--password", "x", "--load", "20",
         "--interval", "0.5", "--duration", "1.5", "--timeout", "2"],
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stdout + p.stderr
    out = json.loads(p.stdout)
    assert out["enumerations"] == 0 and out["heartbeats_acked"] == 0
    # about one attempt a second per source (0.5 s back-off), not a spin
    assert 20 <= out["errors"] <= 20 * 6, out
    assert out["seconds"] < 10


def test_kerberos_source_with_host_spn(nginx_factory, auth_env, realm,
                                       pki, tmp_path):
    """A Windows Server 2025 source asks for a HOST/ ticket: a collector
    whose keytab holds only HOST/localhost serves it, enumeration and
    delivery, sealed."""
    keytab = tmp_path / "host.keytab"
    realm.kadmin("addprinc -randkey HOST/localhost@WSMAN.TEST")
    realm.kadmin("ktadd -k %s HOST/localhost@WSMAN.TEST" % keytab)
    keytab.chmod(0o644)
    tls_port = conftest.free_port()
    n = nginx_factory(_e2e_snippet(pki, realm, tls_port).replace(
        str(realm.keytab), str(keytab)), main_snippet=auth_env,
        start=False)
    conftest.worker_dirs(n, "events")
    n.tls_port = tls_port
    n.start()
    machine = "srv2025.wsman.test"
    gen = W.EventGenerator(machine, seed=19)
    try:
        # an HTTP/ ticket has no key in this keytab
        src = W.Source(_url(n, "/sealed"), auth="kerberos",
                       gss_host="localhost", machine=machine)
        try:
            with pytest.raises((W.TransportError, W.ProtocolError)):
                src.enumerate()
        finally:
            src.close()
        src = W.Source(_url(n, "/sealed"), auth="kerberos",
                       gss_host="localhost", gss_service="HOST",
                       machine=machine)
        try:
            assert sorted(src.enumerate()) == ["fwd"]
            assert src.last_reply.encrypted
            evs = gen.events(3)
            assert src.send(evs), src.last_error
            assert src.last_reply.encrypted
        finally:
            src.close()
        _check_stored(stored(n, machine, 3), evs, machine)
    finally:
        n.stop()
