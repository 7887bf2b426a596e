/*
 * The shell plug-in's registration: the WinRS cmd resource, the
 * wsman_shell* directives and their conf, their "nginx -t" checks, and
 * the shell host's life: spawned by the master at init_module (it
 * outlives reloads), one channel per worker slot for each cycle, each
 * worker keeping its own at init_process.
 */

#include <pwd.h>
#include <sys/prctl.h>

#include "ngx_wsman_registry.h"
#include "ngx_wsman_shell.h"
#include "ngx_wsman_shell_client.h"
#include "ngx_wsman_shell_host.h"


extern ngx_wsman_plugin_t  *ngx_wsman_shell_services[];


static void *ngx_wsman_shell_create_main_conf(ngx_conf_t *cf);
static void *ngx_wsman_shell_create_loc_conf(ngx_conf_t *cf);
static char *ngx_wsman_shell_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_wsman_shell_check_run_as(ngx_conf_t *cf,
    ngx_wsman_shell_loc_conf_t *conf);
static ngx_int_t ngx_wsman_shell_init_module(ngx_cycle_t *cycle);
static void ngx_wsman_shell_close_channels(void *data);
static ngx_int_t ngx_wsman_shell_init_process(ngx_cycle_t *cycle);




static ngx_command_t  ngx_wsman_shell_commands[] = {

    { ngx_string("wsman_shell"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell),
      NULL },

    { ngx_string("wsman_shell_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell_idle_timeout),
      &ngx_wsman_msec_post },

    { ngx_string("wsman_shell_max_per_user"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell_max_per_user),
      NULL },

    { ngx_string("wsman_shell_max_users"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell_max_users),
      NULL },

    { ngx_string("wsman_shell_max_processes"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell_max_processes),
      NULL },

    { ngx_string("wsman_shell_max_memory"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell_max_memory),
      NULL },

    { ngx_string("wsman_shell_max_runtime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell_max_runtime),
      NULL },

    { ngx_string("wsman_shell_pam"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell_pam),
      NULL },

    { ngx_string("wsman_shell_max_buffered"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_wsman_shell_main_conf_t, shell_max_buffered),
      &ngx_wsman_zone_post },

    { ngx_string("wsman_shell_run_as"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell_run_as),
      NULL },

    { ngx_string("wsman_shell_allow_root"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_shell_loc_conf_t, shell_allow_root),
      NULL },

      ngx_null_command
};


static ngx_wsman_plugin_module_t  ngx_wsman_shell_module_ctx = {
    {
        NULL,                              /* preconfiguration */
        NULL,                              /* postconfiguration */
        ngx_wsman_shell_create_main_conf,  /* create main configuration */
        NULL,                              /* init main configuration */
        NULL,                              /* create server configuration */
        NULL,                              /* merge server configuration */
        ngx_wsman_shell_create_loc_conf,   /* create location configuration */
        ngx_wsman_shell_merge_loc_conf     /* merge location configuration */
    },
    ngx_wsman_shell_services,
    NULL,
    NULL
};


ngx_module_t  ngx_wsman_shell_module = {
    NGX_MODULE_V1,
    &ngx_wsman_shell_module_ctx,           /* module context */
    ngx_wsman_shell_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_wsman_shell_init_module,           /* init module */
    ngx_wsman_shell_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_WSMAN_PLUGIN_PADDING
};


static void *
ngx_wsman_shell_create_main_conf(ngx_conf_t *cf)
{
    ngx_wsman_shell_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_shell_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->shells = 0;
     *     smcf->shell_root = 0;
     *     smcf->shell_channels = NULL;
     */

    smcf->shell_max_buffered = NGX_CONF_UNSET_SIZE;

    return smcf;
}


static void *
ngx_wsman_shell_create_loc_conf(ngx_conf_t *cf)
{
    ngx_wsman_shell_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_shell_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->shell_run_as = { 0, NULL };
     *     conf->shell_pam = { 0, NULL };
     */

    conf->shell = NGX_CONF_UNSET;
    conf->shell_idle_timeout = NGX_CONF_UNSET_MSEC;
    conf->shell_max_per_user = NGX_CONF_UNSET_UINT;
    conf->shell_max_users = NGX_CONF_UNSET_UINT;
    conf->shell_max_processes = NGX_CONF_UNSET_UINT;
    conf->shell_max_memory = NGX_CONF_UNSET_SIZE;
    conf->shell_max_runtime = NGX_CONF_UNSET_MSEC;
    conf->shell_allow_root = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_wsman_shell_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_wsman_shell_loc_conf_t  *prev = parent;
    ngx_wsman_shell_loc_conf_t  *conf = child;

    ngx_wsman_shell_main_conf_t  *smcf;

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

    /* the core's conf of this location is merged already */
    if (!conf->shell || !ngx_wsman_conf_serves(cf)) {
        return NGX_CONF_OK;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_wsman_shell_module);

    smcf->shells = 1;

    /* the shell host learns this from the master, not the workers */
    if (conf->shell_allow_root) {
        smcf->shell_root = 1;
    }

    if (ngx_wsman_shell_check_run_as(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The account that runs commands for users without one of their own may
 * not be the workers' (a command could then trace the workers and act as
 * them) nor root unless the location allows root.  The workers' account
 * is the "user" directive's, or nginx's default one when the master runs
 * as root; a "user" after the http block is caught per request instead.
 */
static ngx_int_t
ngx_wsman_shell_check_run_as(ngx_conf_t *cf,
    ngx_wsman_shell_loc_conf_t *conf)
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
ngx_wsman_shell_init_module(ngx_cycle_t *cycle)
{
    int                          *fds;
    uid_t                         uid;
    ngx_uint_t                    i, n;
    ngx_core_conf_t              *ccf;
    ngx_pool_cleanup_t           *cln;
    ngx_wsman_shell_main_conf_t  *smcf;

    if (ngx_test_config || ngx_process == NGX_PROCESS_SIGNALLER) {
        return NGX_OK;
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_wsman_shell_module);

    if (smcf == NULL || !smcf->shells) {
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

    smcf->shell_channels = fds;
    smcf->nshell_channels = n;
    cln->handler = ngx_wsman_shell_close_channels;
    cln->data = smcf;

    if (ngx_wsman_shell_host_channels(cycle->log, fds, n, smcf->shell_root)
        != NGX_OK)
    {
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
ngx_wsman_shell_close_channels(void *data)
{
    ngx_wsman_shell_main_conf_t  *smcf = data;

    ngx_uint_t  i;

    for (i = 0; i < smcf->nshell_channels; i++) {
        if (smcf->shell_channels[i] != -1) {
            (void) close(smcf->shell_channels[i]);
            smcf->shell_channels[i] = -1;
        }
    }
}


/*
 * A process forked from the master keeps no way to the host but its own
 * slot's channel: helpers (cache manager, loader) none, a worker the one
 * of its ngx_worker number (a respawned worker inherits the same one).
 */
static ngx_int_t
ngx_wsman_shell_init_process(ngx_cycle_t *cycle)
{
    int                           fd;
    ngx_uint_t                    i;
    ngx_wsman_shell_main_conf_t  *smcf;

    /* "master_process off": this process makes the channels at reloads */
    if (ngx_process != NGX_PROCESS_SINGLE) {
        ngx_wsman_shell_host_forget();
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_wsman_shell_module);

    if (smcf == NULL || smcf->shell_channels == NULL) {
        return NGX_OK;
    }

    fd = -1;

    for (i = 0; i < smcf->nshell_channels; i++) {
        if ((ngx_process == NGX_PROCESS_WORKER && i == ngx_worker)
            || (ngx_process == NGX_PROCESS_SINGLE && i == 0))
        {
            fd = smcf->shell_channels[i];
            continue;
        }

        if (smcf->shell_channels[i] != -1) {
            (void) close(smcf->shell_channels[i]);
            smcf->shell_channels[i] = -1;
        }
    }

    ngx_wsman_shell_client_init(fd);

    if (ngx_process != NGX_PROCESS_WORKER || fd == -1 || geteuid() == 0) {
        return NGX_OK;
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

    return NGX_OK;
}
