"""Shell sessions (issue [7] section 4, issue [8] "Shells as clients use
them"): PAM's account and session stages for the account commands run as
(`wsman_shell_pam SERVICE;`): expired accounts, pam_deny / pam_access in
the account stage, pam_limits and a session closed when the shell ends;
PAM never stalls other shells.

Real PAM services are written to /etc/pam.d/wsman-test-<pid>-shell-* and
removed at the end."""

import os
import pathlib
import subprocess
import threading
import time

import pytest

import wsman_helpers as H
from conftest import SHELL_LOC, _hash

pytestmark = pytest.mark.usefixtures("deadline")

PAM_DIR = pathlib.Path("/etc/pam.d")


def _module(name):
    for d in ("/usr/lib/x86_64-linux-gnu/security", "/lib/security",
              "/usr/lib/security", "/lib/x86_64-linux-gnu/security"):
        if os.path.exists(os.path.join(d, name)):
            return name
    pytest.skip("PAM module %s missing (libpam-modules)" % name)


@pytest.fixture(scope="module")
def expired_user(local_user):
    """A second local account whose expiry date has passed."""
    name = "wsmanexp%d" % os.getpid()
    subprocess.run(["/usr/sbin/useradd", "-M", "-s", "/bin/sh", name],
                   check=True, capture_output=True, timeout=30)
    subprocess.run(["/usr/bin/chage", "-E", "0", name], check=True,
                   capture_output=True, timeout=30)
    yield name
    subprocess.run(["/usr/sbin/userdel", "-f", name], capture_output=True,
                   timeout=30)


@pytest.fixture(scope="module")
def pam(tmp_path_factory, local_user):
    """kind -> service name; .log is the session log pam_exec writes."""
    if os.geteuid() != 0 or not os.access(PAM_DIR, os.W_OK):
        pytest.skip("needs root to write /etc/pam.d")
    d = tmp_path_factory.mktemp("shellpam")
    d.chmod(0o755)
    log = d / "session.log"
    script = d / "session.sh"
    script.write_text("#!/bin/sh\necho \"$PAM_TYPE $PAM_USER $PAM_RHOST\" "
                      ">> %s\n" % log)
    script.chmod(0o755)
    hang = d / "hang.sh"
    hang.write_text("#!/bin/sh\nsleep 47\n")
    hang.chmod(0o755)
    slow = d / "slow.sh"
    slow.write_text("#!/bin/sh\n[ \"$PAM_TYPE\" = open_session ] && "
                    "sleep 3\nexit 0\n")
    slow.chmod(0o755)
    limits = d / "limits.conf"
    limits.write_text("%s soft nofile 100\n%s hard nofile 123\n"
                      % (local_user.name, local_user.name))
    envconf = d / "pam_env.conf"
    envconf.write_text("WSMAN_PAM_VAR DEFAULT=from-pam\n"
                       "WSMAN_PAM_OVER DEFAULT=pam\n")
    access = d / "access.conf"
    access.write_text("-:%s:ALL\n+:ALL:ALL\n" % local_user.name)
    for m in ("pam_permit.so", "pam_deny.so", "pam_exec.so", "pam_env.so",
              "pam_limits.so", "pam_access.so", "pam_unix.so"):
        _module(m)
    services = {
        "session": "account required pam_permit.so\n"
                   "session required pam_limits.so conf=%s\n"
                   "session required pam_env.so conffile=%s readenv=0\n"
                   "session required pam_exec.so %s\n"
                   % (limits, envconf, script),
        "acctdeny": "account required pam_deny.so\n"
                    "session required pam_permit.so\n",
        "access": "account required pam_access.so accessfile=%s\n"
                  "session required pam_permit.so\n" % access,
        "unix": "account required pam_unix.so\n"
                "session required pam_permit.so\n",
        "hang": "account required pam_permit.so\n"
                "session required pam_exec.so %s\n" % hang,
        "slow": "account required pam_permit.so\n"
                "session required pam_exec.so %s\n" % slow,
    }
    names, files = {}, []
    for kind, text in services.items():
        name = "wsman-test-%d-shell-%s" % (os.getpid(), kind)
        path = PAM_DIR / name
        path.write_text("# written by the ngx_wsman test suite\n" + text)
        files.append(path)
        names[kind] = name

    class P(dict):
        pass
    p = P(names)
    p.log = log
    yield p
    for f in files:
        f.unlink()


@pytest.fixture(scope="module")
def users_file(tmp_path_factory, local_user, expired_user):
    path = tmp_path_factory.mktemp("sessusers") / "users.htpasswd"
    path.write_text("%s:%s:admins\n%s:%s:admins\n" % (
        local_user.name, _hash(local_user.password, "-6"),
        expired_user, _hash("Expired-Pw-7", "-6")))
    path.chmod(0o644)
    return path


@pytest.fixture(scope="module")
def srv(nginx_factory, pam, users_file):
    loc = SHELL_LOC.replace("@SHELLUSERS@", str(users_file))
    locs = {"/wsman": "", "/session": "wsman_shell_pam %s;" % pam["session"],
            "/acctdeny": "wsman_shell_pam %s;" % pam["acctdeny"],
            "/access": "wsman_shell_pam %s;" % pam["access"],
            "/unix": "wsman_shell_pam %s;" % pam["unix"],
            "/slow": "wsman_shell_pam %s;" % pam["slow"],
            "/hang": "wsman_shell_pam %s;" % pam["hang"]}
    return nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@ reuseport;
%s    }
""" % "".join("        location %s { %s %s }\n" % (p, loc, extra)
              for p, extra in locs.items()), workers=2)


def me(srv, local_user, path="/wsman"):
    return H.ShellClient(srv.port, local_user.name, local_user.password,
                         path=path)


def _denied(resp):
    f = H.assert_fault(resp, 500)
    assert f.subcode == (H.NS["w"], "AccessDenied"), f
    return f


# --------------------------------------------------------------- PAM --

def test_pam_session_opened_limits_applied_and_closed(srv, pam,
                                                      local_user):
    before = pam.log.read_text() if pam.log.exists() else ""
    c = me(srv, local_user, "/session")
    sid = c.create(env={"WSMAN_PAM_OVER": "client"})
    try:
        log = pam.log.read_text()[len(before):]
        assert log.splitlines() == ["open_session %s 127.0.0.1"
                                    % local_user.name], log
        cid = c.command(sid, "ulimit -n; ulimit -Hn; "
                             "echo $WSMAN_PAM_VAR $WSMAN_PAM_OVER")
        out, err, code, _ = c.collect(sid, cid)
        # pam_limits and pam_env; the client's own variables win
        assert (out.split(), code) == (
            [b"100", b"123", b"from-pam", b"client"], 0), err
    finally:
        c.delete(sid)
    # closed when the shell ends
    assert H.wait_until(lambda: "close_session" in
                        pam.log.read_text()[len(before):], 5), \
        pam.log.read_text()[len(before):]
    # without wsman_shell_pam nothing of it applies
    out, _, _ = me(srv, local_user).run("ulimit -Hn")
    assert out.strip() != b"123"


def test_pam_account_stage_denies(srv, local_user):
    resp, _ = me(srv, local_user, "/acctdeny").create_raw()
    _denied(resp)


def test_pam_access_denies(srv, local_user, expired_user):
    resp, _ = me(srv, local_user, "/access").create_raw()
    _denied(resp)
    # another account is not in the deny line (and pam_access does not
    # look at expiry dates)
    c = H.ShellClient(srv.port, expired_user, "Expired-Pw-7",
                      path="/access")
    out, _, code = c.run("id -un")
    assert (out, code) == (expired_user.encode() + b"\n", 0)


def test_expired_account_refused(srv, expired_user):
    c = H.ShellClient(srv.port, expired_user, "Expired-Pw-7", path="/unix")
    resp, _ = c.create_raw()
    _denied(resp)
    # the same account without the PAM stage still gets its shell
    c = H.ShellClient(srv.port, expired_user, "Expired-Pw-7")
    out, _, code = c.run("id -un")
    assert (out, code) == (expired_user.encode() + b"\n", 0)


def test_unexpired_account_passes_pam_unix(srv, local_user):
    out, _, code = me(srv, local_user, "/unix").run("echo fine")
    assert (out, code) == (b"fine\n", 0)


def test_slow_pam_does_not_stall_other_shells(srv, local_user):
    """A session stage that takes 3 s holds only its own Create."""
    box = {}

    def slow():
        t0 = time.time()
        c = me(srv, local_user, "/slow")
        box["sid"] = c.create()
        box["took"] = time.time() - t0
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    t0 = time.time()
    out, _, code = me(srv, local_user).run("echo quick")
    quick = time.time() - t0
    t.join(20)
    assert (out, code) == (b"quick\n", 0)
    assert quick < 2, quick
    assert box.get("took", 0) >= 2.5, box
    me(srv, local_user, "/slow").delete(box["sid"])


def test_pam_session_closed_when_nginx_stops(nginx_factory, pam,
                                             users_file, local_user):
    """Shells end with nginx; so do their PAM sessions."""
    loc = SHELL_LOC.replace("@SHELLUSERS@", str(users_file))
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        location /session { %s wsman_shell_pam %s; }
    }
""" % (loc, pam["session"]))
    before = pam.log.read_text() if pam.log.exists() else ""
    c = me(n, local_user, "/session")
    c.create()
    c.create()
    assert pam.log.read_text()[len(before):].count("open_session") == 2
    n.stop()
    assert H.wait_until(lambda: pam.log.read_text()[len(before):]
                        .count("close_session") == 2, 5), \
        pam.log.read_text()[len(before):]


def test_pam_session_survives_a_group_sigterm(nginx_factory, pam,
                                              users_file, local_user):
    """systemd stops a service by sending SIGTERM to all its processes:
    the session keeper outlives it until the shell host lets go of the
    shell, and the session is closed."""
    import signal
    loc = SHELL_LOC.replace("@SHELLUSERS@", str(users_file))
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        location /session { %s wsman_shell_pam %s; }
    }
""" % (loc, pam["session"]))
    before = pam.log.read_text() if pam.log.exists() else ""
    me(n, local_user, "/session").create()
    host = H.shell_host_pid(n)
    keepers = H.proc_children(host, "wsman-session")
    assert len(keepers) == 1, keepers
    for pid in keepers + [host]:
        os.kill(pid, signal.SIGTERM)
    assert H.wait_until(lambda: "close_session" in
                        pam.log.read_text()[len(before):], 5), \
        pam.log.read_text()[len(before):]
    assert H.wait_until(lambda: all(H.proc_zombie(p) for p in keepers), 5)


def test_hung_pam_stack_fails_the_create_in_time(srv, local_user):
    """A PAM stack that never finishes: w:InternalError after 20 s, the
    setup killed with what it started, no shell left over."""
    def hung():
        return [p for p in os.listdir("/proc") if p.isdigit()
                and H.proc_cmdline(int(p)).strip() == "sleep 47"]
    c = H.ShellClient(srv.port, local_user.name, local_user.password,
                      path="/hang", timeout=40)
    t0 = time.time()
    resp, _ = c.create_raw()
    took = time.time() - t0
    f = H.assert_fault(resp, 500)
    assert f.subcode == (H.NS["w"], "InternalError"), f
    assert 19 <= took < 24, took
    assert H.wait_until(lambda: not hung(), 5), hung()
    # the host is fine
    out, _, code = me(srv, local_user).run("echo after")
    assert (out, code) == (b"after\n", 0)
