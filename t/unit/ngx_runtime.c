/*
 * Just enough of the nginx core for the unit tests: nginx-dev ships
 * headers only, so the functions the module's pure C sources call are
 * re-implemented here, small and simple, with nginx's semantics.
 *
 * The pool gives every allocation its own malloc() block (recorded in
 * pool->large), so valgrind and ASan see overruns of the code under test
 * exactly, and ngx_destroy_pool() runs the cleanups and frees everything.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>
#include <stdlib.h>

#include "unit.h"


/* failure injection: < 0 off, otherwise allocations left until failure */
static ngx_int_t  unit_alloc_budget = -1;


void
unit_alloc_fail_after(ngx_int_t n)
{
    unit_alloc_budget = n;
}


static void *
unit_pool_alloc(ngx_pool_t *pool, size_t size)
{
    ngx_pool_large_t  *large;

    if (unit_alloc_budget == 0) {
        return NULL;
    }

    if (unit_alloc_budget > 0) {
        unit_alloc_budget--;
    }

    large = malloc(sizeof(ngx_pool_large_t));
    if (large == NULL) {
        return NULL;
    }

    /* malloc() memory is aligned for any type, as ngx_palloc()'s is */
    large->alloc = malloc(size ? size : 1);
    if (large->alloc == NULL) {
        free(large);
        return NULL;
    }

    large->next = pool->large;
    pool->large = large;

    return large->alloc;
}


ngx_pool_t *
ngx_create_pool(size_t size, ngx_log_t *log)
{
    ngx_pool_t  *pool;

    pool = calloc(1, sizeof(ngx_pool_t));
    if (pool == NULL) {
        return NULL;
    }

    pool->max = size;
    pool->current = pool;
    pool->log = log;

    return pool;
}


void
ngx_destroy_pool(ngx_pool_t *pool)
{
    ngx_pool_large_t    *l, *next;
    ngx_pool_cleanup_t  *c;

    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler) {
            c->handler(c->data);
        }
    }

    for (l = pool->large; l; l = next) {
        next = l->next;
        free(l->alloc);
        free(l);
    }

    free(pool);
}


/* the shell host allocates outside pools (its channel table) */
void *
ngx_alloc(size_t size, ngx_log_t *log)
{
    return malloc(size);
}


void *
ngx_palloc(ngx_pool_t *pool, size_t size)
{
    return unit_pool_alloc(pool, size);
}


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    return unit_pool_alloc(pool, size);
}


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    void  *p;

    p = unit_pool_alloc(pool, size);
    if (p) {
        ngx_memzero(p, size);
    }

    return p;
}


ngx_pool_cleanup_t *
ngx_pool_cleanup_add(ngx_pool_t *p, size_t size)
{
    ngx_pool_cleanup_t  *c;

    c = ngx_palloc(p, sizeof(ngx_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = ngx_palloc(p, size);
        if (c->data == NULL) {
            return NULL;
        }

    } else {
        c->data = NULL;
    }

    c->handler = NULL;
    c->next = p->cleanup;
    p->cleanup = c;

    return c;
}


/* ngx_array.h: grow by doubling into a new pool block */
void *
ngx_array_push(ngx_array_t *a)
{
    void    *elts;
    size_t   nalloc;

    if (a->nelts == a->nalloc) {
        nalloc = a->nalloc ? 2 * a->nalloc : 1;

        elts = ngx_palloc(a->pool, nalloc * a->size);
        if (elts == NULL) {
            return NULL;
        }

        ngx_memcpy(elts, a->elts, a->nelts * a->size);

        a->elts = elts;
        a->nalloc = nalloc;
    }

    return (u_char *) a->elts + a->size * a->nelts++;
}


/* ngx_list.h: a new part of nalloc elements when the last one is full */
void *
ngx_list_push(ngx_list_t *l)
{
    ngx_list_part_t  *last;

    last = l->last;

    if (last->nelts == l->nalloc) {
        last = ngx_palloc(l->pool, sizeof(ngx_list_part_t));
        if (last == NULL) {
            return NULL;
        }

        last->elts = ngx_palloc(l->pool, l->nalloc * l->size);
        if (last->elts == NULL) {
            return NULL;
        }

        last->nelts = 0;
        last->next = NULL;

        l->last->next = last;
        l->last = last;
    }

    return (u_char *) last->elts + l->size * last->nelts++;
}


ngx_buf_t *
ngx_create_temp_buf(ngx_pool_t *pool, size_t size)
{
    ngx_buf_t  *b;

    b = ngx_calloc_buf(pool);
    if (b == NULL) {
        return NULL;
    }

    b->start = ngx_palloc(pool, size);
    if (b->start == NULL) {
        return NULL;
    }

    b->pos = b->start;
    b->last = b->start;
    b->end = b->start + size;
    b->temporary = 1;

    return b;
}


ngx_chain_t *
ngx_alloc_chain_link(ngx_pool_t *pool)
{
    return ngx_palloc(pool, sizeof(ngx_chain_t));
}


/* ngx_string.c semantics: stops at the first NUL of either string */
ngx_int_t
ngx_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    ngx_uint_t  c1, c2;

    while (n--) {
        c1 = ngx_tolower(*s1);
        c2 = ngx_tolower(*s2);
        s1++;
        s2++;

        if (c1 != c2) {
            return c1 < c2 ? -1 : 1;
        }

        if (c1 == 0) {
            return 0;
        }
    }

    return 0;
}


/* ngx_string.c semantics: copies at most n - 1 bytes, always terminates */
u_char *
ngx_cpystrn(u_char *dst, u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n) {
        *dst = *src;

        if (*dst == '\0') {
            return dst;
        }

        dst++;
        src++;
    }

    *dst = '\0';

    return dst;
}


/*
 * ngx_string.c semantics: decoding stops at the first '='; a character
 * outside the alphabet before it, or a length of 4n+1, is an error.
 */

static int
unit_base64_value(u_char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+') {
        return 62;
    }

    if (c == '/') {
        return 63;
    }

    return -1;
}


ngx_int_t
ngx_decode_base64(ngx_str_t *dst, ngx_str_t *src)
{
    size_t     len, i;
    u_char    *d;
    uint32_t   bits;
    ngx_uint_t nbits;

    for (len = 0; len < src->len && src->data[len] != '='; len++) {
        if (unit_base64_value(src->data[len]) < 0) {
            return NGX_ERROR;
        }
    }

    if (len % 4 == 1) {
        return NGX_ERROR;
    }

    d = dst->data;
    bits = 0;
    nbits = 0;

    for (i = 0; i < len; i++) {
        bits = (bits << 6) | (uint32_t) unit_base64_value(src->data[i]);
        nbits += 6;

        if (nbits >= 8) {
            nbits -= 8;
            *d++ = (u_char) (bits >> nbits);
        }
    }

    dst->len = d - dst->data;

    return NGX_OK;
}


/*
 * ngx_vslprintf(): the subset of nginx's formats the module uses, plus the
 * common integer ones: %[0][width][u]{d,i,L,O,z}, %V, %s, %*s, %c, %Z, %N,
 * %%.  Anything else aborts, so a new format in src/ fails loudly here.
 */

static u_char *
unit_sprintf_num(u_char *buf, u_char *last, uint64_t ui, ngx_uint_t neg,
    u_char pad, ngx_uint_t width)
{
    u_char      tmp[NGX_INT64_LEN + 1], *p;
    ngx_uint_t  len;

    p = tmp + sizeof(tmp);

    do {
        *--p = (u_char) ('0' + ui % 10);
        ui /= 10;
    } while (ui);

    if (neg) {
        *--p = '-';
    }

    len = tmp + sizeof(tmp) - p;

    while (width-- > len && buf < last) {
        *buf++ = pad;
    }

    while (p < tmp + sizeof(tmp) && buf < last) {
        *buf++ = *p++;
    }

    return buf;
}


u_char *
ngx_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    u_char      *s, pad;
    size_t       len;
    int64_t      i64;
    uint64_t     ui64;
    ngx_str_t   *v;
    ngx_uint_t   width, sign, star;

    while (*fmt && buf < last) {

        if (*fmt != '%') {
            *buf++ = (u_char) *fmt++;
            continue;
        }

        fmt++;

        pad = (*fmt == '0') ? '0' : ' ';
        width = 0;
        sign = 1;
        star = 0;
        len = 0;

        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }

        for ( ;; ) {
            if (*fmt == 'u') {
                sign = 0;
                fmt++;

            } else if (*fmt == '*') {
                star = 1;
                len = va_arg(args, size_t);
                fmt++;

            } else {
                break;
            }
        }

        switch (*fmt) {

        case 'V':
            v = va_arg(args, ngx_str_t *);
            len = ngx_min((size_t) (last - buf), v->len);
            buf = ngx_cpymem(buf, v->data, len);
            break;

        case 's':
            s = va_arg(args, u_char *);

            if (star) {
                len = ngx_min((size_t) (last - buf), len);
                buf = ngx_cpymem(buf, s, len);

            } else {
                while (*s && buf < last) {
                    *buf++ = *s++;
                }
            }

            break;

        case 'c':
            *buf++ = (u_char) va_arg(args, int);
            break;

        case 'Z':
            *buf++ = '\0';
            break;

        case 'N':
            *buf++ = LF;
            break;

        case '%':
            *buf++ = '%';
            break;

        case 'd':
        case 'i':
        case 'L':
        case 'O':
        case 'T':
        case 'z':
            if (sign) {
                switch (*fmt) {
                case 'd': i64 = va_arg(args, int); break;
                case 'i': i64 = va_arg(args, ngx_int_t); break;
                case 'L': i64 = va_arg(args, int64_t); break;
                case 'O': i64 = va_arg(args, off_t); break;
                case 'T': i64 = va_arg(args, time_t); break;
                default:  i64 = va_arg(args, ssize_t); break;
                }

                ui64 = (i64 < 0) ? (uint64_t) 0 - (uint64_t) i64
                                 : (uint64_t) i64;
                buf = unit_sprintf_num(buf, last, ui64, i64 < 0, pad, width);

            } else {
                switch (*fmt) {
                case 'd': ui64 = va_arg(args, u_int); break;
                case 'i': ui64 = va_arg(args, ngx_uint_t); break;
                case 'L': ui64 = va_arg(args, uint64_t); break;
                case 'O': ui64 = (uint64_t) va_arg(args, off_t); break;
                case 'T': ui64 = (uint64_t) va_arg(args, time_t); break;
                default:  ui64 = va_arg(args, size_t); break;
                }

                buf = unit_sprintf_num(buf, last, ui64, 0, pad, width);
            }

            break;

        default:
            fprintf(stderr, "ngx_runtime: unsupported format \"%%%s\"\n",
                    fmt);
            abort();
        }

        fmt++;
    }

    return buf;
}


u_char * ngx_cdecl
ngx_sprintf(u_char *buf, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, (void *) -1, fmt, args);
    va_end(args);

    return p;
}


u_char * ngx_cdecl
ngx_snprintf(u_char *buf, size_t max, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + max, fmt, args);
    va_end(args);

    return p;
}


/* the log: every line goes to a buffer the tests can search */

#define UNIT_LOG_SIZE  16384

static u_char  unit_log_buf[UNIT_LOG_SIZE];
static size_t  unit_log_len;

ngx_log_t  unit_log = { .log_level = NGX_LOG_DEBUG };

/* os/unix/ngx_process.c: which process draws the message id randomness */
ngx_pid_t  ngx_pid;


void
unit_log_reset(void)
{
    unit_log_len = 0;
    unit_log_buf[0] = '\0';
}


int
unit_log_contains(const char *s)
{
    return strstr((char *) unit_log_buf, s) != NULL;
}


void ngx_cdecl
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char    line[NGX_MAX_ERROR_STR], *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(line, line + sizeof(line) - 1, fmt, args);
    va_end(args);

    if (err) {
        p = ngx_snprintf(p, line + sizeof(line) - 1 - p, " (%d)", (int) err);
    }

    *p++ = LF;

    if (getenv("UNIT_VERBOSE")) {
        fprintf(stderr, "log[%u]: %.*s", (unsigned) level,
                (int) (p - line), line);
    }

    /* keep the newest lines; drop everything when the buffer is full */
    if (unit_log_len + (p - line) >= UNIT_LOG_SIZE) {
        unit_log_len = 0;
    }

    ngx_memcpy(unit_log_buf + unit_log_len, line, p - line);
    unit_log_len += p - line;
    unit_log_buf[unit_log_len] = '\0';
}


/* a response chain as one C string (malloc()ed), for the unit tests and
 * the fuzz harnesses to look at */
u_char *
unit_chain_flatten(ngx_chain_t *cl, size_t *len)
{
    u_char       *s, *p;
    size_t        n;
    ngx_chain_t  *c;

    n = 0;

    for (c = cl; c; c = c->next) {
        n += c->buf->last - c->buf->pos;
    }

    s = malloc(n + 1);
    if (s == NULL) {
        abort();
    }

    p = s;

    for (c = cl; c; c = c->next) {
        p = ngx_cpymem(p, c->buf->pos, c->buf->last - c->buf->pos);
    }

    *p = '\0';
    *len = n;

    return s;
}


ngx_int_t
ngx_memn2cmp(u_char *s1, u_char *s2, size_t n1, size_t n2)
{
    size_t     n;
    ngx_int_t  m, z;

    if (n1 <= n2) {
        n = n1;
        z = -1;

    } else {
        n = n2;
        z = 1;
    }

    m = ngx_memcmp(s1, s2, n);

    if (m || n1 == n2) {
        return m;
    }

    return z;
}


/* nginx's red-black insert (ngx_rbtree.c): rotations are what moves hash
 * twins about, so the store's trees are tested through the real thing */
static void
unit_rbtree_left_rotate(ngx_rbtree_node_t **root, ngx_rbtree_node_t *sentinel,
    ngx_rbtree_node_t *node)
{
    ngx_rbtree_node_t  *temp;

    temp = node->right;
    node->right = temp->left;

    if (temp->left != sentinel) {
        temp->left->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;

    } else if (node == node->parent->left) {
        node->parent->left = temp;

    } else {
        node->parent->right = temp;
    }

    temp->left = node;
    node->parent = temp;
}


static void
unit_rbtree_right_rotate(ngx_rbtree_node_t **root,
    ngx_rbtree_node_t *sentinel, ngx_rbtree_node_t *node)
{
    ngx_rbtree_node_t  *temp;

    temp = node->left;
    node->left = temp->right;

    if (temp->right != sentinel) {
        temp->right->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;

    } else if (node == node->parent->right) {
        node->parent->right = temp;

    } else {
        node->parent->left = temp;
    }

    temp->right = node;
    node->parent = temp;
}


void
ngx_rbtree_insert(ngx_rbtree_t *tree, ngx_rbtree_node_t *node)
{
    ngx_rbtree_node_t  **root, *temp, *sentinel;

    root = &tree->root;
    sentinel = tree->sentinel;

    if (*root == sentinel) {
        node->parent = NULL;
        node->left = sentinel;
        node->right = sentinel;
        ngx_rbt_black(node);
        *root = node;

        return;
    }

    tree->insert(*root, node, sentinel);

    while (node != *root && ngx_rbt_is_red(node->parent)) {

        if (node->parent == node->parent->parent->left) {
            temp = node->parent->parent->right;

            if (ngx_rbt_is_red(temp)) {
                ngx_rbt_black(node->parent);
                ngx_rbt_black(temp);
                ngx_rbt_red(node->parent->parent);
                node = node->parent->parent;

            } else {
                if (node == node->parent->right) {
                    node = node->parent;
                    unit_rbtree_left_rotate(root, sentinel, node);
                }

                ngx_rbt_black(node->parent);
                ngx_rbt_red(node->parent->parent);
                unit_rbtree_right_rotate(root, sentinel,
                                         node->parent->parent);
            }

        } else {
            temp = node->parent->parent->left;

            if (ngx_rbt_is_red(temp)) {
                ngx_rbt_black(node->parent);
                ngx_rbt_black(temp);
                ngx_rbt_red(node->parent->parent);
                node = node->parent->parent;

            } else {
                if (node == node->parent->left) {
                    node = node->parent;
                    unit_rbtree_right_rotate(root, sentinel, node);
                }

                ngx_rbt_black(node->parent);
                ngx_rbt_red(node->parent->parent);
                unit_rbtree_left_rotate(root, sentinel,
                                        node->parent->parent);
            }
        }
    }

    ngx_rbt_black(*root);
}


/*
 * The rest of the core the dispatcher, the resource engine (its context
 * store included) and the identities call.  Time is the tests' to set:
 * unit_time_set() moves both clocks.
 */

static ngx_time_t         unit_cached_time;
volatile ngx_time_t      *ngx_cached_time = &unit_cached_time;
volatile ngx_msec_t       ngx_current_msec;

ngx_uint_t                ngx_pagesize = 4096;

/* a cycle for what asks ngx_cycle (its log, http{} main confs) */
static ngx_cycle_t        unit_cycle = { .log = &unit_log };
volatile ngx_cycle_t     *ngx_cycle = &unit_cycle;

/* the http core module's index into cycle->conf_ctx: 0 */
ngx_module_t              ngx_http_module;


void
unit_time_set(time_t sec)
{
    unit_cached_time.sec = sec;
    ngx_current_msec = (ngx_msec_t) sec * 1000;
}


void
unit_cycle_conf_ctx(void ****conf_ctx)
{
    unit_cycle.conf_ctx = conf_ctx;
}


/* ngx_crc32.c: the nibble table ngx_crc32_short() uses */
static uint32_t  unit_crc32_table16[] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
    0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
    0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c
};

uint32_t  *ngx_crc32_table_short = unit_crc32_table16;


ngx_uint_t
ngx_hash_key(u_char *data, size_t len)
{
    ngx_uint_t  i, key;

    key = 0;

    for (i = 0; i < len; i++) {
        key = ngx_hash(key, data[i]);
    }

    return key;
}


ngx_uint_t
ngx_hash_key_lc(u_char *data, size_t len)
{
    ngx_uint_t  i, key;

    key = 0;

    for (i = 0; i < len; i++) {
        key = ngx_hash(key, ngx_tolower(data[i]));
    }

    return key;
}


void
ngx_strlow(u_char *dst, u_char *src, size_t n)
{
    while (n) {
        *dst = ngx_tolower(*src);
        dst++;
        src++;
        n--;
    }
}


u_char *
ngx_pstrdup(ngx_pool_t *pool, ngx_str_t *src)
{
    u_char  *dst;

    dst = ngx_pnalloc(pool, src->len);
    if (dst == NULL) {
        return NULL;
    }

    ngx_memcpy(dst, src->data, src->len);

    return dst;
}


ngx_array_t *
ngx_array_create(ngx_pool_t *p, ngx_uint_t n, size_t size)
{
    ngx_array_t  *a;

    a = ngx_palloc(p, sizeof(ngx_array_t));
    if (a == NULL) {
        return NULL;
    }

    if (ngx_array_init(a, p, n, size) != NGX_OK) {
        return NULL;
    }

    return a;
}


/*
 * ngx_string.c semantics: digits only, NGX_ERROR on overflow of max;
 * ngx_atoi(), ngx_atoof() and ngx_atotm() differ only in their type,
 * and each of those is 64 bits here
 */
static int64_t
unit_atoi(u_char *line, size_t n, int64_t max)
{
    int64_t  value, cutoff, cutlim;

    if (n == 0) {
        return NGX_ERROR;
    }

    cutoff = max / 10;
    cutlim = max % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return NGX_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return NGX_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


ngx_int_t
ngx_atoi(u_char *line, size_t n)
{
    return (ngx_int_t) unit_atoi(line, n, NGX_MAX_INT_T_VALUE);
}


off_t
ngx_atoof(u_char *line, size_t n)
{
    return (off_t) unit_atoi(line, n, NGX_MAX_OFF_T_VALUE);
}


/* the same for a time_t (the spool's "received") */
time_t
ngx_atotm(u_char *line, size_t n)
{
    return (time_t) unit_atoi(line, n, NGX_MAX_TIME_T_VALUE);
}


/* one process: the shared zone is process memory, its lock a no-op; the
 * slab hands out malloc() blocks, so valgrind sees every context */

void
ngx_shmtx_lock(ngx_shmtx_t *mtx)
{
}


void
ngx_shmtx_unlock(ngx_shmtx_t *mtx)
{
}


void *
ngx_slab_alloc_locked(ngx_slab_pool_t *pool, size_t size)
{
    return malloc(size);
}


void *
ngx_slab_alloc(ngx_slab_pool_t *pool, size_t size)
{
    return malloc(size);
}


void
ngx_slab_free_locked(ngx_slab_pool_t *pool, void *p)
{
    free(p);
}


ngx_shm_zone_t *
ngx_shared_memory_add(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    void *tag)
{
    ngx_shm_zone_t  *zone;

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_shm_zone_t));
    if (zone == NULL) {
        return NULL;
    }

    zone->shm.size = size;
    zone->shm.name = *name;
    zone->tag = tag;

    return zone;
}


/* nginx's red-black delete (ngx_rbtree.c), for the context store */
void
ngx_rbtree_delete(ngx_rbtree_t *tree, ngx_rbtree_node_t *node)
{
    ngx_uint_t           red;
    ngx_rbtree_node_t  **root, *sentinel, *subst, *temp, *w;

    root = &tree->root;
    sentinel = tree->sentinel;

    if (node->left == sentinel) {
        temp = node->right;
        subst = node;

    } else if (node->right == sentinel) {
        temp = node->left;
        subst = node;

    } else {
        subst = ngx_rbtree_min(node->right, sentinel);
        temp = subst->right;
    }

    if (subst == *root) {
        *root = temp;
        ngx_rbt_black(temp);

        node->left = NULL;
        node->right = NULL;
        node->parent = NULL;
        node->key = 0;

        return;
    }

    red = ngx_rbt_is_red(subst);

    if (subst == subst->parent->left) {
        subst->parent->left = temp;

    } else {
        subst->parent->right = temp;
    }

    if (subst == node) {
        temp->parent = subst->parent;

    } else {
        if (subst->parent == node) {
            temp->parent = subst;

        } else {
            temp->parent = subst->parent;
        }

        subst->left = node->left;
        subst->right = node->right;
        subst->parent = node->parent;
        ngx_rbt_copy_color(subst, node);

        if (node == *root) {
            *root = subst;

        } else if (node == node->parent->left) {
            node->parent->left = subst;

        } else {
            node->parent->right = subst;
        }

        if (subst->left != sentinel) {
            subst->left->parent = subst;
        }

        if (subst->right != sentinel) {
            subst->right->parent = subst;
        }
    }

    node->left = NULL;
    node->right = NULL;
    node->parent = NULL;
    node->key = 0;

    if (red) {
        return;
    }

    while (temp != *root && ngx_rbt_is_black(temp)) {

        if (temp == temp->parent->left) {
            w = temp->parent->right;

            if (ngx_rbt_is_red(w)) {
                ngx_rbt_black(w);
                ngx_rbt_red(temp->parent);
                unit_rbtree_left_rotate(root, sentinel, temp->parent);
                w = temp->parent->right;
            }

            if (ngx_rbt_is_black(w->left) && ngx_rbt_is_black(w->right)) {
                ngx_rbt_red(w);
                temp = temp->parent;

            } else {
                if (ngx_rbt_is_black(w->right)) {
                    ngx_rbt_black(w->left);
                    ngx_rbt_red(w);
                    unit_rbtree_right_rotate(root, sentinel, w);
                    w = temp->parent->right;
                }

                ngx_rbt_copy_color(w, temp->parent);
                ngx_rbt_black(temp->parent);
                ngx_rbt_black(w->right);
                unit_rbtree_left_rotate(root, sentinel, temp->parent);
                temp = *root;
            }

        } else {
            w = temp->parent->left;

            if (ngx_rbt_is_red(w)) {
                ngx_rbt_black(w);
                ngx_rbt_red(temp->parent);
                unit_rbtree_right_rotate(root, sentinel, temp->parent);
                w = temp->parent->left;
            }

            if (ngx_rbt_is_black(w->left) && ngx_rbt_is_black(w->right)) {
                ngx_rbt_red(w);
                temp = temp->parent;

            } else {
                if (ngx_rbt_is_black(w->left)) {
                    ngx_rbt_black(w->right);
                    ngx_rbt_red(w);
                    unit_rbtree_left_rotate(root, sentinel, w);
                    w = temp->parent->left;
                }

                ngx_rbt_copy_color(w, temp->parent);
                ngx_rbt_black(temp->parent);
                ngx_rbt_black(w->left);
                unit_rbtree_right_rotate(root, sentinel, temp->parent);
                temp = *root;
            }
        }
    }

    ngx_rbt_black(temp);
}


/*
 * nginx's directive setters: ngx_wsman_call_setting() tells a field's type
 * by its directive's setter; the unit binary parses no configuration, so
 * they are only addresses here.
 */

char *
ngx_conf_set_flag_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return NGX_CONF_ERROR;
}


char *
ngx_conf_set_num_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return NGX_CONF_ERROR;
}


char *
ngx_conf_set_msec_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return NGX_CONF_ERROR;
}


char *
ngx_conf_set_size_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return NGX_CONF_ERROR;
}


/*
 * core/ngx_conf_file.c and core/ngx_parse.c, for the wec outputs'
 * configure() (test_wec_syslog.c; test_wec_outputs.c has weak copies of
 * the first and the last, these win): a configuration error goes to the
 * unit log, prefixed "conf: "; full names are the names as given (the
 * tests use absolute paths); times are N, Nms, Ns, Nm or Nh.
 */

void ngx_cdecl
ngx_conf_log_error(ngx_uint_t level, ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   line[NGX_MAX_CONF_ERRSTR], *p;
    va_list  args;

    va_start(args, fmt);
    p = ngx_vslprintf(line, line + sizeof(line) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    ngx_log_error_core(level, &unit_log, err, "conf: %s", line);
}


ngx_int_t
ngx_conf_full_name(ngx_cycle_t *cycle, ngx_str_t *name,
    ngx_uint_t conf_prefix)
{
    u_char     *p;
    ngx_str_t  *prefix;

    /* absolute names as they are; relative ones under the unit cycle's
     * prefix, as nginx does (groups without a cycle keep them relative) */
    if (cycle == NULL || (name->len && name->data[0] == '/')) {
        return NGX_OK;
    }

    prefix = conf_prefix ? &cycle->conf_prefix : &cycle->prefix;

    p = ngx_pnalloc(cycle->pool, prefix->len + name->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, prefix->data, prefix->len);
    ngx_memcpy(p + prefix->len, name->data, name->len);
    p[prefix->len + name->len] = '\0';

    name->data = p;
    name->len += prefix->len;

    return NGX_OK;
}


ngx_int_t
ngx_parse_time(ngx_str_t *line, ngx_uint_t is_sec)
{
    u_char      *p, *last;
    ngx_int_t    n, scale;

    p = line->data;
    last = p + line->len;
    n = 0;

    if (p == last || *p < '0' || *p > '9') {
        return NGX_ERROR;
    }

    for ( /* void */ ; p < last && *p >= '0' && *p <= '9'; p++) {
        if (n > 100000000) {
            return NGX_ERROR;
        }

        n = n * 10 + (*p - '0');
    }

    if (last - p == 2 && p[0] == 'm' && p[1] == 's') {
        return is_sec ? NGX_ERROR : n;
    }

    if (p == last || (last - p == 1 && *p == 's')) {
        scale = 1;

    } else if (last - p == 1 && *p == 'm') {
        scale = 60;

    } else if (last - p == 1 && *p == 'h') {
        scale = 3600;

    } else {
        return NGX_ERROR;
    }

    return is_sec ? n * scale : n * scale * 1000;
}
