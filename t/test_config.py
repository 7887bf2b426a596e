"""Get of http://schemas.microsoft.com/wbem/wsman/1/config reflects the
directives."""

import pytest

import wsman_helpers as H


def _config(client, path="/wsman", **kw):
    xml, mid = H.config_get(**kw)
    r = client.post(xml, path=path)
    assert r.status == 200, r
    assert H.header_text(r, "a", "Action") == H.ACTION_GET_RESPONSE
    assert H.header_text(r, "a", "RelatesTo") == mid
    cfg = H.body_child(r)
    assert cfg is not None and cfg.tag == H.q("cfg", "Config"), r
    return cfg


def _val(cfg, path):
    e = cfg.find("/".join("cfg:" + p for p in path.split("/")), H.NS)
    assert e is not None, "cfg:%s missing" % path
    return (e.text or "").strip()


def _bool(cfg, path):
    v = _val(cfg, path)
    assert v in ("true", "false"), (path, v)
    return v == "true"


def test_config_wsman_defaults(client):
    cfg = _config(client)
    assert _val(cfg, "MaxEnvelopeSizekb") == "500"
    assert _val(cfg, "MaxTimeoutms") == "60000"
    assert _val(cfg, "MaxBatchItems") == "32000"
    assert _val(cfg, "Service/RootSDDL") == H.DEFAULT_SDDL
    assert _val(cfg, "Service/EnumerationTimeoutms") == "60000"
    assert _bool(cfg, "Service/AllowUnencrypted") is True
    assert _bool(cfg, "Service/Auth/Basic") is True
    assert _bool(cfg, "Service/Auth/Kerberos") is False
    assert _bool(cfg, "Service/Auth/Negotiate") is False
    assert _bool(cfg, "Service/Auth/Certificate") is False
    assert cfg.find("cfg:Winrs", H.NS) is not None


def test_config_element_order_starts_like_windows(client):
    cfg = _config(client)
    names = [c.tag.split("}")[1] for c in cfg]
    for n in ("MaxEnvelopeSizekb", "MaxTimeoutms", "MaxBatchItems",
              "Service", "Winrs"):
        assert n in names, names
    assert names.index("MaxEnvelopeSizekb") < names.index("Service")
    assert all(c.tag.startswith("{%s}" % H.NS["cfg"]) for c in cfg)


def test_config_small(client):
    cfg = _config(client, path="/small")
    assert _val(cfg, "MaxEnvelopeSizekb") == "8"
    assert _val(cfg, "MaxTimeoutms") == "30000"
    assert _val(cfg, "MaxBatchItems") == "32000"


def test_config_nego(client):
    cfg = _config(client, path="/nego")
    assert _bool(cfg, "Service/Auth/Basic") is True
    assert _bool(cfg, "Service/Auth/Kerberos") is True
    assert _bool(cfg, "Service/Auth/Negotiate") is True
    assert _bool(cfg, "Service/Auth/Certificate") is False
    assert _bool(cfg, "Service/AllowUnencrypted") is True


WINRS_DEFAULTS = {
    "AllowRemoteShellAccess": "true", "IdleTimeout": "7200000",
    "MaxConcurrentUsers": "2147483647", "MaxShellRunTime": "2147483647",
    "MaxProcessesPerShell": "25", "MaxMemoryPerShellMB": "1024",
    "MaxShellsPerUser": "30"}


def test_config_winrs_defaults(client):
    """Winrs shows the shell plug-in's settings: Windows' defaults, and
    2147483647 for "unlimited"."""
    cfg = _config(client)
    for name, value in WINRS_DEFAULTS.items():
        assert _val(cfg, "Winrs/" + name) == value, name


def test_config_winrs_directives(nginx_factory, users):
    """The wsman_shell* directives (the shell plug-in's own conf) reach
    winrm/config, set in the location or inherited from the server."""
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        wsman_shell_max_per_user 7;
        location /winrs {
            wsman; wsman_auth basic; wsman_user_file @USERFILE@;
            wsman_allow_unencrypted on;
            wsman_shell off;
            wsman_shell_idle_timeout 90s;
            wsman_shell_max_users 3;
            wsman_shell_max_processes 4;
            wsman_shell_max_memory 64m;
            wsman_shell_max_runtime 10m;
        }
        location /plain {
            wsman; wsman_auth basic; wsman_user_file @USERFILE@;
            wsman_allow_unencrypted on;
        }
    }
""")
    c = H.Client(n.port, users)
    cfg = _config(c, path="/winrs")
    assert _val(cfg, "Winrs/AllowRemoteShellAccess") == "false"
    assert _val(cfg, "Winrs/IdleTimeout") == "90000"
    assert _val(cfg, "Winrs/MaxConcurrentUsers") == "3"
    assert _val(cfg, "Winrs/MaxShellRunTime") == "600000"
    assert _val(cfg, "Winrs/MaxProcessesPerShell") == "4"
    assert _val(cfg, "Winrs/MaxMemoryPerShellMB") == "64"
    assert _val(cfg, "Winrs/MaxShellsPerUser") == "7"
    cfg = _config(c, path="/plain")
    expect = dict(WINRS_DEFAULTS, MaxShellsPerUser="7")
    for name, value in expect.items():
        assert _val(cfg, "Winrs/" + name) == value, name
    n.stop()


def test_config_get_pywinrm_prefixes(client):
    cfg = _config(client, pfx={"s": "env", "a": "wsa", "w": "wsman"})
    assert _val(cfg, "MaxEnvelopeSizekb") == "500"


CUSTOM = """
    server {
        listen 127.0.0.1:@PORT@;
        client_max_body_size 4m;
        wsman_max_batch_items 100;
        location /wsman {
            wsman;
            wsman_auth basic negotiate;
            wsman_user_file @USERFILE@;
            wsman_allow_unencrypted on;
            wsman_max_envelope_size 1m;
            wsman_max_timeout 2m;
            wsman_enumeration_timeout 90s;
            wsman_root_sddl "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)";
        }
        location /inherit {
            wsman;
            wsman_auth basic;
            wsman_user_file @USERFILE@;
            wsman_allow_unencrypted on;
        }
    }
"""


@pytest.fixture(scope="module")
def custom(nginx_factory, users):
    n = nginx_factory(CUSTOM)
    return n, H.Client(n.port, users)


def test_config_custom_server(custom):
    n, c = custom
    cfg = _config(c)
    assert _val(cfg, "MaxEnvelopeSizekb") == "1024"
    assert _val(cfg, "MaxTimeoutms") == "120000"
    assert _val(cfg, "MaxBatchItems") == "100"
    assert _val(cfg, "Service/EnumerationTimeoutms") == "90000"
    assert _val(cfg, "Service/RootSDDL") == \
        "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)"
    assert _bool(cfg, "Service/Auth/Basic") is True
    assert _bool(cfg, "Service/Auth/Negotiate") is True
    assert _bool(cfg, "Service/Auth/Kerberos") is False


def test_config_server_level_inherited(custom):
    n, c = custom
    cfg = _config(c, path="/inherit")
    assert _val(cfg, "MaxBatchItems") == "100"
    assert _val(cfg, "MaxEnvelopeSizekb") == "500"
    assert _val(cfg, "Service/RootSDDL") == H.DEFAULT_SDDL


def test_custom_envelope_limit_enforced(custom):
    n, c = custom
    base, _ = H.config_get()
    pad = '<x:Pad xmlns:x="urn:pad">%s</x:Pad>'
    ok, _ = H.config_get(headers=pad % ("z" * (700 * 1024)))
    r = c.post(ok, timeout=30)
    assert r.status == 200, r
    big, _ = H.config_get(headers=pad % ("z" * (1030 * 1024)))
    r = c.post(big, timeout=30, headers={})
    H.assert_fault(r, status=500, subcode=("w", "EncodingLimit"))


def test_allow_unencrypted_off_refuses_on_accepts(nginx_factory,
                                                users):
    # /strict cannot be read over plain HTTP (Basic is refused there), so
    # compare an explicit "off" and "on" location on one server.
    n = nginx_factory("""
    server {
        listen 127.0.0.1:@PORT@;
        location /off { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                        wsman_allow_unencrypted off; }
        location /on  { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                        wsman_allow_unencrypted on; }
    }
""")
    c = H.Client(n.port, users)
    xml, _ = H.config_get()
    assert c.post(xml, path="/off").status == 401
    cfg = _config(c, path="/on")
    assert _bool(cfg, "Service/AllowUnencrypted") is True
    n.stop()


BIG = """
    server {
        listen 127.0.0.1:@PORT@;
        location /big { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                        wsman_allow_unencrypted on;
                        wsman_max_envelope_size 2m; }
    }
"""


@pytest.fixture(scope="module")
def big_server(nginx_factory, users):
    n = nginx_factory(BIG)
    return H.Client(n.port, users)


@pytest.mark.parametrize("chunked", [False, True])
def test_envelope_size_above_client_max_body_size_default(big_server,
                                                          chunked):
    """wsman_max_envelope_size 2m must work without also raising nginx's
    client_max_body_size (default 1m): a 1.5 MB envelope is accepted and
    a 2.5 MB one gets the EncodingLimit SOAP fault, not an HTML 413."""
    ok, mid = H.config_get(headers='<z:p xmlns:z="urn:z">%s</z:p>'
                           % ("x" * 1500000))
    big, _ = H.config_get(headers='<z:p xmlns:z="urn:z">%s</z:p>'
                          % ("x" * 2600000))

    def post(xml):
        if not chunked:
            return big_server.post(xml, path="/big", timeout=30)
        data = xml.encode()
        return big_server.post(None, path="/big", timeout=30, chunks=[
            data[i:i + 65536] for i in range(0, len(data), 65536)])

    r = post(ok)
    assert r.status == 200, r
    assert H.header_text(r, "a", "RelatesTo") == mid
    r = post(big)
    H.assert_fault(r, status=500, subcode=("w", "EncodingLimit"))
