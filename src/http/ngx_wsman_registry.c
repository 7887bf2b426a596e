/*
 * The plug-in registry: the plug-in modules among cycle->modules, found
 * by the mark in their ngx_module_t (see ngx_wsman_registry.h), in module
 * order.  The dispatcher and the resource engine walk it; neither knows
 * a plug-in by name.
 */

#include "ngx_wsman_http.h"
#include "ngx_wsman_registry.h"


/*
 * The registry in use: the configuration's being read while nginx reads
 * one (wsman_resource_sddl asks it), the running cycle's in a worker
 * (init_process sets it again, so a failed reload leaves no trace).
 */
static ngx_array_t  *ngx_wsman_registry;

/* counts the registries put in use: what was found in one (the
 * dispatcher's memo) is not taken for the next */
static ngx_uint_t    ngx_wsman_registry_gen;


ngx_int_t
ngx_wsman_registry_init(ngx_conf_t *cf, ngx_array_t **registry)
{
    ngx_uint_t                   i;
    ngx_module_t                *m, **slot;
    ngx_wsman_plugin_t         **svc;
    ngx_wsman_plugin_module_t   *pm;

    *registry = ngx_array_create(cf->pool, 8, sizeof(ngx_module_t *));
    if (*registry == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; cf->cycle->modules[i]; i++) {
        m = cf->cycle->modules[i];

        if (m->type != NGX_HTTP_MODULE
            || m->spare_hook0 != NGX_WSMAN_PLUGIN_MAGIC)
        {
            continue;
        }

        pm = m->ctx;

        for (svc = pm->services; svc && *svc; svc++) {
            (*svc)->module = m;
        }

        slot = ngx_array_push(*registry);
        if (slot == NULL) {
            return NGX_ERROR;
        }

        *slot = m;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                       "wsman: plug-in module \"%s\" registered", m->name);
    }

    ngx_wsman_registry = *registry;
    ngx_wsman_registry_gen++;

    return NGX_OK;
}


void
ngx_wsman_registry_use(ngx_array_t *registry)
{
    ngx_wsman_registry = registry;
    ngx_wsman_registry_gen++;
}


ngx_uint_t
ngx_wsman_registry_generation(void)
{
    return ngx_wsman_registry_gen;
}


static ngx_wsman_plugin_module_t *
ngx_wsman_registry_module(ngx_uint_t n)
{
    ngx_module_t  **m;

    if (ngx_wsman_registry == NULL || n >= ngx_wsman_registry->nelts) {
        return NULL;
    }

    m = ngx_wsman_registry->elts;

    return m[n]->ctx;
}


/*
 * The plug-in whose services (or providers) list has a next entry at *i,
 * which is then its *k; *i counts through the plug-ins (high bits) and
 * the entries of one (low 16 bits).
 */
static ngx_wsman_plugin_module_t *
ngx_wsman_registry_next(ngx_uint_t *i, ngx_uint_t providers, ngx_uint_t *k)
{
    ngx_uint_t                  n;
    ngx_wsman_plugin_module_t  *pm;

    for ( ;; ) {
        n = *i >> 16;
        *k = *i & 0xffff;

        pm = ngx_wsman_registry_module(n);
        if (pm == NULL) {
            return NULL;
        }

        if (providers ? pm->providers && pm->providers[*k]
                      : pm->services && pm->services[*k])
        {
            (*i)++;
            return pm;
        }

        *i = (n + 1) << 16;
    }
}


ngx_wsman_plugin_t *
ngx_wsman_registry_service(ngx_uint_t *i)
{
    ngx_uint_t                  k;
    ngx_wsman_plugin_module_t  *pm;

    pm = ngx_wsman_registry_next(i, 0, &k);

    return pm ? pm->services[k] : NULL;
}


ngx_wsman_provider_t *
ngx_wsman_registry_provider(ngx_uint_t *i)
{
    ngx_uint_t                  k;
    ngx_wsman_plugin_module_t  *pm;

    pm = ngx_wsman_registry_next(i, 1, &k);

    return pm ? pm->providers[k] : NULL;
}


ngx_int_t
ngx_wsman_registry_serves(ngx_str_t *prefix)
{
    ngx_uint_t                  n;
    ngx_wsman_plugin_module_t  *pm;

    for (n = 0; (pm = ngx_wsman_registry_module(n)) != NULL; n++) {
        if (pm->serves && pm->serves(prefix)) {
            return 1;
        }
    }

    return 0;
}


void *
ngx_wsman_plugin_main_conf(ngx_module_t *module)
{
    return ngx_http_cycle_get_module_main_conf(ngx_cycle, (*module));
}


void *
ngx_wsman_call_conf(ngx_wsman_call_t *call, ngx_module_t *module)
{
    return call->loc_conf ? call->loc_conf[module->ctx_index] : NULL;
}


/*
 * Where a directive is: its module and command, found by walking every
 * http module's commands (hundreds of names: ~4k instructions a name,
 * and a config Get asks for eight).  Remembered per worker for the
 * directive names a plug-in passes (string literals, so their addresses
 * identify them) while the registry stays the same.
 */
typedef struct {
    const char              *directive;
    ngx_uint_t               generation;
    ngx_module_t            *module;
    ngx_command_t           *cmd;        /* NULL: no such directive */
} ngx_wsman_setting_cache_t;

#define NGX_WSMAN_SETTING_CACHE  16


static ngx_int_t
ngx_wsman_setting_find(const char *directive, ngx_module_t **module,
    ngx_command_t **command)
{
    size_t                             len;
    ngx_uint_t                         i, slot;
    ngx_module_t                      *m;
    ngx_command_t                     *cmd;
    ngx_wsman_setting_cache_t         *e;
    static ngx_uint_t                  next;
    static ngx_wsman_setting_cache_t   cache[NGX_WSMAN_SETTING_CACHE];

    for (slot = 0; slot < NGX_WSMAN_SETTING_CACHE; slot++) {
        e = &cache[slot];

        if (e->directive == directive
            && e->generation == ngx_wsman_registry_gen)
        {
            *module = e->module;
            *command = e->cmd;
            return e->cmd ? NGX_OK : NGX_DECLINED;
        }
    }

    /* a free or stale entry, else the one after the last taken */
    for (slot = 0; slot < NGX_WSMAN_SETTING_CACHE; slot++) {
        if (cache[slot].directive == NULL
            || cache[slot].generation != ngx_wsman_registry_gen)
        {
            break;
        }
    }

    if (slot == NGX_WSMAN_SETTING_CACHE) {
        slot = next++ % NGX_WSMAN_SETTING_CACHE;
    }

    e = &cache[slot];

    len = ngx_strlen(directive);

    *module = NULL;
    *command = NULL;

    for (i = 0; ngx_cycle->modules[i] && *command == NULL; i++) {
        m = ngx_cycle->modules[i];

        if (m->type != NGX_HTTP_MODULE || m->commands == NULL) {
            continue;
        }

        for (cmd = m->commands; cmd->name.len; cmd++) {
            if (cmd->name.len == len
                && ngx_strncmp(cmd->name.data, directive, len) == 0)
            {
                *module = m;
                *command = cmd;
                break;
            }
        }
    }

    e->directive = directive;
    e->generation = ngx_wsman_registry_gen;
    e->module = *module;
    e->cmd = *command;

    return *command ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_wsman_call_setting(ngx_wsman_call_t *call, const char *directive,
    uint64_t *value)
{
    u_char         *conf;
    ngx_module_t   *m;
    ngx_command_t  *cmd;

    if (call->loc_conf == NULL
        || ngx_wsman_setting_find(directive, &m, &cmd) != NGX_OK
        || cmd->conf != NGX_HTTP_LOC_CONF_OFFSET)
    {
        return NGX_DECLINED;
    }

    conf = call->loc_conf[m->ctx_index];

    if (conf == NULL) {
        return NGX_DECLINED;
    }

    conf += cmd->offset;

    /* the slot's setter tells the field's type */
    if (cmd->set == ngx_conf_set_flag_slot) {
        *value = *(ngx_flag_t *) conf;

    } else if (cmd->set == ngx_conf_set_num_slot) {
        *value = *(ngx_int_t *) conf;

    } else if (cmd->set == ngx_conf_set_msec_slot) {
        *value = *(ngx_msec_t *) conf;

    } else if (cmd->set == ngx_conf_set_size_slot) {
        *value = *(size_t *) conf;

    } else {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_uint_t
ngx_wsman_conf_serves(ngx_conf_t *cf)
{
    ngx_wsman_loc_conf_t  *lcf;

    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_wsman_module);

    return lcf != NULL && lcf->enable == 1;
}
