/*
 * The BMC layer: the SDR repository, read once and kept across
 * reconnects, checked against the repository's timestamps.
 */

#include "ngx_wsman_ipmi_bmc_int.h"


static ngx_int_t ngx_wsman_ipmi_sdr_load(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);
static ngx_int_t ngx_wsman_ipmi_sdr_failed(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err, ipmi_sdr_ctx_t sdr);


/* the SDR repository */

/*
 * NGX_OK: s->sdr is current; NGX_DECLINED: the BMC has no readable SDR
 * repository (err says why); NGX_ERROR: the session failed.
 */
ngx_int_t
ngx_wsman_ipmi_sdr(ngx_wsman_ipmi_session_t *s, ngx_log_t *log, u_char *err)
{
    uint16_t    count;
    uint32_t    added, erased;
    uint64_t    last_added, last_erased, last_count;
    fiid_obj_t  rs;

    rs = ngx_wsman_ipmi_query(s, tmpl_cmd_get_sdr_repository_info_rs,
                              ipmi_cmd_get_sdr_repository_info,
                              "Get SDR Repository Info",
                              IPMI_NET_FN_STORAGE_RQ, log, err);
    if (rs == NULL) {
        /* a BMC without an SDR still has a SEL and FRU data */
        return s->ipmi ? NGX_DECLINED : NGX_ERROR;
    }

    last_added = ngx_wsman_ipmi_field(rs, "most_recent_addition_timestamp");
    last_erased = ngx_wsman_ipmi_field(rs, "most_recent_erase_timestamp");
    last_count = ngx_wsman_ipmi_field(rs, "record_count");

    fiid_obj_destroy(rs);

    /* the timestamps count seconds: a record added in the second the
     * cache was read shows only in the count */
    if (s->sdr
        && ipmi_sdr_cache_most_recent_addition_timestamp(s->sdr, &added)
           == 0
        && ipmi_sdr_cache_most_recent_erase_timestamp(s->sdr, &erased) == 0
        && ipmi_sdr_cache_record_count(s->sdr, &count) == 0
        && added == last_added
        && erased == last_erased
        && count == last_count)
    {
        return NGX_OK;
    }

    if (s->sdr) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ipmi: %s: the SDR repository changed, reading it",
                      s->peer);

        ipmi_sdr_ctx_destroy(s->sdr);
        s->sdr = NULL;
    }

    return ngx_wsman_ipmi_sdr_load(s, log, err);
}


/*
 * libfreeipmi reads an SDR cache only from a file: it is written to a
 * private temporary file, mapped by ipmi_sdr_cache_open() and unlinked
 * at once, so nothing stays on disk, even if the worker dies.
 */
static ngx_int_t
ngx_wsman_ipmi_sdr_load(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err)
{
    int             fd;
    char            path[] = NGX_WSMAN_IPMI_SDR_TEMPLATE;
    ngx_int_t       rc;
    ipmi_sdr_ctx_t  sdr;

    sdr = ipmi_sdr_ctx_create();
    if (sdr == NULL) {
        return ngx_wsman_ipmi_oom(s, log, err);
    }

    fd = mkstemp(path);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "ipmi: mkstemp(\"%s\") failed", path);
        ipmi_sdr_ctx_destroy(sdr);
        return ngx_wsman_ipmi_bmc_fail(s, log, err, "SDR cache",
                                       "cannot create a temporary file", 0);
    }

    (void) close(fd);

    rc = NGX_OK;

    if (ipmi_sdr_cache_create(sdr, s->ipmi, path,
                              IPMI_SDR_CACHE_CREATE_FLAGS_OVERWRITE,
                              NULL, NULL)
        < 0
        || ipmi_sdr_cache_open(sdr, NULL, path) < 0)
    {
        rc = ngx_wsman_ipmi_sdr_failed(s, log, err, sdr);
    }

    /* ipmi_sdr_cache_create() removes the file itself when it fails */
    if (unlink(path) == -1 && ngx_errno != NGX_ENOENT) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "ipmi: unlink(\"%s\") failed", path);
    }

    if (rc != NGX_OK) {
        ipmi_sdr_ctx_destroy(sdr);
        return rc;
    }

    s->sdr = sdr;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_ipmi_sdr_failed(ngx_wsman_ipmi_session_t *s, ngx_log_t *log,
    u_char *err, ipmi_sdr_ctx_t sdr)
{
    int  errnum;

    errnum = ipmi_sdr_ctx_errnum(sdr);

    (void) ngx_wsman_ipmi_lib_failed(s, log, err, "reading the SDR",
                                     errnum == IPMI_SDR_ERR_IPMI_ERROR,
                                     ipmi_sdr_ctx_errormsg(sdr));

    return s->ipmi ? NGX_DECLINED : NGX_ERROR;
}
