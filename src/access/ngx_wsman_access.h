/*
 * The access check in front of every plug-in (docs/architecture.md).
 */

#ifndef _NGX_WSMAN_ACCESS_H_INCLUDED_
#define _NGX_WSMAN_ACCESS_H_INCLUDED_


#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_instance.h"
#include "ngx_wsman_sddl.h"


/* the most URIs one class answers to */
#define NGX_WSMAN_ACCESS_MAX_URIS  8


/* wsman_resource_sddl URI-PREFIX "SDDL"; */
typedef struct {
    ngx_str_t                  prefix;
    ngx_str_t                  text;
    ngx_wsman_sddl_t          *sd;
} ngx_wsman_resource_sddl_t;


ngx_int_t ngx_wsman_access_check(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_access_check_class(ngx_wsman_call_t *call,
    ngx_wsman_provider_t *prov);
ngx_int_t ngx_wsman_access_covers(ngx_str_t *prefix, ngx_str_t *uri);


#endif /* _NGX_WSMAN_ACCESS_H_INCLUDED_ */
