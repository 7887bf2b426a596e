/*
 * The inventory plug-in's classes, for the enumeration engine to look up
 * by resource URI.
 */

#include "ngx_wsman_inv.h"


ngx_wsman_provider_t  *ngx_wsman_inventory_providers[] = {
    &ngx_wsman_inv_cim_os_provider,
    &ngx_wsman_inv_cim_cs_provider,
    &ngx_wsman_inv_cim_processor_provider,
    &ngx_wsman_inv_cim_process_provider,
    &ngx_wsman_inv_cim_fs_provider,
    &ngx_wsman_inv_cim_ethernet_provider,
    &ngx_wsman_inv_win32_os_provider,
    &ngx_wsman_inv_win32_cs_provider,
    &ngx_wsman_inv_win32_process_provider,
    &ngx_wsman_inv_win32_disk_provider,
    NULL
};
