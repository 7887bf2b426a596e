/*
 * Basic credentials against an htpasswd-style user file:
 *
 *     user:hash[:group,group...]
 *
 * Hashes are whatever nginx's auth_basic_user_file accepts (ngx_crypt():
 * {PLAIN}, {SHA}, {SSHA}, $apr1$, and crypt(3): $1$, $5$, $6$, $y$, ...).
 *
 * Each worker parses the file into a table (name -> hash, groups) once
 * per version of the file: the table is keyed by the file's signature
 * (device, inode, size, modification and change times), which one stat()
 * per request compares, so edits apply on the next request as with
 * auth_basic, but the file is not read again while it stays the same.
 * A changed file is read and parsed in the thread pool, not on the event
 * loop (a large file, slow storage): the request waits for the new table,
 * and the requests that need the file meanwhile wait for the same read.
 * The table is installed on the event loop; callers later in the request
 * use it as it is (ngx_wsman_basic_users() made it current).
 *
 * Verifying a hash costs milliseconds to seconds by design (SHA-512
 * crypt, yescrypt), so it never runs on the event loop: the check goes
 * to a thread pool (wsman_user_file ... thread_pool=, by default the
 * module's own "wsman_auth") and the request continues when it is done;
 * a full queue is refused at once with 503.
 *
 * A verified user and password are then remembered for a short while in
 * each worker: SHA-512 crypt costs milliseconds by design, and WinRM
 * clients send Basic credentials with every request.  The cache key is
 * HMAC-SHA256 of "user \0 password" under a random key of the process,
 * so neither the password nor a plain hash of it (which an offline
 * guessing attack could use) is ever kept.  The value is what the check
 * found: the user's groups and SIDs.  An entry is good only while the
 * user file is the very file it was verified against (device, inode,
 * size, modification and change times, one stat() per request), so edits
 * still apply on the next request; a wrong password is never remembered.
 */

#include <ngx_crypt.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ngx_wsman_auth.h"
#include "ngx_wsman_identity.h"
#include "ngx_wsman_log.h"


#define NGX_WSMAN_USER_FILE_MAX   (16 * 1024 * 1024)

/* entries per worker (a power of two: also the number of buckets) */
#define NGX_WSMAN_BASIC_CACHE_SIZE     1024
#define NGX_WSMAN_BASIC_CACHE_TIME     60      /* seconds */

/*
 * A file changed this recently may change again within the same
 * timestamp tick, and the signature would not show it: such a file is
 * checked as usual, but nothing verified against it is remembered.
 */
#define NGX_WSMAN_BASIC_CACHE_SETTLE   2       /* seconds */

#define NGX_WSMAN_BASIC_DIGEST_LEN     32      /* HMAC-SHA256 */

/* hashed when the user is unknown, so a lookup miss costs what a hit does */
#define NGX_WSMAN_DUMMY_HASH                                                \
    "$6$ngxwsmandummy$2Rl/IYv12Bfqdb1rWUqC6Jn6Ea.9X/XKHBAT7nfu5kCSSr7A.2hK" \
    "Xbqa1ZT6wVjp8ddn9q1JX1UQnSqOCD2nq."


typedef struct ngx_wsman_user_entry_s  ngx_wsman_user_entry_t;

struct ngx_wsman_user_entry_s {
    ngx_str_t                  user;
    ngx_str_t                  hash;
    ngx_str_t                  groups;
    ngx_wsman_user_entry_t    *next;           /* same name's bucket */
    ngx_wsman_user_entry_t    *fold_next;      /* same lower case's */
};


/* one version of a user file as parsed by this worker */
typedef struct {
    ngx_pool_t                *pool;           /* content and entries */
    ngx_wsman_basic_file_t     sig;
    ngx_uint_t                 settled;        /* sig shows every edit */
    ngx_uint_t                 nusers;
    ngx_uint_t                 malformed;      /* lines skipped */
    ngx_uint_t                 nbuckets;
    ngx_wsman_user_entry_t   **buckets;        /* by name */
    ngx_wsman_user_entry_t   **fold;           /* by lower-case name */
} ngx_wsman_user_table_t;


typedef struct ngx_wsman_user_file_s  ngx_wsman_user_file_t;

/* a read of a user file on its way through the thread pool */
typedef struct {
    ngx_wsman_user_file_t     *file;
    ngx_str_t                  name;           /* never freed */
    ngx_pool_t                *pool;           /* the thread's until done:
                                                  the new table's */
    ngx_wsman_user_table_t    *table;          /* NULL: the read failed */
} ngx_wsman_users_task_t;


/*
 * A user file as this worker knows it, for the worker's life (it logs to
 * the cycle, never to a request's connection).
 */
struct ngx_wsman_user_file_s {
    ngx_wsman_user_file_t     *next;           /* other files */
    ngx_str_t                  name;           /* NUL-terminated */
    ngx_wsman_user_table_t    *table;          /* the last one read */
    ngx_wsman_users_task_t    *reading;        /* in a thread, or NULL */
    ngx_queue_t                waiting;        /* auth->users_wait */
    unsigned                   failed:1;       /* the last read failed */
};


/* a hash check on its way through the thread pool */
typedef struct {
    ngx_http_request_t        *request;
    ngx_wsman_auth_t          *auth;
    ngx_str_t                  user;
    ngx_str_t                  password;       /* NUL-terminated */
    u_char                    *hash;           /* NUL-terminated copy */
    ngx_str_t                  groups;         /* copy from the table */
    ngx_wsman_basic_file_t     sig;
    u_char                     digest[NGX_WSMAN_BASIC_DIGEST_LEN];
    unsigned                   cache:1;        /* digest is set */
    unsigned                   unknown:1;      /* dummy hash: deny */
    ngx_int_t                  rc;             /* of the check */
    ngx_wsman_account_t        account;        /* NSS, for the SIDs */
} ngx_wsman_basic_task_t;


/* one remembered verification; the SIDs, then the groups follow it */
typedef struct {
    ngx_queue_t                bucket;
    ngx_queue_t                lru;            /* most recent first */
    u_char                     digest[NGX_WSMAN_BASIC_DIGEST_LEN];
    ngx_wsman_loc_conf_t      *conf;           /* file and group SID map */
    ngx_wsman_basic_file_t     file;
    time_t                     expire;
    ngx_uint_t                 nsids;
    ngx_wsman_sid_t           *sids;
    ngx_str_t                  groups;
} ngx_wsman_basic_cached_t;


typedef struct {
    ngx_queue_t                buckets[NGX_WSMAN_BASIC_CACHE_SIZE];
    ngx_queue_t                lru;
    ngx_uint_t                 count;
    EVP_MAC_CTX               *mac;            /* keyed, NULL: cache off */
    ngx_pid_t                  pid;            /* the process it is for */
} ngx_wsman_basic_cache_t;


static ngx_int_t ngx_wsman_basic_read(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *file, ngx_str_t *content, ngx_wsman_basic_file_t *sig);
static void ngx_wsman_basic_sig(ngx_file_info_t *fi,
    ngx_wsman_basic_file_t *sig);
static ngx_wsman_basic_cache_t *ngx_wsman_basic_cache(ngx_log_t *log);
static ngx_int_t ngx_wsman_basic_digest(ngx_wsman_basic_cache_t *cache,
    ngx_str_t *user, ngx_str_t *password, u_char *digest);
static ngx_int_t ngx_wsman_basic_lookup(ngx_wsman_basic_cache_t *cache,
    ngx_pool_t *pool, ngx_wsman_loc_conf_t *lcf, u_char *digest,
    ngx_wsman_basic_file_t *sig, ngx_wsman_identity_t *identity);
static void ngx_wsman_basic_insert(ngx_wsman_basic_cache_t *cache,
    ngx_pool_t *pool, ngx_log_t *log, ngx_wsman_loc_conf_t *lcf,
    u_char *digest, ngx_wsman_basic_file_t *sig,
    ngx_wsman_identity_t *identity);
static void ngx_wsman_basic_drop(ngx_wsman_basic_cache_t *cache,
    ngx_wsman_basic_cached_t *e);
static ngx_queue_t *ngx_wsman_basic_bucket(ngx_wsman_basic_cache_t *cache,
    u_char *digest);
static ngx_int_t ngx_wsman_basic_next(u_char **pos, u_char *end,
    ngx_wsman_user_entry_t *entry, ngx_uint_t *malformed);
static ngx_wsman_user_file_t *ngx_wsman_users_file(ngx_str_t *name,
    ngx_uint_t create);
static ngx_wsman_user_table_t *ngx_wsman_users_load(ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *file);
static void ngx_wsman_users_thread(void *data, ngx_log_t *log);
static void ngx_wsman_users_done(ngx_event_t *ev);
static ngx_wsman_user_table_t *ngx_wsman_users(ngx_log_t *log,
    ngx_str_t *file);
static ngx_wsman_user_entry_t *ngx_wsman_users_find(
    ngx_wsman_user_table_t *t, ngx_str_t *user);
static void ngx_wsman_basic_thread(void *data, ngx_log_t *log);
static void ngx_wsman_basic_done(ngx_event_t *ev);


static ngx_int_t
ngx_wsman_basic_read(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file,
    ngx_str_t *content, ngx_wsman_basic_file_t *sig)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_int_t        rc;
    ngx_file_t       f;
    ngx_file_info_t  fi;

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", file);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", file);
        goto done;
    }

    if (sig) {
        ngx_wsman_basic_sig(&fi, sig);
    }

    if (ngx_file_size(&fi) > NGX_WSMAN_USER_FILE_MAX) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman: user file \"%V\" is too large", file);
        goto done;
    }

    content->len = (size_t) ngx_file_size(&fi);
    content->data = ngx_pnalloc(pool, content->len + 1);
    if (content->data == NULL) {
        goto done;
    }

    ngx_memzero(&f, sizeof(ngx_file_t));
    f.fd = fd;
    f.name = *file;
    f.log = log;

    n = ngx_read_file(&f, content->data, content->len, 0);
    if (n == NGX_ERROR) {
        goto done;
    }

    content->len = (size_t) n;
    rc = NGX_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", file);
    }

    return rc;
}

/* this worker's user files (none in the master: it serves no request) */
static ngx_wsman_user_file_t  *ngx_wsman_user_files;


static ngx_wsman_user_file_t *
ngx_wsman_users_file(ngx_str_t *name, ngx_uint_t create)
{
    ngx_wsman_user_file_t  *f;

    for (f = ngx_wsman_user_files; f; f = f->next) {
        if (f->name.len == name->len
            && ngx_strncmp(f->name.data, name->data, name->len) == 0)
        {
            return f;
        }
    }

    if (!create) {
        return NULL;
    }

    /* one per file of the configuration, kept while the worker lives */
    f = ngx_calloc(sizeof(ngx_wsman_user_file_t) + name->len + 1,
                   ngx_cycle->log);
    if (f == NULL) {
        return NULL;
    }

    f->name.data = (u_char *) f + sizeof(ngx_wsman_user_file_t);
    f->name.len = name->len;
    ngx_memcpy(f->name.data, name->data, name->len);

    ngx_queue_init(&f->waiting);

    f->next = ngx_wsman_user_files;
    ngx_wsman_user_files = f;

    return f;
}


/*
 * Make the table of the location's user file current for this request,
 * before anything uses it.  One stat() on the event loop; the file is
 * read and parsed again only when its signature changed, when the last
 * read failed, or while it is so fresh that the signature could miss a
 * second edit in the same timestamp tick (then every request reads it,
 * as auth_basic does), and that read runs in the location's wsman_auth
 * thread pool.  NGX_OK: current, or the file cannot be read (its users
 * then answer as they always did: NGX_ERROR); NGX_AGAIN: the request
 * waits for a read, its own or one already under way, and
 * ngx_wsman_auth_resume() starts authentication over; NGX_BUSY: the
 * pool's queue is full; NGX_ERROR.
 */
ngx_int_t
ngx_wsman_basic_users(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_auth_t *auth)
{
    ngx_pool_t              *pool;
    ngx_file_info_t          fi;
    ngx_thread_task_t       *task;
    ngx_wsman_basic_file_t   sig;
    ngx_wsman_user_file_t   *f;
    ngx_wsman_users_task_t  *ut;

    if (lcf->user_file.len == 0 || auth->users) {
        return NGX_OK;
    }

    f = ngx_wsman_users_file(&lcf->user_file, 1);
    if (f == NULL) {
        return NGX_ERROR;
    }

    if (f->reading == NULL) {

        /* a failing stat() is reported by the read */
        if (f->table && f->table->settled && !f->failed
            && ngx_file_info(f->name.data, &fi) != NGX_FILE_ERROR)
        {
            ngx_wsman_basic_sig(&fi, &sig);

            if (ngx_memcmp(&sig, &f->table->sig,
                           sizeof(ngx_wsman_basic_file_t))
                == 0)
            {
                auth->users = 1;
                return NGX_OK;
            }
        }

        if (lcf->auth_thread_pool == NULL || auth->done == NULL) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "wsman: no thread pool to read user file \"%V\"",
                          &f->name);
            return NGX_ERROR;
        }

        /* the new table's pool: the thread's alone until it is done */
        pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
        if (pool == NULL) {
            return NGX_ERROR;
        }

        task = ngx_thread_task_alloc(pool, sizeof(ngx_wsman_users_task_t));
        if (task == NULL) {
            ngx_destroy_pool(pool);
            return NGX_ERROR;
        }

        ut = task->ctx;
        ut->file = f;
        ut->name = f->name;
        ut->pool = pool;

        task->handler = ngx_wsman_users_thread;
        task->event.data = task;
        task->event.handler = ngx_wsman_users_done;
        task->event.log = ngx_cycle->log;

        if (ngx_thread_task_post(lcf->auth_thread_pool, task) != NGX_OK) {
            ngx_destroy_pool(pool);

            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "wsman: read of user file \"%V\" for %V refused: "
                          "its thread pool is full", &f->name,
                          &r->connection->addr_text);
            return NGX_BUSY;
        }

        f->reading = ut;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsman: user file \"%V\" read in a thread", &f->name);

    } else {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsman: user file \"%V\" being read: waiting",
                       &f->name);
    }

    /* blocked: kept until ngx_wsman_users_done() resumes it */
    ngx_queue_insert_tail(&f->waiting, &auth->users_wait);
    ngx_wsman_auth_wait(r, auth);

    return NGX_AGAIN;
}


/* in a pool thread: only the task, its pool and the file's name */
static void
ngx_wsman_users_thread(void *data, ngx_log_t *log)
{
    ngx_wsman_users_task_t *ut = data;

    ut->table = ngx_wsman_users_load(ut->pool, log, &ut->name);
}


/* back in the worker: install the table, resume whoever waited for it */
static void
ngx_wsman_users_done(ngx_event_t *ev)
{
    ngx_thread_task_t       *task = ev->data;
    ngx_wsman_users_task_t  *ut = task->ctx;

    ngx_queue_t              waiting, *q;
    ngx_wsman_auth_t        *auth;
    ngx_wsman_user_file_t   *f;
    ngx_wsman_user_table_t  *t;

    f = ut->file;
    t = ut->table;

    f->reading = NULL;

    if (t == NULL) {
        /* the thread logged why; the old table stays, unused */
        f->failed = 1;

        /* the task lives in this pool: not to be touched after */
        ngx_destroy_pool(ut->pool);

    } else {
        t->settled = ngx_time()
                     - ngx_max(t->sig.mtime.tv_sec, t->sig.ctime.tv_sec)
                     >= NGX_WSMAN_BASIC_CACHE_SETTLE;

        if (f->table) {
            ngx_destroy_pool(f->table->pool);
        }

        f->table = t;
        f->failed = 0;

        if (t->settled) {
            ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                          "wsman: user file \"%V\" loaded: %ui users%s",
                          &f->name, t->nusers,
                          t->malformed ? ", malformed lines skipped" : "");

        } else {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                           "wsman: user file \"%V\" read: %ui users "
                           "(just changed)", &f->name, t->nusers);
        }
    }

    /*
     * Taken off the file first: a request resumed here may end, and a
     * pipelined one on its connection start and wait for a new read.
     */
    if (ngx_queue_empty(&f->waiting)) {
        return;
    }

    ngx_queue_init(&waiting);
    ngx_queue_add(&waiting, &f->waiting);
    ngx_queue_init(&f->waiting);

    while (!ngx_queue_empty(&waiting)) {
        q = ngx_queue_head(&waiting);
        ngx_queue_remove(q);

        auth = ngx_queue_data(q, ngx_wsman_auth_t, users_wait);
        auth->users = 1;

        ngx_wsman_auth_resume(auth->pending.data, auth);
    }
}


/*
 * Read and parse a user file into a table in pool (in a pool thread).
 * NULL: the file cannot be read (logged).
 */
static ngx_wsman_user_table_t *
ngx_wsman_users_load(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file)
{
    u_char                  *pos, *end;
    ngx_str_t                content;
    ngx_uint_t               n, key;
    ngx_wsman_basic_file_t   sig;
    ngx_wsman_user_entry_t  *e, *p, entry;
    ngx_wsman_user_table_t  *t;

    if (ngx_wsman_basic_read(pool, log, file, &content, &sig) != NGX_OK) {
        return NULL;
    }

    /* about one bucket per line */
    n = 1;
    for (pos = content.data; pos < content.data + content.len; pos++) {
        n += (*pos == '\n');
    }

    t = ngx_pcalloc(pool, sizeof(ngx_wsman_user_table_t));
    if (t == NULL) {
        return NULL;
    }

    t->pool = pool;
    t->sig = sig;
    t->nbuckets = n;
    t->buckets = ngx_pcalloc(pool, n * sizeof(ngx_wsman_user_entry_t *));
    t->fold = ngx_pcalloc(pool, n * sizeof(ngx_wsman_user_entry_t *));

    if (t->buckets == NULL || t->fold == NULL) {
        return NULL;
    }

    pos = content.data;
    end = content.data + content.len;

    while (ngx_wsman_basic_next(&pos, end, &entry, &t->malformed) == NGX_OK)
    {
        /* the first line of a name counts, as when the file was scanned */
        key = ngx_hash_key(entry.user.data, entry.user.len) % t->nbuckets;

        for (p = t->buckets[key]; p; p = p->next) {
            if (p->user.len == entry.user.len
                && ngx_strncmp(p->user.data, entry.user.data,
                               entry.user.len) == 0)
            {
                break;
            }
        }

        if (p) {
            continue;
        }

        e = ngx_palloc(pool, sizeof(ngx_wsman_user_entry_t));
        if (e == NULL) {
            return NULL;
        }

        *e = entry;
        e->next = t->buckets[key];
        t->buckets[key] = e;

        key = ngx_hash_key_lc(entry.user.data, entry.user.len)
              % t->nbuckets;
        e->fold_next = t->fold[key];
        t->fold[key] = e;

        t->nusers++;
    }

    return t;
}


/*
 * The table of a user file as ngx_wsman_basic_users() left it for this
 * request: the file is not looked at here.  NULL: it cannot be read
 * (the read logged why).  Entries stay valid until the table is
 * replaced, on the event loop, by a later request's read: callers copy
 * what they keep.
 */
static ngx_wsman_user_table_t *
ngx_wsman_users(ngx_log_t *log, ngx_str_t *file)
{
    ngx_wsman_user_file_t  *f;

    f = ngx_wsman_users_file(file, 0);

    if (f == NULL || (f->table == NULL && !f->failed)) {
        /* a caller outside authentication: a bug, not the file */
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "wsman: user file \"%V\" used before it was read",
                      file);
        return NULL;
    }

    return f->failed ? NULL : f->table;
}


static ngx_wsman_user_entry_t *
ngx_wsman_users_find(ngx_wsman_user_table_t *t, ngx_str_t *user)
{
    ngx_wsman_user_entry_t  *e;

    e = t->buckets[ngx_hash_key(user->data, user->len) % t->nbuckets];

    for ( /* void */ ; e; e = e->next) {
        if (e->user.len == user->len
            && ngx_strncmp(e->user.data, user->data, user->len) == 0)
        {
            return e;
        }
    }

    return NULL;
}



/*
 * Next entry of the file: NGX_OK with an entry, NGX_DONE at the end.
 * Blank lines and '#' comments are skipped; a line without ':' counts as
 * malformed and is skipped too.
 */
static ngx_int_t
ngx_wsman_basic_next(u_char **pos, u_char *end, ngx_wsman_user_entry_t *entry,
    ngx_uint_t *malformed)
{
    u_char  *p, *line, *eol, *colon;

    for (p = *pos; p < end; p = eol + 1) {

        line = p;
        eol = ngx_strlchr(line, end, '\n');
        if (eol == NULL) {
            eol = end;
        }

        p = eol;
        if (p > line && p[-1] == '\r') {
            p--;
        }

        if (p == line || *line == '#') {
            continue;
        }

        colon = ngx_strlchr(line, p, ':');
        if (colon == NULL || colon == line) {
            (*malformed)++;
            continue;
        }

        entry->user.data = line;
        entry->user.len = colon - line;

        entry->hash.data = colon + 1;
        colon = ngx_strlchr(entry->hash.data, p, ':');
        entry->hash.len = (colon ? colon : p) - entry->hash.data;

        if (colon) {
            entry->groups.data = colon + 1;
            entry->groups.len = p - entry->groups.data;
        } else {
            ngx_str_null(&entry->groups);
        }

        *pos = eol < end ? eol + 1 : end;

        return NGX_OK;
    }

    *pos = end;

    return NGX_DONE;
}


/*
 * Basic credentials against the user file.  NGX_OK: remembered from an
 * earlier check, identity is set; NGX_AGAIN: the hash is being checked in
 * the thread pool and ngx_wsman_auth_basic_checked() follows with the
 * outcome; NGX_BUSY: the pool's queue is full; NGX_ERROR.
 */
ngx_int_t
ngx_wsman_basic_verify(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_str_t *user, ngx_str_t *password, ngx_wsman_auth_t *auth)
{
    u_char                     digest[NGX_WSMAN_BASIC_DIGEST_LEN];
    ngx_int_t                  rc;
    ngx_str_t                  hash;
    ngx_thread_task_t         *task;
    ngx_wsman_user_entry_t    *entry;
    ngx_wsman_user_table_t    *table;
    ngx_wsman_basic_task_t    *bt;
    ngx_wsman_basic_cache_t   *cache;

    if (lcf->user_file.len == 0) {
        return NGX_DECLINED;
    }

    if (lcf->auth_thread_pool == NULL || auth->done == NULL) {
        return NGX_ERROR;
    }

    cache = ngx_wsman_basic_cache(r->connection->log);

    if (cache
        && ngx_wsman_basic_digest(cache, user, password, digest) != NGX_OK)
    {
        cache = NULL;
    }

    table = ngx_wsman_users(r->connection->log, &lcf->user_file);
    if (table == NULL) {
        return NGX_ERROR;
    }

    /* a hit costs an HMAC and stays on the event loop */
    if (cache) {
        rc = ngx_wsman_basic_lookup(cache, r->pool, lcf, digest, &table->sig,
                                    &auth->identity);
        if (rc != NGX_DECLINED) {
            if (rc == NGX_OK) {
                auth->identity.user = *user;
                auth->identity.scheme = NGX_WSMAN_AUTH_BASIC;

                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "wsman: Basic user \"%V\" remembered", user);
            }

            return rc;
        }
    }

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_wsman_basic_task_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    bt = task->ctx;
    bt->sig = table->sig;

    if (cache) {
        ngx_memcpy(bt->digest, digest, NGX_WSMAN_BASIC_DIGEST_LEN);
        bt->cache = 1;
    }

    entry = ngx_wsman_users_find(table, user);

    if (entry) {
        hash = entry->hash;

        bt->groups.len = entry->groups.len;
        bt->groups.data = ngx_pstrdup(r->pool, &entry->groups);
        if (bt->groups.len && bt->groups.data == NULL) {
            return NGX_ERROR;
        }

    } else {
        /* an unknown user costs what a known one does */
        ngx_str_set(&hash, NGX_WSMAN_DUMMY_HASH);
        bt->unknown = 1;
    }

    bt->hash = ngx_pnalloc(r->pool, hash.len + 1);
    if (bt->hash == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(bt->hash, hash.data, hash.len);
    bt->hash[hash.len] = '\0';

    /* password->data is NUL-terminated by ngx_wsman_auth_basic_decode() */
    bt->request = r;
    bt->auth = auth;
    bt->user = *user;
    bt->password = *password;

    task->handler = ngx_wsman_basic_thread;
    task->event.data = task;
    task->event.handler = ngx_wsman_basic_done;

    if (ngx_wsman_auth_post(r, auth, lcf->auth_thread_pool, task,
                            "password check", user)
        != NGX_AGAIN)
    {
        return NGX_BUSY;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman: Basic user \"%V\" checked in a thread", user);

    return NGX_AGAIN;
}


/* in a pool thread: nothing here may touch the request or its pool */
static void
ngx_wsman_basic_thread(void *data, ngx_log_t *log)
{
    ngx_wsman_basic_task_t *bt = data;

    u_char      *encrypted;
    size_t       len;
    ngx_int_t    rc;
    ngx_pool_t  *pool;

    bt->rc = NGX_ERROR;

    /* ngx_crypt() allocates its result; it uses crypt_r(), not crypt() */
    pool = ngx_create_pool(1024, log);
    if (pool == NULL) {
        return;
    }

    encrypted = NULL;
    rc = ngx_crypt(pool, bt->password.data, bt->hash, &encrypted);

    len = ngx_strlen(bt->hash);

    if (rc != NGX_OK || encrypted == NULL || len == 0
        || ngx_strlen(encrypted) != len
        || CRYPTO_memcmp(encrypted, bt->hash, len) != 0
        || bt->unknown)
    {
        bt->rc = NGX_DECLINED;

    } else {
        bt->rc = NGX_OK;
    }

    if (encrypted) {
        ngx_explicit_memzero(encrypted, ngx_strlen(encrypted));
    }

    ngx_destroy_pool(pool);

    /* the SIDs need the account: NSS may block too, so ask it here */
    if (bt->rc == NGX_OK) {
        ngx_wsman_account_resolve(&bt->user, &bt->account);
    }
}


/* back in the worker */
static void
ngx_wsman_basic_done(ngx_event_t *ev)
{
    ngx_thread_task_t       *task = ev->data;
    ngx_wsman_basic_task_t  *bt = task->ctx;

    ngx_int_t                 rc;
    ngx_http_request_t       *r;
    ngx_wsman_auth_t         *auth;
    ngx_wsman_loc_conf_t     *lcf;
    ngx_wsman_basic_cache_t  *cache;

    r = bt->request;
    auth = bt->auth;
    lcf = ngx_wsman_get_loc_conf(r);
    rc = bt->rc;

    ngx_wsman_auth_task_done(r, auth);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman: Basic user \"%V\" checked: %i", &bt->user, rc);

    if (rc == NGX_OK) {
        ngx_wsman_account_put(r->connection->log, &bt->account);

        auth->identity.user = bt->user;
        auth->identity.groups = bt->groups;
        auth->identity.scheme = NGX_WSMAN_AUTH_BASIC;

        cache = ngx_wsman_basic_cache(r->connection->log);

        if (cache && bt->cache) {
            ngx_wsman_basic_insert(cache, r->pool, r->connection->log, lcf,
                                   bt->digest, &bt->sig, &auth->identity);
        }
    }

    rc = ngx_wsman_auth_basic_checked(r, lcf, &bt->user, &bt->password,
                                      auth, rc);

    if (rc == NGX_AGAIN) {
        /* PAM goes on in its own thread and calls auth->done() */
        return;
    }

    auth->done(r, auth, rc);
}



static void
ngx_wsman_basic_sig(ngx_file_info_t *fi, ngx_wsman_basic_file_t *sig)
{
    ngx_memzero(sig, sizeof(ngx_wsman_basic_file_t));

    sig->dev = fi->st_dev;
    sig->ino = fi->st_ino;
    sig->size = fi->st_size;
    sig->mtime = fi->st_mtim;
    sig->ctime = fi->st_ctim;
}


/*
 * The cache of this process.  Workers are forked from the master: each
 * makes its own key and table on first use, so no two processes share a
 * key.  NULL when no key could be made (then every request is checked
 * against the file, as without a cache).
 */
static ngx_wsman_basic_cache_t *
ngx_wsman_basic_cache(ngx_log_t *log)
{
    u_char                          key[32];
    EVP_MAC                        *mac;
    ngx_uint_t                      i;
    OSSL_PARAM                      params[2];
    static ngx_wsman_basic_cache_t  cache;

    if (cache.pid == ngx_pid) {
        return cache.mac ? &cache : NULL;
    }

    cache.pid = ngx_pid;
    cache.mac = NULL;
    cache.count = 0;

    ngx_queue_init(&cache.lru);

    for (i = 0; i < NGX_WSMAN_BASIC_CACHE_SIZE; i++) {
        ngx_queue_init(&cache.buckets[i]);
    }

    if (RAND_bytes(key, sizeof(key)) != 1) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "wsman: RAND_bytes() failed, Basic credentials are "
                      "not cached");
        return NULL;
    }

    mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (mac == NULL) {
        goto failed;
    }

    cache.mac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (cache.mac == NULL) {
        goto failed;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (!EVP_MAC_init(cache.mac, key, sizeof(key), params)) {
        EVP_MAC_CTX_free(cache.mac);
        cache.mac = NULL;
        goto failed;
    }

    OPENSSL_cleanse(key, sizeof(key));

    return &cache;

failed:

    OPENSSL_cleanse(key, sizeof(key));

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "wsman: no HMAC-SHA256 in libcrypto, Basic credentials "
                  "are not cached");

    return NULL;
}


/* HMAC(key, user \0 password): neither may hold a NUL (Basic decoding) */
static ngx_int_t
ngx_wsman_basic_digest(ngx_wsman_basic_cache_t *cache, ngx_str_t *user,
    ngx_str_t *password, u_char *digest)
{
    size_t  len;

    /* a NULL key starts over with the key already set */
    if (!EVP_MAC_init(cache->mac, NULL, 0, NULL)
        || !EVP_MAC_update(cache->mac, user->data, user->len)
        || !EVP_MAC_update(cache->mac, (u_char *) "", 1)
        || !EVP_MAC_update(cache->mac, password->data, password->len)
        || !EVP_MAC_final(cache->mac, digest, &len,
                          NGX_WSMAN_BASIC_DIGEST_LEN)
        || len != NGX_WSMAN_BASIC_DIGEST_LEN)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * NGX_OK: remembered, identity has the groups and SIDs (copied: a later
 * request may evict the entry while this one still runs, e.g. a long
 * Receive); NGX_DECLINED: not remembered, or no longer good.
 */
static ngx_int_t
ngx_wsman_basic_lookup(ngx_wsman_basic_cache_t *cache, ngx_pool_t *pool,
    ngx_wsman_loc_conf_t *lcf, u_char *digest, ngx_wsman_basic_file_t *sig,
    ngx_wsman_identity_t *identity)
{
    ngx_queue_t               *bucket, *q;
    ngx_wsman_basic_cached_t  *e;

    bucket = ngx_wsman_basic_bucket(cache, digest);

    for (q = ngx_queue_head(bucket);
         q != ngx_queue_sentinel(bucket);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_wsman_basic_cached_t, bucket);

        if (e->conf != lcf
            || CRYPTO_memcmp(e->digest, digest, NGX_WSMAN_BASIC_DIGEST_LEN)
               != 0)
        {
            continue;
        }

        if (e->expire <= ngx_time()
            || ngx_memcmp(&e->file, sig, sizeof(ngx_wsman_basic_file_t))
               != 0)
        {
            ngx_wsman_basic_drop(cache, e);
            return NGX_DECLINED;
        }

        if (ngx_wsman_identity_restore(pool, identity, lcf, e->sids,
                                       e->nsids, &e->groups)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_queue_remove(&e->lru);
        ngx_queue_insert_head(&cache->lru, &e->lru);

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * Remember a verification with the SIDs it grants in this location (the
 * access check then needs no passwd/group look-ups either).  Best effort:
 * when anything fails, the next request is checked against the file.
 */
static void
ngx_wsman_basic_insert(ngx_wsman_basic_cache_t *cache, ngx_pool_t *pool,
    ngx_log_t *log, ngx_wsman_loc_conf_t *lcf, u_char *digest,
    ngx_wsman_basic_file_t *sig, ngx_wsman_identity_t *identity)
{
    u_char                    *p;
    ngx_queue_t               *q;
    ngx_array_t               *sids;
    ngx_wsman_basic_cached_t  *e;

    if (ngx_time() - ngx_max(sig->mtime.tv_sec, sig->ctime.tv_sec)
        < NGX_WSMAN_BASIC_CACHE_SETTLE)
    {
        return;
    }

    sids = ngx_palloc(pool, sizeof(ngx_array_t));
    if (sids == NULL
        || ngx_wsman_identity_sids(pool, log, lcf, identity, sids) != NGX_OK)
    {
        return;
    }

    identity->sids = sids;
    identity->sids_conf = lcf;

    if (cache->count >= NGX_WSMAN_BASIC_CACHE_SIZE) {
        q = ngx_queue_last(&cache->lru);
        ngx_wsman_basic_drop(cache,
                             ngx_queue_data(q, ngx_wsman_basic_cached_t, lru));
    }

    e = ngx_alloc(sizeof(ngx_wsman_basic_cached_t)
                  + sids->nelts * sizeof(ngx_wsman_sid_t)
                  + identity->groups.len, log);
    if (e == NULL) {
        return;
    }

    ngx_memcpy(e->digest, digest, NGX_WSMAN_BASIC_DIGEST_LEN);
    e->conf = lcf;
    e->file = *sig;
    e->expire = ngx_time() + NGX_WSMAN_BASIC_CACHE_TIME;

    p = (u_char *) e + sizeof(ngx_wsman_basic_cached_t);

    /* a user without SIDs or groups has NULL arrays: memcpy() must not
     * see them even for 0 bytes */
    e->sids = (ngx_wsman_sid_t *) p;
    e->nsids = sids->nelts;

    if (sids->nelts) {
        p = ngx_cpymem(p, sids->elts,
                       sids->nelts * sizeof(ngx_wsman_sid_t));
    }

    e->groups.data = p;
    e->groups.len = identity->groups.len;

    if (identity->groups.len) {
        ngx_memcpy(p, identity->groups.data, identity->groups.len);
    }

    ngx_queue_insert_head(ngx_wsman_basic_bucket(cache, digest), &e->bucket);
    ngx_queue_insert_head(&cache->lru, &e->lru);
    cache->count++;
}


/* HMAC output is uniform: its first bytes pick the bucket */
static ngx_queue_t *
ngx_wsman_basic_bucket(ngx_wsman_basic_cache_t *cache, u_char *digest)
{
    uint32_t  h;

    ngx_memcpy(&h, digest, sizeof(uint32_t));

    return &cache->buckets[h & (NGX_WSMAN_BASIC_CACHE_SIZE - 1)];
}


static void
ngx_wsman_basic_drop(ngx_wsman_basic_cache_t *cache,
    ngx_wsman_basic_cached_t *e)
{
    ngx_queue_remove(&e->bucket);
    ngx_queue_remove(&e->lru);
    cache->count--;

    ngx_explicit_memzero(e->digest, NGX_WSMAN_BASIC_DIGEST_LEN);
    ngx_free(e);
}


/* the user file's groups of an identity proved some other way (copied:
 * the table may be replaced by the next request) */
ngx_int_t
ngx_wsman_basic_groups(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file,
    ngx_wsman_identity_t *identity)
{
    ngx_wsman_user_entry_t  *e;
    ngx_wsman_user_table_t  *t;

    ngx_str_null(&identity->groups);

    t = ngx_wsman_users(log, file);
    if (t == NULL) {
        return NGX_ERROR;
    }

    e = ngx_wsman_users_find(t, &identity->user);
    if (e == NULL) {
        return NGX_DECLINED;
    }

    if (e->groups.len) {
        identity->groups.data = ngx_pstrdup(pool, &e->groups);
        if (identity->groups.data == NULL) {
            return NGX_ERROR;
        }

        identity->groups.len = e->groups.len;
    }

    return NGX_OK;
}


/* configuration time: the file must exist, be readable and parse */
char *
ngx_wsman_basic_check_file(ngx_conf_t *cf, ngx_str_t *file)
{
    u_char                  *pos, *end;
    ngx_str_t                content;
    ngx_uint_t               malformed, entries;
    ngx_wsman_user_entry_t   entry;

    if (ngx_wsman_basic_read(cf->temp_pool, cf->log, file, &content, NULL)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "wsman_user_file \"%V\" cannot be read", file);
        return NGX_CONF_ERROR;
    }

    pos = content.data;
    end = content.data + content.len;
    malformed = 0;
    entries = 0;

    while (ngx_wsman_basic_next(&pos, end, &entry, &malformed) == NGX_OK) {
        entries++;
    }

    if (malformed) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "wsman_user_file \"%V\" has %ui malformed "
                           "line(s): expected user:hash[:groups]",
                           file, malformed);
        return NGX_CONF_ERROR;
    }

    if (entries == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_user_file \"%V\" has no users", file);
    }

    return NGX_CONF_OK;
}


/*
 * The user file as it is now (a failed stat() leaves *sig zeroed, which
 * matches nothing remembered from a readable file).
 */
void
ngx_wsman_basic_stat(ngx_str_t *file, ngx_wsman_basic_file_t *sig)
{
    ngx_file_info_t  fi;

    ngx_memzero(sig, sizeof(ngx_wsman_basic_file_t));

    if (file->len && ngx_file_info(file->data, &fi) != NGX_FILE_ERROR) {
        ngx_wsman_basic_sig(&fi, sig);
    }
}


/*
 * NTLM names are case-insensitive: the spelling the user file has for
 * name.  NGX_OK: *spelling set; NGX_DECLINED: no line for the name;
 * NGX_BUSY: lines with different spellings of it (two accounts to the
 * file, one to NTLM: refused rather than guessed).
 */
ngx_int_t
ngx_wsman_basic_spelling(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file,
    ngx_str_t *name, ngx_str_t *spelling)
{
    ngx_wsman_user_entry_t  *e;
    ngx_wsman_user_table_t  *t;

    ngx_str_null(spelling);

    t = ngx_wsman_users(log, file);
    if (t == NULL) {
        return NGX_ERROR;
    }

    e = t->fold[ngx_hash_key_lc(name->data, name->len) % t->nbuckets];

    for ( /* void */ ; e; e = e->fold_next) {
        if (e->user.len != name->len
            || ngx_strncasecmp(e->user.data, name->data, name->len) != 0)
        {
            continue;
        }

        if (spelling->len
            && ngx_strncmp(spelling->data, e->user.data, name->len) != 0)
        {
            return NGX_BUSY;
        }

        *spelling = e->user;
    }

    if (spelling->len == 0) {
        return NGX_DECLINED;
    }

    /* copied: the table may be replaced by the next request */
    spelling->data = ngx_pstrdup(pool, spelling);
    if (spelling->data == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}
