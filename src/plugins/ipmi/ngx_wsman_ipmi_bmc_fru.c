/*
 * The BMC layer: the FRU inventory.
 */

#include "ngx_wsman_ipmi_bmc_int.h"


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


/* the FRU inventory */

ngx_int_t
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
        walk.rc = ngx_wsman_ipmi_bmc_fail(s, log, err, "reading the SDR cache",
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

    rc = ngx_wsman_ipmi_bmc_cstr(walk->pool, &fru->name, name);

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
