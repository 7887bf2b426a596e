/*
 * XML output writer: text and attribute values are escaped here and only
 * here, so no plug-in can emit markup from data by accident.
 */

#include <libxml/encoding.h>

#include "ngx_wsman_xml.h"
#include "ngx_wsman_util.h"


static ngx_int_t ngx_wsman_xml_grow(ngx_wsman_xml_t *x, size_t need);


/* the characters ngx_wsman_xml_text() escapes */
#define NGX_WSMAN_XML_MARKUP                                                 \
    ((1ULL << '<') | (1ULL << '>') | (1ULL << '&') | (1ULL << '"')          \
     | (1ULL << '\''))

/* a byte that is one XML character as it is: printable ASCII and DEL,
 * but markup (TAB, LF, CR and the rest take the long way) */
#define ngx_wsman_xml_plain(c)                                               \
    ((c) >= 0x20 && (c) < 0x80                                               \
     && ((c) >= 64 || !((NGX_WSMAN_XML_MARKUP >> (c)) & 1)))
static size_t ngx_wsman_xml_char_len(const u_char *p, const u_char *end);


void
ngx_wsman_xml_init(ngx_wsman_xml_t *x, ngx_pool_t *pool, size_t block)
{
    ngx_memzero(x, sizeof(ngx_wsman_xml_t));

    x->pool = pool;
    x->block = block ? block : 4096;
    x->last = &x->first;
}


static ngx_int_t
ngx_wsman_xml_grow(ngx_wsman_xml_t *x, size_t need)
{
    size_t        size;
    ngx_chain_t  *cl;

    if (x->failed) {
        return NGX_ERROR;
    }

    if (x->buf && (size_t) (x->buf->end - x->buf->last) >= need) {
        return NGX_OK;
    }

    size = ngx_max(x->block, need);

    cl = ngx_alloc_chain_link(x->pool);
    if (cl == NULL) {
        x->failed = 1;
        return NGX_ERROR;
    }

    cl->buf = ngx_create_temp_buf(x->pool, size);
    if (cl->buf == NULL) {
        x->failed = 1;
        return NGX_ERROR;
    }

    cl->next = NULL;
    *x->last = cl;
    x->last = &cl->next;
    x->buf = cl->buf;

    /* responses grow: double the block up to 64k to keep chains short */
    if (x->block < 65536) {
        x->block *= 2;
    }

    return NGX_OK;
}


/* the common case inline: a response writes ~100 pieces into one buffer */
static ngx_inline ngx_int_t
ngx_wsman_xml_room(ngx_wsman_xml_t *x, size_t need)
{
    if (!x->failed && x->buf && (size_t) (x->buf->end - x->buf->last) >= need)
    {
        return NGX_OK;
    }

    return ngx_wsman_xml_grow(x, need);
}


void
ngx_wsman_xml_raw(ngx_wsman_xml_t *x, const u_char *data, size_t len)
{
    if (len == 0 || ngx_wsman_xml_room(x, len) != NGX_OK) {
        return;
    }

    x->buf->last = ngx_cpymem(x->buf->last, data, len);
    x->length += len;
}


void
ngx_wsman_xml_str(ngx_wsman_xml_t *x, ngx_str_t *s)
{
    ngx_wsman_xml_raw(x, s->data, s->len);
}


size_t
ngx_wsman_xml_escaped_len(const u_char *data, size_t len)
{
    size_t  n, i;

    n = len;

    for (i = 0; i < len; i++) {
        switch (data[i]) {
        case '<':
        case '>':
            n += 3;
            break;
        case '&':
            n += 4;
            break;
        case '"':
        case '\'':
            n += 5;
            break;
        default:
            break;
        }
    }

    return n;
}


/*
 * Escaped for both element text and attribute values.  A byte that is not
 * part of an XML character in UTF-8 becomes '?': a client's parser refuses
 * the whole document for one of them, and values such as the Host header
 * or a message of the shell host are not checked anywhere else.
 */
void
ngx_wsman_xml_text(ngx_wsman_xml_t *x, const u_char *data, size_t len)
{
    size_t         need, i, n;
    u_char        *p;
    const u_char  *end;

    if (len == 0) {
        return;
    }

    /*
     * A byte becomes 6 at most ("&quot;"): with room for that the exact
     * length, another pass over the text, is not needed
     */
    if (x->failed || x->buf == NULL
        || (size_t) (x->buf->end - x->buf->last) / 6 < len)
    {
        need = ngx_wsman_xml_escaped_len(data, len);

        if (ngx_wsman_xml_room(x, need) != NGX_OK) {
            return;
        }
    }

    p = x->buf->last;
    end = data + len;

    for (i = 0; i < len; i++) {

        /* most text is printable ASCII: copied a run at a time */
        if (ngx_wsman_xml_plain(data[i])) {
            for (n = i + 1; n < len && ngx_wsman_xml_plain(data[n]); n++) {
                /* void */
            }

            p = ngx_cpymem(p, data + i, n - i);
            i = n - 1;
            continue;
        }

        switch (data[i]) {
        case '<':
            p = ngx_cpymem(p, "&lt;", 4);
            break;
        case '>':
            p = ngx_cpymem(p, "&gt;", 4);
            break;
        case '&':
            p = ngx_cpymem(p, "&amp;", 5);
            break;
        case '"':
            p = ngx_cpymem(p, "&quot;", 6);
            break;
        case '\'':
            p = ngx_cpymem(p, "&apos;", 6);
            break;
        default:
            n = ngx_wsman_xml_char_len(data + i, end);

            if (n == 0) {
                *p++ = '?';
                break;
            }

            p = ngx_cpymem(p, data + i, n);
            i += n - 1;
        }
    }

    /* (as many bytes as ngx_wsman_xml_escaped_len() counts: an invalid
     * byte becomes one '?') */
    x->length += p - x->buf->last;
    x->buf->last = p;
}


/*
 * The length of the UTF-8 sequence at p when it is one XML 1.0 character,
 * 0 otherwise: C0 controls but TAB, LF and CR, malformed or overlong
 * sequences, surrogates, U+FFFE and U+FFFF.
 */
static size_t
ngx_wsman_xml_char_len(const u_char *p, const u_char *end)
{
    size_t    n, i;
    uint32_t  c, min;

    c = *p;

    if (c < 0x80) {
        return (c >= 0x20 || c == '\t' || c == LF || c == CR) ? 1 : 0;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;
        min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;
        min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)
        || c == 0xfffe || c == 0xffff)
    {
        return 0;
    }

    return n;
}


void
ngx_wsman_xml_text_str(ngx_wsman_xml_t *x, ngx_str_t *s)
{
    ngx_wsman_xml_text(x, s->data, s->len);
}


void
ngx_wsman_xml_uint(ngx_wsman_xml_t *x, uint64_t n)
{
    u_char  buf[NGX_INT64_LEN], *end;

    end = ngx_wsman_decimal(buf, n);

    ngx_wsman_xml_raw(x, buf, end - buf);
}


/* <qname>escaped text</qname> */
void
ngx_wsman_xml_element(ngx_wsman_xml_t *x, const char *qname, ngx_str_t *text)
{
    size_t  len;

    len = ngx_strlen(qname);

    ngx_wsman_xml_literal(x, "<");
    ngx_wsman_xml_raw(x, (const u_char *) qname, len);

    if (text == NULL || text->len == 0) {
        ngx_wsman_xml_literal(x, "/>");
        return;
    }

    ngx_wsman_xml_literal(x, ">");
    ngx_wsman_xml_text_str(x, text);
    ngx_wsman_xml_literal(x, "</");
    ngx_wsman_xml_raw(x, (const u_char *) qname, len);
    ngx_wsman_xml_literal(x, ">");
}


/* splice an already built chain (e.g. a plug-in's body) into the output */
void
ngx_wsman_xml_chain_append(ngx_wsman_xml_t *x, ngx_chain_t *cl, off_t length)
{
    if (x->failed || cl == NULL) {
        return;
    }

    *x->last = cl;

    while (cl->next) {
        cl = cl->next;
    }

    x->last = &cl->next;
    x->buf = NULL;          /* never write into a foreign buffer */
    x->length += length;
}


ngx_chain_t *
ngx_wsman_xml_chain(ngx_wsman_xml_t *x)
{
    return x->failed ? NULL : x->first;
}


/*
 * A finished UTF-8 document re-encoded as UTF-16 with a byte order mark,
 * for clients that asked in UTF-16 (Windows answers them so).  libxml2's
 * own converter does the work.  NULL: no memory, or bytes that are not
 * UTF-8 (the writer never produces those).
 */
ngx_chain_t *
ngx_wsman_xml_utf16(ngx_pool_t *pool, ngx_chain_t *in, off_t *length,
    ngx_uint_t big_endian)
{
    int                         inlen, outlen;
    u_char                     *plain, *p;
    size_t                      len;
    ngx_buf_t                  *b;
    ngx_chain_t                *cl;
    xmlCharEncodingHandlerPtr   handler;

    len = (size_t) *length;

    if (len == 0 || len > NGX_MAX_INT32_VALUE / 2 - 2) {
        return NULL;
    }

    handler = xmlGetCharEncodingHandler(big_endian
                                        ? XML_CHAR_ENCODING_UTF16BE
                                        : XML_CHAR_ENCODING_UTF16LE);
    if (handler == NULL || handler->output == NULL) {
        return NULL;
    }

    if (in->next == NULL && !in->buf->in_file) {
        plain = in->buf->pos;

    } else {
        plain = ngx_pnalloc(pool, len);
        if (plain == NULL) {
            return NULL;
        }

        p = plain;

        for (cl = in; cl; cl = cl->next) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }

        if ((size_t) (p - plain) != len) {
            return NULL;
        }
    }

    /* every UTF-8 sequence becomes as many bytes or twice as many */
    b = ngx_create_temp_buf(pool, 2 + 2 * len);
    if (b == NULL) {
        return NULL;
    }

    *b->last++ = big_endian ? 0xfe : 0xff;
    *b->last++ = big_endian ? 0xff : 0xfe;

    inlen = (int) len;
    outlen = (int) (2 * len);

    if (handler->output(b->last, &outlen, plain, &inlen) < 0
        || (size_t) inlen != len)
    {
        return NULL;
    }

    b->last += outlen;

    cl = ngx_alloc_chain_link(pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;

    *length = b->last - b->pos;

    return cl;
}
