/*
 * CIM classes, under the DMTF URIs (.../wscim/1/cim-schema/2/CIM_Process)
 * and under the WMI-style URIs Windows tools use
 * (.../wsman/1/wmi/root/cimv2/Win32_Process).  All the work is the
 * resource engine's; the classes are other plug-ins' providers
 * (inventory, IPMI).
 */

#include "ngx_wsman_registry.h"
#include "ngx_wsman_enum.h"


static ngx_wsman_plugin_t  ngx_wsman_cim_plugin = {
    ngx_string("cim"),
    ngx_string("http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2"),
    ngx_wsman_enum_get,
    NULL, NULL, NULL,
    ngx_wsman_enum_enumerate,
    ngx_wsman_enum_invoke,
    0, 0, NULL
};


static ngx_wsman_plugin_t  ngx_wsman_wmi_plugin = {
    ngx_string("wmi"),
    ngx_string("http://schemas.microsoft.com/wbem/wsman/1/wmi"),
    ngx_wsman_enum_get,
    NULL, NULL, NULL,
    ngx_wsman_enum_enumerate,
    ngx_wsman_enum_invoke,
    0, 0, NULL
};


static ngx_wsman_plugin_t  *ngx_wsman_cim_services[] = {
    &ngx_wsman_cim_plugin,
    &ngx_wsman_wmi_plugin,
    NULL
};


static ngx_wsman_plugin_module_t  ngx_wsman_cim_module_ctx = {
    {
        NULL,                              /* preconfiguration */
        NULL,                              /* postconfiguration */
        NULL,                              /* create main configuration */
        NULL,                              /* init main configuration */
        NULL,                              /* create server configuration */
        NULL,                              /* merge server configuration */
        NULL,                              /* create location configuration */
        NULL                               /* merge location configuration */
    },
    ngx_wsman_cim_services,
    NULL,
    NULL
};


ngx_module_t  ngx_wsman_cim_module = {
    NGX_MODULE_V1,
    &ngx_wsman_cim_module_ctx,             /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_WSMAN_PLUGIN_PADDING
};
