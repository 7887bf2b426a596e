#!/bin/sh
# Recreates the seed corpora under fuzz/corpus/<target>/ from the requests
# real clients sent (t/captures/, or CAPTURES=DIR), from the
# strings of the unit tests, and from a few frames built here.  The seeds
# are committed: `make fuzz` never runs this.
#
#   fuzz/seed.sh            from the project root; needs python3, and
#                           build/ configured (top-level `make`) so that
#                           the unit tests' macros can be expanded
#
# Seeds are named <origin>-<first 10 hex digits of their SHA-1>, so that
# a rerun over the same sources changes nothing.

set -eu

cd "$(dirname "$0")/.."

CAPTURES=${CAPTURES:-t/captures}
# *.batch files of a collector's spool, for wec_spool (optional)
SPOOL=${SPOOL:-}
NGX_SRC=${NGX_SRC:-/usr/share/nginx/src}
BUILD=${BUILD:-build}
CC=${CC:-cc}

if [ ! -f "$BUILD/ngx_auto_config.h" ]; then
    echo "seed.sh: $BUILD/ngx_auto_config.h not found: run make first" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the unit tests with their macros expanded: envelopes and bodies are
# written with ENV(), UNIT_DELIM and friends
for t in soap sddl wql mime auth; do
    $CC -E -DUNIT_DATA='"t/unit/data"' \
        -I"$NGX_SRC/src/core" -I"$NGX_SRC/src/event" \
        -I"$NGX_SRC/src/event/modules" -I"$NGX_SRC/src/os/unix" \
        -I"$NGX_SRC/src/http" -I"$NGX_SRC/src/http/modules" \
        -I"$NGX_SRC/src/http/v2" -I"$BUILD" -Isrc -Isrc/plugins \
        -Isrc/http -Isrc/auth -Isrc/soap -Isrc/access -Isrc/engine \
        -Isrc/plugins/shell -Isrc/plugins/wec \
        -I/usr/include/libxml2 -It/unit \
        "t/unit/test_$t.c" > "$tmp/test_$t.i"
done

python3 - "$tmp" "$CAPTURES" "$SPOOL" <<'EOF'
import base64, glob, hashlib, os, re, struct, sys

tmp, captures, spool = sys.argv[1], sys.argv[2], sys.argv[3]
out = 'fuzz/corpus'
have_captures = os.path.isdir(captures)


def reset(target):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))


def seed(target, origin, data):
    if isinstance(data, str):
        data = data.encode('latin-1')
    name = '%s-%s' % (origin, hashlib.sha1(data).hexdigest()[:10])
    with open(os.path.join(out, target, name), 'wb') as f:
        f.write(data)


ESC = {'n': b'\n', 't': b'\t', 'r': b'\r', '\\': b'\\', '"': b'"',
       "'": b"'", '?': b'?', 'a': b'\a', 'b': b'\b', 'f': b'\f',
       'v': b'\v'}


def unescape(body):
    res, i = b'', 0
    while i < len(body):
        c = body[i]
        if c != '\\':
            res += c.encode('latin-1')
            i += 1
            continue
        n = body[i + 1]
        if n == 'x':
            m = re.match(r'[0-9a-fA-F]+', body[i + 2:])
            res += bytes([int(m.group(0), 16) & 0xff])
            i += 2 + len(m.group(0))
        elif n in '01234567':
            m = re.match(r'[0-7]{1,3}', body[i + 1:])
            res += bytes([int(m.group(0), 8) & 0xff])
            i += 1 + len(m.group(0))
        else:
            res += ESC.get(n, n.encode('latin-1'))
            i += 2
    return res


LIT = r'"(?:[^"\\\n]|\\.)*"'


def literals(test):
    """Concatenated string literals of a preprocessed test file, from the
    lines of the test itself only."""
    text, keep = [], False
    for line in open(os.path.join(tmp, 'test_%s.i' % test),
                     encoding='latin-1'):
        m = re.match(r'# \d+ "([^"]*)"', line)
        if m:
            keep = m.group(1).endswith('test_%s.c' % test)
            continue
        if keep:
            text.append(line)
    text = ''.join(text)
    found = []
    for m in re.finditer(r'(?:%s\s*)+' % LIT, text):
        parts = re.findall(LIT, m.group(0))
        found.append(b''.join(unescape(p[1:-1]) for p in parts))
    return found


def source_args(test, func):
    src = open('t/unit/test_%s.c' % test, encoding='latin-1').read()
    return [unescape(m.group(1)[1:-1])
            for m in re.finditer(r'%s\(\s*(%s)' % (func, LIT), src)]


def capture_requests():
    """(name, headers dict, body) of every raw request capture."""
    if not have_captures:
        return []
    reqs = []
    for path in sorted(glob.glob(os.path.join(captures, '*-req.txt'))):
        raw = open(path, 'rb').read()
        head, _, body = raw.partition(b'\r\n\r\n')
        headers = {}
        for line in head.split(b'\r\n')[1:]:
            k, _, v = line.partition(b':')
            headers[k.strip().lower()] = v.strip()
        reqs.append((os.path.basename(path), headers, body))
    return reqs


# --- soap: envelopes ---------------------------------------------------
reset('soap')
if have_captures:
    for path in sorted(glob.glob(os.path.join(captures, '*-plain.xml'))):
        seed('soap', 'cap', open(path, 'rb').read())
    for name, headers, body in capture_requests():
        if body.lstrip().startswith(b'<'):
            seed('soap', 'cap', body)
for path in sorted(glob.glob('t/unit/data/*.xml')):
    seed('soap', 'unit', open(path, 'rb').read())
for lit in literals('soap'):
    if b'Envelope' in lit:
        seed('soap', 'unit', lit)
# an Events batch as Windows sends it (UTF-16LE, a BOM, events in CDATA
# sections the pre-scan sets aside): for fuzz_soap's comparison with a
# parse of the whole text
event = ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/"
         "event'><System><EventID>4624</EventID><Computer>w.test</Computer>"
         "</System><EventData>" + "<Data Name='n'>v &amp; ]] w</Data>" * 12
         + "</EventData></Event>")
seed('soap', 'gen', ('\ufeff<s:Envelope xmlns:s="http://www.w3.org/2003/05/'
     'soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/'
     'addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
     '<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/Events'
     '</a:Action><a:MessageID>uuid:1</a:MessageID></s:Header><s:Body>'
     '<w:Events>' + ''.join('<w:Event Action="http://schemas.dmtf.org/wbem/'
     'wsman/1/wsman/Event"><![CDATA[%s]]></w:Event>' % event
     for _ in range(3)) + '<w:Event><![CDATA[ ' + event + ']]>x</w:Event>'
     '</w:Events></s:Body></s:Envelope>').encode('utf-16-le'))

# --- sddl: security descriptors and SIDs --------------------------------
reset('sddl')
for lit in set(literals('sddl')):
    if re.match(rb'^\s*([OGDS]:|\(|[Ss]-\d|[A-Z]{2}$)', lit):
        seed('sddl', 'unit', lit)

# --- wql: Enumerate filters ---------------------------------------------
reset('wql')
where = b'SELECT * FROM CIM_Process WHERE '
for lit in set(literals('wql')):
    if re.match(rb'^\s*select\b', lit, re.I):
        seed('wql', 'unit', lit)
for arg in set(source_args('wql', 'unit_where')):
    seed('wql', 'unit', where + arg)
for case in re.findall(r'\{\s*(%s)\s*,' % LIT,
                       open('t/unit/test_wql.c', encoding='latin-1').read()):
    seed('wql', 'unit', where + unescape(case[1:-1]))

# --- mime: Content-Type LF body ---------------------------------------
reset('mime')
spnego = b'multipart/encrypted;protocol="application/HTTP-SPNEGO-' \
         b'session-encrypted";boundary="Encrypted Boundary"'
kerberos = b'multipart/encrypted;protocol="application/HTTP-Kerberos-' \
           b'session-encrypted";boundary="Encrypted Boundary"'
for name, headers, body in capture_requests():
    ct = headers.get(b'content-type', b'')
    if ct.lower().startswith(b'multipart/'):
        seed('mime', 'cap', ct + b'\n' + body)
lits = literals('mime')
for lit in set(lits):
    if lit.startswith(b'--'):
        seed('mime', 'unit', spnego + b'\n' + lit)
        seed('mime', 'unit', kerberos + b'\n' + lit)
    elif lit.lower().startswith(b'multipart/'):
        seed('mime', 'unit', lit + b'\n')

# --- auth_header: Authorization values ------------------------------------
reset('auth_header')
for name, headers, body in capture_requests():
    if b'authorization' in headers:
        seed('auth_header', 'cap', headers[b'authorization'])
schemes = (b'Basic', b'Negotiate', b'Kerberos', b'basic', b'NEGOTIATE',
           b'http://schemas.dmtf.org')
for lit in set(literals('auth')):
    if lit.startswith(schemes):
        seed('auth_header', 'unit', lit)
    elif re.match(rb'^[A-Za-z0-9+/]+=*$', lit) and len(lit) % 4 == 0:
        seed('auth_header', 'unit', b'Basic ' + lit)
    elif b':' in lit and len(lit) < 128:
        seed('auth_header', 'unit', b'Basic ' + base64.b64encode(lit))
seed('auth_header', 'gen',
     b'Basic ' + base64.b64encode(b'alice:' + b'p' * 300))
seed('auth_header', 'gen', b'Negotiate ' + base64.b64encode(b'NTLMSSP\0\1'))
# the log escaping regression: 256 + 3 bytes, one to escape among 256
seed('auth_header', 'gen', b'Basic ' + b'a' * 249 + b'"' + b'bbb')

# --- shell_frame: request and reply frames ----------------------------------
reset('shell_frame')


def frame(type, *fields):
    body = bytes([type])
    for tag, value in fields:
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str):
            value = value.encode()
        body += bytes([tag]) + struct.pack('<I', len(value)) + value
    return struct.pack('<I', len(body)) + body


CREATE, COMMAND, SEND, RECEIVE, SIGNAL, DELETE = range(1, 7)
(STATUS, MESSAGE, USER, SHELL, COMMAND_ID, CWD, ENV, IDLE_MS, CMD, ARG,
 SKIP_SHELL, DATA, END, TIMEOUT_MS, STDOUT, STDERR, STDOUT_END, STDERR_END,
 DONE, EXIT_CODE, SIGNAL_F, MAX_SHELLS, MAX_USERS, MAX_PROCS, MAX_MEMORY,
 MAX_RUNTIME, CLIENT_IP, MAX_BYTES) = range(1, 29)
sid = '0F2C6A3E-4B1D-4C8E-9A57-3D2E1F0A9B8C'
cid = '7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D'
frames = [
    frame(CREATE, (USER, 'alice'), (CWD, '/tmp'), (ENV, 'LANG=C'),
          (ENV, 'PATH=/bin'), (IDLE_MS, 180000), (MAX_SHELLS, 30),
          (MAX_USERS, 10), (MAX_PROCS, 15), (MAX_MEMORY, 150),
          (MAX_RUNTIME, 0), (CLIENT_IP, '192.0.2.1')),
    frame(COMMAND, (USER, 'alice'), (SHELL, sid), (CMD, 'ipconfig'),
          (ARG, '/all'), (ARG, 'x y')),
    frame(COMMAND, (USER, 'alice'), (SHELL, sid), (CMD, '/bin/echo'),
          (ARG, 'hello'), (SKIP_SHELL, 1)),
    frame(SEND, (USER, 'alice'), (SHELL, sid), (COMMAND_ID, cid),
          (DATA, b'dir\r\n\x00\xff'), (END, 1)),
    frame(RECEIVE, (USER, 'alice'), (SHELL, sid), (COMMAND_ID, cid),
          (TIMEOUT_MS, 20000), (MAX_BYTES, 153600)),
    frame(SIGNAL, (USER, 'alice'), (SHELL, sid), (COMMAND_ID, cid),
          (SIGNAL_F, 'terminate')),
    frame(DELETE, (USER, 'alice'), (SHELL, sid)),
    frame(CREATE, (STATUS, 0), (SHELL, sid)),
    frame(COMMAND, (STATUS, 0), (COMMAND_ID, cid)),
    frame(RECEIVE, (STATUS, 0), (STDOUT, b'out<&>\x00'), (STDERR, 'err'),
          (STDOUT_END, 1), (STDERR_END, 1), (DONE, 1), (EXIT_CODE, 3)),
    frame(RECEIVE, (STATUS, 6)),
    frame(CREATE, (STATUS, 3), (MESSAGE, 'MaxShellsPerUser <limit> & "x"')),
    frame(SEND, (STATUS, 8)),
    frame(DELETE, (STATUS, 0)),
    frame(99, (STATUS, 7), (MESSAGE, 'malformed request')),
    # the XML writer regression: bytes that are no XML character
    frame(CREATE, (STATUS, 4), (MESSAGE, b'no \x01 acc\xffount \xc3')),
]
for f in frames:
    seed('shell_frame', 'gen', f)


# SLDC bodies (docs/sldc.md) from the encoding rules: a bit writer and a
# greedy LZ77 over the 1 KiB history
class Sldc:
    def __init__(self):
        self.bits = ''

    def put(self, v, n):
        self.bits += format(v, '0%db' % n)

    def ctl(self, code):
        self.put(0x1ff, 9)
        self.put(code, 4)

    def lit(self, c):
        self.put(0, 1)
        self.put(c, 8)

    def byte(self, c):
        self.put(c, 8)
        if c == 0xff:
            self.put(0, 1)

    def copy(self, n, disp):
        # the match count field: 0x, 10xx, 110xxx, 1110xxxx, 1111xxxxxxxx
        self.put(1, 1)
        if n < 4:
            self.put(0, 1); self.put(n - 2, 1)
        elif n < 8:
            self.put(2, 2); self.put(n - 4, 2)
        elif n < 16:
            self.put(6, 3); self.put(n - 8, 3)
        elif n < 32:
            self.put(14, 4); self.put(n - 16, 4)
        else:
            self.put(15, 4); self.put(n - 32, 8)
        self.put(disp, 10)

    def compress(self, data):
        # data starts right after a Reset: ring position = index % 1024
        i = 0
        while i < len(data):
            best, at = 0, 0
            for j in range(max(0, i - 1024), i):
                k = 0
                while k < 271 and i + k < len(data) \
                        and data[j + k] == data[i + k]:
                    k += 1
                if k > best:
                    best, at = k, j
            if best >= 2:
                self.copy(best, at % 1024)
                i += best
            else:
                self.lit(data[i])
                i += 1

    def end(self, pad=0, trailer=None):
        self.ctl(4)
        self.bits += '0' * (-len(self.bits) % 8 + 8 * pad)
        b = bytes(int(self.bits[i:i + 8], 2)
                  for i in range(0, len(self.bits), 8))
        if trailer is not None:
            b += struct.pack('<I', trailer)
        return b


reset('sldc')
xml = ('\ufeff<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
       '<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/'
       'Heartbeat</a:Action></s:Header><s:Body><w:Events><w:Event Action='
       '"http://schemas.dmtf.org/wbem/wsman/1/wsman/Event"><![CDATA[<Event>'
       '<System><EventID>4624</EventID></System></Event>]]></w:Event>'
       '</w:Events></s:Body></s:Envelope>').encode('utf-16-le')
e = Sldc(); e.ctl(6); [e.byte(c) for c in b'Hi']
seed('sldc', 'gen', e.end())
e = Sldc(); e.ctl(5); e.lit(97); e.lit(98); e.copy(6, 0)
seed('sldc', 'gen', e.end())
e = Sldc(); e.ctl(6); e.byte(0xff); e.byte(0)
seed('sldc', 'gen', e.end())
e = Sldc(); e.ctl(5); e.lit(97); e.ctl(2); e.byte(98); e.ctl(1)
e.copy(2, 0); e.ctl(0); e.ctl(3); e.ctl(15)
seed('sldc', 'gen', e.end())
e = Sldc(); e.ctl(6); [e.byte(c) for c in b'ok']
seed('sldc', 'gen', e.end(1, 2))
e = Sldc(); e.ctl(5); e.lit(120); e.copy(271, 0)
seed('sldc', 'gen', e.end())
e = Sldc(); e.ctl(5); e.compress(xml)
seed('sldc', 'gen', e.end(0, len(xml)))
e = Sldc(); e.ctl(5); e.compress(xml[:600]); e.ctl(6)
[e.byte(c) for c in xml[600:700]]; e.ctl(5); e.compress(xml[700:])
seed('sldc', 'gen', e.end())

# --- wec_spool: the event collector's spool files -----------------------
reset('wec_spool')

# the files a test run left in a spool (SPOOL=DIR, *.batch), as they are
for path in sorted(glob.glob(os.path.join(spool, '*.batch'))) if spool \
        else []:
    seed('wec_spool', 'run', open(path, 'rb').read())


def spool_file(sub, source, machine, addr, bookmark, received, events):
    """ngx_wsman_wec_spool_format(): t/unit/test_wec_spool.c checks the
    C writer against the bytes this makes of its batch (the unit seed)"""
    def s(v):
        v = v.encode() if isinstance(v, str) else v
        return b'%d\n' % len(v) + v + b'\n'
    return (b'WECSPOOL1\n' + s(sub) + s(source) + s(machine) + s(addr)
            + s(bookmark) + s(str(received)) + b'%d\n' % len(events)
            + b''.join(s(e) for e in events))


sys.path.insert(0, 't')
import wef_source  # noqa: E402 (realistic Windows events, deterministic)

bm = ('<BookmarkList><Bookmark Channel="Security" RecordId="%d" '
      'IsCurrent="true"/></BookmarkList>')
gen = wef_source.EventGenerator(seed=14)
seed('wec_spool', 'gen', spool_file(
    'security', 'alice@WSMAN.TEST', 'win10.wsman.test', '192.0.2.10',
    bm % 1004, 1700000000, [e.xml for e in gen.events(4)]))
gen = wef_source.EventGenerator(seed=15, rendered=False)
seed('wec_spool', 'gen', spool_file(
    'all', 'WSMAN\\win10$', '', '2001:db8::7', '', 1700000123,
    [gen.event().xml]))
for kind in ('truncated', 'cdata_end', 'surrogate'):
    seed('wec_spool', 'gen', spool_file(
        'bad', 'bob', 'm', '10.0.0.1', bm % 7, 1,
        [gen.event(kind).xml.encode('utf-8', 'surrogatepass'),
         gen.event().xml]))
# empty strings and events, LFs inside the strings, the smallest file
seed('wec_spool', 'gen', spool_file('s', 'a\n', '', '', '\n\n', 0,
                                    ['', '\n', '<Event/>\n']))
seed('wec_spool', 'gen', spool_file('', '', '', '', '', 0, ['']))
# t/unit/test_wec_spool.c's file
seed('wec_spool', 'unit', spool_file(
    'sub', 'alice@EX\n', '', '192.0.2.7', '<BookmarkList\n/>\r\n\n\n',
    1700000000, ['<Event>1\n</Event>', '', '\n\n\n\n\n']))
# the two findings (t/unit/test_wec_spool.c): a length that overflowed
# "n + 1", a count the file cannot hold
seed('wec_spool', 'gen', b'WECSPOOL1\n9223372036854775807\nsub\n')
seed('wec_spool', 'gen',
     spool_file('s', 'a', 'm', 'c', '', 1700000000, [])[:-2]
     + b'1000000\n2\nxy\n')
EOF

for t in soap sddl wql mime auth_header shell_frame sldc wec_spool; do
    printf '%-12s %4d seeds, %6d bytes\n' "$t" \
        "$(ls fuzz/corpus/$t | wc -l)" "$(cat fuzz/corpus/$t/* | wc -c)"
done
