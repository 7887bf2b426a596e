/*
 * GSSAPI acceptor and WinRM sealing.
 *
 * Handshakes are bound to the TCP connection (NTLM takes two round trips,
 * and clients send later requests without an Authorization header), so
 * the context and the identity live on c->pool, found again through the
 * pool cleanup that also deletes the context.
 */

#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ngx_wsman_gss.h"
#include "ngx_wsman_auth.h"
#include "ngx_wsman_log.h"


#define NGX_WSMAN_CBT_PREFIX   "tls-server-end-point:"


/* 1.3.6.1.4.1.311.2.2.10, gss-ntlmssp */
static gss_OID_desc  ngx_wsman_mech_ntlm =
    { 10, (void *) "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a" };

/* 1.3.6.1.5.5.2 */
static gss_OID_desc  ngx_wsman_mech_spnego =
    { 6, (void *) "\x2b\x06\x01\x05\x05\x02" };


static void ngx_wsman_conn_cleanup(void *data);
static ngx_int_t ngx_wsman_gss_cred(ngx_wsman_loc_conf_t *lcf,
    ngx_uint_t krb5_only, ngx_log_t *log, gss_cred_id_t *cred);
static ngx_int_t ngx_wsman_gss_mech_allowed(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_uint_t scheme, gss_OID mech);
static ngx_int_t ngx_wsman_gss_bindings(ngx_http_request_t *r,
    gss_channel_bindings_t cb, u_char *hash, size_t size);
static ngx_int_t ngx_wsman_gss_identity(ngx_http_request_t *r,
    ngx_wsman_conn_t *conn, gss_name_t name, gss_OID mech);
static void ngx_wsman_gss_log(ngx_log_t *log, ngx_uint_t level,
    const char *what, OM_uint32 major, OM_uint32 minor, gss_OID mech);


ngx_wsman_conn_t *
ngx_wsman_conn(ngx_connection_t *c, ngx_uint_t create)
{
    ngx_wsman_conn_t    *conn;
    ngx_pool_cleanup_t  *cln;

    for (cln = c->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_wsman_conn_cleanup) {
            return cln->data;
        }
    }

    if (!create) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(c->pool, sizeof(ngx_wsman_conn_t));
    if (cln == NULL) {
        return NULL;
    }

    conn = cln->data;
    ngx_memzero(conn, sizeof(ngx_wsman_conn_t));

    conn->ctx = GSS_C_NO_CONTEXT;
    conn->connection = c;

    cln->handler = ngx_wsman_conn_cleanup;

    return conn;
}


/* a failed or new handshake: forget the context and the identity */
void
ngx_wsman_conn_reset(ngx_wsman_conn_t *conn)
{
    OM_uint32  minor;

    if (conn->ctx != GSS_C_NO_CONTEXT) {
        (void) gss_delete_sec_context(&minor, &conn->ctx, GSS_C_NO_BUFFER);
        conn->ctx = GSS_C_NO_CONTEXT;
    }

    if (conn->resolved) {
        ngx_free(conn->resolved);
        conn->resolved = NULL;
    }

    ngx_memzero(&conn->identity, sizeof(ngx_wsman_identity_t));
    conn->established = 0;
    conn->krb5 = 0;
    conn->scheme = 0;
}


static void
ngx_wsman_conn_cleanup(void *data)
{
    ngx_wsman_conn_reset(data);
}


static ngx_uint_t
ngx_wsman_gss_oid_equal(gss_OID a, gss_OID b)
{
    return a != GSS_C_NO_OID && b != GSS_C_NO_OID && a->length == b->length
           && ngx_memcmp(a->elements, b->elements, a->length) == 0;
}


/*
 * The acceptor credential of a location, acquired once per worker: Kerberos
 * from wsman_keytab (or the default keytab) plus SPNEGO over whatever the
 * location allows.  GSS_C_NO_CREDENTIAL when the defaults do.
 *
 * SPNEGO must offer NTLM next to the keytab (a Windows client without a
 * ticket sends SPNEGO/NTLM), but a credential acquired through a cred
 * store carries no usable NTLM element: gss-ntlmssp accepts only through
 * credentials acquired the default way.  So the keytab is named with
 * krb5_gss_register_acceptor_identity() around a plain gss_acquire_cred()
 * (the Kerberos element keeps the keytab it was acquired with) and
 * unregistered at once; workers are single-threaded and no thread of
 * ours uses GSSAPI.  The process environment is never touched.
 *
 * krb5_only: SPNEGO is limited to Kerberos (gss_set_neg_mechs), for the
 * Kerberos scheme and for wsman_negotiate_ntlm off.
 */
static ngx_int_t
ngx_wsman_gss_cred(ngx_wsman_loc_conf_t *lcf, ngx_uint_t krb5_only,
    ngx_log_t *log, gss_cred_id_t *cred)
{
    void                    **slot;
    OM_uint32                 major, minor;
    gss_OID_desc              mechs[2];
    gss_OID_set_desc          set, neg;

    if (lcf->keytab.len == 0 && !krb5_only) {
        *cred = GSS_C_NO_CREDENTIAL;
        return NGX_OK;
    }

    slot = krb5_only ? &lcf->gss_cred_krb5 : &lcf->gss_cred;

    if (*slot != NULL) {
        *cred = *slot;
        return NGX_OK;
    }

    if (lcf->keytab.len) {
        major = krb5_gss_register_acceptor_identity(
                                              (const char *) lcf->keytab.data);
        if (GSS_ERROR(major)) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wsman: keytab \"%V\" cannot be used",
                          &lcf->keytab);
            return NGX_DECLINED;
        }
    }

    mechs[0] = *gss_mech_krb5;
    mechs[1] = ngx_wsman_mech_spnego;
    set.count = 2;
    set.elements = mechs;

    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &set,
                             GSS_C_ACCEPT, (gss_cred_id_t *) slot, NULL,
                             NULL);

    if (lcf->keytab.len) {
        (void) krb5_gss_register_acceptor_identity(NULL);
    }

    if (GSS_ERROR(major)) {
        ngx_wsman_gss_log(log, NGX_LOG_ERR, "acquiring acceptor credentials",
                          major, minor, GSS_C_NO_OID);
        *slot = NULL;
        return NGX_DECLINED;
    }

    if (krb5_only) {
        neg.count = 1;
        neg.elements = gss_mech_krb5;

        major = gss_set_neg_mechs(&minor, *slot, &neg);

        if (GSS_ERROR(major)) {
            ngx_wsman_gss_log(log, NGX_LOG_ERR, "gss_set_neg_mechs()",
                              major, minor, GSS_C_NO_OID);
            (void) gss_release_cred(&minor, (gss_cred_id_t *) slot);
            *slot = NULL;
            return NGX_DECLINED;
        }
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "wsman: acceptor credential acquired, keytab \"%V\"%s",
                   &lcf->keytab, krb5_only ? ", Kerberos only" : "");

    *cred = *slot;

    return NGX_OK;
}


/*
 * The mechanism actually negotiated, not the token's framing, decides:
 * Kerberos is fine for both schemes, NTLM only for Negotiate where
 * wsman_negotiate_ntlm allows it, anything else never.
 */
static ngx_int_t
ngx_wsman_gss_mech_allowed(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_uint_t scheme, gss_OID mech)
{
    if (ngx_wsman_gss_oid_equal(mech, gss_mech_krb5)) {
        return NGX_OK;
    }

    if (ngx_wsman_gss_oid_equal(mech, &ngx_wsman_mech_ntlm)) {
        if (scheme == NGX_WSMAN_AUTH_NEGOTIATE && lcf->negotiate_ntlm) {
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: NTLM authentication from %V refused: %s",
                      &r->connection->addr_text,
                      scheme == NGX_WSMAN_AUTH_KERBEROS
                      ? "the Kerberos scheme is Kerberos only"
                      : "wsman_negotiate_ntlm is off");
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: authentication from %V refused: the mechanism "
                  "negotiated is neither Kerberos nor NTLM",
                  &r->connection->addr_text);

    return NGX_DECLINED;
}


ngx_int_t
ngx_wsman_gss_accept(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_uint_t scheme, ngx_str_t *token, ngx_str_t *reply)
{
    u_char                            hash[EVP_MAX_MD_SIZE
                                           + sizeof(NGX_WSMAN_CBT_PREFIX)];
    ngx_int_t                         rc;
    ngx_str_t                         raw;
    OM_uint32                         major, minor, flags;
    gss_OID                           mech;
    gss_name_t                        name;
    gss_cred_id_t                     cred;
    gss_buffer_desc                   in, out;
    ngx_wsman_conn_t                 *conn;
    gss_channel_bindings_t            bindings;
    struct gss_channel_bindings_struct  cb;

    ngx_str_null(reply);

    conn = ngx_wsman_conn(r->connection, 1);
    if (conn == NULL) {
        return NGX_ERROR;
    }

    raw.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(token->len));
    if (raw.data == NULL) {
        return NGX_ERROR;
    }

    if (token->len == 0 || ngx_decode_base64(&raw, token) != NGX_OK
        || raw.len == 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: malformed %s token from %V",
                      scheme == NGX_WSMAN_AUTH_KERBEROS ? "Kerberos"
                                                        : "Negotiate",
                      &r->connection->addr_text);
        ngx_wsman_conn_reset(conn);
        return NGX_DECLINED;
    }

    /* a finished context means a new handshake: it replaces the identity */
    if (conn->established) {
        ngx_wsman_conn_reset(conn);
    }

    /*
     * Raw NTLMSSP needs the default acceptor credential: gss-ntlmssp takes
     * no other.  Refused before the library sees it where NTLM is not
     * allowed, and a NEGOTIATE or AUTHENTICATE message without its
     * optional Version field is completed first (or refused, logged).
     */
    if (raw.len >= sizeof(NGX_WSMAN_NTLMSSP) - 1
        && ngx_memcmp(raw.data, NGX_WSMAN_NTLMSSP,
                      sizeof(NGX_WSMAN_NTLMSSP) - 1) == 0)
    {
        if (ngx_wsman_gss_mech_allowed(r, lcf, scheme, &ngx_wsman_mech_ntlm)
            != NGX_OK)
        {
            ngx_wsman_conn_reset(conn);
            return NGX_DECLINED;
        }

        rc = ngx_wsman_ntlm_normalize(r->pool, &raw);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_wsman_conn_reset(conn);
            return NGX_DECLINED;
        }

        cred = GSS_C_NO_CREDENTIAL;

    } else {
        rc = ngx_wsman_gss_cred(lcf,
                                scheme == NGX_WSMAN_AUTH_KERBEROS
                                || !lcf->negotiate_ntlm,
                                r->connection->log, &cred);
        if (rc != NGX_OK) {
            ngx_wsman_conn_reset(conn);
            return rc;
        }
    }

    bindings = GSS_C_NO_CHANNEL_BINDINGS;

    rc = ngx_wsman_gss_bindings(r, &cb, hash, sizeof(hash));
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        bindings = &cb;
    }

    in.value = raw.data;
    in.length = raw.len;
    out.value = NULL;
    out.length = 0;
    name = GSS_C_NO_NAME;
    mech = GSS_C_NO_OID;
    flags = 0;

    major = gss_accept_sec_context(&minor, &conn->ctx, cred, &in, bindings,
                                   &name, &mech, &out, &flags, NULL, NULL);

    if (out.length) {
        reply->len = ngx_base64_encoded_length(out.length);
        reply->data = ngx_pnalloc(r->pool, reply->len);

        if (reply->data == NULL) {
            (void) gss_release_buffer(&minor, &out);
            (void) gss_release_name(&minor, &name);
            return NGX_ERROR;
        }

        raw.data = out.value;
        raw.len = out.length;
        ngx_encode_base64(reply, &raw);
    }

    (void) gss_release_buffer(&minor, &out);

    if (GSS_ERROR(major)) {
        ngx_wsman_gss_log(r->connection->log, NGX_LOG_WARN,
                          "authentication failed", major, minor, mech);
        (void) gss_release_name(&minor, &name);
        ngx_wsman_conn_reset(conn);
        ngx_str_null(reply);
        return NGX_DECLINED;
    }

    if (major & GSS_S_CONTINUE_NEEDED) {
        (void) gss_release_name(&minor, &name);
        return NGX_AGAIN;
    }

    if (ngx_wsman_gss_mech_allowed(r, lcf, scheme, mech) != NGX_OK) {
        (void) gss_release_name(&minor, &name);
        ngx_wsman_conn_reset(conn);
        ngx_str_null(reply);
        return NGX_DECLINED;
    }

    if (lcf->cbt_strict && bindings != GSS_C_NO_CHANNEL_BINDINGS
        && !(flags & GSS_C_CHANNEL_BOUND_FLAG))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: authentication from %V refused: no channel "
                      "binding (wsman_cbt_hardening strict)",
                      &r->connection->addr_text);
        (void) gss_release_name(&minor, &name);
        ngx_wsman_conn_reset(conn);
        ngx_str_null(reply);
        return NGX_DECLINED;
    }

    rc = ngx_wsman_gss_identity(r, conn, name, mech);

    (void) gss_release_name(&minor, &name);

    if (rc != NGX_OK) {
        ngx_wsman_conn_reset(conn);
        ngx_str_null(reply);
        return rc;
    }

    conn->established = 1;
    conn->scheme = scheme;
    conn->identity.scheme = scheme;

    return NGX_OK;
}


/*
 * tls-server-end-point (RFC 5929): the hash of our certificate, SHA-256
 * unless its signature uses something stronger.  NGX_DECLINED: plain HTTP.
 */
static ngx_int_t
ngx_wsman_gss_bindings(ngx_http_request_t *r, gss_channel_bindings_t cb,
    u_char *buf, size_t size)
{
#if (NGX_HTTP_SSL)
    int            nid, md_nid;
    X509          *cert;
    u_char        *p;
    unsigned int   len;
    const EVP_MD  *md;

    if (r->connection->ssl == NULL) {
        return NGX_DECLINED;
    }

    cert = SSL_get_certificate(r->connection->ssl->connection);
    if (cert == NULL) {
        return NGX_DECLINED;
    }

    md = NULL;
    nid = X509_get_signature_nid(cert);

    if (OBJ_find_sigid_algs(nid, &md_nid, NULL) && md_nid != NID_md5
        && md_nid != NID_sha1 && md_nid != NID_undef)
    {
        md = EVP_get_digestbynid(md_nid);
    }

    if (md == NULL) {
        md = EVP_sha256();
    }

    p = ngx_cpymem(buf, NGX_WSMAN_CBT_PREFIX,
                   sizeof(NGX_WSMAN_CBT_PREFIX) - 1);

    len = (unsigned int) (size - (p - buf));

    if (!X509_digest(cert, md, p, &len)) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "wsman: X509_digest() failed");
        return NGX_ERROR;
    }

    ngx_memzero(cb, sizeof(struct gss_channel_bindings_struct));
    cb->application_data.value = buf;
    cb->application_data.length = (p - buf) + len;

    return NGX_OK;
#else
    return NGX_DECLINED;
#endif
}


/*
 * The name the handshake proved: the local account by krb5's
 * aname-to-localname rules for Kerberos principals (gss_localname), the
 * user name as the client typed it for NTLM ("DOMAIN\user" -> "user"),
 * which ngx_wsman_auth.c maps to its one account for each location.  A
 * principal without a local name is refused, never defaulted.
 */
static ngx_int_t
ngx_wsman_gss_identity(ngx_http_request_t *r, ngx_wsman_conn_t *conn,
    gss_name_t name, gss_OID mech)
{
    u_char           *p, *start, *end;
    size_t            len;
    OM_uint32         major, minor;
    ngx_str_t         display;
    gss_buffer_desc   buf;

    conn->krb5 = ngx_wsman_gss_oid_equal(mech, gss_mech_krb5);

    buf.value = NULL;
    buf.length = 0;

    major = gss_display_name(&minor, name, &buf, NULL);
    if (GSS_ERROR(major)) {
        ngx_wsman_gss_log(r->connection->log, NGX_LOG_WARN,
                          "gss_display_name()", major, minor, mech);
        return NGX_DECLINED;
    }

    display.len = buf.length;
    display.data = buf.value;

    if (conn->krb5) {
        (void) gss_release_buffer(&minor, &buf);

        major = gss_localname(&minor, name, mech, &buf);
        if (GSS_ERROR(major)) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "wsman: Kerberos principal from %V has no local "
                          "account (aname-to-localname)",
                          &r->connection->addr_text);
            return NGX_DECLINED;
        }

        start = buf.value;
        end = start + buf.length;

    } else {
        /* NTLM: "DOMAIN\user" or "user" */
        start = display.data;
        end = start + display.len;

        p = ngx_strlchr(start, end, '\\');
        if (p) {
            start = p + 1;
        }
    }

    /* some mechanisms count the terminating NUL in the length */
    while (end > start && end[-1] == '\0') {
        end--;
    }

    len = end - start;

    for (p = start; p < end; p++) {
        if (*p < 0x21 || *p == 0x7f || *p == ':' || *p == '/') {
            len = 0;
            break;
        }
    }

    if (len == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: authenticated name from %V is not a usable "
                      "local account name", &r->connection->addr_text);
        (void) gss_release_buffer(&minor, &buf);
        return NGX_DECLINED;
    }

    conn->identity.user.data = ngx_pnalloc(r->connection->pool, len);
    if (conn->identity.user.data == NULL) {
        (void) gss_release_buffer(&minor, &buf);
        return NGX_ERROR;
    }

    ngx_memcpy(conn->identity.user.data, start, len);
    conn->identity.user.len = len;

    (void) gss_release_buffer(&minor, &buf);

    return NGX_OK;
}


static void
ngx_wsman_gss_log(ngx_log_t *log, ngx_uint_t level, const char *what,
    OM_uint32 major, OM_uint32 minor, gss_OID mech)
{
    u_char           *p, *last;
    u_char            text[512];
    OM_uint32         m, ctx;
    gss_buffer_desc   buf;

    p = text;
    last = text + sizeof(text);

    ctx = 0;
    do {
        if (GSS_ERROR(gss_display_status(&m, major, GSS_C_GSS_CODE,
                                         GSS_C_NO_OID, &ctx, &buf)))
        {
            break;
        }
        p = ngx_slprintf(p, last, "%*s; ", buf.length, buf.value);
        (void) gss_release_buffer(&m, &buf);
    } while (ctx);

    ctx = 0;
    do {
        if (GSS_ERROR(gss_display_status(&m, minor, GSS_C_MECH_CODE, mech,
                                         &ctx, &buf)))
        {
            break;
        }
        p = ngx_slprintf(p, last, "%*s; ", buf.length, buf.value);
        (void) gss_release_buffer(&m, &buf);
    } while (ctx);

    ngx_log_error(level, log, 0, "wsman: GSSAPI %s: %*s", what,
                  p - text, text);
}


/*
 * Unseal a request.  Kerberos: the header is the RFC 4121 wrap token
 * (Windows puts the trailer there with RRC=28), the payload is the
 * encrypted data, decrypted in place.  NTLM: signature || sealed data as
 * one gss_wrap token.
 */
ngx_int_t
ngx_wsman_gss_unwrap(ngx_wsman_conn_t *conn, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *header, ngx_str_t *payload, ngx_str_t *plain)
{
    u_char                *p;
    int                    conf;
    OM_uint32              major, minor;
    gss_buffer_desc        in, out;
    gss_qop_t              qop;
    gss_iov_buffer_desc    iov[2];

    if (conn->krb5) {
        p = ngx_pnalloc(pool, header->len + payload->len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, header->data, header->len);
        ngx_memcpy(p + header->len, payload->data, payload->len);

        iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
        iov[0].buffer.value = p;
        iov[0].buffer.length = header->len;
        iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
        iov[1].buffer.value = p + header->len;
        iov[1].buffer.length = payload->len;

        major = gss_unwrap_iov(&minor, conn->ctx, &conf, &qop, iov, 2);

        if (GSS_ERROR(major) || !conf) {
            ngx_wsman_gss_log(log, NGX_LOG_INFO, "unwrap failed", major,
                              minor, GSS_C_NO_OID);
            return NGX_DECLINED;
        }

        plain->data = iov[1].buffer.value;
        plain->len = iov[1].buffer.length;

        return NGX_OK;
    }

    p = ngx_pnalloc(pool, header->len + payload->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, header->data, header->len);
    ngx_memcpy(p + header->len, payload->data, payload->len);

    in.value = p;
    in.length = header->len + payload->len;

    major = gss_unwrap(&minor, conn->ctx, &in, &out, &conf, &qop);

    if (GSS_ERROR(major) || !conf) {
        ngx_wsman_gss_log(log, NGX_LOG_INFO, "unwrap failed", major, minor,
                          GSS_C_NO_OID);
        (void) gss_release_buffer(&minor, &out);
        return NGX_DECLINED;
    }

    plain->len = out.length;
    plain->data = ngx_pnalloc(pool, out.length + 1);

    if (plain->data == NULL) {
        (void) gss_release_buffer(&minor, &out);
        return NGX_ERROR;
    }

    ngx_memcpy(plain->data, out.value, out.length);

    (void) gss_release_buffer(&minor, &out);

    return NGX_OK;
}


/*
 * Seal a response the way Windows does.  Kerberos: gss_wrap_iov with
 * HEADER, DATA and PADDING and no TRAILER, so MIT folds the trailer into
 * the header (RRC=28).  NTLM: gss_wrap, the first 16 bytes are the
 * signature.
 */
ngx_int_t
ngx_wsman_gss_wrap(ngx_wsman_conn_t *conn, ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *plain, ngx_str_t *header, ngx_str_t *payload)
{
    u_char               *p;
    int                   conf;
    OM_uint32             major, minor;
    gss_buffer_desc       in, out;
    gss_iov_buffer_desc   iov[3];

    if (conn->krb5) {
        iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
        iov[0].buffer.value = NULL;
        iov[0].buffer.length = 0;
        iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
        iov[1].buffer.value = plain->data;
        iov[1].buffer.length = plain->len;
        iov[2].type = GSS_IOV_BUFFER_TYPE_PADDING;
        iov[2].buffer.value = NULL;
        iov[2].buffer.length = 0;

        major = gss_wrap_iov_length(&minor, conn->ctx, 1, GSS_C_QOP_DEFAULT,
                                    &conf, iov, 3);
        if (GSS_ERROR(major)) {
            ngx_wsman_gss_log(log, NGX_LOG_ERR, "wrap length failed",
                              major, minor, GSS_C_NO_OID);
            return NGX_ERROR;
        }

        p = ngx_pnalloc(pool, iov[0].buffer.length + plain->len
                              + iov[2].buffer.length);
        if (p == NULL) {
            return NGX_ERROR;
        }

        /* header, data and padding laid out back to back, as sent */
        iov[0].buffer.value = p;
        iov[1].buffer.value = p + iov[0].buffer.length;
        ngx_memcpy(iov[1].buffer.value, plain->data, plain->len);
        iov[2].buffer.value = p + iov[0].buffer.length + plain->len;

        major = gss_wrap_iov(&minor, conn->ctx, 1, GSS_C_QOP_DEFAULT, &conf,
                             iov, 3);
        if (GSS_ERROR(major) || !conf) {
            ngx_wsman_gss_log(log, NGX_LOG_ERR, "wrap failed", major, minor,
                              GSS_C_NO_OID);
            return NGX_ERROR;
        }

        header->data = p;
        header->len = iov[0].buffer.length;
        payload->data = iov[1].buffer.value;
        payload->len = plain->len + iov[2].buffer.length;

        return NGX_OK;
    }

    in.value = plain->data;
    in.length = plain->len;

    major = gss_wrap(&minor, conn->ctx, 1, GSS_C_QOP_DEFAULT, &in, &conf,
                     &out);

    if (GSS_ERROR(major) || !conf || out.length < 16) {
        ngx_wsman_gss_log(log, NGX_LOG_ERR, "wrap failed", major, minor,
                          GSS_C_NO_OID);
        (void) gss_release_buffer(&minor, &out);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(pool, out.length);
    if (p == NULL) {
        (void) gss_release_buffer(&minor, &out);
        return NGX_ERROR;
    }

    ngx_memcpy(p, out.value, out.length);

    header->data = p;
    header->len = 16;
    payload->data = p + 16;
    payload->len = out.length - 16;

    (void) gss_release_buffer(&minor, &out);

    return NGX_OK;
}
