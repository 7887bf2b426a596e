"""The event collector's syslog output (`output syslog ...;`) against a
real rsyslogd (infra.Rsyslog: imtcp, plain and TLS with the ossl
driver).  The unit group wec_syslog (t/unit/test_wec_syslog.c) drives the
output as the collector's thread task does, configure() and write() of
hand-made batches, with the servers' addresses in WSMAN_TEST_SYSLOG_*;
what rsyslog parsed out of each message is checked here.  `nginx -t`
checks the directive in a real configuration."""

import json
import os
import subprocess
import uuid

import pytest

import conftest
import infra
import wsman_helpers as H
from conftest import SO

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "unit")


# ------------------------------------------------------------- fixtures --

@pytest.fixture(scope="module")
def unit_bin():
    """The unit runner, built against the module's build dir (its own
    binary there, so another build's t/unit/test_unit is not used)."""
    build = os.path.dirname(SO)
    if os.path.basename(build) == "build-asan":
        # make sanitize: its unit objects need the sanitizer runtime this
        # link does not have; make test runs the drivers, and the
        # end-to-end tests here run against the sanitized module
        pytest.skip("unit drivers are not built for make sanitize")
    if not os.path.exists(os.path.join(build, "ngx_auto_config.h")):
        pytest.fail("%s/ngx_auto_config.h missing: run `make` first" % build)
    binary = os.path.join(build, "unit", "test_unit_wec")
    p = subprocess.run(
        ["make", "-s", "-C", UNIT, binary, "BUILD=" + build, "BIN=" + binary,
         "NGX_SRC=" + os.environ.get("NGX_SRC", "/usr/share/nginx/src")],
        capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "building the unit runner failed:\n%s%s" % (
        p.stdout, p.stderr)
    return binary


@pytest.fixture(scope="module")
def rsyslog_tcp(tmp_path_factory):
    r = infra.Rsyslog(tmp_path_factory.mktemp("rsyslog")).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def rsyslog_tls(tmp_path_factory, pki):
    # the Pki's server certificate (CN and SAN localhost) is self-signed:
    # it is its own CA
    r = infra.Rsyslog(tmp_path_factory.mktemp("rsyslog_tls"),
                      tls=(pki.p("server.pem"), pki.p("server.key"))).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def rsyslog_mtls(tmp_path_factory, pki):
    """wants a client certificate of the Pki's client CA"""
    r = infra.Rsyslog(tmp_path_factory.mktemp("rsyslog_mtls"),
                      tls=(pki.p("server.pem"), pki.p("server.key")),
                      client_ca=pki.p("ca.pem")).start()
    yield r
    r.stop()

def _env(**kw):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WSMAN_TEST_SYSLOG_")}
    env.update(kw)
    return env


def _check_run(p):
    out = p.stdout if isinstance(p.stdout, str) else p.stdout.read()
    assert p.returncode == 0, out
    lines = out.splitlines()
    assert "wec_syslog ok" in lines, out
    assert lines[-1].endswith(" 0 failed"), out
    return out


def _tagged(rsyslog, tag, count):
    return rsyslog.wait_for(lambda m: tag in m["raw"], count)


def _octets(m):
    return len(m["raw"].encode())


# ---------------------------------------------------------------- tests --

def test_unit_group_skips_without_servers(unit_bin):
    """plain `make unit` stays green without servers and says so"""
    p = subprocess.run([unit_bin, "wec_syslog"], capture_output=True,
                       text=True, timeout=60, env=_env(),
                       stdin=subprocess.DEVNULL)
    out = _check_run(p)
    assert "no rsyslog over TCP" in out and "skipped" in out


def test_tcp_events_arrive(unit_bin, rsyslog_tcp):
    """Two batches (JSON, then XML) of two events each: four messages,
    each parsed by rsyslog into the RFC 5424 fields we meant; the text
    with newlines inside stays one message (octet counting)."""
    tag = "t" + uuid.uuid4().hex
    p = subprocess.run([unit_bin, "wec_syslog"], capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL,
                       env=_env(WSMAN_TEST_SYSLOG_TCP=rsyslog_tcp.address,
                                WSMAN_TEST_SYSLOG_TAG=tag))
    _check_run(p)

    got = _tagged(rsyslog_tcp, tag, 4)
    assert len(got) == 4, got
    # nothing split into pieces: no message holds only a tail
    assert not [m for m in rsyslog_tcp.messages()
                if m["raw"].startswith("line 3")]

    j1, j2, x1, x2 = got

    # JSON output, facility=local4 (20), app=wec-unit
    assert j1["pri"] == str(20 * 8 + 2)          # Level 1 -> crit
    assert j1["time"] == "2026-12-06T10:20:30.123456Z"
    assert j1["host"] == "WIN-A.corp"
    assert j1["app"] == "wec-unit"
    assert j1["procid"] == "-"
    assert j1["msgid"] == "4624"
    assert j1["sd"] == ('[wec@32473 subscription="sec" '
                        'source="alice\\]\\"\\\\" machine="WIN-A.corp"]')
    assert json.loads(j1["msg"]) == {"tag": tag, "step": "json"}

    assert j2["pri"] == str(20 * 8 + 3)          # Level 2 -> err
    assert j2["host"] == "WIN-B.corp"
    assert j2["msgid"] == "4625"
    assert j2["msg"] == ("<Event><Data>%s\njson\nline 3</Data></Event>"
                         % tag)

    # XML output: default facility local0 (16) and APP-NAME
    assert x1["pri"] == str(16 * 8 + 4)          # Level 3 -> warning
    assert x1["app"] == "wsman-wec"
    assert x1["msg"] == ("<Event><Data>%s\nxml\nline 3</Data></Event>"
                         % tag)
    assert x2["pri"] == str(16 * 8 + 3)
    assert "\n" in x2["msg"]


@pytest.mark.usefixtures("deadline")
def test_tcp_server_down_then_back(unit_bin, rsyslog_tcp):
    """The kept connection dies with the server: the next batch is
    NGX_ERROR (not written into the dead socket as if delivered); once the
    server is back the same output reconnects and delivers."""
    tag = "t" + uuid.uuid4().hex
    p = subprocess.Popen([unit_bin, "wec_syslog"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, bufsize=1,
                         env=_env(WSMAN_TEST_SYSLOG_TCP=rsyslog_tcp.address,
                                  WSMAN_TEST_SYSLOG_TAG=tag,
                                  WSMAN_TEST_SYSLOG_RESTART="1"))
    seen = []
    try:
        for line in p.stdout:
            seen.append(line)
            if line.startswith("wec_syslog: stop the server"):
                # the first two batches are in before it goes
                assert len(_tagged(rsyslog_tcp, tag, 4)) == 4
                rsyslog_tcp.stop()
                p.stdin.write("\n")
            elif line.startswith("wec_syslog: start the server"):
                rsyslog_tcp.start()
                p.stdin.write("\n")
            if line.rstrip().endswith(" failed"):
                break
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
        if rsyslog_tcp.proc is None:
            rsyslog_tcp.start()
    out = "".join(seen)
    assert p.returncode == 0, out
    assert "wec_syslog ok" in out and out.rstrip().endswith(" 0 failed"), out

    got = _tagged(rsyslog_tcp, tag, 6)
    steps = [json.loads(m["msg"])["step"] for m in got
             if m["msg"].startswith("{")]
    assert steps == ["json", "again"], got
    assert not [m for m in got if '"down"' in m["raw"]
                or "\ndown\n" in m["raw"]]


def test_tls_verified_and_refused(unit_bin, rsyslog_tls, pki):
    """TLS: verified against the right CA and name, delivered; a wrong CA
    or a wrong name is NGX_ERROR and nothing arrives; verify=off
    delivers."""
    tag = "t" + uuid.uuid4().hex
    p = subprocess.run(
        [unit_bin, "wec_syslog"], capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL,
        env=_env(WSMAN_TEST_SYSLOG_TLS=rsyslog_tls.address,
                 WSMAN_TEST_SYSLOG_CA=pki.p("server.pem"),
                 WSMAN_TEST_SYSLOG_WRONG_CA=pki.p("ca.pem"),
                 WSMAN_TEST_SYSLOG_TAG=tag))
    _check_run(p)

    got = _tagged(rsyslog_tls, tag, 6)
    steps = [json.loads(m["msg"])["step"] for m in got
             if m["msg"].startswith("{")]
    assert steps == ["tls", "tls-kept", "unverified"], got
    assert len(got) == 6
    assert got[0]["host"] == "WIN-A.corp" and got[0]["msgid"] == "4700"
    assert "\ntls\nline 3" in got[1]["msg"]


def test_tls_client_certificate(unit_bin, rsyslog_mtls, pki):
    """A server that wants a client certificate: with one of its CA the
    events arrive; without one, or with one of another CA, the server
    refuses after the (TLS 1.3) handshake and the batch is NGX_ERROR,
    not counted as delivered."""
    tag = "t" + uuid.uuid4().hex
    p = subprocess.run(
        [unit_bin, "wec_syslog"], capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL,
        env=_env(WSMAN_TEST_SYSLOG_MTLS=rsyslog_mtls.address,
                 WSMAN_TEST_SYSLOG_CA=pki.p("server.pem"),
                 WSMAN_TEST_SYSLOG_CLIENT=pki.p("alice.pem"),
                 WSMAN_TEST_SYSLOG_CLIENT_KEY=pki.p("alice.key"),
                 WSMAN_TEST_SYSLOG_ROGUE=pki.p("rogue.pem"),
                 WSMAN_TEST_SYSLOG_ROGUE_KEY=pki.p("rogue.key"),
                 WSMAN_TEST_SYSLOG_TAG=tag))
    _check_run(p)

    got = _tagged(rsyslog_mtls, tag, 4)
    steps = [json.loads(m["msg"])["step"] for m in got
             if m["msg"].startswith("{")]
    assert steps == ["mtls", "mtls-kept"], got
    assert len(got) == 4

# ------------------------------------------------------------- nginx -t --

SUB = """
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_wec on; }
    }
    wsman_wec_subscription sec {
        query '<QueryList><Query Id="0"><Select Path="Security">*</Select>
               </Query></QueryList>';
        %s
    }
"""


def _t(nginx_factory, pki, lines):
    n = nginx_factory(pki.conf(SUB % lines), start=False)
    return n.test_config()


def test_conf_good(nginx_factory, pki):
    p = _t(nginx_factory, pki, """
        output syslog tcp://127.0.0.1:514;
        output syslog tcp://[::1]:601 facility=local7 app=wec format=xml
                      timeout=500ms;
        output syslog tls://localhost:6514 ca=@PKI@/server.pem
                      cert=@PKI@/alice.pem key=@PKI@/alice.key
                      server_name=localhost;
""")
    assert p.returncode == 0, p.stderr
    assert "successful" in p.stderr


@pytest.mark.parametrize("line,says", [
    ("output syslog udp://127.0.0.1:514;", "invalid target"),
    ("output syslog tcp://127.0.0.1;", "invalid target"),
    ("output syslog tcp://127.0.0.1:514 facility=local9;",
     'invalid parameter "facility=local9"'),
    ("output syslog tcp://127.0.0.1:514 format=csv;",
     'invalid parameter "format=csv"'),
    ("output syslog tcp://127.0.0.1:514 ca=@PKI@/ca.pem;",
     'invalid parameter "ca='),
    ("output syslog tls://localhost:6514 ca=@PKI@/missing.pem;",
     "TLS setup failed"),
    ("output syslog tls://localhost:6514 cert=@PKI@/alice.pem;",
     "cert= and key= go together"),
    ("output syslog tls://localhost:6514 cert=@PKI@/alice.pem "
     "key=@PKI@/carol.key;", "TLS setup failed"),
])
def test_conf_errors(nginx_factory, pki, line, says):
    p = _t(nginx_factory, pki, line)
    assert p.returncode != 0
    assert says in p.stderr, p.stderr
    assert "[emerg]" in p.stderr


def test_conf_verify_off_warns(nginx_factory, pki):
    p = _t(nginx_factory, pki,
           "output syslog tls://localhost:6514 verify=off;")
    assert p.returncode == 0, p.stderr
    assert "[warn]" in p.stderr and "verify=off" in p.stderr


# ---------------------------------------------------- through the server --
# nginx with subscriptions whose output is syslog; a Basic source posts
# Events to its NotifyTo address as Windows does (test_wec_delivery.py's
# helpers).

E2E = """
    wsman_wec_subscription tosyslog {
        query '%(q)s';
        delivery min_latency;
        sources alice;
        output syslog tcp://@TCP@ facility=local5 timeout=2s;
    }
    wsman_wec_subscription tosyslog_tls {
        query '%(q)s';
        sources bob;
        output syslog tls://@TLS@ ca=@PKI@/server.pem format=xml
               timeout=2s;
    }
    wsman_wec_subscription spooled {
        query '%(q)s';
        sources dave;
        output syslog tcp://@TCP@ timeout=1s spool=@PREFIX@/spool
               spool_size=1m;
    }
    wsman_wec_subscription wrong_ca {
        query '%(q)s';
        sources carol;
        output syslog tls://@TLS@ ca=@PKI@/ca.pem timeout=2s;
    }
    server {
        listen 127.0.0.1:@PORT@;
        wsman_user_file @USERFILE@;
        location /wsman {
            wsman; wsman_wec on; wsman_auth basic;
            wsman_allow_unencrypted on;
        }
    }
"""


@pytest.fixture(scope="module")
def wec_syslog(nginx_factory, pki, rsyslog_tcp, rsyslog_tls):
    import test_wec_delivery as D
    snippet = (E2E % {"q": D.QUERY}).replace("@TCP@", rsyslog_tcp.address) \
        .replace("@TLS@", rsyslog_tls.address)
    n = nginx_factory(pki.conf(snippet), start=False)
    conftest.worker_dirs(n, "spool")
    n.start()
    return n


def _deliver(n, user, name, records, data):
    import test_wec_delivery as D
    addr = D.notify_to(n, user, name)
    evs = [D.event_xml(r, data=data, level=lvl)
           for r, lvl in zip(records, (1, 2, 4, 5))]
    xml, mid = D.delivery(addr, D.ACTION_EVENTS, evs,
                          bookmark=records[-1])
    return addr, xml, mid, evs


def test_e2e_events_arrive_in_rsyslog(wec_syslog, rsyslog_tcp):
    import test_wec_delivery as D
    tag = "e" + uuid.uuid4().hex
    addr, xml, mid, evs = _deliver(wec_syslog, "alice", "tosyslog",
                                   [11, 12, 13], tag)
    D.assert_ack(D.post(wec_syslog, addr, xml, "alice"), mid)

    got = _tagged(rsyslog_tcp, tag, 3)
    assert len(got) == 3, got
    recs = [json.loads(m["msg"]) for m in got]
    assert [r["record_id"] for r in recs] == [11, 12, 13]
    assert recs[0]["xml"] == evs[0]
    # local5 (21): Level 1 crit, 2 err, 4 info
    assert [m["pri"] for m in got] == [str(21 * 8 + s) for s in (2, 3, 6)]
    m = got[0]
    assert m["host"] == "win10.wsman.test"
    assert m["app"] == "wsman-wec" and m["msgid"] == "4624"
    assert m["time"] == "2026-12-06T10:00:11.123456Z"
    assert m["sd"] == ('[wec@32473 subscription="tosyslog" source="alice" '
                       'machine="win10.wsman.test"]')


def test_e2e_tls_xml_with_newlines_is_one_message(wec_syslog, rsyslog_tls):
    import test_wec_delivery as D
    tag = "e" + uuid.uuid4().hex
    data = "%s\nsecond line\nthird" % tag
    addr, xml, mid, evs = _deliver(wec_syslog, "bob", "tosyslog_tls",
                                   [21, 22], data)
    D.assert_ack(D.post(wec_syslog, addr, xml, "bob"), mid)

    got = _tagged(rsyslog_tls, tag, 2)
    assert [m["msg"] for m in got] == evs
    assert all("\nsecond line\n" in m["msg"] for m in got)


def test_e2e_wrong_ca_not_acknowledged(wec_syslog, rsyslog_tls):
    import test_wec_delivery as D
    tag = "e" + uuid.uuid4().hex
    addr, xml, mid, evs = _deliver(wec_syslog, "carol", "wrong_ca", [31],
                                   tag)
    off = wec_syslog.log_size()
    r = D.post(wec_syslog, addr, xml, "carol")
    H.assert_fault(r, subcode=("w", "InternalError"))
    log = wec_syslog.read_log(off)
    assert "certificate is not trusted" in log, log
    assert "not acknowledged" in log
    assert not [m for m in rsyslog_tls.messages() if tag in m["raw"]]


def test_e2e_server_down_no_ack_then_retry_delivered(wec_syslog,
                                                     rsyslog_tcp):
    """rsyslog stops: the batch gets no Ack (the workers' kept connections
    are dead, a new one is refused); rsyslog back: the source's retry of
    the same batch is acknowledged and its events arrive once."""
    import test_wec_delivery as D
    # every worker gets a connection to keep first
    warm = "w" + uuid.uuid4().hex
    for i in range(4):
        addr, xml, mid, _ = _deliver(wec_syslog, "alice", "tosyslog",
                                     [40 + i], warm)
        D.assert_ack(D.post(wec_syslog, addr, xml, "alice"), mid)
    assert len(_tagged(rsyslog_tcp, warm, 4)) == 4

    tag = "e" + uuid.uuid4().hex
    addr, xml, mid, evs = _deliver(wec_syslog, "alice", "tosyslog",
                                   [51, 52], tag)
    rsyslog_tcp.stop()
    try:
        for _ in range(2):               # whichever worker takes it
            off = wec_syslog.log_size()
            r = D.post(wec_syslog, addr, xml, "alice")
            H.assert_fault(r, subcode=("w", "InternalError"))
            log = wec_syslog.read_log(off)
            assert "not acknowledged" in log, log
            assert "wec syslog" in log, log
    finally:
        rsyslog_tcp.start()

    D.assert_ack(D.post(wec_syslog, addr, xml, "alice"), mid)
    got = _tagged(rsyslog_tcp, tag, 2)
    assert [json.loads(m["msg"])["record_id"] for m in got] == [51, 52]


def test_e2e_spooled_while_down_replayed_in_order(wec_syslog, rsyslog_tcp):
    """With spool=, batches that find rsyslog down are acknowledged from
    the spool; once it is back they are replayed, in order, as the same
    messages a direct write makes."""
    import test_wec_delivery as D
    tag = "e" + uuid.uuid4().hex
    sent = []
    rsyslog_tcp.stop()
    try:
        for records in ((61, 62), (63,)):
            addr, xml, mid, evs = _deliver(wec_syslog, "dave", "spooled",
                                           list(records), tag)
            D.assert_ack(D.post(wec_syslog, addr, xml, "dave"), mid)
            sent += evs
        assert list((wec_syslog.prefix / "spool").rglob("*.batch"))
    finally:
        rsyslog_tcp.start()

    got = rsyslog_tcp.wait_for(lambda m: tag in m["raw"], 3, timeout=20)
    recs = [json.loads(m["msg"]) for m in got]
    assert [r["record_id"] for r in recs] == [61, 62, 63], got
    assert [r["xml"] for r in recs] == sent
    m = got[0]
    assert m["pri"] == str(16 * 8 + 2)
    assert m["host"] == "win10.wsman.test" and m["msgid"] == "4624"
    assert m["time"] == "2026-12-06T10:00:01.123456Z"
    assert m["sd"] == ('[wec@32473 subscription="spooled" source="dave" '
                       'machine="win10.wsman.test"]')
