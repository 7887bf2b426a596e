"""Windows Event Collector: what sources deliver to their subscription's
NotifyTo address (Events batches, Heartbeat, SubscriptionEnd), and the
file outputs.  Events are acknowledged only once every output has them
on disk; otherwise the source gets a fault and sends them again."""

import json
import os
import pathlib
import signal
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

import conftest
import wsman_helpers as H
from test_wec import (NS, PATH, UTF16_CT, basic_enumerate, subscriptions,
                      utf16, _text)

ACTION_EVENTS = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Events"
ACTION_HEARTBEAT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Heartbeat"
ACTION_ACK = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack"
ACTION_SUB_END = \
    "http://schemas.xmlsoap.org/ws/2004/08/eventing/SubscriptionEnd"
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"

QUERY = ('<QueryList><Query Id="0"><Select Path="Security">*</Select>'
         '</Query></QueryList>')

WEC = """
    wsman_wec_subscription security {
        query '%(q)s';
        delivery min_latency;
        output json_file @PREFIX@/events/$subscription/$source.jsonl;
        output xml_file @PREFIX@/events/all-$date.xml;
    }
    wsman_wec_subscription bobs {
        query '%(q)s';
        sources bob;
        output json_file @PREFIX@/events/bobs.jsonl;
    }
    wsman_wec_subscription full {
        query '%(q)s';
        sources carol;
        output json_file /dev/full;
    }
    wsman_wec_subscription guarded {
        query '%(q)s';
        sources dave;
        output json_file @PREFIX@/guarded/events.jsonl;
    }
    wsman_wec_subscription spooled {
        query '%(q)s';
        sources frank grace;
        output json_file @PREFIX@/down/$source.jsonl
               spool=@PREFIX@/spool/down spool_size=64k;
    }
    wsman_wec_subscription pinned {
        query '%(q)s';
        sources dave;
        match_computer on;
        output json_file @PREFIX@/events/pinned.jsonl;
    }
    wsman_wec_subscription nooutput {
        query '%(q)s';
        sources erin;
    }
    server {
        listen 127.0.0.1:@PORT@;
        wsman_user_file @USERFILE@;
        location /wsman {
            wsman; wsman_wec on; wsman_auth basic;
            wsman_allow_unencrypted on;
            wsman_max_envelope_size 512k;
        }
        location /strict/wsman {
            wsman; wsman_wec on; wsman_auth basic;
            wsman_allow_unencrypted on;
            wsman_wec_match_computer on;
        }
        location /plain/wsman {
            wsman; wsman_auth basic;
            wsman_allow_unencrypted on;
        }
        location = /wec-metrics { wsman_wec_metrics; }
    }
""" % {"q": QUERY}


@pytest.fixture(scope="module")
def wec(nginx_factory):
    n = nginx_factory(WEC, start=False)
    conftest.worker_dirs(n, "events", "guarded", "down", "spool")
    n.start()
    return n


def event_xml(record, computer="win10.wsman.test", event_id=4624,
              data="alice", level=4, channel="Security"):
    return (
        "<Event xmlns='%s'><System><Provider Name='Microsoft-Windows-"
        "Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>"
        "<EventID>%d</EventID><Version>2</Version><Level>%d</Level>"
        "<Task>12544</Task><Opcode>0</Opcode>"
        "<Keywords>0x8020000000000000</Keywords>"
        "<TimeCreated SystemTime='2026-12-06T10:00:%02d.1234567Z'/>"
        "<EventRecordID>%d</EventRecordID><Correlation/>"
        "<Execution ProcessID='4' ThreadID='8'/><Channel>%s</Channel>"
        "<Computer>%s</Computer><Security/></System><EventData>"
        "<Data Name='TargetUserName'>%s</Data>"
        "<Data Name='LogonType'>3</Data></EventData></Event>"
        % (EVENT_NS, event_id, level, record % 60, record, channel,
           computer, data))


def delivery(address, action, events=(), bookmark=None,
             machine="win10.wsman.test", identifier=None):
    """The message a Windows source posts to NotifyTo (no ResourceURI:
    WS-Eventing deliveries are addressed by a:To alone)."""
    mid = "uuid:%s" % str(uuid.uuid4()).upper()
    evs = "".join(
        '<w:Event Action="http://schemas.dmtf.org/wbem/wsman/1/wsman/'
        'Event"><![CDATA[%s]]></w:Event>' % e for e in events)
    bm = ""
    if bookmark is not None:
        bm = ('<w:Bookmark><BookmarkList><Bookmark Channel="Security" '
              'RecordId="%d" IsCurrent="true"/></BookmarkList>'
              '</w:Bookmark>' % bookmark)
    ident = ""
    if identifier:
        ident = ('<e:Identifier xmlns:e="http://schemas.xmlsoap.org/ws/'
                 '2004/08/eventing">%s</e:Identifier>' % identifier)
    body = "<w:Events>%s</w:Events>" % evs
    if action == ACTION_SUB_END:
        body = ('<e:SubscriptionEnd xmlns:e="http://schemas.xmlsoap.org/ws/'
                '2004/08/eventing"><e:Status>http://schemas.xmlsoap.org/ws/'
                '2004/08/eventing/SourceCancelling</e:Status>'
                '</e:SubscriptionEnd>')
    xml = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'
        ' xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
        '<s:Header><a:To>%(to)s</a:To>'
        '<m:MachineID xmlns:m="http://schemas.microsoft.com/wbem/wsman/1/'
        'machineid" s:mustUnderstand="false">%(machine)s</m:MachineID>'
        '<a:ReplyTo><a:Address s:mustUnderstand="true">%(anon)s'
        '</a:Address></a:ReplyTo>'
        '<a:Action s:mustUnderstand="true">%(action)s</a:Action>'
        '<w:MaxEnvelopeSize s:mustUnderstand="true">512000'
        '</w:MaxEnvelopeSize><a:MessageID>%(mid)s</a:MessageID>'
        '<w:Locale xml:lang="en-US" s:mustUnderstand="false"/>'
        '<p:OperationID s:mustUnderstand="false">uuid:%(oid)s'
        '</p:OperationID><p:SequenceId s:mustUnderstand="false">1'
        '</p:SequenceId><w:OperationTimeout>PT60.000S</w:OperationTimeout>'
        '%(ident)s%(bm)s<w:AckRequested/></s:Header><s:Body>%(body)s'
        '</s:Body></s:Envelope>' % {
            "to": address, "machine": machine, "anon": H.ANONYMOUS,
            "action": action, "mid": mid, "oid": str(uuid.uuid4()).upper(),
            "ident": ident, "bm": bm, "body": body})
    return xml, mid


def notify_to(n, user, name, path=PATH):
    r, mid = basic_enumerate(n, user, path=path)
    assert r.status == 200, r
    sub = subscriptions(r.body, mid)[name]
    return sub.find("s:Envelope/s:Body/e:Subscribe/e:Delivery/e:NotifyTo/"
                    "a:Address", NS).text


def post(n, address, xml, user, raw=None, headers=None):
    path = "/" + address.split("/", 3)[3]
    body = raw if raw is not None else utf16(xml)
    return H.Client(n.port, conftest.USERS).post(
        body, path=path, user=user, content_type=UTF16_CT, headers=headers)


def assert_ack(r, mid):
    assert r.status == 200, (r, r.body[:600])
    root = ET.fromstring(_text(r.body))
    hdr = root.find("s:Header", NS)
    assert hdr.find("a:Action", NS).text == ACTION_ACK, r.body[:600]
    assert hdr.find("a:RelatesTo", NS).text == mid


def lines(path):
    try:
        return [json.loads(x) for x in
                pathlib.Path(path).read_text().splitlines()]
    except FileNotFoundError:
        return []


def test_events_acknowledged_after_both_files_have_them(wec):
    addr = notify_to(wec, "alice", "security")
    evs = [event_xml(i) for i in (101, 102, 103)]
    xml, mid = delivery(addr, ACTION_EVENTS, evs, bookmark=103)
    r = post(wec, addr, xml, "alice")
    assert_ack(r, mid)
    got = lines(wec.prefix / "events/security/alice.jsonl")
    assert [g["record_id"] for g in got] == [101, 102, 103]
    g = got[0]
    assert g["subscription"] == "security" and g["source"] == "alice"
    assert g["machine"] == "win10.wsman.test"
    assert g["computer"] == "win10.wsman.test"
    assert g["channel"] == "Security" and g["event_id"] == 4624
    assert g["provider"] == "Microsoft-Windows-Security-Auditing"
    assert g["time_created"] == "2026-12-06T10:00:41.1234567Z"
    assert g["data"] == {"TargetUserName": "alice", "LogonType": "3"}
    assert g["xml"] == evs[0]
    assert "malformed" not in g
    xmls = list((wec.prefix / "events").glob("all-*.xml"))
    assert len(xmls) == 1
    assert xmls[0].read_text().splitlines()[-3:] == evs


def test_heartbeat_and_empty_batch_are_acknowledged(wec):
    addr = notify_to(wec, "alice", "security")
    for action in (ACTION_HEARTBEAT, ACTION_EVENTS):
        xml, mid = delivery(addr, action)
        assert_ack(post(wec, addr, xml, "alice"), mid)


def test_subscription_end_answered_and_logged(wec):
    addr = notify_to(wec, "alice", "security")
    off = wec.log_size()
    xml, mid = delivery(addr, ACTION_SUB_END)
    r = post(wec, addr, xml, "alice")
    assert r.status == 200 and not H.is_fault(r), r.body[:400]
    assert_ack(r, mid)
    assert "ended subscription \"security\"" in wec.read_log(off)


def test_unknown_subscription_refused_nothing_written(wec):
    addr = notify_to(wec, "alice", "security")
    bad = addr.rsplit("/", 1)[0] + "/" + str(uuid.uuid4()).upper()
    before = lines(wec.prefix / "events/security/alice.jsonl")
    xml, mid = delivery(bad, ACTION_EVENTS, [event_xml(900)])
    r = post(wec, bad, xml, "alice")
    H.assert_fault(r, subcode=("a", "DestinationUnreachable"))
    assert lines(wec.prefix / "events/security/alice.jsonl") == before


def test_source_the_subscription_excludes_is_refused(wec):
    # bob may use "bobs"; alice is not one of its sources
    addr = notify_to(wec, "bob", "bobs")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(5)])
    H.assert_fault(post(wec, addr, xml, "alice"),
                   subcode=("w", "AccessDenied"))
    assert lines(wec.prefix / "events/bobs.jsonl") == []
    assert_ack(post(wec, addr, xml, "bob"), mid)
    assert [g["source"] for g in lines(wec.prefix / "events/bobs.jsonl")] \
        == ["bob"]


def test_unauthenticated_delivery_refused(wec):
    addr = notify_to(wec, "alice", "security")
    xml, _ = delivery(addr, ACTION_EVENTS, [event_xml(7)])
    path = "/" + addr.split("/", 3)[3]
    st, hdrs, _ = H.raw_request(wec.port, "POST", path, utf16(xml),
                                {"Content-Type": UTF16_CT})
    assert st == 401


def test_malformed_event_kept_raw_and_flagged(wec):
    addr = notify_to(wec, "alice", "security")
    good = event_xml(201)
    truncated = event_xml(202)[:300]        # Windows cuts RenderedText so
    xml, mid = delivery(addr, ACTION_EVENTS, [good, truncated])
    off = wec.log_size()
    assert_ack(post(wec, addr, xml, "alice"), mid)
    got = lines(wec.prefix / "events/security/alice.jsonl")[-2:]
    assert got[0]["record_id"] == 201 and "malformed" not in got[0]
    assert got[1]["malformed"] is True and got[1]["xml"] == truncated
    assert "1 malformed event(s)" in wec.read_log(off)


def test_invalid_utf16_replaced_not_refused(wec):
    addr = notify_to(wec, "alice", "security")
    xml, mid = delivery(addr, ACTION_EVENTS,
                        [event_xml(301, data="X\ud800Y")])
    # a lone high surrogate, as Windows sends now and then
    raw = b"\xff\xfe" + xml.encode("utf-16-le", "surrogatepass")
    off = wec.log_size()
    assert_ack(post(wec, addr, xml, "alice", raw=raw), mid)
    got = lines(wec.prefix / "events/security/alice.jsonl")[-1]
    assert got["record_id"] == 301
    assert got["data"]["TargetUserName"] == "X\ufffdY"
    assert "invalid UTF-16" in wec.read_log(off)


def test_utf8_body_accepted_too(wec):
    addr = notify_to(wec, "alice", "security")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(350)])
    r = post(wec, addr, xml, "alice", raw=xml.encode())
    assert_ack(r, mid)
    assert lines(wec.prefix / "events/security/alice.jsonl")[-1][
        "record_id"] == 350


def test_disk_full_not_acknowledged(wec):
    addr = notify_to(wec, "carol", "full")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(401)])
    off = wec.log_size()
    r = post(wec, addr, xml, "carol")
    f = H.assert_fault(r, subcode=("w", "InternalError"))
    assert "send them again" in f.reason
    log = wec.read_log(off)
    assert "write(\"/dev/full\") failed" in log
    assert "not acknowledged" in log


def test_subscription_without_output_never_acknowledges(wec):
    addr = notify_to(wec, "erin", "nooutput")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(402)])
    H.assert_fault(post(wec, addr, xml, "erin"),
                   subcode=("w", "InternalError"))


def test_output_down_then_back_loses_nothing(wec):
    addr = notify_to(wec, "dave", "guarded")
    d = wec.prefix / "guarded"
    os.chown(d, 0, 0)
    os.chmod(d, 0o755)                     # the workers cannot write
    try:
        xml, mid = delivery(addr, ACTION_EVENTS,
                            [event_xml(i) for i in (501, 502)])
        r = post(wec, addr, xml, "dave")
        H.assert_fault(r, subcode=("w", "InternalError"))
        assert lines(d / "events.jsonl") == []
    finally:
        os.chown(d, *conftest.worker_ids())
    # the source sends the same batch again: now it is stored and acked
    assert_ack(post(wec, addr, xml, "dave"), mid)
    assert [g["record_id"] for g in lines(d / "events.jsonl")] == [501, 502]


def test_path_template_cannot_leave_its_directory(nginx_factory):
    n = nginx_factory(WEC.replace("$subscription/$source", "$machine"),
                      start=False)
    conftest.worker_dirs(n, "events", "guarded")
    n.start()
    addr = notify_to(n, "alice", "security")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(1)],
                        machine="../../../tmp/evil")
    assert_ack(post(n, addr, xml, "alice"), mid)
    made = sorted(p.name for p in (n.prefix / "events").iterdir()
                  if p.suffix == ".jsonl")
    assert made == ["_._.._.._tmp_evil.jsonl"], made
    assert not pathlib.Path("/tmp/evil.jsonl").exists()


def _foreign_computer_refused(n, addr, user, out, record):
    """A batch naming the user's own computer and dc01 is refused (the
    log names dc01), nothing of it written; then one of its own only is
    acknowledged."""
    before = len(lines(out))
    xml, mid = delivery(addr, ACTION_EVENTS,
                        [event_xml(record, computer=user + ".wsman.test"),
                         event_xml(record + 1, computer="dc01.wsman.test")])
    off = n.log_size()
    H.assert_fault(post(n, addr, xml, user),
                   subcode=("w", "AccessDenied"))
    assert "Computer \"dc01.wsman.test\"" in n.read_log(off)
    assert len(lines(out)) == before
    xml, mid = delivery(addr, ACTION_EVENTS,
                        [event_xml(record + 2,
                                   computer=user.upper() + ".wsman.test"),
                         event_xml(record + 3, computer=user)])
    assert_ack(post(n, addr, xml, user), mid)
    assert [g["record_id"] for g in lines(out)][before:] == \
        [record + 2, record + 3]


def test_match_computer_refuses_another_computers_events(wec):
    path = "/strict/wsman/SubscriptionManager/WEC"
    addr = notify_to(wec, "alice", "security", path=path)
    # deliveries go to the location the source enumerated at
    assert "/strict/wsman/subscriptions/" in addr
    # alice (a Basic source) owns the computer "alice", not win10
    _foreign_computer_refused(wec, addr, "alice",
                              wec.prefix / "events/security/alice.jsonl",
                              601)


@pytest.mark.parametrize("path", ["/wsman", "/strict/wsman"])
def test_match_computer_of_the_subscription_holds_at_every_location(
        wec, path):
    """`match_computer on;` in a subscription: another location the
    source may deliver to, one without wsman_wec_match_computer, does not
    open a way around it."""
    addr = notify_to(wec, "dave", "pinned",
                     path=path + "/SubscriptionManager/WEC")
    assert addr.split("/", 3)[3].startswith(path.lstrip("/") + "/")
    _foreign_computer_refused(wec, addr, "dave",
                              wec.prefix / "events/pinned.jsonl", 651)



def test_large_batches_at_once_stay_whole_and_in_order(wec):
    """Six sources at once, each a batch of 201 (the pool's threads busy
    with all of them): every event lands once, in the order sent, each
    batch in one piece; a malformed event and a foreign Computer late in
    a batch are caught as early ones are."""
    users = ["alice", "bob", "dave"]
    outs = {"alice": wec.prefix / "events/security/alice.jsonl",
            "bob": wec.prefix / "events/bobs.jsonl",
            "dave": wec.prefix / "events/pinned.jsonl"}
    subs = {"alice": "security", "bob": "bobs", "dave": "pinned"}
    before = {u: len(lines(outs[u])) for u in users}
    addrs = {u: notify_to(wec, u, subs[u]) for u in users}
    results, errors = {}, []

    def source(u, k):
        try:
            base = 100000 + 1000 * users.index(u) + 400 * k
            evs = [event_xml(base + i, computer=u + ".wsman.test")
                   for i in range(201)]
            if k == 0 and u != "dave":         # (pinned: no Computer)
                evs[150] = evs[150][:300]          # truncated, late
            xml, mid = delivery(addrs[u], ACTION_EVENTS, evs)
            results[(u, k)] = (post(wec, addrs[u], xml, u), mid)
        except Exception as e:                     # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=source, args=(u, k))
               for u in users for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for (u, k), (r, mid) in results.items():
        assert_ack(r, mid)
    for u in users:
        got = lines(outs[u])[before[u]:]
        assert len(got) == 402
        base = 100000 + 1000 * users.index(u)
        # each batch is one write(): two blocks of 201 lines, either order
        blocks = sorted((got[:201], got[201:]),
                        key=lambda blk: blk[0]["record_id"])
        for k, block in enumerate(blocks):
            ids = [None if g.get("malformed") else g["record_id"]
                   for g in block]
            want = list(range(base + 400 * k, base + 400 * k + 201))
            if k == 0 and u != "dave":
                want[150] = None
            assert ids == want, u
    # dave's subscription pins the computer: one foreign event late in
    # the batch refuses it whole, nothing of it written
    before = len(lines(outs["dave"]))
    evs = [event_xml(130000 + i, computer="dave.wsman.test")
           for i in range(200)]
    evs[180] = event_xml(130180, computer="dc01.wsman.test")
    xml, mid = delivery(addrs["dave"], ACTION_EVENTS, evs)
    off = wec.log_size()
    H.assert_fault(post(wec, addrs["dave"], xml, "dave"),
                   subcode=("w", "AccessDenied"))
    assert "Computer \"dc01.wsman.test\"" in wec.read_log(off)
    assert len(lines(outs["dave"])) == before

def test_reopen_writes_to_a_new_file(wec):
    addr = notify_to(wec, "alice", "security")
    f = wec.prefix / "events/security/alice.jsonl"
    rotated = f.with_suffix(".1")
    f.rename(rotated)
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(701)])
    assert_ack(post(wec, addr, xml, "alice"), mid)
    # not reopened yet: the worker that answered still has the old file
    # (or, if the other worker answered, opened the path anew)
    os.kill(wec.proc.pid, signal.SIGUSR1)
    time.sleep(0.5)
    for i in (702, 703, 704):
        xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(i)])
        assert_ack(post(wec, addr, xml, "alice"), mid)
    ids = [g["record_id"] for g in lines(f)]
    assert ids[-3:] == [702, 703, 704]
    old = [g["record_id"] for g in lines(rotated)]
    assert 701 in ids + old and 702 not in old


def test_metrics_count_events_and_failures(wec):
    addr = notify_to(wec, "alice", "security")
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(801),
                                              event_xml(802)])
    st, _, body = H.raw_request(wec.port, "GET", "/wec-metrics")
    before = {s["name"]: s for s in json.loads(body)["subscriptions"]}
    assert_ack(post(wec, addr, xml, "alice"), mid)
    xml, mid = delivery(notify_to(wec, "carol", "full"), ACTION_EVENTS,
                        [event_xml(803)])
    post(wec, notify_to(wec, "carol", "full"), xml, "carol")
    st, hdrs, body = H.raw_request(wec.port, "GET", "/wec-metrics")
    assert st == 200
    m = {s["name"]: s for s in json.loads(body)["subscriptions"]}
    sec = m["security"]
    assert sec["events"] == before["security"]["events"] + 2
    assert sec["batches"] == before["security"]["batches"] + 1
    assert [o["kind"] for o in sec["outputs"]] == ["json_file", "xml_file"]
    assert all(o["down"] is False for o in sec["outputs"])
    full = m["full"]
    assert full["not_acknowledged"] >= 1
    assert full["outputs"][0]["down"] is True
    assert full["outputs"][0]["failures"] >= 1
    # lag: since the first failure after the last success
    time.sleep(1.2)
    post(wec, notify_to(wec, "carol", "full"), xml, "carol")
    m = _metrics(wec)
    assert m["full"]["outputs"][0]["lag"] >= 1
    assert m["security"]["outputs"][0]["lag"] == 0


@pytest.mark.log_allows("exited on signal 9")
def test_worker_killed_mid_batch_loses_nothing(nginx_factory):
    """A batch whose second output blocks (a FIFO whose reader stopped
    reading) is in a thread when the worker is SIGKILLed: the source has
    no Ack and sends it again; what was acknowledged before is there
    once, the unacknowledged batch at most twice."""
    snippet = WEC.replace(
        "output xml_file @PREFIX@/events/all-$date.xml;",
        "output xml_file @PREFIX@/events/pipe;")
    n = nginx_factory(snippet, start=False)
    conftest.worker_dirs(n, "events", "guarded")
    os.mkfifo(n.prefix / "events/pipe")
    os.chown(n.prefix / "events/pipe", *conftest.worker_ids())
    n.start()
    addr = notify_to(n, "alice", "security")
    jl = n.prefix / "events/security/alice.jsonl"

    go = threading.Event()
    small = [event_xml(11), event_xml(12)]
    first = sum(len(e.encode()) + 1 for e in small)

    def reader():
        fd = os.open(n.prefix / "events/pipe", os.O_RDWR)
        got = 0
        while got < first:                # batch 1, not a byte more
            got += len(os.read(fd, first - got))
        go.wait()
        while True:
            os.read(fd, 65536)

    threading.Thread(target=reader, daemon=True).start()
    xml1, mid1 = delivery(addr, ACTION_EVENTS, small)
    assert_ack(post(n, addr, xml1, "alice"), mid1)

    # the reader has stopped: batch 2 (larger than the pipe) blocks
    big = [event_xml(1000 + i) for i in range(200)]
    xml2, mid2 = delivery(addr, ACTION_EVENTS, big)
    result = {}

    def send():
        try:
            result["r"] = post(n, addr, xml2, "alice")
        except Exception as e:          # the connection dies with the worker
            result["e"] = e

    s = threading.Thread(target=send, daemon=True)
    s.start()
    deadline = time.time() + 10
    while time.time() < deadline and len(lines(jl)) < 202:
        time.sleep(0.05)
    assert len(lines(jl)) == 202
    time.sleep(0.3)
    assert s.is_alive(), result          # no answer: the pipe is full
    workers = [int(p) for p in os.popen(
        "pgrep -P %d" % n.proc.pid).read().split()]
    for w in workers:
        os.kill(w, signal.SIGKILL)
    s.join(10)
    assert "r" not in result or ACTION_ACK not in _text(result["r"].body)

    # the source sends batch 2 again; the reader reads again
    go.set()
    deadline = time.time() + 10
    while True:
        try:
            r = post(n, addr, xml2, "alice")
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    assert_ack(r, mid2)
    ids = [g["record_id"] for g in lines(jl)]
    assert ids[:2] == [11, 12] and ids.count(11) == 1 and ids.count(12) == 1
    for i in range(200):
        assert 1 <= ids.count(1000 + i) <= 2


def _metrics(n):
    st, _, body = H.raw_request(n.port, "GET", "/wec-metrics")
    assert st == 200
    return {s["name"]: s for s in json.loads(body)["subscriptions"]}


def test_spool_absorbs_an_outage_and_replays_in_order(wec):
    """The output's directory refuses writes: batches go to the spool
    (acknowledged: fsync'd there); back up, the spool replays them in
    order and empties."""
    addr = notify_to(wec, "frank", "spooled")
    down, spool = wec.prefix / "down", wec.prefix / "spool/down"
    os.chown(down, 0, 0)
    os.chmod(down, 0o755)
    try:
        for batch in ((1, 2), (3,), (4, 5)):
            xml, mid = delivery(addr, ACTION_EVENTS,
                                [event_xml(i) for i in batch])
            assert_ack(post(wec, addr, xml, "frank"), mid)
        assert len(list(spool.glob("*.batch"))) == 3
        assert lines(down / "frank.jsonl") == []
        out = _metrics(wec)["spooled"]["outputs"][0]
        assert out["spooled"] >= 3 and out["down"] is True
    finally:
        os.chown(down, *conftest.worker_ids())
    deadline = time.time() + 10
    while time.time() < deadline and list(spool.glob("*.batch")):
        time.sleep(0.2)
    assert list(spool.glob("*.batch")) == []
    got = lines(down / "frank.jsonl")
    assert [g["record_id"] for g in got] == [1, 2, 3, 4, 5]
    # the replayed JSON is what a direct write would have been
    assert got[0]["source"] == "frank" and got[0]["xml"] == event_xml(1)
    xml, mid = delivery(addr, ACTION_EVENTS, [event_xml(6)])
    assert_ack(post(wec, addr, xml, "frank"), mid)
    assert [g["record_id"] for g in lines(down / "frank.jsonl")][-1] == 6


def _spool_file(source, received, events, bookmark=""):
    """A spool file as ngx_wsman_wec_spool_format() writes it (the unit
    group wec_spool holds the C writer to the same bytes)."""
    def s(v):
        v = v.encode() if isinstance(v, str) else v
        return b"%d\n" % len(v) + v + b"\n"
    return (b"WECSPOOL1\n" + s("spooled") + s(source) + s("win10")
            + s("192.0.2.9") + s(bookmark) + s(str(received))
            + b"%d\n" % len(events) + b"".join(s(e) for e in events))


@pytest.mark.log_allows("is damaged: renamed to .damaged")
def test_damaged_spool_files_are_set_aside(wec):
    """Files of the spool the replay cannot read (cut, a length past the
    end or of 2^63 - 1, a count of a million in a few bytes, another
    format) are renamed to .damaged, untouched, never replayed, and do not
    hold up the good file after them."""
    spool, down = wec.prefix / "spool/down", wec.prefix / "down"
    spool.mkdir(parents=True, exist_ok=True)
    os.chown(spool, *conftest.worker_ids())
    good = _spool_file("heidi", 1700000000, [event_xml(4242)])
    damaged = {
        "cut": good[:-1],
        "past": good.replace(b"\n5\nheidi\n", b"\n6\nheidi\n"),
        "huge_len": b"WECSPOOL1\n9223372036854775807\nspooled\n",
        "huge_count": good.replace(b"\n1\n%d\n" % len(event_xml(4242)),
                                   b"\n1000000\n%d\n"
                                   % len(event_xml(4242))),
        "magic": b"WECSPOOL2\n" + good[10:],
    }
    assert all(v != good for v in damaged.values())
    offset = len(wec.read_log())
    # named before anything the workers write (microseconds since 1970)
    for i, (name, data) in enumerate(sorted(damaged.items())):
        f = spool / ("0000000000000001-1-%d-%s.batch" % (i, name))
        f.write_bytes(data)
        os.chown(f, *conftest.worker_ids())
    f = spool / "0000000000000002-1-0.batch"
    f.write_bytes(good)
    os.chown(f, *conftest.worker_ids())
    deadline = time.time() + 10
    while time.time() < deadline and list(spool.glob("*.batch")):
        time.sleep(0.2)
    assert list(spool.glob("*.batch")) == []
    got = lines(down / "heidi.jsonl")
    assert [g["record_id"] for g in got] == [4242]
    assert got[0]["source"] == "heidi" and got[0]["xml"] == event_xml(4242)
    for i, (name, data) in enumerate(sorted(damaged.items())):
        f = spool / ("0000000000000001-1-%d-%s.batch.damaged" % (i, name))
        assert f.read_bytes() == data, name
    log = wec.read_log(offset)
    assert log.count("is damaged: renamed to .damaged") == len(damaged)
    assert "exited on signal" not in log
    for f in spool.glob("*.damaged"):
        f.unlink()


def test_full_spool_pushes_back(wec):
    addr = notify_to(wec, "grace", "spooled")
    down = wec.prefix / "down"
    os.chown(down, 0, 0)
    os.chmod(down, 0o755)
    try:
        acked = refused = 0
        for b in range(12):
            evs = [event_xml(1000 + 10 * b + i, data="x" * 600)
                   for i in range(10)]
            xml, mid = delivery(addr, ACTION_EVENTS, evs)
            r = post(wec, addr, xml, "grace")
            if H.is_fault(r):
                H.assert_fault(r, subcode=("w", "InternalError"))
                refused += 1
            else:
                assert_ack(r, mid)
                acked += 1
        # 64k of spool holds some batches of ~17 KB, not twelve
        assert 1 <= acked < 12 and refused >= 1
        assert "is full" in wec.read_log()
    finally:
        os.chown(down, *conftest.worker_ids())
    deadline = time.time() + 10
    while time.time() < deadline and list(
            (wec.prefix / "spool/down").glob("*.batch")):
        time.sleep(0.2)
    assert len(lines(down / "grace.jsonl")) == 10 * acked


def test_reload_under_load_loses_nothing(nginx_factory):
    """A source sending batch after batch (each sent again until it is
    acknowledged, as Windows does) through three `nginx -s reload`s: every
    acknowledged event is in the file, in order; only a batch that was
    sent again may be there twice."""
    n = nginx_factory(WEC, start=False)
    conftest.worker_dirs(n, "events", "guarded", "down", "spool")
    n.start()
    addr = notify_to(n, "alice", "security")
    acked, resent = [], set()
    done = threading.Event()

    def source():
        k = 0
        while not done.is_set() or k < 40:
            ids = [10 * k + i for i in range(5)]
            xml, mid = delivery(addr, ACTION_EVENTS,
                                [event_xml(i) for i in ids])
            for attempt in range(50):
                try:
                    r = post(n, addr, xml, "alice")
                    if r.status == 200 and ACTION_ACK in _text(r.body):
                        break
                except OSError:
                    pass
                resent.add(k)
                time.sleep(0.1)
            else:
                raise AssertionError("batch %d never acknowledged" % k)
            acked.extend(ids)
            k += 1
            if k >= 200:
                return

    t = threading.Thread(target=source, daemon=True)
    t.start()
    for _ in range(3):
        time.sleep(0.3)
        os.kill(n.proc.pid, signal.SIGHUP)
    done.set()
    t.join(60)
    assert not t.is_alive()
    assert len(acked) >= 200
    got = [g["record_id"] for g in
           lines(n.prefix / "events/security/alice.jsonl")]
    assert set(acked) <= set(got)
    for rid in set(got):
        assert got.count(rid) == 1 or rid // 10 in resent, rid
    # in order: each batch after the one before it
    firsts = [got.index(10 * k) for k in range(len(acked) // 5)]
    assert firsts == sorted(firsts)


# ------------------------------------------- deliveries where wec is off --
# /plain/wsman serves WS-Management (`wsman;`) to the same Basic users as
# the collector's locations, without `wsman_wec on;`.  A source (or anyone
# holding a valid account and a subscription's address) posting there
# must get what an unknown subscription gets: nothing written, nothing
# noted for the state store or the metrics, a fault and a log line.

def _sub_counters(n, name):
    m = _metrics(n)[name]
    return (m["events"], m["batches"], m["heartbeats"],
            m["not_acknowledged"])


@pytest.mark.parametrize("to", ["plain", "wec"])
def test_delivery_where_wec_is_off_refused(wec, to):
    """Events, Heartbeat and SubscriptionEnd to a location without
    `wsman_wec on;`, by a user the collector accepts (alice), with the
    subscription's real id: a:To naming the plain location, or naming
    the collector's own address while the request goes to the plain
    location (a:To is the client's word; the location is nginx's)."""
    addr = notify_to(wec, "alice", "security")
    sub_id = addr.rsplit("/", 1)[1]
    plain = addr.replace("/wsman/subscriptions/",
                         "/plain/wsman/subscriptions/")
    assert plain != addr and plain.endswith(sub_id)
    jl = wec.prefix / "events/security/alice.jsonl"
    before = lines(jl)
    counters = _sub_counters(wec, "security")
    db = wec.prefix / "wec" / "state.db"
    stored = _state_rows(db)
    for action, evs in ((ACTION_EVENTS, [event_xml(9001)]),
                        (ACTION_HEARTBEAT, []),
                        (ACTION_SUB_END, [])):
        xml, mid = delivery(plain if to == "plain" else addr, action, evs,
                            bookmark=9001 if evs else None)
        off = wec.log_size()
        r = post(wec, plain, xml, "alice")
        f = H.assert_fault(r, subcode=("a", "DestinationUnreachable"))
        assert f.relates_to == mid
        log = wec.read_log(off)
        assert ('"%s" from "alice" refused: event collection is off in '
                'this location' % action) in log, log
        assert "ended subscription" not in log
    # nothing written, counted or stored, also after a heartbeat flush
    time.sleep(1.2)
    assert lines(jl) == before
    assert _sub_counters(wec, "security") == counters
    assert _state_rows(db) == stored
    # the same messages at the collector's location are taken: the checks
    # above could see them
    xml, mid = delivery(addr, ACTION_HEARTBEAT)
    assert_ack(post(wec, addr, xml, "alice"), mid)
    assert _sub_counters(wec, "security")[2] == counters[2] + 1


def _state_rows(db):
    if not db.exists():
        return []
    import sqlite3
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return c.execute("SELECT subscription, source, events, bookmark, "
                         "last_heartbeat FROM wec_sources ORDER BY 1, 2"
                         ).fetchall()
    finally:
        c.close()


@pytest.mark.parametrize("where", ["server", "location"])
def test_subscription_belongs_to_http_level_only(nginx_factory, where):
    """A subscription cannot be declared for one server or location only
    (every `wsman_wec on;` location serves every subscription, and no
    location without it serves any): nginx -t refuses it there."""
    block = ("wsman_wec_subscription s { query '%s'; }" % QUERY)
    if where == "server":
        snippet = ("server { listen 127.0.0.1:@PORT@; %s location /wsman "
                   "{ wsman; wsman_wec on; } }" % block)
    else:
        snippet = ("server { listen 127.0.0.1:@PORT@; location /wsman "
                   "{ wsman; wsman_wec on; %s } }" % block)
    p = nginx_factory(snippet, start=False).test_config()
    assert p.returncode != 0
    assert ('"wsman_wec_subscription" directive is not allowed here'
            in p.stderr), p.stderr


def _minor_faults(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            total += int(f.read().rsplit(")", 1)[1].split()[7])   # minflt
    return total


def test_batches_reuse_memory_instead_of_faulting_it_in(nginx_factory):
    """Each batch of 100 events (330 kB of UTF-16) takes and frees a few
    megabytes; a worker keeps what it freed for the next one instead of
    handing it back to the kernel and faulting it in again (that cost a
    quarter of the CPU per event: 25-30 page faults a batch).  Two pool
    threads a worker, so that the warm-up reaches every thread's heap."""
    if os.environ.get("WSMAN_NGINX_PRELOAD"):
        # make sanitize: ASan's allocator takes malloc's place (and keeps
        # freed memory in quarantine): mallopt() does not reach it
        pytest.skip("glibc's malloc is not the one under make sanitize")
    n = nginx_factory("""
    wsman_wec_thread_pool wec;
    wsman_wec_subscription security {
        query '%s';
        output json_file @PREFIX@/events/$source.jsonl;
    }
    server {
        listen 127.0.0.1:@PORT@;
        wsman_user_file @USERFILE@;
        location /wsman {
            wsman; wsman_wec on; wsman_auth basic;
            wsman_allow_unencrypted on;
            wsman_max_envelope_size 512k;
        }
    }
""" % QUERY, start=False, main_snippet="thread_pool wec threads=2;")
    conftest.worker_dirs(n, "events")
    n.start()
    addr = notify_to(n, "alice", "security")
    evs = [event_xml(2000 + i, data="user%d" % i + "x" * 900)
           for i in range(100)]
    xml, _ = delivery(addr, ACTION_EVENTS, evs)
    body = utf16(xml)
    assert len(body) > 300000
    workers = [p for p in H.proc_children(n.proc.pid)
               if "worker process" in H.proc_cmdline(p)]
    assert len(workers) == 2, workers
    c = H.Client(n.port, conftest.USERS)

    def batches(k):
        for _ in range(k):
            r = c.post(body, path="/" + addr.split("/", 3)[3], user="alice",
                       content_type=UTF16_CT)
            assert r.status == 200 and b"/wsman/Ack" in r.body.replace(
                b"\x00", b""), r

    batches(30)                     # every heap at its size
    before = _minor_faults(workers)
    batches(30)
    per_batch = (_minor_faults(workers) - before) / 30
    assert per_batch < 8, "%.1f page faults a batch" % per_batch
    assert len(lines(n.prefix / "events/alice.jsonl")) == 60 * 100


def test_hung_output_holds_none_of_nginxs_default_pool(nginx_factory):
    """Batches for an output that never answers (a Redis server that
    accepts and stays silent) wait in the collector's own pool: static
    files served with `aio threads` (nginx's default pool) still come at
    once.  With 90 batches hanging, nginx's 32 default threads a worker
    would all be taken."""
    import socket
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(256)
    held = []

    def accept():
        while True:
            try:
                held.append(hung.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    n = nginx_factory("""
    wsman_wec_subscription hung {
        query '%s';
        output redis 127.0.0.1:%d stream=wec timeout=6s;
    }
    server {
        listen 127.0.0.1:@PORT@;
        wsman_user_file @USERFILE@;
        location /wsman {
            wsman; wsman_wec on; wsman_auth basic;
            wsman_allow_unencrypted on;
        }
        location /static/ { alias @PREFIX@/static/; aio threads; }
    }
""" % (QUERY, hung.getsockname()[1]), start=False)
    (n.prefix / "static").mkdir()
    (n.prefix / "static/a.txt").write_text("static\n" * 10000)
    n.start()
    try:
        addr = notify_to(n, "alice", "hung")
        xml, _ = delivery(addr, ACTION_EVENTS, [event_xml(1)])
        answers = []

        def deliver():
            try:
                answers.append(post(n, addr, xml, "alice").status)
            except OSError as e:
                answers.append(e)

        posts = [threading.Thread(target=deliver, daemon=True)
                 for _ in range(90)]
        for t in posts:
            t.start()
        time.sleep(1.5)                 # every batch taken by a thread
        assert answers == [], answers   # the output hangs them all
        for _ in range(5):
            t0 = time.monotonic()
            st, _, body = H.raw_request(n.port, "GET", "/static/a.txt")
            took = time.monotonic() - t0
            assert st == 200 and len(body) == 70000
            assert took < 1.0, "a static file took %.1f s" % took
        for t in posts:
            t.join(30)
        # the output's timeout: none acknowledged, all answered
        assert len(answers) == 90 and 200 not in answers, answers
    finally:
        hung.close()
        for s in held:
            s.close()
