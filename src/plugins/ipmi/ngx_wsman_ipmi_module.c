/*
 * The IPMI plug-in's registration: the wsman_ipmi directive, the BMC's
 * classes, and the worker's BMC session.  `config` builds the plug-in
 * only when libfreeipmi is there; without it the directive is unknown to
 * nginx and the IPMI classes are not served (w:DestinationUnreachable).
 */

#include "ngx_wsman_registry.h"
#include "ngx_wsman_ipmi.h"


static void *ngx_wsman_ipmi_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_wsman_ipmi_module_init_process(ngx_cycle_t *cycle);
static void ngx_wsman_ipmi_module_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_wsman_ipmi_commands[] = {

    { ngx_string("wsman_ipmi"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_wsman_ipmi_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static void *
ngx_wsman_ipmi_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_wsman_ipmi_module_conf_t));
}


/* one BMC session per worker */
static ngx_int_t
ngx_wsman_ipmi_module_init_process(ngx_cycle_t *cycle)
{
    if (ngx_process != NGX_PROCESS_WORKER) {
        return NGX_OK;
    }

    return ngx_wsman_ipmi_init_process(cycle);
}


static void
ngx_wsman_ipmi_module_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_process == NGX_PROCESS_WORKER) {
        ngx_wsman_ipmi_exit_process(cycle);
    }
}


static ngx_wsman_plugin_module_t  ngx_wsman_ipmi_module_ctx = {
    {
        NULL,                              /* preconfiguration */
        NULL,                              /* postconfiguration */
        ngx_wsman_ipmi_create_main_conf,   /* create main configuration */
        NULL,                              /* init main configuration */
        NULL,                              /* create server configuration */
        NULL,                              /* merge server configuration */
        NULL,                              /* create location configuration */
        NULL                               /* merge location configuration */
    },
    NULL,
    ngx_wsman_ipmi_providers,
    NULL
};


ngx_module_t  ngx_wsman_ipmi_module = {
    NGX_MODULE_V1,
    &ngx_wsman_ipmi_module_ctx,            /* module context */
    ngx_wsman_ipmi_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_wsman_ipmi_module_init_process,    /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_wsman_ipmi_module_exit_process,    /* exit process */
    NULL,                                  /* exit master */
    NGX_WSMAN_PLUGIN_PADDING
};
