/*
 * wsmid:Identify.  Unauthenticated callers (WSMANIDENTIFY: unauthenticated)
 * learn the protocol version and nothing about the host or its security.
 */

#include "ngx_wsman_identify.h"


/* filled from uname(2) by nginx at start; no header declares it */
extern u_char  ngx_linux_kern_osrelease[50];


#define NGX_WSMAN_SECPROFILE                                                \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/"


static ngx_int_t ngx_wsman_identify(ngx_wsman_call_t *call);
static void ngx_wsman_identify_profiles(ngx_wsman_call_t *call);


static ngx_wsman_plugin_t  ngx_wsman_identify_plugin = {
    ngx_string("identify"),
    ngx_null_string,
    NULL, NULL, NULL, NULL, NULL,
    ngx_wsman_identify,
    0,
    1,                                     /* answers wsmid:Identify */
    NULL, NULL
};


ngx_wsman_plugin_t  *ngx_wsman_identify_services[] = {
    &ngx_wsman_identify_plugin,
    NULL
};


static ngx_int_t
ngx_wsman_identify(ngx_wsman_call_t *call)
{
    ngx_wsman_xml_t  *x;

    x = &call->body;

    ngx_wsman_xml_literal(x,
        "<wsmid:IdentifyResponse xmlns:wsmid=\"" NGX_WSMAN_NS_WSMID "\">"
        "<wsmid:ProtocolVersion>" NGX_WSMAN_NS_WSMAN
        "</wsmid:ProtocolVersion>"
        "<wsmid:ProductVendor>");

    /* ProductVersion keeps Windows' exact shape: clients parse "Stack:" */
    if (call->anonymous) {
        ngx_wsman_xml_literal(x, "ngx_wsman</wsmid:ProductVendor>"
                              "<wsmid:ProductVersion>"
                              "OS: 0.0.0 SP: 0.0 Stack: 3.0"
                              "</wsmid:ProductVersion>");

    } else {
        ngx_wsman_xml_literal(x, "ngx_wsman " NGX_WSMAN_VERSION
                              " (nginx " NGINX_VERSION ")"
                              "</wsmid:ProductVendor>"
                              "<wsmid:ProductVersion>OS: ");
        ngx_wsman_xml_text(x, ngx_linux_kern_osrelease,
                           ngx_strlen((char *) ngx_linux_kern_osrelease));
        ngx_wsman_xml_literal(x, " SP: 0.0 Stack: 3.0"
                              "</wsmid:ProductVersion>");
        ngx_wsman_identify_profiles(call);
    }

    ngx_wsman_xml_literal(x, "</wsmid:IdentifyResponse>");

    return NGX_OK;
}


static void
ngx_wsman_identify_profile(ngx_wsman_xml_t *x, ngx_uint_t tls,
    const char *name)
{
    ngx_wsman_xml_literal(x, "<wsmid:SecurityProfileName>"
                          NGX_WSMAN_SECPROFILE);

    if (tls) {
        ngx_wsman_xml_literal(x, "https/");
    } else {
        ngx_wsman_xml_literal(x, "http/");
    }

    ngx_wsman_xml_raw(x, (const u_char *) name, ngx_strlen(name));
    ngx_wsman_xml_literal(x, "</wsmid:SecurityProfileName>");
}


/* the profiles a client can use on this very connection */
static void
ngx_wsman_identify_profiles(ngx_wsman_call_t *call)
{
    ngx_uint_t        auth;
    ngx_wsman_xml_t  *x;

    x = &call->body;
    auth = call->conf->auth;

    ngx_wsman_xml_literal(x, "<wsmid:SecurityProfiles>");

    if ((auth & NGX_WSMAN_AUTH_BASIC)
        && (call->tls || call->conf->allow_unencrypted))
    {
        ngx_wsman_identify_profile(x, call->tls, "basic");
    }

    if (auth & (NGX_WSMAN_AUTH_NEGOTIATE | NGX_WSMAN_AUTH_KERBEROS)) {
        ngx_wsman_identify_profile(x, call->tls, "spnego-kerberos");
    }

    if ((auth & NGX_WSMAN_AUTH_CERTIFICATE) && call->tls) {
        ngx_wsman_identify_profile(x, 1, "mutual");
    }

    ngx_wsman_xml_literal(x, "</wsmid:SecurityProfiles>");
}
