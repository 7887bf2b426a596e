/*
 * Authentication: who is calling.  Default-deny: every path that does not
 * end in a verified identity ends in 401, and nothing maps a missing or
 * broken credential to a default identity.
 */

#ifndef _NGX_WSMAN_AUTH_H_INCLUDED_
#define _NGX_WSMAN_AUTH_H_INCLUDED_


#include "ngx_wsman_http.h"


/* longest Authorization header value we look at (Kerberos tickets with a
 * large PAC run to ~12k; anything beyond 64k is abuse) */
#define NGX_WSMAN_AUTH_MAX_HEADER   65536

/* raw NTLMSSP tokens start with this signature (no GSS framing) */
#define NGX_WSMAN_NTLMSSP   "NTLMSSP\0"

/* NEGOTIATE_MESSAGE with and without the optional Version field */
#define NGX_WSMAN_NTLM_NEGOTIATE_LEN     40
#define NGX_WSMAN_NTLM_NEGOTIATE_SHORT   32

#define NGX_WSMAN_AUTH_MUTUAL                                               \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"


typedef struct ngx_wsman_auth_s  ngx_wsman_auth_t;


/* which user file, as it is now: any edit or replacement changes this */
typedef struct {
    dev_t                      dev;
    ino_t                      ino;
    off_t                      size;
    struct timespec            mtime;
    struct timespec            ctime;
} ngx_wsman_basic_file_t;

typedef void (*ngx_wsman_auth_done_pt)(ngx_http_request_t *r,
    ngx_wsman_auth_t *auth, ngx_int_t rc);


/* the outcome of authenticating one request */
struct ngx_wsman_auth_s {
    ngx_wsman_identity_t       identity;
    ngx_str_t                  reply;          /* GSS token for the client */
    ngx_uint_t                 reply_scheme;   /* NEGOTIATE or KERBEROS */
    unsigned                   connection:1;   /* identity of the connection
                                                  (Negotiate, Kerberos) */
    unsigned                   resolved:1;     /* NSS asked in a thread */
    ngx_wsman_auth_done_pt     done;           /* thread pools (hash
                                                  check, PAM): finished
                                                  later */
    ngx_event_t                pending;        /* a task in a thread:
                                                  its timer holds a
                                                  graceful shutdown */
    ngx_queue_t                users_wait;     /* waits for a read of the
                                                  user file */
    unsigned                   users:1;        /* the user file's table is
                                                  current (or known
                                                  unreadable) */
};


ngx_int_t ngx_wsman_auth_split(ngx_str_t *header, ngx_str_t *scheme,
    ngx_str_t *token);
ngx_int_t ngx_wsman_auth_basic_decode(ngx_pool_t *pool, ngx_str_t *token,
    ngx_str_t *user, ngx_str_t *password);
ngx_int_t ngx_wsman_auth_scheme_parse(ngx_str_t *name, ngx_uint_t *scheme);
ngx_int_t ngx_wsman_ntlm_normalize(ngx_pool_t *pool, ngx_str_t *token);

/* nginx -t: what is wrong with a keytab for Windows clients (warnings) */
void ngx_wsman_keytab_check(ngx_conf_t *cf, ngx_str_t *file);

ngx_int_t ngx_wsman_authenticate(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_auth_t *auth);
ngx_int_t ngx_wsman_auth_challenge(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_auth_t *auth);
ngx_int_t ngx_wsman_auth_mutual(ngx_http_request_t *r,
    ngx_wsman_auth_t *auth);
ngx_int_t ngx_wsman_auth_groups(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_pool_t *pool,
    ngx_wsman_identity_t *identity);
ngx_int_t ngx_wsman_auth_post(ngx_http_request_t *r, ngx_wsman_auth_t *auth,
    ngx_thread_pool_t *pool, ngx_thread_task_t *task, const char *what,
    ngx_str_t *user);
void ngx_wsman_auth_task_done(ngx_http_request_t *r, ngx_wsman_auth_t *auth);
void ngx_wsman_auth_wait(ngx_http_request_t *r, ngx_wsman_auth_t *auth);
void ngx_wsman_auth_resume(ngx_http_request_t *r, ngx_wsman_auth_t *auth);

/* Basic against the user file, hashes checked in a thread pool
 * (src/auth/ngx_wsman_auth_basic.c) */
ngx_int_t ngx_wsman_basic_verify(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *user, ngx_str_t *password,
    ngx_wsman_auth_t *auth);
ngx_int_t ngx_wsman_auth_basic_checked(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *user, ngx_str_t *password,
    ngx_wsman_auth_t *auth, ngx_int_t rc);
ngx_int_t ngx_wsman_basic_users(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_auth_t *auth);
ngx_int_t ngx_wsman_basic_groups(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *file, ngx_wsman_identity_t *identity);
char *ngx_wsman_basic_check_file(ngx_conf_t *cf, ngx_str_t *file);
void ngx_wsman_basic_stat(ngx_str_t *file, ngx_wsman_basic_file_t *sig);
ngx_int_t ngx_wsman_basic_spelling(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *file, ngx_str_t *name, ngx_str_t *spelling);

/* Basic against PAM, in a thread pool (src/auth/ngx_wsman_auth_pam.c) */
ngx_int_t ngx_wsman_pam_verify(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *user, ngx_str_t *password,
    ngx_wsman_auth_t *auth);

/* client certificates (src/auth/ngx_wsman_auth_cert.c) */
ngx_int_t ngx_wsman_cert_authenticate(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_identity_t *identity);
char *ngx_wsman_cert_map_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_WSMAN_AUTH_H_INCLUDED_ */
