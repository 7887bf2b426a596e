/*
 * Basic credentials against an htpasswd-style user file:
 *
 *     user:hash[:group,group...]
 *
 * Hashes are whatever nginx's auth_basic_user_file accepts (ngx_crypt():
 * {PLAIN}, {SHA}, {SSHA}, $apr1$, and crypt(3): $1$, $5$, $6$, $y$, ...).
 * Like auth_basic, the file is read on each check, so edits apply at once.
 *
 * A verified user and password are then remembered for a short while in
 * each worker: SHA-512 crypt costs milliseconds by design, and WinRM
 * clients send Basic credentials with every request.  The cache key is
 * HMAC-SHA256 of "user \0 password" under a random key of the process,
 * so neither the password nor a plain hash of it (which an offline
 * guessing attack could use) is ever kept.  The value is what the check
 * found: the user's groups and SIDs.  An entry is good only while the
 * user file is the very file it was verified against (device, inode,
 * size, modification and change times, one stat() per request), so edits
 * still apply on the next request; a wrong password is never remembered.
 */

#include <ngx_crypt.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ngx_wsman_auth.h"
#include "ngx_wsman_identity.h"


#define NGX_WSMAN_USER_FILE_MAX   (16 * 1024 * 1024)

/* entries per worker (a power of two: also the number of buckets) */
#define NGX_WSMAN_BASIC_CACHE_SIZE     1024
#define NGX_WSMAN_BASIC_CACHE_TIME     60      /* seconds */

/*
 * A file changed this recently may change again within the same
 * timestamp tick, and the signature would not show it: such a file is
 * checked as usual, but nothing verified against it is remembered.
 */
#define NGX_WSMAN_BASIC_CACHE_SETTLE   2       /* seconds */

#define NGX_WSMAN_BASIC_DIGEST_LEN     32      /* HMAC-SHA256 */

/* hashed when the user is unknown, so a lookup miss costs what a hit does */
#define NGX_WSMAN_DUMMY_HASH                                                \
    "$6$ngxwsmandummy$2Rl/IYv12Bfqdb1rWUqC6Jn6Ea.9X/XKHBAT7nfu5kCSSr7A.2hK" \
    "Xbqa1ZT6wVjp8ddn9q1JX1UQnSqOCD2nq."


typedef struct {
    ngx_str_t    user;
    ngx_str_t    hash;
    ngx_str_t    groups;
} ngx_wsman_user_entry_t;


/* one remembered verification; the SIDs, then the groups follow it */
typedef struct {
    ngx_queue_t                bucket;
    ngx_queue_t                lru;            /* most recent first */
    u_char                     digest[NGX_WSMAN_BASIC_DIGEST_LEN];
    ngx_wsman_loc_conf_t      *conf;           /* file and group SID map */
    ngx_wsman_basic_file_t     file;
    time_t                     expire;
    ngx_uint_t                 nsids;
    ngx_wsman_sid_t           *sids;
    ngx_str_t                  groups;
} ngx_wsman_basic_cached_t;


typedef struct {
    ngx_queue_t                buckets[NGX_WSMAN_BASIC_CACHE_SIZE];
    ngx_queue_t                lru;
    ngx_uint_t                 count;
    EVP_MAC_CTX               *mac;            /* keyed, NULL: cache off */
    ngx_pid_t                  pid;            /* the process it is for */
} ngx_wsman_basic_cache_t;


static ngx_int_t ngx_wsman_basic_read(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *file, ngx_str_t *content, ngx_wsman_basic_file_t *sig);
static void ngx_wsman_basic_sig(ngx_file_info_t *fi,
    ngx_wsman_basic_file_t *sig);
static ngx_wsman_basic_cache_t *ngx_wsman_basic_cache(ngx_log_t *log);
static ngx_int_t ngx_wsman_basic_digest(ngx_wsman_basic_cache_t *cache,
    ngx_str_t *user, ngx_str_t *password, u_char *digest);
static ngx_int_t ngx_wsman_basic_lookup(ngx_wsman_basic_cache_t *cache,
    ngx_pool_t *pool, ngx_wsman_loc_conf_t *lcf, u_char *digest,
    ngx_wsman_basic_file_t *sig, ngx_wsman_identity_t *identity);
static void ngx_wsman_basic_insert(ngx_wsman_basic_cache_t *cache,
    ngx_pool_t *pool, ngx_log_t *log, ngx_wsman_loc_conf_t *lcf,
    u_char *digest, ngx_wsman_basic_file_t *sig,
    ngx_wsman_identity_t *identity);
static void ngx_wsman_basic_drop(ngx_wsman_basic_cache_t *cache,
    ngx_wsman_basic_cached_t *e);
static ngx_queue_t *ngx_wsman_basic_bucket(ngx_wsman_basic_cache_t *cache,
    u_char *digest);
static ngx_int_t ngx_wsman_basic_next(u_char **pos, u_char *end,
    ngx_wsman_user_entry_t *entry, ngx_uint_t *malformed);
static ngx_int_t ngx_wsman_basic_check_hash(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *password, ngx_str_t *hash);


static ngx_int_t
ngx_wsman_basic_read(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file,
    ngx_str_t *content, ngx_wsman_basic_file_t *sig)
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

    if (sig) {
        ngx_wsman_basic_sig(&fi, sig);
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
ngx_wsman_basic_verify(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *user, ngx_str_t *password,
    ngx_wsman_identity_t *identity)
{
    u_char                    *pos, *end;
    u_char                     digest[NGX_WSMAN_BASIC_DIGEST_LEN];
    ngx_int_t                  rc;
    ngx_str_t                  content, dummy, *file;
    ngx_uint_t                 malformed;
    ngx_file_info_t            fi;
    ngx_wsman_basic_file_t     sig;
    ngx_wsman_user_entry_t     entry;
    ngx_wsman_basic_cache_t   *cache;

    file = &lcf->user_file;

    if (file->len == 0) {
        return NGX_DECLINED;
    }

    cache = ngx_wsman_basic_cache(log);

    if (cache
        && ngx_wsman_basic_digest(cache, user, password, digest) != NGX_OK)
    {
        cache = NULL;
    }

    /* a failing stat() is reported by the read below */
    if (cache && ngx_file_info(file->data, &fi) != NGX_FILE_ERROR) {
        ngx_wsman_basic_sig(&fi, &sig);

        rc = ngx_wsman_basic_lookup(cache, pool, lcf, digest, &sig,
                                    identity);
        if (rc != NGX_DECLINED) {
            if (rc == NGX_OK) {
                identity->user = *user;
                identity->scheme = NGX_WSMAN_AUTH_BASIC;
            }

            return rc;
        }
    }

    if (ngx_wsman_basic_read(pool, log, file, &content, &sig) != NGX_OK) {
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

            if (cache) {
                ngx_wsman_basic_insert(cache, pool, log, lcf, digest, &sig,
                                       identity);
            }
        }

        return rc;
    }

    ngx_str_set(&dummy, NGX_WSMAN_DUMMY_HASH);
    (void) ngx_wsman_basic_check_hash(pool, log, password, &dummy);

    return NGX_DECLINED;
}


static void
ngx_wsman_basic_sig(ngx_file_info_t *fi, ngx_wsman_basic_file_t *sig)
{
    ngx_memzero(sig, sizeof(ngx_wsman_basic_file_t));

    sig->dev = fi->st_dev;
    sig->ino = fi->st_ino;
    sig->size = fi->st_size;
    sig->mtime = fi->st_mtim;
    sig->ctime = fi->st_ctim;
}


/*
 * The cache of this process.  Workers are forked from the master: each
 * makes its own key and table on first use, so no two processes share a
 * key.  NULL when no key could be made (then every request is checked
 * against the file, as without a cache).
 */
static ngx_wsman_basic_cache_t *
ngx_wsman_basic_cache(ngx_log_t *log)
{
    u_char                          key[32];
    EVP_MAC                        *mac;
    ngx_uint_t                      i;
    OSSL_PARAM                      params[2];
    static ngx_wsman_basic_cache_t  cache;

    if (cache.pid == ngx_pid) {
        return cache.mac ? &cache : NULL;
    }

    cache.pid = ngx_pid;
    cache.mac = NULL;
    cache.count = 0;

    ngx_queue_init(&cache.lru);

    for (i = 0; i < NGX_WSMAN_BASIC_CACHE_SIZE; i++) {
        ngx_queue_init(&cache.buckets[i]);
    }

    if (RAND_bytes(key, sizeof(key)) != 1) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "wsman: RAND_bytes() failed, Basic credentials are "
                      "not cached");
        return NULL;
    }

    mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (mac == NULL) {
        goto failed;
    }

    cache.mac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (cache.mac == NULL) {
        goto failed;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (!EVP_MAC_init(cache.mac, key, sizeof(key), params)) {
        EVP_MAC_CTX_free(cache.mac);
        cache.mac = NULL;
        goto failed;
    }

    OPENSSL_cleanse(key, sizeof(key));

    return &cache;

failed:

    OPENSSL_cleanse(key, sizeof(key));

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "wsman: no HMAC-SHA256 in libcrypto, Basic credentials "
                  "are not cached");

    return NULL;
}


/* HMAC(key, user \0 password): neither may hold a NUL (Basic decoding) */
static ngx_int_t
ngx_wsman_basic_digest(ngx_wsman_basic_cache_t *cache, ngx_str_t *user,
    ngx_str_t *password, u_char *digest)
{
    size_t  len;

    /* a NULL key starts over with the key already set */
    if (!EVP_MAC_init(cache->mac, NULL, 0, NULL)
        || !EVP_MAC_update(cache->mac, user->data, user->len)
        || !EVP_MAC_update(cache->mac, (u_char *) "", 1)
        || !EVP_MAC_update(cache->mac, password->data, password->len)
        || !EVP_MAC_final(cache->mac, digest, &len,
                          NGX_WSMAN_BASIC_DIGEST_LEN)
        || len != NGX_WSMAN_BASIC_DIGEST_LEN)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * NGX_OK: remembered, identity has the groups and SIDs (copied: a later
 * request may evict the entry while this one still runs, e.g. a long
 * Receive); NGX_DECLINED: not remembered, or no longer good.
 */
static ngx_int_t
ngx_wsman_basic_lookup(ngx_wsman_basic_cache_t *cache, ngx_pool_t *pool,
    ngx_wsman_loc_conf_t *lcf, u_char *digest, ngx_wsman_basic_file_t *sig,
    ngx_wsman_identity_t *identity)
{
    ngx_queue_t               *bucket, *q;
    ngx_array_t               *sids;
    ngx_wsman_basic_cached_t  *e;

    bucket = ngx_wsman_basic_bucket(cache, digest);

    for (q = ngx_queue_head(bucket);
         q != ngx_queue_sentinel(bucket);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_wsman_basic_cached_t, bucket);

        if (e->conf != lcf
            || CRYPTO_memcmp(e->digest, digest, NGX_WSMAN_BASIC_DIGEST_LEN)
               != 0)
        {
            continue;
        }

        if (e->expire <= ngx_time()
            || ngx_memcmp(&e->file, sig, sizeof(ngx_wsman_basic_file_t))
               != 0)
        {
            ngx_wsman_basic_drop(cache, e);
            return NGX_DECLINED;
        }

        sids = ngx_array_create(pool, ngx_max(e->nsids, 1),
                                sizeof(ngx_wsman_sid_t));
        if (sids == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(sids->elts, e->sids, e->nsids * sizeof(ngx_wsman_sid_t));
        sids->nelts = e->nsids;

        identity->groups.len = e->groups.len;
        identity->groups.data = ngx_pnalloc(pool, e->groups.len + 1);
        if (identity->groups.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(identity->groups.data, e->groups.data, e->groups.len);

        identity->sids = sids;
        identity->sids_conf = lcf;

        ngx_queue_remove(&e->lru);
        ngx_queue_insert_head(&cache->lru, &e->lru);

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * Remember a verification with the SIDs it grants in this location (the
 * access check then needs no passwd/group look-ups either).  Best effort:
 * when anything fails, the next request is checked against the file.
 */
static void
ngx_wsman_basic_insert(ngx_wsman_basic_cache_t *cache, ngx_pool_t *pool,
    ngx_log_t *log, ngx_wsman_loc_conf_t *lcf, u_char *digest,
    ngx_wsman_basic_file_t *sig, ngx_wsman_identity_t *identity)
{
    u_char                    *p;
    ngx_queue_t               *q;
    ngx_array_t               *sids;
    ngx_wsman_basic_cached_t  *e;

    if (ngx_time() - ngx_max(sig->mtime.tv_sec, sig->ctime.tv_sec)
        < NGX_WSMAN_BASIC_CACHE_SETTLE)
    {
        return;
    }

    sids = ngx_palloc(pool, sizeof(ngx_array_t));
    if (sids == NULL
        || ngx_wsman_identity_sids(pool, log, lcf, identity, sids) != NGX_OK)
    {
        return;
    }

    identity->sids = sids;
    identity->sids_conf = lcf;

    if (cache->count >= NGX_WSMAN_BASIC_CACHE_SIZE) {
        q = ngx_queue_last(&cache->lru);
        ngx_wsman_basic_drop(cache,
                             ngx_queue_data(q, ngx_wsman_basic_cached_t, lru));
    }

    e = ngx_alloc(sizeof(ngx_wsman_basic_cached_t)
                  + sids->nelts * sizeof(ngx_wsman_sid_t)
                  + identity->groups.len, log);
    if (e == NULL) {
        return;
    }

    ngx_memcpy(e->digest, digest, NGX_WSMAN_BASIC_DIGEST_LEN);
    e->conf = lcf;
    e->file = *sig;
    e->expire = ngx_time() + NGX_WSMAN_BASIC_CACHE_TIME;

    p = (u_char *) e + sizeof(ngx_wsman_basic_cached_t);

    /* a user without SIDs or groups has NULL arrays: memcpy() must not
     * see them even for 0 bytes */
    e->sids = (ngx_wsman_sid_t *) p;
    e->nsids = sids->nelts;

    if (sids->nelts) {
        p = ngx_cpymem(p, sids->elts,
                       sids->nelts * sizeof(ngx_wsman_sid_t));
    }

    e->groups.data = p;
    e->groups.len = identity->groups.len;

    if (identity->groups.len) {
        ngx_memcpy(p, identity->groups.data, identity->groups.len);
    }

    ngx_queue_insert_head(ngx_wsman_basic_bucket(cache, digest), &e->bucket);
    ngx_queue_insert_head(&cache->lru, &e->lru);
    cache->count++;
}


/* HMAC output is uniform: its first bytes pick the bucket */
static ngx_queue_t *
ngx_wsman_basic_bucket(ngx_wsman_basic_cache_t *cache, u_char *digest)
{
    uint32_t  h;

    ngx_memcpy(&h, digest, sizeof(uint32_t));

    return &cache->buckets[h & (NGX_WSMAN_BASIC_CACHE_SIZE - 1)];
}


static void
ngx_wsman_basic_drop(ngx_wsman_basic_cache_t *cache,
    ngx_wsman_basic_cached_t *e)
{
    ngx_queue_remove(&e->bucket);
    ngx_queue_remove(&e->lru);
    cache->count--;

    ngx_explicit_memzero(e->digest, NGX_WSMAN_BASIC_DIGEST_LEN);
    ngx_free(e);
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

    if (ngx_wsman_basic_read(pool, log, file, &content, NULL) != NGX_OK) {
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

    if (ngx_wsman_basic_read(cf->temp_pool, cf->log, file, &content, NULL)
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


/*
 * The user file as it is now (a failed stat() leaves *sig zeroed, which
 * matches nothing remembered from a readable file).
 */
void
ngx_wsman_basic_stat(ngx_str_t *file, ngx_wsman_basic_file_t *sig)
{
    ngx_file_info_t  fi;

    ngx_memzero(sig, sizeof(ngx_wsman_basic_file_t));

    if (file->len && ngx_file_info(file->data, &fi) != NGX_FILE_ERROR) {
        ngx_wsman_basic_sig(&fi, sig);
    }
}


/*
 * NTLM names are case-insensitive: the spelling the user file has for
 * name.  NGX_OK: *spelling set; NGX_DECLINED: no line for the name;
 * NGX_BUSY: lines with different spellings of it (two accounts to the
 * file, one to NTLM: refused rather than guessed).
 */
ngx_int_t
ngx_wsman_basic_spelling(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file,
    ngx_str_t *name, ngx_str_t *spelling)
{
    u_char                  *pos, *end;
    ngx_str_t                content;
    ngx_uint_t               malformed;
    ngx_wsman_user_entry_t   entry;

    ngx_str_null(spelling);

    if (ngx_wsman_basic_read(pool, log, file, &content, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    pos = content.data;
    end = content.data + content.len;
    malformed = 0;

    while (ngx_wsman_basic_next(&pos, end, &entry, &malformed) == NGX_OK) {
        if (entry.user.len != name->len
            || ngx_strncasecmp(entry.user.data, name->data, name->len) != 0)
        {
            continue;
        }

        if (spelling->len
            && ngx_strncmp(spelling->data, entry.user.data, name->len) != 0)
        {
            return NGX_BUSY;
        }

        *spelling = entry.user;
    }

    return spelling->len ? NGX_OK : NGX_DECLINED;
}
