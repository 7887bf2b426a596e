/*
 * The wec plug-in: a Windows Event Collector.  Sources (Windows machines
 * with a SubscriptionManager policy) enumerate the subscriptions that
 * apply to them at /wsman/SubscriptionManager/WEC.
 */

#ifndef _NGX_WSMAN_WEC_H_INCLUDED_
#define _NGX_WSMAN_WEC_H_INCLUDED_


#include "ngx_wsman_plugin.h"
#include "ngx_wsman_wec_sink.h"


#define NGX_WSMAN_WEC_UUID_LEN  36


/* one wsman_wec_subscription block */
typedef struct {
    ngx_str_t                  name;
    ngx_str_t                  query;        /* the QueryList, verbatim */
    ngx_str_t                  locale;
    ngx_uint_t                 raw;          /* content_format Raw */
    ngx_flag_t                 read_existing;
    ngx_flag_t                 ignore_channel_error;
    ngx_flag_t                 match_computer; /* wherever it arrives */
    time_t                     max_time;     /* seconds */
    time_t                     heartbeat;    /* seconds */
    ngx_uint_t                 max_items;    /* 0: not sent */
    ngx_uint_t                 delivery;     /* a preset was named */
    ngx_array_t               *sources;      /* ngx_str_t, NUL-terminated;
                                                NULL: every source */
    ngx_array_t               *thumbprints;  /* ngx_str_t, 40 hex digits:
                                                the issuers of client
                                                certificates (HTTPS) */
    ngx_array_t                outputs;      /* ngx_wsman_wec_output_t */
    ngx_uint_t                 index;        /* in the main conf's subs */
    /* the subscription's address part, from its name: stable */
    u_char                     id[NGX_WSMAN_WEC_UUID_LEN];
} ngx_wsman_wec_sub_t;


typedef struct {
    ngx_array_t                subs;         /* ngx_wsman_wec_sub_t */
    ngx_wsman_wec_store_t      store;        /* wsman_wec_store */
    ngx_str_t                  pool_name;    /* wsman_wec_thread_pool */
    void                      *thread_pool;  /* ngx_thread_pool_t */
    ngx_msec_t                 flush;        /* wsman_wec_heartbeat_flush */
    ngx_shm_zone_t            *counters;     /* the metrics, every worker's */
} ngx_wsman_wec_main_conf_t;


/* an output's spool (ngx_wsman_wec_spool.c) */
struct ngx_wsman_wec_spool_s {
    ngx_str_t                  dir;
    off_t                      max;          /* spool_size */
};


typedef struct {
    ngx_flag_t                 enable;       /* wsman_wec */
    ngx_flag_t                 match_computer; /* wsman_wec_match_computer */
} ngx_wsman_wec_loc_conf_t;


extern ngx_module_t           ngx_wsman_wec_module;
/* the output kinds and store kinds this build knows, NULL-terminated */
extern ngx_wsman_wec_output_type_t  *ngx_wsman_wec_output_types[];
extern ngx_wsman_wec_store_type_t   *ngx_wsman_wec_store_types[];
extern ngx_wsman_plugin_t    *ngx_wsman_wec_services[];
/* the subscriptions a source enumerates, as a class of the engine */
extern ngx_wsman_provider_t  *ngx_wsman_wec_providers[];

/* the EventLog service's actions that come without a w:ResourceURI */
extern const char            *ngx_wsman_wec_deliveries[];

/* a GUID made of the SHA-256 of data, upper case, no "uuid:" */
ngx_int_t ngx_wsman_wec_uuid(u_char *out, u_char *data, size_t len);


/* the location serves event collection (NULL: wsman_wec off) */
ngx_wsman_wec_loc_conf_t *ngx_wsman_wec_enabled(ngx_wsman_call_t *call);
/* the fault (and log line) of a wec request where wsman_wec is off */
ngx_int_t ngx_wsman_wec_off(ngx_wsman_call_t *call);
/* the subscription is for the call's source: NGX_OK, NGX_DECLINED */
ngx_int_t ngx_wsman_wec_applies(ngx_wsman_call_t *call,
    ngx_wsman_wec_sub_t *sub);

/* call->abort of a call a thread task answers (abort_data: the task's
 * pointer to the call) */
void ngx_wsman_wec_forget_call(ngx_wsman_call_t *call);

/*
 * A graceful shutdown (nginx -s quit) lets a worker go once it has no
 * timer left but cancelable ones, and a call a thread task answers has
 * none: the task's hold is such a timer, set once the task is posted,
 * deleted when it is back, so that the worker stays to answer.  After
 * NGX_WSMAN_WEC_HOLD ms it says what it still waits for and lets go.
 */
#define NGX_WSMAN_WEC_HOLD  60000

typedef struct {
    ngx_event_t                event;
    const char                *what;         /* "a batch", ... */
    ngx_str_t                 *source;       /* whose: the task's copy */
} ngx_wsman_wec_hold_t;

void ngx_wsman_wec_hold(ngx_wsman_wec_hold_t *hold, const char *what,
    ngx_str_t *source, ngx_log_t *log);
void ngx_wsman_wec_unhold(ngx_wsman_wec_hold_t *hold);

/* Events, Heartbeat, SubscriptionEnd (ngx_wsman_wec_delivery.c) */
ngx_int_t ngx_wsman_wec_deliver(ngx_wsman_call_t *call);

/*
 * The worker's side (ngx_wsman_wec_state.c): sources heard of since the
 * last flush to the state store, the shared counters behind the metrics.
 */
ngx_int_t ngx_wsman_wec_note(ngx_wsman_wec_sub_t *sub, ngx_str_t *source,
    ngx_str_t *machine, ngx_log_t *log);
/* a batch (b NULL: a heartbeat), acknowledged or not */
void ngx_wsman_wec_count(ngx_wsman_wec_sub_t *sub, ngx_wsman_wec_batch_t *b,
    ngx_uint_t acked, ngx_uint_t malformed);
/* in a pool thread too: output i of sub took a batch, or failed */
void ngx_wsman_wec_count_output(ngx_wsman_wec_sub_t *sub, ngx_uint_t i,
    ngx_uint_t ok);
ngx_int_t ngx_wsman_wec_counters_zone(ngx_conf_t *cf,
    ngx_wsman_wec_main_conf_t *wmcf);
ngx_int_t ngx_wsman_wec_init_worker(ngx_cycle_t *cycle);
void ngx_wsman_wec_exit_worker(ngx_cycle_t *cycle);
void ngx_wsman_wec_reopen(void);

/* spool=, spool_size= (taken out of args), in a thread: does the spool
 * hold batches, write one into it; the replay timer of a worker */
char *ngx_wsman_wec_spool_conf(ngx_conf_t *cf, ngx_wsman_wec_output_t *out,
    ngx_str_t *args, ngx_uint_t *nargs);
ngx_int_t ngx_wsman_wec_spool_waiting(ngx_wsman_wec_output_t *out,
    ngx_log_t *log);
ngx_int_t ngx_wsman_wec_spool_write(ngx_wsman_wec_output_t *out,
    ngx_wsman_wec_batch_t *b);
void ngx_wsman_wec_spool_start(ngx_cycle_t *cycle,
    ngx_wsman_wec_main_conf_t *wmcf);
/* a spool file's bytes (ngx_wsman_wec_spool_fmt.c, no I/O): at most
 * size() of them, written by format(); parse() reads them back into b
 * (strings pointing into data, events with their xml only): NGX_OK,
 * NGX_DECLINED (a damaged file), NGX_ERROR (no memory) */
size_t ngx_wsman_wec_spool_size(ngx_wsman_wec_batch_t *b);
u_char *ngx_wsman_wec_spool_format(u_char *p, ngx_wsman_wec_batch_t *b);
ngx_int_t ngx_wsman_wec_spool_parse(ngx_pool_t *pool, u_char *data,
    size_t len, ngx_wsman_wec_batch_t *b);
/* output i of sub put a batch into its spool */
void ngx_wsman_wec_count_spooled(ngx_wsman_wec_sub_t *sub, ngx_uint_t i);

/* the metrics as JSON: NGX_AGAIN (done(data, json) follows), or an
 * error */
typedef void (*ngx_wsman_wec_metrics_pt)(void *data, ngx_int_t rc,
    ngx_str_t *json);
ngx_int_t ngx_wsman_wec_metrics(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_wec_metrics_pt done, void *data);

extern ngx_atomic_t           ngx_wsman_wec_file_generation;


#endif /* _NGX_WSMAN_WEC_H_INCLUDED_ */
