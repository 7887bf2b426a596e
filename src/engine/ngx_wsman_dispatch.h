/*
 * Dispatch and the plug-in API (see also ngx_wsman_plugin.h).
 *
 * A plug-in serves one resource-URI prefix with operation handlers.  A
 * handler reads call->req, writes the s:Body content into call->body and
 * sets call->action, or raises a fault with ngx_wsman_call_fault().  It
 * returns NGX_OK when the answer is ready, or NGX_AGAIN to answer later
 * (from a timer or event) with ngx_wsman_call_finish().
 */

#ifndef _NGX_WSMAN_DISPATCH_H_INCLUDED_
#define _NGX_WSMAN_DISPATCH_H_INCLUDED_


#include "ngx_wsman.h"
#include "ngx_wsman_fault.h"
#include "ngx_wsman_xml.h"


/*
 * "A fault is set": a function below an operation handler that put a
 * fault into call->fault (ngx_wsman_call_fault()) and wants its caller
 * to stop and answer with it returns NGX_WSMAN_FAULTED; an operation
 * handler itself answers the fault with NGX_OK.  NGX_ERROR stays a
 * server failure (500 without a SOAP answer), NGX_AGAIN "later".  It is
 * NGX_DECLINED, which the provider callbacks (ngx_wsman_instance.h) and
 * plug-ins already return with a fault set.
 */
#define NGX_WSMAN_FAULTED  NGX_DECLINED


typedef ngx_int_t (*ngx_wsman_op_pt)(ngx_wsman_call_t *call);
typedef void (*ngx_wsman_done_pt)(ngx_wsman_call_t *call, ngx_int_t rc);


struct ngx_wsman_plugin_s {
    ngx_str_t                  name;
    ngx_str_t                  resource_prefix;

    ngx_wsman_op_pt            get;
    ngx_wsman_op_pt            put;
    ngx_wsman_op_pt            create;
    ngx_wsman_op_pt            delete;
    ngx_wsman_op_pt            enumerate;
    ngx_wsman_op_pt            invoke;       /* any other action */

    unsigned                   execute_only:1;  /* every operation needs GX
                                                   (shells) */
    unsigned                   identify:1;   /* answers wsmid:Identify */

    ngx_module_t              *module;       /* set by the registry */

    /*
     * Actions this service takes from requests without a w:ResourceURI
     * (NULL-terminated; NULL: none): WS-Eventing deliveries (Events,
     * Heartbeat, SubscriptionEnd) are addressed by a:To alone.  Such a
     * request is checked and served as one for resource_prefix.
     */
    const char               **deliveries;
};


/* one operation in progress: what a plug-in sees of a request */
struct ngx_wsman_call_s {
    ngx_pool_t                *pool;
    ngx_log_t                 *log;
    ngx_wsman_request_t       *req;
    ngx_wsman_identity_t      *identity;
    ngx_wsman_loc_conf_t      *conf;
    ngx_wsman_plugin_t        *plugin;
    /* the class the resource URI names, or NULL: resolved once, by the
     * dispatcher, for the access check and the engine alike */
    struct ngx_wsman_provider_s  *provider;
    void                     **loc_conf;     /* every module's, for
                                                ngx_wsman_call_conf() */

    ngx_str_t                  client_addr;
    ngx_str_t                  host;         /* Host header, for EPRs */
    unsigned                   tls:1;
    unsigned                   anonymous:1;  /* unauthenticated Identify */

    /* the answer */
    ngx_str_t                  action;       /* a:Action of the response */
    ngx_str_t                  header;       /* extra s:Header blocks */
    ngx_wsman_xml_t            body;         /* s:Body content */
    ngx_wsman_fault_t          fault;

    void                      *plugin_ctx;   /* the plug-in's, per call */

    /* set by the glue: how an asynchronous answer gets sent */
    ngx_wsman_done_pt          done;
    void                      *data;

    /* set by a plug-in while it waits: called instead of the answer when
     * the client goes away, to drop what the wait holds */
    void                     (*abort)(ngx_wsman_call_t *call);
    void                      *abort_data;
};


ngx_int_t ngx_wsman_dispatch(ngx_wsman_call_t *call);
ngx_int_t ngx_wsman_call_fault(ngx_wsman_call_t *call, ngx_wsman_fault_e id,
    const char *message);
void ngx_wsman_call_finish(ngx_wsman_call_t *call, ngx_int_t rc);
ngx_wsman_plugin_t *ngx_wsman_find_plugin(ngx_str_t *resource_uri);
ngx_int_t ngx_wsman_dispatch_serves(ngx_str_t *prefix);
ngx_int_t ngx_wsman_call_fragment(ngx_wsman_call_t *call);


#endif /* _NGX_WSMAN_DISPATCH_H_INCLUDED_ */
