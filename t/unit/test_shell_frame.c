/*
 * The shell host protocol frames
 * (src/plugins/shell/ngx_wsman_shell_frame.c): what the writer builds the
 * parser reads back, and every lie a frame can tell about its lengths is
 * refused.
 */

#include "unit.h"
#include "ngx_wsman_shell_frame.h"
#include "ngx_wsman_shell_proto.h"


void unit_test_shell_frame(void);


static void
unit_test_frame_roundtrip(void)
{
    u_char                    buf[256], type;
    size_t                    n;
    uint64_t                  num;
    const u_char             *p, *end;
    ngx_wsman_shell_field_t   f;
    ngx_wsman_shell_writer_t  w;

    ngx_wsman_shell_writer_init(&w, buf, sizeof(buf), 7);
    ngx_wsman_shell_writer_add_str(&w, 'a', "hello");
    ngx_wsman_shell_writer_add(&w, 'b', NULL, 0);
    ngx_wsman_shell_writer_add_num(&w, 'n', 18446744073709551615ULL);
    ngx_wsman_shell_writer_add_num(&w, 'z', 0);

    n = ngx_wsman_shell_writer_finish(&w);
    UNIT_EQ_UINT(n, 5 + (5 + 5) + 5 + (5 + 20) + (5 + 1));

    /* the length counts what follows it, little-endian */
    UNIT_EQ_UINT(ngx_wsman_shell_get_u32(buf), n - 4);
    UNIT_EQ_UINT(buf[0], (n - 4) & 0xff);

    if (!UNIT_CHECK(ngx_wsman_shell_frame_parse(buf, n, &type) == NGX_OK)) {
        return;
    }

    UNIT_EQ_UINT(type, 7);

    p = buf + NGX_WSMAN_SHELL_HEAD_LEN;
    end = buf + n;

    UNIT_CHECK(ngx_wsman_shell_frame_next(&p, end, &f) == NGX_OK);
    UNIT_EQ_UINT(f.tag, 'a');
    UNIT_CHECK(f.len == 5 && ngx_memcmp(f.data, "hello", 5) == 0);

    UNIT_CHECK(ngx_wsman_shell_frame_next(&p, end, &f) == NGX_OK);
    UNIT_EQ_UINT(f.tag, 'b');
    UNIT_EQ_UINT(f.len, 0);
    UNIT_CHECK(ngx_wsman_shell_field_num(&f, &num) == NGX_ERROR);

    UNIT_CHECK(ngx_wsman_shell_frame_next(&p, end, &f) == NGX_OK);
    UNIT_CHECK(ngx_wsman_shell_field_num(&f, &num) == NGX_OK);
    UNIT_CHECK(num == 18446744073709551615ULL);

    UNIT_CHECK(ngx_wsman_shell_frame_next(&p, end, &f) == NGX_OK);
    UNIT_CHECK(ngx_wsman_shell_field_num(&f, &num) == NGX_OK);
    UNIT_EQ_UINT(num, 0);

    UNIT_CHECK(ngx_wsman_shell_frame_next(&p, end, &f) == NGX_DONE);
}


static void
unit_test_frame_writer_overflow(void)
{
    u_char                    buf[16];
    ngx_wsman_shell_writer_t  w;

    /* no room for the head */
    ngx_wsman_shell_writer_init(&w, buf, 4, 1);
    UNIT_EQ_UINT(ngx_wsman_shell_writer_finish(&w), 0);

    /* 5 + 5 + 6 = 16 fits, one byte more does not, and stays refused */
    ngx_wsman_shell_writer_init(&w, buf, sizeof(buf), 1);
    ngx_wsman_shell_writer_add(&w, 'x', "123456", 6);
    UNIT_EQ_UINT(ngx_wsman_shell_writer_finish(&w), 16);

    ngx_wsman_shell_writer_init(&w, buf, sizeof(buf), 1);
    ngx_wsman_shell_writer_add(&w, 'x', "1234567", 7);
    ngx_wsman_shell_writer_add(&w, 'y', NULL, 0);
    UNIT_EQ_UINT(ngx_wsman_shell_writer_finish(&w), 0);

    /* a length that would wrap the comparison */
    ngx_wsman_shell_writer_init(&w, buf, sizeof(buf), 1);
    ngx_wsman_shell_writer_add(&w, 'x', "1", (size_t) -1);
    UNIT_EQ_UINT(ngx_wsman_shell_writer_finish(&w), 0);
}


static void
unit_test_frame_lies(void)
{
    u_char        type, f[32];
    uint64_t      num;
    const u_char *p;

    ngx_wsman_shell_field_t  field;

    /* shorter than a head */
    UNIT_CHECK(ngx_wsman_shell_frame_parse((u_char *) "\1\0\0", 3, &type)
               == NGX_ERROR);

    /* a head whose length is not what arrived */
    ngx_memcpy(f, "\2\0\0\0\7", 5);
    UNIT_CHECK(ngx_wsman_shell_frame_parse(f, 5, &type) == NGX_ERROR);
    ngx_memcpy(f, "\1\0\0\0\7", 5);
    UNIT_CHECK(ngx_wsman_shell_frame_parse(f, 5, &type) == NGX_OK);

    /* larger than a frame may be */
    ngx_memcpy(f, "\xff\xff\xff\x7f\7", 5);
    UNIT_CHECK(ngx_wsman_shell_frame_parse(f, 5, &type) == NGX_ERROR);

    /* a field longer than the frame */
    ngx_memcpy(f, "\x0b\0\0\0\7" "a\x07\0\0\0" "xyz", 13);
    UNIT_CHECK(ngx_wsman_shell_frame_parse(f, 13, &type) == NGX_ERROR);

    /* a field length of 2^32 - 1 */
    ngx_memcpy(f, "\x0b\0\0\0\7" "a\xff\xff\xff\xff" "xyz", 13);
    UNIT_CHECK(ngx_wsman_shell_frame_parse(f, 13, &type) == NGX_ERROR);

    /* a field head cut short */
    ngx_memcpy(f, "\x07\0\0\0\7" "a\1\0", 8);
    UNIT_CHECK(ngx_wsman_shell_frame_parse(f, 8, &type) == NGX_ERROR);

    /* numbers: digits only, no more than a uint64_t holds */
    field.tag = 'n';
    field.data = (u_char *) "18446744073709551616";
    field.len = 20;
    UNIT_CHECK(ngx_wsman_shell_field_num(&field, &num) == NGX_ERROR);

    field.data = (u_char *) "12a";
    field.len = 3;
    UNIT_CHECK(ngx_wsman_shell_field_num(&field, &num) == NGX_ERROR);

    field.data = (u_char *) "-1";
    field.len = 2;
    UNIT_CHECK(ngx_wsman_shell_field_num(&field, &num) == NGX_ERROR);

    field.data = (u_char *) "000000000000000000001";
    field.len = 21;
    UNIT_CHECK(ngx_wsman_shell_field_num(&field, &num) == NGX_ERROR);

    /* a cursor past the end is an error, not a read */
    p = f + 9;
    UNIT_CHECK(ngx_wsman_shell_frame_next(&p, f + 8, &field) == NGX_ERROR);
}


void
unit_test_shell_frame(void)
{
    unit_test_frame_roundtrip();
    unit_test_frame_writer_overflow();
    unit_test_frame_lies();
}
