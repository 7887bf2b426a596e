"""pytest fixtures: run the real Debian nginx with the ngx_wsman module.

Run from the project root:
    WSMAN_SO=$PWD/build/ngx_wsman_module.so /usr/bin/python3 -m pytest -q t/
"""

import base64
import hashlib
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import wsman_helpers as H  # noqa: E402

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
SO = os.path.abspath(os.environ.get("WSMAN_SO",
                    str(HERE.parent / "build" / "ngx_wsman_module.so")))

# the C unit tests in t/unit are driven by their own Makefile
collect_ignore_glob = ["unit/*"]

# ---------------------------------------------------------------- users --

# name -> (password, hash kind, groups).  Every server gets
# `wsman_group_sid admins BA;` (see Nginx), so members of "admins" pass the
# default RootSDDL; henry has no group (denied by it), rita is a reader
# (test_sddl maps "readers" to ER).
USERS = {
    "alice": ("Alice-Pw-6b1f!x", "-6", "admins,ops"),
    "bob": ("Bob-Pw-5c2e?y", "-5", "admins"),
    "carol": ("Carol-Pw-1d3a#z", "-1", "ops,admins"),
    "dave": ("Dave-Pw-apr1q", "-apr1", "admins"),
    "erin": ("Erin-Pw-plain7", "PLAIN", "admins"),
    "frank": ("Frank-Pw-sha9k", "SHA", "admins"),
    "grace": ("g:r:a:c:e-Pw", "-6", "admins"),     # colons in the password
    "henry": ("Henry-Pw-nogroup1", "-6", ""),
    "rita": ("Rita-Pw-reader2", "-6", "readers"),
}
ALL_PASSWORDS = [u[0] for u in USERS.values()]


def _hash(password, kind):
    if kind == "PLAIN":
        return "{PLAIN}" + password
    if kind == "SHA":
        digest = hashlib.sha1(password.encode()).digest()
        return "{SHA}" + base64.b64encode(digest).decode()
    out = subprocess.run(["/usr/bin/openssl", "passwd", kind, "-stdin"],
                         input=password.encode(), check=True,
                         capture_output=True)
    return out.stdout.decode().strip()


def write_user_file(path):
    lines = ["# ngx_wsman test users", ""]
    for name, (pw, kind, groups) in USERS.items():
        line = "%s:%s" % (name, _hash(pw, kind))
        if groups:
            line += ":" + groups
        lines.append(line)
    pathlib.Path(path).write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------- nginx --

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# The access check (RootSDDL) denies users without a group SID, so every
# server maps the user-file group "admins" to BUILTIN\Administrators unless
# it is made with group_sids=False.
DEFAULT_GROUP_SIDS = "    wsman_group_sid admins BA;\n"


# every server started in this session; the log watcher looks at all of them
RUNNING = []




def nginx_env():
    """The environment nginx starts with.  `make sanitize` loads an
    ASan/UBSan build of the module: the sanitizer runtimes are preloaded
    into nginx only (WSMAN_NGINX_PRELOAD), never into the test clients."""
    env = dict(os.environ)
    for name in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        value = os.environ.get("WSMAN_NGINX_" + name.replace("LD_", ""))
        if value:
            env[name] = " ".join(value.split())
    return env

class Nginx:
    """One private nginx instance (master + 2 workers) under a tmp prefix."""

    def __init__(self, prefix, http_snippet, port=None, main_snippet="",
                 group_sids=True, workers=2, worker_user=None, wrapper=()):
        self.prefix = pathlib.Path(prefix)
        # a command nginx runs under (valgrind), its processes with it
        self.wrapper = list(wrapper)
        self.port = port or free_port()
        self.logs = self.prefix / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.error_log = self.logs / "error.log"
        self.wsman_log = self.logs / "wsman.log"
        self.conf = self.prefix / "nginx.conf"
        self.proc = None
        p = self.prefix
        # as root: workers as worker_user (deployments use www-data), or
        # as root when none is given
        user = ("user %s;\n" % (worker_user or "root")
                if os.geteuid() == 0 else "")
        http_snippet = http_snippet.replace("@PORT@", str(self.port)) \
                                   .replace("@PREFIX@", str(p))
        base = DEFAULT_GROUP_SIDS if group_sids else ""
        self.conf.write_text(f"""load_module {SO};
{user}worker_processes {workers};
master_process on;
daemon off;
pid {p}/logs/nginx.pid;
error_log {p}/logs/error.log info;
{main_snippet}
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
{base}{http_snippet}
}}
""")

    def cmd(self, *extra):
        return [*self.wrapper, NGINX, "-p", str(self.prefix),
                "-c", str(self.conf), "-e", str(self.error_log), *extra]

    def test_config(self):
        """Run `nginx -t`; returns CompletedProcess (text)."""
        return subprocess.run(self.cmd("-t"), capture_output=True,
                              text=True, timeout=30, env=nginx_env())

    def start(self):
        self.error_log.touch()
        self.proc = subprocess.Popen(self.cmd(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=nginx_env())
        RUNNING.append(self)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError("nginx exited (rc=%s): %s\n%s" % (
                    self.proc.returncode, err, self.read_log()[-3000:]))
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         0.2).close()
            except OSError:
                time.sleep(0.05)
                continue
            # the master listens before workers exist; wait until a worker
            # actually answers
            try:
                st, _, _ = H.raw_request(self.port, "GET", "/__ping__",
                                         timeout=1)
                if st:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not come up on port %d" % self.port)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def read_log(self, offset=0):
        try:
            with open(self.error_log, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_size(self):
        try:
            return self.error_log.stat().st_size
        except FileNotFoundError:
            return 0

    def url(self, path="/wsman"):
        return "http://127.0.0.1:%d%s" % (self.port, path)


MAIN_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/wsman.log wsman;
        location /wsman { wsman; wsman_auth basic; wsman_user_file @USERFILE@; wsman_allow_unencrypted on; }
        location /strict { wsman; wsman_auth basic; wsman_user_file @USERFILE@; }
        location /small { wsman; wsman_auth basic; wsman_user_file @USERFILE@; wsman_allow_unencrypted on; wsman_max_envelope_size 8k; wsman_max_timeout 30s; }
        location /nego { wsman; wsman_auth negotiate kerberos basic; wsman_user_file @USERFILE@; wsman_allow_unencrypted on; }
        location / { return 200 "static site\\n"; }
    }
"""


# Debian's account for nginx workers: test servers run their workers as it,
# as deployments do (WSMAN_TEST_WORKER_USER=root brings back root workers)
WORKER_USER = os.environ.get("WSMAN_TEST_WORKER_USER", "www-data")


def worker_ids():
    """(uid, gid) of the workers' account."""
    import pwd
    pw = pwd.getpwnam(WORKER_USER)
    return pw.pw_uid, pw.pw_gid


def worker_dirs(n, *names):
    """Folders under nginx n's prefix that its workers write into
    (theirs when the tests run as root, as CI does)."""
    for name in names:
        (n.prefix / name).mkdir()
        if os.geteuid() == 0:
            os.chown(n.prefix / name, *worker_ids())


@pytest.fixture(scope="session", autouse=True)
def _traversable_tmp(tmp_path_factory):
    """Unprivileged workers read files the tests make (user files,
    keytabs, prefixes): every tmp dir of this session is traversable
    (see pytest_configure for the base)."""
    os.chmod(tmp_path_factory.getbasetemp(), 0o711)
    mktemp = tmp_path_factory.mktemp

    def traversable(*args, **kw):
        path = mktemp(*args, **kw)
        os.chmod(path, 0o755)
        return path

    tmp_path_factory.mktemp = traversable
    yield


@pytest.fixture(scope="session")
def user_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("users")
    path = d / "users.htpasswd"
    write_user_file(path)
    return path


@pytest.fixture(scope="session")
def users():
    return USERS


@pytest.fixture(scope="session")
def nginx_factory(tmp_path_factory, user_file):
    """make(http_snippet, start=True, main_snippet="", group_sids=True,
    workers=2, worker_user=WORKER_USER, wrapper=()) -> Nginx.  @PORT@, @PREFIX@ and
    @USERFILE@ are substituted in the snippet; main_snippet goes to the
    main context (`env ...;`); group_sids=False leaves out the default
    `wsman_group_sid admins BA;`; the workers run as worker_user (when the
    tests run as root), www-data unless a test needs root workers;
    wrapper: a command line nginx runs under (valgrind ...).
    Servers are stopped at the end of the session."""
    made = []

    def make(http_snippet, start=True, main_snippet="", group_sids=True,
             workers=2, worker_user=WORKER_USER, wrapper=()):
        if not os.path.exists(SO):
            pytest.fail("module not built: %s (set WSMAN_SO)" % SO)
        pfx = tmp_path_factory.mktemp("ngx")
        snippet = http_snippet.replace("@USERFILE@", str(user_file))
        n = Nginx(pfx, snippet, main_snippet=main_snippet,
                  group_sids=group_sids, workers=workers,
                  worker_user=worker_user, wrapper=wrapper)
        made.append(n)
        if start:
            n.start()
        return n

    yield make
    for n in made:
        n.stop()


@pytest.fixture(scope="session")
def server(nginx_factory):
    """The main server with /wsman, /strict, /small, /nego and /."""
    return nginx_factory(MAIN_HTTP)


@pytest.fixture(scope="session")
def client(server):
    return H.Client(server.port, USERS)


# a worker that died of an error (sanitizers exit with 1) is as bad as a
# crash; a clean exit logs code 0
_WORKER_FAILED = re.compile(
    r"(worker|helper) process \d+ exited with code [1-9]")


@pytest.fixture(autouse=True)
def _log_guard(request):
    """After every test: no [alert]/[crit]/[emerg], no crashed or failed
    worker and no sanitizer report in any error log written during the
    test.  A test that kills workers itself names the lines it causes
    with @pytest.mark.log_allows("text", ...)."""
    before = {id(n): n.log_size() for n in RUNNING}
    marker = request.node.get_closest_marker("log_allows")
    allowed = marker.args if marker else ()
    yield
    # give a worker that is still finishing a request a moment to log
    time.sleep(0.02)
    problems = []
    for n in list(RUNNING):
        new = n.read_log(before.get(id(n), 0))
        for line in new.splitlines():
            if any(a in line for a in allowed):
                continue
            if ("[alert]" in line or "[crit]" in line or "[emerg]" in line
                    or "exited on signal" in line
                    or _WORKER_FAILED.search(line)
                    or "runtime error:" in line          # UBSan
                    or "Sanitizer" in line):
                problems.append("%s: %s" % (n.prefix.name, line))
    if problems:
        pytest.fail("error log gained serious lines:\n" +
                    "\n".join(problems[:20]), pytrace=False)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "log_allows(*texts): error log lines the test causes "
        "on purpose (a worker it kills)")
    # pytest keeps its tmp root private (/tmp/pytest-of-root, 0700, reset
    # at every start): a base of our own, made traversable for the workers
    # by _traversable_tmp, removed at the end of a run that passed
    if os.geteuid() == 0 and not config.option.basetemp:
        config.option.basetemp = tempfile.mkdtemp(prefix="wsman-pytest-")
        config._wsman_basetemp = config.option.basetemp


def pytest_sessionfinish(session, exitstatus):
    for n in RUNNING:
        n.stop()
    base = getattr(session.config, "_wsman_basetemp", None)
    if base and exitstatus == 0:
        shutil.rmtree(base, ignore_errors=True)


# ------------------------------------------ authentication infrastructure --
# A KDC, NTLM users, certificates, PAM services and the Go client, made
# once per session (see infra.py).

import infra  # noqa: E402


@pytest.fixture(scope="session")
def realm(tmp_path_factory):
    """A running KDC for WSMAN.TEST.  The client side of this process
    (python3-gssapi, curl, pywinrm subprocesses) uses its krb5.conf and
    alice's ccache through KRB5_CONFIG/KRB5CCNAME in os.environ."""
    for tool in ("/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util",
                 "/usr/bin/kinit"):
        if not os.path.exists(tool):
            pytest.fail("%s missing: install krb5-kdc krb5-admin-server "
                        "krb5-user (see t/README.md)" % tool)
    r = infra.Realm(tmp_path_factory.mktemp("krb5")).start()
    saved = {k: os.environ.get(k) for k in r.env}
    os.environ.update(r.env)
    yield r
    r.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def ntlm_users(tmp_path_factory):
    return infra.NtlmUsers(tmp_path_factory.mktemp("ntlm"))


@pytest.fixture(scope="session")
def auth_env(realm, ntlm_users):
    """nginx main-context lines that pass the Kerberos and NTLM settings
    to the workers (nginx clears its environment)."""
    return realm.nginx_env() + ntlm_users.nginx_env()


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return infra.Pki(tmp_path_factory.mktemp("pki")).make()


@pytest.fixture(scope="session")
def pam_services(tmp_path_factory):
    p = infra.PamServices(tmp_path_factory.mktemp("pam"))
    if not p.available():
        pytest.skip("PAM tests need root and pam_exec.so")
    p.make()
    yield p
    p.remove()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A running PostgreSQL 15 cluster (infra.Postgres): .conninfo for
    `wsman_wec_store postgresql:...`, .stop() and .start() for outages."""
    if not (infra.Postgres.BIN / "postgres").exists():
        pytest.fail("PostgreSQL 15 missing: apt-get install postgresql")
    pg = infra.Postgres(tmp_path_factory.mktemp("postgres")).start()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def goclient(tmp_path_factory):
    try:
        return infra.build_goclient(tmp_path_factory.mktemp("goclient"))
    except (OSError, RuntimeError) as e:
        pytest.fail("cannot build t/goclient (golang-go, "
                    "golang-github-masterzen-winrm-dev): %s" % e)


# One server for the Negotiate/Kerberos/NTLM tests:
#   /wsman  negotiate kerberos basic, AllowUnencrypted on (masterzen's NTLM
#           client sends plaintext and always posts to /wsman)
#   /enc    negotiate kerberos basic, AllowUnencrypted off (the default):
#           over plain HTTP only encrypted SOAP is accepted
#   /kerb   the Kerberos scheme only (Windows event forwarding style)
#   /cbt    negotiate kerberos with wsman_cbt_hardening strict
# and the same over TLS on tls_port.
GSS_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        listen 127.0.0.1:@TLSPORT@ ssl;
        ssl_certificate @PKI@/server.pem;
        ssl_certificate_key @PKI@/server.key;
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_keytab @KEYTAB@;
        wsman_user_file @USERFILE@;
        location /wsman { wsman; wsman_auth negotiate kerberos basic;
                          wsman_allow_unencrypted on; }
        location /enc   { wsman; wsman_auth negotiate kerberos basic; }
        location /kerb  { wsman; wsman_auth kerberos; }
        location /cbt   { wsman; wsman_auth negotiate kerberos;
                          wsman_cbt_hardening strict; }
    }
"""


@pytest.fixture(scope="session")
def gss_server(nginx_factory, auth_env, realm, pki):
    tls_port = free_port()
    snippet = pki.conf(GSS_HTTP.replace("@TLSPORT@", str(tls_port))
                       .replace("@KEYTAB@", str(realm.keytab)))
    n = nginx_factory(snippet, main_snippet=auth_env)
    n.tls_port = tls_port
    return n


# ------------------------------- resources and enumeration (issue [3]) --
# One server with 4 workers, so that Pulls on new connections land on
# different workers (the enumeration contexts live in shared memory).

INV_LOC = ("wsman; wsman_auth basic; wsman_user_file @USERFILE@; "
           "wsman_allow_unencrypted on;")
INV_HTTP = """
    log_format inv '$pid|$wsman_action|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@ reuseport;
        access_log @PREFIX@/logs/inv.log inv;
        location /wsman { %(loc)s }
        location /batch5 { %(loc)s wsman_max_batch_items 5; }
        location /short { %(loc)s wsman_enumeration_timeout 1s; }
    }
""" % {"loc": INV_LOC}


@pytest.fixture(scope="session")
def inv_server(nginx_factory):
    """/wsman (defaults), /batch5 (wsman_max_batch_items 5), /short
    (wsman_enumeration_timeout 1s); 4 workers behind a reuseport socket
    (the kernel spreads new connections over them); logs/inv.log has
    '$pid|$wsman_action|$wsman_fault' per request."""
    return nginx_factory(INV_HTTP, workers=4)


@pytest.fixture(scope="session")
def inv_client(inv_server):
    return H.Client(inv_server.port, USERS)


@pytest.fixture(scope="module")
def sleepers():
    """20 `sleep 300` children of the test process (a stable subset of the
    process table)."""
    procs = [subprocess.Popen(["sleep", "300"]) for _ in range(20)]
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


# ------------------------------------------------------ WinRS shells [4] --
# Shell commands run as the caller's local account, so these servers use
# their own user file whose names are real local accounts: root, nobody and
# a throw-away account made for the session (useradd -M, removed again).
# "alice" has no local account; "daemon" is local but not in admins (no GX).

SHELL_PASSWORDS = {
    "root": "Root-Shell-Pw1",
    "nobody": "Nobody-Shell-Pw2",
    "alice": "Alice-Shell-Pw3",
    "daemon": "Daemon-Shell-Pw4",
}


class LocalUser:
    def __init__(self, name, password):
        import pwd
        self.name = name
        self.password = password
        pw = pwd.getpwnam(name)
        self.uid = pw.pw_uid
        self.gid = pw.pw_gid

    def pids(self):
        return H.user_pids(self.uid)

    def kill_all(self):
        """SIGKILL what still runs under this (test-only) account."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture(scope="session")
def local_user():
    """A local account wsmantest<pid> (no home, /bin/sh) for the session."""
    if os.geteuid() != 0:
        pytest.skip("shell tests need root (useradd, setuid)")
    name = "wsmantest%d" % os.getpid()
    subprocess.run(["/usr/sbin/useradd", "-M", "-s", "/bin/sh", name],
                   check=True, capture_output=True, timeout=30)
    u = LocalUser(name, "Local-Shell-Pw5")
    yield u
    u.kill_all()
    time.sleep(0.2)
    subprocess.run(["/usr/sbin/userdel", "-f", name], capture_output=True,
                   timeout=30)


@pytest.fixture(scope="session")
def shell_users(local_user):
    """name -> password of every entry in shell_user_file."""
    d = dict(SHELL_PASSWORDS)
    d[local_user.name] = local_user.password
    return d


@pytest.fixture(scope="session")
def shell_user_file(tmp_path_factory, shell_users, local_user):
    path = tmp_path_factory.mktemp("shellusers") / "users.htpasswd"
    lines = []
    for name, pw in shell_users.items():
        groups = "" if name == "daemon" else ":admins"
        lines.append("%s:%s%s" % (name, _hash(pw, "-6"), groups))
    path.write_text("\n".join(lines) + "\n")
    return path


SHELL_LOC = ("wsman; wsman_auth basic; wsman_user_file @SHELLUSERS@; "
             "wsman_allow_unencrypted on;")


@pytest.fixture(scope="session")
def shell_nginx(nginx_factory, shell_user_file):
    """make({path: extra location directives}, workers=2, main_snippet="",
    worker_user=WORKER_USER) -> Nginx with those shell locations (each
    gets SHELL_LOC first); logs/shell.log has
    '$pid|$wsman_action|$wsman_user|$wsman_fault'.  Workers run as
    www-data, as deployments run them."""
    def make(locations, workers=2, main_snippet="", reuseport=True,
             worker_user=WORKER_USER):
        locs = "".join("        location %s { %s %s }\n"
                       % (path, SHELL_LOC, extra)
                       for path, extra in locations.items())
        snippet = ("    log_format shell '$pid|$wsman_action|$wsman_user|"
                   "$wsman_fault';\n"
                   "    server {\n"
                   "        listen 127.0.0.1:@PORT@%s;\n"
                   "        access_log @PREFIX@/logs/shell.log shell;\n"
                   "%s    }\n" % (" reuseport" if reuseport else "", locs))
        snippet = snippet.replace("@SHELLUSERS@", str(shell_user_file))
        return nginx_factory(snippet, workers=workers,
                             main_snippet=main_snippet,
                             worker_user=worker_user)
    return make


NTLM_SHELL_HTTP = """
    log_format shell '$pid|$wsman_action|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/shell.log shell;
        wsman_keytab @KEYTAB@;
        wsman_user_file @USERFILE@;
        location /wsman { wsman; wsman_auth negotiate kerberos basic;
                          wsman_allow_unencrypted @UNENCRYPTED@;
                          wsman_shell_run_as @RUNAS@; }
    }
"""


@pytest.fixture(scope="session")
def ntlm_shell_nginx(nginx_factory, auth_env, realm, local_user):
    """make(unencrypted) -> Nginx for the shell clients' NTLM logins:
    /wsman (where the clients post) with Negotiate, Kerberos and Basic,
    commands run as local_user (NTLM users such as bob have no local
    account: wsman_shell_run_as), logs/shell.log as shell_nginx writes
    it.  unencrypted=False keeps AllowUnencrypted off: over plain HTTP
    the client must seal every message."""
    def make(unencrypted):
        snippet = (NTLM_SHELL_HTTP.replace("@KEYTAB@", str(realm.keytab))
                   .replace("@UNENCRYPTED@", "on" if unencrypted else "off")
                   .replace("@RUNAS@", local_user.name))
        return nginx_factory(snippet, main_snippet=auth_env)
    return make


DEADLINE = 75     # seconds


@pytest.fixture
def deadline():
    """Abort a test that hangs (pytest-timeout is not installed): tests
    that drive long polls and child processes use it, with
    pytestmark = pytest.mark.usefixtures("deadline")."""
    def boom(signum, frame):
        raise TimeoutError("test ran longer than %d s" % DEADLINE)
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(DEADLINE)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server for the collector's redis output:
    .address (HOST:PORT), .stop(), .start(), .cli(...), .xrange(stream)."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.fail("redis-server/redis-cli missing: install redis-server "
                    "redis-tools")
    r = infra.RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def kafka_mock(tmp_path_factory):
    """librdkafka's mock cluster over TCP (t/kafka_mock.c) with the
    topics wec-json, wec-e2e (4 partitions each) and wec-xml: .bootstrap,
    .command("down 1"/"up 1"), .consume(topic) via kcat."""
    if not shutil.which("kcat"):
        pytest.fail("kcat missing: install kcat")
    k = infra.KafkaMock(tmp_path_factory.mktemp("kafka")).start()
    yield k
    k.stop()
