/*
 * The shell host: buffers, stdin (Send), Receive and Signal, command
 * output with its back-pressure, and completion.
 */

#include "ngx_wsman_shell_host_int.h"


static int ngx_wsman_sh_buf_reserve(ngx_wsman_sh_buf_t *b, size_t want,
    size_t limit);
static void ngx_wsman_sh_buf_consume(ngx_wsman_sh_buf_t *b, size_t n);
static void ngx_wsman_sh_buf_free(ngx_wsman_sh_buf_t *b);

static int ngx_wsman_sh_may_read(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd, ngx_uint_t i);
static void ngx_wsman_sh_resume(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_send_output(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_resend(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_finish(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);


/* ---------------------------------------------------------------------
 * Buffers
 */

/* room for at least min(want, limit - used) more bytes at the end */
static int
ngx_wsman_sh_buf_reserve(ngx_wsman_sh_buf_t *b, size_t want, size_t limit)
{
    size_t   used, cap;
    u_char  *p;

    used = b->end - b->start;

    if (b->cap - b->end >= want) {
        return 0;
    }

    if (b->start) {
        memmove(b->data, b->data + b->start, used);
        b->start = 0;
        b->end = used;

        if (b->cap - b->end >= want) {
            return 0;
        }
    }

    cap = ngx_max(b->cap * 2, 16384);
    cap = ngx_max(cap, used + want);
    cap = ngx_min(cap, ngx_max(limit, used + want));

    p = realloc(b->data, cap);
    if (p == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "realloc(%zu) failed", cap);
        return -1;
    }

    b->data = p;
    b->cap = cap;

    return 0;
}


static void
ngx_wsman_sh_buf_consume(ngx_wsman_sh_buf_t *b, size_t n)
{
    b->start += n;

    /* an idle command should not keep a megabyte */
    if (b->start == b->end) {
        ngx_wsman_sh_buf_free(b);
    }
}


static void
ngx_wsman_sh_buf_free(ngx_wsman_sh_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->start = 0;
    b->end = 0;
    b->cap = 0;
}




/* ---------------------------------------------------------------------
 * SEND, RECEIVE, SIGNAL
 */

/* SHA-256 of a Send's stream bytes: the content a resend must repeat */
static ngx_int_t
ngx_wsman_sh_send_digest(ngx_wsman_sh_req_t *r, u_char *digest,
    unsigned *len)
{
    static const u_char  empty[1];

    if (EVP_Digest(r->data.len ? r->data.data : empty, r->data.len, digest,
                   len, EVP_sha256(), NULL)
        != 1)
    {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "EVP_Digest() failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_wsman_sh_send(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    size_t               used, len, cap;
    u_char               digest[EVP_MAX_MD_SIZE];
    unsigned             digest_len;
    ngx_uint_t           status;
    ngx_wsman_sh_cmd_t  *cmd;

    status = ngx_wsman_sh_find_cmd(h, r, &cmd);

    if (status == NGX_WSMAN_SHELL_S_OK && cmd->delivered) {
        status = NGX_WSMAN_SHELL_S_NO_COMMAND;
    }

    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_reply_missing(h, c, r, status);
        return;
    }

    /*
     * The answer to this very message was lost (its worker died, the
     * connection broke) and the client sent it again: the input is in
     * the buffer already, and a second copy would corrupt the stream.
     */
    if (ngx_wsman_sh_send_digest(r, digest, &digest_len) != NGX_OK) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "internal error");
        return;
    }

    if (r->message_id.len && r->message_id.len == cmd->send_id_len
        && memcmp(r->message_id.data, cmd->send_id, cmd->send_id_len) == 0
        && (r->end != 0) == cmd->send_end
        && digest_len == cmd->send_digest_len
        && memcmp(digest, cmd->send_digest, digest_len) == 0)
    {
        ngx_wsman_sh_log(NGX_LOG_INFO, "Send to command %s came again, "
                         "its input is taken once", cmd->id);
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_OK, 0, NULL);
        return;
    }

    len = r->data.len;

    /*
     * Input for a command that closed its stdin (or after END) goes
     * nowhere, as it would with a pipe to a finished process.
     */
    if (len && cmd->in.fd != -1 && !cmd->in_end) {
        used = cmd->inbuf.end - cmd->inbuf.start;

        /*
         * An empty buffer takes any chunk a frame can carry; else the
         * command's and the host's limits hold (input counts with the
         * unread output)
         */
        if (used
            && (used + len > NGX_WSMAN_SH_STDIN_MAX
                || h->buffered + len > h->max_buffered))
        {
            ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_BUSY,
                               NGX_WSMAN_SHELL_F_MESSAGE,
                               "the command does not read its input "
                               "fast enough");
            return;
        }

        cap = cmd->inbuf.cap;

        if (ngx_wsman_sh_buf_reserve(&cmd->inbuf, len, NGX_WSMAN_SH_STDIN_MAX)
            != 0)
        {
            ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                               NGX_WSMAN_SHELL_F_MESSAGE, "out of memory");
            return;
        }

        h->buffered += cmd->inbuf.cap - cap;

        ngx_memcpy(cmd->inbuf.data + cmd->inbuf.end, r->data.data, len);
        cmd->inbuf.end += len;
    }

    if (r->end) {
        cmd->in_end = 1;
    }

    /* only a message that was taken may be recognized when it comes again */
    if (r->message_id.len && r->message_id.len <= NGX_WSMAN_SH_MSGID_MAX) {
        ngx_memcpy(cmd->send_id, r->message_id.data, r->message_id.len);
        cmd->send_id_len = r->message_id.len;
        ngx_memcpy(cmd->send_digest, digest, digest_len);
        cmd->send_digest_len = digest_len;
        cmd->send_end = r->end ? 1 : 0;

    } else {
        cmd->send_id_len = 0;
    }

    ngx_wsman_sh_stdin(h, cmd);

    ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_OK, 0, NULL);
}


/* write buffered input; close stdin once it is drained after END */
void
ngx_wsman_sh_stdin(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd)
{
    ssize_t              n;
    ngx_wsman_sh_buf_t  *b;

    b = &cmd->inbuf;

    if (cmd->in.fd == -1) {
        ngx_wsman_sh_buf_release(h, b);
        return;
    }

    while (b->start < b->end) {
        n = write(cmd->in.fd, b->data + b->start, b->end - b->start);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno == EAGAIN) {
                if (cmd->in.watched
                    || ngx_wsman_sh_watch(h, &cmd->in, EPOLLOUT) == 0)
                {
                    return;
                }
            }

            /* EPIPE: the command closed its input; drop what is left */
            ngx_wsman_sh_close_ev(h, &cmd->in);
            ngx_wsman_sh_buf_release(h, b);
            ngx_wsman_sh_resume_all(h);
            return;
        }

        b->start += n;
    }

    if (b->cap) {
        ngx_wsman_sh_buf_release(h, b);
        ngx_wsman_sh_resume_all(h);
    }

    ngx_wsman_sh_unwatch(h, &cmd->in);

    if (cmd->in_end) {
        ngx_wsman_sh_close_ev(h, &cmd->in);
    }
}


void
ngx_wsman_sh_receive(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    ngx_uint_t            status, again;
    ngx_wsman_sh_cmd_t   *cmd;
    ngx_wsman_sh_conn_t  *old;

    status = ngx_wsman_sh_find_cmd(h, r, &cmd);

    /* what fits the client's envelope, never more than the host's cap */
    c->max_bytes = (r->max_bytes
                    && r->max_bytes < NGX_WSMAN_SHELL_HOST_REPLY_MAX)
                   ? (size_t) r->max_bytes : NGX_WSMAN_SHELL_HOST_REPLY_MAX;

    /* a finished command's final reply, lost on its way, asked for again */
    again = (status == NGX_WSMAN_SHELL_S_OK && r->numbered
             && cmd->kept != NULL && r->sequence == cmd->kept_seq);

    if (status == NGX_WSMAN_SHELL_S_OK && cmd->delivered && !again) {
        status = NGX_WSMAN_SHELL_S_NO_COMMAND;
    }

    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_reply_missing(h, c, r, status);
        return;
    }

    /*
     * A number below the last one cannot be a resent Receive (the client
     * moved on, so it had that answer): a stray duplicate that would
     * take output the client does not expect.
     */
    if (r->numbered && cmd->numbered && r->sequence < cmd->last_seq) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_BAD_REQUEST,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "the SequenceId is below the last Receive's");
        return;
    }

    /* a client that stops numbering gets today's plain Receives */
    cmd->numbered = r->numbered ? 1 : 0;
    cmd->last_seq = r->sequence;
    c->numbered = cmd->numbered;
    c->seq = r->sequence;

    /* one waiting Receive per command: the newer one wins */
    old = cmd->parked;

    if (old != NULL) {
        cmd->parked = NULL;
        old->cmd = NULL;
        ngx_wsman_sh_reply(h, old, r->type, NGX_WSMAN_SHELL_S_TIMEOUT,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "replaced by a newer Receive");
    }

    c->cmd = cmd;
    c->state = NGX_WSMAN_SH_CONN_PARKED;
    c->deadline = h->now + ngx_min(r->timeout_ms, NGX_WSMAN_SH_MAX_WAIT);
    cmd->parked = c;

    /* paused by the host-wide cap: a waiting client may get a chunk */
    ngx_wsman_sh_resume(h, cmd);

    ngx_wsman_sh_notify(h, cmd);
}


void
ngx_wsman_sh_signal(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    int                  sig;
    ngx_uint_t           status;
    ngx_wsman_sh_cmd_t  *cmd;

    status = ngx_wsman_sh_find_cmd(h, r, &cmd);

    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_reply_missing(h, c, r, status);
        return;
    }

    if (ngx_wsman_sh_field_is(&r->signal, "terminate")) {
        sig = SIGKILL;

    } else if (ngx_wsman_sh_field_is(&r->signal, "ctrl_c")) {
        sig = SIGINT;

    } else if (ngx_wsman_sh_field_is(&r->signal, "ctrl_break")) {
        sig = SIGQUIT;

    } else {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_BAD_REQUEST,
                           NGX_WSMAN_SHELL_F_MESSAGE, "unknown signal");
        return;
    }

    /*
     * Clients terminate a command after its final Receive (MS-WSMV
     * 3.1.4.14): for a finished command that is a successful no-op, and
     * the client will not ask for the kept reply again.
     */
    if (sig == SIGKILL) {
        ngx_wsman_sh_forget(cmd);
    }

    if (!cmd->delivered) {
        ngx_wsman_sh_log(NGX_LOG_INFO, "signal %d to command %s", sig,
                         cmd->id);
        ngx_wsman_sh_kill(cmd, sig);
    }

    ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_OK, 0, NULL);
}


/* ---------------------------------------------------------------------
 * Command output and completion
 */

/*
 * A stream may be read while its buffer has room and the host is under
 * its cap; over the cap still one chunk for a command whose client waits
 * in a Receive with nothing to show, so that readers are not starved by
 * the output of commands nobody reads (bounded by the waiting Receives).
 */
static int
ngx_wsman_sh_may_read(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd,
    ngx_uint_t i)
{
    size_t  used;

    used = cmd->outbuf[i].end - cmd->outbuf[i].start;

    if (used >= NGX_WSMAN_SH_STREAM_MAX) {
        return 0;
    }

    return h->buffered < h->max_buffered
           || (cmd->parked != NULL && used == 0);
}


/* paused streams that may be read again are watched again */
static void
ngx_wsman_sh_resume(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd)
{
    ngx_uint_t  i;

    for (i = 0; i < 2; i++) {
        if (cmd->paused[i] && cmd->out[i].fd != -1
            && ngx_wsman_sh_may_read(h, cmd, i)
            && ngx_wsman_sh_watch(h, &cmd->out[i], EPOLLIN) == 0)
        {
            cmd->paused[i] = 0;
        }
    }
}


void
ngx_wsman_sh_resume_all(ngx_wsman_sh_host_t *h)
{
    ngx_wsman_sh_cmd_t    *cmd;
    ngx_wsman_sh_shell_t  *sh;

    for (sh = h->shells; sh && h->buffered < h->max_buffered; sh = sh->next)
    {
        for (cmd = sh->cmds; cmd; cmd = cmd->next) {
            ngx_wsman_sh_resume(h, cmd);
        }
    }
}


/* a buffer's memory (output or input) leaves the host's account */
void
ngx_wsman_sh_buf_release(ngx_wsman_sh_host_t *h, ngx_wsman_sh_buf_t *b)
{
    h->buffered -= b->cap;
    ngx_wsman_sh_buf_free(b);
}


void
ngx_wsman_sh_output(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd,
    ngx_uint_t i)
{
    size_t               used, cap;
    ssize_t              n;
    ngx_wsman_sh_ev_t   *ev;
    ngx_wsman_sh_buf_t  *b;

    ev = &cmd->out[i];
    b = &cmd->outbuf[i];

    for ( ;; ) {
        used = b->end - b->start;
        cap = b->cap;

        /*
         * Full, or the host holds all the unread output it may: stop
         * reading until a Receive drains a buffer; the command blocks in
         * write() meanwhile and nothing is lost.
         */
        if (!ngx_wsman_sh_may_read(h, cmd, i)
            || ngx_wsman_sh_buf_reserve(b,
                   ngx_min(NGX_WSMAN_SH_READ_CHUNK,
                           NGX_WSMAN_SH_STREAM_MAX - used),
                   NGX_WSMAN_SH_STREAM_MAX)
               != 0)
        {
            h->buffered += b->cap - cap;
            ngx_wsman_sh_unwatch(h, ev);
            cmd->paused[i] = 1;
            break;
        }

        h->buffered += b->cap - cap;

        n = read(ev->fd, b->data + b->end,
                 ngx_min(b->cap - b->end, NGX_WSMAN_SH_STREAM_MAX - used));

        if (n == -1) {
            if (errno == EAGAIN) {
                break;
            }

            if (errno == EINTR) {
                continue;
            }

            ngx_wsman_sh_log(NGX_LOG_ALERT, "read() from command %s "
                             "failed: %s", cmd->id, strerror(errno));
            n = 0;
        }

        if (n == 0) {
            ngx_wsman_sh_close_ev(h, ev);
            cmd->eof[i] = 1;
            break;
        }

        b->end += n;
    }

    ngx_wsman_sh_notify(h, cmd);
}


/* answer the waiting Receive if there is anything to say */
void
ngx_wsman_sh_notify(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd)
{
    ngx_wsman_sh_conn_t  *c;

    c = cmd->parked;

    /* a reply in flight decides which bytes are left: wait for it */
    if (c == NULL || cmd->inflight != NULL) {
        return;
    }

    if (cmd->kept != NULL) {
        if (c->numbered && c->seq == cmd->kept_seq) {
            cmd->parked = NULL;
            c->cmd = NULL;
            ngx_wsman_sh_resend(h, c, cmd);
            return;
        }

        /* another Receive: the client got the kept reply */
        ngx_wsman_sh_forget(cmd);
    }

    if (cmd->delivered) {
        cmd->parked = NULL;
        c->cmd = NULL;
        ngx_wsman_sh_reply(h, c, NGX_WSMAN_SHELL_RECEIVE,
                           NGX_WSMAN_SHELL_S_NO_COMMAND,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "the command has finished");
        return;
    }

    if (cmd->outbuf[0].end == cmd->outbuf[0].start
        && cmd->outbuf[1].end == cmd->outbuf[1].start
        && !(cmd->exited && cmd->eof[0] && cmd->eof[1]))
    {
        return;
    }

    cmd->parked = NULL;
    ngx_wsman_sh_send_output(h, c, cmd);
}


/*
 * The reply copies the bytes; they leave the buffers only once it has
 * been written whole (ngx_wsman_sh_output_sent()).  With both streams
 * busy each gets half of the reply, else one may use all of it.
 */
static void
ngx_wsman_sh_send_output(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_cmd_t *cmd)
{
    size_t                     n[2], t[2], size, len, max;
    u_char                    *frame;
    ngx_uint_t                 i, done;
    ngx_wsman_shell_writer_t   w;

    for (i = 0; i < 2; i++) {
        n[i] = cmd->outbuf[i].end - cmd->outbuf[i].start;
    }

    max = c->max_bytes ? c->max_bytes : NGX_WSMAN_SHELL_HOST_REPLY_MAX;

    t[1] = ngx_min(n[1], ngx_max(max / 2, max - ngx_min(n[0], max)));
    t[0] = ngx_min(n[0], max - t[1]);

    done = cmd->exited;

    for (i = 0; i < 2; i++) {
        c->take[i] = t[i];
        c->take_end[i] = (cmd->eof[i] && t[i] == n[i] && !cmd->end_sent[i]);
        done = done && cmd->eof[i] && t[i] == n[i];
    }

    c->take_done = done;

    size = NGX_WSMAN_SHELL_HEAD_LEN + 7 * NGX_WSMAN_SHELL_FIELD_HEAD
           + t[0] + t[1] + 2 * NGX_INT64_LEN + 4;

    frame = malloc(size);
    if (frame == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc(%zu) failed", size);
        ngx_wsman_sh_reply(h, c, NGX_WSMAN_SHELL_RECEIVE,
                           NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "out of memory");
        return;
    }

    ngx_wsman_shell_writer_init(&w, frame, size, NGX_WSMAN_SHELL_RECEIVE);
    ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_STATUS,
                                   NGX_WSMAN_SHELL_S_OK);

    if (t[0]) {
        ngx_wsman_shell_writer_add(&w, NGX_WSMAN_SHELL_F_STDOUT,
                                   cmd->outbuf[0].data + cmd->outbuf[0].start,
                                   t[0]);
    }

    if (t[1]) {
        ngx_wsman_shell_writer_add(&w, NGX_WSMAN_SHELL_F_STDERR,
                                   cmd->outbuf[1].data + cmd->outbuf[1].start,
                                   t[1]);
    }

    if (c->take_end[0]) {
        ngx_wsman_shell_writer_add_str(&w, NGX_WSMAN_SHELL_F_STDOUT_END, "1");
    }

    if (c->take_end[1]) {
        ngx_wsman_shell_writer_add_str(&w, NGX_WSMAN_SHELL_F_STDERR_END, "1");
    }

    if (done) {
        ngx_wsman_shell_writer_add_str(&w, NGX_WSMAN_SHELL_F_DONE, "1");
        ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_EXIT_CODE,
                                       (uint64_t) cmd->exit_code);
    }

    len = ngx_wsman_shell_writer_finish(&w);

    if (len == 0) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "Receive reply does not fit");
        free(frame);
        ngx_wsman_sh_reply(h, c, NGX_WSMAN_SHELL_RECEIVE,
                           NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "internal error");
        return;
    }

    c->cmd = cmd;
    cmd->inflight = c;

    ngx_wsman_sh_send_frame(h, c, frame, len);
}


/* the whole Receive reply is with the worker: drop what it carried */
void
ngx_wsman_sh_output_sent(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c)
{
    size_t               cap;
    ngx_uint_t           i;
    ngx_wsman_sh_cmd_t  *cmd;

    cmd = c->cmd;
    c->cmd = NULL;
    cmd->inflight = NULL;

    /* the worker may still lose it: keep it for a resent numbered Receive */
    if (c->numbered) {
        ngx_wsman_sh_forget(cmd);
        cmd->kept = c->out;
        cmd->kept_len = c->out_len;
        cmd->kept_seq = c->seq;
        c->out = NULL;
        h->buffered += cmd->kept_len;
    }

    for (i = 0; i < 2; i++) {
        cap = cmd->outbuf[i].cap;
        ngx_wsman_sh_buf_consume(&cmd->outbuf[i], c->take[i]);
        h->buffered -= cap - cmd->outbuf[i].cap;

        if (c->take_end[i]) {
            cmd->end_sent[i] = 1;
        }
    }

    ngx_wsman_sh_resume(h, cmd);
    ngx_wsman_sh_resume_all(h);

    if (c->take_done) {
        ngx_wsman_sh_finish(h, cmd);
    }

    ngx_wsman_sh_notify(h, cmd);
}


/* a numbered Receive came again: the kept reply, byte for byte */
static void
ngx_wsman_sh_resend(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_cmd_t *cmd)
{
    u_char  *frame;

    frame = malloc(cmd->kept_len);
    if (frame == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc(%zu) failed", cmd->kept_len);
        ngx_wsman_sh_reply(h, c, NGX_WSMAN_SHELL_RECEIVE,
                           NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "out of memory");
        return;
    }

    ngx_memcpy(frame, cmd->kept, cmd->kept_len);

    ngx_wsman_sh_log(NGX_LOG_INFO, "Receive %llu of command %s came again, "
                     "its reply is sent again",
                     (unsigned long long) cmd->kept_seq, cmd->id);

    ngx_wsman_sh_send_frame(h, c, frame, cmd->kept_len);
}


void
ngx_wsman_sh_forget(ngx_wsman_sh_cmd_t *cmd)
{
    ngx_wsman_sh_host.buffered -= cmd->kept_len;
    free(cmd->kept);
    cmd->kept = NULL;
    cmd->kept_len = 0;
}


/*
 * The final reply is delivered: release everything but a small record,
 * so that the Signal clients send afterwards still finds the command.
 */
static void
ngx_wsman_sh_finish(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd)
{
    ngx_uint_t             n;
    ngx_wsman_sh_cmd_t    *old, **pp;
    ngx_wsman_sh_shell_t  *sh;

    ngx_wsman_sh_log(NGX_LOG_INFO, "command %s finished, exit code %d",
                     cmd->id, cmd->exit_code);

    cmd->delivered = 1;
    cmd->deadline = 0;

    ngx_wsman_sh_cmd_release(h, cmd);

    sh = cmd->shell;
    n = 0;

    for (old = sh->cmds; old; old = old->next) {
        if (old->delivered) {
            n++;
        }
    }

    pp = &sh->cmds;

    while (*pp && n > NGX_WSMAN_SH_MAX_TOMBS) {
        old = *pp;

        if (old->delivered && old != cmd) {
            *pp = old->next;
            ngx_wsman_sh_cmd_free(h, old);
            n--;
            continue;
        }

        pp = &old->next;
    }
}
