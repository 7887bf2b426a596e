/*
 * ngx_wsman: nginx glue.  Directives, configuration, variables and the
 * content handler that carries a request through auth, soap and dispatch
 * (src/) and sends the answer back.  Protocol logic lives in src/.
 */

#include <grp.h>

#include "ngx_wsman.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_auth.h"
#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_gss.h"
#include "ngx_wsman_plugins.h"
#include "ngx_wsman_identity.h"
#include "ngx_wsman_ipmi.h"
#include "ngx_wsman_log.h"
#include "ngx_wsman_mime.h"
#include "ngx_wsman_shell_host.h"
#include "ngx_wsman_soap.h"


#define NGX_WSMAN_CONTENT_TYPE   "application/soap+xml;charset=UTF-8"


/* room for the multipart/encrypted framing around a sealed envelope */
#define NGX_WSMAN_SEAL_OVERHEAD  1024


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
    unsigned                   anonymous:1;
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
static ngx_int_t ngx_wsman_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_wsman_init_process(ngx_cycle_t *cycle);
static void ngx_wsman_exit_process(ngx_cycle_t *cycle);

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
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
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

    { ngx_string("wsman_sequence_items"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_wsman_main_conf_t, sequence_items),
      NULL },

    { ngx_string("wsman_ipmi"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_wsman_ipmi_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

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

    { ngx_string("wsman_keytab"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_wsman_keytab,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_loc_conf_t, keytab),
      NULL },

    { ngx_string("wsman_pam"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
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
    ngx_wsman_exit_process,                /* exit process */
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
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
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

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "wsman: encrypted request from %V without a "
                          "security context on the connection",
                          &r->connection->addr_text);
            return NGX_HTTP_BAD_REQUEST;
        }

        ctx->sealed = conn;
        limit += NGX_WSMAN_SEAL_OVERHEAD;

    } else {
        ngx_str_null(&ctx->protocol);

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
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "wsman: unencrypted request from user \"%V\" at "
                          "%V refused (wsman_allow_unencrypted off)",
                          ngx_wsman_log_escape(r->pool,
                                               &ctx->auth.identity.user),
                          &r->connection->addr_text);
            return ngx_wsman_auth_challenge(r, lcf, NULL);
        }
    }

    /* refuse what is known to be too large before reading any of it */
    if (r->headers_in.content_length_n > limit) {
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

    if (rc == NGX_OK && ctx->sealed && body.len) {
        rc = ngx_wsman_unseal(r, ctx, &body);

        if (rc == NGX_DECLINED) {
            /* a broken seal: nothing can be answered sealed either */
            ctx->sealed = NULL;
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_wsman_send_fault(r, ctx, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                    "The request is larger than "
                                    "MaxEnvelopeSizekb.");
    }

    if (body.len && ctx->sealed == NULL && !ngx_wsman_content_type_ok(r)) {
        return ngx_wsman_unsupported_type(r);
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

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->anonymous && (rc != NGX_OK || !ctx->req.identify)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: unauthenticated request from %V is not an "
                      "Identify", &r->connection->addr_text);
        return ngx_wsman_auth_challenge(r, lcf, NULL);
    }

    ctx->action = ctx->req.action;
    ctx->resource_uri = ctx->req.resource_uri;

    ngx_wsman_call_init(r, ctx);

    if (rc == NGX_DECLINED) {
        ctx->call.fault = fault;
        return ngx_wsman_send_response(r, ctx);
    }

    rc = ngx_wsman_dispatch(&ctx->call);

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
    off_t                  len;
    u_char                *p;
    ssize_t                n;
    ngx_buf_t             *b;
    ngx_chain_t           *cl;
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

    if (len > (off_t) lcf->max_envelope_size
              + (ngx_wsman_is_sealed(r) ? NGX_WSMAN_SEAL_OVERHEAD : 0))
    {
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
    ngx_int_t         rc;
    ngx_chain_t      *cl;
    ngx_wsman_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_wsman_module);

    ngx_str_set(&r->headers_out.content_type, NGX_WSMAN_CONTENT_TYPE);

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


/* MS-WSMV 2.2.9.1: multipart/encrypted in, plaintext SOAP out */
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
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: malformed encrypted body from %V: %s",
                      &r->connection->addr_text, error ? error : "unknown");
        return NGX_DECLINED;
    }

    rc = ngx_wsman_gss_unwrap(ctx->sealed, r->pool, r->connection->log,
                              &part.header, &part.payload, &plain);
    if (rc != NGX_OK) {
        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "wsman: encrypted body from %V does not verify",
                          &r->connection->addr_text);
        }
        return rc;
    }

    /* pywinrm and pypsrp check this too: it catches a cut message */
    if (plain.len != part.length) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: encrypted body from %V: Length=%uz but %uz "
                      "bytes decrypted", &r->connection->addr_text,
                      part.length, plain.len);
        return NGX_DECLINED;
    }

    if (plain.len > ngx_wsman_get_loc_conf(r)->max_envelope_size) {
        ngx_str_null(body);
        return NGX_OK;
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
    ngx_str_t     plain, header, payload, boundary;
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

    len = ngx_wsman_mime_frame_len(&ctx->protocol, &boundary, plain.len,
                                   header.len, payload.len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_wsman_mime_frame(b->pos, &ctx->protocol, &boundary,
                                   plain.len, &header, &payload);

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

    if (ngx_wsman_config_listeners(cf, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mcf->enum_zone_size == NGX_CONF_UNSET_SIZE) {
        mcf->enum_zone_size = NGX_WSMAN_ENUM_ZONE_SIZE;
    }

    return ngx_wsman_enum_zone_add(cf, mcf->enum_zone_size, &mcf->enum_zone);
}


/*
 * In the master, at start and at every reload: the shell host.  It is
 * spawned once and outlives reloads (shells keep running); it ends when
 * nginx ends.  Neither "nginx -t" nor "nginx -s" starts one.
 */
static ngx_int_t
ngx_wsman_init_module(ngx_cycle_t *cycle)
{
    u_char                 *p;
    uid_t                   uid;
    ngx_core_conf_t        *ccf;
    ngx_wsman_main_conf_t  *mcf;
    static u_char           name[64];
    static size_t           name_len;

    ngx_wsman_soap_init();

    if (ngx_test_config || ngx_process == NGX_PROCESS_SIGNALLER) {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_wsman_module);

    if (mcf == NULL || !mcf->shells) {
        return NGX_OK;
    }

    /* the name the first host got: reloads reuse it */
    if (name_len == 0) {
        p = ngx_snprintf(name, sizeof(name), "ngx_wsman_shell.%P.%uL",
                         ngx_pid, (uint64_t) ngx_time());
        name_len = p - name;
    }

    mcf->shell_socket.data = name;
    mcf->shell_socket.len = name_len;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    uid = (ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT && geteuid() == 0)
          ? ccf->user : geteuid();

    name[name_len] = '\0';

    if (ngx_wsman_shell_host_spawn(cycle->log, (const char *) name, uid)
        == NGX_INVALID_PID)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "wsman: could not start the shell host; remote "
                      "shells will fail");
    }

    return NGX_OK;
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
    struct sigaction  sa;

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

    return ngx_wsman_ipmi_init_process(cycle);
}


static void
ngx_wsman_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_process == NGX_PROCESS_WORKER) {
        ngx_wsman_ipmi_exit_process(cycle);
    }
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
    conf->shell = NGX_CONF_UNSET;
    conf->shell_idle_timeout = NGX_CONF_UNSET_MSEC;
    conf->shell_max_per_user = NGX_CONF_UNSET_UINT;
    conf->shell_max_users = NGX_CONF_UNSET_UINT;
    conf->shell_max_processes = NGX_CONF_UNSET_UINT;
    conf->shell_max_memory = NGX_CONF_UNSET_SIZE;
    conf->shell_max_runtime = NGX_CONF_UNSET_MSEC;
    conf->cert_maps = NGX_CONF_UNSET_PTR;
    conf->group_sids = NGX_CONF_UNSET_PTR;
    conf->resource_sddls = NGX_CONF_UNSET_PTR;
    conf->root_sd = NGX_CONF_UNSET_PTR;
    conf->thread_pool = NGX_CONF_UNSET_PTR;

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
    mcf->sequence_items = NGX_CONF_UNSET_UINT;
    mcf->shell_max_buffered = NGX_CONF_UNSET_SIZE;

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
    ngx_conf_merge_ptr_value(conf->cert_maps, prev->cert_maps, NULL);
    ngx_conf_merge_ptr_value(conf->group_sids, prev->group_sids, NULL);
    ngx_conf_merge_ptr_value(conf->resource_sddls, prev->resource_sddls,
                             NULL);
    ngx_conf_merge_ptr_value(conf->thread_pool, prev->thread_pool, NULL);

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

    if (conf->shell) {
        mcf->shells = 1;
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
     * Core locations are merged before ours.  Keep envelopes in memory:
     * WinRM clients routinely send 200-500k (Ansible's stdin chunks), and
     * spilling each to a temporary file costs disk I/O and a log line.
     */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->client_body_buffer_size < conf->max_envelope_size) {
        clcf->client_body_buffer_size = conf->max_envelope_size;
    }

    /*
     * nginx answers 413 for bodies above client_max_body_size before our
     * handler runs.  Leave room above the envelope limit, so that clients
     * over it get the w:EncodingLimit fault (after authentication), while
     * the amount nginx reads stays bounded.
     */
    if (clcf->client_max_body_size != 0
        && clcf->client_max_body_size < 2 * (off_t) conf->max_envelope_size)
    {
        clcf->client_max_body_size = 2 * (off_t) conf->max_envelope_size;
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


static char *
ngx_wsman_user_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    ngx_str_t  *file;

    rv = ngx_wsman_conf_path(cf, cmd, conf, &file);
    if (rv != NGX_CONF_OK) {
        return rv;
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


static char *
ngx_wsman_pam(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_loc_conf_t  *wlcf = conf;

    char  *rv;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /* PAM stacks block: they run in the "default" thread pool */
    wlcf->thread_pool = ngx_thread_pool_add(cf, NULL);
    if (wlcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
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
