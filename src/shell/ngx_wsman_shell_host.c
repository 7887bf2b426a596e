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
 */

#include "ngx_wsman_shell_host.h"
#include "ngx_wsman_shell_frame.h"
#include "ngx_wsman_shell_proto.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <dirent.h>
#include <grp.h>
#include <malloc.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>

#include <openssl/evp.h>
#include <security/pam_appl.h>


#if (__GNUC__)
#define ngx_wsman_sh_printf_like  __attribute__((format(printf, 2, 3)))
#define ngx_wsman_sh_noreturn     __attribute__((noreturn))
#else
#define ngx_wsman_sh_printf_like
#define ngx_wsman_sh_noreturn
#endif


#define NGX_WSMAN_SH_STREAM_MAX     (1024 * 1024)
#define NGX_WSMAN_SH_STDIN_MAX      (4 * 1024 * 1024)
#define NGX_WSMAN_SH_READ_CHUNK     (64 * 1024)
/* users with no shell left whose escaped processes are swept */
#define NGX_WSMAN_SH_SWEEP  64

/* a worker that neither sends its request nor reads its reply */
#define NGX_WSMAN_SH_IO_TIMEOUT     30000
/* nobody waits an hour for a Receive; keeps deadlines far from overflow */
#define NGX_WSMAN_SH_MAX_WAIT       3600000
/* finished commands remembered per shell so that a late Signal succeeds */
#define NGX_WSMAN_SH_MAX_TOMBS      256
/* longest a:MessageID remembered to recognize a resent Send (a UUID is 41) */
#define NGX_WSMAN_SH_MSGID_MAX      128
/* connections taken from one slot channel before others get a turn */
#define NGX_WSMAN_SH_CHANNEL_BATCH  32
/* slot channels the master passes in one control message */
#define NGX_WSMAN_SH_CONTROL_FDS    64
/* the master waits this long for the host to take its channels */
#define NGX_WSMAN_SH_CONTROL_WAIT   5
/* a worker's channel queues this much (over 1000 connections) while the
 * host is busy, then the worker's request fails */
#define NGX_WSMAN_SH_CHANNEL_BUF    (1024 * 1024)
#define NGX_WSMAN_SH_UUID_LEN       36
/* idle and run time limits beyond this are as good as none (35 years) */
#define NGX_WSMAN_DURATION_CAP      ((uint64_t) 1 << 40)
#define NGX_WSMAN_SH_EVENTS         64
#define NGX_WSMAN_SH_PATH           "PATH=/usr/local/bin:/usr/bin:/bin"

#define NGX_WSMAN_SH_OUT            0
#define NGX_WSMAN_SH_ERR            1

/* what an epoll event belongs to */
#define NGX_WSMAN_SH_EV_CONTROL     1
#define NGX_WSMAN_SH_EV_SIGNAL      2
#define NGX_WSMAN_SH_EV_LIFELINE    3
#define NGX_WSMAN_SH_EV_CONN        4
#define NGX_WSMAN_SH_EV_STDIN       5
#define NGX_WSMAN_SH_EV_STDOUT      6
#define NGX_WSMAN_SH_EV_STDERR      7
#define NGX_WSMAN_SH_EV_CHANNEL     8
#define NGX_WSMAN_SH_EV_SETUP       9

/* the session keeper's report: one frame, field tags of its own */
#define NGX_WSMAN_SH_F_LIMIT        100     /* "resource cur max" */
#define NGX_WSMAN_SH_SETUP_MAX      65536
/*
 * PAM and the working directory check get this long for a Create (the
 * worker waits 25 s; pywinrm's default OperationTimeout is 20 s)
 */
#define NGX_WSMAN_SH_SETUP_TIMEOUT  20000

#define NGX_WSMAN_SH_CONN_READ      0
#define NGX_WSMAN_SH_CONN_PARKED    1
#define NGX_WSMAN_SH_CONN_WRITE     2
#define NGX_WSMAN_SH_CONN_SETUP     3       /* Create: waits for PAM */


typedef struct ngx_wsman_sh_shell_s  ngx_wsman_sh_shell_t;
typedef struct ngx_wsman_sh_cmd_s    ngx_wsman_sh_cmd_t;
typedef struct ngx_wsman_sh_conn_s   ngx_wsman_sh_conn_t;


typedef struct {
    int                        fd;
    int                        kind;
    unsigned                   watched:1;
    void                      *obj;
} ngx_wsman_sh_ev_t;


/* bytes live in data[start, end) */
typedef struct {
    u_char                    *data;
    size_t                     start;
    size_t                     end;
    size_t                     cap;
} ngx_wsman_sh_buf_t;


struct ngx_wsman_sh_cmd_s {
    ngx_wsman_sh_cmd_t        *next;
    ngx_wsman_sh_shell_t      *shell;
    char                       id[NGX_WSMAN_SH_UUID_LEN + 1];
    pid_t                      pid;            /* also the process group */

    ngx_wsman_sh_ev_t          in;
    ngx_wsman_sh_buf_t         inbuf;
    ngx_wsman_sh_ev_t          out[2];
    ngx_wsman_sh_buf_t         outbuf[2];

    ngx_wsman_sh_conn_t       *parked;         /* Receive waiting for output */
    ngx_wsman_sh_conn_t       *inflight;       /* Receive reply being sent */

    uint64_t                   deadline;       /* MAX_RUNTIME; 0: none */
    int                        exit_code;

    u_char                     eof[2];
    u_char                     paused[2];      /* buffer full, not read */
    u_char                     end_sent[2];    /* END reported to a worker */

    /*
     * A reply written to a worker is not yet with the client: the worker
     * may die, the connection break.  For clients that number their
     * Receives (rsp:Receive/@SequenceId) the last reply is kept, whole,
     * and sent again when the same number comes back; the next number
     * means the client has it.
     */
    u_char                    *kept;
    size_t                     kept_len;
    uint64_t                   kept_seq;
    uint64_t                   last_seq;       /* highest number seen */

    /*
     * A Send resent after a lost answer carries the same a:MessageID and
     * the same stream content.  The id alone is not enough: some clients
     * (npm winrm-client) reuse one MessageID for every request.
     */
    u_char                     send_id[NGX_WSMAN_SH_MSGID_MAX];
    size_t                     send_id_len;
    u_char                     send_digest[EVP_MAX_MD_SIZE];
    unsigned                   send_digest_len;
    unsigned                   send_end:1;

    unsigned                   in_end:1;       /* END seen: close when empty */
    unsigned                   exited:1;
    unsigned                   delivered:1;    /* final DONE reply written */
    unsigned                   numbered:1;     /* last_seq is valid */
};


struct ngx_wsman_sh_shell_s {
    ngx_wsman_sh_shell_t      *next;
    char                       id[NGX_WSMAN_SH_UUID_LEN + 1];
    char                      *owner;          /* WS-Man identity: SID */
    char                      *owner_name;     /* and its name */
    char                      *user;           /* the account commands
                                                  run as */
    char                      *home;
    char                      *login_shell;
    char                      *cwd;
    char                     **env;            /* NULL-terminated */
    uid_t                      uid;
    gid_t                      gid;
    uint64_t                   idle_ms;
    uint64_t                   max_procs;
    uint64_t                   max_memory;
    uint64_t                   max_runtime;
    uint64_t                   last_active;
    ngx_wsman_sh_cmd_t        *cmds;           /* oldest first */

    /*
     * The shell's session keeper: a child of the host that ran PAM's
     * account and session stages and checked the working directory
     * (blocking work, kept out of the host's loop).  With a PAM session
     * it waits on its end of the socket and closes the session once the
     * host closes this end, when the shell ends.
     */
    pid_t                      keeper;
    ngx_wsman_sh_ev_t          setup;
    u_char                    *setup_buf;
    size_t                     setup_len;
    ngx_wsman_sh_conn_t       *setup_conn;     /* the Create waiting */
    struct rlimit             *limits;         /* after pam_limits, or
                                                  NULL: no PAM */
    unsigned                   pending:1;      /* setup not done yet */
};


struct ngx_wsman_sh_conn_s {
    ngx_wsman_sh_conn_t       *next;
    ngx_wsman_sh_conn_t       *prev;
    ngx_wsman_sh_ev_t          ev;
    int                        state;
    uint64_t                   deadline;

    u_char                     head[4];
    u_char                    *in;             /* the whole request frame */
    size_t                     in_len;         /* bytes read so far */
    size_t                     in_size;        /* 0 until the head is read */

    u_char                    *out;
    size_t                     out_len;
    size_t                     out_pos;

    /* a Create waiting for its shell's setup */
    ngx_wsman_sh_shell_t      *setup;

    /* a Receive: the command and what its reply takes from the buffers */
    ngx_wsman_sh_cmd_t        *cmd;
    size_t                     take[2];
    size_t                     max_bytes;      /* of one Receive reply */
    uint64_t                   seq;            /* the Receive's number */
    u_char                     take_end[2];
    unsigned                   take_done:1;
    unsigned                   numbered:1;     /* seq is valid */
};


/* a request, fields pointing into the frame */
typedef struct {
    u_char                     type;
    const u_char              *frame;
    size_t                     frame_len;
    ngx_wsman_shell_field_t    user;
    ngx_wsman_shell_field_t    owner;
    ngx_wsman_shell_field_t    owner_name;
    ngx_wsman_shell_field_t    shell;
    ngx_wsman_shell_field_t    command_id;
    ngx_wsman_shell_field_t    cwd;
    ngx_wsman_shell_field_t    command;
    ngx_wsman_shell_field_t    data;
    ngx_wsman_shell_field_t    signal;
    ngx_wsman_shell_field_t    message_id;
    ngx_wsman_shell_field_t    pam_service;
    ngx_wsman_shell_field_t    client_ip;
    ngx_uint_t                 nenv;
    ngx_uint_t                 nargs;
    uint64_t                   idle_ms;
    uint64_t                   max_shells;
    uint64_t                   max_users;
    uint64_t                   max_procs;
    uint64_t                   max_memory;
    uint64_t                   max_runtime;
    uint64_t                   timeout_ms;
    uint64_t                   max_bytes;
    uint64_t                   skip_shell;
    uint64_t                   end;
    uint64_t                   sequence;
    uint64_t                   max_buffered;
    ngx_uint_t                 numbered;       /* sequence was sent */
    uint64_t                   allow_root;     /* wsman_shell_allow_root */
} ngx_wsman_sh_req_t;


typedef struct {
    int                        ep;
    uid_t                      worker_uid;
    uint64_t                   now;
    int                        terminate;
    ngx_uint_t                 nchannels;      /* slot channels open */
    ngx_wsman_sh_ev_t          control;
    ngx_wsman_sh_ev_t          signal;
    ngx_wsman_sh_ev_t          lifeline;
    ngx_wsman_sh_shell_t      *shells;
    ngx_wsman_sh_conn_t       *conns;

    /*
     * Output read from commands and not yet taken by a client (buffers
     * and kept replies), and the cap on it (wsman_shell_max_buffered,
     * sent by the workers): beyond it producers are paused, their pipes
     * fill and they block in write(), so the host's memory stays bounded
     * however many commands nobody reads.
     */
    size_t                     buffered;
    size_t                     max_buffered;

    /* session keepers until reaped (they outlive their shells a bit) */
    pid_t                     *keepers;
    ngx_uint_t                 nkeepers;
    ngx_uint_t                 keepers_size;

    /* users whose last shell is gone: what escaped its process group
     * (setsid, double fork) is swept when it lands on the host */
    uid_t                      sweep[NGX_WSMAN_SH_SWEEP];
    ngx_uint_t                 nsweep;
} ngx_wsman_sh_host_t;




static ngx_int_t ngx_wsman_sh_alive(void);
static void ngx_wsman_sh_sweep(ngx_wsman_sh_host_t *h);
static void ngx_wsman_sh_sweep_add(ngx_wsman_sh_host_t *h, uid_t uid);
static void ngx_wsman_sh_sweep_del(ngx_wsman_sh_host_t *h, uid_t uid);
static void ngx_wsman_sh_main(int cfd, int life, ngx_log_t *log,
    uid_t worker_uid) ngx_wsman_sh_noreturn;
static int ngx_wsman_sh_keep_fds(int *cfd, int *life);
static int ngx_wsman_sh_init(ngx_wsman_sh_host_t *h, int cfd, int life);
static void ngx_wsman_sh_loop(ngx_wsman_sh_host_t *h);
static void ngx_wsman_sh_shutdown(ngx_wsman_sh_host_t *h)
    ngx_wsman_sh_noreturn;
static void ngx_wsman_sh_kill_children(uid_t *uids, ngx_uint_t n);
static void ngx_wsman_sh_kill_child(pid_t pid, uid_t *uids, ngx_uint_t n);
static void ngx_wsman_sh_log(ngx_uint_t level, const char *fmt, ...)
    ngx_wsman_sh_printf_like;
static uint64_t ngx_wsman_sh_msec(void);
static int ngx_wsman_sh_uuid(char *buf);

static int ngx_wsman_sh_watch(ngx_wsman_sh_host_t *h, ngx_wsman_sh_ev_t *ev,
    uint32_t events);
static void ngx_wsman_sh_unwatch(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_ev_t *ev);
static void ngx_wsman_sh_close_ev(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_ev_t *ev);
static void ngx_wsman_sh_dispatch(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_ev_t *ev, uint32_t events);

static int ngx_wsman_sh_buf_reserve(ngx_wsman_sh_buf_t *b, size_t want,
    size_t limit);
static void ngx_wsman_sh_buf_consume(ngx_wsman_sh_buf_t *b, size_t n);
static void ngx_wsman_sh_buf_free(ngx_wsman_sh_buf_t *b);

static void ngx_wsman_sh_control(ngx_wsman_sh_host_t *h);
static void ngx_wsman_sh_channel(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_ev_t *ch);
static void ngx_wsman_sh_conn_new(ngx_wsman_sh_host_t *h, int fd);
static int ngx_wsman_sh_sender_ok(ngx_wsman_sh_host_t *h,
    struct ucred *cred);
static int ngx_wsman_sh_is_master(pid_t pid);
static int ngx_wsman_sh_peer_ok(ngx_wsman_sh_host_t *h, int fd);
static void ngx_wsman_sh_conn_event(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, uint32_t events);
static void ngx_wsman_sh_conn_read(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);
static void ngx_wsman_sh_conn_write(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);
static void ngx_wsman_sh_conn_close(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);
static void ngx_wsman_sh_send_frame(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, u_char *frame, size_t len);
static void ngx_wsman_sh_reply(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    u_char type, ngx_uint_t status, u_char tag, const char *value);

static void ngx_wsman_sh_process(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);
static ngx_int_t ngx_wsman_sh_req_read(ngx_wsman_sh_req_t *r);
static int ngx_wsman_sh_field_is(ngx_wsman_shell_field_t *f, const char *s);
static int ngx_wsman_sh_field_eq(ngx_wsman_shell_field_t *f, const char *s);
static int ngx_wsman_sh_owns(ngx_wsman_sh_req_t *r, ngx_wsman_sh_shell_t *sh);
static char *ngx_wsman_sh_field_dup(ngx_wsman_shell_field_t *f);
static ngx_wsman_sh_shell_t *ngx_wsman_sh_find_shell(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_req_t *r);
static ngx_uint_t ngx_wsman_sh_find_cmd(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_req_t *r, ngx_wsman_sh_cmd_t **cmd);

static void ngx_wsman_sh_create(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
static const char *ngx_wsman_sh_uid_refused(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_req_t *r, uid_t uid);
static ngx_uint_t ngx_wsman_sh_getpw(const char *user, struct passwd *pw,
    char **buf);
static ngx_uint_t ngx_wsman_sh_quota(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_req_t *r, char *msg, size_t size);
static ngx_wsman_sh_shell_t *ngx_wsman_sh_shell_new(ngx_wsman_sh_req_t *r,
    struct passwd *pw);
static void ngx_wsman_sh_shell_free(ngx_wsman_sh_shell_t *sh);
static ngx_int_t ngx_wsman_sh_setup_start(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_shell_t *sh, ngx_wsman_sh_req_t *r);
static void ngx_wsman_sh_keeper(ngx_wsman_sh_shell_t *sh, int fd,
    const char *service, const char *rhost) ngx_wsman_sh_noreturn;
static int ngx_wsman_sh_keeper_index(ngx_wsman_sh_host_t *h, pid_t pid);
static void ngx_wsman_sh_keeper_add(ngx_wsman_sh_host_t *h, pid_t pid);
static void ngx_wsman_sh_keeper_abort(int signo);
static int ngx_wsman_sh_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *data);
static void ngx_wsman_sh_setup_read(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_shell_t *sh);
static void ngx_wsman_sh_setup_limit(ngx_wsman_sh_shell_t *sh,
    ngx_wsman_shell_field_t *f);
static ngx_int_t ngx_wsman_sh_setup_env(ngx_wsman_sh_shell_t *sh,
    ngx_wsman_shell_field_t *f);
static void ngx_wsman_sh_setup_done(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_shell_t *sh, ngx_uint_t status, const char *msg);
static int ngx_wsman_sh_nonblock(int fd);
static void ngx_wsman_sh_shell_delete(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_shell_t *sh);

static void ngx_wsman_sh_command(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
static char **ngx_wsman_sh_argv(ngx_wsman_sh_req_t *r);
static char **ngx_wsman_sh_envp(ngx_wsman_sh_shell_t *sh);
static ngx_int_t ngx_wsman_sh_spawn_cmd(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd, char **argv, char **envp, int skip_shell);
static void ngx_wsman_sh_exec(ngx_wsman_sh_shell_t *sh, int fds[3],
    char **argv, char **envp, int skip_shell) ngx_wsman_sh_noreturn;
static void ngx_wsman_sh_child_fail(const char *what, const char *arg)
    ngx_wsman_sh_noreturn;
static void ngx_wsman_sh_lower_limit(int resource, rlim_t value,
    const char *err);
static void ngx_wsman_sh_cmd_free(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_kill(ngx_wsman_sh_cmd_t *cmd, int sig);

static void ngx_wsman_sh_send(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
static void ngx_wsman_sh_stdin(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_receive(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
static void ngx_wsman_sh_signal(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
static void ngx_wsman_sh_delete(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);

static int ngx_wsman_sh_may_read(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd, ngx_uint_t i);
static void ngx_wsman_sh_resume(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_resume_all(ngx_wsman_sh_host_t *h);
static void ngx_wsman_sh_buf_release(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_buf_t *b);
static void ngx_wsman_sh_output(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd, ngx_uint_t i);
static void ngx_wsman_sh_notify(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_send_output(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_resend(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_forget(ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_output_sent(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);
static void ngx_wsman_sh_finish(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
static void ngx_wsman_sh_signals(ngx_wsman_sh_host_t *h);
static void ngx_wsman_sh_reap(ngx_wsman_sh_host_t *h);
static int ngx_wsman_sh_timers(ngx_wsman_sh_host_t *h);
static int ngx_wsman_sh_busy(ngx_wsman_sh_shell_t *sh);


/* the master's view of the host it spawned; see ngx_wsman_sh_alive() */
static ngx_pid_t            ngx_wsman_sh_pid = NGX_INVALID_PID;
static int                  ngx_wsman_sh_lifeline = -1;
static int                  ngx_wsman_sh_ctl = -1;

/* the host's own state, used only in the host process */
static ngx_wsman_sh_host_t  ngx_wsman_sh_host;
static ngx_uint_t           ngx_wsman_sh_log_level = NGX_LOG_NOTICE;
static ngx_uint_t           ngx_wsman_sh_spare_keepers;
static struct rlimit        ngx_wsman_sh_nofile;

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
ngx_wsman_shell_host_channels(ngx_log_t *log, int *fds, ngx_uint_t n)
{
    int              *host, sv[2], buf;
    char              byte;
    size_t            size;
    ssize_t           rc;
    ngx_uint_t        i, j, batch;
    struct iovec      iov;
    struct msghdr     msg;
    struct cmsghdr   *cmsg;
    union {
        struct cmsghdr  cm;
        char            space[CMSG_SPACE(NGX_WSMAN_SH_CONTROL_FDS
                                         * sizeof(int))];
    } cmsgbuf;

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
        size = batch * sizeof(int);

        byte = 'C';
        iov.iov_base = &byte;
        iov.iov_len = 1;

        ngx_memzero(&msg, sizeof(struct msghdr));
        ngx_memzero(&cmsgbuf, sizeof(cmsgbuf));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsgbuf.space;
        msg.msg_controllen = CMSG_SPACE(size);

        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(size);
        ngx_memcpy(CMSG_DATA(cmsg), &host[i], size);

        do {
            rc = sendmsg(ngx_wsman_sh_ctl, &msg, MSG_NOSIGNAL);
        } while (rc == -1 && ngx_errno == NGX_EINTR);

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


static void
ngx_wsman_sh_sweep(ngx_wsman_sh_host_t *h)
{
    if (h->nsweep) {
        ngx_wsman_sh_kill_children(h->sweep, h->nsweep);
    }
}


static void
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


static void
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


static void
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


/* a random (version 4) UUID in upper case, as Windows shows its ids */
static int
ngx_wsman_sh_uuid(char *buf)
{
    u_char   b[16];
    ssize_t  n;

    do {
        n = getrandom(b, sizeof(b), 0);
    } while (n == -1 && errno == EINTR);

    if (n != (ssize_t) sizeof(b)) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "getrandom() failed: %s",
                         strerror(errno));
        return -1;
    }

    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;

    (void) snprintf(buf, NGX_WSMAN_SH_UUID_LEN + 1,
                    "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
                    "%02X%02X%02X%02X%02X%02X",
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                    b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);

    return 0;
}


/* ---------------------------------------------------------------------
 * epoll and buffers
 */

static int
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


static void
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


static void
ngx_wsman_sh_close_ev(ngx_wsman_sh_host_t *h, ngx_wsman_sh_ev_t *ev)
{
    if (ev->fd == -1) {
        return;
    }

    ngx_wsman_sh_unwatch(h, ev);
    (void) close(ev->fd);
    ev->fd = -1;
}


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
 * Worker connections: one request frame in, one reply frame out
 */

/*
 * The master passes the host's ends of the worker slot channels, at every
 * start and reload.  Nothing else ever arrives here: the other end of the
 * control socket exists only in the master.
 */
static void
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
static void
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
            || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1
            || !ngx_wsman_sh_peer_ok(h, fd))
        {
            ngx_wsman_sh_log(NGX_LOG_ERR, "a worker passed a descriptor "
                             "that is not a request connection");
            (void) close(fd);
            continue;
        }

        ngx_wsman_sh_conn_new(h, fd);
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
ngx_wsman_sh_conn_new(ngx_wsman_sh_host_t *h, int fd)
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


static void
ngx_wsman_sh_conn_event(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    uint32_t events)
{
    switch (c->state) {

    case NGX_WSMAN_SH_CONN_READ:
        ngx_wsman_sh_conn_read(h, c);
        break;

    case NGX_WSMAN_SH_CONN_PARKED:
        /*
         * Only EPOLLHUP and EPOLLERR are reported while parked: a worker
         * that merely shut down its sending side still waits for the
         * reply, one that closed the socket (hang-up) does not.
         */
        if (events & (EPOLLHUP | EPOLLERR)) {
            ngx_wsman_sh_conn_close(h, c);
        }

        break;

    case NGX_WSMAN_SH_CONN_WRITE:
        ngx_wsman_sh_conn_write(h, c);
        break;

    case NGX_WSMAN_SH_CONN_SETUP:
        /* the worker gave up on its Create: nobody will use the shell */
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


static void
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
static void
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
static void
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


/* text fields become C strings later, so they may not hold a NUL */
#define ngx_wsman_sh_text(f)  (memchr((f)->data, '\0', (f)->len) == NULL)


static ngx_int_t
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


static int
ngx_wsman_sh_field_is(ngx_wsman_shell_field_t *f, const char *s)
{
    return f->len == strlen(s) && strncasecmp((char *) f->data, s, f->len) == 0;
}


static char *
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
static int
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
 */
static ngx_wsman_sh_shell_t *
ngx_wsman_sh_find_shell(ngx_wsman_sh_host_t *h, ngx_wsman_sh_req_t *r)
{
    ngx_wsman_sh_shell_t  *sh;

    for (sh = h->shells; sh; sh = sh->next) {
        if (!sh->pending
            && ngx_wsman_sh_field_is(&r->shell, sh->id)
            && ngx_wsman_sh_owns(r, sh)
            && ngx_wsman_sh_field_eq(&r->user, sh->user))
        {
            sh->last_active = h->now;
            return sh;
        }
    }

    return NULL;
}


static ngx_uint_t
ngx_wsman_sh_find_cmd(ngx_wsman_sh_host_t *h, ngx_wsman_sh_req_t *r,
    ngx_wsman_sh_cmd_t **cmd)
{
    ngx_wsman_sh_cmd_t    *c;
    ngx_wsman_sh_shell_t  *sh;

    sh = ngx_wsman_sh_find_shell(h, r);
    if (sh == NULL) {
        return NGX_WSMAN_SHELL_S_NO_SHELL;
    }

    for (c = sh->cmds; c; c = c->next) {
        if (ngx_wsman_sh_field_is(&r->command_id, c->id)) {
            *cmd = c;
            return NGX_WSMAN_SHELL_S_OK;
        }
    }

    return NGX_WSMAN_SHELL_S_NO_COMMAND;
}


/* ---------------------------------------------------------------------
 * CREATE and DELETE
 */

static void
ngx_wsman_sh_create(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    char                  *user, *buf, msg[160];
    const char            *why;
    ngx_int_t              rc;
    ngx_uint_t             status;
    struct passwd          pw;
    ngx_wsman_sh_shell_t  *sh;

    user = ngx_wsman_sh_field_dup(&r->user);
    if (user == NULL) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "out of memory");
        return;
    }

    status = ngx_wsman_sh_getpw(user, &pw, &buf);
    free(user);

    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_reply(h, c, r->type, status, NGX_WSMAN_SHELL_F_MESSAGE,
                           (status == NGX_WSMAN_SHELL_S_NO_USER)
                           ? "no local account" : "cannot look up the user");
        return;
    }

    why = ngx_wsman_sh_uid_refused(h, r, pw.pw_uid);

    if (why != NULL) {
        ngx_wsman_sh_log(NGX_LOG_WARN, "shell for user \"%s\" refused: %s",
                         pw.pw_name, why);
        free(buf);
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_NO_USER,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "commands may not run as this account here");
        return;
    }

    if (geteuid() != 0 && pw.pw_uid != geteuid()) {
        free(buf);
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_NO_USER,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "the shell host is not privileged and runs "
                           "commands only as its own user");
        return;
    }

    status = ngx_wsman_sh_quota(h, r, msg, sizeof(msg));

    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_log(NGX_LOG_NOTICE, "shell for user \"%.*s\" (%.*s) "
                         "refused: %s", (int) r->owner_name.len,
                         r->owner_name.data, (int) r->owner.len,
                         r->owner.data, msg);
        free(buf);
        ngx_wsman_sh_reply(h, c, r->type, status, NGX_WSMAN_SHELL_F_MESSAGE,
                           msg);
        return;
    }

    sh = ngx_wsman_sh_shell_new(r, &pw);
    free(buf);

    if (sh == NULL) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "out of memory");
        return;
    }

    /*
     * Listed at once, so that it counts for the quotas, but found by no
     * request until its setup is done.
     */
    sh->last_active = h->now;
    sh->pending = 1;
    sh->next = h->shells;
    h->shells = sh;

    /* the user is back: their processes belong to a shell again */
    ngx_wsman_sh_sweep_del(h, sh->uid);

    rc = ngx_wsman_sh_setup_start(h, sh, r);

    if (rc == NGX_ERROR) {
        ngx_wsman_sh_shell_delete(h, sh);
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "cannot set up the shell");
        return;
    }

    if (rc == NGX_DONE) {
        /* neither PAM nor a working directory to check: ready now */
        c->setup = sh;
        sh->setup_conn = c;
        ngx_wsman_sh_setup_done(h, sh, NGX_WSMAN_SHELL_S_OK, NULL);
        return;
    }

    /* the reply waits for the keeper (ngx_wsman_sh_setup_done()) */
    c->setup = sh;
    c->state = NGX_WSMAN_SH_CONN_SETUP;
    c->deadline = h->now + NGX_WSMAN_SH_SETUP_TIMEOUT;
    sh->setup_conn = c;
}


/*
 * Whatever a worker says, the host never runs a command as root unless
 * the location allows it, and never as the workers' own uid: a command
 * with that uid could trace the workers and act as them.  Workers that
 * run as root (no "user" in effect) leave only the first rule.  NULL: the
 * uid may run commands.
 */
static const char *
ngx_wsman_sh_uid_refused(ngx_wsman_sh_host_t *h, ngx_wsman_sh_req_t *r,
    uid_t uid)
{
    if (uid == 0 && !r->allow_root) {
        return "uid 0 without wsman_shell_allow_root";
    }

    if (uid == h->worker_uid && uid != 0) {
        return "the workers' uid never runs commands";
    }

    return NULL;
}


/*
 * getpwnam_r() may consult NSS (LDAP, sssd) and block the host for that
 * long; it happens once per shell, not per command.
 */
static ngx_uint_t
ngx_wsman_sh_getpw(const char *user, struct passwd *pw, char **buf)
{
    int             rc;
    long            n;
    char           *p;
    size_t          size;
    struct passwd  *res;

    n = sysconf(_SC_GETPW_R_SIZE_MAX);
    size = (n > 0) ? (size_t) n : 16384;

    for ( ;; ) {
        p = malloc(size);
        if (p == NULL) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc(%zu) failed", size);
            return NGX_WSMAN_SHELL_S_INTERNAL;
        }

        res = NULL;
        rc = getpwnam_r(user, pw, p, size, &res);

        if (rc != ERANGE || size >= 1024 * 1024) {
            break;
        }

        free(p);
        size *= 2;
    }

    if (res != NULL) {
        *buf = p;
        return NGX_WSMAN_SHELL_S_OK;
    }

    free(p);

    /* these mean "no such user" per getpwnam(3) */
    if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
    {
        return NGX_WSMAN_SHELL_S_NO_USER;
    }

    ngx_wsman_sh_log(NGX_LOG_ERR, "getpwnam_r() failed: %s", strerror(rc));

    return NGX_WSMAN_SHELL_S_INTERNAL;
}


/*
 * Windows' MaxShellsPerUser and MaxConcurrentUsers, counted per WS-Man
 * identity (not per local account, which several may share); 0 is
 * unlimited
 */
static ngx_uint_t
ngx_wsman_sh_quota(ngx_wsman_sh_host_t *h, ngx_wsman_sh_req_t *r,
    char *msg, size_t size)
{
    uint64_t               mine, users;
    ngx_wsman_sh_shell_t  *sh, *o;

    mine = 0;
    users = 0;

    for (sh = h->shells; sh; sh = sh->next) {
        if (ngx_wsman_sh_owns(r, sh)) {
            mine++;
        }

        /* count an identity at its first shell in the list */
        for (o = h->shells; o != sh; o = o->next) {
            if (strcmp(o->owner, sh->owner) == 0
                && strcmp(o->owner_name, sh->owner_name) == 0)
            {
                break;
            }
        }

        if (o == sh) {
            users++;
        }
    }

    if (r->max_shells && mine >= r->max_shells) {
        (void) snprintf(msg, size, "MaxShellsPerUser: the user has %llu "
                        "shells, the limit is %llu",
                        (unsigned long long) mine,
                        (unsigned long long) r->max_shells);
        return NGX_WSMAN_SHELL_S_QUOTA;
    }

    if (r->max_users && mine == 0 && users >= r->max_users) {
        (void) snprintf(msg, size, "MaxConcurrentUsers: %llu users have "
                        "shells, the limit is %llu",
                        (unsigned long long) users,
                        (unsigned long long) r->max_users);
        return NGX_WSMAN_SHELL_S_QUOTA;
    }

    return NGX_WSMAN_SHELL_S_OK;
}


static ngx_wsman_sh_shell_t *
ngx_wsman_sh_shell_new(ngx_wsman_sh_req_t *r, struct passwd *pw)
{
    ngx_uint_t                i;
    const u_char             *p, *end;
    ngx_wsman_sh_shell_t     *sh;
    ngx_wsman_shell_field_t   f;

    sh = calloc(1, sizeof(ngx_wsman_sh_shell_t));
    if (sh == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "calloc() failed");
        return NULL;
    }

    sh->setup.fd = -1;

    sh->uid = pw->pw_uid;
    sh->gid = pw->pw_gid;
    sh->idle_ms = ngx_min(r->idle_ms, NGX_WSMAN_DURATION_CAP);
    sh->max_procs = r->max_procs;
    sh->max_memory = r->max_memory;
    sh->max_runtime = ngx_min(r->max_runtime, NGX_WSMAN_DURATION_CAP);

    sh->owner = ngx_wsman_sh_field_dup(&r->owner);
    sh->owner_name = ngx_wsman_sh_field_dup(&r->owner_name);
    sh->user = strdup(pw->pw_name);
    sh->home = strdup(pw->pw_dir[0] ? pw->pw_dir : "/");
    sh->login_shell = strdup(pw->pw_shell[0] ? pw->pw_shell : "/bin/sh");
    sh->env = calloc(r->nenv + 1, sizeof(char *));

    if (sh->owner == NULL || sh->owner_name == NULL
        || sh->user == NULL || sh->home == NULL || sh->login_shell == NULL
        || sh->env == NULL || ngx_wsman_sh_uuid(sh->id) != 0)
    {
        goto failed;
    }

    if (r->cwd.len) {
        sh->cwd = ngx_wsman_sh_field_dup(&r->cwd);
        if (sh->cwd == NULL) {
            goto failed;
        }
    }

    p = r->frame + NGX_WSMAN_SHELL_HEAD_LEN;
    end = r->frame + r->frame_len;
    i = 0;

    while (ngx_wsman_shell_frame_next(&p, end, &f) == NGX_OK) {
        if (f.tag != NGX_WSMAN_SHELL_F_ENV) {
            continue;
        }

        sh->env[i] = ngx_wsman_sh_field_dup(&f);
        if (sh->env[i] == NULL) {
            goto failed;
        }

        i++;
    }

    return sh;

failed:

    ngx_wsman_sh_log(NGX_LOG_ALERT, "cannot create a shell: out of memory");
    ngx_wsman_sh_shell_free(sh);

    return NULL;
}


static void
ngx_wsman_sh_shell_free(ngx_wsman_sh_shell_t *sh)
{
    char  **e;

    /*
     * The keeper closes the PAM session once its socket closes; one still
     * busy with the setup (a PAM stack that hangs) is of no use anymore.
     */
    if (sh->pending && sh->keeper > 0
        && ngx_wsman_sh_keeper_index(&ngx_wsman_sh_host, sh->keeper) != -1)
    {
        /* not reaped yet, so the pid is still the keeper's */
        (void) kill(sh->keeper, SIGTERM);
    }

    ngx_wsman_sh_close_ev(&ngx_wsman_sh_host, &sh->setup);
    free(sh->setup_buf);
    free(sh->limits);

    if (sh->env) {
        for (e = sh->env; *e; e++) {
            free(*e);
        }
    }

    free(sh->env);
    free(sh->owner);
    free(sh->owner_name);
    free(sh->user);
    free(sh->home);
    free(sh->login_shell);
    free(sh->cwd);
    free(sh);
}


/* kill everything the shell runs; the reaper collects the processes */
static void
ngx_wsman_sh_shell_delete(ngx_wsman_sh_host_t *h, ngx_wsman_sh_shell_t *sh)
{
    ngx_wsman_sh_cmd_t     *cmd;
    ngx_wsman_sh_shell_t  **pp;

    for (pp = &h->shells; *pp; pp = &(*pp)->next) {
        if (*pp == sh) {
            *pp = sh->next;
            break;
        }
    }

    while (sh->cmds) {
        cmd = sh->cmds;
        sh->cmds = cmd->next;
        ngx_wsman_sh_cmd_free(h, cmd);
    }

    ngx_wsman_sh_sweep_add(h, sh->uid);
    ngx_wsman_sh_sweep(h);

    ngx_wsman_sh_shell_free(sh);

    /* every buffer belongs to a command of a shell: none left, none held */
    if (h->shells == NULL && h->buffered != 0) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "%zu bytes of buffered output "
                         "unaccounted for", h->buffered);
        h->buffered = 0;
    }

    /* what the shell held is free for other shells' commands */
    ngx_wsman_sh_resume_all(h);
}


static void
ngx_wsman_sh_delete(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    ngx_wsman_sh_shell_t  *sh;

    sh = ngx_wsman_sh_find_shell(h, r);
    if (sh == NULL) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_NO_SHELL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "no such shell");
        return;
    }

    ngx_wsman_sh_log(NGX_LOG_NOTICE, "shell %s of user \"%s\" deleted",
                     sh->id, sh->user);

    ngx_wsman_sh_shell_delete(h, sh);

    ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_OK, 0, NULL);
}


/* ---------------------------------------------------------------------
 * COMMAND
 */

static void
ngx_wsman_sh_command(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    char                  **argv, **envp;
    const char             *why;
    ngx_int_t               rc;
    ngx_wsman_sh_cmd_t     *cmd, **pp;
    ngx_wsman_sh_shell_t   *sh;

    sh = ngx_wsman_sh_find_shell(h, r);
    if (sh == NULL) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_NO_SHELL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "no such shell");
        return;
    }

    if (r->command.len == 0) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_BAD_REQUEST,
                           NGX_WSMAN_SHELL_F_MESSAGE, "no command");
        return;
    }

    /* checked again per command: a location without allow_root may reach
     * a root shell another location made */
    why = ngx_wsman_sh_uid_refused(h, r, sh->uid);

    if (why != NULL) {
        ngx_wsman_sh_log(NGX_LOG_WARN, "command in shell %s refused: %s",
                         sh->id, why);
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_NO_USER,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "commands may not run as this account here");
        return;
    }

    cmd = calloc(1, sizeof(ngx_wsman_sh_cmd_t));
    argv = ngx_wsman_sh_argv(r);
    envp = ngx_wsman_sh_envp(sh);
    rc = NGX_ERROR;

    if (cmd != NULL && argv != NULL && envp != NULL
        && ngx_wsman_sh_uuid(cmd->id) == 0)
    {
        cmd->shell = sh;
        rc = ngx_wsman_sh_spawn_cmd(h, cmd, argv, envp, r->skip_shell != 0);
    }

    free(argv);
    free(envp);

    if (rc != NGX_OK) {
        if (cmd == NULL || argv == NULL || envp == NULL) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc() failed");
        }

        free(cmd);
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "cannot start the command");
        return;
    }

    if (sh->max_runtime) {
        cmd->deadline = h->now + sh->max_runtime;
    }

    for (pp = &sh->cmds; *pp; pp = &(*pp)->next) { /* void */ }
    *pp = cmd;

    /* the command line may hold secrets: it is not logged */
    ngx_wsman_sh_log(NGX_LOG_INFO, "command %s started in shell %s, pid %d",
                     cmd->id, sh->id, (int) cmd->pid);

    ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_OK,
                       NGX_WSMAN_SHELL_F_COMMAND_ID, cmd->id);
}


/*
 * {"/bin/sh", "-c", "COMMAND ARG ARG...", NULL}, or with SKIP_SHELL
 * {COMMAND, ARG, ..., NULL}; pointers and strings in one allocation.
 */
static char **
ngx_wsman_sh_argv(ngx_wsman_sh_req_t *r)
{
    char                    **argv, *p;
    size_t                    size, n, i;
    const u_char             *fp, *end;
    ngx_wsman_shell_field_t   f;

    fp = r->frame + NGX_WSMAN_SHELL_HEAD_LEN;
    end = r->frame + r->frame_len;

    n = r->skip_shell ? r->nargs + 2 : 4;
    size = n * sizeof(char *) + sizeof("/bin/sh") + sizeof("-c")
           + r->command.len + 1;

    while (ngx_wsman_shell_frame_next(&fp, end, &f) == NGX_OK) {
        if (f.tag == NGX_WSMAN_SHELL_F_ARG) {
            size += f.len + 1;
        }
    }

    argv = malloc(size);
    if (argv == NULL) {
        return NULL;
    }

    p = (char *) (argv + n);
    i = 0;

    if (!r->skip_shell) {
        argv[i++] = p;
        p = (char *) ngx_cpymem(p, "/bin/sh", sizeof("/bin/sh"));
        argv[i++] = p;
        p = (char *) ngx_cpymem(p, "-c", sizeof("-c"));
    }

    argv[i++] = p;
    p = (char *) ngx_cpymem(p, r->command.data, r->command.len);

    fp = r->frame + NGX_WSMAN_SHELL_HEAD_LEN;

    while (ngx_wsman_shell_frame_next(&fp, end, &f) == NGX_OK) {
        if (f.tag != NGX_WSMAN_SHELL_F_ARG) {
            continue;
        }

        if (r->skip_shell) {
            *p++ = '\0';
            argv[i++] = p;

        } else {
            *p++ = ' ';
        }

        p = (char *) ngx_cpymem(p, f.data, f.len);
    }

    *p = '\0';
    argv[i] = NULL;

    return argv;
}


static int
ngx_wsman_sh_env_has(ngx_wsman_sh_shell_t *sh, const char *var)
{
    char    **e;
    size_t    len;

    len = strchr(var, '=') - var;

    for (e = sh->env; *e; e++) {
        if (strncmp(*e, var, len) == 0 && (*e)[len] == '=') {
            return 1;
        }
    }

    return 0;
}


/*
 * A fresh environment: nothing of nginx's leaks into commands.  The
 * shell's own variables win over the defaults.
 */
static char **
ngx_wsman_sh_envp(ngx_wsman_sh_shell_t *sh)
{
    char        **envp, **e, *p, *defs[5];
    size_t        size, n, i;
    const char   *names[5], *values[5];

    names[0] = "HOME=";    values[0] = sh->home;
    names[1] = "USER=";    values[1] = sh->user;
    names[2] = "LOGNAME="; values[2] = sh->user;
    names[3] = "SHELL=";   values[3] = sh->login_shell;
    names[4] = NGX_WSMAN_SH_PATH;  values[4] = "";

    n = 5;
    size = 0;

    for (e = sh->env; *e; e++) {
        n++;
    }

    for (i = 0; i < 5; i++) {
        size += strlen(names[i]) + strlen(values[i]) + 1;
    }

    envp = malloc((n + 1) * sizeof(char *) + size);
    if (envp == NULL) {
        return NULL;
    }

    p = (char *) (envp + n + 1);

    for (i = 0; i < 5; i++) {
        defs[i] = p;
        p = (char *) ngx_cpymem(p, names[i], strlen(names[i]));
        p = (char *) ngx_cpymem(p, values[i], strlen(values[i]) + 1);
    }

    n = 0;

    for (i = 0; i < 5; i++) {
        if (!ngx_wsman_sh_env_has(sh, defs[i])) {
            envp[n++] = defs[i];
        }
    }

    for (e = sh->env; *e; e++) {
        envp[n++] = *e;
    }

    envp[n] = NULL;

    return envp;
}


static int
ngx_wsman_sh_nonblock(int fd)
{
    int  flags;

    flags = fcntl(fd, F_GETFL);

    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "fcntl(O_NONBLOCK) failed: %s",
                         strerror(errno));
        return -1;
    }

    return 0;
}


static ngx_int_t
ngx_wsman_sh_spawn_cmd(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd,
    char **argv, char **envp, int skip_shell)
{
    int    p[3][2], fds[3], i;
    pid_t  pid;

    for (i = 0; i < 3; i++) {
        p[i][0] = -1;
        p[i][1] = -1;
    }

    cmd->in.fd = -1;
    cmd->out[0].fd = -1;
    cmd->out[1].fd = -1;

    for (i = 0; i < 3; i++) {
        if (pipe2(p[i], O_CLOEXEC) == -1) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "pipe2() failed: %s",
                             strerror(errno));
            goto failed;
        }
    }

    pid = fork();

    if (pid == -1) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "fork() failed: %s", strerror(errno));
        goto failed;
    }

    if (pid == 0) {
        fds[0] = p[0][0];
        fds[1] = p[1][1];
        fds[2] = p[2][1];
        ngx_wsman_sh_exec(cmd->shell, fds, argv, envp, skip_shell);
    }

    cmd->pid = pid;

    (void) close(p[0][0]);
    (void) close(p[1][1]);
    (void) close(p[2][1]);

    cmd->in.fd = p[0][1];
    cmd->in.kind = NGX_WSMAN_SH_EV_STDIN;
    cmd->in.obj = cmd;
    cmd->out[0].fd = p[1][0];
    cmd->out[0].kind = NGX_WSMAN_SH_EV_STDOUT;
    cmd->out[0].obj = cmd;
    cmd->out[1].fd = p[2][0];
    cmd->out[1].kind = NGX_WSMAN_SH_EV_STDERR;
    cmd->out[1].obj = cmd;

    if (ngx_wsman_sh_nonblock(cmd->in.fd) != 0
        || ngx_wsman_sh_nonblock(cmd->out[0].fd) != 0
        || ngx_wsman_sh_nonblock(cmd->out[1].fd) != 0
        || ngx_wsman_sh_watch(h, &cmd->out[0], EPOLLIN) != 0
        || ngx_wsman_sh_watch(h, &cmd->out[1], EPOLLIN) != 0)
    {
        /* the process is of no use unread; the reaper collects it */
        (void) kill(pid, SIGKILL);
        ngx_wsman_sh_close_ev(h, &cmd->in);
        ngx_wsman_sh_close_ev(h, &cmd->out[0]);
        ngx_wsman_sh_close_ev(h, &cmd->out[1]);
        return NGX_ERROR;
    }

    return NGX_OK;

failed:

    for (i = 0; i < 3; i++) {
        if (p[i][0] != -1) {
            (void) close(p[i][0]);
            (void) close(p[i][1]);
        }
    }

    return NGX_ERROR;
}


/*
 * The child: a session of its own (so that a whole tree can be signalled
 * through its process group), the user's identity, limits, and exec.
 * The host is single-threaded, so everything is safe to call after fork().
 */
/* a limit of the command: value, or lower if it is lower already */
static void
ngx_wsman_sh_lower_limit(int resource, rlim_t value, const char *err)
{
    struct rlimit  rl;

    if (getrlimit(resource, &rl) == -1) {
        ngx_wsman_sh_child_fail(err, NULL);
    }

    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < value) {
        value = rl.rlim_max;
    }

    rl.rlim_cur = value;
    rl.rlim_max = value;

    if (setrlimit(resource, &rl) == -1) {
        ngx_wsman_sh_child_fail(err, NULL);
    }
}


static void
ngx_wsman_sh_exec(ngx_wsman_sh_shell_t *sh, int fds[3], char **argv,
    char **envp, int skip_shell)
{
    int            i, sig;
    sigset_t       set;
    struct rlimit  rl;

    /* ignored signals stay ignored across exec(): undo SIGPIPE & co */
    for (sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            (void) signal(sig, SIG_DFL);
        }
    }

    sigemptyset(&set);
    (void) sigprocmask(SIG_SETMASK, &set, NULL);

    if (setsid() == -1) {
        ngx_wsman_sh_child_fail("setsid() failed", NULL);
    }

    if (dup2(fds[0], STDIN_FILENO) == -1
        || dup2(fds[1], STDOUT_FILENO) == -1
        || dup2(fds[2], STDERR_FILENO) == -1)
    {
        _exit(127);
    }

    if (close_range(3, ~0U, 0) == -1) {
        ngx_wsman_sh_child_fail("close_range() failed", NULL);
    }

    if (sh->limits != NULL) {
        /* the PAM session's limits (pam_limits), as sshd applies them */
        for (i = 0; i < RLIM_NLIMITS; i++) {
            if (setrlimit(i, &sh->limits[i]) == -1) {
                ngx_wsman_sh_child_fail("setrlimit() failed", NULL);
            }
        }

    } else if (ngx_wsman_sh_nofile.rlim_max) {
        (void) setrlimit(RLIMIT_NOFILE, &ngx_wsman_sh_nofile);
    }

    rl.rlim_cur = 0;
    rl.rlim_max = 0;

    if (setrlimit(RLIMIT_CORE, &rl) == -1) {
        ngx_wsman_sh_child_fail("setrlimit(RLIMIT_CORE) failed", NULL);
    }

    if (sh->max_memory && sh->max_memory <= RLIM_INFINITY / (1024 * 1024)) {
        ngx_wsman_sh_lower_limit(RLIMIT_AS,
                                 (rlim_t) sh->max_memory * 1024 * 1024,
                                 "setrlimit(RLIMIT_AS) failed");
    }

    /*
     * Linux counts RLIMIT_NPROC per real uid, not per shell: the limit
     * covers all processes of the user, and root is exempt.  It is set
     * before setuid() so that exec() fails if the user is already over it.
     */
    if (sh->max_procs) {
        ngx_wsman_sh_lower_limit(RLIMIT_NPROC, (rlim_t) sh->max_procs,
                                 "setrlimit(RLIMIT_NPROC) failed");
    }

    if (geteuid() == 0) {
        if (initgroups(sh->user, sh->gid) == -1) {
            ngx_wsman_sh_child_fail("initgroups() failed", NULL);
        }

        if (setgid(sh->gid) == -1) {
            ngx_wsman_sh_child_fail("setgid() failed", NULL);
        }

        if (setuid(sh->uid) == -1) {
            ngx_wsman_sh_child_fail("setuid() failed", NULL);
        }

        /* a saved set-user-id of 0 would let the command back to root */
        if (sh->uid != 0 && setuid(0) != -1) {
            ngx_wsman_sh_child_fail("cannot drop privileges", NULL);
        }
    }

    /*
     * rsp:WorkingDirectory (checked at Create), else the home directory,
     * else "/", as login does
     */
    if (sh->cwd != NULL) {
        if (chdir(sh->cwd) == -1) {
            ngx_wsman_sh_child_fail("cannot enter the working directory",
                                    sh->cwd);
        }

    } else if (chdir(sh->home) == -1 && chdir("/") == -1) {
        ngx_wsman_sh_child_fail("chdir() failed", NULL);
    }

    /* execvp() searches the PATH of environ: the command's, not ours */
    environ = envp;

    if (skip_shell) {
        (void) execvp(argv[0], argv);

    } else {
        (void) execv("/bin/sh", argv);
    }

    ngx_wsman_sh_child_fail("cannot run", argv[0]);
}


/* the message goes to the command's stderr; 127 is a shell's "not run" */
static void
ngx_wsman_sh_child_fail(const char *what, const char *arg)
{
    int  err;

    err = errno;

    if (arg != NULL) {
        (void) dprintf(STDERR_FILENO, "wsman: %s \"%s\": %s\n", what, arg,
                       strerror(err));

    } else {
        (void) dprintf(STDERR_FILENO, "wsman: %s: %s\n", what, strerror(err));
    }

    _exit(127);
}


static void
ngx_wsman_sh_cmd_free(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd)
{
    ngx_wsman_sh_conn_t  *c;

    ngx_wsman_sh_kill(cmd, SIGKILL);

    ngx_wsman_sh_close_ev(h, &cmd->in);
    ngx_wsman_sh_close_ev(h, &cmd->out[0]);
    ngx_wsman_sh_close_ev(h, &cmd->out[1]);
    ngx_wsman_sh_buf_release(h, &cmd->inbuf);
    ngx_wsman_sh_buf_release(h, &cmd->outbuf[0]);
    ngx_wsman_sh_buf_release(h, &cmd->outbuf[1]);
    ngx_wsman_sh_forget(cmd);

    if (cmd->inflight) {
        cmd->inflight->cmd = NULL;
        cmd->inflight = NULL;
    }

    c = cmd->parked;

    free(cmd);

    if (c != NULL) {
        c->cmd = NULL;
        ngx_wsman_sh_reply(h, c, NGX_WSMAN_SHELL_RECEIVE,
                           NGX_WSMAN_SHELL_S_NO_SHELL,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "the shell was deleted");
    }
}


static void
ngx_wsman_sh_kill(ngx_wsman_sh_cmd_t *cmd, int sig)
{
    if (cmd->pid <= 0 || cmd->delivered) {
        return;
    }

    /*
     * With the leader reaped and both pipes closed the group is most
     * likely empty, and its id free for reuse: leave it alone.
     */
    if (cmd->exited && cmd->out[0].fd == -1 && cmd->out[1].fd == -1) {
        return;
    }

    if (kill(-cmd->pid, sig) == 0) {
        return;
    }

    if (errno == ESRCH && !cmd->exited) {
        /* the child has not reached setsid() yet */
        (void) kill(cmd->pid, sig);
        return;
    }

    if (errno != ESRCH) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "kill(-%d, %d) failed: %s",
                         (int) cmd->pid, sig, strerror(errno));
    }
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


static void
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
        ngx_wsman_sh_reply(h, c, r->type, status, NGX_WSMAN_SHELL_F_MESSAGE,
                           (status == NGX_WSMAN_SHELL_S_NO_SHELL)
                           ? "no such shell" : "no such command");
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
static void
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


static void
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
        ngx_wsman_sh_reply(h, c, r->type, status, NGX_WSMAN_SHELL_F_MESSAGE,
                           (status == NGX_WSMAN_SHELL_S_NO_SHELL)
                           ? "no such shell" : "no such command");
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


static void
ngx_wsman_sh_signal(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    int                  sig;
    ngx_uint_t           status;
    ngx_wsman_sh_cmd_t  *cmd;

    status = ngx_wsman_sh_find_cmd(h, r, &cmd);

    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_reply(h, c, r->type, status, NGX_WSMAN_SHELL_F_MESSAGE,
                           (status == NGX_WSMAN_SHELL_S_NO_SHELL)
                           ? "no such shell" : "no such command");
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


static void
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
static void
ngx_wsman_sh_buf_release(ngx_wsman_sh_host_t *h, ngx_wsman_sh_buf_t *b)
{
    h->buffered -= b->cap;
    ngx_wsman_sh_buf_free(b);
}


static void
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
static void
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
static void
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


static void
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

    ngx_wsman_sh_close_ev(h, &cmd->in);
    ngx_wsman_sh_close_ev(h, &cmd->out[0]);
    ngx_wsman_sh_close_ev(h, &cmd->out[1]);
    ngx_wsman_sh_buf_release(h, &cmd->inbuf);
    ngx_wsman_sh_buf_release(h, &cmd->outbuf[0]);
    ngx_wsman_sh_buf_release(h, &cmd->outbuf[1]);

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
static ngx_int_t
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


static int
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
    p = (char *) ngx_cpymem(p, "/children", sizeof("/children"));

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
static void
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


static void
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
