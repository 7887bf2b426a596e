"""An NTLM client that sends what npm's winrm-client sends: a 32-byte
NEGOTIATE_MESSAGE without the optional Version field (MS-NLMP 2.2.1.1),
then an NTLMv2 AUTHENTICATE_MESSAGE without a MIC, then a config Get on
the same keep-alive connection.  Run as a child of the tests with
OPENSSL_CONF=t/openssl-legacy.cnf (NTLM needs MD4):

    ntlm_short_client.py [--auth MODE] PORT PATH USER PASSWORD DOMAIN
                         [WORKSTATION]

MODE shapes the AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3):
  version   (default) with the Version field, payload at 72
  64        without Version, payload at 64, as winrm-client sends it
  64-mic    the same, but the NTLMv2 blob says a MIC was computed
            (MsvAvFlags 0x2): there is no room for one
  64-outside  without Version, the user name field running past the end
  mic       a 40-byte NEGOTIATE, then Version and a real MIC (payload
            at 88) over the three messages as sent

Prints the HTTP status of each leg and of the Get, one per line, then the
Get's body.  Exit 0 when the Get answered 200."""

import base64
import http.client
import struct
import sys

from ntlm_auth import messages
from ntlm_auth.constants import AvId, NegotiateFlags as F

import wsman_helpers as H

# the six fields (length, maximum length, offset) of an AUTHENTICATE_MESSAGE
AUTH_FIELDS = range(12, 60, 8)


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


def with_version(negotiate):
    """The 32-byte NEGOTIATE with its 8-byte Version (zero) inserted."""
    msg = bytearray(negotiate[:32] + b"\x00" * 8 + negotiate[32:])
    for o in (16, 24):
        length, _, off = struct.unpack_from("<HHI", msg, o)
        struct.pack_into("<I", msg, o + 4, off + 8 if length else 40)
    return bytes(msg)


def without_version(auth):
    """winrm-client's shape: the header ends with the flags at 64, no
    Version and no MIC, the payload follows at 64."""
    lowest = min(struct.unpack_from("<HHI", auth, o)[2] for o in AUTH_FIELDS)
    assert lowest == 72, lowest          # Version, no MIC
    msg = bytearray(auth[:64] + auth[72:])
    for o in AUTH_FIELDS:
        struct.pack_into("<I", msg, o + 4,
                         struct.unpack_from("<I", msg, o + 4)[0] - 8)
    return bytes(msg)


def authenticate(mode, user, password, domain, workstation, negotiate,
                 challenge):
    msg2 = messages.ChallengeMessage(challenge)
    if mode in ("64-mic", "mic"):
        # a timestamp in the challenge makes ntlm_auth flag a MIC
        # (MsvAvFlags) in the NTLMv2 blob the NTProofStr covers
        if msg2.target_info is None:
            msg2.target_info = messages.TargetInfo()
        msg2.target_info[AvId.MSV_AV_TIMESTAMP] = struct.pack(
            "<Q", 133000000000000000)
    # like winrm-client's NTLM code: no MIC over the three messages
    auth = messages.AuthenticateMessage(user, password, domain, workstation,
                                        msg2, 3)
    if mode == "mic":
        class Sent:
            def __init__(self, data):
                self.data = data

            def get_data(self):
                return self.data
        auth.add_mic(Sent(negotiate), Sent(challenge))
        assert auth.mic is not None
        return auth.get_data()
    if mode == "version":
        return auth.get_data()
    msg = without_version(auth.get_data())
    if mode == "64-outside":
        msg = bytearray(msg)
        struct.pack_into("<HH", msg, 36, 0x200, 0x200)      # UserNameFields
        msg = bytes(msg)
    return msg


def main():
    args = sys.argv[1:]
    mode = "version"
    if args[:1] == ["--auth"]:
        mode = args[1]
        args = args[2:]
    port, path, user, password, domain = args[:5]
    workstation = args[5] if len(args) > 5 else None

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

    negotiate = negotiate_32(workstation)
    if mode == "mic":
        # the MIC covers the NEGOTIATE as sent: send it complete
        negotiate = with_version(negotiate)
    r, _ = post(b"", negotiate)
    if r.status != 401:
        return 2
    www = [v for v in r.headers.get_all("WWW-Authenticate") or []
           if v.startswith("Negotiate ")]
    if not www:
        return 3
    challenge = base64.b64decode(www[0].split(None, 1)[1])
    r, _ = post(b"", authenticate(mode, user, password, domain,
                                  workstation, negotiate, challenge))
    if r.status != 200:
        return 4
    xml, _ = H.config_get()
    r, data = post(xml.encode())
    sys.stdout.write(data.decode(errors="replace"))
    return 0 if r.status == 200 else 5


if __name__ == "__main__":
    sys.exit(main())
