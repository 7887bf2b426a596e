/*
 * The plug-in registry, registration side.
 *
 * A plug-in is an nginx HTTP module of its own, built by the module's
 * `config` from its folder src/plugins/<name>/.  Its module context is an
 * ngx_wsman_plugin_module_t (nginx's ngx_http_module_t first, so nginx
 * creates and merges the plug-in's own configuration and runs its
 * directives), and its ngx_module_t ends with NGX_WSMAN_PLUGIN_PADDING
 * instead of NGX_MODULE_V1_PADDING: that mark is how the core finds its
 * plug-ins among cycle->modules, in module order, without knowing any of
 * them by name.  Init and exit hooks are the module's own
 * init_module/init_process/exit_process; zones are added by the
 * plug-in's directives or postconfiguration like any nginx module's.
 *
 * Only a plug-in's registration file (its module definition and
 * directives) includes this header: it is the one plug-in file that sees
 * ngx_http.h.
 */

#ifndef _NGX_WSMAN_REGISTRY_H_INCLUDED_
#define _NGX_WSMAN_REGISTRY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_wsman_plugin.h"


/* "WSMANPLG" in the first spare hook of a plug-in's ngx_module_t */
#define NGX_WSMAN_PLUGIN_MAGIC    ((uintptr_t) 0x574d5350UL)

#define NGX_WSMAN_PLUGIN_PADDING                                            \
    NGX_WSMAN_PLUGIN_MAGIC, 0, 0, 0, 0, 0, 0, 0


typedef struct {
    ngx_http_module_t          http;        /* nginx's part: first */

    /* resource-URI prefixes and their operation handlers
     * (NULL-terminated; NULL: none) */
    ngx_wsman_plugin_t       **services;

    /* class providers the resource engine serves (NULL-terminated;
     * NULL: none) */
    ngx_wsman_provider_t     **providers;

    /* does anything of the plug-in's answer under this URI prefix
     * besides its services and classes (nginx -t's check of
     * wsman_resource_sddl)?  NULL: no */
    ngx_int_t                (*serves)(ngx_str_t *prefix);
} ngx_wsman_plugin_module_t;


/*
 * Does the location being merged serve WS-Management ("wsman;")?  For a
 * plug-in's merge_loc_conf: the core module comes before every plug-in,
 * so its conf of the location is merged already.
 */
ngx_uint_t ngx_wsman_conf_serves(ngx_conf_t *cf);


/* the core's checks of directive values, for plug-ins' directives too:
 * a size of at least 64k (zones, buffers), a time between 500ms and 24d */
extern ngx_conf_post_t  ngx_wsman_zone_post;
extern ngx_conf_post_t  ngx_wsman_msec_post;


/* the core: build the registry of a configuration, use a cycle's */
ngx_int_t ngx_wsman_registry_init(ngx_conf_t *cf, ngx_array_t **registry);
void ngx_wsman_registry_use(ngx_array_t *registry);


#endif /* _NGX_WSMAN_REGISTRY_H_INCLUDED_ */
