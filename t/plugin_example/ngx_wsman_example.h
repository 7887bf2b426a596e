/*
 * The example plug-in: NGX_Fruit, one instance per wsman_example_fruit
 * directive.  It shows the smallest plug-in there is: a class provider
 * and a directive, registered without a line of the core changed.
 */

#ifndef _NGX_WSMAN_EXAMPLE_H_INCLUDED_
#define _NGX_WSMAN_EXAMPLE_H_INCLUDED_


#include "ngx_wsman_plugin.h"


#define NGX_WSMAN_EXAMPLE_URI  NGX_WSMAN_CIM_URI "NGX_Fruit"


typedef struct {
    ngx_str_t                  name;         /* the key */
    ngx_str_t                  color;
    ngx_uint_t                 count;
} ngx_wsman_example_fruit_t;


/* http{}-level: the fruits, sorted by name once the block is read */
typedef struct {
    ngx_array_t               *fruits;       /* ngx_wsman_example_fruit_t */
} ngx_wsman_example_main_conf_t;


extern ngx_module_t           ngx_wsman_example_module;
extern ngx_wsman_provider_t  *ngx_wsman_example_providers[];


#endif /* _NGX_WSMAN_EXAMPLE_H_INCLUDED_ */
