/*
 * Route a parsed request to a plug-in operation: Identify by its body,
 * everything else by the longest matching resource-URI prefix, then by
 * action.
 */

#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_plugins.h"


static ngx_wsman_plugin_t  *ngx_wsman_plugins[] = {
    &ngx_wsman_config_plugin,
    &ngx_wsman_cim_plugin,
    &ngx_wsman_wmi_plugin,
    &ngx_wsman_shell_plugin,
    NULL
};


typedef struct {
    ngx_str_t                  action;
    size_t                     offset;       /* of the handler */
} ngx_wsman_action_map_t;


static ngx_wsman_action_map_t  ngx_wsman_actions[] = {
    { ngx_string(NGX_WSMAN_ACTION_GET),
      offsetof(ngx_wsman_plugin_t, get) },
    { ngx_string(NGX_WSMAN_ACTION_PUT),
      offsetof(ngx_wsman_plugin_t, put) },
    { ngx_string(NGX_WSMAN_ACTION_CREATE),
      offsetof(ngx_wsman_plugin_t, create) },
    { ngx_string(NGX_WSMAN_ACTION_DELETE),
      offsetof(ngx_wsman_plugin_t, delete) },
    { ngx_string(NGX_WSMAN_NS_WSEN "/Enumerate"),
      offsetof(ngx_wsman_plugin_t, enumerate) },
    { ngx_null_string, 0 }
};


/*
 * A prefix matches the whole URI, or a part of it ending at '/' or '?':
 * "…/config" serves "…/config/service" but not "…/configuration".  Case
 * does not matter, as on Windows: the classes below are looked up the
 * same way, and so are the SDDLs that protect them.
 */
static ngx_int_t
ngx_wsman_prefix_matches(ngx_str_t *prefix, ngx_str_t *uri)
{
    if (prefix->len > uri->len
        || ngx_strncasecmp(prefix->data, uri->data, prefix->len) != 0)
    {
        return 0;
    }

    return uri->len == prefix->len
           || uri->data[prefix->len] == '/'
           || uri->data[prefix->len] == '?';
}


static ngx_int_t
ngx_wsman_action_is(ngx_str_t *action, const char *name)
{
    size_t  len;

    len = ngx_strlen(name);

    return action->len == len && ngx_strncmp(action->data, name, len) == 0;
}


ngx_wsman_plugin_t *
ngx_wsman_find_plugin(ngx_str_t *resource_uri)
{
    ngx_uint_t           i;
    ngx_wsman_plugin_t  *best;

    best = NULL;

    for (i = 0; ngx_wsman_plugins[i]; i++) {

        if (!ngx_wsman_prefix_matches(&ngx_wsman_plugins[i]->resource_prefix,
                                      resource_uri))
        {
            continue;
        }

        if (best == NULL
            || ngx_wsman_plugins[i]->resource_prefix.len
               > best->resource_prefix.len)
        {
            best = ngx_wsman_plugins[i];
        }
    }

    return best;
}


/*
 * Does anything answer under a wsman_resource_sddl prefix?  A class (or
 * a plug-in) whose URI the prefix covers, a URI the class engine serves
 * (a wildcard enumeration URI), a configuration resource, or anything
 * below a plug-in that is not made of classes (shells).
 */
ngx_int_t
ngx_wsman_dispatch_serves(ngx_str_t *prefix)
{
    ngx_str_t              p, ns;
    ngx_uint_t             i;
    ngx_wsman_provider_t  *prov;

    p = *prefix;

    while (p.len && p.data[p.len - 1] == '/') {
        p.len--;
    }

    for (i = 0; ngx_wsman_plugins[i]; i++) {
        if (ngx_wsman_access_covers(&p, &ngx_wsman_plugins[i]->resource_prefix)
            || (ngx_wsman_plugins[i]->execute_only
                && ngx_wsman_access_covers(
                       &ngx_wsman_plugins[i]->resource_prefix, &p)))
        {
            return 1;
        }
    }

    if (ngx_wsman_config_serves(&p)) {
        return 1;
    }

    /* a wildcard URI (".../cimv2/" and "*"): its namespace holds a class */
    ns = p;

    if (ns.len && ns.data[ns.len - 1] == '*') {
        ns.len--;
    }

    i = 0;

    while ((prov = ngx_wsman_enum_next_provider(&i)) != NULL) {
        if (ngx_wsman_access_covers(&ns, &prov->resource_uri)) {
            return 1;
        }
    }

    return 0;
}


static ngx_wsman_op_pt
ngx_wsman_find_op(ngx_wsman_plugin_t *plugin, ngx_str_t *action)
{
    ngx_uint_t  i;

    for (i = 0; ngx_wsman_actions[i].action.len; i++) {
        if (action->len == ngx_wsman_actions[i].action.len
            && ngx_strncmp(action->data, ngx_wsman_actions[i].action.data,
                           action->len) == 0)
        {
            return *(ngx_wsman_op_pt *) ((u_char *) plugin
                                         + ngx_wsman_actions[i].offset);
        }
    }

    return plugin->invoke;
}


ngx_int_t
ngx_wsman_dispatch(ngx_wsman_call_t *call)
{
    ngx_int_t         rc;
    ngx_wsman_op_pt   op;

    if (call->req->identify) {
        call->plugin = &ngx_wsman_identify_plugin;
        return ngx_wsman_identify_plugin.invoke(call);
    }

    call->plugin = ngx_wsman_find_plugin(&call->req->resource_uri);

    /* before anything about the resource is revealed */
    rc = ngx_wsman_access_check(call);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : NGX_ERROR;
    }

    /* a context knows its class: Pull and Release need no plug-in */
    if (ngx_wsman_action_is(&call->req->action, NGX_WSMAN_ACTION_PULL)) {
        return ngx_wsman_enum_pull(call);
    }

    if (ngx_wsman_action_is(&call->req->action, NGX_WSMAN_ACTION_RELEASE)) {
        return ngx_wsman_enum_release(call);
    }

    if (call->plugin == NULL) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                    call->req->resource_uri.len
                                    ? NULL
                                    : "The request has no w:ResourceURI.");
    }

    op = ngx_wsman_find_op(call->plugin, &call->req->action);

    if (op == NULL) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                    NULL);
    }

    return op(call);
}


ngx_int_t
ngx_wsman_call_fault(ngx_wsman_call_t *call, ngx_wsman_fault_e id,
    const char *message)
{
    call->fault.id = id;

    if (message) {
        call->fault.message.data = (u_char *) message;
        call->fault.message.len = ngx_strlen(message);
    }

    return NGX_OK;
}


void
ngx_wsman_call_finish(ngx_wsman_call_t *call, ngx_int_t rc)
{
    call->done(call, rc);
}
