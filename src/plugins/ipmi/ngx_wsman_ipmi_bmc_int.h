/*
 * The BMC layer's own types, shared by its parts (the session, the SDR
 * repository, sensors, the SEL, the FRU inventory, the chassis): only
 * src/plugins/ipmi/ngx_wsman_ipmi_bmc*.c include this file.
 */

#ifndef _NGX_WSMAN_IPMI_BMC_INT_H_INCLUDED_
#define _NGX_WSMAN_IPMI_BMC_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <freeipmi/freeipmi.h>
#include <freeipmi/spec/ipmi-timestamp-spec.h>

#include "ngx_wsman_ipmi_bmc.h"


/* libfreeipmi retransmits a request after this long, at least */
#define NGX_WSMAN_IPMI_RETRANSMIT_MIN   250

/* Clear SEL: how often the erasure status is polled, and how long apart */
#define NGX_WSMAN_IPMI_ERASE_POLLS      50
#define NGX_WSMAN_IPMI_ERASE_WAIT       100

/* SEL message texts leave out what is unavailable rather than say "N/A" */
#define NGX_WSMAN_IPMI_SEL_STRING                                            \
    IPMI_SEL_STRING_FLAGS_IGNORE_UNAVAILABLE_FIELD

/* sensor event texts, SEL message texts, FRU strings, names */
#define NGX_WSMAN_IPMI_TEXT_LEN         1024

/*
 * How long "no in-band BMC" is believed before the machine is probed
 * again: probing takes tens of milliseconds, and libfreeipmi 1.6 leaks a
 * little memory (its ACPI SPMI lookup) every time it finds nothing.
 */
#define NGX_WSMAN_IPMI_PROBE_AGAIN      30

#define NGX_WSMAN_IPMI_NO_INBAND                                             \
    "no in-band BMC found on this machine (no /dev/ipmi0, KCS or SSIF)"

/* where the SDR cache is written before it is opened and unlinked */
#define NGX_WSMAN_IPMI_SDR_TEMPLATE     "/tmp/ngx_wsman_sdr.XXXXXX"

/* the array index of ngx_wsman_ipmi_sensor_t.thresholds */
#define NGX_WSMAN_IPMI_LNC              0
#define NGX_WSMAN_IPMI_UNC              1
#define NGX_WSMAN_IPMI_LC               2
#define NGX_WSMAN_IPMI_UC               3
#define NGX_WSMAN_IPMI_LNR              4
#define NGX_WSMAN_IPMI_UNR              5


struct ngx_wsman_ipmi_session_s {
    ngx_wsman_ipmi_conf_t     *conf;

    /* "BMC 10.0.0.7:623" or "local BMC": how messages name the BMC */
    u_char                     peer[NGX_WSMAN_IPMI_ERRLEN / 2];

    ipmi_ctx_t                 ipmi;          /* NULL: not connected */
    time_t                     no_inband;     /* when probing found none */

    /* the SDR repository, kept across reconnects: it is checked against
     * the repository's timestamps before every use */
    ipmi_sdr_ctx_t             sdr;           /* NULL: not read */

    ipmi_interpret_ctx_t       interpret;     /* NULL: not created yet */
};


/* what an SDR walk needs: ipmi_sdr_cache_iterate() passes one pointer */
typedef struct {
    ngx_wsman_ipmi_session_t  *session;
    ngx_pool_t                *pool;
    ngx_log_t                 *log;
    u_char                    *err;
    ngx_array_t               *array;
    void                      *reader;        /* sensor reader, FRU ctx */
    u_char                    *buf;           /* FRU area buffer */
    char                      *name;          /* FRU device 0's name */
    ngx_int_t                  rc;
} ngx_wsman_ipmi_walk_t;


typedef struct {
    ngx_str_t                  name;
    ngx_uint_t                 driver;
    ngx_uint_t                 flag;
} ngx_wsman_ipmi_workaround_t;


typedef int (*ngx_wsman_ipmi_query_pt)(ipmi_ctx_t ctx, fiid_obj_t rs);


ngx_uint_t ngx_wsman_ipmi_bmc_answered(int errnum);
ngx_int_t ngx_wsman_ipmi_bmc_fail(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err, const char *what, const char *reason,
    ngx_uint_t session_level);
ngx_int_t ngx_wsman_ipmi_cmd_failed(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err, const char *what, fiid_obj_t rs,
    uint8_t netfn);
ngx_int_t ngx_wsman_ipmi_lib_failed(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err, const char *what, ngx_uint_t ipmi_error,
    const char *reason);
ngx_int_t ngx_wsman_ipmi_oom(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);

fiid_obj_t ngx_wsman_ipmi_query(ngx_wsman_ipmi_session_t *s,
    fiid_field_t *tmpl, ngx_wsman_ipmi_query_pt cmd, const char *name,
    uint8_t netfn, ngx_log_t *log, u_char *err);
uint64_t ngx_wsman_ipmi_field(fiid_obj_t obj, const char *field);
time_t ngx_wsman_ipmi_bmc_time(uint64_t timestamp);
ngx_int_t ngx_wsman_ipmi_strdup(ngx_pool_t *pool, ngx_str_t *dst,
    const char *src, size_t len);
ngx_int_t ngx_wsman_ipmi_bmc_cstr(ngx_pool_t *pool, ngx_str_t *dst,
    const char *src);

ngx_int_t ngx_wsman_ipmi_sdr(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);

ngx_int_t ngx_wsman_ipmi_read_sensors(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err);

ngx_int_t ngx_wsman_ipmi_read_sel(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err);

ngx_int_t ngx_wsman_ipmi_read_frus(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err);

ngx_int_t ngx_wsman_ipmi_read_chassis(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err);


#endif /* _NGX_WSMAN_IPMI_BMC_INT_H_INCLUDED_ */
