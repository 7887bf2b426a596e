/*
 * SLDC decompression (src/soap/ngx_wsman_sldc.c): vectors worked out by
 * hand from the encoding rules, round trips through the tests' own
 * compressor (unit_sldc_enc.c), every error class, the output cap, and
 * the raw-or-compressed guess.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "unit_sldc_enc.h"
#include "ngx_wsman_sldc.h"


static ngx_pool_t  *unit_pool;


/* decompress data[0..len) with the cap max */
static ngx_int_t
unit_sldc(const u_char *data, size_t len, size_t max, ngx_str_t *out,
    ngx_uint_t *error)
{
    ngx_str_t    in;
    const char  *reason;

    in.data = (u_char *) data;
    in.len = len;
    out->data = NULL;
    out->len = 0;
    *error = NGX_WSMAN_SLDC_E_NONE;
    reason = NULL;

    return ngx_wsman_sldc_decompress(unit_pool, &in, max, out, error,
                                     &reason);
}


static ngx_int_t
unit_sldc_enc(unit_sldc_enc_t *e, size_t max, ngx_str_t *out,
    ngx_uint_t *error)
{
    return unit_sldc(e->buf, unit_sldc_len(e), max, out, error);
}


/*
 * Vectors worked out bit by bit (control symbol = nine 1s + 4-bit code;
 * Reset 1 = 0101, Reset 2 = 0110, Scheme 1 = 0001, Scheme 2 = 0010,
 * End of Record = 0100).
 */
static void
unit_test_sldc_vectors(void)
{
    ngx_str_t   out;
    ngx_uint_t  i, err;

    static const struct {
        const char  *name;
        u_char       in[16];
        size_t       in_len;
        const char  *out;
        size_t       out_len;
    } v[] = {
        /* 111111111 0110 | 01001000 'H' | 01101001 'i' |
         * 111111111 0100 | 000 */
        { "scheme 2 \"Hi\"",
          { 0xff, 0xb2, 0x43, 0x4f, 0xfd, 0x00 }, 6, "Hi", 2 },

        /* Reset 1 | 0 01100001 'a' | 0 01100010 'b' |
         * 1 10 10 0000000000: copy 6 from position 0, which overlaps
         * the bytes it writes | End of Record | 0000000 */
        { "scheme 1 run",
          { 0xff, 0xa9, 0x84, 0xc5, 0xa0, 0x03, 0xfe, 0x80 }, 8,
          "abababab", 8 },

        /* Reset 2 | 11111111 0: 0xff and its stuffed 0 | 00000000 |
         * End of Record | 00000 */
        { "scheme 2 0xff",
          { 0xff, 0xb7, 0xf8, 0x03, 0xfe, 0x80 }, 6, "\xff\x00", 2 },

        /* Reset 1 | 'a' literal | Scheme 2 | 01100010 'b' | Scheme 1 |
         * 1 0 0 0000000000: copy 2 from position 0: the history kept
         * both schemes' bytes | End of Record */
        { "scheme switch",
          { 0xff, 0xa9, 0x87, 0xfe, 0x4c, 0x5f, 0xf1, 0x80, 0x07, 0xfd,
            0x00 }, 11, "abab", 4 },

        /* Reset 2 | "ok" | End of Record | one zero byte of padding |
         * 02 00 00 00, the length trailer Windows appends */
        { "trailer",
          { 0xff, 0xb3, 0x7b, 0x5f, 0xfd, 0x00, 0x00, 0x02, 0x00, 0x00,
            0x00 }, 11, "ok", 2 },

        /* the match count field's classes at their edges: 'x' then a
         * copy from position 0 of 2 (00), 3 (01), 4 (1000), 7 (1011),
         * 8 (110000), 15 (110111), 16 (11100000), 31 (11101111),
         * 32 (111100000000), 271 (111111101111) */
        { "copy 2", { 0xff, 0xa9, 0xe2, 0x00, 0x1f, 0xf4 }, 6, "xxx", 3 },
        { "copy 3", { 0xff, 0xa9, 0xe2, 0x80, 0x1f, 0xf4 }, 6, "xxxx", 4 },
        { "copy 4", { 0xff, 0xa9, 0xe3, 0x00, 0x07, 0xfd, 0x00 }, 7,
          "xxxxx", 5 },
        { "copy 7", { 0xff, 0xa9, 0xe3, 0x60, 0x07, 0xfd, 0x00 }, 7,
          "xxxxxxxx", 8 },
        { "copy 8", { 0xff, 0xa9, 0xe3, 0x80, 0x01, 0xff, 0x40 }, 7,
          "xxxxxxxxx", 9 },
        { "copy 15", { 0xff, 0xa9, 0xe3, 0xb8, 0x01, 0xff, 0x40 }, 7,
          "xxxxxxxxxxxxxxxx", 16 },
        { "copy 16", { 0xff, 0xa9, 0xe3, 0xc0, 0x00, 0x7f, 0xd0 }, 7,
          "xxxxxxxxxxxxxxxxx", 17 },
        { "copy 31", { 0xff, 0xa9, 0xe3, 0xde, 0x00, 0x7f, 0xd0 }, 7,
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 32 },
        { "copy 32", { 0xff, 0xa9, 0xe3, 0xe0, 0x00, 0x07, 0xfd, 0x00 }, 8,
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 33 },
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (!UNIT_CHECK(unit_sldc(v[i].in, v[i].in_len, 4096, &out, &err)
                        == NGX_OK))
        {
            printf("  vector \"%s\"\n", v[i].name);
            continue;
        }

        if (!UNIT_CHECK(out.len == v[i].out_len
                        && memcmp(out.data, v[i].out, out.len) == 0))
        {
            printf("  vector \"%s\"\n", v[i].name);
        }
    }
}


/* the longest copy: 111111101111 is 32 + 239 = 271; 11110000 and up
 * after 1111 would be nine ones, a control symbol */
static void
unit_test_sldc_max_copy(void)
{
    size_t           i;
    ngx_str_t        out;
    ngx_uint_t       err;
    unit_sldc_enc_t  e;

    static const u_char  v[] = {
        0xff, 0xa9, 0xe3, 0xfd, 0xe0, 0x07, 0xfd, 0x00
    };

    if (UNIT_CHECK(unit_sldc(v, sizeof(v), 4096, &out, &err) == NGX_OK)) {
        UNIT_EQ_UINT(out.len, 272);

        for (i = 0; i < out.len && out.data[i] == 'x'; i++) { /* void */ }
        UNIT_EQ_UINT(i, 272);
    }

    /* a 271-byte copy from the last bytes of a full ring: positions
     * 1000-1023 then 0-246, of which 0-246 were rewritten by the copy
     * itself before it reads them */
    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_RESET_1, 0);

    for (i = 0; i < 1024; i++) {
        unit_sldc_literal(&e, (u_char) (i % 251));
    }

    unit_sldc_copy(&e, 271, 1000);
    unit_sldc_finish(&e, 0, 0, 0);

    if (UNIT_CHECK(unit_sldc_enc(&e, 1 << 20, &out, &err) == NGX_OK)
        && UNIT_CHECK(out.len == 1024 + 271))
    {
        for (i = 0; i < 271; i++) {
            /* the copy repeats the 24 bytes from position 1000 */
            if (out.data[1024 + i] != (u_char) ((1000 + i % 24) % 251)) {
                break;
            }
        }

        UNIT_EQ_UINT(i, 271);
    }

    unit_sldc_enc_free(&e);
}


/* the ring wraps: a copy from 1020 reads 1020-1023, then 0-3, which
 * it has just written (the bytes from 1020 again) */
static void
unit_test_sldc_wrap(void)
{
    size_t           i;
    ngx_str_t        out;
    ngx_uint_t       err;
    unit_sldc_enc_t  e;

    static const u_char  expect[] = {
        252, 253, 254, 255, 252, 253, 254, 255
    };

    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_RESET_2, 0);

    for (i = 0; i < 1024; i++) {
        unit_sldc_byte(&e, (u_char) i);
    }

    unit_sldc_control(&e, UNIT_SLDC_SCHEME_1, 0);
    unit_sldc_copy(&e, 8, 1020);
    /* and one more from position 2, which now holds 254 255 252 */
    unit_sldc_copy(&e, 3, 2);
    unit_sldc_finish(&e, 0, 0, 0);

    if (UNIT_CHECK(unit_sldc_enc(&e, 1 << 20, &out, &err) == NGX_OK)
        && UNIT_CHECK(out.len == 1024 + 8 + 3))
    {
        UNIT_CHECK(memcmp(out.data + 1024, expect, 8) == 0);
        UNIT_CHECK(out.data[1032] == 254 && out.data[1033] == 255
                   && out.data[1034] == 252);
        UNIT_CHECK(out.data[255] == 255 && out.data[256] == 0);
    }

    unit_sldc_enc_free(&e);
}


/* a small deterministic generator: the runs must repeat */
static uint32_t  unit_sldc_seed;

static uint32_t
unit_sldc_rand(void)
{
    unit_sldc_seed = unit_sldc_seed * 1103515245 + 12345;
    return (unit_sldc_seed >> 16) & 0x7fff;
}


static void
unit_sldc_fill(u_char *data, size_t len, ngx_uint_t kind)
{
    size_t       i;
    const char  *xml = "<Event xmlns=\"http://schemas.microsoft.com/win/"
                       "2004/08/events/event\"><System><EventID>4624"
                       "</EventID></System></Event>";

    for (i = 0; i < len; i++) {
        switch (kind) {
        case 0:     /* incompressible */
            data[i] = (u_char) unit_sldc_rand();
            break;
        case 1:     /* a small alphabet: many short matches */
            data[i] = "ab\xff" "c"[unit_sldc_rand() % 4];
            break;
        case 2:     /* runs, some over 271 */
            data[i] = (i == 0 || unit_sldc_rand() % 300) ? (i ? data[i - 1]
                                                              : 0)
                                                         : (u_char)
                                                           unit_sldc_rand();
            break;
        default:    /* UTF-16LE XML, as Windows sends it */
            data[i] = (i & 1) ? 0 : (u_char) xml[(i / 2) % strlen(xml)];
            if (unit_sldc_rand() % 97 == 0) {
                data[i] = (u_char) unit_sldc_rand();
            }
            break;
        }
    }
}


/* seeded random data, every kind, both schemes, with resets, scheme
 * changes and no-op control symbols at random places, round-tripped */
static void
unit_test_sldc_round_trip(void)
{
    u_char           *data;
    size_t            len, at, next;
    unsigned          code;
    ngx_str_t         out;
    ngx_uint_t        run, err, ok, ratio;
    unit_sldc_enc_t   e;

    static const unsigned  codes[] = {
        UNIT_SLDC_RESET_1, UNIT_SLDC_RESET_2, UNIT_SLDC_SCHEME_1,
        UNIT_SLDC_SCHEME_2, UNIT_SLDC_FLUSH, UNIT_SLDC_FILE_MARK,
        UNIT_SLDC_END_MARKER
    };

    unit_sldc_seed = 20261206;
    ok = 0;
    ratio = 0;

    for (run = 0; run < 120; run++) {
        len = (run % 10 == 0) ? run / 10 : unit_sldc_rand() % 5000;

        data = malloc(len + 1);
        if (data == NULL) {
            abort();
        }

        unit_sldc_fill(data, len, run % 4);

        unit_sldc_enc_init(&e);
        unit_sldc_control(&e, (run & 4) ? UNIT_SLDC_RESET_2
                                        : UNIT_SLDC_RESET_1, 0);

        /* every 8th run has control symbols sprinkled in */
        for (at = 0; at < len; at = next) {
            next = len;

            if (run % 8 == 7) {
                next = at + 1 + unit_sldc_rand() % 700;
                if (next > len) {
                    next = len;
                }
            }

            unit_sldc_compress(&e, data, at, next, 271);

            if (next < len) {
                code = codes[unit_sldc_rand() % 7];
                unit_sldc_control(&e, code, next);
            }
        }

        unit_sldc_finish(&e, run % 3, run % 2, (uint32_t) len);

        if (unit_sldc_enc(&e, len, &out, &err) == NGX_OK
            && out.len == len && memcmp(out.data, data, len) == 0)
        {
            ok++;

            if (run % 4 == 2 && len > 1000 && unit_sldc_len(&e) * 10 < len) {
                ratio++;
            }

        } else {
            printf("  round trip %lu (kind %lu, %lu bytes) failed: %lu\n",
                   (unsigned long) run, (unsigned long) (run % 4),
                   (unsigned long) len, (unsigned long) err);
        }

        unit_sldc_enc_free(&e);
        free(data);
    }

    UNIT_EQ_UINT(ok, 120);

    /* the compressor did compress (or the round trips prove little) */
    UNIT_CHECK(ratio > 5);
}


/* the stream every error test below starts from: Reset 1 and "abc" */
static void
unit_sldc_start(unit_sldc_enc_t *e)
{
    unit_sldc_enc_init(e);
    unit_sldc_control(e, UNIT_SLDC_RESET_1, 0);
    unit_sldc_literal(e, 'a');
    unit_sldc_literal(e, 'b');
    unit_sldc_literal(e, 'c');
}


static ngx_uint_t
unit_sldc_error(unit_sldc_enc_t *e)
{
    ngx_str_t   out;
    ngx_uint_t  err;

    if (unit_sldc_enc(e, 1 << 20, &out, &err) != NGX_DECLINED) {
        err = 999;
    }

    unit_sldc_enc_free(e);

    return err;
}


static void
unit_test_sldc_errors(void)
{
    size_t           i, n;
    ngx_str_t        out;
    ngx_uint_t       err, code, bad;
    unit_sldc_enc_t  e;

    /* empty input: no End of Record */
    UNIT_CHECK(unit_sldc((u_char *) "", 0, 100, &out, &err)
               == NGX_DECLINED);
    UNIT_EQ_UINT(err, NGX_WSMAN_SLDC_E_NO_END);

    /* ends on a byte boundary between symbols: Reset 1 and three
     * literals are 40 bits */
    unit_sldc_start(&e);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_NO_END);

    /* ends inside a control symbol: Reset 1, nine ones and two code
     * bits, 24 bits in all */
    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_RESET_1, 0);
    unit_sldc_put(&e, 0x7ff, 11);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRUNCATED);

    /* ends inside a literal, a copy's count, its displacement, a
     * scheme 2 byte, and between 0xff and its stuffed bit */
    unit_sldc_start(&e);
    unit_sldc_put(&e, 0x0, 4);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRUNCATED);

    unit_sldc_start(&e);
    unit_sldc_put(&e, 0x1e, 5);   /* 1 1110, then 3 of 4 bits */
    unit_sldc_put(&e, 0, 3);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRUNCATED);

    unit_sldc_start(&e);
    unit_sldc_put(&e, 0x4, 3);    /* 1 00: length 2, then 5 of 10 */
    unit_sldc_put(&e, 0, 5);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRUNCATED);

    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_RESET_2, 0);
    unit_sldc_put(&e, 0x41, 3);   /* 16 bits: 3 of a byte's 8 */
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRUNCATED);

    /* Reset 2 and three stuffed 0xff are 40 bits; a fourth 0xff ends
     * the input without its stuffed bit */
    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_RESET_2, 0);
    unit_sldc_byte(&e, 0xff);
    unit_sldc_byte(&e, 0xff);
    unit_sldc_byte(&e, 0xff);
    unit_sldc_put(&e, 0xff, 8);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRUNCATED);

    /* every reserved control code, 7-14 */
    bad = 0;
    for (code = 7; code < 15; code++) {
        unit_sldc_start(&e);
        unit_sldc_control(&e, (unsigned) code, 3);
        unit_sldc_finish(&e, 0, 0, 0);
        if (unit_sldc_error(&e) == NGX_WSMAN_SLDC_E_BAD_CONTROL) {
            bad++;
        }
    }
    UNIT_EQ_UINT(bad, 8);

    /* data, or End of Record, before any Reset or Scheme symbol */
    UNIT_CHECK(unit_sldc((u_char *) "\x00", 1, 100, &out, &err)
               == NGX_DECLINED);
    UNIT_EQ_UINT(err, NGX_WSMAN_SLDC_E_NO_SCHEME);

    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_FLUSH, 0);
    unit_sldc_literal(&e, 'a');
    unit_sldc_finish(&e, 0, 0, 0);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_NO_SCHEME);

    unit_sldc_enc_init(&e);
    unit_sldc_finish(&e, 0, 0, 0);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_NO_SCHEME);

    /* a no-op control symbol before the Reset is refused too: the
     * raw-or-compressed guess only knows a Reset or Scheme first */
    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_FILE_MARK, 0);
    unit_sldc_control(&e, UNIT_SLDC_RESET_1, 0);
    unit_sldc_literal(&e, 'a');
    unit_sldc_finish(&e, 0, 0, 0);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_NO_SCHEME);

    /* copy pointers before the start of the history: past the three
     * bytes written, running past them, and into what a Reset erased */
    unit_sldc_start(&e);
    unit_sldc_copy(&e, 2, 3);
    unit_sldc_finish(&e, 0, 0, 0);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_BAD_POINTER);

    unit_sldc_start(&e);
    unit_sldc_copy(&e, 271, 1023);
    unit_sldc_finish(&e, 0, 0, 0);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_BAD_POINTER);

    unit_sldc_start(&e);
    unit_sldc_copy(&e, 2, 2);     /* 'c' then position 3, the 'c' the
                                   * copy wrote: fine */
    unit_sldc_control(&e, UNIT_SLDC_RESET_1, 5);
    unit_sldc_literal(&e, 'd');
    unit_sldc_copy(&e, 2, 1);     /* position 1 was 'b' before Reset */
    unit_sldc_finish(&e, 0, 0, 0);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_BAD_POINTER);

    /* after End of Record: a non-zero padding bit, a stray byte, eight
     * zero bytes, and a trailer that disagrees */
    unit_sldc_start(&e);
    unit_sldc_finish(&e, 0, 0, 0);
    e.buf[unit_sldc_len(&e) - 1] |= 1;
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRAILING);

    unit_sldc_start(&e);
    unit_sldc_finish(&e, 0, 0, 0);
    unit_sldc_put(&e, 0x3c, 8);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRAILING);

    unit_sldc_start(&e);
    unit_sldc_finish(&e, 8, 0, 0);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRAILING);

    unit_sldc_start(&e);
    unit_sldc_finish(&e, 1, 0, 0);
    unit_sldc_put(&e, 0x01, 8);   /* padding that is not zero, then a */
    unit_sldc_put(&e, 0x03, 8);   /* right trailer 03 00 00 00 */
    unit_sldc_put(&e, 0, 24);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_TRAILING);

    unit_sldc_start(&e);
    unit_sldc_finish(&e, 3, 1, 4);
    UNIT_EQ_UINT(unit_sldc_error(&e), NGX_WSMAN_SLDC_E_LENGTH);

    /* the right trailer after 0-3 zero bytes is fine */
    for (n = 0; n < 4; n++) {
        unit_sldc_start(&e);
        unit_sldc_finish(&e, n, 1, 3);
        UNIT_CHECK(unit_sldc_enc(&e, 100, &out, &err) == NGX_OK
                   && out.len == 3 && memcmp(out.data, "abc", 3) == 0);
        unit_sldc_enc_free(&e);
    }

    /* every proper prefix of a valid stream fails, whatever the cut */
    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_RESET_1, 0);
    unit_sldc_compress(&e, (u_char *) "abcabcabcabc\xff\xff", 0, 14, 271);
    unit_sldc_control(&e, UNIT_SLDC_SCHEME_2, 14);
    unit_sldc_byte(&e, 0xff);
    unit_sldc_finish(&e, 0, 0, 0);

    bad = 0;
    for (i = 0; i < unit_sldc_len(&e); i++) {
        if (unit_sldc(e.buf, i, 100, &out, &err) != NGX_DECLINED) {
            bad++;
        }
    }
    UNIT_EQ_UINT(bad, 0);
    UNIT_CHECK(unit_sldc_enc(&e, 100, &out, &err) == NGX_OK
               && out.len == 15);
    unit_sldc_enc_free(&e);

    /* every 1-byte and every 2-byte input is refused, none crashes */
    bad = 0;
    for (i = 0; i < 65536; i++) {
        u_char  b[2];

        b[0] = (u_char) (i >> 8);
        b[1] = (u_char) i;

        if ((i < 256 && unit_sldc(b + 1, 1, 100, &out, &err) != NGX_DECLINED)
            || unit_sldc(b, 2, 100, &out, &err) != NGX_DECLINED)
        {
            bad++;
        }
    }
    UNIT_EQ_UINT(bad, 0);
}


/* the cap: exact fits, one less is refused with its own result, and a
 * bomb stops at the cap without allocating anything */
static void
unit_test_sldc_cap(void)
{
    size_t           i;
    ngx_str_t        out;
    ngx_uint_t       err;
    unit_sldc_enc_t  e;

    unit_sldc_start(&e);
    unit_sldc_finish(&e, 0, 0, 0);
    UNIT_CHECK(unit_sldc_enc(&e, 3, &out, &err) == NGX_OK && out.len == 3);
    UNIT_CHECK(unit_sldc_enc(&e, 2, &out, &err) == NGX_WSMAN_SLDC_TOO_LARGE);
    UNIT_EQ_UINT(err, NGX_WSMAN_SLDC_E_TOO_LARGE);
    UNIT_CHECK(out.data == NULL);
    unit_sldc_enc_free(&e);

    /* an empty record decodes to nothing, even with a cap of 0 */
    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_RESET_2, 0);
    unit_sldc_finish(&e, 0, 1, 0);
    UNIT_CHECK(unit_sldc_enc(&e, 0, &out, &err) == NGX_OK && out.len == 0);
    unit_sldc_enc_free(&e);

    /* 'a' and 100,000 copies of 271: 27 MB from 290 KB; with every
     * allocation failing, the result is still "too large", not "out of
     * memory": the bomb was stopped before anything was allocated */
    unit_sldc_enc_init(&e);
    unit_sldc_control(&e, UNIT_SLDC_RESET_1, 0);
    unit_sldc_literal(&e, 'a');
    for (i = 0; i < 100000; i++) {
        unit_sldc_copy(&e, 271, 0);
    }
    unit_sldc_finish(&e, 0, 0, 0);

    unit_alloc_fail_after(0);
    UNIT_CHECK(unit_sldc_enc(&e, 1 << 20, &out, &err)
               == NGX_WSMAN_SLDC_TOO_LARGE);
    unit_alloc_fail_after(-1);
    UNIT_EQ_UINT(err, NGX_WSMAN_SLDC_E_TOO_LARGE);

    /* the same with room for it decodes, and an allocation failure is
     * NGX_ERROR */
    UNIT_CHECK(unit_sldc_enc(&e, 28000000, &out, &err) == NGX_OK
               && out.len == 1 + 100000 * 271
               && out.data[out.len - 1] == 'a');

    unit_alloc_fail_after(0);
    UNIT_CHECK(unit_sldc_enc(&e, 28000000, &out, &err) == NGX_ERROR);
    unit_alloc_fail_after(-1);

    unit_sldc_enc_free(&e);
}


static void
unit_test_sldc_looks_compressed(void)
{
    ngx_uint_t  i, yes;
    ngx_str_t   s;
    u_char      b[2];

    static const struct {
        const char  *data;
        size_t       len;
        ngx_uint_t   compressed;
    } v[] = {
        { "\xff\xfe<\x00", 4, 0 },      /* UTF-16LE BOM */
        { "\xfe\xff\x00<", 4, 0 },      /* UTF-16BE BOM */
        { "\xef\xbb\xbf<", 4, 0 },      /* UTF-8 BOM */
        { "<s:Envelope", 11, 0 },
        { "<\x00s\x00", 4, 0 },
        { "", 0, 0 },
        { "\xff", 1, 0 },
        { "\xff\xb2\x43", 3, 1 },       /* Reset 2 */
        { "\xff\xa9\x84", 3, 1 },       /* Reset 1 */
        { "\xff\x88\x00", 3, 1 },       /* Scheme 1 */
        { "\xff\x97\x00", 3, 1 },       /* Scheme 2 */
        { "\xff\xa7\x00", 3, 0 },       /* End of Record */
        { "\xff\x80\x00", 3, 0 },       /* Flush */
        { "\xff\x7f\x00", 3, 0 },       /* eight ones only */
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        s.data = (u_char *) v[i].data;
        s.len = v[i].len;

        if (!UNIT_EQ_UINT(ngx_wsman_sldc_looks_compressed(&s),
                          v[i].compressed))
        {
            printf("  looks_compressed case %lu\n", (unsigned long) i);
        }
    }

    /* exactly the 4 codes x 8 low bits of the second byte */
    yes = 0;
    s.data = b;
    s.len = 2;
    b[0] = 0xff;
    for (i = 0; i < 256; i++) {
        b[1] = (u_char) i;
        yes += ngx_wsman_sldc_looks_compressed(&s);
    }
    UNIT_EQ_UINT(yes, 32);
}


void
unit_test_sldc(void)
{
    unit_pool = ngx_create_pool(4096, &unit_log);
    if (unit_pool == NULL) {
        abort();
    }

    unit_test_sldc_vectors();
    unit_test_sldc_max_copy();
    unit_test_sldc_wrap();
    unit_test_sldc_round_trip();
    unit_test_sldc_errors();
    unit_test_sldc_cap();
    unit_test_sldc_looks_compressed();

    ngx_destroy_pool(unit_pool);
}
