/*
 * The tests' SLDC compressor (unit_sldc_enc.h).  Written from the
 * encoding rules, not from the decoder: a greedy LZ77 over the 1 KiB
 * history, brute force, which is plenty for test data.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_sldc_enc.h"


#define UNIT_SLDC_HISTORY  1024


void
unit_sldc_enc_init(unit_sldc_enc_t *e)
{
    memset(e, 0, sizeof(unit_sldc_enc_t));

    e->cap = 4096;
    e->buf = calloc(1, e->cap);
    if (e->buf == NULL) {
        abort();
    }

    e->scheme = 1;
}


void
unit_sldc_enc_free(unit_sldc_enc_t *e)
{
    free(e->buf);
    e->buf = NULL;
}


void
unit_sldc_put(unit_sldc_enc_t *e, uint32_t v, unsigned n)
{
    unsigned  i, bit;

    for (i = n; i > 0; i--) {
        if ((e->bits >> 3) >= e->cap) {
            e->buf = realloc(e->buf, e->cap * 2);
            if (e->buf == NULL) {
                abort();
            }

            memset(e->buf + e->cap, 0, e->cap);
            e->cap *= 2;
        }

        bit = (v >> (i - 1)) & 1;

        if (bit) {
            e->buf[e->bits >> 3] |= (u_char) (0x80 >> (e->bits & 7));
        }

        e->bits++;
    }
}


void
unit_sldc_control(unit_sldc_enc_t *e, unsigned code, size_t at)
{
    unit_sldc_put(e, 0x1ff, 9);
    unit_sldc_put(e, code, 4);

    switch (code) {
    case UNIT_SLDC_RESET_1:
    case UNIT_SLDC_RESET_2:
        e->reset_at = at;
        e->scheme = (code == UNIT_SLDC_RESET_1) ? 1 : 2;
        break;
    case UNIT_SLDC_SCHEME_1:
    case UNIT_SLDC_SCHEME_2:
        e->scheme = (code == UNIT_SLDC_SCHEME_1) ? 1 : 2;
        break;
    }
}


void
unit_sldc_literal(unit_sldc_enc_t *e, u_char c)
{
    unit_sldc_put(e, 0, 1);
    unit_sldc_put(e, c, 8);
}


/* the match count field: 0x (2-3), 10xx (4-7), 110xxx (8-15),
 * 1110xxxx (16-31), 1111xxxxxxxx (32-271) */
void
unit_sldc_copy(unit_sldc_enc_t *e, unsigned len, unsigned disp)
{
    if (len < 2 || len > 271 || disp > 1023) {
        abort();
    }

    unit_sldc_put(e, 1, 1);

    if (len < 4) {
        unit_sldc_put(e, 0x0, 1);
        unit_sldc_put(e, len - 2, 1);

    } else if (len < 8) {
        unit_sldc_put(e, 0x2, 2);
        unit_sldc_put(e, len - 4, 2);

    } else if (len < 16) {
        unit_sldc_put(e, 0x6, 3);
        unit_sldc_put(e, len - 8, 3);

    } else if (len < 32) {
        unit_sldc_put(e, 0xe, 4);
        unit_sldc_put(e, len - 16, 4);

    } else {
        unit_sldc_put(e, 0xf, 4);
        unit_sldc_put(e, len - 32, 8);
    }

    unit_sldc_put(e, disp, 10);
}


void
unit_sldc_byte(unit_sldc_enc_t *e, u_char c)
{
    unit_sldc_put(e, c, 8);

    if (c == 0xff) {
        unit_sldc_put(e, 0, 1);
    }
}


void
unit_sldc_compress(unit_sldc_enc_t *e, const u_char *data, size_t from,
    size_t to, unsigned max_match)
{
    size_t    i, j, lo, best_j;
    unsigned  k, best;

    if (max_match > 271) {
        max_match = 271;
    }

    for (i = from; i < to; /* void */) {

        if (e->scheme == 2) {
            unit_sldc_byte(e, data[i++]);
            continue;
        }

        /* a match may start anywhere in the last 1024 bytes since the
         * Reset, and run into the bytes it produces */
        lo = e->reset_at;
        if (i > lo + UNIT_SLDC_HISTORY) {
            lo = i - UNIT_SLDC_HISTORY;
        }

        best = 0;
        best_j = 0;

        for (j = lo; j < i; j++) {
            for (k = 0; k < max_match && i + k < to; k++) {
                if (data[j + k] != data[i + k]) {
                    break;
                }
            }

            if (k > best) {
                best = k;
                best_j = j;
            }
        }

        if (best >= 2) {
            /* the ring position of data[best_j]: the history restarts
             * at position 0 with each Reset */
            unit_sldc_copy(e, best,
                           (unsigned) ((best_j - e->reset_at)
                                       % UNIT_SLDC_HISTORY));
            i += best;

        } else {
            unit_sldc_literal(e, data[i++]);
        }
    }
}


void
unit_sldc_finish(unit_sldc_enc_t *e, size_t pad, int trailer,
    uint32_t length)
{
    size_t  i;

    unit_sldc_control(e, UNIT_SLDC_END_RECORD, 0);

    while (e->bits & 7) {
        unit_sldc_put(e, 0, 1);
    }

    for (i = 0; i < pad; i++) {
        unit_sldc_put(e, 0, 8);
    }

    if (trailer) {
        for (i = 0; i < 4; i++) {
            unit_sldc_put(e, (length >> (8 * i)) & 0xff, 8);
        }
    }
}


size_t
unit_sldc_len(unit_sldc_enc_t *e)
{
    return (e->bits + 7) >> 3;
}
