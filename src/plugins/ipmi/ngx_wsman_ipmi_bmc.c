/*
 * The blocking side of the IPMI plug-in: a session with one BMC through
 * libfreeipmi, and what a refresh reads from it (sensors with their
 * readings, the SEL, the FRU inventory, the chassis).
 *
 * Every function here runs in an nginx thread pool task and touches
 * only its session, the pool the task passes and the log.  libfreeipmi
 * contexts are not shared between sessions, so no locking is needed.
 */

#include "ngx_wsman_ipmi_bmc_int.h"


static ngx_int_t ngx_wsman_ipmi_read_once(ngx_wsman_ipmi_session_t *s,
    ngx_uint_t what, ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap,
    ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_clear_sel_once(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_connect(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_open(ngx_wsman_ipmi_session_t *s);
static void ngx_wsman_ipmi_close(ngx_wsman_ipmi_session_t *s);

static ngx_int_t ngx_wsman_ipmi_erase_sel(ngx_wsman_ipmi_session_t *s,
    fiid_obj_t rs, ngx_log_t *log, u_char *err);


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
        return ngx_wsman_ipmi_bmc_fail(s, log, err, "Chassis Control",
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
            return ngx_wsman_ipmi_bmc_fail(s, log, err, "Clear SEL",
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
        return ngx_wsman_ipmi_bmc_fail(s, log, err, NULL,
                                       NGX_WSMAN_IPMI_NO_INBAND, 0);
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

    return ngx_wsman_ipmi_bmc_fail(s, log, err, NULL, reason, 1);
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
ngx_uint_t
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
ngx_int_t
ngx_wsman_ipmi_bmc_fail(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
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
ngx_int_t
ngx_wsman_ipmi_cmd_failed(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err, const char *what, fiid_obj_t rs, uint8_t netfn)
{
    int   errnum;
    char  reason[NGX_WSMAN_IPMI_ERRLEN];

    errnum = ipmi_ctx_errnum(s->ipmi);

    if (!ngx_wsman_ipmi_bmc_answered(errnum)) {
        return ngx_wsman_ipmi_bmc_fail(s, log, err, NULL,
                                       ipmi_ctx_errormsg(s->ipmi), 1);
    }

    if (rs == NULL
        || ipmi_completion_code_strerror_cmd_r(rs, netfn, reason,
                                               sizeof(reason))
           < 0)
    {
        return ngx_wsman_ipmi_bmc_fail(s, log, err, what,
                                       ipmi_ctx_errormsg(s->ipmi), 0);
    }

    return ngx_wsman_ipmi_bmc_fail(s, log, err, what, reason, 0);
}


/*
 * One of libfreeipmi's sdr/sel/fru/sensor-read contexts failed; when it
 * says "IPMI error", the reason is the connection's.
 */
ngx_int_t
ngx_wsman_ipmi_lib_failed(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err, const char *what, ngx_uint_t ipmi_error, const char *reason)
{
    if (ipmi_error && s->ipmi) {
        return ngx_wsman_ipmi_cmd_failed(s, log, err, what, NULL, 0);
    }

    return ngx_wsman_ipmi_bmc_fail(s, log, err, what, reason, 0);
}


ngx_int_t
ngx_wsman_ipmi_oom(ngx_wsman_ipmi_session_t *s, ngx_log_t *log, u_char *err)
{
    return ngx_wsman_ipmi_bmc_fail(s, log, err, NULL, "out of memory", 0);
}


/* small helpers */

/* a response field; 0 when the (optional) field is absent */
/*
 * A command that takes nothing but its response: the response, or NULL
 * with err set (and the session closed when it is the session's fault).
 * The caller destroys the response.
 */
fiid_obj_t
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


uint64_t
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
time_t
ngx_wsman_ipmi_bmc_time(uint64_t timestamp)
{
    if (timestamp == IPMI_TIMESTAMP_UNSPECIFIED
        || timestamp <= IPMI_TIMESTAMP_POST_INIT_MAX)
    {
        return 0;
    }

    return (time_t) timestamp;
}


ngx_int_t
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


ngx_int_t
ngx_wsman_ipmi_bmc_cstr(ngx_pool_t *pool, ngx_str_t *dst, const char *src)
{
    if (src == NULL) {
        src = "";
    }

    return ngx_wsman_ipmi_strdup(pool, dst, src, ngx_strlen(src));
}
