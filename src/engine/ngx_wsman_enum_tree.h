/*
 * The enumeration context store's two rbtrees (contexts by id, owners by
 * name): nodes are ordered by crc32 and, on equal hashes, by key, as
 * ngx_http_limit_req_module orders its states, so a lookup that meets a
 * tie still finds the node wherever rotations put it.
 */

#ifndef _NGX_WSMAN_ENUM_TREE_H_INCLUDED_
#define _NGX_WSMAN_ENUM_TREE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_WSMAN_CONTEXT_ID_LEN     (sizeof("uuid:") - 1 + 36)


/* what one identity holds in the zone, while it holds anything */
typedef struct {
    u_char                      color;
    u_char                      pad;
    u_short                     len;
    size_t                      bytes;          /* slab memory of contexts */
    u_char                      name[1];
} ngx_wsman_enum_owner_t;


/* one enumeration context in shared memory */
typedef struct {
    u_char                      color;
    u_char                      mode;
    u_char                      filter;
    u_char                      busy;
    ngx_queue_t                 queue;
    ngx_msec_t                  expires;
    u_char                      id[NGX_WSMAN_CONTEXT_ID_LEN];
    u_short                     uri_len;
    u_short                     owner_len;
    u_short                     key_len;
    u_short                     key_size;
    uint32_t                    filter_len;
    u_char                      data[1];        /* uri, owner, filter, key */
} ngx_wsman_enum_node_t;


void ngx_wsman_enum_context_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
ngx_wsman_enum_node_t *ngx_wsman_enum_context_find(ngx_rbtree_t *tree,
    uint32_t hash, u_char *id);

void ngx_wsman_enum_owner_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
ngx_wsman_enum_owner_t *ngx_wsman_enum_owner_find(ngx_rbtree_t *tree,
    uint32_t hash, u_char *name, size_t len);


#endif /* _NGX_WSMAN_ENUM_TREE_H_INCLUDED_ */
