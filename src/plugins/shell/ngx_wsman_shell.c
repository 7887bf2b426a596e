/*
 * WinRS: the cmd shell resource (http://schemas.microsoft.com/wbem/wsman/
 * 1/windows/shell/cmd).  Every operation becomes one message to the shell
 * host process, which owns the shells and their processes (so that any
 * worker can serve any request) and runs commands as the caller's local
 * account.  This file only translates SOAP to that protocol and back.
 */

#include <pwd.h>

#include "ngx_wsman_plugin.h"
#include "ngx_wsman_shell.h"
#include "ngx_wsman_body.h"
#include "ngx_wsman_duration.h"
#include "ngx_wsman_identity.h"
#include "ngx_wsman_shell_client.h"
#include "ngx_wsman_shell_frame.h"
#include "ngx_wsman_shell_proto.h"


#define NGX_WSMAN_SHELL_URI                                                 \
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
#define NGX_WSMAN_NS_SHELL                                                  \
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
#define NGX_WSMAN_STATE_DONE     NGX_WSMAN_NS_SHELL "/CommandState/Done"
#define NGX_WSMAN_STATE_RUNNING  NGX_WSMAN_NS_SHELL "/CommandState/Running"

/* requests other than Receive: the host answers at once */
#define NGX_WSMAN_SHELL_TIMEOUT  10000
/* a Create waits for PAM in the host, which gives up after 20 s */
#define NGX_WSMAN_SHELL_CREATE_TIMEOUT  25000

/* frames we send are small; stdin chunks are the big ones */
#define NGX_WSMAN_SHELL_FRAME_ROOM   4096


typedef struct {
    ngx_uint_t                 op;
    ngx_str_t                  command_id;     /* Receive */
    ngx_msec_t                 idle;           /* Create */
} ngx_wsman_shell_ctx_t;


static ngx_int_t ngx_wsman_shell_create(ngx_wsman_call_t *call);
static ngx_int_t ngx_wsman_shell_delete(ngx_wsman_call_t *call);
static ngx_int_t ngx_wsman_shell_invoke(ngx_wsman_call_t *call);
static ngx_int_t ngx_wsman_shell_command(ngx_wsman_call_t *call,
    ngx_wsman_shell_writer_t *w);
static ngx_int_t ngx_wsman_shell_send(ngx_wsman_call_t *call,
    ngx_wsman_shell_writer_t *w);
static ngx_int_t ngx_wsman_shell_receive(ngx_wsman_call_t *call,
    ngx_wsman_shell_writer_t *w, ngx_msec_t *timeout);
static ngx_int_t ngx_wsman_shell_signal(ngx_wsman_call_t *call,
    ngx_wsman_shell_writer_t *w);
static ngx_int_t ngx_wsman_shell_go(ngx_wsman_call_t *call,
    ngx_wsman_shell_writer_t *w, ngx_msec_t timeout);
static void ngx_wsman_shell_reply(ngx_wsman_call_t *call, ngx_int_t rc,
    u_char *reply, size_t len);


static ngx_wsman_plugin_t  ngx_wsman_shell_plugin = {
    ngx_string("shell"),
    ngx_string(NGX_WSMAN_SHELL_URI),
    NULL,
    NULL,
    ngx_wsman_shell_create,
    ngx_wsman_shell_delete,
    NULL,
    ngx_wsman_shell_invoke,
    1,                                  /* all of it is Execute (GX) */
    0,
    NULL, NULL
};


/* ------------------------------------------------------------- helpers */

/* the location's wsman_shell* settings: the plug-in's own conf */
static ngx_wsman_shell_loc_conf_t *
ngx_wsman_shell_conf(ngx_wsman_call_t *call)
{
    return ngx_wsman_call_conf(call, &ngx_wsman_shell_module);
}


static ngx_wsman_node_t *
ngx_wsman_shell_child(ngx_wsman_node_t *parent, const char *name)
{
    return ngx_wsman_node_child(parent, NGX_WSMAN_NS_SHELL, name);
}


/* the CommandId attribute every per-command request carries */
static ngx_int_t
ngx_wsman_shell_command_id(ngx_wsman_call_t *call, ngx_wsman_node_t *node,
    ngx_str_t *id)
{
    ngx_int_t  rc;

    rc = ngx_wsman_node_attr(call->pool, node, "CommandId", id);

    if (rc == NGX_DECLINED || (rc == NGX_OK && id->len == 0)) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                             "The request names no CommandId.");
        return NGX_DECLINED;
    }

    return rc;
}


static ngx_int_t
ngx_wsman_shell_option_true(ngx_wsman_call_t *call, const char *name)
{
    ngx_wsman_pair_t  *opt;

    opt = ngx_wsman_soap_option(call->req, name);

    return opt != NULL && opt->value.len == 4
           && ngx_strncasecmp(opt->value.data, (u_char *) "true", 4) == 0;
}


/*
 * The local account commands run as: the caller's own, else the
 * configured wsman_shell_run_as; an identity without either never gets a
 * shell.
 */
static ngx_int_t
ngx_wsman_shell_account(ngx_wsman_call_t *call, ngx_str_t *user)
{
    ngx_wsman_account_t         *a;
    ngx_wsman_shell_loc_conf_t  *slcf;

    *user = call->identity->user;

    /* remembered from authentication (src/auth/ngx_wsman_identity.c) */
    a = ngx_wsman_account_get(call->log, user);

    if (a && a->found) {
        return NGX_OK;
    }

    slcf = ngx_wsman_shell_conf(call);

    if (slcf->shell_run_as.len) {
        *user = slcf->shell_run_as;
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, call->log, 0,
                  "wsman: user \"%V\" has no local account to run a shell "
                  "as (see wsman_shell_run_as)", &call->identity->user);

    ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED,
                         "The caller has no local account to run commands "
                         "as.");

    return NGX_DECLINED;
}


/*
 * The host's rule (ngx_wsman_shell_uid_refused()), checked here first
 * for a fault without a round trip and a log line naming the caller.  An
 * account that does not resolve is left to the host, which answers that.
 */
static ngx_int_t
ngx_wsman_shell_uid_ok(ngx_wsman_call_t *call, ngx_str_t *user)
{
    const char                  *why;
    ngx_wsman_account_t         *a;
    ngx_wsman_shell_loc_conf_t  *slcf;

    a = ngx_wsman_account_get(call->log, user);

    if (a == NULL || !a->found) {
        return NGX_OK;
    }

    slcf = ngx_wsman_shell_conf(call);

    why = ngx_wsman_shell_uid_refused(a->uid, getuid(),
                                      slcf->shell_allow_root);
    if (why == NULL) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, call->log, 0,
                  "wsman: no shell for \"%V\" as local account \"%V\": %s",
                  &call->identity->user, user, why);

    ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED,
                         "Commands may not run as this account here.");

    return NGX_DECLINED;
}


/*
 * The WS-Man identity a shell belongs to, as Windows has it: the caller's
 * user SID (src/ngx_wsman_identity.c: the machine's domain plus a RID of
 * the local account, or of the name for callers without one).  Two
 * identities that run commands as one local account (wsman_shell_run_as)
 * have different SIDs, so neither can touch the other's shells.  The
 * user SID is the last SID of the machine's domain in the list (group
 * SIDs are pushed before it).
 */
static ngx_int_t
ngx_wsman_shell_owner(ngx_wsman_call_t *call, ngx_str_t *owner)
{
    u_char           *p;
    ngx_uint_t        i;
    ngx_array_t       list, *sids;
    ngx_wsman_sid_t  *sid, *user, *machine;

    sids = call->identity->sids;

    if (sids == NULL || call->identity->sids_conf != call->conf) {
        if (ngx_wsman_identity_sids(call->pool, call->log, call->conf,
                                    call->identity, &list)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        sids = &list;
    }

    machine = call->conf->machine_sid;
    sid = sids->elts;
    user = NULL;

    for (i = 0; machine && i < sids->nelts; i++) {
        if (sid[i].count == machine->count + 1
            && sid[i].revision == machine->revision
            && sid[i].authority == machine->authority
            && ngx_memcmp(sid[i].sub, machine->sub,
                          machine->count * sizeof(uint32_t))
               == 0)
        {
            user = &sid[i];
        }
    }

    if (user == NULL) {
        ngx_log_error(NGX_LOG_ERR, call->log, 0,
                      "wsman: user \"%V\" has no user SID",
                      &call->identity->user);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(call->pool, NGX_WSMAN_SID_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    owner->data = p;
    owner->len = ngx_wsman_sid_format(p, user) - p;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_shell_selector(ngx_wsman_call_t *call, ngx_str_t *shell)
{
    ngx_wsman_pair_t  *sel;

    sel = ngx_wsman_soap_selector(call->req, "ShellId");

    if (sel == NULL || sel->value.len == 0) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                             "The request has no ShellId selector.");
        ngx_str_set(&call->fault.detail,
                    NGX_WSMAN_FAULT_DETAIL "InsufficientSelectors");
        return NGX_DECLINED;
    }

    *shell = sel->value;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_shell_begin(ngx_wsman_call_t *call, ngx_wsman_shell_writer_t *w,
    u_char type, size_t room)
{
    u_char                      *buf;
    ngx_str_t                    user, owner;
    ngx_wsman_shell_loc_conf_t  *slcf;

    slcf = ngx_wsman_shell_conf(call);

    buf = ngx_pnalloc(call->pool, NGX_WSMAN_SHELL_FRAME_ROOM + room);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    ngx_wsman_shell_writer_init(w, buf, NGX_WSMAN_SHELL_FRAME_ROOM + room,
                                type);

    if (ngx_wsman_shell_account(call, &user) != NGX_OK
        || ngx_wsman_shell_uid_ok(call, &user) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (ngx_wsman_shell_owner(call, &owner) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_USER, user.data,
                               user.len);
    ngx_wsman_shell_writer_add_str(w, NGX_WSMAN_SHELL_F_ALLOW_ROOT,
                                   slcf->shell_allow_root ? "1" : "0");
    ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_OWNER, owner.data,
                               owner.len);
    ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_OWNER_NAME,
                               call->identity->user.data,
                               call->identity->user.len);

    /* the host takes its cap from whoever talks to it last (reloads) */
    ngx_wsman_shell_writer_add_num(w, NGX_WSMAN_SHELL_F_MAX_BUFFERED,
                                   ngx_wsman_shell_max_buffered());

    return NGX_OK;
}


/* ------------------------------------------------------------ Create */

static ngx_int_t
ngx_wsman_shell_create(ngx_wsman_call_t *call)
{
    u_char                      *p;
    size_t                       room;
    uint64_t                     msec;
    ngx_int_t                    rc;
    ngx_str_t                    text, name;
    ngx_wsman_node_t            *shell, *node, *var;
    ngx_wsman_shell_ctx_t       *ctx;
    ngx_wsman_shell_writer_t     w;
    ngx_wsman_shell_loc_conf_t  *lcf;

    lcf = ngx_wsman_shell_conf(call);

    if (!lcf->shell) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED,
                                    "Remote shells are disabled "
                                    "(wsman_shell off).");
    }

    shell = call->req->payload;

    if (!ngx_wsman_node_is(shell, NGX_WSMAN_NS_SHELL, "Shell")) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_SCHEMA_VALIDATION,
                                    "The body is not an rsp:Shell.");
    }

    room = call->req->body ? 65536 : 0;

    rc = ngx_wsman_shell_begin(call, &w, NGX_WSMAN_SHELL_CREATE, room);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : NGX_ERROR;
    }

    msec = lcf->shell_idle_timeout;

    node = ngx_wsman_shell_child(shell, "IdleTimeOut");
    if (node) {
        if (ngx_wsman_node_text(call->pool, node, &text) != NGX_OK) {
            return NGX_ERROR;
        }

        /* a client may ask for less idle time, never for more */
        if (ngx_wsman_duration_parse(text.data, text.len, &msec) == NGX_OK
            && msec && msec < lcf->shell_idle_timeout)
        {
            /* msec stays */

        } else {
            msec = lcf->shell_idle_timeout;
        }
    }

    ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_IDLE_MS, msec);

    node = ngx_wsman_shell_child(shell, "WorkingDirectory");
    if (node) {
        if (ngx_wsman_node_text(call->pool, node, &text) != NGX_OK) {
            return NGX_ERROR;
        }

        /*
         * Relative to what?  The host's own directory is no answer, and a
         * Windows path ("C:\Users\x") means nothing here: absolute paths
         * only.  The host checks that the account can enter it.
         */
        if (text.len && text.data[0] != '/') {
            return ngx_wsman_call_fault(call,
                                        NGX_WSMAN_FAULT_INVALID_PARAMETER,
                                        "The WorkingDirectory is not an "
                                        "absolute path.");
        }

        if (text.len) {
            ngx_wsman_shell_writer_add(&w, NGX_WSMAN_SHELL_F_CWD, text.data,
                                       text.len);
        }
    }

    node = ngx_wsman_shell_child(shell, "Environment");

    for (var = ngx_wsman_shell_child(node, "Variable");
         var;
         var = ngx_wsman_node_next(var, NGX_WSMAN_NS_SHELL, "Variable"))
    {
        rc = ngx_wsman_node_attr(call->pool, var, "Name", &name);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED || name.len == 0
            || ngx_strlchr(name.data, name.data + name.len, '='))
        {
            return ngx_wsman_call_fault(call,
                                        NGX_WSMAN_FAULT_INVALID_PARAMETER,
                                        "An environment variable has no "
                                        "valid Name.");
        }

        if (ngx_wsman_node_text(call->pool, var, &text) != NGX_OK) {
            return NGX_ERROR;
        }

        /* "NAME=value" */
        p = ngx_pnalloc(call->pool, name.len + 1 + text.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, name.data, name.len);
        p[name.len] = '=';
        ngx_memcpy(p + name.len + 1, text.data, text.len);

        ngx_wsman_shell_writer_add(&w, NGX_WSMAN_SHELL_F_ENV, p,
                                   name.len + 1 + text.len);
    }

    ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_MAX_SHELLS,
                                   lcf->shell_max_per_user);
    ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_MAX_USERS,
                                   lcf->shell_max_users);
    ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_MAX_PROCS,
                                   lcf->shell_max_processes);
    ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_MAX_MEMORY,
                                   lcf->shell_max_memory / (1024 * 1024));
    ngx_wsman_shell_writer_add_num(&w, NGX_WSMAN_SHELL_F_MAX_RUNTIME,
                                   lcf->shell_max_runtime);
    ngx_wsman_shell_writer_add(&w, NGX_WSMAN_SHELL_F_CLIENT_IP,
                               call->client_addr.data, call->client_addr.len);

    /* the host runs PAM's account and session stages for the account */
    if (lcf->shell_pam.len) {
        ngx_wsman_shell_writer_add(&w, NGX_WSMAN_SHELL_F_PAM_SERVICE,
                                   lcf->shell_pam.data, lcf->shell_pam.len);
    }

    ctx = ngx_pcalloc(call->pool, sizeof(ngx_wsman_shell_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->op = NGX_WSMAN_SHELL_CREATE;
    ctx->idle = (ngx_msec_t) msec;
    call->plugin_ctx = ctx;

    return ngx_wsman_shell_go(call, &w, NGX_WSMAN_SHELL_CREATE_TIMEOUT);
}


/* ------------------------------------------------------------ Delete */

static ngx_int_t
ngx_wsman_shell_delete(ngx_wsman_call_t *call)
{
    ngx_int_t                 rc;
    ngx_str_t                 shell;
    ngx_wsman_shell_ctx_t    *ctx;
    ngx_wsman_shell_writer_t  w;

    if (ngx_wsman_shell_selector(call, &shell) != NGX_OK) {
        return NGX_OK;
    }

    rc = ngx_wsman_shell_begin(call, &w, NGX_WSMAN_SHELL_DELETE, shell.len);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : NGX_ERROR;
    }

    ngx_wsman_shell_writer_add(&w, NGX_WSMAN_SHELL_F_SHELL, shell.data,
                               shell.len);

    ctx = ngx_pcalloc(call->pool, sizeof(ngx_wsman_shell_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->op = NGX_WSMAN_SHELL_DELETE;
    call->plugin_ctx = ctx;

    return ngx_wsman_shell_go(call, &w, NGX_WSMAN_SHELL_TIMEOUT);
}


/* ------------------------------------------- Command, Send, Receive, ... */

typedef struct {
    const char                *action;
    ngx_uint_t                 op;
} ngx_wsman_shell_action_t;


static ngx_wsman_shell_action_t  ngx_wsman_shell_actions[] = {
    { NGX_WSMAN_NS_SHELL "/Command", NGX_WSMAN_SHELL_COMMAND },
    { NGX_WSMAN_NS_SHELL "/Send", NGX_WSMAN_SHELL_SEND },
    { NGX_WSMAN_NS_SHELL "/Receive", NGX_WSMAN_SHELL_RECEIVE },
    { NGX_WSMAN_NS_SHELL "/Signal", NGX_WSMAN_SHELL_SIGNAL },
    { NULL, 0 }
};


static ngx_int_t
ngx_wsman_shell_invoke(ngx_wsman_call_t *call)
{
    size_t                    room;
    ngx_int_t                 rc;
    ngx_str_t                 shell, *action;
    ngx_uint_t                i;
    ngx_msec_t                timeout;
    ngx_wsman_shell_ctx_t    *ctx;
    ngx_wsman_shell_writer_t  w;

    action = &call->req->action;

    for (i = 0; ngx_wsman_shell_actions[i].action; i++) {
        if (action->len == ngx_strlen(ngx_wsman_shell_actions[i].action)
            && ngx_strncmp(action->data, ngx_wsman_shell_actions[i].action,
                           action->len) == 0)
        {
            break;
        }
    }

    if (ngx_wsman_shell_actions[i].action == NULL) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                    NULL);
    }

    if (ngx_wsman_shell_selector(call, &shell) != NGX_OK) {
        return NGX_OK;
    }

    ctx = ngx_pcalloc(call->pool, sizeof(ngx_wsman_shell_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->op = ngx_wsman_shell_actions[i].op;
    call->plugin_ctx = ctx;

    /*
     * Only Send (stdin, decoded from base64 in the envelope) and Command
     * (the command line) carry data of their own; Receive and Signal are
     * frequent and small, so they get no more than ids need.
     */
    room = shell.len;

    if (ctx->op == NGX_WSMAN_SHELL_SEND || ctx->op == NGX_WSMAN_SHELL_COMMAND)
    {
        room += call->conf->max_envelope_size;
    }

    rc = ngx_wsman_shell_begin(call, &w, (u_char) ctx->op, room);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : NGX_ERROR;
    }

    ngx_wsman_shell_writer_add(&w, NGX_WSMAN_SHELL_F_SHELL, shell.data,
                               shell.len);

    timeout = NGX_WSMAN_SHELL_TIMEOUT;

    switch (ctx->op) {

    case NGX_WSMAN_SHELL_COMMAND:
        rc = ngx_wsman_shell_command(call, &w);
        break;

    case NGX_WSMAN_SHELL_SEND:
        rc = ngx_wsman_shell_send(call, &w);
        break;

    case NGX_WSMAN_SHELL_RECEIVE:
        rc = ngx_wsman_shell_receive(call, &w, &timeout);
        break;

    default:
        rc = ngx_wsman_shell_signal(call, &w);
        break;
    }

    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : NGX_ERROR;
    }

    return ngx_wsman_shell_go(call, &w, timeout);
}


static ngx_int_t
ngx_wsman_shell_command(ngx_wsman_call_t *call, ngx_wsman_shell_writer_t *w)
{
    ngx_str_t          text;
    ngx_wsman_node_t  *line, *node;

    line = call->req->payload;
    node = ngx_wsman_shell_child(line, "Command");

    if (!ngx_wsman_node_is(line, NGX_WSMAN_NS_SHELL, "CommandLine")
        || node == NULL)
    {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_SCHEMA_VALIDATION,
                             "The body is not an rsp:CommandLine with an "
                             "rsp:Command.");
        return NGX_DECLINED;
    }

    if (ngx_wsman_node_text(call->pool, node, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    if (text.len == 0) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER,
                             "The command is empty.");
        return NGX_DECLINED;
    }

    ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_COMMAND, text.data,
                               text.len);

    /* pywinrm sends one Arguments, the Go client one per argument */
    for (node = ngx_wsman_shell_child(line, "Arguments");
         node;
         node = ngx_wsman_node_next(node, NGX_WSMAN_NS_SHELL, "Arguments"))
    {
        if (ngx_wsman_node_text(call->pool, node, &text) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_ARG, text.data,
                                   text.len);
    }

    ngx_wsman_shell_writer_add_str(w, NGX_WSMAN_SHELL_F_SKIP_SHELL,
                                   ngx_wsman_shell_option_true(call,
                                                "WINRS_SKIP_CMD_SHELL")
                                   ? "1" : "0");

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_shell_send(ngx_wsman_call_t *call, ngx_wsman_shell_writer_t *w)
{
    ngx_int_t          rc;
    ngx_str_t          id, end, text, data;
    ngx_wsman_node_t  *send, *stream;

    send = call->req->payload;
    stream = ngx_wsman_shell_child(send, "Stream");

    if (!ngx_wsman_node_is(send, NGX_WSMAN_NS_SHELL, "Send")
        || stream == NULL)
    {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_SCHEMA_VALIDATION,
                             "The body is not an rsp:Send with a Stream.");
        return NGX_DECLINED;
    }

    rc = ngx_wsman_shell_command_id(call, stream, &id);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_wsman_node_attr(call->pool, stream, "End", &end) == NGX_ERROR
        || ngx_wsman_node_text(call->pool, stream, &text) != NGX_OK)
    {
        return NGX_ERROR;
    }

    data.data = ngx_pnalloc(call->pool, ngx_base64_decoded_length(text.len));
    if (data.data == NULL) {
        return NGX_ERROR;
    }

    if (text.len && ngx_decode_base64(&data, &text) != NGX_OK) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER,
                             "The stream is not base64.");
        return NGX_DECLINED;
    }

    if (text.len == 0) {
        data.len = 0;
    }

    ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_COMMAND_ID, id.data,
                               id.len);
    ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_DATA, data.data,
                               data.len);

    /* a Send resent after its answer was lost must not add input twice */
    if (call->req->message_id.len) {
        ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_MESSAGE_ID,
                                   call->req->message_id.data,
                                   call->req->message_id.len);
    }

    ngx_wsman_shell_writer_add_str(w, NGX_WSMAN_SHELL_F_END,
                                   (end.len == 4
                                    && ngx_strncasecmp(end.data,
                                                       (u_char *) "true", 4)
                                       == 0)
                                   ? "1" : "0");

    return NGX_OK;
}


/*
 * Receive is a long poll: the host holds it until output exists or the
 * operation timeout is nearly over, and answers just before the client's
 * deadline (pywinrm and the Go client time out at OperationTimeout).
 */
static ngx_int_t
ngx_wsman_shell_receive(ngx_wsman_call_t *call, ngx_wsman_shell_writer_t *w,
    ngx_msec_t *timeout)
{
    size_t                   limit;
    uint64_t                 n;
    ngx_int_t                rc;
    ngx_str_t                seq;
    ngx_msec_t               wait;
    ngx_wsman_node_t        *recv, *desired;
    ngx_wsman_shell_ctx_t   *ctx;
    ngx_wsman_shell_field_t  f;

    ctx = call->plugin_ctx;

    recv = call->req->payload;
    desired = ngx_wsman_shell_child(recv, "DesiredStream");

    if (!ngx_wsman_node_is(recv, NGX_WSMAN_NS_SHELL, "Receive")
        || desired == NULL)
    {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_SCHEMA_VALIDATION,
                             "The body is not an rsp:Receive with a "
                             "DesiredStream.");
        return NGX_DECLINED;
    }

    rc = ngx_wsman_shell_command_id(call, desired, &ctx->command_id);
    if (rc != NGX_OK) {
        return rc;
    }

    /*
     * A client that numbers its Receives gets the same reply again for
     * the same number, so a reply lost with a worker or a connection is
     * not lost output (the shell host keeps the last one).
     */
    rc = ngx_wsman_node_attr(call->pool, recv, "SequenceId", &seq);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        f.data = seq.data;
        f.len = seq.len;

        if (ngx_wsman_shell_field_num(&f, &n) != NGX_OK) {
            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER,
                                 "The SequenceId is not a number.");
            return NGX_DECLINED;
        }

        ngx_wsman_shell_writer_add_num(w, NGX_WSMAN_SHELL_F_SEQUENCE, n);
    }

    wait = call->req->operation_timeout;
    wait -= ngx_min(1000, wait / 10);

    ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_COMMAND_ID,
                               ctx->command_id.data, ctx->command_id.len);
    ngx_wsman_shell_writer_add_num(w, NGX_WSMAN_SHELL_F_TIMEOUT_MS, wait);

    /* base64 grows data by 4/3; keep room for the envelope around it */
    limit = call->req->max_envelope_size ? call->req->max_envelope_size
                                         : call->conf->max_envelope_size;
    limit = limit > 4096 ? (limit - 4096) / 4 * 3 : 1024;

    ngx_wsman_shell_writer_add_num(w, NGX_WSMAN_SHELL_F_MAX_BYTES, limit);

    *timeout = wait + 5000;

    return NGX_OK;
}


typedef struct {
    const char                *suffix;
    const char                *signal;
} ngx_wsman_shell_signal_t;


/* MS-WSMV 2.2.5.6, and PowerShell's spelling too */
static ngx_wsman_shell_signal_t  ngx_wsman_shell_signals[] = {
    { "/windows/shell/signal/terminate", "terminate" },
    { "/windows/shell/signal/ctrl_c", "ctrl_c" },
    { "/windows/shell/signal/ctrl_break", "ctrl_break" },
    { "/powershell/signal/ctrl_c", "ctrl_c" },
    { "/powershell/signal/crtl_c", "ctrl_c" },
    { NULL, NULL }
};


static ngx_int_t
ngx_wsman_shell_signal(ngx_wsman_call_t *call, ngx_wsman_shell_writer_t *w)
{
    size_t             len;
    ngx_int_t          rc;
    ngx_str_t          id, code;
    ngx_uint_t         i;
    ngx_wsman_node_t  *sig, *node;

    sig = call->req->payload;
    node = ngx_wsman_shell_child(sig, "Code");

    if (!ngx_wsman_node_is(sig, NGX_WSMAN_NS_SHELL, "Signal") || node == NULL)
    {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_SCHEMA_VALIDATION,
                             "The body is not an rsp:Signal with a Code.");
        return NGX_DECLINED;
    }

    rc = ngx_wsman_shell_command_id(call, sig, &id);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_wsman_node_text(call->pool, node, &code) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; ngx_wsman_shell_signals[i].suffix; i++) {
        len = ngx_strlen(ngx_wsman_shell_signals[i].suffix);

        if (code.len >= len
            && ngx_strncasecmp(code.data + code.len - len,
                               (u_char *) ngx_wsman_shell_signals[i].suffix,
                               len) == 0)
        {
            break;
        }
    }

    if (ngx_wsman_shell_signals[i].suffix == NULL) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER,
                             "Unknown signal code.");
        return NGX_DECLINED;
    }

    ngx_wsman_shell_writer_add(w, NGX_WSMAN_SHELL_F_COMMAND_ID, id.data,
                               id.len);
    ngx_wsman_shell_writer_add_str(w, NGX_WSMAN_SHELL_F_SIGNAL,
                                   ngx_wsman_shell_signals[i].signal);

    return NGX_OK;
}


/* ------------------------------------------------------ the exchange */

static ngx_int_t
ngx_wsman_shell_go(ngx_wsman_call_t *call, ngx_wsman_shell_writer_t *w,
    ngx_msec_t timeout)
{
    size_t  len;

    len = ngx_wsman_shell_writer_finish(w);

    if (len == 0) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                    "The request is too large for the "
                                    "shell.");
    }

    if (ngx_wsman_shell_exchange(call, w->buf, len, timeout,
                                 ngx_wsman_shell_reply)
        != NGX_AGAIN)
    {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INTERNAL_ERROR,
                                    "The shell host is not available.");
    }

    return NGX_AGAIN;
}


typedef struct {
    ngx_uint_t                 status;
    ngx_str_t                  message;
    ngx_str_t                  shell;
    ngx_str_t                  command_id;
    ngx_str_t                  out;
    ngx_str_t                  err;
    ngx_uint_t                 done;
    uint64_t                   exit_code;
} ngx_wsman_shell_answer_t;


static ngx_int_t
ngx_wsman_shell_parse(u_char *reply, size_t len, u_char *type,
    ngx_wsman_shell_answer_t *a)
{
    uint64_t                  n;
    const u_char             *p, *end;
    ngx_wsman_shell_field_t   f;

    ngx_memzero(a, sizeof(ngx_wsman_shell_answer_t));
    a->status = NGX_WSMAN_SHELL_S_INTERNAL;

    if (ngx_wsman_shell_frame_parse(reply, len, type) != NGX_OK) {
        return NGX_ERROR;
    }

    p = reply + NGX_WSMAN_SHELL_HEAD_LEN;
    end = reply + len;

    for ( ;; ) {
        switch (ngx_wsman_shell_frame_next(&p, end, &f)) {
        case NGX_DONE:
            return NGX_OK;
        case NGX_ERROR:
            return NGX_ERROR;
        default:
            break;
        }

        n = 0;

        switch (f.tag) {
        case NGX_WSMAN_SHELL_F_STATUS:
            if (ngx_wsman_shell_field_num(&f, &n) != NGX_OK) {
                return NGX_ERROR;
            }
            a->status = (ngx_uint_t) n;
            break;
        case NGX_WSMAN_SHELL_F_MESSAGE:
            a->message.data = (u_char *) f.data;
            a->message.len = f.len;
            break;
        case NGX_WSMAN_SHELL_F_SHELL:
            a->shell.data = (u_char *) f.data;
            a->shell.len = f.len;
            break;
        case NGX_WSMAN_SHELL_F_COMMAND_ID:
            a->command_id.data = (u_char *) f.data;
            a->command_id.len = f.len;
            break;
        case NGX_WSMAN_SHELL_F_STDOUT:
            a->out.data = (u_char *) f.data;
            a->out.len = f.len;
            break;
        case NGX_WSMAN_SHELL_F_STDERR:
            a->err.data = (u_char *) f.data;
            a->err.len = f.len;
            break;
        case NGX_WSMAN_SHELL_F_DONE:
            a->done = (f.len == 1 && f.data[0] == '1');
            break;
        case NGX_WSMAN_SHELL_F_EXIT_CODE:
            if (ngx_wsman_shell_field_num(&f, &a->exit_code) != NGX_OK) {
                return NGX_ERROR;
            }
            break;
        default:
            break;
        }
    }
}


/* the host's refusal, as the fault Windows gives */
static void
ngx_wsman_shell_fault(ngx_wsman_call_t *call, ngx_wsman_shell_answer_t *a)
{
    u_char  *p;

    switch (a->status) {

    case NGX_WSMAN_SHELL_S_NO_SHELL:
    case NGX_WSMAN_SHELL_S_NO_COMMAND:
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                             a->status == NGX_WSMAN_SHELL_S_NO_SHELL
                             ? "The shell was not found on the server."
                             : "The command was not found in the shell.");
        ngx_str_set(&call->fault.detail,
                    NGX_WSMAN_FAULT_DETAIL "UnexpectedSelectors");
        return;

    case NGX_WSMAN_SHELL_S_QUOTA:
    case NGX_WSMAN_SHELL_S_BUSY:
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_QUOTA_LIMIT, NULL);
        break;

    case NGX_WSMAN_SHELL_S_NO_USER:
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED, NULL);
        break;

    case NGX_WSMAN_SHELL_S_TIMEOUT:
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_TIMED_OUT, NULL);
        return;

    case NGX_WSMAN_SHELL_S_BAD_REQUEST:
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER, NULL);
        break;

    default:
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INTERNAL_ERROR, NULL);
        break;
    }

    /* the host says why (a limit's name, a missing account) */
    if (a->message.len) {
        p = ngx_pnalloc(call->pool, a->message.len);
        if (p) {
            ngx_memcpy(p, a->message.data, a->message.len);
            call->fault.message.data = p;
            call->fault.message.len = a->message.len;
        }
    }
}


static void
ngx_wsman_shell_stream(ngx_wsman_call_t *call, const char *name,
    ngx_str_t *id, ngx_str_t *data, ngx_uint_t end)
{
    ngx_str_t         b64;
    ngx_wsman_xml_t  *x;

    x = &call->body;

    if (data->len) {
        b64.len = ngx_base64_encoded_length(data->len);
        b64.data = ngx_pnalloc(call->pool, b64.len);

        if (b64.data == NULL) {
            x->failed = 1;
            return;
        }

        ngx_encode_base64(&b64, data);

        ngx_wsman_xml_literal(x, "<rsp:Stream Name=\"");
        ngx_wsman_xml_raw(x, (u_char *) name, ngx_strlen(name));
        ngx_wsman_xml_literal(x, "\" CommandId=\"");
        ngx_wsman_xml_text_str(x, id);
        ngx_wsman_xml_literal(x, "\">");
        ngx_wsman_xml_str(x, &b64);
        ngx_wsman_xml_literal(x, "</rsp:Stream>");
    }

    if (end) {
        ngx_wsman_xml_literal(x, "<rsp:Stream Name=\"");
        ngx_wsman_xml_raw(x, (u_char *) name, ngx_strlen(name));
        ngx_wsman_xml_literal(x, "\" CommandId=\"");
        ngx_wsman_xml_text_str(x, id);
        ngx_wsman_xml_literal(x, "\" End=\"true\"></rsp:Stream>");
    }
}


static void
ngx_wsman_shell_answer(ngx_wsman_call_t *call, ngx_wsman_shell_answer_t *a)
{
    u_char                  buf[NGX_WSMAN_DURATION_LEN], *last;
    ngx_str_t               idle;
    ngx_wsman_xml_t        *x;
    ngx_wsman_shell_ctx_t  *ctx;

    ctx = call->plugin_ctx;
    x = &call->body;

    switch (ctx->op) {

    case NGX_WSMAN_SHELL_CREATE:
        ngx_str_set(&call->action, NGX_WSMAN_NS_WXF "/CreateResponse");

        last = ngx_wsman_duration_format(buf, ctx->idle);
        idle.data = buf;
        idle.len = last - buf;

        ngx_wsman_xml_literal(x, "<x:ResourceCreated><a:Address>");
        ngx_wsman_xml_literal(x, "http://");
        ngx_wsman_xml_text_str(x, &call->host);
        ngx_wsman_xml_literal(x, "/wsman</a:Address><a:ReferenceParameters>"
                              "<w:ResourceURI>" NGX_WSMAN_SHELL_URI
                              "</w:ResourceURI><w:SelectorSet>"
                              "<w:Selector Name=\"ShellId\">");
        ngx_wsman_xml_text_str(x, &a->shell);
        ngx_wsman_xml_literal(x, "</w:Selector></w:SelectorSet>"
                              "</a:ReferenceParameters></x:ResourceCreated>"
                              "<rsp:Shell xmlns:rsp=\"" NGX_WSMAN_NS_SHELL
                              "\"><rsp:ShellId>");
        ngx_wsman_xml_text_str(x, &a->shell);
        ngx_wsman_xml_literal(x, "</rsp:ShellId><rsp:ResourceUri>"
                              NGX_WSMAN_SHELL_URI "</rsp:ResourceUri>"
                              "<rsp:Owner>");
        ngx_wsman_xml_text_str(x, &call->identity->user);
        ngx_wsman_xml_literal(x, "</rsp:Owner><rsp:ClientIP>");
        ngx_wsman_xml_text_str(x, &call->client_addr);
        ngx_wsman_xml_literal(x, "</rsp:ClientIP><rsp:IdleTimeOut>");
        ngx_wsman_xml_str(x, &idle);
        ngx_wsman_xml_literal(x, "</rsp:IdleTimeOut>"
                              "<rsp:InputStreams>stdin</rsp:InputStreams>"
                              "<rsp:OutputStreams>stdout stderr"
                              "</rsp:OutputStreams>"
                              "<rsp:ShellRunTime>P0DT0H0M0S"
                              "</rsp:ShellRunTime>"
                              "<rsp:ShellInactivity>P0DT0H0M0S"
                              "</rsp:ShellInactivity></rsp:Shell>");
        return;

    case NGX_WSMAN_SHELL_DELETE:
        ngx_str_set(&call->action, NGX_WSMAN_NS_WXF "/DeleteResponse");
        return;

    case NGX_WSMAN_SHELL_COMMAND:
        ngx_str_set(&call->action, NGX_WSMAN_NS_SHELL "/CommandResponse");
        ngx_wsman_xml_literal(x, "<rsp:CommandResponse xmlns:rsp=\""
                              NGX_WSMAN_NS_SHELL "\"><rsp:CommandId>");
        ngx_wsman_xml_text_str(x, &a->command_id);
        ngx_wsman_xml_literal(x, "</rsp:CommandId></rsp:CommandResponse>");
        return;

    case NGX_WSMAN_SHELL_SEND:
        ngx_str_set(&call->action, NGX_WSMAN_NS_SHELL "/SendResponse");
        ngx_wsman_xml_literal(x, "<rsp:SendResponse xmlns:rsp=\""
                              NGX_WSMAN_NS_SHELL "\"/>");
        return;

    case NGX_WSMAN_SHELL_SIGNAL:
        ngx_str_set(&call->action, NGX_WSMAN_NS_SHELL "/SignalResponse");
        ngx_wsman_xml_literal(x, "<rsp:SignalResponse xmlns:rsp=\""
                              NGX_WSMAN_NS_SHELL "\"/>");
        return;

    default: /* NGX_WSMAN_SHELL_RECEIVE */
        ngx_str_set(&call->action, NGX_WSMAN_NS_SHELL "/ReceiveResponse");
        ngx_wsman_xml_literal(x, "<rsp:ReceiveResponse xmlns:rsp=\""
                              NGX_WSMAN_NS_SHELL "\">");
        /*
         * End="true" on both streams with the final state, as Windows
         * sends it: a stream that ended earlier is not marked twice and
         * clients see one place where everything ends.
         */
        ngx_wsman_shell_stream(call, "stdout", &ctx->command_id, &a->out,
                               a->done);
        ngx_wsman_shell_stream(call, "stderr", &ctx->command_id, &a->err,
                               a->done);
        ngx_wsman_xml_literal(x, "<rsp:CommandState CommandId=\"");
        ngx_wsman_xml_text_str(x, &ctx->command_id);

        if (a->done) {
            ngx_wsman_xml_literal(x, "\" State=\"" NGX_WSMAN_STATE_DONE
                                  "\"><rsp:ExitCode>");
            ngx_wsman_xml_uint(x, a->exit_code);
            ngx_wsman_xml_literal(x, "</rsp:ExitCode></rsp:CommandState>");

        } else {
            ngx_wsman_xml_literal(x, "\" State=\"" NGX_WSMAN_STATE_RUNNING
                                  "\"/>");
        }

        ngx_wsman_xml_literal(x, "</rsp:ReceiveResponse>");
        return;
    }
}


static void
ngx_wsman_shell_reply(ngx_wsman_call_t *call, ngx_int_t rc, u_char *reply,
    size_t len)
{
    u_char                    type;
    ngx_wsman_shell_answer_t  a;

    if (rc != NGX_OK
        || ngx_wsman_shell_parse(reply, len, &type, &a) != NGX_OK)
    {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INTERNAL_ERROR,
                             "The shell host did not answer.");
        ngx_wsman_call_finish(call, NGX_OK);
        return;
    }

    if (a.status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_shell_fault(call, &a);

    } else {
        ngx_wsman_shell_answer(call, &a);
    }

    ngx_wsman_call_finish(call, NGX_OK);
}


/* --------------------------------------------------------- services */

ngx_wsman_plugin_t  *ngx_wsman_shell_services[] = {
    &ngx_wsman_shell_plugin,
    NULL
};
