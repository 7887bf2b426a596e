/*
 * The BMC layer: sensors, their readings, thresholds and states.
 */

#include "ngx_wsman_ipmi_bmc_int.h"


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


/* sensors */

ngx_int_t
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
        walk.rc = ngx_wsman_ipmi_bmc_fail(s, log, err, "reading the SDR cache",
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
        || ngx_wsman_ipmi_bmc_cstr(walk->pool, &sensor->type_name,
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

    if (ngx_wsman_ipmi_bmc_cstr(walk->pool, &sensor->state, state) != NGX_OK) {
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
