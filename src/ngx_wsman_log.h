/*
 * Log hygiene: values that come from the client (actions, URIs, user
 * names) are escaped before they reach the error log, so a request can
 * never forge or split a log line.
 */

#ifndef _NGX_WSMAN_LOG_H_INCLUDED_
#define _NGX_WSMAN_LOG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* longest client value quoted in a log line; the rest becomes "..." */
#define NGX_WSMAN_LOG_MAX   256


ngx_str_t *ngx_wsman_log_escape(ngx_pool_t *pool, ngx_str_t *src);


#endif /* _NGX_WSMAN_LOG_H_INCLUDED_ */
