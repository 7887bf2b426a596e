/*
 * SOAP envelope parsing and header extraction (src/soap/ngx_wsman_soap.c):
 * real client requests from t/unit/data/ and hostile or broken ones.
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libxml/parser.h>

#include "unit.h"
#include "ngx_wsman_soap.h"


#define NS_SHELL  "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
#define URI_CMD   NS_SHELL "/cmd"

#define NS_DECL                                                             \
    " xmlns:s=\"" NGX_WSMAN_NS_SOAP "\""                                    \
    " xmlns:a=\"" NGX_WSMAN_NS_WSA "\""                                     \
    " xmlns:w=\"" NGX_WSMAN_NS_WSMAN "\""                                   \
    " xmlns:p=\"" NGX_WSMAN_NS_MSWSMAN "\""

#define ENV(headers, body)                                                  \
    "<s:Envelope" NS_DECL "><s:Header>" headers "</s:Header>"               \
    "<s:Body>" body "</s:Body></s:Envelope>"

#define HDR_ACTION   "<a:Action>" NGX_WSMAN_ACTION_GET "</a:Action>"
#define HDR_MSGID    "<a:MessageID>uuid:0001</a:MessageID>"
#define HDR_OK       HDR_ACTION HDR_MSGID

#define IDENTIFY                                                            \
    "<wsmid:Identify xmlns:wsmid=\"" NGX_WSMAN_NS_WSMID "\"/>"


static ngx_pool_t  *unit_pool;


typedef struct {
    ngx_int_t                  rc;
    ngx_wsman_request_t        req;
    ngx_wsman_fault_t          fault;
} unit_soap_t;


static ngx_int_t
unit_soap_parse_len(unit_soap_t *t, const u_char *data, size_t len,
    ngx_msec_t max_timeout, ngx_uint_t max_depth)
{
    ngx_wsman_soap_limits_t  limits;

    limits.max_depth = max_depth;
    limits.max_timeout = max_timeout;

    ngx_memzero(&t->fault, sizeof(ngx_wsman_fault_t));
    t->fault.id = (ngx_wsman_fault_e) 0x5a5a;

    t->rc = ngx_wsman_soap_parse(unit_pool, &unit_log, data, len, &limits,
                                 &t->req, &t->fault);

    return t->rc;
}


static ngx_int_t
unit_soap_parse(unit_soap_t *t, const char *xml)
{
    return unit_soap_parse_len(t, (const u_char *) xml, ngx_strlen(xml),
                               60000, 0);
}


/* parses "xml" and expects NGX_OK */
static void
unit_soap_ok(unit_soap_t *t, const char *xml, const char *file, int line)
{
    unit_soap_parse(t, xml);

    if (!unit_check(t->rc == NGX_OK, file, line, "parse == NGX_OK")) {
        printf("    rc %d, fault %s \"%.*s\"\n    input: %s\n",
               (int) t->rc, ngx_wsman_fault_def(t->fault.id)->name,
               (int) t->fault.message.len, t->fault.message.data, xml);
    }
}


/* parses "xml" and expects NGX_DECLINED with fault "id" */
static void
unit_soap_fault(unit_soap_t *t, const char *xml, ngx_wsman_fault_e id,
    const char *file, int line)
{
    unit_soap_parse(t, xml);

    if (!unit_check(t->rc == NGX_DECLINED && t->fault.id == id, file, line,
                    "parse == NGX_DECLINED with the expected fault"))
    {
        printf("    rc %d, fault %s, expected %s\n    input: %s\n",
               (int) t->rc,
               t->rc == NGX_DECLINED ? ngx_wsman_fault_def(t->fault.id)->name
                                     : "-",
               ngx_wsman_fault_def(id)->name, xml);
    }
}


#define UNIT_SOAP_OK(t, xml)                                                \
    unit_soap_ok(t, xml, __FILE__, __LINE__)

#define UNIT_SOAP_FAULT(t, xml, id)                                         \
    unit_soap_fault(t, xml, id, __FILE__, __LINE__)


static u_char *
unit_read_file(const char *name, size_t *len)
{
    FILE    *f;
    long     size;
    u_char  *data;
    char     path[1024];

    snprintf(path, sizeof(path), "%s/%s", UNIT_DATA, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    data = NULL;

    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0
        && fseek(f, 0, SEEK_SET) == 0)
    {
        data = ngx_pnalloc(unit_pool, size);

        if (data && fread(data, 1, size, f) != (size_t) size) {
            data = NULL;
        }

        *len = size;
    }

    fclose(f);

    return data;
}


static ngx_int_t
unit_soap_parse_file(unit_soap_t *t, const char *name, ngx_msec_t max_timeout)
{
    u_char  *data;
    size_t   len;

    data = unit_read_file(name, &len);

    if (!UNIT_CHECK(data != NULL)) {
        printf("    cannot read %s/%s\n", UNIT_DATA, name);
        t->rc = NGX_ERROR;
        return NGX_ERROR;
    }

    unit_soap_parse_len(t, data, len, max_timeout, 0);

    if (!UNIT_CHECK(t->rc == NGX_OK)) {
        printf("    %s: rc %d, fault %s \"%.*s\"\n", name, (int) t->rc,
               ngx_wsman_fault_def(t->fault.id)->name,
               (int) t->fault.message.len, t->fault.message.data);
    }

    return t->rc;
}


static void
unit_check_pair(ngx_wsman_pair_t *pair, const char *value, const char *file,
    int line, const char *name)
{
    if (!unit_check(pair != NULL, file, line, name)) {
        return;
    }

    unit_check_str(pair->value.data, pair->value.len, value, file, line,
                   name);
}


#define UNIT_SELECTOR(req, name, value)                                     \
    unit_check_pair(ngx_wsman_soap_selector(req, name), value, __FILE__,    \
                    __LINE__, "selector " name)

#define UNIT_OPTION(req, name, value)                                       \
    unit_check_pair(ngx_wsman_soap_option(req, name), value, __FILE__,      \
                    __LINE__, "option " name)


/* pywinrm, Basic: shell Create */
static void
unit_test_soap_pywinrm_create(void)
{
    unit_soap_t           t;
    ngx_wsman_request_t  *req = &t.req;

    if (unit_soap_parse_file(&t, "basic-01.xml", 60000) != NGX_OK) {
        return;
    }

    UNIT_EQ_STR(req->action, NGX_WSMAN_ACTION_CREATE);
    UNIT_EQ_STR(req->message_id, "uuid:5503b3bc-b532-4d5c-9f7e-a2df421f3785");
    UNIT_EQ_STR(req->resource_uri, URI_CMD);
    UNIT_EQ_STR(req->to, "http://windows-host:5985/wsman");
    UNIT_EQ_STR(req->reply_to, NGX_WSMAN_WSA_ANONYMOUS);
    UNIT_EQ_STR(req->locale, "en-US");
    UNIT_EQ_STR(req->data_locale, "en-US");
    UNIT_EQ_UINT(req->operation_timeout, 20000);
    UNIT_EQ_UINT(req->max_envelope_size, 153600);
    UNIT_EQ_UINT(req->selectors.nelts, 0);
    UNIT_EQ_UINT(req->options.nelts, 2);
    UNIT_CHECK(!req->options_must_understand);
    UNIT_CHECK(!req->identify);

    /* NUL-terminated copies */
    UNIT_CHECK(req->action.data[req->action.len] == '\0');
    UNIT_CHECK(req->message_id.data[req->message_id.len] == '\0');

    UNIT_OPTION(req, "WINRS_NOPROFILE", "FALSE");
    UNIT_OPTION(req, "WINRS_CODEPAGE", "437");
    UNIT_OPTION(req, "winrs_codepage", "437");
    UNIT_CHECK(ngx_wsman_soap_option(req, "WINRS_CODEPAG") == NULL);
    UNIT_CHECK(ngx_wsman_soap_option(req, "WINRS_CODEPAGEX") == NULL);
    UNIT_CHECK(ngx_wsman_soap_selector(req, "WINRS_CODEPAGE") == NULL);
    UNIT_CHECK(!((ngx_wsman_pair_t *) req->options.elts)[0].must_understand);

    UNIT_CHECK(req->doc != NULL);
    UNIT_CHECK(ngx_wsman_soap_is(req->body, NGX_WSMAN_NS_SOAP, "Body"));
    UNIT_CHECK(ngx_wsman_soap_is(req->payload, NS_SHELL, "Shell"));
    UNIT_CHECK(!ngx_wsman_soap_is(req->payload, NS_SHELL, "Shel"));
    UNIT_CHECK(!ngx_wsman_soap_is(req->payload, NGX_WSMAN_NS_WSMAN,
                                  "Shell"));
    UNIT_CHECK(!ngx_wsman_soap_is(NULL, NS_SHELL, "Shell"));

    /* a smaller MaxTimeoutms caps the timeout; none leaves it alone */
    if (unit_soap_parse_file(&t, "basic-01.xml", 5000) == NGX_OK) {
        UNIT_EQ_UINT(req->operation_timeout, 5000);
    }

    if (unit_soap_parse_file(&t, "basic-01.xml", 0) == NGX_OK) {
        UNIT_EQ_UINT(req->operation_timeout, 20000);
    }
}


/* the Go client (masterzen/winrm): shell Create, pretty-printed */
static void
unit_test_soap_go_create(void)
{
    unit_soap_t           t;
    ngx_wsman_request_t  *req = &t.req;

    if (unit_soap_parse_file(&t, "go-basic-01.xml", 60000) != NGX_OK) {
        return;
    }

    UNIT_EQ_STR(req->action, NGX_WSMAN_ACTION_CREATE);
    UNIT_EQ_STR(req->message_id, "uuid:4ca1d848-0e41-4427-98c4-17f0b0c6377b");
    UNIT_EQ_STR(req->to, "http://127.0.0.1:15986/wsman");
    UNIT_EQ_STR(req->reply_to, NGX_WSMAN_WSA_ANONYMOUS);
    UNIT_EQ_STR(req->resource_uri, URI_CMD);
    UNIT_EQ_STR(req->locale, "en-US");
    UNIT_EQ_STR(req->data_locale, "en-US");
    UNIT_EQ_UINT(req->operation_timeout, 60000);
    UNIT_EQ_UINT(req->max_envelope_size, 153600);
    UNIT_EQ_UINT(req->options.nelts, 2);
    UNIT_OPTION(req, "WINRS_NOPROFILE", "FALSE");
    UNIT_OPTION(req, "WINRS_CODEPAGE", "65001");
    UNIT_CHECK(ngx_wsman_soap_is(req->payload, NS_SHELL, "Shell"));

    if (unit_soap_parse_file(&t, "go-basic-01.xml", 30000) == NGX_OK) {
        UNIT_EQ_UINT(req->operation_timeout, 30000);
    }
}


/* winrmcp (Go): Command with a ShellId selector and a CDATA body */
static void
unit_test_soap_winrmcp_command(void)
{
    ngx_str_t             text;
    unit_soap_t           t;
    ngx_wsman_request_t  *req = &t.req;

    if (unit_soap_parse_file(&t, "winrmcp-02.xml", 120000) != NGX_OK) {
        return;
    }

    UNIT_EQ_STR(req->action, NS_SHELL "/Command");
    UNIT_EQ_STR(req->message_id, "uuid:219c5c4a-478c-4bca-b5c4-f1cb0a7e5760");
    UNIT_EQ_STR(req->to, "http://127.0.0.1:15986/wsman");
    UNIT_EQ_STR(req->resource_uri, URI_CMD);
    UNIT_EQ_UINT(req->operation_timeout, 60000);            /* PT1M */
    UNIT_EQ_UINT(req->max_envelope_size, 153600);

    UNIT_EQ_UINT(req->selectors.nelts, 1);
    UNIT_SELECTOR(req, "ShellId", "17BC9216-ADFE-4C4D-92E2-B630AB7F7C4F");
    UNIT_SELECTOR(req, "SHELLID", "17BC9216-ADFE-4C4D-92E2-B630AB7F7C4F");
    UNIT_SELECTOR(req, "shellid", "17BC9216-ADFE-4C4D-92E2-B630AB7F7C4F");
    UNIT_SELECTOR(req, "ShellID", "17BC9216-ADFE-4C4D-92E2-B630AB7F7C4F");
    UNIT_CHECK(ngx_wsman_soap_selector(req, "Shell") == NULL);
    UNIT_CHECK(ngx_wsman_soap_selector(req, "ShellIds") == NULL);
    UNIT_CHECK(ngx_wsman_soap_selector(req, "") == NULL);
    UNIT_CHECK(ngx_wsman_soap_option(req, "ShellId") == NULL);

    UNIT_EQ_UINT(req->options.nelts, 2);
    UNIT_OPTION(req, "WINRS_CONSOLEMODE_STDIN", "TRUE");
    UNIT_OPTION(req, "WINRS_SKIP_CMD_SHELL", "FALSE");

    UNIT_CHECK(ngx_wsman_soap_is(req->payload, NS_SHELL, "CommandLine"));

    /* the CDATA section is plain text to the plug-ins */
    if (UNIT_CHECK(req->payload != NULL)
        && UNIT_CHECK(ngx_wsman_soap_node_text(unit_pool, req->payload,
                                               &text) == NGX_OK))
    {
        UNIT_CHECK(text.len > 0
                   && ngx_strncmp(text.data, "echo aGVsbG8K >> \"%TEMP%\\",
                                  25) == 0);
    }
}


/* pywinrm, Kerberos: Receive; pywinrm, Basic: Delete with an empty Body */
static void
unit_test_soap_receive_delete(void)
{
    unit_soap_t           t;
    ngx_wsman_request_t  *req = &t.req;

    if (unit_soap_parse_file(&t, "kerberos-03.xml", 60000) == NGX_OK) {
        UNIT_EQ_STR(req->action, NS_SHELL "/Receive");
        UNIT_EQ_STR(req->message_id,
                    "uuid:99c10a76-f1de-452e-b5ee-ac4af4dffdf3");
        UNIT_EQ_UINT(req->selectors.nelts, 1);
        UNIT_SELECTOR(req, "SHELLID",
                      "6F15E60A-6C7E-40A7-9E60-94EF51F2613E");
        UNIT_EQ_UINT(req->options.nelts, 0);
        UNIT_EQ_UINT(req->operation_timeout, 20000);
        UNIT_CHECK(ngx_wsman_soap_is(req->payload, NS_SHELL, "Receive"));
    }

    if (unit_soap_parse_file(&t, "basic-05.xml", 60000) == NGX_OK) {
        UNIT_EQ_STR(req->action, NGX_WSMAN_ACTION_DELETE);
        UNIT_SELECTOR(req, "ShellId",
                      "C7964521-FA0A-4AB3-8E09-D383A37B3135");
        UNIT_CHECK(req->body != NULL);
        UNIT_CHECK(req->payload == NULL);
    }
}


static void
unit_test_soap_hostile(void)
{
    double           elapsed;
    unit_soap_t      t;
    struct timespec  start, end;

    static const char  xxe[] =
        "<?xml version=\"1.0\"?>"
        "<!DOCTYPE s:Envelope ["
        "<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
        ENV(HDR_OK, "<x>&xxe;</x>");

    static const char  external_dtd[] =
        "<?xml version=\"1.0\"?>"
        "<!DOCTYPE s:Envelope SYSTEM \"http://127.0.0.1:1/evil.dtd\">"
        ENV(HDR_OK, "");

    static const char  laughs[] =
        "<?xml version=\"1.0\"?>"
        "<!DOCTYPE s:Envelope ["
        "<!ENTITY l0 \"lol\">"
        "<!ENTITY l1 \"&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;\">"
        "<!ENTITY l2 \"&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;\">"
        "<!ENTITY l3 \"&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;\">"
        "<!ENTITY l4 \"&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;\">"
        "<!ENTITY l5 \"&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;\">"
        "<!ENTITY l6 \"&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;\">"
        "<!ENTITY l7 \"&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;\">"
        "<!ENTITY l8 \"&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;\">"
        "<!ENTITY l9 \"&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;\">"
        "]>"
        ENV(HDR_OK, "<x>&l9;</x>");

    UNIT_SOAP_FAULT(&t, xxe, NGX_WSMAN_FAULT_MALFORMED);
    UNIT_CHECK(t.fault.message.len > 0
               && ngx_strstr(t.fault.message.data, "Document type") != NULL);
    UNIT_CHECK(t.req.doc == NULL);

    UNIT_SOAP_FAULT(&t, external_dtd, NGX_WSMAN_FAULT_MALFORMED);

    /* even an empty declaration */
    UNIT_SOAP_FAULT(&t, "<!DOCTYPE s:Envelope>" ENV(HDR_OK, ""),
                    NGX_WSMAN_FAULT_MALFORMED);

    clock_gettime(CLOCK_MONOTONIC, &start);
    UNIT_SOAP_FAULT(&t, laughs, NGX_WSMAN_FAULT_MALFORMED);
    clock_gettime(CLOCK_MONOTONIC, &end);

    elapsed = (end.tv_sec - start.tv_sec)
              + (end.tv_nsec - start.tv_nsec) / 1e9;

    if (!UNIT_CHECK(elapsed < 1.0)) {
        printf("    billion laughs took %.3f s\n", elapsed);
    }

    /* without a DTD an entity reference is just an error */
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK, "<x>&xxe;</x>"),
                    NGX_WSMAN_FAULT_MALFORMED);

    /* the predefined and character references still work */
    UNIT_SOAP_OK(&t, ENV("<a:Action>urn:&lt;&#x41;&amp;&gt;</a:Action>"
                         HDR_MSGID, ""));
    UNIT_EQ_STR(t.req.action, "urn:<A&>");
}


/* Envelope, Body, then "inner" nested elements in the Body */
static void
unit_soap_nested(unit_soap_t *t, ngx_uint_t inner, ngx_uint_t max_depth)
{
    u_char      *xml, *p;
    ngx_uint_t   i;

    static const char  head[] = "<s:Envelope" NS_DECL "><s:Header>"
                                HDR_OK "</s:Header><s:Body>";
    static const char  tail[] = "</s:Body></s:Envelope>";

    xml = malloc(sizeof(head) + sizeof(tail) + inner * 7);
    if (xml == NULL) {
        abort();
    }

    p = ngx_cpymem(xml, head, sizeof(head) - 1);

    for (i = 0; i < inner; i++) {
        p = ngx_cpymem(p, "<x>", 3);
    }

    for (i = 0; i < inner; i++) {
        p = ngx_cpymem(p, "</x>", 4);
    }

    p = ngx_cpymem(p, tail, sizeof(tail) - 1);

    unit_soap_parse_len(t, xml, p - xml, 60000, max_depth);

    free(xml);
}


static void
unit_test_soap_depth(void)
{
    unit_soap_t  t;

    /* depth = 2 (Envelope, Body) + inner */
    unit_soap_nested(&t, NGX_WSMAN_SOAP_MAX_DEPTH - 2, 0);
    UNIT_CHECK(t.rc == NGX_OK);

    unit_soap_nested(&t, NGX_WSMAN_SOAP_MAX_DEPTH - 1, 0);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_MALFORMED);

    unit_soap_nested(&t, 98, 0);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_MALFORMED);
    UNIT_CHECK(t.fault.message.len > 0
               && ngx_strstr(t.fault.message.data, "nested") != NULL);

    /* so many elements that the pre-scan refuses them unparsed */
    unit_soap_nested(&t, 100000, 0);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_ENCODING_LIMIT);

    /* the limit is configurable; a Header child is at depth 3 */
    unit_soap_nested(&t, 8, 10);
    UNIT_CHECK(t.rc == NGX_OK);

    unit_soap_nested(&t, 9, 10);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_MALFORMED);

    unit_soap_nested(&t, 0, 2);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_MALFORMED);
}


static void
unit_test_soap_structure(void)
{
    unit_soap_t  t;

    UNIT_SOAP_OK(&t, ENV(HDR_OK, ""));

    /* comments and white space between the parts are fine */
    UNIT_SOAP_OK(&t, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                     "<s:Envelope" NS_DECL ">\n <!-- c -->\n"
                     " <s:Header>\n  " HDR_OK "\n </s:Header>\n"
                     " <s:Body/>\n</s:Envelope>\n");

    /* prefixes are irrelevant, namespaces are */
    UNIT_SOAP_OK(&t, "<Envelope xmlns=\"" NGX_WSMAN_NS_SOAP "\"><Header>"
                     "<Action xmlns=\"" NGX_WSMAN_NS_WSA "\">urn:x</Action>"
                     "<wsa:MessageID xmlns:wsa=\"" NGX_WSMAN_NS_WSA "\">"
                     "uuid:2</wsa:MessageID></Header><Body/></Envelope>");
    UNIT_EQ_STR(t.req.action, "urn:x");
    UNIT_EQ_STR(t.req.message_id, "uuid:2");

    UNIT_SOAP_FAULT(&t, "<s:Envelope xmlns:s=\""
                        "http://schemas.xmlsoap.org/soap/envelope/\">"
                        "<s:Header>" HDR_OK "</s:Header><s:Body/>"
                        "</s:Envelope>",
                    NGX_WSMAN_FAULT_VERSION_MISMATCH);

    UNIT_SOAP_FAULT(&t, "<Envelope><Body/></Envelope>",
                    NGX_WSMAN_FAULT_VERSION_MISMATCH);

    UNIT_SOAP_FAULT(&t, "<s:Body" NS_DECL "/>", NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "<hello/>", NGX_WSMAN_FAULT_MALFORMED);

    /* no Body, two Bodies, two Headers, Header after Body, strangers */
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "><s:Header>" HDR_OK
                        "</s:Header></s:Envelope>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "/>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "><s:Header>" HDR_OK
                        "</s:Header><s:Body/><s:Body/></s:Envelope>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "><s:Header/><s:Header>"
                        HDR_OK "</s:Header><s:Body/></s:Envelope>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "><s:Body/><s:Header>"
                        HDR_OK "</s:Header></s:Envelope>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "><s:Header>" HDR_OK
                        "</s:Header><s:Body/><s:Trailer/></s:Envelope>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "><s:Header>" HDR_OK
                        "</s:Header><x:Body xmlns:x=\"urn:x\"/>"
                        "</s:Envelope>",
                    NGX_WSMAN_FAULT_MALFORMED);

    /* not well-formed: logged with the line, faulted as malformed */
    unit_log_reset();
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "><s:Header>" HDR_OK
                        "</s:Header>\n<s:Body></s:Bod></s:Envelope>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_CHECK(unit_log_contains("wsman: malformed XML at line 2: "));

    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "><s:Body>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "not xml at all", NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK, "") "<trailing/>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL " a=\"1\" a=\"2\"><s:Body/>"
                        "</s:Envelope>",
                    NGX_WSMAN_FAULT_MALFORMED);
    UNIT_SOAP_FAULT(&t, "<s:Envelope><s:Body/></s:Envelope>",
                    NGX_WSMAN_FAULT_MALFORMED);        /* unbound prefix */

    unit_soap_parse_len(&t, (const u_char *) "", 0, 60000, 0);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_MALFORMED);

    /* the length counts, not a NUL */
    unit_soap_parse_len(&t, (const u_char *) ENV(HDR_OK, ""),
                        sizeof(ENV(HDR_OK, "")) - 2, 60000, 0);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_MALFORMED);
}


static void
unit_test_soap_headers(void)
{
    unit_soap_t  t;

    /* mustUnderstand on a header nobody knows */
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<x:Foo xmlns:x=\"urn:foo\""
                            " mustUnderstand=\"true\"/>", ""),
                    NGX_WSMAN_FAULT_MUST_UNDERSTAND);
    UNIT_EQ_STR(t.fault.message, "Foo");

    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<x:Foo xmlns:x=\"urn:foo\""
                            " s:mustUnderstand=\"1\"/>", ""),
                    NGX_WSMAN_FAULT_MUST_UNDERSTAND);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<x:Foo xmlns:x=\"urn:foo\""
                            " s:mustUnderstand=\"true\"/>", ""),
                    NGX_WSMAN_FAULT_MUST_UNDERSTAND);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:Bogus mustUnderstand=\"1\"/>", ""),
                    NGX_WSMAN_FAULT_MUST_UNDERSTAND);

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<x:Foo xmlns:x=\"urn:foo\""
                         " mustUnderstand=\"false\"/>", ""));
    UNIT_SOAP_OK(&t, ENV(HDR_OK "<x:Foo xmlns:x=\"urn:foo\""
                         " s:mustUnderstand=\"0\"/>", ""));
    UNIT_SOAP_OK(&t, ENV(HDR_OK "<x:Foo xmlns:x=\"urn:foo\"/>", ""));
    UNIT_SOAP_OK(&t, ENV(HDR_OK "<x:Foo xmlns:x=\"urn:foo\""
                         " x:mustUnderstand=\"true\">text</x:Foo>", ""));

    /* understood headers may well be marked */
    UNIT_SOAP_OK(&t, ENV("<a:Action s:mustUnderstand=\"true\">urn:a"
                         "</a:Action>" HDR_MSGID, ""));

    /* each known header at most once */
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK HDR_ACTION, ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK HDR_MSGID, ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:ResourceURI>urn:a</w:ResourceURI>"
                            "<w:ResourceURI>urn:b</w:ResourceURI>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);

    /* Action and MessageID are required, except for Identify */
    UNIT_SOAP_FAULT(&t, ENV(HDR_MSGID, ""), NGX_WSMAN_FAULT_HEADER_REQUIRED);
    UNIT_SOAP_FAULT(&t, ENV(HDR_ACTION, ""), NGX_WSMAN_FAULT_HEADER_REQUIRED);
    UNIT_SOAP_FAULT(&t, ENV("<a:Action> \n </a:Action>" HDR_MSGID, ""),
                    NGX_WSMAN_FAULT_HEADER_REQUIRED);
    UNIT_SOAP_FAULT(&t, ENV("<a:Action/>" HDR_MSGID, ""),
                    NGX_WSMAN_FAULT_HEADER_REQUIRED);
    UNIT_SOAP_FAULT(&t, "<s:Envelope" NS_DECL "><s:Body/></s:Envelope>",
                    NGX_WSMAN_FAULT_HEADER_REQUIRED);

    UNIT_SOAP_OK(&t, "<s:Envelope" NS_DECL "><s:Body>" IDENTIFY
                     "</s:Body></s:Envelope>");
    UNIT_CHECK(t.req.identify);
    UNIT_EQ_UINT(t.req.action.len, 0);
    UNIT_CHECK(ngx_wsman_soap_is(t.req.payload, NGX_WSMAN_NS_WSMID,
                                 "Identify"));

    UNIT_SOAP_OK(&t, ENV("", IDENTIFY));
    UNIT_CHECK(t.req.identify);

    UNIT_SOAP_OK(&t, ENV(HDR_OK, "<x/>"));
    UNIT_CHECK(!t.req.identify);

    /* an Identify in another namespace is no Identify */
    UNIT_SOAP_FAULT(&t, ENV("", "<i:Identify xmlns:i=\"urn:bogus\"/>"),
                    NGX_WSMAN_FAULT_HEADER_REQUIRED);

    /* an Action outside WS-Addressing is not the Action */
    UNIT_SOAP_FAULT(&t, "<s:Envelope xmlns:s=\"" NGX_WSMAN_NS_SOAP "\""
                        " xmlns:a=\"urn:bogus\" xmlns:b=\""
                        NGX_WSMAN_NS_WSA "\"><s:Header>"
                        "<a:Action>" NGX_WSMAN_ACTION_GET "</a:Action>"
                        "<b:MessageID>uuid:3</b:MessageID></s:Header>"
                        "<s:Body/></s:Envelope>",
                    NGX_WSMAN_FAULT_HEADER_REQUIRED);
    UNIT_EQ_UINT(t.req.action.len, 0);

    UNIT_SOAP_FAULT(&t, "<s:Envelope xmlns:s=\"" NGX_WSMAN_NS_SOAP "\""
                        " xmlns:a=\"urn:bogus\" xmlns:b=\""
                        NGX_WSMAN_NS_WSA "\"><s:Header>"
                        "<a:Action mustUnderstand=\"true\">"
                        NGX_WSMAN_ACTION_GET "</a:Action>"
                        "<b:MessageID>uuid:3</b:MessageID></s:Header>"
                        "<s:Body/></s:Envelope>",
                    NGX_WSMAN_FAULT_MUST_UNDERSTAND);

    /* values are trimmed and unescaped */
    UNIT_SOAP_OK(&t, ENV("<a:Action>\n\t " NGX_WSMAN_ACTION_PUT " \r\n"
                         "</a:Action>" HDR_MSGID
                         "<a:To> http://h:5985/wsman </a:To>"
                         "<a:ReplyTo><a:Address>urn:&amp;me</a:Address>"
                         "</a:ReplyTo>"
                         "<a:From><a:Address>ignored</a:Address></a:From>"
                         "<w:Locale xml:lang=\"de-DE\"/>"
                         "<p:DataLocale xml:lang=\"fr-FR\"/>"
                         "<p:SessionId>uuid:x</p:SessionId>", ""));
    UNIT_EQ_STR(t.req.action, NGX_WSMAN_ACTION_PUT);
    UNIT_EQ_STR(t.req.to, "http://h:5985/wsman");
    UNIT_EQ_STR(t.req.reply_to, "urn:&me");
    UNIT_EQ_STR(t.req.locale, "de-DE");
    UNIT_EQ_STR(t.req.data_locale, "fr-FR");
    UNIT_EQ_UINT(t.req.operation_timeout, 60000);       /* not sent */
    UNIT_EQ_UINT(t.req.max_envelope_size, 0);           /* not sent */

    /* a lang attribute outside the xml: namespace is not the locale */
    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:Locale lang=\"de-DE\"/>", ""));
    UNIT_EQ_UINT(t.req.locale.len, 0);
}


static void
unit_test_soap_timeout(void)
{
    unit_soap_t              t;
    ngx_wsman_soap_limits_t  limits;

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:OperationTimeout>PT20S"
                         "</w:OperationTimeout>", ""));
    UNIT_EQ_UINT(t.req.operation_timeout, 20000);

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:OperationTimeout> PT0.5S "
                         "</w:OperationTimeout>", ""));
    UNIT_EQ_UINT(t.req.operation_timeout, 500);

    /* larger than MaxTimeoutms: MaxTimeoutms */
    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:OperationTimeout>PT1H"
                         "</w:OperationTimeout>", ""));
    UNIT_EQ_UINT(t.req.operation_timeout, 60000);

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:OperationTimeout>P999999999Y"
                         "</w:OperationTimeout>", ""));
    UNIT_EQ_UINT(t.req.operation_timeout, 60000);

    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:OperationTimeout>garbage"
                            "</w:OperationTimeout>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:OperationTimeout>PT0S"
                            "</w:OperationTimeout>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:OperationTimeout/>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:OperationTimeout>60"
                            "</w:OperationTimeout>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);

    /* no cap configured: the client's value */
    limits.max_depth = 0;
    limits.max_timeout = 0;

    t.rc = ngx_wsman_soap_parse(unit_pool, &unit_log,
                                (const u_char *) ENV(HDR_OK
                                "<w:OperationTimeout>P1D"
                                "</w:OperationTimeout>", ""),
                                sizeof(ENV(HDR_OK "<w:OperationTimeout>P1D"
                                           "</w:OperationTimeout>", ""))
                                - 1,
                                &limits, &t.req, &t.fault);
    UNIT_CHECK(t.rc == NGX_OK);
    UNIT_EQ_UINT(t.req.operation_timeout, 86400000);
}


static void
unit_test_soap_envelope_size(void)
{
    unit_soap_t  t;

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:MaxEnvelopeSize mustUnderstand=\"true\">"
                         "153600</w:MaxEnvelopeSize>", ""));
    UNIT_EQ_UINT(t.req.max_envelope_size, 153600);

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:MaxEnvelopeSize> 8192 "
                         "</w:MaxEnvelopeSize>", ""));
    UNIT_EQ_UINT(t.req.max_envelope_size, 8192);

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:MaxEnvelopeSize>4294967295"
                         "</w:MaxEnvelopeSize>", ""));
    UNIT_EQ_UINT(t.req.max_envelope_size, 4294967295U);

    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:MaxEnvelopeSize>100"
                            "</w:MaxEnvelopeSize>", ""),
                    NGX_WSMAN_FAULT_ENCODING_LIMIT);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:MaxEnvelopeSize>8191"
                            "</w:MaxEnvelopeSize>", ""),
                    NGX_WSMAN_FAULT_ENCODING_LIMIT);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:MaxEnvelopeSize>0"
                            "</w:MaxEnvelopeSize>", ""),
                    NGX_WSMAN_FAULT_ENCODING_LIMIT);

    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:MaxEnvelopeSize>abc"
                            "</w:MaxEnvelopeSize>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:MaxEnvelopeSize/>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:MaxEnvelopeSize>-9000"
                            "</w:MaxEnvelopeSize>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:MaxEnvelopeSize>1 53600"
                            "</w:MaxEnvelopeSize>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:MaxEnvelopeSize>"
                            "99999999999999999999999999"
                            "</w:MaxEnvelopeSize>", ""),
                    NGX_WSMAN_FAULT_INVALID_HEADER);
}


static void
unit_test_soap_selectors(void)
{
    unit_soap_t        t;
    ngx_wsman_pair_t  *pair;

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:SelectorSet>"
                         "<w:Selector Name=\"ShellId\"> abc </w:Selector>"
                         "<w:Selector Name=\"Other\">x&amp;y</w:Selector>"
                         "<w:Selector Name=\"Empty\"/>"
                         "</w:SelectorSet>", ""));
    UNIT_EQ_UINT(t.req.selectors.nelts, 3);
    UNIT_SELECTOR(&t.req, "SHELLID", "abc");
    UNIT_SELECTOR(&t.req, "other", "x&y");
    UNIT_SELECTOR(&t.req, "Empty", "");

    /* the same name twice, in another case */
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:SelectorSet>"
                            "<w:Selector Name=\"ShellId\">a</w:Selector>"
                            "<w:Selector Name=\"SHELLID\">b</w:Selector>"
                            "</w:SelectorSet>", ""),
                    NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_STR(t.fault.detail, NGX_WSMAN_FAULT_DETAIL "DuplicateSelectors");

    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:SelectorSet>"
                            "<w:Selector>a</w:Selector>"
                            "</w:SelectorSet>", ""),
                    NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:SelectorSet>"
                            "<w:Selector Name=\" \">a</w:Selector>"
                            "</w:SelectorSet>", ""),
                    NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:SelectorSet>"
                            "<w:Option Name=\"a\">a</w:Option>"
                            "</w:SelectorSet>", ""),
                    NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:SelectorSet>"
                            "<x:Selector xmlns:x=\"urn:x\" Name=\"a\">a"
                            "</x:Selector></w:SelectorSet>", ""),
                    NGX_WSMAN_FAULT_INVALID_SELECTORS);

    /* a Name in some namespace is not the Name attribute */
    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:SelectorSet>"
                            "<w:Selector w:Name=\"a\">a</w:Selector>"
                            "</w:SelectorSet>", ""),
                    NGX_WSMAN_FAULT_INVALID_SELECTORS);

    /* many selectors: the array grows */
    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:SelectorSet>"
                         "<w:Selector Name=\"s1\">1</w:Selector>"
                         "<w:Selector Name=\"s2\">2</w:Selector>"
                         "<w:Selector Name=\"s3\">3</w:Selector>"
                         "<w:Selector Name=\"s4\">4</w:Selector>"
                         "<w:Selector Name=\"s5\">5</w:Selector>"
                         "<w:Selector Name=\"s6\">6</w:Selector>"
                         "<w:Selector Name=\"s7\">7</w:Selector>"
                         "<w:Selector Name=\"s8\">8</w:Selector>"
                         "<w:Selector Name=\"s9\">9</w:Selector>"
                         "</w:SelectorSet>", ""));
    UNIT_EQ_UINT(t.req.selectors.nelts, 9);
    UNIT_SELECTOR(&t.req, "S1", "1");
    UNIT_SELECTOR(&t.req, "S5", "5");
    UNIT_SELECTOR(&t.req, "S9", "9");

    pair = t.req.selectors.elts;
    UNIT_EQ_STR(pair[8].name, "s9");
}


static void
unit_test_soap_options(void)
{
    unit_soap_t        t;
    ngx_wsman_pair_t  *pair;

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:OptionSet mustUnderstand=\"true\">"
                         "<w:Option Name=\"a\" MustComply=\"true\">1"
                         "</w:Option>"
                         "<w:Option Name=\"b\" MustComply=\"1\">2</w:Option>"
                         "<w:Option Name=\"c\" MustComply=\"false\">3"
                         "</w:Option>"
                         "<w:Option Name=\"d\">4</w:Option>"
                         "<x:Other xmlns:x=\"urn:x\" Name=\"e\">5</x:Other>"
                         "</w:OptionSet>", ""));
    UNIT_CHECK(t.req.options_must_understand);
    UNIT_EQ_UINT(t.req.options.nelts, 4);

    pair = t.req.options.elts;

    if (t.req.options.nelts == 4) {
        UNIT_CHECK(pair[0].must_understand);
        UNIT_CHECK(pair[1].must_understand);
        UNIT_CHECK(!pair[2].must_understand);
        UNIT_CHECK(!pair[3].must_understand);
    }

    UNIT_OPTION(&t.req, "D", "4");
    UNIT_CHECK(ngx_wsman_soap_option(&t.req, "e") == NULL);

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:OptionSet s:mustUnderstand=\"1\">"
                         "<w:Option Name=\"WSMAN_CMDSHELL_OPTION_KEEPALIVE\">"
                         "True</w:Option></w:OptionSet>", ""));
    UNIT_CHECK(t.req.options_must_understand);
    UNIT_OPTION(&t.req, "WSMAN_CMDSHELL_OPTION_KEEPALIVE", "True");

    UNIT_SOAP_OK(&t, ENV(HDR_OK "<w:OptionSet mustUnderstand=\"false\">"
                         "<w:Option Name=\"a\">1</w:Option>"
                         "</w:OptionSet>", ""));
    UNIT_CHECK(!t.req.options_must_understand);

    UNIT_SOAP_FAULT(&t, ENV(HDR_OK "<w:OptionSet>"
                            "<w:Option>1</w:Option></w:OptionSet>", ""),
                    NGX_WSMAN_FAULT_INVALID_OPTIONS);
}


/* running out of pool memory anywhere is NGX_ERROR, never a crash, a
 * leak or a fault */
static void
unit_test_soap_nomem(void)
{
    u_char       *data;
    size_t        len;
    ngx_int_t     n;
    unit_soap_t   t;

    data = unit_read_file("winrmcp-02.xml", &len);
    if (!UNIT_CHECK(data != NULL)) {
        return;
    }

    for (n = 0; n < 200; n++) {
        unit_alloc_fail_after(n);
        unit_soap_parse_len(&t, data, len, 60000, 0);
        unit_alloc_fail_after(-1);

        if (!UNIT_CHECK(t.rc == NGX_ERROR || t.rc == NGX_OK)) {
            printf("    failing allocation %d: rc %d\n", (int) n,
                   (int) t.rc);
        }

        if (t.rc == NGX_OK) {
            break;
        }
    }

    /* that it did succeed in the end shows the loop covered every
     * allocation of the parse */
    UNIT_CHECK(t.rc == NGX_OK && n > 5);
    UNIT_SELECTOR(&t.req, "ShellId", "17BC9216-ADFE-4C4D-92E2-B630AB7F7C4F");
}


static void
unit_test_soap_write_head(void)
{
    u_char           *text;
    size_t            len;
    xmlDocPtr         doc;
    ngx_wsman_xml_t   x;

    ngx_wsman_xml_init(&x, unit_pool, 0);
    ngx_wsman_soap_write_head(&x, NULL, NULL);
    ngx_wsman_xml_literal(&x, "<w:X/>");
    ngx_wsman_soap_write_tail(&x);

    if (!UNIT_CHECK(ngx_wsman_xml_chain(&x) != NULL)) {
        return;
    }

    text = unit_chain_flatten(ngx_wsman_xml_chain(&x), &len);

    UNIT_CHECK(ngx_strstr(text, "<s:Header></s:Header><s:Body><w:X/>"
                                "</s:Body></s:Envelope>") != NULL);
    UNIT_CHECK(ngx_strstr(text, "Action") == NULL);

    doc = xmlReadMemory((char *) text, (int) len, "head.xml", NULL, 0);
    UNIT_CHECK(doc != NULL);
    xmlFreeDoc(doc);

    free(text);
}


/* what the pre-scan counts, in the encodings it reads */
static ngx_int_t
unit_prescan_len(const u_char *data, size_t len,
    ngx_wsman_soap_encoding_e *enc, ngx_wsman_fault_t *fault)
{
    ngx_str_t   text;
    ngx_uint_t  replaced;

    text.data = (u_char *) data;
    text.len = len;

    return ngx_wsman_soap_prescan(unit_pool, &text, enc, &replaced, NULL, fault);
}


static ngx_int_t
unit_prescan(const char *text, size_t len, ngx_uint_t utf16,
    ngx_wsman_soap_encoding_e *enc, ngx_wsman_fault_t *fault)
{
    u_char  *p;
    size_t   i;

    if (!utf16) {
        return unit_prescan_len((const u_char *) text, len, enc, fault);
    }

    p = ngx_pnalloc(unit_pool, 2 + 2 * len);
    UNIT_CHECK(p != NULL);

    p[0] = 0xff;
    p[1] = 0xfe;

    for (i = 0; i < len; i++) {
        p[2 + 2 * i] = (u_char) text[i];
        p[3 + 2 * i] = 0;
    }

    return unit_prescan_len(p, 2 + 2 * len, enc, fault);
}


static char *
unit_attrs(ngx_uint_t n, ngx_uint_t quoted_gt)
{
    u_char      *buf, *p;
    ngx_uint_t   i;

    buf = ngx_pnalloc(unit_pool, 64 + 24 * n);
    UNIT_CHECK(buf != NULL);

    p = ngx_sprintf(buf, "<e");

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, quoted_gt ? " a%ui='>=<'" : " a%ui=\"\"", i);
    }

    p = ngx_sprintf(p, "/>%Z");

    return (char *) buf;
}


static void
unit_test_soap_prescan(void)
{
    char                       *x;
    ngx_uint_t                  u16;
    ngx_wsman_fault_t           fault;
    ngx_wsman_soap_encoding_e   enc;

    for (u16 = 0; u16 < 2; u16++) {

        x = unit_attrs(NGX_WSMAN_SOAP_MAX_ATTRIBUTES, 0);
        UNIT_CHECK(unit_prescan(x, strlen(x), u16, &enc, &fault) == NGX_OK);
        UNIT_CHECK(enc == (u16 ? NGX_WSMAN_SOAP_UTF16LE
                               : NGX_WSMAN_SOAP_UTF8));

        x = unit_attrs(NGX_WSMAN_SOAP_MAX_ATTRIBUTES + 1, 0);
        UNIT_CHECK(unit_prescan(x, strlen(x), u16, &enc, &fault)
                   == NGX_DECLINED
                   && fault.id == NGX_WSMAN_FAULT_ENCODING_LIMIT);

        /* '=', '<' and '>' inside quoted values are not markup */
        x = unit_attrs(NGX_WSMAN_SOAP_MAX_ATTRIBUTES, 1);
        UNIT_CHECK(unit_prescan(x, strlen(x), u16, &enc, &fault) == NGX_OK);

        x = unit_attrs(NGX_WSMAN_SOAP_MAX_ATTRIBUTES + 1, 1);
        UNIT_CHECK(unit_prescan(x, strlen(x), u16, &enc, &fault)
                   == NGX_DECLINED);
    }

    /* namespace declarations, default or prefixed, spread over elements */
    {
        u_char      *buf, *p;
        ngx_uint_t   i;

        buf = ngx_pnalloc(unit_pool, 64 * 300);
        UNIT_CHECK(buf != NULL);

        for (p = buf, i = 0; i < NGX_WSMAN_SOAP_MAX_NAMESPACES; i++) {
            p = ngx_sprintf(p, (i % 2) ? "<e xmlns:p%ui = 'u' a='1'>"
                                       : "<e\txmlns=\"u%ui\" xmlnsx='1'>",
                            i);
        }

        *p = '\0';
        x = (char *) buf;
        UNIT_CHECK(unit_prescan(x, p - buf, 0, &enc, &fault) == NGX_OK);

        p = ngx_sprintf(p, "<e xmlns:last='u'/>%Z");
        UNIT_CHECK(unit_prescan(x, strlen(x), 0, &enc, &fault)
                   == NGX_DECLINED
                   && fault.id == NGX_WSMAN_FAULT_ENCODING_LIMIT
                   && ngx_strstr(fault.message.data, "namespaces") != NULL);
        UNIT_CHECK(unit_prescan(x, strlen(x), 1, &enc, &fault)
                   == NGX_DECLINED);
    }

    /*
     * markup that is not a start tag declares nothing: 256 namespace
     * declarations with each of these in between pass, one more fails
     */
    {
        u_char      *buf, *p;
        ngx_uint_t   i, u16;

        static const char  *quiet[] = {
            "<!-- <e xmlns:c='u'> xmlns:c='u' -->",
            "<![CDATA[<e xmlns:d='u'>]]>",
            "<?pi xmlns:p='u'?>",
            "</e xmlns:q='u'>",
            "<!X xmlns:r='u'>",
            "<e a='xmlns:s=u' b=\"<e xmlns:t='u'>\" c='\"'>",
            "<e\n\ta = \"xmlns:v='u'\"/>",
            NULL
        };

        buf = ngx_pnalloc(unit_pool, 64 * 300 + 4096);
        UNIT_CHECK(buf != NULL);

        for (p = buf, i = 0; i < NGX_WSMAN_SOAP_MAX_NAMESPACES; i++) {
            p = ngx_sprintf(p, "<e xmlns:n%ui='u'>%s", i,
                            quiet[i % 7]);
        }

        *p = '\0';
        x = (char *) buf;

        for (u16 = 0; u16 < 2; u16++) {
            UNIT_CHECK(unit_prescan(x, p - buf, u16, &enc, &fault)
                       == NGX_OK);
        }

        p = ngx_sprintf(p, "<e xmlns:last='u'/>%Z");

        for (u16 = 0; u16 < 2; u16++) {
            UNIT_CHECK(unit_prescan(x, strlen(x), u16, &enc, &fault)
                       == NGX_DECLINED
                       && ngx_strstr(fault.message.data, "namespaces"));
        }
    }

    /* unterminated quotes, comments and tags end the scan, no more */
    x = "<e a='>";
    UNIT_CHECK(unit_prescan(x, strlen(x), 0, &enc, &fault) == NGX_OK);
    UNIT_CHECK(unit_prescan(x, strlen(x), 1, &enc, &fault) == NGX_OK);
    x = "<e><!-- a";
    UNIT_CHECK(unit_prescan(x, strlen(x), 0, &enc, &fault) == NGX_OK);
    UNIT_CHECK(unit_prescan(x, strlen(x), 1, &enc, &fault) == NGX_OK);
    x = "<e b";
    UNIT_CHECK(unit_prescan(x, strlen(x), 0, &enc, &fault) == NGX_OK);
    UNIT_CHECK(unit_prescan(x, strlen(x), 1, &enc, &fault) == NGX_OK);
    x = "<";
    UNIT_CHECK(unit_prescan(x, strlen(x), 0, &enc, &fault) == NGX_OK);

    /* comments, CDATA and text are not counted */
    x = "<?xml version='1.0' encoding='ISO-8859-1'?><e><!-- <a b='1'> -->"
        "<![CDATA[<a b=1 c=2>]]>a=b</e>";
    UNIT_CHECK(unit_prescan(x, strlen(x), 0, &enc, &fault) == NGX_OK);

    /* encodings that could hide markup from the scan */
    x = "<?xml version='1.0' encoding='UTF-7'?><e/>";
    UNIT_CHECK(unit_prescan(x, strlen(x), 0, &enc, &fault) == NGX_DECLINED
               && fault.id == NGX_WSMAN_FAULT_ENCODING_LIMIT
               && fault.detail.len > 0);

    x = "<?xml version='1.0' encoding='ISO-2022-JP'?><e/>";
    UNIT_CHECK(unit_prescan(x, strlen(x), 0, &enc, &fault) == NGX_DECLINED);

    /* a UTF-16 BOM with a declaration that switches away from it */
    x = "<?xml version='1.0' encoding='ISO-8859-1'?><e/>";
    UNIT_CHECK(unit_prescan(x, strlen(x), 1, &enc, &fault) == NGX_DECLINED);

    x = "<?xml version='1.0' encoding='utf-16'?><e/>";
    UNIT_CHECK(unit_prescan(x, strlen(x), 1, &enc, &fault) == NGX_OK);

    /* UCS-4 and EBCDIC */
    UNIT_CHECK(unit_prescan_len((u_char *) "\0\0\0<\0\0\0e", 8, &enc,
                                &fault) == NGX_DECLINED);
    UNIT_CHECK(unit_prescan_len((u_char *) "\x4c\x6f\xa7\x94", 4, &enc,
                                &fault) == NGX_DECLINED);
}


/* UTF-16 to UTF-8: invalid code units as event sources send them
 * become U+FFFD, never a refusal; good text converts exactly */
static void
unit_test_soap_utf16_to_utf8(void)
{
    u_char      out[64], run[32];
    size_t      n, i, j, k;
    ngx_uint_t  replaced, ok;

    static const uint32_t  odd[] = { 0x09, 0x20, 0x7f, 0x00, 0x1f, 0x80,
                                     0x4e2d };

    /* LE: "a", lone high, "b", lone low, pair (U+1F600), NUL, TAB,
     * U+FFFF, then a high surrogate as the last unit */
    static const u_char  le[] = {
        'a', 0, 0x00, 0xd8, 'b', 0, 0x00, 0xdc, 0x3d, 0xd8, 0x00, 0xde,
        0x00, 0x00, 0x09, 0x00, 0xff, 0xff, 0x01, 0xd8 };
    static const u_char  le_utf8[] = {
        'a', 0xef, 0xbf, 0xbd, 'b', 0xef, 0xbf, 0xbd, 0xf0, 0x9f, 0x98,
        0x80, 0xef, 0xbf, 0xbd, 0x09, 0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd };

    static const u_char  be[] = { 0xd8, 0x00, 0x00, 'x', 0x00, 0x0b };
    static const u_char  be_utf8[] = {
        0xef, 0xbf, 0xbd, 'x', 0xef, 0xbf, 0xbd };

    /* '<', U+1F600, CR, LF, U+00E9, U+20AC, U+FFFD, U+FEFF, U+07FF,
     * U+E000 */
    static const u_char  good[] = {
        '<', 0, 0x3d, 0xd8, 0x00, 0xde, 0x0d, 0, 0x0a, 0, 0xe9, 0,
        0xac, 0x20, 0xfd, 0xff, 0xff, 0xfe, 0xff, 0x07, 0x00, 0xe0 };
    static const u_char  good_utf8[] = {
        '<', 0xf0, 0x9f, 0x98, 0x80, 0x0d, 0x0a, 0xc3, 0xa9, 0xe2, 0x82,
        0xac, 0xef, 0xbf, 0xbd, 0xef, 0xbb, 0xbf, 0xdf, 0xbf, 0xee, 0x80,
        0x80 };

    UNIT_CHECK(NGX_WSMAN_SOAP_UTF8_SIZE(sizeof(le)) <= sizeof(out));

    n = ngx_wsman_soap_utf16_to_utf8(out, le, sizeof(le), 0, &replaced);
    UNIT_EQ_UINT(replaced, 5);
    UNIT_CHECK(n == sizeof(le_utf8)
               && ngx_memcmp(out, le_utf8, n) == 0);

    n = ngx_wsman_soap_utf16_to_utf8(out, be, sizeof(be), 1, &replaced);
    UNIT_EQ_UINT(replaced, 2);
    UNIT_CHECK(n == sizeof(be_utf8)
               && ngx_memcmp(out, be_utf8, n) == 0);

    n = ngx_wsman_soap_utf16_to_utf8(out, good, sizeof(good), 0,
                                     &replaced);
    UNIT_EQ_UINT(replaced, 0);
    UNIT_CHECK(n == sizeof(good_utf8)
               && ngx_memcmp(out, good_utf8, n) == 0);

    /* runs of ASCII (converted a block of units at a time) with one other
     * unit at every place: the unit and its neighbours come out right */
    for (i = 0; i < 16; i++) {
        for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
            for (j = 0; j < 16; j++) {
                run[2 * j] = (u_char) ('A' + j);
                run[2 * j + 1] = 0;
            }

            run[2 * i] = (u_char) (odd[k] & 0xff);
            run[2 * i + 1] = (u_char) (odd[k] >> 8);

            n = ngx_wsman_soap_utf16_to_utf8(out, run, sizeof(run), 0,
                                             &replaced);

            ok = (n >= 16 && ngx_memcmp(out, "ABCDEFGHIJKLMNOP", i) == 0
                  && ngx_memcmp(out + n - (15 - i),
                                "ABCDEFGHIJKLMNOP" + i + 1, 15 - i) == 0);

            switch (odd[k]) {
            case 0x09: case 0x20: case 0x7f:
                ok = ok && n == 16 && out[i] == odd[k] && replaced == 0;
                break;
            case 0x00: case 0x1f:
                ok = ok && n == 18 && replaced == 1
                     && ngx_memcmp(out + i, "\xef\xbf\xbd", 3) == 0;
                break;
            case 0x80:
                ok = ok && n == 17 && replaced == 0
                     && ngx_memcmp(out + i, "\xc2\x80", 2) == 0;
                break;
            default:                                    /* U+4E2D */
                ok = ok && n == 18 && replaced == 0
                     && ngx_memcmp(out + i, "\xe4\xb8\xad", 3) == 0;
            }

            UNIT_CHECK(ok);
        }
    }

    /* half a unit at the end: replaced too */
    n = ngx_wsman_soap_utf16_to_utf8(out, (u_char *) "a\0\x01", 3, 0,
                                     &replaced);
    UNIT_EQ_UINT(replaced, 1);
    UNIT_CHECK(n == 4 && ngx_memcmp(out, "a\xef\xbf\xbd", 4) == 0);
}


/*
 * ngx_wsman_soap_utf16_to_utf8() reading a copy of exactly len bytes and
 * writing into exactly the room NGX_WSMAN_SOAP_UTF8_SIZE() promises, each
 * its own malloc(): ASan (make sanitize) sees a step that reads or writes
 * past either; the result is copied to out
 */
static size_t
unit_utf16_exact(u_char *out, const u_char *in, size_t len,
    ngx_uint_t big_endian, ngx_uint_t *replaced)
{
    size_t   n;
    u_char  *src, *dst;

    src = malloc(len ? len : 1);
    dst = malloc(NGX_WSMAN_SOAP_UTF8_SIZE(len));

    if (src == NULL || dst == NULL) {
        free(src);
        free(dst);
        *replaced = (ngx_uint_t) -1;
        return 0;
    }

    ngx_memcpy(src, in, len);

    n = ngx_wsman_soap_utf16_to_utf8(dst, src, len, big_endian, replaced);
    ngx_memcpy(out, dst, n);

    free(src);
    free(dst);

    return n;
}


/*
 * The 16- and 8-unit steps of the conversion (SSE2): each unit other
 * than printable ASCII (and a surrogate pair) at every offset of runs of
 * 8 to 40 units, in both byte orders, against the expected bytes; the
 * units before and after it stay ASCII and come out in place
 */
static void
unit_test_soap_utf16_blocks(void)
{
    u_char      in[2 * 40 + 1], out[3 * 40 + 3], want[3 * 40 + 3], *w;
    size_t      n, i, j, k, len, units, be;
    ngx_uint_t  replaced, ok;

    static const struct {
        uint32_t     u1, u2;                  /* u2: a second unit, or 0 */
        const char  *utf8;
        ngx_uint_t   replaced;
    } odd[] = {
        { 0x09, 0, "\t", 0 },
        { 0x0a, 0, "\n", 0 },
        { 0x0d, 0, "\r", 0 },
        { 0x00, 0, "\xef\xbf\xbd", 1 },
        { 0x1f, 0, "\xef\xbf\xbd", 1 },
        { 0x20, 0, " ", 0 },
        { 0x7f, 0, "\x7f", 0 },
        { 0x80, 0, "\xc2\x80", 0 },
        { 0xff, 0, "\xc3\xbf", 0 },
        { 0x100, 0, "\xc4\x80", 0 },
        { 0x120, 0, "\xc4\xa0", 0 },
        { 0x4e2d, 0, "\xe4\xb8\xad", 0 },
        { 0x7fff, 0, "\xe7\xbf\xbf", 0 },
        { 0x8000, 0, "\xe8\x80\x80", 0 },
        { 0x8041, 0, "\xe8\x81\x81", 0 },
        { 0xd800, 0, "\xef\xbf\xbd", 1 },
        { 0xdc00, 0, "\xef\xbf\xbd", 1 },
        { 0xd83d, 0xde00, "\xf0\x9f\x98\x80", 0 },
        { 0xdbff, 0xdfff, "\xf4\x8f\xbf\xbf", 0 },
        { 0xdc00, 0xd800, "\xef\xbf\xbd\xef\xbf\xbd", 2 },
        { 0xfeff, 0, "\xef\xbb\xbf", 0 },
        { 0xfffe, 0, "\xef\xbf\xbd", 1 },
        { 0xffff, 0, "\xef\xbf\xbd", 1 }
    };

    ok = 1;

    for (units = 8; units <= 40; units += 8) {
        for (be = 0; be < 2; be++) {
            for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
                for (i = 0; i + (odd[k].u2 ? 2 : 1) <= units; i++) {

                    for (j = 0; j < units; j++) {
                        in[2 * j + be] = (u_char) ('!' + j % 94);
                        in[2 * j + 1 - be] = 0;
                    }

                    in[2 * i + be] = (u_char) (odd[k].u1 & 0xff);
                    in[2 * i + 1 - be] = (u_char) (odd[k].u1 >> 8);

                    if (odd[k].u2) {
                        in[2 * i + 2 + be] = (u_char) (odd[k].u2 & 0xff);
                        in[2 * i + 3 - be] = (u_char) (odd[k].u2 >> 8);
                    }

                    w = want;

                    for (j = 0; j < units; j++) {
                        if (j == i) {
                            len = ngx_strlen(odd[k].utf8);
                            w = ngx_cpymem(w, odd[k].utf8, len);
                            j += odd[k].u2 ? 1 : 0;
                            continue;
                        }

                        *w++ = (u_char) ('!' + j % 94);
                    }

                    n = unit_utf16_exact(out, in, 2 * units, be, &replaced);

                    if (n != (size_t) (w - want)
                        || ngx_memcmp(out, want, n) != 0
                        || replaced != odd[k].replaced)
                    {
                        printf("    U+%04X at %d of %d units (%s): %d "
                               "bytes, %d replaced\n", (unsigned) odd[k].u1,
                               (int) i, (int) units, be ? "BE" : "LE",
                               (int) n, (int) replaced);
                        ok = 0;
                    }
                }
            }
        }
    }

    UNIT_CHECK(ok);

    /* ASCII only, every length 0 to 40 units and half a unit more */
    for (len = 0; len <= 2 * 40 + 1; len++) {
        for (j = 0; j < len; j++) {
            in[j] = (j & 1) ? 0 : (u_char) ('A' + j / 2 % 26);
        }

        n = unit_utf16_exact(out, in, len, 0, &replaced);

        ok = n == len / 2 + (len & 1) * 3 && replaced == (len & 1);

        for (j = 0; ok && j < len / 2; j++) {
            ok = out[j] == (u_char) ('A' + j % 26);
        }

        if (len & 1) {
            ok = ok && ngx_memcmp(out + len / 2, "\xef\xbf\xbd", 3) == 0;
        }

        if (!ok) {
            printf("    ASCII, %d bytes: %d out\n", (int) len, (int) n);
            UNIT_CHECK(ok);
            break;
        }
    }

    UNIT_CHECK(ok);
}


/*
 * An envelope in UTF-16 (the BOM, a declaration naming UTF-16) is parsed
 * from its UTF-8 conversion: the same request, invalid units replaced
 * and counted.
 */
static void
unit_soap_utf16(unit_soap_t *t, const char *xml, ngx_uint_t big_endian,
    ngx_uint_t bom)
{
    u_char    *p, *q;
    size_t     len;
    uint32_t   u;

    len = ngx_strlen(xml);

    p = ngx_pnalloc(unit_pool, 2 + 2 * len);
    UNIT_CHECK(p != NULL);

    q = p;

    if (bom) {
        *q++ = big_endian ? 0xfe : 0xff;
        *q++ = big_endian ? 0xff : 0xfe;
    }

    for ( /* void */ ; *xml; xml++) {
        /* '~' stands for a lone high surrogate, '^' for U+00E9 */
        u = (*xml == '~') ? 0xd800 : (*xml == '^') ? 0xe9 : (u_char) *xml;

        *q++ = (u_char) (big_endian ? u >> 8 : u & 0xff);
        *q++ = (u_char) (big_endian ? u & 0xff : u >> 8);
    }

    unit_soap_parse_len(t, p, q - p, 60000, 0);
}


static void
unit_test_soap_utf16(void)
{
    unit_soap_t  t;

    static const char  *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
        "<s:Envelope" NS_DECL "><s:Header>"
        "<a:Action>urn:caf^~</a:Action>"
        "<a:MessageID>uuid:1</a:MessageID>"
        "</s:Header><s:Body/></s:Envelope>";

    unit_soap_utf16(&t, xml, 0, 1);
    UNIT_CHECK(t.rc == NGX_OK);
    UNIT_EQ_STR(t.req.action, "urn:caf\xc3\xa9\xef\xbf\xbd");
    UNIT_EQ_UINT(t.req.utf16_replaced, 1);

    unit_soap_utf16(&t, xml, 1, 1);
    UNIT_CHECK(t.rc == NGX_OK);
    UNIT_EQ_STR(t.req.action, "urn:caf\xc3\xa9\xef\xbf\xbd");

    /* no BOM: told by the first character */
    unit_soap_utf16(&t, xml, 0, 0);
    UNIT_CHECK(t.rc == NGX_OK);
    UNIT_EQ_STR(t.req.message_id, "uuid:1");

    /* the next envelope on the same parser: its declaration counts again
     * (ISO-8859-1 \xe9 is U+00E9) */
    UNIT_SOAP_OK(&t, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
                     "<s:Envelope" NS_DECL "><s:Header>"
                     "<a:Action>urn:caf\xe9</a:Action>"
                     "<a:MessageID>uuid:1</a:MessageID>"
                     "</s:Header><s:Body/></s:Envelope>");
    UNIT_EQ_STR(t.req.action, "urn:caf\xc3\xa9");

    /* UTF-8 text is never converted, nothing replaced */
    UNIT_SOAP_OK(&t, "<s:Envelope" NS_DECL "><s:Header>"
                     "<a:Action>urn:caf\xc3\xa9</a:Action>"
                     "<a:MessageID>uuid:1</a:MessageID>"
                     "</s:Header><s:Body/></s:Envelope>");
    UNIT_EQ_UINT(t.req.utf16_replaced, 0);

    /* the declaration still may not switch away from UTF-16 */
    unit_soap_utf16(&t, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
                        "<s:Envelope" NS_DECL "><s:Body/></s:Envelope>",
                    0, 1);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_ENCODING_LIMIT);
}


/*
 * Events batches: the w:Event sections the pre-scan sets aside
 * (ngx_wsman_soap.h) read back exactly as libxml2 would have given them,
 * and nothing else is ever set aside or read from a marker.
 */

#define HDR_EVENTS                                                          \
    "<a:Action>" NGX_WSMAN_ACTION_EVENTS "</a:Action>" HDR_MSGID

/* the envelope's w:Event sections are set aside (its doc has them) */
#define UNIT_LIFTED(t)  ((t)->req.doc && (t)->req.doc->_private)


/* the texts of the children of the s:Body's first element, in order */
static ngx_uint_t
unit_soap_event_texts(unit_soap_t *t, ngx_str_t *texts, ngx_uint_t max)
{
    ngx_uint_t  n;
    xmlNodePtr  events, node;

    n = 0;

    for (events = t->req.body ? t->req.body->children : NULL;
         events && events->type != XML_ELEMENT_NODE;
         events = events->next)
    { /* void */ }

    if (events == NULL) {
        return 0;
    }

    for (node = events->children; node && n < max; node = node->next) {
        if (node->type == XML_ELEMENT_NODE) {
            UNIT_CHECK(ngx_wsman_soap_node_text(unit_pool, node, &texts[n])
                       == NGX_OK);
            n++;
        }
    }

    return n;
}


static void
unit_test_soap_lifted(void)
{
    char         *xml, *p, *big, *other;
    size_t        len;
    ngx_str_t     texts[8], want, whole, inner, text;
    ngx_uint_t    i, n;
    unit_soap_t   t;

    static const char  head[] = "  <Event xmlns='urn:e'><Data Name='a&amp;b'>"
                                "x < y && ]] ]> ]]</Data>";

    /* an event of ~1 KB with everything a CDATA section may hold */
    big = ngx_pnalloc(unit_pool, 1200);
    UNIT_CHECK(big != NULL);

    p = (char *) ngx_cpymem(big, head, sizeof(head) - 1);
    for (i = 0; i < 40; i++) {
        p = (char *) ngx_cpymem(p, "<Data>0123456789</Data>", 23);
    }
    p = (char *) ngx_cpymem(p, "</Event>\n", 9);
    *p = '\0';

    other = ngx_pnalloc(unit_pool, 1200);
    UNIT_CHECK(other != NULL);
    ngx_memcpy(other, big, ngx_strlen(big) + 1);
    other[40] = 'Z';

    len = 4 * ngx_strlen(big) + 4096;
    xml = ngx_pnalloc(unit_pool, len);
    UNIT_CHECK(xml != NULL);

    /* the second big one has a prefix of its own, the third none */
    ngx_snprintf((u_char *) xml, len,
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
        "<s:Envelope" NS_DECL "><s:Header>" HDR_EVENTS "</s:Header>"
        "<s:Body><w:Events>"
        "<w:Event Action=\"urn:x>y\"><![CDATA[%s]]></w:Event>"
        "<w:Event><![CDATA[short]]></w:Event>"
        "<q:Event xmlns:q=\"" NGX_WSMAN_NS_WSMAN "\"><![CDATA[%s]]></q:Event>"
        "<Event xmlns=\"" NGX_WSMAN_NS_WSMAN "\"><![CDATA[%s]]></Event>"
        "<w:Event> <![CDATA[%s]]></w:Event>"
        "<w:Event><![CDATA[%s]]>tail</w:Event>"
        "<w:Eventx><![CDATA[%s]]></w:Eventx>"
        "</w:Events></s:Body></s:Envelope>%Z",
        big, other, big, big, big, big);

    unit_soap_utf16(&t, xml, 0, 1);
    UNIT_CHECK(t.rc == NGX_OK);
    UNIT_CHECK(UNIT_LIFTED(&t));

    n = unit_soap_event_texts(&t, texts, 8);
    UNIT_EQ_UINT(n, 7);

    /* node_text() trims, as it always did */
    want.data = (u_char *) big + 2;
    want.len = ngx_strlen(big) - 3;

    UNIT_CHECK(texts[0].len == want.len
               && ngx_memcmp(texts[0].data, want.data, want.len) == 0);
    UNIT_EQ_STR(texts[1], "short");
    UNIT_CHECK(texts[2].len == want.len
               && ngx_memcmp(texts[2].data, other + 2, want.len) == 0);
    UNIT_CHECK(texts[3].len == want.len
               && ngx_memcmp(texts[3].data, want.data, want.len) == 0);

    /* white space before, text after, another name: read whole, the same */
    UNIT_CHECK(texts[4].len == want.len
               && ngx_memcmp(texts[4].data, want.data, want.len) == 0);
    UNIT_CHECK(texts[5].len == want.len + 5
               && ngx_memcmp(texts[5].data, want.data, want.len) == 0
               && ngx_memcmp(texts[5].data + want.len, "\ntail", 5) == 0);
    UNIT_CHECK(texts[6].len == want.len
               && ngx_memcmp(texts[6].data, want.data, want.len) == 0);

    for (i = 0; i < n; i++) {
        UNIT_CHECK(ngx_strlchr(texts[i].data, texts[i].data + texts[i].len,
                               0xee) == NULL);
    }

    /* readers of whole subtrees: the body's XML, the batch's text (each
     * puts the sections back, so each the first on its own envelope) */
    UNIT_CHECK(ngx_wsman_node_inner_xml(unit_pool, t.req.body, &inner)
               == NGX_OK);
    unit_soap_utf16(&t, xml, 0, 1);
    UNIT_CHECK(t.rc == NGX_OK && UNIT_LIFTED(&t));
    UNIT_CHECK(ngx_wsman_soap_node_text(unit_pool, t.req.body, &whole)
               == NGX_OK);

    /* the same envelope in UTF-8: nothing set aside, the same texts */
    t.rc = NGX_ERROR;
    unit_soap_parse(&t, ngx_strstr(xml, "?>") + 2);
    UNIT_CHECK(t.rc == NGX_OK);
    UNIT_CHECK(!UNIT_LIFTED(&t));
    UNIT_EQ_UINT(unit_soap_event_texts(&t, texts, 8), 7);
    UNIT_CHECK(texts[0].len == want.len
               && ngx_memcmp(texts[0].data, want.data, want.len) == 0);

    UNIT_CHECK(ngx_wsman_soap_node_text(unit_pool, t.req.body, &text)
               == NGX_OK);
    UNIT_CHECK(text.len > 6 * want.len && text.len == whole.len
               && ngx_memcmp(text.data, whole.data, text.len) == 0);
    UNIT_CHECK(ngx_wsman_node_inner_xml(unit_pool, t.req.body, &text)
               == NGX_OK);
    UNIT_CHECK(text.len > 6 * want.len && text.len == inner.len
               && ngx_memcmp(text.data, inner.data, text.len) == 0);

    /* another action: the sections put back into its tree, so any reader
     * gets the text */
    ngx_snprintf((u_char *) xml, len,
        "<s:Envelope" NS_DECL "><s:Header>" HDR_OK "</s:Header>"
        "<s:Body><w:Events>"
        "<w:Event><![CDATA[%s]]></w:Event>"
        "</w:Events></s:Body></s:Envelope>%Z", big);

    unit_soap_utf16(&t, xml, 0, 1);
    UNIT_CHECK(t.rc == NGX_OK);
    UNIT_CHECK(!UNIT_LIFTED(&t));
    UNIT_EQ_UINT(unit_soap_event_texts(&t, texts, 8), 1);
    UNIT_CHECK(texts[0].len == want.len
               && ngx_memcmp(texts[0].data, want.data, want.len) == 0);
    UNIT_CHECK(xmlStrstr(t.req.body->children->children->children->content,
                         (xmlChar *) "\xee\x80\x80") == NULL);

    /* an Events envelope with a fault: the sections put back, no marker
     * in it */
    ngx_snprintf((u_char *) xml, len,
        "<s:Envelope" NS_DECL "><s:Header>"
        "<a:Action>" NGX_WSMAN_ACTION_EVENTS "</a:Action>"
        "</s:Header><s:Body><w:Events>"
        "<w:Event><![CDATA[%s]]></w:Event>"
        "</w:Events></s:Body></s:Envelope>%Z", big);

    unit_soap_utf16(&t, xml, 0, 1);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_HEADER_REQUIRED);
    UNIT_CHECK(!UNIT_LIFTED(&t));

    /*
     * A marker a client writes itself (U+E000 is '&#xE000;' here, which
     * the UTF-16 writer passes as is) is never read as one: it lacks the
     * envelope's random UUID, however it is spelled
     */
    ngx_snprintf((u_char *) xml, len,
        "<s:Envelope" NS_DECL "><s:Header>" HDR_EVENTS "</s:Header>"
        "<s:Body><w:Events>"
        "<w:Event><![CDATA[%s]]></w:Event>"
        "<w:Event>&#xE000;00000000-0000-4000-8000-000000000000#0</w:Event>"
        "<w:Event>&#xE000;#0</w:Event>"
        "</w:Events></s:Body></s:Envelope>%Z", big);

    unit_soap_utf16(&t, xml, 0, 1);
    UNIT_CHECK(t.rc == NGX_OK);
    UNIT_CHECK(UNIT_LIFTED(&t));
    UNIT_EQ_UINT(unit_soap_event_texts(&t, texts, 8), 3);
    UNIT_CHECK(texts[0].len == want.len
               && ngx_memcmp(texts[0].data, want.data, want.len) == 0);
    UNIT_EQ_STR(texts[1],
                "\xee\x80\x80" "00000000-0000-4000-8000-000000000000#0");
    UNIT_EQ_STR(texts[2], "\xee\x80\x80" "#0");

    /* an unterminated section: refused as before */
    ngx_snprintf((u_char *) xml, len,
        "<s:Envelope" NS_DECL "><s:Header>" HDR_EVENTS "</s:Header>"
        "<s:Body><w:Events><w:Event><![CDATA[%s</w:Event>"
        "</w:Events></s:Body></s:Envelope>%Z", big);

    unit_soap_utf16(&t, xml, 0, 1);
    UNIT_CHECK(t.rc == NGX_DECLINED
               && t.fault.id == NGX_WSMAN_FAULT_MALFORMED);
}


void
unit_test_soap(void)
{
    unit_pool = ngx_create_pool(4096, &unit_log);
    if (unit_pool == NULL) {
        abort();
    }

    ngx_wsman_soap_init();

    unit_test_soap_pywinrm_create();
    unit_test_soap_go_create();
    unit_test_soap_winrmcp_command();
    unit_test_soap_receive_delete();
    unit_test_soap_hostile();
    unit_test_soap_depth();
    unit_test_soap_structure();
    unit_test_soap_headers();
    unit_test_soap_timeout();
    unit_test_soap_envelope_size();
    unit_test_soap_selectors();
    unit_test_soap_options();
    unit_test_soap_nomem();
    unit_test_soap_write_head();
    unit_test_soap_prescan();
    unit_test_soap_utf16_to_utf8();
    unit_test_soap_utf16_blocks();
    unit_test_soap_utf16();
    unit_test_soap_lifted();

    ngx_destroy_pool(unit_pool);
}
