/*
 * The access decision (src/access/ngx_wsman_access.c) with the real SDDL
 * engine: which SDDL holds a resource (longest wsman_resource_sddl prefix
 * over every URI of a class, else RootSDDL), which right an action needs,
 * certificate mappings limited to a URI prefix, and the fault and log
 * line of a denial.
 *
 * The class is declared as a plug-in declares it, through the registry
 * (unit_registry.c), and the real engine resolves its URIs.
 */

#include <string.h>

#include "unit.h"
#include "unit_registry.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_enum.h"


void unit_test_access(void);


#define SID_BA   "S-1-5-32-544"     /* BUILTIN\Administrators */
#define SID_IU   "S-1-5-4"          /* INTERACTIVE */
#define SID_U    "S-1-5-21-1-2-3-1001"

#define URI_CANON  "http://x.test/canon/Widget"
#define URI_ALIAS  "http://x.test/alias/Widget"


static ngx_pool_t            *unit_pool;
static ngx_wsman_provider_t   unit_widget;


/* the class, as its plug-in declares it: one provider per URI, the alias
 * naming the canonical URI; the real engine and registry resolve them */
static ngx_wsman_provider_t        unit_widget_canon;
static ngx_wsman_provider_t       *unit_widget_providers[] = {
    &unit_widget_canon, &unit_widget, NULL
};
static ngx_wsman_plugin_module_t   unit_widget_plugin = {
    .providers = unit_widget_providers
};
static ngx_wsman_plugin_module_t  *unit_widget_plugins[] = {
    &unit_widget_plugin, NULL
};


/* ------------------------------------------------------------- fixtures */

static ngx_wsman_sddl_t *
unit_access_sddl(const char *text)
{
    ngx_str_t          s, error;
    ngx_wsman_sddl_t  *sd;

    s.data = (u_char *) text;
    s.len = strlen(text);
    sd = NULL;

    if (ngx_wsman_sddl_parse(unit_pool, &s, &sd, &error) != NGX_OK) {
        UNIT_CHECK(0 && "test SDDL parses");
        return NULL;
    }

    return sd;
}


static void
unit_access_prefix(ngx_wsman_loc_conf_t *lcf, const char *prefix,
    const char *sddl)
{
    ngx_wsman_resource_sddl_t  *rs;

    if (lcf->resource_sddls == NULL) {
        lcf->resource_sddls = ngx_palloc(unit_pool, sizeof(ngx_array_t));
        ngx_array_init(lcf->resource_sddls, unit_pool, 4,
                       sizeof(ngx_wsman_resource_sddl_t));
    }

    rs = ngx_array_push(lcf->resource_sddls);
    rs->prefix.data = (u_char *) prefix;
    rs->prefix.len = strlen(prefix);
    ngx_str_null(&rs->text);
    rs->sd = unit_access_sddl(sddl);
}


typedef struct {
    ngx_wsman_call_t       call;
    ngx_wsman_request_t    req;
    ngx_wsman_identity_t   identity;
    ngx_array_t            sids;
} unit_access_t;


static ngx_int_t
unit_access(ngx_wsman_loc_conf_t *lcf, ngx_wsman_plugin_t *plugin,
    const char *sid, const char *action, const char *uri,
    const char *cert_prefix, ngx_uint_t *fault)
{
    ngx_int_t         rc;
    unit_access_t    *a;
    ngx_wsman_sid_t  *s;

    a = ngx_pcalloc(unit_pool, sizeof(unit_access_t));

    ngx_array_init(&a->sids, unit_pool, 2, sizeof(ngx_wsman_sid_t));
    s = ngx_array_push(&a->sids);
    UNIT_CHECK(ngx_wsman_sid_parse((u_char *) sid, strlen(sid), s)
               == NGX_OK);

    ngx_str_set(&a->identity.user, "tester");
    a->identity.sids = &a->sids;
    a->identity.sids_conf = lcf;

    if (cert_prefix) {
        a->identity.uri_prefix.data = (u_char *) cert_prefix;
        a->identity.uri_prefix.len = strlen(cert_prefix);
    }

    a->req.action.data = (u_char *) action;
    a->req.action.len = strlen(action);
    a->req.resource_uri.data = (u_char *) uri;
    a->req.resource_uri.len = strlen(uri);

    a->call.pool = unit_pool;
    a->call.log = &unit_log;
    a->call.req = &a->req;
    a->call.identity = &a->identity;
    a->call.conf = lcf;
    a->call.plugin = plugin;

    /* as the dispatcher resolves it */
    a->call.provider = ngx_wsman_enum_provider(&a->req.resource_uri);

    rc = ngx_wsman_access_check(&a->call);
    *fault = a->call.fault.id;

    return rc;
}


#define GET     NGX_WSMAN_ACTION_GET
#define PUT     NGX_WSMAN_ACTION_PUT
#define ENUM    NGX_WSMAN_NS_WSEN "/Enumerate"
#define CUSTOM  "http://x.test/method/Frob"


/* ---------------------------------------------------------------- tests */

static void
unit_test_access_root(void)
{
    ngx_uint_t            fault;
    ngx_wsman_loc_conf_t  lcf;

    ngx_memzero(&lcf, sizeof(lcf));
    lcf.root_sd = unit_access_sddl("O:NSG:BAD:P(A;;GA;;;BA)");

    unit_log_reset();
    UNIT_CHECK(unit_access(&lcf, NULL, SID_BA, GET, "http://x.test/a",
                           NULL, &fault) == NGX_OK);
    UNIT_EQ_UINT(fault, NGX_WSMAN_FAULT_NONE);
    UNIT_CHECK(!unit_log_contains("access denied"));

    /* denied: the fault, the "fault set" result, an audit line */
    unit_log_reset();
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, GET, "http://x.test/a",
                           NULL, &fault) == NGX_WSMAN_FAULTED);
    UNIT_EQ_UINT(fault, NGX_WSMAN_FAULT_ACCESS_DENIED);
    UNIT_CHECK(unit_log_contains("access denied"));
    UNIT_CHECK(unit_log_contains("needs GR"));

    /* no SDDL at all (none configured) denies */
    lcf.root_sd = NULL;
    UNIT_CHECK(unit_access(&lcf, NULL, SID_BA, GET, "http://x.test/a",
                           NULL, &fault) == NGX_WSMAN_FAULTED);
}


static void
unit_test_access_rights(void)
{
    ngx_uint_t            fault;
    ngx_wsman_plugin_t    shell;
    ngx_wsman_loc_conf_t  lcf;

    ngx_memzero(&lcf, sizeof(lcf));
    lcf.root_sd = unit_access_sddl("O:NSG:BAD:P(A;;GR;;;IU)");

    /* reads need GR */
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, GET, "http://x.test/a",
                           NULL, &fault) == NGX_OK);
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, ENUM, "http://x.test/a",
                           NULL, &fault) == NGX_OK);

    /* changes need GW, anything else GX */
    unit_log_reset();
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, PUT, "http://x.test/a",
                           NULL, &fault) == NGX_WSMAN_FAULTED);
    UNIT_CHECK(unit_log_contains("needs GW"));

    unit_log_reset();
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, CUSTOM, "http://x.test/a",
                           NULL, &fault) == NGX_WSMAN_FAULTED);
    UNIT_CHECK(unit_log_contains("needs GX"));

    /* an execute-only plug-in (shells): even its Get is GX */
    ngx_memzero(&shell, sizeof(shell));
    shell.execute_only = 1;

    unit_log_reset();
    UNIT_CHECK(unit_access(&lcf, &shell, SID_IU, GET, "http://x.test/a",
                           NULL, &fault) == NGX_WSMAN_FAULTED);
    UNIT_CHECK(unit_log_contains("needs GX"));
}


static void
unit_test_access_prefixes(void)
{
    ngx_uint_t            fault;
    ngx_wsman_loc_conf_t  lcf;

    ngx_memzero(&lcf, sizeof(lcf));
    lcf.root_sd = unit_access_sddl("O:NSG:BAD:P(A;;GA;;;BA)");

    unit_access_prefix(&lcf, "http://x.test/open/", "O:NSG:BAD:P(A;;GA;;;IU)");
    unit_access_prefix(&lcf, "http://x.test/open/locked",
                       "O:NSG:BAD:P(A;;GA;;;BA)");

    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, GET, "http://x.test/open",
                           NULL, &fault) == NGX_OK);
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, GET, "http://x.test/open/a",
                           NULL, &fault) == NGX_OK);
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, GET,
                           "HTTP://X.TEST/OPEN/a?x=1", NULL, &fault)
               == NGX_OK);

    /* whole path parts only: "openly" is not under "open" */
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, GET, "http://x.test/openly",
                           NULL, &fault) == NGX_WSMAN_FAULTED);

    /* the longest prefix wins, whichever order they were given in */
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, GET,
                           "http://x.test/open/locked/a", NULL, &fault)
               == NGX_WSMAN_FAULTED);
    UNIT_CHECK(unit_access(&lcf, NULL, SID_BA, GET,
                           "http://x.test/open/locked/a", NULL, &fault)
               == NGX_OK);
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, GET,
                           "http://x.test/open/lockedout", NULL, &fault)
               == NGX_OK);

    UNIT_CHECK(ngx_wsman_access_covers(&(ngx_str_t) ngx_string("///"),
                                       &(ngx_str_t) ngx_string("/a"))
               == 0);
}


static void
unit_test_access_class(void)
{
    ngx_uint_t            fault;
    ngx_wsman_loc_conf_t  lcf;

    ngx_memzero(&lcf, sizeof(lcf));
    lcf.root_sd = unit_access_sddl("O:NSG:BAD:P(A;;GA;;;BA)");

    /* an SDDL set on the class's canonical URI holds under its alias */
    unit_access_prefix(&lcf, URI_CANON, "O:NSG:BAD:P(A;;GR;;;" SID_U ")");

    UNIT_CHECK(unit_access(&lcf, NULL, SID_U, GET, URI_ALIAS, NULL, &fault)
               == NGX_OK);
    UNIT_CHECK(unit_access(&lcf, NULL, SID_U, GET, URI_CANON, NULL, &fault)
               == NGX_OK);
    UNIT_CHECK(unit_access(&lcf, NULL, SID_IU, GET, URI_ALIAS, NULL,
                           &fault) == NGX_WSMAN_FAULTED);

    /* a denial names the class */
    unit_log_reset();
    UNIT_CHECK(unit_access(&lcf, NULL, SID_U, PUT, URI_ALIAS, NULL, &fault)
               == NGX_WSMAN_FAULTED);
    UNIT_CHECK(unit_log_contains("class Widget (" URI_CANON ")"));
}


/* is uri in the uri= scope of a certificate mapping? */
static ngx_uint_t
unit_cert_scope(ngx_wsman_loc_conf_t *lcf, const char *scope,
    const char *uri)
{
    ngx_uint_t  fault;

    return unit_access(lcf, NULL, SID_BA, GET, uri, scope, &fault) == NGX_OK;
}


static void
unit_test_access_cert_prefix(void)
{
    ngx_uint_t            fault;
    ngx_wsman_loc_conf_t  lcf;

    ngx_memzero(&lcf, sizeof(lcf));
    lcf.root_sd = unit_access_sddl("O:NSG:BAD:P(A;;GA;;;BA)");

    /* a certificate mapping limited to a URI prefix: the SDDL would
     * allow, the mapping does not */
    UNIT_CHECK(unit_access(&lcf, NULL, SID_BA, GET, "http://x.test/only/a",
                           "http://x.test/only", &fault) == NGX_OK);

    unit_log_reset();
    UNIT_CHECK(unit_access(&lcf, NULL, SID_BA, GET, "http://x.test/other",
                           "http://x.test/only", &fault)
               == NGX_WSMAN_FAULTED);
    UNIT_EQ_UINT(fault, NGX_WSMAN_FAULT_ACCESS_DENIED);
    UNIT_CHECK(unit_log_contains("certificate mapping"));

    /* and for a class: the URI the request names must be under it */
    UNIT_CHECK(unit_access(&lcf, NULL, SID_BA, GET, URI_CANON,
                           "http://x.test/canon", &fault) == NGX_OK);
    UNIT_CHECK(unit_access(&lcf, NULL, SID_BA, GET, URI_ALIAS,
                           "http://x.test/canon", &fault)
               == NGX_WSMAN_FAULTED);
    UNIT_CHECK(unit_access(&lcf, NULL, SID_BA, GET, URI_ALIAS,
                           "http://x.test/elsewhere", &fault)
               == NGX_WSMAN_FAULTED);

    /* uri= follows the rule of wsman_resource_sddl prefixes: whole path
     * parts, case-insensitively, trailing slashes ignored */
    UNIT_CHECK(unit_cert_scope(&lcf, "", "http://x/anything"));
    UNIT_CHECK(unit_cert_scope(&lcf, "http://x/wsman/a", "http://x/wsman/a"));
    UNIT_CHECK(unit_cert_scope(&lcf, "http://x/wsman/a",
                               "http://x/wsman/a/b"));
    UNIT_CHECK(unit_cert_scope(&lcf, "http://x/wsman/a/",
                               "http://x/wsman/a/b"));
    UNIT_CHECK(unit_cert_scope(&lcf, "http://x/wsman/a",
                               "http://x/wsman/a?x=1"));
    UNIT_CHECK(!unit_cert_scope(&lcf, "http://x/wsman/a",
                                "http://x/wsman/abc"));
    UNIT_CHECK(!unit_cert_scope(&lcf, "http://x/wsman/a",
                                "http://x/wsman/a_"));
    UNIT_CHECK(!unit_cert_scope(&lcf, "http://x/wsman/a", "http://x/wsman/"));
    UNIT_CHECK(unit_cert_scope(&lcf, "http://x/wsman/a",
                               "HTTP://x/WSMAN/A/b"));
    UNIT_CHECK(!unit_cert_scope(&lcf, "http://x/wsman/a",
                                "HTTP://x/WSMAN/AB"));
    UNIT_CHECK(!unit_cert_scope(&lcf, "http://x/wsman/a", ""));
    UNIT_CHECK(!unit_cert_scope(&lcf, "///", "/a"));

    /* trailing slashes on either side do not matter: a class is the
     * same class with or without one */
    UNIT_CHECK(unit_cert_scope(&lcf, "http://x/wsman/a/", "http://x/wsman/a"));
    UNIT_CHECK(unit_cert_scope(&lcf, "http://x/wsman/a", "http://x/wsman/a/"));
    UNIT_CHECK(unit_cert_scope(&lcf, URI_CANON "/", URI_CANON));
    UNIT_CHECK(unit_cert_scope(&lcf, URI_CANON, URI_CANON "/"));
    UNIT_CHECK(!unit_cert_scope(&lcf, URI_CANON "/", URI_ALIAS "/"));
}


void
unit_test_access(void)
{
    unit_pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(unit_pool != NULL)) {
        return;
    }

    ngx_str_set(&unit_widget_canon.class_name, "Widget");
    ngx_str_set(&unit_widget_canon.resource_uri, URI_CANON);
    ngx_str_set(&unit_widget.class_name, "Widget");
    ngx_str_set(&unit_widget.resource_uri, URI_ALIAS);
    ngx_str_set(&unit_widget.canonical, URI_CANON);
    unit_registry_set(unit_widget_plugins);

    unit_test_access_root();
    unit_test_access_rights();
    unit_test_access_prefixes();
    unit_test_access_class();
    unit_test_access_cert_prefix();

    unit_registry_done();
    ngx_destroy_pool(unit_pool);
    unit_pool = NULL;
}
