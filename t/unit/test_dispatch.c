/*
 * The dispatcher (src/engine/ngx_wsman_dispatch.c) over a registry of
 * test plug-ins (unit_registry.c) with the real engine, context store,
 * access check and SOAP parser: an action and a resource URI reach the
 * right plug-in operation (longest prefix, whole path parts, any case),
 * Identify reaches the plug-in that answers it, Pull and Release go to
 * the class that owns the enumeration context whatever URI they name,
 * an unknown action is ActionNotSupported, a URI nobody serves is
 * DestinationUnreachable, and the access check (SDDL and a certificate
 * mapping's uri= scope) runs on the class the request resolves to.
 */

#include <string.h>

#include "unit.h"
#include "unit_registry.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_enum.h"


void unit_test_dispatch(void);


#define X          "http://x.test"
#define ALPHA      X "/alpha/Alpha_Thing"
#define ALIAS      X "/gamma/AlphaAlias"
#define GAMMA      X "/gamma/Gamma_Thing"

#define GET        NGX_WSMAN_ACTION_GET
#define PUT        NGX_WSMAN_ACTION_PUT
#define ENUMERATE  NGX_WSMAN_ACTION_ENUMERATE
#define PULL       NGX_WSMAN_ACTION_PULL
#define RELEASE    NGX_WSMAN_ACTION_RELEASE

#define SID_BA     "S-1-5-32-544"
#define SID_ALICE  "S-1-5-21-1-2-3-1001"

#define ONLY_BA    "O:NSG:BAD:P(A;;GA;;;BA)"


static ngx_pool_t  *unit_pool;

/* the operation handler a request reached ("plug-in.op"), NULL: none */
static const char  *unit_called;


/* ------------------------------------------------------------ plug-ins */

static ngx_int_t
unit_reached(ngx_wsman_call_t *call, const char *op)
{
    unit_called = op;
    ngx_str_set(&call->action, "http://x.test/Response");

    return NGX_OK;
}


static ngx_int_t
unit_alpha_get(ngx_wsman_call_t *call)
{
    return unit_reached(call, "alpha.get");
}


static ngx_int_t
unit_alpha_invoke(ngx_wsman_call_t *call)
{
    return unit_reached(call, "alpha.invoke");
}


static ngx_int_t
unit_beta_get(ngx_wsman_call_t *call)
{
    return unit_reached(call, "beta.get");
}


static ngx_int_t
unit_gamma_get(ngx_wsman_call_t *call)
{
    return unit_reached(call, "gamma.get");
}


static ngx_int_t
unit_delta_get(ngx_wsman_call_t *call)
{
    return unit_reached(call, "delta.get");
}


static ngx_int_t
unit_gamma_invoke(ngx_wsman_call_t *call)
{
    return unit_reached(call, "gamma.invoke");
}


static ngx_int_t
unit_identify(ngx_wsman_call_t *call)
{
    return unit_reached(call, "identify");
}


/* alpha: a plug-in whose enumerations are the engine's */
static ngx_wsman_plugin_t  unit_alpha = {
    ngx_string("alpha"), ngx_string(X "/alpha"),
    unit_alpha_get, NULL, NULL, NULL, ngx_wsman_enum_enumerate,
    unit_alpha_invoke, 0, 0, NULL, NULL
};

/* beta: a plug-in below alpha's prefix, without custom actions */
static ngx_wsman_plugin_t  unit_beta = {
    ngx_string("beta"), ngx_string(X "/alpha/beta"),
    unit_beta_get, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL
};

/* gamma: where an alias of alpha's class lives */
static ngx_wsman_plugin_t  unit_gamma = {
    ngx_string("gamma"), ngx_string(X "/gamma"),
    unit_gamma_get, NULL, NULL, NULL, ngx_wsman_enum_enumerate,
    unit_gamma_invoke, 0, 0, NULL, NULL
};

/* delta: below gamma's prefix, registered after it */
static ngx_wsman_plugin_t  unit_delta = {
    ngx_string("delta"), ngx_string(X "/gamma/delta/"),
    unit_delta_get, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL
};

static ngx_wsman_plugin_t  unit_ident = {
    ngx_string("ident"), ngx_null_string,
    NULL, NULL, NULL, NULL, NULL, unit_identify, 0, 1, NULL, NULL
};


static const char  *unit_alpha_names[] = { "a1", "a2", "a3", NULL };
static const char  *unit_gamma_names[] = { "g1", "g2", NULL };

static ngx_wsman_provider_t  unit_alpha_class = {
    .class_name = ngx_string("Alpha_Thing"),
    .resource_uri = ngx_string(ALPHA),
    .key = ngx_string("Name"),
    .enumerate = unit_provider_enumerate,
    .data = unit_alpha_names
};

static ngx_wsman_provider_t  unit_alpha_alias = {
    .class_name = ngx_string("Alpha_Thing"),
    .resource_uri = ngx_string(ALIAS),
    .canonical = ngx_string(ALPHA),
    .key = ngx_string("Name"),
    .enumerate = unit_provider_enumerate,
    .data = unit_alpha_names
};

static ngx_wsman_provider_t  unit_gamma_class = {
    .class_name = ngx_string("Gamma_Thing"),
    .resource_uri = ngx_string(GAMMA),
    .key = ngx_string("Name"),
    .enumerate = unit_provider_enumerate,
    .data = unit_gamma_names
};


static ngx_wsman_plugin_t    *unit_beta_services[] = { &unit_beta, NULL };
static ngx_wsman_plugin_t    *unit_alpha_services[] = { &unit_alpha, NULL };
static ngx_wsman_provider_t  *unit_alpha_providers[] = {
    &unit_alpha_class, NULL
};
static ngx_wsman_plugin_t    *unit_gamma_services[] = {
    &unit_gamma, &unit_delta, NULL
};
static ngx_wsman_provider_t  *unit_gamma_providers[] = {
    &unit_gamma_class, &unit_alpha_alias, NULL
};
static ngx_wsman_plugin_t    *unit_ident_services[] = { &unit_ident, NULL };

/* beta before alpha, delta after gamma: the longest prefix wins, not
 * the first or the last */
static ngx_wsman_plugin_module_t  unit_beta_module = {
    .services = unit_beta_services
};
static ngx_wsman_plugin_module_t  unit_alpha_module = {
    .services = unit_alpha_services, .providers = unit_alpha_providers
};
static ngx_wsman_plugin_module_t  unit_gamma_module = {
    .services = unit_gamma_services, .providers = unit_gamma_providers
};
static ngx_wsman_plugin_module_t  unit_ident_module = {
    .services = unit_ident_services
};

static ngx_wsman_plugin_module_t  *unit_plugins[] = {
    &unit_beta_module, &unit_alpha_module, &unit_gamma_module,
    &unit_ident_module, NULL
};

static ngx_wsman_plugin_module_t  *unit_plugins_no_identify[] = {
    &unit_beta_module, &unit_alpha_module, &unit_gamma_module, NULL
};


/* ------------------------------------------------------------- helpers */

typedef struct {
    ngx_int_t            rc;
    ngx_uint_t           fault;
    unit_call_t         *c;
} unit_result_t;


static unit_result_t
unit_run(ngx_wsman_loc_conf_t *lcf, const char *user, const char *sids,
    const char *scope, const char *action, const char *uri,
    const char *body)
{
    unit_result_t  r;

    ngx_memzero(&r, sizeof(r));
    unit_called = NULL;

    r.c = unit_call(unit_pool, lcf, user, sids, action, uri, NULL, body);

    if (!UNIT_CHECK(r.c != NULL && r.c->parsed == NGX_OK)) {
        r.rc = NGX_ERROR;
        r.fault = (ngx_uint_t) -1;
        return r;
    }

    if (scope) {
        r.c->identity.uri_prefix.data = (u_char *) scope;
        r.c->identity.uri_prefix.len = strlen(scope);
    }

    r.rc = ngx_wsman_dispatch(&r.c->call);
    r.fault = r.c->call.fault.id;

    return r;
}


/* a request the dispatcher answers with a fault and no handler */
#define UNIT_FAULTS(r, id)                                                  \
    (UNIT_CHECK((r).rc == NGX_OK), UNIT_EQ_UINT((r).fault, id),             \
     UNIT_CHECK(unit_called == NULL))

#define UNIT_REACHES(r, op)                                                 \
    (UNIT_CHECK((r).rc == NGX_OK),                                          \
     UNIT_EQ_UINT((r).fault, NGX_WSMAN_FAULT_NONE),                         \
     UNIT_EQ_CSTR(unit_called, op))


#define ENUM_BODY  "<n:Enumerate/>"

/* the Pull or Release body of a context */
static const char *
unit_ctx_body(const char *op, ngx_str_t *id, ngx_uint_t max)
{
    u_char  *p, *end;
    size_t   len;

    len = 256 + id->len;
    p = ngx_pnalloc(unit_pool, len);
    end = ngx_snprintf(p, len - 1,
                       "<n:%s><n:EnumerationContext>%V"
                       "</n:EnumerationContext>", op, id);

    if (max) {
        end = ngx_snprintf(end, p + len - 1 - end,
                           "<n:MaxElements>%ui</n:MaxElements>", max);
    }

    end = ngx_snprintf(end, p + len - 1 - end, "</n:%s>", op);
    *end = '\0';

    return (char *) p;
}


/* an open enumeration of a class (its context id) */
static ngx_str_t
unit_enumerate(ngx_wsman_loc_conf_t *lcf, const char *user,
    const char *uri)
{
    ngx_str_t      id;
    unit_result_t  r;

    r = unit_run(lcf, user, NULL, NULL, ENUMERATE, uri, ENUM_BODY);

    ngx_str_null(&id);

    if (UNIT_CHECK(r.rc == NGX_OK && r.fault == NGX_WSMAN_FAULT_NONE)) {
        id = unit_call_context(r.c);
        UNIT_CHECK(id.len > 0);
    }

    return id;
}


static ngx_uint_t
unit_body_has(unit_result_t *r, const char *s)
{
    u_char  *body;

    body = unit_call_body(r->c);

    return body && strstr((char *) body, s) != NULL;
}


/* --------------------------------------------------------------- tests */

static void
unit_test_dispatch_route(void)
{
    unit_result_t         r;
    ngx_wsman_loc_conf_t  lcf;

    unit_loc_conf(unit_pool, &lcf, NULL);

    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alpha/x", NULL);
    UNIT_REACHES(r, "alpha.get");
    UNIT_CHECK(r.c->call.plugin == &unit_alpha);

    /* the prefix itself, any case, a trailing slash, a query string */
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alpha", NULL);
    UNIT_REACHES(r, "alpha.get");
    r = unit_run(&lcf, "alice", NULL, NULL, GET, "HTTP://X.TEST/ALPHA/x",
                 NULL);
    UNIT_REACHES(r, "alpha.get");
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alpha/", NULL);
    UNIT_REACHES(r, "alpha.get");
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alpha?x=1", NULL);
    UNIT_REACHES(r, "alpha.get");

    /* the longest prefix wins, whatever the registry's order */
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alpha/beta/y", NULL);
    UNIT_REACHES(r, "beta.get");
    UNIT_CHECK(r.c->call.plugin == &unit_beta);
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/ALPHA/Beta", NULL);
    UNIT_REACHES(r, "beta.get");
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/gamma/delta/z", NULL);
    UNIT_REACHES(r, "delta.get");
    UNIT_CHECK(r.c->call.plugin == &unit_delta);
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/gamma/delta", NULL);
    UNIT_REACHES(r, "delta.get");
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/gamma/deltas", NULL);
    UNIT_REACHES(r, "gamma.get");

    /* whole path parts: "betamax" is alpha's, "alphabet" nobody's */
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alpha/betamax", NULL);
    UNIT_REACHES(r, "alpha.get");

    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alphabet", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);
    UNIT_CHECK(r.c->call.plugin == NULL);

    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alph", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);

    r = unit_run(&lcf, "alice", NULL, NULL, GET, "http://x.test", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);

    /* no w:ResourceURI at all: said so */
    r = unit_run(&lcf, "alice", NULL, NULL, GET, NULL, NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE);
    UNIT_EQ_STR(r.c->call.fault.message, "The request has no w:ResourceURI.");

    /* an action the plug-in has a handler for; a WS-Transfer action it
     * has none for is not handed to its catch-all */
    r = unit_run(&lcf, "alice", NULL, NULL, PUT, X "/alpha/x", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);

    r = unit_run(&lcf, "alice", NULL, NULL, NGX_WSMAN_ACTION_DELETE,
                 X "/alpha/x", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);

    /* any other action: the plug-in's invoke, or ActionNotSupported */
    r = unit_run(&lcf, "alice", NULL, NULL, X "/alpha/x/Frob", X "/alpha/x",
                 NULL);
    UNIT_REACHES(r, "alpha.invoke");

    r = unit_run(&lcf, "alice", NULL, NULL, X "/alpha/beta/Frob",
                 X "/alpha/beta", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);

    r = unit_run(&lcf, "alice", NULL, NULL, "urn:nonsense", X "/alpha/beta",
                 NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);

    /* actions are exact: another case is another (unknown) action */
    r = unit_run(&lcf, "alice", NULL, NULL,
                 "http://schemas.xmlsoap.org/ws/2004/09/transfer/get",
                 X "/alpha/beta", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);

    /* an Enumerate on a plug-in without it */
    r = unit_run(&lcf, "alice", NULL, NULL, ENUMERATE, X "/alpha/beta",
                 ENUM_BODY);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);
}


static void
unit_test_dispatch_identify(void)
{
    unit_result_t         r;
    ngx_wsman_loc_conf_t  lcf;

    unit_loc_conf(unit_pool, &lcf, NULL);

#define IDENTIFY_BODY                                                       \
    "<wsmid:Identify xmlns:wsmid=\"" NGX_WSMAN_NS_WSMID "\"/>"

    /* by its body, whatever URI: the plug-in marked identify */
    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alpha/x",
                 IDENTIFY_BODY);
    UNIT_CHECK(r.c->req.identify);
    UNIT_REACHES(r, "identify");
    UNIT_CHECK(r.c->call.plugin == &unit_ident);

    unit_registry_set(unit_plugins_no_identify);

    r = unit_run(&lcf, "alice", NULL, NULL, GET, X "/alpha/x",
                 IDENTIFY_BODY);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED);

    unit_registry_set(unit_plugins);
}


static void
unit_test_dispatch_context(void)
{
    ngx_str_t             id;
    unit_result_t         r;
    ngx_wsman_loc_conf_t  lcf;

    unit_loc_conf(unit_pool, &lcf, NULL);

    /* an Enumerate of alpha's class, through the engine */
    id = unit_enumerate(&lcf, "alice", ALPHA);
    UNIT_CHECK(unit_called == NULL);
    UNIT_EQ_UINT(unit_enum_zone_count(), 1);

    /* a Pull naming gamma's class gets alpha's items, no handler runs */
    r = unit_run(&lcf, "alice", NULL, NULL, PULL, GAMMA,
                 unit_ctx_body("Pull", &id, 2));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_NONE);
    UNIT_CHECK(unit_body_has(&r, ">a1<"));
    UNIT_CHECK(unit_body_has(&r, ">a2<"));
    UNIT_CHECK(!unit_body_has(&r, ">a3<"));
    UNIT_CHECK(!unit_body_has(&r, ">g1<"));
    UNIT_CHECK(!unit_body_has(&r, "EndOfSequence"));

    /* the rest, with no URI at all */
    r = unit_run(&lcf, "alice", NULL, NULL, PULL, NULL,
                 unit_ctx_body("Pull", &id, 10));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_NONE);
    UNIT_CHECK(unit_body_has(&r, ">a3<"));
    UNIT_CHECK(!unit_body_has(&r, ">a1<"));
    UNIT_CHECK(unit_body_has(&r, "EndOfSequence"));
    UNIT_EQ_UINT(unit_enum_zone_count(), 0);

    /* another user's context is no context */
    id = unit_enumerate(&lcf, "alice", ALPHA);

    r = unit_run(&lcf, "mallory", NULL, NULL, PULL, ALPHA,
                 unit_ctx_body("Pull", &id, 1));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT);

    r = unit_run(&lcf, "mallory", NULL, NULL, RELEASE, ALPHA,
                 unit_ctx_body("Release", &id, 0));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT);
    UNIT_EQ_UINT(unit_enum_zone_count(), 1);

    /* Release naming a URI nobody serves still ends alice's context */
    r = unit_run(&lcf, "alice", NULL, NULL, RELEASE, X "/alphabet",
                 unit_ctx_body("Release", &id, 0));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_NONE);
    UNIT_EQ_STR(r.c->call.action, NGX_WSMAN_NS_WSEN "/ReleaseResponse");
    UNIT_EQ_UINT(unit_enum_zone_count(), 0);

    r = unit_run(&lcf, "alice", NULL, NULL, PULL, ALPHA,
                 unit_ctx_body("Pull", &id, 1));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT);

    r = unit_run(&lcf, "alice", NULL, NULL, RELEASE, ALPHA,
                 unit_ctx_body("Release", &id, 0));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT);

    /* a forged id */
    ngx_str_set(&id, "uuid:00000000-0000-4000-8000-000000000000");
    r = unit_run(&lcf, "alice", NULL, NULL, PULL, ALPHA,
                 unit_ctx_body("Pull", &id, 1));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT);

    /* an Enumerate of a class through its alias: the same class */
    id = unit_enumerate(&lcf, "alice", ALIAS);
    r = unit_run(&lcf, "alice", NULL, NULL, PULL, X "/alpha/beta",
                 unit_ctx_body("Pull", &id, 10));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_NONE);
    UNIT_CHECK(unit_body_has(&r, ">a1<") && unit_body_has(&r, ">a3<"));
}


static void
unit_test_dispatch_access(void)
{
    ngx_str_t             id;
    unit_result_t         r;
    ngx_wsman_loc_conf_t  lcf, open;

    /* everyone may do anything, except alpha's class: Administrators */
    unit_loc_conf(unit_pool, &lcf, NULL);
    unit_access_resource(unit_pool, &lcf, ALPHA, ONLY_BA);

    r = unit_run(&lcf, "alice", SID_ALICE, NULL, GET, ALPHA, NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);

    r = unit_run(&lcf, "admin", SID_BA, NULL, GET, ALPHA, NULL);
    UNIT_REACHES(r, "alpha.get");

    /* the class under its alias, in gamma's space: alpha's SDDL holds,
     * and gamma's handler never sees the request */
    unit_log_reset();
    r = unit_run(&lcf, "alice", SID_ALICE, NULL, GET, ALIAS, NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    UNIT_CHECK(unit_log_contains("class Alpha_Thing (" ALPHA ")"));
    UNIT_CHECK(r.c->call.provider == &unit_alpha_alias);

    r = unit_run(&lcf, "alice", SID_ALICE, NULL, GET, GAMMA, NULL);
    UNIT_REACHES(r, "gamma.get");

    /* other spellings of the class: case, trailing slashes, a query */
    r = unit_run(&lcf, "alice", SID_ALICE, NULL, GET,
                 "HTTP://X.TEST/Alpha/ALPHA_THING", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    r = unit_run(&lcf, "alice", SID_ALICE, NULL, GET, ALPHA "//", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    r = unit_run(&lcf, "alice", SID_ALICE, NULL, GET, ALPHA "?x=1", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    r = unit_run(&lcf, "alice", SID_ALICE, NULL, GET,
                 "http://x.test/gamma/alphaalias/", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);

    /* an Enumerate of the class under its alias, and a custom action */
    r = unit_run(&lcf, "alice", SID_ALICE, NULL, ENUMERATE, ALIAS,
                 ENUM_BODY);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    UNIT_EQ_UINT(unit_enum_zone_count(), 0);

    r = unit_run(&lcf, "alice", SID_ALICE, NULL, ALIAS "/Frob", ALIAS, NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);

    /*
     * A context opened where the class is open, pulled where it is not
     * (another location), naming a URI that is open there: the class of
     * the context is checked, not the URI the Pull names.
     */
    unit_loc_conf(unit_pool, &open, NULL);
    id = unit_enumerate(&open, "alice", ALPHA);

    unit_log_reset();
    r = unit_run(&lcf, "alice", SID_ALICE, NULL, PULL, GAMMA,
                 unit_ctx_body("Pull", &id, 10));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    UNIT_CHECK(!unit_body_has(&r, ">a1<"));
    UNIT_CHECK(unit_log_contains("Alpha_Thing"));

    /* a certificate mapping limited to gamma's class: a context of
     * alpha's class pulled by naming gamma's URI is out of scope */
    id = unit_enumerate(&open, "alice", ALPHA);

    unit_log_reset();
    r = unit_run(&open, "alice", SID_ALICE, GAMMA, PULL, GAMMA,
                 unit_ctx_body("Pull", &id, 10));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    UNIT_CHECK(unit_log_contains("certificate mapping"));
    UNIT_CHECK(!unit_body_has(&r, ">a1<"));

    /* the scope follows the prefix rule: any case, whole path parts; a
     * class is in it by any of its URIs, but the URI named must be too */
    r = unit_run(&open, "alice", SID_ALICE, X "/gamma", GET,
                 "HTTP://X.TEST/GAMMA/Gamma_Thing/", NULL);
    UNIT_REACHES(r, "gamma.get");
    r = unit_run(&open, "alice", SID_ALICE, X "/gamma", GET, ALIAS, NULL);
    UNIT_REACHES(r, "gamma.get");
    r = unit_run(&open, "alice", SID_ALICE, X "/gamma", GET, ALPHA, NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    r = unit_run(&open, "alice", SID_ALICE, X "/gamma", GET,
                 X "/gammaray/x", NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);
    r = unit_run(&open, "alice", SID_ALICE, GAMMA, GET, ALIAS, NULL);
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_ACCESS_DENIED);

    /* the same Pull inside the scope of the class works */
    id = unit_enumerate(&open, "alice", ALPHA);
    r = unit_run(&open, "alice", SID_ALICE, X "/alpha", PULL, ALPHA,
                 unit_ctx_body("Pull", &id, 10));
    UNIT_FAULTS(r, NGX_WSMAN_FAULT_NONE);
    UNIT_CHECK(unit_body_has(&r, ">a1<"));
}


/* does anything answer under a wsman_resource_sddl prefix (nginx -t)? */
static ngx_uint_t
unit_serves(const char *prefix)
{
    ngx_str_t  p;

    p.data = (u_char *) prefix;
    p.len = strlen(prefix);

    return ngx_wsman_dispatch_serves(&p) ? 1 : 0;
}


static void
unit_test_dispatch_serves(void)
{
    /* a plug-in's prefix, in any spelling, or above it */
    UNIT_EQ_UINT(unit_serves(X "/alpha"), 1);
    UNIT_EQ_UINT(unit_serves(X "/alpha/"), 1);
    UNIT_EQ_UINT(unit_serves("HTTP://X.TEST/ALPHA/BETA"), 1);
    UNIT_EQ_UINT(unit_serves(X), 1);

    /* a class (by its alias too) */
    UNIT_EQ_UINT(unit_serves(ALIAS), 1);
    UNIT_EQ_UINT(unit_serves(ALPHA "/"), 1);

    /* nothing: a typo in a prefix must not pass nginx -t */
    UNIT_EQ_UINT(unit_serves(X "/alphabet"), 0);
    UNIT_EQ_UINT(unit_serves(X "/zeta"), 0);
    UNIT_EQ_UINT(unit_serves(X "/gamma/Alpha"), 0);
    UNIT_EQ_UINT(unit_serves("http://x.tes"), 0);
    UNIT_EQ_UINT(unit_serves(""), 0);
    UNIT_EQ_UINT(unit_serves("///"), 0);
}


void
unit_test_dispatch(void)
{
    unit_pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(unit_pool != NULL)) {
        return;
    }

    unit_time_set(3000000);
    unit_registry_set(unit_plugins);

    if (UNIT_CHECK(unit_enum_zone_init(unit_pool) == NGX_OK)) {
        unit_test_dispatch_route();
        unit_test_dispatch_identify();
        unit_test_dispatch_context();
        unit_test_dispatch_access();
        unit_test_dispatch_serves();
    }

    unit_registry_done();
    ngx_destroy_pool(unit_pool);
    unit_pool = NULL;
}
