/*
 * The plug-in API: what a plug-in implements (ngx_wsman_plugin_t, an
 * operation handler per action under a resource-URI prefix, and
 * ngx_wsman_provider_t, a class the resource engine serves) and what it
 * may call.  docs/architecture.md walks through it.
 *
 * Result convention of every operation handler and provider hook:
 *   NGX_OK      the answer (or a fault set with ngx_wsman_call_fault())
 *               is in the call;
 *   NGX_AGAIN   the answer comes later, through ngx_wsman_call_finish();
 *   NGX_ERROR   an internal error (500).
 * A fault is "set" when call->fault.id is not 0; ngx_wsman_call_fault()
 * sets it and returns NGX_OK, so `return ngx_wsman_call_fault(...)` is
 * the one way for a handler to fail a request.  A function below a
 * handler, and a provider's fetch hook, return NGX_WSMAN_FAULTED once
 * they have set the fault.
 */

#ifndef _NGX_WSMAN_PLUGIN_H_INCLUDED_
#define _NGX_WSMAN_PLUGIN_H_INCLUDED_


#include "ngx_wsman_dispatch.h"
#include "ngx_wsman_instance.h"


/* walking the registry (the dispatcher and the engine): *i starts at 0,
 * NULL at the end */
ngx_wsman_plugin_t *ngx_wsman_registry_service(ngx_uint_t *i);
ngx_wsman_provider_t *ngx_wsman_registry_provider(ngx_uint_t *i);
ngx_int_t ngx_wsman_registry_serves(ngx_str_t *prefix);
/* changes whenever another registry is put in use (never 0 then) */
ngx_uint_t ngx_wsman_registry_generation(void);

/* a plug-in's own configuration: its http{}-level conf in the running
 * cycle, and its conf for the location of a call */
void *ngx_wsman_plugin_main_conf(ngx_module_t *module);
void *ngx_wsman_call_conf(ngx_wsman_call_t *call, ngx_module_t *module);

/*
 * The value of a numeric directive (a flag, number, size or time) for the
 * location of a call, whichever module defines it: how winrm/config shows
 * another plug-in's settings without knowing that plug-in.  NGX_DECLINED:
 * no module of this build has such a location directive.
 */
ngx_int_t ngx_wsman_call_setting(ngx_wsman_call_t *call,
    const char *directive, uint64_t *value);


#endif /* _NGX_WSMAN_PLUGIN_H_INCLUDED_ */
