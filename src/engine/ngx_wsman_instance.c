/*
 * Building CIM instances.  Property names are C string literals owned by
 * the provider; values are copied into the pool.
 */

#include "ngx_wsman_instance.h"


ngx_wsman_instance_t *
ngx_wsman_instance_create(ngx_pool_t *pool, ngx_str_t *class_name,
    ngx_str_t *resource_uri, ngx_uint_t n)
{
    ngx_wsman_instance_t  *inst;

    inst = ngx_palloc(pool, sizeof(ngx_wsman_instance_t));
    if (inst == NULL) {
        return NULL;
    }

    inst->class_name = *class_name;
    inst->resource_uri = *resource_uri;

    if (ngx_array_init(&inst->props, pool, n ? n : 8,
                       sizeof(ngx_wsman_prop_t))
        != NGX_OK)
    {
        return NULL;
    }

    return inst;
}


static ngx_wsman_prop_t *
ngx_wsman_prop_add(ngx_wsman_instance_t *inst, const char *name,
    ngx_uint_t type)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_array_push(&inst->props);
    if (prop == NULL) {
        return NULL;
    }

    ngx_memzero(prop, sizeof(ngx_wsman_prop_t));

    prop->name.data = (u_char *) name;
    prop->name.len = ngx_strlen(name);
    prop->type = type;

    return prop;
}


ngx_wsman_prop_t *
ngx_wsman_prop_str(ngx_pool_t *pool, ngx_wsman_instance_t *inst,
    const char *name, const u_char *value, size_t len)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_prop_add(inst, name, NGX_WSMAN_PROP_STRING);
    if (prop == NULL) {
        return NULL;
    }

    if (value == NULL) {
        prop->nil = 1;
        return prop;
    }

    prop->text.data = ngx_pnalloc(pool, len + 1);
    if (prop->text.data == NULL) {
        return NULL;
    }

    ngx_memcpy(prop->text.data, value, len);
    prop->text.data[len] = '\0';
    prop->text.len = len;

    return prop;
}


ngx_wsman_prop_t *
ngx_wsman_prop_cstr(ngx_pool_t *pool, ngx_wsman_instance_t *inst,
    const char *name, const char *value)
{
    return ngx_wsman_prop_str(pool, inst, name, (const u_char *) value,
                              value ? ngx_strlen(value) : 0);
}


ngx_wsman_prop_t *
ngx_wsman_prop_uint(ngx_wsman_instance_t *inst, const char *name,
    uint64_t value)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_prop_add(inst, name, NGX_WSMAN_PROP_UINT);
    if (prop) {
        prop->u = value;
    }

    return prop;
}


ngx_wsman_prop_t *
ngx_wsman_prop_sint(ngx_wsman_instance_t *inst, const char *name,
    int64_t value)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_prop_add(inst, name, NGX_WSMAN_PROP_SINT);
    if (prop) {
        prop->s = value;
    }

    return prop;
}


ngx_wsman_prop_t *
ngx_wsman_prop_bool(ngx_wsman_instance_t *inst, const char *name,
    ngx_uint_t value)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_prop_add(inst, name, NGX_WSMAN_PROP_BOOL);
    if (prop) {
        prop->u = value ? 1 : 0;
    }

    return prop;
}


ngx_wsman_prop_t *
ngx_wsman_prop_real(ngx_pool_t *pool, ngx_wsman_instance_t *inst,
    const char *name, double value)
{
    u_char            *p;
    int64_t            whole;
    uint64_t           frac;
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_prop_add(inst, name, NGX_WSMAN_PROP_REAL);
    if (prop == NULL) {
        return NULL;
    }

    p = ngx_pnalloc(pool, NGX_INT64_LEN + 8);
    if (p == NULL) {
        return NULL;
    }

    /* three decimals are plenty for loads and speeds */
    whole = (int64_t) value;
    frac = (uint64_t) ((value < 0 ? -(value - whole) : value - whole) * 1000
                       + 0.5);
    if (frac >= 1000) {
        frac -= 1000;
        whole += value < 0 ? -1 : 1;
    }

    prop->text.data = p;
    prop->text.len = ngx_sprintf(p, "%s%L.%03uL",
                                 (value < 0 && whole == 0) ? "-" : "",
                                 whole, frac)
                     - p;

    return prop;
}


ngx_wsman_prop_t *
ngx_wsman_prop_datetime(ngx_wsman_instance_t *inst, const char *name,
    time_t value)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_prop_add(inst, name, NGX_WSMAN_PROP_DATETIME);
    if (prop) {
        prop->s = value;
    }

    return prop;
}


ngx_wsman_prop_t *
ngx_wsman_prop_nil(ngx_wsman_instance_t *inst, const char *name,
    ngx_uint_t type)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_prop_add(inst, name, type);
    if (prop) {
        prop->nil = 1;
    }

    return prop;
}


ngx_wsman_prop_t *
ngx_wsman_instance_prop(ngx_wsman_instance_t *inst, const u_char *name,
    size_t len)
{
    ngx_uint_t         i;
    ngx_wsman_prop_t  *prop;

    prop = inst->props.elts;

    for (i = 0; i < inst->props.nelts; i++) {
        if (prop[i].name.len == len
            && ngx_strncasecmp(prop[i].name.data, (u_char *) name, len) == 0)
        {
            return &prop[i];
        }
    }

    return NULL;
}


ngx_int_t
ngx_wsman_prop_text(ngx_pool_t *pool, ngx_wsman_prop_t *prop,
    ngx_str_t *text)
{
    u_char     *p;
    ngx_tm_t    tm;

    if (prop->nil) {
        ngx_str_null(text);
        return NGX_DECLINED;
    }

    switch (prop->type) {

    case NGX_WSMAN_PROP_STRING:
    case NGX_WSMAN_PROP_REAL:
        *text = prop->text;
        return NGX_OK;

    case NGX_WSMAN_PROP_BOOL:
        if (prop->u) {
            ngx_str_set(text, "true");
        } else {
            ngx_str_set(text, "false");
        }
        return NGX_OK;

    default:
        break;
    }

    p = ngx_pnalloc(pool, sizeof("-9223372036854775808")
                          + sizeof("1970-01-01T00:00:00Z"));
    if (p == NULL) {
        return NGX_ERROR;
    }

    text->data = p;

    switch (prop->type) {

    case NGX_WSMAN_PROP_UINT:
        text->len = ngx_sprintf(p, "%uL", prop->u) - p;
        break;

    case NGX_WSMAN_PROP_SINT:
        text->len = ngx_sprintf(p, "%L", prop->s) - p;
        break;

    default: /* NGX_WSMAN_PROP_DATETIME, in UTC */
        ngx_gmtime((time_t) prop->s, &tm);
        text->len = ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                                tm.ngx_tm_year, tm.ngx_tm_mon,
                                tm.ngx_tm_mday, tm.ngx_tm_hour,
                                tm.ngx_tm_min, tm.ngx_tm_sec)
                    - p;
        break;
    }

    return NGX_OK;
}


ngx_int_t
ngx_wsman_instance_range(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_str_t *after, ngx_uint_t total, ngx_uint_t nprops, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done)
{
    ngx_int_t               start;
    ngx_uint_t              i;
    ngx_wsman_prop_t       *prop;
    ngx_wsman_instance_t  **slot;

    start = 0;

    if (after->len) {
        start = ngx_atoi(after->data, after->len);

        /* not a key of ours: nothing comes after it */
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
                                          &prov->resource_uri, nprops);
        if (*slot == NULL) {
            return NGX_ERROR;
        }

        prop = ngx_wsman_prop_uint(*slot, (const char *) prov->key.data, i);
        if (prop == NULL) {
            return NGX_ERROR;
        }

        prop->key = 1;
    }

    *done = (i >= total);

    return NGX_OK;
}
