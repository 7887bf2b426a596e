/*
 * SOAP parsing, hardened: SOAP 1.2 forbids document type declarations, so
 * the parser stops at the first one; that rules out external entities
 * (XXE), entity expansion bombs and DTD loading in one place.  Elements
 * are matched by namespace URI and local name, never by prefix.
 */

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>

#include "ngx_wsman_soap.h"
#include "ngx_wsman_util.h"
#include "ngx_wsman_duration.h"


#define NGX_WSMAN_MIN_ENVELOPE_SIZE   8192

/*
 * The parser context is kept from one request to the next in a worker:
 * making one (and its dictionary of names) costs about as much as parsing
 * a small envelope.  The dictionary keeps every distinct name and short
 * text it has seen, so a context whose dictionary grew past this many
 * entries is replaced rather than reused.
 */
#define NGX_WSMAN_SOAP_DICT_MAX       4096



/* state of one parse, reached from libxml2 callbacks via ctxt->_private */
typedef struct {
    ngx_uint_t                  depth;
    ngx_uint_t                  max_depth;
    unsigned                    dtd:1;
    unsigned                    too_deep:1;
} ngx_wsman_soap_sax_t;


typedef struct ngx_wsman_soap_header_s  ngx_wsman_soap_header_t;

typedef ngx_int_t (*ngx_wsman_soap_header_pt)(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);

struct ngx_wsman_soap_header_s {
    const char                 *ns;
    const char                 *name;
    ngx_wsman_soap_header_pt    handler;
    size_t                      offset;     /* of an ngx_str_t, for text */
};


static xmlParserCtxtPtr ngx_wsman_soap_ctxt(void);
static void ngx_wsman_soap_log_error(ngx_log_t *log, xmlParserCtxtPtr ctxt,
    ngx_uint_t lifted);
static void ngx_wsman_soap_sax_stop(void *ctx);
static void ngx_wsman_soap_sax_internal_subset(void *ctx,
    const xmlChar *name, const xmlChar *external_id,
    const xmlChar *system_id);
static void ngx_wsman_soap_sax_entity_decl(void *ctx, const xmlChar *name,
    int type, const xmlChar *public_id, const xmlChar *system_id,
    xmlChar *content);
static void ngx_wsman_soap_sax_start(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes);
static void ngx_wsman_soap_sax_end(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri);
static void ngx_wsman_soap_free_doc(void *data);
static ngx_int_t ngx_wsman_soap_envelope(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_headers(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr header, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_must_understand(xmlNodePtr node);
static ngx_int_t ngx_wsman_soap_header_text(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_header_ignore(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_header_flag(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_header_reply_to(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_header_locale(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_header_fragment(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_header_timeout(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_header_max_envelope(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_header_selectors(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_header_options(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault);
static ngx_int_t ngx_wsman_soap_pair(ngx_pool_t *pool, xmlNodePtr node,
    ngx_wsman_pair_t *pair);
static ngx_int_t ngx_wsman_soap_prop(ngx_pool_t *pool, xmlNodePtr node,
    const char *name, const char *ns, ngx_str_t *value);
static ngx_wsman_pair_t *ngx_wsman_soap_find(ngx_array_t *a,
    const u_char *name, size_t len);
static ngx_int_t ngx_wsman_soap_fail(ngx_wsman_fault_t *fault,
    ngx_wsman_fault_e id, const char *message);
static void ngx_wsman_soap_write_uuid(ngx_wsman_xml_t *x);


static ngx_wsman_soap_header_t  ngx_wsman_soap_known_headers[] = {

    { NGX_WSMAN_NS_WSA, "Action", ngx_wsman_soap_header_text,
      offsetof(ngx_wsman_request_t, action) },

    { NGX_WSMAN_NS_WSA, "To", ngx_wsman_soap_header_text,
      offsetof(ngx_wsman_request_t, to) },

    { NGX_WSMAN_NS_WSA, "MessageID", ngx_wsman_soap_header_text,
      offsetof(ngx_wsman_request_t, message_id) },

    { NGX_WSMAN_NS_WSA, "ReplyTo", ngx_wsman_soap_header_reply_to, 0 },

    /* replies always travel back on the HTTP response */
    { NGX_WSMAN_NS_WSA, "From", ngx_wsman_soap_header_ignore, 0 },
    { NGX_WSMAN_NS_WSA, "FaultTo", ngx_wsman_soap_header_ignore, 0 },

    { NGX_WSMAN_NS_WSMAN, "ResourceURI", ngx_wsman_soap_header_text,
      offsetof(ngx_wsman_request_t, resource_uri) },

    { NGX_WSMAN_NS_WSMAN, "SelectorSet", ngx_wsman_soap_header_selectors, 0 },
    { NGX_WSMAN_NS_WSMAN, "OptionSet", ngx_wsman_soap_header_options, 0 },
    { NGX_WSMAN_NS_WSMAN, "OperationTimeout",
      ngx_wsman_soap_header_timeout, 0 },
    { NGX_WSMAN_NS_WSMAN, "MaxEnvelopeSize",
      ngx_wsman_soap_header_max_envelope, 0 },
    { NGX_WSMAN_NS_WSMAN, "Locale", ngx_wsman_soap_header_locale,
      offsetof(ngx_wsman_request_t, locale) },
    { NGX_WSMAN_NS_MSWSMAN, "DataLocale", ngx_wsman_soap_header_locale,
      offsetof(ngx_wsman_request_t, data_locale) },

    /* Windows session bookkeeping (pypsrp, PowerShell): harmless to skip */
    { NGX_WSMAN_NS_MSWSMAN, "SessionId", ngx_wsman_soap_header_ignore, 0 },
    { NGX_WSMAN_NS_MSWSMAN, "OperationID", ngx_wsman_soap_header_ignore, 0 },
    { NGX_WSMAN_NS_MSWSMAN, "SequenceId", ngx_wsman_soap_header_ignore, 0 },

    { NGX_WSMAN_NS_WSMAN, "RequestTotalItemsCountEstimate",
      ngx_wsman_soap_header_flag,
      offsetof(ngx_wsman_request_t, total_estimate_requested) },

    /* understood here; the dispatcher refuses it where it does not apply */
    { NGX_WSMAN_NS_WSMAN, "FragmentTransfer",
      ngx_wsman_soap_header_fragment, 0 },

    { NULL, NULL, NULL, 0 }
};


void
ngx_wsman_soap_init(void)
{
    xmlInitParser();
}


ngx_int_t
ngx_wsman_soap_parse(ngx_pool_t *pool, ngx_log_t *log, const u_char *data,
    size_t len, ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    ngx_wsman_fault_t *fault)
{
    int                        well_formed, options;
    ngx_int_t                  rc;
    ngx_str_t                  text;
    xmlDocPtr                  doc;
    ngx_pool_cleanup_t        *cln;
    xmlParserCtxtPtr           ctxt;
    ngx_wsman_soap_sax_t       sax;
    ngx_wsman_soap_lifted_t   *lifted;
    ngx_wsman_soap_encoding_e  encoding;

    static ngx_str_t  events = ngx_string(NGX_WSMAN_ACTION_EVENTS);

    ngx_memzero(req, sizeof(ngx_wsman_request_t));

    if (ngx_array_init(&req->selectors, pool, 4, sizeof(ngx_wsman_pair_t))
        != NGX_OK
        || ngx_array_init(&req->options, pool, 4, sizeof(ngx_wsman_pair_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    req->operation_timeout = limits->max_timeout;

    if (len == 0 || len > NGX_MAX_INT32_VALUE) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                   "empty or oversized envelope");
    }

    options = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR
              | XML_PARSE_NOWARNING;

    text.data = (u_char *) data;
    text.len = len;

    rc = ngx_wsman_soap_prescan(pool, &text, &encoding, &req->utf16_replaced,
                                &lifted, fault);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, log, 0, "wsman: envelope refused "
                      "before parsing: %V", &fault->message);
        return rc;
    }

    data = text.data;
    len = text.len;

    if (encoding != NGX_WSMAN_SOAP_UTF8) {
        /* the declaration still names UTF-16 (the pre-scan checked it) */
        options |= XML_PARSE_IGNORE_ENC;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ctxt = ngx_wsman_soap_ctxt();
    if (ctxt == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&sax, sizeof(ngx_wsman_soap_sax_t));
    sax.max_depth = limits->max_depth ? limits->max_depth
                                      : NGX_WSMAN_SOAP_MAX_DEPTH;

    if (xmlCtxtResetPush(ctxt, NULL, 0, NULL, NULL) != 0) {
        ngx_wsman_soap_ctxt_free();
        return NGX_ERROR;
    }

    /*
     * No network, no DTD, no entity substitution, no error printing.
     * libxml2 only ever adds options to a context: the last envelope's
     * "ignore the declared encoding" would stay for this one.
     */
    ctxt->options &= ~XML_PARSE_IGNORE_ENC;
    (void) xmlCtxtUseOptions(ctxt, options);

    ctxt->_private = &sax;

    (void) xmlParseChunk(ctxt, (const char *) data, (int) len, 1);

    ctxt->_private = NULL;

    doc = ctxt->myDoc;
    ctxt->myDoc = NULL;

    well_formed = ctxt->wellFormed && doc != NULL;

    if (!well_formed && doc) {
        xmlFreeDoc(doc);
        doc = NULL;
    }

    if (!well_formed && !sax.dtd && !sax.too_deep) {
        ngx_wsman_soap_log_error(log, ctxt, lifted != NULL);
    }

    /* a context that stopped half way is not worth trusting again */
    if (!well_formed
        || xmlDictSize(ctxt->dict) > NGX_WSMAN_SOAP_DICT_MAX)
    {
        ngx_wsman_soap_ctxt_free();
    }

    if (doc) {
        cln->handler = ngx_wsman_soap_free_doc;
        cln->data = doc;
    }

    if (sax.dtd) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                   "Document type declarations are not "
                                   "allowed in SOAP messages.");
    }

    if (sax.too_deep) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                   "Elements are nested too deeply.");
    }

    if (!well_formed || doc == NULL) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                   "The XML is not well-formed.");
    }

    /* ngx_wsman_soap_node_text() reads the sections back from here */
    doc->_private = lifted;

    req->doc = doc;

    rc = ngx_wsman_soap_envelope(pool, limits, req, fault);

    /*
     * Sections set aside stand only in an Events delivery that parsed:
     * any other envelope gets its tree as a parse of the whole text
     * builds it, so that no reader of it ever meets a marker
     */
    if (lifted
        && (rc != NGX_OK || req->action.len != events.len
            || ngx_strncmp(req->action.data, events.data, events.len) != 0))
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "wsman parse: CDATA set aside in an envelope of "
                       "action \"%V\": put back", &req->action);

        if (ngx_wsman_soap_lifted_restore(xmlDocGetRootElement(doc))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        doc->_private = NULL;
    }

    return rc;
}


static xmlParserCtxtPtr  ngx_wsman_soap_reused;


/* the worker's parser context, with our hardening callbacks installed */
static xmlParserCtxtPtr
ngx_wsman_soap_ctxt(void)
{
    xmlParserCtxtPtr  ctxt;

    if (ngx_wsman_soap_reused) {
        return ngx_wsman_soap_reused;
    }

    /*
     * A push parser, though it gets the whole envelope at once: libxml2's
     * pull parser copies a CDATA section a character at a time (80
     * instructions each: an Events batch is mostly CDATA), its push
     * parser finds the section's end and checks it in one quick pass.
     */
    ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, NULL);
    if (ctxt == NULL) {
        return NULL;
    }

    ctxt->sax->internalSubset = ngx_wsman_soap_sax_internal_subset;
    ctxt->sax->externalSubset = ngx_wsman_soap_sax_internal_subset;
    ctxt->sax->entityDecl = ngx_wsman_soap_sax_entity_decl;
    ctxt->sax->startElementNs = ngx_wsman_soap_sax_start;
    ctxt->sax->endElementNs = ngx_wsman_soap_sax_end;

    ngx_wsman_soap_reused = ctxt;

    return ctxt;
}


/* documents already parsed keep their own reference to the dictionary */
void
ngx_wsman_soap_ctxt_free(void)
{
    if (ngx_wsman_soap_reused) {
        xmlFreeParserCtxt(ngx_wsman_soap_reused);
        ngx_wsman_soap_reused = NULL;
    }
}


/*
 * libxml2's message, without its trailing newline; its line counts the
 * text libxml2 read, which lacks the lines of CDATA sections set aside
 */
static void
ngx_wsman_soap_log_error(ngx_log_t *log, xmlParserCtxtPtr ctxt,
    ngx_uint_t lifted)
{
    size_t       len;
    const char  *msg;

    msg = ctxt->lastError.message ? ctxt->lastError.message : "unknown error";
    len = ngx_strlen(msg);

    while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) {
        len--;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0, "wsman: malformed XML at line %d%s: "
                  "%*s", ctxt->lastError.line,
                  lifted ? " (not counting events' CDATA)" : "", len, msg);
}


static void
ngx_wsman_soap_sax_stop(void *ctx)
{
    xmlParserCtxtPtr  ctxt = ctx;

    xmlStopParser(ctxt);
    ctxt->wellFormed = 0;
}


static void
ngx_wsman_soap_sax_internal_subset(void *ctx, const xmlChar *name,
    const xmlChar *external_id, const xmlChar *system_id)
{
    xmlParserCtxtPtr       ctxt = ctx;
    ngx_wsman_soap_sax_t  *sax = ctxt->_private;

    sax->dtd = 1;
    ngx_wsman_soap_sax_stop(ctx);
}


/* unreachable after the subset callback stops; kept as a second fence */
static void
ngx_wsman_soap_sax_entity_decl(void *ctx, const xmlChar *name, int type,
    const xmlChar *public_id, const xmlChar *system_id, xmlChar *content)
{
    xmlParserCtxtPtr       ctxt = ctx;
    ngx_wsman_soap_sax_t  *sax = ctxt->_private;

    sax->dtd = 1;
    ngx_wsman_soap_sax_stop(ctx);
}


static void
ngx_wsman_soap_sax_start(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes)
{
    xmlParserCtxtPtr       ctxt = ctx;
    ngx_wsman_soap_sax_t  *sax = ctxt->_private;

    if (++sax->depth > sax->max_depth) {
        sax->too_deep = 1;
        ngx_wsman_soap_sax_stop(ctx);
        return;
    }

    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces,
                          namespaces, nb_attributes, nb_defaulted,
                          attributes);
}


static void
ngx_wsman_soap_sax_end(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri)
{
    xmlParserCtxtPtr       ctxt = ctx;
    ngx_wsman_soap_sax_t  *sax = ctxt->_private;

    sax->depth--;

    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}


static void
ngx_wsman_soap_free_doc(void *data)
{
    xmlFreeDoc(data);
}


static ngx_int_t
ngx_wsman_soap_fail(ngx_wsman_fault_t *fault, ngx_wsman_fault_e id,
    const char *message)
{
    ngx_memzero(fault, sizeof(ngx_wsman_fault_t));

    fault->id = id;

    if (message) {
        fault->message.data = (u_char *) message;
        fault->message.len = ngx_strlen(message);
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_wsman_soap_is(xmlNodePtr node, const char *ns, const char *name)
{
    /* local names differ early, namespace URIs share long prefixes */
    return node != NULL
           && node->type == XML_ELEMENT_NODE
           && node->ns != NULL
           && node->name[0] == (xmlChar) name[0]
           && xmlStrEqual(node->name, (const xmlChar *) name)
           && xmlStrEqual(node->ns->href, (const xmlChar *) ns);
}


/* SOAP 1.2 forbids processing instructions anywhere in a message */
static ngx_int_t
ngx_wsman_soap_has_pi(xmlNodePtr node)
{
    for ( /* void */ ; node; node = node->next) {

        if (node->type == XML_PI_NODE) {
            return 1;
        }

        if (node->type == XML_ELEMENT_NODE
            && ngx_wsman_soap_has_pi(node->children))
        {
            return 1;
        }
    }

    return 0;
}


static xmlNodePtr
ngx_wsman_soap_first_element(xmlNodePtr node)
{
    for ( /* void */ ; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE) {
            return node;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_wsman_soap_envelope(ngx_pool_t *pool, ngx_wsman_soap_limits_t *limits,
    ngx_wsman_request_t *req, ngx_wsman_fault_t *fault)
{
    ngx_int_t   rc;
    xmlNodePtr  root, node, header;

    root = xmlDocGetRootElement(req->doc);

    if (!ngx_wsman_soap_is(root, NGX_WSMAN_NS_SOAP, "Envelope")) {

        if (root && xmlStrEqual(root->name, (const xmlChar *) "Envelope")) {
            return ngx_wsman_soap_fail(fault,
                                       NGX_WSMAN_FAULT_VERSION_MISMATCH,
                                       NULL);
        }

        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                   "The root element is not a SOAP 1.2 "
                                   "Envelope.");
    }

    header = NULL;

    /* Envelope: optional Header, then Body, nothing else */
    if (ngx_wsman_soap_has_pi(req->doc->children)) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                   "Processing instructions are not allowed "
                                   "in SOAP messages.");
    }

    for (node = root->children; node; node = node->next) {

        if (node->type == XML_COMMENT_NODE
            || (node->type == XML_TEXT_NODE
                && xmlIsBlankNode(node)))
        {
            continue;
        }

        if (ngx_wsman_soap_is(node, NGX_WSMAN_NS_SOAP, "Header")
            && header == NULL && req->body == NULL)
        {
            header = node;
            continue;
        }

        if (ngx_wsman_soap_is(node, NGX_WSMAN_NS_SOAP, "Body")
            && req->body == NULL)
        {
            req->body = node;
            continue;
        }

        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                   "The Envelope holds an unexpected "
                                   "element.");
    }

    if (req->body == NULL) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                   "The Envelope has no Body.");
    }

    req->payload = ngx_wsman_soap_first_element(req->body->children);

    if (ngx_wsman_soap_is(req->payload, NGX_WSMAN_NS_WSMID, "Identify")) {
        req->identify = 1;
    }

    if (header) {
        rc = ngx_wsman_soap_headers(pool, limits, req, header, fault);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (req->identify) {
        return NGX_OK;
    }

    if (req->action.len == 0) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_HEADER_REQUIRED,
                                   "The request has no a:Action header.");
    }

    if (req->message_id.len == 0) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_HEADER_REQUIRED,
                                   "The request has no a:MessageID "
                                   "header.");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_soap_headers(ngx_pool_t *pool, ngx_wsman_soap_limits_t *limits,
    ngx_wsman_request_t *req, xmlNodePtr header, ngx_wsman_fault_t *fault)
{
    ngx_int_t                 rc;
    uint32_t                  seen;
    ngx_uint_t                i;
    xmlNodePtr                node;
    ngx_wsman_soap_header_t  *h;

    seen = 0;

    for (node = header->children; node; node = node->next) {

        if (node->type != XML_ELEMENT_NODE) {
            continue;
        }

        h = NULL;

        for (i = 0; ngx_wsman_soap_known_headers[i].name; i++) {
            if (ngx_wsman_soap_is(node, ngx_wsman_soap_known_headers[i].ns,
                                  ngx_wsman_soap_known_headers[i].name))
            {
                h = &ngx_wsman_soap_known_headers[i];
                break;
            }
        }

        if (h == NULL) {
            if (ngx_wsman_soap_must_understand(node)) {
                return ngx_wsman_soap_fail(fault,
                                           NGX_WSMAN_FAULT_MUST_UNDERSTAND,
                                           (const char *) node->name);
            }

            continue;
        }

        if (seen & (1U << i)) {
            return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_INVALID_HEADER,
                                       "A header appears more than once.");
        }

        seen |= 1U << i;

        rc = h->handler(pool, limits, req, node, h, fault);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


/* xs:boolean true: "true" or "1", surrounding white space allowed */
static ngx_int_t
ngx_wsman_soap_is_true(const xmlChar *value)
{
    size_t  len;

    while (*value == ' ' || *value == '\t' || *value == '\r'
           || *value == '\n')
    {
        value++;
    }

    len = ngx_strlen(value);

    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'
                   || value[len - 1] == '\r' || value[len - 1] == '\n'))
    {
        len--;
    }

    return (len == 4 && ngx_strncmp(value, "true", 4) == 0)
           || (len == 1 && value[0] == '1');
}


/* mustUnderstand may be qualified (pypsrp) or not (pywinrm, Go) */
static ngx_int_t
ngx_wsman_soap_must_understand(xmlNodePtr node)
{
    xmlAttrPtr  attr;

    for (attr = node->properties; attr; attr = attr->next) {

        if (!xmlStrEqual(attr->name, (const xmlChar *) "mustUnderstand")) {
            continue;
        }

        if (attr->ns != NULL
            && !xmlStrEqual(attr->ns->href,
                            (const xmlChar *) NGX_WSMAN_NS_SOAP))
        {
            continue;
        }

        return attr->children != NULL
               && attr->children->type == XML_TEXT_NODE
               && ngx_wsman_soap_is_true(attr->children->content);
    }

    return 0;
}


static ngx_int_t
ngx_wsman_soap_trimmed(ngx_pool_t *pool, const u_char *p, size_t len,
    ngx_str_t *text)
{
    while (len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        len--;
    }

    while (len
           && (p[len - 1] == ' ' || p[len - 1] == '\t'
               || p[len - 1] == '\r' || p[len - 1] == '\n'))
    {
        len--;
    }

    text->len = len;
    text->data = ngx_pnalloc(pool, len + 1);
    if (text->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(text->data, p, len);
    text->data[len] = '\0';

    return NGX_OK;
}


/*
 * The index of the section a marker at p stands for (ngx_wsman_soap.h),
 * its length in *len, or NGX_ERROR: not a marker of this document
 */
static ngx_int_t
ngx_wsman_soap_marker(ngx_wsman_soap_lifted_t *lifted, const u_char *p,
    const u_char *end, size_t *len)
{
    ngx_uint_t     k;
    const u_char  *q;

    if ((size_t) (end - p) <= NGX_WSMAN_SOAP_LIFT_NONCE
        || ngx_memcmp(p, lifted->nonce, NGX_WSMAN_SOAP_LIFT_NONCE) != 0)
    {
        return NGX_ERROR;
    }

    k = 0;

    for (q = p + NGX_WSMAN_SOAP_LIFT_NONCE;
         q < end && *q >= '0' && *q <= '9';
         q++)
    {
        k = k * 10 + (*q - '0');

        if (k >= lifted->spans.nelts) {
            return NGX_ERROR;
        }
    }

    if (q == p + NGX_WSMAN_SOAP_LIFT_NONCE) {
        return NGX_ERROR;
    }

    *len = q - p;

    return (ngx_int_t) k;
}


/*
 * The sections set aside under node put back into its texts, for readers
 * of a whole subtree (its content, its XML): they then see the tree a
 * parse of the whole text builds.
 */
ngx_int_t
ngx_wsman_soap_lifted_restore(xmlNodePtr node)
{
    size_t                    len, mlen;
    ngx_int_t                 k;
    ngx_str_t                *span;
    xmlNodePtr                child;
    ngx_wsman_soap_lifted_t  *lifted;

    lifted = node->doc ? node->doc->_private : NULL;

    if (lifted == NULL) {
        return NGX_OK;
    }

    for (child = node->children; child; child = child->next) {

        if (child->type == XML_ELEMENT_NODE) {
            if (ngx_wsman_soap_lifted_restore(child) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (child->type != XML_TEXT_NODE || child->content == NULL) {
            continue;
        }

        len = ngx_strlen(child->content);
        k = ngx_wsman_soap_marker(lifted, child->content,
                                  child->content + len, &mlen);

        if (k != NGX_ERROR && mlen == len) {
            span = (ngx_str_t *) lifted->spans.elts + k;
            xmlNodeSetContentLen(child, span->data, (int) span->len);

            if (child->content == NULL) {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* the text content of a node, trimmed, copied to the pool, NUL-terminated */
ngx_int_t
ngx_wsman_soap_node_text(ngx_pool_t *pool, xmlNodePtr node, ngx_str_t *text)
{
    size_t                    len, mlen;
    ngx_int_t                 rc, k;
    xmlChar                  *content;
    ngx_str_t                *span;
    xmlNodePtr                child;
    ngx_wsman_soap_lifted_t  *lifted;

    /* the usual case, one text child: read it in place, without the copy
     * (and its malloc) xmlNodeGetContent() makes */
    child = node->children;

    if (child && child->next == NULL && child->type == XML_TEXT_NODE
        && child->content)
    {
        len = ngx_strlen(child->content);
        lifted = node->doc ? node->doc->_private : NULL;

        /* a w:Event of an Events batch: its section set aside */
        if (lifted
            && (k = ngx_wsman_soap_marker(lifted, child->content,
                                          child->content + len, &mlen))
               != NGX_ERROR
            && mlen == len)
        {
            span = (ngx_str_t *) lifted->spans.elts + k;
            return ngx_wsman_soap_trimmed(pool, span->data, span->len, text);
        }

        return ngx_wsman_soap_trimmed(pool, child->content, len, text);
    }

    if (ngx_wsman_soap_lifted_restore(node) != NGX_OK) {
        return NGX_ERROR;
    }

    content = xmlNodeGetContent(node);
    if (content == NULL) {
        ngx_str_null(text);
        return NGX_OK;
    }

    rc = ngx_wsman_soap_trimmed(pool, content, ngx_strlen(content), text);

    xmlFree(content);

    return rc;
}


static ngx_int_t
ngx_wsman_soap_prop(ngx_pool_t *pool, xmlNodePtr node, const char *name,
    const char *ns, ngx_str_t *value)
{
    ngx_int_t   rc;
    xmlChar    *prop;

    prop = ns ? xmlGetNsProp(node, (const xmlChar *) name,
                             (const xmlChar *) ns)
              : xmlGetNoNsProp(node, (const xmlChar *) name);

    if (prop == NULL) {
        ngx_str_null(value);
        return NGX_DECLINED;
    }

    rc = ngx_wsman_soap_trimmed(pool, prop, ngx_strlen(prop), value);

    xmlFree(prop);

    return rc;
}


static ngx_int_t
ngx_wsman_soap_header_text(ngx_pool_t *pool, ngx_wsman_soap_limits_t *limits,
    ngx_wsman_request_t *req, xmlNodePtr node, ngx_wsman_soap_header_t *h,
    ngx_wsman_fault_t *fault)
{
    ngx_str_t  *value;

    value = (ngx_str_t *) ((u_char *) req + h->offset);

    return ngx_wsman_soap_node_text(pool, node, value);
}


static ngx_int_t
ngx_wsman_soap_header_ignore(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault)
{
    return NGX_OK;
}


/* a header whose presence is the message (an unsigned flag at offset) */
static ngx_int_t
ngx_wsman_soap_header_flag(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault)
{
    *(ngx_uint_t *) ((u_char *) req + h->offset) = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_soap_header_reply_to(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault)
{
    for (node = node->children; node; node = node->next) {
        if (ngx_wsman_soap_is(node, NGX_WSMAN_NS_WSA, "Address")) {
            return ngx_wsman_soap_node_text(pool, node, &req->reply_to);
        }
    }

    return NGX_OK;
}


/* w:FragmentTransfer: an XPath-level expression and maybe its dialect */
static ngx_int_t
ngx_wsman_soap_header_fragment(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault)
{
    ngx_int_t  rc;

    req->fragment_transfer = 1;

    rc = ngx_wsman_soap_prop(pool, node, "Dialect", NULL,
                             &req->fragment_dialect);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    return ngx_wsman_soap_node_text(pool, node, &req->fragment);
}


/* w:Locale and p:DataLocale carry the language in xml:lang */
static ngx_int_t
ngx_wsman_soap_header_locale(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault)
{
    ngx_int_t   rc;
    ngx_str_t  *value;

    value = (ngx_str_t *) ((u_char *) req + h->offset);

    rc = ngx_wsman_soap_prop(pool, node, "lang",
                             (const char *) XML_XML_NAMESPACE, value);

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


static ngx_int_t
ngx_wsman_soap_header_timeout(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault)
{
    uint64_t   msec;
    ngx_str_t  text;

    if (ngx_wsman_soap_node_text(pool, node, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_wsman_duration_parse(text.data, text.len, &msec) != NGX_OK
        || msec == 0)
    {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_INVALID_HEADER,
                                   "w:OperationTimeout is not a positive "
                                   "xs:duration.");
    }

    /* MS-WSMV 3.1.4.1.6: larger than MaxTimeoutms means MaxTimeoutms */
    if (limits->max_timeout && msec > limits->max_timeout) {
        msec = limits->max_timeout;
    }

    req->operation_timeout = (ngx_msec_t) msec;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_soap_header_max_envelope(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault)
{
    size_t      i;
    uint64_t    n;
    ngx_str_t   text;

    if (ngx_wsman_soap_node_text(pool, node, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < text.len; i++) {
        if (text.data[i] < '0' || text.data[i] > '9') {
            return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_INVALID_HEADER,
                                       "w:MaxEnvelopeSize is not a number.");
        }

        n = n * 10 + (text.data[i] - '0');

        if (n > 0xffffffff) {
            return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_INVALID_HEADER,
                                       "w:MaxEnvelopeSize is out of range.");
        }
    }

    if (text.len == 0) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_INVALID_HEADER,
                                   "w:MaxEnvelopeSize is empty.");
    }

    if (n < NGX_WSMAN_MIN_ENVELOPE_SIZE) {
        return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                   "w:MaxEnvelopeSize is below the minimum "
                                   "of 8192 bytes.");
    }

    req->max_envelope_size = (size_t) n;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_soap_pair(ngx_pool_t *pool, xmlNodePtr node, ngx_wsman_pair_t *pair)
{
    ngx_str_t  flag;

    ngx_memzero(pair, sizeof(ngx_wsman_pair_t));

    switch (ngx_wsman_soap_prop(pool, node, "Name", NULL, &pair->name)) {
    case NGX_ERROR:
        return NGX_ERROR;
    case NGX_DECLINED:
        return NGX_DECLINED;
    default:
        break;
    }

    if (pair->name.len == 0) {
        return NGX_DECLINED;
    }

    if (ngx_wsman_soap_node_text(pool, node, &pair->value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_wsman_soap_prop(pool, node, "MustComply", NULL, &flag)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    pair->must_understand = (flag.len == 4
                             && ngx_strncmp(flag.data, "true", 4) == 0)
                            || (flag.len == 1 && flag.data[0] == '1');

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_soap_header_selectors(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault)
{
    ngx_int_t          rc;
    ngx_wsman_pair_t   pair, *p;

    for (node = node->children; node; node = node->next) {

        if (node->type != XML_ELEMENT_NODE) {
            continue;
        }

        if (!ngx_wsman_soap_is(node, NGX_WSMAN_NS_WSMAN, "Selector")) {
            return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                       "w:SelectorSet holds an element "
                                       "that is not a w:Selector.");
        }

        if (req->selectors.nelts == NGX_WSMAN_SOAP_MAX_SELECTORS) {
            ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                "The w:SelectorSet holds more than "
                                ngx_value(NGX_WSMAN_SOAP_MAX_SELECTORS)
                                " selectors.");
            ngx_str_set(&fault->detail,
                        NGX_WSMAN_FAULT_DETAIL "SelectorLimit");
            return NGX_DECLINED;
        }

        rc = ngx_wsman_soap_pair(pool, node, &pair);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                       "A w:Selector has no Name.");
        }

        if (ngx_wsman_soap_find(&req->selectors, pair.name.data,
                                pair.name.len))
        {
            ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                "A selector appears more than once.");
            ngx_str_set(&fault->detail,
                        NGX_WSMAN_FAULT_DETAIL "DuplicateSelectors");
            return NGX_DECLINED;
        }

        p = ngx_array_push(&req->selectors);
        if (p == NULL) {
            return NGX_ERROR;
        }

        *p = pair;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_soap_header_options(ngx_pool_t *pool,
    ngx_wsman_soap_limits_t *limits, ngx_wsman_request_t *req,
    xmlNodePtr node, ngx_wsman_soap_header_t *h, ngx_wsman_fault_t *fault)
{
    ngx_int_t          rc;
    ngx_wsman_pair_t  *p;

    req->options_must_understand = ngx_wsman_soap_must_understand(node);

    for (node = node->children; node; node = node->next) {

        if (!ngx_wsman_soap_is(node, NGX_WSMAN_NS_WSMAN, "Option")) {
            continue;
        }

        p = ngx_array_push(&req->options);
        if (p == NULL) {
            return NGX_ERROR;
        }

        rc = ngx_wsman_soap_pair(pool, node, p);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            return ngx_wsman_soap_fail(fault, NGX_WSMAN_FAULT_INVALID_OPTIONS,
                                       "A w:Option has no Name.");
        }
    }

    return NGX_OK;
}


/* selector and option names compare case-insensitively (ShellId/ShellID) */
static ngx_wsman_pair_t *
ngx_wsman_soap_find(ngx_array_t *a, const u_char *name, size_t len)
{
    size_t             k;
    ngx_uint_t         i;
    ngx_wsman_pair_t  *pair;

    pair = a->elts;

    for (i = 0; i < a->nelts; i++) {

        if (pair[i].name.len != len) {
            continue;
        }

        for (k = 0; k < len; k++) {
            if (ngx_tolower(pair[i].name.data[k]) != ngx_tolower(name[k])) {
                break;
            }
        }

        if (k == len) {
            return &pair[i];
        }
    }

    return NULL;
}


ngx_wsman_pair_t *
ngx_wsman_soap_selector(ngx_wsman_request_t *req, const char *name)
{
    return ngx_wsman_soap_find(&req->selectors, (const u_char *) name,
                               ngx_strlen(name));
}


ngx_wsman_pair_t *
ngx_wsman_soap_option(ngx_wsman_request_t *req, const char *name)
{
    return ngx_wsman_soap_find(&req->options, (const u_char *) name,
                               ngx_strlen(name));
}


/*
 * Every response declares the common prefixes once on the Envelope, so
 * plug-ins can write a:, w:, p:, x: and n: elements without declaring them.
 */
void
ngx_wsman_soap_write_head(ngx_wsman_xml_t *x, ngx_str_t *action,
    ngx_str_t *relates_to)
{
    ngx_wsman_soap_write_head_extra(x, action, relates_to, NULL);
}


/* extra: header blocks a plug-in adds (already escaped XML) */
void
ngx_wsman_soap_write_head_extra(ngx_wsman_xml_t *x, ngx_str_t *action,
    ngx_str_t *relates_to, ngx_str_t *extra)
{
    ngx_wsman_xml_literal(x,
        "<s:Envelope xml:lang=\"en-US\""
        " xmlns:s=\"" NGX_WSMAN_NS_SOAP "\""
        " xmlns:a=\"" NGX_WSMAN_NS_WSA "\""
        " xmlns:w=\"" NGX_WSMAN_NS_WSMAN "\""
        " xmlns:p=\"" NGX_WSMAN_NS_MSWSMAN "\""
        " xmlns:x=\"" NGX_WSMAN_NS_WXF "\""
        " xmlns:n=\"" NGX_WSMAN_NS_WSEN "\">"
        "<s:Header>");

    if (action && action->len) {
        ngx_wsman_xml_literal(x, "<a:Action>");
        ngx_wsman_xml_text_str(x, action);
        ngx_wsman_xml_literal(x, "</a:Action><a:MessageID>uuid:");
        ngx_wsman_soap_write_uuid(x);
        ngx_wsman_xml_literal(x, "</a:MessageID><a:To>"
                              NGX_WSMAN_WSA_ANONYMOUS "</a:To>");

        if (relates_to && relates_to->len) {
            ngx_wsman_xml_literal(x, "<a:RelatesTo>");
            ngx_wsman_xml_text_str(x, relates_to);
            ngx_wsman_xml_literal(x, "</a:RelatesTo>");
        }
    }

    if (extra && extra->len) {
        ngx_wsman_xml_str(x, extra);
    }

    ngx_wsman_xml_literal(x, "</s:Header><s:Body>");
}


void
ngx_wsman_soap_write_tail(ngx_wsman_xml_t *x)
{
    ngx_wsman_xml_literal(x, "</s:Body></s:Envelope>");
}


/* a random (version 4) UUID in its canonical text form */
static void
ngx_wsman_soap_write_uuid(ngx_wsman_xml_t *x)
{
    u_char  text[NGX_WSMAN_UUID_LEN];

    if (ngx_wsman_uuid(text) == NULL) {
        x->failed = 1;
        return;
    }

    ngx_wsman_xml_raw(x, text, sizeof(text));
}
