/*
 * HTTP message encryption framing (MS-WSMV 2.2.9.1): the two-part
 * multipart/encrypted body that carries a GSS-wrapped SOAP envelope over
 * plain HTTP.  Pure functions: they only frame and unframe bytes, the
 * caller does the GSS wrap/unwrap.  Unit tested.
 */

#ifndef _NGX_WSMAN_MIME_H_INCLUDED_
#define _NGX_WSMAN_MIME_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* what every client and Windows itself use; responses always carry it */
#define NGX_WSMAN_MIME_BOUNDARY   "Encrypted Boundary"

/* the protocol= parameter, one per auth scheme */
#define NGX_WSMAN_MIME_SPNEGO     "application/HTTP-SPNEGO-session-encrypted"
#define NGX_WSMAN_MIME_KERBEROS                                             \
    "application/HTTP-Kerberos-session-encrypted"

/* RFC 2046: a boundary is 1 to 70 characters */
#define NGX_WSMAN_MIME_BOUNDARY_MAX   70

/* largest OriginalContent Length= accepted, so that a forged value cannot
 * make the caller allocate without bound */
#define NGX_WSMAN_MIME_MAX_LENGTH     (64 * 1024 * 1024)


typedef struct {
    ngx_str_t   header;        /* GSS header / signature (L bytes) */
    ngx_str_t   payload;       /* ciphertext */
    size_t      length;        /* OriginalContent Length= */
    ngx_str_t   type;          /* OriginalContent type, without ;Length= */
} ngx_wsman_mime_part_t;


/*
 * The request Content-Type.  NGX_OK: multipart/encrypted, protocol and
 * boundary point into ct.  NGX_DECLINED: another media type.  NGX_ERROR:
 * multipart/encrypted (or CredSSP's multipart/x-multi-encrypted, which is
 * not supported) but unusable.
 */
ngx_int_t ngx_wsman_mime_content_type(ngx_str_t *ct, ngx_str_t *protocol,
    ngx_str_t *boundary);

/*
 * Splits a request body.  NGX_OK: part points into body.  NGX_DECLINED:
 * malformed, *error is a static C string saying why.
 */
ngx_int_t ngx_wsman_mime_unframe(ngx_str_t *body, ngx_str_t *protocol,
    ngx_str_t *boundary, ngx_wsman_mime_part_t *part, const char **error);

/* a response body, byte for byte what Windows sends */
size_t ngx_wsman_mime_frame_len(ngx_str_t *protocol, ngx_str_t *boundary,
    size_t plain_len, size_t header_len, size_t payload_len);
u_char *ngx_wsman_mime_frame(u_char *p, ngx_str_t *protocol,
    ngx_str_t *boundary, size_t plain_len, ngx_str_t *header,
    ngx_str_t *payload);

/* the same with another charset than UTF-8 in OriginalContent */
size_t ngx_wsman_mime_frame_len_charset(ngx_str_t *protocol,
    ngx_str_t *boundary, ngx_str_t *charset, size_t plain_len,
    size_t header_len, size_t payload_len);
u_char *ngx_wsman_mime_frame_charset(u_char *p, ngx_str_t *protocol,
    ngx_str_t *boundary, ngx_str_t *charset, size_t plain_len,
    ngx_str_t *header, ngx_str_t *payload);

/* the charset parameter of a media type; NGX_DECLINED: none */
ngx_int_t ngx_wsman_mime_charset(ngx_str_t *type, ngx_str_t *charset);

/* the response Content-Type, boundary NGX_WSMAN_MIME_BOUNDARY */
size_t ngx_wsman_mime_content_type_len(ngx_str_t *protocol);
u_char *ngx_wsman_mime_write_content_type(u_char *p, ngx_str_t *protocol);


#endif /* _NGX_WSMAN_MIME_H_INCLUDED_ */
