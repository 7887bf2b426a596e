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
    /* the subscription's address part, from its name: stable */
    u_char                     id[NGX_WSMAN_WEC_UUID_LEN];
} ngx_wsman_wec_sub_t;


typedef struct {
    ngx_array_t                subs;         /* ngx_wsman_wec_sub_t */
    ngx_wsman_wec_store_t      store;        /* wsman_wec_store */
    ngx_str_t                  pool_name;    /* wsman_wec_thread_pool */
    void                      *thread_pool;  /* ngx_thread_pool_t */
    ngx_msec_t                 flush;        /* wsman_wec_heartbeat_flush */
} ngx_wsman_wec_main_conf_t;


typedef struct {
    ngx_flag_t                 enable;       /* wsman_wec */
    ngx_flag_t                 match_computer; /* wsman_wec_match_computer */
} ngx_wsman_wec_loc_conf_t;


extern ngx_module_t           ngx_wsman_wec_module;
/* the output kinds and store kinds this build knows, NULL-terminated */
extern ngx_wsman_wec_output_type_t  *ngx_wsman_wec_output_types[];
extern ngx_wsman_wec_store_type_t   *ngx_wsman_wec_store_types[];
extern ngx_wsman_plugin_t    *ngx_wsman_wec_services[];

/* a GUID made of the SHA-256 of data, upper case, no "uuid:" */
ngx_int_t ngx_wsman_wec_uuid(u_char *out, u_char *data, size_t len);


#endif /* _NGX_WSMAN_WEC_H_INCLUDED_ */
