/*
 * The SOAP envelope parser (src/soap/ngx_wsman_soap.c) on a request body, as
 * ngx_wsman_handler.c calls it, and then the response head or the fault
 * it would write back with the client's a:Action and a:MessageID in it.
 * The response must be well-formed XML whatever the request held.
 */

#include "fuzz.h"

#include <libxml/parser.h>
#include "ngx_wsman_soap.h"
#include "ngx_wsman_fault.h"


static void fuzz_soap_check_xml(ngx_chain_t *cl);
static void fuzz_soap_check_lifted(ngx_pool_t *pool, ngx_str_t *body,
    ngx_wsman_request_t *req);
static void fuzz_soap_silent(void *ctx, const char *msg, ...);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_wsman_soap_init();

    /* a harness that prints every malformed input runs at half speed */
    xmlSetGenericErrorFunc(NULL, fuzz_soap_silent);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t                 rc;
    ngx_str_t                 body;
    ngx_uint_t                i;
    ngx_pool_t               *pool;
    ngx_chain_t              *cl;
    ngx_wsman_xml_t           x;
    ngx_wsman_pair_t         *pair;
    ngx_wsman_fault_t         fault;
    ngx_wsman_request_t       req;
    ngx_wsman_soap_limits_t   limits;

    static const char  *names[] = { "ShellId", "__cimnamespace", "Name",
                                    "WINRS_CONSOLEMODE_STDIN", NULL };

    pool = fuzz_pool();

    fuzz_str(pool, data, size, &body);

    /* what ngx_wsman_handler.c passes for a location with defaults */
    limits.max_depth = NGX_WSMAN_SOAP_MAX_DEPTH;
    limits.max_timeout = 60000;

    ngx_memzero(&fault, sizeof(ngx_wsman_fault_t));

    rc = ngx_wsman_soap_parse(pool, &unit_log, body.data, body.len, &limits,
                              &req, &fault);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR);

    if (rc == NGX_ERROR) {
        goto done;
    }

    if (rc == NGX_OK) {
        fuzz_assert(req.doc != NULL);
        fuzz_assert(req.body != NULL);
        fuzz_assert(req.identify || (req.action.len && req.message_id.len));
        fuzz_assert(req.operation_timeout <= limits.max_timeout);

        /* what the plug-ins look up */
        for (i = 0; names[i]; i++) {
            pair = ngx_wsman_soap_selector(&req, names[i]);
            fuzz_assert(pair == NULL || pair->name.len == strlen(names[i]));

            (void) ngx_wsman_soap_option(&req, names[i]);
        }

        /* sections set aside, or put back (another action): the tree
         * must be the one libxml2 builds from the whole text */
        fuzz_soap_check_lifted(pool, &body, &req);

        ngx_wsman_xml_init(&x, pool, 4096);
        ngx_wsman_soap_write_head(&x, &req.action, &req.message_id);
        ngx_wsman_soap_write_tail(&x);

    } else {
        fuzz_assert(fault.id > NGX_WSMAN_FAULT_NONE
                    && fault.id < NGX_WSMAN_FAULT_LAST);

        ngx_wsman_xml_init(&x, pool, 4096);
        ngx_wsman_fault_write(&x, &fault, &req.message_id, NULL);
    }

    cl = ngx_wsman_xml_chain(&x);
    fuzz_assert(cl != NULL);

    fuzz_soap_check_xml(cl);

done:

    ngx_destroy_pool(pool);

    return 0;
}


static void
fuzz_soap_check_xml(ngx_chain_t *cl)
{
    size_t     len;
    u_char    *text;
    xmlDocPtr  doc;

    text = unit_chain_flatten(cl, &len);

    doc = xmlReadMemory((char *) text, (int) len, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR
                        | XML_PARSE_NOWARNING);

    if (doc == NULL) {
        fprintf(stderr, "response is not well-formed:\n%s\n", text);
        abort();
    }

    xmlFreeDoc(doc);
    free(text);
}


static void
fuzz_soap_silent(void *ctx, const char *msg, ...)
{
}


/*
 * An envelope whose Events sections were set aside reads, element by
 * element, as libxml2's own parse of the whole text does (the same push
 * parser and options as ngx_wsman_soap_parse()): the texts the plug-ins
 * get are the same either way.
 */
static void
fuzz_soap_walk(ngx_pool_t *pool, xmlNodePtr ours, xmlNodePtr theirs)
{
    ngx_str_t  a, b;

    for ( /* void */ ; ours || theirs;
         ours = ours->next, theirs = theirs->next)
    {
        fuzz_assert(ours && theirs && ours->type == theirs->type);

        if (ours->type != XML_ELEMENT_NODE) {
            continue;
        }

        fuzz_assert(xmlStrEqual(ours->name, theirs->name));

        /*
         * children first: an element's own text read from its marker
         * (the collector's way) before a parent's read puts the
         * sections back into the tree
         */
        fuzz_soap_walk(pool, ours->children, theirs->children);

        fuzz_assert(ngx_wsman_soap_node_text(pool, ours, &a) == NGX_OK);
        fuzz_assert(ngx_wsman_soap_node_text(pool, theirs, &b) == NGX_OK);

        if (a.len != b.len || ngx_memcmp(a.data, b.data, a.len) != 0) {
            fprintf(stderr, "<%s>: \"%.*s\" set aside, \"%.*s\" whole\n",
                    ours->name, (int) a.len, a.data, (int) b.len, b.data);
            abort();
        }
    }
}


static void
fuzz_soap_check_lifted(ngx_pool_t *pool, ngx_str_t *body,
    ngx_wsman_request_t *req)
{
    ngx_str_t                  text;
    ngx_uint_t                 replaced;
    xmlDocPtr                  doc;
    xmlParserCtxtPtr           ctxt;
    ngx_wsman_fault_t          fault;
    ngx_wsman_soap_encoding_e  encoding;

    /* the text the parser reads, nothing set aside */
    text = *body;

    fuzz_assert(ngx_wsman_soap_prescan(pool, &text, &encoding, &replaced,
                                       NULL, &fault) == NGX_OK);

    /* only UTF-16 text (converted by us) is ever set aside */
    if (encoding == NGX_WSMAN_SOAP_UTF8) {
        return;
    }

    ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, NULL);
    fuzz_assert(ctxt != NULL);

    (void) xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA
                                   | XML_PARSE_NOERROR | XML_PARSE_NOWARNING
                                   | XML_PARSE_IGNORE_ENC);
    (void) xmlParseChunk(ctxt, (const char *) text.data, (int) text.len, 1);

    doc = ctxt->myDoc;
    fuzz_assert(doc != NULL && ctxt->wellFormed);

    fuzz_soap_walk(pool, xmlDocGetRootElement(req->doc),
                   xmlDocGetRootElement(doc));

    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
}
