/*
 * ngx_wsman: message sealing (MS-WSMV 2.2.9.1), the request's
 * multipart/encrypted body unwrapped and the answer wrapped with the
 * security context that sealed it.
 */

#include "ngx_wsman_http_int.h"
#include "ngx_wsman_mime.h"


/*
 * MS-WSMV 2.2.9.1: multipart/encrypted in, plaintext SOAP out, framed as
 * the Content-Type ngx_wsman_check_request() read said.  NGX_DONE: the
 * seal verified but the envelope is over wsman_max_envelope_size.
 */
ngx_int_t
ngx_wsman_unseal(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx, ngx_str_t *body)
{
    ngx_int_t               rc;
    ngx_str_t               plain;
    const char             *error;
    ngx_wsman_mime_part_t   part;

    error = NULL;

    if (ngx_wsman_mime_unframe(body, &ctx->protocol, &ctx->boundary, &part,
                               &error)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: malformed encrypted body from %V: %s",
                      &r->connection->addr_text, error ? error : "unknown");
        return NGX_DECLINED;
    }

    ngx_wsman_set_charset(ctx, &part.type);

    rc = ngx_wsman_gss_unwrap(ctx->sealed, r->pool, r->connection->log,
                              &part.header, &part.payload, &plain);
    if (rc != NGX_OK) {
        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "wsman: encrypted body from %V does not verify",
                          &r->connection->addr_text);
        }
        return rc;
    }

    /* pywinrm and pypsrp check this too: it catches a cut message */
    if (plain.len != part.length) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: encrypted body from %V: Length=%uz but %uz "
                      "bytes decrypted", &r->connection->addr_text,
                      part.length, plain.len);
        return NGX_DECLINED;
    }

    /* the framing allowance let it in; the envelope itself is too large */
    if (plain.len > ngx_wsman_get_loc_conf(r)->max_envelope_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: encrypted envelope from %V has %uz bytes, "
                      "more than wsman_max_envelope_size",
                      &r->connection->addr_text, plain.len);
        ngx_str_null(body);
        return NGX_DONE;
    }

    *body = plain;

    return NGX_OK;
}


ngx_int_t
ngx_wsman_seal(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx, ngx_chain_t **out,
    off_t *length)
{
    u_char       *p;
    size_t        len;
    ngx_buf_t    *b;
    ngx_str_t     plain, header, payload, boundary, charset;
    ngx_chain_t  *cl;

    /* flatten: the GSS seal works on one buffer */
    plain.len = (size_t) *length;
    plain.data = ngx_pnalloc(r->pool, plain.len);
    if (plain.data == NULL) {
        return NGX_ERROR;
    }

    p = plain.data;
    for (cl = *out; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    if (ngx_wsman_gss_wrap(ctx->sealed, r->pool, r->connection->log, &plain,
                           &header, &payload)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&boundary, NGX_WSMAN_MIME_BOUNDARY);

    if (ctx->charset.len) {
        charset = ctx->charset;

    } else {
        ngx_str_set(&charset, "UTF-8");
    }

    len = ngx_wsman_mime_frame_len_charset(&ctx->protocol, &boundary,
                                           &charset, plain.len, header.len,
                                           payload.len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_wsman_mime_frame_charset(b->pos, &ctx->protocol,
                                           &boundary, &charset, plain.len,
                                           &header, &payload);

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    *out = cl;
    *length = b->last - b->pos;

    len = ngx_wsman_mime_content_type_len(&ctx->protocol);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    r->headers_out.content_type.data = p;
    r->headers_out.content_type.len =
                     ngx_wsman_mime_write_content_type(p, &ctx->protocol) - p;

    return NGX_OK;
}
