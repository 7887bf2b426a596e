/*
 * The shell host protocol: how nginx workers talk to the shell host
 * process (ngx_wsman_shell_host.c).  A worker passes the host
 * one end of a fresh socketpair per request over its slot channel
 * (SCM_RIGHTS); the request and its reply travel over that socketpair.
 *
 * Every message, both ways, is one frame:
 *
 *     u32 length (little-endian, of what follows) | u8 type | fields
 *
 * and every field is
 *
 *     u8 tag | u32 length (little-endian) | bytes
 *
 * Numbers travel as decimal text, flags as "1"/"0".  A reply carries the
 * request's type and always a STATUS field.  Every request names the
 * caller's WS-Man identity (OWNER, OWNER_NAME): shells belong to it, and
 * the host answers requests about another identity's shell as if there
 * were none.  A CREATE with a PAM service or a working directory is
 * answered once the shell's session keeper has reported (up to 20 s).  A
 * connection carries one request and its reply, then the worker closes
 * it, so a worker that dies mid-request leaves nothing behind but a
 * closed socket.
 */

#ifndef _NGX_WSMAN_SHELL_PROTO_H_INCLUDED_
#define _NGX_WSMAN_SHELL_PROTO_H_INCLUDED_


#define NGX_WSMAN_SHELL_MAX_FRAME      (8 * 1024 * 1024)
/* wsman_shell_max_buffered's default */
#define NGX_WSMAN_SHELL_MAX_BUFFERED   (64 * 1024 * 1024)

/* message types */
#define NGX_WSMAN_SHELL_CREATE         1
#define NGX_WSMAN_SHELL_COMMAND        2
#define NGX_WSMAN_SHELL_SEND           3
#define NGX_WSMAN_SHELL_RECEIVE        4
#define NGX_WSMAN_SHELL_SIGNAL         5
#define NGX_WSMAN_SHELL_DELETE         6

/* field tags */
#define NGX_WSMAN_SHELL_F_STATUS       1    /* reply: NGX_WSMAN_SHELL_S_* */
#define NGX_WSMAN_SHELL_F_MESSAGE      2    /* reply: text for the fault */
#define NGX_WSMAN_SHELL_F_USER         3    /* caller's local account */
#define NGX_WSMAN_SHELL_F_SHELL        4    /* shell id (UUID text) */
#define NGX_WSMAN_SHELL_F_COMMAND_ID   5    /* command id (UUID text) */
#define NGX_WSMAN_SHELL_F_CWD          6    /* working directory */
#define NGX_WSMAN_SHELL_F_ENV          7    /* "NAME=value", repeated */
#define NGX_WSMAN_SHELL_F_IDLE_MS      8    /* shell idle timeout */
#define NGX_WSMAN_SHELL_F_COMMAND      9    /* command line */
#define NGX_WSMAN_SHELL_F_ARG          10   /* argument, repeated */
#define NGX_WSMAN_SHELL_F_SKIP_SHELL   11   /* "1": exec, no /bin/sh -c */
#define NGX_WSMAN_SHELL_F_DATA         12   /* stdin bytes (SEND) */
#define NGX_WSMAN_SHELL_F_END          13   /* "1": stdin closed */
#define NGX_WSMAN_SHELL_F_TIMEOUT_MS   14   /* RECEIVE: longest wait */
#define NGX_WSMAN_SHELL_F_STDOUT       15   /* reply: output bytes */
#define NGX_WSMAN_SHELL_F_STDERR       16   /* reply: output bytes */
#define NGX_WSMAN_SHELL_F_STDOUT_END   17   /* reply: "1" last stdout */
#define NGX_WSMAN_SHELL_F_STDERR_END   18   /* reply: "1" last stderr */
#define NGX_WSMAN_SHELL_F_DONE         19   /* reply: "1" command ended */
#define NGX_WSMAN_SHELL_F_EXIT_CODE    20   /* reply: exit status */
#define NGX_WSMAN_SHELL_F_SIGNAL       21   /* "terminate", "ctrl_c",
                                               "ctrl_break" */
#define NGX_WSMAN_SHELL_F_MAX_SHELLS   22   /* per-user limit */
#define NGX_WSMAN_SHELL_F_MAX_USERS    23   /* concurrent users limit */
#define NGX_WSMAN_SHELL_F_MAX_PROCS    24   /* processes per shell */
#define NGX_WSMAN_SHELL_F_MAX_MEMORY   25   /* MB per shell */
#define NGX_WSMAN_SHELL_F_MAX_RUNTIME  26   /* ms a command may run */
#define NGX_WSMAN_SHELL_F_CLIENT_IP    27   /* for the Shell description */
#define NGX_WSMAN_SHELL_F_MAX_BYTES    28   /* RECEIVE: most output bytes
                                               the reply may carry (it
                                               must fit the envelope) */
#define NGX_WSMAN_SHELL_F_SEQUENCE     29   /* RECEIVE: the client's
                                               rsp:Receive/@SequenceId;
                                               absent: not numbered */
#define NGX_WSMAN_SHELL_F_MESSAGE_ID   30   /* SEND: a:MessageID, so that
                                               a resent Send is seen */
#define NGX_WSMAN_SHELL_F_ALLOW_ROOT   40   /* "1": the location says
                                               wsman_shell_allow_root on */
#define NGX_WSMAN_SHELL_F_OWNER        31   /* the caller's WS-Man identity:
                                               its user SID ("S-1-5-21-
                                               ..."); shells belong to it */
#define NGX_WSMAN_SHELL_F_OWNER_NAME   32   /* and its name, for the log
                                               and as a second key */
#define NGX_WSMAN_SHELL_F_MAX_BUFFERED 33   /* every request: the host-wide
                                               cap on unread output */
#define NGX_WSMAN_SHELL_F_PAM_SERVICE  34   /* CREATE: PAM service for the
                                               account and session stages */

/* reply status */
#define NGX_WSMAN_SHELL_S_OK           0
#define NGX_WSMAN_SHELL_S_NO_SHELL     1    /* w:InvalidSelectors */
#define NGX_WSMAN_SHELL_S_NO_COMMAND   2    /* w:InvalidSelectors */
#define NGX_WSMAN_SHELL_S_QUOTA        3    /* w:QuotaLimit */
#define NGX_WSMAN_SHELL_S_NO_USER      4    /* w:AccessDenied */
#define NGX_WSMAN_SHELL_S_INTERNAL     5    /* w:InternalError */
#define NGX_WSMAN_SHELL_S_TIMEOUT      6    /* w:TimedOut (Receive) */
#define NGX_WSMAN_SHELL_S_BAD_REQUEST  7    /* w:InvalidParameter */
#define NGX_WSMAN_SHELL_S_BUSY         8    /* Send with a full buffer */


#endif /* _NGX_WSMAN_SHELL_PROTO_H_INCLUDED_ */
