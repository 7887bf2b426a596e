/*
 * The IPMI plug-in: the BMC's sensors, event log, FRU inventory and power
 * control as CIM classes (DMTF Sensors, Record Log, Physical Asset and
 * Power State Management profiles), under the DMTF URIs and under
 * Windows' ".../wmi/root/hardware/" URIs.
 *
 * libfreeipmi blocks, so every exchange with the BMC runs as a thread
 * pool task; a worker keeps one session and what it last read, and a
 * request whose data is older than wsman_ipmi's cache= waits (without
 * blocking the worker) for a fresh read.
 */

#ifndef _NGX_WSMAN_IPMI_H_INCLUDED_
#define _NGX_WSMAN_IPMI_H_INCLUDED_


#include "ngx_wsman_plugin.h"
#include "ngx_wsman_ipmi_bmc.h"


#define NGX_WSMAN_IPMI_WMI_URI                                              \
    "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/hardware/"


/* wsman_ipmi, from the http{} block */
typedef struct {
    ngx_wsman_ipmi_conf_t      bmc;
    ngx_thread_pool_t         *thread_pool;
    ngx_str_t                  thread_pool_name;   /* thread_pool= */
    ngx_msec_t                 cache;        /* a read is reused this long */
    ngx_msec_t                 idle;         /* an unused session ends */
    ngx_str_t                  system_name;  /* the managed system */
} ngx_wsman_ipmi_main_t;


/* the plug-in's http{}-level configuration */
typedef struct {
    ngx_wsman_ipmi_main_t     *ipmi;         /* NULL: no wsman_ipmi */
} ngx_wsman_ipmi_module_conf_t;


/* what the BMC is asked to do for an Invoke */
typedef enum {
    NGX_WSMAN_IPMI_JOB_NONE = 0,             /* answered without the BMC */
    NGX_WSMAN_IPMI_JOB_READ,
    NGX_WSMAN_IPMI_JOB_CONTROL,              /* chassis control */
    NGX_WSMAN_IPMI_JOB_CLEAR_SEL,
    NGX_WSMAN_IPMI_JOB_DISCONNECT            /* an idle session */
} ngx_wsman_ipmi_job_e;


typedef struct {
    ngx_uint_t                 kind;         /* ngx_wsman_ipmi_job_e */
    ngx_uint_t                 arg;          /* parts to read, control */
    ngx_int_t                  return_value; /* of the method */
} ngx_wsman_ipmi_job_t;


/* the items of one class in a snapshot: an array, or one struct */
typedef struct {
    void                      *elts;
    ngx_uint_t                 nelts;
    size_t                     size;
} ngx_wsman_ipmi_items_t;


/*
 * A class (prov->data of its two providers).  Its items come sorted by
 * ordinal(), which its key encodes: parse_key() turns an enumeration's
 * last key back into one.  method() turns an Invoke into a job: NGX_OK,
 * NGX_DECLINED with call->fault set, NGX_ABORT for no such method,
 * NGX_ERROR.
 */
typedef struct {
    ngx_uint_t                 what;         /* NGX_WSMAN_IPMI_SENSORS, ... */
    void                     (*items)(ngx_wsman_ipmi_snapshot_t *snap,
                                      ngx_wsman_ipmi_items_t *items);
    ngx_uint_t               (*skip)(void *item);       /* NULL: none */
    uint64_t                 (*ordinal)(void *item);
    ngx_int_t                (*parse_key)(ngx_str_t *key,
                                          uint64_t *ordinal);
    ngx_wsman_instance_t    *(*build)(ngx_pool_t *pool,
                                      ngx_wsman_provider_t *prov,
                                      void *item);
    ngx_int_t                (*method)(ngx_wsman_call_t *call,
                                       ngx_str_t *method,
                                       ngx_wsman_ipmi_job_t *job);
} ngx_wsman_ipmi_class_t;


extern ngx_module_t           ngx_wsman_ipmi_module;
extern ngx_wsman_provider_t  *ngx_wsman_ipmi_providers[];

char *ngx_wsman_ipmi_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_wsman_ipmi_init_process(ngx_cycle_t *cycle);
void ngx_wsman_ipmi_exit_process(ngx_cycle_t *cycle);

/* the providers' fetch hook (see ngx_wsman_instance.h) */
ngx_int_t ngx_wsman_ipmi_fetch(ngx_wsman_provider_t *prov,
    ngx_wsman_call_t *call, ngx_wsman_op_pt resume);

/* the providers' invoke: the outcome of the job fetch() ran */
ngx_int_t ngx_wsman_ipmi_invoke(ngx_wsman_provider_t *prov,
    ngx_wsman_call_t *call, ngx_str_t *method, ngx_int_t *return_value);

/* what the worker last read of one part (NGX_WSMAN_IPMI_SENSORS, ...):
 * valid while the provider runs, after fetch() said NGX_OK */
ngx_wsman_ipmi_snapshot_t *ngx_wsman_ipmi_data(ngx_uint_t what);
ngx_str_t *ngx_wsman_ipmi_system_name(void);


/* the classes (ngx_wsman_ipmi_sensors.c, _log.c, _fru.c, _power.c) */
extern ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_numeric_sensor_class;
extern ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_sensor_class;
extern ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_record_log_class;
extern ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_log_record_class;
extern ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_package_class;
extern ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_chassis_class;
extern ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_power_service_class;
extern ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_power_state_class;


/* helpers the class files share (ngx_wsman_ipmi_classes.c) */
ngx_int_t ngx_wsman_ipmi_parse_uint_key(ngx_str_t *key, uint64_t *ordinal);
ngx_int_t ngx_wsman_ipmi_selectors_name(ngx_wsman_call_t *call,
    const char *key, const char *value);
ngx_int_t ngx_wsman_ipmi_parse_singleton_key(ngx_str_t *key,
    uint64_t *ordinal);
uint64_t ngx_wsman_ipmi_singleton_ordinal(void *item);


/* an instance being built: a failed allocation shows at the end only */
typedef struct {
    ngx_pool_t                *pool;
    ngx_wsman_instance_t      *inst;
    ngx_uint_t                 failed;
} ngx_wsman_ipmi_build_t;

ngx_int_t ngx_wsman_ipmi_build_start(ngx_wsman_ipmi_build_t *b,
    ngx_pool_t *pool, ngx_wsman_provider_t *prov, ngx_uint_t n);
ngx_wsman_instance_t *ngx_wsman_ipmi_build_end(ngx_wsman_ipmi_build_t *b);
void ngx_wsman_ipmi_key(ngx_wsman_ipmi_build_t *b, const char *name,
    ngx_str_t *value);
void ngx_wsman_ipmi_ckey(ngx_wsman_ipmi_build_t *b, const char *name,
    const char *value);
void ngx_wsman_ipmi_str(ngx_wsman_ipmi_build_t *b, const char *name,
    ngx_str_t *value);
void ngx_wsman_ipmi_cstr(ngx_wsman_ipmi_build_t *b, const char *name,
    const char *value);
void ngx_wsman_ipmi_uint(ngx_wsman_ipmi_build_t *b, const char *name,
    uint64_t value);
void ngx_wsman_ipmi_sint(ngx_wsman_ipmi_build_t *b, const char *name,
    int64_t value);
void ngx_wsman_ipmi_time(ngx_wsman_ipmi_build_t *b, const char *name,
    time_t value);
void ngx_wsman_ipmi_nil(ngx_wsman_ipmi_build_t *b, const char *name,
    ngx_uint_t type);
void ngx_wsman_ipmi_system_keys(ngx_wsman_ipmi_build_t *b);


#endif /* _NGX_WSMAN_IPMI_H_INCLUDED_ */
