"""Real clients: curl, pywinrm 0.3.0 (Debian), Debian's wsl scripts."""

import os
import pathlib
import subprocess
import xml.etree.ElementTree as ET

import pytest

import wsman_helpers as H

CURL = "/usr/bin/curl"


def _curl(*args, data=None, timeout=30):
    cmd = [CURL, "-sS", "-o", "-", "-w", "\n%{http_code}", *args]
    p = subprocess.run(cmd, input=data, capture_output=True,
                       timeout=timeout)
    assert p.returncode == 0, p.stderr
    out, _, code = p.stdout.rpartition(b"\n")
    return int(code), out


# ------------------------------------------------------------- curl -----

def test_curl_identify(server, users):
    code, out = _curl("-u", "alice:" + users["alice"][0],
                      "-H", "Content-Type: application/soap+xml;charset=UTF-8",
                      "--data-binary", "@-", server.url("/wsman"),
                      data=H.IDENTIFY.encode())
    assert code == 200, out
    root = ET.fromstring(out)
    assert root.find("s:Body/wsmid:IdentifyResponse", H.NS) is not None


def test_curl_anonymous_identify(server):
    code, out = _curl("-H", "WSMANIDENTIFY: unauthenticated",
                      "-H", "Content-Type: application/soap+xml;charset=UTF-8",
                      "--data-binary", "@-", server.url("/wsman"),
                      data=H.IDENTIFY.encode())
    assert code == 200, out
    assert b"OS: 0.0.0 SP: 0.0 Stack: 3.0" in out


def test_curl_chunked_config_get(server, users):
    xml, mid = H.config_get()
    code, out = _curl("-u", "bob:" + users["bob"][0],
                      "-H", "Content-Type: application/soap+xml;charset=UTF-8",
                      "-H", "Transfer-Encoding: chunked",
                      "--data-binary", "@-", server.url("/wsman"),
                      data=xml.encode())
    assert code == 200, out
    assert mid.encode() in out
    assert b"MaxEnvelopeSizekb" in out


def test_curl_chunked_oversize(server, users):
    xml, _ = H.config_get(headers='<x:P xmlns:x="urn:p">%s</x:P>'
                          % ("q" * 30000))
    code, out = _curl("-u", "bob:" + users["bob"][0],
                      "-H", "Content-Type: application/soap+xml;charset=UTF-8",
                      "-H", "Transfer-Encoding: chunked",
                      "--data-binary", "@-", server.url("/small"),
                      data=xml.encode())
    assert code == 500, out
    assert b"EncodingLimit" in out


def test_curl_expect_100_continue(server, users):
    # curl sends Expect: 100-continue for bodies > 1 MB by default; force it
    xml, mid = H.config_get()
    code, out = _curl("-u", "carol:" + users["carol"][0],
                      "-H", "Content-Type: application/soap+xml;charset=UTF-8",
                      "-H", "Expect: 100-continue",
                      "--data-binary", "@-", server.url("/wsman"),
                      data=xml.encode())
    assert code == 200, out
    assert mid.encode() in out


# ----------------------------------------------------------- pywinrm ----

winrm_protocol = pytest.importorskip("winrm.protocol")
winrm_exceptions = pytest.importorskip("winrm.exceptions")


def _protocol(server, user="alice", password=None, path="/wsman",
              users=None):
    from winrm.protocol import Protocol
    return Protocol(endpoint=server.url(path), transport="plaintext",
                    username=user, password=password,
                    read_timeout_sec=30, operation_timeout_sec=20)


def _pywinrm_config_get(p, resource_uri=H.CONFIG_URI,
                        action=H.ACTION_GET):
    import xmltodict
    req = {"env:Envelope": p._get_soap_header(resource_uri=resource_uri,
                                              action=action)}
    req["env:Envelope"].setdefault("env:Body", {})
    return xmltodict.unparse(req)


def test_pywinrm_config_get(server, users):
    p = _protocol(server, password=users["alice"][0])
    msg = _pywinrm_config_get(p)
    mid = ET.fromstring(msg).find("s:Header/a:MessageID", H.NS).text
    resp = p.send_message(msg)
    root = ET.fromstring(resp)
    val = root.find("s:Body/cfg:Config/cfg:MaxEnvelopeSizekb", H.NS)
    assert val is not None and val.text.strip() == "500"
    assert root.find("s:Header/a:RelatesTo", H.NS).text == mid


def test_pywinrm_config_get_small(server, users):
    p = _protocol(server, user="dave", password=users["dave"][0],
                  path="/small")
    root = ET.fromstring(p.send_message(_pywinrm_config_get(p)))
    val = root.find("s:Body/cfg:Config/cfg:MaxEnvelopeSizekb", H.NS)
    assert val.text.strip() == "8"


def test_pywinrm_wrong_password(server, users):
    p = _protocol(server, password="definitely-wrong")
    with pytest.raises(winrm_exceptions.InvalidCredentialsError):
        p.send_message(_pywinrm_config_get(p))


def test_pywinrm_strict_refused(server, users):
    p = _protocol(server, password=users["alice"][0], path="/strict")
    with pytest.raises(winrm_exceptions.InvalidCredentialsError):
        p.send_message(_pywinrm_config_get(p))


def test_pywinrm_fault_unknown_resource(server, users):
    p = _protocol(server, password=users["alice"][0])
    msg = _pywinrm_config_get(p, resource_uri="http://example.com/nothing")
    with pytest.raises((winrm_exceptions.WinRMError,
                        winrm_exceptions.WinRMTransportError)) as ei:
        p.send_message(msg)
    text = str(ei.value)
    assert H.CODE_DESTINATION_UNREACHABLE in text, text
    assert "DestinationUnreachable" in text, text
    assert "500" in text, text


def test_pywinrm_fault_unknown_action(server, users):
    p = _protocol(server, password=users["alice"][0])
    msg = _pywinrm_config_get(p, action="http://example.com/bogus")
    with pytest.raises((winrm_exceptions.WinRMError,
                        winrm_exceptions.WinRMTransportError)) as ei:
        p.send_message(msg)
    text = str(ei.value)
    assert H.CODE_ACTION_NOT_SUPPORTED in text, text
    assert "ActionNotSupported" in text, text


def test_pywinrm_capture_replayed_as_config_get(server, users):
    # the raw pywinrm Create envelope from t/captures, retargeted to the
    # config resource with a Get action
    cap = pathlib.Path(H.CAPTURES) / "basic-01-req.txt"
    body = cap.read_bytes().split(b"\r\n\r\n", 1)[1]
    body = body.replace(
        b"http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd",
        H.CONFIG_URI.encode())
    body = body.replace(b"http://schemas.xmlsoap.org/ws/2004/09/transfer/"
                        b"Create", H.ACTION_GET.encode())
    c = H.Client(server.port, users)
    r = c.post(body)
    assert r.status == 200, r
    assert H.header_text(r, "a", "RelatesTo") == \
        "uuid:5503b3bc-b532-4d5c-9f7e-a2df421f3785"


# --------------------------------------------------------------- wsl ----

def _wsl(server, tmp_path, user, password, *args):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "WSENDPOINT": "127.0.0.1:%d" % server.port,
        "WSUSER": user,
        "WSPASS": password,
        "WSNOSSL": "1",
        "LANG": "C",
    }
    p = subprocess.run(["/usr/bin/wsl", *args], cwd=work, env=env,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    files = {f.name: f.read_bytes() for f in work.iterdir() if f.is_file()}
    return p, files


@pytest.fixture
def have_wsl():
    for b in ("/usr/bin/wsl", "/usr/bin/uuidgen", "/usr/bin/xmllint"):
        if not os.path.exists(b):
            pytest.skip("%s not installed" % b)


def test_wsl_identify(server, users, tmp_path, have_wsl):
    p, files = _wsl(server, tmp_path, "alice", users["alice"][0],
                    "identify", "check")
    responses = {k: v for k, v in files.items() if "response" in k}
    assert responses, (p.stdout, p.stderr, list(files))
    blob = b"".join(responses.values())
    assert b"IdentifyResponse" in blob, (p.stdout, p.stderr, blob[:2000])
    assert b"Stack: 3.0" in blob
    assert b"secprofile/http/basic" in blob


def test_wsl_identify_wrong_password(server, tmp_path, have_wsl):
    p, files = _wsl(server, tmp_path, "alice", "wrong-password",
                    "identify", "check")
    blob = b"".join(v for k, v in files.items() if "response" in k)
    assert b"IdentifyResponse" not in blob


def _capture_files():
    import glob
    return sorted(os.path.basename(f) for f in
                  glob.glob(os.path.join(H.CAPTURES, "*-plain.xml")))


CAPTURE_FILES = _capture_files()
assert CAPTURE_FILES, "t/captures/ holds the clients' envelopes"


def _capture(name):
    body = (pathlib.Path(H.CAPTURES) / name).read_bytes()
    mid = ET.fromstring(body).find("s:Header/a:MessageID", H.NS).text
    return body, mid


@pytest.mark.parametrize("name", CAPTURE_FILES)
def test_real_client_messages_are_understood(client, name):
    """Every request real clients sent (pywinrm, Go winrm, winrmcp) parses:
    its headers are understood (no MustUnderstand / header faults, no 400);
    the answer is a result or an operation-level fault."""
    body, mid = _capture(name)
    r = client.post(body)
    assert r.status in (200, 500), r
    if r.status == 500:
        f = H.assert_fault(r)
        assert f.code != (H.NS["s"], "MustUnderstand"), f
        assert f.subcode not in (
            (H.NS["a"], "InvalidMessageInformationHeader"),
            (H.NS["a"], "MessageInformationHeaderRequired"),
            (H.NS["w"], "EncodingLimit")), f
    assert H.header_text(r, "a", "RelatesTo") == mid


@pytest.mark.parametrize("name", CAPTURE_FILES)
def test_real_client_headers_on_config_get(client, name):
    """The same header sets, retargeted to a config Get, return the
    config."""
    import re
    body, mid = _capture(name)
    text = body.decode()
    text = re.sub(r"(<[\w]+:Action[^>]*>)[^<]*(</)",
                  r"\g<1>%s\g<2>" % H.ACTION_GET, text)
    text = re.sub(r"(<[\w]+:ResourceURI[^>]*>)[^<]*(</)",
                  r"\g<1>%s\g<2>" % H.CONFIG_URI, text)
    # drop the shell selector: config is not a selector-addressed resource
    text = re.sub(r"<[\w]+:SelectorSet>.*?</[\w]+:SelectorSet>", "", text,
                  flags=re.S)
    r = client.post(text.encode())
    assert r.status == 200, r
    assert H.body_child(r).tag == H.q("cfg", "Config")
    assert H.header_text(r, "a", "RelatesTo") == mid
