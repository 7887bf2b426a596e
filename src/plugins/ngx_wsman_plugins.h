/*
 * Built-in plug-ins.  Each one is an ngx_wsman_plugin_t defined in its own
 * file; ngx_wsman_dispatch.c lists them.
 */

#ifndef _NGX_WSMAN_PLUGINS_H_INCLUDED_
#define _NGX_WSMAN_PLUGINS_H_INCLUDED_


#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_instance.h"


#define NGX_WSMAN_CONFIG_URI   "http://schemas.microsoft.com/wbem/wsman/1/config"


extern ngx_wsman_plugin_t  ngx_wsman_identify_plugin;
extern ngx_wsman_plugin_t  ngx_wsman_config_plugin;
extern ngx_wsman_plugin_t  ngx_wsman_cim_plugin;
extern ngx_wsman_plugin_t  ngx_wsman_wmi_plugin;
extern ngx_wsman_plugin_t  ngx_wsman_shell_plugin;

/* class providers the resource engine serves (NULL-terminated lists) */
extern ngx_wsman_provider_t  *ngx_wsman_config_providers[];
extern ngx_wsman_provider_t  *ngx_wsman_inventory_providers[];
extern ngx_wsman_provider_t  *ngx_wsman_ipmi_providers[];
extern ngx_wsman_provider_t   ngx_wsman_sequence_provider;

ngx_int_t ngx_wsman_config_listeners(ngx_conf_t *cf,
    ngx_wsman_main_conf_t *mcf);
ngx_int_t ngx_wsman_config_serves(ngx_str_t *uri);


#endif /* _NGX_WSMAN_PLUGINS_H_INCLUDED_ */
