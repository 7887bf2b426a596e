/*
 * ngx_wsman: WS-Management (WinRM-compatible) server as an nginx module.
 *
 * Types shared by every stage of the request path:
 *   glue (src/http/) -> auth -> soap -> dispatch -> plug-in.
 * Plug-ins see this header, so it reaches neither ngx_http.h nor
 * libxml2: what needs them is in src/http/ngx_wsman_http.h.
 */

#ifndef _NGX_WSMAN_H_INCLUDED_
#define _NGX_WSMAN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_thread_pool.h>


#define NGX_WSMAN_VERSION         "0.1.0"

/* wsman_auth schemes (bit mask) */
#define NGX_WSMAN_AUTH_BASIC        0x0001
#define NGX_WSMAN_AUTH_NEGOTIATE    0x0002
#define NGX_WSMAN_AUTH_KERBEROS     0x0004
#define NGX_WSMAN_AUTH_CERTIFICATE  0x0008

#define NGX_WSMAN_DEFAULT_ROOT_SDDL                                         \
    "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;ER)S:P(AU;FA;GA;;;WD)(AU;SA;GWGX;;;WD)"


/* namespaces (DMTF DSP0226 WS-Management 1.1 and [MS-WSMV]) */
#define NGX_WSMAN_NS_SOAP    "http://www.w3.org/2003/05/soap-envelope"
#define NGX_WSMAN_NS_WSA     "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define NGX_WSMAN_NS_WSMAN   "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define NGX_WSMAN_NS_MSWSMAN                                                \
    "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
#define NGX_WSMAN_NS_WXF     "http://schemas.xmlsoap.org/ws/2004/09/transfer"
#define NGX_WSMAN_NS_WSEN    "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#define NGX_WSMAN_NS_WSEV    "http://schemas.xmlsoap.org/ws/2004/08/eventing"
#define NGX_WSMAN_NS_WSMID                                                  \
    "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
#define NGX_WSMAN_NS_FAULT                                                  \
    "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
#define NGX_WSMAN_NS_CONFIG  "http://schemas.microsoft.com/wbem/wsman/1/config"

#define NGX_WSMAN_WSA_ANONYMOUS  NGX_WSMAN_NS_WSA "/role/anonymous"

/* WS-Transfer actions */
#define NGX_WSMAN_ACTION_GET     NGX_WSMAN_NS_WXF "/Get"
#define NGX_WSMAN_ACTION_PUT     NGX_WSMAN_NS_WXF "/Put"
#define NGX_WSMAN_ACTION_CREATE  NGX_WSMAN_NS_WXF "/Create"
#define NGX_WSMAN_ACTION_DELETE  NGX_WSMAN_NS_WXF "/Delete"

/* a batch of events (DSP0226 10.2.9.4): the SOAP layer reads it apart */
#define NGX_WSMAN_ACTION_EVENTS                                             \
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/Events"


typedef struct ngx_wsman_plugin_s  ngx_wsman_plugin_t;
typedef struct ngx_wsman_call_s    ngx_wsman_call_t;


/* one WinRM listener: a listen socket of a server with a wsman location */
typedef struct {
    ngx_str_t                  address;         /* "*" for wildcards */
    ngx_str_t                  transport;       /* HTTP, HTTPS */
    ngx_uint_t                 port;
    ngx_str_t                  hostname;
    ngx_str_t                  url_prefix;
    ngx_str_t                  listening_on;    /* address:port */
    ngx_str_t                  thumbprint;      /* TLS certificate SHA-1 */
} ngx_wsman_listener_t;


/* location configuration: the effective winrm/config of one location */
typedef struct {
    ngx_flag_t                 enable;          /* wsman; */
    ngx_uint_t                 auth;            /* NGX_WSMAN_AUTH_* */
    ngx_str_t                  user_file;       /* absolute path */
    ngx_thread_pool_t         *auth_thread_pool;  /* its hashes checked */
    ngx_flag_t                 allow_unencrypted;
    size_t                     max_envelope_size;
    ngx_msec_t                 max_timeout;
    ngx_uint_t                 max_batch_items;
    ngx_msec_t                 enumeration_timeout;
    ngx_str_t                  root_sddl;

    ngx_str_t                  keytab;          /* absolute path */
    ngx_uint_t                 cbt_strict;      /* CbtHardeningLevel */
    ngx_flag_t                 negotiate_ntlm;  /* Negotiate may be NTLM */
    ngx_str_t                  pam_service;
    ngx_thread_pool_t         *thread_pool;     /* PAM runs there */

    ngx_array_t               *cert_maps;       /* ngx_wsman_cert_map_t */
    ngx_array_t               *group_sids;      /* ngx_wsman_group_sid_t */
    ngx_array_t               *resource_sddls;  /* ngx_wsman_resource_sddl_t */
    void                      *root_sd;         /* ngx_wsman_sddl_t */
    void                      *machine_sid;     /* ngx_wsman_sid_t */

    void                      *gss_cred;        /* per worker, lazily */
    void                      *gss_cred_krb5;   /* the same, Kerberos only */
} ngx_wsman_loc_conf_t;


/* a Name="..." element of w:SelectorSet or w:OptionSet */
typedef struct {
    ngx_str_t                  name;
    ngx_str_t                  value;
    unsigned                   must_understand:1;
} ngx_wsman_pair_t;


/* the parsed WS-Addressing / WS-Management headers of one envelope */
typedef struct {
    ngx_str_t                  action;
    ngx_str_t                  to;
    ngx_str_t                  resource_uri;
    ngx_str_t                  message_id;
    ngx_str_t                  reply_to;
    ngx_str_t                  locale;
    ngx_str_t                  data_locale;

    ngx_array_t                selectors;       /* ngx_wsman_pair_t */
    ngx_array_t                options;         /* ngx_wsman_pair_t */

    ngx_str_t                  fragment;        /* w:FragmentTransfer */
    ngx_str_t                  fragment_dialect;

    ngx_uint_t                 total_estimate_requested;
    ngx_msec_t                 operation_timeout;  /* capped; default
                                                      MaxTimeoutms */
    size_t                     max_envelope_size;  /* 0: not sent */
    ngx_uint_t                 utf16_replaced;  /* invalid UTF-16 code
                                                   units made U+FFFD */

    /* libxml2's, for the SOAP layer only: plug-ins read the body through
     * its accessors (ngx_wsman_body.h) */
    struct _xmlDoc            *doc;
    struct _xmlNode           *body;            /* s:Body */
    struct _xmlNode           *payload;         /* first element in s:Body */

    unsigned                   options_must_understand:1;
    unsigned                   identify:1;      /* wsmid:Identify body */
    unsigned                   fragment_transfer:1;  /* the header is there:
                                                    the operation must
                                                    honour it or fault */
} ngx_wsman_request_t;


/* who is calling; filled by src/ngx_wsman_auth*.c */
typedef struct {
    ngx_str_t                  user;            /* local user name */
    ngx_str_t                  groups;          /* user file, comma-separated */
    ngx_uint_t                 scheme;          /* NGX_WSMAN_AUTH_*, 0: none */
    ngx_str_t                  uri_prefix;      /* cert map: only under */

    /* the SIDs, computed once for a connection's identity; valid for the
     * location whose wsman_group_sid mapping made them */
    ngx_array_t               *sids;            /* ngx_wsman_sid_t */
    void                      *sids_conf;
} ngx_wsman_identity_t;


ngx_int_t ngx_wsman_connection_is_tls(ngx_connection_t *c);
ngx_thread_pool_t *ngx_wsman_thread_pool(ngx_conf_t *cf, ngx_str_t *name,
    const char *dflt, const char *threads, const char *max_queue);


#endif /* _NGX_WSMAN_H_INCLUDED_ */
