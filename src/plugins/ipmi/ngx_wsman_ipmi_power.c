/*
 * DMTF Power State Management profile over IPMI chassis control:
 * CIM_AssociatedPowerManagementService says the power state,
 * CIM_PowerManagementService takes RequestPowerStateChange.
 */

#include "ngx_wsman_ipmi.h"
#include "ngx_wsman_body.h"


/* CIM PowerState values */
#define NGX_WSMAN_IPMI_POWER_ON        2
#define NGX_WSMAN_IPMI_POWER_OFF_SOFT  8


typedef struct {
    ngx_uint_t                 state;        /* CIM PowerState */
    ngx_uint_t                 control;      /* IPMI chassis control */
    ngx_uint_t                 advertised;   /* not a synonym */
} ngx_wsman_ipmi_power_map_t;


/* what each CIM power state asks of the chassis; the others (sleep,
 * hibernate) have no IPMI equivalent */
static ngx_wsman_ipmi_power_map_t  ngx_wsman_ipmi_power_map[] = {
    { 2, NGX_WSMAN_IPMI_POWER_UP, 1 },       /* On */
    { 5, NGX_WSMAN_IPMI_POWER_CYCLE, 1 },    /* Power Cycle (Off-Soft) */
    { 6, NGX_WSMAN_IPMI_POWER_DOWN, 1 },     /* Off-Hard */
    { 8, NGX_WSMAN_IPMI_POWER_DOWN, 1 },     /* Off-Soft */
    { 9, NGX_WSMAN_IPMI_POWER_CYCLE, 0 },    /* Power Cycle (Off-Hard) */
    { 10, NGX_WSMAN_IPMI_HARD_RESET, 1 },    /* Master Bus Reset */
    { 11, NGX_WSMAN_IPMI_DIAGNOSTIC_INTERRUPT, 1 },   /* NMI */
    { 12, NGX_WSMAN_IPMI_SOFT_SHUTDOWN, 1 }, /* Off-Soft Graceful */
    { 14, NGX_WSMAN_IPMI_HARD_RESET, 0 },    /* Master Bus Reset
                                                Graceful */
    { 0, 0, 0 }
};


#define NGX_WSMAN_IPMI_PMS  "IPMI Power Management Service"


/* CIM's "Not Supported" return value */
#define NGX_WSMAN_IPMI_NOT_SUPPORTED  1


static void ngx_wsman_ipmi_power_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items);
static ngx_wsman_instance_t *ngx_wsman_ipmi_service_build(ngx_pool_t *pool,
    ngx_wsman_provider_t *prov, void *item);
static ngx_wsman_instance_t *ngx_wsman_ipmi_state_build(ngx_pool_t *pool,
    ngx_wsman_provider_t *prov, void *item);
static ngx_uint_t ngx_wsman_ipmi_power_state(ngx_wsman_ipmi_chassis_t *c);
static ngx_int_t ngx_wsman_ipmi_power_method(ngx_wsman_call_t *call,
    ngx_str_t *method, ngx_wsman_ipmi_job_t *job);
static ngx_int_t ngx_wsman_ipmi_requested_state(ngx_wsman_call_t *call,
    ngx_int_t *state);


ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_power_service_class = {
    NGX_WSMAN_IPMI_CHASSIS,
    ngx_wsman_ipmi_power_items,
    NULL,
    ngx_wsman_ipmi_singleton_ordinal,
    ngx_wsman_ipmi_parse_singleton_key,
    ngx_wsman_ipmi_service_build,
    ngx_wsman_ipmi_power_method
};


ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_power_state_class = {
    NGX_WSMAN_IPMI_CHASSIS,
    ngx_wsman_ipmi_power_items,
    NULL,
    ngx_wsman_ipmi_singleton_ordinal,
    ngx_wsman_ipmi_parse_singleton_key,
    ngx_wsman_ipmi_state_build,
    NULL
};


static void
ngx_wsman_ipmi_power_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items)
{
    items->elts = &snap->chassis;
    items->nelts = 1;
    items->size = sizeof(ngx_wsman_ipmi_chassis_t);
}


static ngx_uint_t
ngx_wsman_ipmi_power_state(ngx_wsman_ipmi_chassis_t *c)
{
    return c->power_on ? NGX_WSMAN_IPMI_POWER_ON
                       : NGX_WSMAN_IPMI_POWER_OFF_SOFT;
}


static ngx_wsman_instance_t *
ngx_wsman_ipmi_service_build(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_ipmi_chassis_t *c = item;

    ngx_wsman_ipmi_build_t  b;

    if (ngx_wsman_ipmi_build_start(&b, pool, prov, 10) != NGX_OK) {
        return NULL;
    }

    ngx_wsman_ipmi_ckey(&b, "CreationClassName",
                        "CIM_PowerManagementService");
    ngx_wsman_ipmi_ckey(&b, "Name", NGX_WSMAN_IPMI_PMS);
    ngx_wsman_ipmi_system_keys(&b);
    ngx_wsman_ipmi_cstr(&b, "ElementName", "IPMI Power Management Service");
    ngx_wsman_ipmi_uint(&b, "EnabledState", 2);
    ngx_wsman_ipmi_uint(&b, "PowerState", ngx_wsman_ipmi_power_state(c));

    return ngx_wsman_ipmi_build_end(&b);
}


static ngx_wsman_instance_t *
ngx_wsman_ipmi_state_build(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_ipmi_chassis_t *c = item;

    ngx_wsman_ipmi_build_t       b;
    ngx_wsman_ipmi_power_map_t  *m;

    if (ngx_wsman_ipmi_build_start(&b, pool, prov, 16) != NGX_OK) {
        return NULL;
    }

    ngx_wsman_ipmi_ckey(&b, "InstanceID", "IPMI:Power");
    ngx_wsman_ipmi_uint(&b, "PowerState", ngx_wsman_ipmi_power_state(c));

    /* IPMI has one power cycle and one reset: the synonyms are taken,
     * not offered */
    for (m = ngx_wsman_ipmi_power_map; m->state; m++) {
        if (m->advertised) {
            ngx_wsman_ipmi_uint(&b, "AvailableRequestedPowerStates",
                                m->state);
        }
    }

    ngx_wsman_ipmi_uint(&b, "PowerOnFault", c->power_fault);
    ngx_wsman_ipmi_uint(&b, "PowerRestorePolicy", c->restore_policy);

    return ngx_wsman_ipmi_build_end(&b);
}


static ngx_int_t
ngx_wsman_ipmi_power_method(ngx_wsman_call_t *call, ngx_str_t *method,
    ngx_wsman_ipmi_job_t *job)
{
    ngx_int_t                    rc, state;
    ngx_wsman_ipmi_power_map_t  *m;

    if (method->len != sizeof("RequestPowerStateChange") - 1
        || ngx_strncmp(method->data, "RequestPowerStateChange",
                       method->len) != 0)
    {
        return NGX_ABORT;
    }

    rc = ngx_wsman_ipmi_selectors_name(call, "Name", NGX_WSMAN_IPMI_PMS);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_wsman_ipmi_requested_state(call, &state);
    if (rc != NGX_OK) {
        return rc;
    }

    for (m = ngx_wsman_ipmi_power_map; m->state; m++) {
        if (m->state == (ngx_uint_t) state) {
            job->kind = NGX_WSMAN_IPMI_JOB_CONTROL;
            job->arg = m->control;
            job->return_value = 0;
            return NGX_OK;
        }
    }

    /* a CIM power state with no IPMI equivalent: answered, not faulted */
    job->kind = NGX_WSMAN_IPMI_JOB_NONE;
    job->return_value = NGX_WSMAN_IPMI_NOT_SUPPORTED;

    return NGX_OK;
}


/* the PowerState of RequestPowerStateChange_INPUT, 1..16 */
static ngx_int_t
ngx_wsman_ipmi_requested_state(ngx_wsman_call_t *call, ngx_int_t *state)
{
    ngx_int_t  rc;
    ngx_str_t  text;

    rc = ngx_wsman_body_child_text(call->pool, call->req, "PowerState",
                                   &text);

    if (rc == NGX_DECLINED) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER,
                             "RequestPowerStateChange needs PowerState.");
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    *state = ngx_atoi(text.data, text.len);

    if (*state == NGX_ERROR || *state < 1 || *state > 16) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER,
                             "PowerState is not a CIM power state.");
        return NGX_DECLINED;
    }

    return NGX_OK;
}
