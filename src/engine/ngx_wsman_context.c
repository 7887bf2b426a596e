/*
 * The resource engine's context store.  Contexts are kept in a
 * shared-memory zone (slab + rbtree + LRU queue, as
 * ngx_http_limit_req_module keeps its states), so Pull works from every
 * worker and survives the connection.  A context holds what it needs to
 * resume: the class, the filter, the mode, its owner and the key of the
 * last item sent.  One identity may hold only a share of the zone.
 */

#include "ngx_wsman_engine_int.h"
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


/* expired contexts dropped per Enumerate, as limit_req does */
#define NGX_WSMAN_ENUM_EXPIRE_STEP   8

/* one identity may hold this part of the zone (1/4), so that one user
 * cannot keep everyone else from enumerating */
#define NGX_WSMAN_ENUM_SHARE         4


static ngx_int_t ngx_wsman_enum_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_wsman_enum_expire(ngx_wsman_enum_zone_t *zone,
    ngx_uint_t all);


/* ---------------------------------------------------------------- zone */

ngx_wsman_enum_zone_t *
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


ngx_wsman_enum_node_t *
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


void
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


ngx_int_t
ngx_wsman_enum_owner_is(ngx_wsman_enum_node_t *en, ngx_str_t *user)
{
    return en->owner_len == user->len
           && ngx_memcmp(en->data + en->uri_len, user->data, user->len) == 0;
}


/* a new context for st; writes its id ("uuid:...") into id */
ngx_int_t
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
ngx_int_t
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
void
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
