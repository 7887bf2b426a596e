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
import subprocess
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
    for k in ("WSMAN_TEST_REDIS", "WSMAN_TEST_KAFKA", "WSMAN_TEST_CONTROL"):
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
