/*
 * The Authorization and WWW-Authenticate headers: schemes, splitting,
 * Basic decoding and challenges.  No I/O: unit tested.
 */

#include <endian.h>

#include "ngx_wsman_auth.h"


typedef struct {
    ngx_str_t      name;
    ngx_uint_t     scheme;
    ngx_str_t      challenge;
} ngx_wsman_auth_scheme_t;


/* in the order challenges are sent: strongest first, as Windows does */
static ngx_wsman_auth_scheme_t  ngx_wsman_auth_schemes[] = {
    { ngx_string("negotiate"), NGX_WSMAN_AUTH_NEGOTIATE,
      ngx_string("Negotiate") },
    { ngx_string("kerberos"), NGX_WSMAN_AUTH_KERBEROS,
      ngx_string("Kerberos") },
    { ngx_string("basic"), NGX_WSMAN_AUTH_BASIC,
      ngx_string("Basic realm=\"WSMAN\"") },
    { ngx_string("certificate"), NGX_WSMAN_AUTH_CERTIFICATE,
      ngx_null_string },
    { ngx_null_string, 0, ngx_null_string }
};


ngx_int_t
ngx_wsman_auth_scheme_parse(ngx_str_t *name, ngx_uint_t *scheme)
{
    ngx_uint_t  i;

    for (i = 0; ngx_wsman_auth_schemes[i].name.len; i++) {
        if (name->len == ngx_wsman_auth_schemes[i].name.len
            && ngx_strncasecmp(name->data, ngx_wsman_auth_schemes[i].name.data,
                               name->len) == 0)
        {
            *scheme = ngx_wsman_auth_schemes[i].scheme;
            return NGX_OK;
        }
    }

    return NGX_ERROR;
}


/* "Scheme SP token": both parts non-empty, token without white space */
ngx_int_t
ngx_wsman_auth_split(ngx_str_t *header, ngx_str_t *scheme, ngx_str_t *token)
{
    u_char  *p, *end;

    p = header->data;
    end = p + header->len;

    scheme->data = p;

    while (p < end && *p != ' ' && *p != '\t') {
        if (*p < 0x21 || *p > 0x7e) {
            return NGX_ERROR;
        }
        p++;
    }

    scheme->len = p - scheme->data;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    token->data = p;
    token->len = end - p;

    if (scheme->len == 0) {
        return NGX_ERROR;
    }

    for ( /* void */ ; p < end; p++) {
        if (*p < 0x21 || *p > 0x7e) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* base64("user:password"); user names with control characters are refused
 * so they can never forge log lines */
ngx_int_t
ngx_wsman_auth_basic_decode(ngx_pool_t *pool, ngx_str_t *token,
    ngx_str_t *user, ngx_str_t *password)
{
    u_char     *colon;
    size_t      i;
    ngx_str_t   plain;

    if (token->len == 0 || token->len % 4 != 0) {
        return NGX_DECLINED;
    }

    plain.data = ngx_pnalloc(pool, ngx_base64_decoded_length(token->len) + 1);
    if (plain.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(&plain, token) != NGX_OK) {
        return NGX_DECLINED;
    }

    colon = ngx_strlchr(plain.data, plain.data + plain.len, ':');
    if (colon == NULL || colon == plain.data) {
        return NGX_DECLINED;
    }

    user->data = plain.data;
    user->len = colon - plain.data;

    for (i = 0; i < user->len; i++) {
        if (user->data[i] < 0x20 || user->data[i] == 0x7f) {
            return NGX_DECLINED;
        }
    }

    password->data = colon + 1;
    password->len = plain.data + plain.len - password->data;

    /* the decoded buffer has room for a terminating NUL */
    password->data[password->len] = '\0';

    for (i = 0; i < password->len; i++) {
        if (password->data[i] == '\0') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_wsman_auth_challenge(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_auth_t *auth)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    /* mid-handshake: only the next token, for the scheme in use */
    if (auth && auth->reply.len) {
        if (ngx_wsman_auth_mutual(r, auth) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_UNAUTHORIZED;
    }

    for (i = 0; ngx_wsman_auth_schemes[i].name.len; i++) {

        if (!(lcf->auth & ngx_wsman_auth_schemes[i].scheme)
            || ngx_wsman_auth_schemes[i].challenge.len == 0)
        {
            continue;
        }

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "WWW-Authenticate");
        h->value = ngx_wsman_auth_schemes[i].challenge;
    }

    return NGX_HTTP_UNAUTHORIZED;
}


/* "WWW-Authenticate: Negotiate <token>": the next leg, or mutual auth */
ngx_int_t
ngx_wsman_auth_mutual(ngx_http_request_t *r, ngx_wsman_auth_t *auth)
{
    u_char           *p;
    ngx_str_t        *name;
    ngx_table_elt_t  *h;
    static ngx_str_t  negotiate = ngx_string("Negotiate");
    static ngx_str_t  kerberos = ngx_string("Kerberos");

    if (auth->reply.len == 0) {
        return NGX_OK;
    }

    name = auth->reply_scheme == NGX_WSMAN_AUTH_KERBEROS ? &kerberos
                                                          : &negotiate;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, name->len + 1 + auth->reply.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    p = ngx_cpymem(p, name->data, name->len);
    *p++ = ' ';
    p = ngx_cpymem(p, auth->reply.data, auth->reply.len);

    h->value.len = p - h->value.data;

    return NGX_OK;
}


/*
 * MS-NLMP 2.2.1.3: an AUTHENTICATE_MESSAGE has six payload fields
 * (LmChallengeResponse, NtChallengeResponse, DomainName, UserName,
 * Workstation, EncryptedRandomSessionKey: a length, a maximum length and
 * an offset each) at 12, the flags at 60, then the optional Version (8
 * bytes at 64) and MIC (16 bytes at 72).  winrm-client sends neither, its
 * payload starts at 64, yet it echoes the server's NEGOTIATE_VERSION flag,
 * and gss-ntlmssp then wants every field at 72 or later ("Invalid token
 * was supplied").  Such a message gets an empty Version inserted at 64
 * and the offsets into the payload move by 8; nothing else changes.
 *
 * Integrity: NTLMv2's NTProofStr covers the server challenge and the
 * client's blob, not the header, so the move is invisible to it.  A MIC
 * covers the three messages as the client sent them and cannot survive
 * an insertion: a message with a MIC has its payload at 88 and is not
 * touched (nor is one with a Version only, at 72); one whose payload
 * starts at 64 has no room for a MIC, and if its NTLMv2 blob says the
 * client computed one (MsvAvFlags bit 0x2) it is refused here rather than
 * passed on with payload bytes where gss-ntlmssp would look for the MIC.
 * A message whose fields do not lie inside it is refused too.
 */

#define NGX_WSMAN_NTLM_AUTH_SHORT    64
#define NGX_WSMAN_NTLM_AUTH_FIELDS   6
#define NGX_WSMAN_NTLM_NT_FIELD      1
/* NTLMv1 responses have 24 bytes, NTLMv2 ones more */
#define NGX_WSMAN_NTLMV1_RESP_LEN    24
/* NTProofStr (16) and the blob's fixed part (28) precede its AV pairs */
#define NGX_WSMAN_NTLMV2_AV_PAIRS    44
#define NGX_WSMAN_NTLM_AV_EOL        0
#define NGX_WSMAN_NTLM_AV_FLAGS      6
#define NGX_WSMAN_NTLM_AV_FLAG_MIC   0x00000002


/* an NTLM message field at field: its length and offset, host order */
static void
ngx_wsman_ntlm_field(u_char *field, uint16_t *len, uint32_t *offset)
{
    ngx_memcpy(len, field, 2);
    ngx_memcpy(offset, field + 4, 4);
    *len = le16toh(*len);
    *offset = le32toh(*offset);
}


/*
 * token with an empty Version (8 zero bytes) inserted at "at": a copy on
 * pool, the nfields fields from offset "fields" on pointing at their
 * payload where it moved to.
 */
static ngx_int_t
ngx_wsman_ntlm_insert_version(ngx_pool_t *pool, ngx_str_t *token,
    size_t at, size_t fields, ngx_uint_t nfields)
{
    u_char      *p, *field;
    uint32_t     offset;
    ngx_uint_t   i;

    p = ngx_pnalloc(pool, token->len + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, token->data, at);
    ngx_memzero(p + at, 8);
    ngx_memcpy(p + at + 8, token->data + at, token->len - at);

    for (i = 0; i < nfields; i++) {
        field = p + fields + i * 8;

        ngx_memcpy(&offset, field + 4, 4);
        offset = le32toh(offset);

        /* empty fields may point at the payload, or anywhere at all */
        if (offset >= at && offset <= token->len) {
            offset = htole32(offset + 8);
            ngx_memcpy(field + 4, &offset, 4);
        }
    }

    token->data = p;
    token->len += 8;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ntlm_normalize_auth(ngx_pool_t *pool, ngx_str_t *token)
{
    u_char      *p, *end, *field;
    uint16_t     len, av_id, av_len;
    uint32_t     offset, low, flags;
    ngx_uint_t   i;

    if (token->len < NGX_WSMAN_NTLM_AUTH_SHORT) {
        return NGX_OK;                   /* gss-ntlmssp refuses it */
    }

    low = NGX_MAX_UINT32_VALUE;

    for (i = 0; i < NGX_WSMAN_NTLM_AUTH_FIELDS; i++) {
        field = token->data + 12 + i * 8;

        ngx_wsman_ntlm_field(field, &len, &offset);

        if (len != 0 && offset < low) {
            low = offset;
        }
    }

    /* a Version (72), a MIC (88), or for gss-ntlmssp to judge */
    if (low != NGX_WSMAN_NTLM_AUTH_SHORT) {
        return NGX_OK;
    }

    for (i = 0; i < NGX_WSMAN_NTLM_AUTH_FIELDS; i++) {
        field = token->data + 12 + i * 8;

        ngx_wsman_ntlm_field(field, &len, &offset);

        if (len != 0
            && (offset > token->len || len > token->len - offset))
        {
            ngx_log_error(NGX_LOG_INFO, pool->log, 0,
                          "wsman: NTLM AUTHENTICATE_MESSAGE refused: field "
                          "%ui (%ud bytes at %ud) lies outside its %uz bytes",
                          i, (unsigned) len, offset, token->len);
            return NGX_DECLINED;
        }
    }

    /* the NTLMv2 blob's AV pairs: does the client claim a MIC? */
    field = token->data + 12 + NGX_WSMAN_NTLM_NT_FIELD * 8;

    ngx_wsman_ntlm_field(field, &len, &offset);

    if (len > NGX_WSMAN_NTLMV1_RESP_LEN) {
        p = token->data + offset;
        end = p + len;

        if (len < NGX_WSMAN_NTLMV2_AV_PAIRS) {
            goto malformed;
        }

        for (p += NGX_WSMAN_NTLMV2_AV_PAIRS; /* void */; p += av_len) {

            if (end - p < 4) {
                goto malformed;
            }

            ngx_memcpy(&av_id, p, 2);
            ngx_memcpy(&av_len, p + 2, 2);
            av_id = le16toh(av_id);
            av_len = le16toh(av_len);
            p += 4;

            if (av_len > end - p) {
                goto malformed;
            }

            if (av_id == NGX_WSMAN_NTLM_AV_EOL) {
                break;
            }

            if (av_id != NGX_WSMAN_NTLM_AV_FLAGS || av_len != 4) {
                continue;
            }

            ngx_memcpy(&flags, p, 4);

            if (le32toh(flags) & NGX_WSMAN_NTLM_AV_FLAG_MIC) {
                ngx_log_error(NGX_LOG_INFO, pool->log, 0,
                              "wsman: NTLM AUTHENTICATE_MESSAGE refused: "
                              "it claims a MIC but has no room for one");
                return NGX_DECLINED;
            }
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "wsman: NTLM AUTHENTICATE_MESSAGE of %uz bytes "
                   "completed with a Version", token->len);

    return ngx_wsman_ntlm_insert_version(pool, token,
                                         NGX_WSMAN_NTLM_AUTH_SHORT, 12,
                                         NGX_WSMAN_NTLM_AUTH_FIELDS);

malformed:

    ngx_log_error(NGX_LOG_INFO, pool->log, 0,
                  "wsman: NTLM AUTHENTICATE_MESSAGE refused: malformed "
                  "NTLMv2 response");
    return NGX_DECLINED;
}


/*
 * MS-NLMP 2.2.1.1: the NEGOTIATE_MESSAGE's Version field (8 bytes after
 * the two 8-byte name fields) is optional, and clients such as npm's
 * winrm-client send 32 bytes without it, but gss-ntlmssp refuses
 * anything shorter than 40.  Such a message gets an empty Version
 * inserted at offset 32, and the payload (domain and workstation names)
 * moves behind it with the offsets pointing at it; nothing else changes.
 * A client that signs the handshake (MIC) over its 32 bytes cannot be
 * helped so; winrm-client sends no MIC.
 *
 * An AUTHENTICATE_MESSAGE without Version is completed the same way
 * (ngx_wsman_ntlm_normalize_auth()).
 *
 * NGX_OK: *token is usable (replaced by a copy on pool when normalised);
 * NGX_DECLINED: a short message whose fields do not fit it (logged on
 * pool->log, the connection's log).
 */
ngx_int_t
ngx_wsman_ntlm_normalize(ngx_pool_t *pool, ngx_str_t *token)
{
    u_char      *field;
    uint16_t     len;
    uint32_t     offset, type;
    ngx_uint_t   i;

    if (token->len < sizeof(NGX_WSMAN_NTLMSSP) - 1 + 4
        || ngx_memcmp(token->data, NGX_WSMAN_NTLMSSP,
                      sizeof(NGX_WSMAN_NTLMSSP) - 1) != 0)
    {
        return NGX_OK;
    }

    ngx_memcpy(&type, token->data + 8, 4);
    type = le32toh(type);

    if (type == 3) {
        return ngx_wsman_ntlm_normalize_auth(pool, token);
    }

    if (type != 1 || token->len >= NGX_WSMAN_NTLM_NEGOTIATE_LEN) {
        return NGX_OK;
    }

    if (token->len < NGX_WSMAN_NTLM_NEGOTIATE_SHORT) {
        ngx_log_error(NGX_LOG_INFO, pool->log, 0,
                      "wsman: NTLM NEGOTIATE_MESSAGE of %uz bytes refused",
                      token->len);
        return NGX_DECLINED;
    }

    /* DomainNameFields at 16, WorkstationFields at 24: each a length, a
     * maximum length and an offset into the message */
    for (i = 0; i < 2; i++) {
        field = token->data + 16 + i * 8;

        ngx_wsman_ntlm_field(field, &len, &offset);

        if (len == 0) {
            continue;
        }

        if (offset < NGX_WSMAN_NTLM_NEGOTIATE_SHORT
            || offset > token->len || len > token->len - offset)
        {
            ngx_log_error(NGX_LOG_INFO, pool->log, 0,
                          "wsman: NTLM NEGOTIATE_MESSAGE refused: a name "
                          "field lies outside its %uz bytes", token->len);
            return NGX_DECLINED;
        }
    }

    /* the Version at 32, the two name fields' payload behind it */
    return ngx_wsman_ntlm_insert_version(pool, token,
                                         NGX_WSMAN_NTLM_NEGOTIATE_SHORT, 16,
                                         2);
}
