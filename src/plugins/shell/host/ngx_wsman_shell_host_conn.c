/*
 * The shell host: its channels from the master and the workers, the
 * connections they pass, request frames in and reply frames out, and
 * the requests read from them.
 */

#include "ngx_wsman_shell_host_int.h"


static void ngx_wsman_sh_conn_new(ngx_wsman_sh_host_t *h, int fd,
    ngx_uint_t root_ok);
static int ngx_wsman_sh_sender_ok(ngx_wsman_sh_host_t *h,
    struct ucred *cred);
static int ngx_wsman_sh_is_master(pid_t pid);
static int ngx_wsman_sh_peer_ok(ngx_wsman_sh_host_t *h, int fd);
static void ngx_wsman_sh_conn_read(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);
static void ngx_wsman_sh_conn_write(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);

static void ngx_wsman_sh_process(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);
static int ngx_wsman_sh_field_eq(ngx_wsman_shell_field_t *f, const char *s);


/* ---------------------------------------------------------------------
 * Worker connections: one request frame in, one reply frame out
 */

/*
 * The master passes the host's ends of the worker slot channels, at every
 * start and reload.  Nothing else ever arrives here: the other end of the
 * control socket exists only in the master.
 */
void
ngx_wsman_sh_control(ngx_wsman_sh_host_t *h)
{
    int                 fd, type, *fds;
    char                byte;
    ssize_t             n;
    socklen_t           len;
    ngx_uint_t          i, nfds;
    struct iovec        iov;
    struct msghdr       msg;
    struct cmsghdr     *cmsg;
    ngx_wsman_sh_ev_t  *ch;
    union {
        struct cmsghdr  cm;
        char            space[CMSG_SPACE(NGX_WSMAN_SH_CONTROL_FDS
                                         * sizeof(int))];
    } cmsgbuf;

    for ( ;; ) {
        iov.iov_base = &byte;
        iov.iov_len = 1;

        ngx_memzero(&msg, sizeof(struct msghdr));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsgbuf.space;
        msg.msg_controllen = sizeof(cmsgbuf.space);

        n = recvmsg(h->control.fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != EAGAIN) {
                ngx_wsman_sh_log(NGX_LOG_ALERT, "recvmsg() on the control "
                                 "socket failed: %s", strerror(errno));
            }

            return;
        }

        if (n == 0) {
            /*
             * The master is gone (a binary upgrade execs a new one, which
             * starts its own host).  Workers may still run: the lifeline
             * says when to stop.
             */
            ngx_wsman_sh_log(NGX_LOG_NOTICE, "the master closed the "
                             "control socket");
            ngx_wsman_sh_close_ev(h, &h->control);
            return;
        }

        if (msg.msg_flags & MSG_CTRUNC) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "channels from the master were "
                             "lost (out of descriptors?)");
        }

        for (cmsg = CMSG_FIRSTHDR(&msg); cmsg;
             cmsg = CMSG_NXTHDR(&msg, cmsg))
        {
            if (cmsg->cmsg_level != SOL_SOCKET
                || cmsg->cmsg_type != SCM_RIGHTS)
            {
                continue;
            }

            fds = (int *) CMSG_DATA(cmsg);
            nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            for (i = 0; i < nfds; i++) {
                ngx_memcpy(&fd, &fds[i], sizeof(int));

                type = 0;
                len = sizeof(int);

                if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1
                    || type != SOCK_SEQPACKET)
                {
                    ngx_wsman_sh_log(NGX_LOG_ALERT, "the master passed "
                                     "something that is not a channel");
                    (void) close(fd);
                    continue;
                }

                ch = calloc(1, sizeof(ngx_wsman_sh_ev_t));
                if (ch == NULL) {
                    ngx_wsman_sh_log(NGX_LOG_ALERT, "calloc() failed");
                    (void) close(fd);
                    continue;
                }

                ch->fd = fd;
                ch->kind = NGX_WSMAN_SH_EV_CHANNEL;
                ch->root_ok = (byte == 'R');
                ch->obj = ch;

                if (ngx_wsman_sh_watch(h, ch, EPOLLIN) != 0) {
                    (void) close(fd);
                    free(ch);
                    continue;
                }

                h->nchannels++;
            }
        }

        ngx_wsman_sh_log(NGX_LOG_INFO, "%u worker channels open",
                         (unsigned) h->nchannels);
    }
}


/*
 * A worker slot channel: each message carries one end of a socketpair the
 * worker made for one request.  End of file: the last process holding the
 * slot's other end (the master's cycle, the workers of that generation)
 * is gone, after a reload or at exit.
 */
void
ngx_wsman_sh_channel(ngx_wsman_sh_host_t *h, ngx_wsman_sh_ev_t *ch)
{
    int              fd, type, *fds;
    char             byte;
    ssize_t          n;
    socklen_t        len;
    ngx_uint_t       i, k, nfds, extra;
    struct ucred     cred;
    struct iovec     iov;
    struct msghdr    msg;
    struct cmsghdr  *cmsg;
    union {
        struct cmsghdr  cm;
        char            space[CMSG_SPACE(sizeof(struct ucred))
                              + CMSG_SPACE(sizeof(int))];
    } cmsgbuf;

    for (k = 0; k < NGX_WSMAN_SH_CHANNEL_BATCH; k++) {
        iov.iov_base = &byte;
        iov.iov_len = 1;

        ngx_memzero(&msg, sizeof(struct msghdr));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsgbuf.space;
        msg.msg_controllen = sizeof(cmsgbuf.space);

        n = recvmsg(ch->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno == EAGAIN) {
                return;
            }

            ngx_wsman_sh_log(NGX_LOG_ERR, "recvmsg() on a worker channel "
                             "failed: %s", strerror(errno));
            n = 0;
        }

        if (n == 0) {
            ngx_wsman_sh_close_ev(h, ch);
            free(ch);
            h->nchannels--;

            ngx_wsman_sh_log(NGX_LOG_INFO, "a worker channel closed, %u "
                             "open", (unsigned) h->nchannels);
            return;
        }

        fd = -1;
        extra = 0;
        cred.pid = 0;

        for (cmsg = CMSG_FIRSTHDR(&msg); cmsg;
             cmsg = CMSG_NXTHDR(&msg, cmsg))
        {
            if (cmsg->cmsg_level == SOL_SOCKET
                && cmsg->cmsg_type == SCM_CREDENTIALS
                && cmsg->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
            {
                ngx_memcpy(&cred, CMSG_DATA(cmsg), sizeof(struct ucred));
                continue;
            }

            if (cmsg->cmsg_level != SOL_SOCKET
                || cmsg->cmsg_type != SCM_RIGHTS)
            {
                continue;
            }

            fds = (int *) CMSG_DATA(cmsg);
            nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            for (i = 0; i < nfds; i++) {
                if (fd == -1) {
                    ngx_memcpy(&fd, &fds[i], sizeof(int));

                } else {
                    ngx_memcpy(&type, &fds[i], sizeof(int));
                    (void) close(type);
                    extra = 1;
                }
            }
        }

        /* MSG_CTRUNC: the kernel closed what did not fit */
        if (extra || (msg.msg_flags & MSG_CTRUNC)) {
            ngx_wsman_sh_log(NGX_LOG_ERR, "a worker passed more than one "
                             "descriptor");
        }

        if (fd == -1) {
            ngx_wsman_sh_log(NGX_LOG_ERR, "a worker channel message "
                             "without a descriptor");
            continue;
        }

        if (!ngx_wsman_sh_sender_ok(h, &cred)) {
            (void) close(fd);
            continue;
        }

        /* a stream socket of our own kind, nothing else (a file, a pipe) */
        type = 0;
        len = sizeof(int);

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1
            || type != SOCK_STREAM
            || ngx_wsman_sh_nonblock(fd) != 0
            || !ngx_wsman_sh_peer_ok(h, fd))
        {
            ngx_wsman_sh_log(NGX_LOG_ERR, "a worker passed a descriptor "
                             "that is not a request connection");
            (void) close(fd);
            continue;
        }

        ngx_wsman_sh_conn_new(h, fd, ch->root_ok);
    }
}


/*
 * Who sent a channel message, as the kernel tells (SO_PASSCRED is set on
 * the host's ends before the master passes them): a process of the host's
 * own euid (root can do anything anyway), or one of the workers' uid whose
 * parent runs the host's binary (nginx) with the host's euid, i.e. a
 * worker of a privileged nginx.  A process of the workers' uid that got
 * hold of a channel descriptor by other means (a worker that was still
 * dumpable while it started) is not a child of the master.
 */
static int
ngx_wsman_sh_sender_ok(ngx_wsman_sh_host_t *h, struct ucred *cred)
{
    int      fd;
    char     path[64], buf[512], *p;
    long     ppid;
    ssize_t  n;

    if (cred->pid == 0) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "a worker channel message without "
                         "credentials refused");
        return 0;
    }

    if (cred->uid == geteuid()) {
        return 1;
    }

    if (cred->uid != h->worker_uid) {
        goto refused;
    }

    (void) snprintf(path, sizeof(path), "/proc/%d/stat", (int) cred->pid);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        goto refused;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    (void) close(fd);

    if (n <= 0) {
        goto refused;
    }

    buf[n] = '\0';

    /* "pid (comm) state ppid ...": comm may hold anything but ends at the
     * last ')' */
    p = strrchr(buf, ')');
    if (p == NULL || sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid <= 1) {
        goto refused;
    }

    if (ngx_wsman_sh_is_master((pid_t) ppid)) {
        return 1;
    }

refused:

    ngx_wsman_sh_log(NGX_LOG_WARN, "request from pid %d, uid %u refused: "
                     "not a worker of this nginx", (int) cred->pid,
                     (unsigned) cred->uid);
    return 0;
}


/* pid runs the host's own binary with the host's euid (nginx's master) */
static int
ngx_wsman_sh_is_master(pid_t pid)
{
    FILE           *f;
    char            path[64], exe[PATH_MAX], line[256];
    ssize_t         n;
    unsigned long   uid[4];
    static char     self[PATH_MAX];
    static ssize_t  self_len;

    if (self_len <= 0) {
        self_len = readlink("/proc/self/exe", self, sizeof(self));
        if (self_len <= 0 || self_len == sizeof(self)) {
            self_len = 0;
            return 0;
        }
    }

    (void) snprintf(path, sizeof(path), "/proc/%d/exe", (int) pid);

    n = readlink(path, exe, sizeof(exe));
    if (n != self_len || memcmp(exe, self, n) != 0) {
        return 0;
    }

    (void) snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);

    f = fopen(path, "re");
    if (f == NULL) {
        return 0;
    }

    n = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "Uid: %lu %lu %lu %lu", &uid[0], &uid[1], &uid[2],
                   &uid[3])
            == 4)
        {
            n = 1;
            break;
        }
    }

    (void) fclose(f);

    return n == 1 && uid[0] == (unsigned long) geteuid()
           && uid[1] == (unsigned long) geteuid();
}


static void
ngx_wsman_sh_conn_new(ngx_wsman_sh_host_t *h, int fd, ngx_uint_t root_ok)
{
    ngx_wsman_sh_conn_t  *c;

    c = calloc(1, sizeof(ngx_wsman_sh_conn_t));
    if (c == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "calloc() failed");
        (void) close(fd);
        return;
    }

    c->ev.fd = fd;
    c->ev.kind = NGX_WSMAN_SH_EV_CONN;
    c->ev.obj = c;
    c->root_ok = root_ok;
    c->state = NGX_WSMAN_SH_CONN_READ;
    c->deadline = h->now + NGX_WSMAN_SH_IO_TIMEOUT;

    if (ngx_wsman_sh_watch(h, &c->ev, EPOLLIN) != 0) {
        (void) close(fd);
        free(c);
        return;
    }

    c->next = h->conns;
    if (h->conns) {
        h->conns->prev = c;
    }

    h->conns = c;
}


/*
 * Defence in depth: the connection came over a worker's channel, so its
 * other end was made by a worker (a socketpair's peer credentials are its
 * creator's); it must have the workers' uid or the host's own.
 */
static int
ngx_wsman_sh_peer_ok(ngx_wsman_sh_host_t *h, int fd)
{
    socklen_t     len;
    struct ucred  cred;

    len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "getsockopt(SO_PEERCRED) failed: %s",
                         strerror(errno));
        return 0;
    }

    if (cred.uid == h->worker_uid || cred.uid == geteuid()) {
        return 1;
    }

    ngx_wsman_sh_log(NGX_LOG_WARN, "connection from pid %d, uid %u refused",
                     (int) cred.pid, (unsigned) cred.uid);

    return 0;
}


void
ngx_wsman_sh_conn_event(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    uint32_t events)
{
    switch (c->state) {

    case NGX_WSMAN_SH_CONN_READ:
        ngx_wsman_sh_conn_read(h, c);
        break;

    case NGX_WSMAN_SH_CONN_WRITE:
        ngx_wsman_sh_conn_write(h, c);
        break;

    case NGX_WSMAN_SH_CONN_PARKED:
    case NGX_WSMAN_SH_CONN_SETUP:
        /*
         * Only EPOLLHUP and EPOLLERR are reported while a reply waits: a
         * worker that merely shut down its sending side still waits for
         * it, one that closed the socket (hang-up) does not.  A Create
         * given up on deletes its shell: nobody will use it.
         */
        if (events & (EPOLLHUP | EPOLLERR)) {
            ngx_wsman_sh_conn_close(h, c);
        }

        break;
    }
}


static void
ngx_wsman_sh_conn_read(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c)
{
    size_t    want;
    u_char   *p;
    ssize_t   n;
    uint32_t  len;

    for ( ;; ) {
        if (c->in_size == 0) {
            p = c->head + c->in_len;
            want = sizeof(c->head) - c->in_len;

        } else {
            p = c->in + c->in_len;
            want = c->in_size - c->in_len;
        }

        n = read(c->ev.fd, p, want);

        if (n == -1) {
            if (errno == EAGAIN) {
                return;
            }

            if (errno == EINTR) {
                continue;
            }

            ngx_wsman_sh_conn_close(h, c);
            return;
        }

        if (n == 0) {
            /* the worker went away before its request was complete */
            ngx_wsman_sh_conn_close(h, c);
            return;
        }

        c->in_len += n;

        if (c->in_size == 0 && c->in_len == sizeof(c->head)) {
            len = ngx_wsman_shell_get_u32(c->head);

            if (len == 0 || len > NGX_WSMAN_SHELL_MAX_FRAME) {
                ngx_wsman_sh_log(NGX_LOG_ERR, "request of %u bytes refused",
                                 (unsigned) len);
                ngx_wsman_sh_reply(h, c, 0, NGX_WSMAN_SHELL_S_BAD_REQUEST,
                                   NGX_WSMAN_SHELL_F_MESSAGE,
                                   "bad request length");
                return;
            }

            c->in_size = sizeof(c->head) + (size_t) len;

            c->in = malloc(c->in_size);
            if (c->in == NULL) {
                ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc(%zu) failed",
                                 c->in_size);
                ngx_wsman_sh_reply(h, c, 0, NGX_WSMAN_SHELL_S_INTERNAL,
                                   NGX_WSMAN_SHELL_F_MESSAGE,
                                   "out of memory");
                return;
            }

            ngx_memcpy(c->in, c->head, sizeof(c->head));
        }

        if (c->in_size && c->in_len == c->in_size) {
            ngx_wsman_sh_process(h, c);
            return;
        }
    }
}


static void
ngx_wsman_sh_conn_write(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c)
{
    ssize_t  n;

    while (c->out_pos < c->out_len) {
        n = send(c->ev.fd, c->out + c->out_pos, c->out_len - c->out_pos,
                 MSG_NOSIGNAL);

        if (n == -1) {
            if (errno == EAGAIN) {
                if (ngx_wsman_sh_watch(h, &c->ev, EPOLLOUT) != 0) {
                    ngx_wsman_sh_conn_close(h, c);
                }

                return;
            }

            if (errno == EINTR) {
                continue;
            }

            /* the worker is gone; a Receive's bytes stay buffered */
            ngx_wsman_sh_conn_close(h, c);
            return;
        }

        c->out_pos += n;
    }

    if (c->cmd) {
        ngx_wsman_sh_output_sent(h, c);
    }

    ngx_wsman_sh_conn_close(h, c);
}


void
ngx_wsman_sh_conn_close(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c)
{
    ngx_uint_t             retry;
    ngx_wsman_sh_cmd_t    *cmd;
    ngx_wsman_sh_shell_t  *sh;

    cmd = c->cmd;
    c->cmd = NULL;
    retry = 0;

    sh = c->setup;

    if (sh != NULL) {
        c->setup = NULL;
        sh->setup_conn = NULL;
        ngx_wsman_sh_log(NGX_LOG_INFO, "shell %s: the worker left before "
                         "its setup was done, deleted", sh->id);
        ngx_wsman_sh_shell_delete(h, sh);
    }

    if (cmd != NULL) {
        if (cmd->parked == c) {
            cmd->parked = NULL;
        }

        if (cmd->inflight == c) {
            cmd->inflight = NULL;
            retry = 1;
        }
    }

    ngx_wsman_sh_close_ev(h, &c->ev);

    if (c->prev) {
        c->prev->next = c->next;

    } else {
        h->conns = c->next;
    }

    if (c->next) {
        c->next->prev = c->prev;
    }

    free(c->in);
    free(c->out);
    free(c);

    if (retry) {
        /* the reply did not make it: a waiting Receive gets the bytes */
        ngx_wsman_sh_notify(h, cmd);
    }
}


/* takes ownership of frame (malloc()ed) and starts writing it */
void
ngx_wsman_sh_send_frame(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    u_char *frame, size_t len)
{
    free(c->in);
    c->in = NULL;

    c->out = frame;
    c->out_len = len;
    c->out_pos = 0;
    c->state = NGX_WSMAN_SH_CONN_WRITE;
    c->deadline = h->now + NGX_WSMAN_SH_IO_TIMEOUT;

    ngx_wsman_sh_conn_write(h, c);
}


/* a reply of a status, and a message or an id */
void
ngx_wsman_sh_reply(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    u_char type, ngx_uint_t status, u_char tag, const char *value)
{
    size_t                     size, len;
    u_char                    *frame;
    ngx_wsman_shell_writer_t   w;

    size = NGX_WSMAN_SHELL_HEAD_LEN + 2 * NGX_WSMAN_SHELL_FIELD_HEAD
           + NGX_INT64_LEN + (value ? strlen(value) : 0);

    frame = malloc(size);
    if (frame == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc(%zu) failed", size);
        ngx_wsman_sh_conn_close(h, c);
        return;
    }

    ngx_wsman_shell_writer_init(&w, frame, size, type);
    ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_STATUS, status);

    if (value != NULL) {
        ngx_wsman_shell_writer_add_str(&w, tag, value);
    }

    len = ngx_wsman_shell_writer_finish(&w);

    if (len == 0) {
        /* cannot happen: size covers every field */
        ngx_wsman_sh_log(NGX_LOG_ALERT, "reply does not fit");
        free(frame);
        ngx_wsman_sh_conn_close(h, c);
        return;
    }

    ngx_wsman_sh_send_frame(h, c, frame, len);
}


/* ---------------------------------------------------------------------
 * Requests
 */

static void
ngx_wsman_sh_process(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c)
{
    ngx_wsman_sh_req_t  r;

    ngx_memzero(&r, sizeof(ngx_wsman_sh_req_t));
    r.frame = c->in;
    r.frame_len = c->in_size;

    /* the request is complete: watch for nothing but hang-up */
    if (ngx_wsman_sh_watch(h, &c->ev, 0) != 0) {
        ngx_wsman_sh_conn_close(h, c);
        return;
    }

    if (ngx_wsman_shell_frame_parse(c->in, c->in_size, &r.type) != NGX_OK
        || ngx_wsman_sh_req_read(&r) != NGX_OK)
    {
        ngx_wsman_sh_log(NGX_LOG_ERR, "malformed request");
        ngx_wsman_sh_reply(h, c, c->in[4], NGX_WSMAN_SHELL_S_BAD_REQUEST,
                           NGX_WSMAN_SHELL_F_MESSAGE, "malformed request");
        return;
    }

    /*
     * A worker's word on wsman_shell_allow_root counts only where the
     * master said some location of its configuration allows root: code
     * running in a worker cannot grant itself root shells.
     */
    if (!c->root_ok) {
        r.allow_root = 0;
    }

    if (r.max_buffered && r.max_buffered <= NGX_MAX_SIZE_T_VALUE) {
        h->max_buffered = (size_t) r.max_buffered;
        ngx_wsman_sh_resume_all(h);
    }

    /* every shell belongs to a WS-Man identity: none, no shell */
    if (r.user.len == 0 || r.owner.len == 0 || r.owner_name.len == 0) {
        ngx_wsman_sh_reply(h, c, r.type, NGX_WSMAN_SHELL_S_BAD_REQUEST,
                           NGX_WSMAN_SHELL_F_MESSAGE, "no user");
        return;
    }

    switch (r.type) {

    case NGX_WSMAN_SHELL_CREATE:
        ngx_wsman_sh_create(h, c, &r);
        break;

    case NGX_WSMAN_SHELL_COMMAND:
        ngx_wsman_sh_command(h, c, &r);
        break;

    case NGX_WSMAN_SHELL_SEND:
        ngx_wsman_sh_send(h, c, &r);
        break;

    case NGX_WSMAN_SHELL_RECEIVE:
        ngx_wsman_sh_receive(h, c, &r);
        break;

    case NGX_WSMAN_SHELL_SIGNAL:
        ngx_wsman_sh_signal(h, c, &r);
        break;

    case NGX_WSMAN_SHELL_DELETE:
        ngx_wsman_sh_delete(h, c, &r);
        break;

    default:
        ngx_wsman_sh_reply(h, c, r.type, NGX_WSMAN_SHELL_S_BAD_REQUEST,
                           NGX_WSMAN_SHELL_F_MESSAGE, "unknown request");
    }
}


ngx_int_t
ngx_wsman_sh_req_read(ngx_wsman_sh_req_t *r)
{
    uint64_t                  *num;
    ngx_int_t                  rc;
    const u_char              *p, *end;
    ngx_wsman_shell_field_t    f, *text;

    p = r->frame + NGX_WSMAN_SHELL_HEAD_LEN;
    end = r->frame + r->frame_len;

    while ((rc = ngx_wsman_shell_frame_next(&p, end, &f)) == NGX_OK) {

        text = NULL;
        num = NULL;

        switch (f.tag) {

        case NGX_WSMAN_SHELL_F_USER:       text = &r->user; break;
        case NGX_WSMAN_SHELL_F_OWNER:      text = &r->owner; break;
        case NGX_WSMAN_SHELL_F_OWNER_NAME: text = &r->owner_name; break;
        case NGX_WSMAN_SHELL_F_SHELL:      text = &r->shell; break;
        case NGX_WSMAN_SHELL_F_COMMAND_ID: text = &r->command_id; break;
        case NGX_WSMAN_SHELL_F_CWD:        text = &r->cwd; break;
        case NGX_WSMAN_SHELL_F_COMMAND:    text = &r->command; break;
        case NGX_WSMAN_SHELL_F_SIGNAL:     text = &r->signal; break;
        case NGX_WSMAN_SHELL_F_MESSAGE_ID: text = &r->message_id; break;
        case NGX_WSMAN_SHELL_F_PAM_SERVICE: text = &r->pam_service; break;
        case NGX_WSMAN_SHELL_F_CLIENT_IP:  text = &r->client_ip; break;

        case NGX_WSMAN_SHELL_F_DATA:
            r->data = f;
            break;

        case NGX_WSMAN_SHELL_F_ENV:
            /* "NAME=value" with a name */
            if (!ngx_wsman_sh_text(&f) || f.len == 0 || f.data[0] == '='
                || memchr(f.data, '=', f.len) == NULL)
            {
                return NGX_ERROR;
            }

            r->nenv++;
            break;

        case NGX_WSMAN_SHELL_F_ARG:
            if (!ngx_wsman_sh_text(&f)) {
                return NGX_ERROR;
            }

            r->nargs++;
            break;

        case NGX_WSMAN_SHELL_F_IDLE_MS:     num = &r->idle_ms; break;
        case NGX_WSMAN_SHELL_F_MAX_SHELLS:  num = &r->max_shells; break;
        case NGX_WSMAN_SHELL_F_MAX_USERS:   num = &r->max_users; break;
        case NGX_WSMAN_SHELL_F_MAX_PROCS:   num = &r->max_procs; break;
        case NGX_WSMAN_SHELL_F_MAX_MEMORY:  num = &r->max_memory; break;
        case NGX_WSMAN_SHELL_F_MAX_RUNTIME: num = &r->max_runtime; break;
        case NGX_WSMAN_SHELL_F_TIMEOUT_MS:  num = &r->timeout_ms; break;
        case NGX_WSMAN_SHELL_F_MAX_BYTES:   num = &r->max_bytes; break;
        case NGX_WSMAN_SHELL_F_SKIP_SHELL:  num = &r->skip_shell; break;
        case NGX_WSMAN_SHELL_F_END:         num = &r->end; break;
        case NGX_WSMAN_SHELL_F_ALLOW_ROOT:  num = &r->allow_root; break;
        case NGX_WSMAN_SHELL_F_MAX_BUFFERED:
            num = &r->max_buffered;
            break;

        case NGX_WSMAN_SHELL_F_SEQUENCE:
            num = &r->sequence;
            r->numbered = 1;
            break;

        default:
            /* fields of later versions */
            break;
        }

        if (text != NULL) {
            if (!ngx_wsman_sh_text(&f)) {
                return NGX_ERROR;
            }

            *text = f;
        }

        if (num != NULL && ngx_wsman_shell_field_num(&f, num) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return (rc == NGX_DONE) ? NGX_OK : NGX_ERROR;
}


int
ngx_wsman_sh_field_is(ngx_wsman_shell_field_t *f, const char *s)
{
    return f->len == strlen(s) && strncasecmp((char *) f->data, s, f->len) == 0;
}


char *
ngx_wsman_sh_field_dup(ngx_wsman_shell_field_t *f)
{
    char  *s;

    s = malloc(f->len + 1);
    if (s == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc(%zu) failed", f->len + 1);
        return NULL;
    }

    /* an absent field has no data at all */
    if (f->len) {
        ngx_memcpy(s, f->data, f->len);
    }

    s[f->len] = '\0';

    return s;
}


static int
ngx_wsman_sh_field_eq(ngx_wsman_shell_field_t *f, const char *s)
{
    return f->len == strlen(s) && memcmp(f->data, s, f->len) == 0;
}


/* the shell belongs to the request's WS-Man identity */
int
ngx_wsman_sh_owns(ngx_wsman_sh_req_t *r, ngx_wsman_sh_shell_t *sh)
{
    return ngx_wsman_sh_field_eq(&r->owner, sh->owner)
           && ngx_wsman_sh_field_eq(&r->owner_name, sh->owner_name);
}


/*
 * A shell of another identity is as good as no shell: never reveal it.
 * Ownership is the WS-Man identity (its SID and name), not the local
 * account: two callers mapped to one account (wsman_shell_run_as) are
 * strangers to each other.  The account must match too, so that a
 * location with another run_as account cannot reach the shell either.
 * The owner's own shell is refused (NGX_WSMAN_SHELL_S_NO_USER) where its
 * account may not run commands: a root shell made where root is allowed
 * is out of reach, for every request, from a location where it is not.
 */
ngx_uint_t
ngx_wsman_sh_find_shell(ngx_wsman_sh_host_t *h, ngx_wsman_sh_req_t *r,
    ngx_wsman_sh_shell_t **shell)
{
    const char            *why;
    ngx_wsman_sh_shell_t  *sh;

    for (sh = h->shells; sh; sh = sh->next) {
        if (!sh->pending
            && ngx_wsman_sh_field_is(&r->shell, sh->id)
            && ngx_wsman_sh_owns(r, sh)
            && ngx_wsman_sh_field_eq(&r->user, sh->user))
        {
            break;
        }
    }

    if (sh == NULL) {
        return NGX_WSMAN_SHELL_S_NO_SHELL;
    }

    why = ngx_wsman_sh_uid_refused(h, r, sh->uid);

    if (why != NULL) {
        ngx_wsman_sh_log(NGX_LOG_WARN, "request for shell %s refused: %s",
                         sh->id, why);
        return NGX_WSMAN_SHELL_S_NO_USER;
    }

    sh->last_active = h->now;
    *shell = sh;

    return NGX_WSMAN_SHELL_S_OK;
}


ngx_uint_t
ngx_wsman_sh_find_cmd(ngx_wsman_sh_host_t *h, ngx_wsman_sh_req_t *r,
    ngx_wsman_sh_cmd_t **cmd)
{
    ngx_uint_t             status;
    ngx_wsman_sh_cmd_t    *c;
    ngx_wsman_sh_shell_t  *sh;

    status = ngx_wsman_sh_find_shell(h, r, &sh);
    if (status != NGX_WSMAN_SHELL_S_OK) {
        return status;
    }

    for (c = sh->cmds; c; c = c->next) {
        if (ngx_wsman_sh_field_is(&r->command_id, c->id)) {
            *cmd = c;
            return NGX_WSMAN_SHELL_S_OK;
        }
    }

    return NGX_WSMAN_SHELL_S_NO_COMMAND;
}


/* the reply to a request whose shell or command find_*() did not give */
void
ngx_wsman_sh_reply_missing(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r, ngx_uint_t status)
{
    const char  *msg;

    switch (status) {

    case NGX_WSMAN_SHELL_S_NO_SHELL:
        msg = "no such shell";
        break;

    case NGX_WSMAN_SHELL_S_NO_USER:
        msg = "commands may not run as this account here";
        break;

    default:
        msg = "no such command";
    }

    ngx_wsman_sh_reply(h, c, r->type, status, NGX_WSMAN_SHELL_F_MESSAGE, msg);
}
