/*
 * The IPMI classes as the resource engine sees them: two providers per
 * class (DMTF and WMI root/hardware URIs) sharing one enumeration over
 * the worker's latest read, and the helpers the class files build
 * instances with.
 */

#include "ngx_wsman_ipmi.h"


static ngx_int_t ngx_wsman_ipmi_enumerate(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_uint_t ngx_wsman_ipmi_known_selector(ngx_str_t *name,
    const char **keys);


/* the DMTF URI is the class's identity, the WMI one an alias of it */
#define ngx_wsman_ipmi_providers_of(name, key, numeric, cls, invoke, one)   \
    { ngx_string(name), ngx_string(NGX_WSMAN_CIM_URI name),                 \
      ngx_string(key), numeric, ngx_wsman_ipmi_enumerate, NULL, invoke,     \
      &cls, ngx_wsman_ipmi_fetch, ngx_null_string, NULL, one, NULL },      \
    { ngx_string(name), ngx_string(NGX_WSMAN_IPMI_WMI_URI name),            \
      ngx_string(key), numeric, ngx_wsman_ipmi_enumerate, NULL, invoke,     \
      &cls, ngx_wsman_ipmi_fetch, ngx_string(NGX_WSMAN_CIM_URI name),       \
      NULL, one, NULL }


static ngx_wsman_provider_t  ngx_wsman_ipmi_provider_list[] = {
    ngx_wsman_ipmi_providers_of("CIM_NumericSensor", "DeviceID", 0,
                                ngx_wsman_ipmi_numeric_sensor_class, NULL, 0),
    ngx_wsman_ipmi_providers_of("CIM_Sensor", "DeviceID", 0,
                                ngx_wsman_ipmi_sensor_class, NULL, 0),
    ngx_wsman_ipmi_providers_of("CIM_RecordLog", "InstanceID", 0,
                                ngx_wsman_ipmi_record_log_class,
                                ngx_wsman_ipmi_invoke, 1),
    ngx_wsman_ipmi_providers_of("CIM_LogRecord", "RecordID", 1,
                                ngx_wsman_ipmi_log_record_class, NULL, 0),
    ngx_wsman_ipmi_providers_of("CIM_PhysicalPackage", "Tag", 1,
                                ngx_wsman_ipmi_package_class, NULL, 0),
    ngx_wsman_ipmi_providers_of("CIM_Chassis", "Tag", 1,
                                ngx_wsman_ipmi_chassis_class, NULL, 0),
    ngx_wsman_ipmi_providers_of("CIM_PowerManagementService", "Name", 0,
                                ngx_wsman_ipmi_power_service_class,
                                ngx_wsman_ipmi_invoke, 1),
    ngx_wsman_ipmi_providers_of("CIM_AssociatedPowerManagementService",
                                "InstanceID", 0,
                                ngx_wsman_ipmi_power_state_class, NULL, 1)
};


ngx_wsman_provider_t  *ngx_wsman_ipmi_providers[] = {
    &ngx_wsman_ipmi_provider_list[0],
    &ngx_wsman_ipmi_provider_list[1],
    &ngx_wsman_ipmi_provider_list[2],
    &ngx_wsman_ipmi_provider_list[3],
    &ngx_wsman_ipmi_provider_list[4],
    &ngx_wsman_ipmi_provider_list[5],
    &ngx_wsman_ipmi_provider_list[6],
    &ngx_wsman_ipmi_provider_list[7],
    &ngx_wsman_ipmi_provider_list[8],
    &ngx_wsman_ipmi_provider_list[9],
    &ngx_wsman_ipmi_provider_list[10],
    &ngx_wsman_ipmi_provider_list[11],
    &ngx_wsman_ipmi_provider_list[12],
    &ngx_wsman_ipmi_provider_list[13],
    &ngx_wsman_ipmi_provider_list[14],
    &ngx_wsman_ipmi_provider_list[15],
    NULL
};


/*
 * Items after the enumeration's last key, in key order.  The data is the
 * worker's latest read, which fetch() has made fresh enough; an item that
 * vanished between Pulls is no obstacle, since keys compare as ordinals.
 */
static ngx_int_t
ngx_wsman_ipmi_enumerate(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    void                        *item;
    uint64_t                     from;
    ngx_uint_t                   i, resume;
    ngx_wsman_instance_t       **slot;
    ngx_wsman_ipmi_class_t      *cls;
    ngx_wsman_ipmi_items_t       items;
    ngx_wsman_ipmi_snapshot_t   *snap;

    cls = prov->data;
    *done = 1;

    snap = ngx_wsman_ipmi_data(cls->what);
    if (snap == NULL) {
        return NGX_OK;
    }

    from = 0;
    resume = 0;

    if (after->len) {
        if (cls->parse_key(after, &from) != NGX_OK) {
            return NGX_OK;
        }

        resume = 1;
    }

    cls->items(snap, &items);

    for (i = 0; i < items.nelts; i++) {
        item = (u_char *) items.elts + i * items.size;

        if ((cls->skip && cls->skip(item))
            || (resume && cls->ordinal(item) <= from))
        {
            continue;
        }

        if (out->nelts >= max) {
            *done = 0;
            return NGX_OK;
        }

        slot = ngx_array_push(out);
        if (slot == NULL) {
            return NGX_ERROR;
        }

        *slot = cls->build(pool, prov, item);
        if (*slot == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_wsman_ipmi_parse_uint_key(ngx_str_t *key, uint64_t *ordinal)
{
    ngx_int_t  n;

    n = ngx_atoi(key->data, key->len);
    if (n == NGX_ERROR) {
        return NGX_DECLINED;
    }

    *ordinal = (uint64_t) n;

    return NGX_OK;
}


/*
 * An Invoke on a singleton names it by its key (and, optionally, the
 * keys of the managed system): anything else is not this instance, and
 * must not reach the BMC.  NGX_OK, or NGX_DECLINED with the fault set.
 */
ngx_int_t
ngx_wsman_ipmi_selectors_name(ngx_wsman_call_t *call, const char *key,
    const char *value)
{
    size_t             len;
    ngx_uint_t         i;
    ngx_wsman_pair_t  *sel;

    static const char *system_keys[] = {
        "CreationClassName", "SystemCreationClassName", "SystemName", NULL
    };

    sel = call->req->selectors.elts;
    len = ngx_strlen(key);

    for (i = 0; i < call->req->selectors.nelts; i++) {

        if (sel[i].name.len == len
            && ngx_strncmp(sel[i].name.data, key, len) == 0)
        {
            if (sel[i].value.len != ngx_strlen(value)
                || ngx_strncmp(sel[i].value.data, value, sel[i].value.len)
                   != 0)
            {
                ngx_wsman_call_fault(call,
                                     NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                     "No instance matches the selectors.");
                return NGX_DECLINED;
            }

            continue;
        }

        if (!ngx_wsman_ipmi_known_selector(&sel[i].name, system_keys)) {
            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                 "A selector is not a key of the class.");
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_wsman_ipmi_known_selector(ngx_str_t *name, const char **keys)
{
    size_t  len;

    for ( ; *keys; keys++) {
        len = ngx_strlen(*keys);

        if (name->len == len && ngx_strncmp(name->data, *keys, len) == 0) {
            return 1;
        }
    }

    return 0;
}


/* one instance: whatever the key, nothing comes after it */
ngx_int_t
ngx_wsman_ipmi_parse_singleton_key(ngx_str_t *key, uint64_t *ordinal)
{
    *ordinal = 0;
    return NGX_OK;
}


uint64_t
ngx_wsman_ipmi_singleton_ordinal(void *item)
{
    return 0;
}


/* building instances ------------------------------------------------------ */

ngx_int_t
ngx_wsman_ipmi_build_start(ngx_wsman_ipmi_build_t *b, ngx_pool_t *pool,
    ngx_wsman_provider_t *prov, ngx_uint_t n)
{
    b->pool = pool;
    b->failed = 0;
    b->inst = ngx_wsman_instance_create(pool, &prov->class_name,
                                        &prov->resource_uri, n);

    return b->inst ? NGX_OK : NGX_ERROR;
}


ngx_wsman_instance_t *
ngx_wsman_ipmi_build_end(ngx_wsman_ipmi_build_t *b)
{
    return b->failed ? NULL : b->inst;
}


static void
ngx_wsman_ipmi_check(ngx_wsman_ipmi_build_t *b, ngx_wsman_prop_t *prop,
    ngx_uint_t key)
{
    if (prop == NULL) {
        b->failed = 1;
        return;
    }

    prop->key = key;
}


void
ngx_wsman_ipmi_key(ngx_wsman_ipmi_build_t *b, const char *name,
    ngx_str_t *value)
{
    ngx_wsman_ipmi_check(b, ngx_wsman_prop_str(b->pool, b->inst, name,
                                               value->data, value->len), 1);
}


void
ngx_wsman_ipmi_ckey(ngx_wsman_ipmi_build_t *b, const char *name,
    const char *value)
{
    ngx_wsman_ipmi_check(b, ngx_wsman_prop_cstr(b->pool, b->inst, name,
                                                value), 1);
}


void
ngx_wsman_ipmi_str(ngx_wsman_ipmi_build_t *b, const char *name,
    ngx_str_t *value)
{
    ngx_wsman_ipmi_check(b, ngx_wsman_prop_str(b->pool, b->inst, name,
                                               value->data, value->len), 0);
}


void
ngx_wsman_ipmi_cstr(ngx_wsman_ipmi_build_t *b, const char *name,
    const char *value)
{
    ngx_wsman_ipmi_check(b, ngx_wsman_prop_cstr(b->pool, b->inst, name,
                                                value), 0);
}


void
ngx_wsman_ipmi_uint(ngx_wsman_ipmi_build_t *b, const char *name,
    uint64_t value)
{
    ngx_wsman_ipmi_check(b, ngx_wsman_prop_uint(b->inst, name, value), 0);
}


void
ngx_wsman_ipmi_sint(ngx_wsman_ipmi_build_t *b, const char *name,
    int64_t value)
{
    ngx_wsman_ipmi_check(b, ngx_wsman_prop_sint(b->inst, name, value), 0);
}


/* 0 is "no time" in IPMI records */
void
ngx_wsman_ipmi_time(ngx_wsman_ipmi_build_t *b, const char *name,
    time_t value)
{
    if (value == 0) {
        ngx_wsman_ipmi_nil(b, name, NGX_WSMAN_PROP_DATETIME);
        return;
    }

    ngx_wsman_ipmi_check(b, ngx_wsman_prop_datetime(b->inst, name, value),
                         0);
}


void
ngx_wsman_ipmi_nil(ngx_wsman_ipmi_build_t *b, const char *name,
    ngx_uint_t type)
{
    ngx_wsman_ipmi_check(b, ngx_wsman_prop_nil(b->inst, name, type), 0);
}


/* the keys that name the managed system in CIM_LogicalDevice classes */
void
ngx_wsman_ipmi_system_keys(ngx_wsman_ipmi_build_t *b)
{
    ngx_wsman_ipmi_ckey(b, "SystemCreationClassName", "CIM_ComputerSystem");
    ngx_wsman_ipmi_key(b, "SystemName", ngx_wsman_ipmi_system_name());
}
