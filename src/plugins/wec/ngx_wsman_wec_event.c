/*
 * One forwarded event, made ready for the outputs: its System fields
 * read with libxml2 as a stream (the SOAP layer's ngx_wsman_doc_scan():
 * no tree for a few fields) and one JSON object written.  Runs in a
 * pool thread, on the batch's own pool.
 *
 * An event that is not well-formed XML (Windows truncates RenderedText
 * now and then) is kept as it came and flagged "malformed": it never
 * fails its batch.
 */

#include "ngx_wsman_wec.h"
#include "ngx_wsman_wec_event.h"
#include "ngx_wsman_body.h"
#include "ngx_wsman_util.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif


#define NGX_WSMAN_WEC_JSON_RESERVE  512

/* the fields' copies come from chunks of this size (or one that fits) */
#define NGX_WSMAN_WEC_READER_CHUNK  512


typedef struct {
    ngx_pool_t                *pool;
    ngx_wsman_wec_event_t     *ev;
    ngx_array_t               *data;         /* name, value pairs */
    ngx_uint_t                 depth;
    ngx_uint_t                 event;        /* the root is Event */
    ngx_uint_t                 section;      /* 1: System, 2: EventData */
    ngx_uint_t                 field;        /* whose text is read */
    ngx_str_t                  data_name;
    ngx_str_t                  text;
    size_t                     size;
    u_char                    *free;         /* the chunk for copies */
    u_char                    *last;
    ngx_uint_t                 error;
} ngx_wsman_wec_reader_t;


static void ngx_wsman_wec_event_start(void *data, ngx_str_t *name,
    ngx_str_t *attrs, ngx_uint_t nattrs);
static void ngx_wsman_wec_event_chars(void *data, u_char *text, size_t len);
static void ngx_wsman_wec_event_end(void *data);


/* ,"name":"value" (name a literal: its length known when compiled) */
#define ngx_wsman_wec_json_member(p, name, value)                           \
    ngx_wsman_wec_json_string(ngx_cpymem(p, ",\"" name "\":",               \
                                         sizeof(",\"" name "\":") - 1),     \
                              value)


/* the bytes a JSON string of s takes at most, quotes included */
static size_t
ngx_wsman_wec_json_len(ngx_str_t *s)
{
    return 2 + s->len * 6;
}


#if !defined(__SSE2__)

/*
 * Whether any of eight bytes needs escaping in a JSON string: one below
 * 0x20, a '"' or a '\\' (the word tricks find a zero byte, or one below n
 * among bytes below 0x80, exactly when there is one)
 */
#define NGX_WSMAN_WEC_ONES  0x0101010101010101ULL
#define NGX_WSMAN_WEC_HIGH  0x8080808080808080ULL

#define ngx_wsman_wec_json_zero(v)                                          \
    (((v) - NGX_WSMAN_WEC_ONES) & ~(v) & NGX_WSMAN_WEC_HIGH)

#define ngx_wsman_wec_json_special(v)                                       \
    (((((v) - NGX_WSMAN_WEC_ONES * 0x20) & ~(v) & NGX_WSMAN_WEC_HIGH)       \
      | ngx_wsman_wec_json_zero((v) ^ (NGX_WSMAN_WEC_ONES * '"'))           \
      | ngx_wsman_wec_json_zero((v) ^ (NGX_WSMAN_WEC_ONES * '\\')))         \
     != 0)

#endif


/* the bytes a JSON string escapes: below 0x20, '"', '\\' */
static const u_char  ngx_wsman_wec_json_escaped[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,       /* '\\' */
};


#if defined(__SSE2__)

/* a bit for each of 16 bytes that needs escaping (below 0x20 is below
 * 0xa0 as a signed byte flipped, '"', '\\') */
#define ngx_wsman_wec_json_bad(b)                                           \
    _mm_movemask_epi8(                                                      \
        _mm_or_si128(_mm_cmplt_epi8(_mm_xor_si128(b, flip), below),         \
                     _mm_or_si128(_mm_cmpeq_epi8(b, quote),                 \
                                  _mm_cmpeq_epi8(b, bslash))))

#endif


u_char *
ngx_wsman_wec_json_string(u_char *p, ngx_str_t *s)
{
    u_char    c, *q, *end;
#if defined(__SSE2__)
    int       bad;
    size_t    n;
    uint32_t  head, tail;
    __m128i   b, flip, below, quote, bslash;
#else
    uint64_t  v;
#endif

    static const u_char  hex[] = "0123456789abcdef";

    *p++ = '"';

    q = s->data;
    end = q + s->len;

#if defined(__SSE2__)
    flip = _mm_set1_epi8((char) 0x80);
    below = _mm_set1_epi8((char) (0x20 ^ 0x80));
    quote = _mm_set1_epi8('"');
    bslash = _mm_set1_epi8('\\');
#endif

    for ( ;; ) {

#if defined(__SSE2__)

        /*
         * Sixteen bytes at once: stored whatever they are (the output
         * has room for six bytes a byte) and kept up to the first that
         * needs escaping, if any
         */
        while (end - q >= 16) {
            b = _mm_loadu_si128((const __m128i *) q);
            bad = ngx_wsman_wec_json_bad(b);

            _mm_storeu_si128((__m128i *) p, b);

            if (bad) {
                bad = __builtin_ctz(bad);
                p += bad;
                q += bad;
                goto escape;
            }

            p += 16;
            q += 16;
        }

        /*
         * Fewer than 16 left (most Data names and values are all of a
         * string): 4 to 15 checked at once as two halves that overlap,
         * and copied so when none needs escaping
         */
        n = end - q;

        if (n >= 4) {
            if (n >= 8) {
                b = _mm_unpacklo_epi64(
                        _mm_loadl_epi64((const __m128i *) q),
                        _mm_loadl_epi64((const __m128i *) (end - 8)));
                bad = ngx_wsman_wec_json_bad(b);

            } else {
                ngx_memcpy(&head, q, 4);
                ngx_memcpy(&tail, end - 4, 4);
                b = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int) head),
                                       _mm_cvtsi32_si128((int) tail));
                bad = ngx_wsman_wec_json_bad(b) & 0xff;
            }

            if (bad == 0) {
                if (n >= 8) {
                    ngx_memcpy(p, q, 8);
                    ngx_memcpy(p + n - 8, end - 8, 8);

                } else {
                    ngx_memcpy(p, &head, 4);
                    ngx_memcpy(p + n - 4, &tail, 4);
                }

                p += n;
                break;
            }
        }

#else

        /* eight bytes at once while none needs escaping */
        while (end - q >= 8) {
            ngx_memcpy(&v, q, 8);

            if (ngx_wsman_wec_json_special(v)) {
                break;
            }

            ngx_memcpy(p, &v, 8);
            p += 8;
            q += 8;
        }

#endif

        /* the rest (fewer than 16 or 8 bytes) up to one to escape */
        while (q < end && !ngx_wsman_wec_json_escaped[*q]) {
            *p++ = *q++;
        }

        if (q == end) {
            break;
        }

#if defined(__SSE2__)
    escape:
#endif

        c = *q++;
        *p++ = '\\';

        switch (c) {
        case '"':  *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        default:
            *p++ = 'u'; *p++ = '0'; *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
        }
    }

    *p++ = '"';

    return p;
}


/*
 * The "received" member: the same second for a whole batch, and mostly
 * for the next batches of a thread too, so formatted once a second
 */
static void
ngx_wsman_wec_json_received(time_t received, ngx_str_t *when)
{
    ngx_tm_t  tm;

    static __thread time_t  last = (time_t) -1;
    static __thread u_char  text[sizeof("1970-01-01T00:00:00Z")];
    static __thread size_t  len;

    if (received != last) {
        ngx_gmtime(received, &tm);
        len = ngx_sprintf(text, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                          tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                          tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec)
              - text;
        last = received;
    }

    when->data = text;
    when->len = len;
}


ngx_int_t
ngx_wsman_wec_event_prepare(ngx_wsman_wec_batch_t *b,
    ngx_wsman_wec_event_t *ev)
{
    size_t                   len;
    u_char                  *p;
    ngx_int_t                rc;
    ngx_str_t                when, *pair;
    ngx_uint_t               i;
    ngx_array_t              data;
    ngx_wsman_doc_scan_t     scan;
    ngx_wsman_wec_reader_t   r;

    if (ngx_array_init(&data, b->pool, 8, 2 * sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    /* read as a stream: no tree is built for a few fields */
    ngx_memzero(&r, sizeof(ngx_wsman_wec_reader_t));
    r.pool = b->pool;
    r.ev = ev;
    r.data = &data;

    scan.start = ngx_wsman_wec_event_start;
    scan.text = ngx_wsman_wec_event_chars;
    scan.end = ngx_wsman_wec_event_end;
    scan.data = &r;

    rc = ngx_wsman_doc_scan(ev->xml.data, ev->xml.len, &scan);

    if (rc == NGX_ERROR || r.error) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* what was read before it broke is not trusted either */
        ev->malformed = 1;
        ngx_str_null(&ev->computer);
        ngx_str_null(&ev->channel);
        ngx_str_null(&ev->provider);
        ngx_str_null(&ev->time_created);
        ev->event_id = 0;
        ev->record_id = 0;
        ev->level = 0;
        data.nelts = 0;
    }

    ngx_wsman_wec_json_received(b->received, &when);

    len = NGX_WSMAN_WEC_JSON_RESERVE
          + ngx_wsman_wec_json_len(&b->subscription)
          + ngx_wsman_wec_json_len(&b->source)
          + ngx_wsman_wec_json_len(&b->machine)
          + ngx_wsman_wec_json_len(&b->client_addr)
          + ngx_wsman_wec_json_len(&ev->computer)
          + ngx_wsman_wec_json_len(&ev->channel)
          + ngx_wsman_wec_json_len(&ev->provider)
          + ngx_wsman_wec_json_len(&ev->time_created)
          + ngx_wsman_wec_json_len(&ev->xml);

    pair = data.elts;

    for (i = 0; i < data.nelts; i++) {
        len += 2 + ngx_wsman_wec_json_len(&pair[2 * i])
               + ngx_wsman_wec_json_len(&pair[2 * i + 1]);
    }

    p = ngx_pnalloc(b->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ev->json.data = p;

    p = ngx_cpymem(p, "{\"received\":", sizeof("{\"received\":") - 1);
    p = ngx_wsman_wec_json_string(p, &when);
    p = ngx_wsman_wec_json_member(p, "subscription", &b->subscription);
    p = ngx_wsman_wec_json_member(p, "source", &b->source);
    p = ngx_wsman_wec_json_member(p, "machine", &b->machine);
    p = ngx_wsman_wec_json_member(p, "client", &b->client_addr);
    p = ngx_wsman_wec_json_member(p, "computer", &ev->computer);
    p = ngx_wsman_wec_json_member(p, "channel", &ev->channel);
    p = ngx_wsman_wec_json_member(p, "provider", &ev->provider);
    p = ngx_cpymem(p, ",\"event_id\":", sizeof(",\"event_id\":") - 1);
    p = ngx_wsman_decimal(p, ev->event_id);
    p = ngx_cpymem(p, ",\"record_id\":", sizeof(",\"record_id\":") - 1);
    p = ngx_wsman_decimal(p, ev->record_id);
    p = ngx_cpymem(p, ",\"level\":", sizeof(",\"level\":") - 1);
    p = ngx_wsman_decimal(p, ev->level);
    p = ngx_wsman_wec_json_member(p, "time_created", &ev->time_created);

    if (data.nelts) {
        p = ngx_cpymem(p, ",\"data\":{", sizeof(",\"data\":{") - 1);

        for (i = 0; i < data.nelts; i++) {
            if (i) {
                *p++ = ',';
            }

            p = ngx_wsman_wec_json_string(p, &pair[2 * i]);
            *p++ = ':';
            p = ngx_wsman_wec_json_string(p, &pair[2 * i + 1]);
        }

        *p++ = '}';
    }

    if (ev->malformed) {
        p = ngx_cpymem(p, ",\"malformed\":true",
                       sizeof(",\"malformed\":true") - 1);
    }

    p = ngx_wsman_wec_json_member(p, "xml", &ev->xml);
    *p++ = '}';

    ev->json.len = p - ev->json.data;

    return NGX_OK;
}


/*
 * The reader: Event/System's fields and EventData's named Data, by
 * local name and depth (Event 1, System and EventData 2, their children
 * 3), whatever the namespace.
 */

enum {
    NGX_WSMAN_WEC_F_NONE = 0,
    NGX_WSMAN_WEC_F_COMPUTER,
    NGX_WSMAN_WEC_F_CHANNEL,
    NGX_WSMAN_WEC_F_EVENT_ID,
    NGX_WSMAN_WEC_F_LEVEL,
    NGX_WSMAN_WEC_F_RECORD_ID,
    NGX_WSMAN_WEC_F_DATA
};


/* a compare of a length known when compiled: inlined, no call */
#define ngx_wsman_wec_is(name, s)                                           \
    ((name)->len == sizeof(s) - 1                                           \
     && ngx_memcmp((name)->data, s, sizeof(s) - 1) == 0)


/*
 * A field's copy, NUL-terminated, from the reader's chunk: a few dozen
 * short copies an event, one ngx_pnalloc() for several
 */
static ngx_int_t
ngx_wsman_wec_reader_copy(ngx_wsman_wec_reader_t *r, ngx_str_t *dst,
    ngx_str_t *src)
{
    u_char  *p;

    if ((size_t) (r->last - r->free) > src->len) {
        p = r->free;
        r->free += src->len + 1;

    } else if (src->len >= NGX_WSMAN_WEC_READER_CHUNK) {
        /* a long one alone: the chunk stays for the short ones */
        p = ngx_pnalloc(r->pool, src->len + 1);

    } else {
        p = ngx_pnalloc(r->pool, NGX_WSMAN_WEC_READER_CHUNK);

        r->free = p ? p + src->len + 1 : NULL;
        r->last = p ? p + NGX_WSMAN_WEC_READER_CHUNK : NULL;
    }

    if (p == NULL) {
        r->error = 1;
        return NGX_ERROR;
    }

    dst->data = p;

    ngx_memcpy(dst->data, src->data, src->len);
    dst->data[src->len] = '\0';
    dst->len = src->len;

    return NGX_OK;
}


static void
ngx_wsman_wec_event_start(void *data, ngx_str_t *name, ngx_str_t *attrs,
    ngx_uint_t nattrs)
{
    ngx_wsman_wec_reader_t  *r = data;

    ngx_uint_t  i;

    r->depth++;
    r->field = NGX_WSMAN_WEC_F_NONE;
    r->text.len = 0;

    if (r->depth == 1) {
        r->event = ngx_wsman_wec_is(name, "Event");
        return;
    }

    if (!r->event) {
        return;
    }

    if (r->depth == 2) {
        r->section = ngx_wsman_wec_is(name, "System") ? 1
                     : ngx_wsman_wec_is(name, "EventData") ? 2 : 0;
        return;
    }

    if (r->depth != 3 || r->section == 0) {
        return;
    }

    if (r->section == 2) {
        if (!ngx_wsman_wec_is(name, "Data")) {
            return;
        }

        for (i = 0; i < nattrs; i++) {
            if (ngx_wsman_wec_is(&attrs[2 * i], "Name")) {
                r->field = NGX_WSMAN_WEC_F_DATA;
                (void) ngx_wsman_wec_reader_copy(r, &r->data_name,
                                                 &attrs[2 * i + 1]);
            }
        }

        return;
    }

    if (ngx_wsman_wec_is(name, "Computer")) {
        r->field = NGX_WSMAN_WEC_F_COMPUTER;

    } else if (ngx_wsman_wec_is(name, "Channel")) {
        r->field = NGX_WSMAN_WEC_F_CHANNEL;

    } else if (ngx_wsman_wec_is(name, "EventID")) {
        r->field = NGX_WSMAN_WEC_F_EVENT_ID;

    } else if (ngx_wsman_wec_is(name, "Level")) {
        r->field = NGX_WSMAN_WEC_F_LEVEL;

    } else if (ngx_wsman_wec_is(name, "EventRecordID")) {
        r->field = NGX_WSMAN_WEC_F_RECORD_ID;

    } else if (ngx_wsman_wec_is(name, "Provider")
               || ngx_wsman_wec_is(name, "TimeCreated"))
    {
        for (i = 0; i < nattrs; i++) {
            if (name->data[0] == 'P'
                && ngx_wsman_wec_is(&attrs[2 * i], "Name"))
            {
                (void) ngx_wsman_wec_reader_copy(r, &r->ev->provider,
                                                 &attrs[2 * i + 1]);

            } else if (name->data[0] == 'T'
                       && ngx_wsman_wec_is(&attrs[2 * i], "SystemTime"))
            {
                (void) ngx_wsman_wec_reader_copy(r, &r->ev->time_created,
                                                 &attrs[2 * i + 1]);
            }
        }
    }
}


static void
ngx_wsman_wec_event_chars(void *data, u_char *text, size_t len)
{
    ngx_wsman_wec_reader_t  *r = data;

    u_char  *p;
    size_t   size;

    if (r->field == NGX_WSMAN_WEC_F_NONE || r->error) {
        return;
    }

    /* text may come in pieces (around entity references) */
    if (r->text.len + len > r->size) {
        size = ngx_max(2 * r->size, r->text.len + len);
        size = ngx_max(size, 256);

        p = ngx_pnalloc(r->pool, size);
        if (p == NULL) {
            r->error = 1;
            return;
        }

        if (r->text.len) {
            ngx_memcpy(p, r->text.data, r->text.len);
        }

        r->text.data = p;
        r->size = size;
    }

    ngx_memcpy(r->text.data + r->text.len, text, len);
    r->text.len += len;
}


static void
ngx_wsman_wec_event_end(void *data)
{
    ngx_wsman_wec_reader_t  *r = data;

    u_char     *p, *last;
    ngx_int_t   n;
    ngx_str_t   text, *pair;

    r->depth--;

    if (r->field == NGX_WSMAN_WEC_F_NONE || r->error) {
        r->field = NGX_WSMAN_WEC_F_NONE;
        return;
    }

    /* trimmed, as the tree reader gave it */
    p = r->text.data;
    last = p + r->text.len;

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r'
                        || *p == '\n'))
    {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t'
                        || last[-1] == '\r' || last[-1] == '\n'))
    {
        last--;
    }

    text.data = p;
    text.len = last - p;

    switch (r->field) {

    case NGX_WSMAN_WEC_F_COMPUTER:
        (void) ngx_wsman_wec_reader_copy(r, &r->ev->computer, &text);
        break;

    case NGX_WSMAN_WEC_F_CHANNEL:
        (void) ngx_wsman_wec_reader_copy(r, &r->ev->channel, &text);
        break;

    case NGX_WSMAN_WEC_F_EVENT_ID:
        n = ngx_atoi(text.data, text.len);
        r->ev->event_id = n == NGX_ERROR ? 0 : (ngx_uint_t) n;
        break;

    case NGX_WSMAN_WEC_F_LEVEL:
        n = ngx_atoi(text.data, text.len);
        r->ev->level = n == NGX_ERROR ? 0 : (ngx_uint_t) n;
        break;

    case NGX_WSMAN_WEC_F_RECORD_ID:
        n = ngx_atoof(text.data, text.len);
        r->ev->record_id = n == NGX_ERROR ? 0 : (uint64_t) n;
        break;

    case NGX_WSMAN_WEC_F_DATA:
        pair = ngx_array_push(r->data);
        if (pair == NULL) {
            r->error = 1;
            break;
        }

        pair[0] = r->data_name;
        (void) ngx_wsman_wec_reader_copy(r, &pair[1], &text);
        break;
    }

    r->field = NGX_WSMAN_WEC_F_NONE;
    r->text.len = 0;
}
