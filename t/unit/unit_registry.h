/*
 * A plug-in registry and an enumeration zone for the unit tests
 * (unit_registry.c): plug-ins are what the real registry
 * (src/http/ngx_wsman_registry.c) finds in cycle->modules, here
 * ngx_module_t structures the tests make, in the order given.
 */

#ifndef _UNIT_REGISTRY_H_INCLUDED_
#define _UNIT_REGISTRY_H_INCLUDED_


#include "unit.h"
#include "ngx_wsman_registry.h"


#define UNIT_REGISTRY_MAX  8


/* the registry in use becomes exactly these plug-ins (NULL-terminated);
 * NULL: none */
void unit_registry_set(ngx_wsman_plugin_module_t **plugins);

/* a fresh, empty context store, as a worker sees it after start */
ngx_int_t unit_enum_zone_init(ngx_pool_t *pool);

/* the contexts in the store */
ngx_uint_t unit_enum_zone_count(void);

/* one request through the real SOAP parser, as the glue hands it to the
 * dispatcher: the caller holds WD and the SIDs in sids (space-separated,
 * NULL: none) for lcf */
typedef struct {
    ngx_wsman_call_t           call;
    ngx_wsman_request_t        req;
    ngx_wsman_identity_t       identity;
    ngx_array_t                sids;
    ngx_int_t                  parsed;       /* ngx_wsman_soap_parse() */
} unit_call_t;


#define UNIT_NS_DECL                                                        \
    " xmlns:s=\"" NGX_WSMAN_NS_SOAP "\""                                    \
    " xmlns:a=\"" NGX_WSMAN_NS_WSA "\""                                     \
    " xmlns:w=\"" NGX_WSMAN_NS_WSMAN "\""                                   \
    " xmlns:n=\"" NGX_WSMAN_NS_WSEN "\""

/* uri NULL: no w:ResourceURI; headers: more header blocks (or NULL) */
unit_call_t *unit_call(ngx_pool_t *pool, ngx_wsman_loc_conf_t *lcf,
    const char *user, const char *sids, const char *action, const char *uri,
    const char *headers, const char *body);

/* the call's s:Body content, NUL-terminated, on the pool */
u_char *unit_call_body(unit_call_t *c);

/* the text of the first <n:EnumerationContext> in the body ("": none) */
ngx_str_t unit_call_context(unit_call_t *c);

/* a location allowing everything to WD, with the usual limits */
void unit_loc_conf(ngx_pool_t *pool, ngx_wsman_loc_conf_t *lcf,
    const char *root_sddl);

/* wsman_resource_sddl prefix "sddl"; in lcf */
void unit_access_resource(ngx_pool_t *pool, ngx_wsman_loc_conf_t *lcf,
    const char *prefix, const char *sddl);

/*
 * A provider's enumerate hook over prov->data, a NULL-terminated sorted
 * list of names: an instance per name, of prov's class, with the key
 * properties Name (the name) and Kind ("k-" and the name) and Owner
 * (the class name).
 */
ngx_int_t unit_provider_enumerate(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);

/* drop the store and the registry */
void unit_registry_done(void);


#endif /* _UNIT_REGISTRY_H_INCLUDED_ */
