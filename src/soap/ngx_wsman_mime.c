/*
 * HTTP message encryption framing.  An encrypted body is
 *
 *     --<boundary>CRLF
 *     HT Content-Type: <protocol>CRLF
 *     HT OriginalContent: type=<type>;Length=<plaintext length>CRLF
 *     --<boundary>CRLF
 *     HT Content-Type: application/octet-stream CRLF
 *     <uint32 LE L><L bytes GSS header><ciphertext>--<boundary>--CRLF
 *
 * It only looks like MIME: neither part has the blank line that ends MIME
 * headers, and the binary data follows the second part's header line
 * directly.  So the framing is parsed as the fixed layout it is, not as
 * general multipart.
 */

#include "ngx_wsman_mime.h"


#define NGX_WSMAN_MIME_CT_PREFIX     "\tContent-Type: "
#define NGX_WSMAN_MIME_OC_PREFIX                                            \
    "\tOriginalContent: type=application/soap+xml;charset="
#define NGX_WSMAN_MIME_OC_LENGTH     ";Length="
#define NGX_WSMAN_MIME_OCTET_LINE                                           \
    "\tContent-Type: application/octet-stream\r\n"
#define NGX_WSMAN_MIME_CT_RESPONSE   "multipart/encrypted;protocol=\""
#define NGX_WSMAN_MIME_CT_BOUNDARY                                          \
    "\";boundary=\"" NGX_WSMAN_MIME_BOUNDARY "\""

#define ngx_wsman_mime_const_len(s)  (sizeof(s) - 1)


/* a case-insensitive compare that, unlike ngx_strncasecmp(), does not stop
 * at a NUL: the bytes come from the network */
static ngx_uint_t
ngx_wsman_mime_caseeq(const u_char *s, size_t len, const u_char *t,
    size_t tlen)
{
    size_t  i;

    if (len != tlen) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (ngx_tolower(s[i]) != ngx_tolower(t[i])) {
            return 0;
        }
    }

    return 1;
}


#define ngx_wsman_mime_caseeq_const(s, len, c)                              \
    ngx_wsman_mime_caseeq(s, len, (const u_char *) c,                       \
                          ngx_wsman_mime_const_len(c))


static u_char *
ngx_wsman_mime_skip_ows(u_char *p, u_char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p;
}


static void
ngx_wsman_mime_trim(ngx_str_t *s)
{
    u_char  *p, *end;

    p = s->data;
    end = p + s->len;

    p = ngx_wsman_mime_skip_ows(p, end);

    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    s->data = p;
    s->len = end - p;
}


/*
 * One name=value parameter of a Content-Type.  A quoted value is returned
 * without its quotes; escapes inside it are refused rather than undone,
 * because the result points into the header and is never copied.
 */
static ngx_int_t
ngx_wsman_mime_param(u_char **pos, u_char *end, ngx_str_t *name,
    ngx_str_t *value)
{
    u_char  *p;

    p = *pos;
    name->data = p;

    while (p < end && *p != '=' && *p != ';' && *p != ' ' && *p != '\t') {
        p++;
    }

    name->len = p - name->data;

    p = ngx_wsman_mime_skip_ows(p, end);

    if (name->len == 0 || p == end || *p != '=') {
        return NGX_ERROR;
    }

    p = ngx_wsman_mime_skip_ows(p + 1, end);

    if (p < end && *p == '"') {
        value->data = ++p;

        while (p < end && *p != '"') {
            if (*p == '\\') {
                return NGX_ERROR;
            }

            p++;
        }

        if (p == end) {
            return NGX_ERROR;
        }

        value->len = p - value->data;
        *pos = p + 1;

        return NGX_OK;
    }

    value->data = p;

    while (p < end && *p != ';' && *p != ' ' && *p != '\t') {
        p++;
    }

    value->len = p - value->data;
    *pos = p;

    return NGX_OK;
}


/* the protocol is echoed, quoted, into the response Content-Type: only
 * visible ASCII that cannot end or escape the quotes is taken */
static ngx_uint_t
ngx_wsman_mime_valid_protocol(ngx_str_t *s)
{
    size_t  i;

    if (s->len == 0) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] <= ' ' || s->data[i] >= 0x7f
            || s->data[i] == '"' || s->data[i] == '\\')
        {
            return 0;
        }
    }

    return 1;
}


/* RFC 2046 bchars: a boundary that could hide CR, LF or quotes would make
 * the delimiter search ambiguous */
static ngx_uint_t
ngx_wsman_mime_valid_boundary(ngx_str_t *s)
{
    u_char  c;
    size_t  i;

    if (s->len == 0 || s->len > NGX_WSMAN_MIME_BOUNDARY_MAX
        || s->data[s->len - 1] == ' ')
    {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
            || (c >= 'A' && c <= 'Z'))
        {
            continue;
        }

        if (c == '\0' || ngx_strchr("'()+_,-./:=? ", c) == NULL) {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_wsman_mime_content_type(ngx_str_t *ct, ngx_str_t *protocol,
    ngx_str_t *boundary)
{
    u_char      *p, *end, *type;
    ngx_str_t    name, value;
    ngx_uint_t   have_protocol, have_boundary;

    p = ct->data;
    end = p + ct->len;

    p = ngx_wsman_mime_skip_ows(p, end);
    type = p;

    while (p < end && *p != ';' && *p != ' ' && *p != '\t') {
        p++;
    }

    /* CredSSP's chunked variant: recognised so that it is refused rather
     * than handed to the SOAP parser as if it were plain XML */
    if (ngx_wsman_mime_caseeq_const(type, p - type,
                                    "multipart/x-multi-encrypted"))
    {
        return NGX_ERROR;
    }

    if (!ngx_wsman_mime_caseeq_const(type, p - type, "multipart/encrypted")) {
        return NGX_DECLINED;
    }

    ngx_str_null(protocol);
    ngx_str_null(boundary);
    have_protocol = 0;
    have_boundary = 0;

    for ( ;; ) {
        p = ngx_wsman_mime_skip_ows(p, end);

        if (p == end) {
            break;
        }

        if (*p != ';') {
            return NGX_ERROR;
        }

        p = ngx_wsman_mime_skip_ows(p + 1, end);

        /* a trailing ';' is sloppy but harmless */
        if (p == end) {
            break;
        }

        if (ngx_wsman_mime_param(&p, end, &name, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        /* a repeated parameter is ambiguous: refuse, do not pick one,
         * even after an empty value */

        if (ngx_wsman_mime_caseeq_const(name.data, name.len, "protocol")) {
            if (have_protocol) {
                return NGX_ERROR;
            }

            *protocol = value;
            have_protocol = 1;

        } else if (ngx_wsman_mime_caseeq_const(name.data, name.len,
                                               "boundary"))
        {
            if (have_boundary) {
                return NGX_ERROR;
            }

            *boundary = value;
            have_boundary = 1;
        }
    }

    if (!ngx_wsman_mime_valid_protocol(protocol)
        || !ngx_wsman_mime_valid_boundary(boundary))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * At p: "--<boundary>" then CRLF (NGX_OK, *next after the CRLF), or "--"
 * (NGX_DONE: a closing delimiter), or anything else (NGX_DECLINED).
 */
static ngx_int_t
ngx_wsman_mime_delimiter(u_char *p, u_char *end, ngx_str_t *boundary,
    u_char **next)
{
    if ((size_t) (end - p) < 2 + boundary->len + 2
        || p[0] != '-' || p[1] != '-'
        || ngx_memcmp(p + 2, boundary->data, boundary->len) != 0)
    {
        return NGX_DECLINED;
    }

    p += 2 + boundary->len;

    if (p[0] == '\r' && p[1] == '\n') {
        *next = p + 2;
        return NGX_OK;
    }

    if (p[0] == '-' && p[1] == '-') {
        return NGX_DONE;
    }

    return NGX_DECLINED;
}


/* one CRLF-terminated line, without the CRLF; a bare LF is an error */
static ngx_int_t
ngx_wsman_mime_line(u_char **pos, u_char *end, ngx_str_t *line)
{
    u_char  *p, *lf;

    p = *pos;

    lf = ngx_strlchr(p, end, '\n');

    if (lf == NULL || lf == p || lf[-1] != '\r') {
        return NGX_DECLINED;
    }

    line->data = p;
    line->len = lf - 1 - p;
    *pos = lf + 1;

    return NGX_OK;
}


/*
 * "HT Name: value".  MS-WSMV wants the leading TAB, but lines without it
 * (OMI's) are taken too.  NGX_DONE for an empty line.
 */
static ngx_int_t
ngx_wsman_mime_header(ngx_str_t *line, ngx_str_t *name, ngx_str_t *value)
{
    u_char  *p, *end, *colon;

    p = line->data;
    end = p + line->len;

    p = ngx_wsman_mime_skip_ows(p, end);

    if (p == end) {
        return NGX_DONE;
    }

    colon = ngx_strlchr(p, end, ':');

    if (colon == NULL) {
        return NGX_DECLINED;
    }

    name->data = p;
    name->len = colon - p;
    ngx_wsman_mime_trim(name);

    value->data = colon + 1;
    value->len = end - value->data;
    ngx_wsman_mime_trim(value);

    return name->len ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_wsman_mime_length(ngx_str_t *s, size_t *length, const char **error)
{
    size_t  i, n;

    if (s->len == 0) {
        *error = "OriginalContent Length is empty";
        return NGX_DECLINED;
    }

    n = 0;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < '0' || s->data[i] > '9') {
            *error = "OriginalContent Length is not a number";
            return NGX_DECLINED;
        }

        /* checked per digit, so that n cannot wrap around */
        n = n * 10 + (s->data[i] - '0');

        if (n > NGX_WSMAN_MIME_MAX_LENGTH) {
            *error = "OriginalContent Length is too large";
            return NGX_DECLINED;
        }
    }

    *length = n;

    return NGX_OK;
}


/*
 * "type=application/soap+xml;charset=UTF-8;Length=1683": the type is
 * everything between "type=" and the Length parameter.
 */
static ngx_int_t
ngx_wsman_mime_original(ngx_str_t *value, ngx_wsman_mime_part_t *part,
    const char **error)
{
    u_char      *p, *end, *semi, *eq, *type_end;
    ngx_str_t    name, num;
    ngx_uint_t   seen;

    p = value->data;
    end = p + value->len;

    if (value->len < ngx_wsman_mime_const_len("type=")
        || !ngx_wsman_mime_caseeq_const(p, ngx_wsman_mime_const_len("type="),
                                        "type="))
    {
        *error = "OriginalContent does not start with type=";
        return NGX_DECLINED;
    }

    p += ngx_wsman_mime_const_len("type=");

    semi = ngx_strlchr(p, end, ';');
    type_end = semi ? semi : end;
    seen = 0;

    while (semi) {
        name.data = semi + 1;
        semi = ngx_strlchr(name.data, end, ';');
        eq = ngx_strlchr(name.data, semi ? semi : end, '=');

        name.len = (eq ? eq : (semi ? semi : end)) - name.data;
        ngx_wsman_mime_trim(&name);

        if (eq && ngx_wsman_mime_caseeq_const(name.data, name.len, "Length"))
        {
            if (seen) {
                *error = "OriginalContent has more than one Length";
                return NGX_DECLINED;
            }

            num.data = eq + 1;
            num.len = (semi ? semi : end) - num.data;
            ngx_wsman_mime_trim(&num);

            if (ngx_wsman_mime_length(&num, &part->length, error) != NGX_OK) {
                return NGX_DECLINED;
            }

            seen = 1;

        } else if (!seen) {
            /* charset and friends belong to the type */
            type_end = semi ? semi : end;
        }
    }

    if (!seen) {
        *error = "OriginalContent has no Length";
        return NGX_DECLINED;
    }

    part->type.data = p;
    part->type.len = type_end - p;
    ngx_wsman_mime_trim(&part->type);

    if (part->type.len == 0) {
        *error = "OriginalContent type is empty";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the first part: headers up to the delimiter that opens the second */
static ngx_int_t
ngx_wsman_mime_first_part(u_char **pos, u_char *end, ngx_str_t *protocol,
    ngx_str_t *boundary, ngx_wsman_mime_part_t *part, const char **error)
{
    u_char      *p;
    ngx_int_t    rc;
    ngx_str_t    line, name, value;
    ngx_uint_t   seen_type, seen_original;

    p = *pos;
    seen_type = 0;
    seen_original = 0;

    for ( ;; ) {
        rc = ngx_wsman_mime_delimiter(p, end, boundary, &p);

        if (rc == NGX_OK) {
            break;
        }

        if (rc == NGX_DONE) {
            *error = "the second part is missing";
            return NGX_DECLINED;
        }

        if (ngx_wsman_mime_line(&p, end, &line) != NGX_OK) {
            *error = "the first part is truncated or has a bare LF";
            return NGX_DECLINED;
        }

        rc = ngx_wsman_mime_header(&line, &name, &value);

        if (rc == NGX_DONE) {
            continue;
        }

        if (rc != NGX_OK) {
            *error = "malformed header line in the first part";
            return NGX_DECLINED;
        }

        if (ngx_wsman_mime_caseeq_const(name.data, name.len,
                                        "Content-Type"))
        {
            if (seen_type++) {
                *error = "the first part has more than one Content-Type";
                return NGX_DECLINED;
            }

            if (!ngx_wsman_mime_caseeq(value.data, value.len,
                                       protocol->data, protocol->len))
            {
                *error = "the first part's Content-Type is not the protocol";
                return NGX_DECLINED;
            }

        } else if (ngx_wsman_mime_caseeq_const(name.data, name.len,
                                               "OriginalContent"))
        {
            if (seen_original++) {
                *error = "the first part has more than one OriginalContent";
                return NGX_DECLINED;
            }

            if (ngx_wsman_mime_original(&value, part, error) != NGX_OK) {
                return NGX_DECLINED;
            }
        }
    }

    if (!seen_type) {
        *error = "the first part has no Content-Type";
        return NGX_DECLINED;
    }

    if (!seen_original) {
        *error = "the first part has no OriginalContent";
        return NGX_DECLINED;
    }

    *pos = p;

    return NGX_OK;
}


/*
 * The second part: exactly one header line, then binary.  With no blank
 * line to end the headers, a second header line could not be told apart
 * from the data.
 */
static ngx_int_t
ngx_wsman_mime_second_part(u_char **pos, u_char *end, const char **error)
{
    ngx_str_t  line, name, value;

    if (ngx_wsman_mime_line(pos, end, &line) != NGX_OK
        || ngx_wsman_mime_header(&line, &name, &value) != NGX_OK
        || !ngx_wsman_mime_caseeq_const(name.data, name.len, "Content-Type")
        || !ngx_wsman_mime_caseeq_const(value.data, value.len,
                                        "application/octet-stream"))
    {
        *error = "the second part's Content-Type is not "
                 "application/octet-stream";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The data runs to the closing delimiter at the very end of the body.  It
 * is found from the end, not by searching forward, because ciphertext may
 * contain any bytes, the delimiter and CRLF included.
 */
static ngx_int_t
ngx_wsman_mime_data(u_char *p, u_char *end, ngx_str_t *boundary,
    ngx_wsman_mime_part_t *part, const char **error)
{
    u_char    *close;
    size_t     n;
    uint32_t   len;

    if (end - p >= 2 && end[-2] == '\r' && end[-1] == '\n') {
        end -= 2;
    }

    n = 2 + boundary->len + 2;

    if ((size_t) (end - p) < n) {
        *error = "no closing delimiter at the end of the body";
        return NGX_DECLINED;
    }

    close = end - n;

    if (close[0] != '-' || close[1] != '-'
        || ngx_memcmp(close + 2, boundary->data, boundary->len) != 0
        || end[-2] != '-' || end[-1] != '-')
    {
        *error = "no closing delimiter at the end of the body";
        return NGX_DECLINED;
    }

    n = close - p;

    if (n < 4) {
        *error = "the encrypted data is too short for its length field";
        return NGX_DECLINED;
    }

    len = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
          | (uint32_t) p[3] << 24;

    p += 4;
    n -= 4;

    if (len == 0) {
        *error = "the GSS header length is zero";
        return NGX_DECLINED;
    }

    if (len > n) {
        *error = "the GSS header length exceeds the encrypted data";
        return NGX_DECLINED;
    }

    part->header.data = p;
    part->header.len = len;
    part->payload.data = p + len;
    part->payload.len = n - len;

    return NGX_OK;
}


ngx_int_t
ngx_wsman_mime_unframe(ngx_str_t *body, ngx_str_t *protocol,
    ngx_str_t *boundary, ngx_wsman_mime_part_t *part, const char **error)
{
    u_char  *p, *end;

    ngx_memzero(part, sizeof(ngx_wsman_mime_part_t));
    *error = NULL;

    if (boundary->len == 0) {
        *error = "empty boundary";
        return NGX_DECLINED;
    }

    p = body->data;
    end = p + body->len;

    if (ngx_wsman_mime_delimiter(p, end, boundary, &p) != NGX_OK) {
        *error = "the body does not start with the boundary";
        return NGX_DECLINED;
    }

    if (ngx_wsman_mime_first_part(&p, end, protocol, boundary, part, error)
        != NGX_OK
        || ngx_wsman_mime_second_part(&p, end, error) != NGX_OK
        || ngx_wsman_mime_data(p, end, boundary, part, error) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static size_t
ngx_wsman_mime_digits(size_t n)
{
    size_t  len;

    len = 1;

    while (n >= 10) {
        n /= 10;
        len++;
    }

    return len;
}


size_t
ngx_wsman_mime_frame_len(ngx_str_t *protocol, ngx_str_t *boundary,
    size_t plain_len, size_t header_len, size_t payload_len)
{
    ngx_str_t  charset = ngx_string("UTF-8");

    return ngx_wsman_mime_frame_len_charset(protocol, boundary, &charset,
                                            plain_len, header_len,
                                            payload_len);
}


size_t
ngx_wsman_mime_frame_len_charset(ngx_str_t *protocol, ngx_str_t *boundary,
    ngx_str_t *charset, size_t plain_len, size_t header_len,
    size_t payload_len)
{
    size_t  delimiter;

    /* "--<boundary>" CRLF; the closing one has "--" more */
    delimiter = 2 + boundary->len + 2;

    return delimiter
           + ngx_wsman_mime_const_len(NGX_WSMAN_MIME_CT_PREFIX)
           + protocol->len + 2
           + ngx_wsman_mime_const_len(NGX_WSMAN_MIME_OC_PREFIX)
           + charset->len
           + ngx_wsman_mime_const_len(NGX_WSMAN_MIME_OC_LENGTH)
           + ngx_wsman_mime_digits(plain_len) + 2
           + delimiter
           + ngx_wsman_mime_const_len(NGX_WSMAN_MIME_OCTET_LINE)
           + 4 + header_len + payload_len
           + delimiter + 2;
}


static u_char *
ngx_wsman_mime_write_delimiter(u_char *p, ngx_str_t *boundary,
    ngx_uint_t last)
{
    *p++ = '-';
    *p++ = '-';
    p = ngx_cpymem(p, boundary->data, boundary->len);

    if (last) {
        *p++ = '-';
        *p++ = '-';
    }

    *p++ = CR;
    *p++ = LF;

    return p;
}


/* pywinrm strips the octet-stream line as a literal, TAB included, so
 * these lines must be exactly what Windows sends */
u_char *
ngx_wsman_mime_frame(u_char *p, ngx_str_t *protocol, ngx_str_t *boundary,
    size_t plain_len, ngx_str_t *header, ngx_str_t *payload)
{
    ngx_str_t  charset = ngx_string("UTF-8");

    return ngx_wsman_mime_frame_charset(p, protocol, boundary, &charset,
                                        plain_len, header, payload);
}


u_char *
ngx_wsman_mime_frame_charset(u_char *p, ngx_str_t *protocol,
    ngx_str_t *boundary, ngx_str_t *charset, size_t plain_len,
    ngx_str_t *header, ngx_str_t *payload)
{
    uint32_t  len;

    p = ngx_wsman_mime_write_delimiter(p, boundary, 0);

    p = ngx_cpymem(p, NGX_WSMAN_MIME_CT_PREFIX,
                   ngx_wsman_mime_const_len(NGX_WSMAN_MIME_CT_PREFIX));
    p = ngx_cpymem(p, protocol->data, protocol->len);
    *p++ = CR;
    *p++ = LF;

    p = ngx_cpymem(p, NGX_WSMAN_MIME_OC_PREFIX,
                   ngx_wsman_mime_const_len(NGX_WSMAN_MIME_OC_PREFIX));
    p = ngx_cpymem(p, charset->data, charset->len);
    p = ngx_cpymem(p, NGX_WSMAN_MIME_OC_LENGTH,
                   ngx_wsman_mime_const_len(NGX_WSMAN_MIME_OC_LENGTH));
    p = ngx_sprintf(p, "%uz", plain_len);
    *p++ = CR;
    *p++ = LF;

    p = ngx_wsman_mime_write_delimiter(p, boundary, 0);

    p = ngx_cpymem(p, NGX_WSMAN_MIME_OCTET_LINE,
                   ngx_wsman_mime_const_len(NGX_WSMAN_MIME_OCTET_LINE));

    len = (uint32_t) header->len;

    *p++ = (u_char) (len & 0xff);
    *p++ = (u_char) ((len >> 8) & 0xff);
    *p++ = (u_char) ((len >> 16) & 0xff);
    *p++ = (u_char) ((len >> 24) & 0xff);

    p = ngx_cpymem(p, header->data, header->len);
    p = ngx_cpymem(p, payload->data, payload->len);

    /* no CRLF before the closing delimiter: Windows sends none */
    p = ngx_wsman_mime_write_delimiter(p, boundary, 1);

    return p;
}


size_t
ngx_wsman_mime_content_type_len(ngx_str_t *protocol)
{
    return ngx_wsman_mime_const_len(NGX_WSMAN_MIME_CT_RESPONSE)
           + protocol->len
           + ngx_wsman_mime_const_len(NGX_WSMAN_MIME_CT_BOUNDARY);
}


u_char *
ngx_wsman_mime_write_content_type(u_char *p, ngx_str_t *protocol)
{
    p = ngx_cpymem(p, NGX_WSMAN_MIME_CT_RESPONSE,
                   ngx_wsman_mime_const_len(NGX_WSMAN_MIME_CT_RESPONSE));
    p = ngx_cpymem(p, protocol->data, protocol->len);

    return ngx_cpymem(p, NGX_WSMAN_MIME_CT_BOUNDARY,
                      ngx_wsman_mime_const_len(NGX_WSMAN_MIME_CT_BOUNDARY));
}


/*
 * The charset parameter of a media type ("application/soap+xml;
 * charset=UTF-16"), quotes removed.  NGX_DECLINED: there is none.
 */
ngx_int_t
ngx_wsman_mime_charset(ngx_str_t *type, ngx_str_t *charset)
{
    u_char     *semi, *eq, *end;
    ngx_str_t   name, value;

    end = type->data + type->len;
    semi = ngx_strlchr(type->data, end, ';');

    while (semi) {
        name.data = semi + 1;
        semi = ngx_strlchr(name.data, end, ';');
        eq = ngx_strlchr(name.data, semi ? semi : end, '=');

        if (eq == NULL) {
            continue;
        }

        name.len = eq - name.data;
        ngx_wsman_mime_trim(&name);

        if (!ngx_wsman_mime_caseeq_const(name.data, name.len, "charset")) {
            continue;
        }

        value.data = eq + 1;
        value.len = (semi ? semi : end) - value.data;
        ngx_wsman_mime_trim(&value);

        if (value.len >= 2 && value.data[0] == '"'
            && value.data[value.len - 1] == '"')
        {
            value.data++;
            value.len -= 2;
        }

        *charset = value;

        return NGX_OK;
    }

    return NGX_DECLINED;
}
