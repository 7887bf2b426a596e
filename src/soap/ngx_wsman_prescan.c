/*
 * The envelope pre-scan (ngx_wsman_soap_parse() runs it first): the
 * caps on elements, attributes and namespace declarations, counted
 * before libxml2 spends anything on an envelope.
 */

#include "ngx_wsman_soap.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* AddressSanitizer builds (gcc defines the first, clang has the second) */
#if defined(__SANITIZE_ADDRESS__)
#define NGX_WSMAN_PRESCAN_ASAN  1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NGX_WSMAN_PRESCAN_ASAN  1
#endif
#endif

#if (NGX_WSMAN_PRESCAN_ASAN)
#include <sanitizer/asan_interface.h>
#endif


static ngx_int_t
ngx_wsman_prescan_fail(ngx_wsman_fault_t *fault, ngx_wsman_fault_e id,
    const char *message)
{
    ngx_memzero(fault, sizeof(ngx_wsman_fault_t));

    fault->id = id;
    fault->message.data = (u_char *) message;
    fault->message.len = ngx_strlen(message);

    return NGX_DECLINED;
}


/*
 * The pre-scan: reads the envelope's bytes and counts elements and
 * attributes ('=' inside a tag, quoted values skipped) without building
 * anything.  It has to see the markup exactly as libxml2 will, so it
 * accepts only encodings in which every markup character is one ASCII
 * byte: UTF-8 and single-byte ASCII supersets, and UTF-16, which is
 * converted to UTF-8 first (ngx_wsman_soap_prescan()).  Anything else
 * (UTF-7, EBCDIC, ISO-2022, UCS-4) could hide markup from it, and no
 * WinRM client sends it.  It runs on every request, so a byte in a tag
 * is tested against the five that matter with one mask, and memchr()
 * runs through text and quoted values.
 */

typedef struct {
    const u_char               *p;
    size_t                      n;
    ngx_wsman_soap_encoding_e   sent;       /* the client's: UTF-8 text
                                               converted from UTF-16 may
                                               declare UTF-16 */
    ngx_pool_t                 *pool;       /* not NULL: CDATA sections
                                               may be set aside ... */
    ngx_array_t                *spans;      /* ... into these */
} ngx_wsman_soap_scan_t;


#if (defined __GNUC__ || defined __clang__)
#define ngx_wsman_soap_inline  ngx_inline __attribute__((always_inline))
#else
#define ngx_wsman_soap_inline  ngx_inline
#endif

/* the bytes that end a run inside a tag: '"', '\'', '<', '=', '>' */
#define NGX_WSMAN_SOAP_TAG_STOP                                              \
    ((1ULL << '"') | (1ULL << '\'') | (1ULL << '<') | (1ULL << '=')          \
     | (1ULL << '>'))

#define ngx_wsman_soap_tag_stop(c)                                           \
    ((c) < 64 && ((NGX_WSMAN_SOAP_TAG_STOP >> (c)) & 1))

/* the bytes before an attribute's name: white space, a quote, '<' */
#define NGX_WSMAN_SOAP_NAME_STOP                                             \
    ((1ULL << ' ') | (1ULL << '\t') | (1ULL << '\r') | (1ULL << '\n')      \
     | (1ULL << '"') | (1ULL << '\'') | (1ULL << '<'))

#define ngx_wsman_soap_name_stop(c)                                          \
    ((c) < 64 && ((NGX_WSMAN_SOAP_NAME_STOP >> (c)) & 1))


/* the bytes at i spell str */
static ngx_wsman_soap_inline ngx_uint_t
ngx_wsman_soap_at(ngx_wsman_soap_scan_t *s, size_t i, const char *str)
{
    for ( /* void */ ; *str; str++, i++) {
        if (i >= s->n || s->p[i] != (u_char) *str) {
            return 0;
        }
    }

    return 1;
}


/* the index just past the next occurrence of str at or after i, or n */
static ngx_wsman_soap_inline size_t
ngx_wsman_soap_past(ngx_wsman_soap_scan_t *s, size_t i, const char *str)
{
    const u_char  *q;

    for ( /* void */ ; i < s->n; i++) {
        q = memchr(s->p + i, str[0], s->n - i);
        if (q == NULL) {
            break;
        }

        i = q - s->p;

        if (ngx_wsman_soap_at(s, i, str)) {
            return i + ngx_strlen(str);
        }
    }

    return s->n;
}


static const char  *ngx_wsman_soap_ascii_charsets[] = {
    "UTF-8", "UTF8", "US-ASCII", "ASCII", "ISO-8859-", "ISO-LATIN-",
    "LATIN", "WINDOWS-125", "CP125", NULL
};

static const char  *ngx_wsman_soap_utf16_charsets[] = {
    "UTF-16", "UTF16", NULL
};


/*
 * The XML declaration's encoding, if any, must be one the scan reads
 * right: libxml2 switches decoders on it, even away from a BOM's.
 */
static ngx_wsman_soap_inline ngx_int_t
ngx_wsman_soap_declared_ok(ngx_wsman_soap_scan_t *s, size_t i)
{
    size_t        end, k, len;
    u_char        value[32];
    uint32_t      c, quote;
    const char  **ok;

    if (!ngx_wsman_soap_at(s, i, "<?xml")) {
        return 1;
    }

    end = ngx_wsman_soap_past(s, i, "?>");

    for (k = i + 5; k < end; k++) {
        if (s->p[k] == 'e'
            && ngx_wsman_soap_at(s, k, "encoding"))
        {
            break;
        }
    }

    if (k >= end) {
        return 1;
    }

    for (k += 8; k < end; k++) {
        c = s->p[k];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '=') {
            break;
        }
    }

    if (k >= end) {
        return 0;
    }

    quote = s->p[k++];
    if (quote != '"' && quote != '\'') {
        return 0;
    }

    for (len = 0; k < end; k++) {
        c = s->p[k];

        if (c == quote) {
            break;
        }

        if (c > 0x7f || len == sizeof(value) - 1) {
            return 0;
        }

        value[len++] = ngx_toupper((u_char) c);
    }

    value[len] = '\0';

    ok = (s->sent == NGX_WSMAN_SOAP_UTF8) ? ngx_wsman_soap_ascii_charsets
                                           : ngx_wsman_soap_utf16_charsets;

    for ( /* void */ ; *ok; ok++) {
        if (ngx_strncmp(value, *ok, ngx_strlen(*ok)) == 0) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_wsman_soap_charset_fault(ngx_wsman_fault_t *fault)
{
    ngx_wsman_prescan_fail(fault, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                        "The envelope's character encoding is not "
                        "supported: use UTF-8 or UTF-16.");
    ngx_str_set(&fault->detail, NGX_WSMAN_FAULT_DETAIL "CharacterSet");

    return NGX_DECLINED;
}


/*
 * At the end of a start tag (tag: its '<', *next: past its '>'): a CDATA
 * section there that is the element's whole content, the element named
 * Event, is set aside (ngx_wsman_soap.h) and *next moved past it.  The
 * section's content may be any characters: the text is ours, converted
 * from UTF-16, so libxml2 would have found none to refuse in it.
 */
static ngx_int_t
ngx_wsman_soap_lift(ngx_wsman_soap_scan_t *s, size_t tag, size_t *next)
{
    u_char      c;
    size_t      i, k, name, end;
    ngx_str_t  *span;

    i = *next;

    if (s->n - i < sizeof("<![CDATA[]]></") - 1 + NGX_WSMAN_SOAP_LIFT_MIN
        || ngx_memcmp(s->p + i, "<![CDATA[", 9) != 0)
    {
        return NGX_OK;
    }

    /* the element's local name: past its prefix, if any */
    name = tag + 1;

    for (k = name; k < i; k++) {
        c = s->p[k];

        if (c == ':') {
            name = k + 1;

        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n'
                   || c == '/' || c == '>')
        {
            break;
        }
    }

    if (k - name != 5 || ngx_memcmp(s->p + name, "Event", 5) != 0) {
        return NGX_OK;
    }

    end = ngx_wsman_soap_past(s, i + 9, "]]>");

    /* unterminated (libxml2's to refuse: past() gives the end of the
     * text), or more content after it */
    if (end + 2 > s->n || s->p[end] != '<' || s->p[end + 1] != '/'
        || end - 3 - (i + 9) < NGX_WSMAN_SOAP_LIFT_MIN)
    {
        return NGX_OK;
    }

    if (s->spans == NULL) {
        s->spans = ngx_array_create(s->pool, 64, sizeof(ngx_str_t));
        if (s->spans == NULL) {
            return NGX_ERROR;
        }
    }

    span = ngx_array_push(s->spans);
    if (span == NULL) {
        return NGX_ERROR;
    }

    span->data = (u_char *) s->p + i + 9;
    span->len = end - 3 - (i + 9);

    *next = end;

    return NGX_OK;
}


/* the scan proper, on UTF-8 (or an ASCII superset) */
static ngx_wsman_soap_inline ngx_int_t
ngx_wsman_soap_prescan_units(ngx_wsman_soap_scan_t *s,
    ngx_wsman_fault_t *fault)
{
    size_t          i, k, name, tag;
    uint32_t        c, quote;
    const u_char   *q;
    ngx_uint_t      elements, attributes, total, element, ns;

    /* a document starts with '<' (EBCDIC's is 0x4c) */
    for (i = 0; i < s->n; i++) {
        c = s->p[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            break;
        }
    }

    if (i == s->n || s->p[i] != '<') {
        return ngx_wsman_prescan_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                   "The request is not XML.");
    }

    if (!ngx_wsman_soap_declared_ok(s, i)) {
        return ngx_wsman_soap_charset_fault(fault);
    }

    elements = 0;
    total = 0;
    ns = 0;

    while (i < s->n) {

        /* text: memchr() runs through base64 at memory speed */
        q = memchr(s->p + i, '<', s->n - i);
        if (q == NULL) {
            break;
        }

        i = q - s->p;

        /* at '<': what follows tells comments, CDATA, PIs and end tags */

        c = (i + 1 < s->n) ? s->p[i + 1] : 0;

        if (c == '!') {

            if (ngx_wsman_soap_at(s, i, "<!--")) {
                i = ngx_wsman_soap_past(s, i + 4, "-->");
                continue;
            }

            if (ngx_wsman_soap_at(s, i, "<![CDATA[")) {
                i = ngx_wsman_soap_past(s, i + 9, "]]>");
                continue;
            }

        } else if (c == '?') {
            i = ngx_wsman_soap_past(s, i + 2, "?>");
            continue;
        }

        /* a start tag; end tags and declarations are only skipped */
        element = (c != '/' && c != '!');
        tag = i;

        if (element && ++elements > NGX_WSMAN_SOAP_MAX_ELEMENTS) {
            return ngx_wsman_prescan_fail(fault, NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                       "The envelope has more than 32768 "
                                       "elements.");
        }

        attributes = 0;

        for (i++; i < s->n; i++) {
            c = s->p[i];

            if (!ngx_wsman_soap_tag_stop(c)) {
                continue;
            }

            if (c == '>' || c == '<') {
                break;
            }

            if (c == '"' || c == '\'') {
                quote = c;

                q = memchr(s->p + i + 1, quote, s->n - i - 1);
                i = q ? (size_t) (q - s->p) : s->n;

                continue;
            }

            /* '=' */

            if (!element) {
                continue;
            }

            if (++attributes > NGX_WSMAN_SOAP_MAX_ATTRIBUTES) {
                return ngx_wsman_prescan_fail(fault,
                                           NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                           "An element has more than 128 "
                                           "attributes.");
            }

            if (++total > NGX_WSMAN_SOAP_MAX_TOTAL_ATTRIBUTES) {
                return ngx_wsman_prescan_fail(fault,
                                           NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                           "The envelope has more than 8192 "
                                           "attributes.");
            }

            /*
             * The attribute's name, back from '=': a namespace
             * declaration?  libxml2 looks a prefix up through every
             * declaration in scope, for every element and attribute.
             */
            for (k = i; k > 0; k--) {
                c = s->p[k - 1];
                if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                    break;
                }
            }

            for (name = k; name > 0; name--) {
                c = s->p[name - 1];
                if (ngx_wsman_soap_name_stop(c)) {
                    break;
                }
            }

            if (k - name >= 5
                && ngx_wsman_soap_at(s, name, "xmlns")
                && (k - name == 5
                    || s->p[name + 5] == ':')
                && ++ns > NGX_WSMAN_SOAP_MAX_NAMESPACES)
            {
                return ngx_wsman_prescan_fail(fault,
                                           NGX_WSMAN_FAULT_ENCODING_LIMIT,
                                           "The envelope declares more than "
                                           "256 namespaces.");
            }
        }

        /* past '>'; a '<' inside a tag is libxml2's to refuse */
        if (i < s->n && s->p[i] == '>') {
            i++;

            if (s->pool && element && s->p[i - 2] != '/'
                && ngx_wsman_soap_lift(s, tag, &i) != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* the encoding the first bytes tell (XML 1.0 appendix F), and the
 * length of a byte order mark; NGX_DECLINED (a fault) for UCS-4 */
static ngx_int_t
ngx_wsman_soap_detect(const u_char *data, size_t len,
    ngx_wsman_soap_encoding_e *encoding, size_t *bom, ngx_wsman_fault_t *fault)
{
    *encoding = NGX_WSMAN_SOAP_UTF8;
    *bom = 0;

    if (len >= 4
        && ((data[0] == 0 && data[1] == 0)
            || (data[2] == 0 && data[3] == 0)))
    {
        return ngx_wsman_soap_charset_fault(fault);  /* UCS-4, any order */
    }

    if (len >= 2 && data[0] == 0xff && data[1] == 0xfe) {
        *encoding = NGX_WSMAN_SOAP_UTF16LE;
        *bom = 2;

    } else if (len >= 2 && data[0] == 0xfe && data[1] == 0xff) {
        *encoding = NGX_WSMAN_SOAP_UTF16BE;
        *bom = 2;

    } else if (len >= 3 && data[0] == 0xef && data[1] == 0xbb
               && data[2] == 0xbf)
    {
        *bom = 3;

    } else if (len >= 2 && data[0] == '<' && data[1] == 0) {
        *encoding = NGX_WSMAN_SOAP_UTF16LE;

    } else if (len >= 2 && data[0] == 0 && data[1] == '<') {
        *encoding = NGX_WSMAN_SOAP_UTF16BE;
    }

    return NGX_OK;
}


/*
 * The text libxml2 gets in place of the one scanned: each section set
 * aside leaves its marker (shorter than any section set aside)
 */
static ngx_int_t
ngx_wsman_soap_compact(ngx_pool_t *pool, ngx_str_t *text, ngx_array_t *spans,
    ngx_wsman_soap_lifted_t **lifted)
{
    u_char                   *buf, *d, *from;
    ngx_str_t                *span;
    ngx_uint_t                k;
    ngx_wsman_soap_lifted_t  *l;

    l = ngx_palloc(pool, sizeof(ngx_wsman_soap_lifted_t));
    buf = ngx_pnalloc(pool, text->len);

    if (l == NULL || buf == NULL) {
        return NGX_ERROR;
    }

    d = ngx_cpymem(l->nonce, NGX_WSMAN_SOAP_LIFT_MARK, 3);

    d = ngx_wsman_uuid(d);
    if (d == NULL) {
        return NGX_ERROR;
    }

    *d = '#';

    l->spans = *spans;

    span = spans->elts;
    from = text->data;
    d = buf;

    for (k = 0; k < spans->nelts; k++) {
        d = ngx_cpymem(d, from, span[k].data - from);
        d = ngx_cpymem(d, l->nonce, NGX_WSMAN_SOAP_LIFT_NONCE);
        d = ngx_sprintf(d, "%ui", k);
        from = span[k].data + span[k].len;
    }

    d = ngx_cpymem(d, from, text->data + text->len - from);

    text->data = buf;
    text->len = d - buf;

    *lifted = l;

    return NGX_OK;
}


ngx_int_t
ngx_wsman_soap_prescan(ngx_pool_t *pool, ngx_str_t *text,
    ngx_wsman_soap_encoding_e *encoding, ngx_uint_t *replaced,
    ngx_wsman_soap_lifted_t **lifted, ngx_wsman_fault_t *fault)
{
    size_t                 bom, size;
    u_char                *utf8;
    ngx_int_t              rc;
    ngx_wsman_soap_scan_t  s;

    *replaced = 0;

    if (lifted) {
        *lifted = NULL;
    }

    if (ngx_wsman_soap_detect(text->data, text->len, encoding, &bom, fault)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (*encoding == NGX_WSMAN_SOAP_UTF8) {
        /* a UTF-8 byte order mark is no part of the document */
        text->data += bom;
        text->len -= bom;

    } else {
        size = NGX_WSMAN_SOAP_UTF8_SIZE(text->len);

        utf8 = ngx_pnalloc(pool, size);
        if (utf8 == NULL) {
            return NGX_ERROR;
        }

        text->len = ngx_wsman_soap_utf16_to_utf8(utf8, text->data + bom,
                                    text->len - bom,
                                    *encoding == NGX_WSMAN_SOAP_UTF16BE,
                                    replaced);
        text->data = utf8;

#if (NGX_WSMAN_PRESCAN_ASAN)
        /* the room the text did not take (ASCII needs a third of it): a
         * read past the text's end there is reported, as past a value
         * of its own size (the scan below must not make any) */
        ASAN_POISON_MEMORY_REGION(utf8 + text->len, size - text->len);
#else
        (void) size;
#endif

        if (text->len > NGX_MAX_INT32_VALUE) {
            return ngx_wsman_prescan_fail(fault, NGX_WSMAN_FAULT_MALFORMED,
                                          "empty or oversized envelope");
        }
    }

    /* the scan reads UTF-8; a declaration must still name what was sent */
    s.p = text->data;
    s.n = text->len;
    s.sent = *encoding;
    s.spans = NULL;

    /* only text of our own making is set aside (ngx_wsman_soap.h) */
    s.pool = (lifted && *encoding != NGX_WSMAN_SOAP_UTF8) ? pool : NULL;

    rc = ngx_wsman_soap_prescan_units(&s, fault);

    if (rc != NGX_OK || s.spans == NULL || lifted == NULL) {
        return rc;
    }

    return ngx_wsman_soap_compact(pool, text, s.spans, lifted);
}


size_t
ngx_wsman_soap_utf16_to_utf8(u_char *dst, const u_char *src, size_t len,
    ngx_uint_t big_endian, ngx_uint_t *replaced)
{
    u_char        *d;
    uint32_t       u, next;
    ngx_uint_t     n;
    const u_char  *p, *end;
#if defined(__SSE2__)
    int            bad, k;
    __m128i        a, b, v16, low;
#elif (NGX_HAVE_LITTLE_ENDIAN)
    uint32_t       w;
    uint64_t       v;
#endif

#define ngx_wsman_u16(q)                                                    \
    (big_endian ? (uint32_t) ((q)[0] << 8 | (q)[1])                         \
                : (uint32_t) ((q)[1] << 8 | (q)[0]))

    n = 0;
    d = dst;
    end = src + (len & ~(size_t) 1);

#if defined(__SSE2__)
    low = _mm_set1_epi8(0x20);
#endif

    for (p = src; p < end; p += 2) {

#if defined(__SSE2__)

        /*
         * The bulk of an envelope from Windows (UTF-16LE) is printable
         * ASCII.  _mm_packus_epi16() saturates each unit to a byte: one
         * of 0x20-0x7f stays itself, one above 0xff (or above 0x7fff,
         * negative as a signed unit) becomes 0xff (0x00), so one signed
         * compare of the bytes with 0x20 finds every other unit.  The
         * bytes are stored whatever they are (the output has room for 3
         * bytes a unit) and kept up to the first other unit, which the
         * code below converts.
         */
        if (!big_endian) {
            bad = 0;

            while (end - p >= 32) {
                a = _mm_loadu_si128((const __m128i *) p);
                b = _mm_loadu_si128((const __m128i *) (p + 16));
                v16 = _mm_packus_epi16(a, b);
                bad = _mm_movemask_epi8(_mm_cmplt_epi8(v16, low));

                _mm_storeu_si128((__m128i *) d, v16);

                if (bad) {
                    k = __builtin_ctz(bad);
                    d += k;
                    p += 2 * k;
                    break;
                }

                d += 16;
                p += 32;
            }

            /* the last 8 to 15 units: 8 at once */
            if (bad == 0 && end - p >= 16) {
                a = _mm_loadu_si128((const __m128i *) p);
                v16 = _mm_packus_epi16(a, a);
                bad = _mm_movemask_epi8(_mm_cmplt_epi8(v16, low)) & 0xff;

                _mm_storel_epi64((__m128i *) d, v16);

                if (bad == 0) {
                    d += 8;
                    p += 14;                 /* and 2 more by the loop */
                    continue;
                }

                k = __builtin_ctz(bad);
                d += k;
                p += 2 * k;
            }

            if (p == end) {
                break;
            }
        }

#elif (NGX_HAVE_LITTLE_ENDIAN)

        /*
         * The bulk of an envelope from Windows (UTF-16LE) is printable
         * ASCII: four units at once while all four are 0x20-0x7f (no bit
         * of 0xff80 set, and none below 0x20: subtracting 0x20 from such
         * a unit borrows into its top bit, the lowest one's exactly)
         */
        if (!big_endian && end - p >= 8) {
            ngx_memcpy(&v, p, 8);

            if ((v & 0xff80ff80ff80ff80ULL) == 0
                && ((v - 0x0020002000200020ULL) & 0x8000800080008000ULL)
                   == 0)
            {
                w = (uint32_t) ((v & 0xff) | ((v >> 8) & 0xff00)
                                | ((v >> 16) & 0xff0000)
                                | ((v >> 24) & 0xff000000));
                ngx_memcpy(d, &w, 4);
                d += 4;
                p += 6;                      /* and 2 more by the loop */
                continue;
            }
        }

#endif

        u = ngx_wsman_u16(p);

        /* markup and ASCII text, one unit at a time */
        if (u >= 0x20 && u < 0x80) {
            *d++ = (u_char) u;
            continue;
        }

        if (u < 0x20) {
            if (u == 0x09 || u == 0x0a || u == 0x0d) {
                *d++ = (u_char) u;
                continue;
            }

        } else if (u < 0x800) {
            *d++ = (u_char) (0xc0 | (u >> 6));
            *d++ = (u_char) (0x80 | (u & 0x3f));
            continue;

        } else if (u >= 0xd800 && u <= 0xdbff) {
            /* a high surrogate is good only before a low one */
            if (p + 2 < end) {
                next = ngx_wsman_u16(p + 2);

                if (next >= 0xdc00 && next <= 0xdfff) {
                    u = 0x10000 + ((u - 0xd800) << 10) + (next - 0xdc00);

                    *d++ = (u_char) (0xf0 | (u >> 18));
                    *d++ = (u_char) (0x80 | ((u >> 12) & 0x3f));
                    *d++ = (u_char) (0x80 | ((u >> 6) & 0x3f));
                    *d++ = (u_char) (0x80 | (u & 0x3f));
                    p += 2;
                    continue;
                }
            }

        } else if (u < 0xdc00 || (u > 0xdfff && u < 0xfffe)) {
            *d++ = (u_char) (0xe0 | (u >> 12));
            *d++ = (u_char) (0x80 | ((u >> 6) & 0x3f));
            *d++ = (u_char) (0x80 | (u & 0x3f));
            continue;
        }

        /*
         * A lone surrogate, a control character XML forbids, U+FFFE/F:
         * U+FFFD REPLACEMENT CHARACTER
         */
        *d++ = 0xef;
        *d++ = 0xbf;
        *d++ = 0xbd;
        n++;
    }

    if (len & 1) {
        /* half a code unit at the end */
        *d++ = 0xef;
        *d++ = 0xbf;
        *d++ = 0xbd;
        n++;
    }

#undef ngx_wsman_u16

    *replaced = n;

    return d - dst;
}
