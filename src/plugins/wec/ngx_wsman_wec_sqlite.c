/*
 * The event collector's state store in one SQLite file (the default):
 * every worker opens it on its own (lazily, in a pool thread), WAL mode so
 * readers never wait for the writer, a busy timeout so two workers
 * writing at once wait for each other instead of failing, prepared
 * statements with bound parameters only.
 */

#include "ngx_wsman_wec.h"

#include <sqlite3.h>


/* what one worker waits for another's write transaction, at most */
#define NGX_WSMAN_WEC_SQLITE_BUSY_MS  5000

/* the table layout this code writes; a newer one is not touched */
#define NGX_WSMAN_WEC_SQLITE_SCHEMA   1


typedef struct {
    ngx_str_t                  path;         /* NUL-terminated */
} ngx_wsman_wec_sqlite_conf_t;


enum {
    NGX_WSMAN_WEC_SQLITE_BATCH = 0,
    NGX_WSMAN_WEC_SQLITE_HEARTBEAT,
    NGX_WSMAN_WEC_SQLITE_BOOKMARK,
    NGX_WSMAN_WEC_SQLITE_LIST,
    NGX_WSMAN_WEC_SQLITE_BEGIN,
    NGX_WSMAN_WEC_SQLITE_COMMIT,
    NGX_WSMAN_WEC_SQLITE_ROLLBACK,
    NGX_WSMAN_WEC_SQLITE_NSTMTS
};


typedef struct {
    sqlite3                   *db;
    sqlite3_stmt              *stmt[NGX_WSMAN_WEC_SQLITE_NSTMTS];
} ngx_wsman_wec_sqlite_t;


static char *ngx_wsman_wec_sqlite_configure(ngx_conf_t *cf,
    ngx_wsman_wec_store_t *store, ngx_str_t *address);
static ngx_int_t ngx_wsman_wec_sqlite_save_batch(ngx_wsman_wec_store_t *store,
    ngx_wsman_wec_batch_t *batch);
static ngx_int_t ngx_wsman_wec_sqlite_save_heartbeats(
    ngx_wsman_wec_store_t *store, ngx_wsman_wec_source_t *rows, ngx_uint_t n,
    ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_sqlite_load_bookmark(
    ngx_wsman_wec_store_t *store, ngx_str_t *subscription, ngx_str_t *source,
    ngx_pool_t *pool, ngx_str_t *bookmark, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_sqlite_list(ngx_wsman_wec_store_t *store,
    ngx_pool_t *pool, ngx_array_t **rows, ngx_log_t *log);
static void ngx_wsman_wec_sqlite_close(ngx_wsman_wec_store_t *store);

static ngx_int_t ngx_wsman_wec_sqlite_dir(ngx_conf_t *cf, ngx_str_t *file);
static void ngx_wsman_wec_sqlite_check(ngx_conf_t *cf, ngx_str_t *file,
    ngx_str_t *dir, ngx_file_info_t *di);
static ngx_wsman_wec_sqlite_t *ngx_wsman_wec_sqlite_open(
    ngx_wsman_wec_store_t *store, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_sqlite_schema(ngx_wsman_wec_store_t *store,
    sqlite3 *db, ngx_log_t *log);
static void ngx_wsman_wec_sqlite_fail(ngx_wsman_wec_store_t *store,
    ngx_log_t *log, const char *what);
static int ngx_wsman_wec_sqlite_bind(sqlite3_stmt *stmt, int i,
    ngx_str_t *s);
static ngx_int_t ngx_wsman_wec_sqlite_text(ngx_pool_t *pool,
    sqlite3_stmt *stmt, int col, ngx_str_t *s);
static ngx_int_t ngx_wsman_wec_sqlite_step(ngx_wsman_wec_sqlite_t *st,
    ngx_uint_t which);
static ngx_int_t ngx_wsman_wec_sqlite_utf8(ngx_str_t *s);


ngx_wsman_wec_store_type_t  ngx_wsman_wec_sqlite_store = {
    ngx_string("sqlite"),
    ngx_wsman_wec_sqlite_configure,
    ngx_wsman_wec_sqlite_save_batch,
    ngx_wsman_wec_sqlite_save_heartbeats,
    ngx_wsman_wec_sqlite_load_bookmark,
    ngx_wsman_wec_sqlite_list,
    ngx_wsman_wec_sqlite_close
};


/* in the order of the enum above */
static const char  *ngx_wsman_wec_sqlite_sql[] = {

    /*
     * an empty bookmark (the message had none) keeps the stored one;
     * times never go back when two workers race; a batch that comes
     * again with the bookmark already stored (its Ack was lost, or it
     * timed out here after all) is not counted twice
     */
    "INSERT INTO wec_sources (subscription, source, machine, bookmark, "
    "first_seen, last_seen, last_event, last_heartbeat, events) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, 0, ?7) "
    "ON CONFLICT (subscription, source) DO UPDATE SET "
    "machine = CASE WHEN excluded.machine <> '' THEN excluded.machine "
    "ELSE machine END, "
    "bookmark = CASE WHEN excluded.bookmark <> '' THEN excluded.bookmark "
    "ELSE bookmark END, "
    "last_seen = MAX(last_seen, excluded.last_seen), "
    "last_event = MAX(last_event, excluded.last_event), "
    "events = CASE WHEN excluded.bookmark <> '' "
    "AND excluded.bookmark = bookmark THEN events "
    "ELSE events + excluded.events END",

    "INSERT INTO wec_sources (subscription, source, machine, bookmark, "
    "first_seen, last_seen, last_event, last_heartbeat, events) "
    "VALUES (?1, ?2, ?3, '', ?4, ?5, 0, ?6, 0) "
    "ON CONFLICT (subscription, source) DO UPDATE SET "
    "machine = CASE WHEN excluded.machine <> '' THEN excluded.machine "
    "ELSE machine END, "
    "last_seen = MAX(last_seen, excluded.last_seen), "
    "last_heartbeat = MAX(last_heartbeat, excluded.last_heartbeat)",

    "SELECT bookmark FROM wec_sources "
    "WHERE subscription = ?1 AND source = ?2",

    "SELECT subscription, source, machine, bookmark, first_seen, "
    "last_seen, last_event, last_heartbeat, events FROM wec_sources "
    "ORDER BY subscription, source",

    /* IMMEDIATE: take the write lock now (waiting busy_timeout for it),
     * not halfway through, where SQLite could only give up */
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK"
};


static char *
ngx_wsman_wec_sqlite_configure(ngx_conf_t *cf, ngx_wsman_wec_store_t *store,
    ngx_str_t *address)
{
    ngx_wsman_wec_sqlite_conf_t  *scf;

    if (address->len == 0
        || ngx_strlchr(address->data, address->data + address->len, '\0')
           != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sqlite:\" needs the path of the state file");
        return NGX_CONF_ERROR;
    }

    scf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_wec_sqlite_conf_t));
    if (scf == NULL) {
        return NGX_CONF_ERROR;
    }

    /* a copy: ngx_conf_full_name() may replace it, and it must end in a
     * NUL for sqlite3_open_v2() */
    scf->path.len = address->len;
    scf->path.data = ngx_pnalloc(cf->pool, address->len + 1);
    if (scf->path.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(scf->path.data, address->data, address->len);
    scf->path.data[address->len] = '\0';

    /* relative to the prefix (-p), as nginx's own files */
    if (ngx_conf_full_name(cf->cycle, &scf->path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_wsman_wec_sqlite_dir(cf, &scf->path) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    store->conf = scf;

    return NGX_CONF_OK;
}


/*
 * The workers (www-data, say) write the file and SQLite's -wal and -shm
 * next to it, so they need its directory.  One that does not exist yet
 * is made by nginx's master for the workers' user, as it makes its temp
 * paths (ngx_create_paths(): mkdir 0700, chown); one that exists is the
 * administrator's and left as it is.
 */
static ngx_int_t
ngx_wsman_wec_sqlite_dir(ngx_conf_t *cf, ngx_str_t *file)
{
    u_char           *slash;
    ngx_path_t       *path;
    ngx_file_info_t   fi;

    slash = file->data + file->len;

    while (slash > file->data && slash[-1] != '/') {
        slash--;
    }

    /* "/state.db": the root directory, there to stay */
    if (slash - file->data <= 1) {
        return NGX_OK;
    }

    path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (path == NULL) {
        return NGX_ERROR;
    }

    path->name.len = slash - 1 - file->data;
    path->name.data = ngx_pnalloc(cf->pool, path->name.len + 1);
    if (path->name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(path->name.data, file->data, path->name.len);
    path->name.data[path->name.len] = '\0';

    if (ngx_file_info(path->name.data, &fi) != NGX_FILE_ERROR) {
        ngx_wsman_wec_sqlite_check(cf, file, &path->name, &fi);
        return NGX_OK;
    }

    if (ngx_errno != NGX_ENOENT) {
        return NGX_OK;
    }

    if (cf->conf_file) {
        path->conf_file = cf->conf_file->file.name.data;
        path->line = cf->conf_file->line;
    }

    return ngx_add_path(cf, &path) == NGX_OK ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_wsman_wec_sqlite_save_batch(ngx_wsman_wec_store_t *store,
    ngx_wsman_wec_batch_t *batch)
{
    int                           rc;
    ngx_int_t                     ret;
    sqlite3_stmt                 *stmt;
    ngx_wsman_wec_sqlite_t       *st;
    ngx_wsman_wec_sqlite_conf_t  *scf;

    scf = store->conf;

    if (ngx_wsman_wec_sqlite_utf8(&batch->subscription) != NGX_OK
        || ngx_wsman_wec_sqlite_utf8(&batch->source) != NGX_OK
        || ngx_wsman_wec_sqlite_utf8(&batch->machine) != NGX_OK
        || ngx_wsman_wec_sqlite_utf8(&batch->bookmark) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                      "wsman wec store \"%V\": a name or the bookmark of "
                      "a batch is not UTF-8 text (not logged), batch not "
                      "stored",
                      &scf->path);
        return NGX_ERROR;
    }

    pthread_mutex_lock(&store->lock);

    st = ngx_wsman_wec_sqlite_open(store, batch->log);
    if (st == NULL) {
        pthread_mutex_unlock(&store->lock);
        return NGX_ERROR;
    }

    stmt = st->stmt[NGX_WSMAN_WEC_SQLITE_BATCH];

    rc = ngx_wsman_wec_sqlite_bind(stmt, 1, &batch->subscription);
    rc = rc ? rc : ngx_wsman_wec_sqlite_bind(stmt, 2, &batch->source);
    rc = rc ? rc : ngx_wsman_wec_sqlite_bind(stmt, 3, &batch->machine);
    rc = rc ? rc : ngx_wsman_wec_sqlite_bind(stmt, 4, &batch->bookmark);
    rc = rc ? rc : sqlite3_bind_int64(stmt, 5, batch->received);
    rc = rc ? rc : sqlite3_bind_int64(stmt, 6,
                                      batch->nevents ? batch->received : 0);
    rc = rc ? rc : sqlite3_bind_int64(stmt, 7,
                                      (sqlite3_int64) batch->nevents);

    if (rc != SQLITE_OK
        || ngx_wsman_wec_sqlite_step(st, NGX_WSMAN_WEC_SQLITE_BATCH)
           != NGX_OK)
    {
        ngx_wsman_wec_sqlite_fail(store, batch->log, "saving a batch");
        ret = NGX_ERROR;

    } else {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, batch->log, 0,
                       "wsman wec sqlite: %V/%V: %ui events stored",
                       &batch->subscription, &batch->source,
                       batch->nevents);
        ret = NGX_OK;
    }

    pthread_mutex_unlock(&store->lock);

    return ret;
}


static ngx_int_t
ngx_wsman_wec_sqlite_save_heartbeats(ngx_wsman_wec_store_t *store,
    ngx_wsman_wec_source_t *rows, ngx_uint_t n, ngx_log_t *log)
{
    int                           rc;
    ngx_uint_t                    i;
    sqlite3_stmt                 *stmt;
    ngx_wsman_wec_sqlite_t       *st;
    ngx_wsman_wec_source_t       *r;
    ngx_wsman_wec_sqlite_conf_t  *scf;

    if (n == 0) {
        return NGX_OK;
    }

    scf = store->conf;

    pthread_mutex_lock(&store->lock);

    st = ngx_wsman_wec_sqlite_open(store, log);
    if (st == NULL) {
        pthread_mutex_unlock(&store->lock);
        return NGX_ERROR;
    }

    /* one transaction for all: one write lock, one commit, one sync */
    if (ngx_wsman_wec_sqlite_step(st, NGX_WSMAN_WEC_SQLITE_BEGIN) != NGX_OK) {
        ngx_wsman_wec_sqlite_fail(store, log, "starting the heartbeats");
        pthread_mutex_unlock(&store->lock);
        return NGX_ERROR;
    }

    stmt = st->stmt[NGX_WSMAN_WEC_SQLITE_HEARTBEAT];

    for (i = 0; i < n; i++) {
        r = &rows[i];

        /*
         * the same rows go to PostgreSQL, which refuses text that is not
         * UTF-8 and with it the whole flush: one bad name must not cost
         * every other source its heartbeat
         */
        if (ngx_wsman_wec_sqlite_utf8(&r->subscription) != NGX_OK
            || ngx_wsman_wec_sqlite_utf8(&r->source) != NGX_OK
            || ngx_wsman_wec_sqlite_utf8(&r->machine) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "wsman wec store \"%V\": heartbeat of a source "
                          "whose name is not UTF-8 text skipped",
                          &scf->path);
            continue;
        }

        rc = ngx_wsman_wec_sqlite_bind(stmt, 1, &r->subscription);
        rc = rc ? rc : ngx_wsman_wec_sqlite_bind(stmt, 2, &r->source);
        rc = rc ? rc : ngx_wsman_wec_sqlite_bind(stmt, 3, &r->machine);
        rc = rc ? rc : sqlite3_bind_int64(stmt, 4,
                                          r->first_seen ? r->first_seen
                                                        : r->last_seen);
        rc = rc ? rc : sqlite3_bind_int64(stmt, 5, r->last_seen);
        rc = rc ? rc : sqlite3_bind_int64(stmt, 6, r->last_heartbeat);

        if (rc != SQLITE_OK
            || ngx_wsman_wec_sqlite_step(st, NGX_WSMAN_WEC_SQLITE_HEARTBEAT)
               != NGX_OK)
        {
            goto failed;
        }
    }

    if (ngx_wsman_wec_sqlite_step(st, NGX_WSMAN_WEC_SQLITE_COMMIT) != NGX_OK)
    {
        goto failed;
    }

    pthread_mutex_unlock(&store->lock);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "wsman wec sqlite: %ui heartbeats stored", n);

    return NGX_OK;

failed:

    /* the message first: ROLLBACK would replace it */
    ngx_wsman_wec_sqlite_fail(store, log, "saving heartbeats");

    if (store->state) {
        (void) ngx_wsman_wec_sqlite_step(store->state,
                                         NGX_WSMAN_WEC_SQLITE_ROLLBACK);
    }

    pthread_mutex_unlock(&store->lock);

    return NGX_ERROR;
}


static ngx_int_t
ngx_wsman_wec_sqlite_load_bookmark(ngx_wsman_wec_store_t *store,
    ngx_str_t *subscription, ngx_str_t *source, ngx_pool_t *pool,
    ngx_str_t *bookmark, ngx_log_t *log)
{
    int                      rc;
    ngx_int_t                ret;
    sqlite3_stmt            *stmt;
    ngx_wsman_wec_sqlite_t  *st;

    ngx_str_null(bookmark);

    pthread_mutex_lock(&store->lock);

    st = ngx_wsman_wec_sqlite_open(store, log);
    if (st == NULL) {
        pthread_mutex_unlock(&store->lock);
        return NGX_ERROR;
    }

    stmt = st->stmt[NGX_WSMAN_WEC_SQLITE_BOOKMARK];

    rc = ngx_wsman_wec_sqlite_bind(stmt, 1, subscription);
    rc = rc ? rc : ngx_wsman_wec_sqlite_bind(stmt, 2, source);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }

    if (rc == SQLITE_ROW) {
        ret = ngx_wsman_wec_sqlite_text(pool, stmt, 0, bookmark);

    } else if (rc == SQLITE_DONE) {
        ret = NGX_OK;

    } else {
        ngx_wsman_wec_sqlite_fail(store, log, "loading a bookmark");
        ret = NGX_ERROR;
    }

    if (store->state) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }

    pthread_mutex_unlock(&store->lock);

    return ret;
}


static ngx_int_t
ngx_wsman_wec_sqlite_list(ngx_wsman_wec_store_t *store, ngx_pool_t *pool,
    ngx_array_t **rows, ngx_log_t *log)
{
    int                      rc;
    ngx_int_t                ret;
    ngx_array_t             *a;
    sqlite3_stmt            *stmt;
    ngx_wsman_wec_source_t  *r;
    ngx_wsman_wec_sqlite_t  *st;

    a = ngx_array_create(pool, 16, sizeof(ngx_wsman_wec_source_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    pthread_mutex_lock(&store->lock);

    st = ngx_wsman_wec_sqlite_open(store, log);
    if (st == NULL) {
        pthread_mutex_unlock(&store->lock);
        return NGX_ERROR;
    }

    stmt = st->stmt[NGX_WSMAN_WEC_SQLITE_LIST];
    ret = NGX_OK;

    for ( ;; ) {
        rc = sqlite3_step(stmt);

        if (rc == SQLITE_DONE) {
            break;
        }

        if (rc != SQLITE_ROW) {
            ngx_wsman_wec_sqlite_fail(store, log, "listing the sources");
            ret = NGX_ERROR;
            break;
        }

        r = ngx_array_push(a);
        if (r == NULL
            || ngx_wsman_wec_sqlite_text(pool, stmt, 0, &r->subscription)
               != NGX_OK
            || ngx_wsman_wec_sqlite_text(pool, stmt, 1, &r->source) != NGX_OK
            || ngx_wsman_wec_sqlite_text(pool, stmt, 2, &r->machine)
               != NGX_OK
            || ngx_wsman_wec_sqlite_text(pool, stmt, 3, &r->bookmark)
               != NGX_OK)
        {
            ret = NGX_ERROR;
            break;
        }

        r->first_seen = (time_t) sqlite3_column_int64(stmt, 4);
        r->last_seen = (time_t) sqlite3_column_int64(stmt, 5);
        r->last_event = (time_t) sqlite3_column_int64(stmt, 6);
        r->last_heartbeat = (time_t) sqlite3_column_int64(stmt, 7);
        r->events = (uint64_t) sqlite3_column_int64(stmt, 8);
    }

    if (store->state) {
        sqlite3_reset(stmt);
    }

    pthread_mutex_unlock(&store->lock);

    if (ret == NGX_OK) {
        *rows = a;
    }

    return ret;
}


static void
ngx_wsman_wec_sqlite_close(ngx_wsman_wec_store_t *store)
{
    ngx_uint_t               i;
    ngx_wsman_wec_sqlite_t  *st;

    st = store->state;

    if (st == NULL) {
        return;
    }

    for (i = 0; i < NGX_WSMAN_WEC_SQLITE_NSTMTS; i++) {
        sqlite3_finalize(st->stmt[i]);
    }

    sqlite3_close_v2(st->db);
    ngx_free(st);

    store->state = NULL;
}


/*
 * nginx -t: a directory (and file) that exist but that the workers'
 * user may not write, as the master running as root sees it; a warning,
 * since ACLs or a later chown may make it right
 */
static void
ngx_wsman_wec_sqlite_check(ngx_conf_t *cf, ngx_str_t *file, ngx_str_t *dir,
    ngx_file_info_t *di)
{
    ngx_file_info_t   fi;
    ngx_core_conf_t  *ccf;

#define ngx_wsman_wec_sqlite_may(fi, u, g, o)                              \
    (((fi)->st_mode & (o)) == (o)                                            \
     || ((fi)->st_uid == ccf->user && ((fi)->st_mode & (u)) == (u))          \
     || ((fi)->st_gid == ccf->group && ((fi)->st_mode & (g)) == (g)))

    if (geteuid() != 0 || cf->cycle->conf_ctx == NULL) {
        return;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf == NULL || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT
        || ccf->user == 0)
    {
        return;
    }

    if (!ngx_wsman_wec_sqlite_may(di, S_IWUSR|S_IXUSR, S_IWGRP|S_IXGRP,
                                  S_IWOTH|S_IXOTH)
        || (ngx_file_info(file->data, &fi) != NGX_FILE_ERROR
            && !ngx_wsman_wec_sqlite_may(&fi, S_IWUSR, S_IWGRP, S_IWOTH)))
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_wec_store \"%V\": the workers' user may "
                           "not write it or its directory \"%V\" (SQLite "
                           "adds -wal and -shm files there): events will "
                           "not be acknowledged", file, dir);
    }

#undef ngx_wsman_wec_sqlite_may
}


/* the worker's connection, opened on first use and after an error;
 * called with store->lock held */
static ngx_wsman_wec_sqlite_t *
ngx_wsman_wec_sqlite_open(ngx_wsman_wec_store_t *store, ngx_log_t *log)
{
    int                           rc;
    sqlite3                      *db;
    ngx_uint_t                    i;
    ngx_wsman_wec_sqlite_t       *st;
    ngx_wsman_wec_sqlite_conf_t  *scf;

    if (store->state) {
        return store->state;
    }

    scf = store->conf;
    db = NULL;

    /* NOMUTEX: store->lock already keeps this connection to one thread */
    rc = sqlite3_open_v2((char *) scf->path.data, &db,
                         SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                         |SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": cannot open: %s",
                      &scf->path,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return NULL;
    }

    /* SQLite opens a file it may not write read-only, silently */
    if (sqlite3_db_readonly(db, "main") != 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": not writable by the worker",
                      &scf->path);
        sqlite3_close_v2(db);
        return NULL;
    }

    sqlite3_busy_timeout(db, NGX_WSMAN_WEC_SQLITE_BUSY_MS);

    if (ngx_wsman_wec_sqlite_schema(store, db, log) != NGX_OK) {
        sqlite3_close_v2(db);
        return NULL;
    }

    st = ngx_alloc(sizeof(ngx_wsman_wec_sqlite_t), log);
    if (st == NULL) {
        sqlite3_close_v2(db);
        return NULL;
    }

    ngx_memzero(st, sizeof(ngx_wsman_wec_sqlite_t));
    st->db = db;

    for (i = 0; i < NGX_WSMAN_WEC_SQLITE_NSTMTS; i++) {
        rc = sqlite3_prepare_v3(db, ngx_wsman_wec_sqlite_sql[i], -1,
                                SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                                NULL);
        if (rc != SQLITE_OK) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wsman wec store \"%V\": cannot prepare a "
                          "statement: %s", &scf->path, sqlite3_errmsg(db));
            store->state = st;
            ngx_wsman_wec_sqlite_close(store);
            return NULL;
        }
    }

    store->state = st;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "wsman wec sqlite: \"%V\" opened", &scf->path);

    return st;
}


/* the table, made by the first worker to get there (the others wait for
 * its write lock, then find it made) */
static ngx_int_t
ngx_wsman_wec_sqlite_schema(ngx_wsman_wec_store_t *store, sqlite3 *db,
    ngx_log_t *log)
{
    int                           rc;
    char                         *err;
    sqlite3_int64                 version;
    sqlite3_stmt                 *stmt;
    ngx_wsman_wec_sqlite_conf_t  *scf;

    scf = store->conf;
    err = NULL;

    /*
     * WAL: the workers' readers (list, bookmarks) do not wait for a
     * writer.  synchronous=NORMAL: a commit survives the worker's crash;
     * only a power cut may lose the last ones, and a lost bookmark means
     * events delivered twice, never events lost
     */
    rc = sqlite3_exec(db,
             "PRAGMA journal_mode = WAL;"
             "PRAGMA synchronous = NORMAL;"
             "BEGIN IMMEDIATE;"
             "CREATE TABLE IF NOT EXISTS wec_meta ("
             " name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
             "INSERT INTO wec_meta (name, value) VALUES ('schema', 1)"
             " ON CONFLICT (name) DO NOTHING;"
             "CREATE TABLE IF NOT EXISTS wec_sources ("
             " subscription TEXT NOT NULL,"
             " source TEXT NOT NULL,"
             " machine TEXT NOT NULL DEFAULT '',"
             " bookmark TEXT NOT NULL DEFAULT '',"
             " first_seen INTEGER NOT NULL,"
             " last_seen INTEGER NOT NULL,"
             " last_event INTEGER NOT NULL DEFAULT 0,"
             " last_heartbeat INTEGER NOT NULL DEFAULT 0,"
             " events INTEGER NOT NULL DEFAULT 0,"
             " PRIMARY KEY (subscription, source));"
             "COMMIT;",
             NULL, NULL, &err);

    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": cannot create the tables: %s",
                      &scf->path, err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return NGX_ERROR;
    }

    rc = sqlite3_prepare_v2(db,
                            "SELECT value FROM wec_meta WHERE name = 'schema'",
                            -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        goto failed;
    }

    rc = sqlite3_step(stmt);
    version = (rc == SQLITE_ROW) ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);

    if (rc != SQLITE_ROW) {
        goto failed;
    }

    if (version != NGX_WSMAN_WEC_SQLITE_SCHEMA) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman wec store \"%V\": schema version %L, this "
                      "module knows %d only", &scf->path, (int64_t) version,
                      NGX_WSMAN_WEC_SQLITE_SCHEMA);
        return NGX_ERROR;
    }

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "wsman wec store \"%V\": cannot read the schema "
                  "version: %s", &scf->path, sqlite3_errmsg(db));
    return NGX_ERROR;
}


/* logs the connection's error and drops it: the next call reopens */
static void
ngx_wsman_wec_sqlite_fail(ngx_wsman_wec_store_t *store, ngx_log_t *log,
    const char *what)
{
    ngx_uint_t                    i;
    ngx_wsman_wec_sqlite_t       *st;
    ngx_wsman_wec_sqlite_conf_t  *scf;

    scf = store->conf;
    st = store->state;

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "wsman wec store \"%V\": %s failed: %s", &scf->path, what,
                  st ? sqlite3_errmsg(st->db) : "not open");

    /*
     * a busy database (another worker held the write lock longer than
     * the busy timeout) is no reason to reopen; anything else may be a
     * replaced or broken file
     */
    if (st == NULL) {
        return;
    }

    if (sqlite3_errcode(st->db) == SQLITE_BUSY
        || sqlite3_errcode(st->db) == SQLITE_LOCKED
        || sqlite3_get_autocommit(st->db) == 0)   /* the caller rolls back */
    {
        for (i = 0; i < NGX_WSMAN_WEC_SQLITE_NSTMTS; i++) {
            sqlite3_reset(st->stmt[i]);
            sqlite3_clear_bindings(st->stmt[i]);
        }

        return;
    }

    ngx_wsman_wec_sqlite_close(store);
}


/* an ngx_str_t as TEXT: an empty one is '', never NULL */
static int
ngx_wsman_wec_sqlite_bind(sqlite3_stmt *stmt, int i, ngx_str_t *s)
{
    return sqlite3_bind_text(stmt, i,
                             s->len ? (const char *) s->data : "",
                             (int) s->len, SQLITE_TRANSIENT);
}


static ngx_int_t
ngx_wsman_wec_sqlite_text(ngx_pool_t *pool, sqlite3_stmt *stmt, int col,
    ngx_str_t *s)
{
    int                   len;
    const unsigned char  *p;

    p = sqlite3_column_text(stmt, col);
    len = sqlite3_column_bytes(stmt, col);

    if (p == NULL || len <= 0) {
        ngx_str_null(s);
        return NGX_OK;
    }

    s->data = ngx_pnalloc(pool, len + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, p, len);
    s->data[len] = '\0';
    s->len = len;

    return NGX_OK;
}


/* runs a statement that returns no rows, ready for its next use */
static ngx_int_t
ngx_wsman_wec_sqlite_step(ngx_wsman_wec_sqlite_t *st, ngx_uint_t which)
{
    int  rc;

    rc = sqlite3_step(st->stmt[which]);

    /* reset() would replace the error message with its own */
    if (rc != SQLITE_DONE) {
        return NGX_ERROR;
    }

    sqlite3_reset(st->stmt[which]);
    sqlite3_clear_bindings(st->stmt[which]);

    return NGX_OK;
}


/*
 * UTF-8 as PostgreSQL takes it (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) and no NUL: the same rows go to
 * both stores
 */
static ngx_int_t
ngx_wsman_wec_sqlite_utf8(ngx_str_t *s)
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
