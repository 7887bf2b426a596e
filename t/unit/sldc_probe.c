/*
 * The project's SLDC decoder (src/soap/ngx_wsman_sldc.c) behind a pipe,
 * for t/test_wef_source.py: the simulator's Python compressor
 * (t/wef_source.py) is checked against the decoder the module uses.
 *
 *   sldc_probe [MAX]
 *
 * stdin: records, each a 32-bit little-endian length and that many
 * bytes; stdout: for each record, rc (32-bit signed: NGX_OK,
 * NGX_DECLINED, NGX_WSMAN_SLDC_TOO_LARGE, NGX_ERROR), the error class
 * (32-bit), the decoded length (32-bit) and the decoded bytes; every
 * integer little-endian.  MAX caps the output (default 16 MiB).  Each
 * record also gets the raw-or-compressed guess in the high bit of the
 * error class word.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>
#include <stdlib.h>

#include "unit.h"
#include "ngx_wsman_sldc.h"


static int
probe_read(void *buf, size_t n)
{
    return fread(buf, 1, n, stdin) == n;
}


static void
probe_u32(uint32_t v)
{
    u_char  b[4];

    b[0] = v & 0xff;
    b[1] = (v >> 8) & 0xff;
    b[2] = (v >> 16) & 0xff;
    b[3] = (v >> 24) & 0xff;

    fwrite(b, 1, 4, stdout);
}


int
main(int argc, char **argv)
{
    u_char       hdr[4];
    size_t       max;
    uint32_t     len, guess;
    ngx_int_t    rc;
    ngx_str_t    in, out;
    ngx_uint_t   error;
    ngx_pool_t  *pool;
    const char  *reason;

    max = (argc > 1) ? (size_t) strtoul(argv[1], NULL, 10) : 16 << 20;

    while (probe_read(hdr, 4)) {
        len = hdr[0] | (hdr[1] << 8) | (hdr[2] << 16)
              | ((uint32_t) hdr[3] << 24);

        in.len = len;
        in.data = malloc(len ? len : 1);
        if (in.data == NULL || !probe_read(in.data, len)) {
            fprintf(stderr, "sldc_probe: short record\n");
            return 2;
        }

        unit_log_reset();

        pool = ngx_create_pool(4096, &unit_log);
        if (pool == NULL) {
            return 2;
        }

        out.len = 0;
        out.data = NULL;
        error = 0;
        reason = NULL;

        rc = ngx_wsman_sldc_decompress(pool, &in, max, &out, &error,
                                       &reason);

        guess = ngx_wsman_sldc_looks_compressed(&in) ? 0x80000000 : 0;

        probe_u32((uint32_t) (int32_t) rc);
        probe_u32((uint32_t) error | guess);
        probe_u32(rc == NGX_OK ? (uint32_t) out.len : 0);

        if (rc == NGX_OK && out.len) {
            fwrite(out.data, 1, out.len, stdout);
        }

        if (rc != NGX_OK && reason && getenv("UNIT_VERBOSE")) {
            fprintf(stderr, "sldc_probe: %s\n", reason);
        }

        ngx_destroy_pool(pool);
        free(in.data);
    }

    fflush(stdout);

    return 0;
}
