/*
 * The config plug-in: winrm/config and winrm/config/Listener.
 */

#ifndef _NGX_WSMAN_CONFIG_H_INCLUDED_
#define _NGX_WSMAN_CONFIG_H_INCLUDED_


#include "ngx_wsman_plugin.h"


#define NGX_WSMAN_CONFIG_URI                                                \
    "http://schemas.microsoft.com/wbem/wsman/1/config"


extern ngx_wsman_plugin_t    *ngx_wsman_config_services[];
extern ngx_wsman_provider_t  *ngx_wsman_config_providers[];

ngx_int_t ngx_wsman_config_serves(ngx_str_t *uri);


#endif /* _NGX_WSMAN_CONFIG_H_INCLUDED_ */
