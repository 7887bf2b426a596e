/*
 * The shell host: session keepers, PAM and the working directory
 * check, out of the host's loop.
 */

#include "ngx_wsman_shell_host_int.h"


static void ngx_wsman_sh_keeper(ngx_wsman_sh_shell_t *sh, int fd,
    const char *service, const char *rhost) ngx_wsman_sh_noreturn;
static void ngx_wsman_sh_keeper_add(ngx_wsman_sh_host_t *h, pid_t pid);
static void ngx_wsman_sh_keeper_abort(int signo);
static int ngx_wsman_sh_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *data);
static void ngx_wsman_sh_setup_limit(ngx_wsman_sh_shell_t *sh,
    ngx_wsman_shell_field_t *f);
static ngx_int_t ngx_wsman_sh_setup_env(ngx_wsman_sh_shell_t *sh,
    ngx_wsman_shell_field_t *f);


/* ---------------------------------------------------------------------
 * Session keepers: PAM and the working directory, out of the host's loop
 */

/*
 * Fork the shell's session keeper.  PAM modules block (NSS, LDAP,
 * pam_exec, a slow disk for pam_mkhomedir), and so may a working
 * directory on a hung network file system: none of it runs in the host,
 * whose single loop serves every shell.  The keeper reports once; the
 * host reads that report in its loop like any other descriptor.
 */
ngx_int_t
ngx_wsman_sh_setup_start(ngx_wsman_sh_host_t *h, ngx_wsman_sh_shell_t *sh,
    ngx_wsman_sh_req_t *r)
{
    int     sv[2];
    char   *service, *rhost;
    pid_t   pid;

    service = NULL;
    rhost = NULL;

    if (r->pam_service.len == 0 && sh->cwd == NULL) {
        return NGX_DONE;
    }

    if (r->pam_service.len) {
        service = ngx_wsman_sh_field_dup(&r->pam_service);
        rhost = ngx_wsman_sh_field_dup(&r->client_ip);

        if (service == NULL || rhost == NULL) {
            free(service);
            free(rhost);
            return NGX_ERROR;
        }
    }

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "socketpair() failed: %s",
                         strerror(errno));
        free(service);
        free(rhost);
        return NGX_ERROR;
    }

    pid = fork();

    if (pid == -1) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "fork() failed: %s", strerror(errno));
        (void) close(sv[0]);
        (void) close(sv[1]);
        free(service);
        free(rhost);
        return NGX_ERROR;
    }

    if (pid == 0) {
        (void) close(sv[0]);
        ngx_wsman_sh_keeper(sh, sv[1], service, rhost);
    }

    free(service);
    free(rhost);
    (void) close(sv[1]);

    ngx_wsman_sh_keeper_add(h, pid);
    sh->keeper = pid;
    sh->setup.fd = sv[0];
    sh->setup.kind = NGX_WSMAN_SH_EV_SETUP;
    sh->setup.obj = sh;

    if (ngx_wsman_sh_nonblock(sv[0]) != 0
        || ngx_wsman_sh_watch(h, &sh->setup, EPOLLIN) != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


int
ngx_wsman_sh_keeper_index(ngx_wsman_sh_host_t *h, pid_t pid)
{
    ngx_uint_t  i;

    for (i = 0; i < h->nkeepers; i++) {
        if (h->keepers[i] == pid) {
            return (int) i;
        }
    }

    return -1;
}


/*
 * Keepers run as root: sweeps for uid 0 (processes a deleted root shell
 * left behind) must not end them, also after their shell is gone and
 * while they close its session.  Without memory for the list a keeper
 * is merely not protected.
 */
static void
ngx_wsman_sh_keeper_add(ngx_wsman_sh_host_t *h, pid_t pid)
{
    pid_t       *p;
    ngx_uint_t   n;

    if (h->nkeepers == h->keepers_size) {
        n = h->keepers_size ? 2 * h->keepers_size : 16;

        p = realloc(h->keepers, n * sizeof(pid_t));
        if (p == NULL) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "realloc() failed");
            return;
        }

        h->keepers = p;
        h->keepers_size = n;
    }

    h->keepers[h->nkeepers++] = pid;
}


/*
 * SIGTERM while the keeper sets up: kill its children with their groups
 * (async-signal-safe calls only), then its own group, itself included.
 */
static void
ngx_wsman_sh_keeper_abort(int signo)
{
    int      fd;
    char     path[64], list[4096], *p, *d;
    long     pid;
    ssize_t  n;

    /* "/proc/<pid>/task/<pid>/children": the keeper has one thread */
    pid = (long) getpid();
    d = list + sizeof(list);
    *--d = '\0';

    do {
        *--d = (char) ('0' + pid % 10);
        pid /= 10;
    } while (pid);

    p = path;
    p = (char *) ngx_cpymem(p, "/proc/", 6);
    p = (char *) ngx_cpymem(p, d, strlen(d));
    p = (char *) ngx_cpymem(p, "/task/", 6);
    p = (char *) ngx_cpymem(p, d, strlen(d));
    (void) ngx_cpymem(p, "/children", sizeof("/children"));

    fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd != -1) {
        n = read(fd, list, sizeof(list) - 1);
        (void) close(fd);

        list[n > 0 ? n : 0] = '\0';

        for (p = list; *p; /* void */) {
            while (*p == ' ' || *p == '\n') {
                p++;
            }

            for (pid = 0; *p >= '0' && *p <= '9'; p++) {
                pid = pid * 10 + (*p - '0');
            }

            if (pid <= 0) {
                break;
            }

            (void) kill((pid_t) -pid, SIGKILL);
            (void) kill((pid_t) pid, SIGKILL);
        }
    }

    (void) kill(0, SIGKILL);
    _exit(1);
}


/* PAM may talk but never ask: nobody is there to answer */
static int
ngx_wsman_sh_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *data)
{
    int                   i;
    struct pam_response  *r;

    if (n <= 0 || n > PAM_MAX_NUM_MSG) {
        return PAM_CONV_ERR;
    }

    r = calloc(n, sizeof(struct pam_response));
    if (r == NULL) {
        return PAM_BUF_ERR;
    }

    for (i = 0; i < n; i++) {
        switch (msg[i]->msg_style) {

        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            ngx_wsman_sh_log(NGX_LOG_INFO, "PAM: %s", msg[i]->msg);
            break;

        default:
            free(r);
            return PAM_CONV_ERR;
        }
    }

    *resp = r;

    return PAM_SUCCESS;
}


/*
 * The session keeper (a child of the host, root): PAM's account stage
 * (expired or locked accounts, pam_access) and session stage
 * (pam_limits, pam_env, ...) for the account commands run as, then the
 * working directory tried as that account.  It reports once on fd 3: a
 * status, a message and, with a session, the resource limits the session
 * set (commands get them).  With a session it then waits until the host
 * closes its end (the shell ended, or the host did) and closes the
 * session, as sshd's privileged process does.
 */
static void
ngx_wsman_sh_keeper(ngx_wsman_sh_shell_t *sh, int fd, const char *service,
    const char *rhost)
{
    int                        i, rc, sig, status, session, flags;
    char                       msg[256], lim[80], **env, **e;
    pid_t                      pid;
    size_t                     len;
    ssize_t                    n;
    sigset_t                   set;
    pam_handle_t              *pamh;
    struct rlimit              rl;
    struct pam_conv            conv;
    ngx_wsman_shell_writer_t   w;
    static u_char              out[NGX_WSMAN_SH_SETUP_MAX];

    for (sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            (void) signal(sig, SIG_DFL);
        }
    }

    (void) signal(SIGPIPE, SIG_IGN);

    /*
     * The host gives up on a setup that hangs with SIGTERM: the keeper
     * then kills what PAM started (pam_exec's scripts run in sessions of
     * their own; orphans of theirs come to the keeper, a subreaper) and
     * itself.
     */
    (void) setsid();
    (void) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    (void) signal(SIGTERM, ngx_wsman_sh_keeper_abort);

    sigemptyset(&set);
    (void) sigprocmask(SIG_SETMASK, &set, NULL);

    /* nothing of the host's but stdio (the log) and the socket */
    if ((fd != 3 && dup2(fd, 3) == -1) || close_range(4, ~0U, 0) == -1) {
        _exit(1);
    }

    flags = fcntl(3, F_GETFL);
    if (flags == -1 || fcntl(3, F_SETFL, flags & ~O_NONBLOCK) == -1
        || fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
    {
        _exit(1);
    }

    (void) prctl(PR_SET_NAME, "wsman-session", 0, 0, 0);

    if (ngx_wsman_sh_nofile.rlim_max) {
        (void) setrlimit(RLIMIT_NOFILE, &ngx_wsman_sh_nofile);
    }

    status = NGX_WSMAN_SHELL_S_OK;
    msg[0] = '\0';
    session = 0;
    pamh = NULL;

    ngx_wsman_shell_writer_init(&w, out, sizeof(out), 0);

    if (service != NULL) {
        conv.conv = ngx_wsman_sh_pam_conv;
        conv.appdata_ptr = NULL;

        rc = pam_start(service, sh->user, &conv, &pamh);

        if (rc != PAM_SUCCESS) {
            status = NGX_WSMAN_SHELL_S_INTERNAL;
            (void) snprintf(msg, sizeof(msg), "PAM service \"%s\" cannot "
                            "start: %s", service, pam_strerror(pamh, rc));
            pamh = NULL;
            goto report;
        }

        if (rhost && rhost[0]) {
            (void) pam_set_item(pamh, PAM_RHOST, rhost);
        }

        (void) pam_set_item(pamh, PAM_RUSER, sh->owner_name);

        rc = pam_acct_mgmt(pamh, PAM_SILENT);

        if (rc != PAM_SUCCESS) {
            status = NGX_WSMAN_SHELL_S_NO_USER;
            (void) snprintf(msg, sizeof(msg), "PAM (service \"%s\") refused "
                            "the account \"%s\": %s", service, sh->user,
                            pam_strerror(pamh, rc));
            goto report;
        }

        rc = pam_open_session(pamh, PAM_SILENT);

        if (rc != PAM_SUCCESS) {
            status = NGX_WSMAN_SHELL_S_NO_USER;
            (void) snprintf(msg, sizeof(msg), "PAM (service \"%s\") opened "
                            "no session for \"%s\": %s", service, sh->user,
                            pam_strerror(pamh, rc));
            goto report;
        }

        session = 1;

        /* pam_env and friends: the commands' environment, as with sshd */
        env = pam_getenvlist(pamh);

        for (e = env; e && *e; e++) {
            if (strchr(*e, '=') != NULL && (*e)[0] != '=') {
                ngx_wsman_shell_writer_add_str(&w, NGX_WSMAN_SHELL_F_ENV,
                                               *e);
            }

            free(*e);
        }

        free(env);

        /* what pam_limits (and the defaults) left here is the commands' */
        for (i = 0; i < RLIM_NLIMITS; i++) {
            if (getrlimit(i, &rl) == -1) {
                continue;
            }

            (void) snprintf(lim, sizeof(lim), "%d %s%llu %s%llu", i,
                            rl.rlim_cur == RLIM_INFINITY ? "-" : "",
                            (unsigned long long) rl.rlim_cur,
                            rl.rlim_max == RLIM_INFINITY ? "-" : "",
                            (unsigned long long) rl.rlim_max);
            ngx_wsman_shell_writer_add_str(&w, NGX_WSMAN_SH_F_LIMIT, lim);
        }
    }

    /* the working directory must be one the account can enter */
    if (sh->cwd != NULL) {
        pid = fork();

        if (pid == 0) {
            if (initgroups(sh->user, sh->gid) == -1
                || setgid(sh->gid) == -1 || setuid(sh->uid) == -1)
            {
                _exit(2);
            }

            _exit(chdir(sh->cwd) == 0 ? 0 : 1);
        }

        status = -1;

        if (pid > 0) {
            while (waitpid(pid, &rc, 0) == -1 && errno == EINTR) {
                /* void */
            }

            if (WIFEXITED(rc) && WEXITSTATUS(rc) == 0) {
                status = NGX_WSMAN_SHELL_S_OK;
            }
        }

        if (status != NGX_WSMAN_SHELL_S_OK) {
            status = NGX_WSMAN_SHELL_S_BAD_REQUEST;
            (void) snprintf(msg, sizeof(msg), "the account \"%s\" cannot "
                            "enter the working directory \"%.160s\"",
                            sh->user, sh->cwd);
        }
    }

report:

    if (session && status == NGX_WSMAN_SHELL_S_OK) {
        /*
         * From the report on the session is the shell's: a stop signalled
         * to the whole group (systemd's SIGTERM) must not end the keeper
         * before the host lets go of the shell, so that the session is
         * closed (the host SIGKILLs what is left at its own end).
         */
        (void) signal(SIGTERM, SIG_IGN);
        (void) signal(SIGINT, SIG_IGN);
        (void) signal(SIGHUP, SIG_IGN);
        (void) signal(SIGQUIT, SIG_IGN);
    }

    ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_STATUS,
                                   (uint64_t) status);

    if (msg[0]) {
        ngx_wsman_shell_writer_add_str(&w, NGX_WSMAN_SHELL_F_MESSAGE, msg);
    }

    len = ngx_wsman_shell_writer_finish(&w);

    for (i = 0; (size_t) i < len; i += n) {
        n = write(3, out + i, len - i);

        if (n == -1 && errno == EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            break;
        }
    }

    if (session && status == NGX_WSMAN_SHELL_S_OK) {
        /* until the shell ends: EOF, or an error if the host died */
        do {
            n = read(3, msg, sizeof(msg));
        } while (n > 0 || (n == -1 && errno == EINTR));

        /* what PAM runs to close the session gets the usual signals */
        (void) signal(SIGTERM, SIG_DFL);
        (void) signal(SIGINT, SIG_DFL);
        (void) signal(SIGHUP, SIG_DFL);
        (void) signal(SIGQUIT, SIG_DFL);
    }

    if (session) {
        rc = pam_close_session(pamh, PAM_SILENT);

        if (rc != PAM_SUCCESS) {
            ngx_wsman_sh_log(NGX_LOG_WARN, "PAM could not close the session "
                             "of shell %s: %s", sh->id,
                             pam_strerror(pamh, rc));
        }
    }

    if (pamh != NULL) {
        (void) pam_end(pamh, status == NGX_WSMAN_SHELL_S_OK
                             ? PAM_SUCCESS : PAM_ABORT);
    }

    _exit(0);
}


/* the keeper's report, read as it comes */
void
ngx_wsman_sh_setup_read(ngx_wsman_sh_host_t *h, ngx_wsman_sh_shell_t *sh)
{
    size_t                    want;
    ssize_t                   n;
    uint32_t                  len;
    uint64_t                  status;
    const u_char             *p, *end;
    const char               *msg;
    ngx_wsman_shell_field_t   f;
    u_char                    type;
    char                      text[256];

    if (!sh->pending) {
        /* a keeper has nothing more to say: a hang-up, or garbage */
        ngx_wsman_sh_unwatch(h, &sh->setup);
        return;
    }

    if (sh->setup_buf == NULL) {
        sh->setup_buf = malloc(NGX_WSMAN_SH_SETUP_MAX);
        if (sh->setup_buf == NULL) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc() failed");
            ngx_wsman_sh_setup_done(h, sh, NGX_WSMAN_SHELL_S_INTERNAL,
                                    "out of memory");
            return;
        }
    }

    for ( ;; ) {
        want = (sh->setup_len < 4) ? 4 - sh->setup_len
               : 4 + ngx_wsman_shell_get_u32(sh->setup_buf) - sh->setup_len;

        if (want == 0) {
            break;
        }

        n = read(sh->setup.fd, sh->setup_buf + sh->setup_len, want);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            ngx_wsman_sh_setup_done(h, sh, NGX_WSMAN_SHELL_S_INTERNAL,
                                    "the session setup failed");
            return;
        }

        sh->setup_len += n;

        if (sh->setup_len == 4) {
            len = ngx_wsman_shell_get_u32(sh->setup_buf);

            if (len == 0 || len > NGX_WSMAN_SH_SETUP_MAX - 4) {
                ngx_wsman_sh_setup_done(h, sh, NGX_WSMAN_SHELL_S_INTERNAL,
                                        "the session setup failed");
                return;
            }
        }
    }

    if (ngx_wsman_shell_frame_parse(sh->setup_buf, sh->setup_len, &type)
        != NGX_OK)
    {
        ngx_wsman_sh_setup_done(h, sh, NGX_WSMAN_SHELL_S_INTERNAL,
                                "the session setup failed");
        return;
    }

    status = NGX_WSMAN_SHELL_S_INTERNAL;
    msg = "the session setup failed";
    p = sh->setup_buf + NGX_WSMAN_SHELL_HEAD_LEN;
    end = sh->setup_buf + sh->setup_len;

    while (ngx_wsman_shell_frame_next(&p, end, &f) == NGX_OK) {
        switch (f.tag) {

        case NGX_WSMAN_SHELL_F_STATUS:
            if (ngx_wsman_shell_field_num(&f, &status) != NGX_OK) {
                status = NGX_WSMAN_SHELL_S_INTERNAL;
            }
            break;

        case NGX_WSMAN_SHELL_F_MESSAGE:
            (void) snprintf(text, sizeof(text), "%.*s", (int) f.len,
                            (const char *) f.data);
            msg = text;
            break;

        case NGX_WSMAN_SH_F_LIMIT:
            ngx_wsman_sh_setup_limit(sh, &f);
            break;

        case NGX_WSMAN_SHELL_F_ENV:
            if (ngx_wsman_sh_setup_env(sh, &f) != NGX_OK) {
                ngx_wsman_sh_setup_done(h, sh, NGX_WSMAN_SHELL_S_INTERNAL,
                                        "out of memory");
                return;
            }
            break;
        }
    }

    ngx_wsman_sh_setup_done(h, sh, (ngx_uint_t) status, msg);
}


/*
 * A variable of the PAM session ("NAME=value"); the client's own
 * (rsp:Environment) win.
 */
static ngx_int_t
ngx_wsman_sh_setup_env(ngx_wsman_sh_shell_t *sh, ngx_wsman_shell_field_t *f)
{
    char          **env, *var;
    size_t          len;
    ngx_uint_t      n;
    const u_char   *eq;

    eq = memchr(f->data, '=', f->len);

    if (eq == NULL || eq == f->data || !ngx_wsman_sh_text(f)) {
        return NGX_OK;
    }

    len = eq - f->data + 1;

    for (n = 0; sh->env[n]; n++) {
        if (strncmp(sh->env[n], (const char *) f->data, len) == 0) {
            return NGX_OK;
        }
    }

    var = ngx_wsman_sh_field_dup(f);
    if (var == NULL) {
        return NGX_ERROR;
    }

    env = realloc(sh->env, (n + 2) * sizeof(char *));
    if (env == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "realloc() failed");
        free(var);
        return NGX_ERROR;
    }

    env[n] = var;
    env[n + 1] = NULL;
    sh->env = env;

    return NGX_OK;
}


/* "resource cur max", RLIM_INFINITY as "-" */
static void
ngx_wsman_sh_setup_limit(ngx_wsman_sh_shell_t *sh,
    ngx_wsman_shell_field_t *f)
{
    char                buf[80];
    unsigned long long  cur, max;
    char                c[24], m[24];
    int                 res, i;

    if (f->len >= sizeof(buf)) {
        return;
    }

    ngx_memcpy(buf, f->data, f->len);
    buf[f->len] = '\0';

    if (sscanf(buf, "%d %23s %23s", &res, c, m) != 3
        || res < 0 || res >= RLIM_NLIMITS)
    {
        return;
    }

    if (sh->limits == NULL) {
        sh->limits = calloc(RLIM_NLIMITS, sizeof(struct rlimit));
        if (sh->limits == NULL) {
            return;
        }

        /* limits PAM did not report stay as the host has them */
        for (i = 0; i < RLIM_NLIMITS; i++) {
            (void) getrlimit(i, &sh->limits[i]);
        }

        sh->limits[RLIMIT_NOFILE] = ngx_wsman_sh_nofile;
    }

    cur = (c[0] == '-') ? (unsigned long long) RLIM_INFINITY
                        : strtoull(c, NULL, 10);
    max = (m[0] == '-') ? (unsigned long long) RLIM_INFINITY
                        : strtoull(m, NULL, 10);

    sh->limits[res].rlim_cur = (rlim_t) cur;
    sh->limits[res].rlim_max = (rlim_t) max;
}


void
ngx_wsman_sh_setup_done(ngx_wsman_sh_host_t *h, ngx_wsman_sh_shell_t *sh,
    ngx_uint_t status, const char *msg)
{
    ngx_wsman_sh_conn_t  *c;

    c = sh->setup_conn;
    sh->setup_conn = NULL;

    free(sh->setup_buf);
    sh->setup_buf = NULL;

    if (c != NULL) {
        c->setup = NULL;
    }

    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_log(NGX_LOG_NOTICE, "shell for user \"%s\" (%s), "
                         "account \"%s\" refused: %s", sh->owner_name,
                         sh->owner, sh->user, msg);

        ngx_wsman_sh_shell_delete(h, sh);

        if (c != NULL) {
            ngx_wsman_sh_reply(h, c, NGX_WSMAN_SHELL_CREATE, status,
                               NGX_WSMAN_SHELL_F_MESSAGE, msg);
        }

        return;
    }

    sh->pending = 0;
    sh->last_active = h->now;

    /*
     * With a PAM session the keeper waits for the end of the shell on
     * this socket: keep it, unwatched.  Without one the keeper exits.
     */
    if (sh->limits != NULL) {
        ngx_wsman_sh_unwatch(h, &sh->setup);

    } else {
        ngx_wsman_sh_close_ev(h, &sh->setup);
    }

    ngx_wsman_sh_log(NGX_LOG_NOTICE, "shell %s created for user \"%s\" "
                     "(%s), account \"%s\"", sh->id, sh->owner_name,
                     sh->owner, sh->user);

    if (c != NULL) {
        ngx_wsman_sh_reply(h, c, NGX_WSMAN_SHELL_CREATE,
                           NGX_WSMAN_SHELL_S_OK, NGX_WSMAN_SHELL_F_SHELL,
                           sh->id);
    }
}
