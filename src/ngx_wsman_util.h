/*
 * Small helpers shared by every part: hex and decimal digits, random
 * UUIDs.
 */

#ifndef _NGX_WSMAN_UTIL_H_INCLUDED_
#define _NGX_WSMAN_UTIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */
#define NGX_WSMAN_UUID_LEN  36


/* len bytes of src as 2 * len hex digits at dst (upper: A-F); returns the
 * end */
u_char *ngx_wsman_hex(u_char *dst, u_char *src, size_t len,
    ngx_uint_t upper);

/* 16 bytes as a version 4 UUID (the version and variant bits are set),
 * NGX_WSMAN_UUID_LEN lower-case characters at dst; returns the end */
u_char *ngx_wsman_uuid_format(u_char *dst, u_char *bin);

/* 16 bytes laid out as an RFC 4122 UUID of that version (variant 10),
 * upper or lower case; returns the end */
u_char *ngx_wsman_uuid_layout(u_char *dst, u_char *bin, ngx_uint_t version,
    ngx_uint_t upper);

/* n in decimal at dst (NGX_INT64_LEN bytes at most); returns the end.
 * Digits by hand: ngx_sprintf() parses its format on every call */
u_char *ngx_wsman_decimal(u_char *dst, uint64_t n);

/* a random version 4 UUID at dst; NULL when the random source failed */
u_char *ngx_wsman_uuid(u_char *dst);


#endif /* _NGX_WSMAN_UTIL_H_INCLUDED_ */
