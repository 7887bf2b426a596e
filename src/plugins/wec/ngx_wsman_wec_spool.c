/*
 * The on-disk spool of an output (`output ... spool=DIR spool_size=SIZE`).
 *
 * A collector that only pushes back while an output is down makes its
 * sources keep events they may lose when their own logs wrap.  With a
 * spool, a batch the output cannot take is written (and fsync'd) to a
 * file of its own in DIR instead, and that counts as durable: the
 * source gets its Ack.  While DIR holds batches, new ones queue behind
 * them (an output's batches keep their order), until spool_size is
 * reached: then batches are refused again (the source retries).  Each
 * worker replays the spool every second from a pool thread, oldest
 * first: a batch leaves the spool when the output took it.
 *
 * A spooled batch keeps what the events were received with (source,
 * subscription, time) and each event's document; its JSON is made again
 * on replay, identical.  Files: <usec>-<pid>-<seq>.batch, written to a
 * .tmp name and renamed, so a crash never leaves half a batch; a replay
 * holds flock() on the file it works on, so workers never send one
 * batch twice at the same time.
 */

#include "ngx_wsman_wec.h"
#include "ngx_wsman_wec_event.h"

#include <dirent.h>
#include <sys/file.h>


#define NGX_WSMAN_WEC_SPOOL_TICK    1000
#define NGX_WSMAN_WEC_SPOOL_NAME    64


typedef struct {
    ngx_wsman_wec_sub_t       *sub;
    ngx_pool_t                *pool;
    ngx_uint_t                 replayed;
} ngx_wsman_wec_replay_t;


static ngx_int_t ngx_wsman_wec_spool_scan(ngx_wsman_wec_spool_t *sp,
    ngx_pool_t *pool, ngx_array_t *names, off_t *size, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_spool_replay_one(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_sub_t *sub, char *path, ngx_log_t *log);
static void ngx_wsman_wec_spool_tick(ngx_event_t *ev);
static void ngx_wsman_wec_spool_run(void *data, ngx_log_t *log);
static void ngx_wsman_wec_spool_done(ngx_event_t *ev);


static ngx_event_t   ngx_wsman_wec_spool_event;
static ngx_uint_t    ngx_wsman_wec_spool_busy;
static ngx_atomic_t  ngx_wsman_wec_spool_seq;


/* spool=DIR and spool_size=SIZE, taken out of an output's arguments */
char *
ngx_wsman_wec_spool_conf(ngx_conf_t *cf, ngx_wsman_wec_output_t *out,
    ngx_str_t *args, ngx_uint_t *nargs)
{
    off_t                   size;
    ngx_str_t               v;
    ngx_uint_t              i, k;
    ngx_wsman_wec_spool_t  *sp;

    sp = NULL;
    size = 0;
    k = 0;

    for (i = 0; i < *nargs; i++) {
        if (i >= 2 && args[i].len > 6
            && ngx_strncmp(args[i].data, "spool=", 6) == 0)
        {
            sp = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_wec_spool_t));
            if (sp == NULL) {
                return NGX_CONF_ERROR;
            }

            sp->dir.data = args[i].data + 6;
            sp->dir.len = args[i].len - 6;

            if (ngx_conf_full_name(cf->cycle, &sp->dir, 0) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            /*
             * the longest name the replay makes, DIR/NAME.damaged, must
             * fit a path: with a longer DIR a damaged file's new name was
             * written past the end of its buffer, then rename() failed
             * and the file was found damaged again every second
             */
            if (sp->dir.len + 1 + NGX_WSMAN_WEC_SPOOL_NAME
                + sizeof(".damaged") > NGX_MAX_PATH)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"spool=\" directory is too long: "
                                   "%uz bytes, at most %uz", sp->dir.len,
                                   (size_t) (NGX_MAX_PATH - 1
                                             - NGX_WSMAN_WEC_SPOOL_NAME
                                             - sizeof(".damaged")));
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (i >= 2 && args[i].len > 11
            && ngx_strncmp(args[i].data, "spool_size=", 11) == 0)
        {
            v.data = args[i].data + 11;
            v.len = args[i].len - 11;

            size = ngx_parse_offset(&v);
            if (size == NGX_ERROR || size < 64 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": at least 64k",
                                   &args[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        args[k++] = args[i];
    }

    if (size && sp == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"spool_size=\" without \"spool=\"");
        return NGX_CONF_ERROR;
    }

    if (sp) {
        sp->max = size ? size : 1024 * 1024 * 1024;
        out->spool = sp;
    }

    *nargs = k;

    return NGX_CONF_OK;
}


/* names of the batches waiting in the spool, oldest first */
static int
ngx_wsman_wec_spool_cmp(const void *a, const void *b)
{
    return ngx_strcmp(*(char **) a, *(char **) b);
}


static ngx_int_t
ngx_wsman_wec_spool_scan(ngx_wsman_wec_spool_t *sp, ngx_pool_t *pool,
    ngx_array_t *names, off_t *size, ngx_log_t *log)
{
    DIR            *dir;
    char          **name, path[NGX_MAX_PATH];
    size_t          len;
    struct stat     st;
    struct dirent  *de;

    *size = 0;

    if (sp->dir.len + NGX_WSMAN_WEC_SPOOL_NAME + 2 > NGX_MAX_PATH) {
        return NGX_ERROR;
    }

    ngx_memcpy(path, sp->dir.data, sp->dir.len);
    path[sp->dir.len] = '\0';

    dir = opendir(path);

    if (dir == NULL) {
        if (ngx_errno == NGX_ENOENT) {
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "wsman wec: opendir(\"%s\") failed", path);
        return NGX_ERROR;
    }

    while ((de = readdir(dir)) != NULL) {
        len = ngx_strlen(de->d_name);

        if (len < sizeof(".batch") || len > NGX_WSMAN_WEC_SPOOL_NAME
            || ngx_strcmp(de->d_name + len - 6, ".batch") != 0)
        {
            continue;
        }

        (void) ngx_sprintf((u_char *) path, "%V/%s%Z", &sp->dir,
                           de->d_name);

        if (stat(path, &st) == 0) {
            *size += st.st_size;
        }

        if (names == NULL) {
            continue;
        }

        name = ngx_array_push(names);
        if (name == NULL) {
            closedir(dir);
            return NGX_ERROR;
        }

        *name = ngx_pnalloc(pool, len + 1);
        if (*name == NULL) {
            closedir(dir);
            return NGX_ERROR;
        }

        ngx_memcpy(*name, de->d_name, len + 1);
    }

    closedir(dir);

    if (names && names->nelts > 1) {
        ngx_qsort(names->elts, names->nelts, sizeof(char *),
                  ngx_wsman_wec_spool_cmp);
    }

    return NGX_OK;
}


/* in a pool thread: does the spool hold batches? (new ones queue) */
ngx_int_t
ngx_wsman_wec_spool_waiting(ngx_wsman_wec_output_t *out, ngx_log_t *log)
{
    off_t  size;

    if (ngx_wsman_wec_spool_scan(out->spool, NULL, NULL, &size, log)
        != NGX_OK)
    {
        return 1;
    }

    return size > 0;
}


/* in a pool thread: the batch into a file of the spool, fsync'd */
ngx_int_t
ngx_wsman_wec_spool_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *b)
{
    int                     fd;
    u_char                 *buf, *p;
    off_t                   size;
    size_t                  len;
    ssize_t                 n;
    ngx_uint_t              seq;
    struct timeval          tv;
    ngx_wsman_wec_spool_t  *sp;
    u_char                  tmp[NGX_MAX_PATH], path[NGX_MAX_PATH];

    sp = out->spool;

    if (sp->dir.len + NGX_WSMAN_WEC_SPOOL_NAME + 2 > NGX_MAX_PATH) {
        return NGX_ERROR;
    }

    if (ngx_wsman_wec_spool_scan(sp, NULL, NULL, &size, b->log) != NGX_OK) {
        return NGX_ERROR;
    }

    len = ngx_wsman_wec_spool_size(b);

    if (size + (off_t) len > sp->max) {
        ngx_log_error(NGX_LOG_ERR, b->log, 0,
                      "wsman wec: spool \"%V\" is full (%O bytes)",
                      &sp->dir, size);
        return NGX_ERROR;
    }

    buf = ngx_pnalloc(b->pool, len);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    len = ngx_wsman_wec_spool_format(buf, b) - buf;

    /* DIR (and what is above it) when missing: the directories before
     * the last slash of "DIR/x" */
    (void) ngx_sprintf(tmp, "%V/x%Z", &sp->dir);
    (void) ngx_create_full_path(tmp, 0750);

    (void) gettimeofday(&tv, NULL);
    seq = ngx_atomic_fetch_add(&ngx_wsman_wec_spool_seq, 1);

    (void) ngx_sprintf(path, "%V/%016uL-%P-%ui.batch%Z", &sp->dir,
                       (uint64_t) tv.tv_sec * 1000000 + tv.tv_usec,
                       ngx_pid, seq);
    (void) ngx_sprintf(tmp, "%V/%016uL-%P-%ui.tmp%Z", &sp->dir,
                       (uint64_t) tv.tv_sec * 1000000 + tv.tv_usec,
                       ngx_pid, seq);

    fd = open((char *) tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ERR, b->log, ngx_errno,
                      "wsman wec: open(\"%s\") failed", tmp);
        return NGX_ERROR;
    }

    p = buf;

    while (p < buf + len) {
        n = write(fd, p, buf + len - p);

        if (n == -1 && ngx_errno == NGX_EINTR) {
            continue;
        }

        if (n <= 0) {
            ngx_log_error(NGX_LOG_ERR, b->log, ngx_errno,
                          "wsman wec: write(\"%s\") failed", tmp);
            goto failed;
        }

        p += n;
    }

    if (fsync(fd) == -1) {
        ngx_log_error(NGX_LOG_ERR, b->log, ngx_errno,
                      "wsman wec: fsync(\"%s\") failed", tmp);
        goto failed;
    }

    close(fd);

    if (rename((char *) tmp, (char *) path) == -1) {
        ngx_log_error(NGX_LOG_ERR, b->log, ngx_errno,
                      "wsman wec: rename(\"%s\") failed", tmp);
        (void) unlink((char *) tmp);
        return NGX_ERROR;
    }

    /* the new name survives a crash too */
    (void) ngx_sprintf(tmp, "%V%Z", &sp->dir);

    fd = open((char *) tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd != -1) {
        (void) fsync(fd);
        close(fd);
    }

    return NGX_OK;

failed:

    close(fd);
    (void) unlink((char *) tmp);

    return NGX_ERROR;
}


/* in a pool thread: one spooled batch to its output; NGX_OK: it left the
 * spool (or was not ours to send: locked by another worker) */
static ngx_int_t
ngx_wsman_wec_spool_replay_one(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_sub_t *sub, char *path, ngx_log_t *log)
{
    int                     fd;
    u_char                 *buf;
    ssize_t                 n;
    ngx_int_t               rc;
    ngx_uint_t              i;
    ngx_pool_t             *pool;
    struct stat             st;
    ngx_wsman_wec_batch_t   b;

    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd == -1) {
        return ngx_errno == NGX_ENOENT ? NGX_OK : NGX_ERROR;
    }

    /* another worker replays it */
    if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
        close(fd);
        return NGX_DECLINED;
    }

    /* replayed and removed while we waited for the lock */
    if (fstat(fd, &st) == -1 || st.st_nlink == 0) {
        close(fd);
        return NGX_OK;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        close(fd);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    buf = ngx_pnalloc(pool, st.st_size);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, st.st_size);
    if (n != st.st_size) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "wsman wec: read(\"%s\") failed", path);
        goto done;
    }

    ngx_memzero(&b, sizeof(ngx_wsman_wec_batch_t));
    b.pool = pool;
    b.log = log;

    switch (ngx_wsman_wec_spool_parse(pool, buf, st.st_size, &b)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        goto corrupt;

    default: /* no memory: tried again on the next round */
        goto done;
    }

    for (i = 0; i < b.nevents; i++) {
        if (ngx_wsman_wec_event_prepare(&b, &b.events[i]) != NGX_OK) {
            goto done;
        }
    }

    if (out->type->write(out, &b) != NGX_OK) {
        ngx_wsman_wec_count_output(sub, out - (ngx_wsman_wec_output_t *)
                                            sub->outputs.elts, 0);
        goto done;
    }

    ngx_wsman_wec_count_output(sub, out - (ngx_wsman_wec_output_t *)
                                        sub->outputs.elts, 1);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "wsman wec: %ui spooled event(s) of \"%V\" replayed to "
                  "%V \"%V\"", b.nevents, &b.source, &out->type->name,
                  &out->target);

    rc = NGX_OK;
    goto remove;

corrupt:

    /* kept aside, never replayed nor lost */
    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "wsman wec: spool file \"%s\" is damaged: renamed to "
                  ".damaged", path);
    {
        /* path is at most NGX_MAX_PATH - 1 bytes (and shorter for a
         * DIR that ngx_wsman_wec_spool_conf() accepts) */
        u_char  aside[NGX_MAX_PATH + sizeof(".damaged")];

        (void) ngx_sprintf(aside, "%s.damaged%Z", path);
        (void) rename(path, (char *) aside);
    }

    rc = NGX_OK;
    goto done;

remove:

    if (unlink(path) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "wsman wec: unlink(\"%s\") failed", path);
    }

done:

    close(fd);
    ngx_destroy_pool(pool);

    return rc;
}


/* --- the replay, every second in each worker --- */

void
ngx_wsman_wec_spool_start(ngx_cycle_t *cycle, ngx_wsman_wec_main_conf_t *wmcf)
{
    ngx_uint_t               i, k;
    ngx_wsman_wec_sub_t     *subs;
    ngx_wsman_wec_output_t  *out;

    subs = wmcf->subs.elts;

    for (i = 0; i < wmcf->subs.nelts; i++) {
        out = subs[i].outputs.elts;

        for (k = 0; k < subs[i].outputs.nelts; k++) {
            if (out[k].spool) {
                goto found;
            }
        }
    }

    return;

found:

    ngx_wsman_wec_spool_event.handler = ngx_wsman_wec_spool_tick;
    ngx_wsman_wec_spool_event.log = cycle->log;
    ngx_wsman_wec_spool_event.data = wmcf;
    ngx_wsman_wec_spool_event.cancelable = 1;

    ngx_add_timer(&ngx_wsman_wec_spool_event, NGX_WSMAN_WEC_SPOOL_TICK);
}


static void
ngx_wsman_wec_spool_tick(ngx_event_t *ev)
{
    ngx_pool_t                 *pool;
    ngx_thread_task_t          *task;
    ngx_wsman_wec_main_conf_t  *wmcf;

    wmcf = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_add_timer(ev, NGX_WSMAN_WEC_SPOOL_TICK);

    if (ngx_wsman_wec_spool_busy) {
        return;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ev->log);
    if (pool == NULL) {
        return;
    }

    task = ngx_thread_task_alloc(pool, sizeof(ngx_wsman_wec_replay_t));
    if (task == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    ((ngx_wsman_wec_replay_t *) task->ctx)->pool = pool;

    task->handler = ngx_wsman_wec_spool_run;
    task->event.handler = ngx_wsman_wec_spool_done;
    task->event.data = task;
    task->event.log = ev->log;

    if (ngx_thread_task_post(wmcf->thread_pool, task) != NGX_OK) {
        ngx_destroy_pool(pool);
        return;
    }

    ngx_wsman_wec_spool_busy = 1;
}


static void
ngx_wsman_wec_spool_run(void *data, ngx_log_t *log)
{
    ngx_wsman_wec_replay_t *r = data;

    off_t                       size;
    char                      **names, path[NGX_MAX_PATH];
    ngx_int_t                   rc;
    ngx_uint_t                  i, k, f;
    ngx_array_t                 list;
    ngx_wsman_wec_sub_t        *subs;
    ngx_wsman_wec_output_t     *out;
    ngx_wsman_wec_main_conf_t  *wmcf;

    wmcf = ngx_wsman_plugin_main_conf(&ngx_wsman_wec_module);
    subs = wmcf->subs.elts;

    for (i = 0; i < wmcf->subs.nelts; i++) {
        out = subs[i].outputs.elts;

        for (k = 0; k < subs[i].outputs.nelts; k++) {
            if (out[k].spool == NULL) {
                continue;
            }

            if (ngx_array_init(&list, r->pool, 16, sizeof(char *)) != NGX_OK
                || ngx_wsman_wec_spool_scan(out[k].spool, r->pool, &list,
                                            &size, log)
                   != NGX_OK)
            {
                continue;
            }

            names = list.elts;

            for (f = 0; f < list.nelts; f++) {
                (void) ngx_sprintf((u_char *) path, "%V/%s%Z",
                                   &out[k].spool->dir, names[f]);

                rc = ngx_wsman_wec_spool_replay_one(&out[k], &subs[i], path,
                                                    log);

                /*
                 * the output is still down, or another worker replays
                 * this batch: either way the later ones wait, so that
                 * they never overtake it
                 */
                if (rc != NGX_OK) {
                    break;
                }

                r->replayed++;
            }
        }
    }
}


static void
ngx_wsman_wec_spool_done(ngx_event_t *ev)
{
    ngx_thread_task_t *task = ev->data;

    ngx_wsman_wec_replay_t  *r;

    r = task->ctx;
    ngx_wsman_wec_spool_busy = 0;

    ngx_destroy_pool(r->pool);
}
