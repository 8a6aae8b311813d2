/*
 * io/ckpt.c: checkpoint files (io/ckpt.h).  Writing goes through io/h5.c,
 * which gives the temporary name, fsync and rename; reading keeps one
 * read-only HDF5 handle open.
 */
#include "ckpt.h"

#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "h5.h"

#define CKPT_KIND "snn checkpoint"
#define CKPT_FORMAT 1

struct snn_ckpt {
    snn_h5 *w;     /* writing */
    hid_t r;       /* reading */
    char *path;
};

int snn_ckpt_create(snn_ckpt **out, const char *path, snn_err *err)
{
    *out = NULL;
    snn_ckpt *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        SNN_FAIL(err, SNN_ENOMEM, "%s: out of memory", path);
    }
    c->r = H5I_INVALID_HID;
    int rc = snn_h5_create(&c->w, path, 0, err);
    if (!rc)
        rc = snn_h5_attr_str(c->w, "/", "kind", CKPT_KIND, err);
    if (!rc)
        rc = snn_h5_attr_u64(c->w, "/", "format", CKPT_FORMAT, err);
    if (rc) {
        snn_h5_close(c->w, 0, NULL);
        free(c->path);
        free(c);
        return rc;
    }
    *out = c;
    return SNN_OK;
}

int snn_ckpt_open(snn_ckpt **out, const char *path, snn_err *err)
{
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snn_ckpt *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        SNN_FAIL(err, SNN_ENOMEM, "%s: out of memory", path);
    }
    c->r = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : H5I_INVALID_HID;
    char kind[32] = "";
    uint64_t format = 0;
    if (c->r >= 0 && H5Aexists(c->r, "kind") > 0) {
        hid_t a = H5Aopen(c->r, "kind", H5P_DEFAULT);
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, sizeof kind - 1);
        if (a >= 0 && t >= 0) {
            hid_t ft = H5Aget_type(a);
            if (ft >= 0 && H5Tis_variable_str(ft) > 0) {
                char *s = NULL;
                H5Tset_size(t, H5T_VARIABLE);
                H5Tset_cset(t, H5Tget_cset(ft));
                if (H5Aread(a, t, &s) >= 0 && s) {
                    snprintf(kind, sizeof kind, "%s", s);
                    H5free_memory(s);
                }
            } else if (ft >= 0) {
                H5Aread(a, t, kind);
            }
            if (ft >= 0)
                H5Tclose(ft);
        }
        if (t >= 0)
            H5Tclose(t);
        if (a >= 0)
            H5Aclose(a);
        if (H5Aexists(c->r, "format") > 0 && (a = H5Aopen(c->r, "format", H5P_DEFAULT)) >= 0) {
            H5Aread(a, H5T_NATIVE_UINT64, &format);
            H5Aclose(a);
        }
    }
    if (c->r < 0 || strcmp(kind, CKPT_KIND) != 0 || format != CKPT_FORMAT) {
        int rc = snn_err_set(err, SNN_EIO,
                             c->r < 0 ? "%s: cannot open (not an HDF5 file?)"
                             : format != CKPT_FORMAT && !strcmp(kind, CKPT_KIND)
                                 ? "%s: checkpoint of another format version"
                                 : "%s: not an snn checkpoint",
                             path);
        if (c->r >= 0)
            H5Fclose(c->r);
        free(c->path);
        free(c);
        return rc;
    }
    *out = c;
    return SNN_OK;
}

int snn_ckpt_close(snn_ckpt *c, int commit, snn_err *err)
{
    if (!c)
        return SNN_OK;
    int rc = SNN_OK;
    if (c->w)
        rc = snn_h5_close(c->w, commit, err);
    if (c->r >= 0)
        H5Fclose(c->r);
    free(c->path);
    free(c);
    return rc;
}

static int put(void *ud, const char *name, snn_st_type type, const void *v, size_t n,
               snn_err *err)
{
    snn_ckpt *c = ud;
    char path[512];
    snprintf(path, sizeof path, "/%s", name);
    switch (type) {
    case SNN_ST_F64: return snn_h5_write_f64(c->w, path, v, n, NULL, err);
    case SNN_ST_I32: return snn_h5_write_i32(c->w, path, v, n, err);
    case SNN_ST_U64: return snn_h5_write_u64(c->w, path, v, n, err);
    case SNN_ST_U32: return snn_h5_write_u32(c->w, path, v, n, err);
    case SNN_ST_U8: return snn_h5_write_u8(c->w, path, v, n, err);
    }
    SNN_FAIL(err, SNN_EINTERNAL, "checkpoint item %s: unknown type", name);
}

/* Open dataset /name and check it is 1-D; *n its length. */
static hid_t open_item(snn_ckpt *c, const char *name, size_t *n, snn_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "/%s", name);
    hid_t d = H5Lexists(c->r, path, H5P_DEFAULT) > 0 ? H5Dopen2(c->r, path, H5P_DEFAULT)
                                                     : H5I_INVALID_HID;
    if (d < 0) {
        snn_err_set(err, SNN_ECFG, "%s: checkpoint has no item '%s' (not from this network?)",
                    c->path, name);
        return d;
    }
    hid_t sp = H5Dget_space(d);
    hsize_t dims[1] = {0};
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        if (sp >= 0)
            H5Sclose(sp);
        H5Dclose(d);
        snn_err_set(err, SNN_EIO, "%s: checkpoint item '%s' is not a 1-D array", c->path, name);
        return H5I_INVALID_HID;
    }
    H5Sclose(sp);
    *n = dims[0];
    return d;
}

static int get(void *ud, const char *name, snn_st_type type, void *v, size_t n, snn_err *err)
{
    snn_ckpt *c = ud;
    size_t have = 0;
    hid_t d = open_item(c, name, &have, err);
    if (d < 0)
        return err ? err->code : SNN_EIO;
    int rc = SNN_OK;
    hid_t mt = type == SNN_ST_F64   ? H5T_NATIVE_DOUBLE
               : type == SNN_ST_I32 ? H5T_NATIVE_INT32
               : type == SNN_ST_U64 ? H5T_NATIVE_UINT64
               : type == SNN_ST_U32 ? H5T_NATIVE_UINT32
                                    : H5T_NATIVE_UINT8;
    hid_t ft = H5Dget_type(d);
    bool same_class = ft >= 0 && H5Tget_class(ft) == H5Tget_class(mt) &&
                      H5Tget_size(ft) == H5Tget_size(mt);
    if (ft >= 0)
        H5Tclose(ft);
    if (have != n)
        rc = snn_err_set(err, SNN_ECFG,
                         "%s: checkpoint item '%s' has %zu values, this network needs %zu "
                         "(checkpoint of another network?)",
                         c->path, name, have, n);
    else if (!same_class)
        rc = snn_err_set(err, SNN_EIO, "%s: checkpoint item '%s' has the wrong type", c->path,
                         name);
    else if (n > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        rc = snn_err_set(err, SNN_EIO, "%s: cannot read checkpoint item '%s'", c->path, name);
    H5Dclose(d);
    return rc;
}

static int len(void *ud, const char *name, size_t *n, snn_err *err)
{
    hid_t d = open_item(ud, name, n, err);
    if (d < 0)
        return err ? err->code : SNN_EIO;
    H5Dclose(d);
    return SNN_OK;
}

snn_state_io snn_ckpt_io(snn_ckpt *c)
{
    return (snn_state_io){.put = put, .get = get, .len = len, .ud = c};
}

int snn_ckpt_put_str(snn_ckpt *c, const char *name, const char *text, snn_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "/%s", name);
    return snn_h5_write_str(c->w, path, text, err);
}

int snn_ckpt_has(snn_ckpt *c, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "/%s", name);
    return c->r >= 0 && H5Lexists(c->r, path, H5P_DEFAULT) > 0;
}

int snn_ckpt_get_str(snn_ckpt *c, const char *name, char **text, snn_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "/%s", name);
    *text = NULL;
    hid_t d = H5Lexists(c->r, path, H5P_DEFAULT) > 0 ? H5Dopen2(c->r, path, H5P_DEFAULT)
                                                     : H5I_INVALID_HID;
    if (d < 0)
        SNN_FAIL(err, SNN_ECFG, "%s: checkpoint has no item '%s'", c->path, name);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *s = NULL;
    int rc = SNN_OK;
    if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) < 0 || !s)
        rc = snn_err_set(err, SNN_EIO, "%s: cannot read string '%s'", c->path, name);
    else if (!(*text = strdup(s)))
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory");
    if (s)
        H5free_memory(s);
    H5Tclose(t);
    H5Dclose(d);
    return rc;
}
