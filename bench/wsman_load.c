/*
 * Load driver for what wrk cannot do (not a test; built and run by
 * bench/wrk_bench.py):
 *
 *   wsman_load ntlm PORT PATH SECONDS CONNS USER PASSWORD DOMAIN XMLFILE
 *       CONNS kept-alive connections, each authenticated once with NTLM
 *       (gss-ntlmssp through GSSAPI, like pywinrm), then POSTing XMLFILE
 *       sealed as HTTP-SPNEGO-session-encrypted for SECONDS; every answer
 *       is unsealed and checked.
 *
 *   wsman_load plain PORT PATH SECONDS CONNS SIZE
 *       the same connections and request loop without NTLM: POSTs SIZE
 *       bytes with the same Content-Type (the baseline, e.g. a location
 *       that answers "return 200" with a body of the sealed answer's size).
 *
 *   wsman_load idle PORT PATH CONNS USER PASSWORD DOMAIN XMLFILE
 *       opens CONNS connections one after the other, authenticates each
 *       and sends one sealed request, prints "READY", and keeps them open
 *       until stdin is closed (memory per idle authenticated connection).
 *
 *   wsman_load shell PORT PATH SECONDS AUTH DIR
 *       WinRS round trips on one kept-alive connection with the
 *       Authorization header AUTH: Create, Command, Receive until Done,
 *       Delete, from the envelopes DIR/create.xml, command.xml,
 *       receive.xml and delete.xml (@SHELL@ and @COMMAND@ are replaced).
 *
 *   wsman_load spawn SECONDS PROGRAM
 *       fork + exec + wait of PROGRAM (no arguments) in a loop.
 *
 *   wsman_load post PORT PATH SECONDS CONNS TYPE BODYFILE AUTHFILE [HEADER]
 *       CONNS kept-alive connections POSTing BODYFILE as it is (e.g. a
 *       UTF-16 Events batch) with Content-Type TYPE for SECONDS; the
 *       connection i sends line i (modulo their number) of AUTHFILE as
 *       its Authorization header, and HEADER ("Name: value", e.g.
 *       Content-Encoding: SLDC) when given.  Only a 200 counts (an Ack;
 *       a fault is an error).
 *
 *   wsman_load write DIR SECONDS THREADS BATCHFILE
 *       the disk's baseline for an output: THREADS threads, each
 *       appending BATCHFILE to a file of its own in DIR with one write()
 *       and one fdatasync() per batch, as the json_file output does.
 *
 *   wsman_load beat PORT PATH CONNS WINDOW BODYFILE
 *       CONNS simulated sources, one kept-alive connection each: source
 *       N is user srcN, password Src-Pw-N (Basic), its body BODYFILE
 *       (ASCII) with every @N@ replaced by N, sent in UTF-16LE with a
 *       BOM like Windows.  Every line read from stdin starts a round:
 *       each source sends one request, WINDOW connections at a time
 *       (all sent, then all answers read), and the round's JSON line is
 *       printed; the connections stay open until stdin is closed.
 *
 * Prints one line: JSON with requests, errors, seconds, p50_us, p99_us
 * (post, write and beat add cpu_s: the driver's own CPU seconds).
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <openssl/evp.h>


#define BOUNDARY   "--Encrypted Boundary"
#define PROTOCOL   "application/HTTP-SPNEGO-session-encrypted"
#define SOAP_TYPE  "application/soap+xml;charset=UTF-8"
#define ENC_TYPE   "multipart/encrypted;protocol=\"" PROTOCOL "\";" \
                   "boundary=\"Encrypted Boundary\""
#define RESP_MAX   (16 * 1024 * 1024)


typedef struct {
    int            fd;
    gss_ctx_id_t   ctx;
    char          *resp;        /* one response: head, then body */
    size_t         len, size;   /* bytes in resp, its capacity */
    size_t         body_at, body_len;
    int            status;
    char           www[8192];   /* WWW-Authenticate: Negotiate <token> */
} conn_t;


typedef struct {
    pthread_t      tid;
    uint32_t      *lat;         /* microseconds */
    size_t         n, cap;
    unsigned long  errors;
} worker_t;


static const char  *mode, *path, *user, *password, *domain, *post_type;
static const char  *post_header;
static char       **auths;
static int          nauths;
static worker_t    *workers;    /* post: a thread's index is its line */
static char        *xml;
static size_t       xml_len, plain_size;
static int          port;
static double       seconds;
static gss_OID_desc ntlm_oid = { 10, (void *) "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a" };


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* the driver's own CPU (user + system, every thread): it must stay
 * well below the server's for a figure to be the server's */
static double
cpu_seconds(void)
{
    struct rusage  ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
           + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


static void
die(const char *what)
{
    fprintf(stderr, "wsman_load: %s\n", what);
    exit(2);
}


static void
gss_die(const char *what, OM_uint32 major, OM_uint32 minor)
{
    OM_uint32        min, ctx = 0;
    gss_buffer_desc  msg;

    fprintf(stderr, "wsman_load: %s failed:", what);
    gss_display_status(&min, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx,
                       &msg);
    fprintf(stderr, " %.*s", (int) msg.length, (char *) msg.value);
    gss_release_buffer(&min, &msg);
    ctx = 0;
    gss_display_status(&min, minor, GSS_C_MECH_CODE, GSS_C_NO_OID, &ctx,
                       &msg);
    fprintf(stderr, " (%.*s)\n", (int) msg.length, (char *) msg.value);
    gss_release_buffer(&min, &msg);
    exit(2);
}


static char *
read_file(const char *name, size_t *len)
{
    FILE  *f;
    char  *p;
    long   n;

    f = fopen(name, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
        die("cannot read the request file");
    }

    rewind(f);
    p = malloc(n + 1);
    if (p == NULL || fread(p, 1, n, f) != (size_t) n) {
        die("cannot read the request file");
    }

    fclose(f);
    p[n] = '\0';
    *len = n;

    return p;
}


static int
connect_to(void)
{
    int                 fd, one = 1;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        die("socket() failed");
    }

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0) {
        die("connect() failed");
    }

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    return fd;
}


static int
send_all(int fd, const char *p, size_t len)
{
    ssize_t  n;

    while (len) {
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= n;
    }

    return 0;
}


static int
post(conn_t *c, const char *type, const char *auth, const char *body,
    size_t body_len)
{
    int      hlen;
    char     head[16384];

    hlen = snprintf(head, sizeof(head),
                    "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    "Content-Length: %zu\r\n%s%s%s%s%s\r\n",
                    path, port, body_len,
                    type ? "Content-Type: " : "", type ? type : "",
                    type ? "\r\n" : "",
                    auth ? auth : "", auth ? "\r\n" : "");

    if (hlen <= 0 || (size_t) hlen >= sizeof(head)) {
        die("request head too long");
    }

    if (send_all(c->fd, head, hlen) != 0
        || send_all(c->fd, body, body_len) != 0)
    {
        return -1;
    }

    return 0;
}


/* one response into c->resp; keep-alive, Content-Length bodies only */
static int
receive(conn_t *c)
{
    char     *p, *end, *line, *eol;
    size_t    need;
    ssize_t   n;
    long      clen;

    c->len = 0;
    c->www[0] = '\0';
    end = NULL;

    for ( ;; ) {
        if (c->size - c->len < 65536) {
            c->size = c->size ? c->size * 2 : 262144;
            if (c->size > RESP_MAX) {
                return -1;
            }
            c->resp = realloc(c->resp, c->size);
            if (c->resp == NULL) {
                die("out of memory");
            }
        }

        n = recv(c->fd, c->resp + c->len, c->size - c->len - 1, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return -1;
        }

        c->len += n;
        c->resp[c->len] = '\0';

        end = strstr(c->resp, "\r\n\r\n");
        if (end) {
            break;
        }
    }

    c->status = atoi(c->resp + 9);
    c->body_at = end + 4 - c->resp;
    clen = -1;

    for (line = strstr(c->resp, "\r\n") + 2; line < end; line = eol + 2) {
        eol = strstr(line, "\r\n");
        if (strncasecmp(line, "Content-Length:", 15) == 0) {
            clen = strtol(line + 15, NULL, 10);
        } else if (strncasecmp(line, "WWW-Authenticate: Negotiate ", 28) == 0
                   && eol - line - 28 < (long) sizeof(c->www))
        {
            memcpy(c->www, line + 28, eol - line - 28);
            c->www[eol - line - 28] = '\0';
        }
    }

    if (clen < 0) {
        return -1;
    }

    c->body_len = clen;
    need = c->body_at + clen;

    while (c->len < need) {
        if (need + 1 > c->size) {
            c->size = need + 1;
            c->resp = realloc(c->resp, c->size);
            if (c->resp == NULL) {
                die("out of memory");
            }
        }

        n = recv(c->fd, c->resp + c->len, need - c->len, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return -1;
        }

        c->len += n;
    }

    p = c->resp;
    p[need] = '\0';

    return 0;
}


static char *
b64(const unsigned char *in, size_t len)
{
    char  *out;

    out = malloc(4 * ((len + 2) / 3) + 1);
    if (out == NULL) {
        die("out of memory");
    }

    EVP_EncodeBlock((unsigned char *) out, in, (int) len);

    return out;
}


/* NTLM over Negotiate: two legs, the identity then lives on the socket */
static void
handshake(conn_t *c)
{
    int              len;
    char             auth[16384], *enc;
    OM_uint32        major, minor;
    gss_name_t       name, target;
    gss_cred_id_t    cred;
    gss_OID_set_desc mechs = { 1, &ntlm_oid };
    gss_buffer_desc  in, out, buf;
    unsigned char    tok[8192];

    snprintf(auth, sizeof(auth), "%s\\%s", domain, user);
    buf.value = auth;
    buf.length = strlen(auth);
    major = gss_import_name(&minor, &buf, GSS_C_NT_USER_NAME, &name);
    if (GSS_ERROR(major)) {
        gss_die("gss_import_name", major, minor);
    }

    buf.value = (void *) password;
    buf.length = strlen(password);
    major = gss_acquire_cred_with_password(&minor, name, &buf,
                                           GSS_C_INDEFINITE, &mechs,
                                           GSS_C_INITIATE, &cred, NULL,
                                           NULL);
    if (GSS_ERROR(major)) {
        gss_die("gss_acquire_cred_with_password", major, minor);
    }

    buf.value = "HTTP@localhost";
    buf.length = sizeof("HTTP@localhost") - 1;
    major = gss_import_name(&minor, &buf, GSS_C_NT_HOSTBASED_SERVICE,
                            &target);
    if (GSS_ERROR(major)) {
        gss_die("gss_import_name", major, minor);
    }

    c->ctx = GSS_C_NO_CONTEXT;
    in.length = 0;
    in.value = NULL;

    for ( ;; ) {
        major = gss_init_sec_context(&minor, cred, &c->ctx, target,
                                     &ntlm_oid,
                                     GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG
                                     | GSS_C_CONF_FLAG
                                     | GSS_C_SEQUENCE_FLAG,
                                     0, GSS_C_NO_CHANNEL_BINDINGS, &in,
                                     NULL, &out, NULL, NULL);
        if (GSS_ERROR(major)) {
            gss_die("gss_init_sec_context", major, minor);
        }

        if (out.length == 0) {
            break;
        }

        enc = b64(out.value, out.length);
        snprintf(auth, sizeof(auth), "Authorization: Negotiate %s", enc);
        free(enc);
        gss_release_buffer(&minor, &out);

        if (post(c, NULL, auth, "", 0) != 0 || receive(c) != 0) {
            die("handshake: no answer");
        }

        if (c->status == 200) {
            break;
        }

        if (c->status != 401 || c->www[0] == '\0') {
            die("handshake: unexpected answer");
        }

        len = EVP_DecodeBlock(tok, (unsigned char *) c->www,
                              strlen(c->www));
        if (len < 0) {
            die("handshake: bad token");
        }

        /* EVP_DecodeBlock counts the padding as data */
        len -= (strlen(c->www) > 1 && c->www[strlen(c->www) - 1] == '=')
               + (strlen(c->www) > 2 && c->www[strlen(c->www) - 2] == '=');
        in.value = tok;
        in.length = len;
    }

    if (c->status != 200) {
        die("handshake did not end in 200");
    }

    gss_release_name(&minor, &name);
    gss_release_name(&minor, &target);
    gss_release_cred(&minor, &cred);
}


/* POST xml sealed, unseal the answer; 0 when it is a sealed 200 */
static int
sealed_request(conn_t *c, char **body, size_t *cap)
{
    int              n;
    char            *p, *q, *end;
    uint32_t         hlen;
    OM_uint32        major, minor;
    gss_buffer_desc  in, out;

    in.value = xml;
    in.length = xml_len;
    major = gss_wrap(&minor, c->ctx, 1, GSS_C_QOP_DEFAULT, &in, NULL, &out);
    if (GSS_ERROR(major)) {
        gss_die("gss_wrap", major, minor);
    }

    if (*cap < out.length + 1024) {
        *cap = out.length + 1024;
        *body = realloc(*body, *cap);
        if (*body == NULL) {
            die("out of memory");
        }
    }

    /* gss-ntlmssp: a 16-byte signature, then the sealed data */
    p = *body;
    n = sprintf(p, BOUNDARY "\r\n\tContent-Type: " PROTOCOL "\r\n"
                "\tOriginalContent: type=" SOAP_TYPE ";Length=%zu\r\n"
                BOUNDARY "\r\n\tContent-Type: application/octet-stream\r\n",
                xml_len);
    p += n;
    hlen = 16;
    memcpy(p, &hlen, 4);
    memcpy(p + 4, out.value, out.length);
    p += 4 + out.length;
    p += sprintf(p, BOUNDARY "--\r\n");
    gss_release_buffer(&minor, &out);

    if (post(c, ENC_TYPE, NULL, *body, p - *body) != 0 || receive(c) != 0) {
        return -1;
    }

    if (c->status != 200) {
        return -1;
    }

    p = c->resp + c->body_at;
    end = p + c->body_len;
    q = memmem(p, c->body_len, "application/octet-stream\r\n", 26);
    if (q == NULL || end - q < 26 + 4 + 16 + 24) {
        return -1;
    }

    q += 26;
    memcpy(&hlen, q, 4);
    q += 4;
    end -= sizeof(BOUNDARY "--\r\n") - 1;

    if (hlen != 16 || memcmp(end, BOUNDARY "--\r\n", 24) != 0) {
        return -1;
    }

    in.value = q;
    in.length = end - q;
    major = gss_unwrap(&minor, c->ctx, &in, &out, NULL, NULL);
    if (GSS_ERROR(major)) {
        return -1;
    }

    n = memmem(out.value, out.length, "Envelope", 8) != NULL;
    gss_release_buffer(&minor, &out);

    return n ? 0 : -1;
}


static void
record(worker_t *w, double t)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 65536;
        w->lat = realloc(w->lat, w->cap * sizeof(uint32_t));
        if (w->lat == NULL) {
            die("out of memory");
        }
    }

    w->lat[w->n++] = (uint32_t) (t * 1e6);
}


static void *
run(void *data)
{
    int        rc;
    char      *body, *junk;
    size_t     cap;
    double     t, stop;
    conn_t     c;
    worker_t  *w = data;

    memset(&c, 0, sizeof(c));
    c.fd = connect_to();
    body = NULL;
    cap = 0;
    junk = NULL;

    if (strcmp(mode, "ntlm") == 0) {
        handshake(&c);

    } else {
        junk = malloc(plain_size + 1);
        if (junk == NULL) {
            die("out of memory");
        }
        memset(junk, 'x', plain_size);
    }

    stop = now() + seconds;

    while ((t = now()) < stop) {
        if (junk) {
            rc = post(&c, ENC_TYPE, NULL, junk, plain_size) == 0
                 && receive(&c) == 0 && c.status == 200 ? 0 : -1;
        } else {
            rc = sealed_request(&c, &body, &cap);
        }

        if (rc != 0) {
            w->errors++;
            close(c.fd);
            c.fd = connect_to();
            if (junk == NULL) {
                handshake(&c);
            }
            continue;
        }

        record(w, now() - t);
    }

    close(c.fd);
    free(body);
    free(junk);
    free(c.resp);

    return NULL;
}


static int
cmp_u32(const void *a, const void *b)
{
    uint32_t  x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return x < y ? -1 : x > y;
}


static void
report(worker_t *w, int nw, double elapsed)
{
    int             i;
    size_t          n, k;
    uint32_t       *all;
    unsigned long   errors;

    n = 0;
    errors = 0;
    for (i = 0; i < nw; i++) {
        n += w[i].n;
        errors += w[i].errors;
    }

    all = malloc((n + 1) * sizeof(uint32_t));
    if (all == NULL) {
        die("out of memory");
    }

    for (i = 0, k = 0; i < nw; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof(uint32_t));
        k += w[i].n;
    }

    qsort(all, n, sizeof(uint32_t), cmp_u32);

    printf("{\"requests\": %zu, \"errors\": %lu, \"seconds\": %.3f, "
           "\"p50_us\": %u, \"p99_us\": %u, \"cpu_s\": %.3f}\n", n,
           errors, elapsed, n ? all[n / 2] : 0,
           n ? all[(n * 99) / 100] : 0, cpu_seconds());
    free(all);
}


static void
idle(int conns)
{
    int      i;
    char    *body, c1;
    size_t   cap;
    conn_t  *c;

    c = calloc(conns, sizeof(conn_t));
    if (c == NULL) {
        die("out of memory");
    }

    body = NULL;
    cap = 0;

    for (i = 0; i < conns; i++) {
        c[i].fd = connect_to();
        handshake(&c[i]);
        if (sealed_request(&c[i], &body, &cap) != 0) {
            die("idle: request failed");
        }
        free(c[i].resp);
        c[i].resp = NULL;
        c[i].size = 0;
    }

    printf("READY\n");
    fflush(stdout);

    while (read(0, &c1, 1) > 0) { /* void */ }
}


/* a copy of tpl with every @SHELL@ and @COMMAND@ replaced */
static size_t
fill(char *out, size_t size, const char *tpl, const char *shell,
    const char *command)
{
    size_t       len, n;
    const char  *p, *v;

    len = 0;

    for (p = tpl; *p; /* void */) {
        v = NULL;

        if (strncmp(p, "@SHELL@", 7) == 0) {
            v = shell;
            p += 7;
        } else if (strncmp(p, "@COMMAND@", 9) == 0) {
            v = command;
            p += 9;
        }

        if (v) {
            n = strlen(v);
            if (len + n >= size) {
                die("envelope too long");
            }
            memcpy(out + len, v, n);
            len += n;
            continue;
        }

        if (len + 1 >= size) {
            die("envelope too long");
        }
        out[len++] = *p++;
    }

    out[len] = '\0';

    return len;
}


/* the text between after and the next '<' in the answer */
static int
pick(conn_t *c, const char *after, char *out, size_t size)
{
    char    *p, *q;
    size_t   n;

    p = strstr(c->resp + c->body_at, after);
    if (p == NULL) {
        return -1;
    }

    p += strlen(after);
    q = strchr(p, '<');
    n = q ? (size_t) (q - p) : 0;

    if (n == 0 || n >= size) {
        return -1;
    }

    memcpy(out, p, n);
    out[n] = '\0';

    return 0;
}


static int
shell_post(conn_t *c, const char *auth, const char *body, size_t len)
{
    return post(c, SOAP_TYPE, auth, body, len) == 0 && receive(c) == 0
           && c->status == 200 ? 0 : -1;
}


static void
shell(const char *auth_value, const char *dir)
{
    int       i, rc;
    char      auth[1024], name[4096], shell_id[128], command_id[128];
    char      body[65536], *tpl[4];
    size_t    len;
    double    t, stop;
    conn_t    c;
    worker_t  w;
    static const char  *files[] = { "create", "command", "receive",
                                    "delete" };

    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "%s/%s.xml", dir, files[i]);
        tpl[i] = read_file(name, &len);
    }

    snprintf(auth, sizeof(auth), "Authorization: %s", auth_value);
    memset(&c, 0, sizeof(c));
    memset(&w, 0, sizeof(w));
    c.fd = connect_to();
    stop = now() + seconds;

    while ((t = now()) < stop) {
        len = fill(body, sizeof(body), tpl[0], "", "");
        rc = shell_post(&c, auth, body, len);

        if (rc == 0) {
            rc = pick(&c, "Name=\"ShellId\">", shell_id, sizeof(shell_id));
        }

        if (rc == 0) {
            len = fill(body, sizeof(body), tpl[1], shell_id, "");
            rc = shell_post(&c, auth, body, len);
        }

        if (rc == 0) {
            rc = pick(&c, "CommandId>", command_id, sizeof(command_id));
        }

        while (rc == 0) {
            len = fill(body, sizeof(body), tpl[2], shell_id, command_id);
            rc = shell_post(&c, auth, body, len);

            if (rc == 0 && strstr(c.resp + c.body_at, "CommandState/Done")) {
                break;
            }
        }

        if (rc == 0) {
            len = fill(body, sizeof(body), tpl[3], shell_id, "");
            rc = shell_post(&c, auth, body, len);
        }

        if (rc != 0) {
            w.errors++;
            close(c.fd);
            c.fd = connect_to();
            continue;
        }

        record(&w, now() - t);
    }

    report(&w, 1, seconds);
}


static void
spawn(const char *program)
{
    pid_t     pid;
    double    t, stop;
    worker_t  w;
    char     *argv[2];

    memset(&w, 0, sizeof(w));
    argv[0] = (char *) program;
    argv[1] = NULL;
    stop = now() + seconds;

    while ((t = now()) < stop) {
        pid = fork();
        if (pid == 0) {
            execv(program, argv);
            _exit(127);
        }

        if (pid < 0 || waitpid(pid, NULL, 0) != pid) {
            w.errors++;
            continue;
        }

        record(&w, now() - t);
    }

    report(&w, 1, seconds);
}

/* the lines of a file, without their ends */
static char **
read_lines(const char *name, int *n)
{
    int      k;
    char    *text, *p, *eol, **lines;
    size_t   len;

    text = read_file(name, &len);
    lines = calloc(len + 2, sizeof(char *));
    if (lines == NULL) {
        die("out of memory");
    }

    k = 0;

    for (p = text; *p; p = eol + 1) {
        eol = strchr(p, '\n');
        if (eol == NULL) {
            eol = p + strlen(p);
        }

        if (eol > p) {
            lines[k++] = p;
        }

        if (*eol == '\0') {
            break;
        }

        *eol = '\0';
    }

    if (k == 0) {
        die("empty file");
    }

    *n = k;

    return lines;
}


static void *
run_post(void *data)
{
    char       auth[4096];
    double     t, stop;
    conn_t     c;
    worker_t  *w = data;

    /* the extra header rides after the Authorization line */
    snprintf(auth, sizeof(auth), "Authorization: %s%s%s",
             auths[(w - workers) % nauths], post_header ? "\r\n" : "",
             post_header ? post_header : "");

    memset(&c, 0, sizeof(c));
    c.fd = connect_to();
    stop = now() + seconds;

    while ((t = now()) < stop) {
        if (post(&c, post_type, auth, xml, xml_len) != 0
            || receive(&c) != 0 || c.status != 200)
        {
            w->errors++;
            close(c.fd);
            c.fd = connect_to();
            continue;
        }

        record(w, now() - t);
    }

    close(c.fd);
    free(c.resp);

    return NULL;
}


static const char  *write_dir;


static void *
run_write(void *data)
{
    int        fd;
    char       name[4096];
    size_t     off;
    ssize_t    n;
    double     t, stop;
    worker_t  *w = data;

    snprintf(name, sizeof(name), "%s/baseline-%p.jsonl", write_dir, data);

    fd = open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        die("cannot open the baseline file");
    }

    stop = now() + seconds;

    while ((t = now()) < stop) {
        for (off = 0; off < xml_len; off += n) {
            n = write(fd, xml + off, xml_len - off);
            if (n <= 0) {
                die("write() failed");
            }
        }

        if (fdatasync(fd) != 0) {
            die("fdatasync() failed");
        }

        record(w, now() - t);
    }

    close(fd);
    unlink(name);

    return NULL;
}


/* ASCII to UTF-16LE with a BOM, as Windows sends its messages */
static size_t
utf16(char *out, const char *in, size_t len)
{
    size_t  i;

    out[0] = (char) 0xff;
    out[1] = (char) 0xfe;

    for (i = 0; i < len; i++) {
        out[2 + 2 * i] = in[i];
        out[3 + 2 * i] = 0;
    }

    return 2 + 2 * len;
}


static void
beat(int conns, int window)
{
    int             i, k, n, *fd;
    char           *tpl, *plain, *body, **auth, num[16], cred[64], *b;
    size_t          tlen, len, off;
    double          t, start;
    conn_t          c;
    worker_t        w;
    unsigned long   errors;
    const char     *p, *q;

    tpl = xml;
    tlen = xml_len;

    fd = calloc(conns, sizeof(int));
    auth = calloc(conns, sizeof(char *));
    plain = malloc(tlen * 2 + 64);
    body = malloc(tlen * 4 + 128);
    if (fd == NULL || auth == NULL || plain == NULL || body == NULL) {
        die("out of memory");
    }

    for (i = 0; i < conns; i++) {
        snprintf(cred, sizeof(cred), "src%d:Src-Pw-%d", i, i);
        b = b64((unsigned char *) cred, strlen(cred));
        auth[i] = malloc(strlen(b) + 32);
        if (auth[i] == NULL) {
            die("out of memory");
        }
        sprintf(auth[i], "Authorization: Basic %s", b);
        free(b);
        fd[i] = connect_to();
    }

    printf("OPEN %d\n", conns);
    fflush(stdout);

    memset(&c, 0, sizeof(c));

    while (fgets(num, sizeof(num), stdin) != NULL) {
        memset(&w, 0, sizeof(w));
        errors = 0;
        start = now();

        for (i = 0; i < conns; i += window) {
            n = (conns - i < window) ? conns - i : window;
            t = now();

            for (k = i; k < i + n; k++) {
                /* the template with @N@ replaced, then in UTF-16 */
                len = 0;
                snprintf(cred, sizeof(cred), "%d", k);

                for (p = tpl; p < tpl + tlen; p = q + 3) {
                    q = memmem(p, tpl + tlen - p, "@N@", 3);
                    if (q == NULL) {
                        memcpy(plain + len, p, tpl + tlen - p);
                        len += tpl + tlen - p;
                        break;
                    }
                    memcpy(plain + len, p, q - p);
                    len += q - p;
                    memcpy(plain + len, cred, strlen(cred));
                    len += strlen(cred);
                }

                off = utf16(body, plain, len);
                c.fd = fd[k];

                if (post(&c, post_type, auth[k], body, off) != 0) {
                    die("beat: send failed");
                }
            }

            for (k = i; k < i + n; k++) {
                c.fd = fd[k];

                if (receive(&c) != 0) {
                    die("beat: connection lost");
                }

                if (c.status != 200) {
                    errors++;
                    continue;
                }
            }

            /* the window's time, once per source in it */
            for (k = 0; k < n; k++) {
                record(&w, now() - t);
            }
        }

        w.errors = errors;
        report(&w, 1, now() - start);
        free(w.lat);
    }

    for (i = 0; i < conns; i++) {
        close(fd[i]);
    }
}


int
main(int argc, char **argv)
{
    int        i, conns;
    double     t;
    worker_t  *w;

    if (argc < 2) {
        die("usage: see the comment at the top of bench/wsman_load.c");
    }

    mode = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (strcmp(mode, "spawn") == 0 && argc == 4) {
        seconds = atof(argv[2]);
        spawn(argv[3]);
        return 0;
    }

    if (strcmp(mode, "shell") == 0 && argc == 7) {
        port = atoi(argv[2]);
        path = argv[3];
        seconds = atof(argv[4]);
        shell(argv[5], argv[6]);
        return 0;
    }

    if (strcmp(mode, "beat") == 0 && argc == 7) {
        port = atoi(argv[2]);
        path = argv[3];
        post_type = "application/soap+xml;charset=UTF-16";
        xml = read_file(argv[6], &xml_len);
        beat(atoi(argv[4]), atoi(argv[5]));
        return 0;
    }

    if (strcmp(mode, "idle") == 0 && argc == 9) {
        port = atoi(argv[2]);
        path = argv[3];
        user = argv[5];
        password = argv[6];
        domain = argv[7];
        xml = read_file(argv[8], &xml_len);
        idle(atoi(argv[4]));
        return 0;
    }

    if (!((strcmp(mode, "ntlm") == 0 && argc == 10)
          || (strcmp(mode, "plain") == 0 && argc == 7)
          || (strcmp(mode, "post") == 0 && (argc == 9 || argc == 10))
          || (strcmp(mode, "write") == 0 && argc == 6)))
    {
        die("usage: see the comment at the top of bench/wsman_load.c");
    }

    if (mode[0] == 'w') {
        write_dir = argv[2];
        seconds = atof(argv[3]);
        conns = atoi(argv[4]);
        xml = read_file(argv[5], &xml_len);

    } else {
        port = atoi(argv[2]);
        path = argv[3];
        seconds = atof(argv[4]);
        conns = atoi(argv[5]);
    }

    if (mode[0] == 'p' && mode[1] == 'o') {
        post_type = argv[6];
        xml = read_file(argv[7], &xml_len);
        auths = read_lines(argv[8], &nauths);
        post_header = (argc == 10) ? argv[9] : NULL;

    } else if (mode[0] == 'w') {
        /* void */

    } else if (mode[0] == 'n') {
        user = argv[6];
        password = argv[7];
        domain = argv[8];
        xml = read_file(argv[9], &xml_len);
    } else {
        plain_size = strtoul(argv[6], NULL, 10);
    }

    w = calloc(conns, sizeof(worker_t));
    if (w == NULL) {
        die("out of memory");
    }

    workers = w;

    t = now();

    for (i = 0; i < conns; i++) {
        if (pthread_create(&w[i].tid, NULL,
                           mode[0] == 'w' ? run_write
                           : (mode[0] == 'p' && mode[1] == 'o') ? run_post
                           : run, &w[i])
            != 0)
        {
            die("pthread_create() failed");
        }
    }

    for (i = 0; i < conns; i++) {
        pthread_join(w[i].tid, NULL);
    }

    (void) t;
    report(w, conns, seconds);

    return 0;
}
