/*
 * CIM_Process: one instance per process (thread group) in /proc.  The
 * reader here also serves Win32_Process; only the instance builders
 * differ.  Handles are pids and sort as numbers.
 */

#include "ngx_wsman_inv.h"

#include <dirent.h>
#include <pwd.h>
#include <signal.h>


#define NGX_WSMAN_INV_STAT_MAX      2048
#define NGX_WSMAN_INV_CMDLINE_MAX   4096
#define NGX_WSMAN_INV_PW_MAX        4096
#define NGX_WSMAN_INV_USER_MAX      256

/* Win32_Process.Terminate return codes, used for CIM_Process as well */
#define NGX_WSMAN_INV_RC_OK               0
#define NGX_WSMAN_INV_RC_ACCESS_DENIED    2
#define NGX_WSMAN_INV_RC_UNKNOWN_FAILURE  8

/* CIM_Process.ExecutionState value map */
#define NGX_WSMAN_INV_EXEC_UNKNOWN        0
#define NGX_WSMAN_INV_EXEC_RUNNING        3
#define NGX_WSMAN_INV_EXEC_BLOCKED        4
#define NGX_WSMAN_INV_EXEC_TERMINATED     7
#define NGX_WSMAN_INV_EXEC_STOPPED        8


static ngx_pid_t ngx_wsman_inv_pid(u_char *p, size_t len);
static ngx_int_t ngx_wsman_inv_parse_stat(ngx_wsman_inv_proc_t *proc,
    u_char *buf, size_t len);
static ngx_int_t ngx_wsman_inv_status_line(void *data, u_char *line,
    size_t len);
static ngx_int_t ngx_wsman_inv_proc_scan(ngx_wsman_inv_ctx_t *ctx,
    ngx_pid_t low, ngx_array_t *heap, ngx_uint_t max, ngx_uint_t *found);
static ngx_int_t ngx_wsman_inv_heap_add(ngx_array_t *heap, ngx_uint_t max,
    ngx_pid_t pid);
static int ngx_libc_cdecl ngx_wsman_inv_pid_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_wsman_inv_proc_find(ngx_wsman_inv_ctx_t *ctx,
    ngx_array_t *selectors, ngx_wsman_inv_proc_t *proc);
static ngx_int_t ngx_wsman_inv_owner(ngx_wsman_inv_ctx_t *ctx, uid_t uid,
    ngx_str_t *name);
static ngx_int_t ngx_wsman_inv_may_signal(ngx_wsman_inv_ctx_t *ctx,
    ngx_str_t *caller, ngx_wsman_inv_proc_t *proc);
static ngx_uint_t ngx_wsman_inv_exec_state(u_char state);

static ngx_int_t ngx_wsman_inv_cim_process_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_int_t ngx_wsman_inv_cim_process_get(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_array_t *selectors,
    ngx_wsman_instance_t **out);
static ngx_int_t ngx_wsman_inv_cim_process_invoke(
    ngx_wsman_provider_t *prov, ngx_wsman_call_t *call, ngx_str_t *method,
    ngx_int_t *return_value);
static ngx_wsman_instance_t *ngx_wsman_inv_cim_process(
    ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov, void *item);


ngx_wsman_provider_t  ngx_wsman_inv_cim_process_provider = {
    ngx_string("CIM_Process"),
    ngx_string(NGX_WSMAN_CIM_URI "CIM_Process"),
    ngx_string("Handle"),
    1,
    ngx_wsman_inv_cim_process_enum,
    ngx_wsman_inv_cim_process_get,
    ngx_wsman_inv_cim_process_invoke,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    0,
    NULL
};


/* the pid a /proc entry or a Handle names, 0 if it names none */
static ngx_pid_t
ngx_wsman_inv_pid(u_char *p, size_t len)
{
    size_t    i;
    uint64_t  n;

    /* /proc never writes leading zeros, so "007" is no process */
    if (len == 0 || len > NGX_INT32_LEN || p[0] == '0') {
        return 0;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }

        n = n * 10 + (p[i] - '0');
    }

    return n <= NGX_MAX_INT32_VALUE ? (ngx_pid_t) n : 0;
}


/*
 * /proc/<pid>/stat and the ids of /proc/<pid>/status.  NGX_DECLINED
 * when the process is gone (or is exiting and half there).
 */
ngx_int_t
ngx_wsman_inv_proc_read(ngx_wsman_inv_ctx_t *ctx, ngx_pid_t pid,
    ngx_wsman_inv_proc_t *proc)
{
    size_t     len;
    ngx_int_t  rc;
    u_char     path[64];
    u_char     buf[NGX_WSMAN_INV_STAT_MAX];

    ngx_memzero(proc, sizeof(ngx_wsman_inv_proc_t));
    proc->pid = pid;

    ngx_snprintf(path, sizeof(path), "/proc/%d/stat%Z", (int) pid);

    rc = ngx_wsman_inv_read(ctx, (char *) path, buf, sizeof(buf), &len);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_wsman_inv_parse_stat(proc, buf, len) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_snprintf(path, sizeof(path), "/proc/%d/status%Z", (int) pid);

    rc = ngx_wsman_inv_lines(ctx, (char *) path, ngx_wsman_inv_status_line,
                             proc);
    if (rc != NGX_OK) {
        return rc;
    }

    if (proc->tgid == 0) {
        proc->tgid = pid;
    }

    return NGX_OK;
}


/*
 * "pid (comm) state ppid ..." (proc(5)).  comm may hold spaces and
 * parentheses, so it ends at the last ')'.
 */
static ngx_int_t
ngx_wsman_inv_parse_stat(ngx_wsman_inv_proc_t *proc, u_char *buf,
    size_t len)
{
    u_char      *p, *last, *lparen, *rparen;
    size_t       n;
    int64_t      f[25];
    ngx_uint_t   i;

    last = buf + len;

    lparen = ngx_strlchr(buf, last, '(');
    rparen = NULL;

    for (p = last; p > buf; p--) {
        if (p[-1] == ')') {
            rparen = p - 1;
            break;
        }
    }

    if (lparen == NULL || rparen == NULL || rparen < lparen) {
        return NGX_ERROR;
    }

    n = ngx_min((size_t) (rparen - lparen - 1), sizeof(proc->comm));
    ngx_memcpy(proc->comm, lparen + 1, n);
    proc->comm_len = n;
    ngx_wsman_inv_sanitize(proc->comm, n);

    for (p = rparen + 1; p < last && *p == ' '; p++) {
        /* void */
    }

    if (p == last) {
        return NGX_ERROR;
    }

    proc->state = *p++;

    /* fields 4 (ppid) to 24 (rss), numbered as in proc(5) */
    for (i = 4; i <= 24; i++) {
        p = ngx_wsman_inv_s64(p, last, &f[i]);
        if (p == NULL) {
            return NGX_ERROR;
        }
    }

#define ngx_wsman_inv_nonneg(v)  ((v) < 0 ? 0 : (uint64_t) (v))

    proc->ppid = (ngx_pid_t) f[4];
    proc->utime = ngx_wsman_inv_nonneg(f[14]);
    proc->stime = ngx_wsman_inv_nonneg(f[15]);
    proc->priority = f[18];
    proc->nice = f[19];
    proc->threads = ngx_wsman_inv_nonneg(f[20]);
    proc->start = ngx_wsman_inv_nonneg(f[22]);
    proc->vsize = ngx_wsman_inv_nonneg(f[23]);
    proc->rss = ngx_wsman_inv_nonneg(f[24]);

#undef ngx_wsman_inv_nonneg

    return NGX_OK;
}


/* Tgid: and the real, effective and saved ids of Uid:, then stop */
static ngx_int_t
ngx_wsman_inv_status_line(void *data, u_char *line, size_t len)
{
    ngx_wsman_inv_proc_t *proc = data;

    u_char      *p, *last;
    uint64_t     n[3];
    ngx_str_t    v;
    ngx_uint_t   i;

    if (ngx_wsman_inv_kv(line, len, "Tgid", &v) == NGX_OK) {
        if (ngx_wsman_inv_u64(v.data, v.data + v.len, &n[0]) != NULL
            && n[0] <= NGX_MAX_INT32_VALUE)
        {
            proc->tgid = (ngx_pid_t) n[0];
        }

        return NGX_OK;
    }

    if (ngx_wsman_inv_kv(line, len, "Uid", &v) != NGX_OK) {
        return NGX_OK;
    }

    p = v.data;
    last = v.data + v.len;

    for (i = 0; i < 3; i++) {
        p = ngx_wsman_inv_u64(p, last, &n[i]);
        if (p == NULL) {
            return NGX_DONE;
        }
    }

    proc->ruid = (uid_t) n[0];
    proc->euid = (uid_t) n[1];
    proc->suid = (uid_t) n[2];
    proc->uid_known = 1;

    return NGX_DONE;
}


/* the number of processes right now: what NumberOfProcesses reports */
ngx_int_t
ngx_wsman_inv_proc_count(ngx_wsman_inv_ctx_t *ctx, uint64_t *count)
{
    ngx_int_t   rc;
    ngx_uint_t  found;

    rc = ngx_wsman_inv_proc_scan(ctx, 0, NULL, 0, &found);

    *count = (rc == NGX_OK) ? found : NGX_WSMAN_INV_UNKNOWN;

    return rc;
}


/*
 * One pass over /proc: counts the pids above low and keeps the max
 * smallest of them in a max-heap, so memory follows the batch size and
 * not the number of processes.
 */
static ngx_int_t
ngx_wsman_inv_proc_scan(ngx_wsman_inv_ctx_t *ctx, ngx_pid_t low,
    ngx_array_t *heap, ngx_uint_t max, ngx_uint_t *found)
{
    DIR            *dir;
    ngx_int_t       rc;
    ngx_pid_t       pid;
    struct dirent  *de;

    *found = 0;

    dir = opendir("/proc");
    if (dir == NULL) {
        ngx_log_error(NGX_LOG_ALERT, ctx->log, ngx_errno,
                      "opendir(\"/proc\") failed");
        return NGX_ERROR;
    }

    rc = NGX_OK;

    for ( ;; ) {
        ngx_set_errno(0);

        de = readdir(dir);

        if (de == NULL) {
            if (ngx_errno != 0) {
                ngx_log_error(NGX_LOG_ALERT, ctx->log, ngx_errno,
                              "readdir(\"/proc\") failed");
                rc = NGX_ERROR;
            }

            break;
        }

        pid = ngx_wsman_inv_pid((u_char *) de->d_name,
                                ngx_strlen(de->d_name));

        if (pid <= low) {
            continue;
        }

        (*found)++;

        if (heap && ngx_wsman_inv_heap_add(heap, max, pid) != NGX_OK) {
            rc = NGX_ERROR;
            break;
        }
    }

    (void) closedir(dir);

    return rc;
}


static ngx_int_t
ngx_wsman_inv_heap_add(ngx_array_t *heap, ngx_uint_t max, ngx_pid_t pid)
{
    ngx_pid_t   *h;
    ngx_uint_t   i, child, n;

    if (heap->nelts < max) {
        if (ngx_array_push(heap) == NULL) {
            return NGX_ERROR;
        }

        h = heap->elts;

        for (i = heap->nelts - 1; i > 0 && h[(i - 1) / 2] < pid;
             i = (i - 1) / 2)
        {
            h[i] = h[(i - 1) / 2];
        }

        h[i] = pid;

        return NGX_OK;
    }

    h = heap->elts;
    n = heap->nelts;

    if (n == 0 || pid >= h[0]) {
        return NGX_OK;
    }

    /* pid replaces the largest kept one */
    for (i = 0; ; i = child) {
        child = 2 * i + 1;

        if (child >= n) {
            break;
        }

        if (child + 1 < n && h[child + 1] > h[child]) {
            child++;
        }

        if (h[child] <= pid) {
            break;
        }

        h[i] = h[child];
    }

    h[i] = pid;

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_wsman_inv_pid_cmp(const void *one, const void *two)
{
    ngx_pid_t  a, b;

    a = *(const ngx_pid_t *) one;
    b = *(const ngx_pid_t *) two;

    return (a > b) - (a < b);
}


ngx_int_t
ngx_wsman_inv_proc_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done, ngx_wsman_inv_build_pt build)
{
    ngx_int_t              rc;
    ngx_pid_t              low, *pid;
    ngx_uint_t             i, found;
    ngx_array_t            heap;
    ngx_wsman_inv_ctx_t    ctx;
    ngx_wsman_inv_proc_t   proc;
    ngx_wsman_instance_t  *inst;

    *done = 1;
    low = 0;

    if (after && after->len) {
        low = ngx_wsman_inv_pid(after->data, after->len);

        if (low == 0) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "wsman inventory: \"%V\" is not a process handle",
                          after);
            return NGX_OK;
        }
    }

    if (ngx_wsman_inv_ctx_init(&ctx, pool, log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_array_init(&heap, pool, ngx_max(ngx_min(max, 256), 1),
                       sizeof(ngx_pid_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_wsman_inv_proc_scan(&ctx, low, &heap, max, &found) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_qsort(heap.elts, heap.nelts, sizeof(ngx_pid_t),
              ngx_wsman_inv_pid_cmp);

    *done = (found <= max);
    pid = heap.elts;

    for (i = 0; i < heap.nelts; i++) {
        rc = ngx_wsman_inv_proc_read(&ctx, pid[i], &proc);

        if (rc == NGX_DECLINED) {
            continue;                   /* exited since the scan */
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }

        inst = build(&ctx, prov, &proc);
        if (inst == NULL) {
            return NGX_ERROR;
        }

        if (ngx_wsman_inv_push(out, inst) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_wsman_inv_proc_get(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_array_t *selectors, ngx_wsman_instance_t **out,
    ngx_wsman_inv_build_pt build)
{
    ngx_int_t              rc;
    ngx_wsman_inv_ctx_t    ctx;
    ngx_wsman_inv_proc_t   proc;
    ngx_wsman_instance_t  *inst;

    if (ngx_wsman_inv_ctx_init(&ctx, pool, log) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_wsman_inv_proc_find(&ctx, selectors, &proc);
    if (rc != NGX_OK) {
        return rc;
    }

    inst = build(&ctx, prov, &proc);
    if (inst == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_wsman_inv_match(inst, selectors);
    if (rc != NGX_OK) {
        return rc;
    }

    *out = inst;

    return NGX_OK;
}


/*
 * The process the Handle selector names; threads are not processes.
 * NGX_ABORT: there is no Handle selector.
 */
static ngx_int_t
ngx_wsman_inv_proc_find(ngx_wsman_inv_ctx_t *ctx, ngx_array_t *selectors,
    ngx_wsman_inv_proc_t *proc)
{
    ngx_int_t   rc;
    ngx_str_t  *handle;
    ngx_pid_t   pid;

    handle = ngx_wsman_inv_selector(selectors, "Handle");
    if (handle == NULL) {
        return NGX_ABORT;
    }

    pid = ngx_wsman_inv_pid(handle->data, handle->len);
    if (pid == 0) {
        return NGX_DECLINED;
    }

    rc = ngx_wsman_inv_proc_read(ctx, pid, proc);
    if (rc != NGX_OK) {
        return rc;
    }

    return proc->tgid == pid ? NGX_OK : NGX_DECLINED;
}


/*
 * Terminate / RequestStateChange.  The caller must be root or own the
 * process, by the rule kill(2) itself applies to an unprivileged sender
 * (its uid is the target's real or saved uid), so the worker's own
 * privileges never widen what a remote user may stop.
 */
ngx_int_t
ngx_wsman_inv_proc_terminate(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_array_t *selectors, ngx_str_t *caller,
    ngx_int_t *return_value, ngx_wsman_inv_build_pt build)
{
    ngx_err_t              err;
    ngx_int_t              rc;
    ngx_wsman_inv_ctx_t    ctx;
    ngx_wsman_inv_proc_t   proc;
    ngx_wsman_instance_t  *inst;

    if (ngx_wsman_inv_ctx_init(&ctx, pool, log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* for invoke, NGX_ABORT would mean "no such method" */
    rc = ngx_wsman_inv_proc_find(&ctx, selectors, &proc);
    if (rc != NGX_OK) {
        return rc == NGX_ERROR ? NGX_ERROR : NGX_DECLINED;
    }

    /* the other key selectors, if any, must name this host too */
    inst = build(&ctx, prov, &proc);
    if (inst == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_wsman_inv_match(inst, selectors);
    if (rc != NGX_OK) {
        return NGX_DECLINED;
    }

    rc = ngx_wsman_inv_may_signal(&ctx, caller, &proc);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* stopping the worker that serves the request would lose the reply */
    if (rc == NGX_DECLINED || proc.pid == ngx_getpid()) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "wsman: \"%V\" may not terminate process %d",
                      caller, (int) proc.pid);
        *return_value = NGX_WSMAN_INV_RC_ACCESS_DENIED;
        return NGX_OK;
    }

    if (kill(proc.pid, SIGTERM) == -1) {
        err = ngx_errno;

        if (err == NGX_ESRCH) {
            return NGX_DECLINED;
        }

        if (err == NGX_EPERM) {
            ngx_log_error(NGX_LOG_NOTICE, log, err,
                          "wsman: terminating process %d for \"%V\" "
                          "is not permitted to the worker",
                          (int) proc.pid, caller);
            *return_value = NGX_WSMAN_INV_RC_ACCESS_DENIED;
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_ALERT, log, err, "kill(%d, SIGTERM) failed",
                      (int) proc.pid);
        *return_value = NGX_WSMAN_INV_RC_UNKNOWN_FAILURE;
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "wsman: \"%V\" terminated process %d",
                  caller, (int) proc.pid);

    *return_value = NGX_WSMAN_INV_RC_OK;

    return NGX_OK;
}


/* NGX_OK: allowed, NGX_DECLINED: denied (unknown users included) */
static ngx_int_t
ngx_wsman_inv_may_signal(ngx_wsman_inv_ctx_t *ctx, ngx_str_t *caller,
    ngx_wsman_inv_proc_t *proc)
{
    int             err;
    struct passwd   pw, *found;
    char            name[NGX_WSMAN_INV_USER_MAX];
    char            buf[NGX_WSMAN_INV_PW_MAX];

    if (caller == NULL
        || caller->len == 0
        || caller->len >= sizeof(name)
        || ngx_strlchr(caller->data, caller->data + caller->len, '\0'))
    {
        return NGX_DECLINED;
    }

    ngx_memcpy(name, caller->data, caller->len);
    name[caller->len] = '\0';

    found = NULL;
    err = getpwnam_r(name, &pw, buf, sizeof(buf), &found);

    if (err != 0) {
        /* a directory that does not answer denies, it does not fail */
        ngx_log_error(NGX_LOG_ERR, ctx->log, err,
                      "getpwnam_r(\"%V\") failed", caller);
        return NGX_DECLINED;
    }

    if (found == NULL) {
        return NGX_DECLINED;
    }

    if (pw.pw_uid == 0) {
        return NGX_OK;
    }

    if (!proc->uid_known) {
        return NGX_DECLINED;
    }

    if (pw.pw_uid == proc->ruid || pw.pw_uid == proc->suid) {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* /proc/<pid>/cmdline, NULs as spaces; nil for kernel threads */
void
ngx_wsman_inv_set_cmdline(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, ngx_pid_t pid)
{
    size_t     i, len;
    ngx_int_t  rc;
    ngx_str_t  value;
    u_char     path[64];
    u_char     buf[NGX_WSMAN_INV_CMDLINE_MAX + 1];

    ngx_str_null(&value);

    ngx_snprintf(path, sizeof(path), "/proc/%d/cmdline%Z", (int) pid);

    rc = ngx_wsman_inv_read(ctx, (char *) path, buf, sizeof(buf), &len);

    if (rc == NGX_ERROR) {
        ctx->failed = 1;
        return;
    }

    if (rc == NGX_OK) {
        while (len && buf[len - 1] == '\0') {
            len--;
        }

        for (i = 0; i < len; i++) {
            if (buf[i] == '\0') {
                buf[i] = ' ';
            }
        }

        if (len) {
            ngx_wsman_inv_sanitize(buf, len);
            value.data = buf;
            value.len = len;
        }
    }

    ngx_wsman_inv_set_str(ctx, inst, name, &value);
}


/* the user name of the effective uid, as ps(1) shows it */
void
ngx_wsman_inv_set_owner(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    const char *name, ngx_wsman_inv_proc_t *proc)
{
    ngx_str_t  owner;

    ngx_str_null(&owner);

    if (proc->uid_known
        && ngx_wsman_inv_owner(ctx, proc->euid, &owner) != NGX_OK)
    {
        ctx->failed = 1;
        return;
    }

    ngx_wsman_inv_set_str(ctx, inst, name, &owner);
}


/* user names, remembered for the rest of this call only */
static ngx_int_t
ngx_wsman_inv_owner(ngx_wsman_inv_ctx_t *ctx, uid_t uid, ngx_str_t *name)
{
    int                     err;
    ngx_uint_t              i;
    struct passwd           pw, *found;
    ngx_wsman_inv_owner_t  *owner;
    char                    buf[NGX_WSMAN_INV_PW_MAX];

    if (ctx->owners.elts == NULL
        && ngx_array_init(&ctx->owners, ctx->pool, 8,
                          sizeof(ngx_wsman_inv_owner_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    owner = ctx->owners.elts;

    for (i = 0; i < ctx->owners.nelts; i++) {
        if (owner[i].uid == uid) {
            *name = owner[i].name;
            return NGX_OK;
        }
    }

    owner = ngx_array_push(&ctx->owners);
    if (owner == NULL) {
        return NGX_ERROR;
    }

    owner->uid = uid;
    ngx_str_null(&owner->name);

    found = NULL;
    err = getpwuid_r(uid, &pw, buf, sizeof(buf), &found);

    if (err == 0 && found != NULL) {
        if (ngx_wsman_inv_dup(ctx, &owner->name, (u_char *) pw.pw_name,
                              ngx_strlen(pw.pw_name))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_wsman_inv_sanitize(owner->name.data, owner->name.len);
    }

    *name = owner->name;

    return NGX_OK;
}


/* 0 (nil) when the boot time is unknown */
time_t
ngx_wsman_inv_proc_started(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_inv_proc_t *proc)
{
    time_t  boot;

    boot = ngx_wsman_inv_boot_time(ctx);
    if (boot == 0) {
        return 0;
    }

    return boot + (time_t) (proc->start / ctx->clk_tck);
}


/* clock ticks in another unit, without overflowing on long uptimes */
uint64_t
ngx_wsman_inv_ticks(ngx_wsman_inv_ctx_t *ctx, uint64_t ticks,
    uint64_t per_second)
{
    return ticks / ctx->clk_tck * per_second
           + ticks % ctx->clk_tck * per_second / ctx->clk_tck;
}


/*
 * The one-letter state of proc(5) in the CIM_Process.ExecutionState map.
 * Linux has no Ready/Running split: R (running or runnable) is Running.
 * A task asleep waiting for an event or I/O (S, D, I idle kernel thread)
 * is Blocked; stopped or traced (T, t) is Stopped; zombies and dead
 * tasks (Z, X) are Terminated; anything else is Unknown.
 */
static ngx_uint_t
ngx_wsman_inv_exec_state(u_char state)
{
    switch (state) {

    case 'R':
        return NGX_WSMAN_INV_EXEC_RUNNING;

    case 'S':
    case 'D':
    case 'I':
        return NGX_WSMAN_INV_EXEC_BLOCKED;

    case 'T':
    case 't':
        return NGX_WSMAN_INV_EXEC_STOPPED;

    case 'Z':
    case 'X':
        return NGX_WSMAN_INV_EXEC_TERMINATED;

    default:
        return NGX_WSMAN_INV_EXEC_UNKNOWN;
    }
}


static ngx_int_t
ngx_wsman_inv_cim_process_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    return ngx_wsman_inv_proc_enum(prov, pool, log, after, max, out, done,
                                   ngx_wsman_inv_cim_process);
}


static ngx_int_t
ngx_wsman_inv_cim_process_get(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_array_t *selectors, ngx_wsman_instance_t **out)
{
    return ngx_wsman_inv_proc_get(prov, pool, log, selectors, out,
                                  ngx_wsman_inv_cim_process);
}


/*
 * RequestStateChange's RequestedState does not reach providers, and the
 * only change a process can be asked for from outside is to end, so the
 * method terminates the process, with Win32_Process' return codes.
 * NGX_ABORT: no such method.
 */
static ngx_int_t
ngx_wsman_inv_cim_process_invoke(ngx_wsman_provider_t *prov,
    ngx_wsman_call_t *call, ngx_str_t *method, ngx_int_t *return_value)
{
    if (method->len != sizeof("RequestStateChange") - 1
        || ngx_strncasecmp(method->data, (u_char *) "RequestStateChange",
                           method->len)
           != 0)
    {
        return NGX_ABORT;
    }

    return ngx_wsman_inv_proc_terminate(prov, call->pool, call->log,
                                        &call->req->selectors,
                                        &call->identity->user, return_value,
                                        ngx_wsman_inv_cim_process);
}


static ngx_wsman_instance_t *
ngx_wsman_inv_cim_process(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item)
{
    ngx_wsman_inv_proc_t *proc = item;

    u_char                *p;
    ngx_str_t              comm, handle;
    ngx_wsman_instance_t  *inst;
    u_char                 buf[NGX_INT32_LEN];

    inst = ngx_wsman_inv_instance(ctx, prov, 20);
    if (inst == NULL) {
        return NULL;
    }

    comm.data = proc->comm;
    comm.len = proc->comm_len;

    p = ngx_sprintf(buf, "%d", (int) proc->pid);
    handle.data = buf;
    handle.len = p - buf;

    ngx_wsman_inv_set_ckey(ctx, inst, "CSCreationClassName",
                           NGX_WSMAN_INV_CIM_CS);
    ngx_wsman_inv_set_key(ctx, inst, "CSName", &ctx->host);
    ngx_wsman_inv_set_ckey(ctx, inst, "OSCreationClassName",
                           NGX_WSMAN_INV_CIM_OS);
    ngx_wsman_inv_set_key(ctx, inst, "OSName", &ctx->sysname);
    ngx_wsman_inv_set_ckey(ctx, inst, "CreationClassName", "CIM_Process");
    ngx_wsman_inv_set_key(ctx, inst, "Handle", &handle);

    ngx_wsman_inv_set_str(ctx, inst, "Name", &comm);
    ngx_wsman_inv_set_str(ctx, inst, "ElementName", &comm);
    ngx_wsman_inv_set_cmdline(ctx, inst, "CommandLine", proc->pid);
    ngx_wsman_inv_set_uint(ctx, inst, "ExecutionState",
                           ngx_wsman_inv_exec_state(proc->state));
    ngx_wsman_inv_set_dec(ctx, inst, "ParentProcessID",
                          (uint64_t) proc->ppid);
    ngx_wsman_inv_set_owner(ctx, inst, "Owner", proc);

    /* lower is more favourable in CIM as in the kernel; real time is 0 */
    ngx_wsman_inv_set_uint(ctx, inst, "Priority",
                           proc->priority < 0 ? 0 : proc->priority);
    ngx_wsman_inv_set_time(ctx, inst, "CreationDate",
                           ngx_wsman_inv_proc_started(ctx, proc));
    ngx_wsman_inv_set_uint(ctx, inst, "KernelModeTime",
                           ngx_wsman_inv_ticks(ctx, proc->stime, 1000));
    ngx_wsman_inv_set_uint(ctx, inst, "UserModeTime",
                           ngx_wsman_inv_ticks(ctx, proc->utime, 1000));
    ngx_wsman_inv_set_uint(ctx, inst, "WorkingSetSize",
                           proc->rss * ctx->page_size);

    return ngx_wsman_inv_done(ctx, inst);
}
