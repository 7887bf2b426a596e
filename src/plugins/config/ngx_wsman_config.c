/*
 * winrm/config, read side: the effective settings of the location that
 * received the request, in Windows' cfg:Config shape.  Settings live in
 * nginx.conf, so Put answers a fault naming the directive to edit.  Get
 * takes a fragment (w:FragmentTransfer) to read one setting.
 */

#include "ngx_wsman_config.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_listener.h"
#include "ngx_wsman_body.h"
#include "ngx_wsman_util.h"


#define NGX_WSMAN_GET_RESPONSE   NGX_WSMAN_NS_WXF "/GetResponse"
#define NGX_WSMAN_LISTENER_URI   NGX_WSMAN_CONFIG_URI "/Listener"

#define NGX_WSMAN_WINRS_UNLIMITED      2147483647


typedef void (*ngx_wsman_config_section_pt)(ngx_wsman_xml_t *x,
    ngx_wsman_call_t *call);

typedef struct {
    ngx_str_t                       suffix;     /* after ".../config" */
    ngx_wsman_config_section_pt     write;
} ngx_wsman_config_resource_t;

typedef struct {
    const char                     *setting;
    const char                     *directive;
} ngx_wsman_config_directive_t;


static ngx_int_t ngx_wsman_config_get(ngx_wsman_call_t *call);
static ngx_int_t ngx_wsman_config_enumerate(ngx_wsman_call_t *call);
static ngx_int_t ngx_wsman_listener_enumerate(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_int_t ngx_wsman_config_put(ngx_wsman_call_t *call);
static void ngx_wsman_config_root(ngx_wsman_xml_t *x,
    ngx_wsman_call_t *call);
static void ngx_wsman_config_service(ngx_wsman_xml_t *x,
    ngx_wsman_call_t *call);
static void ngx_wsman_config_auth(ngx_wsman_xml_t *x,
    ngx_wsman_call_t *call);
static void ngx_wsman_config_winrs(ngx_wsman_xml_t *x,
    ngx_wsman_call_t *call);


ngx_wsman_plugin_t  ngx_wsman_config_plugin = {
    ngx_string("config"),
    ngx_string(NGX_WSMAN_CONFIG_URI),
    ngx_wsman_config_get,
    ngx_wsman_config_put,
    NULL, NULL,
    ngx_wsman_config_enumerate,
    NULL,
    0, 0, NULL, NULL
};


/* Get names a listener as Windows does, by address and transport */
static const char  *ngx_wsman_listener_keys[] = {
    "Address", "Transport", NULL
};


/* winrm/config/Listener: one per listen socket of a wsman server */
static ngx_wsman_provider_t  ngx_wsman_listener_provider = {
    ngx_string("Listener"),
    ngx_string(NGX_WSMAN_LISTENER_URI),
    ngx_string("ListeningOn"),
    0,
    ngx_wsman_listener_enumerate,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    ngx_wsman_listener_keys,
    0,
    NULL
};


ngx_wsman_provider_t  *ngx_wsman_config_providers[] = {
    &ngx_wsman_listener_provider,
    NULL
};


ngx_wsman_plugin_t  *ngx_wsman_config_services[] = {
    &ngx_wsman_config_plugin,
    NULL
};


static ngx_wsman_config_resource_t  ngx_wsman_config_resources[] = {
    { ngx_string(""), ngx_wsman_config_root },
    { ngx_string("/service"), ngx_wsman_config_service },
    { ngx_string("/service/auth"), ngx_wsman_config_auth },
    { ngx_string("/winrs"), ngx_wsman_config_winrs },
    { ngx_null_string, NULL }
};


static ngx_wsman_config_directive_t  ngx_wsman_config_directives[] = {
    { "MaxEnvelopeSizekb", "wsman_max_envelope_size" },
    { "MaxTimeoutms", "wsman_max_timeout" },
    { "MaxBatchItems", "wsman_max_batch_items" },
    { "EnumerationTimeoutms", "wsman_enumeration_timeout" },
    { "AllowUnencrypted", "wsman_allow_unencrypted" },
    { "RootSDDL", "wsman_root_sddl" },
    { "Basic", "wsman_auth" },
    { "Kerberos", "wsman_auth" },
    { "Negotiate", "wsman_auth" },
    { "Certificate", "wsman_auth" },
    { "AllowRemoteShellAccess", "wsman_shell" },
    { "IdleTimeout", "wsman_shell_idle_timeout" },
    { "MaxConcurrentUsers", "wsman_shell_max_users" },
    { "MaxShellRunTime", "wsman_shell_max_runtime" },
    { "MaxProcessesPerShell", "wsman_shell_max_processes" },
    { "MaxMemoryPerShellMB", "wsman_shell_max_memory" },
    { "MaxShellsPerUser", "wsman_shell_max_per_user" },
    { "CbtHardeningLevel", "wsman_cbt_hardening" },
    { NULL, NULL }
};


static ngx_wsman_config_resource_t *
ngx_wsman_config_resource(ngx_str_t *uri)
{
    size_t       prefix;
    ngx_uint_t   i;
    ngx_str_t    suffix;

    prefix = sizeof(NGX_WSMAN_CONFIG_URI) - 1;

    suffix.data = uri->data + prefix;
    suffix.len = uri->len - prefix;

    for (i = 0; ngx_wsman_config_resources[i].write; i++) {
        if (suffix.len == ngx_wsman_config_resources[i].suffix.len
            && ngx_strncasecmp(suffix.data,
                               ngx_wsman_config_resources[i].suffix.data,
                               suffix.len) == 0)
        {
            return &ngx_wsman_config_resources[i];
        }
    }

    return NULL;
}


/* a configuration resource (for nginx -t's check of SDDL prefixes) */
ngx_int_t
ngx_wsman_config_serves(ngx_str_t *uri)
{
    if (uri->len < sizeof(NGX_WSMAN_CONFIG_URI) - 1
        || ngx_strncasecmp(uri->data, (u_char *) NGX_WSMAN_CONFIG_URI,
                           sizeof(NGX_WSMAN_CONFIG_URI) - 1)
           != 0)
    {
        return 0;
    }

    return ngx_wsman_config_resource(uri) != NULL;
}


static ngx_int_t
ngx_wsman_config_is_listener(ngx_str_t *uri)
{
    return uri->len == sizeof(NGX_WSMAN_LISTENER_URI) - 1
           && ngx_strncasecmp(uri->data, (u_char *) NGX_WSMAN_LISTENER_URI,
                              uri->len) == 0;
}


static ngx_int_t
ngx_wsman_config_enumerate(ngx_wsman_call_t *call)
{
    if (!ngx_wsman_config_is_listener(&call->req->resource_uri)) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                    "Only config/Listener enumerates.");
    }

    return ngx_wsman_enum_enumerate(call);
}


static ngx_int_t
ngx_wsman_config_get(ngx_wsman_call_t *call)
{
    ngx_wsman_config_resource_t  *res;

    if (ngx_wsman_config_is_listener(&call->req->resource_uri)) {
        return ngx_wsman_enum_get(call);
    }

    res = ngx_wsman_config_resource(&call->req->resource_uri);

    if (res == NULL) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                    "No such configuration resource.");
    }

    if (call->req->selectors.nelts) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                             "Configuration resources take no selectors.");
        ngx_str_set(&call->fault.detail,
                    NGX_WSMAN_FAULT_DETAIL "UnexpectedSelectors");
        return NGX_OK;
    }

    ngx_str_set(&call->action, NGX_WSMAN_GET_RESPONSE);

    res->write(&call->body, call);

    return ngx_wsman_call_fragment(call);
}


/* the directive behind a setting (NULL: none) */
static const char *
ngx_wsman_config_directive(ngx_str_t *setting)
{
    ngx_uint_t  i;

    for (i = 0; ngx_wsman_config_directives[i].setting; i++) {
        if (setting->len == ngx_strlen(ngx_wsman_config_directives[i].setting)
            && ngx_strncmp(setting->data,
                           ngx_wsman_config_directives[i].setting,
                           setting->len)
               == 0)
        {
            return ngx_wsman_config_directives[i].directive;
        }
    }

    return NULL;
}


/* the first element of the Put body that names a known setting */
static const char *
ngx_wsman_config_find_directive(ngx_array_t *body)
{
    ngx_uint_t            i;
    const char           *found;
    ngx_wsman_element_t  *el;

    el = body->elts;

    for (i = 0; i < body->nelts; i++) {
        found = ngx_wsman_config_directive(&el[i].name);
        if (found) {
            return found;
        }
    }

    return NULL;
}


/* the first element called name in the current document */
static ngx_wsman_element_t *
ngx_wsman_config_find(ngx_array_t *current, ngx_str_t *name)
{
    ngx_uint_t            i;
    ngx_wsman_element_t  *el;

    el = current->elts;

    for (i = 0; i < current->nelts; i++) {
        if (el[i].name.len == name->len
            && ngx_strncmp(el[i].name.data, name->data, name->len) == 0)
        {
            return &el[i];
        }
    }

    return NULL;
}


/* do two values of a setting differ?  booleans as xs:boolean */
static ngx_uint_t
ngx_wsman_config_differ(ngx_str_t *a, ngx_str_t *b)
{
    ngx_str_t  ta, tb;

    ta = *a;
    tb = *b;

    if (ta.len == 1 && ta.data[0] == '1') {
        ngx_str_set(&ta, "true");
    } else if (ta.len == 1 && ta.data[0] == '0') {
        ngx_str_set(&ta, "false");
    }

    if (tb.len == 1 && tb.data[0] == '1') {
        ngx_str_set(&tb, "true");
    } else if (tb.len == 1 && tb.data[0] == '0') {
        ngx_str_set(&tb, "false");
    }

    return ta.len != tb.len || ngx_strncasecmp(ta.data, tb.data, ta.len);
}


#define NGX_WSMAN_CONFIG_PUT_DEPTH   8
#define NGX_WSMAN_CONFIG_PUT_NAMED   4

/* as deep as the parser lets an envelope go */
#define NGX_WSMAN_CONFIG_ANY_DEPTH   64


/*
 * Name, in msg, the settings of the Put body whose values differ from
 * the current document (up to NAMED of them), each with its directive.
 */
static void
ngx_wsman_config_changes(ngx_array_t *body, ngx_array_t *current,
    ngx_wsman_xml_t *msg, ngx_uint_t *n)
{
    ngx_uint_t            i;
    const char           *directive;
    ngx_wsman_element_t  *el, *now;

    el = body->elts;

    for (i = 0; i < body->nelts; i++) {

        if (!el[i].leaf || el[i].depth > NGX_WSMAN_CONFIG_PUT_DEPTH) {
            continue;
        }

        now = ngx_wsman_config_find(current, &el[i].name);

        if (now && !ngx_wsman_config_differ(&el[i].text, &now->text)) {
            continue;
        }

        if ((*n)++ >= NGX_WSMAN_CONFIG_PUT_NAMED) {
            continue;
        }

        if (*n > 1) {
            ngx_wsman_xml_literal(msg, "; ");

        } else {
            ngx_wsman_xml_literal(msg, " ");
        }

        ngx_wsman_xml_raw(msg, el[i].name.data, el[i].name.len);

        directive = now ? ngx_wsman_config_directive(&el[i].name) : NULL;

        if (directive) {
            ngx_wsman_xml_literal(msg, " is set by the ");
            ngx_wsman_xml_raw(msg, (u_char *) directive,
                              ngx_strlen(directive));
            ngx_wsman_xml_literal(msg, " directive");

        } else if (now) {
            ngx_wsman_xml_literal(msg, " cannot be changed");

        } else {
            ngx_wsman_xml_literal(msg, " is not a setting of this "
                                  "resource");
        }
    }
}


/*
 * Put: the settings live in nginx.conf.  Clients (openwsman's `wsman
 * put`, winrm set) send the whole document with one value changed, so
 * compare it with the current one and name the directive of what
 * differs.
 */
static ngx_int_t
ngx_wsman_config_put(ngx_wsman_call_t *call)
{
    u_char                       *msg, *last, *p;
    size_t                        len;
    ngx_uint_t                    n;
    ngx_array_t                  *body, *current;
    ngx_chain_t                  *cl;
    const char                   *directive;
    ngx_wsman_xml_t               x, text;
    ngx_wsman_config_resource_t  *res;

    res = ngx_wsman_config_is_listener(&call->req->resource_uri)
          ? NULL : ngx_wsman_config_resource(&call->req->resource_uri);

    body = ngx_wsman_body_elements(call->pool, call->req,
                                   NGX_WSMAN_CONFIG_ANY_DEPTH);
    if (body == NULL) {
        return NGX_ERROR;
    }

    if (res && body->nelts) {
        ngx_wsman_xml_init(&x, call->pool, 2048);
        res->write(&x, call);

        current = ngx_wsman_xml_elements(call->pool, &x,
                                         NGX_WSMAN_CONFIG_ANY_DEPTH);
        if (current == NULL) {
            return NGX_ERROR;
        }

        ngx_wsman_xml_init(&text, call->pool, 256);
        ngx_wsman_xml_literal(&text, "The configuration is set in "
                              "nginx.conf:");
        n = 0;

        ngx_wsman_config_changes(body, current, &text, &n);

        if (n == 0) {
            return ngx_wsman_call_fault(call,
                                        NGX_WSMAN_FAULT_CONFIG_READONLY,
                                        "The Put changes nothing; the "
                                        "configuration is read-only here "
                                        "and set in nginx.conf.");
        }

        if (n > NGX_WSMAN_CONFIG_PUT_NAMED) {
            ngx_wsman_xml_literal(&text, "; and more");
        }

        ngx_wsman_xml_literal(&text, ". Edit nginx.conf and reload nginx.");

        if (ngx_wsman_xml_failed(&text)) {
            return NGX_ERROR;
        }

        msg = ngx_pnalloc(call->pool, (size_t) text.length);
        if (msg == NULL) {
            return NGX_ERROR;
        }

        p = msg;

        for (cl = ngx_wsman_xml_chain(&text); cl; cl = cl->next) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }

        call->fault.id = NGX_WSMAN_FAULT_CONFIG_READONLY;
        call->fault.message.data = msg;
        call->fault.message.len = p - msg;

        return NGX_OK;
    }

    directive = ngx_wsman_config_find_directive(body);

    if (directive == NULL) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_CONFIG_READONLY,
                                    "Edit the wsman_* directives in "
                                    "nginx.conf and reload nginx.");
    }

    len = sizeof("Edit the  directive in nginx.conf and reload nginx.")
          + ngx_strlen(directive);

    msg = ngx_pnalloc(call->pool, len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    last = ngx_snprintf(msg, len, "Edit the %s directive in nginx.conf "
                        "and reload nginx.%Z", directive);

    call->fault.id = NGX_WSMAN_FAULT_CONFIG_READONLY;
    call->fault.message.data = msg;
    call->fault.message.len = last - msg - 1;

    return NGX_OK;
}


static void
ngx_wsman_config_uint(ngx_wsman_xml_t *x, const char *name, uint64_t value)
{
    size_t  len;

    len = ngx_strlen(name);

    ngx_wsman_xml_literal(x, "<cfg:");
    ngx_wsman_xml_raw(x, (const u_char *) name, len);
    ngx_wsman_xml_literal(x, ">");
    ngx_wsman_xml_uint(x, value);
    ngx_wsman_xml_literal(x, "</cfg:");
    ngx_wsman_xml_raw(x, (const u_char *) name, len);
    ngx_wsman_xml_literal(x, ">");
}


static void
ngx_wsman_config_bool(ngx_wsman_xml_t *x, const char *name, ngx_uint_t value)
{
    size_t  len;

    len = ngx_strlen(name);

    ngx_wsman_xml_literal(x, "<cfg:");
    ngx_wsman_xml_raw(x, (const u_char *) name, len);

    if (value) {
        ngx_wsman_xml_literal(x, ">true</cfg:");
    } else {
        ngx_wsman_xml_literal(x, ">false</cfg:");
    }

    ngx_wsman_xml_raw(x, (const u_char *) name, len);
    ngx_wsman_xml_literal(x, ">");
}


static void
ngx_wsman_config_root(ngx_wsman_xml_t *x, ngx_wsman_call_t *call)
{
    ngx_wsman_loc_conf_t  *conf = call->conf;

    ngx_wsman_xml_literal(x, "<cfg:Config xmlns:cfg=\""
                          NGX_WSMAN_NS_CONFIG "\">");

    ngx_wsman_config_uint(x, "MaxEnvelopeSizekb",
                          conf->max_envelope_size / 1024);
    ngx_wsman_config_uint(x, "MaxTimeoutms", conf->max_timeout);
    ngx_wsman_config_uint(x, "MaxBatchItems", conf->max_batch_items);

    ngx_wsman_config_service(x, call);
    ngx_wsman_config_winrs(x, call);

    ngx_wsman_xml_literal(x, "</cfg:Config>");
}


static void
ngx_wsman_config_service(ngx_wsman_xml_t *x, ngx_wsman_call_t *call)
{
    ngx_wsman_loc_conf_t  *conf = call->conf;

    ngx_wsman_xml_literal(x, "<cfg:Service xmlns:cfg=\""
                          NGX_WSMAN_NS_CONFIG "\"><cfg:RootSDDL>");
    ngx_wsman_xml_text_str(x, &conf->root_sddl);
    ngx_wsman_xml_literal(x, "</cfg:RootSDDL>");

    ngx_wsman_config_uint(x, "EnumerationTimeoutms",
                          conf->enumeration_timeout);
    ngx_wsman_config_bool(x, "AllowUnencrypted", conf->allow_unencrypted);
    ngx_wsman_config_auth(x, call);

    ngx_wsman_xml_literal(x, "</cfg:Service>");
}


static void
ngx_wsman_config_auth(ngx_wsman_xml_t *x, ngx_wsman_call_t *call)
{
    ngx_wsman_loc_conf_t  *conf = call->conf;

    ngx_wsman_xml_literal(x, "<cfg:Auth xmlns:cfg=\""
                          NGX_WSMAN_NS_CONFIG "\">");

    ngx_wsman_config_bool(x, "Basic", conf->auth & NGX_WSMAN_AUTH_BASIC);
    ngx_wsman_config_bool(x, "Kerberos",
                          conf->auth & NGX_WSMAN_AUTH_KERBEROS);
    ngx_wsman_config_bool(x, "Negotiate",
                          conf->auth & NGX_WSMAN_AUTH_NEGOTIATE);
    ngx_wsman_config_bool(x, "Certificate",
                          conf->auth & NGX_WSMAN_AUTH_CERTIFICATE);
    ngx_wsman_config_bool(x, "CredSSP", 0);
    ngx_wsman_xml_literal(x, "<cfg:CbtHardeningLevel>Relaxed"
                          "</cfg:CbtHardeningLevel></cfg:Auth>");
}


/* Windows shows 2147483647 for "unlimited" */
static uint64_t
ngx_wsman_config_limit(uint64_t value)
{
    return value ? value : NGX_WSMAN_WINRS_UNLIMITED;
}


/*
 * A Winrs setting: the value of its directive, which the shell plug-in
 * defines (this plug-in does not know it); 0 when this build has none.
 */
static uint64_t
ngx_wsman_config_setting(ngx_wsman_call_t *call, const char *directive)
{
    uint64_t  value;

    if (ngx_wsman_call_setting(call, directive, &value) != NGX_OK) {
        return 0;
    }

    return value;
}


static void
ngx_wsman_config_winrs(ngx_wsman_xml_t *x, ngx_wsman_call_t *call)
{
    uint64_t  v;

    ngx_wsman_xml_literal(x, "<cfg:Winrs xmlns:cfg=\""
                          NGX_WSMAN_NS_CONFIG "\">");

    v = ngx_wsman_config_setting(call, "wsman_shell");
    ngx_wsman_config_bool(x, "AllowRemoteShellAccess", v != 0);

    v = ngx_wsman_config_setting(call, "wsman_shell_idle_timeout");
    ngx_wsman_config_uint(x, "IdleTimeout", v);

    v = ngx_wsman_config_setting(call, "wsman_shell_max_users");
    ngx_wsman_config_uint(x, "MaxConcurrentUsers", ngx_wsman_config_limit(v));

    v = ngx_wsman_config_setting(call, "wsman_shell_max_runtime");
    ngx_wsman_config_uint(x, "MaxShellRunTime", ngx_wsman_config_limit(v));

    v = ngx_wsman_config_setting(call, "wsman_shell_max_processes");
    ngx_wsman_config_uint(x, "MaxProcessesPerShell",
                          ngx_wsman_config_limit(v));

    v = ngx_wsman_config_setting(call, "wsman_shell_max_memory");
    ngx_wsman_config_uint(x, "MaxMemoryPerShellMB",
                          ngx_wsman_config_limit(v / (1024 * 1024)));

    v = ngx_wsman_config_setting(call, "wsman_shell_max_per_user");
    ngx_wsman_config_uint(x, "MaxShellsPerUser", ngx_wsman_config_limit(v));

    ngx_wsman_xml_literal(x, "</cfg:Winrs>");
}


/* ------------------------------------------------------------ listeners */

static ngx_int_t
ngx_wsman_listener_instance(ngx_pool_t *pool, ngx_wsman_listener_t *l,
    ngx_wsman_instance_t **out)
{
    ngx_wsman_prop_t      *prop;
    ngx_wsman_instance_t  *inst;

    inst = ngx_wsman_instance_create(pool,
                                     &ngx_wsman_listener_provider.class_name,
                                     &ngx_wsman_listener_provider.resource_uri,
                                     10);
    if (inst == NULL) {
        return NGX_ERROR;
    }

    prop = ngx_wsman_prop_str(pool, inst, "Address", l->address.data,
                              l->address.len);
    if (prop == NULL) {
        return NGX_ERROR;
    }
    prop->key = 1;

    prop = ngx_wsman_prop_str(pool, inst, "Transport", l->transport.data,
                              l->transport.len);
    if (prop == NULL) {
        return NGX_ERROR;
    }
    prop->key = 1;

    if (ngx_wsman_prop_uint(inst, "Port", l->port) == NULL
        || ngx_wsman_prop_str(pool, inst, "Hostname", l->hostname.data,
                              l->hostname.len) == NULL
        || ngx_wsman_prop_bool(inst, "Enabled", 1) == NULL
        || ngx_wsman_prop_str(pool, inst, "URLPrefix", l->url_prefix.data,
                              l->url_prefix.len) == NULL
        || ngx_wsman_prop_str(pool, inst, "CertificateThumbprint",
                              l->thumbprint.data, l->thumbprint.len)
           == NULL
        || ngx_wsman_prop_str(pool, inst, "ListeningOn",
                              l->listening_on.data, l->listening_on.len)
           == NULL)
    {
        return NGX_ERROR;
    }

    *out = inst;

    return NGX_OK;
}


/* a handful of listeners: sorted once at configuration, resumed by key */
static ngx_int_t
ngx_wsman_listener_enumerate(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    ngx_int_t                cmp;
    ngx_uint_t               i;
    ngx_array_t             *listeners;
    ngx_wsman_listener_t    *l;
    ngx_wsman_instance_t   **slot;

    listeners = ngx_wsman_listeners();

    *done = 1;

    if (listeners == NULL) {
        return NGX_OK;
    }

    l = listeners->elts;

    for (i = 0; i < listeners->nelts; i++) {

        if (after->len) {
            cmp = ngx_memn2cmp(l[i].listening_on.data, after->data,
                               l[i].listening_on.len, after->len);
            if (cmp <= 0) {
                continue;
            }
        }

        if (out->nelts == max) {
            *done = 0;
            return NGX_OK;
        }

        slot = ngx_array_push(out);
        if (slot == NULL) {
            return NGX_ERROR;
        }

        if (ngx_wsman_listener_instance(pool, &l[i], slot) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}

