/*
 * The event collector's state store in PostgreSQL: several collectors
 * behind one load balancer share it, so any node serves any source and a
 * bookmark outlives the node that stored it.
 *
 * Each worker keeps one connection (libpq, in a pool thread, under
 * store->lock), opened on first use and again after an error.  Nothing
 * waits without a deadline: connect_timeout (3 s unless the conninfo says
 * otherwise) bounds the connection, three times it every statement (the
 * socket is polled, never read blocking), and a statement that runs out
 * of time drops the connection.  Values only ever travel as parameters.
 */

#include "ngx_wsman_wec.h"

#include <poll.h>
#include <stdlib.h>
#include <libpq-fe.h>


#define NGX_WSMAN_WEC_PG_CONNECT_TIMEOUT  "3"

/* the table layout this code writes; a newer one is not touched */
#define NGX_WSMAN_WEC_PG_SCHEMA           1

/* libpq's messages, on one log line */
#define NGX_WSMAN_WEC_PG_MSG              512

#define ngx_wsman_wec_pg_msg(buf, text)                                       \
    ngx_wsman_wec_pg_line(buf, sizeof(buf), text)

/* serialises the nodes creating the tables (pg_advisory_xact_lock) */
#define NGX_WSMAN_WEC_PG_LOCK             "7738230501"


typedef struct {
    char                      *conninfo;     /* NUL-terminated */
    ngx_str_t                  label;        /* for log lines: no
                                                password */
    ngx_msec_t                 timeout;      /* of one statement */
    unsigned                   has_timeout:1;
} ngx_wsman_wec_pg_conf_t;


typedef struct {
    PGconn                    *conn;
    ngx_log_t                  log;          /* for notices: outlives
                                                the call that connected */
} ngx_wsman_wec_pg_t;


typedef struct {
    const char                *values[7];
    int                        lengths[7];
    int                        formats[7];
    u_char                     num[4][NGX_INT64_LEN + 1];
    ngx_uint_t                 n;
    ngx_uint_t                 nnum;
} ngx_wsman_wec_pg_params_t;


static char *ngx_wsman_wec_pg_configure(ngx_conf_t *cf,
    ngx_wsman_wec_store_t *store, ngx_str_t *address);
static ngx_int_t ngx_wsman_wec_pg_save_batch(ngx_wsman_wec_store_t *store,
    ngx_wsman_wec_batch_t *batch);
static ngx_int_t ngx_wsman_wec_pg_save_heartbeats(
    ngx_wsman_wec_store_t *store, ngx_wsman_wec_source_t *rows, ngx_uint_t n,
    ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_pg_load_bookmark(ngx_wsman_wec_store_t *store,
    ngx_str_t *subscription, ngx_str_t *source, ngx_pool_t *pool,
    ngx_str_t *bookmark, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_pg_list(ngx_wsman_wec_store_t *store,
    ngx_pool_t *pool, ngx_array_t **rows, ngx_log_t *log);
static void ngx_wsman_wec_pg_close(ngx_wsman_wec_store_t *store);

static PGconn *ngx_wsman_wec_pg_open(ngx_wsman_wec_store_t *store,
    ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_pg_prepare(ngx_wsman_wec_store_t *store,
    PGconn *conn, ngx_log_t *log);
static PGresult *ngx_wsman_wec_pg_exec(ngx_wsman_wec_store_t *store,
    const char *name, ngx_wsman_wec_pg_params_t *p, ngx_log_t *log,
    const char *what);
static PGresult *ngx_wsman_wec_pg_wait(ngx_wsman_wec_store_t *store,
    PGconn *conn, ngx_log_t *log, const char *what);
static ngx_int_t ngx_wsman_wec_pg_get(PGconn *conn, int64_t deadline,
    PGresult **res);
static void ngx_wsman_wec_pg_drop(ngx_wsman_wec_store_t *store);
static int64_t ngx_wsman_wec_pg_now(void);
static u_char *ngx_wsman_wec_pg_line(u_char *buf, size_t size,
    const char *text);
static void ngx_wsman_wec_pg_notice(void *arg, const char *message);
static void ngx_wsman_wec_pg_str(ngx_wsman_wec_pg_params_t *p,
    ngx_str_t *s);
static void ngx_wsman_wec_pg_num(ngx_wsman_wec_pg_params_t *p, int64_t n);
static ngx_int_t ngx_wsman_wec_pg_copy(ngx_pool_t *pool, PGresult *res,
    int row, int col, ngx_str_t *s);
static int ngx_wsman_wec_pg_cmp(const void *one, const void *two);
static ngx_int_t ngx_wsman_wec_pg_utf8(ngx_str_t *s);


ngx_wsman_wec_store_type_t  ngx_wsman_wec_postgresql_store = {
    ngx_string("postgresql"),
    ngx_wsman_wec_pg_configure,
    ngx_wsman_wec_pg_save_batch,
    ngx_wsman_wec_pg_save_heartbeats,
    ngx_wsman_wec_pg_load_bookmark,
    ngx_wsman_wec_pg_list,
    ngx_wsman_wec_pg_close
};


static const struct {
    const char                *name;
    const char                *sql;
    int                        nparams;
} ngx_wsman_wec_pg_stmts[] = {

    /*
     * an empty bookmark (the message had none) keeps the stored one;
     * times never go back when two nodes race; a batch that comes again
     * with the bookmark already stored (its Ack was lost, or a statement
     * that timed out here was committed after all) is not counted twice
     */
    { "wec_batch",
      "INSERT INTO wec_sources AS s (subscription, source, machine, "
      "bookmark, first_seen, last_seen, last_event, last_heartbeat, events) "
      "VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint, "
      "$5::bigint, $6::bigint, 0, $7::bigint) "
      "ON CONFLICT (subscription, source) DO UPDATE SET "
      "machine = CASE WHEN excluded.machine <> '' THEN excluded.machine "
      "ELSE s.machine END, "
      "bookmark = CASE WHEN excluded.bookmark <> '' THEN excluded.bookmark "
      "ELSE s.bookmark END, "
      "last_seen = GREATEST(s.last_seen, excluded.last_seen), "
      "last_event = GREATEST(s.last_event, excluded.last_event), "
      "events = CASE WHEN excluded.bookmark <> '' "
      "AND excluded.bookmark = s.bookmark THEN s.events "
      "ELSE s.events + excluded.events END", 7 },

    { "wec_heartbeat",
      "INSERT INTO wec_sources AS s (subscription, source, machine, "
      "bookmark, first_seen, last_seen, last_event, last_heartbeat, events) "
      "VALUES ($1::text, $2::text, $3::text, '', $4::bigint, $5::bigint, "
      "0, $6::bigint, 0) "
      "ON CONFLICT (subscription, source) DO UPDATE SET "
      "machine = CASE WHEN excluded.machine <> '' THEN excluded.machine "
      "ELSE s.machine END, "
      "last_seen = GREATEST(s.last_seen, excluded.last_seen), "
      "last_heartbeat = GREATEST(s.last_heartbeat, excluded.last_heartbeat)",
      6 },

    { "wec_bookmark",
      "SELECT bookmark FROM wec_sources "
      "WHERE subscription = $1::text AND source = $2::text", 2 },

    { "wec_list",
      "SELECT subscription, source, machine, bookmark, first_seen, "
      "last_seen, last_event, last_heartbeat, events FROM wec_sources "
      "ORDER BY subscription, source", 0 },
};


static char *
ngx_wsman_wec_pg_configure(ngx_conf_t *cf, ngx_wsman_wec_store_t *store,
    ngx_str_t *address)
{
    char                     *err;
    u_char                   *p;
    ngx_int_t                 t;
    const char               *host, *port, *db;
    PQconninfoOption         *opts, *o;
    ngx_wsman_wec_pg_conf_t  *pcf;

    pcf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_wec_pg_conf_t));
    if (pcf == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_strlchr(address->data, address->data + address->len, '\0')
        != NULL)
    {
        goto invalid;
    }

    pcf->conninfo = ngx_pnalloc(cf->pool, address->len + 1);
    if (pcf->conninfo == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(pcf->conninfo, address->data, address->len);
    pcf->conninfo[address->len] = '\0';

    /* libpq's own parser, which connects to nothing */
    err = NULL;
    opts = PQconninfoParse(pcf->conninfo, &err);

    if (opts == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid PostgreSQL conninfo: %s",
                           err ? err : "out of memory");
        PQfreemem(err);
        return NGX_CONF_ERROR;
    }

    host = "localhost";
    port = "5432";
    db = "";
    t = 3;

    for (o = opts; o->keyword; o++) {
        if (o->val == NULL || o->val[0] == '\0') {
            continue;
        }

        if (ngx_strcmp(o->keyword, "host") == 0) {
            host = o->val;

        } else if (ngx_strcmp(o->keyword, "port") == 0) {
            port = o->val;

        } else if (ngx_strcmp(o->keyword, "dbname") == 0) {
            db = o->val;

        } else if (ngx_strcmp(o->keyword, "connect_timeout") == 0) {
            t = ngx_atoi((u_char *) o->val, ngx_strlen(o->val));
            pcf->has_timeout = 1;
        }
    }

    /* libpq takes 0 (or nothing) as "wait forever": not here */
    if (t == NGX_ERROR || t < 1 || t > 600) {
        PQconninfoFree(opts);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "PostgreSQL connect_timeout must be 1 to 600 "
                           "seconds");
        return NGX_CONF_ERROR;
    }

    pcf->timeout = 3 * t * 1000;

    pcf->label.len = sizeof("postgresql:///") - 1 + ngx_strlen(host)
                     + 1 + ngx_strlen(port) + ngx_strlen(db);
    pcf->label.data = ngx_pnalloc(cf->pool, pcf->label.len);
    if (pcf->label.data == NULL) {
        PQconninfoFree(opts);
        return NGX_CONF_ERROR;
    }

    p = ngx_sprintf(pcf->label.data, "postgresql://%s:%s/%s", host, port,
                    db);
    pcf->label.len = p - pcf->label.data;

    PQconninfoFree(opts);

    store->conf = pcf;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid PostgreSQL conninfo");
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_wsman_wec_pg_save_batch(ngx_wsman_wec_store_t *store,
    ngx_wsman_wec_batch_t *batch)
{
    PGresult                   *res;
    ngx_wsman_wec_pg_conf_t    *pcf;
    ngx_wsman_wec_pg_params_t   p;

    pcf = store->conf;

    /* PostgreSQL would refuse it too, with a less helpful message */
    if (ngx_wsman_wec_pg_utf8(&batch->subscription) != NGX_OK
        || ngx_wsman_wec_pg_utf8(&batch->source) != NGX_OK
        || ngx_wsman_wec_pg_utf8(&batch->machine) != NGX_OK
        || ngx_wsman_wec_pg_utf8(&batch->bookmark) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                      "wsman wec store \"%V\": a name or the bookmark of "
                      "a batch is not UTF-8 text (not logged), batch not "
                      "stored",
                      &pcf->label);
        return NGX_ERROR;
    }

    ngx_memzero(&p, sizeof(ngx_wsman_wec_pg_params_t));

    ngx_wsman_wec_pg_str(&p, &batch->subscription);
    ngx_wsman_wec_pg_str(&p, &batch->source);
    ngx_wsman_wec_pg_str(&p, &batch->machine);
    ngx_wsman_wec_pg_str(&p, &batch->bookmark);
    ngx_wsman_wec_pg_num(&p, batch->received);
    ngx_wsman_wec_pg_num(&p, batch->nevents ? batch->received : 0);
    ngx_wsman_wec_pg_num(&p, batch->nevents);

    pthread_mutex_lock(&store->lock);

    res = ngx_wsman_wec_pg_exec(store, "wec_batch", &p, batch->log,
                                "saving a batch");

    pthread_mutex_unlock(&store->lock);

    if (res == NULL) {
        return NGX_ERROR;
    }

    PQclear(res);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, batch->log, 0,
                   "wsman wec postgresql: %V/%V: %ui events stored",
                   &batch->subscription, &batch->source, batch->nevents);

    return NGX_OK;
}


/*
 * One pipeline, one implicit transaction (everything up to the Sync), one
 * round trip: 10,000 heartbeats cost one commit, not 10,000.  The rows go
 * in one order (subscription, source) on every node, so two nodes
 * flushing overlapping sources wait for each other instead of
 * deadlocking.
 */
static ngx_int_t
ngx_wsman_wec_pg_save_heartbeats(ngx_wsman_wec_store_t *store,
    ngx_wsman_wec_source_t *rows, ngx_uint_t n, ngx_log_t *log)
{
    int                         status;
    u_char                      errmsg[NGX_WSMAN_WEC_PG_MSG];
    u_char                      msg[NGX_WSMAN_WEC_PG_MSG];
    PGconn                     *conn;
    int64_t                     deadline;
    PGresult                   *res;
    ngx_int_t                   rc;
    ngx_uint_t                  i, m, nulls, failed;
    ngx_wsman_wec_source_t     *r, **sorted;
    ngx_wsman_wec_pg_conf_t    *pcf;
    ngx_wsman_wec_pg_params_t   p;

    if (n == 0) {
        return NGX_OK;
    }

    pcf = store->conf;

    sorted = ngx_alloc(n * sizeof(ngx_wsman_wec_source_t *), log);
    if (sorted == NULL) {
        return NGX_ERROR;
    }

    m = 0;

    for (i = 0; i < n; i++) {
        r = &rows[i];

        /* one bad name must not cost every other source its heartbeat:
         * PostgreSQL would refuse the whole transaction */
        if (ngx_wsman_wec_pg_utf8(&r->subscription) != NGX_OK
            || ngx_wsman_wec_pg_utf8(&r->source) != NGX_OK
            || ngx_wsman_wec_pg_utf8(&r->machine) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "wsman wec store \"%V\": heartbeat of a source "
                          "whose name is not UTF-8 text skipped",
                          &pcf->label);
            continue;
        }

        sorted[m++] = r;
    }

    if (m == 0) {
        ngx_free(sorted);
        return NGX_OK;
    }

    qsort(sorted, m, sizeof(ngx_wsman_wec_source_t *),
          ngx_wsman_wec_pg_cmp);

    pthread_mutex_lock(&store->lock);

    conn = ngx_wsman_wec_pg_open(store, log);
    if (conn == NULL) {
        goto error;
    }

    if (PQenterPipelineMode(conn) == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": no pipeline: %s",
                      &pcf->label,
                      ngx_wsman_wec_pg_msg(msg, PQerrorMessage(conn)));
        ngx_wsman_wec_pg_drop(store);
        goto error;
    }

    for (i = 0; i < m; i++) {
        r = sorted[i];

        ngx_memzero(&p, sizeof(ngx_wsman_wec_pg_params_t));

        ngx_wsman_wec_pg_str(&p, &r->subscription);
        ngx_wsman_wec_pg_str(&p, &r->source);
        ngx_wsman_wec_pg_str(&p, &r->machine);
        ngx_wsman_wec_pg_num(&p, r->first_seen ? r->first_seen
                                                : r->last_seen);
        ngx_wsman_wec_pg_num(&p, r->last_seen);
        ngx_wsman_wec_pg_num(&p, r->last_heartbeat);

        if (PQsendQueryPrepared(conn, "wec_heartbeat", (int) p.n, p.values,
                                p.lengths, p.formats, 0)
            == 0)
        {
            goto broken;
        }
    }

    if (PQpipelineSync(conn) == 0) {
        goto broken;
    }

    /* every statement's result, each followed by a NULL, then the Sync's */
    deadline = ngx_wsman_wec_pg_now() + pcf->timeout;
    failed = 0;
    nulls = 0;
    errmsg[0] = '\0';

    for ( ;; ) {
        rc = ngx_wsman_wec_pg_get(conn, deadline, &res);

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wsman wec store \"%V\": saving heartbeats timed "
                          "out after %L ms", &pcf->label,
                          (int64_t) pcf->timeout);
            ngx_wsman_wec_pg_drop(store);
            goto error;
        }

        if (rc != NGX_OK) {
            goto broken;
        }

        if (res == NULL) {
            if (++nulls > m + 1) {
                goto broken;
            }

            continue;
        }

        status = PQresultStatus(res);

        if (status == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }

        if (status != PGRES_COMMAND_OK) {
            if (failed++ == 0) {
                ngx_cpystrn((u_char *) errmsg,
                            ngx_wsman_wec_pg_msg(msg,
                                                 PQresultErrorMessage(res)),
                            sizeof(errmsg));
            }
        }

        PQclear(res);
    }

    if (PQexitPipelineMode(conn) == 0) {
        goto broken;
    }

    if (failed) {
        /* the Sync rolled the whole flush back */
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": saving heartbeats failed: %s",
                      &pcf->label, errmsg);
        goto error;
    }

    pthread_mutex_unlock(&store->lock);

    ngx_free(sorted);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "wsman wec postgresql: %ui heartbeats stored", m);

    return NGX_OK;

broken:

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "wsman wec store \"%V\": saving heartbeats failed: %s",
                  &pcf->label, ngx_wsman_wec_pg_msg(msg, PQerrorMessage(conn)));
    ngx_wsman_wec_pg_drop(store);

error:

    pthread_mutex_unlock(&store->lock);

    ngx_free(sorted);

    return NGX_ERROR;
}


static ngx_int_t
ngx_wsman_wec_pg_load_bookmark(ngx_wsman_wec_store_t *store,
    ngx_str_t *subscription, ngx_str_t *source, ngx_pool_t *pool,
    ngx_str_t *bookmark, ngx_log_t *log)
{
    ngx_int_t                   rc;
    PGresult                   *res;
    ngx_wsman_wec_pg_params_t   p;

    ngx_str_null(bookmark);

    /* no such name can be stored: no such row */
    if (ngx_wsman_wec_pg_utf8(subscription) != NGX_OK
        || ngx_wsman_wec_pg_utf8(source) != NGX_OK)
    {
        return NGX_OK;
    }

    ngx_memzero(&p, sizeof(ngx_wsman_wec_pg_params_t));

    ngx_wsman_wec_pg_str(&p, subscription);
    ngx_wsman_wec_pg_str(&p, source);

    pthread_mutex_lock(&store->lock);

    res = ngx_wsman_wec_pg_exec(store, "wec_bookmark", &p, log,
                                "loading a bookmark");

    pthread_mutex_unlock(&store->lock);

    if (res == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_OK;

    if (PQntuples(res) > 0) {
        rc = ngx_wsman_wec_pg_copy(pool, res, 0, 0, bookmark);
    }

    PQclear(res);

    return rc;
}


static ngx_int_t
ngx_wsman_wec_pg_list(ngx_wsman_wec_store_t *store, ngx_pool_t *pool,
    ngx_array_t **rows, ngx_log_t *log)
{
    int                         i, n;
    PGresult                   *res;
    ngx_array_t                *a;
    ngx_wsman_wec_source_t     *r;
    ngx_wsman_wec_pg_params_t   p;

    ngx_memzero(&p, sizeof(ngx_wsman_wec_pg_params_t));

    pthread_mutex_lock(&store->lock);

    res = ngx_wsman_wec_pg_exec(store, "wec_list", &p, log,
                                "listing the sources");

    pthread_mutex_unlock(&store->lock);

    if (res == NULL) {
        return NGX_ERROR;
    }

    n = PQntuples(res);

    a = ngx_array_create(pool, n ? n : 1, sizeof(ngx_wsman_wec_source_t));
    if (a == NULL) {
        PQclear(res);
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        r = ngx_array_push(a);
        if (r == NULL
            || ngx_wsman_wec_pg_copy(pool, res, i, 0, &r->subscription)
               != NGX_OK
            || ngx_wsman_wec_pg_copy(pool, res, i, 1, &r->source) != NGX_OK
            || ngx_wsman_wec_pg_copy(pool, res, i, 2, &r->machine) != NGX_OK
            || ngx_wsman_wec_pg_copy(pool, res, i, 3, &r->bookmark)
               != NGX_OK)
        {
            PQclear(res);
            return NGX_ERROR;
        }

        /* bigint columns NOT NULL: always digits */
        r->first_seen = (time_t) strtoll(PQgetvalue(res, i, 4), NULL, 10);
        r->last_seen = (time_t) strtoll(PQgetvalue(res, i, 5), NULL, 10);
        r->last_event = (time_t) strtoll(PQgetvalue(res, i, 6), NULL, 10);
        r->last_heartbeat = (time_t) strtoll(PQgetvalue(res, i, 7), NULL,
                                             10);
        r->events = (uint64_t) strtoull(PQgetvalue(res, i, 8), NULL, 10);
    }

    PQclear(res);

    *rows = a;

    return NGX_OK;
}


static void
ngx_wsman_wec_pg_close(ngx_wsman_wec_store_t *store)
{
    ngx_wsman_wec_pg_drop(store);
}


/* the worker's connection, opened on first use and after an error;
 * called with store->lock held */
static PGconn *
ngx_wsman_wec_pg_open(ngx_wsman_wec_store_t *store, ngx_log_t *log)
{
    u_char                    msg[NGX_WSMAN_WEC_PG_MSG];
    PGconn                   *conn;
    ngx_wsman_wec_pg_t       *st;
    ngx_wsman_wec_pg_conf_t  *pcf;

    /* a conninfo's own connect_timeout comes later and wins */
    static const char  *keys[] = {
        "connect_timeout", "application_name", "dbname", NULL
    };
    const char         *values[4];

    if (store->state) {
        st = store->state;
        return st->conn;
    }

    pcf = store->conf;

    st = ngx_alloc(sizeof(ngx_wsman_wec_pg_t), log);
    if (st == NULL) {
        return NULL;
    }

    /* a plain copy: the caller's log may name a request long gone */
    st->log = *log;
    st->log.handler = NULL;
    st->log.data = NULL;
    st->log.connection = 0;

    values[0] = NGX_WSMAN_WEC_PG_CONNECT_TIMEOUT;
    values[1] = "ngx_wsman event collector";
    values[2] = pcf->conninfo;
    values[3] = NULL;

    /* blocking, but connect_timeout bounds every step of it */
    conn = PQconnectdbParams(keys, values, 1);

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": cannot connect: %s",
                      &pcf->label,
                      conn ? ngx_wsman_wec_pg_msg(msg, PQerrorMessage(conn))
                           : (u_char *) "out of memory");
        PQfinish(conn);
        ngx_free(st);
        return NULL;
    }

    PQsetNoticeProcessor(conn, ngx_wsman_wec_pg_notice, &st->log);

    /* from here on nothing blocks: ngx_wsman_wec_pg_get() polls */
    if (PQsetnonblocking(conn, 1) != 0
        || ngx_wsman_wec_pg_prepare(store, conn, log) != NGX_OK)
    {
        PQfinish(conn);
        ngx_free(st);
        return NULL;
    }

    st->conn = conn;
    store->state = st;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "wsman wec postgresql: connected to \"%V\"", &pcf->label);

    return conn;
}


/* the tables (made by the first node to get there: the others wait for
 * its lock, then find them made) and this connection's statements */
static ngx_int_t
ngx_wsman_wec_pg_prepare(ngx_wsman_wec_store_t *store, PGconn *conn,
    ngx_log_t *log)
{
    u_char                    msg[NGX_WSMAN_WEC_PG_MSG];
    long                      version;
    PGresult                 *res;
    ngx_uint_t                i;
    ngx_wsman_wec_pg_conf_t  *pcf;

    pcf = store->conf;

    /* "already exists, skipping" on every connection is no news */
    if (PQsendQuery(conn,
            "SET client_min_messages = warning;"
            "BEGIN;"
            "SELECT pg_advisory_xact_lock(" NGX_WSMAN_WEC_PG_LOCK ");"
            "CREATE TABLE IF NOT EXISTS wec_meta ("
            " name text PRIMARY KEY, value bigint NOT NULL);"
            "INSERT INTO wec_meta (name, value) VALUES ('schema', 1)"
            " ON CONFLICT (name) DO NOTHING;"
            "CREATE TABLE IF NOT EXISTS wec_sources ("
            " subscription text NOT NULL,"
            " source text NOT NULL,"
            " machine text NOT NULL DEFAULT '',"
            " bookmark text NOT NULL DEFAULT '',"
            " first_seen bigint NOT NULL,"
            " last_seen bigint NOT NULL,"
            " last_event bigint NOT NULL DEFAULT 0,"
            " last_heartbeat bigint NOT NULL DEFAULT 0,"
            " events bigint NOT NULL DEFAULT 0,"
            " PRIMARY KEY (subscription, source));"
            "COMMIT;"
            "SELECT value FROM wec_meta WHERE name = 'schema'")
        == 0)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": cannot create the tables: %s",
                      &pcf->label,
                      ngx_wsman_wec_pg_msg(msg, PQerrorMessage(conn)));
        return NGX_ERROR;
    }

    res = ngx_wsman_wec_pg_wait(store, conn, log, "creating the tables");
    if (res == NULL) {
        return NGX_ERROR;
    }

    version = (PQntuples(res) == 1) ? strtol(PQgetvalue(res, 0, 0), NULL, 10)
                                    : -1;
    PQclear(res);

    if (version != NGX_WSMAN_WEC_PG_SCHEMA) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": schema version %L, this "
                      "module knows %d only", &pcf->label, (int64_t) version,
                      NGX_WSMAN_WEC_PG_SCHEMA);
        return NGX_ERROR;
    }

    for (i = 0; i < sizeof(ngx_wsman_wec_pg_stmts)
                    / sizeof(ngx_wsman_wec_pg_stmts[0]); i++)
    {
        if (PQsendPrepare(conn, ngx_wsman_wec_pg_stmts[i].name,
                          ngx_wsman_wec_pg_stmts[i].sql,
                          ngx_wsman_wec_pg_stmts[i].nparams, NULL)
            == 0)
        {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wsman wec store \"%V\": cannot prepare: %s",
                          &pcf->label,
                          ngx_wsman_wec_pg_msg(msg, PQerrorMessage(conn)));
            return NGX_ERROR;
        }

        res = ngx_wsman_wec_pg_wait(store, conn, log, "preparing");
        if (res == NULL) {
            return NGX_ERROR;
        }

        PQclear(res);
    }

    return NGX_OK;
}


/* a prepared statement, its last result or NULL (logged; the connection
 * dropped when it is broken or out of time); store->lock held */
static PGresult *
ngx_wsman_wec_pg_exec(ngx_wsman_wec_store_t *store, const char *name,
    ngx_wsman_wec_pg_params_t *p, ngx_log_t *log, const char *what)
{
    u_char                    msg[NGX_WSMAN_WEC_PG_MSG];
    PGconn                   *conn;
    ngx_wsman_wec_pg_conf_t  *pcf;

    pcf = store->conf;

    conn = ngx_wsman_wec_pg_open(store, log);
    if (conn == NULL) {
        return NULL;
    }

    if (PQsendQueryPrepared(conn, name, (int) p->n, p->values, p->lengths,
                            p->formats, 0)
        == 0)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": %s failed: %s",
                      &pcf->label, what,
                      ngx_wsman_wec_pg_msg(msg, PQerrorMessage(conn)));
        ngx_wsman_wec_pg_drop(store);
        return NULL;
    }

    return ngx_wsman_wec_pg_wait(store, conn, log, what);
}


/* every result of what was sent; the last one when all went well */
static PGresult *
ngx_wsman_wec_pg_wait(ngx_wsman_wec_store_t *store, PGconn *conn,
    ngx_log_t *log, const char *what)
{
    u_char                    msg[NGX_WSMAN_WEC_PG_MSG];
    int                       status;
    int64_t                   deadline;
    PGresult                 *res, *last;
    ngx_int_t                 rc;
    ngx_uint_t                failed;
    ngx_wsman_wec_pg_conf_t  *pcf;

    pcf = store->conf;
    deadline = ngx_wsman_wec_pg_now() + pcf->timeout;
    last = NULL;
    failed = 0;

    for ( ;; ) {
        rc = ngx_wsman_wec_pg_get(conn, deadline, &res);

        if (rc != NGX_OK) {
            if (rc == NGX_DECLINED) {
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "wsman wec store \"%V\": %s timed out after "
                              "%L ms", &pcf->label, what,
                              (int64_t) pcf->timeout);

            } else if (failed == 0) {
                /* (a result said why already otherwise) */
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "wsman wec store \"%V\": %s failed: %s",
                              &pcf->label, what,
                              ngx_wsman_wec_pg_msg(msg, PQerrorMessage(conn)));
            }

            PQclear(last);
            goto drop;
        }

        if (res == NULL) {
            break;
        }

        status = PQresultStatus(res);

        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK
            && failed++ == 0)
        {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wsman wec store \"%V\": %s failed: %s",
                          &pcf->label, what,
                          ngx_wsman_wec_pg_msg(msg, PQresultErrorMessage(res)));
        }

        PQclear(last);
        last = res;
    }

    if (failed == 0 && last) {
        return last;
    }

    PQclear(last);

    if (PQstatus(conn) == CONNECTION_OK) {
        /* the statement's error, the connection is fine */
        return NULL;
    }

drop:

    if (store->state && ((ngx_wsman_wec_pg_t *) store->state)->conn == conn)
    {
        ngx_wsman_wec_pg_drop(store);
    }

    return NULL;
}


/*
 * the next result, waiting for the socket until deadline: NGX_OK (res
 * NULL when a query's results are over), NGX_DECLINED when out of time,
 * NGX_ERROR when the connection broke
 */
static ngx_int_t
ngx_wsman_wec_pg_get(PGconn *conn, int64_t deadline, PGresult **res)
{
    int            rc, flush;
    int64_t        left;
    struct pollfd  pfd;

    for ( ;; ) {
        flush = PQflush(conn);
        if (flush < 0) {
            return NGX_ERROR;
        }

        if (!PQisBusy(conn)) {
            *res = PQgetResult(conn);
            return NGX_OK;
        }

        left = deadline - ngx_wsman_wec_pg_now();
        if (left <= 0) {
            return NGX_DECLINED;
        }

        pfd.fd = PQsocket(conn);
        pfd.events = POLLIN | (flush ? POLLOUT : 0);
        pfd.revents = 0;

        if (pfd.fd < 0) {
            return NGX_ERROR;
        }

        rc = poll(&pfd, 1, (int) ngx_min(left, 1000000));

        if (rc < 0 && ngx_errno != NGX_EINTR) {
            return NGX_ERROR;
        }

        if (rc > 0 && (pfd.revents & (POLLIN|POLLERR|POLLHUP))
            && PQconsumeInput(conn) == 0)
        {
            return NGX_ERROR;
        }
    }
}


static void
ngx_wsman_wec_pg_drop(ngx_wsman_wec_store_t *store)
{
    ngx_wsman_wec_pg_t  *st;

    st = store->state;

    if (st == NULL) {
        return;
    }

    PQfinish(st->conn);
    ngx_free(st);

    store->state = NULL;
}


static int64_t
ngx_wsman_wec_pg_now(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* a libpq message (lines ending in "\n", continued with "\t") as one
 * line: the error log has one entry a line */
static u_char *
ngx_wsman_wec_pg_line(u_char *buf, size_t size, const char *text)
{
    size_t  n;
    u_char  c, last;

    n = 0;
    last = ' ';

    for ( /* void */ ; text && *text && n < size - 1; text++) {
        c = (u_char) *text;

        if (c < ' ' || c == 0x7f) {
            c = ' ';
        }

        if (c == ' ' && last == ' ') {
            continue;
        }

        buf[n++] = c;
        last = c;
    }

    if (n && last == ' ') {
        n--;
    }

    buf[n] = '\0';

    return buf;
}


/* the server's notices ("terminating connection ...") go to the error
 * log, not to nginx's stderr, libpq's default */
static void
ngx_wsman_wec_pg_notice(void *arg, const char *message)
{
    ngx_log_t  *log = arg;

    u_char  msg[NGX_WSMAN_WEC_PG_MSG];

    ngx_log_error(NGX_LOG_NOTICE, log, 0, "wsman wec store: %s",
                  ngx_wsman_wec_pg_msg(msg, message));
}


/* text in the binary format: the bytes with their length, no NUL needed;
 * an empty one is '', never SQL NULL */
static void
ngx_wsman_wec_pg_str(ngx_wsman_wec_pg_params_t *p, ngx_str_t *s)
{
    p->values[p->n] = s->len ? (const char *) s->data : "";
    p->lengths[p->n] = (int) s->len;
    p->formats[p->n] = 1;
    p->n++;
}


static void
ngx_wsman_wec_pg_num(ngx_wsman_wec_pg_params_t *p, int64_t n)
{
    u_char  *last;

    last = ngx_sprintf(p->num[p->nnum], "%L", n);
    *last = '\0';

    p->values[p->n] = (const char *) p->num[p->nnum];
    p->lengths[p->n] = 0;
    p->formats[p->n] = 0;
    p->n++;
    p->nnum++;
}


static ngx_int_t
ngx_wsman_wec_pg_copy(ngx_pool_t *pool, PGresult *res, int row, int col,
    ngx_str_t *s)
{
    int  len;

    len = PQgetlength(res, row, col);

    if (len <= 0) {
        ngx_str_null(s);
        return NGX_OK;
    }

    s->data = ngx_pnalloc(pool, len + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, PQgetvalue(res, row, col), len);
    s->data[len] = '\0';
    s->len = len;

    return NGX_OK;
}


static int
ngx_wsman_wec_pg_cmp(const void *one, const void *two)
{
    ngx_int_t                rc;
    ngx_wsman_wec_source_t  *a, *b;

    a = *(ngx_wsman_wec_source_t **) one;
    b = *(ngx_wsman_wec_source_t **) two;

    rc = ngx_memn2cmp(a->subscription.data, b->subscription.data,
                      a->subscription.len, b->subscription.len);
    if (rc != 0) {
        return (int) rc;
    }

    return (int) ngx_memn2cmp(a->source.data, b->source.data,
                              a->source.len, b->source.len);
}


/* UTF-8 as PostgreSQL takes it (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) and no NUL */
static ngx_int_t
ngx_wsman_wec_pg_utf8(ngx_str_t *s)
{
    u_char      *p, *last;
    uint32_t     u, min;
    ngx_uint_t   n, i;

    p = s->data;
    last = p + s->len;

    while (p < last) {
        u = *p++;

        if (u < 0x80) {
            if (u == 0) {
                return NGX_ERROR;
            }

            continue;
        }

        if (u >= 0xf0 && u < 0xf5) {
            n = 3; u &= 0x07; min = 0x10000;

        } else if (u >= 0xe0 && u < 0xf0) {
            n = 2; u &= 0x0f; min = 0x800;

        } else if (u >= 0xc2 && u < 0xe0) {
            n = 1; u &= 0x1f; min = 0x80;

        } else {
            return NGX_ERROR;
        }

        if ((size_t) (last - p) < n) {
            return NGX_ERROR;
        }

        for (i = 0; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return NGX_ERROR;
            }

            u = (u << 6) | (p[i] & 0x3f);
        }

        p += n;

        if (u < min || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
