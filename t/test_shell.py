"""WinRS remote shell (issue [4]) over raw SOAP: Create/Command/Send/
Receive/Signal/Delete, every request on a new TCP connection to a server
with 4 workers (reuseport), so one shell's requests land on different
workers.  Response shapes as pywinrm and masterzen read them, the Receive
long poll and its w:TimedOut fault, faults for unknown or foreign shells,
commands run as the caller's local account, wsman_shell_run_as,
wsman_shell off."""

import hashlib
import os
import time
import uuid

import pytest

import wsman_helpers as H

pytestmark = pytest.mark.usefixtures("deadline")


@pytest.fixture(scope="module")
def srv(shell_nginx, local_user):
    return shell_nginx({
        "/wsman": "wsman_shell_allow_root on;",
        "/short": "wsman_max_timeout 5s;",
        "/runas": "wsman_shell_run_as %s;" % local_user.name,
        "/off": "wsman_shell off;",
    }, workers=4)


@pytest.fixture
def me(srv, local_user):
    """ShellClient as the session's local test account."""
    return H.ShellClient(srv.port, local_user.name, local_user.password)


@pytest.fixture
def root(srv, shell_users):
    return H.ShellClient(srv.port, "root", shell_users["root"])


def _fault(exc_info):
    return exc_info.value.fault


def _assert_invalid_selectors(resp_or_fault):
    f = resp_or_fault if isinstance(resp_or_fault, H.Fault) \
        else H.assert_fault(resp_or_fault)
    assert f.resp.status == 500, f.resp
    assert f.subcode == (H.NS["w"], "InvalidSelectors"), f
    assert f.wsman_code == H.CODE_INVALID_SELECTORS, f
    return f


# ---------------------------------------------------------- Create --

def test_create_response_shape(me, local_user):
    resp, mid = me.create_raw()
    assert resp.status == 200, resp
    assert "application/soap+xml" in resp.header("Content-Type").lower()
    assert H.header_text(resp, "a", "Action") == \
        H.ACTION_CREATE + "Response"
    assert H.header_text(resp, "a", "RelatesTo") == mid
    root = H.parse(resp)
    body = root.find("s:Body", H.NS)
    rc = body.find("x:ResourceCreated", H.NS)
    assert rc is not None, resp.body[:800]
    assert rc.find("a:Address", H.NS) is not None
    uri = rc.find("a:ReferenceParameters/w:ResourceURI", H.NS)
    assert uri is not None and uri.text.strip() == H.SHELL_URI
    sid = H.shell_id_of(resp)
    # pywinrm's way: any element with Name="ShellId"
    assert [e.text for e in root.iter() if e.get("Name") == "ShellId"] \
        == [sid]
    uuid.UUID(sid)      # a GUID like Windows'
    shell = body.find("rsp:Shell", H.NS)
    assert shell is not None, resp.body[:800]
    assert shell.find("rsp:ShellId", H.NS).text.strip() == sid
    assert shell.find("rsp:ResourceUri", H.NS).text.strip() == H.SHELL_URI
    owner = shell.find("rsp:Owner", H.NS).text
    assert local_user.name in owner, owner
    assert shell.find("rsp:ClientIP", H.NS).text.strip() == "127.0.0.1"
    idle = shell.find("rsp:IdleTimeOut", H.NS).text.strip()
    assert idle.startswith("PT") and idle.endswith("S"), idle
    assert H._iso_seconds(idle) == 7200, idle     # the default, 2 h
    assert shell.find("rsp:InputStreams", H.NS).text.strip() == "stdin"
    assert shell.find("rsp:OutputStreams", H.NS).text.split() == \
        ["stdout", "stderr"]
    me.delete(sid)


def test_create_ids_are_unique(me):
    ids = [me.create() for _ in range(3)]
    assert len(set(ids)) == 3
    cids = [me.command(ids[0], "true") for _ in range(3)]
    assert len(set(cids)) == 3
    # random (version 4) GUIDs in upper case, as Windows shows its ids
    for i in ids + cids:
        assert i == i.upper() and uuid.UUID(i).version == 4, i
    for sid in ids:
        me.delete(sid)


# ------------------------------------------------- commands and output --

def test_echo(me):
    out, err, code = me.run("echo hello")
    assert (out, err, code) == (b"hello\n", b"", 0)


def test_exit_code_and_stderr(me):
    out, err, code = me.run("echo out; echo err >&2; exit 3")
    assert out == b"out\n" and err == b"err\n" and code == 3


def test_stream_end_flags_and_final_state(me):
    sid = me.create()
    cid = me.command(sid, "printf abc; printf def >&2")
    out, err, code, results = me.collect(sid, cid)
    assert (out, err, code) == (b"abc", b"def", 0)
    last = results[-1]
    assert last.done and last.stdout_end and last.stderr_end, last
    for r in results[:-1]:
        assert not r.done and r.state == H.STATE_RUNNING, r
    # End="true" once per stream, on the last chunk only
    assert sum(r.stdout_end for r in results) == 1
    assert sum(r.stderr_end for r in results) == 1
    me.signal(sid, cid)
    me.delete(sid)


def test_arguments_one_element_each(me):
    # masterzen sends one rsp:Arguments per argument (in CDATA)
    out, _, code = me.run("echo", ["a", "b  c"])
    assert code == 0
    assert out.split() == [b"a", b"b", b"c"], out


def test_cdata_and_markup_in_command(me):
    sid = me.create()
    cid = me.command(sid, "echo 'x&y<z>' \"q\"", cdata=True)
    out, _, code, _ = me.collect(sid, cid)
    assert (out, code) == (b"x&y<z> q\n", 0)
    cid = me.command(sid, "echo 'a&b<c>'")             # escaped text
    out, _, code, _ = me.collect(sid, cid)
    assert (out, code) == (b"a&b<c>\n", 0)
    me.delete(sid)


def test_skip_cmd_shell_execs_directly(me):
    out, _, code = me.run("/bin/echo", ["$HOME"], skip_cmd_shell=True)
    assert (out, code) == (b"$HOME\n", 0)
    out, _, code = me.run("echo", ["$((6*7))"])
    assert (out, code) == (b"42\n", 0)


def test_several_commands_in_one_shell(me):
    sid = me.create()
    for i in range(3):
        cid = me.command(sid, "echo run%d" % i)
        out, _, code, _ = me.collect(sid, cid)
        assert (out, code) == (b"run%d\n" % i, 0)
        me.signal(sid, cid)
    me.delete(sid)


def test_environment_and_working_directory(me):
    out, _, code = me.run("echo $WSMAN_T_VAR; pwd",
                          env={"WSMAN_T_VAR": "v&1"}, cwd="/tmp")
    assert (out, code) == (b"v&1\n/tmp\n", 0)


def test_working_directory_is_honoured(me):
    out, _, code = me.run("pwd", cwd="/usr/share")
    assert (out, code) == (b"/usr/share\n", 0)


def test_default_working_directory_home_or_root(me, root, local_user):
    import pwd
    home = pwd.getpwnam(local_user.name).pw_dir
    assert not os.path.isdir(home)           # useradd -M: no home
    out, _, code = me.run("pwd")
    assert (out, code) == (b"/\n", 0)
    out, _, code = root.run("pwd")
    assert (out, code) == (pwd.getpwnam("root").pw_dir.encode() + b"\n", 0)


@pytest.mark.parametrize("where", ["private", "missing", "file",
                                   "relative", "windows"])
def test_working_directory_the_account_cannot_enter(me, tmp_path, where):
    """A fault at Create, not a command silently run elsewhere."""
    d = tmp_path / "wd"
    if where == "private":
        d.mkdir(mode=0o700)                # root's, closed to others
        os.chmod(tmp_path, 0o755)
    elif where == "file":
        d.write_text("not a directory")
    elif where == "relative":
        d = "tmp"
    elif where == "windows":
        d = "C:\\Users\\Public"
    resp, _ = me.create_raw(cwd=str(d))
    f = H.assert_fault(resp, 500)
    assert f.subcode == (H.NS["w"], "InvalidParameter"), f
    assert "workingdirectory" in f.reason.lower().replace(" ", ""), \
        f.reason


def test_output_bytes_unchanged(me):
    # every byte value, including NUL and invalid UTF-8, base64 intact
    out, _, code = me.run("printf '\\000\\001\\377\\376h\\303\\251llo\\n'",
                          codepage=65001)
    assert code == 0
    assert out == b"\x00\x01\xff\xfeh\xc3\xa9llo\n"


def test_large_output_complete(me):
    n = 3 * 1024 * 1024
    sid = me.create()
    cid = me.command(sid, "head -c %d /dev/zero | tr '\\0' y; echo" % n)
    out, err, code, results = me.collect(sid, cid, deadline=50)
    assert code == 0 and err == b""
    assert len(out) == n + 1 and out == b"y" * n + b"\n"
    # the server splits the output over several responses
    assert len(results) > 1
    for r in results:
        assert len(r.resp.body) <= 153600, len(r.resp.body)
    me.delete(sid)


# ----------------------------------------------------------- stdin --

def test_send_stdin_to_cat(me):
    sid = me.create()
    cid = me.command(sid, "cat")
    me.send(sid, cid, b"first line\n")
    got = b""
    end = time.time() + 15
    while got != b"first line\n" and time.time() < end:
        r = me.receive(sid, cid, op_timeout=5)
        if r is not None:
            assert not r.done, r
            got += r.stdout
    assert got == b"first line\n"
    me.send(sid, cid, b"second", end=True)
    out, err, code, _ = me.collect(sid, cid)
    assert (out, err, code) == (b"second", b"", 0)
    me.signal(sid, cid)
    me.delete(sid)


def test_send_large_stdin_in_chunks(me):
    data = os.urandom(600000)
    sid = me.create()
    cid = me.command(sid, '/usr/bin/python3 -c "import sys, hashlib; '
                          'd = sys.stdin.buffer.read(); '
                          'print(len(d), hashlib.sha256(d).hexdigest())"')
    for i in range(0, len(data), 200000):       # Ansible's chunk size
        me.send(sid, cid, data[i:i + 200000],
                end=(i + 200000 >= len(data)))
    out, err, code, _ = me.collect(sid, cid)
    assert code == 0, err
    assert out.decode().split() == \
        ["600000", hashlib.sha256(data).hexdigest()], out
    me.delete(sid)


def test_send_after_end_or_to_finished_command_is_a_fault(me):
    sid = me.create()
    cid = me.command(sid, "true")
    me.collect(sid, cid)
    xml, _ = H.send_request(sid, cid, b"late", end=True)
    r = me.post(xml)
    # the command has ended and its output was read: the shell no longer
    # knows it
    H.assert_fault(r, status=500, subcode=("w", "InvalidSelectors"))
    me.delete(sid)


# -------------------------------------------------------- long poll --

def test_receive_returns_as_soon_as_output_exists(me):
    sid = me.create()
    cid = me.command(sid, "sleep 1; echo early; sleep 30")
    t0 = time.time()
    got = b""
    while not got and time.time() - t0 < 15:
        r = me.receive(sid, cid, op_timeout=20)
        if r is not None:
            got += r.stdout
            assert not r.done and r.exit_code is None, r
    took = time.time() - t0
    assert got == b"early\n"
    assert took < 6, took
    me.signal(sid, cid)
    me.delete(sid)


def test_receive_timed_out_fault(me):
    sid = me.create()
    cid = me.command(sid, "sleep 30")
    xml, mid = H.receive_request(sid, cid, operation_timeout="PT3S")
    t0 = time.time()
    r = me.post(xml, timeout=15)
    took = time.time() - t0
    f = H.assert_fault(r, 500, code="Receiver",
                       subcode=("w", "TimedOut"))
    assert f.wsman_code == H.CODE_TIMED_OUT, f
    assert f.relates_to == mid
    # masterzen looks for this word in the error text
    assert "OperationTimeout" in f.reason, f.reason
    # answered before the client's deadline, not long before it
    assert 1.5 <= took < 3.0, took
    me.signal(sid, cid)
    me.delete(sid)


def test_receive_wait_capped_by_max_timeout(srv, local_user):
    c = H.ShellClient(srv.port, local_user.name, local_user.password,
                      path="/short")
    sid = c.create()
    cid = c.command(sid, "sleep 30")
    t0 = time.time()
    r = c.receive_raw(sid, cid, op_timeout=60)
    took = time.time() - t0
    f = H.assert_fault(r, 500, subcode=("w", "TimedOut"))
    assert f.wsman_code == H.CODE_TIMED_OUT
    assert 2 <= took < 5.5, took
    c.signal(sid, cid)
    c.delete(sid)


def test_long_command_across_timeouts(me):
    sid = me.create()
    cid = me.command(sid, "sleep 5; echo finished")
    timeouts = 0
    out = b""
    end = time.time() + 20
    while time.time() < end:
        r = me.receive(sid, cid, op_timeout=1)
        if r is None:
            timeouts += 1
            continue
        out += r.stdout
        if r.done:
            break
    assert out == b"finished\n" and r.done and r.exit_code == 0
    assert timeouts >= 3, timeouts
    me.delete(sid)


def test_receive_after_final_chunk_is_a_fault_not_a_hang(me):
    sid = me.create()
    cid = me.command(sid, "echo once")
    me.collect(sid, cid)
    t0 = time.time()
    r = me.receive_raw(sid, cid, op_timeout=10)
    assert time.time() - t0 < 5, "Receive after Done waited"
    H.assert_fault(r, 500)
    me.delete(sid)


def test_signal_ctrl_c_stops_command(me):
    sid = me.create()
    cid = me.command(sid, "sleep 30")
    time.sleep(0.3)
    me.signal(sid, cid, H.SIGNAL_CTRL_C)
    t0 = time.time()
    _, _, code, _ = me.collect(sid, cid, deadline=10)
    assert time.time() - t0 < 6
    assert code != 0
    me.delete(sid)


def test_signal_terminate_ends_a_running_command(me):
    sid = me.create()
    cid = me.command(sid, "sleep 30")
    time.sleep(0.3)
    t0 = time.time()
    me.signal(sid, cid)
    assert time.time() - t0 < 5
    # the command is gone or reports Done
    r = me.receive_raw(sid, cid, op_timeout=5)
    if r.status == 200:
        assert H.ReceiveResult(r, cid).done
    else:
        H.assert_fault(r, 500)
    me.delete(sid)


# ------------------------------------------------------------ faults --

def test_unknown_shell_id(me):
    bogus = str(uuid.uuid4()).upper()
    for xml, _ in (H.receive_request(bogus, str(uuid.uuid4()).upper()),
                   H.command_request(bogus, "echo x"),
                   H.send_request(bogus, str(uuid.uuid4()), b"x"),
                   H.signal_request(bogus, str(uuid.uuid4())),
                   H.delete_shell_request(bogus)):
        _assert_invalid_selectors(me.post(xml))


def test_unknown_command_id(me):
    sid = me.create()
    bogus = str(uuid.uuid4()).upper()
    _assert_invalid_selectors(me.receive_raw(sid, bogus, op_timeout=5))
    xml, _ = H.signal_request(sid, bogus)
    _assert_invalid_selectors(me.post(xml))
    xml, _ = H.send_request(sid, bogus, b"x")
    _assert_invalid_selectors(me.post(xml))
    me.delete(sid)


def test_deleted_shell_is_gone(me):
    sid = me.create()
    me.delete(sid)
    xml, _ = H.command_request(sid, "echo x")
    _assert_invalid_selectors(me.post(xml))
    xml, _ = H.delete_shell_request(sid)
    _assert_invalid_selectors(me.post(xml))


def test_missing_shell_selector_is_a_fault(me):
    xml, _ = H.command_request(None, "echo x")
    H.assert_fault(me.post(xml))


def test_shell_selector_name_case_insensitive(me):
    sid = me.create()
    xml, _ = H.command_request(None, "echo ci",
                               headers=H.selector_set({"ShellID": sid}))
    r = me.post(xml)
    assert r.status == 200, r
    cid = H.body_child(r).find("rsp:CommandId", H.NS).text
    out, _, code, _ = me.collect(sid, cid)
    assert (out, code) == (b"ci\n", 0)
    me.delete(sid)


def test_other_users_shell_is_invisible(me, root):
    sid = root.create()
    cid = root.command(sid, "sleep 1; echo mine")
    for xml, _ in (H.receive_request(sid, cid),
                   H.command_request(sid, "id -un"),
                   H.send_request(sid, cid, b"x"),
                   H.signal_request(sid, cid),
                   H.delete_shell_request(sid)):
        _assert_invalid_selectors(me.post(xml))
    out, _, code, _ = root.collect(sid, cid)
    assert (out, code) == (b"mine\n", 0)
    root.delete(sid)


# ------------------------------------------------------- identities --

def test_commands_run_as_the_callers_account(me, root, local_user):
    out, _, code = me.run("id -un; id -u; id -g")
    assert code == 0
    assert out.decode().split() == [local_user.name, str(local_user.uid),
                                     str(local_user.gid)]
    out, _, code = root.run("id -un")
    assert (out, code) == (b"root\n", 0)


def test_no_privileges_kept(me):
    # real, effective and saved ids and the supplementary groups dropped
    out, _, code = me.run("grep -E '^(Uid|Gid|Groups|CapEff):' "
                          "/proc/self/status")
    assert code == 0
    st = dict(l.split(":", 1) for l in out.decode().splitlines())
    assert len(set(st["Uid"].split())) == 1 and st["Uid"].split()[0] != "0"
    assert "0" not in st["Gid"].split(), st
    assert "0" not in st["Groups"].split(), st
    assert int(st["CapEff"].strip(), 16) == 0, st


def test_identity_without_local_account_refused(srv, shell_users):
    c = H.ShellClient(srv.port, "alice", shell_users["alice"])
    resp, _ = c.create_raw()
    if resp.status == 200:
        # refused at the latest when it tries to run something
        sid = H.shell_id_of(resp)
        xml, _ = H.command_request(sid, "id -un")
        resp = c.post(xml)
    f = H.assert_fault(resp, 500)
    assert f.subcode == (H.NS["w"], "AccessDenied"), f


def test_run_as_user(srv, shell_users, local_user):
    c = H.ShellClient(srv.port, "alice", shell_users["alice"],
                      path="/runas")
    out, _, code = c.run("id -un")
    assert (out, code) == (local_user.name.encode() + b"\n", 0)


def test_no_execute_right_denied(srv, shell_users):
    # daemon is a local account but has no group that grants GX
    c = H.ShellClient(srv.port, "daemon", shell_users["daemon"])
    resp, _ = c.create_raw()
    f = H.assert_fault(resp, 500)
    assert f.subcode == (H.NS["w"], "AccessDenied"), f


def test_shell_off(srv, local_user):
    c = H.ShellClient(srv.port, local_user.name, local_user.password,
                      path="/off")
    resp, _ = c.create_raw()
    H.assert_fault(resp)
    xml, _ = H.command_request(str(uuid.uuid4()), "echo x")
    H.assert_fault(c.post(xml))


# ----------------------------------------------------------- workers --

def _log_lines(srv, offset):
    path = srv.logs / "shell.log"
    with open(path, "rb") as f:
        f.seek(offset)
        return [l.split("|") for l in f.read().decode().splitlines()]


def test_one_shell_across_workers(srv, me):
    """Create, Command, Send, Receive, Signal and Delete of several
    shells, each request on a new connection: they are served by more
    than one of the 4 workers and all work."""
    off = H.file_size(srv.logs / "shell.log")
    for i in range(4):
        sid = me.create()
        cid = me.command(sid, "cat")
        me.send(sid, cid, b"part%d-a\n" % i)
        me.send(sid, cid, b"part%d-b\n" % i, end=True)
        out, _, code, _ = me.collect(sid, cid)
        assert (out, code) == (b"part%d-a\npart%d-b\n" % (i, i), 0)
        me.signal(sid, cid)
        me.delete(sid)
    time.sleep(0.2)
    lines = [l for l in _log_lines(srv, off)
             if l[1].startswith(H.SHELL_NS) or l[1] in
             (H.ACTION_CREATE, H.ACTION_DELETE)]
    assert len(lines) >= 24, lines
    pids = {l[0] for l in lines}
    assert len(pids) >= 2, pids
    assert all(l[2] == me.user and l[3] in ("", "-") for l in lines), lines


def test_concurrent_shells(srv, me, root):
    """Shells of two users, commands started together, output kept
    apart."""
    a, b = me.create(), root.create()
    ca = me.command(a, "sleep 1; echo A")
    cb = root.command(b, "echo B; sleep 1; echo B2 >&2")
    oa = me.collect(a, ca)
    ob = root.collect(b, cb)
    assert oa[:3] == (b"A\n", b"", 0)
    assert ob[:3] == (b"B\n", b"B2\n", 0)
    me.delete(a)
    root.delete(b)


# ------------------------------------------------ long polls, workers --

def test_send_wakes_a_pending_receive(me):
    """A Receive waiting on one connection (worker) is answered when a
    Send on another connection feeds the command."""
    import threading
    sid = me.create()
    cid = me.command(sid, "cat")
    box = {}

    def waiter():
        t0 = time.time()
        box["r"] = me.receive(sid, cid, op_timeout=15)
        box["took"] = time.time() - t0
    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(1)
    me.send(sid, cid, b"wake up\n")
    t.join(20)
    assert not t.is_alive()
    assert box["r"] is not None and box["r"].stdout == b"wake up\n", box
    assert box["took"] < 5, box["took"]
    me.send(sid, cid, b"", end=True)
    assert me.collect(sid, cid)[2] == 0
    me.delete(sid)


def test_aborted_receive_loses_no_output(me, srv):
    """The client gives up on a long poll; output produced afterwards is
    delivered to the next Receive, not to the dead request."""
    sid = me.create()
    cid = me.command(sid, "sleep 1.5; echo kept")
    xml, _ = H.receive_request(sid, cid, operation_timeout="PT10S")
    data = H.build_request(srv.port, "POST", "/wsman", xml, [
        ("Authorization", H.basic(me.user, me.password)),
        ("Content-Type", H.SOAP_CT)])
    import socket
    s = socket.create_connection(("127.0.0.1", srv.port), 5)
    s.sendall(data)
    time.sleep(0.5)
    s.close()
    time.sleep(2)                   # the output exists now
    out, _, code, _ = me.collect(sid, cid)
    assert (out, code) == (b"kept\n", 0)
    me.delete(sid)


def test_pending_receives_do_not_block_workers(me, srv, shell_users):
    """Twelve Receives wait at once (3 per worker); other requests are
    still answered at once."""
    import threading
    sid = me.create()
    cids = [me.command(sid, "sleep 20") for _ in range(12)]
    results = []

    def waiter(cid):
        results.append(me.receive_raw(sid, cid, op_timeout=4))
    threads = [threading.Thread(target=waiter, args=(c,)) for c in cids]
    for t in threads:
        t.start()
    time.sleep(0.5)
    other = H.ShellClient(srv.port, "root", shell_users["root"])
    for _ in range(4):
        t0 = time.time()
        xml, _ = H.config_get()
        r = other.post(xml, timeout=5)
        assert r.status == 200, r
        assert time.time() - t0 < 1.0
    t0 = time.time()
    out, _, code = other.run("echo meanwhile")
    assert (out, code) == (b"meanwhile\n", 0)
    assert time.time() - t0 < 3
    for t in threads:
        t.join(15)
    assert len(results) == 12
    for r in results:
        f = H.assert_fault(r, 500, subcode=("w", "TimedOut"))
        assert f.wsman_code == H.CODE_TIMED_OUT
    for c in cids:
        me.signal(sid, c)
    me.delete(sid)
