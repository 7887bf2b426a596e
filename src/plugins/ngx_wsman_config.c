/*
 * winrm/config, read side: the effective settings of the location that
 * received the request, in Windows' cfg:Config shape.  Settings live in
 * nginx.conf, so Put answers a fault naming the directive to edit.
 */

#include "ngx_wsman_plugins.h"
#include "ngx_wsman_soap.h"


#define NGX_WSMAN_GET_RESPONSE   NGX_WSMAN_NS_WXF "/GetResponse"

/* Windows' Winrs defaults; the shell arrives with its own directives */
#define NGX_WSMAN_WINRS_IDLE_TIMEOUT   7200000
#define NGX_WSMAN_WINRS_UNLIMITED      2147483647


typedef void (*ngx_wsman_config_section_pt)(ngx_wsman_xml_t *x,
    ngx_wsman_loc_conf_t *conf);

typedef struct {
    ngx_str_t                       suffix;     /* after ".../config" */
    ngx_wsman_config_section_pt     write;
} ngx_wsman_config_resource_t;

typedef struct {
    const char                     *setting;
    const char                     *directive;
} ngx_wsman_config_directive_t;


static ngx_int_t ngx_wsman_config_get(ngx_wsman_call_t *call);
static ngx_int_t ngx_wsman_config_put(ngx_wsman_call_t *call);
static void ngx_wsman_config_root(ngx_wsman_xml_t *x,
    ngx_wsman_loc_conf_t *conf);
static void ngx_wsman_config_service(ngx_wsman_xml_t *x,
    ngx_wsman_loc_conf_t *conf);
static void ngx_wsman_config_auth(ngx_wsman_xml_t *x,
    ngx_wsman_loc_conf_t *conf);
static void ngx_wsman_config_winrs(ngx_wsman_xml_t *x,
    ngx_wsman_loc_conf_t *conf);


ngx_wsman_plugin_t  ngx_wsman_config_plugin = {
    ngx_string("config"),
    ngx_string(NGX_WSMAN_CONFIG_URI),
    ngx_wsman_config_get,
    ngx_wsman_config_put,
    NULL, NULL, NULL, NULL,
    0
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


static ngx_int_t
ngx_wsman_config_get(ngx_wsman_call_t *call)
{
    ngx_wsman_config_resource_t  *res;

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

    res->write(&call->body, call->conf);

    return NGX_OK;
}


/* the first element of the Put body that names a known setting */
static const char *
ngx_wsman_config_find_directive(xmlNodePtr node)
{
    xmlNodePtr   child;
    ngx_uint_t   i;
    const char  *found;

    for ( /* void */ ; node; node = node->next) {

        if (node->type != XML_ELEMENT_NODE) {
            continue;
        }

        for (i = 0; ngx_wsman_config_directives[i].setting; i++) {
            if (xmlStrEqual(node->name, (const xmlChar *)
                            ngx_wsman_config_directives[i].setting))
            {
                return ngx_wsman_config_directives[i].directive;
            }
        }

        child = node->children;
        found = ngx_wsman_config_find_directive(child);
        if (found) {
            return found;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_wsman_config_put(ngx_wsman_call_t *call)
{
    u_char      *msg, *last;
    size_t       len;
    const char  *directive;

    directive = ngx_wsman_config_find_directive(call->req->payload);

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
ngx_wsman_config_root(ngx_wsman_xml_t *x, ngx_wsman_loc_conf_t *conf)
{
    ngx_wsman_xml_literal(x, "<cfg:Config xmlns:cfg=\""
                          NGX_WSMAN_NS_CONFIG "\">");

    ngx_wsman_config_uint(x, "MaxEnvelopeSizekb",
                          conf->max_envelope_size / 1024);
    ngx_wsman_config_uint(x, "MaxTimeoutms", conf->max_timeout);
    ngx_wsman_config_uint(x, "MaxBatchItems", conf->max_batch_items);

    ngx_wsman_config_service(x, conf);
    ngx_wsman_config_winrs(x, conf);

    ngx_wsman_xml_literal(x, "</cfg:Config>");
}


static void
ngx_wsman_config_service(ngx_wsman_xml_t *x, ngx_wsman_loc_conf_t *conf)
{
    ngx_wsman_xml_literal(x, "<cfg:Service xmlns:cfg=\""
                          NGX_WSMAN_NS_CONFIG "\"><cfg:RootSDDL>");
    ngx_wsman_xml_text_str(x, &conf->root_sddl);
    ngx_wsman_xml_literal(x, "</cfg:RootSDDL>");

    ngx_wsman_config_uint(x, "EnumerationTimeoutms",
                          conf->enumeration_timeout);
    ngx_wsman_config_bool(x, "AllowUnencrypted", conf->allow_unencrypted);
    ngx_wsman_config_auth(x, conf);

    ngx_wsman_xml_literal(x, "</cfg:Service>");
}


static void
ngx_wsman_config_auth(ngx_wsman_xml_t *x, ngx_wsman_loc_conf_t *conf)
{
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


/* no remote shell yet: AllowRemoteShellAccess says so */
static void
ngx_wsman_config_winrs(ngx_wsman_xml_t *x, ngx_wsman_loc_conf_t *conf)
{
    ngx_wsman_xml_literal(x, "<cfg:Winrs xmlns:cfg=\""
                          NGX_WSMAN_NS_CONFIG "\">");

    ngx_wsman_config_bool(x, "AllowRemoteShellAccess", 0);
    ngx_wsman_config_uint(x, "IdleTimeout", NGX_WSMAN_WINRS_IDLE_TIMEOUT);
    ngx_wsman_config_uint(x, "MaxConcurrentUsers",
                          NGX_WSMAN_WINRS_UNLIMITED);
    ngx_wsman_config_uint(x, "MaxShellRunTime", NGX_WSMAN_WINRS_UNLIMITED);
    ngx_wsman_config_uint(x, "MaxProcessesPerShell",
                          NGX_WSMAN_WINRS_UNLIMITED);
    ngx_wsman_config_uint(x, "MaxMemoryPerShellMB",
                          NGX_WSMAN_WINRS_UNLIMITED);
    ngx_wsman_config_uint(x, "MaxShellsPerUser", NGX_WSMAN_WINRS_UNLIMITED);

    ngx_wsman_xml_literal(x, "</cfg:Winrs>");
}
