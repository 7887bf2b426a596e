/*
 * The registry and context store fixture of the dispatch, engine and
 * access groups: real registry walking (ngx_wsman_registry.c) over
 * ngx_module_t structures made here, and the real context store
 * (ngx_wsman_context.c) initialised the way nginx initialises a shared
 * zone, in process memory (ngx_runtime.c's slab is malloc()).
 */

#include <stdlib.h>
#include <string.h>

#include "unit_registry.h"
#include "ngx_wsman_engine_int.h"
#include "ngx_wsman_soap.h"
#include "ngx_wsman_sddl.h"
#include "ngx_wsman_access.h"


/* the core module: the context store finds its zone in its main conf */
ngx_module_t  ngx_wsman_module;


static ngx_module_t           unit_modules[UNIT_REGISTRY_MAX];
static ngx_module_t          *unit_module_list[UNIT_REGISTRY_MAX];
static ngx_array_t            unit_registry;

static ngx_wsman_main_conf_t  unit_mcf;
static void                  *unit_main_confs[1];
static ngx_http_conf_ctx_t    unit_http_ctx;
static void                  *unit_conf_ctx[1];
static ngx_slab_pool_t        unit_shpool;


void
unit_registry_set(ngx_wsman_plugin_module_t **plugins)
{
    ngx_uint_t           n;
    ngx_wsman_plugin_t **svc;

    ngx_memzero(&unit_registry, sizeof(ngx_array_t));
    unit_registry.elts = unit_module_list;
    unit_registry.size = sizeof(ngx_module_t *);
    unit_registry.nalloc = UNIT_REGISTRY_MAX;

    for (n = 0; plugins && plugins[n] && n < UNIT_REGISTRY_MAX; n++) {
        ngx_memzero(&unit_modules[n], sizeof(ngx_module_t));
        unit_modules[n].ctx = plugins[n];
        unit_modules[n].type = NGX_HTTP_MODULE;
        unit_modules[n].spare_hook0 = NGX_WSMAN_PLUGIN_MAGIC;

        /* as ngx_wsman_registry_init() does */
        for (svc = plugins[n]->services; svc && *svc; svc++) {
            (*svc)->module = &unit_modules[n];
        }

        unit_module_list[n] = &unit_modules[n];
    }

    unit_registry.nelts = n;

    ngx_wsman_registry_use(n ? &unit_registry : NULL);
}


ngx_int_t
unit_enum_zone_init(ngx_pool_t *pool)
{
    ngx_conf_t       cf;
    ngx_shm_zone_t  *zone;

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = pool;
    cf.log = &unit_log;

    ngx_memzero(&unit_mcf, sizeof(ngx_wsman_main_conf_t));

    if (ngx_wsman_enum_zone_add(&cf, NGX_WSMAN_ENUM_ZONE_SIZE, &zone)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the slab pool header of a zone of that size; the slab itself is
     * malloc(), the end only sets the per-user share */
    ngx_memzero(&unit_shpool, sizeof(ngx_slab_pool_t));
    unit_shpool.end = (u_char *) &unit_shpool + NGX_WSMAN_ENUM_ZONE_SIZE;

    zone->shm.addr = (u_char *) &unit_shpool;
    zone->shm.exists = 0;

    if (zone->init(zone, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    unit_mcf.enum_zone = zone;
    unit_main_confs[0] = &unit_mcf;
    unit_http_ctx.main_conf = unit_main_confs;
    unit_conf_ctx[0] = &unit_http_ctx;

    ngx_wsman_module.ctx_index = 0;
    ngx_http_module.index = 0;

    unit_cycle_conf_ctx((void ****) unit_conf_ctx);

    return NGX_OK;
}


ngx_uint_t
unit_enum_zone_count(void)
{
    ngx_uint_t              n;
    ngx_queue_t            *q;
    ngx_wsman_enum_zone_t  *zone;

    if (unit_mcf.enum_zone == NULL) {
        return 0;
    }

    zone = unit_mcf.enum_zone->data;
    n = 0;

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        n++;
    }

    return n;
}


void
unit_registry_done(void)
{
    ngx_queue_t            *q;
    ngx_wsman_enum_zone_t  *zone;
    ngx_wsman_enum_node_t  *en;

    if (unit_mcf.enum_zone) {
        zone = unit_mcf.enum_zone->data;

        while (!ngx_queue_empty(&zone->sh->queue)) {
            q = ngx_queue_last(&zone->sh->queue);
            en = ngx_queue_data(q, ngx_wsman_enum_node_t, queue);
            ngx_wsman_enum_delete(zone, en);
        }

        ngx_slab_free_locked(zone->shpool, zone->shpool->log_ctx);
        ngx_slab_free_locked(zone->shpool, zone->sh);
        unit_mcf.enum_zone = NULL;
    }

    unit_cycle_conf_ctx(NULL);
    ngx_wsman_registry_use(NULL);
}


/* space-separated SIDs onto the array */
static ngx_int_t
unit_sids_parse(ngx_array_t *a, const char *s)
{
    const char       *e;
    ngx_wsman_sid_t  *sid;

    while (*s) {
        e = strchr(s, ' ');
        if (e == NULL) {
            e = s + strlen(s);
        }

        sid = ngx_array_push(a);
        if (sid == NULL
            || ngx_wsman_sid_parse((u_char *) s, e - s, sid) != NGX_OK)
        {
            return NGX_ERROR;
        }

        s = *e ? e + 1 : e;
    }

    return NGX_OK;
}


unit_call_t *
unit_call(ngx_pool_t *pool, ngx_wsman_loc_conf_t *lcf, const char *user,
    const char *sids, const char *action, const char *uri,
    const char *headers, const char *body)
{
    u_char                   *env, *p, *end;
    size_t                    len;
    unit_call_t              *c;
    ngx_wsman_fault_t         fault;
    ngx_wsman_soap_limits_t   limits;

    c = ngx_pcalloc(pool, sizeof(unit_call_t));
    if (c == NULL) {
        return NULL;
    }

    len = sizeof("<s:Envelope" UNIT_NS_DECL "><s:Header>"
                 "<a:Action></a:Action><a:MessageID>uuid:1</a:MessageID>"
                 "<w:ResourceURI></w:ResourceURI></s:Header><s:Body>"
                 "</s:Body></s:Envelope>")
          + strlen(action) + (uri ? strlen(uri) : 0)
          + (headers ? strlen(headers) : 0) + (body ? strlen(body) : 0);

    env = ngx_pnalloc(pool, len);
    if (env == NULL) {
        return NULL;
    }

    end = env + len;
    p = ngx_snprintf(env, end - env,
                     "<s:Envelope" UNIT_NS_DECL "><s:Header>"
                     "<a:Action>%s</a:Action>"
                     "<a:MessageID>uuid:1</a:MessageID>", action);

    if (uri) {
        p = ngx_snprintf(p, end - p, "<w:ResourceURI>%s</w:ResourceURI>",
                         uri);
    }

    p = ngx_snprintf(p, end - p, "%s</s:Header><s:Body>%s</s:Body>"
                     "</s:Envelope>", headers ? headers : "",
                     body ? body : "");

    limits.max_depth = 0;
    limits.max_timeout = 60000;
    ngx_memzero(&fault, sizeof(ngx_wsman_fault_t));

    c->parsed = ngx_wsman_soap_parse(pool, &unit_log, env, p - env, &limits,
                                     &c->req, &fault);
    c->call.fault = fault;

    if (ngx_array_init(&c->sids, pool, 4, sizeof(ngx_wsman_sid_t))
        != NGX_OK)
    {
        return NULL;
    }

    if (unit_sids_parse(&c->sids, "S-1-1-0") != NGX_OK
        || (sids && unit_sids_parse(&c->sids, sids) != NGX_OK))
    {
        return NULL;
    }

    c->identity.user.data = (u_char *) user;
    c->identity.user.len = strlen(user);
    c->identity.sids = &c->sids;
    c->identity.sids_conf = lcf;
    c->identity.scheme = NGX_WSMAN_AUTH_BASIC;

    c->call.pool = pool;
    c->call.log = &unit_log;
    c->call.req = &c->req;
    c->call.identity = &c->identity;
    c->call.conf = lcf;

    ngx_wsman_xml_init(&c->call.body, pool, 4096);

    return c;
}


u_char *
unit_call_body(unit_call_t *c)
{
    u_char       *s, *copy;
    size_t        len;
    ngx_chain_t  *cl;

    cl = ngx_wsman_xml_chain(&c->call.body);
    if (cl == NULL) {
        return (u_char *) "";
    }

    s = unit_chain_flatten(cl, &len);

    copy = ngx_pnalloc(c->call.pool, len + 1);
    if (copy) {
        ngx_memcpy(copy, s, len + 1);
    }

    free(s);

    return copy;
}


ngx_str_t
unit_call_context(unit_call_t *c)
{
    u_char     *body, *p, *q;
    ngx_str_t   id;

    ngx_str_set(&id, "");

    body = unit_call_body(c);
    p = body ? (u_char *) strstr((char *) body, "<n:EnumerationContext>")
             : NULL;

    if (p == NULL) {
        return id;
    }

    p += sizeof("<n:EnumerationContext>") - 1;
    q = (u_char *) strstr((char *) p, "</n:EnumerationContext>");

    if (q) {
        id.data = p;
        id.len = q - p;
    }

    return id;
}


void
unit_loc_conf(ngx_pool_t *pool, ngx_wsman_loc_conf_t *lcf,
    const char *root_sddl)
{
    ngx_str_t          text, error;
    ngx_wsman_sddl_t  *sd;

    ngx_memzero(lcf, sizeof(ngx_wsman_loc_conf_t));

    lcf->enable = 1;
    lcf->max_envelope_size = 153600;
    lcf->max_timeout = 60000;
    lcf->max_batch_items = 32000;
    lcf->enumeration_timeout = 60000;

    text.data = (u_char *) (root_sddl ? root_sddl
                                      : "O:NSG:BAD:P(A;;GA;;;WD)");
    text.len = strlen((char *) text.data);
    sd = NULL;

    if (ngx_wsman_sddl_parse(pool, &text, &sd, &error) == NGX_OK) {
        lcf->root_sd = sd;
    }
}


ngx_int_t
unit_provider_enumerate(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    u_char                 kind[64], *k;
    size_t                 len;
    ngx_uint_t             i;
    const char           **names;
    ngx_wsman_prop_t      *prop;
    ngx_wsman_instance_t  *inst, **slot;

    names = prov->data;

    for (i = 0; names[i]; i++) {
        len = strlen(names[i]);

        /* after the last key sent, in key order */
        if (after->len
            && ngx_memn2cmp((u_char *) names[i], after->data, len,
                            after->len) <= 0)
        {
            continue;
        }

        if (out->nelts == max) {
            return NGX_OK;
        }

        inst = ngx_wsman_instance_create(pool, &prov->class_name,
                                         &prov->resource_uri, 3);
        if (inst == NULL) {
            return NGX_ERROR;
        }

        prop = ngx_wsman_prop_cstr(pool, inst, "Name", names[i]);
        if (prop == NULL) {
            return NGX_ERROR;
        }

        prop->key = 1;

        k = ngx_snprintf(kind, sizeof(kind) - 1, "k-%s", names[i]);
        *k = '\0';

        prop = ngx_wsman_prop_cstr(pool, inst, "Kind", (char *) kind);
        if (prop == NULL) {
            return NGX_ERROR;
        }

        prop->key = 1;

        if (ngx_wsman_prop_str(pool, inst, "Owner", prov->class_name.data,
                               prov->class_name.len)
            == NULL)
        {
            return NGX_ERROR;
        }

        slot = ngx_array_push(out);
        if (slot == NULL) {
            return NGX_ERROR;
        }

        *slot = inst;
    }

    *done = 1;

    return NGX_OK;
}


void
unit_access_resource(ngx_pool_t *pool, ngx_wsman_loc_conf_t *lcf,
    const char *prefix, const char *sddl)
{
    ngx_str_t                   text, error;
    ngx_wsman_resource_sddl_t  *rs;

    if (lcf->resource_sddls == NULL) {
        lcf->resource_sddls = ngx_array_create(pool, 2,
                                   sizeof(ngx_wsman_resource_sddl_t));
    }

    rs = ngx_array_push(lcf->resource_sddls);
    ngx_memzero(rs, sizeof(ngx_wsman_resource_sddl_t));
    rs->prefix.data = (u_char *) prefix;
    rs->prefix.len = strlen(prefix);

    text.data = (u_char *) sddl;
    text.len = strlen(sddl);

    if (!UNIT_CHECK(ngx_wsman_sddl_parse(pool, &text, &rs->sd, &error)
                    == NGX_OK))
    {
        lcf->resource_sddls->nelts--;
    }
}
