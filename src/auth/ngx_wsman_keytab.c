/*
 * What nginx -t (and every start) says about a wsman_keytab: the
 * problems Kerberos users hit with WinRM and event forwarding, found by
 * reading the keytab with MIT krb5 before any client fails on them.
 *
 *   - no HTTP/ and no HOST/ key: no Windows client can log in;
 *   - no HOST/ key: Windows Server 2025 event sources ask for HOST/name;
 *   - only RC4 keys (arcfour-hmac): clients that require AES fail, and
 *     Windows Server 2025 domains no longer issue RC4 tickets;
 *   - no RC4 key: sources still set to RC4 fail (a notice in the error
 *     log, not on nginx -t's terminal: AES only is what Microsoft
 *     recommends);
 *   - a key file the workers' account cannot read.
 */

#include "ngx_wsman.h"
#include "ngx_wsman_auth.h"

#include <krb5.h>


/* the enctypes Windows uses: AES (RFC 3962) and RC4 (RFC 4757) */
#define NGX_WSMAN_ENCTYPE_AES128   17
#define NGX_WSMAN_ENCTYPE_AES256   18
#define NGX_WSMAN_ENCTYPE_RC4      23


static ngx_uint_t
ngx_wsman_keytab_service(krb5_context ctx, krb5_principal p,
    const char *service)
{
    krb5_data  *c;

    if (krb5_princ_size(ctx, p) != 2) {
        return 0;
    }

    c = krb5_princ_component(ctx, p, 0);

    /* AD compares service names without case: HOST/ and host/ alike */
    return c->length == ngx_strlen(service)
           && ngx_strncasecmp((u_char *) c->data, (u_char *) service,
                              c->length) == 0;
}


void
ngx_wsman_keytab_check(ngx_conf_t *cf, ngx_str_t *file)
{
    char               name[NGX_MAX_PATH + 16];
    ngx_uint_t         http, host, aes, rc4, other, n;
    krb5_keytab        kt;
    krb5_context       ctx;
    krb5_error_code    rc;
    krb5_kt_cursor     cursor;
    krb5_keytab_entry  entry;
    ngx_core_conf_t   *ccf;
    ngx_file_info_t    fi;

    if (file->len + sizeof("FILE:") > sizeof(name)) {
        return;
    }

    if (krb5_init_context(&ctx) != 0) {
        return;
    }

    (void) ngx_sprintf((u_char *) name, "FILE:%V%Z", file);

    http = host = aes = rc4 = other = n = 0;

    if (krb5_kt_resolve(ctx, name, &kt) != 0) {
        krb5_free_context(ctx);
        return;
    }

    rc = krb5_kt_start_seq_get(ctx, kt, &cursor);

    if (rc != 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_keytab \"%V\" cannot be read as a keytab: "
                           "%s", file, krb5_get_error_message(ctx, rc));
        (void) krb5_kt_close(ctx, kt);
        krb5_free_context(ctx);
        return;
    }

    while (krb5_kt_next_entry(ctx, kt, &entry, &cursor) == 0) {
        n++;

        if (ngx_wsman_keytab_service(ctx, entry.principal, "HTTP")) {
            http++;

        } else if (ngx_wsman_keytab_service(ctx, entry.principal, "HOST")) {
            host++;
        }

        switch (entry.key.enctype) {
        case NGX_WSMAN_ENCTYPE_AES128:
        case NGX_WSMAN_ENCTYPE_AES256:
            aes++;
            break;
        case NGX_WSMAN_ENCTYPE_RC4:
            rc4++;
            break;
        default:
            other++;
        }

        (void) krb5_free_keytab_entry_contents(ctx, &entry);
    }

    (void) krb5_kt_end_seq_get(ctx, kt, &cursor);
    (void) krb5_kt_close(ctx, kt);
    krb5_free_context(ctx);

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_keytab \"%V\" holds no key", file);
        return;
    }

    if (http == 0 && host == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_keytab \"%V\" has no HTTP/ and no HOST/ "
                           "key: Windows clients ask for HTTP/name (WinRM) "
                           "or HOST/name (Windows Server 2025 event "
                           "sources)", file);

    } else if (host == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_keytab \"%V\" has no HOST/ key: Windows "
                           "Server 2025 event sources ask for HOST/name",
                           file);
    }

    if (rc4 && aes == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_keytab \"%V\" has only RC4 keys: clients "
                           "that require AES (and Windows Server 2025 "
                           "domains) fail; export AES256 keys too", file);

    } else if (aes && rc4 == 0) {
        /* a notice: AES only is the recommended keytab */
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "wsman_keytab \"%V\" has only AES keys: sources "
                           "whose account allows RC4 only "
                           "(msDS-SupportedEncryptionTypes) fail", file);
    }

    /* the workers read it after dropping root */
    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    if (geteuid() == 0 && ccf && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT
        && ccf->user != 0
        && ngx_file_info(file->data, &fi) != NGX_FILE_ERROR
        && !(fi.st_mode & S_IROTH)
        && !(fi.st_uid == ccf->user && (fi.st_mode & S_IRUSR))
        && !(fi.st_gid == ccf->group && (fi.st_mode & S_IRGRP)))
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "wsman_keytab \"%V\" is not readable by the "
                           "workers' user: Kerberos logins will fail",
                           file);
    }
}
