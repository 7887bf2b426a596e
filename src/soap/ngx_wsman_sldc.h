/*
 * ECMA-321 SLDC ("Streaming Lossless Data Compression") decompression:
 * Windows event sources send their bodies with Content-Encoding: SLDC
 * (docs/sldc.md describes the format as implemented).
 *
 * No library on the system decodes SLDC, so this is our own decoder,
 * written to be safe on hostile input: every read is bounds-checked,
 * the output never grows past a cap the caller gives, and every
 * malformed stream ends with its own error class and a short reason for
 * the log.  It needs neither ngx_http.h nor libxml2 (plug-in code rules).
 */

#ifndef _NGX_WSMAN_SLDC_H_INCLUDED_
#define _NGX_WSMAN_SLDC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the history buffer copy pointers address: 1 KiB, a 10-bit field */
#define NGX_WSMAN_SLDC_HISTORY       1024

/* the decompressed body would pass the caller's cap (a distinct result
 * from NGX_DECLINED: the handler answers it with 413, not 400) */
#define NGX_WSMAN_SLDC_TOO_LARGE     -100


/* why a stream was refused (ngx_wsman_sldc_t.error) */
typedef enum {
    NGX_WSMAN_SLDC_E_NONE = 0,
    /* the input ends inside a symbol */
    NGX_WSMAN_SLDC_E_TRUNCATED,
    /* the input ends between symbols, before End of Record (or is
     * empty) */
    NGX_WSMAN_SLDC_E_NO_END,
    /* a control symbol whose code the standard reserves */
    NGX_WSMAN_SLDC_E_BAD_CONTROL,
    /* a record that does not start with a Reset or Scheme symbol */
    NGX_WSMAN_SLDC_E_NO_SCHEME,
    /* a copy pointer to history not written since the last Reset */
    NGX_WSMAN_SLDC_E_BAD_POINTER,
    /* bytes after End of Record that are neither zero padding nor the
     * length trailer */
    NGX_WSMAN_SLDC_E_TRAILING,
    /* the length trailer disagrees with the decoded length */
    NGX_WSMAN_SLDC_E_LENGTH,
    /* the output would pass the cap (NGX_WSMAN_SLDC_TOO_LARGE) */
    NGX_WSMAN_SLDC_E_TOO_LARGE
} ngx_wsman_sldc_error_e;


/*
 * The decoder's whole state, so that it could be fed across calls one
 * day; today a body is decoded in one go (ngx_wsman_sldc_decompress()).
 * With out == NULL the decoder only counts: that is how the exact output
 * size is learnt before anything is allocated.
 */
typedef struct {
    const u_char   *in;
    size_t          in_len;
    size_t          bit;            /* the next input bit */

    u_char         *out;            /* NULL: count only */
    size_t          out_len;
    size_t          max;            /* the cap on out_len */

    u_char          history[NGX_WSMAN_SLDC_HISTORY];
    ngx_uint_t      hpos;           /* where the next byte goes */
    ngx_uint_t      filled;         /* bytes written since the Reset */
    ngx_uint_t      scheme;         /* 0 (none yet), 1 or 2 */

    ngx_uint_t      error;          /* ngx_wsman_sldc_error_e */
    const char     *reason;         /* for the log; static text */
} ngx_wsman_sldc_t;


/*
 * Decompresses a whole body into out (in a pool buffer of four times the
 * input and 1 KiB, or of exactly the decoded length when that does not
 * hold it: docs/sldc.md) if it decodes to at most max bytes.  Returns
 * NGX_OK; NGX_DECLINED for a malformed stream; NGX_WSMAN_SLDC_TOO_LARGE
 * when the output would pass max (no more than the first buffer is
 * allocated then); NGX_ERROR when out of memory.  On anything but NGX_OK, *reason (if reason != NULL)
 * says why and *error (if error != NULL) holds the class.
 */
ngx_int_t ngx_wsman_sldc_decompress(ngx_pool_t *pool, const ngx_str_t *in,
    size_t max, ngx_str_t *out, ngx_uint_t *error, const char **reason);

/* the decoder proper, for callers that keep their own state */
void ngx_wsman_sldc_init(ngx_wsman_sldc_t *s, const u_char *in,
    size_t len, u_char *out, size_t max);
ngx_int_t ngx_wsman_sldc_run(ngx_wsman_sldc_t *s);

/*
 * Whether a body announced as SLDC really is: Windows sometimes says
 * SLDC and sends the UTF-16 text as is.  A stream starts with a Reset
 * or Scheme control symbol, whose first byte is 0xff and whose second
 * byte lies in 0x88-0x97 or 0xa8-0xb7; a raw body starts with a BOM
 * (ff fe, fe ff, ef bb bf) or '<', none of which matches: ff fe would
 * be the End Marker control symbol, which cannot start a record.
 */
ngx_uint_t ngx_wsman_sldc_looks_compressed(const ngx_str_t *body);


#endif /* _NGX_WSMAN_SLDC_H_INCLUDED_ */
