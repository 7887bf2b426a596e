/*
 * The BMC layer: the chassis and the BMC itself (device id, GUID).
 */

#include "ngx_wsman_ipmi_bmc_int.h"
#include "ngx_wsman_util.h"


static ngx_int_t ngx_wsman_ipmi_chassis_status(ngx_wsman_ipmi_session_t *s,
    ngx_wsman_ipmi_chassis_t *chassis, ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_device_id(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_chassis_t *chassis, ngx_log_t *log,
    u_char *err);
static ngx_int_t ngx_wsman_ipmi_guid(ngx_wsman_ipmi_session_t *s,
    ngx_pool_t *pool, ngx_wsman_ipmi_chassis_t *chassis, ngx_log_t *log,
    u_char *err);


/* the chassis and the BMC */

ngx_int_t
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
    u_char      buf[32], *p, bcd;
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
    bcd = (u_char) minor;
    p = ngx_wsman_hex(p, &bcd, 1, 0);

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
        p = ngx_wsman_hex(p, &guid[i], 1, 0);

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

