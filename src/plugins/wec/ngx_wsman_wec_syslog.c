/*
 * The syslog output of the event collector:
 *
 *     output syslog tcp://HOST:PORT|tls://HOST:PORT [ca=FILE]
 *            [cert=FILE key=FILE] [server_name=NAME] [verify=on|off]
 *            [facility=local0] [app=wsman-wec] [format=json|xml]
 *            [timeout=3s];
 *
 * One RFC 5424 message per event, framed by octet counting (RFC 6587
 * 3.4.1) so that an event whose text holds newlines stays one message,
 * over TCP or TLS (OpenSSL, the server's certificate checked against ca=
 * and its name by default).  Each worker keeps one connection, used under
 * out->lock, opened on first use and again after any error.
 *
 * What "durable" means here.  TCP syslog has no application-level
 * acknowledgement: the server never says it stored a message.  write()
 * answers NGX_OK when every byte of the batch was written and (on Linux)
 * the server's TCP stack acknowledged all of it, with the connection
 * still up; a server that dies after that but before it stored the
 * messages loses them, and the source will not send them again.  RELP
 * (rsyslog's Reliable Event Logging Protocol) acknowledges each message,
 * but its library, librelp, is not among the libraries the project
 * builds on; an output "relp" over Debian's librelp-dev is a possible
 * follow-up.
 *
 * Network I/O happens in a thread of the collector's pool only; the
 * sockets are non-blocking and every wait is a poll() of at most
 * timeout= (default 3s) without progress, so a dead or stuck server turns
 * into NGX_ERROR and the source retries later, never into a stuck thread.
 */

#include "ngx_wsman_wec_sink.h"

#include <netdb.h>
#include <poll.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#if (NGX_LINUX)
#include <linux/sockios.h>
#endif

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>


#define NGX_WSMAN_WEC_SYSLOG_HOST_MAX   255   /* RFC 5424 HOSTNAME */
#define NGX_WSMAN_WEC_SYSLOG_APP_MAX    48    /* RFC 5424 APP-NAME */

/* how long a new TLS connection must stay unrefused (at most timeout=) */
#define NGX_WSMAN_WEC_SYSLOG_SETTLE     300

/* "YYYY-MM-DDTHH:MM:SS.ffffff+hh:mm" */
#define NGX_WSMAN_WEC_SYSLOG_TIME_MAX   32

/*
 * No enterprise number is registered for ngx_wsman: 32473 is the one RFC
 * 5612 reserves for examples and documentation.
 */
#define NGX_WSMAN_WEC_SYSLOG_SD_ID      "wec@32473"

/* host names, IPv4 and IPv6 addresses */
#define ngx_wsman_wec_syslog_name_char(c)                                   \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z')               \
     || ((c) >= '0' && (c) <= '9') || (c) == '-' || (c) == '.'              \
     || (c) == ':' || (c) == '_')


typedef struct {
    char                      *host;         /* NUL-terminated */
    char                      *port;
    char                      *server_name;  /* NULL: none (an address) */
    ngx_str_t                  app;
    SSL_CTX                   *ssl_ctx;      /* NULL: plain TCP */
    ngx_msec_t                 timeout;
    ngx_uint_t                 facility;
    unsigned                   xml:1;
    unsigned                   verify:1;
} ngx_wsman_wec_syslog_conf_t;


/* the worker's connection: malloc()ed, it outlives the batches */
typedef struct {
    int                        fd;           /* -1: none */
    SSL                       *ssl;
} ngx_wsman_wec_syslog_conn_t;


static char *ngx_wsman_wec_syslog_configure(ngx_conf_t *cf,
    ngx_wsman_wec_output_t *out, ngx_str_t *args, ngx_uint_t nargs);
static char *ngx_wsman_wec_syslog_target(ngx_conf_t *cf,
    ngx_wsman_wec_syslog_conf_t *scf, ngx_str_t *target,
    ngx_uint_t *tls);
static char *ngx_wsman_wec_syslog_tls(ngx_conf_t *cf,
    ngx_wsman_wec_syslog_conf_t *scf, ngx_str_t *ca, ngx_str_t *cert,
    ngx_str_t *key);
static void ngx_wsman_wec_syslog_ctx_free(void *data);
static char *ngx_wsman_wec_syslog_cstr(ngx_conf_t *cf, ngx_str_t *s,
    ngx_uint_t path);
static ngx_int_t ngx_wsman_wec_syslog_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *batch);
static ngx_int_t ngx_wsman_wec_syslog_format(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *batch, ngx_str_t *data);
static u_char *ngx_wsman_wec_syslog_sd_value(u_char *p, ngx_str_t *v);
static size_t ngx_wsman_wec_syslog_time(u_char *buf, ngx_str_t *t,
    time_t received);
static size_t ngx_wsman_wec_syslog_hostname(u_char *buf,
    ngx_wsman_wec_event_t *ev, ngx_wsman_wec_batch_t *batch);
static ngx_uint_t ngx_wsman_wec_syslog_severity(ngx_uint_t level);
static ngx_int_t ngx_wsman_wec_syslog_connect(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_syslog_handshake(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_syslog_settle(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_syslog_alive(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_syslog_send(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_str_t *data, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_syslog_acked(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log);
static ngx_int_t ngx_wsman_wec_syslog_wait(int fd, short events,
    ngx_msec_t timeout);
static void ngx_wsman_wec_syslog_ssl_error(ngx_wsman_wec_output_t *out,
    ngx_log_t *log, const char *what);
static void ngx_wsman_wec_syslog_drop(ngx_wsman_wec_syslog_conn_t *c);
static void ngx_wsman_wec_syslog_close(ngx_wsman_wec_output_t *out);


ngx_wsman_wec_output_type_t  ngx_wsman_wec_syslog_output = {
    ngx_string("syslog"),
    ngx_wsman_wec_syslog_configure,
    ngx_wsman_wec_syslog_write,
    NULL,
    ngx_wsman_wec_syslog_close
};


/* RFC 5424 6.2.1 */
static ngx_str_t  ngx_wsman_wec_syslog_facilities[] = {
    ngx_string("kern"), ngx_string("user"), ngx_string("mail"),
    ngx_string("daemon"), ngx_string("auth"), ngx_string("syslog"),
    ngx_string("lpr"), ngx_string("news"), ngx_string("uucp"),
    ngx_string("cron"), ngx_string("authpriv"), ngx_string("ftp"),
    ngx_string("ntp"), ngx_string("audit"), ngx_string("alert"),
    ngx_string("clock"), ngx_string("local0"), ngx_string("local1"),
    ngx_string("local2"), ngx_string("local3"), ngx_string("local4"),
    ngx_string("local5"), ngx_string("local6"), ngx_string("local7"),
    ngx_null_string
};


static char *
ngx_wsman_wec_syslog_configure(ngx_conf_t *cf, ngx_wsman_wec_output_t *out,
    ngx_str_t *args, ngx_uint_t nargs)
{
    u_char                       *p;
    ngx_str_t                     name, value, ca, cert, key;
    ngx_int_t                     n;
    ngx_uint_t                    i, f, tls, verify;
    ngx_wsman_wec_syslog_conf_t  *scf;

    scf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_wec_syslog_conf_t));
    if (scf == NULL) {
        return NGX_CONF_ERROR;
    }

    out->conf = scf;

    if (ngx_wsman_wec_syslog_target(cf, scf, &args[1], &tls)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&scf->app, "wsman-wec");
    scf->facility = 16;                                  /* local0 */
    scf->timeout = 3000;
    verify = 1;
    ngx_str_null(&ca);
    ngx_str_null(&cert);
    ngx_str_null(&key);

    for (i = 2; i < nargs; i++) {
        p = ngx_strlchr(args[i].data, args[i].data + args[i].len, '=');
        if (p == NULL) {
            goto invalid;
        }

        name.data = args[i].data;
        name.len = p - args[i].data;
        value.data = p + 1;
        value.len = args[i].data + args[i].len - value.data;

#define ngx_wsman_wec_syslog_is(s)                                          \
    (name.len == sizeof(s) - 1 && ngx_strncmp(name.data, s, name.len) == 0)

        if (ngx_wsman_wec_syslog_is("format")) {
            if (value.len == 4 && ngx_strncmp(value.data, "json", 4) == 0) {
                scf->xml = 0;

            } else if (value.len == 3
                       && ngx_strncmp(value.data, "xml", 3) == 0)
            {
                scf->xml = 1;

            } else {
                goto invalid;
            }

        } else if (ngx_wsman_wec_syslog_is("facility")) {
            for (f = 0; ngx_wsman_wec_syslog_facilities[f].len; f++) {
                if (ngx_wsman_wec_syslog_facilities[f].len == value.len
                    && ngx_strncmp(ngx_wsman_wec_syslog_facilities[f].data,
                                   value.data, value.len) == 0)
                {
                    break;
                }
            }

            if (ngx_wsman_wec_syslog_facilities[f].len == 0) {
                goto invalid;
            }

            scf->facility = f;

        } else if (ngx_wsman_wec_syslog_is("app")) {
            /* APP-NAME: 1*48 PRINTUSASCII */
            if (value.len == 0 || value.len > NGX_WSMAN_WEC_SYSLOG_APP_MAX) {
                goto invalid;
            }

            for (p = value.data; p < value.data + value.len; p++) {
                if (*p < 33 || *p > 126) {
                    goto invalid;
                }
            }

            scf->app = value;

        } else if (ngx_wsman_wec_syslog_is("timeout")) {
            n = ngx_parse_time(&value, 0);
            if (n == NGX_ERROR || n < 1 || n > 600000) {
                goto invalid;
            }

            scf->timeout = (ngx_msec_t) n;

        } else if (tls && ngx_wsman_wec_syslog_is("verify")) {
            if (value.len == 2 && ngx_strncmp(value.data, "on", 2) == 0) {
                verify = 1;

            } else if (value.len == 3
                       && ngx_strncmp(value.data, "off", 3) == 0)
            {
                verify = 0;

            } else {
                goto invalid;
            }

        } else if (tls && ngx_wsman_wec_syslog_is("server_name")) {
            /* a DNS name or an address; it goes into SNI */
            if (value.len == 0 || value.len > 253) {
                goto invalid;
            }

            for (p = value.data; p < value.data + value.len; p++) {
                if (!ngx_wsman_wec_syslog_name_char(*p)) {
                    goto invalid;
                }
            }

            scf->server_name = ngx_wsman_wec_syslog_cstr(cf, &value, 0);
            if (scf->server_name == NULL) {
                return NGX_CONF_ERROR;
            }

        } else if (tls && ngx_wsman_wec_syslog_is("ca") && value.len) {
            ca = value;

        } else if (tls && ngx_wsman_wec_syslog_is("cert") && value.len) {
            cert = value;

        } else if (tls && ngx_wsman_wec_syslog_is("key") && value.len) {
            key = value;

        } else {
            goto invalid;
        }

#undef ngx_wsman_wec_syslog_is
    }

    if (!tls) {
        return NGX_CONF_OK;
    }

    scf->verify = verify;

    if (!verify) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "output syslog \"%V\": verify=off: the server "
                           "is not authenticated", &args[1]);
    }

    return ngx_wsman_wec_syslog_tls(cf, scf, &ca, &cert, &key);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "output syslog \"%V\": invalid parameter \"%V\"",
                       &args[1], &args[i]);
    return NGX_CONF_ERROR;
}


/* tcp://HOST:PORT or tls://HOST:PORT, HOST a name, IPv4 or [IPv6] */
static char *
ngx_wsman_wec_syslog_target(ngx_conf_t *cf, ngx_wsman_wec_syslog_conf_t *scf,
    ngx_str_t *target, ngx_uint_t *tls)
{
    u_char     *p, *last, *colon;
    ngx_str_t   host, port;
    ngx_int_t   n;

    p = target->data;
    last = target->data + target->len;

    if (target->len > 6 && ngx_strncmp(p, "tcp://", 6) == 0) {
        *tls = 0;

    } else if (target->len > 6 && ngx_strncmp(p, "tls://", 6) == 0) {
        *tls = 1;

    } else {
        goto invalid;
    }

    p += 6;

    if (*p == '[') {
        colon = ngx_strlchr(p, last, ']');
        if (colon == NULL || colon + 1 == last || colon[1] != ':') {
            goto invalid;
        }

        host.data = p + 1;
        host.len = colon - host.data;
        colon++;

    } else {
        colon = ngx_strlchr(p, last, ':');
        if (colon == NULL) {
            goto invalid;
        }

        host.data = p;
        host.len = colon - p;
    }

    port.data = colon + 1;
    port.len = last - port.data;

    n = ngx_atoi(port.data, port.len);
    if (n == NGX_ERROR || n < 1 || n > 65535 || host.len == 0
        || host.len > 253)
    {
        goto invalid;
    }

    for (p = host.data; p < host.data + host.len; p++) {
        if (!ngx_wsman_wec_syslog_name_char(*p)) {
            goto invalid;
        }
    }

    scf->host = ngx_wsman_wec_syslog_cstr(cf, &host, 0);
    scf->port = ngx_wsman_wec_syslog_cstr(cf, &port, 0);

    if (scf->host == NULL || scf->port == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the name the certificate must carry, unless server_name= says */
    if (ngx_strlchr(host.data, host.data + host.len, ':') == NULL) {
        scf->server_name = scf->host;

    } else {
        scf->server_name = NULL;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "output syslog: invalid target \"%V\" "
                       "(tcp://HOST:PORT or tls://HOST:PORT)", target);
    return NGX_CONF_ERROR;
}


/*
 * The TLS context is made here, in nginx -t and the master, so that a
 * bad certificate, key or CA file is a configuration error; the workers
 * inherit it and make one SSL object per connection from it.
 */
static char *
ngx_wsman_wec_syslog_tls(ngx_conf_t *cf, ngx_wsman_wec_syslog_conf_t *scf,
    ngx_str_t *ca, ngx_str_t *cert, ngx_str_t *key)
{
    char                *file;
    u_char               msg[256];
    unsigned long        e;
    ngx_pool_cleanup_t  *cln;

    if ((cert->len == 0) != (key->len == 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "output syslog: cert= and key= go together");
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    ERR_clear_error();

    scf->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (scf->ssl_ctx == NULL) {
        file = "SSL_CTX_new()";
        goto failed;
    }

    cln->handler = ngx_wsman_wec_syslog_ctx_free;
    cln->data = scf->ssl_ctx;

    if (SSL_CTX_set_min_proto_version(scf->ssl_ctx, TLS1_2_VERSION) != 1) {
        file = "SSL_CTX_set_min_proto_version()";
        goto failed;
    }

    /* send() may take part of a record; the buffer moves on between
     * retries (ngx_wsman_wec_syslog_send()) */
    SSL_CTX_set_mode(scf->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                                   | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    if (ca->len) {
        file = ngx_wsman_wec_syslog_cstr(cf, ca, 1);
        if (file == NULL) {
            return NGX_CONF_ERROR;
        }

        if (SSL_CTX_load_verify_locations(scf->ssl_ctx, file, NULL) != 1) {
            goto failed;
        }

    } else if (scf->verify) {
        /* the system's trust store */
        if (SSL_CTX_set_default_verify_paths(scf->ssl_ctx) != 1) {
            file = "the default CA paths";
            goto failed;
        }
    }

    SSL_CTX_set_verify(scf->ssl_ctx,
                       scf->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);

    if (cert->len) {
        file = ngx_wsman_wec_syslog_cstr(cf, cert, 1);
        if (file == NULL) {
            return NGX_CONF_ERROR;
        }

        if (SSL_CTX_use_certificate_chain_file(scf->ssl_ctx, file) != 1) {
            goto failed;
        }

        file = ngx_wsman_wec_syslog_cstr(cf, key, 1);
        if (file == NULL) {
            return NGX_CONF_ERROR;
        }

        if (SSL_CTX_use_PrivateKey_file(scf->ssl_ctx, file, SSL_FILETYPE_PEM)
            != 1
            || SSL_CTX_check_private_key(scf->ssl_ctx) != 1)
        {
            goto failed;
        }
    }

    return NGX_CONF_OK;

failed:

    e = ERR_peek_last_error();
    ERR_error_string_n(e, (char *) msg, sizeof(msg));
    ERR_clear_error();

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "output syslog: TLS setup failed at \"%s\": %s",
                       file, e ? (char *) msg : "unknown error");
    return NGX_CONF_ERROR;
}


static void
ngx_wsman_wec_syslog_ctx_free(void *data)
{
    SSL_CTX_free(data);
}


/* a NUL-terminated copy; path: relative to the prefix, as nginx does */
static char *
ngx_wsman_wec_syslog_cstr(ngx_conf_t *cf, ngx_str_t *s, ngx_uint_t path)
{
    ngx_str_t  name;

    name.len = s->len;
    name.data = ngx_pnalloc(cf->pool, s->len + 1);
    if (name.data == NULL) {
        return NULL;
    }

    ngx_memcpy(name.data, s->data, s->len);
    name.data[s->len] = '\0';

    if (path && ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NULL;
    }

    return (char *) name.data;
}


static ngx_int_t
ngx_wsman_wec_syslog_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *batch)
{
    ngx_int_t                     rc;
    ngx_str_t                     data;
    ngx_wsman_wec_syslog_conn_t  *c;

    /* the messages are made before the lock: other batches go on */
    if (ngx_wsman_wec_syslog_format(out, batch, &data) != NGX_OK) {
        return NGX_ERROR;
    }

    if (pthread_mutex_lock(&out->lock) != 0) {
        ngx_log_error(NGX_LOG_ALERT, batch->log, 0,
                      "wec syslog \"%V\": pthread_mutex_lock() failed",
                      &out->target);
        return NGX_ERROR;
    }

    c = out->state;

    if (c == NULL) {
        c = malloc(sizeof(ngx_wsman_wec_syslog_conn_t));
        if (c == NULL) {
            ngx_log_error(NGX_LOG_ALERT, batch->log, ngx_errno,
                          "wec syslog \"%V\": malloc() failed",
                          &out->target);
            rc = NGX_ERROR;
            goto done;
        }

        c->fd = -1;
        c->ssl = NULL;
        out->state = c;
    }

    /*
     * A server that went away closed the kept connection: the first
     * write into it would still "succeed".  Find out before writing.
     */
    if (c->fd != -1 && ngx_wsman_wec_syslog_alive(out, c, batch->log)
                       != NGX_OK)
    {
        ngx_wsman_wec_syslog_drop(c);
    }

    if (c->fd == -1) {
        rc = ngx_wsman_wec_syslog_connect(out, c, batch->log);
        if (rc != NGX_OK) {
            ngx_wsman_wec_syslog_drop(c);
            goto done;
        }
    }

    rc = ngx_wsman_wec_syslog_send(out, c, &data, batch->log);

    if (rc == NGX_OK) {
        rc = ngx_wsman_wec_syslog_acked(out, c, batch->log);
    }

    if (rc != NGX_OK) {
        ngx_wsman_wec_syslog_drop(c);

    } else {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, batch->log, 0,
                       "wec syslog \"%V\": %ui events, %uz bytes",
                       &out->target, batch->nevents, data.len);
    }

done:

    (void) pthread_mutex_unlock(&out->lock);

    return rc;
}


/*
 * The batch as one buffer of octet-counted RFC 5424 messages:
 *
 *   LEN SP <PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [SD] SP MSG
 *
 * MSG is the event's JSON or XML, without a BOM: receivers keep a BOM as
 * part of the text, and then the JSON no longer parses there.
 */
static ngx_int_t
ngx_wsman_wec_syslog_format(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *batch, ngx_str_t *data)
{
    u_char                       *p, *sd, *hdr, *h, *sd_end;
    u_char                        host[NGX_WSMAN_WEC_SYSLOG_HOST_MAX];
    u_char                        tm[NGX_WSMAN_WEC_SYSLOG_TIME_MAX];
    size_t                        size, hmax, hlen, tlen, hostlen;
    ngx_str_t                    *msg;
    ngx_uint_t                    i;
    ngx_wsman_wec_event_t        *ev;
    ngx_wsman_wec_syslog_conf_t  *scf;

    scf = out->conf;

    /* one STRUCTURED-DATA element for the whole batch; a value may
     * double in size by escaping */
    size = sizeof("[" NGX_WSMAN_WEC_SYSLOG_SD_ID " subscription=\"\""
                  " source=\"\" machine=\"\"]") - 1
           + 2 * (batch->subscription.len + batch->source.len
                  + batch->machine.len);

    sd = ngx_pnalloc(batch->pool, size);
    if (sd == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(sd, "[" NGX_WSMAN_WEC_SYSLOG_SD_ID " subscription=\"",
                   sizeof("[" NGX_WSMAN_WEC_SYSLOG_SD_ID
                          " subscription=\"") - 1);
    p = ngx_wsman_wec_syslog_sd_value(p, &batch->subscription);
    p = ngx_cpymem(p, "\" source=\"", sizeof("\" source=\"") - 1);
    p = ngx_wsman_wec_syslog_sd_value(p, &batch->source);

    if (batch->machine.len) {
        p = ngx_cpymem(p, "\" machine=\"", sizeof("\" machine=\"") - 1);
        p = ngx_wsman_wec_syslog_sd_value(p, &batch->machine);
    }

    *p++ = '"';
    *p++ = ']';
    sd_end = p;

    /* everything but MSG */
    hmax = sizeof("<191>1 ") - 1 + NGX_WSMAN_WEC_SYSLOG_TIME_MAX + 1
           + NGX_WSMAN_WEC_SYSLOG_HOST_MAX + 1 + scf->app.len
           + sizeof(" - ") - 1 + NGX_INT_T_LEN + 1 + (sd_end - sd) + 1;

    size = 0;

    for (i = 0; i < batch->nevents; i++) {
        msg = scf->xml ? &batch->events[i].xml : &batch->events[i].json;
        size += NGX_SIZE_T_LEN + 1 + hmax + msg->len;
    }

    hdr = ngx_pnalloc(batch->pool, hmax);
    data->data = ngx_pnalloc(batch->pool, size);

    if (hdr == NULL || data->data == NULL) {
        return NGX_ERROR;
    }

    p = data->data;

    for (i = 0; i < batch->nevents; i++) {
        ev = &batch->events[i];
        msg = scf->xml ? &ev->xml : &ev->json;

        tlen = ngx_wsman_wec_syslog_time(tm, &ev->time_created,
                                         batch->received);
        hostlen = ngx_wsman_wec_syslog_hostname(host, ev, batch);

        h = ngx_sprintf(hdr, "<%ui>1 %*s %*s %V ",
                        scf->facility * 8
                        + ngx_wsman_wec_syslog_severity(ev->level),
                        tlen, tm, hostlen, host, &scf->app);

        /* PROCID: a worker's pid says nothing about the event */
        *h++ = '-';
        *h++ = ' ';

        if (ev->malformed) {
            *h++ = '-';

        } else {
            h = ngx_sprintf(h, "%ui", ev->event_id);
        }

        *h++ = ' ';
        h = ngx_cpymem(h, sd, sd_end - sd);

        hlen = h - hdr;

        if (msg->len) {
            p = ngx_sprintf(p, "%uz ", hlen + 1 + msg->len);
            p = ngx_cpymem(p, hdr, hlen);
            *p++ = ' ';
            p = ngx_cpymem(p, msg->data, msg->len);

        } else {
            p = ngx_sprintf(p, "%uz ", hlen);
            p = ngx_cpymem(p, hdr, hlen);
        }
    }

    data->len = p - data->data;

    return NGX_OK;
}


/* RFC 5424 6.3.3: '"', '\' and ']' escaped; control characters would
 * break a line-based reader of the header, they become '?' */
static u_char *
ngx_wsman_wec_syslog_sd_value(u_char *p, ngx_str_t *v)
{
    u_char  *s;

    for (s = v->data; s < v->data + v->len; s++) {
        if (*s == '"' || *s == '\\' || *s == ']') {
            *p++ = '\\';
            *p++ = *s;

        } else if (*s < 0x20 || *s == 0x7f) {
            *p++ = '?';

        } else {
            *p++ = *s;
        }
    }

    return p;
}


/*
 * TIMESTAMP: the event's TimeCreated when it is an RFC 3339 time, with
 * Windows' seven fractional digits cut to the six RFC 5424 allows;
 * otherwise the time the batch arrived.
 */
static size_t
ngx_wsman_wec_syslog_time(u_char *buf, ngx_str_t *t, time_t received)
{
    u_char     *s, *last, *p;
    struct tm   tm;
    ngx_uint_t  i, n;

    static const u_char  shape[] = "dddd-dd-ddTdd:dd:dd";

    s = t->data;
    last = t->data + t->len;

    if (t->len < sizeof(shape) - 1 + 1) {
        goto received;
    }

    for (i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
        {
            goto received;
        }
    }

    p = ngx_cpymem(buf, s, sizeof(shape) - 1);
    s += sizeof(shape) - 1;

    if (*s == '.') {
        s++;

        for (n = 0; s < last && *s >= '0' && *s <= '9'; s++, n++) {
            if (n == 0) {
                *p++ = '.';
            }

            if (n < 6) {
                *p++ = *s;
            }
        }

        if (n == 0) {
            goto received;
        }
    }

    if (s + 1 == last && (*s == 'Z' || *s == 'z')) {
        *p++ = 'Z';
        return p - buf;
    }

    if (s + 6 == last && (*s == '+' || *s == '-')
        && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
        && s[3] == ':'
        && s[4] >= '0' && s[4] <= '9' && s[5] >= '0' && s[5] <= '9')
    {
        return ngx_cpymem(p, s, 6) - buf;
    }

received:

    if (received <= 0 || gmtime_r(&received, &tm) == NULL) {
        *buf = '-';
        return 1;
    }

    return ngx_sprintf(buf, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec)
           - buf;
}


/* HOSTNAME: the event's Computer, else the source; 1*255 PRINTUSASCII */
static size_t
ngx_wsman_wec_syslog_hostname(u_char *buf, ngx_wsman_wec_event_t *ev,
    ngx_wsman_wec_batch_t *batch)
{
    size_t      i, len;
    ngx_str_t  *name;

    name = ev->computer.len ? &ev->computer : &batch->source;

    if (name->len == 0) {
        *buf = '-';
        return 1;
    }

    len = ngx_min(name->len, NGX_WSMAN_WEC_SYSLOG_HOST_MAX);

    for (i = 0; i < len; i++) {
        buf[i] = (name->data[i] >= 33 && name->data[i] <= 126)
                 ? name->data[i] : '_';
    }

    return len;
}


/* the event's Level as a syslog severity (RFC 5424 6.2.1) */
static ngx_uint_t
ngx_wsman_wec_syslog_severity(ngx_uint_t level)
{
    switch (level) {
    case 1:                                  /* Critical */
        return 2;
    case 2:                                  /* Error */
        return 3;
    case 3:                                  /* Warning */
        return 4;
    case 5:                                  /* Verbose */
        return 7;
    default:                                 /* 4 Information, 0 LogAlways,
                                                providers' own levels */
        return 6;
    }
}


static ngx_int_t
ngx_wsman_wec_syslog_connect(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log)
{
    int                           fd, rc, err, one;
    socklen_t                     len;
    struct addrinfo               hints, *res, *ai;
    ngx_wsman_wec_syslog_conf_t  *scf;

    scf = out->conf;

    ngx_memzero(&hints, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;

    /* a pool thread: the resolver may block it (for as long as
     * resolv.conf's timeouts allow), not the event loop */
    rc = getaddrinfo(scf->host, scf->port, &hints, &res);
    if (rc != 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wec syslog \"%V\": cannot resolve \"%s\": %s",
                      &out->target, scf->host, gai_strerror(rc));
        return NGX_ERROR;
    }

    fd = -1;
    err = 0;

    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd == -1) {
            err = ngx_socket_errno;
            continue;
        }

        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }

        err = ngx_socket_errno;

        if (err == NGX_EINPROGRESS) {
            rc = ngx_wsman_wec_syslog_wait(fd, POLLOUT, scf->timeout);

            if (rc == NGX_OK) {
                len = sizeof(int);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
                    err = ngx_socket_errno;
                }

                if (err == 0) {
                    break;
                }

            } else {
                err = (rc == NGX_AGAIN) ? NGX_ETIMEDOUT : ngx_socket_errno;
            }
        }

        close(fd);
        fd = -1;
    }

    freeaddrinfo(res);

    if (fd == -1) {
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "wec syslog \"%V\": connect() failed", &out->target);
        return NGX_ERROR;
    }

    /* whole batches go out at once: no reason to hold back the tail */
    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(int));

    c->fd = fd;

    if (scf->ssl_ctx) {
        return ngx_wsman_wec_syslog_handshake(out, c, log);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_wec_syslog_handshake(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log)
{
    int                           n, e;
    long                          vr;
    ngx_int_t                     rc;
    ngx_wsman_wec_syslog_conf_t  *scf;

    scf = out->conf;

    ERR_clear_error();

    c->ssl = SSL_new(scf->ssl_ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        ngx_wsman_wec_syslog_ssl_error(out, log, "SSL_new()");
        return NGX_ERROR;
    }

    if (scf->server_name) {
        /* SNI takes names only; SSL_set1_host() checks an address
         * against the IP SANs */
        if (ngx_strlchr((u_char *) scf->server_name,
                        (u_char *) scf->server_name
                        + ngx_strlen(scf->server_name), ':') == NULL
            && inet_addr(scf->server_name) == INADDR_NONE
            && SSL_set_tlsext_host_name(c->ssl, scf->server_name) != 1)
        {
            ngx_wsman_wec_syslog_ssl_error(out, log, "SNI");
            return NGX_ERROR;
        }

        if (scf->verify && SSL_set1_host(c->ssl, scf->server_name) != 1) {
            ngx_wsman_wec_syslog_ssl_error(out, log, "SSL_set1_host()");
            return NGX_ERROR;
        }
    }

    SSL_set_connect_state(c->ssl);

    for ( ;; ) {
        ERR_clear_error();

        n = SSL_do_handshake(c->ssl);
        if (n == 1) {
            return ngx_wsman_wec_syslog_settle(out, c, log);
        }

        e = SSL_get_error(c->ssl, n);

        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            rc = ngx_wsman_wec_syslog_wait(c->fd,
                                           e == SSL_ERROR_WANT_READ
                                           ? POLLIN : POLLOUT,
                                           scf->timeout);
            if (rc == NGX_OK) {
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, log,
                          rc == NGX_AGAIN ? NGX_ETIMEDOUT : ngx_socket_errno,
                          "wec syslog \"%V\": TLS handshake failed",
                          &out->target);
            return NGX_ERROR;
        }

        vr = SSL_get_verify_result(c->ssl);

        if (vr != X509_V_OK) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wec syslog \"%V\": the server's certificate "
                          "is not trusted: %s", &out->target,
                          X509_verify_cert_error_string(vr));
            ERR_clear_error();
            return NGX_ERROR;
        }

        ngx_wsman_wec_syslog_ssl_error(out, log, "TLS handshake");
        return NGX_ERROR;
    }
}


/*
 * A finished handshake is not an accepted connection.  In TLS 1.3 the
 * server checks the client's certificate after the client is done (a
 * missing or untrusted one gets an alert then), and rsyslog checks a
 * client's name or fingerprint after its handshake too: a batch sent at
 * once would be taken by the server's TCP stack and thrown away.  So a
 * new connection is trusted only after the server let it be for a moment
 * (what it sends meanwhile, session tickets, is read and dropped).
 */
static ngx_int_t
ngx_wsman_wec_syslog_settle(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log)
{
    int                           n, e;
    u_char                        buf[512];
    ngx_msec_t                    left, waited;
    struct timespec               ts;
    ngx_msec_int_t                start, now;
    ngx_wsman_wec_syslog_conf_t  *scf;

    scf = out->conf;

    left = ngx_min(scf->timeout, NGX_WSMAN_WEC_SYSLOG_SETTLE);

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    start = (ngx_msec_int_t) (ts.tv_sec * 1000 + ts.tv_nsec / 1000000);

    for ( ;; ) {
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (ngx_msec_int_t) (ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        waited = (ngx_msec_t) (now - start);

        if (waited >= left) {
            return NGX_OK;
        }

        if (ngx_wsman_wec_syslog_wait(c->fd, POLLIN, left - waited)
            == NGX_AGAIN)
        {
            return NGX_OK;
        }

        ERR_clear_error();

        n = SSL_read(c->ssl, buf, sizeof(buf));
        if (n > 0) {
            continue;
        }

        e = SSL_get_error(c->ssl, n);

        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            continue;
        }

        ERR_error_string_n(ERR_peek_last_error(), (char *) buf,
                           sizeof(buf));
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wec syslog \"%V\": the server refused the "
                      "connection after the TLS handshake: %s",
                      &out->target,
                      (e == SSL_ERROR_ZERO_RETURN
                       || ERR_peek_last_error() == 0)
                      ? "closed" : (char *) buf);
        ERR_clear_error();
        return NGX_ERROR;
    }
}


/*
 * Syslog servers send nothing: readable means the end of the stream (or
 * a TLS alert or close_notify), except for TLS 1.3 session tickets,
 * which SSL_read() takes in and then wants more.
 */
static ngx_int_t
ngx_wsman_wec_syslog_alive(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log)
{
    int      e;
    u_char   buf[512];
    ssize_t  n;

    for ( ;; ) {
        if (c->ssl) {
            ERR_clear_error();

            n = SSL_read(c->ssl, buf, sizeof(buf));
            if (n > 0) {
                continue;
            }

            e = SSL_get_error(c->ssl, n);
            ERR_clear_error();

            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                return NGX_OK;
            }

        } else {
            n = recv(c->fd, buf, sizeof(buf), 0);
            if (n > 0) {
                continue;
            }

            if (n == -1 && (ngx_socket_errno == NGX_EAGAIN
                            || ngx_socket_errno == NGX_EINTR))
            {
                return NGX_OK;
            }
        }

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "wec syslog \"%V\": the server closed the "
                      "connection, reconnecting", &out->target);
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_wsman_wec_syslog_send(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_str_t *data, ngx_log_t *log)
{
    int                           e;
    short                         events;
    u_char                       *p, *last;
    ssize_t                       n;
    ngx_int_t                     rc;
    ngx_wsman_wec_syslog_conf_t  *scf;

    scf = out->conf;

    p = data->data;
    last = data->data + data->len;

    while (p < last) {

        if (c->ssl) {
            ERR_clear_error();

            n = SSL_write(c->ssl, p,
                          (int) ngx_min(last - p, NGX_MAX_INT32_VALUE));
            if (n > 0) {
                p += n;
                continue;
            }

            e = SSL_get_error(c->ssl, n);

            if (e == SSL_ERROR_WANT_WRITE) {
                events = POLLOUT;

            } else if (e == SSL_ERROR_WANT_READ) {
                events = POLLIN;

            } else {
                ngx_wsman_wec_syslog_ssl_error(out, log, "SSL_write()");
                return NGX_ERROR;
            }

        } else {
            n = send(c->fd, p, last - p, MSG_NOSIGNAL);
            if (n > 0) {
                p += n;
                continue;
            }

            if (n == -1 && ngx_socket_errno == NGX_EINTR) {
                continue;
            }

            if (n == -1 && ngx_socket_errno != NGX_EAGAIN) {
                ngx_log_error(NGX_LOG_ERR, log, ngx_socket_errno,
                              "wec syslog \"%V\": send() failed",
                              &out->target);
                return NGX_ERROR;
            }

            events = POLLOUT;
        }

        /* the timeout is between two writes that made progress, as
         * nginx's send_timeout: a large batch may take longer */
        rc = ngx_wsman_wec_syslog_wait(c->fd, events, scf->timeout);

        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, log,
                          rc == NGX_AGAIN ? NGX_ETIMEDOUT : ngx_socket_errno,
                          "wec syslog \"%V\": sending failed, %uz of %uz "
                          "bytes written", &out->target,
                          (size_t) (p - data->data), data->len);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Written is not received: wait until the server's TCP stack has
 * acknowledged every byte (nothing left in our send queue) and the
 * connection was not reset meanwhile.  Linux tells the queue's length;
 * elsewhere written has to do.
 */
static ngx_int_t
ngx_wsman_wec_syslog_acked(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_syslog_conn_t *c, ngx_log_t *log)
{
#if (NGX_LINUX)

    int                           queued, last, err;
    socklen_t                     len;
    ngx_msec_t                    waited, pause;
    struct tcp_info               ti;
    ngx_wsman_wec_syslog_conf_t  *scf;

    scf = out->conf;

    waited = 0;
    pause = 1;
    last = -1;

    for ( ;; ) {
        if (ioctl(c->fd, SIOCOUTQ, &queued) == -1) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_socket_errno,
                          "wec syslog \"%V\": ioctl(SIOCOUTQ) failed",
                          &out->target);
            return NGX_ERROR;
        }

        if (queued == 0) {
            break;
        }

        if (queued != last) {
            /* progress: the timeout starts again */
            last = queued;
            waited = 0;

        } else if (waited >= scf->timeout) {
            ngx_log_error(NGX_LOG_ERR, log, NGX_ETIMEDOUT,
                          "wec syslog \"%V\": the server did not take "
                          "the last %d bytes", &out->target, queued);
            return NGX_ERROR;
        }

        /* a thread of the pool: sleeping here blocks no event loop */
        (void) poll(NULL, 0, (int) pause);
        waited += pause;
        pause = ngx_min(pause * 2, 20);
    }

    /* a reset empties the queue too */
    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    len = sizeof(struct tcp_info);

    if (err == 0
        && (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1
            || (ti.tcpi_state != TCP_ESTABLISHED
                && ti.tcpi_state != TCP_CLOSE_WAIT)))
    {
        err = NGX_ECONNRESET;
    }

    if (err) {
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "wec syslog \"%V\": the connection failed while "
                      "the server took the batch", &out->target);
        return NGX_ERROR;
    }

#endif

    return NGX_OK;
}


/* NGX_OK: ready; NGX_AGAIN: timed out; NGX_ERROR: poll() failed */
static ngx_int_t
ngx_wsman_wec_syslog_wait(int fd, short events, ngx_msec_t timeout)
{
    int            n;
    struct pollfd  pfd;

    pfd.fd = fd;
    pfd.events = events;
    pfd.revents = 0;

    do {
        n = poll(&pfd, 1, (int) timeout);
    } while (n == -1 && ngx_socket_errno == NGX_EINTR);

    if (n == -1) {
        return NGX_ERROR;
    }

    if (n == 0) {
        return NGX_AGAIN;
    }

    /* an error or hang-up: the next call says which */
    return NGX_OK;
}


static void
ngx_wsman_wec_syslog_ssl_error(ngx_wsman_wec_output_t *out, ngx_log_t *log,
    const char *what)
{
    u_char         msg[256];
    ngx_err_t      err;
    unsigned long  e;

    err = ngx_socket_errno;
    e = ERR_peek_last_error();

    if (e) {
        ERR_error_string_n(e, (char *) msg, sizeof(msg));
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wec syslog \"%V\": %s failed: %s", &out->target,
                      what, msg);

    } else {
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "wec syslog \"%V\": %s failed", &out->target, what);
    }

    ERR_clear_error();
}


static void
ngx_wsman_wec_syslog_drop(ngx_wsman_wec_syslog_conn_t *c)
{
    if (c->ssl) {
        /* no close_notify: the connection is broken or the worker
         * leaves; waiting for the peer would only cost time */
        SSL_free(c->ssl);
        c->ssl = NULL;
    }

    if (c->fd != -1) {
        (void) close(c->fd);
        c->fd = -1;
    }
}


/* the worker's exit: a task still writing finishes first (its waits
 * are bounded by timeout=) */
static void
ngx_wsman_wec_syslog_close(ngx_wsman_wec_output_t *out)
{
    ngx_int_t                     locked;
    ngx_wsman_wec_syslog_conn_t  *c;

    locked = (pthread_mutex_lock(&out->lock) == 0);

    c = out->state;

    if (c) {
        ngx_wsman_wec_syslog_drop(c);
        free(c);
        out->state = NULL;
    }

    if (locked) {
        (void) pthread_mutex_unlock(&out->lock);
    }
}
