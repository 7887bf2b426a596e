"""WinRS shells (issue [4]) through real clients: pywinrm 0.3.0 (Session
and the low-level Protocol) and the masterzen/winrm Go library (Basic and
NTLM).  pywinrm runs in a child /usr/bin/python3 with a timeout, because
its get_command_output retries w:TimedOut forever."""

import base64
import json
import os
import subprocess
import time

import pytest

import infra
import wsman_helpers as H

pytestmark = pytest.mark.usefixtures("deadline")


@pytest.fixture(scope="module")
def srv(shell_nginx):
    # defaults (the Go client and pywinrm's Session always use /wsman)
    return shell_nginx({"/wsman": "wsman_shell_allow_root on;"}, workers=4)


@pytest.fixture(scope="module")
def short_srv(shell_nginx):
    # Receive waits at most 5 s
    return shell_nginx({"/wsman": "wsman_max_timeout 5s;"})


# --------------------------------------------------------- pywinrm --

# Runs in the child.  stdin: JSON {endpoint, user, password, mode, ...};
# stdout: one JSON line.  The Protocol's send_message is wrapped so that
# the raw response envelopes can be checked too.
PYWINRM_SCRIPT = r'''
import base64, json, sys, uuid
import xmltodict
import winrm
from winrm.protocol import Protocol

cfg = json.load(sys.stdin)
b64 = lambda b: base64.b64encode(b).decode()
URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
SEND = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
res = {}
if cfg["mode"] == "session":
    s = winrm.Session(cfg["endpoint"], auth=(cfg["user"], cfg["password"]),
                      transport="plaintext")
    r = s.run_cmd(cfg["command"], cfg.get("args", []))
    res = {"stdout": b64(r.std_out), "stderr": b64(r.std_err),
           "status": r.status_code}
else:
    p = Protocol(endpoint=cfg["endpoint"], transport="plaintext",
                 username=cfg["user"], password=cfg["password"])
    raw = []
    plain_send = p.send_message
    def recording_send(message):
        out = plain_send(message)
        raw.append(out.decode() if isinstance(out, bytes) else out)
        return out
    p.send_message = recording_send
    shell_id = p.open_shell(codepage=cfg.get("codepage", 437))
    res["create"] = raw[-1]
    res["shell_id"] = shell_id
    cid = p.run_command(shell_id, cfg["command"], cfg.get("args", []))
    res["command_id"] = cid
    if "stdin" in cfg:
        req = {"env:Envelope": p._get_soap_header(
            resource_uri=URI, action=SEND, shell_id=shell_id)}
        stream = req["env:Envelope"].setdefault("env:Body", {}).setdefault(
            "rsp:Send", {}).setdefault("rsp:Stream", {})
        stream["@Name"] = "stdin"
        stream["@CommandId"] = cid
        stream["@End"] = "true"
        stream["#text"] = b64(cfg["stdin"].encode())
        p.send_message(xmltodict.unparse(req))
        res["send"] = raw[-1]
    out, err, status = p.get_command_output(shell_id, cid)
    res.update(stdout=b64(out), stderr=b64(err), status=status)
    p.cleanup_command(shell_id, cid)
    res["signal"] = raw[-1]
    p.close_shell(shell_id)
    res["delete"] = raw[-1]
print(json.dumps(res))
'''


def pywinrm(endpoint, user, password, command, args=(), mode="session",
            timeout=60, **extra):
    cfg = dict(endpoint=endpoint, user=user, password=password,
               command=command, args=list(args), mode=mode, **extra)
    env = dict(os.environ)
    for k in list(env):
        if k.upper() in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                         "NO_PROXY"):
            del env[k]
    p = subprocess.run(["/usr/bin/python3", "-c", PYWINRM_SCRIPT],
                       input=json.dumps(cfg), capture_output=True,
                       text=True, timeout=timeout, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    for k in ("stdout", "stderr"):
        res[k] = base64.b64decode(res[k])
    return res


def test_pywinrm_echo(srv, local_user):
    r = pywinrm(srv.url(), local_user.name, local_user.password, "echo",
                ["hello"])
    assert (r["stdout"], r["stderr"], r["status"]) == (b"hello\n", b"", 0)


def test_pywinrm_exit_status(srv, local_user):
    r = pywinrm(srv.url(), local_user.name, local_user.password, "exit 3")
    assert r["status"] == 3


def test_pywinrm_stderr(srv, local_user):
    r = pywinrm(srv.url(), local_user.name, local_user.password,
                "echo to-out; echo to-err 1>&2; exit 1")
    assert r["stdout"] == b"to-out\n"
    assert r["stderr"] == b"to-err\n"
    assert r["status"] == 1


def test_pywinrm_runs_as_caller(srv, local_user, shell_users):
    r = pywinrm(srv.url(), local_user.name, local_user.password, "id -un")
    assert (r["stdout"], r["status"]) == \
        (local_user.name.encode() + b"\n", 0)
    r = pywinrm(srv.url(), "root", shell_users["root"], "id", ["-un"])
    assert (r["stdout"], r["status"]) == (b"root\n", 0)


def test_pywinrm_10mb_output(srv, local_user):
    n = 10 * 1024 * 1024
    t0 = time.time()
    r = pywinrm(srv.url(), local_user.name, local_user.password,
                "head -c %d /dev/zero | tr '\\0' x" % n, timeout=65)
    assert r["status"] == 0 and r["stderr"] == b""
    assert len(r["stdout"]) == n, len(r["stdout"])
    assert r["stdout"] == b"x" * n
    assert time.time() - t0 < 60


def test_pywinrm_long_command_across_timeouts(short_srv, local_user):
    """pywinrm sends OperationTimeout PT20S; the server answers every 5 s
    with w:TimedOut, which pywinrm retries silently."""
    srv = short_srv
    log = srv.logs / "shell.log"
    off = H.file_size(log)
    t0 = time.time()
    r = pywinrm(srv.url(), local_user.name, local_user.password,
                "sleep 25; echo done", timeout=60)
    took = time.time() - t0
    assert (r["stdout"], r["status"]) == (b"done\n", 0)
    assert 24 < took < 50, took
    time.sleep(0.2)
    with open(log) as f:
        f.seek(off)
        receives = [l for l in f.read().splitlines()
                    if l.split("|")[1] == H.ACTION_RECEIVE]
    assert len(receives) >= 5, receives       # >= 4 timeouts + the last
    assert sum(1 for l in receives if l.split("|")[3] not in ("", "-")) \
        >= 4, receives


def test_pywinrm_utf8_codepage_65001(srv, local_user):
    r = pywinrm(srv.url(), local_user.name, local_user.password,
                "printf 'h\\303\\251llo'; echo ' w\u00f6rld \u20ac'",
                mode="protocol", codepage=65001)
    assert r["status"] == 0
    assert r["stdout"] == "h\u00e9llo w\u00f6rld \u20ac\n".encode()


def test_pywinrm_protocol_low_level(srv, local_user):
    r = pywinrm(srv.url(), local_user.name, local_user.password, "cat",
                mode="protocol", stdin="from stdin\nline 2\n")
    assert (r["stdout"], r["stderr"], r["status"]) == \
        (b"from stdin\nline 2\n", b"", 0)
    sid = r["shell_id"]
    create = H.Response(200, [], r["create"].encode())
    assert H.shell_id_of(create) == sid
    body = H.parse(create).find("s:Body", H.NS)
    shell = body.find("rsp:Shell", H.NS)
    assert shell is not None, r["create"][:800]
    for name in ("ShellId", "Owner", "ClientIP", "IdleTimeOut"):
        el = shell.find("rsp:" + name, H.NS)
        assert el is not None and (el.text or "").strip(), name
    assert shell.find("rsp:ShellId", H.NS).text.strip() == sid
    assert local_user.name in shell.find("rsp:Owner", H.NS).text
    assert shell.find("rsp:ClientIP", H.NS).text.strip() == "127.0.0.1"
    send = H.body_child(H.Response(200, [], r["send"].encode()))
    assert send.tag == H.q("rsp", "SendResponse")
    sig = H.Response(200, [], r["signal"].encode())
    assert H.header_text(sig, "a", "Action") == H.ACTION_SIGNAL + "Response"
    assert H.body_child(sig).tag == H.q("rsp", "SignalResponse")
    dele = H.Response(200, [], r["delete"].encode())
    assert H.header_text(dele, "a", "Action") == \
        H.ACTION_DELETE + "Response"
    # the shell is gone now
    c = H.ShellClient(srv.port, local_user.name, local_user.password)
    xml, _ = H.command_request(sid, "echo x")
    f = H.assert_fault(c.post(xml), 500)
    assert f.wsman_code == H.CODE_INVALID_SELECTORS


def test_pywinrm_no_local_account(srv, shell_users):
    cfg = dict(endpoint=srv.url(), user="alice",
               password=shell_users["alice"], command="id -un", args=[],
               mode="session")
    p = subprocess.run(["/usr/bin/python3", "-c", PYWINRM_SCRIPT],
                       input=json.dumps(cfg), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0
    assert "WinRMError" in p.stderr, p.stderr[-2000:]


# ------------------------------------------------- masterzen/winrm --

def go(goclient, port, user, password, command, stdin=None, ntlm=False,
       op_timeout=10, timeout=60):
    args = [str(goclient), "-port", str(port), "-user", user,
            "-pass", password, "-cmd", command,
            "-timeout", str(op_timeout)]
    if stdin is not None:
        args += ["-stdin", stdin]
    if ntlm:
        args.append("-ntlm")
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
    p = subprocess.run(args, capture_output=True, text=True,
                       timeout=timeout, env=env)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    res = json.loads(p.stdout.strip().splitlines()[-1])
    for k in ("stdout", "stderr"):
        res[k] = base64.b64decode(res[k] or "")
    return res


def test_go_basic_runs_as_caller(srv, goclient, local_user):
    r = go(goclient, srv.port, local_user.name, local_user.password,
           "id -un")
    assert (r["stdout"], r["exit"]) == (local_user.name.encode() + b"\n", 0)


def test_go_exit_code_and_stderr(srv, goclient, local_user):
    r = go(goclient, srv.port, local_user.name, local_user.password,
           "echo o; echo e >&2; exit 4")
    assert (r["stdout"], r["stderr"], r["exit"]) == (b"o\n", b"e\n", 4)


def test_go_special_characters(srv, goclient, local_user):
    # masterzen wraps the command in CDATA
    r = go(goclient, srv.port, local_user.name, local_user.password,
           "echo '<a & b>' && printf '\\303\\244'")
    assert (r["stdout"], r["exit"]) == ("<a & b>\n\u00e4".encode(), 0)


def test_go_stdin(srv, goclient, local_user):
    r = go(goclient, srv.port, local_user.name, local_user.password,
           "tr a-z A-Z", stdin="piped through\n")
    assert (r["stdout"], r["exit"]) == (b"PIPED THROUGH\n", 0)


def test_go_long_command_across_timeouts(srv, goclient, local_user):
    """masterzen recognises the TimedOut fault by the word
    'OperationTimeout' in its text and polls again."""
    t0 = time.time()
    r = go(goclient, srv.port, local_user.name, local_user.password,
           "sleep 9; echo slept", op_timeout=2)
    assert (r["stdout"], r["exit"]) == (b"slept\n", 0)
    assert time.time() - t0 < 30


@pytest.fixture(scope="module")
def ntlm_srv(ntlm_shell_nginx):
    """the client speaks NTLM without sealing the messages"""
    return ntlm_shell_nginx(unencrypted=True)


def test_go_ntlm(ntlm_srv, goclient, ntlm_users, local_user):
    r = go(goclient, ntlm_srv.port, "bob",
           infra.NtlmUsers.USERS["bob"], "id -un; echo via-ntlm >&2",
           ntlm=True)
    assert r["stdout"] == local_user.name.encode() + b"\n"
    assert r["stderr"] == b"via-ntlm\n"
    assert r["exit"] == 0


def test_go_ntlm_stdin(ntlm_srv, goclient, ntlm_users):
    r = go(goclient, ntlm_srv.port, "bob", infra.NtlmUsers.USERS["bob"],
           "wc -c", stdin="x" * 1000, ntlm=True)
    assert (r["stdout"].strip(), r["exit"]) == (b"1000", 0)
