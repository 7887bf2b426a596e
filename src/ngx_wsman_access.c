/*
 * May this identity do this operation on this resource URI?  The SDDL is
 * the longest matching wsman_resource_sddl prefix, else RootSDDL.  Rights
 * follow WinRM: reads need GR, changes GW, everything else (shells,
 * custom actions) GX; Identify needs none and never gets here.
 */

#include "ngx_wsman_access.h"
#include "ngx_wsman_identity.h"
#include "ngx_wsman_auth.h"
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


static ngx_wsman_sddl_t *
ngx_wsman_access_sddl(ngx_wsman_loc_conf_t *lcf, ngx_str_t *uri)
{
    ngx_uint_t                  i;
    ngx_wsman_resource_sddl_t  *rs, *best;

    best = NULL;

    if (lcf->resource_sddls) {
        rs = lcf->resource_sddls->elts;

        for (i = 0; i < lcf->resource_sddls->nelts; i++) {
            if (rs[i].prefix.len <= uri->len
                && ngx_strncasecmp(rs[i].prefix.data, uri->data,
                                   rs[i].prefix.len) == 0
                && (best == NULL || rs[i].prefix.len > best->prefix.len))
            {
                best = &rs[i];
            }
        }
    }

    return best ? best->sd : lcf->root_sd;
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
    uint32_t               right;
    ngx_int_t              rc;
    ngx_uint_t             audit;
    ngx_array_t            sids;
    ngx_wsman_sddl_t      *sd;
    ngx_wsman_loc_conf_t  *lcf;

    lcf = call->conf;

    /* a certificate mapping limited to part of the URI space */
    if (!ngx_wsman_cert_uri_allowed(&call->identity->uri_prefix,
                                    &call->req->resource_uri))
    {
        ngx_log_error(NGX_LOG_WARN, call->log, 0,
                      "wsman: access denied: the certificate mapping of "
                      "user \"%V\" is limited to \"%V\"",
                      &call->identity->user, &call->identity->uri_prefix);
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED, NULL);
        return NGX_DECLINED;
    }

    if (call->identity->sids && call->identity->sids_conf == lcf) {
        sids = *call->identity->sids;

    } else if (ngx_wsman_identity_sids(call->pool, call->log, lcf,
                                       call->identity, &sids)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    right = ngx_wsman_access_right(call);
    sd = ngx_wsman_access_sddl(lcf, &call->req->resource_uri);

    rc = sd ? ngx_wsman_sddl_access(sd, sids.elts, sids.nelts, right)
            : NGX_DECLINED;

    audit = sd ? ngx_wsman_sddl_audit(sd, sids.elts, sids.nelts, right,
                                      NULL, NULL)
               : 0;

    if (rc == NGX_OK) {
        if (audit & NGX_WSMAN_ACE_AUDIT_SUCCESS) {
            ngx_log_error(NGX_LOG_NOTICE, call->log, 0,
                          "wsman: audit success: user \"%V\" %s on \"%V\" "
                          "action \"%V\"",
                          ngx_wsman_log_escape(call->pool,
                                               &call->identity->user),
                          ngx_wsman_access_right_name(right),
                          ngx_wsman_log_escape(call->pool,
                                               &call->req->resource_uri),
                          ngx_wsman_log_escape(call->pool,
                                               &call->req->action));
        }

        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, call->log, 0,
                  "wsman: access denied%s: user \"%V\" needs %s on \"%V\" "
                  "for action \"%V\"",
                  (audit & NGX_WSMAN_ACE_AUDIT_FAILURE) ? " (audit failure)"
                                                        : "",
                  ngx_wsman_log_escape(call->pool, &call->identity->user),
                  ngx_wsman_access_right_name(right),
                  ngx_wsman_log_escape(call->pool, &call->req->resource_uri),
                  ngx_wsman_log_escape(call->pool, &call->req->action));

    ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED, NULL);

    return NGX_DECLINED;
}
