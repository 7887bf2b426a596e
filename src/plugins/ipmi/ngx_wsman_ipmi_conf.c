/*
 * The wsman_ipmi directive: where the BMC is and how to log in.
 */

#include "ngx_wsman_ipmi.h"


static char *ngx_wsman_ipmi_param(ngx_conf_t *cf, ngx_wsman_ipmi_main_t *im,
    ngx_str_t *name, ngx_str_t *value, ngx_str_t *later);
static char *ngx_wsman_ipmi_workarounds(ngx_conf_t *cf,
    ngx_wsman_ipmi_main_t *im, ngx_str_t *list);
static char *ngx_wsman_ipmi_read_password(ngx_conf_t *cf,
    ngx_wsman_ipmi_main_t *im, ngx_str_t *path);
static ngx_int_t ngx_wsman_ipmi_conf_cstr(ngx_pool_t *pool, ngx_str_t *dst,
    u_char *data, size_t len);


/*
 * wsman_ipmi inband | HOST[:PORT] user=U password=P|password_file=PATH
 *     [privilege=user|operator|admin] [driver=lan|lan_2_0] [cipher=N]
 *     [workaround=NAME,...] [timeout=TIME] [cache=TIME] [idle=TIME];
 */
char *
ngx_wsman_ipmi_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_wsman_ipmi_module_conf_t *mcf = conf;

    char                   *rv;
    u_char                 *eq, *colon;
    ngx_str_t              *value, name, val, later[2];
    ngx_uint_t              i;
    ngx_wsman_ipmi_main_t  *im;

    if (mcf->ipmi) {
        return "is duplicate";
    }

    im = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_ipmi_main_t));
    if (im == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    im->bmc.privilege = NGX_WSMAN_IPMI_PRIV_ADMIN;
    im->bmc.cipher = 3;
    im->bmc.timeout = 5000;
    im->cache = 2000;
    im->idle = 30000;
    /* password_file= and workaround= are looked at once the driver is
     * known, whatever the order of the parameters */
    ngx_str_null(&later[0]);
    ngx_str_null(&later[1]);

    if (value[1].len == 6 && ngx_strncmp(value[1].data, "inband", 6) == 0) {
        im->bmc.driver = NGX_WSMAN_IPMI_INBAND;
        im->system_name = cf->cycle->hostname;

    } else {
        im->bmc.driver = NGX_WSMAN_IPMI_LAN_2_0;

        if (ngx_strlchr(value[1].data, value[1].data + value[1].len, '=')) {
            return "needs \"inband\" or the BMC's address first";
        }

        if (ngx_wsman_ipmi_conf_cstr(cf->pool, &im->bmc.host, value[1].data,
                                value[1].len)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        /* the managed system's name is the BMC's host, without a port */
        colon = ngx_strlchr(value[1].data, value[1].data + value[1].len,
                            ':');
        im->system_name.data = value[1].data;
        im->system_name.len = colon ? (size_t) (colon - value[1].data)
                                    : value[1].len;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"wsman_ipmi\" parameter \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        name.data = value[i].data;
        name.len = eq - value[i].data;
        val.data = eq + 1;
        val.len = value[i].data + value[i].len - val.data;

        rv = ngx_wsman_ipmi_param(cf, im, &name, &val, later);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if (im->bmc.driver == NGX_WSMAN_IPMI_INBAND) {
        if (im->bmc.user.len || im->bmc.password.len || later[0].len) {
            return "takes no user or password with \"inband\"";
        }

    } else {
        if (im->bmc.user.data == NULL) {
            return "needs user= for a BMC over the network";
        }

        if (later[0].len) {
            if (im->bmc.password.data) {
                return "takes password= or password_file=, not both";
            }

            rv = ngx_wsman_ipmi_read_password(cf, im, &later[0]);
            if (rv != NGX_CONF_OK) {
                return rv;
            }
        }

        if (im->bmc.password.data == NULL) {
            return "needs password= or password_file=";
        }

        /* IPMI's own limits: 16 bytes for 1.5, 20 for 2.0 */
        if (im->bmc.password.len
            > (im->bmc.driver == NGX_WSMAN_IPMI_LAN ? 16 : 20))
        {
            return "has a password longer than IPMI allows";
        }
    }

    if (later[1].len) {
        rv = ngx_wsman_ipmi_workarounds(cf, im, &later[1]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    /*
     * libfreeipmi blocks: its calls run in a thread pool of their own, so
     * that nothing else (failing PAM logins, say) can keep the BMC's
     * answers waiting.  A worker runs one BMC task at a time.
     */
    im->thread_pool = ngx_wsman_thread_pool(cf, &im->thread_pool_name,
                                            "wsman_ipmi", "threads=2",
                                            "max_queue=64");
    if (im->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->ipmi = im;

    return NGX_CONF_OK;
}


/* later[0]: password_file=, later[1]: workaround= */
static char *
ngx_wsman_ipmi_param(ngx_conf_t *cf, ngx_wsman_ipmi_main_t *im,
    ngx_str_t *name, ngx_str_t *value, ngx_str_t *later)
{
    ngx_int_t  n;

#define ngx_wsman_ipmi_is(s)                                                \
    (name->len == sizeof(s) - 1 && ngx_strncmp(name->data, s, name->len) == 0)
#define ngx_wsman_ipmi_value_is(s)                                          \
    (value->len == sizeof(s) - 1                                            \
     && ngx_strncmp(value->data, s, value->len) == 0)

    if (ngx_wsman_ipmi_is("user")) {
        if (ngx_wsman_ipmi_conf_cstr(cf->pool, &im->bmc.user, value->data,
                                value->len)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("password")) {
        if (ngx_wsman_ipmi_conf_cstr(cf->pool, &im->bmc.password, value->data,
                                value->len)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("password_file")) {
        later[0] = *value;

        if (ngx_conf_full_name(cf->cycle, &later[0], 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("privilege")) {
        if (ngx_wsman_ipmi_value_is("user")) {
            im->bmc.privilege = NGX_WSMAN_IPMI_PRIV_USER;

        } else if (ngx_wsman_ipmi_value_is("operator")) {
            im->bmc.privilege = NGX_WSMAN_IPMI_PRIV_OPERATOR;

        } else if (ngx_wsman_ipmi_value_is("admin")) {
            im->bmc.privilege = NGX_WSMAN_IPMI_PRIV_ADMIN;

        } else {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("driver")) {
        if (im->bmc.driver == NGX_WSMAN_IPMI_INBAND) {
            goto invalid;
        }

        if (ngx_wsman_ipmi_value_is("lan")) {
            im->bmc.driver = NGX_WSMAN_IPMI_LAN;

        } else if (ngx_wsman_ipmi_value_is("lan_2_0")) {
            im->bmc.driver = NGX_WSMAN_IPMI_LAN_2_0;

        } else {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("cipher")) {
        n = ngx_atoi(value->data, value->len);
        if (n == NGX_ERROR || n > 17) {
            goto invalid;
        }

        im->bmc.cipher = n;
        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("workaround")) {
        later[1] = *value;
        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("timeout")) {
        im->bmc.timeout = ngx_parse_time(value, 0);
        if (im->bmc.timeout == (ngx_msec_t) NGX_ERROR
            || im->bmc.timeout < 100)
        {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("idle")) {
        im->idle = ngx_parse_time(value, 0);
        if (im->idle == (ngx_msec_t) NGX_ERROR || im->idle < 1000) {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("thread_pool")) {
        if (value->len == 0) {
            goto invalid;
        }

        im->thread_pool_name = *value;
        return NGX_CONF_OK;
    }

    if (ngx_wsman_ipmi_is("cache")) {
        im->cache = ngx_parse_time(value, 0);
        if (im->cache == (ngx_msec_t) NGX_ERROR) {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

#undef ngx_wsman_ipmi_is
#undef ngx_wsman_ipmi_value_is

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown \"wsman_ipmi\" parameter \"%V\"", name);
    return NGX_CONF_ERROR;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"wsman_ipmi\" %V=\"%V\"", name, value);
    return NGX_CONF_ERROR;
}


/* workaround=NAME,...: freeipmi's flags differ between IPMI 1.5 and 2.0 */
static char *
ngx_wsman_ipmi_workarounds(ngx_conf_t *cf, ngx_wsman_ipmi_main_t *im,
    ngx_str_t *list)
{
    u_char      *p, *last, *comma;
    ngx_str_t    name;
    ngx_uint_t   flags;

    p = list->data;
    last = list->data + list->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');

        name.data = p;
        name.len = (comma ? comma : last) - p;

        flags = 0;

        if (ngx_wsman_ipmi_workaround(&name, im->bmc.driver, &flags)
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown \"wsman_ipmi\" workaround \"%V\" "
                               "for this driver", &name);
            return NGX_CONF_ERROR;
        }

        im->bmc.workarounds |= flags;

        p = comma ? comma + 1 : last;
    }

    return NGX_CONF_OK;
}


/* the first line of the file, so the password stays out of nginx.conf */
static char *
ngx_wsman_ipmi_read_password(ngx_conf_t *cf, ngx_wsman_ipmi_main_t *im,
    ngx_str_t *path)
{
    size_t           len;
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_t       file;
    ngx_file_info_t  fi;
    u_char           buf[64];

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"wsman_ipmi\" cannot open password_file "
                           "\"%V\"", path);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsman_ipmi\" password_file \"%V\" is not "
                           "a readable file", path);
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = *path;
    file.log = cf->log;

    n = ngx_read_file(&file, buf, sizeof(buf), 0);

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", path);
    }

    if (n == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    for (len = 0; len < (size_t) n; len++) {
        if (buf[len] == '\n' || buf[len] == '\r') {
            break;
        }
    }

    if (len == 0 || len == sizeof(buf)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsman_ipmi\" finds no password in "
                           "\"%V\"", path);
        return NGX_CONF_ERROR;
    }

    if (ngx_wsman_ipmi_conf_cstr(cf->pool, &im->bmc.password, buf, len)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_CONF_OK;
}


/* libfreeipmi takes C strings */
static ngx_int_t
ngx_wsman_ipmi_conf_cstr(ngx_pool_t *pool, ngx_str_t *dst, u_char *data,
    size_t len)
{
    dst->data = ngx_pnalloc(pool, len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, data, len);
    dst->data[len] = '\0';
    dst->len = len;

    return NGX_OK;
}
