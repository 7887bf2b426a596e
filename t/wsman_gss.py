"""Client side of Negotiate/Kerberos/NTLM and WinRM HTTP message encryption
(MS-WSMV 2.2.9.1), built on python3-gssapi.  Used to drive the server with
exact control over every token and byte.

  GssClient        an initiator context (raw krb5, SPNEGO or raw NTLM)
  seal / unseal    the GSS part of an encrypted message
  build_encrypted  the multipart/encrypted body
  parse_encrypted  strict parser of the server's encrypted response
  Session          one keep-alive connection: handshake, then plain or
                   encrypted SOAP requests
"""

import base64
import re
import struct

import gssapi
import gssapi.raw as gr

import wsman_helpers as H

KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
NTLM = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
MECHS = {"krb5": KRB5, "spnego": SPNEGO, "ntlm": NTLM}

PROTO_SPNEGO = "application/HTTP-SPNEGO-session-encrypted"
PROTO_KERBEROS = "application/HTTP-Kerberos-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"
SOAP_TYPE = "application/soap+xml;charset=UTF-8"


def encrypted_content_type(protocol=PROTO_SPNEGO):
    return ('multipart/encrypted;protocol="%s";boundary="Encrypted Boundary"'
            % protocol)


class GssClient:
    """An initiator for HTTP@<host> (service: HOST, as Windows Server
    2025 sources ask for).  mech: 'krb5' (raw Kerberos token, what
    pywinrm sends), 'spnego', or 'ntlm' (raw NTLMSSP, needs user/password:
    the credentials are acquired with gss_acquire_cred_with_password from
    gss-ntlmssp; with 'spnego' SPNEGO then offers NTLM only).  Kerberos
    uses the default ccache (KRB5CCNAME) unless
    ccache names another one."""

    def __init__(self, mech="krb5", host="localhost", user=None,
                 password=None, domain="WSMAN", flags=None, ccache=None,
                 channel_bindings=None, service="HTTP"):
        self.mech_name = mech
        creds = None
        if ccache:
            creds = gssapi.Credentials(usage="initiate",
                                       store={"ccache": ccache})
        if mech == "ntlm" or (mech == "spnego" and user):
            name = gssapi.Name("%s\\%s" % (domain, user),
                               gssapi.NameType.user)
            creds = gr.acquire_cred_with_password(
                name, password.encode(), usage="initiate",
                mechs=[MECHS[mech]]).creds
            if mech == "spnego":
                # SPNEGO offering NTLM only (a Windows client without a
                # ticket), never alice's Kerberos ticket from KRB5CCNAME
                gr.set_neg_mechs(creds, [NTLM])
        if flags is None:
            F = gssapi.RequirementFlag
            flags = (F.mutual_authentication | F.integrity |
                     F.confidentiality | F.out_of_sequence_detection)
        # Windows Server 2025 event sources ask for HOST@ (service="HOST")
        target = gssapi.Name("%s@%s" % (service, host),
                             gssapi.NameType.hostbased_service)
        cb = None
        if channel_bindings is not None:
            cb = gr.ChannelBindings(application_data=channel_bindings)
        self.ctx = gssapi.SecurityContext(name=target, usage="initiate",
                                          mech=MECHS[mech], creds=creds,
                                          flags=flags, channel_bindings=cb)

    def step(self, token=None):
        return self.ctx.step(token)

    @property
    def complete(self):
        return self.ctx.complete

    @property
    def is_ntlm(self):
        return self.ctx.mech == NTLM

    # -- sealing --------------------------------------------------------

    def seal(self, plaintext):
        """Returns (gss_header, sealed_data), the bytes that follow the
        4-byte length in the octet-stream part."""
        if self.is_ntlm:
            # gss-ntlmssp: 16-byte signature followed by the sealed data
            tok = self.ctx.wrap(plaintext, True).message
            return tok[:16], tok[16:]
        iov = gr.IOV((gr.IOVBufferType.header, True, None), plaintext,
                     (gr.IOVBufferType.padding, True, None),
                     std_layout=False)
        res = gr.wrap_iov(self.ctx, iov, confidential=True)
        assert res, "wrap_iov did not encrypt"
        return iov[0].value, iov[1].value + (iov[2].value or b"")

    def unseal(self, header, data):
        if self.is_ntlm:
            return self.ctx.unwrap(header + data).message
        iov = gr.IOV((gr.IOVBufferType.header, False, header), data,
                     std_layout=False)
        gr.unwrap_iov(self.ctx, iov)
        return iov[1].value


def build_encrypted(header, data, length, protocol=PROTO_SPNEGO,
                    header_len=None):
    """The MS-WSMV multipart body around already sealed bytes.  length is
    the OriginalContent Length; header_len overrides the u32 prefix (to
    send a lie)."""
    if header_len is None:
        header_len = len(header)
    return (BOUNDARY + b"\r\n"
            + b"\tContent-Type: " + protocol.encode() + b"\r\n"
            + b"\tOriginalContent: type=" + SOAP_TYPE.encode()
            + b";Length=" + str(length).encode() + b"\r\n"
            + BOUNDARY + b"\r\n"
            + b"\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<I", header_len) + header + data
            + BOUNDARY + b"--\r\n")


def encrypt(gss, plaintext, protocol=PROTO_SPNEGO):
    if isinstance(plaintext, str):
        plaintext = plaintext.encode()
    header, data = gss.seal(plaintext)
    return build_encrypted(header, data, len(plaintext), protocol)


_PART1 = re.compile(
    rb"\A--Encrypted Boundary\r\n"
    rb"\tContent-Type: (?P<proto>[^\r\n]+)\r\n"
    rb"\tOriginalContent: type=(?P<type>[^;\r\n]+;charset=[^;\r\n]+)"
    rb";Length=(?P<len>[0-9]+)\r\n"
    rb"--Encrypted Boundary\r\n"
    rb"\tContent-Type: application/octet-stream\r\n", re.I)


def parse_encrypted(body):
    """Strictly parse an encrypted body laid out as pywinrm/pypsrp expect
    it (TAB-prefixed lines, no CRLF before the closing boundary).
    Returns (protocol, length, gss_header, data)."""
    m = _PART1.match(body)
    assert m, "encrypted body layout: %r" % body[:300]
    rest = body[m.end():]
    assert rest.endswith(BOUNDARY + b"--\r\n"), \
        "closing boundary: %r" % rest[-60:]
    rest = rest[:-len(BOUNDARY + b"--\r\n")]
    assert len(rest) >= 4
    (hlen,) = struct.unpack("<I", rest[:4])
    assert 0 < hlen <= len(rest) - 4, "header length %d" % hlen
    return (m.group("proto").decode(), int(m.group("len")),
            rest[4:4 + hlen], rest[4 + hlen:])


def decrypt_response(gss, resp, protocol=PROTO_SPNEGO):
    """Check an encrypted response and return the plaintext."""
    ct = resp.header("Content-Type") or ""
    assert ct.lower().startswith("multipart/encrypted"), resp
    assert ('protocol="%s"' % protocol).lower() in ct.lower(), ct
    proto, length, header, data = parse_encrypted(resp.body)
    assert proto.lower() == protocol.lower(), proto
    plain = gss.unseal(header, data)
    assert len(plain) == length, "Length=%d but %d bytes decrypted" % (
        length, len(plain))
    return plain


def tls_server_end_point(cert_der):
    """RFC 5929 channel binding data for a server certificate signed with
    SHA-256 (or weaker, which also maps to SHA-256)."""
    import hashlib
    return b"tls-server-end-point:" + hashlib.sha256(cert_der).digest()


def www_tokens(resp, scheme):
    """The base64 tokens of every `WWW-Authenticate: <scheme> <token>`."""
    out = []
    for v in resp.all("WWW-Authenticate"):
        parts = v.strip().split(None, 1)
        if parts and parts[0].lower() == scheme.lower() and len(parts) == 2:
            out.append(base64.b64decode(parts[1]))
    return out


class Session:
    """One TCP connection to the server that authenticates with a
    GssClient and then sends plain or encrypted SOAP."""

    def __init__(self, port, path="/wsman", scheme="Negotiate", gss=None,
                 protocol=None, tls=False):
        self.port = port
        self.path = path
        self.scheme = scheme
        self.gss = gss
        self.protocol = protocol or (PROTO_KERBEROS if scheme == "Kerberos"
                                     else PROTO_SPNEGO)
        self.conn = H.Connection(port, tls=tls)
        self.responses = []

    def close(self):
        self.conn.close()

    def post(self, body=b"", headers=None, content_type=H.SOAP_CT):
        h = []
        if content_type and body:
            h.append(("Content-Type", content_type))
        h.extend(headers or [])
        r = self.conn.request("POST", self.path, body, h)
        self.responses.append(r)
        return r

    def authenticate(self, body=b"", content_type=H.SOAP_CT, legs=4):
        """Run the handshake, sending body with every leg (like clients
        that authenticate preemptively).  Returns the final response; the
        server's mutual-auth token, if any, is fed to the context."""
        token = self.gss.step()
        r = None
        for _ in range(legs):
            auth = "%s %s" % (self.scheme, base64.b64encode(token).decode())
            r = self.post(body, [("Authorization", auth)], content_type)
            toks = www_tokens(r, self.scheme)
            if r.status == 401 and toks and not self.gss.complete:
                token = self.gss.step(toks[0])
                continue
            if r.status != 401 and toks and not self.gss.complete:
                self.gss.step(toks[0])
            break
        return r

    def send_encrypted(self, xml, protocol=None):
        """POST an encrypted envelope without Authorization; returns
        (response, plaintext or None)."""
        protocol = protocol or self.protocol
        body = encrypt(self.gss, xml, protocol)
        r = self.post(body, content_type=encrypted_content_type(protocol))
        plain = None
        if (r.header("Content-Type") or "").lower().startswith(
                "multipart/encrypted"):
            plain = decrypt_response(self.gss, r, protocol)
        return r, plain


def plain_response(resp, plaintext):
    """A Response object carrying the decrypted SOAP (for H.assert_fault
    and friends)."""
    return H.Response(resp.status, [("Content-Type", SOAP_TYPE)], plaintext)
