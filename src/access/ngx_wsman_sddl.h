/*
 * SDDL security descriptors (RootSDDL, per-resource SDDLs): parsing, SIDs
 * and the access and audit checks.  Pure functions over a pool: no log,
 * no configuration, unit tested.
 *
 * Positions in error messages count bytes from 0 in the text as given,
 * leading white space included, like an offset.
 */

#ifndef _NGX_WSMAN_SDDL_H_INCLUDED_
#define _NGX_WSMAN_SDDL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* ACE types: the values of the Windows ACE_HEADER AceType byte */
#define NGX_WSMAN_ACE_ALLOW              0x00    /* A  */
#define NGX_WSMAN_ACE_DENY               0x01    /* D  */
#define NGX_WSMAN_ACE_AUDIT              0x02    /* AU */
#define NGX_WSMAN_ACE_ALARM              0x03    /* AL */
#define NGX_WSMAN_ACE_OBJECT_ALLOW       0x05    /* OA */
#define NGX_WSMAN_ACE_OBJECT_DENY        0x06    /* OD */
#define NGX_WSMAN_ACE_OBJECT_AUDIT       0x07    /* OU */
#define NGX_WSMAN_ACE_OBJECT_ALARM       0x08    /* OL */
#define NGX_WSMAN_ACE_CALLBACK_ALLOW     0x09    /* XA */
#define NGX_WSMAN_ACE_CALLBACK_DENY      0x0a    /* XD */
#define NGX_WSMAN_ACE_CALLBACK_OBJECT_ALLOW                                 \
                                         0x0b    /* ZA */
#define NGX_WSMAN_ACE_CALLBACK_AUDIT     0x0d    /* XU */
#define NGX_WSMAN_ACE_MANDATORY_LABEL    0x11    /* ML */
#define NGX_WSMAN_ACE_RESOURCE_ATTRIBUTE 0x12    /* RA */
#define NGX_WSMAN_ACE_SCOPED_POLICY      0x13    /* SP */

/* ACE flags: the values of the AceFlags byte */
#define NGX_WSMAN_ACE_OBJECT_INHERIT     0x01    /* OI */
#define NGX_WSMAN_ACE_CONTAINER_INHERIT  0x02    /* CI */
#define NGX_WSMAN_ACE_NO_PROPAGATE       0x04    /* NP */
#define NGX_WSMAN_ACE_INHERIT_ONLY       0x08    /* IO */
#define NGX_WSMAN_ACE_INHERITED          0x10    /* ID */
#define NGX_WSMAN_ACE_AUDIT_SUCCESS      0x40    /* SA */
#define NGX_WSMAN_ACE_AUDIT_FAILURE      0x80    /* FA */

/* ACL flags */
#define NGX_WSMAN_ACL_PROTECTED          0x01    /* P  */
#define NGX_WSMAN_ACL_AUTO_INHERITED     0x02    /* AI */
#define NGX_WSMAN_ACL_AUTO_INHERIT_REQ   0x04    /* AR */
#define NGX_WSMAN_ACL_NO_ACCESS_CONTROL  0x08    /* NO_ACCESS_CONTROL */

/* the generic rights WinRM checks */
#define NGX_WSMAN_RIGHT_GA               0x10000000
#define NGX_WSMAN_RIGHT_GX               0x20000000
#define NGX_WSMAN_RIGHT_GW               0x40000000
#define NGX_WSMAN_RIGHT_GR               0x80000000

#define NGX_WSMAN_SID_MAX_SUB            15
#define NGX_WSMAN_ACL_MAX_ACES           1024

/* longest text ngx_wsman_sid_format() writes (no NUL is written) */
#define NGX_WSMAN_SID_LEN                                                   \
    (sizeof("S-255-0xFFFFFFFFFFFF") - 1                                     \
     + NGX_WSMAN_SID_MAX_SUB * (sizeof("-4294967295") - 1))


/* a SID in binary form */
typedef struct {
    uint8_t                    revision;
    uint8_t                    count;          /* sub-authorities */
    uint64_t                   authority;      /* 48-bit */
    uint32_t                   sub[NGX_WSMAN_SID_MAX_SUB];
} ngx_wsman_sid_t;


typedef struct {
    uint8_t                    type;           /* NGX_WSMAN_ACE_* type */
    uint8_t                    flags;          /* NGX_WSMAN_ACE_* flags */
    uint32_t                   mask;           /* generic bits as given */
    ngx_wsman_sid_t            sid;

    /* the condition of XA/XD/XU/ZA or the attribute of RA, with its
     * outer parentheses; empty for other types */
    ngx_str_t                  condition;
} ngx_wsman_ace_t;


typedef struct {
    ngx_uint_t                 flags;          /* NGX_WSMAN_ACL_* */
    ngx_array_t                aces;           /* ngx_wsman_ace_t */
    unsigned                   present:1;
} ngx_wsman_acl_t;


typedef struct {
    ngx_wsman_sid_t            owner;
    ngx_wsman_sid_t            group;
    unsigned                   has_owner:1;
    unsigned                   has_group:1;
    ngx_wsman_acl_t            dacl;
    ngx_wsman_acl_t            sacl;
} ngx_wsman_sddl_t;


/*
 * NGX_OK; NGX_DECLINED on a syntax error, *error then holds a pool
 * allocated message with the position and what was expected; NGX_ERROR
 * when out of memory.
 *
 * Aliases relative to a domain (LA, LG, DA, DU, ...) need the account
 * domain SID (S-1-5-21-x-y-z) of the host: ngx_wsman_sddl_parse_domain()
 * takes it, ngx_wsman_sddl_parse() has none and rejects those aliases.
 */
ngx_int_t ngx_wsman_sddl_parse(ngx_pool_t *pool, ngx_str_t *text,
    ngx_wsman_sddl_t **sd, ngx_str_t *error);
ngx_int_t ngx_wsman_sddl_parse_domain(ngx_pool_t *pool, ngx_str_t *text,
    ngx_wsman_sid_t *domain, ngx_wsman_sddl_t **sd, ngx_str_t *error);

/* "S-1-5-32-544" or a two-letter alias, the whole text: NGX_OK or
 * NGX_ERROR; the _domain variant resolves domain-relative aliases */
ngx_int_t ngx_wsman_sid_parse(const u_char *p, size_t len,
    ngx_wsman_sid_t *sid);
ngx_int_t ngx_wsman_sid_parse_domain(const u_char *p, size_t len,
    ngx_wsman_sid_t *domain, ngx_wsman_sid_t *sid);

/* 1 when equal, 0 otherwise */
ngx_int_t ngx_wsman_sid_equal(ngx_wsman_sid_t *a, ngx_wsman_sid_t *b);

/* "S-1-5-..."; buf must hold NGX_WSMAN_SID_LEN bytes */
u_char *ngx_wsman_sid_format(u_char *buf, ngx_wsman_sid_t *sid);

/*
 * NGX_OK when the DACL grants every bit of desired (NGX_WSMAN_RIGHT_*) to
 * a caller holding sids, NGX_DECLINED otherwise.
 */
ngx_int_t ngx_wsman_sddl_access(ngx_wsman_sddl_t *sd, ngx_wsman_sid_t *sids,
    ngx_uint_t nsids, uint32_t desired);

/*
 * The SACL audit ACEs that apply to the caller and to any bit of desired.
 * Returns their NGX_WSMAN_ACE_AUDIT_SUCCESS / _FAILURE flags ORed, so a
 * caller logs a granted request when the result has _SUCCESS and a denied
 * one when it has _FAILURE.  When aces is not NULL, up to *naces pointers
 * to the matching ACEs are stored there and *naces is set to how many.
 */
ngx_uint_t ngx_wsman_sddl_audit(ngx_wsman_sddl_t *sd, ngx_wsman_sid_t *sids,
    ngx_uint_t nsids, uint32_t desired, ngx_wsman_ace_t **aces,
    ngx_uint_t *naces);


#endif /* _NGX_WSMAN_SDDL_H_INCLUDED_ */
