/*
 * The resource engine: Enumerate, Pull and Release over class providers,
 * with WQL and selector filters.  Providers produce items in key order
 * after the last key sent, so nothing is sent twice or skipped, and
 * nothing is materialized beyond one batch: memory per request stays
 * bounded however large the class.  Contexts live in the store of
 * ngx_wsman_context.c.
 */

#include "ngx_wsman_engine_int.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_enum_tree.h"
#include "ngx_wsman_util.h"
#include "ngx_wsman_body.h"
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


/* stored with every context: a WQL query or selector filter this long is
 * not a query anyone types */
#define NGX_WSMAN_ENUM_MAX_FILTER    4096


/* one batch */
typedef struct {
    ngx_uint_t                  max_items;
    size_t                      max_bytes;
    ngx_uint_t                  count;
    ngx_uint_t                  done;
    ngx_wsman_xml_t             items;
} ngx_wsman_enum_batch_t;


static ngx_int_t ngx_wsman_enum_parse_filter(ngx_wsman_call_t *call,
    xmlNodePtr node, ngx_wsman_enum_state_t *st);
static ngx_int_t ngx_wsman_enum_prepare(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st);
static ngx_int_t ngx_wsman_enum_fill(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st, ngx_wsman_enum_batch_t *batch);
static ngx_int_t ngx_wsman_enum_match(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st, ngx_wsman_instance_t *inst, ngx_pool_t *pool);
static ngx_int_t ngx_wsman_enum_total(ngx_wsman_call_t *call,
    ngx_wsman_enum_state_t *st);
static ngx_int_t ngx_wsman_enum_body_uint(ngx_wsman_call_t *call,
    xmlNodePtr parent, const char *ns, const char *name, ngx_uint_t *value);


/* ------------------------------------------------------- Enumerate/Pull */

/* absent: NGX_OK, value untouched; present but not a number:
 * NGX_WSMAN_FAULTED */
static ngx_int_t
ngx_wsman_enum_body_uint(ngx_wsman_call_t *call, xmlNodePtr parent,
    const char *ns, const char *name, ngx_uint_t *value)
{
    ngx_int_t   n;
    ngx_str_t   text;
    xmlNodePtr  node;

    node = ngx_wsman_node_child(parent, ns, name);
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

        set = ngx_wsman_node_child(node, NGX_WSMAN_NS_WSMAN, "SelectorSet");

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
    if (st->provider != call->provider) {
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
    ngx_wsman_provider_item_pt  writer;

    writer = st->provider->item;

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

            if (rc == 1 && writer) {
                /* the provider writes the item, if the caller is to see
                 * it; a probe past a full batch is written and dropped */
                ngx_wsman_xml_init(&item, call->pool, 1024);
                rc = writer(st->provider, call, inst[i], &item);

                if (rc == NGX_OK && ngx_wsman_xml_failed(&item)) {
                    rc = NGX_ERROR;
                }

                rc = (rc == NGX_OK) ? 1 : (rc == NGX_DECLINED) ? 0 : rc;
            }

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
                if (writer == NULL) {
                    ngx_wsman_xml_init(&item, call->pool, 1024);
                    ngx_wsman_cimxml_item(&item, scratch, inst[i], st->mode,
                                          only);
                }

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
    ngx_int_t               rc;
    ngx_uint_t              i, done;
    ngx_str_t               after;
    ngx_wsman_xml_t         item;
    ngx_pool_t             *scratch;
    ngx_array_t             out;
    ngx_wsman_instance_t  **inst;
    ngx_wsman_provider_item_pt  writer;

    writer = st->provider->item;
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
            if (ngx_wsman_enum_match(call, st, inst[i], scratch) != 1) {
                continue;
            }

            /* the items the caller is not to see are not counted */
            if (writer) {
                ngx_wsman_xml_init(&item, scratch, 1024);

                rc = writer(st->provider, call, inst[i], &item);

                if (rc == NGX_ERROR) {
                    ngx_destroy_pool(scratch);
                    return NGX_ERROR;
                }

                if (rc != NGX_OK) {
                    continue;
                }
            }

            total++;
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

    node = ngx_wsman_node_child(en, NGX_WSMAN_NS_WSMAN, "EnumerationMode");
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

    node = ngx_wsman_node_child(en, NGX_WSMAN_NS_WSMAN, "Filter");
    if (node == NULL) {
        node = ngx_wsman_node_child(en, NGX_WSMAN_NS_WSEN, "Filter");
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

    optimize = ngx_wsman_node_child(en, NGX_WSMAN_NS_WSMAN,
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

    node = ngx_wsman_node_child(call->req->payload, NGX_WSMAN_NS_WSEN,
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
