/*
 * The enumeration context store's rbtrees order crc32 ties by key: crafted
 * trees put equal hashes on both sides of a node (as rotations do), and
 * the lookups must still find every node; inserts put a tie on the side
 * its key belongs to.
 */

#include "unit.h"
#include "ngx_wsman_enum_tree.h"


void unit_test_enum_tree(void);


typedef struct {
    ngx_rbtree_node_t   node;   /* color is the first byte of the data */
    u_char              room[sizeof(ngx_wsman_enum_node_t) + 64];
} unit_ctx_node_t;


static ngx_wsman_enum_node_t *
unit_ctx(unit_ctx_node_t *n, uint32_t hash, const char *id)
{
    ngx_wsman_enum_node_t  *en;

    ngx_memzero(n, sizeof(unit_ctx_node_t));
    n->node.key = hash;
    en = (ngx_wsman_enum_node_t *) &n->node.color;
    ngx_memcpy(en->id, id, NGX_WSMAN_CONTEXT_ID_LEN);

    return en;
}


static ngx_wsman_enum_owner_t *
unit_owner(unit_ctx_node_t *n, uint32_t hash, const char *name)
{
    ngx_wsman_enum_owner_t  *ow;

    ngx_memzero(n, sizeof(unit_ctx_node_t));
    n->node.key = hash;
    ow = (ngx_wsman_enum_owner_t *) &n->node.color;
    ow->len = (u_short) ngx_strlen(name);
    ngx_memcpy(ow->name, name, ow->len);

    return ow;
}


#define ID_A  "uuid:00000000-0000-0000-0000-00000000000a"
#define ID_B  "uuid:00000000-0000-0000-0000-00000000000b"
#define ID_C  "uuid:00000000-0000-0000-0000-00000000000c"
#define ID_X  "uuid:00000000-0000-0000-0000-00000000000x"


static void
unit_test_context_ties(void)
{
    ngx_rbtree_t            tree;
    ngx_rbtree_node_t       sentinel;
    unit_ctx_node_t         a, b, c, d;
    ngx_wsman_enum_node_t  *ea, *eb, *ec, *ed;

    ngx_rbtree_init(&tree, &sentinel, ngx_wsman_enum_context_insert);

    /*
     * the shape a left rotation leaves behind: b at the root, its hash
     * twins a on the left and c on the right
     */
    eb = unit_ctx(&b, 7, ID_B);
    ea = unit_ctx(&a, 7, ID_A);
    ec = unit_ctx(&c, 7, ID_C);

    tree.root = &b.node;
    b.node.parent = &sentinel;
    b.node.left = &a.node;
    b.node.right = &c.node;
    a.node.parent = &b.node;
    c.node.parent = &b.node;
    a.node.left = a.node.right = &sentinel;
    c.node.left = c.node.right = &sentinel;

    UNIT_CHECK(ngx_wsman_enum_context_find(&tree, 7, (u_char *) ID_A)
               == ea);
    UNIT_CHECK(ngx_wsman_enum_context_find(&tree, 7, (u_char *) ID_B)
               == eb);
    UNIT_CHECK(ngx_wsman_enum_context_find(&tree, 7, (u_char *) ID_C)
               == ec);
    UNIT_CHECK(ngx_wsman_enum_context_find(&tree, 7, (u_char *) ID_X)
               == NULL);
    UNIT_CHECK(ngx_wsman_enum_context_find(&tree, 8, (u_char *) ID_A)
               == NULL);

    /* a fourth twin with the smallest id goes below a, on its left */
    ed = unit_ctx(&d, 7, "uuid:00000000-0000-0000-0000-000000000009");
    ngx_wsman_enum_context_insert(tree.root, &d.node, &sentinel);

    UNIT_CHECK(a.node.left == &d.node);
    UNIT_CHECK(ngx_wsman_enum_context_find(&tree, 7,
                   (u_char *) "uuid:00000000-0000-0000-0000-000000000009")
               == ed);
}


static void
unit_test_context_rotations(void)
{
    ngx_uint_t              i, j, found;
    ngx_rbtree_t            tree;
    ngx_rbtree_node_t       sentinel;
    unit_ctx_node_t         n[64];
    u_char                  id[NGX_WSMAN_CONTEXT_ID_LEN + 1];

    /* many twins through the real ngx_rbtree_insert (with rotations):
     * every one stays reachable */
    ngx_rbtree_init(&tree, &sentinel, ngx_wsman_enum_context_insert);

    for (i = 0; i < 64; i++) {
        ngx_snprintf(id, sizeof(id),
                     "uuid:00000000-0000-0000-0000-%012ui%Z",
                     (i * 37) % 64);
        unit_ctx(&n[i], (uint32_t) (i % 3), (char *) id);
        ngx_rbtree_insert(&tree, &n[i].node);
    }

    found = 0;

    for (i = 0; i < 64; i++) {
        j = (i * 37) % 64;
        ngx_snprintf(id, sizeof(id),
                     "uuid:00000000-0000-0000-0000-%012ui%Z", j);

        if (ngx_wsman_enum_context_find(&tree, (uint32_t) (i % 3), id)
            == (ngx_wsman_enum_node_t *) &n[i].node.color)
        {
            found++;
        }
    }

    UNIT_EQ_UINT(found, 64);
}


static void
unit_test_owner_ties(void)
{
    ngx_rbtree_t             tree;
    ngx_rbtree_node_t        sentinel;
    unit_ctx_node_t          a, b, c, d;
    ngx_wsman_enum_owner_t  *oa, *ob, *oc, *od;

    ngx_rbtree_init(&tree, &sentinel, ngx_wsman_enum_owner_insert);

    ob = unit_owner(&b, 3, "bob");
    oa = unit_owner(&a, 3, "alice");
    oc = unit_owner(&c, 3, "carol");

    tree.root = &b.node;
    b.node.parent = &sentinel;
    b.node.left = &a.node;
    b.node.right = &c.node;
    a.node.parent = &b.node;
    c.node.parent = &b.node;
    a.node.left = a.node.right = &sentinel;
    c.node.left = c.node.right = &sentinel;

    UNIT_CHECK(ngx_wsman_enum_owner_find(&tree, 3, (u_char *) "alice", 5)
               == oa);
    UNIT_CHECK(ngx_wsman_enum_owner_find(&tree, 3, (u_char *) "bob", 3)
               == ob);
    UNIT_CHECK(ngx_wsman_enum_owner_find(&tree, 3, (u_char *) "carol", 5)
               == oc);
    /* a prefix of a name is another name */
    UNIT_CHECK(ngx_wsman_enum_owner_find(&tree, 3, (u_char *) "bo", 2)
               == NULL);
    UNIT_CHECK(ngx_wsman_enum_owner_find(&tree, 3, (u_char *) "", 0)
               == NULL);

    /* "", the anonymous owner, sorts first */
    od = unit_owner(&d, 3, "");
    ngx_wsman_enum_owner_insert(tree.root, &d.node, &sentinel);

    UNIT_CHECK(a.node.left == &d.node);
    UNIT_CHECK(ngx_wsman_enum_owner_find(&tree, 3, (u_char *) "", 0) == od);
}


void
unit_test_enum_tree(void)
{
    unit_test_context_ties();
    unit_test_context_rotations();
    unit_test_owner_ties();
}
