"""The event collector's redis and kafka outputs against real servers: a
redis-server and librdkafka's mock Kafka cluster over TCP.

The unit group `wec_outputs` (t/unit/test_wec_outputs.c) calls the
outputs' configure() and write() as the delivery path does, from
threads; this file starts the servers, runs the group with their
addresses, takes them away and back when it asks (CONTROL lines), and
reads back what arrived with redis-cli and kcat."""

import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import SO

UNIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unit")
BIN = os.path.join(UNIT, "test_unit")

pytestmark = pytest.mark.usefixtures("deadline")


@pytest.fixture(scope="module")
def unit_bin():
    """t/unit/test_unit, built against the module's build dir."""
    build = os.path.dirname(SO)
    if os.path.basename(build) == "build-asan":
        # make sanitize: its unit objects need the sanitizer runtime this
        # link does not have; make test runs the drivers, and the
        # end-to-end tests here run against the sanitized module
        pytest.skip("unit drivers are not built for make sanitize")
    if not os.path.exists(os.path.join(build, "ngx_auto_config.h")):
        pytest.fail("%s/ngx_auto_config.h missing: run `make` first" % build)
    p = subprocess.run(
        ["make", "-s", "-C", UNIT, BIN, "BUILD=" + build,
         "NGX_SRC=" + os.environ.get("NGX_SRC", "/usr/share/nginx/src")],
        capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "building the unit tests failed:\n%s%s" % (
        p.stdout, p.stderr)
    return BIN


def run_group(env, control=None, prefix=()):
    """Run `test_unit wec_outputs` with env (under the command prefix,
    e.g. valgrind); control(what) is called for each CONTROL line before
    the group goes on.  -> its stdout."""
    e = dict(os.environ)
    for k in ("WSMAN_TEST_REDIS", "WSMAN_TEST_REDIS_UNIX",
              "WSMAN_TEST_KAFKA", "WSMAN_TEST_CONTROL"):
        e.pop(k, None)
    e.update(env)
    if control:
        e["WSMAN_TEST_CONTROL"] = "1"
    p = subprocess.Popen(list(prefix) + [BIN, "wec_outputs"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=e)
    out = []
    for line in p.stdout:
        out.append(line)
        if line.startswith("CONTROL "):
            control(line.split()[1])
            p.stdin.write("done\n")
            p.stdin.flush()
    p.stdin.close()
    rc = p.wait(timeout=120)
    text = "".join(out)
    assert rc == 0 and not re.search(r"^FAIL ", text, re.M), text
    assert " 0 failed" in text.splitlines()[-1], text
    return text


def test_group_skips_writes_without_servers(unit_bin):
    # plain `make unit`: the configuration checks run, the writes say why
    # they did not
    out = run_group({})
    assert "WSMAN_TEST_REDIS unset" in out
    assert "WSMAN_TEST_KAFKA unset" in out


def test_redis_every_event_arrives_and_reconnects(unit_bin, redis_server):
    tag = uuid.uuid4().hex
    seen = []

    def control(what):
        seen.append(what)
        if what == "redis-stop":
            redis_server.stop()
        elif what == "redis-start":
            redis_server.start()
        elif what == "redis-restart":
            redis_server.stop()
            redis_server.start()

    run_group({"WSMAN_TEST_REDIS": redis_server.address,
               "WSMAN_TEST_REDIS_UNIX": str(redis_server.socket),
               "WSMAN_TEST_TAG": tag}, control)
    assert seen == ["redis-stop", "redis-start", "redis-restart"]

    # the stream name template: one stream per subscription and source
    alice = [f for _, f in redis_server.xrange("wec:sub-one:alice@WSMAN.TEST")
             if tag in f.get("event", "")]
    host1 = [f for _, f in
             redis_server.xrange("wec:sub-one:HOST1$@WSMAN.TEST")
             if tag in f.get("event", "")]

    events = [json.loads(f["event"]) for f in alice]
    # the first batch (5), nothing of the batch written while the server
    # was down, the batch after it came back (4), the one after a restart
    # (3), in order
    assert [(e["step"], e["n"]) for e in events] == \
        [("first", n) for n in range(5)] + [("again", n) for n in range(4)] \
        + [("restart", n) for n in range(3)]
    assert all(f["source"] == "alice@WSMAN.TEST" for f in alice)
    assert all(f["subscription"] == "sub-one" for f in alice)
    assert all(f["machine"] == "machine.wsman.test" for f in alice)

    assert [json.loads(f["event"])["n"] for f in host1] == list(range(7))
    assert all(f["source"] == "HOST1$@WSMAN.TEST" for f in host1)

    # unix:/path
    assert [json.loads(f["event"])["n"] for f in
            redis_events(redis_server, "wec-unix", tag)] == list(range(6))

    # format=xml: the event document itself
    xml = [f["event"] for _, f in redis_server.xrange("wec-xml")
           if tag in f.get("event", "")]
    assert xml == ["<Event><Tag>%s</Tag><Step>first</Step><N>%d</N>"
                   "</Event>" % (tag, n) for n in range(5)]


def kafka_control(kafka_mock, seen):
    def control(what):
        seen.append(what)
        if what == "kafka-down":
            kafka_mock.command("down 1")
        elif what == "kafka-up":
            kafka_mock.command("up 1")
        elif what == "kafka-slow":
            kafka_mock.command("rtt 1 5000")
        elif what == "kafka-fast":
            kafka_mock.command("rtt 1 0")
    return control


def test_kafka_every_event_delivered_keyed_by_source(unit_bin, kafka_mock):
    tag = uuid.uuid4().hex
    seen = []
    control = kafka_control(kafka_mock, seen)

    run_group({"WSMAN_TEST_KAFKA": kafka_mock.bootstrap,
               "WSMAN_TEST_TAG": tag}, control)
    assert seen == ["kafka-down", "kafka-up", "kafka-slow", "kafka-fast"]

    rows = [(p, k, json.loads(v)) for p, k, v in
            kafka_mock.consume("wec-json") if tag in v]

    by_key = {}
    for p, k, ev in rows:
        by_key.setdefault(k, []).append((p, ev["step"], ev["n"]))

    # keys are the sources; every event of the three concurrent batches
    assert set(by_key) == {"alice@WSMAN.TEST", "HOST1$@WSMAN.TEST",
                           "HOST2$@WSMAN.TEST"}
    for k in ("HOST1$@WSMAN.TEST", "HOST2$@WSMAN.TEST"):
        assert [(s, n) for _, s, n in by_key[k]] == \
            [("first", n) for n in range(20)]
    alice = [(s, n) for _, s, n in by_key["alice@WSMAN.TEST"]]
    assert alice[:20] == [("first", n) for n in range(20)]
    # after the broker came back: the next batch, in order
    assert [x for x in alice if x[0] == "again"] == \
        [("again", n) for n in range(4)]
    # and after a broker slower than the timeout is quick again
    assert [x for x in alice if x[0] == "fast"] == \
        [("fast", n) for n in range(2)]

    # one source, one partition: its events stay in order
    for k, evs in by_key.items():
        assert len({p for p, _, _ in evs}) == 1, (k, evs)

    # the subscription and the claimed machine ride along as headers
    for _, k, h, v in kafka_mock.consume("wec-json", headers=True):
        if tag in v:
            assert h == {"subscription": "sub-one",
                         "machine": "machine.wsman.test"}, h

    xml = [v for _, k, v in kafka_mock.consume("wec-xml") if tag in v]
    assert xml == ["<Event><Tag>%s</Tag><Step>first</Step><N>%d</N>"
                   "</Event>" % (tag, n) for n in range(20)]


# ------------------------------------------------------------- nginx -t --

CONF = """
    wsman_wec_subscription sec {
        query '<QueryList><Query Id="0"><Select Path="Security">*</Select></Query></QueryList>';
        %s
    }
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_wec on; wsman_auth basic;
                          wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on; }
    }
"""


def nginx_t(nginx_factory, outputs):
    return nginx_factory(CONF % outputs, start=False).test_config()


def test_nginx_t_accepts_the_outputs(nginx_factory):
    p = nginx_t(nginx_factory, """
        output redis 127.0.0.1:6379 stream=wec:$subscription:$source
               maxlen=100000 password=s3cret timeout=2s;
        output redis unix:/run/redis/redis.sock stream=wec format=xml;
        output kafka k1:9092,k2:9092 topic=windows-events format=json
               timeout=15s security.protocol=sasl_ssl sasl.mechanism=PLAIN
               sasl.username=wec sasl.password=s3cret
               ssl.ca.location=/etc/ssl/certs/ca-certificates.crt;
    """)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("line, message", [
    ("output redis 127.0.0.1:6379;", "needs stream=NAME"),
    ("output redis 127.0.0.1:6379 stream=$computer;",
     "$subscription and $source only"),
    ("output redis 127.0.0.1:99999 stream=s;", "invalid address"),
    ("output redis 127.0.0.1:6379 stream=s maxlen=-1;",
     'invalid setting "maxlen"'),
    ("output redis 127.0.0.1:6379 stream=s db=2;", 'invalid setting "db"'),
    ("output kafka k1:9092 format=json;", "needs topic=NAME"),
    ("output kafka k1:9092 topic=a/b;", 'invalid setting "topic"'),
    ("output kafka k1:9092 topic=t compression.codec=rar;",
     "compression.codec"),
    ("output kafka k1:9092 topic=t no.such.thing=1;",
     'No such configuration property: "no.such.thing"'),
    ("output kafka k1:9092 topic=t acks=some;", "acks"),
    ("output kafka k1:9092 topic=t bootstrap.servers=k2:9092;",
     'invalid setting "bootstrap.servers"'),
])
def test_nginx_t_rejects_bad_outputs(nginx_factory, line, message):
    p = nginx_t(nginx_factory, line)
    assert p.returncode != 0
    assert message in p.stderr, p.stderr


def test_nginx_t_never_shows_a_password(nginx_factory):
    p = nginx_t(nginx_factory,
                "output redis h:1 stream=s password=Hunter2 bogus=Hunter2;")
    assert p.returncode != 0
    assert 'invalid setting "bogus"' in p.stderr
    assert "Hunter2" not in p.stderr


@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind missing")
def test_outputs_under_valgrind(unit_bin, redis_server, kafka_mock):
    # threads, reconnects, and Kafka reports that come after write() gave
    # up: no invalid access, nothing leaked
    seen = []
    kafka = kafka_control(kafka_mock, seen)

    def control(what):
        if what == "redis-stop":
            redis_server.stop()
        elif what == "redis-start":
            redis_server.start()
        elif what == "redis-restart":
            redis_server.stop()
            redis_server.start()
        else:
            kafka(what)

    run_group({"WSMAN_TEST_REDIS": redis_server.address,
               "WSMAN_TEST_KAFKA": kafka_mock.bootstrap,
               "WSMAN_TEST_TAG": uuid.uuid4().hex}, control,
              prefix=("valgrind", "-q", "--leak-check=full",
                      "--errors-for-leak-kinds=definite,possible",
                      "--error-exitcode=99"))
    assert seen == ["kafka-down", "kafka-up", "kafka-slow", "kafka-fast"]


# ---------------------------------------------------------- end to end --
# nginx with `wsman_wec on;` and subscriptions whose outputs are the real
# servers; a Basic source Enumerates, then POSTs Events as Windows does
# (t/test_wec_delivery.py's messages)

import conftest  # noqa: E402
import wsman_helpers as H  # noqa: E402
from test_wec_delivery import (ACTION_EVENTS, assert_ack,  # noqa: E402
                               delivery, event_xml, notify_to, post)

E2E = """
    wsman_wec_subscription to-redis {
        query '%(q)s';
        output redis @REDIS@ stream=e2e:$subscription:$source timeout=1s;
        output redis @REDIS@ stream=e2e-xml format=xml timeout=1s;
    }
    wsman_wec_subscription to-kafka {
        query '%(q)s';
        output kafka @KAFKA@ topic=wec-e2e timeout=2s
                     reconnect.backoff.max.ms=300;
    }
    server {
        listen 127.0.0.1:@PORT@;
        wsman_user_file @USERFILE@;
        location /wsman { wsman; wsman_wec on; wsman_auth basic;
                          wsman_allow_unencrypted on; }
    }
""" % {"q": '<QueryList><Query Id="0"><Select Path="Security">*</Select>'
            '</Query></QueryList>'}


@pytest.fixture(scope="module")
def e2e(nginx_factory, redis_server, kafka_mock):
    return nginx_factory(E2E.replace("@REDIS@", redis_server.address)
                         .replace("@KAFKA@", kafka_mock.bootstrap))


def send(n, sub, records, user="alice", tag="-"):
    addr = notify_to(n, user, sub)
    xml, mid = delivery(addr, ACTION_EVENTS,
                        [event_xml(r, data=tag) for r in records],
                        bookmark=records[-1])
    return post(n, addr, xml, user), mid


def assert_not_acked(n, r, off, what):
    # a fault, no Ack: the source keeps the batch and sends it again
    f = H.assert_fault(r, subcode=("w", "InternalError"))
    assert "send them again" in f.reason
    log = n.read_log(off)
    assert what in log and "not acknowledged" in log, log[-2000:]


def redis_events(redis_server, stream, tag):
    return [f for _, f in redis_server.xrange(stream)
            if tag in f.get("event", "")]


def test_e2e_redis_events_arrive(e2e, redis_server):
    tag = uuid.uuid4().hex
    r, mid = send(e2e, "to-redis", [101, 102, 103], tag=tag)
    assert_ack(r, mid)
    got = redis_events(redis_server, "e2e:to-redis:alice", tag)
    assert [json.loads(f["event"])["record_id"] for f in got] == \
        [101, 102, 103]
    for f in got:
        ev = json.loads(f["event"])
        assert ev["source"] == f["source"] == "alice"
        assert ev["subscription"] == f["subscription"] == "to-redis"
        assert f["machine"] == "win10.wsman.test"
        assert ev["data"]["TargetUserName"] == tag
    xml = [f["event"] for f in redis_events(redis_server, "e2e-xml", tag)]
    assert xml == [event_xml(r, data=tag) for r in (101, 102, 103)]


def test_e2e_redis_down_no_ack_then_the_retry_is_stored(e2e, redis_server):
    tag = uuid.uuid4().hex
    off = e2e.log_size()
    redis_server.stop()
    try:
        r, mid = send(e2e, "to-redis", [201, 202], tag=tag)
        assert_not_acked(e2e, r, off, "wec redis output")
    finally:
        redis_server.start()
    # the source sends the batch again: both workers reconnect
    for _ in range(2):
        r, mid = send(e2e, "to-redis", [201, 202], tag=tag)
        assert_ack(r, mid)
    got = redis_events(redis_server, "e2e:to-redis:alice", tag)
    assert [json.loads(f["event"])["record_id"] for f in got] == \
        [201, 202] * 2


def test_e2e_kafka_events_arrive_keyed_by_source(e2e, kafka_mock):
    tag = uuid.uuid4().hex
    r, mid = send(e2e, "to-kafka", [301, 302, 303, 304], tag=tag)
    assert_ack(r, mid)
    r, mid = send(e2e, "to-kafka", [401, 402], user="bob", tag=tag)
    assert_ack(r, mid)
    rows = [(p, k, json.loads(v)) for p, k, v in
            kafka_mock.consume("wec-e2e") if tag in v]
    assert [(k, ev["record_id"]) for _, k, ev in rows
            if k == "alice"] == [("alice", n) for n in (301, 302, 303, 304)]
    assert [(k, ev["record_id"]) for _, k, ev in rows
            if k == "bob"] == [("bob", 401), ("bob", 402)]
    assert len(rows) == 6
    assert all(ev["source"] == k for _, k, ev in rows)
    for key in ("alice", "bob"):
        assert len({p for p, k, _ in rows if k == key}) == 1


def test_e2e_kafka_down_no_ack_then_the_retry_is_stored(e2e, kafka_mock):
    tag = uuid.uuid4().hex
    off = e2e.log_size()
    kafka_mock.command("down 1")
    try:
        r, mid = send(e2e, "to-kafka", [501, 502], tag=tag)
        assert_not_acked(e2e, r, off, "not confirmed")
    finally:
        kafka_mock.command("up 1")
    # the producer reconnects on its own; the source's next try is acked
    for _ in range(20):
        r, mid = send(e2e, "to-kafka", [501, 502], tag=tag)
        if r.status == 200:
            break
        time.sleep(0.5)
    assert_ack(r, mid)
    rows = [json.loads(v)["record_id"] for _, k, v in
            kafka_mock.consume("wec-e2e") if tag in v]
    # at least once: what the broker had before it went away may be there
    # twice, the acknowledged batch is there in order
    assert rows[-2:] == [501, 502]


def test_e2e_reload_and_quit_close_producers_and_connections(
        nginx_factory, redis_server, kafka_mock):
    # workers that made a producer and a connection leave cleanly and
    # promptly on a reload (close() of every output), the new ones make
    # their own
    n = nginx_factory(E2E.replace("@REDIS@", redis_server.address)
                      .replace("@KAFKA@", kafka_mock.bootstrap))
    tag = uuid.uuid4().hex
    for _ in range(4):
        for sub in ("to-redis", "to-kafka"):
            r, mid = send(n, sub, [601], tag=tag)
            assert_ack(r, mid)
    old = set(H.worker_pids(n))
    off = n.log_size()
    n.proc.send_signal(signal.SIGHUP)

    def reloaded():
        log = n.read_log(off)
        return all("worker process %d exited with code 0" % p in log
                   for p in old)

    assert H.wait_until(reloaded, 20), n.read_log(off)
    for sub in ("to-redis", "to-kafka"):
        r, mid = send(n, sub, [602], tag=tag)
        assert_ack(r, mid)
    start = time.time()
    n.stop()
    assert n.proc.returncode == 0
    assert time.time() - start < 10
    assert "exited on signal" not in n.read_log(0)


@pytest.mark.log_allows("wec kafka output", "wec redis output")
def test_e2e_quit_with_the_servers_down_is_prompt(nginx_factory,
                                                  redis_server, kafka_mock):
    # a worker's exit closes a producer whose broker is gone and a
    # connection to a stopped server without waiting on them
    n = nginx_factory(E2E.replace("@REDIS@", redis_server.address)
                      .replace("@KAFKA@", kafka_mock.bootstrap))
    tag = uuid.uuid4().hex
    for _ in range(4):
        for sub in ("to-redis", "to-kafka"):
            r, mid = send(n, sub, [701], tag=tag)
            assert_ack(r, mid)
    kafka_mock.command("down 1")
    redis_server.stop()
    try:
        r, mid = send(n, "to-kafka", [702], tag=tag)
        assert r.status != 200 or H.is_fault(r)
        start = time.time()
        n.stop()
        took = time.time() - start
    finally:
        kafka_mock.command("up 1")
        redis_server.start()
    assert n.proc.returncode == 0
    assert took < 8, took
    assert "exited on signal" not in n.read_log(0)
