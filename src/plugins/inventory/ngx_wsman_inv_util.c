/*
 * Shared by the inventory collectors: bounded reads of /proc and /sys,
 * small parsers, key ordering for resumable enumerations and property
 * setters that remember an allocation failure so a builder checks once.
 */

#include "ngx_wsman_inv.h"

#include <sys/utsname.h>


/* one line of a /proc table; longer lines are cut (cpuinfo "flags") */
#define NGX_WSMAN_INV_LINE_MAX    4096

/* bound on what one table read may cost, even on huge machines */
#define NGX_WSMAN_INV_TABLE_MAX   (8 * 1024 * 1024)

/* sysfs attributes are short */
#define NGX_WSMAN_INV_ATTR_MAX    256


static ngx_int_t ngx_wsman_inv_io_error(ngx_wsman_inv_ctx_t *ctx,
    const char *what, const char *path);
static ngx_int_t ngx_wsman_inv_btime_line(void *data, u_char *line,
    size_t len);
static ngx_int_t ngx_wsman_inv_dup_cstr(ngx_wsman_inv_ctx_t *ctx,
    ngx_str_t *dst, const char *src);
static size_t ngx_wsman_inv_utf8_len(u_char *p, u_char *last);
static void ngx_wsman_inv_check(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_prop_t *prop);


ngx_int_t
ngx_wsman_inv_ctx_init(ngx_wsman_inv_ctx_t *ctx, ngx_pool_t *pool,
    ngx_log_t *log)
{
    long             n;
    struct utsname   uts;

    ngx_memzero(ctx, sizeof(ngx_wsman_inv_ctx_t));

    ctx->pool = pool;
    ctx->log = log;

    if (uname(&uts) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno, "uname() failed");
        return NGX_ERROR;
    }

    if (ngx_wsman_inv_dup_cstr(ctx, &ctx->host, uts.nodename) != NGX_OK
        || ngx_wsman_inv_dup_cstr(ctx, &ctx->sysname, uts.sysname) != NGX_OK
        || ngx_wsman_inv_dup_cstr(ctx, &ctx->release, uts.release) != NGX_OK
        || ngx_wsman_inv_dup_cstr(ctx, &ctx->machine, uts.machine) != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = sysconf(_SC_CLK_TCK);
    ctx->clk_tck = n > 0 ? (uint64_t) n : 100;

    n = sysconf(_SC_PAGESIZE);
    ctx->page_size = n > 0 ? (uint64_t) n : 4096;

    return NGX_OK;
}


/* "btime" of /proc/stat, read at most once per call */
time_t
ngx_wsman_inv_boot_time(ngx_wsman_inv_ctx_t *ctx)
{
    uint64_t  btime;

    if (ctx->boot_read) {
        return ctx->boot;
    }

    ctx->boot_read = 1;
    btime = NGX_WSMAN_INV_UNKNOWN;

    if (ngx_wsman_inv_lines(ctx, "/proc/stat", ngx_wsman_inv_btime_line,
                            &btime)
        == NGX_OK
        && btime != NGX_WSMAN_INV_UNKNOWN)
    {
        ctx->boot = (time_t) btime;
    }

    return ctx->boot;
}


static ngx_int_t
ngx_wsman_inv_btime_line(void *data, u_char *line, size_t len)
{
    uint64_t  *btime = data;

    if (len > 6 && ngx_strncmp(line, "btime ", 6) == 0) {
        if (ngx_wsman_inv_u64(line + 6, line + len, btime) == NULL) {
            *btime = NGX_WSMAN_INV_UNKNOWN;
        }

        return NGX_DONE;
    }

    return NGX_OK;
}


/*
 * Files vanish under us all the time (processes exit, links go away):
 * that is NGX_DECLINED and the value is simply unknown.  Running out of
 * descriptors or memory is a real failure.
 */
static ngx_int_t
ngx_wsman_inv_io_error(ngx_wsman_inv_ctx_t *ctx, const char *what,
    const char *path)
{
    ngx_err_t  err;

    err = ngx_errno;

    if (err == NGX_EMFILE || err == NGX_ENFILE || err == NGX_ENOMEM) {
        ngx_log_error(NGX_LOG_ALERT, ctx->log, err, "%s \"%s\" failed",
                      what, path);
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->log, err,
                   "wsman inventory: %s \"%s\" failed", what, path);

    return NGX_DECLINED;
}


/* at most size - 1 bytes, NUL-terminated */
ngx_int_t
ngx_wsman_inv_read(ngx_wsman_inv_ctx_t *ctx, const char *path, u_char *buf,
    size_t size, size_t *len)
{
    int        fd;
    size_t     total;
    ssize_t    n;
    ngx_int_t  rc;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1) {
        return ngx_wsman_inv_io_error(ctx, "open()", path);
    }

    total = 0;
    rc = NGX_OK;

    while (total < size - 1) {
        n = read(fd, buf + total, size - 1 - total);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            rc = ngx_wsman_inv_io_error(ctx, "read()", path);
            break;
        }

        if (n == 0) {
            break;
        }

        total += n;
    }

    (void) close(fd);

    buf[total] = '\0';
    *len = total;

    return rc;
}


/*
 * Calls handler for every line of a table such as /proc/meminfo without
 * holding the whole file: /proc/stat and /proc/cpuinfo grow with the
 * number of CPUs.  The handler returns NGX_OK for more, NGX_DONE to stop
 * or NGX_ERROR; it may change the line in place.
 */
ngx_int_t
ngx_wsman_inv_lines(ngx_wsman_inv_ctx_t *ctx, const char *path,
    ngx_wsman_inv_line_pt handler, void *data)
{
    int         fd;
    u_char     *start, *last, *nl;
    size_t      have, total;
    ssize_t     n;
    ngx_int_t   rc;
    ngx_uint_t  cut;
    u_char      buf[NGX_WSMAN_INV_LINE_MAX];

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1) {
        return ngx_wsman_inv_io_error(ctx, "open()", path);
    }

    have = 0;
    total = 0;
    cut = 0;
    rc = NGX_OK;

    for ( ;; ) {
        n = read(fd, buf + have, sizeof(buf) - have);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            rc = ngx_wsman_inv_io_error(ctx, "read()", path);
            break;
        }

        if (n == 0) {
            if (have && !cut) {
                rc = handler(data, buf, have);
            }

            break;
        }

        total += n;
        have += n;

        start = buf;
        last = buf + have;

        while (rc == NGX_OK
               && (nl = ngx_strlchr(start, last, '\n')) != NULL)
        {
            if (!cut) {
                rc = handler(data, start, nl - start);
            }

            cut = 0;
            start = nl + 1;
        }

        if (rc != NGX_OK) {
            break;
        }

        if (total > NGX_WSMAN_INV_TABLE_MAX) {
            ngx_log_error(NGX_LOG_WARN, ctx->log, 0,
                          "wsman inventory: \"%s\" is larger than %uz "
                          "bytes, the rest is ignored",
                          path, (size_t) NGX_WSMAN_INV_TABLE_MAX);
            break;
        }

        have = last - start;

        if (have == sizeof(buf)) {
            /* an overlong line: its head is all anyone needs */
            rc = cut ? NGX_OK : handler(data, buf, have);
            cut = 1;
            have = 0;

            if (rc != NGX_OK) {
                break;
            }

            continue;
        }

        ngx_memmove(buf, start, have);
    }

    (void) close(fd);

    return rc == NGX_DONE ? NGX_OK : rc;
}


/* a one-line sysfs attribute, trimmed; NGX_DECLINED: unknown or empty */
ngx_int_t
ngx_wsman_inv_file_str(ngx_wsman_inv_ctx_t *ctx, const char *path,
    ngx_str_t *value)
{
    u_char     *p, *last;
    size_t      len;
    ngx_int_t   rc;
    u_char      buf[NGX_WSMAN_INV_ATTR_MAX];

    ngx_str_null(value);

    rc = ngx_wsman_inv_read(ctx, path, buf, sizeof(buf), &len);
    if (rc != NGX_OK) {
        return rc;
    }

    p = buf;
    last = buf + len;

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\n')) {
        p++;
    }

    while (last > p
           && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\n'
               || last[-1] == '\0'))
    {
        last--;
    }

    if (p == last) {
        return NGX_DECLINED;
    }

    if (ngx_wsman_inv_dup(ctx, value, p, last - p) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_wsman_inv_sanitize(value->data, value->len);

    return NGX_OK;
}


/* NGX_WSMAN_INV_UNKNOWN when unreadable or not a plain number ("-1") */
uint64_t
ngx_wsman_inv_file_u64(ngx_wsman_inv_ctx_t *ctx, const char *path)
{
    u_char    *p;
    size_t     len;
    uint64_t   value;
    u_char     buf[64];

    if (ngx_wsman_inv_read(ctx, path, buf, sizeof(buf), &len) != NGX_OK) {
        return NGX_WSMAN_INV_UNKNOWN;
    }

    p = ngx_wsman_inv_u64(buf, buf + len, &value);
    if (p == NULL || (p < buf + len && *p != '\n')) {
        return NGX_WSMAN_INV_UNKNOWN;
    }

    return value;
}


/* "key<blanks>:<blanks>value" as in cpuinfo, meminfo and status */
ngx_int_t
ngx_wsman_inv_kv(u_char *line, size_t len, const char *key,
    ngx_str_t *value)
{
    u_char  *p, *last;
    size_t   klen;

    klen = ngx_strlen(key);

    if (len <= klen || ngx_strncmp(line, key, klen) != 0) {
        return NGX_DECLINED;
    }

    p = line + klen;
    last = line + len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last || *p != ':') {
        return NGX_DECLINED;
    }

    for (p++; p < last && (*p == ' ' || *p == '\t'); p++) {
        /* void */
    }

    while (last > p
           && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\r'))
    {
        last--;
    }

    value->data = p;
    value->len = last - p;

    return NGX_OK;
}


/* a decimal number after optional blanks; NULL: none or overflow */
u_char *
ngx_wsman_inv_u64(u_char *p, u_char *last, uint64_t *value)
{
    uint64_t    n, d;
    ngx_uint_t  digits;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    n = 0;

    for (digits = 0; p < last && *p >= '0' && *p <= '9'; digits++, p++) {
        d = *p - '0';

        if (n > (UINT64_MAX - d) / 10) {
            return NULL;
        }

        n = n * 10 + d;
    }

    if (digits == 0) {
        return NULL;
    }

    *value = n;

    return p;
}


u_char *
ngx_wsman_inv_s64(u_char *p, u_char *last, int64_t *value)
{
    uint64_t    n;
    ngx_uint_t  neg;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    neg = (p < last && *p == '-');

    p = ngx_wsman_inv_u64(p + neg, last, &n);
    if (p == NULL || n > (uint64_t) INT64_MAX) {
        return NULL;
    }

    *value = neg ? -(int64_t) n : (int64_t) n;

    return p;
}


/* a NUL-terminated copy in the pool */
ngx_int_t
ngx_wsman_inv_dup(ngx_wsman_inv_ctx_t *ctx, ngx_str_t *dst, u_char *src,
    size_t len)
{
    dst->data = ngx_pnalloc(ctx->pool, len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src, len);
    dst->data[len] = '\0';
    dst->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_inv_dup_cstr(ngx_wsman_inv_ctx_t *ctx, ngx_str_t *dst,
    const char *src)
{
    return ngx_wsman_inv_dup(ctx, dst, (u_char *) src, ngx_strlen(src));
}


/*
 * Any local user chooses process names, command lines and FUSE mount
 * points.  XML 1.0 cannot carry control characters or broken UTF-8 even
 * escaped, so one hostile name would break the whole response: such
 * bytes become '?' (or a space for controls), in place.
 */
void
ngx_wsman_inv_sanitize(u_char *p, size_t len)
{
    u_char  *last;
    size_t   n;

    last = p + len;

    while (p < last) {

        if (*p < 0x80) {
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
                *p = ' ';
            }

            p++;
            continue;
        }

        n = ngx_wsman_inv_utf8_len(p, last);

        if (n == 0) {
            *p++ = '?';
            continue;
        }

        p += n;
    }
}


/* the length of a valid UTF-8 sequence XML allows at p, or 0 */
static size_t
ngx_wsman_inv_utf8_len(u_char *p, u_char *last)
{
    size_t  n, i;
    u_char  lo, hi;

    lo = 0x80;
    hi = 0xbf;

    if (*p >= 0xc2 && *p <= 0xdf) {
        n = 2;

    } else if (*p >= 0xe0 && *p <= 0xef) {
        n = 3;
        lo = (*p == 0xe0) ? 0xa0 : 0x80;     /* no overlong forms */
        hi = (*p == 0xed) ? 0x9f : 0xbf;     /* no surrogates */

    } else if (*p >= 0xf0 && *p <= 0xf4) {
        n = 4;
        lo = (*p == 0xf0) ? 0x90 : 0x80;
        hi = (*p == 0xf4) ? 0x8f : 0xbf;     /* up to U+10FFFF */

    } else {
        return 0;
    }

    if ((size_t) (last - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    /* U+FFFE and U+FFFF are not XML characters */
    if (n == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe) {
        return 0;
    }

    return n;
}


/* byte order, a prefix first: how string keys sort */
ngx_int_t
ngx_wsman_inv_name_cmp(ngx_str_t *a, ngx_str_t *b)
{
    ngx_int_t  rc;

    rc = ngx_memcmp(a->data, b->data, ngx_min(a->len, b->len));

    if (rc != 0) {
        return rc;
    }

    return (a->len > b->len) - (a->len < b->len);
}


/*
 * The first item whose name sorts after *after; items are sorted structs
 * that start with their ngx_str_t name.
 */
ngx_uint_t
ngx_wsman_inv_after(ngx_array_t *items, ngx_str_t *after)
{
    ngx_uint_t   lo, hi, mid;
    ngx_str_t   *name;

    if (after == NULL || after->len == 0) {
        return 0;
    }

    lo = 0;
    hi = items->nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        name = (ngx_str_t *) ((u_char *) items->elts + mid * items->size);

        if (ngx_wsman_inv_name_cmp(name, after) <= 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return lo;
}


/*
 * Builds up to max instances from items[first..], in order, skipping
 * those accept() turns down.  *done stays 0 only when another item would
 * have been emitted, so the last Pull does not come back empty.
 */
ngx_int_t
ngx_wsman_inv_emit(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov,
    ngx_array_t *items, ngx_uint_t first, ngx_wsman_inv_accept_pt accept,
    ngx_wsman_inv_build_pt build, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    void                  *item;
    ngx_int_t              rc;
    ngx_uint_t             i, n;
    ngx_wsman_instance_t  *inst;

    *done = 1;
    n = 0;

    for (i = first; i < items->nelts; i++) {
        item = (u_char *) items->elts + i * items->size;

        if (accept) {
            rc = accept(ctx, item);

            if (rc == NGX_DECLINED) {
                continue;
            }

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }
        }

        if (n == max) {
            *done = 0;
            break;
        }

        inst = build(ctx, prov, item);
        if (inst == NULL) {
            return NGX_ERROR;
        }

        if (ngx_wsman_inv_push(out, inst) != NGX_OK) {
            return NGX_ERROR;
        }

        n++;
    }

    return NGX_OK;
}


ngx_int_t
ngx_wsman_inv_push(ngx_array_t *out, ngx_wsman_instance_t *inst)
{
    ngx_wsman_instance_t  **slot;

    slot = ngx_array_push(out);
    if (slot == NULL) {
        return NGX_ERROR;
    }

    *slot = inst;

    return NGX_OK;
}


/* selector names compare case-insensitively, as WinRM does */
ngx_str_t *
ngx_wsman_inv_selector(ngx_array_t *selectors, const char *name)
{
    size_t             len;
    ngx_uint_t         i;
    ngx_wsman_pair_t  *pair;

    if (selectors == NULL) {
        return NULL;
    }

    len = ngx_strlen(name);
    pair = selectors->elts;

    for (i = 0; i < selectors->nelts; i++) {
        if (pair[i].name.len == len
            && ngx_strncasecmp(pair[i].name.data, (u_char *) name, len) == 0)
        {
            return &pair[i].value;
        }
    }

    return NULL;
}


/*
 * NGX_OK when every selector names a key of the instance with its value;
 * NGX_DECLINED when a key has another value; NGX_ABORT when a selector
 * names no key of the class (w:InvalidSelectors, not "no such instance").
 */
ngx_int_t
ngx_wsman_inv_match(ngx_wsman_instance_t *inst, ngx_array_t *selectors)
{
    ngx_uint_t         i;
    ngx_wsman_prop_t  *prop;
    ngx_wsman_pair_t  *pair;

    if (selectors == NULL) {
        return NGX_OK;
    }

    pair = selectors->elts;

    for (i = 0; i < selectors->nelts; i++) {
        prop = ngx_wsman_instance_prop(inst, pair[i].name.data,
                                       pair[i].name.len);

        if (prop == NULL || !prop->key) {
            return NGX_ABORT;
        }

        if (prop->nil
            || prop->text.len != pair[i].value.len
            || ngx_memcmp(prop->text.data, pair[i].value.data,
                          prop->text.len)
               != 0)
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_wsman_instance_t *
ngx_wsman_inv_instance(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov,
    ngx_uint_t n)
{
    ctx->failed = 0;

    return ngx_wsman_instance_create(ctx->pool, &prov->class_name,
                                     &prov->resource_uri, n);
}


/* the builder's result: NULL if any property could not be added */
ngx_wsman_instance_t *
ngx_wsman_inv_done(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst)
{
    if (ctx->failed) {
        ctx->failed = 0;
        return NULL;
    }

    return inst;
}


static void
ngx_wsman_inv_check(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_prop_t *prop)
{
    if (prop == NULL) {
        ctx->failed = 1;
    }
}


void
ngx_wsman_inv_set_key(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, ngx_str_t *value)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_prop_str(ctx->pool, inst, name, value->data,
                              value->len);
    if (prop == NULL) {
        ctx->failed = 1;
        return;
    }

    prop->key = 1;
}


void
ngx_wsman_inv_set_ckey(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, const char *value)
{
    ngx_str_t  s;

    s.data = (u_char *) value;
    s.len = ngx_strlen(value);

    ngx_wsman_inv_set_key(ctx, inst, name, &s);
}


/* value->data NULL: nil */
void
ngx_wsman_inv_set_str(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, ngx_str_t *value)
{
    ngx_wsman_inv_check(ctx, ngx_wsman_prop_str(ctx->pool, inst, name,
                                                value->data, value->len));
}


void
ngx_wsman_inv_set_cstr(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, const char *value)
{
    ngx_wsman_inv_check(ctx, ngx_wsman_prop_cstr(ctx->pool, inst, name,
                                                 value));
}


/* a number CIM types as a string (ParentProcessID, Handle) */
void
ngx_wsman_inv_set_dec(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, uint64_t value)
{
    u_char  *p;
    u_char   buf[NGX_INT64_LEN];

    if (value == NGX_WSMAN_INV_UNKNOWN) {
        ngx_wsman_inv_set_nil(ctx, inst, name, NGX_WSMAN_PROP_STRING);
        return;
    }

    p = ngx_sprintf(buf, "%uL", value);

    ngx_wsman_inv_check(ctx, ngx_wsman_prop_str(ctx->pool, inst, name, buf,
                                                p - buf));
}


void
ngx_wsman_inv_set_uint(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, uint64_t value)
{
    if (value == NGX_WSMAN_INV_UNKNOWN) {
        ngx_wsman_inv_set_nil(ctx, inst, name, NGX_WSMAN_PROP_UINT);
        return;
    }

    ngx_wsman_inv_check(ctx, ngx_wsman_prop_uint(inst, name, value));
}


void
ngx_wsman_inv_set_sint(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, int64_t value)
{
    ngx_wsman_inv_check(ctx, ngx_wsman_prop_sint(inst, name, value));
}


/* NGX_WSMAN_INV_UNKNOWN: nil */
void
ngx_wsman_inv_set_bool(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, ngx_uint_t value)
{
    if (value == (ngx_uint_t) NGX_WSMAN_INV_UNKNOWN) {
        ngx_wsman_inv_set_nil(ctx, inst, name, NGX_WSMAN_PROP_BOOL);
        return;
    }

    ngx_wsman_inv_check(ctx, ngx_wsman_prop_bool(inst, name, value));
}


/* 0: nil */
void
ngx_wsman_inv_set_time(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, time_t value)
{
    if (value == 0) {
        ngx_wsman_inv_set_nil(ctx, inst, name, NGX_WSMAN_PROP_DATETIME);
        return;
    }

    ngx_wsman_inv_check(ctx, ngx_wsman_prop_datetime(inst, name, value));
}


void
ngx_wsman_inv_set_nil(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, ngx_uint_t type)
{
    ngx_wsman_inv_check(ctx, ngx_wsman_prop_nil(inst, name, type));
}
