/*
 * WS-Transfer Get and WS-Enumeration (Enumerate, Pull, Release) over class
 * providers.  Enumeration contexts live in a shared-memory zone, so a Pull
 * may land on any worker and any connection; each context remembers the
 * key of the last item it sent and resumes after it.
 */

#ifndef _NGX_WSMAN_ENUM_H_INCLUDED_
#define _NGX_WSMAN_ENUM_H_INCLUDED_


#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_instance.h"


#define NGX_WSMAN_ACTION_ENUMERATE  NGX_WSMAN_NS_WSEN "/Enumerate"
#define NGX_WSMAN_ACTION_PULL       NGX_WSMAN_NS_WSEN "/Pull"
#define NGX_WSMAN_ACTION_RELEASE    NGX_WSMAN_NS_WSEN "/Release"

#define NGX_WSMAN_ENUM_ZONE_SIZE    (1024 * 1024)


ngx_int_t ngx_wsman_enum_zone_add(ngx_conf_t *cf, size_t size,
    ngx_shm_zone_t **zone);

ngx_wsman_provider_t *ngx_wsman_enum_provider(ngx_str_t *uri);
ngx_wsman_provider_t *ngx_wsman_enum_next_provider(ngx_uint_t *i);
ngx_str_t *ngx_wsman_enum_canonical(ngx_wsman_provider_t *prov);
ngx_uint_t ngx_wsman_enum_class_uris(ngx_wsman_provider_t *prov,
    ngx_str_t *uris, ngx_uint_t max);

ngx_int_t ngx_wsman_enum_get(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_enum_enumerate(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_enum_pull(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_enum_release(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_enum_invoke(ngx_wsman_call_t *call);


#endif /* _NGX_WSMAN_ENUM_H_INCLUDED_ */
