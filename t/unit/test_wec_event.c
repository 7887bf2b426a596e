/*
 * One forwarded event made ready for the outputs
 * (src/plugins/wec/ngx_wsman_wec_event.c): the JSON string writer (16
 * or eight bytes at a time between the bytes it escapes) against a
 * byte-by-byte reference, and the fields and JSON of a 4624 logon event
 * as Windows renders it, well-formed and truncated.
 */

#define _GNU_SOURCE                                   /* memmem() */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "unit.h"
#include "ngx_wsman_wec_event.h"
#include "ngx_wsman_body.h"


void unit_test_wec_event(void);


/* the JSON escaping the writer must match, one byte at a time */
static size_t
unit_json_reference(u_char *out, const u_char *s, size_t len)
{
    u_char  *p;
    size_t   i;

    p = out;
    *p++ = '"';

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '"':
            p = ngx_cpymem(p, "\\\"", 2);
            break;
        case '\\':
            p = ngx_cpymem(p, "\\\\", 2);
            break;
        case '\n':
            p = ngx_cpymem(p, "\\n", 2);
            break;
        case '\r':
            p = ngx_cpymem(p, "\\r", 2);
            break;
        case '\t':
            p = ngx_cpymem(p, "\\t", 2);
            break;
        default:
            if (s[i] < 0x20) {
                p += sprintf((char *) p, "\\u%04x", s[i]);
            } else {
                *p++ = s[i];
            }
        }
    }

    *p++ = '"';

    return p - out;
}


static void
unit_test_wec_json_string(void)
{
    u_char      in[48], got[48 * 6 + 2], want[48 * 6 + 2], *end;
    size_t      i, j, k, m, n, len;
    ngx_uint_t  ok;
    ngx_str_t   s;

    /* each byte that needs escaping, and ones next to them that do not,
     * at every place of runs of each length up to 48 (the 16- and
     * eight-byte steps, their ends and the bytes after them), alone and
     * with a second one 1 to 17 bytes further on */
    static const u_char  odd[] = { '"', '\\', '\n', '\r', '\t', 0x00, 0x01,
                                   0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f,
                                   0x80, 0x9f, 0xa0, 0xc3, 0xdc, 0xe2, 0xff };

    ok = 1;

    for (len = 1; len <= sizeof(in); len++) {
        for (i = 0; i < len; i++) {
            for (k = 0; k < sizeof(odd); k++) {
                for (j = 0; j <= 17; j++) {
                    if (j && (i + j >= len || j % 4 != 1)) {
                        continue;
                    }

                    for (n = 0; n < len; n++) {
                        in[n] = (u_char) ('a' + n % 26);
                    }

                    in[i] = odd[k];

                    if (j) {
                        in[i + j] = odd[(k + j) % sizeof(odd)];
                    }

                    s.data = in;
                    s.len = len;

                    ngx_memset(got, 0xee, sizeof(got));
                    end = ngx_wsman_wec_json_string(got, &s);
                    n = unit_json_reference(want, in, len);

                    /* the bytes written past end (the 16-byte steps'
                     * scratch) stay within the 2 + 6 * len promised */
                    for (m = 2 + 6 * len; m < sizeof(got); m++) {
                        if (got[m] != 0xee) {
                            break;
                        }
                    }

                    if ((size_t) (end - got) != n
                        || ngx_memcmp(got, want, n) != 0
                        || m != sizeof(got))
                    {
                        printf("    byte 0x%02x at %d of %d (and %d on): "
                               "%.*s\n", odd[k], (int) i, (int) len, (int) j,
                               (int) (end - got), got);
                        ok = 0;
                    }
                }
            }
        }
    }

    UNIT_CHECK(ok);

    /* short and empty strings, every length below eight */
    ngx_str_set(&s, "a\"\\\x01");
    end = ngx_wsman_wec_json_string(got, &s);
    UNIT_CHECK((size_t) (end - got) == sizeof("\"a\\\"\\\\\\u0001\"") - 1
               && ngx_memcmp(got, "\"a\\\"\\\\\\u0001\"", end - got) == 0);

    s.len = 0;
    end = ngx_wsman_wec_json_string(got, &s);
    UNIT_CHECK(end - got == 2 && got[0] == '"' && got[1] == '"');
}


#define UNIT_4624                                                           \
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>" \
    "<System><Provider Name='Microsoft-Windows-Security-Auditing' "         \
    "Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>"                      \
    "<EventID>4624</EventID><Version>2</Version><Level>0</Level>"           \
    "<Task>12544</Task><Keywords>0x8020000000000000</Keywords>"             \
    "<TimeCreated SystemTime='2026-12-06T20:00:00.1234567Z'/>"              \
    "<EventRecordID>987654</EventRecordID>"                                 \
    "<Channel>Security</Channel><Computer>ws01.example.test</Computer>"      \
    "</System><EventData>"                                                  \
    "<Data Name='TargetUserName'>alice</Data>"                              \
    "<Data Name='LogonType'>3</Data>"                                       \
    "<Data Name='IpAddress'>192.0.2.7</Data>"                               \
    "</EventData><RenderingInfo Culture='en-US'><Message>An account was "   \
    "successfully logged on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\t"         \
    "\"SYSTEM\"</Message></RenderingInfo></Event>"


static ngx_int_t
unit_wec_prepare(ngx_wsman_wec_batch_t *b, ngx_wsman_wec_event_t *ev,
    const char *xml, size_t len)
{
    ngx_memzero(b, sizeof(ngx_wsman_wec_batch_t));
    ngx_memzero(ev, sizeof(ngx_wsman_wec_event_t));

    b->pool = ngx_create_pool(4096, &unit_log);
    UNIT_CHECK(b->pool != NULL);

    b->log = &unit_log;
    ngx_str_set(&b->subscription, "logons");
    ngx_str_set(&b->source, "WS01$@EXAMPLE.TEST");
    ngx_str_set(&b->machine, "ws01.example.test");
    ngx_str_set(&b->client_addr, "192.0.2.7");
    b->received = 1796587200;                    /* 2026-12-06T20:00:00Z */
    b->events = ev;
    b->nevents = 1;

    ev->xml.data = (u_char *) xml;
    ev->xml.len = len;

    return ngx_wsman_wec_event_prepare(b, ev);
}


#define unit_json_has(ev, s)                                                \
    (memmem((ev)->json.data, (ev)->json.len, s, sizeof(s) - 1) != NULL)


static void
unit_test_wec_event_prepare(void)
{
    ngx_wsman_wec_batch_t  b;
    ngx_wsman_wec_event_t  ev;

    UNIT_CHECK(unit_wec_prepare(&b, &ev, UNIT_4624, sizeof(UNIT_4624) - 1)
               == NGX_OK);

    UNIT_CHECK(!ev.malformed);
    UNIT_EQ_STR(ev.computer, "ws01.example.test");
    UNIT_EQ_STR(ev.channel, "Security");
    UNIT_EQ_STR(ev.provider, "Microsoft-Windows-Security-Auditing");
    UNIT_EQ_UINT(ev.event_id, 4624);
    UNIT_CHECK(ev.record_id == 987654);

    UNIT_CHECK(ev.json.len > ev.xml.len
               && ev.json.data[0] == '{'
               && ev.json.data[ev.json.len - 1] == '}');
    UNIT_CHECK(unit_json_has(&ev, "\"received\":\"2026-12-06T20:00:00Z\""));
    UNIT_CHECK(unit_json_has(&ev, "\"source\":\"WS01$@EXAMPLE.TEST\""));
    UNIT_CHECK(unit_json_has(&ev, "\"event_id\":4624,"
                                  "\"record_id\":987654"));
    UNIT_CHECK(unit_json_has(&ev, "\"data\":{\"TargetUserName\":\"alice\","
                                  "\"LogonType\":\"3\","
                                  "\"IpAddress\":\"192.0.2.7\"}"));
    UNIT_CHECK(unit_json_has(&ev, "logged on.\\r\\n\\r\\nSubject:\\r\\n"
                                  "\\tSecurity ID:\\t\\t\\\"SYSTEM\\\""));
    UNIT_CHECK(!unit_json_has(&ev, "\"malformed\""));

    ngx_destroy_pool(b.pool);

    /* Data values longer than the reader's chunk among short ones, and
     * ones that just fill it: each read back whole */
    {
        u_char      *xml, *p, *want;
        size_t       sizes[] = { 600, 1, 511, 2, 512, 3, 4000, 5 };
        ngx_uint_t   i, ok;

        static const char  head[] = "<Event><System><Computer>c</Computer>"
                                    "</System><EventData>";

        xml = malloc(16384);
        want = malloc(8192);

        if (UNIT_CHECK(xml != NULL && want != NULL)) {
            p = ngx_cpymem(xml, head, sizeof(head) - 1);

            for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                p = ngx_sprintf(p, "<Data Name='d%ui'>", i);
                ngx_memset(p, 'a' + i, sizes[i]);
                p = ngx_cpymem(p + sizes[i], "</Data>", 7);
            }

            p = ngx_cpymem(p, "</EventData></Event>",
                           sizeof("</EventData></Event>") - 1);

            UNIT_CHECK(unit_wec_prepare(&b, &ev, (char *) xml, p - xml)
                       == NGX_OK);
            UNIT_CHECK(!ev.malformed);

            ok = 1;

            for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                p = ngx_sprintf(want, "\"d%ui\":\"", i);
                ngx_memset(p, 'a' + i, sizes[i]);
                p = ngx_cpymem(p + sizes[i], "\"", 1);

                if (memmem(ev.json.data, ev.json.len, want, p - want)
                    == NULL)
                {
                    printf("    Data d%u (%u bytes) not in the JSON\n",
                           (unsigned) i, (unsigned) sizes[i]);
                    ok = 0;
                }
            }

            UNIT_CHECK(ok);

            ngx_destroy_pool(b.pool);
        }

        free(xml);
        free(want);
    }

    /* RenderedText cut short: kept whole, flagged, no fields trusted */
    UNIT_CHECK(unit_wec_prepare(&b, &ev, UNIT_4624, 700) == NGX_OK);
    UNIT_CHECK(ev.malformed);
    UNIT_CHECK(ev.computer.len == 0 && ev.event_id == 0);
    UNIT_CHECK(unit_json_has(&ev, "\"malformed\":true"));
    UNIT_CHECK(!unit_json_has(&ev, "\"data\":"));

    ngx_destroy_pool(b.pool);
}


static void
unit_scan_start(void *data, ngx_str_t *name, ngx_str_t *attrs,
    ngx_uint_t nattrs)
{
    (*(ngx_uint_t *) data)++;
}


static void
unit_scan_text(void *data, u_char *text, size_t len)
{
}


static void
unit_scan_end(void *data)
{
    (*(ngx_uint_t *) data)--;
}


/* libxml2 as it is, on exactly these bytes: well-formed or not */
static ngx_uint_t
unit_well_formed(const u_char *doc, size_t len)
{
    ngx_uint_t        wf;
    xmlParserCtxtPtr  ctxt;

    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        return 2;
    }

    xmlFreeDoc(xmlCtxtReadMemory(ctxt, (const char *) doc, (int) len, NULL,
                                 NULL, XML_PARSE_NONET | XML_PARSE_NOERROR
                                       | XML_PARSE_NOWARNING
                                       | XML_PARSE_IGNORE_ENC));
    wf = ctxt->wellFormed;
    xmlFreeParserCtxt(ctxt);

    return wf;
}


/*
 * ngx_wsman_doc_scan() reads a copy with a comment after it (keeping
 * libxml2's input-grow checks off every token): every prefix of an event
 * (cut in a tag, an attribute, text, a comment, a PI, a CDATA section),
 * and the whole one with each unfinished or finished thing after it, is
 * well-formed exactly when libxml2 finds the bytes alone so
 */
static void
unit_test_wec_doc_scan(void)
{
    u_char                doc[2048], *big;
    size_t                len, n, k;
    ngx_int_t             rc;
    ngx_uint_t            depth, ok, wf, good;
    ngx_wsman_doc_scan_t  scan;

    static const char  event[] =
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/"
        "event'><System><EventID>4624</EventID><Computer a=\"b\">ws01"
        "</Computer></System><!-- a comment --><?pi data?>"
        "<RenderingInfo><Message><![CDATA[x <y> ]]>&lt;z&#x41;"
        "</Message></RenderingInfo></Event>";

    static const char  *after[] = {
        "", " \n", "<!-- done -->", "<?pi done?>", "<!-- open", "<!-- a -",
        "<!-- a --", "<!--", "<!-", "<!", "<", "<?pi open", "<?pi ?",
        "<![CDATA[", "]]>", "x", "-->", "<x/>", "</Event>", "<!-- a --> x"
    };

    scan.start = unit_scan_start;
    scan.text = unit_scan_text;
    scan.end = unit_scan_end;
    scan.data = &depth;

    ok = 1;
    good = 0;
    len = sizeof(event) - 1;

    for (n = 1; n <= len; n++) {
        depth = 0;
        rc = ngx_wsman_doc_scan((u_char *) event, n, &scan);
        wf = unit_well_formed((u_char *) event, n);

        if ((rc == NGX_OK) != wf || (rc == NGX_OK && depth != 0)) {
            printf("    %d bytes: rc %d, libxml2 %d\n", (int) n, (int) rc,
                   (int) wf);
            ok = 0;
        }

        good += (rc == NGX_OK);
    }

    for (k = 0; k < sizeof(after) / sizeof(after[0]); k++) {
        n = ngx_cpymem(ngx_cpymem(doc, event, len), after[k],
                       ngx_strlen(after[k])) - doc;

        depth = 0;
        rc = ngx_wsman_doc_scan(doc, n, &scan);
        wf = unit_well_formed(doc, n);

        if ((rc == NGX_OK) != wf) {
            printf("    after \"%s\": rc %d, libxml2 %d\n", after[k],
                   (int) rc, (int) wf);
            ok = 0;
        }

        good += (rc == NGX_OK);
    }

    UNIT_CHECK(ok);

    /* the whole event and the four good endings; none of the rest */
    UNIT_EQ_UINT(good, 5);

    /* documents that fill the copy with its comment, and larger ones
     * (read as they are): whole, and cut short */
    big = malloc(65536 + 2);
    if (!UNIT_CHECK(big != NULL)) {
        return;
    }

    for (len = 65536 - 256 - 1; len <= 65536 + 2; len++) {
        ngx_memcpy(big, "<Event><Message>", 16);
        ngx_memset(big + 16, 'x', len - 16 - 18);
        ngx_memcpy(big + len - 18, "</Message></Event>", 18);

        depth = 0;
        rc = ngx_wsman_doc_scan(big, len, &scan);

        if (rc != NGX_OK || depth != 0) {
            printf("    %d bytes: rc %d\n", (int) len, (int) rc);
            ok = 0;
        }

        rc = ngx_wsman_doc_scan(big, len - 1, &scan);

        if (rc != NGX_DECLINED) {
            printf("    %d bytes cut: rc %d\n", (int) len, (int) rc);
            ok = 0;
        }

        if (len == 65536 - 256 + 1) {
            len = 65536 - 2;                     /* the sizes in between */
        }
    }

    free(big);

    UNIT_CHECK(ok);
}


void
unit_test_wec_event(void)
{
    unit_test_wec_json_string();
    unit_test_wec_event_prepare();
    unit_test_wec_doc_scan();
}
