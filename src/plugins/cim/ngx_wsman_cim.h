/*
 * The cim plug-in: the CIM and WMI resource URIs, served by the resource
 * engine from every plug-in's class providers.
 */

#ifndef _NGX_WSMAN_CIM_H_INCLUDED_
#define _NGX_WSMAN_CIM_H_INCLUDED_


#include "ngx_wsman_plugin.h"


extern ngx_wsman_plugin_t  *ngx_wsman_cim_services[];


#endif /* _NGX_WSMAN_CIM_H_INCLUDED_ */
