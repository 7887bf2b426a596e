/*
 * CIM classes, under the DMTF URIs (.../wscim/1/cim-schema/2/CIM_Process)
 * and under the WMI-style URIs Windows tools use
 * (.../wsman/1/wmi/root/cimv2/Win32_Process).  All the work is the
 * resource engine's; the classes are other plug-ins' providers
 * (inventory, IPMI).
 */

#include "ngx_wsman_cim.h"
#include "ngx_wsman_enum.h"


static ngx_wsman_plugin_t  ngx_wsman_cim_plugin = {
    ngx_string("cim"),
    ngx_string("http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2"),
    ngx_wsman_enum_get,
    NULL, NULL, NULL,
    ngx_wsman_enum_enumerate,
    ngx_wsman_enum_invoke,
    0, 0, NULL, NULL
};


static ngx_wsman_plugin_t  ngx_wsman_wmi_plugin = {
    ngx_string("wmi"),
    ngx_string("http://schemas.microsoft.com/wbem/wsman/1/wmi"),
    ngx_wsman_enum_get,
    NULL, NULL, NULL,
    ngx_wsman_enum_enumerate,
    ngx_wsman_enum_invoke,
    0, 0, NULL, NULL
};


ngx_wsman_plugin_t  *ngx_wsman_cim_services[] = {
    &ngx_wsman_cim_plugin,
    &ngx_wsman_wmi_plugin,
    NULL
};
