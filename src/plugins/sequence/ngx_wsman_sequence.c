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
    0,
    NULL
};


static ngx_int_t
ngx_wsman_sequence_enumerate(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    u_char                  text[64];
    uint64_t                i;
    ngx_uint_t              k, first, total;
    ngx_wsman_prop_t       *key;
    ngx_wsman_instance_t  **slot;
    ngx_wsman_sequence_main_conf_t  *smcf;

    smcf = ngx_wsman_plugin_main_conf(&ngx_wsman_sequence_module);
    total = (smcf && smcf->items != NGX_CONF_UNSET_UINT) ? smcf->items : 0;

    first = out->nelts;

    if (ngx_wsman_instance_range(prov, pool, after, total, 3, max, out, done)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    slot = out->elts;

    for (k = first; k < out->nelts; k++) {
        key = slot[k]->props.elts;
        i = key->u;

        if (ngx_wsman_prop_str(pool, slot[k], "ElementName", text,
                               ngx_sprintf(text, "item %uL", i) - text)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}



ngx_wsman_provider_t  *ngx_wsman_sequence_providers[] = {
    &ngx_wsman_sequence_provider,
    NULL
};
