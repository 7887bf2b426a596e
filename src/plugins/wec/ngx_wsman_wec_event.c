/*
 * One forwarded event, made ready for the outputs: its System fields
 * read with libxml2 (through the SOAP layer's document API) and one JSON
 * object written.  Runs in a pool thread, on the batch's own pool.
 *
 * An event that is not well-formed XML (Windows truncates RenderedText
 * now and then) is kept as it came and flagged "malformed": it never
 * fails its batch.
 */

#include "ngx_wsman_wec.h"
#include "ngx_wsman_wec_event.h"
#include "ngx_wsman_body.h"


#define NGX_WSMAN_WEC_JSON_RESERVE  512


static ngx_int_t ngx_wsman_wec_event_fields(ngx_wsman_wec_batch_t *b,
    ngx_wsman_wec_event_t *ev, ngx_wsman_node_t *root, ngx_array_t *data);
static u_char *ngx_wsman_wec_json_member(u_char *p, const char *name,
    ngx_str_t *value);


/* the bytes a JSON string of s takes at most, quotes included */
static size_t
ngx_wsman_wec_json_len(ngx_str_t *s)
{
    return 2 + s->len * 6;
}


u_char *
ngx_wsman_wec_json_string(u_char *p, ngx_str_t *s)
{
    u_char   c, *q, *end;

    static const u_char  hex[] = "0123456789abcdef";

    *p++ = '"';

    end = s->data + s->len;

    for (q = s->data; q < end; q++) {
        c = *q;

        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = c;
            continue;
        }

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


static u_char *
ngx_wsman_wec_json_member(u_char *p, const char *name, ngx_str_t *value)
{
    *p++ = ',';
    *p++ = '"';
    p = ngx_cpymem(p, name, ngx_strlen(name));
    *p++ = '"';
    *p++ = ':';

    return ngx_wsman_wec_json_string(p, value);
}


ngx_int_t
ngx_wsman_wec_event_prepare(ngx_wsman_wec_batch_t *b,
    ngx_wsman_wec_event_t *ev)
{
    size_t               len;
    u_char              *p, received[sizeof("1970-01-01T00:00:00Z")];
    ngx_tm_t             tm;
    ngx_str_t            when, *pair;
    ngx_uint_t           i;
    ngx_array_t          data;
    ngx_wsman_doc_t     *doc;
    ngx_wsman_node_t    *root;

    if (ngx_array_init(&data, b->pool, 8, 2 * sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    doc = ngx_wsman_doc_parse(ev->xml.data, ev->xml.len, &root);

    if (doc == NULL) {
        ev->malformed = 1;

    } else {
        if (ngx_wsman_wec_event_fields(b, ev, root, &data) != NGX_OK) {
            ngx_wsman_doc_free(doc);
            return NGX_ERROR;
        }

        ngx_wsman_doc_free(doc);
    }

    ngx_gmtime(b->received, &tm);
    when.data = received;
    when.len = ngx_sprintf(received, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                           tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                           tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec)
               - received;

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
    p = ngx_sprintf(p, ",\"event_id\":%ui,\"record_id\":%uL,\"level\":%ui",
                    ev->event_id, ev->record_id, ev->level);
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


static ngx_int_t
ngx_wsman_wec_event_text(ngx_pool_t *pool, ngx_wsman_node_t *parent,
    const char *name, ngx_str_t *text)
{
    ngx_wsman_node_t  *node;

    node = ngx_wsman_node_child_named(parent, name);

    if (node == NULL) {
        ngx_str_null(text);
        return NGX_OK;
    }

    return ngx_wsman_node_text(pool, node, text) == NGX_ERROR
           ? NGX_ERROR : NGX_OK;
}


static ngx_int_t
ngx_wsman_wec_event_fields(ngx_wsman_wec_batch_t *b,
    ngx_wsman_wec_event_t *ev, ngx_wsman_node_t *root, ngx_array_t *data)
{
    ngx_int_t          n;
    ngx_str_t          text, *pair;
    ngx_wsman_node_t  *system, *node, *event_data;

    if (!ngx_wsman_node_named(root, "Event")) {
        /* well-formed, but not an event: kept as it is */
        return NGX_OK;
    }

    system = ngx_wsman_node_child_named(root, "System");

    if (system) {
        if (ngx_wsman_wec_event_text(b->pool, system, "Computer",
                                     &ev->computer) != NGX_OK
            || ngx_wsman_wec_event_text(b->pool, system, "Channel",
                                        &ev->channel) != NGX_OK)
        {
            return NGX_ERROR;
        }

        node = ngx_wsman_node_child_named(system, "Provider");
        if (node
            && ngx_wsman_node_attr(b->pool, node, "Name", &ev->provider)
               == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        node = ngx_wsman_node_child_named(system, "TimeCreated");
        if (node
            && ngx_wsman_node_attr(b->pool, node, "SystemTime",
                                   &ev->time_created)
               == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        if (ngx_wsman_wec_event_text(b->pool, system, "EventID", &text)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        n = ngx_atoi(text.data, text.len);
        ev->event_id = n == NGX_ERROR ? 0 : (ngx_uint_t) n;

        if (ngx_wsman_wec_event_text(b->pool, system, "Level", &text)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        n = ngx_atoi(text.data, text.len);
        ev->level = n == NGX_ERROR ? 0 : (ngx_uint_t) n;

        if (ngx_wsman_wec_event_text(b->pool, system, "EventRecordID", &text)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        n = ngx_atoof(text.data, text.len);
        ev->record_id = n == NGX_ERROR ? 0 : (uint64_t) n;
    }

    /* EventData's named Data elements, as most Security events carry */
    event_data = ngx_wsman_node_child_named(root, "EventData");

    for (node = ngx_wsman_node_child_named(event_data, "Data");
         node;
         node = ngx_wsman_node_next_named(node, "Data"))
    {
        if (ngx_wsman_node_attr(b->pool, node, "Name", &text) != NGX_OK) {
            continue;
        }

        pair = ngx_array_push(data);
        if (pair == NULL) {
            return NGX_ERROR;
        }

        pair[0] = text;

        if (ngx_wsman_node_text(b->pool, node, &pair[1]) == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
