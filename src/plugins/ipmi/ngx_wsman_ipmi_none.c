/*
 * The IPMI plug-in's BMC side when the module is built without
 * libfreeipmi (the build compiles this file instead of
 * ngx_wsman_ipmi_bmc.c): every call fails cleanly, so the nginx side
 * needs no conditional code.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_wsman_ipmi_bmc.h"


#define NGX_WSMAN_IPMI_NONE  "the module was built without libfreeipmi"


static ngx_int_t ngx_wsman_ipmi_none(ngx_log_t *log, u_char *err);


ngx_uint_t
ngx_wsman_ipmi_available(void)
{
    return 0;
}


ngx_wsman_ipmi_session_t *
ngx_wsman_ipmi_session_create(ngx_wsman_ipmi_conf_t *conf, ngx_log_t *log)
{
    return NULL;
}


void
ngx_wsman_ipmi_session_destroy(ngx_wsman_ipmi_session_t *s)
{
}


ngx_int_t
ngx_wsman_ipmi_read(ngx_wsman_ipmi_session_t *s, ngx_uint_t what,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err)
{
    ngx_memzero(snap, sizeof(ngx_wsman_ipmi_snapshot_t));

    return ngx_wsman_ipmi_none(log, err);
}


ngx_int_t
ngx_wsman_ipmi_chassis_control(ngx_wsman_ipmi_session_t *s,
    ngx_uint_t control, ngx_log_t *log, u_char *err)
{
    return ngx_wsman_ipmi_none(log, err);
}


ngx_int_t
ngx_wsman_ipmi_clear_sel(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err)
{
    return ngx_wsman_ipmi_none(log, err);
}


ngx_int_t
ngx_wsman_ipmi_workaround(ngx_str_t *name, ngx_uint_t driver,
    ngx_uint_t *flags)
{
    return NGX_ERROR;
}


static ngx_int_t
ngx_wsman_ipmi_none(ngx_log_t *log, u_char *err)
{
    (void) ngx_cpystrn(err, (u_char *) NGX_WSMAN_IPMI_NONE,
                       NGX_WSMAN_IPMI_ERRLEN);

    ngx_log_error(NGX_LOG_ERR, log, 0, "ipmi: %s", NGX_WSMAN_IPMI_NONE);

    return NGX_ERROR;
}


void
ngx_wsman_ipmi_disconnect(ngx_wsman_ipmi_session_t *s)
{
}
