/*
 * HTTP message encryption framing (src/soap/ngx_wsman_mime.c): the request
 * Content-Type, unframing the bodies pywinrm really sent, framing
 * responses byte for byte, and malformed bodies.
 *
 * Every body handed to ngx_wsman_mime_unframe() here sits in a malloc()ed
 * buffer of exactly its size, so that valgrind reports any read past it.
 */

#include <stdio.h>
#include <stdlib.h>

#include "unit.h"
#include "ngx_wsman_mime.h"


void unit_test_mime(void);


#define UNIT_SPNEGO    NGX_WSMAN_MIME_SPNEGO
#define UNIT_KRB       NGX_WSMAN_MIME_KERBEROS

/* the pieces of a request body, as pywinrm writes them */
#define UNIT_DELIM     "--Encrypted Boundary\r\n"
#define UNIT_PART1     "\tContent-Type: " UNIT_SPNEGO "\r\n"
#define UNIT_OC(n)                                                          \
    "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="    \
    n "\r\n"
#define UNIT_PART2     "\tContent-Type: application/octet-stream\r\n"
#define UNIT_BINARY    "\x04\x00\x00\x00" "HHHH" "cipher"
#define UNIT_CLOSE     "--Encrypted Boundary--\r\n"

/* a string literal as a pointer and a length, NULs included */
#define UNIT_BODY(s)   s, sizeof(s) - 1

#define UNIT_GOOD                                                           \
    UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2 UNIT_BINARY    \
    UNIT_CLOSE


static ngx_str_t  unit_spnego = ngx_string(UNIT_SPNEGO);
static ngx_str_t  unit_krb = ngx_string(UNIT_KRB);
static ngx_str_t  unit_boundary = ngx_string(NGX_WSMAN_MIME_BOUNDARY);


static u_char *
unit_mime_alloc(size_t len)
{
    u_char  *p;

    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }

    return p;
}


static u_char *
unit_mime_copy(const void *data, size_t len)
{
    u_char  *p;

    p = unit_mime_alloc(len);

    if (len) {
        ngx_memcpy(p, data, len);
    }

    return p;
}


static ngx_int_t
unit_mime_unframe(const void *data, size_t len, ngx_wsman_mime_part_t *part,
    const char **error)
{
    ngx_int_t  rc;
    ngx_str_t  body;

    body.data = unit_mime_copy(data, len);
    body.len = len;

    rc = ngx_wsman_mime_unframe(&body, &unit_spnego, &unit_boundary, part,
                                error);

    free(body.data);

    return rc;
}


static u_char *
unit_mime_read_file(const char *name, size_t *len)
{
    FILE    *f;
    long     size;
    u_char  *data;
    char     path[1024];

    *len = 0;
    snprintf(path, sizeof(path), "%s/%s", UNIT_DATA, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    data = NULL;

    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0
        && fseek(f, 0, SEEK_SET) == 0)
    {
        data = malloc(size);

        if (data && fread(data, 1, size, f) != (size_t) size) {
            free(data);
            data = NULL;
        }

        *len = size;
    }

    fclose(f);

    return data;
}


static void
unit_test_mime_content_type(void)
{
    static const char  b70[] = "0123456789012345678901234567890123456789"
                               "012345678901234567890123456789";
    static const char  b71[] = "0123456789012345678901234567890123456789"
                               "0123456789012345678901234567890";

    static const struct {
        const char  *text;
        ngx_int_t    rc;
        const char  *protocol;
        const char  *boundary;
    } tests[] = {
        /* pywinrm, pypsrp */
        { "multipart/encrypted;protocol=\"" UNIT_SPNEGO "\";"
          "boundary=\"Encrypted Boundary\"",
          NGX_OK, UNIT_SPNEGO, "Encrypted Boundary" },
        { "multipart/encrypted; protocol=\"" UNIT_KRB "\"; "
          "boundary=\"Encrypted Boundary\"",
          NGX_OK, UNIT_KRB, "Encrypted Boundary" },
        { "multipart/encrypted;protocol=" UNIT_SPNEGO ";boundary=abc",
          NGX_OK, UNIT_SPNEGO, "abc" },
        { "multipart/encrypted;boundary=\"Encrypted Boundary\";"
          "protocol=\"" UNIT_SPNEGO "\"",
          NGX_OK, UNIT_SPNEGO, "Encrypted Boundary" },
        { "Multipart/Encrypted;PROTOCOL=\"" UNIT_SPNEGO "\";"
          "BoUnDaRy=\"Encrypted Boundary\"",
          NGX_OK, UNIT_SPNEGO, "Encrypted Boundary" },
        { "  multipart/encrypted ; protocol = \"p\" ;\tboundary = b  ",
          NGX_OK, "p", "b" },
        { "multipart/encrypted;charset=UTF-8;protocol=\"p\";boundary=\"b\"",
          NGX_OK, "p", "b" },
        { "multipart/encrypted;protocol=\"p\";boundary=\"b\";",
          NGX_OK, "p", "b" },
        { "multipart/encrypted;protocol=p;boundary=\"'()+_,-./:=? x\"",
          NGX_OK, "p", "'()+_,-./:=? x" },

        { "multipart/encrypted;protocol=\"" UNIT_SPNEGO "\"",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;boundary=\"Encrypted Boundary\"",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted", NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=\"p\";boundary=\"\"",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=\"\";boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=p;protocol=p;boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=p;boundary=b;boundary=c",
          NGX_ERROR, NULL, NULL },
        /* an empty first value still counts as given */
        { "multipart/encrypted;protocol=p;boundary=\"\";boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=;protocol=p;boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=\"p;boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=\"p\\\"q\";boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=\"p\"x;boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=\"a b\";boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=p;boundary=\"a<b\"",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol=p;boundary=\"ab \"",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;protocol;boundary=b", NGX_ERROR, NULL, NULL },
        { "multipart/encrypted;;protocol=p;boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/encrypted protocol=p;boundary=b",
          NGX_ERROR, NULL, NULL },
        { "multipart/x-multi-encrypted;"
          "protocol=\"application/HTTP-CredSSP-session-encrypted\";"
          "boundary=\"Encrypted Boundary\"",
          NGX_ERROR, NULL, NULL },

        { "application/soap+xml;charset=UTF-8", NGX_DECLINED, NULL, NULL },
        { "text/xml", NGX_DECLINED, NULL, NULL },
        { "", NGX_DECLINED, NULL, NULL },
        { "multipart/encryptedx;protocol=p;boundary=b",
          NGX_DECLINED, NULL, NULL },
        { "multipart/form-data; boundary=x", NGX_DECLINED, NULL, NULL },
    };

    u_char      buf[256];
    ngx_int_t   rc;
    ngx_str_t   ct, protocol, boundary;
    ngx_uint_t  i;

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        ct.len = ngx_strlen(tests[i].text);
        ct.data = unit_mime_copy(tests[i].text, ct.len);

        rc = ngx_wsman_mime_content_type(&ct, &protocol, &boundary);

        if (!UNIT_EQ_UINT(rc, tests[i].rc)) {
            printf("    input: \"%s\"\n", tests[i].text);

        } else if (rc == NGX_OK) {
            UNIT_EQ_STR(protocol, tests[i].protocol);
            UNIT_EQ_STR(boundary, tests[i].boundary);

            /* results point into the header, not into a copy */
            UNIT_CHECK(protocol.data >= ct.data
                       && protocol.data + protocol.len <= ct.data + ct.len);
            UNIT_CHECK(boundary.data >= ct.data
                       && boundary.data + boundary.len <= ct.data + ct.len);
        }

        free(ct.data);
    }

    /* RFC 2046 limits a boundary to 70 characters */
    ct.data = buf;
    ct.len = ngx_sprintf(buf, "multipart/encrypted;protocol=p;boundary=%s",
                         b70) - buf;

    if (UNIT_EQ_UINT(ngx_wsman_mime_content_type(&ct, &protocol, &boundary),
                     NGX_OK))
    {
        UNIT_EQ_UINT(boundary.len, 70);
    }

    ct.len = ngx_sprintf(buf, "multipart/encrypted;protocol=p;boundary=\"%s\"",
                         b71) - buf;
    UNIT_EQ_UINT(ngx_wsman_mime_content_type(&ct, &protocol, &boundary),
                 NGX_ERROR);
}


static void
unit_test_mime_response_content_type(void)
{
    static const char  expected[] =
        "multipart/encrypted;"
        "protocol=\"application/HTTP-SPNEGO-session-encrypted\";"
        "boundary=\"Encrypted Boundary\"";

    u_char     buf[256], *end;
    ngx_str_t  s, protocol, boundary;

    UNIT_EQ_UINT(ngx_wsman_mime_content_type_len(&unit_spnego),
                 sizeof(expected) - 1);

    end = ngx_wsman_mime_write_content_type(buf, &unit_spnego);
    s.data = buf;
    s.len = end - buf;
    UNIT_EQ_STR(s, expected);

    /* and it is what our own parser takes back */
    if (UNIT_EQ_UINT(ngx_wsman_mime_content_type(&s, &protocol, &boundary),
                     NGX_OK))
    {
        UNIT_EQ_STR(protocol, UNIT_SPNEGO);
        UNIT_EQ_STR(boundary, NGX_WSMAN_MIME_BOUNDARY);
    }

    UNIT_EQ_UINT(ngx_wsman_mime_content_type_len(&unit_krb),
                 ngx_wsman_mime_write_content_type(buf, &unit_krb) - buf);
}


/* a request pywinrm sent with NTLM encryption, and the size of the
 * decrypted envelope (wc -c of the matching *-plain.xml capture) */
static void
unit_test_mime_capture(const char *name, size_t plain_len)
{
    u_char                 *data, *p, *end, *eol, *framed;
    size_t                  len, n;
    ngx_int_t               rc;
    ngx_str_t               ct, cl, body, protocol, boundary;
    const char             *error;
    ngx_wsman_mime_part_t   part;

    data = unit_mime_read_file(name, &len);

    if (!UNIT_CHECK(data != NULL)) {
        printf("    cannot read %s/%s\n", UNIT_DATA, name);
        return;
    }

    ngx_str_null(&ct);
    ngx_str_null(&cl);
    ngx_str_null(&body);

    /* the body is the rest of the file, so it ends where the buffer ends */
    for (p = data, end = data + len; p + 4 <= end; p++) {
        if (ngx_memcmp(p, "\r\n\r\n", 4) == 0) {
            body.data = p + 4;
            body.len = end - body.data;
            break;
        }
    }

    if (!UNIT_CHECK(body.data != NULL)) {
        free(data);
        return;
    }

    for (p = data; p < body.data - 2; p = eol + 2) {
        eol = p;

        while (eol[0] != '\r' || eol[1] != '\n') {
            eol++;
        }

        n = eol - p;

        if (n > 13 && ngx_strncasecmp(p, (u_char *) "Content-Type:", 13) == 0)
        {
            ct.data = p + 13;
            ct.len = n - 13;

        } else if (n > 15
                   && ngx_strncasecmp(p, (u_char *) "Content-Length:", 15)
                      == 0)
        {
            cl.data = p + 15;
            cl.len = n - 15;
        }
    }

    if (!UNIT_CHECK(ct.data != NULL && cl.data != NULL)) {
        free(data);
        return;
    }

    /* the capture is whole */
    UNIT_EQ_UINT(strtoul((char *) cl.data, NULL, 10), body.len);

    rc = ngx_wsman_mime_content_type(&ct, &protocol, &boundary);

    if (!UNIT_EQ_UINT(rc, NGX_OK)) {
        free(data);
        return;
    }

    UNIT_EQ_STR(protocol, UNIT_SPNEGO);
    UNIT_EQ_STR(boundary, NGX_WSMAN_MIME_BOUNDARY);

    rc = ngx_wsman_mime_unframe(&body, &protocol, &boundary, &part, &error);

    if (!UNIT_EQ_UINT(rc, NGX_OK)) {
        printf("    %s: %s\n", name, error ? error : "(no error)");
        free(data);
        return;
    }

    UNIT_CHECK(error == NULL);

    /* the NTLM signature: version 1, checksum, sequence number */
    if (UNIT_EQ_UINT(part.header.len, 16)) {
        UNIT_CHECK(ngx_memcmp(part.header.data, "\x01\x00\x00\x00", 4) == 0);
    }

    UNIT_EQ_UINT(part.length, plain_len);
    UNIT_EQ_STR(part.type, "application/soap+xml;charset=UTF-8");

    /* RC4 sealing keeps the length */
    UNIT_EQ_UINT(part.payload.len, plain_len);
    UNIT_CHECK(part.payload.data + part.payload.len
               == body.data + body.len - sizeof(UNIT_CLOSE) + 1);

    /* framing the parts again gives back what pywinrm sent, byte for byte:
     * the same bytes Windows sends in its responses */
    n = ngx_wsman_mime_frame_len(&protocol, &boundary, part.length,
                                 part.header.len, part.payload.len);

    if (UNIT_EQ_UINT(n, body.len)) {
        framed = unit_mime_alloc(n);
        p = ngx_wsman_mime_frame(framed, &protocol, &boundary, part.length,
                                 &part.header, &part.payload);
        UNIT_EQ_UINT(p - framed, n);
        UNIT_CHECK(ngx_memcmp(framed, body.data, n) == 0);
        free(framed);
    }

    free(data);
}


static void
unit_test_mime_frame_exact(void)
{
    static const char  expected[] =
        "--Encrypted Boundary\r\n"
        "\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
        "\tOriginalContent: type=application/soap+xml;charset=UTF-8;"
        "Length=5\r\n"
        "--Encrypted Boundary\r\n"
        "\tContent-Type: application/octet-stream\r\n"
        "\x03\x00\x00\x00" "\x01\x02\x03" "abc"
        "--Encrypted Boundary--\r\n";

    static const char  expected_krb[] =
        "--b\r\n"
        "\tContent-Type: application/HTTP-Kerberos-session-encrypted\r\n"
        "\tOriginalContent: type=application/soap+xml;charset=UTF-8;"
        "Length=1234567\r\n"
        "--b\r\n"
        "\tContent-Type: application/octet-stream\r\n"
        "\x2c\x01\x00\x00";

    u_char     buf[1024], *end;
    size_t     n;
    ngx_str_t  header, payload, b;

    header.data = (u_char *) "\x01\x02\x03";
    header.len = 3;
    payload.data = (u_char *) "abc";
    payload.len = 3;

    n = ngx_wsman_mime_frame_len(&unit_spnego, &unit_boundary, 5, 3, 3);
    UNIT_EQ_UINT(n, sizeof(expected) - 1);

    end = ngx_wsman_mime_frame(buf, &unit_spnego, &unit_boundary, 5,
                               &header, &payload);

    if (UNIT_EQ_UINT(end - buf, sizeof(expected) - 1)) {
        UNIT_CHECK(ngx_memcmp(buf, expected, sizeof(expected) - 1) == 0);
    }

    /* a multi-byte header length, a long Length, another boundary */
    ngx_memset(buf + 512, 'h', 300);
    header.data = buf + 512;
    header.len = 300;
    ngx_str_set(&b, "b");

    n = ngx_wsman_mime_frame_len(&unit_krb, &b, 1234567, 300, 3);
    end = ngx_wsman_mime_frame(buf, &unit_krb, &b, 1234567, &header,
                               &payload);

    if (UNIT_EQ_UINT(end - buf, n)) {
        UNIT_EQ_UINT(n, sizeof(expected_krb) - 1 + 300 + 3
                        + sizeof("--b--\r\n") - 1);
        UNIT_CHECK(ngx_memcmp(buf, expected_krb, sizeof(expected_krb) - 1)
                   == 0);
        UNIT_CHECK(ngx_memcmp(end - 10, "abc--b--\r\n", 10) == 0);
    }
}


static void
unit_test_mime_round_trip(void)
{
    static const struct {
        const char  *data;
        size_t       len;
    } payloads[] = {
        { UNIT_BODY("") },
        { UNIT_BODY("x") },
        { UNIT_BODY("abc\r\n") },
        { UNIT_BODY("\r\n") },
        { UNIT_BODY("--") },
        { UNIT_BODY("--Encrypted Boundary--\r\n") },
        { UNIT_BODY("\r\n--Encrypted Boundary--") },
        { UNIT_BODY("a--Encrypted Boundary\r\n" UNIT_PART2 "b") },
        { UNIT_BODY("\0\0\0\0\r\n\0") },
    };

    static const size_t  header_lens[] = { 1, 16, 60 };
    static const size_t  plain_lens[] = { 0, 7, 1683, 65536 };

    u_char                 *buf, *end, hbuf[60];
    size_t                  n;
    ngx_int_t               rc;
    ngx_str_t               header, payload, body, *protocol;
    ngx_uint_t              i, j, k, bad;
    const char             *error;
    ngx_wsman_mime_part_t   part;

    for (i = 0; i < sizeof(hbuf); i++) {
        hbuf[i] = (u_char) (i * 37 + 5);
    }

    bad = 0;

    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        for (j = 0; j < sizeof(header_lens) / sizeof(header_lens[0]); j++) {
            for (k = 0; k < 2; k++) {
                protocol = k ? &unit_krb : &unit_spnego;

                header.data = hbuf;
                header.len = header_lens[j];
                payload.data = (u_char *) payloads[i].data;
                payload.len = payloads[i].len;

                n = ngx_wsman_mime_frame_len(protocol, &unit_boundary,
                                             plain_lens[(i + j) % 4],
                                             header.len, payload.len);
                buf = unit_mime_alloc(n);
                end = ngx_wsman_mime_frame(buf, protocol, &unit_boundary,
                                           plain_lens[(i + j) % 4],
                                           &header, &payload);

                body.data = buf;
                body.len = n;

                rc = ngx_wsman_mime_unframe(&body, protocol, &unit_boundary,
                                            &part, &error);

                if ((size_t) (end - buf) != n
                    || rc != NGX_OK
                    || part.length != plain_lens[(i + j) % 4]
                    || part.header.data != buf + (n - payload.len
                                                  - header.len
                                                  - sizeof(UNIT_CLOSE) + 1)
                    || part.header.len != header.len
                    || ngx_memcmp(part.header.data, hbuf, header.len) != 0
                    || part.payload.len != payload.len
                    || ngx_memcmp(part.payload.data, payload.data,
                                  payload.len) != 0
                    || part.type.len != sizeof("application/soap+xml;"
                                               "charset=UTF-8") - 1)
                {
                    bad++;
                    printf("    round trip: payload %lu, header %lu, "
                           "protocol %lu: %s\n", (unsigned long) i,
                           (unsigned long) header.len, (unsigned long) k,
                           error ? error : "parts differ");
                }

                free(buf);
            }
        }
    }

    UNIT_EQ_UINT(bad, 0);
}


/* bodies framed a little differently from pywinrm's, still valid */
static void
unit_test_mime_accept(void)
{
    static const struct {
        const char  *body;
        size_t       len;
        const char  *type;
        size_t       length;
        const char  *payload;
    } tests[] = {
        { UNIT_BODY(UNIT_GOOD), "application/soap+xml;charset=UTF-8", 6,
          "cipher" },

        /* no TAB before the header lines (OMI), lower case names */
        { UNIT_BODY(UNIT_DELIM
                    "content-type: application/http-spnego-session-encrypted"
                    "\r\n"
                    "originalcontent: type=text/xml;length=6\r\n"
                    UNIT_DELIM
                    "content-type: Application/Octet-Stream\r\n"
                    UNIT_BINARY UNIT_CLOSE),
          "text/xml", 6, "cipher" },

        /* no CRLF after the closing delimiter */
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    UNIT_BINARY "--Encrypted Boundary--"),
          "application/soap+xml;charset=UTF-8", 6, "cipher" },

        /* headers in another order, an unknown one, a blank line */
        { UNIT_BODY(UNIT_DELIM "\tX-Other: 1\r\n" UNIT_OC("6") "\r\n"
                    UNIT_PART1 UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "application/soap+xml;charset=UTF-8", 6, "cipher" },

        /* spaces around the parameters; Length need not come last */
        { UNIT_BODY(UNIT_DELIM UNIT_PART1
                    "\tOriginalContent:  type=application/soap+xml; "
                    "charset=UTF-8 ; Length = 6 ;x=y \r\n"
                    UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "application/soap+xml; charset=UTF-8", 6, "cipher" },

        /* the delimiter inside the ciphertext: only the last one counts */
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    "\x04\x00\x00\x00" "HHHH"
                    "ab--Encrypted Boundary\r\n--Encrypted Boundary--\r\ncd"
                    UNIT_CLOSE),
          "application/soap+xml;charset=UTF-8", 6,
          "ab--Encrypted Boundary\r\n--Encrypted Boundary--\r\ncd" },

        /* ciphertext that ends in CRLF keeps it */
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    "\x04\x00\x00\x00" "HHHH" "ciph\r\n" UNIT_CLOSE),
          "application/soap+xml;charset=UTF-8", 6, "ciph\r\n" },

        /* the header may take all the data */
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("0") UNIT_DELIM UNIT_PART2
                    "\x04\x00\x00\x00" "HHHH" UNIT_CLOSE),
          "application/soap+xml;charset=UTF-8", 0, "" },

        /* the largest Length */
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("67108864") UNIT_DELIM
                    UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "application/soap+xml;charset=UTF-8", 64 * 1024 * 1024,
          "cipher" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("0000000000000000000006")
                    UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "application/soap+xml;charset=UTF-8", 6, "cipher" },
    };

    ngx_int_t               rc;
    ngx_str_t               body;
    ngx_uint_t              i;
    const char             *error;
    ngx_wsman_mime_part_t   part;

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        body.data = unit_mime_copy(tests[i].body, tests[i].len);
        body.len = tests[i].len;

        rc = ngx_wsman_mime_unframe(&body, &unit_spnego, &unit_boundary,
                                    &part, &error);

        if (!UNIT_EQ_UINT(rc, NGX_OK)) {
            printf("    accept #%lu: %s\n", (unsigned long) i,
                   error ? error : "(no error)");

        } else {
            UNIT_EQ_STR(part.type, tests[i].type);
            UNIT_EQ_UINT(part.length, tests[i].length);
            UNIT_EQ_STR(part.header, "HHHH");
            UNIT_EQ_STR(part.payload, tests[i].payload);
        }

        free(body.data);
    }
}


static void
unit_test_mime_reject(void)
{
    static const struct {
        const char  *body;
        size_t       len;
        const char  *error;      /* a word of the expected message */
    } tests[] = {
        { UNIT_BODY(""), "start" },
        { UNIT_BODY("hello, world"), "start" },
        { UNIT_BODY("\r\n" UNIT_GOOD), "start" },
        { UNIT_BODY("--Other Boundary\r\n" UNIT_PART1 UNIT_OC("6")
                    UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "start" },
        { UNIT_BODY("--Encrypted Boundary--\r\n"), "start" },

        /* missing parts, truncation */
        { UNIT_BODY(UNIT_DELIM), "truncated" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6")), "truncated" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_CLOSE),
          "second part is missing" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM),
          "octet-stream" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2),
          "closing" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    UNIT_BINARY), "closing" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    UNIT_BINARY "--Encrypted Boundary--\r"), "closing" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    UNIT_BINARY "--Encrypted Boundary\r\n"), "closing" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    UNIT_BINARY "--Other Boundary--\r\n"), "closing" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    UNIT_BINARY UNIT_CLOSE "\r\n"), "closing" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    UNIT_BINARY UNIT_CLOSE "x"), "closing" },

        /* the first part */
        { UNIT_BODY(UNIT_DELIM UNIT_OC("6") UNIT_DELIM UNIT_PART2 UNIT_BINARY
                    UNIT_CLOSE), "no Content-Type" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_DELIM UNIT_PART2 UNIT_BINARY
                    UNIT_CLOSE), "no OriginalContent" },
        { UNIT_BODY(UNIT_DELIM "\tContent-Type: " UNIT_KRB "\r\n"
                    UNIT_OC("6") UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "not the protocol" },
        { UNIT_BODY(UNIT_DELIM "\tContent-Type: " UNIT_SPNEGO "x\r\n"
                    UNIT_OC("6") UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "not the protocol" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_PART1 UNIT_OC("6") UNIT_DELIM
                    UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "more than one" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_OC("6")
                    UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "more than one" },
        { UNIT_BODY(UNIT_DELIM "\tContent-Type: " UNIT_SPNEGO "\n"
                    UNIT_OC("6") UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "bare LF" },
        { UNIT_BODY(UNIT_DELIM "\tgarbage\r\n" UNIT_PART1 UNIT_OC("6")
                    UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "malformed" },
        { UNIT_BODY(UNIT_DELIM "\t: x\r\n" UNIT_PART1 UNIT_OC("6")
                    UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "malformed" },

        /* OriginalContent */
        { UNIT_BODY(UNIT_DELIM UNIT_PART1
                    "\tOriginalContent: type=application/soap+xml;"
                    "charset=UTF-8\r\n"
                    UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE),
          "no Length" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("") UNIT_DELIM UNIT_PART2
                    UNIT_BINARY UNIT_CLOSE), "empty" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("abc") UNIT_DELIM
                    UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "not a number" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("-1") UNIT_DELIM
                    UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "not a number" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6x") UNIT_DELIM
                    UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "not a number" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("0x10") UNIT_DELIM
                    UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "not a number" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("67108865") UNIT_DELIM
                    UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "too large" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1
                    UNIT_OC("184467440737095516170000000000") UNIT_DELIM
                    UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "too large" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6;Length=6") UNIT_DELIM
                    UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "more than one" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 "\tOriginalContent: Length=6\r\n"
                    UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "type=" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1
                    "\tOriginalContent: type=;Length=6\r\n"
                    UNIT_DELIM UNIT_PART2 UNIT_BINARY UNIT_CLOSE), "empty" },

        /* the second part */
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM
                    "\tContent-Type: text/plain\r\n" UNIT_BINARY UNIT_CLOSE),
          "octet-stream" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM
                    UNIT_BINARY UNIT_CLOSE), "octet-stream" },

        /* the binary data */
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    "\x00\x00\x00\x00" "cipher" UNIT_CLOSE), "zero" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    "\x0b\x00\x00\x00" "HHHH" "cipher" UNIT_CLOSE),
          "exceeds" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    "\x04\x00\x00\x01" "HHHH" "cipher" UNIT_CLOSE),
          "exceeds" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    "\xff\xff\xff\xff" "HHHH" "cipher" UNIT_CLOSE),
          "exceeds" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    "\x04\x00\x00" UNIT_CLOSE), "too short" },
        { UNIT_BODY(UNIT_DELIM UNIT_PART1 UNIT_OC("6") UNIT_DELIM UNIT_PART2
                    UNIT_CLOSE), "too short" },
    };

    ngx_int_t               rc;
    ngx_uint_t              i;
    const char             *error;
    ngx_wsman_mime_part_t   part;

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        error = NULL;
        rc = unit_mime_unframe(tests[i].body, tests[i].len, &part, &error);

        if (!UNIT_EQ_UINT(rc, NGX_DECLINED)) {
            printf("    reject #%lu was accepted\n", (unsigned long) i);
            continue;
        }

        if (!UNIT_CHECK(error != NULL
                        && ngx_strstr(error, tests[i].error) != NULL))
        {
            printf("    reject #%lu: \"%s\", expected \"%s\"\n",
                   (unsigned long) i, error ? error : "(null)",
                   tests[i].error);
        }
    }

}


/* the boundary and protocol from the request header are the ones that
 * count */
static void
unit_test_mime_reject_header(void)
{
    ngx_str_t               body, other, empty;
    const char             *error;
    ngx_wsman_mime_part_t   part;

    ngx_str_set(&other, "Other Boundary");
    ngx_str_null(&empty);

    body.len = sizeof(UNIT_GOOD) - 1;
    body.data = unit_mime_copy(UNIT_GOOD, body.len);

    UNIT_EQ_UINT(ngx_wsman_mime_unframe(&body, &unit_spnego, &other, &part,
                                        &error),
                 NGX_DECLINED);
    UNIT_EQ_UINT(ngx_wsman_mime_unframe(&body, &unit_krb, &unit_boundary,
                                        &part, &error),
                 NGX_DECLINED);
    UNIT_EQ_UINT(ngx_wsman_mime_unframe(&body, &unit_spnego, &empty, &part,
                                        &error),
                 NGX_DECLINED);

    /* a differently cased protocol is the same protocol */
    ngx_str_set(&other, "APPLICATION/http-spnego-SESSION-encrypted");
    UNIT_EQ_UINT(ngx_wsman_mime_unframe(&body, &other, &unit_boundary,
                                        &part, &error),
                 NGX_OK);

    free(body.data);
}


/*
 * Every prefix of a good body, and every single-byte change to it, is
 * parsed from an exact-size buffer: none may crash or read outside it
 * (valgrind watches), and a refusal always says why.
 */
static void
unit_test_mime_fuzz(void)
{
    static const u_char  values[] = { 0x00, '\r', '\n', '-', ':', 'x', 0xff };
    static const char    good[] = UNIT_GOOD;

    u_char                  buf[sizeof(good)];
    size_t                  len, i, j;
    ngx_int_t               rc;
    ngx_uint_t              bad, accepted;
    const char             *error;
    ngx_wsman_mime_part_t   part;

    bad = 0;

    for (len = 0; len < sizeof(good) - 1; len++) {
        rc = unit_mime_unframe(good, len, &part, &error);

        /* only dropping the final CRLF still leaves a whole body */
        if (len == sizeof(good) - 3) {
            if (rc != NGX_OK) {
                bad++;
            }

        } else if (rc != NGX_DECLINED || error == NULL) {
            printf("    prefix of %lu bytes: rc %d\n", (unsigned long) len,
                   (int) rc);
            bad++;
        }
    }

    UNIT_EQ_UINT(bad, 0);

    bad = 0;
    accepted = 0;

    for (i = 0; i < sizeof(good) - 1; i++) {
        for (j = 0; j < sizeof(values); j++) {
            ngx_memcpy(buf, good, sizeof(good) - 1);
            buf[i] = values[j];

            rc = unit_mime_unframe(buf, sizeof(good) - 1, &part, &error);

            if (rc == NGX_OK) {
                accepted++;

                /* whatever was accepted lies within the body */
                if (part.header.len == 0 || error != NULL) {
                    bad++;
                }

            } else if (rc != NGX_DECLINED || error == NULL) {
                bad++;
            }
        }
    }

    UNIT_EQ_UINT(bad, 0);

    /* changes inside the ciphertext must not matter */
    UNIT_CHECK(accepted >= 6 * sizeof(values));
}


static void
unit_test_mime_charset(void)
{
    ngx_str_t   t, cs;
    u_char      buf[512];
    ngx_str_t   protocol = ngx_string(NGX_WSMAN_MIME_SPNEGO);
    ngx_str_t   boundary = ngx_string(NGX_WSMAN_MIME_BOUNDARY);
    ngx_str_t   utf16 = ngx_string("UTF-16");
    ngx_str_t   h = ngx_string("0123456789abcdef");
    ngx_str_t   d = ngx_string("xyz");
    u_char     *end;
    size_t      n;

    ngx_str_set(&t, "application/soap+xml;charset=UTF-16");
    UNIT_CHECK(ngx_wsman_mime_charset(&t, &cs) == NGX_OK);
    UNIT_EQ_STR(cs, "UTF-16");

    ngx_str_set(&t, "application/soap+xml; action=\"x\" ; Charset = "
                    "\"utf-16be\" ;Length=5");
    UNIT_CHECK(ngx_wsman_mime_charset(&t, &cs) == NGX_OK);
    UNIT_EQ_STR(cs, "utf-16be");

    ngx_str_set(&t, "application/soap+xml;xcharset=UTF-16;charsetx");
    UNIT_CHECK(ngx_wsman_mime_charset(&t, &cs) == NGX_DECLINED);

    ngx_str_set(&t, "application/soap+xml");
    UNIT_CHECK(ngx_wsman_mime_charset(&t, &cs) == NGX_DECLINED);

    /* the framing names the charset it is given, and its length is exact */
    n = ngx_wsman_mime_frame_len_charset(&protocol, &boundary, &utf16, 42,
                                         h.len, d.len);
    UNIT_CHECK(n < sizeof(buf));
    end = ngx_wsman_mime_frame_charset(buf, &protocol, &boundary, &utf16,
                                       42, &h, &d);
    UNIT_EQ_UINT((ngx_uint_t) (end - buf), n);
    buf[n] = '\0';     /* the binary part, with its NULs, comes later */
    UNIT_CHECK(strstr((char *) buf, "type=application/soap+xml;"
                      "charset=UTF-16;Length=42\r\n") != NULL);
}


void
unit_test_mime(void)
{
    unit_test_mime_content_type();
    unit_test_mime_response_content_type();

    /* sizes of ntlm-04-plain.xml and ntlm-08-plain.xml */
    unit_test_mime_capture("ntlm-04-req.txt", 1683);
    unit_test_mime_capture("ntlm-08-req.txt", 1551);

    unit_test_mime_frame_exact();
    unit_test_mime_round_trip();
    unit_test_mime_accept();
    unit_test_mime_reject();
    unit_test_mime_reject_header();
    unit_test_mime_fuzz();
    unit_test_mime_charset();
}
