/*
 * Basic credentials checked by PAM.  A PAM stack may block for seconds
 * (pam_faildelay, directory services), so the whole conversation runs in
 * an nginx thread pool and the request continues when it is done.
 */

#include <security/pam_appl.h>

#include "ngx_wsman_auth.h"
#include "ngx_wsman_identity.h"
#include "ngx_wsman_log.h"


typedef struct {
    ngx_http_request_t        *request;
    ngx_wsman_auth_t          *auth;
    char                      *service;
    char                      *user;
    char                      *password;
    size_t                     password_len;
    int                        status;         /* PAM result */
    int                        stage;          /* 0: auth, 1: account */
    ngx_wsman_account_t        account[2];     /* NSS: the name and the
                                                  passwd spelling of it */
} ngx_wsman_pam_task_t;


static void ngx_wsman_pam_thread(void *data, ngx_log_t *log);
static void ngx_wsman_pam_done(ngx_event_t *ev);
static int ngx_wsman_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *data);
static char *ngx_wsman_pam_cstr(ngx_pool_t *pool, ngx_str_t *s);


ngx_int_t
ngx_wsman_pam_verify(ngx_http_request_t *r, ngx_wsman_loc_conf_t *lcf,
    ngx_str_t *user, ngx_str_t *password, ngx_wsman_auth_t *auth)
{
    ngx_thread_task_t     *task;
    ngx_wsman_pam_task_t  *pt;

    if (lcf->thread_pool == NULL || auth->done == NULL) {
        return NGX_ERROR;
    }

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_wsman_pam_task_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    pt = task->ctx;
    pt->request = r;
    pt->auth = auth;
    pt->service = ngx_wsman_pam_cstr(r->pool, &lcf->pam_service);
    pt->user = ngx_wsman_pam_cstr(r->pool, user);
    pt->password = ngx_wsman_pam_cstr(r->pool, password);
    pt->password_len = password->len;

    if (pt->service == NULL || pt->user == NULL || pt->password == NULL) {
        return NGX_ERROR;
    }

    auth->identity.user.data = (u_char *) pt->user;
    auth->identity.user.len = user->len;

    task->handler = ngx_wsman_pam_thread;
    task->event.data = task;
    task->event.handler = ngx_wsman_pam_done;

    return ngx_wsman_auth_post(r, auth, lcf->thread_pool, task, "PAM check",
                               user);
}


static char *
ngx_wsman_pam_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return (char *) p;
}


/* in a pool thread: nothing here may touch the request or its pool */
static void
ngx_wsman_pam_thread(void *data, ngx_log_t *log)
{
    ngx_wsman_pam_task_t *pt = data;

    int              status;
    ngx_str_t        name;
    pam_handle_t    *pamh;
    struct pam_conv  conv;

    conv.conv = ngx_wsman_pam_conv;
    conv.appdata_ptr = pt;

    pamh = NULL;
    pt->stage = 0;

    status = pam_start(pt->service, pt->user, &conv, &pamh);

    if (status == PAM_SUCCESS) {
        status = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    }

    if (status == PAM_SUCCESS) {
        pt->stage = 1;
        status = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    }

    pt->status = status;

    /* the account and its groups (NSS may block too) for the SIDs */
    if (status == PAM_SUCCESS) {
        name.data = (u_char *) pt->user;
        name.len = ngx_strlen(pt->user);
        ngx_wsman_account_resolve(&name, &pt->account[0]);

        if (pt->account[0].found
            && (pt->account[0].pw_name_len != name.len
                || ngx_memcmp(pt->account[0].pw_name, name.data, name.len)
                   != 0))
        {
            name.data = pt->account[0].pw_name;
            name.len = pt->account[0].pw_name_len;
            ngx_wsman_account_resolve(&name, &pt->account[1]);
        }
    }

    if (pamh) {
        (void) pam_end(pamh, status);
    }

    /* the password is not needed any more */
    explicit_bzero(pt->password, pt->password_len);
}


/* PAM asks; we answer every hidden prompt with the password */
static int
ngx_wsman_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *data)
{
    ngx_wsman_pam_task_t *pt = data;

    int                   i;
    struct pam_response  *r;

    if (n <= 0 || n > PAM_MAX_NUM_MSG) {
        return PAM_CONV_ERR;
    }

    r = calloc(n, sizeof(struct pam_response));
    if (r == NULL) {
        return PAM_BUF_ERR;
    }

    for (i = 0; i < n; i++) {
        switch (msg[i]->msg_style) {

        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            r[i].resp = strdup(pt->password);
            if (r[i].resp == NULL) {
                goto failed;
            }
            break;

        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            break;

        default:
            goto failed;
        }
    }

    *resp = r;

    return PAM_SUCCESS;

failed:

    for (i = 0; i < n; i++) {
        if (r[i].resp) {
            explicit_bzero(r[i].resp, strlen(r[i].resp));
            free(r[i].resp);
        }
    }

    free(r);

    return PAM_CONV_ERR;
}


/* back in the worker */
static void
ngx_wsman_pam_done(ngx_event_t *ev)
{
    ngx_thread_task_t     *task = ev->data;
    ngx_wsman_pam_task_t  *pt = task->ctx;

    ngx_int_t             rc;
    ngx_http_request_t   *r;

    r = pt->request;

    ngx_wsman_auth_task_done(r, pt->auth);

    if (pt->status == PAM_SUCCESS) {
        ngx_wsman_account_put(r->connection->log, &pt->account[0]);
        ngx_wsman_account_put(r->connection->log, &pt->account[1]);

        pt->auth->identity.scheme = NGX_WSMAN_AUTH_BASIC;
        rc = ngx_wsman_auth_groups(r, ngx_wsman_get_loc_conf(r), r->pool,
                                   &pt->auth->identity);

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsman: PAM %s of user \"%V\" from %V failed: %s",
                      pt->stage ? "account check" : "authentication",
                      ngx_wsman_log_escape(r->pool,
                                           &pt->auth->identity.user),
                      &r->connection->addr_text,
                      pam_strerror(NULL, pt->status));
        ngx_str_null(&pt->auth->identity.user);
        rc = NGX_DECLINED;
    }

    pt->auth->done(r, pt->auth, rc);
}
