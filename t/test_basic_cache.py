"""The Basic credential cache (src/auth/ngx_wsman_auth_basic.c): a verified
user and password are remembered per worker for a while, keyed by an HMAC,
but any change to the user file applies on the very next request, and a
wrong password is never remembered.

A user file changed less than 2 s ago is checked but not cached (its
timestamps could miss a second change), so every test first lets its file
settle.  The server has 2 workers behind a reuseport socket, so that new
connections reach both."""

import os
import statistics
import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt                # SHA-512 crypt with a chosen cost

import wsman_helpers as H

USER = "cachy"
PW = "Cache-Pw-1a"
PW2 = "Cache-Pw-2b"           # same length: a rewrite keeps the file size
SETTLE = 2.2                   # NGX_WSMAN_BASIC_CACHE_SETTLE + margin
SLOW_ROUNDS = 400000           # SHA-512 crypt rounds of the timing tests


def _hash(password, rounds=None):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512,
                                              rounds=rounds))


def _line(user, password, groups="admins", rounds=None):
    return "%s:%s:%s\n" % (user, _hash(password, rounds), groups)


@pytest.fixture(scope="module")
def cache_server(nginx_factory, tmp_path_factory):
    d = tmp_path_factory.mktemp("basiccache")
    path = d / "users.htpasswd"
    path.write_text(_line(USER, PW))
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@ reuseport;
        location /wsman { wsman; wsman_auth basic; wsman_user_file %s;
                          wsman_allow_unencrypted on; }
    }
""" % path, workers=2)
    n.user_file = path
    return n


def _write(server, text, replace=False):
    """Rewrite the user file in place (same inode) or by rename."""
    path = server.user_file
    if replace:
        tmp = path.with_suffix(".new")
        tmp.write_text(text)
        os.replace(tmp, path)
    else:
        with open(path, "r+") as f:
            f.truncate(0)
            f.write(text)


def _settle():
    time.sleep(SETTLE)


class Conn:
    """A kept-alive connection (one worker) that reopens after a close."""

    def __init__(self, port):
        self.port = port
        self.c = H.Connection(port)

    def get(self, user=USER, password=PW):
        if self.c.closed:
            self.c.close()
            self.c = H.Connection(self.port)
        xml, _ = H.config_get()
        return self.c.request("POST", "/wsman", xml, {
            "Authorization": H.basic(user, password),
            "Content-Type": H.SOAP_CT})

    def timed(self, **kw):
        t = time.perf_counter()
        r = self.get(**kw)
        return r, time.perf_counter() - t

    def close(self):
        self.c.close()


def _fresh_get(port, user=USER, password=PW):
    xml, _ = H.config_get()
    return H.request(port, "POST", "/wsman", xml, [
        ("Authorization", H.basic(user, password)),
        ("Content-Type", H.SOAP_CT)])


def _warm(server, password=PW, n=12):
    """Verified (and so cached) on both workers."""
    for _ in range(n):
        assert _fresh_get(server.port, password=password).status == 200


def _ok(r):
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("cfg", "Config"), r


@pytest.mark.parametrize("replace", [False, True],
                         ids=["in-place", "rename"])
def test_password_change_applies_at_once(cache_server, replace):
    _write(cache_server, _line(USER, PW))
    _settle()
    c = Conn(cache_server.port)
    try:
        for _ in range(3):
            _ok(c.get())
        _warm(cache_server)

        _write(cache_server, _line(USER, PW2), replace=replace)

        # the very next request on the connection that just used it
        assert c.get().status == 401
        _ok(c.get(password=PW2))
        for _ in range(8):
            assert _fresh_get(cache_server.port).status == 401
            _ok(_fresh_get(cache_server.port, password=PW2))
    finally:
        c.close()


def test_wrong_password_after_right_one(cache_server):
    _write(cache_server, _line(USER, PW))
    _settle()
    c = Conn(cache_server.port)
    try:
        _ok(c.get())
        _ok(c.get())
        for bad in (PW + "x", PW[:-1], "", PW.upper(), PW2):
            assert c.get(password=bad).status == 401, bad
        _ok(c.get())
        # another user name with the cached password
        assert c.get(user=USER + "2").status == 401
    finally:
        c.close()


def test_user_removed(cache_server):
    _write(cache_server, _line(USER, PW) + _line("other", PW2))
    _settle()
    c = Conn(cache_server.port)
    try:
        _ok(c.get())
        _warm(cache_server)
        _write(cache_server, _line("other", PW2))
        assert c.get().status == 401
        for _ in range(8):
            assert _fresh_get(cache_server.port).status == 401
        _ok(c.get(user="other", password=PW2))
    finally:
        c.close()


def test_groups_change_applies_at_once(cache_server):
    """The cache keeps the user's groups and SIDs too: losing the group
    that grants access (admins -> BA) denies the next request."""
    _write(cache_server, _line(USER, PW, groups="admins"))
    _settle()
    c = Conn(cache_server.port)
    try:
        _ok(c.get())
        _warm(cache_server)
        _write(cache_server, _line(USER, PW, groups="nobodies"))
        r = c.get()
        H.assert_fault(r, status=500, subcode=("w", "AccessDenied"))
        for _ in range(8):
            H.assert_fault(_fresh_get(cache_server.port), status=500,
                           subcode=("w", "AccessDenied"))
    finally:
        c.close()


def test_verified_once_then_cached(cache_server):
    """With an expensive hash, only the first request of a worker pays for
    it; a wrong password pays every time (failures are not cached)."""
    _write(cache_server, _line(USER, PW, rounds=SLOW_ROUNDS))
    _settle()
    c = Conn(cache_server.port)
    try:
        r, first = c.timed()
        _ok(r)
        hits = []
        for _ in range(5):
            r, t = c.timed()
            _ok(r)
            hits.append(t)
        misses = []
        for _ in range(2):
            r, t = c.timed(password=PW2)
            assert r.status == 401
            misses.append(t)
        hit = statistics.median(hits)
        assert hit < first / 4, (first, hits)
        assert min(misses) > 2 * hit and min(misses) > first / 4, \
            (first, hits, misses)
    finally:
        c.close()


def test_fresh_file_is_checked_every_time(cache_server):
    """Just after an edit the file is read for each request (not cached)
    and the edit of a moment later still applies."""
    _write(cache_server, _line(USER, PW))
    c = Conn(cache_server.port)
    try:
        _ok(c.get())
        _write(cache_server, _line(USER, PW2))
        assert c.get().status == 401
        _ok(c.get(password=PW2))
    finally:
        c.close()
