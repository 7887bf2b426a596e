/*
 * xs:duration parsing.  Years and months have no fixed length; like
 * Windows we count a year as 365 days and a month as 30 days.  Results are
 * clamped to NGX_WSMAN_DURATION_MAX instead of overflowing.
 */

#include "ngx_wsman_duration.h"


#define NGX_WSMAN_MS_SECOND   1000ULL
#define NGX_WSMAN_MS_MINUTE   (60 * NGX_WSMAN_MS_SECOND)
#define NGX_WSMAN_MS_HOUR     (60 * NGX_WSMAN_MS_MINUTE)
#define NGX_WSMAN_MS_DAY      (24 * NGX_WSMAN_MS_HOUR)


static uint64_t
ngx_wsman_duration_add(uint64_t total, uint64_t n, uint64_t unit)
{
    if (n > NGX_WSMAN_DURATION_MAX / unit) {
        return NGX_WSMAN_DURATION_MAX;
    }

    total += n * unit;

    return ngx_min(total, NGX_WSMAN_DURATION_MAX);
}


ngx_int_t
ngx_wsman_duration_parse(const u_char *p, size_t len, uint64_t *msec)
{
    uint64_t       total, n, unit, frac;
    ngx_uint_t     digits, frac_digits, in_time, seen, order, last_order;
    const u_char  *end;

    end = p + len;

    /* surrounding white space is allowed by xs:duration's whiteSpace facet */
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }

    while (end > p
           && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'
               || end[-1] == '\n'))
    {
        end--;
    }

    /* negative durations make no sense for a timeout */
    if (p == end || *p != 'P') {
        return NGX_ERROR;
    }

    p++;
    total = 0;
    in_time = 0;
    seen = 0;
    last_order = 0;

    while (p < end) {

        if (*p == 'T') {
            if (in_time) {
                return NGX_ERROR;
            }

            in_time = 1;
            p++;

            /* "PT" needs at least one time component */
            if (p == end) {
                return NGX_ERROR;
            }

            continue;
        }

        n = 0;
        digits = 0;

        while (p < end && *p >= '0' && *p <= '9') {
            if (n < NGX_WSMAN_DURATION_MAX) {
                n = n * 10 + (*p - '0');
            }
            digits++;
            p++;
        }

        frac = 0;
        frac_digits = 0;

        if (p < end && *p == '.') {
            p++;

            while (p < end && *p >= '0' && *p <= '9') {
                if (frac_digits < 3) {
                    frac = frac * 10 + (*p - '0');
                }
                frac_digits++;
                p++;
            }

            if (frac_digits == 0) {
                return NGX_ERROR;
            }

            while (frac_digits < 3) {
                frac *= 10;
                frac_digits++;
            }
        }

        if (digits == 0 || p == end) {
            return NGX_ERROR;
        }

        /* designators must come in order, each at most once */
        switch (*p) {
        case 'Y':
            order = 1; unit = 365 * NGX_WSMAN_MS_DAY;
            break;
        case 'M':
            order = in_time ? 6 : 2;
            unit = in_time ? NGX_WSMAN_MS_MINUTE : 30 * NGX_WSMAN_MS_DAY;
            break;
        case 'D':
            order = 3; unit = NGX_WSMAN_MS_DAY;
            break;
        case 'H':
            order = 5; unit = NGX_WSMAN_MS_HOUR;
            break;
        case 'S':
            order = 7; unit = NGX_WSMAN_MS_SECOND;
            break;
        default:
            return NGX_ERROR;
        }

        if ((order >= 5) != (in_time != 0) || order <= last_order) {
            return NGX_ERROR;
        }

        /* only seconds may have a fraction */
        if (frac_digits && order != 7) {
            return NGX_ERROR;
        }

        total = ngx_wsman_duration_add(total, n, unit);
        total = ngx_min(total + frac, NGX_WSMAN_DURATION_MAX);

        last_order = order;
        seen = 1;
        p++;
    }

    if (!seen) {
        return NGX_ERROR;
    }

    *msec = total;

    return NGX_OK;
}


/* PT<seconds>.<millis>S, the form Windows uses */
u_char *
ngx_wsman_duration_format(u_char *buf, uint64_t msec)
{
    u_char    digits[NGX_INT64_LEN];
    uint64_t  sec;
    size_t    n;

    sec = msec / 1000;
    n = 0;

    do {
        digits[n++] = (u_char) ('0' + sec % 10);
        sec /= 10;
    } while (sec);

    *buf++ = 'P';
    *buf++ = 'T';

    while (n) {
        *buf++ = digits[--n];
    }

    msec %= 1000;

    *buf++ = '.';
    *buf++ = (u_char) ('0' + msec / 100);
    *buf++ = (u_char) ('0' + msec / 10 % 10);
    *buf++ = (u_char) ('0' + msec % 10);
    *buf++ = 'S';

    return buf;
}
