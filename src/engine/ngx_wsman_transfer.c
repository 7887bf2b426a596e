/*
 * The resource engine: the class providers (resolving a resource URI to
 * its class, selectors, keys), and Get and Invoke over them.
 */

#include "ngx_wsman_engine_int.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_enum_tree.h"
#include "ngx_wsman_util.h"
#include "ngx_wsman_access.h"
#include "ngx_wsman_cimxml.h"
#include "ngx_wsman_duration.h"
#include "ngx_wsman_log.h"
#include "ngx_wsman_soap.h"
#include "ngx_wsman_wql.h"
#include "ngx_wsman_plugin.h"


/* ------------------------------------------------------------ providers */

/*
 * A provider whose data is not at hand starts getting it and the
 * operation runs again from the start when it is there: NGX_OK go on,
 * NGX_AGAIN wait, NGX_WSMAN_FAULTED the fault is set, NGX_ERROR.
 */
ngx_int_t
ngx_wsman_enum_fetch(ngx_wsman_call_t *call, ngx_wsman_provider_t *prov,
    ngx_wsman_op_pt resume)
{
    if (prov->fetch == NULL) {
        return NGX_OK;
    }

    /* the provider's "fault set" is the engine's */
    return prov->fetch(prov, call, resume);
}


/*
 * Every provider, one after the other: *i starts at 0; NULL at the end.
 */
ngx_wsman_provider_t *
ngx_wsman_enum_next_provider(ngx_uint_t *i)
{
    return ngx_wsman_registry_provider(i);
}


ngx_str_t *
ngx_wsman_enum_canonical(ngx_wsman_provider_t *prov)
{
    return prov->canonical.len ? &prov->canonical : &prov->resource_uri;
}


/*
 * The class a resource URI names.  URIs are compared as Windows does,
 * case-insensitively, and a trailing slash changes nothing: the access
 * check and the data must agree on what a spelling names.
 */
ngx_wsman_provider_t *
ngx_wsman_enum_provider(ngx_str_t *uri)
{
    size_t                 len;
    ngx_uint_t             i;
    ngx_wsman_provider_t  *prov;

    len = uri->len;

    while (len && uri->data[len - 1] == '/') {
        len--;
    }

    if (len == 0) {
        return NULL;
    }

    i = 0;

    while ((prov = ngx_wsman_enum_next_provider(&i)) != NULL) {
        if (prov->resource_uri.len == len
            && ngx_strncasecmp(prov->resource_uri.data, uri->data, len) == 0)
        {
            return prov;
        }
    }

    return NULL;
}


/* every URI the class of prov answers to; the canonical one first */
ngx_uint_t
ngx_wsman_enum_class_uris(ngx_wsman_provider_t *prov, ngx_str_t *uris,
    ngx_uint_t max)
{
    ngx_uint_t             i, n;
    ngx_str_t             *canonical;
    ngx_wsman_provider_t  *p;

    canonical = ngx_wsman_enum_canonical(prov);

    uris[0] = *canonical;
    n = 1;
    i = 0;

    while (n < max && (p = ngx_wsman_enum_next_provider(&i)) != NULL) {
        if (p->resource_uri.len == canonical->len
            && ngx_strncasecmp(p->resource_uri.data, canonical->data,
                               canonical->len) == 0)
        {
            continue;
        }

        if (p->canonical.len == canonical->len
            && ngx_strncasecmp(p->canonical.data, canonical->data,
                               canonical->len) == 0)
        {
            uris[n++] = p->resource_uri;
        }
    }

    return n;
}


/*
 * Do the selectors name one instance?  They must give every identifying
 * key of the class (its id_keys, else its key), unless the class has
 * just one instance.  Sets the fault and returns 0 when they do not.
 */
static ngx_uint_t
ngx_wsman_enum_selectors_enough(ngx_wsman_call_t *call,
    ngx_wsman_provider_t *prov)
{
    size_t              len;
    ngx_str_t           key;
    ngx_uint_t          i, k;
    const char         *one[2], **keys;
    ngx_wsman_pair_t   *sel;

    if (prov->singleton) {
        return 1;
    }

    one[0] = (const char *) prov->key.data;
    one[1] = NULL;

    keys = prov->id_keys ? prov->id_keys : one;
    sel = call->req->selectors.elts;

    for (k = 0; keys[k]; k++) {
        len = (keys == one) ? prov->key.len : ngx_strlen(keys[k]);

        for (i = 0; i < call->req->selectors.nelts; i++) {
            if (sel[i].name.len == len
                && ngx_strncasecmp(sel[i].name.data, (u_char *) keys[k],
                                   len) == 0)
            {
                break;
            }
        }

        if (i == call->req->selectors.nelts) {
            key.data = (u_char *) keys[k];
            key.len = len;

            ngx_log_error(NGX_LOG_INFO, call->log, 0,
                          "wsman: %V: the selectors do not give the key "
                          "\"%V\"", &prov->class_name, &key);

            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                 "The selectors do not identify one "
                                 "instance: a key of the class is "
                                 "missing.");
            ngx_str_set(&call->fault.detail,
                        NGX_WSMAN_FAULT_DETAIL "InsufficientSelectors");
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_wsman_enum_key(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    ngx_wsman_instance_t *inst, ngx_str_t *key)
{
    ngx_wsman_prop_t  *prop;

    prop = ngx_wsman_instance_prop(inst, prov->key.data, prov->key.len);

    if (prop == NULL || ngx_wsman_prop_text(pool, prop, key) != NGX_OK) {
        ngx_str_null(key);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* ---------------------------------------------------------------- Get */

/* every selector must name a key property of the class */
static ngx_int_t
ngx_wsman_enum_selectors_match(ngx_pool_t *pool, ngx_array_t *selectors,
    ngx_wsman_instance_t *inst, ngx_uint_t *unknown)
{
    ngx_str_t          text;
    ngx_uint_t         i;
    ngx_wsman_pair_t  *sel;
    ngx_wsman_prop_t  *prop;

    sel = selectors->elts;
    *unknown = 0;

    for (i = 0; i < selectors->nelts; i++) {
        prop = ngx_wsman_instance_prop(inst, sel[i].name.data,
                                       sel[i].name.len);

        if (prop == NULL || !prop->key) {
            *unknown = 1;
            return 0;
        }

        if (ngx_wsman_prop_text(pool, prop, &text) != NGX_OK
            || text.len != sel[i].value.len
            || ngx_strncmp(text.data, sel[i].value.data, text.len) != 0)
        {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_wsman_enum_get(ngx_wsman_call_t *call)
{
    ngx_int_t               rc;
    ngx_str_t               after;
    ngx_uint_t              i, done, unknown, seen_unknown;
    ngx_array_t             out;
    ngx_wsman_instance_t   *inst, **found, *found_inst;
    ngx_wsman_provider_t   *prov;

    prov = call->provider;

    if (prov == NULL) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                    "No such class.");
    }

    if (!ngx_wsman_enum_selectors_enough(call, prov)) {
        return NGX_OK;
    }

    rc = ngx_wsman_enum_fetch(call, prov, ngx_wsman_enum_get);
    if (rc != NGX_OK) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : rc;
    }

    found_inst = NULL;

    if (prov->get && call->req->selectors.nelts) {
        rc = prov->get(prov, call->pool, call->log, &call->req->selectors,
                       &found_inst);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        /* the provider says the selectors are not the class's keys */
        if (rc == NGX_ABORT) {
            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                 "The selectors are not the keys of the "
                                 "class.");
            ngx_str_set(&call->fault.detail,
                        NGX_WSMAN_FAULT_DETAIL "UnexpectedSelectors");
            return NGX_OK;
        }

        if (rc == NGX_DECLINED) {
            found_inst = NULL;
        }

    } else {
        /* walk the class: small classes, or a singleton without keys */
        ngx_str_null(&after);
        seen_unknown = 0;

        for ( ;; ) {
            if (ngx_array_init(&out, call->pool, NGX_WSMAN_ENUM_CHUNK,
                               sizeof(ngx_wsman_instance_t *))
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            done = 0;

            if (prov->enumerate(prov, call->pool, call->log, &after,
                                NGX_WSMAN_ENUM_CHUNK, &out, &done)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            found = out.elts;

            for (i = 0; i < out.nelts && found_inst == NULL; i++) {
                inst = found[i];

                if (ngx_wsman_enum_selectors_match(call->pool,
                                                   &call->req->selectors,
                                                   inst, &unknown))
                {
                    found_inst = inst;
                }

                seen_unknown |= unknown;
            }

            if (found_inst || done || out.nelts == 0) {
                break;
            }

            if (ngx_wsman_enum_key(call->pool, prov, found[out.nelts - 1],
                                   &after)
                != NGX_OK)
            {
                break;
            }
        }

        if (found_inst == NULL && seen_unknown) {
            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_SELECTORS,
                                 "A selector is not a key of the class.");
            ngx_str_set(&call->fault.detail,
                        NGX_WSMAN_FAULT_DETAIL "UnexpectedSelectors");
            return NGX_OK;
        }
    }

    if (found_inst == NULL) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                    "No instance matches the selectors.");
    }

    ngx_str_set(&call->action, NGX_WSMAN_NS_WXF "/GetResponse");
    ngx_wsman_cimxml_object(&call->body, call->pool, found_inst, NULL);

    return ngx_wsman_call_fragment(call);
}


/* ------------------------------------------------------------- Invoke */

ngx_int_t
ngx_wsman_enum_invoke(ngx_wsman_call_t *call)
{
    u_char                *p;
    ngx_int_t              rc, rv;
    ngx_str_t             *action, method;
    ngx_wsman_provider_t  *prov;

    prov = call->provider;
    action = &call->req->action;

    /* custom actions are the class URI plus "/Method" */
    if (prov == NULL || prov->invoke == NULL
        || action->len <= prov->resource_uri.len + 1
        || ngx_strncasecmp(action->data, prov->resource_uri.data,
                           prov->resource_uri.len) != 0
        || action->data[prov->resource_uri.len] != '/')
    {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                    NULL);
    }

    method.data = action->data + prov->resource_uri.len + 1;
    method.len = action->len - prov->resource_uri.len - 1;

    /* it becomes an element name in the answer */
    for (p = method.data; p < method.data + method.len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '_'))
        {
            return ngx_wsman_call_fault(call,
                                        NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                        NULL);
        }
    }

    if (!ngx_wsman_enum_selectors_enough(call, prov)) {
        return NGX_OK;
    }

    rc = ngx_wsman_enum_fetch(call, prov, ngx_wsman_enum_invoke);
    if (rc != NGX_OK) {
        return rc == NGX_WSMAN_FAULTED ? NGX_OK : rc;
    }

    rv = 0;
    rc = prov->invoke(prov, call, &method, &rv);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (call->fault.id != NGX_WSMAN_FAULT_NONE) {
        return NGX_OK;
    }

    if (rc == NGX_DECLINED) {
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                    "No instance matches the selectors.");
    }

    if (rc == NGX_ABORT) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                    NULL);
    }

    p = ngx_pnalloc(call->pool, action->len + sizeof("Response") - 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    call->action.data = p;
    p = ngx_cpymem(p, action->data, action->len);
    p = ngx_cpymem(p, "Response", sizeof("Response") - 1);
    call->action.len = p - call->action.data;

    ngx_wsman_xml_literal(&call->body, "<p:");
    ngx_wsman_xml_str(&call->body, &method);
    ngx_wsman_xml_literal(&call->body, "_OUTPUT xmlns:p=\"");
    ngx_wsman_xml_text_str(&call->body, &prov->resource_uri);
    ngx_wsman_xml_literal(&call->body, "\"><p:ReturnValue>");
    ngx_wsman_xml_uint(&call->body, (uint64_t) rv);
    ngx_wsman_xml_literal(&call->body, "</p:ReturnValue></p:");
    ngx_wsman_xml_str(&call->body, &method);
    ngx_wsman_xml_literal(&call->body, "_OUTPUT>");

    return NGX_OK;
}
