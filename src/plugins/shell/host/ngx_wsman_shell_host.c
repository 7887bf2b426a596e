/*
 * The shell host process.
 *
 * The master forks it once; it then runs its own single-threaded epoll
 * loop over: the control socket to the master, the channels of the worker
 * slots, one signalfd (SIGCHLD, SIGTERM, SIGINT, SIGQUIT), a "lifeline"
 * pipe whose write end only nginx processes hold, worker connections, and
 * the pipes of every command.
 *
 * The host has no name anyone could connect to.  At every start and
 * reload the master makes one SOCK_SEQPACKET socketpair per worker slot
 * and hands the host its ends over the control socket (SCM_RIGHTS); the
 * workers inherit the other ends when the master forks them, as they
 * inherit nginx's own channels.  For each request a worker makes a fresh
 * socketpair and passes one end over its slot channel: that end is the
 * request's connection.  No other process ever holds a descriptor that
 * reaches the host, and the host checks that the kernel-named sender of
 * each channel message is a child of the master.
 *
 * Timers (parked Receives, command run time, shell idle time) are plain
 * deadlines scanned when the epoll timeout is computed: their number is
 * bounded by the shell quotas and a scan is far cheaper than the fork of
 * any command.
 *
 * Nothing here uses nginx's pools, event loop or cycle: after the fork the
 * process shares nothing with nginx but the error log on stderr.
 *
 * This file starts the host and runs its loop (signals, timers); the
 * rest is in ngx_wsman_shell_host_conn.c (channels, connections,
 * requests), _shell.c (shells, quotas), _cmd.c (commands), _io.c
 * (buffers, Send/Receive, output) and _session.c (session keepers).
 */

#include "ngx_wsman_shell_host_int.h"
#include "ngx_wsman_util.h"


static ngx_int_t ngx_wsman_sh_alive(void);
static void ngx_wsman_sh_main(int cfd, int life, ngx_log_t *log,
    uid_t worker_uid) ngx_wsman_sh_noreturn;
static int ngx_wsman_sh_keep_fds(int *cfd, int *life);
static int ngx_wsman_sh_init(ngx_wsman_sh_host_t *h, int cfd, int life);
static void ngx_wsman_sh_loop(ngx_wsman_sh_host_t *h);
static void ngx_wsman_sh_shutdown(ngx_wsman_sh_host_t *h)
    ngx_wsman_sh_noreturn;
static void ngx_wsman_sh_kill_children(uid_t *uids, ngx_uint_t n);
static void ngx_wsman_sh_kill_child(pid_t pid, uid_t *uids, ngx_uint_t n);
static uint64_t ngx_wsman_sh_msec(void);

static void ngx_wsman_sh_dispatch(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_ev_t *ev, uint32_t events);

static void ngx_wsman_sh_signals(ngx_wsman_sh_host_t *h);
static void ngx_wsman_sh_reap(ngx_wsman_sh_host_t *h);
static int ngx_wsman_sh_timers(ngx_wsman_sh_host_t *h);
static int ngx_wsman_sh_busy(ngx_wsman_sh_shell_t *sh);


/* the master's view of the host it spawned; see ngx_wsman_sh_alive() */
static ngx_pid_t            ngx_wsman_sh_pid = NGX_INVALID_PID;
static int                  ngx_wsman_sh_lifeline = -1;
static int                  ngx_wsman_sh_ctl = -1;

/* the host's own state, used only in the host process */
ngx_wsman_sh_host_t         ngx_wsman_sh_host;
static ngx_uint_t           ngx_wsman_sh_log_level = NGX_LOG_NOTICE;
static ngx_uint_t           ngx_wsman_sh_spare_keepers;
struct rlimit               ngx_wsman_sh_nofile;

/* the current epoll batch, so that freed objects can be struck from it */
static struct epoll_event   ngx_wsman_sh_events[NGX_WSMAN_SH_EVENTS];
static int                  ngx_wsman_sh_nevents;

static const char  *ngx_wsman_sh_levels[] = {
    "", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"
};


ngx_pid_t
ngx_wsman_shell_host_spawn(ngx_log_t *log, uid_t worker_uid)
{
    int             ctl[2], life[2];
    pid_t           pid;
    struct timeval  tv;

    if (ngx_wsman_sh_alive()) {
        return ngx_wsman_sh_pid;
    }

    /*
     * The control socket: the master's end stays in the master only
     * (ngx_wsman_shell_host_forget() closes it in every other process).
     */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "wsman shell host: socketpair() failed");
        return NGX_INVALID_PID;
    }

    /* the host shuffles descriptors 3 and 4; stdio must be in place */
    if (ctl[0] < 3 || ctl[1] < 3) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "wsman shell host: standard descriptors are closed");
        (void) close(ctl[0]);
        (void) close(ctl[1]);
        return NGX_INVALID_PID;
    }

    /* a host stuck in a slow NSS lookup must not hang a reload for long */
    tv.tv_sec = NGX_WSMAN_SH_CONTROL_WAIT;
    tv.tv_usec = 0;

    if (setsockopt(ctl[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "wsman shell host: setsockopt(SO_SNDTIMEO) failed");
        (void) close(ctl[0]);
        (void) close(ctl[1]);
        return NGX_INVALID_PID;
    }

    if (pipe2(life, O_CLOEXEC) == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "wsman shell host: pipe2() failed");
        (void) close(ctl[0]);
        (void) close(ctl[1]);
        return NGX_INVALID_PID;
    }

    pid = fork();

    if (pid == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "wsman shell host: fork() failed");
        (void) close(ctl[0]);
        (void) close(ctl[1]);
        (void) close(life[0]);
        (void) close(life[1]);
        return NGX_INVALID_PID;
    }

    if (pid == 0) {
        (void) close(life[1]);
        (void) close(ctl[0]);
        ngx_wsman_sh_main(ctl[1], life[0], log, worker_uid);
    }

    (void) close(ctl[1]);
    (void) close(life[0]);

    /*
     * The write end stays open in this process and, through fork(), in
     * the daemonized master and its workers (CLOEXEC keeps it out of a
     * binary upgrade).  The host exits once the last of them is gone.
     */
    if (ngx_wsman_sh_lifeline != -1) {
        (void) close(ngx_wsman_sh_lifeline);
    }

    if (ngx_wsman_sh_ctl != -1) {
        (void) close(ngx_wsman_sh_ctl);
    }

    ngx_wsman_sh_lifeline = life[1];
    ngx_wsman_sh_ctl = ctl[0];
    ngx_wsman_sh_pid = pid;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "wsman shell host started, pid %P", pid);

    return pid;
}


/*
 * One SOCK_SEQPACKET socketpair per worker slot: the host's ends go to the
 * host over the control socket, the workers' ends are returned in fds (the
 * caller closes them when the cycle goes).  Both ends are non-blocking
 * and close-on-exec.
 */
ngx_int_t
ngx_wsman_shell_host_channels(ngx_log_t *log, int *fds, ngx_uint_t n,
    ngx_uint_t root)
{
    int         *host, sv[2], buf;
    ssize_t      rc;
    ngx_uint_t   i, j, batch;

    for (i = 0; i < n; i++) {
        fds[i] = -1;
    }

    if (!ngx_wsman_sh_alive() || ngx_wsman_sh_ctl == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "wsman: the shell host is not running");
        return NGX_ERROR;
    }

    host = ngx_alloc(n * sizeof(int), log);
    if (host == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        host[i] = -1;
    }

    for (i = 0; i < n; i++) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       0, sv)
            == -1)
        {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "wsman: socketpair() for the shell host failed");
            goto failed;
        }

        fds[i] = sv[0];
        host[i] = sv[1];

        /* the kernel tells the host who sends each message */
        buf = 1;

        if (setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &buf, sizeof(int))
            == -1)
        {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "wsman: setsockopt(SO_PASSCRED) failed");
            goto failed;
        }

        /* the master is root: past net.core.wmem_max if need be */
        buf = NGX_WSMAN_SH_CHANNEL_BUF;

        if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(int))
            == -1)
        {
            (void) setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf,
                              sizeof(int));
        }
    }

    for (i = 0; i < n; i += batch) {
        batch = ngx_min(n - i, NGX_WSMAN_SH_CONTROL_FDS);

        /* 'R': this configuration lets some location run root shells */
        rc = ngx_wsman_shell_send_fds(ngx_wsman_sh_ctl, root ? 'R' : 'C',
                                      &host[i], batch, 0);

        if (rc != 1) {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "wsman: passing channels to the shell host "
                          "failed");
            goto failed;
        }

        /* the host has its own references now */
        for (j = i; j < i + batch; j++) {
            (void) close(host[j]);
            host[j] = -1;
        }
    }

    ngx_free(host);

    ngx_log_debug1(NGX_LOG_DEBUG_CORE, log, 0,
                   "wsman: %ui shell host channels made", n);

    return NGX_OK;

failed:

    /* the host sees these close and forgets what it got of them */
    for (i = 0; i < n; i++) {
        if (fds[i] != -1) {
            (void) close(fds[i]);
            fds[i] = -1;
        }

        if (host[i] != -1) {
            (void) close(host[i]);
        }
    }

    ngx_free(host);

    return NGX_ERROR;
}


void
ngx_wsman_shell_host_forget(void)
{
    if (ngx_wsman_sh_ctl != -1) {
        (void) close(ngx_wsman_sh_ctl);
        ngx_wsman_sh_ctl = -1;
    }
}


/*
 * The host is alive while the read end of the lifeline, which only the
 * host holds, is open: a pipe's write end reports POLLERR once no reader
 * is left.  Unlike kill(pid, 0) this cannot be fooled by a reused pid, and
 * the host's exit status is the master's to reap (it reaps every child).
 */
static ngx_int_t
ngx_wsman_sh_alive(void)
{
    int            rc;
    struct pollfd  pfd;

    if (ngx_wsman_sh_lifeline == -1) {
        return 0;
    }

    pfd.fd = ngx_wsman_sh_lifeline;
    pfd.events = 0;
    pfd.revents = 0;

    do {
        rc = poll(&pfd, 1, 0);
    } while (rc == -1 && errno == EINTR);

    if (rc == 0) {
        return 1;
    }

    (void) close(ngx_wsman_sh_lifeline);
    ngx_wsman_sh_lifeline = -1;
    ngx_wsman_sh_pid = NGX_INVALID_PID;

    ngx_wsman_shell_host_forget();

    return 0;
}


/* ---------------------------------------------------------------------
 * The host process
 */

static void
ngx_wsman_sh_main(int cfd, int life, ngx_log_t *log, uid_t worker_uid)
{
    ngx_wsman_sh_host_t  *h;

    /*
     * On the first start the master has not redirected stderr to the
     * error log yet (that happens after daemonizing): use the log's file.
     */
    if (log != NULL) {
        ngx_wsman_sh_log_level = log->log_level;

        if (log->file != NULL && log->file->fd != NGX_INVALID_FILE
            && log->file->fd != STDERR_FILENO)
        {
            (void) dup2(log->file->fd, STDERR_FILENO);
        }
    }

    if (ngx_wsman_sh_keep_fds(&cfd, &life) != 0) {
        _exit(1);
    }

    /*
     * A process of its own for ngx_wsman_uuid(): never the random bytes
     * the master drew before the fork (nginx does the same for workers)
     */
    ngx_pid = ngx_getpid();

#if (NGX_SETPROCTITLE_USES_ENV)
    ngx_setproctitle("wsman shell host");
#endif

    (void) prctl(PR_SET_NAME, "wsman-shellhost", 0, 0, 0);

    /*
     * Orphans of the commands (a daemon started in a shell) are reparented
     * to the host, which reaps them and can kill them when it stops.
     */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1) {
        ngx_wsman_sh_log(NGX_LOG_WARN, "prctl(PR_SET_CHILD_SUBREAPER) "
                         "failed: %s", strerror(errno));
    }

    h = &ngx_wsman_sh_host;
    ngx_memzero(h, sizeof(ngx_wsman_sh_host_t));
    h->worker_uid = worker_uid;
    h->max_buffered = NGX_WSMAN_SHELL_MAX_BUFFERED;

    /*
     * Output buffers are up to a megabyte each and come and go with the
     * clients' reads: have them mmap()ed, so that freeing one gives its
     * memory back to the system instead of leaving the heap at its peak.
     */
    (void) mallopt(M_MMAP_THRESHOLD, NGX_WSMAN_SH_READ_CHUNK);

    if (ngx_wsman_sh_init(h, cfd, life) != 0) {
        _exit(1);
    }

    ngx_wsman_sh_log(NGX_LOG_NOTICE, "started, euid %u, workers' uid %u",
                     (unsigned) geteuid(), (unsigned) worker_uid);

    ngx_wsman_sh_loop(h);
    ngx_wsman_sh_shutdown(h);
}


/*
 * Keep the control socket as descriptor 3 and the lifeline as 4; everything
 * else inherited from nginx (listening sockets, log files, channels) is
 * closed.
 */
static int
ngx_wsman_sh_keep_fds(int *cfd, int *life)
{
    int  fd;

    if (*cfd != 3) {
        if (*life == 3) {
            fd = dup(*life);
            if (fd == -1) {
                return -1;
            }

            *life = fd;
        }

        if (dup2(*cfd, 3) == -1) {
            return -1;
        }

        *cfd = 3;
    }

    if (*life != 4) {
        if (dup2(*life, 4) == -1) {
            return -1;
        }

        *life = 4;
    }

    if (close_range(5, ~0U, 0) == -1) {
        return -1;
    }

    /* dup2() cleared CLOEXEC; commands must not inherit these */
    if (fcntl(3, F_SETFD, FD_CLOEXEC) == -1
        || fcntl(4, F_SETFD, FD_CLOEXEC) == -1)
    {
        return -1;
    }

    return 0;
}


static int
ngx_wsman_sh_init(ngx_wsman_sh_host_t *h, int cfd, int life)
{
    int       sig;
    sigset_t  set;

    /* nginx's handlers mean nothing here; start from the defaults */
    for (sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            (void) signal(sig, SIG_DFL);
        }
    }

    /*
     * Signals meant for nginx may reach the whole process group; writes to
     * a pipe whose reader died must fail with EPIPE, not kill the host.
     */
    (void) signal(SIGPIPE, SIG_IGN);
    (void) signal(SIGHUP, SIG_IGN);
    (void) signal(SIGUSR1, SIG_IGN);
    (void) signal(SIGUSR2, SIG_IGN);
    (void) signal(SIGWINCH, SIG_IGN);

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);

    if (sigprocmask(SIG_SETMASK, &set, NULL) == -1) {
        ngx_wsman_sh_log(NGX_LOG_EMERG, "sigprocmask() failed: %s",
                         strerror(errno));
        return -1;
    }

    /* each command takes three descriptors; restored in the commands */
    if (getrlimit(RLIMIT_NOFILE, &ngx_wsman_sh_nofile) == 0) {
        struct rlimit  rl = ngx_wsman_sh_nofile;

        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }

    h->ep = epoll_create1(EPOLL_CLOEXEC);
    if (h->ep == -1) {
        ngx_wsman_sh_log(NGX_LOG_EMERG, "epoll_create1() failed: %s",
                         strerror(errno));
        return -1;
    }

    h->signal.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (h->signal.fd == -1) {
        ngx_wsman_sh_log(NGX_LOG_EMERG, "signalfd() failed: %s",
                         strerror(errno));
        return -1;
    }

    h->signal.kind = NGX_WSMAN_SH_EV_SIGNAL;
    h->control.fd = cfd;
    h->control.kind = NGX_WSMAN_SH_EV_CONTROL;
    h->lifeline.fd = life;
    h->lifeline.kind = NGX_WSMAN_SH_EV_LIFELINE;

    /* the lifeline never carries data: only its hang-up matters */
    if (ngx_wsman_sh_watch(h, &h->signal, EPOLLIN) != 0
        || ngx_wsman_sh_watch(h, &h->control, EPOLLIN) != 0
        || ngx_wsman_sh_watch(h, &h->lifeline, EPOLLIN) != 0)
    {
        return -1;
    }

    return 0;
}


static void
ngx_wsman_sh_loop(ngx_wsman_sh_host_t *h)
{
    int                 i, n, timeout;
    ngx_wsman_sh_ev_t  *ev;

    while (!h->terminate) {
        h->now = ngx_wsman_sh_msec();
        timeout = ngx_wsman_sh_timers(h);

        n = epoll_wait(h->ep, ngx_wsman_sh_events, NGX_WSMAN_SH_EVENTS,
                       timeout);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            ngx_wsman_sh_log(NGX_LOG_ALERT, "epoll_wait() failed: %s",
                             strerror(errno));
            return;
        }

        h->now = ngx_wsman_sh_msec();
        ngx_wsman_sh_nevents = n;

        for (i = 0; i < n; i++) {
            ev = ngx_wsman_sh_events[i].data.ptr;

            /* NULL: the object was freed by an earlier event of the batch */
            if (ev != NULL) {
                ngx_wsman_sh_dispatch(h, ev, ngx_wsman_sh_events[i].events);
            }
        }

        ngx_wsman_sh_nevents = 0;
    }
}


static void
ngx_wsman_sh_dispatch(ngx_wsman_sh_host_t *h, ngx_wsman_sh_ev_t *ev,
    uint32_t events)
{
    if (ev->fd == -1) {
        return;
    }

    switch (ev->kind) {

    case NGX_WSMAN_SH_EV_CONTROL:
        ngx_wsman_sh_control(h);
        break;

    case NGX_WSMAN_SH_EV_CHANNEL:
        ngx_wsman_sh_channel(h, ev);
        break;

    case NGX_WSMAN_SH_EV_SIGNAL:
        ngx_wsman_sh_signals(h);
        break;

    case NGX_WSMAN_SH_EV_LIFELINE:
        ngx_wsman_sh_log(NGX_LOG_NOTICE, "nginx has exited, stopping");
        h->terminate = 1;
        break;

    case NGX_WSMAN_SH_EV_CONN:
        ngx_wsman_sh_conn_event(h, ev->obj, events);
        break;

    case NGX_WSMAN_SH_EV_STDIN:
        ngx_wsman_sh_stdin(h, ev->obj);
        break;

    case NGX_WSMAN_SH_EV_STDOUT:
        ngx_wsman_sh_output(h, ev->obj, NGX_WSMAN_SH_OUT);
        break;

    case NGX_WSMAN_SH_EV_STDERR:
        ngx_wsman_sh_output(h, ev->obj, NGX_WSMAN_SH_ERR);
        break;

    case NGX_WSMAN_SH_EV_SETUP:
        ngx_wsman_sh_setup_read(h, ev->obj);
        break;
    }
}


/*
 * Kill every command's process group, then whatever is left among the
 * host's children (orphans reparented to it), reap them all and exit.
 */
static void
ngx_wsman_sh_shutdown(ngx_wsman_sh_host_t *h)
{
    int                    i, status;
    pid_t                  pid;
    ngx_wsman_sh_cmd_t    *cmd;
    ngx_wsman_sh_shell_t  *sh;

    ngx_wsman_sh_close_ev(h, &h->control);

    for (sh = h->shells; sh; sh = sh->next) {
        for (cmd = sh->cmds; cmd; cmd = cmd->next) {
            ngx_wsman_sh_kill(cmd, SIGKILL);
        }

        /* the keeper closes the PAM session and exits */
        ngx_wsman_sh_close_ev(h, &sh->setup);
    }

    ngx_wsman_sh_spare_keepers = 1;

    /* SIGKILL cannot be resisted, so this ends within a few rounds */
    for (i = 0; i < 250; i++) {

        /* keepers had a second to close their sessions */
        if (i == 50) {
            ngx_wsman_sh_spare_keepers = 0;
        }

        do {
            pid = waitpid(-1, &status, WNOHANG);
        } while (pid > 0 || (pid == -1 && errno == EINTR));

        if (pid == -1) {
            break;              /* ECHILD: no children left */
        }

        ngx_wsman_sh_kill_children(NULL, 0);
        (void) usleep(20000);
    }

    ngx_wsman_sh_log(NGX_LOG_NOTICE, "exiting%s",
                     (i == 250) ? ", some children would not die" : "");

    _exit(0);
}


/*
 * SIGKILL every process whose parent is the host; with uids, only those
 * running as one of them.  The kernel lists a task's children in
 * /proc/<pid>/task/<tid>/children (the host has a single thread): one
 * read, where scanning all of /proc takes three system calls for every
 * process on the machine, on each shell Delete.  Kernels without that
 * file (CONFIG_PROC_CHILDREN) or a list too long for the buffer get the
 * scan.
 */
static void
ngx_wsman_sh_kill_children(uid_t *uids, ngx_uint_t nuids)
{
    int             fd;
    char            path[64], buf[512], *p;
    long            pid, ppid;
    DIR            *dir;
    pid_t           self;
    size_t          len;
    ssize_t         n;
    struct dirent  *de;
    static char     list[65536];

    self = getpid();

    (void) snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
                    (int) self, (int) self);

    fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd != -1) {
        len = 0;

        do {
            n = read(fd, list + len, sizeof(list) - 1 - len);
            if (n > 0) {
                len += n;
            }
        } while ((n > 0 && len < sizeof(list) - 1)
                 || (n == -1 && errno == EINTR));

        (void) close(fd);

        if (n == 0) {
            list[len] = '\0';

            for (p = list; *p; /* void */) {
                pid = strtol(p, &p, 10);

                if (pid <= 0) {
                    break;
                }

                ngx_wsman_sh_kill_child((pid_t) pid, uids, nuids);
            }

            return;
        }
    }

    dir = opendir("/proc");
    if (dir == NULL) {
        return;
    }

    while ((de = readdir(dir)) != NULL) {
        pid = strtol(de->d_name, &p, 10);
        if (*p != '\0' || pid <= 0) {
            continue;
        }

        (void) snprintf(path, sizeof(path), "/proc/%ld/stat", pid);

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1) {
            continue;
        }

        n = read(fd, buf, sizeof(buf) - 1);
        (void) close(fd);

        if (n <= 0) {
            continue;
        }

        buf[n] = '\0';

        /* "pid (comm) state ppid ...": comm may hold spaces and ')' */
        p = strrchr(buf, ')');
        if (p == NULL || p[1] != ' ' || p[2] == '\0' || p[3] != ' ') {
            continue;
        }

        ppid = strtol(p + 4, NULL, 10);

        if (ppid == self) {
            ngx_wsman_sh_kill_child((pid_t) pid, uids, nuids);
        }
    }

    (void) closedir(dir);
}


static void
ngx_wsman_sh_kill_child(pid_t pid, uid_t *uids, ngx_uint_t nuids)
{
    char         path[64];
    ngx_uint_t   i;
    struct stat  st;

    /*
     * Session keepers run as root: a sweep for uid 0 must not end other
     * shells' PAM sessions, and at shutdown they get a moment to close
     * theirs (their sockets are closed first).
     */
    if ((uids || ngx_wsman_sh_spare_keepers)
        && ngx_wsman_sh_keeper_index(&ngx_wsman_sh_host, pid) != -1)
    {
        return;
    }

    if (uids) {
        (void) snprintf(path, sizeof(path), "/proc/%ld", (long) pid);

        if (stat(path, &st) == -1) {
            return;
        }

        for (i = 0; i < nuids && uids[i] != st.st_uid; i++) {
            /* void */
        }

        if (i == nuids) {
            return;
        }
    }

    (void) kill(pid, SIGKILL);
}


void
ngx_wsman_sh_sweep(ngx_wsman_sh_host_t *h)
{
    if (h->nsweep) {
        ngx_wsman_sh_kill_children(h->sweep, h->nsweep);
    }
}


void
ngx_wsman_sh_sweep_add(ngx_wsman_sh_host_t *h, uid_t uid)
{
    ngx_uint_t             i;
    ngx_wsman_sh_shell_t  *sh;

    /* the user's other shells may own those processes: leave them be */
    for (sh = h->shells; sh; sh = sh->next) {
        if (sh->uid == uid) {
            return;
        }
    }

    for (i = 0; i < h->nsweep; i++) {
        if (h->sweep[i] == uid) {
            return;
        }
    }

    if (h->nsweep < NGX_WSMAN_SH_SWEEP) {
        h->sweep[h->nsweep++] = uid;
    }
}


void
ngx_wsman_sh_sweep_del(ngx_wsman_sh_host_t *h, uid_t uid)
{
    ngx_uint_t  i;

    for (i = 0; i < h->nsweep; i++) {
        if (h->sweep[i] == uid) {
            h->sweep[i] = h->sweep[--h->nsweep];
            return;
        }
    }
}


void
ngx_wsman_sh_log(ngx_uint_t level, const char *fmt, ...)
{
    int        n, len;
    char       buf[1024];
    time_t     now;
    va_list    args;
    struct tm  tm;

    if (level > ngx_wsman_sh_log_level) {
        return;
    }

    now = time(NULL);
    (void) localtime_r(&now, &tm);

    len = (int) strftime(buf, sizeof(buf), "%Y/%m/%d %H:%M:%S", &tm);

    n = snprintf(buf + len, sizeof(buf) - len,
                 " [%s] %d#0: wsman shell host: ",
                 ngx_wsman_sh_levels[level < 9 ? level : 8], (int) getpid());
    if (n < 0) {
        return;
    }

    len += n;

    va_start(args, fmt);
    n = vsnprintf(buf + len, sizeof(buf) - len, fmt, args);
    va_end(args);

    if (n < 0) {
        return;
    }

    len = ngx_min(len + n, (int) sizeof(buf) - 2);
    buf[len++] = '\n';

    /* one write(), so that lines of concurrent processes do not mix */
    if (write(STDERR_FILENO, buf, len) == -1) {
        /* there is nowhere else to report */
    }
}


static uint64_t
ngx_wsman_sh_msec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * A random (version 4) UUID in upper case, as Windows shows its ids;
 * ngx_wsman_uuid() draws from OpenSSL only (no pool, log or cycle) and
 * redraws in a new process once ngx_pid says so (ngx_wsman_sh_main()).
 */
int
ngx_wsman_sh_uuid(char *buf)
{
    u_char  *p, *last;

    last = ngx_wsman_uuid((u_char *) buf);

    if (last == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "RAND_bytes() failed");
        return -1;
    }

    for (p = (u_char *) buf; p < last; p++) {
        *p = ngx_toupper(*p);
    }

    *last = '\0';

    return 0;
}


/* ---------------------------------------------------------------------
 * epoll (the buffers are in ngx_wsman_shell_host_io.c)
 */

int
ngx_wsman_sh_watch(ngx_wsman_sh_host_t *h, ngx_wsman_sh_ev_t *ev,
    uint32_t events)
{
    struct epoll_event  ee;

    ee.events = events;
    ee.data.ptr = ev;

    if (epoll_ctl(h->ep, ev->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
                  ev->fd, &ee)
        == -1)
    {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "epoll_ctl(%d) failed: %s", ev->fd,
                         strerror(errno));
        return -1;
    }

    ev->watched = 1;

    return 0;
}


void
ngx_wsman_sh_unwatch(ngx_wsman_sh_host_t *h, ngx_wsman_sh_ev_t *ev)
{
    int  i;

    if (ev->watched) {
        if (epoll_ctl(h->ep, EPOLL_CTL_DEL, ev->fd, NULL) == -1) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "epoll_ctl(%d, DEL) failed: %s",
                             ev->fd, strerror(errno));
        }

        ev->watched = 0;
    }

    /* what the current batch still holds for it is stale now */
    for (i = 0; i < ngx_wsman_sh_nevents; i++) {
        if (ngx_wsman_sh_events[i].data.ptr == ev) {
            ngx_wsman_sh_events[i].data.ptr = NULL;
        }
    }
}


void
ngx_wsman_sh_close_ev(ngx_wsman_sh_host_t *h, ngx_wsman_sh_ev_t *ev)
{
    if (ev->fd == -1) {
        return;
    }

    ngx_wsman_sh_unwatch(h, ev);
    (void) close(ev->fd);
    ev->fd = -1;
}


/* ---------------------------------------------------------------------
 * Signals and children
 */

static void
ngx_wsman_sh_signals(ngx_wsman_sh_host_t *h)
{
    ssize_t                  n;
    struct signalfd_siginfo  si;

    for ( ;; ) {
        n = read(h->signal.fd, &si, sizeof(si));

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n != (ssize_t) sizeof(si)) {
            break;
        }

        if (si.ssi_signo != SIGCHLD && !h->terminate) {
            ngx_wsman_sh_log(NGX_LOG_NOTICE, "signal %d received, stopping",
                             (int) si.ssi_signo);
            h->terminate = 1;
        }
    }

    /* SIGCHLDs coalesce: reap whatever has exited */
    ngx_wsman_sh_reap(h);
}


static void
ngx_wsman_sh_reap(ngx_wsman_sh_host_t *h)
{
    int                    i, status;
    pid_t                  pid;
    ngx_wsman_sh_cmd_t    *cmd;
    ngx_wsman_sh_shell_t  *sh;

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == -1 && errno == EINTR) {
            continue;
        }

        if (pid <= 0) {
            return;
        }

        i = ngx_wsman_sh_keeper_index(h, pid);

        if (i != -1) {
            h->keepers[i] = h->keepers[--h->nkeepers];
            continue;
        }

        cmd = NULL;

        for (sh = h->shells; sh && cmd == NULL; sh = sh->next) {
            for (cmd = sh->cmds; cmd; cmd = cmd->next) {
                if (cmd->pid == pid && !cmd->exited) {
                    break;
                }
            }
        }

        /* an orphan reparented to the host, or a deleted shell's command:
         * what it leaves behind lands on the host now */
        if (cmd == NULL) {
            ngx_wsman_sh_sweep(h);
            continue;
        }

        cmd->exited = 1;

        if (WIFEXITED(status)) {
            cmd->exit_code = WEXITSTATUS(status);

        } else if (WIFSIGNALED(status)) {
            cmd->exit_code = 128 + WTERMSIG(status);

        } else {
            cmd->exit_code = 255;
        }

        ngx_wsman_sh_log(NGX_LOG_INFO, "command %s, pid %d, exited with "
                         "code %d", cmd->id, (int) pid, cmd->exit_code);

        ngx_wsman_sh_notify(h, cmd);
    }
}


/* ---------------------------------------------------------------------
 * Timers
 */

/* a shell whose client waits on a Receive is in use, not idle */
static int
ngx_wsman_sh_busy(ngx_wsman_sh_shell_t *sh)
{
    ngx_wsman_sh_cmd_t  *cmd;

    for (cmd = sh->cmds; cmd; cmd = cmd->next) {
        if (cmd->parked || cmd->inflight) {
            return 1;
        }
    }

    return 0;
}


/*
 * Expire what is due, then answer the epoll timeout to the next deadline.
 * Expiring may close connections and free shells anywhere in the lists,
 * so every expiry restarts the walk.
 */
static int
ngx_wsman_sh_timers(ngx_wsman_sh_host_t *h)
{
    uint64_t               next;
    ngx_wsman_sh_cmd_t    *cmd;
    ngx_wsman_sh_conn_t   *c;
    ngx_wsman_sh_shell_t  *sh;

again:

    for (c = h->conns; c; c = c->next) {
        if (c->deadline > h->now) {
            continue;
        }

        if (c->state == NGX_WSMAN_SH_CONN_SETUP && c->setup != NULL) {
            ngx_wsman_sh_setup_done(h, c->setup, NGX_WSMAN_SHELL_S_INTERNAL,
                                    "the account and session setup (PAM) "
                                    "did not finish in time");

        } else if (c->state == NGX_WSMAN_SH_CONN_PARKED) {
            c->cmd->parked = NULL;
            c->cmd = NULL;
            ngx_wsman_sh_reply(h, c, NGX_WSMAN_SHELL_RECEIVE,
                               NGX_WSMAN_SHELL_S_TIMEOUT,
                               NGX_WSMAN_SHELL_F_MESSAGE,
                               "no output within the timeout");

        } else {
            ngx_wsman_sh_log(NGX_LOG_INFO, "worker connection timed out");
            ngx_wsman_sh_conn_close(h, c);
        }

        goto again;
    }

    for (sh = h->shells; sh; sh = sh->next) {

        for (cmd = sh->cmds; cmd; cmd = cmd->next) {
            if (cmd->deadline == 0 || cmd->deadline > h->now) {
                continue;
            }

            cmd->deadline = 0;

            if (!(cmd->exited && cmd->eof[0] && cmd->eof[1])) {
                ngx_wsman_sh_log(NGX_LOG_NOTICE, "command %s ran longer than "
                                 "%llu ms, killed", cmd->id,
                                 (unsigned long long) sh->max_runtime);
                ngx_wsman_sh_kill(cmd, SIGKILL);
            }
        }

        if (sh->pending || sh->idle_ms == 0
            || sh->last_active + sh->idle_ms > h->now)
        {
            continue;
        }

        if (ngx_wsman_sh_busy(sh)) {
            sh->last_active = h->now;
            continue;
        }

        ngx_wsman_sh_log(NGX_LOG_NOTICE, "shell %s of user \"%s\" idle for "
                         "%llu ms, deleted", sh->id, sh->user,
                         (unsigned long long) sh->idle_ms);

        ngx_wsman_sh_shell_delete(h, sh);

        goto again;
    }

    next = UINT64_MAX;

    for (c = h->conns; c; c = c->next) {
        next = ngx_min(next, c->deadline);
    }

    for (sh = h->shells; sh; sh = sh->next) {
        if (sh->idle_ms) {
            next = ngx_min(next, sh->last_active + sh->idle_ms);
        }

        for (cmd = sh->cmds; cmd; cmd = cmd->next) {
            if (cmd->deadline) {
                next = ngx_min(next, cmd->deadline);
            }
        }
    }

    if (next == UINT64_MAX) {
        return -1;
    }

    return (next > h->now) ? (int) ngx_min(next - h->now, 60000) : 0;
}
