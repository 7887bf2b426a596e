/*
 * The redis output of the event collector: every event one XADD entry of
 * a Redis stream (fields source, subscription, machine, event), a whole
 * batch pipelined on one connection per worker.
 *
 *   output redis HOST:PORT|unix:/path stream=NAME [maxlen=N]
 *                [user=NAME] [password=...] [format=json|xml] [timeout=3s];
 *
 * The stream name may hold $subscription and $source.  "Durable" is
 * Redis' own promise: an XADD reply means the server has the entry (in
 * memory, then in its AOF/RDB as Redis is configured).
 */

#include "ngx_wsman_wec_sink.h"

#include <hiredis/hiredis.h>


#define NGX_WSMAN_WEC_REDIS_JSON  0
#define NGX_WSMAN_WEC_REDIS_XML   1

/* XADD key [MAXLEN ~ N] * source S subscription S machine M event E */
#define NGX_WSMAN_WEC_REDIS_ARGS  14


typedef struct {
    char                      *host;         /* NUL-terminated; NULL:
                                                unix socket */
    int                        port;
    char                      *path;         /* unix:/path */
    ngx_str_t                  stream;       /* a template */
    ngx_str_t                  maxlen;       /* digits, or empty */
    ngx_str_t                  user;
    ngx_str_t                  password;
    ngx_uint_t                 format;
    ngx_msec_t                 timeout;
} ngx_wsman_wec_redis_conf_t;


static char *ngx_wsman_wec_redis_configure(ngx_conf_t *cf,
    ngx_wsman_wec_output_t *out, ngx_str_t *args, ngx_uint_t nargs);
static char *ngx_wsman_wec_redis_address(ngx_conf_t *cf,
    ngx_wsman_wec_redis_conf_t *rcf, ngx_str_t *addr);
static ngx_int_t ngx_wsman_wec_redis_template(ngx_str_t *tpl,
    ngx_wsman_wec_batch_t *batch, ngx_str_t *res);
static redisContext *ngx_wsman_wec_redis_connect(ngx_wsman_wec_output_t *out,
    ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_redis_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *batch);
static ngx_int_t ngx_wsman_wec_redis_send(ngx_wsman_wec_output_t *out,
    redisContext *c, ngx_wsman_wec_batch_t *batch, ngx_str_t *stream,
    const char **argv, size_t *argvlen, ngx_uint_t n, ngx_uint_t *gone);
static void ngx_wsman_wec_redis_close(ngx_wsman_wec_output_t *out);


ngx_wsman_wec_output_type_t  ngx_wsman_wec_redis_output = {
    ngx_string("redis"),
    ngx_wsman_wec_redis_configure,
    ngx_wsman_wec_redis_write,
    NULL,
    ngx_wsman_wec_redis_close
};


#define ngx_wsman_wec_redis_opt(a, s)                                       \
    ((a)->len >= sizeof(s) - 1                                              \
     && ngx_strncmp((a)->data, s, sizeof(s) - 1) == 0)


static char *
ngx_wsman_wec_redis_configure(ngx_conf_t *cf, ngx_wsman_wec_output_t *out,
    ngx_str_t *args, ngx_uint_t nargs)
{
    u_char                      *p, *last;
    ngx_int_t                    n;
    ngx_str_t                    v, name;
    ngx_uint_t                   i;
    ngx_wsman_wec_redis_conf_t  *rcf;

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_wec_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    rcf->format = NGX_WSMAN_WEC_REDIS_JSON;
    rcf->timeout = 3000;

    if (ngx_wsman_wec_redis_address(cf, rcf, &args[1]) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < nargs; i++) {

        p = ngx_strlchr(args[i].data, args[i].data + args[i].len, '=');
        if (p == NULL) {
            goto invalid;
        }

        v.data = p + 1;
        v.len = args[i].data + args[i].len - v.data;

        if (ngx_wsman_wec_redis_opt(&args[i], "stream=")) {
            /* $subscription and $source only: a typo is not a name */
            last = v.data + v.len;

            for (p = v.data; p < last; p++) {
                if (*p != '$') {
                    continue;
                }

                name.data = p + 1;
                name.len = last - name.data;

                if (name.len >= sizeof("subscription") - 1
                    && ngx_strncmp(name.data, "subscription",
                                   sizeof("subscription") - 1) == 0)
                {
                    p += sizeof("subscription") - 1;

                } else if (name.len >= sizeof("source") - 1
                           && ngx_strncmp(name.data, "source",
                                          sizeof("source") - 1) == 0)
                {
                    p += sizeof("source") - 1;

                } else {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "redis output \"%V\": the stream "
                                       "name may use $subscription and "
                                       "$source only", &out->target);
                    return NGX_CONF_ERROR;
                }
            }

            rcf->stream = v;

        } else if (ngx_wsman_wec_redis_opt(&args[i], "maxlen=")) {
            n = ngx_atoi(v.data, v.len);
            if (n == NGX_ERROR || n < 1) {
                goto invalid;
            }

            rcf->maxlen = v;

        } else if (ngx_wsman_wec_redis_opt(&args[i], "user=")) {
            rcf->user = v;

        } else if (ngx_wsman_wec_redis_opt(&args[i], "password=")) {
            rcf->password = v;

        } else if (ngx_wsman_wec_redis_opt(&args[i], "format=")) {
            if (v.len == 4 && ngx_strncmp(v.data, "json", 4) == 0) {
                rcf->format = NGX_WSMAN_WEC_REDIS_JSON;

            } else if (v.len == 3 && ngx_strncmp(v.data, "xml", 3) == 0) {
                rcf->format = NGX_WSMAN_WEC_REDIS_XML;

            } else {
                goto invalid;
            }

        } else if (ngx_wsman_wec_redis_opt(&args[i], "timeout=")) {
            rcf->timeout = ngx_parse_time(&v, 0);

            /* an hour would hold a pool thread that long */
            if (rcf->timeout == (ngx_msec_t) NGX_ERROR
                || rcf->timeout == 0 || rcf->timeout > 300000)
            {
                goto invalid;
            }

        } else {
            goto invalid;
        }
    }

    if (rcf->stream.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis output \"%V\" needs stream=NAME",
                           &out->target);
        return NGX_CONF_ERROR;
    }

    if (rcf->user.len && rcf->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis output \"%V\": user= needs password=",
                           &out->target);
        return NGX_CONF_ERROR;
    }

    out->conf = rcf;

    return NGX_CONF_OK;

invalid:

    /* the value may be a password: name the setting only */
    p = ngx_strlchr(args[i].data, args[i].data + args[i].len, '=');

    name.data = args[i].data;
    name.len = p ? (size_t) (p - args[i].data) : args[i].len;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "redis output \"%V\": invalid setting \"%V\"",
                       &out->target, &name);
    return NGX_CONF_ERROR;
}


/* HOST:PORT, [IPv6]:PORT, HOST (port 6379) or unix:/path */
static char *
ngx_wsman_wec_redis_address(ngx_conf_t *cf, ngx_wsman_wec_redis_conf_t *rcf,
    ngx_str_t *addr)
{
    u_char     *p, *last, *colon;
    ngx_int_t   n;
    ngx_str_t   host;

    p = addr->data;
    last = p + addr->len;

    if (addr->len > 5 && ngx_strncmp(p, "unix:", 5) == 0) {
        rcf->path = ngx_pnalloc(cf->pool, addr->len - 5 + 1);
        if (rcf->path == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn((u_char *) rcf->path, p + 5, addr->len - 5 + 1);
        return NGX_CONF_OK;
    }

    if (addr->len && *p == '[') {
        colon = ngx_strlchr(p, last, ']');
        if (colon == NULL || colon == p + 1) {
            goto invalid;
        }

        host.data = p + 1;
        host.len = colon - host.data;
        colon++;

        if (colon != last && *colon != ':') {
            goto invalid;
        }

    } else {
        colon = ngx_strlchr(p, last, ':');

        host.data = p;
        host.len = (colon ? colon : last) - p;

        if (colon == NULL) {
            colon = last;
        }
    }

    if (host.len == 0) {
        goto invalid;
    }

    rcf->port = 6379;

    if (colon != last) {
        n = ngx_atoi(colon + 1, last - colon - 1);
        if (n == NGX_ERROR || n < 1 || n > 65535) {
            goto invalid;
        }

        rcf->port = (int) n;
    }

    rcf->host = ngx_pnalloc(cf->pool, host.len + 1);
    if (rcf->host == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn((u_char *) rcf->host, host.data, host.len + 1);

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "redis output: invalid address \"%V\" (HOST:PORT "
                       "or unix:/path)", addr);
    return NGX_CONF_ERROR;
}


/* the stream name of a batch: $subscription and $source replaced */
static ngx_int_t
ngx_wsman_wec_redis_template(ngx_str_t *tpl, ngx_wsman_wec_batch_t *batch,
    ngx_str_t *res)
{
    u_char     *p, *last, *d;
    size_t      len, skip;
    ngx_str_t   val;
    ngx_uint_t  pass;

    d = NULL;
    len = 0;
    last = tpl->data + tpl->len;

    /* the first pass measures, the second copies */
    for (pass = 0; pass < 2; pass++) {

        for (p = tpl->data; p < last; p += skip) {

            /* configure() let no other $name through */
            if (*p == '$'
                && (size_t) (last - p) > sizeof("subscription") - 1
                && ngx_strncmp(p + 1, "subscription",
                               sizeof("subscription") - 1) == 0)
            {
                val = batch->subscription;
                skip = sizeof("subscription");

            } else if (*p == '$'
                       && (size_t) (last - p) > sizeof("source") - 1
                       && ngx_strncmp(p + 1, "source",
                                      sizeof("source") - 1) == 0)
            {
                val = batch->source;
                skip = sizeof("source");

            } else {
                val.data = p;
                val.len = 1;
                skip = 1;
            }

            if (pass == 0) {
                len += val.len;

            } else {
                d = ngx_cpymem(d, val.data, val.len);
            }
        }

        if (pass == 0) {
            d = ngx_pnalloc(batch->pool, len + 1);
            if (d == NULL) {
                return NGX_ERROR;
            }

            res->data = d;
            res->len = len;
        }
    }

    *d = '\0';

    return NGX_OK;
}


static redisContext *
ngx_wsman_wec_redis_connect(ngx_wsman_wec_output_t *out, ngx_log_t *log)
{
    ngx_wsman_wec_redis_conf_t *rcf = out->conf;

    size_t           argvlen[3];
    const char      *argv[3];
    redisReply      *reply;
    redisContext    *c;
    struct timeval   tv;

    tv.tv_sec = rcf->timeout / 1000;
    tv.tv_usec = (rcf->timeout % 1000) * 1000;

    if (rcf->path) {
        c = redisConnectUnixWithTimeout(rcf->path, tv);

    } else {
        c = redisConnectWithTimeout(rcf->host, rcf->port, tv);
    }

    if (c == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wec redis output \"%V\": no memory for a "
                      "connection", &out->target);
        return NULL;
    }

    if (c->err) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wec redis output \"%V\": connect failed: %s",
                      &out->target, c->errstr);
        redisFree(c);
        return NULL;
    }

    /* every read and write of the connection, not only the connect */
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wec redis output \"%V\": cannot set the timeout: %s",
                      &out->target, c->errstr);
        redisFree(c);
        return NULL;
    }

    if (rcf->path == NULL) {
        (void) redisEnableKeepAlive(c);
    }

    if (rcf->password.len == 0) {
        return c;
    }

    argv[0] = "AUTH";
    argvlen[0] = sizeof("AUTH") - 1;

    if (rcf->user.len) {
        argv[1] = (const char *) rcf->user.data;
        argvlen[1] = rcf->user.len;
        argv[2] = (const char *) rcf->password.data;
        argvlen[2] = rcf->password.len;

    } else {
        argv[1] = (const char *) rcf->password.data;
        argvlen[1] = rcf->password.len;
    }

    reply = redisCommandArgv(c, rcf->user.len ? 3 : 2, argv, argvlen);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wec redis output \"%V\": AUTH failed: %s",
                      &out->target,
                      reply ? reply->str : c->errstr);

        if (reply) {
            freeReplyObject(reply);
        }

        redisFree(c);
        return NULL;
    }

    freeReplyObject(reply);

    return c;
}


static ngx_int_t
ngx_wsman_wec_redis_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *batch)
{
    ngx_wsman_wec_redis_conf_t *rcf = out->conf;

    size_t         argvlen[NGX_WSMAN_WEC_REDIS_ARGS];
    ngx_int_t      rc;
    ngx_str_t      stream;
    ngx_uint_t     n, fresh, gone;
    const char    *argv[NGX_WSMAN_WEC_REDIS_ARGS];
    redisContext  *c;

    if (ngx_wsman_wec_redis_template(&rcf->stream, batch, &stream)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the same for every entry of the batch */
    n = 0;

#define ngx_wsman_wec_redis_arg(s, l)                                       \
    argv[n] = (const char *) (s); argvlen[n] = (l); n++

    ngx_wsman_wec_redis_arg("XADD", 4);
    ngx_wsman_wec_redis_arg(stream.data, stream.len);

    if (rcf->maxlen.len) {
        /* "~": Redis trims whole nodes, cheaply, to at least N */
        ngx_wsman_wec_redis_arg("MAXLEN", 6);
        ngx_wsman_wec_redis_arg("~", 1);
        ngx_wsman_wec_redis_arg(rcf->maxlen.data, rcf->maxlen.len);
    }

    ngx_wsman_wec_redis_arg("*", 1);
    ngx_wsman_wec_redis_arg("source", 6);
    ngx_wsman_wec_redis_arg(batch->source.data, batch->source.len);
    ngx_wsman_wec_redis_arg("subscription", 12);
    ngx_wsman_wec_redis_arg(batch->subscription.data,
                            batch->subscription.len);
    ngx_wsman_wec_redis_arg("machine", 7);
    ngx_wsman_wec_redis_arg(batch->machine.data, batch->machine.len);
    ngx_wsman_wec_redis_arg("event", 5);
    n++;

#undef ngx_wsman_wec_redis_arg

    pthread_mutex_lock(&out->lock);

    c = out->state;
    fresh = 0;

    for ( ;; ) {

        if (c == NULL) {
            c = ngx_wsman_wec_redis_connect(out, batch->log);
            if (c == NULL) {
                rc = NGX_ERROR;
                break;
            }

            out->state = c;
            fresh = 1;
        }

        rc = ngx_wsman_wec_redis_send(out, c, batch, &stream, argv, argvlen,
                                      n, &gone);
        if (rc == NGX_OK) {
            break;
        }

        /* replies may still be on the way: a new connection next time */
        redisFree(c);
        out->state = NULL;
        c = NULL;

        /*
         * a kept connection the server closed while idle (a restart, its
         * timeout) fails at the first reply: once more on a new one
         */
        if (fresh || !gone) {
            break;
        }

        ngx_log_error(NGX_LOG_NOTICE, batch->log, 0,
                      "wec redis output \"%V\": the kept connection is "
                      "gone, trying a new one", &out->target);
    }

    pthread_mutex_unlock(&out->lock);

    return rc;
}


/* the batch as pipelined XADDs on c; *gone: the server had closed c
 * before the first reply */
static ngx_int_t
ngx_wsman_wec_redis_send(ngx_wsman_wec_output_t *out, redisContext *c,
    ngx_wsman_wec_batch_t *batch, ngx_str_t *stream, const char **argv,
    size_t *argvlen, ngx_uint_t n, ngx_uint_t *gone)
{
    ngx_wsman_wec_redis_conf_t *rcf = out->conf;

    void                   *r;
    ngx_err_t               err;
    ngx_str_t              *ev;
    ngx_uint_t              i;
    redisReply             *reply;
    ngx_wsman_wec_event_t  *e;

    *gone = 0;

    /* the whole batch in one go: one round trip, not one per event */
    for (i = 0; i < batch->nevents; i++) {
        e = &batch->events[i];
        ev = (rcf->format == NGX_WSMAN_WEC_REDIS_XML) ? &e->xml : &e->json;

        argv[n - 1] = (const char *) ev->data;
        argvlen[n - 1] = ev->len;

        if (redisAppendCommandArgv(c, (int) n, argv, argvlen) != REDIS_OK) {
            ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                          "wec redis output \"%V\": %s", &out->target,
                          c->errstr);
            return NGX_ERROR;
        }
    }

    for (i = 0; i < batch->nevents; i++) {
        r = NULL;

        if (redisGetReply(c, &r) != REDIS_OK || r == NULL) {
            err = ngx_errno;

            /* not a timeout: that would only come again */
            *gone = (i == 0
                     && (c->err == REDIS_ERR_EOF
                         || (c->err == REDIS_ERR_IO
                             && (err == NGX_ECONNRESET || err == NGX_EPIPE))));

            ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                          "wec redis output \"%V\": XADD to \"%V\" failed "
                          "after %ui of %ui events: %s", &out->target,
                          stream, i, batch->nevents,
                          c->err ? c->errstr : "no reply");
            return NGX_ERROR;
        }

        reply = r;

        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                          "wec redis output \"%V\": XADD to \"%V\": %*s",
                          &out->target, stream, (size_t) reply->len,
                          reply->str);
            freeReplyObject(reply);
            return NGX_ERROR;
        }

        freeReplyObject(reply);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, batch->log, 0,
                   "wec redis output \"%V\": %ui events to \"%V\"",
                   &out->target, batch->nevents, stream);

    return NGX_OK;
}


static void
ngx_wsman_wec_redis_close(ngx_wsman_wec_output_t *out)
{
    pthread_mutex_lock(&out->lock);

    if (out->state) {
        redisFree(out->state);
        out->state = NULL;
    }

    pthread_mutex_unlock(&out->lock);
}
