/*
 * The multipart/encrypted framing (src/soap/ngx_wsman_mime.c) as
 * ngx_wsman_handler.c meets it: the request Content-Type, then the body.
 *
 * Input: the Content-Type value, LF, the body (binary).  Without an LF the
 * whole input is the Content-Type and the body is empty.
 *
 * A body that unframes is framed again, as a response would be, and must
 * unframe to the same parts: the framing is exactly what
 * ngx_wsman_mime_frame_len() promised and the parser reads it back.
 */

#include "fuzz.h"
#include "ngx_wsman_mime.h"


static void
fuzz_mime_round_trip(ngx_pool_t *pool, ngx_str_t *protocol,
    ngx_str_t *boundary, ngx_wsman_mime_part_t *part)
{
    u_char                 *p;
    size_t                  len;
    ngx_str_t               body;
    const char             *error;
    ngx_wsman_mime_part_t   again;

    len = ngx_wsman_mime_frame_len(protocol, boundary, part->length,
                                   part->header.len, part->payload.len);

    body.data = ngx_pnalloc(pool, len);
    if (body.data == NULL) {
        abort();
    }

    p = ngx_wsman_mime_frame(body.data, protocol, boundary, part->length,
                             &part->header, &part->payload);

    fuzz_assert((size_t) (p - body.data) == len);

    body.len = len;

    fuzz_assert(ngx_wsman_mime_unframe(&body, protocol, boundary, &again,
                                       &error)
                == NGX_OK);

    fuzz_assert(again.length == part->length);
    fuzz_assert(again.header.len == part->header.len);
    fuzz_assert(again.payload.len == part->payload.len);
    fuzz_assert(ngx_memcmp(again.header.data, part->header.data,
                           part->header.len) == 0);
    fuzz_assert(part->payload.len == 0
                || ngx_memcmp(again.payload.data, part->payload.data,
                              part->payload.len) == 0);

    /* and the response's Content-Type */
    len = ngx_wsman_mime_content_type_len(protocol);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        abort();
    }

    fuzz_assert((size_t) (ngx_wsman_mime_write_content_type(p, protocol) - p)
                == len);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t               rc;
    ngx_str_t               ct, body, protocol, boundary;
    ngx_pool_t             *pool;
    const char             *error;
    const uint8_t          *lf;
    ngx_wsman_mime_part_t   part;

    pool = fuzz_pool();

    lf = memchr(data, '\n', size);

    if (lf == NULL) {
        fuzz_str(pool, data, size, &ct);
        fuzz_str(pool, data, 0, &body);

    } else {
        fuzz_str(pool, data, lf - data, &ct);
        fuzz_str(pool, lf + 1, size - (lf + 1 - data), &body);
    }

    rc = ngx_wsman_mime_content_type(&ct, &protocol, &boundary);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR);

    if (rc != NGX_OK) {
        goto done;
    }

    fuzz_assert(protocol.len > 0 && boundary.len > 0
                && boundary.len <= NGX_WSMAN_MIME_BOUNDARY_MAX);
    fuzz_assert(protocol.data >= ct.data
                && protocol.data + protocol.len <= ct.data + ct.len);
    fuzz_assert(boundary.data >= ct.data
                && boundary.data + boundary.len <= ct.data + ct.len);

    error = NULL;

    rc = ngx_wsman_mime_unframe(&body, &protocol, &boundary, &part, &error);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (rc == NGX_DECLINED) {
        fuzz_assert(error != NULL);
        goto done;
    }

    /* the parts point into the body */
    fuzz_assert(part.header.len > 0);
    fuzz_assert(part.header.data >= body.data
                && part.header.data + part.header.len
                   <= body.data + body.len);
    fuzz_assert(part.payload.data >= body.data
                && part.payload.data + part.payload.len
                   <= body.data + body.len);
    fuzz_assert(part.length <= NGX_WSMAN_MIME_MAX_LENGTH);

    fuzz_mime_round_trip(pool, &protocol, &boundary, &part);

done:

    ngx_destroy_pool(pool);

    return 0;
}
