"""The inventory classes (CIM_* and Win32_*): every class enumerates, the
counts match the machine, property values match /proc for a child we
started, and WS-Transfer Get finds instances by their key selectors."""

import datetime
import os
import pwd
import re
import subprocess

import pytest

import wsman_helpers as H

CLASSES = ["CIM_OperatingSystem", "CIM_ComputerSystem", "CIM_Processor",
           "CIM_Process", "CIM_FileSystem", "CIM_EthernetPort",
           "Win32_OperatingSystem", "Win32_Process", "Win32_ComputerSystem",
           "Win32_LogicalDisk"]
SINGLETONS = ["CIM_OperatingSystem", "CIM_ComputerSystem",
              "Win32_OperatingSystem", "Win32_ComputerSystem"]
DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _all(client, cls, **kw):
    items, _ = H.enumerate_all(client, H.class_uri(cls), pull_max=50, **kw)
    for it in items:
        assert it.tag == "{%s}%s" % (H.class_uri(cls), cls), it.tag
    return items


def _key(items, name):
    return [H.props(i)[name] for i in items]


def _get(client, cls, selectors=None, user="alice"):
    xml, mid = H.get_request(H.class_uri(cls), selectors)
    return client.post(xml, user=user), mid


def _get_ok(client, cls, selectors=None):
    r, mid = _get(client, cls, selectors)
    assert r.status == 200, r
    assert H.header_text(r, "a", "Action") == H.ACTION_GET_RESPONSE
    assert H.header_text(r, "a", "RelatesTo") == mid
    obj = H.body_child(r)
    assert obj.tag == "{%s}%s" % (H.class_uri(cls), cls), obj.tag
    return obj


@pytest.mark.parametrize("cls", CLASSES)
def test_every_class_enumerates(inv_client, cls):
    items = _all(inv_client, cls)
    assert items, cls
    obj = items[0]
    # the instance element declares the class namespace and its children
    # are all properties in it
    for c in obj:
        assert c.tag.startswith("{%s}" % H.class_uri(cls)), c.tag
    # every child is either a value, a datetime, or xsi:nil
    for c in obj:
        if c.get(H.q("xsi", "nil")) == "true":
            assert not list(c) and not (c.text or "").strip()


@pytest.mark.parametrize("cls", SINGLETONS)
def test_singletons(inv_client, cls):
    items = _all(inv_client, cls)
    assert len(items) == 1
    _get_ok(inv_client, cls)


def test_processor_count(inv_client):
    ids = _key(_all(inv_client, "CIM_Processor"), "DeviceID")
    assert sorted(ids) == sorted("CPU%d" % i for i in range(os.cpu_count()))


def test_ethernet_ports(inv_client):
    want = set(os.listdir("/sys/class/net")) - {"lo"}
    ids = _key(_all(inv_client, "CIM_EthernetPort"), "DeviceID") \
        if want else []
    assert sorted(ids) == sorted(want)


def test_file_systems_include_root(inv_client):
    names = _key(_all(inv_client, "CIM_FileSystem"), "Name")
    assert "/" in names and len(names) == len(set(names))
    disks = _key(_all(inv_client, "Win32_LogicalDisk"), "DeviceID")
    assert "/" in disks and len(disks) == len(set(disks))


def test_process_count_roughly_matches_proc(inv_client):
    before = sum(1 for d in os.listdir("/proc") if d.isdigit())
    n = len(_all(inv_client, "CIM_Process"))
    after = sum(1 for d in os.listdir("/proc") if d.isdigit())
    assert min(before, after) - 5 <= n <= max(before, after) + 5


# ---------------------------------------------- values of a known child --

def _start_time(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[19])          # field 22 (starttime)
    with open("/proc/stat") as f:
        btime = int(next(l for l in f if l.startswith("btime")).split()[1])
    return btime + ticks / os.sysconf("SC_CLK_TCK")


def _parse_dt(text):
    assert DATETIME_RE.match(text or ""), text
    t = text.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(t).timestamp()


def _cmdline_bytes(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().rstrip(b"\0")
    except OSError:
        return b""


def _cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().rstrip(b"\0").replace(b"\0", b" ").decode()


def _assert_owner(v, pid):
    owner = pwd.getpwuid(os.stat("/proc/%d" % pid).st_uid).pw_name
    assert "Owner" in v, "no Owner property: %r" % sorted(v)
    assert v["Owner"] == owner or v["Owner"].endswith("\\" + owner), v


@pytest.fixture
def child():
    p = subprocess.Popen(["sleep", "301"])
    # Popen returns once exec has begun; the kernel fills the new
    # program's arguments (/proc/PID/cmdline) a moment later
    assert H.wait_until(lambda: _cmdline(p.pid) == "sleep 301", 5)
    yield p
    p.kill()
    p.wait()


def test_cim_process_values(inv_client, child):
    obj = _get_ok(inv_client, "CIM_Process", {"Handle": str(child.pid)})
    v = H.props(obj)
    assert v["Handle"] == str(child.pid)
    assert v["Name"] == "sleep"
    assert v["CommandLine"] == _cmdline(child.pid) == "sleep 301"
    assert v["ParentProcessID"] == str(os.getpid())
    _assert_owner(v, child.pid)
    # datetimes are written as <p:X><cim:Datetime>...</cim:Datetime></p:X>
    cd = obj.find("{%s}CreationDate" % H.class_uri("CIM_Process"))
    assert cd is not None and cd.find("cim:Datetime", H.NS) is not None
    assert abs(_parse_dt(v["CreationDate"]) - _start_time(child.pid)) < 3


def test_win32_process_values(inv_client, child):
    obj = _get_ok(inv_client, "Win32_Process", {"Handle": str(child.pid)})
    v = H.props(obj)
    assert v["Handle"] == str(child.pid)
    assert v["ProcessId"] == str(child.pid)
    assert v["ParentProcessId"] == str(os.getpid())
    assert v["Name"] == "sleep"
    assert v["CommandLine"] == _cmdline(child.pid) == "sleep 301"
    _assert_owner(v, child.pid)
    assert abs(_parse_dt(v["CreationDate"]) - _start_time(child.pid)) < 3


def test_enumerated_equals_get(inv_client, child):
    pid = str(child.pid)
    items, _ = H.enumerate_all(inv_client, H.class_uri("CIM_Process"),
                               selectors={"Handle": pid})
    assert len(items) == 1
    obj = _get_ok(inv_client, "CIM_Process", {"Handle": pid})
    a, b = H.props(items[0]), H.props(obj)
    for k in ("Handle", "Name", "CreationDate"):
        assert a[k] == b[k], k


# ---------------------------------------------------------------- Get --

def test_get_file_system_and_disk(inv_client):
    v = H.props(_get_ok(inv_client, "CIM_FileSystem", {"Name": "/"}))
    assert v["Name"] == "/"
    v = H.props(_get_ok(inv_client, "Win32_LogicalDisk", {"DeviceID": "/"}))
    assert v["DeviceID"] == "/"


def test_get_processor(inv_client):
    v = H.props(_get_ok(inv_client, "CIM_Processor", {"DeviceID": "CPU0"}))
    assert v["DeviceID"] == "CPU0"


def test_get_selector_name_case_insensitive(inv_client, child):
    v = H.props(_get_ok(inv_client, "CIM_Process",
                        {"handle": str(child.pid)}))
    assert v["Handle"] == str(child.pid)


@pytest.mark.parametrize("cls,sels", [
    ("CIM_Process", {"NoSuchKey": "1"}),
    ("CIM_Process", {"Name": "sleep"}),
    ("Win32_LogicalDisk", {"Name": "/"}),
    ("CIM_FileSystem", {"DeviceID": "/"}),
])
def test_get_bad_selectors(inv_client, cls, sels):
    r, _ = _get(inv_client, cls, sels)
    H.assert_fault(r, (400, 500), subcode=("w", "InvalidSelectors"))


@pytest.mark.parametrize("cls,sels", [
    ("CIM_Process", {"Handle": "4194305"}),
    ("Win32_Process", {"Handle": "4194305"}),
    ("CIM_FileSystem", {"Name": "/no/such/mount"}),
    ("Win32_LogicalDisk", {"DeviceID": "/no/such/mount"}),
    ("CIM_Processor", {"DeviceID": "CPU100000"}),
])
def test_get_not_found(inv_client, cls, sels):
    r, _ = _get(inv_client, cls, sels)
    f = H.assert_fault(r, 500, subcode=("a", "DestinationUnreachable"))
    assert f.wsman_code == H.CODE_DESTINATION_UNREACHABLE, f


def test_get_needs_access(inv_client, child):
    r, _ = _get(inv_client, "CIM_Process", {"Handle": str(child.pid)},
                user="henry")
    H.assert_fault(r, (400, 500), subcode=("w", "AccessDenied"))
    r, _ = _get(inv_client, "CIM_OperatingSystem", user="henry")
    H.assert_fault(r, (400, 500), subcode=("w", "AccessDenied"))


# ------------------------------------------- hostile values and URIs --

def test_command_line_markup_is_escaped(inv_client):
    script = "sleep 300; : '<a href=\"x\">&amp;</a> ]]>'"
    p = subprocess.Popen(["/bin/sh", "-c", script])
    # (the exec race of the child fixture)
    assert H.wait_until(lambda: _cmdline(p.pid) == "/bin/sh -c " + script, 5)
    try:
        v = H.props(_get_ok(inv_client, "Win32_Process",
                            {"Handle": str(p.pid)}))
        assert v["CommandLine"] == "/bin/sh -c " + script
        items, _ = H.enumerate_all(
            inv_client, H.class_uri("CIM_Process"),
            wql="SELECT CommandLine FROM CIM_Process WHERE Handle = '%d'"
                % p.pid)
        assert [H.props(i)["CommandLine"] for i in items] == \
            ["/bin/sh -c " + script]
    finally:
        p.kill()
        p.wait()


def test_command_line_bytes_stay_well_formed(inv_client):
    """Invalid UTF-8 and control characters in argv must not break the
    envelope (the response parses; the readable part is kept)."""
    p = subprocess.Popen([b"/bin/sh", b"-c",
                          b"sleep 300 # \xff\xfe\x01\x1b[0m\x7f end"])
    assert H.wait_until(lambda: _cmdline_bytes(p.pid).endswith(b" end"), 5)
    try:
        r, _ = _get(inv_client, "Win32_Process", {"Handle": str(p.pid)})
        assert r.status == 200, r
        v = H.props(H.body_child(r))        # parses: well-formed
        assert v["CommandLine"].startswith("/bin/sh -c sleep 300 # ")
        assert v["CommandLine"].endswith(" end")
        assert "\x01" not in v["CommandLine"]
        assert "\x1b" not in v["CommandLine"]
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("uri", [
    H.CIM_BASE + "CIM_NoSuchClass",
    H.WMI_BASE + "Win32_NoSuchClass",
    H.CIM_BASE + "CIM_Process/extra",
])
def test_unknown_class(inv_client, uri):
    for xml, _ in (H.enumerate_request(uri), H.get_request(uri)):
        f = H.assert_fault(inv_client.post(xml), 500,
                           subcode=("a", "DestinationUnreachable"))
        assert f.wsman_code == H.CODE_DESTINATION_UNREACHABLE, f
