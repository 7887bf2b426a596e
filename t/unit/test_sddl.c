/*
 * SDDL parsing, SIDs, the access check and the audit lookup
 * (src/access/ngx_wsman_sddl.c).
 */

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "ngx_wsman_sddl.h"


#define GA  NGX_WSMAN_RIGHT_GA
#define GR  NGX_WSMAN_RIGHT_GR
#define GW  NGX_WSMAN_RIGHT_GW
#define GX  NGX_WSMAN_RIGHT_GX

#define UNIT_DEFAULT_SDDL                                                   \
    "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;ER)S:P(AU;FA;GA;;;WD)(AU;SA;GWGX;;;WD)"

#define UNIT_PSRP_SDDL                                                      \
    "O:NSG:BAD:P(A;;GA;;;BA)(A;;GA;;;IU)(A;;GA;;;RM)"                       \
    "S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)"


static ngx_pool_t  *unit_pool;


static ngx_int_t
unit_parse_len(const char *text, size_t len, ngx_wsman_sddl_t **sd,
    ngx_str_t *error)
{
    ngx_str_t  s;

    s.data = (u_char *) text;
    s.len = len;

    return ngx_wsman_sddl_parse(unit_pool, &s, sd, error);
}


/* parses or reports why not */
static ngx_wsman_sddl_t *
unit_sddl(const char *text)
{
    ngx_str_t          error;
    ngx_wsman_sddl_t  *sd;

    sd = NULL;

    if (!UNIT_CHECK(unit_parse_len(text, strlen(text), &sd, &error)
                    == NGX_OK))
    {
        printf("    input: \"%s\"\n    error: \"%.*s\"\n", text,
               (int) error.len, error.data);
        return NULL;
    }

    UNIT_CHECK(sd != NULL);
    UNIT_EQ_UINT(error.len, 0);

    return sd;
}


/*
 * A rejection: NGX_DECLINED, *sd untouched, an error that holds needle
 * and "at position <pos>".
 */
static void
unit_reject_len(const char *text, size_t len, const char *needle,
    size_t pos)
{
    char               where[64], msg[512];
    ngx_int_t          rc;
    ngx_str_t          error;
    ngx_wsman_sddl_t  *sd, sentinel;

    sd = &sentinel;
    ngx_str_null(&error);

    rc = unit_parse_len(text, len, &sd, &error);

    if (!UNIT_CHECK(rc == NGX_DECLINED)) {
        printf("    input: \"%.*s\" (rc %d)\n", (int) len, text, (int) rc);
        return;
    }

    UNIT_CHECK(sd == &sentinel);

    if (!UNIT_CHECK(error.data != NULL && error.len > 0
                    && error.len < sizeof(msg)))
    {
        return;
    }

    ngx_memcpy(msg, error.data, error.len);
    msg[error.len] = '\0';

    snprintf(where, sizeof(where), "at position %lu", (unsigned long) pos);

    if (!UNIT_CHECK(strstr(msg, needle) != NULL)
        | !UNIT_CHECK(strstr(msg, where) != NULL))
    {
        printf("    input: \"%.*s\"\n    error: \"%s\"\n"
               "    wanted: \"%s\" and \"%s\"\n",
               (int) len, text, msg, needle, where);
    }

    /* the message is for a log line: printable, no NUL */
    UNIT_CHECK(memchr(error.data, '\0', error.len) == NULL);
}


static void
unit_reject(const char *text, const char *needle, size_t pos)
{
    unit_reject_len(text, strlen(text), needle, pos);
}


static ngx_wsman_sid_t
unit_sid(const char *text)
{
    ngx_wsman_sid_t  sid;

    ngx_memzero(&sid, sizeof(ngx_wsman_sid_t));

    if (!UNIT_CHECK(ngx_wsman_sid_parse((u_char *) text, strlen(text), &sid)
                    == NGX_OK))
    {
        printf("    input: \"%s\"\n", text);
    }

    return sid;
}


/* the SID, written out, is text */
static int
unit_sid_is(ngx_wsman_sid_t *sid, const char *text)
{
    u_char  buf[NGX_WSMAN_SID_LEN + 1], *p;

    p = ngx_wsman_sid_format(buf, sid);
    *p = '\0';

    return UNIT_EQ_CSTR(buf, text);
}


static ngx_wsman_ace_t *
unit_ace(ngx_wsman_acl_t *acl, ngx_uint_t i)
{
    return (ngx_wsman_ace_t *) acl->aces.elts + i;
}


static void
unit_test_sddl_default(void)
{
    ngx_wsman_ace_t   *ace;
    ngx_wsman_sddl_t  *sd;

    sd = unit_sddl(UNIT_DEFAULT_SDDL);
    if (sd == NULL) {
        return;
    }

    UNIT_CHECK(sd->has_owner);
    UNIT_CHECK(sd->has_group);
    unit_sid_is(&sd->owner, "S-1-5-20");
    unit_sid_is(&sd->group, "S-1-5-32-544");

    UNIT_CHECK(sd->dacl.present);
    UNIT_EQ_UINT(sd->dacl.flags, NGX_WSMAN_ACL_PROTECTED);

    if (UNIT_EQ_UINT(sd->dacl.aces.nelts, 2)) {
        ace = unit_ace(&sd->dacl, 0);
        UNIT_EQ_UINT(ace->type, NGX_WSMAN_ACE_ALLOW);
        UNIT_EQ_UINT(ace->flags, 0);
        UNIT_EQ_UINT(ace->mask, 0x10000000);
        unit_sid_is(&ace->sid, "S-1-5-32-544");
        UNIT_EQ_UINT(ace->condition.len, 0);

        ace = unit_ace(&sd->dacl, 1);
        UNIT_EQ_UINT(ace->type, NGX_WSMAN_ACE_ALLOW);
        UNIT_EQ_UINT(ace->flags, 0);
        UNIT_EQ_UINT(ace->mask, 0x80000000);
        unit_sid_is(&ace->sid, "S-1-5-32-573");
    }

    UNIT_CHECK(sd->sacl.present);
    UNIT_EQ_UINT(sd->sacl.flags, NGX_WSMAN_ACL_PROTECTED);

    if (UNIT_EQ_UINT(sd->sacl.aces.nelts, 2)) {
        ace = unit_ace(&sd->sacl, 0);
        UNIT_EQ_UINT(ace->type, NGX_WSMAN_ACE_AUDIT);
        UNIT_EQ_UINT(ace->flags, NGX_WSMAN_ACE_AUDIT_FAILURE);
        UNIT_EQ_UINT(ace->mask, 0x10000000);
        unit_sid_is(&ace->sid, "S-1-1-0");

        ace = unit_ace(&sd->sacl, 1);
        UNIT_EQ_UINT(ace->type, NGX_WSMAN_ACE_AUDIT);
        UNIT_EQ_UINT(ace->flags, NGX_WSMAN_ACE_AUDIT_SUCCESS);
        UNIT_EQ_UINT(ace->mask, 0x40000000 | 0x20000000);
        unit_sid_is(&ace->sid, "S-1-1-0");
    }

    /* the Windows values of the constants */
    UNIT_EQ_UINT(NGX_WSMAN_ACE_AUDIT_SUCCESS, 0x40);
    UNIT_EQ_UINT(NGX_WSMAN_ACE_AUDIT_FAILURE, 0x80);
    UNIT_EQ_UINT(NGX_WSMAN_ACE_INHERIT_ONLY, 0x08);
}


static void
unit_test_sddl_psrp(void)
{
    static const char  *sids[] = {
        "S-1-5-32-544", "S-1-5-4", "S-1-5-32-580"
    };

    ngx_uint_t         i;
    ngx_wsman_ace_t   *ace;
    ngx_wsman_sddl_t  *sd;

    sd = unit_sddl(UNIT_PSRP_SDDL);
    if (sd == NULL) {
        return;
    }

    unit_sid_is(&sd->owner, "S-1-5-20");
    unit_sid_is(&sd->group, "S-1-5-32-544");

    if (UNIT_EQ_UINT(sd->dacl.aces.nelts, 3)) {
        for (i = 0; i < 3; i++) {
            ace = unit_ace(&sd->dacl, i);
            UNIT_EQ_UINT(ace->type, NGX_WSMAN_ACE_ALLOW);
            UNIT_EQ_UINT(ace->mask, GA);
            unit_sid_is(&ace->sid, sids[i]);
        }
    }

    if (UNIT_EQ_UINT(sd->sacl.aces.nelts, 2)) {
        ace = unit_ace(&sd->sacl, 1);
        UNIT_EQ_UINT(ace->flags, NGX_WSMAN_ACE_AUDIT_SUCCESS);
        UNIT_EQ_UINT(ace->mask, GX | GW);
    }
}


static void
unit_test_sddl_fields(void)
{
    ngx_wsman_ace_t   *ace;
    ngx_wsman_sddl_t  *sd;

    /* hexadecimal rights, either case of x and digits */
    sd = unit_sddl("D:(A;;0x1f01ff;;;SY)(A;;0X1F01FF;;;SY)(A;;0x0;;;SY)"
                   "(A;;0xFFFFFFFF;;;SY)(A;;0x000000000010;;;SY)");
    if (sd && UNIT_EQ_UINT(sd->dacl.aces.nelts, 5)) {
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 0)->mask, 0x1f01ff);
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 1)->mask, 0x1f01ff);
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 2)->mask, 0);
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 3)->mask, 0xffffffff);
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 4)->mask, 0x10);
        unit_sid_is(&unit_ace(&sd->dacl, 0)->sid, "S-1-5-18");
    }

    /* a domain SID, in an ACE and as owner */
    sd = unit_sddl("O:S-1-5-21-1004336348-1177238915-682003330-512"
                   "G:S-1-5-21-1004336348-1177238915-682003330-513"
                   "D:(A;;GA;;;S-1-5-21-1004336348-1177238915-682003330-512)");
    if (sd) {
        unit_sid_is(&sd->owner,
                    "S-1-5-21-1004336348-1177238915-682003330-512");
        unit_sid_is(&sd->group,
                    "S-1-5-21-1004336348-1177238915-682003330-513");

        if (UNIT_EQ_UINT(sd->dacl.aces.nelts, 1)) {
            ace = unit_ace(&sd->dacl, 0);
            UNIT_EQ_UINT(ace->sid.count, 5);
            UNIT_EQ_UINT(ace->sid.authority, 5);
            UNIT_EQ_UINT(ace->sid.sub[0], 21);
            UNIT_EQ_UINT(ace->sid.sub[1], 1004336348);
            UNIT_EQ_UINT(ace->sid.sub[4], 512);
        }
    }

    /* every ACE flag, in any order */
    sd = unit_sddl("D:(A;CIOINPIOIDSAFA;GA;;;WD)(A;FAOI;GA;;;WD)(A;;GA;;;WD)");
    if (sd && UNIT_EQ_UINT(sd->dacl.aces.nelts, 3)) {
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 0)->flags, 0xdf);
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 1)->flags, 0x81);
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 2)->flags, 0);
    }

    /* ACL flags in any combination; NO_ACCESS_CONTROL; empty ACLs */
    sd = unit_sddl("D:PAIAR(A;;GA;;;WD)S:ARP");
    if (sd) {
        UNIT_EQ_UINT(sd->dacl.flags, NGX_WSMAN_ACL_PROTECTED
                                     | NGX_WSMAN_ACL_AUTO_INHERITED
                                     | NGX_WSMAN_ACL_AUTO_INHERIT_REQ);
        UNIT_EQ_UINT(sd->sacl.flags, NGX_WSMAN_ACL_PROTECTED
                                     | NGX_WSMAN_ACL_AUTO_INHERIT_REQ);
        UNIT_CHECK(sd->sacl.present);
        UNIT_EQ_UINT(sd->sacl.aces.nelts, 0);
        UNIT_CHECK(!sd->has_owner && !sd->has_group);
    }

    sd = unit_sddl("D:NO_ACCESS_CONTROL");
    if (sd) {
        UNIT_EQ_UINT(sd->dacl.flags, NGX_WSMAN_ACL_NO_ACCESS_CONTROL);
    }

    sd = unit_sddl("D:");
    if (sd) {
        UNIT_CHECK(sd->dacl.present);
        UNIT_CHECK(!sd->sacl.present);
        UNIT_EQ_UINT(sd->dacl.aces.nelts, 0);
    }

    /* sections in any order; the SACL may come first */
    sd = unit_sddl("S:P(AU;FA;GA;;;WD)D:P(A;;GA;;;BA)G:SYO:LS");
    if (sd) {
        unit_sid_is(&sd->owner, "S-1-5-19");
        unit_sid_is(&sd->group, "S-1-5-18");
        UNIT_EQ_UINT(sd->dacl.aces.nelts, 1);
        UNIT_EQ_UINT(sd->sacl.aces.nelts, 1);
    }

    /* a numeric owner ends where the next section starts */
    sd = unit_sddl("O:S-1-5-18G:S-1-0x000000000005-32-544D:S:");
    if (sd) {
        unit_sid_is(&sd->owner, "S-1-5-18");
        unit_sid_is(&sd->group, "S-1-5-32-544");
        UNIT_CHECK(sd->dacl.present && sd->sacl.present);
    }

    /* surrounding white space of the whole value */
    sd = unit_sddl("  \tO:NSG:BAD:P(A;;GA;;;BA) \n");
    if (sd) {
        UNIT_EQ_UINT(sd->dacl.aces.nelts, 1);
    }

    /* an empty rights field is a mask of 0 */
    sd = unit_sddl("D:(A;;;;;WD)");
    if (sd && UNIT_EQ_UINT(sd->dacl.aces.nelts, 1)) {
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 0)->mask, 0);
    }

    /* GUIDs */
    sd = unit_sddl("D:(OA;;CR;01234567-89ab-cdef-0123-456789ABCDEF;;WD)"
                   "(OD;CI;RPWP;;bf967aba-0de6-11d0-a285-00aa003049e2;AU)");
    if (sd && UNIT_EQ_UINT(sd->dacl.aces.nelts, 2)) {
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 0)->type,
                     NGX_WSMAN_ACE_OBJECT_ALLOW);
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 0)->mask, 0x100);
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 1)->type, NGX_WSMAN_ACE_OBJECT_DENY);
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 1)->mask, 0x30);
    }
}


static void
unit_test_sddl_types(void)
{
    static const struct {
        const char  *text;
        ngx_uint_t   type;
    } types[] = {
        { "D:(A;;GA;;;WD)", NGX_WSMAN_ACE_ALLOW },
        { "D:(D;;GA;;;WD)", NGX_WSMAN_ACE_DENY },
        { "S:(AU;SA;GA;;;WD)", NGX_WSMAN_ACE_AUDIT },
        { "S:(AL;SA;GA;;;WD)", NGX_WSMAN_ACE_ALARM },
        { "D:(OA;;GA;;;WD)", NGX_WSMAN_ACE_OBJECT_ALLOW },
        { "D:(OD;;GA;;;WD)", NGX_WSMAN_ACE_OBJECT_DENY },
        { "S:(OU;SA;GA;;;WD)", NGX_WSMAN_ACE_OBJECT_AUDIT },
        { "S:(OL;SA;GA;;;WD)", NGX_WSMAN_ACE_OBJECT_ALARM },
        { "S:(ML;;NW;;;LW)", NGX_WSMAN_ACE_MANDATORY_LABEL },
        { "D:(XA;;GX;;;WD;(Member_of {SID(BA)}))",
          NGX_WSMAN_ACE_CALLBACK_ALLOW },
        { "D:(XD;;GX;;;WD;(Member_of {SID(BA)}))",
          NGX_WSMAN_ACE_CALLBACK_DENY },
        { "S:(XU;SA;GX;;;WD;(Member_of {SID(BA)}))",
          NGX_WSMAN_ACE_CALLBACK_AUDIT },
        { "D:(ZA;;CR;;;WD;(@User.Title == \"PM\"))",
          NGX_WSMAN_ACE_CALLBACK_OBJECT_ALLOW },
        { "S:(RA;CI;;;;S-1-1-0;(\"Project\",TS,0,\"Windows\",\"SQL\"))",
          NGX_WSMAN_ACE_RESOURCE_ATTRIBUTE },
        { "S:(SP;IDFA;;;;S-1-17-1)", NGX_WSMAN_ACE_SCOPED_POLICY },
        { "D:(XA;;GX;;;WD)", NGX_WSMAN_ACE_CALLBACK_ALLOW },
    };

    ngx_uint_t         i;
    ngx_wsman_acl_t   *acl;
    ngx_wsman_sddl_t  *sd;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        sd = unit_sddl(types[i].text);
        if (sd == NULL) {
            continue;
        }

        acl = (types[i].text[0] == 'D') ? &sd->dacl : &sd->sacl;

        if (UNIT_EQ_UINT(acl->aces.nelts, 1)
            && !UNIT_EQ_UINT(unit_ace(acl, 0)->type, types[i].type))
        {
            printf("    input: \"%s\"\n", types[i].text);
        }
    }

    UNIT_EQ_UINT(NGX_WSMAN_ACE_CALLBACK_DENY, 0x0a);
    UNIT_EQ_UINT(NGX_WSMAN_ACE_MANDATORY_LABEL, 0x11);
}


static void
unit_test_sddl_rights(void)
{
    static const struct {
        const char  *code;
        uint32_t     mask;
    } rights[] = {
        { "GA", 0x10000000 }, { "GR", 0x80000000 }, { "GW", 0x40000000 },
        { "GX", 0x20000000 }, { "RC", 0x00020000 }, { "SD", 0x00010000 },
        { "WD", 0x00040000 }, { "WO", 0x00080000 }, { "RP", 0x00000010 },
        { "WP", 0x00000020 }, { "CC", 0x00000001 }, { "DC", 0x00000002 },
        { "LC", 0x00000004 }, { "SW", 0x00000008 }, { "LO", 0x00000080 },
        { "DT", 0x00000040 }, { "CR", 0x00000100 }, { "FA", 0x001f01ff },
        { "FR", 0x00120089 }, { "FW", 0x00120116 }, { "FX", 0x001200a0 },
        { "KA", 0x000f003f }, { "KR", 0x00020019 }, { "KW", 0x00020006 },
        { "KX", 0x00020019 }, { "NR", 0x00000002 }, { "NW", 0x00000001 },
        { "NX", 0x00000004 },
    };

    char               text[64];
    ngx_uint_t         i;
    ngx_wsman_sddl_t  *sd;

    for (i = 0; i < sizeof(rights) / sizeof(rights[0]); i++) {
        snprintf(text, sizeof(text), "D:(A;;%s;;;WD)", rights[i].code);

        sd = unit_sddl(text);

        if (sd && UNIT_EQ_UINT(sd->dacl.aces.nelts, 1)
            && !UNIT_EQ_UINT(unit_ace(&sd->dacl, 0)->mask, rights[i].mask))
        {
            printf("    right: %s\n", rights[i].code);
        }
    }

    /* concatenated codes OR together */
    sd = unit_sddl("D:(A;;GRGWGXRCSDWDWORPWPCCDCLCSWLODTCR;;;WD)");
    if (sd && UNIT_EQ_UINT(sd->dacl.aces.nelts, 1)) {
        UNIT_EQ_UINT(unit_ace(&sd->dacl, 0)->mask, 0xe00f01ff);
    }
}


static void
unit_test_sddl_conditional(void)
{
    ngx_wsman_ace_t   *ace;
    ngx_wsman_sddl_t  *sd;

    /* a JEA session configuration with RequiredGroups */
    sd = unit_sddl("O:NSG:BAD:P(A;;GA;;;BA)(XA;;GA;;;RM;((Member_of "
                   "{SID(S-1-5-21-1-2-3-1105)}) || (Member_of_any "
                   "{SID(BA), SID(DA)})))S:P(AU;FA;GA;;;WD)"
                   "(AU;SA;GXGW;;;WD)");
    if (sd == NULL) {
        return;
    }

    if (UNIT_EQ_UINT(sd->dacl.aces.nelts, 2)) {
        ace = unit_ace(&sd->dacl, 1);
        UNIT_EQ_UINT(ace->type, NGX_WSMAN_ACE_CALLBACK_ALLOW);
        UNIT_EQ_UINT(ace->mask, GA);
        unit_sid_is(&ace->sid, "S-1-5-32-580");
        UNIT_EQ_STR(ace->condition,
                    "((Member_of {SID(S-1-5-21-1-2-3-1105)}) || "
                    "(Member_of_any {SID(BA), SID(DA)}))");
    }

    UNIT_EQ_UINT(sd->sacl.aces.nelts, 2);

    /* parentheses and ';' inside a string of the condition */
    sd = unit_sddl("D:(XA;;GX;;;WD;(@User.dept == \"R(;D\"))(A;;GR;;;WD)");
    if (sd && UNIT_EQ_UINT(sd->dacl.aces.nelts, 2)) {
        UNIT_EQ_STR(unit_ace(&sd->dacl, 0)->condition,
                    "(@User.dept == \"R(;D\")");
    }

    /* RA attribute kept too */
    sd = unit_sddl("S:(RA;CI;;;;S-1-1-0;(\"Secrecy\",TU,0x0,3))");
    if (sd && UNIT_EQ_UINT(sd->sacl.aces.nelts, 1)) {
        UNIT_EQ_STR(unit_ace(&sd->sacl, 0)->condition,
                    "(\"Secrecy\",TU,0x0,3)");
    }
}


static void
unit_test_sddl_reject(void)
{
    char        *big, *p;
    ngx_uint_t   i;

    unit_reject("", "empty", 0);
    unit_reject("   ", "empty", 3);
    unit_reject("X:BA", "unexpected character \"X\"", 0);
    unit_reject("d:(A;;GA;;;BA)", "unexpected character \"d\"", 0);
    unit_reject("O:BAZ:BA", "unexpected character \"Z\"", 4);
    unit_reject("OBA", "missing \":\"", 1);
    unit_reject("O", "missing \":\"", 1);
    unit_reject("D:(A;;GA;;;BA)G", "missing \":\"", 15);
    unit_reject("O:BAO:SY", "duplicate section \"O:\"", 4);
    unit_reject("G:BAG:BA", "duplicate section \"G:\"", 4);
    unit_reject("D:(A;;GA;;;BA)D:(A;;GA;;;BA)", "duplicate section \"D:\"",
                14);
    unit_reject("S:S:", "duplicate section \"S:\"", 2);

    /* ACE types, flags, rights */
    unit_reject("D:(Z;;GA;;;BA)", "unknown ACE type \"Z\"", 3);
    unit_reject("D:(AA;;GA;;;BA)", "unknown ACE type \"AA\"", 3);
    unit_reject("D:(a;;GA;;;BA)", "unknown ACE type \"a\"", 3);
    unit_reject("D:(;;GA;;;BA)", "missing ACE type", 3);
    unit_reject("D:(A;XX;GA;;;BA)", "unknown ACE flag \"XX\"", 5);
    unit_reject("D:(A;CIC;GA;;;BA)", "unknown ACE flag \"C\"", 7);
    unit_reject("D:(A;;GZ;;;BA)", "unknown access right \"GZ\"", 6);
    unit_reject("D:(A;;GAG;;;BA)", "unknown access right \"G\"", 8);
    unit_reject("D:(A;;ga;;;BA)", "unknown access right \"ga\"", 6);
    unit_reject("D:(A;;1234;;;BA)", "unknown access right \"12\"", 6);
    unit_reject("D:(A;;0x;;;BA)", "invalid access mask", 6);
    unit_reject("D:(A;;0x100000000;;;BA)", "invalid access mask", 6);
    unit_reject("D:(A;;0x1G;;;BA)", "invalid access mask", 6);
    unit_reject("D:(A;;0x1GA;;;BA)", "invalid access mask", 6);

    /* GUIDs */
    unit_reject("D:(A;;GA;xyz;;BA)", "invalid GUID", 9);
    unit_reject("D:(A;;GA;;01234567-89ab-cdef-0123-456789abcdeg;BA)",
                "invalid GUID", 10);
    unit_reject("D:(A;;GA;01234567-89ab-cdef-0123+456789abcdef;;BA)",
                "invalid GUID", 9);
    unit_reject("D:(A;;GA;01234567-89ab-cdef-0123-456789abcdef0;;BA)",
                "invalid GUID", 9);

    /* SIDs */
    unit_reject("D:(A;;GA;;;ZZ)", "unknown SID \"ZZ\"", 11);
    unit_reject("D:(A;;GA;;;B)", "unknown SID \"B\"", 11);
    unit_reject("D:(A;;GA;;;)", "missing SID", 11);
    unit_reject("D:(A;;GA;;;BAX)", "unexpected character \"X\"", 13);
    unit_reject("D:(A;;GA;;;S-1-5-18x)", "unexpected character \"x\"", 19);
    unit_reject("O:", "missing SID", 2);
    unit_reject("O:G:BA", "unknown SID \"G:\"", 2);
    unit_reject("O:S-1-5-32-4294967296", "sub-authority out of range", 11);
    unit_reject("O:S-1-5-32-99999999999999999999999",
                "sub-authority out of range", 11);
    unit_reject("O:S-1-281474976710656", "authority out of range", 6);
    unit_reject("O:S-1-281474976710655-1-0x", "unexpected character \"x\"",
                25);
    unit_reject("O:S-1-0x1000000000000", "unexpected character \"0\"", 20);
    unit_reject("O:S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
                "more than 15 sub-authorities", 44);
    unit_reject("O:S-2-5-18", "unsupported SID revision", 4);
    unit_reject("O:S-1-5-", "invalid SID", 8);
    unit_reject("O:S-1-5--1", "invalid SID", 8);
    unit_reject("O:S-1", "invalid SID", 5);
    unit_reject("O:S-1-x", "invalid SID", 6);
    unit_reject("O:S-1-0x", "invalid SID", 8);
    unit_reject("O:S-", "invalid SID", 4);
    unit_reject("O:LA", "needs the domain SID", 2);
    unit_reject("D:(A;;GA;;;DA)", "needs the domain SID", 11);

    /* parentheses */
    unit_reject("D:(A;;GA;;;BA", "unbalanced parentheses", 13);
    unit_reject("D:(A;;GA;;;BA))", "unbalanced parentheses", 14);
    unit_reject("D:((A;;GA;;;BA)", "unbalanced parentheses", 3);
    unit_reject("D:(A;;GA;;;BA)(", "unbalanced parentheses", 15);
    unit_reject("D:)", "unbalanced parentheses", 2);
    unit_reject("D:(A;;GA)", "ACE ends too early", 8);
    unit_reject("D:(A;;GA;;;BA;x)", "unexpected \";\" after the SID", 13);
    unit_reject("D:(XA;;GA;;;BA;x)", "unexpected character \"x\"", 15);
    unit_reject("D:(XA;;GA;;;BA;)", "unbalanced parentheses", 15);
    unit_reject("D:(XA;;GA;;;BA;(Member_of {SID(BA)})",
                "unbalanced parentheses", 36);
    unit_reject("D:(XA;;GA;;;BA;(Member_of {SID(BA)}",
                "unbalanced parentheses in the condition", 15);
    unit_reject("D:(XA;;GA;;;BA;(x == \"a)\")",
                "unbalanced parentheses", 26);
    unit_reject("D:(XA;;GA;;;BA;(x)y)", "unbalanced parentheses", 18);

    /* ACL flags only before the ACEs; trailing garbage */
    unit_reject("D:PX", "unexpected character \"X\"", 3);
    unit_reject("D:(A;;GA;;;BA)P", "unexpected character \"P\"", 14);
    unit_reject("D:A(A;;GA;;;BA)", "unexpected character \"A\"", 2);
    unit_reject("D:NO_ACCESS(A;;GA;;;BA)", "unexpected character \"N\"", 2);
    unit_reject("D:(A;;GA;;;BA)x", "unexpected character \"x\"", 14);
    unit_reject("O:NSG:BAx", "unexpected character \"x\"", 8);

    /* white space between tokens */
    unit_reject("O:NS G:BA", "white space", 4);
    unit_reject("O: NS", "white space", 2);
    unit_reject("D: (A;;GA;;;BA)", "white space", 2);
    unit_reject("D:(A; ;GA;;;BA)", "white space", 5);
    unit_reject("D:(A;;GA;;; BA)", "white space", 11);
    unit_reject("D:(A;;GA;;;BA) S:", "white space", 14);
    unit_reject("  O:NS G:BA  ", "white space", 6);

    /* an embedded NUL is a character, not an end */
    unit_reject_len("D:(A;;GA;;;BA)\0", 15, "unexpected character", 14);
    unit_reject_len("D:(A;;GA;;;B\0)", 14, "unknown SID", 11);

    /* 1024 ACEs are fine, 1025 are not */
    big = ngx_pnalloc(unit_pool, 2 + 1025 * 12 + 1);
    if (!UNIT_CHECK(big != NULL)) {
        return;
    }

    p = (char *) ngx_cpymem(big, "D:", 2);

    for (i = 0; i < 1025; i++) {
        p = (char *) ngx_cpymem(p, "(A;;GA;;;WD)", 12);
    }

    *p = '\0';

    unit_reject(big, "more than 1024 ACEs", 2 + 1024 * 12);

    big[2 + 1024 * 12] = '\0';

    (void) unit_sddl(big);
}


static void
unit_test_sddl_sids(void)
{
    static const struct {
        const char  *text;
        const char  *sid;
    } valid[] = {
        /* wire-protocol.md section 4 */
        { "BA", "S-1-5-32-544" }, { "WD", "S-1-1-0" }, { "NS", "S-1-5-20" },
        { "ER", "S-1-5-32-573" }, { "RM", "S-1-5-32-580" },
        { "IU", "S-1-5-4" }, { "AU", "S-1-5-11" }, { "SY", "S-1-5-18" },

        { "BU", "S-1-5-32-545" }, { "BG", "S-1-5-32-546" },
        { "AN", "S-1-5-7" }, { "LS", "S-1-5-19" }, { "NU", "S-1-5-2" },
        { "AO", "S-1-5-32-548" }, { "BO", "S-1-5-32-551" },
        { "SO", "S-1-5-32-549" }, { "PO", "S-1-5-32-550" },
        { "PU", "S-1-5-32-547" }, { "RD", "S-1-5-32-555" },
        { "RU", "S-1-5-32-554" }, { "CO", "S-1-3-0" }, { "CG", "S-1-3-1" },
        { "LW", "S-1-16-4096" }, { "ME", "S-1-16-8192" },
        { "HI", "S-1-16-12288" }, { "SI", "S-1-16-16384" },
        { "UD", "S-1-5-84-0-0-0-0-0" }, { "AC", "S-1-15-2-1" },
        { "MU", "S-1-5-32-558" }, { "NO", "S-1-5-32-556" },

        { "S-1-5-32-544", "S-1-5-32-544" },
        { "s-1-5-18", "S-1-5-18" },
        { "S-1-5", "S-1-5" },
        { "S-1-0-0", "S-1-0-0" },
        { "S-1-5-0018", "S-1-5-18" },
        { "S-1-0x000000000005-18", "S-1-5-18" },
        { "S-1-0X5-18", "S-1-5-18" },
        { "S-1-0x123456789abc-1-2", "S-1-0x123456789ABC-1-2" },
        { "S-1-4294967295-4294967295", "S-1-4294967295-4294967295" },
        { "S-1-4294967296", "S-1-0x000100000000" },
        { "S-1-281474976710655", "S-1-0xFFFFFFFFFFFF" },
        { "S-1-5-21-1004336348-1177238915-682003330-512",
          "S-1-5-21-1004336348-1177238915-682003330-512" },
        { "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15",
          "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15" },
    };

    static const char  *invalid[] = {
        "", "S", "S-", "S-1", "S-1-", "S-1-5-", "S-2-5-18", "S-0-5",
        "S-256-5", "S-1-281474976710656", "S-1-0x1000000000000",
        "S-1-5-4294967296", "S-1-5--1", "S-1-5-x", "S-1-5-1a", "XX", "B",
        "BAX", " BA", "BA ", "S-1-5-18 ", "ba", "S-1-5-+1", "S-1--5",
        "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "LA", "DA", "DU",
        "S1-5-18",
    };

    u_char            buf[NGX_WSMAN_SID_LEN + 1], *p;
    ngx_uint_t        i;
    ngx_wsman_sid_t   sid, sid2, domain;

    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        sid = unit_sid(valid[i].text);

        if (!unit_sid_is(&sid, valid[i].sid)) {
            printf("    input: \"%s\"\n", valid[i].text);
            continue;
        }

        /* what is written parses back to the same SID */
        p = ngx_wsman_sid_format(buf, &sid);
        UNIT_CHECK(ngx_wsman_sid_parse(buf, p - buf, &sid2) == NGX_OK
                   && ngx_wsman_sid_equal(&sid, &sid2));
    }

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        ngx_memset(&sid, 0xa5, sizeof(ngx_wsman_sid_t));

        if (!UNIT_CHECK(ngx_wsman_sid_parse((u_char *) invalid[i],
                                            strlen(invalid[i]), &sid)
                        == NGX_ERROR))
        {
            printf("    input: \"%s\"\n", invalid[i]);
        }

        /* nothing is stored on error */
        UNIT_EQ_UINT(sid.revision, 0xa5);
    }

    /* the length is honoured */
    UNIT_CHECK(ngx_wsman_sid_parse((u_char *) "BAX", 2, &sid) == NGX_OK);
    unit_sid_is(&sid, "S-1-5-32-544");
    UNIT_CHECK(ngx_wsman_sid_parse((u_char *) "S-1-5-189", 8, &sid)
               == NGX_OK);
    unit_sid_is(&sid, "S-1-5-18");

    /* the longest SID fits NGX_WSMAN_SID_LEN exactly */
    sid = unit_sid("S-1-281474976710655-4294967295-4294967295-4294967295-"
                   "4294967295-4294967295-4294967295-4294967295-4294967295-"
                   "4294967295-4294967295-4294967295-4294967295-4294967295-"
                   "4294967295-4294967295");
    p = ngx_wsman_sid_format(buf, &sid);
    UNIT_EQ_UINT(p - buf, NGX_WSMAN_SID_LEN - 2);   /* revision "1" */

    /* domain-relative aliases with a domain */
    domain = unit_sid("S-1-5-21-1-2-3");

    UNIT_CHECK(ngx_wsman_sid_parse_domain((u_char *) "LA", 2, &domain, &sid)
               == NGX_OK);
    unit_sid_is(&sid, "S-1-5-21-1-2-3-500");
    UNIT_CHECK(ngx_wsman_sid_parse_domain((u_char *) "LG", 2, &domain, &sid)
               == NGX_OK);
    unit_sid_is(&sid, "S-1-5-21-1-2-3-501");
    UNIT_CHECK(ngx_wsman_sid_parse_domain((u_char *) "DA", 2, &domain, &sid)
               == NGX_OK);
    unit_sid_is(&sid, "S-1-5-21-1-2-3-512");
    UNIT_CHECK(ngx_wsman_sid_parse_domain((u_char *) "BA", 2, &domain, &sid)
               == NGX_OK);
    unit_sid_is(&sid, "S-1-5-32-544");

    /* equality */
    sid = unit_sid("BA");
    sid2 = unit_sid("S-1-5-32-544");
    UNIT_CHECK(ngx_wsman_sid_equal(&sid, &sid2));
    sid2 = unit_sid("BU");
    UNIT_CHECK(!ngx_wsman_sid_equal(&sid, &sid2));
    sid = unit_sid("S-1-5");
    sid2 = unit_sid("S-1-5-0");
    UNIT_CHECK(!ngx_wsman_sid_equal(&sid, &sid2));
    sid = unit_sid("S-1-5-18");
    sid2 = unit_sid("S-1-16-18");
    UNIT_CHECK(!ngx_wsman_sid_equal(&sid, &sid2));
    sid2 = unit_sid("SY");
    UNIT_CHECK(ngx_wsman_sid_equal(&sid, &sid2));
}


static void
unit_test_sddl_domain(void)
{
    ngx_str_t          text, error;
    ngx_wsman_sid_t    domain;
    ngx_wsman_sddl_t  *sd;

    domain = unit_sid("S-1-5-21-1004336348-1177238915-682003330");

    ngx_str_set(&text, "O:LAG:DUD:(A;;GA;;;LA)(A;;GR;;;LG)");

    sd = NULL;
    if (!UNIT_CHECK(ngx_wsman_sddl_parse_domain(unit_pool, &text, &domain,
                                                &sd, &error)
                    == NGX_OK))
    {
        return;
    }

    unit_sid_is(&sd->owner, "S-1-5-21-1004336348-1177238915-682003330-500");
    unit_sid_is(&sd->group, "S-1-5-21-1004336348-1177238915-682003330-513");

    if (UNIT_EQ_UINT(sd->dacl.aces.nelts, 2)) {
        unit_sid_is(&unit_ace(&sd->dacl, 1)->sid,
                    "S-1-5-21-1004336348-1177238915-682003330-501");
    }

    /* without one, the message says what is missing */
    UNIT_CHECK(ngx_wsman_sddl_parse(unit_pool, &text, &sd, &error)
               == NGX_DECLINED);
    UNIT_EQ_STR(error, "SID alias \"LA\" needs the domain SID, which is not "
                       "known here at position 2, expected a full "
                       "S-1-5-21-... SID");
}


static ngx_int_t
unit_access(ngx_wsman_sddl_t *sd, const char *sids, uint32_t desired)
{
    u_char           *p, *s;
    ngx_uint_t        n;
    ngx_wsman_sid_t   list[8];

    /* "BA WD AU" */
    n = 0;
    p = (u_char *) sids;

    while (*p && n < 8) {
        for (s = p; *p && *p != ' '; p++) { /* void */ }

        if (ngx_wsman_sid_parse(s, p - s, &list[n]) != NGX_OK) {
            printf("    bad test SID in \"%s\"\n", sids);
            UNIT_CHECK(0);
            return NGX_ERROR;
        }

        n++;

        while (*p == ' ') {
            p++;
        }
    }

    return ngx_wsman_sddl_access(sd, list, n, desired);
}


#define UNIT_GRANTED(sd, sids, desired)                                     \
    UNIT_CHECK(unit_access(sd, sids, desired) == NGX_OK)

#define UNIT_DENIED(sd, sids, desired)                                      \
    UNIT_CHECK(unit_access(sd, sids, desired) == NGX_DECLINED)


static void
unit_test_sddl_access(void)
{
    ngx_wsman_sddl_t  *sd;

    sd = unit_sddl(UNIT_DEFAULT_SDDL);
    if (sd == NULL) {
        return;
    }

    /* Administrators: everything through GA */
    UNIT_GRANTED(sd, "BA WD AU NU", GR);
    UNIT_GRANTED(sd, "BA WD AU NU", GW);
    UNIT_GRANTED(sd, "BA WD AU NU", GX);
    UNIT_GRANTED(sd, "WD BA", GR | GW | GX);
    UNIT_GRANTED(sd, "BA", GA);

    /* Event Log Readers: read only */
    UNIT_GRANTED(sd, "ER WD AU NU", GR);
    UNIT_DENIED(sd, "ER WD AU NU", GX);
    UNIT_DENIED(sd, "ER WD AU NU", GW);
    UNIT_DENIED(sd, "ER WD AU NU", GR | GX);
    UNIT_DENIED(sd, "ER", GA);

    /* any other authenticated user: nothing */
    UNIT_DENIED(sd, "WD AU NU", GR);
    UNIT_DENIED(sd, "WD AU NU", GW);
    UNIT_DENIED(sd, "WD AU NU", GX);
    UNIT_DENIED(sd, "", GR);

    /* a Remote Management User: PSRP's SDDL, not the default one */
    UNIT_DENIED(sd, "RM WD AU NU", GX);
    sd = unit_sddl(UNIT_PSRP_SDDL);
    if (sd) {
        UNIT_GRANTED(sd, "RM WD AU NU", GX);
        UNIT_GRANTED(sd, "IU", GR | GW | GX);
        UNIT_DENIED(sd, "WD AU NU", GX);
    }

    /* a deny before the allow wins for its bits only */
    sd = unit_sddl("D:(D;;GX;;;WD)(A;;GA;;;WD)");
    if (sd) {
        UNIT_DENIED(sd, "WD", GX);
        UNIT_GRANTED(sd, "WD", GR);
        UNIT_GRANTED(sd, "WD", GW);
        UNIT_DENIED(sd, "WD", GR | GX);
        UNIT_DENIED(sd, "WD", GA);    /* GA asks for GX too */
    }

    /* a deny after a full grant takes nothing back */
    sd = unit_sddl("D:(A;;GA;;;WD)(D;;GA;;;WD)");
    if (sd) {
        UNIT_GRANTED(sd, "WD", GR);
        UNIT_GRANTED(sd, "WD", GX);
    }

    /* a later deny only counts for bits not granted yet */
    sd = unit_sddl("D:(A;;GR;;;WD)(D;;GR;;;WD)(A;;GX;;;WD)");
    if (sd) {
        UNIT_GRANTED(sd, "WD", GR | GX);
    }

    sd = unit_sddl("D:(A;;GR;;;WD)(D;;GX;;;WD)(A;;GX;;;WD)");
    if (sd) {
        UNIT_DENIED(sd, "WD", GR | GX);
        UNIT_GRANTED(sd, "WD", GR);
    }

    /* a deny of a right not asked for denies nothing */
    sd = unit_sddl("D:(D;;GW;;;WD)(A;;GR;;;WD)");
    if (sd) {
        UNIT_GRANTED(sd, "WD", GR);
        UNIT_DENIED(sd, "WD", GW);
    }

    /* grants add up across ACEs and SIDs */
    sd = unit_sddl("D:(A;;GR;;;WD)(A;;GX;;;AU)");
    if (sd) {
        UNIT_GRANTED(sd, "WD AU", GR | GX);
        UNIT_DENIED(sd, "WD", GR | GX);
        UNIT_GRANTED(sd, "WD", GR);
    }

    /* a group deny beats an Everyone allow that comes later */
    sd = unit_sddl("D:(D;;GA;;;BG)(A;;GA;;;WD)");
    if (sd) {
        UNIT_GRANTED(sd, "WD AU", GR);
        UNIT_DENIED(sd, "WD BG", GR);
    }

    /* no DACL, or NO_ACCESS_CONTROL: denied (stricter than Windows) */
    sd = unit_sddl("O:NSG:BAS:P(AU;FA;GA;;;WD)");
    if (sd) {
        UNIT_DENIED(sd, "WD BA SY", GR);
        UNIT_DENIED(sd, "WD BA SY", 0);
    }

    sd = unit_sddl("D:NO_ACCESS_CONTROL");
    if (sd) {
        UNIT_DENIED(sd, "WD BA", GR);
    }

    /* an empty DACL */
    sd = unit_sddl("D:P");
    if (sd) {
        UNIT_DENIED(sd, "WD BA", GR);
        UNIT_GRANTED(sd, "WD BA", 0);
    }

    /* inherit-only ACEs do not apply to the object itself */
    sd = unit_sddl("D:(A;IO;GA;;;WD)");
    if (sd) {
        UNIT_DENIED(sd, "WD", GR);
    }

    sd = unit_sddl("D:(D;CIIO;GA;;;WD)(A;OICI;GA;;;WD)");
    if (sd) {
        UNIT_GRANTED(sd, "WD", GX);
    }

    /* generic bits as given: only GA stands for more */
    sd = unit_sddl("D:(A;;GRGWGX;;;WD)");
    if (sd) {
        UNIT_GRANTED(sd, "WD", GR | GW | GX);
        UNIT_DENIED(sd, "WD", GA);
    }

    sd = unit_sddl("D:(A;;FA;;;WD)(A;;0x0fffffff;;;AU)");
    if (sd) {
        UNIT_DENIED(sd, "WD AU", GR);
    }

    sd = unit_sddl("D:(A;;0x10000000;;;WD)");
    if (sd) {
        UNIT_GRANTED(sd, "WD", GX);
    }

    /* a full SID */
    sd = unit_sddl("D:(A;;GA;;;S-1-5-21-1004336348-1177238915-682003330-512)");
    if (sd) {
        UNIT_GRANTED(sd, "WD S-1-5-21-1004336348-1177238915-682003330-512",
                     GX);
        UNIT_DENIED(sd, "WD S-1-5-21-1004336348-1177238915-682003330-513",
                    GX);
    }

    /* object, label and conditional ACEs never apply */
    sd = unit_sddl("D:(OA;;GA;;;WD)(XA;;GA;;;WD;(Member_of {SID(BA)}))");
    if (sd) {
        UNIT_DENIED(sd, "WD BA", GR);
    }

    sd = unit_sddl("D:(OD;;GA;;;WD)(A;;GA;;;WD)");
    if (sd) {
        UNIT_GRANTED(sd, "WD BA", GX);
    }

    /* a conditional deny cannot be evaluated, so it denies (fail safe) */
    sd = unit_sddl("D:(XD;;GX;;;WD;(Member_of {SID(BA)}))(A;;GA;;;WD)");
    if (sd) {
        UNIT_DENIED(sd, "WD BA", GX);
        UNIT_GRANTED(sd, "WD BA", GR);
    }
}


static void
unit_test_sddl_audit(void)
{
    ngx_uint_t         n, flags;
    ngx_wsman_sid_t    sids[2];
    ngx_wsman_ace_t   *aces[4];
    ngx_wsman_sddl_t  *sd;

    sd = unit_sddl(UNIT_DEFAULT_SDDL);
    if (sd == NULL || !UNIT_EQ_UINT(sd->sacl.aces.nelts, 2)) {
        return;
    }

    sids[0] = unit_sid("WD");
    sids[1] = unit_sid("AU");

    /* a read: only (AU;FA;GA;;;WD) covers it, failures are logged */
    n = 4;
    flags = ngx_wsman_sddl_audit(sd, sids, 2, GR, aces, &n);
    UNIT_EQ_UINT(flags, NGX_WSMAN_ACE_AUDIT_FAILURE);
    if (UNIT_EQ_UINT(n, 1)) {
        UNIT_CHECK(aces[0] == unit_ace(&sd->sacl, 0));
    }

    /* an execute: both, so success and failure are logged */
    n = 4;
    flags = ngx_wsman_sddl_audit(sd, sids, 2, GX, aces, &n);
    UNIT_EQ_UINT(flags, NGX_WSMAN_ACE_AUDIT_FAILURE
                        | NGX_WSMAN_ACE_AUDIT_SUCCESS);
    if (UNIT_EQ_UINT(n, 2)) {
        UNIT_CHECK(aces[0] == unit_ace(&sd->sacl, 0));
        UNIT_CHECK(aces[1] == unit_ace(&sd->sacl, 1));
    }

    /* room for one: the flags still count them all */
    n = 1;
    flags = ngx_wsman_sddl_audit(sd, sids, 2, GW, aces, &n);
    UNIT_EQ_UINT(flags, NGX_WSMAN_ACE_AUDIT_FAILURE
                        | NGX_WSMAN_ACE_AUDIT_SUCCESS);
    UNIT_EQ_UINT(n, 1);

    flags = ngx_wsman_sddl_audit(sd, sids, 2, GW, NULL, NULL);
    UNIT_EQ_UINT(flags, NGX_WSMAN_ACE_AUDIT_FAILURE
                        | NGX_WSMAN_ACE_AUDIT_SUCCESS);

    /* nothing asked, or not for this caller */
    n = 4;
    UNIT_EQ_UINT(ngx_wsman_sddl_audit(sd, sids, 2, 0, aces, &n), 0);
    UNIT_EQ_UINT(n, 0);
    UNIT_EQ_UINT(ngx_wsman_sddl_audit(sd, &sids[1], 1, GX, NULL, NULL), 0);

    /* no SACL */
    sd = unit_sddl("D:(A;;GA;;;WD)");
    if (sd) {
        n = 4;
        UNIT_EQ_UINT(ngx_wsman_sddl_audit(sd, sids, 2, GX, aces, &n), 0);
        UNIT_EQ_UINT(n, 0);
    }

    /* inherit-only, alarm and conditional audit ACEs do not apply; the
     * DACL is not a SACL */
    sd = unit_sddl("D:(AU;SA;GA;;;WD)S:(AU;IOSA;GA;;;WD)(AL;SA;GA;;;WD)"
                   "(XU;SA;GA;;;WD;(Member_of {SID(WD)}))(AU;FA;GR;;;AU)");
    if (sd) {
        n = 4;
        UNIT_EQ_UINT(ngx_wsman_sddl_audit(sd, sids, 2, GA | GR, aces, &n),
                     NGX_WSMAN_ACE_AUDIT_FAILURE);
        if (UNIT_EQ_UINT(n, 1)) {
            UNIT_CHECK(aces[0] == unit_ace(&sd->sacl, 3));
        }
    }
}


/* every allocation failure comes back as NGX_ERROR, never as a crash */
static void
unit_test_sddl_nomem(void)
{
    static const char  *texts[] = {
        UNIT_DEFAULT_SDDL,
        "D:(XA;;GX;;;WD;(Member_of {SID(BA)}))",
        "D:(Z;;GA;;;BA)",
    };

    ngx_int_t          n, rc, last;
    ngx_str_t          s, error;
    ngx_uint_t         i, bad;
    ngx_pool_t        *pool;
    ngx_wsman_sddl_t  *sd;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        last = (i == 2) ? NGX_DECLINED : NGX_OK;
        bad = 0;

        for (n = 0; n < 100; n++) {
            pool = ngx_create_pool(1024, &unit_log);
            if (!UNIT_CHECK(pool != NULL)) {
                return;
            }

            s.data = (u_char *) texts[i];
            s.len = strlen(texts[i]);

            unit_alloc_fail_after(n);
            rc = ngx_wsman_sddl_parse(pool, &s, &sd, &error);
            unit_alloc_fail_after(-1);

            ngx_destroy_pool(pool);

            if (rc == last) {
                break;
            }

            if (rc != NGX_ERROR) {
                bad++;
            }
        }

        UNIT_CHECK(n > 0 && n < 100);
        UNIT_EQ_UINT(bad, 0);
    }
}


void
unit_test_sddl(void)
{
    unit_pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(unit_pool != NULL)) {
        return;
    }

    unit_test_sddl_default();
    unit_test_sddl_psrp();
    unit_test_sddl_fields();
    unit_test_sddl_types();
    unit_test_sddl_rights();
    unit_test_sddl_conditional();
    unit_test_sddl_reject();
    unit_test_sddl_sids();
    unit_test_sddl_domain();
    unit_test_sddl_access();
    unit_test_sddl_audit();
    unit_test_sddl_nomem();

    ngx_destroy_pool(unit_pool);
    unit_pool = NULL;
}
