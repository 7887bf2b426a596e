#!/usr/bin/python3
"""Soak and chaos run for ngx_wsman (issue [6]): bounded, loopback only.

    SOAK_TIME=600 WSMAN_SO=build/ngx_wsman_module.so /usr/bin/python3 \\
        bench/soak.py                  (or: make soak [SOAK_TIME=60])

Starts the packaged nginx with the module (worker_processes 2, a temp
prefix, Basic users and NTLM through gss-ntlmssp as t/conftest.py does)
and drives it for SOAK_TIME seconds with client threads:

  identify   anonymous Identify, a new connection each
  get        Basic config Get on a keep-alive connection
  ntlm       NTLM handshake, then encrypted config Gets on the connection
  enum       Enumerate + Pull of CIM_Process (MaxElements 5, Pulls of 10)
  shell-N    Create; a command with known output (counters, stdout and
             stderr, bursts), read with numbered Receives (SequenceId) and
             compared byte for byte; `cat` fed with Send (stdin) and its
             echo compared byte for byte; Signal; Delete

while a chaos thread runs `nginx -s reload` every 30 s and SIGKILLs one
worker every 60 s (both scaled down for short runs, never below 5 s and
10 s).  A sampler records RSS and open descriptors of the master, the
workers and the shell host, zombies, and processes of the shell account.

A request whose connection dies without an answer is "interrupted": the
client retries it on a new connection (Receive with the same SequenceId,
Send with the same MessageID, so neither output nor input is lost or
doubled).  Every interruption must coincide with a kill or a reload.

Exit status 1 when: shell output differs from what the command wrote, a
request got neither a success nor a SOAP fault / HTTP status (timeout,
garbage), an interruption is unexplained, a worker crashed (a signal
other than our SIGKILL) or the error log has other alert/crit/emerg
lines, zombies or escaped processes remain at the end, or descriptors or
RSS of the master or the shell host grew beyond the margins below.

Environment: SOAK_TIME (s, 600), SOAK_SHELLS (shell threads, 3),
SOAK_SAMPLE (s between samples; 5, or 2 below 5 minutes), SOAK_SEED,
SOAK_REPORT (also write the report to this file), SOAK_KEEP (keep the
temp prefix).  Needs root (a throw-away local account runs the commands).
"""

import collections
import ctypes
import http.client
import os
import pathlib
import random
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "t"))

import conftest            # noqa: E402  Nginx, users, hashes
import infra               # noqa: E402  gss-ntlmssp user file
import wsman_gss as G      # noqa: E402  NTLM client, message encryption
import wsman_helpers as H  # noqa: E402  envelopes, raw HTTP, parsers

# margins of the end-of-run checks
FD_MARGIN = 2                 # descriptors, idle before vs idle after
RSS_MARGIN_KB = 1024          # master and shell host, plus ...
RSS_MARGIN_PCT = 10           # ... this share of the baseline
WORKER_RSS_MARGIN_KB = 4096   # workers: last loaded window vs first
EXPLAIN_SLACK = 2.0           # s around a kill/reload that explain a reset

HTTP_TIMEOUT = 30             # s an answer may take (beyond a long poll)
RECEIVE_TIMEOUT = 5           # s: rsp:Receive OperationTimeout
IDLE_TIMEOUT = 20             # s: shells whose Create was retried expire
MAX_RETRIES = 25              # interruptions of one request in a row

NTLM_USER = "bob"             # in conftest.USERS with group admins
BASIC_USER = "alice"

HTTP_SNIPPET = """
    server {
        listen 127.0.0.1:@PORT@;
        wsman_user_file @USERFILE@;
        location /wsman { wsman; wsman_auth basic;
                          wsman_allow_unencrypted on;
                          wsman_max_timeout 10s; }
        location /enc   { wsman; wsman_auth negotiate; }
    }
"""


# ------------------------------------------------------------ outcomes --

class Interrupted(Exception):
    """The connection ended without an answer."""


class Unanswered(Exception):
    """No answer within HTTP_TIMEOUT."""


class Broken(Exception):
    """An answer that is neither a success nor a proper fault."""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()       # (kind, outcome)
        self.failures = []                        # text
        self.interruptions = []                   # (kind, t0, t1)
        self.events = []                          # (t, what)
        self.notes = collections.Counter()

    def count(self, kind, outcome, n=1):
        with self.lock:
            self.counts[(kind, outcome)] += n

    def note(self, what, n=1):
        with self.lock:
            self.notes[what] += n

    def fail(self, text):
        with self.lock:
            self.failures.append("%.1fs %s" % (time.time() - T0, text))

    def interrupted(self, kind, t0, t1):
        with self.lock:
            self.interruptions.append((kind, t0, t1))

    def event(self, what):
        with self.lock:
            self.events.append((time.time(), what))


T0 = time.time()
STATS = Stats()
STOP = threading.Event()


def is_fault(resp):
    """A well-formed WS-Man fault (HTTP 400/500)?  Returns the Fault."""
    try:
        return H.assert_fault(resp)
    except (AssertionError, Exception):
        return None


def fault_name(f):
    return "fault:%s" % (f.subcode[1] if f.subcode else "?")


def exchange(kind, send):
    """Run send() (which posts one request and returns a Response),
    mapping transport failures to Interrupted/Unanswered and recording
    them.  Returns the Response."""
    t0 = time.time()
    try:
        return send()
    except socket.timeout:
        STATS.count(kind, "unanswered")
        STATS.fail("%s: no answer within %ds" % (kind, HTTP_TIMEOUT))
        raise Unanswered()
    except (OSError, http.client.HTTPException, AssertionError) as e:
        # AssertionError: wsman_helpers' Connection found it closed
        STATS.count(kind, "interrupted")
        STATS.interrupted(kind, t0, time.time())
        raise Interrupted(repr(e))


def post_new(port, path, xml, headers, kind, timeout=HTTP_TIMEOUT):
    return exchange(kind, lambda: H.request(port, "POST", path, xml,
                                            headers, timeout=timeout))


def classify(kind, resp, action, faults_ok=()):
    """Count the answer; returns "ok", or the Fault for an accepted
    fault (subcode local name in faults_ok); raises Broken otherwise."""
    if resp.status == 200:
        try:
            got = H.header_text(resp, "a", "Action")
        except Exception:
            got = None
        if got == action:
            STATS.count(kind, "ok")
            return "ok"
        STATS.count(kind, "malformed")
        STATS.fail("%s: 200 with action %r: %r" % (kind, got,
                                                  resp.body[:300]))
        raise Broken()
    f = is_fault(resp)
    if f is not None:
        if f.subcode and f.subcode[1] in faults_ok:
            STATS.count(kind, fault_name(f))
            return f
        STATS.count(kind, "unexpected " + fault_name(f))
        STATS.fail("%s: unexpected %s %r" % (kind, fault_name(f),
                                             f.reason))
        raise Broken()
    STATS.count(kind, "http_%d" % resp.status)
    STATS.fail("%s: HTTP %d without a fault: %r" % (kind, resp.status,
                                                   resp.body[:300]))
    raise Broken()


def retrying(kind, attempt):
    """Call attempt() until it does not raise Interrupted."""
    for _ in range(MAX_RETRIES):
        try:
            return attempt()
        except Interrupted:
            time.sleep(0.05)
    STATS.fail("%s: interrupted %d times in a row" % (kind, MAX_RETRIES))
    raise Broken()


def pause(s):
    STOP.wait(s)


# ------------------------------------------------------------ clients --

class KeepAlive:
    """A keep-alive connection that is reopened when the server closed it
    after an answer (idle connections of reloaded workers): that is not
    an interruption.  Only a request that got no answer is one."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def _stale(self):
        c = self.conn
        if c is None or c.closed:
            return True
        try:
            r, _, _ = select.select([c.sock], [], [], 0)
            if r and c.sock.recv(1, socket.MSG_PEEK) == b"":
                return True
        except OSError:
            return True
        return False

    def ensure(self):
        """True when a new connection was opened."""
        if self._stale():
            self.close()
            self.conn = H.Connection(self.port, timeout=HTTP_TIMEOUT)
            STATS.note("reconnects")
            return True
        return False

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None


def identify_loop(port, pace):
    hdr = [("WSMANIDENTIFY", "unauthenticated"),
           ("Content-Type", H.SOAP_CT)]
    while not STOP.is_set():
        try:
            r = retrying("identify", lambda: post_new(
                port, "/wsman", H.IDENTIFY, hdr, "identify"))
            # Identify answers carry no a:Action: check the body
            if r.status == 200 and H.body_child(r).tag == \
                    H.q("wsmid", "IdentifyResponse"):
                STATS.count("identify", "ok")
            else:
                classify("identify", r, None)
        except (Broken, Unanswered):
            pass
        except Exception as e:
            STATS.count("identify", "malformed")
            STATS.fail("identify: %r" % e)
        pause(pace)


def get_loop(port, pace, password):
    ka = KeepAlive(port)
    hdr = [("Authorization", H.basic(BASIC_USER, password)),
           ("Content-Type", H.SOAP_CT)]

    def once():
        xml, _ = H.config_get()

        def send():
            ka.ensure()
            return ka.conn.request("POST", "/wsman", xml, hdr)

        return exchange("get", send)

    while not STOP.is_set():
        try:
            r = retrying("get", once)
            classify("get", r, H.ACTION_GET_RESPONSE)
        except (Broken, Unanswered):
            ka.close()
        except Exception as e:
            STATS.count("get", "malformed")
            STATS.fail("get: %r" % e)
            ka.close()
        pause(pace)


def ntlm_loop(port, pace, password):
    """NTLM (gss-ntlmssp) on /enc, where only sealed messages pass."""
    sess = None

    def handshake():
        made = []

        def auth():
            s = G.Session(port, "/enc", gss=G.GssClient(
                "ntlm", user=NTLM_USER, password=password))
            made.append(s)
            s.conn.sock.settimeout(HTTP_TIMEOUT)
            return s.authenticate()

        try:
            r = exchange("ntlm_auth", auth)
        except Exception:
            for s in made:
                s.close()
            raise
        s = made[0]
        if r.status != 200:
            s.close()
            STATS.count("ntlm_auth", "http_%d" % r.status)
            STATS.fail("ntlm_auth: HTTP %d" % r.status)
            raise Broken()
        STATS.count("ntlm_auth", "ok")
        return s

    def once():
        nonlocal sess
        if sess is None or sess.conn.closed or stale(sess.conn):
            if sess is not None:
                sess.close()
                STATS.note("reconnects")
            sess = None
            sess = handshake()
        xml, _ = H.config_get()
        try:
            return exchange("ntlm_get", lambda: sess.send_encrypted(xml))
        except Interrupted:
            sess.close()
            sess = None
            raise

    while not STOP.is_set():
        try:
            r, plain = retrying("ntlm_get", once)
            if plain is None:
                classify("ntlm_get", r, H.ACTION_GET_RESPONSE)
            else:
                classify("ntlm_get", G.plain_response(r, plain),
                         H.ACTION_GET_RESPONSE)
        except (Broken, Unanswered):
            if sess is not None:
                sess.close()
            sess = None
        except Exception as e:
            STATS.count("ntlm_get", "malformed")
            STATS.fail("ntlm_get: %s" % traceback.format_exc(limit=3))
            if sess is not None:
                sess.close()
            sess = None
        pause(pace)


def stale(conn):
    try:
        r, _, _ = select.select([conn.sock], [], [], 0)
        return bool(r) and conn.sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def enum_loop(port, pace, password):
    uri = H.class_uri("CIM_Process")
    hdr = [("Authorization", H.basic(BASIC_USER, password)),
           ("Content-Type", H.SOAP_CT)]

    def post(kind, xml):
        return post_new(port, "/wsman", xml, hdr, kind)

    while not STOP.is_set():
        try:
            enum_once(uri, post)
        except (Broken, Unanswered):
            pass
        except Exception as e:
            STATS.count("enumerate", "malformed")
            STATS.fail("enumerate: %s" % traceback.format_exc(limit=3))
        pause(pace)


def enum_once(uri, post):
    """One enumeration to its end.  A Pull whose answer is lost moved the
    context on (its items are gone for this enumeration), so an
    interrupted Pull restarts the enumeration instead of repeating."""
    xml, _ = H.enumerate_request(uri, optimize=True, max_elements=5)
    r = retrying("enumerate", lambda: post("enumerate", xml))
    classify("enumerate", r, H.NS["n"] + "/EnumerateResponse")
    page = H.EnumPage(r, pull=False)
    seen = set()

    def keys(items):
        for it in items:
            k = H.props(it).get("Handle")
            if k in seen:
                STATS.fail("enumerate: Handle %r twice" % k)
                raise Broken()
            seen.add(k)

    keys(page.items)
    ctx = page.context
    pulls = 0
    while not page.end:
        if STOP.is_set() or pulls > 2000:
            release(uri, ctx, post)
            return
        xml, _ = H.pull_request(ctx, uri, max_elements=10)
        try:
            r = post("pull", xml)
        except Interrupted:
            STATS.note("enumerations restarted")
            release(uri, ctx, post)
            return
        classify("pull", r, H.NS["n"] + "/PullResponse")
        page = H.EnumPage(r, pull=True)
        keys(page.items)
        pulls += 1
        if not page.end:
            ctx = page.context
    STATS.note("enumerations completed")
    STATS.note("processes enumerated", len(seen))


def release(uri, ctx, post):
    xml, _ = H.release_request(ctx, uri)
    try:
        r = post("release", xml)
        classify("release", r, H.NS["n"] + "/ReleaseResponse",
                 faults_ok=("InvalidEnumerationContext",))
    except (Interrupted, Broken, Unanswered):
        pass


# -------------------------------------------------------------- shells --

def counter_script(n, burst):
    """Numbered lines with a pause every `burst` lines: output arrives in
    pieces, so a command takes several Receives."""
    return ('i=0; while [ $i -lt %d ]; do i=$((i+1)); '
            'echo "line $i of %d"; '
            '[ $((i %% %d)) -eq 0 ] && sleep 0.2; done; exit 0'
            % (n, n, burst))


def counter_output(n):
    return "".join("line %d of %d\n" % (i, n)
                   for i in range(1, n + 1)).encode()


def seq_output(n):
    return "".join("%d\n" % i for i in range(1, n + 1)).encode()


# (command line, stdout, stderr, exit code)
SHELL_COMMANDS = [
    ("seq 1 5000", seq_output(5000), b"", 0),
    ("seq 1 60000", seq_output(60000), b"", 0),
    ("seq 1 20000; seq 1 7000 >&2; exit 3", seq_output(20000),
     seq_output(7000), 3),
    (counter_script(600, 150), counter_output(600), b"", 0),
]


class Shell:
    """WinRS over Basic, a new connection per request, with retries."""

    def __init__(self, port, user, password, name):
        self.port = port
        self.name = name
        self.hdr = [("Authorization", H.basic(user, password)),
                    ("Content-Type", H.SOAP_CT)]

    def post(self, kind, xml, timeout=HTTP_TIMEOUT):
        return post_new(self.port, "/wsman", xml, self.hdr, kind, timeout)

    def create(self):
        xml, _ = H.create_shell_request(idle_timeout="PT%dS" % IDLE_TIMEOUT,
                                        codepage=65001, noprofile=True)
        tries = [0]

        def attempt():
            tries[0] += 1
            return self.post("shell_create", xml)

        r = retrying("shell_create", attempt)
        if tries[0] > 1:
            # the lost answer may have made a shell: it idles out
            STATS.note("creates retried (a shell may idle out)")
        classify("shell_create", r, H.ACTION_CREATE + "Response")
        return H.shell_id_of(r)

    def command(self, sid, line):
        xml, _ = H.command_request(sid, line)
        tries = [0]

        def attempt():
            tries[0] += 1
            return self.post("shell_command", xml)

        r = retrying("shell_command", attempt)
        if tries[0] > 1:
            STATS.note("commands retried (one may run unread until "
                       "Delete)")
        classify("shell_command", r, H.ACTION_COMMAND + "Response")
        el = H.body_child(r)
        return el.find("rsp:CommandId", H.NS).text.strip()

    def send(self, sid, cid, data, end=False):
        """One Send; a retry carries the same MessageID, which the shell
        host recognizes, so the bytes are written once."""
        xml, _ = H.send_request(sid, cid, data, end)
        tries = [0]
        while True:
            def attempt():
                tries[0] += 1
                return self.post("shell_send", xml)
            r = retrying("shell_send", attempt)
            res = classify("shell_send", r, H.ACTION_SEND + "Response",
                           faults_ok=("QuotaLimit",))
            if res == "ok":
                break
            # the command does not read fast enough: the same Send again
            STATS.note("sends refused as busy")
            time.sleep(0.2)
        if tries[0] > 1:
            STATS.note("sends retried")

    def receive(self, sid, cid, seq, op_timeout=RECEIVE_TIMEOUT):
        """One Receive numbered seq; retried with the same number.
        Returns a ReceiveResult or None (w:TimedOut)."""
        xml, _ = H.receive_request(sid, cid, sequence_id=seq,
                                   operation_timeout="PT%dS" % op_timeout)
        tries = [0]

        def attempt():
            tries[0] += 1
            return self.post("shell_receive", xml,
                             timeout=op_timeout + HTTP_TIMEOUT)

        r = retrying("shell_receive", attempt)
        if tries[0] > 1:
            STATS.note("receives retried")
        res = classify("shell_receive", r, H.ACTION_RECEIVE + "Response",
                       faults_ok=("TimedOut",))
        if res != "ok":
            return None
        try:
            return H.ReceiveResult(r, cid)
        except AssertionError as e:
            STATS.count("shell_receive", "malformed")
            STATS.fail("%s: Receive answer: %s" % (self.name, e))
            raise Broken()

    def collect(self, sid, cid, state, deadline=120):
        """Receive until Done.  state carries the SequenceId and the
        output so far (Receives may already have taken some)."""
        end = time.time() + deadline
        while not state["done"]:
            if time.time() > end:
                STATS.fail("%s: command not done within %ds" %
                           (self.name, deadline))
                raise Broken()
            self.receive_into(sid, cid, state)

    def receive_into(self, sid, cid, state, op_timeout=RECEIVE_TIMEOUT):
        r = self.receive(sid, cid, state["seq"], op_timeout)
        state["seq"] += 1
        if r is not None:
            state["out"] += r.stdout
            state["err"] += r.stderr
            if r.done:
                state["done"] = True
                state["code"] = r.exit_code

    def signal(self, sid, cid):
        xml, _ = H.signal_request(sid, cid)
        r = retrying("shell_signal", lambda: self.post("shell_signal", xml))
        classify("shell_signal", r, H.ACTION_SIGNAL + "Response")

    def delete(self, sid):
        xml, _ = H.delete_shell_request(sid)
        tries = [0]

        def attempt():
            tries[0] += 1
            return self.post("shell_delete", xml)

        r = retrying("shell_delete", attempt)
        # a retried Delete may find the shell already deleted
        ok = ("InvalidSelectors",) if tries[0] > 1 else ()
        classify("shell_delete", r, H.ACTION_DELETE + "Response",
                 faults_ok=ok)


def compare(name, what, got, want):
    if got == want:
        STATS.note("check: shell streams byte-exact")
        return
    STATS.note("check: shell streams MISMATCHED")
    i = next((k for k in range(min(len(got), len(want)))
              if got[k] != want[k]), min(len(got), len(want)))
    STATS.fail("%s: %s differs: got %d bytes, want %d, first difference "
               "at %d: got %r want %r" % (name, what, len(got), len(want),
                                          i, got[max(0, i - 40):i + 40],
                                          want[max(0, i - 40):i + 40]))


def shell_loop(port, user, password, name, rng):
    sh = Shell(port, user, password, name)
    while not STOP.is_set():
        sid = None
        try:
            sid = sh.create()
            shell_flow(sh, sid, rng)
        except (Broken, Unanswered):
            pass
        except Exception:
            STATS.count("shell_flow", "error")
            STATS.fail("%s: %s" % (name, traceback.format_exc(limit=4)))
        finally:
            if sid is not None:
                try:
                    sh.delete(sid)
                except (Broken, Unanswered):
                    pass
                except Exception:
                    STATS.fail("%s: delete: %s" % (
                        name, traceback.format_exc(limit=3)))
        pause(0.05)


def shell_flow(sh, sid, rng):
    # a command with known output, read with numbered Receives
    line, out, err, code = rng.choice(SHELL_COMMANDS)
    cid = sh.command(sid, line)
    st = {"seq": 0, "out": b"", "err": b"", "done": False, "code": None}
    sh.collect(sid, cid, st)
    compare(sh.name, "stdout of %r" % line[:30], st["out"], out)
    compare(sh.name, "stderr of %r" % line[:30], st["err"], err)
    if st["code"] != code:
        STATS.fail("%s: exit code %r, want %d" % (sh.name, st["code"],
                                                   code))
    sh.signal(sid, cid)
    STATS.note("check: commands verified (stdout, stderr, exit code)")

    # stdin: numbered chunks into `cat`, Receives in between
    cid = sh.command(sid, "cat")
    st = {"seq": 0, "out": b"", "err": b"", "done": False, "code": None}
    sent = b""
    chunks = rng.randint(3, 12)
    for i in range(chunks):
        data = ("chunk %d of %d %s\n" % (i + 1, chunks, uuid.uuid4())
                ).encode() + rng.randbytes(rng.randint(0, 6000)).hex()\
            .encode() + b"\n"
        sh.send(sid, cid, data, end=(i == chunks - 1))
        sent += data
        if rng.random() < 0.4:
            sh.receive_into(sid, cid, st, op_timeout=1)
    sh.collect(sid, cid, st)
    compare(sh.name, "stdin echo", st["out"], sent)
    if st["err"] or st["code"] != 0:
        STATS.fail("%s: cat: stderr %r, exit code %r" % (
            sh.name, st["err"][:200], st["code"]))
    sh.signal(sid, cid)
    STATS.note("check: commands verified (stdout, stderr, exit code)")


# --------------------------------------------------------------- chaos --

def proc_stat(pid):
    """(comm, state, ppid) or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    rest = s[s.rindex(")") + 2:].split()
    return comm, rest[0], int(rest[1])


def proc_uid(pid):
    try:
        return os.stat("/proc/%d" % pid).st_uid
    except OSError:
        return None


def all_procs():
    """pid -> (comm, state, ppid)."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                out[int(d)] = st
    return out


def nginx_children(master):
    """(current workers, old workers, shell host pid or None)."""
    cur, old, host = [], [], None
    for pid, (comm, state, ppid) in all_procs().items():
        if ppid != master or state == "Z":
            continue
        if comm == "wsman-shellhost":
            host = pid
            continue
        cmd = H.proc_cmdline(pid)
        if "worker process is shutting down" in cmd:
            old.append(pid)
        elif "worker process" in cmd:
            cur.append(pid)
    return cur, old, host


class Chaos(threading.Thread):
    def __init__(self, nginx, reload_every, kill_every, rng):
        threading.Thread.__init__(self, name="chaos", daemon=True)
        self.nginx = nginx
        self.reload_every = reload_every
        self.kill_every = kill_every
        self.rng = rng
        self.killed = set()
        self.reloads = 0
        self.kills = 0

    def run(self):
        start = time.time()
        next_reload = start + self.reload_every
        next_kill = start + self.kill_every
        while not STOP.is_set():
            now = time.time()
            if now >= next_kill:
                self.kill()
                next_kill += self.kill_every
            if now >= next_reload:
                self.reload()
                next_reload += self.reload_every
            STOP.wait(max(0.05, min(next_kill, next_reload) - time.time()))

    def reload(self):
        STATS.event("reload")
        p = subprocess.run(self.nginx.cmd("-s", "reload"),
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            STATS.fail("nginx -s reload: %s" % p.stderr.strip())
        self.reloads += 1

    def kill(self):
        cur, _, _ = nginx_children(self.nginx.proc.pid)
        if not cur:
            return
        pid = self.rng.choice(cur)
        STATS.event("kill")
        try:
            os.kill(pid, signal.SIGKILL)
            self.killed.add(pid)
            self.kills += 1
        except OSError:
            pass
        STATS.event("kill")


# ------------------------------------------------------------- sampler --

def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


class Sampler(threading.Thread):
    def __init__(self, master, uid, every):
        threading.Thread.__init__(self, name="sampler", daemon=True)
        self.master = master
        self.uid = uid
        self.every = every
        self.samples = []
        self.worker_life = {}       # pid -> [(t, rss, fds)]
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.samples.append(self.sample())
            self.stop.wait(self.every)

    def sample(self):
        t = time.time() - T0
        procs = all_procs()
        master = self.master
        host = next((p for p, (c, s, pp) in procs.items()
                     if pp == master and c == "wsman-shellhost"), None)
        cur, old = [], []
        for pid, (comm, state, ppid) in procs.items():
            if ppid != master or pid == host or state == "Z":
                continue
            rss, fds = rss_kb(pid), fd_count(pid)
            if rss is None or fds is None:
                continue
            cmd = H.proc_cmdline(pid)
            if "shutting down" in cmd:
                old.append((pid, rss, fds))
            else:
                cur.append((pid, rss, fds))
                self.worker_life.setdefault(pid, []).append((t, rss, fds))
        ours = {master, host} | {p for p, _, _ in cur + old}
        zombies = sum(1 for pid, (c, s, pp) in procs.items()
                      if s == "Z" and (pp in ours or
                                       proc_uid(pid) == self.uid))
        shellprocs = [pid for pid in procs if proc_uid(pid) == self.uid]
        # the host is a child subreaper: a command's orphan lands on it;
        # one that reaches init (or anything else) escaped
        escaped = sum(1 for pid in shellprocs
                      if not self.below(pid, host, procs))
        return {
            "t": t,
            "master": (rss_kb(master), fd_count(master)),
            "host": (rss_kb(host), fd_count(host)) if host else (None, None),
            "host_pid": host,
            "workers": cur,
            "old_workers": old,
            "zombies": zombies,
            "shell_procs": len(shellprocs),
            "escaped": escaped,
        }

    @staticmethod
    def below(pid, ancestor, procs):
        seen = 0
        while pid in procs and seen < 64:
            pid = procs[pid][2]
            if pid == ancestor:
                return True
            seen += 1
        return False


# -------------------------------------------------------------- report --

def windows(samples, width):
    """Samples grouped by window index (t // width)."""
    out = collections.OrderedDict()
    for s in samples:
        out.setdefault(int(s["t"] // width), []).append(s)
    return out


def fmt_curve(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    return "%d / %d / %d / %d" % (vals[0], min(vals), max(vals), vals[-1])


def curves_table(samples, width, unit):
    rows = ["| window (%s) | master RSS kB | master fds | host RSS kB | "
            "host fds | workers max RSS kB | workers max fds | "
            "old workers | zombies | shell procs |" % unit,
            "|---|---|---|---|---|---|---|---|---|---|"]
    for w, ss in windows(samples, width).items():
        def col(f):
            return fmt_curve([f(s) for s in ss])
        rows.append("| %d-%d | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                    % (w * width, (w + 1) * width,
                       col(lambda s: s["master"][0]),
                       col(lambda s: s["master"][1]),
                       col(lambda s: s["host"][0]),
                       col(lambda s: s["host"][1]),
                       col(lambda s: max([r for _, r, _ in s["workers"]],
                                         default=None)),
                       col(lambda s: max([f for _, _, f in s["workers"]],
                                         default=None)),
                       col(lambda s: len(s["old_workers"])),
                       col(lambda s: s["zombies"]),
                       col(lambda s: s["shell_procs"])))
    return rows


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def growth(samples, get):
    """median of the last fifth minus median of the first fifth (after
    the first tenth, the warm-up)."""
    n = len(samples)
    if n < 10:
        return None, None, None
    first = samples[n // 10: n // 10 + max(2, n // 5)]
    last = samples[-max(2, n // 5):]
    a, b = median([get(s) for s in first]), median([get(s) for s in last])
    return a, b, (b - a if a is not None and b is not None else None)


# ---------------------------------------------------------------- main --

def make_local_user():
    name = "wsmansoak%d" % os.getpid()
    subprocess.run(["/usr/sbin/useradd", "-M", "-s", "/bin/sh", name],
                   check=True, capture_output=True, timeout=30)
    import pwd
    return name, pwd.getpwnam(name).pw_uid


def remove_local_user(name, uid):
    for pid in H.user_pids(uid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.2)
    subprocess.run(["/usr/sbin/userdel", "-f", name], capture_output=True,
                   timeout=30)


def set_subreaper():
    """Orphans of nginx's tree (the shell host once the master is gone)
    come to this process, which reaps and counts them."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def scan_log(path, killed):
    """(expected kill lines, crash lines, other alert/crit/emerg lines,
    counts per level and of the shell host's answers to resent requests)."""
    kills, crashes, serious = 0, [], []
    levels = collections.Counter()
    with open(path, errors="replace") as f:
        for line in f:
            if "wsman shell host: Receive" in line and "came again" in line:
                levels["resent Receive answered from the kept reply"] += 1
            elif "wsman shell host: Send" in line and "came again" in line:
                levels["resent Send recognized, input taken once"] += 1
            for lvl in ("[emerg]", "[alert]", "[crit]", "[error]",
                        "[warn]", "[notice]", "[info]"):
                if lvl in line:
                    levels[lvl.strip("[]")] += 1
                    break
            if "exited on signal" in line:
                ok = False
                if "exited on signal 9" in line:
                    for pid in killed:
                        if "process %d exited" % pid in line:
                            ok = True
                if ok:
                    kills += 1
                else:
                    crashes.append(line.strip())
            elif ("[alert]" in line or "[crit]" in line
                  or "[emerg]" in line):
                serious.append(line.strip())
    return kills, crashes, serious, levels


def main():
    global T0
    soak_time = float(os.environ.get("SOAK_TIME", "600"))
    n_shells = int(os.environ.get("SOAK_SHELLS", "3"))
    every = float(os.environ.get("SOAK_SAMPLE",
                                 "5" if soak_time >= 300 else "2"))
    seed = int(os.environ.get("SOAK_SEED", str(int(time.time()))))
    scale = soak_time / 600.0
    reload_every = max(30 * scale, 5)
    kill_every = max(60 * scale, 10)
    pace = 0.02

    if os.geteuid() != 0:
        print("soak: needs root (useradd, commands run as another user)")
        return 2
    if not os.path.exists(conftest.SO):
        print("soak: module not built: %s (set WSMAN_SO)" % conftest.SO)
        return 2

    set_subreaper()
    rng = random.Random(seed)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="wsman-soak."))
    user, uid = make_local_user()
    shell_pw = "Soak-Shell-Pw%d" % rng.randint(1000, 9999)
    nginx = None
    failures_extra = []
    try:
        users = tmp / "users.htpasswd"
        conftest.write_user_file(users)
        with open(users, "a") as f:
            f.write("%s:%s:admins\n" % (user, conftest._hash(shell_pw,
                                                            "-6")))
        ntlm = infra.NtlmUsers(tmp / "ntlm")
        snippet = HTTP_SNIPPET.replace("@USERFILE@", str(users))
        nginx = conftest.Nginx(tmp / "prefix", snippet,
                               main_snippet=ntlm.nginx_env(), workers=2)
        nginx.start()
        master = nginx.proc.pid
        port = nginx.port

        T0 = time.time()
        sampler = Sampler(master, uid, every)
        time.sleep(1.0)
        idle_before = sampler.sample()
        sampler.start()

        basic_pw = conftest.USERS[BASIC_USER][0]
        threads = [
            threading.Thread(target=identify_loop, args=(port, pace),
                             name="identify"),
            threading.Thread(target=get_loop,
                             args=(port, pace, basic_pw), name="get"),
            threading.Thread(target=ntlm_loop,
                             args=(port, pace, ntlm.USERS[NTLM_USER]),
                             name="ntlm"),
            threading.Thread(target=enum_loop, args=(port, pace, basic_pw),
                             name="enum"),
        ]
        for i in range(n_shells):
            threads.append(threading.Thread(
                target=shell_loop,
                args=(port, user, shell_pw, "shell-%d" % i,
                      random.Random(seed + i)),
                name="shell-%d" % i))
        for t in threads:
            t.daemon = True
            t.start()
        chaos = Chaos(nginx, reload_every, kill_every, rng)
        chaos.start()

        print("soak: %ds, %d shell threads, reload every %.0fs, kill every "
              "%.0fs, seed %d, prefix %s" % (soak_time, n_shells,
                                             reload_every, kill_every,
                                             seed, tmp), flush=True)
        deadline = T0 + soak_time
        while time.time() < deadline:
            time.sleep(min(10, max(0, deadline - time.time())))
            with STATS.lock:
                done = sum(v for (k, o), v in STATS.counts.items()
                           if o == "ok")
                bad = len(STATS.failures)
            print("soak: %4.0fs  %d answers, %d interrupted, %d failures"
                  % (time.time() - T0, done, len(STATS.interruptions), bad),
                  flush=True)
        load_end = time.time() - T0
        STOP.set()
        chaos.join(30)
        for t in threads:
            t.join(HTTP_TIMEOUT + 60)
            if t.is_alive():
                failures_extra.append("thread %s did not finish" % t.name)

        # settle: old workers leave, commands end, shells whose Create was
        # retried idle out; then the idle state must match the one before
        # the load
        linger = IDLE_TIMEOUT + 2 if any(
            "creates retried" in k for k in STATS.notes) else 0
        settle_end = time.time() + IDLE_TIMEOUT + 20
        while time.time() < settle_end:
            s = sampler.sample()
            if (not s["old_workers"] and s["shell_procs"] == 0
                    and s["zombies"] == 0 and s["host"][1] is not None
                    and s["host"][1] <= idle_before["host"][1]
                    and time.time() - T0 > load_end + linger):
                break
            time.sleep(0.5)
        sampler.stop.set()
        sampler.join(10)
        idle_after = sampler.sample()

        # quit: nothing of the tree may stay behind
        tree = {master, idle_after["host_pid"]} | \
            {p for p, _, _ in idle_after["workers"]}
        nginx.stop()
        left = H.wait_until(lambda: [p for p in tree if p and
                                     proc_stat(p) and
                                     proc_stat(p)[1] != "Z"] == [], 15)
        reaped = 0
        for p in tree:
            if p and p != master:
                try:
                    if os.waitpid(p, os.WNOHANG)[0] == p:
                        reaped += 1
                except ChildProcessError:
                    pass
        time.sleep(0.3)
        after_quit = [p for p in tree if p and proc_stat(p)]
        after_quit_user = H.user_pids(uid)

        report, ok = build_report(
            soak_time, n_shells, reload_every, kill_every, seed, every,
            chaos, sampler, idle_before, idle_after, nginx, failures_extra,
            left, after_quit, after_quit_user, reaped, load_end)
        print(report)
        out = os.environ.get("SOAK_REPORT")
        if out:
            pathlib.Path(out).write_text(report + "\n")
        return 0 if ok else 1
    finally:
        STOP.set()
        if nginx is not None:
            nginx.stop()
        remove_local_user(user, uid)
        if not os.environ.get("SOAK_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def build_report(soak_time, n_shells, reload_every, kill_every, seed,
                 every, chaos, sampler, idle_before, idle_after, nginx,
                 failures_extra, quit_ok, after_quit, after_quit_user,
                 reaped, load_end):
    fails = list(STATS.failures) + failures_extra
    lines = []
    samples = sampler.samples

    # interruptions must coincide with a kill or a reload
    events = [t for t, _ in STATS.events]
    unexplained = [(k, a, b) for k, a, b in STATS.interruptions
                   if not any(a - EXPLAIN_SLACK <= e <= b + EXPLAIN_SLACK
                              for e in events)]
    for k, a, b in unexplained:
        fails.append("%s interrupted at %.1f-%.1fs, no kill or reload "
                     "nearby" % (k, a - T0, b - T0))

    kills, crashes, serious, levels = scan_log(nginx.error_log,
                                               chaos.killed)
    fails += ["crash: " + l for l in crashes]
    fails += ["error log: " + l for l in serious]

    if chaos.reloads < 2 or chaos.kills < 1:
        fails.append("chaos too small: %d reloads, %d kills"
                     % (chaos.reloads, chaos.kills))

    # the end state
    if idle_after["zombies"]:
        fails.append("%d zombies at the end" % idle_after["zombies"])
    if idle_after["shell_procs"]:
        fails.append("%d processes of the shell account left after all "
                     "shells ended" % idle_after["shell_procs"])
    if any(s["escaped"] for s in samples + [idle_after]):
        fails.append("a shell process escaped the shell host (max %d)" %
                     max(s["escaped"] for s in samples + [idle_after]))
    if idle_after["old_workers"]:
        fails.append("%d old workers still shutting down" %
                     len(idle_after["old_workers"]))
    if len(idle_after["workers"]) != 2:
        fails.append("%d workers at the end, want 2" %
                     len(idle_after["workers"]))
    if not quit_ok or after_quit or after_quit_user:
        fails.append("after quit: left %s, shell account %s" %
                     (after_quit, after_quit_user))

    # descriptors: idle before vs idle after
    fd_rows = []
    for role, get in (("master", lambda s: s["master"][1]),
                      ("shell host", lambda s: s["host"][1]),
                      ("workers (each)",
                       lambda s: max([f for _, _, f in s["workers"]],
                                     default=None))):
        a, b = get(idle_before), get(idle_after)
        fd_rows.append("| %s | %s | %s |" % (role, a, b))
        if a is None or b is None or b > a + FD_MARGIN:
            fails.append("%s descriptors: %s idle before, %s idle after"
                         % (role, a, b))

    # RSS: master and host, median of the end vs the start of the load
    loaded = [s for s in samples if s["t"] <= load_end]
    rss_rows = []
    for role, get in (("master", lambda s: s["master"][0]),
                      ("shell host", lambda s: s["host"][0])):
        a, b, g = growth(loaded, get)
        rss_rows.append("| %s | %s | %s | %s |" % (role, a, b, g))
        if g is not None and g > RSS_MARGIN_KB + a * RSS_MARGIN_PCT / 100:
            fails.append("%s RSS grew %s kB (%s -> %s)" % (role, g, a, b))
    a, b, g = growth(loaded, lambda s: max(
        [r for _, r, _ in s["workers"]], default=None))
    rss_rows.append("| workers (max of current) | %s | %s | %s |"
                    % (a, b, g))
    if g is not None and g > WORKER_RSS_MARGIN_KB:
        fails.append("workers' RSS grew %s kB (%s -> %s)" % (g, a, b))
    lives = [v for v in sampler.worker_life.values() if len(v) >= 3]
    life_growth = [v[-1][1] - v[0][1] for v in lives]

    width = 60 if soak_time >= 300 else 10
    unit = "s"
    lines.append("## Soak run: %ds, %d shell threads" % (soak_time,
                                                        n_shells))
    lines.append("")
    lines.append("Chaos: %d reloads (every %.0f s), %d workers SIGKILLed "
                 "(every %.0f s); seed %d; samples every %g s (%d)."
                 % (chaos.reloads, reload_every, chaos.kills, kill_every,
                    seed, every, len(samples)))
    lines.append("")
    lines.append("### Requests")
    lines.append("")
    lines.append("| kind | ok | expected faults | interrupted, retried "
                 "| failed |")
    lines.append("|---|---:|---|---:|---:|")
    kinds = sorted({k for k, _ in STATS.counts})
    for k in kinds:
        outs = {o: v for (kk, o), v in STATS.counts.items() if kk == k}
        ok = outs.pop("ok", 0)
        intr = outs.pop("interrupted", 0)
        bad = sum(v for o, v in outs.items()
                  if o in ("unanswered", "malformed", "error")
                  or o.startswith("http_") or o.startswith("unexpected"))
        faults = ", ".join("%s %d" % (o[6:], v) for o, v in
                           sorted(outs.items()) if o.startswith("fault:"))
        lines.append("| %s | %d | %s | %d | %d |" % (k, ok, faults or "-",
                                                   intr, bad))
    lines.append("")
    total_int = len(STATS.interruptions)
    lines.append("Interrupted requests: %d (all retried; %d not explained "
                 "by a kill or reload)." % (total_int, len(unexplained)))
    for what, n in sorted(STATS.notes.items()):
        lines.append("- %s: %d" % (what, n))
    lines.append("")
    lines.append("### Processes (first / min / max / last per window)")
    lines.append("")
    lines += curves_table(samples, width, unit)
    lines.append("")
    lines.append("Descriptors, idle before the load vs idle after it "
                 "(margin %d):" % FD_MARGIN)
    lines.append("")
    lines.append("| process | before | after |")
    lines.append("|---|---:|---:|")
    lines += fd_rows
    lines.append("")
    lines.append("RSS under load, median of the first fifth (after a "
                 "tenth of warm-up) vs the last fifth, kB (margin %d kB + "
                 "%d%% for master and host):" % (RSS_MARGIN_KB,
                                                 RSS_MARGIN_PCT))
    lines.append("")
    lines.append("| process | start | end | growth |")
    lines.append("|---|---:|---:|---:|")
    lines += rss_rows
    if life_growth:
        lines.append("")
        lines.append("Workers sampled 3+ times: %d; RSS growth over one "
                     "worker's life: median %s kB, max %s kB."
                     % (len(lives), median(life_growth), max(life_growth)))
    lines.append("")
    lines.append("End state: zombies %d, shell-account processes %d, "
                 "escaped %d (max during run %d), old workers %d; after "
                 "quit: %s left, %d reaped by the soak (reparented)."
                 % (idle_after["zombies"], idle_after["shell_procs"],
                    idle_after["escaped"],
                    max([s["escaped"] for s in samples] or [0]),
                    len(idle_after["old_workers"]),
                    len(after_quit) + len(after_quit_user), reaped))
    host = {k: v for k, v in levels.items() if " " in k}
    lines.append("Error log: %s; worker exits by our SIGKILL: %d; crashes: "
                 "%d; other alert/crit/emerg: %d." %
                 (", ".join("%s %d" % kv for kv in sorted(levels.items())
                            if kv[0] not in host),
                  kills, len(crashes), len(serious)))
    lines.append("Shell host: %s." % (", ".join(
        "%s: %d" % kv for kv in sorted(host.items())) or "no resent "
        "request reached it"))
    lines.append("")
    if fails:
        lines.append("### FAILED (%d)" % len(fails))
        lines.append("")
        lines += ["- " + f for f in fails[:50]]
    else:
        lines.append("Result: PASS")
    return "\n".join(lines), not fails


if __name__ == "__main__":
    sys.exit(main())
