"""`error_log ... debug` traces a request through every stage: one line
each for the authentication decision, the parse, the dispatch, the access
check, the plug-in and the response; at info there are none."""

import pytest

import wsman_helpers as H

STAGES = ["wsman auth: rc:0 user:\"alice\"",
          "wsman parse: rc:0",
          "wsman dispatch: resource:",
          "wsman access: user:\"alice\"",
          "wsman plug-in \"config\": rc:0 fault:0",
          "wsman dispatch: rc:0",
          "wsman response: fault:0"]

CONF = """
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman {
            wsman; wsman_auth basic; wsman_user_file @USERFILE@;
            wsman_allow_unencrypted on;
            error_log @PREFIX@/logs/debug.log debug;
        }
        location /quiet {
            wsman; wsman_auth basic; wsman_user_file @USERFILE@;
            wsman_allow_unencrypted on;
        }
    }
"""


@pytest.fixture(scope="module")
def debug_server(nginx_factory):
    return nginx_factory(CONF)


def _read(path):
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def test_debug_log_traces_each_stage_once(debug_server, users):
    log = debug_server.logs / "debug.log"
    c = H.Client(debug_server.port, users)
    off = len(_read(log))
    xml, _ = H.config_get()
    r = c.post(xml, path="/wsman")
    assert r.status == 200, r
    # the line the response stage writes comes before the answer leaves
    text = _read(log)[off:]
    for stage in STAGES:
        n = sum(1 for line in text.splitlines() if stage in line)
        assert n == 1, (stage, n, text[-4000:])
    assert "[debug]" in text
    access = [line for line in text.splitlines() if "wsman access:" in line]
    assert ": allowed (" in access[0], access


def test_info_log_has_no_trace(debug_server, users):
    c = H.Client(debug_server.port, users)
    off = debug_server.log_size()
    xml, _ = H.config_get()
    assert c.post(xml, path="/quiet").status == 200
    text = debug_server.read_log(off)
    assert "wsman parse:" not in text and "wsman auth:" not in text, text
