/*
 * The SDDL parser (src/access/ngx_wsman_sddl.c) on a wsman_root_sddl or
 * wsman_resource_sddl value, with and without the machine's domain SID
 * as ngx_wsman_module.c has it, then the access and audit checks a
 * request runs; and the same text as a single SID, which must survive
 * ngx_wsman_sid_format() and a second parse unchanged.
 */

#include "fuzz.h"
#include "ngx_wsman_sddl.h"


static ngx_wsman_sid_t  fuzz_domain;
static ngx_wsman_sid_t  fuzz_callers[5];


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_uint_t          i;
    static const char   domain[] = "S-1-5-21-1004336348-1177238915-"
                                   "682003330";
    static const char  *sids[] = {
        "S-1-1-0",                      /* WD, everyone */
        "S-1-5-11",                     /* AU */
        "S-1-5-32-544",                 /* BA */
        "S-1-5-21-1004336348-1177238915-682003330-512",
        "S-1-5-18",                     /* SY */
    };

    if (ngx_wsman_sid_parse((u_char *) domain, sizeof(domain) - 1,
                            &fuzz_domain)
        != NGX_OK)
    {
        abort();
    }

    for (i = 0; i < 5; i++) {
        if (ngx_wsman_sid_parse((u_char *) sids[i], ngx_strlen(sids[i]),
                                &fuzz_callers[i])
            != NGX_OK)
        {
            abort();
        }
    }

    return 0;
}


/* the text form fits NGX_WSMAN_SID_LEN and reads back as the same SID */
static void
fuzz_sddl_sid_round_trip(ngx_pool_t *pool, ngx_wsman_sid_t *sid)
{
    u_char           *buf, *last;
    ngx_wsman_sid_t   again;

    buf = ngx_pnalloc(pool, NGX_WSMAN_SID_LEN);
    if (buf == NULL) {
        abort();
    }

    last = ngx_wsman_sid_format(buf, sid);

    fuzz_assert(last > buf && (size_t) (last - buf) <= NGX_WSMAN_SID_LEN);
    fuzz_assert(ngx_wsman_sid_parse(buf, last - buf, &again) == NGX_OK);
    fuzz_assert(ngx_wsman_sid_equal(sid, &again));
}


static void
fuzz_sddl_checks(ngx_pool_t *pool, ngx_wsman_sddl_t *sd)
{
    uint32_t          desired;
    ngx_uint_t        i, n, naces, flags;
    ngx_wsman_ace_t  *aces[8], *ace;

    static const uint32_t  rights[] = {
        NGX_WSMAN_RIGHT_GR, NGX_WSMAN_RIGHT_GW, NGX_WSMAN_RIGHT_GX,
        NGX_WSMAN_RIGHT_GA, NGX_WSMAN_RIGHT_GR | NGX_WSMAN_RIGHT_GX
    };

    if (sd->has_owner) {
        fuzz_sddl_sid_round_trip(pool, &sd->owner);
    }

    if (sd->has_group) {
        fuzz_sddl_sid_round_trip(pool, &sd->group);
    }

    fuzz_assert(sd->dacl.aces.nelts <= NGX_WSMAN_ACL_MAX_ACES);
    fuzz_assert(sd->sacl.aces.nelts <= NGX_WSMAN_ACL_MAX_ACES);

    ace = sd->dacl.aces.elts;

    for (i = 0; i < sd->dacl.aces.nelts; i++) {
        fuzz_sddl_sid_round_trip(pool, &ace[i].sid);
    }

    for (i = 0; i < sizeof(rights) / sizeof(rights[0]); i++) {
        desired = rights[i];

        /* no caller, one, and all of them: the first ones in the list are
         * what an anonymous Identify and a plain user hold */
        for (n = 0; n <= 5; n++) {
            (void) ngx_wsman_sddl_access(sd, fuzz_callers, n, desired);
        }

        naces = sizeof(aces) / sizeof(aces[0]);
        flags = ngx_wsman_sddl_audit(sd, fuzz_callers, 5, desired, aces,
                                     &naces);

        fuzz_assert(naces <= sizeof(aces) / sizeof(aces[0]));
        fuzz_assert((flags & ~(ngx_uint_t) (NGX_WSMAN_ACE_AUDIT_SUCCESS
                                            | NGX_WSMAN_ACE_AUDIT_FAILURE))
                    == 0);

        (void) ngx_wsman_sddl_audit(sd, fuzz_callers, 2, desired, NULL,
                                    NULL);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t          rc;
    ngx_str_t          text, error;
    ngx_pool_t        *pool;
    ngx_wsman_sid_t    sid;
    ngx_wsman_sddl_t  *sd;

    pool = fuzz_pool();

    fuzz_str(pool, data, size, &text);

    sd = NULL;
    ngx_str_null(&error);

    rc = ngx_wsman_sddl_parse(pool, &text, &sd, &error);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);
    fuzz_assert(rc != NGX_OK || sd != NULL);
    fuzz_assert(rc != NGX_DECLINED || error.len > 0);

    if (rc == NGX_OK) {
        fuzz_sddl_checks(pool, sd);
    }

    sd = NULL;
    ngx_str_null(&error);

    rc = ngx_wsman_sddl_parse_domain(pool, &text, &fuzz_domain, &sd, &error);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);
    fuzz_assert(rc != NGX_DECLINED || error.len > 0);

    if (rc == NGX_OK) {
        fuzz_sddl_checks(pool, sd);
    }

    if (ngx_wsman_sid_parse(text.data, text.len, &sid) == NGX_OK) {
        fuzz_sddl_sid_round_trip(pool, &sid);
    }

    if (ngx_wsman_sid_parse_domain(text.data, text.len, &fuzz_domain, &sid)
        == NGX_OK)
    {
        fuzz_sddl_sid_round_trip(pool, &sid);
    }

    ngx_destroy_pool(pool);

    return 0;
}
