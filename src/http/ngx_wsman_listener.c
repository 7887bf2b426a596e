/*
 * WinRM listeners: one per listen socket of each server that holds a
 * wsman location, found by walking nginx's core configuration once the
 * http block is read.  The config plug-in shows them as
 * winrm/config/Listener through ngx_wsman_listeners().
 */

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ngx_wsman_http.h"
#include "ngx_wsman_listener.h"
#include "ngx_wsman_util.h"


static int ngx_libc_cdecl
ngx_wsman_listener_cmp(const void *a, const void *b)
{
    const ngx_wsman_listener_t  *la = a, *lb = b;

    return ngx_memn2cmp(la->listening_on.data, lb->listening_on.data,
                        la->listening_on.len, lb->listening_on.len);
}


/* the SHA-1 of the server's first certificate, as Windows shows it */
static void
ngx_wsman_listener_thumbprint(ngx_conf_t *cf,
    ngx_http_core_srv_conf_t *cscf, ngx_str_t *thumbprint)
{
#if (NGX_HTTP_SSL)
    u_char                   md[EVP_MAX_MD_SIZE], *p;
    FILE                    *fp;
    X509                    *cert;
    ngx_str_t                file;
    unsigned int             len;
    ngx_http_ssl_srv_conf_t *sscf;

    ngx_str_null(thumbprint);

    sscf = cscf->ctx->srv_conf[ngx_http_ssl_module.ctx_index];

    if (sscf == NULL || sscf->certificates == NULL
        || sscf->certificates->nelts == 0)
    {
        return;
    }

    /* a copy: ngx_conf_full_name() rewrites the name it is given, and
     * this one is the ssl module's own ssl_certificate entry */
    file = *(ngx_str_t *) sscf->certificates->elts;

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return;
    }

    fp = fopen((char *) file.data, "r");
    if (fp == NULL) {
        return;
    }

    cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);

    if (cert == NULL) {
        return;
    }

    len = 0;

    if (X509_digest(cert, EVP_sha1(), md, &len) && len) {
        p = ngx_pnalloc(cf->pool, len * 2);
        if (p) {
            thumbprint->data = p;
            thumbprint->len = len * 2;

            (void) ngx_wsman_hex(p, md, len, 1);
        }
    }

    X509_free(cert);
#else
    ngx_str_null(thumbprint);
#endif
}


/* one listener per listen socket of each server holding a wsman location */
ngx_int_t
ngx_wsman_listeners_discover(ngx_conf_t *cf, ngx_wsman_main_conf_t *mcf)
{
    u_char                      *p;
    ngx_uint_t                   i, a, s, k;
    ngx_http_conf_port_t        *port;
    ngx_http_conf_addr_t        *addr;
    ngx_wsman_listener_t        *l;
    ngx_http_server_name_t      *sn;
    ngx_http_core_srv_conf_t   **cscfp;
    ngx_http_core_main_conf_t   *cmcf;
    ngx_wsman_location_t        *loc;

    mcf->listeners = ngx_array_create(cf->pool, 4,
                                      sizeof(ngx_wsman_listener_t));
    if (mcf->listeners == NULL) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (cmcf->ports == NULL || mcf->locations.nelts == 0) {
        return NGX_OK;
    }

    loc = mcf->locations.elts;
    port = cmcf->ports->elts;

    for (i = 0; i < cmcf->ports->nelts; i++) {
        addr = port[i].addrs.elts;

        for (a = 0; a < port[i].addrs.nelts; a++) {
            cscfp = addr[a].servers.elts;

            for (s = 0; s < addr[a].servers.nelts; s++) {
                for (k = 0; k < mcf->locations.nelts; k++) {
                    if (loc[k].server == cscfp[s]) {
                        break;
                    }
                }

                if (k == mcf->locations.nelts) {
                    continue;
                }

                l = ngx_array_push(mcf->listeners);
                if (l == NULL) {
                    return NGX_ERROR;
                }

                ngx_memzero(l, sizeof(ngx_wsman_listener_t));

                l->port = port[i].port;
                l->listening_on = addr[a].opt.addr_text;

                if (addr[a].opt.wildcard) {
                    ngx_str_set(&l->address, "*");

                } else {
                    /* "127.0.0.1:5985" -> "127.0.0.1" */
                    p = addr[a].opt.addr_text.data
                        + addr[a].opt.addr_text.len;
                    while (p > addr[a].opt.addr_text.data && p[-1] != ':') {
                        p--;
                    }
                    l->address.data = addr[a].opt.addr_text.data;
                    l->address.len = p > l->address.data
                                     ? (size_t) (p - 1 - l->address.data)
                                     : addr[a].opt.addr_text.len;
                }

                if (addr[a].opt.ssl) {
                    ngx_str_set(&l->transport, "HTTPS");
                    ngx_wsman_listener_thumbprint(cf, cscfp[s],
                                                  &l->thumbprint);

                } else {
                    ngx_str_set(&l->transport, "HTTP");
                }

                sn = cscfp[s]->server_names.nelts
                     ? cscfp[s]->server_names.elts : NULL;

                if (sn && sn[0].name.len) {
                    l->hostname = sn[0].name;

                } else {
                    l->hostname = cf->cycle->hostname;
                }

                /* Windows writes the path without its slash: "wsman" */
                l->url_prefix = loc[k].name;
                if (l->url_prefix.len && l->url_prefix.data[0] == '/') {
                    l->url_prefix.data++;
                    l->url_prefix.len--;
                }
            }
        }
    }

    ngx_qsort(mcf->listeners->elts, mcf->listeners->nelts,
              sizeof(ngx_wsman_listener_t), ngx_wsman_listener_cmp);

    return NGX_OK;
}


ngx_array_t *
ngx_wsman_listeners(void)
{
    ngx_wsman_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_wsman_module);

    return mcf ? mcf->listeners : NULL;
}
