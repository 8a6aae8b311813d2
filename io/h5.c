/*
 * io/h5.c: the HDF5 result file (layout in io/h5.h).
 *
 * Everything is written to "<path>.tmp".  snn_h5_close(commit = 1) flushes,
 * closes every object, closes the file, fsyncs it, renames it to <path> and
 * fsyncs the directory, so a reader never finds a partial file under the
 * final name.  The first error is remembered in the handle: later writes are
 * refused with it and close removes the temporary file instead of committing.
 *
 * Growing datasets (spike trains, state samples, weight snapshots) have an
 * unlimited first dimension, chunks of about CHUNK elements and, when the
 * level is > 0, shuffle + deflate.  An append extends the extent and writes
 * one hyperslab, so memory is bounded by HDF5's per-dataset chunk cache
 * (1 MiB by default; every chunk here is at most CHUNK * 8 = 512 KiB), not by
 * the run length.  Open streams live in a small table in the handle; a
 * stream handle is an index into it.
 *
 * Strings are variable-length UTF-8: h5py returns such attributes as str,
 * and datasets through .asstr().  HDF5's automatic error printing is turned
 * off (library code never prints); the innermost message of HDF5's error
 * stack is copied into the snn_err instead.
 */
#include "h5.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "analyze.h"

enum {
    CHUNK = 65536,      /* elements per chunk of a growing dataset (512 KiB of doubles) */
    TIMES_CHUNK = 4096, /* elements per chunk of the sample-time axis of state/weights */
    READ_BLOCK = 65536, /* elements per read when summarising a spike train */
    SONATA_MAGIC = 0x0A7A
};

enum { ST_FREE = 0, ST_SPIKES, ST_STATE, ST_WEIGHTS };

typedef struct stream {
    int kind;
    char *name;         /* group path, for messages: "/spikes/exc" */
    hid_t t;            /* timestamps (spikes) or times (state, weights) */
    hid_t ids;          /* spikes: node_ids */
    hid_t *vals;        /* state: one per var; weights: values */
    size_t n_vals;
    int rank;           /* rank of vals[] */
    hsize_t inner[2];   /* dims of vals[] after the first */
    size_t width;       /* elements per row of vals[] */
    hsize_t len;        /* current extent of the first dimension */
    double last_t;      /* spikes: last timestamp written (time order check) */
} stream;

struct snn_h5 {
    hid_t file;
    char *path, *tmp;
    int level;          /* deflate level, 0 = none */
    int failed;         /* an error was met: never commit */
    int first_code;
    char first_msg[sizeof ((snn_err *)0)->msg]; /* without the file name */
    stream *st;
    size_t n_st, cap_st;
    int resumed;        /* opened by snn_h5_resume: streams attach to what exists */
};

/* ---- errors ---------------------------------------------------------- */

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    char *buf = data;
    if (n == 0 && e->desc)
        snprintf(buf, 256, "%s", e->desc);
    return 0;
}

/* The innermost message on HDF5's error stack (the most specific one), or ""
   when the stack is empty.  Clears the stack.  `buf` holds 256 bytes. */
static const char *h5_why(char *buf)
{
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, buf);
    H5Eclear2(H5E_DEFAULT);
    return buf;
}

/* Switch off HDF5's printing of error stacks (idempotent). */
static void quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Record an error: `what` is formatted, prefixed with the file name and
   followed by HDF5's message when `hdf5` is set.  Remembers the first error
   in h (never committed after it).  Returns code. */
static int fail(snn_h5 *h, snn_err *err, int code, int hdf5, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(snn_h5 *h, snn_err *err, int code, int hdf5, const char *fmt, ...)
{
    char what[512], why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    h5_why(why);
    char msg[sizeof err->msg];
    if (hdf5 && why[0])
        snprintf(msg, sizeof msg, "%s (HDF5: %s)", what, why);
    else
        snprintf(msg, sizeof msg, "%s", what);
    if (h && !h->failed) {
        h->failed = 1;
        h->first_code = code;
        snprintf(h->first_msg, sizeof h->first_msg, "%s", msg);
    }
    return snn_err_set(err, code, "%s: %s", h ? h->path : "?", msg);
}

/* Refuse to write after an earlier error (the file will not be committed). */
static int check_usable(snn_h5 *h, snn_err *err)
{
    if (!h)
        SNN_FAIL(err, SNN_EINTERNAL, "HDF5 output: NULL handle");
    if (h->failed)
        SNN_FAIL(err, h->first_code, "%s: not writing after an earlier error: %s", h->path,
                 h->first_msg);
    return SNN_OK;
}

/* ---- small HDF5 helpers ------------------------------------------------ */

/* Variable-length UTF-8 string type (close with H5Tclose). */
static hid_t str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* Link-creation property list that creates missing parent groups. */
static hid_t lcpl_parents(void)
{
    hid_t p = H5Pcreate(H5P_LINK_CREATE);
    if (p >= 0 && H5Pset_create_intermediate_group(p, 1) < 0) {
        H5Pclose(p);
        return H5I_INVALID_HID;
    }
    return p;
}

/* Does every link along `path` exist?  1 yes, 0 no, -1 HDF5 error. */
static int path_exists(hid_t loc, const char *path)
{
    size_t n = strlen(path);
    char *buf = malloc(n + 1);
    if (!buf)
        return -1;
    int r = 1;
    for (size_t i = 1; i <= n && r == 1; i++) {
        if (i < n && path[i] != '/')
            continue;
        if (path[i - 1] == '/') /* "//" or trailing '/' */
            continue;
        memcpy(buf, path, i);
        buf[i] = '\0';
        htri_t e = H5Lexists(loc, buf, H5P_DEFAULT);
        r = e < 0 ? -1 : e > 0;
    }
    free(buf);
    return r;
}

/* Open the object at `path` ("/" is the root), creating it as a group (with
   parents) if it does not exist.  Returns an object id or < 0. */
static hid_t open_or_create(hid_t file, const char *path)
{
    if (!path[0] || strcmp(path, "/") == 0)
        return H5Oopen(file, "/", H5P_DEFAULT);
    int e = path_exists(file, path);
    if (e < 0)
        return H5I_INVALID_HID;
    if (e)
        return H5Oopen(file, path, H5P_DEFAULT);
    hid_t lcpl = lcpl_parents();
    if (lcpl < 0)
        return H5I_INVALID_HID;
    hid_t g = H5Gcreate2(file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
}

/* Write attribute `name` of type `ftype` (file) / `mtype` (memory) with
   `n` elements (n == 0: scalar) on object `obj`, replacing an old one. */
static herr_t put_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, size_t n,
                       const void *val)
{
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0 || (ex > 0 && H5Adelete(obj, name) < 0))
        return -1;
    hsize_t dim = n;
    hid_t sp = n ? H5Screate_simple(1, &dim, NULL) : H5Screate(H5S_SCALAR);
    if (sp < 0)
        return -1;
    hid_t a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t r = a < 0 ? -1 : H5Awrite(a, mtype, val);
    if (a >= 0 && H5Aclose(a) < 0)
        r = -1;
    H5Sclose(sp);
    return r;
}

static herr_t put_attr_str(hid_t obj, const char *name, const char *val)
{
    hid_t t = str_type();
    if (t < 0)
        return -1;
    herr_t r = put_attr(obj, name, t, t, 0, &val);
    H5Tclose(t);
    return r;
}

/* Scalar string attribute, or nothing when val is NULL. */
static herr_t put_units(hid_t obj, const char *units)
{
    return units ? put_attr_str(obj, "units", units) : 0;
}

/* Not a valid single group-name component: empty, too long, containing
   '/', or "." / "..". */
static int bad_name(const char *s)
{
    return !s || !s[0] || strlen(s) > 255 || strchr(s, '/') || strcmp(s, ".") == 0 ||
           strcmp(s, "..") == 0;
}

/* ---- attributes and whole datasets ------------------------------------- */

static int attr_common(snn_h5 *h, const char *group, const char *name, hid_t ftype,
                       hid_t mtype, const void *val, snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    if (!group || !name || !name[0])
        return fail(h, err, SNN_EINTERNAL, 0, "attribute with no group or name");
    hid_t o = open_or_create(h->file, group);
    if (o < 0)
        return fail(h, err, SNN_EIO, 1, "cannot open or create group %s for attribute %s",
                    group, name);
    herr_t r = put_attr(o, name, ftype, mtype, 0, val);
    H5Oclose(o);
    if (r < 0)
        return fail(h, err, SNN_EIO, 1, "cannot write attribute %s on %s", name, group);
    return SNN_OK;
}

int snn_h5_attr_str(snn_h5 *h, const char *group, const char *name, const char *val,
                    snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    if (!val)
        return fail(h, err, SNN_EINTERNAL, 0, "attribute %s: NULL string", name ? name : "?");
    hid_t t = str_type();
    if (t < 0)
        return fail(h, err, SNN_EIO, 1, "cannot make a string type");
    rc = attr_common(h, group, name, t, t, &val, err);
    H5Tclose(t);
    return rc;
}

int snn_h5_attr_double(snn_h5 *h, const char *group, const char *name, double val,
                       snn_err *err)
{
    return attr_common(h, group, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &val, err);
}

int snn_h5_attr_u64(snn_h5 *h, const char *group, const char *name, uint64_t val,
                    snn_err *err)
{
    return attr_common(h, group, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &val, err);
}

static void chunk_2d(size_t width, hsize_t c[2]);

/* Create and fill a whole dataset of `rank` dims at `path` (parents
   created): chunked by `chunk` and deflated when the file compresses and
   chunk is not NULL, else contiguous.  No data is written when a dimension
   is 0. */
static int write_dset(snn_h5 *h, const char *path, hid_t ftype, hid_t mtype, const void *v,
                      int rank, const hsize_t *dims, const hsize_t *chunk, const char *units,
                      snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    hsize_t total = 1;
    for (int k = 0; k < rank; k++)
        total *= dims[k];
    if (!path || !path[0] || (total > 0 && !v))
        return fail(h, err, SNN_EINTERNAL, 0, "dataset %s: no path or no data",
                    path ? path : "?");
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t lcpl = lcpl_parents();
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    herr_t r = (sp < 0 || lcpl < 0 || dcpl < 0) ? -1 : 0;
    if (r == 0 && h->level > 0 && total > 0 && chunk)
        r = (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
             H5Pset_deflate(dcpl, (unsigned)h->level) < 0) ? -1 : 0;
    if (r == 0)
        d = H5Dcreate2(h->file, path, ftype, sp, lcpl, dcpl, H5P_DEFAULT);
    if (d < 0)
        r = -1;
    if (r == 0 && total > 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        r = -1;
    if (r == 0 && put_units(d, units) < 0)
        r = -1;
    if (r < 0)
        rc = fail(h, err, SNN_EIO, 1, "cannot write dataset %s", path);
    if (d >= 0 && H5Dclose(d) < 0 && !rc)
        rc = fail(h, err, SNN_EIO, 1, "cannot close dataset %s", path);
    if (sp >= 0)
        H5Sclose(sp);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return rc;
}

/* A whole dataset of rank 1 (n) or 2 (n x cols, cols >= 1). */
static int write_nd(snn_h5 *h, const char *path, hid_t ftype, hid_t mtype, const void *v,
                    size_t n, size_t cols, const char *units, snn_err *err)
{
    int rank = cols ? 2 : 1;
    hsize_t dims[2] = {n, cols}, c[2];
    if (rank == 1) {
        c[0] = n < CHUNK ? n : CHUNK;
    } else {
        chunk_2d(cols, c);
        if (c[0] > n)
            c[0] = n;
    }
    return write_dset(h, path, ftype, mtype, v, rank, dims, c, units, err);
}

static int write_1d(snn_h5 *h, const char *path, hid_t ftype, hid_t mtype, const void *v,
                    size_t n, const char *units, snn_err *err)
{
    return write_nd(h, path, ftype, mtype, v, n, 0, units, err);
}

int snn_h5_write_u32_2d(snn_h5 *h, const char *path, const uint32_t *v, size_t rows,
                        size_t cols, snn_err *err)
{
    if (cols == 0)
        return fail(h, err, SNN_EINTERNAL, 0, "dataset %s: a 2-D dataset needs columns", path);
    return write_nd(h, path, H5T_STD_U32LE, H5T_NATIVE_UINT32, v, rows, cols, NULL, err);
}

int snn_h5_write_f64_2d(snn_h5 *h, const char *path, const double *v, size_t rows, size_t cols,
                        const char *units, snn_err *err)
{
    if (cols == 0)
        return fail(h, err, SNN_EINTERNAL, 0, "dataset %s: a 2-D dataset needs columns", path);
    return write_nd(h, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, rows, cols, units, err);
}

int snn_h5_write_u32_3d(snn_h5 *h, const char *path, const uint32_t *v, size_t d0, size_t d1,
                        size_t d2, snn_err *err)
{
    hsize_t dims[3] = {d0, d1, d2}, c[3] = {1, d1, d2}; /* one [d1, d2] slice per chunk */
    return write_dset(h, path, H5T_STD_U32LE, H5T_NATIVE_UINT32, v, 3, dims, c, NULL, err);
}

int snn_h5_write_str(snn_h5 *h, const char *path, const char *val, snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    if (!path || !path[0] || !val)
        return fail(h, err, SNN_EINTERNAL, 0, "string dataset %s: no path or NULL string",
                    path ? path : "?");
    hid_t t = str_type();
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t lcpl = lcpl_parents();
    hid_t d = H5I_INVALID_HID;
    if (t >= 0 && sp >= 0 && lcpl >= 0)
        d = H5Dcreate2(h->file, path, t, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0 || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &val) < 0)
        rc = fail(h, err, SNN_EIO, 1, "cannot write string dataset %s", path);
    if (d >= 0 && H5Dclose(d) < 0 && !rc)
        rc = fail(h, err, SNN_EIO, 1, "cannot close dataset %s", path);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    return rc;
}

int snn_h5_write_f64(snn_h5 *h, const char *path, const double *v, size_t n,
                     const char *units, snn_err *err)
{
    return write_1d(h, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, n, units, err);
}

int snn_h5_write_u64(snn_h5 *h, const char *path, const uint64_t *v, size_t n,
                     snn_err *err)
{
    return write_1d(h, path, H5T_STD_U64LE, H5T_NATIVE_UINT64, v, n, NULL, err);
}

int snn_h5_write_u32(snn_h5 *h, const char *path, const uint32_t *v, size_t n, snn_err *err)
{
    return write_1d(h, path, H5T_STD_U32LE, H5T_NATIVE_UINT32, v, n, NULL, err);
}

int snn_h5_write_i32(snn_h5 *h, const char *path, const int32_t *v, size_t n, snn_err *err)
{
    return write_1d(h, path, H5T_STD_I32LE, H5T_NATIVE_INT32, v, n, NULL, err);
}

int snn_h5_write_u8(snn_h5 *h, const char *path, const uint8_t *v, size_t n, snn_err *err)
{
    return write_1d(h, path, H5T_STD_U8LE, H5T_NATIVE_UINT8, v, n, NULL, err);
}

/* ---- growing datasets -------------------------------------------------- */

/* Create an empty dataset `name` in `loc` of shape [0, inner...] with an
   unlimited first dimension and chunk dims `chunk`.  A zero inner dimension
   is made unlimited too (HDF5 needs chunk dims >= 1 within fixed maxima). */
static hid_t create_growing(snn_h5 *h, hid_t loc, const char *name, hid_t ftype, int rank,
                            const hsize_t *inner, const hsize_t *chunk)
{
    hsize_t dims[3] = {0, 0, 0}, maxd[3] = {H5S_UNLIMITED, 0, 0};
    for (int i = 1; i < rank; i++) {
        dims[i] = inner[i - 1];
        maxd[i] = inner[i - 1] ? inner[i - 1] : H5S_UNLIMITED;
    }
    hid_t sp = H5Screate_simple(rank, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, chunk) >= 0 &&
        (h->level == 0 ||
         (H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, (unsigned)h->level) >= 0)))
        d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (sp >= 0)
        H5Sclose(sp);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return d;
}

/* Append `rows` rows (each `inner` shaped) at row `len` of `d`. */
static herr_t append_rows(hid_t d, hid_t mtype, int rank, const hsize_t *inner, hsize_t len,
                          hsize_t rows, const void *buf)
{
    hsize_t dims[3] = {len + rows, 0, 0}, start[3] = {len, 0, 0}, count[3] = {rows, 0, 0};
    size_t width = 1;
    for (int i = 1; i < rank; i++) {
        dims[i] = count[i] = inner[i - 1];
        width *= inner[i - 1];
    }
    if (H5Dset_extent(d, dims) < 0)
        return -1;
    if (rows == 0 || width == 0)
        return 0;
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(rank, count, NULL);
    herr_t r = (fs < 0 || ms < 0 ||
                H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
                H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, buf) < 0) ? -1 : 0;
    if (fs >= 0)
        H5Sclose(fs);
    if (ms >= 0)
        H5Sclose(ms);
    return r;
}

/* Chunk dims for a [rows, width] dataset: about CHUNK elements, whole rows
   when a row is shorter than CHUNK. */
static void chunk_2d(size_t width, hsize_t c[2])
{
    c[1] = width == 0 ? 1 : width < CHUNK ? width : CHUNK;
    c[0] = CHUNK / c[1] ? CHUNK / c[1] : 1;
}

/* Take a free slot in the stream table; returns its index or -1 (no memory). */
static int new_stream(snn_h5 *h, int kind, const char *name)
{
    if (h->n_st == h->cap_st) {
        size_t cap = h->cap_st ? 2 * h->cap_st : 8;
        stream *s = realloc(h->st, cap * sizeof *s);
        if (!s)
            return -1;
        h->st = s;
        h->cap_st = cap;
    }
    stream *s = &h->st[h->n_st];
    memset(s, 0, sizeof *s);
    s->t = s->ids = H5I_INVALID_HID;
    s->name = strdup(name);
    if (!s->name)
        return -1;
    s->kind = kind;
    return (int)h->n_st++;
}

/* Close a stream's datasets; returns -1 if HDF5 reported a failure. */
static herr_t close_stream(stream *s)
{
    herr_t r = 0;
    hid_t *ids[2] = {&s->t, &s->ids};
    for (int i = 0; i < 2; i++)
        if (*ids[i] >= 0 && H5Dclose(*ids[i]) < 0)
            r = -1;
    for (size_t v = 0; v < s->n_vals; v++)
        if (s->vals[v] >= 0 && H5Dclose(s->vals[v]) < 0)
            r = -1;
    free(s->vals);
    free(s->name);
    memset(s, 0, sizeof *s);
    return r;
}

static stream *get_stream(snn_h5 *h, int hd, int kind)
{
    if (hd < 0 || (size_t)hd >= h->n_st || h->st[hd].kind != kind)
        return NULL;
    return &h->st[hd];
}

/* Drop the last stream again after a failed open (ids are closed). */
static void drop_last(snn_h5 *h)
{
    close_stream(&h->st[--h->n_st]);
}

/*
 * attach: in a resumed file, take up the existing stream at `path` (kind,
 * and the names of its value datasets) where it stopped: its length is the
 * extent of its times dataset.  Returns SNN_OK with *hd set.
 */
static int attach(snn_h5 *h, int kind, const char *path, const char *tname,
                  const char *const *vals, size_t n_vals, int *hd, snn_err *err)
{
    int k = new_stream(h, kind, path);
    stream *s = k < 0 ? NULL : &h->st[k];
    if (s && n_vals && !(s->vals = calloc(n_vals, sizeof *s->vals))) {
        drop_last(h);
        s = NULL;
    }
    if (!s)
        return fail(h, err, SNN_ENOMEM, 0, "out of memory opening %s", path);
    for (size_t v = 0; v < n_vals; v++)
        s->vals[v] = H5I_INVALID_HID;
    char p[600];
    snprintf(p, sizeof p, "%s/%s", path, tname);
    s->t = H5Dopen2(h->file, p, H5P_DEFAULT);
    herr_t r = s->t < 0 ? -1 : 0;
    hsize_t dims[3] = {0, 0, 0};
    if (r == 0) {
        hid_t sp = H5Dget_space(s->t);
        r = (sp < 0 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) ? -1 : 0;
        if (sp >= 0)
            H5Sclose(sp);
        s->len = dims[0];
    }
    if (r == 0 && kind == ST_SPIKES) {
        snprintf(p, sizeof p, "%s/node_ids", path);
        s->ids = H5Dopen2(h->file, p, H5P_DEFAULT);
        r = s->ids < 0 ? -1 : 0;
        s->last_t = -INFINITY;
        if (r == 0 && s->len > 0) {
            hid_t fs = H5Dget_space(s->t);
            hsize_t one = 1, at = s->len - 1;
            hid_t ms = H5Screate_simple(1, &one, NULL);
            r = (fs < 0 || ms < 0 ||
                 H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &one, NULL) < 0 ||
                 H5Dread(s->t, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, &s->last_t) < 0) ? -1 : 0;
            if (fs >= 0)
                H5Sclose(fs);
            if (ms >= 0)
                H5Sclose(ms);
        }
    }
    for (size_t v = 0; v < n_vals && r == 0; v++) {
        snprintf(p, sizeof p, "%s/%s", path, vals[v]);
        s->vals[v] = H5Dopen2(h->file, p, H5P_DEFAULT);
        s->n_vals = v + 1;
        hid_t sp = s->vals[v] < 0 ? H5I_INVALID_HID : H5Dget_space(s->vals[v]);
        int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
        r = (rank < 2 || rank > 3 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 ||
             dims[0] != s->len) ? -1 : 0;
        if (sp >= 0)
            H5Sclose(sp);
        if (r == 0) {
            s->rank = rank;
            s->inner[0] = dims[1];
            s->inner[1] = rank == 3 ? dims[2] : 0;
            s->width = rank == 3 ? dims[1] * dims[2] : dims[1];
        }
    }
    if (r < 0) {
        int rc = fail(h, err, SNN_EIO, 1, "cannot resume %s in the restored output", path);
        drop_last(h);
        return rc;
    }
    *hd = k;
    return SNN_OK;
}

/* Whether a resumed file already has `path`. */
static int resumed_has(snn_h5 *h, const char *path)
{
    return h->resumed && path_exists(h->file, path) > 0;
}

int snn_h5_spikes_open(snn_h5 *h, const char *pop, int *hd, snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    if (!hd || bad_name(pop))
        return fail(h, err, SNN_EINTERNAL, 0, "spikes: bad population name '%s' or no handle",
                    pop ? pop : "(null)");
    *hd = -1;
    char path[512];
    snprintf(path, sizeof path, "/spikes/%s", pop);
    if (resumed_has(h, path))
        return attach(h, ST_SPIKES, path, "timestamps", NULL, 0, hd, err);
    hid_t sg = open_or_create(h->file, "/spikes");
    static const uint32_t version[2] = {0, 1};
    const uint32_t magic = SONATA_MAGIC;
    if (sg < 0 || put_attr(sg, "magic", H5T_STD_U32LE, H5T_NATIVE_UINT32, 0, &magic) < 0 ||
        put_attr(sg, "version", H5T_STD_U32LE, H5T_NATIVE_UINT32, 2, version) < 0 ||
        put_units(sg, "ms") < 0) {
        if (sg >= 0)
            H5Oclose(sg);
        return fail(h, err, SNN_EIO, 1, "cannot create /spikes");
    }
    H5Oclose(sg);
    int k = new_stream(h, ST_SPIKES, path);
    if (k < 0)
        return fail(h, err, SNN_ENOMEM, 0, "out of memory opening %s", path);
    stream *s = &h->st[k];
    s->last_t = -INFINITY;
    hid_t g = H5Gcreate2(h->file, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t c = CHUNK;
    herr_t r = g < 0 ? -1 : put_attr_str(g, "sorting", "by_time");
    if (r >= 0) {
        s->t = create_growing(h, g, "timestamps", H5T_IEEE_F64LE, 1, NULL, &c);
        s->ids = create_growing(h, g, "node_ids", H5T_STD_U64LE, 1, NULL, &c);
        r = (s->t < 0 || s->ids < 0 || put_units(s->t, "ms") < 0) ? -1 : 0;
    }
    if (g >= 0)
        H5Gclose(g);
    if (r < 0) {
        rc = fail(h, err, SNN_EIO, 1, "cannot create %s", path);
        drop_last(h);
        return rc;
    }
    *hd = k;
    return SNN_OK;
}

/*
 * snn_h5_spikes_append: append n spikes (t_ms[i], ids[i]) to stream hd.
 *
 * The group promises sorting = "by_time", so times must not decrease within
 * and across calls (NaN is refused too); a violation is SNN_EINTERNAL and
 * fails the file.  Borrowed arrays; no allocation.
 */
int snn_h5_spikes_append(snn_h5 *h, int hd, const double *t_ms, const uint64_t *ids,
                         size_t n, snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    stream *s = get_stream(h, hd, ST_SPIKES);
    if (!s)
        return fail(h, err, SNN_EINTERNAL, 0, "bad spikes stream handle %d", hd);
    if (n == 0)
        return SNN_OK;
    if (!t_ms || !ids)
        return fail(h, err, SNN_EINTERNAL, 0, "%s: append of %zu spikes from NULL", s->name, n);
    /* The group says sorting = "by_time": keep that true (also rejects NaN). */
    for (size_t i = 0; i < n; i++) {
        if (!(t_ms[i] >= s->last_t))
            return fail(h, err, SNN_EINTERNAL, 0,
                        "%s: spike time %.17g ms (entry %llu) is before %.17g ms or not a "
                        "number; spikes must be appended in time order",
                        s->name, t_ms[i], (unsigned long long)(s->len + i), s->last_t);
        s->last_t = t_ms[i];
    }
    if (append_rows(s->t, H5T_NATIVE_DOUBLE, 1, NULL, s->len, n, t_ms) < 0 ||
        append_rows(s->ids, H5T_NATIVE_UINT64, 1, NULL, s->len, n, ids) < 0)
        return fail(h, err, SNN_EIO, 1, "cannot append %zu spikes to %s", n, s->name);
    s->len += n;
    return SNN_OK;
}

int snn_h5_state_open(snn_h5 *h, const char *pop, const uint64_t *node_ids, size_t n_nodes,
                      const char *const *vars, const char *const *units, size_t n_vars,
                      int *hd, snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    if (!hd || bad_name(pop) || (n_nodes && !node_ids) || (n_vars && !vars))
        return fail(h, err, SNN_EINTERNAL, 0, "state: bad population name '%s' or NULL input",
                    pop ? pop : "(null)");
    for (size_t v = 0; v < n_vars; v++)
        if (bad_name(vars[v]) || strcmp(vars[v], "times") == 0 ||
            strcmp(vars[v], "node_ids") == 0)
            return fail(h, err, SNN_EINTERNAL, 0, "state of %s: bad variable name '%s'", pop,
                        vars[v] ? vars[v] : "(null)");
    *hd = -1;
    char path[512];
    snprintf(path, sizeof path, "/state/%s", pop);
    if (resumed_has(h, path))
        return attach(h, ST_STATE, path, "times", vars, n_vars, hd, err);
    int k = new_stream(h, ST_STATE, path);
    stream *s = k < 0 ? NULL : &h->st[k];
    if (s && n_vars && !(s->vals = malloc(n_vars * sizeof *s->vals))) {
        drop_last(h);
        s = NULL;
    }
    if (!s)
        return fail(h, err, SNN_ENOMEM, 0, "out of memory opening %s", path);
    s->rank = 2;
    s->inner[0] = n_nodes;
    s->width = n_nodes;

    hid_t lcpl = lcpl_parents();
    hid_t g = lcpl < 0 ? lcpl : H5Gcreate2(h->file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    herr_t r = g < 0 ? -1 : 0;
    hsize_t tc = TIMES_CHUNK, c[2];
    chunk_2d(n_nodes, c);
    if (r == 0) {
        s->t = create_growing(h, g, "times", H5T_IEEE_F64LE, 1, NULL, &tc);
        r = (s->t < 0 || put_units(s->t, "ms") < 0) ? -1 : 0;
    }
    for (size_t v = 0; v < n_vars && r == 0; v++) {
        s->vals[v] = create_growing(h, g, vars[v], H5T_IEEE_F64LE, 2, s->inner, c);
        s->n_vals = v + 1;
        r = (s->vals[v] < 0 || put_units(s->vals[v], units ? units[v] : NULL) < 0) ? -1 : 0;
    }
    if (g >= 0)
        H5Gclose(g);
    if (r < 0) {
        rc = fail(h, err, SNN_EIO, 1, "cannot create %s", path);
        drop_last(h);
        return rc;
    }
    char ids_path[600];
    snprintf(ids_path, sizeof ids_path, "%s/node_ids", path);
    if ((rc = snn_h5_write_u64(h, ids_path, node_ids, n_nodes, err))) {
        drop_last(h);
        return rc;
    }
    *hd = k;
    return SNN_OK;
}

int snn_h5_state_append(snn_h5 *h, int hd, const double *times, size_t rows,
                        const double *const *vals, snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    stream *s = get_stream(h, hd, ST_STATE);
    if (!s)
        return fail(h, err, SNN_EINTERNAL, 0, "bad state stream handle %d", hd);
    if (rows == 0)
        return SNN_OK;
    if (!times || (s->n_vals && !vals))
        return fail(h, err, SNN_EINTERNAL, 0, "%s: append of %zu rows from NULL", s->name, rows);
    if (append_rows(s->t, H5T_NATIVE_DOUBLE, 1, NULL, s->len, rows, times) < 0)
        return fail(h, err, SNN_EIO, 1, "cannot append %zu samples to %s/times", rows, s->name);
    for (size_t v = 0; v < s->n_vals; v++) {
        if (!vals[v] && s->width)
            return fail(h, err, SNN_EINTERNAL, 0, "%s: NULL values for variable %zu", s->name, v);
        if (append_rows(s->vals[v], H5T_NATIVE_DOUBLE, 2, s->inner, s->len, rows, vals[v]) < 0)
            return fail(h, err, SNN_EIO, 1, "cannot append %zu samples of variable %zu to %s",
                        rows, v, s->name);
    }
    s->len += rows;
    return SNN_OK;
}

/*
 * snn_h5_weights_open: /weights/<proj> with attrs layout ("dense" or
 * "sparse"), n_pre and n_post besides the datasets of io/h5.h.
 *
 * Sparse synapses must be in the canonical order (by pre, then post; equal
 * pairs allowed) and inside n_pre x n_post, else SNN_EINTERNAL.  pre/post are
 * borrowed and written at once.
 */
int snn_h5_weights_open(snn_h5 *h, const char *proj, size_t n_pre, size_t n_post,
                        const uint64_t *pre, const uint64_t *post, size_t nnz,
                        const char *units, int *hd, snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    int dense = !pre && !post;
    if (!hd || bad_name(proj) || (!dense && nnz && (!pre || !post)))
        return fail(h, err, SNN_EINTERNAL, 0, "weights: bad projection name '%s' or NULL input",
                    proj ? proj : "(null)");
    if (dense && n_post && n_pre > SIZE_MAX / n_post)
        return fail(h, err, SNN_EINTERNAL, 0, "weights of %s: %zu x %zu overflows", proj, n_pre,
                    n_post);
    for (size_t i = 0; !dense && i < nnz; i++) {
        if (pre[i] >= n_pre || post[i] >= n_post)
            return fail(h, err, SNN_EINTERNAL, 0,
                        "weights of %s: synapse %zu (%llu -> %llu) is outside %zu x %zu", proj,
                        i, (unsigned long long)pre[i], (unsigned long long)post[i], n_pre,
                        n_post);
        if (i && (pre[i] < pre[i - 1] || (pre[i] == pre[i - 1] && post[i] < post[i - 1])))
            return fail(h, err, SNN_EINTERNAL, 0,
                        "weights of %s: synapse %zu (%llu -> %llu) breaks the canonical order "
                        "(by pre, then post)",
                        proj, i, (unsigned long long)pre[i], (unsigned long long)post[i]);
    }
    *hd = -1;
    char path[512];
    snprintf(path, sizeof path, "/weights/%s", proj);
    if (resumed_has(h, path)) {
        static const char *const values[] = {"values"};
        return attach(h, ST_WEIGHTS, path, "times", values, 1, hd, err);
    }
    int k = new_stream(h, ST_WEIGHTS, path);
    stream *s = k < 0 ? NULL : &h->st[k];
    if (s && !(s->vals = malloc(sizeof *s->vals))) {
        drop_last(h);
        s = NULL;
    }
    if (!s)
        return fail(h, err, SNN_ENOMEM, 0, "out of memory opening %s", path);
    s->vals[0] = H5I_INVALID_HID;
    s->n_vals = 1;
    hsize_t c[3];
    if (dense) {
        s->rank = 3;
        s->inner[0] = n_pre;
        s->inner[1] = n_post;
        s->width = n_pre * n_post;
        if (s->width && s->width <= CHUNK) { /* several whole snapshots per chunk */
            c[0] = CHUNK / s->width;
            c[1] = n_pre;
            c[2] = n_post;
        } else {
            c[0] = 1;
            c[2] = n_post == 0 ? 1 : n_post < CHUNK ? n_post : CHUNK;
            c[1] = CHUNK / c[2];
            c[1] = n_pre == 0 ? 1 : c[1] < n_pre ? c[1] : n_pre;
        }
    } else {
        s->rank = 2;
        s->inner[0] = nnz;
        s->width = nnz;
        chunk_2d(nnz, c);
    }

    hid_t lcpl = lcpl_parents();
    hid_t g = lcpl < 0 ? lcpl : H5Gcreate2(h->file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    uint64_t np = n_pre, nq = n_post;
    hsize_t tc = TIMES_CHUNK;
    herr_t r = (g < 0 || put_attr_str(g, "layout", dense ? "dense" : "sparse") < 0 ||
                put_attr(g, "n_pre", H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, &np) < 0 ||
                put_attr(g, "n_post", H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, &nq) < 0) ? -1 : 0;
    if (r == 0) {
        s->t = create_growing(h, g, "times", H5T_IEEE_F64LE, 1, NULL, &tc);
        s->vals[0] = create_growing(h, g, "values", H5T_IEEE_F64LE, s->rank, s->inner, c);
        r = (s->t < 0 || s->vals[0] < 0 || put_units(s->t, "ms") < 0 ||
             put_units(s->vals[0], units) < 0) ? -1 : 0;
    }
    if (g >= 0)
        H5Gclose(g);
    if (r < 0) {
        rc = fail(h, err, SNN_EIO, 1, "cannot create %s", path);
        drop_last(h);
        return rc;
    }
    if (!dense) {
        char p[600];
        snprintf(p, sizeof p, "%s/pre", path);
        if (!(rc = snn_h5_write_u64(h, p, pre, nnz, err))) {
            snprintf(p, sizeof p, "%s/post", path);
            rc = snn_h5_write_u64(h, p, post, nnz, err);
        }
        if (rc) {
            drop_last(h);
            return rc;
        }
    }
    *hd = k;
    return SNN_OK;
}

int snn_h5_weights_append(snn_h5 *h, int hd, double t_ms, const double *w, snn_err *err)
{
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    stream *s = get_stream(h, hd, ST_WEIGHTS);
    if (!s)
        return fail(h, err, SNN_EINTERNAL, 0, "bad weights stream handle %d", hd);
    if (!w && s->width)
        return fail(h, err, SNN_EINTERNAL, 0, "%s: snapshot from NULL", s->name);
    if (append_rows(s->t, H5T_NATIVE_DOUBLE, 1, NULL, s->len, 1, &t_ms) < 0 ||
        append_rows(s->vals[0], H5T_NATIVE_DOUBLE, s->rank, s->inner, s->len, 1, w) < 0)
        return fail(h, err, SNN_EIO, 1, "cannot append a snapshot to %s", s->name);
    s->len++;
    return SNN_OK;
}

/* ---- create and close -------------------------------------------------- */

/* File-access properties: close everything with the file, and tolerate file
   systems without locking (HDF5 >= 1.10.7 locks files by default). */
static hid_t make_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return fapl;
    if (H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        H5Pclose(fapl);
        return H5I_INVALID_HID;
    }
#if H5_VERSION_GE(1, 12, 1) || (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7)
    H5Pset_file_locking(fapl, 1, 1);
#endif
    return fapl;
}

/* The directory part of `path` ("." if none); malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

int snn_h5_create(snn_h5 **out, const char *path, int compression, snn_err *err)
{
    quiet();
    if (!out)
        SNN_FAIL(err, SNN_EINTERNAL, "snn_h5_create: NULL out");
    *out = NULL;
    if (!path || !path[0])
        SNN_FAIL(err, SNN_EIO, "HDF5 output: empty file name");
    if (compression < 0 || compression > 9)
        SNN_FAIL(err, SNN_ECFG, "%s: compression level %d is outside [0, 9]", path, compression);
    if (compression > 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0)
        SNN_FAIL(err, SNN_EIO, "%s: this HDF5 library has no deflate filter; use compression 0",
                 path);
    snn_h5 *h = calloc(1, sizeof *h);
    size_t n = strlen(path);
    if (!h || !(h->path = strdup(path)) || !(h->tmp = malloc(n + 5))) {
        if (h)
            free(h->path);
        free(h);
        SNN_FAIL(err, SNN_ENOMEM, "%s: out of memory", path);
    }
    memcpy(h->tmp, path, n);
    memcpy(h->tmp + n, ".tmp", 5);
    h->level = compression;
    hid_t fapl = make_fapl();
    h->file = fapl < 0 ? fapl : H5Fcreate(h->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (h->file < 0) {
        char why[256];
        h5_why(why);
        char *dir = dir_of(path);
        struct stat sb;
        int e = 0;
        if (dir && stat(dir, &sb) != 0)
            e = errno;
        else if (dir && !S_ISDIR(sb.st_mode))
            e = ENOTDIR;
        else if (dir && access(dir, W_OK | X_OK) != 0)
            e = errno;
        if (e)
            snn_err_set(err, SNN_EIO, "%s: cannot create %s: directory %s: %s", path, h->tmp,
                        dir, strerror(e));
        else
            snn_err_set(err, SNN_EIO, "%s: cannot create %s (HDF5: %s)", path, h->tmp,
                        why[0] ? why : "unknown error");
        free(dir);
        free(h->tmp);
        free(h->path);
        free(h);
        return SNN_EIO;
    }
    *out = h;
    return SNN_OK;
}

/* ---- checkpoints: the file so far, and taking it up again ---------------- */

int snn_h5_image(snn_h5 *h, unsigned char **buf, size_t *len, snn_err *err)
{
    *buf = NULL;
    *len = 0;
    int rc = check_usable(h, err);
    if (rc)
        return rc;
    if (H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0)
        return fail(h, err, SNN_EIO, 1, "flush of %s failed", h->tmp);
    FILE *f = fopen(h->tmp, "rb");
    if (!f)
        return fail(h, err, SNN_EIO, 0, "cannot read back %s: %s", h->tmp, strerror(errno));
    unsigned char *b = NULL;
    size_t n = 0;
    long sz = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (sz >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)sz + 1)))
        n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    if (sz < 0 || !b || n != (size_t)sz) {
        free(b);
        return fail(h, err, SNN_EIO, 0, "cannot read back %s", h->tmp);
    }
    *buf = b;
    *len = n;
    return SNN_OK;
}

int snn_h5_resume(snn_h5 **out, const char *path, int compression, const unsigned char *buf,
                  size_t len, snn_err *err)
{
    *out = NULL;
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    if (!tmp)
        SNN_FAIL(err, SNN_ENOMEM, "%s: out of memory", path);
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        SNN_FAIL(err, SNN_EIO, "%s.tmp: cannot restore the output of the checkpoint: %s", path,
                 strerror(e));
    }
    free(tmp);
    /* Create the handle as usual, then swap its fresh file for the restored one. */
    snn_h5 *h = calloc(1, sizeof *h);
    if (!h || !(h->path = strdup(path)) || !(h->tmp = malloc(n + 5))) {
        if (h)
            free(h->path);
        free(h);
        SNN_FAIL(err, SNN_ENOMEM, "%s: out of memory", path);
    }
    memcpy(h->tmp, path, n);
    memcpy(h->tmp + n, ".tmp", 5);
    h->level = compression;
    quiet();
    hid_t fapl = make_fapl();
    h->file = fapl < 0 ? fapl : H5Fopen(h->tmp, H5F_ACC_RDWR, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (h->file < 0) {
        char why[256];
        h5_why(why);
        unlink(h->tmp);
        snn_err_set(err, SNN_EIO, "%s: the checkpoint's copy of the output cannot be opened: %s",
                    h->tmp, why);
        free(h->tmp);
        free(h->path);
        free(h);
        return SNN_EIO;
    }
    h->resumed = 1;
    *out = h;
    return SNN_OK;
}

/* fsync the file or directory at `path`; 0 or an errno value. */
static int sync_path(const char *path, int is_dir)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return errno;
    int e = 0;
    if (fsync(fd) != 0) {
        e = errno;
        /* Some file systems cannot fsync a directory; that is not a failure. */
        if (is_dir && (e == EINVAL || e == ENOTSUP || e == EBADF))
            e = 0;
    }
    if (close(fd) != 0 && !e)
        e = errno;
    return e;
}

/*
 * snn_h5_close: see io/h5.h.  commit = 0 is a deliberate abort and returns
 * SNN_OK (the caller already holds the error that made it abort).  If the
 * directory fsync after the rename fails, the renamed file is removed again,
 * so a failed close never leaves a file under the final name.
 */
int snn_h5_close(snn_h5 *h, int commit, snn_err *err)
{
    if (!h)
        return SNN_OK;
    int rc = SNN_OK;
    if (commit && h->failed) {
        rc = snn_err_set(err, h->first_code, "%s: not saved after an earlier error: %s",
                         h->path, h->first_msg);
        commit = 0;
    }
    if (commit && H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0) {
        rc = fail(h, err, SNN_EIO, 1, "flush of %s failed", h->tmp);
        commit = 0;
    }
    for (size_t i = 0; i < h->n_st; i++)
        if (close_stream(&h->st[i]) < 0 && commit) {
            rc = fail(h, err, SNN_EIO, 1, "cannot close %s", h->st[i].name);
            commit = 0;
        }
    free(h->st);
    h->st = NULL;
    h->n_st = 0;
    if (H5Fclose(h->file) < 0 && commit) {
        rc = fail(h, err, SNN_EIO, 1, "cannot close %s", h->tmp);
        commit = 0;
    }
    h->file = H5I_INVALID_HID;
    int e;
    if (commit && (e = sync_path(h->tmp, 0))) {
        rc = fail(h, err, SNN_EIO, 0, "fsync of %s failed: %s", h->tmp, strerror(e));
        commit = 0;
    }
    if (commit && rename(h->tmp, h->path) != 0) {
        e = errno;
        rc = fail(h, err, SNN_EIO, 0, "cannot rename %s to %s: %s", h->tmp, h->path,
                  strerror(e));
        commit = 0;
    }
    if (!commit) {
        if (unlink(h->tmp) != 0 && errno != ENOENT && !rc) {
            e = errno;
            rc = fail(h, err, SNN_EIO, 0, "cannot remove %s: %s", h->tmp, strerror(e));
        }
    } else {
        char *dir = dir_of(h->path);
        e = dir ? sync_path(dir, 1) : ENOMEM;
        if (e) {
            /* Durability of the rename is unknown: keep the promise that a
               failed close leaves nothing under the final name. */
            unlink(h->path);
            rc = fail(h, err, SNN_EIO, 0, "fsync of directory %s failed: %s", dir ? dir : "?",
                      strerror(e));
        }
        free(dir);
    }
    free(h->tmp);
    free(h->path);
    free(h);
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

/* Open `path` read-only with clear messages for a missing or non-HDF5 file. */
static int open_ro(const char *path, hid_t *f, snn_err *err)
{
    quiet();
    *f = H5I_INVALID_HID;
    if (!path || !path[0])
        SNN_FAIL(err, SNN_EIO, "HDF5 input: empty file name");
    struct stat sb;
    if (stat(path, &sb) != 0)
        SNN_FAIL(err, SNN_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        SNN_FAIL(err, SNN_EIO, "%s: is a directory, not an HDF5 file", path);
    char why[256];
    htri_t is = H5Fis_hdf5(path);
    if (is == 0)
        SNN_FAIL(err, SNN_EIO, "%s: not an HDF5 file", path);
    if (is < 0) {
        h5_why(why);
        SNN_FAIL(err, SNN_EIO, "%s: cannot read (HDF5: %s)", path, why[0] ? why : "unknown");
    }
    hid_t fapl = make_fapl();
    *f = fapl < 0 ? fapl : H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (*f < 0) {
        h5_why(why);
        SNN_FAIL(err, SNN_EIO, "%s: cannot open (HDF5: %s)", path, why[0] ? why : "unknown");
    }
    return SNN_OK;
}

/* Read whole 1-D dataset `dset` of `path` into a malloc'd array of `esize`
   byte elements converted to `mtype`.  Integer datasets always convert;
   floating-point ones only when !want_int. */
static int read_1d(const char *path, const char *dset, hid_t mtype, size_t esize, int want_int,
                   void **v, size_t *n, snn_err *err)
{
    if (!v || !n)
        SNN_FAIL(err, SNN_EINTERNAL, "%s: read of %s into NULL", path ? path : "?",
                 dset ? dset : "?");
    *v = NULL;
    *n = 0;
    hid_t f;
    int rc = open_ro(path, &f, err);
    if (rc)
        return rc;
    char why[256];
    hid_t d = H5I_INVALID_HID, sp = H5I_INVALID_HID, ty = H5I_INVALID_HID;
    if (!dset || path_exists(f, dset) != 1 || (d = H5Dopen2(f, dset, H5P_DEFAULT)) < 0) {
        h5_why(why);
        rc = snn_err_set(err, SNN_EIO, "%s: no dataset %s", path, dset ? dset : "(null)");
        goto out;
    }
    sp = H5Dget_space(d);
    ty = H5Dget_type(d);
    H5T_class_t cls = ty < 0 ? H5T_NO_CLASS : H5Tget_class(ty);
    if (cls != H5T_INTEGER && (want_int || cls != H5T_FLOAT)) {
        rc = snn_err_set(err, SNN_EIO, "%s: %s is not %s", path, dset,
                         want_int ? "an integer dataset" : "a numeric dataset");
        goto out;
    }
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    hsize_t dim = 0;
    if (rank != 1 || H5Sget_simple_extent_dims(sp, &dim, NULL) < 0) {
        rc = snn_err_set(err, SNN_EIO, "%s: %s is not one-dimensional", path, dset);
        goto out;
    }
    if (dim > SIZE_MAX / esize || !(*v = malloc(dim ? dim * esize : 1))) {
        rc = snn_err_set(err, SNN_ENOMEM, "%s: out of memory reading %s (%llu values)", path,
                         dset, (unsigned long long)dim);
        goto out;
    }
    if (dim && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *v) < 0) {
        h5_why(why);
        free(*v);
        *v = NULL;
        rc = snn_err_set(err, SNN_EIO, "%s: cannot read %s (HDF5: %s)", path, dset, why);
        goto out;
    }
    *n = (size_t)dim;
out:
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    H5Fclose(f);
    return rc;
}

int snn_h5_read_f64(const char *path, const char *dset, double **v, size_t *n, snn_err *err)
{
    return read_1d(path, dset, H5T_NATIVE_DOUBLE, sizeof **v, 0, (void **)v, n, err);
}

int snn_h5_read_u64(const char *path, const char *dset, uint64_t **v, size_t *n, snn_err *err)
{
    return read_1d(path, dset, H5T_NATIVE_UINT64, sizeof **v, 1, (void **)v, n, err);
}

/* ---- snn_h5_info ------------------------------------------------------- */

/* Read a scalar string attribute or dataset (`is_attr`) into malloc'd text. */
static char *read_string(hid_t obj, int is_attr)
{
    hid_t ty = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    if (ty < 0)
        return NULL;
    char *s = NULL;
    if (H5Tget_class(ty) == H5T_STRING) {
        htri_t vl = H5Tis_variable_str(ty);
        hid_t mt = H5Tcopy(ty);
        if (vl > 0) {
            char *p = NULL;
            herr_t r = is_attr ? H5Aread(obj, mt, &p)
                               : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p);
            if (r >= 0 && p)
                s = strdup(p);
            if (p)
                H5free_memory(p);
        } else if (vl == 0) {
            size_t n = H5Tget_size(ty);
            s = calloc(n + 1, 1);
            herr_t r = !s ? -1 : is_attr ? H5Aread(obj, mt, s)
                                         : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, s);
            if (r < 0) {
                free(s);
                s = NULL;
            }
            for (size_t i = n; s && i > 0 && s[i - 1] == ' '; i--) /* space padding */
                s[i - 1] = '\0';
        }
        H5Tclose(mt);
    }
    H5Tclose(ty);
    return s;
}

/* Format attribute `name` of `obj` into buf: strings, integers, floats and
   enums, scalars or short 1-D arrays.  Returns 1 if present and readable. */
static int fmt_attr(hid_t obj, const char *name, char *buf, size_t len)
{
    buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0)
        return 0;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return 0;
    hid_t ty = H5Aget_type(a), sp = H5Aget_space(a);
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    H5T_class_t cls = ty < 0 ? H5T_NO_CLASS : H5Tget_class(ty);
    int ok = 0;
    if (cls == H5T_STRING && np == 1) {
        char *s = read_string(a, 1);
        if (s) {
            snprintf(buf, len, "%s", s);
            free(s);
            ok = 1;
        }
    } else if ((cls == H5T_INTEGER || cls == H5T_FLOAT || cls == H5T_ENUM) && np >= 1 &&
               np <= 16) {
        double dv[16];
        long long iv[16];
        unsigned long long uv[16];
        int sgn = cls == H5T_INTEGER && H5Tget_sign(ty) == H5T_SGN_2;
        herr_t r;
        if (cls == H5T_ENUM) {
            hid_t mt = H5Tget_native_type(ty, H5T_DIR_ASCEND);
            size_t es = H5Tget_size(mt);
            unsigned char raw[16 * 16];
            r = (mt < 0 || es > 16) ? -1 : H5Aread(a, mt, raw);
            size_t off = 0;
            for (hssize_t i = 0; r >= 0 && i < np; i++) {
                char nm[64];
                if (H5Tenum_nameof(mt, raw + (size_t)i * es, nm, sizeof nm) < 0)
                    snprintf(nm, sizeof nm, "?");
                off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
                                        i ? ", " : "", nm);
            }
            if (mt >= 0)
                H5Tclose(mt);
        } else if (cls == H5T_FLOAT) {
            r = H5Aread(a, H5T_NATIVE_DOUBLE, dv);
        } else if (sgn) {
            r = H5Aread(a, H5T_NATIVE_LLONG, iv);
        } else {
            r = H5Aread(a, H5T_NATIVE_ULLONG, uv);
        }
        if (r >= 0 && cls != H5T_ENUM) {
            size_t off = 0;
            if (np > 1)
                off += (size_t)snprintf(buf, len, "[");
            for (hssize_t i = 0; i < np; i++) {
                const char *sep = i ? ", " : "";
                size_t room = off < len ? len - off : 0;
                if (cls == H5T_FLOAT)
                    off += (size_t)snprintf(buf + off, room, "%s%.10g", sep, dv[i]);
                else if (sgn)
                    off += (size_t)snprintf(buf + off, room, "%s%lld", sep, iv[i]);
                else
                    off += (size_t)snprintf(buf + off, room, "%s%llu", sep, uv[i]);
            }
            if (np > 1)
                snprintf(buf + off, off < len ? len - off : 0, "]");
        }
        ok = r >= 0;
    }
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return ok;
}

typedef struct names {
    char **v;
    size_t n;
} names;

/* Names of the links in group `path`, in name order (empty if no group or
   out of memory); the listing is io/analyze_h5.c's. */
static names list_group(hid_t f, const char *path)
{
    names ns = {NULL, 0};
    snn_err e;
    if (snn_an_list(f, path, &ns.v, &ns.n, &e) != SNN_OK)
        ns.n = 0;
    return ns;
}

static void free_names(names *ns)
{
    snn_an_names_free(ns->v, ns->n);
    ns->v = NULL;
    ns->n = 0;
}

/* Kind of the object at loc/name: H5I_GROUP, H5I_DATASET, ..., or
   H5I_BADID when it is missing (every link on the way is checked). */
static H5I_type_t obj_type(hid_t loc, const char *name)
{
    H5I_type_t t = H5I_BADID;
    if (path_exists(loc, name) == 1) {
        hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
        if (o >= 0) {
            t = H5Iget_type(o);
            H5Oclose(o);
        }
    }
    H5Eclear2(H5E_DEFAULT);
    return t;
}

/* Dims of dataset loc/name; returns its rank or -1. */
static int dset_dims(hid_t loc, const char *name, hsize_t dims[3])
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) {
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    hid_t sp = H5Dget_space(d);
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    if (rank > 3 || (rank >= 0 && H5Sget_simple_extent_dims(sp, dims, NULL) < 0))
        rank = -1;
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return rank;
}

/* Read `cnt` elements from offset `off` of 1-D dataset d. */
static herr_t read_block(hid_t d, hid_t mtype, hsize_t off, hsize_t cnt, void *buf)
{
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    herr_t r = (fs < 0 || ms < 0 ||
                H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL) < 0 ||
                H5Dread(d, mtype, ms, fs, H5P_DEFAULT, buf) < 0) ? -1 : 0;
    if (fs >= 0)
        H5Sclose(fs);
    if (ms >= 0)
        H5Sclose(ms);
    return r;
}

/* Summarise one spike population group `g` (label `pop`): counts, rates over
   `dur_ms` (<= 0: from the spike time span), spread across neurons.  `size`
   is the population size (0 if unknown: then max node_id + 1). */
static int spike_summary(const char *path, FILE *out, hid_t g, const char *pop,
                         const char *ids_name, double dur_ms, uint64_t size, snn_err *err)
{
    hsize_t nt[3], ni[3];
    if (dset_dims(g, "timestamps", nt) != 1 || dset_dims(g, ids_name, ni) != 1) {
        fprintf(out, "  %s: timestamps/%s are not two 1-D datasets; skipped\n", pop, ids_name);
        return SNN_OK;
    }
    if (nt[0] != ni[0]) {
        fprintf(out, "  %s: %llu timestamps but %llu %s; skipped\n", pop,
                (unsigned long long)nt[0], (unsigned long long)ni[0], ids_name);
        return SNN_OK;
    }
    hsize_t n = nt[0];
    hid_t dt = H5Dopen2(g, "timestamps", H5P_DEFAULT);
    hid_t di = H5Dopen2(g, ids_name, H5P_DEFAULT);
    double scale = 1.0; /* to ms */
    char units[64] = "ms";
    if (dt >= 0 && fmt_attr(dt, "units", units, sizeof units) && strcmp(units, "s") == 0)
        scale = 1000.0;
    size_t blk = n < READ_BLOCK ? (size_t)n : READ_BLOCK;
    double *tb = malloc((blk ? blk : 1) * sizeof *tb);
    uint64_t *ib = malloc((blk ? blk : 1) * sizeof *ib);
    uint64_t *count = NULL;
    int rc = SNN_OK;
    char why[256];
    if (dt < 0 || di < 0) {
        rc = snn_err_set(err, SNN_EIO, "%s: cannot open spikes of %s (HDF5: %s)", path, pop,
                         h5_why(why));
        goto out;
    }
    if (!tb || !ib) {
        rc = snn_err_set(err, SNN_ENOMEM, "%s: out of memory summarising %s", path, pop);
        goto out;
    }
    /* Pass 1: time range and largest id. */
    double tmin = INFINITY, tmax = -INFINITY;
    uint64_t idmax = 0;
    for (hsize_t off = 0; off < n; off += blk) {
        hsize_t c = n - off < blk ? n - off : blk;
        if (read_block(dt, H5T_NATIVE_DOUBLE, off, c, tb) < 0 ||
            read_block(di, H5T_NATIVE_UINT64, off, c, ib) < 0) {
            rc = snn_err_set(err, SNN_EIO, "%s: cannot read spikes of %s (HDF5: %s)", path, pop,
                             h5_why(why));
            goto out;
        }
        for (hsize_t i = 0; i < c; i++) {
            double t = tb[i] * scale;
            tmin = t < tmin ? t : tmin;
            tmax = t > tmax ? t : tmax;
            idmax = ib[i] > idmax ? ib[i] : idmax;
        }
    }
    const char *size_from = "/populations";
    uint64_t nn = size;
    if (n && (size == 0 || idmax >= size)) {
        size_from = size ? "max node_id + 1, beyond the stated size" : "max node_id + 1";
        nn = idmax + 1;
    }
    if (n == 0) {
        fprintf(out, "  %s: 0 spikes", pop);
        if (size)
            fprintf(out, ", %llu neurons, all silent", (unsigned long long)size);
        fprintf(out, "\n");
        goto out;
    }
    if (nn > SIZE_MAX / sizeof *count || !(count = calloc((size_t)nn, sizeof *count))) {
        rc = snn_err_set(err, SNN_ENOMEM, "%s: out of memory counting spikes of %llu neurons",
                         path, (unsigned long long)nn);
        goto out;
    }
    /* Pass 2: spikes per neuron. */
    for (hsize_t off = 0; off < n; off += blk) {
        hsize_t c = n - off < blk ? n - off : blk;
        if (read_block(di, H5T_NATIVE_UINT64, off, c, ib) < 0) {
            rc = snn_err_set(err, SNN_EIO, "%s: cannot read spikes of %s (HDF5: %s)", path, pop,
                             h5_why(why));
            goto out;
        }
        for (hsize_t i = 0; i < c; i++)
            count[ib[i]]++;
    }
    uint64_t silent = 0, cmin = UINT64_MAX, cmax = 0;
    for (uint64_t i = 0; i < nn; i++) {
        silent += count[i] == 0;
        cmin = count[i] < cmin ? count[i] : cmin;
        cmax = count[i] > cmax ? count[i] : cmax;
    }
    const char *dur_from = "run duration";
    if (!(dur_ms > 0)) {
        dur_ms = tmax - tmin;
        dur_from = "spike time span";
    }
    fprintf(out, "  %s: %llu spikes, %llu neurons (size from %s), %llu silent\n", pop,
            (unsigned long long)n, (unsigned long long)nn, size_from, (unsigned long long)silent);
    fprintf(out, "    spike times %.6g .. %.6g ms\n", tmin, tmax);
    if (dur_ms > 0) {
        double dur_s = dur_ms / 1000.0;
        double mean = (double)n / ((double)nn * dur_s), ss = 0.0;
        for (uint64_t i = 0; i < nn; i++) {
            double dr = (double)count[i] / dur_s - mean;
            ss += dr * dr;
        }
        fprintf(out,
                "    mean rate %.4g Hz over %.6g ms (%s); across neurons sd %.4g Hz, "
                "min %.4g Hz, max %.4g Hz\n",
                mean, dur_ms, dur_from, sqrt(ss / (double)nn), (double)cmin / dur_s,
                (double)cmax / dur_s);
    } else {
        fprintf(out, "    rates n/a (zero duration)\n");
    }
out:
    free(count);
    free(tb);
    free(ib);
    if (dt >= 0)
        H5Dclose(dt);
    if (di >= 0)
        H5Dclose(di);
    return rc;
}

static void print_config(FILE *out, hid_t f)
{
    if (obj_type(f, "/config") != H5I_DATASET)
        return;
    hid_t d = H5Dopen2(f, "/config", H5P_DEFAULT);
    char *s = d < 0 ? NULL : read_string(d, 0);
    if (d >= 0)
        H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    if (!s)
        return;
    fprintf(out, "config:\n");
    for (char *line = s, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl) {
            fprintf(out, "  %s\n", line);
            break;
        }
        fprintf(out, "  %.*s\n", (int)(nl - line), line);
    }
    free(s);
}

/*
 * snn_h5_info: see io/h5.h.  Sections appear only when present: run
 * attributes, /populations, /spikes (SONATA populations, or the older
 * /spikes/{timestamps, gids} layout), /state, /weights, /config.
 *
 * Rates: per neuron count / duration, where the duration is the root
 * attribute duration_ms, else the span of the spike times; "sd" is the
 * population standard deviation over all neurons, silent ones included.
 * The neuron count is /populations/<pop> attr size, else max node_id + 1.
 * Timestamps with units "s" are converted to ms.  Spike trains are read in
 * blocks; memory is one counter per neuron.
 */
int snn_h5_info(const char *path, FILE *out, snn_err *err)
{
    if (!out)
        SNN_FAIL(err, SNN_EINTERNAL, "snn_h5_info: NULL output stream");
    hid_t f;
    int rc = open_ro(path, &f, err);
    if (rc)
        return rc;
    char buf[1024];
    fprintf(out, "file: %s\n", path);

    static const char *const run_keys[] = {"snn_version", "source",      "seed",
                                           "threads",     "start_time",  "end_time",
                                           "dt_ms",       "duration_ms", "wall_s"};
    hid_t root = H5Oopen(f, "/", H5P_DEFAULT);
    int any = 0;
    double dur_ms = 0.0;
    for (size_t i = 0; root >= 0 && i < sizeof run_keys / sizeof run_keys[0]; i++) {
        if (!fmt_attr(root, run_keys[i], buf, sizeof buf))
            continue;
        if (!any++)
            fprintf(out, "run:\n");
        fprintf(out, "  %-12s %s\n", run_keys[i], buf);
    }
    if (root >= 0) {
        snn_an_attr_num_at(root, "duration_ms", &dur_ms);
        H5Oclose(root);
    }

    names pops = list_group(f, "/populations");
    if (pops.n)
        fprintf(out, "populations:\n");
    for (size_t i = 0; i < pops.n; i++) {
        char p[600];
        snprintf(p, sizeof p, "/populations/%s", pops.v[i]);
        hid_t o = H5Oopen(f, p, H5P_DEFAULT);
        fprintf(out, "  %s:", pops.v[i]);
        if (o >= 0 && fmt_attr(o, "model", buf, sizeof buf))
            fprintf(out, " model %s", buf);
        if (o >= 0 && fmt_attr(o, "size", buf, sizeof buf))
            fprintf(out, ", size %s", buf);
        fprintf(out, "\n");
        if (o >= 0)
            H5Oclose(o);
        H5Eclear2(H5E_DEFAULT);
    }
    free_names(&pops);

    names sp = list_group(f, "/spikes");
    int header = 0;
    hid_t sg = sp.n ? H5Gopen2(f, "/spikes", H5P_DEFAULT) : H5I_INVALID_HID;
    /* Older SONATA files: /spikes/{timestamps, gids or node_ids}, no population. */
    if (sg >= 0 && obj_type(sg, "timestamps") == H5I_DATASET) {
        const char *ids = obj_type(sg, "node_ids") == H5I_DATASET ? "node_ids" : "gids";
        fprintf(out, "spikes:\n");
        header = 1;
        rc = spike_summary(path, out, sg, "(no population)", ids, dur_ms, 0, err);
    }
    for (size_t i = 0; sg >= 0 && !rc && i < sp.n; i++) {
        if (obj_type(sg, sp.v[i]) != H5I_GROUP)
            continue;
        if (!header++)
            fprintf(out, "spikes:\n");
        hid_t g = H5Gopen2(sg, sp.v[i], H5P_DEFAULT);
        double size = 0;
        char p[600];
        snprintf(p, sizeof p, "/populations/%s", sp.v[i]);
        if (obj_type(f, p) != H5I_BADID) {
            hid_t o = H5Oopen(f, p, H5P_DEFAULT);
            if (o >= 0) {
                if (!snn_an_attr_num_at(o, "size", &size) || !(size >= 1 && size < 0x1p53))
                    size = 0;
                H5Oclose(o);
            }
        }
        if (g >= 0) {
            rc = spike_summary(path, out, g, sp.v[i], "node_ids", dur_ms, (uint64_t)size, err);
            H5Gclose(g);
        }
    }
    if (sg >= 0)
        H5Gclose(sg);
    free_names(&sp);

    names st = list_group(f, "/state");
    if (!rc && st.n)
        fprintf(out, "state:\n");
    for (size_t i = 0; !rc && i < st.n; i++) {
        char p[600];
        snprintf(p, sizeof p, "/state/%s", st.v[i]);
        hsize_t dt[3] = {0}, dn[3] = {0};
        snprintf(buf, sizeof buf, "%s/times", p);
        dset_dims(f, buf, dt);
        snprintf(buf, sizeof buf, "%s/node_ids", p);
        dset_dims(f, buf, dn);
        names vars = list_group(f, p);
        fprintf(out, "  %s: %llu samples x %llu neurons:", st.v[i], (unsigned long long)dt[0],
                (unsigned long long)dn[0]);
        for (size_t v = 0; v < vars.n; v++)
            if (strcmp(vars.v[v], "times") && strcmp(vars.v[v], "node_ids"))
                fprintf(out, " %s", vars.v[v]);
        fprintf(out, "\n");
        free_names(&vars);
    }
    free_names(&st);

    names wt = list_group(f, "/weights");
    if (!rc && wt.n)
        fprintf(out, "weights:\n");
    for (size_t i = 0; !rc && i < wt.n; i++) {
        char p[600];
        snprintf(p, sizeof p, "/weights/%s/values", wt.v[i]);
        hsize_t d[3] = {0};
        int rank = dset_dims(f, p, d);
        if (rank == 3)
            fprintf(out, "  %s: dense %llu x %llu, %llu snapshots\n", wt.v[i],
                    (unsigned long long)d[1], (unsigned long long)d[2],
                    (unsigned long long)d[0]);
        else if (rank == 2)
            fprintf(out, "  %s: sparse, %llu synapses, %llu snapshots\n", wt.v[i],
                    (unsigned long long)d[1], (unsigned long long)d[0]);
        else
            fprintf(out, "  %s: (no values)\n", wt.v[i]);
    }
    free_names(&wt);

    if (!rc)
        print_config(out, f);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

/* ---- added for rules/readout.c ------------------------------------------ */

int snn_h5_write_u64_2d(snn_h5 *h, const char *path, const uint64_t *v, size_t rows,
                        size_t cols, snn_err *err)
{
    if (cols == 0)
        return fail(h, err, SNN_EINTERNAL, 0, "dataset %s: a 2-D dataset needs columns", path);
    return write_nd(h, path, H5T_STD_U64LE, H5T_NATIVE_UINT64, v, rows, cols, NULL, err);
}

int snn_h5_write_f64_3d(snn_h5 *h, const char *path, const double *v, size_t d0, size_t d1,
                        size_t d2, const char *units, snn_err *err)
{
    if (d1 == 0 || d2 == 0)
        return fail(h, err, SNN_EINTERNAL, 0, "dataset %s: an empty inner dimension",
                    path ? path : "?");
    hsize_t dims[3] = {d0, d1, d2}, c[3] = {1, d1, d2}; /* one snapshot per chunk */
    return write_dset(h, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, 3, dims, c, units, err);
}
