"""Envelopes in other encodings than UTF-8 parse like UTF-8 ones (the
parser converts them; src/ngx_wsman_soap.c skips libxml2's read callback
only for documents that need no conversion), one after the other on the
same kept-alive connection, so on a reused parser context."""

import pytest

import wsman_helpers as H


def _bodies():
    xml, _ = H.config_get()
    xml = xml.replace('<w:Locale mustUnderstand="false" xml:lang="en-US"/>',
                      '<w:Locale mustUnderstand="false" xml:lang="en-\u00e9"/>')
    decl = '<?xml version="1.0" encoding="utf-8"?>'
    assert xml.startswith(decl)
    rest = xml[len(decl):]
    return [
        ("utf-8", xml.encode()),
        ("utf-16le BOM", b"\xff\xfe" + (
            '<?xml version="1.0" encoding="UTF-16"?>' + rest)
         .encode("utf-16-le")),
        ("utf-16be BOM", b"\xfe\xff" + (
            '<?xml version="1.0" encoding="UTF-16"?>' + rest)
         .encode("utf-16-be")),
        ("iso-8859-1", ('<?xml version="1.0" encoding="ISO-8859-1"?>'
                        + rest).encode("latin-1")),
        ("no declaration", rest.encode()),
    ]


@pytest.mark.parametrize("rounds", [2])
def test_encodings_on_one_connection(client, rounds):
    c = H.Connection(client.port)
    try:
        for _ in range(rounds):
            for name, body in _bodies():
                r = c.request("POST", "/wsman", body, {
                    "Authorization": client.auth(),
                    "Content-Type": H.SOAP_CT})
                assert r.status == 200, (name, r)
                assert H.body_child(r).tag == H.q("cfg", "Config"), name
    finally:
        c.close()
