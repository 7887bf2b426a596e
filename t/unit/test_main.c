/*
 * The unit test runner: runs every group, prints "N passed, M failed" as
 * its last line and exits 1 when anything failed.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "unit.h"


/* declared here rather than in unit.h, which belongs to the other groups */
void unit_test_sddl(void);
void unit_test_mime(void);
void unit_test_wql(void);


ngx_uint_t  unit_passed;
ngx_uint_t  unit_failed;

static const char  *unit_group;


int
unit_check(int ok, const char *file, int line, const char *expr)
{
    if (ok) {
        unit_passed++;
        return 1;
    }

    unit_failed++;
    printf("FAIL %s:%d: %s\n", file, line, expr);

    return 0;
}


int
unit_check_uint(uint64_t got, uint64_t expected, const char *file, int line,
    const char *expr)
{
    if (got == expected) {
        unit_passed++;
        return 1;
    }

    unit_failed++;
    printf("FAIL %s:%d: %s (got %llu, expected %llu)\n", file, line, expr,
           (unsigned long long) got, (unsigned long long) expected);

    return 0;
}


int
unit_check_str(const u_char *got, size_t len, const char *expected,
    const char *file, int line, const char *expr)
{
    if (got != NULL
        && len == ngx_strlen(expected)
        && ngx_memcmp(got, expected, len) == 0)
    {
        unit_passed++;
        return 1;
    }

    unit_failed++;

    if (got == NULL) {
        printf("FAIL %s:%d: %s (got NULL, expected \"%s\")\n",
               file, line, expr, expected);

    } else {
        printf("FAIL %s:%d: %s (got \"%.*s\", expected \"%s\")\n",
               file, line, expr, (int) len, got, expected);
    }

    return 0;
}


int
unit_check_cstr(const char *got, const char *expected, const char *file,
    int line, const char *expr)
{
    return unit_check_str((const u_char *) got, got ? ngx_strlen(got) : 0,
                          expected, file, line, expr);
}


/* a crash still ends with the summary line, counting itself as a failure;
 * only async-signal-safe calls here */
static void
unit_crash(int signo)
{
    u_char      line[256], *p;
    const char *name;

    name = (signo == SIGSEGV) ? "SIGSEGV" : (signo == SIGBUS) ? "SIGBUS"
           : (signo == SIGFPE) ? "SIGFPE" : "SIGABRT";

    p = ngx_snprintf(line, sizeof(line) - 1,
                     "FAIL crashed with %s in group \"%s\"\n"
                     "%ui passed, %ui failed\n",
                     name, unit_group ? unit_group : "-",
                     unit_passed, unit_failed + 1);

    fflush(stdout);
    if (write(STDOUT_FILENO, line, p - line) < 0) {
        /* nothing left to do */
    }

    _exit(1);
}


int
main(void)
{
    static const struct {
        const char  *name;
        void       (*run)(void);
    } groups[] = {
        { "duration", unit_test_duration },
        { "fault", unit_test_fault },
        { "xml", unit_test_xml },
        { "soap", unit_test_soap },
        { "auth", unit_test_auth },
        { "sddl", unit_test_sddl },
        { "mime", unit_test_mime },
        { "wql", unit_test_wql },
    };

    ngx_uint_t  i, failed;

    signal(SIGSEGV, unit_crash);
    signal(SIGBUS, unit_crash);
    signal(SIGFPE, unit_crash);
    signal(SIGABRT, unit_crash);

    /* the summary must come last, after any FAIL lines */
    setvbuf(stdout, NULL, _IOLBF, 0);

    xmlInitParser();

    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        failed = unit_failed;
        unit_group = groups[i].name;

        groups[i].run();

        printf("%-10s %s\n", groups[i].name,
               unit_failed == failed ? "ok" : "FAILED");
    }

    xmlCleanupParser();

    printf("%lu passed, %lu failed\n", (unsigned long) unit_passed,
           (unsigned long) unit_failed);

    return unit_failed ? 1 : 0;
}
