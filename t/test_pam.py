"""Basic credentials checked by PAM (wsman_pam) in nginx's thread pool.
The PAM services are throw-away files in /etc/pam.d (conftest
`pam_services`): permit, deny, and slow (pam_exec sleeping 2 s)."""

import threading
import time

import pytest

import wsman_helpers as H

# anyone PAM lets in has only WD/AU/NU, unless a Unix group maps to more
OPEN_SDDL = 'wsman_root_sddl "O:NSG:BAD:P(A;;GA;;;AU)";'

PAM_HTTP = """
    log_format wsman '$wsman_action|$wsman_resource_uri|$wsman_user|$wsman_fault';
    server {
        listen 127.0.0.1:@PORT@;
        access_log @PREFIX@/logs/wsman.log wsman;
        wsman_allow_unencrypted on;
        location /permit { wsman; wsman_auth basic; wsman_pam @permit@;
                           %(open)s }
        location /deny   { wsman; wsman_auth basic; wsman_pam @deny@;
                           %(open)s }
        location /slow   { wsman; wsman_auth basic; wsman_pam @slow@;
                           %(open)s }
        # the user file first, then PAM
        location /both   { wsman; wsman_auth basic; wsman_pam @deny@;
                           wsman_user_file @USERFILE@; %(open)s }
        location /both-permit { wsman; wsman_auth basic; wsman_pam @permit@;
                           wsman_user_file @USERFILE@; %(open)s }
        # Unix groups from getgrouplist: root is in group root
        location /groups { wsman; wsman_auth basic; wsman_pam @permit@;
                           wsman_group_sid root BA; }
    }
""" % {"open": OPEN_SDDL}


@pytest.fixture(scope="module")
def pam_server(nginx_factory, pam_services):
    snippet = PAM_HTTP
    for kind, name in pam_services.names.items():
        snippet = snippet.replace("@%s@" % kind, name)
    # one worker: the non-blocking test needs both connections on it
    return nginx_factory(snippet, workers=1, group_sids=False)


def _post(server, path, user, password, xml=None, timeout=20):
    if xml is None:
        xml, _ = H.config_get()
    return H.request(server.port, "POST", path, xml,
                     {"Content-Type": H.SOAP_CT,
                      "Authorization": H.basic(user, password)},
                     timeout=timeout)


def _config(r):
    return r.status == 200 and H.body_child(r).tag == H.q("cfg", "Config")


def test_pam_permit(pam_server):
    off = H.file_size(pam_server.wsman_log)
    r = _post(pam_server, "/permit", "pamuser", "anything")
    assert _config(r), r
    assert "pamuser" in H.logged_users(pam_server, off, "pamuser")


def test_pam_deny(pam_server):
    off = pam_server.log_size()
    r = _post(pam_server, "/deny", "root", "whatever")
    assert r.status == 401, r
    assert [v.strip() for v in r.all("WWW-Authenticate")] == \
        ['Basic realm="WSMAN"']
    # like a user-file failure: a [warn] line naming the user
    assert H.wait_for_line(pam_server.error_log,
                           lambda l: "[warn]" in l and "root" in l,
                           offset=off), pam_server.read_log(off)


def test_user_file_then_pam(pam_server, users):
    # in the user file with the right password: PAM (deny) not needed
    assert _config(_post(pam_server, "/both", "alice", users["alice"][0]))
    # wrong password, and PAM denies
    assert _post(pam_server, "/both", "alice", "nope").status == 401
    # not in the user file, PAM denies
    assert _post(pam_server, "/both", "pamuser", "x").status == 401


def test_user_file_miss_falls_through_to_pam(pam_server):
    assert _config(_post(pam_server, "/both-permit", "pamuser", "x"))


def test_unix_group_maps_to_sid(pam_server):
    """root's Unix group `root` grants BA, so the default RootSDDL lets
    root read config; nobody (group nogroup) is denied."""
    assert _config(_post(pam_server, "/groups", "root", "x"))
    r = _post(pam_server, "/groups", "nobody", "x")
    f = H.assert_fault(r, status=500, subcode=("w", "AccessDenied"))
    assert f.wsman_code == "5"


def test_slow_pam_does_not_block_the_worker(pam_server):
    """While PAM sleeps 2 s for one request, an anonymous Identify on
    another connection to the same (single) worker is answered before the
    slow request completes."""
    done = {}

    def slow():
        r = _post(pam_server, "/slow", "pamuser", "pw", timeout=30)
        done["slow"] = (time.monotonic(), r)

    t = threading.Thread(target=slow)
    start = time.monotonic()
    t.start()
    time.sleep(0.3)
    r = H.request(pam_server.port, "POST", "/permit", H.IDENTIFY,
                  {"Content-Type": H.SOAP_CT,
                   "WSMANIDENTIFY": "unauthenticated"}, timeout=30)
    ident_done = time.monotonic()
    t.join(30)
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("wsmid", "IdentifyResponse")
    assert "slow" in done, "slow PAM request did not finish"
    slow_done, slow_r = done["slow"]
    assert _config(slow_r), slow_r
    assert slow_done - start >= 1.9, "pam_exec did not sleep"
    assert ident_done < slow_done, (
        "Identify waited for PAM: identify %.2fs, slow %.2fs" %
        (ident_done - start, slow_done - start))


def test_concurrent_slow_pam_requests(pam_server):
    """Several slow PAM checks at once all complete (thread pool)."""
    results = []

    def one(i):
        results.append(_post(pam_server, "/slow", "user%d" % i, "pw",
                             timeout=60))

    ts = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert len(results) == 4
    assert all(_config(r) for r in results), results


def test_client_gone_during_pam(pam_server):
    """The client closes while PAM runs: no crash, the worker keeps
    serving (the log guard checks for alerts and signals)."""
    import socket
    xml, _ = H.config_get()
    data = H.build_request(pam_server.port, "POST", "/slow", xml.encode(),
                           [("Content-Type", H.SOAP_CT),
                            ("Authorization", H.basic("gone", "pw"))])
    s = socket.create_connection(("127.0.0.1", pam_server.port))
    s.sendall(data)
    time.sleep(0.2)
    s.close()
    time.sleep(2.2)
    assert _config(_post(pam_server, "/permit", "after", "pw"))
