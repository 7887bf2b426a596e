/*
 * The resource engine: Get, Enumerate, Pull, Release and Invoke over
 * class providers.
 *
 * Contexts are kept in a shared-memory zone (slab + rbtree + LRU queue, as
 * ngx_http_limit_req_module keeps its states), so Pull works from every
 * worker and survives the connection.  A context holds what it needs to
 * resume: the class, the filter, the mode, its owner and the key of the
 * last item sent; providers produce items in key order after that key, so
 * nothing is sent twice or skipped, and nothing is materialized beyond
 * one batch: memory per request stays bounded however large the class.
 */

#include "ngx_wsman_http.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_enum_tree.h"
#include "ngx_wsman_util.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_cimxml.h"
#include "ngx_wsman_duration.h"
#include "ngx_wsman_log.h"
#include "ngx_wsman_soap.h"
#include "ngx_wsman_wql.h"
#include "ngx_wsman_plugin.h"


#define NGX_WSMAN_DIALECT_WQL                                               \
    "http://schemas.microsoft.com/wbem/wsman/1/WQL"
#define NGX_WSMAN_DIALECT_SELECTOR                                          \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"

#define NGX_WSMAN_FILTER_NONE        0
#define NGX_WSMAN_FILTER_WQL         1
#define NGX_WSMAN_FILTER_SELECTOR    2

/* room the envelope around the items needs */
#define NGX_WSMAN_ENUM_OVERHEAD      2048

/* instances asked from a provider at a time */
#define NGX_WSMAN_ENUM_CHUNK         64

/* expired contexts dropped per Enumerate, as limit_req does */
#define NGX_WSMAN_ENUM_EXPIRE_STEP   8

/* one identity may hold this part of the zone (1/4), so that one user
 * cannot keep everyone else from enumerating */
#define NGX_WSMAN_ENUM_SHARE         4

/* stored with every context: a WQL query or selector filter this long is
 * not a query anyone types */
#define NGX_WSMAN_ENUM_MAX_FILTER    4096


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;          /* least recently used first */
    ngx_rbtree_t                owners;         /* ngx_wsman_enum_owner_t */
    ngx_rbtree_node_t           owners_sentinel;
} ngx_wsman_enum_shctx_t;


typedef struct {
    ngx_wsman_enum_shctx_t     *sh;
    ngx_slab_pool_t            *shpool;
} ngx_wsman_enum_zone_t;


/* what an enumeration is, in process memory */
typedef struct {
    ngx_wsman_provider_t       *provider;
    ngx_uint_t                  mode;
    ngx_uint_t                  filter;
    ngx_str_t                   filter_text;    /* WQL or encoded selectors */
    ngx_wsman_wql_t            *wql;
    ngx_array_t                 selectors;      /* ngx_wsman_pair_t */
    ngx_str_t                   after;          /* last key sent */
    ngx_str_t                   uri;
} ngx_wsman_enum_state_t;


/* one batch */
typedef struct {
    ngx_uint_t                  max_items;
    size_t                      max_bytes;
    ngx_uint_t                  count;
    ngx_uint_t                  done;
    ngx_wsman_xml_t             items;
} ngx_wsman_enum_batch_t;


static ngx_int_t ngx_wsman_enum_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_wsman_enum_parse_filter(ngx_wsman_call_t *call,
    xmlNodePtr node, ngx_wsman_enum_state_t *st);
static ngx_int_t ngx_wsman_enum_prepare(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st);
static ngx_int_t ngx_wsman_enum_fill(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st, ngx_wsman_enum_batch_t *batch);
static ngx_int_t ngx_wsman_enum_match(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st, ngx_wsman_instance_t *inst, ngx_pool_t *pool);
static ngx_int_t ngx_wsman_enum_key(ngx_pool_t *pool,
    ngx_wsman_provider_t *prov, ngx_wsman_instance_t *inst, ngx_str_t *key);
static ngx_int_t ngx_wsman_enum_store(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st, u_char *id);
static ngx_wsman_enum_node_t *ngx_wsman_enum_lookup(
    ngx_wsman_enum_zone_t *zone, ngx_str_t *id);
static ngx_int_t ngx_wsman_enum_take(ngx_wsman_call_t *call, ngx_str_t *id,
    ngx_wsman_enum_state_t *st);
static void ngx_wsman_enum_update(ngx_wsman_call_t *call, ngx_str_t *id,
    ngx_wsman_enum_state_t *st, ngx_uint_t done);
static void ngx_wsman_enum_delete(ngx_wsman_enum_zone_t *zone,
    ngx_wsman_enum_node_t *node);
static void ngx_wsman_enum_expire(ngx_wsman_enum_zone_t *zone,
    ngx_uint_t all);
static ngx_int_t ngx_wsman_enum_total(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st);
static ngx_int_t ngx_wsman_enum_body_uint(ngx_wsman_call_t *call,
    xmlNodePtr parent, const char *ns, const char *name, ngx_uint_t *value);
static xmlNodePtr ngx_wsman_enum_child(xmlNodePtr parent, const char *ns,
    const char *name);
static ngx_int_t ngx_wsman_enum_owner_is(ngx_wsman_enum_node_t *node,
    ngx_str_t *user);


/* ---------------------------------------------------------------- zone */

static ngx_wsman_enum_zone_t *
ngx_wsman_enum_zone(void)
{
    ngx_wsman_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_wsman_module);

    return mcf->enum_zone->data;
}


ngx_int_t
ngx_wsman_enum_zone_add(ngx_conf_t *cf, size_t size, ngx_shm_zone_t **zone)
{
    ngx_str_t  name;

    ngx_str_set(&name, "wsman_enumeration");

    *zone = ngx_shared_memory_add(cf, &name, size, &ngx_wsman_module);
    if (*zone == NULL) {
        return NGX_ERROR;
    }

    if ((*zone)->data == NULL) {
        (*zone)->data = ngx_pcalloc(cf->pool, sizeof(ngx_wsman_enum_zone_t));
        if ((*zone)->data == NULL) {
            return NGX_ERROR;
        }

        (*zone)->init = ngx_wsman_enum_zone_init;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_enum_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_wsman_enum_zone_t  *ozone = data;

    size_t                  len;
    ngx_wsman_enum_zone_t  *zone;

    zone = shm_zone->data;

    /* a reload keeps the contexts: the zone outlives the old workers */
    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool, sizeof(ngx_wsman_enum_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_wsman_enum_context_insert);
    ngx_queue_init(&zone->sh->queue);
    ngx_rbtree_init(&zone->sh->owners, &zone->sh->owners_sentinel,
                    ngx_wsman_enum_owner_insert);

    len = sizeof(" in wsman enumeration zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in wsman enumeration zone \"%V\"%Z",
                &shm_zone->shm.name);

    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


static uint32_t
ngx_wsman_enum_hash(ngx_str_t *id)
{
    return ngx_crc32_short(id->data, id->len);
}


static ngx_wsman_enum_node_t *
ngx_wsman_enum_lookup(ngx_wsman_enum_zone_t *zone, ngx_str_t *id)
{
    if (id->len != NGX_WSMAN_CONTEXT_ID_LEN) {
        return NULL;
    }

    return ngx_wsman_enum_context_find(&zone->sh->rbtree,
                                       ngx_wsman_enum_hash(id), id->data);
}


/* ---------------------------------------------------- per-identity share */

/* the slab memory a context takes: ngx_slab rounds small sizes up to a
 * power of two and large ones to pages */
static size_t
ngx_wsman_enum_charge(size_t size)
{
    size_t  n;

    if (size > ngx_pagesize / 2) {
        return ngx_align(size, ngx_pagesize);
    }

    for (n = 8; n < size; n <<= 1) { /* void */ }

    return n;
}


static size_t
ngx_wsman_enum_node_charge(ngx_wsman_enum_node_t *en)
{
    return ngx_wsman_enum_charge(offsetof(ngx_rbtree_node_t, color)
                                 + offsetof(ngx_wsman_enum_node_t, data)
                                 + en->uri_len + en->owner_len
                                 + en->filter_len + en->key_size);
}


/* the owner record of name; create: make it when there is none */
static ngx_wsman_enum_owner_t *
ngx_wsman_enum_owner(ngx_wsman_enum_zone_t *zone, u_char *name, size_t len,
    ngx_uint_t create)
{
    uint32_t                 hash;
    ngx_rbtree_node_t       *node;
    ngx_wsman_enum_owner_t  *ow;

    hash = ngx_crc32_short(name, len);

    ow = ngx_wsman_enum_owner_find(&zone->sh->owners, hash, name, len);

    if (ow != NULL) {
        return ow;
    }

    if (!create) {
        return NULL;
    }

    node = ngx_slab_alloc_locked(zone->shpool,
                                 offsetof(ngx_rbtree_node_t, color)
                                 + offsetof(ngx_wsman_enum_owner_t, name)
                                 + len);
    if (node == NULL) {
        return NULL;
    }

    node->key = hash;

    ow = (ngx_wsman_enum_owner_t *) &node->color;
    ow->len = (u_short) len;
    ow->bytes = 0;

    if (len) {
        ngx_memcpy(ow->name, name, len);
    }

    ngx_rbtree_insert(&zone->sh->owners, node);

    return ow;
}


/* a context is gone: its owner holds that much less (and, holding
 * nothing, is forgotten) */
static void
ngx_wsman_enum_uncharge(ngx_wsman_enum_zone_t *zone,
    ngx_wsman_enum_node_t *en)
{
    size_t                   charge;
    ngx_rbtree_node_t       *node;
    ngx_wsman_enum_owner_t  *ow;

    ow = ngx_wsman_enum_owner(zone, en->data + en->uri_len, en->owner_len,
                              0);
    if (ow == NULL) {
        return;
    }

    charge = ngx_wsman_enum_node_charge(en);
    ow->bytes = (ow->bytes > charge) ? ow->bytes - charge : 0;

    if (ow->bytes == 0) {
        node = (ngx_rbtree_node_t *)
                   ((u_char *) ow - offsetof(ngx_rbtree_node_t, color));
        ngx_rbtree_delete(&zone->sh->owners, node);
        ngx_slab_free_locked(zone->shpool, node);
    }
}


/* user may take charge more bytes of the zone */
static ngx_uint_t
ngx_wsman_enum_share_ok(ngx_wsman_enum_zone_t *zone, ngx_str_t *user,
    size_t charge)
{
    size_t                   share;
    ngx_wsman_enum_owner_t  *ow;

    share = (zone->shpool->end - (u_char *) zone->shpool)
            / NGX_WSMAN_ENUM_SHARE;

    ow = ngx_wsman_enum_owner(zone, user->data, user->len, 0);

    return (ow ? ow->bytes : 0) + charge <= share;
}


static void
ngx_wsman_enum_delete(ngx_wsman_enum_zone_t *zone, ngx_wsman_enum_node_t *en)
{
    ngx_rbtree_node_t  *node;

    node = (ngx_rbtree_node_t *)
               ((u_char *) en - offsetof(ngx_rbtree_node_t, color));

    ngx_wsman_enum_uncharge(zone, en);

    ngx_queue_remove(&en->queue);
    ngx_rbtree_delete(&zone->sh->rbtree, node);
    ngx_slab_free_locked(zone->shpool, node);
}


/* drop expired contexts, oldest first; all: as many as there are */
static void
ngx_wsman_enum_expire(ngx_wsman_enum_zone_t *zone, ngx_uint_t all)
{
    ngx_uint_t              n;
    ngx_queue_t            *q;
    ngx_wsman_enum_node_t  *en;

    for (n = 0; all || n < NGX_WSMAN_ENUM_EXPIRE_STEP; n++) {

        if (ngx_queue_empty(&zone->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&zone->sh->queue);
        en = ngx_queue_data(q, ngx_wsman_enum_node_t, queue);

        if ((ngx_msec_int_t) (en->expires - ngx_current_msec) > 0) {
            return;
        }

        ngx_wsman_enum_delete(zone, en);
    }
}


static ngx_int_t
ngx_wsman_enum_owner_is(ngx_wsman_enum_node_t *en, ngx_str_t *user)
{
    return en->owner_len == user->len
           && ngx_memcmp(en->data + en->uri_len, user->data, user->len) == 0;
}


/* a new context for st; writes its id ("uuid:...") into id */
static ngx_int_t
ngx_wsman_enum_store(ngx_wsman_call_t *call, ngx_wsman_enum_state_t *st,
    u_char *id)
{
    u_char                  *p;
    size_t                   size, key_size, charge;
    ngx_str_t                idstr, *user;
    ngx_rbtree_node_t       *node;
    ngx_wsman_enum_node_t   *en;
    ngx_wsman_enum_zone_t   *zone;
    ngx_wsman_enum_owner_t  *ow;

    zone = ngx_wsman_enum_zone();
    user = &call->identity->user;

    /* a version 4 UUID, like every other identifier we hand out */
    p = ngx_cpymem(id, "uuid:", 5);

    if (ngx_wsman_uuid(p) == NULL) {
        return NGX_ERROR;
    }

    idstr.data = id;
    idstr.len = NGX_WSMAN_CONTEXT_ID_LEN;

    key_size = ngx_max(64, st->after.len * 2);

    if (st->uri.len > 0xffff || user->len > 0xffff || key_size > 0xffff) {
        return NGX_DECLINED;
    }

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_wsman_enum_node_t, data)
           + st->uri.len + user->len + st->filter_text.len + key_size;

    charge = ngx_wsman_enum_charge(size);

    ngx_shmtx_lock(&zone->shpool->mutex);

    ngx_wsman_enum_expire(zone, 0);

    /* over its share: its own expired contexts may make room, nobody
     * else's live ones are touched */
    if (!ngx_wsman_enum_share_ok(zone, user, charge)) {
        ngx_wsman_enum_expire(zone, 1);

        if (!ngx_wsman_enum_share_ok(zone, user, charge)) {
            ngx_shmtx_unlock(&zone->shpool->mutex);

            ngx_log_error(NGX_LOG_WARN, call->log, 0,
                          "wsman: user \"%V\" holds its share of the "
                          "enumeration zone (1/%d); Enumerate refused",
                          ngx_wsman_log_escape(call->pool, user),
                          NGX_WSMAN_ENUM_SHARE);
            return NGX_DECLINED;
        }
    }

    node = ngx_slab_alloc_locked(zone->shpool, size);

    if (node == NULL) {
        ngx_wsman_enum_expire(zone, 1);
        node = ngx_slab_alloc_locked(zone->shpool, size);
    }

    if (node == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_DECLINED;
    }

    ow = ngx_wsman_enum_owner(zone, user->data, user->len, 1);

    if (ow == NULL) {
        ngx_slab_free_locked(zone->shpool, node);
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_DECLINED;
    }

    ow->bytes += charge;

    node->key = ngx_wsman_enum_hash(&idstr);

    en = (ngx_wsman_enum_node_t *) &node->color;

    en->mode = (u_char) st->mode;
    en->filter = (u_char) st->filter;
    en->busy = 0;
    en->expires = ngx_current_msec + call->conf->enumeration_timeout;
    ngx_memcpy(en->id, id, NGX_WSMAN_CONTEXT_ID_LEN);
    en->uri_len = (u_short) st->uri.len;
    en->owner_len = (u_short) user->len;
    en->filter_len = (uint32_t) st->filter_text.len;
    en->key_size = (u_short) key_size;
    en->key_len = (u_short) st->after.len;

    /* (empty strings may have no memory at all) */
    p = en->data;

    if (st->uri.len) {
        p = ngx_cpymem(p, st->uri.data, st->uri.len);
    }

    if (user->len) {
        p = ngx_cpymem(p, user->data, user->len);
    }

    if (st->filter_text.len) {
        p = ngx_cpymem(p, st->filter_text.data, st->filter_text.len);
    }

    if (st->after.len) {
        ngx_memcpy(p, st->after.data, st->after.len);
    }

    ngx_rbtree_insert(&zone->sh->rbtree, node);
    ngx_queue_insert_head(&zone->sh->queue, &en->queue);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;
}


/*
 * Copy a context out of shared memory for a Pull and mark it busy, so a
 * second Pull on it cannot send the same items again.  Stale, foreign,
 * forged and released contexts all look the same from outside.
 */
static ngx_int_t
ngx_wsman_enum_take(ngx_wsman_call_t *call, ngx_str_t *id,
    ngx_wsman_enum_state_t *st)
{
    u_char                 *p;
    ngx_int_t               rc;
    ngx_wsman_enum_node_t  *en;
    ngx_wsman_enum_zone_t  *zone;

    zone = ngx_wsman_enum_zone();

    ngx_shmtx_lock(&zone->shpool->mutex);

    en = ngx_wsman_enum_lookup(zone, id);

    if (en && (ngx_msec_int_t) (en->expires - ngx_current_msec) <= 0) {
        ngx_wsman_enum_delete(zone, en);
        en = NULL;
    }

    if (en == NULL || !ngx_wsman_enum_owner_is(en, &call->identity->user)) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_DECLINED;
    }

    if (en->busy) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_BUSY;
    }

    rc = NGX_ERROR;

    st->mode = en->mode;
    st->filter = en->filter;

    st->uri.len = en->uri_len;
    st->filter_text.len = en->filter_len;
    st->after.len = en->key_len;

    st->uri.data = ngx_pnalloc(call->pool, st->uri.len + st->filter_text.len
                                           + st->after.len + 1);
    if (st->uri.data) {
        p = ngx_cpymem(st->uri.data, en->data, en->uri_len);
        st->filter_text.data = p;
        p = ngx_cpymem(p, en->data + en->uri_len + en->owner_len,
                       en->filter_len);
        st->after.data = p;
        ngx_memcpy(p, en->data + en->uri_len + en->owner_len
                      + en->filter_len, en->key_len);

        en->busy = 1;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/* after a Pull: remember the new position, or drop the finished context */
static void
ngx_wsman_enum_update(ngx_wsman_call_t *call, ngx_str_t *id,
    ngx_wsman_enum_state_t *st, ngx_uint_t done)
{
    u_char                  *key;
    size_t                   size;
    ngx_rbtree_node_t       *node, *fresh;
    ngx_wsman_enum_node_t   *en, *nen;
    ngx_wsman_enum_zone_t   *zone;
    ngx_wsman_enum_owner_t  *ow;

    zone = ngx_wsman_enum_zone();

    ngx_shmtx_lock(&zone->shpool->mutex);

    en = ngx_wsman_enum_lookup(zone, id);

    if (en == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return;
    }

    if (done) {
        ngx_wsman_enum_delete(zone, en);
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return;
    }

    en->busy = 0;
    en->expires = ngx_current_msec + call->conf->enumeration_timeout;

    ngx_queue_remove(&en->queue);
    ngx_queue_insert_head(&zone->sh->queue, &en->queue);

    if (st->after.len > en->key_size) {
        /* a longer key than ever before: move to a larger node */
        node = (ngx_rbtree_node_t *)
                   ((u_char *) en - offsetof(ngx_rbtree_node_t, color));

        size = offsetof(ngx_rbtree_node_t, color)
               + offsetof(ngx_wsman_enum_node_t, data)
               + en->uri_len + en->owner_len + en->filter_len
               + st->after.len * 2;

        fresh = (st->after.len * 2 <= 0xffff)
                ? ngx_slab_alloc_locked(zone->shpool, size) : NULL;

        if (fresh == NULL) {
            /* cannot resume correctly: end it rather than repeat items */
            ngx_wsman_enum_delete(zone, en);
            ngx_shmtx_unlock(&zone->shpool->mutex);
            return;
        }

        ngx_memcpy(fresh, node, offsetof(ngx_rbtree_node_t, color)
                   + offsetof(ngx_wsman_enum_node_t, data)
                   + en->uri_len + en->owner_len + en->filter_len);

        nen = (ngx_wsman_enum_node_t *) &fresh->color;
        nen->key_size = (u_short) (st->after.len * 2);

        /* charged before the old node goes, so the owner record stays */
        ow = ngx_wsman_enum_owner(zone, en->data + en->uri_len,
                                  en->owner_len, 0);
        if (ow) {
            ow->bytes += ngx_wsman_enum_node_charge(nen);
        }

        ngx_wsman_enum_delete(zone, en);

        ngx_rbtree_insert(&zone->sh->rbtree, fresh);
        ngx_queue_insert_head(&zone->sh->queue, &nen->queue);

        en = nen;
    }

    key = en->data + en->uri_len + en->owner_len + en->filter_len;

    if (st->after.len) {
        ngx_memcpy(key, st->after.data, st->after.len);
    }

    en->key_len = (u_short) st->after.len;

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/* ------------------------------------------------------------ providers */

/*
 * A provider whose data is not at hand starts getting it and the
 * operation runs again from the start when it is there: NGX_OK go on,
 * NGX_AGAIN wait, NGX_WSMAN_FAULTED the fault is set, NGX_ERROR.
 */
static ngx_int_t
ngx_wsman_enum_fetch(ngx_wsman_call_t *call, ngx_wsman_provider_t *prov,
    ngx_wsman_op_pt resume)
{
    if (prov->fetch == NULL) {
        return NGX_OK;
    }

    /* the provider's "fault set" is the engine's */
    return prov->fetch(prov, call, resume);
}


/*
 * Every provider, one after the other: *i starts at 0; NULL at the end.
 */
ngx_wsman_provider_t *
ngx_wsman_enum_next_provider(ngx_uint_t *i)
{
    return ngx_wsman_registry_provider(i);
}


ngx_str_t *
ngx_wsman_enum_canonical(ngx_wsman_provider_t *prov)
{
    return prov->canonical.len ? &prov->canonical : &prov->resource_uri;
}


/*
 * The class a resource URI names.  URIs are compared as Windows does,
 * case-insensitively, and a trailing slash changes nothing: the access
 * check and the data must agree on what a spelling names.
 */
ngx_wsman_provider_t *
ngx_wsman_enum_provider(ngx_str_t *uri)
{
    size_t                 len;
    ngx_uint_t             i;
    ngx_wsman_provider_t  *prov;

    len = uri->len;

    while (len && uri->data[len - 1] == '/') {
        len--;
    }

    if (len == 0) {
        return NULL;
    }

    i = 0;

    while ((prov = ngx_wsman_enum_next_provider(&i)) != NULL) {
        if (prov->resource_uri.len == len
            && ngx_strncasecmp(prov->resource_uri.data, uri->data, len) == 0)
        {
            return prov;
        }
    }

    return NULL;
}


/* every URI the class of prov answers to; the canonical one first */
ngx_uint_t
ngx_wsman_enum_class_uris(ngx_wsman_provider_t *prov, ngx_str_t *uris,
    ngx_uint_t max)
{
    ngx_uint_t             i, n;
    ngx_str_t             *canonical;
    ngx_wsman_provider_t  *p;

    canonical = ngx_wsman_enum_canonical(prov);

    uris[0] = *canonical;
    n = 1;
    i = 0;

    while (n < max && (p = ngx_wsman_enum_next_provider(&i)) != NULL) {
        if (p->resource_uri.len == canonical->len
            && ngx_strncasecmp(p->resource_uri.data, canonical->data,
                               canonical->len) == 0)
        {
            continue;
        }

        if (p->canonical.len == canonical->len
            && ngx_strncasecmp(p->canonical.data, canonical->data,
                               canonical->len) == 0)
        {
            uris[n++] = p->resource_uri;
        }
    }

    return n;
}


/*
 * Do the selectors name one instance?  They must give every identifying
 * key of the class (its id_keys, else its key), unless the class has
 * just one instance.  Sets the fault and returns 0 when they do not.
 */
static ngx_uint_t
ngx_wsman_enum_selectors_enough(ngx_wsman_call_t *call,
    ngx_wsman_provider_t *prov)
{
    size_t              len;
    ngx_str_t           key;
    ngx_uint_t          i, k;
    const char         *one[2], **keys;
    ngx_wsman_pair_t   *sel;

    if (prov->singleton) {
        return 1;
    }

    one[0] = (const char *) prov->key.data;
    one[1] = NULL;

    keys = prov->id_keys ? prov->id_keys : one;
    sel = call->req->selectors.elts;

    for (k = 0; keys[k]; k++) {
        len = (keys == one) ? prov->key.len : ngx_strlen(keys[k]);

        for (i = 0; i < call->req->selectors.nelts; i++) {
            if (sel[i].name.len == len
                && ngx_strncasecmp(sel[i].name.data, (u_char *) keys[k],
                                   len) == 0)
            {
                break;
            }
        }

        if (i == call->req->selectors.nelts) {
            key.data = (u_char *) keys[k];
            key.len = len;

            ngx_log_error(NGX_LOG_INFO, call->log, 0,
                          "wsman: %V: the selectors do not give the key "
                          "\"%V\"", &prov->class_name, &key);

            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                 "The selectors do not identify one "
                                 "instance: a key of the class is "
                                 "missing.");
            ngx_str_set(&call->fault.detail,
                        NGX_WSMAN_FAULT_DETAIL "InsufficientSelectors");
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_wsman_enum_key(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    ngx_wsman_instance_t *inst, ngx_str_t *key)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_instance_prop(inst, prov->key.data, prov->key.len);

    if (prop == NULL || ngx_wsman_prop_text(pool, prop, key) != NGX_OK) {
        ngx_str_null(key);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* ---------------------------------------------------------------- Get */

/* every selector must name a key property of the class */
static ngx_int_t
ngx_wsman_enum_selectors_match(ngx_pool_t *pool, ngx_array_t *selectors,
    ngx_wsman_instance_t *inst, ngx_uint_t *unknown)
{
    ngx_str_t          text;
    ngx_uint_t         i;
    ngx_wsman_pair_t  *sel;
    ngx_wsman_prop_t  *prop;

    sel = selectors->elts;
    *unknown = 0;

    for (i = 0; i < selectors->nelts; i++) {
        prop = ngx_wsman_instance_prop(inst, sel[i].name.data,
                                       sel[i].name.len);

        if (prop == NULL || !prop->key) {
            *unknown = 1;
            return 0;
        }

        if (ngx_wsman_prop_text(pool, prop, &text) != NGX_OK
            || text.len != sel[i].value.len
            || ngx_strncmp(text.data, sel[i].value.data, text.len) != 0)
        {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_wsman_enum_get(ngx_wsman_call_t *call)
{
    ngx_int_t               rc;
    ngx_str_t               after;
    ngx_uint_t              i, done, unknown, seen_unknown;
    ngx_array_t             out;
    ngx_wsman_instance_t   *inst, **found, *found_inst;
    ngx_wsman_provider_t   *prov;

    prov = ngx_wsman_enum_provider(&call->req->resource_uri);

    if (prov == NULL) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                    "No such class.");
    }

    if (!ngx_wsman_enum_selectors_enough(call, prov)) {
        return NGX_OK;
    }

    rc = ngx_wsman_enum_fetch(call, prov, ngx_wsman_enum_get);
    if (rc != NGX_OK) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : rc;
    }

    found_inst = NULL;

    if (prov->get && call->req->selectors.nelts) {
        rc = prov->get(prov, call->pool, call->log, &call->req->selectors,
                       &found_inst);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        /* the provider says the selectors are not the class's keys */
        if (rc == NGX_ABORT) {
            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                 "The selectors are not the keys of the "
                                 "class.");
            ngx_str_set(&call->fault.detail,
                        NGX_WSMAN_FAULT_DETAIL "UnexpectedSelectors");
            return NGX_OK;
        }

        if (rc == NGX_DECLINED) {
            found_inst = NULL;
        }

    } else {
        /* walk the class: small classes, or a singleton without keys */
        ngx_str_null(&after);
        seen_unknown = 0;

        for ( ;; ) {
            if (ngx_array_init(&out, call->pool, NGX_WSMAN_ENUM_CHUNK,
                               sizeof(ngx_wsman_instance_t *))
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            done = 0;

            if (prov->enumerate(prov, call->pool, call->log, &after,
                                NGX_WSMAN_ENUM_CHUNK, &out, &done)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            found = out.elts;

            for (i = 0; i < out.nelts && found_inst == NULL; i++) {
                inst = found[i];

                if (ngx_wsman_enum_selectors_match(call->pool,
                                                   &call->req->selectors,
                                                   inst, &unknown))
                {
                    found_inst = inst;
                }

                seen_unknown |= unknown;
            }

            if (found_inst || done || out.nelts == 0) {
                break;
            }

            if (ngx_wsman_enum_key(call->pool, prov, found[out.nelts - 1],
                                   &after)
                != NGX_OK)
            {
                break;
            }
        }

        if (found_inst == NULL && seen_unknown) {
            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                 "A selector is not a key of the class.");
            ngx_str_set(&call->fault.detail,
                        NGX_WSMAN_FAULT_DETAIL "UnexpectedSelectors");
            return NGX_OK;
        }
    }

    if (found_inst == NULL) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                    "No instance matches the selectors.");
    }

    ngx_str_set(&call->action, NGX_WSMAN_NS_WXF "/GetResponse");
    ngx_wsman_cimxml_object(&call->body, call->pool, found_inst, NULL);

    return ngx_wsman_call_fragment(call);
}


/* ------------------------------------------------------- Enumerate/Pull */

static xmlNodePtr
ngx_wsman_enum_child(xmlNodePtr parent, const char *ns, const char *name)
{
    xmlNodePtr  node;

    if (parent == NULL) {
        return NULL;
    }

    for (node = parent->children; node; node = node->next) {
        if (ngx_wsman_soap_is(node, ns, name)) {
            return node;
        }
    }

    return NULL;
}


/* absent: NGX_OK, value untouched; present but not a number:
 * NGX_WSMAN_FAULTED */
static ngx_int_t
ngx_wsman_enum_body_uint(ngx_wsman_call_t *call, xmlNodePtr parent,
    const char *ns, const char *name, ngx_uint_t *value)
{
    ngx_int_t   n;
    ngx_str_t   text;
    xmlNodePtr  node;

    node = ngx_wsman_enum_child(parent, ns, name);
    if (node == NULL) {
        return NGX_OK;
    }

    if (ngx_wsman_soap_node_text(call->pool, node, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    n = ngx_atoi(text.data, text.len);

    if (n == NGX_ERROR || n == 0) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER,
                             "MaxElements and MaxCharacters must be "
                             "positive integers.");
        return NGX_WSMAN_FAULTED;
    }

    *value = (ngx_uint_t) n;

    return NGX_OK;
}


/*
 * Selector filters are kept as "name\0value\0..." so that a Pull can
 * rebuild them from the context.
 */
static ngx_int_t
ngx_wsman_enum_decode_selectors(ngx_pool_t *pool, ngx_str_t *text,
    ngx_array_t *out)
{
    u_char            *p, *end, *z;
    ngx_wsman_pair_t  *pair;

    if (ngx_array_init(out, pool, 4, sizeof(ngx_wsman_pair_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    p = text->data;
    end = p + text->len;

    while (p < end) {
        pair = ngx_array_push(out);
        if (pair == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(pair, sizeof(ngx_wsman_pair_t));

        z = ngx_strlchr(p, end, '\0');
        if (z == NULL) {
            return NGX_ERROR;
        }

        pair->name.data = p;
        pair->name.len = z - p;
        p = z + 1;

        z = ngx_strlchr(p, end, '\0');
        if (z == NULL) {
            return NGX_ERROR;
        }

        pair->value.data = p;
        pair->value.len = z - p;
        p = z + 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_enum_parse_filter(ngx_wsman_call_t *call, xmlNodePtr node,
    ngx_wsman_enum_state_t *st)
{
    u_char            *p;
    size_t             len;
    ngx_str_t          dialect;
    ngx_uint_t         i;
    xmlChar           *attr;
    xmlNodePtr         set, sel;
    ngx_wsman_pair_t  *pair;

    attr = xmlGetNoNsProp(node, (const xmlChar *) "Dialect");
    dialect.data = attr;
    dialect.len = attr ? ngx_strlen(attr) : 0;

    if (dialect.len == sizeof(NGX_WSMAN_DIALECT_WQL) - 1
        && ngx_strncasecmp(dialect.data, (u_char *) NGX_WSMAN_DIALECT_WQL,
                           dialect.len) == 0)
    {
        xmlFree(attr);
        st->filter = NGX_WSMAN_FILTER_WQL;

        if (ngx_wsman_soap_node_text(call->pool, node, &st->filter_text)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        goto check_length;
    }

    if (dialect.len == sizeof(NGX_WSMAN_DIALECT_SELECTOR) - 1
        && ngx_strncmp(dialect.data, NGX_WSMAN_DIALECT_SELECTOR,
                       dialect.len) == 0)
    {
        xmlFree(attr);
        st->filter = NGX_WSMAN_FILTER_SELECTOR;

        set = ngx_wsman_enum_child(node, NGX_WSMAN_NS_WSMAN, "SelectorSet");

        if (ngx_array_init(&st->selectors, call->pool, 4,
                           sizeof(ngx_wsman_pair_t))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        len = 0;

        for (sel = set ? set->children : NULL; sel; sel = sel->next) {
            if (!ngx_wsman_soap_is(sel, NGX_WSMAN_NS_WSMAN, "Selector")) {
                continue;
            }

            pair = ngx_array_push(&st->selectors);
            if (pair == NULL) {
                return NGX_ERROR;
            }

            ngx_memzero(pair, sizeof(ngx_wsman_pair_t));

            attr = xmlGetNoNsProp(sel, (const xmlChar *) "Name");
            if (attr == NULL) {
                ngx_wsman_call_fault(call,
                                     NGX_WSMAN_FAULT_CANNOT_PROCESS_FILTER,
                                     "A selector of the filter has no "
                                     "Name.");
                return NGX_WSMAN_FAULTED;
            }

            pair->name.len = ngx_strlen(attr);
            pair->name.data = ngx_pnalloc(call->pool, pair->name.len);
            if (pair->name.data == NULL) {
                xmlFree(attr);
                return NGX_ERROR;
            }
            ngx_memcpy(pair->name.data, attr, pair->name.len);
            xmlFree(attr);

            if (ngx_wsman_soap_node_text(call->pool, sel, &pair->value)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            len += pair->name.len + pair->value.len + 2;
        }

        if (st->selectors.nelts == 0) {
            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_CANNOT_PROCESS_FILTER,
                                 "The selector filter has no selectors.");
            return NGX_WSMAN_FAULTED;
        }

        p = ngx_pnalloc(call->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        st->filter_text.data = p;
        pair = st->selectors.elts;

        for (i = 0; i < st->selectors.nelts; i++) {
            p = ngx_cpymem(p, pair[i].name.data, pair[i].name.len);
            *p++ = '\0';
            p = ngx_cpymem(p, pair[i].value.data, pair[i].value.len);
            *p++ = '\0';
        }

        st->filter_text.len = p - st->filter_text.data;

        goto check_length;
    }

    if (attr) {
        xmlFree(attr);
    }

    ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_FILTER_DIALECT_UNAVAILABLE,
                         "Supported dialects: WQL "
                         "(" NGX_WSMAN_DIALECT_WQL ") and the selector "
                         "filter (" NGX_WSMAN_DIALECT_SELECTOR ").");
    return NGX_WSMAN_FAULTED;

check_length:

    /* every open context keeps its filter in the shared zone */
    if (st->filter_text.len > NGX_WSMAN_ENUM_MAX_FILTER) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_CANNOT_PROCESS_FILTER,
                             "The filter is longer than 4096 "
                             "characters.");
        return NGX_WSMAN_FAULTED;
    }

    return NGX_OK;
}


/*
 * Resolve the provider and compile the filter.  For the WMI-style
 * ".../cimv2/" + "*" URI the WQL FROM clause names the class.
 */
static ngx_int_t
ngx_wsman_enum_prepare(ngx_wsman_call_t *call, ngx_wsman_enum_state_t *st)
{
    u_char     *p, *msg;
    size_t      len;
    ngx_int_t   rc;
    ngx_str_t   error, uri, *class_name;

    if (st->filter == NGX_WSMAN_FILTER_WQL) {
        if (ngx_wsman_wql_parse(call->pool, &st->filter_text, &st->wql,
                                &error)
            != NGX_OK)
        {
            call->fault.id = NGX_WSMAN_FAULT_CANNOT_PROCESS_FILTER;
            call->fault.message = error;
            return NGX_WSMAN_FAULTED;
        }

        uri = st->uri;

        if (uri.len && uri.data[uri.len - 1] == '*') {
            class_name = ngx_wsman_wql_class(st->wql);

            len = uri.len - 1 + class_name->len;
            p = ngx_pnalloc(call->pool, len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            st->uri.data = p;
            p = ngx_cpymem(p, uri.data, uri.len - 1);
            ngx_memcpy(p, class_name->data, class_name->len);
            st->uri.len = len;
        }

    } else if (st->filter == NGX_WSMAN_FILTER_SELECTOR
               && st->selectors.nelts == 0)
    {
        if (ngx_wsman_enum_decode_selectors(call->pool, &st->filter_text,
                                            &st->selectors)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    st->provider = ngx_wsman_enum_provider(&st->uri);

    if (st->provider == NULL || st->provider->enumerate == NULL) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                             "No such class to enumerate.");
        return NGX_WSMAN_FAULTED;
    }

    /*
     * The dispatcher checked the class the request URI names.  A class
     * reached otherwise (WQL FROM behind a wildcard URI, the context of a
     * Pull, whatever URI the Pull names, in whatever location) is checked
     * here, against this location's SDDL for it.
     */
    if (st->provider != ngx_wsman_enum_provider(&call->req->resource_uri)) {
        rc = ngx_wsman_access_check_class(call, st->provider);
        if (rc != NGX_OK) {
            return rc == NGX_WSMAN_FAULTED ? NGX_WSMAN_FAULTED : NGX_ERROR;
        }
    }

    /* "SELECT * FROM Other" on a class URI: the names must agree */
    if (st->wql) {
        class_name = ngx_wsman_wql_class(st->wql);

        if (class_name->len != st->provider->class_name.len
            || ngx_strncasecmp(class_name->data,
                               st->provider->class_name.data,
                               class_name->len) != 0)
        {
            len = sizeof("The WQL query selects from \"\", not from \"\".")
                  + class_name->len + st->provider->class_name.len;

            msg = ngx_pnalloc(call->pool, len);
            if (msg == NULL) {
                return NGX_ERROR;
            }

            call->fault.id = NGX_WSMAN_FAULT_CANNOT_PROCESS_FILTER;
            call->fault.message.data = msg;
            call->fault.message.len =
                ngx_snprintf(msg, len, "The WQL query selects from \"%V\", "
                             "not from \"%V\".", class_name,
                             &st->provider->class_name)
                - msg;
            return NGX_WSMAN_FAULTED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_enum_match(ngx_wsman_call_t *call, ngx_wsman_enum_state_t *st,
    ngx_wsman_instance_t *inst, ngx_pool_t *pool)
{
    ngx_str_t          text;
    ngx_uint_t         i;
    ngx_wsman_pair_t  *sel;
    ngx_wsman_prop_t  *prop;

    switch (st->filter) {

    case NGX_WSMAN_FILTER_WQL:
        return ngx_wsman_wql_match(st->wql, inst, pool);

    case NGX_WSMAN_FILTER_SELECTOR:
        sel = st->selectors.elts;

        for (i = 0; i < st->selectors.nelts; i++) {
            prop = ngx_wsman_instance_prop(inst, sel[i].name.data,
                                           sel[i].name.len);

            if (prop == NULL
                || ngx_wsman_prop_text(pool, prop, &text) != NGX_OK
                || text.len != sel[i].value.len
                || ngx_strncasecmp(text.data, sel[i].value.data, text.len)
                   != 0)
            {
                return 0;
            }
        }

        return 1;

    default:
        return 1;
    }
}


/* a copy of key in the request pool: scratch pools die with each chunk */
static ngx_int_t
ngx_wsman_enum_keep(ngx_pool_t *pool, ngx_str_t *key, ngx_str_t *to)
{
    to->data = ngx_pnalloc(pool, key->len + 1);
    if (to->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(to->data, key->data, key->len);
    to->len = key->len;

    return NGX_OK;
}


/*
 * Produce one batch after st->after.  Instances are made in a scratch pool
 * that dies with each chunk; only the XML of the items sent stays.
 *
 * st->after moves past every item sent and every item the filter
 * rejected before the batch filled up.  Once it is full we only look
 * further, to learn whether anything else matches: an exact fit then ends
 * with EndOfSequence instead of a context that would pull nothing.
 */
static ngx_int_t
ngx_wsman_enum_fill(ngx_wsman_call_t *call, ngx_wsman_enum_state_t *st,
    ngx_wsman_enum_batch_t *batch)
{
    ngx_int_t               rc;
    ngx_str_t               key, cursor;
    ngx_uint_t              i, done, want, full;
    ngx_pool_t             *scratch;
    ngx_array_t             out;
    ngx_array_t            *only;
    ngx_wsman_xml_t         item;
    ngx_wsman_instance_t  **inst;

    ngx_wsman_xml_init(&batch->items, call->pool, 4096);
    batch->count = 0;
    batch->done = 0;

    only = st->wql ? ngx_wsman_wql_properties(st->wql) : NULL;
    cursor = st->after;
    full = 0;

    for ( ;; ) {
        scratch = ngx_create_pool(16384, call->log);
        if (scratch == NULL) {
            return NGX_ERROR;
        }

        want = full ? NGX_WSMAN_ENUM_CHUNK
                    : ngx_min(NGX_WSMAN_ENUM_CHUNK,
                              batch->max_items - batch->count
                              + (st->filter ? 16 : 1));

        if (ngx_array_init(&out, scratch, want,
                           sizeof(ngx_wsman_instance_t *))
            != NGX_OK)
        {
            ngx_destroy_pool(scratch);
            return NGX_ERROR;
        }

        done = 0;

        rc = st->provider->enumerate(st->provider, scratch, call->log,
                                     &cursor, want, &out, &done);
        if (rc != NGX_OK) {
            ngx_destroy_pool(scratch);
            return NGX_ERROR;
        }

        inst = out.elts;

        for (i = 0; i < out.nelts; i++) {

            if (ngx_wsman_enum_key(scratch, st->provider, inst[i], &key)
                != NGX_OK)
            {
                ngx_log_error(NGX_LOG_ALERT, call->log, 0,
                              "wsman: %V instance without its key \"%V\"",
                              &st->provider->class_name,
                              &st->provider->key);
                ngx_destroy_pool(scratch);
                return NGX_ERROR;
            }

            rc = ngx_wsman_enum_match(call, st, inst[i], scratch);

            if (rc == NGX_ERROR) {
                ngx_destroy_pool(scratch);
                return NGX_ERROR;
            }

            if (full) {
                if (rc == 1) {
                    /* more to come: the next Pull starts at st->after */
                    ngx_destroy_pool(scratch);
                    return NGX_OK;
                }

                continue;
            }

            if (rc == 1) {
                ngx_wsman_xml_init(&item, call->pool, 1024);
                ngx_wsman_cimxml_item(&item, scratch, inst[i], st->mode,
                                      only);

                if (ngx_wsman_xml_failed(&item)) {
                    ngx_destroy_pool(scratch);
                    return NGX_ERROR;
                }

                /* always send one item, never more than fits */
                if (batch->count
                    && (size_t) (batch->items.length + item.length)
                       > batch->max_bytes)
                {
                    ngx_destroy_pool(scratch);
                    return NGX_OK;
                }

                ngx_wsman_xml_chain_append(&batch->items,
                                           ngx_wsman_xml_chain(&item),
                                           item.length);
                batch->count++;
            }

            if (ngx_wsman_enum_keep(call->pool, &key, &st->after)
                != NGX_OK)
            {
                ngx_destroy_pool(scratch);
                return NGX_ERROR;
            }

            full = (batch->count == batch->max_items);
        }

        /* the next chunk starts after the last instance of this one */
        if (out.nelts
            && (ngx_wsman_enum_key(scratch, st->provider,
                                   inst[out.nelts - 1], &key)
                != NGX_OK
                || ngx_wsman_enum_keep(call->pool, &key, &cursor) != NGX_OK))
        {
            ngx_destroy_pool(scratch);
            return NGX_ERROR;
        }

        ngx_destroy_pool(scratch);

        if (done || out.nelts == 0) {
            batch->done = 1;
            return NGX_OK;
        }
    }
}


/* w:TotalItemsCountEstimate: counted in chunks, scratch memory only */
static ngx_int_t
ngx_wsman_enum_total(ngx_wsman_call_t *call, ngx_wsman_enum_state_t *st)
{
    u_char                 *p;
    uint64_t                total;
    ngx_uint_t              i, done;
    ngx_str_t               after;
    ngx_pool_t             *scratch;
    ngx_array_t             out;
    ngx_wsman_instance_t  **inst;

    total = 0;
    after = st->after;

    do {
        scratch = ngx_create_pool(16384, call->log);
        if (scratch == NULL) {
            return NGX_ERROR;
        }

        done = 0;

        if (ngx_array_init(&out, scratch, 256, sizeof(void *)) != NGX_OK
            || st->provider->enumerate(st->provider, scratch, call->log,
                                       &after, 256, &out, &done)
               != NGX_OK)
        {
            ngx_destroy_pool(scratch);
            return NGX_ERROR;
        }

        inst = out.elts;

        for (i = 0; i < out.nelts; i++) {
            if (ngx_wsman_enum_match(call, st, inst[i], scratch) == 1) {
                total++;
            }
        }

        if (out.nelts) {
            if (ngx_wsman_enum_key(scratch, st->provider,
                                   inst[out.nelts - 1], &after)
                != NGX_OK)
            {
                ngx_destroy_pool(scratch);
                return NGX_ERROR;
            }

            p = ngx_pnalloc(call->pool, after.len);
            if (p == NULL) {
                ngx_destroy_pool(scratch);
                return NGX_ERROR;
            }

            ngx_memcpy(p, after.data, after.len);
            after.data = p;
        }

        ngx_destroy_pool(scratch);

    } while (!done && out.nelts);

    p = ngx_pnalloc(call->pool, sizeof("<w:TotalItemsCountEstimate>"
                                       "</w:TotalItemsCountEstimate>")
                                + NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    call->header.data = p;
    call->header.len = ngx_sprintf(p, "<w:TotalItemsCountEstimate>%uL"
                                   "</w:TotalItemsCountEstimate>", total)
                       - p;

    return NGX_OK;
}


static size_t
ngx_wsman_enum_budget(ngx_wsman_call_t *call, ngx_uint_t max_chars)
{
    size_t  limit;

    limit = call->req->max_envelope_size ? call->req->max_envelope_size
                                         : call->conf->max_envelope_size;

    limit = limit > NGX_WSMAN_ENUM_OVERHEAD
            ? limit - NGX_WSMAN_ENUM_OVERHEAD : 1;

    if (max_chars && max_chars < limit) {
        limit = max_chars;
    }

    return limit;
}


ngx_int_t
ngx_wsman_enum_enumerate(ngx_wsman_call_t *call)
{
    u_char                   id[NGX_WSMAN_CONTEXT_ID_LEN];
    ngx_int_t                rc;
    ngx_str_t                mode;
    ngx_uint_t               optimize, max_elements;
    xmlNodePtr               en, node;
    ngx_wsman_enum_batch_t   batch;
    ngx_wsman_enum_state_t   st;

    en = call->req->payload;

    if (!ngx_wsman_soap_is(en, NGX_WSMAN_NS_WSEN, "Enumerate")) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_SCHEMA_VALIDATION,
                                    "The body is not an n:Enumerate.");
    }

    ngx_memzero(&st, sizeof(ngx_wsman_enum_state_t));
    st.uri = call->req->resource_uri;
    st.mode = NGX_WSMAN_ENUM_OBJECTS;

    node = ngx_wsman_enum_child(en, NGX_WSMAN_NS_WSMAN, "EnumerationMode");
    if (node) {
        if (ngx_wsman_soap_node_text(call->pool, node, &mode) != NGX_OK) {
            return NGX_ERROR;
        }

        if (mode.len == 12 && ngx_strncmp(mode.data, "EnumerateEPR", 12) == 0)
        {
            st.mode = NGX_WSMAN_ENUM_EPR;

        } else if (mode.len == 21
                   && ngx_strncmp(mode.data, "EnumerateObjectAndEPR", 21)
                      == 0)
        {
            st.mode = NGX_WSMAN_ENUM_OBJECT_EPR;

        } else {
            return ngx_wsman_call_fault(call,
                                        NGX_WSMAN_FAULT_UNSUPPORTED_FEATURE,
                                        "w:EnumerationMode must be "
                                        "EnumerateEPR or "
                                        "EnumerateObjectAndEPR.");
        }
    }

    node = ngx_wsman_enum_child(en, NGX_WSMAN_NS_WSMAN, "Filter");
    if (node == NULL) {
        node = ngx_wsman_enum_child(en, NGX_WSMAN_NS_WSEN, "Filter");
    }

    if (node) {
        rc = ngx_wsman_enum_parse_filter(call, node, &st);
        if (rc != NGX_OK) {
            return rc == NGX_WSMAN_FAULTED ? NGX_OK : NGX_ERROR;
        }
    }

    rc = ngx_wsman_enum_prepare(call, &st);
    if (rc != NGX_OK) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : NGX_ERROR;
    }

    rc = ngx_wsman_enum_fetch(call, st.provider, ngx_wsman_enum_enumerate);
    if (rc != NGX_OK) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : rc;
    }

    optimize = ngx_wsman_enum_child(en, NGX_WSMAN_NS_WSMAN,
                                    "OptimizeEnumeration") != NULL;

    max_elements = 1;
    rc = ngx_wsman_enum_body_uint(call, en, NGX_WSMAN_NS_WSMAN, "MaxElements",
                                  &max_elements);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_WSMAN_FAULTED) {
        return NGX_OK;
    }

    ngx_str_null(&st.after);

    if (call->req->total_estimate_requested
        && ngx_wsman_enum_total(call, &st) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&batch, sizeof(ngx_wsman_enum_batch_t));
    batch.done = 0;

    if (optimize) {
        batch.max_items = ngx_min(max_elements, call->conf->max_batch_items);
        batch.max_bytes = ngx_wsman_enum_budget(call, 0);

        if (ngx_wsman_enum_fill(call, &st, &batch) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    ngx_str_set(&call->action, NGX_WSMAN_NS_WSEN "/EnumerateResponse");

    ngx_wsman_xml_literal(&call->body, "<n:EnumerateResponse>"
                          "<n:EnumerationContext>");

    if (!batch.done) {
        rc = ngx_wsman_enum_store(call, &st, id);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            call->body.failed = 0;
            ngx_wsman_xml_init(&call->body, call->pool, 4096);
            return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_QUOTA_LIMIT,
                                        "Too many enumerations are open; "
                                        "Pull or Release some.");
        }

        ngx_wsman_xml_raw(&call->body, id, NGX_WSMAN_CONTEXT_ID_LEN);
    }

    ngx_wsman_xml_literal(&call->body, "</n:EnumerationContext>");

    if (optimize) {
        ngx_wsman_xml_literal(&call->body, "<w:Items>");
        ngx_wsman_xml_chain_append(&call->body,
                                   ngx_wsman_xml_chain(&batch.items),
                                   batch.items.length);
        ngx_wsman_xml_literal(&call->body, "</w:Items>");

        if (batch.done) {
            ngx_wsman_xml_literal(&call->body, "<w:EndOfSequence/>");
        }
    }

    ngx_wsman_xml_literal(&call->body, "</n:EnumerateResponse>");

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_enum_context_id(ngx_wsman_call_t *call, const char *element,
    ngx_str_t *id)
{
    xmlNodePtr  node;

    node = ngx_wsman_enum_child(call->req->payload, NGX_WSMAN_NS_WSEN,
                                "EnumerationContext");

    if (!ngx_wsman_soap_is(call->req->payload, NGX_WSMAN_NS_WSEN, element)
        || node == NULL)
    {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_SCHEMA_VALIDATION,
                             "The body has no n:EnumerationContext.");
        return NGX_WSMAN_FAULTED;
    }

    return ngx_wsman_soap_node_text(call->pool, node, id);
}


ngx_int_t
ngx_wsman_enum_pull(ngx_wsman_call_t *call)
{
    ngx_int_t                rc;
    ngx_str_t                id;
    ngx_uint_t               max_elements, max_chars;
    ngx_wsman_enum_batch_t   batch;
    ngx_wsman_enum_state_t   st;

    rc = ngx_wsman_enum_context_id(call, "Pull", &id);
    if (rc != NGX_OK) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : NGX_ERROR;
    }

    max_elements = 1;
    max_chars = 0;

    rc = ngx_wsman_enum_body_uint(call, call->req->payload, NGX_WSMAN_NS_WSEN,
                                  "MaxElements", &max_elements);
    if (rc == NGX_ERROR || rc == NGX_WSMAN_FAULTED) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : NGX_ERROR;
    }

    rc = ngx_wsman_enum_body_uint(call, call->req->payload, NGX_WSMAN_NS_WSEN,
                                  "MaxCharacters", &max_chars);
    if (rc == NGX_ERROR || rc == NGX_WSMAN_FAULTED) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : NGX_ERROR;
    }

    ngx_memzero(&st, sizeof(ngx_wsman_enum_state_t));

    rc = ngx_wsman_enum_take(call, &id, &st);

    if (rc == NGX_DECLINED) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT,
                                    NULL);
    }

    if (rc == NGX_BUSY) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_QUOTA_LIMIT,
                                    "A Pull is already running on this "
                                    "enumeration.");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_wsman_enum_prepare(call, &st);

    if (rc == NGX_OK) {
        rc = ngx_wsman_enum_fetch(call, st.provider, ngx_wsman_enum_pull);

        if (rc == NGX_AGAIN) {
            /* the Pull runs again when the data is there */
            ngx_wsman_enum_update(call, &id, &st, 0);
            return NGX_AGAIN;
        }
    }

    if (rc == NGX_OK) {
        ngx_memzero(&batch, sizeof(ngx_wsman_enum_batch_t));
        batch.max_items = ngx_min(max_elements, call->conf->max_batch_items);
        batch.max_bytes = ngx_wsman_enum_budget(call, max_chars);

        rc = ngx_wsman_enum_fill(call, &st, &batch);
    }

    if (rc != NGX_OK) {
        /* the context cannot go on: end it */
        ngx_wsman_enum_update(call, &id, &st, 1);
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : NGX_ERROR;
    }

    ngx_wsman_enum_update(call, &id, &st, batch.done);

    ngx_str_set(&call->action, NGX_WSMAN_NS_WSEN "/PullResponse");

    ngx_wsman_xml_literal(&call->body, "<n:PullResponse>");

    if (!batch.done) {
        ngx_wsman_xml_literal(&call->body, "<n:EnumerationContext>");
        ngx_wsman_xml_text_str(&call->body, &id);
        ngx_wsman_xml_literal(&call->body, "</n:EnumerationContext>");
    }

    ngx_wsman_xml_literal(&call->body, "<n:Items>");
    ngx_wsman_xml_chain_append(&call->body, ngx_wsman_xml_chain(&batch.items),
                               batch.items.length);
    ngx_wsman_xml_literal(&call->body, "</n:Items>");

    if (batch.done) {
        ngx_wsman_xml_literal(&call->body, "<n:EndOfSequence/>");
    }

    ngx_wsman_xml_literal(&call->body, "</n:PullResponse>");

    return NGX_OK;
}


ngx_int_t
ngx_wsman_enum_release(ngx_wsman_call_t *call)
{
    ngx_int_t               rc;
    ngx_str_t               id;
    ngx_wsman_enum_node_t  *en;
    ngx_wsman_enum_zone_t  *zone;

    rc = ngx_wsman_enum_context_id(call, "Release", &id);
    if (rc != NGX_OK) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : NGX_ERROR;
    }

    zone = ngx_wsman_enum_zone();

    ngx_shmtx_lock(&zone->shpool->mutex);

    en = ngx_wsman_enum_lookup(zone, &id);

    if (en == NULL || !ngx_wsman_enum_owner_is(en, &call->identity->user)) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT,
                                    NULL);
    }

    ngx_wsman_enum_delete(zone, en);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_str_set(&call->action, NGX_WSMAN_NS_WSEN "/ReleaseResponse");

    return NGX_OK;
}


/* ------------------------------------------------------------- Invoke */

ngx_int_t
ngx_wsman_enum_invoke(ngx_wsman_call_t *call)
{
    u_char                *p;
    ngx_int_t              rc, rv;
    ngx_str_t             *action, method;
    ngx_wsman_provider_t  *prov;

    prov = ngx_wsman_enum_provider(&call->req->resource_uri);
    action = &call->req->action;

    /* custom actions are the class URI plus "/Method" */
    if (prov == NULL || prov->invoke == NULL
        || action->len <= prov->resource_uri.len + 1
        || ngx_strncasecmp(action->data, prov->resource_uri.data,
                           prov->resource_uri.len) != 0
        || action->data[prov->resource_uri.len] != '/')
    {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                    NULL);
    }

    method.data = action->data + prov->resource_uri.len + 1;
    method.len = action->len - prov->resource_uri.len - 1;

    /* it becomes an element name in the answer */
    for (p = method.data; p < method.data + method.len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '_'))
        {
            return ngx_wsman_call_fault(call,
                                        NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                        NULL);
        }
    }

    if (!ngx_wsman_enum_selectors_enough(call, prov)) {
        return NGX_OK;
    }

    rc = ngx_wsman_enum_fetch(call, prov, ngx_wsman_enum_invoke);
    if (rc != NGX_OK) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : rc;
    }

    rv = 0;
    rc = prov->invoke(prov, call, &method, &rv);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (call->fault.id != NGX_WSMAN_FAULT_NONE) {
        return NGX_OK;
    }

    if (rc == NGX_DECLINED) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                    "No instance matches the selectors.");
    }

    if (rc == NGX_ABORT) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                    NULL);
    }

    p = ngx_pnalloc(call->pool, action->len + sizeof("Response") - 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    call->action.data = p;
    p = ngx_cpymem(p, action->data, action->len);
    p = ngx_cpymem(p, "Response", sizeof("Response") - 1);
    call->action.len = p - call->action.data;

    ngx_wsman_xml_literal(&call->body, "<p:");
    ngx_wsman_xml_str(&call->body, &method);
    ngx_wsman_xml_literal(&call->body, "_OUTPUT xmlns:p=\"");
    ngx_wsman_xml_text_str(&call->body, &prov->resource_uri);
    ngx_wsman_xml_literal(&call->body, "\"><p:ReturnValue>");
    ngx_wsman_xml_uint(&call->body, (uint64_t) rv);
    ngx_wsman_xml_literal(&call->body, "</p:ReturnValue></p:");
    ngx_wsman_xml_str(&call->body, &method);
    ngx_wsman_xml_literal(&call->body, "_OUTPUT>");

    return NGX_OK;
}
