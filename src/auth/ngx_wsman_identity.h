/*
 * Identities as Windows sees them: a local user plus SIDs.  Everyone
 * authenticated holds WD (Everyone), AU (Authenticated Users) and NU
 * (Network); wsman_group_sid adds SIDs for Unix groups of the local
 * account and for groups named in the user file.
 */

#ifndef _NGX_WSMAN_IDENTITY_H_INCLUDED_
#define _NGX_WSMAN_IDENTITY_H_INCLUDED_


#include "ngx_wsman.h"
#include "ngx_wsman_sddl.h"


/* wsman_group_sid GROUP SID; */
typedef struct {
    ngx_str_t                  group;
    ngx_gid_t                  gid;             /* when a Unix group */
    ngx_wsman_sid_t            sid;
    unsigned                   unix_group:1;
} ngx_wsman_group_sid_t;


ngx_int_t ngx_wsman_machine_sid(ngx_conf_t *cf, ngx_wsman_sid_t *sid);
ngx_int_t ngx_wsman_identity_sids(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_identity_t *identity,
    ngx_array_t *sids);
ngx_int_t ngx_wsman_identity_ntlm_account(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *name, ngx_str_t *account);
ngx_int_t ngx_wsman_identity_passwd_name(ngx_pool_t *pool, ngx_str_t *name,
    ngx_str_t *account);


#endif /* _NGX_WSMAN_IDENTITY_H_INCLUDED_ */
