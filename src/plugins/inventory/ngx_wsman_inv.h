/*
 * Inside the inventory plug-in: the collectors that read /proc, /sys and
 * libc once and the helpers the CIM and Win32 instance builders share.
 * Nothing here keeps state between calls: every provider call starts a
 * context on the request pool and drops it with the pool.
 */

#ifndef _NGX_WSMAN_INV_H_INCLUDED_
#define _NGX_WSMAN_INV_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_wsman.h"
#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_inventory.h"


/* a number we could not learn; its property becomes xsi:nil */
#define NGX_WSMAN_INV_UNKNOWN     ((uint64_t) -1)

/* CIM value maps used by several classes */
#define NGX_WSMAN_INV_OSTYPE_LINUX        36
#define NGX_WSMAN_INV_ENABLED             2
#define NGX_WSMAN_INV_DISABLED            3

#define NGX_WSMAN_INV_CIM_CS      "CIM_ComputerSystem"
#define NGX_WSMAN_INV_CIM_OS      "CIM_OperatingSystem"
#define NGX_WSMAN_INV_WIN32_CS    "Win32_ComputerSystem"
#define NGX_WSMAN_INV_WIN32_OS    "Win32_OperatingSystem"


typedef struct {
    uid_t                      uid;
    ngx_str_t                  name;       /* data NULL: no such user */
} ngx_wsman_inv_owner_t;


typedef struct {
    ngx_pool_t                *pool;
    ngx_log_t                 *log;

    ngx_str_t                  host;       /* uname nodename */
    ngx_str_t                  sysname;    /* "Linux" */
    ngx_str_t                  release;    /* kernel release */
    ngx_str_t                  machine;    /* x86_64 */

    uint64_t                   clk_tck;    /* sysconf(_SC_CLK_TCK) */
    uint64_t                   page_size;
    time_t                     boot;       /* 0: unknown */
    ngx_array_t                owners;     /* ngx_wsman_inv_owner_t */

    unsigned                   boot_read:1;
    unsigned                   failed:1;    /* out of memory or a real
                                              failure in a builder */
} ngx_wsman_inv_ctx_t;


typedef ngx_int_t (*ngx_wsman_inv_line_pt)(void *data, u_char *line,
    size_t len);

/* true when the item's instance is emitted; it may fill the item in */
typedef ngx_int_t (*ngx_wsman_inv_accept_pt)(ngx_wsman_inv_ctx_t *ctx,
    void *item);

/* NULL when out of memory or on a real failure (logged) */
typedef ngx_wsman_instance_t *(*ngx_wsman_inv_build_pt)(
    ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov, void *item);


/* ngx_wsman_inv_util.c */

ngx_int_t ngx_wsman_inv_ctx_init(ngx_wsman_inv_ctx_t *ctx, ngx_pool_t *pool,
    ngx_log_t *log);
time_t ngx_wsman_inv_boot_time(ngx_wsman_inv_ctx_t *ctx);

ngx_int_t ngx_wsman_inv_read(ngx_wsman_inv_ctx_t *ctx, const char *path,
    u_char *buf, size_t size, size_t *len);
ngx_int_t ngx_wsman_inv_lines(ngx_wsman_inv_ctx_t *ctx, const char *path,
    ngx_wsman_inv_line_pt handler, void *data);
ngx_int_t ngx_wsman_inv_file_str(ngx_wsman_inv_ctx_t *ctx, const char *path,
    ngx_str_t *value);
uint64_t ngx_wsman_inv_file_u64(ngx_wsman_inv_ctx_t *ctx, const char *path);

ngx_int_t ngx_wsman_inv_kv(u_char *line, size_t len, const char *key,
    ngx_str_t *value);
u_char *ngx_wsman_inv_u64(u_char *p, u_char *last, uint64_t *value);
u_char *ngx_wsman_inv_s64(u_char *p, u_char *last, int64_t *value);
ngx_int_t ngx_wsman_inv_dup(ngx_wsman_inv_ctx_t *ctx, ngx_str_t *dst,
    u_char *src, size_t len);
void ngx_wsman_inv_sanitize(u_char *p, size_t len);

ngx_int_t ngx_wsman_inv_name_cmp(ngx_str_t *a, ngx_str_t *b);
ngx_uint_t ngx_wsman_inv_after(ngx_array_t *items, ngx_str_t *after);
ngx_int_t ngx_wsman_inv_emit(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, ngx_array_t *items, ngx_uint_t first,
    ngx_wsman_inv_accept_pt accept, ngx_wsman_inv_build_pt build,
    ngx_uint_t max, ngx_array_t *out, ngx_uint_t *done);
ngx_int_t ngx_wsman_inv_push(ngx_array_t *out, ngx_wsman_instance_t *inst);

ngx_str_t *ngx_wsman_inv_selector(ngx_array_t *selectors, const char *name);
ngx_int_t ngx_wsman_inv_match(ngx_wsman_instance_t *inst,
    ngx_array_t *selectors);

ngx_wsman_instance_t *ngx_wsman_inv_instance(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, ngx_uint_t n);
ngx_wsman_instance_t *ngx_wsman_inv_done(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst);
void ngx_wsman_inv_set_key(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, ngx_str_t *value);
void ngx_wsman_inv_set_ckey(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, const char *value);
void ngx_wsman_inv_set_str(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, ngx_str_t *value);
void ngx_wsman_inv_set_cstr(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, const char *value);
void ngx_wsman_inv_set_dec(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, uint64_t value);
void ngx_wsman_inv_set_uint(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, uint64_t value);
void ngx_wsman_inv_set_sint(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, int64_t value);
void ngx_wsman_inv_set_bool(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, ngx_uint_t value);
void ngx_wsman_inv_set_time(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, time_t value);
void ngx_wsman_inv_set_nil(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, ngx_uint_t type);


/* ngx_wsman_inv_os.c: the operating system and the machine */

typedef struct {
    uint64_t                   total;      /* kB */
    uint64_t                   free;       /* kB, MemAvailable if known */
    uint64_t                   swap_total; /* kB */
    uint64_t                   swap_free;  /* kB */
} ngx_wsman_inv_mem_t;

typedef struct {
    ngx_str_t                  pretty;     /* os-release PRETTY_NAME */
    time_t                     boot;       /* 0: unknown */
    uint64_t                   processes;
    ngx_wsman_inv_mem_t        mem;
} ngx_wsman_inv_os_t;

typedef struct {
    ngx_str_t                  vendor;     /* DMI; data NULL: unknown */
    ngx_str_t                  product;
    uint64_t                   logical;    /* online CPUs */
    uint64_t                   packages;
    uint64_t                   memory;     /* bytes */
} ngx_wsman_inv_cs_t;

ngx_int_t ngx_wsman_inv_os(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_inv_os_t *os);
ngx_int_t ngx_wsman_inv_cs(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_inv_cs_t *cs);
ngx_int_t ngx_wsman_inv_single(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done, ngx_wsman_inv_build_pt build);
void ngx_wsman_inv_set_os_memory(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, ngx_wsman_inv_os_t *os);


/* ngx_wsman_inv_process.c */

typedef struct {
    ngx_pid_t                  pid;
    ngx_pid_t                  ppid;
    ngx_pid_t                  tgid;
    u_char                     comm[64];
    size_t                     comm_len;
    u_char                     state;      /* R, S, D, Z, T, ... */
    uint64_t                   utime;      /* clock ticks */
    uint64_t                   stime;
    uint64_t                   start;      /* ticks after boot */
    uint64_t                   vsize;      /* bytes */
    uint64_t                   rss;        /* pages */
    uint64_t                   threads;
    int64_t                    priority;   /* kernel's, < 0: real time */
    int64_t                    nice;
    uid_t                      ruid;
    uid_t                      euid;
    uid_t                      suid;
    unsigned                   uid_known:1;
} ngx_wsman_inv_proc_t;

ngx_int_t ngx_wsman_inv_proc_read(ngx_wsman_inv_ctx_t *ctx, ngx_pid_t pid,
    ngx_wsman_inv_proc_t *proc);
ngx_int_t ngx_wsman_inv_proc_count(ngx_wsman_inv_ctx_t *ctx,
    uint64_t *count);
void ngx_wsman_inv_set_cmdline(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, ngx_pid_t pid);
void ngx_wsman_inv_set_owner(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, const char *name, ngx_wsman_inv_proc_t *p);
time_t ngx_wsman_inv_proc_started(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_inv_proc_t *proc);
uint64_t ngx_wsman_inv_ticks(ngx_wsman_inv_ctx_t *ctx, uint64_t ticks,
    uint64_t per_second);
ngx_int_t ngx_wsman_inv_proc_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done, ngx_wsman_inv_build_pt build);
ngx_int_t ngx_wsman_inv_proc_get(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_array_t *selectors,
    ngx_wsman_instance_t **out, ngx_wsman_inv_build_pt build);
ngx_int_t ngx_wsman_inv_proc_terminate(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_array_t *selectors,
    ngx_str_t *caller, ngx_int_t *return_value,
    ngx_wsman_inv_build_pt build);


/* ngx_wsman_inv_processor.c */

typedef struct {
    ngx_uint_t                 index;      /* "processor" in cpuinfo */
    ngx_str_t                  model;      /* data NULL: unknown */
    ngx_str_t                  vendor;
    ngx_str_t                  stepping;
    uint64_t                   family;
    uint64_t                   model_no;
    uint64_t                   mhz;        /* cpuinfo "cpu MHz" */
    uint64_t                   package;    /* "physical id" */
    uint64_t                   load;       /* percent, system-wide */
} ngx_wsman_inv_cpu_t;

ngx_int_t ngx_wsman_inv_cpus(ngx_wsman_inv_ctx_t *ctx, ngx_array_t *cpus);


/* ngx_wsman_inv_fs.c */

typedef struct {
    ngx_str_t                  name;       /* mount point, sanitized: key */
    ngx_str_t                  path;       /* mount point as mounted */
    ngx_str_t                  device;
    ngx_str_t                  type;
    ngx_uint_t                 seq;        /* line in the mount table */
    uint64_t                   size;       /* bytes */
    uint64_t                   avail;      /* bytes, for unprivileged */
    uint64_t                   block;
    uint64_t                   files;
    uint64_t                   name_max;
    unsigned                   ro:1;
    unsigned                   remote:1;   /* never statvfs()ed */
    unsigned                   fold_case:1;
} ngx_wsman_inv_fs_t;

ngx_int_t ngx_wsman_inv_fs_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done, ngx_wsman_inv_build_pt build);


/* the providers */

extern ngx_wsman_provider_t  ngx_wsman_inv_cim_os_provider;
extern ngx_wsman_provider_t  ngx_wsman_inv_cim_cs_provider;
extern ngx_wsman_provider_t  ngx_wsman_inv_cim_processor_provider;
extern ngx_wsman_provider_t  ngx_wsman_inv_cim_process_provider;
extern ngx_wsman_provider_t  ngx_wsman_inv_cim_fs_provider;
extern ngx_wsman_provider_t  ngx_wsman_inv_cim_ethernet_provider;
extern ngx_wsman_provider_t  ngx_wsman_inv_win32_os_provider;
extern ngx_wsman_provider_t  ngx_wsman_inv_win32_cs_provider;
extern ngx_wsman_provider_t  ngx_wsman_inv_win32_process_provider;
extern ngx_wsman_provider_t  ngx_wsman_inv_win32_disk_provider;


#endif /* _NGX_WSMAN_INV_H_INCLUDED_ */
