/*
 * The subscription manager of the Windows Event Collector (MS-WSMV
 * 3.1.4.1.30): a source Enumerates SubscriptionManager/Subscription and
 * gets, per subscription that applies to it, the Subscribe envelope it
 * is to act on, with a Version that changes whenever anything it sees of
 * the subscription changes.  What sources then deliver is
 * ngx_wsman_wec_delivery.c's.
 */

#include "ngx_wsman_wec.h"
#include "ngx_wsman_util.h"
#include "ngx_wsman_enum.h"
#include "ngx_wsman_log.h"

#include <fnmatch.h>
#include <openssl/evp.h>


#define NGX_WSMAN_WEC_SUBSCRIPTION_URI                                      \
    "http://schemas.microsoft.com/wbem/wsman/1/SubscriptionManager/"      \
    "Subscription"
#define NGX_WSMAN_WEC_FULLDUPLEX_URI                                        \
    "http://schemas.microsoft.com/wbem/wsman/1/wsman/FullDuplex"
#define NGX_WSMAN_WEC_EVENTLOG_URI                                          \
    "http://schemas.microsoft.com/wbem/wsman/1/windows/EventLog"
#define NGX_WSMAN_WEC_ACTION_END                                            \
    "http://schemas.microsoft.com/wbem/wsman/1/wsman/End"
#define NGX_WSMAN_WEC_NS_SUB                                                \
    "http://schemas.microsoft.com/wbem/wsman/1/subscription"
#define NGX_WSMAN_WEC_PROFILE                                               \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/"

#define NGX_WSMAN_WEC_PATH  "/subscriptions/"


/* a source's enumeration, per call: what fetch() found for it */
typedef struct {
    ngx_str_t                 *bookmarks;    /* the store's, by the index
                                                of the subscription; NULL:
                                                no store */
    u_char                    *applies;      /* by the index: the
                                                subscription is the
                                                caller's (fetch() found) */
    ngx_uint_t                 ready;        /* fetch() is done */
} ngx_wsman_wec_enum_t;


static ngx_int_t ngx_wsman_wec_load_bookmarks(ngx_wsman_call_t *call,
    ngx_wsman_wec_main_conf_t *wmcf, u_char *applies, ngx_wsman_op_pt resume);
static void ngx_wsman_wec_bookmarks_run(void *data, ngx_log_t *log);
static void ngx_wsman_wec_bookmarks_done(ngx_event_t *ev);
static ngx_int_t ngx_wsman_wec_end(ngx_wsman_call_t *call);


static ngx_wsman_plugin_t  ngx_wsman_wec_manager = {
    ngx_string("wec"),
    ngx_string(NGX_WSMAN_WEC_SUBSCRIPTION_URI),
    NULL, NULL, NULL, NULL,
    ngx_wsman_enum_enumerate,              /* the subscription class's */
    NULL,
    0, 0, NULL, NULL
};


/* a source ends its enumeration with End on the FullDuplex URI */
static ngx_wsman_plugin_t  ngx_wsman_wec_fullduplex = {
    ngx_string("wec-end"),
    ngx_string(NGX_WSMAN_WEC_FULLDUPLEX_URI),
    NULL, NULL, NULL, NULL, NULL,
    ngx_wsman_wec_end,
    0, 0, NULL, NULL
};


/* deliveries to /wsman/subscriptions/<id> carry no w:ResourceURI: the
 * dispatcher gives them to this service by their action */
static ngx_wsman_plugin_t  ngx_wsman_wec_eventlog = {
    ngx_string("wec-events"),
    ngx_string(NGX_WSMAN_WEC_EVENTLOG_URI),
    NULL, NULL, NULL, NULL, NULL,
    ngx_wsman_wec_deliver,
    0, 0, NULL,
    ngx_wsman_wec_deliveries
};


ngx_wsman_plugin_t  *ngx_wsman_wec_services[] = {
    &ngx_wsman_wec_manager,
    &ngx_wsman_wec_fullduplex,
    &ngx_wsman_wec_eventlog,
    NULL
};


ngx_int_t
ngx_wsman_wec_uuid(u_char *out, u_char *data, size_t len)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  mdlen;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
        return NGX_ERROR;
    }

    /* an RFC 4122 name-based layout (version 5), in capitals as Windows
     * writes its subscription versions */
    (void) ngx_wsman_uuid_layout(out, md, 5, 1);

    return NGX_OK;
}


ngx_wsman_wec_loc_conf_t *
ngx_wsman_wec_enabled(ngx_wsman_call_t *call)
{
    ngx_wsman_wec_loc_conf_t  *wlcf;

    wlcf = ngx_wsman_call_conf(call, &ngx_wsman_wec_module);

    if (wlcf == NULL || wlcf->enable != 1) {
        return NULL;
    }

    return wlcf;
}


/*
 * A request of the collector at a location without wsman_wec on: the
 * fault an unknown subscription gets (nothing here knows any), and a
 * line that tells the operator why a source's events go nowhere.
 */
ngx_int_t
ngx_wsman_wec_off(ngx_wsman_call_t *call)
{
    ngx_log_error(NGX_LOG_WARN, call->log, 0,
                  "wsman wec: \"%V\" from \"%V\" refused: event "
                  "collection is off in this location (no wsman_wec on)",
                  ngx_wsman_log_escape(call->pool, &call->req->action),
                  ngx_wsman_log_escape(call->pool, &call->identity->user));

    return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                "Event collection is off here "
                                "(wsman_wec).");
}


/* a comma-separated list holds an item the pattern matches: NGX_OK,
 * NGX_DECLINED, NGX_ERROR */
static ngx_int_t
ngx_wsman_wec_match_list(ngx_pool_t *pool, ngx_str_t *list, char *pattern)
{
    u_char  *p, *end, *comma, *item;

    p = list->data;
    end = list->data + list->len;

    while (p < end) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        item = ngx_pnalloc(pool, comma - p + 1);
        if (item == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(item, p, comma - p);
        item[comma - p] = '\0';

        if (comma > p && fnmatch(pattern, (char *) item, FNM_CASEFOLD) == 0) {
            return NGX_OK;
        }

        p = comma + 1;
    }

    return NGX_DECLINED;
}


/*
 * Does the subscription apply to the caller?  No sources: every
 * authenticated source.  Else a pattern matches the principal (glob,
 * case-insensitive) or, as "group:PATTERN", one of its groups.
 */
ngx_int_t
ngx_wsman_wec_applies(ngx_wsman_call_t *call, ngx_wsman_wec_sub_t *sub)
{
    ngx_int_t    rc;
    ngx_str_t   *src, user;
    ngx_uint_t   i;

    if (sub->sources == NULL) {
        return NGX_OK;
    }

    user.data = ngx_pnalloc(call->pool, call->identity->user.len + 1);
    if (user.data == NULL) {
        return NGX_ERROR;
    }

    user.len = call->identity->user.len;
    ngx_memcpy(user.data, call->identity->user.data, user.len);
    user.data[user.len] = '\0';

    src = sub->sources->elts;

    for (i = 0; i < sub->sources->nelts; i++) {
        if (src[i].len > 6 && ngx_strncmp(src[i].data, "group:", 6) == 0) {
            rc = ngx_wsman_wec_match_list(call->pool,
                                          &call->identity->groups,
                                          (char *) src[i].data + 6);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            continue;
        }

        if (user.len
            && fnmatch((char *) src[i].data, (char *) user.data,
                       FNM_CASEFOLD) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* the Host header goes into the addresses we hand out: a host[:port] */
static ngx_int_t
ngx_wsman_wec_host_valid(ngx_str_t *host)
{
    u_char  *p;

    if (host->len == 0 || host->len > 255) {
        return 0;
    }

    for (p = host->data; p < host->data + host->len; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
              || *p == ':' || *p == '[' || *p == ']' || *p == '_'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * The Version: a GUID of everything the source will see of the
 * subscription but the message ids, in a fixed order with lengths, so
 * that no two different subscriptions share a Version.
 */
static ngx_int_t
ngx_wsman_wec_version(ngx_wsman_call_t *call, ngx_wsman_wec_sub_t *sub,
    ngx_str_t *address, const char *profile, u_char *version)
{
    u_char      *buf, *p;
    size_t       len;
    ngx_str_t   *tp;
    ngx_uint_t   i, ntp;

    tp = sub->thumbprints ? sub->thumbprints->elts : NULL;
    ntp = sub->thumbprints ? sub->thumbprints->nelts : 0;

    /* "|" and 40 hex digits a thumbprint */
    len = ntp * 41 + sub->name.len + sub->query.len + sub->locale.len
          + address->len + ngx_strlen(profile) + 12 * NGX_INT64_LEN + 32;

    buf = ngx_pnalloc(call->pool, len);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    p = ngx_snprintf(buf, len, "%uz:%V|%uz:%V|%uz:%V|%uz:%V|%s|%ui|%i|%i|"
                     "%T|%T|%ui",
                     sub->name.len, &sub->name, sub->query.len, &sub->query,
                     sub->locale.len, &sub->locale, address->len, address,
                     profile, sub->raw, sub->read_existing,
                     sub->ignore_channel_error, sub->max_time,
                     sub->heartbeat, sub->max_items);

    /* the issuers only reach sources that authenticate by certificate */
    if (ngx_strcmp(profile, "https/mutual") == 0) {
        for (i = 0; i < ntp; i++) {
            p = ngx_sprintf(p, "|%V", &tp[i]);
        }
    }

    return ngx_wsman_wec_uuid(version, buf, p - buf);
}


static void
ngx_wsman_wec_epr(ngx_wsman_xml_t *x, const char *element,
    ngx_str_t *address, u_char *version)
{
    ngx_wsman_xml_raw(x, (u_char *) "<e:", 3);
    ngx_wsman_xml_raw(x, (u_char *) element, ngx_strlen(element));
    ngx_wsman_xml_literal(x, "><a:Address>");
    ngx_wsman_xml_text_str(x, address);
    ngx_wsman_xml_literal(x, "</a:Address><a:ReferenceProperties>"
                          "<e:Identifier>");
    ngx_wsman_xml_raw(x, version, NGX_WSMAN_WEC_UUID_LEN);
    ngx_wsman_xml_literal(x, "</e:Identifier></a:ReferenceProperties>");
}


static void
ngx_wsman_wec_duration(ngx_wsman_xml_t *x, const char *element, time_t t)
{
    u_char  buf[NGX_INT64_LEN + 64];

    ngx_wsman_xml_raw(x, buf,
                      ngx_snprintf(buf, sizeof(buf), "<w:%s>PT%T.000S</w:%s>",
                                   element, t, element)
                      - buf);
}


/*
 * The path deliveries go to: where the source found the subscription
 * manager (a:To's path before "/SubscriptionManager", so a location
 * /strict/wsman hands out /strict/wsman/subscriptions/...), "/wsman" when
 * a:To says nothing usable.
 */
static void
ngx_wsman_wec_base(ngx_wsman_call_t *call, ngx_str_t *base)
{
    u_char  *p, *end, *path, *sm;

    ngx_str_set(base, "/wsman");

    p = call->req->to.data;
    end = p + call->req->to.len;

    p = ngx_strlcasestrn(p, end, (u_char *) "://", 3 - 1);
    if (p == NULL) {
        return;
    }

    path = ngx_strlchr(p + 3, end, '/');
    if (path == NULL) {
        return;
    }

    sm = ngx_strlcasestrn(path, end, (u_char *) "/SubscriptionManager",
                          sizeof("/SubscriptionManager") - 1 - 1);
    if (sm == NULL || sm == path) {
        return;
    }

    for (p = path; p < sm; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '/' || *p == '-'
              || *p == '_' || *p == '.' || *p == '~'))
        {
            return;
        }
    }

    base->data = path;
    base->len = sm - path;
}


/* one m:Subscription: the Version and the Subscribe envelope */
static ngx_int_t
ngx_wsman_wec_write_sub(ngx_wsman_call_t *call, ngx_wsman_xml_t *x,
    ngx_wsman_wec_sub_t *sub, ngx_str_t *bookmark)
{
    u_char              version[NGX_WSMAN_WEC_UUID_LEN];
    u_char              msgid[NGX_WSMAN_WEC_UUID_LEN];
    u_char             *p;
    ngx_str_t           address, base, *tp;
    ngx_uint_t          i, scheme;
    const char         *profile;

    scheme = call->identity->scheme;
    tp = NULL;

    if (scheme & (NGX_WSMAN_AUTH_KERBEROS|NGX_WSMAN_AUTH_NEGOTIATE)) {
        profile = call->tls ? "https/spnego-kerberos" : "http/spnego-kerberos";

    } else if (scheme & NGX_WSMAN_AUTH_CERTIFICATE) {
        profile = "https/mutual";
        tp = sub->thumbprints ? sub->thumbprints->elts : NULL;

    } else {
        profile = call->tls ? "https/basic" : "http/basic";
    }

    /* the address the source used, the location it came to, our path,
     * the subscription's id */
    ngx_wsman_wec_base(call, &base);

    address.len = sizeof("https://") - 1 + call->host.len + base.len
                  + sizeof(NGX_WSMAN_WEC_PATH) - 1 + NGX_WSMAN_WEC_UUID_LEN;
    address.data = ngx_pnalloc(call->pool, address.len);
    if (address.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(address.data, "%s://%V%V" NGX_WSMAN_WEC_PATH,
                    call->tls ? "https" : "http", &call->host, &base);
    p = ngx_cpymem(p, sub->id, NGX_WSMAN_WEC_UUID_LEN);
    address.len = p - address.data;

    if (ngx_wsman_wec_version(call, sub, &address, profile, version)
        != NGX_OK
        || ngx_wsman_wec_uuid(msgid, version, NGX_WSMAN_WEC_UUID_LEN)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_wsman_xml_literal(x,
        "<m:Subscription xmlns:m=\"" NGX_WSMAN_WEC_NS_SUB "\">"
        "<m:Version>uuid:");
    ngx_wsman_xml_raw(x, version, NGX_WSMAN_WEC_UUID_LEN);
    ngx_wsman_xml_literal(x, "</m:Version>"
        "<s:Envelope"
        " xmlns:s=\"" NGX_WSMAN_NS_SOAP "\""
        " xmlns:a=\"" NGX_WSMAN_NS_WSA "\""
        " xmlns:e=\"" NGX_WSMAN_NS_WSEV "\""
        " xmlns:n=\"" NGX_WSMAN_NS_WSEN "\""
        " xmlns:w=\"" NGX_WSMAN_NS_WSMAN "\""
        " xmlns:p=\"" NGX_WSMAN_NS_MSWSMAN "\">"
        "<s:Header>"
        "<a:To>" NGX_WSMAN_WSA_ANONYMOUS "</a:To>"
        "<w:ResourceURI s:mustUnderstand=\"true\">"
        NGX_WSMAN_WEC_EVENTLOG_URI "</w:ResourceURI>"
        "<a:ReplyTo><a:Address s:mustUnderstand=\"true\">"
        NGX_WSMAN_WSA_ANONYMOUS "</a:Address></a:ReplyTo>"
        "<a:Action s:mustUnderstand=\"true\">"
        NGX_WSMAN_NS_WSEV "/Subscribe</a:Action>"
        "<w:MaxEnvelopeSize s:mustUnderstand=\"true\">512000"
        "</w:MaxEnvelopeSize>"
        "<a:MessageID>uuid:");
    ngx_wsman_xml_raw(x, msgid, NGX_WSMAN_WEC_UUID_LEN);
    ngx_wsman_xml_literal(x, "</a:MessageID><w:Locale xml:lang=\"");
    ngx_wsman_xml_str(x, &sub->locale);
    ngx_wsman_xml_literal(x, "\" s:mustUnderstand=\"false\"/>"
                          "<p:DataLocale xml:lang=\"");
    ngx_wsman_xml_str(x, &sub->locale);
    ngx_wsman_xml_literal(x, "\" s:mustUnderstand=\"false\"/>"
        "<w:OptionSet xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<w:Option Name=\"SubscriptionName\">");
    ngx_wsman_xml_text_str(x, &sub->name);
    ngx_wsman_xml_literal(x, "</w:Option>"
        "<w:Option Name=\"Compression\">SLDC</w:Option>"
        "<w:Option Name=\"CDATA\" xsi:nil=\"true\"/>"
        "<w:Option Name=\"ContentFormat\">");

    if (sub->raw) {
        ngx_wsman_xml_literal(x, "Raw");

    } else {
        ngx_wsman_xml_literal(x, "RenderedText");
    }

    ngx_wsman_xml_literal(x, "</w:Option>");

    if (sub->ignore_channel_error) {
        ngx_wsman_xml_literal(x,
            "<w:Option Name=\"IgnoreChannelError\" xsi:nil=\"true\"/>");
    }

    if (sub->read_existing) {
        ngx_wsman_xml_literal(x,
            "<w:Option Name=\"ReadExistingEvents\" xsi:nil=\"true\"/>");
    }

    ngx_wsman_xml_literal(x, "</w:OptionSet></s:Header><s:Body>"
                          "<e:Subscribe>");

    ngx_wsman_wec_epr(x, "EndTo", &address, version);
    ngx_wsman_xml_literal(x, "</e:EndTo><e:Delivery Mode=\""
                          "http://schemas.dmtf.org/wbem/wsman/1/wsman/Events"
                          "\">");
    ngx_wsman_wec_duration(x, "Heartbeats", sub->heartbeat);
    ngx_wsman_wec_epr(x, "NotifyTo", &address, version);
    ngx_wsman_xml_literal(x,
        "<c:Policy xmlns:c=\"http://schemas.xmlsoap.org/ws/2002/12/policy\""
        " xmlns:auth=\"http://schemas.microsoft.com/wbem/wsman/1/"
        "authentication\"><c:ExactlyOne><c:All>"
        "<auth:Authentication Profile=\"" NGX_WSMAN_WEC_PROFILE);
    ngx_wsman_xml_raw(x, (u_char *) profile, ngx_strlen(profile));

    if (tp) {
        ngx_wsman_xml_literal(x, "\">");

        for (i = 0; i < sub->thumbprints->nelts; i++) {
            ngx_wsman_xml_literal(x, "<auth:ClientCertificate>"
                                  "<auth:Thumbprint Role=\"issuer\">");
            ngx_wsman_xml_str(x, &tp[i]);
            ngx_wsman_xml_literal(x, "</auth:Thumbprint>"
                                  "</auth:ClientCertificate>");
        }

        ngx_wsman_xml_literal(x, "</auth:Authentication>");

    } else {
        ngx_wsman_xml_literal(x, "\"/>");
    }

    ngx_wsman_xml_literal(x, "</c:All></c:ExactlyOne></c:Policy>"
        "</e:NotifyTo>"
        "<w:ConnectionRetry Total=\"5\">PT60.0S</w:ConnectionRetry>");
    ngx_wsman_wec_duration(x, "MaxTime", sub->max_time);

    if (sub->max_items) {
        ngx_wsman_xml_literal(x, "<w:MaxElements>");
        ngx_wsman_xml_uint(x, sub->max_items);
        ngx_wsman_xml_literal(x, "</w:MaxElements>");
    }

    ngx_wsman_xml_literal(x, "<w:MaxEnvelopeSize Policy=\"Notify\">512000"
                          "</w:MaxEnvelopeSize><w:Locale xml:lang=\"");
    ngx_wsman_xml_str(x, &sub->locale);
    ngx_wsman_xml_literal(x, "\" s:mustUnderstand=\"false\"/>"
                          "<p:DataLocale xml:lang=\"");
    ngx_wsman_xml_str(x, &sub->locale);
    ngx_wsman_xml_literal(x, "\" s:mustUnderstand=\"false\"/>"
        "<w:ContentEncoding>UTF-16</w:ContentEncoding></e:Delivery>"
        "<w:Filter Dialect=\"http://schemas.microsoft.com/win/2004/08/"
        "events/eventquery\">");
    /* checked at nginx -t: one well-formed QueryList without a DTD */
    ngx_wsman_xml_str(x, &sub->query);
    ngx_wsman_xml_literal(x, "</w:Filter>");

    /*
     * where the source is to start when it (re)subscribes: after the
     * last batch we acknowledged (the store's bookmark: a new Version
     * loses nothing and repeats nothing), else from its oldest event
     * when read_existing_events is on, else from now
     */
    if (bookmark && bookmark->len) {
        ngx_wsman_xml_literal(x, "<w:Bookmark>");
        ngx_wsman_xml_raw(x, bookmark->data, bookmark->len);
        ngx_wsman_xml_literal(x, "</w:Bookmark>");

    } else if (sub->read_existing) {
        ngx_wsman_xml_literal(x, "<w:Bookmark>http://schemas.dmtf.org/wbem/"
                              "wsman/1/wsman/bookmark/earliest</w:Bookmark>");
    }

    ngx_wsman_xml_literal(x, "<w:SendBookmarks/></e:Subscribe></s:Body>"
                          "</s:Envelope></m:Subscription>");

    return NGX_OK;
}


/*
 * The subscriptions are a class of the resource engine, so that
 * Enumerate and Pull, w:MaxElements, MaxEnvelopeSize and the contexts
 * are the engine's: an instance per subscription, keyed by its index in
 * the configuration; fetch() checks the caller and gets its bookmarks
 * from the state store; item() writes the m:Subscription of each that
 * applies to the caller (the others are left out as a filter would).
 */

static ngx_int_t
ngx_wsman_wec_class_enumerate(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    ngx_wsman_wec_main_conf_t  *wmcf;

    wmcf = ngx_wsman_plugin_main_conf(&ngx_wsman_wec_module);

    return ngx_wsman_instance_range(prov, pool, after,
                                    wmcf ? wmcf->subs.nelts : 0, 1, max,
                                    out, done);
}


static ngx_int_t
ngx_wsman_wec_class_fetch(ngx_wsman_provider_t *prov, ngx_wsman_call_t *call,
    ngx_wsman_op_pt resume)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i, n;
    ngx_wsman_wec_sub_t        *subs;
    ngx_wsman_wec_enum_t       *ctx;
    ngx_wsman_wec_main_conf_t  *wmcf;

    ctx = call->plugin_ctx;

    /* the operation runs again now that the store has answered */
    if (ctx && ctx->ready) {
        return NGX_OK;
    }

    if (ngx_wsman_wec_enabled(call) == NULL) {
        (void) ngx_wsman_wec_off(call);
        return NGX_WSMAN_FAULTED;
    }

    if (call->identity->scheme == 0 || call->identity->user.len == 0) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED, NULL);
        return NGX_WSMAN_FAULTED;
    }

    if (!ngx_wsman_wec_host_valid(&call->host)) {
        ngx_log_error(NGX_LOG_INFO, call->log, 0,
                      "wsman wec: no usable Host header for the "
                      "subscription addresses");
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INVALID_PARAMETER,
                             "The Host header is missing or not a "
                             "host name.");
        return NGX_WSMAN_FAULTED;
    }

    wmcf = ngx_wsman_plugin_main_conf(&ngx_wsman_wec_module);

    ctx = ngx_pcalloc(call->pool, sizeof(ngx_wsman_wec_enum_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    call->plugin_ctx = ctx;

    subs = wmcf ? wmcf->subs.elts : NULL;
    n = 0;

    ctx->applies = ngx_pcalloc(call->pool,
                               (wmcf ? wmcf->subs.nelts : 0) + 1);
    if (ctx->applies == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; wmcf && i < wmcf->subs.nelts; i++) {
        rc = ngx_wsman_wec_applies(call, &subs[i]);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            ctx->applies[i] = 1;
            n++;
        }
    }

    ngx_log_error(NGX_LOG_INFO, call->log, 0,
                  "wsman wec: %ui subscription(s) for \"%V\"", n,
                  &call->identity->user);

    if (n && wmcf->store.type) {
        ctx->bookmarks = ngx_pcalloc(call->pool,
                                     wmcf->subs.nelts * sizeof(ngx_str_t));
        if (ctx->bookmarks == NULL) {
            return NGX_ERROR;
        }

        /* the bookmarks come from the state store, in a pool thread */
        return ngx_wsman_wec_load_bookmarks(call, wmcf, ctx->applies,
                                            resume);
    }

    ctx->ready = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_wec_class_item(ngx_wsman_provider_t *prov, ngx_wsman_call_t *call,
    ngx_wsman_instance_t *inst, ngx_wsman_xml_t *x)
{
    ngx_wsman_prop_t           *prop;
    ngx_wsman_wec_sub_t        *sub;
    ngx_wsman_wec_enum_t       *ctx;
    ngx_wsman_wec_main_conf_t  *wmcf;

    ctx = call->plugin_ctx;
    wmcf = ngx_wsman_plugin_main_conf(&ngx_wsman_wec_module);
    prop = ngx_wsman_instance_prop(inst, (u_char *) "Index", 5);

    /* a context of another configuration (reloaded since) may name more
     * subscriptions than there are */
    if (ctx == NULL || !ctx->ready || wmcf == NULL || prop == NULL
        || prop->u >= wmcf->subs.nelts)
    {
        return NGX_DECLINED;
    }

    /* what fetch() found for the caller, not matched again per item */
    if (!ctx->applies[prop->u]) {
        return NGX_DECLINED;
    }

    sub = &((ngx_wsman_wec_sub_t *) wmcf->subs.elts)[prop->u];

    return ngx_wsman_wec_write_sub(call, x, sub,
                                   ctx->bookmarks ? &ctx->bookmarks[prop->u]
                                                  : NULL);
}


static ngx_wsman_provider_t  ngx_wsman_wec_subscription_class = {
    ngx_string("Subscription"),
    ngx_string(NGX_WSMAN_WEC_SUBSCRIPTION_URI),
    ngx_string("Index"),
    1,
    ngx_wsman_wec_class_enumerate,
    NULL,
    NULL,
    NULL,
    ngx_wsman_wec_class_fetch,
    ngx_null_string,
    NULL,
    0,
    ngx_wsman_wec_class_item             /* m:Subscription elements */
};


ngx_wsman_provider_t  *ngx_wsman_wec_providers[] = {
    &ngx_wsman_wec_subscription_class,
    NULL
};


typedef struct {
    ngx_wsman_call_t          *call;         /* NULL once the client left */
    ngx_pool_t                *pool;
    ngx_wsman_wec_main_conf_t *wmcf;
    u_char                    *applies;      /* by subscription index */
    ngx_uint_t                 n;            /* subscriptions */
    ngx_str_t                  source;
    ngx_str_t                 *bookmarks;    /* by subscription index */
    ngx_wsman_op_pt            resume;
    ngx_int_t                  rc;
    ngx_wsman_wec_hold_t       hold;         /* keeps a graceful shutdown
                                                waiting */
    ngx_log_t                  log;
} ngx_wsman_wec_bookmarks_t;


static ngx_int_t
ngx_wsman_wec_load_bookmarks(ngx_wsman_call_t *call,
    ngx_wsman_wec_main_conf_t *wmcf, u_char *applies, ngx_wsman_op_pt resume)
{
    ngx_pool_t                 *pool;
    ngx_thread_task_t          *task;
    ngx_wsman_wec_bookmarks_t  *bt;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    task = ngx_thread_task_alloc(pool, sizeof(ngx_wsman_wec_bookmarks_t));
    if (task == NULL) {
        goto failed;
    }

    bt = task->ctx;
    ngx_memzero(bt, sizeof(ngx_wsman_wec_bookmarks_t));

    bt->call = call;
    bt->pool = pool;
    bt->wmcf = wmcf;
    bt->n = wmcf->subs.nelts;
    bt->resume = resume;
    bt->log = *ngx_cycle->log;
    bt->log.connection = call->log->connection;

    /* copies: the request's pool may go while the thread reads */
    bt->applies = ngx_pnalloc(pool, bt->n);
    bt->bookmarks = ngx_pcalloc(pool, bt->n * sizeof(ngx_str_t));
    bt->source.data = ngx_pstrdup(pool, &call->identity->user);

    if (bt->applies == NULL || bt->bookmarks == NULL
        || bt->source.data == NULL)
    {
        goto failed;
    }

    ngx_memcpy(bt->applies, applies, bt->n);
    bt->source.len = call->identity->user.len;

    task->handler = ngx_wsman_wec_bookmarks_run;
    task->event.handler = ngx_wsman_wec_bookmarks_done;
    task->event.data = task;
    task->event.log = &bt->log;

    if (ngx_thread_task_post(wmcf->thread_pool, task) != NGX_OK) {
        goto failed;
    }

    ngx_wsman_wec_hold(&bt->hold, "the bookmarks", &bt->source, &bt->log);

    call->abort = ngx_wsman_wec_forget_call;
    call->abort_data = &bt->call;

    return NGX_AGAIN;

failed:

    ngx_destroy_pool(pool);
    return NGX_ERROR;
}


static void
ngx_wsman_wec_bookmarks_run(void *data, ngx_log_t *log)
{
    ngx_wsman_wec_bookmarks_t  *bt = data;

    ngx_uint_t                  i;
    ngx_wsman_wec_sub_t        *subs;
    ngx_wsman_wec_store_t      *store;

    store = &bt->wmcf->store;
    subs = bt->wmcf->subs.elts;
    bt->rc = NGX_OK;

    for (i = 0; i < bt->n; i++) {
        if (!bt->applies[i]) {
            continue;
        }

        if (store->type->load_bookmark(store, &subs[i].name,
                                       &bt->source, bt->pool,
                                       &bt->bookmarks[i], &bt->log)
            != NGX_OK)
        {
            bt->rc = NGX_ERROR;
            ngx_str_null(&bt->bookmarks[i]);
        }
    }
}


static void
ngx_wsman_wec_bookmarks_done(ngx_event_t *ev)
{
    ngx_thread_task_t *task = ev->data;

    ngx_int_t                   rc;
    ngx_str_t                  *bm;
    ngx_uint_t                  i;
    ngx_wsman_op_pt             resume;
    ngx_wsman_call_t           *call;
    ngx_wsman_wec_enum_t       *ctx;
    ngx_wsman_wec_bookmarks_t  *bt;

    bt = task->ctx;
    call = bt->call;
    resume = bt->resume;

    ngx_wsman_wec_unhold(&bt->hold);

    if (call == NULL) {
        ngx_destroy_pool(bt->pool);
        return;
    }

    call->abort = NULL;

    if (bt->rc != NGX_OK) {
        /* the source keeps its own bookmark: better than no answer */
        ngx_log_error(NGX_LOG_WARN, call->log, 0,
                      "wsman wec: the state store had no answer: "
                      "subscriptions for \"%V\" go without our bookmarks",
                      &call->identity->user);
    }

    ctx = call->plugin_ctx;
    rc = NGX_OK;

    /* into the request's pool: the task's goes now */
    for (i = 0; i < bt->n; i++) {
        bm = &ctx->bookmarks[i];
        bm->len = bt->bookmarks[i].len;

        if (bm->len == 0) {
            continue;
        }

        bm->data = ngx_pnalloc(call->pool, bm->len);
        if (bm->data == NULL) {
            rc = NGX_ERROR;
            break;
        }

        ngx_memcpy(bm->data, bt->bookmarks[i].data, bm->len);
    }

    ngx_destroy_pool(bt->pool);

    if (rc == NGX_OK) {
        ctx->ready = 1;
        rc = resume(call);

        if (rc == NGX_AGAIN) {
            /* cannot happen: the bookmarks are here now */
            rc = NGX_ERROR;
        }
    }

    call->done(call, rc);
}


/*
 * A thread task's pointer to its call (call->abort_data points at it):
 * the client left, the task's answer goes nowhere.  The task's memory is
 * its own pool's, so nothing else needs to be undone.
 */
void
ngx_wsman_wec_forget_call(ngx_wsman_call_t *call)
{
    *(ngx_wsman_call_t **) call->abort_data = NULL;
}


static void
ngx_wsman_wec_hold_expired(ngx_event_t *ev)
{
    ngx_wsman_wec_hold_t  *hold = ev->data;

    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "wsman wec: %s of \"%V\" is still in a pool thread "
                  "after %d s", hold->what, hold->source,
                  NGX_WSMAN_WEC_HOLD / 1000);
}


void
ngx_wsman_wec_hold(ngx_wsman_wec_hold_t *hold, const char *what,
    ngx_str_t *source, ngx_log_t *log)
{
    ngx_memzero(&hold->event, sizeof(ngx_event_t));

    hold->what = what;
    hold->source = source;

    /* not cancelable: ngx_event_no_timers_left() waits for it */
    hold->event.handler = ngx_wsman_wec_hold_expired;
    hold->event.data = hold;
    hold->event.log = log;

    ngx_add_timer(&hold->event, NGX_WSMAN_WEC_HOLD);
}


void
ngx_wsman_wec_unhold(ngx_wsman_wec_hold_t *hold)
{
    if (hold->event.timer_set) {
        ngx_del_timer(&hold->event);
    }
}


static ngx_int_t
ngx_wsman_wec_end(ngx_wsman_call_t *call)
{
    ngx_str_t  *action;

    if (ngx_wsman_wec_enabled(call) == NULL) {
        return ngx_wsman_wec_off(call);
    }

    action = &call->req->action;

    if (action->len != sizeof(NGX_WSMAN_WEC_ACTION_END) - 1
        || ngx_strncmp(action->data, NGX_WSMAN_WEC_ACTION_END, action->len)
           != 0)
    {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                    NULL);
    }

    /* nothing to release: an enumeration's context, if the source left
     * one, expires with wsman_enumeration_timeout */
    ngx_str_set(&call->action, NGX_WSMAN_WEC_ACTION_END "Response");

    return NGX_OK;
}
