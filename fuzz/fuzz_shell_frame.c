/*
 * The shell host protocol (src/plugins/shell/ngx_wsman_shell_frame.c) on
 * bytes read from its Unix socket, by both ends:
 *
 *   - the shell host, which runs as root, on a request frame from a
 *     worker: the frame check, ngx_wsman_sh_req_read(), and what Create
 *     and Command build from the fields (the environment, argv);
 *
 *   - a worker on a reply frame from the host: ngx_wsman_shell_parse()
 *     and the s:Body or the fault the shell plug-in writes from it, which
 *     must be well-formed XML.
 *
 * And any frame that passes the check must be rebuilt byte for byte by
 * the writer the other end uses.
 *
 * The worker's parsers are static, so the plug-in is compiled into the
 * harness rather than linked; the host's pieces are linked (their shared
 * functions are declared in ngx_wsman_shell_host_int.h).  The few symbols
 * of nginx and of the rest of the module they reach are stubbed below.
 */

#include "fuzz.h"

#include <libxml/parser.h>

#include "../src/plugins/shell/host/ngx_wsman_shell_host_int.h"
#include "../src/plugins/shell/ngx_wsman_shell.c"
#include "ngx_wsman_soap.h"


/* stubs: nothing here runs the host's loop or a request's dispatch */

/* (ngx_cycle and ngx_http_module: t/unit/ngx_runtime.c) */
ngx_module_t           ngx_wsman_module;
ngx_module_t           ngx_wsman_shell_module;


void
ngx_setproctitle(char *title)
{
}


ngx_int_t
ngx_wsman_shell_exchange(ngx_wsman_call_t *call, u_char *frame,
    size_t len, ngx_msec_t timeout, ngx_wsman_shell_reply_pt handler)
{
    return NGX_ERROR;
}


size_t
ngx_wsman_shell_max_buffered(void)
{
    return NGX_WSMAN_SHELL_MAX_BUFFERED;
}


/* as in ngx_wsman_dispatch.c */
ngx_int_t
ngx_wsman_call_fault(ngx_wsman_call_t *call, ngx_wsman_fault_e id,
    const char *message)
{
    call->fault.id = id;

    if (message) {
        call->fault.message.data = (u_char *) message;
        call->fault.message.len = ngx_strlen(message);
    }

    return NGX_OK;
}


void
ngx_wsman_call_finish(ngx_wsman_call_t *call, ngx_int_t rc)
{
}


/* the account cache of src/auth/: no account is looked up here */
void *
ngx_wsman_call_conf(ngx_wsman_call_t *call, ngx_module_t *module)
{
    return NULL;
}


ngx_wsman_account_t *
ngx_wsman_account_get(ngx_log_t *log, ngx_str_t *name)
{
    return NULL;
}


/* the plug-in's owner SID: no request is built here */
ngx_int_t
ngx_wsman_identity_sids(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_identity_t *identity,
    ngx_array_t *sids)
{
    return NGX_ERROR;
}


static struct passwd  fuzz_pw;


static void fuzz_shell_silent(void *ctx, const char *msg, ...);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, fuzz_shell_silent);

    /* what ngx_wsman_sh_getpw() finds for an account with a home */
    fuzz_pw.pw_name = "alice";
    fuzz_pw.pw_dir = "/home/alice";
    fuzz_pw.pw_shell = "/bin/bash";
    fuzz_pw.pw_uid = 1000;
    fuzz_pw.pw_gid = 1000;

    return 0;
}


static void
fuzz_shell_silent(void *ctx, const char *msg, ...)
{
}


/* the writer rebuilds a checked frame exactly */
static void
fuzz_shell_rewrite(const u_char *frame, size_t len, u_char type)
{
    u_char                    *buf;
    const u_char              *p, *end;
    ngx_wsman_shell_field_t    f;
    ngx_wsman_shell_writer_t   w;

    buf = malloc(len);
    if (buf == NULL) {
        abort();
    }

    ngx_wsman_shell_writer_init(&w, buf, len, type);

    p = frame + NGX_WSMAN_SHELL_HEAD_LEN;
    end = frame + len;

    while (ngx_wsman_shell_frame_next(&p, end, &f) == NGX_OK) {
        fuzz_assert(f.data >= frame && f.data + f.len <= end);
        ngx_wsman_shell_writer_add(&w, f.tag, f.data, f.len);
    }

    fuzz_assert(p == end);
    fuzz_assert(ngx_wsman_shell_writer_finish(&w) == len);
    fuzz_assert(ngx_memcmp(buf, frame, len) == 0);

    free(buf);
}


/* the shell host on a request */
static void
fuzz_shell_host(const u_char *frame, size_t len)
{
    char                   **argv, **envp, **e;
    ngx_uint_t               n;
    ngx_wsman_sh_req_t       r;
    ngx_wsman_sh_shell_t    *sh;

    ngx_memzero(&r, sizeof(ngx_wsman_sh_req_t));
    r.frame = frame;
    r.frame_len = len;

    if (ngx_wsman_shell_frame_parse(frame, len, &r.type) != NGX_OK) {
        return;
    }

    fuzz_shell_rewrite(frame, len, r.type);

    if (ngx_wsman_sh_req_read(&r) != NGX_OK || r.user.len == 0) {
        return;
    }

    switch (r.type) {

    case NGX_WSMAN_SHELL_CREATE:
        sh = ngx_wsman_sh_shell_new(&r, &fuzz_pw);
        if (sh == NULL) {
            abort();
        }

        for (n = 0, e = sh->env; *e; e++, n++) {
            fuzz_assert(strchr(*e, '=') != NULL);
        }

        fuzz_assert(n == r.nenv);

        envp = ngx_wsman_sh_envp(sh);
        if (envp == NULL) {
            abort();
        }

        for (e = envp; *e; e++) {
            fuzz_assert(strchr(*e, '=') != NULL);
        }

        free(envp);
        ngx_wsman_sh_shell_free(sh);
        break;

    case NGX_WSMAN_SHELL_COMMAND:
        if (r.command.len == 0) {
            break;
        }

        argv = ngx_wsman_sh_argv(&r);
        if (argv == NULL) {
            abort();
        }

        for (n = 0; argv[n]; n++) {
            (void) strlen(argv[n]);
        }

        fuzz_assert(n == (r.skip_shell ? r.nargs + 1 : 3));

        free(argv);
        break;

    case NGX_WSMAN_SHELL_SIGNAL:
        (void) ngx_wsman_sh_field_is(&r.signal, "terminate");
        break;

    default:
        break;
    }
}


static void
fuzz_shell_check_xml(ngx_pool_t *pool, ngx_wsman_call_t *call)
{
    size_t            len;
    u_char           *text;
    xmlDocPtr         doc;
    ngx_chain_t      *cl;
    ngx_wsman_xml_t   x;

    ngx_wsman_xml_init(&x, pool, 4096);

    if (call->fault.id != NGX_WSMAN_FAULT_NONE) {
        ngx_wsman_fault_write(&x, &call->fault, NULL, NULL);

    } else {
        /* what ngx_wsman_response.c wraps the plug-in's body in; an empty
         * body is no chain */
        fuzz_assert(!ngx_wsman_xml_failed(&call->body));
        cl = ngx_wsman_xml_chain(&call->body);

        ngx_wsman_soap_write_head(&x, &call->action, NULL);
        ngx_wsman_xml_chain_append(&x, cl, call->body.length);
        ngx_wsman_soap_write_tail(&x);
    }

    cl = ngx_wsman_xml_chain(&x);
    fuzz_assert(cl != NULL);

    text = unit_chain_flatten(cl, &len);

    doc = xmlReadMemory((char *) text, (int) len, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR
                        | XML_PARSE_NOWARNING);

    if (doc == NULL) {
        fprintf(stderr, "response is not well-formed:\n%s\n", text);
        abort();
    }

    xmlFreeDoc(doc);
    free(text);
}


/* a worker on a reply, to the request whose type the reply names */
static void
fuzz_shell_worker(ngx_pool_t *pool, u_char *reply, size_t len)
{
    u_char                   type;
    ngx_wsman_call_t         call;
    ngx_wsman_identity_t     identity;
    ngx_wsman_shell_ctx_t    ctx;
    ngx_wsman_shell_answer_t a;

    if (ngx_wsman_shell_parse(reply, len, &type, &a) == NGX_OK) {
        fuzz_assert(a.out.len == 0
                    || (a.out.data >= reply
                        && a.out.data + a.out.len <= reply + len));
        fuzz_assert(a.err.len == 0
                    || (a.err.data >= reply
                        && a.err.data + a.err.len <= reply + len));
    }

    ngx_memzero(&ctx, sizeof(ngx_wsman_shell_ctx_t));
    ctx.op = (len > 4 && reply[4] >= NGX_WSMAN_SHELL_CREATE
              && reply[4] <= NGX_WSMAN_SHELL_DELETE)
             ? reply[4] : NGX_WSMAN_SHELL_RECEIVE;
    ngx_str_set(&ctx.command_id, "2F5A2E43-9A5B-4C1D-8E3B-5D0F3F1A7B21");
    ctx.idle = 180000;

    ngx_memzero(&identity, sizeof(ngx_wsman_identity_t));
    ngx_str_set(&identity.user, "alice");

    ngx_memzero(&call, sizeof(ngx_wsman_call_t));
    call.pool = pool;
    call.log = &unit_log;
    call.identity = &identity;
    call.plugin_ctx = &ctx;
    ngx_str_set(&call.client_addr, "192.0.2.1");
    ngx_str_set(&call.host, "server.example:5985");
    ngx_wsman_xml_init(&call.body, pool, 4096);

    ngx_wsman_shell_reply(&call, NGX_OK, reply, len);

    fuzz_shell_check_xml(pool, &call);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_str_t    frame;
    ngx_pool_t  *pool;

    pool = fuzz_pool();

    fuzz_str(pool, data, size, &frame);

    fuzz_shell_host(frame.data, frame.len);
    fuzz_shell_worker(pool, frame.data, frame.len);

    ngx_destroy_pool(pool);

    return 0;
}
