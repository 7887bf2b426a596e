/*
 * WinRM listeners (ngx_wsman_listener_t): found at configuration, read
 * by whoever shows them.
 */

#ifndef _NGX_WSMAN_LISTENER_H_INCLUDED_
#define _NGX_WSMAN_LISTENER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the running cycle's listeners (ngx_wsman_listener_t), sorted by
 * ListeningOn; NULL: none */
ngx_array_t *ngx_wsman_listeners(void);


#endif /* _NGX_WSMAN_LISTENER_H_INCLUDED_ */
