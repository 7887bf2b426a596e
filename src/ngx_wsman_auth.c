/*
 * Who is calling: pick the scheme of the Authorization header (or the
 * connection's Negotiate identity) and verify it.  Anything else is 401.
 */

#include "ngx_wsman_auth.h"
#include "ngx_wsman_gss.h"
#include "ngx_wsman_identity.h"
#include "ngx_wsman_log.h"


static ngx_int_t ngx_wsman_auth_basic(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *token, ngx_wsman_auth_t *auth);
static ngx_int_t ngx_wsman_auth_gss(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_uint_t scheme, ngx_str_t *token,
    ngx_wsman_auth_t *auth);
static ngx_int_t ngx_wsman_auth_certificate(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_auth_t *auth);


ngx_int_t
ngx_wsman_authenticate(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_auth_t *auth)
{
    ngx_str_t          scheme, token;
    ngx_uint_t         id;
    ngx_wsman_conn_t  *conn;

    if (r->headers_in.authorization == NULL) {

        /* Negotiate and Kerberos authenticate the connection, not each
         * request */
        conn = ngx_wsman_conn(r->connection, 0);

        /* an NTLM connection only where Negotiate may be NTLM */
        if (conn && conn->established && (lcf->auth & conn->scheme)
            && (conn->krb5 || lcf->negotiate_ntlm))
        {
            auth->identity = conn->identity;
            auth->connection = 1;
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: no credentials from %V",
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    if (r->headers_in.authorization->value.len > NGX_WSMAN_AUTH_MAX_HEADER
        || ngx_wsman_auth_split(&r->headers_in.authorization->value,
                                &scheme, &token) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: malformed Authorization header from %V",
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    /* the certificate profile names itself instead of a scheme */
    if (token.len == 0
        && scheme.len == sizeof(NGX_WSMAN_AUTH_MUTUAL) - 1
        && ngx_strncmp(scheme.data, NGX_WSMAN_AUTH_MUTUAL, scheme.len) == 0)
    {
        return ngx_wsman_auth_certificate(r, lcf, auth);
    }

    if (ngx_wsman_auth_scheme_parse(&scheme, &id) != NGX_OK
        || id == NGX_WSMAN_AUTH_CERTIFICATE
        || !(lcf->auth & id))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: authentication scheme \"%V\" from %V is not "
                      "enabled", ngx_wsman_log_escape(r->pool, &scheme),
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    if (id == NGX_WSMAN_AUTH_BASIC) {
        return ngx_wsman_auth_basic(r, lcf, &token, auth);
    }

    return ngx_wsman_auth_gss(r, lcf, id, &token, auth);
}


static ngx_int_t
ngx_wsman_auth_basic(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_str_t *token, ngx_wsman_auth_t *auth)
{
    ngx_int_t   rc;
    ngx_str_t   user, password;

    rc = ngx_wsman_auth_basic_decode(r->pool, token, &user, &password);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: malformed Basic credentials from %V",
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    /* AllowUnencrypted=false: no clear-text password over plain HTTP */
    if (!lcf->allow_unencrypted
        && !ngx_wsman_connection_is_tls(r->connection))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: Basic authentication of user \"%V\" from %V "
                      "refused: unencrypted HTTP is not allowed "
                      "(wsman_allow_unencrypted off)",
                      ngx_wsman_log_escape(r->pool, &user),
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    if (lcf->user_file.len) {
        rc = ngx_wsman_basic_verify(r->pool, r->connection->log, lcf,
                                    &user, &password, &auth->identity);
    }

    /* PAM answers later, from its thread */
    if (rc == NGX_DECLINED && lcf->pam_service.len) {
        return ngx_wsman_pam_verify(r, lcf, &user, &password, auth);
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: Basic authentication of user \"%V\" from %V "
                      "failed", ngx_wsman_log_escape(r->pool, &user),
                      &r->connection->addr_text);
    }

    return rc;
}


static ngx_int_t
ngx_wsman_auth_gss(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_uint_t scheme, ngx_str_t *token, ngx_wsman_auth_t *auth)
{
    ngx_int_t          rc;
    ngx_wsman_conn_t  *conn;

    rc = ngx_wsman_gss_accept(r, lcf, scheme, token, &auth->reply);
    auth->reply_scheme = scheme;

    if (rc == NGX_AGAIN) {
        /* the next leg of the handshake travels in the 401 */
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    conn = ngx_wsman_conn(r->connection, 0);

    if (!conn->identity.groups_known) {
        if (ngx_wsman_auth_groups(r, lcf, r->connection->pool,
                                  &conn->identity)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* the user and group look-ups, once per connection, not per
         * request that follows on it */
        conn->identity.sids = ngx_palloc(r->connection->pool,
                                         sizeof(ngx_array_t));
        if (conn->identity.sids == NULL
            || ngx_wsman_identity_sids(r->connection->pool,
                                       r->connection->log, lcf,
                                       &conn->identity,
                                       conn->identity.sids)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        conn->identity.sids_conf = lcf;
    }

    auth->identity = conn->identity;
    auth->connection = 1;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: %s authentication of user \"%V\" from %V",
                  scheme == NGX_WSMAN_AUTH_KERBEROS ? "Kerberos"
                                                    : "Negotiate",
                  ngx_wsman_log_escape(r->pool, &auth->identity.user),
                  &r->connection->addr_text);

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_auth_certificate(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_auth_t *auth)
{
    ngx_int_t  rc;

    if (!(lcf->auth & NGX_WSMAN_AUTH_CERTIFICATE)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: certificate authentication from %V is not "
                      "enabled", &r->connection->addr_text);
        return NGX_DECLINED;
    }

    rc = ngx_wsman_cert_authenticate(r, lcf, &auth->identity);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_wsman_auth_groups(r, lcf, r->pool, &auth->identity);
}


/*
 * Groups named in the user file belong to the local name whatever the
 * scheme that proved it (a line "alice:*:admins" only carries groups).
 */
ngx_int_t
ngx_wsman_auth_groups(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_pool_t *pool, ngx_wsman_identity_t *identity)
{
    ngx_wsman_identity_t  found;

    identity->groups_known = 1;

    if (lcf->user_file.len == 0) {
        return NGX_OK;
    }

    found = *identity;

    if (ngx_wsman_basic_groups(r->pool, r->connection->log, &lcf->user_file,
                               &found)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (found.groups.len == 0) {
        return NGX_OK;
    }

    identity->groups.data = ngx_pstrdup(pool, &found.groups);
    if (identity->groups.data == NULL) {
        return NGX_ERROR;
    }

    identity->groups.len = found.groups.len;

    return NGX_OK;
}


