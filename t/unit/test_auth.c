/*
 * The Authorization header (src/auth/ngx_wsman_auth_header.c): splitting, Basic
 * decoding, scheme names and the 401 challenges, including the one that
 * carries the next token of a handshake.  The authentication flows
 * themselves meet real clients in the integration suite.
 */

#include <stdlib.h>

#include <openssl/evp.h>

#include "unit.h"
#include "ngx_wsman_auth.h"
#include "ngx_wsman_log.h"


static ngx_int_t
unit_split(const char *header, ngx_str_t *scheme, ngx_str_t *token)
{
    ngx_str_t  h;

    h.data = (u_char *) header;
    h.len = ngx_strlen(header);

    ngx_str_null(scheme);
    ngx_str_null(token);

    return ngx_wsman_auth_split(&h, scheme, token);
}


static void
unit_test_auth_split(void)
{
    ngx_str_t  scheme, token, h;

    UNIT_CHECK(unit_split("Basic abc", &scheme, &token) == NGX_OK);
    UNIT_EQ_STR(scheme, "Basic");
    UNIT_EQ_STR(token, "abc");

    UNIT_CHECK(unit_split("Negotiate  tok  ", &scheme, &token) == NGX_OK);
    UNIT_EQ_STR(scheme, "Negotiate");
    UNIT_EQ_STR(token, "tok");

    UNIT_CHECK(unit_split("Kerberos\t\tYII=\t", &scheme, &token) == NGX_OK);
    UNIT_EQ_STR(scheme, "Kerberos");
    UNIT_EQ_STR(token, "YII=");

    UNIT_CHECK(unit_split("Basic", &scheme, &token) == NGX_OK);
    UNIT_EQ_STR(scheme, "Basic");
    UNIT_EQ_UINT(token.len, 0);

    UNIT_CHECK(unit_split("Basic   ", &scheme, &token) == NGX_OK);
    UNIT_EQ_STR(scheme, "Basic");
    UNIT_EQ_UINT(token.len, 0);

    UNIT_CHECK(unit_split("", &scheme, &token) == NGX_ERROR);
    UNIT_CHECK(unit_split(" ", &scheme, &token) == NGX_ERROR);
    UNIT_CHECK(unit_split(" Basic abc", &scheme, &token) == NGX_ERROR);

    /* control characters, spaces inside the token, non-ASCII */
    UNIT_CHECK(unit_split("Basic a\x01" "bc", &scheme, &token) == NGX_ERROR);
    UNIT_CHECK(unit_split("Ba\x01sic abc", &scheme, &token) == NGX_ERROR);
    UNIT_CHECK(unit_split("Basic abc\r\nX-Evil: 1", &scheme, &token)
               == NGX_ERROR);
    UNIT_CHECK(unit_split("Basic a b", &scheme, &token) == NGX_ERROR);
    UNIT_CHECK(unit_split("Basic a\tb", &scheme, &token) == NGX_ERROR);
    UNIT_CHECK(unit_split("Basic \x7f", &scheme, &token) == NGX_ERROR);
    UNIT_CHECK(unit_split("Basic \xc3\xa9", &scheme, &token) == NGX_ERROR);
    UNIT_CHECK(unit_split("B\xc3\xa9sic abc", &scheme, &token) == NGX_ERROR);

    /* an embedded NUL is data, not an end */
    h.data = (u_char *) "Basic ab\0c";
    h.len = 10;
    UNIT_CHECK(ngx_wsman_auth_split(&h, &scheme, &token) == NGX_ERROR);

    /* the length counts */
    h.data = (u_char *) "Basic abc\x01";
    h.len = 9;
    UNIT_CHECK(ngx_wsman_auth_split(&h, &scheme, &token) == NGX_OK);
    UNIT_EQ_STR(token, "abc");
}


/* base64 of "len" bytes, NUL-terminated, in the pool */
static ngx_str_t
unit_base64(ngx_pool_t *pool, const char *plain, size_t len)
{
    ngx_str_t  s;

    s.data = ngx_pnalloc(pool, (len + 2) / 3 * 4 + 1);
    if (s.data == NULL) {
        abort();
    }

    s.len = EVP_EncodeBlock(s.data, (const u_char *) plain, (int) len);

    return s;
}


static ngx_int_t
unit_decode(ngx_pool_t *pool, ngx_str_t token, ngx_str_t *user,
    ngx_str_t *password)
{
    ngx_str_null(user);
    ngx_str_null(password);

    return ngx_wsman_auth_basic_decode(pool, &token, user, password);
}


static void
unit_test_auth_basic_decode(ngx_pool_t *pool)
{
    ngx_str_t  token, user, password;

    /* known answer, independent of OpenSSL */
    ngx_str_set(&token, "YWxpY2U6cHc=");
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_OK);
    UNIT_EQ_STR(user, "alice");
    UNIT_EQ_STR(password, "pw");
    UNIT_CHECK(password.data[password.len] == '\0');

    /* from a capture: pywinrm's admin / Secret1! */
    ngx_str_set(&token, "YWRtaW46U2VjcmV0MSE=");
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_OK);
    UNIT_EQ_STR(user, "admin");
    UNIT_EQ_STR(password, "Secret1!");

    /* all padding variants */
    token = unit_base64(pool, "a:b", 3);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_OK);
    UNIT_EQ_STR(user, "a");
    UNIT_EQ_STR(password, "b");

    token = unit_base64(pool, "ab:cd", 5);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_OK);
    UNIT_EQ_STR(user, "ab");
    UNIT_EQ_STR(password, "cd");

    token = unit_base64(pool, "ab:c", 4);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_OK);
    UNIT_EQ_STR(user, "ab");
    UNIT_EQ_STR(password, "c");

    /* the first colon splits; the password keeps the rest */
    token = unit_base64(pool, "bob:p:a:ss:", 11);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_OK);
    UNIT_EQ_STR(user, "bob");
    UNIT_EQ_STR(password, "p:a:ss:");

    /* an empty password is the verifier's business */
    token = unit_base64(pool, "bob:", 4);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_OK);
    UNIT_EQ_STR(user, "bob");
    UNIT_EQ_UINT(password.len, 0);

    /* spaces and UTF-8 in the user name are fine */
    token = unit_base64(pool, "DOM\\J\xc3\xb6rg Smith:pw", 17);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_OK);
    UNIT_EQ_STR(user, "DOM\\J\xc3\xb6rg Smith");

    /* no colon, empty user */
    token = unit_base64(pool, "alicepw", 7);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    token = unit_base64(pool, ":pw", 3);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    token = unit_base64(pool, ":", 1);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    /* control characters in the user name could forge log lines */
    token = unit_base64(pool, "al\x01ice:pw", 9);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    token = unit_base64(pool, "alice\n:pw", 9);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    token = unit_base64(pool, "alice\x7f:pw", 9);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    token = unit_base64(pool, "al\0ce:pw", 8);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    /* a NUL would cut the password short for a C API */
    token = unit_base64(pool, "alice:p\0w", 9);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    /* broken base64 */
    ngx_str_set(&token, "YWxp!2U6cHc=");
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    ngx_str_set(&token, "YWxpY2U6cHc");                 /* 11 characters */
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    ngx_str_set(&token, "YWxpY2U6cH");                  /* 10 characters */
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    ngx_str_set(&token, "YWxpY2U6cHc=\n");
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    ngx_str_set(&token, "Y===");                        /* 4n+1 data */
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    ngx_str_set(&token, "YWxp Y2U6");
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    ngx_str_set(&token, "====");
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    ngx_str_null(&token);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_DECLINED);

    /* no memory */
    ngx_str_set(&token, "YWxpY2U6cHc=");
    unit_alloc_fail_after(0);
    UNIT_CHECK(unit_decode(pool, token, &user, &password) == NGX_ERROR);
    unit_alloc_fail_after(-1);
}


static void
unit_test_auth_scheme_parse(void)
{
    ngx_str_t   name;
    ngx_uint_t  scheme;

    static const struct {
        const char  *name;
        ngx_uint_t   scheme;
    } known[] = {
        { "Basic", NGX_WSMAN_AUTH_BASIC },
        { "basic", NGX_WSMAN_AUTH_BASIC },
        { "BASIC", NGX_WSMAN_AUTH_BASIC },
        { "Negotiate", NGX_WSMAN_AUTH_NEGOTIATE },
        { "Kerberos", NGX_WSMAN_AUTH_KERBEROS },
        { "certificate", NGX_WSMAN_AUTH_CERTIFICATE },
    };

    static const char  *unknown[] = {
        "", "Bas", "Basics", "NTLM", "Digest", "Negotiat", "Kerberos5",
    };

    ngx_uint_t  i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        name.data = (u_char *) known[i].name;
        name.len = ngx_strlen(known[i].name);
        scheme = 0;

        if (UNIT_CHECK(ngx_wsman_auth_scheme_parse(&name, &scheme)
                       == NGX_OK))
        {
            UNIT_EQ_UINT(scheme, known[i].scheme);
        }
    }

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        name.data = (u_char *) unknown[i];
        name.len = ngx_strlen(unknown[i]);

        if (!UNIT_CHECK(ngx_wsman_auth_scheme_parse(&name, &scheme)
                        == NGX_ERROR))
        {
            printf("    input: \"%s\"\n", unknown[i]);
        }
    }

    /* "Basic\0" with its NUL counted is not "basic" */
    name.data = (u_char *) "Basi\0";
    name.len = 5;
    UNIT_CHECK(ngx_wsman_auth_scheme_parse(&name, &scheme) == NGX_ERROR);
}


static ngx_uint_t
unit_challenges(ngx_pool_t *pool, ngx_uint_t auth, ngx_str_t *values,
    ngx_uint_t n)
{
    ngx_uint_t           i, count;
    ngx_list_part_t     *part;
    ngx_table_elt_t     *h;
    ngx_http_request_t   r;
    ngx_wsman_loc_conf_t lcf;

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_memzero(&lcf, sizeof(ngx_wsman_loc_conf_t));

    r.pool = pool;
    lcf.auth = auth;

    /* two per part, so three challenges need a second part */
    if (ngx_list_init(&r.headers_out.headers, pool, 2,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        abort();
    }

    UNIT_EQ_UINT(ngx_wsman_auth_challenge(&r, &lcf, NULL),
                 NGX_HTTP_UNAUTHORIZED);

    count = 0;

    for (part = &r.headers_out.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            UNIT_EQ_STR(h[i].key, "WWW-Authenticate");
            UNIT_EQ_UINT(h[i].hash, 1);

            if (count < n) {
                values[count] = h[i].value;
            }

            count++;
        }
    }

    return count;
}


/* mid-handshake the 401 carries only the next token, in its scheme */
static void
unit_test_auth_reply(ngx_pool_t *pool)
{
    ngx_uint_t             kerberos;
    ngx_table_elt_t       *h;
    ngx_wsman_auth_t       auth;
    ngx_http_request_t     r;
    ngx_wsman_loc_conf_t   lcf;

    for (kerberos = 0; kerberos < 2; kerberos++) {
        ngx_memzero(&r, sizeof(ngx_http_request_t));
        ngx_memzero(&lcf, sizeof(ngx_wsman_loc_conf_t));
        ngx_memzero(&auth, sizeof(ngx_wsman_auth_t));

        r.pool = pool;
        lcf.auth = NGX_WSMAN_AUTH_BASIC | NGX_WSMAN_AUTH_NEGOTIATE
                   | NGX_WSMAN_AUTH_KERBEROS;
        ngx_str_set(&auth.reply, "VG9rZW4=");
        auth.reply_scheme = kerberos ? NGX_WSMAN_AUTH_KERBEROS
                                     : NGX_WSMAN_AUTH_NEGOTIATE;

        if (ngx_list_init(&r.headers_out.headers, pool, 4,
                          sizeof(ngx_table_elt_t))
            != NGX_OK)
        {
            abort();
        }

        UNIT_EQ_UINT(ngx_wsman_auth_challenge(&r, &lcf, &auth),
                     NGX_HTTP_UNAUTHORIZED);
        UNIT_EQ_UINT(r.headers_out.headers.part.nelts, 1);

        h = r.headers_out.headers.part.elts;
        UNIT_EQ_STR(h[0].key, "WWW-Authenticate");
        UNIT_EQ_STR(h[0].value, kerberos ? "Kerberos VG9rZW4="
                                         : "Negotiate VG9rZW4=");
    }
}


static void
unit_test_auth_challenge(ngx_pool_t *pool)
{
    ngx_str_t  v[4];

    /* strongest first, certificate has no challenge */
    UNIT_EQ_UINT(unit_challenges(pool, NGX_WSMAN_AUTH_BASIC
                                       | NGX_WSMAN_AUTH_NEGOTIATE
                                       | NGX_WSMAN_AUTH_KERBEROS
                                       | NGX_WSMAN_AUTH_CERTIFICATE,
                                 v, 4),
                 3);
    UNIT_EQ_STR(v[0], "Negotiate");
    UNIT_EQ_STR(v[1], "Kerberos");
    UNIT_EQ_STR(v[2], "Basic realm=\"WSMAN\"");

    UNIT_EQ_UINT(unit_challenges(pool, NGX_WSMAN_AUTH_BASIC, v, 4), 1);
    UNIT_EQ_STR(v[0], "Basic realm=\"WSMAN\"");

    UNIT_EQ_UINT(unit_challenges(pool, NGX_WSMAN_AUTH_CERTIFICATE, v, 4), 0);
    UNIT_EQ_UINT(unit_challenges(pool, 0, v, 4), 0);

    unit_test_auth_reply(pool);
}


/*
 * User names and schemes reach the log through ngx_wsman_log_escape().
 * Regression (fuzz_auth_header): a value longer than NGX_WSMAN_LOG_MAX
 * whose escapes added exactly as many bytes as the cut removed came back
 * unescaped and uncut, so a name could split a log line.
 */
static void
unit_test_auth_log_escape(ngx_pool_t *pool)
{
    u_char      buf[NGX_WSMAN_LOG_MAX + 3];
    ngx_str_t   src, *dst;

    ngx_memset(buf, 'a', sizeof(buf));
    buf[100] = LF;

    src.data = buf;
    src.len = sizeof(buf);

    dst = ngx_wsman_log_escape(pool, &src);

    UNIT_CHECK(dst != &src);
    UNIT_EQ_UINT(dst->len, NGX_WSMAN_LOG_MAX + 3 + 3);

    UNIT_CHECK(ngx_strlchr(dst->data, dst->data + dst->len, LF) == NULL);
    UNIT_CHECK(dst->len > 100 + 4
               && ngx_memcmp(dst->data + 100, "\\x0A", 4) == 0);
    UNIT_CHECK(ngx_memcmp(dst->data + dst->len - 3, "...", 3) == 0);

    /* the same with a quote */
    buf[100] = '"';

    dst = ngx_wsman_log_escape(pool, &src);

    UNIT_CHECK(dst->len > 100 + 4
               && ngx_memcmp(dst->data + 100, "\\x22", 4) == 0);
    UNIT_CHECK(ngx_memcmp(dst->data + dst->len - 3, "...", 3) == 0);

    /* short and clean: the value itself; cut only: shortened */
    ngx_str_set(&src, "alice");
    UNIT_CHECK(ngx_wsman_log_escape(pool, &src) == &src);

    buf[100] = 'a';
    src.data = buf;
    src.len = sizeof(buf);

    dst = ngx_wsman_log_escape(pool, &src);
    UNIT_EQ_UINT(dst->len, NGX_WSMAN_LOG_MAX + 3);
}


/* a NEGOTIATE_MESSAGE: fields (len, offset) for domain and workstation */
static size_t
unit_ntlm_nego(u_char *buf, uint32_t flags, uint16_t dlen, uint32_t doff,
    uint16_t wlen, uint32_t woff)
{
    ngx_memcpy(buf, "NTLMSSP\0\1\0\0\0", 12);
    ngx_memcpy(buf + 12, &flags, 4);
    ngx_memcpy(buf + 16, &dlen, 2);
    ngx_memcpy(buf + 18, &dlen, 2);
    ngx_memcpy(buf + 20, &doff, 4);
    ngx_memcpy(buf + 24, &wlen, 2);
    ngx_memcpy(buf + 26, &wlen, 2);
    ngx_memcpy(buf + 28, &woff, 4);

    return 32;
}


static void
unit_test_ntlm_normalize(ngx_pool_t *pool)
{
    u_char     buf[64], *orig;
    uint32_t   off;
    ngx_str_t  t;

    /* winrm-client: 32 bytes, no Version, no payload -> 40, rest kept */
    t.len = unit_ntlm_nego(buf, 0xa2088207, 0, 32, 0, 32);
    t.data = buf;
    orig = buf;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_EQ_UINT(t.len, 40);
    UNIT_CHECK(t.data != orig);
    UNIT_CHECK(ngx_memcmp(t.data, buf, 16) == 0);
    UNIT_CHECK(ngx_memcmp(t.data + 32, "\0\0\0\0\0\0\0\0", 8) == 0);

    /* a workstation name in the payload moves behind the Version and its
     * offset with it; the empty domain field keeps pointing at the
     * payload */
    t.len = unit_ntlm_nego(buf, 0xa2083207, 0, 32, 7, 32);
    ngx_memcpy(buf + 32, "NODEBOX", 7);
    t.len += 7;
    t.data = buf;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_EQ_UINT(t.len, 47);
    UNIT_CHECK(ngx_memcmp(t.data + 40, "NODEBOX", 7) == 0);
    ngx_memcpy(&off, t.data + 28, 4);
    UNIT_EQ_UINT(off, 40);
    ngx_memcpy(&off, t.data + 20, 4);
    UNIT_EQ_UINT(off, 40);
    UNIT_CHECK(ngx_memcmp(t.data + 24, "\7\0\7\0", 4) == 0);

    /* domain and workstation */
    t.len = unit_ntlm_nego(buf, 0xa208b207, 3, 32, 2, 35);
    ngx_memcpy(buf + 32, "DOMWS", 5);
    t.len += 5;
    t.data = buf;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_EQ_UINT(t.len, 45);
    ngx_memcpy(&off, t.data + 20, 4);
    UNIT_EQ_UINT(off, 40);
    ngx_memcpy(&off, t.data + 28, 4);
    UNIT_EQ_UINT(off, 43);
    UNIT_CHECK(ngx_memcmp(t.data + 40, "DOMWS", 5) == 0);

    /* complete messages and other tokens are left alone */
    t.len = unit_ntlm_nego(buf, 0xa2088207, 0, 40, 0, 40) + 8;
    ngx_memzero(buf + 32, 8);
    t.data = buf;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_CHECK(t.data == buf && t.len == 40);

    buf[8] = 3;                           /* an AUTHENTICATE_MESSAGE */
    t.len = 32;
    t.data = buf;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_CHECK(t.data == buf && t.len == 32);

    ngx_str_set(&t, "\x60\x28\x06\x06\x2b\x06\x01\x05\x05\x02");  /* SPNEGO */
    orig = t.data;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_CHECK(t.data == orig && t.len == 10);

    /* broken short messages: refused, never passed on or padded */
    t.len = unit_ntlm_nego(buf, 0xa2088207, 0, 32, 0, 32) - 4;
    t.data = buf;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);

    /* a name past the end */
    t.len = unit_ntlm_nego(buf, 0xa2083207, 0, 32, 16, 32);
    t.data = buf;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);

    /* a name inside the fixed fields */
    t.len = unit_ntlm_nego(buf, 0xa208b207, 4, 8, 0, 32);
    t.data = buf;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);

    /* an offset that wraps around */
    t.len = unit_ntlm_nego(buf, 0xa208b207, 4, 0xfffffffe, 0, 32);
    t.data = buf;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);
}


/*
 * An AUTHENTICATE_MESSAGE's six fields (LM, NT, domain, user, workstation,
 * session key: length, offset) and flags, 64 bytes without Version
 */
static void
unit_ntlm_auth(u_char *buf, const uint32_t fields[6][2], uint32_t flags)
{
    uint16_t    len;
    ngx_uint_t  i;

    ngx_memcpy(buf, "NTLMSSP\0\3\0\0\0", 12);

    for (i = 0; i < 6; i++) {
        len = (uint16_t) fields[i][0];
        ngx_memcpy(buf + 12 + i * 8, &len, 2);
        ngx_memcpy(buf + 14 + i * 8, &len, 2);
        ngx_memcpy(buf + 16 + i * 8, &fields[i][1], 4);
    }

    ngx_memcpy(buf + 60, &flags, 4);
}


/* an NTLMv2 response: NTProofStr, the blob's fixed part, AV pairs */
static size_t
unit_ntlmv2_resp(u_char *p, uint32_t av_flags)
{
    u_char  *start;

    start = p;

    ngx_memset(p, 0xa5, 16);                             /* NTProofStr */
    p += 16;
    ngx_memcpy(p, "\1\1\0\0\0\0\0\0", 8);
    p += 8;
    ngx_memset(p, 0x11, 16);            /* timestamp, client challenge */
    p += 16;
    ngx_memzero(p, 4);
    p += 4;
    ngx_memcpy(p, "\1\0\4\0V\0M\0", 8);                /* MsvAvNbComputerName */
    p += 8;
    ngx_memcpy(p, "\6\0\4\0", 4);                               /* MsvAvFlags */
    ngx_memcpy(p + 4, &av_flags, 4);
    p += 8;
    ngx_memzero(p, 8);                         /* MsvAvEOL, then padding */
    p += 8;

    return p - start;
}


static void
unit_test_ntlm_normalize_auth(ngx_pool_t *pool)
{
    u_char      buf[256], v[256];
    size_t      nt, n;
    uint32_t    off, fields[6][2], mv[6][2];
    ngx_str_t   t;
    ngx_uint_t  i;

    /* winrm-client: LMv2 at 64, NTLMv2, domain, user, an empty
     * workstation at the end, an empty session key at offset 0 */
    ngx_memset(buf + 64, 0x5a, 24);
    nt = unit_ntlmv2_resp(buf + 88, 0);
    n = 88 + nt;
    ngx_memcpy(buf + n, "WSMANbob", 8);
    fields[0][0] = 24;  fields[0][1] = 64;
    fields[1][0] = nt;  fields[1][1] = 88;
    fields[2][0] = 5;   fields[2][1] = n;
    fields[3][0] = 3;   fields[3][1] = n + 5;
    fields[4][0] = 0;   fields[4][1] = n + 8;
    fields[5][0] = 0;   fields[5][1] = 0;
    n += 8;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);

    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_EQ_UINT(t.len, n + 8);
    UNIT_CHECK(t.data != buf);
    UNIT_CHECK(ngx_memcmp(t.data, buf, 12) == 0);
    UNIT_CHECK(ngx_memcmp(t.data + 60, buf + 60, 4) == 0);      /* flags */
    UNIT_CHECK(ngx_memcmp(t.data + 64, "\0\0\0\0\0\0\0\0", 8) == 0);
    UNIT_CHECK(ngx_memcmp(t.data + 72, buf + 64, n - 64) == 0);

    for (i = 0; i < 6; i++) {
        /* lengths kept, offsets into the payload moved by 8 */
        UNIT_CHECK(ngx_memcmp(t.data + 12 + i * 8, buf + 12 + i * 8, 4)
                   == 0);
        ngx_memcpy(&off, t.data + 16 + i * 8, 4);
        UNIT_EQ_UINT(off, i == 5 ? 0 : fields[i][1] + 8);
    }

    UNIT_CHECK(ngx_memcmp(t.data + fields[3][1] + 8, "bob", 3) == 0);

    /* NTLMv1 (24 bytes, no blob to look into) moves the same way */
    fields[1][0] = 24;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_EQ_UINT(t.len, n + 8);
    fields[1][0] = nt;

    /* a field that ends exactly at the end is inside */
    fields[4][0] = 0;
    fields[3][0] = 3;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);

    /* one byte more is not: refused, never passed on or padded */
    fields[3][0] = 4;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);
    UNIT_CHECK(t.data == buf && t.len == n);
    fields[3][0] = 3;

    /* an offset past the end */
    fields[2][1] = n + 1;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);

    /* offset + length wrapping around 32 bits */
    fields[2][0] = 0x20;
    fields[2][1] = 0xfffffff0;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);
    fields[2][0] = 5;
    fields[2][1] = 88 + nt;

    /* the maximum length: 65535 bytes said, 24 there */
    fields[0][0] = 0xffff;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);
    fields[0][0] = 24;

    /* the NTLMv2 blob says the client computed a MIC, yet there is no
     * room for one: refused, not passed on with LMv2 bytes as its MIC */
    unit_ntlmv2_resp(buf + 88, 2);
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);

    /* other MsvAvFlags bits are not a MIC */
    unit_ntlmv2_resp(buf + 88, 1 | 4);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_EQ_UINT(t.len, n + 8);

    /* an AV pair running past the NTLMv2 response */
    buf[88 + 44 + 2] = 0xff;
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);
    unit_ntlmv2_resp(buf + 88, 0);

    /* no MsvAvEOL inside the response */
    fields[1][0] = nt - 8;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);

    /* longer than NTLMv1, shorter than an NTLMv2 blob's fixed part */
    fields[1][0] = 40;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);
    fields[1][0] = nt;

    /* with a Version (payload at 72), or a Version and a MIC (88): not
     * touched, a MIC covers the bytes the client sent */
    for (off = 8; off <= 24; off += 16) {
        for (i = 0; i < 5; i++) {
            mv[i][0] = fields[i][0];
            mv[i][1] = fields[i][1] + off;
        }

        mv[5][0] = 0;
        mv[5][1] = 0;

        ngx_memcpy(v + 64 + off, buf + 64, n - 64);
        ngx_memcpy(v + 64, "\x0a\x00\x63\x45\x00\x00\x00\x0f", 8);
        ngx_memset(v + 72, 0xee, off - 8);                         /* MIC */
        unit_ntlmv2_resp(v + 88 + off, off == 24 ? 2 : 0);
        unit_ntlm_auth(v, (const uint32_t (*)[2]) mv, 0x02898206);

        t.data = v;
        t.len = n + off;
        UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
        UNIT_CHECK(t.data == v && t.len == n + off);
    }

    /* the MIC-signed one with a field claiming 64 (in its Version): an
     * insertion would break the MIC, so it is refused, not moved */
    mv[0][1] = 64;
    unit_ntlm_auth(v, (const uint32_t (*)[2]) mv, 0x02898206);
    t.data = v;
    t.len = n + 24;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_DECLINED);
    UNIT_CHECK(t.data == v && t.len == n + 24);

    /* a field inside the fixed part: for the library to refuse, not
     * moved */
    fields[2][1] = 40;
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = n;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_CHECK(t.data == buf && t.len == n);

    /* all fields empty (anonymous): nothing to move */
    ngx_memzero(fields, sizeof(fields));
    unit_ntlm_auth(buf, (const uint32_t (*)[2]) fields, 0x02898206);
    t.data = buf;
    t.len = 64;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_CHECK(t.data == buf && t.len == 64);

    /* shorter than the fixed part: for the library to refuse */
    t.data = buf;
    t.len = 60;
    UNIT_CHECK(ngx_wsman_ntlm_normalize(pool, &t) == NGX_OK);
    UNIT_CHECK(t.data == buf && t.len == 60);
}


void
unit_test_auth(void)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(4096, &unit_log);
    if (pool == NULL) {
        abort();
    }

    unit_test_auth_split();
    unit_test_auth_basic_decode(pool);
    unit_test_auth_scheme_parse();
    unit_test_auth_challenge(pool);
    unit_test_auth_log_escape(pool);
    unit_test_ntlm_normalize(pool);
    unit_test_ntlm_normalize_auth(pool);

    ngx_destroy_pool(pool);
}
