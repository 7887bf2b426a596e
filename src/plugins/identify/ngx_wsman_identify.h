/*
 * The identify plug-in: wsmid:Identify.
 */

#ifndef _NGX_WSMAN_IDENTIFY_H_INCLUDED_
#define _NGX_WSMAN_IDENTIFY_H_INCLUDED_


#include "ngx_wsman_plugin.h"


extern ngx_wsman_plugin_t  *ngx_wsman_identify_services[];


#endif /* _NGX_WSMAN_IDENTIFY_H_INCLUDED_ */
