/*
 * The shell host (README.md, "Remote shells (WinRS)"): one privileged
 * process, forked from the nginx master, that owns every WinRS shell and
 * the processes its commands run.  Workers reach it over channels
 * inherited from the master (no socket name at all) with the frames of
 * ngx_wsman_shell_proto.h, one request per connection.
 */

#ifndef _NGX_WSMAN_SHELL_HOST_H_INCLUDED_
#define _NGX_WSMAN_SHELL_HOST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* Receive replies carry at most this much stdout + stderr */
#define NGX_WSMAN_SHELL_HOST_REPLY_MAX   (256 * 1024)


/*
 * Called from init_module in the master, on start and on every reload.
 * While the host spawned earlier is alive this does nothing and returns
 * its pid.  Returns the host's pid or NGX_INVALID_PID (logged).
 *
 * The host has no address: the master keeps a control socket to it, and
 * ngx_wsman_shell_host_channels() makes the workers' channels.
 *
 * worker_uid: the only peer uid accepted besides the host's own euid, and
 * never a command's uid;
 * log: the cycle's log; the host writes to its file (and honours its
 * level) because on the first start stderr is not the error log yet.
 *
 * The host ends when every process holding the "lifeline" (a CLOEXEC pipe
 * kept open here and inherited by the daemonized master and its workers)
 * has exited, or on SIGTERM.  It does not use PR_SET_PDEATHSIG: on the
 * first start init_module runs in the process that daemonizing discards.
 */
ngx_pid_t ngx_wsman_shell_host_spawn(ngx_log_t *log, uid_t worker_uid);

/*
 * In the master, after the spawn, for a new cycle: one channel per worker
 * slot.  fds[n] receives the workers' ends (non-blocking, close-on-exec;
 * the caller closes them with the cycle); the host gets the other ends.
 * Worker ngx_worker keeps fds[ngx_worker] and closes the rest.  root:
 * whether any location of this configuration says wsman_shell_allow_root
 * on; without it the host refuses root over these channels whatever a
 * worker's request says.
 */
ngx_int_t ngx_wsman_shell_host_channels(ngx_log_t *log, int *fds,
    ngx_uint_t n, ngx_uint_t root);

/* in every process but the master: drop the master's control socket */
void ngx_wsman_shell_host_forget(void);


#endif /* _NGX_WSMAN_SHELL_HOST_H_INCLUDED_ */
