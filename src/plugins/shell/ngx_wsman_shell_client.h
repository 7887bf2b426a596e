/*
 * The worker side of the shell host protocol: one request frame out, one
 * reply frame in, over a fresh non-blocking socketpair passed to the host,
 * driven by nginx events so a Receive long poll never blocks the worker.
 */

#ifndef _NGX_WSMAN_SHELL_CLIENT_H_INCLUDED_
#define _NGX_WSMAN_SHELL_CLIENT_H_INCLUDED_


#include "ngx_wsman_dispatch.h"


/* rc: NGX_OK (reply holds one whole frame) or NGX_ERROR (no host, broken
 * connection, timeout: the reason is logged) */
typedef void (*ngx_wsman_shell_reply_pt)(ngx_wsman_call_t *call,
    ngx_int_t rc, u_char *reply, size_t len);


ngx_int_t ngx_wsman_shell_exchange(ngx_wsman_call_t *call, u_char *frame,
    size_t len, ngx_msec_t timeout, ngx_wsman_shell_reply_pt handler);

/* in a worker's init_process: its slot channel to the host (or -1) */
void ngx_wsman_shell_client_init(int channel);

/* wsman_shell_max_buffered of the running configuration (the host takes
 * its cap from whoever talks to it last) */
size_t ngx_wsman_shell_max_buffered(void);


#endif /* _NGX_WSMAN_SHELL_CLIENT_H_INCLUDED_ */
