/*
 * XML output: an append-only writer that fills pool buffers and hands the
 * result over as a chain.  Allocation failures are sticky: callers append
 * freely and check ngx_wsman_xml_failed() (or the return value of
 * ngx_wsman_xml_chain()) once at the end.
 */

#ifndef _NGX_WSMAN_XML_H_INCLUDED_
#define _NGX_WSMAN_XML_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_wsman_xml_s {
    ngx_pool_t       *pool;
    ngx_chain_t      *first;
    ngx_chain_t     **last;
    ngx_buf_t        *buf;
    size_t            block;        /* size of the next buffer */
    off_t             length;       /* bytes written so far */
    unsigned          failed:1;
} ngx_wsman_xml_t;


void ngx_wsman_xml_init(ngx_wsman_xml_t *x, ngx_pool_t *pool, size_t block);
void ngx_wsman_xml_raw(ngx_wsman_xml_t *x, const u_char *data, size_t len);
void ngx_wsman_xml_str(ngx_wsman_xml_t *x, ngx_str_t *s);
void ngx_wsman_xml_text(ngx_wsman_xml_t *x, const u_char *data, size_t len);
void ngx_wsman_xml_text_str(ngx_wsman_xml_t *x, ngx_str_t *s);
void ngx_wsman_xml_uint(ngx_wsman_xml_t *x, uint64_t n);
void ngx_wsman_xml_element(ngx_wsman_xml_t *x, const char *qname,
    ngx_str_t *text);
void ngx_wsman_xml_chain_append(ngx_wsman_xml_t *x, ngx_chain_t *cl,
    off_t length);
ngx_chain_t *ngx_wsman_xml_chain(ngx_wsman_xml_t *x);
size_t ngx_wsman_xml_escaped_len(const u_char *data, size_t len);
ngx_chain_t *ngx_wsman_xml_utf16(ngx_pool_t *pool, ngx_chain_t *in,
    off_t *length, ngx_uint_t big_endian);

#define ngx_wsman_xml_literal(x, s)                                         \
    ngx_wsman_xml_raw(x, (const u_char *) s, sizeof(s) - 1)

#define ngx_wsman_xml_failed(x)   ((x)->failed)


#endif /* _NGX_WSMAN_XML_H_INCLUDED_ */
