/*
 * The registry and context store fixture of the dispatch, engine and
 * access groups: real registry walking (ngx_wsman_registry.c) over
 * ngx_module_t structures made here, and the real context store
 * (ngx_wsman_context.c) initialised the way nginx initialises a shared
 * zone, in process memory (ngx_runtime.c's slab is malloc()).
 */

#include "unit_registry.h"
#include "ngx_wsman_engine_int.h"


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
