/*
 * DMTF Physical Asset profile from IPMI FRU inventory: every FRU device
 * as a CIM_PhysicalPackage, and those with a chassis area as a
 * CIM_Chassis.  The product area names the thing as sold; the board
 * area stands in where the product area is missing.
 */

#include "ngx_wsman_ipmi.h"


static void ngx_wsman_ipmi_fru_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items);
static int ngx_libc_cdecl ngx_wsman_ipmi_fru_cmp(const void *one,
    const void *two);
static uint64_t ngx_wsman_ipmi_fru_ordinal(void *item);
static ngx_uint_t ngx_wsman_ipmi_no_chassis(void *item);
static ngx_wsman_instance_t *ngx_wsman_ipmi_package_build(ngx_pool_t *pool,
    ngx_wsman_provider_t *prov, void *item);
static ngx_wsman_instance_t *ngx_wsman_ipmi_chassis_build(ngx_pool_t *pool,
    ngx_wsman_provider_t *prov, void *item);
static void ngx_wsman_ipmi_fru_common(ngx_wsman_ipmi_build_t *b,
    ngx_wsman_ipmi_fru_t *fru, const char *class_name);
static ngx_str_t *ngx_wsman_ipmi_either(ngx_str_t *first,
    ngx_str_t *second);


ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_package_class = {
    NGX_WSMAN_IPMI_FRU,
    ngx_wsman_ipmi_fru_items,
    NULL,
    ngx_wsman_ipmi_fru_ordinal,
    ngx_wsman_ipmi_parse_uint_key,
    ngx_wsman_ipmi_package_build,
    NULL
};


ngx_wsman_ipmi_class_t  ngx_wsman_ipmi_chassis_class = {
    NGX_WSMAN_IPMI_FRU,
    ngx_wsman_ipmi_fru_items,
    ngx_wsman_ipmi_no_chassis,
    ngx_wsman_ipmi_fru_ordinal,
    ngx_wsman_ipmi_parse_uint_key,
    ngx_wsman_ipmi_chassis_build,
    NULL
};


/* SDR order is not device id order: sorted in place, which is the
 * same every time for the same read */
static void
ngx_wsman_ipmi_fru_items(ngx_wsman_ipmi_snapshot_t *snap,
    ngx_wsman_ipmi_items_t *items)
{
    items->elts = snap->frus.elts;
    items->nelts = snap->frus.elts ? snap->frus.nelts : 0;
    items->size = sizeof(ngx_wsman_ipmi_fru_t);

    if (items->nelts > 1) {
        ngx_qsort(items->elts, items->nelts, items->size,
                  ngx_wsman_ipmi_fru_cmp);
    }
}


static int ngx_libc_cdecl
ngx_wsman_ipmi_fru_cmp(const void *one, const void *two)
{
    const ngx_wsman_ipmi_fru_t *a = one;
    const ngx_wsman_ipmi_fru_t *b = two;

    return (a->device_id > b->device_id) - (a->device_id < b->device_id);
}


static uint64_t
ngx_wsman_ipmi_fru_ordinal(void *item)
{
    ngx_wsman_ipmi_fru_t *fru = item;

    return fru->device_id;
}


static ngx_uint_t
ngx_wsman_ipmi_no_chassis(void *item)
{
    ngx_wsman_ipmi_fru_t *fru = item;

    return fru->chassis_type == 0 && fru->chassis_serial_number.len == 0
           && fru->chassis_part_number.len == 0;
}


static ngx_wsman_instance_t *
ngx_wsman_ipmi_package_build(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_ipmi_fru_t *fru = item;

    ngx_wsman_ipmi_build_t  b;

    if (ngx_wsman_ipmi_build_start(&b, pool, prov, 20) != NGX_OK) {
        return NULL;
    }

    ngx_wsman_ipmi_fru_common(&b, fru, "CIM_PhysicalPackage");

    ngx_wsman_ipmi_str(&b, "SerialNumber",
                       ngx_wsman_ipmi_either(&fru->product_serial_number,
                                             &fru->board_serial_number));
    ngx_wsman_ipmi_str(&b, "PartNumber",
                       ngx_wsman_ipmi_either(&fru->product_part_number,
                                             &fru->board_part_number));
    ngx_wsman_ipmi_str(&b, "Version", &fru->product_version);

    ngx_wsman_ipmi_str(&b, "BoardManufacturer", &fru->board_manufacturer);
    ngx_wsman_ipmi_str(&b, "BoardProductName", &fru->board_product_name);
    ngx_wsman_ipmi_str(&b, "BoardSerialNumber", &fru->board_serial_number);
    ngx_wsman_ipmi_str(&b, "BoardPartNumber", &fru->board_part_number);

    if (fru->board_manufacture_time) {
        ngx_wsman_ipmi_time(&b, "ManufactureDate",
                            fru->board_manufacture_time);
    }

    if (fru->product_asset_tag.len) {
        ngx_wsman_ipmi_str(&b, "AssetTag", &fru->product_asset_tag);
    }

    return ngx_wsman_ipmi_build_end(&b);
}


static ngx_wsman_instance_t *
ngx_wsman_ipmi_chassis_build(ngx_pool_t *pool, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_ipmi_fru_t *fru = item;

    ngx_uint_t              type;
    ngx_wsman_ipmi_build_t  b;

    if (ngx_wsman_ipmi_build_start(&b, pool, prov, 12) != NGX_OK) {
        return NULL;
    }

    ngx_wsman_ipmi_fru_common(&b, fru, "CIM_Chassis");

    ngx_wsman_ipmi_str(&b, "SerialNumber", &fru->chassis_serial_number);
    ngx_wsman_ipmi_str(&b, "PartNumber", &fru->chassis_part_number);

    /* CIM takes SMBIOS' chassis types, but 0/1 for Unknown/Other where
     * SMBIOS has 2/1 */
    type = fru->chassis_type;
    type = (type == 2) ? 0 : type;
    ngx_wsman_ipmi_uint(&b, "ChassisPackageType", type);

    return ngx_wsman_ipmi_build_end(&b);
}


static void
ngx_wsman_ipmi_fru_common(ngx_wsman_ipmi_build_t *b,
    ngx_wsman_ipmi_fru_t *fru, const char *class_name)
{
    u_char     *p;
    ngx_str_t   tag;
    u_char      buf[NGX_INT_T_LEN];

    p = ngx_sprintf(buf, "%ui", fru->device_id);
    tag.data = buf;
    tag.len = p - buf;

    ngx_wsman_ipmi_ckey(b, "CreationClassName", class_name);
    ngx_wsman_ipmi_key(b, "Tag", &tag);

    ngx_wsman_ipmi_str(b, "ElementName", &fru->name);
    ngx_wsman_ipmi_str(b, "Manufacturer",
                       ngx_wsman_ipmi_either(&fru->product_manufacturer,
                                             &fru->board_manufacturer));
    ngx_wsman_ipmi_str(b, "Model",
                       ngx_wsman_ipmi_either(&fru->product_name,
                                             &fru->board_product_name));
}


static ngx_str_t *
ngx_wsman_ipmi_either(ngx_str_t *first, ngx_str_t *second)
{
    return first->len ? first : second;
}
