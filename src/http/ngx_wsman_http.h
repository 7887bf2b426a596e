/*
 * The HTTP side of ngx_wsman: what the module glue, authentication and
 * the core share that needs ngx_http.h or libxml2.  Plug-ins include
 * ngx_wsman_plugin.h instead (and their registration file
 * ngx_wsman_registry.h).
 */

#ifndef _NGX_WSMAN_HTTP_H_INCLUDED_
#define _NGX_WSMAN_HTTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <libxml/tree.h>

#include "ngx_wsman.h"


/* a wsman; location, as its server sees it */
typedef struct {
    ngx_http_core_srv_conf_t  *server;
    ngx_str_t                  name;
} ngx_wsman_location_t;


/* http{} level: what the whole host shares */
typedef struct {
    void                      *machine_sid;     /* ngx_wsman_sid_t */
    ngx_array_t                locations;       /* wsman; locations */
    ngx_array_t               *listeners;       /* ngx_wsman_listener_t */
    ngx_shm_zone_t            *enum_zone;
    size_t                     enum_zone_size;
    ngx_array_t               *plugins;         /* the registry: plug-in
                                                   ngx_module_t pointers */
} ngx_wsman_main_conf_t;



ngx_wsman_loc_conf_t *ngx_wsman_get_loc_conf(ngx_http_request_t *r);
ngx_int_t ngx_wsman_listeners_discover(ngx_conf_t *cf,
    ngx_wsman_main_conf_t *mcf);


extern ngx_module_t  ngx_wsman_module;


#endif /* _NGX_WSMAN_HTTP_H_INCLUDED_ */
