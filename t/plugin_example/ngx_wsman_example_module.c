/*
 * The example plug-in's registration: the wsman_example_fruit directive
 * and the NGX_Fruit class.
 */

#include "ngx_wsman_registry.h"
#include "ngx_wsman_example.h"


static void *ngx_wsman_example_create_main_conf(ngx_conf_t *cf);
static char *ngx_wsman_example_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_wsman_example_fruit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_wsman_example_commands[] = {

    { ngx_string("wsman_example_fruit"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_wsman_example_fruit,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_wsman_plugin_module_t  ngx_wsman_example_module_ctx = {
    {
        NULL,                              /* preconfiguration */
        NULL,                              /* postconfiguration */
        ngx_wsman_example_create_main_conf, /* create main configuration */
        ngx_wsman_example_init_main_conf,  /* init main configuration */
        NULL,                              /* create server configuration */
        NULL,                              /* merge server configuration */
        NULL,                              /* create location configuration */
        NULL                               /* merge location configuration */
    },
    NULL,                                  /* services: the cim plug-in's
                                              URIs reach the class */
    ngx_wsman_example_providers,
    NULL
};


ngx_module_t  ngx_wsman_example_module = {
    NGX_MODULE_V1,
    &ngx_wsman_example_module_ctx,         /* module context */
    ngx_wsman_example_commands,            /* module directives */
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
ngx_wsman_example_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_wsman_example_main_conf_t));
}


static int ngx_libc_cdecl
ngx_wsman_example_cmp(const void *one, const void *two)
{
    const ngx_wsman_example_fruit_t  *a = one, *b = two;

    return ngx_memn2cmp(a->name.data, b->name.data, a->name.len,
                        b->name.len);
}


/* the provider resumes after a key: the fruits in key order */
static char *
ngx_wsman_example_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_wsman_example_main_conf_t  *emcf = conf;

    if (emcf->fruits) {
        ngx_qsort(emcf->fruits->elts, emcf->fruits->nelts,
                  sizeof(ngx_wsman_example_fruit_t), ngx_wsman_example_cmp);
    }

    return NGX_CONF_OK;
}


/* wsman_example_fruit NAME COLOR COUNT; */
static char *
ngx_wsman_example_fruit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_example_main_conf_t  *emcf = conf;

    ngx_int_t                   n;
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_wsman_example_fruit_t  *f;

    value = cf->args->elts;

    n = ngx_atoi(value[3].data, value[3].len);
    if (n == NGX_ERROR || value[1].len == 0) {
        return "needs a name, a color and a count";
    }

    if (emcf->fruits == NULL) {
        emcf->fruits = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_wsman_example_fruit_t));
        if (emcf->fruits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    f = emcf->fruits->elts;

    for (i = 0; i < emcf->fruits->nelts; i++) {
        if (f[i].name.len == value[1].len
            && ngx_strncmp(f[i].name.data, value[1].data, value[1].len) == 0)
        {
            return "is duplicate";
        }
    }

    f = ngx_array_push(emcf->fruits);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    f->name = value[1];
    f->color = value[2];
    f->count = (ngx_uint_t) n;

    return NGX_CONF_OK;
}
