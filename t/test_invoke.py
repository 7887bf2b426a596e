"""Custom actions (Invoke): Win32_Process/Terminate kills a process when
the caller's Unix account may signal it, needs GX, and reports
ReturnValue 0 (done) or 2 (access denied)."""

import os
import pwd
import subprocess
import time

import pytest

import wsman_helpers as H

W32P = H.class_uri("Win32_Process")
TERMINATE = W32P + "/Terminate"

# user-file users named after Unix accounts; rita-like "reader" maps to
# ER, which the default RootSDDL grants GR but not GX
INVOKE_USERS = {
    "root": ("Root-Pw-invoke1", "admins"),
    "nobody": ("Nobody-Pw-invoke2", "admins"),
    "reader": ("Reader-Pw-invoke3", "readers"),
}

INVOKE_HTTP = """
    wsman_group_sid readers ER;
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic;
                          wsman_user_file @INVOKEUSERS@;
                          wsman_allow_unencrypted on; }
    }
"""


@pytest.fixture(scope="module")
def invoke_http(tmp_path_factory):
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.fail("the Unix user nobody is missing")
    path = tmp_path_factory.mktemp("invoke") / "users"
    path.write_text("".join("%s:{PLAIN}%s:%s\n" % (u, pw, g)
                            for u, (pw, g) in INVOKE_USERS.items()))
    return INVOKE_HTTP.replace("@INVOKEUSERS@", str(path))


@pytest.fixture(scope="module")
def isrv(nginx_factory, invoke_http):
    # Terminate signals other accounts' processes from the worker itself:
    # that takes root workers (www-data ones answer ReturnValue 2, below)
    n = nginx_factory(invoke_http, worker_user="root")
    return H.Client(n.port, INVOKE_USERS)


@pytest.fixture
def victim():
    p = subprocess.Popen(["sleep", "300"])
    yield p
    if p.poll() is None:
        p.kill()
    p.wait()


def _invoke(client, pid, user, method="Terminate", uri=W32P):
    xml, mid = H.invoke_request(uri, method, {"Handle": str(pid)})
    return client.post(xml, user=user), mid


def _return_value(r, mid, method="Terminate", uri=W32P):
    assert r.status == 200, r
    assert H.header_text(r, "a", "Action") == "%s/%sResponse" % (uri, method)
    assert H.header_text(r, "a", "RelatesTo") == mid
    out = H.body_child(r)
    assert out.tag == "{%s}%s_OUTPUT" % (uri, method), out.tag
    rv = out.find("{%s}ReturnValue" % uri)
    assert rv is not None, r.body[:600]
    return int(rv.text)


def test_terminate_as_root(isrv, victim):
    r, mid = _invoke(isrv, victim.pid, "root")
    assert _return_value(r, mid) == 0
    victim.wait(timeout=5)
    assert victim.returncode < 0, victim.returncode
    assert not os.path.exists("/proc/%d" % victim.pid)


def test_terminate_as_nobody_is_refused(isrv, victim):
    r, mid = _invoke(isrv, victim.pid, "nobody")
    assert _return_value(r, mid) == 2
    time.sleep(0.2)
    assert victim.poll() is None, "nobody killed root's process"


def test_terminate_from_unprivileged_workers_kills_nothing(nginx_factory,
                                                           invoke_http,
                                                           victim):
    """Workers as deployments run them (www-data): even an administrator
    mapped to root cannot have them signal another account's process."""
    n = nginx_factory(invoke_http)
    r, mid = _invoke(H.Client(n.port, INVOKE_USERS), victim.pid, "root")
    assert _return_value(r, mid) == 2
    time.sleep(0.2)
    assert victim.poll() is None, "www-data workers killed root's process"
    n.stop()


def test_terminate_nonexistent_pid(isrv):
    r, _ = _invoke(isrv, 4194305, "root")
    f = H.assert_fault(r, 500, subcode=("a", "DestinationUnreachable"))
    assert f.wsman_code == H.CODE_DESTINATION_UNREACHABLE, f


def test_bogus_method(isrv, victim):
    r, _ = _invoke(isrv, victim.pid, "root", method="NoSuchMethod")
    f = H.assert_fault(r, 500, subcode=("a", "ActionNotSupported"))
    assert f.wsman_code == H.CODE_ACTION_NOT_SUPPORTED, f
    assert victim.poll() is None


def test_invoke_needs_execute_right(isrv, victim):
    # the reader may enumerate (GR) ...
    items, _ = H.enumerate_all(isrv, W32P, user="reader",
                               selectors={"Handle": str(victim.pid)})
    assert len(items) == 1
    # ... but not invoke (GX)
    r, _ = _invoke(isrv, victim.pid, "reader")
    H.assert_fault(r, (400, 500), subcode=("w", "AccessDenied"))
    assert victim.poll() is None


def test_terminate_without_selector(isrv):
    xml, _ = H.invoke_request(W32P, "Terminate")
    r = isrv.post(xml, user="root")
    H.assert_fault(r, (400, 500))
    assert not r.status == 200


def test_terminate_via_pywinrm(isrv, victim):
    import infra
    xml, _ = H.invoke_request(W32P, "Terminate",
                              {"Handle": str(victim.pid)})
    out = infra.run_pywinrm("http://127.0.0.1:%d/wsman" % isrv.port,
                            "basic", "root", INVOKE_USERS["root"][0], xml)
    assert out.returncode == 0, out.stderr
    r = H.Response(200, [], out.stdout.encode())
    body = H.body_child(r)
    assert body.tag == "{%s}Terminate_OUTPUT" % W32P
    assert body.find("{%s}ReturnValue" % W32P).text == "0"
    victim.wait(timeout=5)
