/*
 * The event collector's spool files (src/plugins/wec/ngx_wsman_wec_spool_
 * fmt.c) as the replay reads them back from disk: a file of any bytes
 * through ngx_wsman_wec_spool_parse().  What it promises when it says
 * NGX_OK:
 *
 * - every string lies inside the file, in file order, each right after
 *   the LF of its length and right before its own LF; the events are
 *   1 to 1,000,000, at most one per 3 bytes of the file, and bytes is the
 *   sum of their lengths;
 * - the batch written back with the writer's serialisation
 *   (ngx_wsman_wec_spool_format(), within ngx_wsman_wec_spool_size()) is
 *   the file itself up to the LF of its last event, unless the file's
 *   numbers have leading zeros (then it is shorter); it parses to the
 *   same batch and writes the same bytes again, and one byte less of it
 *   is a damaged file.
 *
 * Anything else is NGX_DECLINED: the harness's pool never fails, so
 * NGX_ERROR (no memory) is a finding too.
 */

#include "fuzz.h"
#include "ngx_wsman_wec.h"


static u_char  *fuzz_wec_end;
static u_char  *fuzz_wec_last;


/* s inside [start, end), after the previous string, between LFs */
static void
fuzz_wec_inside(ngx_str_t *s, u_char *start)
{
    fuzz_assert(s->data > start && s->data <= fuzz_wec_end);
    fuzz_assert(s->len < (size_t) (fuzz_wec_end - s->data));
    fuzz_assert(s->data > fuzz_wec_last);
    fuzz_assert(s->data[-1] == '\n' && s->data[s->len] == '\n');

    fuzz_wec_last = s->data + s->len;
}


static int
fuzz_wec_same(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0);
}


/* a number of the file has a leading zero: "0" after an LF, then a digit */
static int
fuzz_wec_zeros(u_char *p, size_t len)
{
    size_t  i;

    for (i = 1; i + 1 < len; i++) {
        if (p[i - 1] == '\n' && p[i] == '0'
            && p[i + 1] >= '0' && p[i + 1] <= '9')
        {
            return 1;
        }
    }

    return 0;
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                 *out, *end, *again;
    size_t                  n, used, bytes;
    ngx_int_t               rc;
    ngx_str_t               in;
    ngx_uint_t              i;
    ngx_pool_t             *pool;
    ngx_wsman_wec_batch_t   b, c;

    pool = fuzz_pool();

    fuzz_str(pool, data, size, &in);

    ngx_memzero(&b, sizeof(ngx_wsman_wec_batch_t));

    rc = ngx_wsman_wec_spool_parse(pool, in.data, in.len, &b);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (rc != NGX_OK) {
        goto done;
    }

    /* where the strings are */
    fuzz_wec_end = in.data + in.len;
    fuzz_wec_last = in.data;

    fuzz_wec_inside(&b.subscription, in.data);
    fuzz_wec_inside(&b.source, in.data);
    fuzz_wec_inside(&b.machine, in.data);
    fuzz_wec_inside(&b.client_addr, in.data);
    fuzz_wec_inside(&b.bookmark, in.data);

    fuzz_assert(b.received >= 0);
    fuzz_assert(b.nevents >= 1 && b.nevents <= 1000000);
    fuzz_assert(b.nevents <= in.len / 3);
    fuzz_assert(b.events != NULL);

    bytes = 0;

    for (i = 0; i < b.nevents; i++) {
        fuzz_wec_inside(&b.events[i].xml, in.data);
        bytes += b.events[i].xml.len;
    }

    fuzz_assert(b.bytes == bytes);

    /* written back */
    n = ngx_wsman_wec_spool_size(&b);

    out = ngx_pnalloc(pool, n);
    fuzz_assert(out != NULL);

    end = ngx_wsman_wec_spool_format(out, &b);
    n = end - out;

    fuzz_assert(n <= ngx_wsman_wec_spool_size(&b));
    fuzz_assert(n <= in.len);

    /*
     * the file up to its last event's LF, unless a number there has
     * leading zeros (the writer writes none, so its bytes are fewer)
     */
    used = b.events[b.nevents - 1].xml.data + b.events[b.nevents - 1].xml.len
           + 1 - in.data;

    fuzz_assert(n <= used);

    if (n == used) {
        fuzz_assert(ngx_memcmp(out, in.data, n) == 0);

    } else {
        fuzz_assert(fuzz_wec_zeros(in.data, used));
    }

    /* read again: the same batch, written the same */
    ngx_memzero(&c, sizeof(ngx_wsman_wec_batch_t));

    rc = ngx_wsman_wec_spool_parse(pool, out, n, &c);

    fuzz_assert(rc == NGX_OK);
    fuzz_assert(fuzz_wec_same(&c.subscription, &b.subscription));
    fuzz_assert(fuzz_wec_same(&c.source, &b.source));
    fuzz_assert(fuzz_wec_same(&c.machine, &b.machine));
    fuzz_assert(fuzz_wec_same(&c.client_addr, &b.client_addr));
    fuzz_assert(fuzz_wec_same(&c.bookmark, &b.bookmark));
    fuzz_assert(c.received == b.received);
    fuzz_assert(c.nevents == b.nevents && c.bytes == b.bytes);

    for (i = 0; i < b.nevents; i++) {
        fuzz_assert(fuzz_wec_same(&c.events[i].xml, &b.events[i].xml));
    }

    again = ngx_pnalloc(pool, ngx_wsman_wec_spool_size(&c));
    fuzz_assert(again != NULL);

    end = ngx_wsman_wec_spool_format(again, &c);

    fuzz_assert((size_t) (end - again) == n
                && ngx_memcmp(again, out, n) == 0);

    /* the last byte ends the last event: without it, the file is damaged
     * (an exact-size copy, so that a read past it is caught) */
    again = ngx_pnalloc(pool, n - 1);
    fuzz_assert(again != NULL);
    ngx_memcpy(again, out, n - 1);

    ngx_memzero(&c, sizeof(ngx_wsman_wec_batch_t));

    fuzz_assert(ngx_wsman_wec_spool_parse(pool, again, n - 1, &c)
                == NGX_DECLINED);

done:

    ngx_destroy_pool(pool);

    return 0;
}
