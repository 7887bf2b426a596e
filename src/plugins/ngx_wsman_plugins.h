/*
 * Built-in plug-ins.  Each one is an ngx_wsman_plugin_t defined in its own
 * file; ngx_wsman_dispatch.c lists them.
 */

#ifndef _NGX_WSMAN_PLUGINS_H_INCLUDED_
#define _NGX_WSMAN_PLUGINS_H_INCLUDED_


#include "ngx_wsman_dispatch.h"


#define NGX_WSMAN_CONFIG_URI   "http://schemas.microsoft.com/wbem/wsman/1/config"


extern ngx_wsman_plugin_t  ngx_wsman_identify_plugin;
extern ngx_wsman_plugin_t  ngx_wsman_config_plugin;


#endif /* _NGX_WSMAN_PLUGINS_H_INCLUDED_ */
