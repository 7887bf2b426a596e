"""Nothing blocking in a worker (issue [9]): password hashes are verified
in a thread pool, so a flood of wrong passwords against an expensive
SHA-512 crypt hash cannot stall other requests of the same worker; a full
queue answers 503 at once; the user file is parsed once per version."""

import os
import signal
import shutil
import subprocess
import statistics
import threading
import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

import wsman_helpers as H

USER = "slowpoke"
PW = "Slow-Pw-1a"
ROUNDS = 500000


def _line(user, password, groups="admins", rounds=ROUNDS):
    return "%s:%s:%s\n" % (user, crypt.crypt(
        password, crypt.mksalt(crypt.METHOD_SHA512, rounds=rounds)), groups)


def _basic(port, user=USER, password="wrong-password", path="/wsman"):
    xml, _ = H.config_get()
    t = time.perf_counter()
    r = H.request(port, "POST", path, xml, [
        ("Authorization", H.basic(user, password)),
        ("Content-Type", H.SOAP_CT)], timeout=60)
    return r.status, time.perf_counter() - t


def _static(port):
    t = time.perf_counter()
    r = H.request(port, "GET", "/static")
    assert r.status == 200, r
    return time.perf_counter() - t


BASIC_HTTP = """
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic; wsman_user_file %s;
                          wsman_allow_unencrypted on; }
    }
"""


def _user_file(d, text):
    """A user file in d that the www-data workers can read."""
    path = d / "users.htpasswd"
    path.write_text(text)
    os.chmod(d, 0o755)
    os.chmod(path, 0o644)
    return path


def _basic_server(nginx_factory, path, **kw):
    """/wsman with Basic against the user file at path."""
    return nginx_factory(BASIC_HTTP % path, **kw)


@pytest.fixture(scope="module")
def slow_server(nginx_factory, tmp_path_factory):
    d = tmp_path_factory.mktemp("nonblock")
    path = _user_file(d, _line(USER, PW)
                      + _line("other", "Other-Pw-2b", rounds=5000))
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic; wsman_user_file %s;
                          wsman_allow_unencrypted on; }
        location /tiny { wsman; wsman_auth basic;
                         wsman_user_file %s thread_pool=wsman_tiny;
                         wsman_allow_unencrypted on; }
        location /static { return 200 "static\\n"; }
    }
""" % (path, path), workers=1,
        main_snippet="thread_pool wsman_tiny threads=1 max_queue=1;")
    n.user_file = path
    return n


def _hash_time(port):
    """What one wrong-password check costs when nothing else runs."""
    return min(_basic(port)[1] for _ in range(2))


def test_wrong_password_flood_does_not_stall_worker(slow_server):
    """worker_processes 1: while 4 clients keep sending wrong passwords
    for a user with a 500000-round SHA-512 hash, a `return 200`
    location on the same worker still answers quickly (crypt() runs in
    the wsman_auth thread pool, not on the event loop)."""
    port = slow_server.port
    cost = _hash_time(port)
    assert cost > 0.05, "hash too cheap to measure: %.3f s" % cost

    stop = threading.Event()
    out = []

    def flood():
        while not stop.is_set():
            out.append(_basic(port))

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for t in threads:
        t.start()
    lat = []
    try:
        time.sleep(cost / 2)
        deadline = time.monotonic() + max(3.0, 6 * cost)
        while time.monotonic() < deadline:
            lat.append(_static(port))
            time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert out and all(st == 401 for st, _ in out), out
    lat.sort()
    p90 = lat[int(len(lat) * 0.9)]
    print("hash %.3f s, static median %.4f s, p90 %.4f s, max %.4f s"
          % (cost, statistics.median(lat), p90, lat[-1]))
    # blocking code: each static request waits behind one or more crypt()
    # calls (median ~ cost); here it waits for none
    assert statistics.median(lat) < cost / 10, (cost, lat)
    assert p90 < cost / 3, (cost, lat)


def test_right_password_still_works(slow_server):
    st, _ = _basic(slow_server.port, password=PW)
    assert st == 200
    st, _ = _basic(slow_server.port, user="other", password="Other-Pw-2b")
    assert st == 200
    st, _ = _basic(slow_server.port, user="nosuchuser", password=PW)
    assert st == 401


def test_full_auth_queue_fails_fast(slow_server):
    """thread_pool wsman_tiny threads=1 max_queue=1: of 6 wrong-password
    checks at once, one runs, one waits, the rest get 503 at once, with
    a log line."""
    off = slow_server.log_size()
    out = []

    def one():
        out.append(_basic(slow_server.port, path="/tiny"))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    busy = [d for st, d in out if st == 503]
    assert len(busy) >= 3, out
    assert [st for st, _ in out].count(401) >= 1, out
    assert all(st in (401, 503) for st, _ in out), out
    assert H.wait_for_line(slow_server.error_log,
                           lambda l: "password check" in l and "full" in l,
                           offset=off), slow_server.read_log(off)


def test_user_file_parsed_once_per_version(slow_server):
    """An edit applies on the next request; an unchanged file is not
    parsed again (debug-free check: the 'user file ... loaded' info line
    appears once per version and worker)."""
    path = slow_server.user_file
    off = slow_server.log_size()
    for _ in range(3):
        assert _basic(slow_server.port, user="nosuch")[0] == 401
    text = path.read_text()
    path.write_text(text + _line("newbie", "Newbie-Pw-3c", rounds=5000))
    assert _basic(slow_server.port, user="newbie",
                  password="Newbie-Pw-3c")[0] == 200
    time.sleep(2.2)
    for _ in range(3):
        assert _basic(slow_server.port, user="newbie",
                      password="Newbie-Pw-3c")[0] == 200
    log = slow_server.read_log(off)
    loads = [l for l in log.splitlines() if "user file" in l
             and "loaded" in l]
    # at most: one for the old version (if not loaded before), one or two
    # for the new (read again while it settles), never one per request
    assert 1 <= len(loads) <= 3, log
    path.write_text(text)


class _Strace:
    """strace -f on a running worker: which thread opened which file."""

    def __init__(self, pid, path):
        self.pid = pid
        self.path = path
        self.p = subprocess.Popen(
            ["strace", "-f", "-qq", "-e", "trace=openat", "-o", str(path),
             "-p", str(pid)], stderr=subprocess.DEVNULL)
        # attached once every thread of the worker (the event loop and
        # the pools' threads) names strace as its tracer
        assert H.wait_until(self._attached, 10), "strace did not attach"

    def _attached(self):
        tasks = os.listdir("/proc/%d/task" % self.pid)
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/status" % (self.pid, t)) as f:
                    tracer = [l.split()[1] for l in f
                              if l.startswith("TracerPid:")]
            except OSError:
                return False
            if tracer != [str(self.p.pid)]:
                return False
        return bool(tasks)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)
        return self.path.read_text()


@pytest.mark.skipif(not shutil.which("strace") or os.geteuid() != 0,
                    reason="needs strace and root")
def test_basic_login_looks_up_accounts_off_the_loop(nginx_factory,
                                                     tmp_path):
    """A Basic login against the user file asks NSS (getpwnam_r,
    getgrouplist: /etc/passwd, /etc/group with nss_files) for the SIDs
    only in a thread of the pool, never on the worker's event-loop
    thread, and later requests of the user ask nobody (cached)."""
    path = _user_file(tmp_path, _line("nssuser", "Nss-Pw-1a", rounds=5000)
                    + _line("root", "Root-Pw-1a", rounds=5000))
    n = _basic_server(nginx_factory, path, workers=1)
    time.sleep(2.2)             # a settled file: logins are remembered
    [pid] = H.worker_pids(n)
    st = _Strace(pid, tmp_path / "strace.out")
    try:
        for user, pw in (("nssuser", "Nss-Pw-1a"), ("root", "Root-Pw-1a")):
            for _ in range(3):
                assert _basic(n.port, user=user, password=pw)[0] == 200
        assert _basic(n.port, user="root", password="bad")[0] == 401
    finally:
        out = st.stop()
    nss = [l for l in out.splitlines()
           if '"/etc/passwd"' in l or '"/etc/group"' in l]
    on_loop = [l for l in nss if l.split()[0] == str(pid)]
    assert not on_loop, out
    # and it did happen, in a pool thread: once per user, then cached
    assert nss, out
    assert len([l for l in nss if '"/etc/passwd"' in l]) <= 4, out


@pytest.mark.skipif(not shutil.which("strace") or os.geteuid() != 0,
                    reason="needs strace and root")
def test_shell_operations_ask_nss_nothing_on_the_loop(shell_nginx,
                                                       local_user,
                                                       tmp_path):
    """Once a user has logged in, shell operations (Create, Command,
    Receive, Delete) take the account from the worker's account cache:
    no getpwnam_r() on the event-loop thread, where each check used to
    ask NSS once for the account and once more for its uid."""
    n = shell_nginx({"/wsman": ""}, workers=1)
    me = H.ShellClient(n.port, local_user.name, local_user.password)
    me.delete(me.create())          # logged in, account remembered
    [pid] = H.worker_pids(n)
    st = _Strace(pid, tmp_path / "strace.out")
    try:
        assert me.run("echo hi")[0] == b"hi\n"
    finally:
        out = st.stop()
    on_loop = [l for l in out.splitlines() if l.split()[0] == str(pid)
               and ('"/etc/passwd"' in l or '"/etc/group"' in l)]
    assert not on_loop, out


CERT_HTTP = """
    server {
        listen 127.0.0.1:@PORT@ ssl;
        ssl_certificate @PKI@/server.pem;
        ssl_certificate_key @PKI@/server.key;
        ssl_client_certificate @PKI@/ca.pem;
        ssl_verify_client optional;
        ssl_protocols TLSv1.3;
        wsman_user_file @USERFILE@;
        wsman_auth certificate;
        location /wsman { wsman;
            wsman_cert_map subject=alice@wsman.test issuer=@CA@ user=alice; }
    }
"""


@pytest.mark.skipif(not shutil.which("strace") or os.geteuid() != 0,
                    reason="needs strace and root")
def test_certificate_login_looks_up_accounts_off_the_loop(nginx_factory,
                                                           pki, tmp_path):
    """A certificate mapped to a user: the account and its groups are
    looked up in the wsman_auth pool (once, then remembered), not on the
    event-loop thread."""
    import ssl
    from test_identity_cert import _context, _request
    n = nginx_factory(pki.conf(CERT_HTTP), workers=1)
    n.tls = ssl.TLSVersion.TLSv1_3
    ctx = _context(n, pki)
    [pid] = H.worker_pids(n)
    st = _Strace(pid, tmp_path / "strace.out")
    try:
        for _ in range(3):
            r, _, _ = _request(n, ctx)
            assert r.status == 200, r
    finally:
        out = st.stop()
    nss = [l for l in out.splitlines()
           if '"/etc/passwd"' in l or '"/etc/group"' in l]
    assert not [l for l in nss if l.split()[0] == str(pid)], out
    assert nss, out


@pytest.mark.skipif(not shutil.which("strace") or os.geteuid() != 0,
                    reason="needs strace and root")
@pytest.mark.parametrize("mech", ["ntlm", "krb5"])
def test_gss_login_looks_up_accounts_off_the_loop(nginx_factory, auth_env,
                                                   realm, ntlm_users,
                                                   tmp_path, mech):
    """NTLM and Kerberos identities: the account, its passwd spelling and
    its groups are looked up in the wsman_auth pool, not on the
    event-loop thread."""
    import wsman_gss as G
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        wsman_keytab %s;
        wsman_user_file @USERFILE@;
        location /wsman { wsman; wsman_auth negotiate;
                          wsman_allow_unencrypted on; }
    }
""" % realm.keytab, main_snippet=auth_env, workers=1)
    [pid] = H.worker_pids(n)
    st = _Strace(pid, tmp_path / "strace.out")
    try:
        if mech == "ntlm":
            gss = G.GssClient("ntlm", user="bob", password="BobPassw0rd!")
        else:
            gss = G.GssClient("krb5")
        s = G.Session(n.port, "/wsman", scheme="Negotiate", gss=gss)
        try:
            assert s.authenticate().status == 200
            xml, _ = H.config_get()
            assert s.post(xml).status == 200
        finally:
            s.close()
    finally:
        out = st.stop()
    nss = [l for l in out.splitlines()
           if '"/etc/passwd"' in l or '"/etc/group"' in l]
    assert not [l for l in nss if l.split()[0] == str(pid)], out
    assert nss, out


def _user_file_opens(out, path):
    return [l for l in out.splitlines() if '"%s"' % path in l]


@pytest.mark.skipif(not shutil.which("strace") or os.geteuid() != 0,
                    reason="needs strace and root")
@pytest.mark.parametrize("mech", ["basic", "ntlm"])
def test_edited_user_file_is_read_off_the_loop(nginx_factory, auth_env,
                                               realm, ntlm_users, tmp_path,
                                               mech):
    """After an edit, the user file is opened (and read) only by a thread
    of the wsman_auth pool, never by the worker's event-loop thread: for
    a Basic login (its hash) and for an NTLM login (the spelling and the
    groups the file gives the name).  The edit is seen by that login, and
    while the file is fresh (edited within 2 s) every login reads it again,
    still off the loop."""
    import conftest
    import wsman_gss as G
    path = tmp_path / "users.htpasswd"
    conftest.write_user_file(path)
    text = path.read_text()
    os.chmod(tmp_path, 0o755)
    os.chmod(path, 0o644)
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        wsman_keytab %s;
        wsman_user_file %s;
        location /wsman { wsman; wsman_auth basic negotiate;
                          wsman_allow_unencrypted on; }
    }
""" % (realm.keytab, path), main_snippet=auth_env, workers=1)

    def login():
        xml, _ = H.config_get()
        if mech == "basic":
            return _basic(n.port, user="newbie", password="Newbie-Pw-3c")[0]
        gss = G.GssClient("ntlm", user="bob", password="BobPassw0rd!")
        s = G.Session(n.port, "/wsman", scheme="Negotiate", gss=gss)
        try:
            assert s.authenticate().status == 200
            return s.post(xml).status
        finally:
            s.close()

    assert _basic(n.port, user="nosuch")[0] == 401     # the file is known
    [pid] = H.worker_pids(n)
    st = _Strace(pid, tmp_path / "strace.out")
    try:
        # bob (NTLM) has a line of the file; newbie (Basic) is new
        path.write_text(text + _line("newbie", "Newbie-Pw-3c", rounds=5000)
                        + "# edited\n")
        for _ in range(3):
            assert login() == 200
    finally:
        out = st.stop()
    opens = _user_file_opens(out, path)
    assert opens, out                   # the edit was read ...
    on_loop = [l for l in opens if l.split()[0] == str(pid)]
    assert not on_loop, out             # ... never on the event loop
    assert "newbie" in path.read_text()


def _big_user_file(path, users):
    """users lines of {PLAIN} filler (megabytes: a read and parse that
    takes a while) and the given (user, password) pairs."""
    with open(path, "w") as f:
        f.write("".join("filler%07d:{PLAIN}x\n" % i for i in range(400000)))
        for user, pw in users:
            f.write(_line(user, pw, rounds=5000))


@pytest.mark.skipif(not shutil.which("strace") or os.geteuid() != 0,
                    reason="needs strace and root")
def test_logins_during_a_read_of_the_user_file_share_it(nginx_factory,
                                                        tmp_path):
    """Logins that arrive while an edited (large) user file is being read
    wait for that read instead of each reading the file: 8 logins at
    once, right after an edit, open it far fewer than 8 times (each of
    them read it on the event loop before), and all of them see the
    edit."""
    path = tmp_path / "users.htpasswd"
    _big_user_file(path, [("quick", "Quick-Pw-4d")])
    os.chmod(tmp_path, 0o755)
    os.chmod(path, 0o644)
    n = _basic_server(nginx_factory, path, workers=1)
    assert _basic(n.port, user="quick", password="Quick-Pw-4d")[0] == 200
    [pid] = H.worker_pids(n)
    st = _Strace(pid, tmp_path / "strace.out")
    out = []
    start = threading.Barrier(8)

    def login():
        start.wait()
        out.append(_basic(n.port, user="late", password="Late-Pw-5e")[0])

    try:
        with open(path, "a") as f:
            f.write(_line("late", "Late-Pw-5e", rounds=5000))
        threads = [threading.Thread(target=login) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        trace = st.stop()
    assert out == [200] * 8, out
    opens = _user_file_opens(trace, path)
    assert opens, trace
    assert not [l for l in opens if l.split()[0] == str(pid)], trace
    assert len(opens) <= 4, trace


def test_unreadable_user_file_answers_as_before(nginx_factory, tmp_path):
    """A user file the workers cannot read any more: the read (in a
    thread) fails with a log line, the table read before is not used
    (500, as when the file was read on the loop), a request without
    credentials still gets its 401; readable again, logins work."""
    path = _user_file(tmp_path, _line("quick", "Quick-Pw-4d", rounds=5000))
    n = _basic_server(nginx_factory, path, workers=1)
    assert _basic(n.port, user="quick", password="Quick-Pw-4d")[0] == 200
    off = n.log_size()
    os.chmod(path, 0o600)           # root's; the workers are www-data
    try:
        for _ in range(2):
            assert _basic(n.port, user="quick",
                          password="Quick-Pw-4d")[0] == 500
        xml, _ = H.config_get()
        r = H.request(n.port, "POST", "/wsman", xml,
                      [("Content-Type", H.SOAP_CT)])
        assert r.status == 401, r
        assert H.wait_for_line(n.error_log,
                               lambda l: "users.htpasswd" in l
                               and "failed" in l and "[error]" in l,
                               offset=off), n.read_log(off)
    finally:
        os.chmod(path, 0o644)
    assert _basic(n.port, user="quick", password="Quick-Pw-4d")[0] == 200


def test_auth_pool_declared_by_nginx_conf(nginx_factory):
    """`thread_pool wsman_auth ...;` before http replaces the module's
    default declaration instead of clashing with it."""
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic;
                          wsman_user_file @USERFILE@; }
    }
""", start=False, main_snippet="thread_pool wsman_auth threads=2;")
    p = n.test_config()
    assert p.returncode == 0, p.stderr


# --------------------------------------- shutdown during a login in a thread

SLOW_ROUNDS = 2000000


def _shutdown_server(nginx_factory, tmp_path_factory, main_snippet=""):
    d = tmp_path_factory.mktemp("shutdown")
    path = _user_file(d, _line(USER, PW, rounds=SLOW_ROUNDS))
    return _basic_server(nginx_factory, path, workers=1,
                         main_snippet=main_snippet)


def _login_during_quit(n):
    """A right-password login whose hash check is in a thread when the
    master is told to quit; returns (status or the error, hash time).
    The first right password of the server's life: not remembered yet."""
    cost = _basic(n.port)[1]
    out = []

    def login():
        try:
            out.append(_basic(n.port, password=PW)[0])
        except OSError as e:
            out.append(e)

    t = threading.Thread(target=login)
    t.start()
    time.sleep(cost / 3)
    n.proc.send_signal(signal.SIGQUIT)
    t.join(30)
    n.proc.wait(30)
    return out[0], cost


def test_graceful_quit_waits_for_a_login_in_a_thread(nginx_factory,
                                                     tmp_path_factory):
    """nginx waits for timers, not for thread tasks, when it quits: a
    login whose hash is being checked still gets its answer, and the
    worker leaves no open socket behind."""
    n = _shutdown_server(nginx_factory, tmp_path_factory)
    status, cost = _login_during_quit(n)
    assert cost > 0.2, "hash too cheap to overlap the quit: %.3f s" % cost
    assert status == 200, (status, n.read_log())
    log = n.read_log()
    assert "open socket" not in log, log
    assert "exited with code 0" in log, log


def test_shutdown_timeout_ends_a_login_in_a_thread(nginx_factory,
                                                   tmp_path_factory):
    """worker_shutdown_timeout ends the login before its hash is checked:
    the request is kept until the thread is done with its memory (under
    `make sanitize` a use after free is reported otherwise), then closed
    without an answer; the worker exits cleanly."""
    n = _shutdown_server(nginx_factory, tmp_path_factory,
                         main_snippet="worker_shutdown_timeout 50ms;")
    status, cost = _login_during_quit(n)
    assert cost > 0.2, "hash too cheap to overlap the quit: %.3f s" % cost
    assert isinstance(status, OSError) or status is None, status
    log = n.read_log()
    assert "open socket" not in log, log
    assert "exited with code 0" in log, log


@pytest.mark.skipif(not shutil.which("valgrind"), reason="needs valgrind")
@pytest.mark.skipif(bool(os.environ.get("WSMAN_NGINX_PRELOAD")),
                    reason="the ASan build checks memory itself; memcheck "
                           "cannot run under its preloaded runtime")
def test_user_file_tables_outlive_connections_under_valgrind(
        nginx_factory, tmp_path_factory):
    """A worker's table of a user file outlives the request that read it:
    a later request on another connection replaces it.  The table once
    logged to the connection that read it, and replacing it read that
    connection's freed log (heap corruption, seen as a worker killed by
    malloc's checks).  Each request here comes on its own connection while
    the file is fresh (read again by every request, in a thread), some at
    once (waiting for the same read), one while the file is unreadable,
    under memcheck."""
    d = tmp_path_factory.mktemp("vgusers")
    text = _line("quick", "Quick-Pw-4d", rounds=5000)
    path = _user_file(d, text)
    os.chmod(d, 0o777)              # memcheck's logs, written by www-data
    n = _basic_server(nginx_factory, path,
                      wrapper=["valgrind", "-q", "--num-callers=30",
                               "--log-file=%s/vg.%%p" % d])
    statuses = []
    for i in range(8):
        password = "Quick-Pw-4d" if i % 2 else "wrong"
        statuses.append(_basic(n.port, user="quick", password=password)[0])
        if i == 4:
            path.write_text(text + "# edited\n")
    # the read is in a thread: logins at once after an edit wait for one
    # read and start over when it is installed ...
    path.write_text(text + "# edited again\n")
    burst = []
    threads = [threading.Thread(target=lambda: burst.append(
        _basic(n.port, user="quick", password="Quick-Pw-4d")[0]))
        for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # ... a failed read keeps the old table (unused), a good one replaces it
    os.chmod(path, 0o600)
    failed = _basic(n.port, user="quick", password="Quick-Pw-4d")[0]
    os.chmod(path, 0o644)
    again = _basic(n.port, user="quick", password="Quick-Pw-4d")[0]
    n.stop()
    assert statuses == [401, 200] * 4, statuses
    assert burst == [200] * 4, burst
    assert (failed, again) == (500, 200)
    reports = {f.name: f.read_text() for f in d.glob("vg.*")}
    assert reports, "valgrind wrote no log"
    bad = {k: v for k, v in reports.items() if v.strip()}
    assert not bad, bad
