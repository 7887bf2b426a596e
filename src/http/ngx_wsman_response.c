/*
 * ngx_wsman: responses (the SOAP answer or fault, sealed when the request
 * was) and the $wsman_* variables.
 */

#include "ngx_wsman_http_int.h"
#include "ngx_wsman_log.h"


#define NGX_WSMAN_CONTENT_TYPE   "application/soap+xml;charset=UTF-8"
#define NGX_WSMAN_CONTENT_TYPE_CHARSET   "application/soap+xml;charset="


static ngx_int_t ngx_wsman_send_chain(ngx_http_request_t *r,
    ngx_uint_t status, ngx_chain_t *out, off_t length);
static ngx_int_t ngx_wsman_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_wsman_vars[] = {

    { ngx_string("wsman_action"), NULL, ngx_wsman_variable,
      offsetof(ngx_wsman_ctx_t, action), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsman_resource_uri"), NULL, ngx_wsman_variable,
      offsetof(ngx_wsman_ctx_t, resource_uri), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsman_fault"), NULL, ngx_wsman_variable,
      offsetof(ngx_wsman_ctx_t, fault), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsman_user"), NULL, ngx_wsman_variable,
      offsetof(ngx_wsman_ctx_t, auth.identity.user),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* a fault raised by the glue itself, before any plug-in ran */
ngx_int_t
ngx_wsman_send_fault(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_wsman_fault_e id, const char *message)
{
    ngx_wsman_call_init(r, ctx);
    ngx_wsman_call_fault(&ctx->call, id, message);

    return ngx_wsman_send_response(r, ctx);
}


ngx_int_t
ngx_wsman_send_response(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx)
{
    ngx_chain_t                  *out;
    ngx_wsman_xml_t               x;
    ngx_wsman_call_t             *call;
    const ngx_wsman_fault_def_t  *def;

    call = &ctx->call;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman response: fault:%ui body:%O bytes action:\"%V\"",
                   (ngx_uint_t) call->fault.id, call->body.length,
                   &call->action);

    if (ngx_wsman_xml_failed(&call->body)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_wsman_xml_init(&x, r->pool, 1024);

    if (call->fault.id == NGX_WSMAN_FAULT_NONE) {
        ngx_wsman_soap_write_head_extra(&x, &call->action,
                                        &ctx->req.message_id, &call->header);
        ngx_wsman_xml_chain_append(&x, ngx_wsman_xml_chain(&call->body),
                                   call->body.length);
        ngx_wsman_soap_write_tail(&x);

        /* the client's w:MaxEnvelopeSize bounds what we may send back */
        if (ctx->req.max_envelope_size == 0
            || x.length <= (off_t) ctx->req.max_envelope_size)
        {
            out = ngx_wsman_xml_chain(&x);
            if (out == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_wsman_send_chain(r, NGX_HTTP_OK, out, x.length);
        }

        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                             "The response would exceed the request's "
                             "w:MaxEnvelopeSize.");
        ngx_wsman_xml_init(&x, r->pool, 1024);
    }

    def = ngx_wsman_fault_def(call->fault.id);

    ctx->fault.data = (u_char *) def->name;
    ctx->fault.len = ngx_strlen(def->name);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: fault %V for action \"%V\" resource \"%V\" "
                  "user \"%V\" from %V%s%V",
                  &ctx->fault, ngx_wsman_log_escape(r->pool, &ctx->action),
                  ngx_wsman_log_escape(r->pool, &ctx->resource_uri),
                  ngx_wsman_log_escape(r->pool, &ctx->auth.identity.user),
                  &r->connection->addr_text,
                  call->fault.message.len ? ": " : "",
                  ngx_wsman_log_escape(r->pool, &call->fault.message));

    ngx_wsman_fault_write(&x, &call->fault, &ctx->req.message_id, NULL);

    out = ngx_wsman_xml_chain(&x);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_wsman_send_chain(r, def->status, out, x.length);
}


static ngx_int_t
ngx_wsman_send_chain(ngx_http_request_t *r, ngx_uint_t status,
    ngx_chain_t *out, off_t length)
{
    u_char           *p;
    ngx_int_t         rc;
    ngx_chain_t      *cl;
    ngx_wsman_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    ngx_str_set(&r->headers_out.content_type, NGX_WSMAN_CONTENT_TYPE);

    if (ctx && ctx->encoding != NGX_WSMAN_SOAP_UTF8) {
        out = ngx_wsman_xml_utf16(r->pool, out, &length,
                                  ctx->encoding == NGX_WSMAN_SOAP_UTF16BE);
        if (out == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "wsman: the answer could not be encoded as %V",
                          &ctx->charset);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_pnalloc(r->pool, sizeof(NGX_WSMAN_CONTENT_TYPE_CHARSET) - 1
                                 + ctx->charset.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.content_type.data = p;
        p = ngx_cpymem(p, NGX_WSMAN_CONTENT_TYPE_CHARSET,
                       sizeof(NGX_WSMAN_CONTENT_TYPE_CHARSET) - 1);
        p = ngx_cpymem(p, ctx->charset.data, ctx->charset.len);
        r->headers_out.content_type.len = p - r->headers_out.content_type.data;
    }

    /* a sealed request gets a sealed answer, faults included */
    if (ctx && ctx->sealed) {
        if (ngx_wsman_seal(r, ctx, &out, &length) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    for (cl = out; cl->next; cl = cl->next) { /* void */ }

    cl->buf->last_buf = (r == r->main) ? 1 : 0;
    cl->buf->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = length;
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


ngx_int_t
ngx_wsman_send_empty(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}

static ngx_int_t
ngx_wsman_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t        *s;
    ngx_wsman_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((u_char *) ctx + data);

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


ngx_int_t
ngx_wsman_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_wsman_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}

