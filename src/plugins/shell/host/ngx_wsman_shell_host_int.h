/*
 * The shell host's own types, shared by its parts (main loop,
 * connections, shells, commands, I/O, session keepers): nothing but
 * ngx_wsman_shell_host*.c includes this file (and the fuzzing harness of
 * the frames).
 */

#ifndef _NGX_WSMAN_SHELL_HOST_INT_H_INCLUDED_
#define _NGX_WSMAN_SHELL_HOST_INT_H_INCLUDED_



#include "ngx_wsman_shell_host.h"
#include "ngx_wsman_shell_frame.h"
#include "ngx_wsman_shell_proto.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
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
#define NGX_WSMAN_SH_CONTROL_FDS    NGX_WSMAN_SHELL_SEND_FDS
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

/* text fields become C strings later, so they may not hold a NUL */
#define ngx_wsman_sh_text(f)  (memchr((f)->data, '\0', (f)->len) == NULL)


typedef struct ngx_wsman_sh_shell_s  ngx_wsman_sh_shell_t;
typedef struct ngx_wsman_sh_cmd_s    ngx_wsman_sh_cmd_t;
typedef struct ngx_wsman_sh_conn_s   ngx_wsman_sh_conn_t;


typedef struct {
    int                        fd;
    int                        kind;
    unsigned                   watched:1;
    unsigned                   root_ok:1;      /* a channel of a
                                                  configuration that allows
                                                  root shells somewhere */
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
    unsigned                   root_ok:1;      /* from its channel */
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


/* in ngx_wsman_shell_host.c */
extern ngx_wsman_sh_host_t ngx_wsman_sh_host;
extern struct rlimit ngx_wsman_sh_nofile;


void ngx_wsman_sh_sweep(ngx_wsman_sh_host_t *h);
void ngx_wsman_sh_sweep_add(ngx_wsman_sh_host_t *h, uid_t uid);
void ngx_wsman_sh_sweep_del(ngx_wsman_sh_host_t *h, uid_t uid);
void ngx_wsman_sh_log(ngx_uint_t level, const char *fmt, ...)
    ngx_wsman_sh_printf_like;
int ngx_wsman_sh_uuid(char *buf);

int ngx_wsman_sh_watch(ngx_wsman_sh_host_t *h, ngx_wsman_sh_ev_t *ev,
    uint32_t events);
void ngx_wsman_sh_unwatch(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_ev_t *ev);
void ngx_wsman_sh_close_ev(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_ev_t *ev);

void ngx_wsman_sh_control(ngx_wsman_sh_host_t *h);
void ngx_wsman_sh_channel(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_ev_t *ch);
void ngx_wsman_sh_conn_event(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, uint32_t events);
void ngx_wsman_sh_conn_close(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);
void ngx_wsman_sh_send_frame(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, u_char *frame, size_t len);
void ngx_wsman_sh_reply(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    u_char type, ngx_uint_t status, u_char tag, const char *value);

ngx_int_t ngx_wsman_sh_req_read(ngx_wsman_sh_req_t *r);
int ngx_wsman_sh_field_is(ngx_wsman_shell_field_t *f, const char *s);
int ngx_wsman_sh_owns(ngx_wsman_sh_req_t *r, ngx_wsman_sh_shell_t *sh);
char *ngx_wsman_sh_field_dup(ngx_wsman_shell_field_t *f);
ngx_uint_t ngx_wsman_sh_find_shell(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_req_t *r, ngx_wsman_sh_shell_t **shell);
ngx_uint_t ngx_wsman_sh_find_cmd(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_req_t *r, ngx_wsman_sh_cmd_t **cmd);
void ngx_wsman_sh_reply_missing(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r, ngx_uint_t status);

void ngx_wsman_sh_create(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
const char *ngx_wsman_sh_uid_refused(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_req_t *r, uid_t uid);
ngx_uint_t ngx_wsman_sh_getpw(const char *user, struct passwd *pw,
    char **buf);
ngx_wsman_sh_shell_t *ngx_wsman_sh_shell_new(ngx_wsman_sh_req_t *r,
    struct passwd *pw);
void ngx_wsman_sh_shell_free(ngx_wsman_sh_shell_t *sh);
ngx_int_t ngx_wsman_sh_setup_start(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_shell_t *sh, ngx_wsman_sh_req_t *r);
int ngx_wsman_sh_keeper_index(ngx_wsman_sh_host_t *h, pid_t pid);
void ngx_wsman_sh_setup_read(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_shell_t *sh);
void ngx_wsman_sh_setup_done(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_shell_t *sh, ngx_uint_t status, const char *msg);
int ngx_wsman_sh_nonblock(int fd);
void ngx_wsman_sh_shell_delete(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_shell_t *sh);

void ngx_wsman_sh_command(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
char **ngx_wsman_sh_argv(ngx_wsman_sh_req_t *r);
char **ngx_wsman_sh_envp(ngx_wsman_sh_shell_t *sh);
void ngx_wsman_sh_cmd_release(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
void ngx_wsman_sh_cmd_free(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
void ngx_wsman_sh_kill(ngx_wsman_sh_cmd_t *cmd, int sig);

void ngx_wsman_sh_send(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
void ngx_wsman_sh_stdin(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
void ngx_wsman_sh_receive(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
void ngx_wsman_sh_signal(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);
void ngx_wsman_sh_delete(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c, ngx_wsman_sh_req_t *r);

void ngx_wsman_sh_resume_all(ngx_wsman_sh_host_t *h);
void ngx_wsman_sh_buf_release(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_buf_t *b);
void ngx_wsman_sh_output(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd, ngx_uint_t i);
void ngx_wsman_sh_notify(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd);
void ngx_wsman_sh_forget(ngx_wsman_sh_cmd_t *cmd);
void ngx_wsman_sh_output_sent(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_conn_t *c);


#endif /* _NGX_WSMAN_SHELL_HOST_INT_H_INCLUDED_ */
