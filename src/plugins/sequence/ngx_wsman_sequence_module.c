/*
 * The sequence plug-in's registration: wsman_sequence_items and the
 * NGX_Sequence class.
 */

#include "ngx_wsman_registry.h"
#include "ngx_wsman_sequence.h"


static void *ngx_wsman_sequence_create_main_conf(ngx_conf_t *cf);


static ngx_command_t  ngx_wsman_sequence_commands[] = {

    { ngx_string("wsman_sequence_items"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_wsman_sequence_main_conf_t, items),
      NULL },

      ngx_null_command
};


static ngx_wsman_plugin_module_t  ngx_wsman_sequence_module_ctx = {
    {
        NULL,                              /* preconfiguration */
        NULL,                              /* postconfiguration */
        ngx_wsman_sequence_create_main_conf,/* create main configuration */
        NULL,                              /* init main configuration */
        NULL,                              /* create server configuration */
        NULL,                              /* merge server configuration */
        NULL,                              /* create location configuration */
        NULL                               /* merge location configuration */
    },
    NULL,
    ngx_wsman_sequence_providers,
    NULL
};


ngx_module_t  ngx_wsman_sequence_module = {
    NGX_MODULE_V1,
    &ngx_wsman_sequence_module_ctx,        /* module context */
    ngx_wsman_sequence_commands,           /* module directives */
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


static void *
ngx_wsman_sequence_create_main_conf(ngx_conf_t *cf)
{
    ngx_wsman_sequence_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_sequence_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    smcf->items = NGX_CONF_UNSET_UINT;

    return smcf;
}
