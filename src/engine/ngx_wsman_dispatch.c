/*
 * Route a parsed request to a plug-in operation: Identify by its body,
 * everything else by the longest matching resource-URI prefix, then by
 * action.
 */

#include <libxml/parser.h>

#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_log.h"
#include "ngx_wsman_plugin.h"
#include "ngx_wsman_soap.h"


#define NGX_WSMAN_FRAGMENT_DIALECT                                          \
    "http://www.w3.org/TR/1999/REC-xpath-19991116"

/* path parts of a fragment expression */
#define NGX_WSMAN_FRAGMENT_MAX_DEPTH  8


static ngx_int_t ngx_wsman_fragment_unsupported(ngx_wsman_call_t *call,
    const char *message);


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
    ngx_wsman_plugin_t  *best, *p;

    best = NULL;
    i = 0;

    while ((p = ngx_wsman_registry_service(&i)) != NULL) {

        /*
         * A prefix covers the whole URI, or a part of it ending at '/' or
         * '?': "…/config" serves "…/config/service" but not
         * "…/configuration".  Case does not matter, as on Windows; the
         * SDDLs that protect the URI are looked up by the same rule.
         */
        if (!ngx_wsman_access_covers(&p->resource_prefix, resource_uri)) {
            continue;
        }

        if (best == NULL
            || p->resource_prefix.len > best->resource_prefix.len)
        {
            best = p;
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
    ngx_wsman_plugin_t    *svc;
    ngx_wsman_provider_t  *prov;

    p = *prefix;

    while (p.len && p.data[p.len - 1] == '/') {
        p.len--;
    }

    i = 0;

    while ((svc = ngx_wsman_registry_service(&i)) != NULL) {
        if (svc->resource_prefix.len == 0) {
            continue;
        }

        if (ngx_wsman_access_covers(&p, &svc->resource_prefix)
            || (svc->execute_only
                && ngx_wsman_access_covers(&svc->resource_prefix, &p)))
        {
            return 1;
        }
    }

    if (ngx_wsman_registry_serves(&p)) {
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


#if (NGX_DEBUG)
static ngx_str_t  ngx_wsman_dispatch_none = ngx_string("none");
#endif


/*
 * The plug-in and the class of the last resource URI this worker
 * dispatched.  Clients send one URI again and again (a shell's Receive
 * loop, a poller's Gets), and finding both walks every service and every
 * provider, comparing URIs without regard to case (~4k instructions a
 * request).  The answer depends only on the URI's bytes and on the
 * registry, whose generation changes whenever another is put in use.
 */

#define NGX_WSMAN_DISPATCH_MEMO_LEN  512

static struct {
    ngx_uint_t              generation;
    size_t                  len;
    ngx_wsman_plugin_t     *plugin;
    ngx_wsman_provider_t   *provider;
    u_char                  uri[NGX_WSMAN_DISPATCH_MEMO_LEN];
} ngx_wsman_dispatch_memo;


/*
 * A request without a w:ResourceURI whose action a service takes as a
 * delivery becomes a request for that service's prefix: the access
 * check and the plug-in see it so.
 */
static void
ngx_wsman_dispatch_delivery(ngx_wsman_call_t *call)
{
    ngx_uint_t           i, k;
    ngx_wsman_plugin_t  *p;

    i = 0;

    while ((p = ngx_wsman_registry_service(&i)) != NULL) {
        for (k = 0; p->deliveries && p->deliveries[k]; k++) {
            if (ngx_wsman_action_is(&call->req->action, p->deliveries[k])) {
                call->req->resource_uri = p->resource_prefix;
                return;
            }
        }
    }
}


static void
ngx_wsman_dispatch_resource(ngx_wsman_call_t *call)
{
    ngx_str_t   *uri;
    ngx_uint_t   generation;

    uri = &call->req->resource_uri;
    generation = ngx_wsman_registry_generation();

    if (uri->len == 0) {
        ngx_wsman_dispatch_delivery(call);

        if (uri->len == 0) {
            return;
        }
    }

    if (uri->len
        && ngx_wsman_dispatch_memo.generation == generation
        && ngx_wsman_dispatch_memo.len == uri->len
        && ngx_memcmp(ngx_wsman_dispatch_memo.uri, uri->data, uri->len) == 0)
    {
        call->plugin = ngx_wsman_dispatch_memo.plugin;
        call->provider = ngx_wsman_dispatch_memo.provider;
        return;
    }

    call->plugin = ngx_wsman_find_plugin(uri);

    /* the access check and the engine both work on this class */
    call->provider = ngx_wsman_enum_provider(uri);

    if (uri->len && uri->len <= NGX_WSMAN_DISPATCH_MEMO_LEN) {
        ngx_memcpy(ngx_wsman_dispatch_memo.uri, uri->data, uri->len);
        ngx_wsman_dispatch_memo.len = uri->len;
        ngx_wsman_dispatch_memo.plugin = call->plugin;
        ngx_wsman_dispatch_memo.provider = call->provider;
        ngx_wsman_dispatch_memo.generation = generation;
    }
}


ngx_int_t
ngx_wsman_dispatch(ngx_wsman_call_t *call)
{
    ngx_int_t            rc;
    ngx_uint_t           i;
    ngx_wsman_op_pt      op;
    ngx_wsman_plugin_t  *p;

    if (call->req->identify) {
        i = 0;

        while ((p = ngx_wsman_registry_service(&i)) != NULL) {
            if (p->identify && p->invoke) {
                call->plugin = p;
                return p->invoke(call);
            }
        }

        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                    "Identify is not served.");
    }

    ngx_wsman_dispatch_resource(call);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, call->log, 0,
                   "wsman dispatch: resource:\"%V\" plug-in:\"%V\"",
                   ngx_wsman_log_escape(call->pool,
                                        &call->req->resource_uri),
                   call->plugin ? &call->plugin->name
                                : &ngx_wsman_dispatch_none);

    /* before anything about the resource is revealed */
    rc = ngx_wsman_access_check(call);
    if (rc != NGX_OK) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : NGX_ERROR;
    }

    /*
     * w:FragmentTransfer is mustUnderstand: only Get honours it (see
     * ngx_wsman_call_fragment()), everything else must say so
     */
    if (call->req->fragment_transfer) {
        if (call->req->fragment_dialect.len
            && (call->req->fragment_dialect.len
                != sizeof(NGX_WSMAN_FRAGMENT_DIALECT) - 1
                || ngx_strncmp(call->req->fragment_dialect.data,
                               NGX_WSMAN_FRAGMENT_DIALECT,
                               call->req->fragment_dialect.len)
                   != 0))
        {
            return ngx_wsman_fragment_unsupported(call,
                       "Fragments use the XPath-level dialect "
                       "(" NGX_WSMAN_FRAGMENT_DIALECT ").");
        }

        if (!ngx_wsman_action_is(&call->req->action, NGX_WSMAN_ACTION_GET)) {
            return ngx_wsman_fragment_unsupported(call,
                       "Only Get transfers fragments.");
        }
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

    rc = op(call);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, call->log, 0,
                   "wsman plug-in \"%V\": rc:%i fault:%ui",
                   &call->plugin->name, rc, (ngx_uint_t) call->fault.id);

    return rc;
}


static ngx_int_t
ngx_wsman_fragment_unsupported(ngx_wsman_call_t *call, const char *message)
{
    ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_UNSUPPORTED_FEATURE, message);
    ngx_str_set(&call->fault.detail,
                NGX_WSMAN_FAULT_DETAIL "FragmentLevelAccess");

    return NGX_OK;
}


/* an NCName, perhaps with a prefix we ignore: "cfg:Auth" -> "Auth" */
static ngx_int_t
ngx_wsman_fragment_name(ngx_str_t *part)
{
    u_char  *p, *colon;

    colon = ngx_strlchr(part->data, part->data + part->len, ':');

    if (colon) {
        part->len -= colon + 1 - part->data;
        part->data = colon + 1;
    }

    if (part->len == 0
        || !((part->data[0] >= 'A' && part->data[0] <= 'Z')
             || (part->data[0] >= 'a' && part->data[0] <= 'z')
             || part->data[0] == '_'))
    {
        return NGX_DECLINED;
    }

    for (p = part->data; p < part->data + part->len; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
              || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'
              || *p == '.'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static xmlNodePtr
ngx_wsman_fragment_child(xmlNodePtr parent, ngx_str_t *name)
{
    xmlNodePtr  node;

    for (node = parent->children; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE
            && ngx_strlen(node->name) == name->len
            && ngx_strncmp(node->name, name->data, name->len) == 0)
        {
            return node;
        }
    }

    return NULL;
}


/*
 * Fragment Get (WS-Management's FragmentTransfer, the XPath-level dialect
 * Windows supports): a Get that has written its object into call->body
 * answers only the part the expression names, in <w:XmlFragment>.  The
 * expression is a path of element names below the object ("Auth/Basic",
 * the object's own name may lead: "Service/Auth/Basic"), perhaps ending
 * in "/text()"; prefixes are ignored.  Anything more of XPath is refused
 * with w:UnsupportedFeature (FragmentLevelAccess).
 */
ngx_int_t
ngx_wsman_call_fragment(ngx_wsman_call_t *call)
{
    u_char           *p, *end, *slash;
    ngx_int_t         rc;
    ngx_str_t         expr, part, root_name;
    ngx_uint_t        n, text, first;
    xmlDocPtr         doc, out;
    xmlNodePtr        node, copy;
    xmlChar          *content;
    xmlBufferPtr      buf;

    if (!call->req->fragment_transfer || call->fault.id) {
        return NGX_OK;
    }

    expr = call->req->fragment;
    text = 0;

    if (expr.len && expr.data[0] == '/') {
        expr.data++;
        expr.len--;
    }

    if (expr.len >= sizeof("/text()") - 1
        && ngx_strncmp(expr.data + expr.len - (sizeof("/text()") - 1),
                       "/text()", sizeof("/text()") - 1)
           == 0)
    {
        expr.len -= sizeof("/text()") - 1;
        text = 1;
    }

    if (expr.len == 0) {
        return ngx_wsman_fragment_unsupported(call,
                   "The fragment expression is empty.");
    }

    doc = ngx_wsman_xml_doc(call->pool, &call->body);
    if (doc == NULL) {
        ngx_log_error(NGX_LOG_ERR, call->log, 0,
                      "wsman: fragment: the object is not well-formed");
        return NGX_ERROR;
    }

    node = xmlDocGetRootElement(doc);
    rc = NGX_OK;
    first = 1;
    n = 0;

    p = expr.data;
    end = expr.data + expr.len;

    while (p <= end && node) {
        slash = ngx_strlchr(p, end, '/');
        if (slash == NULL) {
            slash = end;
        }

        part.data = p;
        part.len = slash - p;
        p = slash + 1;

        if (++n > NGX_WSMAN_FRAGMENT_MAX_DEPTH
            || ngx_wsman_fragment_name(&part) != NGX_OK)
        {
            rc = NGX_DECLINED;
            break;
        }

        /* the object's own name may lead the path */
        root_name.data = (u_char *) node->name;
        root_name.len = ngx_strlen(node->name);

        if (first && ngx_wsman_fragment_child(node, &part) == NULL
            && root_name.len == part.len
            && ngx_strncmp(root_name.data, part.data, part.len) == 0)
        {
            first = 0;
            continue;
        }

        first = 0;
        node = ngx_wsman_fragment_child(node, &part);
    }

    if (rc == NGX_DECLINED) {
        xmlFreeDoc(doc);
        return ngx_wsman_fragment_unsupported(call,
                   "A fragment is a path of element names, perhaps ending "
                   "in /text().");
    }

    if (node == NULL) {
        xmlFreeDoc(doc);
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER,
                                    "The fragment names nothing in the "
                                    "resource.");
    }

    ngx_wsman_xml_init(&call->body, call->pool, 1024);
    ngx_wsman_xml_literal(&call->body, "<w:XmlFragment>");

    if (text) {
        content = xmlNodeGetContent(node);
        if (content == NULL) {
            xmlFreeDoc(doc);
            return NGX_ERROR;
        }

        ngx_wsman_xml_text(&call->body, content, ngx_strlen(content));
        xmlFree(content);

    } else {
        /* a copy in a document of its own declares its namespaces */
        out = xmlNewDoc((const xmlChar *) "1.0");
        copy = out ? xmlDocCopyNode(node, out, 1) : NULL;
        buf = copy ? xmlBufferCreate() : NULL;

        if (buf == NULL) {
            if (copy) {
                xmlFreeNode(copy);
            }

            if (out) {
                xmlFreeDoc(out);
            }

            xmlFreeDoc(doc);
            return NGX_ERROR;
        }

        xmlDocSetRootElement(out, copy);

        if (xmlNodeDump(buf, out, copy, 0, 0) < 0) {
            xmlBufferFree(buf);
            xmlFreeDoc(out);
            xmlFreeDoc(doc);
            return NGX_ERROR;
        }

        ngx_wsman_xml_raw(&call->body, xmlBufferContent(buf),
                          xmlBufferLength(buf));

        xmlBufferFree(buf);
        xmlFreeDoc(out);
    }

    ngx_wsman_xml_literal(&call->body, "</w:XmlFragment>");

    xmlFreeDoc(doc);

    return NGX_OK;
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
