/*
 * The wec plug-in's registration: wsman_wec, the wsman_wec_subscription
 * blocks, and the SubscriptionManager services.
 */

#include "ngx_wsman_registry.h"
#include "ngx_wsman_body.h"
#include "ngx_wsman_wec.h"


static char *ngx_wsman_wec_subscription(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_wsman_wec_sub_line(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static char *ngx_wsman_wec_sub_check(ngx_conf_t *cf,
    ngx_wsman_wec_sub_t *sub);
static char *ngx_wsman_wec_read_query(ngx_conf_t *cf,
    ngx_wsman_wec_sub_t *sub, ngx_str_t *path);
static char *ngx_wsman_wec_output(ngx_conf_t *cf, ngx_wsman_wec_sub_t *sub,
    ngx_str_t *value, ngx_uint_t nargs);
static char *ngx_wsman_wec_store(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_wsman_wec_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_wsman_wec_metrics_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_wsman_wec_metrics_handler(ngx_http_request_t *r);
static void ngx_wsman_wec_metrics_send(void *data, ngx_int_t rc,
    ngx_str_t *json);
static void ngx_wsman_wec_reopen_files(ngx_open_file_t *file,
    ngx_log_t *log);
static void ngx_wsman_wec_exit_process(ngx_cycle_t *cycle);
static void *ngx_wsman_wec_create_main_conf(ngx_conf_t *cf);
static void *ngx_wsman_wec_create_loc_conf(ngx_conf_t *cf);
static char *ngx_wsman_wec_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);


/* larger QueryLists are not something Windows accepts either */
#define NGX_WSMAN_WEC_QUERY_MAX  (256 * 1024)


static ngx_command_t  ngx_wsman_wec_commands[] = {

    { ngx_string("wsman_wec"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_wec_loc_conf_t, enable),
      NULL },

    { ngx_string("wsman_wec_match_computer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_wsman_wec_loc_conf_t, match_computer),
      NULL },

    { ngx_string("wsman_wec_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_wsman_wec_store,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsman_wec_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_wsman_wec_main_conf_t, pool_name),
      NULL },

    { ngx_string("wsman_wec_heartbeat_flush"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_wsman_wec_main_conf_t, flush),
      &ngx_wsman_msec_post },

    { ngx_string("wsman_wec_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_wsman_wec_metrics_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsman_wec_subscription"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_wsman_wec_subscription,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_wsman_plugin_module_t  ngx_wsman_wec_module_ctx = {
    {
        NULL,                              /* preconfiguration */
        NULL,                              /* postconfiguration */
        ngx_wsman_wec_create_main_conf,    /* create main configuration */
        ngx_wsman_wec_init_main_conf,      /* init main configuration */
        NULL,                              /* create server configuration */
        NULL,                              /* merge server configuration */
        ngx_wsman_wec_create_loc_conf,     /* create location configuration */
        ngx_wsman_wec_merge_loc_conf       /* merge location configuration */
    },
    ngx_wsman_wec_services,
    ngx_wsman_wec_providers,
    NULL
};


ngx_module_t  ngx_wsman_wec_module = {
    NGX_MODULE_V1,
    &ngx_wsman_wec_module_ctx,             /* module context */
    ngx_wsman_wec_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_wsman_wec_init_worker,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_wsman_wec_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_WSMAN_PLUGIN_PADDING
};


/* the kinds this build knows */
ngx_wsman_wec_output_type_t  *ngx_wsman_wec_output_types[] = {
    &ngx_wsman_wec_json_file_output,
    &ngx_wsman_wec_xml_file_output,
    &ngx_wsman_wec_redis_output,
    &ngx_wsman_wec_kafka_output,
    &ngx_wsman_wec_syslog_output,
    NULL
};


/* the first is the default */
ngx_wsman_wec_store_type_t  *ngx_wsman_wec_store_types[] = {
    &ngx_wsman_wec_sqlite_store,
    &ngx_wsman_wec_postgresql_store,
    NULL
};


static char *
ngx_wsman_wec_subscription(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_wec_main_conf_t *wmcf = conf;

    u_char               *p;
    char                 *rv;
    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_conf_t            save;
    ngx_wsman_wec_sub_t  *sub, *subs;

    value = cf->args->elts;

    /* the name goes to the source as SubscriptionName */
    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p <= ' ' || *p == '<' || *p == '>' || *p == '&' || *p == '"'
            || *p == '\'' || *p == 0x7f)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid subscription name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0 || value[1].len > 255) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid subscription name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    subs = wmcf->subs.elts;

    for (i = 0; i < wmcf->subs.nelts; i++) {
        if (subs[i].name.len == value[1].len
            && ngx_strncasecmp(subs[i].name.data, value[1].data,
                               value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate subscription \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    sub = ngx_array_push(&wmcf->subs);
    if (sub == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(sub, sizeof(ngx_wsman_wec_sub_t));

    sub->index = wmcf->subs.nelts - 1;

    sub->name = value[1];
    sub->raw = NGX_CONF_UNSET_UINT;
    sub->read_existing = NGX_CONF_UNSET;
    sub->ignore_channel_error = NGX_CONF_UNSET;
    sub->match_computer = NGX_CONF_UNSET;
    sub->max_time = NGX_CONF_UNSET;
    sub->heartbeat = NGX_CONF_UNSET;
    sub->max_items = NGX_CONF_UNSET_UINT;

    if (ngx_array_init(&sub->outputs, cf->pool, 2,
                       sizeof(ngx_wsman_wec_output_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    save = *cf;
    cf->handler = ngx_wsman_wec_sub_line;
    cf->handler_conf = (char *) sub;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_wsman_wec_sub_check(cf, sub);
}


static char *
ngx_wsman_wec_sub_line(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_wsman_wec_sub_t  *sub = (ngx_wsman_wec_sub_t *) conf;

    u_char      *p;
    time_t       t;
    ngx_int_t    n;
    ngx_str_t   *value, *src;
    ngx_uint_t   i, nargs;

    value = cf->args->elts;
    nargs = cf->args->nelts;

    if (nargs < 2) {
        goto invalid;
    }

#define ngx_wsman_wec_is(s)                                                 \
    (value[0].len == sizeof(s) - 1                                          \
     && ngx_strncmp(value[0].data, s, sizeof(s) - 1) == 0)

    if (ngx_wsman_wec_is("sources")) {
        if (sub->sources == NULL) {
            sub->sources = ngx_array_create(cf->pool, nargs - 1,
                                            sizeof(ngx_str_t));
            if (sub->sources == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        for (i = 1; i < nargs; i++) {
            if (value[i].len == 0
                || (value[i].len == sizeof("group:") - 1
                    && ngx_strncmp(value[i].data, "group:", 6) == 0))
            {
                goto invalid;
            }

            src = ngx_array_push(sub->sources);
            if (src == NULL) {
                return NGX_CONF_ERROR;
            }

            /* cf->args strings end in a NUL: fnmatch() takes them so */
            *src = value[i];
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_wec_is("issuer_thumbprints")) {
        if (sub->thumbprints == NULL) {
            sub->thumbprints = ngx_array_create(cf->pool, nargs - 1,
                                                sizeof(ngx_str_t));
            if (sub->thumbprints == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        for (i = 1; i < nargs; i++) {
            /* a SHA-1 in hex, as Windows shows certificate thumbprints */
            if (value[i].len != 40) {
                goto invalid;
            }

            for (p = value[i].data; p < value[i].data + 40; p++) {
                if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F')
                      || (*p >= 'a' && *p <= 'f')))
                {
                    goto invalid;
                }

                *p = ngx_toupper(*p);
            }

            src = ngx_array_push(sub->thumbprints);
            if (src == NULL) {
                return NGX_CONF_ERROR;
            }

            *src = value[i];
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_wec_is("output")) {
        return ngx_wsman_wec_output(cf, sub, value + 1, nargs - 1);
    }

    if (nargs != 2) {
        goto invalid;
    }

    if (ngx_wsman_wec_is("query")) {
        if (sub->query.data) {
            goto duplicate;
        }

        sub->query = value[1];
        return NGX_CONF_OK;
    }

    if (ngx_wsman_wec_is("query_file")) {
        if (sub->query.data) {
            goto duplicate;
        }

        return ngx_wsman_wec_read_query(cf, sub, &value[1]);
    }

    if (ngx_wsman_wec_is("content_format")) {
        if (ngx_strcasecmp(value[1].data, (u_char *) "RenderedText") == 0) {
            sub->raw = 0;

        } else if (ngx_strcasecmp(value[1].data, (u_char *) "Raw") == 0) {
            sub->raw = 1;

        } else {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_wec_is("read_existing_events")
        || ngx_wsman_wec_is("ignore_channel_error")
        || ngx_wsman_wec_is("match_computer"))
    {
        if (ngx_strcmp(value[1].data, "on") == 0) {
            n = 1;

        } else if (ngx_strcmp(value[1].data, "off") == 0) {
            n = 0;

        } else {
            goto invalid;
        }

        if (value[0].data[0] == 'r') {
            sub->read_existing = n;

        } else if (value[0].data[0] == 'i') {
            sub->ignore_channel_error = n;

        } else {
            sub->match_computer = n;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_wec_is("delivery")) {
        if (sub->delivery) {
            goto duplicate;
        }

        sub->delivery = 1;

        /* the presets of Windows' subscription manager */
        if (ngx_strcmp(value[1].data, "normal") == 0) {
            ngx_conf_init_value(sub->max_time, 900);
            ngx_conf_init_value(sub->heartbeat, 900);

        } else if (ngx_strcmp(value[1].data, "min_latency") == 0) {
            ngx_conf_init_value(sub->max_time, 30);
            ngx_conf_init_value(sub->heartbeat, 3600);

        } else if (ngx_strcmp(value[1].data, "min_bandwidth") == 0) {
            ngx_conf_init_value(sub->max_time, 21600);
            ngx_conf_init_value(sub->heartbeat, 21600);

        } else {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_wec_is("max_time") || ngx_wsman_wec_is("heartbeat")) {
        t = ngx_parse_time(&value[1], 1);
        if (t == (time_t) NGX_ERROR || t < 1 || t > 7 * 86400) {
            goto invalid;
        }

        if (value[0].data[0] == 'm') {
            sub->max_time = t;

        } else {
            sub->heartbeat = t;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_wec_is("max_items")) {
        n = ngx_atoi(value[1].data, value[1].len);
        if (n == NGX_ERROR || n < 1 || n > 1000000) {
            goto invalid;
        }

        sub->max_items = (ngx_uint_t) n;
        return NGX_CONF_OK;
    }

    if (ngx_wsman_wec_is("locale")) {
        /* a language tag: it goes into xml:lang */
        for (p = value[1].data; p < value[1].data + value[1].len; p++) {
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
                  || (*p >= '0' && *p <= '9') || *p == '-'))
            {
                goto invalid;
            }
        }

        if (value[1].len == 0 || value[1].len > 35) {
            goto invalid;
        }

        sub->locale = value[1];
        return NGX_CONF_OK;
    }

#undef ngx_wsman_wec_is

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown subscription setting \"%V\"", &value[0]);
    return NGX_CONF_ERROR;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid subscription setting \"%V\"", &value[0]);
    return NGX_CONF_ERROR;

duplicate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "duplicate subscription setting \"%V\"", &value[0]);
    return NGX_CONF_ERROR;
}


static char *
ngx_wsman_wec_read_query(ngx_conf_t *cf, ngx_wsman_wec_sub_t *sub,
    ngx_str_t *path)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_str_t        name;
    ngx_file_info_t  fi;

    name = *path;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", name.data);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || !ngx_is_file(&fi)
        || ngx_file_size(&fi) > NGX_WSMAN_WEC_QUERY_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "query_file \"%s\" is not a regular file of at "
                           "most %d bytes", name.data,
                           NGX_WSMAN_WEC_QUERY_MAX);
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    sub->query.len = (size_t) ngx_file_size(&fi);
    sub->query.data = ngx_pnalloc(cf->pool, sub->query.len + 1);
    if (sub->query.data == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, sub->query.data, sub->query.len);

    ngx_close_file(fd);

    if (n != (ssize_t) sub->query.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read query_file \"%s\"", name.data);
        return NGX_CONF_ERROR;
    }

    sub->query.data[sub->query.len] = '\0';

    return NGX_CONF_OK;
}


/* output KIND TARGET [NAME=VALUE ...]: the kind parses the rest */
static char *
ngx_wsman_wec_output(ngx_conf_t *cf, ngx_wsman_wec_sub_t *sub,
    ngx_str_t *value, ngx_uint_t nargs)
{
    ngx_uint_t                    i;
    ngx_wsman_wec_output_t       *out;
    ngx_wsman_wec_output_type_t  *type;

    if (nargs < 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "subscription \"%V\": \"output\" needs a kind "
                           "and a target", &sub->name);
        return NGX_CONF_ERROR;
    }

    type = NULL;

    for (i = 0; ngx_wsman_wec_output_types[i]; i++) {
        if (ngx_wsman_wec_output_types[i]->name.len == value[0].len
            && ngx_strncmp(ngx_wsman_wec_output_types[i]->name.data,
                           value[0].data, value[0].len) == 0)
        {
            type = ngx_wsman_wec_output_types[i];
            break;
        }
    }

    if (type == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "subscription \"%V\": unknown output kind "
                           "\"%V\"", &sub->name, &value[0]);
        return NGX_CONF_ERROR;
    }

    out = ngx_array_push(&sub->outputs);
    if (out == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(out, sizeof(ngx_wsman_wec_output_t));

    out->type = type;
    out->target = value[1];

    /* spool= and spool_size= are every kind's: the kind never sees them */
    if (ngx_wsman_wec_spool_conf(cf, out, value, &nargs) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    return type->configure(cf, out, value, nargs);
}


/* wsman_wec_store KIND:ADDRESS */
static char *
ngx_wsman_wec_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_wec_main_conf_t *wmcf = conf;

    u_char                      *colon;
    ngx_str_t                   *value, kind;
    ngx_uint_t                   i;
    ngx_wsman_wec_store_type_t  *type;

    if (wmcf->store.type) {
        return "is duplicate";
    }

    value = cf->args->elts;

    colon = ngx_strlchr(value[1].data, value[1].data + value[1].len, ':');
    if (colon == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsman_wec_store\" takes KIND:ADDRESS "
                           "(sqlite:/path or postgresql:conninfo)");
        return NGX_CONF_ERROR;
    }

    kind.data = value[1].data;
    kind.len = colon - value[1].data;

    type = NULL;

    for (i = 0; ngx_wsman_wec_store_types[i]; i++) {
        if (ngx_wsman_wec_store_types[i]->name.len == kind.len
            && ngx_strncmp(ngx_wsman_wec_store_types[i]->name.data,
                           kind.data, kind.len) == 0)
        {
            type = ngx_wsman_wec_store_types[i];
            break;
        }
    }

    if (type == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown state store \"%V\"", &kind);
        return NGX_CONF_ERROR;
    }

    wmcf->store.type = type;
    wmcf->store.address.data = colon + 1;
    wmcf->store.address.len = value[1].data + value[1].len - (colon + 1);

    return type->configure(cf, &wmcf->store, &wmcf->store.address);
}


static char *
ngx_wsman_wec_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_wsman_wec_main_conf_t *wmcf = conf;

    ngx_str_t         address;
    ngx_open_file_t  *file;

    ngx_conf_init_msec_value(wmcf->flush, 5000);

    if (wmcf->subs.nelts == 0) {
        return NGX_CONF_OK;
    }

    /*
     * The outputs and the store write from this pool's threads: one of
     * the collector's own unless named, so that an output that hangs
     * until its timeout holds none of nginx's "default" pool (aio
     * threads); eight a worker keep the fdatasync()s of as many
     * sources in flight, and the CPU per event was the same with 4 or 32
     * (within this machine's run-to-run spread)
     */
    wmcf->thread_pool = ngx_wsman_thread_pool(cf, &wmcf->pool_name,
                                              "wsman_wec", "threads=8",
                                              "max_queue=1024");
    if (wmcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_wsman_wec_counters_zone(cf, wmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * nginx -s reopen reopens the files in cycle->open_files and calls
     * their flush handler first (at a worker's exit too): a name that is
     * always there carries ours
     */
    ngx_str_set(&address, "/dev/null");

    file = ngx_conf_open_file(cf->cycle, &address);
    if (file == NULL) {
        return NGX_CONF_ERROR;
    }

    file->flush = ngx_wsman_wec_reopen_files;

    if (wmcf->store.type == NULL && ngx_wsman_wec_store_types[0]) {
        /* one SQLite file under the prefix, shared by the workers; in a
         * directory of its own, which nginx makes for their user */
        ngx_str_set(&address, "wec/state.db");

        wmcf->store.type = ngx_wsman_wec_store_types[0];
        wmcf->store.address = address;

        return wmcf->store.type->configure(cf, &wmcf->store,
                                           &wmcf->store.address);
    }

    return NGX_CONF_OK;
}


static char *
ngx_wsman_wec_sub_check(ngx_conf_t *cf, ngx_wsman_wec_sub_t *sub)
{
    if (sub->query.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "subscription \"%V\" has no query", &sub->name);
        return NGX_CONF_ERROR;
    }

    /*
     * sent verbatim inside our envelope: it must not break out of it,
     * and an XML declaration or a byte order mark may only start a
     * document, not sit inside one
     */
    if (sub->query.len > NGX_WSMAN_WEC_QUERY_MAX
        || ngx_strlcasestrn(sub->query.data,
                            sub->query.data + sub->query.len,
                            (u_char *) "<?xml", 5 - 1) != NULL
        || ngx_strlchr(sub->query.data, sub->query.data + sub->query.len,
                       '\xef') == sub->query.data
        || ngx_wsman_xml_check(sub->query.data, sub->query.len,
                               "QueryList")
           != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "subscription \"%V\": the query is not one "
                           "well-formed <QueryList> (UTF-8, no DTD, no "
                           "XML declaration)",
                           &sub->name);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_uint_value(sub->raw, 0);
    ngx_conf_init_value(sub->read_existing, 0);
    ngx_conf_init_value(sub->match_computer, 0);
    ngx_conf_init_value(sub->ignore_channel_error, 1);
    ngx_conf_init_value(sub->max_time, 900);
    ngx_conf_init_value(sub->heartbeat, 900);
    ngx_conf_init_uint_value(sub->max_items, 0);

    if (sub->locale.len == 0) {
        ngx_str_set(&sub->locale, "en-US");
    }

    if (ngx_wsman_wec_uuid(sub->id, sub->name.data, sub->name.len)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_wsman_wec_create_main_conf(ngx_conf_t *cf)
{
    ngx_wsman_wec_main_conf_t  *wmcf;

    wmcf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_wec_main_conf_t));
    if (wmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&wmcf->subs, cf->pool, 4, sizeof(ngx_wsman_wec_sub_t))
        != NGX_OK)
    {
        return NULL;
    }

    wmcf->flush = NGX_CONF_UNSET_MSEC;

    return wmcf;
}


static void *
ngx_wsman_wec_create_loc_conf(ngx_conf_t *cf)
{
    ngx_wsman_wec_loc_conf_t  *wlcf;

    wlcf = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_wec_loc_conf_t));
    if (wlcf == NULL) {
        return NULL;
    }

    wlcf->enable = NGX_CONF_UNSET;
    wlcf->match_computer = NGX_CONF_UNSET;

    return wlcf;
}


static char *
ngx_wsman_wec_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_wsman_wec_loc_conf_t *prev = parent;
    ngx_wsman_wec_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_value(conf->match_computer, prev->match_computer, 0);

    return NGX_CONF_OK;
}


static void
ngx_wsman_wec_exit_process(ngx_cycle_t *cycle)
{
    ngx_wsman_wec_exit_worker(cycle);
}


static void
ngx_wsman_wec_reopen_files(ngx_open_file_t *file, ngx_log_t *log)
{
    ngx_wsman_wec_reopen();
}


/* wsman_wec_metrics: this location answers the collector's metrics */
static char *
ngx_wsman_wec_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_wsman_wec_metrics_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_wsman_wec_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* the store is read in a pool thread; the answer comes after */
    rc = ngx_wsman_wec_metrics(r->pool, r->connection->log,
                               ngx_wsman_wec_metrics_send, r);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_NOT_FOUND;
    }

    if (rc != NGX_AGAIN) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;
    r->main->blocked++;

    return NGX_DONE;
}


static void
ngx_wsman_wec_metrics_send(void *data, ngx_int_t rc, ngx_str_t *json)
{
    ngx_http_request_t  *r = data;

    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->main->blocked--;

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b->pos = json->data;
    b->last = json->data + json->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = json->len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
}
