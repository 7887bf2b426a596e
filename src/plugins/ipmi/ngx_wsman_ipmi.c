/*
 * The IPMI plug-in's worker side: one BMC session per worker, and the
 * queue of requests waiting for the BMC.
 *
 * Only one thread task talks to the BMC at a time (a session is not
 * shared between threads, and BMCs answer one request at a time anyway).
 * A request that needs data older than cache= joins the queue; when a
 * read of that part completes, every request waiting for it goes on.
 * Each waiting request has its own deadline inside its OperationTimeout,
 * so a BMC that stopped answering costs a fault, never a hang, and the
 * worker keeps serving everything else meanwhile.
 */

#include "ngx_wsman_ipmi.h"
#include "ngx_wsman_enum.h"


#define NGX_WSMAN_IPMI_PARTS         4


/* what a worker last read of one part of the BMC */
typedef struct {
    ngx_pool_t                *pool;         /* holds snap; NULL: none */
    ngx_wsman_ipmi_snapshot_t *snap;
    ngx_msec_t                 read_at;
    unsigned                   stale:1;      /* changed by a job since */
} ngx_wsman_ipmi_part_t;


/* a request waiting for the BMC (call->plugin_ctx) */
typedef struct {
    ngx_queue_t                queue;
    ngx_wsman_call_t          *call;
    ngx_wsman_op_pt            resume;
    ngx_wsman_ipmi_job_t       job;
    ngx_event_t                timer;
    unsigned                   queued:1;
    unsigned                   done:1;       /* the job ran: resume */
} ngx_wsman_ipmi_wait_t;


/* one thread task: malloc()ed, it may outlive the requests it serves */
typedef struct {
    ngx_wsman_ipmi_job_t       job;
    ngx_wsman_ipmi_wait_t     *wait;         /* a method's caller, or NULL */
    ngx_pool_t                *pool;         /* a read's snapshot */
    ngx_wsman_ipmi_snapshot_t *snap;
    ngx_int_t                  rc;
    u_char                     err[NGX_WSMAN_IPMI_ERRLEN];
} ngx_wsman_ipmi_task_t;


typedef struct {
    ngx_wsman_ipmi_main_t     *conf;
    ngx_wsman_ipmi_session_t  *session;
    ngx_wsman_ipmi_part_t      parts[NGX_WSMAN_IPMI_PARTS];
    ngx_queue_t                waiting;
    ngx_thread_task_t         *running;
    ngx_event_t                idle;         /* ends an unused session */
    ngx_log_t                 *log;
} ngx_wsman_ipmi_worker_t;


static ngx_uint_t ngx_wsman_ipmi_part_index(ngx_uint_t what);
static ngx_uint_t ngx_wsman_ipmi_is_fresh(ngx_uint_t what);
static ngx_int_t ngx_wsman_ipmi_wait(ngx_wsman_call_t *call,
    ngx_wsman_op_pt resume, ngx_wsman_ipmi_job_t *job);
static void ngx_wsman_ipmi_next(void);
static ngx_int_t ngx_wsman_ipmi_post(ngx_wsman_ipmi_job_t *job,
    ngx_wsman_ipmi_wait_t *w);
static void ngx_wsman_ipmi_idle(ngx_event_t *ev);
static void ngx_wsman_ipmi_thread(void *data, ngx_log_t *log);
static void ngx_wsman_ipmi_task_done(ngx_event_t *ev);
static void ngx_wsman_ipmi_install(ngx_wsman_ipmi_task_t *t);
static void ngx_wsman_ipmi_wake(ngx_wsman_ipmi_wait_t *w, ngx_int_t ok,
    u_char *err);
static void ngx_wsman_ipmi_timed_out(ngx_event_t *ev);
static void ngx_wsman_ipmi_abort(ngx_wsman_call_t *call);
static void ngx_wsman_ipmi_unwait(ngx_wsman_ipmi_wait_t *w);
static void ngx_wsman_ipmi_fail(ngx_wsman_call_t *call, const char *text,
    size_t len);
static ngx_uint_t ngx_wsman_ipmi_is_invoke(ngx_wsman_call_t *call);


/* per worker: set up by init_process when wsman_ipmi is configured */
static ngx_wsman_ipmi_worker_t  *ngx_wsman_ipmi_worker;


ngx_int_t
ngx_wsman_ipmi_init_process(ngx_cycle_t *cycle)
{
    ngx_wsman_ipmi_worker_t       *wk;
    ngx_wsman_ipmi_module_conf_t  *mcf;

    mcf = ngx_wsman_plugin_main_conf(&ngx_wsman_ipmi_module);

    if (mcf == NULL || mcf->ipmi == NULL) {
        return NGX_OK;
    }

    wk = ngx_pcalloc(cycle->pool, sizeof(ngx_wsman_ipmi_worker_t));
    if (wk == NULL) {
        return NGX_ERROR;
    }

    wk->conf = mcf->ipmi;
    wk->log = cycle->log;
    ngx_queue_init(&wk->waiting);

    wk->idle.handler = ngx_wsman_ipmi_idle;
    wk->idle.log = cycle->log;
    wk->idle.cancelable = 1;

    /* connects on first use: a BMC that is down must not stop nginx */
    wk->session = ngx_wsman_ipmi_session_create(&wk->conf->bmc, cycle->log);
    if (wk->session == NULL) {
        return NGX_ERROR;
    }

    ngx_wsman_ipmi_worker = wk;

    return NGX_OK;
}


void
ngx_wsman_ipmi_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                i;
    ngx_wsman_ipmi_worker_t  *wk;

    wk = ngx_wsman_ipmi_worker;

    if (wk == NULL) {
        return;
    }

    ngx_wsman_ipmi_worker = NULL;

    /* a thread still holds the session: leave it to the exit */
    if (wk->running == NULL) {
        ngx_wsman_ipmi_session_destroy(wk->session);
    }

    for (i = 0; i < NGX_WSMAN_IPMI_PARTS; i++) {
        if (wk->parts[i].pool) {
            ngx_destroy_pool(wk->parts[i].pool);
        }
    }
}


static ngx_uint_t
ngx_wsman_ipmi_part_index(ngx_uint_t what)
{
    switch (what) {
    case NGX_WSMAN_IPMI_SENSORS:
        return 0;
    case NGX_WSMAN_IPMI_SEL:
        return 1;
    case NGX_WSMAN_IPMI_FRU:
        return 2;
    default: /* NGX_WSMAN_IPMI_CHASSIS */
        return 3;
    }
}


static ngx_uint_t
ngx_wsman_ipmi_is_fresh(ngx_uint_t what)
{
    ngx_wsman_ipmi_part_t  *part;

    part = &ngx_wsman_ipmi_worker->parts[ngx_wsman_ipmi_part_index(what)];

    return part->snap != NULL
           && !part->stale
           && ngx_current_msec - part->read_at < ngx_wsman_ipmi_worker->conf
                                                 ->cache;
}


ngx_wsman_ipmi_snapshot_t *
ngx_wsman_ipmi_data(ngx_uint_t what)
{
    if (ngx_wsman_ipmi_worker == NULL) {
        return NULL;
    }

    return ngx_wsman_ipmi_worker->parts[ngx_wsman_ipmi_part_index(what)]
           .snap;
}


ngx_str_t *
ngx_wsman_ipmi_system_name(void)
{
    static ngx_str_t  none = ngx_string("localhost");

    if (ngx_wsman_ipmi_worker == NULL) {
        return &none;
    }

    return &ngx_wsman_ipmi_worker->conf->system_name;
}


/* the providers' hooks ------------------------------------------------ */

ngx_int_t
ngx_wsman_ipmi_fetch(ngx_wsman_provider_t *prov, ngx_wsman_call_t *call,
    ngx_wsman_op_pt resume)
{
    ngx_int_t                rc;
    ngx_str_t                method;
    ngx_wsman_ipmi_job_t     job;
    ngx_wsman_ipmi_wait_t   *w;
    ngx_wsman_ipmi_class_t  *cls;

    cls = prov->data;
    w = call->plugin_ctx;

    /* the operation runs again now that the BMC has answered */
    if (w && w->done) {
        return NGX_OK;
    }

    if (ngx_wsman_ipmi_worker == NULL) {
        ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_DESTINATION_UNREACHABLE,
                             "No BMC is configured on this server "
                             "(wsman_ipmi).");
        return NGX_DECLINED;
    }

    ngx_memzero(&job, sizeof(ngx_wsman_ipmi_job_t));

    if (ngx_wsman_ipmi_is_invoke(call)) {

        if (cls->method == NULL) {
            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                 NULL);
            return NGX_DECLINED;
        }

        /* the engine has checked the action is the class URI + method */
        method.data = call->req->action.data + prov->resource_uri.len + 1;
        method.len = call->req->action.len - prov->resource_uri.len - 1;

        rc = cls->method(call, &method, &job);

        if (rc == NGX_ABORT) {
            ngx_wsman_call_fault(call, NGX_WSMAN_FAULT_ACTION_NOT_SUPPORTED,
                                 NULL);
            return NGX_DECLINED;
        }

        if (rc != NGX_OK) {
            return rc;
        }

    } else {
        if (ngx_wsman_ipmi_is_fresh(cls->what)) {
            return NGX_OK;
        }

        job.kind = NGX_WSMAN_IPMI_JOB_READ;
        job.arg = cls->what;
    }

    return ngx_wsman_ipmi_wait(call, resume, &job);
}


static ngx_uint_t
ngx_wsman_ipmi_is_invoke(ngx_wsman_call_t *call)
{
    ngx_str_t  *a;

    a = &call->req->action;

    return !((a->len == sizeof(NGX_WSMAN_ACTION_GET) - 1
              && ngx_strncmp(a->data, NGX_WSMAN_ACTION_GET, a->len) == 0)
             || (a->len == sizeof(NGX_WSMAN_ACTION_ENUMERATE) - 1
                 && ngx_strncmp(a->data, NGX_WSMAN_ACTION_ENUMERATE,
                                a->len) == 0)
             || (a->len == sizeof(NGX_WSMAN_ACTION_PULL) - 1
                 && ngx_strncmp(a->data, NGX_WSMAN_ACTION_PULL, a->len)
                    == 0));
}


ngx_int_t
ngx_wsman_ipmi_invoke(ngx_wsman_provider_t *prov, ngx_wsman_call_t *call,
    ngx_str_t *method, ngx_int_t *return_value)
{
    ngx_wsman_ipmi_wait_t  *w;

    w = call->plugin_ctx;

    if (w == NULL || !w->done) {
        /* fetch() runs first and answers every other way */
        return NGX_ERROR;
    }

    *return_value = w->job.return_value;

    return NGX_OK;
}


/* the queue --------------------------------------------------------------- */

static ngx_int_t
ngx_wsman_ipmi_wait(ngx_wsman_call_t *call, ngx_wsman_op_pt resume,
    ngx_wsman_ipmi_job_t *job)
{
    ngx_msec_t              timeout;
    ngx_wsman_ipmi_wait_t  *w;

    w = ngx_pcalloc(call->pool, sizeof(ngx_wsman_ipmi_wait_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->call = call;
    w->resume = resume;
    w->job = *job;

    call->plugin_ctx = w;

    /* a method that needs no BMC (an unsupported power state) */
    if (job->kind == NGX_WSMAN_IPMI_JOB_NONE) {
        w->done = 1;
        return NGX_OK;
    }

    /* answer inside the client's OperationTimeout, with time to spare
     * for the answer to travel */
    timeout = call->req->operation_timeout;
    timeout -= ngx_min(timeout / 10, 2000);

    w->timer.handler = ngx_wsman_ipmi_timed_out;
    w->timer.data = w;
    w->timer.log = call->log;
    ngx_add_timer(&w->timer, timeout);

    ngx_queue_insert_tail(&ngx_wsman_ipmi_worker->waiting, &w->queue);
    w->queued = 1;

    call->abort = ngx_wsman_ipmi_abort;

    ngx_wsman_ipmi_next();

    return NGX_AGAIN;
}


/* start a task for the first request in line, unless one is running */
static void
ngx_wsman_ipmi_next(void)
{
    ngx_queue_t            *q;
    ngx_wsman_ipmi_wait_t  *w;

    for ( ;; ) {
        if (ngx_wsman_ipmi_worker->running
            || ngx_queue_empty(&ngx_wsman_ipmi_worker->waiting))
        {
            return;
        }

        q = ngx_queue_head(&ngx_wsman_ipmi_worker->waiting);
        w = ngx_queue_data(q, ngx_wsman_ipmi_wait_t, queue);

        if (ngx_wsman_ipmi_post(&w->job, w) == NGX_OK) {
            return;
        }

        /* no memory or no thread: this request cannot be served */
        ngx_wsman_ipmi_wake(w, 0, (u_char *) "the IPMI task could not be "
                                             "started");
    }
}


/* w: the request the job is for (NULL: the worker's own) */
static ngx_int_t
ngx_wsman_ipmi_post(ngx_wsman_ipmi_job_t *job, ngx_wsman_ipmi_wait_t *w)
{
    ngx_thread_task_t      *task;
    ngx_wsman_ipmi_task_t  *t;

    task = ngx_calloc(sizeof(ngx_thread_task_t)
                      + sizeof(ngx_wsman_ipmi_task_t),
                      ngx_wsman_ipmi_worker->log);
    if (task == NULL) {
        return NGX_ERROR;
    }

    t = (ngx_wsman_ipmi_task_t *) (task + 1);
    task->ctx = t;
    t->job = *job;

    if (t->job.kind == NGX_WSMAN_IPMI_JOB_READ) {
        /* a read serves everyone waiting for that part: see wake */
        t->pool = ngx_create_pool(4096, ngx_wsman_ipmi_worker->log);
        if (t->pool == NULL) {
            ngx_free(task);
            return NGX_ERROR;
        }

        t->snap = ngx_pcalloc(t->pool, sizeof(ngx_wsman_ipmi_snapshot_t));
        if (t->snap == NULL) {
            ngx_destroy_pool(t->pool);
            ngx_free(task);
            return NGX_ERROR;
        }

    } else if (w) {
        /* a method is one caller's: it leaves the line now */
        t->wait = w;
        ngx_queue_remove(&w->queue);
        w->queued = 0;
    }

    task->handler = ngx_wsman_ipmi_thread;
    task->event.data = task;
    task->event.handler = ngx_wsman_ipmi_task_done;

    if (ngx_thread_task_post(ngx_wsman_ipmi_worker->conf->thread_pool, task)
        != NGX_OK)
    {
        if (t->pool) {
            ngx_destroy_pool(t->pool);
        }

        /* a method goes back to the head of the line */
        if (t->wait) {
            ngx_queue_insert_head(&ngx_wsman_ipmi_worker->waiting,
                                  &t->wait->queue);
            t->wait->queued = 1;
        }

        ngx_free(task);
        return NGX_ERROR;
    }

    ngx_wsman_ipmi_worker->running = task;

    return NGX_OK;
}


/* in a pool thread: only the session and the task's own pool */
static void
ngx_wsman_ipmi_thread(void *data, ngx_log_t *log)
{
    ngx_wsman_ipmi_task_t *t = data;

    ngx_wsman_ipmi_session_t  *s;

    s = ngx_wsman_ipmi_worker->session;

    switch (t->job.kind) {

    case NGX_WSMAN_IPMI_JOB_READ:
        t->rc = ngx_wsman_ipmi_read(s, t->job.arg, t->pool, t->snap, log,
                                    t->err);
        break;

    case NGX_WSMAN_IPMI_JOB_CONTROL:
        t->rc = ngx_wsman_ipmi_chassis_control(s, t->job.arg, log, t->err);
        break;

    case NGX_WSMAN_IPMI_JOB_DISCONNECT:
        ngx_wsman_ipmi_disconnect(s);
        t->rc = NGX_OK;
        break;

    default: /* NGX_WSMAN_IPMI_JOB_CLEAR_SEL */
        t->rc = ngx_wsman_ipmi_clear_sel(s, log, t->err);
        break;
    }
}


/* back in the worker */
static void
ngx_wsman_ipmi_task_done(ngx_event_t *ev)
{
    ngx_thread_task_t      *task = ev->data;
    ngx_wsman_ipmi_task_t  *t = task->ctx;

    ngx_uint_t              what;
    ngx_queue_t            *q, *next;
    ngx_wsman_ipmi_wait_t  *w;

    ngx_wsman_ipmi_worker->running = NULL;

    if (t->job.kind == NGX_WSMAN_IPMI_JOB_READ) {
        what = t->job.arg;

        if (t->rc == NGX_OK) {
            ngx_wsman_ipmi_install(t);

        } else {
            ngx_destroy_pool(t->pool);
        }

        /* everyone waiting for this part goes on with this read */
        for (q = ngx_queue_head(&ngx_wsman_ipmi_worker->waiting);
             q != ngx_queue_sentinel(&ngx_wsman_ipmi_worker->waiting);
             q = next)
        {
            next = ngx_queue_next(q);
            w = ngx_queue_data(q, ngx_wsman_ipmi_wait_t, queue);

            if (w->job.kind == NGX_WSMAN_IPMI_JOB_READ
                && w->job.arg == what)
            {
                ngx_wsman_ipmi_wake(w, t->rc == NGX_OK, t->err);
            }
        }

    } else if (t->job.kind == NGX_WSMAN_IPMI_JOB_DISCONNECT) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_wsman_ipmi_worker->log, 0,
                       "wsman: IPMI session ended while idle");
        ngx_free(task);
        ngx_wsman_ipmi_next();
        return;

    } else {
        /* what the BMC said before this is history now */
        what = t->job.kind == NGX_WSMAN_IPMI_JOB_CLEAR_SEL
               ? NGX_WSMAN_IPMI_SEL : NGX_WSMAN_IPMI_CHASSIS;

        ngx_wsman_ipmi_worker->parts[ngx_wsman_ipmi_part_index(what)].stale
            = 1;

        if (t->wait) {
            ngx_wsman_ipmi_wake(t->wait, t->rc == NGX_OK, t->err);
        }
    }

    ngx_free(task);

    /* BMCs have few session slots: an unused one is given back */
    ngx_add_timer(&ngx_wsman_ipmi_worker->idle,
                  ngx_wsman_ipmi_worker->conf->idle);

    ngx_wsman_ipmi_next();
}


static void
ngx_wsman_ipmi_idle(ngx_event_t *ev)
{
    ngx_wsman_ipmi_job_t  job;

    if (ngx_wsman_ipmi_worker->running
        || !ngx_queue_empty(&ngx_wsman_ipmi_worker->waiting))
    {
        return;
    }

    ngx_memzero(&job, sizeof(ngx_wsman_ipmi_job_t));
    job.kind = NGX_WSMAN_IPMI_JOB_DISCONNECT;

    (void) ngx_wsman_ipmi_post(&job, NULL);
}


static void
ngx_wsman_ipmi_install(ngx_wsman_ipmi_task_t *t)
{
    ngx_wsman_ipmi_part_t  *part;

    part = &ngx_wsman_ipmi_worker->parts[ngx_wsman_ipmi_part_index(
                                                               t->job.arg)];

    if (part->pool) {
        ngx_destroy_pool(part->pool);
    }

    part->pool = t->pool;
    part->snap = t->snap;
    part->read_at = ngx_current_msec;
    part->stale = 0;
}


/* a waiting request goes on: the operation runs again, or fails */
static void
ngx_wsman_ipmi_wake(ngx_wsman_ipmi_wait_t *w, ngx_int_t ok, u_char *err)
{
    ngx_int_t          rc;
    ngx_wsman_call_t  *call;

    call = w->call;

    ngx_wsman_ipmi_unwait(w);

    if (!ok) {
        ngx_wsman_ipmi_fail(call, (char *) err, ngx_strlen(err));
        ngx_wsman_call_finish(call, NGX_OK);
        return;
    }

    /* what changed the machine's state is worth an audit line */
    if (w->job.kind == NGX_WSMAN_IPMI_JOB_CONTROL) {
        ngx_log_error(NGX_LOG_NOTICE, call->log, 0,
                      "wsman: IPMI chassis control %ui by \"%V\" done",
                      w->job.arg, &call->identity->user);

    } else if (w->job.kind == NGX_WSMAN_IPMI_JOB_CLEAR_SEL) {
        ngx_log_error(NGX_LOG_NOTICE, call->log, 0,
                      "wsman: IPMI event log cleared by \"%V\"",
                      &call->identity->user);
    }

    w->done = 1;
    rc = w->resume(call);

    if (rc == NGX_AGAIN) {
        /* cannot happen: the data is there now */
        rc = NGX_ERROR;
    }

    ngx_wsman_call_finish(call, rc);
}


static void
ngx_wsman_ipmi_timed_out(ngx_event_t *ev)
{
    ngx_wsman_ipmi_wait_t *w = ev->data;

    ngx_wsman_call_t  *call;

    call = w->call;

    ngx_log_error(NGX_LOG_ERR, call->log, 0,
                  "wsman: the BMC did not answer within the "
                  "OperationTimeout");

    ngx_wsman_ipmi_unwait(w);

    ngx_wsman_ipmi_fail(call, NULL, 0);
    ngx_wsman_call_finish(call, NGX_OK);
}


/* the client went away */
static void
ngx_wsman_ipmi_abort(ngx_wsman_call_t *call)
{
    ngx_wsman_ipmi_unwait(call->plugin_ctx);
}


/* the request stops waiting: out of the line, its timer off, and a
 * method already sent stays sent but nobody waits for its outcome */
static void
ngx_wsman_ipmi_unwait(ngx_wsman_ipmi_wait_t *w)
{
    ngx_wsman_ipmi_task_t  *t;

    if (ngx_wsman_ipmi_worker && ngx_wsman_ipmi_worker->running) {
        t = ngx_wsman_ipmi_worker->running->ctx;

        if (t->wait == w) {
            t->wait = NULL;
        }
    }

    if (w->queued) {
        ngx_queue_remove(&w->queue);
        w->queued = 0;
    }

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    w->call->abort = NULL;
}


/* w:InternalError that says what the BMC did (NULL: did not answer) */
static void
ngx_wsman_ipmi_fail(ngx_wsman_call_t *call, const char *text, size_t len)
{
    u_char  *p;

    call->fault.id = NGX_WSMAN_FAULT_INTERNAL_ERROR;

    if (text == NULL) {
        ngx_str_set(&call->fault.message,
                    "The BMC did not answer within the OperationTimeout.");
        return;
    }

    p = ngx_pnalloc(call->pool, len + sizeof("The BMC failed: .") - 1);
    if (p == NULL) {
        ngx_str_set(&call->fault.message, "The BMC failed.");
        return;
    }

    call->fault.message.data = p;
    p = ngx_cpymem(p, "The BMC failed: ", sizeof("The BMC failed: ") - 1);
    p = ngx_cpymem(p, text, len);
    *p++ = '.';
    call->fault.message.len = p - call->fault.message.data;
}
