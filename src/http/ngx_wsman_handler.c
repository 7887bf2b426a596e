/*
 * ngx_wsman: the content handler.  Carries a request through auth, the
 * request checks (method, media type, sizes), the body and soap to
 * dispatch; the answer goes out through ngx_wsman_response.c.
 */

#include "ngx_wsman_http_int.h"
#include "ngx_wsman_log.h"
#include "ngx_wsman_mime.h"
#include "ngx_wsman_sldc.h"


/*
 * The most an unauthenticated client may send: an Identify envelope is a
 * few hundred bytes, and nobody vouches for the sender.
 */
#define NGX_WSMAN_ANONYMOUS_MAX  8192


/* room for the multipart/encrypted framing around a sealed envelope */
#define NGX_WSMAN_SEAL_OVERHEAD  1024


static void ngx_wsman_auth_done(ngx_http_request_t *r, ngx_wsman_auth_t *auth,
    ngx_int_t rc);
static ngx_int_t ngx_wsman_authenticated(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx, ngx_int_t rc);
static ngx_int_t ngx_wsman_check_request(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx);
static void ngx_wsman_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_process(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx);
static ngx_int_t ngx_wsman_is_anonymous_identify(ngx_http_request_t *r);
static ngx_table_elt_t *ngx_wsman_request_header(ngx_http_request_t *r,
    const char *lowcase, size_t len);
static ngx_int_t ngx_wsman_decode_body(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx, ngx_str_t *body);
static void ngx_wsman_anonymous_too_large(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_content_type_ok(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_unsupported_type(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_is_encrypted(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_no_context(ngx_http_request_t *r);
static off_t ngx_wsman_body_limit(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx);
static ngx_int_t ngx_wsman_read_body(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx, ngx_str_t *body);
static void ngx_wsman_call_done(ngx_wsman_call_t *call, ngx_int_t rc);
static void ngx_wsman_call_cleanup(void *data);


ngx_int_t
ngx_wsman_handler(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_table_elt_t       *h;
    ngx_wsman_ctx_t       *ctx;
    ngx_wsman_conn_t      *conn;
    ngx_wsman_loc_conf_t  *lcf;

    if (!(r->method & NGX_HTTP_POST)) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        ngx_str_set(&h->value, "POST");

        return NGX_HTTP_NOT_ALLOWED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_wsman_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_wsman_module);

    /* the only request served without credentials; checked after parsing */
    ctx->anonymous = ngx_wsman_is_anonymous_identify(r);

    if (ctx->anonymous) {
        return ngx_wsman_check_request(r, ctx);
    }

    /* sealed with a context this connection never had (Windows: 400) */
    if (r->headers_in.authorization == NULL && ngx_wsman_is_encrypted(r)) {
        conn = ngx_wsman_conn(r->connection, 0);

        if (conn == NULL || !conn->established) {
            return ngx_wsman_no_context(r);
        }
    }

    ctx->auth.done = ngx_wsman_auth_done;

    rc = ngx_wsman_authenticate(r, lcf, &ctx->auth);

    if (rc == NGX_AGAIN) {
        /* PAM is working in a thread; ngx_wsman_auth_done() goes on */
        r->main->count++;
        return NGX_DONE;
    }

    return ngx_wsman_authenticated(r, ctx, rc);
}


static void
ngx_wsman_auth_done(ngx_http_request_t *r, ngx_wsman_auth_t *auth,
    ngx_int_t rc)
{
    ngx_wsman_ctx_t   *ctx;
    ngx_connection_t  *c;

    c = r->connection;

    if (c->error) {
        /* terminated while the thread worked (its task kept it) */
        ngx_http_finalize_request(r, NGX_ERROR);

    } else {
        ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

        rc = ngx_wsman_authenticated(r, ctx, rc);

        /* NGX_DONE here also releases the reference taken for the
         * thread */
        ngx_http_finalize_request(r, rc);
    }

    /* as after any event: a termination is a posted request */
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_wsman_authenticated(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_int_t rc)
{
    ngx_wsman_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman auth: rc:%i user:\"%V\" anonymous:%ui", rc,
                   ngx_wsman_log_escape(r->pool, &ctx->auth.identity.user),
                   (ngx_uint_t) ctx->anonymous);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* PAM's thread pool is full: try again later */
    if (rc == NGX_BUSY) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (rc != NGX_OK) {
        return ngx_wsman_auth_challenge(r, lcf, &ctx->auth);
    }

    /* Kerberos mutual authentication: our AP-REP rides on the answer */
    if (ngx_wsman_auth_mutual(r, &ctx->auth) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_wsman_check_request(r, ctx);
}


/* media type, sealing and size: everything known before the body */
static ngx_int_t
ngx_wsman_check_request(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx)
{
    ngx_int_t              rc;
    ngx_wsman_conn_t      *conn;
    ngx_wsman_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    rc = NGX_DECLINED;

    if (r->headers_in.content_type) {
        rc = ngx_wsman_mime_content_type(&r->headers_in.content_type->value,
                                         &ctx->protocol, &ctx->boundary);
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: unusable multipart/encrypted Content-Type "
                      "from %V", &r->connection->addr_text);
        return NGX_HTTP_BAD_REQUEST;
    }

    if (rc == NGX_OK) {
        /* sealed with a context this connection does not have */
        conn = ngx_wsman_conn(r->connection, 0);

        if (ctx->anonymous || conn == NULL || !conn->established
            || !ctx->auth.connection)
        {
            return ngx_wsman_no_context(r);
        }

        ctx->sealed = conn;

    } else {
        ngx_str_null(&ctx->protocol);

        if (r->headers_in.content_type) {
            ngx_wsman_set_charset(ctx, &r->headers_in.content_type->value);
        }

        /* chunked bodies are checked once read: an empty one needs no type */
        if (r->headers_in.content_length_n > 0
            && !ngx_wsman_content_type_ok(r))
        {
            return ngx_wsman_unsupported_type(r);
        }

        /* AllowUnencrypted=false: a Negotiate/Kerberos session over plain
         * HTTP must seal its messages */
        if (ctx->auth.connection && !lcf->allow_unencrypted
            && !ngx_wsman_connection_is_tls(r->connection)
            && (r->headers_in.content_length_n > 0
                || r->headers_in.chunked))
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "wsman: unencrypted request from user \"%V\" at "
                          "%V refused (wsman_allow_unencrypted off)",
                          ngx_wsman_log_escape(r->pool,
                                               &ctx->auth.identity.user),
                          &r->connection->addr_text);
            return ngx_wsman_auth_challenge(r, lcf, NULL);
        }
    }

    /* refuse what is known to be too large before reading any of it */
    if (r->headers_in.content_length_n > ngx_wsman_body_limit(r, ctx)) {
        if (ctx->anonymous) {
            ngx_wsman_anonymous_too_large(r);
        }

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        ctx->sealed = NULL;

        return ngx_wsman_send_fault(r, ctx, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                    "The request is larger than "
                                    "MaxEnvelopeSizekb.");
    }

    rc = ngx_http_read_client_request_body(r, ngx_wsman_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_wsman_body_handler(ngx_http_request_t *r)
{
    ngx_wsman_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    ngx_http_finalize_request(r, ngx_wsman_process(r, ctx));
}


static ngx_int_t
ngx_wsman_process(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_http_cleanup_t       *cln;
    ngx_str_t                 body;
    ngx_wsman_fault_t         fault;
    ngx_wsman_loc_conf_t     *lcf;
    ngx_wsman_soap_limits_t   limits;

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    rc = ngx_wsman_read_body(r, ctx, &body);

    if (rc == NGX_DECLINED) {
        /* never unwrapped: a sealed fault would put the session's
         * sequence numbers out of step */
        ctx->sealed = NULL;
    }

    if (rc == NGX_OK && ctx->sealed && body.len) {
        rc = ngx_wsman_unseal(r, ctx, &body);

        if (rc == NGX_DECLINED) {
            /* a broken seal: nothing can be answered sealed either */
            ctx->sealed = NULL;
            return NGX_HTTP_BAD_REQUEST;
        }

        if (rc == NGX_DONE) {
            /* a good seal around too much: the fault below goes back
             * sealed, which keeps the session's sequence in step */
            rc = NGX_DECLINED;
        }
    }

    if (rc == NGX_OK && body.len) {
        /* SLDC goes on before the seal (event sources): it comes off
         * after it */
        rc = ngx_wsman_decode_body(r, ctx, &body);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        if (ctx->anonymous) {
            ngx_wsman_anonymous_too_large(r);
        }

        return ngx_wsman_send_fault(r, ctx, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                    "The request is larger than "
                                    "MaxEnvelopeSizekb.");
    }

    if (body.len && ctx->sealed == NULL && !ngx_wsman_content_type_ok(r)) {
        return ngx_wsman_unsupported_type(r);
    }

    /* no charset named: a UTF-16 byte order mark speaks for the client */
    if (!ctx->charset_given && body.len >= 2) {
        if (body.data[0] == 0xff && body.data[1] == 0xfe) {
            ctx->encoding = NGX_WSMAN_SOAP_UTF16LE;
            ngx_str_set(&ctx->charset, "UTF-16");

        } else if (body.data[0] == 0xfe && body.data[1] == 0xff) {
            ctx->encoding = NGX_WSMAN_SOAP_UTF16BE;
            ngx_str_set(&ctx->charset, "UTF-16BE");
        }
    }

    /* clients finish authentication with an empty POST (pywinrm, pypsrp) */
    if (body.len == 0) {
        if (ctx->anonymous) {
            return ngx_wsman_auth_challenge(r, lcf, NULL);
        }

        return ngx_wsman_send_empty(r);
    }

    limits.max_depth = NGX_WSMAN_SOAP_MAX_DEPTH;
    limits.max_timeout = lcf->max_timeout;

    rc = ngx_wsman_soap_parse(r->pool, r->connection->log, body.data,
                              body.len, &limits, &ctx->req, &fault);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman parse: rc:%i %uz bytes action:\"%V\" "
                   "resource:\"%V\"", rc, body.len,
                   ngx_wsman_log_escape(r->pool, &ctx->req.action),
                   ngx_wsman_log_escape(r->pool, &ctx->req.resource_uri));

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->req.utf16_replaced) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: %ui invalid UTF-16 code unit(s) from %V "
                      "replaced by U+FFFD", ctx->req.utf16_replaced,
                      &r->connection->addr_text);
    }

    if (ctx->anonymous && (rc != NGX_OK || !ctx->req.identify)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: unauthenticated request from %V is not an "
                      "Identify", &r->connection->addr_text);
        return ngx_wsman_auth_challenge(r, lcf, NULL);
    }

    ctx->action = ctx->req.action;
    ctx->resource_uri = ctx->req.resource_uri;

    /*
     * Answers are built and measured in UTF-8; w:MaxEnvelopeSize counts
     * what the client gets.  UTF-16 takes at most twice the bytes (ASCII
     * exactly twice), and the BOM two more.
     */
    if (ctx->encoding != NGX_WSMAN_SOAP_UTF8
        && ctx->req.max_envelope_size > 2)
    {
        ctx->req.max_envelope_size = (ctx->req.max_envelope_size - 2) / 2;
    }

    ngx_wsman_call_init(r, ctx);

    if (rc == NGX_DECLINED) {
        ctx->call.fault = fault;
        return ngx_wsman_send_response(r, ctx);
    }

    rc = ngx_wsman_dispatch(&ctx->call);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman dispatch: rc:%i", rc);

    if (rc == NGX_AGAIN) {
        /*
         * The plug-in answers later through ngx_wsman_call_done(); this
         * reference keeps the request until then (finalizing with
         * NGX_DONE below drops the one body reading took).
         */
        r->main->count++;

        /* a client that leaves a long poll ends the wait (and its hold on
         * the output) at once */
        cln = ngx_http_cleanup_add(r, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_wsman_call_cleanup;
        cln->data = &ctx->call;

        r->read_event_handler = ngx_http_test_reading;

        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        ngx_wsman_call_fault(&ctx->call, NGX_WSMAN_FAULT_INTERNAL_ERROR,
                             NULL);
    }

    return ngx_wsman_send_response(r, ctx);
}


static ngx_int_t
ngx_wsman_is_anonymous_identify(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_wsman_request_header(r, "wsmanidentify",
                                 sizeof("wsmanidentify") - 1);

    /* values are tried byte for byte first (clients send them so) */
    return h != NULL
           && h->value.len == sizeof("unauthenticated") - 1
           && (ngx_memcmp(h->value.data, "unauthenticated",
                          h->value.len) == 0
               || ngx_strncasecmp(h->value.data,
                                  (u_char *) "unauthenticated",
                                  h->value.len) == 0);
}


/* the first request header of this name (NULL: none) */
static ngx_table_elt_t *
ngx_wsman_request_header(ngx_http_request_t *r, const char *lowcase,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        /* nginx keeps every name in lower case too */
        if (h[i].key.len == len
            && ngx_memcmp(h[i].lowcase_key, lowcase, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * Content-Encoding: SLDC, which Windows event sources apply to the
 * envelope (inside the seal).  NGX_OK (body replaced when it was
 * compressed), NGX_DECLINED (larger than wsman_max_envelope_size once
 * decoded), an HTTP status for a stream that does not decode or an
 * encoding we do not know, NGX_ERROR.
 */
static ngx_int_t
ngx_wsman_decode_body(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_str_t *body)
{
    ngx_int_t              rc;
    ngx_str_t              out;
    ngx_uint_t             error;
    const char            *reason;
    ngx_table_elt_t       *h;
    ngx_wsman_loc_conf_t  *lcf;

    h = ngx_wsman_request_header(r, "content-encoding",
                                 sizeof("content-encoding") - 1);

    if (h == NULL
        || (h->value.len == sizeof("identity") - 1
            && ngx_strncasecmp(h->value.data, (u_char *) "identity",
                               h->value.len) == 0))
    {
        return NGX_OK;
    }

    if (h->value.len != sizeof("SLDC") - 1
        || ngx_strncasecmp(h->value.data, (u_char *) "SLDC", 4) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: unsupported Content-Encoding \"%V\" from %V",
                      ngx_wsman_log_escape(r->pool, &h->value),
                      &r->connection->addr_text);
        ctx->sealed = NULL;
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    /* Windows sometimes announces SLDC and sends the text as it is */
    if (!ngx_wsman_sldc_looks_compressed(body)) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsman: SLDC announced, body not compressed");
        return NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    rc = ngx_wsman_sldc_decompress(r->pool, body,
                                   ctx->anonymous
                                   ? NGX_WSMAN_ANONYMOUS_MAX
                                   : lcf->max_envelope_size,
                                   &out, &error, &reason);

    if (rc == NGX_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsman: SLDC %uz -> %uz bytes", body->len, out.len);
        *body = out;
        return NGX_OK;
    }

    if (rc == NGX_WSMAN_SLDC_TOO_LARGE) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: SLDC body from %V decodes to more than "
                      "wsman_max_envelope_size", &r->connection->addr_text);
        return NGX_DECLINED;
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: SLDC body from %V does not decode (%s)",
                  &r->connection->addr_text, reason);

    /* the seal was fine, but nothing inside can be read */
    ctx->sealed = NULL;

    return NGX_HTTP_BAD_REQUEST;
}


static void
ngx_wsman_anonymous_too_large(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: unauthenticated request from %V is larger than "
                  "%d bytes", &r->connection->addr_text,
                  NGX_WSMAN_ANONYMOUS_MAX);
}


/*
 * The answer goes back in the request's encoding, as Windows does it:
 * openwsman's `wsman -j UTF-16` and Windows Event Forwarding sources send
 * charset=UTF-16 and read the answer so.  Anything else is answered in
 * UTF-8.
 */
void
ngx_wsman_set_charset(ngx_wsman_ctx_t *ctx, ngx_str_t *type)
{
    ngx_str_t  charset;

    if (ngx_wsman_mime_charset(type, &charset) != NGX_OK) {
        return;
    }

    ctx->charset_given = 1;

    if ((charset.len == sizeof("UTF-16") - 1
         && ngx_strncasecmp(charset.data, (u_char *) "UTF-16", charset.len)
            == 0)
        || (charset.len == sizeof("UTF-16LE") - 1
            && ngx_strncasecmp(charset.data, (u_char *) "UTF-16LE",
                               charset.len) == 0))
    {
        ctx->encoding = NGX_WSMAN_SOAP_UTF16LE;
        ctx->charset.data = (charset.len == sizeof("UTF-16") - 1)
                            ? (u_char *) "UTF-16" : (u_char *) "UTF-16LE";
        ctx->charset.len = charset.len;
        return;
    }

    if (charset.len == sizeof("UTF-16BE") - 1
        && ngx_strncasecmp(charset.data, (u_char *) "UTF-16BE", charset.len)
           == 0)
    {
        ctx->encoding = NGX_WSMAN_SOAP_UTF16BE;
        ngx_str_set(&ctx->charset, "UTF-16BE");
        return;
    }

    ctx->encoding = NGX_WSMAN_SOAP_UTF8;
    ngx_str_null(&ctx->charset);
}


static ngx_int_t
ngx_wsman_is_encrypted(ngx_http_request_t *r)
{
    ngx_str_t  protocol, boundary;

    return r->headers_in.content_type
           && ngx_wsman_mime_content_type(&r->headers_in.content_type->value,
                                          &protocol, &boundary)
              == NGX_OK;
}


/* sealed with a context this connection does not have (Windows: 400) */
static ngx_int_t
ngx_wsman_no_context(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: encrypted request from %V without a security "
                  "context on the connection", &r->connection->addr_text);

    return NGX_HTTP_BAD_REQUEST;
}


static ngx_int_t
ngx_wsman_unsupported_type(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: unsupported Content-Type from %V",
                  &r->connection->addr_text);

    return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
}


/* application/soap+xml (any parameters) or text/xml */
static ngx_int_t
ngx_wsman_content_type_ok(ngx_http_request_t *r)
{
    size_t      len;
    ngx_str_t  *type;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    type = &r->headers_in.content_type->value;

    len = sizeof("application/soap+xml") - 1;

    /* clients write it in lower case: no ngx_strncasecmp() for them */
    if (type->len >= len
        && (ngx_memcmp(type->data, "application/soap+xml", len) == 0
            || ngx_strncasecmp(type->data, (u_char *) "application/soap+xml",
                               len) == 0)
        && (type->len == len || type->data[len] == ';'
            || type->data[len] == ' '))
    {
        return 1;
    }

    len = sizeof("text/xml") - 1;

    return type->len >= len
           && ngx_strncasecmp(type->data, (u_char *) "text/xml", len) == 0
           && (type->len == len || type->data[len] == ';'
               || type->data[len] == ' ');
}


/*
 * The most body this request may bring: the envelope limit, room for the
 * framing when it is sealed, and NGX_WSMAN_ANONYMOUS_MAX without
 * credentials.
 */
static off_t
ngx_wsman_body_limit(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx)
{
    off_t                  limit;
    ngx_wsman_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    limit = (off_t) lcf->max_envelope_size
            + (ctx->sealed ? NGX_WSMAN_SEAL_OVERHEAD : 0);

    if (ctx->anonymous && limit > NGX_WSMAN_ANONYMOUS_MAX) {
        limit = NGX_WSMAN_ANONYMOUS_MAX;
    }

    return limit;
}


/*
 * The body as one piece of memory, wherever nginx kept it (memory or a
 * temporary file).  NGX_DECLINED: larger than wsman_max_envelope_size
 * (chunked bodies learn their size only here).
 */
static ngx_int_t
ngx_wsman_read_body(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_str_t *body)
{
    off_t         len;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    if (len > ngx_wsman_body_limit(r, ctx)) {
        return NGX_DECLINED;
    }

    b = r->request_body->bufs->buf;

    if (r->request_body->bufs->next == NULL && !b->in_file) {
        body->data = b->pos;
        body->len = (size_t) len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        /* chunked bodies end with an empty buffer that has no memory */
        if (ngx_buf_size(b) == 0) {
            continue;
        }

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "wsman: could not read the request body from "
                          "\"%V\"", &b->file->name);
            return NGX_ERROR;
        }

        p += n;
    }

    body->len = p - body->data;

    return NGX_OK;
}


void
ngx_wsman_call_init(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx)
{
    ngx_wsman_call_t  *call;

    call = &ctx->call;

    call->pool = r->pool;
    call->log = r->connection->log;
    call->req = &ctx->req;
    call->identity = &ctx->auth.identity;
    call->conf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);
    call->loc_conf = r->loc_conf;
    call->client_addr = r->connection->addr_text;
    call->tls = ngx_wsman_connection_is_tls(r->connection) ? 1 : 0;
    call->anonymous = ctx->anonymous;
    call->done = ngx_wsman_call_done;
    call->data = r;

    if (r->headers_in.host) {
        call->host = r->headers_in.host->value;
    }

    ngx_wsman_xml_init(&call->body, r->pool, 4096);
}


static void
ngx_wsman_call_cleanup(void *data)
{
    ngx_wsman_call_t  *call = data;

    if (call->abort) {
        call->abort(call);
        call->abort = NULL;
    }
}


static void
ngx_wsman_call_done(ngx_wsman_call_t *call, ngx_int_t rc)
{
    ngx_http_request_t  *r;
    ngx_wsman_ctx_t     *ctx;

    r = call->data;
    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    if (rc != NGX_OK) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INTERNAL_ERROR, NULL);
    }

    ngx_http_finalize_request(r, ngx_wsman_send_response(r, ctx));
}
