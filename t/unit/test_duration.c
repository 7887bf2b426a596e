/*
 * xs:duration parsing and formatting (src/soap/ngx_wsman_duration.c).
 */

#include "unit.h"
#include "ngx_wsman_duration.h"


#define UNIT_SEC    1000ULL
#define UNIT_MIN    (60 * UNIT_SEC)
#define UNIT_HOUR   (60 * UNIT_MIN)
#define UNIT_DAY    (24 * UNIT_HOUR)


static ngx_int_t
unit_parse(const char *s, uint64_t *msec)
{
    *msec = 0xdeadbeef;

    return ngx_wsman_duration_parse((const u_char *) s, ngx_strlen(s), msec);
}


static void
unit_test_duration_valid(void)
{
    static const struct {
        const char  *text;
        uint64_t     msec;
    } valid[] = {
        { "PT60S", 60000 },
        { "PT0.5S", 500 },
        { "PT1.25S", 1250 },
        { "PT1.2345S", 1234 },                   /* truncated, not rounded */
        { "PT0.0009S", 0 },
        { "PT0S", 0 },
        { "P1D", UNIT_DAY },
        { "P1DT2H3M4.5S", UNIT_DAY + 2 * UNIT_HOUR + 3 * UNIT_MIN + 4500 },
        { "PT1H", UNIT_HOUR },
        { "PT1M", UNIT_MIN },                    /* minutes after T */
        { "P1M", 30 * UNIT_DAY },                /* months before T */
        { "P1Y", 365 * UNIT_DAY },
        { "P1Y1M1D", 396 * UNIT_DAY },
        { "PT1M30S", 90000 },
        { "PT20S", 20000 },
        { "P0DT0H0M1S", 1000 },
        { "PT007S", 7000 },
        { " PT60S", 60000 },
        { "PT60S ", 60000 },
        { "\t\r\n PT60S \n\t", 60000 },
        { "PT2147483647S", NGX_WSMAN_DURATION_MAX },
        { "PT2147483646.5S", NGX_WSMAN_DURATION_MAX - 500 },
    };

    ngx_uint_t  i;
    uint64_t    msec;

    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        if (!UNIT_CHECK(unit_parse(valid[i].text, &msec) == NGX_OK)) {
            printf("    input: \"%s\"\n", valid[i].text);
            continue;
        }

        if (!UNIT_EQ_UINT(msec, valid[i].msec)) {
            printf("    input: \"%s\"\n", valid[i].text);
        }
    }

    /* the length is honoured: no reading past it */
    msec = 0;
    UNIT_CHECK(ngx_wsman_duration_parse((const u_char *) "PT5S9", 4, &msec)
               == NGX_OK);
    UNIT_EQ_UINT(msec, 5000);

    UNIT_CHECK(ngx_wsman_duration_parse((const u_char *) "PT5S", 3, &msec)
               == NGX_ERROR);
}


static void
unit_test_duration_invalid(void)
{
    static const char  *invalid[] = {
        "", " ", "P", "PT", "P1DT", "60", "T60S", "PTXS", "PT S", "P1H",
        "PT1D", "PT1Y", "PT1S2M", "PT1M1M", "P1D1D", "P1M1Y", "PT1H1H",
        "PT1S1S", "P1DT1H1D", "-PT5S", "+PT5S", "PT-5S", "PT.5S", "PT5.S",
        "PT5", "P5", "P1.5D", "PT1.5M", "PT1.5H", "P1.5Y", "PT1..5S",
        "PT1.5.5S", "pt5s", "PT5s", "PTT5S", "P T5S", "PT5 S", "PT5SX",
        "XPT5S", "PT1,5S",
    };

    ngx_uint_t  i;
    uint64_t    msec;

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        if (!UNIT_CHECK(unit_parse(invalid[i], &msec) == NGX_ERROR)) {
            printf("    input: \"%s\" parsed as %llu\n", invalid[i],
                   (unsigned long long) msec);
        }

        /* nothing is stored on error */
        UNIT_EQ_UINT(msec, 0xdeadbeef);
    }

    /* an embedded NUL is a character like any other, not an end */
    UNIT_CHECK(ngx_wsman_duration_parse((const u_char *) "PT5S\0", 5, &msec)
               == NGX_ERROR);
    UNIT_CHECK(ngx_wsman_duration_parse((const u_char *) "PT\0" "5S", 5,
                                        &msec)
               == NGX_ERROR);
}


static void
unit_test_duration_clamp(void)
{
    static const char  *huge[] = {
        "PT2147483648S",
        "PT2147483647.999S",
        "PT99999999999999999999999999999999999999S",
        "PT18446744073709551616S",               /* 2^64 */
        "PT18446744073709551S",                  /* n * 1000 wraps 2^64 */
        "PT9999999999999999999H",
        "PT99999999999999999999M",
        "P99999999999999999999Y",
        "P3000000000D",
        "P25000D",                               /* > 2^31 s in days */
        "P100Y",
        "P99999999999M",
        "P1YT2147483647S",                       /* sum overflows the cap */
        "P68YT99999999999999999S",

        /* n * unit wraps 2^64 to a value below the cap */
        "P584942418Y",
        "P7116799412M",
        "P213503982335D",
        "PT5124095576031H",
    };

    ngx_uint_t  i;
    uint64_t    msec;

    for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        if (!UNIT_CHECK(unit_parse(huge[i], &msec) == NGX_OK)) {
            printf("    input: \"%s\"\n", huge[i]);
            continue;
        }

        if (!UNIT_EQ_UINT(msec, NGX_WSMAN_DURATION_MAX)) {
            printf("    input: \"%s\"\n", huge[i]);
        }
    }

    /* just below the cap stays exact */
    UNIT_CHECK(unit_parse("P24855D", &msec) == NGX_OK);
    UNIT_EQ_UINT(msec, 24855 * UNIT_DAY);
}


static void
unit_test_duration_format(void)
{
    static const struct {
        uint64_t     msec;
        const char  *text;
    } formatted[] = {
        { 60000, "PT60.000S" },
        { 1, "PT0.001S" },
        { 0, "PT0.000S" },
        { 999, "PT0.999S" },
        { 1010, "PT1.010S" },
        { 7200000, "PT7200.000S" },
        { 86400000, "PT86400.000S" },
        { NGX_WSMAN_DURATION_MAX, "PT2147483647.000S" },
        { 18446744073709551615ULL, "PT18446744073709551.615S" },
    };

    static const uint64_t  round_trip[] = {
        0, 1, 9, 10, 99, 100, 500, 999, 1000, 1001, 1250, 20000, 60000,
        60001, 3600000, 7200000, 86400000, 123456789, NGX_WSMAN_DURATION_MAX,
        NGX_WSMAN_DURATION_MAX - 1
    };

    u_char      buf[NGX_WSMAN_DURATION_LEN + 8], *p;
    uint64_t    msec;
    ngx_str_t   s;
    ngx_uint_t  i, k;

    for (i = 0; i < sizeof(formatted) / sizeof(formatted[0]); i++) {
        ngx_memset(buf, 0xa5, sizeof(buf));

        p = ngx_wsman_duration_format(buf, formatted[i].msec);

        s.data = buf;
        s.len = p - buf;

        UNIT_EQ_STR(s, formatted[i].text);
        UNIT_CHECK(s.len <= NGX_WSMAN_DURATION_LEN);

        /* nothing written past the returned end */
        for (k = s.len; k < sizeof(buf); k++) {
            if (buf[k] != 0xa5) {
                break;
            }
        }

        UNIT_EQ_UINT(k, sizeof(buf));
    }

    for (i = 0; i < sizeof(round_trip) / sizeof(round_trip[0]); i++) {
        p = ngx_wsman_duration_format(buf, round_trip[i]);

        msec = 0xdeadbeef;

        if (UNIT_CHECK(ngx_wsman_duration_parse(buf, p - buf, &msec)
                       == NGX_OK))
        {
            UNIT_EQ_UINT(msec, round_trip[i]);
        }
    }
}


void
unit_test_duration(void)
{
    unit_test_duration_valid();
    unit_test_duration_invalid();
    unit_test_duration_clamp();
    unit_test_duration_format();
}
