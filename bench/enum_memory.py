#!/usr/bin/python3
"""Enumeration memory and throughput benchmark (not a test).

Starts the packaged nginx with the built module on loopback, enumerates
the synthetic NGX_Sequence class (wsman_sequence_items) with
Enumerate + Pull, and reports for each class size: items per second and
the peak RSS (VmHWM) of the nginx workers before and after.  Memory per
request is bounded when the peak does not grow with the class size.

    /usr/bin/python3 bench/enum_memory.py [build/ngx_wsman_module.so]
"""

import base64
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SO = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                     os.path.join(HERE, "..", "build",
                                  "ngx_wsman_module.so"))
USER, PASSWORD = "bench", "Bench-Pw-1"
SEQ_URI = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/NGX_Sequence"
NS_N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_nginx(items):
    prefix = tempfile.mkdtemp(prefix="wsman-bench-")
    port = free_port()
    users = os.path.join(prefix, "users")
    with open(users, "w") as f:
        f.write("%s:{PLAIN}%s:admins\n" % (USER, PASSWORD))
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""load_module %(so)s;
%(user)s
worker_processes 2;
pid %(p)s/nginx.pid;
error_log %(p)s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(p)s/body;
    wsman_sequence_items %(items)d;
    server {
        listen 127.0.0.1:%(port)d;
        location /wsman {
            wsman; wsman_auth basic; wsman_user_file %(users)s;
            wsman_allow_unencrypted on; wsman_group_sid admins BA;
        }
    }
}
""" % {"so": SO, "p": prefix, "port": port, "users": users, "items": items,
       "user": "user root;" if os.geteuid() == 0 else ""})
    proc = subprocess.Popen(["/usr/sbin/nginx", "-p", prefix, "-c", conf,
                             "-e", os.path.join(prefix, "error.log"),
                             "-g", "daemon off;"])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def workers(master):
    out = subprocess.run(["pgrep", "-P", str(master.pid)],
                         capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M)
    return int(m.group(1)) if m else 0


def envelope(action, body):
    return ("<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'"
            " xmlns:a='http://schemas.xmlsoap.org/ws/2004/08/addressing'"
            " xmlns:w='http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd'"
            " xmlns:n='%s'><s:Header><a:Action>%s</a:Action>"
            "<a:MessageID>uuid:%s</a:MessageID><w:ResourceURI>%s"
            "</w:ResourceURI></s:Header><s:Body>%s</s:Body></s:Envelope>"
            % (NS_N, action, uuid.uuid4(), SEQ_URI, body))


def post(conn, xml):
    auth = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
    conn.request("POST", "/wsman", xml.encode(), {
        "Content-Type": "application/soap+xml;charset=UTF-8",
        "Authorization": "Basic " + auth})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError("HTTP %d: %s" % (r.status, data[:400]))
    return data.decode()


def enumerate_all(port, batch):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    xml = post(conn, envelope(NS_N + "/Enumerate", "<n:Enumerate/>"))
    ctx = re.search(r"<n:EnumerationContext>([^<]*)<", xml).group(1)
    items = 0
    while True:
        xml = post(conn, envelope(
            NS_N + "/Pull",
            "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>"
            "<n:MaxElements>%d</n:MaxElements></n:Pull>" % (ctx, batch)))
        items += xml.count("<p:NGX_Sequence ")
        if "EndOfSequence" in xml:
            return items


def run(items, batch):
    proc, port = start_nginx(items)
    try:
        enumerate_all(port, 10)                     # warm up both workers
        pids = workers(proc)
        before = {p: status_kb(p, "VmHWM") for p in pids}
        start = time.monotonic()
        got = enumerate_all(port, batch)
        elapsed = time.monotonic() - start
        after = {p: status_kb(p, "VmHWM") for p in pids}
        assert got == items, (got, items)
        grow = max(after[p] - before[p] for p in pids)
        return got / elapsed, max(after.values()), grow
    finally:
        proc.terminate()
        proc.wait()


def main():
    print("enumerating NGX_Sequence with Pull MaxElements 500, "
          "nginx %s, module %s" % (
              subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True,
                             text=True).stderr.strip(), SO))
    print("| items | items/s | worker peak RSS (kB) | peak growth (kB) |")
    print("|---:|---:|---:|---:|")
    for n in (1000, 10000, 100000):
        rate, peak, grow = run(n, 500)
        print("| %d | %.0f | %d | %d |" % (n, rate, peak, grow))


if __name__ == "__main__":
    main()
