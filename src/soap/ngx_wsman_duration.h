/*
 * xs:duration (PnYnMnDTnHnMnS) as used by w:OperationTimeout, IdleTimeOut
 * and friends.  Pure functions: no pool, no log, unit tested.
 */

#ifndef _NGX_WSMAN_DURATION_H_INCLUDED_
#define _NGX_WSMAN_DURATION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* longest text ngx_wsman_duration_format() writes */
#define NGX_WSMAN_DURATION_LEN   (sizeof("PT.000S") - 1 + NGX_INT64_LEN)

/* values beyond this are clamped: they only ever meet a smaller cap */
#define NGX_WSMAN_DURATION_MAX   ((uint64_t) 0x7fffffff * 1000)

ngx_int_t ngx_wsman_duration_parse(const u_char *p, size_t len,
    uint64_t *msec);
u_char *ngx_wsman_duration_format(u_char *buf, uint64_t msec);


#endif /* _NGX_WSMAN_DURATION_H_INCLUDED_ */
