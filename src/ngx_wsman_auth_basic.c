/*
 * Basic credentials against an htpasswd-style user file:
 *
 *     user:hash[:group,group...]
 *
 * Hashes are whatever nginx's auth_basic_user_file accepts (ngx_crypt():
 * {PLAIN}, {SHA}, {SSHA}, $apr1$, and crypt(3): $1$, $5$, $6$, $y$, ...).
 * Like auth_basic, the file is read on each check, so edits apply at once.
 */

#include <ngx_crypt.h>
#include <openssl/crypto.h>

#include "ngx_wsman_auth.h"


#define NGX_WSMAN_USER_FILE_MAX   (16 * 1024 * 1024)

/* hashed when the user is unknown, so a lookup miss costs what a hit does */
#define NGX_WSMAN_DUMMY_HASH                                                \
    "$6$ngxwsmandummy$2Rl/IYv12Bfqdb1rWUqC6Jn6Ea.9X/XKHBAT7nfu5kCSSr7A.2hK" \
    "Xbqa1ZT6wVjp8ddn9q1JX1UQnSqOCD2nq."


typedef struct {
    ngx_str_t    user;
    ngx_str_t    hash;
    ngx_str_t    groups;
} ngx_wsman_user_entry_t;


static ngx_int_t ngx_wsman_basic_read(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *file, ngx_str_t *content);
static ngx_int_t ngx_wsman_basic_next(u_char **pos, u_char *end,
    ngx_wsman_user_entry_t *entry, ngx_uint_t *malformed);
static ngx_int_t ngx_wsman_basic_check_hash(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *password, ngx_str_t *hash);


static ngx_int_t
ngx_wsman_basic_read(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file,
    ngx_str_t *content)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_int_t        rc;
    ngx_file_t       f;
    ngx_file_info_t  fi;

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", file);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", file);
        goto done;
    }

    if (ngx_file_size(&fi) > NGX_WSMAN_USER_FILE_MAX) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wsman: user file \"%V\" is too large", file);
        goto done;
    }

    content->len = (size_t) ngx_file_size(&fi);
    content->data = ngx_pnalloc(pool, content->len + 1);
    if (content->data == NULL) {
        goto done;
    }

    ngx_memzero(&f, sizeof(ngx_file_t));
    f.fd = fd;
    f.name = *file;
    f.log = log;

    n = ngx_read_file(&f, content->data, content->len, 0);
    if (n == NGX_ERROR) {
        goto done;
    }

    content->len = (size_t) n;
    rc = NGX_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", file);
    }

    return rc;
}


/*
 * Next entry of the file: NGX_OK with an entry, NGX_DONE at the end.
 * Blank lines and '#' comments are skipped; a line without ':' counts as
 * malformed and is skipped too.
 */
static ngx_int_t
ngx_wsman_basic_next(u_char **pos, u_char *end, ngx_wsman_user_entry_t *entry,
    ngx_uint_t *malformed)
{
    u_char  *p, *line, *eol, *colon;

    for (p = *pos; p < end; p = eol + 1) {

        line = p;
        eol = ngx_strlchr(line, end, '\n');
        if (eol == NULL) {
            eol = end;
        }

        p = eol;
        if (p > line && p[-1] == '\r') {
            p--;
        }

        if (p == line || *line == '#') {
            continue;
        }

        colon = ngx_strlchr(line, p, ':');
        if (colon == NULL || colon == line) {
            (*malformed)++;
            continue;
        }

        entry->user.data = line;
        entry->user.len = colon - line;

        entry->hash.data = colon + 1;
        colon = ngx_strlchr(entry->hash.data, p, ':');
        entry->hash.len = (colon ? colon : p) - entry->hash.data;

        if (colon) {
            entry->groups.data = colon + 1;
            entry->groups.len = p - entry->groups.data;
        } else {
            ngx_str_null(&entry->groups);
        }

        *pos = eol < end ? eol + 1 : end;

        return NGX_OK;
    }

    *pos = end;

    return NGX_DONE;
}


ngx_int_t
ngx_wsman_basic_verify(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file,
    ngx_str_t *user, ngx_str_t *password, ngx_wsman_identity_t *identity)
{
    u_char                  *pos, *end;
    ngx_int_t                rc;
    ngx_str_t                content, dummy;
    ngx_uint_t               malformed;
    ngx_wsman_user_entry_t   entry;

    if (file->len == 0) {
        return NGX_DECLINED;
    }

    if (ngx_wsman_basic_read(pool, log, file, &content) != NGX_OK) {
        return NGX_ERROR;
    }

    pos = content.data;
    end = content.data + content.len;
    malformed = 0;

    while (ngx_wsman_basic_next(&pos, end, &entry, &malformed) == NGX_OK) {

        if (entry.user.len != user->len
            || ngx_strncmp(entry.user.data, user->data, user->len) != 0)
        {
            continue;
        }

        rc = ngx_wsman_basic_check_hash(pool, log, password, &entry.hash);

        if (rc == NGX_OK) {
            identity->user = *user;
            identity->groups = entry.groups;
            identity->scheme = NGX_WSMAN_AUTH_BASIC;
        }

        return rc;
    }

    ngx_str_set(&dummy, NGX_WSMAN_DUMMY_HASH);
    (void) ngx_wsman_basic_check_hash(pool, log, password, &dummy);

    return NGX_DECLINED;
}


/* the user file's groups of an identity proved some other way */
ngx_int_t
ngx_wsman_basic_groups(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file,
    ngx_wsman_identity_t *identity)
{
    u_char                  *pos, *end;
    ngx_str_t                content;
    ngx_uint_t               malformed;
    ngx_wsman_user_entry_t   entry;

    ngx_str_null(&identity->groups);

    if (ngx_wsman_basic_read(pool, log, file, &content) != NGX_OK) {
        return NGX_ERROR;
    }

    pos = content.data;
    end = content.data + content.len;
    malformed = 0;

    while (ngx_wsman_basic_next(&pos, end, &entry, &malformed) == NGX_OK) {
        if (entry.user.len == identity->user.len
            && ngx_strncmp(entry.user.data, identity->user.data,
                           entry.user.len) == 0)
        {
            identity->groups = entry.groups;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_wsman_basic_check_hash(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *password, ngx_str_t *hash)
{
    u_char     *salt, *encrypted;
    size_t      len;
    ngx_int_t   rc;

    salt = ngx_pnalloc(pool, hash->len + 1);
    if (salt == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(salt, hash->data, hash->len);
    salt[hash->len] = '\0';

    /* password->data is NUL-terminated by ngx_wsman_auth_basic_decode() */
    rc = ngx_crypt(pool, password->data, salt, &encrypted);

    if (rc != NGX_OK || encrypted == NULL) {
        return NGX_DECLINED;
    }

    len = ngx_strlen(encrypted);

    if (len != hash->len || len == 0) {
        return NGX_DECLINED;
    }

    return CRYPTO_memcmp(encrypted, hash->data, len) == 0 ? NGX_OK
                                                           : NGX_DECLINED;
}


/* configuration time: the file must exist, be readable and parse */
char *
ngx_wsman_basic_check_file(ngx_conf_t *cf, ngx_str_t *file)
{
    u_char                  *pos, *end;
    ngx_str_t                content;
    ngx_uint_t               malformed, entries;
    ngx_wsman_user_entry_t   entry;

    if (ngx_wsman_basic_read(cf->temp_pool, cf->log, file, &content)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "wsman_user_file \"%V\" cannot be read", file);
        return NGX_CONF_ERROR;
    }

    pos = content.data;
    end = content.data + content.len;
    malformed = 0;
    entries = 0;

    while (ngx_wsman_basic_next(&pos, end, &entry, &malformed) == NGX_OK) {
        entries++;
    }

    if (malformed) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "wsman_user_file \"%V\" has %ui malformed "
                           "line(s): expected user:hash[:groups]",
                           file, malformed);
        return NGX_CONF_ERROR;
    }

    if (entries == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_user_file \"%V\" has no users", file);
    }

    return NGX_CONF_OK;
}
