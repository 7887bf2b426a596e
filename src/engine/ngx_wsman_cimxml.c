/*
 * Serializing instances.  Every property is written in the class's own
 * namespace (prefix p:); unknown values as xsi:nil, datetimes wrapped in
 * cim:Datetime as the WS-CIM mapping wants.
 */

#include "ngx_wsman_cimxml.h"


static ngx_uint_t
ngx_wsman_cimxml_selected(ngx_array_t *only, ngx_str_t *name)
{
    ngx_str_t   *s;
    ngx_uint_t   i;

    if (only == NULL) {
        return 1;
    }

    s = only->elts;

    for (i = 0; i < only->nelts; i++) {
        if (s[i].len == name->len
            && ngx_strncasecmp(s[i].data, name->data, name->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static void
ngx_wsman_cimxml_prop(ngx_wsman_xml_t *x, ngx_pool_t *pool,
    ngx_wsman_prop_t *prop)
{
    ngx_str_t  text;

    ngx_wsman_xml_literal(x, "<p:");
    ngx_wsman_xml_str(x, &prop->name);

    switch (ngx_wsman_prop_text(pool, prop, &text)) {

    case NGX_DECLINED:
        ngx_wsman_xml_literal(x, " xsi:nil=\"true\"/>");
        return;

    case NGX_ERROR:
        x->failed = 1;
        return;

    default:
        break;
    }

    ngx_wsman_xml_literal(x, ">");

    if (prop->type == NGX_WSMAN_PROP_DATETIME) {
        ngx_wsman_xml_literal(x, "<cim:Datetime>");
        ngx_wsman_xml_text_str(x, &text);
        ngx_wsman_xml_literal(x, "</cim:Datetime>");

    } else {
        ngx_wsman_xml_text_str(x, &text);
    }

    ngx_wsman_xml_literal(x, "</p:");
    ngx_wsman_xml_str(x, &prop->name);
    ngx_wsman_xml_literal(x, ">");
}


/* only: property names to keep (WQL SELECT list), NULL for all */
void
ngx_wsman_cimxml_object(ngx_wsman_xml_t *x, ngx_pool_t *pool,
    ngx_wsman_instance_t *inst, ngx_array_t *only)
{
    ngx_uint_t         i;
    ngx_wsman_prop_t  *prop;

    ngx_wsman_xml_literal(x, "<p:");
    ngx_wsman_xml_str(x, &inst->class_name);
    ngx_wsman_xml_literal(x, " xmlns:p=\"");
    ngx_wsman_xml_text_str(x, &inst->resource_uri);
    ngx_wsman_xml_literal(x, "\" xmlns:xsi=\"" NGX_WSMAN_NS_XSI "\""
                          " xmlns:cim=\"" NGX_WSMAN_NS_CIM_COMMON "\">");

    prop = inst->props.elts;

    for (i = 0; i < inst->props.nelts; i++) {
        if (ngx_wsman_cimxml_selected(only, &prop[i].name)) {
            ngx_wsman_cimxml_prop(x, pool, &prop[i]);
        }
    }

    ngx_wsman_xml_literal(x, "</p:");
    ngx_wsman_xml_str(x, &inst->class_name);
    ngx_wsman_xml_literal(x, ">");
}


/* the instance's address: resource URI plus its keys as selectors */
void
ngx_wsman_cimxml_epr(ngx_wsman_xml_t *x, ngx_pool_t *pool,
    ngx_wsman_instance_t *inst)
{
    ngx_str_t          text;
    ngx_uint_t         i;
    ngx_wsman_prop_t  *prop;

    ngx_wsman_xml_literal(x, "<a:EndpointReference><a:Address>"
                          NGX_WSMAN_WSA_ANONYMOUS "</a:Address>"
                          "<a:ReferenceParameters><w:ResourceURI>");
    ngx_wsman_xml_text_str(x, &inst->resource_uri);
    ngx_wsman_xml_literal(x, "</w:ResourceURI><w:SelectorSet>");

    prop = inst->props.elts;

    for (i = 0; i < inst->props.nelts; i++) {
        if (!prop[i].key) {
            continue;
        }

        if (ngx_wsman_prop_text(pool, &prop[i], &text) == NGX_ERROR) {
            x->failed = 1;
            return;
        }

        ngx_wsman_xml_literal(x, "<w:Selector Name=\"");
        ngx_wsman_xml_text_str(x, &prop[i].name);
        ngx_wsman_xml_literal(x, "\">");
        ngx_wsman_xml_text_str(x, &text);
        ngx_wsman_xml_literal(x, "</w:Selector>");
    }

    ngx_wsman_xml_literal(x, "</w:SelectorSet></a:ReferenceParameters>"
                          "</a:EndpointReference>");
}


void
ngx_wsman_cimxml_item(ngx_wsman_xml_t *x, ngx_pool_t *pool,
    ngx_wsman_instance_t *inst, ngx_uint_t mode, ngx_array_t *only)
{
    switch (mode) {

    case NGX_WSMAN_ENUM_EPR:
        ngx_wsman_cimxml_epr(x, pool, inst);
        break;

    case NGX_WSMAN_ENUM_OBJECT_EPR:
        ngx_wsman_xml_literal(x, "<w:Item>");
        ngx_wsman_cimxml_object(x, pool, inst, only);
        ngx_wsman_cimxml_epr(x, pool, inst);
        ngx_wsman_xml_literal(x, "</w:Item>");
        break;

    default:
        ngx_wsman_cimxml_object(x, pool, inst, only);
    }
}
