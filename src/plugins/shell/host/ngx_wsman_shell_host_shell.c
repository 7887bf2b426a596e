/*
 * The shell host: shells (Create, Delete), their ownership, the
 * account they run as and the quotas.
 */

#include "ngx_wsman_shell_host_int.h"


static ngx_uint_t ngx_wsman_sh_quota(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_req_t *r, char *msg, size_t size);


/* ---------------------------------------------------------------------
 * CREATE and DELETE
 */

void
ngx_wsman_sh_create(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    char                  *user, *buf, msg[160];
    const char            *why;
    ngx_int_t              rc;
    ngx_uint_t             status;
    struct passwd          pw;
    ngx_wsman_sh_shell_t  *sh;

    user = ngx_wsman_sh_field_dup(&r->user);
    if (user == NULL) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "out of memory");
        return;
    }

    status = ngx_wsman_sh_getpw(user, &pw, &buf);
    free(user);

    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_reply(h, c, r->type, status, NGX_WSMAN_SHELL_F_MESSAGE,
                           (status == NGX_WSMAN_SHELL_S_NO_USER)
                           ? "no local account" : "cannot look up the user");
        return;
    }

    why = ngx_wsman_sh_uid_refused(h, r, pw.pw_uid);

    if (why != NULL) {
        ngx_wsman_sh_log(NGX_LOG_WARN, "shell for user \"%s\" refused: %s",
                         pw.pw_name, why);
        free(buf);
        ngx_wsman_sh_reply_missing(h, c, r, NGX_WSMAN_SHELL_S_NO_USER);
        return;
    }

    if (geteuid() != 0 && pw.pw_uid != geteuid()) {
        free(buf);
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_NO_USER,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "the shell host is not privileged and runs "
                           "commands only as its own user");
        return;
    }

    status = ngx_wsman_sh_quota(h, r, msg, sizeof(msg));

    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_log(NGX_LOG_NOTICE, "shell for user \"%.*s\" (%.*s) "
                         "refused: %s", (int) r->owner_name.len,
                         r->owner_name.data, (int) r->owner.len,
                         r->owner.data, msg);
        free(buf);
        ngx_wsman_sh_reply(h, c, r->type, status, NGX_WSMAN_SHELL_F_MESSAGE,
                           msg);
        return;
    }

    sh = ngx_wsman_sh_shell_new(r, &pw);
    free(buf);

    if (sh == NULL) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE, "out of memory");
        return;
    }

    /*
     * Listed at once, so that it counts for the quotas, but found by no
     * request until its setup is done.
     */
    sh->last_active = h->now;
    sh->pending = 1;
    sh->next = h->shells;
    h->shells = sh;

    /* the user is back: their processes belong to a shell again */
    ngx_wsman_sh_sweep_del(h, sh->uid);

    rc = ngx_wsman_sh_setup_start(h, sh, r);

    if (rc == NGX_ERROR) {
        ngx_wsman_sh_shell_delete(h, sh);
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "cannot set up the shell");
        return;
    }

    if (rc == NGX_DONE) {
        /* neither PAM nor a working directory to check: ready now */
        c->setup = sh;
        sh->setup_conn = c;
        ngx_wsman_sh_setup_done(h, sh, NGX_WSMAN_SHELL_S_OK, NULL);
        return;
    }

    /* the reply waits for the keeper (ngx_wsman_sh_setup_done()) */
    c->setup = sh;
    c->state = NGX_WSMAN_SH_CONN_SETUP;
    c->deadline = h->now + NGX_WSMAN_SH_SETUP_TIMEOUT;
    sh->setup_conn = c;
}


/*
 * Whatever a worker says, the host never runs a command as an account
 * the rule refuses (ngx_wsman_shell_uid_refused()); this is the check
 * that counts, the worker's only spares the round trip.  r->allow_root
 * is the worker's flag only where the master said some location allows
 * root (ngx_wsman_sh_process()); elsewhere it is 0.
 */
const char *
ngx_wsman_sh_uid_refused(ngx_wsman_sh_host_t *h, ngx_wsman_sh_req_t *r,
    uid_t uid)
{
    return ngx_wsman_shell_uid_refused(uid, h->worker_uid,
                                       r->allow_root != 0);
}


/*
 * getpwnam_r() may consult NSS (LDAP, sssd) and block the host for that
 * long; it happens once per shell, not per command.
 */
ngx_uint_t
ngx_wsman_sh_getpw(const char *user, struct passwd *pw, char **buf)
{
    int             rc;
    long            n;
    char           *p;
    size_t          size;
    struct passwd  *res;

    n = sysconf(_SC_GETPW_R_SIZE_MAX);
    size = (n > 0) ? (size_t) n : 16384;

    for ( ;; ) {
        p = malloc(size);
        if (p == NULL) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc(%zu) failed", size);
            return NGX_WSMAN_SHELL_S_INTERNAL;
        }

        res = NULL;
        rc = getpwnam_r(user, pw, p, size, &res);

        if (rc != ERANGE || size >= 1024 * 1024) {
            break;
        }

        free(p);
        size *= 2;
    }

    if (res != NULL) {
        *buf = p;
        return NGX_WSMAN_SHELL_S_OK;
    }

    free(p);

    /* these mean "no such user" per getpwnam(3) */
    if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
    {
        return NGX_WSMAN_SHELL_S_NO_USER;
    }

    ngx_wsman_sh_log(NGX_LOG_ERR, "getpwnam_r() failed: %s", strerror(rc));

    return NGX_WSMAN_SHELL_S_INTERNAL;
}


/*
 * Windows' MaxShellsPerUser and MaxConcurrentUsers, counted per WS-Man
 * identity (not per local account, which several may share); 0 is
 * unlimited
 */
static ngx_uint_t
ngx_wsman_sh_quota(ngx_wsman_sh_host_t *h, ngx_wsman_sh_req_t *r,
    char *msg, size_t size)
{
    uint64_t               mine, users;
    ngx_wsman_sh_shell_t  *sh, *o;

    mine = 0;
    users = 0;

    for (sh = h->shells; sh; sh = sh->next) {
        if (ngx_wsman_sh_owns(r, sh)) {
            mine++;
        }

        /* count an identity at its first shell in the list */
        for (o = h->shells; o != sh; o = o->next) {
            if (strcmp(o->owner, sh->owner) == 0
                && strcmp(o->owner_name, sh->owner_name) == 0)
            {
                break;
            }
        }

        if (o == sh) {
            users++;
        }
    }

    if (r->max_shells && mine >= r->max_shells) {
        (void) snprintf(msg, size, "MaxShellsPerUser: the user has %llu "
                        "shells, the limit is %llu",
                        (unsigned long long) mine,
                        (unsigned long long) r->max_shells);
        return NGX_WSMAN_SHELL_S_QUOTA;
    }

    if (r->max_users && mine == 0 && users >= r->max_users) {
        (void) snprintf(msg, size, "MaxConcurrentUsers: %llu users have "
                        "shells, the limit is %llu",
                        (unsigned long long) users,
                        (unsigned long long) r->max_users);
        return NGX_WSMAN_SHELL_S_QUOTA;
    }

    return NGX_WSMAN_SHELL_S_OK;
}


ngx_wsman_sh_shell_t *
ngx_wsman_sh_shell_new(ngx_wsman_sh_req_t *r, struct passwd *pw)
{
    ngx_uint_t                i;
    const u_char             *p, *end;
    ngx_wsman_sh_shell_t     *sh;
    ngx_wsman_shell_field_t   f;

    sh = calloc(1, sizeof(ngx_wsman_sh_shell_t));
    if (sh == NULL) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "calloc() failed");
        return NULL;
    }

    sh->setup.fd = -1;

    sh->uid = pw->pw_uid;
    sh->gid = pw->pw_gid;
    sh->idle_ms = ngx_min(r->idle_ms, NGX_WSMAN_DURATION_CAP);
    sh->max_procs = r->max_procs;
    sh->max_memory = r->max_memory;
    sh->max_runtime = ngx_min(r->max_runtime, NGX_WSMAN_DURATION_CAP);

    sh->owner = ngx_wsman_sh_field_dup(&r->owner);
    sh->owner_name = ngx_wsman_sh_field_dup(&r->owner_name);
    sh->user = strdup(pw->pw_name);
    sh->home = strdup(pw->pw_dir[0] ? pw->pw_dir : "/");
    sh->login_shell = strdup(pw->pw_shell[0] ? pw->pw_shell : "/bin/sh");
    sh->env = calloc(r->nenv + 1, sizeof(char *));

    if (sh->owner == NULL || sh->owner_name == NULL
        || sh->user == NULL || sh->home == NULL || sh->login_shell == NULL
        || sh->env == NULL || ngx_wsman_sh_uuid(sh->id) != 0)
    {
        goto failed;
    }

    if (r->cwd.len) {
        sh->cwd = ngx_wsman_sh_field_dup(&r->cwd);
        if (sh->cwd == NULL) {
            goto failed;
        }
    }

    p = r->frame + NGX_WSMAN_SHELL_HEAD_LEN;
    end = r->frame + r->frame_len;
    i = 0;

    while (ngx_wsman_shell_frame_next(&p, end, &f) == NGX_OK) {
        if (f.tag != NGX_WSMAN_SHELL_F_ENV) {
            continue;
        }

        sh->env[i] = ngx_wsman_sh_field_dup(&f);
        if (sh->env[i] == NULL) {
            goto failed;
        }

        i++;
    }

    return sh;

failed:

    ngx_wsman_sh_log(NGX_LOG_ALERT, "cannot create a shell: out of memory");
    ngx_wsman_sh_shell_free(sh);

    return NULL;
}


void
ngx_wsman_sh_shell_free(ngx_wsman_sh_shell_t *sh)
{
    char  **e;

    /*
     * The keeper closes the PAM session once its socket closes; one still
     * busy with the setup (a PAM stack that hangs) is of no use anymore.
     */
    if (sh->pending && sh->keeper > 0
        && ngx_wsman_sh_keeper_index(&ngx_wsman_sh_host, sh->keeper) != -1)
    {
        /* not reaped yet, so the pid is still the keeper's */
        (void) kill(sh->keeper, SIGTERM);
    }

    ngx_wsman_sh_close_ev(&ngx_wsman_sh_host, &sh->setup);
    free(sh->setup_buf);
    free(sh->limits);

    if (sh->env) {
        for (e = sh->env; *e; e++) {
            free(*e);
        }
    }

    free(sh->env);
    free(sh->owner);
    free(sh->owner_name);
    free(sh->user);
    free(sh->home);
    free(sh->login_shell);
    free(sh->cwd);
    free(sh);
}


/* kill everything the shell runs; the reaper collects the processes */
void
ngx_wsman_sh_shell_delete(ngx_wsman_sh_host_t *h, ngx_wsman_sh_shell_t *sh)
{
    ngx_wsman_sh_cmd_t     *cmd;
    ngx_wsman_sh_shell_t  **pp;

    for (pp = &h->shells; *pp; pp = &(*pp)->next) {
        if (*pp == sh) {
            *pp = sh->next;
            break;
        }
    }

    while (sh->cmds) {
        cmd = sh->cmds;
        sh->cmds = cmd->next;
        ngx_wsman_sh_cmd_free(h, cmd);
    }

    ngx_wsman_sh_sweep_add(h, sh->uid);
    ngx_wsman_sh_sweep(h);

    ngx_wsman_sh_shell_free(sh);

    /* every buffer belongs to a command of a shell: none left, none held */
    if (h->shells == NULL && h->buffered != 0) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "%zu bytes of buffered output "
                         "unaccounted for", h->buffered);
        h->buffered = 0;
    }

    /* what the shell held is free for other shells' commands */
    ngx_wsman_sh_resume_all(h);
}


void
ngx_wsman_sh_delete(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    ngx_uint_t             status;
    ngx_wsman_sh_shell_t  *sh;

    status = ngx_wsman_sh_find_shell(h, r, &sh);
    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_reply_missing(h, c, r, status);
        return;
    }

    ngx_wsman_sh_log(NGX_LOG_NOTICE, "shell %s of user \"%s\" deleted",
                     sh->id, sh->user);

    ngx_wsman_sh_shell_delete(h, sh);

    ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_OK, 0, NULL);
}
