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

/* drop the store and the registry */
void unit_registry_done(void);


#endif /* _UNIT_REGISTRY_H_INCLUDED_ */
