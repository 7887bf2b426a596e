/*
 * CIM_FileSystem: one instance per mounted file system that holds data,
 * keyed by mount point, from /proc/self/mounts and statvfs(3).  The
 * same list feeds Win32_LogicalDisk.
 */

#include "ngx_wsman_inv.h"

#include <sys/statvfs.h>


typedef struct {
    ngx_wsman_inv_ctx_t       *ctx;
    ngx_array_t               *mounts;
} ngx_wsman_inv_mounts_t;


/* kernel interfaces and bookkeeping, not storage */
static const char *const  ngx_wsman_inv_pseudo_fs[] = {
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs",
    "debugfs", "devpts", "devtmpfs", "efivarfs", "fusectl", "hugetlbfs",
    "mqueue", "nfsd", "nsfs", "proc", "pstore", "rpc_pipefs", "securityfs",
    "selinuxfs", "sysfs", "tracefs", "fuse.lxcfs", "fuse.gvfsd-fuse",
    "fuse.portal", NULL
};

/*
 * statvfs() on these can wait for a server or a FUSE daemon for as long
 * as it likes, which a worker must not; they are listed without sizes.
 */
static const char *const  ngx_wsman_inv_remote_fs[] = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "9p", "afs", "lustre",
    "glusterfs", "ocfs2", "gfs2", NULL
};

static const char *const  ngx_wsman_inv_nocase_fs[] = {
    "vfat", "msdos", "exfat", "ntfs", "ntfs3", NULL
};


static ngx_int_t ngx_wsman_inv_mounts(ngx_wsman_inv_ctx_t *ctx,
    ngx_array_t *mounts);
static ngx_int_t ngx_wsman_inv_mount_line(void *data, u_char *line,
    size_t len);
static ngx_int_t ngx_wsman_inv_mount_fill(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_inv_fs_t *fs, ngx_str_t *field);
static size_t ngx_wsman_inv_unescape(u_char *p, size_t len);
static ngx_uint_t ngx_wsman_inv_fs_in(const char *const *list,
    ngx_str_t *type);
static ngx_uint_t ngx_wsman_inv_fs_ro(ngx_str_t *options);
static int ngx_libc_cdecl ngx_wsman_inv_fs_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_wsman_inv_fs_stat(ngx_wsman_inv_ctx_t *ctx,
    void *item);

static ngx_int_t ngx_wsman_inv_cim_fs_enum(ngx_wsman_provider_t *prov,
    ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *after, ngx_uint_t max,
    ngx_array_t *out, ngx_uint_t *done);
static ngx_wsman_instance_t *ngx_wsman_inv_cim_fs(ngx_wsman_inv_ctx_t *ctx,
    ngx_wsman_provider_t *prov, void *item);


ngx_wsman_provider_t  ngx_wsman_inv_cim_fs_provider = {
    ngx_string("CIM_FileSystem"),
    ngx_string(NGX_WSMAN_CIM_URI "CIM_FileSystem"),
    ngx_string("Name"),
    0,
    ngx_wsman_inv_cim_fs_enum,
    NULL,
    NULL,
    NULL,
    NULL,
    ngx_null_string,
    NULL,
    0,
    NULL
};


ngx_int_t
ngx_wsman_inv_fs_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done, ngx_wsman_inv_build_pt build)
{
    ngx_array_t          mounts;
    ngx_wsman_inv_ctx_t  ctx;

    *done = 1;

    if (ngx_wsman_inv_ctx_init(&ctx, pool, log) != NGX_OK
        || ngx_wsman_inv_mounts(&ctx, &mounts) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* statvfs() runs only for what is emitted, plus one look-ahead */
    return ngx_wsman_inv_emit(&ctx, prov, &mounts,
                              ngx_wsman_inv_after(&mounts, after),
                              ngx_wsman_inv_fs_stat, build, max, out, done);
}


/*
 * The mount table sorted by mount point.  A point mounted over again
 * shows only the last mount, as path lookup does.
 */
static ngx_int_t
ngx_wsman_inv_mounts(ngx_wsman_inv_ctx_t *ctx, ngx_array_t *mounts)
{
    ngx_int_t                rc;
    ngx_uint_t               i, n;
    ngx_wsman_inv_fs_t      *fs;
    ngx_wsman_inv_mounts_t   mt;

    if (ngx_array_init(mounts, ctx->pool, 16, sizeof(ngx_wsman_inv_fs_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    mt.ctx = ctx;
    mt.mounts = mounts;

    rc = ngx_wsman_inv_lines(ctx, "/proc/self/mounts",
                             ngx_wsman_inv_mount_line, &mt);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_qsort(mounts->elts, mounts->nelts, sizeof(ngx_wsman_inv_fs_t),
              ngx_wsman_inv_fs_cmp);

    fs = mounts->elts;
    n = 0;

    for (i = 0; i < mounts->nelts; i++) {
        if (i + 1 < mounts->nelts
            && ngx_wsman_inv_name_cmp(&fs[i].name, &fs[i + 1].name) == 0)
        {
            continue;
        }

        fs[n++] = fs[i];
    }

    mounts->nelts = n;

    return NGX_OK;
}


/* "device mount-point type options freq passno", see fstab(5) */
static ngx_int_t
ngx_wsman_inv_mount_line(void *data, u_char *line, size_t len)
{
    ngx_wsman_inv_mounts_t *mt = data;

    u_char              *p, *last, *end;
    ngx_str_t            field[4];
    ngx_uint_t           i;
    ngx_wsman_inv_fs_t  *fs;

    p = line;
    last = line + len;

    for (i = 0; i < 4; i++) {
        while (p < last && *p == ' ') {
            p++;
        }

        end = ngx_strlchr(p, last, ' ');
        if (end == NULL) {
            end = last;
        }

        if (end == p) {
            return NGX_OK;
        }

        field[i].data = p;
        field[i].len = end - p;
        p = end;
    }

    if (ngx_wsman_inv_fs_in(ngx_wsman_inv_pseudo_fs, &field[2])) {
        return NGX_OK;
    }

    fs = ngx_array_push(mt->mounts);
    if (fs == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(fs, sizeof(ngx_wsman_inv_fs_t));
    fs->seq = mt->mounts->nelts;

    return ngx_wsman_inv_mount_fill(mt->ctx, fs, field);
}


static ngx_int_t
ngx_wsman_inv_mount_fill(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_inv_fs_t *fs,
    ngx_str_t *field)
{
    field[0].len = ngx_wsman_inv_unescape(field[0].data, field[0].len);
    field[1].len = ngx_wsman_inv_unescape(field[1].data, field[1].len);

    if (ngx_wsman_inv_dup(ctx, &fs->path, field[1].data, field[1].len)
        != NGX_OK
        || ngx_wsman_inv_dup(ctx, &fs->name, field[1].data, field[1].len)
           != NGX_OK
        || ngx_wsman_inv_dup(ctx, &fs->device, field[0].data, field[0].len)
           != NGX_OK
        || ngx_wsman_inv_dup(ctx, &fs->type, field[2].data, field[2].len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the key is the printable name; statvfs() gets the real path */
    ngx_wsman_inv_sanitize(fs->name.data, fs->name.len);
    ngx_wsman_inv_sanitize(fs->device.data, fs->device.len);
    ngx_wsman_inv_sanitize(fs->type.data, fs->type.len);

    fs->ro = ngx_wsman_inv_fs_ro(&field[3]);
    fs->remote = ngx_wsman_inv_fs_in(ngx_wsman_inv_remote_fs, &fs->type)
                 || (fs->type.len >= 4
                     && ngx_strncmp(fs->type.data, "fuse", 4) == 0);
    fs->fold_case = ngx_wsman_inv_fs_in(ngx_wsman_inv_nocase_fs, &fs->type);

    fs->size = NGX_WSMAN_INV_UNKNOWN;
    fs->avail = NGX_WSMAN_INV_UNKNOWN;
    fs->block = NGX_WSMAN_INV_UNKNOWN;
    fs->files = NGX_WSMAN_INV_UNKNOWN;
    fs->name_max = NGX_WSMAN_INV_UNKNOWN;

    return NGX_OK;
}


/* the kernel writes space, tab, newline and backslash as \ooo */
static size_t
ngx_wsman_inv_unescape(u_char *p, size_t len)
{
    u_char  *s, *d, *last;

    last = p + len;
    d = p;

    for (s = p; s < last; s++) {
        if (*s == '\\' && last - s >= 4
            && s[1] >= '0' && s[1] <= '3'
            && s[2] >= '0' && s[2] <= '7'
            && s[3] >= '0' && s[3] <= '7')
        {
            *d++ = (u_char) ((s[1] - '0') * 64 + (s[2] - '0') * 8
                             + (s[3] - '0'));
            s += 3;
            continue;
        }

        *d++ = *s;
    }

    return d - p;
}


static ngx_uint_t
ngx_wsman_inv_fs_in(const char *const *list, ngx_str_t *type)
{
    for ( /* void */ ; *list; list++) {
        if (ngx_strlen(*list) == type->len
            && ngx_strncmp(*list, type->data, type->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_uint_t
ngx_wsman_inv_fs_ro(ngx_str_t *options)
{
    u_char  *p, *last, *comma;

    p = options->data;
    last = p + options->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if (comma - p == 2 && p[0] == 'r' && p[1] == 'o') {
            return 1;
        }

        p = comma + 1;
    }

    return 0;
}


/* by mount point, then in mount order so the last mount wins */
static int ngx_libc_cdecl
ngx_wsman_inv_fs_cmp(const void *one, const void *two)
{
    ngx_int_t                  rc;
    const ngx_wsman_inv_fs_t  *a = one, *b = two;

    rc = ngx_wsman_inv_name_cmp((ngx_str_t *) &a->name,
                                (ngx_str_t *) &b->name);
    if (rc != 0) {
        return rc < 0 ? -1 : 1;
    }

    return (a->seq > b->seq) - (a->seq < b->seq);
}


/* sizes of a local file system; NGX_DECLINED: none, not storage */
static ngx_int_t
ngx_wsman_inv_fs_stat(ngx_wsman_inv_ctx_t *ctx, void *item)
{
    ngx_wsman_inv_fs_t *fs = item;

    uint64_t        frsize;
    struct statvfs  sv;

    if (fs->remote) {
        return NGX_OK;
    }

    if (statvfs((char *) fs->path.data, &sv) == -1) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ctx->log, ngx_errno,
                       "wsman inventory: statvfs(\"%V\") failed", &fs->name);
        return NGX_DECLINED;
    }

    frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;

    if (sv.f_blocks == 0 || frsize == 0) {
        return NGX_DECLINED;
    }

    fs->size = (uint64_t) sv.f_blocks * frsize;
    fs->avail = (uint64_t) sv.f_bavail * frsize;
    fs->block = frsize;
    fs->name_max = sv.f_namemax ? sv.f_namemax : NGX_WSMAN_INV_UNKNOWN;

    if (sv.f_files && sv.f_files >= sv.f_ffree) {
        fs->files = sv.f_files - sv.f_ffree;
    }

    if (sv.f_flag & ST_RDONLY) {
        fs->ro = 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_wsman_inv_cim_fs_enum(ngx_wsman_provider_t *prov, ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *after, ngx_uint_t max, ngx_array_t *out,
    ngx_uint_t *done)
{
    return ngx_wsman_inv_fs_enum(prov, pool, log, after, max, out, done,
                                 ngx_wsman_inv_cim_fs);
}


static ngx_wsman_instance_t *
ngx_wsman_inv_cim_fs(ngx_wsman_inv_ctx_t *ctx, ngx_wsman_provider_t *prov,
    void *item)
{
    ngx_wsman_inv_fs_t *fs = item;

    ngx_wsman_instance_t  *inst;

    inst = ngx_wsman_inv_instance(ctx, prov, 18);
    if (inst == NULL) {
        return NULL;
    }

    ngx_wsman_inv_set_ckey(ctx, inst, "CSCreationClassName",
                           NGX_WSMAN_INV_CIM_CS);
    ngx_wsman_inv_set_key(ctx, inst, "CSName", &ctx->host);
    ngx_wsman_inv_set_ckey(ctx, inst, "CreationClassName", "CIM_FileSystem");
    ngx_wsman_inv_set_key(ctx, inst, "Name", &fs->name);

    ngx_wsman_inv_set_str(ctx, inst, "ElementName", &fs->name);
    ngx_wsman_inv_set_str(ctx, inst, "Root", &fs->name);
    ngx_wsman_inv_set_str(ctx, inst, "FileSystemType", &fs->type);
    ngx_wsman_inv_set_uint(ctx, inst, "FileSystemSize", fs->size);
    ngx_wsman_inv_set_uint(ctx, inst, "AvailableSpace", fs->avail);
    ngx_wsman_inv_set_uint(ctx, inst, "BlockSize", fs->block);
    ngx_wsman_inv_set_uint(ctx, inst, "NumberOfFiles", fs->files);
    ngx_wsman_inv_set_uint(ctx, inst, "MaxFileNameLength", fs->name_max);
    ngx_wsman_inv_set_bool(ctx, inst, "ReadOnly", fs->ro);
    ngx_wsman_inv_set_bool(ctx, inst, "CaseSensitive", !fs->fold_case);
    ngx_wsman_inv_set_bool(ctx, inst, "CasePreserved", 1);

    return ngx_wsman_inv_done(ctx, inst);
}
