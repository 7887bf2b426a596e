/*
 * The format of the spool's files (ngx_wsman_wec_spool.c does their I/O):
 * a batch into bytes and bytes back into a batch.  Nothing here touches a
 * file, so the parser of what is read back from disk is unit-tested
 * (t/unit/test_wec_spool.c) and fuzzed (fuzz/fuzz_wec_spool.c) alone.
 *
 *     WECSPOOL1 LF
 *     six strings: subscription, source, machine, client address,
 *                  bookmark, received (seconds since the epoch, decimal)
 *     the number of events, decimal, LF
 *     one string per event: its XML
 *
 * A string is its length in decimal, LF, its bytes (any, LF included),
 * LF.  Bytes after the last event are ignored.
 */

#include "ngx_wsman_wec.h"


#define NGX_WSMAN_WEC_SPOOL_MAGIC   "WECSPOOL1\n"
#define NGX_WSMAN_WEC_SPOOL_EVENTS  1000000


static u_char *ngx_wsman_wec_spool_str(u_char *p, ngx_str_t *s);
static ngx_int_t ngx_wsman_wec_spool_read_str(u_char **pos, u_char *end,
    ngx_str_t *s);


/* the bytes ngx_wsman_wec_spool_format() writes at most */
size_t
ngx_wsman_wec_spool_size(ngx_wsman_wec_batch_t *b)
{
    size_t      len;
    ngx_uint_t  i;
    u_char      num[NGX_INT64_LEN];

    len = sizeof(NGX_WSMAN_WEC_SPOOL_MAGIC) - 1 + 7 * (NGX_SIZE_T_LEN + 2)
          + b->subscription.len + b->source.len + b->machine.len
          + b->client_addr.len + b->bookmark.len
          + (ngx_sprintf(num, "%T", b->received) - num);

    for (i = 0; i < b->nevents; i++) {
        len += NGX_SIZE_T_LEN + 2 + b->events[i].xml.len;
    }

    return len;
}


u_char *
ngx_wsman_wec_spool_format(u_char *p, ngx_wsman_wec_batch_t *b)
{
    ngx_str_t   received;
    ngx_uint_t  i;
    u_char      num[NGX_INT64_LEN];

    received.data = num;
    received.len = ngx_sprintf(num, "%T", b->received) - num;

    p = ngx_cpymem(p, NGX_WSMAN_WEC_SPOOL_MAGIC,
                   sizeof(NGX_WSMAN_WEC_SPOOL_MAGIC) - 1);
    p = ngx_wsman_wec_spool_str(p, &b->subscription);
    p = ngx_wsman_wec_spool_str(p, &b->source);
    p = ngx_wsman_wec_spool_str(p, &b->machine);
    p = ngx_wsman_wec_spool_str(p, &b->client_addr);
    p = ngx_wsman_wec_spool_str(p, &b->bookmark);
    p = ngx_wsman_wec_spool_str(p, &received);
    p = ngx_sprintf(p, "%ui\n", b->nevents);

    for (i = 0; i < b->nevents; i++) {
        p = ngx_wsman_wec_spool_str(p, &b->events[i].xml);
    }

    return p;
}


static u_char *
ngx_wsman_wec_spool_str(u_char *p, ngx_str_t *s)
{
    p = ngx_sprintf(p, "%uz\n", s->len);

    if (s->len) {
        p = ngx_cpymem(p, s->data, s->len);
    }

    *p++ = '\n';

    return p;
}


/*
 * The batch a spool file holds: its strings point into data; the events
 * have their xml only (ngx_wsman_wec_event_prepare() does the rest).
 * NGX_DECLINED: the file is damaged; NGX_ERROR: no memory.
 */
ngx_int_t
ngx_wsman_wec_spool_parse(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_wsman_wec_batch_t *b)
{
    u_char      *p, *end, *nl;
    ngx_int_t    count;
    ngx_str_t    received;
    ngx_uint_t   i;

    if (len < sizeof(NGX_WSMAN_WEC_SPOOL_MAGIC) - 1
        || ngx_memcmp(data, NGX_WSMAN_WEC_SPOOL_MAGIC,
                      sizeof(NGX_WSMAN_WEC_SPOOL_MAGIC) - 1) != 0)
    {
        return NGX_DECLINED;
    }

    p = data + sizeof(NGX_WSMAN_WEC_SPOOL_MAGIC) - 1;
    end = data + len;

    if (ngx_wsman_wec_spool_read_str(&p, end, &b->subscription) != NGX_OK
        || ngx_wsman_wec_spool_read_str(&p, end, &b->source) != NGX_OK
        || ngx_wsman_wec_spool_read_str(&p, end, &b->machine) != NGX_OK
        || ngx_wsman_wec_spool_read_str(&p, end, &b->client_addr) != NGX_OK
        || ngx_wsman_wec_spool_read_str(&p, end, &b->bookmark) != NGX_OK
        || ngx_wsman_wec_spool_read_str(&p, end, &received) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    b->received = ngx_atotm(received.data, received.len);

    nl = ngx_strlchr(p, end, '\n');
    if (nl == NULL || b->received == NGX_ERROR) {
        return NGX_DECLINED;
    }

    count = ngx_atoi(p, nl - p);
    p = nl + 1;

    /*
     * an event takes 3 bytes at least ("0", LF, LF): a count the rest of
     * the file cannot hold is damage, found before the events are
     * allocated (a million of them: over 100 MB, and a failed allocation
     * would make the file "no memory, try again" forever)
     */
    if (count == NGX_ERROR || count == 0
        || count > NGX_WSMAN_WEC_SPOOL_EVENTS
        || (size_t) count > (size_t) (end - p) / 3)
    {
        return NGX_DECLINED;
    }

    b->nevents = count;
    b->events = ngx_pcalloc(pool, count * sizeof(ngx_wsman_wec_event_t));
    if (b->events == NULL) {
        return NGX_ERROR;
    }

    b->bytes = 0;

    for (i = 0; i < b->nevents; i++) {
        if (ngx_wsman_wec_spool_read_str(&p, end, &b->events[i].xml)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        b->bytes += b->events[i].xml.len;
    }

    return NGX_OK;
}


/* a length-prefixed string of a spool file */
static ngx_int_t
ngx_wsman_wec_spool_read_str(u_char **pos, u_char *end, ngx_str_t *s)
{
    u_char     *p, *nl;
    ngx_int_t   n;

    p = *pos;

    nl = ngx_strlchr(p, end, '\n');
    if (nl == NULL) {
        return NGX_ERROR;
    }

    /* n bytes and an LF after the length's LF; no "n + 1": ngx_atoi()
     * returns up to NGX_MAX_INT_T_VALUE, and that overflowed */
    n = ngx_atoi(p, nl - p);
    if (n == NGX_ERROR || n >= end - (nl + 1) || nl[1 + n] != '\n') {
        return NGX_ERROR;
    }

    s->data = nl + 1;
    s->len = n;
    *pos = nl + 2 + n;

    return NGX_OK;
}
