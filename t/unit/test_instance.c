/*
 * CIM instances as the engine sees them (src/engine/ngx_wsman_instance.c):
 * a selector names a key property case-insensitively and matches its
 * text; the text of every property type is what a selector, a WQL
 * filter and an enumeration cursor compare.
 */

#include "unit.h"
#include "ngx_wsman_instance.h"


void unit_test_instance(void);


static ngx_pool_t  *unit_pool;


static ngx_str_t
unit_text(ngx_wsman_prop_t *prop)
{
    ngx_str_t  text;

    ngx_str_null(&text);

    if (prop == NULL
        || ngx_wsman_prop_text(unit_pool, prop, &text) != NGX_OK)
    {
        ngx_str_set(&text, "(none)");
    }

    return text;
}


/* the property is made once: UNIT_EQ_STR reads its argument twice */
#define UNIT_TEXT(prop, expected)                                           \
    do {                                                                    \
        ngx_str_t  t_ = unit_text(prop);                                    \
        UNIT_EQ_STR(t_, expected);                                          \
    } while (0)


static void
unit_test_instance_lookup(void)
{
    ngx_str_t              cls, uri;
    ngx_wsman_prop_t      *key, *p;
    ngx_wsman_instance_t  *inst;

    ngx_str_set(&cls, "CIM_Widget");
    ngx_str_set(&uri, NGX_WSMAN_CIM_URI "CIM_Widget");

    inst = ngx_wsman_instance_create(unit_pool, &cls, &uri, 0);
    if (!UNIT_CHECK(inst != NULL)) {
        return;
    }

    key = ngx_wsman_prop_cstr(unit_pool, inst, "Handle", "42");
    key->key = 1;
    (void) ngx_wsman_prop_cstr(unit_pool, inst, "HandleCount", "7");
    (void) ngx_wsman_prop_cstr(unit_pool, inst, "Name", NULL);

    /* selectors name properties whatever their case, whole names only */
    UNIT_CHECK(ngx_wsman_instance_prop(inst, (u_char *) "handle", 6) == key);
    UNIT_CHECK(ngx_wsman_instance_prop(inst, (u_char *) "HANDLE", 6) == key);
    UNIT_CHECK(ngx_wsman_instance_prop(inst, (u_char *) "Hand", 4) == NULL);
    UNIT_CHECK(ngx_wsman_instance_prop(inst, (u_char *) "HandleX", 7)
               == NULL);

    p = ngx_wsman_instance_prop(inst, (u_char *) "handlecount", 11);
    UNIT_CHECK(p != NULL && p != key && !p->key);

    /* a string is copied: the caller's buffer may go */
    UNIT_CHECK(key->text.data != (u_char *) "42");
    UNIT_TEXT(key, "42");

    /* nil has no text: it matches no selector */
    p = ngx_wsman_instance_prop(inst, (u_char *) "name", 4);
    if (UNIT_CHECK(p != NULL)) {
        ngx_str_t  text;

        UNIT_CHECK(p->nil);
        UNIT_CHECK(ngx_wsman_prop_text(unit_pool, p, &text) == NGX_DECLINED);
        UNIT_EQ_UINT(text.len, 0);
    }
}


static void
unit_test_instance_text(void)
{
    ngx_str_t              cls, uri;
    ngx_wsman_instance_t  *inst;

    ngx_str_set(&cls, "CIM_Widget");
    ngx_str_set(&uri, NGX_WSMAN_CIM_URI "CIM_Widget");

    inst = ngx_wsman_instance_create(unit_pool, &cls, &uri, 2);
    if (!UNIT_CHECK(inst != NULL)) {
        return;
    }

    UNIT_TEXT((ngx_wsman_prop_uint(inst, "a",
                                              18446744073709551615ULL)),
                "18446744073709551615");
    UNIT_TEXT((ngx_wsman_prop_sint(inst, "b",
                                              -9223372036854775807LL - 1)),
                "-9223372036854775808");
    UNIT_TEXT((ngx_wsman_prop_bool(inst, "c", 5)), "true");
    UNIT_TEXT((ngx_wsman_prop_bool(inst, "d", 0)), "false");

    /* reals: three decimals, rounded, the sign kept below one */
    UNIT_TEXT((ngx_wsman_prop_real(unit_pool, inst, "e", 1.5)),
                "1.500");
    UNIT_TEXT((ngx_wsman_prop_real(unit_pool, inst, "f",
                                              -0.25)),
                "-0.250");
    UNIT_TEXT((ngx_wsman_prop_real(unit_pool, inst, "g",
                                              1.9996)),
                "2.000");
    UNIT_TEXT((ngx_wsman_prop_real(unit_pool, inst, "h",
                                              -1.9996)),
                "-2.000");

    /* datetimes in UTC, xs:dateTime form */
    UNIT_TEXT((ngx_wsman_prop_datetime(inst, "i", 0)),
                "1970-01-01T00:00:00Z");
    UNIT_TEXT((ngx_wsman_prop_datetime(inst, "j", 1700000000)),
                "2023-11-14T22:13:20Z");

    /* the array grew past its first size and kept every property */
    UNIT_EQ_UINT(inst->props.nelts, 10);
    UNIT_CHECK(ngx_wsman_instance_prop(inst, (u_char *) "A", 1) != NULL);
}


void
unit_test_instance(void)
{
    unit_pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(unit_pool != NULL)) {
        return;
    }

    unit_test_instance_lookup();
    unit_test_instance_text();

    ngx_destroy_pool(unit_pool);
    unit_pool = NULL;
}
