"""README.md's examples, run as written: the `wsl identify` line of "Try
it" and the two RootSDDLs of "The order of ACEs" (the wrong order lets
the denied group in, the canonical order keeps it out), and the event
collector's nginx block through `nginx -t`."""

import os
import pathlib
import re
import shlex
import subprocess


import wsman_helpers as H
from conftest import USERS  # noqa: E402  (t/ is on sys.path)

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def _section(title):
    text = README.read_text()
    m = re.search(r"^#+ %s\n(.*?)(?=^#+ )" % re.escape(title), text,
                  re.M | re.S)
    assert m, "README has no section %r" % title
    return m.group(1)


def test_readme_wsl_identify_example(server, tmp_path):
    """The example's command line, with the demo's endpoint and user
    swapped for the test server's."""
    block = _section("Run the demo (one command)")
    lines = block.splitlines()
    i = next(i for i, l in enumerate(lines) if "wsl identify" in l)
    cmd = (lines[i - 1].rstrip(" \\") + " " + lines[i]).strip()
    words = shlex.split(cmd.split("<")[0])
    env_words = [w for w in words if "=" in w and w.split("=")[0].isupper()]
    argv = words[len(env_words):]
    assert argv[:2] == ["wsl", "identify"], argv
    env = dict(os.environ)
    env.update(w.split("=", 1) for w in env_words)
    env.update(WSENDPOINT="127.0.0.1:%d" % server.port, WSUSER="alice",
               WSPASS=USERS["alice"][0])
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60,
                       cwd=str(tmp_path))
    assert p.returncode == 0, (argv, p.stdout[-2000:], p.stderr[-2000:])
    assert "IdentifyResponse" in p.stdout, p.stdout[-2000:]
    assert "ngx_wsman" in p.stdout
    assert "USAGE" not in p.stdout


def test_readme_ace_order_example(nginx_factory):
    block = _section("The order of ACEs")
    sids = re.findall(r"^\s*(wsman_group_sid \S+ \S+;)", block, re.M)
    sddls = re.findall(r"^\s*(wsman_root_sddl \"[^\"]+\";)", block, re.M)
    assert len(sids) == 2 and len(sddls) == 2, block
    wrong, right = sddls
    # the README's "contractors" are the test users' "ops" (alice and
    # carol are in ops and admins; bob only in admins)
    sids = [s.replace(" contractors ", " ops ") for s in sids]
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        wsman_user_file @USERFILE@;
        wsman_auth basic;
        wsman_allow_unencrypted on;
        %s
        location /wrong { wsman; %s }
        location /right { wsman; %s }
    }
""" % (" ".join(sids), wrong, right), group_sids=False)
    c = H.Client(n.port, USERS)

    def get(user, path):
        xml, _ = H.config_get()
        return c.post(xml, path=path, user=user)

    # wrong order: the allow for BA grants everything first
    assert get("alice", "/wrong").status == 200
    # canonical order: the deny is read first
    H.assert_fault(get("alice", "/right"), 500, subcode=("w", "AccessDenied"))
    H.assert_fault(get("carol", "/right"), 500, subcode=("w", "AccessDenied"))
    assert get("bob", "/right").status == 200
    assert get("bob", "/wrong").status == 200


def test_readme_wec_example_passes_nginx_t(nginx_factory, realm, tmp_path):
    """"Collect Windows events": the nginx block as written (paths moved
    under a tmp dir, the keytab the test realm's) passes `nginx -t`."""
    block = _section("The nginx side")
    lines = [l[4:] for l in block.splitlines() if l.startswith("    ")]
    conf = "\n".join(lines)
    start = conf.index("http {") + len("http {")
    inner = conf[start:conf.rindex("}")]
    (tmp_path / "security.xml").write_text(
        '<QueryList><Query Id="0"><Select Path="Security">*</Select>'
        '</Query></QueryList>')
    for old, new in (("/etc/nginx/wec/security.xml",
                      str(tmp_path / "security.xml")),
                     ("/etc/nginx/wec.keytab", str(realm.keytab)),
                     ("/var/lib/nginx/wec", str(tmp_path / "state")),
                     ("/var/log/nginx/wec", str(tmp_path / "log")),
                     ("/var/spool/nginx", str(tmp_path / "spool")),
                     ("listen 5985;", "listen 127.0.0.1:@PORT@;")):
        assert old in inner, old
        inner = inner.replace(old, new)
    n = nginx_factory(inner, start=False, main_snippet=realm.nginx_env())
    p = n.test_config()
    assert p.returncode == 0, p.stderr
    assert "test is successful" in p.stderr
