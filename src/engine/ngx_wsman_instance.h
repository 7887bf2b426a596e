/*
 * CIM instances as plug-ins produce them: a class, a resource URI and a
 * list of typed properties.  The engine serializes them, matches
 * selectors against their keys and evaluates filters on them, so a
 * provider only gathers data.
 */

#ifndef _NGX_WSMAN_INSTANCE_H_INCLUDED_
#define _NGX_WSMAN_INSTANCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_WSMAN_CIM_URI                                                   \
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
#define NGX_WSMAN_WMI_CIMV2_URI                                             \
    "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/"
#define NGX_WSMAN_NS_CIM_COMMON                                             \
    "http://schemas.dmtf.org/wbem/wscim/1/common"
#define NGX_WSMAN_NS_XSI     "http://www.w3.org/2001/XMLSchema-instance"


typedef enum {
    NGX_WSMAN_PROP_STRING = 0,
    NGX_WSMAN_PROP_UINT,            /* uint8..uint64 */
    NGX_WSMAN_PROP_SINT,            /* sint8..sint64 */
    NGX_WSMAN_PROP_BOOL,
    NGX_WSMAN_PROP_REAL,            /* real32/real64, kept as text */
    NGX_WSMAN_PROP_DATETIME         /* cim:Datetime, seconds since epoch */
} ngx_wsman_prop_type_e;


typedef struct {
    ngx_str_t                  name;        /* CIM property name */
    ngx_uint_t                 type;        /* ngx_wsman_prop_type_e */
    ngx_str_t                  text;        /* STRING, REAL */
    uint64_t                   u;           /* UINT, BOOL */
    int64_t                    s;           /* SINT, DATETIME (epoch s) */
    unsigned                   nil:1;       /* unknown: xsi:nil */
    unsigned                   key:1;       /* a key property (selector) */
} ngx_wsman_prop_t;


typedef struct {
    ngx_str_t                  class_name;   /* e.g. CIM_Process */
    ngx_str_t                  resource_uri; /* class URI it answers to */
    ngx_array_t                props;        /* ngx_wsman_prop_t, in order;
                                                arrays repeat a name */
} ngx_wsman_instance_t;


ngx_wsman_instance_t *ngx_wsman_instance_create(ngx_pool_t *pool,
    ngx_str_t *class_name, ngx_str_t *resource_uri, ngx_uint_t n);

/* each returns the property (to set ->key) or NULL when out of memory;
 * strings are copied into the pool */
ngx_wsman_prop_t *ngx_wsman_prop_str(ngx_pool_t *pool,
    ngx_wsman_instance_t *inst, const char *name, const u_char *value,
    size_t len);
ngx_wsman_prop_t *ngx_wsman_prop_cstr(ngx_pool_t *pool,
    ngx_wsman_instance_t *inst, const char *name, const char *value);
ngx_wsman_prop_t *ngx_wsman_prop_uint(ngx_wsman_instance_t *inst,
    const char *name, uint64_t value);
ngx_wsman_prop_t *ngx_wsman_prop_sint(ngx_wsman_instance_t *inst,
    const char *name, int64_t value);
ngx_wsman_prop_t *ngx_wsman_prop_bool(ngx_wsman_instance_t *inst,
    const char *name, ngx_uint_t value);
ngx_wsman_prop_t *ngx_wsman_prop_real(ngx_pool_t *pool,
    ngx_wsman_instance_t *inst, const char *name, double value);
ngx_wsman_prop_t *ngx_wsman_prop_datetime(ngx_wsman_instance_t *inst,
    const char *name, time_t value);
ngx_wsman_prop_t *ngx_wsman_prop_nil(ngx_wsman_instance_t *inst,
    const char *name, ngx_uint_t type);

ngx_wsman_prop_t *ngx_wsman_instance_prop(ngx_wsman_instance_t *inst,
    const u_char *name, size_t len);     /* case-insensitive */

/* the property's value as text (numbers in decimal, datetimes in
 * CIM/xs:dateTime form); NGX_DECLINED for nil */
ngx_int_t ngx_wsman_prop_text(ngx_pool_t *pool, ngx_wsman_prop_t *prop,
    ngx_str_t *text);


/*
 * A class provider.  enumerate() produces up to max instances whose key
 * sorts after *after (empty: from the start), in key order, so an
 * enumeration can resume from the last key it sent without gaps or
 * duplicates even when the data changes between Pulls.  *done is set
 * when no instance follows the ones produced.  get() finds one instance
 * from selectors (NGX_DECLINED: no such instance).
 */
typedef struct ngx_wsman_provider_s  ngx_wsman_provider_t;
struct ngx_wsman_call_s;
struct ngx_wsman_xml_s;

typedef ngx_int_t (*ngx_wsman_provider_enum_pt)(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);

typedef ngx_int_t (*ngx_wsman_provider_get_pt)(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_array_t *selectors,
    ngx_wsman_instance_t **out);

/* custom action (Invoke): method is the last path part of the action;
 * NGX_DECLINED: no instance matches, NGX_ABORT: no such method, NGX_OK
 * with call->fault set: the method failed */
typedef ngx_int_t (*ngx_wsman_provider_invoke_pt)(
    ngx_wsman_provider_t *prov, struct ngx_wsman_call_s *call,
    ngx_str_t *method, ngx_int_t *return_value);

/*
 * A provider whose data comes from somewhere slow (a BMC) gets it before
 * the engine uses it: NGX_OK when it is at hand, NGX_AGAIN when it will
 * be and resume(call) is to run then (the provider answers with
 * ngx_wsman_call_finish()), NGX_WSMAN_FAULTED with call->fault set.
 */
typedef ngx_int_t (*ngx_wsman_provider_fetch_pt)(ngx_wsman_provider_t *prov,
    struct ngx_wsman_call_s *call,
    ngx_int_t (*resume)(struct ngx_wsman_call_s *call));

/*
 * Items that are not CIM objects (the subscriptions a WEC source
 * enumerates): the item of inst written into x as the call's caller is
 * to see it, once fetch() has run for the call; NGX_DECLINED: not for
 * this caller, left out as a filter would leave it out.
 */
typedef ngx_int_t (*ngx_wsman_provider_item_pt)(ngx_wsman_provider_t *prov,
    struct ngx_wsman_call_s *call, ngx_wsman_instance_t *inst,
    struct ngx_wsman_xml_s *x);

struct ngx_wsman_provider_s {
    ngx_str_t                       class_name;   /* CIM_Process */
    ngx_str_t                       resource_uri; /* full URI */
    ngx_str_t                       key;          /* key property name */
    unsigned                        numeric_key:1;/* keys compare as
                                                     numbers */
    ngx_wsman_provider_enum_pt      enumerate;
    ngx_wsman_provider_get_pt       get;          /* NULL: by enumerate */
    ngx_wsman_provider_invoke_pt    invoke;       /* NULL: none */
    void                           *data;
    ngx_wsman_provider_fetch_pt     fetch;        /* NULL: data at hand */

    /*
     * The class's one identity: the URI its access check and its aliases
     * go by (empty: resource_uri).  A class answering under several URIs
     * has one provider per URI, all with the same canonical URI.
     */
    ngx_str_t                       canonical;

    /*
     * The selectors that identify one instance (NULL-terminated; NULL:
     * just key).  Get and Invoke without all of them answer
     * w:InvalidSelectors (InsufficientSelectors), except on a singleton,
     * a class that has one instance whatever the selectors say.
     */
    const char                    **id_keys;
    unsigned                        singleton:1;

    ngx_wsman_provider_item_pt      item;         /* NULL: CIM objects */
};


/*
 * The enumerate() of a class whose instances are 0 .. total - 1, keyed
 * by that index (prov->key, a C string literal such as ngx_string("Index"):
 * it is read as one; numeric_key): the instances after the last
 * one sent (after), up to max in out, each made with room for nprops
 * properties and its key set as the first; *done once the last is in.
 * The caller adds its other properties to those pushed.
 */
ngx_int_t ngx_wsman_instance_range(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_str_t *after, ngx_uint_t total, ngx_uint_t nprops,
    ngx_uint_t max, ngx_array_t *out, ngx_uint_t *done);


#endif /* _NGX_WSMAN_INSTANCE_H_INCLUDED_ */
