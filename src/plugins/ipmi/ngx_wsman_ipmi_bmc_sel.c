/*
 * The BMC layer: the System Event Log.
 */

#include "ngx_wsman_ipmi_bmc_int.h"


static ngx_int_t ngx_wsman_ipmi_sel_info(ngx_wsman_ipmi_session_t *s,
    ngx_wsman_ipmi_sel_t *sel, ngx_log_t *log, u_char *err);
static int ngx_wsman_ipmi_sel_record(ipmi_sel_ctx_t ctx, void *data);
static ngx_int_t ngx_wsman_ipmi_sel_event(ngx_wsman_ipmi_walk_t *walk,
    ipmi_sel_ctx_t ctx, ngx_wsman_ipmi_sel_entry_t *entry);
static ngx_int_t ngx_wsman_ipmi_sel_sensor_name(ngx_wsman_ipmi_walk_t *walk,
    ngx_wsman_ipmi_sel_entry_t *entry);
static int ngx_wsman_ipmi_sel_cmp(const void *one, const void *two);


/* the System Event Log */

ngx_int_t
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
    sel->last_addition = ngx_wsman_ipmi_bmc_time(
                  ngx_wsman_ipmi_field(rs, "most_recent_addition_timestamp"));
    sel->last_erase = ngx_wsman_ipmi_bmc_time(
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
        entry->timestamp = ngx_wsman_ipmi_bmc_time(timestamp);
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

    if (ngx_wsman_ipmi_bmc_cstr(walk->pool, &entry->type_name,
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
