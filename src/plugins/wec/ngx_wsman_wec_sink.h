/*
 * Where forwarded events go: outputs (files, syslog, Redis, Kafka) and
 * the state store (bookmarks and when each source was last heard of).
 *
 * Threads.  Everything here that does I/O runs in a thread of the
 * collector's nginx thread pool (wsman_wec_thread_pool), never on the
 * event loop.  A worker hands a whole batch to one thread task; the task
 * writes it to every output of the subscription, then stores the
 * bookmark, then the worker answers Ack.  Two tasks of one worker may run
 * at once (two sources): an output that keeps a connection holds
 * out->lock while it uses it.  Several workers write the same outputs at
 * once, each with connections of its own.
 *
 * Memory.  A task allocates from batch->pool (its own pool: the request's
 * is never touched from a thread) or with malloc for what outlives the
 * batch (connections).  Logging from a thread with ngx_log_error() on
 * batch->log is what nginx's own thread tasks do.
 */

#ifndef _NGX_WSMAN_WEC_SINK_H_INCLUDED_
#define _NGX_WSMAN_WEC_SINK_H_INCLUDED_


#include "ngx_wsman.h"

#include <pthread.h>


/* one forwarded event, ready for every output */
typedef struct {
    ngx_str_t                  xml;          /* the Event document, UTF-8,
                                                as the source rendered it */
    ngx_str_t                  json;         /* one JSON object, no
                                                newline: the System
                                                fields, the source, the
                                                subscription and "xml" */
    ngx_str_t                  computer;     /* System/Computer */
    ngx_str_t                  channel;      /* System/Channel */
    ngx_str_t                  provider;     /* System/Provider/@Name */
    ngx_str_t                  time_created; /* .../@SystemTime */
    ngx_uint_t                 event_id;
    uint64_t                   record_id;
    ngx_uint_t                 level;
    unsigned                   malformed:1;  /* not well-formed XML (kept
                                                raw, flagged in json) */
} ngx_wsman_wec_event_t;


/* one Events message of one source */
typedef struct {
    ngx_pool_t                *pool;         /* the task's own */
    ngx_log_t                 *log;

    ngx_str_t                  subscription; /* its name */
    ngx_str_t                  source;       /* the authenticated
                                                principal (mapped account) */
    ngx_str_t                  machine;      /* m:MachineID, as claimed */
    ngx_str_t                  client_addr;
    ngx_str_t                  bookmark;     /* BookmarkList XML, or empty */
    time_t                     received;

    ngx_wsman_wec_event_t     *events;
    ngx_uint_t                 nevents;
    size_t                     bytes;        /* of the events' XML */
} ngx_wsman_wec_batch_t;


typedef struct ngx_wsman_wec_output_s  ngx_wsman_wec_output_t;
typedef struct ngx_wsman_wec_spool_s   ngx_wsman_wec_spool_t;

/* an output kind: "json_file", "xml_file", "syslog", "redis", "kafka" */
typedef struct {
    ngx_str_t                  name;

    /*
     * nginx -t: the words after the kind in `output KIND ...;`
     * (args[0] is the kind).  Parse into out->conf (allocated from
     * cf->pool); log with ngx_conf_log_error() and return NGX_CONF_ERROR
     * on a bad value.
     */
    char                    *(*configure)(ngx_conf_t *cf,
                                          ngx_wsman_wec_output_t *out,
                                          ngx_str_t *args, ngx_uint_t nargs);

    /*
     * In a pool thread: make the batch durable, or fail.  NGX_OK only
     * when every event of the batch is where this output promises it
     * (a file fsync'd, a Kafka delivery report, a Redis reply, a syslog
     * server's TCP stream without error); NGX_ERROR otherwise, with a
     * log line saying why.  A batch with no events never comes here.
     */
    ngx_int_t                (*write)(ngx_wsman_wec_output_t *out,
                                      ngx_wsman_wec_batch_t *batch);

    /* in the worker: nginx -s reopen (files), and the worker's exit
     * (drop connections, free what write() kept); may be NULL */
    void                     (*reopen)(ngx_wsman_wec_output_t *out);
    void                     (*close)(ngx_wsman_wec_output_t *out);
} ngx_wsman_wec_output_type_t;


struct ngx_wsman_wec_output_s {
    ngx_wsman_wec_output_type_t  *type;
    ngx_str_t                  target;       /* args[1]: for log lines */
    void                      *conf;         /* the kind's, from
                                                configure() */
    void                      *state;        /* the kind's, per worker:
                                                connections, files */
    pthread_mutex_t            lock;         /* held around state */
    ngx_wsman_wec_spool_t     *spool;        /* spool=DIR, or NULL: the
                                                delivery path's business,
                                                never the kind's */
};


extern ngx_wsman_wec_output_type_t  ngx_wsman_wec_json_file_output;
extern ngx_wsman_wec_output_type_t  ngx_wsman_wec_xml_file_output;
extern ngx_wsman_wec_output_type_t  ngx_wsman_wec_syslog_output;
extern ngx_wsman_wec_output_type_t  ngx_wsman_wec_redis_output;
extern ngx_wsman_wec_output_type_t  ngx_wsman_wec_kafka_output;


/* one subscription x source row of the state store */
typedef struct {
    ngx_str_t                  subscription;
    ngx_str_t                  source;
    ngx_str_t                  machine;
    ngx_str_t                  bookmark;     /* empty: none yet */
    time_t                     first_seen;
    time_t                     last_seen;    /* any message */
    time_t                     last_event;   /* 0: none yet */
    time_t                     last_heartbeat;
    uint64_t                   events;       /* acknowledged so far */
} ngx_wsman_wec_source_t;


typedef struct ngx_wsman_wec_store_s  ngx_wsman_wec_store_t;

/*
 * The state store: "sqlite:/path/state.db" (the default, one file for
 * every worker) or "postgresql:conninfo" (several collectors share it).
 * Every function runs in a pool thread and holds store->lock around the
 * worker's connection, which it opens on first use and again after an
 * error.  NGX_OK or NGX_ERROR (logged).
 */
typedef struct {
    ngx_str_t                  name;         /* "sqlite", "postgresql" */

    /* nginx -t: check the address (not connect); store->conf */
    char                    *(*configure)(ngx_conf_t *cf,
                                          ngx_wsman_wec_store_t *store,
                                          ngx_str_t *address);

    /* after every output took the batch: bookmark, last_event, events,
     * last_seen; creates the row when new */
    ngx_int_t                (*save_batch)(ngx_wsman_wec_store_t *store,
                                           ngx_wsman_wec_batch_t *batch);

    /* many sources' heartbeats (and SubscriptionEnd) in one transaction:
     * last_seen, last_heartbeat (rows created when new) */
    ngx_int_t                (*save_heartbeats)(ngx_wsman_wec_store_t *store,
                                                ngx_wsman_wec_source_t *rows,
                                                ngx_uint_t n, ngx_log_t *log);

    /* the bookmark of one source, allocated from pool; empty: none */
    ngx_int_t                (*load_bookmark)(ngx_wsman_wec_store_t *store,
                                              ngx_str_t *subscription,
                                              ngx_str_t *source,
                                              ngx_pool_t *pool,
                                              ngx_str_t *bookmark,
                                              ngx_log_t *log);

    /* every row (for the metrics): an array of ngx_wsman_wec_source_t
     * allocated from pool */
    ngx_int_t                (*list)(ngx_wsman_wec_store_t *store,
                                     ngx_pool_t *pool, ngx_array_t **rows,
                                     ngx_log_t *log);

    void                     (*close)(ngx_wsman_wec_store_t *store);
} ngx_wsman_wec_store_type_t;


struct ngx_wsman_wec_store_s {
    ngx_wsman_wec_store_type_t  *type;
    ngx_str_t                  address;      /* after the "kind:" */
    void                      *conf;
    void                      *state;        /* the worker's connection */
    pthread_mutex_t            lock;
};


extern ngx_wsman_wec_store_type_t  ngx_wsman_wec_sqlite_store;
extern ngx_wsman_wec_store_type_t  ngx_wsman_wec_postgresql_store;


#endif /* _NGX_WSMAN_WEC_SINK_H_INCLUDED_ */
