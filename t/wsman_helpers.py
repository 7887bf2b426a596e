"""Shared helpers for the ngx_wsman integration tests: envelope builder,
raw HTTP client, response and fault parsers."""

import base64
import http.client
import io
import os
import re
import socket
import time
import uuid
import xml.etree.ElementTree as ET

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "s11": "http://schemas.xmlsoap.org/soap/envelope/",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",
    "cfg": "http://schemas.microsoft.com/wbem/wsman/1/config",
}

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
ACTION_GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
ACTION_GET_RESPONSE = \
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
FAULT_ACTIONS = {
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault",
    # WS-Enumeration's own faults (wsen:InvalidEnumerationContext)
    "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault",
}
SOAP_CT = "application/soap+xml;charset=UTF-8"
PROFILE_HTTP_BASIC = \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic"
PROFILE_HTTP_SPNEGO = \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos"
# the Authorization value of client certificate logins
PROFILE_HTTPS_MUTUAL = \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
DEFAULT_SDDL = ("O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;ER)"
                "S:P(AU;FA;GA;;;WD)(AU;SA;GWGX;;;WD)")
CODE_ACTION_NOT_SUPPORTED = "2150858753"
CODE_DESTINATION_UNREACHABLE = "2150858752"

# envelopes real clients sent (pywinrm over Basic, NTLM and Kerberos, the
# Go client, winrmcp; decrypted), kept with the tests (t/captures/)
CAPTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "captures")

UUID_RE = re.compile(r"^uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def q(prefix, local):
    """Clark notation {ns}local for a prefix of NS."""
    return "{%s}%s" % (NS[prefix], local)


# ----------------------------------------------------------- envelopes --

def new_message_id():
    return "uuid:%s" % str(uuid.uuid4()).upper()


def envelope(action=ACTION_GET, resource_uri=CONFIG_URI, body="",
             message_id=None, headers="", operation_timeout="PT60S",
             pfx=None, reply_to=True, extra_ns="",
             max_envelope_size=153600):
    """Build a SOAP 1.2 WS-Man request.  Returns (xml_text, message_id).

    pfx maps roles to prefixes: {'s': 'env', 'a': 'wsa', 'w': 'wsman'} to
    prove that the server matches by namespace.  action/resource_uri/
    operation_timeout/message_id None leave that header out ("" for
    message_id means auto)."""
    pfx = dict({"s": "s", "a": "a", "w": "w"}, **(pfx or {}))
    s, a, w = pfx["s"], pfx["a"], pfx["w"]
    if message_id is None:
        message_id = new_message_id()
    hdr = []
    hdr.append("<%s:To>http://windows-host:5985/wsman</%s:To>" % (a, a))
    if reply_to:
        hdr.append('<%s:ReplyTo><%s:Address mustUnderstand="true">%s'
                   '</%s:Address></%s:ReplyTo>' % (a, a, ANONYMOUS, a, a))
    if resource_uri is not None:
        hdr.append('<%s:ResourceURI mustUnderstand="true">%s</%s:ResourceURI>'
                   % (w, resource_uri, w))
    if action is not None:
        hdr.append('<%s:Action mustUnderstand="true">%s</%s:Action>'
                   % (a, action, a))
    hdr.append('<%s:MaxEnvelopeSize mustUnderstand="true">%d'
               '</%s:MaxEnvelopeSize>' % (w, max_envelope_size, w))
    if message_id is not False:
        hdr.append("<%s:MessageID>%s</%s:MessageID>" % (a, message_id, a))
    hdr.append('<%s:Locale mustUnderstand="false" xml:lang="en-US"/>' % w)
    if operation_timeout is not None:
        hdr.append("<%s:OperationTimeout>%s</%s:OperationTimeout>"
                   % (w, operation_timeout, w))
    hdr.append(headers)
    xml = ('<?xml version="1.0" encoding="utf-8"?>'
           '<%s:Envelope xmlns:%s="%s" xmlns:%s="%s" xmlns:%s="%s"%s>'
           '<%s:Header>%s</%s:Header><%s:Body>%s</%s:Body></%s:Envelope>'
           % (s, s, NS["s"], a, NS["a"], w, NS["w"],
              (" " + extra_ns) if extra_ns else "",
              s, "".join(hdr), s, s, body, s, s))
    return xml, (message_id if message_id is not False else None)


def config_get(**kw):
    kw.setdefault("action", ACTION_GET)
    kw.setdefault("resource_uri", CONFIG_URI)
    return envelope(**kw)


IDENTIFY = ('<?xml version="1.0"?>'
            '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/'
            'wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/>'
            '</s:Body></s:Envelope>')


# -------------------------------------------------------------- HTTP -----

def basic(user, password):
    raw = ("%s:%s" % (user, password)).encode()
    return "Basic " + base64.b64encode(raw).decode()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body                # bytes

    def header(self, name):
        vals = self.all(name)
        return vals[0] if vals else None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self):
        return "<Response %s %r %r>" % (self.status, self.headers,
                                        self.body[:600])


class _KeepOpen:
    """A buffered reader shared by successive HTTPResponse objects on one
    socket (HTTPResponse closes its fp when done; pipelined responses
    may already sit in the buffer)."""

    def __init__(self, sock):
        self._f = sock.makefile("rb")

    def makefile(self, *args, **kw):
        return self

    def close(self):
        pass

    def __getattr__(self, name):
        return getattr(self._f, name)


def _read_response(sock, method):
    """Read one response.  sock is a socket or a _KeepOpen wrapper (use
    the latter when more than one response is read from a connection)."""
    if not isinstance(sock, _KeepOpen):
        sock = _KeepOpen(sock)
    resp = http.client.HTTPResponse(sock, method=method)
    resp.begin()
    body = resp.read()
    headers = list(resp.msg.items())
    return Response(resp.status, headers, body), resp.will_close


def raw_request(port, method, path, body=b"", headers=None, timeout=10,
                chunks=None):
    """One request on a fresh connection.  headers: dict or list of pairs,
    sent exactly as given (no defaults except Host and Content-Length for
    a non-chunked body).  chunks: list of bytes sent with chunked
    encoding.  Returns (status, header list, body) -- or a Response via
    request()."""
    r = request(port, method, path, body, headers, timeout, chunks)
    return r.status, r.headers, r.body


def build_request(port, method, path, body=b"", headers=None, chunks=None):
    if isinstance(body, str):
        body = body.encode()
    if headers is None:
        headers = []
    elif isinstance(headers, dict):
        headers = list(headers.items())
    names = {k.lower() for k, _ in headers}
    lines = ["%s %s HTTP/1.1" % (method, path)]
    if "host" not in names:
        lines.append("Host: 127.0.0.1:%d" % port)
    for k, v in headers:
        lines.append("%s: %s" % (k, v))
    if chunks is not None:
        if "transfer-encoding" not in names:
            lines.append("Transfer-Encoding: chunked")
        payload = b""
        for c in chunks:
            if isinstance(c, str):
                c = c.encode()
            if c:
                payload += b"%x\r\n%s\r\n" % (len(c), c)
        payload += b"0\r\n\r\n"
    else:
        payload = body
        if "content-length" not in names and (body or method == "POST"):
            lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def request(port, method, path, body=b"", headers=None, timeout=10,
            chunks=None):
    data = build_request(port, method, path, body, headers, chunks)
    with socket.create_connection(("127.0.0.1", port), timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # server may answer before reading a body it refuses
        r, _ = _read_response(sock, method)
        return r


class Connection:
    """A persistent HTTP/1.1 connection (to test keep-alive).  tls=True
    speaks TLS without verifying the server (the peer certificate is in
    self.peer_cert, DER)."""

    def __init__(self, port, timeout=10, tls=False):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.peer_cert = None
        if tls:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
            self.peer_cert = self.sock.getpeercert(binary_form=True)
        self.reader = _KeepOpen(self.sock)
        self.closed = False

    def request(self, method, path, body=b"", headers=None, chunks=None):
        assert not self.closed, "server closed the connection"
        self.sock.sendall(build_request(self.port, method, path, body,
                                        headers, chunks))
        r, will_close = _read_response(self.reader, method)
        self.closed = will_close
        return r

    def close(self):
        self.sock.close()


class Client:
    """Convenience wrapper: authenticated POSTs of SOAP text."""

    def __init__(self, port, users):
        self.port = port
        self.users = users

    def auth(self, user="alice", password=None):
        if password is None:
            password = self.users[user][0]
        return basic(user, password)

    def post(self, body, path="/wsman", user="alice", password=None,
             headers=None, content_type=SOAP_CT, auth=True, chunks=None,
             timeout=10):
        h = []
        if auth:
            h.append(("Authorization", self.auth(user, password)
                      if auth is True else auth))
        if content_type:
            h.append(("Content-Type", content_type))
        if headers:
            h.extend(headers.items() if isinstance(headers, dict)
                     else headers)
        return request(self.port, "POST", path, body, h, timeout=timeout,
                       chunks=chunks)


# ----------------------------------------------------------- parsing -----

def parse(resp):
    body = resp.body if isinstance(resp, Response) else resp
    return ET.fromstring(body)


def _parse_with_nsmaps(data):
    """Parse and remember, for every element, the prefix->URI map in scope
    (needed to resolve QName-valued text such as 'w:EncodingLimit')."""
    if isinstance(data, str):
        data = data.encode()
    stack = [{"xml": "http://www.w3.org/XML/1998/namespace"}]
    pending = {}
    maps = {}
    root = None
    for ev, obj in ET.iterparse(io.BytesIO(data),
                                events=("start-ns", "start", "end")):
        if ev == "start-ns":
            pending[obj[0]] = obj[1]
        elif ev == "start":
            m = dict(stack[-1])
            m.update(pending)
            pending = {}
            stack.append(m)
            maps[obj] = m
            if root is None:
                root = obj
        else:
            stack.pop()
    return root, maps


def resolve_qname(text, nsmap):
    """'w:EncodingLimit' -> ('http://...wsman.xsd', 'EncodingLimit')."""
    text = (text or "").strip()
    if ":" in text:
        prefix, local = text.split(":", 1)
    else:
        prefix, local = "", text
    return nsmap.get(prefix), local


class Fault:
    def __init__(self, resp):
        self.resp = resp
        root, maps = _parse_with_nsmaps(resp.body)
        self.root = root
        assert root.tag == q("s", "Envelope"), "not a SOAP 1.2 envelope"
        f = root.find("s:Body/s:Fault", NS)
        assert f is not None, "no s:Fault in body: %r" % resp.body[:800]
        self.element = f
        v = f.find("s:Code/s:Value", NS)
        assert v is not None, "fault without s:Code/s:Value"
        self.code = resolve_qname(v.text, maps[v])
        sv = f.find("s:Code/s:Subcode/s:Value", NS)
        self.subcode = resolve_qname(sv.text, maps[sv]) if sv is not None \
            else None
        t = f.find("s:Reason/s:Text", NS)
        self.reason = t.text if t is not None else None
        wf = f.find("s:Detail/f:WSManFault", NS)
        self.wsman_fault = wf
        self.wsman_code = wf.get("Code") if wf is not None else None
        act = root.find("s:Header/a:Action", NS)
        self.action = act.text.strip() if act is not None and act.text \
            else None
        rel = root.find("s:Header/a:RelatesTo", NS)
        self.relates_to = rel.text if rel is not None else None

    def __repr__(self):
        return "<Fault code=%r subcode=%r reason=%r wsman=%r>" % (
            self.code, self.subcode, self.reason, self.wsman_code)


def is_fault(resp):
    try:
        root = ET.fromstring(resp.body)
    except ET.ParseError:
        return False
    return root.find("s:Body/s:Fault", NS) is not None


def assert_fault(resp, status=None, code=None, subcode=None):
    """Check resp is a well-formed WS-Man SOAP fault; return Fault.
    code: 'Sender'/'Receiver'/'MustUnderstand'/'VersionMismatch' (in the
    SOAP 1.2 namespace); subcode: (prefix-key, local) e.g. ('w',
    'EncodingLimit')."""
    if status is not None:
        if isinstance(status, int):
            status = (status,)
        assert resp.status in status, resp
    ct = resp.header("Content-Type") or ""
    assert "application/soap+xml" in ct.lower(), \
        "fault Content-Type %r" % ct
    f = Fault(resp)
    if code is not None:
        assert f.code == (NS["s"], code), f
    if subcode is not None:
        assert f.subcode == (NS[subcode[0]], subcode[1]), f
    assert f.reason and f.reason.strip(), "fault without reason text"
    assert f.action in FAULT_ACTIONS, "fault a:Action %r" % f.action
    mid = f.root.find("s:Header/a:MessageID", NS)
    assert mid is not None and UUID_RE.match(mid.text or ""), \
        "fault a:MessageID"
    to = f.root.find("s:Header/a:To", NS)
    assert to is not None and to.text == ANONYMOUS, "fault a:To"
    assert resp.status in (400, 500), "fault with HTTP %d" % resp.status
    return f


def body_child(resp):
    root = parse(resp)
    assert root.tag == q("s", "Envelope"), resp
    b = root.find("s:Body", NS)
    assert b is not None
    kids = list(b)
    return kids[0] if kids else None


def header_text(resp, prefix, local):
    root = parse(resp)
    e = root.find("s:Header/%s:%s" % (prefix, local), NS)
    return None if e is None else (e.text or "")


def wait_for_line(path, predicate, timeout=3.0, offset=0):
    """Poll a log file until a line satisfies predicate; return it or
    None."""
    deadline = time.time() + timeout
    while True:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                for line in f.read().decode(errors="replace").splitlines():
                    if predicate(line):
                        return line
        except FileNotFoundError:
            pass
        if time.time() > deadline:
            return None
        time.sleep(0.05)


def file_size(path):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            return f.tell()
    except FileNotFoundError:
        return 0


def shell_log(server, offset=0):
    """logs/shell.log ('$pid|$wsman_action|$wsman_user|$wsman_fault') from
    offset, as lists of those fields; requests without an action (such
    as a 401 probe, which logs "-") left out."""
    with open(server.logs / "shell.log") as f:
        f.seek(offset)
        return [l.split("|") for l in f.read().splitlines()
                if l.split("|")[1] not in ("", "-")]


def assert_shell_cycle(server, offset, user):
    """shell.log since offset has Create, Command, Receive and Delete,
    all as `user` and without faults."""
    assert wait_until(lambda: any(l[1] == ACTION_DELETE
                                  for l in shell_log(server, offset)), 5), \
        shell_log(server, offset)
    lines = shell_log(server, offset)
    actions = [l[1] for l in lines]
    for a in (ACTION_CREATE, ACTION_COMMAND, ACTION_RECEIVE, ACTION_DELETE):
        assert a in actions, lines
    assert {l[2] for l in lines} == {user}, lines
    assert all(l[3] in ("", "-") for l in lines), lines


def logged_users(server, offset, want=None, action=ACTION_GET, timeout=3.0):
    """$wsman_user of the access-log lines (format
    'action|uri|user|fault') for `action` written since offset.  nginx
    writes the line after the response went out, so poll until `want` (a
    user name that must appear, or the exact list) matches or the timeout
    passes; without `want`, wait a moment and return what is there."""
    deadline = time.time() + timeout
    while True:
        try:
            with open(server.wsman_log, "rb") as f:
                f.seek(offset)
                lines = f.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            lines = []
        users = [l.split("|")[2] for l in lines
                 if l.count("|") >= 3 and l.split("|")[0] == action]
        if want is None or (want in users if isinstance(want, str)
                            else users == list(want)):
            if want is not None or time.time() > deadline:
                return users
        if time.time() > deadline:
            return users
        time.sleep(0.05)


# ------------------------------- resources, enumeration and Invoke [3] --
# WS-Transfer Get, WS-Enumeration Enumerate/Pull/Release and custom
# actions on the inventory classes and config/Listener.

NS.setdefault("cim", "http://schemas.dmtf.org/wbem/wscim/1/common")
NS.setdefault("xsi", "http://www.w3.org/2001/XMLSchema-instance")

CIM_BASE = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
WMI_BASE = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/"
LISTENER_URI = "http://schemas.microsoft.com/wbem/wsman/1/config/Listener"
ACTION_ENUMERATE = NS["n"] + "/Enumerate"
ACTION_PULL = NS["n"] + "/Pull"
ACTION_RELEASE = NS["n"] + "/Release"
DIALECT_WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
DIALECT_SELECTOR = \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"
CODE_INVALID_ENUMERATION_CONTEXT = "2150858779"
_XMLNS_N = 'xmlns:n="%s"' % NS["n"]


def class_uri(name):
    """Resource URI of a CIM_* or Win32_* class."""
    return (CIM_BASE if name.startswith("CIM_") else WMI_BASE) + name


def xml_escape(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def selector_set(selectors):
    """<w:SelectorSet> for a dict (or pair list) of selector values."""
    items = selectors.items() if isinstance(selectors, dict) else selectors
    return "<w:SelectorSet>%s</w:SelectorSet>" % "".join(
        '<w:Selector Name="%s">%s</w:Selector>'
        % (xml_escape(k), xml_escape(v)) for k, v in items)


def enumerate_request(resource_uri, optimize=False, max_elements=None,
                      mode=None, wql=None, selectors=None, dialect=None,
                      filter_body="", total=False, headers="", **kw):
    """Enumerate envelope -> (xml, message_id).  wql: WQL filter text;
    selectors: SelectorFilter; dialect+filter_body: any other filter;
    total: ask for w:TotalItemsCountEstimate."""
    parts = []
    if wql is not None:
        parts.append('<w:Filter Dialect="%s">%s</w:Filter>'
                     % (DIALECT_WQL, xml_escape(wql)))
    elif selectors is not None:
        parts.append('<w:Filter Dialect="%s">%s</w:Filter>'
                     % (DIALECT_SELECTOR, selector_set(selectors)))
    elif dialect is not None:
        parts.append('<w:Filter Dialect="%s">%s</w:Filter>'
                     % (dialect, filter_body))
    if mode:
        parts.append("<w:EnumerationMode>%s</w:EnumerationMode>" % mode)
    if optimize:
        parts.append("<w:OptimizeEnumeration/>")
    if max_elements is not None:
        parts.append("<w:MaxElements>%d</w:MaxElements>" % max_elements)
    if total:
        headers += "<w:RequestTotalItemsCountEstimate/>"
    return envelope(action=ACTION_ENUMERATE, resource_uri=resource_uri,
                    body="<n:Enumerate>%s</n:Enumerate>" % "".join(parts),
                    headers=headers, extra_ns=_XMLNS_N, **kw)


def pull_request(context, resource_uri, max_elements=None,
                 max_characters=None, **kw):
    body = "<n:EnumerationContext>%s</n:EnumerationContext>" \
        % xml_escape(context)
    if max_elements is not None:
        body += "<n:MaxElements>%d</n:MaxElements>" % max_elements
    if max_characters is not None:
        body += "<n:MaxCharacters>%d</n:MaxCharacters>" % max_characters
    return envelope(action=ACTION_PULL, resource_uri=resource_uri,
                    body="<n:Pull>%s</n:Pull>" % body, extra_ns=_XMLNS_N,
                    **kw)


def release_request(context, resource_uri, **kw):
    return envelope(action=ACTION_RELEASE, resource_uri=resource_uri,
                    body="<n:Release><n:EnumerationContext>%s"
                         "</n:EnumerationContext></n:Release>"
                         % xml_escape(context), extra_ns=_XMLNS_N, **kw)


def get_request(resource_uri, selectors=None, **kw):
    hdr = selector_set(selectors) if selectors else ""
    return envelope(action=ACTION_GET, resource_uri=resource_uri,
                    headers=hdr, **kw)


def invoke_request(resource_uri, method, selectors=None, body=None, **kw):
    """Custom action <resource_uri>/<method>; body defaults to an empty
    <p:METHOD_INPUT> in the class namespace."""
    if body is None:
        body = '<p:%s_INPUT xmlns:p="%s"/>' % (method, resource_uri)
    hdr = selector_set(selectors) if selectors else ""
    return envelope(action="%s/%s" % (resource_uri, method),
                    resource_uri=resource_uri, headers=hdr, body=body, **kw)


class EnumPage:
    """An EnumerateResponse or PullResponse.  context: text of
    n:EnumerationContext ('' when empty, None when absent); items: the
    item elements; end: EndOfSequence present; total: the
    w:TotalItemsCountEstimate header (None when absent)."""

    def __init__(self, resp, pull):
        self.resp = resp
        assert resp.status == 200, resp
        assert "application/soap+xml" in \
            (resp.header("Content-Type") or "").lower(), resp
        root = parse(resp)
        self.action = header_text(resp, "a", "Action")
        want = "PullResponse" if pull else "EnumerateResponse"
        assert self.action == NS["n"] + "/" + want, \
            (self.action, resp.body[:600])
        kids = list(root.find("s:Body", NS))
        assert len(kids) == 1 and kids[0].tag == q("n", want), \
            resp.body[:600]
        el = kids[0]
        self.element = el
        ctx = el.find("n:EnumerationContext", NS)
        self.context = None if ctx is None else (ctx.text or "").strip()
        items_ns = "n" if pull else "w"
        items = el.find("%s:Items" % items_ns, NS)
        self.has_items = items is not None
        self.items = list(items) if items is not None else []
        self.end = el.find("%s:EndOfSequence" % items_ns, NS) is not None
        tot = root.find("s:Header/w:TotalItemsCountEstimate", NS)
        self.total = None if tot is None else (tot.text or "").strip()
        # no element of the other namespace sneaks in
        other = "w" if pull else "n"
        assert el.find("%s:Items" % other, NS) is None, resp.body[:600]
        assert el.find("%s:EndOfSequence" % other, NS) is None, \
            resp.body[:600]

    def __repr__(self):
        return "<EnumPage ctx=%r items=%d end=%r %r>" % (
            getattr(self, "context", None), len(getattr(self, "items", [])),
            getattr(self, "end", None), self.resp)


def enumerate_all(client, resource_uri, path="/wsman", user="alice",
                  pull_max=7, max_characters=None, max_pulls=5000,
                  pull_kw=None, **enum_kw):
    """Enumerate (each request on a new connection, so successive Pulls
    land on different workers) and Pull until EndOfSequence.  Returns
    (items, pages)."""
    xml, _ = enumerate_request(resource_uri, **enum_kw)
    first = EnumPage(client.post(xml, path=path, user=user), pull=False)
    pages = [first]
    items = list(first.items)
    ctx = first.context
    if first.end:
        return items, pages
    assert ctx, "no EnumerationContext and no EndOfSequence: %r" % first
    for _ in range(max_pulls):
        xml, _ = pull_request(ctx, resource_uri, max_elements=pull_max,
                              max_characters=max_characters,
                              **(pull_kw or {}))
        page = EnumPage(client.post(xml, path=path, user=user), pull=True)
        pages.append(page)
        items.extend(page.items)
        if page.end:
            assert page.context is None, \
                "EnumerationContext after EndOfSequence: %r" % page
            return items, pages
        assert page.context == ctx, (page.context, ctx)
    raise AssertionError("no EndOfSequence after %d Pulls" % max_pulls)


def local_name(el):
    return el.tag.split("}", 1)[1] if "}" in el.tag else el.tag


def props(obj):
    """An instance element -> {property: value}: None for xsi:nil, the
    cim:Datetime/cim:Date/... text for datetimes, a list for arrays."""
    out = {}
    for c in obj:
        if c.get(q("xsi", "nil")) in ("true", "1"):
            v = None
        else:
            sub = list(c)
            if sub and sub[0].tag.startswith("{%s}" % NS["cim"]):
                v = sub[0].text or ""
            else:
                v = c.text or ""
        name = local_name(c)
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(v)
        else:
            out[name] = v
    return out


def epr(el):
    """a:EndpointReference -> (address, resource URI, {selector: value})."""
    assert el.tag == q("a", "EndpointReference"), el.tag
    addr = el.find("a:Address", NS)
    rp = el.find("a:ReferenceParameters", NS)
    assert rp is not None, "EPR without a:ReferenceParameters"
    uri = rp.find("w:ResourceURI", NS)
    sels = {s.get("Name"): (s.text or "")
            for s in rp.findall("w:SelectorSet/w:Selector", NS)}
    return ((addr.text or "").strip() if addr is not None else None,
            (uri.text or "").strip() if uri is not None else None, sels)


# -------------------------------------------------- WinRS shells [4] --
# Create/Command/Send/Receive/Signal/Delete on the cmd shell resource,
# each request on a new TCP connection (so it may land on any worker).

SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
SHELL_NS = NS["rsp"]
ACTION_CREATE = NS["x"] + "/Create"
ACTION_DELETE = NS["x"] + "/Delete"
ACTION_COMMAND = SHELL_NS + "/Command"
ACTION_SEND = SHELL_NS + "/Send"
ACTION_RECEIVE = SHELL_NS + "/Receive"
ACTION_SIGNAL = SHELL_NS + "/Signal"
SIGNAL_TERMINATE = SHELL_NS + "/signal/terminate"
SIGNAL_CTRL_C = SHELL_NS + "/signal/ctrl_c"
STATE_DONE = SHELL_NS + "/CommandState/Done"
STATE_RUNNING = SHELL_NS + "/CommandState/Running"
CODE_TIMED_OUT = "2150858793"
CODE_INVALID_SELECTORS = "2150858843"
_XMLNS_RSP = 'xmlns:rsp="%s"' % SHELL_NS


def option_set(options):
    """<w:OptionSet> for a dict (or pair list) of WinRS options."""
    items = options.items() if isinstance(options, dict) else options
    return "<w:OptionSet>%s</w:OptionSet>" % "".join(
        '<w:Option Name="%s">%s</w:Option>' % (xml_escape(k), xml_escape(v))
        for k, v in items)


def _shell_sel(shell_id):
    return selector_set({"ShellId": shell_id}) if shell_id is not None \
        else ""


def create_shell_request(codepage=437, noprofile=False, idle_timeout=None,
                         cwd=None, env=None, **kw):
    """Create envelope as pywinrm sends it -> (xml, message_id)."""
    opts = {"WINRS_NOPROFILE": "TRUE" if noprofile else "FALSE"}
    if codepage is not None:
        opts["WINRS_CODEPAGE"] = str(codepage)
    body = ("<rsp:InputStreams>stdin</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>")
    if cwd is not None:
        body += "<rsp:WorkingDirectory>%s</rsp:WorkingDirectory>" \
            % xml_escape(cwd)
    if env:
        body += "<rsp:Environment>%s</rsp:Environment>" % "".join(
            '<rsp:Variable Name="%s">%s</rsp:Variable>'
            % (xml_escape(k), xml_escape(v)) for k, v in env.items())
    if idle_timeout is not None:
        body += "<rsp:IdleTimeOut>%s</rsp:IdleTimeOut>" % idle_timeout
    return envelope(action=ACTION_CREATE, resource_uri=SHELL_URI,
                    headers=option_set(opts) + kw.pop("headers", ""),
                    body="<rsp:Shell>%s</rsp:Shell>" % body,
                    extra_ns=_XMLNS_RSP, **kw)


def command_request(shell_id, command, args=(), skip_cmd_shell=False,
                    console_mode_stdin=True, cdata=False, **kw):
    """Command envelope; args: one rsp:Arguments per item (masterzen
    style); cdata wraps the texts in CDATA sections like masterzen."""
    def text(t):
        return "<![CDATA[%s]]>" % t if cdata else xml_escape(t)
    opts = {"WINRS_CONSOLEMODE_STDIN": "TRUE" if console_mode_stdin
            else "FALSE",
            "WINRS_SKIP_CMD_SHELL": "TRUE" if skip_cmd_shell else "FALSE"}
    body = "<rsp:Command>%s</rsp:Command>" % text(command)
    body += "".join("<rsp:Arguments>%s</rsp:Arguments>" % text(a)
                    for a in args)
    return envelope(action=ACTION_COMMAND, resource_uri=SHELL_URI,
                    headers=_shell_sel(shell_id) + option_set(opts) +
                    kw.pop("headers", ""),
                    body="<rsp:CommandLine>%s</rsp:CommandLine>" % body,
                    extra_ns=_XMLNS_RSP, **kw)


def send_request(shell_id, command_id, data, end=False, **kw):
    if isinstance(data, str):
        data = data.encode()
    return envelope(
        action=ACTION_SEND, resource_uri=SHELL_URI,
        headers=_shell_sel(shell_id),
        body='<rsp:Send><rsp:Stream Name="stdin" CommandId="%s"%s>%s'
             '</rsp:Stream></rsp:Send>'
             % (xml_escape(command_id), ' End="true"' if end else "",
                base64.b64encode(data).decode()),
        extra_ns=_XMLNS_RSP, **kw)


def receive_request(shell_id, command_id, streams="stdout stderr",
                    sequence_id=None, **kw):
    """sequence_id: the rsp:Receive SequenceId attribute (left out when
    None); a string is sent as it is."""
    seq = "" if sequence_id is None \
        else ' SequenceId="%s"' % xml_escape(sequence_id)
    return envelope(
        action=ACTION_RECEIVE, resource_uri=SHELL_URI,
        headers=_shell_sel(shell_id),
        body='<rsp:Receive%s><rsp:DesiredStream CommandId="%s">%s'
             '</rsp:DesiredStream></rsp:Receive>'
             % (seq, xml_escape(command_id), streams),
        extra_ns=_XMLNS_RSP, **kw)


def signal_request(shell_id, command_id, code=SIGNAL_TERMINATE, **kw):
    return envelope(
        action=ACTION_SIGNAL, resource_uri=SHELL_URI,
        headers=_shell_sel(shell_id),
        body='<rsp:Signal CommandId="%s"><rsp:Code>%s</rsp:Code>'
             '</rsp:Signal>' % (xml_escape(command_id), code),
        extra_ns=_XMLNS_RSP, **kw)


def delete_shell_request(shell_id, **kw):
    return envelope(action=ACTION_DELETE, resource_uri=SHELL_URI,
                    headers=_shell_sel(shell_id), **kw)


def _iso_seconds(text):
    m = re.match(r"^PT(\d+(?:\.\d+)?)S$", text or "")
    return float(m.group(1)) if m else None


class ReceiveResult:
    """A parsed rsp:ReceiveResponse: stdout/stderr bytes, stdout_end /
    stderr_end (End="true" seen), state (URI), done, exit_code (int or
    None)."""

    def __init__(self, resp, command_id=None):
        self.resp = resp
        assert resp.status == 200, resp
        assert header_text(resp, "a", "Action") == \
            ACTION_RECEIVE + "Response", resp
        el = body_child(resp)
        assert el is not None and el.tag == q("rsp", "ReceiveResponse"), \
            resp.body[:600]
        self.stdout = b""
        self.stderr = b""
        self.stdout_end = self.stderr_end = False
        for s in el.findall("rsp:Stream", NS):
            name = s.get("Name")
            assert name in ("stdout", "stderr"), name
            if command_id is not None:
                assert (s.get("CommandId") or "").upper() == \
                    command_id.upper(), s.attrib
            data = base64.b64decode((s.text or "").strip()) if s.text \
                else b""
            end = (s.get("End") or "").lower() == "true"
            if name == "stdout":
                assert not self.stdout_end, "stdout data after End"
                self.stdout += data
                self.stdout_end |= end
            else:
                assert not self.stderr_end, "stderr data after End"
                self.stderr += data
                self.stderr_end |= end
        st = el.find("rsp:CommandState", NS)
        assert st is not None, "no rsp:CommandState: %r" % resp.body[:600]
        self.state = st.get("State")
        self.done = self.state == STATE_DONE
        ec = st.find("rsp:ExitCode", NS)
        self.exit_code = int(ec.text) if ec is not None else None
        if self.done:
            assert self.exit_code is not None, "Done without rsp:ExitCode"
        else:
            assert self.state == STATE_RUNNING, self.state

    def __repr__(self):
        return "<Receive out=%r err=%r state=%s exit=%r>" % (
            self.stdout[:80], self.stderr[:80],
            (self.state or "").rsplit("/", 1)[-1], self.exit_code)


class ShellError(AssertionError):
    """A shell request answered with a fault (the Fault is .fault)."""

    def __init__(self, what, fault):
        AssertionError.__init__(self, "%s: %r" % (what, fault))
        self.fault = fault


class ShellClient:
    """WinRS over raw HTTP with Basic; a new TCP connection per request.
    Every method that expects success raises ShellError on a fault."""

    def __init__(self, port, user, password, path="/wsman", timeout=20):
        self.port = port
        self.user = user
        self.password = password
        self.path = path
        self.timeout = timeout          # HTTP read timeout of one request

    def post(self, xml, timeout=None):
        h = [("Authorization", basic(self.user, self.password)),
             ("Content-Type", SOAP_CT)]
        return request(self.port, "POST", self.path, xml, h,
                       timeout=timeout or self.timeout)

    def _ok(self, what, resp, action):
        if resp.status != 200:
            raise ShellError(what, assert_fault(resp))
        got = header_text(resp, "a", "Action")
        assert got == action, (what, got, resp.body[:400])
        return resp

    def create_raw(self, **kw):
        xml, mid = create_shell_request(**kw)
        return self.post(xml), mid

    def create(self, **kw):
        resp, mid = self.create_raw(**kw)
        self._ok("Create", resp, ACTION_CREATE + "Response")
        return shell_id_of(resp)

    def command(self, shell_id, command, args=(), **kw):
        xml, _ = command_request(shell_id, command, args, **kw)
        resp = self._ok("Command", self.post(xml),
                        ACTION_COMMAND + "Response")
        el = body_child(resp)
        assert el.tag == q("rsp", "CommandResponse"), resp.body[:400]
        cid = el.find("rsp:CommandId", NS)
        assert cid is not None and (cid.text or "").strip(), resp.body[:400]
        return cid.text.strip()

    def send(self, shell_id, command_id, data, end=False):
        xml, _ = send_request(shell_id, command_id, data, end)
        resp = self._ok("Send", self.post(xml), ACTION_SEND + "Response")
        el = body_child(resp)
        assert el is not None and el.tag == q("rsp", "SendResponse"), \
            resp.body[:400]
        return resp

    def receive_raw(self, shell_id, command_id, op_timeout=5, **kw):
        xml, _ = receive_request(shell_id, command_id,
                                 operation_timeout="PT%gS" % op_timeout,
                                 **kw)
        return self.post(xml, timeout=op_timeout + 15)

    def receive(self, shell_id, command_id, op_timeout=5):
        """ReceiveResult, or None when the server answered w:TimedOut."""
        resp = self.receive_raw(shell_id, command_id, op_timeout)
        if resp.status != 200:
            f = assert_fault(resp)
            if f.wsman_code == CODE_TIMED_OUT:
                return None
            raise ShellError("Receive", f)
        return ReceiveResult(resp, command_id)

    def collect(self, shell_id, command_id, deadline=30, op_timeout=5):
        """Receive until Done -> (stdout, stderr, exit_code, results)."""
        end = time.time() + deadline
        out, err, results = b"", b"", []
        while True:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("command not done within %ss "
                                     "(got %r / %r)" % (deadline, out[-200:],
                                                        err[-200:]))
            r = self.receive(shell_id, command_id,
                             min(op_timeout, max(1, int(left))))
            if r is None:
                continue
            results.append(r)
            out += r.stdout
            err += r.stderr
            if r.done:
                return out, err, r.exit_code, results

    def signal(self, shell_id, command_id, code=SIGNAL_TERMINATE):
        xml, mid = signal_request(shell_id, command_id, code)
        resp = self._ok("Signal", self.post(xml), ACTION_SIGNAL + "Response")
        assert header_text(resp, "a", "RelatesTo") == mid
        return resp

    def delete(self, shell_id):
        xml, mid = delete_shell_request(shell_id)
        resp = self._ok("Delete", self.post(xml), ACTION_DELETE + "Response")
        assert header_text(resp, "a", "RelatesTo") == mid
        return resp

    def run(self, command, args=(), stdin=None, deadline=30,
            skip_cmd_shell=False, **create_kw):
        """Create, Command, Send (stdin, End), Receive until Done, Signal,
        Delete -> (stdout, stderr, exit_code)."""
        sid = self.create(**create_kw)
        try:
            cid = self.command(sid, command, args,
                               skip_cmd_shell=skip_cmd_shell)
            if stdin is not None:
                self.send(sid, cid, stdin, end=True)
            out, err, code, _ = self.collect(sid, cid, deadline)
            self.signal(sid, cid)
        finally:
            try:
                self.delete(sid)
            except (AssertionError, OSError):
                pass
        return out, err, code


def shell_id_of(resp):
    """ShellId from a ResourceCreated response (as masterzen finds it)."""
    root = parse(resp)
    sel = root.find("s:Body/x:ResourceCreated/a:ReferenceParameters/"
                    "w:SelectorSet/w:Selector", NS)
    assert sel is not None and sel.get("Name") == "ShellId", \
        resp.body[:600]
    return (sel.text or "").strip()


def user_pids(uid):
    """pids of the processes whose real uid is uid (from /proc)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(d))
                        break
        except OSError:
            pass
    return pids


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def proc_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def proc_zombie(pid):
    """True for a zombie, or a process that is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def proc_children(pid, comm=None):
    """pids of pid's children (those named comm, when given)."""
    return [int(d) for d in os.listdir("/proc") if d.isdigit()
            and proc_ppid(int(d)) == pid
            and (comm is None or proc_comm(int(d)) == comm)]


def worker_pids(n):
    """The worker processes of nginx n (also those shutting down)."""
    return [p for p in proc_children(n.proc.pid)
            if "worker process" in proc_cmdline(p)]


def shell_host_pid(n):
    """The shell host of nginx n: the master's child wsman-shellhost."""
    hosts = proc_children(n.proc.pid, "wsman-shellhost")
    assert len(hosts) == 1, (n.proc.pid, hosts)
    return hosts[0]


def wait_until(predicate, timeout=5.0, step=0.1):
    """Poll predicate until true or timeout; returns its last value."""
    end = time.time() + timeout
    while True:
        v = predicate()
        if v or time.time() > end:
            return v
        time.sleep(step)
