/*
 * Frames of the shell host protocol (ngx_wsman_shell_proto.h): building
 * and walking them in caller-supplied buffers, passing descriptors, and
 * the rule on accounts both ends apply.  Shared by the workers and by the shell host, so
 * nothing here touches pools, logs or the cycle.
 */

#ifndef _NGX_WSMAN_SHELL_FRAME_H_INCLUDED_
#define _NGX_WSMAN_SHELL_FRAME_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* descriptors one ngx_wsman_shell_send_fds() passes at most */
#define NGX_WSMAN_SHELL_SEND_FDS    64

/* u32 length + u8 type */
#define NGX_WSMAN_SHELL_HEAD_LEN    5
/* u8 tag + u32 length */
#define NGX_WSMAN_SHELL_FIELD_HEAD  5


typedef struct {
    u_char          tag;
    const u_char   *data;
    size_t          len;
} ngx_wsman_shell_field_t;


/*
 * Once a field does not fit, overflow is set, later adds are ignored and
 * finish() answers 0: callers check once, at the end.
 */
typedef struct {
    u_char         *buf;
    size_t          size;
    size_t          pos;
    int             overflow;
} ngx_wsman_shell_writer_t;


void ngx_wsman_shell_writer_init(ngx_wsman_shell_writer_t *w, u_char *buf,
    size_t size, u_char type);
void ngx_wsman_shell_writer_add(ngx_wsman_shell_writer_t *w, u_char tag,
    const void *data, size_t len);
void ngx_wsman_shell_writer_add_str(ngx_wsman_shell_writer_t *w, u_char tag,
    const char *s);
void ngx_wsman_shell_writer_add_num(ngx_wsman_shell_writer_t *w, u_char tag,
    uint64_t n);
size_t ngx_wsman_shell_writer_finish(ngx_wsman_shell_writer_t *w);

uint32_t ngx_wsman_shell_get_u32(const u_char *p);

/*
 * frame_parse() checks a whole frame (with its 4-byte length) including
 * every field; then walk the fields with
 *
 *     p = frame + NGX_WSMAN_SHELL_HEAD_LEN;
 *     while (ngx_wsman_shell_frame_next(&p, frame + len, &f) == NGX_OK) {...}
 */
ngx_int_t ngx_wsman_shell_frame_parse(const u_char *frame, size_t len,
    u_char *type);
ngx_int_t ngx_wsman_shell_frame_next(const u_char **p, const u_char *end,
    ngx_wsman_shell_field_t *f);
ngx_int_t ngx_wsman_shell_field_num(ngx_wsman_shell_field_t *f, uint64_t *n);

ssize_t ngx_wsman_shell_send_fds(int s, u_char byte, const int *fds,
    ngx_uint_t n, int flags);

const char *ngx_wsman_shell_uid_refused(uid_t uid, uid_t workers,
    ngx_uint_t allow_root);


#endif /* _NGX_WSMAN_SHELL_FRAME_H_INCLUDED_ */
