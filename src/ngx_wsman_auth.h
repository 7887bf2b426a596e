/*
 * Authentication: who is calling.  Default-deny: every path that does not
 * end in a verified identity ends in 401, and nothing maps a missing or
 * broken credential to a default identity.
 */

#ifndef _NGX_WSMAN_AUTH_H_INCLUDED_
#define _NGX_WSMAN_AUTH_H_INCLUDED_


#include "ngx_wsman.h"


/* longest Authorization header value we look at (Kerberos tickets with a
 * large PAC run to ~12k; anything beyond 64k is abuse) */
#define NGX_WSMAN_AUTH_MAX_HEADER   65536


ngx_int_t ngx_wsman_auth_split(ngx_str_t *header, ngx_str_t *scheme,
    ngx_str_t *token);
ngx_int_t ngx_wsman_auth_basic_decode(ngx_pool_t *pool, ngx_str_t *token,
    ngx_str_t *user, ngx_str_t *password);
ngx_int_t ngx_wsman_auth_scheme_parse(ngx_str_t *name, ngx_uint_t *scheme);

ngx_int_t ngx_wsman_authenticate(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_identity_t *identity);
ngx_int_t ngx_wsman_auth_challenge(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf);

/* Basic against the user file (src/ngx_wsman_auth_basic.c) */
ngx_int_t ngx_wsman_basic_verify(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *file, ngx_str_t *user, ngx_str_t *password,
    ngx_wsman_identity_t *identity);
char *ngx_wsman_basic_check_file(ngx_conf_t *cf, ngx_str_t *file);


#endif /* _NGX_WSMAN_AUTH_H_INCLUDED_ */
