/*
 * The resource engine's private declarations: what Get/Invoke
 * (ngx_wsman_transfer.c), Enumerate/Pull/Release (ngx_wsman_enumeration.c)
 * and the context store (ngx_wsman_context.c) share.  Only those files
 * include it.
 */

#ifndef _NGX_WSMAN_ENGINE_INT_H_INCLUDED_
#define _NGX_WSMAN_ENGINE_INT_H_INCLUDED_


#include "ngx_wsman_http.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_enum_tree.h"
#include "ngx_wsman_wql.h"


/* instances asked from a provider at a time */
#define NGX_WSMAN_ENUM_CHUNK         64


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




/* ngx_wsman_context.c: the shared-memory context store */
ngx_wsman_enum_zone_t *ngx_wsman_enum_zone(void);
ngx_wsman_enum_node_t *ngx_wsman_enum_lookup(ngx_wsman_enum_zone_t *zone,
    ngx_str_t *id);
void ngx_wsman_enum_delete(ngx_wsman_enum_zone_t *zone,
    ngx_wsman_enum_node_t *node);
ngx_int_t ngx_wsman_enum_owner_is(ngx_wsman_enum_node_t *node,
    ngx_str_t *user);
ngx_int_t ngx_wsman_enum_store(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st, u_char *id);
ngx_int_t ngx_wsman_enum_take(ngx_wsman_call_t *call, ngx_str_t *id,
    ngx_wsman_enum_state_t *st);
void ngx_wsman_enum_update(ngx_wsman_call_t *call, ngx_str_t *id,
    ngx_wsman_enum_state_t *st, ngx_uint_t done);

/* ngx_wsman_transfer.c: providers */
ngx_int_t ngx_wsman_enum_fetch(ngx_wsman_call_t *call,
    ngx_wsman_provider_t *prov, ngx_wsman_op_pt resume);
ngx_int_t ngx_wsman_enum_key(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    ngx_wsman_instance_t *inst, ngx_str_t *key);


#endif /* _NGX_WSMAN_ENGINE_INT_H_INCLUDED_ */
