/*
 * The shell host: commands, their argv and environment, the spawning
 * of their processes, the uid checks and resource limits.
 */

#include "ngx_wsman_shell_host_int.h"


static ngx_int_t ngx_wsman_sh_spawn_cmd(ngx_wsman_sh_host_t *h,
    ngx_wsman_sh_cmd_t *cmd, char **argv, char **envp, int skip_shell);
static void ngx_wsman_sh_exec(ngx_wsman_sh_shell_t *sh, int fds[3],
    char **argv, char **envp, int skip_shell) ngx_wsman_sh_noreturn;
static void ngx_wsman_sh_child_fail(const char *what, const char *arg)
    ngx_wsman_sh_noreturn;
static void ngx_wsman_sh_lower_limit(int resource, rlim_t value,
    const char *err);


/* ---------------------------------------------------------------------
 * COMMAND
 */

void
ngx_wsman_sh_command(ngx_wsman_sh_host_t *h, ngx_wsman_sh_conn_t *c,
    ngx_wsman_sh_req_t *r)
{
    char                  **argv, **envp;
    ngx_int_t               rc;
    ngx_uint_t              status;
    ngx_wsman_sh_cmd_t     *cmd, **pp;
    ngx_wsman_sh_shell_t   *sh;

    /* refused for root shells where root is not allowed */
    status = ngx_wsman_sh_find_shell(h, r, &sh);
    if (status != NGX_WSMAN_SHELL_S_OK) {
        ngx_wsman_sh_reply_missing(h, c, r, status);
        return;
    }

    if (r->command.len == 0) {
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_BAD_REQUEST,
                           NGX_WSMAN_SHELL_F_MESSAGE, "no command");
        return;
    }

    cmd = calloc(1, sizeof(ngx_wsman_sh_cmd_t));
    argv = ngx_wsman_sh_argv(r);
    envp = ngx_wsman_sh_envp(sh);
    rc = NGX_ERROR;

    if (cmd != NULL && argv != NULL && envp != NULL
        && ngx_wsman_sh_uuid(cmd->id) == 0)
    {
        cmd->shell = sh;
        rc = ngx_wsman_sh_spawn_cmd(h, cmd, argv, envp, r->skip_shell != 0);
    }

    free(argv);
    free(envp);

    if (rc != NGX_OK) {
        if (cmd == NULL || argv == NULL || envp == NULL) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "malloc() failed");
        }

        free(cmd);
        ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_INTERNAL,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "cannot start the command");
        return;
    }

    if (sh->max_runtime) {
        cmd->deadline = h->now + sh->max_runtime;
    }

    for (pp = &sh->cmds; *pp; pp = &(*pp)->next) { /* void */ }
    *pp = cmd;

    /* the command line may hold secrets: it is not logged */
    ngx_wsman_sh_log(NGX_LOG_INFO, "command %s started in shell %s, pid %d",
                     cmd->id, sh->id, (int) cmd->pid);

    ngx_wsman_sh_reply(h, c, r->type, NGX_WSMAN_SHELL_S_OK,
                       NGX_WSMAN_SHELL_F_COMMAND_ID, cmd->id);
}


/*
 * {"/bin/sh", "-c", "COMMAND ARG ARG...", NULL}, or with SKIP_SHELL
 * {COMMAND, ARG, ..., NULL}; pointers and strings in one allocation.
 */
char **
ngx_wsman_sh_argv(ngx_wsman_sh_req_t *r)
{
    char                    **argv, *p;
    size_t                    size, n, i;
    const u_char             *fp, *end;
    ngx_wsman_shell_field_t   f;

    fp = r->frame + NGX_WSMAN_SHELL_HEAD_LEN;
    end = r->frame + r->frame_len;

    n = r->skip_shell ? r->nargs + 2 : 4;
    size = n * sizeof(char *) + sizeof("/bin/sh") + sizeof("-c")
           + r->command.len + 1;

    while (ngx_wsman_shell_frame_next(&fp, end, &f) == NGX_OK) {
        if (f.tag == NGX_WSMAN_SHELL_F_ARG) {
            size += f.len + 1;
        }
    }

    argv = malloc(size);
    if (argv == NULL) {
        return NULL;
    }

    p = (char *) (argv + n);
    i = 0;

    if (!r->skip_shell) {
        argv[i++] = p;
        p = (char *) ngx_cpymem(p, "/bin/sh", sizeof("/bin/sh"));
        argv[i++] = p;
        p = (char *) ngx_cpymem(p, "-c", sizeof("-c"));
    }

    argv[i++] = p;
    p = (char *) ngx_cpymem(p, r->command.data, r->command.len);

    fp = r->frame + NGX_WSMAN_SHELL_HEAD_LEN;

    while (ngx_wsman_shell_frame_next(&fp, end, &f) == NGX_OK) {
        if (f.tag != NGX_WSMAN_SHELL_F_ARG) {
            continue;
        }

        if (r->skip_shell) {
            *p++ = '\0';
            argv[i++] = p;

        } else {
            *p++ = ' ';
        }

        p = (char *) ngx_cpymem(p, f.data, f.len);
    }

    *p = '\0';
    argv[i] = NULL;

    return argv;
}


static int
ngx_wsman_sh_env_has(ngx_wsman_sh_shell_t *sh, const char *var)
{
    char    **e;
    size_t    len;

    len = strchr(var, '=') - var;

    for (e = sh->env; *e; e++) {
        if (strncmp(*e, var, len) == 0 && (*e)[len] == '=') {
            return 1;
        }
    }

    return 0;
}


/*
 * A fresh environment: nothing of nginx's leaks into commands.  The
 * shell's own variables win over the defaults.
 */
char **
ngx_wsman_sh_envp(ngx_wsman_sh_shell_t *sh)
{
    char        **envp, **e, *p, *defs[5];
    size_t        size, n, i;
    const char   *names[5], *values[5];

    names[0] = "HOME=";    values[0] = sh->home;
    names[1] = "USER=";    values[1] = sh->user;
    names[2] = "LOGNAME="; values[2] = sh->user;
    names[3] = "SHELL=";   values[3] = sh->login_shell;
    names[4] = NGX_WSMAN_SH_PATH;  values[4] = "";

    n = 5;
    size = 0;

    for (e = sh->env; *e; e++) {
        n++;
    }

    for (i = 0; i < 5; i++) {
        size += strlen(names[i]) + strlen(values[i]) + 1;
    }

    envp = malloc((n + 1) * sizeof(char *) + size);
    if (envp == NULL) {
        return NULL;
    }

    p = (char *) (envp + n + 1);

    for (i = 0; i < 5; i++) {
        defs[i] = p;
        p = (char *) ngx_cpymem(p, names[i], strlen(names[i]));
        p = (char *) ngx_cpymem(p, values[i], strlen(values[i]) + 1);
    }

    n = 0;

    for (i = 0; i < 5; i++) {
        if (!ngx_wsman_sh_env_has(sh, defs[i])) {
            envp[n++] = defs[i];
        }
    }

    for (e = sh->env; *e; e++) {
        envp[n++] = *e;
    }

    envp[n] = NULL;

    return envp;
}


int
ngx_wsman_sh_nonblock(int fd)
{
    int  flags;

    flags = fcntl(fd, F_GETFL);

    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "fcntl(O_NONBLOCK) failed: %s",
                         strerror(errno));
        return -1;
    }

    return 0;
}


static ngx_int_t
ngx_wsman_sh_spawn_cmd(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd,
    char **argv, char **envp, int skip_shell)
{
    int    p[3][2], fds[3], i;
    pid_t  pid;

    for (i = 0; i < 3; i++) {
        p[i][0] = -1;
        p[i][1] = -1;
    }

    cmd->in.fd = -1;
    cmd->out[0].fd = -1;
    cmd->out[1].fd = -1;

    for (i = 0; i < 3; i++) {
        if (pipe2(p[i], O_CLOEXEC) == -1) {
            ngx_wsman_sh_log(NGX_LOG_ALERT, "pipe2() failed: %s",
                             strerror(errno));
            goto failed;
        }
    }

    pid = fork();

    if (pid == -1) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "fork() failed: %s", strerror(errno));
        goto failed;
    }

    if (pid == 0) {
        fds[0] = p[0][0];
        fds[1] = p[1][1];
        fds[2] = p[2][1];
        ngx_wsman_sh_exec(cmd->shell, fds, argv, envp, skip_shell);
    }

    cmd->pid = pid;

    (void) close(p[0][0]);
    (void) close(p[1][1]);
    (void) close(p[2][1]);

    cmd->in.fd = p[0][1];
    cmd->in.kind = NGX_WSMAN_SH_EV_STDIN;
    cmd->in.obj = cmd;
    cmd->out[0].fd = p[1][0];
    cmd->out[0].kind = NGX_WSMAN_SH_EV_STDOUT;
    cmd->out[0].obj = cmd;
    cmd->out[1].fd = p[2][0];
    cmd->out[1].kind = NGX_WSMAN_SH_EV_STDERR;
    cmd->out[1].obj = cmd;

    if (ngx_wsman_sh_nonblock(cmd->in.fd) != 0
        || ngx_wsman_sh_nonblock(cmd->out[0].fd) != 0
        || ngx_wsman_sh_nonblock(cmd->out[1].fd) != 0
        || ngx_wsman_sh_watch(h, &cmd->out[0], EPOLLIN) != 0
        || ngx_wsman_sh_watch(h, &cmd->out[1], EPOLLIN) != 0)
    {
        /* the process is of no use unread; the reaper collects it */
        (void) kill(pid, SIGKILL);
        ngx_wsman_sh_close_ev(h, &cmd->in);
        ngx_wsman_sh_close_ev(h, &cmd->out[0]);
        ngx_wsman_sh_close_ev(h, &cmd->out[1]);
        return NGX_ERROR;
    }

    return NGX_OK;

failed:

    for (i = 0; i < 3; i++) {
        if (p[i][0] != -1) {
            (void) close(p[i][0]);
            (void) close(p[i][1]);
        }
    }

    return NGX_ERROR;
}


/*
 * The child: a session of its own (so that a whole tree can be signalled
 * through its process group), the user's identity, limits, and exec.
 * The host is single-threaded, so everything is safe to call after fork().
 */
/* a limit of the command: value, or lower if it is lower already */
static void
ngx_wsman_sh_lower_limit(int resource, rlim_t value, const char *err)
{
    struct rlimit  rl;

    if (getrlimit(resource, &rl) == -1) {
        ngx_wsman_sh_child_fail(err, NULL);
    }

    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < value) {
        value = rl.rlim_max;
    }

    rl.rlim_cur = value;
    rl.rlim_max = value;

    if (setrlimit(resource, &rl) == -1) {
        ngx_wsman_sh_child_fail(err, NULL);
    }
}


static void
ngx_wsman_sh_exec(ngx_wsman_sh_shell_t *sh, int fds[3], char **argv,
    char **envp, int skip_shell)
{
    int            i, sig;
    sigset_t       set;
    struct rlimit  rl;

    /* ignored signals stay ignored across exec(): undo SIGPIPE & co */
    for (sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            (void) signal(sig, SIG_DFL);
        }
    }

    sigemptyset(&set);
    (void) sigprocmask(SIG_SETMASK, &set, NULL);

    if (setsid() == -1) {
        ngx_wsman_sh_child_fail("setsid() failed", NULL);
    }

    if (dup2(fds[0], STDIN_FILENO) == -1
        || dup2(fds[1], STDOUT_FILENO) == -1
        || dup2(fds[2], STDERR_FILENO) == -1)
    {
        _exit(127);
    }

    if (close_range(3, ~0U, 0) == -1) {
        ngx_wsman_sh_child_fail("close_range() failed", NULL);
    }

    if (sh->limits != NULL) {
        /* the PAM session's limits (pam_limits), as sshd applies them */
        for (i = 0; i < RLIM_NLIMITS; i++) {
            if (setrlimit(i, &sh->limits[i]) == -1) {
                ngx_wsman_sh_child_fail("setrlimit() failed", NULL);
            }
        }

    } else if (ngx_wsman_sh_nofile.rlim_max) {
        (void) setrlimit(RLIMIT_NOFILE, &ngx_wsman_sh_nofile);
    }

    rl.rlim_cur = 0;
    rl.rlim_max = 0;

    if (setrlimit(RLIMIT_CORE, &rl) == -1) {
        ngx_wsman_sh_child_fail("setrlimit(RLIMIT_CORE) failed", NULL);
    }

    /*
     * Linux counts RLIMIT_NPROC per real uid, not per shell: the limit
     * covers all processes of the user, and root is exempt.  It is set
     * before setuid() so that exec() fails if the user is already over it.
     */
    if (sh->max_procs) {
        ngx_wsman_sh_lower_limit(RLIMIT_NPROC, (rlim_t) sh->max_procs,
                                 "setrlimit(RLIMIT_NPROC) failed");
    }

    if (geteuid() == 0) {
        if (initgroups(sh->user, sh->gid) == -1) {
            ngx_wsman_sh_child_fail("initgroups() failed", NULL);
        }

        if (setgid(sh->gid) == -1) {
            ngx_wsman_sh_child_fail("setgid() failed", NULL);
        }

        if (setuid(sh->uid) == -1) {
            ngx_wsman_sh_child_fail("setuid() failed", NULL);
        }

        /* a saved set-user-id of 0 would let the command back to root */
        if (sh->uid != 0 && setuid(0) != -1) {
            ngx_wsman_sh_child_fail("cannot drop privileges", NULL);
        }
    }

    /*
     * rsp:WorkingDirectory (checked at Create), else the home directory,
     * else "/", as login does
     */
    if (sh->cwd != NULL) {
        if (chdir(sh->cwd) == -1) {
            ngx_wsman_sh_child_fail("cannot enter the working directory",
                                    sh->cwd);
        }

    } else if (chdir(sh->home) == -1 && chdir("/") == -1) {
        ngx_wsman_sh_child_fail("chdir() failed", NULL);
    }

    /*
     * The address-space limit comes last: nothing between it and exec()
     * may need memory (NSS in initgroups() does; so does a sanitizer
     * runtime in the host, which reserves terabytes of address space)
     */
    if (sh->max_memory && sh->max_memory <= RLIM_INFINITY / (1024 * 1024)) {
        ngx_wsman_sh_lower_limit(RLIMIT_AS,
                                 (rlim_t) sh->max_memory * 1024 * 1024,
                                 "setrlimit(RLIMIT_AS) failed");
    }

    /* execvp() searches the PATH of environ: the command's, not ours */
    environ = envp;

    if (skip_shell) {
        (void) execvp(argv[0], argv);

    } else {
        (void) execv("/bin/sh", argv);
    }

    ngx_wsman_sh_child_fail("cannot run", argv[0]);
}


/* the message goes to the command's stderr; 127 is a shell's "not run" */
static void
ngx_wsman_sh_child_fail(const char *what, const char *arg)
{
    int  err;

    err = errno;

    if (arg != NULL) {
        (void) dprintf(STDERR_FILENO, "wsman: %s \"%s\": %s\n", what, arg,
                       strerror(err));

    } else {
        (void) dprintf(STDERR_FILENO, "wsman: %s: %s\n", what, strerror(err));
    }

    _exit(127);
}


/* the command's pipes and buffers: all a finished command does not need */
void
ngx_wsman_sh_cmd_release(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd)
{
    ngx_wsman_sh_close_ev(h, &cmd->in);
    ngx_wsman_sh_close_ev(h, &cmd->out[0]);
    ngx_wsman_sh_close_ev(h, &cmd->out[1]);
    ngx_wsman_sh_buf_release(h, &cmd->inbuf);
    ngx_wsman_sh_buf_release(h, &cmd->outbuf[0]);
    ngx_wsman_sh_buf_release(h, &cmd->outbuf[1]);
}


void
ngx_wsman_sh_cmd_free(ngx_wsman_sh_host_t *h, ngx_wsman_sh_cmd_t *cmd)
{
    ngx_wsman_sh_conn_t  *c;

    ngx_wsman_sh_kill(cmd, SIGKILL);

    ngx_wsman_sh_cmd_release(h, cmd);
    ngx_wsman_sh_forget(cmd);

    if (cmd->inflight) {
        cmd->inflight->cmd = NULL;
        cmd->inflight = NULL;
    }

    c = cmd->parked;

    free(cmd);

    if (c != NULL) {
        c->cmd = NULL;
        ngx_wsman_sh_reply(h, c, NGX_WSMAN_SHELL_RECEIVE,
                           NGX_WSMAN_SHELL_S_NO_SHELL,
                           NGX_WSMAN_SHELL_F_MESSAGE,
                           "the shell was deleted");
    }
}


void
ngx_wsman_sh_kill(ngx_wsman_sh_cmd_t *cmd, int sig)
{
    if (cmd->pid <= 0 || cmd->delivered) {
        return;
    }

    /*
     * With the leader reaped and both pipes closed the group is most
     * likely empty, and its id free for reuse: leave it alone.
     */
    if (cmd->exited && cmd->out[0].fd == -1 && cmd->out[1].fd == -1) {
        return;
    }

    if (kill(-cmd->pid, sig) == 0) {
        return;
    }

    if (errno == ESRCH && !cmd->exited) {
        /* the child has not reached setsid() yet */
        (void) kill(cmd->pid, sig);
        return;
    }

    if (errno != ESRCH) {
        ngx_wsman_sh_log(NGX_LOG_ALERT, "kill(-%d, %d) failed: %s",
                         (int) cmd->pid, sig, strerror(errno));
    }
}
