/*
 * The SLDC decompressor (src/soap/ngx_wsman_sldc.c) on a request body as
 * a Windows event source sends it with Content-Encoding: SLDC: the
 * raw-or-compressed guess, then ngx_wsman_sldc_decompress() under a cap,
 * and the promises around the cap: a body that decodes under the cap
 * decodes the same under a cap of exactly its length, one byte less is
 * NGX_WSMAN_SLDC_TOO_LARGE, and the decoder's state, driven directly,
 * agrees with the wrapper.
 */

#include "fuzz.h"
#include "ngx_wsman_sldc.h"


/* small enough that bombs hit it often, large enough for real bodies */
#define FUZZ_SLDC_MAX  (64 * 1024)


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t          rc, rc2;
    ngx_str_t          in, out, again;
    ngx_uint_t         error, error2;
    ngx_pool_t        *pool;
    const char        *reason;
    ngx_wsman_sldc_t   s;

    pool = fuzz_pool();

    fuzz_str(pool, data, size, &in);

    (void) ngx_wsman_sldc_looks_compressed(&in);

    error = NGX_WSMAN_SLDC_E_NONE;
    reason = NULL;

    rc = ngx_wsman_sldc_decompress(pool, &in, FUZZ_SLDC_MAX, &out, &error,
                                   &reason);

    /* the run-time pool of the harness never fails, so NGX_ERROR (out of
     * memory, or two passes that disagree) is a finding too */
    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED
                || rc == NGX_WSMAN_SLDC_TOO_LARGE);

    /* the decoder alone, counting only, with its own state */
    ngx_wsman_sldc_init(&s, in.data, in.len, NULL, FUZZ_SLDC_MAX);
    rc2 = ngx_wsman_sldc_run(&s);

    fuzz_assert(rc2 == rc);
    fuzz_assert(s.bit <= in.len * 8);
    fuzz_assert(s.out_len <= FUZZ_SLDC_MAX);

    if (rc == NGX_WSMAN_SLDC_TOO_LARGE) {
        fuzz_assert(error == NGX_WSMAN_SLDC_E_TOO_LARGE && reason != NULL);
        fuzz_assert(s.out_len == FUZZ_SLDC_MAX);
        goto done;
    }

    if (rc == NGX_DECLINED) {
        fuzz_assert(error > NGX_WSMAN_SLDC_E_NONE
                    && error < NGX_WSMAN_SLDC_E_TOO_LARGE);
        fuzz_assert(reason != NULL && s.error == error);
        goto done;
    }

    fuzz_assert(out.len <= FUZZ_SLDC_MAX && out.len == s.out_len);

    /* a stream always starts with a Reset or Scheme symbol, which is
     * what the guess looks for */
    fuzz_assert(ngx_wsman_sldc_looks_compressed(&in));

    rc = ngx_wsman_sldc_decompress(pool, &in, out.len, &again, &error2,
                                   &reason);

    fuzz_assert(rc == NGX_OK && again.len == out.len
                && ngx_memcmp(again.data, out.data, out.len) == 0);

    if (out.len > 0) {
        rc = ngx_wsman_sldc_decompress(pool, &in, out.len - 1, &again,
                                       &error2, &reason);

        fuzz_assert(rc == NGX_WSMAN_SLDC_TOO_LARGE
                    && error2 == NGX_WSMAN_SLDC_E_TOO_LARGE);
    }

done:

    ngx_destroy_pool(pool);

    return 0;
}
