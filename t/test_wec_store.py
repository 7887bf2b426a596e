"""The event collector's state store (issue [10]): `wsman_wec_store
sqlite:PATH` (the default, one file for every worker) and
`wsman_wec_store postgresql:CONNINFO` (collectors behind one load balancer
share it).

The store functions run in the module's thread pool once the delivery
path calls them; here the C unit group `wec_store` (t/unit/test_wec_store.c)
drives them directly against a SQLite file and against a REAL PostgreSQL
cluster (the `postgres` fixture), including the cluster being stopped and
started again; nginx -t checks the directive."""

import os
import re
import subprocess

import pytest

import conftest

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "unit")

QUERY = ('<QueryList><Query Id="0"><Select Path="Application">*'
         '</Select></Query></QueryList>')


def _unit(env):
    build = os.path.dirname(conftest.SO)
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
