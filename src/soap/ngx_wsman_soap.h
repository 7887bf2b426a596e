/*
 * SOAP 1.2 envelopes: hardened parsing of requests into
 * ngx_wsman_request_t, and the head/tail of every response.
 */

#ifndef _NGX_WSMAN_SOAP_H_INCLUDED_
#define _NGX_WSMAN_SOAP_H_INCLUDED_


#include <libxml/tree.h>

#include "ngx_wsman.h"
#include "ngx_wsman_body.h"
#include "ngx_wsman_fault.h"
#include "ngx_wsman_xml.h"
#include "ngx_wsman_util.h"


/* limits applied while parsing */
typedef struct {
    ngx_uint_t       max_depth;        /* element nesting */
    ngx_msec_t       max_timeout;      /* caps w:OperationTimeout */
} ngx_wsman_soap_limits_t;


#define NGX_WSMAN_SOAP_MAX_DEPTH     64

/*
 * Counted in the raw envelope before libxml2 sees it: libxml2 checks an
 * element's attributes (namespace declarations included) for duplicates
 * pairwise, so one element with 40000 of them costs seconds, and looks
 * every prefix up through all namespace declarations in scope (7000 of
 * them and 30000 elements: 1.7 s).  WinRM clients send a handful of
 * attributes per element, a few hundred and a dozen namespaces per
 * envelope.
 */
#define NGX_WSMAN_SOAP_MAX_ATTRIBUTES        128     /* on one element */
#define NGX_WSMAN_SOAP_MAX_TOTAL_ATTRIBUTES  8192    /* in one envelope */
#define NGX_WSMAN_SOAP_MAX_ELEMENTS          32768   /* in one envelope */
#define NGX_WSMAN_SOAP_MAX_NAMESPACES        256     /* declarations */

/*
 * Selectors are checked for duplicates pairwise: 5800 of them (400 kB)
 * cost a worker 0.65 s.  A class has a handful of keys.
 */
#define NGX_WSMAN_SOAP_MAX_SELECTORS         64

/* the character encoding of an envelope, as the pre-scan found it */
typedef enum {
    NGX_WSMAN_SOAP_UTF8 = 0,        /* or another ASCII superset */
    NGX_WSMAN_SOAP_UTF16LE,
    NGX_WSMAN_SOAP_UTF16BE
} ngx_wsman_soap_encoding_e;


void ngx_wsman_soap_init(void);
void ngx_wsman_soap_ctxt_free(void);
ngx_int_t ngx_wsman_soap_parse(ngx_pool_t *pool, ngx_log_t *log,
    const u_char *data, size_t len, ngx_wsman_soap_limits_t *limits,
    ngx_wsman_request_t *req, ngx_wsman_fault_t *fault);

/*
 * Events batches (DSP0226 10.2.9.4) are mostly CDATA: each w:Event holds
 * a whole event document, and libxml2 walks a CDATA section a byte at a
 * time three times over (its end, its characters, its line count), a
 * fifth of a batch's cost, only for the event scan to parse it again.
 * So the pre-scan sets such sections aside when it has them in its own
 * UTF-8 (converted from UTF-16, every character already one XML allows):
 * a section of at least NGX_WSMAN_SOAP_LIFT_MIN bytes that is the whole
 * content of an element named Event leaves a marker in its place (U+E000,
 * a random UUID drawn for the envelope, '#', its index) and its bytes in
 * spans.  ngx_wsman_soap_node_text() reads the marker back as the
 * section's text; the UUID is what no client can forge.  Readers of a
 * whole subtree get the sections put back first
 * (ngx_wsman_soap_lifted_restore()), and so does the whole tree of an
 * envelope of any other action, or one that faults
 * (ngx_wsman_soap_parse()): no other reader ever meets a marker.
 */
#define NGX_WSMAN_SOAP_LIFT_MIN     256
#define NGX_WSMAN_SOAP_LIFT_MARK    "\xee\x80\x80"     /* U+E000 */
#define NGX_WSMAN_SOAP_LIFT_NONCE   (3 + NGX_WSMAN_UUID_LEN + 1)

typedef struct {
    u_char               nonce[NGX_WSMAN_SOAP_LIFT_NONCE];
    ngx_array_t          spans;        /* ngx_str_t, in document order */
} ngx_wsman_soap_lifted_t;

/*
 * The envelope made ready for libxml2, before it spends anything on it:
 * *text in, its UTF-8 out (UTF-16 converted into pool, *replaced the
 * invalid code units made U+FFFD; a byte order mark dropped), and the
 * caps on elements, attributes and namespaces counted.  *encoding: what
 * the client sent.  With lifted not NULL, sections are set aside as
 * above (*lifted NULL when none were).  NGX_OK, NGX_DECLINED (fault
 * set), NGX_ERROR.
 */
ngx_int_t ngx_wsman_soap_prescan(ngx_pool_t *pool, ngx_str_t *text,
    ngx_wsman_soap_encoding_e *encoding, ngx_uint_t *replaced,
    ngx_wsman_soap_lifted_t **lifted, ngx_wsman_fault_t *fault);

/*
 * UTF-16 (code units after any byte order mark) to UTF-8, for libxml2 to
 * parse without a decoder of its own in the way (it converts in small
 * chunks and refills its input every few dozen characters).  Text as
 * Windows event sources send it may hold unpaired surrogates and code
 * units XML forbids (control characters, U+FFFE/F): each becomes U+FFFD,
 * so one bad event never fails its batch; *replaced counts them.  dst
 * holds NGX_WSMAN_SOAP_UTF8_SIZE(len) bytes; returns the bytes written.
 */
#define NGX_WSMAN_SOAP_UTF8_SIZE(len)  ((len) / 2 * 3 + 3)

size_t ngx_wsman_soap_utf16_to_utf8(u_char *dst, const u_char *src,
    size_t len, ngx_uint_t big_endian, ngx_uint_t *replaced);


ngx_int_t ngx_wsman_soap_node_text(ngx_pool_t *pool, xmlNodePtr node,
    ngx_str_t *text);
ngx_int_t ngx_wsman_soap_lifted_restore(xmlNodePtr node);
ngx_int_t ngx_wsman_soap_is(xmlNodePtr node, const char *ns,
    const char *name);

void ngx_wsman_soap_write_head(ngx_wsman_xml_t *x, ngx_str_t *action,
    ngx_str_t *relates_to);
void ngx_wsman_soap_write_head_extra(ngx_wsman_xml_t *x, ngx_str_t *action,
    ngx_str_t *relates_to, ngx_str_t *extra);
void ngx_wsman_soap_write_tail(ngx_wsman_xml_t *x);

/* an XML writer's output as a libxml2 document (NULL: not well-formed) */
xmlDocPtr ngx_wsman_xml_doc(ngx_pool_t *pool, ngx_wsman_xml_t *x);


#endif /* _NGX_WSMAN_SOAP_H_INCLUDED_ */
