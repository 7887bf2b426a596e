/*
 * CIM_Processor: one instance per online logical CPU, from /proc/cpuinfo
 * and cpufreq in /sys.  DeviceIDs are "CPU<n>" and follow n, so "CPU10"
 * comes after "CPU9" although it sorts before it as a string.
 */

#include "ngx_wsman_inv.h"


/* CIM_Processor.Family and CPUStatus value maps */
#define NGX_WSMAN_INV_FAMILY_OTHER      1
#define NGX_WSMAN_INV_FAMILY_UNKNOWN    2
#define NGX_WSMAN_INV_CPU_ENABLED       1


typedef struct {
    ngx_wsman_inv_ctx_t       *ctx;
    ngx_array_t               *cpus;
    ngx_wsman_inv_cpu_t       *cpu;        /* the one being read */
} ngx_wsman_inv_cpuinfo_t;


static ngx_int_t ngx_wsman_inv_cpuinfo_line(void *data, u_char *line,
    size_t len);
static ngx_int_t ngx_wsman_inv_cpuinfo_str(ngx_wsman_inv_ctx_t *ctx,
    ngx_str_t *dst, ngx_str_t *value);
static uint64_t ngx_wsman_inv_load(ngx_wsman_inv_ctx_t *ctx,
    ngx_uint_t ncpus);
static int ngx_libc_cdecl ngx_wsman_inv_cpu_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_wsman_inv_cpu_index(ngx_str_t *id, uint64_t *index);
static uint64_t ngx_wsman_inv_cpufreq(ngx_wsman_inv_ctx_t *ctx,
    ngx_uint_t index, const char *attr);

static ngx_int_t ngx_wsman_inv_cim_processor_enum(
    ngx_wsman_provider_t *prov, ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *after, ngx_uint_t max, ngx_array_t *out, ngx_uint_t *done);
static ngx_wsman_instance_t *ngx_wsman_inv_cim_processor(
    ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov, void *item);


ngx_wsman_provider_t  ngx_wsman_inv_cim_processor_provider = {
    ngx_string("CIM_Processor"),
    ngx_string(NGX_WSMAN_CIM_URI "CIM_Processor"),
    ngx_string("DeviceID"),
    0,
    ngx_wsman_inv_cim_processor_enum,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    0,
    NULL
};


/* online CPUs by index; an empty list when cpuinfo is unreadable */
ngx_int_t
ngx_wsman_inv_cpus(ngx_wsman_inv_ctx_t *ctx, ngx_array_t *cpus)
{
    uint64_t                  load;
    ngx_uint_t                i;
    ngx_wsman_inv_cpu_t      *cpu;
    ngx_wsman_inv_cpuinfo_t   ci;

    if (ngx_array_init(cpus, ctx->pool, 8, sizeof(ngx_wsman_inv_cpu_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ci.ctx = ctx;
    ci.cpus = cpus;
    ci.cpu = NULL;

    if (ngx_wsman_inv_lines(ctx, "/proc/cpuinfo", ngx_wsman_inv_cpuinfo_line,
                            &ci)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    ngx_qsort(cpus->elts, cpus->nelts, sizeof(ngx_wsman_inv_cpu_t),
              ngx_wsman_inv_cpu_cmp);

    load = ngx_wsman_inv_load(ctx, cpus->nelts);
    cpu = cpus->elts;

    for (i = 0; i < cpus->nelts; i++) {
        cpu[i].load = load;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_inv_cpuinfo_line(void *data, u_char *line, size_t len)
{
    ngx_wsman_inv_cpuinfo_t *ci = data;

    uint64_t              n;
    ngx_str_t             v;
    ngx_wsman_inv_cpu_t  *cpu;

    if (ngx_wsman_inv_kv(line, len, "processor", &v) == NGX_OK) {
        cpu = ngx_array_push(ci->cpus);
        if (cpu == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(cpu, sizeof(ngx_wsman_inv_cpu_t));

        cpu->index = ci->cpus->nelts - 1;
        cpu->family = NGX_WSMAN_INV_UNKNOWN;
        cpu->model_no = NGX_WSMAN_INV_UNKNOWN;
        cpu->mhz = NGX_WSMAN_INV_UNKNOWN;
        cpu->package = NGX_WSMAN_INV_UNKNOWN;
        cpu->load = NGX_WSMAN_INV_UNKNOWN;

        if (ngx_wsman_inv_u64(v.data, v.data + v.len, &n) != NULL) {
            cpu->index = (ngx_uint_t) n;
        }

        ci->cpu = cpu;

        return NGX_OK;
    }

    cpu = ci->cpu;

    if (cpu == NULL) {
        return NGX_OK;
    }

    if (ngx_wsman_inv_kv(line, len, "vendor_id", &v) == NGX_OK) {
        return ngx_wsman_inv_cpuinfo_str(ci->ctx, &cpu->vendor, &v);
    }

    if (ngx_wsman_inv_kv(line, len, "model name", &v) == NGX_OK) {
        return ngx_wsman_inv_cpuinfo_str(ci->ctx, &cpu->model, &v);
    }

    if (ngx_wsman_inv_kv(line, len, "stepping", &v) == NGX_OK) {
        return ngx_wsman_inv_cpuinfo_str(ci->ctx, &cpu->stepping, &v);
    }

    if (ngx_wsman_inv_kv(line, len, "cpu family", &v) == NGX_OK) {
        (void) ngx_wsman_inv_u64(v.data, v.data + v.len, &cpu->family);

    } else if (ngx_wsman_inv_kv(line, len, "model", &v) == NGX_OK) {
        (void) ngx_wsman_inv_u64(v.data, v.data + v.len, &cpu->model_no);

    } else if (ngx_wsman_inv_kv(line, len, "cpu MHz", &v) == NGX_OK) {
        /* "2596.130": whole MHz are what CIM counts */
        (void) ngx_wsman_inv_u64(v.data, v.data + v.len, &cpu->mhz);

    } else if (ngx_wsman_inv_kv(line, len, "physical id", &v) == NGX_OK) {
        (void) ngx_wsman_inv_u64(v.data, v.data + v.len, &cpu->package);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_inv_cpuinfo_str(ngx_wsman_inv_ctx_t *ctx, ngx_str_t *dst,
    ngx_str_t *value)
{
    if (value->len == 0) {
        return NGX_OK;
    }

    if (ngx_wsman_inv_dup(ctx, dst, value->data, value->len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_wsman_inv_sanitize(dst->data, dst->len);

    return NGX_OK;
}


/*
 * A current load without sampling /proc/stat twice: the one-minute load
 * average shared out over the CPUs, capped at 100%.  Linux does not
 * keep a recent load per CPU, so every CPU reports the same figure.
 */
static uint64_t
ngx_wsman_inv_load(ngx_wsman_inv_ctx_t *ctx, ngx_uint_t ncpus)
{
    u_char    *p, *last;
    size_t     len;
    uint64_t   whole, hundredths;
    u_char     buf[128];

    if (ncpus == 0
        || ngx_wsman_inv_read(ctx, "/proc/loadavg", buf, sizeof(buf), &len)
           != NGX_OK)
    {
        return NGX_WSMAN_INV_UNKNOWN;
    }

    last = buf + len;

    p = ngx_wsman_inv_u64(buf, last, &whole);
    if (p == NULL || whole > 1000000) {
        return NGX_WSMAN_INV_UNKNOWN;
    }

    hundredths = 0;

    if (p < last && *p == '.') {
        if (p + 1 < last && p[1] >= '0' && p[1] <= '9') {
            hundredths += (p[1] - '0') * 10;
        }

        if (p + 2 < last && p[2] >= '0' && p[2] <= '9') {
            hundredths += p[2] - '0';
        }
    }

    return ngx_min((whole * 100 + hundredths) / ncpus, 100);
}


static int ngx_libc_cdecl
ngx_wsman_inv_cpu_cmp(const void *one, const void *two)
{
    const ngx_wsman_inv_cpu_t  *a = one, *b = two;

    return (a->index > b->index) - (a->index < b->index);
}


/* "CPU<n>" */
static ngx_int_t
ngx_wsman_inv_cpu_index(ngx_str_t *id, uint64_t *index)
{
    u_char  *p, *last;

    if (id->len <= 3 || ngx_strncasecmp(id->data, (u_char *) "CPU", 3) != 0
        || id->data[3] < '0' || id->data[3] > '9')
    {
        return NGX_DECLINED;
    }

    last = id->data + id->len;
    p = ngx_wsman_inv_u64(id->data + 3, last, index);

    return (p == last) ? NGX_OK : NGX_DECLINED;
}


/* a cpufreq attribute (kHz) in MHz */
static uint64_t
ngx_wsman_inv_cpufreq(ngx_wsman_inv_ctx_t *ctx, ngx_uint_t index,
    const char *attr)
{
    uint64_t  khz;
    u_char    path[128];

    ngx_snprintf(path, sizeof(path),
                 "/sys/devices/system/cpu/cpu%ui/cpufreq/%s%Z", index, attr);

    khz = ngx_wsman_inv_file_u64(ctx, (char *) path);

    return (khz == NGX_WSMAN_INV_UNKNOWN) ? khz : khz / 1000;
}


static ngx_int_t
ngx_wsman_inv_cim_processor_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done)
{
    uint64_t              last;
    ngx_uint_t            first;
    ngx_array_t           cpus;
    ngx_wsman_inv_ctx_t   ctx;
    ngx_wsman_inv_cpu_t  *cpu;

    *done = 1;
    last = 0;

    if (after && after->len
        && ngx_wsman_inv_cpu_index(after, &last) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "wsman inventory: \"%V\" is not a processor DeviceID",
                      after);
        return NGX_OK;
    }

    if (ngx_wsman_inv_ctx_init(&ctx, pool, log) != NGX_OK
        || ngx_wsman_inv_cpus(&ctx, &cpus) != NGX_OK)
    {
        return NGX_ERROR;
    }

    cpu = cpus.elts;
    first = 0;

    if (after && after->len) {
        while (first < cpus.nelts && cpu[first].index <= last) {
            first++;
        }
    }

    return ngx_wsman_inv_emit(&ctx, prov, &cpus, first, NULL,
                              ngx_wsman_inv_cim_processor, max, out, done);
}


static ngx_wsman_instance_t *
ngx_wsman_inv_cim_processor(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item)
{
    ngx_wsman_inv_cpu_t *cpu = item;

    u_char                *p;
    uint64_t               mhz;
    ngx_str_t              id, family;
    ngx_wsman_instance_t  *inst;
    u_char                 buf[sizeof("CPU") + NGX_INT64_LEN];
    u_char                 fam[128];

    inst = ngx_wsman_inv_instance(ctx, prov, 16);
    if (inst == NULL) {
        return NULL;
    }

    p = ngx_sprintf(buf, "CPU%ui", cpu->index);
    id.data = buf;
    id.len = p - buf;

    ngx_wsman_inv_set_ckey(ctx, inst, "SystemCreationClassName",
                           NGX_WSMAN_INV_CIM_CS);
    ngx_wsman_inv_set_key(ctx, inst, "SystemName", &ctx->host);
    ngx_wsman_inv_set_ckey(ctx, inst, "CreationClassName", "CIM_Processor");
    ngx_wsman_inv_set_key(ctx, inst, "DeviceID", &id);

    ngx_wsman_inv_set_str(ctx, inst, "Name", &cpu->model);
    ngx_wsman_inv_set_str(ctx, inst, "ElementName", &cpu->model);

    /*
     * CIM's Family list names marketing families that cpuinfo cannot be
     * mapped to reliably; the vendor's own numbers are given instead.
     */
    if (cpu->vendor.len && cpu->family != NGX_WSMAN_INV_UNKNOWN) {
        p = ngx_snprintf(fam, sizeof(fam), "%V family %uL",
                         &cpu->vendor, cpu->family);

        if (cpu->model_no != NGX_WSMAN_INV_UNKNOWN) {
            p = ngx_snprintf(p, fam + sizeof(fam) - p, " model %uL",
                             cpu->model_no);
        }

        family.data = fam;
        family.len = p - fam;

        ngx_wsman_inv_set_uint(ctx, inst, "Family",
                               NGX_WSMAN_INV_FAMILY_OTHER);
        ngx_wsman_inv_set_str(ctx, inst, "OtherFamilyDescription", &family);

    } else {
        ngx_wsman_inv_set_uint(ctx, inst, "Family",
                               NGX_WSMAN_INV_FAMILY_UNKNOWN);
    }

    ngx_wsman_inv_set_str(ctx, inst, "Stepping", &cpu->stepping);

    mhz = ngx_wsman_inv_cpufreq(ctx, cpu->index, "scaling_cur_freq");
    ngx_wsman_inv_set_uint(ctx, inst, "CurrentClockSpeed",
                           mhz != NGX_WSMAN_INV_UNKNOWN ? mhz : cpu->mhz);
    ngx_wsman_inv_set_uint(ctx, inst, "MaxClockSpeed",
                           ngx_wsman_inv_cpufreq(ctx, cpu->index,
                                                 "cpuinfo_max_freq"));
    ngx_wsman_inv_set_uint(ctx, inst, "LoadPercentage", cpu->load);
    ngx_wsman_inv_set_uint(ctx, inst, "CPUStatus",
                           NGX_WSMAN_INV_CPU_ENABLED);
    ngx_wsman_inv_set_uint(ctx, inst, "EnabledState",
                           NGX_WSMAN_INV_ENABLED);

    return ngx_wsman_inv_done(ctx, inst);
}
