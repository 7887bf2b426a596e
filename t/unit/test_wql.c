/*
 * WQL parsing and evaluation against CIM instances
 * (src/engine/ngx_wsman_wql.c, with src/engine/ngx_wsman_instance.c for the
 * properties).
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "ngx_wsman_instance.h"
#include "ngx_wsman_wql.h"


#define UNIT_WHERE  "SELECT * FROM CIM_Process WHERE "


static ngx_pool_t            *unit_pool;
static ngx_wsman_instance_t  *unit_inst;


/*
 * ngx_wsman_prop_text() formats datetimes with ngx_gmtime(), which the
 * test runtime does not have (yet): a weak stand-in with nginx's
 * conventions (full year, months from 1) that a real one overrides.
 */
void __attribute__((weak))
ngx_gmtime(time_t t, ngx_tm_t *tp)
{
    struct tm  tm;

    gmtime_r(&t, &tm);

    *tp = tm;
    tp->ngx_tm_year = tm.tm_year + 1900;
    tp->ngx_tm_mon = tm.tm_mon + 1;
}


static ngx_int_t
unit_parse(const char *text, ngx_wsman_wql_t **wql, ngx_str_t *error)
{
    ngx_str_t  s;

    s.data = (u_char *) text;
    s.len = ngx_strlen(text);

    *wql = NULL;

    return ngx_wsman_wql_parse(unit_pool, &s, wql, error);
}


/* the outcome of UNIT_WHERE + where on unit_inst; -2 when it does not
 * parse */
static ngx_int_t
unit_where(const char *where)
{
    u_char            *q;
    size_t             len;
    ngx_str_t          s, error;
    ngx_wsman_wql_t   *wql;

    len = sizeof(UNIT_WHERE) - 1 + ngx_strlen(where);

    q = ngx_pnalloc(unit_pool, len);
    if (q == NULL) {
        return -3;
    }

    ngx_memcpy(q, UNIT_WHERE, sizeof(UNIT_WHERE) - 1);
    ngx_memcpy(q + sizeof(UNIT_WHERE) - 1, where, ngx_strlen(where));

    s.data = q;
    s.len = len;

    if (ngx_wsman_wql_parse(unit_pool, &s, &wql, &error) != NGX_OK) {
        printf("    parse error: %.*s\n", (int) error.len, error.data);
        return -2;
    }

    return ngx_wsman_wql_match(wql, unit_inst, unit_pool);
}


static ngx_uint_t
unit_contains(ngx_str_t *s, const char *needle)
{
    size_t  i, n;

    n = ngx_strlen(needle);

    for (i = 0; s->data != NULL && i + n <= s->len; i++) {
        if (ngx_memcmp(s->data + i, needle, n) == 0) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
unit_build_instance(void)
{
    ngx_str_t              cls = ngx_string("CIM_Process");
    ngx_str_t              uri = ngx_string(NGX_WSMAN_CIM_URI "CIM_Process");
    ngx_wsman_instance_t  *inst;

    inst = ngx_wsman_instance_create(unit_pool, &cls, &uri, 0);
    if (inst == NULL) {
        return NGX_ERROR;
    }

    if (ngx_wsman_prop_cstr(unit_pool, inst, "Name", "nginx.exe") == NULL
        || ngx_wsman_prop_uint(inst, "Handle", 10) == NULL
        || ngx_wsman_prop_sint(inst, "Priority", -5) == NULL
        || ngx_wsman_prop_sint(inst, "Lowest", INT64_MIN) == NULL
        || ngx_wsman_prop_bool(inst, "Critical", 1) == NULL
        || ngx_wsman_prop_nil(inst, "Path", NGX_WSMAN_PROP_STRING) == NULL
        || ngx_wsman_prop_real(unit_pool, inst, "Load", 1.5) == NULL
        || ngx_wsman_prop_datetime(inst, "Started", 86400) == NULL
        || ngx_wsman_prop_cstr(unit_pool, inst, "Tag", "alpha") == NULL
        || ngx_wsman_prop_cstr(unit_pool, inst, "Tag", "beta") == NULL
        || ngx_wsman_prop_nil(inst, "Multi", NGX_WSMAN_PROP_UINT) == NULL
        || ngx_wsman_prop_uint(inst, "Multi", 5) == NULL
        || ngx_wsman_prop_nil(inst, "Gone", NGX_WSMAN_PROP_UINT) == NULL
        || ngx_wsman_prop_nil(inst, "Gone", NGX_WSMAN_PROP_UINT) == NULL
        || ngx_wsman_prop_cstr(unit_pool, inst, "Label", "10") == NULL
        || ngx_wsman_prop_cstr(unit_pool, inst, "Word", "banana") == NULL
        || ngx_wsman_prop_cstr(unit_pool, inst, "Empty", "") == NULL
        || ngx_wsman_prop_cstr(unit_pool, inst, "Quote", "it's") == NULL
        || ngx_wsman_prop_cstr(unit_pool, inst, "Said", "say \"hi\"")
           == NULL
        || ngx_wsman_prop_cstr(unit_pool, inst, "Dir", "C:\\dir") == NULL)
    {
        return NGX_ERROR;
    }

    unit_inst = inst;

    return NGX_OK;
}


static void
unit_test_wql_parse(void)
{
    ngx_str_t         error, *name, s;
    ngx_array_t      *props;
    ngx_wsman_wql_t  *wql;

    if (UNIT_CHECK(unit_parse("SELECT * FROM Win32_Process", &wql, &error)
                   == NGX_OK))
    {
        UNIT_EQ_STR(*ngx_wsman_wql_class(wql), "Win32_Process");
        UNIT_CHECK(ngx_wsman_wql_properties(wql) == NULL);
        UNIT_CHECK(error.len == 0);

        /* no WHERE: everything matches */
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, unit_inst, unit_pool), 1);
    }

    if (UNIT_CHECK(unit_parse("select Name, Handle from CIM_Process "
                              "where Handle = 1", &wql, &error)
                   == NGX_OK))
    {
        UNIT_EQ_STR(*ngx_wsman_wql_class(wql), "CIM_Process");

        props = ngx_wsman_wql_properties(wql);

        if (UNIT_CHECK(props != NULL) && UNIT_EQ_UINT(props->nelts, 2)) {
            name = props->elts;
            UNIT_EQ_STR(name[0], "Name");
            UNIT_EQ_STR(name[1], "Handle");
        }

        /* Handle is 10 */
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, unit_inst, unit_pool), 0);
    }

    /* white space anywhere, keywords in any case */
    if (UNIT_CHECK(unit_parse("\r\n  SeLeCt\tName\n,Word FrOm  X  ", &wql,
                              &error)
                   == NGX_OK))
    {
        UNIT_EQ_STR(*ngx_wsman_wql_class(wql), "X");
        props = ngx_wsman_wql_properties(wql);

        if (UNIT_CHECK(props != NULL) && UNIT_EQ_UINT(props->nelts, 2)) {
            name = props->elts;
            UNIT_EQ_STR(name[1], "Word");
        }
    }

    /* the length is honoured: nothing past it is read */
    s.data = (u_char *) "SELECT * FROM X WHERE Handle = 10 garbage";
    s.len = sizeof("SELECT * FROM X WHERE Handle = 10") - 1;

    if (UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
                   == NGX_OK))
    {
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, unit_inst, unit_pool), 1);
    }

    /* the result outlives the text it came from */
    {
        u_char  buf[] = "SELECT Word FROM Y WHERE Handle = 10";

        s.data = buf;
        s.len = sizeof(buf) - 1;

        if (UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
                       == NGX_OK))
        {
            ngx_memset(buf, 'z', sizeof(buf) - 1);

            UNIT_EQ_STR(*ngx_wsman_wql_class(wql), "Y");
            props = ngx_wsman_wql_properties(wql);

            if (UNIT_CHECK(props != NULL)) {
                name = props->elts;
                UNIT_EQ_STR(name[0], "Word");
            }

            UNIT_EQ_UINT(ngx_wsman_wql_match(wql, unit_inst, unit_pool), 1);
        }
    }

    s.data = (u_char *) "SELECT * FROM X WHERE Name = 'abc' garbage";
    s.len = sizeof("SELECT * FROM X WHERE Name = 'abc") - 1;
    UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
               == NGX_DECLINED);
    UNIT_EQ_STR(error, "unterminated string at position 29");
}


static void
unit_test_wql_match(void)
{
    static const struct {
        const char  *where;
        ngx_int_t    match;
    } cases[] = {

        /* strings: case-insensitive, either quote, either side */
        { "Name = 'nginx.exe'", 1 },
        { "name = 'NGINX.EXE'", 1 },
        { "Name = \"nginx.exe\"", 1 },
        { "Name = 'nginx'", 0 },
        { "Name <> 'nginx.exe'", 0 },
        { "Name != 'x'", 1 },
        { "Name <> 'x'", 1 },
        { "'nginx.exe' = Name", 1 },
        { "Name > 'a'", 1 },
        { "Name < 'a'", 0 },
        { "'a' < Name", 1 },
        { "Name >= 'NGINX.EXE'", 1 },
        { "Name <= 'nginx.ex'", 0 },
        { "Empty = ''", 1 },

        /* escapes: backslash before \, ' or " */
        { "Quote = 'it\\'s'", 1 },
        { "Quote = \"it's\"", 1 },
        { "Said = \"say \\\"hi\\\"\"", 1 },
        { "Said = 'say \"hi\"'", 1 },
        { "Dir = 'C:\\\\dir'", 1 },
        { "Dir LIKE '%\\\\%'", 1 },

        /* numbers: a numeric property reads a numeric string as one */
        { "Handle = 10", 1 },
        { "Handle = '10'", 1 },
        { "Handle > 9", 1 },
        { "Handle > '9'", 1 },
        { "Handle >= 10", 1 },
        { "Handle <= 9", 0 },
        { "Handle <> 10", 0 },
        { "Handle = 10.0", 1 },
        { "Handle = 10.01", 0 },
        { "Handle < 10.5", 1 },
        { "Handle > 9.99", 1 },
        { "Handle > -1", 1 },
        { "Handle < 18446744073709551615", 1 },
        { "9 < Handle", 1 },
        { "11 <= Handle", 0 },
        { "Handle = 'ten'", 0 },
        { "Handle = '010'", 1 },

        /* ... and a string property compares text, digits or not */
        { "Label = 10", 1 },
        { "Label > '9'", 0 },
        { "Label < '9'", 1 },
        { "Label > 9", 0 },
        { "Label = '010'", 0 },

        { "Priority = -5", 1 },
        { "Priority < -4", 1 },
        { "Priority < 0", 1 },
        { "Priority > -5.5", 1 },
        { "Priority < -5.5", 0 },
        { "Priority > -4.99", 0 },
        { "Priority = '-5'", 1 },
        { "Lowest = -9223372036854775808", 1 },
        { "Lowest < -9223372036854775807", 1 },

        { "Load = 1.5", 1 },
        { "Load = '1.50'", 1 },
        { "Load > 1.49", 1 },
        { "Load < 2", 1 },
        { "Load < 1.05", 0 },
        { "Load LIKE '1.5%'", 1 },

        /* booleans */
        { "Critical = TRUE", 1 },
        { "Critical = true", 1 },
        { "Critical = FALSE", 0 },
        { "Critical <> FALSE", 1 },
        { "Critical = 'True'", 1 },
        { "Critical = 'false'", 0 },
        { "Critical = 1", 1 },
        { "Critical = 0", 0 },
        { "Critical > FALSE", 1 },
        { "TRUE = Critical", 1 },

        /* datetimes: text against strings, epoch seconds against numbers */
        { "Started = '1970-01-02T00:00:00Z'", 1 },
        { "Started > '1970-01-01'", 1 },
        { "Started < '1970-01-02'", 0 },
        { "Started = 86400", 1 },
        { "Started > 86399", 1 },
        { "Started LIKE '1970-01-02T%'", 1 },

        /* nil and unknown properties satisfy only IS NULL */
        { "Path = 'x'", 0 },
        { "Path <> 'x'", 0 },
        { "Path LIKE '%'", 0 },
        { "Path NOT LIKE 'x'", 0 },
        { "Path IS NULL", 1 },
        { "Path IS NOT NULL", 0 },
        { "NOT Path = 'x'", 1 },
        { "Missing IS NULL", 1 },
        { "Missing IS NOT NULL", 0 },
        { "Missing = 1", 0 },
        { "Missing <> 1", 0 },
        { "Name IS NULL", 0 },
        { "Name is not null", 1 },
        { "Gone IS NULL", 1 },

        /* a repeated name: any value will do */
        { "Tag = 'alpha'", 1 },
        { "Tag = 'beta'", 1 },
        { "Tag = 'gamma'", 0 },
        { "Tag LIKE 'b%'", 1 },
        { "Tag <> 'alpha'", 1 },
        { "Tag IS NOT NULL", 1 },
        { "Multi = 5", 1 },
        { "Multi IS NULL", 0 },
        { "Multi IS NOT NULL", 1 },

        /* LIKE */
        { "Name LIKE '%nginx%'", 1 },
        { "Name LIKE '%NGINX%'", 1 },
        { "Name LIKE '%apache%'", 0 },
        { "Name LIKE 'ng_nx%'", 1 },
        { "Name LIKE 'ng_nx'", 0 },
        { "Name LIKE 'nginx_exe'", 1 },
        { "Name LIKE 'nginx[.]exe'", 1 },
        { "Name LIKE '[a-c]%'", 0 },
        { "Word LIKE '[a-c]%'", 1 },
        { "Word LIKE '[A-C]anana'", 1 },
        { "Word LIKE '[abc]anana'", 1 },
        { "Word LIKE '[^a]%'", 1 },
        { "Word LIKE '[^b]%'", 0 },
        { "Name LIKE '[^n]%'", 0 },
        { "Word LIKE '[]]%'", 0 },
        { "Word LIKE '%an_'", 1 },
        { "Word LIKE '%[n]a'", 1 },
        { "Word LIKE 'B%A'", 1 },
        { "Word LIKE 'ban'", 0 },
        { "Word LIKE 'banana_'", 0 },
        { "Word LIKE '%%a%%'", 1 },
        { "Word LIKE '%a%a%a'", 1 },
        { "Word LIKE '%a%a%a%a'", 0 },
        { "Word LIKE '%'", 1 },
        { "Empty LIKE '%'", 1 },
        { "Empty LIKE '_'", 0 },
        { "Word NOT LIKE 'x%'", 1 },
        { "Word NOT LIKE 'b%'", 0 },
        { "NOT Word LIKE 'b%'", 0 },
        { "Handle LIKE '1_'", 1 },
        { "Critical LIKE 'tr%'", 1 },

        /* precedence: NOT, then AND, then OR */
        { "Handle = 10 OR Handle = 11 AND Name = 'x'", 1 },
        { "Name = 'x' AND Handle = 11 OR Handle = 10", 1 },
        { "(Handle = 10 OR Handle = 11) AND Name = 'x'", 0 },
        { "NOT Handle = 10 AND Handle = 11", 0 },
        { "NOT Handle = 10 OR Handle = 10", 1 },
        { "NOT (Handle = 10 OR Handle = 11)", 0 },
        { "NOT NOT Handle = 10", 1 },
        { "NOT NOT NOT Handle = 10", 0 },
        { "((Handle = 10))", 1 },
        { "Handle = 11 OR (Name LIKE 'ng%' AND (Priority < 0 "
          "OR Critical = FALSE))", 1 },
        { "Handle = 11 OR (Name LIKE 'ng%' AND NOT (Priority < 0 "
          "OR Critical = FALSE))", 0 },
        { "Handle = 10 AND Priority = -5 AND Critical = TRUE", 1 },
        { "Handle = 10 AND Priority = -5 AND Critical = FALSE", 0 },
        { "Handle = 1 OR Handle = 2 OR Handle = 3 OR Handle = 10", 1 },
        { "Handle = 1 OR Handle = 2 OR Handle = 3", 0 },
        { "handle = 10 and not critical = false", 1 },
        { "(Handle=10)AND(Name='nginx.exe')", 1 },
    };

    ngx_uint_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!UNIT_EQ_UINT(unit_where(cases[i].where), cases[i].match)) {
            printf("    where: %s\n", cases[i].where);
        }
    }
}


static void
unit_test_wql_reject(void)
{
    static const struct {
        const char  *text;
        const char  *error;
    } cases[] = {
        { "", "expected SELECT at position 0" },
        { "   ", "expected SELECT at position 3" },
        { "SELEC * FROM X", "expected SELECT at position 0" },
        { "SELECT", "expected * or a property name at position 6" },
        { "SELECT * FORM X", "expected FROM at position 9" },
        { "SELECT * FROM", "expected a class name at position 13" },
        { "SELECT * FROM WHERE", "expected a class name at position 14" },
        { "SELECT Name Handle FROM X", "expected , or FROM at position 12" },
        { "SELECT Name, FROM X", "expected a property name at position 13" },
        { "SELECT * FROM X Y", "expected WHERE or the end at position 16" },
        { "SELECT * FROM X WHERE",
          "expected a property name or a value at position 21" },
        { "SELECT * FROM X WHERE Name =",
          "expected a value at position 28" },
        { "SELECT * FROM X WHERE Name = Handle",
          "expected a value, not a property at position 29" },
        { "SELECT * FROM X WHERE 1 = 2",
          "expected a property name at position 26" },
        { "SELECT * FROM X WHERE 1",
          "expected a comparison operator at position 23" },
        { "SELECT * FROM X WHERE (Name = 1",
          "expected ) at position 31" },
        { "SELECT * FROM X WHERE ((Name = 1)",
          "expected ) at position 33" },
        { "SELECT * FROM X WHERE Name = 1)",
          "expected AND, OR or the end at position 30" },
        { "SELECT * FROM X WHERE ()",
          "expected a property name or a value at position 23" },
        { "SELECT * FROM X WHERE Name = 'abc",
          "unterminated string at position 29" },
        { "SELECT * FROM X WHERE Name = \"abc'",
          "unterminated string at position 29" },
        { "SELECT * FROM X WHERE Name = 'it''s'",
          "expected AND, OR or the end at position 33" },
        { "SELECT * FROM X WHERE Name = 'C:\\dir'",
          "expected \\, ' or \" after a backslash at position 32" },
        { "SELECT * FROM X WHERE Name === 1",
          "unknown operator \"===\" at position 27" },
        { "SELECT * FROM X WHERE Name => 1",
          "unknown operator \"=>\" at position 27" },
        { "SELECT * FROM X WHERE Name ! 1",
          "unknown operator \"!\" at position 27" },
        { "SELECT * FROM X WHERE Name = 1 garbage",
          "expected AND, OR or the end at position 31" },
        { "SELECT * FROM X WHERE Name = 1 AND",
          "expected a property name or a value at position 34" },
        { "SELECT * FROM X WHERE Name = 1 OR OR Name = 2",
          "expected a property name or a value at position 34" },
        { "SELECT * FROM X WHERE NOT",
          "expected a property name or a value at position 25" },
        { "SELECT * FROM X WHERE Name IS 5",
          "expected NOT or NULL at position 30" },
        { "SELECT * FROM X WHERE Name IS NOT",
          "expected NULL at position 33" },
        { "SELECT * FROM X WHERE Name NOT = 1",
          "expected LIKE at position 31" },
        { "SELECT * FROM X WHERE Name",
          "expected an operator, LIKE or IS at position 26" },
        { "SELECT * FROM X WHERE Name LIKE 5",
          "expected a quoted pattern at position 32" },
        { "SELECT * FROM X WHERE Name LIKE '[abc'",
          "unterminated [ in the pattern at position 32" },
        { "SELECT * FROM X WHERE Name LIKE '[^]'",
          "unterminated [ in the pattern at position 32" },
        { "SELECT * FROM X WHERE Name = 1.",
          "expected a digit at position 31" },
        { "SELECT * FROM X WHERE Name = -x",
          "expected a digit at position 30" },
        { "SELECT * FROM X WHERE Name = 12abc",
          "unexpected character at position 31" },
        { "SELECT * FROM X WHERE Name = 1.2.3",
          "unexpected character at position 32" },
        { "SELECT * FROM X WHERE Name = 99999999999999999999",
          "number out of range at position 29" },
        { "SELECT * FROM X WHERE Name # 1",
          "unexpected character at position 27" },
        { "SELECT * FROM X; DROP", "unexpected character at position 15" },
    };

    ngx_str_t         error;
    ngx_uint_t        i;
    ngx_wsman_wql_t  *wql;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!UNIT_CHECK(unit_parse(cases[i].text, &wql, &error)
                        == NGX_DECLINED))
        {
            printf("    query: %s\n", cases[i].text);
            continue;
        }

        UNIT_CHECK(wql == NULL);
        UNIT_CHECK(unit_contains(&error, "position"));

        if (!UNIT_EQ_STR(error, cases[i].error)) {
            printf("    query: %s\n", cases[i].text);
        }
    }
}


static void
unit_test_wql_limits(void)
{
    u_char           *q, *p;
    size_t            len;
    ngx_str_t         s, error;
    ngx_uint_t        i;
    ngx_wsman_wql_t  *wql;

    q = ngx_pnalloc(unit_pool, NGX_WSMAN_WQL_MAX_LEN + 64);
    if (!UNIT_CHECK(q != NULL)) {
        return;
    }

    s.data = q;

    /* 32 nested parentheses are fine, 33 are not */
    p = ngx_cpymem(q, UNIT_WHERE, sizeof(UNIT_WHERE) - 1);
    for (i = 0; i < 32; i++) {
        *p++ = '(';
    }
    p = ngx_cpymem(p, "Handle = 10", sizeof("Handle = 10") - 1);
    for (i = 0; i < 32; i++) {
        *p++ = ')';
    }
    s.len = p - q;

    if (UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
                   == NGX_OK))
    {
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, unit_inst, unit_pool), 1);
    }

    p = ngx_cpymem(q, UNIT_WHERE, sizeof(UNIT_WHERE) - 1);
    for (i = 0; i < 33; i++) {
        *p++ = '(';
    }
    p = ngx_cpymem(p, "Handle = 10", sizeof("Handle = 10") - 1);
    for (i = 0; i < 33; i++) {
        *p++ = ')';
    }
    s.len = p - q;

    UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
               == NGX_DECLINED);
    UNIT_CHECK(unit_contains(&error, "position"));
    UNIT_EQ_STR(error, "nesting deeper than 32 at position 64");

    /* NOTs nest too: 32 (an even count) keep the outcome, 33 fail */
    p = ngx_cpymem(q, UNIT_WHERE, sizeof(UNIT_WHERE) - 1);
    for (i = 0; i < 32; i++) {
        p = ngx_cpymem(p, "NOT ", 4);
    }
    p = ngx_cpymem(p, "Handle = 10", sizeof("Handle = 10") - 1);
    s.len = p - q;

    if (UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
                   == NGX_OK))
    {
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, unit_inst, unit_pool), 1);
    }

    p = ngx_cpymem(q, UNIT_WHERE, sizeof(UNIT_WHERE) - 1);
    for (i = 0; i < 33; i++) {
        p = ngx_cpymem(p, "NOT ", 4);
    }
    p = ngx_cpymem(p, "Handle = 10", sizeof("Handle = 10") - 1);
    s.len = p - q;

    UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
               == NGX_DECLINED);
    UNIT_EQ_STR(error, "nesting deeper than 32 at position 160");

    /* 256 predicates are fine (the last one matches), 257 are not */
    p = ngx_cpymem(q, UNIT_WHERE, sizeof(UNIT_WHERE) - 1);
    for (i = 0; i < 255; i++) {
        p = ngx_cpymem(p, "Handle = 1 OR ", sizeof("Handle = 1 OR ") - 1);
    }
    p = ngx_cpymem(p, "Handle = 10", sizeof("Handle = 10") - 1);
    s.len = p - q;

    if (UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
                   == NGX_OK))
    {
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, unit_inst, unit_pool), 1);
    }

    p = ngx_cpymem(p, " OR Handle = 2", sizeof(" OR Handle = 2") - 1);
    s.len = p - q;

    UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
               == NGX_DECLINED);
    UNIT_EQ_STR(error, "more than 256 terms at position 3617");

    /* a query of exactly the maximum length parses; one more byte not */
    len = NGX_WSMAN_WQL_MAX_LEN;
    p = ngx_cpymem(q, UNIT_WHERE "Name = '",
                   sizeof(UNIT_WHERE "Name = '") - 1);
    ngx_memset(p, 'a', q + len - 1 - p);
    q[len - 1] = '\'';
    s.len = len;

    if (UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
                   == NGX_OK))
    {
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, unit_inst, unit_pool), 0);
    }

    q[len - 1] = 'a';
    q[len] = '\'';
    s.len = len + 1;

    UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
               == NGX_DECLINED);
    UNIT_CHECK(unit_contains(&error, "position"));
    UNIT_EQ_STR(error, "query longer than 8192 bytes at position 8192");
}


/* many %s against a long near-miss: quadratic at worst, so this ends */
static void
unit_test_wql_like_cost(void)
{
    u_char                *long_a;
    ngx_str_t              cls = ngx_string("X"), uri = ngx_string("u");
    ngx_wsman_wql_t       *wql;
    ngx_str_t              s, error;
    ngx_wsman_instance_t  *inst;

    long_a = ngx_pnalloc(unit_pool, 4000);
    if (!UNIT_CHECK(long_a != NULL)) {
        return;
    }

    ngx_memset(long_a, 'a', 4000);

    inst = ngx_wsman_instance_create(unit_pool, &cls, &uri, 1);
    if (!UNIT_CHECK(inst != NULL)
        || !UNIT_CHECK(ngx_wsman_prop_str(unit_pool, inst, "A", long_a, 4000)
                       != NULL))
    {
        return;
    }

    ngx_str_set(&s, "SELECT * FROM X WHERE A LIKE "
                    "'%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b'");

    if (UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
                   == NGX_OK))
    {
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, inst, unit_pool), 0);
    }

    ngx_str_set(&s, "SELECT * FROM X WHERE A LIKE "
                    "'%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a_%[^b]'");

    if (UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
                   == NGX_OK))
    {
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, inst, unit_pool), 1);
    }
}


/* every allocation failure while parsing is NGX_ERROR, and so is one
 * while comparing (a number's text is formatted into the pool) */
static void
unit_test_wql_nomem(void)
{
    static const char  *texts[] = {
        "SELECT Name, Handle FROM X WHERE (Name = 'a' OR NOT Handle > 2)"
        " AND Word LIKE '[a-c]%'",
        "SELECT * FROM X WHERE Name = 'unterminated",
        "SELECT * FROM X WHERE Name === 1",
    };

    ngx_int_t         n, rc, last;
    ngx_str_t         s, error;
    ngx_uint_t        i, bad;
    ngx_pool_t       *pool;
    ngx_wsman_wql_t  *wql;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        s.data = (u_char *) texts[i];
        s.len = ngx_strlen(texts[i]);
        bad = 0;
        last = NGX_ERROR;

        for (n = 0; n < 100 && last == NGX_ERROR; n++) {
            pool = ngx_create_pool(1024, &unit_log);
            if (!UNIT_CHECK(pool != NULL)) {
                return;
            }

            unit_alloc_fail_after(n);
            rc = ngx_wsman_wql_parse(pool, &s, &wql, &error);
            unit_alloc_fail_after(-1);

            ngx_destroy_pool(pool);

            if (rc != NGX_ERROR && rc != (i == 0 ? NGX_OK : NGX_DECLINED)) {
                bad++;
            }

            last = rc;
        }

        UNIT_EQ_UINT(bad, 0);
        UNIT_CHECK(last != NGX_ERROR);
    }

    ngx_str_set(&s, "SELECT * FROM X WHERE Handle = 'ten'");

    if (UNIT_CHECK(ngx_wsman_wql_parse(unit_pool, &s, &wql, &error)
                   == NGX_OK))
    {
        unit_alloc_fail_after(0);
        rc = ngx_wsman_wql_match(wql, unit_inst, unit_pool);
        unit_alloc_fail_after(-1);

        UNIT_CHECK(rc == NGX_ERROR);
        UNIT_EQ_UINT(ngx_wsman_wql_match(wql, unit_inst, unit_pool), 0);
    }
}


void
unit_test_wql(void)
{
    unit_pool = ngx_create_pool(4096, &unit_log);
    if (!UNIT_CHECK(unit_pool != NULL)) {
        return;
    }

    if (UNIT_CHECK(unit_build_instance() == NGX_OK)) {
        unit_test_wql_parse();
        unit_test_wql_match();
        unit_test_wql_reject();
        unit_test_wql_limits();
        unit_test_wql_like_cost();
        unit_test_wql_nomem();
    }

    ngx_destroy_pool(unit_pool);
    unit_pool = NULL;
}
