/*
 * The enumeration context store's rbtrees.  ngx_rbtree_insert_value puts
 * an equal hash to the right, but rotations may later move it to the left
 * of its twin, where a lookup that walks right on a tie never looks: a
 * crc32 collision could then hide a live context (or split an owner's
 * share in two).  Ties are ordered by key instead, in insert and lookup
 * alike (ngx_http_limit_req_module does the same).
 */

#include "ngx_wsman_enum_tree.h"


#define ngx_wsman_enum_tree_data(node, type)                                 \
    ((type *) &(node)->color)


void
ngx_wsman_enum_context_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t      **p;
    ngx_wsman_enum_node_t   *en, *ent;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            en = ngx_wsman_enum_tree_data(node, ngx_wsman_enum_node_t);
            ent = ngx_wsman_enum_tree_data(temp, ngx_wsman_enum_node_t);

            p = (ngx_memcmp(en->id, ent->id, NGX_WSMAN_CONTEXT_ID_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


ngx_wsman_enum_node_t *
ngx_wsman_enum_context_find(ngx_rbtree_t *tree, uint32_t hash, u_char *id)
{
    ngx_int_t               rc;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_wsman_enum_node_t  *en;

    node = tree->root;
    sentinel = tree->sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        en = ngx_wsman_enum_tree_data(node, ngx_wsman_enum_node_t);

        rc = ngx_memcmp(id, en->id, NGX_WSMAN_CONTEXT_ID_LEN);

        if (rc == 0) {
            return en;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


void
ngx_wsman_enum_owner_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t       **p;
    ngx_wsman_enum_owner_t   *ow, *owt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            ow = ngx_wsman_enum_tree_data(node, ngx_wsman_enum_owner_t);
            owt = ngx_wsman_enum_tree_data(temp, ngx_wsman_enum_owner_t);

            p = (ngx_memn2cmp(ow->name, owt->name, ow->len, owt->len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


ngx_wsman_enum_owner_t *
ngx_wsman_enum_owner_find(ngx_rbtree_t *tree, uint32_t hash, u_char *name,
    size_t len)
{
    ngx_int_t                rc;
    ngx_rbtree_node_t       *node, *sentinel;
    ngx_wsman_enum_owner_t  *ow;

    node = tree->root;
    sentinel = tree->sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        ow = ngx_wsman_enum_tree_data(node, ngx_wsman_enum_owner_t);

        rc = ngx_memn2cmp(name, ow->name, len, (size_t) ow->len);

        if (rc == 0) {
            return ow;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}
