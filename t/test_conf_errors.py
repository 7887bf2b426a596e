"""Configuration errors are caught by `nginx -t` and name the directive."""

import pytest

GOOD = """
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman {
            wsman;
            wsman_auth basic;
            wsman_user_file @USERFILE@;
            wsman_allow_unencrypted on;
            %s
        }
    }
"""


def _t(nginx_factory, snippet):
    n = nginx_factory(snippet, start=False)
    return n.test_config()


def test_good_config_passes(nginx_factory):
    p = _t(nginx_factory, GOOD % """
            wsman_max_envelope_size 512k;
            wsman_max_timeout 90s;
            wsman_max_batch_items 100;
            wsman_enumeration_timeout 2m;
            wsman_root_sddl "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)";
""")
    assert p.returncode == 0, p.stderr
    assert "successful" in p.stderr


def test_default_auth_config_passes(nginx_factory):
    # no wsman_auth: default "negotiate kerberos" needs no user file
    p = _t(nginx_factory, """
    server { listen 127.0.0.1:@PORT@; location /wsman { wsman; } }
""")
    assert p.returncode == 0, p.stderr


def test_all_auth_schemes_accepted(nginx_factory):
    p = _t(nginx_factory, """
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_auth negotiate kerberos basic;
                        wsman_user_file @USERFILE@; } }
""")
    assert p.returncode == 0, p.stderr


BAD = [
    ("wsman_auth", "wsman_auth foo;"),
    ("wsman_auth", "wsman_auth basic foo;"),
    ("wsman_max_envelope_size", "wsman_max_envelope_size abc;"),
    ("wsman_user_file", "wsman_user_file /nonexistent/users;"),
    ("wsman_user_file", "wsman_user_file @USERFILE@ pool=x;"),
    ("wsman_pam", "wsman_pam login pool=x;"),
    ("wsman_max_batch_items", "wsman_max_batch_items 0;"),
    ("wsman_max_batch_items", "wsman_max_batch_items -5;"),
    ("wsman_max_batch_items", "wsman_max_batch_items lots;"),
    ("wsman_allow_unencrypted", "wsman_allow_unencrypted maybe;"),
    ("wsman_max_timeout", "wsman_max_timeout forever;"),
    ("wsman_enumeration_timeout", "wsman_enumeration_timeout soon;"),
] + [("wsman_root_sddl", line)
        for line in ('wsman_root_sddl "this is not sddl";',
                     'wsman_root_sddl "O:NSG:BAD:P(A;;GA;;;BA";',
                     'wsman_root_sddl "D:(Z;;GA;;;BA)";')] + [
    ("wsman", "wsman on;"),
]


@pytest.mark.parametrize("directive,line", BAD,
                         ids=["%s-%d" % (p.values[0] if hasattr(p, "values")
                                         else p[0], i)
                              for i, p in enumerate(BAD)])
def test_bad_directive_rejected(nginx_factory, directive, line):
    snippet = """
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman {
            wsman;
            wsman_user_file @USERFILE@;
            wsman_auth basic;
            %s
        }
    }
""" % line
    if directive == "wsman":
        snippet = snippet.replace("            wsman;\n", "", 1)
    if directive == "wsman_user_file":
        snippet = snippet.replace("            wsman_user_file @USERFILE@;\n",
                                  "", 1)
    if directive == "wsman_auth":
        snippet = snippet.replace("            wsman_auth basic;\n", "", 1)
    p = _t(nginx_factory, snippet)
    assert p.returncode != 0, (line, p.stderr)
    assert directive in p.stderr, p.stderr


def test_basic_without_user_file_rejected(nginx_factory):
    p = _t(nginx_factory, """
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_auth basic; } }
""")
    assert p.returncode != 0, p.stderr
    assert "wsman_user_file" in p.stderr or "wsman_auth" in p.stderr, \
        p.stderr


def test_duplicate_directive_rejected(nginx_factory):
    p = _t(nginx_factory, GOOD % "wsman_max_timeout 10s; "
                                 "wsman_max_timeout 20s;")
    assert p.returncode != 0, p.stderr
    assert "wsman_max_timeout" in p.stderr


def test_wsman_outside_location_rejected(nginx_factory):
    p = _t(nginx_factory, """
    wsman;
    server { listen 127.0.0.1:@PORT@; }
""")
    assert p.returncode != 0, p.stderr
    assert "wsman" in p.stderr


def test_unreadable_user_file_path_is_directory(nginx_factory, tmp_path):
    p = _t(nginx_factory, """
    server { listen 127.0.0.1:@PORT@;
      location /wsman { wsman; wsman_auth basic;
                        wsman_user_file %s; } }
""" % tmp_path)
    assert p.returncode != 0, p.stderr
    assert "wsman_user_file" in p.stderr


def test_default_location_401_offers_negotiate_and_kerberos(nginx_factory):
    import wsman_helpers as H
    n = nginx_factory("""
    server { listen 127.0.0.1:@PORT@; location /wsman { wsman; } }
""")
    r = H.request(n.port, "POST", "/wsman", H.IDENTIFY,
                  {"Content-Type": H.SOAP_CT})
    assert r.status == 401, r
    got = sorted(v.strip() for v in r.all("WWW-Authenticate"))
    assert got == ["Kerberos", "Negotiate"], got
    n.stop()


def test_small_client_max_body_size_warns(nginx_factory):
    p = _t(nginx_factory, GOOD % "client_max_body_size 64k;")
    assert p.returncode == 0, p.stderr
    assert "[warn]" in p.stderr, p.stderr
    assert '"client_max_body_size" 65536 cannot hold' in p.stderr, p.stderr
    assert '"wsman_max_envelope_size" 512000' in p.stderr, p.stderr


def test_small_client_body_buffer_size_warns(nginx_factory):
    p = _t(nginx_factory, GOOD % "client_body_buffer_size 16k;")
    assert p.returncode == 0, p.stderr
    assert '"client_body_buffer_size" 16384 is below' in p.stderr, p.stderr


def test_unset_body_sizes_do_not_warn(nginx_factory):
    p = _t(nginx_factory, GOOD % "")
    assert p.returncode == 0, p.stderr
    assert "[warn]" not in p.stderr, p.stderr
