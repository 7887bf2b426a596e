/*
 * ngx_wsman: nginx glue.  Directives, configuration, variables and the
 * content handler that carries a request through auth, soap and dispatch
 * (src/) and sends the answer back.  Protocol logic lives in src/.
 */

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>

#include "ngx_wsman_http.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_auth.h"
#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_gss.h"
#include "ngx_wsman_listener.h"
#include "ngx_wsman_registry.h"
#include "ngx_wsman_identity.h"
#include "ngx_wsman_log.h"
#include "ngx_wsman_mime.h"
#include "ngx_wsman_shell_client.h"
#include "ngx_wsman_shell_host.h"
#include "ngx_wsman_soap.h"


#define NGX_WSMAN_CONTENT_TYPE   "application/soap+xml;charset=UTF-8"
#define NGX_WSMAN_CONTENT_TYPE_CHARSET   "application/soap+xml;charset="


/*
 * The most an unauthenticated client may send: an Identify envelope is a
 * few hundred bytes, and nobody vouches for the sender.
 */
#define NGX_WSMAN_ANONYMOUS_MAX  8192


/* room for the multipart/encrypted framing around a sealed envelope */
#define NGX_WSMAN_SEAL_OVERHEAD  1024

/*
 * nginx's own defaults for the body buffer and limit (ngx_http_core_module):
 * after the core merge these mean "the user set none"
 */
#define NGX_WSMAN_CORE_BODY_BUFFER  (2 * ngx_pagesize)
#define NGX_WSMAN_CORE_MAX_BODY     (1024 * 1024)


/* per-request state, also what the $wsman_* variables read */
typedef struct {
    ngx_wsman_auth_t           auth;
    ngx_wsman_request_t        req;
    ngx_wsman_call_t           call;
    ngx_str_t                  action;
    ngx_str_t                  resource_uri;
    ngx_str_t                  fault;
    ngx_str_t                  protocol;       /* sealed: echo it back */
    ngx_wsman_conn_t          *sealed;         /* context that sealed it */
    ngx_str_t                  charset;        /* answer's, if not UTF-8 */
    ngx_wsman_soap_encoding_e  encoding;       /* answer's */
    unsigned                   anonymous:1;
    unsigned                   charset_given:1;
} ngx_wsman_ctx_t;


static ngx_int_t ngx_wsman_handler(ngx_http_request_t *r);
static void ngx_wsman_auth_done(ngx_http_request_t *r, ngx_wsman_auth_t *auth,
    ngx_int_t rc);
static ngx_int_t ngx_wsman_authenticated(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx, ngx_int_t rc);
static ngx_int_t ngx_wsman_check_request(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx);
static void ngx_wsman_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_unseal(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_wsman_seal(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_chain_t **out, off_t *length);
static ngx_int_t ngx_wsman_process(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx);
static ngx_int_t ngx_wsman_is_anonymous_identify(ngx_http_request_t *r);
static void ngx_wsman_anonymous_too_large(ngx_http_request_t *r);
static void ngx_wsman_set_charset(ngx_wsman_ctx_t *ctx, ngx_str_t *type);
static ngx_int_t ngx_wsman_content_type_ok(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_unsupported_type(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_is_encrypted(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_read_body(ngx_http_request_t *r, ngx_str_t *body);
static void ngx_wsman_call_init(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx);
static void ngx_wsman_call_done(ngx_wsman_call_t *call, ngx_int_t rc);
static void ngx_wsman_call_cleanup(void *data);
static ngx_int_t ngx_wsman_send_fault(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx, ngx_wsman_fault_e id, const char *message);
static ngx_int_t ngx_wsman_send_response(ngx_http_request_t *r,
    ngx_wsman_ctx_t *ctx);
static ngx_int_t ngx_wsman_send_empty(ngx_http_request_t *r);
static ngx_int_t ngx_wsman_send_chain(ngx_http_request_t *r,
    ngx_uint_t status, ngx_chain_t *out, off_t length);

static ngx_int_t ngx_wsman_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_wsman_user_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_wsman_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_wsman_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_wsman_check_run_as(ngx_conf_t *cf,
    ngx_wsman_loc_conf_t *conf);
static void ngx_wsman_close_channels(void *data);
static ngx_int_t ngx_wsman_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_wsman_init_process(ngx_cycle_t *cycle);
static void ngx_wsman_init_channels(ngx_cycle_t *cycle);

static void *ngx_wsman_create_loc_conf(ngx_conf_t *cf);
static char *ngx_wsman_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_wsman(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_wsman_auth_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_wsman_user_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_wsman_conf_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf, ngx_str_t **file);
static char *ngx_wsman_keytab(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_wsman_pam(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_wsman_root_sddl(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_wsman_resource_sddl(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_wsman_group_sid(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_wsman_sddl_t *ngx_wsman_parse_sddl(ngx_conf_t *cf,
    ngx_str_t *text, const char *directive);
static void *ngx_wsman_create_main_conf(ngx_conf_t *cf);
static char *ngx_wsman_check_batch(ngx_conf_t *cf, void *post, void *data);
static char *ngx_wsman_check_zone(ngx_conf_t *cf, void *post, void *data);
static char *ngx_wsman_check_size(ngx_conf_t *cf, void *post, void *data);
static char *ngx_wsman_check_msec(ngx_conf_t *cf, void *post, void *data);


static ngx_conf_enum_t  ngx_wsman_cbt_levels[] = {
    { ngx_string("relaxed"), 0 },
    { ngx_string("strict"), 1 },
    { ngx_null_string, 0 }
};


static ngx_conf_post_t  ngx_wsman_batch_post = { ngx_wsman_check_batch };
static ngx_conf_post_t  ngx_wsman_zone_post = { ngx_wsman_check_zone };
static ngx_conf_post_t  ngx_wsman_size_post = { ngx_wsman_check_size };
static ngx_conf_post_t  ngx_wsman_msec_post = { ngx_wsman_check_msec };


static ngx_command_t  ngx_wsman_commands[] = {

    { ngx_string("wsman"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_wsman,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsman_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_wsman_auth_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsman_user_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_wsman_user_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, user_file),
      NULL },

    { ngx_string("wsman_allow_unencrypted"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, allow_unencrypted),
      NULL },

    { ngx_string("wsman_max_envelope_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, max_envelope_size),
      &ngx_wsman_size_post },

    { ngx_string("wsman_max_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, max_timeout),
      &ngx_wsman_msec_post },

    { ngx_string("wsman_max_batch_items"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, max_batch_items),
      &ngx_wsman_batch_post },

    { ngx_string("wsman_enumeration_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, enumeration_timeout),
      &ngx_wsman_msec_post },

    { ngx_string("wsman_root_sddl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_wsman_root_sddl,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsman_resource_sddl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_wsman_resource_sddl,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsman_group_sid"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_wsman_group_sid,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsman_enumeration_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_wsman_main_conf_t, enum_zone_size),
      &ngx_wsman_zone_post },

    { ngx_string("wsman_shell"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell),
      NULL },

    { ngx_string("wsman_shell_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell_idle_timeout),
      &ngx_wsman_msec_post },

    { ngx_string("wsman_shell_max_per_user"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell_max_per_user),
      NULL },

    { ngx_string("wsman_shell_max_users"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell_max_users),
      NULL },

    { ngx_string("wsman_shell_max_processes"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell_max_processes),
      NULL },

    { ngx_string("wsman_shell_max_memory"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell_max_memory),
      NULL },

    { ngx_string("wsman_shell_max_runtime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell_max_runtime),
      NULL },

    { ngx_string("wsman_shell_pam"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell_pam),
      NULL },

    { ngx_string("wsman_shell_max_buffered"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_wsman_main_conf_t, shell_max_buffered),
      &ngx_wsman_zone_post },

    { ngx_string("wsman_shell_run_as"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell_run_as),
      NULL },

    { ngx_string("wsman_shell_allow_root"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, shell_allow_root),
      NULL },

    { ngx_string("wsman_keytab"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_wsman_keytab,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, keytab),
      NULL },

    { ngx_string("wsman_negotiate_ntlm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, negotiate_ntlm),
      NULL },

    { ngx_string("wsman_pam"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_wsman_pam,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, pam_service),
      NULL },

    { ngx_string("wsman_cbt_hardening"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, cbt_strict),
      &ngx_wsman_cbt_levels },

    { ngx_string("wsman_cert_map"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_wsman_cert_map_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_wsman_module_ctx = {
    ngx_wsman_add_variables,               /* preconfiguration */
    ngx_wsman_postconfiguration,           /* postconfiguration */

    ngx_wsman_create_main_conf,            /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_wsman_create_loc_conf,             /* create location configuration */
    ngx_wsman_merge_loc_conf               /* merge location configuration */
};


ngx_module_t  ngx_wsman_module = {
    NGX_MODULE_V1,
    &ngx_wsman_module_ctx,                 /* module context */
    ngx_wsman_commands,                    /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_wsman_init_module,                 /* init module */
    ngx_wsman_init_process,                /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_wsman_vars[] = {

    { ngx_string("wsman_action"), NULL, ngx_wsman_variable,
      offsetof(ngx_wsman_ctx_t, action), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsman_resource_uri"), NULL, ngx_wsman_variable,
      offsetof(ngx_wsman_ctx_t, resource_uri), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsman_fault"), NULL, ngx_wsman_variable,
      offsetof(ngx_wsman_ctx_t, fault), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsman_user"), NULL, ngx_wsman_user_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_wsman_handler(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_table_elt_t       *h;
    ngx_wsman_ctx_t       *ctx;
    ngx_wsman_conn_t      *conn;
    ngx_wsman_loc_conf_t  *lcf;

    if (!(r->method & NGX_HTTP_POST)) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        ngx_str_set(&h->value, "POST");

        return NGX_HTTP_NOT_ALLOWED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_wsman_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_wsman_module);

    /* the only request served without credentials; checked after parsing */
    ctx->anonymous = ngx_wsman_is_anonymous_identify(r);

    if (ctx->anonymous) {
        return ngx_wsman_check_request(r, ctx);
    }

    /* sealed with a context this connection never had (Windows: 400) */
    if (r->headers_in.authorization == NULL && ngx_wsman_is_encrypted(r)) {
        conn = ngx_wsman_conn(r->connection, 0);

        if (conn == NULL || !conn->established) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "wsman: encrypted request from %V without a "
                          "security context on the connection",
                          &r->connection->addr_text);
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    ctx->auth.done = ngx_wsman_auth_done;

    rc = ngx_wsman_authenticate(r, lcf, &ctx->auth);

    if (rc == NGX_AGAIN) {
        /* PAM is working in a thread; ngx_wsman_auth_done() goes on */
        r->main->count++;
        return NGX_DONE;
    }

    return ngx_wsman_authenticated(r, ctx, rc);
}


static void
ngx_wsman_auth_done(ngx_http_request_t *r, ngx_wsman_auth_t *auth,
    ngx_int_t rc)
{
    ngx_wsman_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    rc = ngx_wsman_authenticated(r, ctx, rc);

    /* NGX_DONE here also releases the reference taken for the thread */
    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_wsman_authenticated(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_int_t rc)
{
    ngx_wsman_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman auth: rc:%i user:\"%V\" anonymous:%ui", rc,
                   ngx_wsman_log_escape(r->pool, &ctx->auth.identity.user),
                   (ngx_uint_t) ctx->anonymous);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* PAM's thread pool is full: try again later */
    if (rc == NGX_BUSY) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (rc != NGX_OK) {
        return ngx_wsman_auth_challenge(r, lcf, &ctx->auth);
    }

    /* Kerberos mutual authentication: our AP-REP rides on the answer */
    if (ngx_wsman_auth_mutual(r, &ctx->auth) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_wsman_check_request(r, ctx);
}


/* media type, sealing and size: everything known before the body */
static ngx_int_t
ngx_wsman_check_request(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx)
{
    off_t                  limit;
    ngx_int_t              rc;
    ngx_str_t              boundary;
    ngx_wsman_conn_t      *conn;
    ngx_wsman_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);
    limit = lcf->max_envelope_size;

    rc = NGX_DECLINED;

    if (r->headers_in.content_type) {
        rc = ngx_wsman_mime_content_type(&r->headers_in.content_type->value,
                                         &ctx->protocol, &boundary);
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: unusable multipart/encrypted Content-Type "
                      "from %V", &r->connection->addr_text);
        return NGX_HTTP_BAD_REQUEST;
    }

    if (rc == NGX_OK) {
        /* sealed with a context this connection does not have */
        conn = ngx_wsman_conn(r->connection, 0);

        if (ctx->anonymous || conn == NULL || !conn->established
            || !ctx->auth.connection)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "wsman: encrypted request from %V without a "
                          "security context on the connection",
                          &r->connection->addr_text);
            return NGX_HTTP_BAD_REQUEST;
        }

        ctx->sealed = conn;
        limit += NGX_WSMAN_SEAL_OVERHEAD;

    } else {
        ngx_str_null(&ctx->protocol);

        if (r->headers_in.content_type) {
            ngx_wsman_set_charset(ctx, &r->headers_in.content_type->value);
        }

        /* chunked bodies are checked once read: an empty one needs no type */
        if (r->headers_in.content_length_n > 0
            && !ngx_wsman_content_type_ok(r))
        {
            return ngx_wsman_unsupported_type(r);
        }

        /* AllowUnencrypted=false: a Negotiate/Kerberos session over plain
         * HTTP must seal its messages */
        if (ctx->auth.connection && !lcf->allow_unencrypted
            && !ngx_wsman_connection_is_tls(r->connection)
            && (r->headers_in.content_length_n > 0
                || r->headers_in.chunked))
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "wsman: unencrypted request from user \"%V\" at "
                          "%V refused (wsman_allow_unencrypted off)",
                          ngx_wsman_log_escape(r->pool,
                                               &ctx->auth.identity.user),
                          &r->connection->addr_text);
            return ngx_wsman_auth_challenge(r, lcf, NULL);
        }
    }

    if (ctx->anonymous && limit > NGX_WSMAN_ANONYMOUS_MAX) {
        limit = NGX_WSMAN_ANONYMOUS_MAX;
    }

    /* refuse what is known to be too large before reading any of it */
    if (r->headers_in.content_length_n > limit) {
        if (ctx->anonymous) {
            ngx_wsman_anonymous_too_large(r);
        }

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        ctx->sealed = NULL;

        return ngx_wsman_send_fault(r, ctx, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                    "The request is larger than "
                                    "MaxEnvelopeSizekb.");
    }

    rc = ngx_http_read_client_request_body(r, ngx_wsman_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_wsman_body_handler(ngx_http_request_t *r)
{
    ngx_wsman_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    ngx_http_finalize_request(r, ngx_wsman_process(r, ctx));
}


static ngx_int_t
ngx_wsman_process(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_http_cleanup_t       *cln;
    ngx_str_t                 body;
    ngx_wsman_fault_t         fault;
    ngx_wsman_loc_conf_t     *lcf;
    ngx_wsman_soap_limits_t   limits;

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    rc = ngx_wsman_read_body(r, &body);

    if (rc == NGX_DECLINED) {
        /* never unwrapped: a sealed fault would put the session's
         * sequence numbers out of step */
        ctx->sealed = NULL;
    }

    if (rc == NGX_OK && ctx->sealed && body.len) {
        rc = ngx_wsman_unseal(r, ctx, &body);

        if (rc == NGX_DECLINED) {
            /* a broken seal: nothing can be answered sealed either */
            ctx->sealed = NULL;
            return NGX_HTTP_BAD_REQUEST;
        }

        if (rc == NGX_DONE) {
            /* a good seal around too much: the fault below goes back
             * sealed, which keeps the session's sequence in step */
            rc = NGX_DECLINED;
        }
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        if (ctx->anonymous) {
            ngx_wsman_anonymous_too_large(r);
        }

        return ngx_wsman_send_fault(r, ctx, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                    "The request is larger than "
                                    "MaxEnvelopeSizekb.");
    }

    if (body.len && ctx->sealed == NULL && !ngx_wsman_content_type_ok(r)) {
        return ngx_wsman_unsupported_type(r);
    }

    /* no charset named: a UTF-16 byte order mark speaks for the client */
    if (!ctx->charset_given && body.len >= 2) {
        if (body.data[0] == 0xff && body.data[1] == 0xfe) {
            ctx->encoding = NGX_WSMAN_SOAP_UTF16LE;
            ngx_str_set(&ctx->charset, "UTF-16");

        } else if (body.data[0] == 0xfe && body.data[1] == 0xff) {
            ctx->encoding = NGX_WSMAN_SOAP_UTF16BE;
            ngx_str_set(&ctx->charset, "UTF-16BE");
        }
    }

    /* clients finish authentication with an empty POST (pywinrm, pypsrp) */
    if (body.len == 0) {
        if (ctx->anonymous) {
            return ngx_wsman_auth_challenge(r, lcf, NULL);
        }

        return ngx_wsman_send_empty(r);
    }

    limits.max_depth = NGX_WSMAN_SOAP_MAX_DEPTH;
    limits.max_timeout = lcf->max_timeout;

    rc = ngx_wsman_soap_parse(r->pool, r->connection->log, body.data,
                              body.len, &limits, &ctx->req, &fault);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman parse: rc:%i %uz bytes action:\"%V\" "
                   "resource:\"%V\"", rc, body.len,
                   ngx_wsman_log_escape(r->pool, &ctx->req.action),
                   ngx_wsman_log_escape(r->pool, &ctx->req.resource_uri));

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->anonymous && (rc != NGX_OK || !ctx->req.identify)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: unauthenticated request from %V is not an "
                      "Identify", &r->connection->addr_text);
        return ngx_wsman_auth_challenge(r, lcf, NULL);
    }

    ctx->action = ctx->req.action;
    ctx->resource_uri = ctx->req.resource_uri;

    /*
     * Answers are built and measured in UTF-8; w:MaxEnvelopeSize counts
     * what the client gets.  UTF-16 takes at most twice the bytes (ASCII
     * exactly twice), and the BOM two more.
     */
    if (ctx->encoding != NGX_WSMAN_SOAP_UTF8
        && ctx->req.max_envelope_size > 2)
    {
        ctx->req.max_envelope_size = (ctx->req.max_envelope_size - 2) / 2;
    }

    ngx_wsman_call_init(r, ctx);

    if (rc == NGX_DECLINED) {
        ctx->call.fault = fault;
        return ngx_wsman_send_response(r, ctx);
    }

    rc = ngx_wsman_dispatch(&ctx->call);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman dispatch: rc:%i", rc);

    if (rc == NGX_AGAIN) {
        /*
         * The plug-in answers later through ngx_wsman_call_done(); this
         * reference keeps the request until then (finalizing with
         * NGX_DONE below drops the one body reading took).
         */
        r->main->count++;

        /* a client that leaves a long poll ends the wait (and its hold on
         * the output) at once */
        cln = ngx_http_cleanup_add(r, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_wsman_call_cleanup;
        cln->data = &ctx->call;

        r->read_event_handler = ngx_http_test_reading;

        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        ngx_wsman_call_fault(&ctx->call, NGX_WSMAN_FAULT_INTERNAL_ERROR,
                             NULL);
    }

    return ngx_wsman_send_response(r, ctx);
}


static ngx_int_t
ngx_wsman_is_anonymous_identify(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("WSMANIDENTIFY") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "WSMANIDENTIFY",
                               h[i].key.len) == 0)
        {
            return h[i].value.len == sizeof("unauthenticated") - 1
                   && ngx_strncasecmp(h[i].value.data,
                                      (u_char *) "unauthenticated",
                                      h[i].value.len) == 0;
        }
    }
}


static void
ngx_wsman_anonymous_too_large(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: unauthenticated request from %V is larger than "
                  "%d bytes", &r->connection->addr_text,
                  NGX_WSMAN_ANONYMOUS_MAX);
}


/*
 * The answer goes back in the request's encoding, as Windows does it:
 * openwsman's `wsman -j UTF-16` and Windows Event Forwarding sources send
 * charset=UTF-16 and read the answer so.  Anything else is answered in
 * UTF-8.
 */
static void
ngx_wsman_set_charset(ngx_wsman_ctx_t *ctx, ngx_str_t *type)
{
    ngx_str_t  charset;

    if (ngx_wsman_mime_charset(type, &charset) != NGX_OK) {
        return;
    }

    ctx->charset_given = 1;

    if ((charset.len == sizeof("UTF-16") - 1
         && ngx_strncasecmp(charset.data, (u_char *) "UTF-16", charset.len)
            == 0)
        || (charset.len == sizeof("UTF-16LE") - 1
            && ngx_strncasecmp(charset.data, (u_char *) "UTF-16LE",
                               charset.len) == 0))
    {
        ctx->encoding = NGX_WSMAN_SOAP_UTF16LE;
        ctx->charset.data = (charset.len == sizeof("UTF-16") - 1)
                            ? (u_char *) "UTF-16" : (u_char *) "UTF-16LE";
        ctx->charset.len = charset.len;
        return;
    }

    if (charset.len == sizeof("UTF-16BE") - 1
        && ngx_strncasecmp(charset.data, (u_char *) "UTF-16BE", charset.len)
           == 0)
    {
        ctx->encoding = NGX_WSMAN_SOAP_UTF16BE;
        ngx_str_set(&ctx->charset, "UTF-16BE");
        return;
    }

    ctx->encoding = NGX_WSMAN_SOAP_UTF8;
    ngx_str_null(&ctx->charset);
}


static ngx_int_t
ngx_wsman_is_encrypted(ngx_http_request_t *r)
{
    ngx_str_t  protocol, boundary;

    return r->headers_in.content_type
           && ngx_wsman_mime_content_type(&r->headers_in.content_type->value,
                                          &protocol, &boundary)
              == NGX_OK;
}


static ngx_int_t
ngx_wsman_unsupported_type(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: unsupported Content-Type from %V",
                  &r->connection->addr_text);

    return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
}


/* application/soap+xml (any parameters) or text/xml */
static ngx_int_t
ngx_wsman_content_type_ok(ngx_http_request_t *r)
{
    size_t      len;
    ngx_str_t  *type;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    type = &r->headers_in.content_type->value;

    len = sizeof("application/soap+xml") - 1;

    if (type->len >= len
        && ngx_strncasecmp(type->data, (u_char *) "application/soap+xml",
                           len) == 0
        && (type->len == len || type->data[len] == ';'
            || type->data[len] == ' '))
    {
        return 1;
    }

    len = sizeof("text/xml") - 1;

    return type->len >= len
           && ngx_strncasecmp(type->data, (u_char *) "text/xml", len) == 0
           && (type->len == len || type->data[len] == ';'
               || type->data[len] == ' ');
}


static ngx_int_t
ngx_wsman_is_sealed(ngx_http_request_t *r)
{
    ngx_wsman_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    return ctx != NULL && ctx->sealed != NULL;
}


/*
 * The body as one piece of memory, wherever nginx kept it (memory or a
 * temporary file).  NGX_DECLINED: larger than wsman_max_envelope_size
 * (chunked bodies learn their size only here).
 */
static ngx_int_t
ngx_wsman_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t                  len, limit;
    u_char                *p;
    ssize_t                n;
    ngx_buf_t             *b;
    ngx_chain_t           *cl;
    ngx_wsman_ctx_t       *ctx;
    ngx_wsman_loc_conf_t  *lcf;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    limit = (off_t) lcf->max_envelope_size
            + (ngx_wsman_is_sealed(r) ? NGX_WSMAN_SEAL_OVERHEAD : 0);

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    if (ctx && ctx->anonymous && limit > NGX_WSMAN_ANONYMOUS_MAX) {
        limit = NGX_WSMAN_ANONYMOUS_MAX;
    }

    if (len > limit) {
        return NGX_DECLINED;
    }

    b = r->request_body->bufs->buf;

    if (r->request_body->bufs->next == NULL && !b->in_file) {
        body->data = b->pos;
        body->len = (size_t) len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        /* chunked bodies end with an empty buffer that has no memory */
        if (ngx_buf_size(b) == 0) {
            continue;
        }

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "wsman: could not read the request body from "
                          "\"%V\"", &b->file->name);
            return NGX_ERROR;
        }

        p += n;
    }

    body->len = p - body->data;

    return NGX_OK;
}


static void
ngx_wsman_call_init(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx)
{
    ngx_wsman_call_t  *call;

    call = &ctx->call;

    call->pool = r->pool;
    call->log = r->connection->log;
    call->req = &ctx->req;
    call->identity = &ctx->auth.identity;
    call->conf = ngx_http_get_module_loc_conf(r, ngx_wsman_module);
    call->loc_conf = r->loc_conf;
    call->client_addr = r->connection->addr_text;
    call->tls = ngx_wsman_connection_is_tls(r->connection) ? 1 : 0;
    call->anonymous = ctx->anonymous;
    call->done = ngx_wsman_call_done;
    call->data = r;

    if (r->headers_in.host) {
        call->host = r->headers_in.host->value;
    }

    ngx_wsman_xml_init(&call->body, r->pool, 4096);
}


static void
ngx_wsman_call_cleanup(void *data)
{
    ngx_wsman_call_t  *call = data;

    if (call->abort) {
        call->abort(call);
        call->abort = NULL;
    }
}


static void
ngx_wsman_call_done(ngx_wsman_call_t *call, ngx_int_t rc)
{
    ngx_http_request_t  *r;
    ngx_wsman_ctx_t     *ctx;

    r = call->data;
    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    if (rc != NGX_OK) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INTERNAL_ERROR, NULL);
    }

    ngx_http_finalize_request(r, ngx_wsman_send_response(r, ctx));
}


/* a fault raised by the glue itself, before any plug-in ran */
static ngx_int_t
ngx_wsman_send_fault(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx,
    ngx_wsman_fault_e id, const char *message)
{
    ngx_wsman_call_init(r, ctx);
    ngx_wsman_call_fault(&ctx->call, id, message);

    return ngx_wsman_send_response(r, ctx);
}


static ngx_int_t
ngx_wsman_send_response(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx)
{
    ngx_chain_t                  *out;
    ngx_wsman_xml_t               x;
    ngx_wsman_call_t             *call;
    const ngx_wsman_fault_def_t  *def;

    call = &ctx->call;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman response: fault:%ui body:%O bytes action:\"%V\"",
                   (ngx_uint_t) call->fault.id, call->body.length,
                   &call->action);

    if (ngx_wsman_xml_failed(&call->body)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_wsman_xml_init(&x, r->pool, 1024);

    if (call->fault.id == NGX_WSMAN_FAULT_NONE) {
        ngx_wsman_soap_write_head_extra(&x, &call->action,
                                        &ctx->req.message_id, &call->header);
        ngx_wsman_xml_chain_append(&x, ngx_wsman_xml_chain(&call->body),
                                   call->body.length);
        ngx_wsman_soap_write_tail(&x);

        /* the client's w:MaxEnvelopeSize bounds what we may send back */
        if (ctx->req.max_envelope_size == 0
            || x.length <= (off_t) ctx->req.max_envelope_size)
        {
            out = ngx_wsman_xml_chain(&x);
            if (out == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_wsman_send_chain(r, NGX_HTTP_OK, out, x.length);
        }

        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                             "The response would exceed the request's "
                             "w:MaxEnvelopeSize.");
        ngx_wsman_xml_init(&x, r->pool, 1024);
    }

    def = ngx_wsman_fault_def(call->fault.id);

    ctx->fault.data = (u_char *) def->name;
    ctx->fault.len = ngx_strlen(def->name);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: fault %V for action \"%V\" resource \"%V\" "
                  "user \"%V\" from %V%s%V",
                  &ctx->fault, ngx_wsman_log_escape(r->pool, &ctx->action),
                  ngx_wsman_log_escape(r->pool, &ctx->resource_uri),
                  ngx_wsman_log_escape(r->pool, &ctx->auth.identity.user),
                  &r->connection->addr_text,
                  call->fault.message.len ? ": " : "",
                  ngx_wsman_log_escape(r->pool, &call->fault.message));

    ngx_wsman_fault_write(&x, &call->fault, &ctx->req.message_id, NULL);

    out = ngx_wsman_xml_chain(&x);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_wsman_send_chain(r, def->status, out, x.length);
}


static ngx_int_t
ngx_wsman_send_chain(ngx_http_request_t *r, ngx_uint_t status,
    ngx_chain_t *out, off_t length)
{
    u_char           *p;
    ngx_int_t         rc;
    ngx_chain_t      *cl;
    ngx_wsman_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    ngx_str_set(&r->headers_out.content_type, NGX_WSMAN_CONTENT_TYPE);

    if (ctx && ctx->encoding != NGX_WSMAN_SOAP_UTF8) {
        out = ngx_wsman_xml_utf16(r->pool, out, &length,
                                  ctx->encoding == NGX_WSMAN_SOAP_UTF16BE);
        if (out == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "wsman: the answer could not be encoded as %V",
                          &ctx->charset);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_pnalloc(r->pool, sizeof(NGX_WSMAN_CONTENT_TYPE_CHARSET) - 1
                                 + ctx->charset.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.content_type.data = p;
        p = ngx_cpymem(p, NGX_WSMAN_CONTENT_TYPE_CHARSET,
                       sizeof(NGX_WSMAN_CONTENT_TYPE_CHARSET) - 1);
        p = ngx_cpymem(p, ctx->charset.data, ctx->charset.len);
        r->headers_out.content_type.len = p - r->headers_out.content_type.data;
    }

    /* a sealed request gets a sealed answer, faults included */
    if (ctx && ctx->sealed) {
        if (ngx_wsman_seal(r, ctx, &out, &length) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    for (cl = out; cl->next; cl = cl->next) { /* void */ }

    cl->buf->last_buf = (r == r->main) ? 1 : 0;
    cl->buf->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = length;
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


static ngx_int_t
ngx_wsman_send_empty(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}


/*
 * MS-WSMV 2.2.9.1: multipart/encrypted in, plaintext SOAP out.  NGX_DONE:
 * the seal verified but the envelope is over wsman_max_envelope_size.
 */
static ngx_int_t
ngx_wsman_unseal(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx, ngx_str_t *body)
{
    ngx_int_t               rc;
    ngx_str_t               boundary, protocol, plain;
    const char             *error;
    ngx_wsman_mime_part_t   part;

    if (ngx_wsman_mime_content_type(&r->headers_in.content_type->value,
                                    &protocol, &boundary)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    error = NULL;

    if (ngx_wsman_mime_unframe(body, &protocol, &boundary, &part, &error)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: malformed encrypted body from %V: %s",
                      &r->connection->addr_text, error ? error : "unknown");
        return NGX_DECLINED;
    }

    ngx_wsman_set_charset(ctx, &part.type);

    rc = ngx_wsman_gss_unwrap(ctx->sealed, r->pool, r->connection->log,
                              &part.header, &part.payload, &plain);
    if (rc != NGX_OK) {
        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "wsman: encrypted body from %V does not verify",
                          &r->connection->addr_text);
        }
        return rc;
    }

    /* pywinrm and pypsrp check this too: it catches a cut message */
    if (plain.len != part.length) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: encrypted body from %V: Length=%uz but %uz "
                      "bytes decrypted", &r->connection->addr_text,
                      part.length, plain.len);
        return NGX_DECLINED;
    }

    /* the framing allowance let it in; the envelope itself is too large */
    if (plain.len > ngx_wsman_get_loc_conf(r)->max_envelope_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: encrypted envelope from %V has %uz bytes, "
                      "more than wsman_max_envelope_size",
                      &r->connection->addr_text, plain.len);
        ngx_str_null(body);
        return NGX_DONE;
    }

    *body = plain;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_seal(ngx_http_request_t *r, ngx_wsman_ctx_t *ctx, ngx_chain_t **out,
    off_t *length)
{
    u_char       *p;
    size_t        len;
    ngx_buf_t    *b;
    ngx_str_t     plain, header, payload, boundary, charset;
    ngx_chain_t  *cl;

    /* flatten: the GSS seal works on one buffer */
    plain.len = (size_t) *length;
    plain.data = ngx_pnalloc(r->pool, plain.len);
    if (plain.data == NULL) {
        return NGX_ERROR;
    }

    p = plain.data;
    for (cl = *out; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    if (ngx_wsman_gss_wrap(ctx->sealed, r->pool, r->connection->log, &plain,
                           &header, &payload)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&boundary, NGX_WSMAN_MIME_BOUNDARY);

    if (ctx->charset.len) {
        charset = ctx->charset;

    } else {
        ngx_str_set(&charset, "UTF-8");
    }

    len = ngx_wsman_mime_frame_len_charset(&ctx->protocol, &boundary,
                                           &charset, plain.len, header.len,
                                           payload.len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_wsman_mime_frame_charset(b->pos, &ctx->protocol,
                                           &boundary, &charset, plain.len,
                                           &header, &payload);

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    *out = cl;
    *length = b->last - b->pos;

    len = ngx_wsman_mime_content_type_len(&ctx->protocol);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    r->headers_out.content_type.data = p;
    r->headers_out.content_type.len =
                     ngx_wsman_mime_write_content_type(p, &ctx->protocol) - p;

    return NGX_OK;
}


ngx_wsman_loc_conf_t *
ngx_wsman_get_loc_conf(ngx_http_request_t *r)
{
    return ngx_http_get_module_loc_conf(r, ngx_wsman_module);
}


ngx_int_t
ngx_wsman_connection_is_tls(ngx_connection_t *c)
{
#if (NGX_HTTP_SSL)
    return c->ssl != NULL;
#else
    return 0;
#endif
}


static ngx_int_t
ngx_wsman_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t        *s;
    ngx_wsman_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((u_char *) ctx + data);

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_user_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    return ngx_wsman_variable(r, v, offsetof(ngx_wsman_ctx_t, auth)
                                    + offsetof(ngx_wsman_auth_t, identity)
                                    + offsetof(ngx_wsman_identity_t, user));
}


static ngx_int_t
ngx_wsman_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_wsman_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * After every server and location is known: the listener list, and the
 * shared zone for enumeration contexts (only when something serves
 * WS-Management).
 */
static ngx_int_t
ngx_wsman_postconfiguration(ngx_conf_t *cf)
{
    ngx_wsman_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_wsman_module);

    if (mcf->locations.nelts == 0) {
        return NGX_OK;
    }

    if (ngx_wsman_listeners_discover(cf, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mcf->enum_zone_size == NGX_CONF_UNSET_SIZE) {
        mcf->enum_zone_size = NGX_WSMAN_ENUM_ZONE_SIZE;
    }

    return ngx_wsman_enum_zone_add(cf, mcf->enum_zone_size, &mcf->enum_zone);
}


/*
 * The account that runs commands for users without one of their own may
 * not be the workers' (a command could then trace the workers and act as
 * them) nor root unless the location allows root.  The workers' account
 * is the "user" directive's, or nginx's default one when the master runs
 * as root; a "user" after the http block is caught per request instead.
 */
static ngx_int_t
ngx_wsman_check_run_as(ngx_conf_t *cf, ngx_wsman_loc_conf_t *conf)
{
    uid_t             worker, uid;
    u_char           *name;
    struct passwd    *pw;
    ngx_core_conf_t  *ccf;

    if (conf->shell_run_as.len == 0) {
        return NGX_OK;
    }

    name = ngx_pnalloc(cf->temp_pool, conf->shell_run_as.len + 1);
    if (name == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(name, conf->shell_run_as.data,
                       conf->shell_run_as.len + 1);

    pw = getpwnam((char *) name);
    if (pw == NULL) {
        /* the host answers w:AccessDenied for an account that is not */
        return NGX_OK;
    }

    uid = pw->pw_uid;

    if (uid == 0 && !conf->shell_allow_root) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsman_shell_run_as %V\" runs commands as root "
                           "but \"wsman_shell_allow_root\" is off",
                           &conf->shell_run_as);
        return NGX_ERROR;
    }

    if (geteuid() != 0) {
        worker = geteuid();

    } else {
        ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                               ngx_core_module);

        if (ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
            worker = ccf->user;

        } else {
            pw = getpwnam(NGX_USER);
            if (pw == NULL) {
                return NGX_OK;
            }

            worker = pw->pw_uid;
        }
    }

    if (worker != 0 && worker == uid) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsman_shell_run_as %V\" names the account "
                           "nginx workers run as; commands must run as "
                           "another account", &conf->shell_run_as);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * In the master, at start and at every reload: the shell host.  It is
 * spawned once and outlives reloads (shells keep running); it ends when
 * nginx ends.  Neither "nginx -t" nor "nginx -s" starts one.  Each cycle
 * gets its own channels to it, one per worker slot, made here before the
 * workers fork; they close with the cycle's pool.
 */
static ngx_int_t
ngx_wsman_init_module(ngx_cycle_t *cycle)
{
    int                    *fds;
    uid_t                   uid;
    ngx_uint_t              i, n;
    ngx_core_conf_t        *ccf;
    ngx_pool_cleanup_t     *cln;
    ngx_wsman_main_conf_t  *mcf;

    ngx_wsman_soap_init();

    if (ngx_test_config || ngx_process == NGX_PROCESS_SIGNALLER) {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_wsman_module);

    if (mcf == NULL || !mcf->shells) {
        return NGX_OK;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    uid = (ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT && geteuid() == 0)
          ? ccf->user : geteuid();

    if (ngx_wsman_shell_host_spawn(cycle->log, uid) == NGX_INVALID_PID) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "wsman: could not start the shell host; remote "
                      "shells will fail");
        return NGX_OK;
    }

    /* without a master the single process is the only "worker" */
    n = (ccf->master && ccf->worker_processes > 0)
        ? (ngx_uint_t) ccf->worker_processes : 1;

    fds = ngx_palloc(cycle->pool, n * sizeof(int));
    if (fds == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        fds[i] = -1;
    }

    mcf->shell_channels = fds;
    mcf->nshell_channels = n;
    cln->handler = ngx_wsman_close_channels;
    cln->data = mcf;

    if (ngx_wsman_shell_host_channels(cycle->log, fds, n) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "wsman: no channels to the shell host; remote shells "
                      "will fail");
    }

    /* "master_process off": this process serves requests, also after a
     * reload (init_process does not run again then) */
    if (!ccf->master) {
        ngx_wsman_shell_client_init(fds[0]);
    }

    return NGX_OK;
}


static void
ngx_wsman_close_channels(void *data)
{
    ngx_wsman_main_conf_t  *mcf = data;

    ngx_uint_t  i;

    for (i = 0; i < mcf->nshell_channels; i++) {
        if (mcf->shell_channels[i] != -1) {
            (void) close(mcf->shell_channels[i]);
            mcf->shell_channels[i] = -1;
        }
    }
}


/*
 * A process forked from the master keeps no way to the host but its own
 * slot's channel: helpers (cache manager, loader) none, a worker the one
 * of its ngx_worker number (a respawned worker inherits the same one).
 */
static void
ngx_wsman_init_channels(ngx_cycle_t *cycle)
{
    int                     fd;
    ngx_uint_t              i;
    ngx_wsman_main_conf_t  *mcf;

    /* "master_process off": this process makes the channels at reloads */
    if (ngx_process != NGX_PROCESS_SINGLE) {
        ngx_wsman_shell_host_forget();
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_wsman_module);

    if (mcf == NULL || mcf->shell_channels == NULL) {
        return;
    }

    fd = -1;

    for (i = 0; i < mcf->nshell_channels; i++) {
        if ((ngx_process == NGX_PROCESS_WORKER && i == ngx_worker)
            || (ngx_process == NGX_PROCESS_SINGLE && i == 0))
        {
            fd = mcf->shell_channels[i];
            continue;
        }

        if (mcf->shell_channels[i] != -1) {
            (void) close(mcf->shell_channels[i]);
            mcf->shell_channels[i] = -1;
        }
    }

    ngx_wsman_shell_client_init(fd);

    if (ngx_process != NGX_PROCESS_WORKER || fd == -1 || geteuid() == 0) {
        return;
    }

    /*
     * nginx makes workers dumpable after setuid() (for core files); then
     * any process of the workers' user may ptrace a worker or take its
     * descriptors with pidfd_getfd(), the channel among them.  A worker
     * that can reach the host must not be open to that.
     */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                      "wsman: prctl(PR_SET_DUMPABLE, 0) failed");
    }
}


/*
 * Workers inherit the master's SIGCHLD handler, which reaps every child
 * with waitpid(-1).  PAM modules fork (pam_exec, unix_chkpwd for non-root
 * workers) and wait for their own children; a worker reaping them first
 * makes PAM fail with "System error".  Workers spawn nothing of their own,
 * so they leave children to whoever started them.
 */
static ngx_int_t
ngx_wsman_init_process(ngx_cycle_t *cycle)
{
    struct sigaction        sa;
    ngx_wsman_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_wsman_module);
    ngx_wsman_registry_use(mcf ? mcf->plugins : NULL);

    ngx_wsman_init_channels(cycle);

    if (ngx_process != NGX_PROCESS_WORKER) {
        return NGX_OK;
    }

    ngx_memzero(&sa, sizeof(struct sigaction));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);

    if (sigaction(SIGCHLD, &sa, NULL) == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                      "wsman: sigaction(SIGCHLD) failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void *
ngx_wsman_create_loc_conf(ngx_conf_t *cf)
{
    ngx_wsman_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->user_file = { 0, NULL };
     *     conf->root_sddl = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->auth = NGX_CONF_UNSET_UINT;
    conf->allow_unencrypted = NGX_CONF_UNSET;
    conf->max_envelope_size = NGX_CONF_UNSET_SIZE;
    conf->max_timeout = NGX_CONF_UNSET_MSEC;
    conf->max_batch_items = NGX_CONF_UNSET_UINT;
    conf->enumeration_timeout = NGX_CONF_UNSET_MSEC;
    conf->cbt_strict = NGX_CONF_UNSET_UINT;
    conf->negotiate_ntlm = NGX_CONF_UNSET;
    conf->shell = NGX_CONF_UNSET;
    conf->shell_idle_timeout = NGX_CONF_UNSET_MSEC;
    conf->shell_max_per_user = NGX_CONF_UNSET_UINT;
    conf->shell_max_users = NGX_CONF_UNSET_UINT;
    conf->shell_max_processes = NGX_CONF_UNSET_UINT;
    conf->shell_max_memory = NGX_CONF_UNSET_SIZE;
    conf->shell_max_runtime = NGX_CONF_UNSET_MSEC;
    conf->shell_allow_root = NGX_CONF_UNSET;
    conf->cert_maps = NGX_CONF_UNSET_PTR;
    conf->group_sids = NGX_CONF_UNSET_PTR;
    conf->resource_sddls = NGX_CONF_UNSET_PTR;
    conf->root_sd = NGX_CONF_UNSET_PTR;
    conf->thread_pool = NGX_CONF_UNSET_PTR;
    conf->auth_thread_pool = NGX_CONF_UNSET_PTR;

    return conf;
}


static void *
ngx_wsman_create_main_conf(ngx_conf_t *cf)
{
    ngx_wsman_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->machine_sid = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_sid_t));
    if (mcf->machine_sid == NULL) {
        return NULL;
    }

    if (ngx_array_init(&mcf->locations, cf->pool, 2,
                       sizeof(ngx_wsman_location_t))
        != NGX_OK)
    {
        return NULL;
    }

    mcf->enum_zone_size = NGX_CONF_UNSET_SIZE;
    mcf->shell_max_buffered = NGX_CONF_UNSET_SIZE;

    if (ngx_wsman_registry_init(cf, &mcf->plugins) != NGX_OK) {
        return NULL;
    }

    if (ngx_wsman_machine_sid(cf, mcf->machine_sid) != NGX_OK) {
        return NULL;
    }

    return mcf;
}


static char *
ngx_wsman_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_wsman_loc_conf_t  *prev = parent;
    ngx_wsman_loc_conf_t  *conf = child;

    ngx_str_t                  pool;
    ngx_wsman_main_conf_t     *mcf;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_uint_value(conf->auth, prev->auth,
                              NGX_WSMAN_AUTH_NEGOTIATE
                              |NGX_WSMAN_AUTH_KERBEROS);
    ngx_conf_merge_str_value(conf->user_file, prev->user_file, "");
    ngx_conf_merge_value(conf->allow_unencrypted, prev->allow_unencrypted,
                         0);
    ngx_conf_merge_size_value(conf->max_envelope_size,
                              prev->max_envelope_size, 500 * 1024);
    ngx_conf_merge_msec_value(conf->max_timeout, prev->max_timeout, 60000);
    ngx_conf_merge_uint_value(conf->max_batch_items, prev->max_batch_items,
                              32000);
    ngx_conf_merge_msec_value(conf->enumeration_timeout,
                              prev->enumeration_timeout, 60000);
    ngx_conf_merge_str_value(conf->root_sddl, prev->root_sddl,
                             NGX_WSMAN_DEFAULT_ROOT_SDDL);
    ngx_conf_merge_str_value(conf->keytab, prev->keytab, "");
    ngx_conf_merge_str_value(conf->pam_service, prev->pam_service, "");
    ngx_conf_merge_uint_value(conf->cbt_strict, prev->cbt_strict, 0);
    ngx_conf_merge_value(conf->negotiate_ntlm, prev->negotiate_ntlm, 1);
    ngx_conf_merge_ptr_value(conf->cert_maps, prev->cert_maps, NULL);
    ngx_conf_merge_ptr_value(conf->group_sids, prev->group_sids, NULL);
    ngx_conf_merge_ptr_value(conf->resource_sddls, prev->resource_sddls,
                             NULL);
    ngx_conf_merge_ptr_value(conf->thread_pool, prev->thread_pool, NULL);
    ngx_conf_merge_ptr_value(conf->auth_thread_pool, prev->auth_thread_pool,
                             NULL);

    /*
     * Windows' Winrs defaults: shells allowed, 2 h idle, MaxShellsPerUser
     * 30, MaxProcessesPerShell 25, MaxMemoryPerShellMB 1024, no other
     * limit (0 here means unlimited): the root shell host's memory and
     * processes stay bounded unless an administrator says otherwise
     */
    ngx_conf_merge_value(conf->shell, prev->shell, 1);
    ngx_conf_merge_msec_value(conf->shell_idle_timeout,
                              prev->shell_idle_timeout, 7200000);
    ngx_conf_merge_uint_value(conf->shell_max_per_user,
                              prev->shell_max_per_user, 30);
    ngx_conf_merge_uint_value(conf->shell_max_users, prev->shell_max_users,
                              0);
    ngx_conf_merge_uint_value(conf->shell_max_processes,
                              prev->shell_max_processes, 25);
    ngx_conf_merge_size_value(conf->shell_max_memory,
                              prev->shell_max_memory, 1024 * 1024 * 1024);
    ngx_conf_merge_msec_value(conf->shell_max_runtime,
                              prev->shell_max_runtime, 0);
    ngx_conf_merge_str_value(conf->shell_run_as, prev->shell_run_as, "");
    ngx_conf_merge_value(conf->shell_allow_root, prev->shell_allow_root, 0);
    ngx_conf_merge_str_value(conf->shell_pam, prev->shell_pam, "");

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_wsman_module);
    conf->machine_sid = mcf->machine_sid;

    if (conf->root_sd == NGX_CONF_UNSET_PTR) {
        if (prev->root_sd != NGX_CONF_UNSET_PTR) {
            conf->root_sd = prev->root_sd;

        } else {
            conf->root_sd = ngx_wsman_parse_sddl(cf, &conf->root_sddl,
                                                 "wsman_root_sddl");
            if (conf->root_sd == NULL) {
                return NGX_CONF_ERROR;
            }

            /* parsed once, shared by the locations below */
            prev->root_sd = conf->root_sd;
        }
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    /* account look-ups of every scheme go to the wsman_auth pool too */
    if (conf->auth_thread_pool == NULL) {
        ngx_str_null(&pool);
        conf->auth_thread_pool = ngx_wsman_thread_pool(cf, &pool,
                                                       "wsman_auth",
                                                       "threads=4",
                                                       "max_queue=256");
        if (conf->auth_thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (conf->shell) {
        mcf->shells = 1;

        if (ngx_wsman_check_run_as(cf, conf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if ((conf->auth & NGX_WSMAN_AUTH_BASIC) && conf->user_file.len == 0
        && conf->pam_service.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsman_auth basic\" needs \"wsman_user_file\" "
                           "or \"wsman_pam\"");
        return NGX_CONF_ERROR;
    }

    if ((conf->auth & NGX_WSMAN_AUTH_CERTIFICATE) && conf->cert_maps == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsman_auth certificate\" needs "
                           "\"wsman_cert_map\"");
        return NGX_CONF_ERROR;
    }

    /*
     * Core locations are merged before ours, so a value the user did not
     * set holds nginx's default here (the only way to tell it apart).
     * Defaults are raised to fit envelopes; values the user wrote stay,
     * with a warning at "nginx -t" when they cannot hold one.
     */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /*
     * Keep envelopes in memory: WinRM clients routinely send 200-500k
     * (Ansible's stdin chunks), and spilling each to a temporary file
     * costs disk I/O and a log line.
     */
    if (clcf->client_body_buffer_size < conf->max_envelope_size) {

        if (clcf->client_body_buffer_size
            == (size_t) NGX_WSMAN_CORE_BODY_BUFFER)
        {
            clcf->client_body_buffer_size = conf->max_envelope_size;

        } else {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"client_body_buffer_size\" %uz is below "
                               "\"wsman_max_envelope_size\" %uz: larger "
                               "envelopes are buffered to temporary files",
                               clcf->client_body_buffer_size,
                               conf->max_envelope_size);
        }
    }

    /*
     * nginx answers 413 for bodies above client_max_body_size before our
     * handler runs.  By default leave room above the envelope limit, so
     * that clients over it get the w:EncodingLimit fault (after
     * authentication), while the amount nginx reads stays bounded.
     */
    if (clcf->client_max_body_size != 0
        && clcf->client_max_body_size < 2 * (off_t) conf->max_envelope_size)
    {
        if (clcf->client_max_body_size == NGX_WSMAN_CORE_MAX_BODY) {
            clcf->client_max_body_size = 2 * (off_t) conf->max_envelope_size;

        } else if (clcf->client_max_body_size
                   < (off_t) conf->max_envelope_size)
        {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"client_max_body_size\" %O cannot hold "
                               "\"wsman_max_envelope_size\" %uz: larger "
                               "envelopes are refused with 413",
                               clcf->client_max_body_size,
                               conf->max_envelope_size);
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_wsman(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_loc_conf_t  *wlcf = conf;

    ngx_wsman_location_t      *loc;
    ngx_wsman_main_conf_t     *mcf;
    ngx_http_core_loc_conf_t  *clcf;

    if (wlcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    wlcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_wsman_handler;

    /* winrm/config/Listener lists these servers' listen sockets */
    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_wsman_module);

    loc = ngx_array_push(&mcf->locations);
    if (loc == NULL) {
        return NGX_CONF_ERROR;
    }

    loc->server = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    loc->name = clcf->name;

    return NGX_CONF_OK;
}


static char *
ngx_wsman_auth_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_loc_conf_t  *wlcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, scheme;

    if (wlcf->auth != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    wlcf->auth = 0;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_wsman_auth_scheme_parse(&value[i], &scheme) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown scheme \"%V\" in \"wsman_auth\": "
                               "use basic, negotiate, kerberos or "
                               "certificate", &value[i]);
            return NGX_CONF_ERROR;
        }

        wlcf->auth |= scheme;
    }

    return NGX_CONF_OK;
}


/*
 * A path directive: relative to the configuration's directory, as
 * auth_basic_user_file is, and NUL-terminated for the libraries that
 * open it.
 */
static char *
ngx_wsman_conf_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf,
    ngx_str_t **file)
{
    char  *rv;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    *file = (ngx_str_t *) ((u_char *) conf + cmd->offset);

    if (ngx_conf_full_name(cf->cycle, *file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* wsman_user_file FILE [thread_pool=NAME] */
static char *
ngx_wsman_user_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_loc_conf_t  *wlcf = conf;

    char       *rv;
    ngx_str_t  *file, *value, pool;

    value = cf->args->elts;
    ngx_str_null(&pool);

    if (cf->args->nelts == 3) {
        if (value[2].len <= sizeof("thread_pool=") - 1
            || ngx_strncmp(value[2].data, "thread_pool=",
                           sizeof("thread_pool=") - 1) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"wsman_user_file\" parameter "
                               "\"%V\" (thread_pool=NAME expected)",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        pool.data = value[2].data + sizeof("thread_pool=") - 1;
        pool.len = value[2].len - (sizeof("thread_pool=") - 1);
    }

    rv = ngx_wsman_conf_path(cf, cmd, conf, &file);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /*
     * Hash checks cost milliseconds to seconds of CPU each (SHA-512
     * crypt, yescrypt) and a client chooses how many to ask for with
     * wrong passwords: they run in a thread pool, never on the event
     * loop, and a pool of their own keeps them from starving PAM or
     * IPMI.
     */
    wlcf->auth_thread_pool = ngx_wsman_thread_pool(cf, &pool, "wsman_auth",
                                                   "threads=4",
                                                   "max_queue=256");
    if (wlcf->auth_thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return ngx_wsman_basic_check_file(cf, file);
}


static ngx_wsman_sddl_t *
ngx_wsman_parse_sddl(ngx_conf_t *cf, ngx_str_t *text, const char *directive)
{
    ngx_str_t               error;
    ngx_wsman_sddl_t       *sd;
    ngx_wsman_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_wsman_module);

    switch (ngx_wsman_sddl_parse_domain(cf->pool, text, mcf->machine_sid,
                                        &sd, &error))
    {
    case NGX_OK:
        return sd;

    case NGX_DECLINED:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid SDDL in \"%s\": %V", directive, &error);
        return NULL;

    default:
        return NULL;
    }
}


static char *
ngx_wsman_root_sddl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_loc_conf_t  *wlcf = conf;

    ngx_str_t  *value;

    if (wlcf->root_sd != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    wlcf->root_sddl = value[1];
    wlcf->root_sd = ngx_wsman_parse_sddl(cf, &value[1], "wsman_root_sddl");

    return wlcf->root_sd ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static char *
ngx_wsman_resource_sddl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_loc_conf_t  *wlcf = conf;

    ngx_str_t                  *value;
    ngx_wsman_resource_sddl_t  *rs;

    if (wlcf->resource_sddls == NGX_CONF_UNSET_PTR) {
        wlcf->resource_sddls = ngx_array_create(cf->pool, 4,
                                          sizeof(ngx_wsman_resource_sddl_t));
        if (wlcf->resource_sddls == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a resource URI prefix";
    }

    rs = ngx_array_push(wlcf->resource_sddls);
    if (rs == NULL) {
        return NGX_CONF_ERROR;
    }

    rs->prefix = value[1];
    rs->text = value[2];
    rs->sd = ngx_wsman_parse_sddl(cf, &value[2], "wsman_resource_sddl");

    /* a typo here would leave the class it meant under RootSDDL */
    if (!ngx_wsman_dispatch_serves(&value[1])) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_resource_sddl \"%V\": no resource is "
                           "served under this URI", &value[1]);
    }

    return rs->sd ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static char *
ngx_wsman_group_sid(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_loc_conf_t  *wlcf = conf;

    u_char                  name[256];
    ngx_str_t              *value;
    struct group           *gr;
    ngx_wsman_group_sid_t  *g;
    ngx_wsman_main_conf_t  *mcf;

    if (wlcf->group_sids == NGX_CONF_UNSET_PTR) {
        wlcf->group_sids = ngx_array_create(cf->pool, 4,
                                            sizeof(ngx_wsman_group_sid_t));
        if (wlcf->group_sids == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;
    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_wsman_module);

    if (value[1].len == 0 || value[1].len >= sizeof(name)
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, ',')
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, ':'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid group name \"%V\" in "
                           "\"wsman_group_sid\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    g = ngx_array_push(wlcf->group_sids);
    if (g == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(g, sizeof(ngx_wsman_group_sid_t));
    g->group = value[1];

    if (ngx_wsman_sid_parse_domain(value[2].data, value[2].len,
                                   mcf->machine_sid, &g->sid)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid SID \"%V\" in \"wsman_group_sid\": use "
                           "an alias such as BA, RM, ER or S-1-...",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    /* a Unix group of that name too: resolved once, here */
    ngx_cpystrn(name, value[1].data, value[1].len + 1);

    gr = getgrnam((char *) name);
    if (gr) {
        g->gid = gr->gr_gid;
        g->unix_group = 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_wsman_keytab(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    ngx_str_t  *file;

    rv = ngx_wsman_conf_path(cf, cmd, conf, &file);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (ngx_file_info(file->data, &(ngx_file_info_t) { 0 }) == NGX_FILE_ERROR)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "wsman_keytab \"%V\" cannot be read", file);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* wsman_pam SERVICE [thread_pool=NAME] */
static char *
ngx_wsman_pam(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_loc_conf_t  *wlcf = conf;

    ngx_str_t  *value, pool;

    if (wlcf->pam_service.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a PAM service name";
    }

    wlcf->pam_service = value[1];
    ngx_str_null(&pool);

    if (cf->args->nelts == 3) {
        if (value[2].len <= sizeof("thread_pool=") - 1
            || ngx_strncmp(value[2].data, "thread_pool=",
                           sizeof("thread_pool=") - 1) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"wsman_pam\" parameter \"%V\" "
                               "(thread_pool=NAME expected)", &value[2]);
            return NGX_CONF_ERROR;
        }

        pool.data = value[2].data + sizeof("thread_pool=") - 1;
        pool.len = value[2].len - (sizeof("thread_pool=") - 1);
    }

    /*
     * PAM stacks block (and pam_faildelay sleeps on every failure), so
     * they run in a thread pool of their own: failing logins can fill it,
     * but never the pool the IPMI plug-in or anything else uses.
     */
    wlcf->thread_pool = ngx_wsman_thread_pool(cf, &pool, "wsman_pam",
                                              "threads=8", "max_queue=64");
    if (wlcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


extern ngx_module_t  ngx_thread_pool_module;


/*
 * The thread pool for a blocking library (PAM, libfreeipmi).  A NAME the
 * administrator gave must be declared with nginx's "thread_pool"
 * directive: nginx itself refuses the configuration with "unknown thread
 * pool" otherwise, as for "aio threads=NAME".  Without one, the pool
 * dflt is used, declared here with threads and max_queue as if
 * nginx.conf said "thread_pool dflt threads=.. max_queue=..;" (unless it
 * does say so, before the http block).
 */
ngx_thread_pool_t *
ngx_wsman_thread_pool(ngx_conf_t *cf, ngx_str_t *name, const char *dflt,
    const char *threads, const char *max_queue)
{
    char               *rv;
    ngx_str_t          *v, def;
    ngx_array_t        *saved, args;
    ngx_command_t      *cmd;
    ngx_thread_pool_t  *tp;

    if (name->len) {
        return ngx_thread_pool_add(cf, name);
    }

    def.data = (u_char *) dflt;
    def.len = ngx_strlen(dflt);

    tp = ngx_thread_pool_get(cf->cycle, &def);
    if (tp) {
        return tp;
    }

    cmd = ngx_thread_pool_module.commands;

    if (cmd == NULL
        || cmd->name.len != sizeof("thread_pool") - 1
        || ngx_strncmp(cmd->name.data, "thread_pool", cmd->name.len) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "this nginx has no \"thread_pool\" directive");
        return NULL;
    }

    if (ngx_array_init(&args, cf->temp_pool, 4, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NULL;
    }

    v = ngx_array_push_n(&args, 4);
    if (v == NULL) {
        return NULL;
    }

    ngx_str_set(&v[0], "thread_pool");
    v[1] = def;
    v[2].data = (u_char *) threads;
    v[2].len = ngx_strlen(threads);
    v[3].data = (u_char *) max_queue;
    v[3].len = ngx_strlen(max_queue);

    saved = cf->args;
    cf->args = &args;

    rv = cmd->set(cf, cmd, ngx_get_conf(cf->cycle->conf_ctx,
                                        ngx_thread_pool_module));

    cf->args = saved;

    if (rv != NGX_CONF_OK) {
        if (rv != NGX_CONF_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "thread pool \"%V\": %s", &def, rv);
        }

        return NULL;
    }

    return ngx_thread_pool_get(cf->cycle, &def);
}


static char *
ngx_wsman_check_batch(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *n = data;

    if (*n == 0 || *n > 1000000) {
        return "must be between 1 and 1000000";
    }

    return NGX_CONF_OK;
}


static char *
ngx_wsman_check_zone(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *size = data;

    if (*size < 64 * 1024) {
        return "must be at least 64k";
    }

    return NGX_CONF_OK;
}


static char *
ngx_wsman_check_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *size = data;

    /* Windows refuses MaxEnvelopeSizekb below 8 kB */
    if (*size < 8192 || *size > 64 * 1024 * 1024) {
        return "must be between 8k and 64m";
    }

    return NGX_CONF_OK;
}


static char *
ngx_wsman_check_msec(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *msec = data;

    if (*msec < 500 || *msec > 0x7fffffff) {
        return "must be between 500ms and 24d";
    }

    return NGX_CONF_OK;
}
