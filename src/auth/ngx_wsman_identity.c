/*
 * SIDs of a caller.  The user SID is stable: the machine's account domain
 * (S-1-5-21-a-b-c, derived from /etc/machine-id like Windows derives it
 * at install) plus a RID from the uid (root: 500, like Administrator), or
 * from a hash of the name when there is no local account (or its uid is
 * too large for a RID of its own).
 */

#include <grp.h>
#include <pwd.h>

#include "ngx_wsman_identity.h"
#include "ngx_wsman_auth.h"
#include "ngx_wsman_log.h"



static ngx_int_t ngx_wsman_identity_add_groups(ngx_wsman_loc_conf_t *lcf,
    ngx_str_t *groups, ngx_array_t *sids);
static ngx_int_t ngx_wsman_identity_add_unix(ngx_log_t *log,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_identity_t *identity,
    ngx_array_t *sids, uint32_t *rid);
static ngx_int_t ngx_wsman_identity_push(ngx_array_t *sids,
    ngx_wsman_sid_t *sid);


ngx_int_t
ngx_wsman_machine_sid(ngx_conf_t *cf, ngx_wsman_sid_t *sid)
{
    u_char      buf[64], *p;
    ssize_t     n;
    uint32_t    h[3];
    ngx_fd_t    fd;
    ngx_uint_t  i;

    ngx_memzero(buf, sizeof(buf));
    n = 0;

    fd = ngx_open_file("/etc/machine-id", NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd != NGX_INVALID_FILE) {
        n = read(fd, buf, sizeof(buf) - 1);
        (void) ngx_close_file(fd);
    }

    if (n <= 0) {
        /* no machine id: fall back to the host name, still stable */
        p = ngx_cpystrn(buf, cf->cycle->hostname.data,
                        ngx_min(sizeof(buf), cf->cycle->hostname.len + 1));
        n = p - buf;
    }

    /* three FNV-1a hashes over the id, seeded differently */
    for (i = 0; i < 3; i++) {
        h[i] = 2166136261U ^ (uint32_t) (i * 0x9e3779b9U);

        for (p = buf; p < buf + n; p++) {
            h[i] ^= *p;
            h[i] *= 16777619U;
        }
    }

    ngx_memzero(sid, sizeof(ngx_wsman_sid_t));
    sid->revision = 1;
    sid->authority = 5;
    sid->count = 4;
    sid->sub[0] = 21;
    sid->sub[1] = h[0];
    sid->sub[2] = h[1];
    sid->sub[3] = h[2];

    return NGX_OK;
}

/* NSS answers remembered per worker (a power of two: also the buckets) */
#define NGX_WSMAN_ACCOUNT_CACHE_SIZE   1024
#define NGX_WSMAN_ACCOUNT_CACHE_TIME   60      /* seconds, as Basic's */


typedef struct {
    ngx_queue_t                bucket;
    ngx_queue_t                lru;            /* most recent first */
    time_t                     expire;
    ngx_wsman_account_t        account;
} ngx_wsman_account_cached_t;


typedef struct {
    ngx_queue_t                buckets[NGX_WSMAN_ACCOUNT_CACHE_SIZE];
    ngx_queue_t                lru;
    ngx_uint_t                 count;
    ngx_pid_t                  pid;            /* the process it is for */
} ngx_wsman_account_cache_t;


static ngx_wsman_account_cache_t  ngx_wsman_accounts;


/*
 * May block: in a pool thread (Basic, PAM), or on the event loop only on
 * a cache miss of the other schemes.  Touches nothing shared.
 */
void
ngx_wsman_account_resolve(ngx_str_t *name, ngx_wsman_account_t *a)
{
    int             n, err;
    char            cname[NGX_WSMAN_ACCOUNT_NAME], buf[4096];
    struct passwd   pw, *pwp;

    ngx_memzero(a, sizeof(ngx_wsman_account_t));

    if (name->len == 0 || name->len >= NGX_WSMAN_ACCOUNT_NAME) {
        return;
    }

    ngx_memcpy(a->name, name->data, name->len);
    a->name_len = name->len;
    a->valid = 1;

    ngx_memcpy(cname, name->data, name->len);
    cname[name->len] = '\0';

    pwp = NULL;
    err = getpwnam_r(cname, &pw, buf, sizeof(buf), &pwp);

    if (err != 0 || pwp == NULL) {
        /* an NSS failure is not remembered as "no such user" */
        a->valid = (err == 0 || err == ENOENT || err == ESRCH
                    || err == EBADF || err == EPERM);
        return;
    }

    a->pw_name_len = ngx_strlen(pw.pw_name);

    if (a->pw_name_len == 0 || a->pw_name_len >= NGX_WSMAN_ACCOUNT_NAME) {
        return;
    }

    ngx_memcpy(a->pw_name, pw.pw_name, a->pw_name_len);
    a->uid = pw.pw_uid;
    a->gid = pw.pw_gid;
    a->found = 1;

    n = NGX_WSMAN_MAX_GROUPS;

    if (getgrouplist(cname, pw.pw_gid, a->groups, &n) < 0) {
        a->truncated = 1;
        n = NGX_WSMAN_MAX_GROUPS;
    }

    a->ngroups = n;
}


static ngx_wsman_account_cache_t *
ngx_wsman_account_cache(void)
{
    ngx_uint_t                  i;
    ngx_wsman_account_cache_t  *cache;

    cache = &ngx_wsman_accounts;

    if (cache->pid != ngx_pid) {
        cache->pid = ngx_pid;
        cache->count = 0;

        ngx_queue_init(&cache->lru);

        for (i = 0; i < NGX_WSMAN_ACCOUNT_CACHE_SIZE; i++) {
            ngx_queue_init(&cache->buckets[i]);
        }
    }

    return cache;
}


static ngx_wsman_account_cached_t *
ngx_wsman_account_find(ngx_wsman_account_cache_t *cache, u_char *name,
    size_t len)
{
    ngx_queue_t                 *bucket, *q;
    ngx_wsman_account_cached_t  *e;

    bucket = &cache->buckets[ngx_hash_key(name, len)
                             & (NGX_WSMAN_ACCOUNT_CACHE_SIZE - 1)];

    for (q = ngx_queue_head(bucket);
         q != ngx_queue_sentinel(bucket);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_wsman_account_cached_t, bucket);

        if (e->account.name_len == len
            && ngx_memcmp(e->account.name, name, len) == 0)
        {
            return e;
        }
    }

    return NULL;
}


static void
ngx_wsman_account_drop(ngx_wsman_account_cache_t *cache,
    ngx_wsman_account_cached_t *e)
{
    ngx_queue_remove(&e->bucket);
    ngx_queue_remove(&e->lru);
    cache->count--;
    ngx_free(e);
}


/* remember an answer (from a thread or the loop); best effort */
void
ngx_wsman_account_put(ngx_log_t *log, ngx_wsman_account_t *a)
{
    ngx_queue_t                 *q;
    ngx_wsman_account_cache_t   *cache;
    ngx_wsman_account_cached_t  *e;

    if (!a->valid) {
        return;
    }

    cache = ngx_wsman_account_cache();

    e = ngx_wsman_account_find(cache, a->name, a->name_len);
    if (e) {
        ngx_wsman_account_drop(cache, e);
    }

    if (cache->count >= NGX_WSMAN_ACCOUNT_CACHE_SIZE) {
        q = ngx_queue_last(&cache->lru);
        ngx_wsman_account_drop(cache,
                               ngx_queue_data(q, ngx_wsman_account_cached_t,
                                              lru));
    }

    e = ngx_alloc(sizeof(ngx_wsman_account_cached_t), log);
    if (e == NULL) {
        return;
    }

    e->account = *a;
    e->expire = ngx_time() + NGX_WSMAN_ACCOUNT_CACHE_TIME;

    ngx_queue_insert_head(&cache->buckets[ngx_hash_key(a->name, a->name_len)
                                     & (NGX_WSMAN_ACCOUNT_CACHE_SIZE - 1)],
                          &e->bucket);
    ngx_queue_insert_head(&cache->lru, &e->lru);
    cache->count++;
}


/* remembered and fresh: ngx_wsman_account_get() will not ask NSS */
ngx_uint_t
ngx_wsman_account_known(ngx_str_t *name)
{
    ngx_wsman_account_cache_t   *cache;
    ngx_wsman_account_cached_t  *e;

    if (name->len == 0 || name->len >= NGX_WSMAN_ACCOUNT_NAME) {
        return 1;
    }

    cache = ngx_wsman_account_cache();
    e = ngx_wsman_account_find(cache, name->data, name->len);

    return e != NULL && e->expire > ngx_time();
}


/*
 * The account behind a name, remembered for a minute; a miss (not
 * resolved in a thread beforehand) asks NSS here.  The result is valid
 * until the next call.  NULL: not a name NSS could know.
 */
ngx_wsman_account_t *
ngx_wsman_account_get(ngx_log_t *log, ngx_str_t *name)
{
    ngx_wsman_account_cache_t   *cache;
    ngx_wsman_account_cached_t  *e;
    static ngx_wsman_account_t   scratch;

    if (name->len == 0 || name->len >= NGX_WSMAN_ACCOUNT_NAME) {
        return NULL;
    }

    cache = ngx_wsman_account_cache();

    e = ngx_wsman_account_find(cache, name->data, name->len);

    if (e && e->expire > ngx_time()) {
        ngx_queue_remove(&e->lru);
        ngx_queue_insert_head(&cache->lru, &e->lru);
        return &e->account;
    }

    if (e) {
        ngx_wsman_account_drop(cache, e);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "wsman: account \"%V\" looked up", name);

    ngx_wsman_account_resolve(name, &scratch);
    ngx_wsman_account_put(log, &scratch);

    e = ngx_wsman_account_find(cache, name->data, name->len);

    return e ? &e->account : &scratch;
}



static ngx_int_t
ngx_wsman_identity_push(ngx_array_t *sids, ngx_wsman_sid_t *sid)
{
    ngx_uint_t        i;
    ngx_wsman_sid_t  *s;

    s = sids->elts;

    for (i = 0; i < sids->nelts; i++) {
        if (ngx_wsman_sid_equal(&s[i], sid)) {
            return NGX_OK;
        }
    }

    s = ngx_array_push(sids);
    if (s == NULL) {
        return NGX_ERROR;
    }

    *s = *sid;

    return NGX_OK;
}


ngx_int_t
ngx_wsman_identity_sids(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_loc_conf_t *lcf, ngx_wsman_identity_t *identity,
    ngx_array_t *sids)
{
    u_char            *p;
    uint32_t           rid;
    ngx_uint_t         i;
    ngx_wsman_sid_t    sid;
    static ngx_str_t   everyone[] = {
        ngx_string("WD"), ngx_string("AU"), ngx_string("NU")
    };

    if (ngx_array_init(sids, pool, 8, sizeof(ngx_wsman_sid_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < sizeof(everyone) / sizeof(everyone[0]); i++) {
        if (ngx_wsman_sid_parse(everyone[i].data, everyone[i].len, &sid)
            != NGX_OK
            || ngx_wsman_identity_push(sids, &sid) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* FNV-1a of the name, above the range uids map to */
    rid = 2166136261U;
    for (p = identity->user.data; p < identity->user.data + identity->user.len;
         p++)
    {
        rid = (rid ^ *p) * 16777619U;
    }
    rid |= 0x80000000;

    if (ngx_wsman_identity_add_unix(log, lcf, identity, sids, &rid)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a SID left out could be one a deny ACE names */
    if (ngx_wsman_identity_add_groups(lcf, &identity->groups, sids)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (lcf->machine_sid) {
        sid = *(ngx_wsman_sid_t *) lcf->machine_sid;
        sid.sub[sid.count++] = rid;

        if (ngx_wsman_identity_push(sids, &sid) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * An identity's groups, and its SIDs for the location conf, from what a
 * cache remembered (the Basic cache, a connection's resolved identity),
 * copied onto pool: the cache may drop its entry before the request ends.
 */
ngx_int_t
ngx_wsman_identity_restore(ngx_pool_t *pool, ngx_wsman_identity_t *identity,
    void *conf, ngx_wsman_sid_t *sids, ngx_uint_t nsids, ngx_str_t *groups)
{
    ngx_array_t  *a;

    a = ngx_array_create(pool, ngx_max(nsids, 1), sizeof(ngx_wsman_sid_t));
    identity->groups.data = ngx_pnalloc(pool, groups->len + 1);

    if (a == NULL || identity->groups.data == NULL) {
        return NGX_ERROR;
    }

    /* no SIDs: sids may be anything, memcpy() must not see it */
    if (nsids) {
        ngx_memcpy(a->elts, sids, nsids * sizeof(ngx_wsman_sid_t));
    }

    a->nelts = nsids;

    ngx_memcpy(identity->groups.data, groups->data, groups->len);
    identity->groups.len = groups->len;

    identity->sids = a;
    identity->sids_conf = conf;

    return NGX_OK;
}


/* user-file groups: "admins,ops" */
static ngx_int_t
ngx_wsman_identity_add_groups(ngx_wsman_loc_conf_t *lcf, ngx_str_t *groups,
    ngx_array_t *sids)
{
    u_char                 *p, *end, *comma;
    size_t                  len;
    ngx_uint_t              i;
    ngx_wsman_group_sid_t  *g;

    if (lcf->group_sids == NULL || groups->len == 0) {
        return NGX_OK;
    }

    g = lcf->group_sids->elts;
    end = groups->data + groups->len;

    for (p = groups->data; p < end; p = comma + 1) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        len = comma - p;

        for (i = 0; i < lcf->group_sids->nelts; i++) {
            if (g[i].group.len == len
                && ngx_strncmp(g[i].group.data, p, len) == 0
                && ngx_wsman_identity_push(sids, &g[i].sid) != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* Unix groups of the local account (cached, see above) */
static ngx_int_t
ngx_wsman_identity_add_unix(ngx_log_t *log, ngx_wsman_loc_conf_t *lcf,
    ngx_wsman_identity_t *identity, ngx_array_t *sids, uint32_t *rid)
{
    int                     k;
    ngx_uint_t              i;
    ngx_wsman_account_t    *a;
    ngx_wsman_group_sid_t  *g;

    a = ngx_wsman_account_get(log, &identity->user);

    if (a == NULL || !a->found) {
        return NGX_OK;
    }

    /*
     * 1000 + uid, kept below the names' FNV range (top bit set) and
     * never wrapped: 1000 + (2^32 - 500) would be 500, root's
     * (Administrator).  A larger uid keeps the RID of its name.
     */
    if (a->uid == 0) {
        *rid = 500;

    } else if (a->uid <= 0x7fffffff - 1000) {
        *rid = 1000 + (uint32_t) a->uid;
    }

    if (lcf->group_sids == NULL) {
        return NGX_OK;
    }

    if (a->truncated) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "wsman: user \"%V\" is in more than %d groups, "
                      "the rest are ignored", &identity->user,
                      NGX_WSMAN_MAX_GROUPS);
    }

    g = lcf->group_sids->elts;

    for (k = 0; k < a->ngroups; k++) {
        for (i = 0; i < lcf->group_sids->nelts; i++) {
            if (g[i].unix_group && g[i].gid == a->groups[k]
                && ngx_wsman_identity_push(sids, &g[i].sid) != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/*
 * The one local account behind an NTLM user name, which NTLM compares
 * case-insensitively (gss-ntlmssp takes "EVE" for "eve"): the user
 * file's spelling, else the passwd entry's name (NSS may itself match
 * case-insensitively; pw_name is its canonical form) for the name or its
 * lower case, else the lower case.  Without this, another spelling of a
 * name would have other groups and SIDs and escape deny ACEs.
 * NGX_DECLINED: the user file spells the name several ways.
 */
ngx_int_t
ngx_wsman_identity_ntlm_account(ngx_pool_t *pool, ngx_log_t *log,
    ngx_wsman_loc_conf_t *lcf, ngx_str_t *name, ngx_str_t *account)
{
    char             cname[256];
    size_t           n;
    ngx_int_t        rc;
    ngx_str_t        spelling, lower;

    if (name->len == 0 || name->len >= sizeof(cname)) {
        return NGX_DECLINED;
    }

    if (lcf->user_file.len) {
        rc = ngx_wsman_basic_spelling(pool, log, &lcf->user_file, name,
                                      &spelling);

        if (rc == NGX_BUSY) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wsman: user file \"%V\" spells the NTLM user "
                          "\"%V\" in more than one way: refused",
                          &lcf->user_file, ngx_wsman_log_escape(pool, name));
            return NGX_DECLINED;
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            account->data = ngx_pstrdup(pool, &spelling);
            if (account->data == NULL) {
                return NGX_ERROR;
            }

            account->len = spelling.len;
            return NGX_OK;
        }
    }

    rc = ngx_wsman_identity_passwd_name(pool, name, account);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_strlow((u_char *) cname, name->data, name->len);

    if (ngx_strncmp(cname, name->data, name->len) != 0) {
        lower.data = (u_char *) cname;
        lower.len = name->len;

        rc = ngx_wsman_identity_passwd_name(pool, &lower, account);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    /*
     * Lower case is ASCII only here, while an NTLM backend may fold any
     * letter (gss-ntlmssp uses Unicode case folding): a non-ASCII name
     * that neither the user file nor passwd knows could be another
     * spelling of a known one, so it is refused, not guessed.
     */
    for (n = 0; n < name->len; n++) {
        if (name->data[n] >= 0x80) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "wsman: NTLM user \"%V\" has non-ASCII letters "
                          "and no user-file line or local account: refused",
                          ngx_wsman_log_escape(pool, name));
            return NGX_DECLINED;
        }
    }

    account->data = ngx_pnalloc(pool, name->len);
    if (account->data == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(account->data, name->data, name->len);
    account->len = name->len;

    return NGX_OK;
}


/*
 * The passwd entry's own spelling of a name (pw_name, as sshd uses it):
 * NSS modules such as sssd may match names case-insensitively.
 * NGX_DECLINED: no such account.
 */
ngx_int_t
ngx_wsman_identity_passwd_name(ngx_pool_t *pool, ngx_str_t *name,
    ngx_str_t *account)
{
    ngx_wsman_account_t  *a;

    a = ngx_wsman_account_get(ngx_cycle->log, name);

    if (a == NULL || !a->found) {
        return NGX_DECLINED;
    }

    /* a copy: name may live on the caller's stack */
    account->len = a->pw_name_len;
    account->data = ngx_pnalloc(pool, account->len);
    if (account->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(account->data, a->pw_name, account->len);

    return NGX_OK;
}
