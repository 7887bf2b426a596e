/*
 * The wec syslog output (src/plugins/wec/ngx_wsman_wec_syslog.c) driven
 * the way the collector's thread task drives it: configure() with the
 * words of an `output syslog ...;` line, then write() of a batch built by
 * hand, then close().
 *
 * Without a server: the configuration errors, the exact bytes of the
 * messages (read back through a loopback listener of this process),
 * the kept connection and the reconnect after the server closed it, a
 * closed port and a server that takes nothing (timeout=).
 *
 * With real rsyslog servers (t/test_wec_syslog.py starts them):
 *   WSMAN_TEST_SYSLOG_TCP=HOST:PORT   events go there (tag below);
 *       WSMAN_TEST_SYSLOG_RESTART=1 also stops between two batches: the
 *       driver prints "wec_syslog: stop the server" and reads a line from
 *       stdin, then expects NGX_ERROR, prints "wec_syslog: start the
 *       server", reads a line and expects NGX_OK
 *   WSMAN_TEST_SYSLOG_TLS=HOST:PORT with WSMAN_TEST_SYSLOG_CA (the
 *       server's CA) and WSMAN_TEST_SYSLOG_WRONG_CA
 *   WSMAN_TEST_SYSLOG_MTLS=HOST:PORT (a server asking for client
 *       certificates) with _CA, _CLIENT and _CLIENT_KEY (one it trusts),
 *       _ROGUE and _ROGUE_KEY (one of another CA)
 *   WSMAN_TEST_SYSLOG_TAG   a word put into every event's JSON
 * Each part skips itself, saying so, when its variables are unset.
 */

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "unit.h"
#include "ngx_wsman_wec_sink.h"


void unit_test_wec_syslog(void);


#define T_SD  "[wec@32473 subscription=\"sec\" source=\"alice\\]\\\"\\\\\" " \
              "machine=\"WIN-A.corp\"]"


static ngx_conf_t  t_cf;


/* `output syslog ...` split at spaces into out; the configure() result */
static char *
t_configure(ngx_wsman_wec_output_t *out, const char *line)
{
    char       *copy, *w, *save;
    ngx_str_t   args[16];
    ngx_uint_t  n;

    copy = ngx_palloc(t_cf.pool, strlen(line) + 1);
    if (copy == NULL) {
        return NGX_CONF_ERROR;
    }

    strcpy(copy, line);

    n = 0;

    for (w = strtok_r(copy, " ", &save); w && n < 16;
         w = strtok_r(NULL, " ", &save))
    {
        args[n].data = (u_char *) w;
        args[n].len = strlen(w);
        n++;
    }

    ngx_memzero(out, sizeof(ngx_wsman_wec_output_t));
    out->type = &ngx_wsman_wec_syslog_output;
    out->target = args[1];

    if (pthread_mutex_init(&out->lock, NULL) != 0) {
        return NGX_CONF_ERROR;
    }

    /* the target's words must outlive the call, as cf->args do */
    out->target.data = ngx_palloc(t_cf.pool, args[1].len);
    if (out->target.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(out->target.data, args[1].data, args[1].len);

    return ngx_wsman_wec_syslog_output.configure(&t_cf, out, args, n);
}


static void
t_str(ngx_str_t *s, const char *c)
{
    s->data = (u_char *) c;
    s->len = c ? strlen(c) : 0;
}


static void
t_event(ngx_wsman_wec_event_t *ev, const char *json, const char *xml,
    const char *computer, const char *time, ngx_uint_t id, ngx_uint_t level)
{
    ngx_memzero(ev, sizeof(ngx_wsman_wec_event_t));
    t_str(&ev->json, json);
    t_str(&ev->xml, xml);
    t_str(&ev->computer, computer);
    t_str(&ev->time_created, time);
    t_str(&ev->channel, "Security");
    t_str(&ev->provider, "Microsoft-Windows-Security-Auditing");
    ev->event_id = id;
    ev->level = level;
}


static void
t_batch(ngx_wsman_wec_batch_t *b, ngx_pool_t *pool,
    ngx_wsman_wec_event_t *events, ngx_uint_t n)
{
    ngx_memzero(b, sizeof(ngx_wsman_wec_batch_t));
    b->pool = pool;
    b->log = &unit_log;
    t_str(&b->subscription, "sec");
    t_str(&b->source, "alice]\"\\");
    t_str(&b->machine, "WIN-A.corp");
    t_str(&b->client_addr, "127.0.0.1");
    b->received = 1700000000;              /* 2023-11-14T22:13:20Z */
    b->events = events;
    b->nevents = n;
}


/* a loopback listener of our own; its port */
static int
t_listen(int *port, int do_listen)
{
    int                 fd;
    socklen_t           len;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1) {
        return -1;
    }

    ngx_memzero(&sin, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    len = sizeof(sin);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        || (do_listen && listen(fd, 8) == -1)
        || getsockname(fd, (struct sockaddr *) &sin, &len) == -1)
    {
        close(fd);
        return -1;
    }

    *port = ntohs(sin.sin_port);

    return fd;
}


/* a connection to the listener, or -1 after 3s: a test that fails must
 * not hang */
static int
t_accept(int lfd)
{
    struct pollfd  pfd;

    pfd.fd = lfd;
    pfd.events = POLLIN;

    if (poll(&pfd, 1, 3000) != 1) {
        return -1;
    }

    return accept(lfd, NULL, NULL);
}


/* what arrives on fd until it stays quiet for 300ms (or want bytes) */
static size_t
t_read(int fd, char *buf, size_t size, size_t want)
{
    size_t         got;
    ssize_t        n;
    struct pollfd  pfd;

    got = 0;

    while (got < size - 1) {
        pfd.fd = fd;
        pfd.events = POLLIN;

        if (got >= want || poll(&pfd, 1, 300) != 1) {
            break;
        }

        n = recv(fd, buf + got, size - 1 - got, 0);
        if (n <= 0) {
            break;
        }

        got += n;
    }

    buf[got] = '\0';

    return got;
}


/* the octet-counted frame of msg */
static size_t
t_frame(char *buf, size_t size, const char *msg)
{
    return snprintf(buf, size, "%zu %s", strlen(msg), msg);
}


static double
t_now(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);

    return tv.tv_sec + tv.tv_usec / 1e6;
}


static void
t_conf_errors(void)
{
    ngx_uint_t              i;
    ngx_wsman_wec_output_t  out;

    static const char  *bad[] = {
        "syslog udp://127.0.0.1:514",
        "syslog tcp://127.0.0.1",
        "syslog tcp://127.0.0.1:0",
        "syslog tcp://127.0.0.1:65536",
        "syslog tcp://127.0.0.1:51x",
        "syslog tcp://:514",
        "syslog tcp://[::1:514",
        "syslog tcp://[::1]514",
        "syslog tcp://a/b:514",
        "syslog tcp://127.0.0.1:514 facility=local8",
        "syslog tcp://127.0.0.1:514 format=csv",
        "syslog tcp://127.0.0.1:514 app="
            "x123456789x123456789x123456789x123456789x12345678",
        "syslog tcp://127.0.0.1:514 app=",
        "syslog tcp://127.0.0.1:514 app=caf\xc3\xa9",
        "syslog tcp://127.0.0.1:514 timeout=0",
        "syslog tcp://127.0.0.1:514 timeout=soon",
        "syslog tcp://127.0.0.1:514 colour=red",
        "syslog tcp://127.0.0.1:514 verbose",
        "syslog tcp://127.0.0.1:514 ca=/etc/ssl/certs/ca-certificates.crt",
        "syslog tcp://127.0.0.1:514 verify=off",
        "syslog tls://127.0.0.1:6514 verify=maybe",
        "syslog tls://127.0.0.1:6514 server_name=a/b",
        "syslog tls://127.0.0.1:6514 cert=/etc/ssl/certs/ssl-cert-snakeoil"
            ".pem",
        "syslog tls://127.0.0.1:6514 ca=/nonexistent/ca.pem",
        NULL
    };

    for (i = 0; bad[i]; i++) {
        unit_log_reset();

        if (!UNIT_CHECK(t_configure(&out, bad[i]) == NGX_CONF_ERROR)) {
            printf("  accepted: %s\n", bad[i]);
            continue;
        }

        /* every refusal says what and where */
        if (!UNIT_CHECK(unit_log_contains("conf: output syslog"))) {
            printf("  no message for: %s\n", bad[i]);
        }
    }

    unit_log_reset();
    UNIT_CHECK(t_configure(&out, "syslog tls://127.0.0.1:6514 "
                           "ca=/nonexistent/ca.pem") == NGX_CONF_ERROR);
    UNIT_CHECK(unit_log_contains("/nonexistent/ca.pem"));

    UNIT_CHECK(t_configure(&out, "syslog tcp://127.0.0.1:514")
               == NGX_CONF_OK);
    UNIT_CHECK(t_configure(&out, "syslog tcp://[::1]:514 facility=kern "
                           "app=x format=xml timeout=250ms")
               == NGX_CONF_OK);
    UNIT_CHECK(t_configure(&out, "syslog tcp://logs.example.org:601 "
                           "facility=local7 format=json timeout=1m")
               == NGX_CONF_OK);

    unit_log_reset();
    UNIT_CHECK(t_configure(&out, "syslog tls://[::1]:6514 verify=off")
               == NGX_CONF_OK);
    UNIT_CHECK(unit_log_contains("verify=off"));

    UNIT_CHECK(t_configure(&out, "syslog tls://localhost:6514 "
                           "ca=/etc/ssl/certs/ca-certificates.crt "
                           "server_name=logs.example.org")
               == NGX_CONF_OK);
}


/* the bytes on the wire, the kept connection, the reconnect */
static void
t_wire(void)
{
    int                     lfd, fd, fd2, port;
    char                    line[128], got[8192], want[8192], *w;
    size_t                  n;
    ngx_pool_t             *pool;
    ngx_wsman_wec_batch_t   b;
    ngx_wsman_wec_event_t   ev[3];
    ngx_wsman_wec_output_t  out, xout;

    lfd = t_listen(&port, 1);
    if (!UNIT_CHECK(lfd != -1)) {
        return;
    }

    pool = ngx_create_pool(4096, &unit_log);

    snprintf(line, sizeof(line), "syslog tcp://127.0.0.1:%d "
             "facility=local3 app=wec-test", port);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);

    snprintf(line, sizeof(line), "syslog tcp://127.0.0.1:%d format=xml",
             port);
    UNIT_CHECK(t_configure(&xout, line) == NGX_CONF_OK);

    /* Critical with Windows' seven fractional digits; Verbose without a
     * usable time or Computer (the source names the host), a newline in
     * the text; Warning, malformed, a Computer with a space and a
     * control character, a time with an offset */
    t_event(&ev[0], "{\"a\":1}", "<Event>a</Event>", "WIN-A.corp",
            "2026-12-06T10:20:30.1234567Z", 4624, 1);
    t_event(&ev[1], "{\"m\":\"one\ntwo\"}", "<Event>\nb\n</Event>", "",
            "12/06/2026", 7, 5);
    t_event(&ev[2], "{\"c\":3}", "<Event>c", "bad host\x01",
            "2026-01-02T03:04:05+01:00", 1102, 3);
    ev[2].malformed = 1;

    t_batch(&b, pool, ev, 3);

    UNIT_CHECK(ngx_wsman_wec_syslog_output.write(&out, &b) == NGX_OK);

    fd = t_accept(lfd);
    if (!UNIT_CHECK(fd != -1)) {
        goto done;
    }

    w = want;
    w += t_frame(w, want + sizeof(want) - w,
                 "<154>1 2026-12-06T10:20:30.123456Z WIN-A.corp wec-test - "
                 "4624 " T_SD " {\"a\":1}");
    w += t_frame(w, want + sizeof(want) - w,
                 "<159>1 2023-11-14T22:13:20Z alice]\"\\ wec-test - 7 "
                 T_SD " {\"m\":\"one\ntwo\"}");
    w += t_frame(w, want + sizeof(want) - w,
                 "<156>1 2026-01-02T03:04:05+01:00 bad_host_ wec-test - - "
                 T_SD " {\"c\":3}");

    n = t_read(fd, got, sizeof(got), w - want);
    UNIT_EQ_UINT(n, w - want);
    UNIT_EQ_CSTR(got, want);

    /* the same connection carries the next batch */
    t_batch(&b, pool, ev, 1);
    UNIT_CHECK(ngx_wsman_wec_syslog_output.write(&out, &b) == NGX_OK);

    w = want;
    w += t_frame(w, sizeof(want),
                 "<154>1 2026-12-06T10:20:30.123456Z WIN-A.corp wec-test - "
                 "4624 " T_SD " {\"a\":1}");
    n = t_read(fd, got, sizeof(got), w - want);
    UNIT_EQ_CSTR(got, want);

    /* the server closes: the next batch goes over a new connection, not
     * into the dead one */
    close(fd);
    usleep(50000);

    t_batch(&b, pool, &ev[1], 1);
    unit_log_reset();
    UNIT_CHECK(ngx_wsman_wec_syslog_output.write(&out, &b) == NGX_OK);
    UNIT_CHECK(unit_log_contains("closed the connection"));

    fd = t_accept(lfd);
    if (!UNIT_CHECK(fd != -1)) {
        goto done;
    }

    w = want;
    w += t_frame(w, sizeof(want),
                 "<159>1 2023-11-14T22:13:20Z alice]\"\\ wec-test - 7 "
                 T_SD " {\"m\":\"one\ntwo\"}");
    n = t_read(fd, got, sizeof(got), w - want);
    UNIT_EQ_CSTR(got, want);

    /* format=xml: the event document, default facility local0 and
     * APP-NAME */
    t_batch(&b, pool, ev, 2);
    UNIT_CHECK(ngx_wsman_wec_syslog_output.write(&xout, &b) == NGX_OK);

    fd2 = t_accept(lfd);
    if (UNIT_CHECK(fd2 != -1)) {
        w = want;
        w += t_frame(w, want + sizeof(want) - w,
                     "<130>1 2026-12-06T10:20:30.123456Z WIN-A.corp "
                     "wsman-wec - 4624 " T_SD " <Event>a</Event>");
        w += t_frame(w, want + sizeof(want) - w,
                     "<135>1 2023-11-14T22:13:20Z alice]\"\\ wsman-wec - 7 "
                     T_SD " <Event>\nb\n</Event>");
        n = t_read(fd2, got, sizeof(got), w - want);
        UNIT_EQ_CSTR(got, want);
        close(fd2);
    }

    close(fd);

done:

    ngx_wsman_wec_syslog_output.close(&out);
    ngx_wsman_wec_syslog_output.close(&xout);
    UNIT_CHECK(out.state == NULL);

    ngx_destroy_pool(pool);
    close(lfd);
}


/* nothing listens / a server that takes nothing: NGX_ERROR in time */
static void
t_failures(void)
{
    int                     fd, port;
    char                    line[128], *big;
    double                  t0;
    ngx_int_t               rc;
    ngx_pool_t             *pool;
    ngx_wsman_wec_batch_t   b;
    ngx_wsman_wec_event_t   ev;
    ngx_wsman_wec_output_t  out;

    pool = ngx_create_pool(4096, &unit_log);

    /* a bound socket that does not listen: the port refuses */
    fd = t_listen(&port, 0);
    if (!UNIT_CHECK(fd != -1)) {
        return;
    }

    snprintf(line, sizeof(line), "syslog tcp://127.0.0.1:%d", port);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);

    t_event(&ev, "{}", "<Event/>", "WIN-A", "", 1, 4);
    t_batch(&b, pool, &ev, 1);

    unit_log_reset();
    UNIT_CHECK(ngx_wsman_wec_syslog_output.write(&out, &b) == NGX_ERROR);
    UNIT_CHECK(unit_log_contains("connect() failed"));

    /* and again: no connection was kept from the failure */
    UNIT_CHECK(ngx_wsman_wec_syslog_output.write(&out, &b) == NGX_ERROR);
    ngx_wsman_wec_syslog_output.close(&out);
    close(fd);

    /* a name that does not resolve */
    UNIT_CHECK(t_configure(&out, "syslog tcp://no-such-host.invalid:514")
               == NGX_CONF_OK);
    unit_log_reset();
    UNIT_CHECK(ngx_wsman_wec_syslog_output.write(&out, &b) == NGX_ERROR);
    UNIT_CHECK(unit_log_contains("cannot resolve"));
    ngx_wsman_wec_syslog_output.close(&out);

    /* a server that accepts nothing and reads nothing: 32 MB do not fit
     * into the sockets' buffers, so the write stops making progress */
    fd = t_listen(&port, 1);
    if (!UNIT_CHECK(fd != -1)) {
        return;
    }

    snprintf(line, sizeof(line), "syslog tcp://127.0.0.1:%d timeout=500ms",
             port);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);

    big = malloc(32 * 1024 * 1024 + 1);
    if (UNIT_CHECK(big != NULL)) {
        memset(big, 'x', 32 * 1024 * 1024);
        big[32 * 1024 * 1024] = '\0';

        t_event(&ev, big, "<Event/>", "WIN-A", "", 1, 4);
        t_batch(&b, pool, &ev, 1);

        unit_log_reset();
        t0 = t_now();
        rc = ngx_wsman_wec_syslog_output.write(&out, &b);
        UNIT_CHECK(rc == NGX_ERROR);
        UNIT_CHECK(t_now() - t0 < 5.0);
        UNIT_CHECK(unit_log_contains("sending failed")
                   || unit_log_contains("did not take"));

        free(big);
    }

    ngx_wsman_wec_syslog_output.close(&out);
    close(fd);

    ngx_destroy_pool(pool);
}


static ngx_int_t
t_send_one(ngx_wsman_wec_output_t *out, const char *tag, const char *what,
    ngx_uint_t id, ngx_uint_t level)
{
    char                   json[512], xml[512];
    ngx_int_t              rc;
    ngx_pool_t            *pool;
    ngx_wsman_wec_batch_t  b;
    ngx_wsman_wec_event_t  ev[2];

    pool = ngx_create_pool(4096, &unit_log);

    /* the second event's text spans lines: it must stay one message */
    snprintf(json, sizeof(json), "{\"tag\":\"%s\",\"step\":\"%s\"}",
             tag, what);
    snprintf(xml, sizeof(xml), "<Event><Data>%s\n%s\nline 3</Data></Event>",
             tag, what);

    t_event(&ev[0], json, xml, "WIN-A.corp", "2026-12-06T10:20:30.1234567Z",
            id, level);
    t_event(&ev[1], xml, xml, "WIN-B.corp", "2026-12-06T10:20:31Z",
            id + 1, 2);

    t_batch(&b, pool, ev, 2);

    rc = ngx_wsman_wec_syslog_output.write(out, &b);

    ngx_destroy_pool(pool);

    return rc;
}


static void
t_wait_line(const char *say)
{
    char  buf[64];

    printf("wec_syslog: %s\n", say);
    fflush(stdout);

    if (fgets(buf, sizeof(buf), stdin) == NULL) {
        UNIT_CHECK(!"stdin closed");
    }
}


/* a real rsyslog over TCP */
static void
t_rsyslog_tcp(void)
{
    char                    line[256];
    const char             *addr, *tag;
    ngx_wsman_wec_output_t  out, xout;

    addr = getenv("WSMAN_TEST_SYSLOG_TCP");
    tag = getenv("WSMAN_TEST_SYSLOG_TAG");

    if (addr == NULL || tag == NULL) {
        printf("wec_syslog: no rsyslog over TCP "
               "(WSMAN_TEST_SYSLOG_TCP, _TAG unset): skipped\n");
        return;
    }

    snprintf(line, sizeof(line), "syslog tcp://%s facility=local4 "
             "app=wec-unit", addr);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);
    snprintf(line, sizeof(line), "syslog tcp://%s format=xml", addr);
    UNIT_CHECK(t_configure(&xout, line) == NGX_CONF_OK);

    UNIT_CHECK(t_send_one(&out, tag, "json", 4624, 1) == NGX_OK);
    UNIT_CHECK(t_send_one(&xout, tag, "xml", 4625, 3) == NGX_OK);

    if (getenv("WSMAN_TEST_SYSLOG_RESTART")) {
        /* the connection is kept open meanwhile */
        t_wait_line("stop the server");

        unit_log_reset();
        UNIT_CHECK(t_send_one(&out, tag, "down", 4626, 4) == NGX_ERROR);
        UNIT_CHECK(unit_log_contains("connect() failed"));

        t_wait_line("start the server");

        UNIT_CHECK(t_send_one(&out, tag, "again", 4627, 4) == NGX_OK);
    }

    ngx_wsman_wec_syslog_output.close(&out);
    ngx_wsman_wec_syslog_output.close(&xout);
}


/* a real rsyslog over TLS (imtcp, StreamDriver ossl) */
static void
t_rsyslog_tls(void)
{
    char                    line[1024];
    const char             *addr, *ca, *wrong, *tag;
    ngx_wsman_wec_output_t  out;

    addr = getenv("WSMAN_TEST_SYSLOG_TLS");
    ca = getenv("WSMAN_TEST_SYSLOG_CA");
    wrong = getenv("WSMAN_TEST_SYSLOG_WRONG_CA");
    tag = getenv("WSMAN_TEST_SYSLOG_TAG");

    if (addr == NULL || ca == NULL || wrong == NULL || tag == NULL) {
        printf("wec_syslog: no rsyslog over TLS (WSMAN_TEST_SYSLOG_TLS, "
               "_CA, _WRONG_CA, _TAG unset): skipped\n");
        return;
    }

    /* verified: the CA and the name in the target */
    snprintf(line, sizeof(line), "syslog tls://%s ca=%s", addr, ca);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);
    unit_log_reset();
    UNIT_CHECK(t_send_one(&out, tag, "tls", 4700, 1) == NGX_OK);
    UNIT_CHECK(t_send_one(&out, tag, "tls-kept", 4702, 1) == NGX_OK);
    ngx_wsman_wec_syslog_output.close(&out);

    /* a CA that did not issue the server's certificate */
    snprintf(line, sizeof(line), "syslog tls://%s ca=%s", addr, wrong);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);
    unit_log_reset();
    UNIT_CHECK(t_send_one(&out, tag, "wrong-ca", 4710, 1) == NGX_ERROR);
    UNIT_CHECK(unit_log_contains("not trusted"));
    ngx_wsman_wec_syslog_output.close(&out);

    /* the right CA, another name */
    snprintf(line, sizeof(line), "syslog tls://%s ca=%s "
             "server_name=other.example.org", addr, ca);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);
    unit_log_reset();
    UNIT_CHECK(t_send_one(&out, tag, "wrong-name", 4720, 1) == NGX_ERROR);
    UNIT_CHECK(unit_log_contains("not trusted"));
    ngx_wsman_wec_syslog_output.close(&out);

    /* verify=off takes any certificate */
    snprintf(line, sizeof(line), "syslog tls://%s ca=%s verify=off",
             addr, wrong);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);
    UNIT_CHECK(t_send_one(&out, tag, "unverified", 4730, 1) == NGX_OK);
    ngx_wsman_wec_syslog_output.close(&out);
}


/* a real rsyslog that wants client certificates of its CA (x509/certvalid):
 * in TLS 1.3 it says no only after the client's handshake is done */
static void
t_rsyslog_mtls(void)
{
    char                    line[2048];
    const char             *addr, *ca, *cert, *key, *rogue, *rkey, *tag;
    ngx_wsman_wec_output_t  out;

    addr = getenv("WSMAN_TEST_SYSLOG_MTLS");
    ca = getenv("WSMAN_TEST_SYSLOG_CA");
    cert = getenv("WSMAN_TEST_SYSLOG_CLIENT");
    key = getenv("WSMAN_TEST_SYSLOG_CLIENT_KEY");
    rogue = getenv("WSMAN_TEST_SYSLOG_ROGUE");
    rkey = getenv("WSMAN_TEST_SYSLOG_ROGUE_KEY");
    tag = getenv("WSMAN_TEST_SYSLOG_TAG");

    if (addr == NULL || ca == NULL || cert == NULL || key == NULL
        || rogue == NULL || rkey == NULL || tag == NULL)
    {
        printf("wec_syslog: no rsyslog asking for client certificates "
               "(WSMAN_TEST_SYSLOG_MTLS, _CA, _CLIENT, _CLIENT_KEY, "
               "_ROGUE, _ROGUE_KEY, _TAG unset): skipped\n");
        return;
    }

    snprintf(line, sizeof(line), "syslog tls://%s ca=%s cert=%s key=%s",
             addr, ca, cert, key);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);
    UNIT_CHECK(t_send_one(&out, tag, "mtls", 4800, 1) == NGX_OK);
    UNIT_CHECK(t_send_one(&out, tag, "mtls-kept", 4802, 1) == NGX_OK);
    ngx_wsman_wec_syslog_output.close(&out);

    /* no certificate: the handshake "succeeds", then the alert */
    snprintf(line, sizeof(line), "syslog tls://%s ca=%s", addr, ca);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);
    unit_log_reset();
    UNIT_CHECK(t_send_one(&out, tag, "no-cert", 4810, 1) == NGX_ERROR);
    UNIT_CHECK(unit_log_contains("refused the connection after the TLS "
                                 "handshake"));
    ngx_wsman_wec_syslog_output.close(&out);

    /* a certificate of another CA */
    snprintf(line, sizeof(line), "syslog tls://%s ca=%s cert=%s key=%s",
             addr, ca, rogue, rkey);
    UNIT_CHECK(t_configure(&out, line) == NGX_CONF_OK);
    unit_log_reset();
    UNIT_CHECK(t_send_one(&out, tag, "rogue-cert", 4820, 1) == NGX_ERROR);
    UNIT_CHECK(unit_log_contains("refused the connection after the TLS "
                                 "handshake"));
    ngx_wsman_wec_syslog_output.close(&out);
}

void
unit_test_wec_syslog(void)
{
    /* nginx ignores SIGPIPE; OpenSSL writes with write() */
    signal(SIGPIPE, SIG_IGN);

    t_cf.pool = ngx_create_pool(4096, &unit_log);
    t_cf.log = &unit_log;

    t_conf_errors();
    t_wire();
    t_failures();
    t_rsyslog_tcp();
    t_rsyslog_tls();
    t_rsyslog_mtls();

    ngx_destroy_pool(t_cf.pool);
}
