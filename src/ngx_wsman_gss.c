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


/* raw NTLMSSP tokens start with this signature (no GSS framing) */
#define NGX_WSMAN_NTLMSSP   "NTLMSSP\0"

#define NGX_WSMAN_CBT_PREFIX   "tls-server-end-point:"


static void ngx_wsman_conn_cleanup(void *data);
static gss_cred_id_t ngx_wsman_gss_cred(ngx_wsman_loc_conf_t *lcf,
    ngx_log_t *log);
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


/*
 * The acceptor credential: the location's keytab through a credential
 * store (never the process environment), acquired once per worker.
 * Without wsman_keytab the default acceptor credential is used, which
 * also covers gss-ntlmssp.
 */
static gss_cred_id_t
ngx_wsman_gss_cred(ngx_wsman_loc_conf_t *lcf, ngx_log_t *log)
{
    OM_uint32                     major, minor;
    gss_key_value_set_desc        store;
    gss_key_value_element_desc    element;

    if (lcf->keytab.len == 0) {
        return GSS_C_NO_CREDENTIAL;
    }

    if (lcf->gss_cred != NULL) {
        return lcf->gss_cred;
    }

    element.key = "keytab";
    element.value = (const char *) lcf->keytab.data;
    store.count = 1;
    store.elements = &element;

    major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE,
                                  GSS_C_NO_OID_SET, GSS_C_ACCEPT, &store,
                                  (gss_cred_id_t *) &lcf->gss_cred,
                                  NULL, NULL);

    if (GSS_ERROR(major)) {
        ngx_wsman_gss_log(log, NGX_LOG_ERR, "acquiring acceptor credentials",
                          major, minor, GSS_C_NO_OID);
        lcf->gss_cred = NULL;
        return GSS_C_NO_CREDENTIAL;
    }

    return lcf->gss_cred;
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
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
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
     * Raw NTLMSSP needs the default acceptor credential: one acquired for
     * Kerberos through a keytab does not cover gss-ntlmssp.
     */
    if (raw.len >= sizeof(NGX_WSMAN_NTLMSSP) - 1
        && ngx_memcmp(raw.data, NGX_WSMAN_NTLMSSP,
                      sizeof(NGX_WSMAN_NTLMSSP) - 1) == 0)
    {
        cred = GSS_C_NO_CREDENTIAL;

    } else {
        cred = ngx_wsman_gss_cred(lcf, r->connection->log);
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
 * The caller's local account: krb5's aname-to-localname rules for
 * Kerberos principals (gss_localname), "DOMAIN\user" -> "user" for NTLM.
 * A principal without a local name is refused, never defaulted.
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

    conn->krb5 = (mech != GSS_C_NO_OID && gss_mech_krb5 != GSS_C_NO_OID
                  && mech->length == gss_mech_krb5->length
                  && ngx_memcmp(mech->elements, gss_mech_krb5->elements,
                                mech->length) == 0);

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
            ngx_wsman_gss_log(log, NGX_LOG_WARN, "unwrap failed", major,
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
        ngx_wsman_gss_log(log, NGX_LOG_WARN, "unwrap failed", major, minor,
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
