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

/*
 * Items that are not CIM objects (the subscriptions a WEC source
 * enumerates): the class's writer puts the item of inst into x as the
 * call's caller is to see it, once the provider's fetch() has run for
 * the call; NGX_DECLINED: not for this caller, left out as a filter
 * would leave it out.  Set in every worker (init_process), before the
 * class is enumerated.
 */
typedef ngx_int_t (*ngx_wsman_enum_item_pt)(ngx_wsman_provider_t *prov,
    ngx_wsman_call_t *call, ngx_wsman_instance_t *inst, ngx_wsman_xml_t *x);

ngx_int_t ngx_wsman_enum_item_writer(ngx_wsman_provider_t *prov,
    ngx_wsman_enum_item_pt item);

ngx_int_t ngx_wsman_enum_get(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_enum_enumerate(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_enum_pull(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_enum_release(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_enum_invoke(ngx_wsman_call_t *call);


#endif /* _NGX_WSMAN_ENUM_H_INCLUDED_ */
