/*
 * The collector's side of each worker:
 *
 * - the sources heard of since the last flush (heartbeats, empty
 *   batches, SubscriptionEnd), kept in a tree and written to the state
 *   store in ONE transaction every wsman_wec_heartbeat_flush by a pool
 *   thread: ten thousand sources heartbeating cost the store one write a
 *   few seconds, not ten thousand (OpenWEC's database became its
 *   bottleneck so);
 * - the counters behind the metrics, in a shared zone every worker adds
 *   to (atomics: pool threads add too);
 * - the metrics as JSON: the counters, plus every source the store knows
 *   of (active, alive, silent), read in a pool thread.
 */

#include "ngx_wsman_wec.h"
#include "ngx_wsman_wec_event.h"

/* after nginx's headers: they set the feature macros glibc reads */
#include <malloc.h>


/* see ngx_wsman_wec_init_worker() */
#define NGX_WSMAN_WEC_MMAP_MIN    (8 * 1024 * 1024)
#define NGX_WSMAN_WEC_KEEP_HEAP   (32 * 1024 * 1024)


/* per subscription, in the shared zone */
typedef struct {
    ngx_atomic_t               batches;      /* acknowledged */
    ngx_atomic_t               events;
    ngx_atomic_t               bytes;
    ngx_atomic_t               malformed;
    ngx_atomic_t               not_acked;    /* batches answered with a
                                                fault: sent again later */
    ngx_atomic_t               heartbeats;
    ngx_atomic_t               last_event;
} ngx_wsman_wec_sub_counters_t;


typedef struct {
    ngx_atomic_t               batches;
    ngx_atomic_t               spooled;
    ngx_atomic_t               failures;
    ngx_atomic_t               last_ok;
    ngx_atomic_t               last_failure;
    ngx_atomic_t               down_since;   /* the first failure after
                                                the last success, or 0 */
} ngx_wsman_wec_out_counters_t;


typedef struct {
    uint32_t                   layout;       /* crc32 of the names */
    ngx_uint_t                 nsubs;
    /* then per subscription its counters, then its outputs' */
} ngx_wsman_wec_counters_t;


typedef struct {
    ngx_rbtree_node_t          node;         /* key: crc32 */
    ngx_wsman_wec_source_t     row;          /* strings malloc'ed after */
} ngx_wsman_wec_heard_t;


typedef struct {
    ngx_pool_t                *pool;
    ngx_wsman_wec_source_t    *rows;
    ngx_uint_t                 n;
    ngx_wsman_wec_store_t     *store;
    ngx_int_t                  rc;
} ngx_wsman_wec_flush_task_t;


typedef struct {
    ngx_pool_t                *pool;
    ngx_log_t                 *log;
    ngx_wsman_wec_store_t     *store;
    ngx_array_t               *rows;
    ngx_int_t                  rc;
    ngx_wsman_wec_metrics_pt   done;
    void                      *data;
} ngx_wsman_wec_metrics_task_t;


static ngx_int_t ngx_wsman_wec_counters_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_wsman_wec_sub_counters_t *ngx_wsman_wec_sub_counters(
    ngx_wsman_wec_sub_t *sub, ngx_wsman_wec_out_counters_t **outs);
static void ngx_wsman_wec_heard_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_wsman_wec_flush(ngx_event_t *ev);
static void ngx_wsman_wec_flush_run(void *data, ngx_log_t *log);
static void ngx_wsman_wec_flush_done(ngx_event_t *ev);
static void ngx_wsman_wec_metrics_run(void *data, ngx_log_t *log);
static void ngx_wsman_wec_metrics_done(ngx_event_t *ev);


static ngx_rbtree_t          ngx_wsman_wec_heard;
static ngx_rbtree_node_t     ngx_wsman_wec_heard_sentinel;
static ngx_uint_t            ngx_wsman_wec_nheard;
static ngx_event_t           ngx_wsman_wec_flush_event;
static ngx_uint_t            ngx_wsman_wec_flushing;
static ngx_wsman_wec_main_conf_t  *ngx_wsman_wec_wmcf;


/* --- the shared counters --- */

static size_t
ngx_wsman_wec_counters_size(ngx_wsman_wec_main_conf_t *wmcf,
    uint32_t *layout)
{
    size_t                   size;
    uint32_t                 crc;
    ngx_uint_t               i, k;
    ngx_wsman_wec_sub_t     *subs;
    ngx_wsman_wec_output_t  *out;

    size = sizeof(ngx_wsman_wec_counters_t);
    subs = wmcf->subs.elts;

    ngx_crc32_init(crc);

    for (i = 0; i < wmcf->subs.nelts; i++) {
        ngx_crc32_update(&crc, subs[i].name.data, subs[i].name.len + 1);
        size += sizeof(ngx_wsman_wec_sub_counters_t)
                + subs[i].outputs.nelts
                  * sizeof(ngx_wsman_wec_out_counters_t);

        out = subs[i].outputs.elts;

        for (k = 0; k < subs[i].outputs.nelts; k++) {
            ngx_crc32_update(&crc, out[k].target.data, out[k].target.len);
        }
    }

    ngx_crc32_final(crc);
    *layout = crc;

    return size;
}


ngx_int_t
ngx_wsman_wec_counters_zone(ngx_conf_t *cf, ngx_wsman_wec_main_conf_t *wmcf)
{
    size_t     size;
    uint32_t   layout;
    ngx_str_t  name;

    size = ngx_wsman_wec_counters_size(wmcf, &layout);

    /* room for nginx's slab allocator (at least eight pages) around
     * one allocation of the counters */
    size = ngx_align(2 * size + 4 * ngx_pagesize, ngx_pagesize);
    if (size < 8 * ngx_pagesize) {
        size = 8 * ngx_pagesize;
    }

    ngx_str_set(&name, "wsman_wec_counters");

    wmcf->counters = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_wsman_wec_module);
    if (wmcf->counters == NULL) {
        return NGX_ERROR;
    }

    wmcf->counters->init = ngx_wsman_wec_counters_init_zone;
    wmcf->counters->data = wmcf;

    return NGX_OK;
}


static void *
ngx_wsman_wec_counters_base(ngx_shm_zone_t *zone)
{
    return ((ngx_slab_pool_t *) (void *) zone->shm.addr)->data;
}


static ngx_int_t
ngx_wsman_wec_counters_init_zone(ngx_shm_zone_t *zone, void *data)
{
    size_t                      size;
    uint32_t                    layout;
    ngx_slab_pool_t            *shpool;
    ngx_wsman_wec_counters_t   *c;
    ngx_wsman_wec_main_conf_t  *wmcf;

    wmcf = zone->data;
    shpool = (ngx_slab_pool_t *) (void *) zone->shm.addr;

    size = ngx_wsman_wec_counters_size(wmcf, &layout);
    c = shpool->data;

    /* a reload with the same subscriptions and outputs keeps counting */
    if (c && c->layout == layout && c->nsubs == wmcf->subs.nelts) {
        return NGX_OK;
    }

    /* other subscriptions or outputs (the zone kept its size) */
    if (c) {
        ngx_slab_free(shpool, c);
    }

    c = ngx_slab_alloc(shpool, size);
    if (c == NULL) {
        return NGX_ERROR;
    }

    shpool->data = c;

    ngx_memzero(c, size);
    c->layout = layout;
    c->nsubs = wmcf->subs.nelts;

    return NGX_OK;
}


static ngx_wsman_wec_sub_counters_t *
ngx_wsman_wec_sub_counters(ngx_wsman_wec_sub_t *sub,
    ngx_wsman_wec_out_counters_t **outs)
{
    u_char                     *p;
    ngx_uint_t                  i;
    ngx_wsman_wec_sub_t        *subs;
    ngx_wsman_wec_main_conf_t  *wmcf;

    wmcf = ngx_wsman_wec_wmcf;

    if (wmcf == NULL || wmcf->counters == NULL) {
        return NULL;
    }

    p = ngx_wsman_wec_counters_base(wmcf->counters);
    if (p == NULL) {
        return NULL;
    }

    p += sizeof(ngx_wsman_wec_counters_t);

    subs = wmcf->subs.elts;

    for (i = 0; i < sub->index; i++) {
        p += sizeof(ngx_wsman_wec_sub_counters_t)
             + subs[i].outputs.nelts * sizeof(ngx_wsman_wec_out_counters_t);
    }

    if (outs) {
        *outs = (ngx_wsman_wec_out_counters_t *)
                    (p + sizeof(ngx_wsman_wec_sub_counters_t));
    }

    return (ngx_wsman_wec_sub_counters_t *) p;
}


void
ngx_wsman_wec_count(ngx_wsman_wec_sub_t *sub, ngx_wsman_wec_batch_t *b,
    ngx_uint_t acked, ngx_uint_t malformed)
{
    ngx_wsman_wec_sub_counters_t  *c;

    c = ngx_wsman_wec_sub_counters(sub, NULL);
    if (c == NULL) {
        return;
    }

    if (b == NULL) {
        (void) ngx_atomic_fetch_add(&c->heartbeats, 1);
        return;
    }

    if (!acked) {
        (void) ngx_atomic_fetch_add(&c->not_acked, 1);
        return;
    }

    (void) ngx_atomic_fetch_add(&c->batches, 1);
    (void) ngx_atomic_fetch_add(&c->events, b->nevents);
    (void) ngx_atomic_fetch_add(&c->bytes, b->bytes);
    (void) ngx_atomic_fetch_add(&c->malformed, malformed);
    c->last_event = b->received;
}


void
ngx_wsman_wec_count_output(ngx_wsman_wec_sub_t *sub, ngx_uint_t i,
    ngx_uint_t ok)
{
    ngx_wsman_wec_out_counters_t  *outs;

    if (ngx_wsman_wec_sub_counters(sub, &outs) == NULL) {
        return;
    }

    if (ok) {
        (void) ngx_atomic_fetch_add(&outs[i].batches, 1);
        outs[i].last_ok = ngx_time();
        outs[i].down_since = 0;

    } else {
        (void) ngx_atomic_fetch_add(&outs[i].failures, 1);
        outs[i].last_failure = ngx_time();

        /* racing workers agree on about the same second */
        (void) ngx_atomic_cmp_set(&outs[i].down_since, 0,
                                  (ngx_atomic_uint_t) ngx_time());
    }
}


void
ngx_wsman_wec_count_spooled(ngx_wsman_wec_sub_t *sub, ngx_uint_t i)
{
    ngx_wsman_wec_out_counters_t  *outs;

    if (ngx_wsman_wec_sub_counters(sub, &outs) == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&outs[i].spooled, 1);
}


/* --- the worker --- */

ngx_int_t
ngx_wsman_wec_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i, k;
    ngx_wsman_wec_sub_t        *subs;
    ngx_wsman_wec_output_t     *out;
    ngx_wsman_wec_main_conf_t  *wmcf;

    wmcf = ngx_wsman_plugin_main_conf(&ngx_wsman_wec_module);

    if (wmcf == NULL || wmcf->subs.nelts == 0) {
        return NGX_OK;
    }

    ngx_wsman_wec_wmcf = wmcf;

#if (NGX_LINUX && defined M_TRIM_THRESHOLD)
    /*
     * A collector's worker: each batch takes and frees a few megabytes
     * (the body, its UTF-8, the tree, the events' JSON), above glibc's
     * limits for returning memory to the kernel at once; faulting it
     * back in for the next batch cost a quarter of the CPU per event.
     * Freed memory now stays for reuse, up to NGX_WSMAN_WEC_KEEP_HEAP
     * per malloc arena, and no buffer below NGX_WSMAN_WEC_MMAP_MIN gets
     * a mapping of its own.
     */
    if (mallopt(M_MMAP_THRESHOLD, NGX_WSMAN_WEC_MMAP_MIN) == 0
        || mallopt(M_TRIM_THRESHOLD, NGX_WSMAN_WEC_KEEP_HEAP) == 0)
    {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "wsman wec: mallopt() refused, freed memory goes "
                      "back to the kernel after each batch");
    }
#endif

    subs = wmcf->subs.elts;

    for (i = 0; i < wmcf->subs.nelts; i++) {
        out = subs[i].outputs.elts;

        for (k = 0; k < subs[i].outputs.nelts; k++) {
            out[k].state = NULL;

            if (pthread_mutex_init(&out[k].lock, NULL) != 0) {
                return NGX_ERROR;
            }
        }
    }

    wmcf->store.state = NULL;

    if (pthread_mutex_init(&wmcf->store.lock, NULL) != 0) {
        return NGX_ERROR;
    }

    ngx_rbtree_init(&ngx_wsman_wec_heard, &ngx_wsman_wec_heard_sentinel,
                    ngx_wsman_wec_heard_insert);

    ngx_wsman_wec_spool_start(cycle, wmcf);

    ngx_wsman_wec_flush_event.handler = ngx_wsman_wec_flush;
    ngx_wsman_wec_flush_event.log = cycle->log;
    ngx_wsman_wec_flush_event.data = wmcf;
    /* a flush waiting to happen must not hold a graceful shutdown */
    ngx_wsman_wec_flush_event.cancelable = 1;

    return NGX_OK;
}


void
ngx_wsman_wec_exit_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i, k;
    ngx_wsman_wec_sub_t        *subs;
    ngx_wsman_wec_output_t     *out;
    ngx_wsman_wec_main_conf_t  *wmcf;

    wmcf = ngx_wsman_wec_wmcf;

    if (wmcf == NULL) {
        return;
    }

    subs = wmcf->subs.elts;

    for (i = 0; i < wmcf->subs.nelts; i++) {
        out = subs[i].outputs.elts;

        for (k = 0; k < subs[i].outputs.nelts; k++) {
            if (out[k].type->close) {
                out[k].type->close(&out[k]);
            }
        }
    }

    if (wmcf->store.type && wmcf->store.type->close) {
        wmcf->store.type->close(&wmcf->store);
    }
}


void
ngx_wsman_wec_reopen(void)
{
    /* file outputs see it and open their files again */
    (void) ngx_atomic_fetch_add(&ngx_wsman_wec_file_generation, 1);
}


/* --- the sources heard of --- */

static void
ngx_wsman_wec_heard_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t  **p;

    for ( ;; ) {
        p = (node->key < temp->key) ? &temp->left : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


ngx_int_t
ngx_wsman_wec_note(ngx_wsman_wec_sub_t *sub, ngx_str_t *source,
    ngx_str_t *machine, ngx_log_t *log)
{
    u_char                 *p;
    uint32_t                hash;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_wsman_wec_heard_t  *h;

    if (ngx_wsman_wec_wmcf == NULL) {
        return NGX_OK;
    }

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, sub->name.data, sub->name.len + 1);
    ngx_crc32_update(&hash, source->data, source->len);
    ngx_crc32_final(hash);

    node = ngx_wsman_wec_heard.root;
    sentinel = ngx_wsman_wec_heard.sentinel;

    while (node != sentinel) {
        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        h = (ngx_wsman_wec_heard_t *) node;

        if (h->row.subscription.len == sub->name.len
            && h->row.source.len == source->len
            && ngx_memcmp(h->row.subscription.data, sub->name.data,
                          sub->name.len) == 0
            && ngx_memcmp(h->row.source.data, source->data, source->len)
               == 0)
        {
            h->row.last_seen = ngx_time();
            h->row.last_heartbeat = h->row.last_seen;
            return NGX_OK;
        }

        /* the same hash: walk on to the right, where inserts put it */
        node = node->right;
    }

    h = ngx_alloc(sizeof(ngx_wsman_wec_heard_t) + sub->name.len
                  + source->len + machine->len, log);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_wsman_wec_heard_t));

    p = (u_char *) (h + 1);

    h->row.subscription.data = p;
    h->row.subscription.len = sub->name.len;
    p = ngx_cpymem(p, sub->name.data, sub->name.len);

    h->row.source.data = p;
    h->row.source.len = source->len;
    p = ngx_cpymem(p, source->data, source->len);

    h->row.machine.data = p;
    h->row.machine.len = machine->len;

    /* no m:MachineID: an empty name without data */
    if (machine->len) {
        ngx_memcpy(p, machine->data, machine->len);
    }

    h->row.first_seen = ngx_time();
    h->row.last_seen = h->row.first_seen;
    h->row.last_heartbeat = h->row.first_seen;

    h->node.key = hash;
    ngx_rbtree_insert(&ngx_wsman_wec_heard, &h->node);
    ngx_wsman_wec_nheard++;

    if (!ngx_wsman_wec_flush_event.timer_set && !ngx_wsman_wec_flushing) {
        ngx_add_timer(&ngx_wsman_wec_flush_event, ngx_wsman_wec_wmcf->flush);
    }

    return NGX_OK;
}


/* the tree goes to a task: one transaction for every source in it */
static void
ngx_wsman_wec_flush(ngx_event_t *ev)
{
    ngx_uint_t                   n;
    ngx_pool_t                  *pool;
    ngx_rbtree_node_t           *node, *sentinel;
    ngx_thread_task_t           *task;
    ngx_wsman_wec_heard_t       *h;
    ngx_wsman_wec_source_t      *rows;
    ngx_wsman_wec_flush_task_t  *f;
    ngx_wsman_wec_main_conf_t   *wmcf;

    wmcf = ev->data;

    if (ngx_wsman_wec_nheard == 0) {
        return;
    }

    pool = NULL;
    task = NULL;
    rows = NULL;

    if (wmcf->store.type) {
        pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ev->log);
        if (pool == NULL) {
            return;
        }

        task = ngx_thread_task_alloc(pool,
                                     sizeof(ngx_wsman_wec_flush_task_t));
        rows = ngx_palloc(pool, ngx_wsman_wec_nheard
                                * sizeof(ngx_wsman_wec_source_t));

        if (task == NULL || rows == NULL) {
            ngx_destroy_pool(pool);
            return;
        }
    }

    /* every node moves into the task's rows and is freed */
    n = 0;
    sentinel = ngx_wsman_wec_heard.sentinel;

    while (ngx_wsman_wec_heard.root != sentinel) {
        node = ngx_rbtree_min(ngx_wsman_wec_heard.root, sentinel);
        h = (ngx_wsman_wec_heard_t *) node;

        ngx_rbtree_delete(&ngx_wsman_wec_heard, node);

        if (rows) {
            rows[n] = h->row;

            rows[n].subscription.data = ngx_pstrdup(pool,
                                                    &h->row.subscription);
            rows[n].source.data = ngx_pstrdup(pool, &h->row.source);
            rows[n].machine.data = ngx_pstrdup(pool, &h->row.machine);

            if (rows[n].subscription.data == NULL
                || rows[n].source.data == NULL
                || rows[n].machine.data == NULL)
            {
                rows = NULL;
            }

            n++;
        }

        ngx_free(h);
    }

    ngx_wsman_wec_nheard = 0;

    if (task == NULL) {
        return;
    }

    if (rows == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    f = task->ctx;
    f->pool = pool;
    f->rows = rows;
    f->n = n;
    f->store = &wmcf->store;

    task->handler = ngx_wsman_wec_flush_run;
    task->event.handler = ngx_wsman_wec_flush_done;
    task->event.data = task;
    task->event.log = ev->log;

    if (ngx_thread_task_post(wmcf->thread_pool, task) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "wsman wec: thread pool busy: %ui source(s) not "
                      "written to the state store this time", n);
        ngx_destroy_pool(pool);
        return;
    }

    ngx_wsman_wec_flushing = 1;
}


static void
ngx_wsman_wec_flush_run(void *data, ngx_log_t *log)
{
    ngx_wsman_wec_flush_task_t  *f = data;

    f->rc = f->store->type->save_heartbeats(f->store, f->rows, f->n, log);
}


static void
ngx_wsman_wec_flush_done(ngx_event_t *ev)
{
    ngx_thread_task_t *task = ev->data;

    ngx_wsman_wec_flush_task_t  *f;

    f = task->ctx;
    ngx_wsman_wec_flushing = 0;

    if (f->rc != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "wsman wec: %ui source(s) could not be written to "
                      "the state store", f->n);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "wsman wec: %ui source(s) flushed", f->n);

    /* the task, its rows and their strings go with the pool */
    ngx_destroy_pool(f->pool);

    if (ngx_wsman_wec_nheard && !ngx_wsman_wec_flush_event.timer_set) {
        ngx_add_timer(&ngx_wsman_wec_flush_event, ngx_wsman_wec_wmcf->flush);
    }
}


/* --- the metrics --- */

ngx_int_t
ngx_wsman_wec_metrics(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_wec_metrics_pt done, void *data)
{
    ngx_thread_task_t             *task;
    ngx_wsman_wec_metrics_task_t  *m;
    ngx_wsman_wec_main_conf_t     *wmcf;

    wmcf = ngx_wsman_wec_wmcf;

    if (wmcf == NULL) {
        return NGX_DECLINED;
    }

    task = ngx_thread_task_alloc(pool, sizeof(ngx_wsman_wec_metrics_task_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    m = task->ctx;
    m->pool = pool;
    m->log = log;
    m->store = wmcf->store.type ? &wmcf->store : NULL;
    m->rows = NULL;
    m->rc = NGX_OK;
    m->done = done;
    m->data = data;

    task->handler = ngx_wsman_wec_metrics_run;
    task->event.handler = ngx_wsman_wec_metrics_done;
    task->event.data = task;
    task->event.log = log;

    if (ngx_thread_task_post(wmcf->thread_pool, task) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


static void
ngx_wsman_wec_metrics_run(void *data, ngx_log_t *log)
{
    ngx_wsman_wec_metrics_task_t  *m = data;

    if (m->store) {
        m->rc = m->store->type->list(m->store, m->pool, &m->rows, m->log);
    }
}


#define ngx_wsman_wec_json_literal(p, s)                                    \
    ngx_cpymem(p, s, sizeof(s) - 1)


static void
ngx_wsman_wec_metrics_done(ngx_event_t *ev)
{
    ngx_thread_task_t *task = ev->data;

    u_char                         *p;
    size_t                          len;
    time_t                          now, hb, lag;
    ngx_str_t                       json;
    ngx_uint_t                      i, k, r, known, active, alive, silent,
                                    down;
    ngx_wsman_wec_sub_t            *subs;
    ngx_wsman_wec_source_t         *rows;
    ngx_wsman_wec_output_t         *out;
    ngx_wsman_wec_main_conf_t      *wmcf;
    ngx_wsman_wec_sub_counters_t   *c;
    ngx_wsman_wec_out_counters_t   *oc;
    ngx_wsman_wec_metrics_task_t   *m;

    m = task->ctx;
    wmcf = ngx_wsman_wec_wmcf;
    now = ngx_time();

    rows = m->rows ? m->rows->elts : NULL;
    subs = wmcf->subs.elts;

    /* generous: names escaped at most 6 times over, per source a name */
    len = 256;

    for (i = 0; i < wmcf->subs.nelts; i++) {
        len += 512 + 6 * subs[i].name.len;
        out = subs[i].outputs.elts;

        for (k = 0; k < subs[i].outputs.nelts; k++) {
            len += 256 + 6 * (out[k].type->name.len + out[k].target.len);
        }
    }

    for (r = 0; m->rows && r < m->rows->nelts; r++) {
        len += 8 + 6 * rows[r].source.len;
    }

    json.data = ngx_pnalloc(m->pool, len);
    if (json.data == NULL) {
        m->done(m->data, NGX_ERROR, NULL);
        return;
    }

    p = ngx_sprintf(json.data, "{\"time\":%T,\"state_store\":",
                    now);

    if (m->store == NULL) {
        p = ngx_wsman_wec_json_literal(p, "null");

    } else {
        p = ngx_sprintf(p, "{\"kind\":\"%V\",\"ok\":%s}",
                        &m->store->type->name,
                        m->rc == NGX_OK ? "true" : "false");
    }

    p = ngx_wsman_wec_json_literal(p, ",\"subscriptions\":[");

    for (i = 0; i < wmcf->subs.nelts; i++) {
        c = ngx_wsman_wec_sub_counters(&subs[i], &oc);

        if (i) {
            *p++ = ',';
        }

        p = ngx_wsman_wec_json_literal(p, "{\"name\":");
        p = ngx_wsman_wec_json_string(p, &subs[i].name);

        if (c) {
            p = ngx_sprintf(p, ",\"batches\":%uA,\"events\":%uA,"
                            "\"bytes\":%uA,\"malformed\":%uA,"
                            "\"not_acknowledged\":%uA,"
                            "\"heartbeats\":%uA,\"last_event\":%uA",
                            c->batches, c->events, c->bytes, c->malformed,
                            c->not_acked, c->heartbeats, c->last_event);
        }

        /* the sources: active (events within a heartbeat interval),
         * alive (heard of within two), silent (known, not alive) */
        hb = subs[i].heartbeat;
        known = active = alive = silent = 0;

        p = ngx_wsman_wec_json_literal(p, ",\"silent\":[");

        for (r = 0; m->rows && r < m->rows->nelts; r++) {
            if (rows[r].subscription.len != subs[i].name.len
                || ngx_memcmp(rows[r].subscription.data, subs[i].name.data,
                              subs[i].name.len) != 0)
            {
                continue;
            }

            known++;

            if (rows[r].last_event && now - rows[r].last_event <= hb) {
                active++;
            }

            if (now - rows[r].last_seen <= 2 * hb) {
                alive++;
                continue;
            }

            if (silent++) {
                *p++ = ',';
            }

            p = ngx_wsman_wec_json_string(p, &rows[r].source);
        }

        p = ngx_sprintf(p, "],\"sources\":{\"known\":%ui,\"active\":%ui,"
                        "\"alive\":%ui,\"silent\":%ui}",
                        known, active, alive, silent);

        p = ngx_wsman_wec_json_literal(p, ",\"outputs\":[");
        out = subs[i].outputs.elts;

        for (k = 0; k < subs[i].outputs.nelts; k++) {
            if (k) {
                *p++ = ',';
            }

            p = ngx_wsman_wec_json_literal(p, "{\"kind\":");
            p = ngx_wsman_wec_json_string(p, &out[k].type->name);
            p = ngx_wsman_wec_json_literal(p, ",\"target\":");
            p = ngx_wsman_wec_json_string(p, &out[k].target);

            if (c) {
                /* down: failing since its last success; lag: for how
                 * long (seconds) batches have not been getting through */
                down = oc[k].last_failure > oc[k].last_ok;
                lag = (down && oc[k].down_since)
                      ? now - (time_t) oc[k].down_since : 0;

                p = ngx_sprintf(p, ",\"batches\":%uA,\"spooled\":%uA,"
                                "\"failures\":%uA,"
                                "\"last_ok\":%uA,\"last_failure\":%uA,"
                                "\"down\":%s,\"lag\":%T}",
                                oc[k].batches, oc[k].spooled,
                                oc[k].failures,
                                oc[k].last_ok, oc[k].last_failure,
                                down ? "true" : "false", lag);

            } else {
                *p++ = '}';
            }
        }

        p = ngx_wsman_wec_json_literal(p, "]}");
    }

    p = ngx_wsman_wec_json_literal(p, "]}\n");

    json.len = p - json.data;

    m->done(m->data, NGX_OK, &json);
}
