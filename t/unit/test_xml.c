/*
 * The XML output writer (src/soap/ngx_wsman_xml.c).
 */

#include <stdlib.h>

#include "unit.h"
#include "ngx_wsman_xml.h"
#include "ngx_wsman_body.h"


/* the chain is consistent and holds exactly "expected" */
static void
unit_xml_expect(ngx_wsman_xml_t *x, const u_char *expected, size_t len,
    const char *file, int line)
{
    u_char       *text;
    size_t        n, total;
    ngx_chain_t  *cl;

    unit_check(!x->failed, file, line, "writer has not failed");

    total = 0;

    for (cl = ngx_wsman_xml_chain(x); cl; cl = cl->next) {
        unit_check(cl->buf->pos <= cl->buf->last
                   && cl->buf->last <= cl->buf->end,
                   file, line, "pos <= last <= end");
        total += cl->buf->last - cl->buf->pos;
    }

    unit_check_uint(total, x->length, file, line, "chain bytes == length");

    text = unit_chain_flatten(ngx_wsman_xml_chain(x), &n);

    if (!unit_check(n == len && ngx_memcmp(text, expected, len) == 0,
                    file, line, "chain holds the expected bytes"))
    {
        printf("    got:      \"%s\"\n    expected: \"%.*s\"\n",
               text, (int) len, expected);
    }

    free(text);
}


#define UNIT_XML_EXPECT(x, s)                                               \
    unit_xml_expect(x, (const u_char *) s, sizeof(s) - 1, __FILE__, __LINE__)


static ngx_uint_t
unit_chain_links(ngx_wsman_xml_t *x)
{
    ngx_uint_t    n;
    ngx_chain_t  *cl;

    n = 0;

    for (cl = x->first; cl; cl = cl->next) {
        n++;
    }

    return n;
}


static void
unit_test_xml_escape(ngx_pool_t *pool)
{
    ngx_str_t        s;
    ngx_wsman_xml_t  x;

    static const u_char  all[] = "a<b>c&d\"e'f";

    /* a C0 control, NUL, DEL (allowed), "<"; characters of 2, 3 and 4
     * bytes; then a cut sequence, an overlong one, a surrogate, U+FFFE,
     * beyond U+10FFFF, a byte that never starts one, a cut one at the end */
    static const u_char  bad[] = "a\x01" "b\0c\x7f<"
                                 "\xc3\xa9" "\xe2\x82\xac" "\xf0\x9d\x84\x9e"
                                 "|\xc3|\xc0\xaf|\xed\xa0\x80|\xef\xbf\xbe"
                                 "|\xf4\x90\x80\x80|\xff|\xe2\x82";

    UNIT_EQ_UINT(ngx_wsman_xml_escaped_len(all, sizeof(all) - 1),
                 sizeof("a&lt;b&gt;c&amp;d&quot;e&apos;f") - 1);
    UNIT_EQ_UINT(ngx_wsman_xml_escaped_len((u_char *) "plain", 5), 5);
    UNIT_EQ_UINT(ngx_wsman_xml_escaped_len((u_char *) "", 0), 0);

    ngx_wsman_xml_init(&x, pool, 0);
    ngx_wsman_xml_text(&x, all, sizeof(all) - 1);
    UNIT_XML_EXPECT(&x, "a&lt;b&gt;c&amp;d&quot;e&apos;f");

    /* only escaping, no double escaping, UTF-8 and white space kept */
    ngx_wsman_xml_init(&x, pool, 0);
    ngx_str_set(&s, "&amp; \xc3\xa9\t\r\n]]>");
    ngx_wsman_xml_text_str(&x, &s);
    UNIT_XML_EXPECT(&x, "&amp;amp; \xc3\xa9\t\r\n]]&gt;");

    /*
     * Regression (fuzz_shell_frame): bytes that are no XML character in
     * UTF-8 became part of the document, which clients then refused
     * whole; each is now one '?'.  Valid characters of 2, 3 and 4 bytes
     * are kept.
     */
    ngx_wsman_xml_init(&x, pool, 0);
    ngx_wsman_xml_text(&x, bad, sizeof(bad) - 1);
    UNIT_XML_EXPECT(&x, "a?b?c\x7f&lt;"
                        "\xc3\xa9" "\xe2\x82\xac" "\xf0\x9d\x84\x9e"
                        "|?|??|???|???|????|?|??");

    /* every byte alone between plain runs, as the byte-at-a-time rules
     * have it: markup escaped, TAB, LF, CR and printable ASCII kept,
     * other controls and lone bytes >= 0x80 a '?' */
    {
        u_char      in[16], out[16], *o;
        ngx_uint_t  c;

        for (c = 0; c < 256; c++) {
            ngx_memcpy(in, "abc", 3);
            in[3] = (u_char) c;
            ngx_memcpy(in + 4, "xyz", 3);

            o = ngx_cpymem(out, "abc", 3);

            switch (c) {
            case '<': o = ngx_cpymem(o, "&lt;", 4); break;
            case '>': o = ngx_cpymem(o, "&gt;", 4); break;
            case '&': o = ngx_cpymem(o, "&amp;", 5); break;
            case '"': o = ngx_cpymem(o, "&quot;", 6); break;
            case '\'': o = ngx_cpymem(o, "&apos;", 6); break;
            default:
                *o++ = (c == '\t' || c == '\n' || c == '\r'
                        || (c >= 0x20 && c < 0x80)) ? (u_char) c : '?';
            }

            o = ngx_cpymem(o, "xyz", 3);

            ngx_wsman_xml_init(&x, pool, 0);
            ngx_wsman_xml_text(&x, in, 7);
            unit_xml_expect(&x, out, o - out, __FILE__, __LINE__);
        }
    }

    /* raw is raw */
    ngx_wsman_xml_init(&x, pool, 0);
    ngx_wsman_xml_literal(&x, "<a x=\"'\">&amp;</a>");
    ngx_str_set(&s, "<b/>");
    ngx_wsman_xml_str(&x, &s);
    UNIT_XML_EXPECT(&x, "<a x=\"'\">&amp;</a><b/>");

    /* a string of nothing but specials: 6x growth in one write */
    ngx_wsman_xml_init(&x, pool, 4);
    ngx_wsman_xml_text(&x, (u_char *) "''''", 4);
    UNIT_XML_EXPECT(&x, "&apos;&apos;&apos;&apos;");

    /* elements */
    ngx_wsman_xml_init(&x, pool, 0);
    ngx_wsman_xml_element(&x, "w:Empty", NULL);
    ngx_str_null(&s);
    ngx_wsman_xml_element(&x, "w:Empty2", &s);
    ngx_str_set(&s, "1<2");
    ngx_wsman_xml_element(&x, "w:Text", &s);
    UNIT_XML_EXPECT(&x, "<w:Empty/><w:Empty2/><w:Text>1&lt;2</w:Text>");

    /* numbers */
    ngx_wsman_xml_init(&x, pool, 0);
    ngx_wsman_xml_uint(&x, 0);
    ngx_wsman_xml_literal(&x, " ");
    ngx_wsman_xml_uint(&x, 153600);
    ngx_wsman_xml_literal(&x, " ");
    ngx_wsman_xml_uint(&x, 18446744073709551615ULL);
    UNIT_XML_EXPECT(&x, "0 153600 18446744073709551615");

    /* empty writes write nothing and allocate nothing */
    ngx_wsman_xml_init(&x, pool, 0);
    ngx_wsman_xml_raw(&x, (u_char *) "", 0);
    ngx_wsman_xml_text(&x, (u_char *) "", 0);
    UNIT_CHECK(ngx_wsman_xml_chain(&x) == NULL);
    UNIT_CHECK(!ngx_wsman_xml_failed(&x));
    UNIT_EQ_UINT(x.length, 0);
}


static void
unit_test_xml_boundaries(ngx_pool_t *pool)
{
    u_char           *expected, *p;
    size_t            block;
    ngx_uint_t        i, round;
    ngx_wsman_xml_t   x;

    static const char  piece[] = "<w:Item>it's <b> & \"more\"</w:Item>";
    static const char  piece_escaped[] =
        "&lt;w:Item&gt;it&apos;s &lt;b&gt; &amp; &quot;more&quot;"
        "&lt;/w:Item&gt;";

    expected = malloc(100000);
    if (expected == NULL) {
        abort();
    }

    /* the same mix of writes at many block sizes */
    for (block = 1; block <= 80; block += (block < 20) ? 1 : 13) {

        ngx_wsman_xml_init(&x, pool, block);
        p = expected;

        for (round = 0; round < 40; round++) {
            ngx_wsman_xml_literal(&x, "<s:Body>");
            p = ngx_cpymem(p, "<s:Body>", 8);

            ngx_wsman_xml_text(&x, (u_char *) piece, sizeof(piece) - 1);
            p = ngx_cpymem(p, piece_escaped, sizeof(piece_escaped) - 1);

            for (i = 0; i < round; i++) {
                ngx_wsman_xml_raw(&x, (u_char *) "0123456789", 1 + i % 10);
                p = ngx_cpymem(p, "0123456789", 1 + i % 10);
            }

            ngx_wsman_xml_uint(&x, round * 1000003);
            p = ngx_sprintf(p, "%uL", (uint64_t) round * 1000003);
        }

        if (!UNIT_CHECK(unit_chain_links(&x) > 1)) {
            printf("    block %u\n", (unsigned) block);
        }

        unit_xml_expect(&x, expected, p - expected, __FILE__, __LINE__);
    }

    /* one write far larger than the block gets a buffer of its own */
    ngx_wsman_xml_init(&x, pool, 16);
    ngx_memset(expected, 'x', 50000);
    ngx_wsman_xml_raw(&x, expected, 50000);
    ngx_wsman_xml_literal(&x, "<");
    UNIT_EQ_UINT(x.length, 50001);
    UNIT_CHECK(x.first != NULL
               && x.first->buf->last - x.first->buf->pos == 50000);

    /* the block doubles per buffer but stops growing at 64k */
    ngx_wsman_xml_init(&x, pool, 1024);

    for (i = 0; i < 20; i++) {
        ngx_wsman_xml_raw(&x, expected, 40000);
    }

    UNIT_EQ_UINT(x.block, 65536);
    UNIT_EQ_UINT(x.length, 800000);

    free(expected);
}


static void
unit_test_xml_chain_append(ngx_pool_t *pool)
{
    u_char           *foreign_last;
    ngx_buf_t        *foreign;
    ngx_chain_t      *cl;
    ngx_wsman_xml_t   x, body;

    ngx_wsman_xml_init(&body, pool, 1024);
    ngx_wsman_xml_literal(&body, "<p:Body>payload</p:Body>");

    cl = ngx_wsman_xml_chain(&body);
    if (!UNIT_CHECK(cl != NULL)) {
        return;
    }

    foreign = cl->buf;
    foreign_last = foreign->last;

    ngx_wsman_xml_init(&x, pool, 1024);
    ngx_wsman_xml_literal(&x, "<s:Body>");
    ngx_wsman_xml_chain_append(&x, cl, body.length);
    ngx_wsman_xml_literal(&x, "</s:Body>");

    UNIT_XML_EXPECT(&x, "<s:Body><p:Body>payload</p:Body></s:Body>");

    /* the foreign buffer had room, but is never written into */
    UNIT_CHECK(foreign->last == foreign_last);
    UNIT_EQ_UINT(unit_chain_links(&x), 3);

    /* appending nothing changes nothing */
    ngx_wsman_xml_chain_append(&x, NULL, 0);
    UNIT_XML_EXPECT(&x, "<s:Body><p:Body>payload</p:Body></s:Body>");

    /* into an empty writer */
    ngx_wsman_xml_init(&body, pool, 0);
    ngx_wsman_xml_literal(&body, "abc");

    ngx_wsman_xml_init(&x, pool, 0);
    ngx_wsman_xml_chain_append(&x, ngx_wsman_xml_chain(&body), body.length);
    ngx_wsman_xml_literal(&x, "def");
    UNIT_XML_EXPECT(&x, "abcdef");
}


static void
unit_test_xml_failure(ngx_pool_t *pool)
{
    ngx_wsman_xml_t  x;

    /* the chain link is allocated, its buffer is not */
    ngx_wsman_xml_init(&x, pool, 0);
    unit_alloc_fail_after(1);
    ngx_wsman_xml_literal(&x, "abc");
    unit_alloc_fail_after(-1);

    UNIT_CHECK(ngx_wsman_xml_failed(&x));
    UNIT_CHECK(ngx_wsman_xml_chain(&x) == NULL);

    /* sticky: later writes are dropped even though memory is back */
    ngx_wsman_xml_literal(&x, "def");
    ngx_wsman_xml_text(&x, (u_char *) "<", 1);
    ngx_wsman_xml_uint(&x, 42);
    ngx_wsman_xml_element(&x, "w:X", NULL);

    UNIT_CHECK(ngx_wsman_xml_failed(&x));
    UNIT_CHECK(ngx_wsman_xml_chain(&x) == NULL);
    UNIT_EQ_UINT(x.length, 0);

    /* a failure after some output */
    ngx_wsman_xml_init(&x, pool, 4);
    ngx_wsman_xml_literal(&x, "abcd");
    unit_alloc_fail_after(0);
    ngx_wsman_xml_literal(&x, "efgh");
    unit_alloc_fail_after(-1);

    UNIT_CHECK(ngx_wsman_xml_failed(&x));
    UNIT_CHECK(ngx_wsman_xml_chain(&x) == NULL);
    UNIT_EQ_UINT(x.length, 4);
}


/* UTF-8 out of the writer, UTF-16 with a BOM to the client */
static void
unit_test_xml_utf16(ngx_pool_t *pool)
{
    off_t             len;
    ngx_chain_t      *out;
    ngx_wsman_xml_t   x;

    /* e, e-acute (2 bytes), euro (3 bytes), G clef (4 bytes: a pair) */
    static const u_char  le[] = {
        0xff, 0xfe, '<', 0, 'e', 0, '>', 0, 0xe9, 0, 0xac, 0x20,
        0x34, 0xd8, 0x1e, 0xdd, '<', 0, '/', 0, 'e', 0, '>', 0
    };

    ngx_wsman_xml_init(&x, pool, 8);
    ngx_wsman_xml_literal(&x, "<e>\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e</e>");

    len = x.length;
    out = ngx_wsman_xml_utf16(pool, ngx_wsman_xml_chain(&x), &len, 0);
    UNIT_CHECK(out != NULL && out->next == NULL);

    if (out) {
        UNIT_EQ_UINT((ngx_uint_t) len, sizeof(le));
        UNIT_CHECK(out->buf->last - out->buf->pos == len
                   && ngx_memcmp(out->buf->pos, le, sizeof(le)) == 0);
    }

    len = x.length;
    out = ngx_wsman_xml_utf16(pool, ngx_wsman_xml_chain(&x), &len, 1);
    UNIT_CHECK(out != NULL && out->buf->pos[0] == 0xfe
               && out->buf->pos[1] == 0xff && out->buf->pos[2] == 0
               && out->buf->pos[3] == '<');

    /* not UTF-8: refused, never half converted */
    ngx_wsman_xml_init(&x, pool, 64);
    ngx_wsman_xml_raw(&x, (u_char *) "<e>\xff</e>", 8);
    len = x.length;
    UNIT_CHECK(ngx_wsman_xml_utf16(pool, ngx_wsman_xml_chain(&x), &len, 0)
               == NULL);
}


/* ngx_wsman_xml_check(): configuration XML passed on verbatim */
static void
unit_test_xml_check(void)
{
    size_t  i;

    static struct {
        const char  *text;
        ngx_int_t    rc;
    } cases[] = {
        { "<QueryList><Query Id=\"0\"/></QueryList>", NGX_OK },
        { "  <QueryList/>\n", NGX_OK },
        { "<q:QueryList xmlns:q=\"urn:x\"/>", NGX_OK },
        { "<QueryList><Query>", NGX_DECLINED },
        { "<QueryList/><QueryList/>", NGX_DECLINED },
        { "<Other/>", NGX_DECLINED },
        { "<QueryList>&x;</QueryList>", NGX_DECLINED },
        { "<!DOCTYPE QueryList><QueryList/>", NGX_DECLINED },
        { "<!DOCTYPE QueryList [<!ENTITY x \"y\">]><QueryList>&x;"
          "</QueryList>", NGX_DECLINED },
        { "<!DOCTYPE QueryList SYSTEM \"http://127.0.0.1/x.dtd\">"
          "<QueryList/>", NGX_DECLINED },
        { "plain text", NGX_DECLINED },
        { "", NGX_DECLINED },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!UNIT_CHECK(ngx_wsman_xml_check((u_char *) cases[i].text,
                                            ngx_strlen(cases[i].text),
                                            "QueryList")
                        == cases[i].rc))
        {
            fprintf(stderr, "  case %d: %s\n", (int) i, cases[i].text);
        }
    }
}


void
unit_test_xml(void)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(4096, &unit_log);
    if (pool == NULL) {
        abort();
    }

    unit_test_xml_escape(pool);
    unit_test_xml_boundaries(pool);
    unit_test_xml_chain_append(pool);
    unit_test_xml_failure(pool);
    unit_test_xml_utf16(pool);
    unit_test_xml_check();

    ngx_destroy_pool(pool);
}
