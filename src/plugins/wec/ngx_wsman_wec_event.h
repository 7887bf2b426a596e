/*
 * Events made ready for the outputs (ngx_wsman_wec_event.c), and the
 * JSON string writer the outputs may share.
 */

#ifndef _NGX_WSMAN_WEC_EVENT_H_INCLUDED_
#define _NGX_WSMAN_WEC_EVENT_H_INCLUDED_


#include "ngx_wsman_wec_sink.h"


/* in a pool thread: ev->xml read into its fields and ev->json written
 * (an event that is not well-formed is flagged, not refused) */
ngx_int_t ngx_wsman_wec_event_prepare(ngx_wsman_wec_batch_t *b,
    ngx_wsman_wec_event_t *ev);

/* s as a JSON string, quotes included: at most 2 + 6 * s->len bytes (p
 * must have them all: bytes past the end returned may be scratch) */
u_char *ngx_wsman_wec_json_string(u_char *p, ngx_str_t *s);


#endif /* _NGX_WSMAN_WEC_EVENT_H_INCLUDED_ */
