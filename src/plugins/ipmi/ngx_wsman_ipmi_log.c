/*
 * DMTF Record Log profile: the System Event Log as CIM_RecordLog (one
 * instance, Invoke ClearLog) and its records as CIM_LogRecord.
 */

#include "ngx_wsman_ipmi.h"


#define NGX_WSMAN_IPMI_SEL_ID     "IPMI:SEL"
#define NGX_WSMAN_IPMI_SEL_ENTRY  16          /* bytes a record takes */


static void ngx_wsman_ipmi_log_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items);
static ngx_wsman_instance_t *ngx_wsman_ipmi_log_build(ngx_pool_t *pool,
    ngx_wsman_provider_t *prov, void *item);
static ngx_int_t ngx_wsman_ipmi_log_method(ngx_wsman_call_t *call,
    ngx_str_t *method, ngx_wsman_ipmi_job_t *job);
static void ngx_wsman_ipmi_record_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items);
static uint64_t ngx_wsman_ipmi_record_ordinal(void *item);
static ngx_wsman_instance_t *ngx_wsman_ipmi_record_build(ngx_pool_t *pool,
    ngx_wsman_provider_t *prov, void *item);


ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_record_log_class = {
    NGX_WSMAN_IPMI_SEL,
    ngx_wsman_ipmi_log_items,
    NULL,
    ngx_wsman_ipmi_singleton_ordinal,
    ngx_wsman_ipmi_parse_singleton_key,
    ngx_wsman_ipmi_log_build,
    ngx_wsman_ipmi_log_method
};


ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_log_record_class = {
    NGX_WSMAN_IPMI_SEL,
    ngx_wsman_ipmi_record_items,
    NULL,
    ngx_wsman_ipmi_record_ordinal,
    ngx_wsman_ipmi_parse_uint_key,
    ngx_wsman_ipmi_record_build,
    NULL
};


static void
ngx_wsman_ipmi_log_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items)
{
    items->elts = &snap->sel;
    items->nelts = 1;
    items->size = sizeof(ngx_wsman_ipmi_sel_t);
}


static ngx_wsman_instance_t *
ngx_wsman_ipmi_log_build(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_ipmi_sel_t *sel = item;

    time_t                  changed;
    ngx_wsman_ipmi_build_t  b;

    if (ngx_wsman_ipmi_build_start(&b, pool, prov, 12) != NGX_OK) {
        return NULL;
    }

    ngx_wsman_ipmi_ckey(&b, "InstanceID", NGX_WSMAN_IPMI_SEL_ID);
    ngx_wsman_ipmi_cstr(&b, "ElementName", "IPMI System Event Log");
    ngx_wsman_ipmi_cstr(&b, "Name", "IPMI SEL");
    ngx_wsman_ipmi_uint(&b, "CurrentNumberOfRecords", sel->entries);
    ngx_wsman_ipmi_uint(&b, "MaxNumberOfRecords",
                        sel->entries
                        + sel->free_space / NGX_WSMAN_IPMI_SEL_ENTRY);

    /* LogState 4: Normal; the SEL stops taking events when full (7) */
    ngx_wsman_ipmi_uint(&b, "LogState", 4);
    ngx_wsman_ipmi_uint(&b, "OverwritePolicy", 7);
    ngx_wsman_ipmi_uint(&b, "EnabledState", 2);
    ngx_wsman_ipmi_uint(&b, "HealthState", sel->overflow ? 10 : 5);

    changed = ngx_max(sel->last_addition, sel->last_erase);
    ngx_wsman_ipmi_time(&b, "TimeOfLastChange", changed);

    return ngx_wsman_ipmi_build_end(&b);
}


/* ClearLog empties the SEL; it takes no parameters */
static ngx_int_t
ngx_wsman_ipmi_log_method(ngx_wsman_call_t *call, ngx_str_t *method,
    ngx_wsman_ipmi_job_t *job)
{
    if (method->len != sizeof("ClearLog") - 1
        || ngx_strncmp(method->data, "ClearLog", method->len) != 0)
    {
        return NGX_ABORT;
    }

    if (ngx_wsman_ipmi_selectors_name(call, "InstanceID",
                                      NGX_WSMAN_IPMI_SEL_ID)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    job->kind = NGX_WSMAN_IPMI_JOB_CLEAR_SEL;
    job->return_value = 0;

    return NGX_OK;
}


static void
ngx_wsman_ipmi_record_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items)
{
    items->elts = snap->sel.records.elts;
    items->nelts = snap->sel.records.elts ? snap->sel.records.nelts : 0;
    items->size = sizeof(ngx_wsman_ipmi_sel_entry_t);
}


static uint64_t
ngx_wsman_ipmi_record_ordinal(void *item)
{
    ngx_wsman_ipmi_sel_entry_t *e = item;

    return e->record_id;
}


static ngx_wsman_instance_t *
ngx_wsman_ipmi_record_build(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_ipmi_sel_entry_t *e = item;

    u_char                 *p;
    ngx_str_t               text;
    ngx_uint_t              i;
    ngx_wsman_ipmi_build_t  b;
    u_char                  buf[16 * 3];

    if (ngx_wsman_ipmi_build_start(&b, pool, prov, 20) != NGX_OK) {
        return NULL;
    }

    ngx_wsman_ipmi_ckey(&b, "LogCreationClassName", "CIM_RecordLog");
    ngx_wsman_ipmi_ckey(&b, "LogName", NGX_WSMAN_IPMI_SEL_ID);
    ngx_wsman_ipmi_ckey(&b, "CreationClassName", "CIM_LogRecord");

    p = ngx_sprintf(buf, "%ui", e->record_id);
    text.data = buf;
    text.len = p - buf;
    ngx_wsman_ipmi_key(&b, "RecordID", &text);

    ngx_wsman_ipmi_time(&b, "MessageTimestamp", e->timestamp);
    ngx_wsman_ipmi_cstr(&b, "RecordFormat", "IPMI SEL record");

    /* the record as stored, for tools that decode it themselves */
    p = buf;
    for (i = 0; i < 16; i++) {
        p = ngx_sprintf(p, i ? " %02XD" : "%02XD", e->raw[i]);
    }

    text.data = buf;
    text.len = p - buf;
    ngx_wsman_ipmi_str(&b, "RecordData", &text);

    ngx_wsman_ipmi_uint(&b, "RecordType", e->record_type);

    if (e->record_type == 0x02) {
        ngx_wsman_ipmi_uint(&b, "SensorNumber", e->sensor_number);
        ngx_wsman_ipmi_uint(&b, "SensorType", e->sensor_type);
        ngx_wsman_ipmi_str(&b, "SensorTypeName", &e->type_name);
        ngx_wsman_ipmi_str(&b, "SensorName", &e->sensor_name);
        ngx_wsman_ipmi_uint(&b, "EventType", e->event_type);
        ngx_wsman_ipmi_cstr(&b, "EventDirection",
                            e->deassertion ? "Deassertion" : "Assertion");
        ngx_wsman_ipmi_uint(&b, "GeneratorID", e->generator_id);
    }

    ngx_wsman_ipmi_str(&b, "Description", &e->message);

    return ngx_wsman_ipmi_build_end(&b);
}
