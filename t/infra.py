"""External services the authentication tests need, each built from scratch
under a pytest tmp dir and torn down at the end of the session:

  Realm       a private MIT Kerberos KDC on 127.0.0.1 (realm WSMAN.TEST)
  NtlmUsers   a gss-ntlmssp user file
  Pki         a test CA, a server certificate and client certificates
  Rsyslog     a private rsyslogd over TCP or TLS, writing what it gets
  PamServices throw-away /etc/pam.d services (permit, deny, slow)
  Postgres    a PostgreSQL 15 cluster on loopback (the event collector's
              shared state store)
  build_goclient  the masterzen/winrm client in t/goclient, built offline

Nothing here edits system files except the PAM service files, which get
unique names and are removed again.
"""

import hashlib
import json
import os
import pathlib
import re
import shlex
import shutil
import socket
import subprocess
import time

HERE = pathlib.Path(__file__).resolve().parent
REALM = "WSMAN.TEST"


def _free_port_tcp_udp():
    """A port that is free for both TCP and UDP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
            t.close()
        return port
    raise RuntimeError("no free port")


def _run(cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(cmd, **kw)


# ------------------------------------------------------------- Kerberos --

class Realm:
    """A KDC for WSMAN.TEST listening on a free loopback port.

    Principals: HTTP/localhost, HTTP/127.0.0.1 (keys in self.keytab) and
    the users in USERS.  self.env holds KRB5_CONFIG and a private
    KRB5CCNAME with a TGT for alice."""

    USERS = {
        "alice": "Alice-Krb-Passw0rd!",
        "mallory": "Mallory-Krb-Passw0rd!",   # no entry in the user file
    }

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port_tcp_udp()
        self.krb5_conf = self.dir / "krb5.conf"
        self.kdc_conf = self.dir / "kdc.conf"
        self.keytab = self.dir / "http.keytab"
        self.ccache = self.dir / "ccache.alice"
        self.rcache_dir = self.dir / "rcache"
        self.rcache_dir.mkdir(exist_ok=True)
        self.rcache_dir.chmod(0o1777)   # unprivileged workers write there
        self.kdc_log = self.dir / "kdc.log"
        self.proc = None
        self.env = {"KRB5_CONFIG": str(self.krb5_conf),
                    "KRB5CCNAME": "FILE:%s" % self.ccache}

    def _write_confs(self):
        d, p = self.dir, self.port
        self.krb5_conf.write_text(f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    ignore_acceptor_hostname = true
    udp_preference_limit = 1
    dns_canonicalize_hostname = false
[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{p}
    }}
[domain_realm]
    localhost = {REALM}
    .localhost = {REALM}
    127.0.0.1 = {REALM}
""")
        self.kdc_conf.write_text(f"""[kdcdefaults]
    kdc_ports = {p}
    kdc_tcp_ports = {p}
    kdc_listen = 127.0.0.1:{p}
    kdc_tcp_listen = 127.0.0.1:{p}
[realms]
    {REALM} = {{
        database_name = {d}/principal
        key_stash_file = {d}/stash
        acl_file = {d}/kadm5.acl
        max_life = 10h 0m 0s
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}
[logging]
    kdc = FILE:{self.kdc_log}
""")
        (d / "kadm5.acl").write_text("*/admin@%s *\n" % REALM)

    def _admin_env(self):
        env = dict(os.environ)
        env.update(KRB5_CONFIG=str(self.krb5_conf),
                   KRB5_KDC_PROFILE=str(self.kdc_conf),
                   KRB5CCNAME="FILE:%s" % self.ccache)
        return env

    def kadmin(self, query):
        return _run(["/usr/sbin/kadmin.local", "-q", query],
                    env=self._admin_env())

    def start(self):
        self._write_confs()
        env = self._admin_env()
        _run(["/usr/sbin/kdb5_util", "create", "-s", "-r", REALM,
              "-P", "Master-Passw0rd!"], env=env)
        for svc in ("HTTP/localhost", "HTTP/127.0.0.1"):
            self.kadmin("addprinc -randkey %s@%s" % (svc, REALM))
        for user, pw in self.USERS.items():
            self.kadmin("addprinc -pw %s %s@%s" % (pw, user, REALM))
        self.kadmin("ktadd -k %s HTTP/localhost@%s HTTP/127.0.0.1@%s"
                    % (self.keytab, REALM, REALM))
        self.keytab.chmod(0o644)      # workers may run unprivileged
        self.proc = subprocess.Popen(
            ["/usr/sbin/krb5kdc", "-n", "-r", REALM], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    err = self.proc.stderr.read().decode(errors="replace") \
                        if self.proc.poll() is not None else "timeout"
                    raise RuntimeError("krb5kdc did not start: %s" % err)
                time.sleep(0.05)
        self.kinit("alice", self.ccache)
        return self

    def kinit(self, user, ccache):
        env = self._admin_env()
        env["KRB5CCNAME"] = "FILE:%s" % ccache
        _run(["/usr/bin/kinit", "%s@%s" % (user, REALM)],
             input=(self.USERS[user] + "\n").encode(), env=env)
        return "FILE:%s" % ccache

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def nginx_env(self):
        """Lines for nginx's main context."""
        return ("env KRB5_CONFIG=%s;\nenv KRB5_KTNAME=FILE:%s;\n"
                "env KRB5RCACHEDIR=%s;\n"
                % (self.krb5_conf, self.keytab, self.rcache_dir))


# ----------------------------------------------------------------- NTLM --

class NtlmUsers:
    """gss-ntlmssp user file: DOMAIN:user:password per line."""

    DOMAIN = "WSMAN"
    USERS = {
        "bob": "BobPassw0rd!",        # in the htpasswd file: group admins
        "henry": "HenryPassw0rd!",    # in the htpasswd file: no groups
        "nina": "NinaPassw0rd!",      # not in the htpasswd file at all
    }

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "ntlm_users"
        self.path.write_text("".join("%s:%s:%s\n" % (self.DOMAIN, u, p)
                                     for u, p in self.USERS.items()))
        self.path.chmod(0o644)

    def nginx_env(self):
        return ("env NTLM_USER_FILE=%s;\nenv NETBIOS_DOMAIN_NAME=%s;\n"
                % (self.path, self.DOMAIN))


# ------------------------------------------------------------------ PKI --

class Pki:
    """Certificates made with the openssl command line.

    server.pem/.key    CN=localhost, SAN DNS:localhost, IP:127.0.0.1
    ca.pem             the client CA nginx trusts
    alice.pem/.key     CN=Alice Client, SAN UPN alice@wsman.test and
                       e-mail alice@wsman.test
    carol.pem/.key     CN=carol, no SAN
    dave.pem/.key      CN=dave, e-mail SAN dave@example.org
    rogue.pem/.key     CN=alice, UPN alice@wsman.test, issued by an unknown CA
    """

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._ext = self.dir / "ext.cnf"

    def p(self, name):
        return str(self.dir / name)

    def _ca(self, name, cn):
        _run(["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
              "-nodes", "-keyout", self.p(name + ".key"),
              "-out", self.p(name + ".pem"), "-days", "3", "-subj",
              "/O=ngx_wsman tests/CN=%s" % cn,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    def _leaf(self, name, ca, subj, exts):
        _run(["/usr/bin/openssl", "req", "-new", "-newkey", "rsa:2048",
              "-nodes", "-keyout", self.p(name + ".key"),
              "-out", self.p(name + ".csr"), "-subj", subj])
        ext = self.dir / (name + ".ext")
        ext.write_text("\n".join(exts) + "\n")
        _run(["/usr/bin/openssl", "x509", "-req", "-in",
              self.p(name + ".csr"), "-CA", self.p(ca + ".pem"),
              "-CAkey", self.p(ca + ".key"), "-CAcreateserial",
              "-out", self.p(name + ".pem"), "-days", "2",
              "-extfile", str(ext)])

    def make(self):
        self._ca("ca", "ngx_wsman test client CA")
        self._ca("rogueca", "Unknown CA")
        _run(["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
              "-nodes", "-keyout", self.p("server.key"),
              "-out", self.p("server.pem"), "-days", "3",
              "-subj", "/CN=localhost",
              "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        client = ["basicConstraints=CA:FALSE",
                  "keyUsage=digitalSignature,keyEncipherment",
                  "extendedKeyUsage=clientAuth"]
        upn = ("subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;"
               "UTF8:alice@wsman.test,email:alice@wsman.test")
        self._leaf("alice", "ca", "/CN=Alice Client", client + [upn])
        self._leaf("carol", "ca", "/CN=carol", client)
        self._leaf("dave", "ca", "/CN=dave",
                   client + ["subjectAltName=email:dave@example.org"])
        self._leaf("rogue", "rogueca", "/CN=alice", client + [upn])
        return self

    def conf(self, snippet):
        """snippet with @PKI@ (this directory), @CA@ and @ca@ (the client
        CA's thumbprint in upper and lower case) and @ROGUE@ (the unknown
        CA's) filled in, for nginx_factory."""
        ca = self.thumbprint("ca")
        return (snippet.replace("@PKI@", str(self.dir))
                .replace("@CA@", ca).replace("@ca@", ca.lower())
                .replace("@ROGUE@", self.thumbprint("rogueca")))

    def thumbprint(self, name="ca"):
        """SHA-1 of the certificate's DER, 40 hex digits (upper case, like
        Windows shows it)."""
        der = _run(["/usr/bin/openssl", "x509", "-in", self.p(name + ".pem"),
                    "-outform", "DER"]).stdout
        return hashlib.sha1(der).hexdigest().upper()


# --------------------------------------------------------------- rsyslog --

class Rsyslog:
    """A private rsyslogd: imtcp on a free loopback port, plain TCP or TLS
    (the ossl stream driver, tls=(certificate, key); client_ca=FILE: a
    client certificate of that CA required), writing every message to self.out as one
    JSON object a line: the RFC 5424 fields as rsyslog parsed them and
    the whole message as received ("raw"), newlines escaped, so a message
    with newlines inside is still one line.  It runs as whoever runs the
    tests: its own configuration, pid file and work directory under
    `directory`, nothing of the system's.

    .address  "127.0.0.1:PORT" (TLS: "localhost:PORT", the name in the
              Pki's server certificate); .stop() and .start() keep it.
    """

    TEMPLATE = """template(name="wsman_json" type="list") {
    constant(value="{\\"pri\\":\\"") property(name="pri")
    constant(value="\\",\\"time\\":\\"")
    property(name="timereported" dateFormat="rfc3339")
    constant(value="\\",\\"host\\":\\"")
    property(name="hostname" format="json")
    constant(value="\\",\\"app\\":\\"")
    property(name="app-name" format="json")
    constant(value="\\",\\"procid\\":\\"")
    property(name="procid" format="json")
    constant(value="\\",\\"msgid\\":\\"")
    property(name="msgid" format="json")
    constant(value="\\",\\"sd\\":\\"")
    property(name="structured-data" format="json")
    constant(value="\\",\\"msg\\":\\"") property(name="msg" format="json")
    constant(value="\\",\\"raw\\":\\"")
    property(name="rawmsg" format="json")
    constant(value="\\"}\\n")
}
"""

    def __init__(self, directory, tls=None, client_ca=None):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port_tcp_udp()
        self.tls = tls
        self.address = "%s:%d" % ("localhost" if tls else "127.0.0.1",
                                  self.port)
        self.out = self.dir / "messages.jsonl"
        self.conf = self.dir / "rsyslog.conf"
        self.pidfile = self.dir / "rsyslogd.pid"
        self.log = self.dir / "rsyslogd.log"
        self.proc = None
        glob = ['workDirectory="%s"' % self.dir, 'maxMessageSize="64m"',
                # newlines stay newlines: the framing is what is tested
                'parser.escapeControlCharactersOnReceive="off"']
        imtcp = 'module(load="imtcp")'
        if tls:
            cert, key = tls
            glob += ['defaultNetstreamDriver="ossl"',
                     'defaultNetstreamDriverCAFile="%s"'
                     % (client_ca or cert),
                     'defaultNetstreamDriverCertFile="%s"' % cert,
                     'defaultNetstreamDriverKeyFile="%s"' % key]
            imtcp = ('module(load="imtcp" streamDriver.name="ossl" '
                     'streamDriver.mode="1" streamDriver.authMode="%s")'
                     % ("x509/certvalid" if client_ca else "anon"))
        self.conf.write_text(
            "global(%s)\n%s\n%s"
            'input(type="imtcp" address="127.0.0.1" port="%d")\n'
            'action(type="omfile" file="%s" template="wsman_json")\n'
            % ("\n       ".join(glob), imtcp, self.TEMPLATE, self.port,
               self.out))
        _run(["/usr/sbin/rsyslogd", "-N1", "-f", str(self.conf)])

    def start(self):
        self.proc = subprocess.Popen(
            ["/usr/sbin/rsyslogd", "-n", "-f", str(self.conf),
             "-i", str(self.pidfile)],
            stdin=subprocess.DEVNULL, stdout=open(self.log, "ab"),
            stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("rsyslogd exited: %s"
                                   % self.log.read_text())
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("rsyslogd did not listen on %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def messages(self):
        """Every message so far, a dict each."""
        if not self.out.exists():
            return []
        return [json.loads(line) for line in
                self.out.read_text().splitlines() if line]

    def wait_for(self, pred, count, timeout=10):
        """The messages for which pred(message) holds, once there are
        `count` of them (or whatever there is after `timeout`)."""
        deadline = time.time() + timeout
        while True:
            found = [m for m in self.messages() if pred(m)]
            if len(found) >= count or time.time() > deadline:
                return found
            time.sleep(0.05)


# ------------------------------------------------------------------ PAM --

class PamServices:
    """Service files in /etc/pam.d named wsman-test-<pid>-<kind>."""

    PAM_DIR = pathlib.Path("/etc/pam.d")

    def __init__(self, directory, slow_seconds=2):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.slow_seconds = slow_seconds
        self.files = []
        self.names = {}

    def available(self):
        return os.geteuid() == 0 and os.access(self.PAM_DIR, os.W_OK) and \
            os.path.exists(self._module("pam_exec.so"))

    @staticmethod
    def _module(name):
        for d in ("/usr/lib/x86_64-linux-gnu/security", "/lib/security",
                  "/usr/lib/security", "/lib/x86_64-linux-gnu/security"):
            if os.path.exists(os.path.join(d, name)):
                return os.path.join(d, name)
        return name

    def _add(self, kind, text):
        name = "wsman-test-%d-%s" % (os.getpid(), kind)
        path = self.PAM_DIR / name
        path.write_text("# written by the ngx_wsman test suite; removed at "
                        "the end of the run\n" + text)
        self.files.append(path)
        self.names[kind] = name
        return name

    def make(self):
        script = self.dir / "pam-slow.sh"
        script.write_text("#!/bin/sh\nsleep %d\nexit 0\n" % self.slow_seconds)
        script.chmod(0o755)
        self._add("permit", "auth required pam_permit.so\n"
                            "account required pam_permit.so\n")
        self._add("deny", "auth required pam_deny.so\n"
                          "account required pam_deny.so\n")
        self._add("slow", "auth required pam_exec.so quiet %s\n"
                          "auth required pam_permit.so\n"
                          "account required pam_permit.so\n" % script)
        return self

    def remove(self):
        for f in self.files:
            try:
                f.unlink()
            except FileNotFoundError:
                pass


# ------------------------------------------------------------ PostgreSQL --

class Postgres:
    """A PostgreSQL 15 cluster of its own: initdb in a tmp dir owned by
    `postgres` (initdb and postgres refuse to run as root), trust
    authentication, a unix socket in that dir and TCP on a free loopback
    port.  self.conninfo reaches the database `wsman` as the role `wsman`
    (no superuser) over TCP; stop() and start() take the server down and
    up again (the data stays); stop_cmd and start_cmd are the same as
    shell commands, for a C test to run, and pause_cmd / resume_cmd
    freeze and thaw it (SIGSTOP, SIGCONT)."""

    BIN = pathlib.Path("/usr/lib/postgresql/15/bin")

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = _free_port_tcp_udp()
        self.conninfo = ("host=127.0.0.1 port=%d user=wsman dbname=wsman "
                         "sslmode=disable" % self.port)

    def _as_postgres(self, cmd):
        if os.geteuid() == 0:
            return ["/usr/bin/setpriv", "--reuid=postgres",
                    "--regid=postgres", "--init-groups"] + cmd
        return cmd

    def _pg_ctl(self, *args):
        return self._as_postgres(
            [str(self.BIN / "pg_ctl"), "-D", str(self.data), "-l",
             str(self.log), "-w", "-t", "30"] + list(args))

    @property
    def stop_cmd(self):
        return " ".join(shlex.quote(a)
                        for a in self._pg_ctl("-m", "immediate", "stop"))

    @property
    def start_cmd(self):
        return " ".join(shlex.quote(a)
                        for a in self._pg_ctl("-o", self._options(),
                                              "start"))

    def _signal_cmd(self, sig):
        # the postmaster (first line of postmaster.pid) and its children,
        # the backends among them
        pid = "$(head -1 %s)" % shlex.quote(str(self.data / "postmaster.pid"))
        return "kill -%s %s $(pgrep -P %s)" % (sig, pid, pid)

    @property
    def pause_cmd(self):
        """A shell command that freezes the server (SIGSTOP): connections
        stay up, nothing answers."""
        return self._signal_cmd("STOP")

    @property
    def resume_cmd(self):
        return self._signal_cmd("CONT")

    def _options(self):
        return ("-c listen_addresses=127.0.0.1 -p %d -k %s "
                "-c unix_socket_permissions=0700" % (self.port, self.dir))

    def psql(self, sql, db="wsman", user="wsman"):
        """Runs sql with psql over the unix socket; returns its stdout
        (unaligned, tuples only)."""
        return _run(self._as_postgres(
            [str(self.BIN / "psql"), "-h", str(self.dir),
             "-p", str(self.port), "-U", user, "-d", db, "-X", "-A", "-t",
             "-v", "ON_ERROR_STOP=1", "-c", sql]),
            text=True).stdout

    def start(self):
        if not (self.data / "PG_VERSION").exists():
            if os.geteuid() == 0:
                shutil.chown(self.dir, "postgres", "postgres")
            _run(self._as_postgres(
                [str(self.BIN / "initdb"), "-D", str(self.data), "-U",
                 "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]),
                timeout=120)
            _run(self._pg_ctl("-o", self._options(), "start"))
            self.psql("CREATE ROLE wsman LOGIN", db="postgres",
                      user="postgres")
            self.psql("CREATE DATABASE wsman OWNER wsman", db="postgres",
                      user="postgres")
            return self
        _run(self._pg_ctl("-o", self._options(), "start"))
        return self

    def new_database(self):
        """A fresh empty database (owned by `wsman`) for one test's rows;
        returns its conninfo."""
        self.ndb = getattr(self, "ndb", 0) + 1
        name = "wsman_%d" % self.ndb
        self.psql("CREATE DATABASE %s OWNER wsman" % name, db="postgres",
                  user="postgres")
        return self.conninfo.replace("dbname=wsman", "dbname=" + name)

    def stop(self, mode="fast"):
        """mode immediate: as a node's crash (no shutdown checkpoint)."""
        if (self.data / "postmaster.pid").exists():
            _run(self._pg_ctl("-m", mode, "stop"))

    def running(self):
        return _run(self._pg_ctl("status"), check=False).returncode == 0


# ------------------------------------------------------------ Go client --

def build_goclient(out_dir):
    """Build t/goclient offline in GOPATH mode against Debian's
    /usr/share/gocode.  Returns the binary path or raises."""
    go = shutil.which("go") or "/usr/lib/go/bin/go"
    out_dir = pathlib.Path(out_dir)
    gopath = out_dir / "gopath"
    gopath.mkdir(parents=True, exist_ok=True)
    binary = out_dir / "wsman-goclient"
    env = dict(os.environ, GO111MODULE="off",
               GOPATH="%s:/usr/share/gocode" % gopath,
               GOCACHE=str(out_dir / "gocache"), GOPROXY="off", GOFLAGS="",
               GOTOOLCHAIN="local", CGO_ENABLED="0")
    r = subprocess.run([go, "build", "-o", str(binary), "."],
                       cwd=str(HERE / "goclient"), env=env,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("go build failed:\n%s%s" % (r.stdout, r.stderr))
    return binary


# ------------------------------------------------------------- pywinrm --

OPENSSL_LEGACY = HERE / "openssl-legacy.cnf"


def run_pywinrm(endpoint, transport, user, password, xml,
                encryption="auto", env=None, timeout=60):
    """pywinrm in a child /usr/bin/python3 (so OPENSSL_CONF takes effect
    for NTLM's MD4).  Returns CompletedProcess (text)."""
    e = dict(os.environ, OPENSSL_CONF=str(OPENSSL_LEGACY))
    # pywinrm lets requests' environment settings override
    # server_cert_validation='ignore' (and route through proxies)
    for k in list(e):
        if k.upper() in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                         "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            del e[k]
    e.update(env or {})
    return subprocess.run(
        ["/usr/bin/python3", str(HERE / "pywinrm_client.py"), endpoint,
         transport, user, password, encryption], input=xml, text=True,
        capture_output=True, env=e, timeout=timeout)


# ---------------------------------------------- event collector outputs --

class RedisServer:
    """A redis-server on a free loopback port and a unix socket
    (self.socket), in a directory of its own.
    Every write is in its append-only file before the reply (appendfsync
    always), so what was acknowledged survives stop() and start()."""

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port_tcp_udp()
        self.address = "127.0.0.1:%d" % self.port
        self.socket = self.dir / "redis.sock"
        self.proc = None

    def start(self):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.dir), "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--daemonize", "no",
             "--unixsocket", str(self.socket), "--unixsocketperm", "777",
             "--logfile", str(self.dir / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        for _ in range(100):
            if self.cli("PING", check=False).stdout.strip() == "PONG":
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start: %s" %
                           (self.dir / "redis.log").read_text()[-2000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None

    def cli(self, *args, check=True):
        return _run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port),
                     "--no-raw"] + list(args), check=check, text=True,
                    timeout=20)

    def xrange(self, stream):
        """[(id, {field: value})] of a stream, oldest first."""
        out = _run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port),
                    "--raw", "XRANGE", stream, "-", "+"],
                   text=True, timeout=20).stdout
        # --raw prints an entry as its id, then field and value lines;
        # values are one line each here (the tests' events have none)
        lines = out.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        entries = []
        i = 0
        while i < len(lines):
            eid = lines[i]
            fields = {}
            i += 1
            while i + 1 < len(lines) and not re.match(r"^\d+-\d+$",
                                                       lines[i]):
                fields[lines[i]] = lines[i + 1]
                i += 2
            entries.append((eid, fields))
        return entries


class KafkaMock:
    """librdkafka's mock Kafka cluster on loopback (t/kafka_mock.c, built
    here with cc).  self.bootstrap for clients; command("down 1") and
    command("up 1") take a broker away and back."""

    def __init__(self, directory,
                 topics=("wec-json:4", "wec-xml:1", "wec-e2e:4"),
                 brokers=1):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.topics = list(topics)
        self.brokers = brokers
        self.proc = None
        self.bootstrap = None

    def start(self):
        exe = self.dir / "kafka_mock"
        _run(["cc", "-O1", "-Wall", "-Werror", "-o", str(exe),
              str(HERE / "kafka_mock.c"), "-lrdkafka"], timeout=120)
        self.proc = subprocess.Popen(
            [str(exe), str(self.brokers)] + self.topics,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(self.dir / "kafka_mock.log", "w"), text=True)
        self.bootstrap = self.proc.stdout.readline().strip()
        if not self.bootstrap:
            raise RuntimeError("kafka_mock did not start: %s" %
                               (self.dir / "kafka_mock.log").read_text())
        return self

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError("kafka_mock %r: %r" % (line, answer))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def consume(self, topic, timeout=30, headers=False):
        """[(partition, key, value)] of every message of the topic;
        headers=True: [(partition, key, {header: value}, value)]."""
        out = _run(["kcat", "-C", "-b", self.bootstrap, "-t", topic, "-e",
                    "-q", "-f", "%p\t%k\t%h\t%s\n"], text=True,
                   timeout=timeout).stdout
        rows = []
        for line in out.split("\n"):
            if line:
                p, k, h, v = line.split("\t", 3)
                if headers:
                    hs = dict(x.split("=", 1) for x in h.split(",") if x)
                    rows.append((int(p), k, hs, v))
                else:
                    rows.append((int(p), k, v))
        return rows
