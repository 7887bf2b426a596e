/*
 * Small helpers shared by every part: hex digits and random UUIDs.
 */

#include <openssl/rand.h>

#include "ngx_wsman_util.h"


/* UUIDs drawn from one RAND_bytes() call (a call costs ~10k instructions,
 * locking included, whatever its size): every response has one */
#define NGX_WSMAN_UUID_BATCH  64


u_char *
ngx_wsman_hex(u_char *dst, u_char *src, size_t len, ngx_uint_t upper)
{
    size_t         i;
    const u_char  *hex;

    static const u_char  lower_hex[] = "0123456789abcdef";
    static const u_char  upper_hex[] = "0123456789ABCDEF";

    hex = upper ? upper_hex : lower_hex;

    for (i = 0; i < len; i++) {
        *dst++ = hex[src[i] >> 4];
        *dst++ = hex[src[i] & 0xf];
    }

    return dst;
}


u_char *
ngx_wsman_decimal(u_char *dst, uint64_t n)
{
    u_char  digits[NGX_INT64_LEN], *p;

    p = digits + NGX_INT64_LEN;

    do {
        *--p = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return ngx_cpymem(dst, p, digits + NGX_INT64_LEN - p);
}


u_char *
ngx_wsman_uuid_format(u_char *dst, u_char *bin)
{
    return ngx_wsman_uuid_layout(dst, bin, 4, 0);
}


u_char *
ngx_wsman_uuid_layout(u_char *dst, u_char *bin, ngx_uint_t version,
    ngx_uint_t upper)
{
    u_char  b[16];

    ngx_memcpy(b, bin, 16);

    b[6] = (b[6] & 0x0f) | (u_char) (version << 4);
    b[8] = (b[8] & 0x3f) | 0x80;

    dst = ngx_wsman_hex(dst, b, 4, upper);
    *dst++ = '-';
    dst = ngx_wsman_hex(dst, b + 4, 2, upper);
    *dst++ = '-';
    dst = ngx_wsman_hex(dst, b + 6, 2, upper);
    *dst++ = '-';
    dst = ngx_wsman_hex(dst, b + 8, 2, upper);
    *dst++ = '-';

    return ngx_wsman_hex(dst, b + 10, 6, upper);
}


u_char *
ngx_wsman_uuid(u_char *dst)
{
    static ngx_pid_t    pid;
    static ngx_uint_t   next = NGX_WSMAN_UUID_BATCH;
    static u_char       rnd[NGX_WSMAN_UUID_BATCH][16];

    /* a forked process draws its own: never a parent's leftover bytes */
    if (next == NGX_WSMAN_UUID_BATCH || pid != ngx_pid) {
        if (RAND_bytes((u_char *) rnd, sizeof(rnd)) != 1) {
            return NULL;
        }

        pid = ngx_pid;
        next = 0;
    }

    /* each id takes its own 16 bytes, wiped once used */
    dst = ngx_wsman_uuid_format(dst, rnd[next]);
    ngx_memzero(rnd[next], 16);
    next++;

    return dst;
}
