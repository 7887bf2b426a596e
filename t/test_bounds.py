"""Issue [7] section 5: what an unauthenticated client, or one user, can
make the server spend is bounded.

  - anonymous bodies are capped (8k) before parsing; attributes per
    element, attributes and elements per envelope are capped for everyone
    before libxml2 does its quadratic duplicate-attribute check;
  - a sealed body whose plaintext is over the envelope limit gets
    w:EncodingLimit (sealed), not an empty 200.
"""

import os
import threading
import time

import pytest

import wsman_helpers as H

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """utime + stime of pids, in seconds."""
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def attribute_flood(count=40000, authenticated=False):
    """One Identify element with `count` distinct attributes (~11 bytes
    each: 40000 make ~450 kB, under the 500k envelope limit)."""
    attrs = " ".join('a%d=""' % i for i in range(count))
    return ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/'
            'wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify %s/>'
            '</s:Body></s:Envelope>' % attrs).encode()


ANON = {"WSMANIDENTIFY": "unauthenticated", "Content-Type": H.SOAP_CT}


def _timed_static(port, results, stop):
    """GET / in a loop while the attack runs; records the slowest."""
    while not stop.is_set():
        t0 = time.monotonic()
        st, _, _ = H.raw_request(port, "GET", "/", timeout=30)
        results.append((st, time.monotonic() - t0))
        time.sleep(0.01)


def _attack(server, body, headers, rounds=4):
    pids = H.worker_pids(server)
    assert pids, "no workers of %d" % server.proc.pid
    results, stop = [], threading.Event()
    t = threading.Thread(target=_timed_static,
                         args=(server.port, results, stop))
    before = cpu_seconds(pids)
    t.start()
    try:
        answers = [H.request(server.port, "POST", "/wsman", body, headers,
                             timeout=60) for _ in range(rounds)]
    finally:
        stop.set()
        t.join()
    spent = cpu_seconds(pids) - before
    return answers, spent, results


def test_anonymous_attribute_flood_is_refused_cheaply(server):
    """Four anonymous Identify bodies of ~450 kB with 40000 attributes on
    one element: refused before parsing, a few ms of worker CPU in all
    (before: 3-7 s each), and the static site next to it stays quick."""
    off = server.log_size()
    body = attribute_flood()
    assert len(body) < 500 * 1024
    answers, spent, static = _attack(server, body, ANON)
    for r in answers:
        H.assert_fault(r, 500, subcode=("w", "EncodingLimit"))
    assert spent < 0.1, "workers spent %.2f s on 4 requests" % spent
    assert static and all(st == 200 for st, _ in static), static
    assert max(d for _, d in static) < 0.5, static
    assert H.wait_for_line(
        server.error_log,
        lambda l: "unauthenticated request" in l and "8192" in l,
        offset=off), server.read_log(off)


def test_anonymous_small_identify_still_answered(server):
    r = H.request(server.port, "POST", "/wsman", H.IDENTIFY, ANON)
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("wsmid", "IdentifyResponse")


@pytest.mark.parametrize("chunked", [False, True])
def test_anonymous_body_over_8k_refused(server, chunked):
    """Padding (a comment) takes an Identify over 8k: refused unparsed,
    also when the size is only known after reading (chunked)."""
    body = H.IDENTIFY.replace("<s:Header/>",
                              "<s:Header/><!--%s-->" % ("x" * 9000))
    body = body.encode()
    r = H.request(server.port, "POST", "/wsman", body, ANON,
                  chunks=[body[:4000], body[4000:]] if chunked else None)
    H.assert_fault(r, 500, subcode=("w", "EncodingLimit"))


def test_authenticated_attribute_flood_is_refused_cheaply(server, client):
    """Authenticated users get the same caps: too many attributes on one
    element is w:EncodingLimit before libxml2 runs."""
    body = attribute_flood()
    headers = {"Authorization": client.auth(), "Content-Type": H.SOAP_CT}
    answers, spent, _ = _attack(server, body, headers, rounds=2)
    for r in answers:
        H.assert_fault(r, 500, subcode=("w", "EncodingLimit"))
        assert "128 attributes" in r.text, r
    assert spent < 0.1, "workers spent %.2f s on 2 requests" % spent


def _config_get_with(extra_headers):
    xml, _ = H.config_get(headers=extra_headers)
    return xml


@pytest.mark.parametrize("what,extra", [
    # many elements of a few attributes each
    ("elements", "<x:Big xmlns:x='urn:x'>%s</x:Big>"
     % ("<x:i/>" * 40000)),
    # many attributes spread over elements
    ("attributes", "<x:Big xmlns:x='urn:x'>%s</x:Big>"
     % "".join("<x:i %s/>" % " ".join("a%d='%d'" % (j, j)
                                      for j in range(60))
               for i in range(300))),
    # namespaces declared on nested elements, a prefix of the outermost
    # used by many elements: libxml2 looks it up through all of them
    # (1.7 s for 7600 declarations before the cap)
    ("namespaces", "%s%s%s" % (
        "".join("<x:e%d %s>" % (d, " ".join(
            "xmlns:p%d_%d='urn:%d'" % (d, j, j) for j in range(100)))
            for d in range(40)).replace("<x:e0 ", "<x:e0 xmlns:x='urn:x' "),
        "<p0_0:i/>" * 20000,
        "".join("</x:e%d>" % d for d in reversed(range(40))))),
], ids=["elements", "attributes", "namespaces"])
def test_envelope_node_caps(client, what, extra):
    r = client.post(_config_get_with(extra))
    H.assert_fault(r, 500, subcode=("w", "EncodingLimit"))
    assert what in r.text, r


def test_legitimate_large_envelope_still_works(client):
    """~400 kB of base64 text and a few hundred small elements in an
    authenticated request are fine (a shell Send carries such text)."""
    import base64
    blob = base64.b64encode(os.urandom(290 * 1024)).decode()
    extra = ("<x:Data xmlns:x='urn:x'>%s</x:Data>"
             "<x:List xmlns:x='urn:x'>%s</x:List>"
             % (blob, "".join("<x:i n='%d' m='v'/>" % i
                              for i in range(500))))
    body = _config_get_with(extra)
    assert 390 * 1024 < len(body) < 500 * 1024
    r = client.post(body)
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("cfg", "Config")


@pytest.mark.parametrize("decl", ["UTF-7", "IBM037"])
def test_encodings_that_hide_markup_are_refused(client, decl):
    """The caps read the bytes as UTF-8, UTF-16 or a single-byte ASCII
    superset; an encoding that can spell '<' otherwise is refused."""
    xml, _ = H.config_get()
    xml = xml.replace('encoding="utf-8"', 'encoding="%s"' % decl)
    r = client.post(xml.encode())
    H.assert_fault(r, 500)


def test_utf16_attribute_flood_is_refused(client):
    """The pre-scan reads UTF-16 as UTF-16, not as bytes."""
    body = attribute_flood(20000).decode()
    body = b"\xff\xfe" + ('<?xml version="1.0" encoding="UTF-16"?>'
                          + body).encode("utf-16-le")
    r = client.post(body)
    H.assert_fault(r, 500, subcode=("w", "EncodingLimit"))


# ------------------------------------------------------ sealed bodies --

def test_sealed_plaintext_over_limit_gets_encoding_limit(gss_server,
                                                         ntlm_users):
    """An NTLM-sealed envelope whose plaintext is a little over 500k (the
    sealed body fits the limit plus framing): w:EncodingLimit, sealed,
    not an empty 200."""
    import wsman_gss as G
    s = G.Session(gss_server.port, "/enc",
                  gss=G.GssClient("ntlm", user="bob",
                                  password="BobPassw0rd!"))
    try:
        r = s.authenticate()
        assert r.status == 200, r
        pad = "<x:Pad xmlns:x='urn:x'>%s</x:Pad>"
        base = len(H.config_get(headers=pad % "")[0])
        xml, mid = H.config_get(
            headers=pad % ("p" * (500 * 1024 + 200 - base)))
        assert len(xml) == 500 * 1024 + 200
        r, plain = s.send_encrypted(xml)
        assert plain is not None, r
        f = H.assert_fault(G.plain_response(r, plain), 500,
                           subcode=("w", "EncodingLimit"))
        assert f.relates_to is None or f.relates_to == mid
        # the session goes on
        xml, _ = H.config_get()
        r, plain = s.send_encrypted(xml)
        assert r.status == 200, r
        assert H.body_child(G.plain_response(r, plain)).tag == \
            H.q("cfg", "Config")
    finally:
        s.close()


# ------------------------------------------ the enumeration zone, shared --

PROCESSOR = H.class_uri("CIM_Processor")

# the 64k zone server of test_enumerate.py's zone-full tests
from test_enumerate import ZONE_HTTP  # noqa: E402


def _open_until_quota(port, client, user, limit=3000, wql=None):
    """Enumerations left open by user until w:QuotaLimit; returns
    (contexts, fault response)."""
    auth = [("Authorization", client.auth(user)),
            ("Content-Type", H.SOAP_CT)]
    conn = H.Connection(port)
    contexts = []
    try:
        for _ in range(limit):
            if conn.closed:
                conn.close()
                conn = H.Connection(port)
            xml, _ = H.enumerate_request(PROCESSOR, wql=wql)
            r = conn.request("POST", "/wsman", xml, auth)
            if r.status != 200:
                return contexts, r
            contexts.append(H.EnumPage(r, pull=False).context)
    finally:
        conn.close()
    return contexts, None


def test_one_user_cannot_fill_the_zone(nginx_factory, users):
    """alice opens enumerations until she is refused: that is her share
    (a quarter of the zone), and bob can still open as many as she did,
    while her contexts stay alive (nothing of hers or his is evicted)."""
    n = nginx_factory(ZONE_HTTP)
    client = H.Client(n.port, users)
    off = n.log_size()
    mine, fault = _open_until_quota(n.port, client, "alice")
    assert fault is not None, "alice was never refused"
    H.assert_fault(fault, 500, subcode=("w", "QuotaLimit"))
    assert len(mine) >= 10, len(mine)
    assert H.wait_for_line(n.error_log,
                           lambda l: "alice" in l and "share" in l,
                           offset=off), n.read_log(off)
    # bob gets as many as alice did: the zone was not full
    theirs, fault = _open_until_quota(n.port, client, "bob",
                                      limit=len(mine))
    assert fault is None, fault
    assert len(theirs) == len(mine)
    # every context of both still works
    for user, ctx in (("alice", mine[0]), ("alice", mine[-1]),
                      ("bob", theirs[0]), ("bob", theirs[-1])):
        p = H.EnumPage(client.post(H.pull_request(ctx, PROCESSOR)[0],
                                   user=user), pull=True)
        assert len(p.items) == 1, (user, ctx)
    # alice releasing one makes room for one of hers
    r = client.post(H.release_request(mine[1], PROCESSOR)[0])
    assert r.status == 200, r
    r = client.post(H.enumerate_request(PROCESSOR)[0])
    assert r.status == 200, r


def test_long_filter_text_is_refused(client):
    """A WQL filter is stored with the context: more than 4096 characters
    is w:CannotProcessFilter before anything runs or is stored."""
    wql = "SELECT * FROM CIM_Processor WHERE DeviceID = '%s'" % ("x" * 5000)
    r = client.post(H.enumerate_request(PROCESSOR, wql=wql)[0])
    H.assert_fault(r, 500, subcode=("w", "CannotProcessFilter"))
    assert "4096" in r.text, r
    # a selector filter counts the same way
    r = client.post(H.enumerate_request(
        PROCESSOR, selectors={"DeviceID": "y" * 5000})[0])
    H.assert_fault(r, 500, subcode=("w", "CannotProcessFilter"))
    # a normal filter is fine
    r = client.post(H.enumerate_request(
        PROCESSOR, wql="SELECT * FROM CIM_Processor")[0])
    assert r.status == 200, r


# ------------------------------------------- PAM and IPMI thread pools --

import ipmi_sim as S  # noqa: E402
import test_ipmi as TI  # noqa: E402

POOLS_HTTP = TI.IPMI_HTTP.replace("    server {", """    server {
        location /pam { wsman; wsman_auth basic; wsman_pam @slowfail@;
                        wsman_allow_unencrypted on; }
        location /pamsmall { wsman; wsman_auth basic;
                             wsman_pam @slowfail@ thread_pool=wsman_tiny;
                             wsman_allow_unencrypted on; }
        location / { return 200 "static site\\n"; }""", 1)


@pytest.fixture(scope="module")
def pools(nginx_factory, pam_services, tmp_path_factory):
    """One worker with the IPMI plug-in (against ipmi_sim) and PAM
    locations whose service sleeps 3 s and then refuses."""
    script = pam_services.dir / "pam-slow-fail.sh"
    script.write_text("#!/bin/sh\nsleep 3\nexit 1\n")
    script.chmod(0o755)
    name = pam_services._add(
        "slowfail", "auth required pam_exec.so quiet %s\n"
                    "auth required pam_deny.so\n"
                    "account required pam_deny.so\n" % script)
    sim = S.IpmiSim(tmp_path_factory.mktemp("ipmisim")).start()
    snippet = POOLS_HTTP.replace("@slowfail@", name) % {
        "directive": TI._directive(sim, "cache=0s")}
    n = nginx_factory(snippet, workers=1,
                      main_snippet="thread_pool wsman_tiny threads=1 "
                                   "max_queue=1;")
    yield n
    sim.close()


def _failing_login(port, path, out):
    t0 = time.monotonic()
    r = H.request(port, "POST", path, H.config_get()[0],
                  {"Content-Type": H.SOAP_CT,
                   "Authorization": H.basic("nobody-at-all", "wrong")},
                  timeout=30)
    out.append((r.status, time.monotonic() - t0))


def _ipmi_get(port):
    t0 = time.monotonic()
    r = H.request(port, "POST", "/wsman", H.get_request(
        H.class_uri("CIM_RecordLog"), {"InstanceID": "IPMI:SEL"})[0],
        {"Content-Type": H.SOAP_CT,
         "Authorization": H.basic("alice", USERS_ALICE)}, timeout=30)
    return r, time.monotonic() - t0


USERS_ALICE = "Alice-Pw-6b1f!x"


def test_failing_logins_do_not_starve_ipmi(pools):
    """40 slow failing PAM logins at once (more than nginx's default
    pool has threads) while the BMC is asked: the IPMI request answers
    at once, from its own pool."""
    r, _ = _ipmi_get(pools.port)
    assert r.status == 200, r
    out = []
    threads = [threading.Thread(target=_failing_login,
                                args=(pools.port, "/pam", out))
               for _ in range(40)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        r, took = _ipmi_get(pools.port)
        assert r.status == 200, r
        assert took < 1.5, "IPMI waited %.1f s behind PAM" % took
    finally:
        for t in threads:
            t.join()
    assert len(out) == 40 and all(st == 401 for st, _ in out), out


def test_full_pam_queue_fails_fast(pools):
    """thread_pool wsman_tiny threads=1 max_queue=1: of 6 logins at once,
    one runs, one waits, the others get 503 at once, with a log line."""
    off = pools.log_size()
    out = []
    threads = [threading.Thread(target=_failing_login,
                                args=(pools.port, "/pamsmall", out))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    busy = [d for st, d in out if st == 503]
    assert len(busy) >= 3, out
    assert max(busy) < 1.0, out
    assert [st for st, _ in out].count(401) >= 1, out
    assert H.wait_for_line(pools.error_log,
                           lambda l: "PAM check" in l and "full" in l,
                           offset=off), pools.read_log(off)
    assert '"wsman_tiny" queue overflow' in pools.read_log(off)


@pytest.mark.parametrize("snippet,message", [
    ("wsman_pam login thread_pool=nosuch;", 'unknown thread pool "nosuch"'),
    ("wsman_pam login thread_pool=;", "thread_pool"),
    ("wsman_pam login bogus=1;", "bogus"),
    # the user file's hashing pool (test_auth_nonblock.py)
    ("wsman_user_file @USERFILE@ thread_pool=nosuch;",
     'unknown thread pool "nosuch"'),
    ("wsman_user_file @USERFILE@ thread_pool=;", "thread_pool"),
    ("wsman_user_file @USERFILE@ bogus=1;", "bogus"),
])
def test_pool_conf_errors(nginx_factory, snippet, message):
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic; %s }
    }
""" % snippet, start=False)
    p = n.test_config()
    assert p.returncode != 0, p.stderr
    assert message in p.stderr, p.stderr


def test_ipmi_pool_conf_error(nginx_factory, tmp_path):
    n = nginx_factory("""
    wsman_ipmi 127.0.0.1:1 user=u password=p thread_pool=nosuch;
    server { listen 127.0.0.1:@PORT@; location /wsman { wsman; } }
""", start=False)
    p = n.test_config()
    assert p.returncode != 0, p.stderr
    assert 'unknown thread pool "nosuch"' in p.stderr, p.stderr


def test_declared_pools_are_used(nginx_factory, tmp_path):
    """Pools declared by the administrator are taken as they are."""
    n = nginx_factory("""
    wsman_ipmi 127.0.0.1:1 user=u password=p thread_pool=bmc;
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic;
                          wsman_pam login thread_pool=logins; }
    }
""", start=False, main_snippet="thread_pool bmc threads=1 max_queue=8;\n"
                               "thread_pool logins threads=2;")
    p = n.test_config()
    assert p.returncode == 0, p.stderr


def test_large_shell_send_still_works(shell_nginx, shell_users, deadline):
    """A real 400 kB Send (290 kB of input, base64) from an authenticated
    user passes the caps and reaches the command whole."""
    srv = shell_nginx({"/wsman": "wsman_shell_allow_root on;"}, workers=2)
    c = H.ShellClient(srv.port, "root", shell_users["root"])
    data = os.urandom(290 * 1024)
    xml, _ = H.send_request("0" * 8, "0" * 8, data, end=True)
    assert 380 * 1024 < len(xml) < 500 * 1024
    out, err, code = c.run("wc", ["-c"], stdin=data)
    assert code == 0, err
    assert out.strip() == str(len(data)).encode(), out


def test_authenticated_selector_flood_is_refused_cheaply(server, client):
    """Selectors are checked for duplicates pairwise: thousands of them in
    one envelope are w:EncodingLimit (SelectorLimit), not seconds of a
    worker's time."""
    sels = "".join('<w:Selector Name="%s%06d">v</w:Selector>' % ("s" * 30, i)
                   for i in range(5800))
    body, _ = H.config_get(
        headers="<w:SelectorSet>%s</w:SelectorSet>" % sels)
    headers = {"Authorization": client.auth(), "Content-Type": H.SOAP_CT}
    answers, spent, _ = _attack(server, body.encode(), headers, rounds=2)
    for r in answers:
        H.assert_fault(r, (400, 500), subcode=("w", "EncodingLimit"))
        assert "SelectorLimit" in r.text and "64 selectors" in r.text, r
    assert spent < 0.1, "workers spent %.2f s on 2 requests" % spent


def test_selectors_up_to_the_limit_are_parsed(client):
    """64 selectors are still a request (the class then says they are not
    its keys)."""
    sels = "".join('<w:Selector Name="k%d">v</w:Selector>' % i
                   for i in range(64))
    body, _ = H.config_get(
        headers="<w:SelectorSet>%s</w:SelectorSet>" % sels)
    r = client.post(body)
    H.assert_fault(r, (400, 500), subcode=("w", "InvalidSelectors"))
    assert "UnexpectedSelectors" in r.text, r
