"""Keytabs as Windows event sources need them: nginx -t says what is
wrong with a wsman_keytab (no HTTP/ or HOST/ key, RC4 only, AES only,
unreadable by the workers).  A source asking for HOST/name (Windows
Server 2025) served from a HOST/ key: t/test_wef_source.py."""

import os

import pytest

import infra
from test_wec import QUERY_APP

REALM = infra.REALM

SNIPPET = """
    wsman_wec_subscription everyone { query '%s'; }
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman {
            wsman; wsman_wec on; wsman_auth kerberos negotiate;
            wsman_keytab @KEYTAB@; wsman_user_file @USERFILE@;
        }
    }
""" % QUERY_APP


@pytest.fixture(scope="module")
def keytabs(realm, tmp_path_factory):
    d = tmp_path_factory.mktemp("keytabs")
    made = {}

    def make(name, *specs):
        path = d / ("%s.keytab" % name)
        for princ, enctypes in specs:
            realm.kadmin("addprinc -randkey -e %s %s@%s"
                         % (enctypes, princ, REALM))
            realm.kadmin("ktadd -k %s -e %s %s@%s"
                         % (path, enctypes, princ, REALM))
        os.chmod(path, 0o644)
        made[name] = path

    make("aes_http", ("HTTP/kt-aes.wsman.test", "aes256-cts:normal"))
    make("rc4_host", ("HOST/kt-rc4.wsman.test", "arcfour-hmac:normal"))
    make("user_only", ("kt-user", "aes256-cts:normal"))
    make("good", ("HTTP/kt-good.wsman.test",
                  "aes256-cts:normal,arcfour-hmac:normal"),
         ("host/kt-good.wsman.test",
          "aes256-cts:normal,arcfour-hmac:normal"))
    return made


def nginx_t(nginx_factory, auth_env, keytab, log=False):
    """nginx -t: its terminal (warnings), or with log=True the error log
    too (notices)"""
    n = nginx_factory(SNIPPET.replace("@KEYTAB@", str(keytab)),
                      start=False, main_snippet=auth_env)
    r = n.test_config()
    assert r.returncode == 0, r.stderr
    return r.stderr + (n.read_log() if log else "")


def test_keytab_without_host_key_and_aes_only(nginx_factory, auth_env,
                                              keytabs):
    err = nginx_t(nginx_factory, auth_env, keytabs["aes_http"])
    assert "[warn]" in err
    assert "has no HOST/ key: Windows Server 2025" in err
    assert "only RC4" not in err and "no HTTP/ and no HOST/" not in err
    assert "has only AES keys" in nginx_t(nginx_factory, auth_env,
                                          keytabs["aes_http"], log=True)


def test_keytab_with_rc4_only(nginx_factory, auth_env, keytabs):
    err = nginx_t(nginx_factory, auth_env, keytabs["rc4_host"])
    assert "[warn]" in err and "has only RC4 keys" in err
    assert "no HOST/ key" not in err


def test_keytab_without_service_keys(nginx_factory, auth_env, keytabs):
    err = nginx_t(nginx_factory, auth_env, keytabs["user_only"])
    assert "has no HTTP/ and no HOST/ key" in err


def test_good_keytab_says_nothing(nginx_factory, auth_env, keytabs):
    err = nginx_t(nginx_factory, auth_env, keytabs["good"], log=True)
    assert "wsman_keytab" not in err, err


def test_keytab_unreadable_by_workers(nginx_factory, auth_env, keytabs,
                                      tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to run workers as another user")
    private = tmp_path / "private.keytab"
    private.write_bytes(keytabs["good"].read_bytes())
    os.chmod(private, 0o600)
    err = nginx_t(nginx_factory, auth_env, private)
    assert "is not readable by the workers' user" in err
