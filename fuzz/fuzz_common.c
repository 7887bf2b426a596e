/*
 * Helpers of the harnesses (fuzz.h), and the pieces of the nginx core
 * that t/unit/ngx_runtime.c leaves to the unit tests themselves.
 */

#include <time.h>

#include "fuzz.h"


ngx_pool_t *
fuzz_pool(void)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, &unit_log);
    if (pool == NULL) {
        abort();
    }

    return pool;
}


void
fuzz_str(ngx_pool_t *pool, const u_char *data, size_t len, ngx_str_t *s)
{
    s->len = len;
    s->data = ngx_pnalloc(pool, len);

    if (s->data == NULL) {
        abort();
    }

    if (len) {
        ngx_memcpy(s->data, data, len);
    }
}


/* ngx_wsman_prop_text() formats datetimes with ngx_gmtime(); weak like
 * test_wql.c's, with nginx's conventions (full year, months from 1) */
void __attribute__((weak))
ngx_gmtime(time_t t, ngx_tm_t *tp)
{
    struct tm  tm;

    gmtime_r(&t, &tm);

    *tp = tm;
    tp->ngx_tm_year = tm.tm_year + 1900;
    tp->ngx_tm_mon = tm.tm_mon + 1;
}


/* ngx_string.c semantics: standard alphabet, '=' padding; weak so that a
 * version in ngx_runtime.c would take over */
void __attribute__((weak))
ngx_encode_base64(ngx_str_t *dst, ngx_str_t *src)
{
    u_char         *d;
    size_t          i, len;
    uint32_t        v;
    static u_char   alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "abcdefghijklmnopqrstuvwxyz0123456789+/";

    d = dst->data;
    len = src->len;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) src->data[i] << 16 | (uint32_t) src->data[i + 1] << 8
            | src->data[i + 2];

        *d++ = alphabet[v >> 18];
        *d++ = alphabet[(v >> 12) & 0x3f];
        *d++ = alphabet[(v >> 6) & 0x3f];
        *d++ = alphabet[v & 0x3f];
    }

    if (i < len) {
        v = (uint32_t) src->data[i] << 16;

        if (i + 1 < len) {
            v |= (uint32_t) src->data[i + 1] << 8;
        }

        *d++ = alphabet[v >> 18];
        *d++ = alphabet[(v >> 12) & 0x3f];
        *d++ = (i + 1 < len) ? alphabet[(v >> 6) & 0x3f] : '=';
        *d++ = '=';
    }

    dst->len = d - dst->data;
}
