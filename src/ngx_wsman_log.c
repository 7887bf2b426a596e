/*
 * Escape client-supplied text for the error log: bytes below 0x20, 0x7f,
 * '"' and '\' become \xHH (as nginx's access log does); long values are
 * cut at NGX_WSMAN_LOG_MAX bytes.
 */

#include "ngx_wsman_log.h"
#include "ngx_wsman_util.h"


static ngx_uint_t
ngx_wsman_log_needs_escape(u_char c)
{
    return c < 0x20 || c == 0x7f || c == '"' || c == '\\';
}


/* never fails: on allocation failure the value is replaced by "-" */
ngx_str_t *
ngx_wsman_log_escape(ngx_pool_t *pool, ngx_str_t *src)
{
    u_char             *p;
    size_t              len, i, n;
    ngx_str_t          *dst;
    ngx_uint_t          cut;
    static ngx_str_t    failed = ngx_string("-");

    n = ngx_min(src->len, NGX_WSMAN_LOG_MAX);
    cut = src->len > n;

    len = n;
    for (i = 0; i < n; i++) {
        if (ngx_wsman_log_needs_escape(src->data[i])) {
            len += 3;
        }
    }

    /* not len == src->len alone: a cut value whose escapes add as many
     * bytes as the cut removes has its length too, and needs both */
    if (!cut && len == n) {
        return src;
    }

    dst = ngx_palloc(pool, sizeof(ngx_str_t));
    if (dst == NULL) {
        return &failed;
    }

    dst->data = ngx_pnalloc(pool, len + (cut ? 3 : 0));
    if (dst->data == NULL) {
        return &failed;
    }

    p = dst->data;

    for (i = 0; i < n; i++) {
        if (ngx_wsman_log_needs_escape(src->data[i])) {
            *p++ = '\\';
            *p++ = 'x';
            p = ngx_wsman_hex(p, &src->data[i], 1, 1);
            continue;
        }

        *p++ = src->data[i];
    }

    if (cut) {
        p = ngx_cpymem(p, "...", 3);
    }

    dst->len = p - dst->data;

    return dst;
}
