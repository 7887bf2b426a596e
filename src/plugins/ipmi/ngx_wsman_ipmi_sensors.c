/*
 * DMTF Sensors profile: CIM_NumericSensor for IPMI threshold sensors and
 * CIM_Sensor for discrete ones, from the SDR and the current readings.
 *
 * DeviceID is "owner.lun.number" (the sensor's IPMB address), which
 * stays the same across BMC and nginx restarts, unlike SDR record ids.
 */

#include "ngx_wsman_ipmi.h"


/* CIM_NumericSensor.HealthState */
#define NGX_WSMAN_IPMI_HEALTH_UNKNOWN     0
#define NGX_WSMAN_IPMI_HEALTH_OK          5
#define NGX_WSMAN_IPMI_HEALTH_DEGRADED    10
#define NGX_WSMAN_IPMI_HEALTH_CRITICAL    25
#define NGX_WSMAN_IPMI_HEALTH_FATAL       30


/* thresholds in the order of CIM's SupportedThresholds and of the
 * snapshot's bit masks */
static const char  *ngx_wsman_ipmi_threshold_props[] = {
    "LowerThresholdNonCritical",
    "UpperThresholdNonCritical",
    "LowerThresholdCritical",
    "UpperThresholdCritical",
    "LowerThresholdFatal",
    "UpperThresholdFatal"
};

static const char  *ngx_wsman_ipmi_threshold_states[] = {
    "Lower Non-Critical",
    "Upper Non-Critical",
    "Lower Critical",
    "Upper Critical",
    "Lower Fatal",
    "Upper Fatal"
};


typedef struct {
    ngx_uint_t                 ipmi;         /* IPMI sensor type code */
    ngx_uint_t                 cim;          /* CIM SensorType */
} ngx_wsman_ipmi_type_map_t;


static ngx_wsman_ipmi_type_map_t  ngx_wsman_ipmi_types[] = {
    { 0x01, 2 },                             /* Temperature */
    { 0x02, 3 },                             /* Voltage */
    { 0x03, 4 },                             /* Current */
    { 0x04, 5 },                             /* Fan: Tachometer */
    { 0x05, 16 },                            /* Physical Security:
                                                Intrusion */
    { 0x25, 11 },                            /* Entity Presence */
    { 0, 0 }
};


static void ngx_wsman_ipmi_sensor_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items);
static ngx_uint_t ngx_wsman_ipmi_skip_discrete(void *item);
static ngx_uint_t ngx_wsman_ipmi_skip_threshold(void *item);
static uint64_t ngx_wsman_ipmi_sensor_ordinal(void *item);
static ngx_int_t ngx_wsman_ipmi_sensor_parse_key(ngx_str_t *key,
    uint64_t *ordinal);
static ngx_wsman_instance_t *ngx_wsman_ipmi_numeric_build(ngx_pool_t *pool,
    ngx_wsman_provider_t *prov, void *item);
static ngx_wsman_instance_t *ngx_wsman_ipmi_discrete_build(
    ngx_pool_t *pool, ngx_wsman_provider_t *prov, void *item);
static void ngx_wsman_ipmi_sensor_common(ngx_wsman_ipmi_build_t *b,
    ngx_wsman_ipmi_sensor_t *s, const char *class_name);
static int64_t ngx_wsman_ipmi_scaled(double value, ngx_int_t exponent);
static ngx_int_t ngx_wsman_ipmi_worst_threshold(ngx_uint_t crossed);


ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_numeric_sensor_class = {
    NGX_WSMAN_IPMI_SENSORS,
    ngx_wsman_ipmi_sensor_items,
    ngx_wsman_ipmi_skip_discrete,
    ngx_wsman_ipmi_sensor_ordinal,
    ngx_wsman_ipmi_sensor_parse_key,
    ngx_wsman_ipmi_numeric_build,
    NULL
};


ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_sensor_class = {
    NGX_WSMAN_IPMI_SENSORS,
    ngx_wsman_ipmi_sensor_items,
    ngx_wsman_ipmi_skip_threshold,
    ngx_wsman_ipmi_sensor_ordinal,
    ngx_wsman_ipmi_sensor_parse_key,
    ngx_wsman_ipmi_discrete_build,
    NULL
};


static void
ngx_wsman_ipmi_sensor_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items)
{
    items->elts = snap->sensors.elts;
    items->nelts = snap->sensors.elts ? snap->sensors.nelts : 0;
    items->size = sizeof(ngx_wsman_ipmi_sensor_t);
}


static ngx_uint_t
ngx_wsman_ipmi_skip_discrete(void *item)
{
    ngx_wsman_ipmi_sensor_t *s = item;

    return !s->threshold;
}


static ngx_uint_t
ngx_wsman_ipmi_skip_threshold(void *item)
{
    ngx_wsman_ipmi_sensor_t *s = item;

    return s->threshold;
}


static uint64_t
ngx_wsman_ipmi_sensor_ordinal(void *item)
{
    ngx_wsman_ipmi_sensor_t *s = item;

    return ((uint64_t) s->owner_id << 16) | ((uint64_t) s->owner_lun << 8)
           | s->number;
}


/* "owner.lun.number" */
static ngx_int_t
ngx_wsman_ipmi_sensor_parse_key(ngx_str_t *key, uint64_t *ordinal)
{
    u_char      *p, *last, *dot;
    ngx_int_t    n;
    ngx_uint_t   i;

    p = key->data;
    last = key->data + key->len;
    *ordinal = 0;

    for (i = 0; i < 3; i++) {
        dot = (i < 2) ? ngx_strlchr(p, last, '.') : last;
        if (dot == NULL) {
            return NGX_DECLINED;
        }

        n = ngx_atoi(p, dot - p);
        if (n == NGX_ERROR || n > 255) {
            return NGX_DECLINED;
        }

        *ordinal = (*ordinal << 8) | (uint64_t) n;
        p = dot + 1;
    }

    return NGX_OK;
}


static ngx_wsman_instance_t *
ngx_wsman_ipmi_numeric_build(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_ipmi_sensor_t *s = item;

    ngx_int_t               worst, health;
    ngx_uint_t              i;
    ngx_wsman_ipmi_build_t  b;

    if (ngx_wsman_ipmi_build_start(&b, pool, prov, 32) != NGX_OK) {
        return NULL;
    }

    ngx_wsman_ipmi_sensor_common(&b, s, "CIM_NumericSensor");

    /* CIM's units are IPMI's, one up: 0 is "Unknown" in CIM only */
    ngx_wsman_ipmi_uint(&b, "BaseUnits", s->units + 1);
    ngx_wsman_ipmi_sint(&b, "UnitModifier", s->r_exponent);
    ngx_wsman_ipmi_uint(&b, "RateUnits", s->rate_units);

    if (s->reading_valid) {
        ngx_wsman_ipmi_sint(&b, "CurrentReading",
                            ngx_wsman_ipmi_scaled(s->reading,
                                                  s->r_exponent));
    } else {
        ngx_wsman_ipmi_nil(&b, "CurrentReading", NGX_WSMAN_PROP_SINT);
    }

    for (i = 0; i < 6; i++) {
        if (s->thresholds_readable & (1 << i)) {
            ngx_wsman_ipmi_sint(&b, ngx_wsman_ipmi_threshold_props[i],
                                ngx_wsman_ipmi_scaled(s->thresholds[i],
                                                      s->r_exponent));
        }
    }

    for (i = 0; i < 6; i++) {
        if (s->thresholds_readable & (1 << i)) {
            ngx_wsman_ipmi_uint(&b, "SupportedThresholds", i);
        }
    }

    worst = ngx_wsman_ipmi_worst_threshold(s->state_bits);

    if (!s->reading_valid) {
        ngx_wsman_ipmi_cstr(&b, "CurrentState", "Unknown");
        health = NGX_WSMAN_IPMI_HEALTH_UNKNOWN;

    } else if (worst < 0) {
        ngx_wsman_ipmi_cstr(&b, "CurrentState", "Normal");
        health = NGX_WSMAN_IPMI_HEALTH_OK;

    } else {
        ngx_wsman_ipmi_cstr(&b, "CurrentState",
                            ngx_wsman_ipmi_threshold_states[worst]);
        health = (worst >= 4) ? NGX_WSMAN_IPMI_HEALTH_FATAL
                 : (worst >= 2) ? NGX_WSMAN_IPMI_HEALTH_CRITICAL
                 : NGX_WSMAN_IPMI_HEALTH_DEGRADED;
    }

    ngx_wsman_ipmi_uint(&b, "HealthState", health);

    ngx_wsman_ipmi_cstr(&b, "PossibleStates", "Normal");

    for (i = 0; i < 6; i++) {
        if (s->thresholds_readable & (1 << i)) {
            ngx_wsman_ipmi_cstr(&b, "PossibleStates",
                                ngx_wsman_ipmi_threshold_states[i]);
        }
    }

    return ngx_wsman_ipmi_build_end(&b);
}


static ngx_wsman_instance_t *
ngx_wsman_ipmi_discrete_build(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_ipmi_sensor_t *s = item;

    ngx_uint_t              health;
    ngx_wsman_ipmi_build_t  b;

    if (ngx_wsman_ipmi_build_start(&b, pool, prov, 16) != NGX_OK) {
        return NULL;
    }

    ngx_wsman_ipmi_sensor_common(&b, s, "CIM_Sensor");

    if (s->events.len) {
        ngx_wsman_ipmi_str(&b, "CurrentState", &s->events);

    } else {
        ngx_wsman_ipmi_cstr(&b, "CurrentState",
                            s->reading_valid ? "OK" : "Unknown");
    }

    /* freeipmi's interpretation: Nominal, Warning, Critical */
    health = NGX_WSMAN_IPMI_HEALTH_UNKNOWN;

    if (s->state.len) {
        switch (s->state.data[0]) {
        case 'N': case 'O':
            health = NGX_WSMAN_IPMI_HEALTH_OK;
            break;
        case 'W':
            health = NGX_WSMAN_IPMI_HEALTH_DEGRADED;
            break;
        case 'C':
            health = NGX_WSMAN_IPMI_HEALTH_CRITICAL;
            break;
        }
    }

    ngx_wsman_ipmi_uint(&b, "HealthState", health);

    return ngx_wsman_ipmi_build_end(&b);
}


static void
ngx_wsman_ipmi_sensor_common(ngx_wsman_ipmi_build_t *b,
    ngx_wsman_ipmi_sensor_t *s, const char *class_name)
{
    u_char                      *p;
    ngx_str_t                    id;
    ngx_wsman_ipmi_type_map_t   *t;
    u_char                       buf[3 * NGX_INT_T_LEN];

    p = ngx_sprintf(buf, "%ui.%ui.%ui", s->owner_id, s->owner_lun,
                    s->number);
    id.data = buf;
    id.len = p - buf;

    ngx_wsman_ipmi_ckey(b, "CreationClassName", class_name);
    ngx_wsman_ipmi_key(b, "DeviceID", &id);
    ngx_wsman_ipmi_system_keys(b);

    ngx_wsman_ipmi_str(b, "ElementName", &s->name);
    ngx_wsman_ipmi_str(b, "Caption", &s->name);

    for (t = ngx_wsman_ipmi_types; t->ipmi; t++) {
        if (t->ipmi == s->sensor_type) {
            break;
        }
    }

    ngx_wsman_ipmi_uint(b, "SensorType", t->ipmi ? t->cim : 1);

    if (t->ipmi == 0) {
        ngx_wsman_ipmi_str(b, "OtherSensorTypeDescription", &s->type_name);
    }

    ngx_wsman_ipmi_uint(b, "EnabledState", s->reading_valid ? 2 : 5);
}


/* a reading in units of 10^exponent, as CIM's UnitModifier says */
static int64_t
ngx_wsman_ipmi_scaled(double value, ngx_int_t exponent)
{
    ngx_int_t  i;

    for (i = exponent; i < 0; i++) {
        value *= 10;
    }

    for (i = exponent; i > 0; i--) {
        value /= 10;
    }

    return (int64_t) (value < 0 ? value - 0.5 : value + 0.5);
}


/* the most severe crossed threshold, -1 when none */
static ngx_int_t
ngx_wsman_ipmi_worst_threshold(ngx_uint_t crossed)
{
    ngx_int_t  i;

    for (i = 5; i >= 0; i--) {
        if (crossed & (1 << i)) {
            return i;
        }
    }

    return -1;
}
