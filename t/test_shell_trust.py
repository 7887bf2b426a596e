"""Issue [7] section 1: the root shell host takes orders only from nginx's
own workers.

An attacker runs with the workers' uid (www-data; php-fpm or a CGI script
on a real host): it tries every Unix socket of this nginx listed in
/proc/net/unix and every descriptor it can reach under /proc/<pid>/fd of
the master, the workers and the host (listing them, opening them, taking
them with pidfd_getfd), speaking the host's frame protocol directly and by
passing it a socketpair end, and never gets a command run.  The host
refuses uid 0 without wsman_shell_allow_root and the workers' uid always
(frames sent over a worker's real channel, taken by root), commands
inherit no descriptor of the host, the workers' account cannot be
wsman_shell_run_as, and the host keeps serving across reloads and killed
workers without keeping old channels open."""

import ctypes
import json
import os
import pwd
import signal
import socket
import struct
import subprocess
import time

import pytest

import wsman_helpers as H
from conftest import WORKER_USER

pytestmark = pytest.mark.usefixtures("deadline")


# ------------------------------------------------------- frame protocol --
# ngx_wsman_shell_proto.h: u32 length | u8 type | (u8 tag, u32 len, bytes)*

CREATE, COMMAND = 1, 2
SEND, RECEIVE, SIGNAL, DELETE = 3, 4, 5, 6
F_STATUS, F_MESSAGE, F_USER, F_SHELL = 1, 2, 3, 4
F_COMMAND_ID, F_DATA, F_SIGNAL, F_TIMEOUT_MS = 5, 12, 21, 14
F_IDLE_MS, F_COMMAND, F_ALLOW_ROOT = 8, 9, 40
F_OWNER, F_OWNER_NAME = 31, 32
S_OK, S_NO_USER = 0, 4


def field(tag, data):
    return struct.pack("<BI", tag, len(data)) + data


def frame(kind, fields):
    """A request as a worker builds it: it names the WS-Man identity the
    shell belongs to (a forged one here, which the host cannot tell from a
    real one: what stops an attacker must be the channel, not this)."""
    tags = {f[0] for f in fields}
    if F_OWNER not in tags:
        fields = list(fields) + [field(F_OWNER, b"S-1-5-21-1-2-3-1001"),
                                 field(F_OWNER_NAME, b"attacker")]
    body = bytes([kind]) + b"".join(fields)
    return struct.pack("<I", len(body)) + body


def fields_of(body):
    out, p = {}, 1
    while p + 5 <= len(body):
        tag, n = struct.unpack_from("<BI", body, p)
        p += 5
        out.setdefault(tag, []).append(body[p:p + n])
        p += n
    return out


def recv_frame(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    n = struct.unpack("<I", head)[0]
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return body


def pass_end(channel):
    """Make a socketpair, pass one end over channel (SCM_RIGHTS), return
    the other: how a worker opens a request connection."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        socket.send_fds(channel, [b"R"], [b.fileno()])
    finally:
        b.close()
    a.settimeout(1)
    return a


def ask(conn, kind, flds):
    conn.sendall(frame(kind, flds))
    body = recv_frame(conn)
    conn.close()
    return None if body is None else fields_of(body)


# The attacker: runs as the workers' uid, prints what it achieved as JSON.
# It shares the frame helpers above through its own copy (it runs in a
# fresh interpreter started with setpriv).
ATTACKER = r'''
import ctypes, json, os, socket, struct, sys

targets = set(json.loads(sys.argv[1]))      # socket inodes of this nginx
pids = json.loads(sys.argv[2])              # master, workers, host
accounts = json.loads(sys.argv[3])          # accounts to run commands as
mark = sys.argv[4]                          # the command appends here

HELPERS

libc = ctypes.CDLL(None, use_errno=True)
SYS_pidfd_open, SYS_pidfd_getfd = 434, 438
report = {"uid": os.getuid(), "tried": [], "listed": {}, "stolen": [],
          "created": [], "ran": []}


def attack(label, connect):
    """speak to whatever connect() reaches as if it were the host"""
    for user in accounts:
        try:
            r = ask(connect(), CREATE, [field(F_USER, user.encode()),
                                        field(F_ALLOW_ROOT, b"1"),
                                        field(F_IDLE_MS, b"60000")])
        except (OSError, ValueError) as e:
            report["tried"].append([label, user, repr(e)])
            continue
        report["tried"].append([label, user, repr(r)[:200]])
        if not r or F_SHELL not in r:
            continue
        shell = r[F_SHELL][0]
        report["created"].append([label, user])
        try:
            r = ask(connect(), COMMAND, [
                field(F_USER, user.encode()), field(F_ALLOW_ROOT, b"1"),
                field(F_SHELL, shell),
                field(F_COMMAND, b"id -u >> " + mark.encode())])
        except (OSError, ValueError) as e:
            continue
        if r and r.get(F_STATUS) == [b"0"]:
            report["ran"].append([label, user])


def via(sock):
    """the ways one socket might lead to the host"""
    if sock.family != socket.AF_UNIX:
        return
    kind = sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
    if kind == socket.SOCK_STREAM:
        yield lambda: sock
    yield lambda: pass_end(sock)


# 1. every named Unix socket of this nginx (abstract or path)
with open("/proc/net/unix") as f:
    next(f)
    for line in f:
        parts = line.split()
        if len(parts) < 8 or int(parts[6]) not in targets:
            continue
        name = parts[7]
        addr = "\0" + name[1:] if name.startswith("@") else name
        kinds = {"0001": socket.SOCK_STREAM, "0002": socket.SOCK_DGRAM,
                 "0005": socket.SOCK_SEQPACKET}
        kind = kinds.get(parts[4], socket.SOCK_STREAM)

        def fresh(addr=addr, kind=kind):
            s = socket.socket(socket.AF_UNIX, kind)
            s.settimeout(1)
            s.connect(addr)
            return s

        attack("connect " + name, fresh)
        try:
            attack("pass-end " + name, lambda: pass_end(fresh()))
        except OSError:
            pass

# 2. every descriptor of the master, the workers and the host
for pid in pids:
    d = "/proc/%d/fd" % pid
    try:
        fds = sorted(int(x) for x in os.listdir(d))
    except OSError as e:
        report["listed"][str(pid)] = repr(e)
        continue
    report["listed"][str(pid)] = fds
    pidfd = libc.syscall(SYS_pidfd_open, pid, 0)
    for n in fds:
        try:
            os.close(os.open("%s/%d" % (d, n), os.O_RDWR))
            report["stolen"].append([pid, n, "open"])
        except OSError:
            pass
        if pidfd < 0:
            continue
        fd = libc.syscall(SYS_pidfd_getfd, pidfd, n, 0)
        if fd < 0:
            continue
        report["stolen"].append([pid, n, "pidfd_getfd"])
        try:
            s = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            continue
        s.settimeout(1)
        for i, connect in enumerate(via(s)):
            attack("fd %d/%d #%d" % (pid, n, i), connect)

print(json.dumps(report))
'''


def _helpers_source():
    """the frame helpers above, for scripts run as another user"""
    import inspect
    helpers = "\n".join(inspect.getsource(f) for f in
                        (field, frame, fields_of, recv_frame, pass_end, ask))
    consts = ("CREATE, COMMAND = 1, 2\n"
              "F_STATUS, F_MESSAGE, F_USER, F_SHELL = 1, 2, 3, 4\n"
              "F_IDLE_MS, F_COMMAND, F_ALLOW_ROOT = 8, 9, 40\n"
              "F_OWNER, F_OWNER_NAME = 31, 32\n")
    return consts + helpers


def attacker_source():
    return ATTACKER.replace("HELPERS", _helpers_source())


# --------------------------------------------------------- processes --

def socket_inodes(pid):
    out = set()
    try:
        names = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return out
    for fd in names:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(int(link[8:-1]))
    return out


def named_unix_sockets():
    """inode -> name of every Unix socket with an address"""
    out = {}
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) >= 8:
                out[int(parts[6])] = parts[7]
    return out


def wait_workers(n, count, exclude=(), timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        w = [p for p in H.worker_pids(n) if p not in exclude]
        if len(w) == count:
            return w
        time.sleep(0.05)
    raise AssertionError("workers: %r" % H.worker_pids(n))


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


# ------------------------------------------------------------ fixtures --

@pytest.fixture(scope="module")
def srv(shell_nginx):
    return shell_nginx({
        "/wsman": "",
        "/rootok": "wsman_shell_allow_root on;",
    }, workers=2)


@pytest.fixture
def mark(tmp_path_factory):
    d = tmp_path_factory.mktemp("mark")
    os.chmod(d, 0o1777)
    return d / "ran"


# --------------------------------------------------------------- tests --

@pytest.mark.parametrize("which", ["srv", "server", "inv_server"])
def test_workers_are_unprivileged(request, which):
    """The shell servers, the main server and the inventory server run
    their workers as www-data, as deployments do."""
    n = request.getfixturevalue(which)
    want = pwd.getpwnam(WORKER_USER).pw_uid
    workers = H.worker_pids(n)
    assert workers
    for pid in workers:
        assert os.stat("/proc/%d" % pid).st_uid in (0, want)
        with open("/proc/%d/status" % pid) as f:
            uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
        assert set(int(u) for u in uids) == {want}, (pid, uids)


def test_nginx_has_no_named_unix_socket(srv):
    """No connectable name: none of the sockets the master, the workers
    and the host hold has an address."""
    named = named_unix_sockets()
    pids = [srv.proc.pid, H.shell_host_pid(srv)] + H.worker_pids(srv)
    mine = {i: named[i] for p in pids for i in socket_inodes(p) if i in named}
    assert mine == {}


def test_attacker_with_the_workers_uid_gets_nothing_run(srv, mark,
                                                        tmp_path_factory,
                                                        local_user):
    # the attack needs the host to be there; the server works
    me = H.ShellClient(srv.port, local_user.name, local_user.password)
    assert me.run("id -un")[:2] == (local_user.name.encode() + b"\n", b"")

    pids = [srv.proc.pid, H.shell_host_pid(srv)] + H.worker_pids(srv)
    inodes = sorted(set().union(*(socket_inodes(p) for p in pids)))
    script = tmp_path_factory.mktemp("attacker") / "attack.py"
    script.write_text(attacker_source())
    os.chmod(script, 0o644)

    out = subprocess.run(
        ["setpriv", "--reuid=" + WORKER_USER, "--regid=" + WORKER_USER,
         "--clear-groups", "/usr/bin/python3", str(script),
         json.dumps(inodes), json.dumps(pids),
         json.dumps(["root", local_user.name]), str(mark)],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)

    assert report["uid"] == pwd.getpwnam(WORKER_USER).pw_uid
    time.sleep(0.5)                 # a command that did start has written
    assert not mark.exists(), (mark.read_text(), report)
    assert report["created"] == [], report
    assert report["ran"] == [], report
    # the workers' descriptors are closed to processes of their own uid
    # (they are not dumpable): nothing listed, nothing taken
    assert all(isinstance(v, str) for v in report["listed"].values()), \
        report["listed"]
    assert report["stolen"] == [], report


def test_old_attack_abstract_socket_is_gone(srv, local_user, mark):
    """The old attack: connect to @ngx_wsman_shell.* as the workers' user
    and ask for a root shell.  There is no such socket of this nginx (an
    older build's host of another nginx may well have one)."""
    pids = [srv.proc.pid, H.shell_host_pid(srv)] + H.worker_pids(srv)
    mine = set().union(*(socket_inodes(p) for p in pids))
    names = [name for i, name in named_unix_sockets().items()
             if i in mine and name.startswith("@ngx_wsman_shell")]
    assert names == []


def steal_channel(n):
    """root only: a worker's slot channel, taken with pidfd_getfd()"""
    libc = ctypes.CDLL(None, use_errno=True)
    w = H.worker_pids(n)[0]
    pidfd = libc.syscall(434, w, 0)
    if pidfd < 0:
        pytest.skip("pidfd_open: %s" % os.strerror(ctypes.get_errno()))
    try:
        for name in os.listdir("/proc/%d/fd" % w):
            fd = libc.syscall(438, pidfd, int(name), 0)
            if fd < 0:
                if ctypes.get_errno() in (1, 38):        # EPERM, ENOSYS
                    pytest.skip("pidfd_getfd: %s"
                                % os.strerror(ctypes.get_errno()))
                continue
            try:
                s = socket.socket(fileno=fd)
            except OSError:
                os.close(fd)
                continue
            if (s.family == socket.AF_UNIX
                    and s.type == socket.SOCK_SEQPACKET):
                s.setblocking(True)
                return s
            s.detach()
            os.close(fd)
    finally:
        os.close(pidfd)
    raise AssertionError("worker %d has no channel" % w)


def test_host_refuses_root_and_the_workers_uid_whatever_a_worker_says(
        srv, local_user):
    """Defence in depth, on a worker's real channel: no root without the
    allow_root flag, never the workers' uid, even when asked for."""
    ch = steal_channel(srv)
    try:
        def create(user, allow_root):
            flds = [field(F_USER, user.encode()), field(F_IDLE_MS, b"60000")]
            if allow_root is not None:
                flds.append(field(F_ALLOW_ROOT, allow_root))
            return ask(pass_end(ch), CREATE, flds)

        log = srv.log_size()
        for allow in (None, b"0"):
            r = create("root", allow)
            assert r[F_STATUS] == [str(S_NO_USER).encode()], r
            assert F_SHELL not in r
        for allow in (None, b"1"):
            r = create(WORKER_USER, allow)
            assert r[F_STATUS] == [str(S_NO_USER).encode()], r
        text = srv.read_log(log)
        assert "uid 0 without wsman_shell_allow_root" in text
        assert "the workers' uid never runs commands" in text

        # the channel is the real one: an ordinary account works, and so
        # does root when the location allows it
        r = create(local_user.name, None)
        assert r[F_STATUS] == [b"0"], r
        r = create("root", b"1")
        assert r[F_STATUS] == [b"0"], r
    finally:
        ch.close()


def test_no_root_over_channels_of_a_configuration_without_allow_root(
        shell_nginx, local_user):
    """Where no location says wsman_shell_allow_root on, a worker's flag
    is worth nothing: the master tells the host so when it hands over the
    channels, and code running in a worker (here: a stolen channel) asking
    for root with the flag set still gets no shell."""
    n = shell_nginx({"/wsman": ""}, workers=2)
    ch = steal_channel(n)
    try:
        log = n.log_size()
        r = ask(pass_end(ch), CREATE, [field(F_USER, b"root"),
                                       field(F_ALLOW_ROOT, b"1"),
                                       field(F_IDLE_MS, b"60000")])
        assert r[F_STATUS] == [str(S_NO_USER).encode()], r
        assert F_SHELL not in r
        assert "uid 0 without wsman_shell_allow_root" in n.read_log(log)

        # the channel is a real one: an ordinary account gets its shell
        r = ask(pass_end(ch), CREATE, [field(F_USER,
                                             local_user.name.encode()),
                                       field(F_IDLE_MS, b"60000")])
        assert r[F_STATUS] == [b"0"], r
    finally:
        ch.close()


def test_host_refuses_every_request_on_a_root_shell_without_allow_root(
        srv):
    """The host's rule is the authoritative one: a root shell made with
    the allow_root flag takes no request of its owner without the flag
    (a location where root is not allowed), not only no Command: no
    Send, Receive, Signal or Delete either."""
    ch = steal_channel(srv)
    try:
        def req(kind, flds, allow_root):
            flds = [field(F_USER, b"root")] + flds
            if allow_root is not None:
                flds.append(field(F_ALLOW_ROOT, allow_root))
            return ask(pass_end(ch), kind, flds)

        r = req(CREATE, [field(F_IDLE_MS, b"60000")], b"1")
        assert r[F_STATUS] == [b"0"], r
        shell = field(F_SHELL, r[F_SHELL][0])
        r = req(COMMAND, [shell, field(F_COMMAND, b"cat")], b"1")
        assert r[F_STATUS] == [b"0"], r
        cmd = field(F_COMMAND_ID, r[F_COMMAND_ID][0])

        log = srv.log_size()
        for allow in (None, b"0"):
            for kind, flds in [
                    (COMMAND, [shell, field(F_COMMAND, b"id -u")]),
                    (SEND, [shell, cmd, field(F_DATA, b"x")]),
                    (RECEIVE, [shell, cmd, field(F_TIMEOUT_MS, b"100")]),
                    (SIGNAL, [shell, cmd, field(F_SIGNAL, b"ctrl_c")]),
                    (DELETE, [shell])]:
                r = req(kind, flds, allow)
                assert r[F_STATUS] == [str(S_NO_USER).encode()], (kind, r)
        assert srv.read_log(log).count(
            "uid 0 without wsman_shell_allow_root") == 10

        # nothing of the shell was touched: with the flag it is still there
        r = req(DELETE, [shell], b"1")
        assert r[F_STATUS] == [b"0"], r
    finally:
        ch.close()


def test_root_needs_allow_root(srv, shell_users):
    log = srv.log_size()
    c = H.ShellClient(srv.port, "root", shell_users["root"])
    resp, _ = c.create_raw()
    H.assert_fault(resp, 500, subcode=("w", "AccessDenied"))
    # the worker's line (the host is not asked), in the rule's words
    assert ('as local account "root": uid 0 without wsman_shell_allow_root'
            in srv.read_log(log))

    ok = H.ShellClient(srv.port, "root", shell_users["root"], path="/rootok")
    assert ok.run("id -u")[:3] == (b"0\n", b"", 0)


def test_root_shell_unusable_where_root_is_not_allowed(srv, shell_users):
    """A root shell made where root is allowed takes no command through a
    location where it is not."""
    ok = H.ShellClient(srv.port, "root", shell_users["root"], path="/rootok")
    no = H.ShellClient(srv.port, "root", shell_users["root"])
    sid = ok.create()
    try:
        with pytest.raises(H.ShellError) as e:
            no.command(sid, "id -u")
        assert e.value.fault.subcode == (H.NS["w"], "AccessDenied")
    finally:
        ok.delete(sid)


def test_commands_inherit_no_descriptor(srv, local_user):
    me = H.ShellClient(srv.port, local_user.name, local_user.password)
    out, err, code = me.run("ls -l /proc/self/fd/")
    assert code == 0, err
    links = dict((int(l.split()[8]), l.split(" -> ")[1])
                 for l in out.decode().splitlines() if " -> " in l)
    # stdin, stdout, stderr and ls's own directory: nothing of the host
    assert sorted(links) == [0, 1, 2, 3], out
    assert links[3].startswith("/proc/"), out
    assert not any(v.startswith("socket:") for v in links.values()), out


def test_run_as_rejections(nginx_factory):
    for runas, extra, message in [
            (WORKER_USER, "", "names the account nginx workers run as"),
            ("root", "", "runs commands as root but "
             "\"wsman_shell_allow_root\" is off")]:
        snippet = ("    server { listen 127.0.0.1:@PORT@; location /w { "
                   "wsman; wsman_auth basic; wsman_user_file @USERFILE@; "
                   "wsman_shell_run_as %s; %s } }\n" % (runas, extra))
        r = nginx_factory(snippet, start=False,
                          worker_user=WORKER_USER).test_config()
        assert r.returncode != 0, r.stderr
        assert message in r.stderr, r.stderr
        assert "wsman_shell_run_as %s" % runas in r.stderr
    # root with allow_root, and an ordinary account, pass
    for runas, extra in [("root", "wsman_shell_allow_root on;"),
                         ("daemon", "")]:
        snippet = ("    server { listen 127.0.0.1:@PORT@; location /w { "
                   "wsman; wsman_auth basic; wsman_user_file @USERFILE@; "
                   "wsman_shell_run_as %s; %s } }\n" % (runas, extra))
        r = nginx_factory(snippet, start=False,
                          worker_user=WORKER_USER).test_config()
        assert r.returncode == 0, r.stderr


@pytest.mark.log_allows("exited on signal 9")
def test_killed_workers_are_respawned_with_their_channel(srv, local_user):
    me = H.ShellClient(srv.port, local_user.name, local_user.password)
    sid = me.create()
    try:
        for victim in H.worker_pids(srv):
            os.kill(victim, signal.SIGKILL)
            wait_workers(srv, 2, exclude=(victim,))
        # both workers are new; each request lands on either
        for i in range(6):
            cid = me.command(sid, "echo again-%d" % i)
            assert me.collect(sid, cid)[:3] == (
                b"again-%d\n" % i, b"", 0)
    finally:
        me.delete(sid)


def test_reloads_keep_the_host_and_close_old_channels(srv, local_user):
    host = H.shell_host_pid(srv)
    me = H.ShellClient(srv.port, local_user.name, local_user.password)
    sid = me.create()
    try:
        me.run("true")
        base = fd_count(host)
        for i in range(5):
            old = H.worker_pids(srv)
            os.kill(srv.proc.pid, signal.SIGHUP)
            wait_workers(srv, 2, exclude=old, timeout=15)
            # old workers may linger on keep-alive; wait until gone
            assert H.wait_until(lambda: not set(old) & set(
                H.worker_pids(srv)), 30), (old, H.worker_pids(srv))
            cid = me.command(sid, "echo gen-%d" % i)
            assert me.collect(sid, cid)[:3] == (b"gen-%d\n" % i, b"", 0)
        assert H.shell_host_pid(srv) == host
        # the channels of the old generations are closed in the host
        assert H.wait_until(lambda: fd_count(host) <= base, 5), (
            base, os.listdir("/proc/%d/fd" % host))
    finally:
        me.delete(sid)


def test_one_worker_channel_carries_many_requests_at_once(shell_nginx,
                                                           local_user):
    """Every request of a worker goes over its one channel: 48 clients at
    once on a single worker, each with a long poll parked in the host,
    all get their own output."""
    import concurrent.futures as cf

    # (48 commands in one shell: more than MaxProcessesPerShell's default)
    n = shell_nginx({"/wsman": "wsman_shell_max_processes 0;"}, workers=1)
    me = H.ShellClient(n.port, local_user.name, local_user.password)
    sid = me.create()
    try:
        def run(i):
            cid = me.command(sid, "sleep 1; echo out-%d" % i)
            return me.collect(sid, cid)[:3]

        with cf.ThreadPoolExecutor(48) as ex:
            got = list(ex.map(run, range(48)))
        assert got == [(b"out-%d\n" % i, b"", 0) for i in range(48)]
    finally:
        me.delete(sid)


def test_host_shrugs_off_bad_channel_messages(srv, local_user):
    """What arrives over a worker's channel other than one stream socket
    (nothing, a pipe, a datagram socket, several descriptors) is closed and
    logged; the host keeps no descriptor of it and goes on serving."""
    host = H.shell_host_pid(srv)
    ch = steal_channel(srv)
    try:
        ask(pass_end(ch), CREATE, [field(F_USER, local_user.name.encode()),
                                   field(F_IDLE_MS, b"60000")])
        base = fd_count(host)
        log = srv.log_size()

        ch.send(b"R")                                   # no descriptor
        r, w = os.pipe()
        socket.send_fds(ch, [b"R"], [r])                # not a socket
        os.close(r)
        d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        socket.send_fds(ch, [b"R"], [d2.fileno()])      # not a stream
        d2.close()
        pairs = [socket.socketpair() for _ in range(5)]
        socket.send_fds(ch, [b"R"], [p[1].fileno() for p in pairs[:2]])
        socket.send_fds(ch, [b"R"], [p[1].fileno() for p in pairs[2:]])
        for p in pairs:
            p[1].close()

        # of several, the first is served like any request connection
        # (closed at its EOF), the others are closed by the host at once
        # or by the kernel (what does not fit)
        pairs[0][0].close()
        pairs[2][0].close()
        for p in pairs[1:2] + pairs[3:]:
            p[0].settimeout(5)
            assert p[0].recv(1) == b""
            p[0].close()
        assert H.wait_until(lambda: fd_count(host) <= base, 5), (
            base, os.listdir("/proc/%d/fd" % host))
        # the pipe's write end sees the read end closed in the host
        with pytest.raises(BrokenPipeError):
            os.write(w, b"x")
        os.close(w)
        d1.close()

        text = srv.read_log(log)
        assert "without a descriptor" in text
        assert "not a request connection" in text
        assert text.count("a worker passed more than one descriptor") == 2

        r = ask(pass_end(ch), CREATE, [
            field(F_USER, local_user.name.encode()),
            field(F_IDLE_MS, b"60000")])
        assert r[F_STATUS] == [b"0"], r
    finally:
        ch.close()


STOLEN_CHANNEL_USER = r'''
import json, socket, struct, sys
HELPERS
ch = socket.socket(fileno=int(sys.argv[1]))
out = []
for user in json.loads(sys.argv[2]):
    try:
        r = ask(pass_end(ch), CREATE, [field(F_USER, user.encode()),
                                       field(F_ALLOW_ROOT, b"1"),
                                       field(F_IDLE_MS, b"60000")])
        out.append([user, repr(r)])
    except OSError as e:
        out.append([user, repr(e)])
print(json.dumps(out))
'''


def test_stolen_channel_is_useless_outside_a_worker(srv, local_user,
                                                    tmp_path_factory):
    """A worker's channel descriptor in the hands of another process of
    the workers' uid (as if taken while a new worker was still dumpable):
    the kernel names the sender, which is no child of the master, and the
    host closes what it passes unanswered."""
    ch = steal_channel(srv)
    script = tmp_path_factory.mktemp("stolen") / "use.py"
    script.write_text(STOLEN_CHANNEL_USER.replace("HELPERS",
                                                  _helpers_source()))
    os.chmod(script, 0o644)
    log = srv.log_size()
    try:
        out = subprocess.run(
            ["setpriv", "--reuid=" + WORKER_USER, "--regid=" + WORKER_USER,
             "--clear-groups", "/usr/bin/python3", str(script),
             str(ch.fileno()), json.dumps(["root", local_user.name])],
            capture_output=True, text=True, timeout=30,
            pass_fds=[ch.fileno()])
    finally:
        ch.close()
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    assert [u for u, _ in got] == ["root", local_user.name]
    # no answer at all: the host closed the connection
    assert all(r == "None" or "Error" in r for _, r in got), got
    assert "not a worker of this nginx" in srv.read_log(log)


def test_winrs_user_named_like_the_workers_account_is_refused(
        nginx_factory, tmp_path_factory):
    """A user-file entry whose local account is the workers' own gets
    w:AccessDenied from the worker (and a log line) before the host is
    asked; an ordinary account on the same server works."""
    users = tmp_path_factory.mktemp("wwwusers") / "users"
    users.write_text("%s:{PLAIN}Www-Pw-1:admins\n"
                     "daemon:{PLAIN}Dm-Pw-2:admins\n" % WORKER_USER)
    os.chmod(users, 0o644)
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic; wsman_user_file %s;
                          wsman_allow_unencrypted on; }
    }
""" % users)
    log = n.log_size()
    c = H.ShellClient(n.port, WORKER_USER, "Www-Pw-1")
    resp, _ = c.create_raw()
    H.assert_fault(resp, 500, subcode=("w", "AccessDenied"))
    assert ('as local account "%s": the workers\' uid never runs commands'
            % WORKER_USER) in n.read_log(log)
    ok = H.ShellClient(n.port, "daemon", "Dm-Pw-2")
    assert ok.run("id -un")[:3] == (b"daemon\n", b"", 0)
