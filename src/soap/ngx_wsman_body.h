/*
 * The request body as plug-ins read it: elements by local name with
 * their text, without libxml2 (the SOAP layer walks the tree).
 */

#ifndef _NGX_WSMAN_BODY_H_INCLUDED_
#define _NGX_WSMAN_BODY_H_INCLUDED_


#include "ngx_wsman.h"
#include "ngx_wsman_xml.h"


typedef struct {
    ngx_str_t                  name;         /* local name */
    ngx_str_t                  text;         /* its text, trimmed */
    ngx_uint_t                 depth;        /* 0: a child of s:Body (or
                                                the document element) */
    unsigned                   leaf:1;       /* no element children */
} ngx_wsman_element_t;


/*
 * Every element of the s:Body (or of a document we wrote), in document
 * order, down to max_depth: an array of ngx_wsman_element_t (empty: no
 * body).  NULL: out of memory, or x is not well-formed.
 */
ngx_array_t *ngx_wsman_body_elements(ngx_pool_t *pool,
    ngx_wsman_request_t *req, ngx_uint_t max_depth);
ngx_array_t *ngx_wsman_xml_elements(ngx_pool_t *pool, ngx_wsman_xml_t *x,
    ngx_uint_t max_depth);

/* the text of the payload's child element called name: NGX_OK,
 * NGX_DECLINED when there is none, NGX_ERROR */
ngx_int_t ngx_wsman_body_child_text(ngx_pool_t *pool,
    ngx_wsman_request_t *req, const char *name, ngx_str_t *text);


/*
 * Walking the body element by element (an element is opaque here: the
 * SOAP layer's libxml2 node).  Names match by namespace URI and local
 * name, never by prefix.
 */
typedef struct _xmlNode  ngx_wsman_node_t;

/* the first element in s:Body (NULL: none) */
ngx_wsman_node_t *ngx_wsman_body_payload(ngx_wsman_request_t *req);
ngx_uint_t ngx_wsman_node_is(ngx_wsman_node_t *node, const char *ns,
    const char *name);
/* the first child element of parent (NULL: none, or parent is NULL) and
 * the next sibling element after node with this name */
ngx_wsman_node_t *ngx_wsman_node_child(ngx_wsman_node_t *parent,
    const char *ns, const char *name);
ngx_wsman_node_t *ngx_wsman_node_next(ngx_wsman_node_t *node,
    const char *ns, const char *name);
/* its text, trimmed */
ngx_int_t ngx_wsman_node_text(ngx_pool_t *pool, ngx_wsman_node_t *node,
    ngx_str_t *text);
/* an unqualified attribute, copied with a NUL after it: NGX_OK,
 * NGX_DECLINED when absent (value empty), NGX_ERROR */
ngx_int_t ngx_wsman_node_attr(ngx_pool_t *pool, ngx_wsman_node_t *node,
    const char *name, ngx_str_t *value);


/* a block of s:Header by namespace and local name (NULL: none) */
ngx_wsman_node_t *ngx_wsman_header_element(ngx_wsman_request_t *req,
    const char *ns, const char *name);
/* an element's content (its children) written out as XML, UTF-8 */
ngx_int_t ngx_wsman_node_inner_xml(ngx_pool_t *pool, ngx_wsman_node_t *node,
    ngx_str_t *xml);


/*
 * A document of its own inside a message (an event a source forwards in
 * CDATA), parsed as hardened as envelopes: no network, no entity
 * substitution, no DTD.  Safe in any thread (libxml2 was initialised by
 * the core).  NULL: not well-formed (or out of memory); free it with
 * ngx_wsman_doc_free().
 */
typedef struct _xmlDoc  ngx_wsman_doc_t;

ngx_wsman_doc_t *ngx_wsman_doc_parse(u_char *data, size_t len,
    ngx_wsman_node_t **root);
void ngx_wsman_doc_free(ngx_wsman_doc_t *doc);
/*
 * The same document read as a stream, without a tree: the callbacks see
 * each element's local name and attributes (name, value pairs), its text
 * in one or more pieces, and its end (that of the last element started).
 * Several times cheaper than ngx_wsman_doc_parse() for reading a few
 * fields of many documents; the parser is kept per thread.  NGX_OK:
 * well-formed (no DTD either); NGX_DECLINED: not; NGX_ERROR.
 */
typedef struct {
    void                     (*start)(void *data, ngx_str_t *name,
                                      ngx_str_t *attrs, ngx_uint_t nattrs);
    void                     (*text)(void *data, u_char *text, size_t len);
    void                     (*end)(void *data);
    void                      *data;
} ngx_wsman_doc_scan_t;

ngx_int_t ngx_wsman_doc_scan(u_char *data, size_t len,
    ngx_wsman_doc_scan_t *scan);

/* the local name of an element, whatever its namespace */
ngx_uint_t ngx_wsman_node_named(ngx_wsman_node_t *node, const char *name);
/* the first child element with this local name, whatever its namespace */
ngx_wsman_node_t *ngx_wsman_node_child_named(ngx_wsman_node_t *parent,
    const char *name);
ngx_wsman_node_t *ngx_wsman_node_next_named(ngx_wsman_node_t *node,
    const char *name);


/*
 * Is data (UTF-8) one well-formed XML document without a DTD, whose root
 * element has the local name root?  For configuration checks (nginx -t)
 * of XML a plug-in passes on verbatim.  NGX_OK, or NGX_DECLINED.
 */
ngx_int_t ngx_wsman_xml_check(u_char *data, size_t len, const char *root);


/* a w:Selector or w:Option of the request by name (NULL: none) */
ngx_wsman_pair_t *ngx_wsman_soap_selector(ngx_wsman_request_t *req,
    const char *name);
ngx_wsman_pair_t *ngx_wsman_soap_option(ngx_wsman_request_t *req,
    const char *name);


#endif /* _NGX_WSMAN_BODY_H_INCLUDED_ */
