/*
 * The config plug-in's registration: winrm/config (Get, Put, Enumerate)
 * and the Listener class.
 */

#include "ngx_wsman_registry.h"
#include "ngx_wsman_config.h"


static ngx_wsman_plugin_module_t  ngx_wsman_config_module_ctx = {
    {
        NULL,                              /* preconfiguration */
        NULL,                              /* postconfiguration */
        NULL,                              /* create main configuration */
        NULL,                              /* init main configuration */
        NULL,                              /* create server configuration */
        NULL,                              /* merge server configuration */
        NULL,                              /* create location configuration */
        NULL                               /* merge location configuration */
    },
    ngx_wsman_config_services,
    ngx_wsman_config_providers,
    ngx_wsman_config_serves
};


ngx_module_t  ngx_wsman_config_module = {
    NGX_MODULE_V1,
    &ngx_wsman_config_module_ctx,          /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_WSMAN_PLUGIN_PADDING
};
