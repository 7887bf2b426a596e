/*
 * The WMI classes Windows tools ask for first (root/cimv2), built from
 * the same collectors as their CIM counterparts: Win32_OperatingSystem,
 * Win32_ComputerSystem, Win32_Process and Win32_LogicalDisk.
 */

#include "ngx_wsman_inv.h"


/* Win32_LogicalDisk.DriveType */
#define NGX_WSMAN_INV_DRIVE_LOCAL     3
#define NGX_WSMAN_INV_DRIVE_NETWORK   4
#define NGX_WSMAN_INV_DRIVE_CD        5
#define NGX_WSMAN_INV_DRIVE_RAM       6

/* Windows' base priorities: normal and the real-time class */
#define NGX_WSMAN_INV_PRIO_NORMAL     8
#define NGX_WSMAN_INV_PRIO_REALTIME   24

#define NGX_WSMAN_INV_WORKGROUP       "WORKGROUP"


static ngx_int_t ngx_wsman_inv_win32_os_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_wsman_instance_t *ngx_wsman_inv_win32_os(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item);
static ngx_int_t ngx_wsman_inv_win32_cs_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_wsman_instance_t *ngx_wsman_inv_win32_cs(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item);
static ngx_int_t ngx_wsman_inv_win32_process_enum(
    ngx_wsman_provider_t *prov, ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *after, ngx_uint_t max, ngx_array_t *out, ngx_uint_t *done);
static ngx_int_t ngx_wsman_inv_win32_process_get(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_array_t *selectors,
    ngx_wsman_instance_t **out);
static ngx_int_t ngx_wsman_inv_win32_process_invoke(
    ngx_wsman_provider_t *prov, ngx_wsman_call_t *call, ngx_str_t *method,
    ngx_int_t *return_value);
static ngx_wsman_instance_t *ngx_wsman_inv_win32_process(
    ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov, void *item);
static void ngx_wsman_inv_set_exe(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, ngx_pid_t pid);
static uint64_t ngx_wsman_inv_win32_priority(ngx_wsman_inv_proc_t *proc);
static ngx_int_t ngx_wsman_inv_win32_disk_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_wsman_instance_t *ngx_wsman_inv_win32_disk(
    ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov, void *item);
static uint64_t ngx_wsman_inv_drive_type(ngx_wsman_inv_fs_t *fs);


ngx_wsman_provider_t  ngx_wsman_inv_win32_os_provider = {
    ngx_string(NGX_WSMAN_INV_WIN32_OS),
    ngx_string(NGX_WSMAN_WMI_CIMV2_URI NGX_WSMAN_INV_WIN32_OS),
    ngx_string("Name"),
    0,
    ngx_wsman_inv_win32_os_enum,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    1,                                  /* one per host */
    NULL
};


ngx_wsman_provider_t  ngx_wsman_inv_win32_cs_provider = {
    ngx_string(NGX_WSMAN_INV_WIN32_CS),
    ngx_string(NGX_WSMAN_WMI_CIMV2_URI NGX_WSMAN_INV_WIN32_CS),
    ngx_string("Name"),
    0,
    ngx_wsman_inv_win32_cs_enum,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    1,                                  /* one per host */
    NULL
};


ngx_wsman_provider_t  ngx_wsman_inv_win32_process_provider = {
    ngx_string("Win32_Process"),
    ngx_string(NGX_WSMAN_WMI_CIMV2_URI "Win32_Process"),
    ngx_string("Handle"),
    1,
    ngx_wsman_inv_win32_process_enum,
    ngx_wsman_inv_win32_process_get,
    ngx_wsman_inv_win32_process_invoke,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    0,
    NULL
};


ngx_wsman_provider_t  ngx_wsman_inv_win32_disk_provider = {
    ngx_string("Win32_LogicalDisk"),
    ngx_string(NGX_WSMAN_WMI_CIMV2_URI "Win32_LogicalDisk"),
    ngx_string("DeviceID"),
    0,
    ngx_wsman_inv_win32_disk_enum,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    0,
    NULL
};


static ngx_int_t
ngx_wsman_inv_win32_os_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    return ngx_wsman_inv_single(prov, pool, log, after, max, out, done,
                                ngx_wsman_inv_win32_os);
}


static ngx_wsman_instance_t *
ngx_wsman_inv_win32_os(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov,
    void *item)
{
    u_char                *p;
    ngx_str_t              name;
    ngx_wsman_inv_os_t     os;
    ngx_wsman_instance_t  *inst;

    if (ngx_wsman_inv_os(ctx, &os) != NGX_OK) {
        return NULL;
    }

    inst = ngx_wsman_inv_instance(ctx, prov, 24);
    if (inst == NULL) {
        return NULL;
    }

    /* Windows' Name is "<caption>|<system dir>|<boot partition>" */
    name.len = ctx->sysname.len + 1 + ctx->release.len;
    name.data = ngx_pnalloc(ctx->pool, name.len);
    if (name.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(name.data, ctx->sysname.data, ctx->sysname.len);
    *p++ = '|';
    ngx_memcpy(p, ctx->release.data, ctx->release.len);

    ngx_wsman_inv_set_key(ctx, inst, "Name", &name);
    ngx_wsman_inv_set_cstr(ctx, inst, "CSCreationClassName",
                           NGX_WSMAN_INV_WIN32_CS);
    ngx_wsman_inv_set_str(ctx, inst, "CSName", &ctx->host);
    ngx_wsman_inv_set_cstr(ctx, inst, "CreationClassName",
                           NGX_WSMAN_INV_WIN32_OS);
    ngx_wsman_inv_set_str(ctx, inst, "Caption", &os.pretty);
    ngx_wsman_inv_set_str(ctx, inst, "Version", &ctx->release);
    ngx_wsman_inv_set_nil(ctx, inst, "BuildNumber", NGX_WSMAN_PROP_STRING);

    /* the word size of the kernel's machine, not of this build */
    ngx_wsman_inv_set_cstr(ctx, inst, "OSArchitecture",
                           ngx_strstr(ctx->machine.data, "64") != NULL
                           || ngx_strcmp(ctx->machine.data, "s390x") == 0
                           ? "64-bit" : "32-bit");
    ngx_wsman_inv_set_uint(ctx, inst, "OSType", NGX_WSMAN_INV_OSTYPE_LINUX);
    ngx_wsman_inv_set_time(ctx, inst, "LastBootUpTime", os.boot);
    ngx_wsman_inv_set_time(ctx, inst, "LocalDateTime", ngx_time());
    ngx_wsman_inv_set_sint(ctx, inst, "CurrentTimeZone",
                           (ngx_timeofday())->gmtoff);
    ngx_wsman_inv_set_uint(ctx, inst, "NumberOfProcesses", os.processes);
    ngx_wsman_inv_set_nil(ctx, inst, "NumberOfUsers", NGX_WSMAN_PROP_UINT);
    ngx_wsman_inv_set_os_memory(ctx, inst, &os);
    ngx_wsman_inv_set_bool(ctx, inst, "Primary", 1);
    ngx_wsman_inv_set_cstr(ctx, inst, "Status", "OK");

    return ngx_wsman_inv_done(ctx, inst);
}


static ngx_int_t
ngx_wsman_inv_win32_cs_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    return ngx_wsman_inv_single(prov, pool, log, after, max, out, done,
                                ngx_wsman_inv_win32_cs);
}


static ngx_wsman_instance_t *
ngx_wsman_inv_win32_cs(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov,
    void *item)
{
    const char            *type;
    ngx_wsman_inv_cs_t     cs;
    ngx_wsman_instance_t  *inst;

    if (ngx_wsman_inv_cs(ctx, &cs) != NGX_OK) {
        return NULL;
    }

    inst = ngx_wsman_inv_instance(ctx, prov, 16);
    if (inst == NULL) {
        return NULL;
    }

    if (ngx_strcmp(ctx->machine.data, "x86_64") == 0) {
        type = "x64-based PC";

    } else if (ctx->machine.len == 4 && ctx->machine.data[0] == 'i'
               && ngx_strcmp(ctx->machine.data + 2, "86") == 0)
    {
        type = "X86-based PC";

    } else if (ngx_strcmp(ctx->machine.data, "aarch64") == 0) {
        type = "ARM64-based PC";

    } else {
        type = NULL;
    }

    ngx_wsman_inv_set_key(ctx, inst, "Name", &ctx->host);
    ngx_wsman_inv_set_cstr(ctx, inst, "CreationClassName",
                           NGX_WSMAN_INV_WIN32_CS);
    ngx_wsman_inv_set_str(ctx, inst, "Caption", &ctx->host);
    ngx_wsman_inv_set_str(ctx, inst, "DNSHostName", &ctx->host);

    /* not joined to an Active Directory domain, as far as WMI can tell */
    ngx_wsman_inv_set_cstr(ctx, inst, "Domain", NGX_WSMAN_INV_WORKGROUP);
    ngx_wsman_inv_set_cstr(ctx, inst, "Workgroup", NGX_WSMAN_INV_WORKGROUP);
    ngx_wsman_inv_set_bool(ctx, inst, "PartOfDomain", 0);

    ngx_wsman_inv_set_str(ctx, inst, "Manufacturer", &cs.vendor);
    ngx_wsman_inv_set_str(ctx, inst, "Model", &cs.product);
    ngx_wsman_inv_set_cstr(ctx, inst, "SystemType", type);
    ngx_wsman_inv_set_uint(ctx, inst, "NumberOfProcessors", cs.packages);
    ngx_wsman_inv_set_uint(ctx, inst, "NumberOfLogicalProcessors",
                           cs.logical);
    ngx_wsman_inv_set_uint(ctx, inst, "TotalPhysicalMemory", cs.memory);
    ngx_wsman_inv_set_cstr(ctx, inst, "Status", "OK");

    return ngx_wsman_inv_done(ctx, inst);
}


static ngx_int_t
ngx_wsman_inv_win32_process_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done)
{
    return ngx_wsman_inv_proc_enum(prov, pool, log, after, max, out, done,
                                   ngx_wsman_inv_win32_process);
}


static ngx_int_t
ngx_wsman_inv_win32_process_get(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_array_t *selectors,
    ngx_wsman_instance_t **out)
{
    return ngx_wsman_inv_proc_get(prov, pool, log, selectors, out,
                                  ngx_wsman_inv_win32_process);
}


/* NGX_ABORT: no such method */
static ngx_int_t
ngx_wsman_inv_win32_process_invoke(ngx_wsman_provider_t *prov,
    ngx_wsman_call_t *call, ngx_str_t *method, ngx_int_t *return_value)
{
    if (method->len != sizeof("Terminate") - 1
        || ngx_strncasecmp(method->data, (u_char *) "Terminate",
                           method->len)
           != 0)
    {
        return NGX_ABORT;
    }

    return ngx_wsman_inv_proc_terminate(prov, call->pool, call->log,
                                        &call->req->selectors,
                                        &call->identity->user, return_value,
                                        ngx_wsman_inv_win32_process);
}


/* WMI keeps Handle as the only key of Win32_Process */
static ngx_wsman_instance_t *
ngx_wsman_inv_win32_process(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item)
{
    ngx_wsman_inv_proc_t *proc = item;

    u_char                *p;
    ngx_str_t              comm, handle;
    ngx_wsman_instance_t  *inst;
    u_char                 buf[NGX_INT32_LEN];

    inst = ngx_wsman_inv_instance(ctx, prov, 24);
    if (inst == NULL) {
        return NULL;
    }

    comm.data = proc->comm;
    comm.len = proc->comm_len;

    p = ngx_sprintf(buf, "%d", (int) proc->pid);
    handle.data = buf;
    handle.len = p - buf;

    ngx_wsman_inv_set_key(ctx, inst, "Handle", &handle);
    ngx_wsman_inv_set_cstr(ctx, inst, "CSCreationClassName",
                           NGX_WSMAN_INV_WIN32_CS);
    ngx_wsman_inv_set_str(ctx, inst, "CSName", &ctx->host);
    ngx_wsman_inv_set_cstr(ctx, inst, "OSCreationClassName",
                           NGX_WSMAN_INV_WIN32_OS);
    ngx_wsman_inv_set_str(ctx, inst, "OSName", &ctx->sysname);
    ngx_wsman_inv_set_cstr(ctx, inst, "CreationClassName", "Win32_Process");
    ngx_wsman_inv_set_uint(ctx, inst, "ProcessId", (uint64_t) proc->pid);
    ngx_wsman_inv_set_uint(ctx, inst, "ParentProcessId",
                           (uint64_t) proc->ppid);
    ngx_wsman_inv_set_str(ctx, inst, "Name", &comm);
    ngx_wsman_inv_set_str(ctx, inst, "Caption", &comm);
    ngx_wsman_inv_set_cmdline(ctx, inst, "CommandLine", proc->pid);
    ngx_wsman_inv_set_exe(ctx, inst, proc->pid);

    /* not a WMI property (WMI has GetOwner()), but what clients want */
    ngx_wsman_inv_set_owner(ctx, inst, "Owner", proc);
    ngx_wsman_inv_set_time(ctx, inst, "CreationDate",
                           ngx_wsman_inv_proc_started(ctx, proc));

    /* WMI counts CPU time in 100 ns units */
    ngx_wsman_inv_set_uint(ctx, inst, "KernelModeTime",
                           ngx_wsman_inv_ticks(ctx, proc->stime, 10000000));
    ngx_wsman_inv_set_uint(ctx, inst, "UserModeTime",
                           ngx_wsman_inv_ticks(ctx, proc->utime, 10000000));
    ngx_wsman_inv_set_uint(ctx, inst, "WorkingSetSize",
                           proc->rss * ctx->page_size);
    ngx_wsman_inv_set_uint(ctx, inst, "VirtualSize", proc->vsize);
    ngx_wsman_inv_set_uint(ctx, inst, "ThreadCount", proc->threads);
    ngx_wsman_inv_set_uint(ctx, inst, "Priority",
                           ngx_wsman_inv_win32_priority(proc));

    return ngx_wsman_inv_done(ctx, inst);
}


/* readlink /proc/<pid>/exe; nil for kernel threads and others' processes */
static void
ngx_wsman_inv_set_exe(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    ngx_pid_t pid)
{
    ssize_t    n;
    ngx_str_t  exe;
    u_char     path[64];
    u_char     buf[NGX_MAX_PATH];

    ngx_str_null(&exe);

    ngx_snprintf(path, sizeof(path), "/proc/%d/exe%Z", (int) pid);

    n = readlink((char *) path, (char *) buf, sizeof(buf));

    if (n > 0 && (size_t) n < sizeof(buf)) {
        ngx_wsman_inv_sanitize(buf, n);
        exe.data = buf;
        exe.len = n;
    }

    ngx_wsman_inv_set_str(ctx, inst, "ExecutablePath", &exe);
}


/*
 * Windows priorities grow with urgency (0..31, normal 8); Linux nice
 * values shrink with it (-20..19).  Nice maps linearly around normal,
 * onto 16..1, and real-time tasks get the real-time class base, 24.
 */
static uint64_t
ngx_wsman_inv_win32_priority(ngx_wsman_inv_proc_t *proc)
{
    int64_t  prio;

    if (proc->priority < 0) {
        return NGX_WSMAN_INV_PRIO_REALTIME;
    }

    prio = NGX_WSMAN_INV_PRIO_NORMAL - proc->nice * 2 / 5;

    return (uint64_t) ngx_max(ngx_min(prio, 31), 1);
}


static ngx_int_t
ngx_wsman_inv_win32_disk_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    return ngx_wsman_inv_fs_enum(prov, pool, log, after, max, out, done,
                                 ngx_wsman_inv_win32_disk);
}


/* drive letters do not exist here: the mount point is the DeviceID */
static ngx_wsman_instance_t *
ngx_wsman_inv_win32_disk(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item)
{
    ngx_wsman_inv_fs_t *fs = item;

    uint64_t               type;
    ngx_str_t              none;
    ngx_wsman_instance_t  *inst;

    inst = ngx_wsman_inv_instance(ctx, prov, 16);
    if (inst == NULL) {
        return NULL;
    }

    type = ngx_wsman_inv_drive_type(fs);
    ngx_str_null(&none);

    ngx_wsman_inv_set_key(ctx, inst, "DeviceID", &fs->name);
    ngx_wsman_inv_set_str(ctx, inst, "Caption", &fs->name);
    ngx_wsman_inv_set_str(ctx, inst, "Name", &fs->name);
    ngx_wsman_inv_set_cstr(ctx, inst, "CreationClassName",
                           "Win32_LogicalDisk");
    ngx_wsman_inv_set_cstr(ctx, inst, "SystemCreationClassName",
                           NGX_WSMAN_INV_WIN32_CS);
    ngx_wsman_inv_set_str(ctx, inst, "SystemName", &ctx->host);
    ngx_wsman_inv_set_uint(ctx, inst, "DriveType", type);
    ngx_wsman_inv_set_str(ctx, inst, "FileSystem", &fs->type);
    ngx_wsman_inv_set_uint(ctx, inst, "Size", fs->size);
    ngx_wsman_inv_set_uint(ctx, inst, "FreeSpace", fs->avail);
    ngx_wsman_inv_set_uint(ctx, inst, "BlockSize", fs->block);
    ngx_wsman_inv_set_uint(ctx, inst, "MaximumComponentLength",
                           fs->name_max);
    ngx_wsman_inv_set_nil(ctx, inst, "VolumeName", NGX_WSMAN_PROP_STRING);
    ngx_wsman_inv_set_str(ctx, inst, "ProviderName",
                          type == NGX_WSMAN_INV_DRIVE_NETWORK
                          ? &fs->device : &none);

    return ngx_wsman_inv_done(ctx, inst);
}


static uint64_t
ngx_wsman_inv_drive_type(ngx_wsman_inv_fs_t *fs)
{
    ngx_str_t  *t;

    t = &fs->type;

    if (fs->remote && !(t->len >= 4 && ngx_strncmp(t->data, "fuse", 4) == 0))
    {
        return NGX_WSMAN_INV_DRIVE_NETWORK;
    }

    if ((t->len == 5 && ngx_strncmp(t->data, "tmpfs", 5) == 0)
        || (t->len == 5 && ngx_strncmp(t->data, "ramfs", 5) == 0))
    {
        return NGX_WSMAN_INV_DRIVE_RAM;
    }

    if ((t->len == 7 && ngx_strncmp(t->data, "iso9660", 7) == 0)
        || (t->len == 3 && ngx_strncmp(t->data, "udf", 3) == 0))
    {
        return NGX_WSMAN_INV_DRIVE_CD;
    }

    return NGX_WSMAN_INV_DRIVE_LOCAL;
}
