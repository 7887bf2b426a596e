/*
 * CIM_OperatingSystem and CIM_ComputerSystem: one instance each, for the
 * kernel and the machine this worker runs on.  The collectors here also
 * feed Win32_OperatingSystem and Win32_ComputerSystem.
 */

#include "ngx_wsman_inv.h"


#define NGX_WSMAN_INV_OS_RELEASE_MAX  8192

/* CIM_ComputerSystem.Dedicated: a general-purpose host */
#define NGX_WSMAN_INV_NOT_DEDICATED   0


typedef struct {
    ngx_wsman_inv_ctx_t       *ctx;
    ngx_str_t                 *value;
} ngx_wsman_inv_pretty_t;

typedef struct {
    ngx_wsman_inv_mem_t       *mem;
    uint64_t                   available;
} ngx_wsman_inv_meminfo_t;


static ngx_int_t ngx_wsman_inv_os_release(ngx_wsman_inv_ctx_t *ctx,
    ngx_str_t *pretty);
static ngx_int_t ngx_wsman_inv_os_release_line(void *data, u_char *line,
    size_t len);
static size_t ngx_wsman_inv_unquote(u_char *p, size_t len);
static ngx_int_t ngx_wsman_inv_meminfo(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_inv_mem_t *mem);
static ngx_int_t ngx_wsman_inv_meminfo_line(void *data, u_char *line,
    size_t len);
static uint64_t ngx_wsman_inv_packages(ngx_array_t *cpus);

static ngx_int_t ngx_wsman_inv_cim_os_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_wsman_instance_t *ngx_wsman_inv_cim_os(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item);
static ngx_int_t ngx_wsman_inv_cim_cs_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_wsman_instance_t *ngx_wsman_inv_cim_cs(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item);


ngx_wsman_provider_t  ngx_wsman_inv_cim_os_provider = {
    ngx_string(NGX_WSMAN_INV_CIM_OS),
    ngx_string(NGX_WSMAN_CIM_URI NGX_WSMAN_INV_CIM_OS),
    ngx_string("Name"),
    0,
    ngx_wsman_inv_cim_os_enum,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    1,                                  /* one per host */
    NULL
};


ngx_wsman_provider_t  ngx_wsman_inv_cim_cs_provider = {
    ngx_string(NGX_WSMAN_INV_CIM_CS),
    ngx_string(NGX_WSMAN_CIM_URI NGX_WSMAN_INV_CIM_CS),
    ngx_string("Name"),
    0,
    ngx_wsman_inv_cim_cs_enum,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    1,                                  /* one per host */
    NULL
};


ngx_int_t
ngx_wsman_inv_os(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_inv_os_t *os)
{
    ngx_memzero(os, sizeof(ngx_wsman_inv_os_t));

    if (ngx_wsman_inv_os_release(ctx, &os->pretty) == NGX_ERROR) {
        return NGX_ERROR;
    }

    os->boot = ngx_wsman_inv_boot_time(ctx);

    if (ngx_wsman_inv_proc_count(ctx, &os->processes) == NGX_ERROR) {
        return NGX_ERROR;
    }

    return ngx_wsman_inv_meminfo(ctx, &os->mem);
}


ngx_int_t
ngx_wsman_inv_cs(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_inv_cs_t *cs)
{
    long                 n;
    ngx_array_t          cpus;
    ngx_wsman_inv_mem_t  mem;

    ngx_memzero(cs, sizeof(ngx_wsman_inv_cs_t));

    /* DMI is absent on many VMs and non-PC hardware: nil then */
    if (ngx_wsman_inv_file_str(ctx, "/sys/class/dmi/id/sys_vendor",
                               &cs->vendor)
        == NGX_ERROR
        || ngx_wsman_inv_file_str(ctx, "/sys/class/dmi/id/product_name",
                                  &cs->product)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (ngx_wsman_inv_cpus(ctx, &cpus) != NGX_OK) {
        return NGX_ERROR;
    }

    cs->packages = ngx_wsman_inv_packages(&cpus);
    cs->logical = cpus.nelts;

    if (cs->logical == 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        cs->logical = n > 0 ? (uint64_t) n : NGX_WSMAN_INV_UNKNOWN;
    }

    if (ngx_wsman_inv_meminfo(ctx, &mem) != NGX_OK) {
        return NGX_ERROR;
    }

    cs->memory = (mem.total == NGX_WSMAN_INV_UNKNOWN)
                 ? NGX_WSMAN_INV_UNKNOWN : mem.total * 1024;

    return NGX_OK;
}


/* distinct "physical id"s; unknown where cpuinfo has none (most ARM) */
static uint64_t
ngx_wsman_inv_packages(ngx_array_t *cpus)
{
    ngx_uint_t            i, j, n;
    ngx_wsman_inv_cpu_t  *cpu;

    cpu = cpus->elts;
    n = 0;

    for (i = 0; i < cpus->nelts; i++) {
        if (cpu[i].package == NGX_WSMAN_INV_UNKNOWN) {
            return NGX_WSMAN_INV_UNKNOWN;
        }

        for (j = 0; j < i; j++) {
            if (cpu[j].package == cpu[i].package) {
                break;
            }
        }

        n += (j == i);
    }

    return n ? n : NGX_WSMAN_INV_UNKNOWN;
}


/* PRETTY_NAME of os-release(5); data NULL when there is none */
static ngx_int_t
ngx_wsman_inv_os_release(ngx_wsman_inv_ctx_t *ctx, ngx_str_t *pretty)
{
    ngx_int_t               rc;
    ngx_wsman_inv_pretty_t  pr;

    ngx_str_null(pretty);

    pr.ctx = ctx;
    pr.value = pretty;

    rc = ngx_wsman_inv_lines(ctx, "/etc/os-release",
                             ngx_wsman_inv_os_release_line, &pr);

    if (rc == NGX_DECLINED) {
        rc = ngx_wsman_inv_lines(ctx, "/usr/lib/os-release",
                                 ngx_wsman_inv_os_release_line, &pr);
    }

    return rc;
}


static ngx_int_t
ngx_wsman_inv_os_release_line(void *data, u_char *line, size_t len)
{
    ngx_wsman_inv_pretty_t *pr = data;

    size_t  n;

    if (len <= 12 || ngx_strncmp(line, "PRETTY_NAME=", 12) != 0) {
        return NGX_OK;
    }

    n = ngx_wsman_inv_unquote(line + 12, len - 12);

    if (n == 0) {
        return NGX_DONE;
    }

    if (ngx_wsman_inv_dup(pr->ctx, pr->value, line + 12, n) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_wsman_inv_sanitize(pr->value->data, pr->value->len);

    return NGX_DONE;
}


/* a shell-quoted os-release value, in place; returns the new length */
static size_t
ngx_wsman_inv_unquote(u_char *p, size_t len)
{
    u_char  *s, *d, *last, quote;

    if (len == 0 || (p[0] != '"' && p[0] != '\'')) {
        return len;
    }

    quote = p[0];
    last = p + len;
    d = p;

    for (s = p + 1; s < last && *s != quote; s++) {
        if (quote == '"' && *s == '\\' && s + 1 < last
            && ngx_strlchr((u_char *) "\"\\$`", (u_char *) "\"\\$`" + 4,
                           s[1]))
        {
            s++;
        }

        *d++ = *s;
    }

    return d - p;
}


static ngx_int_t
ngx_wsman_inv_meminfo(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_inv_mem_t *mem)
{
    ngx_int_t                rc;
    ngx_wsman_inv_meminfo_t  mi;

    mem->total = NGX_WSMAN_INV_UNKNOWN;
    mem->free = NGX_WSMAN_INV_UNKNOWN;
    mem->swap_total = NGX_WSMAN_INV_UNKNOWN;
    mem->swap_free = NGX_WSMAN_INV_UNKNOWN;

    mi.mem = mem;
    mi.available = NGX_WSMAN_INV_UNKNOWN;

    rc = ngx_wsman_inv_lines(ctx, "/proc/meminfo",
                             ngx_wsman_inv_meminfo_line, &mi);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* what Windows calls free is what can be had without swapping */
    if (mi.available != NGX_WSMAN_INV_UNKNOWN) {
        mem->free = mi.available;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_inv_meminfo_line(void *data, u_char *line, size_t len)
{
    ngx_wsman_inv_meminfo_t *mi = data;

    uint64_t   *field;
    ngx_str_t   v;

    if (ngx_wsman_inv_kv(line, len, "MemTotal", &v) == NGX_OK) {
        field = &mi->mem->total;

    } else if (ngx_wsman_inv_kv(line, len, "MemFree", &v) == NGX_OK) {
        field = &mi->mem->free;

    } else if (ngx_wsman_inv_kv(line, len, "MemAvailable", &v) == NGX_OK) {
        field = &mi->available;

    } else if (ngx_wsman_inv_kv(line, len, "SwapTotal", &v) == NGX_OK) {
        field = &mi->mem->swap_total;

    } else if (ngx_wsman_inv_kv(line, len, "SwapFree", &v) == NGX_OK) {
        field = &mi->mem->swap_free;

    } else {
        return NGX_OK;
    }

    if (ngx_wsman_inv_u64(v.data, v.data + v.len, field) == NULL) {
        *field = NGX_WSMAN_INV_UNKNOWN;
    }

    return NGX_OK;
}


/* the memory figures both operating system classes share, in kB */
void
ngx_wsman_inv_set_os_memory(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, ngx_wsman_inv_os_t *os)
{
    uint64_t              total, free;
    ngx_wsman_inv_mem_t  *mem;

    mem = &os->mem;

    total = NGX_WSMAN_INV_UNKNOWN;
    free = NGX_WSMAN_INV_UNKNOWN;

    /* virtual memory is RAM plus swap */
    if (mem->total != NGX_WSMAN_INV_UNKNOWN
        && mem->swap_total != NGX_WSMAN_INV_UNKNOWN)
    {
        total = mem->total + mem->swap_total;
    }

    if (mem->free != NGX_WSMAN_INV_UNKNOWN
        && mem->swap_free != NGX_WSMAN_INV_UNKNOWN)
    {
        free = mem->free + mem->swap_free;
    }

    ngx_wsman_inv_set_uint(ctx, inst, "TotalVisibleMemorySize", mem->total);
    ngx_wsman_inv_set_uint(ctx, inst, "FreePhysicalMemory", mem->free);
    ngx_wsman_inv_set_uint(ctx, inst, "TotalVirtualMemorySize", total);
    ngx_wsman_inv_set_uint(ctx, inst, "FreeVirtualMemory", free);
    ngx_wsman_inv_set_uint(ctx, inst, "SizeStoredInPagingFiles",
                           mem->swap_total);
    ngx_wsman_inv_set_uint(ctx, inst, "FreeSpaceInPagingFiles",
                           mem->swap_free);
}


/* a class with one instance: it is all of the first batch */
ngx_int_t
ngx_wsman_inv_single(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done, ngx_wsman_inv_build_pt build)
{
    ngx_wsman_inv_ctx_t    ctx;
    ngx_wsman_instance_t  *inst;

    *done = 1;

    if (after && after->len) {
        return NGX_OK;
    }

    if (max == 0) {
        *done = 0;
        return NGX_OK;
    }

    if (ngx_wsman_inv_ctx_init(&ctx, pool, log) != NGX_OK) {
        return NGX_ERROR;
    }

    inst = build(&ctx, prov, NULL);
    if (inst == NULL) {
        return NGX_ERROR;
    }

    return ngx_wsman_inv_push(out, inst);
}


static ngx_int_t
ngx_wsman_inv_cim_os_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    return ngx_wsman_inv_single(prov, pool, log, after, max, out, done,
                                ngx_wsman_inv_cim_os);
}


static ngx_wsman_instance_t *
ngx_wsman_inv_cim_os(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_inv_os_t     os;
    ngx_wsman_instance_t  *inst;

    if (ngx_wsman_inv_os(ctx, &os) != NGX_OK) {
        return NULL;
    }

    inst = ngx_wsman_inv_instance(ctx, prov, 24);
    if (inst == NULL) {
        return NULL;
    }

    ngx_wsman_inv_set_ckey(ctx, inst, "CSCreationClassName",
                           NGX_WSMAN_INV_CIM_CS);
    ngx_wsman_inv_set_key(ctx, inst, "CSName", &ctx->host);
    ngx_wsman_inv_set_ckey(ctx, inst, "CreationClassName",
                           NGX_WSMAN_INV_CIM_OS);
    ngx_wsman_inv_set_key(ctx, inst, "Name", &ctx->sysname);

    ngx_wsman_inv_set_str(ctx, inst, "Caption", &os.pretty);
    ngx_wsman_inv_set_str(ctx, inst, "ElementName", &os.pretty);
    ngx_wsman_inv_set_str(ctx, inst, "Version", &ctx->release);
    ngx_wsman_inv_set_uint(ctx, inst, "OSType",
                           NGX_WSMAN_INV_OSTYPE_LINUX);
    ngx_wsman_inv_set_uint(ctx, inst, "EnabledState",
                           NGX_WSMAN_INV_ENABLED);
    ngx_wsman_inv_set_time(ctx, inst, "LastBootUpTime", os.boot);
    ngx_wsman_inv_set_time(ctx, inst, "LocalDateTime", ngx_time());
    ngx_wsman_inv_set_sint(ctx, inst, "CurrentTimeZone",
                           (ngx_timeofday())->gmtoff);
    ngx_wsman_inv_set_uint(ctx, inst, "NumberOfProcesses", os.processes);

    /* counting sessions means parsing utmp: not worth it here */
    ngx_wsman_inv_set_nil(ctx, inst, "NumberOfUsers", NGX_WSMAN_PROP_UINT);

    ngx_wsman_inv_set_os_memory(ctx, inst, &os);
    ngx_wsman_inv_set_uint(ctx, inst, "TotalSwapSpaceSize",
                           os.mem.swap_total);

    return ngx_wsman_inv_done(ctx, inst);
}


static ngx_int_t
ngx_wsman_inv_cim_cs_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    return ngx_wsman_inv_single(prov, pool, log, after, max, out, done,
                                ngx_wsman_inv_cim_cs);
}


static ngx_wsman_instance_t *
ngx_wsman_inv_cim_cs(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_instance_t  *inst;

    inst = ngx_wsman_inv_instance(ctx, prov, 8);
    if (inst == NULL) {
        return NULL;
    }

    ngx_wsman_inv_set_ckey(ctx, inst, "CreationClassName",
                           NGX_WSMAN_INV_CIM_CS);
    ngx_wsman_inv_set_key(ctx, inst, "Name", &ctx->host);
    ngx_wsman_inv_set_str(ctx, inst, "ElementName", &ctx->host);

    /* "IP": Name is a host name */
    ngx_wsman_inv_set_cstr(ctx, inst, "NameFormat", "IP");
    ngx_wsman_inv_set_uint(ctx, inst, "Dedicated",
                           NGX_WSMAN_INV_NOT_DEDICATED);
    ngx_wsman_inv_set_uint(ctx, inst, "EnabledState",
                           NGX_WSMAN_INV_ENABLED);

    return ngx_wsman_inv_done(ctx, inst);
}
