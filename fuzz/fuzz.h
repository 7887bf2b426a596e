/*
 * What every libFuzzer harness shares.  The harnesses link the module's
 * sources against t/unit/ngx_runtime.c, the unit tests' stand-in for the
 * nginx core, whose pool gives every allocation its own malloc() block:
 * ASan then sees an overrun of any pool allocation, and destroying the
 * pool at the end of each input frees everything, so whatever is left is
 * a leak that LeakSanitizer reports.
 */

#ifndef _FUZZ_H_INCLUDED_
#define _FUZZ_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>
#include <stdlib.h>

#include "unit.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* a pool for one input; aborts when out of memory, which a fuzz run must
 * not be mistaken for a finding */
ngx_pool_t *fuzz_pool(void);

/* an exact-size pool copy, so that a read past the end is caught: the
 * module never relies on the bytes after a value */
void fuzz_str(ngx_pool_t *pool, const u_char *data, size_t len,
    ngx_str_t *s);


/* an invariant of the code under test does not hold: abort() so that
 * libFuzzer saves the input */
#define fuzz_assert(expr)                                                   \
    do {                                                                    \
        if (!(expr)) {                                                      \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__,      \
                    __LINE__, #expr);                                       \
            abort();                                                        \
        }                                                                   \
    } while (0)


#endif /* _FUZZ_H_INCLUDED_ */
