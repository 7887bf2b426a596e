#!/usr/bin/python3
"""ngx_wsman benchmarks: measurements, never pass/fail tests.

Starts the packaged nginx (worker_processes 2, loopback, a private temp
prefix) with the built module and measures, against a baseline taken in
the same run on the same nginx:

  throughput   wrk (POST bodies through bench/wrk/*.lua): anonymous
               Identify, Identify and Get(config) with Basic, a whole
               Enumerate+Pull of CIM_Process; bench/wsman_load.c for Get
               with NTLM message encryption on kept-alive connections
               (wrk cannot do the handshake).  Each baseline is a
               location that answers `return 200` with a body of the same
               size, driven by the same tool with the same request.
  shell        p50 of a WinRS round trip (Create, Command `true`, Receive
               until Done, Delete on one kept-alive connection) against a
               plain fork + exec + wait of /bin/true, both timed by
               bench/wsman_load.c
  memory       worker RSS per 1,000 idle kept-alive authenticated
               connections (Basic and NTLM), shell host RSS per 1,000 idle
               shells, worker peak RSS enumerating 100,000 items
               (bench/enum_memory.py)

prints the tables and rewrites the generated part of bench/RESULTS.md.

    /usr/bin/python3 bench/wrk_bench.py [MODULE.so] [--seconds 2]
        [--rounds 7] [--only wrk,ntlm,shell,memory,enum] [--no-results]

(`make bench` runs it with the built module.)  --only or --no-results
leave bench/RESULTS.md alone.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "RESULTS.md")
BEGIN = "<!-- make bench: begin -->"
END = "<!-- make bench: end -->"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("so", nargs="?",
                    default=os.path.join(TOP, "build", "ngx_wsman_module.so"))
    ap.add_argument("--seconds", type=float, default=2,
                    help="length of one load run (default 2)")
    ap.add_argument("--rounds", type=int, default=7,
                    help="pairs of baseline and case runs (default 7)")
    ap.add_argument("--connections", type=int, default=16,
                    help="wrk connections (default 16)")
    ap.add_argument("--only", default="",
                    help="comma-separated parts: wrk,ntlm,shell,memory,enum")
    ap.add_argument("--no-results", action="store_true",
                    help="print only, leave bench/RESULTS.md alone")
    return ap.parse_args()


ARGS = parse_args()
SO = os.path.abspath(ARGS.so)

# the test suite's helpers read the module path when imported
os.environ["WSMAN_SO"] = SO
sys.path.insert(0, os.path.join(TOP, "t"))
sys.path.insert(0, HERE)

import conftest as C          # noqa: E402  Nginx, users' password hashes
import infra                  # noqa: E402  gss-ntlmssp user file
import wsman_gss as G         # noqa: E402  multipart/encrypted framing
import wsman_helpers as H     # noqa: E402  envelopes, HTTP client
import enum_memory            # noqa: E402  the 100,000-item enumeration

enum_memory.SO = SO

BASIC_USER, BASIC_PW = "bench", "Bench-Pw-6x!"
NTLM_USER = "bob"
NTLM_PW = infra.NtlmUsers.USERS[NTLM_USER]
NTLM_DOMAIN = infra.NtlmUsers.DOMAIN
CIM_PROCESS = H.class_uri("CIM_Process")
PULL_MAX = 50
IDLE = 1000

# one token of nginx.conf must fit its 4k read buffer: longer baseline
# bodies are made of these
CHUNK = 2048


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def want(part):
    return not ARGS.only or part in ARGS.only.split(",")


# ------------------------------------------------------------- server --

class Bench:
    """The prefix, users and the running nginx."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wsman-bench-")
        self.shell_user = "root" if os.geteuid() == 0 else \
            __import__("pwd").getpwuid(os.geteuid()).pw_name
        self.shell_pw = "Shell-Pw-7y!"
        self.users = os.path.join(self.dir, "users.htpasswd")
        # SHA-512 crypt, as a real user file has it: Basic must not pay
        # for it on every request
        with open(self.users, "w") as f:
            f.write("%s:%s:admins\n" % (BASIC_USER,
                                        C._hash(BASIC_PW, "-6")))
            f.write("%s:%s:admins\n" % (self.shell_user,
                                        C._hash(self.shell_pw, "-6")))
            f.write("%s:*:admins\n" % NTLM_USER)
        self.written = time.time()
        self.ntlm = infra.NtlmUsers(os.path.join(self.dir, "ntlm"))
        self.nginx = None
        self.driver = None

    def snippet(self, baselines):
        maps, locs = [], []
        for name, size in sorted(baselines.items()):
            body = "x" * (size % CHUNK) + "$wsman_bench_chunk" * (size // CHUNK)
            locs.append('        location = /baseline/%s { return 200 "%s"; }'
                        % (name, body))
        if any(size >= CHUNK for size in baselines.values()):
            maps.append('    map "" $wsman_bench_chunk { default "%s"; }'
                        % ("x" * CHUNK))
        loc = ("wsman; wsman_user_file %s; wsman_shell_max_per_user 5000;"
               % self.users)
        if self.shell_user == "root":
            # the benchmark's commands run as the invoking user: root here
            loc += " wsman_shell_allow_root on;"
        return """
%s
    server {
        listen 127.0.0.1:@PORT@;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
        default_type "application/soap+xml;charset=UTF-8";
        location /wsman { %s wsman_auth basic negotiate;
                          wsman_allow_unencrypted on; }
        location /enc   { %s wsman_auth negotiate; }
%s
    }
""" % ("\n".join(maps), loc, loc, "\n".join(locs))

    def start(self, baselines):
        prefix = tempfile.mkdtemp(prefix="ngx-", dir=self.dir)
        n = C.Nginx(prefix, self.snippet(baselines),
                    main_snippet=self.ntlm.nginx_env()
                    + "worker_rlimit_nofile 8192;\n")
        conf = n.conf.read_text()
        conf = conf.replace("worker_connections 256;",
                            "worker_connections 4096;")
        conf = conf.replace("logs/error.log info;", "logs/error.log warn;")
        n.conf.write_text(conf)
        self.nginx = n.start()
        return n

    def stop(self):
        if self.nginx:
            self.nginx.stop()
            self.nginx = None

    @property
    def port(self):
        return self.nginx.port

    def pids(self, title):
        out = []
        for pid in subprocess.run(["pgrep", "-P", str(self.nginx.proc.pid)],
                                  capture_output=True, text=True
                                  ).stdout.split():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if title in f.read().decode(errors="replace"):
                        out.append(int(pid))
            except OSError:
                pass
        return out

    def rss_kb(self, title):
        return sum(status_kb(p, "VmRSS") for p in self.pids(title))

    def worker_cpu(self):
        """CPU seconds (user + system) the workers used so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids("worker process"):
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / tick

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


def status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            m = re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M)
    except OSError:
        return 0
    return int(m.group(1)) if m else 0


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(n, hard) if hard != resource.RLIM_INFINITY
                            else n, hard))


# -------------------------------------------------------------- cases --

def basic_headers(user=BASIC_USER, pw=BASIC_PW):
    return [("Content-Type", H.SOAP_CT), ("Authorization", H.basic(user, pw))]


class Case:
    """One throughput figure: how to load it and its target ratio."""

    def __init__(self, name, label, target=None):
        self.name = name                # baseline location name
        self.label = label
        self.target = target
        self.baseline_size = None


class WrkCase(Case):

    def __init__(self, name, label, body, headers, target=None,
                 script="post.lua", extra_env=None, threads=1,
                 connections=None, path="/wsman"):
        Case.__init__(self, name, label, target)
        self.body = body
        self.headers = headers
        self.script = script
        self.extra_env = extra_env or {}
        self.threads = threads
        self.connections = connections or ARGS.connections
        self.path = path

    def probe(self, b):
        """The response body size for the baseline."""
        r = H.request(b.port, "POST", self.path, self.body, self.headers)
        assert r.status == 200, r
        return len(r.body)

    def env(self, b):
        e = dict(os.environ)
        e["BENCH_BODY"] = b.file("%s.body" % self.name, self.body)
        e["BENCH_HEADERS"] = "\n".join("%s: %s" % h for h in self.headers)
        for k, v in self.extra_env.items():
            e[k] = b.file("%s.%s" % (self.name, k), v)
        return e

    def run(self, b, baseline):
        if baseline:
            script, path = "post.lua", "/baseline/" + self.name
        else:
            script, path = self.script, self.path
        cmd = ["wrk", "-t%d" % self.threads, "-c%d" % self.connections,
               "-d%ds" % max(1, int(ARGS.seconds)), "--latency",
               "-s", os.path.join(HERE, "wrk", script),
               "http://127.0.0.1:%d%s" % (b.port, path)]
        p = subprocess.run(cmd, env=self.env(b), capture_output=True,
                           text=True, timeout=ARGS.seconds + 60)
        m = re.search(r"^WRK_JSON (.*)$", p.stdout, re.M)
        if p.returncode != 0 or not m:
            raise RuntimeError("wrk failed: %s %s" % (p.stdout, p.stderr))
        res = json.loads(m.group(1))
        res["rps"] = res["requests"] / res["seconds"]
        return res


class EnumCase(WrkCase):
    """Whole enumerations of CIM_Process: Enumerate, then Pull until
    EndOfSequence, one connection per wrk thread."""

    def __init__(self):
        enum_xml, _ = H.enumerate_request(CIM_PROCESS)
        pull_xml, _ = H.pull_request("@CONTEXT@", CIM_PROCESS,
                                     max_elements=PULL_MAX)
        WrkCase.__init__(self, "enumerate",
                         "Enumerate+Pull CIM_Process, Basic (per request)",
                         enum_xml, basic_headers(), script="enumerate.lua",
                         extra_env={"BENCH_PULL": pull_xml}, threads=2,
                         connections=2)
        self.pull = pull_xml
        self.per_enum = None

    def probe(self, b):
        """Mean answer size over one whole enumeration (the baseline
        answers every request with that much)."""
        conn = H.Connection(b.port, timeout=30)
        sizes = []
        r = conn.request("POST", "/wsman", self.body, self.headers)
        sizes.append(len(r.body))
        ctx = re.search(r"EnumerationContext>([^<]+)<", r.text).group(1)
        while True:
            r = conn.request("POST", "/wsman",
                             self.pull.replace("@CONTEXT@", ctx),
                             self.headers)
            assert r.status == 200, r
            sizes.append(len(r.body))
            if "EndOfSequence" in r.text:
                break
        conn.close()
        self.per_enum = len(sizes)
        return sum(sizes) // len(sizes)


class NtlmCase(Case):
    """Get(config) sealed with NTLM on kept-alive connections, by
    bench/wsman_load.c; its baseline is the same driver posting as many
    bytes to a `return 200` location with the sealed answer's size."""

    def __init__(self, xml):
        Case.__init__(self, "ntlm",
                      "Get config, NTLM sealed, kept-alive", 0.5)
        self.xml = xml
        self.request_size = len(G.build_encrypted(b"s" * 16,
                                                  b"x" * len(xml.encode()),
                                                  len(xml.encode())))

    def probe(self, b):
        s = G.Session(b.port, "/enc", gss=G.GssClient(
            "ntlm", user=NTLM_USER, password=NTLM_PW, domain=NTLM_DOMAIN))
        r = s.authenticate()
        assert r.status == 200, r
        r, plain = s.send_encrypted(self.xml)
        assert r.status == 200 and plain and b"Config" in plain, r
        s.close()
        return len(r.body)

    def run(self, b, baseline):
        drv = b.build_driver()
        conns = str(max(1, ARGS.connections // 2))
        secs = str(ARGS.seconds)
        if baseline:
            cmd = [drv, "plain", str(b.port), "/baseline/ntlm", secs, conns,
                   str(self.request_size)]
        else:
            cmd = [drv, "ntlm", str(b.port), "/enc", secs, conns, NTLM_USER,
                   NTLM_PW, NTLM_DOMAIN, b.file("ntlm.xml", self.xml)]
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=ARGS.seconds + 60)
        if p.returncode != 0:
            raise RuntimeError("wsman_load failed: %s" % p.stderr)
        res = json.loads(p.stdout.strip().splitlines()[-1])
        res["rps"] = res["requests"] / res["seconds"]
        return res


def make_cases():
    get_xml, _ = H.config_get()
    cases = []
    if want("wrk"):
        cases += [
            WrkCase("identify-anon", "Identify, anonymous", H.IDENTIFY,
                    [("Content-Type", H.SOAP_CT),
                     ("WSMANIDENTIFY", "unauthenticated")], target=0.8),
            WrkCase("identify-basic", "Identify, Basic", H.IDENTIFY,
                    basic_headers()),
            WrkCase("get-basic", "Get config, Basic", get_xml,
                    basic_headers(), target=0.7),
        ]
    if want("ntlm"):
        cases.append(NtlmCase(get_xml))
    if want("wrk"):
        cases.append(EnumCase())
    return cases


def median_run(runs):
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def measure(b, cases):
    """Pairs of runs, baseline then case, back to back: on a shared
    machine the load changes from one minute to the next, much less
    within a pair.  The ratio is the median of the pairs' ratios; the
    other figures come from the median run."""
    # a user file changed less than 2 s ago is not cached (see
    # src/auth/ngx_wsman_auth_basic.c): do not measure in that window
    time.sleep(max(0, b.written + 3 - time.time()))
    rows = []
    for case in cases:
        runs = {True: [], False: []}
        ratios = []
        for _ in range(ARGS.rounds):
            for baseline in (True, False):
                log("  %s%s ..." % (case.label,
                                    " (baseline)" if baseline else ""))
                cpu = b.worker_cpu()
                res = case.run(b, baseline)
                res["cpu_us"] = (b.worker_cpu() - cpu) * 1e6 / max(
                    1, res["requests"])
                runs[baseline].append(res)
            ratios.append(runs[False][-1]["rps"] / runs[True][-1]["rps"])
        ratios.sort()
        rows.append((case, median_run(runs[False]), median_run(runs[True]),
                     ratios[len(ratios) // 2], ratios))
    return rows


# -------------------------------------------------------------- shell --

class ShellSession:
    """WinRS over one kept-alive connection with Basic."""

    def __init__(self, b):
        self.conn = H.Connection(b.port, timeout=60)
        self.headers = basic_headers(b.shell_user, b.shell_pw)

    def post(self, xml, action):
        r = self.conn.request("POST", "/wsman", xml, self.headers)
        if r.status != 200 or H.header_text(r, "a", "Action") != action:
            raise RuntimeError("%s failed: %r" % (action, r))
        return r

    def create(self):
        xml, _ = H.create_shell_request()
        return H.shell_id_of(self.post(xml, H.ACTION_CREATE + "Response"))

    def command(self, sid, cmd):
        xml, _ = H.command_request(sid, cmd)
        r = self.post(xml, H.ACTION_COMMAND + "Response")
        return H.body_child(r).find("rsp:CommandId", H.NS).text.strip()

    def receive(self, sid, cid):
        while True:
            xml, _ = H.receive_request(sid, cid)
            rr = H.ReceiveResult(self.post(xml, H.ACTION_RECEIVE
                                           + "Response"), cid)
            if rr.done:
                return rr.exit_code

    def delete(self, sid):
        xml, _ = H.delete_shell_request(sid)
        self.post(xml, H.ACTION_DELETE + "Response")

    def round_trip(self):
        sid = self.create()
        cid = self.command(sid, "true")
        code = self.receive(sid, cid)
        self.delete(sid)
        if code != 0:
            raise RuntimeError("`true` exited with %r" % code)

    def close(self):
        self.conn.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def shell_latency(b):
    """Round trips by bench/wsman_load.c (raw SOAP from templates, so
    that the client costs next to nothing) and fork + exec + wait of
    /bin/true by the same driver."""
    s = ShellSession(b)
    for _ in range(5):
        s.round_trip()                  # warm-up, and proof it works
    s.close()
    tpl = tempfile.mkdtemp(prefix="shell-", dir=b.dir)
    for name, (xml, _) in (
            ("create", H.create_shell_request()),
            ("command", H.command_request("@SHELL@", "true")),
            ("receive", H.receive_request("@SHELL@", "@COMMAND@")),
            ("delete", H.delete_shell_request("@SHELL@"))):
        with open(os.path.join(tpl, name + ".xml"), "w") as f:
            f.write(xml)
    drv = b.build_driver()
    res = {}
    for key, cmd in (
            ("shell", [drv, "shell", str(b.port), "/wsman", str(ARGS.seconds),
                       H.basic(b.shell_user, b.shell_pw), tpl]),
            ("spawn", [drv, "spawn", str(ARGS.seconds), "/bin/true"])):
        p = subprocess.run(cmd, capture_output=True, text=True, check=True,
                           timeout=ARGS.seconds + 60)
        res[key] = json.loads(p.stdout)
    return {"n": res["shell"]["requests"], "errors": res["shell"]["errors"],
            "p50": res["shell"]["p50_us"], "p99": res["shell"]["p99_us"],
            "spawn_n": res["spawn"]["requests"],
            "spawn_p50": res["spawn"]["p50_us"],
            "spawn_p99": res["spawn"]["p99_us"]}


# ------------------------------------------------------------- memory --

def settle():
    time.sleep(0.5)


def idle_basic(b, n):
    """Worker RSS growth while n kept-alive connections sit idle, each
    after one Get with Basic."""
    xml, _ = H.config_get()
    warm = [H.Connection(b.port) for _ in range(50)]
    for c in warm:
        assert c.request("POST", "/wsman", xml, basic_headers()).status == 200
        c.close()
    settle()
    before = b.rss_kb("worker process")
    conns = []
    for _ in range(n):
        c = H.Connection(b.port, timeout=30)
        r = c.request("POST", "/wsman", xml, basic_headers())
        assert r.status == 200, r
        conns.append(c)
    settle()
    after = b.rss_kb("worker process")
    for c in conns:
        c.close()
    return after - before


def idle_ntlm(b, n):
    """The same with NTLM: each connection keeps its security context,
    identity and SIDs (bench/wsman_load.c idle)."""
    xml, _ = H.config_get()
    drv = b.build_driver()
    cmd = [drv, "idle", str(b.port), "/enc", "%d", NTLM_USER, NTLM_PW,
           NTLM_DOMAIN, b.file("ntlm-idle.xml", xml)]
    warm = cmd[:]
    warm[4] = "50"
    subprocess.run(warm, input="", capture_output=True, text=True,
                   check=True, timeout=120)
    settle()
    before = b.rss_kb("worker process")
    cmd[4] = str(n)
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    line = p.stdout.readline()
    if line.strip() != "READY":
        p.kill()
        raise RuntimeError("wsman_load idle failed")
    settle()
    after = b.rss_kb("worker process")
    p.stdin.close()
    p.wait(timeout=60)
    return after - before


def idle_shells(b, n):
    """Shell host RSS growth with n idle shells (then deleted again)."""
    s = ShellSession(b)
    s.delete(s.create())
    settle()
    before = b.rss_kb("wsman shell host")
    ids = [s.create() for _ in range(n)]
    settle()
    after = b.rss_kb("wsman shell host")
    for sid in ids:
        s.delete(sid)
    s.close()
    return after - before


# ------------------------------------------------------------- report --

def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
        if m:
            model = m.group(1).strip()
    with open("/proc/meminfo") as f:
        mem = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
    debian = ""
    if os.path.exists("/etc/debian_version"):
        with open("/etc/debian_version") as f:
            debian = "Debian " + f.read().strip() + ", "
    nginx = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True,
                           text=True).stderr.strip().split("/")[-1]
    return ("%s, %d CPUs (nproc), %.0f GiB; %skernel %s; nginx %s "
            "(Debian package)" % (model, os.cpu_count(), mem / 1048576,
                                  debian, platform.release(), nginx))


def ms(us):
    return "%.2f ms" % (us / 1000.0) if us >= 1000 else "%d µs" % us


def fmt_throughput(rows):
    out = ["| case | req/s | p50 | p99 | errors | baseline req/s "
           "(body bytes) | ratio | target | met? | worker CPU µs/req, "
           "case / baseline |",
           "|---|---:|---:|---:|---:|---:|---:|---:|:---:|---:|"]
    for case, res, base, ratio, ratios in rows:
        target = "≥ %.1f" % case.target if case.target else "—"
        met = "—" if not case.target else \
            ("yes" if ratio >= case.target else "**no**")
        label = case.label
        if isinstance(case, EnumCase) and res.get("enumerations"):
            label += ": %.0f whole enumerations/s, %d requests each" % (
                res["enumerations"] / res["seconds"], case.per_enum)
        out.append("| %s | %.0f | %s | %s | %d | %.0f (%d) | %.2f (%s) | %s "
                   "| %s | %.0f / %.0f |"
                   % (label, res["rps"], ms(res["p50_us"]), ms(res["p99_us"]),
                      res["errors"], base["rps"], case.baseline_size, ratio,
                      "–".join("%.2f" % r for r in (ratios[0], ratios[-1])),
                      target, met, res["cpu_us"], base["cpu_us"]))
    return out


def fmt_shell(sh):
    ratio = sh["p50"] / sh["spawn_p50"]
    return ["| | p50 | p99 | runs |", "|---|---:|---:|---:|",
            "| shell round trip: Create, Command `true` (run as `/bin/sh -c "
            "true`), Receive until Done, Delete; one kept-alive connection, "
            "Basic; bench/wsman_load.c shell (%d errors) | %s | %s | %d |"
            % (sh["errors"], ms(sh["p50"]), ms(sh["p99"]), sh["n"]),
            "| fork + exec + wait of /bin/true (bench/wsman_load.c spawn) "
            "| %s | %s | %d |" % (ms(sh["spawn_p50"]), ms(sh["spawn_p99"]),
                                  sh["spawn_n"]),
            "", "Round trip / fork+exec p50: **%.1f×** (target ≤ 3×: %s)."
            % (ratio, "met" if ratio <= 3 else "**missed**")]


def fmt_memory(mem):
    out = ["| figure | value | target | met? |", "|---|---:|---:|:---:|"]
    for label, kb, target_mb in mem:
        met = "—" if target_mb is None else \
            ("yes" if kb / 1024.0 <= target_mb else "**no**")
        out.append("| %s | %.1f MB | %s | %s |" % (
            label, kb / 1024.0,
            "≤ %d MB" % target_mb if target_mb else "—", met))
    return out


def fmt_enum(rows):
    out = ["| items | items/s | worker peak RSS (kB) | peak growth (kB) |",
           "|---:|---:|---:|---:|"]
    for n, rate, peak, grow in rows:
        out.append("| %d | %.0f | %d | %d |" % (n, rate, peak, grow))
    return out


def write_results(text):
    try:
        with open(RESULTS) as f:
            old = f.read()
    except FileNotFoundError:
        old = "# Benchmark results\n\n%s\n%s\n" % (BEGIN, END)
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
    else:
        head, tail = "# Benchmark results\n\n", "\n" + old
    with open(RESULTS, "w") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)


def main():
    if shutil.which("wrk") is None:
        subprocess.run([os.path.join(TOP, "scripts", "apt-need"), "wrk"],
                       check=True)
    raise_fd_limit(IDLE * 2 + 256)

    cmd = "make bench"
    if os.environ.get("MAKELEVEL") is None:
        cmd = "/usr/bin/python3 bench/wrk_bench.py " + " ".join(sys.argv[1:])
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    log("module %s" % SO)

    b = Bench()
    cases = make_cases()
    rows, sh, mem, enum_rows = [], None, [], []
    try:
        # answer sizes first, then the server with a baseline per case
        if cases:
            b.start({})
            for case in cases:
                case.baseline_size = case.probe(b)
            b.stop()
        b.start({c.name: c.baseline_size for c in cases})
        rows = measure(b, cases)
        if want("shell"):
            log("  shell round trip ...")
            sh = shell_latency(b)
        if want("memory"):
            log("  %d idle connections, %d idle shells ..." % (IDLE, IDLE))
            mem.append(("worker RSS per %d idle kept-alive connections "
                        "after a Get with Basic" % IDLE,
                        idle_basic(b, IDLE), None))
            mem.append(("worker RSS per %d idle kept-alive NTLM connections "
                        "(context, identity, SIDs) after a sealed Get" % IDLE,
                        idle_ntlm(b, IDLE), None))
            mem.append(("shell host RSS per %d idle shells" % IDLE,
                        idle_shells(b, IDLE), 64))
    finally:
        b.stop()

    if want("enum") or want("memory"):
        sizes = (1000, 10000, 100000) if want("enum") else (100000,)
        for n in sizes:
            log("  enumerating %d items ..." % n)
            enum_rows.append((n,) + enum_memory.run(n, 500))
        mem.append(("worker peak RSS (VmHWM) enumerating 100,000 items "
                    "(bench/enum_memory.py)", enum_rows[-1][2], None))

    text = ["Machine: %s." % machine(), "Date: %s. Command: `%s`." % (date, cmd),
            "Every figure is from the same run: nginx with `worker_processes "
            "2` on loopback, wrk/driver on the same 2 CPUs.", ""]
    if rows:
        text += ["## Throughput", "",
                 "wrk -t1 -c%d (whole enumerations: -t2 -c2), %gs per run; "
                 "NTLM: bench/wsman_load.c with %d kept-alive connections. "
                 "Each case and its baseline (`location = /baseline/<case> "
                 "{ return 200 \"<as many bytes as the case's answer>\"; }` "
                 "on the same server, same request, same tool) ran as %d "
                 "pairs, baseline then case back to back. The ratio is the "
                 "median over the pairs of the case's req/s over its "
                 "baseline's (lowest–highest pair in brackets); the other "
                 "columns are the median run's. Worker CPU is the user + "
                 "system time of the two nginx workers per request during "
                 "that run (the clients' CPU is not in it)."
                 % (ARGS.connections, ARGS.seconds,
                    max(1, ARGS.connections // 2), ARGS.rounds), ""]
        text += fmt_throughput(rows) + [""]
    if sh:
        text += ["## Shell round trip", ""] + fmt_shell(sh) + [""]
    if mem:
        text += ["## Memory", ""] + fmt_memory(mem) + [""]
    if want("enum"):
        text += ["## Enumeration memory and throughput "
                 "(`bench/enum_memory.py`)", "",
                 "Enumerate + Pull (MaxElements 500, one keep-alive "
                 "connection) over the synthetic class `NGX_Sequence`. "
                 "\"Peak growth\" is how much the workers' peak RSS (VmHWM) "
                 "rose during the enumeration, after a small warm-up.", ""]
        text += fmt_enum(enum_rows) + [""]
    text = "\n".join(text) + "\n"
    print(text)
    if not ARGS.no_results and not ARGS.only:
        write_results(text)
        log("wrote %s" % RESULTS)


if __name__ == "__main__":
    main()
