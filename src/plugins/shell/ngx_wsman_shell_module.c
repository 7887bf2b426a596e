/*
 * The shell plug-in's registration: the WinRS cmd resource.  The shell
 * host and its directives are the core's (src/shell/, wsman_shell*).
 */

#include "ngx_wsman_registry.h"


extern ngx_wsman_plugin_t  *ngx_wsman_shell_services[];


static ngx_wsman_plugin_module_t  ngx_wsman_shell_module_ctx = {
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
    ngx_wsman_shell_services,
    NULL,
    NULL
};


ngx_module_t  ngx_wsman_shell_module = {
    NGX_MODULE_V1,
    &ngx_wsman_shell_module_ctx,           /* module context */
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
