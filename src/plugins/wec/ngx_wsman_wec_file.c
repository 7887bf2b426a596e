/*
 * The file outputs: json_file (one JSON object per line) and xml_file
 * (each event document on a line of its own), at a path template:
 *
 *     output json_file /var/log/wec/$subscription/$source-$date.jsonl;
 *
 * $subscription, $source (the authenticated principal's account),
 * $machine (m:MachineID) and $date (UTC, YYYY-MM-DD, when received).
 * Values are made safe as one path component ("/", "..", control bytes
 * cannot leave the template's directory).  Missing directories are
 * created.
 *
 * A batch is one write() under flock() (workers and collectors sharing
 * the file never interleave), undone with ftruncate() when the disk
 * fills up half-way, then fdatasync()'d before the source gets its Ack.
 * Files stay open per worker and are reopened after nginx -s reopen.
 */

#include "ngx_wsman_wec.h"

#include <sys/file.h>


#define NGX_WSMAN_WEC_FILE_CACHE  16


enum {
    NGX_WSMAN_WEC_PART_TEXT = 0,
    NGX_WSMAN_WEC_PART_SUBSCRIPTION,
    NGX_WSMAN_WEC_PART_SOURCE,
    NGX_WSMAN_WEC_PART_MACHINE,
    NGX_WSMAN_WEC_PART_DATE
};


typedef struct {
    ngx_str_t                  text;
    ngx_uint_t                 var;
} ngx_wsman_wec_part_t;


typedef struct {
    ngx_array_t                parts;        /* ngx_wsman_wec_part_t */
    ngx_uint_t                 xml;          /* xml_file */
    ngx_uint_t                 access;       /* file mode */
} ngx_wsman_wec_file_conf_t;


typedef struct {
    char                      *path;         /* malloc'ed */
    int                        fd;
    ngx_atomic_uint_t          generation;
    time_t                     used;
} ngx_wsman_wec_open_t;


typedef struct {
    ngx_wsman_wec_open_t       files[NGX_WSMAN_WEC_FILE_CACHE];
} ngx_wsman_wec_file_state_t;


static char *ngx_wsman_wec_file_configure(ngx_conf_t *cf,
    ngx_wsman_wec_output_t *out, ngx_str_t *args, ngx_uint_t nargs);
static ngx_int_t ngx_wsman_wec_file_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *batch);
static void ngx_wsman_wec_file_close(ngx_wsman_wec_output_t *out);


ngx_wsman_wec_output_type_t  ngx_wsman_wec_json_file_output = {
    ngx_string("json_file"),
    ngx_wsman_wec_file_configure,
    ngx_wsman_wec_file_write,
    NULL,
    ngx_wsman_wec_file_close
};


ngx_wsman_wec_output_type_t  ngx_wsman_wec_xml_file_output = {
    ngx_string("xml_file"),
    ngx_wsman_wec_file_configure,
    ngx_wsman_wec_file_write,
    NULL,
    ngx_wsman_wec_file_close
};


/* nginx -s reopen moves this on: every cached file is opened again */
ngx_atomic_t  ngx_wsman_wec_file_generation;


static char *
ngx_wsman_wec_file_configure(ngx_conf_t *cf, ngx_wsman_wec_output_t *out,
    ngx_str_t *args, ngx_uint_t nargs)
{
    u_char                     *p, *end, *start;
    size_t                      len;
    ngx_str_t                   path;
    ngx_uint_t                  i;
    ngx_wsman_wec_part_t       *part;
    ngx_wsman_wec_file_conf_t  *fcf;

    static struct {
        const char  *name;
        ngx_uint_t   var;
    } vars[] = {
        { "subscription", NGX_WSMAN_WEC_PART_SUBSCRIPTION },
        { "source", NGX_WSMAN_WEC_PART_SOURCE },
        { "machine", NGX_WSMAN_WEC_PART_MACHINE },
        { "date", NGX_WSMAN_WEC_PART_DATE },
        { NULL, 0 }
    };

    if (nargs != 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"output %V\" takes one path", &args[0]);
        return NGX_CONF_ERROR;
    }

    fcf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_wec_file_conf_t));
    if (fcf == NULL) {
        return NGX_CONF_ERROR;
    }

    fcf->xml = (args[0].data[0] == 'x');
    fcf->access = 0640;

    path = args[1];

    if (ngx_conf_full_name(cf->cycle, &path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&fcf->parts, cf->pool, 4,
                       sizeof(ngx_wsman_wec_part_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    p = path.data;
    end = path.data + path.len;
    start = p;

    while (p < end) {
        if (*p != '$') {
            p++;
            continue;
        }

        for (i = 0; vars[i].name; i++) {
            len = ngx_strlen(vars[i].name);

            if ((size_t) (end - p - 1) >= len
                && ngx_strncmp(p + 1, vars[i].name, len) == 0)
            {
                break;
            }
        }

        if (vars[i].name == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown variable in \"%V\": the path knows "
                               "$subscription, $source, $machine, $date",
                               &args[1]);
            return NGX_CONF_ERROR;
        }

        if (p > start) {
            part = ngx_array_push(&fcf->parts);
            if (part == NULL) {
                return NGX_CONF_ERROR;
            }

            part->text.data = start;
            part->text.len = p - start;
            part->var = NGX_WSMAN_WEC_PART_TEXT;
        }

        part = ngx_array_push(&fcf->parts);
        if (part == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_str_null(&part->text);
        part->var = vars[i].var;

        p += 1 + ngx_strlen(vars[i].name);
        start = p;
    }

    if (p > start) {
        part = ngx_array_push(&fcf->parts);
        if (part == NULL) {
            return NGX_CONF_ERROR;
        }

        part->text.data = start;
        part->text.len = p - start;
        part->var = NGX_WSMAN_WEC_PART_TEXT;
    }

    if (path.data[path.len - 1] == '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"output %V %V\" names a directory, not a file",
                           &args[0], &args[1]);
        return NGX_CONF_ERROR;
    }

    out->conf = fcf;

    return NGX_CONF_OK;
}


/* a value as one safe path component */
static u_char *
ngx_wsman_wec_file_component(u_char *p, ngx_str_t *value)
{
    u_char  c, *q, *end;

    if (value->len == 0) {
        *p++ = '_';
        return p;
    }

    end = value->data + value->len;

    for (q = value->data; q < end; q++) {
        c = *q;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '@'
            || c == '$' || (c == '.' && q != value->data))
        {
            *p++ = c;

        } else {
            *p++ = '_';
        }
    }

    return p;
}


static char *
ngx_wsman_wec_file_path(ngx_wsman_wec_file_conf_t *fcf,
    ngx_wsman_wec_batch_t *b)
{
    u_char                *p, *path;
    size_t                 len;
    ngx_tm_t               tm;
    ngx_str_t             *value;
    ngx_uint_t             i;
    ngx_wsman_wec_part_t  *part;

    part = fcf->parts.elts;
    len = 1;

    for (i = 0; i < fcf->parts.nelts; i++) {
        switch (part[i].var) {
        case NGX_WSMAN_WEC_PART_TEXT:
            len += part[i].text.len;
            break;
        case NGX_WSMAN_WEC_PART_SUBSCRIPTION:
            len += b->subscription.len + 1;
            break;
        case NGX_WSMAN_WEC_PART_SOURCE:
            len += b->source.len + 1;
            break;
        case NGX_WSMAN_WEC_PART_MACHINE:
            len += b->machine.len + 1;
            break;
        default:
            len += sizeof("1970-01-01") - 1;
        }
    }

    path = ngx_pnalloc(b->pool, len);
    if (path == NULL) {
        return NULL;
    }

    p = path;

    for (i = 0; i < fcf->parts.nelts; i++) {
        value = NULL;

        switch (part[i].var) {
        case NGX_WSMAN_WEC_PART_TEXT:
            p = ngx_cpymem(p, part[i].text.data, part[i].text.len);
            continue;
        case NGX_WSMAN_WEC_PART_SUBSCRIPTION:
            value = &b->subscription;
            break;
        case NGX_WSMAN_WEC_PART_SOURCE:
            value = &b->source;
            break;
        case NGX_WSMAN_WEC_PART_MACHINE:
            value = &b->machine;
            break;
        default:
            ngx_gmtime(b->received, &tm);
            p = ngx_sprintf(p, "%4d-%02d-%02d", tm.ngx_tm_year,
                            tm.ngx_tm_mon, tm.ngx_tm_mday);
            continue;
        }

        p = ngx_wsman_wec_file_component(p, value);
    }

    *p = '\0';

    return (char *) path;
}


/* an open descriptor for path from the worker's cache (out->lock held) */
static int
ngx_wsman_wec_file_open(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_file_conf_t *fcf, char *path, ngx_log_t *log)
{
    int                          fd, dir;
    char                        *slash;
    size_t                       len;
    ngx_uint_t                   i, victim;
    ngx_atomic_uint_t            generation;
    ngx_wsman_wec_open_t        *f;
    ngx_wsman_wec_file_state_t  *st;

    st = out->state;

    if (st == NULL) {
        st = ngx_calloc(sizeof(ngx_wsman_wec_file_state_t), log);
        if (st == NULL) {
            return -1;
        }

        for (i = 0; i < NGX_WSMAN_WEC_FILE_CACHE; i++) {
            st->files[i].fd = -1;
        }

        out->state = st;
    }

    generation = ngx_wsman_wec_file_generation;
    victim = 0;

    for (i = 0; i < NGX_WSMAN_WEC_FILE_CACHE; i++) {
        f = &st->files[i];

        if (f->fd != -1 && f->generation != generation) {
            /* nginx -s reopen: rotated files are let go */
            close(f->fd);
            f->fd = -1;
            ngx_free(f->path);
            f->path = NULL;
        }

        if (f->fd != -1 && ngx_strcmp(f->path, path) == 0) {
            f->used = ngx_time();
            return f->fd;
        }
    }

    /* a free slot, or the one used longest ago */
    for (i = 0; i < NGX_WSMAN_WEC_FILE_CACHE; i++) {
        if (st->files[i].fd == -1) {
            victim = i;
            break;
        }

        if (st->files[i].used < st->files[victim].used) {
            victim = i;
        }
    }

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
              fcf->access);

    if (fd == -1 && ngx_errno == NGX_ENOENT) {
        if (ngx_create_full_path((u_char *) path, 0750) != 0) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "wsman wec: cannot create the directories of "
                          "\"%s\"", path);
            return -1;
        }

        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC
                  | O_NOFOLLOW, fcf->access);

        /* the new entry must survive a crash as much as the data */
        slash = strrchr(path, '/');

        if (fd != -1 && slash) {
            *slash = '\0';
            dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            *slash = '/';

            if (dir != -1) {
                (void) fsync(dir);
                close(dir);
            }
        }
    }

    if (fd == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "wsman wec: open(\"%s\") failed", path);
        return -1;
    }

    f = &st->files[victim];

    if (f->fd != -1) {
        close(f->fd);
        ngx_free(f->path);
    }

    len = ngx_strlen(path);

    f->path = ngx_alloc(len + 1, log);
    if (f->path == NULL) {
        close(fd);
        f->fd = -1;
        return -1;
    }

    ngx_memcpy(f->path, path, len + 1);
    f->fd = fd;
    f->generation = generation;
    f->used = ngx_time();

    return fd;
}


static ngx_int_t
ngx_wsman_wec_file_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *b)
{
    int                         fd, sync;
    char                       *path;
    u_char                     *buf, *p;
    off_t                       size;
    size_t                      len;
    ssize_t                     n;
    ngx_err_t                   err;
    ngx_str_t                  *text;
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    struct stat                 st;
    ngx_wsman_wec_file_conf_t  *fcf;

    fcf = out->conf;

    path = ngx_wsman_wec_file_path(fcf, b);
    if (path == NULL) {
        return NGX_ERROR;
    }

    len = 0;

    for (i = 0; i < b->nevents; i++) {
        text = fcf->xml ? &b->events[i].xml : &b->events[i].json;
        len += text->len + 1;
    }

    buf = ngx_pnalloc(b->pool, len);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    p = buf;

    for (i = 0; i < b->nevents; i++) {
        text = fcf->xml ? &b->events[i].xml : &b->events[i].json;

        if (text->len) {
            p = ngx_cpymem(p, text->data, text->len);
        }

        *p++ = '\n';
    }

    pthread_mutex_lock(&out->lock);

    fd = ngx_wsman_wec_file_open(out, fcf, path, b->log);

    if (fd == -1) {
        pthread_mutex_unlock(&out->lock);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    /* other workers (and collectors) append to the same file */
    if (flock(fd, LOCK_EX) == -1) {
        ngx_log_error(NGX_LOG_ERR, b->log, ngx_errno,
                      "wsman wec: flock(\"%s\") failed", path);
        goto done;
    }

    if (fstat(fd, &st) == -1) {
        ngx_log_error(NGX_LOG_ERR, b->log, ngx_errno,
                      "wsman wec: fstat(\"%s\") failed", path);
        (void) flock(fd, LOCK_UN);
        goto done;
    }

    size = st.st_size;
    p = buf;

    while (p < buf + len) {
        n = write(fd, p, buf + len - p);

        if (n == -1 && ngx_errno == NGX_EINTR) {
            continue;
        }

        if (n <= 0) {
            err = (n == -1) ? ngx_errno : NGX_ENOSPC;

            ngx_log_error(NGX_LOG_ERR, b->log, err,
                          "wsman wec: write(\"%s\") failed after %uz of %uz "
                          "bytes: the batch is not acknowledged", path,
                          (size_t) (p - buf), len);

            /* no torn line stays behind: the source sends it all again */
            if (S_ISREG(st.st_mode) && ftruncate(fd, size) == -1) {
                ngx_log_error(NGX_LOG_ALERT, b->log, ngx_errno,
                              "wsman wec: ftruncate(\"%s\") failed", path);
            }

            (void) flock(fd, LOCK_UN);
            goto done;
        }

        p += n;
    }

    (void) flock(fd, LOCK_UN);

    /* a pipe or a device (a log shipper reading a FIFO) has no disk */
    if (!S_ISREG(st.st_mode)) {
        rc = NGX_OK;
        goto done;
    }

    /*
     * The flush waits for the disk: other batches of this worker write
     * (and flush) meanwhile, on a descriptor of their own, so a slow
     * disk costs one flush per round of batches, not one each in a row
     */
    sync = dup(fd);

    pthread_mutex_unlock(&out->lock);

    if (sync == -1 || fdatasync(sync) == -1) {
        ngx_log_error(NGX_LOG_ERR, b->log, ngx_errno,
                      "wsman wec: fdatasync(\"%s\") failed", path);

        if (sync != -1) {
            close(sync);
        }

        return NGX_ERROR;
    }

    close(sync);

    return NGX_OK;

done:

    if (rc != NGX_OK) {
        /* opened again next time: a descriptor that failed stays suspect */
        ngx_wsman_wec_file_close(out);
    }

    pthread_mutex_unlock(&out->lock);

    return rc;
}


/* out->lock held, or the worker is exiting */
static void
ngx_wsman_wec_file_close(ngx_wsman_wec_output_t *out)
{
    ngx_uint_t                   i;
    ngx_wsman_wec_file_state_t  *st;

    st = out->state;

    if (st == NULL) {
        return;
    }

    for (i = 0; i < NGX_WSMAN_WEC_FILE_CACHE; i++) {
        if (st->files[i].fd != -1) {
            close(st->files[i].fd);
            st->files[i].fd = -1;
            ngx_free(st->files[i].path);
            st->files[i].path = NULL;
        }
    }
}
