/*
 * The fault table and the fault envelope (src/soap/ngx_wsman_fault.c).
 */

#include <stdlib.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <ngx_http.h>

#include "unit.h"
#include "ngx_wsman_soap.h"
#include "ngx_wsman_fault.h"


static void
unit_test_fault_table(void)
{
    ngx_uint_t                    i;
    const ngx_wsman_fault_def_t  *def;

    /* the table is indexed by id: a row out of place breaks this */
    for (i = 1; i < NGX_WSMAN_FAULT_LAST; i++) {
        def = ngx_wsman_fault_def((ngx_wsman_fault_e) i);

        if (!UNIT_CHECK(def != NULL)) {
            continue;
        }

        if (!UNIT_EQ_UINT(def->id, i)) {
            continue;
        }

        UNIT_CHECK(def->name != NULL && def->name[0] != '\0');
        UNIT_CHECK(def->code != NULL && def->code[0] != '\0');
        UNIT_CHECK(def->action != NULL && def->action[0] != '\0');
        UNIT_CHECK(def->reason != NULL && def->reason[0] != '\0');

        /* the prefixes ngx_wsman_soap_write_head() declares */
        UNIT_CHECK(ngx_strncmp(def->code, "s:", 2) == 0);
        UNIT_CHECK(def->subcode == NULL
                   || ngx_strncmp(def->subcode, "a:", 2) == 0
                   || ngx_strncmp(def->subcode, "w:", 2) == 0
                   || ngx_strncmp(def->subcode, "n:", 2) == 0);
        UNIT_CHECK(ngx_strncmp(def->action, "http://", 7) == 0);
        UNIT_CHECK(def->status == NGX_HTTP_BAD_REQUEST
                   || def->status == NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);
    UNIT_EQ_UINT(def->wsman_code, 2150858753U);
    UNIT_EQ_CSTR(def->subcode, "a:ActionNotSupported");
    UNIT_EQ_CSTR(def->code, "s:Sender");
    UNIT_EQ_CSTR(def->action,
                 "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault");

    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);
    UNIT_EQ_UINT(def->wsman_code, 2150858752U);
    UNIT_EQ_CSTR(def->subcode, "a:DestinationUnreachable");

    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_TIMED_OUT);
    UNIT_EQ_UINT(def->wsman_code, 2150858793U);
    UNIT_EQ_CSTR(def->subcode, "w:TimedOut");
    UNIT_EQ_CSTR(def->code, "s:Receiver");
    UNIT_CHECK(ngx_strstr(def->reason, "OperationTimeout") != NULL);

    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_UINT(def->wsman_code, 2150858843U);
    UNIT_EQ_CSTR(def->subcode, "w:InvalidSelectors");

    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_MALFORMED);
    UNIT_EQ_UINT(def->status, 400);
    UNIT_CHECK(def->subcode == NULL);

    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_ENCODING_LIMIT);
    UNIT_EQ_UINT(def->status, 500);
    UNIT_EQ_CSTR(def->subcode, "w:EncodingLimit");

    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_VERSION_MISMATCH);
    UNIT_EQ_CSTR(def->code, "s:VersionMismatch");
    UNIT_EQ_UINT(def->status, 400);

    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_MUST_UNDERSTAND);
    UNIT_EQ_CSTR(def->code, "s:MustUnderstand");

    /* anything out of range is an internal error, never a wild read */
    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_LAST);
    UNIT_EQ_UINT(def->id, NGX_WSMAN_FAULT_INTERNAL_ERROR);
    UNIT_EQ_CSTR(def->name, "w:InternalError");

    def = ngx_wsman_fault_def((ngx_wsman_fault_e) 1000);
    UNIT_EQ_UINT(def->id, NGX_WSMAN_FAULT_INTERNAL_ERROR);

    def = ngx_wsman_fault_def((ngx_wsman_fault_e) -1);
    UNIT_EQ_UINT(def->id, NGX_WSMAN_FAULT_INTERNAL_ERROR);
}


static void
unit_test_fault_by_name(void)
{
    ngx_uint_t                    i, k, unique;
    const ngx_wsman_fault_def_t  *def, *found;

    for (i = 1; i < NGX_WSMAN_FAULT_LAST; i++) {
        def = ngx_wsman_fault_def((ngx_wsman_fault_e) i);

        found = ngx_wsman_fault_def_by_name((const u_char *) def->name,
                                            ngx_strlen(def->name));

        if (!UNIT_CHECK(found != NULL)) {
            continue;
        }

        UNIT_EQ_CSTR(found->name, def->name);

        /* a name shared by two rows finds the first of them */
        unique = 1;

        for (k = 1; k < i; k++) {
            if (ngx_strcmp(ngx_wsman_fault_def((ngx_wsman_fault_e) k)->name,
                           def->name) == 0)
            {
                unique = 0;
            }
        }

        if (unique) {
            UNIT_EQ_UINT(found->id, i);
        }
    }

    found = ngx_wsman_fault_def_by_name((const u_char *) "w:TimedOut", 10);
    UNIT_CHECK(found && found->id == NGX_WSMAN_FAULT_TIMED_OUT);

    /* exact length, exact case, NONE's empty name is not a fault */
    UNIT_CHECK(ngx_wsman_fault_def_by_name((const u_char *) "w:TimedOut", 9)
               == NULL);
    UNIT_CHECK(ngx_wsman_fault_def_by_name((const u_char *) "w:TimedOutX",
                                           11)
               == NULL);
    UNIT_CHECK(ngx_wsman_fault_def_by_name((const u_char *) "w:timedout", 10)
               == NULL);
    UNIT_CHECK(ngx_wsman_fault_def_by_name((const u_char *) "", 0) == NULL);
}


/* the text of the first node an XPath expression selects, or NULL */
static xmlChar *
unit_xpath(xmlDocPtr doc, const char *expr)
{
    xmlChar            *text;
    xmlXPathObjectPtr   obj;
    xmlXPathContextPtr  ctx;

    ctx = xmlXPathNewContext(doc);
    if (ctx == NULL) {
        return NULL;
    }

    xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST NGX_WSMAN_NS_SOAP);
    xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST NGX_WSMAN_NS_WSA);
    xmlXPathRegisterNs(ctx, BAD_CAST "w", BAD_CAST NGX_WSMAN_NS_WSMAN);
    xmlXPathRegisterNs(ctx, BAD_CAST "f", BAD_CAST NGX_WSMAN_NS_FAULT);

    text = NULL;

    obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);

    if (obj && obj->nodesetval && obj->nodesetval->nodeNr > 0) {
        text = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);
    }

    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);

    return text;
}


/* checks the text an XPath expression selects; NULL: selects nothing */
static void
unit_xpath_check(xmlDocPtr doc, const char *expr, const char *expected,
    const char *file, int line)
{
    xmlChar  *t;

    t = unit_xpath(doc, expr);

    if (expected == NULL) {
        if (!unit_check(t == NULL, file, line, expr)) {
            printf("    selects \"%s\", expected nothing\n", (char *) t);
        }

    } else {
        unit_check_str(t, t ? ngx_strlen(t) : 0, expected, file, line, expr);
    }

    xmlFree(t);
}


#define UNIT_XPATH(doc, expr, expected)                                     \
    unit_xpath_check(doc, expr, expected, __FILE__, __LINE__)


/* writes a fault with block size "block", checks the chain, parses it */
static xmlDocPtr
unit_fault_doc(ngx_pool_t *pool, size_t block, ngx_wsman_fault_t *fault,
    ngx_str_t *relates_to, ngx_str_t *machine)
{
    u_char           *text;
    size_t            len;
    xmlDocPtr         doc;
    ngx_chain_t      *cl;
    ngx_wsman_xml_t   x;

    ngx_wsman_xml_init(&x, pool, block);
    ngx_wsman_fault_write(&x, fault, relates_to, machine);

    UNIT_CHECK(!ngx_wsman_xml_failed(&x));

    cl = ngx_wsman_xml_chain(&x);
    if (!UNIT_CHECK(cl != NULL)) {
        return NULL;
    }

    text = unit_chain_flatten(cl, &len);

    UNIT_EQ_UINT(len, x.length);

    doc = xmlReadMemory((char *) text, (int) len, "fault.xml", NULL,
                        XML_PARSE_NONET);

    if (!UNIT_CHECK(doc != NULL)) {
        printf("    document: %s\n", text);
    }

    free(text);

    return doc;
}


static void
unit_test_fault_envelope(ngx_pool_t *pool)
{
    xmlChar                      *t;
    xmlDocPtr                     doc;
    ngx_str_t                     relates_to, machine;
    ngx_wsman_fault_t             fault;
    const ngx_wsman_fault_def_t  *def;

    static const char  message[] = "bad <&>\"' input";
    static const char  detail[] = NGX_WSMAN_FAULT_DETAIL "InvalidValue";

    def = ngx_wsman_fault_def(NGX_WSMAN_FAULT_INVALID_SELECTORS);

    ngx_memzero(&fault, sizeof(ngx_wsman_fault_t));
    fault.id = NGX_WSMAN_FAULT_INVALID_SELECTORS;
    ngx_str_set(&fault.message, message);
    ngx_str_set(&fault.detail, detail);
    ngx_str_set(&relates_to, "uuid:1234-<&>");
    ngx_str_set(&machine, "host\"<1>");

    /* a tiny block size makes the envelope cross many buffers */
    doc = unit_fault_doc(pool, 16, &fault, &relates_to, &machine);
    if (doc == NULL) {
        return;
    }

    UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Value", "s:Sender");
    UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Subcode/s:Value",
               "w:InvalidSelectors");
    UNIT_XPATH(doc, "/s:Envelope/s:Header/a:Action", def->action);
    UNIT_XPATH(doc, "/s:Envelope/s:Header/a:RelatesTo", "uuid:1234-<&>");
    UNIT_XPATH(doc, "/s:Envelope/s:Header/a:To",
               NGX_WSMAN_WSA_ANONYMOUS);
    UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Detail/w:FaultDetail",
               detail);
    UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Detail/f:WSManFault/@Code",
               "2150858843");
    UNIT_XPATH(doc,
               "/s:Envelope/s:Body/s:Fault/s:Detail/f:WSManFault/@Machine",
               "host\"<1>");

    /* the message survives escaping: reason, a space, the message */
    t = unit_xpath(doc, "/s:Envelope/s:Body/s:Fault/s:Detail/f:WSManFault"
                        "/f:Message");

    if (UNIT_CHECK(t != NULL)) {
        UNIT_CHECK(ngx_strlen(t) == ngx_strlen(def->reason) + 1
                                    + sizeof(message) - 1);
        UNIT_CHECK(ngx_strncmp(t, def->reason, ngx_strlen(def->reason))
                   == 0);
        UNIT_CHECK(ngx_strstr(t, message) != NULL);
    }

    xmlFree(t);

    t = unit_xpath(doc, "/s:Envelope/s:Body/s:Fault/s:Reason/s:Text");

    if (UNIT_CHECK(t != NULL)) {
        UNIT_CHECK(ngx_strstr(t, message) != NULL);
    }

    xmlFree(t);

    UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Reason/s:Text/@xml:lang",
               "en-US");

    /* a fresh version 4 UUID as the MessageID */
    t = unit_xpath(doc, "/s:Envelope/s:Header/a:MessageID");

    if (UNIT_CHECK(t != NULL)) {
        UNIT_EQ_UINT(ngx_strlen(t), sizeof("uuid:") - 1 + 36);
        UNIT_CHECK(ngx_strncmp(t, "uuid:", 5) == 0);
        UNIT_CHECK(t[5 + 8] == '-' && t[5 + 13] == '-' && t[5 + 18] == '-'
                   && t[5 + 23] == '-');
        UNIT_CHECK(t[5 + 14] == '4');
        UNIT_CHECK(ngx_strchr("89ab", t[5 + 19]) != NULL);
    }

    xmlFree(t);
    xmlFreeDoc(doc);

    /* no subcode, no numeric code, no detail, no message, no RelatesTo */
    ngx_memzero(&fault, sizeof(ngx_wsman_fault_t));
    fault.id = NGX_WSMAN_FAULT_VERSION_MISMATCH;
    def = ngx_wsman_fault_def(fault.id);

    doc = unit_fault_doc(pool, 0, &fault, NULL, NULL);
    if (doc == NULL) {
        return;
    }

    UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Value",
               "s:VersionMismatch");
    UNIT_XPATH(doc, "//s:Subcode", NULL);
    UNIT_XPATH(doc, "//f:WSManFault/@Code", NULL);
    UNIT_XPATH(doc, "//f:WSManFault/@Machine", NULL);
    UNIT_XPATH(doc, "//w:FaultDetail", NULL);
    UNIT_XPATH(doc, "//a:RelatesTo", NULL);
    UNIT_XPATH(doc, "//f:WSManFault/f:Message", def->reason);
    UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Reason/s:Text",
               def->reason);

    xmlFreeDoc(doc);

    /* an id out of range still writes a valid InternalError envelope */
    ngx_memzero(&fault, sizeof(ngx_wsman_fault_t));
    fault.id = NGX_WSMAN_FAULT_LAST + 5;

    doc = unit_fault_doc(pool, 0, &fault, NULL, NULL);
    if (doc == NULL) {
        return;
    }

    UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Subcode/s:Value",
               "w:InternalError");
    UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Value",
               "s:Receiver");

    xmlFreeDoc(doc);
}


static void
unit_test_fault_all_envelopes(ngx_pool_t *pool)
{
    ngx_uint_t                    i;
    xmlDocPtr                     doc;
    ngx_str_t                     relates_to;
    ngx_wsman_fault_t             fault;
    const ngx_wsman_fault_def_t  *def;

    ngx_str_set(&relates_to, "uuid:00000000-0000-4000-8000-000000000000");

    /* every row yields a well-formed envelope with its own values */
    for (i = 1; i < NGX_WSMAN_FAULT_LAST; i++) {
        ngx_memzero(&fault, sizeof(ngx_wsman_fault_t));
        fault.id = (ngx_wsman_fault_e) i;
        ngx_str_set(&fault.message, "x");

        def = ngx_wsman_fault_def(fault.id);

        doc = unit_fault_doc(pool, 64, &fault, &relates_to, NULL);
        if (doc == NULL) {
            printf("    fault: %s\n", def->name);
            continue;
        }

        UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Value",
                   def->code);
        UNIT_XPATH(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Subcode"
                        "/s:Value", def->subcode);
        UNIT_XPATH(doc, "/s:Envelope/s:Header/a:Action", def->action);

        xmlFreeDoc(doc);
    }
}


void
unit_test_fault(void)
{
    ngx_pool_t  *pool;

    unit_test_fault_table();
    unit_test_fault_by_name();

    pool = ngx_create_pool(4096, &unit_log);
    if (pool == NULL) {
        abort();
    }

    unit_test_fault_envelope(pool);
    unit_test_fault_all_envelopes(pool);

    ngx_destroy_pool(pool);
}
