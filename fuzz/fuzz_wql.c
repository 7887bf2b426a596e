/*
 * The WQL parser (src/engine/ngx_wsman_wql.c) on an Enumerate filter, as
 * ngx_wsman_enumeration.c calls it, then the filter evaluated on an instance with
 * a property of every type (nil and repeated ones included) and on one
 * with no property at all.
 */

#include "fuzz.h"
#include "ngx_wsman_instance.h"
#include "ngx_wsman_wql.h"


static ngx_wsman_instance_t *
fuzz_wql_instance(ngx_pool_t *pool, ngx_uint_t empty)
{
    ngx_str_t              cls = ngx_string("CIM_Process");
    ngx_str_t              uri = ngx_string(NGX_WSMAN_CIM_URI "CIM_Process");
    ngx_wsman_instance_t  *inst;

    inst = ngx_wsman_instance_create(pool, &cls, &uri, 0);
    if (inst == NULL) {
        abort();
    }

    if (empty) {
        return inst;
    }

    /* the names are what the seeds and the dictionary use */
    if (ngx_wsman_prop_cstr(pool, inst, "Name", "nginx.exe") == NULL
        || ngx_wsman_prop_uint(inst, "Handle", 10) == NULL
        || ngx_wsman_prop_uint(inst, "Big", UINT64_MAX) == NULL
        || ngx_wsman_prop_sint(inst, "Priority", -5) == NULL
        || ngx_wsman_prop_sint(inst, "Lowest", INT64_MIN) == NULL
        || ngx_wsman_prop_bool(inst, "Critical", 1) == NULL
        || ngx_wsman_prop_nil(inst, "Path", NGX_WSMAN_PROP_STRING) == NULL
        || ngx_wsman_prop_real(pool, inst, "Load", 1.5) == NULL
        || ngx_wsman_prop_real(pool, inst, "Tiny", -1e-300) == NULL
        || ngx_wsman_prop_datetime(inst, "Started", 86400) == NULL
        || ngx_wsman_prop_cstr(pool, inst, "Tag", "alpha") == NULL
        || ngx_wsman_prop_cstr(pool, inst, "Tag", "beta") == NULL
        || ngx_wsman_prop_nil(inst, "Multi", NGX_WSMAN_PROP_UINT) == NULL
        || ngx_wsman_prop_uint(inst, "Multi", 5) == NULL
        || ngx_wsman_prop_cstr(pool, inst, "Label", "10") == NULL
        || ngx_wsman_prop_cstr(pool, inst, "Empty", "") == NULL
        || ngx_wsman_prop_cstr(pool, inst, "Quote", "it's \"q\" \\") == NULL
        || ngx_wsman_prop_str(pool, inst, "Bin",
                              (u_char *) "a\0b%_[]^", 8) == NULL)
    {
        abort();
    }

    return inst;
}


static ngx_uint_t
fuzz_wql_name_char(u_char c)
{
    return c == '_' || (c >= '0' && c <= '9')
           || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}


/*
 * NOT is two-valued (ngx_wsman_wql.h): "... WHERE NOT (cond)" matches
 * exactly the instances "... WHERE cond" does not.  The WHERE is the first
 * one after which the query parses, which a WHERE in a string cannot be.
 */
static void
fuzz_wql_negation(ngx_pool_t *pool, ngx_str_t *text,
    ngx_wsman_instance_t *inst, ngx_int_t matched)
{
    u_char           *p;
    size_t            i;
    ngx_str_t         q, error;
    ngx_wsman_wql_t  *wql;

    for (i = 0; i + 5 <= text->len; i++) {

        if (ngx_strncasecmp(text->data + i, (u_char *) "where", 5) != 0
            || (i > 0 && fuzz_wql_name_char(text->data[i - 1]))
            || (i + 5 < text->len && fuzz_wql_name_char(text->data[i + 5])))
        {
            continue;
        }

        q.data = text->data;
        q.len = i;

        if (ngx_wsman_wql_parse(pool, &q, &wql, &error) != NGX_OK) {
            continue;
        }

        q.len = text->len + sizeof(" NOT ()") - 1;
        q.data = ngx_pnalloc(pool, q.len);
        if (q.data == NULL) {
            abort();
        }

        p = ngx_cpymem(q.data, text->data, i + 5);
        p = ngx_cpymem(p, " NOT (", 6);
        p = ngx_cpymem(p, text->data + i + 5, text->len - i - 5);
        *p = ')';

        /* deeper or longer than the limits allow: nothing to compare */
        if (ngx_wsman_wql_parse(pool, &q, &wql, &error) != NGX_OK) {
            return;
        }

        fuzz_assert(ngx_wsman_wql_match(wql, inst, pool) == !matched);

        return;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t              rc;
    ngx_str_t              text, error, *cls;
    ngx_uint_t             i;
    ngx_pool_t            *pool;
    ngx_array_t           *props;
    ngx_wsman_wql_t       *wql;
    ngx_wsman_instance_t  *inst;

    pool = fuzz_pool();

    fuzz_str(pool, data, size, &text);

    wql = NULL;
    ngx_str_null(&error);

    rc = ngx_wsman_wql_parse(pool, &text, &wql, &error);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (rc == NGX_DECLINED) {
        fuzz_assert(error.len > 0);
        goto done;
    }

    fuzz_assert(wql != NULL);

    cls = ngx_wsman_wql_class(wql);
    fuzz_assert(cls != NULL && cls->len > 0 && cls->len <= size);

    props = ngx_wsman_wql_properties(wql);
    fuzz_assert(props == NULL || props->nelts > 0);

    for (i = 0; i < 2; i++) {
        inst = fuzz_wql_instance(pool, i);

        rc = ngx_wsman_wql_match(wql, inst, pool);
        fuzz_assert(rc == 0 || rc == 1);

        fuzz_wql_negation(pool, &text, inst, rc);
    }

done:

    ngx_destroy_pool(pool);

    return 0;
}
