"""WS-Enumeration: Enumerate, Pull and Release on the inventory classes.
Contexts live in shared memory (4 workers, a new connection per request),
batches obey MaxElements, wsman_max_batch_items, MaxCharacters and the
envelope size; EPR modes, TotalItemsCountEstimate, WQL and selector
filters, the context lifecycle and the context zone running full."""

import os
import time
import uuid

import pytest

import wsman_helpers as H

PROCESS = H.class_uri("CIM_Process")
W32_PROCESS = H.class_uri("Win32_Process")
PROCESSOR = H.class_uri("CIM_Processor")


def _enum(client, uri=PROCESS, path="/wsman", user="alice", **kw):
    xml, mid = H.enumerate_request(uri, **kw)
    r = client.post(xml, path=path, user=user)
    page = H.EnumPage(r, pull=False)
    assert H.header_text(r, "a", "RelatesTo") == mid
    return page


def _pull(client, ctx, uri=PROCESS, path="/wsman", user="alice", **kw):
    xml, mid = H.pull_request(ctx, uri, **kw)
    return client.post(xml, path=path, user=user)


def _assert_invalid_context(r):
    f = H.assert_fault(r, 500, subcode=("n", "InvalidEnumerationContext"))
    assert f.wsman_code == H.CODE_INVALID_ENUMERATION_CONTEXT, f
    return f


def _handles(items, cls="CIM_Process"):
    out = []
    for it in items:
        assert it.tag == "{%s}%s" % (H.class_uri(cls), cls), it.tag
        out.append(H.props(it)["Handle"])
    return out


def _proc_pids():
    return {int(d) for d in os.listdir("/proc") if d.isdigit()}


# ------------------------------------------------------------ basics --

def test_non_optimized_enumerate_returns_only_a_context(inv_client):
    page = _enum(inv_client)
    assert H.UUID_RE.match(page.context or ""), page
    assert not page.has_items and not page.end, page.resp.body[:800]
    # default MaxElements of a Pull is 1
    r = _pull(inv_client, page.context)
    p = H.EnumPage(r, pull=True)
    assert len(p.items) == 1 and not p.end and p.context == page.context


def test_process_enumeration_matches_proc_across_workers(inv_server,
                                                         inv_client,
                                                         sleepers):
    """MaxElements 7, every Pull on a new connection to one of 4 workers:
    every sleeper appears exactly once, no handle twice, and the set
    matches /proc up to processes that came or went meanwhile."""
    log = inv_server.logs / "inv.log"
    offset = H.file_size(log)
    before = _proc_pids()
    items, pages = H.enumerate_all(inv_client, PROCESS, pull_max=7)
    after = _proc_pids()
    # the Pulls really were served by more than one worker (a request's
    # line is written after its response: wait for them, not 0.3 s)
    def pull_workers():
        with open(log, "rb") as f:
            f.seek(offset)
            return {l.split("|")[0] for l in
                    f.read().decode(errors="replace").splitlines()
                    if l.split("|")[1:2] == [H.ACTION_PULL]}
    assert H.wait_until(lambda: len(pull_workers()) >= 2, 3), \
        pull_workers()
    handles = _handles(items)
    dups = sorted({h for h in handles if handles.count(h) > 1})
    assert not dups, "duplicate handles across Pulls: %s" % dups
    got = {int(h) for h in handles}
    for p in sleepers:
        assert handles.count(str(p.pid)) == 1, p.pid
    assert all(len(pg.items) <= 7 for pg in pages[1:])
    stable = before & after
    missing = stable - got
    extra = got - (before | after)
    assert len(missing) <= 3, "stable processes missing: %s" % missing
    assert len(extra) <= 5, "unknown handles: %s" % extra
    assert len(pages) >= len(handles) // 7


def test_concurrent_enumerations_stay_apart(inv_client, sleepers):
    """8 enumerations at once (different classes and users), Pulls on new
    connections to 4 workers: none sees another's items or loses its
    own."""
    import concurrent.futures as cf

    def run(i):
        cls = ("CIM_Process", "Win32_Process")[i % 2]
        user = ("alice", "bob", "carol", "dave")[i % 4]
        items, _ = H.enumerate_all(inv_client, H.class_uri(cls),
                                   user=user, pull_max=3 + i)
        return cls, _handles(items, cls)

    with cf.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(run, range(8)))
    for cls, handles in results:
        assert len(handles) == len(set(handles)), cls
        for s in sleepers:
            assert str(s.pid) in handles, (cls, s.pid)


def test_win32_process_enumeration_no_duplicates(inv_client, sleepers):
    items, _ = H.enumerate_all(inv_client, W32_PROCESS, pull_max=7)
    handles = _handles(items, "Win32_Process")
    assert len(handles) == len(set(handles))
    for p in sleepers:
        assert str(p.pid) in handles


def test_optimized_enumeration_with_max_elements(inv_client, sleepers):
    page = _enum(inv_client, optimize=True, max_elements=5)
    assert page.has_items and len(page.items) == 5, page
    assert not page.end and H.UUID_RE.match(page.context or ""), page
    first = _handles(page.items)
    # the rest comes with Pull and does not repeat the first batch
    rest = []
    ctx = page.context
    for _ in range(5000):
        p = H.EnumPage(_pull(inv_client, ctx, max_elements=50), pull=True)
        rest += _handles(p.items)
        if p.end:
            break
    else:
        pytest.fail("no EndOfSequence")
    assert not set(first) & set(rest)
    for s in sleepers:
        assert (first + rest).count(str(s.pid)) == 1


def test_optimized_default_max_elements_is_one(inv_client):
    page = _enum(inv_client, optimize=True)
    assert len(page.items) == 1 and not page.end, page


def test_optimized_complete_enumeration(inv_client):
    page = _enum(inv_client, uri=PROCESSOR, optimize=True,
                 max_elements=10000)
    assert page.end, page
    assert page.context == "", \
        "finished optimized enumeration must carry an empty context"
    assert len(page.items) == os.cpu_count()


def test_optimized_exact_fit_is_complete(inv_client):
    """MaxElements equal to the number of instances: all of them in the
    EnumerateResponse, and the enumeration is complete."""
    page = _enum(inv_client, uri=PROCESSOR, optimize=True,
                 max_elements=os.cpu_count())
    assert len(page.items) == os.cpu_count()
    assert page.end and page.context == "", page


@pytest.mark.parametrize("how", ["selector", "wql"])
def test_optimized_single_match_is_complete(inv_client, sleepers, how):
    pid = str(sleepers[7].pid)
    kw = {"selectors": {"Handle": pid}} if how == "selector" else \
        {"wql": "SELECT * FROM CIM_Process WHERE Handle = '%s'" % pid}
    page = _enum(inv_client, optimize=True, max_elements=1, **kw)
    assert _handles(page.items) == [pid]
    assert page.end and page.context == "", page


def test_end_of_sequence_then_pull_is_invalid(inv_client):
    page = _enum(inv_client, uri=PROCESSOR)
    ctx = page.context
    p = H.EnumPage(_pull(inv_client, ctx, uri=PROCESSOR, max_elements=10000),
                   pull=True)
    assert p.end and p.context is None and len(p.items) == os.cpu_count()
    _assert_invalid_context(_pull(inv_client, ctx, uri=PROCESSOR))


def test_epr_mode(inv_client, sleepers):
    items, _ = H.enumerate_all(inv_client, PROCESS, pull_max=50,
                               mode="EnumerateEPR")
    seen = []
    for it in items:
        addr, uri, sels = H.epr(it)
        assert addr == H.ANONYMOUS
        assert uri == PROCESS
        assert set(sels) >= {"Handle"}, sels
        seen.append(sels["Handle"])
    assert len(seen) == len(set(seen))
    for s in sleepers:
        assert str(s.pid) in seen


def test_object_and_epr_mode(inv_client, sleepers):
    pid = str(sleepers[0].pid)
    items, _ = H.enumerate_all(inv_client, PROCESS, pull_max=50,
                               mode="EnumerateObjectAndEPR",
                               wql="SELECT * FROM CIM_Process WHERE "
                                   "Handle = '%s'" % pid)
    assert len(items) == 1
    it = items[0]
    assert it.tag == H.q("w", "Item"), it.tag
    kids = list(it)
    assert len(kids) == 2, [k.tag for k in kids]
    obj, ref = kids
    assert obj.tag == "{%s}CIM_Process" % PROCESS
    assert H.props(obj)["Handle"] == pid
    _, uri, sels = H.epr(ref)
    assert uri == PROCESS and sels["Handle"] == pid


def test_total_items_count_estimate(inv_client):
    page = _enum(inv_client, uri=PROCESSOR, total=True)
    assert page.total == str(os.cpu_count()), page.resp.body[:800]
    before = len(_proc_pids())
    page = _enum(inv_client, total=True)
    assert page.total is not None and page.total.isdigit()
    assert abs(int(page.total) - before) <= 10, (page.total, before)
    # not asked for: not sent
    assert _enum(inv_client, uri=PROCESSOR).total is None


# ------------------------------------------------------------ filters --

def _wql(client, query, uri=PROCESS, **kw):
    items, _ = H.enumerate_all(client, uri, pull_max=100, wql=query, **kw)
    return items


def test_wql_where_handle_quoted(inv_client, sleepers):
    pid = str(sleepers[1].pid)
    items = _wql(inv_client, "SELECT * FROM CIM_Process WHERE Handle = '%s'"
                 % pid)
    assert _handles(items) == [pid]


def test_wql_where_handle_number(inv_client, sleepers):
    pid = str(sleepers[1].pid)
    items = _wql(inv_client, "SELECT * FROM CIM_Process WHERE Handle = %s"
                 % pid)
    assert _handles(items) == [pid]


def test_wql_like(inv_client, sleepers):
    items = _wql(inv_client,
                 "SELECT * FROM CIM_Process WHERE Name LIKE 'slee%'")
    names = {H.props(i)["Name"] for i in items}
    assert names == {"sleep"}, names
    handles = _handles(items)
    for s in sleepers:
        assert str(s.pid) in handles


def test_wql_and_or(inv_client, sleepers):
    a, b = str(sleepers[2].pid), str(sleepers[3].pid)
    items = _wql(inv_client, "SELECT * FROM CIM_Process WHERE Handle = '%s' "
                 "OR Handle = '%s'" % (a, b))
    assert sorted(_handles(items)) == sorted([a, b])
    items = _wql(inv_client, "SELECT * FROM CIM_Process WHERE Name = 'sleep' "
                 "AND Handle = '%s'" % a)
    assert _handles(items) == [a]
    items = _wql(inv_client, "SELECT * FROM CIM_Process WHERE "
                 "Name = 'no-such-process-name' AND Handle = '%s'" % a)
    assert items == []


def test_wql_no_match_optimized(inv_client):
    page = _enum(inv_client, optimize=True, max_elements=10,
                 wql="SELECT * FROM CIM_Process WHERE Handle = '-1'")
    assert page.end and page.items == [] and page.context == "", page


def test_wql_select_list(inv_client, sleepers):
    pid = str(sleepers[4].pid)
    items = _wql(inv_client, "SELECT Name, Handle FROM CIM_Process "
                 "WHERE Handle = '%s'" % pid)
    assert len(items) == 1
    assert H.props(items[0]) == {"Name": "sleep", "Handle": pid}


def test_wql_win32_process_id(inv_client, sleepers):
    pid = sleepers[5].pid
    items = _wql(inv_client, "SELECT * FROM Win32_Process WHERE "
                 "ProcessId = %d" % pid, uri=W32_PROCESS)
    assert _handles(items, "Win32_Process") == [str(pid)]


def test_wql_wildcard_uri(inv_client, sleepers):
    pid = sleepers[5].pid
    items = _wql(inv_client, "SELECT * FROM Win32_Process WHERE "
                 "Handle = '%d'" % pid, uri=H.WMI_BASE + "*")
    assert _handles(items, "Win32_Process") == [str(pid)]


def test_selector_filter(inv_client, sleepers):
    pid = str(sleepers[6].pid)
    items, _ = H.enumerate_all(inv_client, PROCESS,
                               selectors={"Handle": pid})
    assert _handles(items) == [pid]


def test_unknown_filter_dialect(inv_client):
    xml, _ = H.enumerate_request(PROCESS, dialect="urn:no-such-dialect",
                                 filter_body="x")
    H.assert_fault(inv_client.post(xml), 500,
                   subcode=("w", "FilterDialectRequestedUnavailable"))


@pytest.mark.parametrize("query", [
    "SELECT FROM CIM_Process",
    "SELECT * FROM CIM_Process WHERE Handle = ",
    "SELECT * FROM CIM_Process WHERE Name LIKE 'unterminated",
    "SELECT * CIM_Process",
])
def test_wql_syntax_error(inv_client, query):
    xml, _ = H.enumerate_request(PROCESS, wql=query)
    f = H.assert_fault(inv_client.post(xml), 500,
                       subcode=("w", "CannotProcessFilter"))
    assert "position" in f.reason, f.reason


@pytest.mark.parametrize("query", [
    "SELECT * FROM CIM_Process WHERE " + "(" * 5000 + "Handle = '1'"
    + ")" * 5000,
    "SELECT * FROM CIM_Process WHERE " + " OR ".join(
        "Handle = '%d'" % i for i in range(3000)),
    "SELECT " + ", ".join(["Name"] * 3000) + " FROM CIM_Process",
    "SELECT * FROM CIM_Process WHERE Name LIKE '" + "%_" * 2000 + "x'",
])
def test_wql_hostile(inv_client, query):
    """Deep nesting, long disjunctions, long lists, pathological LIKE
    patterns: a fault or a result, fast, and the server lives on."""
    xml, _ = H.enumerate_request(PROCESS, optimize=True, max_elements=5,
                                 wql=query)
    t = time.time()
    r = inv_client.post(xml, timeout=20)
    assert time.time() - t < 10
    if r.status != 200:
        H.assert_fault(r, (400, 500))
    r = inv_client.post(H.IDENTIFY)
    assert r.status == 200


def test_wql_other_class(inv_client):
    xml, _ = H.enumerate_request(PROCESS,
                                 wql="SELECT * FROM Win32_Process")
    H.assert_fault(inv_client.post(xml), 500,
                   subcode=("w", "CannotProcessFilter"))


# ------------------------------------------------- batches and sizes --

def test_batch_cap(inv_client, sleepers):
    items, pages = H.enumerate_all(inv_client, PROCESS, path="/batch5",
                                   pull_max=50)
    assert all(len(p.items) <= 5 for p in pages), \
        [len(p.items) for p in pages]
    assert any(len(p.items) == 5 for p in pages)
    handles = _handles(items)
    assert len(handles) == len(set(handles))
    for s in sleepers:
        assert str(s.pid) in handles


def test_batch_cap_optimized(inv_client):
    page = _enum(inv_client, path="/batch5", optimize=True,
                 max_elements=50)
    assert len(page.items) == 5, page


def test_max_characters_one_item_per_pull(inv_client, sleepers):
    items, pages = H.enumerate_all(inv_client, PROCESS, pull_max=50,
                                   max_characters=100,
                                   wql="SELECT * FROM CIM_Process WHERE "
                                       "Name = 'sleep'")
    assert all(len(p.items) == 1 for p in pages[1:-1]), \
        [len(p.items) for p in pages]
    assert len(pages[-1].items) <= 1
    handles = _handles(items)
    for s in sleepers:
        assert handles.count(str(s.pid)) == 1


def test_envelope_size_bounds_batch(inv_client, sleepers):
    items, pages = H.enumerate_all(inv_client, W32_PROCESS, pull_max=500,
                                   pull_kw={"max_envelope_size": 8192})
    for p in pages[1:]:
        assert len(p.resp.body) <= 8192, len(p.resp.body)
        assert len(p.items) >= 1 or p.end
    assert any(len(p.items) > 1 for p in pages[1:]), \
        "8 KB should hold more than one process"
    handles = _handles(items, "Win32_Process")
    assert len(handles) == len(set(handles))
    for s in sleepers:
        assert str(s.pid) in handles


# --------------------------------------------------- context lifecycle --

def test_release_then_pull_is_invalid(inv_client):
    page = _enum(inv_client)
    xml, mid = H.release_request(page.context, PROCESS)
    r = inv_client.post(xml)
    assert r.status == 200, r
    assert H.header_text(r, "a", "Action") == \
        H.NS["n"] + "/ReleaseResponse"
    assert H.header_text(r, "a", "RelatesTo") == mid
    assert H.body_child(r) is None, r.body[:600]
    _assert_invalid_context(_pull(inv_client, page.context))
    # a second Release of the same context
    _assert_invalid_context(inv_client.post(
        H.release_request(page.context, PROCESS)[0]))


def test_context_expires(inv_client):
    page = _enum(inv_client, path="/short")
    ok = H.EnumPage(_pull(inv_client, page.context, path="/short"),
                    pull=True)
    assert len(ok.items) == 1
    time.sleep(2.2)
    _assert_invalid_context(_pull(inv_client, page.context, path="/short"))


def test_context_of_another_user(inv_client):
    page = _enum(inv_client, user="alice")
    _assert_invalid_context(_pull(inv_client, page.context, user="bob"))
    _assert_invalid_context(inv_client.post(
        H.release_request(page.context, PROCESS)[0], user="bob"))


@pytest.mark.parametrize("ctx", [
    "uuid:%s" % uuid.uuid4(),
    "uuid:00000000-0000-0000-0000-000000000000",
    "garbage",
    "",
    "uuid:" + "A" * 3000,
    "'\"><&amp;",
])
def test_forged_context(inv_client, ctx):
    _assert_invalid_context(_pull(inv_client, ctx))


def test_pull_for_another_class_uses_context_of_its_own(inv_client):
    """The context carries its class: a Pull naming a different resource
    URI must not mix classes (fault or the original class)."""
    page = _enum(inv_client, uri=PROCESSOR)
    r = _pull(inv_client, page.context, uri=PROCESS, max_elements=1)
    if r.status == 200:
        p = H.EnumPage(r, pull=True)
        assert all(i.tag == "{%s}CIM_Processor" % PROCESSOR
                   for i in p.items)
    else:
        H.assert_fault(r, (400, 500))


# -------------------------------------------------------------- access --

def test_user_without_sids_is_denied(inv_client):
    xml, _ = H.enumerate_request(PROCESS)
    H.assert_fault(inv_client.post(xml, user="henry"), (400, 500),
                   subcode=("w", "AccessDenied"))
    page = _enum(inv_client)
    H.assert_fault(_pull(inv_client, page.context, user="henry"),
                   (400, 500), subcode=("w", "AccessDenied"))


def test_pywinrm_send_message_enumerate(inv_server, users):
    import infra
    xml, _ = H.enumerate_request(PROCESSOR, optimize=True,
                                 max_elements=10000)
    out = infra.run_pywinrm(inv_server.url("/wsman"), "basic", "alice",
                            users["alice"][0], xml)
    assert out.returncode == 0, out.stderr
    page = H.EnumPage(H.Response(200, [("Content-Type", H.SOAP_CT)],
                                 out.stdout.encode()), pull=False)
    assert page.end and len(page.items) == os.cpu_count()


# ---------------------------------------------------------- zone full --

ZONE_HTTP = """
    wsman_enumeration_zone 64k;
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic;
                          wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on; }
    }
"""


def test_zone_full_quota_limit(nginx_factory, users):
    n = nginx_factory(ZONE_HTTP)
    client = H.Client(n.port, users)
    auth = [("Authorization", client.auth("alice")),
            ("Content-Type", H.SOAP_CT)]
    conn = H.Connection(n.port)
    contexts = []
    fault = None
    try:
        for _ in range(5000):
            if conn.closed:
                conn.close()
                conn = H.Connection(n.port)
            xml, _ = H.enumerate_request(PROCESSOR)
            r = conn.request("POST", "/wsman", xml, auth)
            if r.status != 200:
                fault = r
                break
            contexts.append(H.EnumPage(r, pull=False).context)
    finally:
        conn.close()
    assert fault is not None, "no QuotaLimit after 5000 open contexts"
    H.assert_fault(fault, (400, 500), subcode=("w", "QuotaLimit"))
    assert len(contexts) >= 10, len(contexts)
    # the server still answers
    r = client.post(H.IDENTIFY)
    assert r.status == 200, r
    r = client.post(H.config_get()[0])
    assert r.status == 200 and H.body_child(r).tag == H.q("cfg", "Config")
    # still full
    H.assert_fault(client.post(H.enumerate_request(PROCESSOR)[0]),
                   (400, 500), subcode=("w", "QuotaLimit"))
    # the old contexts still work; releasing one makes room
    r = client.post(H.release_request(contexts[0], PROCESSOR)[0])
    assert r.status == 200, r
    page = H.EnumPage(client.post(H.enumerate_request(PROCESSOR)[0]),
                      pull=False)
    assert H.UUID_RE.match(page.context or "")
    p = H.EnumPage(client.post(H.pull_request(contexts[-1], PROCESSOR)[0]),
                   pull=True)
    assert len(p.items) == 1
    # full again; finishing an enumeration makes room too
    for _ in range(50):
        r = client.post(H.enumerate_request(PROCESSOR)[0])
        if r.status != 200:
            break
    H.assert_fault(r, (400, 500), subcode=("w", "QuotaLimit"))
    p = H.EnumPage(client.post(H.pull_request(
        contexts[-2], PROCESSOR, max_elements=10000)[0]), pull=True)
    assert p.end
    H.EnumPage(client.post(H.enumerate_request(PROCESSOR)[0]), pull=False)


ZONE_SHORT_HTTP = """
    wsman_enumeration_zone 64k;
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic;
                          wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on;
                          wsman_enumeration_timeout 1s; }
    }
"""


def test_zone_full_until_contexts_expire(nginx_factory, users):
    n = nginx_factory(ZONE_SHORT_HTTP)
    client = H.Client(n.port, users)
    auth = [("Authorization", client.auth("alice")),
            ("Content-Type", H.SOAP_CT)]
    conn = H.Connection(n.port)
    fault = None
    try:
        for _ in range(5000):
            if conn.closed:
                conn.close()
                conn = H.Connection(n.port)
            r = conn.request("POST", "/wsman",
                             H.enumerate_request(PROCESSOR)[0], auth)
            if r.status != 200:
                fault = r
                break
    finally:
        conn.close()
    assert fault is not None
    H.assert_fault(fault, (400, 500), subcode=("w", "QuotaLimit"))
    time.sleep(2.5)
    page = H.EnumPage(client.post(H.enumerate_request(PROCESSOR)[0]),
                      pull=False)
    assert H.UUID_RE.match(page.context or "")
