/*
 * NGX_Sequence: a synthetic class of wsman_sequence_items instances with
 * numbered keys, made on the fly.  It exists so that enumerating very
 * large classes (100,000 items and more) can be measured and tested
 * without a host that has that many processes or files; it is off unless
 * the directive is set.
 */

#include "ngx_wsman_sequence.h"


#define NGX_WSMAN_SEQUENCE_URI  NGX_WSMAN_CIM_URI "NGX_Sequence"


static ngx_int_t ngx_wsman_sequence_enumerate(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);


static ngx_wsman_provider_t  ngx_wsman_sequence_provider = {
    ngx_string("NGX_Sequence"),
    ngx_string(NGX_WSMAN_SEQUENCE_URI),
    ngx_string("Index"),
    1,
    ngx_wsman_sequence_enumerate,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    0
};


static ngx_int_t
ngx_wsman_sequence_enumerate(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    u_char                  text[64];
    ngx_int_t               start;
    ngx_uint_t              i, total;
    ngx_wsman_prop_t       *prop;
    ngx_wsman_instance_t  **slot;
    ngx_wsman_sequence_main_conf_t  *smcf;

    smcf = ngx_wsman_plugin_main_conf(&ngx_wsman_sequence_module);
    total = (smcf && smcf->items != NGX_CONF_UNSET_UINT) ? smcf->items : 0;

    start = 0;

    if (after->len) {
        start = ngx_atoi(after->data, after->len);
        if (start == NGX_ERROR) {
            *done = 1;
            return NGX_OK;
        }

        start++;
    }

    for (i = (ngx_uint_t) start; i < total && out->nelts < max; i++) {
        slot = ngx_array_push(out);
        if (slot == NULL) {
            return NGX_ERROR;
        }

        *slot = ngx_wsman_instance_create(pool, &prov->class_name,
                                          &prov->resource_uri, 3);
        if (*slot == NULL) {
            return NGX_ERROR;
        }

        prop = ngx_wsman_prop_uint(*slot, "Index", i);
        if (prop == NULL) {
            return NGX_ERROR;
        }

        prop->key = 1;

        if (ngx_wsman_prop_str(pool, *slot, "ElementName", text,
                               ngx_sprintf(text, "item %ui", i) - text)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    *done = (i >= total);

    return NGX_OK;
}



ngx_wsman_provider_t  *ngx_wsman_sequence_providers[] = {
    &ngx_wsman_sequence_provider,
    NULL
};
