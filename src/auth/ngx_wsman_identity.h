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


#define NGX_WSMAN_MAX_GROUPS      256
#define NGX_WSMAN_ACCOUNT_NAME    256


/*
 * What NSS says about a name (getpwnam_r, getgrouplist).  Filled by
 * ngx_wsman_account_resolve(), which may block (LDAP, sssd) and so runs
 * in a thread pool where it can; each worker remembers the answer for a
 * short while.
 */
typedef struct {
    size_t                     name_len;        /* as asked */
    u_char                     name[NGX_WSMAN_ACCOUNT_NAME];
    size_t                     pw_name_len;     /* as passwd spells it */
    u_char                     pw_name[NGX_WSMAN_ACCOUNT_NAME];
    ngx_uid_t                  uid;
    ngx_gid_t                  gid;
    int                        ngroups;
    ngx_gid_t                  groups[NGX_WSMAN_MAX_GROUPS];
    unsigned                   found:1;
    unsigned                   truncated:1;     /* more groups than fit */
    unsigned                   valid:1;         /* resolved at all */
} ngx_wsman_account_t;


void ngx_wsman_account_resolve(ngx_str_t *name, ngx_wsman_account_t *a);
void ngx_wsman_account_put(ngx_log_t *log, ngx_wsman_account_t *a);
ngx_wsman_account_t *ngx_wsman_account_get(ngx_log_t *log, ngx_str_t *name);
ngx_uint_t ngx_wsman_account_known(ngx_str_t *name);

ngx_int_t ngx_wsman_machine_sid(ngx_conf_t *cf, ngx_wsman_sid_t *sid);
ngx_int_t ngx_wsman_identity_sids(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_identity_t *identity,
    ngx_array_t *sids);
ngx_int_t ngx_wsman_identity_restore(ngx_pool_t *pool,
    ngx_wsman_identity_t *identity, void *conf, ngx_wsman_sid_t *sids,
    ngx_uint_t nsids, ngx_str_t *groups);
ngx_int_t ngx_wsman_identity_ntlm_account(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *name, ngx_str_t *account);
ngx_int_t ngx_wsman_identity_passwd_name(ngx_pool_t *pool, ngx_str_t *name,
    ngx_str_t *account);


#endif /* _NGX_WSMAN_IDENTITY_H_INCLUDED_ */
