"""An NTLM client that sends what npm's winrm-client sends: a 32-byte
NEGOTIATE_MESSAGE without the optional Version field (MS-NLMP 2.2.1.1),
then an NTLMv2 AUTHENTICATE_MESSAGE without a MIC, then a config Get on
the same keep-alive connection.  Run as a child of the tests with
OPENSSL_CONF=t/openssl-legacy.cnf (NTLM needs MD4):

    ntlm_short_client.py PORT PATH USER PASSWORD DOMAIN [WORKSTATION]

Prints the HTTP status of each leg and of the Get, one per line, then the
Get's body.  Exit 0 when the Get answered 200."""

import base64
import http.client
import struct
import sys

from ntlm_auth import messages
from ntlm_auth.constants import NegotiateFlags as F

import wsman_helpers as H


def negotiate_32(workstation=None):
    """NTLMSSP\\0, type 1, flags, DomainNameFields, WorkstationFields and
    then the payload: no Version field, so the payload starts at 32."""
    flags = (F.NTLMSSP_NEGOTIATE_UNICODE | F.NTLMSSP_NEGOTIATE_OEM
             | F.NTLMSSP_NEGOTIATE_SIGN | F.NTLMSSP_NEGOTIATE_SEAL
             | F.NTLMSSP_NEGOTIATE_ALWAYS_SIGN
             | F.NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
             | F.NTLMSSP_NEGOTIATE_TARGET_INFO | F.NTLMSSP_NEGOTIATE_128
             | F.NTLMSSP_NEGOTIATE_KEY_EXCH | F.NTLMSSP_NEGOTIATE_56)
    payload = b""
    ws = (0, 0, 32)
    if workstation:
        flags |= F.NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED
        payload = workstation.encode()
        ws = (len(payload), len(payload), 32)
    msg = (b"NTLMSSP\x00" + struct.pack("<II", 1, flags)
           + struct.pack("<HHI", 0, 0, 32)
           + struct.pack("<HHI", *ws) + payload)
    assert len(msg) == 32 + len(payload)
    return msg


def main():
    port, path, user, password, domain = sys.argv[1:6]
    workstation = sys.argv[6] if len(sys.argv) > 6 else None

    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=20)

    def post(body, auth=None):
        h = {"Content-Type": H.SOAP_CT}
        if auth:
            h["Authorization"] = "Negotiate " + base64.b64encode(
                auth).decode()
        conn.request("POST", path, body, h)
        r = conn.getresponse()
        data = r.read()
        print(r.status)
        return r, data

    r, _ = post(b"", negotiate_32(workstation))
    if r.status != 401:
        return 2
    www = [v for v in r.headers.get_all("WWW-Authenticate") or []
           if v.startswith("Negotiate ")]
    if not www:
        return 3
    challenge = base64.b64decode(www[0].split(None, 1)[1])
    # like winrm-client's NTLM code: no MIC over the three messages
    auth = messages.AuthenticateMessage(
        user, password, domain, workstation,
        messages.ChallengeMessage(challenge), 3)
    r, _ = post(b"", auth.get_data())
    if r.status != 200:
        return 4
    xml, _ = H.config_get()
    r, data = post(xml.encode())
    sys.stdout.write(data.decode(errors="replace"))
    return 0 if r.status == 200 else 5


if __name__ == "__main__":
    sys.exit(main())
