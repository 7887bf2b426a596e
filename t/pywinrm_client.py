"""Run one WS-Man request through pywinrm in a fresh /usr/bin/python3.

NTLM needs MD4, which OpenSSL 3 only offers with the legacy provider; the
provider set is fixed when hashlib first loads OpenSSL, so the tests start
this script with OPENSSL_CONF=t/openssl-legacy.cnf in its environment.

    pywinrm_client.py ENDPOINT TRANSPORT USER PASSWORD [ENCRYPTION] < envelope

Writes the response envelope to stdout.  Exit status: 0 success,
4 InvalidCredentialsError (HTTP 401), 5 WinRMTransportError/WinRMError
(message and HTTP code on stderr), 6 anything else.
"""

import sys
import traceback

from winrm.exceptions import InvalidCredentialsError, WinRMError, \
    WinRMTransportError
from winrm.protocol import Protocol


def main():
    endpoint, transport, user, password = sys.argv[1:5]
    encryption = sys.argv[5] if len(sys.argv) > 5 else "auto"
    message = sys.stdin.read()
    try:
        p = Protocol(endpoint=endpoint, transport=transport, username=user,
                     password=password, server_cert_validation="ignore",
                     message_encryption=encryption)
        out = p.send_message(message)
    except InvalidCredentialsError as e:
        print("InvalidCredentialsError: %s" % e, file=sys.stderr)
        return 4
    except WinRMTransportError as e:
        print("WinRMTransportError %s: %s" % (e.code, e.response_text),
              file=sys.stderr)
        return 5
    except WinRMError as e:
        print("WinRMError: %s" % e, file=sys.stderr)
        return 5
    except Exception:
        traceback.print_exc()
        return 6
    if isinstance(out, bytes):
        out = out.decode("utf-8", "replace")
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
