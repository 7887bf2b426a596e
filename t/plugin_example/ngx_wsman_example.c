/*
 * NGX_Fruit's provider.  The resource engine does everything else: Get
 * by selectors, Enumerate and Pull across workers, WQL and selector
 * filters, EPRs, and the access check against the class's SDDL.
 */

#include "ngx_wsman_example.h"


static ngx_int_t ngx_wsman_example_enumerate(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);


static ngx_wsman_provider_t  ngx_wsman_example_provider = {
    ngx_string("NGX_Fruit"),
    ngx_string(NGX_WSMAN_EXAMPLE_URI),
    ngx_string("Name"),
    0,
    ngx_wsman_example_enumerate,
    NULL,                                  /* get: by enumerate */
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    0,
    NULL                                   /* item: CIM objects */
};


ngx_wsman_provider_t  *ngx_wsman_example_providers[] = {
    &ngx_wsman_example_provider,
    NULL
};


/* the fruits after *after, in key (name) order */
static ngx_int_t
ngx_wsman_example_enumerate(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    ngx_uint_t                      i;
    ngx_wsman_prop_t               *prop;
    ngx_wsman_instance_t          **slot;
    ngx_wsman_example_fruit_t      *f;
    ngx_wsman_example_main_conf_t  *emcf;

    *done = 1;

    emcf = ngx_wsman_plugin_main_conf(&ngx_wsman_example_module);
    if (emcf == NULL || emcf->fruits == NULL) {
        return NGX_OK;
    }

    f = emcf->fruits->elts;

    for (i = 0; i < emcf->fruits->nelts; i++) {

        if (after->len
            && ngx_memn2cmp(f[i].name.data, after->data, f[i].name.len,
                            after->len)
               <= 0)
        {
            continue;
        }

        if (out->nelts == max) {
            *done = 0;
            return NGX_OK;
        }

        slot = ngx_array_push(out);
        if (slot == NULL) {
            return NGX_ERROR;
        }

        *slot = ngx_wsman_instance_create(pool, &prov->class_name,
                                          &prov->resource_uri, 3);
        if (*slot == NULL) {
            return NGX_ERROR;
        }

        prop = ngx_wsman_prop_str(pool, *slot, "Name", f[i].name.data,
                                  f[i].name.len);
        if (prop == NULL) {
            return NGX_ERROR;
        }

        prop->key = 1;

        if (ngx_wsman_prop_str(pool, *slot, "Color", f[i].color.data,
                               f[i].color.len)
            == NULL
            || ngx_wsman_prop_uint(*slot, "Count", f[i].count) == NULL)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
