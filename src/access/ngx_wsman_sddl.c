/*
 * SDDL parsing and the access check WinRM makes with it.
 *
 * The grammar is Windows' (Security Descriptor String Format, ACE Strings,
 * SID Strings), parsed strictly: no white space between tokens, every code
 * known, every number in range.  A descriptor that Windows would read
 * differently must fail here rather than grant something by accident.
 */

#include "ngx_wsman_sddl.h"


#define NGX_WSMAN_SDDL_ERROR_LEN     256

/* longest token quoted back in an error message */
#define NGX_WSMAN_SDDL_TOKEN_LEN     16

#define NGX_WSMAN_SID_AUTHORITY_MAX  0xffffffffffffULL
#define NGX_WSMAN_SID_SUB_MAXVAL     0xffffffffULL


typedef struct {
    ngx_pool_t                *pool;
    const u_char              *start;     /* positions count from here */
    const u_char              *pos;
    const u_char              *end;       /* trailing white space cut */
    ngx_wsman_sid_t           *domain;    /* NULL: none known */
    ngx_str_t                 *error;
} ngx_wsman_sddl_ctx_t;


/* why a SID did not parse; the scanner leaves the position of the fault */
typedef enum {
    NGX_WSMAN_SID_OK = 0,
    NGX_WSMAN_SID_MISSING,
    NGX_WSMAN_SID_UNKNOWN_ALIAS,
    NGX_WSMAN_SID_NEEDS_DOMAIN,
    NGX_WSMAN_SID_NUMBER,
    NGX_WSMAN_SID_REVISION,
    NGX_WSMAN_SID_AUTHORITY,
    NGX_WSMAN_SID_SUB_RANGE,
    NGX_WSMAN_SID_TOO_LONG
} ngx_wsman_sid_rc_e;


typedef struct {
    const char                *name;
    uint32_t                   value;
} ngx_wsman_sddl_code_t;


/*
 * rid != 0: relative to the domain, the SID is the domain's plus rid;
 * otherwise S-1-authority-sub[0]-...-sub[count - 1]
 */
typedef struct {
    char                       name[3];
    uint8_t                    authority;
    uint8_t                    count;
    uint32_t                   rid;
    uint32_t                   sub[6];
} ngx_wsman_sid_alias_t;


static ngx_wsman_sddl_code_t  ngx_wsman_ace_types[] = {
    { "A",  NGX_WSMAN_ACE_ALLOW },
    { "D",  NGX_WSMAN_ACE_DENY },
    { "AU", NGX_WSMAN_ACE_AUDIT },
    { "AL", NGX_WSMAN_ACE_ALARM },
    { "OA", NGX_WSMAN_ACE_OBJECT_ALLOW },
    { "OD", NGX_WSMAN_ACE_OBJECT_DENY },
    { "OU", NGX_WSMAN_ACE_OBJECT_AUDIT },
    { "OL", NGX_WSMAN_ACE_OBJECT_ALARM },
    { "ML", NGX_WSMAN_ACE_MANDATORY_LABEL },
    { "XA", NGX_WSMAN_ACE_CALLBACK_ALLOW },
    { "XD", NGX_WSMAN_ACE_CALLBACK_DENY },
    { "XU", NGX_WSMAN_ACE_CALLBACK_AUDIT },
    { "ZA", NGX_WSMAN_ACE_CALLBACK_OBJECT_ALLOW },
    { "RA", NGX_WSMAN_ACE_RESOURCE_ATTRIBUTE },
    { "SP", NGX_WSMAN_ACE_SCOPED_POLICY },
    { NULL, 0 }
};


static ngx_wsman_sddl_code_t  ngx_wsman_ace_flags[] = {
    { "OI", NGX_WSMAN_ACE_OBJECT_INHERIT },
    { "CI", NGX_WSMAN_ACE_CONTAINER_INHERIT },
    { "NP", NGX_WSMAN_ACE_NO_PROPAGATE },
    { "IO", NGX_WSMAN_ACE_INHERIT_ONLY },
    { "ID", NGX_WSMAN_ACE_INHERITED },
    { "SA", NGX_WSMAN_ACE_AUDIT_SUCCESS },
    { "FA", NGX_WSMAN_ACE_AUDIT_FAILURE },
    { NULL, 0 }
};


/* the masks of winnt.h / iads.h the two-letter codes stand for */
static ngx_wsman_sddl_code_t  ngx_wsman_ace_rights[] = {
    { "GA", NGX_WSMAN_RIGHT_GA },
    { "GR", NGX_WSMAN_RIGHT_GR },
    { "GW", NGX_WSMAN_RIGHT_GW },
    { "GX", NGX_WSMAN_RIGHT_GX },

    { "RC", 0x00020000 },            /* READ_CONTROL */
    { "SD", 0x00010000 },            /* DELETE */
    { "WD", 0x00040000 },            /* WRITE_DAC */
    { "WO", 0x00080000 },            /* WRITE_OWNER */

    { "RP", 0x00000010 },            /* directory service rights */
    { "WP", 0x00000020 },
    { "CC", 0x00000001 },
    { "DC", 0x00000002 },
    { "LC", 0x00000004 },
    { "SW", 0x00000008 },
    { "LO", 0x00000080 },
    { "DT", 0x00000040 },
    { "CR", 0x00000100 },

    { "FA", 0x001f01ff },            /* FILE_ALL_ACCESS */
    { "FR", 0x00120089 },            /* FILE_GENERIC_READ */
    { "FW", 0x00120116 },            /* FILE_GENERIC_WRITE */
    { "FX", 0x001200a0 },            /* FILE_GENERIC_EXECUTE */

    { "KA", 0x000f003f },            /* KEY_ALL_ACCESS */
    { "KR", 0x00020019 },            /* KEY_READ */
    { "KW", 0x00020006 },            /* KEY_WRITE */
    { "KX", 0x00020019 },            /* KEY_EXECUTE, the same as KEY_READ */

    { "NR", 0x00000002 },            /* mandatory label no-read-up */
    { "NW", 0x00000001 },            /* no-write-up */
    { "NX", 0x00000004 },            /* no-execute-up */
    { NULL, 0 }
};


static ngx_wsman_sid_alias_t  ngx_wsman_sid_aliases[] = {
    { "AA", 5, 2, 0, { 32, 579 } },  /* Access Control Assistance Ops */
    { "AC", 15, 2, 0, { 2, 1 } },    /* All App Packages */
    { "AN", 5, 1, 0, { 7 } },        /* Anonymous */
    { "AO", 5, 2, 0, { 32, 548 } },  /* Account Operators */
    { "AS", 18, 1, 0, { 1 } },       /* Authentication authority asserted */
    { "AU", 5, 1, 0, { 11 } },       /* Authenticated Users */
    { "BA", 5, 2, 0, { 32, 544 } },  /* Administrators */
    { "BG", 5, 2, 0, { 32, 546 } },  /* Guests */
    { "BO", 5, 2, 0, { 32, 551 } },  /* Backup Operators */
    { "BU", 5, 2, 0, { 32, 545 } },  /* Users */
    { "CD", 5, 2, 0, { 32, 574 } },  /* Certificate Service DCOM Access */
    { "CG", 3, 1, 0, { 1 } },        /* Creator Group */
    { "CO", 3, 1, 0, { 0 } },        /* Creator Owner */
    { "CY", 5, 2, 0, { 32, 569 } },  /* Cryptographic Operators */
    { "ED", 5, 1, 0, { 9 } },        /* Enterprise Domain Controllers */
    { "ER", 5, 2, 0, { 32, 573 } },  /* Event Log Readers */
    { "ES", 5, 2, 0, { 32, 576 } },  /* RDS Endpoint Servers */
    { "HA", 5, 2, 0, { 32, 578 } },  /* Hyper-V Administrators */
    { "HI", 16, 1, 0, { 12288 } },   /* High integrity */
    { "IS", 5, 2, 0, { 32, 568 } },  /* IIS_IUSRS */
    { "IU", 5, 1, 0, { 4 } },        /* Interactive */
    { "LS", 5, 1, 0, { 19 } },       /* Local Service */
    { "LU", 5, 2, 0, { 32, 559 } },  /* Performance Log Users */
    { "LW", 16, 1, 0, { 4096 } },    /* Low integrity */
    { "ME", 16, 1, 0, { 8192 } },    /* Medium integrity */
    { "MP", 16, 1, 0, { 8448 } },    /* Medium plus integrity */
    { "MS", 5, 2, 0, { 32, 577 } },  /* RDS Management Servers */
    { "MU", 5, 2, 0, { 32, 558 } },  /* Performance Monitor Users */
    { "NO", 5, 2, 0, { 32, 556 } },  /* Network Configuration Operators */
    { "NS", 5, 1, 0, { 20 } },       /* Network Service */
    { "NU", 5, 1, 0, { 2 } },        /* Network */
    { "OW", 3, 1, 0, { 4 } },        /* Owner Rights */
    { "PO", 5, 2, 0, { 32, 550 } },  /* Print Operators */
    { "PS", 5, 1, 0, { 10 } },       /* Principal Self */
    { "PU", 5, 2, 0, { 32, 547 } },  /* Power Users */
    { "RA", 5, 2, 0, { 32, 575 } },  /* RDS Remote Access Servers */
    { "RC", 5, 1, 0, { 12 } },       /* Restricted Code */
    { "RD", 5, 2, 0, { 32, 555 } },  /* Remote Desktop Users */
    { "RE", 5, 2, 0, { 32, 552 } },  /* Replicator */
    { "RM", 5, 2, 0, { 32, 580 } },  /* Remote Management Users */
    { "RU", 5, 2, 0, { 32, 554 } },  /* Pre-Windows 2000 Compatible Access */
    { "SI", 16, 1, 0, { 16384 } },   /* System integrity */
    { "SO", 5, 2, 0, { 32, 549 } },  /* Server Operators */
    { "SS", 18, 1, 0, { 2 } },       /* Service asserted identity */
    { "SU", 5, 1, 0, { 6 } },        /* Service */
    { "SY", 5, 1, 0, { 18 } },       /* Local System */
    { "UD", 5, 6, 0, { 84, 0, 0, 0, 0, 0 } },  /* User-Mode Drivers */
    { "WD", 1, 1, 0, { 0 } },        /* Everyone */
    { "WR", 5, 1, 0, { 33 } },       /* Write Restricted */

    /* relative to the account domain */
    { "LA", 0, 0, 500, { 0 } },      /* local Administrator */
    { "LG", 0, 0, 501, { 0 } },      /* local Guest */
    { "RO", 0, 0, 498, { 0 } },      /* Enterprise Read-only DCs */
    { "DA", 0, 0, 512, { 0 } },      /* Domain Admins */
    { "DU", 0, 0, 513, { 0 } },      /* Domain Users */
    { "DG", 0, 0, 514, { 0 } },      /* Domain Guests */
    { "DC", 0, 0, 515, { 0 } },      /* Domain Computers */
    { "DD", 0, 0, 516, { 0 } },      /* Domain Controllers */
    { "CA", 0, 0, 517, { 0 } },      /* Cert Publishers */
    { "SA", 0, 0, 518, { 0 } },      /* Schema Admins */
    { "EA", 0, 0, 519, { 0 } },      /* Enterprise Admins */
    { "PA", 0, 0, 520, { 0 } },      /* Group Policy Creator Owners */
    { "CN", 0, 0, 522, { 0 } },      /* Cloneable Controllers */
    { "AP", 0, 0, 525, { 0 } },      /* Protected Users */
    { "KA", 0, 0, 526, { 0 } },      /* Key Admins */
    { "EK", 0, 0, 527, { 0 } },      /* Enterprise Key Admins */
    { "RS", 0, 0, 553, { 0 } },      /* RAS and IAS Servers */

    { "", 0, 0, 0, { 0 } }
};


static ngx_int_t ngx_wsman_sddl_section(ngx_wsman_sddl_ctx_t *ctx,
    ngx_wsman_sddl_t *sd);
static ngx_int_t ngx_wsman_sddl_acl(ngx_wsman_sddl_ctx_t *ctx,
    ngx_wsman_acl_t *acl, u_char name);
static ngx_int_t ngx_wsman_sddl_ace(ngx_wsman_sddl_ctx_t *ctx,
    ngx_wsman_ace_t *ace);
static ngx_int_t ngx_wsman_sddl_field(ngx_wsman_sddl_ctx_t *ctx,
    const u_char *open, ngx_str_t *field);
static ngx_int_t ngx_wsman_sddl_separator(ngx_wsman_sddl_ctx_t *ctx,
    const char *what);
static ngx_int_t ngx_wsman_sddl_ace_type(ngx_wsman_sddl_ctx_t *ctx,
    ngx_str_t *f, ngx_wsman_ace_t *ace);
static ngx_int_t ngx_wsman_sddl_codes(ngx_wsman_sddl_ctx_t *ctx,
    ngx_str_t *f, ngx_wsman_sddl_code_t *table, const char *expected,
    const char *what, uint32_t *bits);
static ngx_int_t ngx_wsman_sddl_ace_flags(ngx_wsman_sddl_ctx_t *ctx,
    ngx_str_t *f, ngx_wsman_ace_t *ace);
static ngx_int_t ngx_wsman_sddl_ace_rights(ngx_wsman_sddl_ctx_t *ctx,
    ngx_str_t *f, ngx_wsman_ace_t *ace);
static ngx_int_t ngx_wsman_sddl_guid(ngx_wsman_sddl_ctx_t *ctx,
    ngx_str_t *f);
static ngx_int_t ngx_wsman_sddl_ace_sid(ngx_wsman_sddl_ctx_t *ctx,
    ngx_str_t *f, ngx_wsman_ace_t *ace);
static ngx_int_t ngx_wsman_sddl_condition(ngx_wsman_sddl_ctx_t *ctx,
    ngx_wsman_ace_t *ace);
static ngx_int_t ngx_wsman_sddl_sid(ngx_wsman_sddl_ctx_t *ctx,
    const u_char *end, ngx_wsman_sid_t *sid);
static ngx_int_t ngx_wsman_sddl_unexpected(ngx_wsman_sddl_ctx_t *ctx,
    const u_char *at, const char *expected);
static ngx_int_t ngx_wsman_sddl_fail(ngx_wsman_sddl_ctx_t *ctx,
    const u_char *at, const char *expected, const char *fmt, ...);

static ngx_wsman_sid_rc_e ngx_wsman_sid_scan(const u_char **pp,
    const u_char *end, ngx_wsman_sid_t *domain, ngx_wsman_sid_t *sid);
static ngx_wsman_sid_rc_e ngx_wsman_sid_scan_numeric(const u_char **pp,
    const u_char *end, ngx_wsman_sid_t *sid);
static ngx_wsman_sid_rc_e ngx_wsman_sid_scan_alias(const u_char **pp,
    const u_char *end, ngx_wsman_sid_t *domain, ngx_wsman_sid_t *sid);
static ngx_int_t ngx_wsman_sid_number(const u_char **pp, const u_char *end,
    ngx_uint_t hex, uint64_t max, uint64_t *value);

static ngx_wsman_sddl_code_t *ngx_wsman_sddl_code(ngx_wsman_sddl_code_t *t,
    const u_char *p, size_t len);
static ngx_int_t ngx_wsman_sddl_hex(u_char c);
static ngx_int_t ngx_wsman_sddl_space(u_char c);
static ngx_int_t ngx_wsman_sddl_holds(ngx_wsman_sid_t *sids,
    ngx_uint_t nsids, ngx_wsman_sid_t *sid);
static uint32_t ngx_wsman_sddl_rights(uint32_t mask);


ngx_int_t
ngx_wsman_sddl_parse(ngx_pool_t *pool, ngx_str_t *text, ngx_wsman_sddl_t **sd,
    ngx_str_t *error)
{
    return ngx_wsman_sddl_parse_domain(pool, text, NULL, sd, error);
}


ngx_int_t
ngx_wsman_sddl_parse_domain(ngx_pool_t *pool, ngx_str_t *text,
    ngx_wsman_sid_t *domain, ngx_wsman_sddl_t **sd, ngx_str_t *error)
{
    ngx_int_t             rc;
    ngx_str_t             dummy;
    ngx_wsman_sddl_t     *s;
    ngx_wsman_sddl_ctx_t  ctx;

    ngx_str_null(&dummy);

    ctx.pool = pool;
    ctx.start = text->data;
    ctx.pos = text->data;
    ctx.end = text->data + text->len;
    ctx.domain = domain;
    ctx.error = error ? error : &dummy;

    ngx_str_null(ctx.error);

    /* configuration files may pad the value; Windows never does */
    while (ctx.pos < ctx.end && ngx_wsman_sddl_space(*ctx.pos)) {
        ctx.pos++;
    }

    while (ctx.end > ctx.pos && ngx_wsman_sddl_space(ctx.end[-1])) {
        ctx.end--;
    }

    if (ctx.pos == ctx.end) {
        return ngx_wsman_sddl_fail(&ctx, ctx.pos, "O:, G:, D: or S:",
                                   "empty security descriptor");
    }

    s = ngx_pcalloc(pool, sizeof(ngx_wsman_sddl_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    while (ctx.pos < ctx.end) {
        rc = ngx_wsman_sddl_section(&ctx, s);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    *sd = s;

    return NGX_OK;
}


/* one of O:sid G:sid D:acl S:acl, each at most once, in any order */
static ngx_int_t
ngx_wsman_sddl_section(ngx_wsman_sddl_ctx_t *ctx, ngx_wsman_sddl_t *sd)
{
    u_char         c;
    ngx_uint_t     seen;
    const u_char  *p;

    p = ctx->pos;
    c = *p;

    switch (c) {
    case 'O':
        seen = sd->has_owner;
        break;
    case 'G':
        seen = sd->has_group;
        break;
    case 'D':
        seen = sd->dacl.present;
        break;
    case 'S':
        seen = sd->sacl.present;
        break;
    default:
        return ngx_wsman_sddl_unexpected(ctx, p, "O:, G:, D: or S:");
    }

    if (seen) {
        return ngx_wsman_sddl_fail(ctx, p, NULL, "duplicate section \"%c:\"",
                                   (int) c);
    }

    if (p + 1 == ctx->end || p[1] != ':') {
        return ngx_wsman_sddl_fail(ctx, p + 1, "\":\"",
                                   "missing \":\" after section \"%c\"",
                                   (int) c);
    }

    ctx->pos = p + 2;

    switch (c) {
    case 'O':
        sd->has_owner = 1;
        return ngx_wsman_sddl_sid(ctx, ctx->end, &sd->owner);
    case 'G':
        sd->has_group = 1;
        return ngx_wsman_sddl_sid(ctx, ctx->end, &sd->group);
    case 'D':
        return ngx_wsman_sddl_acl(ctx, &sd->dacl, c);
    default: /* 'S' */
        return ngx_wsman_sddl_acl(ctx, &sd->sacl, c);
    }
}


/* flags first, then the ACEs; the next section or the end follows */
static ngx_int_t
ngx_wsman_sddl_acl(ngx_wsman_sddl_ctx_t *ctx, ngx_wsman_acl_t *acl,
    u_char name)
{
    size_t            n;
    ngx_int_t         rc;
    ngx_wsman_ace_t  *ace;

    acl->present = 1;

    if (ngx_array_init(&acl->aces, ctx->pool, 4, sizeof(ngx_wsman_ace_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for ( ;; ) {
        n = ctx->end - ctx->pos;

        if (n >= sizeof("NO_ACCESS_CONTROL") - 1
            && ngx_strncmp(ctx->pos, "NO_ACCESS_CONTROL",
                           sizeof("NO_ACCESS_CONTROL") - 1) == 0)
        {
            acl->flags |= NGX_WSMAN_ACL_NO_ACCESS_CONTROL;
            ctx->pos += sizeof("NO_ACCESS_CONTROL") - 1;

        } else if (n >= 2 && ctx->pos[0] == 'A' && ctx->pos[1] == 'I') {
            acl->flags |= NGX_WSMAN_ACL_AUTO_INHERITED;
            ctx->pos += 2;

        } else if (n >= 2 && ctx->pos[0] == 'A' && ctx->pos[1] == 'R') {
            acl->flags |= NGX_WSMAN_ACL_AUTO_INHERIT_REQ;
            ctx->pos += 2;

        } else if (n >= 1 && ctx->pos[0] == 'P') {
            acl->flags |= NGX_WSMAN_ACL_PROTECTED;
            ctx->pos++;

        } else {
            break;
        }
    }

    while (ctx->pos < ctx->end && *ctx->pos == '(') {

        if (acl->aces.nelts == NGX_WSMAN_ACL_MAX_ACES) {
            return ngx_wsman_sddl_fail(ctx, ctx->pos, NULL,
                                       "more than %ui ACEs in the \"%c:\" ACL",
                                       (ngx_uint_t) NGX_WSMAN_ACL_MAX_ACES,
                                       (int) name);
        }

        ace = ngx_array_push(&acl->aces);
        if (ace == NULL) {
            return NGX_ERROR;
        }

        rc = ngx_wsman_sddl_ace(ctx, ace);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (ctx->pos == ctx->end) {
        return NGX_OK;
    }

    switch (*ctx->pos) {
    case 'O':
    case 'G':
    case 'D':
    case 'S':
        return NGX_OK;
    }

    return ngx_wsman_sddl_unexpected(ctx, ctx->pos,
                                     acl->aces.nelts
                                     ? "\"(\" or a section"
                                     : "an ACL flag (P, AI, AR, "
                                       "NO_ACCESS_CONTROL), \"(\" "
                                       "or a section");
}


/* (type;flags;rights;object_guid;inherit_object_guid;sid[;(extra)]) */
static ngx_int_t
ngx_wsman_sddl_ace(ngx_wsman_sddl_ctx_t *ctx, ngx_wsman_ace_t *ace)
{
    ngx_int_t      rc;
    ngx_str_t      f;
    const u_char  *open;

    ngx_memzero(ace, sizeof(ngx_wsman_ace_t));

    open = ctx->pos++;

    if (ngx_wsman_sddl_field(ctx, open, &f) != NGX_OK
        || ngx_wsman_sddl_ace_type(ctx, &f, ace) != NGX_OK
        || ngx_wsman_sddl_separator(ctx, "after the ACE type") != NGX_OK

        || ngx_wsman_sddl_field(ctx, open, &f) != NGX_OK
        || ngx_wsman_sddl_ace_flags(ctx, &f, ace) != NGX_OK
        || ngx_wsman_sddl_separator(ctx, "after the ACE flags") != NGX_OK

        || ngx_wsman_sddl_field(ctx, open, &f) != NGX_OK
        || ngx_wsman_sddl_ace_rights(ctx, &f, ace) != NGX_OK
        || ngx_wsman_sddl_separator(ctx, "after the rights") != NGX_OK

        || ngx_wsman_sddl_field(ctx, open, &f) != NGX_OK
        || ngx_wsman_sddl_guid(ctx, &f) != NGX_OK
        || ngx_wsman_sddl_separator(ctx, "after the object GUID") != NGX_OK

        || ngx_wsman_sddl_field(ctx, open, &f) != NGX_OK
        || ngx_wsman_sddl_guid(ctx, &f) != NGX_OK
        || ngx_wsman_sddl_separator(ctx, "after the inherited object GUID")
           != NGX_OK

        || ngx_wsman_sddl_field(ctx, open, &f) != NGX_OK
        || ngx_wsman_sddl_ace_sid(ctx, &f, ace) != NGX_OK)
    {
        /* the error is set, unless memory ran out */
        return ctx->error->len ? NGX_DECLINED : NGX_ERROR;
    }

    /* ngx_wsman_sddl_field() stopped at ';' or ')' */

    if (*ctx->pos == ';') {

        switch (ace->type) {
        case NGX_WSMAN_ACE_CALLBACK_ALLOW:
        case NGX_WSMAN_ACE_CALLBACK_DENY:
        case NGX_WSMAN_ACE_CALLBACK_AUDIT:
        case NGX_WSMAN_ACE_CALLBACK_OBJECT_ALLOW:
        case NGX_WSMAN_ACE_RESOURCE_ATTRIBUTE:
            break;

        default:
            return ngx_wsman_sddl_fail(ctx, ctx->pos, "\")\"",
                                       "unexpected \";\" after the SID, only "
                                       "conditional and resource attribute "
                                       "ACEs have one more field");
        }

        ctx->pos++;

        rc = ngx_wsman_sddl_condition(ctx, ace);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ctx->pos == ctx->end || *ctx->pos != ')') {
            return ngx_wsman_sddl_fail(ctx, ctx->pos, "\")\"",
                                       "unbalanced parentheses: the ACE "
                                       "opened at position %uz is not closed",
                                       (size_t) (open - ctx->start));
        }
    }

    ctx->pos++;

    return NGX_OK;
}


/*
 * The text up to the next ';' or ')', where ctx->pos is left.  A field
 * has no white space and no '(' (the condition is read elsewhere).
 */
static ngx_int_t
ngx_wsman_sddl_field(ngx_wsman_sddl_ctx_t *ctx, const u_char *open,
    ngx_str_t *field)
{
    const u_char  *p;

    for (p = ctx->pos; p < ctx->end; p++) {

        if (*p == ';' || *p == ')') {
            field->data = (u_char *) ctx->pos;
            field->len = p - ctx->pos;
            ctx->pos = p;
            return NGX_OK;
        }

        if (*p == '(' || ngx_wsman_sddl_space(*p)) {
            return ngx_wsman_sddl_unexpected(ctx, p, "\";\" or \")\"");
        }
    }

    return ngx_wsman_sddl_fail(ctx, p, "\")\"",
                               "unbalanced parentheses: the ACE opened at "
                               "position %uz is not closed",
                               (size_t) (open - ctx->start));
}


/* the ';' between two fields: a ')' here means the ACE is too short */
static ngx_int_t
ngx_wsman_sddl_separator(ngx_wsman_sddl_ctx_t *ctx, const char *what)
{
    if (*ctx->pos == ';') {
        ctx->pos++;
        return NGX_OK;
    }

    return ngx_wsman_sddl_fail(ctx, ctx->pos, "\";\"",
                               "ACE ends too early, \")\" %s", what);
}


static ngx_int_t
ngx_wsman_sddl_ace_type(ngx_wsman_sddl_ctx_t *ctx, ngx_str_t *f,
    ngx_wsman_ace_t *ace)
{
    ngx_wsman_sddl_code_t  *code;

    /*
     * f is set: ngx_wsman_sddl_ace() calls this only after
     * ngx_wsman_sddl_field() returned NGX_OK.  The analyzer does not
     * follow the variadic ngx_wsman_sddl_fail() that field() returns
     * through, so it assumes field() may succeed without setting f.
     */
    /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
    if (f->len == 0) {
        return ngx_wsman_sddl_fail(ctx, f->data, "A, D, AU, XA, ...",
                                   "missing ACE type");
    }

    code = ngx_wsman_sddl_code(ngx_wsman_ace_types, f->data, f->len);

    if (code == NULL) {
        return ngx_wsman_sddl_fail(ctx, f->data, NULL,
                                   "unknown ACE type \"%*s\"",
                                   ngx_min(f->len, NGX_WSMAN_SDDL_TOKEN_LEN),
                                   f->data);
    }

    ace->type = (uint8_t) code->value;

    return NGX_OK;
}


/* concatenated two-letter codes of table, in any order, OR-ed into bits;
 * what names one in the error */
static ngx_int_t
ngx_wsman_sddl_codes(ngx_wsman_sddl_ctx_t *ctx, ngx_str_t *f,
    ngx_wsman_sddl_code_t *table, const char *expected, const char *what,
    uint32_t *bits)
{
    size_t                  i, n;
    ngx_wsman_sddl_code_t  *code;

    for (i = 0; i < f->len; i += 2) {
        n = ngx_min(f->len - i, 2);

        code = ngx_wsman_sddl_code(table, f->data + i, n);

        if (code == NULL) {
            return ngx_wsman_sddl_fail(ctx, f->data + i, expected,
                                       "unknown %s \"%*s\"", what, n,
                                       f->data + i);
        }

        *bits |= code->value;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_sddl_ace_flags(ngx_wsman_sddl_ctx_t *ctx, ngx_str_t *f,
    ngx_wsman_ace_t *ace)
{
    uint32_t   flags;
    ngx_int_t  rc;

    flags = 0;

    rc = ngx_wsman_sddl_codes(ctx, f, ngx_wsman_ace_flags,
                              "CI, OI, NP, IO, ID, SA or FA", "ACE flag",
                              &flags);

    ace->flags |= (uint8_t) flags;

    return rc;
}


/* concatenated two-letter codes, or one hexadecimal 0x number */
static ngx_int_t
ngx_wsman_sddl_ace_rights(ngx_wsman_sddl_ctx_t *ctx, ngx_str_t *f,
    ngx_wsman_ace_t *ace)
{
    uint64_t       mask;
    const u_char  *p;

    if (f->len >= 2 && f->data[0] == '0'
        && (f->data[1] == 'x' || f->data[1] == 'X'))
    {
        p = f->data + 2;

        if (ngx_wsman_sid_number(&p, f->data + f->len, 1,
                                 NGX_WSMAN_SID_SUB_MAXVAL, &mask)
            != NGX_OK
            || p != f->data + f->len)
        {
            return ngx_wsman_sddl_fail(ctx, f->data,
                                       "0x and a 32-bit hexadecimal number",
                                       "invalid access mask");
        }

        ace->mask = (uint32_t) mask;
        return NGX_OK;
    }

    return ngx_wsman_sddl_codes(ctx, f, ngx_wsman_ace_rights,
                                "GA, GR, GW, GX, ... or 0x...",
                                "access right", &ace->mask);
}


/* empty, or 8-4-4-4-12 hexadecimal digits; object ACEs only need it */
static ngx_int_t
ngx_wsman_sddl_guid(ngx_wsman_sddl_ctx_t *ctx, ngx_str_t *f)
{
    size_t  i;

    if (f->len == 0) {
        return NGX_OK;
    }

    if (f->len != 36) {
        goto invalid;
    }

    for (i = 0; i < 36; i++) {

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (f->data[i] != '-') {
                goto invalid;
            }

        } else if (ngx_wsman_sddl_hex(f->data[i]) < 0) {
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    return ngx_wsman_sddl_fail(ctx, f->data,
                               "nothing or a GUID like "
                               "01234567-89ab-cdef-0123-456789abcdef",
                               "invalid GUID");
}


static ngx_int_t
ngx_wsman_sddl_ace_sid(ngx_wsman_sddl_ctx_t *ctx, ngx_str_t *f,
    ngx_wsman_ace_t *ace)
{
    ngx_int_t      rc;
    const u_char  *after;

    after = ctx->pos;
    ctx->pos = f->data;

    rc = ngx_wsman_sddl_sid(ctx, f->data + f->len, &ace->sid);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->pos != after) {
        return ngx_wsman_sddl_unexpected(ctx, ctx->pos,
                                         "\";\" or \")\" after the SID");
    }

    return NGX_OK;
}


/*
 * The condition of a callback ACE, "(Member_of {SID(BA)})", or the
 * attribute of an RA ACE, '("Project",TS,0,"SQL")': balanced parentheses,
 * which may also appear inside "strings".  It is kept, not evaluated.
 */
static ngx_int_t
ngx_wsman_sddl_condition(ngx_wsman_sddl_ctx_t *ctx, ngx_wsman_ace_t *ace)
{
    const u_char  *p, *s;
    ngx_uint_t     depth, quoted;

    s = ctx->pos;

    if (s == ctx->end || *s != '(') {
        return ngx_wsman_sddl_unexpected(ctx, s, "\"(\" starting a condition");
    }

    depth = 0;
    quoted = 0;

    for (p = s; p < ctx->end; p++) {

        if (*p < 0x20 || *p == 0x7f) {
            return ngx_wsman_sddl_fail(ctx, p, NULL,
                                       "control character in the condition");
        }

        if (quoted) {
            quoted = (*p != '"');
            continue;
        }

        if (*p == '"') {
            quoted = 1;

        } else if (*p == '(') {
            depth++;

        } else if (*p == ')' && --depth == 0) {
            break;
        }
    }

    if (p == ctx->end) {
        return ngx_wsman_sddl_fail(ctx, s, "\")\"",
                                   "unbalanced parentheses in the condition");
    }

    p++;

    ace->condition.len = p - s;
    ace->condition.data = ngx_pnalloc(ctx->pool, ace->condition.len);
    if (ace->condition.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ace->condition.data, s, ace->condition.len);

    ctx->pos = p;

    return NGX_OK;
}


/* a SID at ctx->pos, not past end; ctx->pos is left after it */
static ngx_int_t
ngx_wsman_sddl_sid(ngx_wsman_sddl_ctx_t *ctx, const u_char *end,
    ngx_wsman_sid_t *sid)
{
    size_t              n;
    const u_char       *p;
    ngx_wsman_sid_rc_e  rc;

    p = ctx->pos;

    if (p < end && ngx_wsman_sddl_space(*p)) {
        return ngx_wsman_sddl_unexpected(ctx, p, "a SID");
    }

    rc = ngx_wsman_sid_scan(&p, end, ctx->domain, sid);

    n = ngx_min((size_t) (end - p), 2);

    switch (rc) {

    case NGX_WSMAN_SID_OK:
        ctx->pos = p;
        return NGX_OK;

    case NGX_WSMAN_SID_MISSING:
        return ngx_wsman_sddl_fail(ctx, p, "an alias such as BA or S-1-...",
                                   "missing SID");

    case NGX_WSMAN_SID_UNKNOWN_ALIAS:
        return ngx_wsman_sddl_fail(ctx, p, "an alias such as BA or S-1-...",
                                   "unknown SID \"%*s\"", n, p);

    case NGX_WSMAN_SID_NEEDS_DOMAIN:
        return ngx_wsman_sddl_fail(ctx, p, "a full S-1-5-21-... SID",
                                   "SID alias \"%*s\" needs the domain SID, "
                                   "which is not known here", n, p);

    case NGX_WSMAN_SID_NUMBER:
        return ngx_wsman_sddl_fail(ctx, p, "a number", "invalid SID");

    case NGX_WSMAN_SID_REVISION:
        return ngx_wsman_sddl_fail(ctx, p, "1", "unsupported SID revision");

    case NGX_WSMAN_SID_AUTHORITY:
        return ngx_wsman_sddl_fail(ctx, p, "at most 2^48-1",
                                   "SID identifier authority out of range");

    case NGX_WSMAN_SID_SUB_RANGE:
        return ngx_wsman_sddl_fail(ctx, p, "at most 4294967295",
                                   "SID sub-authority out of range");

    default: /* NGX_WSMAN_SID_TOO_LONG */
        return ngx_wsman_sddl_fail(ctx, p, NULL,
                                   "more than %ui sub-authorities in the SID",
                                   (ngx_uint_t) NGX_WSMAN_SID_MAX_SUB);
    }
}


/* what was found instead of what was expected */
static ngx_int_t
ngx_wsman_sddl_unexpected(ngx_wsman_sddl_ctx_t *ctx, const u_char *at,
    const char *expected)
{
    if (at == ctx->end) {
        return ngx_wsman_sddl_fail(ctx, at, expected, "unexpected end");
    }

    if (ngx_wsman_sddl_space(*at)) {
        return ngx_wsman_sddl_fail(ctx, at, expected,
                                   "white space is not allowed");
    }

    if (*at == ')' || *at == '(') {
        return ngx_wsman_sddl_fail(ctx, at, expected,
                                   "unbalanced parentheses: unexpected "
                                   "\"%c\"", (int) *at);
    }

    return ngx_wsman_sddl_fail(ctx, at, expected,
                               "unexpected character \"%c\"", (int) *at);
}


/* "<what> at position N[, expected <expected>]" into ctx->error */
static ngx_int_t
ngx_wsman_sddl_fail(ngx_wsman_sddl_ctx_t *ctx, const u_char *at,
    const char *expected, const char *fmt, ...)
{
    u_char   *msg, *p, *last, *q;
    va_list   args;

    msg = ngx_pnalloc(ctx->pool, NGX_WSMAN_SDDL_ERROR_LEN);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    last = msg + NGX_WSMAN_SDDL_ERROR_LEN;

    va_start(args, fmt);
    p = ngx_vslprintf(msg, last, fmt, args);
    va_end(args);

    p = ngx_snprintf(p, last - p, " at position %uz",
                     (size_t) (at - ctx->start));

    if (expected) {
        p = ngx_snprintf(p, last - p, ", expected %s", expected);
    }

    /* the text quoted back may hold anything; the log must not */
    for (q = msg; q < p; q++) {
        if (*q < 0x20 || *q >= 0x7f) {
            *q = '?';
        }
    }

    ctx->error->data = msg;
    ctx->error->len = p - msg;

    return NGX_DECLINED;
}


ngx_int_t
ngx_wsman_sid_parse(const u_char *p, size_t len, ngx_wsman_sid_t *sid)
{
    return ngx_wsman_sid_parse_domain(p, len, NULL, sid);
}


ngx_int_t
ngx_wsman_sid_parse_domain(const u_char *p, size_t len,
    ngx_wsman_sid_t *domain, ngx_wsman_sid_t *sid)
{
    const u_char     *end;
    ngx_wsman_sid_t   s;

    end = p + len;

    /* the whole text, and nothing stored unless it all is a SID */
    if (ngx_wsman_sid_scan(&p, end, domain, &s) != NGX_WSMAN_SID_OK
        || p != end)
    {
        return NGX_ERROR;
    }

    *sid = s;

    return NGX_OK;
}


/* one SID at *pp; on failure *pp is left where the fault is */
static ngx_wsman_sid_rc_e
ngx_wsman_sid_scan(const u_char **pp, const u_char *end,
    ngx_wsman_sid_t *domain, ngx_wsman_sid_t *sid)
{
    const u_char  *p;

    p = *pp;

    ngx_memzero(sid, sizeof(ngx_wsman_sid_t));

    if (p == end) {
        return NGX_WSMAN_SID_MISSING;
    }

    /* no alias has '-' second, so "S-" always starts a numeric SID */
    if (end - p >= 2 && (p[0] == 'S' || p[0] == 's') && p[1] == '-') {
        return ngx_wsman_sid_scan_numeric(pp, end, sid);
    }

    return ngx_wsman_sid_scan_alias(pp, end, domain, sid);
}


/*
 * S-1-authority(-sub)*: the authority is decimal, or 0x and up to 12
 * hexadecimal digits as Windows writes those of 2^32 and above.  The SID
 * ends at the first character that cannot continue it, so "O:S-1-5-18G:"
 * needs no separator.
 */
static ngx_wsman_sid_rc_e
ngx_wsman_sid_scan_numeric(const u_char **pp, const u_char *end,
    ngx_wsman_sid_t *sid)
{
    uint64_t       v;
    ngx_int_t      rc;
    ngx_uint_t     hex;
    const u_char  *p, *s;

    p = *pp + 2;
    s = p;

    rc = ngx_wsman_sid_number(&p, end, 0, 0xff, &v);

    if (rc == NGX_ERROR) {
        *pp = s;
        return NGX_WSMAN_SID_NUMBER;
    }

    /* SID_REVISION is the only one there has ever been */
    if (rc != NGX_OK || v != 1) {
        *pp = s;
        return NGX_WSMAN_SID_REVISION;
    }

    if (p == end || *p != '-') {
        *pp = p;
        return NGX_WSMAN_SID_NUMBER;
    }

    p++;
    s = p;
    hex = 0;

    if (end - p >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        hex = 1;
    }

    rc = ngx_wsman_sid_number(&p, end, hex, NGX_WSMAN_SID_AUTHORITY_MAX, &v);

    if (rc == NGX_ERROR) {
        *pp = p;
        return NGX_WSMAN_SID_NUMBER;
    }

    if (rc != NGX_OK) {
        *pp = s;
        return NGX_WSMAN_SID_AUTHORITY;
    }

    sid->revision = 1;
    sid->authority = v;

    while (p < end && *p == '-') {
        p++;
        s = p;

        rc = ngx_wsman_sid_number(&p, end, 0, NGX_WSMAN_SID_SUB_MAXVAL, &v);

        if (rc == NGX_ERROR) {
            *pp = p;
            return NGX_WSMAN_SID_NUMBER;
        }

        if (rc != NGX_OK) {
            *pp = s;
            return NGX_WSMAN_SID_SUB_RANGE;
        }

        if (sid->count == NGX_WSMAN_SID_MAX_SUB) {
            *pp = s;
            return NGX_WSMAN_SID_TOO_LONG;
        }

        sid->sub[sid->count++] = (uint32_t) v;
    }

    *pp = p;

    return NGX_WSMAN_SID_OK;
}


/* exactly two characters; some stand for a RID in the domain */
static ngx_wsman_sid_rc_e
ngx_wsman_sid_scan_alias(const u_char **pp, const u_char *end,
    ngx_wsman_sid_t *domain, ngx_wsman_sid_t *sid)
{
    const u_char           *p;
    ngx_wsman_sid_alias_t  *a;

    p = *pp;

    if (end - p < 2) {
        return NGX_WSMAN_SID_UNKNOWN_ALIAS;
    }

    for (a = ngx_wsman_sid_aliases; a->name[0]; a++) {
        if ((u_char) a->name[0] == p[0] && (u_char) a->name[1] == p[1]) {
            break;
        }
    }

    if (a->name[0] == '\0') {
        return NGX_WSMAN_SID_UNKNOWN_ALIAS;
    }

    if (a->rid) {
        if (domain == NULL) {
            return NGX_WSMAN_SID_NEEDS_DOMAIN;
        }

        if (domain->count >= NGX_WSMAN_SID_MAX_SUB) {
            return NGX_WSMAN_SID_TOO_LONG;
        }

        *sid = *domain;
        sid->sub[sid->count++] = a->rid;

    } else {
        sid->revision = 1;
        sid->authority = a->authority;
        sid->count = a->count;
        ngx_memcpy(sid->sub, a->sub, a->count * sizeof(uint32_t));
    }

    *pp = p + 2;

    return NGX_WSMAN_SID_OK;
}


/*
 * NGX_OK; NGX_ERROR when there is no digit at all; NGX_DECLINED when the
 * value exceeds max.  Hexadecimal numbers stop after 12 digits, enough for
 * an authority and a mask with leading zeros, so that a following section
 * letter such as "D" is not taken for a digit.
 */
static ngx_int_t
ngx_wsman_sid_number(const u_char **pp, const u_char *end, ngx_uint_t hex,
    uint64_t max, uint64_t *value)
{
    uint64_t       v, base;
    ngx_int_t      d;
    ngx_uint_t     n, over;
    const u_char  *p;

    base = hex ? 16 : 10;
    v = 0;
    n = 0;
    over = 0;

    for (p = *pp; p < end; p++, n++) {

        if (hex) {
            if (n == 12) {
                break;
            }

            d = ngx_wsman_sddl_hex(*p);

        } else {
            d = (*p >= '0' && *p <= '9') ? *p - '0' : -1;
        }

        if (d < 0) {
            break;
        }

        if (v > (max - (uint64_t) d) / base) {
            over = 1;
            continue;
        }

        v = v * base + (uint64_t) d;
    }

    *pp = p;

    if (n == 0) {
        return NGX_ERROR;
    }

    if (over) {
        return NGX_DECLINED;
    }

    *value = v;

    return NGX_OK;
}


ngx_int_t
ngx_wsman_sid_equal(ngx_wsman_sid_t *a, ngx_wsman_sid_t *b)
{
    if (a->revision != b->revision
        || a->count != b->count
        || a->authority != b->authority
        || a->count > NGX_WSMAN_SID_MAX_SUB)
    {
        return 0;
    }

    return ngx_memcmp(a->sub, b->sub, a->count * sizeof(uint32_t)) == 0;
}


/* the form Windows writes: authorities of 2^32 and above in hex */
u_char *
ngx_wsman_sid_format(u_char *buf, ngx_wsman_sid_t *sid)
{
    static const u_char  hex[] = "0123456789ABCDEF";

    ngx_int_t   shift;
    ngx_uint_t  i, n;

    buf = ngx_sprintf(buf, "S-%uL-", (uint64_t) sid->revision);

    if (sid->authority <= 0xffffffff) {
        buf = ngx_sprintf(buf, "%uL", (uint64_t) sid->authority);

    } else {
        *buf++ = '0';
        *buf++ = 'x';

        for (shift = 44; shift >= 0; shift -= 4) {
            *buf++ = hex[(sid->authority >> shift) & 0xf];
        }
    }

    n = ngx_min(sid->count, NGX_WSMAN_SID_MAX_SUB);

    for (i = 0; i < n; i++) {
        buf = ngx_sprintf(buf, "-%uL", (uint64_t) sid->sub[i]);
    }

    return buf;
}


/*
 * Windows' AccessCheck() order semantics over the DACL:
 *
 *   - ACEs are walked in order; those not for one of the caller's SIDs
 *     and inherit-only (IO) ones are skipped;
 *   - an allow ACE grants its bits; a deny ACE that covers any desired
 *     bit not yet granted denies, one after the bits were granted does
 *     not take them back;
 *   - once every desired bit is granted the walk stops: granted;
 *   - the end of the DACL with bits missing, an empty DACL included:
 *     denied.
 *
 * Where this differs from Windows, it errs on the side of denying:
 *
 *   - no "D:" section at all, or "D:NO_ACCESS_CONTROL", is a NULL DACL
 *     that Windows reads as full access for everyone; here nothing is
 *     granted, so a typo in an SDDL cannot open the server up;
 *
 * and, for want of a condition evaluator:
 *
 *   - conditional allows (XA, ZA) never grant, and a conditional deny
 *     (XD) always denies, as Windows does with a condition it cannot
 *     evaluate;
 *
 *   - object ACEs (OA, OD) only mean something for directory objects and
 *     are skipped, as are ML, RA and SP ACEs.
 *
 * GA in an ACE covers every right; other bits count as given, so a
 * caller asking for GR needs an ACE with GR or GA (the SDDL of WinRM
 * speaks only generic rights).  Asking for GA is asking for GR, GW and GX
 * as well, so a deny of any of them refuses it.
 */
ngx_int_t
ngx_wsman_sddl_access(ngx_wsman_sddl_t *sd, ngx_wsman_sid_t *sids,
    ngx_uint_t nsids, uint32_t desired)
{
    uint32_t          granted, mask;
    ngx_uint_t        i;
    ngx_wsman_ace_t  *ace;

    if (!sd->dacl.present
        || (sd->dacl.flags & NGX_WSMAN_ACL_NO_ACCESS_CONTROL))
    {
        return NGX_DECLINED;
    }

    /* nothing asked, nothing to refuse (Identify never gets here) */
    if (desired == 0) {
        return NGX_OK;
    }

    if (desired & NGX_WSMAN_RIGHT_GA) {
        desired |= NGX_WSMAN_RIGHT_GR | NGX_WSMAN_RIGHT_GW
                   | NGX_WSMAN_RIGHT_GX;
    }

    granted = 0;
    ace = sd->dacl.aces.elts;

    for (i = 0; i < sd->dacl.aces.nelts; i++) {

        if (ace[i].type != NGX_WSMAN_ACE_ALLOW
            && ace[i].type != NGX_WSMAN_ACE_DENY
            && ace[i].type != NGX_WSMAN_ACE_CALLBACK_DENY)
        {
            continue;
        }

        if ((ace[i].flags & NGX_WSMAN_ACE_INHERIT_ONLY)
            || !ngx_wsman_sddl_holds(sids, nsids, &ace[i].sid))
        {
            continue;
        }

        mask = ngx_wsman_sddl_rights(ace[i].mask) & desired;

        if (ace[i].type != NGX_WSMAN_ACE_ALLOW) {
            if (mask & ~granted) {
                return NGX_DECLINED;
            }

            continue;
        }

        granted |= mask;

        if (granted == desired) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The SACL's AU ACEs for the caller that cover any desired bit.  Like the
 * access check, IO and conditional (XU) ACEs never apply; alarm ACEs (AL)
 * are parsed only, as Windows has never raised them.
 */
ngx_uint_t
ngx_wsman_sddl_audit(ngx_wsman_sddl_t *sd, ngx_wsman_sid_t *sids,
    ngx_uint_t nsids, uint32_t desired, ngx_wsman_ace_t **aces,
    ngx_uint_t *naces)
{
    ngx_uint_t        i, n, max, flags;
    ngx_wsman_ace_t  *ace;

    max = (aces && naces) ? *naces : 0;
    n = 0;
    flags = 0;
    ace = sd->sacl.aces.elts;

    for (i = 0; sd->sacl.present && i < sd->sacl.aces.nelts; i++) {

        if (ace[i].type != NGX_WSMAN_ACE_AUDIT
            || (ace[i].flags & NGX_WSMAN_ACE_INHERIT_ONLY)
            || (ngx_wsman_sddl_rights(ace[i].mask) & desired) == 0
            || !ngx_wsman_sddl_holds(sids, nsids, &ace[i].sid))
        {
            continue;
        }

        flags |= ace[i].flags & (NGX_WSMAN_ACE_AUDIT_SUCCESS
                                 | NGX_WSMAN_ACE_AUDIT_FAILURE);

        if (n < max) {
            aces[n++] = &ace[i];
        }
    }

    if (naces) {
        *naces = n;
    }

    return flags;
}


static ngx_wsman_sddl_code_t *
ngx_wsman_sddl_code(ngx_wsman_sddl_code_t *t, const u_char *p, size_t len)
{
    for ( /* void */ ; t->name; t++) {
        if (ngx_strlen(t->name) == len && ngx_memcmp(t->name, p, len) == 0) {
            return t;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_wsman_sddl_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static ngx_int_t
ngx_wsman_sddl_space(u_char c)
{
    return c == ' ' || c == '\t' || c == CR || c == LF;
}


static ngx_int_t
ngx_wsman_sddl_holds(ngx_wsman_sid_t *sids, ngx_uint_t nsids,
    ngx_wsman_sid_t *sid)
{
    ngx_uint_t  i;

    for (i = 0; i < nsids; i++) {
        if (ngx_wsman_sid_equal(&sids[i], sid)) {
            return 1;
        }
    }

    return 0;
}


/* GA stands for every right there is */
static uint32_t
ngx_wsman_sddl_rights(uint32_t mask)
{
    return (mask & NGX_WSMAN_RIGHT_GA) ? 0xffffffff : mask;
}
