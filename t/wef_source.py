#!/usr/bin/python3
"""A Windows Event Forwarding source, simulated (source-initiated
subscriptions, MS-WSMV 3.1.4.1.30 and DSP0226 10): what a Windows
machine does once Group Policy gives it a SubscriptionManager URL.

  Enumerate   SubscriptionManager/Subscription at the manager URL
              (OptimizeEnumeration, m:MachineID, MaxEnvelopeSize 512000),
              one m:Subscription per subscription; then End
  Subscribe   parse each Subscribe envelope (Version, NotifyTo and the
              reference properties/parameters to echo, Heartbeats,
              MaxTime, MaxElements, ConnectionRetry, Bookmark, options)
  Deliver     Heartbeat, Events batches (w:Event CDATA, w:Bookmark with
              the last RecordId per channel, w:AckRequested) and
              SubscriptionEnd to NotifyTo; a batch counts as delivered
              only when the answer is an Ack whose RelatesTo is our
              MessageID.  Anything else (503, fault, timeout, a closed
              connection) keeps the batch for a later retry, and the
              bookmark stays at the last acked batch.
  Refresh     enumerate again; a changed Version is a new Subscribe
              (pending batches and the acked bookmark are kept).

Transports: Basic over HTTP or HTTPS, Kerberos (`Kerberos` scheme) and
Negotiate (SPNEGO) with WinRM message encryption, NTLM sealed (raw
NTLMSSP in `Negotiate`; the process needs OPENSSL_CONF=openssl-legacy.cnf
for MD4), HTTPS with a client certificate; Kerberos for HTTP/ or HOST/
(Windows Server 2025).  --load speaks Basic or certificates only.
Bodies are UTF-16LE with a BOM (charset=UTF-16), or UTF-8.  Delivery
messages follow the subscription's Compression=SLDC: compressed
(ECMA-321, sldc_compress() below) before sealing, with
`Content-Encoding: SLDC`; or the Windows quirk: announced, sent raw.

Class API (tests):

    src = Source(url, auth="basic", user="bob", password="...",
                 machine="win10.wsman.test")
    subs = src.enumerate()          # {name: Subscription}
    src.heartbeat()                 # {name: acked?}
    gen = EventGenerator("win10.wsman.test")
    src.send(gen.events(10))        # True when every batch was acked
    src.flush()                     # retry what is pending
    src.end()                       # SubscriptionEnd
    src.run(60, gen, rate=50)       # like Windows: MaxTime batches,
                                    # heartbeats, retries

CLI (one source, or many for load):

    python3 t/wef_source.py \\
        --url http://h:5985/wsman/SubscriptionManager/WEC \\
        --user bob --password ... --events 100 --batch 20
    python3 t/wef_source.py --url ... --user bob --password ... \\
        --run 60 --rate 50 --refresh 20 --time-scale 0.1
    python3 t/wef_source.py --url ... --user bob --password ... \\
        --load 10000 --interval 30 --duration 300 --warmup 60
    python3 t/wef_source.py --url ... --user bob --password ... \\
        --load 8 --load-events 500 --interval 0 --duration 30

prints one JSON line of counters; the exit status is 0 when every batch
and heartbeat was acked, 1 otherwise, 2 on a usage error.
"""

import argparse
import asyncio
import base64
import http.client
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as _xml_escape

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# ------------------------------------------------------------ constants --

NS_S = "http://www.w3.org/2003/05/soap-envelope"
NS_A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_E = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
NS_N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
NS_W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_P = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
NS_M = "http://schemas.microsoft.com/wbem/wsman/1/subscription"
NS_MID = "http://schemas.microsoft.com/wbem/wsman/1/machineid"
NS_C = "http://schemas.xmlsoap.org/ws/2002/12/policy"
NS_AUTH = "http://schemas.microsoft.com/wbem/wsman/1/authentication"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_F = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
NS_EVENT = "http://schemas.microsoft.com/win/2004/08/events/event"
NS_XML = "http://www.w3.org/XML/1998/namespace"

NS = {"s": NS_S, "a": NS_A, "e": NS_E, "n": NS_N, "w": NS_W, "p": NS_P,
      "m": NS_M, "c": NS_C, "auth": NS_AUTH, "xsi": NS_XSI}

ANONYMOUS = NS_A + "/role/anonymous"
SUB_URI = ("http://schemas.microsoft.com/wbem/wsman/1/SubscriptionManager/"
           "Subscription")
FULLDUPLEX_URI = "http://schemas.microsoft.com/wbem/wsman/1/wsman/FullDuplex"
EVENTLOG_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/EventLog"
EVENTS_MODE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Events"
BOOKMARK_EARLIEST = ("http://schemas.dmtf.org/wbem/wsman/1/wsman/bookmark/"
                     "earliest")

ACTION_ENUMERATE = NS_N + "/Enumerate"
ACTION_ENUMERATE_RESPONSE = NS_N + "/EnumerateResponse"
ACTION_PULL = NS_N + "/Pull"
ACTION_PULL_RESPONSE = NS_N + "/PullResponse"
ACTION_END = "http://schemas.microsoft.com/wbem/wsman/1/wsman/End"
ACTION_EVENTS = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Events"
ACTION_EVENT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Event"
ACTION_HEARTBEAT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Heartbeat"
ACTION_ACK = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack"
ACTION_SUBSCRIPTION_END = NS_E + "/SubscriptionEnd"
STATUS_SOURCE_CANCELLING = NS_E + "/SourceCancelling"

PROFILE_HTTPS_MUTUAL = ("http://schemas.dmtf.org/wbem/wsman/1/wsman/"
                        "secprofile/https/mutual")

PROTO_SPNEGO = "application/HTTP-SPNEGO-session-encrypted"
PROTO_KERBEROS = "application/HTTP-Kerberos-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"

USER_AGENT = "Microsoft WinRM Client"
MAX_ENVELOPE = 512000

AUTH_MODES = ("basic", "kerberos", "negotiate", "ntlm", "cert")


class ProtocolError(Exception):
    """The collector's answer is not what MS-WSMV says it must be."""


class TransportError(Exception):
    """No answer: connection refused or closed, timeout, TLS failure."""


# ----------------------------------------------------------------- SLDC --
# ECMA-321 as docs/sldc.md describes it (and src/soap/ngx_wsman_sldc.c
# decodes it): bits most significant first; control symbols are nine 1s
# and a 4-bit code; scheme 1 data symbols are `0`+8 bits (a literal) or
# `1`+match count field+10-bit displacement (a copy of 2-271 bytes from
# the 1 KiB history, the displacement an absolute ring position counted
# from the last Reset); scheme 2 passes bytes through, a 0xff followed
# by one 0 bit.

SLDC_FLUSH = 0x0
SLDC_SCHEME_1 = 0x1
SLDC_SCHEME_2 = 0x2
SLDC_FILE_MARK = 0x3
SLDC_END_RECORD = 0x4
SLDC_RESET_1 = 0x5
SLDC_RESET_2 = 0x6
SLDC_END_MARKER = 0xf
SLDC_HISTORY = 1024
SLDC_MAX_MATCH = 271


class SldcWriter:
    """Symbol-level SLDC writer; sldc_compress() drives it, tests can
    use it to build unusual streams."""

    def __init__(self):
        self.out = bytearray()
        self._acc = 0
        self._n = 0

    def put(self, value, nbits):
        self._acc = (self._acc << nbits) | (value & ((1 << nbits) - 1))
        self._n += nbits
        while self._n >= 8:
            self._n -= 8
            self.out.append((self._acc >> self._n) & 0xff)
        self._acc &= (1 << self._n) - 1

    def control(self, code):
        self.put(0x1ff, 9)
        self.put(code, 4)

    def literal(self, byte):
        self.put(byte, 9)           # a 0 bit, then the byte

    def copy(self, length, displacement):
        if not 2 <= length <= SLDC_MAX_MATCH:
            raise ValueError("SLDC copy length %d" % length)
        if not 0 <= displacement < SLDC_HISTORY:
            raise ValueError("SLDC displacement %d" % displacement)
        self.put(1, 1)
        if length < 4:
            self.put(0b0, 1)
            self.put(length - 2, 1)
        elif length < 8:
            self.put(0b10, 2)
            self.put(length - 4, 2)
        elif length < 16:
            self.put(0b110, 3)
            self.put(length - 8, 3)
        elif length < 32:
            self.put(0b1110, 4)
            self.put(length - 16, 4)
        else:
            # the 8-bit form ends at 239 (271): 1 1111 1111 would be a
            # control symbol
            self.put(0b1111, 4)
            self.put(length - 32, 8)
        self.put(displacement, 10)

    def raw(self, byte):
        """A scheme 2 byte."""
        self.put(byte, 8)
        if byte == 0xff:
            self.put(0, 1)

    def align(self):
        if self._n:
            self.put(0, 8 - self._n)

    def bytes(self):
        return bytes(self.out) + (bytes([(self._acc << (8 - self._n))
                                         & 0xff]) if self._n else b"")


def _sldc_scheme1(w, data, max_match, chain):
    """Greedy LZ77 over the 1 KiB history; candidates from a table of
    the last positions of each 2-byte prefix."""
    n = len(data)
    heads = {}
    i = 0
    while i < n:
        best = 0
        best_j = 0
        if i + 1 < n:
            cands = heads.get(data[i:i + 2])
            if cands:
                lo = i - SLDC_HISTORY
                lim = min(max_match, n - i)
                for j in reversed(cands[-chain:]):
                    if j < lo:
                        break
                    if best and data[j + best] != data[i + best]:
                        continue
                    k = 2
                    while k + 16 <= lim and \
                            data[j + k:j + k + 16] == data[i + k:i + k + 16]:
                        k += 16
                    while k < lim and data[j + k] == data[i + k]:
                        k += 1
                    if k > best:
                        best, best_j = k, j
                        if k == lim:
                            break
        step = best if best >= 2 else 1
        if best >= 2:
            # a copy may run into the bytes it produces (i - j < best):
            # the decoder writes each byte before it reads the next
            w.copy(best, best_j % SLDC_HISTORY)
        else:
            w.literal(data[i])
        for p in range(i, min(i + step, n - 1)):
            lst = heads.setdefault(data[p:p + 2], [])
            lst.append(p)
            if len(lst) > 4 * chain:
                del lst[:-chain]
        i += step


def sldc_compress(data, trailer=True, scheme=1, pad=0,
                  max_match=SLDC_MAX_MATCH, chain=24):
    """One SLDC record: Reset, the data, End of Record, zero bits to the
    byte, `pad` zero bytes (0-3), and the decoded length as 4 bytes
    little-endian (what Windows appends) when trailer is true.  scheme 2
    stores the data uncompressed."""
    data = bytes(data)
    w = SldcWriter()
    if scheme == 2:
        w.control(SLDC_RESET_2)
        for b in data:
            w.raw(b)
    else:
        w.control(SLDC_RESET_1)
        _sldc_scheme1(w, data, max(2, min(max_match, SLDC_MAX_MATCH)),
                      chain)
    w.control(SLDC_END_RECORD)
    w.align()
    for _ in range(pad):
        w.put(0, 8)
    if trailer:
        for b in struct.pack("<I", len(data)):
            w.put(b, 8)
    return w.bytes()


def sldc_decompress(data):
    """A reference decoder in Python (the rules of docs/sldc.md); the
    simulator does not need it, the tests use it to check the encoder
    on its own.  Raises ValueError on a malformed stream."""
    total = len(data) * 8
    pos = 0

    def get(n):
        nonlocal pos
        if pos + n > total:
            raise ValueError("truncated")
        v = 0
        for _ in range(n):
            v = (v << 1) | ((data[pos >> 3] >> (7 - (pos & 7))) & 1)
            pos += 1
        return v

    def peek(n):
        nonlocal pos
        if pos + n > total:
            return -1
        save = pos
        v = get(n)
        pos = save
        return v

    out = bytearray()
    ring = bytearray(SLDC_HISTORY)
    hpos = 0
    filled = 0
    scheme = 0

    def emit(c):
        nonlocal hpos, filled
        out.append(c)
        ring[hpos] = c
        hpos = (hpos + 1) % SLDC_HISTORY
        filled = min(filled + 1, SLDC_HISTORY)

    while True:
        if pos >= total:
            raise ValueError("no End of Record")
        if peek(9) == 0x1ff:
            get(9)
            code = get(4)
            if code in (SLDC_RESET_1, SLDC_RESET_2):
                hpos = filled = 0
                scheme = 1 if code == SLDC_RESET_1 else 2
            elif code in (SLDC_SCHEME_1, SLDC_SCHEME_2):
                scheme = code
            elif code == SLDC_END_RECORD:
                if scheme == 0:
                    raise ValueError("no scheme")
                break
            elif code in (SLDC_FLUSH, SLDC_FILE_MARK, SLDC_END_MARKER):
                if scheme == 0:
                    raise ValueError("no scheme")
            else:
                raise ValueError("reserved control %d" % code)
            continue
        if scheme == 0:
            raise ValueError("no scheme")
        if scheme == 2:
            c = get(8)
            if c == 0xff and get(1) != 0:
                raise ValueError("0xff not followed by 0")
            emit(c)
            continue
        if get(1) == 0:
            emit(get(8))
            continue
        if get(1) == 0:
            length = 2 + get(1)
        elif get(1) == 0:
            length = 4 + get(2)
        elif get(1) == 0:
            length = 8 + get(3)
        elif get(1) == 0:
            length = 16 + get(4)
        else:
            length = 32 + get(8)
        d = get(10)
        for k in range(length):
            p = (d + k) % SLDC_HISTORY
            if filled < SLDC_HISTORY and p >= filled:
                raise ValueError("pointer to unwritten history")
            emit(ring[p])
    if pos % 8:
        if get(8 - pos % 8) != 0:
            raise ValueError("trailing bits")
    # up to 3 zero bytes, then optionally the length (4 bytes LE)
    rest = data[pos // 8:]
    if len(rest) <= 3 and rest.strip(b"\0") == b"":
        return bytes(out)
    if 4 <= len(rest) <= 7 and rest[:-4].strip(b"\0") == b"":
        if struct.unpack("<I", rest[-4:])[0] != len(out):
            raise ValueError("length trailer")
        return bytes(out)
    raise ValueError("trailing bytes")


# -------------------------------------------------------------- events --

PROVIDERS = [
    ("Microsoft-Windows-Security-Auditing",
     "{54849625-5478-4994-a5ba-3e3b0328c30d}", "Security",
     [(4624, 0, 12544, "Logon"), (4625, 0, 12544, "Logon"),
      (4672, 0, 12548, "Special Logon"), (4688, 0, 13312,
                                          "Process Creation")]),
    ("Microsoft-Windows-WinRM", "{a7975c8f-ac13-49f1-87da-5a984a4ab417}",
     "Microsoft-Windows-WinRM/Operational",
     [(145, 4, 5, "WSMan API call"), (142, 2, 10, "Response handling"),
      (161, 2, 7, "User authentication")]),
    ("Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}",
     "System", [(7036, 4, 0, None), (7040, 4, 0, None)]),
    ("Application Error", None, "Application", [(1000, 2, 100, None)]),
]

LEVEL_NAMES = {0: "Information", 1: "Critical", 2: "Error", 3: "Warning",
               4: "Information"}

BAD_KINDS = ("surrogate", "truncated", "oversized", "cdata_end")


class Event:
    """One event record: its XML text (a str; a "surrogate" event holds
    a lone surrogate that only encodes with surrogatepass), where it
    comes from and what a collector should find in it."""

    def __init__(self, xml, channel, record_id, event_id, level, provider,
                 computer, time_created, bad=None):
        self.xml = xml
        self.channel = channel
        self.record_id = record_id
        self.event_id = event_id
        self.level = level
        self.provider = provider
        self.computer = computer
        self.time_created = time_created
        self.bad = bad

    def __repr__(self):
        return "<Event %s#%d %d%s>" % (self.channel, self.record_id,
                                       self.event_id,
                                       " bad=%s" % self.bad
                                       if self.bad else "")


class EventGenerator:
    """Realistic Windows events for one machine: the System fields
    (Provider, EventID, Version, Level, Task, Opcode, Keywords,
    TimeCreated, EventRecordID, Correlation, Execution, Channel,
    Computer, Security), EventData, and RenderingInfo when rendered.
    EventRecordIDs grow per channel, as the event log numbers them.
    Deterministic for a given seed."""

    def __init__(self, computer="win10.wsman.test", seed=1, rendered=True,
                 channels=None, first_record=1000):
        self.computer = computer
        self.rng = random.Random(seed)
        self.rendered = rendered
        self.providers = [p for p in PROVIDERS
                          if channels is None or p[2] in channels]
        if not self.providers:
            raise ValueError("no provider writes to %r" % (channels,))
        self.records = {}
        self.first_record = first_record
        self.clock = 1700000000.0

    def _next_record(self, channel):
        r = self.records.get(channel, self.first_record - 1) + 1
        self.records[channel] = r
        return r

    def event(self, bad=None, channel=None, size=None):
        """One event.  bad: None, "surrogate" (a lone UTF-16 surrogate
        in EventData: invalid UTF-16 as seen in the field), "truncated"
        (the XML cut off, as Windows sometimes renders RenderedText),
        "oversized" (EventData of `size` bytes, default 600000: more
        than a 512000-byte envelope), "cdata_end" (`]]>` inside the
        data, which the CDATA wrapping must split)."""
        if bad is not None and bad not in BAD_KINDS:
            raise ValueError("unknown bad event kind %r" % bad)
        rng = self.rng
        provs = [p for p in self.providers
                 if channel is None or p[2] == channel] or self.providers
        name, guid, chan, kinds = rng.choice(provs)
        event_id, level, task, task_name = rng.choice(kinds)
        rec = self._next_record(chan)
        self.clock += rng.uniform(0.001, 2.0)
        t = time.gmtime(self.clock)
        when = time.strftime("%Y-%m-%dT%H:%M:%S", t) + \
            ".%07dZ" % rng.randrange(10000000)
        user = rng.choice(["alice", "bob", "SYSTEM", "svc-backup"])
        data = [("SubjectUserName", user),
                ("SubjectDomainName", "WSMAN"),
                ("ProcessName", "C:\\Windows\\System32\\svchost.exe"),
                ("IpAddress", "10.0.%d.%d" % (rng.randrange(256),
                                              rng.randrange(1, 255)))]
        if bad == "surrogate":
            data.append(("Payload", "bad \ud800 surrogate \udc41 here"))
        elif bad == "oversized":
            data.append(("Payload", "A" * (size or 600000)))
        elif bad == "cdata_end":
            data.append(("Payload", "a]]>b<c>&d"))
        elif size:
            data.append(("Payload", "x" * size))
        prov = "<Provider Name='%s'%s/>" % (
            _xml_escape(name, {"'": "&apos;"}),
            " Guid='%s'" % guid if guid else "")
        level_name = LEVEL_NAMES.get(level, "Information")
        xml = (
            "<Event xmlns='%s'><System>%s<EventID>%d</EventID>"
            "<Version>0</Version><Level>%d</Level><Task>%d</Task>"
            "<Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords>"
            "<TimeCreated SystemTime='%s'/>"
            "<EventRecordID>%d</EventRecordID>"
            "<Correlation ActivityID='{%s}'/>"
            "<Execution ProcessID='%d' ThreadID='%d'/>"
            "<Channel>%s</Channel><Computer>%s</Computer>"
            "<Security UserID='S-1-5-18'/></System><EventData>%s"
            "</EventData>" % (
                NS_EVENT, prov, event_id, level, task, when, rec,
                str(uuid.UUID(int=rng.getrandbits(128))).upper(),
                rng.randrange(4, 9000), rng.randrange(4, 9000),
                _xml_escape(chan), _xml_escape(self.computer),
                "".join("<Data Name='%s'>%s</Data>" % (k, _xml_escape(v))
                        for k, v in data)))
        if self.rendered:
            xml += ("<RenderingInfo Culture='en-US'><Message>Event %d from"
                    " %s</Message><Level>%s</Level><Task>%s</Task>"
                    "<Opcode>Info</Opcode><Channel>%s</Channel>"
                    "<Provider>%s</Provider></RenderingInfo>" % (
                        event_id, _xml_escape(name), level_name,
                        _xml_escape(task_name or ""), _xml_escape(chan),
                        _xml_escape(name)))
        xml += "</Event>"
        if bad == "truncated":
            xml = xml[:len(xml) * 2 // 3]
        return Event(xml, chan, rec, event_id, level, name, self.computer,
                     when, bad)

    def events(self, n, bad=None, every=0, channel=None):
        """n events; with bad and every=k, every k-th one is bad (with
        every=0 all n are)."""
        out = []
        for i in range(n):
            kind = None
            if bad and (every == 0 or (i + 1) % every == 0):
                kind = bad
            out.append(self.event(kind, channel=channel))
        return out


def cdata(text):
    """text as CDATA; a `]]>` in it splits the section."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


# ------------------------------------------------------------ messages --

def new_id():
    return "uuid:%s" % str(uuid.uuid4()).upper()


_ENVELOPE_OPEN = (
    '<s:Envelope xmlns:s="%s" xmlns:a="%s" xmlns:e="%s" xmlns:n="%s"'
    ' xmlns:w="%s" xmlns:p="%s">' % (NS_S, NS_A, NS_E, NS_N, NS_W, NS_P))


def _header(to, action, mid, machine, session_id, locale="en-US",
            resource_uri=None, timeout="PT60.000S", extra=""):
    """The header Windows puts on every message of a source."""
    ru = ('<w:ResourceURI s:mustUnderstand="true">%s</w:ResourceURI>'
          % resource_uri) if resource_uri else ""
    return (
        '<s:Header><a:To>%(to)s</a:To>%(ru)s'
        '<m:MachineID xmlns:m="%(mns)s" s:mustUnderstand="false">'
        '%(machine)s</m:MachineID>'
        '<a:ReplyTo><a:Address s:mustUnderstand="true">%(anon)s'
        '</a:Address></a:ReplyTo>'
        '<a:Action s:mustUnderstand="true">%(action)s</a:Action>'
        '<w:MaxEnvelopeSize s:mustUnderstand="true">%(max)d'
        '</w:MaxEnvelopeSize>'
        '<a:MessageID>%(mid)s</a:MessageID>'
        '<w:Locale xml:lang="%(loc)s" s:mustUnderstand="false"/>'
        '<p:DataLocale xml:lang="%(loc)s" s:mustUnderstand="false"/>'
        '<p:SessionId s:mustUnderstand="false">%(sid)s</p:SessionId>'
        '<p:OperationID s:mustUnderstand="false">%(oid)s</p:OperationID>'
        '<p:SequenceId s:mustUnderstand="false">1</p:SequenceId>'
        '<w:OperationTimeout>%(timeout)s</w:OperationTimeout>'
        '%(extra)s</s:Header>' % {
            "to": _xml_escape(to), "ru": ru, "mns": NS_MID,
            "machine": _xml_escape(machine), "anon": ANONYMOUS,
            "action": action, "max": MAX_ENVELOPE, "mid": mid,
            "loc": _xml_escape(locale, {'"': "&quot;"}),
            "sid": session_id, "oid": new_id(), "timeout": timeout,
            "extra": extra})


def enumerate_message(to, machine, session_id, locale="en-US",
                      max_elements=32000):
    """(xml, MessageID) of the Enumerate of subscriptions."""
    mid = new_id()
    return (_ENVELOPE_OPEN
            + _header(to, ACTION_ENUMERATE, mid, machine, session_id,
                      locale, resource_uri=SUB_URI)
            + '<s:Body><n:Enumerate><w:OptimizeEnumeration/>'
              '<w:MaxElements>%d</w:MaxElements></n:Enumerate>'
              '</s:Body></s:Envelope>' % max_elements), mid


def pull_message(to, machine, session_id, context, locale="en-US",
                 max_elements=32000):
    """(xml, MessageID) of a Pull of the rest of the subscriptions."""
    mid = new_id()
    return (_ENVELOPE_OPEN
            + _header(to, ACTION_PULL, mid, machine, session_id,
                      locale, resource_uri=SUB_URI)
            + '<s:Body><n:Pull><n:EnumerationContext>%s'
              '</n:EnumerationContext><n:MaxElements>%d</n:MaxElements>'
              '</n:Pull></s:Body></s:Envelope>'
            % (_xml_escape(context), max_elements)), mid


def end_message():
    """(xml, MessageID) of the End that follows the enumeration."""
    mid = new_id()
    return (_ENVELOPE_OPEN
            + '<s:Header><a:To>%s</a:To>'
              '<w:ResourceURI s:mustUnderstand="true">%s</w:ResourceURI>'
              '<a:Action s:mustUnderstand="true">%s</a:Action>'
              '<a:MessageID>%s</a:MessageID>'
              '<p:OperationID>%s</p:OperationID></s:Header>'
              '<s:Body></s:Body></s:Envelope>'
            % (ANONYMOUS, FULLDUPLEX_URI, ACTION_END, mid, new_id())), mid


def bookmark_xml(marks):
    """A BookmarkList: the last RecordId per channel."""
    return ("<BookmarkList>" + "".join(
        '<Bookmark Channel="%s" RecordId="%d" IsCurrent="true"/>'
        % (_xml_escape(c, {'"': "&quot;"}), r)
        for c, r in sorted(marks.items())) + "</BookmarkList>")


def delivery_message(sub, action, machine, session_id, events=(),
                     bookmark=None, body=None):
    """(xml str, MessageID) of an Events, Heartbeat or SubscriptionEnd
    message to sub's NotifyTo: its reference properties/parameters
    echoed as headers, the bookmark, AckRequested."""
    mid = new_id()
    extra = "".join(sub.echo_headers)
    if bookmark is not None:
        extra += "<w:Bookmark>%s</w:Bookmark>" % bookmark
    extra += "<w:AckRequested/>"
    if body is None:
        body = "<w:Events>%s</w:Events>" % "".join(
            '<w:Event Action="%s">%s</w:Event>' % (ACTION_EVENT,
                                                  cdata(e.xml))
            for e in events)
    return (_ENVELOPE_OPEN
            + _header(sub.notify_to, action, mid, machine, session_id,
                      sub.locale, extra=extra)
            + "<s:Body>%s</s:Body></s:Envelope>" % body), mid


def subscription_end_body(sub, machine, code=1717,
                          message="Windows Event Forward Plugin failed to "
                                  "read events."):
    ident = "".join(sub.echo_headers)
    return (
        '<e:SubscriptionEnd><e:SubscriptionManager><a:Address>%s'
        '</a:Address><a:ReferenceProperties>%s</a:ReferenceProperties>'
        '</e:SubscriptionManager><e:Status>%s</e:Status>'
        '<f:WSManFault xmlns:f="%s" Code="%d" Machine="%s"><f:Message>'
        '<f:ProviderFault provider="Unknown provider" path="Unknown path">'
        '<t:ProviderError xmlns:t="%s">%s</t:ProviderError>'
        '</f:ProviderFault></f:Message></f:WSManFault></e:SubscriptionEnd>'
        % (_xml_escape(sub.notify_to), ident, STATUS_SOURCE_CANCELLING,
           NS_F, code, _xml_escape(machine), EVENTLOG_URI,
           _xml_escape(message)))


def encode_body(xml, utf16=True):
    """The bytes on the wire: UTF-16LE with a BOM, or UTF-8.  Lone
    surrogates (bad events) are written as they are, giving invalid
    UTF-16 (or invalid UTF-8)."""
    if utf16:
        return b"\xff\xfe" + xml.encode("utf-16-le", "surrogatepass")
    return xml.encode("utf-8", "surrogatepass")


def decode_body(body):
    if body.startswith(b"\xff\xfe") or body.startswith(b"\xfe\xff"):
        return body.decode("utf-16")
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8")
    return body.decode("utf-8")


def parse_duration(text):
    """xs:duration (PnDTnHnMn.nS) in seconds."""
    m = re.fullmatch(r"\s*P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?"
                     r"(?:(\d+(?:\.\d*)?)S)?)?\s*", text or "")
    if not m or not (text or "").strip() or text.strip() in ("P", "PT"):
        raise ProtocolError("bad duration %r" % text)
    d, h, mi, s = m.groups()
    return (int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60
            + float(s or 0))


_PREFIXES = {v: k for k, v in NS.items()}


def _serialize(el):
    """An element as XML text with its namespaces declared (to echo
    reference parameters as headers): a leaf with a prefix of ours
    (`<e:Identifier xmlns:e="...">`, as Windows echoes it), anything
    else as ElementTree writes it."""
    m = re.fullmatch(r"\{([^}]*)\}(.+)", el.tag)
    if m and not len(el) and m.group(1) in _PREFIXES \
            and not any("{" in k for k in el.attrib):
        pfx = _PREFIXES[m.group(1)]
        attrs = "".join(' %s="%s"' % (k, _xml_escape(v, {'"': "&quot;"}))
                        for k, v in el.attrib.items())
        return '<%s:%s xmlns:%s="%s"%s>%s</%s:%s>' % (
            pfx, m.group(2), pfx, m.group(1), attrs,
            _xml_escape(el.text or ""), pfx, m.group(2))
    return ET.tostring(el, encoding="unicode", short_empty_elements=True)


class Subscription:
    """What a source keeps of one m:Subscription, and its delivery
    state (the acked bookmark, the batches not acked yet)."""

    def __init__(self, element):
        self.element = element
        v = element.find("m:Version", NS)
        if v is None or not (v.text or "").strip():
            raise ProtocolError("m:Subscription without m:Version")
        self.version = v.text.strip()
        env = element.find("s:Envelope", NS)
        if env is None:
            raise ProtocolError("m:Subscription without s:Envelope")
        hdr = env.find("s:Header", NS)
        action = hdr.findtext("a:Action", None, NS) if hdr is not None \
            else None
        if action != NS_E + "/Subscribe":
            raise ProtocolError("not a Subscribe: %r" % action)
        self.resource_uri = hdr.findtext("w:ResourceURI", "", NS).strip()
        self.options = {}
        for o in hdr.findall("w:OptionSet/w:Option", NS):
            nil = o.get("{%s}nil" % NS_XSI) == "true"
            self.options[o.get("Name")] = None if nil else (o.text or "")
        self.name = self.options.get("SubscriptionName")
        if not self.name:
            raise ProtocolError("Subscribe without SubscriptionName")
        self.compression = self.options.get("Compression")
        self.content_format = self.options.get("ContentFormat",
                                               "RenderedText")
        self.read_existing = "ReadExistingEvents" in self.options
        s = env.find("s:Body/e:Subscribe", NS)
        if s is None:
            raise ProtocolError("Subscribe without e:Subscribe")
        d = s.find("e:Delivery", NS)
        if d is None or d.get("Mode") != EVENTS_MODE:
            raise ProtocolError("delivery mode %r" % (
                None if d is None else d.get("Mode")))
        nt = d.find("e:NotifyTo", NS)
        if nt is None or not nt.findtext("a:Address", "", NS).strip():
            raise ProtocolError("no NotifyTo address")
        self.notify_to = nt.findtext("a:Address", "", NS).strip()
        self.end_to = s.findtext("e:EndTo/a:Address", "", NS).strip()
        # whatever the EPR holds the source sends back as headers
        self.echo_headers = []
        for kind in ("a:ReferenceProperties", "a:ReferenceParameters"):
            for holder in nt.findall(kind, NS):
                self.echo_headers.extend(_serialize(c) for c in holder)
        self.heartbeat = parse_duration(d.findtext("w:Heartbeats", "", NS))
        self.max_time = parse_duration(d.findtext("w:MaxTime", "", NS))
        me = d.findtext("w:MaxElements", None, NS)
        self.max_elements = int(me) if me else None
        mes = d.findtext("w:MaxEnvelopeSize", None, NS)
        self.max_envelope = int(mes) if mes else MAX_ENVELOPE
        cr = d.find("w:ConnectionRetry", NS)
        self.retry_total = int(cr.get("Total", "5")) if cr is not None else 5
        self.retry_interval = (parse_duration(cr.text)
                               if cr is not None and cr.text else 60.0)
        loc = d.find("w:Locale", NS)
        self.locale = (loc.get("{%s}lang" % NS_XML) if loc is not None
                       else None) or "en-US"
        self.content_encoding = d.findtext("w:ContentEncoding", "UTF-16",
                                           NS)
        a = nt.find("c:Policy/c:ExactlyOne/c:All/auth:Authentication", NS)
        self.profile = a.get("Profile") if a is not None else None
        self.issuers = [t.text for t in (a.findall(
            "auth:ClientCertificate/auth:Thumbprint[@Role='issuer']", NS)
            if a is not None else [])]
        f = s.find("w:Filter", NS)
        self.query = None
        if f is not None and len(f):
            self.query = _serialize(f[0])
        b = s.find("w:Bookmark", NS)
        self.bookmark = None
        if b is not None:
            self.bookmark = (b.text or "").strip() if not len(b) \
                else _serialize(b[0])
        self.send_bookmarks = s.find("w:SendBookmarks", NS) is not None
        # delivery state
        self.acked = {}             # channel -> last acked RecordId
        self.pending = []           # batches (lists of Event), in order
        self.acked_batches = 0
        self.acked_events = 0
        self.failures = 0
        self.resubscribed = 0
        self.start_bookmark()

    def start_bookmark(self):
        """The collector's bookmark, where the source starts from."""
        if self.bookmark and self.bookmark.startswith("<"):
            try:
                bl = ET.fromstring(self.bookmark)
                for b in bl.iter("Bookmark"):
                    self.acked[b.get("Channel")] = int(b.get("RecordId"))
            except (ET.ParseError, TypeError, ValueError):
                raise ProtocolError("bad bookmark %r" % self.bookmark)

    def adopt_state(self, old):
        """A new Version of a subscription we had: keep what is not
        delivered and where we are."""
        self.pending = old.pending
        if not self.acked:
            self.acked = dict(old.acked)
        self.acked_batches = old.acked_batches
        self.acked_events = old.acked_events
        self.failures = old.failures
        self.resubscribed = old.resubscribed + 1

    def __repr__(self):
        return "<Subscription %s %s -> %s>" % (self.name, self.version,
                                               self.notify_to)


def parse_enumerate_response(body_text, mid, partial=False):
    """{name: Subscription} of an EnumerateResponse; checks RelatesTo.
    partial: the collector may leave some for Pull: returns (subs,
    context), context None at the end; a PullResponse is read so too."""
    try:
        root = ET.fromstring(body_text)
    except ET.ParseError as e:
        raise ProtocolError("EnumerateResponse not XML: %s" % e)
    hdr = root.find("s:Header", NS)
    if hdr is None:
        raise ProtocolError("no SOAP header")
    action = hdr.findtext("a:Action", "", NS).strip()
    pull = partial and action == ACTION_PULL_RESPONSE
    if action != ACTION_ENUMERATE_RESPONSE and not pull:
        raise ProtocolError("answer to Enumerate is %r: %s"
                            % (action, body_text[:500]))
    if hdr.findtext("a:RelatesTo", "", NS).strip() != mid:
        raise ProtocolError("RelatesTo %r is not our MessageID %r"
                            % (hdr.findtext("a:RelatesTo", "", NS), mid))
    resp = root.find("s:Body/n:%s" % ("PullResponse" if pull
                                       else "EnumerateResponse"), NS)
    if resp is None:
        raise ProtocolError("no EnumerateResponse body")
    # the end: w:EndOfSequence in an optimized EnumerateResponse,
    # n:EndOfSequence in a PullResponse
    end = (resp.find("n:EndOfSequence" if pull else "w:EndOfSequence", NS)
           is not None)
    context = None
    if not end:
        context = resp.findtext("n:EnumerationContext", "", NS).strip()
        if not partial:
            # a source would Pull the rest; the collector's subscriptions
            # fit in the first answer (OptimizeEnumeration, MaxElements
            # 32000)
            raise ProtocolError("EnumerateResponse without EndOfSequence")
        if not context:
            raise ProtocolError("no EndOfSequence and no context")
    subs = {}
    items = resp.find("n:Items" if pull else "w:Items", NS)
    for el in (items if items is not None else []):
        if el.tag != "{%s}Subscription" % NS_M:
            raise ProtocolError("unexpected item %s" % el.tag)
        sub = Subscription(el)
        subs[sub.name] = sub
    return (subs, context) if partial else subs


def check_relates(body_text, mid):
    """True when body_text is an envelope whose RelatesTo is mid, or an
    envelope with nothing in it (no header entries, an empty body: what
    the collector answers to SubscriptionEnd)."""
    try:
        root = ET.fromstring(body_text)
    except ET.ParseError:
        return False
    hdr = root.find("s:Header", NS)
    body = root.find("s:Body", NS)
    if root.tag != "{%s}Envelope" % NS_S or body is None or len(body):
        return False
    if hdr is None or not len(hdr):
        return True
    return hdr.findtext("a:RelatesTo", "", NS).strip() == mid


def check_ack(body_text, mid):
    """True when body_text is an Ack to MessageID mid."""
    try:
        root = ET.fromstring(body_text)
    except ET.ParseError:
        return False
    hdr = root.find("s:Header", NS)
    if hdr is None:
        return False
    return (hdr.findtext("a:Action", "", NS).strip() == ACTION_ACK
            and hdr.findtext("a:RelatesTo", "", NS).strip() == mid)


# ----------------------------------------------------------- transport --

class Reply:
    def __init__(self, status, headers, body, encrypted=False):
        self.status = status
        self.headers = headers      # http.client.HTTPMessage
        self.body = body            # plaintext bytes
        self.encrypted = encrypted

    def header(self, name):
        return self.headers.get(name) if self.headers is not None else None

    def text(self):
        try:
            return decode_body(self.body)
        except UnicodeDecodeError:
            return self.body.decode("latin-1")

    def __repr__(self):
        return "<Reply %s %r>" % (self.status, self.body[:300])


class Channel:
    """One keep-alive connection to one collector origin, authenticated
    the way the source is configured:

      basic      Authorization: Basic on every request
      cert       TLS with a client certificate; Authorization names the
                 https/mutual profile (as Windows sends it)
      kerberos   `Kerberos` scheme, raw krb5 token, then every body
                 sealed (HTTP-Kerberos-session-encrypted)
      negotiate  `Negotiate` scheme, SPNEGO (Kerberos), sealed
                 (HTTP-SPNEGO-session-encrypted)
      ntlm       `Negotiate` scheme, raw NTLMSSP, sealed (SPNEGO
                 protocol name)

    The GSS handshake is the Windows one: a POST with an empty body and
    the token; the body follows on the same connection.  A lost
    connection is reopened (and re-authenticated) on the next request."""

    def __init__(self, scheme, host, port, auth="basic", user=None,
                 password=None, domain="WSMAN", cert=None, key=None,
                 cafile=None, gss_host=None, ccache=None, timeout=10,
                 seal=True, gss_service="HTTP"):
        if auth not in AUTH_MODES:
            raise ValueError("auth must be one of %s" % (AUTH_MODES,))
        self.scheme = scheme
        self.host = host
        self.port = port
        self.auth = auth
        self.user = user
        self.password = password
        self.domain = domain
        self.cert = cert
        self.key = key
        self.cafile = cafile
        self.gss_host = gss_host or host
        self.gss_service = gss_service
        self.ccache = ccache
        self.timeout = timeout
        self.seal = seal and auth in ("kerberos", "negotiate", "ntlm")
        self.conn = None
        self.gss = None
        self.connects = 0
        if auth == "cert" and scheme != "https":
            raise ValueError("certificate authentication needs https")
        if auth == "basic" and (user is None or password is None):
            raise ValueError("basic needs user and password")
        if auth == "ntlm" and (user is None or password is None):
            raise ValueError("ntlm needs user and password")

    @property
    def protocol(self):
        return PROTO_KERBEROS if self.auth == "kerberos" else PROTO_SPNEGO

    @property
    def http_scheme(self):
        return "Kerberos" if self.auth == "kerberos" else "Negotiate"

    def _ssl_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.cafile:
            ctx.load_verify_locations(self.cafile)
            ctx.check_hostname = False
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert:
            ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None
        self.gss = None

    def _open(self, path):
        if self.scheme == "https":
            c = http.client.HTTPSConnection(self.host, self.port,
                                            timeout=self.timeout,
                                            context=self._ssl_context())
        else:
            c = http.client.HTTPConnection(self.host, self.port,
                                           timeout=self.timeout)
        self.conn = c
        self.connects += 1
        if self.auth in ("kerberos", "negotiate", "ntlm"):
            self._handshake(path)

    def _gss_client(self):
        import wsman_gss as G
        mech = {"kerberos": "krb5", "negotiate": "spnego",
                "ntlm": "ntlm"}[self.auth]
        return G.GssClient(mech, host=self.gss_host, user=self.user
                           if self.auth == "ntlm" else None,
                           password=self.password, domain=self.domain,
                           ccache=self.ccache, service=self.gss_service)

    def _raw(self, path, body, headers):
        h = {"User-Agent": USER_AGENT, "Connection": "Keep-Alive"}
        h.update(headers)
        try:
            self.conn.request("POST", path, body, h)
            r = self.conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException, ssl.SSLError) as e:
            self.close()
            raise TransportError("%s:%d: %s" % (self.host, self.port, e))
        if r.will_close:
            # answered, but the server ends the connection (and the GSS
            # context with it)
            conn, self.conn = self.conn, None
            self.gss = None
            conn.close()
        return r, data

    def _handshake(self, path):
        """Authenticate the connection: empty-body POSTs carrying the
        tokens until the server says 200."""
        try:
            self.gss = self._gss_client()
            token = self.gss.step()
        except Exception as e:      # gssapi's errors have no common base
            self.close()
            raise TransportError("GSS initiation: %s" % e)
        for _ in range(4):
            r, _ = self._raw(path, b"", {
                "Authorization": "%s %s" % (self.http_scheme,
                                            base64.b64encode(token)
                                            .decode()),
                "Content-Length": "0"})
            toks = [base64.b64decode(v.split(None, 1)[1])
                    for v in r.msg.get_all("WWW-Authenticate") or []
                    if v.split(None, 1)[0].lower() ==
                    self.http_scheme.lower() and len(v.split(None, 1)) == 2]
            if self.conn is None:
                raise TransportError("connection closed in the handshake "
                                     "(status %d)" % r.status)
            if r.status == 401 and toks and not self.gss.complete:
                try:
                    token = self.gss.step(toks[0])
                except Exception as e:
                    self.close()
                    raise TransportError("GSS step: %s" % e)
                continue
            if r.status // 100 == 2:
                if toks and not self.gss.complete:
                    try:
                        self.gss.step(toks[0])
                    except Exception as e:
                        self.close()
                        raise TransportError("mutual auth: %s" % e)
                if not self.gss.complete:
                    self.close()
                    raise TransportError("server accepted an incomplete "
                                         "GSS context")
                return
            self.close()
            raise TransportError("authentication refused: HTTP %d"
                                 % r.status)
        self.close()
        raise TransportError("authentication did not finish")

    def _seal(self, plaintext, charset):
        header, data = self.gss.seal(plaintext)
        return (BOUNDARY + b"\r\n"
                + b"\tContent-Type: " + self.protocol.encode() + b"\r\n"
                + b"\tOriginalContent: type=application/soap+xml;charset="
                + charset.encode() + b";Length="
                + str(len(plaintext)).encode() + b"\r\n"
                + BOUNDARY + b"\r\n"
                + b"\tContent-Type: application/octet-stream\r\n"
                + struct.pack("<I", len(header)) + header + data
                + BOUNDARY + b"--\r\n")

    def post(self, path, body, charset="UTF-16", content_encoding=None):
        """POST one envelope (bytes, already encoded and compressed);
        returns a Reply with the plaintext answer.  One retry on a
        connection the server had closed while idle."""
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                self._open(path)
            headers = {}
            if content_encoding:
                headers["Content-Encoding"] = content_encoding
            if self.auth == "basic":
                headers["Authorization"] = "Basic " + base64.b64encode(
                    ("%s:%s" % (self.user, self.password)).encode()).decode()
            elif self.auth == "cert":
                headers["Authorization"] = PROFILE_HTTPS_MUTUAL
            if self.seal:
                payload = self._seal(body, charset)
                headers["Content-Type"] = (
                    'multipart/encrypted;protocol="%s";'
                    'boundary="Encrypted Boundary"' % self.protocol)
            else:
                payload = body
                headers["Content-Type"] = ("application/soap+xml;charset=%s"
                                           % charset)
            try:
                r, data = self._raw(path, payload, headers)
            except TransportError:
                if fresh or attempt:
                    raise
                continue            # a stale keep-alive connection
            ct = (r.getheader("Content-Type") or "").lower()
            if self.seal and ct.startswith("multipart/encrypted"):
                import wsman_gss as G
                try:
                    proto, length, header, sealed = G.parse_encrypted(data)
                    plain = self.gss.unseal(header, sealed)
                except Exception as e:
                    self.close()
                    raise ProtocolError("encrypted answer: %s" % e)
                if len(plain) != length:
                    raise ProtocolError("OriginalContent Length %d, %d "
                                        "bytes decrypted" % (length,
                                                             len(plain)))
                return Reply(r.status, r.msg, plain, True)
            if self.seal and r.status == 200:
                raise ProtocolError("a sealed request got a plain 200")
            return Reply(r.status, r.msg, data, False)
        raise TransportError("unreachable")


# -------------------------------------------------------------- source --

class Source:
    """One Windows machine forwarding events (see the module doc).

    url        the SubscriptionManager URL Group Policy gives
               (http(s)://collector:port/wsman/SubscriptionManager/WEC)
    auth       basic | kerberos | negotiate | ntlm | cert
    machine    m:MachineID (the source's DNS name)
    utf16      UTF-16LE bodies with a BOM (else UTF-8)
    sldc       None: follow the subscription's Compression option;
               True/False: force
    sldc_raw   announce SLDC but send the bytes uncompressed (a Windows
               quirk)
    batch      events per Events message (default: the subscription's
               MaxElements, else 100), also cut by MaxEnvelopeSize
    timeout    seconds for every network operation
    gss_host, gss_service
               the SPN service@host Kerberos asks a ticket for (default
               HTTP@ the URL's host; HOST is what Windows Server 2025
               sources use)
    max_elements
               the Enumerate's w:MaxElements (Windows: 32000); what the
               collector leaves out comes by Pull
    oversize   an event that alone passes the subscription's
               MaxEnvelopeSize: "skip" (dropped and counted in
               stats["dropped"], as a source under Policy="Skip" or
               "Notify" drops it) or "send" (sent alone anyway, to test
               the collector's limit)
    """

    def __init__(self, url, auth="basic", user=None, password=None,
                 machine="win10.wsman.test", domain="WSMAN", cert=None,
                 key=None, cafile=None, gss_host=None, ccache=None,
                 utf16=True, sldc=None, sldc_raw=False, batch=None,
                 timeout=10, locale="en-US", seal=True, oversize="skip",
                 gss_service="HTTP", max_elements=32000):
        if oversize not in ("skip", "send"):
            raise ValueError("oversize must be skip or send")
        self.oversize = oversize
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("url must be http(s)://host[:port]/path")
        self.url = url
        self.machine = machine
        self.utf16 = utf16
        self.sldc = sldc
        self.sldc_raw = sldc_raw
        self.batch = batch
        self.locale = locale
        self.max_elements = max_elements
        self.session_id = new_id()
        self._chan_args = dict(auth=auth, user=user, password=password,
                               domain=domain, cert=cert, key=key,
                               cafile=cafile, gss_host=gss_host,
                               ccache=ccache, timeout=timeout, seal=seal,
                               gss_service=gss_service)
        self.channels = {}
        self.subscriptions = {}
        self.stats = {"enumerations": 0, "pulls": 0, "batches_sent": 0,
                      "batches_acked": 0, "events_acked": 0,
                      "heartbeats_acked": 0, "failures": 0,
                      "resubscribed": 0, "dropped": 0}
        self.last_reply = None
        self.last_error = None

    # -- connections --

    def _channel(self, url):
        u = urllib.parse.urlsplit(url)
        port = u.port or (443 if u.scheme == "https" else 80)
        key = (u.scheme, u.hostname, port)
        ch = self.channels.get(key)
        if ch is None:
            ch = Channel(u.scheme, u.hostname, port, **self._chan_args)
            self.channels[key] = ch
        path = u.path or "/"
        if u.query:
            path += "?" + u.query
        return ch, path

    def close(self):
        for ch in self.channels.values():
            ch.close()

    @property
    def charset(self):
        return "UTF-16" if self.utf16 else "UTF-8"

    # -- subscriptions --

    def enumerate(self):
        """Enumerate, then End (on the enumeration connection, which is
        then closed, as Windows does).  Applies what changed: new
        subscriptions, a new Version (subscribe again, keeping pending
        batches and the bookmark), subscriptions gone.  Returns
        {name: Subscription}."""
        ch, path = self._channel(self.url)
        xml, mid = enumerate_message(self.url, self.machine,
                                     self.session_id, self.locale,
                                     self.max_elements)
        found, context = {}, None
        for pulls in range(10000):
            r = ch.post(path, encode_body(xml, self.utf16), self.charset)
            self.last_reply = r
            if r.status != 200:
                raise ProtocolError("%s: HTTP %d %s" % (
                    "Pull" if pulls else "Enumerate", r.status,
                    r.text()[:500]))
            more, context = parse_enumerate_response(r.text(), mid, True)
            found.update(more)
            if context is None:
                break
            # what did not fit (MaxElements, MaxEnvelopeSize): Pull it
            xml, mid = pull_message(self.url, self.machine,
                                    self.session_id, context, self.locale,
                                    self.max_elements)
            self.stats["pulls"] += 1
        xml, mid = end_message()
        r = ch.post(path, encode_body(xml, self.utf16), self.charset)
        if r.status not in (200, 204):
            raise ProtocolError("End: HTTP %d" % r.status)
        if r.status == 200 and r.body and not check_relates(r.text(), mid):
            raise ProtocolError("End: the answer does not relate to it: %s"
                                % r.text()[:300])
        ch.close()
        self.stats["enumerations"] += 1
        new = {}
        for name, sub in found.items():
            old = self.subscriptions.get(name)
            if old is not None and old.version == sub.version:
                new[name] = old
                continue
            if old is not None:
                sub.adopt_state(old)
                self.stats["resubscribed"] += 1
            new[name] = sub
        self.subscriptions = new
        return new

    refresh = enumerate

    def _subs(self, name):
        if name is None:
            return list(self.subscriptions.values())
        if name not in self.subscriptions:
            raise KeyError("no subscription %r (have %s)"
                           % (name, sorted(self.subscriptions)))
        return [self.subscriptions[name]]

    def _compress(self, sub):
        if self.sldc is None:
            return sub.compression == "SLDC"
        return self.sldc

    def _deliver(self, sub, xml, mid, empty_ok=False):
        """POST a delivery message; True when acked (empty_ok: or
        answered with an empty envelope that RelatesTo it, or nothing,
        which a collector may do for SubscriptionEnd)."""
        ch, path = self._channel(sub.notify_to)
        body = encode_body(xml, self.utf16)
        enc = None
        if self._compress(sub):
            enc = "SLDC"
            if not self.sldc_raw:
                body = sldc_compress(body)
        try:
            r = ch.post(path, body, self.charset, enc)
        except (TransportError, ProtocolError) as e:
            self.last_error = str(e)
            self.last_reply = None
            return False
        self.last_reply = r
        if r.status == 200 and check_ack(r.text(), mid):
            self.last_error = None
            return True
        if empty_ok and (r.status == 204 or (r.status == 200 and (
                not r.body or check_relates(r.text(), mid)))):
            self.last_error = None
            return True
        self.last_error = "HTTP %d: %s" % (r.status, r.text()[:300])
        return False

    def heartbeat(self, name=None):
        """{name: acked} for a Heartbeat to each subscription."""
        out = {}
        for sub in self._subs(name):
            xml, mid = delivery_message(sub, ACTION_HEARTBEAT, self.machine,
                                        self.session_id)
            ok = self._deliver(sub, xml, mid)
            out[sub.name] = ok
            if ok:
                self.stats["heartbeats_acked"] += 1
            else:
                self.stats["failures"] += 1
                sub.failures += 1
        return out

    def _batches(self, sub, events):
        size = self.batch or sub.max_elements or 100
        limit = sub.max_envelope - 4096        # room for the header
        out, cur, cur_len = [], [], 0
        for e in events:
            n = 2 * len(e.xml) + 64
            if n > limit and self.oversize == "skip":
                self.stats["dropped"] += 1
                continue
            if cur and (len(cur) >= size or cur_len + n > limit):
                out.append(cur)
                cur, cur_len = [], 0
            cur.append(e)
            cur_len += n
        if cur:
            out.append(cur)
        return out

    def send(self, events, name=None):
        """Queue events (to each subscription, or to `name`) and deliver
        what is pending.  True when everything pending was acked."""
        events = list(events)
        for sub in self._subs(name):
            sub.pending.extend(self._batches(sub, events))
        return self.flush(name)

    def flush(self, name=None, attempts=1, interval=0.0):
        """Deliver pending batches in order, each up to `attempts` times
        `interval` seconds apart (ConnectionRetry); stop at the first
        batch that is not acked (it stays pending, the bookmark stays
        at the last acked batch).  True when nothing is left pending."""
        done = True
        for sub in self._subs(name):
            while sub.pending:
                batch = sub.pending[0]
                marks = dict(sub.acked)
                for e in batch:
                    if e.record_id > marks.get(e.channel, -1):
                        marks[e.channel] = e.record_id
                ok = False
                for k in range(max(1, attempts)):
                    if k:
                        time.sleep(interval)
                    xml, mid = delivery_message(
                        sub, ACTION_EVENTS, self.machine, self.session_id,
                        batch, bookmark_xml(marks)
                        if sub.send_bookmarks else None)
                    self.stats["batches_sent"] += 1
                    ok = self._deliver(sub, xml, mid)
                    if ok:
                        break
                    self.stats["failures"] += 1
                    sub.failures += 1
                if not ok:
                    done = False
                    break
                sub.pending.pop(0)
                sub.acked = marks
                sub.acked_batches += 1
                sub.acked_events += len(batch)
                self.stats["batches_acked"] += 1
                self.stats["events_acked"] += len(batch)
        return done

    def pending(self, name=None):
        return sum(len(b) for s in self._subs(name) for b in s.pending)

    def bookmark(self, name):
        return dict(self.subscriptions[name].acked)

    def run(self, duration, gen=None, rate=0.0, refresh=None,
            time_scale=1.0, name=None, tick=0.05):
        """Behave like Windows for `duration` seconds: `rate` new events
        a second from gen; a subscription's events go out when
        MaxElements are waiting or the oldest has waited MaxTime; a
        Heartbeat after Heartbeats seconds without a message; a batch
        not acked is retried every ConnectionRetry interval; enumerate
        again every `refresh` seconds (a new Version subscribes again).
        The subscription's times are multiplied by time_scale (tests
        run a 30 s MaxTime in 0.3 s with 0.01).  Returns the stats."""
        t0 = time.monotonic()
        owed = 0.0
        last_gen = t0
        last_refresh = t0
        waiting = {}        # sub name -> (events, first event's time)
        last_msg = {}
        last_try = {}
        while True:
            now = time.monotonic()
            if now - t0 >= duration:
                break
            if refresh and now - last_refresh >= refresh:
                try:
                    self.enumerate()
                except (TransportError, ProtocolError) as e:
                    self.last_error = str(e)
                last_refresh = now
            if gen is not None and rate:
                owed += (now - last_gen) * rate
                last_gen = now
                k = int(owed)
                owed -= k
                if k:
                    evs = gen.events(k)
                    for sub in self._subs(name):
                        w = waiting.setdefault(sub.name, ([], now))
                        w[0].extend(evs)
            for sub in self._subs(name):
                evs, first = waiting.get(sub.name, ([], now))
                full = sub.max_elements and len(evs) >= sub.max_elements
                due = evs and now - first >= sub.max_time * time_scale
                if full or due:
                    sub.pending.extend(self._batches(sub, evs))
                    waiting.pop(sub.name, None)
                if sub.pending:
                    if now - last_try.get(sub.name, 0) >= \
                            sub.retry_interval * time_scale or full or due:
                        last_try[sub.name] = now
                        self.flush(sub.name)
                        last_msg[sub.name] = now
                elif now - last_msg.setdefault(sub.name, t0) >= \
                        sub.heartbeat * time_scale:
                    self.heartbeat(sub.name)
                    last_msg[sub.name] = now
            time.sleep(tick)
        # what is still waiting goes into the pending queue (not sent)
        for sname, (evs, _) in waiting.items():
            if sname in self.subscriptions:
                sub = self.subscriptions[sname]
                sub.pending.extend(self._batches(sub, evs))
        return self.stats

    def end(self, name=None, code=1717):
        """SubscriptionEnd to each subscription: {name: answered} (an
        Ack, or an empty answer that RelatesTo it)."""
        out = {}
        for sub in self._subs(name):
            xml, mid = delivery_message(
                sub, ACTION_SUBSCRIPTION_END, self.machine, self.session_id,
                body=subscription_end_body(sub, self.machine, code))
            out[sub.name] = self._deliver(sub, xml, mid, empty_ok=True)
        return out


# ---------------------------------------------------------------- load --

class _AsyncConn:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams (Basic
    or a client certificate), for many sources in one process."""

    def __init__(self, host, port, tls, timeout):
        self.host, self.port, self.tls = host, port, tls
        self.timeout = timeout
        self.reader = self.writer = None

    async def open(self, ctx):
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port,
                                    ssl=ctx if self.tls else None,
                                    server_hostname=self.host
                                    if self.tls else None),
            self.timeout)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, path, body, headers):
        lines = ["POST %s HTTP/1.1" % path,
                 "Host: %s:%d" % (self.host, self.port),
                 "User-Agent: " + USER_AGENT,
                 "Content-Length: %d" % len(body)]
        lines += ["%s: %s" % kv for kv in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await asyncio.wait_for(self.writer.drain(), self.timeout)
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"),
                                      self.timeout)
        status_line, *hl = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        hdrs = {}
        for h in hl:
            if ":" in h:
                k, v = h.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        data = await asyncio.wait_for(self.reader.readexactly(n),
                                      self.timeout) if n else b""
        if hdrs.get("connection", "").lower() == "close":
            self.close()
        return status, data


class _LoadSource:
    def __init__(self, idx, args, ctx, stats, stop_at):
        self.idx = idx
        self.args = args
        self.ctx = ctx
        self.stats = stats
        self.stop_at = stop_at
        self.machine = "%s%05d.%s" % (args.machine_prefix, idx,
                                       args.machine_domain)
        self.session_id = new_id()
        self.conn = None
        u = urllib.parse.urlsplit(args.url)
        self.url = u
        self.subs = {}
        self.headers = {}
        if args.auth == "basic":
            self.headers["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % (args.user, args.password)).encode()).decode()
        else:
            self.headers["Authorization"] = PROFILE_HTTPS_MUTUAL
        self.headers["Content-Type"] = ("application/soap+xml;charset=%s"
                                        % ("UTF-8" if args.utf8
                                           else "UTF-16"))

    async def _post(self, path, xml, extra=None):
        if self.conn is None or self.conn.writer is None:
            u = self.url
            self.conn = _AsyncConn(u.hostname, u.port or
                                   (443 if u.scheme == "https" else 80),
                                   u.scheme == "https", self.args.timeout)
            try:
                await self.conn.open(self.ctx)
            except (OSError, asyncio.TimeoutError) as e:
                self.conn = None
                raise TransportError("connect: %s" % e)
            self.stats["connects"] += 1
        h = dict(self.headers)
        h.update(extra or {})
        body = encode_body(xml, not self.args.utf8)
        if extra and extra.get("Content-Encoding") == "SLDC":
            body = sldc_compress(body)
        try:
            return await self.conn.post(path, body, h)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                ValueError, IndexError):
            self.conn.close()
            self.conn = None
            raise TransportError("no answer")

    async def enumerate(self):
        xml, mid = enumerate_message(urllib.parse.urlunsplit(self.url),
                                     self.machine, self.session_id)
        status, data = await self._post(self.url.path, xml)
        if status != 200:
            raise ProtocolError("Enumerate: HTTP %d" % status)
        self.subs = parse_enumerate_response(decode_body(data), mid)
        xml, mid = end_message()
        await self._post(self.url.path, xml)
        self.stats["enumerations"] += 1

    async def beat(self):
        for sub in self.subs.values():
            xml, mid = delivery_message(sub, ACTION_HEARTBEAT, self.machine,
                                        self.session_id)
            path = urllib.parse.urlsplit(sub.notify_to).path
            extra = {"Content-Encoding": "SLDC"} if (
                self.args.sldc and sub.compression == "SLDC") else None
            t0 = time.monotonic()
            status, data = await self._post(path, xml, extra)
            self.stats["latency_sum"] += time.monotonic() - t0
            if status == 200 and check_ack(decode_body(data), mid):
                self.stats["heartbeats_acked"] += 1
            else:
                self.stats["heartbeats_failed"] += 1

    async def events(self):
        """One Events batch of args.load_events events to every
        subscription: the same events each time (made once per source,
        so that the client's CPU goes to the wire, not to the
        generator)."""
        if not hasattr(self, "_events"):
            gen = EventGenerator(self.machine, seed=self.idx)
            self._events = gen.events(self.args.load_events)
            self._marks = {}
            for e in self._events:
                self._marks[e.channel] = max(e.record_id,
                                             self._marks.get(e.channel, 0))
        for sub in self.subs.values():
            xml, mid = delivery_message(sub, ACTION_EVENTS, self.machine,
                                        self.session_id, self._events,
                                        bookmark_xml(self._marks))
            path = urllib.parse.urlsplit(sub.notify_to).path
            extra = {"Content-Encoding": "SLDC"} if (
                self.args.sldc and sub.compression == "SLDC") else None
            t0 = time.monotonic()
            status, data = await self._post(path, xml, extra)
            self.stats["latency_sum"] += time.monotonic() - t0
            if status == 200 and check_ack(decode_body(data), mid):
                self.stats["batches_acked"] += 1
                self.stats["events_acked"] += len(self._events)
            else:
                self.stats["batches_failed"] += 1

    async def run(self, enum_delay, beat_start):
        """Enumerate after enum_delay seconds, then from beat_start (a
        time.monotonic() value) one message every args.interval
        seconds, on schedule, until stop_at."""
        await asyncio.sleep(enum_delay)
        interval = self.args.interval
        next_t = beat_start
        while True:
            now = time.monotonic()
            if not self.subs:
                if now >= self.stop_at:
                    break
                try:
                    await self.enumerate()
                except (TransportError, ProtocolError):
                    self.stats["errors"] += 1
                    self.subs = {}
                    await asyncio.sleep(min(1.0, interval or 0.1))
                    continue
                now = time.monotonic()
            if next_t > now:
                await asyncio.sleep(next_t - now)
            if time.monotonic() >= self.stop_at:
                break
            try:
                if self.args.load_events:
                    await self.events()
                else:
                    await self.beat()
            except (TransportError, ProtocolError):
                self.stats["errors"] += 1
                self.subs = {}
                await asyncio.sleep(min(1.0, interval or 0.1))
            next_t = next_t + interval if interval else time.monotonic()
        if self.conn is not None:
            self.conn.close()


async def run_load(args):
    """args.load sources (Basic or certificate), each on one keep-alive
    connection: they enumerate spread over args.warmup seconds (default:
    one interval), then each sends a Heartbeat (or, with
    args.load_events, an Events batch of that many events) to every
    subscription every args.interval seconds (start times spread over
    the interval) for args.duration seconds.  Returns the counters
    (rates are over args.duration; client_cpu_seconds shows whether the
    client was the bottleneck)."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, args.load + 256)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ImportError, ValueError, OSError):
        pass
    ctx = None
    if urllib.parse.urlsplit(args.url).scheme == "https":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if args.cert:
            ctx.load_cert_chain(args.cert, args.key)
    stats = {"sources": args.load, "connects": 0, "enumerations": 0,
             "heartbeats_acked": 0, "heartbeats_failed": 0, "errors": 0,
             "batches_acked": 0, "batches_failed": 0, "events_acked": 0,
             "latency_sum": 0.0}
    warmup = args.interval if args.warmup is None else args.warmup
    t0 = time.monotonic()
    stop_at = t0 + warmup + args.duration
    srcs = [_LoadSource(i, args, ctx, stats, stop_at)
            for i in range(args.load)]
    cpu0 = time.process_time()
    n = max(1, args.load)
    await asyncio.gather(*(
        s.run(warmup * i / n, t0 + warmup + args.interval * i / n)
        for i, s in enumerate(srcs)))
    stats["seconds"] = round(time.monotonic() - t0, 3)
    stats["client_cpu_seconds"] = round(time.process_time() - cpu0, 3)
    stats["heartbeats_per_second"] = round(
        stats["heartbeats_acked"] / max(0.001, args.duration), 1)
    n = (stats["heartbeats_acked"] + stats["heartbeats_failed"]
         + stats["batches_acked"] + stats["batches_failed"])
    stats["events_per_second"] = round(stats["events_acked"]
                                       / max(0.001, args.duration), 1)
    stats["latency_avg_ms"] = round(1000 * stats.pop("latency_sum")
                                    / max(1, n), 3)
    return stats


# ----------------------------------------------------------------- CLI --

def main(argv=None):
    p = argparse.ArgumentParser(
        description="A simulated Windows Event Forwarding source.")
    p.add_argument("--url", required=True,
                   help="SubscriptionManager URL, e.g. http://collector:"
                        "5985/wsman/SubscriptionManager/WEC")
    p.add_argument("--auth", choices=AUTH_MODES, default="basic")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--domain", default="WSMAN", help="NTLM domain")
    p.add_argument("--cert", help="client certificate (PEM) for --auth cert")
    p.add_argument("--key", help="its key (PEM)")
    p.add_argument("--cafile", help="verify the collector with this CA")
    p.add_argument("--gss-host", help="host part of the HTTP@host SPN")
    p.add_argument("--gss-service", default="HTTP",
                   help="service part of the SPN: HTTP, or HOST as "
                        "Windows Server 2025 asks for")
    p.add_argument("--machine", default=socket.getfqdn(),
                   help="m:MachineID and the events' Computer")
    p.add_argument("--subscription", help="only this subscription")
    p.add_argument("--events", type=int, default=0, help="events to send")
    p.add_argument("--batch", type=int, help="events per Events message")
    p.add_argument("--bad", choices=BAD_KINDS,
                   help="make bad events of this kind")
    p.add_argument("--bad-every", type=int, default=0,
                   help="every N-th event is bad (0: all)")
    p.add_argument("--channel", help="only events of this channel")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--heartbeat", action="store_true",
                   help="send a Heartbeat first")
    p.add_argument("--end", action="store_true",
                   help="send SubscriptionEnd at the end")
    p.add_argument("--retries", type=int, default=1,
                   help="attempts per batch (ConnectionRetry)")
    p.add_argument("--retry-interval", type=float, default=1.0)
    p.add_argument("--sldc", dest="sldc", action="store_true", default=None,
                   help="compress even if the subscription does not ask")
    p.add_argument("--no-sldc", dest="sldc", action="store_false")
    p.add_argument("--sldc-raw", action="store_true",
                   help="announce SLDC, send raw bytes")
    p.add_argument("--utf8", action="store_true", help="UTF-8 bodies")
    p.add_argument("--oversize", choices=("skip", "send"), default="skip",
                   help="events larger than MaxEnvelopeSize")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--run", type=float, default=0.0, metavar="SECONDS",
                   help="behave like Windows for SECONDS: batches by "
                        "MaxTime/MaxElements, heartbeats, retries")
    p.add_argument("--rate", type=float, default=0.0,
                   help="--run: new events a second")
    p.add_argument("--refresh", type=float,
                   help="--run: enumerate again every N seconds")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="--run: multiply the subscription's times")
    p.add_argument("--load", type=int, default=0,
                   help="run this many heartbeating sources (basic or "
                        "cert auth) concurrently")
    p.add_argument("--interval", type=float, default=30.0,
                   help="--load: seconds between heartbeats of a source")
    p.add_argument("--load-events", type=int, default=0, metavar="N",
                   help="--load: send an Events batch of N events instead "
                        "of each heartbeat")
    p.add_argument("--duration", type=float, default=60.0,
                   help="--load: seconds to run after the warm-up")
    p.add_argument("--warmup", type=float,
                   help="--load: seconds over which the sources "
                        "enumerate (default: --interval)")
    p.add_argument("--machine-prefix", default="wef")
    p.add_argument("--machine-domain", default="wsman.test")
    a = p.parse_args(argv)

    if a.load:
        if a.auth not in ("basic", "cert"):
            p.error("--load speaks basic or cert only")
        if a.auth == "basic" and (a.user is None or a.password is None):
            p.error("--auth basic needs --user and --password")
        stats = asyncio.run(run_load(a))
        print(json.dumps(stats))
        return 0 if stats["heartbeats_failed"] == 0 and \
            stats["batches_failed"] == 0 and stats["errors"] == 0 else 1

    try:
        src = Source(a.url, auth=a.auth, user=a.user, password=a.password,
                     machine=a.machine, domain=a.domain, cert=a.cert,
                     key=a.key, cafile=a.cafile, gss_host=a.gss_host,
                     gss_service=a.gss_service,
                     utf16=not a.utf8, sldc=a.sldc, sldc_raw=a.sldc_raw,
                     batch=a.batch, timeout=a.timeout,
                     oversize=a.oversize)
    except ValueError as e:
        p.error(str(e))
    ok = True
    out = {"machine": a.machine}
    try:
        subs = src.enumerate()
        out["subscriptions"] = {n: {"version": s.version,
                                    "notify_to": s.notify_to,
                                    "heartbeat": s.heartbeat,
                                    "max_time": s.max_time,
                                    "compression": s.compression}
                                for n, s in subs.items()}
        if a.heartbeat:
            hb = src.heartbeat(a.subscription)
            ok = ok and all(hb.values())
        if a.run:
            gen = EventGenerator(a.machine, seed=a.seed)
            src.run(a.run, gen, a.rate, a.refresh, a.time_scale,
                    a.subscription)
            ok = ok and src.pending(a.subscription) == 0
        if a.events:
            gen = EventGenerator(a.machine, seed=a.seed)
            evs = gen.events(a.events, a.bad, a.bad_every, a.channel)
            for s in src._subs(a.subscription):
                s.pending.extend(src._batches(s, evs))
            ok = src.flush(a.subscription, a.retries,
                           a.retry_interval) and ok
        if a.end:
            ok = all(src.end(a.subscription).values()) and ok
    except (TransportError, ProtocolError) as e:
        out["error"] = str(e)
        ok = False
    finally:
        src.close()
    out.update(src.stats)
    out["bookmarks"] = {n: s.acked for n, s in src.subscriptions.items()}
    if src.last_error:
        out["last_error"] = src.last_error
    print(json.dumps(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
