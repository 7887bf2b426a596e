/*
 * Exchanging one frame with the shell host over a connection passed to it
 * through this worker's slot channel (see ngx_wsman_shell_host.c).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_wsman_plugin.h"
#include "ngx_wsman_shell.h"
#include "ngx_wsman_shell_client.h"
#include "ngx_wsman_shell_frame.h"
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


/* this worker's slot channel to the host; -1: none */
static int  ngx_wsman_shell_channel = -1;


void
ngx_wsman_shell_client_init(int channel)
{
    ngx_wsman_shell_channel = channel;
}


/*
 * The request's connection: a fresh socketpair, one end passed to the
 * host over the slot channel.  Nothing is named, so nothing but this
 * worker (which inherited the channel from the master) can reach the
 * host.
 */
static int
ngx_wsman_shell_connect(ngx_log_t *log)
{
    int      sv[2];
    ssize_t  n;

    if (ngx_wsman_shell_channel == -1) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman: the shell host is not running");
        return -1;
    }

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv)
        == -1)
    {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_socket_errno,
                      "wsman: socketpair() failed");
        return -1;
    }

    n = ngx_wsman_shell_send_fds(ngx_wsman_shell_channel, 'R', &sv[1], 1,
                                 MSG_DONTWAIT);

    /* the host holds its own reference to the end it got */
    (void) close(sv[1]);

    if (n != 1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_socket_errno,
                      (n == -1 && ngx_socket_errno == NGX_EAGAIN)
                      ? "wsman: the shell host is not keeping up"
                      : "wsman: cannot reach the shell host");
        (void) close(sv[0]);
        return -1;
    }

    return sv[0];
}


ngx_int_t
ngx_wsman_shell_exchange(ngx_wsman_call_t *call, u_char *frame, size_t len,
    ngx_msec_t timeout, ngx_wsman_shell_reply_pt handler)
{
    int                      fd;
    ngx_connection_t        *c;
    ngx_wsman_shell_xchg_t  *x;

    x = ngx_pcalloc(call->pool, sizeof(ngx_wsman_shell_xchg_t));
    if (x == NULL) {
        return NGX_ERROR;
    }

    x->call = call;
    x->handler = handler;
    x->out = frame;
    x->out_len = len;

    fd = ngx_wsman_shell_connect(call->log);
    if (fd == -1) {
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

            len = ngx_wsman_shell_get_u32(x->head);

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


size_t
ngx_wsman_shell_max_buffered(void)
{
    ngx_wsman_shell_main_conf_t  *mcf;

    mcf = ngx_wsman_plugin_main_conf(&ngx_wsman_shell_module);

    return (mcf && mcf->shell_max_buffered != NGX_CONF_UNSET_SIZE)
           ? mcf->shell_max_buffered : NGX_WSMAN_SHELL_MAX_BUFFERED;
}
