/*
 * CIM_EthernetPort: one instance per network interface in /sys/class/net
 * but loopback, keyed by interface name, with its addresses from
 * getifaddrs(3).  Bridges, bonds, VLANs and veths are Ethernet; the odd
 * tunnel or InfiniBand port says so in LinkTechnology.
 */

#include "ngx_wsman_inv.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>


#define NGX_WSMAN_INV_SYS_NET       "/sys/class/net"

/* CIM_NetworkPort.LinkTechnology */
#define NGX_WSMAN_INV_LINK_UNKNOWN   0
#define NGX_WSMAN_INV_LINK_OTHER     1
#define NGX_WSMAN_INV_LINK_ETHERNET  2
#define NGX_WSMAN_INV_LINK_IB        3

/* CIM_ManagedSystemElement.OperationalStatus */
#define NGX_WSMAN_INV_OP_UNKNOWN     0
#define NGX_WSMAN_INV_OP_OK          2
#define NGX_WSMAN_INV_OP_STOPPED     10
#define NGX_WSMAN_INV_OP_DORMANT     15

/* CIM_EnabledLogicalElement.EnabledState: Unknown */
#define NGX_WSMAN_INV_STATE_UNKNOWN  0


typedef struct {
    ngx_str_t                  name;       /* sanitized: the key */
    ngx_str_t                  dev;        /* as in /sys */
    ngx_array_t                addrs;      /* ngx_str_t */
    uint64_t                   type;       /* ARPHRD_* */
} ngx_wsman_inv_if_t;


static ngx_int_t ngx_wsman_inv_ifs(ngx_wsman_inv_ctx_t *ctx,
    ngx_array_t *ifs);
static ngx_int_t ngx_wsman_inv_if_add(ngx_wsman_inv_ctx_t *ctx,
    ngx_array_t *ifs, const char *dev);
static ngx_int_t ngx_wsman_inv_if_addrs(ngx_wsman_inv_ctx_t *ctx,
    ngx_array_t *ifs);
static ngx_int_t ngx_wsman_inv_if_addr(ngx_wsman_inv_ctx_t *ctx,
    ngx_array_t *ifs, struct ifaddrs *ifa);
static int ngx_libc_cdecl ngx_wsman_inv_if_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_wsman_inv_if_attr(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_inv_if_t *itf, const char *attr, ngx_str_t *value);
static uint64_t ngx_wsman_inv_if_num(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_inv_if_t *itf, const char *attr);
static void ngx_wsman_inv_set_mac(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, ngx_wsman_inv_if_t *itf);
static void ngx_wsman_inv_set_link(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_instance_t *inst, ngx_wsman_inv_if_t *itf);
static uint64_t ngx_wsman_inv_link_technology(ngx_wsman_inv_if_t *itf);

static ngx_int_t ngx_wsman_inv_cim_ethernet_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_wsman_instance_t *ngx_wsman_inv_cim_ethernet(
    ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov, void *item);


ngx_wsman_provider_t  ngx_wsman_inv_cim_ethernet_provider = {
    ngx_string("CIM_EthernetPort"),
    ngx_string(NGX_WSMAN_CIM_URI "CIM_EthernetPort"),
    ngx_string("DeviceID"),
    0,
    ngx_wsman_inv_cim_ethernet_enum,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    0,
    NULL
};


static ngx_int_t
ngx_wsman_inv_cim_ethernet_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    ngx_array_t          ifs;
    ngx_wsman_inv_ctx_t  ctx;

    *done = 1;

    if (ngx_wsman_inv_ctx_init(&ctx, pool, log) != NGX_OK
        || ngx_wsman_inv_ifs(&ctx, &ifs) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_wsman_inv_emit(&ctx, prov, &ifs,
                              ngx_wsman_inv_after(&ifs, after), NULL,
                              ngx_wsman_inv_cim_ethernet, max, out, done);
}


/* the interfaces by name, each with its addresses */
static ngx_int_t
ngx_wsman_inv_ifs(ngx_wsman_inv_ctx_t *ctx, ngx_array_t *ifs)
{
    DIR            *dir;
    ngx_int_t       rc;
    struct dirent  *de;

    if (ngx_array_init(ifs, ctx->pool, 8, sizeof(ngx_wsman_inv_if_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    dir = opendir(NGX_WSMAN_INV_SYS_NET);
    if (dir == NULL) {
        /* no sysfs (some containers): no ports to show */
        ngx_log_error(NGX_LOG_WARN, ctx->log, ngx_errno,
                      "opendir(\"" NGX_WSMAN_INV_SYS_NET "\") failed");
        return NGX_OK;
    }

    rc = NGX_OK;

    for ( ;; ) {
        ngx_set_errno(0);

        de = readdir(dir);

        if (de == NULL) {
            if (ngx_errno != 0) {
                ngx_log_error(NGX_LOG_ALERT, ctx->log, ngx_errno,
                              "readdir(\"" NGX_WSMAN_INV_SYS_NET "\") "
                              "failed");
                rc = NGX_ERROR;
            }

            break;
        }

        if (de->d_name[0] == '.') {
            continue;
        }

        rc = ngx_wsman_inv_if_add(ctx, ifs, de->d_name);
        if (rc != NGX_OK) {
            break;
        }
    }

    (void) closedir(dir);

    if (rc != NGX_OK) {
        return rc;
    }

    ngx_qsort(ifs->elts, ifs->nelts, sizeof(ngx_wsman_inv_if_t),
              ngx_wsman_inv_if_cmp);

    return ngx_wsman_inv_if_addrs(ctx, ifs);
}


static ngx_int_t
ngx_wsman_inv_if_add(ngx_wsman_inv_ctx_t *ctx, ngx_array_t *ifs,
    const char *dev)
{
    uint64_t             type;
    ngx_wsman_inv_if_t  *itf, probe;

    probe.dev.data = (u_char *) dev;
    probe.dev.len = ngx_strlen(dev);

    type = ngx_wsman_inv_if_num(ctx, &probe, "type");

    if (ctx->failed) {
        return NGX_ERROR;
    }

    if (type == ARPHRD_LOOPBACK) {
        return NGX_OK;
    }

    itf = ngx_array_push(ifs);
    if (itf == NULL) {
        return NGX_ERROR;
    }

    itf->type = type;

    if (ngx_wsman_inv_dup(ctx, &itf->dev, probe.dev.data, probe.dev.len)
        != NGX_OK
        || ngx_wsman_inv_dup(ctx, &itf->name, probe.dev.data, probe.dev.len)
           != NGX_OK
        || ngx_array_init(&itf->addrs, ctx->pool, 2, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_wsman_inv_sanitize(itf->name.data, itf->name.len);

    return NGX_OK;
}


/* one getifaddrs() for all interfaces; its list is freed at once */
static ngx_int_t
ngx_wsman_inv_if_addrs(ngx_wsman_inv_ctx_t *ctx, ngx_array_t *ifs)
{
    ngx_int_t        rc;
    struct ifaddrs  *list, *ifa;

    if (ifs->nelts == 0) {
        return NGX_OK;
    }

    if (getifaddrs(&list) == -1) {
        if (ngx_errno == NGX_ENOMEM) {
            ngx_log_error(NGX_LOG_ALERT, ctx->log, ngx_errno,
                          "getifaddrs() failed");
            return NGX_ERROR;
        }

        /* the ports are still worth listing without addresses */
        ngx_log_error(NGX_LOG_WARN, ctx->log, ngx_errno,
                      "getifaddrs() failed");
        return NGX_OK;
    }

    rc = NGX_OK;

    for (ifa = list; ifa; ifa = ifa->ifa_next) {
        rc = ngx_wsman_inv_if_addr(ctx, ifs, ifa);
        if (rc != NGX_OK) {
            break;
        }
    }

    freeifaddrs(list);

    return rc;
}


static ngx_int_t
ngx_wsman_inv_if_addr(ngx_wsman_inv_ctx_t *ctx, ngx_array_t *ifs,
    struct ifaddrs *ifa)
{
    size_t               len;
    ngx_str_t            name, *addr;
    ngx_uint_t           i;
    const void          *raw;
    ngx_wsman_inv_if_t  *itf;
    u_char               text[NGX_INET6_ADDRSTRLEN + 1];
    u_char               buf[IF_NAMESIZE + 1];

    if (ifa->ifa_addr == NULL || ifa->ifa_name == NULL) {
        return NGX_OK;
    }

    switch (ifa->ifa_addr->sa_family) {

    case AF_INET:
        raw = &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr;
        break;

    case AF_INET6:
        raw = &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr;
        break;

    default:
        return NGX_OK;
    }

    /* the list is sorted by sanitized name: look the same form up */
    len = ngx_min(ngx_strlen(ifa->ifa_name), IF_NAMESIZE);
    ngx_memcpy(buf, ifa->ifa_name, len);
    ngx_wsman_inv_sanitize(buf, len);

    name.data = buf;
    name.len = len;

    i = ngx_wsman_inv_after(ifs, &name);
    itf = ifs->elts;

    if (i == 0 || ngx_wsman_inv_name_cmp(&itf[i - 1].name, &name) != 0) {
        return NGX_OK;
    }

    if (inet_ntop(ifa->ifa_addr->sa_family, raw, (char *) text,
                  sizeof(text))
        == NULL)
    {
        return NGX_OK;
    }

    addr = ngx_array_push(&itf[i - 1].addrs);
    if (addr == NULL) {
        return NGX_ERROR;
    }

    return ngx_wsman_inv_dup(ctx, addr, text, ngx_strlen(text));
}


static int ngx_libc_cdecl
ngx_wsman_inv_if_cmp(const void *one, const void *two)
{
    ngx_int_t  rc;

    rc = ngx_wsman_inv_name_cmp((ngx_str_t *) one, (ngx_str_t *) two);

    return rc < 0 ? -1 : (rc > 0);
}


/* /sys/class/net/<dev>/<attr>; data NULL when unknown */
static ngx_int_t
ngx_wsman_inv_if_attr(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_inv_if_t *itf,
    const char *attr, ngx_str_t *value)
{
    ngx_int_t  rc;
    u_char     path[NGX_MAX_PATH];

    ngx_snprintf(path, sizeof(path) - 1,
                 NGX_WSMAN_INV_SYS_NET "/%V/%s%Z", &itf->dev, attr);
    path[sizeof(path) - 1] = '\0';

    rc = ngx_wsman_inv_file_str(ctx, (char *) path, value);

    if (rc == NGX_ERROR) {
        ctx->failed = 1;
    }

    return rc;
}


static uint64_t
ngx_wsman_inv_if_num(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_inv_if_t *itf,
    const char *attr)
{
    u_char     *p;
    uint64_t    n;
    ngx_str_t   value;

    if (ngx_wsman_inv_if_attr(ctx, itf, attr, &value) != NGX_OK) {
        return NGX_WSMAN_INV_UNKNOWN;
    }

    /* "flags" is hexadecimal ("0x1003"), the others decimal */
    if (value.len > 2 && value.data[0] == '0' && value.data[1] == 'x') {
        n = 0;

        for (p = value.data + 2; p < value.data + value.len; p++) {
            if (n >> 60) {
                return NGX_WSMAN_INV_UNKNOWN;
            }

            if (*p >= '0' && *p <= '9') {
                n = n * 16 + (*p - '0');

            } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
                n = n * 16 + ((*p | 0x20) - 'a' + 10);

            } else {
                return NGX_WSMAN_INV_UNKNOWN;
            }
        }

        return n;
    }

    p = ngx_wsman_inv_u64(value.data, value.data + value.len, &n);

    return (p == value.data + value.len) ? n : NGX_WSMAN_INV_UNKNOWN;
}


/* CIM writes MAC addresses as 12 upper-case hex digits, no colons */
static void
ngx_wsman_inv_set_mac(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    ngx_wsman_inv_if_t *itf)
{
    u_char     *p, *d, c;
    ngx_str_t   value, mac;
    u_char      buf[64];

    ngx_str_null(&mac);

    if (ngx_wsman_inv_if_attr(ctx, itf, "address", &value) == NGX_OK
        && value.len < 2 * sizeof(buf))
    {
        d = buf;

        for (p = value.data; p < value.data + value.len; p++) {
            if (*p == ':') {
                continue;
            }

            c = ngx_toupper(*p);

            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))
                || d == buf + sizeof(buf))
            {
                d = buf;
                break;
            }

            *d++ = c;
        }

        if (d > buf) {
            mac.data = buf;
            mac.len = d - buf;
        }
    }

    ngx_wsman_inv_set_str(ctx, inst, "PermanentAddress", &mac);
}


/* administrative state from IFF_UP, operational from operstate */
static void
ngx_wsman_inv_set_link(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_instance_t *inst,
    ngx_wsman_inv_if_t *itf)
{
    uint64_t    flags, speed, op;
    ngx_str_t   oper, duplex;
    ngx_uint_t  full;

    flags = ngx_wsman_inv_if_num(ctx, itf, "flags");

    ngx_wsman_inv_set_uint(ctx, inst, "EnabledState",
                           flags == NGX_WSMAN_INV_UNKNOWN
                           ? NGX_WSMAN_INV_STATE_UNKNOWN
                           : (flags & IFF_UP) ? NGX_WSMAN_INV_ENABLED
                                              : NGX_WSMAN_INV_DISABLED);

    op = NGX_WSMAN_INV_OP_UNKNOWN;

    if (ngx_wsman_inv_if_attr(ctx, itf, "operstate", &oper) == NGX_OK) {
        if (oper.len == 2 && ngx_strncmp(oper.data, "up", 2) == 0) {
            op = NGX_WSMAN_INV_OP_OK;

        } else if (oper.len == 7
                   && ngx_strncmp(oper.data, "dormant", 7) == 0)
        {
            op = NGX_WSMAN_INV_OP_DORMANT;

        } else if ((oper.len == 4 && ngx_strncmp(oper.data, "down", 4) == 0)
                   || (oper.len == 14
                       && ngx_strncmp(oper.data, "lowerlayerdown", 14)
                          == 0))
        {
            op = NGX_WSMAN_INV_OP_STOPPED;
        }
    }

    ngx_wsman_inv_set_uint(ctx, inst, "OperationalStatus", op);

    /* Mb/s, or -1 (or EINVAL) while the link is down */
    speed = ngx_wsman_inv_if_num(ctx, itf, "speed");
    ngx_wsman_inv_set_uint(ctx, inst, "Speed",
                           speed == NGX_WSMAN_INV_UNKNOWN
                           ? speed : speed * 1000000);
    ngx_wsman_inv_set_nil(ctx, inst, "MaxSpeed", NGX_WSMAN_PROP_UINT);

    full = (ngx_uint_t) NGX_WSMAN_INV_UNKNOWN;

    if (ngx_wsman_inv_if_attr(ctx, itf, "duplex", &duplex) == NGX_OK) {
        if (duplex.len == 4 && ngx_strncmp(duplex.data, "full", 4) == 0) {
            full = 1;

        } else if (duplex.len == 4
                   && ngx_strncmp(duplex.data, "half", 4) == 0)
        {
            full = 0;
        }
    }

    ngx_wsman_inv_set_bool(ctx, inst, "FullDuplex", full);
    ngx_wsman_inv_set_uint(ctx, inst, "ActiveMaximumTransmissionUnit",
                           ngx_wsman_inv_if_num(ctx, itf, "mtu"));
}


static ngx_wsman_instance_t *
ngx_wsman_inv_cim_ethernet(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item)
{
    ngx_wsman_inv_if_t *itf = item;

    ngx_str_t             *addr;
    ngx_uint_t             i;
    ngx_wsman_instance_t  *inst;

    inst = ngx_wsman_inv_instance(ctx, prov, 16 + itf->addrs.nelts);
    if (inst == NULL) {
        return NULL;
    }

    ngx_wsman_inv_set_ckey(ctx, inst, "SystemCreationClassName",
                           NGX_WSMAN_INV_CIM_CS);
    ngx_wsman_inv_set_key(ctx, inst, "SystemName", &ctx->host);
    ngx_wsman_inv_set_ckey(ctx, inst, "CreationClassName",
                           "CIM_EthernetPort");
    ngx_wsman_inv_set_key(ctx, inst, "DeviceID", &itf->name);

    ngx_wsman_inv_set_str(ctx, inst, "Name", &itf->name);
    ngx_wsman_inv_set_str(ctx, inst, "ElementName", &itf->name);
    ngx_wsman_inv_set_mac(ctx, inst, itf);

    /* an array: the property repeats, once per address */
    addr = itf->addrs.elts;

    for (i = 0; i < itf->addrs.nelts; i++) {
        ngx_wsman_inv_set_str(ctx, inst, "NetworkAddresses", &addr[i]);
    }

    if (itf->addrs.nelts == 0) {
        ngx_wsman_inv_set_nil(ctx, inst, "NetworkAddresses",
                              NGX_WSMAN_PROP_STRING);
    }

    ngx_wsman_inv_set_link(ctx, inst, itf);
    ngx_wsman_inv_set_uint(ctx, inst, "LinkTechnology",
                           ngx_wsman_inv_link_technology(itf));

    return ngx_wsman_inv_done(ctx, inst);
}


static uint64_t
ngx_wsman_inv_link_technology(ngx_wsman_inv_if_t *itf)
{
    switch (itf->type) {

    case ARPHRD_ETHER:
        return NGX_WSMAN_INV_LINK_ETHERNET;

    case ARPHRD_INFINIBAND:
        return NGX_WSMAN_INV_LINK_IB;

    case NGX_WSMAN_INV_UNKNOWN:
        return NGX_WSMAN_INV_LINK_UNKNOWN;

    default:
        return NGX_WSMAN_INV_LINK_OTHER;
    }
}
