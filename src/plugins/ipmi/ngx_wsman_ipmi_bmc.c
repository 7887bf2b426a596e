/*
 * The blocking side of the IPMI plug-in: a session with one BMC through
 * libfreeipmi, and what a refresh reads from it (sensors with their
 * readings, the SEL, the FRU inventory, the chassis).
 *
 * Every function here runs in an nginx thread pool task and touches
 * only its session, the pool the task passes and the log.  libfreeipmi
 * contexts are not shared between sessions, so no locking is needed.
 */

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


static ngx_int_t ngx_wsman_ipmi_read_once(ngx_wsman_ipmi_session_t *s,
    ngx_uint_t what, ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap,
    ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_clear_sel_once(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_connect(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_open(ngx_wsman_ipmi_session_t *s);
static void ngx_wsman_ipmi_close(ngx_wsman_ipmi_session_t *s);
static ngx_uint_t ngx_wsman_ipmi_bmc_answered(int errnum);
static ngx_int_t ngx_wsman_ipmi_fail(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err, const char *what, const char *reason,
    ngx_uint_t session_level);
static ngx_int_t ngx_wsman_ipmi_cmd_failed(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err, const char *what, fiid_obj_t rs,
    uint8_t netfn);
static ngx_int_t ngx_wsman_ipmi_lib_failed(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err, const char *what, ngx_uint_t ipmi_error,
    const char *reason);
static ngx_int_t ngx_wsman_ipmi_oom(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);
typedef int (*ngx_wsman_ipmi_query_pt)(ipmi_ctx_t ctx, fiid_obj_t rs);

static fiid_obj_t ngx_wsman_ipmi_query(ngx_wsman_ipmi_session_t *s,
    fiid_field_t *tmpl, ngx_wsman_ipmi_query_pt cmd, const char *name,
    uint8_t netfn, ngx_log_t *log, u_char *err);
static uint64_t ngx_wsman_ipmi_field(fiid_obj_t obj, const char *field);
static time_t ngx_wsman_ipmi_time(uint64_t timestamp);
static ngx_int_t ngx_wsman_ipmi_strdup(ngx_pool_t *pool, ngx_str_t *dst,
    const char *src, size_t len);
static ngx_int_t ngx_wsman_ipmi_cstr(ngx_pool_t *pool, ngx_str_t *dst,
    const char *src);

static ngx_int_t ngx_wsman_ipmi_sdr(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_sdr_load(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_sdr_failed(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err, ipmi_sdr_ctx_t sdr);

static ngx_int_t ngx_wsman_ipmi_read_sensors(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err);
static int ngx_wsman_ipmi_sensor_record(ipmi_sdr_ctx_t sdr,
    uint8_t record_type, const void *record, unsigned int len, void *data);
static ngx_int_t ngx_wsman_ipmi_sensor(ngx_wsman_ipmi_walk_t *walk,
    const void *record, unsigned int len, ngx_uint_t offset);
static ngx_int_t ngx_wsman_ipmi_sensor_identity(ipmi_sdr_ctx_t sdr,
    const void *record, unsigned int len, ngx_uint_t offset,
    ngx_wsman_ipmi_sensor_t *sensor);
static ngx_int_t ngx_wsman_ipmi_sensor_texts(ngx_wsman_ipmi_walk_t *walk,
    const void *record, unsigned int len, ngx_wsman_ipmi_sensor_t *sensor);
static ngx_int_t ngx_wsman_ipmi_sensor_reading(ngx_wsman_ipmi_walk_t *walk,
    const void *record, unsigned int len, ngx_uint_t offset,
    ngx_wsman_ipmi_sensor_t *sensor, uint16_t *bitmask);
static ngx_int_t ngx_wsman_ipmi_thresholds(ngx_wsman_ipmi_walk_t *walk,
    const void *record, unsigned int len, ngx_wsman_ipmi_sensor_t *sensor);
static ngx_int_t ngx_wsman_ipmi_sensor_state(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_sensor_t *sensor, uint16_t bitmask);
static ngx_int_t ngx_wsman_ipmi_sensor_events(ngx_pool_t *pool,
    ngx_wsman_ipmi_sensor_t *sensor, uint16_t bitmask);
static int ngx_wsman_ipmi_sensor_cmp(const void *one, const void *two);

static ngx_int_t ngx_wsman_ipmi_read_sel(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err);
static ngx_int_t ngx_wsman_ipmi_sel_info(ngx_wsman_ipmi_session_t *s,
    ngx_wsman_ipmi_sel_t *sel, ngx_log_t *log, u_char *err);
static int ngx_wsman_ipmi_sel_record(ipmi_sel_ctx_t ctx, void *data);
static ngx_int_t ngx_wsman_ipmi_sel_event(ngx_wsman_ipmi_walk_t *walk,
    ipmi_sel_ctx_t ctx, ngx_wsman_ipmi_sel_entry_t *entry);
static ngx_int_t ngx_wsman_ipmi_sel_sensor_name(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_sel_entry_t *entry);
static int ngx_wsman_ipmi_sel_cmp(const void *one, const void *two);

static ngx_int_t ngx_wsman_ipmi_read_frus(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err);
static int ngx_wsman_ipmi_fru_name0(ipmi_sdr_ctx_t sdr,
    uint8_t record_type, const void *record, unsigned int len, void *data);
static int ngx_wsman_ipmi_fru_locator(ipmi_sdr_ctx_t sdr,
    uint8_t record_type, const void *record, unsigned int len, void *data);
static ngx_int_t ngx_wsman_ipmi_fru_locator_parse(ipmi_sdr_ctx_t sdr,
    uint8_t record_type, const void *record, unsigned int len,
    uint8_t *device_id, char *name);
static ngx_int_t ngx_wsman_ipmi_fru(ngx_wsman_ipmi_walk_t *walk,
    ngx_uint_t device_id, const char *name);
static ngx_int_t ngx_wsman_ipmi_fru_areas(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru);
static ngx_int_t ngx_wsman_ipmi_fru_area(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru, unsigned int type, unsigned int len);
static ngx_int_t ngx_wsman_ipmi_fru_chassis(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru, unsigned int len);
static ngx_int_t ngx_wsman_ipmi_fru_board(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru, unsigned int len);
static ngx_int_t ngx_wsman_ipmi_fru_product(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru, unsigned int len);
static ngx_int_t ngx_wsman_ipmi_fru_string(ngx_wsman_ipmi_walk_t *walk,
    ngx_str_t *dst, ipmi_fru_field_t *field, uint8_t language);
static ngx_uint_t ngx_wsman_ipmi_fru_fatal(ngx_wsman_ipmi_walk_t *walk,
    const char *what);

static ngx_int_t ngx_wsman_ipmi_read_chassis(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err);
static ngx_int_t ngx_wsman_ipmi_chassis_status(ngx_wsman_ipmi_session_t *s,
    ngx_wsman_ipmi_chassis_t *chassis, ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_device_id(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_chassis_t *chassis, ngx_log_t *log,
    u_char *err);
static ngx_int_t ngx_wsman_ipmi_guid(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_chassis_t *chassis, ngx_log_t *log,
    u_char *err);
static u_char *ngx_wsman_ipmi_hex(u_char *p, ngx_uint_t byte);

static ngx_int_t ngx_wsman_ipmi_erase_sel(ngx_wsman_ipmi_session_t *s,
    fiid_obj_t rs, ngx_log_t *log, u_char *err);


/* the map from the sensor reading's comparison bits (bit 0 LNC, 1 LC,
 * 2 LNR, 3 UNC, 4 UC, 5 UNR) to the snapshot's threshold order */
static ngx_uint_t  ngx_wsman_ipmi_comparison_bit[] = {
    NGX_WSMAN_IPMI_LNC, NGX_WSMAN_IPMI_LC, NGX_WSMAN_IPMI_LNR,
    NGX_WSMAN_IPMI_UNC, NGX_WSMAN_IPMI_UC, NGX_WSMAN_IPMI_UNR
};


/* the Get Sensor Thresholds fields, in the snapshot's threshold order */
static const char  *ngx_wsman_ipmi_threshold_field[] = {
    "lower_non_critical_threshold",
    "upper_non_critical_threshold",
    "lower_critical_threshold",
    "upper_critical_threshold",
    "lower_non_recoverable_threshold",
    "upper_non_recoverable_threshold"
};


/* the names freeipmi's tools accept after -W, for the drivers they mean
 * something to */
static ngx_wsman_ipmi_workaround_t  ngx_wsman_ipmi_workarounds[] = {

    { ngx_string("authcap"), NGX_WSMAN_IPMI_LAN,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_AUTHENTICATION_CAPABILITIES },
    { ngx_string("idzero"), NGX_WSMAN_IPMI_LAN,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_ACCEPT_SESSION_ID_ZERO },
    { ngx_string("forcepermsg"), NGX_WSMAN_IPMI_LAN,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_FORCE_PERMSG_AUTHENTICATION },
    { ngx_string("unexpectedauth"), NGX_WSMAN_IPMI_LAN,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_CHECK_UNEXPECTED_AUTHCODE },
    { ngx_string("endianseq"), NGX_WSMAN_IPMI_LAN,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_BIG_ENDIAN_SEQUENCE_NUMBER },
    { ngx_string("noauthcodecheck"), NGX_WSMAN_IPMI_LAN,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_NO_AUTH_CODE_CHECK },
    { ngx_string("nochecksumcheck"), NGX_WSMAN_IPMI_LAN,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_NO_CHECKSUM_CHECK },

    { ngx_string("authcap"), NGX_WSMAN_IPMI_LAN_2_0,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_AUTHENTICATION_CAPABILITIES },
    { ngx_string("intel20"), NGX_WSMAN_IPMI_LAN_2_0,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_INTEL_2_0_SESSION },
    { ngx_string("supermicro20"), NGX_WSMAN_IPMI_LAN_2_0,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUPERMICRO_2_0_SESSION },
    { ngx_string("sun20"), NGX_WSMAN_IPMI_LAN_2_0,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUN_2_0_SESSION },
    { ngx_string("opensesspriv"), NGX_WSMAN_IPMI_LAN_2_0,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE },
    { ngx_string("integritycheckvalue"), NGX_WSMAN_IPMI_LAN_2_0,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NON_EMPTY_INTEGRITY_CHECK_VALUE },
    { ngx_string("nochecksumcheck"), NGX_WSMAN_IPMI_LAN_2_0,
      IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NO_CHECKSUM_CHECK },

    { ngx_string("assumeio"), NGX_WSMAN_IPMI_INBAND,
      IPMI_WORKAROUND_FLAGS_INBAND_ASSUME_IO_BASE_ADDRESS },
    { ngx_string("spinpoll"), NGX_WSMAN_IPMI_INBAND,
      IPMI_WORKAROUND_FLAGS_INBAND_SPIN_POLL },

    { ngx_null_string, 0, 0 }
};


ngx_uint_t
ngx_wsman_ipmi_available(void)
{
    return 1;
}


ngx_int_t
ngx_wsman_ipmi_workaround(ngx_str_t *name, ngx_uint_t driver,
    ngx_uint_t *flags)
{
    ngx_wsman_ipmi_workaround_t  *w;

    for (w = ngx_wsman_ipmi_workarounds; w->name.len; w++) {
        if (w->driver == driver
            && w->name.len == name->len
            && ngx_strncasecmp(w->name.data, name->data, name->len) == 0)
        {
            *flags |= w->flag;
            return NGX_OK;
        }
    }

    return NGX_ERROR;
}


ngx_wsman_ipmi_session_t *
ngx_wsman_ipmi_session_create(ngx_wsman_ipmi_conf_t *conf, ngx_log_t *log)
{
    u_char                    *p;
    ngx_wsman_ipmi_session_t  *s;

    s = malloc(sizeof(ngx_wsman_ipmi_session_t));
    if (s == NULL) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "malloc(%uz) failed", sizeof(ngx_wsman_ipmi_session_t));
        return NULL;
    }

    ngx_memzero(s, sizeof(ngx_wsman_ipmi_session_t));

    s->conf = conf;

    if (conf->driver == NGX_WSMAN_IPMI_INBAND) {
        p = ngx_cpymem(s->peer, "local BMC", sizeof("local BMC") - 1);

    } else {
        p = ngx_snprintf(s->peer, sizeof(s->peer) - 1, "BMC %V", &conf->host);
    }

    *p = '\0';

    return s;
}


void
ngx_wsman_ipmi_session_destroy(ngx_wsman_ipmi_session_t *s)
{
    if (s == NULL) {
        return;
    }

    ngx_wsman_ipmi_close(s);

    if (s->sdr) {
        ipmi_sdr_ctx_destroy(s->sdr);
    }

    if (s->interpret) {
        ipmi_interpret_ctx_destroy(s->interpret);
    }

    free(s);
}


/*
 * BMCs end sessions on their own (inactivity, a reset of the BMC): a read
 * that fails on a session opened earlier gets one more try on a new one.
 * Chassis control gets none, as it may have been carried out already.
 */
ngx_int_t
ngx_wsman_ipmi_read(ngx_wsman_ipmi_session_t *s, ngx_uint_t what,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err)
{
    ngx_int_t   rc;
    ngx_uint_t  reused;

    reused = (s->ipmi != NULL);

    rc = ngx_wsman_ipmi_read_once(s, what, pool, snap, log, err);

    if (rc == NGX_ERROR && reused && s->ipmi == NULL) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ipmi: %s: trying again on a new session", s->peer);
        rc = ngx_wsman_ipmi_read_once(s, what, pool, snap, log, err);
    }

    return rc;
}


static ngx_int_t
ngx_wsman_ipmi_read_once(ngx_wsman_ipmi_session_t *s, ngx_uint_t what,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err)
{
    ngx_int_t  rc;

    ngx_memzero(snap, sizeof(ngx_wsman_ipmi_snapshot_t));
    err[0] = '\0';

    if (ngx_wsman_ipmi_connect(s, log, err) != NGX_OK) {
        return NGX_ERROR;
    }

    if (what & (NGX_WSMAN_IPMI_SENSORS|NGX_WSMAN_IPMI_SEL|NGX_WSMAN_IPMI_FRU))
    {
        rc = ngx_wsman_ipmi_sdr(s, log, err);

        if (rc == NGX_ERROR
            || (rc == NGX_DECLINED && (what & NGX_WSMAN_IPMI_SENSORS)))
        {
            return NGX_ERROR;
        }

        /* without an SDR the SEL has no sensor names, the FRU list only
         * device 0: still worth answering */
        err[0] = '\0';
    }

    if ((what & NGX_WSMAN_IPMI_SENSORS)
        && ngx_wsman_ipmi_read_sensors(s, pool, snap, log, err) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if ((what & NGX_WSMAN_IPMI_SEL)
        && ngx_wsman_ipmi_read_sel(s, pool, snap, log, err) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if ((what & NGX_WSMAN_IPMI_FRU)
        && ngx_wsman_ipmi_read_frus(s, pool, snap, log, err) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if ((what & NGX_WSMAN_IPMI_CHASSIS)
        && ngx_wsman_ipmi_read_chassis(s, pool, snap, log, err) != NGX_OK)
    {
        return NGX_ERROR;
    }

    snap->what = what & NGX_WSMAN_IPMI_ALL;

    return NGX_OK;
}


ngx_int_t
ngx_wsman_ipmi_chassis_control(ngx_wsman_ipmi_session_t *s,
    ngx_uint_t control, ngx_log_t *log, u_char *err)
{
    ngx_int_t   rc;
    fiid_obj_t  rs;

    err[0] = '\0';

    if (control > NGX_WSMAN_IPMI_SOFT_SHUTDOWN) {
        return ngx_wsman_ipmi_fail(s, log, err, "Chassis Control",
                                   "unknown control", 0);
    }

    /*
     * libfreeipmi calls a session timed out when its last answer is older
     * than the session timeout, and checks that only after sending the
     * next request: on a session idle for longer, the BMC carries out the
     * command and we would report "session timeout" (a client retrying
     * would then cycle the power twice).  Chassis control cannot be tried
     * again, so it always gets a session of its own.
     */
    if (s->conf->driver != NGX_WSMAN_IPMI_INBAND) {
        ngx_wsman_ipmi_close(s);
    }

    if (ngx_wsman_ipmi_connect(s, log, err) != NGX_OK) {
        return NGX_ERROR;
    }

    rs = fiid_obj_create(tmpl_cmd_chassis_control_rs);
    if (rs == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    /* the snapshot's control codes are the command's */
    if (ipmi_cmd_chassis_control(s->ipmi, (uint8_t) control, rs) < 0) {
        rc = ngx_wsman_ipmi_cmd_failed(s, log, err, "Chassis Control", rs,
                                       IPMI_NET_FN_CHASSIS_RQ);

    } else {
        rc = NGX_OK;
    }

    fiid_obj_destroy(rs);

    return rc;
}


void
ngx_wsman_ipmi_disconnect(ngx_wsman_ipmi_session_t *s)
{
    ngx_wsman_ipmi_close(s);
}


/* clearing twice is harmless: a stale session gets one more try */
ngx_int_t
ngx_wsman_ipmi_clear_sel(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err)
{
    ngx_int_t   rc;
    ngx_uint_t  reused;

    reused = (s->ipmi != NULL);

    rc = ngx_wsman_ipmi_clear_sel_once(s, log, err);

    if (rc == NGX_ERROR && reused && s->ipmi == NULL) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ipmi: %s: trying again on a new session", s->peer);
        rc = ngx_wsman_ipmi_clear_sel_once(s, log, err);
    }

    return rc;
}


static ngx_int_t
ngx_wsman_ipmi_clear_sel_once(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err)
{
    ngx_int_t   rc;
    fiid_obj_t  rs;

    err[0] = '\0';

    if (ngx_wsman_ipmi_connect(s, log, err) != NGX_OK) {
        return NGX_ERROR;
    }

    rs = fiid_obj_create(tmpl_cmd_clear_sel_rs);
    if (rs == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    rc = ngx_wsman_ipmi_erase_sel(s, rs, log, err);

    fiid_obj_destroy(rs);

    return rc;
}


/*
 * Reserve SEL, Clear SEL "initiate erase", then "get erasure status"
 * until the BMC says it is done.  An event logged meanwhile cancels the
 * reservation: then everything starts over, a few times at most.
 */
static ngx_int_t
ngx_wsman_ipmi_erase_sel(ngx_wsman_ipmi_session_t *s, fiid_obj_t rs,
    ngx_log_t *log, u_char *err)
{
    uint8_t     operation;
    uint64_t    reservation;
    fiid_obj_t  reserve;
    ngx_uint_t  polls, attempts;

    reserve = fiid_obj_create(tmpl_cmd_reserve_sel_rs);
    if (reserve == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    for (attempts = 0; attempts < 3; attempts++) {

        if (ipmi_cmd_reserve_sel(s->ipmi, reserve) < 0) {
            (void) ngx_wsman_ipmi_cmd_failed(s, log, err, "Reserve SEL",
                                             reserve, IPMI_NET_FN_STORAGE_RQ);
            fiid_obj_destroy(reserve);
            return NGX_ERROR;
        }

        reservation = ngx_wsman_ipmi_field(reserve, "reservation_id");
        operation = IPMI_SEL_CLEAR_OPERATION_INITIATE_ERASE;

        for (polls = 0; polls < NGX_WSMAN_IPMI_ERASE_POLLS; polls++) {

            if (ipmi_cmd_clear_sel(s->ipmi, (uint16_t) reservation,
                                   operation, rs)
                < 0)
            {
                break;
            }

            if (ngx_wsman_ipmi_field(rs, "erasure_progress")
                == IPMI_SEL_CLEAR_ERASE_COMPLETED)
            {
                fiid_obj_destroy(reserve);
                return NGX_OK;
            }

            operation = IPMI_SEL_CLEAR_OPERATION_GET_ERASURE_STATUS;
            ngx_msleep(NGX_WSMAN_IPMI_ERASE_WAIT);
        }

        if (polls == NGX_WSMAN_IPMI_ERASE_POLLS) {
            fiid_obj_destroy(reserve);
            return ngx_wsman_ipmi_fail(s, log, err, "Clear SEL",
                                       "the erasure does not complete", 0);
        }

        if (ipmi_check_completion_code(rs,
                                       IPMI_COMP_CODE_RESERVATION_CANCELLED)
            != 1)
        {
            break;
        }
    }

    fiid_obj_destroy(reserve);

    return ngx_wsman_ipmi_cmd_failed(s, log, err, "Clear SEL", rs,
                                     IPMI_NET_FN_STORAGE_RQ);
}


/* connection */

static ngx_int_t
ngx_wsman_ipmi_connect(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err)
{
    ngx_int_t   rc;
    const char  *reason;

    if (s->ipmi) {
        return NGX_OK;
    }

    if (s->no_inband && time(NULL) - s->no_inband < NGX_WSMAN_IPMI_PROBE_AGAIN)
    {
        return ngx_wsman_ipmi_fail(s, log, err, NULL, NGX_WSMAN_IPMI_NO_INBAND,
                                   0);
    }

    s->ipmi = ipmi_ctx_create();
    if (s->ipmi == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    rc = ngx_wsman_ipmi_open(s);

    if (rc == NGX_OK) {
        ngx_log_debug1(NGX_LOG_DEBUG_CORE, log, 0, "ipmi: %s: connected",
                       s->peer);
        s->no_inband = 0;
        return NGX_OK;
    }

    if (rc == NGX_DECLINED) {
        s->no_inband = time(NULL);
        reason = NGX_WSMAN_IPMI_NO_INBAND;

    } else {
        reason = ipmi_ctx_errormsg(s->ipmi);
    }

    return ngx_wsman_ipmi_fail(s, log, err, NULL, reason, 1);
}


/* NGX_DECLINED: in-band, and there is no BMC to find */
static ngx_int_t
ngx_wsman_ipmi_open(ngx_wsman_ipmi_session_t *s)
{
    int                     rc;
    uint8_t                 privilege;
    const char             *user, *password;
    unsigned int            timeout, retransmit;
    ipmi_driver_type_t      type;
    ngx_wsman_ipmi_conf_t  *conf;

    conf = s->conf;

    if (conf->driver == NGX_WSMAN_IPMI_INBAND) {
        rc = ipmi_ctx_find_inband(s->ipmi, &type, 0, 0, 0, NULL,
                                  (unsigned int) conf->workarounds,
                                  IPMI_FLAGS_DEFAULT);

        if (rc < 0) {
            return NGX_ERROR;
        }

        return rc ? NGX_OK : NGX_DECLINED;
    }

    switch (conf->privilege) {

    case NGX_WSMAN_IPMI_PRIV_USER:
        privilege = IPMI_PRIVILEGE_LEVEL_USER;
        break;

    case NGX_WSMAN_IPMI_PRIV_OPERATOR:
        privilege = IPMI_PRIVILEGE_LEVEL_OPERATOR;
        break;

    default:
        privilege = IPMI_PRIVILEGE_LEVEL_ADMIN;
    }

    /* libfreeipmi gives up on a request after the session timeout and
     * resends it every retransmission timeout meanwhile, which must be
     * shorter; 0 is its default (20 s) */
    timeout = (unsigned int) ngx_min(conf->timeout, 3600000);
    retransmit = ngx_max(timeout / 5, NGX_WSMAN_IPMI_RETRANSMIT_MIN);

    if (timeout && retransmit >= timeout) {
        timeout = ngx_max(timeout, 2);
        retransmit = timeout / 2;
    }

    user = conf->user.len ? (const char *) conf->user.data : NULL;
    password = conf->password.len ? (const char *) conf->password.data : NULL;

    if (conf->driver == NGX_WSMAN_IPMI_LAN) {
        rc = ipmi_ctx_open_outofband(s->ipmi, (const char *) conf->host.data,
                                     user, password,
                                     IPMI_AUTHENTICATION_TYPE_MD5, privilege,
                                     timeout, retransmit,
                                     (unsigned int) conf->workarounds,
                                     IPMI_FLAGS_DEFAULT);

    } else {
        rc = ipmi_ctx_open_outofband_2_0(s->ipmi,
                                         (const char *) conf->host.data,
                                         user, password, NULL, 0, privilege,
                                         (uint8_t) conf->cipher,
                                         timeout, retransmit,
                                         (unsigned int) conf->workarounds,
                                         IPMI_FLAGS_DEFAULT);
    }

    return (rc < 0) ? NGX_ERROR : NGX_OK;
}


/* the next call reconnects; the SDR cache stays, it is checked anyway */
static void
ngx_wsman_ipmi_close(ngx_wsman_ipmi_session_t *s)
{
    if (s->ipmi == NULL) {
        return;
    }

    (void) ipmi_ctx_close(s->ipmi);
    ipmi_ctx_destroy(s->ipmi);
    s->ipmi = NULL;
}


/*
 * The libfreeipmi errors that carry a completion code: the BMC answered
 * and the session is fine.  Anything else (timeouts, a session the BMC
 * forgot after a restart, a dead descriptor) closes the session.
 */
static ngx_uint_t
ngx_wsman_ipmi_bmc_answered(int errnum)
{
    switch (errnum) {

    case IPMI_ERR_BAD_COMPLETION_CODE:
    case IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED:
    case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
    case IPMI_ERR_BMC_BUSY:
    case IPMI_ERR_MESSAGE_TIMEOUT:
        return 1;

    default:
        return 0;
    }
}


/* errors */

/*
 * "BMC 10.0.0.7:623: session timeout" for session-level failures (and
 * the session closed), "BMC 10.0.0.7:623: Get SEL Info: ..." for a
 * command the BMC refused.
 */
static ngx_int_t
ngx_wsman_ipmi_fail(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err, const char *what, const char *reason,
    ngx_uint_t session_level)
{
    u_char  *p, *last;

    if (reason == NULL || reason[0] == '\0') {
        reason = "unknown error";
    }

    last = err + NGX_WSMAN_IPMI_ERRLEN - 1;

    if (what) {
        p = ngx_snprintf(err, last - err, "%s: %s: %s", s->peer, what,
                         reason);

    } else {
        p = ngx_snprintf(err, last - err, "%s: %s", s->peer, reason);
    }

    *p = '\0';

    ngx_log_error(NGX_LOG_ERR, log, 0, "ipmi: %s", err);

    if (session_level) {
        ngx_wsman_ipmi_close(s);
    }

    return NGX_ERROR;
}


/* a command failed: the completion code's meaning when there is one */
static ngx_int_t
ngx_wsman_ipmi_cmd_failed(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err, const char *what, fiid_obj_t rs, uint8_t netfn)
{
    int   errnum;
    char  reason[NGX_WSMAN_IPMI_ERRLEN];

    errnum = ipmi_ctx_errnum(s->ipmi);

    if (!ngx_wsman_ipmi_bmc_answered(errnum)) {
        return ngx_wsman_ipmi_fail(s, log, err, NULL,
                                   ipmi_ctx_errormsg(s->ipmi), 1);
    }

    if (rs == NULL
        || ipmi_completion_code_strerror_cmd_r(rs, netfn, reason,
                                               sizeof(reason))
           < 0)
    {
        return ngx_wsman_ipmi_fail(s, log, err, what,
                                   ipmi_ctx_errormsg(s->ipmi), 0);
    }

    return ngx_wsman_ipmi_fail(s, log, err, what, reason, 0);
}


/*
 * One of libfreeipmi's sdr/sel/fru/sensor-read contexts failed; when it
 * says "IPMI error", the reason is the connection's.
 */
static ngx_int_t
ngx_wsman_ipmi_lib_failed(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err, const char *what, ngx_uint_t ipmi_error, const char *reason)
{
    if (ipmi_error && s->ipmi) {
        return ngx_wsman_ipmi_cmd_failed(s, log, err, what, NULL, 0);
    }

    return ngx_wsman_ipmi_fail(s, log, err, what, reason, 0);
}


static ngx_int_t
ngx_wsman_ipmi_oom(ngx_wsman_ipmi_session_t *s, ngx_log_t *log, u_char *err)
{
    return ngx_wsman_ipmi_fail(s, log, err, NULL, "out of memory", 0);
}


/* small helpers */

/* a response field; 0 when the (optional) field is absent */
/*
 * A command that takes nothing but its response: the response, or NULL
 * with err set (and the session closed when it is the session's fault).
 * The caller destroys the response.
 */
static fiid_obj_t
ngx_wsman_ipmi_query(ngx_wsman_ipmi_session_t *s, fiid_field_t *tmpl,
    ngx_wsman_ipmi_query_pt cmd, const char *name, uint8_t netfn,
    ngx_log_t *log, u_char *err)
{
    fiid_obj_t  rs;

    rs = fiid_obj_create(tmpl);
    if (rs == NULL) {
        (void) ngx_wsman_ipmi_oom(s, log, err);
        return NULL;
    }

    if (cmd(s->ipmi, rs) < 0) {
        (void) ngx_wsman_ipmi_cmd_failed(s, log, err, name, rs, netfn);
        fiid_obj_destroy(rs);
        return NULL;
    }

    return rs;
}


static uint64_t
ngx_wsman_ipmi_field(fiid_obj_t obj, const char *field)
{
    uint64_t  value;

    if (fiid_obj_get(obj, field, &value) != 1) {
        return 0;
    }

    return value;
}


/* IPMI timestamps below 0x20000000 count seconds since the BMC started:
 * not a date; 0xffffffff is "unspecified" */
static time_t
ngx_wsman_ipmi_time(uint64_t timestamp)
{
    if (timestamp == IPMI_TIMESTAMP_UNSPECIFIED
        || timestamp <= IPMI_TIMESTAMP_POST_INIT_MAX)
    {
        return 0;
    }

    return (time_t) timestamp;
}


static ngx_int_t
ngx_wsman_ipmi_strdup(ngx_pool_t *pool, ngx_str_t *dst, const char *src,
    size_t len)
{
    u_char  *p;

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, src, len);
    p[len] = '\0';

    dst->data = p;
    dst->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ipmi_cstr(ngx_pool_t *pool, ngx_str_t *dst, const char *src)
{
    if (src == NULL) {
        src = "";
    }

    return ngx_wsman_ipmi_strdup(pool, dst, src, ngx_strlen(src));
}


/* the SDR repository */

/*
 * NGX_OK: s->sdr is current; NGX_DECLINED: the BMC has no readable SDR
 * repository (err says why); NGX_ERROR: the session failed.
 */
static ngx_int_t
ngx_wsman_ipmi_sdr(ngx_wsman_ipmi_session_t *s, ngx_log_t *log, u_char *err)
{
    uint16_t    count;
    uint32_t    added, erased;
    uint64_t    last_added, last_erased, last_count;
    fiid_obj_t  rs;

    rs = ngx_wsman_ipmi_query(s, tmpl_cmd_get_sdr_repository_info_rs,
                              ipmi_cmd_get_sdr_repository_info,
                              "Get SDR Repository Info",
                              IPMI_NET_FN_STORAGE_RQ, log, err);
    if (rs == NULL) {
        /* a BMC without an SDR still has a SEL and FRU data */
        return s->ipmi ? NGX_DECLINED : NGX_ERROR;
    }

    last_added = ngx_wsman_ipmi_field(rs, "most_recent_addition_timestamp");
    last_erased = ngx_wsman_ipmi_field(rs, "most_recent_erase_timestamp");
    last_count = ngx_wsman_ipmi_field(rs, "record_count");

    fiid_obj_destroy(rs);

    /* the timestamps count seconds: a record added in the second the
     * cache was read shows only in the count */
    if (s->sdr
        && ipmi_sdr_cache_most_recent_addition_timestamp(s->sdr, &added)
           == 0
        && ipmi_sdr_cache_most_recent_erase_timestamp(s->sdr, &erased) == 0
        && ipmi_sdr_cache_record_count(s->sdr, &count) == 0
        && added == last_added
        && erased == last_erased
        && count == last_count)
    {
        return NGX_OK;
    }

    if (s->sdr) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ipmi: %s: the SDR repository changed, reading it",
                      s->peer);

        ipmi_sdr_ctx_destroy(s->sdr);
        s->sdr = NULL;
    }

    return ngx_wsman_ipmi_sdr_load(s, log, err);
}


/*
 * libfreeipmi reads an SDR cache only from a file: it is written to a
 * private temporary file, mapped by ipmi_sdr_cache_open() and unlinked
 * at once, so nothing stays on disk, even if the worker dies.
 */
static ngx_int_t
ngx_wsman_ipmi_sdr_load(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err)
{
    int             fd;
    char            path[] = NGX_WSMAN_IPMI_SDR_TEMPLATE;
    ngx_int_t       rc;
    ipmi_sdr_ctx_t  sdr;

    sdr = ipmi_sdr_ctx_create();
    if (sdr == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    fd = mkstemp(path);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "ipmi: mkstemp(\"%s\") failed", path);
        ipmi_sdr_ctx_destroy(sdr);
        return ngx_wsman_ipmi_fail(s, log, err, "SDR cache",
                                   "cannot create a temporary file", 0);
    }

    (void) close(fd);

    rc = NGX_OK;

    if (ipmi_sdr_cache_create(sdr, s->ipmi, path,
                              IPMI_SDR_CACHE_CREATE_FLAGS_OVERWRITE,
                              NULL, NULL)
        < 0
        || ipmi_sdr_cache_open(sdr, NULL, path) < 0)
    {
        rc = ngx_wsman_ipmi_sdr_failed(s, log, err, sdr);
    }

    /* ipmi_sdr_cache_create() removes the file itself when it fails */
    if (unlink(path) == -1 && ngx_errno != NGX_ENOENT) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "ipmi: unlink(\"%s\") failed", path);
    }

    if (rc != NGX_OK) {
        ipmi_sdr_ctx_destroy(sdr);
        return rc;
    }

    s->sdr = sdr;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ipmi_sdr_failed(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err, ipmi_sdr_ctx_t sdr)
{
    int  errnum;

    errnum = ipmi_sdr_ctx_errnum(sdr);

    (void) ngx_wsman_ipmi_lib_failed(s, log, err, "reading the SDR",
                                     errnum == IPMI_SDR_ERR_IPMI_ERROR,
                                     ipmi_sdr_ctx_errormsg(sdr));

    return s->ipmi ? NGX_DECLINED : NGX_ERROR;
}


/* sensors */

static ngx_int_t
ngx_wsman_ipmi_read_sensors(ngx_wsman_ipmi_session_t *s, ngx_pool_t *pool,
    ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log, u_char *err)
{
    ngx_wsman_ipmi_walk_t  walk;

    if (ngx_array_init(&snap->sensors, pool, 16,
                       sizeof(ngx_wsman_ipmi_sensor_t))
        != NGX_OK)
    {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    if (s->interpret == NULL) {
        s->interpret = ipmi_interpret_ctx_create();
        if (s->interpret == NULL) {
            return ngx_wsman_ipmi_oom(s, log, err);
        }

        /* the system's freeipmi_interpret_sensor.conf, as ipmi-sensors
         * reads it; its absence is no error */
        if (ipmi_interpret_load_sensor_config(s->interpret, NULL) < 0) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "ipmi: freeipmi's sensor interpretation config: "
                          "%s", ipmi_interpret_ctx_errormsg(s->interpret));
        }
    }

    ngx_memzero(&walk, sizeof(ngx_wsman_ipmi_walk_t));

    walk.session = s;
    walk.pool = pool;
    walk.log = log;
    walk.err = err;
    walk.array = &snap->sensors;
    walk.rc = NGX_OK;

    walk.reader = ipmi_sensor_read_ctx_create(s->ipmi);
    if (walk.reader == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    if (ipmi_sdr_cache_iterate(s->sdr, ngx_wsman_ipmi_sensor_record, &walk)
        < 0
        && walk.rc == NGX_OK)
    {
        walk.rc = ngx_wsman_ipmi_fail(s, log, err, "reading the SDR cache",
                                      ipmi_sdr_ctx_errormsg(s->sdr), 0);
    }

    ipmi_sensor_read_ctx_destroy(walk.reader);

    if (walk.rc != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_qsort(snap->sensors.elts, snap->sensors.nelts,
              sizeof(ngx_wsman_ipmi_sensor_t), ngx_wsman_ipmi_sensor_cmp);

    return NGX_OK;
}


/* every Full and Compact record, each sensor of a shared Compact one */
static int
ngx_wsman_ipmi_sensor_record(ipmi_sdr_ctx_t sdr, uint8_t record_type,
    const void *record, unsigned int len, void *data)
{
    ngx_wsman_ipmi_walk_t  *walk = data;

    uint8_t     share_count;
    ngx_uint_t  offset;

    if (record_type != IPMI_SDR_FORMAT_FULL_SENSOR_RECORD
        && record_type != IPMI_SDR_FORMAT_COMPACT_SENSOR_RECORD)
    {
        return 0;
    }

    share_count = 1;

    if (record_type == IPMI_SDR_FORMAT_COMPACT_SENSOR_RECORD
        && ipmi_sdr_parse_sensor_record_sharing(sdr, record, len,
                                                &share_count, NULL, NULL,
                                                NULL)
           < 0)
    {
        share_count = 1;
    }

    for (offset = 0; offset < ngx_max(share_count, 1); offset++) {
        if (ngx_wsman_ipmi_sensor(walk, record, len, offset) != NGX_OK) {
            walk->rc = NGX_ERROR;
            return -1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_wsman_ipmi_sensor(ngx_wsman_ipmi_walk_t *walk, const void *record,
    unsigned int len, ngx_uint_t offset)
{
    ngx_wsman_ipmi_session_t *s = walk->session;

    uint16_t                  bitmask;
    ngx_wsman_ipmi_sensor_t  *sensor;

    sensor = ngx_array_push(walk->array);
    if (sensor == NULL) {
        return ngx_wsman_ipmi_oom(s, walk->log, walk->err);
    }

    ngx_memzero(sensor, sizeof(ngx_wsman_ipmi_sensor_t));

    if (ngx_wsman_ipmi_sensor_identity(s->sdr, record, len, offset, sensor)
        != NGX_OK)
    {
        /* a record libfreeipmi cannot parse: not a sensor we can show */
        ngx_log_error(NGX_LOG_INFO, walk->log, 0,
                      "ipmi: %s: SDR record skipped: %s", s->peer,
                      ipmi_sdr_ctx_errormsg(s->sdr));
        walk->array->nelts--;
        return NGX_OK;
    }

    if (ngx_wsman_ipmi_sensor_texts(walk, record, len, sensor) != NGX_OK) {
        return ngx_wsman_ipmi_oom(s, walk->log, walk->err);
    }

    bitmask = 0;

    if (ngx_wsman_ipmi_sensor_reading(walk, record, len, offset, sensor,
                                      &bitmask)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (sensor->threshold
        && ngx_wsman_ipmi_thresholds(walk, record, len, sensor) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_wsman_ipmi_sensor_state(walk, sensor, bitmask);
}


/* the numbers that identify and describe the sensor (no allocation) */
static ngx_int_t
ngx_wsman_ipmi_sensor_identity(ipmi_sdr_ctx_t sdr, const void *record,
    unsigned int len, ngx_uint_t offset, ngx_wsman_ipmi_sensor_t *sensor)
{
    int8_t    r_exponent, b_exponent;
    int16_t   m, b;
    uint8_t   type, owner_type, owner, lun, channel, number, entity,
              instance, instance_type, event_reading_type, percentage,
              modifier, rate, base, modifier_type, linearization, format,
              sharing;
    uint16_t  record_id;

    if (ipmi_sdr_parse_record_id_and_type(sdr, record, len, &record_id,
                                          &type) < 0
        || ipmi_sdr_parse_sensor_owner_id(sdr, record, len, &owner_type,
                                          &owner) < 0
        || ipmi_sdr_parse_sensor_owner_lun(sdr, record, len, &lun,
                                           &channel) < 0
        || ipmi_sdr_parse_sensor_number(sdr, record, len, &number) < 0
        || ipmi_sdr_parse_entity_id_instance_type(sdr, record, len, &entity,
                                                  &instance, &instance_type)
           < 0
        || ipmi_sdr_parse_sensor_type(sdr, record, len, &type) < 0
        || ipmi_sdr_parse_event_reading_type_code(sdr, record, len,
                                                  &event_reading_type) < 0
        || ipmi_sdr_parse_sensor_units(sdr, record, len, &percentage,
                                       &modifier, &rate, &base,
                                       &modifier_type) < 0)
    {
        return NGX_ERROR;
    }

    sensor->record_id = record_id;

    /* the owner as the byte on the wire: 7-bit address and its type */
    sensor->owner_id = (owner << 1) | owner_type;
    sensor->owner_lun = lun;
    sensor->number = (uint8_t) (number + offset);
    sensor->entity_id = entity;
    sensor->entity_instance = instance;
    sensor->sensor_type = type;
    sensor->event_reading_type = event_reading_type;
    sensor->threshold =
        (event_reading_type == IPMI_EVENT_READING_TYPE_CODE_THRESHOLD);
    sensor->units = base;
    sensor->rate_units = rate;

    if (offset
        && ipmi_sdr_parse_sensor_record_sharing(sdr, record, len, NULL,
                                                NULL, NULL, &sharing) == 0
        && sharing)
    {
        sensor->entity_instance = (uint8_t) (instance + offset);
    }

    /* only Full records have the linearization, Compact ones read 0 */
    if (ipmi_sdr_parse_sensor_decoding_data(sdr, record, len, &r_exponent,
                                            &b_exponent, &m, &b,
                                            &linearization, &format)
        == 0)
    {
        sensor->r_exponent = r_exponent;
    }

    return NGX_OK;
}


/* the name, type name and unit name, into the pool */
static ngx_int_t
ngx_wsman_ipmi_sensor_texts(ngx_wsman_ipmi_walk_t *walk, const void *record,
    unsigned int len, ngx_wsman_ipmi_sensor_t *sensor)
{
    ipmi_sdr_ctx_t sdr = walk->session->sdr;

    int      n;
    char     text[NGX_WSMAN_IPMI_TEXT_LEN];
    uint8_t  percentage, modifier, rate, base, modifier_type;

    /* the ID string, with the instance appended for shared records;
     * libfreeipmi 1.6 returns 0, not the length its header promises */
    n = 0;

    if (ipmi_sdr_parse_sensor_name(sdr, record, len,
                                   (uint8_t) sensor->number,
                                   IPMI_SDR_SENSOR_NAME_FLAGS_DEFAULT,
                                   text, sizeof(text))
        >= 0)
    {
        n = ngx_strlen(text);
    }

    if (ngx_wsman_ipmi_strdup(walk->pool, &sensor->name, text, n) != NGX_OK
        || ngx_wsman_ipmi_cstr(walk->pool, &sensor->type_name,
                               ipmi_get_sensor_type_string(
                                   (uint8_t) sensor->sensor_type))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = 0;

    if (ipmi_sdr_parse_sensor_units(sdr, record, len, &percentage, &modifier,
                                    &rate, &base, &modifier_type) == 0)
    {
        n = ipmi_sensor_units_string(percentage, modifier, rate, base,
                                     modifier_type, text, sizeof(text), 0);
        if (n < 0) {
            n = 0;
        }
    }

    return ngx_wsman_ipmi_strdup(walk->pool, &sensor->units_name, text, n);
}


/*
 * Get Sensor Reading through libfreeipmi's sensor reader, which applies
 * the SDR's linearization.  A sensor that cannot be read (scanning
 * disabled, reading unavailable) is kept with reading_valid 0; only a
 * session failure fails the whole read.
 */
static ngx_int_t
ngx_wsman_ipmi_sensor_reading(ngx_wsman_ipmi_walk_t *walk,
    const void *record, unsigned int len, ngx_uint_t offset,
    ngx_wsman_ipmi_sensor_t *sensor, uint16_t *bitmask)
{
    ngx_wsman_ipmi_session_t *s = walk->session;

    int      rc, errnum;
    double  *reading;
    uint8_t  raw;

    reading = NULL;
    raw = 0;

    rc = ipmi_sensor_read(walk->reader, record, len, (uint8_t) offset, &raw,
                          &reading, bitmask);

    if (rc < 0) {
        errnum = ipmi_sensor_read_ctx_errnum(walk->reader);

        if (errnum == IPMI_SENSOR_READ_ERR_OUT_OF_MEMORY) {
            return ngx_wsman_ipmi_oom(s, walk->log, walk->err);
        }

        if (errnum == IPMI_SENSOR_READ_ERR_IPMI_ERROR
            && !ngx_wsman_ipmi_bmc_answered(ipmi_ctx_errnum(s->ipmi)))
        {
            return ngx_wsman_ipmi_cmd_failed(s, walk->log, walk->err,
                                             "Get Sensor Reading", NULL, 0);
        }

        ngx_log_debug3(NGX_LOG_DEBUG_CORE, walk->log, 0,
                       "ipmi: sensor %ui \"%V\": %s", sensor->number,
                       &sensor->name,
                       ipmi_sensor_read_ctx_errormsg(walk->reader));

        *bitmask = 0;
        return NGX_OK;
    }

    sensor->raw = raw;

    if (!sensor->threshold) {
        /* a discrete sensor's "reading" is its state bits */
        sensor->reading_valid = 1;

    } else if (reading) {
        sensor->reading_valid = 1;
        sensor->reading = *reading;
    }

    free(reading);

    return NGX_OK;
}


/*
 * The thresholds the BMC reports readable (Get Sensor Thresholds), or
 * the SDR's when the BMC does not answer the command for this sensor;
 * converted with the SDR's linearization.
 */
static ngx_int_t
ngx_wsman_ipmi_thresholds(ngx_wsman_ipmi_walk_t *walk, const void *record,
    unsigned int len, ngx_wsman_ipmi_sensor_t *sensor)
{
    ngx_wsman_ipmi_session_t *s = walk->session;

    int8_t       r_exponent, b_exponent;
    int16_t      m, b;
    uint8_t      linearization, format, readable[6], raw[6];
    double       value;
    char         field[64];
    fiid_obj_t   rs;
    ngx_uint_t   i, from_bmc;

    if (ipmi_sdr_parse_sensor_decoding_data(s->sdr, record, len,
                                            &r_exponent, &b_exponent, &m, &b,
                                            &linearization, &format)
        < 0)
    {
        /* a Compact record: no conversion, no thresholds to show */
        return NGX_OK;
    }

    rs = fiid_obj_create(tmpl_cmd_get_sensor_thresholds_rs);
    if (rs == NULL) {
        return ngx_wsman_ipmi_oom(s, walk->log, walk->err);
    }

    from_bmc = 0;

    /* the command goes to the BMC's LUN 0; other owners keep the SDR's */
    if (sensor->owner_id == IPMI_SLAVE_ADDRESS_BMC && sensor->owner_lun == 0)
    {
        if (ipmi_cmd_get_sensor_thresholds(s->ipmi, (uint8_t) sensor->number,
                                           rs)
            == 0)
        {
            from_bmc = 1;

        } else if (!ngx_wsman_ipmi_bmc_answered(ipmi_ctx_errnum(s->ipmi))) {
            fiid_obj_destroy(rs);
            return ngx_wsman_ipmi_cmd_failed(s, walk->log, walk->err,
                                             "Get Sensor Thresholds", NULL,
                                             0);
        }
    }

    if (from_bmc) {
        for (i = 0; i < 6; i++) {
            (void) ngx_snprintf((u_char *) field, sizeof(field),
                                "readable_thresholds.%s%Z",
                                ngx_wsman_ipmi_threshold_field[i]);
            readable[i] = (uint8_t) ngx_wsman_ipmi_field(rs, field);
            raw[i] = (uint8_t) ngx_wsman_ipmi_field(rs,
                                         ngx_wsman_ipmi_threshold_field[i]);
        }

    } else if (ipmi_sdr_parse_threshold_readable(s->sdr, record, len,
                   &readable[NGX_WSMAN_IPMI_LNC], &readable[NGX_WSMAN_IPMI_LC],
                   &readable[NGX_WSMAN_IPMI_LNR], &readable[NGX_WSMAN_IPMI_UNC],
                   &readable[NGX_WSMAN_IPMI_UC], &readable[NGX_WSMAN_IPMI_UNR])
               < 0
               || ipmi_sdr_parse_thresholds_raw(s->sdr, record, len,
                   &raw[NGX_WSMAN_IPMI_LNC], &raw[NGX_WSMAN_IPMI_LC],
                   &raw[NGX_WSMAN_IPMI_LNR], &raw[NGX_WSMAN_IPMI_UNC],
                   &raw[NGX_WSMAN_IPMI_UC], &raw[NGX_WSMAN_IPMI_UNR])
                  < 0)
    {
        fiid_obj_destroy(rs);
        return NGX_OK;
    }

    fiid_obj_destroy(rs);

    for (i = 0; i < 6; i++) {
        if (readable[i]
            && ipmi_sensor_decode_value(r_exponent, b_exponent, m, b,
                                        linearization, format, raw[i],
                                        &value)
               == 0)
        {
            sensor->thresholds_readable |= (ngx_uint_t) 1 << i;
            sensor->thresholds[i] = value;
        }
    }

    return NGX_OK;
}


/* state_bits, and what freeipmi makes of them: state and events */
static ngx_int_t
ngx_wsman_ipmi_sensor_state(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_sensor_t *sensor, uint16_t bitmask)
{
    ngx_wsman_ipmi_session_t *s = walk->session;

    const char    *state;
    ngx_uint_t     i;
    unsigned int   interpreted;

    if (sensor->threshold) {
        for (i = 0; i < 6; i++) {
            if (bitmask & (1 << i)) {
                sensor->state_bits |=
                    (ngx_uint_t) 1 << ngx_wsman_ipmi_comparison_bit[i];
            }
        }

    } else {
        sensor->state_bits = bitmask & 0x7fff;
    }

    state = "Unknown";

    if (sensor->reading_valid
        && ipmi_interpret_sensor(s->interpret,
                                 (uint8_t) sensor->event_reading_type,
                                 (uint8_t) sensor->sensor_type, bitmask,
                                 &interpreted)
           == 0)
    {
        switch (interpreted) {

        case IPMI_INTERPRET_STATE_NOMINAL:
            state = "OK";
            break;

        case IPMI_INTERPRET_STATE_WARNING:
            state = "Warning";
            break;

        case IPMI_INTERPRET_STATE_CRITICAL:
            state = "Critical";
            break;
        }
    }

    if (ngx_wsman_ipmi_cstr(walk->pool, &sensor->state, state) != NGX_OK) {
        return ngx_wsman_ipmi_oom(s, walk->log, walk->err);
    }

    if (!sensor->reading_valid) {
        ngx_str_set(&sensor->events, "");
        return NGX_OK;
    }

    if (ngx_wsman_ipmi_sensor_events(walk->pool, sensor, bitmask) != NGX_OK) {
        return ngx_wsman_ipmi_oom(s, walk->log, walk->err);
    }

    return NGX_OK;
}


/* the asserted events as ipmi-sensors words them, joined with "; " */
static ngx_int_t
ngx_wsman_ipmi_sensor_events(ngx_pool_t *pool,
    ngx_wsman_ipmi_sensor_t *sensor, uint16_t bitmask)
{
    char         **messages;
    u_char        *p;
    size_t         len;
    ngx_int_t      rc;
    unsigned int   count, i;

    messages = NULL;
    count = 0;

    if (ipmi_get_event_messages((uint8_t) sensor->event_reading_type,
                                (uint8_t) sensor->sensor_type,
                                (uint8_t) sensor->number, bitmask, 0, 0,
                                &messages, &count, NULL,
                                IPMI_GET_EVENT_MESSAGES_FLAGS_SENSOR_READING)
        < 0)
    {
        /* nothing freeipmi can word: no events to show */
        ngx_str_set(&sensor->events, "");
        return NGX_OK;
    }

    len = 0;

    for (i = 0; i < count; i++) {
        len += ngx_strlen(messages[i]) + 2;
    }

    rc = NGX_OK;

    p = ngx_pnalloc(pool, len + 1);

    if (p == NULL) {
        rc = NGX_ERROR;

    } else {
        sensor->events.data = p;

        for (i = 0; i < count; i++) {
            if (i) {
                *p++ = ';';
                *p++ = ' ';
            }

            p = ngx_cpymem(p, messages[i], ngx_strlen(messages[i]));
        }

        *p = '\0';
        sensor->events.len = p - sensor->events.data;
    }

    for (i = 0; i < count; i++) {
        free(messages[i]);
    }

    free(messages);

    return rc;
}


static int
ngx_wsman_ipmi_sensor_cmp(const void *one, const void *two)
{
    const ngx_wsman_ipmi_sensor_t  *a = one;
    const ngx_wsman_ipmi_sensor_t  *b = two;

    if (a->owner_id != b->owner_id) {
        return a->owner_id < b->owner_id ? -1 : 1;
    }

    if (a->owner_lun != b->owner_lun) {
        return a->owner_lun < b->owner_lun ? -1 : 1;
    }

    if (a->number != b->number) {
        return a->number < b->number ? -1 : 1;
    }

    return 0;
}


/* the System Event Log */

static ngx_int_t
ngx_wsman_ipmi_read_sel(ngx_wsman_ipmi_session_t *s, ngx_pool_t *pool,
    ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log, u_char *err)
{
    int                     errnum;
    ipmi_sel_ctx_t          sel;
    ngx_wsman_ipmi_walk_t   walk;

    if (ngx_array_init(&snap->sel.records, pool, 16,
                       sizeof(ngx_wsman_ipmi_sel_entry_t))
        != NGX_OK)
    {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    if (ngx_wsman_ipmi_sel_info(s, &snap->sel, log, err) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the SDR gives the event texts their sensor readings and units */
    sel = ipmi_sel_ctx_create(s->ipmi, s->sdr);
    if (sel == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    /* the parts of a message as ipmi-sel separates them */
    if (ipmi_sel_ctx_set_separator(sel, " ; ") < 0) {
        ipmi_sel_ctx_destroy(sel);
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    ngx_memzero(&walk, sizeof(ngx_wsman_ipmi_walk_t));

    walk.session = s;
    walk.pool = pool;
    walk.log = log;
    walk.err = err;
    walk.array = &snap->sel.records;
    walk.rc = NGX_OK;

    if (ipmi_sel_parse(sel, IPMI_SEL_RECORD_ID_FIRST, IPMI_SEL_RECORD_ID_LAST,
                       ngx_wsman_ipmi_sel_record, &walk)
        < 0
        && walk.rc == NGX_OK)
    {
        errnum = ipmi_sel_ctx_errnum(sel);

        walk.rc = ngx_wsman_ipmi_lib_failed(s, log, err, "reading the SEL",
                                            errnum == IPMI_SEL_ERR_IPMI_ERROR,
                                            ipmi_sel_ctx_errormsg(sel));
    }

    ipmi_sel_ctx_destroy(sel);

    if (walk.rc != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_qsort(snap->sel.records.elts, snap->sel.records.nelts,
              sizeof(ngx_wsman_ipmi_sel_entry_t), ngx_wsman_ipmi_sel_cmp);

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ipmi_sel_info(ngx_wsman_ipmi_session_t *s,
    ngx_wsman_ipmi_sel_t *sel, ngx_log_t *log, u_char *err)
{
    fiid_obj_t  rs;

    rs = ngx_wsman_ipmi_query(s, tmpl_cmd_get_sel_info_rs,
                              ipmi_cmd_get_sel_info, "Get SEL Info",
                              IPMI_NET_FN_STORAGE_RQ, log, err);
    if (rs == NULL) {
        return NGX_ERROR;
    }

    /* BCD, least significant digit first: 0x51 is version 1.5 */
    sel->version = (ngx_wsman_ipmi_field(rs, "sel_version_minor") << 4)
                   | ngx_wsman_ipmi_field(rs, "sel_version_major");
    sel->entries = ngx_wsman_ipmi_field(rs, "entries");
    sel->free_space = ngx_wsman_ipmi_field(rs, "free_space");
    sel->last_addition = ngx_wsman_ipmi_time(
                  ngx_wsman_ipmi_field(rs, "most_recent_addition_timestamp"));
    sel->last_erase = ngx_wsman_ipmi_time(
                  ngx_wsman_ipmi_field(rs, "most_recent_erase_timestamp"));
    sel->overflow = ngx_wsman_ipmi_field(rs, "overflow_flag") ? 1 : 0;
    sel->delete_supported =
        ngx_wsman_ipmi_field(rs, "delete_sel_command_supported") ? 1 : 0;

    fiid_obj_destroy(rs);

    return NGX_OK;
}


/* ipmi_sel_parse() calls this for every record, the current one */
static int
ngx_wsman_ipmi_sel_record(ipmi_sel_ctx_t ctx, void *data)
{
    ngx_wsman_ipmi_walk_t  *walk = data;

    int                          n, class;
    char                         text[NGX_WSMAN_IPMI_TEXT_LEN];
    uint8_t                      record_type;
    uint16_t                     record_id;
    uint32_t                     timestamp;
    const char                  *format;
    ngx_wsman_ipmi_sel_entry_t  *entry;

    entry = ngx_array_push(walk->array);
    if (entry == NULL) {
        walk->rc = ngx_wsman_ipmi_oom(walk->session, walk->log, walk->err);
        return -1;
    }

    ngx_memzero(entry, sizeof(ngx_wsman_ipmi_sel_entry_t));

    if (ipmi_sel_parse_read_record(ctx, entry->raw, sizeof(entry->raw)) < 0
        || ipmi_sel_parse_read_record_id(ctx, NULL, 0, &record_id) < 0
        || ipmi_sel_parse_read_record_type(ctx, NULL, 0, &record_type) < 0)
    {
        /* a record too short to be one: nothing to show */
        walk->array->nelts--;
        return 0;
    }

    entry->record_id = record_id;
    entry->record_type = record_type;

    class = ipmi_sel_record_type_class(record_type);

    if (class != IPMI_SEL_RECORD_TYPE_CLASS_NON_TIMESTAMPED_OEM_RECORD
        && ipmi_sel_parse_read_timestamp(ctx, NULL, 0, &timestamp) == 0)
    {
        entry->timestamp = ngx_wsman_ipmi_time(timestamp);
    }

    if (class == IPMI_SEL_RECORD_TYPE_CLASS_SYSTEM_EVENT_RECORD) {
        if (ngx_wsman_ipmi_sel_event(walk, ctx, entry) != NGX_OK) {
            return -1;
        }

        format = "%E";

    } else {
        /* OEM records: their bytes in hex */
        ngx_str_set(&entry->type_name, "");
        ngx_str_set(&entry->sensor_name, "");
        format = "%o";
    }

    n = ipmi_sel_parse_read_record_string(ctx, format, NULL, 0, text,
                                          sizeof(text),
                                          NGX_WSMAN_IPMI_SEL_STRING);
    if (n < 0) {
        n = 0;
    }

    if (ngx_wsman_ipmi_strdup(walk->pool, &entry->message, text, n)
        != NGX_OK)
    {
        walk->rc = ngx_wsman_ipmi_oom(walk->session, walk->log, walk->err);
        return -1;
    }

    return 0;
}


static ngx_int_t
ngx_wsman_ipmi_sel_event(ngx_wsman_ipmi_walk_t *walk, ipmi_sel_ctx_t ctx,
    ngx_wsman_ipmi_sel_entry_t *entry)
{
    uint8_t  sensor_type, number, event_type, direction;

    /* the generator id as stored: address/software id, then channel
     * and LUN */
    entry->generator_id = entry->raw[7] | (entry->raw[8] << 8);

    if (ipmi_sel_parse_read_sensor_type(ctx, NULL, 0, &sensor_type) == 0) {
        entry->sensor_type = sensor_type;
    }

    if (ipmi_sel_parse_read_sensor_number(ctx, NULL, 0, &number) == 0) {
        entry->sensor_number = number;
    }

    if (ipmi_sel_parse_read_event_type_code(ctx, NULL, 0, &event_type) == 0)
    {
        entry->event_type = event_type;
    }

    if (ipmi_sel_parse_read_event_direction(ctx, NULL, 0, &direction) == 0)
    {
        entry->deassertion =
            (direction == IPMI_SEL_RECORD_DEASSERTION_EVENT) ? 1 : 0;
    }

    if (ngx_wsman_ipmi_cstr(walk->pool, &entry->type_name,
                            ipmi_get_sensor_type_string(
                                (uint8_t) entry->sensor_type))
        != NGX_OK
        || ngx_wsman_ipmi_sel_sensor_name(walk, entry) != NGX_OK)
    {
        walk->rc = ngx_wsman_ipmi_oom(walk->session, walk->log, walk->err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the SDR name of the sensor that logged the event: same owner, LUN and
 * number; "" when the SDR has no such sensor */
static ngx_int_t
ngx_wsman_ipmi_sel_sensor_name(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_sel_entry_t *entry)
{
    ipmi_sdr_ctx_t sdr = walk->session->sdr;

    int      n;
    char     name[NGX_WSMAN_IPMI_TEXT_LEN];
    uint8_t  lun, channel;

    n = 0;

    if (sdr
        && ipmi_sdr_cache_search_sensor(sdr, (uint8_t) entry->sensor_number,
                                        entry->raw[7])
           == 0
        && ipmi_sdr_parse_sensor_owner_lun(sdr, NULL, 0, &lun, &channel) == 0
        && lun == (entry->raw[8] & 0x03))
    {
        if (ipmi_sdr_parse_sensor_name(sdr, NULL, 0,
                                       (uint8_t) entry->sensor_number,
                                       IPMI_SDR_SENSOR_NAME_FLAGS_DEFAULT,
                                       name, sizeof(name))
            >= 0)
        {
            n = ngx_strlen(name);
        }
    }

    return ngx_wsman_ipmi_strdup(walk->pool, &entry->sensor_name, name, n);
}


static int
ngx_wsman_ipmi_sel_cmp(const void *one, const void *two)
{
    const ngx_wsman_ipmi_sel_entry_t  *a = one;
    const ngx_wsman_ipmi_sel_entry_t  *b = two;

    if (a->record_id == b->record_id) {
        return 0;
    }

    return a->record_id < b->record_id ? -1 : 1;
}


/* the FRU inventory */

static ngx_int_t
ngx_wsman_ipmi_read_frus(ngx_wsman_ipmi_session_t *s, ngx_pool_t *pool,
    ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log, u_char *err)
{
    char                   name[NGX_WSMAN_IPMI_TEXT_LEN];
    ngx_wsman_ipmi_walk_t  walk;

    if (ngx_array_init(&snap->frus, pool, 4, sizeof(ngx_wsman_ipmi_fru_t))
        != NGX_OK)
    {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    ngx_memzero(&walk, sizeof(ngx_wsman_ipmi_walk_t));

    walk.session = s;
    walk.pool = pool;
    walk.log = log;
    walk.err = err;
    walk.array = &snap->frus;
    walk.name = name;
    walk.rc = NGX_OK;

    name[0] = '\0';

    /* up to 64 KB an area: not on a thread's stack */
    walk.buf = malloc(IPMI_FRU_AREA_SIZE_MAX + 1);
    if (walk.buf == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    walk.reader = ipmi_fru_ctx_create(s->ipmi);
    if (walk.reader == NULL) {
        free(walk.buf);
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    /* device 0 first, named by its locator if the SDR has one; then the
     * other locators' devices (the cache is in memory: two walks are
     * cheap) */
    if (s->sdr) {
        (void) ipmi_sdr_cache_iterate(s->sdr, ngx_wsman_ipmi_fru_name0,
                                      &walk);
    }

    walk.rc = ngx_wsman_ipmi_fru(&walk, 0, name[0] ? name : NULL);

    if (walk.rc == NGX_OK
        && s->sdr
        && ipmi_sdr_cache_iterate(s->sdr, ngx_wsman_ipmi_fru_locator, &walk)
           < 0
        && walk.rc == NGX_OK)
    {
        walk.rc = ngx_wsman_ipmi_fail(s, log, err, "reading the SDR cache",
                                      ipmi_sdr_ctx_errormsg(s->sdr), 0);
    }

    ipmi_fru_ctx_destroy(walk.reader);
    free(walk.buf);

    return walk.rc;
}


static int
ngx_wsman_ipmi_fru_name0(ipmi_sdr_ctx_t sdr, uint8_t record_type,
    const void *record, unsigned int len, void *data)
{
    ngx_wsman_ipmi_walk_t  *walk = data;

    uint8_t  device_id;

    if (ngx_wsman_ipmi_fru_locator_parse(sdr, record_type, record, len,
                                         &device_id, walk->name)
        != NGX_OK
        || device_id != 0)
    {
        walk->name[0] = '\0';
        return 0;
    }

    /* found: the walk stops */
    return 1;
}


static int
ngx_wsman_ipmi_fru_locator(ipmi_sdr_ctx_t sdr, uint8_t record_type,
    const void *record, unsigned int len, void *data)
{
    ngx_wsman_ipmi_walk_t  *walk = data;

    char                   name[NGX_WSMAN_IPMI_TEXT_LEN];
    uint8_t                device_id;
    ngx_uint_t             i;
    ngx_wsman_ipmi_fru_t  *fru;

    if (ngx_wsman_ipmi_fru_locator_parse(sdr, record_type, record, len,
                                         &device_id, name)
        != NGX_OK
        || device_id == 0)
    {
        return 0;
    }

    /* some SDRs list a device twice */
    fru = walk->array->elts;

    for (i = 0; i < walk->array->nelts; i++) {
        if (fru[i].device_id == device_id) {
            return 0;
        }
    }

    if (ngx_wsman_ipmi_fru(walk, device_id, name[0] ? name : NULL)
        != NGX_OK)
    {
        walk->rc = NGX_ERROR;
        return -1;
    }

    return 0;
}


/*
 * A FRU Device Locator of a logical FRU device the BMC itself answers
 * for (device access address 0x20): FRUs behind other controllers would
 * need bridging.  name: NGX_WSMAN_IPMI_TEXT_LEN bytes.
 */
static ngx_int_t
ngx_wsman_ipmi_fru_locator_parse(ipmi_sdr_ctx_t sdr, uint8_t record_type,
    const void *record, unsigned int len, uint8_t *device_id, char *name)
{
    uint8_t  address, logical;

    if (record_type != IPMI_SDR_FORMAT_FRU_DEVICE_LOCATOR_RECORD
        || ipmi_sdr_parse_fru_device_locator_parameters(sdr, record, len,
                                                        &address, device_id,
                                                        NULL, NULL, &logical,
                                                        NULL)
           < 0
        || !logical
        || (address << 1) != IPMI_SLAVE_ADDRESS_BMC)
    {
        return NGX_DECLINED;
    }

    ngx_memzero(name, NGX_WSMAN_IPMI_TEXT_LEN);

    if (ipmi_sdr_parse_device_id_string(sdr, record, len, name,
                                        NGX_WSMAN_IPMI_TEXT_LEN - 1)
        < 0)
    {
        name[0] = '\0';
    }

    return NGX_OK;
}


/* one device: a device that does not answer is left out */
static ngx_int_t
ngx_wsman_ipmi_fru(ngx_wsman_ipmi_walk_t *walk, ngx_uint_t device_id,
    const char *name)
{
    ngx_wsman_ipmi_session_t *s = walk->session;

    u_char                 buf[sizeof("FRU 255")], *p;
    ngx_int_t              rc;
    ngx_wsman_ipmi_fru_t  *fru;

    if (ipmi_fru_open_device_id(walk->reader, (uint8_t) device_id) < 0) {
        if (ngx_wsman_ipmi_fru_fatal(walk, "opening a FRU device")) {
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, walk->log, 0,
                      "ipmi: %s: FRU device %ui skipped: %s", s->peer,
                      device_id, ipmi_fru_ctx_errormsg(walk->reader));
        return NGX_OK;
    }

    fru = ngx_array_push(walk->array);
    if (fru == NULL) {
        (void) ipmi_fru_close_device_id(walk->reader);
        return ngx_wsman_ipmi_oom(s, walk->log, walk->err);
    }

    ngx_memzero(fru, sizeof(ngx_wsman_ipmi_fru_t));

    fru->device_id = device_id;

    if (name == NULL) {
        p = ngx_snprintf(buf, sizeof(buf) - 1, "FRU %ui", device_id);
        *p = '\0';
        name = (const char *) buf;
    }

    rc = ngx_wsman_ipmi_cstr(walk->pool, &fru->name, name);

    if (rc != NGX_OK) {
        rc = ngx_wsman_ipmi_oom(s, walk->log, walk->err);

    } else {
        rc = ngx_wsman_ipmi_fru_areas(walk, fru);
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, walk->log, 0,
                      "ipmi: %s: FRU device %ui skipped: %s", s->peer,
                      device_id, ipmi_fru_ctx_errormsg(walk->reader));
        walk->array->nelts--;
        rc = NGX_OK;
    }

    (void) ipmi_fru_close_device_id(walk->reader);

    return rc;
}


/* NGX_DECLINED: the device stopped answering half way */
static ngx_int_t
ngx_wsman_ipmi_fru_areas(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru)
{
    int           rc;
    unsigned int  type, len;

    if (ipmi_fru_first(walk->reader) < 0) {
        return ngx_wsman_ipmi_fru_fatal(walk, "reading a FRU device")
               ? NGX_ERROR : NGX_DECLINED;
    }

    do {
        type = 0;
        len = 0;

        if (ipmi_fru_read_data_area(walk->reader, &type, &len, walk->buf,
                                    IPMI_FRU_AREA_SIZE_MAX)
            < 0)
        {
            if (ngx_wsman_ipmi_fru_fatal(walk, "reading a FRU device")) {
                return NGX_ERROR;
            }

            if (ipmi_fru_ctx_errnum(walk->reader) == IPMI_FRU_ERR_IPMI_ERROR)
            {
                return NGX_DECLINED;
            }

            /* a damaged area (checksum, format): the others may be fine */
            ngx_log_error(NGX_LOG_INFO, walk->log, 0,
                          "ipmi: %s: FRU device %ui: %s",
                          walk->session->peer, fru->device_id,
                          ipmi_fru_ctx_errormsg(walk->reader));
            continue;
        }

        if (len && ngx_wsman_ipmi_fru_area(walk, fru, type, len) != NGX_OK)
        {
            return ngx_wsman_ipmi_oom(walk->session, walk->log, walk->err);
        }

    } while ((rc = ipmi_fru_next(walk->reader)) == 1);

    if (rc < 0) {
        return ngx_wsman_ipmi_fru_fatal(walk, "reading a FRU device")
               ? NGX_ERROR : NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ipmi_fru_area(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru, unsigned int type, unsigned int len)
{
    switch (type) {

    case IPMI_FRU_AREA_TYPE_CHASSIS_INFO_AREA:
        return ngx_wsman_ipmi_fru_chassis(walk, fru, len);

    case IPMI_FRU_AREA_TYPE_BOARD_INFO_AREA:
        return ngx_wsman_ipmi_fru_board(walk, fru, len);

    case IPMI_FRU_AREA_TYPE_PRODUCT_INFO_AREA:
        return ngx_wsman_ipmi_fru_product(walk, fru, len);

    default:
        /* multirecord areas: power supplies, DC outputs ... not shown */
        return NGX_OK;
    }
}


/* a malformed area is logged and skipped: NGX_ERROR only for memory */
static ngx_int_t
ngx_wsman_ipmi_fru_chassis(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru, unsigned int len)
{
    uint8_t           type;
    ipmi_fru_field_t  part, serial;

    if (ipmi_fru_chassis_info_area(walk->reader, walk->buf, len, &type,
                                   &part, &serial, NULL, 0)
        < 0)
    {
        ngx_log_error(NGX_LOG_INFO, walk->log, 0,
                      "ipmi: %s: FRU device %ui: chassis area: %s",
                      walk->session->peer, fru->device_id,
                      ipmi_fru_ctx_errormsg(walk->reader));
        return NGX_OK;
    }

    fru->chassis_type = type;

    if (ngx_wsman_ipmi_fru_string(walk, &fru->chassis_part_number, &part,
                                  IPMI_FRU_LANGUAGE_CODE_ENGLISH)
        != NGX_OK
        || ngx_wsman_ipmi_fru_string(walk, &fru->chassis_serial_number,
                                     &serial, IPMI_FRU_LANGUAGE_CODE_ENGLISH)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ipmi_fru_board(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru, unsigned int len)
{
    u_char            *area;
    uint8_t            language;
    uint32_t           minutes;
    ipmi_fru_field_t   manufacturer, product, serial, part;

    if (ipmi_fru_board_info_area(walk->reader, walk->buf, len, &language,
                                 NULL, &manufacturer, &product, &serial,
                                 &part, NULL, NULL, 0)
        < 0)
    {
        ngx_log_error(NGX_LOG_INFO, walk->log, 0,
                      "ipmi: %s: FRU device %ui: board area: %s",
                      walk->session->peer, fru->device_id,
                      ipmi_fru_ctx_errormsg(walk->reader));
        return NGX_OK;
    }

    /*
     * Minutes since 1996-01-01 00:00, taken as UTC (as ipmitool does;
     * libfreeipmi converts with the local time zone), 0: unspecified.
     * The area as read starts at the language code.
     */
    area = walk->buf;
    minutes = area[1] | (area[2] << 8) | ((uint32_t) area[3] << 16);

    if (minutes) {
        fru->board_manufacture_time = (time_t) 820454400 + minutes * 60;
    }

    if (ngx_wsman_ipmi_fru_string(walk, &fru->board_manufacturer,
                                  &manufacturer, language) != NGX_OK
        || ngx_wsman_ipmi_fru_string(walk, &fru->board_product_name,
                                     &product, language) != NGX_OK
        || ngx_wsman_ipmi_fru_string(walk, &fru->board_serial_number,
                                     &serial, language) != NGX_OK
        || ngx_wsman_ipmi_fru_string(walk, &fru->board_part_number, &part,
                                     language) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ipmi_fru_product(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_fru_t *fru, unsigned int len)
{
    uint8_t           language;
    ipmi_fru_field_t  manufacturer, name, part, version, serial, asset;

    if (ipmi_fru_product_info_area(walk->reader, walk->buf, len, &language,
                                   &manufacturer, &name, &part, &version,
                                   &serial, &asset, NULL, NULL, 0)
        < 0)
    {
        ngx_log_error(NGX_LOG_INFO, walk->log, 0,
                      "ipmi: %s: FRU device %ui: product area: %s",
                      walk->session->peer, fru->device_id,
                      ipmi_fru_ctx_errormsg(walk->reader));
        return NGX_OK;
    }

    if (ngx_wsman_ipmi_fru_string(walk, &fru->product_manufacturer,
                                  &manufacturer, language) != NGX_OK
        || ngx_wsman_ipmi_fru_string(walk, &fru->product_name, &name,
                                     language) != NGX_OK
        || ngx_wsman_ipmi_fru_string(walk, &fru->product_part_number, &part,
                                     language) != NGX_OK
        || ngx_wsman_ipmi_fru_string(walk, &fru->product_version, &version,
                                     language) != NGX_OK
        || ngx_wsman_ipmi_fru_string(walk, &fru->product_serial_number,
                                     &serial, language) != NGX_OK
        || ngx_wsman_ipmi_fru_string(walk, &fru->product_asset_tag, &asset,
                                     language) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a type/length field decoded (ASCII, BCD plus, 6-bit ASCII) */
static ngx_int_t
ngx_wsman_ipmi_fru_string(ngx_wsman_ipmi_walk_t *walk, ngx_str_t *dst,
    ipmi_fru_field_t *field, uint8_t language)
{
    char          text[IPMI_FRU_AREA_STRING_MAX + 1];
    unsigned int  len, field_len;

    len = 0;
    field_len = field->type_length_field_length;

    if (field_len) {
        len = IPMI_FRU_AREA_STRING_MAX;

        if (ipmi_fru_type_length_field_to_string(walk->reader,
                                                 field->type_length_field,
                                                 field_len, language, text,
                                                 &len)
            < 0)
        {
            ngx_log_error(NGX_LOG_INFO, walk->log, 0,
                          "ipmi: %s: FRU field: %s", walk->session->peer,
                          ipmi_fru_ctx_errormsg(walk->reader));
            len = 0;
        }
    }

    return ngx_wsman_ipmi_strdup(walk->pool, dst, text, len);
}


/* a FRU failure that is the session's: reported, and the read fails */
static ngx_uint_t
ngx_wsman_ipmi_fru_fatal(ngx_wsman_ipmi_walk_t *walk, const char *what)
{
    ngx_wsman_ipmi_session_t *s = walk->session;

    int  errnum;

    errnum = ipmi_fru_ctx_errnum(walk->reader);

    if (errnum == IPMI_FRU_ERR_OUT_OF_MEMORY) {
        (void) ngx_wsman_ipmi_oom(s, walk->log, walk->err);
        return 1;
    }

    if (errnum == IPMI_FRU_ERR_IPMI_ERROR
        && !ngx_wsman_ipmi_bmc_answered(ipmi_ctx_errnum(s->ipmi)))
    {
        (void) ngx_wsman_ipmi_cmd_failed(s, walk->log, walk->err, what,
                                         NULL, 0);
        return 1;
    }

    return 0;
}


/* the chassis and the BMC */

static ngx_int_t
ngx_wsman_ipmi_read_chassis(ngx_wsman_ipmi_session_t *s, ngx_pool_t *pool,
    ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log, u_char *err)
{
    if (ngx_wsman_ipmi_chassis_status(s, &snap->chassis, log, err) != NGX_OK
        || ngx_wsman_ipmi_device_id(s, pool, &snap->chassis, log, err)
           != NGX_OK
        || ngx_wsman_ipmi_guid(s, pool, &snap->chassis, log, err) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ipmi_chassis_status(ngx_wsman_ipmi_session_t *s,
    ngx_wsman_ipmi_chassis_t *chassis, ngx_log_t *log, u_char *err)
{
    fiid_obj_t  rs;

    rs = ngx_wsman_ipmi_query(s, tmpl_cmd_get_chassis_status_rs,
                              ipmi_cmd_get_chassis_status,
                              "Get Chassis Status", IPMI_NET_FN_CHASSIS_RQ,
                              log, err);
    if (rs == NULL) {
        return NGX_ERROR;
    }

    chassis->power_on =
        ngx_wsman_ipmi_field(rs, "current_power_state.power_is_on") ? 1 : 0;
    chassis->power_fault =
        (ngx_wsman_ipmi_field(rs, "current_power_state.power_fault")
         || ngx_wsman_ipmi_field(rs,
                              "current_power_state.power_control_fault"))
        ? 1 : 0;
    chassis->power_overload =
        ngx_wsman_ipmi_field(rs, "current_power_state.power_overload")
        ? 1 : 0;
    chassis->interlock =
        ngx_wsman_ipmi_field(rs, "current_power_state.interlock") ? 1 : 0;
    chassis->intrusion =
        ngx_wsman_ipmi_field(rs,
                             "misc_chassis_state.chassis_intrusion_active")
        ? 1 : 0;
    chassis->restore_policy =
        ngx_wsman_ipmi_field(rs, "current_power_state.power_restore_policy");

    /* byte 2 of the response as it is: bit 0 AC failed ... bit 4 power
     * on through IPMI */
    chassis->last_event =
        ngx_wsman_ipmi_field(rs, "last_power_event.ac_failed")
        | ngx_wsman_ipmi_field(rs,
              "last_power_event.power_down_caused_by_power_overload") << 1
        | ngx_wsman_ipmi_field(rs,
              "last_power_event."
              "power_down_caused_by_power_interlock_being_activated") << 2
        | ngx_wsman_ipmi_field(rs,
              "last_power_event.power_down_caused_by_power_fault") << 3
        | ngx_wsman_ipmi_field(rs,
              "last_power_event.power_on_entered_via_ipmi") << 4;

    fiid_obj_destroy(rs);

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ipmi_device_id(ngx_wsman_ipmi_session_t *s, ngx_pool_t *pool,
    ngx_wsman_ipmi_chassis_t *chassis, ngx_log_t *log, u_char *err)
{
    u_char      buf[32], *p;
    uint64_t    major, minor;
    fiid_obj_t  rs;

    rs = ngx_wsman_ipmi_query(s, tmpl_cmd_get_device_id_rs,
                              ipmi_cmd_get_device_id, "Get Device ID",
                              IPMI_NET_FN_APP_RQ, log, err);
    if (rs == NULL) {
        return NGX_ERROR;
    }

    chassis->manufacturer_id = ngx_wsman_ipmi_field(rs, "manufacturer_id.id");
    chassis->product_id = ngx_wsman_ipmi_field(rs, "product_id");

    major = ngx_wsman_ipmi_field(rs, "firmware_revision1.major_revision");
    minor = ngx_wsman_ipmi_field(rs, "firmware_revision2.minor_revision");

    fiid_obj_destroy(rs);

    /* the minor revision is BCD: 0x47 is ".47", as bmc-info shows it */
    p = ngx_snprintf(buf, sizeof(buf), "%uL.", major);
    p = ngx_wsman_ipmi_hex(p, (ngx_uint_t) minor);

    if (ngx_wsman_ipmi_strdup(pool, &chassis->firmware, (char *) buf,
                              p - buf)
        != NGX_OK)
    {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    return NGX_OK;
}


/* Get System GUID: optional, an empty string when the BMC refuses */
static ngx_int_t
ngx_wsman_ipmi_guid(ngx_wsman_ipmi_session_t *s, ngx_pool_t *pool,
    ngx_wsman_ipmi_chassis_t *chassis, ngx_log_t *log, u_char *err)
{
    int         i;
    u_char      guid[16], text[36], *p;
    fiid_obj_t  rs;

    rs = fiid_obj_create(tmpl_cmd_get_system_guid_rs);
    if (rs == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    if (ipmi_cmd_get_system_guid(s->ipmi, rs) < 0) {
        fiid_obj_destroy(rs);

        if (!ngx_wsman_ipmi_bmc_answered(ipmi_ctx_errnum(s->ipmi))) {
            return ngx_wsman_ipmi_cmd_failed(s, log, err, "Get System GUID",
                                             NULL, 0);
        }

        ngx_str_set(&chassis->guid, "");
        return NGX_OK;
    }

    i = fiid_obj_get_data(rs, "guid", guid, sizeof(guid));

    fiid_obj_destroy(rs);

    if (i != 16) {
        ngx_str_set(&chassis->guid, "");
        return NGX_OK;
    }

    /* stored least significant byte first: shown the other way round,
     * in the 8-4-4-4-12 groups */
    p = text;

    for (i = 15; i >= 0; i--) {
        p = ngx_wsman_ipmi_hex(p, guid[i]);

        if (i == 12 || i == 10 || i == 8 || i == 6) {
            *p++ = '-';
        }
    }

    if (ngx_wsman_ipmi_strdup(pool, &chassis->guid, (char *) text, p - text)
        != NGX_OK)
    {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    return NGX_OK;
}


static u_char *
ngx_wsman_ipmi_hex(u_char *p, ngx_uint_t byte)
{
    static const u_char  hex[] = "0123456789abcdef";

    *p++ = hex[(byte >> 4) & 0xf];
    *p++ = hex[byte & 0xf];

    return p;
}
