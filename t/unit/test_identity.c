/*
 * Identities (src/auth/ngx_wsman_identity.c): the SIDs of a caller (WD,
 * AU and NU always, the user SID of the machine's domain with the uid's
 * RID or the name's FNV RID, wsman_group_sid mappings of Unix groups and
 * user-file groups, never a SID twice), restoring a remembered identity
 * as a copy, the one local account behind the spellings of an NTLM name,
 * and the per-worker account cache (expiry, LRU eviction at its size).
 *
 * Accounts are the machine's own: root, nobody and www-data (Debian's),
 * and names no account has.  The user file is stood in for below: its
 * parsing is auth_basic's (test_auth.c, the integration tests).
 */

#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "unit.h"
#include "ngx_wsman_auth.h"
#include "ngx_wsman_identity.h"


void unit_test_identity(void);


#define UNIT_MACHINE   "S-1-5-21-11-22-33"
#define UNIT_NOBODY_USER  "no-such-user-wsman-unit"


static ngx_pool_t  *unit_pool;


/* ------------------------------------------- stand-in for the user file */

/*
 * ngx_wsman_basic_spelling() over a fixed user file: "Eve" once, "Dup"
 * and "DUP" (one name spelled two ways), "Root" (a user-file spelling
 * of a local account).  The real one folds case the same way.
 */
static const char  *unit_user_file[] = { "Eve", "Dup", "DUP", "Root", NULL };

ngx_int_t
ngx_wsman_basic_spelling(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *file,
    ngx_str_t *name, ngx_str_t *spelling)
{
    size_t       len;
    ngx_uint_t   i;

    ngx_str_null(spelling);

    for (i = 0; unit_user_file[i]; i++) {
        len = strlen(unit_user_file[i]);

        if (len != name->len
            || ngx_strncasecmp((u_char *) unit_user_file[i], name->data,
                               len) != 0)
        {
            continue;
        }

        if (spelling->len
            && ngx_strncmp(spelling->data, unit_user_file[i], len) != 0)
        {
            return NGX_BUSY;
        }

        spelling->data = (u_char *) unit_user_file[i];
        spelling->len = len;
    }

    return spelling->len ? NGX_OK : NGX_DECLINED;
}


/* ------------------------------------------------------------- helpers */

static ngx_wsman_sid_t
unit_sid(const char *text)
{
    ngx_wsman_sid_t  sid;

    ngx_memzero(&sid, sizeof(sid));

    if (ngx_wsman_sid_parse((u_char *) text, strlen(text), &sid) != NGX_OK) {
        UNIT_CHECK(0 && "test SID parses");
    }

    return sid;
}


/* how often the SID (text, or an alias as SDDL writes it) is in sids */
static ngx_uint_t
unit_sid_count(ngx_array_t *sids, const char *text)
{
    ngx_uint_t        i, n;
    ngx_wsman_sid_t   sid, *s;

    sid = unit_sid(text);
    s = sids->elts;
    n = 0;

    for (i = 0; i < sids->nelts; i++) {
        n += ngx_wsman_sid_equal(&s[i], &sid) ? 1 : 0;
    }

    return n;
}


/* the SID at i as text, for UNIT_EQ_STR */
static ngx_str_t
unit_sid_text(ngx_array_t *sids, ngx_uint_t i)
{
    ngx_str_t         s;
    ngx_wsman_sid_t  *sid;

    if (i >= sids->nelts) {
        ngx_str_set(&s, "(none)");
        return s;
    }

    sid = sids->elts;
    s.data = ngx_pnalloc(unit_pool, NGX_WSMAN_SID_LEN);
    s.len = ngx_wsman_sid_format(s.data, &sid[i]) - s.data;

    return s;
}


static ngx_int_t
unit_sids(ngx_wsman_loc_conf_t *lcf, const char *user, const char *groups,
    ngx_array_t *sids)
{
    ngx_wsman_identity_t  id;

    ngx_memzero(&id, sizeof(id));
    id.user.data = (u_char *) user;
    id.user.len = strlen(user);
    id.groups.data = (u_char *) groups;
    id.groups.len = strlen(groups);

    return ngx_wsman_identity_sids(unit_pool, &unit_log, lcf, &id, sids);
}


/* FNV-1a of the name with the top bit set: the RID of a name without a
 * local account, computed here independently of the code under test */
static uint32_t
unit_fnv_rid(const char *name)
{
    uint32_t  h;

    for (h = 2166136261U; *name; name++) {
        h = (h ^ (u_char) *name) * 16777619U;
    }

    return h | 0x80000000;
}


static void
unit_group_sid(ngx_wsman_loc_conf_t *lcf, const char *group, int gid,
    const char *sid)
{
    ngx_wsman_group_sid_t  *g;

    if (lcf->group_sids == NULL) {
        lcf->group_sids = ngx_array_create(unit_pool, 4,
                                           sizeof(ngx_wsman_group_sid_t));
    }

    g = ngx_array_push(lcf->group_sids);
    ngx_memzero(g, sizeof(ngx_wsman_group_sid_t));
    g->group.data = (u_char *) group;
    g->group.len = strlen(group);
    g->sid = unit_sid(sid);

    if (gid >= 0) {
        g->gid = (ngx_gid_t) gid;
        g->unix_group = 1;
    }
}


/* ---------------------------------------------------------------- SIDs */

static void
unit_test_identity_sids_base(void)
{
    u_char                buf[64];
    ngx_str_t             expect;
    ngx_array_t           sids;
    struct passwd        *pw;
    ngx_wsman_sid_t       machine;
    ngx_wsman_loc_conf_t  lcf;

    ngx_memzero(&lcf, sizeof(lcf));

    /* no local account, no mapping, no machine SID: just the three */
    UNIT_CHECK(unit_sids(&lcf, UNIT_NOBODY_USER, "", &sids) == NGX_OK);
    UNIT_EQ_UINT(sids.nelts, 3);
    UNIT_EQ_STR(unit_sid_text(&sids, 0), "S-1-1-0");      /* WD */
    UNIT_EQ_STR(unit_sid_text(&sids, 1), "S-1-5-11");     /* AU */
    UNIT_EQ_STR(unit_sid_text(&sids, 2), "S-1-5-2");      /* NU */

    /* the user SID: the machine's domain plus the name's FNV RID */
    machine = unit_sid(UNIT_MACHINE);
    lcf.machine_sid = &machine;

    UNIT_CHECK(unit_sids(&lcf, UNIT_NOBODY_USER, "", &sids) == NGX_OK);
    UNIT_EQ_UINT(sids.nelts, 4);
    expect.data = buf;
    expect.len = ngx_sprintf(buf, UNIT_MACHINE "-%uL",
                             (uint64_t) unit_fnv_rid(UNIT_NOBODY_USER))
                 - buf;
    UNIT_CHECK(unit_sid_text(&sids, 3).len == expect.len
               && ngx_memcmp(unit_sid_text(&sids, 3).data, expect.data,
                             expect.len) == 0);

    /* another name, another RID: the hash covers every byte */
    UNIT_CHECK(unit_sids(&lcf, UNIT_NOBODY_USER "x", "", &sids) == NGX_OK);
    UNIT_CHECK(unit_sid_text(&sids, 3).len != expect.len
               || ngx_memcmp(unit_sid_text(&sids, 3).data, expect.data,
                             expect.len) != 0);

    /* local accounts: root is 500 (Administrator), others 1000 + uid */
    UNIT_CHECK(unit_sids(&lcf, "root", "", &sids) == NGX_OK);
    UNIT_EQ_STR(unit_sid_text(&sids, 3), UNIT_MACHINE "-500");

    pw = getpwnam("www-data");
    if (UNIT_CHECK(pw != NULL)) {
        UNIT_CHECK(unit_sids(&lcf, "www-data", "", &sids) == NGX_OK);
        expect.len = ngx_sprintf(buf, UNIT_MACHINE "-%uL",
                                 (uint64_t) (1000 + pw->pw_uid)) - buf;
        UNIT_CHECK(unit_sid_text(&sids, 3).len == expect.len
                   && ngx_memcmp(unit_sid_text(&sids, 3).data, buf,
                                 expect.len) == 0);
    }

    /* the same account under two names is not the same RID source:
     * "ROOT" is no local account (NSS files are case-sensitive) */
    UNIT_CHECK(unit_sids(&lcf, "ROOT", "", &sids) == NGX_OK);
    UNIT_CHECK(unit_sid_count(&sids, UNIT_MACHINE "-500") == 0);
}


/* an account the cache knows (as if NSS had said so), with any uid */
static void
unit_account_fake(const char *name, ngx_uid_t uid)
{
    ngx_wsman_account_t  a;

    ngx_memzero(&a, sizeof(a));
    a.name_len = strlen(name);
    ngx_memcpy(a.name, name, a.name_len);
    a.pw_name_len = a.name_len;
    ngx_memcpy(a.pw_name, name, a.name_len);
    a.uid = uid;
    a.gid = 4242;
    a.found = 1;
    a.valid = 1;

    ngx_wsman_account_put(&unit_log, &a);
}


/* the user SID of name: the machine's domain and rid */
static ngx_uint_t
unit_user_rid_is(ngx_wsman_loc_conf_t *lcf, const char *name, uint32_t rid)
{
    u_char       buf[64];
    ngx_str_t    s;
    ngx_array_t  sids;

    if (unit_sids(lcf, name, "", &sids) != NGX_OK || sids.nelts != 4) {
        return 0;
    }

    s = unit_sid_text(&sids, 3);

    return s.len == (size_t) (ngx_sprintf(buf, UNIT_MACHINE "-%uL",
                                          (uint64_t) rid) - buf)
           && ngx_memcmp(s.data, buf, s.len) == 0;
}


/*
 * Large uids (directory services hand them out) must not wrap onto
 * another account's RID: 1000 + (2^32 - 500) is 500, Administrator's,
 * the one root has; from 2^31 - 1000 up, 1000 + uid lands in the range
 * of the names' FNV RIDs.  Such a uid keeps the RID of its name.
 */
static void
unit_test_identity_sids_large_uid(void)
{
    ngx_array_t           sids;
    ngx_wsman_sid_t       machine;
    ngx_wsman_loc_conf_t  lcf;

    ngx_memzero(&lcf, sizeof(lcf));
    machine = unit_sid(UNIT_MACHINE);
    lcf.machine_sid = &machine;

    unit_account_fake("unit-uid-wraps", (ngx_uid_t) 4294966796U);
    unit_account_fake("unit-uid-top", (ngx_uid_t) 2147482648U);
    unit_account_fake("unit-uid-fits", (ngx_uid_t) 2147482647U);
    unit_account_fake("unit-uid-max", (ngx_uid_t) 4294967294U);

    UNIT_CHECK(unit_sids(&lcf, "unit-uid-wraps", "", &sids) == NGX_OK);
    UNIT_EQ_UINT(unit_sid_count(&sids, UNIT_MACHINE "-500"), 0);
    UNIT_CHECK(unit_user_rid_is(&lcf, "unit-uid-wraps",
                                unit_fnv_rid("unit-uid-wraps")));

    UNIT_CHECK(unit_user_rid_is(&lcf, "unit-uid-top",
                                unit_fnv_rid("unit-uid-top")));
    UNIT_CHECK(unit_user_rid_is(&lcf, "unit-uid-max",
                                unit_fnv_rid("unit-uid-max")));

    /* the largest uid that fits keeps 1000 + uid */
    UNIT_CHECK(unit_user_rid_is(&lcf, "unit-uid-fits", 0x7fffffff));

    /* root is still Administrator */
    UNIT_CHECK(unit_user_rid_is(&lcf, "root", 500));
}


static void
unit_test_identity_sids_groups(void)
{
    ngx_array_t           sids;
    struct group         *gr;
    ngx_wsman_sid_t       machine;
    ngx_wsman_loc_conf_t  lcf;

    ngx_memzero(&lcf, sizeof(lcf));
    machine = unit_sid(UNIT_MACHINE);
    lcf.machine_sid = &machine;

    /* Unix groups: root is in group 0, nobody is not */
    unit_group_sid(&lcf, "root", 0, "S-1-5-21-9-9-9-1000");

    gr = getgrnam("nogroup");
    if (UNIT_CHECK(gr != NULL)) {
        unit_group_sid(&lcf, "nogroup", (int) gr->gr_gid,
                       "S-1-5-21-9-9-9-1001");
    }

    /* user-file groups, by exact name */
    unit_group_sid(&lcf, "admins", -1, "S-1-5-21-9-9-9-2000");
    unit_group_sid(&lcf, "ops", -1, "S-1-5-21-9-9-9-2001");
    unit_group_sid(&lcf, "adm", -1, "S-1-5-21-9-9-9-2002");

    /* a second name for a SID already held, and a mapping onto WD */
    unit_group_sid(&lcf, "operators", -1, "S-1-5-21-9-9-9-2001");
    unit_group_sid(&lcf, "everyone", -1, "S-1-1-0");
    unit_group_sid(&lcf, "root", -1, "S-1-5-21-9-9-9-1000");

    UNIT_CHECK(unit_sids(&lcf, "root", "", &sids) == NGX_OK);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-1000"), 1);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-1001"), 0);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-2000"), 0);

    UNIT_CHECK(unit_sids(&lcf, "nobody", "", &sids) == NGX_OK);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-1000"), 0);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-1001"), 1);

    /* a name without an account has no Unix groups */
    UNIT_CHECK(unit_sids(&lcf, UNIT_NOBODY_USER, "", &sids) == NGX_OK);
    UNIT_EQ_UINT(sids.nelts, 4);

    /* user-file groups: whole names only ("admins" is not "adm") */
    UNIT_CHECK(unit_sids(&lcf, UNIT_NOBODY_USER, "admins,ops", &sids)
               == NGX_OK);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-2000"), 1);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-2001"), 1);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-2002"), 0);
    UNIT_EQ_UINT(sids.nelts, 6);

    UNIT_CHECK(unit_sids(&lcf, UNIT_NOBODY_USER, "opsx,xadmins,ad", &sids)
               == NGX_OK);
    UNIT_EQ_UINT(sids.nelts, 4);

    /* no duplicates: two groups with one SID, a group mapped onto WD, a
     * user-file group and a Unix group with the same SID */
    UNIT_CHECK(unit_sids(&lcf, "root", "ops,operators,everyone,root,ops",
                         &sids) == NGX_OK);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-2001"), 1);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-1-0"), 1);
    UNIT_EQ_UINT(unit_sid_count(&sids, "S-1-5-21-9-9-9-1000"), 1);
    UNIT_EQ_UINT(unit_sid_count(&sids, UNIT_MACHINE "-500"), 1);
    UNIT_EQ_UINT(sids.nelts, 6);

    /* an empty group between commas names nothing */
    UNIT_CHECK(unit_sids(&lcf, UNIT_NOBODY_USER, ",,admins,", &sids)
               == NGX_OK);
    UNIT_EQ_UINT(sids.nelts, 5);
}


/* -------------------------------------------------------------- restore */

static void
unit_test_identity_restore(void)
{
    u_char                 groups_buf[32];
    ngx_str_t              groups;
    ngx_wsman_sid_t        src[2], *copy;
    ngx_wsman_identity_t   id;
    ngx_wsman_loc_conf_t   lcf;

    ngx_memzero(&id, sizeof(id));
    src[0] = unit_sid("S-1-5-21-1-2-3-1001");
    src[1] = unit_sid("S-1-5-32-544");

    ngx_memcpy(groups_buf, "admins,ops", sizeof("admins,ops"));
    groups.data = groups_buf;
    groups.len = sizeof("admins,ops") - 1;

    UNIT_CHECK(ngx_wsman_identity_restore(unit_pool, &id, &lcf, src, 2,
                                          &groups)
               == NGX_OK);

    if (!UNIT_CHECK(id.sids != NULL)) {
        return;
    }

    UNIT_EQ_UINT(id.sids->nelts, 2);
    UNIT_CHECK(id.sids_conf == &lcf);
    UNIT_EQ_STR(id.groups, "admins,ops");

    /* the cache the source lives in changes or goes: the copy does not */
    src[0] = unit_sid("S-1-1-0");
    src[1].sub[0] = 7;
    ngx_memset(groups_buf, 'X', sizeof(groups_buf));

    copy = id.sids->elts;
    UNIT_CHECK(copy != src);
    UNIT_EQ_STR(unit_sid_text(id.sids, 0), "S-1-5-21-1-2-3-1001");
    UNIT_EQ_STR(unit_sid_text(id.sids, 1), "S-1-5-32-544");
    UNIT_EQ_STR(id.groups, "admins,ops");
    UNIT_CHECK(id.groups.data != groups_buf);

    /* no SIDs at all, nothing to read behind the pointer */
    ngx_memzero(&id, sizeof(id));
    ngx_str_set(&groups, "");

    UNIT_CHECK(ngx_wsman_identity_restore(unit_pool, &id, &lcf, NULL, 0,
                                          &groups)
               == NGX_OK);
    UNIT_CHECK(id.sids != NULL && id.sids->nelts == 0);
    UNIT_EQ_UINT(id.groups.len, 0);

    /* out of memory is an error, not a half identity */
    ngx_memzero(&id, sizeof(id));
    ngx_str_set(&groups, "ops");
    unit_alloc_fail_after(1);
    UNIT_CHECK(ngx_wsman_identity_restore(unit_pool, &id, &lcf, src, 2,
                                          &groups)
               == NGX_ERROR);
    unit_alloc_fail_after(-1);
    UNIT_CHECK(id.sids == NULL);
}


/* --------------------------------------------------------- NTLM account */

static ngx_int_t
unit_ntlm(ngx_wsman_loc_conf_t *lcf, const char *name, ngx_str_t *account)
{
    ngx_str_t  n;

    n.data = (u_char *) name;
    n.len = strlen(name);
    ngx_str_null(account);

    return ngx_wsman_identity_ntlm_account(unit_pool, &unit_log, lcf, &n,
                                           account);
}


static void
unit_test_identity_ntlm(void)
{
    u_char                name[16];
    ngx_str_t             account, n;
    ngx_wsman_loc_conf_t  lcf;

    ngx_memzero(&lcf, sizeof(lcf));
    ngx_str_set(&lcf.user_file, "/unit/users");

    /* the user file's spelling, whatever the client's */
    UNIT_CHECK(unit_ntlm(&lcf, "EVE", &account) == NGX_OK);
    UNIT_EQ_STR(account, "Eve");
    UNIT_CHECK(unit_ntlm(&lcf, "eve", &account) == NGX_OK);
    UNIT_EQ_STR(account, "Eve");
    UNIT_CHECK(unit_ntlm(&lcf, "Eve", &account) == NGX_OK);
    UNIT_EQ_STR(account, "Eve");

    /* the user file wins over passwd: "root" is the file's "Root" */
    UNIT_CHECK(unit_ntlm(&lcf, "rOOT", &account) == NGX_OK);
    UNIT_EQ_STR(account, "Root");

    /* a file that spells one name two ways is refused, logged */
    unit_log_reset();
    UNIT_CHECK(unit_ntlm(&lcf, "dup", &account) == NGX_DECLINED);
    UNIT_CHECK(unit_log_contains("more than one way"));

    /* no user file: passwd's own spelling, for the name or its lower
     * case; every spelling of one account is that account */
    ngx_str_null(&lcf.user_file);

    UNIT_CHECK(unit_ntlm(&lcf, "root", &account) == NGX_OK);
    UNIT_EQ_STR(account, "root");
    UNIT_CHECK(unit_ntlm(&lcf, "ROOT", &account) == NGX_OK);
    UNIT_EQ_STR(account, "root");
    UNIT_CHECK(unit_ntlm(&lcf, "WWW-Data", &account) == NGX_OK);
    UNIT_EQ_STR(account, "www-data");
    UNIT_CHECK(unit_ntlm(&lcf, "NoBody", &account) == NGX_OK);
    UNIT_EQ_STR(account, "nobody");

    /* the file's account does not exist locally: lower case */
    UNIT_CHECK(unit_ntlm(&lcf, "EVE", &account) == NGX_OK);
    UNIT_EQ_STR(account, "eve");

    /* the account is a copy: the name may live on the caller's stack */
    ngx_memcpy(name, "ROOT", 4);
    n.data = name;
    n.len = 4;
    UNIT_CHECK(ngx_wsman_identity_ntlm_account(unit_pool, &unit_log, &lcf,
                                               &n, &account)
               == NGX_OK);
    ngx_memcpy(name, "xxxx", 4);
    UNIT_EQ_STR(account, "root");

    /* non-ASCII that nothing knows could fold onto a known name:
     * refused, not guessed */
    unit_log_reset();
    UNIT_CHECK(unit_ntlm(&lcf, "R\xc3\x96OT", &account) == NGX_DECLINED);
    UNIT_CHECK(unit_log_contains("non-ASCII"));

    /* nothing, or a name longer than any account */
    UNIT_CHECK(unit_ntlm(&lcf, "", &account) == NGX_DECLINED);

    {
        char  long_name[300];

        ngx_memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        UNIT_CHECK(unit_ntlm(&lcf, long_name, &account) == NGX_DECLINED);
    }
}


/* --------------------------------------------------------------- cache */

static ngx_str_t
unit_name(u_char *buf, const char *fmt, ngx_uint_t i)
{
    ngx_str_t  s;

    s.data = buf;
    s.len = ngx_sprintf(buf, fmt, i) - buf;

    return s;
}


static void
unit_account_put(ngx_str_t *name, ngx_uid_t uid)
{
    ngx_wsman_account_t  a;

    ngx_memzero(&a, sizeof(a));
    ngx_memcpy(a.name, name->data, name->len);
    a.name_len = name->len;
    ngx_memcpy(a.pw_name, name->data, name->len);
    a.pw_name_len = name->len;
    a.uid = uid;
    a.found = 1;
    a.valid = 1;

    ngx_wsman_account_put(&unit_log, &a);
}


static void
unit_test_identity_cache(void)
{
    u_char                buf[64];
    ngx_str_t             name;
    ngx_uint_t            i;
    ngx_wsman_account_t  *a, invalid;

    unit_time_set(1000000);

    /* a miss asks NSS and remembers the answer */
    ngx_str_set(&name, "root");
    a = ngx_wsman_account_get(&unit_log, &name);
    if (UNIT_CHECK(a != NULL)) {
        UNIT_CHECK(a->found);
        UNIT_EQ_UINT(a->uid, 0);
        UNIT_EQ_UINT(a->pw_name_len, 4);
    }
    UNIT_CHECK(ngx_wsman_account_known(&name));

    /* "no such user" is an answer too */
    ngx_str_set(&name, UNIT_NOBODY_USER);
    a = ngx_wsman_account_get(&unit_log, &name);
    UNIT_CHECK(a != NULL && a->valid && !a->found);
    UNIT_CHECK(ngx_wsman_account_known(&name));

    /* what was put is what get answers, without NSS: NSS knows no
     * such account */
    ngx_str_set(&name, "unit-cached");
    UNIT_CHECK(!ngx_wsman_account_known(&name));
    unit_account_put(&name, 4242);
    UNIT_CHECK(ngx_wsman_account_known(&name));
    a = ngx_wsman_account_get(&unit_log, &name);
    UNIT_CHECK(a != NULL && a->found && a->uid == 4242);

    /* a second put replaces the first */
    unit_account_put(&name, 4343);
    a = ngx_wsman_account_get(&unit_log, &name);
    UNIT_CHECK(a != NULL && a->uid == 4343);

    /* names are compared exactly: another spelling is another entry */
    ngx_str_set(&name, "UNIT-CACHED");
    UNIT_CHECK(!ngx_wsman_account_known(&name));

    /* an NSS failure (not valid) is not remembered */
    ngx_memzero(&invalid, sizeof(invalid));
    ngx_memcpy(invalid.name, "unit-failed", 11);
    invalid.name_len = 11;
    ngx_wsman_account_put(&unit_log, &invalid);
    ngx_str_set(&name, "unit-failed");
    UNIT_CHECK(!ngx_wsman_account_known(&name));

    /* a minute later the entry is stale: get asks NSS again, which
     * knows no "unit-cached" */
    ngx_str_set(&name, "unit-cached");
    unit_time_set(1000000 + 59);
    UNIT_CHECK(ngx_wsman_account_known(&name));
    unit_time_set(1000000 + 61);
    UNIT_CHECK(!ngx_wsman_account_known(&name));
    a = ngx_wsman_account_get(&unit_log, &name);
    UNIT_CHECK(a != NULL && !a->found);

    /* names no account can have are not looked up at all */
    ngx_str_set(&name, "");
    UNIT_CHECK(ngx_wsman_account_get(&unit_log, &name) == NULL);
    UNIT_CHECK(ngx_wsman_account_known(&name));

    /*
     * LRU at the cache size (1024): fill it with fresh names (everything
     * before is older and goes first), use the oldest, add one more: the
     * least recently used one goes, the one just used stays.
     */
    unit_time_set(2000000);

    for (i = 0; i < 1024; i++) {
        name = unit_name(buf, "unit-lru-%ui", i);
        unit_account_put(&name, 10000 + i);
    }

    name = unit_name(buf, "unit-lru-%ui", 0);
    UNIT_CHECK(ngx_wsman_account_known(&name));
    ngx_str_set(&name, "root");
    UNIT_CHECK(!ngx_wsman_account_known(&name));

    name = unit_name(buf, "unit-lru-%ui", 0);
    a = ngx_wsman_account_get(&unit_log, &name);
    UNIT_CHECK(a != NULL && a->uid == 10000);

    ngx_str_set(&name, "unit-lru-new");
    unit_account_put(&name, 1);

    UNIT_CHECK(ngx_wsman_account_known(&name));
    name = unit_name(buf, "unit-lru-%ui", 0);
    UNIT_CHECK(ngx_wsman_account_known(&name));
    name = unit_name(buf, "unit-lru-%ui", 1);
    UNIT_CHECK(!ngx_wsman_account_known(&name));
    name = unit_name(buf, "unit-lru-%ui", 2);
    UNIT_CHECK(ngx_wsman_account_known(&name));
    name = unit_name(buf, "unit-lru-%ui", 1023);
    UNIT_CHECK(ngx_wsman_account_known(&name));
}


void
unit_test_identity(void)
{
    unit_pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(unit_pool != NULL)) {
        return;
    }

    unit_time_set(1000000);

    /* the account cache is per process: nginx sets ngx_pid at start */
    if (ngx_pid == 0) {
        ngx_pid = getpid();
    }

    unit_test_identity_sids_base();
    unit_test_identity_sids_groups();
    unit_test_identity_sids_large_uid();
    unit_test_identity_restore();
    unit_test_identity_ntlm();
    unit_test_identity_cache();

    ngx_destroy_pool(unit_pool);
    unit_pool = NULL;
}
