/*
 * Exchanging one frame with the shell host.  The host listens on an
 * abstract Unix socket (no file to protect; it checks the peer's uid).
 */

#include <sys/un.h>

#include "ngx_wsman_shell_client.h"
#include "ngx_wsman_shell_proto.h"


typedef struct {
    ngx_wsman_call_t          *call;
    ngx_wsman_shell_reply_pt   handler;
    u_char                    *out;
    size_t                     out_len;
    size_t                     sent;
    u_char                     head[4];
    size_t                     head_got;
    u_char                    *in;
    size_t                     in_len;
    size_t                     in_got;
    unsigned                   finished:1;
} ngx_wsman_shell_xchg_t;


static ngx_int_t ngx_wsman_shell_send(ngx_connection_t *c);
static void ngx_wsman_shell_write(ngx_event_t *wev);
static void ngx_wsman_shell_read(ngx_event_t *rev);
static void ngx_wsman_shell_finish(ngx_connection_t *c, ngx_int_t rc);
static void ngx_wsman_shell_abort(ngx_wsman_call_t *call);


ngx_int_t
ngx_wsman_shell_exchange(ngx_wsman_call_t *call, ngx_str_t *name,
    u_char *frame, size_t len, ngx_msec_t timeout,
    ngx_wsman_shell_reply_pt handler)
{
    int                      fd;
    socklen_t                socklen;
    ngx_connection_t        *c;
    struct sockaddr_un       sun;
    ngx_wsman_shell_xchg_t  *x;

    if (name->len == 0 || name->len + 1 > sizeof(sun.sun_path)) {
        ngx_log_error(NGX_LOG_ERR, call->log, 0,
                      "wsman: the shell host is not running");
        return NGX_ERROR;
    }

    x = ngx_pcalloc(call->pool, sizeof(ngx_wsman_shell_xchg_t));
    if (x == NULL) {
        return NGX_ERROR;
    }

    x->call = call;
    x->handler = handler;
    x->out = frame;
    x->out_len = len;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ALERT, call->log, ngx_socket_errno,
                      "wsman: socket(AF_UNIX) failed");
        return NGX_ERROR;
    }

    /* abstract namespace: a leading NUL, no trailing one */
    ngx_memzero(&sun, sizeof(struct sockaddr_un));
    sun.sun_family = AF_UNIX;
    ngx_memcpy(sun.sun_path + 1, name->data, name->len);
    socklen = offsetof(struct sockaddr_un, sun_path) + 1 + name->len;

    if (connect(fd, (struct sockaddr *) &sun, socklen) == -1
        && ngx_socket_errno != NGX_EINPROGRESS
        && ngx_socket_errno != NGX_EAGAIN)
    {
        ngx_log_error(NGX_LOG_ERR, call->log, ngx_socket_errno,
                      "wsman: cannot reach the shell host");
        (void) close(fd);
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, call->log);
    if (c == NULL) {
        (void) close(fd);
        return NGX_ERROR;
    }

    c->data = x;
    c->log = call->log;
    c->read->log = call->log;
    c->write->log = call->log;
    c->read->handler = ngx_wsman_shell_read;
    c->write->handler = ngx_wsman_shell_write;

    /* the host answers a Receive by its deadline; this is the backstop */
    ngx_add_timer(c->read, timeout);

    if (ngx_handle_read_event(c->read, 0) != NGX_OK
        || ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_close_connection(c);
        return NGX_ERROR;
    }

    /*
     * Send what the socket takes now; the rest goes from the write
     * handler.  A failure here is reported synchronously, never through
     * the handler: the caller has not returned NGX_AGAIN yet.
     */
    if (ngx_wsman_shell_send(c) == NGX_ERROR) {
        x->finished = 1;
        ngx_close_connection(c);
        return NGX_ERROR;
    }

    call->abort = ngx_wsman_shell_abort;
    call->abort_data = c;

    return NGX_AGAIN;
}


/* NGX_OK: all sent; NGX_AGAIN: wait for the socket; NGX_ERROR: failed */
static ngx_int_t
ngx_wsman_shell_send(ngx_connection_t *c)
{
    ssize_t                  n;
    ngx_wsman_shell_xchg_t  *x;

    x = c->data;

    while (x->sent < x->out_len) {
        n = send(c->fd, x->out + x->sent, x->out_len - x->sent,
                 MSG_NOSIGNAL);

        if (n > 0) {
            x->sent += n;
            continue;
        }

        if (n == -1 && (ngx_socket_errno == NGX_EAGAIN
                        || ngx_socket_errno == NGX_EINTR))
        {
            return ngx_handle_write_event(c->write, 0) == NGX_OK
                   ? NGX_AGAIN : NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_ERR, c->log, ngx_socket_errno,
                      "wsman: sending to the shell host failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_wsman_shell_write(ngx_event_t *wev)
{
    ngx_connection_t        *c;
    ngx_wsman_shell_xchg_t  *x;

    c = wev->data;
    x = c->data;

    if (x->finished || x->sent == x->out_len) {
        return;
    }

    if (ngx_wsman_shell_send(c) == NGX_ERROR) {
        ngx_wsman_shell_finish(c, NGX_ERROR);
    }
}


static void
ngx_wsman_shell_read(ngx_event_t *rev)
{
    ssize_t                  n;
    uint32_t                 len;
    ngx_connection_t        *c;
    ngx_wsman_shell_xchg_t  *x;

    c = rev->data;
    x = c->data;

    if (x->finished) {
        return;
    }

    if (rev->timedout) {
        ngx_log_error(NGX_LOG_ERR, c->log, NGX_ETIMEDOUT,
                      "wsman: the shell host did not answer in time");
        ngx_wsman_shell_finish(c, NGX_ERROR);
        return;
    }

    for ( ;; ) {
        if (x->head_got < 4) {
            n = recv(c->fd, x->head + x->head_got, 4 - x->head_got, 0);

        } else {
            n = recv(c->fd, x->in + 4 + x->in_got, x->in_len - x->in_got, 0);
        }

        if (n == 0) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "wsman: the shell host closed the connection");
            ngx_wsman_shell_finish(c, NGX_ERROR);
            return;
        }

        if (n == -1) {
            if (ngx_socket_errno == NGX_EAGAIN
                || ngx_socket_errno == NGX_EINTR)
            {
                if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                    ngx_wsman_shell_finish(c, NGX_ERROR);
                }
                return;
            }

            ngx_log_error(NGX_LOG_ERR, c->log, ngx_socket_errno,
                          "wsman: reading from the shell host failed");
            ngx_wsman_shell_finish(c, NGX_ERROR);
            return;
        }

        if (x->head_got < 4) {
            x->head_got += n;

            if (x->head_got < 4) {
                continue;
            }

            len = (uint32_t) x->head[0] | (uint32_t) x->head[1] << 8
                  | (uint32_t) x->head[2] << 16 | (uint32_t) x->head[3] << 24;

            if (len == 0 || len > NGX_WSMAN_SHELL_MAX_FRAME) {
                ngx_log_error(NGX_LOG_ERR, c->log, 0,
                              "wsman: the shell host sent a bad frame");
                ngx_wsman_shell_finish(c, NGX_ERROR);
                return;
            }

            x->in_len = len;
            x->in = ngx_pnalloc(x->call->pool, 4 + len);
            if (x->in == NULL) {
                ngx_wsman_shell_finish(c, NGX_ERROR);
                return;
            }

            ngx_memcpy(x->in, x->head, 4);
            continue;
        }

        x->in_got += n;

        if (x->in_got == x->in_len) {
            ngx_wsman_shell_finish(c, NGX_OK);
            return;
        }
    }
}


/*
 * The client left: closing the connection tells the host to forget the
 * request; a parked Receive then hands its output to the next one.
 */
static void
ngx_wsman_shell_abort(ngx_wsman_call_t *call)
{
    ngx_connection_t        *c;
    ngx_wsman_shell_xchg_t  *x;

    c = call->abort_data;
    x = c->data;

    x->finished = 1;
    call->abort = NULL;

    ngx_close_connection(c);
}


static void
ngx_wsman_shell_finish(ngx_connection_t *c, ngx_int_t rc)
{
    ngx_wsman_shell_xchg_t  *x;

    x = c->data;
    x->finished = 1;
    x->call->abort = NULL;

    ngx_close_connection(c);

    x->handler(x->call, rc, x->in, rc == NGX_OK ? 4 + x->in_len : 0);
}
