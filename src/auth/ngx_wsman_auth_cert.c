/*
 * Client certificates (WinRM's https/mutual profile): nginx verifies the
 * chain (ssl_verify_client + ssl_client_certificate); wsman_cert_map maps
 * a verified certificate to a local user, like WinRM's CertMapping:
 *
 *     wsman_cert_map subject=PATTERN issuer=SHA1-THUMBPRINT user=NAME
 *                    [uri=PREFIX];
 *
 * PATTERN ('*' wildcards, case-insensitive) matches the UPN or e-mail
 * subject alternative name, else the subject CN.  No mapping: refused.
 */

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ngx_wsman_auth.h"
#include "ngx_wsman_log.h"


#define NGX_WSMAN_UPN_OID   "1.3.6.1.4.1.311.20.2.3"


typedef struct {
    ngx_str_t                  subject;
    u_char                     issuer[20];     /* SHA-1 of the CA cert */
    ngx_str_t                  user;
    ngx_str_t                  uri;
} ngx_wsman_cert_map_t;


static ngx_int_t ngx_wsman_cert_match(ngx_str_t *pattern, u_char *name,
    size_t len);
static ngx_int_t ngx_wsman_cert_names(X509 *cert, ngx_wsman_cert_map_t *map);
#if (NGX_HTTP_SSL)
static X509_STORE_CTX *ngx_wsman_cert_reverify(ngx_http_request_t *r,
    X509 *cert);
#endif


char *
ngx_wsman_cert_map_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_loc_conf_t  *lcf = conf;

    u_char                *p;
    size_t                 i;
    ngx_int_t              n;
    ngx_str_t             *value, thumb;
    ngx_uint_t             k, issuer;
    ngx_wsman_cert_map_t  *map;

    if (lcf->cert_maps == NGX_CONF_UNSET_PTR) {
        lcf->cert_maps = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_wsman_cert_map_t));
        if (lcf->cert_maps == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    map = ngx_array_push(lcf->cert_maps);
    if (map == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(map, sizeof(ngx_wsman_cert_map_t));
    value = cf->args->elts;
    issuer = 0;

    for (k = 1; k < cf->args->nelts; k++) {

        if (ngx_strncmp(value[k].data, "subject=", 8) == 0) {
            map->subject.data = value[k].data + 8;
            map->subject.len = value[k].len - 8;
            continue;
        }

        if (ngx_strncmp(value[k].data, "user=", 5) == 0) {
            map->user.data = value[k].data + 5;
            map->user.len = value[k].len - 5;
            continue;
        }

        if (ngx_strncmp(value[k].data, "uri=", 4) == 0) {
            map->uri.data = value[k].data + 4;
            map->uri.len = value[k].len - 4;
            continue;
        }

        if (ngx_strncmp(value[k].data, "issuer=", 7) == 0) {
            /* 40 hex digits, colons or spaces allowed as separators */
            thumb.data = value[k].data + 7;
            thumb.len = value[k].len - 7;
            p = map->issuer;

            for (i = 0; i < thumb.len; i++) {
                if (thumb.data[i] == ':' || thumb.data[i] == ' ') {
                    continue;
                }

                if (i + 1 >= thumb.len || p == map->issuer + 20) {
                    break;
                }

                n = ngx_hextoi(&thumb.data[i], 2);
                if (n == NGX_ERROR) {
                    break;
                }

                *p++ = (u_char) n;
                i++;
            }

            if (i != thumb.len || p != map->issuer + 20) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid issuer thumbprint \"%V\" in "
                                   "\"wsman_cert_map\": expected the SHA-1 "
                                   "of the CA certificate, 40 hex digits",
                                   &thumb);
                return NGX_CONF_ERROR;
            }

            issuer = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"wsman_cert_map\"",
                           &value[k]);
        return NGX_CONF_ERROR;
    }

    /* Windows writes "*" for every URI */
    if (map->uri.len == 1 && map->uri.data[0] == '*') {
        ngx_str_null(&map->uri);
    }

    if (map->subject.len == 0 || map->user.len == 0 || !issuer) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsman_cert_map\" needs subject=, issuer= and "
                           "user=");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_wsman_cert_authenticate(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_identity_t *identity)
{
#if (NGX_HTTP_SSL)
    u_char                 md[EVP_MAX_MD_SIZE];
    X509                  *cert, *ca;
    ngx_int_t              rc;
    ngx_uint_t             i;
    unsigned int           len;
    X509_STORE_CTX        *xctx;
    STACK_OF(X509)        *chain;
    ngx_wsman_cert_map_t  *map;

    if (r->connection->ssl == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: certificate authentication from %V over "
                      "plain HTTP refused", &r->connection->addr_text);
        return NGX_DECLINED;
    }

    cert = SSL_get_peer_certificate(r->connection->ssl->connection);

    if (cert == NULL
        || SSL_get_verify_result(r->connection->ssl->connection)
           != X509_V_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: certificate authentication from %V without a "
                      "verified client certificate",
                      &r->connection->addr_text);
        if (cert) {
            X509_free(cert);
        }
        return NGX_DECLINED;
    }

    /* the issuer: the next certificate of the verified chain */
    xctx = NULL;
    chain = SSL_get0_verified_chain(r->connection->ssl->connection);

    /*
     * A resumed session has the verified certificate and the verification
     * result, but no chain (OpenSSL does not keep it with the session):
     * the chain is built and verified again against the same trust store
     * and parameters the handshake used, never taken on trust.
     */
    if ((chain == NULL || sk_X509_num(chain) < 2)
        && SSL_session_reused(r->connection->ssl->connection))
    {
        xctx = ngx_wsman_cert_reverify(r, cert);
        chain = xctx ? X509_STORE_CTX_get0_chain(xctx) : NULL;
    }

    ca = (chain && sk_X509_num(chain) > 1) ? sk_X509_value(chain, 1) : NULL;

    len = 0;
    if (ca == NULL || !X509_digest(ca, EVP_sha1(), md, &len) || len != 20) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: client certificate from %V has no issuer in "
                      "its verified chain", &r->connection->addr_text);
        if (xctx) {
            X509_STORE_CTX_free(xctx);
        }
        X509_free(cert);
        return NGX_DECLINED;
    }

    if (xctx) {
        X509_STORE_CTX_free(xctx);
    }

    rc = NGX_DECLINED;
    map = lcf->cert_maps ? lcf->cert_maps->elts : NULL;

    for (i = 0; map && i < lcf->cert_maps->nelts; i++) {
        if (ngx_memcmp(map[i].issuer, md, 20) == 0
            && ngx_wsman_cert_names(cert, &map[i]) == NGX_OK)
        {
            identity->user = map[i].user;
            identity->scheme = NGX_WSMAN_AUTH_CERTIFICATE;
            identity->uri_prefix = map[i].uri;
            rc = NGX_OK;
            break;
        }
    }

    X509_free(cert);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: no wsman_cert_map matches the client "
                      "certificate from %V", &r->connection->addr_text);
    }

    return rc;
#else
    return NGX_DECLINED;
#endif
}


#if (NGX_HTTP_SSL)

/*
 * The chain of a resumed session's client certificate, verified now as
 * OpenSSL verifies a client during a handshake: the trust store of the
 * SSL_CTX serving the connection (ssl_client_certificate, ssl_crl and its
 * flags), the connection's verification parameters (ssl_verify_depth),
 * the "ssl_client" purpose.  NULL when it does not verify.
 */
static X509_STORE_CTX *
ngx_wsman_cert_reverify(ngx_http_request_t *r, X509 *cert)
{
    SSL             *ssl;
    X509_STORE      *store;
    X509_STORE_CTX  *xctx;

    ssl = r->connection->ssl->connection;
    store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));

    xctx = X509_STORE_CTX_new();
    if (xctx == NULL) {
        return NULL;
    }

    if (store == NULL
        || !X509_STORE_CTX_init(xctx, store, cert,
                                SSL_get_peer_cert_chain(ssl))
        || !X509_STORE_CTX_set_default(xctx, "ssl_client")
        || !X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xctx),
                                   SSL_get0_param(ssl)))
    {
        X509_STORE_CTX_free(xctx);
        return NULL;
    }

    if (X509_verify_cert(xctx) != 1) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: client certificate of the resumed TLS session "
                      "from %V does not verify: %s",
                      &r->connection->addr_text,
                      X509_verify_cert_error_string(
                          X509_STORE_CTX_get_error(xctx)));
        X509_STORE_CTX_free(xctx);
        return NULL;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman: resumed session's client chain verified again");

    return xctx;
}

#endif


/* UPN and e-mail SANs first, the subject CN when there is neither */
static ngx_int_t
ngx_wsman_cert_names(X509 *cert, ngx_wsman_cert_map_t *map)
{
    int                     i, n, idx;
    char                    oid[64];
    ngx_int_t               rc, have_san;
    X509_NAME              *subject;
    ASN1_STRING            *s;
    GENERAL_NAME           *gn;
    X509_NAME_ENTRY        *entry;
    GENERAL_NAMES          *names;

    rc = NGX_DECLINED;
    have_san = 0;

    names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);

    if (names) {
        n = sk_GENERAL_NAME_num(names);

        for (i = 0; i < n && rc != NGX_OK; i++) {
            gn = sk_GENERAL_NAME_value(names, i);
            s = NULL;

            if (gn->type == GEN_EMAIL) {
                s = gn->d.rfc822Name;

            } else if (gn->type == GEN_OTHERNAME
                       && OBJ_obj2txt(oid, sizeof(oid),
                                      gn->d.otherName->type_id, 1) > 0
                       && ngx_strcmp(oid, NGX_WSMAN_UPN_OID) == 0
                       && gn->d.otherName->value->type == V_ASN1_UTF8STRING)
            {
                s = gn->d.otherName->value->value.utf8string;
            }

            if (s == NULL) {
                continue;
            }

            have_san = 1;

            rc = ngx_wsman_cert_match(&map->subject,
                                      (u_char *) ASN1_STRING_get0_data(s),
                                      ASN1_STRING_length(s));
        }

        GENERAL_NAMES_free(names);
    }

    if (rc == NGX_OK || have_san) {
        return rc;
    }

    subject = X509_get_subject_name(cert);
    idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);

    if (idx < 0) {
        return NGX_DECLINED;
    }

    entry = X509_NAME_get_entry(subject, idx);
    s = X509_NAME_ENTRY_get_data(entry);

    return ngx_wsman_cert_match(&map->subject,
                                (u_char *) ASN1_STRING_get0_data(s),
                                ASN1_STRING_length(s));
}


/* glob with '*', case-insensitive; names with NUL bytes never match */
static ngx_int_t
ngx_wsman_cert_match(ngx_str_t *pattern, u_char *name, size_t len)
{
    u_char  *p, *pend, *n, *nend, *star_p, *star_n;

    if (ngx_strlchr(name, name + len, '\0')) {
        return NGX_DECLINED;
    }

    p = pattern->data;
    pend = p + pattern->len;
    n = name;
    nend = name + len;
    star_p = NULL;
    star_n = NULL;

    while (n < nend) {
        if (p < pend && *p == '*') {
            star_p = ++p;
            star_n = n;
            continue;
        }

        if (p < pend && ngx_tolower(*p) == ngx_tolower(*n)) {
            p++;
            n++;
            continue;
        }

        if (star_p == NULL) {
            return NGX_DECLINED;
        }

        p = star_p;
        n = ++star_n;
    }

    while (p < pend && *p == '*') {
        p++;
    }

    return p == pend ? NGX_OK : NGX_DECLINED;
}
