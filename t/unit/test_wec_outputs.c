/*
 * The event collector's redis and kafka outputs, driven the way the
 * delivery path drives them: configure() with the words of an `output`
 * line, then write() of hand-made batches from threads.
 *
 * The configuration checks always run.  The writes need real servers,
 * named by the environment (t/test_wec_outputs.py starts them):
 *
 *   WSMAN_TEST_REDIS      HOST:PORT of a redis-server
 *   WSMAN_TEST_REDIS_UNIX its unix socket
 *   WSMAN_TEST_KAFKA      the bootstrap servers of a Kafka (mock) cluster
 *                         with the topics wec-json and wec-xml
 *   WSMAN_TEST_TAG        put into every event, to find them again
 *   WSMAN_TEST_CONTROL=1  stop between steps: print "CONTROL <what>" and
 *                         read one line from stdin when it is done
 *                         (redis-stop, redis-start, redis-restart,
 *                         kafka-down, kafka-up, kafka-slow, kafka-fast)
 *
 * Without them the group says what it skipped and passes.
 */

#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "unit.h"
#include "ngx_wsman_wec_sink.h"


void unit_test_wec_outputs(void);


/*
 * nginx's configuration helpers the outputs call.  Weak: another group
 * of the collector may need them as well, and one definition wins.
 */

void ngx_cdecl __attribute__((weak))
ngx_conf_log_error(ngx_uint_t level, ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   line[NGX_MAX_ERROR_STR], *p;
    va_list  args;

    va_start(args, fmt);
    p = ngx_vslprintf(line, line + sizeof(line) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    ngx_log_error(level, cf->log, err, "conf: %s", line);
}


/* the forms the outputs' settings use: 500ms, 3s, 2m, 1h (one unit) */
time_t __attribute__((weak))
ngx_parse_time(ngx_str_t *line, ngx_uint_t is_sec)
{
    size_t     n;
    ngx_int_t  v, scale;

    n = line->len;

    if (n > 2 && line->data[n - 2] == 'm' && line->data[n - 1] == 's') {
        scale = 1;
        n -= 2;

    } else if (n > 1 && line->data[n - 1] == 's') {
        scale = 1000;
        n--;

    } else if (n > 1 && line->data[n - 1] == 'm') {
        scale = 60000;
        n--;

    } else if (n > 1 && line->data[n - 1] == 'h') {
        scale = 3600000;
        n--;

    } else {
        scale = 1000;
    }

    v = ngx_atoi(line->data, n);
    if (v == NGX_ERROR) {
        return NGX_ERROR;
    }

    return is_sec ? (time_t) (v * scale / 1000) : (time_t) (v * scale);
}


typedef struct {
    ngx_wsman_wec_output_t  *out;
    ngx_wsman_wec_batch_t   *batch;
    ngx_int_t                rc;
} unit_wec_job_t;


static ngx_conf_t  unit_wec_cf;


/* `output KIND TARGET WORDS...;` as configure() gets it */
static char *
unit_wec_configure(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_output_type_t *type, const char **words)
{
    size_t      len;
    ngx_str_t  *args;
    ngx_uint_t  n, i;

    for (n = 0; words[n]; n++) { /* void */ }

    args = ngx_pcalloc(unit_wec_cf.pool, n * sizeof(ngx_str_t));
    if (args == NULL) {
        return NGX_CONF_ERROR;
    }

    /* cf->args strings are writable and end in a NUL */
    for (i = 0; i < n; i++) {
        len = strlen(words[i]);
        args[i].data = ngx_pnalloc(unit_wec_cf.pool, len + 1);
        if (args[i].data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(args[i].data, words[i], len + 1);
        args[i].len = len;
    }

    ngx_memzero(out, sizeof(ngx_wsman_wec_output_t));

    out->type = type;
    out->target = args[1];
    pthread_mutex_init(&out->lock, NULL);

    return type->configure(&unit_wec_cf, out, args, n);
}


static ngx_str_t
unit_wec_str(ngx_pool_t *pool, const char *fmt, const char *a,
    const char *b, ngx_uint_t i)
{
    u_char     buf[1024], *p;
    ngx_str_t  s;

    p = ngx_snprintf(buf, sizeof(buf), fmt, a, b, i);

    s.len = p - buf;
    s.data = ngx_pnalloc(pool, s.len);
    if (s.data) {
        ngx_memcpy(s.data, buf, s.len);
    }

    return s;
}


/*
 * n events of one source: the json holds the tag, the step and the
 * index ({"tag":"T","step":"S","n":I}), the xml the same in <Event>
 */
static ngx_wsman_wec_batch_t *
unit_wec_batch(const char *source, const char *step, ngx_uint_t n)
{
    const char             *tag;
    ngx_uint_t              i;
    ngx_wsman_wec_batch_t  *b;

    tag = getenv("WSMAN_TEST_TAG");
    if (tag == NULL) {
        tag = "-";
    }

    b = calloc(1, sizeof(ngx_wsman_wec_batch_t));
    if (b == NULL) {
        return NULL;
    }

    b->pool = ngx_create_pool(4096, &unit_log);
    b->log = &unit_log;

    ngx_str_set(&b->subscription, "sub-one");
    b->source.data = (u_char *) source;
    b->source.len = strlen(source);
    ngx_str_set(&b->machine, "machine.wsman.test");

    b->events = ngx_pcalloc(b->pool, n * sizeof(ngx_wsman_wec_event_t));
    b->nevents = n;

    for (i = 0; i < n; i++) {
        b->events[i].json = unit_wec_str(b->pool,
                              "{\"tag\":\"%s\",\"step\":\"%s\",\"n\":%ui}",
                              tag, step, i);
        b->events[i].xml = unit_wec_str(b->pool,
                              "<Event><Tag>%s</Tag><Step>%s</Step>"
                              "<N>%ui</N></Event>", tag, step, i);
        b->events[i].event_id = 4624;
    }

    return b;
}


static void
unit_wec_batch_free(ngx_wsman_wec_batch_t *b)
{
    ngx_destroy_pool(b->pool);
    free(b);
}


static void *
unit_wec_thread(void *data)
{
    unit_wec_job_t  *job = data;

    job->rc = job->out->type->write(job->out, job->batch);

    return NULL;
}


/* write each batch to out from a thread of its own, all at once */
static void
unit_wec_write_all(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t **batches, ngx_uint_t n, ngx_int_t expect)
{
    pthread_t       tid[8];
    ngx_uint_t      i;
    unit_wec_job_t  jobs[8];

    for (i = 0; i < n; i++) {
        jobs[i].out = out;
        jobs[i].batch = batches[i];
        jobs[i].rc = -100;
        UNIT_CHECK(pthread_create(&tid[i], NULL, unit_wec_thread, &jobs[i])
                   == 0);
    }

    for (i = 0; i < n; i++) {
        pthread_join(tid[i], NULL);
        UNIT_EQ_UINT(jobs[i].rc, expect);
    }
}


/* one batch of a source; NGX_OK or NGX_ERROR as expected */
static void
unit_wec_write(ngx_wsman_wec_output_t *out, const char *source,
    const char *step, ngx_uint_t n, ngx_int_t expect)
{
    ngx_wsman_wec_batch_t  *b;

    b = unit_wec_batch(source, step, n);
    if (!UNIT_CHECK(b != NULL)) {
        return;
    }

    unit_wec_write_all(out, &b, 1, expect);
    unit_wec_batch_free(b);
}


static void
unit_wec_control(const char *what)
{
    char  line[64];

    if (getenv("WSMAN_TEST_CONTROL") == NULL) {
        return;
    }

    printf("CONTROL %s\n", what);
    fflush(stdout);

    UNIT_CHECK(fgets(line, sizeof(line), stdin) != NULL);
}


static void
unit_wec_conf_checks(void)
{
    ngx_wsman_wec_output_t  out;

    static const char *redis_bad[][8] = {
        /* no stream */
        { "redis", "127.0.0.1:6379", NULL },
        { "redis", "127.0.0.1:6379", "stream=$sourc", NULL },
        { "redis", "127.0.0.1:6379", "stream=s$computer", NULL },
        { "redis", "127.0.0.1:0", "stream=s", NULL },
        { "redis", "127.0.0.1:65536", "stream=s", NULL },
        { "redis", "[::1", "stream=s", NULL },
        { "redis", ":6379", "stream=s", NULL },
        { "redis", "127.0.0.1:6379", "stream=s", "maxlen=0", NULL },
        { "redis", "127.0.0.1:6379", "stream=s", "maxlen=x", NULL },
        { "redis", "127.0.0.1:6379", "stream=s", "format=yaml", NULL },
        { "redis", "127.0.0.1:6379", "stream=s", "timeout=0", NULL },
        { "redis", "127.0.0.1:6379", "stream=s", "timeout=1h", NULL },
        { "redis", "127.0.0.1:6379", "stream=s", "db=1", NULL },
        { "redis", "127.0.0.1:6379", "stream=s", "user=u", NULL },
        { NULL }
    };

    static const char *redis_good[][8] = {
        { "redis", "127.0.0.1:6379", "stream=wec", NULL },
        { "redis", "localhost", "stream=wec:$subscription:$source", NULL },
        { "redis", "[::1]:6380", "stream=s", "maxlen=1000", "format=xml",
          "timeout=500ms", NULL },
        { "redis", "unix:/run/redis.sock", "stream=s", "user=u",
          "password=p", NULL },
        { NULL }
    };

    static const char *kafka_bad[][8] = {
        /* no topic */
        { "kafka", "127.0.0.1:9092", NULL },
        { "kafka", "127.0.0.1:9092", "topic=a/b", NULL },
        { "kafka", "127.0.0.1:9092", "topic=", NULL },
        { "kafka", "127.0.0.1:9092", "topic=t", "format=yaml", NULL },
        { "kafka", "127.0.0.1:9092", "topic=t", "timeout=0", NULL },
        /* librdkafka's own checks */
        { "kafka", "127.0.0.1:9092", "topic=t", "no.such.property=1", NULL },
        { "kafka", "127.0.0.1:9092", "topic=t", "acks=maybe", NULL },
        { "kafka", "127.0.0.1:9092", "topic=t", "security.protocol=tcp",
          NULL },
        { "kafka", "127.0.0.1:9092", "topic=t", "bootstrap.servers=x:1",
          NULL },
        { "kafka", "127.0.0.1:9092", "topic=t", "=1", NULL },
        { "kafka", "127.0.0.1:9092", "topic=t", "linger.ms", NULL },
        { NULL }
    };

    static const char *kafka_good[][8] = {
        { "kafka", "127.0.0.1:9092", "topic=wec", NULL },
        { "kafka", "k1:9092,k2:9092", "topic=wec.events_1", "format=xml",
          "timeout=2s", "linger.ms=20", NULL },
        { "kafka", "k1:9093", "topic=t", "security.protocol=sasl_ssl",
          "sasl.mechanism=PLAIN", "sasl.username=u", "sasl.password=p",
          NULL },
        { NULL }
    };

    ngx_uint_t  i;

    for (i = 0; redis_bad[i][0]; i++) {
        unit_log_reset();
        UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                      redis_bad[i])
                   == NGX_CONF_ERROR);
        UNIT_CHECK(unit_log_contains("redis output"));
    }

    for (i = 0; redis_good[i][0]; i++) {
        UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                      redis_good[i])
                   == NGX_CONF_OK);
    }

    for (i = 0; kafka_bad[i][0]; i++) {
        unit_log_reset();
        UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_kafka_output,
                                      kafka_bad[i])
                   == NGX_CONF_ERROR);
        UNIT_CHECK(unit_log_contains("kafka output"));
    }

    /* a password never reaches the log, even when it is wrong */
    {
        static const char *secret[] = { "redis", "h:1", "stream=s",
                                        "password=Hunter2", "bogus=Hunter2",
                                        NULL };

        unit_log_reset();
        UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                      secret)
                   == NGX_CONF_ERROR);
        UNIT_CHECK(unit_log_contains("\"bogus\""));
        UNIT_CHECK(!unit_log_contains("Hunter2"));
    }

    for (i = 0; kafka_good[i][0]; i++) {
        UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_kafka_output,
                                      kafka_good[i])
                   == NGX_CONF_OK);
    }
}


/* an error reply (a key that is no stream) fails the batch */
static void
unit_wec_redis_error_reply(char *target)
{
    char                    *colon;
    const char              *words[4];
    redisReply              *r;
    redisContext            *c;
    ngx_wsman_wec_output_t   out;

    colon = strrchr(target, ':');
    if (!UNIT_CHECK(colon != NULL)) {
        return;
    }

    *colon = '\0';
    c = redisConnect(target, atoi(colon + 1));
    *colon = ':';

    if (!UNIT_CHECK(c != NULL && c->err == 0)) {
        return;
    }

    r = redisCommand(c, "SET wec-not-a-stream x");
    UNIT_CHECK(r != NULL && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);

    words[0] = "redis";
    words[1] = target;
    words[2] = "stream=wec-not-a-stream";
    words[3] = NULL;

    if (UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                      words) == NGX_CONF_OK))
    {
        unit_log_reset();
        unit_wec_write(&out, "alice@WSMAN.TEST", "wrongtype", 3, NGX_ERROR);
        UNIT_CHECK(unit_log_contains("WRONGTYPE"));

        /* the connection was dropped; the next batch makes a new one */
        r = redisCommand(c, "DEL wec-not-a-stream");
        freeReplyObject(r);

        unit_wec_write(&out, "alice@WSMAN.TEST", "wrongtype", 3, NGX_OK);

        ngx_wsman_wec_redis_output.close(&out);
    }

    r = redisCommand(c, "XLEN wec-not-a-stream");
    UNIT_CHECK(r != NULL && r->type == REDIS_REPLY_INTEGER
               && r->integer == 3);
    freeReplyObject(r);

    /* a server that wants a password: the right one, a wrong one, an
     * ACL user */
    r = redisCommand(c, "CONFIG SET requirepass wec-Pw-1");
    UNIT_CHECK(r != NULL && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);

    r = redisCommand(c, "AUTH wec-Pw-1");
    freeReplyObject(r);

    r = redisCommand(c, "ACL SETUSER wecw on >wec-Pw-2 ~wec-auth* +xadd");
    UNIT_CHECK(r != NULL && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);

    {
        static const char  *right[] = { "redis", NULL, "stream=wec-auth",
                                        "password=wec-Pw-1", NULL };
        static const char  *wrong[] = { "redis", NULL, "stream=wec-auth",
                                        "password=nope", NULL };
        static const char  *none[] = { "redis", NULL, "stream=wec-auth",
                                       NULL };
        static const char  *user[] = { "redis", NULL, "stream=wec-auth",
                                       "user=wecw", "password=wec-Pw-2",
                                       NULL };
        static const char  *deny[] = { "redis", NULL, "stream=wec-other",
                                       "user=wecw", "password=wec-Pw-2",
                                       NULL };

        right[1] = wrong[1] = none[1] = user[1] = deny[1] = target;

        if (UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                          right) == NGX_CONF_OK))
        {
            unit_wec_write(&out, "alice@WSMAN.TEST", "auth", 2, NGX_OK);
            ngx_wsman_wec_redis_output.close(&out);
        }

        if (UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                          wrong) == NGX_CONF_OK))
        {
            unit_log_reset();
            unit_wec_write(&out, "alice@WSMAN.TEST", "auth", 2, NGX_ERROR);
            UNIT_CHECK(unit_log_contains("AUTH failed"));
            UNIT_CHECK(!unit_log_contains("nope"));
            ngx_wsman_wec_redis_output.close(&out);
        }

        if (UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                          none) == NGX_CONF_OK))
        {
            unit_log_reset();
            unit_wec_write(&out, "alice@WSMAN.TEST", "auth", 2, NGX_ERROR);
            UNIT_CHECK(unit_log_contains("XADD to \"wec-auth\""));
            ngx_wsman_wec_redis_output.close(&out);
        }

        if (UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                          user) == NGX_CONF_OK))
        {
            unit_wec_write(&out, "alice@WSMAN.TEST", "auth", 2, NGX_OK);
            ngx_wsman_wec_redis_output.close(&out);
        }

        /* the ACL refuses this key: an error reply */
        if (UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                          deny) == NGX_CONF_OK))
        {
            unit_log_reset();
            unit_wec_write(&out, "alice@WSMAN.TEST", "auth", 2, NGX_ERROR);
            UNIT_CHECK(unit_log_contains("NOPERM"));
            ngx_wsman_wec_redis_output.close(&out);
        }
    }

    r = redisCommand(c, "XLEN wec-auth");
    UNIT_CHECK(r != NULL && r->type == REDIS_REPLY_INTEGER
               && r->integer == 4);
    freeReplyObject(r);

    r = redisCommand(c, "ACL DELUSER wecw");
    freeReplyObject(r);
    r = redisCommand(c, "DEL wec-auth wec-not-a-stream");
    freeReplyObject(r);
    r = redisCommand(c, "CONFIG SET requirepass %s", "");
    UNIT_CHECK(r != NULL && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);

    redisFree(c);
}


static void
unit_wec_redis(const char *addr)
{
    char                    target[256];
    const char             *json[8], *xml[8];
    ngx_wsman_wec_batch_t  *b[4];
    ngx_wsman_wec_output_t  out, xout;

    ngx_cpystrn((u_char *) target, (u_char *) addr, sizeof(target));

    json[0] = "redis";
    json[1] = target;
    json[2] = "stream=wec:$subscription:$source";
    json[3] = "timeout=2s";
    json[4] = NULL;

    xml[0] = "redis";
    xml[1] = target;
    xml[2] = "stream=wec-xml";
    xml[3] = "format=xml";
    xml[4] = "maxlen=1000";
    xml[5] = NULL;

    if (!UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                       json) == NGX_CONF_OK)
        || !UNIT_CHECK(unit_wec_configure(&xout, &ngx_wsman_wec_redis_output,
                                          xml) == NGX_CONF_OK))
    {
        return;
    }

    /* two sources at once on the worker's one connection */
    b[0] = unit_wec_batch("alice@WSMAN.TEST", "first", 5);
    b[1] = unit_wec_batch("HOST1$@WSMAN.TEST", "first", 7);

    unit_wec_write_all(&out, b, 2, NGX_OK);
    unit_wec_write_all(&xout, b, 1, NGX_OK);

    unit_wec_batch_free(b[0]);
    unit_wec_batch_free(b[1]);

    /* a server gone: an error, then a new connection when it is back */
    unit_wec_control("redis-stop");

    if (getenv("WSMAN_TEST_CONTROL")) {
        unit_log_reset();
        unit_wec_write(&out, "alice@WSMAN.TEST", "down", 3, NGX_ERROR);
        UNIT_CHECK(unit_log_contains("wec redis output"));

        unit_wec_control("redis-start");

        unit_wec_write(&out, "alice@WSMAN.TEST", "again", 4, NGX_OK);

        /* a restart while the connection is kept: the batch goes out on
         * a new one, not failed */
        unit_wec_control("redis-restart");

        unit_log_reset();
        unit_wec_write(&out, "alice@WSMAN.TEST", "restart", 3, NGX_OK);
        UNIT_CHECK(unit_log_contains("kept connection is gone"));
    }

    ngx_wsman_wec_redis_output.close(&out);
    ngx_wsman_wec_redis_output.close(&xout);

    unit_wec_redis_error_reply(target);

    /* the same server on its unix socket (WSMAN_TEST_REDIS_UNIX) */
    if (getenv("WSMAN_TEST_REDIS_UNIX")) {
        ngx_snprintf((u_char *) target, sizeof(target), "unix:%s%Z",
                     getenv("WSMAN_TEST_REDIS_UNIX"));

        json[2] = "stream=wec-unix";

        if (UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                          json) == NGX_CONF_OK))
        {
            unit_wec_write(&out, "alice@WSMAN.TEST", "unix", 6, NGX_OK);
            ngx_wsman_wec_redis_output.close(&out);
        }
    }
}


static void
unit_wec_kafka(const char *bootstrap)
{
    char                    target[256];
    const char             *json[8], *xml[8];
    ngx_wsman_wec_batch_t  *b[4];
    ngx_wsman_wec_output_t  out, xout;

    ngx_cpystrn((u_char *) target, (u_char *) bootstrap, sizeof(target));

    json[0] = "kafka";
    json[1] = target;
    json[2] = "topic=wec-json";
    json[3] = "timeout=3s";
    /* a librdkafka property: back soon after the broker is */
    json[4] = "reconnect.backoff.max.ms=500";
    json[5] = NULL;

    xml[0] = "kafka";
    xml[1] = target;
    xml[2] = "topic=wec-xml";
    xml[3] = "format=xml";
    xml[4] = "linger.ms=1";
    xml[5] = NULL;

    if (!UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_kafka_output,
                                       json) == NGX_CONF_OK)
        || !UNIT_CHECK(unit_wec_configure(&xout, &ngx_wsman_wec_kafka_output,
                                          xml) == NGX_CONF_OK))
    {
        return;
    }

    /* three sources at once on the worker's one producer */
    b[0] = unit_wec_batch("alice@WSMAN.TEST", "first", 20);
    b[1] = unit_wec_batch("HOST1$@WSMAN.TEST", "first", 20);
    b[2] = unit_wec_batch("HOST2$@WSMAN.TEST", "first", 20);

    unit_wec_write_all(&out, b, 3, NGX_OK);
    unit_wec_write_all(&xout, b, 1, NGX_OK);

    unit_wec_batch_free(b[0]);
    unit_wec_batch_free(b[1]);
    unit_wec_batch_free(b[2]);

    /* an event larger than the producer takes: refused at once, no
     * waiting for the reports of the others */
    {
        time_t                  start;
        const char             *small[6];
        ngx_wsman_wec_batch_t  *big;
        ngx_wsman_wec_output_t  sout;

        small[0] = "kafka";
        small[1] = target;
        small[2] = "topic=wec-json";
        small[3] = "message.max.bytes=1000";
        small[4] = "timeout=5s";
        small[5] = NULL;

        big = unit_wec_batch("alice@WSMAN.TEST", "big", 3);

        if (UNIT_CHECK(big != NULL)
            && UNIT_CHECK(unit_wec_configure(&sout,
                                             &ngx_wsman_wec_kafka_output,
                                             small) == NGX_CONF_OK))
        {
            big->events[1].json.len = 4000;
            big->events[1].json.data = ngx_pcalloc(big->pool, 4000);

            if (UNIT_CHECK(big->events[1].json.data != NULL)) {
                ngx_memset(big->events[1].json.data, 'x', 4000);

                start = time(NULL);
                unit_log_reset();
                unit_wec_write_all(&sout, &big, 1, NGX_ERROR);
                UNIT_CHECK(unit_log_contains("cannot produce event 2 of 3"));
                UNIT_CHECK(time(NULL) - start <= 2);
            }

            ngx_wsman_wec_kafka_output.close(&sout);
        }

        if (big) {
            unit_wec_batch_free(big);
        }
    }

    unit_wec_control("kafka-down");

    if (getenv("WSMAN_TEST_CONTROL")) {
        /* no delivery report within the timeout: the batch failed */
        unit_log_reset();
        unit_wec_write(&out, "alice@WSMAN.TEST", "down", 3, NGX_ERROR);
        UNIT_CHECK(unit_log_contains("wec kafka output"));

        unit_wec_control("kafka-up");

        unit_wec_write(&out, "alice@WSMAN.TEST", "again", 4, NGX_OK);

        /*
         * a broker slower than the timeout: the batch fails, and its
         * reports come after write() gave up on them (the tracker must
         * outlive write(): valgrind run of t/test_wec_outputs.py)
         */
        unit_wec_control("kafka-slow");

        unit_log_reset();
        unit_wec_write(&out, "alice@WSMAN.TEST", "slow", 3, NGX_ERROR);

        /*
         * librdkafka times the messages out after the same timeout; a
         * thread that ran late (valgrind, a loaded machine) finds their
         * "timed out" reports instead of none: failed either way
         */
        UNIT_CHECK(unit_log_contains("not confirmed")
                   || unit_log_contains("not delivered"));

        unit_wec_control("kafka-fast");

        unit_wec_write(&out, "alice@WSMAN.TEST", "fast", 2, NGX_OK);
    }

    ngx_wsman_wec_kafka_output.close(&out);
    ngx_wsman_wec_kafka_output.close(&xout);
}


/*
 * A server that takes the connection and never answers (the kernel
 * completes the handshake; nobody accept()s): a batch must fail within
 * the output's timeout, not hold the pool thread.
 */
static void
unit_wec_silent(void)
{
    int                      fd;
    char                     target[64];
    time_t                   start;
    socklen_t                len;
    const char              *words[5];
    struct sockaddr_in       sin;
    ngx_wsman_wec_output_t   out;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (!UNIT_CHECK(fd != -1)) {
        return;
    }

    ngx_memzero(&sin, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sin);

    if (!UNIT_CHECK(bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0
                    && listen(fd, 16) == 0
                    && getsockname(fd, (struct sockaddr *) &sin, &len)
                       == 0))
    {
        close(fd);
        return;
    }

    ngx_sprintf((u_char *) target, "127.0.0.1:%d%Z",
                (int) ntohs(sin.sin_port));

    words[0] = "redis";
    words[1] = target;
    words[2] = "stream=s";
    words[3] = "timeout=300ms";
    words[4] = NULL;

    if (UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_redis_output,
                                      words) == NGX_CONF_OK))
    {
        start = time(NULL);
        unit_log_reset();
        unit_wec_write(&out, "alice@WSMAN.TEST", "silent", 3, NGX_ERROR);
        UNIT_CHECK(unit_log_contains("wec redis output"));
        UNIT_CHECK(time(NULL) - start <= 2);

        ngx_wsman_wec_redis_output.close(&out);
    }

    words[0] = "kafka";
    words[2] = "topic=t";
    words[3] = "timeout=500ms";

    if (UNIT_CHECK(unit_wec_configure(&out, &ngx_wsman_wec_kafka_output,
                                      words) == NGX_CONF_OK))
    {
        start = time(NULL);
        unit_log_reset();
        unit_wec_write(&out, "alice@WSMAN.TEST", "silent", 3, NGX_ERROR);
        UNIT_CHECK(unit_log_contains("not confirmed"));
        UNIT_CHECK(time(NULL) - start <= 2);

        ngx_wsman_wec_kafka_output.close(&out);
    }

    close(fd);
}


void
unit_test_wec_outputs(void)
{
    const char  *addr;

    unit_wec_cf.pool = ngx_create_pool(4096, &unit_log);
    unit_wec_cf.log = &unit_log;

    unit_wec_conf_checks();
    unit_wec_silent();

    addr = getenv("WSMAN_TEST_REDIS");

    if (addr) {
        unit_wec_redis(addr);

    } else {
        printf("wec_outputs: WSMAN_TEST_REDIS unset: redis writes "
               "skipped (t/test_wec_outputs.py runs them)\n");
    }

    addr = getenv("WSMAN_TEST_KAFKA");

    if (addr) {
        unit_wec_kafka(addr);

    } else {
        printf("wec_outputs: WSMAN_TEST_KAFKA unset: kafka writes "
               "skipped (t/test_wec_outputs.py runs them)\n");
    }

    ngx_destroy_pool(unit_wec_cf.pool);
}
