/*
 * Event delivery (DSP0226 10.2.9.4, MS-WSMV 3.1.4.1.30): what sources
 * send to the NotifyTo address /wsman/subscriptions/<id> of their
 * subscription.  These messages carry no w:ResourceURI: the dispatcher
 * hands them to the EventLog service by their action.
 *
 *   Events           a batch: on the event loop it is checked and copied
 *                    into a task of its own; a thread of the collector's
 *                    pool reads each event, writes the batch to every
 *                    output of the subscription and stores the bookmark;
 *                    back on the loop the source gets its Ack, or a fault
 *                    (and keeps its bookmark: it sends the batch again).
 *   Heartbeat        noted in the worker's table, which goes to the state
 *                    store in one transaction every
 *                    wsman_wec_heartbeat_flush; acknowledged at once.
 *   SubscriptionEnd  noted and logged; answered empty.
 *
 * Nothing is acknowledged that is not durable in every output: at least
 * once, never lost.  A client that leaves while its batch is written
 * only loses the answer (the batch comes again: a duplicate, no loss).
 */

#include "ngx_wsman_wec.h"
#include "ngx_wsman_wec_event.h"
#include "ngx_wsman_body.h"
#include "ngx_wsman_log.h"


#define NGX_WSMAN_WEC_NS_WSMAN_1                                            \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman"
#define NGX_WSMAN_WEC_ACTION_HEARTBEAT  NGX_WSMAN_WEC_NS_WSMAN_1 "/Heartbeat"
#define NGX_WSMAN_WEC_ACTION_ACK        NGX_WSMAN_WEC_NS_WSMAN_1 "/Ack"
#define NGX_WSMAN_WEC_ACTION_END                                            \
    "http://schemas.xmlsoap.org/ws/2004/08/eventing/SubscriptionEnd"
#define NGX_WSMAN_WEC_NS_MACHINEID                                          \
    "http://schemas.microsoft.com/wbem/wsman/1/machineid"

#define NGX_WSMAN_WEC_SUBS_PATH  "/subscriptions/"

const char  *ngx_wsman_wec_deliveries[] = {
    NGX_WSMAN_ACTION_EVENTS,
    NGX_WSMAN_WEC_ACTION_HEARTBEAT,
    NGX_WSMAN_WEC_ACTION_END,
    NULL
};


typedef struct {
    ngx_wsman_call_t          *call;         /* NULL once the client left */
    ngx_wsman_wec_sub_t       *sub;
    ngx_wsman_wec_batch_t      batch;
    ngx_wsman_wec_store_t     *store;
    ngx_flag_t                 match_computer;

    ngx_int_t                  result;       /* NGX_OK, NGX_ERROR: not
                                                durable, NGX_DECLINED: a
                                                Computer not the source's */
    ngx_str_t                  claimed;      /* that Computer */
    ngx_uint_t                 malformed;

    ngx_wsman_wec_hold_t       hold;         /* keeps a graceful shutdown
                                                waiting */
    ngx_log_t                  log;
} ngx_wsman_wec_task_t;


static ngx_wsman_wec_sub_t *ngx_wsman_wec_find_sub(ngx_wsman_call_t *call);
static ngx_int_t ngx_wsman_wec_events(ngx_wsman_call_t *call,
    ngx_wsman_wec_sub_t *sub, ngx_str_t *machine);
static void ngx_wsman_wec_task_run(void *data, ngx_log_t *log);
static void ngx_wsman_wec_task_done(ngx_event_t *ev);
static ngx_int_t ngx_wsman_wec_computer_ok(ngx_str_t *source,
    ngx_str_t *computer);
static ngx_int_t ngx_wsman_wec_copy(ngx_pool_t *pool, ngx_str_t *dst,
    ngx_str_t *src);


ngx_int_t
ngx_wsman_wec_deliver(ngx_wsman_call_t *call)
{
    ngx_str_t                  machine, *action;
    ngx_wsman_node_t          *node;
    ngx_wsman_wec_sub_t       *sub;

    if (ngx_wsman_wec_enabled(call) == NULL) {
        return ngx_wsman_wec_off(call);
    }

    if (call->identity->scheme == 0 || call->identity->user.len == 0) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED,
                                    NULL);
    }

    sub = ngx_wsman_wec_find_sub(call);

    if (sub == NULL) {
        ngx_log_error(NGX_LOG_WARN, call->log, 0,
                      "wsman wec: \"%V\" from \"%V\" is for no "
                      "subscription here",
                      ngx_wsman_log_escape(call->pool, &call->req->to),
                      ngx_wsman_log_escape(call->pool,
                                           &call->identity->user));
        return ngx_wsman_call_fault(call,
                                    NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                                    "No such subscription.");
    }

    switch (ngx_wsman_wec_applies(call, sub)) {
    case NGX_OK:
        break;

    case NGX_DECLINED:
        ngx_log_error(NGX_LOG_WARN, call->log, 0,
                      "wsman wec: source \"%V\" is not one of subscription "
                      "\"%V\"'s: refused",
                      ngx_wsman_log_escape(call->pool,
                                           &call->identity->user),
                      &sub->name);
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED,
                                    NULL);

    default:
        return NGX_ERROR;
    }

    node = ngx_wsman_header_element(call->req, NGX_WSMAN_WEC_NS_MACHINEID,
                                    "MachineID");
    ngx_str_null(&machine);

    if (node && ngx_wsman_node_text(call->pool, node, &machine) != NGX_OK) {
        return NGX_ERROR;
    }

    action = &call->req->action;

    if (action->len == sizeof(NGX_WSMAN_ACTION_EVENTS) - 1
        && ngx_strncmp(action->data, NGX_WSMAN_ACTION_EVENTS,
                       action->len) == 0)
    {
        return ngx_wsman_wec_events(call, sub, &machine);
    }

    if (ngx_wsman_wec_note(sub, &call->identity->user, &machine,
                           call->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (action->len == sizeof(NGX_WSMAN_WEC_ACTION_HEARTBEAT) - 1
        && ngx_strncmp(action->data, NGX_WSMAN_WEC_ACTION_HEARTBEAT,
                       action->len) == 0)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, call->log, 0,
                       "wsman wec: heartbeat of \"%V\" for \"%V\"",
                       &call->identity->user, &sub->name);

        ngx_wsman_wec_count(sub, NULL, 0, 0);
        ngx_str_set(&call->action, NGX_WSMAN_WEC_ACTION_ACK);
        return NGX_OK;
    }

    /* SubscriptionEnd: the source gives up until its next refresh */
    ngx_log_error(NGX_LOG_WARN, call->log, 0,
                  "wsman wec: source \"%V\" (%V) ended subscription \"%V\"",
                  ngx_wsman_log_escape(call->pool, &call->identity->user),
                  ngx_wsman_log_escape(call->pool, &machine), &sub->name);

    /* an answer that names what it answers (a:RelatesTo) */
    ngx_str_set(&call->action, NGX_WSMAN_WEC_ACTION_ACK);

    return NGX_OK;
}


/* the subscription whose id ends a:To (.../subscriptions/<id>) */
static ngx_wsman_wec_sub_t *
ngx_wsman_wec_find_sub(ngx_wsman_call_t *call)
{
    u_char                     *p, *end, *id;
    ngx_uint_t                  i;
    ngx_wsman_wec_sub_t        *subs;
    ngx_wsman_wec_main_conf_t  *wmcf;

    p = call->req->to.data;
    end = p + call->req->to.len;

    id = ngx_strlcasestrn(p, end, (u_char *) NGX_WSMAN_WEC_SUBS_PATH,
                          sizeof(NGX_WSMAN_WEC_SUBS_PATH) - 1 - 1);
    if (id == NULL) {
        return NULL;
    }

    id += sizeof(NGX_WSMAN_WEC_SUBS_PATH) - 1;

    /* Windows keeps what follows the id (OpenWEC adds a revision) */
    if (end - id < NGX_WSMAN_WEC_UUID_LEN
        || (end - id > NGX_WSMAN_WEC_UUID_LEN
            && id[NGX_WSMAN_WEC_UUID_LEN] != '/'))
    {
        return NULL;
    }

    wmcf = ngx_wsman_plugin_main_conf(&ngx_wsman_wec_module);
    if (wmcf == NULL) {
        return NULL;
    }

    subs = wmcf->subs.elts;

    for (i = 0; i < wmcf->subs.nelts; i++) {
        if (ngx_strncasecmp(subs[i].id, id, NGX_WSMAN_WEC_UUID_LEN) == 0) {
            return &subs[i];
        }
    }

    return NULL;
}


static ngx_int_t
ngx_wsman_wec_events(ngx_wsman_call_t *call, ngx_wsman_wec_sub_t *sub,
    ngx_str_t *machine)
{
    size_t                      bytes;
    ngx_str_t                   text;
    ngx_uint_t                  n;
    ngx_pool_t                 *pool;
    ngx_thread_task_t          *task;
    ngx_wsman_node_t           *events, *node;
    ngx_wsman_wec_task_t       *t;
    ngx_wsman_wec_batch_t      *b;
    ngx_wsman_wec_loc_conf_t   *wlcf;
    ngx_wsman_wec_main_conf_t  *wmcf;

    wmcf = ngx_wsman_plugin_main_conf(&ngx_wsman_wec_module);
    wlcf = ngx_wsman_wec_enabled(call);

    events = ngx_wsman_body_payload(call->req);

    if (!ngx_wsman_node_is(events, NGX_WSMAN_NS_WSMAN, "Events")) {
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_SCHEMA_VALIDATION,
                                    "The body is not a w:Events.");
    }

    n = 0;

    for (node = ngx_wsman_node_child(events, NGX_WSMAN_NS_WSMAN, "Event");
         node;
         node = ngx_wsman_node_next(node, NGX_WSMAN_NS_WSMAN, "Event"))
    {
        n++;
    }

    if (n == 0) {
        /* an empty batch is a heartbeat */
        if (ngx_wsman_wec_note(sub, &call->identity->user, machine,
                               call->log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_str_set(&call->action, NGX_WSMAN_WEC_ACTION_ACK);
        return NGX_OK;
    }

    if (sub->outputs.nelts == 0) {
        /* acknowledging would lose them */
        ngx_log_error(NGX_LOG_ERR, call->log, 0,
                      "wsman wec: subscription \"%V\" has no output: %ui "
                      "event(s) of \"%V\" not acknowledged", &sub->name, n,
                      ngx_wsman_log_escape(call->pool,
                                           &call->identity->user));
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INTERNAL_ERROR,
                                    "The subscription has no output.");
    }

    /* the batch lives in a pool of its own: the request's may go away
     * while a thread still writes it */
    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    task = ngx_thread_task_alloc(pool, sizeof(ngx_wsman_wec_task_t));
    if (task == NULL) {
        goto failed;
    }

    t = task->ctx;
    ngx_memzero(t, sizeof(ngx_wsman_wec_task_t));

    t->call = call;
    t->sub = sub;
    t->store = wmcf->store.type ? &wmcf->store : NULL;
    /* either asks for it: a subscription's own holds at any location
     * the source may deliver to */
    t->match_computer = wlcf->match_computer || sub->match_computer;

    /* a log of our own: the connection's may be freed meanwhile */
    t->log = *ngx_cycle->log;
    t->log.connection = call->log->connection;

    b = &t->batch;
    b->pool = pool;
    b->log = &t->log;
    b->received = ngx_time();
    b->nevents = n;

    b->events = ngx_pcalloc(pool, n * sizeof(ngx_wsman_wec_event_t));
    if (b->events == NULL) {
        goto failed;
    }

    if (ngx_wsman_wec_copy(pool, &b->subscription, &sub->name) != NGX_OK
        || ngx_wsman_wec_copy(pool, &b->source, &call->identity->user)
           != NGX_OK
        || ngx_wsman_wec_copy(pool, &b->machine, machine) != NGX_OK
        || ngx_wsman_wec_copy(pool, &b->client_addr, &call->client_addr)
           != NGX_OK)
    {
        goto failed;
    }

    node = ngx_wsman_header_element(call->req, NGX_WSMAN_NS_WSMAN,
                                    "Bookmark");

    if (node && ngx_wsman_node_inner_xml(pool, node, &b->bookmark)
                != NGX_OK)
    {
        goto failed;
    }

    n = 0;
    bytes = 0;

    for (node = ngx_wsman_node_child(events, NGX_WSMAN_NS_WSMAN, "Event");
         node;
         node = ngx_wsman_node_next(node, NGX_WSMAN_NS_WSMAN, "Event"))
    {
        if (ngx_wsman_node_text(pool, node, &text) != NGX_OK) {
            goto failed;
        }

        b->events[n++].xml = text;
        bytes += text.len;
    }

    b->bytes = bytes;

    task->handler = ngx_wsman_wec_task_run;
    task->event.handler = ngx_wsman_wec_task_done;
    task->event.data = task;
    task->event.log = &t->log;

    if (ngx_thread_task_post(wmcf->thread_pool, task) != NGX_OK) {
        ngx_destroy_pool(pool);

        ngx_log_error(NGX_LOG_WARN, call->log, 0,
                      "wsman wec: the thread pool's queue is full: batch "
                      "of \"%V\" not acknowledged",
                      ngx_wsman_log_escape(call->pool,
                                           &call->identity->user));
        return ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INTERNAL_ERROR,
                                    "The collector is busy.");
    }

    ngx_wsman_wec_hold(&t->hold, "a batch", &b->source, &t->log);

    call->abort = ngx_wsman_wec_forget_call;
    call->abort_data = &t->call;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, call->log, 0,
                   "wsman wec: %ui event(s), %uz bytes, of \"%V\" posted",
                   b->nevents, b->bytes, &call->identity->user);

    return NGX_AGAIN;

failed:

    ngx_destroy_pool(pool);
    return NGX_ERROR;
}


/* in a pool thread */
static void
ngx_wsman_wec_task_run(void *data, ngx_log_t *log)
{
    ngx_wsman_wec_task_t *t = data;

    ngx_uint_t               i;
    ngx_wsman_wec_batch_t   *b;
    ngx_wsman_wec_event_t   *ev;
    ngx_wsman_wec_output_t  *out;

    b = &t->batch;
    t->result = NGX_ERROR;

    for (i = 0; i < b->nevents; i++) {
        ev = &b->events[i];

        if (ngx_wsman_wec_event_prepare(b, ev) != NGX_OK) {
            return;
        }

        if (ev->malformed) {
            t->malformed++;
        }

        if (t->match_computer
            && ngx_wsman_wec_computer_ok(&b->source, &ev->computer)
               != NGX_OK)
        {
            t->claimed = ev->computer;
            t->result = NGX_DECLINED;
            return;
        }
    }

    out = t->sub->outputs.elts;

    for (i = 0; i < t->sub->outputs.nelts; i++) {

        /* batches queue behind those already spooled: order is kept */
        if (out[i].spool == NULL
            || !ngx_wsman_wec_spool_waiting(&out[i], b->log))
        {
            if (out[i].type->write(&out[i], b) == NGX_OK) {
                ngx_wsman_wec_count_output(t->sub, i, 1);
                continue;
            }

            ngx_wsman_wec_count_output(t->sub, i, 0);
        }

        if (out[i].spool && ngx_wsman_wec_spool_write(&out[i], b) == NGX_OK) {
            ngx_wsman_wec_count_spooled(t->sub, i);

            ngx_log_error(NGX_LOG_WARN, b->log, 0,
                          "wsman wec: output %V \"%V\" is behind: %ui "
                          "event(s) of \"%V\" spooled",
                          &out[i].type->name, &out[i].target, b->nevents,
                          &b->source);
            continue;
        }

        ngx_log_error(NGX_LOG_ERR, b->log, 0,
                      "wsman wec: output %V \"%V\" failed: %ui "
                      "event(s) of \"%V\" for \"%V\" not acknowledged",
                      &out[i].type->name, &out[i].target, b->nevents,
                      &b->source, &b->subscription);
        return;
    }

    /* the bookmark moves only once every output has the events */
    if (t->store && t->store->type->save_batch(t->store, b) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, b->log, 0,
                      "wsman wec: state store %V failed: %ui event(s) of "
                      "\"%V\" for \"%V\" not acknowledged",
                      &t->store->type->name, b->nevents, &b->source,
                      &b->subscription);
        return;
    }

    t->result = NGX_OK;
}


/* back on the event loop */
static void
ngx_wsman_wec_task_done(ngx_event_t *ev)
{
    ngx_thread_task_t *task = ev->data;

    ngx_wsman_call_t      *call;
    ngx_wsman_wec_task_t  *t;

    t = task->ctx;
    call = t->call;

    ngx_wsman_wec_unhold(&t->hold);

    ngx_wsman_wec_count(t->sub, &t->batch, t->result == NGX_OK,
                        t->malformed);

    if (call == NULL) {
        ngx_log_error(NGX_LOG_INFO, &t->log, 0,
                      "wsman wec: the source left before its Ack: %ui "
                      "event(s) of \"%V\" will come again",
                      t->batch.nevents, &t->batch.source);
        ngx_destroy_pool(t->batch.pool);
        return;
    }

    call->abort = NULL;

    switch (t->result) {

    case NGX_OK:
        if (t->malformed) {
            ngx_log_error(NGX_LOG_WARN, call->log, 0,
                          "wsman wec: %ui malformed event(s) of \"%V\" "
                          "kept as received, flagged", t->malformed,
                          ngx_wsman_log_escape(call->pool,
                                               &call->identity->user));
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, call->log, 0,
                       "wsman wec: %ui event(s) of \"%V\" acknowledged",
                       t->batch.nevents, &call->identity->user);

        ngx_str_set(&call->action, NGX_WSMAN_WEC_ACTION_ACK);
        break;

    case NGX_DECLINED:
        ngx_log_error(NGX_LOG_WARN, call->log, 0,
                      "wsman wec: source \"%V\" sent an event of "
                      "Computer \"%V\" (wsman_wec_match_computer): batch "
                      "refused",
                      ngx_wsman_log_escape(call->pool,
                                           &call->identity->user),
                      ngx_wsman_log_escape(call->pool, &t->claimed));
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACCESS_DENIED,
                             "An event names another computer.");
        break;

    default:
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_INTERNAL_ERROR,
                             "The events could not be stored: send them "
                             "again later.");
    }

    ngx_destroy_pool(t->batch.pool);

    call->done(call, NGX_OK);
}


/*
 * wsman_wec_match_computer: an event's Computer belongs to the source
 * that sent it.  A machine account (WIN10$, WIN10$@REALM, DOMAIN\WIN10$)
 * owns the host WIN10 in any domain: win10, win10.example.com; any other
 * account (a certificate's mapped name, a Basic user) owns the computer
 * of its own name, or that name's host part.
 */
static ngx_int_t
ngx_wsman_wec_computer_ok(ngx_str_t *source, ngx_str_t *computer)
{
    u_char  *p, *name, *end, *dot;
    size_t   len;

    name = source->data;
    end = source->data + source->len;

    p = ngx_strlchr(name, end, '@');
    if (p) {
        end = p;
    }

    p = ngx_strlchr(name, end, '\\');
    if (p) {
        name = p + 1;
    }

    if (end > name && end[-1] == '$') {
        end--;
    }

    len = end - name;

    if (len == 0 || computer->len == 0) {
        return NGX_DECLINED;
    }

    if (computer->len == len
        && ngx_strncasecmp(computer->data, name, len) == 0)
    {
        return NGX_OK;
    }

    dot = ngx_strlchr(computer->data, computer->data + computer->len, '.');

    if (dot && (size_t) (dot - computer->data) == len
        && ngx_strncasecmp(computer->data, name, len) == 0)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_wsman_wec_copy(ngx_pool_t *pool, ngx_str_t *dst, ngx_str_t *src)
{
    dst->len = src->len;

    if (src->len == 0) {
        dst->data = (u_char *) "";
        return NGX_OK;
    }

    dst->data = ngx_pnalloc(pool, src->len);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src->data, src->len);

    return NGX_OK;
}
