/*
 * WQL: a recursive-descent parser into a small tree in the pool, and its
 * evaluation against CIM instances.  The grammar and the comparison
 * rules are described in ngx_wsman_wql.h.
 *
 * Recursion, while parsing and while evaluating, only happens for
 * parentheses and NOT, both counted against NGX_WSMAN_WQL_MAX_DEPTH;
 * AND and OR keep their operands in a list instead of nesting.
 */

#include "ngx_wsman_wql.h"


/* each nesting level adds at most an OR, an AND and a NOT node */
#define NGX_WSMAN_WQL_TREE_DEPTH   (3 * (NGX_WSMAN_WQL_MAX_DEPTH + 1))

/* how much of an unknown operator an error message quotes */
#define NGX_WSMAN_WQL_QUOTE_MAX    16


/* the next token, returning from the caller on an error; rc is the
 * caller's */
#define ngx_wsman_wql_advance(ps)                                           \
    rc = ngx_wsman_wql_next(ps);                                            \
    if (rc != NGX_OK) {                                                     \
        return rc;                                                          \
    }


typedef enum {
    NGX_WSMAN_WQL_TOK_END = 0,
    NGX_WSMAN_WQL_TOK_IDENT,
    NGX_WSMAN_WQL_TOK_STRING,
    NGX_WSMAN_WQL_TOK_NUMBER,
    NGX_WSMAN_WQL_TOK_OP,
    NGX_WSMAN_WQL_TOK_LPAREN,
    NGX_WSMAN_WQL_TOK_RPAREN,
    NGX_WSMAN_WQL_TOK_COMMA,
    NGX_WSMAN_WQL_TOK_STAR
} ngx_wsman_wql_tok_e;


typedef enum {
    NGX_WSMAN_WQL_EQ = 0,
    NGX_WSMAN_WQL_NE,
    NGX_WSMAN_WQL_LT,
    NGX_WSMAN_WQL_GT,
    NGX_WSMAN_WQL_LE,
    NGX_WSMAN_WQL_GE
} ngx_wsman_wql_op_e;


typedef enum {
    NGX_WSMAN_WQL_OR = 0,
    NGX_WSMAN_WQL_AND,
    NGX_WSMAN_WQL_NOT,
    NGX_WSMAN_WQL_CMP,
    NGX_WSMAN_WQL_LIKE,
    NGX_WSMAN_WQL_NULL
} ngx_wsman_wql_node_e;


typedef enum {
    NGX_WSMAN_WQL_VAL_STRING = 0,
    NGX_WSMAN_WQL_VAL_NUMBER,
    NGX_WSMAN_WQL_VAL_BOOL
} ngx_wsman_wql_val_e;


/*
 * An exact decimal: sign, integer part and the fraction's digits without
 * trailing zeros, so that fractions compare as digit strings.
 */
typedef struct {
    uint64_t                   whole;
    ngx_str_t                  frac;
    unsigned                   neg:1;
} ngx_wsman_wql_num_t;


typedef struct {
    ngx_uint_t                 type;        /* ngx_wsman_wql_val_e */
    ngx_str_t                  text;        /* string decoded; others as
                                               written */
    ngx_wsman_wql_num_t        num;
    ngx_uint_t                 boolean;
    unsigned                   is_num:1;    /* num is valid */
    unsigned                   is_bool:1;   /* boolean is valid */
} ngx_wsman_wql_value_t;


typedef struct ngx_wsman_wql_node_s  ngx_wsman_wql_node_t;

struct ngx_wsman_wql_node_s {
    ngx_uint_t                 type;        /* ngx_wsman_wql_node_e */
    ngx_uint_t                 op;          /* CMP: ngx_wsman_wql_op_e */
    ngx_uint_t                 negate;      /* LIKE, NULL: NOT LIKE,
                                               IS NOT NULL */
    ngx_str_t                  name;        /* the property */
    ngx_wsman_wql_value_t      value;       /* CMP: operand, LIKE: the
                                               pattern */
    ngx_wsman_wql_node_t      *child;       /* OR, AND, NOT: operands */
    ngx_wsman_wql_node_t      *next;        /* the next sibling */
};


struct ngx_wsman_wql_s {
    ngx_str_t                  class_name;
    ngx_array_t               *props;       /* NULL: SELECT * */
    ngx_wsman_wql_node_t      *where;       /* NULL: no WHERE */
};


typedef struct {
    ngx_uint_t                 type;        /* ngx_wsman_wql_tok_e */
    ngx_uint_t                 op;          /* TOK_OP */
    size_t                     pos;         /* offset of its first byte */
    ngx_str_t                  text;        /* STRING: decoded */
} ngx_wsman_wql_token_t;


typedef struct {
    ngx_pool_t                *pool;
    u_char                    *start;
    u_char                    *p;
    u_char                    *end;
    ngx_wsman_wql_token_t      tok;         /* the lookahead */
    ngx_uint_t                 depth;
    ngx_uint_t                 terms;
    ngx_str_t                 *error;
} ngx_wsman_wql_parser_t;


static ngx_int_t ngx_wsman_wql_fail(ngx_wsman_wql_parser_t *ps, size_t pos,
    const char *msg, ngx_str_t *quote);
static ngx_int_t ngx_wsman_wql_next(ngx_wsman_wql_parser_t *ps);
static ngx_int_t ngx_wsman_wql_lex_string(ngx_wsman_wql_parser_t *ps);
static ngx_int_t ngx_wsman_wql_lex_number(ngx_wsman_wql_parser_t *ps);
static ngx_int_t ngx_wsman_wql_lex_op(ngx_wsman_wql_parser_t *ps);
static ngx_uint_t ngx_wsman_wql_is(ngx_wsman_wql_token_t *tok,
    const char *keyword);
static ngx_uint_t ngx_wsman_wql_is_name(ngx_wsman_wql_token_t *tok);
static ngx_int_t ngx_wsman_wql_select(ngx_wsman_wql_parser_t *ps,
    ngx_wsman_wql_t *wql);
static ngx_int_t ngx_wsman_wql_or(ngx_wsman_wql_parser_t *ps,
    ngx_uint_t type, ngx_wsman_wql_node_t **out);
static ngx_int_t ngx_wsman_wql_not(ngx_wsman_wql_parser_t *ps,
    ngx_wsman_wql_node_t **out);
static ngx_int_t ngx_wsman_wql_primary(ngx_wsman_wql_parser_t *ps,
    ngx_wsman_wql_node_t **out);
static ngx_int_t ngx_wsman_wql_predicate(ngx_wsman_wql_parser_t *ps,
    ngx_wsman_wql_node_t **out);
static ngx_int_t ngx_wsman_wql_property_predicate(ngx_wsman_wql_parser_t *ps,
    ngx_wsman_wql_node_t *node);
static ngx_int_t ngx_wsman_wql_value(ngx_wsman_wql_parser_t *ps,
    ngx_wsman_wql_value_t *value);
static ngx_wsman_wql_node_t *ngx_wsman_wql_node(ngx_wsman_wql_parser_t *ps,
    ngx_uint_t type);
static ngx_int_t ngx_wsman_wql_num_parse(u_char *p, size_t len,
    ngx_wsman_wql_num_t *num);
static ngx_int_t ngx_wsman_wql_num_cmp(ngx_wsman_wql_num_t *a,
    ngx_wsman_wql_num_t *b);
static ngx_int_t ngx_wsman_wql_text_cmp(ngx_str_t *a, ngx_str_t *b);
static u_char *ngx_wsman_wql_like_set(u_char *p, u_char *end, u_char c,
    ngx_uint_t *match);
static ngx_uint_t ngx_wsman_wql_like(ngx_str_t *text, ngx_str_t *pattern);
static ngx_int_t ngx_wsman_wql_eval(ngx_wsman_wql_node_t *node,
    ngx_wsman_instance_t *inst, ngx_pool_t *pool, ngx_uint_t depth);
static ngx_int_t ngx_wsman_wql_eval_predicate(ngx_wsman_wql_node_t *node,
    ngx_wsman_instance_t *inst, ngx_pool_t *pool);
static ngx_int_t ngx_wsman_wql_eval_value(ngx_wsman_wql_node_t *node,
    ngx_wsman_prop_t *prop, ngx_pool_t *pool);
static ngx_int_t ngx_wsman_wql_compare(ngx_wsman_prop_t *prop,
    ngx_wsman_wql_value_t *value, ngx_pool_t *pool, ngx_int_t *order);


/* words that end a property list or a condition, so never a name */
static const char  *ngx_wsman_wql_keywords[] = {
    "select", "from", "where", "and", "or", "not", "like", "is", "null",
    "true", "false", NULL
};


ngx_int_t
ngx_wsman_wql_parse(ngx_pool_t *pool, ngx_str_t *text, ngx_wsman_wql_t **wql,
    ngx_str_t *error)
{
    ngx_int_t                rc;
    ngx_wsman_wql_t         *q;
    ngx_wsman_wql_parser_t   ps;

    ngx_str_null(error);

    ngx_memzero(&ps, sizeof(ngx_wsman_wql_parser_t));
    ps.pool = pool;
    ps.error = error;

    /* checked first, so that nothing below walks a huge text */
    if (text->len > NGX_WSMAN_WQL_MAX_LEN) {
        return ngx_wsman_wql_fail(&ps, NGX_WSMAN_WQL_MAX_LEN,
                                  "query longer than 8192 bytes", NULL);
    }

    /* names in the result point into this copy, not into the caller's
     * buffer, which may be a request body about to be reused */
    ps.start = ngx_pnalloc(pool, text->len + 1);
    if (ps.start == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ps.start, text->data, text->len);
    ps.start[text->len] = '\0';

    ps.p = ps.start;
    ps.end = ps.start + text->len;

    q = ngx_pcalloc(pool, sizeof(ngx_wsman_wql_t));
    if (q == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_wsman_wql_select(&ps, q);
    if (rc != NGX_OK) {
        return rc;
    }

    *wql = q;

    return NGX_OK;
}


ngx_str_t *
ngx_wsman_wql_class(ngx_wsman_wql_t *wql)
{
    return &wql->class_name;
}


ngx_array_t *
ngx_wsman_wql_properties(ngx_wsman_wql_t *wql)
{
    return wql->props;
}


ngx_int_t
ngx_wsman_wql_match(ngx_wsman_wql_t *wql, ngx_wsman_instance_t *inst,
    ngx_pool_t *pool)
{
    if (wql->where == NULL) {
        return 1;
    }

    return ngx_wsman_wql_eval(wql->where, inst, pool, 0);
}


/* "<msg>[ "<quote>"] at position <pos>" into *ps->error */
static ngx_int_t
ngx_wsman_wql_fail(ngx_wsman_wql_parser_t *ps, size_t pos, const char *msg,
    ngx_str_t *quote)
{
    u_char  *p, *last;
    size_t   len, qlen;

    qlen = quote ? ngx_min(quote->len, NGX_WSMAN_WQL_QUOTE_MAX) : 0;
    len = ngx_strlen(msg) + qlen + sizeof(" \"\" at position ")
          + NGX_INT64_LEN;

    p = ngx_pnalloc(ps->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = p + len;

    ps->error->data = p;

    p = ngx_snprintf(p, last - p, "%s", msg);

    if (quote) {
        p = ngx_snprintf(p, last - p, " \"%*s\"", qlen, quote->data);
    }

    p = ngx_snprintf(p, last - p, " at position %uz", pos);

    ps->error->len = p - ps->error->data;

    return NGX_DECLINED;
}


/* the lexer: the next token into ps->tok */

static ngx_int_t
ngx_wsman_wql_next(ngx_wsman_wql_parser_t *ps)
{
    u_char                 c;
    ngx_wsman_wql_token_t  *tok;

    tok = &ps->tok;

    while (ps->p < ps->end
           && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'
               || *ps->p == '\n'))
    {
        ps->p++;
    }

    tok->pos = ps->p - ps->start;
    tok->text.data = ps->p;
    tok->text.len = 0;

    if (ps->p == ps->end) {
        tok->type = NGX_WSMAN_WQL_TOK_END;
        return NGX_OK;
    }

    c = *ps->p;

    switch (c) {

    case '(':
        tok->type = NGX_WSMAN_WQL_TOK_LPAREN;
        break;

    case ')':
        tok->type = NGX_WSMAN_WQL_TOK_RPAREN;
        break;

    case ',':
        tok->type = NGX_WSMAN_WQL_TOK_COMMA;
        break;

    case '*':
        tok->type = NGX_WSMAN_WQL_TOK_STAR;
        break;

    case '\'':
    case '"':
        return ngx_wsman_wql_lex_string(ps);

    case '<':
    case '>':
    case '=':
    case '!':
        return ngx_wsman_wql_lex_op(ps);

    default:

        if (c == '-' || (c >= '0' && c <= '9')) {
            return ngx_wsman_wql_lex_number(ps);
        }

        if (c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
            tok->type = NGX_WSMAN_WQL_TOK_IDENT;

            while (ps->p < ps->end
                   && (*ps->p == '_'
                       || (*ps->p >= '0' && *ps->p <= '9')
                       || ((*ps->p | 0x20) >= 'a'
                           && (*ps->p | 0x20) <= 'z')))
            {
                ps->p++;
            }

            tok->text.len = ps->p - tok->text.data;
            return NGX_OK;
        }

        return ngx_wsman_wql_fail(ps, tok->pos, "unexpected character",
                                  NULL);
    }

    ps->p++;
    tok->text.len = 1;

    return NGX_OK;
}


/* a quoted string, decoded into the pool: \\, \' and \" are the escapes */
static ngx_int_t
ngx_wsman_wql_lex_string(ngx_wsman_wql_parser_t *ps)
{
    u_char                 quote, *d;
    ngx_wsman_wql_token_t  *tok;

    tok = &ps->tok;
    quote = *ps->p++;

    /* the decoded text is never longer than what is left */
    d = ngx_pnalloc(ps->pool, ps->end - ps->p + 1);
    if (d == NULL) {
        return NGX_ERROR;
    }

    tok->type = NGX_WSMAN_WQL_TOK_STRING;
    tok->text.data = d;

    for ( ;; ) {

        if (ps->p == ps->end) {
            return ngx_wsman_wql_fail(ps, tok->pos, "unterminated string",
                                      NULL);
        }

        if (*ps->p == quote) {
            ps->p++;
            break;
        }

        if (*ps->p == '\\') {
            ps->p++;

            if (ps->p == ps->end
                || (*ps->p != '\\' && *ps->p != '\'' && *ps->p != '"'))
            {
                return ngx_wsman_wql_fail(ps, ps->p - 1 - ps->start,
                                 "expected \\, ' or \" after a backslash",
                                 NULL);
            }
        }

        *d++ = *ps->p++;
    }

    *d = '\0';
    tok->text.len = d - tok->text.data;

    return NGX_OK;
}


/* -?digits(.digits)?, kept as written; its value is read by the parser */
static ngx_int_t
ngx_wsman_wql_lex_number(ngx_wsman_wql_parser_t *ps)
{
    u_char                 *digits;
    ngx_wsman_wql_token_t  *tok;

    tok = &ps->tok;
    tok->type = NGX_WSMAN_WQL_TOK_NUMBER;

    if (*ps->p == '-') {
        ps->p++;
    }

    digits = ps->p;

    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        ps->p++;
    }

    if (ps->p == digits) {
        return ngx_wsman_wql_fail(ps, ps->p - ps->start, "expected a digit",
                                  NULL);
    }

    if (ps->p < ps->end && *ps->p == '.') {
        digits = ++ps->p;

        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            ps->p++;
        }

        if (ps->p == digits) {
            return ngx_wsman_wql_fail(ps, ps->p - ps->start,
                                      "expected a digit", NULL);
        }
    }

    /* "12abc" is neither a number nor a name */
    if (ps->p < ps->end
        && (*ps->p == '_' || *ps->p == '.'
            || ((*ps->p | 0x20) >= 'a' && (*ps->p | 0x20) <= 'z')))
    {
        return ngx_wsman_wql_fail(ps, ps->p - ps->start,
                                  "unexpected character", NULL);
    }

    tok->text.len = ps->p - tok->text.data;

    return NGX_OK;
}


/* the longest run of operator characters must be one operator, so that
 * "===" is reported as such rather than as "=" and a stray "==" */
static ngx_int_t
ngx_wsman_wql_lex_op(ngx_wsman_wql_parser_t *ps)
{
    static const struct {
        const char  *text;
        ngx_uint_t   op;
    } ops[] = {
        { "=", NGX_WSMAN_WQL_EQ },
        { "<>", NGX_WSMAN_WQL_NE },
        { "!=", NGX_WSMAN_WQL_NE },
        { "<", NGX_WSMAN_WQL_LT },
        { ">", NGX_WSMAN_WQL_GT },
        { "<=", NGX_WSMAN_WQL_LE },
        { ">=", NGX_WSMAN_WQL_GE },
    };

    ngx_uint_t              i;
    ngx_wsman_wql_token_t  *tok;

    tok = &ps->tok;
    tok->type = NGX_WSMAN_WQL_TOK_OP;

    while (ps->p < ps->end
           && (*ps->p == '<' || *ps->p == '>' || *ps->p == '='
               || *ps->p == '!'))
    {
        ps->p++;
    }

    tok->text.len = ps->p - tok->text.data;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (tok->text.len == ngx_strlen(ops[i].text)
            && ngx_strncmp(tok->text.data, ops[i].text, tok->text.len) == 0)
        {
            tok->op = ops[i].op;
            return NGX_OK;
        }
    }

    return ngx_wsman_wql_fail(ps, tok->pos, "unknown operator", &tok->text);
}


static ngx_uint_t
ngx_wsman_wql_is(ngx_wsman_wql_token_t *tok, const char *keyword)
{
    size_t  len;

    if (tok->type != NGX_WSMAN_WQL_TOK_IDENT) {
        return 0;
    }

    len = ngx_strlen(keyword);

    return tok->text.len == len
           && ngx_strncasecmp(tok->text.data, (u_char *) keyword, len) == 0;
}


/* an identifier that is not a keyword: a class or property name */
static ngx_uint_t
ngx_wsman_wql_is_name(ngx_wsman_wql_token_t *tok)
{
    ngx_uint_t  i;

    if (tok->type != NGX_WSMAN_WQL_TOK_IDENT) {
        return 0;
    }

    for (i = 0; ngx_wsman_wql_keywords[i]; i++) {
        if (ngx_wsman_wql_is(tok, ngx_wsman_wql_keywords[i])) {
            return 0;
        }
    }

    return 1;
}


/* the parser: SELECT * | prop[, prop...] FROM Class [WHERE condition] */

static ngx_int_t
ngx_wsman_wql_select(ngx_wsman_wql_parser_t *ps, ngx_wsman_wql_t *wql)
{
    ngx_int_t   rc;
    ngx_str_t  *name;

    ngx_wsman_wql_advance(ps);

    if (!ngx_wsman_wql_is(&ps->tok, "select")) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos, "expected SELECT", NULL);
    }

    ngx_wsman_wql_advance(ps);

    if (ps->tok.type == NGX_WSMAN_WQL_TOK_STAR) {
        ngx_wsman_wql_advance(ps);

        if (!ngx_wsman_wql_is(&ps->tok, "from")) {
            return ngx_wsman_wql_fail(ps, ps->tok.pos, "expected FROM",
                                      NULL);
        }

    } else {
        wql->props = ngx_palloc(ps->pool, sizeof(ngx_array_t));
        if (wql->props == NULL
            || ngx_array_init(wql->props, ps->pool, 4, sizeof(ngx_str_t))
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        for ( ;; ) {
            if (!ngx_wsman_wql_is_name(&ps->tok)) {
                return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                          wql->props->nelts
                                          ? "expected a property name"
                                          : "expected * or a property name",
                                          NULL);
            }

            name = ngx_array_push(wql->props);
            if (name == NULL) {
                return NGX_ERROR;
            }

            *name = ps->tok.text;

            ngx_wsman_wql_advance(ps);

            if (ps->tok.type != NGX_WSMAN_WQL_TOK_COMMA) {
                break;
            }

            ngx_wsman_wql_advance(ps);
        }

        if (!ngx_wsman_wql_is(&ps->tok, "from")) {
            return ngx_wsman_wql_fail(ps, ps->tok.pos, "expected , or FROM",
                                      NULL);
        }
    }

    ngx_wsman_wql_advance(ps);

    if (!ngx_wsman_wql_is_name(&ps->tok)) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos, "expected a class name",
                                  NULL);
    }

    wql->class_name = ps->tok.text;

    ngx_wsman_wql_advance(ps);

    if (ps->tok.type == NGX_WSMAN_WQL_TOK_END) {
        return NGX_OK;
    }

    if (!ngx_wsman_wql_is(&ps->tok, "where")) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                  "expected WHERE or the end", NULL);
    }

    ngx_wsman_wql_advance(ps);

    rc = ngx_wsman_wql_or(ps, NGX_WSMAN_WQL_OR, &wql->where);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ps->tok.type != NGX_WSMAN_WQL_TOK_END) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                  "expected AND, OR or the end", NULL);
    }

    return NGX_OK;
}


/*
 * One function for both binary levels: type OR joins AND-level operands
 * with OR, type AND joins NOT-level operands with AND.  The operands go
 * into a list, so a long chain costs no depth; a lone operand is
 * returned as it is.
 */
static ngx_int_t
ngx_wsman_wql_or(ngx_wsman_wql_parser_t *ps, ngx_uint_t type,
    ngx_wsman_wql_node_t **out)
{
    ngx_int_t              rc;
    const char            *keyword;
    ngx_wsman_wql_node_t  *node, *operand, **last;

    keyword = (type == NGX_WSMAN_WQL_OR) ? "or" : "and";
    node = NULL;
    last = NULL;

    for ( ;; ) {
        if (type == NGX_WSMAN_WQL_OR) {
            rc = ngx_wsman_wql_or(ps, NGX_WSMAN_WQL_AND, &operand);

        } else {
            rc = ngx_wsman_wql_not(ps, &operand);
        }

        if (rc != NGX_OK) {
            return rc;
        }

        if (!ngx_wsman_wql_is(&ps->tok, keyword)) {
            break;
        }

        if (node == NULL) {
            node = ngx_wsman_wql_node(ps, type);
            if (node == NULL) {
                return NGX_ERROR;
            }

            last = &node->child;
        }

        /*
         * ngx_wsman_wql_or() and ngx_wsman_wql_not() set operand whenever
         * they return NGX_OK; past its inlining depth the analyzer stops
         * following the calls and assumes NGX_OK with operand unset
         */
        /* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
        *last = operand;
        last = &operand->next;

        rc = ngx_wsman_wql_next(ps);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (node == NULL) {
        /* as above: set by the NGX_OK return */
        /* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
        *out = operand;
        return NGX_OK;
    }

    *last = operand;
    *out = node;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_wql_not(ngx_wsman_wql_parser_t *ps, ngx_wsman_wql_node_t **out)
{
    ngx_int_t              rc;
    ngx_wsman_wql_node_t  *node;

    if (!ngx_wsman_wql_is(&ps->tok, "not")) {
        return ngx_wsman_wql_primary(ps, out);
    }

    if (++ps->depth > NGX_WSMAN_WQL_MAX_DEPTH) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                  "nesting deeper than 32", NULL);
    }

    node = ngx_wsman_wql_node(ps, NGX_WSMAN_WQL_NOT);
    if (node == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_wsman_wql_next(ps);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_wsman_wql_not(ps, &node->child);
    if (rc != NGX_OK) {
        return rc;
    }

    ps->depth--;
    *out = node;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_wql_primary(ngx_wsman_wql_parser_t *ps, ngx_wsman_wql_node_t **out)
{
    ngx_int_t  rc;

    if (ps->tok.type != NGX_WSMAN_WQL_TOK_LPAREN) {
        return ngx_wsman_wql_predicate(ps, out);
    }

    if (++ps->depth > NGX_WSMAN_WQL_MAX_DEPTH) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                  "nesting deeper than 32", NULL);
    }

    rc = ngx_wsman_wql_next(ps);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_wsman_wql_or(ps, NGX_WSMAN_WQL_OR, out);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ps->tok.type != NGX_WSMAN_WQL_TOK_RPAREN) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos, "expected )", NULL);
    }

    ps->depth--;

    return ngx_wsman_wql_next(ps);
}


static ngx_int_t
ngx_wsman_wql_predicate(ngx_wsman_wql_parser_t *ps,
    ngx_wsman_wql_node_t **out)
{
    static const ngx_uint_t  mirror[] = {
        NGX_WSMAN_WQL_EQ, NGX_WSMAN_WQL_NE, NGX_WSMAN_WQL_GT,
        NGX_WSMAN_WQL_LT, NGX_WSMAN_WQL_GE, NGX_WSMAN_WQL_LE
    };

    ngx_int_t              rc;
    ngx_wsman_wql_node_t  *node;

    if (++ps->terms > NGX_WSMAN_WQL_MAX_TERMS) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos, "more than 256 terms",
                                  NULL);
    }

    node = ngx_wsman_wql_node(ps, NGX_WSMAN_WQL_CMP);
    if (node == NULL) {
        return NGX_ERROR;
    }

    *out = node;

    if (ngx_wsman_wql_is_name(&ps->tok)) {
        return ngx_wsman_wql_property_predicate(ps, node);
    }

    /* value op prop: read as prop op' value */

    if (ps->tok.type != NGX_WSMAN_WQL_TOK_STRING
        && ps->tok.type != NGX_WSMAN_WQL_TOK_NUMBER
        && !ngx_wsman_wql_is(&ps->tok, "true")
        && !ngx_wsman_wql_is(&ps->tok, "false"))
    {
        return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                  "expected a property name or a value",
                                  NULL);
    }

    rc = ngx_wsman_wql_value(ps, &node->value);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_wsman_wql_next(ps);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ps->tok.type != NGX_WSMAN_WQL_TOK_OP) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                  "expected a comparison operator", NULL);
    }

    node->op = mirror[ps->tok.op];

    rc = ngx_wsman_wql_next(ps);
    if (rc != NGX_OK) {
        return rc;
    }

    if (!ngx_wsman_wql_is_name(&ps->tok)) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                  "expected a property name", NULL);
    }

    node->name = ps->tok.text;

    return ngx_wsman_wql_next(ps);
}


/* prop op value | prop [NOT] LIKE 'pattern' | prop IS [NOT] NULL */
static ngx_int_t
ngx_wsman_wql_property_predicate(ngx_wsman_wql_parser_t *ps,
    ngx_wsman_wql_node_t *node)
{
    u_char     *p, *end;
    ngx_int_t   rc;
    ngx_uint_t  match;

    node->name = ps->tok.text;

    ngx_wsman_wql_advance(ps);

    if (ps->tok.type == NGX_WSMAN_WQL_TOK_OP) {
        node->op = ps->tok.op;

        ngx_wsman_wql_advance(ps);

        rc = ngx_wsman_wql_value(ps, &node->value);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_wsman_wql_next(ps);
    }

    if (ngx_wsman_wql_is(&ps->tok, "is")) {
        node->type = NGX_WSMAN_WQL_NULL;

        ngx_wsman_wql_advance(ps);

        if (ngx_wsman_wql_is(&ps->tok, "not")) {
            node->negate = 1;
            ngx_wsman_wql_advance(ps);
        }

        if (!ngx_wsman_wql_is(&ps->tok, "null")) {
            return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                      node->negate ? "expected NULL"
                                                   : "expected NOT or NULL",
                                      NULL);
        }

        return ngx_wsman_wql_next(ps);
    }

    if (ngx_wsman_wql_is(&ps->tok, "not")) {
        node->negate = 1;

        ngx_wsman_wql_advance(ps);

        if (!ngx_wsman_wql_is(&ps->tok, "like")) {
            return ngx_wsman_wql_fail(ps, ps->tok.pos, "expected LIKE",
                                      NULL);
        }
    }

    if (!ngx_wsman_wql_is(&ps->tok, "like")) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                  "expected an operator, LIKE or IS", NULL);
    }

    node->type = NGX_WSMAN_WQL_LIKE;

    ngx_wsman_wql_advance(ps);

    if (ps->tok.type != NGX_WSMAN_WQL_TOK_STRING) {
        return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                  "expected a quoted pattern", NULL);
    }

    node->value.type = NGX_WSMAN_WQL_VAL_STRING;
    node->value.text = ps->tok.text;

    /* a bad set is a syntax error now rather than a mismatch later */
    p = node->value.text.data;
    end = p + node->value.text.len;

    while (p < end) {
        if (*p++ != '[') {
            continue;
        }

        p = ngx_wsman_wql_like_set(p, end, '\0', &match);
        if (p == NULL) {
            return ngx_wsman_wql_fail(ps, ps->tok.pos,
                                      "unterminated [ in the pattern", NULL);
        }
    }

    return ngx_wsman_wql_next(ps);
}


/* a string, a number or TRUE/FALSE from the current token */
static ngx_int_t
ngx_wsman_wql_value(ngx_wsman_wql_parser_t *ps, ngx_wsman_wql_value_t *value)
{
    ngx_wsman_wql_token_t  *tok;

    tok = &ps->tok;
    value->text = tok->text;

    if (tok->type == NGX_WSMAN_WQL_TOK_STRING) {
        value->type = NGX_WSMAN_WQL_VAL_STRING;

        /* kept for numeric and boolean properties */
        value->is_num = (ngx_wsman_wql_num_parse(tok->text.data,
                                                 tok->text.len, &value->num)
                         == NGX_OK);

        if (tok->text.len == 4
            && ngx_strncasecmp(tok->text.data, (u_char *) "true", 4) == 0)
        {
            value->is_bool = 1;
            value->boolean = 1;

        } else if (tok->text.len == 5
                   && ngx_strncasecmp(tok->text.data, (u_char *) "false", 5)
                      == 0)
        {
            value->is_bool = 1;
            value->boolean = 0;
        }

        return NGX_OK;
    }

    if (tok->type == NGX_WSMAN_WQL_TOK_NUMBER) {
        value->type = NGX_WSMAN_WQL_VAL_NUMBER;

        if (ngx_wsman_wql_num_parse(tok->text.data, tok->text.len,
                                    &value->num)
            != NGX_OK)
        {
            return ngx_wsman_wql_fail(ps, tok->pos, "number out of range",
                                      NULL);
        }

        value->is_num = 1;

        /* 0 and 1 stand for false and true */
        if (!value->num.neg && value->num.frac.len == 0
            && value->num.whole <= 1)
        {
            value->is_bool = 1;
            value->boolean = (ngx_uint_t) value->num.whole;
        }

        return NGX_OK;
    }

    if (ngx_wsman_wql_is(tok, "true") || ngx_wsman_wql_is(tok, "false")) {
        value->type = NGX_WSMAN_WQL_VAL_BOOL;
        value->is_bool = 1;
        value->boolean = (tok->text.len == 4);
        return NGX_OK;
    }

    return ngx_wsman_wql_fail(ps, tok->pos,
                              ngx_wsman_wql_is_name(tok)
                              ? "expected a value, not a property"
                              : "expected a value", NULL);
}


static ngx_wsman_wql_node_t *
ngx_wsman_wql_node(ngx_wsman_wql_parser_t *ps, ngx_uint_t type)
{
    ngx_wsman_wql_node_t  *node;

    node = ngx_pcalloc(ps->pool, sizeof(ngx_wsman_wql_node_t));
    if (node == NULL) {
        return NULL;
    }

    node->type = type;

    return node;
}


/* numbers: [-]digits[.digits] exactly; NGX_DECLINED for anything else
 * or an integer part beyond 64 bits */
static ngx_int_t
ngx_wsman_wql_num_parse(u_char *p, size_t len, ngx_wsman_wql_num_t *num)
{
    u_char  *end, *digits;

    end = p + len;

    ngx_memzero(num, sizeof(ngx_wsman_wql_num_t));

    if (p < end && *p == '-') {
        num->neg = 1;
        p++;
    }

    digits = p;

    while (p < end && *p >= '0' && *p <= '9') {
        if (num->whole > ((uint64_t) -1 - (*p - '0')) / 10) {
            return NGX_DECLINED;
        }

        num->whole = num->whole * 10 + (*p - '0');
        p++;
    }

    if (p == digits) {
        return NGX_DECLINED;
    }

    if (p < end && *p == '.') {
        digits = ++p;

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == digits) {
            return NGX_DECLINED;
        }

        num->frac.data = digits;
        num->frac.len = p - digits;

        while (num->frac.len && digits[num->frac.len - 1] == '0') {
            num->frac.len--;
        }
    }

    if (p != end) {
        return NGX_DECLINED;
    }

    /* -0 is 0 */
    if (num->whole == 0 && num->frac.len == 0) {
        num->neg = 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_wql_num_cmp(ngx_wsman_wql_num_t *a, ngx_wsman_wql_num_t *b)
{
    size_t     n;
    ngx_int_t  order;

    if (a->neg != b->neg) {
        return a->neg ? -1 : 1;
    }

    if (a->whole != b->whole) {
        order = (a->whole < b->whole) ? -1 : 1;

    } else {
        /* without trailing zeros, digit strings order as fractions do */
        n = ngx_min(a->frac.len, b->frac.len);
        order = n ? ngx_memcmp(a->frac.data, b->frac.data, n) : 0;

        if (order == 0) {
            order = (a->frac.len > b->frac.len) - (a->frac.len < b->frac.len);

        } else {
            order = (order < 0) ? -1 : 1;
        }
    }

    return a->neg ? -order : order;
}


static ngx_int_t
ngx_wsman_wql_text_cmp(ngx_str_t *a, ngx_str_t *b)
{
    u_char  ca, cb;
    size_t  i, n;

    n = ngx_min(a->len, b->len);

    for (i = 0; i < n; i++) {
        ca = ngx_tolower(a->data[i]);
        cb = ngx_tolower(b->data[i]);

        if (ca != cb) {
            return (ca < cb) ? -1 : 1;
        }
    }

    return (a->len > b->len) - (a->len < b->len);
}


/*
 * A [set] whose '[' is just before p: *match tells whether c (in either
 * case) is in it.  Returns the byte after the closing ']', NULL when
 * there is none.
 */
static u_char *
ngx_wsman_wql_like_set(u_char *p, u_char *end, u_char c, ngx_uint_t *match)
{
    u_char      lo, hi, lc, uc, *first;
    ngx_uint_t  negate, found;

    lc = ngx_tolower(c);
    uc = ngx_toupper(c);
    negate = 0;
    found = 0;

    if (p < end && *p == '^') {
        negate = 1;
        p++;
    }

    first = p;

    while (p < end && (*p != ']' || p == first)) {
        lo = *p;

        if (end - p > 2 && p[1] == '-' && p[2] != ']') {
            hi = p[2];
            p += 3;

        } else {
            hi = lo;
            p++;
        }

        if ((c >= lo && c <= hi) || (lc >= lo && lc <= hi)
            || (uc >= lo && uc <= hi))
        {
            found = 1;
        }
    }

    if (p == end) {
        return NULL;
    }

    *match = found ^ negate;

    return p + 1;
}


/*
 * WQL LIKE, case-insensitive.  The usual two-pointer wildcard walk: on a
 * mismatch only the latest % is retried one byte further on, which is
 * enough because a later % can absorb whatever an earlier one would
 * have; at most O(len(text) * len(pattern)) steps, never exponential.
 */
static ngx_uint_t
ngx_wsman_wql_like(ngx_str_t *text, ngx_str_t *pattern)
{
    u_char      *s, *send, *p, *pend, *star_p, *star_s, *next;
    ngx_uint_t   match;

    s = text->data;
    send = s + text->len;
    p = pattern->data;
    pend = p + pattern->len;
    star_p = NULL;
    star_s = NULL;

    while (s < send) {

        if (p < pend && *p == '%') {
            star_p = ++p;
            star_s = s;
            continue;
        }

        if (p < pend) {
            match = 0;

            if (*p == '_') {
                match = 1;
                next = p + 1;

            } else if (*p == '[') {
                next = ngx_wsman_wql_like_set(p + 1, pend, *s, &match);

                if (next == NULL) {     /* checked by the parser */
                    return 0;
                }

            } else {
                match = (ngx_tolower(*p) == ngx_tolower(*s));
                next = p + 1;
            }

            if (match) {
                p = next;
                s++;
                continue;
            }
        }

        if (star_p == NULL) {
            return 0;
        }

        p = star_p;
        s = ++star_s;
    }

    while (p < pend && *p == '%') {
        p++;
    }

    return p == pend;
}


/* evaluation: 1, 0 or NGX_ERROR */

static ngx_int_t
ngx_wsman_wql_eval(ngx_wsman_wql_node_t *node, ngx_wsman_instance_t *inst,
    ngx_pool_t *pool, ngx_uint_t depth)
{
    ngx_int_t              rc;
    ngx_wsman_wql_node_t  *child;

    /* the parser never builds a deeper tree; this guards the stack
     * should one be built by other means */
    if (depth > NGX_WSMAN_WQL_TREE_DEPTH) {
        return NGX_ERROR;
    }

    switch (node->type) {

    case NGX_WSMAN_WQL_OR:
    case NGX_WSMAN_WQL_AND:

        /* OR stops at the first 1, AND at the first 0 */
        for (child = node->child; child; child = child->next) {
            rc = ngx_wsman_wql_eval(child, inst, pool, depth + 1);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == (node->type == NGX_WSMAN_WQL_OR)) {
                return rc;
            }
        }

        return node->type == NGX_WSMAN_WQL_AND;

    case NGX_WSMAN_WQL_NOT:
        rc = ngx_wsman_wql_eval(node->child, inst, pool, depth + 1);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        return !rc;

    default:
        return ngx_wsman_wql_eval_predicate(node, inst, pool);
    }
}


/* any value of the (possibly repeated) property decides a comparison */
static ngx_int_t
ngx_wsman_wql_eval_predicate(ngx_wsman_wql_node_t *node,
    ngx_wsman_instance_t *inst, ngx_pool_t *pool)
{
    ngx_int_t          rc;
    ngx_uint_t         i, has_value;
    ngx_wsman_prop_t  *first, *props;

    has_value = 0;

    first = ngx_wsman_instance_prop(inst, node->name.data, node->name.len);

    if (first != NULL) {
        props = inst->props.elts;

        for (i = first - props; i < inst->props.nelts; i++) {

            if (props[i].nil
                || props[i].name.len != node->name.len
                || ngx_strncasecmp(props[i].name.data, node->name.data,
                                   node->name.len)
                   != 0)
            {
                continue;
            }

            has_value = 1;

            if (node->type == NGX_WSMAN_WQL_NULL) {
                break;
            }

            rc = ngx_wsman_wql_eval_value(node, &props[i], pool);

            if (rc != 0) {
                return rc;
            }
        }
    }

    if (node->type == NGX_WSMAN_WQL_NULL) {
        return node->negate ? has_value : !has_value;
    }

    return 0;
}


/* one non-nil value against a CMP or LIKE predicate */
static ngx_int_t
ngx_wsman_wql_eval_value(ngx_wsman_wql_node_t *node, ngx_wsman_prop_t *prop,
    ngx_pool_t *pool)
{
    ngx_int_t  order;
    ngx_str_t  text;

    if (node->type == NGX_WSMAN_WQL_LIKE) {
        if (ngx_wsman_prop_text(pool, prop, &text) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_wsman_wql_like(&text, &node->value.text) ^ node->negate;
    }

    if (ngx_wsman_wql_compare(prop, &node->value, pool, &order) != NGX_OK) {
        return NGX_ERROR;
    }

    switch (node->op) {
    case NGX_WSMAN_WQL_EQ:
        return order == 0;
    case NGX_WSMAN_WQL_NE:
        return order != 0;
    case NGX_WSMAN_WQL_LT:
        return order < 0;
    case NGX_WSMAN_WQL_GT:
        return order > 0;
    case NGX_WSMAN_WQL_LE:
        return order <= 0;
    default: /* NGX_WSMAN_WQL_GE */
        return order >= 0;
    }
}


/* *order is <0, 0 or >0 as the property sorts before, with or after the
 * value; the property's type picks the kind of comparison */
static ngx_int_t
ngx_wsman_wql_compare(ngx_wsman_prop_t *prop, ngx_wsman_wql_value_t *value,
    ngx_pool_t *pool, ngx_int_t *order)
{
    ngx_str_t            text;
    ngx_uint_t           numeric;
    ngx_wsman_wql_num_t  num;

    ngx_memzero(&num, sizeof(ngx_wsman_wql_num_t));
    numeric = 0;

    switch (prop->type) {

    case NGX_WSMAN_PROP_UINT:
        num.whole = prop->u;
        numeric = value->is_num;
        break;

    case NGX_WSMAN_PROP_SINT:
    case NGX_WSMAN_PROP_DATETIME:
        /* the magnitude of INT64_MIN does not fit an int64_t */
        num.neg = (prop->s < 0);
        num.whole = num.neg ? (uint64_t) 0 - (uint64_t) prop->s
                            : (uint64_t) prop->s;

        /* a date against a string compares as text, the form it has in
         * the response */
        numeric = value->is_num
                  && (prop->type == NGX_WSMAN_PROP_SINT
                      || value->type == NGX_WSMAN_WQL_VAL_NUMBER);
        break;

    case NGX_WSMAN_PROP_REAL:
        numeric = value->is_num
                  && ngx_wsman_wql_num_parse(prop->text.data, prop->text.len,
                                             &num)
                     == NGX_OK;
        break;

    case NGX_WSMAN_PROP_BOOL:
        if (value->is_bool) {
            *order = (ngx_int_t) (prop->u != 0) - (ngx_int_t) value->boolean;
            return NGX_OK;
        }

        break;

    default:
        break;
    }

    if (numeric) {
        *order = ngx_wsman_wql_num_cmp(&num, &value->num);
        return NGX_OK;
    }

    if (ngx_wsman_prop_text(pool, prop, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    *order = ngx_wsman_wql_text_cmp(&text, &value->text);

    return NGX_OK;
}
