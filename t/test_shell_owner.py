"""Shells belong to the WS-Man identity (issue [7] section 4), not to the
local account commands run as: two callers mapped to one account
(`wsman_shell_run_as`) cannot Receive, Command, Send, Signal or Delete
each other's shells (they get the fault of an unknown shell), and
`wsman_shell_max_per_user` / `wsman_shell_max_users` count identities."""

import pytest

import wsman_helpers as H
from conftest import _hash

pytestmark = pytest.mark.usefixtures("deadline")

# names without a local account: both run as the session's test account
MAPPED = {"amber": "Amber-Owner-Pw1", "basil": "Basil-Owner-Pw2",
          "cyrus": "Cyrus-Owner-Pw3"}


@pytest.fixture(scope="module")
def owner_users(tmp_path_factory, local_user):
    path = tmp_path_factory.mktemp("ownerusers") / "users.htpasswd"
    lines = ["%s:%s:admins" % (n, _hash(pw, "-6"))
             for n, pw in MAPPED.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o644)
    return path


@pytest.fixture(scope="module")
def srv(nginx_factory, owner_users, local_user):
    loc = ("wsman; wsman_auth basic; wsman_user_file %s; "
           "wsman_allow_unencrypted on; wsman_shell_run_as %s;"
           % (owner_users, local_user.name))
    return nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@ reuseport;
        location /wsman { %(loc)s }
        location /one { %(loc)s wsman_shell_max_per_user 1; }
        location /two { %(loc)s wsman_shell_max_users 2; }
    }
""" % {"loc": loc}, workers=2)


def client(srv, name, path="/wsman"):
    return H.ShellClient(srv.port, name, MAPPED[name], path=path)


def _invalid_selectors(resp):
    f = H.assert_fault(resp, 500)
    assert f.subcode == (H.NS["w"], "InvalidSelectors"), f
    assert f.wsman_code == H.CODE_INVALID_SELECTORS, f
    return f


def test_same_account_other_identity_cannot_touch_the_shell(srv,
                                                             local_user):
    a, b = client(srv, "amber"), client(srv, "basil")
    sid = a.create()
    try:
        cid = a.command(sid, "read x; echo got-$x; id -un")
        for xml, _ in (H.receive_request(sid, cid, operation_timeout="PT2S"),
                       H.command_request(sid, "id -un"),
                       H.send_request(sid, cid, b"intruder\n"),
                       H.signal_request(sid, cid),
                       H.delete_shell_request(sid)):
            _invalid_selectors(b.post(xml))
        # the owner's command got none of it and still runs
        a.send(sid, cid, b"mine\n", end=True)
        out, err, code, _ = a.collect(sid, cid, deadline=15)
        assert (out, err, code) == (
            b"got-mine\n" + local_user.name.encode() + b"\n", b"", 0)
        a.signal(sid, cid)
    finally:
        a.delete(sid)
    # and deleted by its owner, it is gone for everyone
    xml, _ = H.command_request(sid, "true")
    _invalid_selectors(a.post(xml))


def test_foreign_fault_is_the_unknown_shell_fault(srv):
    """No difference between a shell of someone else and none at all."""
    import uuid
    a, b = client(srv, "amber"), client(srv, "basil")
    sid = a.create()
    try:
        theirs = _invalid_selectors(b.post(
            H.command_request(sid, "true")[0]))
        nobody = _invalid_selectors(b.post(
            H.command_request(str(uuid.uuid4()).upper(), "true")[0]))
        assert (theirs.reason, theirs.wsman_code) == \
            (nobody.reason, nobody.wsman_code)
    finally:
        a.delete(sid)


def test_max_per_user_counts_identities(srv):
    a, b = client(srv, "amber", "/one"), client(srv, "basil", "/one")
    sa = a.create()
    try:
        resp, _ = a.create_raw()
        H.assert_fault(resp, 500, subcode=("w", "QuotaLimit"))
        # the same local account, another identity: its own quota
        sb = b.create()
        out = b.command(sb, "echo b")
        assert b.collect(sb, out)[:3] == (b"b\n", b"", 0)
        b.delete(sb)
    finally:
        a.delete(sa)


def test_max_users_counts_identities(srv):
    a, b, c = (client(srv, n, "/two") for n in ("amber", "basil", "cyrus"))
    sa, sb = a.create(), b.create()
    try:
        # three identities, one local account: the third is one too many
        resp, _ = c.create_raw()
        H.assert_fault(resp, 500, subcode=("w", "QuotaLimit"))
        sa2 = a.create()                # a user already counted is fine
        a.delete(sa2)
    finally:
        a.delete(sa)
        b.delete(sb)
    sc = c.create()
    c.delete(sc)
