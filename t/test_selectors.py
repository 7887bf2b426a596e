"""Get and Invoke whose selectors do not identify one instance (issue [8]
defect 3): w:InvalidSelectors with the InsufficientSelectors detail, never
an arbitrary instance.  Classes with one instance (CIM_OperatingSystem,
Win32_ComputerSystem, the IPMI record log and power services, the config
resources) need no selectors, as on Windows.  What a class needs is
declared in its provider table (key, id_keys, singleton)."""

import subprocess

import pytest

import ipmi_sim as S
import wsman_helpers as H
from conftest import USERS  # noqa: E402

CIM = H.CIM_BASE
CIMV2 = H.WMI_BASE
HW = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/hardware/"
INSUFFICIENT = ("http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"
                "InsufficientSelectors")


def _insufficient(r):
    f = H.assert_fault(r, 400 if r.status == 400 else 500, code="Sender",
                       subcode=("w", "InvalidSelectors"))
    detail = f.element.find("s:Detail/w:FaultDetail", H.NS)
    assert detail is not None and detail.text == INSUFFICIENT, r.body[:1500]
    return f


@pytest.mark.parametrize("uri,sels", [
    (CIM + "CIM_Processor", None),
    (CIM + "CIM_Processor", {"SystemName": "whatever"}),
    (CIM + "CIM_Processor", {"CreationClassName": "CIM_Processor"}),
    (CIM + "CIM_Process", None),
    (CIM + "CIM_Process", {"CreationClassName": "CIM_Process"}),
    (CIMV2 + "Win32_Process", None),
    (CIMV2 + "Win32_LogicalDisk", None),
    (CIM + "CIM_FileSystem", None),
    (CIM + "CIM_EthernetPort", None),
    (H.LISTENER_URI, None),
    (H.LISTENER_URI, {"Transport": "HTTP"}),
])
def test_get_without_enough_selectors(inv_client, uri, sels):
    xml, _ = H.get_request(uri, sels)
    _insufficient(inv_client.post(xml))


def test_get_processor_with_system_name_only(inv_client):
    """What openwsman's `wsman get …/CIM_Processor -k SystemName=…` sends:
    the host's own SystemName, which every CPU shares."""
    items, _ = H.enumerate_all(inv_client, CIM + "CIM_Processor")
    name = H.props(items[0])["SystemName"]
    xml, _ = H.get_request(CIM + "CIM_Processor", {"SystemName": name})
    _insufficient(inv_client.post(xml))
    # with the key it is found
    xml, _ = H.get_request(CIM + "CIM_Processor",
                           {"SystemName": name, "DeviceID": "CPU0"})
    r = inv_client.post(xml)
    assert r.status == 200, r
    assert H.props(H.body_child(r))["DeviceID"] == "CPU0"


@pytest.mark.parametrize("uri", [
    CIM + "CIM_OperatingSystem",
    CIM + "CIM_ComputerSystem",
    CIMV2 + "Win32_OperatingSystem",
    CIMV2 + "Win32_ComputerSystem",
    H.CONFIG_URI,
    H.CONFIG_URI + "/service",
])
def test_singletons_need_no_selectors(inv_client, uri):
    xml, _ = H.get_request(uri)
    r = inv_client.post(xml)
    assert r.status == 200, r


def test_invoke_without_enough_selectors(inv_client):
    victim = subprocess.Popen(["sleep", "300"])
    try:
        for uri, method in ((CIMV2 + "Win32_Process", "Terminate"),
                            (CIM + "CIM_Process", "RequestStateChange")):
            xml, _ = H.invoke_request(uri, method)
            _insufficient(inv_client.post(xml))
            xml, _ = H.invoke_request(uri, method, {"CSName": "x"})
            _insufficient(inv_client.post(xml))
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


# ------------------------------------------------------------ IPMI --

IPMI_HTTP = """
    wsman_ipmi %s;
    server {
        listen 127.0.0.1:@PORT@;
        location /wsman { wsman; wsman_auth basic; wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on; }
    }
"""


@pytest.fixture(scope="module")
def bmc(nginx_factory, tmp_path_factory):
    sim = S.IpmiSim(tmp_path_factory.mktemp("ipmisim")).start()
    n = nginx_factory(IPMI_HTTP % sim.wsman_ipmi("timeout=2s"))
    yield sim, H.Client(n.port, USERS)
    n.stop()
    sim.close()


@pytest.mark.parametrize("base", [CIM, HW])
@pytest.mark.parametrize("cls", ["CIM_PhysicalPackage", "CIM_Chassis",
                                 "CIM_NumericSensor", "CIM_Sensor",
                                 "CIM_LogRecord"])
def test_ipmi_get_without_enough_selectors(bmc, base, cls):
    sim, c = bmc
    xml, _ = H.get_request(base + cls)
    _insufficient(c.post(xml, timeout=30))


def test_ipmi_physical_package_has_two(bmc):
    """There are two packages: which one a bare Get gave was chance."""
    sim, c = bmc
    items, _ = H.enumerate_all(c, CIM + "CIM_PhysicalPackage", pull_max=20)
    assert len(items) >= 2, items
    xml, _ = H.get_request(CIM + "CIM_PhysicalPackage")
    _insufficient(c.post(xml, timeout=30))


@pytest.mark.parametrize("cls", ["CIM_RecordLog", "CIM_PowerManagementService",
                                 "CIM_AssociatedPowerManagementService"])
def test_ipmi_singletons_need_no_selectors(bmc, cls):
    sim, c = bmc
    xml, _ = H.get_request(CIM + cls)
    r = c.post(xml, timeout=30)
    assert r.status == 200, r
