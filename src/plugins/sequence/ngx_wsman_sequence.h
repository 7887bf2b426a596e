/*
 * The sequence plug-in: NGX_Sequence, wsman_sequence_items numbered
 * instances made on the fly.
 */

#ifndef _NGX_WSMAN_SEQUENCE_H_INCLUDED_
#define _NGX_WSMAN_SEQUENCE_H_INCLUDED_


#include "ngx_wsman_plugin.h"


typedef struct {
    ngx_uint_t                 items;        /* wsman_sequence_items */
} ngx_wsman_sequence_main_conf_t;


extern ngx_module_t           ngx_wsman_sequence_module;
extern ngx_wsman_provider_t  *ngx_wsman_sequence_providers[];


#endif /* _NGX_WSMAN_SEQUENCE_H_INCLUDED_ */
