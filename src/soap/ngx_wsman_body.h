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


#endif /* _NGX_WSMAN_BODY_H_INCLUDED_ */
