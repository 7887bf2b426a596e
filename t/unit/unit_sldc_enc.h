/*
 * An SLDC compressor for the tests only (unit_sldc_enc.c): it writes
 * streams by the encoding rules of ECMA-321 as docs/sldc.md restates
 * them, independently of the decoder in src/soap/ngx_wsman_sldc.c, so
 * that the tests can round-trip any data and build any malformed stream
 * symbol by symbol.
 */

#ifndef _UNIT_SLDC_ENC_H_INCLUDED_
#define _UNIT_SLDC_ENC_H_INCLUDED_


#include "unit.h"


/* control codes (the 4 bits after nine ones) */
#define UNIT_SLDC_FLUSH       0x0
#define UNIT_SLDC_SCHEME_1    0x1
#define UNIT_SLDC_SCHEME_2    0x2
#define UNIT_SLDC_FILE_MARK   0x3
#define UNIT_SLDC_END_RECORD  0x4
#define UNIT_SLDC_RESET_1     0x5
#define UNIT_SLDC_RESET_2     0x6
#define UNIT_SLDC_END_MARKER  0xf


typedef struct {
    u_char      *buf;           /* malloc()ed; the caller frees it */
    size_t       cap;
    size_t       bits;          /* bits written */

    int          scheme;        /* 1 or 2: how compress() writes data */
    size_t       reset_at;      /* data index of the last Reset */
} unit_sldc_enc_t;


void unit_sldc_enc_init(unit_sldc_enc_t *e);
void unit_sldc_enc_free(unit_sldc_enc_t *e);

/* the low n bits of v, most significant first */
void unit_sldc_put(unit_sldc_enc_t *e, uint32_t v, unsigned n);

/* nine ones and the code; a Reset at data index `at` clears the history
 * compress() may refer to, a Reset or Scheme sets the scheme */
void unit_sldc_control(unit_sldc_enc_t *e, unsigned code, size_t at);

/* single symbols: a scheme 1 literal, a scheme 1 copy pointer (length
 * 2-271, displacement 0-1023), a scheme 2 byte */
void unit_sldc_literal(unit_sldc_enc_t *e, u_char c);
void unit_sldc_copy(unit_sldc_enc_t *e, unsigned len, unsigned disp);
void unit_sldc_byte(unit_sldc_enc_t *e, u_char c);

/* data[from..to) in the current scheme; scheme 1 uses the longest
 * match (at most max_match, 2-271) in the history since the Reset */
void unit_sldc_compress(unit_sldc_enc_t *e, const u_char *data,
    size_t from, size_t to, unsigned max_match);

/* End of Record, zero bits to the byte, pad zero bytes, and if trailer
 * the 4-byte little-endian length */
void unit_sldc_finish(unit_sldc_enc_t *e, size_t pad, int trailer,
    uint32_t length);

/* the bytes written so far (a partial last byte padded with zeros) */
size_t unit_sldc_len(unit_sldc_enc_t *e);


#endif /* _UNIT_SLDC_ENC_H_INCLUDED_ */
