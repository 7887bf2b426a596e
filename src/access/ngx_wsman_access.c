/*
 * May this identity do this operation on this resource?  A resource that
 * is a class is checked as the class, whichever of its URIs (or WQL FROM,
 * or enumeration context) reached it; anything else by its URI.  The SDDL
 * is the longest wsman_resource_sddl prefix covering the resource's URIs,
 * else RootSDDL.  Rights follow WinRM: reads need GR, changes GW,
 * everything else (shells, custom actions) GX; Identify needs none and
 * never gets here.
 */

#include "ngx_wsman_access.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_identity.h"
#include "ngx_wsman_log.h"


typedef struct {
    ngx_str_t                  action;
    uint32_t                   right;
} ngx_wsman_access_right_t;


static ngx_wsman_access_right_t  ngx_wsman_access_rights[] = {
    { ngx_string(NGX_WSMAN_ACTION_GET), NGX_WSMAN_RIGHT_GR },
    { ngx_string(NGX_WSMAN_NS_WSEN "/Enumerate"), NGX_WSMAN_RIGHT_GR },
    { ngx_string(NGX_WSMAN_NS_WSEN "/Pull"), NGX_WSMAN_RIGHT_GR },
    { ngx_string(NGX_WSMAN_NS_WSEN "/Release"), NGX_WSMAN_RIGHT_GR },
    { ngx_string(NGX_WSMAN_NS_WSEN "/Renew"), NGX_WSMAN_RIGHT_GR },
    { ngx_string(NGX_WSMAN_NS_WSEN "/GetStatus"), NGX_WSMAN_RIGHT_GR },
    { ngx_string(NGX_WSMAN_NS_WSEV "/Subscribe"), NGX_WSMAN_RIGHT_GR },
    { ngx_string(NGX_WSMAN_NS_WSEV "/Unsubscribe"), NGX_WSMAN_RIGHT_GR },
    { ngx_string(NGX_WSMAN_NS_WSEV "/Renew"), NGX_WSMAN_RIGHT_GR },
    { ngx_string(NGX_WSMAN_ACTION_PUT), NGX_WSMAN_RIGHT_GW },
    { ngx_string(NGX_WSMAN_ACTION_CREATE), NGX_WSMAN_RIGHT_GW },
    { ngx_string(NGX_WSMAN_ACTION_DELETE), NGX_WSMAN_RIGHT_GW },
    { ngx_null_string, 0 }
};


static ngx_int_t ngx_wsman_access_decide(ngx_wsman_call_t *call,
    ngx_str_t *uris, ngx_uint_t n, ngx_str_t *class_name);
static ngx_int_t ngx_wsman_access_scope(ngx_wsman_call_t *call,
    ngx_str_t *uris, ngx_uint_t n, ngx_str_t *what);


static uint32_t
ngx_wsman_access_right(ngx_wsman_call_t *call)
{
    ngx_str_t   *action;
    ngx_uint_t   i;

    /* a shell is driven by Create/Delete too, but all of it is Execute */
    if (call->plugin && call->plugin->execute_only) {
        return NGX_WSMAN_RIGHT_GX;
    }

    action = &call->req->action;

    for (i = 0; ngx_wsman_access_rights[i].action.len; i++) {
        if (action->len == ngx_wsman_access_rights[i].action.len
            && ngx_strncmp(action->data, ngx_wsman_access_rights[i].action.data,
                           action->len) == 0)
        {
            return ngx_wsman_access_rights[i].right;
        }
    }

    return NGX_WSMAN_RIGHT_GX;
}


/* a resource URI without the slashes it may end with */
static void
ngx_wsman_access_trim(ngx_str_t *s)
{
    while (s->len && s->data[s->len - 1] == '/') {
        s->len--;
    }
}


/*
 * Does a wsman_resource_sddl prefix cover a URI?  Whole path parts only
 * ("…/CIM_Process" covers "…/CIM_Process" and "…/CIM_Process/x", not
 * "…/CIM_ProcessExtra"), case-insensitively, trailing slashes ignored.
 */
ngx_int_t
ngx_wsman_access_covers(ngx_str_t *prefix, ngx_str_t *uri)
{
    ngx_str_t  p, u;

    p = *prefix;
    u = *uri;

    ngx_wsman_access_trim(&p);
    ngx_wsman_access_trim(&u);

    /*
     * (a prefix of nothing but slashes covers nothing); clients spell a
     * URI as the server does, so the same bytes are tried first: byte by
     * byte, ngx_strncasecmp() costs ~15 instructions a character, and
     * every request compares whole URIs several times
     */
    if (p.len == 0 || p.len > u.len
        || (ngx_memcmp(p.data, u.data, p.len) != 0
            && ngx_strncasecmp(p.data, u.data, p.len) != 0))
    {
        return 0;
    }

    return p.len == u.len || u.data[p.len] == '/' || u.data[p.len] == '?';
}


/*
 * The SDDL for a resource known by several URIs (a class and its
 * aliases): the longest wsman_resource_sddl prefix that covers any of
 * them, else RootSDDL.  So a prefix set on any URI of a class holds the
 * class under all of them.
 */
static ngx_wsman_sddl_t *
ngx_wsman_access_sddl(ngx_wsman_loc_conf_t *lcf, ngx_str_t *uris,
    ngx_uint_t n)
{
    size_t                      len, best_len;
    ngx_uint_t                  i, k;
    ngx_str_t                   prefix;
    ngx_wsman_resource_sddl_t  *rs, *best;

    best = NULL;
    best_len = 0;

    if (lcf->resource_sddls == NULL
        || lcf->resource_sddls == NGX_CONF_UNSET_PTR)
    {
        return lcf->root_sd;
    }

    rs = lcf->resource_sddls->elts;

    for (i = 0; i < lcf->resource_sddls->nelts; i++) {
        prefix = rs[i].prefix;
        ngx_wsman_access_trim(&prefix);
        len = prefix.len;

        for (k = 0; k < n; k++) {
            if (ngx_wsman_access_covers(&prefix, &uris[k])
                && (best == NULL || len > best_len))
            {
                best = &rs[i];
                best_len = len;
            }
        }
    }

    return best ? best->sd : lcf->root_sd;
}


/*
 * uri= of a certificate mapping: the resource must lie under the prefix,
 * by any of its URIs, by the rule wsman_resource_sddl prefixes follow
 * (ngx_wsman_access_covers()): one rule for both, so a class is in or
 * out of a scope whichever spelling of its URI reached it.  No uri=:
 * anywhere.  what: the resource, for the log.
 */
static ngx_int_t
ngx_wsman_access_scope(ngx_wsman_call_t *call, ngx_str_t *uris,
    ngx_uint_t n, ngx_str_t *what)
{
    ngx_str_t   *scope;
    ngx_uint_t   i;

    scope = &call->identity->uri_prefix;

    if (scope->len == 0) {
        return NGX_OK;
    }

    for (i = 0; i < n; i++) {
        if (ngx_wsman_access_covers(scope, &uris[i])) {
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_WARN, call->log, 0,
                  "wsman: access denied: the certificate mapping of user "
                  "\"%V\" is limited to \"%V\", not \"%V\"",
                  ngx_wsman_log_escape(call->pool, &call->identity->user),
                  scope, ngx_wsman_log_escape(call->pool, what));
    ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED, NULL);

    return NGX_WSMAN_FAULTED;
}


static const char *
ngx_wsman_access_right_name(uint32_t right)
{
    switch (right) {
    case NGX_WSMAN_RIGHT_GR:
        return "GR";
    case NGX_WSMAN_RIGHT_GW:
        return "GW";
    default:
        return "GX";
    }
}


ngx_int_t
ngx_wsman_access_check(ngx_wsman_call_t *call)
{
    /* the URI the request names, whatever it names */
    if (ngx_wsman_access_scope(call, &call->req->resource_uri, 1,
                               &call->req->resource_uri)
        != NGX_OK)
    {
        return NGX_WSMAN_FAULTED;
    }

    /* a URI that names a class is that class, under whatever spelling */
    if (call->provider) {
        return ngx_wsman_access_check_class(call, call->provider);
    }

    return ngx_wsman_access_decide(call, &call->req->resource_uri, 1, NULL);
}


/*
 * The decision for a resource known by uris; class: its class name, for
 * the logs (NULL: not a class).
 */
static ngx_int_t
ngx_wsman_access_decide(ngx_wsman_call_t *call, ngx_str_t *uris,
    ngx_uint_t n, ngx_str_t *class_name)
{
    uint32_t               right;
    ngx_int_t              rc;
    ngx_uint_t             audit;
    ngx_str_t              what;
    ngx_array_t            sids;
    ngx_wsman_sddl_t      *sd;
    ngx_wsman_loc_conf_t  *lcf;

    lcf = call->conf;

    if (call->identity->sids && call->identity->sids_conf == lcf) {
        sids = *call->identity->sids;

    } else if (ngx_wsman_identity_sids(call->pool, call->log, lcf,
                                       call->identity, &sids)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    right = ngx_wsman_access_right(call);
    sd = ngx_wsman_access_sddl(lcf, uris, n);

    rc = sd ? ngx_wsman_sddl_access(sd, sids.elts, sids.nelts, right)
            : NGX_DECLINED;

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, call->log, 0,
                   "wsman access: user:\"%V\" %s on \"%V\": %s "
                   "(%ui SIDs)",
                   ngx_wsman_log_escape(call->pool, &call->identity->user),
                   ngx_wsman_access_right_name(right),
                   ngx_wsman_log_escape(call->pool, &uris[0]),
                   rc == NGX_OK ? "allowed" : "denied",
                   (ngx_uint_t) sids.nelts);

    audit = sd ? ngx_wsman_sddl_audit(sd, sids.elts, sids.nelts, right,
                                      NULL, NULL)
               : 0;

    /* a class is named by its class name and canonical URI */
    if (class_name) {
        what.len = sizeof("class  ()") - 1 + class_name->len + uris[0].len;
        what.data = ngx_pnalloc(call->pool, what.len);
        if (what.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(what.data, "class %V (%V)", class_name, &uris[0]);

    } else {
        what = uris[0];
    }

    if (rc == NGX_OK) {
        if (audit & NGX_WSMAN_ACE_AUDIT_SUCCESS) {
            ngx_log_error(NGX_LOG_NOTICE, call->log, 0,
                          "wsman: audit success: user \"%V\" %s on \"%V\" "
                          "action \"%V\"",
                          ngx_wsman_log_escape(call->pool,
                                               &call->identity->user),
                          ngx_wsman_access_right_name(right),
                          ngx_wsman_log_escape(call->pool, &what),
                          ngx_wsman_log_escape(call->pool,
                                               &call->req->action));
        }

        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, call->log, 0,
                  "wsman: access denied%s: user \"%V\" needs %s on \"%V\" "
                  "for action \"%V\" (resource URI \"%V\")",
                  (audit & NGX_WSMAN_ACE_AUDIT_FAILURE) ? " (audit failure)"
                                                        : "",
                  ngx_wsman_log_escape(call->pool, &call->identity->user),
                  ngx_wsman_access_right_name(right),
                  ngx_wsman_log_escape(call->pool, &what),
                  ngx_wsman_log_escape(call->pool, &call->req->action),
                  ngx_wsman_log_escape(call->pool, &call->req->resource_uri));

    ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED, NULL);

    return NGX_WSMAN_FAULTED;
}


/* the SDDL of a class holds it under every URI it answers to */
ngx_int_t
ngx_wsman_access_check_class(ngx_wsman_call_t *call,
    ngx_wsman_provider_t *prov)
{
    ngx_str_t   uris[NGX_WSMAN_ACCESS_MAX_URIS];
    ngx_uint_t  n;

    n = ngx_wsman_enum_class_uris(prov, uris, NGX_WSMAN_ACCESS_MAX_URIS);

    /* the mapping's uri= holds for classes reached by WQL FROM or a Pull
     * too */
    if (ngx_wsman_access_scope(call, uris, n, &prov->class_name) != NGX_OK) {
        return NGX_WSMAN_FAULTED;
    }

    return ngx_wsman_access_decide(call, uris, n, &prov->class_name);
}
