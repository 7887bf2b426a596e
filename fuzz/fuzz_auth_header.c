/*
 * The Authorization header (src/auth/ngx_wsman_auth_header.c) the way
 * ngx_wsman_authenticate() takes it apart: split into scheme and token,
 * the scheme looked up, then a Basic token decoded into user and password,
 * or a Negotiate/Kerberos token decoded into the GSS token handed to
 * gss_accept_sec_context() (ngx_wsman_gss_accept(), whose decoding step
 * is repeated here: the rest of it needs a connection and a GSS library).
 * Whatever reaches the log goes through ngx_wsman_log_escape(), which must
 * leave nothing that could forge or split a log line.
 */

#include "fuzz.h"
#include "ngx_wsman_auth.h"
#include "ngx_wsman_log.h"


/* the same test as ngx_wsman_gss_accept()'s */
#define FUZZ_NTLMSSP  "NTLMSSP"


static void
fuzz_auth_check_escaped(ngx_pool_t *pool, ngx_str_t *value)
{
    size_t      i;
    ngx_str_t  *s;

    s = ngx_wsman_log_escape(pool, value);

    fuzz_assert(s != NULL);
    fuzz_assert(s->len <= 4 * NGX_WSMAN_LOG_MAX + 3);

    for (i = 0; i < s->len; i++) {
        fuzz_assert(s->data[i] >= 0x20 && s->data[i] != 0x7f
                    && s->data[i] != '"');

        if (s->data[i] == '\\') {
            fuzz_assert(i + 3 < s->len && s->data[i + 1] == 'x');
            i += 3;
        }
    }
}


static void
fuzz_auth_basic(ngx_pool_t *pool, ngx_str_t *token)
{
    size_t      i;
    ngx_int_t   rc;
    ngx_str_t   user, password;

    rc = ngx_wsman_auth_basic_decode(pool, token, &user, &password);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (rc != NGX_OK) {
        return;
    }

    fuzz_assert(user.len > 0);
    fuzz_assert(password.data == user.data + user.len + 1);
    fuzz_assert(user.data[user.len] == ':');

    /* ngx_wsman_auth_basic.c and PAM take the password as a C string */
    fuzz_assert(password.data[password.len] == '\0');

    for (i = 0; i < user.len; i++) {
        fuzz_assert(user.data[i] >= 0x20 && user.data[i] != 0x7f);
    }

    for (i = 0; i < password.len; i++) {
        fuzz_assert(password.data[i] != '\0');
    }

    fuzz_auth_check_escaped(pool, &user);
}


/*
 * An AUTHENTICATE_MESSAGE without Version (payload at 64) completed by
 * ngx_wsman_ntlm_normalize(): 8 zero bytes at 64, the payload behind
 * them, the offsets into it moved by 8 and every field inside the new
 * message; refused only at 64 bytes or more; anything else untouched.
 */
static void
fuzz_auth_ntlm_auth(ngx_str_t *raw, ngx_str_t *t, ngx_int_t rc)
{
    u_char      *p, *q;
    uint16_t     len;
    uint32_t     off, old, low;
    ngx_uint_t   i;

    if (rc == NGX_DECLINED) {
        fuzz_assert(raw->len >= 64);
        return;
    }

    if (t->data == raw->data) {
        fuzz_assert(t->len == raw->len);
        return;
    }

    fuzz_assert(raw->len >= 64 && t->len == raw->len + 8);
    fuzz_assert(ngx_memcmp(t->data, raw->data, 12) == 0);
    fuzz_assert(ngx_memcmp(t->data + 60, raw->data + 60, 4) == 0);
    fuzz_assert(ngx_memcmp(t->data + 64, "\0\0\0\0\0\0\0\0", 8) == 0);
    fuzz_assert(ngx_memcmp(t->data + 72, raw->data + 64, raw->len - 64)
                == 0);

    low = 0xffffffff;

    for (i = 0; i < 6; i++) {
        p = t->data + 12 + i * 8;
        q = raw->data + 12 + i * 8;

        fuzz_assert(ngx_memcmp(p, q, 4) == 0);

        ngx_memcpy(&len, p, 2);
        ngx_memcpy(&off, p + 4, 4);
        ngx_memcpy(&old, q + 4, 4);

        if (len) {
            fuzz_assert(off == old + 8);
            fuzz_assert(off >= 72 && off <= t->len && len <= t->len - off);
            fuzz_assert(ngx_memcmp(t->data + off, raw->data + old, len)
                        == 0);
            low = ngx_min(low, old);
        }
    }

    fuzz_assert(low == 64);
}


/*
 * A short NEGOTIATE_MESSAGE completed by ngx_wsman_ntlm_normalize(): 8
 * zero bytes of Version at 32, everything else where it was, every name
 * field inside the new message; anything else is passed on untouched.
 */
static void
fuzz_auth_ntlm(ngx_pool_t *pool, ngx_str_t *raw)
{
    u_char      *p;
    uint16_t     len;
    uint32_t     off, old;
    ngx_int_t    rc;
    ngx_str_t    t;
    ngx_uint_t   i;

    t = *raw;
    rc = ngx_wsman_ntlm_normalize(pool, &t);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (raw->len >= 12 && raw->data[8] == 3 && ngx_memcmp(raw->data + 9,
                                                          "\0\0\0", 3) == 0)
    {
        fuzz_auth_ntlm_auth(raw, &t, rc);
        return;
    }

    if (rc == NGX_DECLINED) {
        fuzz_assert(raw->len < NGX_WSMAN_NTLM_NEGOTIATE_LEN);
        return;
    }

    if (t.data == raw->data) {
        fuzz_assert(t.len == raw->len);
        return;
    }

    fuzz_assert(raw->len >= NGX_WSMAN_NTLM_NEGOTIATE_SHORT
                && raw->len < NGX_WSMAN_NTLM_NEGOTIATE_LEN);
    fuzz_assert(t.len == raw->len + 8);
    fuzz_assert(ngx_memcmp(t.data, raw->data, 16) == 0);
    fuzz_assert(ngx_memcmp(t.data + 32, "\0\0\0\0\0\0\0\0", 8) == 0);
    fuzz_assert(ngx_memcmp(t.data + 40, raw->data + 32, raw->len - 32) == 0);

    for (i = 0; i < 2; i++) {
        p = t.data + 16 + i * 8;

        fuzz_assert(ngx_memcmp(p, raw->data + 16 + i * 8, 4) == 0);

        ngx_memcpy(&len, p, 2);
        ngx_memcpy(&off, p + 4, 4);
        ngx_memcpy(&old, raw->data + 16 + i * 8 + 4, 4);

        if (len) {
            fuzz_assert(off >= NGX_WSMAN_NTLM_NEGOTIATE_LEN);
            fuzz_assert(off <= t.len && len <= t.len - off);
            fuzz_assert(off == old + 8);
            fuzz_assert(ngx_memcmp(t.data + off, raw->data + old, len)
                        == 0);
        }
    }
}


static void
fuzz_auth_gss(ngx_pool_t *pool, ngx_str_t *token)
{
    ngx_str_t   raw;
    ngx_uint_t  ntlm;

    raw.data = ngx_pnalloc(pool, ngx_base64_decoded_length(token->len));
    if (raw.data == NULL) {
        abort();
    }

    if (token->len == 0 || ngx_decode_base64(&raw, token) != NGX_OK
        || raw.len == 0)
    {
        return;
    }

    fuzz_assert(raw.len <= ngx_base64_decoded_length(token->len));

    ntlm = raw.len >= sizeof(FUZZ_NTLMSSP) - 1
           && ngx_memcmp(raw.data, FUZZ_NTLMSSP, sizeof(FUZZ_NTLMSSP) - 1)
              == 0;

    if (ntlm) {
        fuzz_auth_ntlm(pool, &raw);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t       i;
    ngx_int_t    rc;
    ngx_str_t    header, scheme, token;
    ngx_uint_t   id;
    ngx_pool_t  *pool;

    pool = fuzz_pool();

    fuzz_str(pool, data, size, &header);

    /* what any client value in a log line goes through */
    fuzz_auth_check_escaped(pool, &header);

    if (header.len > NGX_WSMAN_AUTH_MAX_HEADER) {
        goto done;
    }

    rc = ngx_wsman_auth_split(&header, &scheme, &token);

    fuzz_assert(rc == NGX_OK || rc == NGX_ERROR);

    if (rc != NGX_OK) {
        goto done;
    }

    fuzz_assert(scheme.len > 0 && scheme.data == header.data);
    fuzz_assert(token.data >= scheme.data + scheme.len
                && token.data + token.len <= header.data + header.len);

    for (i = 0; i < token.len; i++) {
        fuzz_assert(token.data[i] >= 0x21 && token.data[i] <= 0x7e);
    }

    if (ngx_wsman_auth_scheme_parse(&scheme, &id) != NGX_OK
        || id == NGX_WSMAN_AUTH_CERTIFICATE)
    {
        fuzz_auth_check_escaped(pool, &scheme);
        goto done;
    }

    if (id == NGX_WSMAN_AUTH_BASIC) {
        fuzz_auth_basic(pool, &token);

    } else {
        fuzz_assert(id == NGX_WSMAN_AUTH_NEGOTIATE
                    || id == NGX_WSMAN_AUTH_KERBEROS);

        fuzz_auth_gss(pool, &token);
    }

done:

    ngx_destroy_pool(pool);

    return 0;
}
