/*
 * The event collector's spool files (src/plugins/wec/ngx_wsman_wec_spool_
 * fmt.c): the writer's serialisation, byte for byte, and the parser of
 * what is read back from disk, on good files, on every truncation, on
 * length fields past the end and on counts the file cannot hold.  Each
 * input is an exact-size malloc() block, so that valgrind (make -C t/unit
 * valgrind) sees a read past its end.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_wsman_wec.h"


void unit_test_wec_spool(void);


/* what the writer of the version that introduced the format wrote for
 * unit_spool_batch(): files of running collectors must still replay */
static const char  unit_spool_file[] =
    "WECSPOOL1\n"
    "3\nsub\n"
    "9\nalice@EX\n\n"
    "0\n\n"
    "9\n192.0.2.7\n"
    "20\n<BookmarkList\n/>\r\n\n\n\n"
    "10\n1700000000\n"
    "3\n"
    "17\n<Event>1\n</Event>\n"
    "0\n\n"
    "5\n\n\n\n\n\n\n";


static ngx_wsman_wec_event_t  unit_spool_events[3];


static void
unit_spool_batch(ngx_wsman_wec_batch_t *b)
{
    ngx_memzero(b, sizeof(ngx_wsman_wec_batch_t));
    ngx_memzero(unit_spool_events, sizeof(unit_spool_events));

    ngx_str_set(&b->subscription, "sub");
    ngx_str_set(&b->source, "alice@EX\n");
    ngx_str_null(&b->machine);
    ngx_str_set(&b->client_addr, "192.0.2.7");
    ngx_str_set(&b->bookmark, "<BookmarkList\n/>\r\n\n\n");
    b->received = 1700000000;

    ngx_str_set(&unit_spool_events[0].xml, "<Event>1\n</Event>");
    ngx_str_null(&unit_spool_events[1].xml);
    ngx_str_set(&unit_spool_events[2].xml, "\n\n\n\n\n");

    b->events = unit_spool_events;
    b->nevents = 3;
}


/* data copied into an exact-size block, then parsed */
static ngx_int_t
unit_spool_parse(ngx_pool_t *pool, const void *data, size_t len,
    ngx_wsman_wec_batch_t *b, u_char **copy)
{
    ngx_int_t   rc;

    *copy = malloc(len ? len : 1);
    if (*copy == NULL) {
        abort();
    }

    if (len) {
        ngx_memcpy(*copy, data, len);
    }

    ngx_memzero(b, sizeof(ngx_wsman_wec_batch_t));

    rc = ngx_wsman_wec_spool_parse(pool, *copy, len, b);

    return rc;
}


static ngx_int_t
unit_spool_try(ngx_pool_t *pool, const char *data, size_t len)
{
    u_char                 *copy;
    ngx_int_t               rc;
    ngx_wsman_wec_batch_t   b;

    rc = unit_spool_parse(pool, data, len, &b, &copy);
    free(copy);

    return rc;
}


#define unit_spool_str(s)  unit_spool_try(pool, s, sizeof(s) - 1)

#define UNIT_SPOOL_HEAD                                                     \
    "WECSPOOL1\n3\nsub\n1\na\n1\nm\n1\nc\n0\n\n10\n1700000000\n"


static void
unit_spool_good(ngx_pool_t *pool)
{
    u_char                 *buf, *end, *copy, *again;
    size_t                  i;
    ngx_int_t               rc;
    ngx_wsman_wec_batch_t   b, p;

    unit_spool_batch(&b);

    buf = malloc(ngx_wsman_wec_spool_size(&b));
    if (buf == NULL) {
        abort();
    }

    end = ngx_wsman_wec_spool_format(buf, &b);

    /* the format is unchanged */
    UNIT_CHECK((size_t) (end - buf) <= ngx_wsman_wec_spool_size(&b));
    UNIT_EQ_UINT(end - buf, sizeof(unit_spool_file) - 1);
    UNIT_CHECK(ngx_memcmp(buf, unit_spool_file, end - buf) == 0);
    free(buf);

    rc = unit_spool_parse(pool, unit_spool_file, sizeof(unit_spool_file) - 1,
                          &p, &copy);

    if (UNIT_EQ_UINT(rc, NGX_OK) && UNIT_EQ_UINT(p.nevents, 3)) {
        UNIT_EQ_STR(p.subscription, "sub");
        UNIT_EQ_STR(p.source, "alice@EX\n");
        UNIT_EQ_UINT(p.machine.len, 0);
        UNIT_EQ_STR(p.client_addr, "192.0.2.7");
        UNIT_EQ_STR(p.bookmark, "<BookmarkList\n/>\r\n\n\n");
        UNIT_EQ_UINT(p.received, 1700000000);
        UNIT_EQ_STR(p.events[0].xml, "<Event>1\n</Event>");
        UNIT_EQ_UINT(p.events[1].xml.len, 0);
        UNIT_EQ_STR(p.events[2].xml, "\n\n\n\n\n");
        UNIT_EQ_UINT(p.bytes, 17 + 5);

        /* strings point into the file, not into copies */
        UNIT_CHECK(p.source.data > copy
                   && p.source.data < copy + sizeof(unit_spool_file) - 1);

        /* written back: the same bytes */
        again = malloc(ngx_wsman_wec_spool_size(&p));
        if (again == NULL) {
            abort();
        }

        end = ngx_wsman_wec_spool_format(again, &p);
        UNIT_EQ_UINT(end - again, sizeof(unit_spool_file) - 1);
        UNIT_CHECK(ngx_memcmp(again, unit_spool_file, end - again) == 0);
        free(again);
    }

    free(copy);

    /* bytes after the last event are ignored, as they always were */
    rc = unit_spool_try(pool, UNIT_SPOOL_HEAD "1\n2\nxy\ntrailing",
                        sizeof(UNIT_SPOOL_HEAD "1\n2\nxy\ntrailing") - 1);
    UNIT_EQ_UINT(rc, NGX_OK);

    /* a file cut anywhere is damaged: the last byte ends the last event */
    for (i = 0; i < sizeof(unit_spool_file) - 1; i++) {
        rc = unit_spool_try(pool, unit_spool_file, i);

        if (!UNIT_EQ_UINT(rc, NGX_DECLINED)) {
            printf("     truncated at %zu\n", i);
            break;
        }
    }
}


static void
unit_spool_damaged(ngx_pool_t *pool)
{
    ngx_int_t  rc;

    UNIT_EQ_UINT(unit_spool_str("WECSPOOL2\n"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str("wecspool1\n3\nsub\n"), NGX_DECLINED);

    /* lengths past the end, by one and by far */
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n4\nsub\n"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n3\nsub"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n3\nsubx"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "1\n3\nxy\n"),
                 NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "1\n"
                                "4294967296\nxy\n"), NGX_DECLINED);

    /*
     * The largest length ngx_atoi() returns: "n + 1 bytes left?" overflowed
     * (undefined: clang's UBSan stops there, fuzz_wec_spool found it; a
     * compiler may drop the check, and nl[1 + n] reads at nl - 2^63)
     */
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n9223372036854775807\nsub\n"),
                 NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n9223372036854775806\nsub\n"),
                 NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "1\n"
                                "9223372036854775807\nxy\n"), NGX_DECLINED);
    /* past ngx_atoi()'s range */
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n9223372036854775808\nsub\n"),
                 NGX_DECLINED);

    /* lengths that are no numbers */
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n\nsub\n"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n-3\nsub\n"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n+3\nsub\n"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n 3\nsub\n"), NGX_DECLINED);

    /* the received time */
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n3\nsub\n1\na\n1\nm\n1\nc\n0\n\n"
                                "3\nnow\n1\n2\nxy\n"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n3\nsub\n1\na\n1\nm\n1\nc\n0\n\n"
                                "0\n\n1\n2\nxy\n"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str("WECSPOOL1\n3\nsub\n1\na\n1\nm\n1\nc\n0\n\n"
                                "19\n9223372036854775808\n1\n2\nxy\n"),
                 NGX_DECLINED);

    /* counts: none, no number, no end of line, more than allowed */
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "0\n"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "x\n2\nxy\n"),
                 NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "1"), NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "2\n2\nxy\n"),
                 NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "1000001\n2\nxy\n"),
                 NGX_DECLINED);
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD
                                "99999999999999999999\n2\nxy\n"),
                 NGX_DECLINED);

    /*
     * A huge count in a small file is damaged before anything is
     * allocated for it: it used to allocate the events (a million of
     * them: over 100 MB) first, and a failed allocation made the file
     * "no memory, try again" forever instead of setting it aside
     */
    unit_alloc_fail_after(0);
    rc = unit_spool_str(UNIT_SPOOL_HEAD "1000000\n2\nxy\n");
    unit_alloc_fail_after(-1);
    UNIT_EQ_UINT(rc, NGX_DECLINED);

    /* a good file and no memory for its events: NGX_ERROR (retried) */
    unit_alloc_fail_after(0);
    rc = unit_spool_str(UNIT_SPOOL_HEAD "1\n2\nxy\n");
    unit_alloc_fail_after(-1);
    UNIT_EQ_UINT(rc, NGX_ERROR);

    /* the smallest events: three bytes each */
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "3\n0\n\n0\n\n0\n\n"),
                 NGX_OK);
    UNIT_EQ_UINT(unit_spool_str(UNIT_SPOOL_HEAD "3\n0\n\n0\n\n0\n"),
                 NGX_DECLINED);
}


void
unit_test_wec_spool(void)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, &unit_log);
    if (!UNIT_CHECK(pool != NULL)) {
        return;
    }

    unit_spool_good(pool);
    unit_spool_damaged(pool);

    ngx_destroy_pool(pool);
}
