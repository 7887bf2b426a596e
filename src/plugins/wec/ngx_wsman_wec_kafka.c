/*
 * The kafka output of the event collector: every event one message of a
 * Kafka topic, keyed by the source principal (one machine's events stay
 * in order in one partition), produced by one librdkafka producer per
 * worker.
 *
 *   output kafka BROKER[,BROKER] topic=NAME [format=json|xml]
 *                [timeout=10s] [NAME=VALUE ...];
 *
 * Other NAME=VALUE pairs are librdkafka properties (security.protocol,
 * ssl.ca.location, sasl.mechanism, ...).  acks=all and
 * enable.idempotence=true unless they say otherwise.  A batch is written
 * when every message's delivery report says so: a timeout or an error
 * fails the batch and the source sends it again (at least once).
 */

#include "ngx_wsman_wec_sink.h"

#include <librdkafka/rdkafka.h>


#define NGX_WSMAN_WEC_KAFKA_JSON  0
#define NGX_WSMAN_WEC_KAFKA_XML   1


typedef struct {
    char                      *name;
    char                      *value;
} ngx_wsman_wec_kafka_prop_t;


typedef struct {
    char                      *brokers;
    char                      *topic;
    ngx_uint_t                 format;
    ngx_msec_t                 timeout;
    ngx_array_t               *props;        /* the user's, in order */
} ngx_wsman_wec_kafka_conf_t;


/* the worker's producer */
typedef struct {
    rd_kafka_t                *rk;
    ngx_log_t                 *log;
    ngx_uint_t                 users;        /* write()s using rk now */
    unsigned                   fatal:1;      /* a new producer is due */
} ngx_wsman_wec_kafka_state_t;


/*
 * One write()'s messages.  Delivery reports may come after write() gave
 * up (a timeout): the tracker lives until the last of them, so it is
 * malloc()ed and counted, not in the batch's pool.
 */
typedef struct {
    pthread_mutex_t            mutex;
    ngx_uint_t                 refs;         /* messages out + write() */
    ngx_uint_t                 pending;      /* reports not yet in */
    ngx_uint_t                 failed;
    rd_kafka_resp_err_t        err;          /* the first failure */
} ngx_wsman_wec_kafka_tracker_t;


static char *ngx_wsman_wec_kafka_configure(ngx_conf_t *cf,
    ngx_wsman_wec_output_t *out, ngx_str_t *args, ngx_uint_t nargs);
static rd_kafka_conf_t *ngx_wsman_wec_kafka_conf(
    ngx_wsman_wec_kafka_conf_t *kcf, char *err, size_t size);
static ngx_wsman_wec_kafka_state_t *ngx_wsman_wec_kafka_producer(
    ngx_wsman_wec_output_t *out, ngx_log_t *log);
static void ngx_wsman_wec_kafka_release(ngx_wsman_wec_kafka_tracker_t *tr,
    ngx_uint_t delivered, rd_kafka_resp_err_t err);
static void ngx_wsman_wec_kafka_delivered(rd_kafka_t *rk,
    const rd_kafka_message_t *msg, void *opaque);
static void ngx_wsman_wec_kafka_error(rd_kafka_t *rk, int err,
    const char *reason, void *opaque);
static void ngx_wsman_wec_kafka_log(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf);
static ngx_msec_t ngx_wsman_wec_kafka_now(void);
static ngx_int_t ngx_wsman_wec_kafka_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *batch);
static void ngx_wsman_wec_kafka_close(ngx_wsman_wec_output_t *out);


ngx_wsman_wec_output_type_t  ngx_wsman_wec_kafka_output = {
    ngx_string("kafka"),
    ngx_wsman_wec_kafka_configure,
    ngx_wsman_wec_kafka_write,
    NULL,
    ngx_wsman_wec_kafka_close
};


#define ngx_wsman_wec_kafka_opt(a, s)                                       \
    ((a)->len >= sizeof(s) - 1                                              \
     && ngx_strncmp((a)->data, s, sizeof(s) - 1) == 0)


static char *
ngx_wsman_wec_kafka_configure(ngx_conf_t *cf, ngx_wsman_wec_output_t *out,
    ngx_str_t *args, ngx_uint_t nargs)
{
    u_char                      *p, *last;
    char                         err[512];
    ngx_str_t                    v, name;
    ngx_uint_t                   i;
    rd_kafka_conf_t             *conf;
    ngx_wsman_wec_kafka_conf_t  *kcf;
    ngx_wsman_wec_kafka_prop_t  *prop;

    kcf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_wec_kafka_conf_t));
    if (kcf == NULL) {
        return NGX_CONF_ERROR;
    }

    kcf->format = NGX_WSMAN_WEC_KAFKA_JSON;
    kcf->timeout = 10000;

    kcf->props = ngx_array_create(cf->pool, 4,
                                  sizeof(ngx_wsman_wec_kafka_prop_t));
    if (kcf->props == NULL) {
        return NGX_CONF_ERROR;
    }

    /* host:port[,host:port...], maybe with a PROTOCOL:// each */
    for (p = args[1].data; p < args[1].data + args[1].len; p++) {
        if (*p <= ' ' || *p == 0x7f || *p == '=') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "kafka output: invalid brokers \"%V\"",
                               &args[1]);
            return NGX_CONF_ERROR;
        }
    }

    /* cf->args strings end in a NUL */
    kcf->brokers = (char *) args[1].data;

    for (i = 2; i < nargs; i++) {

        p = ngx_strlchr(args[i].data, args[i].data + args[i].len, '=');
        if (p == NULL || p == args[i].data) {
            goto invalid;
        }

        v.data = p + 1;
        v.len = args[i].data + args[i].len - v.data;

        if (ngx_wsman_wec_kafka_opt(&args[i], "topic=")) {
            /* what Kafka itself allows in a topic name */
            if (v.len == 0 || v.len > 249) {
                goto invalid;
            }

            for (last = v.data + v.len, p = v.data; p < last; p++) {
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                      || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_'
                      || *p == '-'))
                {
                    goto invalid;
                }
            }

            kcf->topic = (char *) v.data;

        } else if (ngx_wsman_wec_kafka_opt(&args[i], "format=")) {
            if (v.len == 4 && ngx_strncmp(v.data, "json", 4) == 0) {
                kcf->format = NGX_WSMAN_WEC_KAFKA_JSON;

            } else if (v.len == 3 && ngx_strncmp(v.data, "xml", 3) == 0) {
                kcf->format = NGX_WSMAN_WEC_KAFKA_XML;

            } else {
                goto invalid;
            }

        } else if (ngx_wsman_wec_kafka_opt(&args[i], "timeout=")) {
            kcf->timeout = ngx_parse_time(&v, 0);

            /* a pool thread waits that long at most */
            if (kcf->timeout == (ngx_msec_t) NGX_ERROR
                || kcf->timeout == 0 || kcf->timeout > 300000)
            {
                goto invalid;
            }

        } else if (ngx_wsman_wec_kafka_opt(&args[i], "bootstrap.servers=")
                   || ngx_wsman_wec_kafka_opt(&args[i],
                                              "metadata.broker.list="))
        {
            /* the target says where the brokers are */
            goto invalid;

        } else {
            prop = ngx_array_push(kcf->props);
            if (prop == NULL) {
                return NGX_CONF_ERROR;
            }

            /* the '=' becomes the name's NUL, the value has cf's */
            *p = '\0';
            prop->name = (char *) args[i].data;
            prop->value = (char *) v.data;
            args[i].len = p - args[i].data;
        }
    }

    if (kcf->topic == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "kafka output \"%V\" needs topic=NAME",
                           &out->target);
        return NGX_CONF_ERROR;
    }

    /* librdkafka knows its properties: ask it now, not in a worker */
    conf = ngx_wsman_wec_kafka_conf(kcf, err, sizeof(err));
    if (conf == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "kafka output \"%V\": %s", &out->target, err);
        return NGX_CONF_ERROR;
    }

    rd_kafka_conf_destroy(conf);

    out->conf = kcf;

    return NGX_CONF_OK;

invalid:

    /* the value may be a password: name the setting only */
    p = ngx_strlchr(args[i].data, args[i].data + args[i].len, '=');

    name.data = args[i].data;
    name.len = p ? (size_t) (p - args[i].data) : args[i].len;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "kafka output \"%V\": invalid setting \"%V\"",
                       &out->target, &name);
    return NGX_CONF_ERROR;
}


/* the producer's configuration: ours, then the user's over it */
static rd_kafka_conf_t *
ngx_wsman_wec_kafka_conf(ngx_wsman_wec_kafka_conf_t *kcf, char *err,
    size_t size)
{
    char                        *timeout, buf[NGX_INT_T_LEN + 1];
    ngx_uint_t                   i;
    rd_kafka_conf_t             *conf;
    ngx_wsman_wec_kafka_prop_t  *prop;

    static ngx_wsman_wec_kafka_prop_t  ours[] = {
        { "client.id", "ngx_wsman" },
        /* every in-sync replica has it, and a retry adds no duplicate */
        { "acks", "all" },
        { "enable.idempotence", "true" },
        /* librdkafka's lines come out of rd_kafka_poll(), in our thread */
        { "log.queue", "true" },
        { NULL, NULL }
    };

    conf = rd_kafka_conf_new();
    if (conf == NULL) {
        ngx_cpystrn((u_char *) err, (u_char *) "no memory", size);
        return NULL;
    }

    *ngx_sprintf((u_char *) buf, "%ui", (ngx_uint_t) kcf->timeout) = '\0';
    timeout = buf;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", kcf->brokers, err,
                          size)
        != RD_KAFKA_CONF_OK
        /* librdkafka gives up on a message when write() does */
        || rd_kafka_conf_set(conf, "message.timeout.ms", timeout, err, size)
           != RD_KAFKA_CONF_OK)
    {
        goto failed;
    }

    for (i = 0; ours[i].name; i++) {
        if (rd_kafka_conf_set(conf, ours[i].name, ours[i].value, err, size)
            != RD_KAFKA_CONF_OK)
        {
            goto failed;
        }
    }

    prop = kcf->props->elts;

    for (i = 0; i < kcf->props->nelts; i++) {
        if (rd_kafka_conf_set(conf, prop[i].name, prop[i].value, err, size)
            != RD_KAFKA_CONF_OK)
        {
            goto failed;
        }
    }

    rd_kafka_conf_set_dr_msg_cb(conf, ngx_wsman_wec_kafka_delivered);
    rd_kafka_conf_set_error_cb(conf, ngx_wsman_wec_kafka_error);
    rd_kafka_conf_set_log_cb(conf, ngx_wsman_wec_kafka_log);

    return conf;

failed:

    rd_kafka_conf_destroy(conf);

    return NULL;
}


/* out->lock held */
static ngx_wsman_wec_kafka_state_t *
ngx_wsman_wec_kafka_producer(ngx_wsman_wec_output_t *out, ngx_log_t *log)
{
    char                          err[512];
    rd_kafka_t                   *rk;
    rd_kafka_conf_t              *conf;
    ngx_wsman_wec_kafka_state_t  *st;

    st = out->state;

    if (st && st->fatal && st->users == 0) {
        /* an idempotent producer cannot go on after a fatal error */
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "wec kafka output \"%V\": a new producer after a "
                      "fatal error", &out->target);

        rd_kafka_purge(st->rk, RD_KAFKA_PURGE_F_QUEUE
                               | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(st->rk, 1000);
        rd_kafka_destroy(st->rk);
        free(st);

        st = NULL;
        out->state = NULL;
    }

    if (st) {
        return st->fatal ? NULL : st;
    }

    st = calloc(1, sizeof(ngx_wsman_wec_kafka_state_t));
    if (st == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wec kafka output \"%V\": no memory", &out->target);
        return NULL;
    }

    st->log = ngx_cycle->log;

    conf = ngx_wsman_wec_kafka_conf(out->conf, err, sizeof(err));
    if (conf == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "wec kafka output \"%V\": %s",
                      &out->target, err);
        free(st);
        return NULL;
    }

    rd_kafka_conf_set_opaque(conf, st);

    /* rd_kafka_new() owns conf when it succeeds */
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wec kafka output \"%V\": cannot create a producer: "
                      "%s", &out->target, err);
        rd_kafka_conf_destroy(conf);
        free(st);
        return NULL;
    }

    /* the log lines to the main queue: rd_kafka_poll() serves them */
    (void) rd_kafka_set_log_queue(rk, NULL);

    st->rk = rk;
    out->state = st;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "wec kafka output \"%V\": producer created",
                   &out->target);

    return st;
}


/* a message's report is in (or write() is done with it) */
static void
ngx_wsman_wec_kafka_release(ngx_wsman_wec_kafka_tracker_t *tr,
    ngx_uint_t delivered, rd_kafka_resp_err_t err)
{
    ngx_uint_t  last;

    pthread_mutex_lock(&tr->mutex);

    if (delivered) {
        tr->pending--;

        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (tr->failed++ == 0) {
                tr->err = err;
            }
        }
    }

    last = (--tr->refs == 0);

    pthread_mutex_unlock(&tr->mutex);

    if (last) {
        pthread_mutex_destroy(&tr->mutex);
        free(tr);
    }
}


/* in whichever thread polls: ours, or another write() of the worker */
static void
ngx_wsman_wec_kafka_delivered(rd_kafka_t *rk, const rd_kafka_message_t *msg,
    void *opaque)
{
    if (msg->_private) {
        ngx_wsman_wec_kafka_release(msg->_private, 1, msg->err);
    }
}


static void
ngx_wsman_wec_kafka_error(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
    ngx_wsman_wec_kafka_state_t  *st = opaque;

    /* the log callback has told of the connection already */
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, st->log, 0,
                  "wec kafka output: %s: %s",
                  rd_kafka_err2name((rd_kafka_resp_err_t) err), reason);
}


static void
ngx_wsman_wec_kafka_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    ngx_uint_t                    lvl;
    ngx_wsman_wec_kafka_state_t  *st;

    st = rd_kafka_opaque(rk);
    if (st == NULL) {
        return;
    }

    /* syslog levels (0 emerg .. 7 debug) are nginx's less one; nothing
     * librdkafka says is an emergency of nginx's */
    lvl = (level < 3) ? NGX_LOG_ERR : (level > 7) ? NGX_LOG_DEBUG
                                                  : (ngx_uint_t) level + 1;

    ngx_log_error(lvl, st->log, 0, "wec kafka output: %s: %s", fac, buf);
}


static ngx_msec_t
ngx_wsman_wec_kafka_now(void)
{
    struct timespec  ts;

    /* a pool thread: nginx's cached time is the event loop's */
    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (ngx_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static ngx_int_t
ngx_wsman_wec_kafka_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *batch)
{
    ngx_wsman_wec_kafka_conf_t *kcf = out->conf;

    char                           err[512];
    ngx_int_t                      rc;
    ngx_str_t                     *ev;
    ngx_msec_t                     deadline, now, left;
    ngx_uint_t                     i, pending, failed;
    rd_kafka_resp_err_t            rerr, first;
    ngx_wsman_wec_event_t         *e;
    ngx_wsman_wec_kafka_state_t   *st;
    ngx_wsman_wec_kafka_tracker_t *tr;

    deadline = ngx_wsman_wec_kafka_now() + kcf->timeout;

    tr = calloc(1, sizeof(ngx_wsman_wec_kafka_tracker_t));
    if (tr == NULL) {
        ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                      "wec kafka output \"%V\": no memory", &out->target);
        return NGX_ERROR;
    }

    if (pthread_mutex_init(&tr->mutex, NULL) != 0) {
        free(tr);
        return NGX_ERROR;
    }

    tr->refs = 1;

    pthread_mutex_lock(&out->lock);

    st = ngx_wsman_wec_kafka_producer(out, batch->log);
    if (st) {
        st->users++;
    }

    pthread_mutex_unlock(&out->lock);

    if (st == NULL) {
        ngx_wsman_wec_kafka_release(tr, 0, 0);
        return NGX_ERROR;
    }

    rc = NGX_OK;

    for (i = 0; i < batch->nevents; i++) {
        e = &batch->events[i];
        ev = (kcf->format == NGX_WSMAN_WEC_KAFKA_XML) ? &e->xml : &e->json;

        /* counted before: the report may come before producev returns */
        pthread_mutex_lock(&tr->mutex);
        tr->refs++;
        tr->pending++;
        pthread_mutex_unlock(&tr->mutex);

        for ( ;; ) {
            rerr = rd_kafka_producev(st->rk,
                       RD_KAFKA_V_TOPIC(kcf->topic),
                       RD_KAFKA_V_KEY(batch->source.data, batch->source.len),
                       RD_KAFKA_V_VALUE(ev->data, ev->len),
                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                       RD_KAFKA_V_HEADER("subscription",
                                         batch->subscription.data,
                                         (ssize_t) batch->subscription.len),
                       RD_KAFKA_V_HEADER("machine", batch->machine.data,
                                         (ssize_t) batch->machine.len),
                       RD_KAFKA_V_OPAQUE(tr),
                       RD_KAFKA_V_END);

            if (rerr != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                break;
            }

            /* the producer's queue is full: let reports drain it */
            now = ngx_wsman_wec_kafka_now();
            if (now >= deadline) {
                break;
            }

            rd_kafka_poll(st->rk, (int) ngx_min(deadline - now, 100));
        }

        if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* not produced: no report will come for it (and write()'s
             * own reference keeps tr) */
            pthread_mutex_lock(&tr->mutex);
            tr->refs--;
            tr->pending--;
            pthread_mutex_unlock(&tr->mutex);

            ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                          "wec kafka output \"%V\": cannot produce event "
                          "%ui of %ui to \"%s\": %s", &out->target, i + 1,
                          batch->nevents, kcf->topic, rd_kafka_err2str(rerr));
            rc = NGX_ERROR;
            break;
        }
    }

    /* every report, or the deadline */
    for ( ;; ) {
        pthread_mutex_lock(&tr->mutex);
        pending = tr->pending;
        failed = tr->failed;
        first = tr->err;
        pthread_mutex_unlock(&tr->mutex);

        /* a message not produced failed the batch already */
        if (pending == 0 || rc != NGX_OK) {
            break;
        }

        now = ngx_wsman_wec_kafka_now();
        if (now >= deadline) {
            break;
        }

        left = deadline - now;

        /* another write() may serve our reports: look again soon */
        rd_kafka_poll(st->rk, (int) ngx_min(left, 100));
    }

    if (rc == NGX_OK) {
        if (failed) {
            ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                          "wec kafka output \"%V\": %ui of %ui events not "
                          "delivered to \"%s\": %s", &out->target, failed,
                          batch->nevents, kcf->topic,
                          rd_kafka_err2str(first));
            rc = NGX_ERROR;

        } else if (pending) {
            ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                          "wec kafka output \"%V\": %ui of %ui events not "
                          "confirmed by \"%s\" within %ui ms", &out->target,
                          pending, batch->nevents, kcf->brokers,
                          (ngx_uint_t) kcf->timeout);
            rc = NGX_ERROR;
        }
    }

    ngx_wsman_wec_kafka_release(tr, 0, 0);

    if (rc != NGX_OK
        && rd_kafka_fatal_error(st->rk, err, sizeof(err))
           != RD_KAFKA_RESP_ERR_NO_ERROR)
    {
        ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                      "wec kafka output \"%V\": fatal: %s", &out->target,
                      err);
        pthread_mutex_lock(&out->lock);
        st->fatal = 1;
        pthread_mutex_unlock(&out->lock);
    }

    pthread_mutex_lock(&out->lock);
    st->users--;
    pthread_mutex_unlock(&out->lock);

    if (rc == NGX_OK) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, batch->log, 0,
                       "wec kafka output \"%V\": %ui events in \"%s\"",
                       &out->target, batch->nevents, kcf->topic);
    }

    return rc;
}


static void
ngx_wsman_wec_kafka_close(ngx_wsman_wec_output_t *out)
{
    ngx_wsman_wec_kafka_state_t  *st;

    pthread_mutex_lock(&out->lock);

    st = out->state;

    /* the pool's threads are done before a worker exits; if one were
     * not, its producer had better leak than vanish under it */
    if (st && st->users) {
        st = NULL;
    }

    out->state = NULL;

    pthread_mutex_unlock(&out->lock);

    if (st == NULL) {
        return;
    }

    /* what no write() waits for any more: drop it, and let the reports
     * free their trackers */
    rd_kafka_purge(st->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(st->rk, 1000);
    rd_kafka_destroy(st->rk);
    free(st);
}
