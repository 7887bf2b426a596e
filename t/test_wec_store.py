"""The event collector's state store (issue [10]): `wsman_wec_store
sqlite:PATH` (the default, one file for every worker) and
`wsman_wec_store postgresql:CONNINFO` (collectors behind one load balancer
share it).

The C unit group `wec_store` (t/unit/test_wec_store.c) drives the store
functions directly against a SQLite file and against a REAL PostgreSQL
cluster (the `postgres` fixture), including the cluster being stopped,
started again and frozen; nginx -t checks the directive; end to end,
Basic sources deliver Events and Heartbeats to nginx (one node on the
default SQLite file, two nodes sharing PostgreSQL) and the rows are read
back with sqlite3 and psql."""

import json
import os
import re
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import pytest

import conftest
import wsman_helpers as H
from test_wec import NS
from test_wec_delivery import (ACTION_EVENTS, ACTION_HEARTBEAT, assert_ack,
                               delivery, event_xml, lines, notify_to, post)

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "unit")

QUERY = ('<QueryList><Query Id="0"><Select Path="Application">*'
         '</Select></Query></QueryList>')


def _unit(env):
    build = os.path.dirname(conftest.SO)
    if os.path.basename(build) == "build-asan":
        # make sanitize: its unit objects need the sanitizer runtime this
        # link does not have; make test runs the drivers, and the
        # end-to-end tests here run against the sanitized module
        pytest.skip("unit drivers are not built for make sanitize")
    if not os.path.exists(os.path.join(build, "ngx_auto_config.h")):
        pytest.fail("%s/ngx_auto_config.h missing: run `make` first" % build)
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("WSMAN_TEST_PG"):
            del e[k]
    e.update(env)
    return subprocess.run(
        ["make", "-s", "-C", UNIT, "BUILD=" + build, "GROUP=wec_store",
         "NGX_SRC=" + os.environ.get("NGX_SRC", "/usr/share/nginx/src")],
        capture_output=True, text=True, timeout=600, env=e,
        stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def unit_run(postgres):
    """The unit group against the real cluster, once for this module."""
    p = _unit({"WSMAN_TEST_PG": postgres.conninfo,
               "WSMAN_TEST_PG_STOP": postgres.stop_cmd,
               "WSMAN_TEST_PG_START": postgres.start_cmd,
               "WSMAN_TEST_PG_PAUSE": postgres.pause_cmd,
               "WSMAN_TEST_PG_RESUME": postgres.resume_cmd})
    # whatever happened, the cluster is up and thawed for the next user
    subprocess.run(postgres.resume_cmd, shell=True, check=False)
    if not postgres.running():
        postgres.start()
    return p


def test_unit_group_against_sqlite_and_postgresql(unit_run):
    p = unit_run
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert re.search(r"^wec_store\s+ok$", p.stdout, re.M), out
    assert re.search(r"^\d+ passed, 0 failed$", p.stdout, re.M), out
    # nothing of it was skipped
    assert "is not set" not in out, out
    # the server's notices go to the error log, not to stderr (libpq's
    # default), which is nginx's
    assert "NOTICE:" not in out and "WARNING:" not in out, out
    # a server that stops answering costs 3 x connect_timeout, no more
    m = re.search(r"^wec_store: postgresql: a hung server cost (\d+) ms$",
                  p.stdout, re.M)
    assert m and 2500 <= int(m.group(1)) < 6000, out
    # the measurements, for the record (pytest -s shows them)
    bench = re.findall(r"^wec_store: (\w+): 10000 heartbeats in one flush: "
                       r"([\d.]+) ms new rows, ([\d.]+) ms updates$",
                       p.stdout, re.M)
    assert sorted(b[0] for b in bench) == ["postgresql", "sqlite"], out
    for kind, new, upd in bench:
        print("%s: 10000 heartbeats: %s ms new rows, %s ms updates"
              % (kind, new, upd))


def test_postgresql_rows_as_stored(unit_run, postgres):
    """What the unit run left in the cluster, read back with psql: the
    schema version row, the table's key, names with quotes and UTF-8
    byte for byte, and the outage case's retried batch."""
    assert unit_run.returncode == 0, unit_run.stdout
    assert postgres.psql(
        "SELECT value FROM wec_meta WHERE name = 'schema'").strip() == "1"
    key = postgres.psql(
        "SELECT string_agg(a.attname, ',' ORDER BY k.n) "
        "FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, n), "
        "pg_attribute a WHERE i.indrelid = 'wec_sources'::regclass "
        "AND i.indisprimary AND a.attrelid = i.indrelid "
        "AND a.attnum = k.attnum").strip()
    assert key == "subscription,source"
    evil = postgres.psql(
        "SELECT source FROM wec_sources WHERE source LIKE 'O''Brien%'")
    assert ("O'Brien \"PC\"; DROP TABLE wec_sources; -- J\u00fcrgen "
            "\u2713 \u65e5\u672c \U0001f4bb $1 ?1 %s") in evil
    assert postgres.psql(
        "SELECT bookmark || '|' || last_heartbeat FROM wec_sources "
        "WHERE subscription = 'outage' AND source = 'WIN$'").strip() \
        == "<B2/>|300"
    # the heartbeat flushes of 10,000 sources
    n = postgres.psql("SELECT count(*) FROM wec_sources "
                      "WHERE subscription LIKE '%-bench'")
    assert int(n) % 10000 == 0 and int(n) >= 10000


def test_unit_group_without_postgresql_skips_it_saying_so():
    """Plain `make unit` stays green without a server and says what it
    left out."""
    p = _unit({})
    assert p.returncode == 0, p.stdout + p.stderr
    assert "WSMAN_TEST_PG (a conninfo) is not set" in p.stdout
    assert re.search(r"^wec_store: sqlite: 10000 heartbeats", p.stdout,
                     re.M), p.stdout


def _conf(store):
    return """
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_wec on; wsman_auth basic;
                        wsman_user_file @USERFILE@; } }
    %s
    wsman_wec_subscription a { query '%s'; }
""" % (store, QUERY)


@pytest.mark.parametrize("store", [
    "",                                         # the default: sqlite
    "wsman_wec_store sqlite:/var/lib/wsman/state.db;",
    "wsman_wec_store sqlite:state/wec.db;",
    "wsman_wec_store 'postgresql:host=db1.example port=5432 dbname=wec "
    "user=wec connect_timeout=10';",
    "wsman_wec_store postgresql:postgresql://wec:secret@db1,db2/wec"
    "?target_session_attrs=read-write;",
], ids=["default", "sqlite-abs", "sqlite-rel", "pg-kv", "pg-uri"])
def test_nginx_t_accepts_store(nginx_factory, store):
    """nginx -t checks the address and connects to nothing."""
    n = nginx_factory(_conf(store), start=False)
    p = n.test_config()
    assert p.returncode == 0, p.stderr
    assert "secret" not in p.stderr


def test_nginx_t_warns_state_dir_workers_cannot_write(nginx_factory,
                                                      tmp_path):
    if os.geteuid() != 0 or conftest.WORKER_USER == "root":
        pytest.skip("needs root and unprivileged workers")
    d = tmp_path / "state"
    d.mkdir()
    os.chmod(d, 0o755)                     # root's: the workers cannot write
    n = nginx_factory(_conf("wsman_wec_store sqlite:%s/wec.db;" % d),
                      start=False)
    p = n.test_config()
    assert p.returncode == 0, p.stderr
    assert "the workers' user may not write it or its directory" in p.stderr
    # theirs: no warning
    os.chown(d, *conftest.worker_ids())
    p = n.test_config()
    assert p.returncode == 0, p.stderr
    assert "may not write" not in p.stderr, p.stderr
    # the file itself read-only for them
    (d / "wec.db").write_text("")
    os.chmod(d / "wec.db", 0o644)
    p = n.test_config()
    assert "may not write it" in p.stderr, p.stderr
    os.chown(d / "wec.db", *conftest.worker_ids())
    p = n.test_config()
    assert "may not write" not in p.stderr, p.stderr


@pytest.mark.parametrize("store,message", [
    ("wsman_wec_store sqlite:;", "needs the path"),
    ("wsman_wec_store mysql:db;", 'unknown state store "mysql"'),
    ("wsman_wec_store /var/lib/state.db;", "KIND:ADDRESS"),
    ("wsman_wec_store 'postgresql:host=db port';",
     "invalid PostgreSQL conninfo"),
    ("wsman_wec_store 'postgresql:host=db nosuch=1';",
     "invalid PostgreSQL conninfo"),
    ("wsman_wec_store 'postgresql:host=db connect_timeout=0';",
     "connect_timeout must be 1 to 600"),
    ("wsman_wec_store sqlite:a.db; wsman_wec_store sqlite:b.db;",
     "is duplicate"),
], ids=["sqlite-empty", "unknown-kind", "no-kind", "pg-syntax",
        "pg-unknown-key", "pg-no-timeout", "duplicate"])
def test_nginx_t_refuses_store(nginx_factory, store, message):
    n = nginx_factory(_conf(store), start=False)
    p = n.test_config()
    assert p.returncode != 0, p.stderr
    assert message in p.stderr, p.stderr
    assert "emerg" in p.stderr


# ------------------------------------------------------------ end to end --
# nginx with `wsman_wec on;`, Basic sources posting Events and Heartbeats
# (the messages of t/test_wec_delivery.py), the store read back with the
# databases' own clients.

E2E_QUERY = ('<QueryList><Query Id="0"><Select Path="Security">*</Select>'
             '</Query></QueryList>')

E2E = """
    %(store)s
    wsman_wec_heartbeat_flush 500ms;
    wsman_wec_subscription security {
        query '%(q)s';
        delivery min_latency;
        output json_file @PREFIX@/events/$source.jsonl;
    }
    server {
        listen 127.0.0.1:@PORT@;
        wsman_user_file @USERFILE@;
        location /wsman {
            wsman; wsman_wec on; wsman_auth basic;
            wsman_allow_unencrypted on;
        }
        location = /wec-metrics { wsman_wec_metrics; }
        location = /static { return 200 "static\\n"; }
    }
"""


def _node(nginx_factory, store="", workers=2):
    n = nginx_factory(E2E % {"store": store, "q": E2E_QUERY}, start=False,
                      workers=workers)
    conftest.worker_dirs(n, "events")
    return n.start()


def _sqlite(path, sql):
    return subprocess.run(["sqlite3", "-readonly", "-separator", "|",
                           str(path), sql], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()


def _metrics(n):
    st, _, body = H.raw_request(n.port, "GET", "/wec-metrics")
    assert st == 200, body
    return json.loads(body)


def _wait(what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.1)
    return what()


def test_e2e_default_sqlite_store(nginx_factory):
    """No wsman_wec_store: wec/state.db under the prefix, made by nginx
    for the workers' user (www-data), holds each source's bookmark, event
    count and heartbeat."""
    n = _node(nginx_factory)
    db = n.prefix / "wec" / "state.db"
    if os.geteuid() == 0:
        assert (n.prefix / "wec").stat().st_uid == conftest.worker_ids()[0]
        assert oct((n.prefix / "wec").stat().st_mode & 0o777) == "0o700"
    addr = notify_to(n, "alice", "security")
    xml, mid = delivery(addr, ACTION_EVENTS,
                        [event_xml(i) for i in (11, 12, 13)], bookmark=13)
    assert_ack(post(n, addr, xml, "alice"), mid)
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(14)], bookmark=14,
                        machine="win10-renamed.wsman.test")
    assert_ack(post(n, addr, xml, "alice"), mid)
    row = _sqlite(db, "SELECT machine, events, bookmark, first_seen <= "
                      "last_event FROM wec_sources WHERE subscription = "
                      "'security' AND source = 'alice'")
    assert row == ('win10-renamed.wsman.test|4|<BookmarkList><Bookmark '
                   'Channel="Security" RecordId="14" IsCurrent="true"/>'
                   '</BookmarkList>|1'), row
    assert _sqlite(db, "PRAGMA journal_mode") == "wal"
    if os.geteuid() == 0:
        assert db.stat().st_uid == conftest.worker_ids()[0]
    # a heartbeat: flushed within wsman_wec_heartbeat_flush
    xml, mid = delivery(addr, ACTION_HEARTBEAT)
    assert_ack(post(n, addr, xml, "alice"), mid)
    assert _wait(lambda: _sqlite(
        db, "SELECT last_heartbeat > 0 FROM wec_sources WHERE source = "
            "'alice'") == "1")
    m = _metrics(n)
    assert m["state_store"] == {"kind": "sqlite", "ok": True}
    n.stop()


def test_e2e_sqlite_store_not_writable_no_ack(nginx_factory, tmp_path):
    """A state file the workers may not write: the events are in the
    output, but no Ack (the source sends them again), and the log says
    why; once it is writable the same batch is acknowledged and stored."""
    d = tmp_path / "state"
    d.mkdir()
    os.chmod(d, 0o755)                     # root's: www-data cannot write
    n = _node(nginx_factory, "wsman_wec_store sqlite:%s/wec.db;" % d)
    if os.geteuid() != 0 or conftest.WORKER_USER == "root":
        n.stop()
        pytest.skip("needs unprivileged workers")
    addr = notify_to(n, "alice", "security")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(21)], bookmark=21)
    off = n.log_size()
    r = post(n, addr, xml, "alice")
    f = H.assert_fault(r, subcode=("w", "InternalError"))
    assert "send them again" in f.reason
    log = n.read_log(off)
    assert "wsman wec store \"%s/wec.db\": cannot open" % d in log, log
    assert "not acknowledged" in log
    assert not (d / "wec.db").exists()
    os.chown(d, *conftest.worker_ids())
    assert_ack(post(n, addr, xml, "alice"), mid)
    assert _sqlite(d / "wec.db", "SELECT events FROM wec_sources") == "1"
    n.stop()


@pytest.fixture(scope="module")
def pg_nodes(nginx_factory, postgres):
    """Two collectors (as behind one load balancer) sharing the cluster."""
    conninfo = postgres.new_database()
    store = "wsman_wec_store 'postgresql:%s';" % conninfo
    a = _node(nginx_factory, store)
    b = _node(nginx_factory, store)
    a.db = b.db = conninfo.split("dbname=")[1].split()[0]
    yield a, b
    a.stop()
    b.stop()


def _pg_row(postgres, db, source, cols="events, bookmark"):
    return postgres.psql(
        "SELECT %s FROM wec_sources WHERE subscription = 'security' "
        "AND source = '%s'" % (cols, source), db=db).strip()


def test_e2e_postgresql_any_node_serves_any_source(pg_nodes, postgres):
    a, b = pg_nodes
    addr = notify_to(a, "bob", "security")
    xml, mid = delivery(addr, ACTION_EVENTS,
                        [event_xml(i) for i in (31, 32)], bookmark=32)
    assert_ack(post(a, addr, xml, "bob"), mid)
    assert _pg_row(postgres, a.db, "bob") == (
        '2|<BookmarkList><Bookmark Channel="Security" RecordId="32" '
        'IsCurrent="true"/></BookmarkList>')
    # the same source, the other node (its address is the same)
    assert notify_to(b, "bob", "security").split("/", 3)[3] == \
        addr.split("/", 3)[3]
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(33)], bookmark=33)
    assert_ack(post(b, addr, xml, "bob"), mid)
    assert _pg_row(postgres, a.db, "bob").startswith(
        '3|<BookmarkList><Bookmark Channel="Security" RecordId="33"')
    # each node's output has its own share
    assert [g["record_id"] for g in lines(a.prefix / "events/bob.jsonl")] \
        == [31, 32]
    assert [g["record_id"] for g in lines(b.prefix / "events/bob.jsonl")] \
        == [33]
    # heartbeats through either node reach the one table
    xml, mid = delivery(addr, ACTION_HEARTBEAT)
    assert_ack(post(b, addr, xml, "bob"), mid)
    assert _wait(lambda: _pg_row(postgres, a.db, "bob", "last_heartbeat > 0")
                 == "t")
    # both nodes' metrics read the one table: bob, active
    for n in (a, b):
        m = _metrics(n)
        assert m["state_store"] == {"kind": "postgresql", "ok": True}, m
        src = m["subscriptions"][0]["sources"]
        assert src["known"] >= 1 and src["active"] >= 1, m


def test_e2e_postgresql_down_no_ack_then_retried_batch_stored(pg_nodes,
                                                               postgres):
    """The database goes away: events are not acknowledged (the source
    keeps them) and the log says why; back again, the batch the source
    sends again is acknowledged and its bookmark stored, by the same
    workers (they reconnect)."""
    a, b = pg_nodes
    addr = notify_to(a, "carol", "security")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(41)], bookmark=41)
    assert_ack(post(a, addr, xml, "carol"), mid)
    postgres.stop()
    try:
        xml, mid = delivery(addr, ACTION_EVENTS,
                            [event_xml(42), event_xml(43)], bookmark=43)
        for n in (a, b):
            off = n.log_size()
            t0 = time.time()
            r = post(n, addr, xml, "carol")
            assert time.time() - t0 < 8
            H.assert_fault(r, subcode=("w", "InternalError"))
            log = n.read_log(off)
            assert "wsman wec store \"postgresql://127.0.0.1:%d/%s\"" \
                % (postgres.port, a.db) in log, log
            assert "not acknowledged" in log
            assert "password" not in log
        m = _metrics(a)
        assert m["state_store"]["ok"] is False, m
    finally:
        postgres.start()
    # the source's retry, to either node
    assert_ack(post(b, addr, xml, "carol"), mid)
    assert _pg_row(postgres, a.db, "carol") == (
        '3|<BookmarkList><Bookmark Channel="Security" RecordId="43" '
        'IsCurrent="true"/></BookmarkList>')
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(44)], bookmark=44)
    assert_ack(post(a, addr, xml, "carol"), mid)
    assert _pg_row(postgres, a.db, "carol").startswith("4|")


def test_e2e_postgresql_frozen_worker_keeps_serving(nginx_factory,
                                                    postgres):
    """The database stops answering on a live connection (SIGSTOP): the
    batch waits in a pool thread for 3 x connect_timeout, then is not
    acknowledged; meanwhile the same (only) worker answers other requests
    at once; thawed, the retried batch is stored."""
    conninfo = postgres.new_database()
    n = _node(nginx_factory, "wsman_wec_store 'postgresql:%s "
              "connect_timeout=1';" % conninfo, workers=1)
    addr = notify_to(n, "erin", "security")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(51)], bookmark=51)
    assert_ack(post(n, addr, xml, "erin"), mid)     # connected
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(52)], bookmark=52)
    result = {}

    def deliver():
        t0 = time.time()
        result["r"] = post(n, addr, xml, "erin")
        result["took"] = time.time() - t0

    subprocess.run(postgres.pause_cmd, shell=True, check=True)
    try:
        t = threading.Thread(target=deliver)
        t.start()
        time.sleep(0.5)
        for _ in range(5):
            t0 = time.time()
            st, _, body = H.raw_request(n.port, "GET", "/static", timeout=5)
            assert st == 200 and time.time() - t0 < 0.5
        t.join(20)
        assert not t.is_alive()
    finally:
        subprocess.run(postgres.resume_cmd, shell=True, check=True)
    H.assert_fault(result["r"], subcode=("w", "InternalError"))
    assert 2.5 <= result["took"] < 8, result["took"]
    assert "timed out after 3000 ms" in n.read_log()
    # the retried batch: stored (the frozen statement may have been
    # committed after the thaw all the same: counted once either way)
    assert_ack(post(n, addr, xml, "erin"), mid)
    assert _pg_row(postgres, conninfo.split("dbname=")[1].split()[0],
                   "erin").startswith(
        '2|<BookmarkList><Bookmark Channel="Security" RecordId="52"')
    n.stop()


@pytest.mark.parametrize("what", ["enumerate", "events"])
def test_e2e_graceful_quit_waits_for_the_store(nginx_factory, postgres,
                                               what):
    """`nginx -s quit` while a thread task waits for a frozen database
    (an Enumerate reading its bookmarks, a batch storing its own): the
    worker stays until the store answers, the source gets its answer
    (the subscriptions with the stored bookmark, the Ack), then nginx
    exits.  One hold serves both tasks."""
    from test_wec import basic_enumerate, subscriptions
    conninfo = postgres.new_database()
    n = _node(nginx_factory, "wsman_wec_store 'postgresql:%s "
              "connect_timeout=5';" % conninfo, workers=1)
    addr = notify_to(n, "frank", "security")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(61)], bookmark=61)
    assert_ack(post(n, addr, xml, "frank"), mid)        # connected, stored
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(62)], bookmark=62)
    result = {}

    def request():
        try:
            if what == "enumerate":
                result["r"] = basic_enumerate(n, "frank")
            else:
                result["r"] = post(n, addr, xml, "frank"), mid
        except Exception as e:          # the worker left without an answer
            result["e"] = e

    subprocess.run(postgres.pause_cmd, shell=True, check=True)
    try:
        t = threading.Thread(target=request)
        t.start()
        time.sleep(0.7)
        assert t.is_alive(), result     # the store is not answering
        n.proc.send_signal(signal.SIGQUIT)
        time.sleep(1.5)
        assert n.proc.poll() is None    # still there: an answer is owed
    finally:
        subprocess.run(postgres.resume_cmd, shell=True, check=True)
    t.join(20)
    assert not t.is_alive()
    assert "e" not in result, result
    r, rmid = result["r"]
    if what == "enumerate":
        assert r.status == 200, r
        sub = subscriptions(r.body, rmid)["security"]
        bm = sub.find("s:Envelope/s:Body/e:Subscribe/w:Bookmark", NS)
        assert bm is not None and 'RecordId="61"' in ET.tostring(
            bm, encoding="unicode"), ET.tostring(sub, encoding="unicode")
    else:
        assert_ack(r, rmid)
        assert _pg_row(postgres, conninfo.split("dbname=")[1].split()[0],
                       "frank").startswith(
            '2|<BookmarkList><Bookmark Channel="Security" RecordId="62"')
    # then nginx goes
    assert n.proc.wait(timeout=15) == 0
