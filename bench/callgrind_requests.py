#!/usr/bin/python3
"""Instructions per request in one nginx worker, counted by callgrind.

    /usr/bin/python3 bench/callgrind_requests.py MODULE.so CASE [N]

CASE: anon (Identify, WSMANIDENTIFY: unauthenticated), idbasic (Identify,
Basic), get (Get config, Basic), ntlm (Get config sealed with NTLM on one
kept-alive connection), base (a `return 200` of 2,000 bytes).  nginx runs
under valgrind --tool=callgrind with `master_process off` (one process
does the work) and the configuration of bench/wrk_bench.py; the user file
is older than the 2-s settle time of the caches.  After 30 requests of
warm-up the counters are zeroed, N (default 500) requests are made on
one kept-alive connection and the counters dumped: the figure printed is
the worker's instructions (user space, nginx and libraries included) over
N.  The client is this script, whose own instructions are not counted.
Keep the profile for callgrind_annotate with --keep.

The figures are stable to a few tenths of a percent from run to run,
unlike req/s and CPU time on a shared machine.  Works with a module built
from an older tree too (this tree's test helpers drive it).
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

if len(sys.argv) < 3 or sys.argv[2] not in ("anon", "idbasic", "get",
                                             "ntlm", "base"):
    sys.exit(__doc__)

SO = os.path.abspath(sys.argv[1])
CASE = sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 500
KEEP = "--keep" in sys.argv

os.environ["WSMAN_SO"] = SO
os.environ["OPENSSL_CONF"] = os.path.join(TOP, "t", "openssl-legacy.cnf")
for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(k, None)
sys.path.insert(0, os.path.join(TOP, "t"))

import conftest as C          # noqa: E402
import infra                  # noqa: E402
import wsman_gss as G         # noqa: E402
import wsman_helpers as H     # noqa: E402

BASIC_USER, BASIC_PW = "bench", "Bench-Pw-6x!"
NTLM_USER = "bob"

d = tempfile.mkdtemp(prefix="wsman-cg-")
users = os.path.join(d, "users.htpasswd")
with open(users, "w") as f:
    f.write("%s:%s:admins\n" % (BASIC_USER, C._hash(BASIC_PW, "-6")))
    f.write("%s:*:admins\n" % NTLM_USER)
os.chmod(d, 0o755)
ntlm = infra.NtlmUsers(os.path.join(d, "ntlm"))

loc = "wsman; wsman_user_file %s; wsman_shell_max_per_user 5000;" % users
snippet = """
    server {
        listen 127.0.0.1:@PORT@;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
        default_type "application/soap+xml;charset=UTF-8";
        location /wsman { %s wsman_auth basic negotiate;
                          wsman_allow_unencrypted on; }
        location /enc   { %s wsman_auth negotiate; }
        location = /baseline { return 200 "%s"; }
    }
""" % (loc, loc, "x" * 2000)

out = os.path.join(d, "callgrind.out")
n = C.Nginx(os.path.join(d, "ngx"), snippet, main_snippet=ntlm.nginx_env(),
            workers=1,
            wrapper=["valgrind", "--tool=callgrind",
                     "--callgrind-out-file=" + out, "--dump-instr=no"])
conf = n.conf.read_text().replace("master_process on;",
                                  "master_process off;")
n.conf.write_text(conf.replace("logs/error.log info;",
                               "logs/error.log warn;"))
n.start()

try:
    basic = [("Content-Type", H.SOAP_CT),
             ("Authorization", H.basic(BASIC_USER, BASIC_PW))]
    get_xml, _ = H.config_get()

    if CASE == "ntlm":
        s = G.Session(n.port, "/enc", gss=G.GssClient(
            "ntlm", user=NTLM_USER, password=infra.NtlmUsers.USERS[NTLM_USER],
            domain=infra.NtlmUsers.DOMAIN))
        r = s.authenticate()
        assert r.status == 200, r

        def one():
            r, plain = s.send_encrypted(get_xml)
            assert r.status == 200 and plain and b"Config" in plain, r

    else:
        conn = H.Connection(n.port, timeout=60)
        body, hdr, path = {
            "anon": (H.IDENTIFY, [("Content-Type", H.SOAP_CT),
                                  ("WSMANIDENTIFY", "unauthenticated")],
                     "/wsman"),
            "idbasic": (H.IDENTIFY, basic, "/wsman"),
            "get": (get_xml, basic, "/wsman"),
            "base": (get_xml, basic, "/baseline"),
        }[CASE]

        def one():
            r = conn.request("POST", path, body, hdr)
            assert r.status == 200, r

    # past the settle time of the user file's caches (ctime counts too)
    time.sleep(max(0, os.stat(users).st_ctime + 3 - time.time()))

    for _ in range(30):
        one()

    pid = str(n.proc.pid)
    subprocess.run(["callgrind_control", "-z", pid], check=True,
                   capture_output=True)
    for _ in range(N):
        one()
    subprocess.run(["callgrind_control", "-d", "measured", pid], check=True,
                   capture_output=True)

finally:
    n.stop()

for fn in sorted(glob.glob(out + "*")):
    with open(fn) as f:
        text = f.read()
    if "Trigger: dump measured" in text:
        total = int(re.search(r"^(?:summary|totals): (\d+)", text,
                              re.M).group(1))
        print("%s: %d instructions per request (%d requests)%s"
              % (CASE, total // N, N, (", profile " + fn) if KEEP else ""))

if not KEEP:
    shutil.rmtree(d, ignore_errors=True)
