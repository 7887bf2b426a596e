/*
 * The unit test runner: runs every group (or only the groups named on the
 * command line: `make unit GROUP=sddl`), prints "N passed, M failed" as
 * its last line and exits 1 when anything failed.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "unit.h"


/* declared here rather than in unit.h, which belongs to the other groups */
void unit_test_sddl(void);
void unit_test_mime(void);
void unit_test_wql(void);
void unit_test_enum_tree(void);
void unit_test_util(void);
void unit_test_shell_frame(void);
void unit_test_access(void);
void unit_test_instance(void);
void unit_test_dispatch(void);
void unit_test_engine(void);
void unit_test_identity(void);
void unit_test_sldc(void);
void unit_test_wec_outputs(void);
void unit_test_wec_syslog(void);
void unit_test_wec_store(void);
void unit_test_wec_spool(void);
void unit_test_wec_event(void);


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
main(int argc, char **argv)
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
        { "enum_tree", unit_test_enum_tree },
        { "util", unit_test_util },
        { "shell_frame", unit_test_shell_frame },
        { "access", unit_test_access },
        { "instance", unit_test_instance },
        { "dispatch", unit_test_dispatch },
        { "engine", unit_test_engine },
        { "identity", unit_test_identity },
        { "sldc", unit_test_sldc },
        { "wec_outputs", unit_test_wec_outputs },
        { "wec_syslog", unit_test_wec_syslog },
        { "wec_store", unit_test_wec_store },
        { "wec_spool", unit_test_wec_spool },
        { "wec_event", unit_test_wec_event },
    };

    int         a;
    ngx_uint_t  i, failed;

    signal(SIGSEGV, unit_crash);
    signal(SIGBUS, unit_crash);
    signal(SIGFPE, unit_crash);
    signal(SIGABRT, unit_crash);

    /* the summary must come last, after any FAIL lines */
    setvbuf(stdout, NULL, _IOLBF, 0);

    xmlInitParser();

    /* a name that is no group is a typo, not an empty pass */
    for (a = 1; a < argc; a++) {
        for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
            if (strcmp(argv[a], groups[i].name) == 0) {
                break;
            }
        }

        if (i == sizeof(groups) / sizeof(groups[0])) {
            printf("no unit group \"%s\"; groups:", argv[a]);

            for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
                printf(" %s", groups[i].name);
            }

            printf("\n0 passed, 1 failed\n");
            return 1;
        }
    }

    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {

        if (argc > 1) {
            for (a = 1; a < argc; a++) {
                if (strcmp(argv[a], groups[i].name) == 0) {
                    break;
                }
            }

            if (a == argc) {
                continue;
            }
        }

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
