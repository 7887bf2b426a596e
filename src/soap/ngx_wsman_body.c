/*
 * Reading the request body for plug-ins (ngx_wsman_body.h), and our own
 * output read back as a document.
 */

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "ngx_wsman_body.h"
#include "ngx_wsman_soap.h"


static ngx_int_t ngx_wsman_body_walk(ngx_pool_t *pool, xmlNodePtr node,
    ngx_uint_t depth, ngx_uint_t max_depth, ngx_array_t *out);
static ngx_array_t *ngx_wsman_body_array(ngx_pool_t *pool);
static ngx_int_t ngx_wsman_body_copy_names(ngx_pool_t *pool,
    ngx_array_t *elements);


static ngx_uint_t
ngx_wsman_body_is_leaf(xmlNodePtr node)
{
    for (node = node->children; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE) {
            return 0;
        }
    }

    return 1;
}


/* node and its following siblings, each before its children */
static ngx_int_t
ngx_wsman_body_walk(ngx_pool_t *pool, xmlNodePtr node, ngx_uint_t depth,
    ngx_uint_t max_depth, ngx_array_t *out)
{
    ngx_wsman_element_t  *el;

    if (depth > max_depth) {
        return NGX_OK;
    }

    for ( /* void */ ; node; node = node->next) {

        if (node->type != XML_ELEMENT_NODE) {
            continue;
        }

        el = ngx_array_push(out);
        if (el == NULL) {
            return NGX_ERROR;
        }

        el->name.data = (u_char *) node->name;
        el->name.len = ngx_strlen(node->name);
        el->depth = depth;
        el->leaf = ngx_wsman_body_is_leaf(node);

        if (ngx_wsman_soap_node_text(pool, node, &el->text) != NGX_OK) {
            return NGX_ERROR;
        }

        if (!el->leaf
            && ngx_wsman_body_walk(pool, node->children, depth + 1,
                                   max_depth, out)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_array_t *
ngx_wsman_body_array(ngx_pool_t *pool)
{
    ngx_array_t  *a;

    a = ngx_palloc(pool, sizeof(ngx_array_t));

    if (a == NULL
        || ngx_array_init(a, pool, 16, sizeof(ngx_wsman_element_t))
           != NGX_OK)
    {
        return NULL;
    }

    return a;
}


static ngx_int_t
ngx_wsman_body_copy_names(ngx_pool_t *pool, ngx_array_t *elements)
{
    u_char               *p;
    ngx_uint_t            i;
    ngx_wsman_element_t  *el;

    el = elements->elts;

    for (i = 0; i < elements->nelts; i++) {
        p = ngx_pnalloc(pool, el[i].name.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, el[i].name.data, el[i].name.len);
        el[i].name.data = p;
    }

    return NGX_OK;
}


ngx_array_t *
ngx_wsman_body_elements(ngx_pool_t *pool, ngx_wsman_request_t *req,
    ngx_uint_t max_depth)
{
    ngx_array_t  *out;

    out = ngx_wsman_body_array(pool);
    if (out == NULL) {
        return NULL;
    }

    if (ngx_wsman_body_walk(pool, req->payload, 0, max_depth, out)
        != NGX_OK)
    {
        return NULL;
    }

    return out;
}


ngx_array_t *
ngx_wsman_xml_elements(ngx_pool_t *pool, ngx_wsman_xml_t *x,
    ngx_uint_t max_depth)
{
    ngx_int_t     rc;
    xmlDocPtr     doc;
    ngx_array_t  *out;

    out = ngx_wsman_body_array(pool);
    if (out == NULL) {
        return NULL;
    }

    doc = ngx_wsman_xml_doc(pool, x);
    if (doc == NULL) {
        return NULL;
    }

    /* the names point into the document: the pool keeps copies */
    rc = ngx_wsman_body_walk(pool, xmlDocGetRootElement(doc), 0, max_depth,
                             out);

    if (rc == NGX_OK) {
        rc = ngx_wsman_body_copy_names(pool, out);
    }

    xmlFreeDoc(doc);

    return rc == NGX_OK ? out : NULL;
}


ngx_int_t
ngx_wsman_body_child_text(ngx_pool_t *pool, ngx_wsman_request_t *req,
    const char *name, ngx_str_t *text)
{
    xmlNodePtr  node;

    if (req->payload == NULL) {
        return NGX_DECLINED;
    }

    for (node = req->payload->children; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE
            && xmlStrcmp(node->name, (const xmlChar *) name) == 0)
        {
            return ngx_wsman_soap_node_text(pool, node, text);
        }
    }

    return NGX_DECLINED;
}


ngx_wsman_node_t *
ngx_wsman_body_payload(ngx_wsman_request_t *req)
{
    return req->payload;
}


ngx_uint_t
ngx_wsman_node_is(ngx_wsman_node_t *node, const char *ns, const char *name)
{
    return ngx_wsman_soap_is(node, ns, name);
}


ngx_wsman_node_t *
ngx_wsman_node_next(ngx_wsman_node_t *node, const char *ns,
    const char *name)
{
    for (node = node ? node->next : NULL; node; node = node->next) {
        if (ngx_wsman_soap_is(node, ns, name)) {
            return node;
        }
    }

    return NULL;
}


ngx_wsman_node_t *
ngx_wsman_node_child(ngx_wsman_node_t *parent, const char *ns,
    const char *name)
{
    xmlNodePtr  node;

    node = parent ? parent->children : NULL;

    if (node == NULL || ngx_wsman_soap_is(node, ns, name)) {
        return node;
    }

    return ngx_wsman_node_next(node, ns, name);
}


ngx_int_t
ngx_wsman_node_text(ngx_pool_t *pool, ngx_wsman_node_t *node,
    ngx_str_t *text)
{
    return ngx_wsman_soap_node_text(pool, node, text);
}


ngx_int_t
ngx_wsman_node_attr(ngx_pool_t *pool, ngx_wsman_node_t *node,
    const char *name, ngx_str_t *value)
{
    xmlChar  *attr;

    ngx_str_null(value);

    attr = xmlGetNoNsProp(node, (const xmlChar *) name);
    if (attr == NULL) {
        return NGX_DECLINED;
    }

    value->len = ngx_strlen(attr);
    value->data = ngx_pnalloc(pool, value->len + 1);

    if (value->data == NULL) {
        xmlFree(attr);
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, attr, value->len + 1);
    xmlFree(attr);

    return NGX_OK;
}


/* an XML writer's output as a libxml2 document (NULL: not well-formed) */
xmlDocPtr
ngx_wsman_xml_doc(ngx_pool_t *pool, ngx_wsman_xml_t *x)
{
    u_char       *p, *buf;
    ngx_chain_t  *cl;

    cl = ngx_wsman_xml_chain(x);
    if (cl == NULL || x->length == 0) {
        return NULL;
    }

    buf = ngx_pnalloc(pool, (size_t) x->length);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;

    for ( /* void */ ; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    /* our own output: no DTD, no entities, no network */
    return xmlReadMemory((char *) buf, p - buf, NULL, "UTF-8",
                         XML_PARSE_NONET | XML_PARSE_NOBLANKS
                         | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}


ngx_int_t
ngx_wsman_xml_check(u_char *data, size_t len, const char *root)
{
    ngx_int_t   rc;
    xmlDocPtr   doc;
    xmlNodePtr  node;

    if (len == 0 || len > INT_MAX) {
        return NGX_DECLINED;
    }

    /* no network, no entity expansion; a DTD is refused below */
    doc = xmlReadMemory((char *) data, (int) len, NULL, "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOERROR
                        | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        return NGX_DECLINED;
    }

    node = xmlDocGetRootElement(doc);

    rc = (doc->intSubset == NULL && doc->extSubset == NULL && node
          && ngx_strcmp(node->name, root) == 0)
         ? NGX_OK : NGX_DECLINED;

    xmlFreeDoc(doc);

    return rc;
}


ngx_wsman_node_t *
ngx_wsman_header_element(ngx_wsman_request_t *req, const char *ns,
    const char *name)
{
    xmlNodePtr  root, header;

    root = req->doc ? xmlDocGetRootElement(req->doc) : NULL;
    header = ngx_wsman_node_child(root, NGX_WSMAN_NS_SOAP, "Header");

    return ngx_wsman_node_child(header, ns, name);
}


ngx_int_t
ngx_wsman_node_inner_xml(ngx_pool_t *pool, ngx_wsman_node_t *node,
    ngx_str_t *xml)
{
    size_t        len;
    xmlNodePtr    child;
    xmlBufferPtr  buf;

    ngx_str_null(xml);

    /* an Events batch's sections set aside under node: back in place */
    if (ngx_wsman_soap_lifted_restore(node) != NGX_OK) {
        return NGX_ERROR;
    }

    buf = xmlBufferCreate();
    if (buf == NULL) {
        return NGX_ERROR;
    }

    for (child = node->children; child; child = child->next) {
        if (xmlNodeDump(buf, node->doc, child, 0, 0) < 0) {
            xmlBufferFree(buf);
            return NGX_ERROR;
        }
    }

    len = (size_t) xmlBufferLength(buf);

    xml->data = ngx_pnalloc(pool, len + 1);
    if (xml->data == NULL) {
        xmlBufferFree(buf);
        return NGX_ERROR;
    }

    ngx_memcpy(xml->data, xmlBufferContent(buf), len);
    xml->data[len] = '\0';
    xml->len = len;

    xmlBufferFree(buf);

    return NGX_OK;
}


ngx_wsman_doc_t *
ngx_wsman_doc_parse(u_char *data, size_t len, ngx_wsman_node_t **root)
{
    xmlDocPtr  doc;

    *root = NULL;

    if (len == 0 || len > INT_MAX) {
        return NULL;
    }

    doc = xmlReadMemory((char *) data, (int) len, NULL, "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOERROR
                        | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (doc == NULL) {
        return NULL;
    }

    /* entities declared in a DTD are how documents grow on parsing */
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        return NULL;
    }

    *root = xmlDocGetRootElement(doc);

    if (*root == NULL) {
        xmlFreeDoc(doc);
        return NULL;
    }

    return doc;
}


void
ngx_wsman_doc_free(ngx_wsman_doc_t *doc)
{
    xmlFreeDoc(doc);
}


ngx_uint_t
ngx_wsman_node_named(ngx_wsman_node_t *node, const char *name)
{
    return node != NULL
           && node->type == XML_ELEMENT_NODE
           && xmlStrEqual(node->name, (const xmlChar *) name);
}


ngx_wsman_node_t *
ngx_wsman_node_child_named(ngx_wsman_node_t *parent, const char *name)
{
    xmlNodePtr  node;

    node = parent ? parent->children : NULL;

    if (node == NULL || ngx_wsman_node_named(node, name)) {
        return node;
    }

    return ngx_wsman_node_next_named(node, name);
}


ngx_wsman_node_t *
ngx_wsman_node_next_named(ngx_wsman_node_t *node, const char *name)
{
    for (node = node ? node->next : NULL; node; node = node->next) {
        if (ngx_wsman_node_named(node, name)) {
            return node;
        }
    }

    return NULL;
}


/* --- documents read as a stream (ngx_wsman_doc_scan()) --- */

#define NGX_WSMAN_DOC_SCAN_ATTRS  16

/*
 * libxml2 calls xmlGROW() before each token that starts within its
 * INPUT_CHUNK (250 bytes) of the input's end, ~90 calls of ~75
 * instructions an event; a comment after the root element keeps every
 * token of the document further from the end.  A comment, not spaces:
 * libxml2 reads a comment it reports to no one in a tight loop (spaces
 * after the root take xmlNextChar() each, ten times the cost), and one
 * cannot change what comes before it: a document not well-formed (its
 * end in a tag, a comment, a PI, a CDATA section, a DTD) stays so, a
 * well-formed one stays so.  Documents up to NGX_WSMAN_DOC_SCAN_COPY
 * are copied to have it.
 */
#define NGX_WSMAN_DOC_SCAN_PAD    256
#define NGX_WSMAN_DOC_SCAN_COPY   65536


typedef struct {
    ngx_wsman_doc_scan_t      *scan;
    ngx_uint_t                 dtd;
} ngx_wsman_doc_scan_ctx_t;


static void
ngx_wsman_doc_scan_start(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes)
{
    ngx_wsman_doc_scan_ctx_t  *sc;

    int         i;
    ngx_str_t   name, attrs[2 * NGX_WSMAN_DOC_SCAN_ATTRS];
    ngx_uint_t  n;

    sc = ((xmlParserCtxtPtr) ctx)->_private;

    name.data = (u_char *) localname;
    name.len = ngx_strlen(localname);

    n = 0;

    /* five pointers an attribute: name, prefix, URI, value, value end */
    for (i = 0; i < nb_attributes && n < NGX_WSMAN_DOC_SCAN_ATTRS; i++) {
        attrs[2 * n].data = (u_char *) attributes[5 * i];
        attrs[2 * n].len = ngx_strlen(attributes[5 * i]);
        attrs[2 * n + 1].data = (u_char *) attributes[5 * i + 3];
        attrs[2 * n + 1].len = attributes[5 * i + 4] - attributes[5 * i + 3];
        n++;
    }

    sc->scan->start(sc->scan->data, &name, attrs, n);
}


/* the element that ends is the last one started (the parser stops at
 * one that does not nest): no name, no strlen() of it */
static void
ngx_wsman_doc_scan_end(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri)
{
    ngx_wsman_doc_scan_ctx_t  *sc;

    sc = ((xmlParserCtxtPtr) ctx)->_private;

    sc->scan->end(sc->scan->data);
}


static void
ngx_wsman_doc_scan_text(void *ctx, const xmlChar *ch, int len)
{
    ngx_wsman_doc_scan_ctx_t  *sc;

    sc = ((xmlParserCtxtPtr) ctx)->_private;

    sc->scan->text(sc->scan->data, (u_char *) ch, (size_t) len);
}


static void
ngx_wsman_doc_scan_dtd(void *ctx, const xmlChar *name,
    const xmlChar *external_id, const xmlChar *system_id)
{
    ngx_wsman_doc_scan_ctx_t  *sc;

    sc = ((xmlParserCtxtPtr) ctx)->_private;
    sc->dtd = 1;

    /* nothing after a DTD is worth reading */
    xmlStopParser((xmlParserCtxtPtr) ctx);
}


/*
 * The whole document is in the buffer and no decoder stands between, so
 * the no-op read callback goes, and with it a buffer grow attempt at
 * every token of the last 250 bytes.  Larger inputs keep it: libxml2
 * refuses lookups past XML_MAX_LOOKUP_LIMIT into inputs without one.
 */
static void
ngx_wsman_doc_scan_start_document(void *ctx)
{
    xmlParserCtxtPtr  ctxt = ctx;

    if (ctxt->input && ctxt->input->buf
        && ctxt->input->buf->encoder == NULL
        && ctxt->input->end - ctxt->input->base <= XML_MAX_LOOKUP_LIMIT)
    {
        ctxt->input->buf->readcallback = NULL;
    }
}


/* one parser a thread, made on first use and kept; so is the copy */
static __thread xmlParserCtxtPtr  ngx_wsman_doc_scan_parser;
static __thread u_char           *ngx_wsman_doc_scan_buf;
static __thread size_t            ngx_wsman_doc_scan_size;


/* data and a comment of NGX_WSMAN_DOC_SCAN_PAD bytes after it, or NULL
 * (data is read as it is) */
static u_char *
ngx_wsman_doc_scan_padded(u_char *data, size_t len)
{
    size_t   size;
    u_char  *buf;

    size = len + NGX_WSMAN_DOC_SCAN_PAD;

    if (size > NGX_WSMAN_DOC_SCAN_COPY) {
        return NULL;
    }

    if (size > ngx_wsman_doc_scan_size) {
        /* grown in steps of 4 KB, to the largest document seen */
        size = ngx_align(size, 4096);

        buf = malloc(size);
        if (buf == NULL) {
            return NULL;
        }

        ngx_free(ngx_wsman_doc_scan_buf);
        ngx_wsman_doc_scan_buf = buf;
        ngx_wsman_doc_scan_size = size;
    }

    buf = ngx_wsman_doc_scan_buf;

    ngx_memcpy(buf, data, len);

    buf += len;
    buf = ngx_cpymem(buf, "<!--", 4);
    ngx_memset(buf, 'x', NGX_WSMAN_DOC_SCAN_PAD - 7);
    ngx_memcpy(buf + NGX_WSMAN_DOC_SCAN_PAD - 7, "-->", 3);

    return ngx_wsman_doc_scan_buf;
}


ngx_int_t
ngx_wsman_doc_scan(u_char *data, size_t len, ngx_wsman_doc_scan_t *scan)
{
    u_char                   *padded;
    xmlParserCtxtPtr          ctxt;
    ngx_wsman_doc_scan_ctx_t  sc;

    static const xmlSAXHandler  handler = {
        .initialized = XML_SAX2_MAGIC,
        .startDocument = ngx_wsman_doc_scan_start_document,
        .startElementNs = ngx_wsman_doc_scan_start,
        .endElementNs = ngx_wsman_doc_scan_end,
        .characters = ngx_wsman_doc_scan_text,
        .cdataBlock = ngx_wsman_doc_scan_text,
        .internalSubset = ngx_wsman_doc_scan_dtd
    };

    if (len == 0 || len > INT_MAX) {
        return NGX_DECLINED;
    }

    ctxt = ngx_wsman_doc_scan_parser;

    if (ctxt == NULL) {
        ctxt = xmlNewParserCtxt();
        if (ctxt == NULL) {
            return NGX_ERROR;
        }

        ngx_wsman_doc_scan_parser = ctxt;
    }

    padded = ngx_wsman_doc_scan_padded(data, len);

    if (padded) {
        data = padded;
        len += NGX_WSMAN_DOC_SCAN_PAD;
    }

    sc.scan = scan;
    sc.dtd = 0;

    /* xmlCtxtReadMemory() resets the parser; its handlers stay ours */
    ngx_memcpy(ctxt->sax, &handler, sizeof(xmlSAXHandler));
    ctxt->_private = &sc;

    /*
     * UTF-8 without a decoder: one named, even UTF-8's own, makes libxml2
     * copy the text through it in chunks and refill its input every few
     * dozen characters (a third of the scan's cost)
     */
    (void) xmlCtxtReadMemory(ctxt, (char *) data, (int) len, NULL, NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR
                             | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC);

    if (ctxt->myDoc) {
        xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
    }

    return (ctxt->wellFormed && !sc.dtd) ? NGX_OK : NGX_DECLINED;
}
