/*
 * ECMA-321 SLDC decompression (see ngx_wsman_sldc.h and docs/sldc.md).
 *
 * The stream is a string of bits, most significant bit of each byte
 * first.  Nine 1 bits in a row never start a data symbol, so they mark a
 * control symbol: the nine ones and a 4-bit code.  Between control
 * symbols the data symbols follow the current scheme:
 *
 *   scheme 1  0 + 8 bits: a literal byte;
 *             1 + match count field + 10-bit displacement: a copy of
 *             2-271 bytes from the history buffer;
 *   scheme 2  8 bits: a byte as is; 0xff is followed by one 0 bit, so
 *             that no byte can look like a control symbol.
 *
 * Every byte decoded, in either scheme, also goes into a 1 KiB history
 * ring; the displacement is an absolute position in that ring, and a
 * copy reads one byte after the other, so a copy may overlap the bytes
 * it is writing (a run).
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <endian.h>

#include "ngx_wsman_sldc.h"


/* the control codes, the 4 bits after the nine ones */
#define NGX_WSMAN_SLDC_FLUSH         0x0
#define NGX_WSMAN_SLDC_SCHEME_1      0x1
#define NGX_WSMAN_SLDC_SCHEME_2      0x2
#define NGX_WSMAN_SLDC_FILE_MARK     0x3
#define NGX_WSMAN_SLDC_END_RECORD    0x4
#define NGX_WSMAN_SLDC_RESET_1       0x5
#define NGX_WSMAN_SLDC_RESET_2       0x6
#define NGX_WSMAN_SLDC_END_MARKER    0xf

/* the first output buffer, in times the input (then two passes) */
#define NGX_WSMAN_SLDC_GUESS         4

/* the nine ones that start a control symbol */
#define NGX_WSMAN_SLDC_CONTROL       0x1ff

/*
 * The tight loop (ngx_wsman_sldc_fast()); the unit tests' plain build
 * (t/unit/Makefile) turns it off, so that the careful path alone decodes
 * the same streams and is checked against the same data
 */
#if defined(NGX_WSMAN_SLDC_NO_FAST)
#define NGX_WSMAN_SLDC_FAST          0
#else
#define NGX_WSMAN_SLDC_FAST          1
#endif


static ngx_int_t ngx_wsman_sldc_fail(ngx_wsman_sldc_t *s, ngx_uint_t error,
    const char *reason);
static ngx_int_t ngx_wsman_sldc_control(ngx_wsman_sldc_t *s);
static ngx_int_t ngx_wsman_sldc_copy(ngx_wsman_sldc_t *s);
static ngx_int_t ngx_wsman_sldc_tail(ngx_wsman_sldc_t *s);
static void ngx_wsman_sldc_fast(ngx_wsman_sldc_t *s);


/* the input bits not read yet; in_len was checked against overflow of
 * in_len * 8 by ngx_wsman_sldc_init() */
static ngx_inline size_t
ngx_wsman_sldc_avail(ngx_wsman_sldc_t *s)
{
    return s->in_len * 8 - s->bit;
}


/*
 * The next n (1-13) bits without consuming them; bits past the end of
 * the input read as 0, so callers check ngx_wsman_sldc_avail() before
 * they trust or consume what they peeked.
 */
static ngx_inline ngx_uint_t
ngx_wsman_sldc_peek(ngx_wsman_sldc_t *s, ngx_uint_t n)
{
    size_t    byte;
    uint32_t  w;
    uint64_t  q;

    byte = s->bit >> 3;

    /* away from the end: eight bytes at once hold any 13 bits */
    if (byte + 8 <= s->in_len) {
        ngx_memcpy(&q, s->in + byte, 8);
        q = be64toh(q) << (s->bit & 7);

        return (ngx_uint_t) (q >> (64 - n));
    }

    /* three bytes hold any 13 bits whatever the bit offset (7 + 13) */
    w = 0;

    if (byte < s->in_len) {
        w = (uint32_t) s->in[byte] << 16;
    }

    if (byte + 1 < s->in_len) {
        w |= (uint32_t) s->in[byte + 1] << 8;
    }

    if (byte + 2 < s->in_len) {
        w |= s->in[byte + 2];
    }

    return (w >> (24 - (s->bit & 7) - n)) & ((1u << n) - 1);
}


/* n bits, or NGX_DECLINED (E_TRUNCATED) when the input ends first */
static ngx_inline ngx_int_t
ngx_wsman_sldc_get(ngx_wsman_sldc_t *s, ngx_uint_t n, ngx_uint_t *v)
{
    if (ngx_wsman_sldc_avail(s) < n) {
        return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_TRUNCATED,
                                   "input ends inside a symbol");
    }

    *v = ngx_wsman_sldc_peek(s, n);
    s->bit += n;

    return NGX_OK;
}


/* one decoded byte: to the output (if not counting) and the history */
static ngx_inline ngx_int_t
ngx_wsman_sldc_emit(ngx_wsman_sldc_t *s, u_char c)
{
    if (s->out_len >= s->max) {
        /* a bomb stops here, before the byte is stored anywhere */
        return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_TOO_LARGE,
                                   "output passes the size limit");
    }

    if (s->out) {
        s->out[s->out_len] = c;
    }

    s->out_len++;

    s->history[s->hpos] = c;
    s->hpos = (s->hpos + 1) & (NGX_WSMAN_SLDC_HISTORY - 1);

    if (s->filled < NGX_WSMAN_SLDC_HISTORY) {
        s->filled++;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_sldc_fail(ngx_wsman_sldc_t *s, ngx_uint_t error,
    const char *reason)
{
    s->error = error;
    s->reason = reason;

    return (error == NGX_WSMAN_SLDC_E_TOO_LARGE) ? NGX_WSMAN_SLDC_TOO_LARGE
                                                 : NGX_DECLINED;
}


void
ngx_wsman_sldc_init(ngx_wsman_sldc_t *s, const u_char *in, size_t len,
    u_char *out, size_t max)
{
    ngx_memzero(s, sizeof(ngx_wsman_sldc_t));

    s->in = in;
    s->in_len = len;
    s->out = out;
    s->max = max;

    /* a body this size cannot exist in memory; refusing it keeps the
     * bit arithmetic (in_len * 8) from overflowing */
    if (len > ((size_t) -1) / 8) {
        s->in_len = 0;
        (void) ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_TOO_LARGE,
                                   "input too long to address in bits");
    }
}


/*
 * Decodes until End of Record and checks what follows it.  Returns
 * NGX_OK, NGX_DECLINED or NGX_WSMAN_SLDC_TOO_LARGE (s->error and
 * s->reason say why).
 */
ngx_int_t
ngx_wsman_sldc_run(ngx_wsman_sldc_t *s)
{
    ngx_int_t   rc;
    ngx_uint_t  v;

    if (s->error) {
        return ngx_wsman_sldc_fail(s, s->error, s->reason);
    }

    for ( ;; ) {

        /* the bulk of a record, while nothing can go wrong */
        if (NGX_WSMAN_SLDC_FAST && s->scheme == 1 && s->out
            && s->filled == NGX_WSMAN_SLDC_HISTORY)
        {
            ngx_wsman_sldc_fast(s);
        }

        if (ngx_wsman_sldc_avail(s) == 0) {
            return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_NO_END,
                                       "no End of Record");
        }

        /* fewer than nine bits left cannot be a control symbol: the
         * zeros peek() reads past the end make the test fail, and the
         * data symbol below finds the input truncated */
        if (ngx_wsman_sldc_peek(s, 9) == NGX_WSMAN_SLDC_CONTROL) {

            rc = ngx_wsman_sldc_control(s);

            if (rc == NGX_DONE) {
                return ngx_wsman_sldc_tail(s);
            }

            if (rc != NGX_OK) {
                return rc;
            }

            continue;
        }

        switch (s->scheme) {

        case 1:
            /* a literal: the 0 and its byte are the nine bits just
             * peeked (when all nine are there) */
            v = ngx_wsman_sldc_peek(s, 9);

            if (v < 0x100 && ngx_wsman_sldc_avail(s) >= 9) {
                s->bit += 9;
                rc = ngx_wsman_sldc_emit(s, (u_char) v);
                break;
            }

            if (ngx_wsman_sldc_get(s, 1, &v) != NGX_OK) {
                return NGX_DECLINED;
            }

            if (v) {
                rc = ngx_wsman_sldc_copy(s);

            } else {
                if (ngx_wsman_sldc_get(s, 8, &v) != NGX_OK) {
                    return NGX_DECLINED;
                }

                rc = ngx_wsman_sldc_emit(s, (u_char) v);
            }

            break;

        case 2:
            if (ngx_wsman_sldc_get(s, 8, &v) != NGX_OK) {
                return NGX_DECLINED;
            }

            if (v == 0xff) {
                /* the stuffed bit; it is 0, as a 1 would have made nine
                 * ones and a control symbol, caught above */
                if (ngx_wsman_sldc_avail(s) < 1) {
                    return ngx_wsman_sldc_fail(s,
                                               NGX_WSMAN_SLDC_E_TRUNCATED,
                                               "input ends inside a symbol");
                }

                s->bit++;
            }

            rc = ngx_wsman_sldc_emit(s, (u_char) v);
            break;

        default:
            return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_NO_SCHEME,
                                       "data before a Reset or Scheme "
                                       "symbol");
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }
}


/* a control symbol; NGX_DONE at End of Record */
static ngx_int_t
ngx_wsman_sldc_control(ngx_wsman_sldc_t *s)
{
    ngx_uint_t  v;

    if (ngx_wsman_sldc_get(s, 13, &v) != NGX_OK) {
        return NGX_DECLINED;
    }

    v &= 0xf;

    if (s->scheme == 0
        && v != NGX_WSMAN_SLDC_RESET_1 && v != NGX_WSMAN_SLDC_RESET_2
        && v != NGX_WSMAN_SLDC_SCHEME_1 && v != NGX_WSMAN_SLDC_SCHEME_2)
    {
        /* a record starts with a Reset (or a Scheme): anything else
         * first is not a stream we know, and the raw-or-compressed guess
         * (ngx_wsman_sldc_looks_compressed()) relies on it */
        return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_NO_SCHEME,
                                   "record does not start with a Reset");
    }

    switch (v) {

    case NGX_WSMAN_SLDC_FLUSH:
    case NGX_WSMAN_SLDC_FILE_MARK:
    case NGX_WSMAN_SLDC_END_MARKER:
        /* they matter to a tape drive, not to one record in memory */
        return NGX_OK;

    case NGX_WSMAN_SLDC_SCHEME_1:
    case NGX_WSMAN_SLDC_SCHEME_2:
        /* a scheme change keeps the history: both schemes feed it */
        s->scheme = v;
        return NGX_OK;

    case NGX_WSMAN_SLDC_RESET_1:
    case NGX_WSMAN_SLDC_RESET_2:
        /* the history starts over: nothing before this point may be
         * referred to, which is what filled tracks */
        s->scheme = v - NGX_WSMAN_SLDC_RESET_1 + 1;
        s->hpos = 0;
        s->filled = 0;
        return NGX_OK;

    case NGX_WSMAN_SLDC_END_RECORD:
        return NGX_DONE;

    default:
        return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_BAD_CONTROL,
                                   "reserved control symbol");
    }
}


/*
 * A scheme 1 copy pointer after its leading 1: the match count field
 * (a prefix code for the length classes 2-3, 4-7, 8-15, 16-31 and
 * 32-271), then the 10-bit displacement.
 */
static ngx_int_t
ngx_wsman_sldc_copy(ngx_wsman_sldc_t *s)
{
    ngx_int_t   rc;
    ngx_uint_t  v, ones, len, disp, pos, k;

    static const ngx_uint_t  base[] = { 2, 4, 8, 16, 32 };
    static const ngx_uint_t  width[] = { 1, 2, 3, 4, 8 };

    /* up to four 1 bits, ended by a 0 unless there are four */
    if (ngx_wsman_sldc_avail(s) >= 5) {
        v = ngx_wsman_sldc_peek(s, 5);

        for (ones = 0; ones < 4 && (v & (0x10 >> ones)); ones++) {
            /* void */
        }

        s->bit += (ones < 4) ? ones + 1 : 4;

    } else {
        for (ones = 0; ones < 4; ones++) {
            if (ngx_wsman_sldc_get(s, 1, &v) != NGX_OK) {
                return NGX_DECLINED;
            }

            if (v == 0) {
                break;
            }
        }
    }

    if (ngx_wsman_sldc_get(s, width[ones], &v) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ones == 4 && v >= 0xf0) {
        /* 1 1111 1111 is the start of a control symbol, which run()
         * took before coming here: this cannot happen, but the length
         * would pass 271 if it did */
        return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_BAD_CONTROL,
                                   "reserved match count");
    }

    len = base[ones] + v;

    if (ngx_wsman_sldc_get(s, 10, &disp) != NGX_OK) {
        return NGX_DECLINED;
    }

    /*
     * The common case in one go: the ring full once (every position holds
     * a byte of this record), room for the whole copy in the output, and
     * source and destination in the ring apart by at least len, both
     * without wrapping (a closer source is a run: byte by byte below)
     */
    if (s->filled == NGX_WSMAN_SLDC_HISTORY
        && s->max - s->out_len >= len
        && disp + len <= NGX_WSMAN_SLDC_HISTORY
        && s->hpos + len <= NGX_WSMAN_SLDC_HISTORY
        && (disp + len <= s->hpos || s->hpos + len <= disp))
    {
        if (s->out) {
            ngx_memcpy(s->out + s->out_len, s->history + disp, len);
        }

        ngx_memcpy(s->history + s->hpos, s->history + disp, len);

        s->out_len += len;
        s->hpos = (s->hpos + len) & (NGX_WSMAN_SLDC_HISTORY - 1);

        return NGX_OK;
    }

    for (k = 0; k < len; k++) {
        pos = (disp + k) & (NGX_WSMAN_SLDC_HISTORY - 1);

        /* until the ring is full once, positions from filled on hold
         * nothing of this record (the bytes this copy writes count as
         * they are written, so a run is fine) */
        if (s->filled < NGX_WSMAN_SLDC_HISTORY && pos >= s->filled) {
            return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_BAD_POINTER,
                                       "copy pointer before the start of "
                                       "the history");
        }

        rc = ngx_wsman_sldc_emit(s, s->history[pos]);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


/*
 * Scheme 1 symbols, the bulk of a record, decoded in a tight loop while
 * none of the careful path's checks can fail: eight input bytes left
 * (any symbol is at most 23 bits, the bit offset at most 7), room in the
 * output for the longest copy (271) and 16 bytes more, the history full
 * once since the Reset (every copy pointer valid).  Then the history is
 * the output's last 1 KiB: a copy from ring position disp is one from
 * dist bytes back in the output, so the loop writes the output alone
 * (short copies 8 bytes at a time, past their end into the room) and
 * puts the ring back as it leaves, at the first control symbol or when
 * a condition no longer holds; the careful path takes the next symbol.
 */
static void
ngx_wsman_sldc_fast(ngx_wsman_sldc_t *s)
{
    u_char        *out, *d;
    size_t         bit, last, o, start, omax, dist, len, hpos;
    uint64_t       q, v;
    ngx_uint_t     ones, n, w, k, disp;
    const u_char  *src;

    static const ngx_uint_t  base[] = { 2, 4, 8, 16, 32 };
    static const ngx_uint_t  width[] = { 1, 2, 3, 4, 8 };

    /* the history is full (the caller's condition), so out_len is at
     * least 1024: every dist below points into the output */
    if (s->in_len < 8 || s->max < 271 + 16) {
        return;
    }

    last = (s->in_len - 8) * 8;        /* the last bit a load may start at */
    omax = s->max - 271 - 16;

    bit = s->bit;
    out = s->out;
    o = s->out_len;
    start = o;
    hpos = s->hpos;

    while (bit <= last && o <= omax) {
        ngx_memcpy(&q, s->in + (bit >> 3), 8);
        q = be64toh(q) << (bit & 7);   /* at least 57 bits good */

        if ((q >> 55) == NGX_WSMAN_SLDC_CONTROL) {
            break;
        }

        if ((q >> 63) == 0) {
            /* a literal: 0 and its byte */
            out[o++] = (u_char) (q >> 55);
            bit += 9;
            continue;
        }

        /* a copy: 1, up to four 1 bits (ended by a 0 unless four), the
         * count, the 10-bit displacement */
        q <<= 1;

        for (ones = 0; ones < 4 && (q >> 63); ones++) {
            q <<= 1;
        }

        n = 1 + ones;

        if (ones < 4) {
            q <<= 1;
            n++;
        }

        /* with four ones, a count of 0xf0 or more would be nine leading
         * ones: a control symbol, which left the loop above */
        w = width[ones];
        k = (ngx_uint_t) (q >> (64 - w));

        len = base[ones] + k;
        disp = (ngx_uint_t) ((q << w) >> 54);

        bit += n + w + 10;

        /* ring position disp holds the byte dist back (1 to 1024) */
        dist = ((hpos + (o - start) - disp - 1) & (NGX_WSMAN_SLDC_HISTORY - 1))
               + 1;

        src = out + o - dist;
        d = out + o;
        o += len;

        if (dist >= 8) {
            /* eight at a time; what passes len is overwritten later */
            do {
                ngx_memcpy(&v, src, 8);
                ngx_memcpy(d, &v, 8);
                src += 8;
                d += 8;
            } while (d < out + o);

            continue;
        }

        /* a run: each byte may be one this copy wrote */
        while (d < out + o) {
            *d++ = *src++;
        }
    }

    /*
     * The ring again, by position: only what the loop wrote (at most
     * 1 KiB), so that a stream of control symbols between single
     * literals does not copy the whole ring at each
     */
    for (len = ngx_min(o - start, NGX_WSMAN_SLDC_HISTORY); len; len -= n) {
        disp = (hpos + (o - start) - len) & (NGX_WSMAN_SLDC_HISTORY - 1);
        n = ngx_min(len, NGX_WSMAN_SLDC_HISTORY - disp);
        ngx_memcpy(s->history + disp, out + o - len, n);
    }

    hpos = (hpos + (o - start)) & (NGX_WSMAN_SLDC_HISTORY - 1);

    s->bit = bit;
    s->out_len = o;
    s->hpos = hpos;
}


/*
 * After End of Record: the rest of the byte must be 0 bits, then up to
 * three zero bytes of padding, then optionally 4 bytes, the decoded
 * length little-endian (Windows appends it).  Anything else is refused:
 * a second record or stray bytes would otherwise pass unseen.
 */
static ngx_int_t
ngx_wsman_sldc_tail(ngx_wsman_sldc_t *s)
{
    size_t        byte, rest, pad, i;
    uint32_t      n;
    const u_char  *p;

    if (s->bit & 7) {
        if (ngx_wsman_sldc_peek(s, 8 - (s->bit & 7)) != 0) {
            return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_TRAILING,
                                       "non-zero padding after End of "
                                       "Record");
        }
    }

    byte = (s->bit + 7) >> 3;
    rest = s->in_len - byte;
    p = s->in + byte;

    if (rest > 7) {
        return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_TRAILING,
                                   "data after End of Record");
    }

    pad = (rest >= 4) ? rest - 4 : rest;

    for (i = 0; i < pad; i++) {
        if (p[i] != 0) {
            return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_TRAILING,
                                       "data after End of Record");
        }
    }

    s->bit = s->in_len * 8;

    if (rest < 4) {
        return NGX_OK;
    }

    p += pad;
    n = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
        | (uint32_t) p[3] << 24;

    if (n != s->out_len) {
        return ngx_wsman_sldc_fail(s, NGX_WSMAN_SLDC_E_LENGTH,
                                   "length trailer disagrees with the "
                                   "data");
    }

    return NGX_OK;
}


ngx_int_t
ngx_wsman_sldc_decompress(ngx_pool_t *pool, const ngx_str_t *in,
    size_t max, ngx_str_t *out, ngx_uint_t *error, const char **reason)
{
    u_char            *buf;
    size_t             len;
    ngx_int_t          rc;
    ngx_wsman_sldc_t   s;

    /*
     * One pass into a buffer of a few times the input (XML compresses
     * about threefold, and a second pass would cost as much as the
     * first: docs/sldc.md has the figures).  Should it not do,
     * two passes: the first only counts, so a decompression bomb stops at
     * max with nothing more allocated, and the second writes into a
     * buffer of exactly the decoded size.  The state (1 KiB of history)
     * lives on the stack: nginx's own functions keep 2 KiB buffers there.
     */
    len = ngx_min(max, NGX_WSMAN_SLDC_GUESS * ngx_min(in->len, max) + 1024);

    buf = ngx_pnalloc(pool, len ? len : 1);

    if (buf) {
        ngx_wsman_sldc_init(&s, in->data, in->len, buf, len);

        rc = ngx_wsman_sldc_run(&s);

        if (rc != NGX_WSMAN_SLDC_TOO_LARGE || len == max || s.out_len != len)
        {
            goto done;
        }
    }

    /* more than the guess (or no memory for it): count, then decode */
    ngx_wsman_sldc_init(&s, in->data, in->len, NULL, max);

    rc = ngx_wsman_sldc_run(&s);

    if (rc == NGX_OK) {
        len = s.out_len;

        buf = ngx_pnalloc(pool, len ? len : 1);
        if (buf == NULL) {
            s.reason = "out of memory";
            rc = NGX_ERROR;
            goto failed;
        }

        ngx_wsman_sldc_init(&s, in->data, in->len, buf, len);

        rc = ngx_wsman_sldc_run(&s);

        /* the same input decodes the same way twice */
        if (rc != NGX_OK || s.out_len != len) {
            s.reason = "decoded differently twice";
            rc = NGX_ERROR;
            goto failed;
        }
    }

done:

    if (rc == NGX_OK) {
        out->data = buf;
        out->len = s.out_len;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                       "wsman sldc: %uz bytes to %uz", in->len, out->len);

        return NGX_OK;
    }

failed:

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "wsman sldc: %s at input byte %uz of %uz",
                   s.reason, s.bit >> 3, in->len);

    if (error) {
        *error = s.error;
    }

    if (reason) {
        *reason = s.reason;
    }

    return rc;
}


ngx_uint_t
ngx_wsman_sldc_looks_compressed(const ngx_str_t *body)
{
    ngx_uint_t  code;

    if (body->len < 2 || body->data[0] != 0xff) {
        return 0;
    }

    /* the second byte's top bit is the ninth 1, its next four the code */
    if ((body->data[1] & 0x80) == 0) {
        return 0;
    }

    code = (body->data[1] >> 3) & 0xf;

    return code == NGX_WSMAN_SLDC_RESET_1 || code == NGX_WSMAN_SLDC_RESET_2
           || code == NGX_WSMAN_SLDC_SCHEME_1
           || code == NGX_WSMAN_SLDC_SCHEME_2;
}
