/*
 * CIM instances as WS-Management XML: the object itself, its endpoint
 * reference (EPR), or both, as WS-Enumeration items and WS-Transfer
 * bodies.
 */

#ifndef _NGX_WSMAN_CIMXML_H_INCLUDED_
#define _NGX_WSMAN_CIMXML_H_INCLUDED_


#include "ngx_wsman.h"
#include "ngx_wsman_instance.h"
#include "ngx_wsman_xml.h"


#define NGX_WSMAN_ENUM_OBJECTS     0
#define NGX_WSMAN_ENUM_EPR         1
#define NGX_WSMAN_ENUM_OBJECT_EPR  2


void ngx_wsman_cimxml_object(ngx_wsman_xml_t *x, ngx_pool_t *pool,
    ngx_wsman_instance_t *inst, ngx_array_t *only);
void ngx_wsman_cimxml_epr(ngx_wsman_xml_t *x, ngx_pool_t *pool,
    ngx_wsman_instance_t *inst);
void ngx_wsman_cimxml_item(ngx_wsman_xml_t *x, ngx_pool_t *pool,
    ngx_wsman_instance_t *inst, ngx_uint_t mode, ngx_array_t *only);


#endif /* _NGX_WSMAN_CIMXML_H_INCLUDED_ */
