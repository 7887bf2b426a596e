"""Debian's ansible-core (2.14) with its winrm connection (pywinrm
underneath), `raw` module, transports basic and ntlm.

Ansible's winrm connection wraps every command -- `raw` ones too -- as
`PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted
-EncodedCommand <base64 of the UTF-16LE script>`.  On a host without a
`PowerShell` executable the command reaches the host's shell and fails
there with rc=127 and `/bin/sh: 1: PowerShell: not found`, which is what
the first tests check (authentication, shell, command, output streams and
exit code all went through).  The last tests give the command account a
`PowerShell` (a stand-in script that decodes -EncodedCommand and runs it
with /bin/sh) in a private mount namespace of that test's nginx, and
check the raw command's stdout and exit code as Ansible reports them."""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

import infra
import wsman_helpers as H

pytestmark = pytest.mark.usefixtures("deadline")

ANSIBLE = shutil.which("ansible") or "/usr/bin/ansible"
HERE = pathlib.Path(__file__).resolve().parent
NOT_FOUND = "/bin/sh: 1: PowerShell: not found"


@pytest.fixture(scope="module")
def ansible_home(tmp_path_factory):
    if not os.path.exists(ANSIBLE):
        pytest.fail("%s missing: install ansible-core (make deps-test)"
                    % ANSIBLE)
    return tmp_path_factory.mktemp("ansible")


def ansible_raw(home, port, user, password, command, transport="basic",
                timeout=60):
    """`ansible target -m raw -a COMMAND` against 127.0.0.1:port; returns
    the host's result and ansible's exit status."""
    inv = home / ("inventory-%d-%s.json" % (port, transport))
    inv.write_text(json.dumps({"all": {"hosts": {"target": {
        "ansible_host": "127.0.0.1",
        "ansible_port": port,
        "ansible_connection": "winrm",
        "ansible_winrm_scheme": "http",
        "ansible_winrm_transport": transport,
        "ansible_winrm_server_cert_validation": "ignore",
        "ansible_winrm_operation_timeout_sec": 10,
        "ansible_winrm_read_timeout_sec": 20,
        "ansible_user": user,
        "ansible_password": password,
    }}}}))
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                                "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                "NO_PROXY")}
    env.update(HOME=str(home),
               ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
               ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_NOCOLOR="1",
               # NTLM needs MD4, which OpenSSL 3 keeps in its legacy provider
               OPENSSL_CONF=str(HERE / "openssl-legacy.cnf"))
    # ansible-core's own `tree` callback (-t) writes the host's result as
    # JSON (the json callback lives in a collection Debian does not ship)
    tree = home / ("tree-%d-%s" % (port, transport))
    shutil.rmtree(tree, ignore_errors=True)
    p = subprocess.run([ANSIBLE, "target", "-i", str(inv), "-t", str(tree),
                        "-m", "raw", "-a", command], capture_output=True,
                       text=True, timeout=timeout, env=env, cwd=str(home))
    try:
        host = json.loads((tree / "target").read_text())
    except (OSError, ValueError):
        raise AssertionError("no ansible result: rc=%d\n%s\n%s"
                             % (p.returncode, p.stdout[-3000:],
                                p.stderr[-3000:]))
    return host, p.returncode


# ---------------------------------------------- without PowerShell --

@pytest.fixture(scope="module")
def srv(shell_nginx):
    return shell_nginx({"/wsman": ""})


@pytest.fixture(scope="module")
def ntlm_srv(ntlm_shell_nginx):
    """NTLM over plain HTTP with AllowUnencrypted off: pywinrm seals every
    message."""
    return ntlm_shell_nginx(unencrypted=False)


def test_ansible_raw_basic_reaches_the_shell(srv, local_user,
                                             ansible_home):
    off = H.file_size(srv.logs / "shell.log")
    res, rc = ansible_raw(ansible_home, srv.port, local_user.name,
                          local_user.password, "echo hi")
    assert rc != 0
    assert res.get("rc") == 127, res
    assert res.get("stdout") == "", res
    assert res.get("stderr", "").strip() == NOT_FOUND, res
    assert not res.get("unreachable"), res
    H.assert_shell_cycle(srv, off, local_user.name)


def test_ansible_raw_ntlm_reaches_the_shell(ntlm_srv, ntlm_users,
                                            ansible_home):
    off = H.file_size(ntlm_srv.logs / "shell.log")
    res, rc = ansible_raw(ansible_home, ntlm_srv.port,
                          "%s\\bob" % infra.NtlmUsers.DOMAIN,
                          infra.NtlmUsers.USERS["bob"], "echo hi",
                          transport="ntlm")
    assert res.get("rc") == 127, res
    assert res.get("stderr", "").strip() == NOT_FOUND, res
    H.assert_shell_cycle(ntlm_srv, off, "bob")


def test_ansible_wrong_password_is_unreachable(srv, local_user,
                                               ansible_home):
    res, rc = ansible_raw(ansible_home, srv.port, local_user.name,
                          "wrong-password", "echo hi")
    assert rc != 0
    assert res.get("unreachable") is True, res
    assert "401" in res.get("msg", "") or "credentials" in \
        res.get("msg", "").lower(), res


# ------------------------------------------ with a PowerShell stand-in --

POWERSHELL_STANDIN = r"""#!/bin/sh
# Test stand-in for PowerShell: runs the script given with -EncodedCommand
# (base64 of UTF-16LE text, as Ansible sends it) with /bin/sh.
while [ $# -gt 0 ]; do
    if [ "$1" = "-EncodedCommand" ]; then
        printf '%s' "$2" | base64 -d | iconv -f UTF-16LE -t UTF-8 | /bin/sh
        exit $?
    fi
    shift
done
echo "PowerShell stand-in: no -EncodedCommand" >&2
exit 2
"""


@pytest.fixture(scope="module")
def pwsh_srv(nginx_factory, shell_user_file, tmp_path_factory):
    """An nginx (and so its shell host and commands) in a private mount
    namespace where /usr/local/bin, the first directory of the commands'
    PATH, holds the PowerShell stand-in.  Nothing outside the namespace
    sees it."""
    if not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) missing")
    bindir = tmp_path_factory.mktemp("pwshbin")
    ps = bindir / "PowerShell"
    ps.write_text(POWERSHELL_STANDIN)
    ps.chmod(0o755)
    bindir.chmod(0o755)
    snippet = ("    log_format shell '$pid|$wsman_action|$wsman_user|"
               "$wsman_fault';\n"
               "    server {\n"
               "        listen 127.0.0.1:@PORT@;\n"
               "        access_log @PREFIX@/logs/shell.log shell;\n"
               "        location /wsman { wsman; wsman_auth basic;\n"
               "            wsman_user_file %s;\n"
               "            wsman_allow_unencrypted on; }\n"
               "    }\n" % shell_user_file)
    n = nginx_factory(snippet, start=False)
    plain_cmd = n.cmd

    def cmd(*extra):
        if extra:                   # nginx -t and friends: as they are
            return plain_cmd(*extra)
        return ["unshare", "--mount", "--propagation", "private", "--",
                "/bin/sh", "-c", 'mount --bind "$0" /usr/local/bin && '
                'exec "$@"', str(bindir)] + plain_cmd()

    n.cmd = cmd
    return n.start()


def test_ansible_raw_with_powershell_stdout(pwsh_srv, local_user,
                                            ansible_home):
    off = H.file_size(pwsh_srv.logs / "shell.log")
    res, rc = ansible_raw(ansible_home, pwsh_srv.port, local_user.name,
                          local_user.password,
                          "id -un; echo to-err >&2; printf 'a b\\nc'")
    assert rc == 0, res
    assert res.get("rc") == 0, res
    assert res.get("stdout") == local_user.name + "\na b\nc", res
    assert res.get("stderr") == "to-err\n", res
    H.assert_shell_cycle(pwsh_srv, off, local_user.name)
    # the stand-in is private to that nginx
    assert not os.path.exists("/usr/local/bin/PowerShell")


def test_ansible_raw_with_powershell_exit_code(pwsh_srv, local_user,
                                               ansible_home):
    res, rc = ansible_raw(ansible_home, pwsh_srv.port, local_user.name,
                          local_user.password, "echo partial; exit 3")
    assert rc != 0
    assert (res.get("rc"), res.get("stdout")) == (3, "partial\n"), res
