/*
 * ngx_wsman: nginx glue.  The module definition, directives, conf
 * create/merge and the process hooks; the content handler, sealing and
 * responses are in ngx_wsman_handler.c, ngx_wsman_seal.c and
 * ngx_wsman_response.c.  Protocol logic lives in src/.
 */

#include <grp.h>

#include "ngx_wsman_http_int.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_registry.h"
#include "ngx_wsman_identity.h"


/*
 * nginx's own defaults for the body buffer and limit (ngx_http_core_module):
 * after the core merge these mean "the user set none"
 */
#define NGX_WSMAN_CORE_BODY_BUFFER  (2 * ngx_pagesize)
#define NGX_WSMAN_CORE_MAX_BODY     (1024 * 1024)


static ngx_int_t ngx_wsman_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_wsman_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_wsman_init_process(ngx_cycle_t *cycle);

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
static ngx_int_t ngx_wsman_thread_pool_param(ngx_conf_t *cf,
    ngx_str_t *name);
static ngx_thread_pool_t *ngx_wsman_auth_pool(ngx_conf_t *cf,
    ngx_str_t *name);
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
ngx_conf_post_t         ngx_wsman_zone_post = { ngx_wsman_check_zone };
static ngx_conf_post_t  ngx_wsman_size_post = { ngx_wsman_check_size };
ngx_conf_post_t         ngx_wsman_msec_post = { ngx_wsman_check_msec };


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


/* in the master, at start and at every reload */
static ngx_int_t
ngx_wsman_init_module(ngx_cycle_t *cycle)
{
    ngx_wsman_soap_init();

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
    struct sigaction        sa;
    ngx_wsman_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_wsman_module);
    ngx_wsman_registry_use(mcf ? mcf->plugins : NULL);

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
        conf->auth_thread_pool = ngx_wsman_auth_pool(cf, &pool);
        if (conf->auth_thread_pool == NULL) {
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
    ngx_str_t  *file, pool;

    if (ngx_wsman_thread_pool_param(cf, &pool) != NGX_OK) {
        return NGX_CONF_ERROR;
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
    wlcf->auth_thread_pool = ngx_wsman_auth_pool(cf, &pool);
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

    ngx_wsman_keytab_check(cf, file);

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

    if (ngx_wsman_thread_pool_param(cf, &pool) != NGX_OK) {
        return NGX_CONF_ERROR;
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


/* the pool of hash checks and account look-ups: NAME, or wsman_auth */
static ngx_thread_pool_t *
ngx_wsman_auth_pool(ngx_conf_t *cf, ngx_str_t *name)
{
    return ngx_wsman_thread_pool(cf, name, "wsman_auth", "threads=4",
                                 "max_queue=256");
}


/*
 * The optional second parameter "thread_pool=NAME" of wsman_user_file
 * and wsman_pam; *name is empty when it is not given.
 */
static ngx_int_t
ngx_wsman_thread_pool_param(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_str_t  *value;

    ngx_str_null(name);

    if (cf->args->nelts != 3) {
        return NGX_OK;
    }

    value = cf->args->elts;

    if (value[2].len <= sizeof("thread_pool=") - 1
        || ngx_strncmp(value[2].data, "thread_pool=",
                       sizeof("thread_pool=") - 1) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" parameter \"%V\" "
                           "(thread_pool=NAME expected)",
                           &value[0], &value[2]);
        return NGX_ERROR;
    }

    name->data = value[2].data + sizeof("thread_pool=") - 1;
    name->len = value[2].len - (sizeof("thread_pool=") - 1);

    return NGX_OK;
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
