/*
 * A tiny assert-and-count harness for the unit tests, and the hooks the
 * test runtime (ngx_runtime.c) offers to the tests.
 *
 * UNIT_CHECK*() count one assertion each, print file:line and the
 * expression when it fails, and evaluate to the truth of the assertion so
 * a test can stop before dereferencing something that is not there:
 *
 *     if (!UNIT_CHECK(p != NULL)) {
 *         return;
 *     }
 */

#ifndef _UNIT_H_INCLUDED_
#define _UNIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


extern ngx_uint_t  unit_passed;
extern ngx_uint_t  unit_failed;


int unit_check(int ok, const char *file, int line, const char *expr);
int unit_check_uint(uint64_t got, uint64_t expected, const char *file,
    int line, const char *expr);
int unit_check_str(const u_char *got, size_t len, const char *expected,
    const char *file, int line, const char *expr);
int unit_check_cstr(const char *got, const char *expected, const char *file,
    int line, const char *expr);


#define UNIT_CHECK(expr)                                                    \
    unit_check((expr) ? 1 : 0, __FILE__, __LINE__, #expr)

/* unsigned integers: prints both values on failure */
#define UNIT_EQ_UINT(got, expected)                                         \
    unit_check_uint((uint64_t) (got), (uint64_t) (expected), __FILE__,      \
                    __LINE__, #got " == " #expected)

/* an ngx_str_t against a C string */
#define UNIT_EQ_STR(s, expected)                                            \
    unit_check_str((s).data, (s).len, expected, __FILE__, __LINE__,         \
                   #s " == " #expected)

/* a C string against a C string (NULL never matches) */
#define UNIT_EQ_CSTR(got, expected)                                         \
    unit_check_cstr((const char *) (got), expected, __FILE__, __LINE__,     \
                    #got " == " #expected)


/* ngx_runtime.c: a log that records into a buffer (stderr with
 * UNIT_VERBOSE=1 in the environment) */
extern ngx_log_t  unit_log;

void unit_log_reset(void);
int unit_log_contains(const char *s);

/* ngx_runtime.c: make the n+1-th pool allocation from now on fail (and
 * every one after it); -1 turns failure injection off */
void unit_alloc_fail_after(ngx_int_t n);

/* ngx_runtime.c: set ngx_time() (and ngx_current_msec, in ms) */
void unit_time_set(time_t sec);

/* ngx_runtime.c: the conf_ctx of ngx_cycle (http{} main confs) */
void unit_cycle_conf_ctx(void ****conf_ctx);

/* the chain concatenated into one NUL-terminated malloc()ed string */
u_char *unit_chain_flatten(ngx_chain_t *cl, size_t *len);


/* the test groups, one file each */
void unit_test_duration(void);
void unit_test_fault(void);
void unit_test_xml(void);
void unit_test_soap(void);
void unit_test_auth(void);


#endif /* _UNIT_H_INCLUDED_ */
