/*
 * Inventory plug-in: class providers that describe this Linux host in
 * CIM (CIM_*) and WMI (Win32_*) terms.  The enumeration engine walks
 * ngx_wsman_inventory_providers[] to find the provider of a resource URI.
 *
 * Every provider reads /proc, /sys and libc only, never runs a command
 * and never waits, because it runs inside an nginx worker.
 *
 * enumerate() appends ngx_wsman_instance_t pointers to its out array.
 * get() returns NGX_DECLINED when no instance matches the selectors and
 * NGX_ABORT when a selector is not a key of the class (or the key is
 * missing).  invoke() returns NGX_ABORT for a method the class lacks and
 * NGX_DECLINED when no instance matches.
 */

#ifndef _NGX_WSMAN_INVENTORY_H_INCLUDED_
#define _NGX_WSMAN_INVENTORY_H_INCLUDED_


#include "ngx_wsman_instance.h"


/* NULL-terminated */
extern ngx_wsman_provider_t  *ngx_wsman_inventory_providers[];


#endif /* _NGX_WSMAN_INVENTORY_H_INCLUDED_ */
