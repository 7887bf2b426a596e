#!/usr/bin/python3
"""ngx_wsman event collector benchmarks: measurements, never pass/fail.

Starts the packaged nginx (worker_processes 2, loopback, a private temp
prefix on the same disk as the baseline's files) with the built module
and measures, each beside a baseline taken in the same run:

  events     Events batches (N events of ~1 KB Security 4624 events each,
             UTF-16 bodies with a BOM like Windows, Basic) posted by
             bench/wsman_load.c post on kept-alive connections, one
             source (user srcK) per connection, into the json_file
             output ($subscription/$source.jsonl).  Baseline: the same
             driver's `write` mode appending the bytes the output wrote
             for one batch with one write() + fdatasync() per batch, one
             thread per connection and a file each, in the same directory.
             Pairs of runs, baseline then case.  Also: worker CPU seconds
             per 10,000 events (/proc/<pid>/stat of the workers, before
             and after) and the driver's own CPU, and the driver posting
             the same body to a `return 200` location (its ceiling).
             With t/wef_source.py (the source simulator) in the tree, the
             same batch SLDC-compressed (`Content-Encoding: SLDC`) is
             run in each pair too.
  heartbeat  S simulated sources (bench/wsman_load.c beat: user srcK,
             its own kept-alive connection, m:MachineID srcK.bench.test),
             each heartbeating once per round: worker CPU seconds per
             1,000 heartbeats (rounds after the first), the first round
             (a new source: Basic check and the worker's table), and
             worker RSS per 1,000 sources with a kept-alive connection;
             baseline: the same sources posting the same body to a
             `return 200` location.
  callgrind  instructions per event and per heartbeat (valgrind
             --tool=callgrind, one process): the stable figure.
  store      the state store's write rate: S sources heartbeat once on a
             fresh subscription; the rows appear in the store in one
             transaction per worker after wsman_wec_heartbeat_flush; rows
             over (commit seen - first heartbeat sent - flush interval),
             a lower bound.  Then the same for S updates.  SQLite, and
             PostgreSQL when this build has that store kind and the test
             infrastructure a PostgreSQL server.

    /usr/bin/python3 bench/wec_bench.py [MODULE.so] [--seconds 3]
        [--rounds 5] [--connections 4] [--events 100] [--sources 10000]
        [--only events,heartbeat,store,callgrind] [--tiny] [--no-results]

(`make bench` runs it after bench/wrk_bench.py.)  --tiny (50 sources, 10
events a batch, short runs) is the smoke run of t/test_wec_bench.py.
--only, --tiny or --no-results leave bench/RESULTS.md alone.
"""

import argparse
import base64
import datetime
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "RESULTS.md")
BEGIN = "<!-- make bench wec: begin -->"
END = "<!-- make bench wec: end -->"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("so", nargs="?",
                    default=os.path.join(TOP, "build", "ngx_wsman_module.so"))
    ap.add_argument("--seconds", type=float, default=3,
                    help="length of one events run (default 3)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="pairs of baseline and events runs, and "
                         "heartbeat rounds after the first (default 5)")
    ap.add_argument("--connections", type=int, default=4,
                    help="kept-alive connections (sources) posting events "
                         "(default 4)")
    ap.add_argument("--events", type=int, default=100,
                    help="events per batch (default 100)")
    ap.add_argument("--sources", type=int, default=10000,
                    help="heartbeating sources (default 10000)")
    ap.add_argument("--only", default="",
                    help="comma-separated parts: events,heartbeat,store,"
                         "callgrind")
    ap.add_argument("--tiny", action="store_true",
                    help="the smoke run: 50 sources, 10 events a batch, "
                         "0.5-s runs, one round")
    ap.add_argument("--no-results", action="store_true",
                    help="print only, leave bench/RESULTS.md alone")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp dir (callgrind profiles for "
                         "callgrind_annotate, the outputs)")
    a = ap.parse_args(argv)
    if a.tiny:
        a.seconds, a.rounds, a.connections = 0.5, 1, 2
        a.events, a.sources = 10, 50
    return a


ARGS = parse_args()
SO = os.path.abspath(ARGS.so)

# the test suite's helpers read the module path when imported
os.environ["WSMAN_SO"] = SO
sys.path.insert(0, os.path.join(TOP, "t"))

import conftest as C          # noqa: E402  Nginx
import infra                  # noqa: E402  PostgreSQL (when there)
import wsman_helpers as H     # noqa: E402  HTTP client
import test_wec as W          # noqa: E402  the Enumerate of a source
import test_wec_delivery as D  # noqa: E402  Events, Heartbeat messages

UTF16_CT = W.UTF16_CT
QUERY = D.QUERY
WINDOW = 100                  # heartbeats in flight at once
# longer than a heartbeat round of every source: the store's figure
# assumes one flush per worker
FLUSH = 0.5 if ARGS.tiny else 6.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def want(part):
    return not ARGS.only or part in ARGS.only.split(",")


def raise_fd_limit(n):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(n, hard) if hard != resource.RLIM_INFINITY
                            else n, hard))


def sha_hash(pw):
    """{SHA}: a source's password costs a SHA-1, not a $6$ crypt (more
    sources than the 1,024 entries of a worker's Basic cache would pay a
    slow hash on every heartbeat; real sources use Kerberos or
    certificates)."""
    return "{SHA}" + base64.b64encode(hashlib.sha1(pw.encode()).digest()
                                      ).decode()


def user(k):
    return "src%d" % k, "Src-Pw-%d" % k


def basic(k):
    return H.basic(*user(k))


# ------------------------------------------------------------ events --

def security_event(record, k):
    """A 4624 (logon) as a Windows 10 source renders it: ~1 KB."""
    data = [("SubjectUserSid", "S-1-5-18"),
            ("SubjectUserName", "WIN10-%03d$" % (k % 1000)),
            ("SubjectDomainName", "WSMAN"),
            ("SubjectLogonId", "0x3e7"),
            ("TargetUserSid", "S-1-5-21-1004336348-1177238915-682003330-%d"
             % (1000 + record % 5000)),
            ("TargetUserName", "user%d" % (record % 977)),
            ("TargetDomainName", "WSMAN"),
            ("TargetLogonId", "0x%x" % (0x1a2b3c + record)),
            ("LogonType", "3"), ("LogonProcessName", "Kerberos"),
            ("AuthenticationPackageName", "Kerberos"),
            ("WorkstationName", "-"),
            ("LogonGuid", "{6f3d1b2a-%04x-4c5d-9e8f-0a1b2c3d4e5f}"
             % (record % 65536)),
            ("TransmittedServices", "-"), ("LmPackageName", "-"),
            ("KeyLength", "0"), ("ProcessId", "0x0"), ("ProcessName", "-"),
            ("IpAddress", "10.0.%d.%d" % (record % 250, k % 250)),
            ("IpPort", "%d" % (49152 + record % 16000)),
            ("ImpersonationLevel", "%%1833"),
            ("ElevatedToken", "%%1843")]
    return (
        "<Event xmlns='%s'><System><Provider Name='Microsoft-Windows-"
        "Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>"
        "<EventID>4624</EventID><Version>2</Version><Level>0</Level>"
        "<Task>12544</Task><Opcode>0</Opcode>"
        "<Keywords>0x8020000000000000</Keywords>"
        "<TimeCreated SystemTime='2026-12-06T10:%02d:%02d.%07dZ'/>"
        "<EventRecordID>%d</EventRecordID><Correlation ActivityID="
        "'{a1b2c3d4-0000-0000-0000-000000000000}'/>"
        "<Execution ProcessID='612' ThreadID='%d'/><Channel>Security"
        "</Channel><Computer>win10-%03d.wsman.test</Computer><Security/>"
        "</System><EventData>%s</EventData></Event>"
        % (D.EVENT_NS, record // 60 % 60, record % 60, record % 10000000,
           record, 700 + record % 50, k % 1000,
           "".join("<Data Name='%s'>%s</Data>" % kv for kv in data)))


def events_body(address, n):
    evs = [security_event(1000 + i, 7) for i in range(n)]
    xml, _ = D.delivery(address, D.ACTION_EVENTS, evs, bookmark=1000 + n,
                        machine="win10-007.wsman.test")
    return W.utf16(xml), sum(len(e) for e in evs) // n


def sldc_body(body):
    """body compressed as a Windows source does (t/wef_source.py, the
    source simulator, when this tree has it), or None."""
    try:
        import wef_source
    except ImportError:
        return None
    compress = getattr(wef_source, "sldc_compress", None)
    return compress(body) if compress else None


# ------------------------------------------------------------- server --

class Bench:

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wsman-wec-bench-")
        os.chmod(self.dir, 0o755)
        self.users = os.path.join(self.dir, "users.htpasswd")
        with open(self.users, "w") as f:
            for k in range(max(ARGS.sources, ARGS.connections)):
                name, pw = user(k)
                f.write("%s:%s\n" % (name, sha_hash(pw)))
        self.written = time.time()
        self.nginx = None
        self.driver = None
        self.store = None

    def snippet(self, store, baseline_size):
        store_line = ""
        if store:
            store_line = "    wsman_wec_store \"%s\";\n" % store
        subs = "".join("""
    wsman_wec_subscription %s {
        query '%s';
        output json_file @PREFIX@/events/$subscription/$source.jsonl;
    }""" % (name, QUERY) for name in ("bench", "beats", "fresh"))
        return """
%s    wsman_wec_heartbeat_flush %dms;
%s
    server {
        listen 127.0.0.1:@PORT@ reuseport;
        keepalive_requests 10000000;
        keepalive_timeout 600s;
        default_type "application/soap+xml;charset=UTF-8";
        location /wsman {
            wsman; wsman_wec on; wsman_auth basic;
            wsman_user_file %s;
            wsman_allow_unencrypted on;
            wsman_max_envelope_size 512k;
            # sources are not administrators: authenticated users may
            # read their subscriptions and deliver (as in a WEC setup)
            wsman_resource_sddl
                http://schemas.microsoft.com/wbem/wsman/1/SubscriptionManager
                "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;AU)";
            wsman_resource_sddl
                http://schemas.microsoft.com/wbem/wsman/1/windows/EventLog
                "O:NSG:BAD:P(A;;GA;;;BA)(A;;GX;;;AU)";
            client_max_body_size 4m;
            client_body_buffer_size 1m;
        }
        location = /baseline/post { return 200 "%s"; }
    }
""" % (store_line, int(FLUSH * 1000), subs, self.users,
            "x" * baseline_size)

    def start(self, store=None, baseline_size=1000):
        prefix = tempfile.mkdtemp(prefix="ngx-", dir=self.dir)
        os.chmod(prefix, 0o755)
        n = C.Nginx(prefix, self.snippet(store, baseline_size),
                    main_snippet="worker_rlimit_nofile %d;\n"
                    % (ARGS.sources * 2 + 4096))
        conf = n.conf.read_text()
        conf = conf.replace("worker_connections 256;",
                            "worker_connections %d;"
                            % (ARGS.sources + 1024))
        conf = conf.replace("logs/error.log info;", "logs/error.log warn;")
        n.conf.write_text(conf)
        r = n.test_config()
        if r.returncode != 0:
            raise RuntimeError("nginx -t: %s" % r.stderr)
        self.nginx = n.start()
        self.store = store
        return n

    def stop(self):
        if self.nginx:
            self.nginx.stop()
            self.nginx = None

    @property
    def port(self):
        return self.nginx.port

    def pids(self):
        out = []
        for pid in subprocess.run(["pgrep", "-P", str(self.nginx.proc.pid)],
                                  capture_output=True, text=True
                                  ).stdout.split():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if b"worker process" in f.read():
                        out.append(int(pid))
            except OSError:
                pass
        return out

    def worker_cpu(self):
        """CPU seconds (user + system, pool threads included) the workers
        used so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / tick

    def rss_kb(self):
        total = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/status" % pid) as f:
                    m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
                total += int(m.group(1)) if m else 0
            except OSError:
                pass
        return total

    def build_driver(self):
        if self.driver:
            return self.driver
        self.driver = os.path.join(self.dir, "wsman_load")
        subprocess.run(["cc", "-O2", "-Wall", "-o", self.driver,
                        os.path.join(HERE, "wsman_load.c"),
                        "-lgssapi_krb5", "-lcrypto", "-lpthread"],
                       check=True)
        return self.driver

    def file(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path

    def notify_to(self, name, k=0):
        """The NotifyTo path of subscription name, as source k gets it."""
        xml, mid = W.enumerate_request("127.0.0.1", self.port)
        c = H.Connection(self.port, timeout=30)
        try:
            r = c.request("POST", W.PATH, W.utf16(xml),
                          [("Content-Type", UTF16_CT),
                           ("Authorization", basic(k))])
        finally:
            c.close()
        if r.status != 200:
            raise RuntimeError("Enumerate failed: %r %s" % (
            r, W._text(r.body)[:1500]))
        sub = W.subscriptions(r.body, mid)[name]
        addr = sub.find("s:Envelope/s:Body/e:Subscribe/e:Delivery/"
                        "e:NotifyTo/a:Address", W.NS).text
        return addr, "/" + addr.split("/", 3)[3]


def run_driver(b, args, timeout):
    p = subprocess.run([b.build_driver()] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("wsman_load %s failed: %s" % (args[0], p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def settle_cache(b):
    # a user file changed less than 2 s ago is not cached (see
    # src/auth/ngx_wsman_auth_basic.c): do not measure in that window
    time.sleep(max(0, b.written + 3 - time.time()))


# ------------------------------------------------------- events part --

def count_lines(d):
    n = 0
    for root, _, files in os.walk(d):
        for f in files:
            if f.endswith(".jsonl"):
                with open(os.path.join(root, f), "rb") as fh:
                    n += sum(chunk.count(b"\n") for chunk in
                             iter(lambda: fh.read(1 << 20), b""))
    return n


def events(b):
    """Pairs of runs: the disk baseline, then the collector."""
    addr, path = b.notify_to("bench")
    body, event_size = events_body(addr, ARGS.events)
    bodyfile = b.file("events.body", body)
    auths = b.file("auths", "\n".join(basic(k) for k in
                                      range(ARGS.connections)) + "\n")
    outdir = os.path.join(str(b.nginx.prefix), "events", "bench")

    # one batch by hand: it is acknowledged, and the bytes the output
    # wrote for it are the baseline's batch
    c = H.Connection(b.port, timeout=30)
    r = c.request("POST", path, body, [("Content-Type", UTF16_CT),
                                       ("Authorization", basic(0))])
    c.close()
    if r.status != 200 or "/wsman/Ack<" not in W._text(r.body):
        raise RuntimeError("Events not acknowledged: %r %s\n%s"
                           % (r, W._text(r.body)[:1500],
                              b.nginx.read_log()[-2000:]))
    with open(os.path.join(outdir, "src0.jsonl"), "rb") as f:
        batch = f.read()
    if batch.count(b"\n") != ARGS.events:
        raise RuntimeError("the output has %d lines for %d events"
                           % (batch.count(b"\n"), ARGS.events))
    batchfile = b.file("batch.jsonl", batch)
    basedir = os.path.join(str(b.nginx.prefix), "baseline")
    os.makedirs(basedir)

    # SLDC, as Windows compresses deliveries (Compression=SLDC): with the
    # source simulator's compressor when this tree has it
    sldc = sldc_body(body)
    if sldc:
        c = H.Connection(b.port, timeout=30)
        r = c.request("POST", path, sldc, [("Content-Type", UTF16_CT),
                                           ("Content-Encoding", "SLDC"),
                                           ("Authorization", basic(0))])
        c.close()
        if r.status != 200 or "/wsman/Ack<" not in W._text(r.body):
            raise RuntimeError("SLDC Events not acknowledged: %r" % r)
        sldcfile = b.file("events.sldc", sldc)

    settle_cache(b)
    ceiling = run_driver(b, ["post", b.port, "/baseline/post", ARGS.seconds,
                             ARGS.connections, UTF16_CT, bodyfile, auths],
                         ARGS.seconds + 60)
    acked = 2 if sldc else 1
    runs, bases, ratios, sruns, sratios = [], [], [], [], []
    for _ in range(ARGS.rounds):
        log("  events: disk baseline ...")
        base = run_driver(b, ["write", basedir, ARGS.seconds,
                              ARGS.connections, batchfile],
                          ARGS.seconds + 60)
        base["eps"] = base["requests"] * ARGS.events / base["seconds"]
        bases.append(base)
        log("  events: collector ...")
        cpu = b.worker_cpu()
        res = run_driver(b, ["post", b.port, path, ARGS.seconds,
                             ARGS.connections, UTF16_CT, bodyfile, auths],
                         ARGS.seconds + 60)
        res["worker_cpu"] = b.worker_cpu() - cpu
        res["eps"] = res["requests"] * ARGS.events / res["seconds"]
        acked += res["requests"]
        runs.append(res)
        ratios.append(res["eps"] / base["eps"])
        if sldc:
            log("  events: collector, SLDC bodies ...")
            cpu = b.worker_cpu()
            res = run_driver(b, ["post", b.port, path, ARGS.seconds,
                                 ARGS.connections, UTF16_CT, sldcfile,
                                 auths, "Content-Encoding: SLDC"],
                             ARGS.seconds + 60)
            res["worker_cpu"] = b.worker_cpu() - cpu
            res["eps"] = res["requests"] * ARGS.events / res["seconds"]
            acked += res["requests"]
            sruns.append(res)
            sratios.append(res["eps"] / base["eps"])

    time.sleep(0.2)
    written = count_lines(os.path.join(str(b.nginx.prefix), "events"))
    key = sorted(range(len(runs)), key=lambda i: runs[i]["eps"])
    mid = key[len(key) // 2]
    events_total = sum(r["requests"] for r in runs) * ARGS.events
    cpu_total = sum(r["worker_cpu"] for r in runs)
    sl = None
    if sruns:
        smid = sorted(range(len(sruns)), key=lambda i: sruns[i]["eps"])[
            len(sruns) // 2]
        sevents = sum(r["requests"] for r in sruns) * ARGS.events
        sl = {"run": sruns[smid], "body": len(sldc),
              "ratio": sorted(sratios)[len(sratios) // 2],
              "ratios": sorted(sratios),
              "cpu_per_10k": sum(r["worker_cpu"] for r in sruns) * 10000
              / max(1, sevents),
              "driver_per_10k": sum(r["cpu_s"] for r in sruns) * 10000
              / max(1, sevents),
              "errors": sum(r["errors"] for r in sruns)}
    return {
        "sldc": sl,
        "run": runs[mid], "base": bases[mid],
        "ratio": sorted(ratios)[len(ratios) // 2], "ratios": sorted(ratios),
        "cpu_per_10k": cpu_total * 10000 / max(1, events_total),
        "driver_per_10k": sum(r["cpu_s"] for r in runs) * 10000
        / max(1, events_total),
        "ceiling_eps": ceiling["requests"] * ARGS.events
        / ceiling["seconds"],
        "event_size": event_size, "body": len(body),
        "batch_bytes": len(batch), "acked": acked,
        "written": written, "expected": acked * ARGS.events,
        "errors": sum(r["errors"] for r in runs),
    }


# ---------------------------------------------------- heartbeat part --

class Beat:
    """bench/wsman_load.c beat: the sources' connections, one round per
    line written to it."""

    def __init__(self, b, path, sources, machine="src@N@.bench.test",
                 addr="http://127.0.0.1/wsman/subscriptions/x"):
        xml, _ = D.delivery(addr, D.ACTION_HEARTBEAT, machine=machine)
        tpl = b.file("heartbeat.xml", xml)
        self.p = subprocess.Popen(
            [b.build_driver(), "beat", str(b.port), path, str(sources),
             str(WINDOW), tpl], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if not line.startswith("OPEN"):
            self.p.kill()
            raise RuntimeError("wsman_load beat could not connect")

    def round(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("wsman_load beat died")
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=60)


def settle():
    time.sleep(0.5)


def heartbeat(b):
    addr, path = b.notify_to("beats")
    settle_cache(b)
    settle()
    rss0 = b.rss_kb()
    log("  heartbeat: %d sources connecting ..." % ARGS.sources)
    beat = Beat(b, path, ARGS.sources, addr=addr)
    try:
        cpu = b.worker_cpu()
        first = beat.round()
        first["worker_cpu"] = b.worker_cpu() - cpu
        first["driver_cpu"] = first["cpu_s"]
        settle()
        rss1 = b.rss_kb()
        rounds = []
        for i in range(ARGS.rounds):
            log("  heartbeat: round %d ..." % (i + 2))
            cpu = b.worker_cpu()
            r = beat.round()
            r["worker_cpu"] = b.worker_cpu() - cpu
            # the driver reports its CPU so far
            r["driver_cpu"] = r["cpu_s"] - (rounds[-1] if rounds
                                            else first)["cpu_s"]
            rounds.append(r)
        rss2 = b.rss_kb()
    finally:
        beat.close()

    log("  heartbeat: baseline (return 200) ...")
    base = Beat(b, "/baseline/post", ARGS.sources, addr=addr)
    try:
        last = base.round()
        brounds = []
        for _ in range(ARGS.rounds):
            cpu = b.worker_cpu()
            r = base.round()
            r["worker_cpu"] = b.worker_cpu() - cpu
            r["driver_cpu"] = r["cpu_s"] - last["cpu_s"]
            last = r
            brounds.append(r)
    finally:
        base.close()

    def per_k(rs):
        n = sum(r["requests"] for r in rs)
        return {"n": n, "errors": sum(r["errors"] for r in rs),
                "rps": n / sum(r["seconds"] for r in rs),
                "cpu_per_k": sum(r["worker_cpu"] for r in rs) * 1000
                / max(1, n),
                "driver_per_k": sum(r["driver_cpu"] for r in rs) * 1000
                / max(1, n)}

    return {"first": per_k([first]), "steady": per_k(rounds),
            "base": per_k(brounds),
            "rss_per_k": (rss1 - rss0) * 1000.0 / ARGS.sources,
            "rss_after_rounds_per_k": (rss2 - rss0) * 1000.0 / ARGS.sources,
            "rss0": rss0, "sources": ARGS.sources}


# -------------------------------------------------------- store part --

SINCE_SQL = ("SELECT count(*) FROM wec_sources WHERE subscription = "
             "'%s' AND last_heartbeat >= %d")


def sqlite_counter(db):
    """count(sub, since): the rows of subscription sub heard of since."""
    def count(sub, since):
        try:
            con = sqlite3.connect("file:%s?mode=ro" % db, uri=True,
                                  timeout=5)
            try:
                return con.execute(SINCE_SQL % (sub, since)).fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            return 0
    return count


class PgCounter:
    """count(since) over one libpq connection (ctypes: the test machine
    has libpq, not psycopg)."""

    def __init__(self, conninfo):
        import ctypes
        pq = self.pq = ctypes.CDLL("libpq.so.5")
        pq.PQconnectdb.restype = ctypes.c_void_p
        pq.PQconnectdb.argtypes = [ctypes.c_char_p]
        pq.PQstatus.argtypes = [ctypes.c_void_p]
        pq.PQexec.restype = ctypes.c_void_p
        pq.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        pq.PQresultStatus.argtypes = [ctypes.c_void_p]
        pq.PQgetvalue.restype = ctypes.c_char_p
        pq.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                  ctypes.c_int]
        pq.PQclear.argtypes = [ctypes.c_void_p]
        pq.PQfinish.argtypes = [ctypes.c_void_p]
        self.conn = pq.PQconnectdb(conninfo.encode())
        if pq.PQstatus(self.conn) != 0:
            raise RuntimeError("cannot connect to PostgreSQL")

    def __call__(self, sub, since):
        res = self.pq.PQexec(self.conn, (SINCE_SQL % (sub, since)).encode())
        try:
            if self.pq.PQresultStatus(res) != 2:      # PGRES_TUPLES_OK
                return 0                              # no table yet
            return int(self.pq.PQgetvalue(res, 0, 0))
        finally:
            self.pq.PQclear(res)

    def close(self):
        self.pq.PQfinish(self.conn)


def wait_rows(count, sub, since, n, deadline):
    while time.time() < deadline:
        if count(sub, since) >= n:
            return time.time()
        time.sleep(0.005)
    raise RuntimeError("the store has %d of %d rows"
                       % (count(sub, since), n))


def store_rate(b, count):
    """Inserts, then updates, of every source's row: rows per second
    from the first heartbeat sent to the last commit, less the flush
    interval the rows wait in the workers."""
    # each worker opens the store (and makes the tables) on its first
    # flush: a few sources on their own connections do that first
    addr, path = b.notify_to("beats")
    warm = Beat(b, path, 20, addr=addr)
    since = int(time.time())
    warm.round()
    warm.close()
    wait_rows(count, "beats", since, 20, time.time() + FLUSH + 120)
    addr, path = b.notify_to("fresh")
    settle_cache(b)
    beat = Beat(b, path, ARGS.sources, addr=addr)
    try:
        out = {}
        for kind in ("insert", "update"):
            # last_heartbeat has 1-s resolution: start on a new second
            time.sleep(1.05 - time.time() % 1)
            since = int(time.time())
            t0 = time.time()
            r = beat.round()
            if r["errors"]:
                raise RuntimeError("%d heartbeats failed" % r["errors"])
            done = wait_rows(count, "fresh", since, ARGS.sources,
                             t0 + FLUSH + 120)
            wait = done - t0 - FLUSH
            if r["seconds"] >= FLUSH:
                # the first flush left out the sources heard of later
                raise RuntimeError("the heartbeat round took %.1f s, more "
                                   "than the flush interval" % r["seconds"])
            out[kind] = {"rows": ARGS.sources,
                         "seconds": max(wait, 0.001),
                         "round": r["seconds"]}
        return out
    finally:
        beat.close()


def store_kinds():
    """The store kinds this module knows, asked of nginx -t."""
    kinds = []
    d = tempfile.mkdtemp(prefix="probe-", dir=BENCH.dir)
    for kind, addr in (("sqlite", "sqlite:%s/probe.db" % d),
                       ("postgresql", "postgresql:host=127.0.0.1")):
        n = C.Nginx(d, "wsman_wec_store %s;" % addr)
        if n.test_config().returncode == 0:
            kinds.append(kind)
    return kinds


# ---------------------------------------------------- callgrind part --

def callgrind(b):
    """Instructions per event and per heartbeat in one nginx process
    (master_process off, the pool threads counted with it) under
    valgrind --tool=callgrind, as bench/callgrind_requests.py counts
    them per request: stable to a fraction of a percent, unlike CPU
    time on a shared machine."""
    if shutil.which("valgrind") is None:
        return None
    d = tempfile.mkdtemp(prefix="cg-", dir=b.dir)
    os.chmod(d, 0o755)
    out = os.path.join(d, "callgrind.out")
    n = C.Nginx(os.path.join(d, "ngx"), b.snippet(None, 1000), workers=1,
                wrapper=["valgrind", "--tool=callgrind",
                         "--callgrind-out-file=" + out, "--dump-instr=no"])
    conf = n.conf.read_text().replace("master_process on;",
                                      "master_process off;")
    n.conf.write_text(conf.replace("logs/error.log info;",
                                   "logs/error.log warn;"))
    n.start()
    b.nginx = n
    nbatch, nbeat = 20, 500
    try:
        addr, path = b.notify_to("bench")
        body, _ = events_body(addr, ARGS.events)
        conn = H.Connection(n.port, timeout=300)

        def post(data, k):
            r = conn.request("POST", path, data,
                             [("Content-Type", UTF16_CT),
                              ("Authorization", basic(k))])
            if r.status != 200:
                raise RuntimeError("callgrind run: %r" % r)

        beats = [W.utf16(D.delivery(addr, D.ACTION_HEARTBEAT,
                                    machine="src%d.bench.test" % k)[0])
                 for k in range(nbeat)]
        settle_cache(b)
        pid = str(n.proc.pid)
        for _ in range(3):
            post(body, 0)
        subprocess.run(["callgrind_control", "-z", pid], check=True,
                       capture_output=True)
        for _ in range(nbatch):
            post(body, 0)
        subprocess.run(["callgrind_control", "-d", "events", pid],
                       check=True, capture_output=True)
        # each source once (a new one), then again (a known one)
        for k in range(nbeat):
            post(beats[k], k)
        subprocess.run(["callgrind_control", "-z", pid], check=True,
                       capture_output=True)
        for k in range(nbeat):
            post(beats[k], k)
        subprocess.run(["callgrind_control", "-d", "beats", pid],
                       check=True, capture_output=True)
        conn.close()
    finally:
        n.stop()
        b.nginx = None

    res = {"batch": nbatch, "nbeats": nbeat}
    for fn in glob.glob(out + "*"):
        with open(fn) as f:
            text = f.read()
        for key in ("events", "beats"):
            if "Trigger: dump %s" % key in text:
                res[key] = int(re.search(r"^(?:summary|totals): (\d+)",
                                         text, re.M).group(1))
    if "events" not in res or "beats" not in res:
        return None
    res["per_event"] = res["events"] / (nbatch * ARGS.events)
    res["per_beat"] = res["beats"] / nbeat
    return res

# ------------------------------------------------------------- report --

def fmt_sldc(e):
    sl = e["sldc"]
    r = sl["run"]
    per_core = 10000 / sl["cpu_per_10k"] if sl["cpu_per_10k"] else 0
    return [
        "| figure | collector, SLDC bodies (%d bytes) |" % sl["body"],
        "|---|---:|",
        "| events/s | %.0f |" % r["eps"],
        "| batch p50 / p99 | %s / %s |" % (ms(r["p50_us"]),
                                            ms(r["p99_us"])),
        "| ratio to the same pairs' baseline (median; lowest–highest) | "
        "**%.2f** (%s) |" % (sl["ratio"], "–".join(
            "%.2f" % x for x in (sl["ratios"][0], sl["ratios"][-1]))),
        "| worker CPU s per 10,000 events | **%.3f** |" % sl["cpu_per_10k"],
        "| events per worker CPU second (per core) | **%.0f** |" % per_core,
        "| driver CPU s per 10,000 events | %.3f |" % sl["driver_per_10k"],
        "| failed batches | %d |" % sl["errors"],
    ]


def fmt_events(e):
    r, base = e["run"], e["base"]
    per_core = 10000 / e["cpu_per_10k"] if e["cpu_per_10k"] else 0
    return [
        "| figure | collector | baseline |", "|---|---:|---:|",
        "| events/s (batches of %d, %d kept-alive connections) | %.0f | "
        "%.0f |" % (ARGS.events, ARGS.connections, r["eps"], base["eps"]),
        "| batches/s | %.0f | %.0f |" % (r["requests"] / r["seconds"],
                                         base["requests"] / base["seconds"]),
        "| batch p50 / p99 | %s / %s | %s / %s |"
        % (ms(r["p50_us"]), ms(r["p99_us"]), ms(base["p50_us"]),
           ms(base["p99_us"])),
        "| ratio to the baseline (median of %d pairs; lowest–highest) | "
        "**%.2f** (%s) | target ≥ 0.5: %s |"
        % (len(e["ratios"]), e["ratio"],
           "–".join("%.2f" % x for x in (e["ratios"][0], e["ratios"][-1])),
           "met" if e["ratio"] >= 0.5 else "**missed**"),
        "| worker CPU s per 10,000 events (all runs) | **%.3f** | — |"
        % e["cpu_per_10k"],
        "| events per worker CPU second (per core) | **%.0f** | target ≥ "
        "20,000: %s |" % (per_core, "met" if per_core >= 20000
                          else "**missed**"),
        "| driver CPU s per 10,000 events | %.3f | — |"
        % e["driver_per_10k"],
        "| driver ceiling: same body to `return 200`, events/s | %.0f | — |"
        % e["ceiling_eps"],
        "| failed batches (not acknowledged) | %d | — |" % e["errors"],
        "| events in the files / acknowledged × batch | %d / %d | — |"
        % (e["written"], e["expected"]),
    ]


def fmt_heartbeat(h):
    s, f, base = h["steady"], h["first"], h["base"]
    return [
        "| figure | collector | baseline (`return 200`) |",
        "|---|---:|---:|",
        "| heartbeats/s, %d sources, %d in flight | %.0f | %.0f |"
        % (h["sources"], WINDOW, s["rps"], base["rps"]),
        "| worker CPU s per 1,000 heartbeats (rounds 2–%d) | **%.3f** | "
        "%.3f |" % (ARGS.rounds + 1, s["cpu_per_k"], base["cpu_per_k"]),
        "| worker CPU s per 1,000 heartbeats of new sources (round 1: "
        "Basic check, a new row in the table) | %.3f | — |"
        % f["cpu_per_k"],
        "| worker RSS per 1,000 sources, each with a kept-alive connection "
        "after one heartbeat | **%.0f kB** | — |" % h["rss_per_k"],
        "| the same after %d more rounds | %.0f kB | — |"
        % (ARGS.rounds, h["rss_after_rounds_per_k"]),
        "| driver CPU s per 1,000 heartbeats (rounds 2–%d) | %.3f | %.3f |"
        % (ARGS.rounds + 1, s["driver_per_k"], base["driver_per_k"]),
        "| failed heartbeats | %d | %d |" % (s["errors"] + f["errors"],
                                             base["errors"]),
    ]


def fmt_store(rates):
    out = ["| store | rows | inserts: seconds, rows/s | updates: seconds, "
           "rows/s |", "|---|---:|---:|---:|"]
    for kind, r in rates:
        out.append("| %s | %d | %.3f s, **%.0f** | %.3f s, **%.0f** |"
                   % (kind, r["insert"]["rows"], r["insert"]["seconds"],
                      r["insert"]["rows"] / r["insert"]["seconds"],
                      r["update"]["seconds"],
                      r["update"]["rows"] / r["update"]["seconds"]))
    return out


def ms(us):
    return "%.2f ms" % (us / 1000.0) if us >= 1000 else "%d µs" % us


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
        if m:
            model = m.group(1).strip()
    return "%s, %d CPUs (nproc)" % (model, os.cpu_count())


def write_results(text):
    with open(RESULTS) as f:
        old = f.read()
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
    else:
        head, tail = old.rstrip("\n") + "\n\n# Event collection\n\n", "\n"
    with open(RESULTS, "w") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)


BENCH = None


def main():
    global BENCH
    raise_fd_limit(ARGS.sources * 2 + 4096)
    cmd = "make bench"
    if os.environ.get("MAKELEVEL") is None:
        cmd = ("/usr/bin/python3 bench/wec_bench.py "
               + " ".join(sys.argv[1:])).strip()
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    log("module %s" % SO)

    b = BENCH = Bench()
    ev = hb = cg = None
    rates, skipped = [], []
    try:
        kinds = store_kinds() if want("store") else []
        store = None
        if "sqlite" in kinds:
            store = "sqlite:%s/state.db" % b.dir
        if want("events"):
            b.start(store)
            ev = events(b)
            b.stop()
        if want("heartbeat"):
            # a server of its own: the events' large buffers left in the
            # workers' heaps would hide what the connections take
            b.start(store)
            hb = heartbeat(b)
            b.stop()
        if want("store"):
            if "sqlite" in kinds:
                log("  store: sqlite ...")
                db = os.path.join(b.dir, "rate.db")
                b.start("sqlite:%s" % db)
                rates.append(("SQLite (`sqlite:PATH`, WAL, "
                              "synchronous=NORMAL)",
                              store_rate(b, sqlite_counter(db))))
                b.stop()
            else:
                skipped.append("SQLite: this build has no `wsman_wec_store "
                               "sqlite:` (the store is not in this tree)")
            pg_class = getattr(infra, "Postgres", None)
            if ARGS.tiny:
                pass
            elif "postgresql" not in kinds:
                skipped.append("PostgreSQL: this build has no "
                               "`wsman_wec_store postgresql:`")
            elif pg_class is None or not (pg_class.BIN / "postgres").exists():
                skipped.append("PostgreSQL: no PostgreSQL 15 server here "
                               "(t/infra.py Postgres, Debian's postgresql)")
            else:
                log("  store: postgresql ...")
                pg_dir = tempfile.mkdtemp(prefix="pg-", dir=b.dir)
                pg = pg_class(pg_dir).start()
                try:
                    b.start("postgresql:" + pg.conninfo)
                    count = PgCounter(pg.conninfo)
                    try:
                        rates.append(("PostgreSQL 15 (`postgresql:"
                                      "CONNINFO`, loopback TCP, same disk)",
                                      store_rate(b, count)))
                    finally:
                        count.close()
                        b.stop()
                finally:
                    pg.stop()
        if want("callgrind") and not ARGS.tiny:
            log("  callgrind: instructions per event and heartbeat ...")
            cg = callgrind(b)
    finally:
        b.stop()

    text = ["Machine: %s; the same disk (%s) for the outputs and the "
            "baseline." % (machine(), fs_of(b.dir)),
            "Date: %s. Command: `%s`." % (date, cmd), ""]
    if ev:
        text += [
            "## Events into the json_file output", "",
            "bench/wsman_load.c post: %d kept-alive connections, each a "
            "source of its own (Basic, `{SHA}` user file) posting the same "
            "Events batch for %gs: %d events of %d bytes (4624 logons as "
            "Windows renders them), %d bytes in UTF-16 with a BOM; the "
            "output is `json_file .../$subscription/$source.jsonl` (one "
            "write() under flock(), fdatasync() before the Ack), %d bytes "
            "per batch.  Baseline: bench/wsman_load.c write, %d threads "
            "appending those bytes to a file each, one write() + "
            "fdatasync() per batch, same directory.  %d pairs, baseline "
            "then collector; the columns are the median pair's.  Worker "
            "CPU: user + system of both workers (their pool threads "
            "included) over all the collector's runs.  %s"
            % (ARGS.connections, ARGS.seconds, ARGS.events,
               ev["event_size"], ev["body"], ev["batch_bytes"],
               ARGS.connections, ARGS.rounds,
               "" if ev["sldc"] else "Plain bodies only: the "
               "SLDC-compressing source simulator (t/wef_source.py) is not "
               "in this tree."), ""]
        text += fmt_events(ev) + [""]
        if ev["sldc"]:
            text += ["The same batch compressed with SLDC (t/wef_source.py's "
                     "compressor, `Content-Encoding: SLDC`), posted in the "
                     "same pairs right after the plain run:", ""]
            text += fmt_sldc(ev) + [""]
    if hb:
        text += [
            "## Heartbeats of %d sources" % ARGS.sources, "",
            "bench/wsman_load.c beat: %d sources (users src0…, `{SHA}` "
            "hashes: more sources than a worker's 1,024-entry Basic cache "
            "would pay the user file's hash on every heartbeat), one "
            "kept-alive connection each, %d requests in flight; a round is "
            "one Heartbeat (UTF-16) of every source.  Worker RSS: both "
            "workers' VmRSS after the first round less before the sources "
            "connected.  Baseline: the same sources and body to `location "
            "= /baseline/post { return 200 ...; }`."
            % (ARGS.sources, WINDOW), ""]
        text += fmt_heartbeat(hb) + [""]
    if cg:
        text += [
            "## Instructions (callgrind)", "",
            "One nginx process (`master_process off`, its pool threads "
            "with it) under valgrind --tool=callgrind, one kept-alive "
            "connection: %d Events batches of %d events after 3 of "
            "warm-up, then %d heartbeats of sources already heard of "
            "(after one each).  User-space instructions of nginx, the "
            "module and the libraries; the kernel's (write(), "
            "fdatasync()) are not in them." % (cg["batch"], ARGS.events,
                                               cg["nbeats"]), "",
            "| figure | instructions |", "|---|---:|",
            "| per event (in batches of %d) | **%.0f** |"
            % (ARGS.events, cg["per_event"]),
            "| per heartbeat | **%.0f** |" % cg["per_beat"], ""]
    if rates or skipped:
        text += [
            "## State store write rate", "",
            "%d sources heartbeat once on a subscription new to the store; "
            "each worker writes the sources it heard of in one transaction "
            "wsman_wec_heartbeat_flush (%gs) after its first; the rows are "
            "counted by polling the store every 5 ms.  Seconds: from the "
            "first heartbeat sent to the last row seen, less the flush "
            "interval (an upper bound: the rate is a lower bound).  Then "
            "the same %d rows again (updates)."
            % (ARGS.sources, FLUSH, ARGS.sources), ""]
        if rates:
            text += fmt_store(rates) + [""]
        for s in skipped:
            text.append("Not measured: %s." % s)
        text.append("")
    text = "\n".join(text) + "\n"
    print(text)
    if not (ARGS.no_results or ARGS.only or ARGS.tiny):
        write_results(text)
        log("wrote %s" % RESULTS)
    if ARGS.keep:
        log("kept %s" % b.dir)
    else:
        shutil.rmtree(b.dir, ignore_errors=True)


def fs_of(path):
    p = subprocess.run(["df", "-T", path], capture_output=True, text=True)
    try:
        dev, fstype = p.stdout.splitlines()[1].split()[:2]
        return "%s, %s" % (dev, fstype)
    except (IndexError, ValueError):
        return "?"


if __name__ == "__main__":
    main()
