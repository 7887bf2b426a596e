"""WinRS shell limits and lifetime (issue [4]): wsman_shell_idle_timeout,
wsman_shell_max_per_user, wsman_shell_max_users,
wsman_shell_max_processes, wsman_shell_max_memory,
wsman_shell_max_runtime; Signal and Delete kill the whole process tree;
shells survive `nginx -s reload`; `nginx -s quit` leaves nothing behind.

The commands run as the session's local test account, so /proc shows
exactly what the shell host left running."""

import os
import signal
import time

import pytest

import wsman_helpers as H

pytestmark = pytest.mark.usefixtures("deadline")


@pytest.fixture(scope="module")
def srv(shell_nginx):
    return shell_nginx({
        "/wsman": "",
        "/idle": "wsman_shell_idle_timeout 2s;",
        "/procs": "wsman_shell_max_processes 50;",
        "/nolimit": "wsman_shell_max_processes 0;",
        "/mem": "wsman_shell_max_memory 64m;",
        "/runtime": "wsman_shell_max_runtime 2s;",
    })


def client(srv, user, path="/wsman", password=None):
    return H.ShellClient(srv.port, user.name if hasattr(user, "name")
                         else user, password or user.password, path=path)


def sleepers(user, arg):
    """pids of `sleep ARG` processes of the test account."""
    want = "sleep %s" % arg
    return [p for p in user.pids() if H.proc_cmdline(p).strip() == want]


def gone(user, arg, timeout):
    return H.wait_until(lambda: not sleepers(user, arg), timeout)


@pytest.fixture
def cleanup(local_user):
    """Whatever a limit test leaves under the test account is killed
    afterwards, so that later tests (and RLIMIT_NPROC, which counts per
    uid) start clean."""
    yield
    local_user.kill_all()


# ------------------------------------------------------ idle timeout --

def test_idle_shell_is_reaped(srv, local_user):
    c = client(srv, local_user, "/idle")
    resp, _ = c.create_raw()
    assert resp.status == 200, resp
    sid = H.shell_id_of(resp)
    idle = H.parse(resp).find("s:Body/rsp:Shell/rsp:IdleTimeOut", H.NS)
    assert idle is not None and H._iso_seconds(idle.text.strip()) == 2, \
        idle.text if idle is not None else resp.body[:600]
    cid = c.command(sid, "echo hi")
    assert c.collect(sid, cid)[:3] == (b"hi\n", b"", 0)
    time.sleep(5)
    xml, _ = H.command_request(sid, "echo again")
    f = H.assert_fault(c.post(xml), 500)
    assert f.wsman_code == H.CODE_INVALID_SELECTORS, f


def test_idle_reaping_kills_the_processes(srv, local_user, cleanup):
    c = client(srv, local_user, "/idle")
    sid = c.create()
    c.command(sid, "sleep 311")
    assert H.wait_until(lambda: sleepers(local_user, 311), 5)
    time.sleep(3)
    assert gone(local_user, 311, 8), "idle shell's command still runs"


def test_requests_keep_a_shell_alive(srv, local_user):
    c = client(srv, local_user, "/idle")
    sid = c.create()
    cid = c.command(sid, "sleep 5; echo alive")
    # Receives (each at most 1 s) are activity: the shell outlives 2 s
    out, _, code, _ = c.collect(sid, cid, deadline=20, op_timeout=1)
    assert (out, code) == (b"alive\n", 0)
    c.delete(sid)


# ----------------------------------------------------------- quotas --

def test_max_shells_per_user(shell_nginx, local_user, shell_users):
    n = shell_nginx({"/wsman": "wsman_shell_max_per_user 2; "
                             "wsman_shell_allow_root on;"})
    c = client(n, local_user)
    a, b = c.create(), c.create()
    resp, _ = c.create_raw()
    H.assert_fault(resp, 500, subcode=("w", "QuotaLimit"))
    # per user: root still gets shells
    r = client(n, "root", password=shell_users["root"])
    rs = r.create()
    # a deleted shell frees its slot
    c.delete(a)
    d = c.create()
    cid = c.command(d, "echo ok")
    assert c.collect(d, cid)[:3] == (b"ok\n", b"", 0)
    for sid in (b, d):
        c.delete(sid)
    r.delete(rs)


def test_max_users(shell_nginx, local_user, shell_users):
    n = shell_nginx({"/wsman": "wsman_shell_max_users 1; "
                             "wsman_shell_allow_root on;"})
    c = client(n, local_user)
    r = client(n, "root", password=shell_users["root"])
    a = c.create()
    b = c.create()              # the same user again is fine
    resp, _ = r.create_raw()
    H.assert_fault(resp, 500, subcode=("w", "QuotaLimit"))
    c.delete(a)
    c.delete(b)
    rs = r.create()             # the only user left is root
    r.delete(rs)


# ---------------------------------------------------- process limits --

def test_max_processes_stops_a_fork_loop(srv, local_user, cleanup):
    c = client(srv, local_user, "/procs")
    sid = c.create()
    # the sleeps do not hold the output pipes, so the command is over as
    # soon as the loop's shell gives up ("Cannot fork")
    cid = c.command(sid, "for i in $(seq 200); do "
                         "sleep 30 >/dev/null 2>&1 & done; wait")
    t0 = time.time()
    out, err, code, _ = c.collect(sid, cid, deadline=25)
    assert code != 0, (out, err)
    assert time.time() - t0 < 20
    # never more than the limit at once
    assert len(sleepers(local_user, 30)) <= 50
    c.signal(sid, cid)
    c.delete(sid)
    # the server is still fine, for this user too (where no process limit
    # applies: Linux counts RLIMIT_NPROC per uid, and the leftover sleeps
    # are over the default MaxProcessesPerShell of 25)
    c2 = client(srv, local_user, "/nolimit")
    assert c2.run("echo alive")[:3] == (b"alive\n", b"", 0)


def test_max_processes_allows_normal_work(srv, local_user):
    c = client(srv, local_user, "/procs")
    out, _, code = c.run("for i in 1 2 3; do sleep 0.1 & done; wait; "
                         "echo fine")
    assert (out, code) == (b"fine\n", 0)


def test_max_memory_python(srv, local_user):
    c = client(srv, local_user, "/mem")
    out, err, code = c.run('/usr/bin/python3 -c '
                           '"x = bytearray(500 * 1024 * 1024)"')
    assert code != 0, (out, err)
    # small things still run under the limit
    out, _, code = c.run('/usr/bin/python3 -c '
                         '"x = bytearray(8 * 1024 * 1024); print(len(x))"')
    assert (out, code) == (b"8388608\n", 0)


def test_max_memory_tail(srv, local_user):
    c = client(srv, local_user, "/mem")
    out, err, code = c.run("head -c 200000000 /dev/zero | tail", deadline=40)
    assert code != 0, (out[:100], err)


def test_max_runtime(srv, local_user, cleanup):
    c = client(srv, local_user, "/runtime")
    sid = c.create()
    t0 = time.time()
    cid = c.command(sid, "sleep 312")
    out, err, code, _ = c.collect(sid, cid, deadline=15, op_timeout=2)
    took = time.time() - t0
    assert code != 0
    assert took < 6, took
    assert gone(local_user, 312, 3)
    # short commands in the same location are fine
    cid = c.command(sid, "echo quick")
    assert c.collect(sid, cid)[:3] == (b"quick\n", b"", 0)
    c.delete(sid)


# ----------------------------------------- Signal / Delete clean up --

def test_signal_terminate_kills_the_process_tree(srv, local_user, cleanup):
    c = client(srv, local_user)
    sid = c.create()
    cid = c.command(sid, "sh -c 'sleep 300 & sleep 300 & wait'")
    assert H.wait_until(lambda: len(sleepers(local_user, 300)) == 2, 5)
    c.signal(sid, cid)
    assert gone(local_user, 300, 5), H.proc_cmdline(
        sleepers(local_user, 300)[0])
    c.delete(sid)


def test_delete_leaves_no_process(srv, local_user, cleanup):
    c = client(srv, local_user)
    sid = c.create()
    c.command(sid, "sleep 313 & sleep 313 & wait")
    c.command(sid, "sleep 313")             # a second command
    assert H.wait_until(lambda: len(sleepers(local_user, 313)) == 3, 5)
    c.delete(sid)                           # no Signal first
    assert gone(local_user, 313, 5)


def test_delete_kills_what_ignores_sigterm(srv, local_user, cleanup):
    c = client(srv, local_user)
    sid = c.create()
    c.command(sid, "trap '' TERM HUP INT; sleep 314 & sleep 314; wait")
    assert H.wait_until(lambda: len(sleepers(local_user, 314)) == 2, 5)
    c.delete(sid)
    assert gone(local_user, 314, 12)


def test_delete_kills_a_new_session(srv, local_user, cleanup):
    c = client(srv, local_user)
    sid = c.create()
    c.command(sid, "setsid sleep 315 >/dev/null 2>&1 < /dev/null & "
                   "sleep 315")
    assert H.wait_until(lambda: len(sleepers(local_user, 315)) == 2, 5)
    c.delete(sid)
    assert gone(local_user, 315, 10), "setsid child survived Delete"


# ------------------------------------------------- reload and quit --

def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        for k in H.proc_children(todo.pop()):
            out.append(k)
            todo.append(k)
    return out


def _ancestors(pid, stop):
    """pid's ancestors below `stop` (and below init / this process)."""
    chain = []
    p = H.proc_ppid(pid)
    while p and p not in (1, stop, os.getpid()):
        chain.append(p)
        p = H.proc_ppid(p)
    return chain


def _alive(pids):
    return [p for p in pids if not H.proc_zombie(p)]


def test_shell_survives_reload(shell_nginx, local_user):
    n = shell_nginx({"/wsman": ""})
    c = client(n, local_user)
    sid = c.create()
    cid = c.command(sid, "sleep 3; echo after-reload")
    master = n.proc.pid
    old = set(H.proc_children(master))
    old_workers = {p for p in old if "worker process" in H.proc_cmdline(p)}
    assert len(old_workers) == 2, old
    off = n.log_size()
    n.proc.send_signal(signal.SIGHUP)
    # new workers come up; the old ones take new connections until they
    # have heard of the reload (seconds on a busy machine), then leave
    # once idle: the reload is over when the master has reaped them all
    assert H.wait_until(lambda: all(
        "worker process %d exited with code 0" % p in n.read_log(off)
        for p in old_workers), 60), n.read_log(off)
    log_off = H.file_size(n.logs / "shell.log")
    out, err, code, _ = c.collect(sid, cid, deadline=20)
    assert (out, err, code) == (b"after-reload\n", b"", 0)
    # served by a worker started by the reload
    time.sleep(0.2)
    with open(n.logs / "shell.log") as f:
        f.seek(log_off)
        pids = {int(l.split("|")[0]) for l in f.read().splitlines()}
    assert pids and not (pids & old), (pids, old)
    # the shell still takes commands
    cid = c.command(sid, "echo still-here")
    assert c.collect(sid, cid)[:3] == (b"still-here\n", b"", 0)
    c.delete(sid)


def test_quit_leaves_nothing(shell_nginx, local_user):
    n = shell_nginx({"/wsman": ""})
    c = client(n, local_user)
    sid = c.create()
    c.command(sid, "sleep 316 & sleep 316; wait")
    assert H.wait_until(lambda: len(sleepers(local_user, 316)) == 2, 5)
    master = n.proc.pid
    tree = set(_descendants(master))
    for p in sleepers(local_user, 316):
        tree.update(_ancestors(p, master))
        tree.add(p)
    assert len(tree) >= 4, tree       # workers, shell host, sh, sleeps
    n.proc.send_signal(signal.SIGQUIT)
    try:
        n.proc.wait(timeout=20)
    except Exception:
        pytest.fail("nginx did not quit within 20 s (a shell blocks it?)")
    left = H.wait_until(lambda: not _alive(tree), 10)
    assert left, ["%d %s" % (p, H.proc_cmdline(p)) for p in _alive(tree)]
    assert gone(local_user, 316, 1)
