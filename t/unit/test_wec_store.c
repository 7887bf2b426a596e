/*
 * The event collector's state stores (src/plugins/wec/ngx_wsman_wec_
 * sqlite.c and _postgresql.c) through their ngx_wsman_wec_store_type_t:
 * SQLite in a tmp dir always; PostgreSQL when WSMAN_TEST_PG holds a
 * conninfo (t/test_wec_store.py runs a real cluster and sets it, and
 * WSMAN_TEST_PG_STOP / WSMAN_TEST_PG_START, the commands that stop and
 * start it, and WSMAN_TEST_PG_PAUSE / _RESUME, that freeze and thaw it,
 * for the outage cases).  Prints what each 10,000-heartbeat flush took.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "unit.h"
#include "ngx_wsman_wec_sink.h"


void unit_test_wec_store(void);


/*
 * The core's configuration helpers the stores' configure() calls.  Weak:
 * the runtime (ngx_runtime.c) may well grow real ones for the other sink
 * groups, and then those win.
 */

__attribute__((weak)) ngx_int_t
ngx_conf_full_name(ngx_cycle_t *cycle, ngx_str_t *name, ngx_uint_t conf_prefix)
{
    u_char     *p;
    ngx_str_t  *prefix;

    if (name->len && name->data[0] == '/') {
        return NGX_OK;
    }

    prefix = conf_prefix ? &cycle->conf_prefix : &cycle->prefix;

    p = ngx_pnalloc(cycle->pool, prefix->len + name->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, prefix->data, prefix->len);
    ngx_memcpy(p + prefix->len, name->data, name->len);
    p[prefix->len + name->len] = '\0';

    name->data = p;
    name->len += prefix->len;

    return NGX_OK;
}


__attribute__((weak)) void ngx_cdecl
ngx_conf_log_error(ngx_uint_t level, ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   buf[NGX_MAX_CONF_ERRSTR], *p;
    va_list  args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    ngx_log_error(level, &unit_log, err, "conf: %s", buf);
}


/* ngx_core_module's conf is not looked at: unit_cycle has no conf_ctx */
__attribute__((weak)) ngx_module_t  ngx_core_module;


/* the directories configure() asked nginx to make (the last one) */
static ngx_uint_t  unit_paths;
static u_char      unit_path[256];


__attribute__((weak)) ngx_int_t
ngx_add_path(ngx_conf_t *cf, ngx_path_t **slot)
{
    unit_paths++;
    ngx_cpystrn(unit_path, (*slot)->name.data, sizeof(unit_path));

    return NGX_OK;
}


#define UNIT_SUB_MAX  128


typedef struct {
    ngx_wsman_wec_store_type_t  *type;
    const char                  *address;
    const char                  *label;
    char                         sub[UNIT_SUB_MAX];  /* unique per run */
} unit_store_case_t;


static ngx_cycle_t  unit_cycle;


static ngx_int_t
unit_store_init(ngx_wsman_wec_store_t *store, ngx_wsman_wec_store_type_t *type,
    const char *address, ngx_pool_t *pool)
{
    char        *rv;
    ngx_conf_t   cf;

    ngx_memzero(store, sizeof(ngx_wsman_wec_store_t));
    ngx_memzero(&cf, sizeof(ngx_conf_t));

    cf.pool = pool;
    cf.temp_pool = pool;
    cf.cycle = &unit_cycle;
    unit_cycle.pool = pool;
    cf.log = &unit_log;

    store->type = type;
    store->address.data = (u_char *) address;
    store->address.len = strlen(address);

    if (pthread_mutex_init(&store->lock, NULL) != 0) {
        return NGX_ERROR;
    }

    rv = type->configure(&cf, store, &store->address);

    return rv == NGX_CONF_OK ? NGX_OK : NGX_ERROR;
}


static void
unit_str(ngx_str_t *s, const char *text)
{
    s->data = (u_char *) text;
    s->len = strlen(text);
}


static ngx_int_t
unit_batch(ngx_wsman_wec_store_t *store, ngx_pool_t *pool, const char *sub,
    const char *source, const char *machine, const char *bookmark,
    time_t received, ngx_uint_t nevents)
{
    ngx_wsman_wec_batch_t  b;

    ngx_memzero(&b, sizeof(ngx_wsman_wec_batch_t));

    b.pool = pool;
    b.log = &unit_log;
    unit_str(&b.subscription, sub);
    unit_str(&b.source, source);
    unit_str(&b.machine, machine);
    unit_str(&b.bookmark, bookmark);
    b.received = received;
    b.nevents = nevents;

    return store->type->save_batch(store, &b);
}


/* the row of (sub, source) in list(), or NULL */
static ngx_wsman_wec_source_t *
unit_find(ngx_wsman_wec_store_t *store, ngx_pool_t *pool, const char *sub,
    const char *source)
{
    ngx_uint_t               i;
    ngx_array_t             *rows;
    ngx_wsman_wec_source_t  *r;

    rows = NULL;

    if (store->type->list(store, pool, &rows, &unit_log) != NGX_OK
        || rows == NULL)
    {
        return NULL;
    }

    r = rows->elts;

    for (i = 0; i < rows->nelts; i++) {
        if (r[i].subscription.len == strlen(sub)
            && ngx_memcmp(r[i].subscription.data, sub, strlen(sub)) == 0
            && r[i].source.len == strlen(source)
            && ngx_memcmp(r[i].source.data, source, strlen(source)) == 0)
        {
            return &r[i];
        }
    }

    return NULL;
}


static ngx_uint_t
unit_count(ngx_wsman_wec_store_t *store, ngx_pool_t *pool, const char *sub)
{
    ngx_uint_t               i, n;
    ngx_array_t             *rows;
    ngx_wsman_wec_source_t  *r;

    rows = NULL;

    if (store->type->list(store, pool, &rows, &unit_log) != NGX_OK
        || rows == NULL)
    {
        return (ngx_uint_t) -1;
    }

    r = rows->elts;
    n = 0;

    for (i = 0; i < rows->nelts; i++) {
        if (r[i].subscription.len == strlen(sub)
            && ngx_memcmp(r[i].subscription.data, sub, strlen(sub)) == 0)
        {
            n++;
        }
    }

    return n;
}


static double
unit_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}


/* save/load round trip, upserts, bookmarks kept, times never going back */
static void
unit_store_rows(unit_store_case_t *c, ngx_wsman_wec_store_t *store,
    ngx_pool_t *pool)
{
    ngx_str_t                sub, src, bm;
    ngx_wsman_wec_source_t  *r;

    UNIT_CHECK(unit_batch(store, pool, c->sub, "WIN10$@EXAMPLE.COM",
                          "win10.example.com",
                          "<BookmarkList><Bookmark Channel=\"Security\" "
                          "RecordId=\"42\"/></BookmarkList>", 1000, 3)
               == NGX_OK);

    unit_str(&sub, c->sub);
    unit_str(&src, "WIN10$@EXAMPLE.COM");

    UNIT_CHECK(store->type->load_bookmark(store, &sub, &src, pool, &bm,
                                          &unit_log)
               == NGX_OK);
    UNIT_EQ_STR(bm, "<BookmarkList><Bookmark Channel=\"Security\" "
                    "RecordId=\"42\"/></BookmarkList>");

    r = unit_find(store, pool, c->sub, "WIN10$@EXAMPLE.COM");
    if (!UNIT_CHECK(r != NULL)) {
        return;
    }

    UNIT_EQ_STR(r->machine, "win10.example.com");
    UNIT_EQ_UINT(r->first_seen, 1000);
    UNIT_EQ_UINT(r->last_seen, 1000);
    UNIT_EQ_UINT(r->last_event, 1000);
    UNIT_EQ_UINT(r->last_heartbeat, 0);
    UNIT_EQ_UINT(r->events, 3);

    /* the upsert: first_seen stays, the rest moves on */
    UNIT_CHECK(unit_batch(store, pool, c->sub, "WIN10$@EXAMPLE.COM",
                          "win10.example.com", "<BookmarkList>2"
                          "</BookmarkList>", 2000, 2)
               == NGX_OK);

    r = unit_find(store, pool, c->sub, "WIN10$@EXAMPLE.COM");
    if (!UNIT_CHECK(r != NULL)) {
        return;
    }

    UNIT_EQ_UINT(r->first_seen, 1000);
    UNIT_EQ_UINT(r->last_seen, 2000);
    UNIT_EQ_UINT(r->last_event, 2000);
    UNIT_EQ_UINT(r->events, 5);
    UNIT_EQ_STR(r->bookmark, "<BookmarkList>2</BookmarkList>");

    /* the same batch again (its Ack was lost): counted once */
    UNIT_CHECK(unit_batch(store, pool, c->sub, "WIN10$@EXAMPLE.COM",
                          "win10.example.com", "<BookmarkList>2"
                          "</BookmarkList>", 2100, 2)
               == NGX_OK);

    r = unit_find(store, pool, c->sub, "WIN10$@EXAMPLE.COM");
    if (!UNIT_CHECK(r != NULL)) {
        return;
    }

    UNIT_EQ_UINT(r->events, 5);
    UNIT_EQ_UINT(r->last_seen, 2100);

    /* a message without a bookmark nor events keeps both */
    UNIT_CHECK(unit_batch(store, pool, c->sub, "WIN10$@EXAMPLE.COM", "",
                          "", 3000, 0)
               == NGX_OK);

    /* a late writer (another worker's older batch) moves no time back */
    UNIT_CHECK(unit_batch(store, pool, c->sub, "WIN10$@EXAMPLE.COM",
                          "win10.example.com", "", 1500, 1)
               == NGX_OK);

    r = unit_find(store, pool, c->sub, "WIN10$@EXAMPLE.COM");
    if (!UNIT_CHECK(r != NULL)) {
        return;
    }

    UNIT_EQ_STR(r->bookmark, "<BookmarkList>2</BookmarkList>");
    UNIT_EQ_STR(r->machine, "win10.example.com");
    UNIT_EQ_UINT(r->first_seen, 1000);
    UNIT_EQ_UINT(r->last_seen, 3000);
    UNIT_EQ_UINT(r->last_event, 2100);
    UNIT_EQ_UINT(r->events, 6);

    /* an unknown source: no bookmark, no error */
    unit_str(&src, "NOBODY$");
    bm.len = 99;

    UNIT_CHECK(store->type->load_bookmark(store, &sub, &src, pool, &bm,
                                          &unit_log)
               == NGX_OK);
    UNIT_EQ_UINT(bm.len, 0);
}


/* names that would break SQL built by hand, and UTF-8, survive; what is
 * not UTF-8 is refused (batch) or skipped (heartbeats) */
static void
unit_store_names(unit_store_case_t *c, ngx_wsman_wec_store_t *store,
    ngx_pool_t *pool)
{
    char                     evil_sub[UNIT_SUB_MAX + 64];
    ngx_str_t                sub, src, bm;
    ngx_wsman_wec_source_t   rows[3];
    ngx_wsman_wec_source_t  *r;

    static const char  evil_src[] =
        "O'Brien \"PC\"; DROP TABLE wec_sources; -- J\xc3\xbcrgen "
        "\xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x92\xbb $1 ?1 %s";
    static const char  evil_bm[] =
        "<BookmarkList Direction='backward'><Bookmark Channel=\"O'Brien\" "
        "RecordId=\"1\"/>\\'; --</BookmarkList>";

    ngx_sprintf((u_char *) evil_sub, "%s-'quoted\"', \xc3\xa9t\xc3\xa9%Z",
                c->sub);

    UNIT_CHECK(unit_batch(store, pool, evil_sub, evil_src,
                          "pc.\xc3\xa9xample.com", evil_bm, 5000, 1)
               == NGX_OK);

    unit_str(&sub, evil_sub);
    unit_str(&src, evil_src);

    UNIT_CHECK(store->type->load_bookmark(store, &sub, &src, pool, &bm,
                                          &unit_log)
               == NGX_OK);
    UNIT_EQ_STR(bm, evil_bm);

    r = unit_find(store, pool, evil_sub, evil_src);
    if (UNIT_CHECK(r != NULL)) {
        UNIT_EQ_STR(r->machine, "pc.\xc3\xa9xample.com");
        UNIT_EQ_UINT(r->events, 1);
    }

    /* the table is still there, and so are the other rows */
    UNIT_CHECK(unit_find(store, pool, c->sub, "WIN10$@EXAMPLE.COM") != NULL);

    /* not UTF-8 (a lone continuation byte, an overlong '/', a surrogate,
     * a NUL): refused, with a log line */
    unit_log_reset();
    UNIT_CHECK(unit_batch(store, pool, c->sub, "BAD\x80NAME", "", "", 5000,
                          1)
               == NGX_ERROR);
    UNIT_CHECK(unit_log_contains("not UTF-8"));
    UNIT_CHECK(unit_batch(store, pool, c->sub, "BAD\xc0\xafNAME", "", "",
                          5000, 1)
               == NGX_ERROR);
    UNIT_CHECK(unit_batch(store, pool, c->sub, "BAD\xed\xa0\x80NAME", "",
                          "", 5000, 1)
               == NGX_ERROR);

    {
        ngx_wsman_wec_batch_t  b;

        ngx_memzero(&b, sizeof(ngx_wsman_wec_batch_t));
        b.pool = pool;
        b.log = &unit_log;
        unit_str(&b.subscription, c->sub);
        b.source.data = (u_char *) "NUL\0NAME";
        b.source.len = 8;
        b.received = 5000;

        UNIT_CHECK(store->type->save_batch(store, &b) == NGX_ERROR);
    }

    /* one bad row among good ones: only it is left out */
    ngx_memzero(rows, sizeof(rows));

    unit_str(&rows[0].subscription, c->sub);
    unit_str(&rows[0].source, "GOOD-1$");
    rows[0].last_seen = 6000;
    rows[0].last_heartbeat = 6000;

    unit_str(&rows[1].subscription, c->sub);
    unit_str(&rows[1].source, "BAD\xff$");
    rows[1].last_seen = 6000;
    rows[1].last_heartbeat = 6000;

    unit_str(&rows[2].subscription, c->sub);
    unit_str(&rows[2].source, "GOOD-2$");
    rows[2].last_seen = 6000;
    rows[2].last_heartbeat = 6000;

    unit_log_reset();
    UNIT_CHECK(store->type->save_heartbeats(store, rows, 3, &unit_log)
               == NGX_OK);
    UNIT_CHECK(unit_log_contains("skipped"));
    UNIT_CHECK(unit_find(store, pool, c->sub, "GOOD-1$") != NULL);
    UNIT_CHECK(unit_find(store, pool, c->sub, "GOOD-2$") != NULL);
    UNIT_CHECK(unit_find(store, pool, c->sub, "BAD\xff$") == NULL);
}


/* many sources in one call: new rows made, known ones updated */
static void
unit_store_heartbeats(unit_store_case_t *c, ngx_wsman_wec_store_t *store,
    ngx_pool_t *pool)
{
    ngx_wsman_wec_source_t   rows[4];
    ngx_wsman_wec_source_t  *r;

    ngx_memzero(rows, sizeof(rows));

    unit_str(&rows[0].subscription, c->sub);
    unit_str(&rows[0].source, "WIN10$@EXAMPLE.COM");
    rows[0].last_seen = 7000;
    rows[0].last_heartbeat = 7000;

    unit_str(&rows[1].subscription, c->sub);
    unit_str(&rows[1].source, "HB-NEW-1$");
    unit_str(&rows[1].machine, "hb1.example.com");
    rows[1].last_seen = 7100;
    rows[1].last_heartbeat = 7100;

    /* a SubscriptionEnd: seen, no heartbeat */
    unit_str(&rows[2].subscription, c->sub);
    unit_str(&rows[2].source, "HB-NEW-2$");
    rows[2].last_seen = 7200;

    /* the same source twice in one flush */
    unit_str(&rows[3].subscription, c->sub);
    unit_str(&rows[3].source, "HB-NEW-1$");
    rows[3].last_seen = 7300;
    rows[3].last_heartbeat = 7300;

    UNIT_CHECK(store->type->save_heartbeats(store, rows, 4, &unit_log)
               == NGX_OK);
    UNIT_CHECK(store->type->save_heartbeats(store, rows, 0, &unit_log)
               == NGX_OK);

    r = unit_find(store, pool, c->sub, "WIN10$@EXAMPLE.COM");
    if (UNIT_CHECK(r != NULL)) {
        UNIT_EQ_UINT(r->first_seen, 1000);
        UNIT_EQ_UINT(r->last_seen, 7000);
        UNIT_EQ_UINT(r->last_heartbeat, 7000);
        UNIT_EQ_UINT(r->last_event, 2100);
        UNIT_EQ_UINT(r->events, 6);
        UNIT_EQ_STR(r->bookmark, "<BookmarkList>2</BookmarkList>");
        UNIT_EQ_STR(r->machine, "win10.example.com");
    }

    r = unit_find(store, pool, c->sub, "HB-NEW-1$");
    if (UNIT_CHECK(r != NULL)) {
        UNIT_EQ_UINT(r->first_seen, 7100);
        UNIT_EQ_UINT(r->last_seen, 7300);
        UNIT_EQ_UINT(r->last_heartbeat, 7300);
        UNIT_EQ_UINT(r->events, 0);
        UNIT_EQ_UINT(r->bookmark.len, 0);
        UNIT_EQ_STR(r->machine, "hb1.example.com");
    }

    r = unit_find(store, pool, c->sub, "HB-NEW-2$");
    if (UNIT_CHECK(r != NULL)) {
        UNIT_EQ_UINT(r->first_seen, 7200);
        UNIT_EQ_UINT(r->last_seen, 7200);
        UNIT_EQ_UINT(r->last_heartbeat, 0);
    }

    /* an older heartbeat (a late flush of another worker) moves nothing
     * back */
    rows[0].last_seen = 6500;
    rows[0].last_heartbeat = 6500;

    UNIT_CHECK(store->type->save_heartbeats(store, rows, 1, &unit_log)
               == NGX_OK);

    r = unit_find(store, pool, c->sub, "WIN10$@EXAMPLE.COM");
    if (UNIT_CHECK(r != NULL)) {
        UNIT_EQ_UINT(r->last_seen, 7000);
        UNIT_EQ_UINT(r->last_heartbeat, 7000);
    }
}


/* two threads of one worker (one connection, store->lock), and two
 * workers (a store each, as after fork) at once on the same rows */

#define UNIT_THREAD_BATCHES  40
#define UNIT_THREAD_ROWS     200

typedef struct {
    ngx_wsman_wec_store_t       *store;
    const char                  *sub;
    ngx_uint_t                   id;
    ngx_uint_t                   failed;
} unit_thread_t;


static void *
unit_store_thread(void *data)
{
    unit_thread_t  *t = data;

    char                     src[32], sub[UNIT_SUB_MAX + 8], bm[64];
    ngx_log_t                log;
    ngx_uint_t               i, k;
    ngx_pool_t              *pool;
    ngx_wsman_wec_source_t  *rows;
    ngx_wsman_wec_batch_t    b;

    log = unit_log;
    log.log_level = NGX_LOG_ERR;

    pool = ngx_create_pool(4096, &log);
    rows = calloc(UNIT_THREAD_ROWS, sizeof(ngx_wsman_wec_source_t));

    if (pool == NULL || rows == NULL) {
        t->failed++;
        goto done;
    }

    ngx_sprintf((u_char *) sub, "%s-mt%Z", t->sub);
    ngx_sprintf((u_char *) src, "SRC-%ui$%Z", t->id);

    for (i = 0; i < UNIT_THREAD_BATCHES; i++) {
        ngx_memzero(&b, sizeof(ngx_wsman_wec_batch_t));

        b.pool = pool;
        b.log = &log;
        unit_str(&b.subscription, sub);
        /* every thread on one shared row, and on a row of its own */
        unit_str(&b.source, (i % 2) ? "SHARED$" : src);
        /* every batch moves the bookmark on */
        ngx_sprintf((u_char *) bm, "<BookmarkList t='%ui' i='%ui'/>%Z",
                    t->id, i);
        unit_str(&b.bookmark, bm);
        b.received = 10000 + i;
        b.nevents = 1;

        if (t->store->type->save_batch(t->store, &b) != NGX_OK) {
            t->failed++;
        }

        /* overlapping heartbeat flushes, in opposite orders */
        if (i % 10 == 0) {
            for (k = 0; k < UNIT_THREAD_ROWS; k++) {
                unit_str(&rows[k].subscription, sub);
                rows[k].source.data = ngx_pnalloc(pool, 16);
                if (rows[k].source.data == NULL) {
                    t->failed++;
                    goto done;
                }

                rows[k].source.len = ngx_sprintf(rows[k].source.data,
                                                 "HB-%04ui$",
                                                 (t->id % 2)
                                                 ? k
                                                 : UNIT_THREAD_ROWS - 1 - k)
                                     - rows[k].source.data;
                rows[k].last_seen = 10000 + i;
                rows[k].last_heartbeat = 10000 + i;
            }

            if (t->store->type->save_heartbeats(t->store, rows,
                                                UNIT_THREAD_ROWS, &log)
                != NGX_OK)
            {
                t->failed++;
            }
        }
    }

done:

    free(rows);

    if (pool) {
        ngx_destroy_pool(pool);
    }

    return NULL;
}


static void
unit_store_threads(unit_store_case_t *c, ngx_wsman_wec_store_t *store,
    ngx_pool_t *pool)
{
    char                     sub[UNIT_SUB_MAX + 8];
    ngx_uint_t               i;
    pthread_t                tid[4];
    unit_thread_t            t[4];
    ngx_wsman_wec_store_t    other;
    ngx_wsman_wec_source_t  *r;

    if (!UNIT_CHECK(unit_store_init(&other, c->type, c->address, pool)
                    == NGX_OK))
    {
        return;
    }

    for (i = 0; i < 4; i++) {
        t[i].store = (i < 2) ? store : &other;
        t[i].sub = c->sub;
        t[i].id = i;
        t[i].failed = 0;

        if (pthread_create(&tid[i], NULL, unit_store_thread, &t[i]) != 0) {
            t[i].store = NULL;
        }
    }

    for (i = 0; i < 4; i++) {
        if (UNIT_CHECK(t[i].store != NULL)) {
            pthread_join(tid[i], NULL);
            UNIT_EQ_UINT(t[i].failed, 0);
        }
    }

    other.type->close(&other);
    UNIT_CHECK(other.state == NULL);
    pthread_mutex_destroy(&other.lock);

    ngx_sprintf((u_char *) sub, "%s-mt%Z", c->sub);

    r = unit_find(store, pool, sub, "SHARED$");
    if (UNIT_CHECK(r != NULL)) {
        UNIT_EQ_UINT(r->events, 4 * UNIT_THREAD_BATCHES / 2);
        UNIT_EQ_UINT(r->last_seen, 10000 + UNIT_THREAD_BATCHES - 1);
    }

    r = unit_find(store, pool, sub, "SRC-3$");
    if (UNIT_CHECK(r != NULL)) {
        UNIT_EQ_UINT(r->events, UNIT_THREAD_BATCHES / 2);
    }

    /* 4 own rows, the shared one, the heartbeats' */
    UNIT_EQ_UINT(unit_count(store, pool, sub), 4 + 1 + UNIT_THREAD_ROWS);

    r = unit_find(store, pool, sub, "HB-0007$");
    if (UNIT_CHECK(r != NULL)) {
        UNIT_EQ_UINT(r->last_heartbeat, 10000 + 30);
    }
}


/* 10,000 sources' heartbeats in one flush: new rows, then updates */
static void
unit_store_bench(unit_store_case_t *c, ngx_wsman_wec_store_t *store,
    ngx_pool_t *pool)
{
    char                    sub[UNIT_SUB_MAX + 8];
    double                  t0, insert_ms, update_ms;
    ngx_uint_t              k, n;
    ngx_wsman_wec_source_t *rows;

    n = 10000;

    rows = ngx_pcalloc(pool, n * sizeof(ngx_wsman_wec_source_t));
    if (!UNIT_CHECK(rows != NULL)) {
        return;
    }

    ngx_sprintf((u_char *) sub, "%s-bench%Z", c->sub);

    for (k = 0; k < n; k++) {
        unit_str(&rows[k].subscription, sub);
        rows[k].source.data = ngx_pnalloc(pool, 32);
        rows[k].machine.data = ngx_pnalloc(pool, 48);
        if (rows[k].source.data == NULL || rows[k].machine.data == NULL) {
            UNIT_CHECK(0);
            return;
        }

        rows[k].source.len = ngx_sprintf(rows[k].source.data,
                                         "WS%05ui$@CORP.EXAMPLE", k)
                             - rows[k].source.data;
        rows[k].machine.len = ngx_sprintf(rows[k].machine.data,
                                          "ws%05ui.corp.example.com", k)
                              - rows[k].machine.data;
        rows[k].last_seen = 20000;
        rows[k].last_heartbeat = 20000;
    }

    t0 = unit_ms();
    UNIT_CHECK(store->type->save_heartbeats(store, rows, n, &unit_log)
               == NGX_OK);
    insert_ms = unit_ms() - t0;

    for (k = 0; k < n; k++) {
        rows[k].last_seen = 20900;
        rows[k].last_heartbeat = 20900;
    }

    t0 = unit_ms();
    UNIT_CHECK(store->type->save_heartbeats(store, rows, n, &unit_log)
               == NGX_OK);
    update_ms = unit_ms() - t0;

    UNIT_EQ_UINT(unit_count(store, pool, sub), n);

    printf("wec_store: %s: 10000 heartbeats in one flush: %.1f ms new "
           "rows, %.1f ms updates\n", c->label, insert_ms, update_ms);
}


static void
unit_store_suite(unit_store_case_t *c)
{
    ngx_pool_t             *pool;
    ngx_wsman_wec_store_t   store;

    pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(pool != NULL)) {
        return;
    }

    if (!UNIT_CHECK(unit_store_init(&store, c->type, c->address, pool)
                    == NGX_OK))
    {
        ngx_destroy_pool(pool);
        return;
    }

    /* nginx -t connects to nothing */
    UNIT_CHECK(store.state == NULL);

    unit_store_rows(c, &store, pool);
    UNIT_CHECK(store.state != NULL);

    unit_store_names(c, &store, pool);
    unit_store_heartbeats(c, &store, pool);

    /* the worker's exit, then a fresh connection on the next call */
    store.type->close(&store);
    UNIT_CHECK(store.state == NULL);
    store.type->close(&store);
    UNIT_CHECK(unit_find(&store, pool, c->sub, "HB-NEW-1$") != NULL);

    unit_store_threads(c, &store, pool);
    unit_store_bench(c, &store, pool);

    store.type->close(&store);
    pthread_mutex_destroy(&store.lock);

    ngx_destroy_pool(pool);
}


/*
 * save_batch() on a file this process may only read: 0 when it failed
 * with the log line it should.  As root (which may write anything), in a
 * child that becomes nobody first, the way workers run as www-data.
 */
static ngx_uint_t
unit_store_readonly(ngx_wsman_wec_store_t *store, ngx_pool_t *pool,
    char *dir, char *path)
{
    int    status;
    pid_t  pid;

    if (chmod(path, 0644) != 0) {
        return 10;
    }

    if (geteuid() != 0) {
        if (chmod(path, 0444) != 0) {
            return 11;
        }

        unit_log_reset();
        status = (unit_batch(store, pool, "s", "WIN$", "", "", 1, 1)
                  == NGX_ERROR && unit_log_contains("not writable")
                  && store->state == NULL) ? 0 : 12;

        (void) chmod(path, 0644);

        return status;
    }

    /* mkdtemp() made it 0700 */
    if (chmod(dir, 0755) != 0) {
        return 18;
    }

    pid = fork();

    if (pid == -1) {
        return 13;
    }

    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) {
            _exit(14);
        }

        unit_log_reset();

        if (unit_batch(store, pool, "s", "WIN$", "", "", 1, 1) != NGX_ERROR)
        {
            _exit(15);
        }

        _exit((unit_log_contains("not writable") && store->state == NULL)
              ? 0 : 16);
    }

    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return 17;
    }

    return WEXITSTATUS(status);
}


static void
unit_store_sqlite(char *dir)
{
    char                    path[256], rel[64];
    ngx_pool_t             *pool;
    unit_store_case_t       c;
    ngx_wsman_wec_store_t   store;

    ngx_sprintf((u_char *) path, "%s/state.db%Z", dir);

    ngx_memzero(&c, sizeof(unit_store_case_t));
    c.type = &ngx_wsman_wec_sqlite_store;
    c.address = path;
    c.label = "sqlite";
    ngx_sprintf((u_char *) c.sub, "sub-%L%Z", (int64_t) getpid());

    unit_store_suite(&c);

    /* WAL is a property of the file: every worker gets it */
    {
        sqlite3       *db;
        sqlite3_stmt  *stmt;

        ngx_sprintf((u_char *) path, "%s/state.db%Z", dir);

        if (UNIT_CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
                                       NULL)
                       == SQLITE_OK))
        {
            if (UNIT_CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
                                              &stmt, NULL)
                           == SQLITE_OK))
            {
                UNIT_CHECK(sqlite3_step(stmt) == SQLITE_ROW);
                UNIT_EQ_CSTR(sqlite3_column_text(stmt, 0), "wal");
                sqlite3_finalize(stmt);
            }
        }

        sqlite3_close(db);
    }

    pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(pool != NULL)) {
        return;
    }

    /* a relative name is under the prefix (the default "wec/state.db");
     * a directory that is not there is left to nginx to make (for the
     * workers' user), one that is there is not touched */
    ngx_sprintf((u_char *) path, "%s/%Z", dir);
    unit_cycle.prefix.data = (u_char *) path;
    unit_cycle.prefix.len = strlen(path);
    ngx_memcpy(rel, "wec/state.db", sizeof("wec/state.db"));
    unit_paths = 0;

    if (UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_sqlite_store, rel,
                                   pool)
                   == NGX_OK))
    {
        UNIT_EQ_UINT(unit_paths, 1);
        UNIT_CHECK(ngx_strncmp(unit_path, dir, strlen(dir)) == 0);
        UNIT_EQ_CSTR(unit_path + strlen(dir), "/wec");

        /* nginx's master makes it */
        ngx_sprintf((u_char *) path, "%s/wec%Z", dir);
        UNIT_CHECK(mkdir(path, 0700) == 0);

        UNIT_CHECK(unit_batch(&store, pool, "s", "WIN$", "", "", 1, 1)
                   == NGX_OK);
        store.type->close(&store);

        ngx_sprintf((u_char *) path, "%s/wec/state.db%Z", dir);
        UNIT_CHECK(access(path, F_OK) == 0);
    }

    ngx_sprintf((u_char *) path, "%s/wec/state.db%Z", dir);
    unit_paths = 0;
    UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_sqlite_store, path,
                               pool)
               == NGX_OK);
    UNIT_EQ_UINT(unit_paths, 0);
    UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_sqlite_store,
                               "/state.db", pool)
               == NGX_OK);
    UNIT_EQ_UINT(unit_paths, 0);

    /* nginx -t: no path */
    UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_sqlite_store, "",
                               pool)
               == NGX_ERROR);

    /* a file the worker cannot make: NGX_ERROR and why, every time */
    ngx_sprintf((u_char *) path, "%s/no/such/dir/state.db%Z", dir);

    if (UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_sqlite_store, path,
                                   pool)
                   == NGX_OK))
    {
        unit_log_reset();
        UNIT_CHECK(unit_batch(&store, pool, "s", "WIN$", "", "", 1, 1)
                   == NGX_ERROR);
        UNIT_CHECK(unit_log_contains("cannot open"));
        UNIT_CHECK(unit_log_contains("/no/such/dir/state.db"));
        UNIT_CHECK(store.state == NULL);
        UNIT_CHECK(unit_batch(&store, pool, "s", "WIN$", "", "", 1, 1)
                   == NGX_ERROR);
    }

    /* a file the workers' user may not write: SQLite would open it
     * read-only without a word */
    ngx_sprintf((u_char *) path, "%s/state.db%Z", dir);

    if (UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_sqlite_store, path,
                                   pool)
                   == NGX_OK))
    {
        UNIT_EQ_UINT(unit_store_readonly(&store, pool, dir, path), 0);
    }

    /* a directory where the file should be */
    ngx_sprintf((u_char *) path, "%s%Z", dir);

    if (UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_sqlite_store, path,
                                   pool)
                   == NGX_OK))
    {
        unit_log_reset();
        UNIT_CHECK(unit_batch(&store, pool, "s", "WIN$", "", "", 1, 1)
                   == NGX_ERROR);
        UNIT_CHECK(unit_log_contains("wsman wec store"));
        UNIT_CHECK(store.state == NULL);
    }

    /* not a database: the tables cannot be made */
    ngx_sprintf((u_char *) path, "%s/garbage.db%Z", dir);
    {
        FILE  *f;

        f = fopen(path, "w");
        if (UNIT_CHECK(f != NULL)) {
            fputs("this is not an SQLite database, not at all, no.......\n",
                  f);
            fclose(f);
        }
    }

    if (UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_sqlite_store, path,
                                   pool)
                   == NGX_OK))
    {
        unit_log_reset();
        UNIT_CHECK(unit_batch(&store, pool, "s", "WIN$", "", "", 1, 1)
                   == NGX_ERROR);
        UNIT_CHECK(unit_log_contains("wsman wec store"));
        UNIT_CHECK(store.state == NULL);
    }

    ngx_memzero(&unit_cycle, sizeof(ngx_cycle_t));
    ngx_destroy_pool(pool);
}


/* a listener that never answers: the connection must give up in time */
static void
unit_store_pg_silent(void)
{
    int                     fd;
    char                    conninfo[128];
    double                  t0, took;
    socklen_t               len;
    ngx_pool_t             *pool;
    struct sockaddr_in      sin;
    ngx_wsman_wec_store_t   store;

    pool = ngx_create_pool(4096, &unit_log);
    fd = socket(AF_INET, SOCK_STREAM, 0);

    if (!UNIT_CHECK(pool != NULL && fd >= 0)) {
        return;
    }

    ngx_memzero(&sin, sizeof(struct sockaddr_in));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(struct sockaddr_in);

    if (!UNIT_CHECK(bind(fd, (struct sockaddr *) &sin, len) == 0
                    && listen(fd, 8) == 0
                    && getsockname(fd, (struct sockaddr *) &sin, &len) == 0))
    {
        close(fd);
        ngx_destroy_pool(pool);
        return;
    }

    ngx_sprintf((u_char *) conninfo,
                "host=127.0.0.1 port=%d dbname=x user=x sslmode=disable "
                "gssencmode=disable connect_timeout=1%Z", ntohs(sin.sin_port));

    if (UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_postgresql_store,
                                   conninfo, pool)
                   == NGX_OK))
    {
        unit_log_reset();
        t0 = unit_ms();
        UNIT_CHECK(unit_batch(&store, pool, "s", "WIN$", "", "", 1, 1)
                   == NGX_ERROR);
        took = unit_ms() - t0;

        UNIT_CHECK(took < 5000);
        UNIT_CHECK(unit_log_contains("cannot connect"));
        /* the conninfo's password never reaches the log */
        UNIT_CHECK(unit_log_contains("postgresql://127.0.0.1:"));
        UNIT_CHECK(store.state == NULL);
        pthread_mutex_destroy(&store.lock);
    }

    close(fd);

    /* nginx -t: libpq's parser says what is wrong; no timeout of 0 */
    UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_postgresql_store,
                               "host=x port", pool)
               == NGX_ERROR);
    UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_postgresql_store,
                               "host=x nosuchoption=1", pool)
               == NGX_ERROR);
    UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_postgresql_store,
                               "host=x connect_timeout=0", pool)
               == NGX_ERROR);
    UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_postgresql_store,
                               "postgresql://u:secret@localhost/db", pool)
               == NGX_OK);

    ngx_destroy_pool(pool);
}


/* the server goes away: NGX_ERROR logged; back again: a new connection */
static void
unit_store_pg_outage(const char *conninfo, const char *stop,
    const char *start)
{
    ngx_pool_t             *pool;
    ngx_wsman_wec_store_t   store;
    ngx_wsman_wec_source_t  row, *r;

    pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(pool != NULL)) {
        return;
    }

    if (!UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_postgresql_store,
                                    conninfo, pool)
                    == NGX_OK))
    {
        ngx_destroy_pool(pool);
        return;
    }

    UNIT_CHECK(unit_batch(&store, pool, "outage", "WIN$", "", "<B1/>",
                          100, 1)
               == NGX_OK);
    UNIT_CHECK(store.state != NULL);

    /* another node (a store of its own) sees it at once */
    {
        ngx_str_t               sub, src, bm;
        ngx_wsman_wec_store_t   node2;

        unit_str(&sub, "outage");
        unit_str(&src, "WIN$");

        if (UNIT_CHECK(unit_store_init(&node2,
                                       &ngx_wsman_wec_postgresql_store,
                                       conninfo, pool)
                       == NGX_OK))
        {
            UNIT_CHECK(node2.type->load_bookmark(&node2, &sub, &src, pool,
                                                 &bm, &unit_log)
                       == NGX_OK);
            UNIT_EQ_STR(bm, "<B1/>");
            node2.type->close(&node2);
            pthread_mutex_destroy(&node2.lock);
        }
    }

    UNIT_CHECK(system(stop) == 0);

    unit_log_reset();
    UNIT_CHECK(unit_batch(&store, pool, "outage", "WIN$", "", "<B2/>",
                          200, 1)
               == NGX_ERROR);
    UNIT_CHECK(unit_log_contains("wsman wec store"));
    UNIT_CHECK(store.state == NULL);

    /* down: every call fails quickly, none hangs */
    ngx_memzero(&row, sizeof(row));
    unit_str(&row.subscription, "outage");
    unit_str(&row.source, "WIN$");
    row.last_seen = 300;
    row.last_heartbeat = 300;

    UNIT_CHECK(store.type->save_heartbeats(&store, &row, 1, &unit_log)
               == NGX_ERROR);
    UNIT_CHECK(unit_find(&store, pool, "outage", "WIN$") == NULL);

    UNIT_CHECK(system(start) == 0);

    /* what was committed before the crash is there after it */
    {
        ngx_str_t  sub, src, bm;

        unit_str(&sub, "outage");
        unit_str(&src, "WIN$");

        UNIT_CHECK(store.type->load_bookmark(&store, &sub, &src, pool, &bm,
                                             &unit_log)
                   == NGX_OK);
        UNIT_EQ_STR(bm, "<B1/>");
    }

    /* the retried batch */
    UNIT_CHECK(unit_batch(&store, pool, "outage", "WIN$", "", "<B2/>",
                          200, 1)
               == NGX_OK);
    UNIT_CHECK(store.type->save_heartbeats(&store, &row, 1, &unit_log)
               == NGX_OK);

    r = unit_find(&store, pool, "outage", "WIN$");
    if (UNIT_CHECK(r != NULL)) {
        UNIT_EQ_STR(r->bookmark, "<B2/>");
        UNIT_EQ_UINT(r->last_heartbeat, 300);
    }

    store.type->close(&store);
    pthread_mutex_destroy(&store.lock);
    ngx_destroy_pool(pool);
}


/* the server stops answering on a connection that is up (SIGSTOP): the
 * statement gives up after 3 x connect_timeout, the next call reconnects */
static void
unit_store_pg_hang(const char *conninfo, const char *pause,
    const char *resume)
{
    char                   *ci;
    size_t                  len;
    double                  t0, took;
    ngx_pool_t             *pool;
    ngx_wsman_wec_store_t   store;

    pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(pool != NULL)) {
        return;
    }

    /* the conninfo's last word wins */
    len = strlen(conninfo) + sizeof(" connect_timeout=1");
    ci = ngx_pnalloc(pool, len);
    if (!UNIT_CHECK(ci != NULL)) {
        ngx_destroy_pool(pool);
        return;
    }

    ngx_sprintf((u_char *) ci, "%s connect_timeout=1%Z", conninfo);

    if (!UNIT_CHECK(unit_store_init(&store, &ngx_wsman_wec_postgresql_store,
                                    ci, pool)
                    == NGX_OK))
    {
        ngx_destroy_pool(pool);
        return;
    }

    UNIT_CHECK(unit_batch(&store, pool, "hang", "WIN$", "", "<H1/>", 100, 1)
               == NGX_OK);

    UNIT_CHECK(system(pause) == 0);

    unit_log_reset();
    t0 = unit_ms();
    UNIT_CHECK(unit_batch(&store, pool, "hang", "WIN$", "", "<H2/>", 200, 1)
               == NGX_ERROR);
    took = unit_ms() - t0;

    UNIT_CHECK(system(resume) == 0);

    UNIT_CHECK(took >= 2500 && took < 6000);
    UNIT_CHECK(unit_log_contains("timed out after 3000 ms"));
    UNIT_CHECK(store.state == NULL);

    UNIT_CHECK(unit_batch(&store, pool, "hang", "WIN$", "", "<H2/>", 200, 1)
               == NGX_OK);
    UNIT_CHECK(store.state != NULL);

    printf("wec_store: postgresql: a hung server cost %.0f ms\n", took);

    store.type->close(&store);
    pthread_mutex_destroy(&store.lock);
    ngx_destroy_pool(pool);
}


void
unit_test_wec_store(void)
{
    char               dir[] = "/tmp/wsman-wec-store-XXXXXX";
    char               cmd[sizeof(dir) + 16];
    const char        *pg, *stop, *start;
    unit_store_case_t  c;

    if (!UNIT_CHECK(mkdtemp(dir) != NULL)) {
        return;
    }

    unit_store_sqlite(dir);

    ngx_sprintf((u_char *) cmd, "rm -rf '%s'%Z", dir);
    UNIT_CHECK(system(cmd) == 0);

    unit_store_pg_silent();

    pg = getenv("WSMAN_TEST_PG");

    if (pg == NULL || pg[0] == '\0') {
        printf("wec_store: WSMAN_TEST_PG (a conninfo) is not set: the "
               "PostgreSQL store is not tested against a server "
               "(t/test_wec_store.py runs one)\n");
        return;
    }

    ngx_memzero(&c, sizeof(unit_store_case_t));
    c.type = &ngx_wsman_wec_postgresql_store;
    c.address = pg;
    c.label = "postgresql";
    /* the cluster outlives a run: names of this run only */
    ngx_sprintf((u_char *) c.sub, "sub-%L-%L%Z", (int64_t) getpid(),
                (int64_t) time(NULL));

    unit_store_suite(&c);

    stop = getenv("WSMAN_TEST_PG_STOP");
    start = getenv("WSMAN_TEST_PG_START");

    if (stop && start) {
        unit_store_pg_outage(pg, stop, start);

    } else {
        printf("wec_store: WSMAN_TEST_PG_STOP/START are not set: the "
               "outage case is skipped\n");
    }

    stop = getenv("WSMAN_TEST_PG_PAUSE");
    start = getenv("WSMAN_TEST_PG_RESUME");

    if (stop && start) {
        unit_store_pg_hang(pg, stop, start);

    } else {
        printf("wec_store: WSMAN_TEST_PG_PAUSE/RESUME are not set: the "
               "hung server case is skipped\n");
    }
}
