/*
 * Who is calling: pick the scheme of the Authorization header (or the
 * connection's Negotiate identity) and verify it.  Anything else is 401.
 */

#include "ngx_wsman_auth.h"
#include "ngx_wsman_gss.h"
#include "ngx_wsman_identity.h"
#include "ngx_wsman_log.h"


static ngx_int_t ngx_wsman_auth_basic(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *token, ngx_wsman_auth_t *auth);
static ngx_int_t ngx_wsman_auth_gss(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_uint_t scheme, ngx_str_t *token,
    ngx_wsman_auth_t *auth);
static ngx_int_t ngx_wsman_auth_certificate(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_auth_t *auth);
static ngx_int_t ngx_wsman_auth_gss_done(ngx_http_request_t *r,
    ngx_wsman_conn_t *conn, ngx_wsman_auth_t *auth, ngx_uint_t scheme,
    ngx_int_t rc);
static ngx_int_t ngx_wsman_auth_account(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_conn_t *conn,
    ngx_wsman_auth_t *auth, ngx_uint_t scheme);
static ngx_int_t ngx_wsman_auth_nss(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_conn_t *conn,
    ngx_wsman_auth_t *auth, ngx_uint_t scheme);
static void ngx_wsman_auth_nss_thread(void *data, ngx_log_t *log);
static void ngx_wsman_auth_nss_done(ngx_event_t *ev);
static void ngx_wsman_auth_overdue(ngx_event_t *ev);

/* how long a graceful shutdown waits for a task of authentication */
#define NGX_WSMAN_AUTH_TASK_WAIT   60000


/* at most: the name, the user file's spelling, the lower case */
#define NGX_WSMAN_AUTH_NSS_NAMES   3

/* NSS look-ups of an identity on their way through the thread pool */
typedef struct {
    ngx_http_request_t        *request;
    ngx_wsman_auth_t          *auth;
    ngx_uint_t                 scheme;         /* the scheme just proved,
                                                  0: the connection's */
    ngx_uint_t                 nnames;
    ngx_str_t                  names[NGX_WSMAN_AUTH_NSS_NAMES];
    ngx_uint_t                 naccounts;
    ngx_wsman_account_t        accounts[2 * NGX_WSMAN_AUTH_NSS_NAMES];
} ngx_wsman_auth_nss_task_t;


/* a connection's identity as resolved for a location, kept on the
 * connection while the user file stays the same; the SIDs, then the user
 * and the groups follow it */
typedef struct {
    ngx_wsman_loc_conf_t      *conf;
    ngx_wsman_basic_file_t     file;
    time_t                     expire;
    ngx_uint_t                 nsids;
    ngx_wsman_sid_t           *sids;
    ngx_str_t                  user;
    ngx_str_t                  groups;
} ngx_wsman_auth_resolved_t;

/* as Basic's cache (ngx_wsman_auth_basic.c): Unix groups within a minute,
 * a file changed this recently is read again on each request */
#define NGX_WSMAN_AUTH_RESOLVED_TIME     60
#define NGX_WSMAN_AUTH_RESOLVED_SETTLE   2


ngx_int_t
ngx_wsman_authenticate(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_auth_t *auth)
{
    ngx_int_t          rc;
    ngx_str_t          scheme, token;
    ngx_uint_t         id;
    ngx_wsman_conn_t  *conn;

    if (r->headers_in.authorization == NULL) {

        /* Negotiate and Kerberos authenticate the connection, not each
         * request */
        conn = ngx_wsman_conn(r->connection, 0);

        /* an NTLM connection only where Negotiate may be NTLM */
        if (conn && conn->established && (lcf->auth & conn->scheme)
            && (conn->krb5 || lcf->negotiate_ntlm))
        {
            /* the user file as it is now (read in a thread if changed):
             * NGX_AGAIN, ngx_wsman_auth_resume() starts over */
            rc = ngx_wsman_basic_users(r, lcf, auth);
            if (rc != NGX_OK) {
                return rc;
            }

            auth->connection = 1;
            return ngx_wsman_auth_account(r, lcf, conn, auth, 0);
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: no credentials from %V",
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    if (r->headers_in.authorization->value.len > NGX_WSMAN_AUTH_MAX_HEADER
        || ngx_wsman_auth_split(&r->headers_in.authorization->value,
                                &scheme, &token) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: malformed Authorization header from %V",
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    /* every scheme may need the user file: current for this request */
    rc = ngx_wsman_basic_users(r, lcf, auth);
    if (rc != NGX_OK) {
        return rc;
    }

    /* the certificate profile names itself instead of a scheme */
    if (token.len == 0
        && scheme.len == sizeof(NGX_WSMAN_AUTH_MUTUAL) - 1
        && ngx_strncmp(scheme.data, NGX_WSMAN_AUTH_MUTUAL, scheme.len) == 0)
    {
        return ngx_wsman_auth_certificate(r, lcf, auth);
    }

    if (ngx_wsman_auth_scheme_parse(&scheme, &id) != NGX_OK
        || id == NGX_WSMAN_AUTH_CERTIFICATE
        || !(lcf->auth & id))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: authentication scheme \"%V\" from %V is not "
                      "enabled", ngx_wsman_log_escape(r->pool, &scheme),
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    if (id == NGX_WSMAN_AUTH_BASIC) {
        return ngx_wsman_auth_basic(r, lcf, &token, auth);
    }

    return ngx_wsman_auth_gss(r, lcf, id, &token, auth);
}


static ngx_int_t
ngx_wsman_auth_basic(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_str_t *token, ngx_wsman_auth_t *auth)
{
    ngx_int_t   rc;
    ngx_str_t   user, password;

    rc = ngx_wsman_auth_basic_decode(r->pool, token, &user, &password);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: malformed Basic credentials from %V",
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    /* AllowUnencrypted=false: no clear-text password over plain HTTP */
    if (!lcf->allow_unencrypted
        && !ngx_wsman_connection_is_tls(r->connection))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: Basic authentication of user \"%V\" from %V "
                      "refused: unencrypted HTTP is not allowed "
                      "(wsman_allow_unencrypted off)",
                      ngx_wsman_log_escape(r->pool, &user),
                      &r->connection->addr_text);
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    if (lcf->user_file.len) {
        rc = ngx_wsman_basic_verify(r, lcf, &user, &password, auth);

        /* the hash is checked in a thread: the answer comes later */
        if (rc != NGX_DECLINED && rc != NGX_OK) {
            return rc;
        }
    }

    return ngx_wsman_auth_basic_checked(r, lcf, &user, &password, auth, rc);
}


/*
 * After the user file said rc (now or from its thread): PAM is asked
 * about a user the file does not verify.
 */
ngx_int_t
ngx_wsman_auth_basic_checked(ngx_http_request_t *r,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *user, ngx_str_t *password,
    ngx_wsman_auth_t *auth, ngx_int_t rc)
{
    /* PAM answers later, from its thread */
    if (rc == NGX_DECLINED && lcf->pam_service.len) {
        return ngx_wsman_pam_verify(r, lcf, user, password, auth);
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: Basic authentication of user \"%V\" from %V "
                      "failed", ngx_wsman_log_escape(r->pool, user),
                      &r->connection->addr_text);
    }

    return rc;
}


static ngx_int_t
ngx_wsman_auth_gss(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_uint_t scheme, ngx_str_t *token, ngx_wsman_auth_t *auth)
{
    ngx_int_t          rc;
    ngx_wsman_conn_t  *conn;

    rc = ngx_wsman_gss_accept(r, lcf, scheme, token, &auth->reply);
    auth->reply_scheme = scheme;

    if (rc == NGX_AGAIN) {
        /* the next leg of the handshake travels in the 401 */
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    conn = ngx_wsman_conn(r->connection, 0);

    auth->connection = 1;

    rc = ngx_wsman_auth_account(r, lcf, conn, auth, scheme);

    if (rc == NGX_AGAIN) {
        /* NSS is asked in a thread; ngx_wsman_auth_nss_done() goes on */
        return NGX_AGAIN;
    }

    return ngx_wsman_auth_gss_done(r, conn, auth, scheme, rc);
}


static ngx_int_t
ngx_wsman_auth_gss_done(ngx_http_request_t *r, ngx_wsman_conn_t *conn,
    ngx_wsman_auth_t *auth, ngx_uint_t scheme, ngx_int_t rc)
{
    if (rc != NGX_OK) {
        /* a proved name without an account is no identity */
        ngx_wsman_conn_reset(conn);
        ngx_str_null(&auth->reply);
        return rc;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsman: %s authentication of user \"%V\" from %V",
                  scheme == NGX_WSMAN_AUTH_KERBEROS ? "Kerberos"
                                                    : "Negotiate",
                  ngx_wsman_log_escape(r->pool, &auth->identity.user),
                  &r->connection->addr_text);

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_auth_certificate(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_auth_t *auth)
{
    ngx_int_t  rc;

    if (!(lcf->auth & NGX_WSMAN_AUTH_CERTIFICATE)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsman: certificate authentication from %V is not "
                      "enabled", &r->connection->addr_text);
        return NGX_DECLINED;
    }

    rc = ngx_wsman_cert_authenticate(r, lcf, &auth->identity);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_wsman_auth_nss(r, lcf, NULL, auth, NGX_WSMAN_AUTH_CERTIFICATE);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_wsman_auth_groups(r, lcf, r->pool, &auth->identity);
}


/*
 * Groups named in the user file belong to the local name whatever the
 * scheme that proved it (a line "alice:*:admins" only carries groups).
 */
ngx_int_t
ngx_wsman_auth_groups(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_pool_t *pool, ngx_wsman_identity_t *identity)
{
    ngx_int_t             rc;
    ngx_str_t             account;
    ngx_wsman_identity_t  found;

    /* Basic checked by PAM (the user file's names are taken as they are):
     * the account as passwd spells it, before groups and SIDs */
    if (identity->scheme == NGX_WSMAN_AUTH_BASIC) {
        rc = ngx_wsman_identity_passwd_name(pool, &identity->user, &account);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            identity->user = account;
        }
    }

    if (lcf->user_file.len == 0) {
        return NGX_OK;
    }

    found = *identity;

    if (ngx_wsman_basic_groups(r->pool, r->connection->log, &lcf->user_file,
                               &found)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (found.groups.len == 0) {
        return NGX_OK;
    }

    identity->groups.data = ngx_pstrdup(pool, &found.groups);
    if (identity->groups.data == NULL) {
        return NGX_ERROR;
    }

    identity->groups.len = found.groups.len;

    return NGX_OK;
}




/*
 * Work of authentication (what: its name in the log) posted to a thread
 * pool: NGX_AGAIN, its event handler goes on and calls
 * ngx_wsman_auth_task_done() first.  A full queue (nginx logs the
 * overflow) refuses the request now rather than making it wait:
 * NGX_BUSY.
 *
 * The thread writes into the request's pool, so while it works:
 * - the request is blocked, as nginx's own thread tasks block theirs: one
 *   terminated meanwhile (worker_shutdown_timeout) waits for the task
 *   instead of being freed under it;
 * - a timer runs: a worker shutting down gracefully waits for timers,
 *   not for thread tasks, and would exit under the task (its client
 *   dropped, "open socket left").  A task still running when it fires
 *   (a PAM module that hangs) no longer holds the shutdown.
 */
ngx_int_t
ngx_wsman_auth_post(ngx_http_request_t *r, ngx_wsman_auth_t *auth,
    ngx_thread_pool_t *pool, ngx_thread_task_t *task, const char *what,
    ngx_str_t *user)
{
    if (ngx_thread_task_post(pool, task) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: %s of user \"%V\" from %V refused: its "
                      "thread pool is full", what,
                      ngx_wsman_log_escape(r->pool, user),
                      &r->connection->addr_text);
        return NGX_BUSY;
    }

    ngx_wsman_auth_wait(r, auth);

    return NGX_AGAIN;
}


/*
 * The request waits for a task in a thread, its own or one it shares
 * (a read of the user file): blocked, with the timer, as above.
 */
void
ngx_wsman_auth_wait(ngx_http_request_t *r, ngx_wsman_auth_t *auth)
{
    r->main->blocked++;

    auth->pending.handler = ngx_wsman_auth_overdue;
    auth->pending.data = r;
    auth->pending.log = r->connection->log;
    ngx_add_timer(&auth->pending, NGX_WSMAN_AUTH_TASK_WAIT);
}


/*
 * The user file this request waited for has been read (or could not
 * be): authentication starts over, with the table as it is now
 * (auth->users is set, the file is not looked at again).  Nothing was
 * done before the wait that doing again would repeat.
 */
void
ngx_wsman_auth_resume(ngx_http_request_t *r, ngx_wsman_auth_t *auth)
{
    ngx_int_t  rc;

    ngx_wsman_auth_task_done(r, auth);

    if (r->connection->error) {
        /* terminated while it waited: auth->done() finalizes it */
        auth->done(r, auth, NGX_ERROR);
        return;
    }

    rc = ngx_wsman_authenticate(r, ngx_wsman_get_loc_conf(r), auth);

    if (rc == NGX_AGAIN) {
        /* a hash check or look-up in a thread calls auth->done() */
        return;
    }

    auth->done(r, auth, rc);
}


/* a task of ngx_wsman_auth_post() is back on the event loop */
void
ngx_wsman_auth_task_done(ngx_http_request_t *r, ngx_wsman_auth_t *auth)
{
    r->main->blocked--;

    if (auth->pending.timer_set) {
        ngx_del_timer(&auth->pending);
    }
}


static void
ngx_wsman_auth_overdue(ngx_event_t *ev)
{
    ngx_http_request_t  *r = ev->data;

    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "wsman: authentication of the request from %V has been "
                  "in a thread for %M ms", &r->connection->addr_text,
                  (ngx_msec_t) NGX_WSMAN_AUTH_TASK_WAIT);
}


/*
 * The account, groups and SIDs of a Negotiate/Kerberos connection's
 * identity for the location serving this request: locations may have
 * different user files and group SID maps, and a user-file edit applies
 * to kept-alive connections too.  NTLM names are mapped to their one
 * account here (ngx_wsman_identity_ntlm_account()); Kerberos principals
 * were mapped by krb5's aname-to-localname rules at the handshake.
 * Remembered on the connection for this location while the user file is
 * unchanged, at most a minute.
 */
static ngx_int_t
ngx_wsman_auth_account(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_conn_t *conn, ngx_wsman_auth_t *auth, ngx_uint_t scheme)
{
    u_char                     *p;
    ngx_int_t                   rc;
    ngx_array_t                *sids;
    ngx_wsman_identity_t       *id;
    ngx_wsman_basic_file_t      sig;
    ngx_wsman_auth_resolved_t  *res;

    id = &auth->identity;
    ngx_memzero(id, sizeof(ngx_wsman_identity_t));
    id->scheme = conn->scheme;

    ngx_wsman_basic_stat(&lcf->user_file, &sig);

    res = conn->resolved;

    if (res && res->conf == lcf && res->expire > ngx_time()
        && ngx_memcmp(&res->file, &sig, sizeof(ngx_wsman_basic_file_t)) == 0)
    {
        /* copied: the connection's copy is replaced by a later request */
        id->user.data = ngx_pstrdup(r->pool, &res->user);
        if (id->user.data == NULL
            || ngx_wsman_identity_restore(r->pool, id, lcf, res->sids,
                                          res->nsids, &res->groups)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        id->user.len = res->user.len;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsman: account \"%V\" of the connection reused",
                       &id->user);

        return NGX_OK;
    }

    /* what NSS does not know yet is asked in a thread first */
    rc = ngx_wsman_auth_nss(r, lcf, conn, auth, scheme);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (conn->krb5) {
        id->user = conn->identity.user;

    } else {
        rc = ngx_wsman_identity_ntlm_account(r->pool, r->connection->log,
                                             lcf, &conn->identity.user,
                                             &id->user);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (ngx_wsman_auth_groups(r, lcf, r->pool, id) != NGX_OK) {
        return NGX_ERROR;
    }

    sids = ngx_palloc(r->pool, sizeof(ngx_array_t));
    if (sids == NULL
        || ngx_wsman_identity_sids(r->pool, r->connection->log, lcf, id, sids)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    id->sids = sids;
    id->sids_conf = lcf;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman: connection's name \"%V\" is account \"%V\", "
                   "groups \"%V\"", &conn->identity.user, &id->user,
                   &id->groups);

    if (conn->resolved) {
        ngx_free(conn->resolved);
        conn->resolved = NULL;
    }

    if (ngx_time() - ngx_max(sig.mtime.tv_sec, sig.ctime.tv_sec)
        < NGX_WSMAN_AUTH_RESOLVED_SETTLE)
    {
        return NGX_OK;
    }

    /* best effort: without it the next request resolves again */
    res = ngx_alloc(sizeof(ngx_wsman_auth_resolved_t)
                    + sids->nelts * sizeof(ngx_wsman_sid_t)
                    + id->user.len + id->groups.len, r->connection->log);
    if (res == NULL) {
        return NGX_OK;
    }

    res->conf = lcf;
    res->file = sig;
    res->expire = ngx_time() + NGX_WSMAN_AUTH_RESOLVED_TIME;
    res->nsids = sids->nelts;

    p = (u_char *) res + sizeof(ngx_wsman_auth_resolved_t);
    res->sids = (ngx_wsman_sid_t *) p;

    if (sids->nelts) {
        p = ngx_cpymem(p, sids->elts, sids->nelts * sizeof(ngx_wsman_sid_t));
    }

    res->user.data = p;
    res->user.len = id->user.len;
    p = ngx_cpymem(p, id->user.data, id->user.len);

    res->groups.data = p;
    res->groups.len = id->groups.len;

    if (id->groups.len) {
        ngx_memcpy(p, id->groups.data, id->groups.len);
    }

    conn->resolved = res;

    return NGX_OK;
}


/*
 * NSS (getpwnam_r, getgrouplist) may block for as long as its directory
 * service takes: the names an identity's account and groups will be
 * looked up by (ngx_wsman_identity_ntlm_account(), the SIDs) are asked
 * in the wsman_auth thread pool when the worker does not remember them,
 * and the request goes on when they are known.  NGX_DECLINED: nothing to
 * ask (go on now); NGX_AGAIN: asked; NGX_BUSY: the queue is full.
 */
static ngx_int_t
ngx_wsman_auth_nss(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_conn_t *conn, ngx_wsman_auth_t *auth, ngx_uint_t scheme)
{
    ngx_str_t                   name, spelling;
    ngx_str_t                   n[NGX_WSMAN_AUTH_NSS_NAMES];
    ngx_uint_t                  i, nnames, known;
    ngx_thread_task_t          *task;
    ngx_wsman_auth_nss_task_t  *t;

    if (auth->resolved || lcf->auth_thread_pool == NULL
        || auth->done == NULL)
    {
        return NGX_DECLINED;
    }

    name = conn ? conn->identity.user : auth->identity.user;

    if (name.len == 0) {
        return NGX_DECLINED;
    }

    n[0] = name;
    nnames = 1;

    if (conn && !conn->krb5) {
        /* NTLM: the user file's spelling, else passwd's for the name or
         * its lower case */
        if (lcf->user_file.len
            && ngx_wsman_basic_spelling(r->pool, r->connection->log,
                                        &lcf->user_file, &name, &spelling)
               == NGX_OK)
        {
            n[nnames++] = spelling;
        }

        n[nnames].len = name.len;
        n[nnames].data = ngx_pnalloc(r->pool, name.len);
        if (n[nnames].data == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(n[nnames].data, name.data, name.len);

        if (ngx_strncmp(n[nnames].data, name.data, name.len) != 0) {
            nnames++;
        }
    }

    known = 1;

    for (i = 0; i < nnames; i++) {
        if (!ngx_wsman_account_known(&n[i])) {
            known = 0;
        }
    }

    /* the usual case: no task (its accounts are kilobytes) */
    if (known) {
        return NGX_DECLINED;
    }

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_wsman_auth_nss_task_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    t = task->ctx;

    /* copies: the thread must not read the connection's memory (the
     * other names are on the request's pool already) */
    for (i = 0; i < nnames; i++) {
        t->names[i] = n[i];
    }

    t->names[0].data = ngx_pstrdup(r->pool, &name);
    if (t->names[0].data == NULL) {
        return NGX_ERROR;
    }

    t->nnames = nnames;

    t->request = r;
    t->auth = auth;
    t->scheme = scheme;

    task->handler = ngx_wsman_auth_nss_thread;
    task->event.data = task;
    task->event.handler = ngx_wsman_auth_nss_done;

    if (ngx_wsman_auth_post(r, auth, lcf->auth_thread_pool, task,
                            "account look-up", &name)
        != NGX_AGAIN)
    {
        return NGX_BUSY;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsman: account of \"%V\" looked up in a thread", &name);

    return NGX_AGAIN;
}


/* in a pool thread: nothing here may touch the request or its pool */
static void
ngx_wsman_auth_nss_thread(void *data, ngx_log_t *log)
{
    ngx_wsman_auth_nss_task_t *t = data;

    ngx_str_t             pw_name;
    ngx_uint_t            i;
    ngx_wsman_account_t  *a;

    t->naccounts = 0;

    for (i = 0; i < t->nnames; i++) {
        a = &t->accounts[t->naccounts++];
        ngx_wsman_account_resolve(&t->names[i], a);

        /* the account's groups are looked up by passwd's spelling */
        if (a->found
            && (a->pw_name_len != t->names[i].len
                || ngx_memcmp(a->pw_name, t->names[i].data, a->pw_name_len)
                   != 0))
        {
            pw_name.data = a->pw_name;
            pw_name.len = a->pw_name_len;
            ngx_wsman_account_resolve(&pw_name,
                                      &t->accounts[t->naccounts++]);
        }
    }
}


/* back in the worker: the rest of authentication, now from the cache */
static void
ngx_wsman_auth_nss_done(ngx_event_t *ev)
{
    ngx_thread_task_t          *task = ev->data;
    ngx_wsman_auth_nss_task_t  *t = task->ctx;

    ngx_int_t              rc;
    ngx_uint_t             i;
    ngx_wsman_auth_t      *auth;
    ngx_wsman_conn_t      *conn;
    ngx_http_request_t    *r;
    ngx_wsman_loc_conf_t  *lcf;

    r = t->request;
    auth = t->auth;
    lcf = ngx_wsman_get_loc_conf(r);

    ngx_wsman_auth_task_done(r, auth);

    for (i = 0; i < t->naccounts; i++) {
        ngx_wsman_account_put(r->connection->log, &t->accounts[i]);
    }

    /* once: what could not be remembered is asked here */
    auth->resolved = 1;

    if (t->scheme == NGX_WSMAN_AUTH_CERTIFICATE) {
        rc = ngx_wsman_auth_groups(r, lcf, r->pool, &auth->identity);

    } else {
        conn = ngx_wsman_conn(r->connection, 0);

        if (conn == NULL) {
            rc = NGX_ERROR;

        } else {
            rc = ngx_wsman_auth_account(r, lcf, conn, auth, t->scheme);

            if (t->scheme) {
                rc = ngx_wsman_auth_gss_done(r, conn, auth, t->scheme, rc);
            }
        }
    }

    auth->done(r, auth, rc);
}
