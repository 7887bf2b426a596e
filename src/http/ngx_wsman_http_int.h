/*
 * The HTTP glue's private declarations: the per-request state and what
 * the module, handler, sealing and response files call in each other.
 * Only src/http/ngx_wsman_*.c of the glue include it.
 */

#ifndef _NGX_WSMAN_HTTP_INT_H_INCLUDED_
#define _NGX_WSMAN_HTTP_INT_H_INCLUDED_


#include "ngx_wsman_http.h"
#include "ngx_wsman_auth.h"
#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_gss.h"
#include "ngx_wsman_soap.h"


/* per-request state, also what the $wsman_* variables read */
typedef struct {
    ngx_wsman_auth_t           auth;
    ngx_wsman_request_t        req;
    ngx_wsman_call_t           call;
    ngx_str_t                  action;
    ngx_str_t                  resource_uri;
    ngx_str_t                  fault;
    ngx_str_t                  protocol;       /* sealed: echo it back */
    ngx_str_t                  boundary;       /* sealed: the request's */
    ngx_wsman_conn_t          *sealed;         /* context that sealed it */
    ngx_str_t                  charset;        /* answer's, if not UTF-8 */
    ngx_wsman_soap_encoding_e  encoding;       /* answer's */
    unsigned                   anonymous:1;
    unsigned                   charset_given:1;
} ngx_wsman_ctx_t;


/* ngx_wsman_handler.c */
ngx_int_t ngx_wsman_handler(ngx_http_request_t *r);
void ngx_wsman_set_charset(ngx_wsman_ctx_t *ctx, ngx_str_t *type);
void ngx_wsman_call_init(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx);

/* ngx_wsman_seal.c */
ngx_int_t ngx_wsman_unseal(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_str_t *body);
ngx_int_t ngx_wsman_seal(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_chain_t **out, off_t *length);

/* ngx_wsman_response.c */
ngx_int_t ngx_wsman_send_fault(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_wsman_fault_e id, const char *message);
ngx_int_t ngx_wsman_send_response(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx);
ngx_int_t ngx_wsman_send_empty(ngx_http_request_t *r);
ngx_int_t ngx_wsman_add_variables(ngx_conf_t *cf);


#endif /* _NGX_WSMAN_HTTP_INT_H_INCLUDED_ */
