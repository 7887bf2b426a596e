/*
 * Class resolution in the resource engine (src/engine/: transfer,
 * enumeration, WQL) over a registry of test classes laid out as the CIM
 * plug-in lays out its own: a class under its DMTF URI, an alias under
 * the WMI cimv2 URI, classes only one of them has.  A resource URI, an
 * alias, and the cimv2 and cim-schema/2 wildcard URIs (ending in "*")
 * with a WQL FROM all reach the one canonical class, and its access check;
 * other spellings (case, trailing slashes, a query string, more path)
 * reach a class by its canonical identity or not at all; selector sets
 * (duplicates, more than 64, missing keys, keys that are not keys) get
 * the faults WinRM gives.
 */

#include <string.h>

#include "unit.h"
#include "unit_registry.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_enum.h"


void unit_test_engine(void);


#define CIM        NGX_WSMAN_CIM_URI
#define WMI        NGX_WSMAN_WMI_CIMV2_URI
#define WIDGET     CIM "CIM_Widget"
#define ALIAS      WMI "CIM_Widget"
#define GADGET     WMI "Win32_Gadget"
#define SINGLE     CIM "CIM_Single"

#define GET        NGX_WSMAN_ACTION_GET
#define ENUMERATE  NGX_WSMAN_ACTION_ENUMERATE

#define SID_BA     "S-1-5-32-544"
#define SID_ALICE  "S-1-5-21-1-2-3-1001"
#define ONLY_BA    "O:NSG:BAD:P(A;;GA;;;BA)"

#define DETAIL(name)  NGX_WSMAN_FAULT_DETAIL name


static ngx_pool_t  *unit_pool;


/* ------------------------------------------------------------- classes */

static ngx_int_t
unit_widget_invoke(ngx_wsman_provider_t *prov, ngx_wsman_call_t *call,
    ngx_str_t *method, ngx_int_t *return_value)
{
    if (method->len != 4 || ngx_strncmp(method->data, "Frob", 4) != 0) {
        return NGX_ABORT;
    }

    *return_value = 7;

    return NGX_OK;
}


static const char  *unit_widget_names[] = { "w1", "w2", "w3", NULL };
static const char  *unit_gadget_names[] = { "g1", "g2", NULL };
static const char  *unit_single_names[] = { "s1", NULL };
static const char  *unit_gadget_keys[] = { "Name", "Kind", NULL };

static ngx_wsman_provider_t  unit_widget = {
    .class_name = ngx_string("CIM_Widget"),
    .resource_uri = ngx_string(WIDGET),
    .key = ngx_string("Name"),
    .enumerate = unit_provider_enumerate,
    .invoke = unit_widget_invoke,
    .data = unit_widget_names
};

static ngx_wsman_provider_t  unit_widget_alias = {
    .class_name = ngx_string("CIM_Widget"),
    .resource_uri = ngx_string(ALIAS),
    .canonical = ngx_string(WIDGET),
    .key = ngx_string("Name"),
    .enumerate = unit_provider_enumerate,
    .invoke = unit_widget_invoke,
    .data = unit_widget_names
};

static ngx_wsman_provider_t  unit_gadget = {
    .class_name = ngx_string("Win32_Gadget"),
    .resource_uri = ngx_string(GADGET),
    .key = ngx_string("Name"),
    .enumerate = unit_provider_enumerate,
    .data = unit_gadget_names,
    .id_keys = unit_gadget_keys
};

static ngx_wsman_provider_t  unit_single = {
    .class_name = ngx_string("CIM_Single"),
    .resource_uri = ngx_string(SINGLE),
    .key = ngx_string("Name"),
    .enumerate = unit_provider_enumerate,
    .data = unit_single_names,
    .singleton = 1
};


/* the CIM plug-in's two services: everything is the engine's */
static ngx_wsman_plugin_t  unit_cim = {
    ngx_string("cim"),
    ngx_string("http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2"),
    ngx_wsman_enum_get, NULL, NULL, NULL, ngx_wsman_enum_enumerate,
    ngx_wsman_enum_invoke, 0, 0, NULL, NULL
};

static ngx_wsman_plugin_t  unit_wmi = {
    ngx_string("wmi"),
    ngx_string("http://schemas.microsoft.com/wbem/wsman/1/wmi"),
    ngx_wsman_enum_get, NULL, NULL, NULL, ngx_wsman_enum_enumerate,
    ngx_wsman_enum_invoke, 0, 0, NULL, NULL
};

static ngx_wsman_plugin_t    *unit_services[] = {
    &unit_cim, &unit_wmi, NULL
};

/* the alias is declared before its class: order must not matter */
static ngx_wsman_provider_t  *unit_providers[] = {
    &unit_widget_alias, &unit_gadget, &unit_widget, &unit_single, NULL
};

static ngx_wsman_plugin_module_t   unit_module = {
    .services = unit_services, .providers = unit_providers
};

static ngx_wsman_plugin_module_t  *unit_plugins[] = { &unit_module, NULL };


/* ------------------------------------------------------------- helpers */

typedef struct {
    ngx_int_t            parsed;
    ngx_int_t            rc;
    ngx_uint_t           fault;
    ngx_str_t            detail;
    u_char              *body;
    unit_call_t         *c;
} unit_result_t;


static unit_result_t
unit_run(ngx_wsman_loc_conf_t *lcf, const char *sids, const char *action,
    const char *uri, const char *headers, const char *body)
{
    unit_result_t  r;

    ngx_memzero(&r, sizeof(r));

    r.c = unit_call(unit_pool, lcf, "alice", sids, action, uri, headers,
                    body);

    if (!UNIT_CHECK(r.c != NULL)) {
        r.rc = NGX_ERROR;
        return r;
    }

    r.parsed = r.c->parsed;

    /* a request the parser refuses never reaches the dispatcher */
    if (r.parsed == NGX_OK) {
        r.rc = ngx_wsman_dispatch(&r.c->call);
    }

    r.fault = r.c->call.fault.id;
    r.detail = r.c->call.fault.detail;
    r.body = unit_call_body(r.c);

    return r;
}


static ngx_uint_t
unit_has(unit_result_t *r, const char *s)
{
    return r->body && strstr((char *) r->body, s) != NULL;
}


#define UNIT_OK(r)                                                          \
    (UNIT_CHECK((r).parsed == NGX_OK && (r).rc == NGX_OK),                  \
     UNIT_EQ_UINT((r).fault, NGX_WSMAN_FAULT_NONE))

#define UNIT_FAULT(r, id)                                                   \
    (UNIT_CHECK((r).rc == NGX_OK), UNIT_EQ_UINT((r).fault, id))


/* an optimized Enumerate (items in the answer) with a WQL filter */
static const char *
unit_wql_body(const char *query)
{
    u_char  *p, *end;
    size_t   len;

    len = 512 + strlen(query);
    p = ngx_pnalloc(unit_pool, len);

    end = ngx_snprintf(p, len - 1,
                       "<n:Enumerate><w:OptimizeEnumeration/>"
                       "<w:MaxElements>10</w:MaxElements>"
                       "<w:Filter Dialect=\"http://schemas.microsoft.com/"
                       "wbem/wsman/1/WQL\">%s</w:Filter></n:Enumerate>",
                       query);
    *end = '\0';

    return (char *) p;
}


#define ENUM_ALL                                                            \
    "<n:Enumerate><w:OptimizeEnumeration/>"                                 \
    "<w:MaxElements>10</w:MaxElements></n:Enumerate>"


/* n selectors: Name=value, then S1..S(n-1) */
static const char *
unit_selectors(const char *value, ngx_uint_t n)
{
    u_char      *p, *end, *last;
    size_t       len;
    ngx_uint_t   i;

    len = 64 + n * 64;
    p = ngx_pnalloc(unit_pool, len);
    last = p + len - 1;

    end = ngx_snprintf(p, last - p, "<w:SelectorSet>"
                       "<w:Selector Name=\"Name\">%s</w:Selector>", value);

    for (i = 1; i < n; i++) {
        end = ngx_snprintf(end, last - end,
                           "<w:Selector Name=\"S%ui\">%ui</w:Selector>",
                           i, i);
    }

    end = ngx_snprintf(end, last - end, "</w:SelectorSet>");
    *end = '\0';

    return (char *) p;
}


#define SELECTORS(s)  "<w:SelectorSet>" s "</w:SelectorSet>"
#define SEL(name, value)                                                    \
    "<w:Selector Name=\"" name "\">" value "</w:Selector>"


/* --------------------------------------------------------------- tests */

/* the canonical URI of the class a URI names, "" for none */
static const char *
unit_canonical(const char *uri)
{
    ngx_str_t              u, *c;
    ngx_wsman_provider_t  *prov;

    u.data = (u_char *) uri;
    u.len = strlen(uri);

    prov = ngx_wsman_enum_provider(&u);
    if (prov == NULL) {
        return "";
    }

    c = ngx_wsman_enum_canonical(prov);

    /* canonical URIs are string literals here: NUL-terminated */
    return (char *) c->data;
}


static void
unit_test_engine_resolve(void)
{
    ngx_str_t              uris[NGX_WSMAN_ACCESS_MAX_URIS];
    ngx_str_t              u;
    ngx_uint_t             n;

    /* a class URI, its alias: one canonical class */
    UNIT_EQ_CSTR(unit_canonical(WIDGET), WIDGET);
    UNIT_EQ_CSTR(unit_canonical(ALIAS), WIDGET);
    UNIT_EQ_CSTR(unit_canonical(GADGET), GADGET);

    ngx_str_set(&u, ALIAS);
    UNIT_CHECK(ngx_wsman_enum_provider(&u) == &unit_widget_alias);
    ngx_str_set(&u, WIDGET);
    UNIT_CHECK(ngx_wsman_enum_provider(&u) == &unit_widget);

    /* spellings Windows takes for the same URI: any case, trailing
     * slashes */
    UNIT_EQ_CSTR(unit_canonical("HTTP://SCHEMAS.DMTF.ORG/WBEM/WSCIM/1/"
                                "CIM-SCHEMA/2/cim_widget"), WIDGET);
    UNIT_EQ_CSTR(unit_canonical(WIDGET "/"), WIDGET);
    UNIT_EQ_CSTR(unit_canonical(ALIAS "///"), WIDGET);
    UNIT_EQ_CSTR(unit_canonical("http://schemas.microsoft.com/wbem/wsman/1/"
                                "WMI/ROOT/CIMV2/Cim_Widget/"), WIDGET);

    /* anything else is no class, not a near one */
    UNIT_EQ_CSTR(unit_canonical(WIDGET "?x=1"), "");
    UNIT_EQ_CSTR(unit_canonical(WIDGET "/x"), "");
    UNIT_EQ_CSTR(unit_canonical(WIDGET "X"), "");
    UNIT_EQ_CSTR(unit_canonical(CIM "CIM_Widge"), "");
    UNIT_EQ_CSTR(unit_canonical(CIM "%43IM_Widget"), "");
    UNIT_EQ_CSTR(unit_canonical(" " WIDGET), "");
    UNIT_EQ_CSTR(unit_canonical(CIM "Win32_Gadget"), "");
    UNIT_EQ_CSTR(unit_canonical(CIM), "");
    UNIT_EQ_CSTR(unit_canonical(WMI "*"), "");
    UNIT_EQ_CSTR(unit_canonical("///"), "");
    UNIT_EQ_CSTR(unit_canonical(""), "");

    /* every URI of a class, the canonical first, whichever was asked */
    n = ngx_wsman_enum_class_uris(&unit_widget_alias, uris,
                                  NGX_WSMAN_ACCESS_MAX_URIS);
    UNIT_EQ_UINT(n, 2);
    UNIT_EQ_STR(uris[0], WIDGET);
    UNIT_EQ_STR(uris[1], ALIAS);

    n = ngx_wsman_enum_class_uris(&unit_widget, uris,
                                  NGX_WSMAN_ACCESS_MAX_URIS);
    UNIT_EQ_UINT(n, 2);
    UNIT_EQ_STR(uris[0], WIDGET);
    UNIT_EQ_STR(uris[1], ALIAS);

    n = ngx_wsman_enum_class_uris(&unit_gadget, uris,
                                  NGX_WSMAN_ACCESS_MAX_URIS);
    UNIT_EQ_UINT(n, 1);

    n = ngx_wsman_enum_class_uris(&unit_widget, uris, 1);
    UNIT_EQ_UINT(n, 1);

    /* nginx -t: a wsman_resource_sddl on a wildcard URI protects the
     * classes of its namespace; one on a namespace without any, nothing */
    ngx_str_set(&u, WMI "*");
    UNIT_CHECK(ngx_wsman_dispatch_serves(&u));
    ngx_str_set(&u, CIM "*");
    UNIT_CHECK(ngx_wsman_dispatch_serves(&u));
    ngx_str_set(&u, "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/"
                    "other/*");
    UNIT_CHECK(!ngx_wsman_dispatch_serves(&u));
    ngx_str_set(&u, CIM "CIM_Widge");
    UNIT_CHECK(!ngx_wsman_dispatch_serves(&u));
}


static void
unit_test_engine_wildcard(void)
{
    unit_result_t         r;
    ngx_wsman_loc_conf_t  lcf, locked, locked_alias;

    unit_loc_conf(unit_pool, &lcf, NULL);

    /* the WMI wildcard and the DMTF one, with the class in WQL FROM */
    r = unit_run(&lcf, NULL, ENUMERATE, WMI "*", NULL,
                 unit_wql_body("SELECT * FROM CIM_Widget"));
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">w1<") && unit_has(&r, ">w3<"));
    UNIT_CHECK(unit_has(&r, "EndOfSequence"));

    r = unit_run(&lcf, NULL, ENUMERATE, CIM "*", NULL,
                 unit_wql_body("SELECT * FROM CIM_Widget"));
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">w2<"));

    r = unit_run(&lcf, NULL, ENUMERATE, WMI "*", NULL,
                 unit_wql_body("select * from cim_widget"));
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">w2<"));

    r = unit_run(&lcf, NULL, ENUMERATE, WMI "*", NULL,
                 unit_wql_body("SELECT * FROM Win32_Gadget"));
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">g1<") && !unit_has(&r, ">w1<"));

    /* a class the namespace does not have */
    r = unit_run(&lcf, NULL, ENUMERATE, CIM "*", NULL,
                 unit_wql_body("SELECT * FROM Win32_Gadget"));
    UNIT_FAULT(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);

    r = unit_run(&lcf, NULL, ENUMERATE, WMI "*", NULL,
                 unit_wql_body("SELECT * FROM Nothing_Here"));
    UNIT_FAULT(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);

    /* FROM is a class name, never more path */
    r = unit_run(&lcf, NULL, ENUMERATE, WMI "*", NULL,
                 unit_wql_body("SELECT * FROM x/../CIM_Widget"));
    UNIT_CHECK(r.fault != NGX_WSMAN_FAULT_NONE && !unit_has(&r, ">w1<"));

    /* the wildcard is a namespace, not the start of a class name: the
     * FROM must name the class whole */
    r = unit_run(&lcf, NULL, ENUMERATE, CIM "CIM_*", NULL,
                 unit_wql_body("SELECT * FROM Widget"));
    UNIT_CHECK(r.fault != NGX_WSMAN_FAULT_NONE && !unit_has(&r, ">w1<"));

    /* another spelling of a class URI that is not the class: nothing */
    r = unit_run(&lcf, NULL, GET, WIDGET "?Name=w1",
                 SELECTORS(SEL("Name", "w1")), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);
    UNIT_CHECK(!unit_has(&r, ">w1<"));

    r = unit_run(&lcf, NULL, ENUMERATE, WIDGET "/more", NULL, ENUM_ALL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);

    /* a wildcard without a WQL FROM names nothing */
    r = unit_run(&lcf, NULL, ENUMERATE, WMI "*", NULL, ENUM_ALL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);

    /* on a class URI, FROM must name that class */
    r = unit_run(&lcf, NULL, ENUMERATE, WIDGET, NULL,
                 unit_wql_body("SELECT * FROM Win32_Gadget"));
    UNIT_FAULT(r, NGX_WSMAN_FAULT_CANNOT_PROCESS_FILTER);
    UNIT_CHECK(!unit_has(&r, ">g1<"));

    r = unit_run(&lcf, NULL, ENUMERATE, ALIAS, NULL,
                 unit_wql_body("SELECT * FROM CIM_WIDGET"));
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">w1<"));

    /*
     * The class is locked by its canonical URI: whichever way a request
     * reaches it (alias, wildcard and FROM, another case), the lock
     * holds; other classes of the namespace stay open.
     */
    unit_loc_conf(unit_pool, &locked, NULL);
    unit_access_resource(unit_pool, &locked, WIDGET, ONLY_BA);

    unit_log_reset();
    r = unit_run(&locked, SID_ALICE, ENUMERATE, WMI "*", NULL,
                 unit_wql_body("SELECT * FROM CIM_Widget"));
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    UNIT_CHECK(!unit_has(&r, ">w1<"));
    UNIT_CHECK(unit_log_contains("class CIM_Widget (" WIDGET ")"));

    r = unit_run(&locked, SID_ALICE, ENUMERATE, CIM "*", NULL,
                 unit_wql_body("SELECT * FROM cim_WIDGET"));
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACCESS_DENIED);

    r = unit_run(&locked, SID_ALICE, ENUMERATE, ALIAS "/", NULL, ENUM_ALL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACCESS_DENIED);

    r = unit_run(&locked, SID_ALICE, GET, "http://schemas.microsoft.com/"
                 "wbem/wsman/1/wmi/root/CIMV2/cim_widget", SELECTORS(
                 SEL("Name", "w1")), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    UNIT_CHECK(!unit_has(&r, ">w1<"));

    r = unit_run(&locked, SID_ALICE, ALIAS "/Frob", ALIAS,
                 SELECTORS(SEL("Name", "w1")), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACCESS_DENIED);

    r = unit_run(&locked, SID_ALICE, ENUMERATE, WMI "*", NULL,
                 unit_wql_body("SELECT * FROM Win32_Gadget"));
    UNIT_OK(r);

    r = unit_run(&locked, SID_BA, ENUMERATE, WMI "*", NULL,
                 unit_wql_body("SELECT * FROM CIM_Widget"));
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">w1<"));

    /* a lock set on the alias holds the class under its canonical URI
     * and the wildcard too */
    unit_loc_conf(unit_pool, &locked_alias, NULL);
    unit_access_resource(unit_pool, &locked_alias, ALIAS, ONLY_BA);

    r = unit_run(&locked_alias, SID_ALICE, ENUMERATE, WIDGET, NULL,
                 ENUM_ALL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACCESS_DENIED);

    r = unit_run(&locked_alias, SID_ALICE, ENUMERATE, CIM "*", NULL,
                 unit_wql_body("SELECT * FROM CIM_Widget"));
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACCESS_DENIED);

    UNIT_EQ_UINT(unit_enum_zone_count(), 0);
}


static void
unit_test_engine_selectors(void)
{
    unit_result_t         r;
    ngx_wsman_loc_conf_t  lcf;

    unit_loc_conf(unit_pool, &lcf, NULL);

    r = unit_run(&lcf, NULL, GET, WIDGET, SELECTORS(SEL("Name", "w2")),
                 NULL);
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">w2<") && !unit_has(&r, ">w1<"));
    UNIT_EQ_STR(r.c->call.action, NGX_WSMAN_NS_WXF "/GetResponse");

    /* selector names are case-insensitive, as on Windows */
    r = unit_run(&lcf, NULL, GET, ALIAS, SELECTORS(SEL("NAME", "w3")),
                 NULL);
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">w3<"));

    /* values are not */
    r = unit_run(&lcf, NULL, GET, WIDGET, SELECTORS(SEL("Name", "W2")),
                 NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);

    /* no key: not one instance */
    r = unit_run(&lcf, NULL, GET, WIDGET, NULL, NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_STR(r.detail, DETAIL("InsufficientSelectors"));

    r = unit_run(&lcf, NULL, GET, WIDGET, SELECTORS(SEL("Kind", "k-w1")),
                 NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_STR(r.detail, DETAIL("InsufficientSelectors"));

    /* every identifying key of a class that has several */
    r = unit_run(&lcf, NULL, GET, GADGET, SELECTORS(SEL("Name", "g1")),
                 NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_STR(r.detail, DETAIL("InsufficientSelectors"));
    UNIT_CHECK(!unit_has(&r, ">g1<"));

    r = unit_run(&lcf, NULL, GET, GADGET,
                 SELECTORS(SEL("Kind", "k-g1") SEL("Name", "g1")), NULL);
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">g1<"));

    r = unit_run(&lcf, NULL, GET, GADGET,
                 SELECTORS(SEL("Name", "g1") SEL("Kind", "k-g2")), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);

    /* a singleton needs none */
    r = unit_run(&lcf, NULL, GET, SINGLE, NULL, NULL);
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">s1<"));

    /* a selector that is no key of the class, or no property at all */
    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w1") SEL("Owner", "CIM_Widget")),
                 NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_STR(r.detail, DETAIL("UnexpectedSelectors"));

    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w1") SEL("Bogus", "1")), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_STR(r.detail, DETAIL("UnexpectedSelectors"));
    UNIT_CHECK(!unit_has(&r, ">w1<"));

    /* the same selector twice, in any case: refused by the parser, the
     * dispatcher never sees it */
    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w1") SEL("Name", "w2")), NULL);
    UNIT_CHECK(r.parsed != NGX_OK);
    UNIT_EQ_UINT(r.fault, NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_STR(r.detail, DETAIL("DuplicateSelectors"));

    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w1") SEL("nAME", "w1")), NULL);
    UNIT_CHECK(r.parsed != NGX_OK);
    UNIT_EQ_STR(r.detail, DETAIL("DuplicateSelectors"));

    /* 64 selectors are parsed (and the 63 extra ones are not keys);
     * 65 are an encoding limit */
    r = unit_run(&lcf, NULL, GET, WIDGET, unit_selectors("w1", 64), NULL);
    UNIT_CHECK(r.parsed == NGX_OK);
    UNIT_EQ_UINT(r.c->req.selectors.nelts, 64);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_STR(r.detail, DETAIL("UnexpectedSelectors"));

    r = unit_run(&lcf, NULL, GET, WIDGET, unit_selectors("w1", 65), NULL);
    UNIT_CHECK(r.parsed != NGX_OK);
    UNIT_EQ_UINT(r.fault, NGX_WSMAN_FAULT_ENCODING_LIMIT);
    UNIT_EQ_STR(r.detail, DETAIL("SelectorLimit"));

    r = unit_run(&lcf, NULL, GET, WIDGET, unit_selectors("w1", 1000), NULL);
    UNIT_CHECK(r.parsed != NGX_OK);
    UNIT_EQ_STR(r.detail, DETAIL("SelectorLimit"));

    /* a selector without a name, an element that is no selector */
    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS("<w:Selector>w1</w:Selector>"), NULL);
    UNIT_CHECK(r.parsed != NGX_OK);
    UNIT_EQ_UINT(r.fault, NGX_WSMAN_FAULT_INVALID_SELECTORS);

    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w1") "<w:Option Name=\"x\"/>"),
                 NULL);
    UNIT_CHECK(r.parsed != NGX_OK);
    UNIT_EQ_UINT(r.fault, NGX_WSMAN_FAULT_INVALID_SELECTORS);

    /* custom actions: the class's own URI and a method name, with the
     * selectors of one instance */
    r = unit_run(&lcf, NULL, WIDGET "/Frob", WIDGET,
                 SELECTORS(SEL("Name", "w1")), NULL);
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, "<p:ReturnValue>7</p:ReturnValue>"));
    UNIT_EQ_STR(r.c->call.action, WIDGET "/FrobResponse");

    r = unit_run(&lcf, NULL, WIDGET "/Frob", WIDGET, NULL, NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_INVALID_SELECTORS);
    UNIT_EQ_STR(r.detail, DETAIL("InsufficientSelectors"));

    r = unit_run(&lcf, NULL, GADGET "/Frob", WIDGET,
                 SELECTORS(SEL("Name", "w1")), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);

    r = unit_run(&lcf, NULL, WIDGET "/Fr-ob", WIDGET,
                 SELECTORS(SEL("Name", "w1")), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);

    r = unit_run(&lcf, NULL, WIDGET "/Other", WIDGET,
                 SELECTORS(SEL("Name", "w1")), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);

    /* a class without custom actions */
    r = unit_run(&lcf, NULL, GADGET "/Frob", GADGET,
                 SELECTORS(SEL("Name", "g1") SEL("Kind", "k-g1")), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);
}


#define FRAGMENT(expr)                                                      \
    "<w:FragmentTransfer s:mustUnderstand=\"true\">" expr                  \
    "</w:FragmentTransfer>"


/* w:FragmentTransfer: Get honours it, everything else refuses it */
static void
unit_test_engine_fragment(void)
{
    unit_result_t         r;
    ngx_wsman_loc_conf_t  lcf, locked;

    unit_loc_conf(unit_pool, &lcf, NULL);

    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w2")) FRAGMENT("Name"), NULL);
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, "<w:XmlFragment>") && unit_has(&r, ">w2<"));
    UNIT_CHECK(!unit_has(&r, "Owner"));

    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w2")) FRAGMENT("CIM_Widget/Kind"),
                 NULL);
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, ">k-w2<") && !unit_has(&r, ">w2<"));

    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w2")) FRAGMENT("Name/text()"), NULL);
    UNIT_OK(r);
    UNIT_CHECK(unit_has(&r, "<w:XmlFragment>w2</w:XmlFragment>"));

    /* more XPath than a path of names */
    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w2")) FRAGMENT("Name[1]"), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_UNSUPPORTED_FEATURE);
    UNIT_EQ_STR(r.detail, DETAIL("FragmentLevelAccess"));

    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w2")) FRAGMENT("//Name"), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_UNSUPPORTED_FEATURE);

    r = unit_run(&lcf, NULL, GET, WIDGET,
                 SELECTORS(SEL("Name", "w2")) FRAGMENT("Nothing"), NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_INVALID_PARAMETER);

    r = unit_run(&lcf, NULL, GET, WIDGET, SELECTORS(SEL("Name", "w2"))
                 "<w:FragmentTransfer Dialect=\"urn:other\">Name"
                 "</w:FragmentTransfer>", NULL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_UNSUPPORTED_FEATURE);
    UNIT_EQ_STR(r.detail, DETAIL("FragmentLevelAccess"));

    /* only Get: an Enumerate would hand out whole objects */
    r = unit_run(&lcf, NULL, ENUMERATE, WIDGET, FRAGMENT("Name"), ENUM_ALL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_UNSUPPORTED_FEATURE);
    UNIT_CHECK(!unit_has(&r, ">w1<"));
    UNIT_EQ_UINT(unit_enum_zone_count(), 0);

    /* the access check comes first: a locked class says only that */
    unit_loc_conf(unit_pool, &locked, NULL);
    unit_access_resource(unit_pool, &locked, WIDGET, ONLY_BA);

    r = unit_run(&locked, SID_ALICE, ENUMERATE, ALIAS, FRAGMENT("Name"),
                 ENUM_ALL);
    UNIT_FAULT(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
}


void
unit_test_engine(void)
{
    unit_pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(unit_pool != NULL)) {
        return;
    }

    unit_time_set(4000000);
    unit_registry_set(unit_plugins);

    if (UNIT_CHECK(unit_enum_zone_init(unit_pool) == NGX_OK)) {
        unit_test_engine_resolve();
        unit_test_engine_wildcard();
        unit_test_engine_selectors();
        unit_test_engine_fragment();
    }

    unit_registry_done();
    ngx_destroy_pool(unit_pool);
    unit_pool = NULL;
}
