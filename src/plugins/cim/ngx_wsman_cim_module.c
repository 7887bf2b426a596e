/*
 * The cim plug-in's registration.
 */

#include "ngx_wsman_registry.h"
#include "ngx_wsman_cim.h"


static ngx_wsman_plugin_module_t  ngx_wsman_cim_module_ctx = {
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
    ngx_wsman_cim_services,
    NULL,
    NULL
};


ngx_module_t  ngx_wsman_cim_module = {
    NGX_MODULE_V1,
    &ngx_wsman_cim_module_ctx,             /* module context */
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
