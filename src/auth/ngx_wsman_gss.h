/*
 * Negotiate and Kerberos through GSSAPI: one acceptor for SPNEGO, raw
 * Kerberos and raw NTLMSSP tokens (gss-ntlmssp), the security context kept
 * per TCP connection, and WinRM message sealing (MS-WSMV 2.2.9.1).
 */

#ifndef _NGX_WSMAN_GSS_H_INCLUDED_
#define _NGX_WSMAN_GSS_H_INCLUDED_


#include <gssapi/gssapi.h>

#include "ngx_wsman_http.h"


/* what one TCP connection remembers between requests */
typedef struct {
    gss_ctx_id_t               ctx;
    ngx_connection_t          *connection;
    ngx_wsman_identity_t       identity;     /* the name the handshake
                                                proved; strings on c->pool */
    void                      *resolved;     /* the account, groups and SIDs
                                                of the last location, see
                                                ngx_wsman_auth.c; ngx_alloc() */
    ngx_uint_t                 scheme;       /* NEGOTIATE or KERBEROS */
    unsigned                   established:1;
    unsigned                   krb5:1;       /* else NTLM sealing */
} ngx_wsman_conn_t;


ngx_wsman_conn_t *ngx_wsman_conn(ngx_connection_t *c, ngx_uint_t create);
void ngx_wsman_conn_reset(ngx_wsman_conn_t *conn);

ngx_int_t ngx_wsman_gss_accept(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_uint_t scheme, ngx_str_t *token,
    ngx_str_t *reply);

ngx_int_t ngx_wsman_gss_unwrap(ngx_wsman_conn_t *conn, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *header, ngx_str_t *payload, ngx_str_t *plain);
ngx_int_t ngx_wsman_gss_wrap(ngx_wsman_conn_t *conn, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *plain, ngx_str_t *header,
    ngx_str_t *payload);


#endif /* _NGX_WSMAN_GSS_H_INCLUDED_ */
