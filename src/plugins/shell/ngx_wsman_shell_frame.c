/*
 * Shell host protocol frames.  Lengths are little-endian on the wire
 * whatever the host order, so they are assembled byte by byte.
 */

#include "ngx_wsman_shell_frame.h"
#include "ngx_wsman_shell_proto.h"
#include "ngx_wsman_util.h"


/* a uint64_t has at most 20 decimal digits */
#define NGX_WSMAN_SHELL_NUM_LEN  20


static void
ngx_wsman_shell_put_u32(u_char *p, uint32_t n)
{
    p[0] = (u_char) (n & 0xff);
    p[1] = (u_char) ((n >> 8) & 0xff);
    p[2] = (u_char) ((n >> 16) & 0xff);
    p[3] = (u_char) ((n >> 24) & 0xff);
}


uint32_t
ngx_wsman_shell_get_u32(const u_char *p)
{
    return (uint32_t) p[0]
           | ((uint32_t) p[1] << 8)
           | ((uint32_t) p[2] << 16)
           | ((uint32_t) p[3] << 24);
}


void
ngx_wsman_shell_writer_init(ngx_wsman_shell_writer_t *w, u_char *buf,
    size_t size, u_char type)
{
    w->buf = buf;
    w->size = size;
    w->pos = NGX_WSMAN_SHELL_HEAD_LEN;
    w->overflow = 0;

    if (size < NGX_WSMAN_SHELL_HEAD_LEN) {
        w->overflow = 1;
        return;
    }

    buf[4] = type;
}


void
ngx_wsman_shell_writer_add(ngx_wsman_shell_writer_t *w, u_char tag,
    const void *data, size_t len)
{
    if (w->overflow) {
        return;
    }

    /* written so that neither side of the comparison can wrap */
    if (len > NGX_WSMAN_SHELL_MAX_FRAME
        || w->size - w->pos < NGX_WSMAN_SHELL_FIELD_HEAD
        || w->size - w->pos - NGX_WSMAN_SHELL_FIELD_HEAD < len)
    {
        w->overflow = 1;
        return;
    }

    w->buf[w->pos] = tag;
    ngx_wsman_shell_put_u32(w->buf + w->pos + 1, (uint32_t) len);
    w->pos += NGX_WSMAN_SHELL_FIELD_HEAD;

    if (len) {
        memcpy(w->buf + w->pos, data, len);
        w->pos += len;
    }
}


void
ngx_wsman_shell_writer_add_str(ngx_wsman_shell_writer_t *w, u_char tag,
    const char *s)
{
    ngx_wsman_shell_writer_add(w, tag, s, strlen(s));
}


void
ngx_wsman_shell_writer_add_num(ngx_wsman_shell_writer_t *w, u_char tag,
    uint64_t n)
{
    u_char  buf[NGX_INT64_LEN], *end;

    end = ngx_wsman_decimal(buf, n);

    ngx_wsman_shell_writer_add(w, tag, buf, end - buf);
}


size_t
ngx_wsman_shell_writer_finish(ngx_wsman_shell_writer_t *w)
{
    if (w->overflow || w->pos - 4 > NGX_WSMAN_SHELL_MAX_FRAME) {
        return 0;
    }

    ngx_wsman_shell_put_u32(w->buf, (uint32_t) (w->pos - 4));

    return w->pos;
}


ngx_int_t
ngx_wsman_shell_frame_parse(const u_char *frame, size_t len, u_char *type)
{
    uint32_t                  n;
    ngx_int_t                 rc;
    const u_char             *p, *end;
    ngx_wsman_shell_field_t   f;

    if (len < NGX_WSMAN_SHELL_HEAD_LEN) {
        return NGX_ERROR;
    }

    n = ngx_wsman_shell_get_u32(frame);

    if (n > NGX_WSMAN_SHELL_MAX_FRAME || n != len - 4) {
        return NGX_ERROR;
    }

    *type = frame[4];

    /* walk every field once so that callers meet no surprise later */
    p = frame + NGX_WSMAN_SHELL_HEAD_LEN;
    end = frame + len;

    do {
        rc = ngx_wsman_shell_frame_next(&p, end, &f);
    } while (rc == NGX_OK);

    return (rc == NGX_DONE) ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_wsman_shell_frame_next(const u_char **p, const u_char *end,
    ngx_wsman_shell_field_t *f)
{
    size_t         left;
    uint32_t       n;
    const u_char  *q;

    q = *p;

    if (q == end) {
        return NGX_DONE;
    }

    if (q > end) {
        return NGX_ERROR;
    }

    left = end - q;

    if (left < NGX_WSMAN_SHELL_FIELD_HEAD) {
        return NGX_ERROR;
    }

    n = ngx_wsman_shell_get_u32(q + 1);

    if (n > left - NGX_WSMAN_SHELL_FIELD_HEAD) {
        return NGX_ERROR;
    }

    f->tag = q[0];
    f->data = q + NGX_WSMAN_SHELL_FIELD_HEAD;
    f->len = n;

    *p = f->data + n;

    return NGX_OK;
}


ngx_int_t
ngx_wsman_shell_field_num(ngx_wsman_shell_field_t *f, uint64_t *n)
{
    size_t    i;
    uint64_t  v, d;

    if (f->len == 0 || f->len > NGX_WSMAN_SHELL_NUM_LEN) {
        return NGX_ERROR;
    }

    v = 0;

    for (i = 0; i < f->len; i++) {
        if (f->data[i] < '0' || f->data[i] > '9') {
            return NGX_ERROR;
        }

        d = f->data[i] - '0';

        if (v > (UINT64_MAX - d) / 10) {
            return NGX_ERROR;
        }

        v = v * 10 + d;
    }

    *n = v;

    return NGX_OK;
}


/*
 * One byte and n descriptors (at most NGX_WSMAN_SHELL_SEND_FDS) in one
 * SCM_RIGHTS message over the Unix socket s: how the master passes the
 * host its channels and a worker the host a request's connection.  The
 * caller keeps its references.  Answers sendmsg()'s, errno set.
 */
ssize_t
ngx_wsman_shell_send_fds(int s, u_char byte, const int *fds, ngx_uint_t n,
    int flags)
{
    size_t           size;
    ssize_t          rc;
    struct iovec     iov;
    struct msghdr    msg;
    struct cmsghdr  *cmsg;
    union {
        struct cmsghdr  cm;
        char            space[CMSG_SPACE(NGX_WSMAN_SHELL_SEND_FDS
                                         * sizeof(int))];
    } cmsgbuf;

    if (n == 0 || n > NGX_WSMAN_SHELL_SEND_FDS) {
        errno = EINVAL;
        return -1;
    }

    size = n * sizeof(int);

    iov.iov_base = &byte;
    iov.iov_len = 1;

    ngx_memzero(&msg, sizeof(struct msghdr));
    ngx_memzero(&cmsgbuf, sizeof(cmsgbuf));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsgbuf.space;
    msg.msg_controllen = CMSG_SPACE(size);

    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(size);
    ngx_memcpy(CMSG_DATA(cmsg), fds, size);

    do {
        rc = sendmsg(s, &msg, flags | MSG_NOSIGNAL);
    } while (rc == -1 && errno == EINTR);

    return rc;
}


/*
 * Which accounts may run commands, the one rule the workers (before they
 * ask) and the shell host (which decides) both apply: root only where
 * the location says wsman_shell_allow_root on, never the workers' own
 * uid (such a command could trace the workers and act as them).  Workers
 * that run as root (no "user" in effect) leave only the first rule.
 * NULL: the uid may run commands; otherwise why not, for the log.
 */
const char *
ngx_wsman_shell_uid_refused(uid_t uid, uid_t workers, ngx_uint_t allow_root)
{
    if (uid == 0 && !allow_root) {
        return "uid 0 without wsman_shell_allow_root";
    }

    if (uid == workers && uid != 0) {
        return "the workers' uid never runs commands";
    }

    return NULL;
}
