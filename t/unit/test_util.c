/*
 * The shared helpers: hex digits and version 4 UUIDs.
 */

#include "unit.h"
#include "ngx_wsman_util.h"


void unit_test_util(void);


static void
unit_test_hex(void)
{
    u_char   out[16], *p;
    u_char   in[] = { 0x00, 0x9f, 0xa0, 0xff };

    p = ngx_wsman_hex(out, in, sizeof(in), 0);
    UNIT_EQ_UINT(p - out, 8);
    UNIT_CHECK(ngx_memcmp(out, "009fa0ff", 8) == 0);

    p = ngx_wsman_hex(out, in, sizeof(in), 1);
    UNIT_EQ_UINT(p - out, 8);
    UNIT_CHECK(ngx_memcmp(out, "009FA0FF", 8) == 0);

    UNIT_CHECK(ngx_wsman_hex(out, in, 0, 0) == out);
}


static void
unit_test_uuid(void)
{
    u_char      a[NGX_WSMAN_UUID_LEN + 1], b[NGX_WSMAN_UUID_LEN + 1], *p;
    u_char      bin[16];
    ngx_uint_t  i, ok;

    ngx_memset(bin, 0xff, sizeof(bin));
    p = ngx_wsman_uuid_format(a, bin);
    *p = '\0';
    /* version 4, variant 10: whatever the bytes said */
    UNIT_EQ_CSTR(a, "ffffffff-ffff-4fff-bfff-ffffffffffff");

    ngx_memzero(bin, sizeof(bin));
    p = ngx_wsman_uuid_format(a, bin);
    *p = '\0';
    UNIT_EQ_CSTR(a, "00000000-0000-4000-8000-000000000000");

    p = ngx_wsman_uuid(a);
    if (!UNIT_CHECK(p == a + NGX_WSMAN_UUID_LEN)) {
        return;
    }
    *p = '\0';

    /* 70 in a row: past one batch of random bytes, none repeats */
    ok = 1;

    for (i = 0; i < 70; i++) {
        p = ngx_wsman_uuid(b);
        if (p == NULL) {
            ok = 0;
            break;
        }
        *p = '\0';

        if (ngx_strcmp(a, b) == 0 || b[14] != '4'
            || ngx_strchr("89ab", b[19]) == NULL
            || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-')
        {
            ok = 0;
            break;
        }

        ngx_memcpy(a, b, sizeof(a));
    }

    UNIT_CHECK(ok);
}


void
unit_test_util(void)
{
    unit_test_hex();
    unit_test_uuid();
}
