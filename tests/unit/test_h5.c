/*
 * tests/unit/test_h5.c: io/h5.c, the HDF5 result file.
 *
 * Every writer is read back through the HDF5 C API and checked value by
 * value, with dtype, shape, chunking, compression and attributes.  Failure
 * paths: an aborted or failed write leaves neither "<path>.tmp" nor <path>,
 * an older <path> is untouched until a successful commit replaces it, and
 * HDF5 never prints.  snn_h5_info is checked against rates computed by hand.
 *
 * `test_h5 --write PATH` writes the small known file that
 * tests/integ/test_h5py.sh checks with h5py (see write_known below; the
 * expected values are repeated in tests/integ/h5_check.py).
 *
 * Files go to a fresh directory under the working directory, removed at the
 * end.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/h5.h"
#include "tests/support.h"

static char dir[256];

/* A path inside the test directory (static buffer: use before the next call
   with the same slot). */
static const char *in_dir(int slot, const char *name)
{
    static char buf[4][512];
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", dir, name);
    return buf[slot];
}

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static int rm_rf(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return 0;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            rm_rf(p);
        }
        if (d)
            closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "./test_h5.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    return rm_rf(dir);
}

/* Assert that `call` succeeds; the call names the local snn_err `&e_`. */
#define OK(call)                                                                      \
    do {                                                                              \
        snn_err e_;                                                                   \
        snn_err_clear(&e_);                                                           \
        int rc_ = (call);                                                             \
        if (rc_ != SNN_OK)                                                            \
            fail_msg("%s failed: %d %s", #call, rc_, e_.msg);                         \
    } while (0)

/* ---- HDF5 read-back helpers ----------------------------------------------- */

static hid_t open_file(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        fail_msg("cannot open %s", path);
    return f;
}

/* Open dataset `name`, check its file type and shape. */
static hid_t open_dset(hid_t f, const char *name, hid_t ftype, int rank, const hsize_t *dims)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        fail_msg("no dataset %s", name);
    hid_t ty = H5Dget_type(d), sp = H5Dget_space(d);
    if (H5Tequal(ty, ftype) <= 0)
        fail_msg("%s: unexpected dtype", name);
    hsize_t got[3] = {0, 0, 0};
    int r = H5Sget_simple_extent_ndims(sp);
    if (r != rank)
        fail_msg("%s: rank %d, expected %d", name, r, rank);
    H5Sget_simple_extent_dims(sp, got, NULL);
    for (int i = 0; i < rank; i++)
        if (got[i] != dims[i])
            fail_msg("%s: dim %d is %llu, expected %llu", name, i, (unsigned long long)got[i],
                     (unsigned long long)dims[i]);
    H5Tclose(ty);
    H5Sclose(sp);
    return d;
}

static size_t count_of(int rank, const hsize_t *dims)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

/* Check a float64 dataset equals expect[] exactly (bitwise-equal doubles). */
static void check_f64(hid_t f, const char *name, int rank, const hsize_t *dims,
                      const double *expect)
{
    hid_t d = open_dset(f, name, H5T_IEEE_F64LE, rank, dims);
    size_t n = count_of(rank, dims);
    double *v = malloc((n ? n : 1) * sizeof *v);
    assert_non_null(v);
    if (n)
        assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    for (size_t i = 0; i < n; i++)
        if (v[i] != expect[i])
            fail_msg("%s[%zu] = %.17g, expected %.17g", name, i, v[i], expect[i]);
    free(v);
    H5Dclose(d);
}

static void check_u64(hid_t f, const char *name, size_t n, const uint64_t *expect)
{
    hsize_t dim = n;
    hid_t d = open_dset(f, name, H5T_STD_U64LE, 1, &dim);
    uint64_t *v = malloc((n ? n : 1) * sizeof *v);
    assert_non_null(v);
    if (n)
        assert_true(H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    for (size_t i = 0; i < n; i++)
        if (v[i] != expect[i])
            fail_msg("%s[%zu] = %llu, expected %llu", name, i, (unsigned long long)v[i],
                     (unsigned long long)expect[i]);
    free(v);
    H5Dclose(d);
}

/* Growing dataset: chunked with `chunk` dims, unlimited first dimension,
   shuffle + deflate exactly when level > 0. */
static void check_growing(hid_t f, const char *name, int rank, const hsize_t *chunk,
                          int level)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d), dcpl = H5Dget_create_plist(d);
    hsize_t maxd[3], c[3];
    H5Sget_simple_extent_dims(sp, NULL, maxd);
    if (maxd[0] != H5S_UNLIMITED)
        fail_msg("%s: first dimension is not unlimited", name);
    assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
    assert_int_equal(H5Pget_chunk(dcpl, 3, c), rank);
    for (int i = 0; i < rank; i++)
        if (c[i] != chunk[i])
            fail_msg("%s: chunk dim %d is %llu, expected %llu", name, i,
                     (unsigned long long)c[i], (unsigned long long)chunk[i]);
    unsigned flags, cd[4];
    size_t ncd = 4;
    int has_deflate = H5Pget_filter_by_id2(dcpl, H5Z_FILTER_DEFLATE, &flags, &ncd, cd, 0, NULL,
                                           NULL) >= 0;
    H5Eclear2(H5E_DEFAULT);
    if (level > 0) {
        if (!has_deflate)
            fail_msg("%s: no deflate filter", name);
        assert_int_equal(cd[0], (unsigned)level);
    } else {
        assert_int_equal(H5Pget_nfilters(dcpl), 0);
    }
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Dclose(d);
}

/* Scalar variable-length UTF-8 string attribute; returns a malloc'd copy. */
static char *get_attr_str(hid_t f, const char *obj, const char *name)
{
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        fail_msg("no attribute %s on %s", name, obj);
    hid_t ty = H5Aget_type(a);
    assert_int_equal(H5Tget_class(ty), H5T_STRING);
    assert_true(H5Tis_variable_str(ty) > 0);
    assert_int_equal(H5Tget_cset(ty), H5T_CSET_UTF8);
    char *p = NULL;
    assert_true(H5Aread(a, ty, &p) >= 0);
    char *s = strdup(p);
    H5free_memory(p);
    H5Tclose(ty);
    H5Aclose(a);
    return s;
}

static void check_attr_str(hid_t f, const char *obj, const char *name, const char *expect)
{
    char *s = get_attr_str(f, obj, name);
    if (strcmp(s, expect) != 0)
        fail_msg("%s@%s = '%s', expected '%s'", obj, name, s, expect);
    free(s);
}

static void check_attr_u64(hid_t f, const char *obj, const char *name, uint64_t expect)
{
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        fail_msg("no attribute %s on %s", name, obj);
    hid_t ty = H5Aget_type(a);
    assert_true(H5Tequal(ty, H5T_STD_U64LE) > 0);
    uint64_t v = 0;
    assert_true(H5Aread(a, H5T_NATIVE_UINT64, &v) >= 0);
    assert_int_equal(v, expect);
    H5Tclose(ty);
    H5Aclose(a);
}

static void check_attr_double(hid_t f, const char *obj, const char *name, double expect)
{
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        fail_msg("no attribute %s on %s", name, obj);
    hid_t ty = H5Aget_type(a);
    assert_true(H5Tequal(ty, H5T_IEEE_F64LE) > 0);
    double v = 0;
    assert_true(H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
    snn_assert_close(v, expect, 0, 0);
    H5Tclose(ty);
    H5Aclose(a);
}

/* Run `snn_h5_info` and return its output (malloc'd). */
static char *info_text(const char *path, int expect_rc, snn_err *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    snn_err_clear(e);
    int rc = snn_h5_info(path, m, e);
    fclose(m);
    if (rc != expect_rc)
        fail_msg("snn_h5_info(%s) = %d (%s), expected %d; output:\n%s", path, rc, e->msg,
                 expect_rc, buf);
    return buf;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("expected \"%s\" in:\n%s", part, text);
}

/* ---- the known file (also checked by h5py) -------------------------------- */

static const char known_config[] =
    "# r\xc3\xa9sum\xc3\xa9: tau in \xc2\xb5s? no, ms\n"
    "simulation: { dt_ms = 0.1; duration_ms = 100.0; };\n";

/* Write the small file described in tests/integ/h5_check.py, committed. */
static int write_known(const char *path, snn_err *err)
{
    snn_h5 *h;
    int rc = snn_h5_create(&h, path, 4, err);
    if (rc)
        return rc;
    static const double t[] = {1.0, 2.5, 2.5, 10.0, 50.25, 99.9};
    static const uint64_t id[] = {0, 3, 1, 0, 4, 3};
    static const uint64_t st_ids[] = {0, 2};
    static const char *const vars[] = {"V_m", "I_syn_ex"};
    static const char *const units[] = {"mV", "pA"};
    static const uint64_t pre[] = {0, 0, 1}, post[] = {1, 2, 0};
    double st_t[3], vm[3 * 2], is[3 * 2], wd[6], ws[3];
    for (int r = 0; r < 3; r++) {
        st_t[r] = 0.1 * r;
        for (int c = 0; c < 2; c++) {
            vm[r * 2 + c] = -70.0 + r + 0.5 * c;
            is[r * 2 + c] = 10.0 * r - c;
        }
    }
    int hs, hst, hwd, hws;
    if ((rc = snn_h5_attr_str(h, "/", "snn_version", "0.1.0-test", err)) ||
        (rc = snn_h5_attr_str(h, "/", "source", "tests/unit/test_h5.c --write", err)) ||
        (rc = snn_h5_attr_u64(h, "/", "seed", 42, err)) ||
        (rc = snn_h5_attr_u64(h, "/", "threads", 2, err)) ||
        (rc = snn_h5_attr_str(h, "/", "start_time", "2024-01-02T03:04:05Z", err)) ||
        (rc = snn_h5_attr_str(h, "/", "end_time", "2024-01-02T03:04:06Z", err)) ||
        (rc = snn_h5_attr_double(h, "/", "wall_s", 1.25, err)) ||
        (rc = snn_h5_attr_double(h, "/", "dt_ms", 0.1, err)) ||
        (rc = snn_h5_attr_double(h, "/", "duration_ms", 100.0, err)) ||
        (rc = snn_h5_write_str(h, "/config", known_config, err)) ||
        (rc = snn_h5_attr_str(h, "/populations/exc", "model", "lif", err)) ||
        (rc = snn_h5_attr_u64(h, "/populations/exc", "size", 5, err)) ||
        (rc = snn_h5_attr_double(h, "/populations/exc", "tau_m", 20.0, err)) ||
        (rc = snn_h5_spikes_open(h, "exc", &hs, err)) ||
        (rc = snn_h5_spikes_append(h, hs, t, id, 2, err)) ||
        (rc = snn_h5_spikes_append(h, hs, t + 2, id + 2, 4, err)) ||
        (rc = snn_h5_state_open(h, "exc", st_ids, 2, vars, units, 2, &hst, err)) ||
        (rc = snn_h5_state_append(h, hst, st_t, 2, (const double *const[]){vm, is}, err)) ||
        (rc = snn_h5_state_append(h, hst, st_t + 2, 1,
                                  (const double *const[]){vm + 4, is + 4}, err)) ||
        (rc = snn_h5_weights_open(h, "in_exc", 2, 3, NULL, NULL, 0, "pA", &hwd, err)) ||
        (rc = snn_h5_weights_open(h, "rec", 2, 3, pre, post, 3, "nS", &hws, err)))
        goto out;
    for (int s = 0; s < 2; s++) {
        for (int k = 0; k < 6; k++)
            wd[k] = 10.0 * s + k; /* w[s][i][j] = 10 s + 3 i + j */
        if ((rc = snn_h5_weights_append(h, hwd, 100.0 * s, wd, err)))
            goto out;
    }
    for (int s = 0; s < 3; s++) {
        for (int k = 0; k < 3; k++)
            ws[k] = 0.5 * (s + 1) * (k + 1);
        if ((rc = snn_h5_weights_append(h, hws, 50.0 * s, ws, err)))
            goto out;
    }
out:
    {
        int rc2 = snn_h5_close(h, rc == SNN_OK, rc ? NULL : err);
        return rc ? rc : rc2;
    }
}

/* ---- tests ------------------------------------------------------------------ */

static void test_known_file(void **state)
{
    const char *path = in_dir(0, "known.h5");
    snn_err e;
    snn_err_clear(&e);
    int rc = write_known(path, &e);
    if (rc)
        fail_msg("write_known: %s", e.msg);
    assert_false(exists(in_dir(1, "known.h5.tmp")));
    hid_t f = open_file(path);
    check_attr_str(f, "/", "snn_version", "0.1.0-test");
    check_attr_u64(f, "/", "seed", 42);
    check_attr_u64(f, "/", "threads", 2);
    check_attr_double(f, "/", "dt_ms", 0.1);
    check_attr_double(f, "/", "duration_ms", 100.0);
    check_attr_str(f, "/populations/exc", "model", "lif");
    check_attr_u64(f, "/populations/exc", "size", 5);
    /* /config: scalar vlen UTF-8 string, bytes preserved. */
    hid_t d = H5Dopen2(f, "/config", H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t ty = H5Dget_type(d), sp = H5Dget_space(d);
    assert_int_equal(H5Sget_simple_extent_type(sp), H5S_SCALAR);
    assert_int_equal(H5Tget_cset(ty), H5T_CSET_UTF8);
    char *p = NULL;
    assert_true(H5Dread(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) >= 0);
    assert_string_equal(p, known_config);
    H5free_memory(p);
    H5Tclose(ty);
    H5Sclose(sp);
    H5Dclose(d);
    /* State: [3, 2] per variable with units. */
    hsize_t dims[3] = {3, 2};
    double vm[6], is[6];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 2; c++) {
            vm[r * 2 + c] = -70.0 + r + 0.5 * c;
            is[r * 2 + c] = 10.0 * r - c;
        }
    check_f64(f, "/state/exc/V_m", 2, dims, vm);
    check_f64(f, "/state/exc/I_syn_ex", 2, dims, is);
    check_attr_str(f, "/state/exc/V_m", "units", "mV");
    check_attr_str(f, "/state/exc/I_syn_ex", "units", "pA");
    check_attr_str(f, "/state/exc/times", "units", "ms");
    check_u64(f, "/state/exc/node_ids", 2, (const uint64_t[]){0, 2});
    H5Fclose(f);
}

/* Attributes on the root and on new nested groups, replacement, string and
   whole datasets. */
static void test_attrs_and_datasets(void **state)
{
    const char *path = in_dir(0, "attrs.h5");
    snn_h5 *h;
    OK(snn_h5_create(&h, path, 0, &e_));
    assert_true(exists(in_dir(1, "attrs.h5.tmp")));
    assert_false(exists(path));
    OK(snn_h5_attr_u64(h, "/", "seed", 1, &e_));
    OK(snn_h5_attr_u64(h, "/", "seed", UINT64_MAX, &e_)); /* replaced */
    OK(snn_h5_attr_double(h, "/", "dt_ms", 0.1, &e_));
    OK(snn_h5_attr_str(h, "/", "start_time", "", &e_));
    OK(snn_h5_attr_double(h, "/a/b/c", "x", -2.5, &e_)); /* parents created */
    OK(snn_h5_attr_double(h, "/a/b/c", "model", 3.0, &e_));
    OK(snn_h5_attr_str(h, "/a/b/c", "model", "poisson", &e_)); /* replaced, new type */
    OK(snn_h5_attr_str(h, "/a/b", "note", "caf\xc3\xa9", &e_));
    static const double v[] = {0.0, -1.5, 1e300, -0.0};
    static const uint64_t u[] = {0, 1, UINT64_MAX};
    OK(snn_h5_write_f64(h, "/data/v", v, 4, "mV", &e_));
    OK(snn_h5_write_f64(h, "/data/empty", NULL, 0, NULL, &e_));
    OK(snn_h5_write_u64(h, "/data/u", u, 3, &e_));
    OK(snn_h5_write_str(h, "/config", "a = 1;\n", &e_));
    OK(snn_h5_attr_str(h, "/data/v", "note", "on a dataset", &e_)); /* existing dataset */
    OK(snn_h5_close(h, 1, &e_));
    assert_false(exists(in_dir(1, "attrs.h5.tmp")));

    hid_t f = open_file(path);
    check_attr_u64(f, "/", "seed", UINT64_MAX);
    check_attr_double(f, "/", "dt_ms", 0.1);
    check_attr_str(f, "/", "start_time", "");
    check_attr_double(f, "/a/b/c", "x", -2.5);
    check_attr_str(f, "/a/b/c", "model", "poisson");
    check_attr_str(f, "/a/b", "note", "caf\xc3\xa9");
    check_attr_str(f, "/data/v", "units", "mV");
    check_attr_str(f, "/data/v", "note", "on a dataset");
    hsize_t n4 = 4, n0 = 0;
    check_f64(f, "/data/v", 1, &n4, v);
    check_f64(f, "/data/empty", 1, &n0, v);
    check_u64(f, "/data/u", 3, u);
    H5Fclose(f);

    /* The read helpers. */
    double *rv;
    uint64_t *ru;
    size_t n;
    OK(snn_h5_read_f64(path, "/data/v", &rv, &n, &e_));
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        snn_assert_close(rv[i], v[i], 0, 0);
    free(rv);
    OK(snn_h5_read_u64(path, "/data/u", &ru, &n, &e_));
    assert_int_equal(n, 3);
    assert_memory_equal(ru, u, sizeof u);
    free(ru);
    OK(snn_h5_read_f64(path, "/data/u", &rv, &n, &e_)); /* integers convert to double */
    snn_assert_close(rv[1], 1.0, 0, 0);
    free(rv);
    OK(snn_h5_read_f64(path, "/data/empty", &rv, &n, &e_));
    assert_int_equal(n, 0);
    free(rv);

    snn_err e;
    assert_int_equal(snn_h5_read_u64(path, "/data/v", &ru, &n, &e), SNN_EIO);
    assert_contains(e.msg, "not an integer dataset");
    assert_null(ru);
    assert_int_equal(snn_h5_read_f64(path, "/nope/x", &rv, &n, &e), SNN_EIO);
    assert_contains(e.msg, "attrs.h5: no dataset /nope/x");
    assert_int_equal(snn_h5_read_f64(path, "/config", &rv, &n, &e), SNN_EIO);
    assert_contains(e.msg, "not a numeric dataset");
}

/* Spike trains appended in several pieces totalling more than one chunk. */
static void test_spikes(void **state)
{
    for (int level = 0; level <= 4; level += 4) {
        const char *path = in_dir(0, level ? "spikes4.h5" : "spikes0.h5");
        enum { N = 150001 };
        double *t = malloc(N * sizeof *t);
        uint64_t *id = malloc(N * sizeof *id);
        assert_true(t && id);
        for (size_t i = 0; i < N; i++) {
            t[i] = 0.1 * (double)(i / 7); /* ties: 7 spikes per step */
            id[i] = (i * 7919) % 1000;
        }
        snn_h5 *h;
        int a, b;
        OK(snn_h5_create(&h, path, level, &e_));
        OK(snn_h5_spikes_open(h, "exc", &a, &e_));
        OK(snn_h5_spikes_open(h, "inh", &b, &e_));
        assert_true(a >= 0 && b >= 0 && a != b);
        size_t cut[] = {0, 50000, 50000, 120000, 120003, N};
        for (size_t k = 0; k + 1 < sizeof cut / sizeof cut[0]; k++) {
            OK(snn_h5_spikes_append(h, a, t + cut[k], id + cut[k], cut[k + 1] - cut[k], &e_));
            if (k == 0)
                OK(snn_h5_spikes_append(h, b, t, id, 3, &e_));
        }
        OK(snn_h5_close(h, 1, &e_));

        hid_t f = open_file(path);
        hsize_t n = N, c = 65536, n3 = 3;
        check_f64(f, "/spikes/exc/timestamps", 1, &n, t);
        check_u64(f, "/spikes/exc/node_ids", N, id);
        check_f64(f, "/spikes/inh/timestamps", 1, &n3, t);
        check_u64(f, "/spikes/inh/node_ids", 3, id);
        check_growing(f, "/spikes/exc/timestamps", 1, &c, level);
        check_growing(f, "/spikes/exc/node_ids", 1, &c, level);
        check_attr_str(f, "/spikes/exc", "sorting", "by_time");
        check_attr_str(f, "/spikes/inh", "sorting", "by_time");
        check_attr_str(f, "/spikes/exc/timestamps", "units", "ms");
        check_attr_str(f, "/spikes", "units", "ms");
        /* SONATA: magic 0x0A7A (uint32) and version [0, 1] on /spikes. */
        hid_t at = H5Aopen_by_name(f, "/spikes", "magic", H5P_DEFAULT, H5P_DEFAULT);
        hid_t ty = H5Aget_type(at);
        assert_true(H5Tequal(ty, H5T_STD_U32LE) > 0);
        uint32_t magic = 0, ver[2] = {9, 9};
        H5Aread(at, H5T_NATIVE_UINT32, &magic);
        assert_int_equal(magic, 0x0A7A);
        H5Tclose(ty);
        H5Aclose(at);
        at = H5Aopen_by_name(f, "/spikes", "version", H5P_DEFAULT, H5P_DEFAULT);
        hid_t sp = H5Aget_space(at);
        assert_int_equal(H5Sget_simple_extent_npoints(sp), 2);
        H5Aread(at, H5T_NATIVE_UINT32, ver);
        assert_int_equal(ver[0], 0);
        assert_int_equal(ver[1], 1);
        H5Sclose(sp);
        H5Aclose(at);
        H5Fclose(f);

        uint64_t *rid;
        size_t rn;
        OK(snn_h5_read_u64(path, "/spikes/exc/node_ids", &rid, &rn, &e_));
        assert_int_equal(rn, N);
        assert_memory_equal(rid, id, N * sizeof *id);
        free(rid);
        free(t);
        free(id);
    }
}

/* State [T, N] over several appends, including a stream with no neurons. */
static void test_state(void **state)
{
    const char *path = in_dir(0, "state.h5");
    enum { T = 6, NN = 3 };
    static const uint64_t ids[NN] = {3, 5, 7};
    static const char *const vars[] = {"V_m", "g_ex"};
    static const char *const units[] = {"mV", "nS"};
    double times[T], v0[T * NN], v1[T * NN];
    for (int r = 0; r < T; r++) {
        times[r] = 0.5 * r;
        for (int c = 0; c < NN; c++) {
            v0[r * NN + c] = -65.0 + 0.25 * r - c;
            v1[r * NN + c] = r * 100.0 + c;
        }
    }
    snn_h5 *h;
    int hd, hz;
    OK(snn_h5_create(&h, path, 1, &e_));
    OK(snn_h5_state_open(h, "exc", ids, NN, vars, units, 2, &hd, &e_));
    OK(snn_h5_state_open(h, "empty", NULL, 0, vars, NULL, 1, &hz, &e_));
    int cut[] = {0, 2, 5, T};
    for (int k = 0; k < 3; k++) {
        int r0 = cut[k], rows = cut[k + 1] - cut[k];
        const double *vals[] = {v0 + r0 * NN, v1 + r0 * NN};
        OK(snn_h5_state_append(h, hd, times + r0, (size_t)rows, vals, &e_));
        OK(snn_h5_state_append(h, hz, times + r0, (size_t)rows, (const double *const[]){NULL},
                               &e_));
    }
    OK(snn_h5_state_append(h, hd, times, 0, NULL, &e_)); /* nothing */
    OK(snn_h5_close(h, 1, &e_));

    hid_t f = open_file(path);
    hsize_t d2[2] = {T, NN}, dt = T, c[2] = {65536 / NN, NN}, ct = 4096;
    check_f64(f, "/state/exc/times", 1, &dt, times);
    check_f64(f, "/state/exc/V_m", 2, d2, v0);
    check_f64(f, "/state/exc/g_ex", 2, d2, v1);
    check_u64(f, "/state/exc/node_ids", NN, ids);
    check_growing(f, "/state/exc/V_m", 2, c, 1);
    check_growing(f, "/state/exc/times", 1, &ct, 1);
    check_attr_str(f, "/state/exc/V_m", "units", "mV");
    check_attr_str(f, "/state/exc/g_ex", "units", "nS");
    check_attr_str(f, "/state/exc/times", "units", "ms");
    hsize_t dz[2] = {T, 0};
    check_f64(f, "/state/empty/V_m", 2, dz, NULL);
    check_f64(f, "/state/empty/times", 1, &dt, times);
    check_u64(f, "/state/empty/node_ids", 0, NULL);
    H5Fclose(f);
}

/* Dense (small and larger than a chunk) and sparse weights. */
static void test_weights(void **state)
{
    const char *path = in_dir(0, "weights.h5");
    enum { P = 3, Q = 4, S = 3, BP = 300, BQ = 300, NNZ = 5, SS = 4 };
    static const uint64_t pre[NNZ] = {0, 0, 1, 2, 2}, post[NNZ] = {1, 3, 0, 0, 2};
    double wd[S * P * Q], ws[SS * NNZ], td[S], ts[SS];
    double *big = malloc(2 * BP * BQ * sizeof *big);
    assert_non_null(big);
    for (int s = 0; s < S; s++) {
        td[s] = 10.0 * s;
        for (int k = 0; k < P * Q; k++)
            wd[s * P * Q + k] = s + 0.01 * k;
    }
    for (int s = 0; s < SS; s++) {
        ts[s] = 5.0 * s;
        for (int k = 0; k < NNZ; k++)
            ws[s * NNZ + k] = -s * 1.5 + k;
    }
    for (int k = 0; k < 2 * BP * BQ; k++)
        big[k] = k * 1e-3;
    snn_h5 *h;
    int hd, hs, hb, he;
    OK(snn_h5_create(&h, path, 6, &e_));
    OK(snn_h5_weights_open(h, "in_exc", P, Q, NULL, NULL, 0, "pA", &hd, &e_));
    OK(snn_h5_weights_open(h, "rec", P, Q, pre, post, NNZ, "nS", &hs, &e_));
    OK(snn_h5_weights_open(h, "big", BP, BQ, NULL, NULL, 0, NULL, &hb, &e_));
    OK(snn_h5_weights_open(h, "none", P, Q, pre, post, 0, "nS", &he, &e_));
    for (int s = 0; s < SS; s++) {
        if (s < S)
            OK(snn_h5_weights_append(h, hd, td[s], wd + s * P * Q, &e_));
        OK(snn_h5_weights_append(h, hs, ts[s], ws + s * NNZ, &e_));
        if (s < 2) {
            OK(snn_h5_weights_append(h, hb, td[s], big + s * BP * BQ, &e_));
            OK(snn_h5_weights_append(h, he, ts[s], NULL, &e_));
        }
    }
    OK(snn_h5_close(h, 1, &e_));

    hid_t f = open_file(path);
    hsize_t d3[3] = {S, P, Q}, nt = S, d2[2] = {SS, NNZ}, nts = SS;
    check_f64(f, "/weights/in_exc/values", 3, d3, wd);
    check_f64(f, "/weights/in_exc/times", 1, &nt, td);
    check_attr_str(f, "/weights/in_exc/values", "units", "pA");
    check_attr_str(f, "/weights/in_exc/times", "units", "ms");
    hsize_t cd[3] = {65536 / (P * Q), P, Q};
    check_growing(f, "/weights/in_exc/values", 3, cd, 6);
    check_f64(f, "/weights/rec/values", 2, d2, ws);
    check_f64(f, "/weights/rec/times", 1, &nts, ts);
    check_u64(f, "/weights/rec/pre", NNZ, pre);
    check_u64(f, "/weights/rec/post", NNZ, post);
    check_attr_str(f, "/weights/rec/values", "units", "nS");
    check_attr_str(f, "/weights/rec", "layout", "sparse");
    check_attr_str(f, "/weights/in_exc", "layout", "dense");
    check_attr_u64(f, "/weights/rec", "n_pre", P);
    check_attr_u64(f, "/weights/rec", "n_post", Q);
    hsize_t db[3] = {2, BP, BQ}, cb[3] = {1, 65536 / BQ, BQ};
    check_f64(f, "/weights/big/values", 3, db, big);
    check_growing(f, "/weights/big/values", 3, cb, 6);
    hsize_t de[2] = {2, 0};
    check_f64(f, "/weights/none/values", 2, de, NULL);
    check_u64(f, "/weights/none/pre", 0, NULL);
    H5Fclose(f);
    free(big);
}

/* close(commit = 0) after appends leaves neither the .tmp nor the file. */
static void test_abort_leaves_nothing(void **state)
{
    const char *path = in_dir(0, "abort.h5"), *tmp = in_dir(1, "abort.h5.tmp");
    snn_h5 *h;
    int hd;
    OK(snn_h5_create(&h, path, 4, &e_));
    OK(snn_h5_spikes_open(h, "p", &hd, &e_));
    OK(snn_h5_spikes_append(h, hd, (const double[]){1, 2}, (const uint64_t[]){0, 1}, 2, &e_));
    assert_true(exists(tmp));
    OK(snn_h5_close(h, 0, &e_));
    assert_false(exists(tmp));
    assert_false(exists(path));
    OK(snn_h5_close(NULL, 1, &e_));
}

/* A directory that does not exist: SNN_EIO naming the file, nothing left. */
static void test_missing_directory(void **state)
{
    const char *path = in_dir(0, "nodir/sub/x.h5");
    snn_h5 *h = (snn_h5 *)&h;
    snn_err e;
    snn_err_clear(&e);
    assert_int_equal(snn_h5_create(&h, path, 4, &e), SNN_EIO);
    assert_null(h);
    assert_contains(e.msg, "nodir/sub/x.h5: cannot create");
    assert_contains(e.msg, "No such file or directory");
    assert_false(exists(in_dir(1, "nodir")));
    assert_int_equal(snn_h5_create(&h, in_dir(0, "x.h5"), 10, &e), SNN_ECFG);
    assert_contains(e.msg, "compression level 10");
    assert_false(exists(in_dir(1, "x.h5.tmp")));
}

/* Write one spike at time t to path, committed. */
static void write_version(const char *path, double t)
{
    snn_h5 *h;
    int hd;
    OK(snn_h5_create(&h, path, 0, &e_));
    OK(snn_h5_spikes_open(h, "p", &hd, &e_));
    OK(snn_h5_spikes_append(h, hd, &t, (const uint64_t[]){0}, 1, &e_));
    OK(snn_h5_close(h, 1, &e_));
}

static double first_spike(const char *path)
{
    double *v, t;
    size_t n;
    OK(snn_h5_read_f64(path, "/spikes/p/timestamps", &v, &n, &e_));
    assert_int_equal(n, 1);
    t = v[0];
    free(v);
    return t;
}

/* An error in the middle (bad handle) leaves the older file untouched and
   no temporary; the next successful commit replaces it. */
static void test_failure_keeps_old_file(void **state)
{
    const char *path = in_dir(0, "keep.h5"), *tmp = in_dir(1, "keep.h5.tmp");
    write_version(path, 1.0);
    snn_assert_close(first_spike(path), 1.0, 0, 0);

    snn_h5 *h;
    int hd;
    snn_err e;
    OK(snn_h5_create(&h, path, 4, &e_));
    OK(snn_h5_spikes_open(h, "p", &hd, &e_));
    OK(snn_h5_spikes_append(h, hd, (const double[]){7.0}, (const uint64_t[]){0}, 1, &e_));
    snn_assert_close(first_spike(path), 1.0, 0, 0); /* old file still in place */
    assert_int_equal(snn_h5_spikes_append(h, hd + 17, (const double[]){8.0},
                                          (const uint64_t[]){0}, 1, &e),
                     SNN_EINTERNAL);
    assert_contains(e.msg, "keep.h5: bad spikes stream handle");
    assert_int_equal(snn_h5_state_append(h, hd, (const double[]){8.0}, 1, NULL, &e),
                     SNN_EINTERNAL); /* a spikes handle is not a state handle */
    /* Later writes are refused with the first error. */
    assert_int_equal(snn_h5_spikes_append(h, hd, (const double[]){9.0}, (const uint64_t[]){0},
                                          1, &e),
                     SNN_EINTERNAL);
    assert_contains(e.msg, "not writing after an earlier error");
    assert_int_equal(snn_h5_close(h, 1, &e), SNN_EINTERNAL);
    assert_contains(e.msg, "keep.h5: not saved after an earlier error");
    assert_contains(e.msg, "bad spikes stream handle");
    assert_false(exists(tmp));
    snn_assert_close(first_spike(path), 1.0, 0, 0);

    /* Aborted on purpose: same. */
    OK(snn_h5_create(&h, path, 4, &e_));
    OK(snn_h5_spikes_open(h, "p", &hd, &e_));
    OK(snn_h5_close(h, 0, &e_));
    assert_false(exists(tmp));
    snn_assert_close(first_spike(path), 1.0, 0, 0);

    write_version(path, 2.0);
    snn_assert_close(first_spike(path), 2.0, 0, 0);
    assert_false(exists(tmp));
}

/* An HDF5-level failure carries HDF5's message, nothing is printed to
   stderr, and the file is not committed. */
static void test_hdf5_error(void **state)
{
    const char *path = in_dir(0, "dup.h5"), *errs = in_dir(1, "stderr.txt");
    snn_h5 *h;
    int a, b = 12345;
    snn_err e;
    OK(snn_h5_create(&h, path, 4, &e_));
    OK(snn_h5_spikes_open(h, "p", &a, &e_));

    fflush(stderr);
    int saved = dup(2), fd = open(errs, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    int rc = snn_h5_spikes_open(h, "p", &b, &e); /* already exists */
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);

    assert_int_equal(rc, SNN_EIO);
    assert_int_equal(b, -1);
    assert_contains(e.msg, "dup.h5: cannot create /spikes/p (HDF5: ");
    struct stat sb;
    assert_int_equal(stat(errs, &sb), 0);
    if (sb.st_size != 0)
        fail_msg("HDF5 printed %lld bytes to stderr", (long long)sb.st_size);
    assert_int_not_equal(snn_h5_close(h, 1, &e), SNN_OK);
    assert_false(exists(path));
    assert_false(exists(in_dir(1, "dup.h5.tmp")));
}

/* The rename fails (the final name is a directory): error, nothing left
   but the directory. */
static void test_rename_failure(void **state)
{
    const char *path = in_dir(0, "isdir.h5");
    assert_int_equal(mkdir(path, 0755), 0);
    snn_h5 *h;
    snn_err e;
    OK(snn_h5_create(&h, path, 0, &e_));
    OK(snn_h5_attr_u64(h, "/", "seed", 1, &e_));
    assert_int_equal(snn_h5_close(h, 1, &e), SNN_EIO);
    assert_contains(e.msg, "isdir.h5: cannot rename");
    assert_false(exists(in_dir(1, "isdir.h5.tmp")));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    rmdir(path);
}

/* Contract checks: time order of spikes, canonical order of synapses. */
static void test_contract_checks(void **state)
{
    snn_h5 *h;
    int hd;
    snn_err e;
    OK(snn_h5_create(&h, in_dir(0, "order.h5"), 0, &e_));
    OK(snn_h5_spikes_open(h, "p", &hd, &e_));
    OK(snn_h5_spikes_append(h, hd, (const double[]){1, 2}, (const uint64_t[]){0, 0}, 2, &e_));
    assert_int_equal(snn_h5_spikes_append(h, hd, (const double[]){1.5}, (const uint64_t[]){0}, 1,
                                          &e),
                     SNN_EINTERNAL);
    assert_contains(e.msg, "must be appended in time order");
    OK(snn_h5_close(h, 0, &e_));

    OK(snn_h5_create(&h, in_dir(0, "order.h5"), 0, &e_));
    assert_int_equal(snn_h5_weights_open(h, "w", 2, 2, (const uint64_t[]){1, 0},
                                         (const uint64_t[]){0, 1}, 2, NULL, &hd, &e),
                     SNN_EINTERNAL);
    assert_contains(e.msg, "canonical order");
    OK(snn_h5_close(h, 0, &e_));

    OK(snn_h5_create(&h, in_dir(0, "order.h5"), 0, &e_));
    assert_int_equal(snn_h5_spikes_open(h, "a/b", &hd, &e), SNN_EINTERNAL);
    assert_contains(e.msg, "bad population name 'a/b'");
    OK(snn_h5_close(h, 0, &e_));
    assert_false(exists(in_dir(1, "order.h5")));
}

/* Info on an snn file: counts and rates computed by hand. */
static void test_info_rates(void **state)
{
    const char *path = in_dir(0, "info.h5");
    /* exc (size 4), 1000 ms: counts {3, 1, 0, 4} -> rates {3, 1, 0, 4} Hz,
       mean 8 / (4 * 1 s) = 2 Hz, sd sqrt((1 + 1 + 4 + 4) / 4) = 1.581 Hz,
       min 0, max 4, one silent.  inh (no /populations entry): ids {0, 2, 2}
       -> 3 neurons from max id + 1, counts {1, 0, 2}, mean 1 Hz,
       sd sqrt(2 / 3) = 0.8165 Hz, one silent. */
    static const double te[] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint64_t ie[] = {0, 3, 0, 1, 3, 0, 3, 3};
    static const double ti[] = {10, 20, 30};
    static const uint64_t ii[] = {0, 2, 2};
    snn_h5 *h;
    int a, b, c;
    OK(snn_h5_create(&h, path, 4, &e_));
    OK(snn_h5_attr_str(h, "/", "snn_version", "9.9.9", &e_));
    OK(snn_h5_attr_u64(h, "/", "seed", 1234, &e_));
    OK(snn_h5_attr_double(h, "/", "duration_ms", 1000.0, &e_));
    OK(snn_h5_attr_double(h, "/", "dt_ms", 0.1, &e_));
    OK(snn_h5_attr_str(h, "/populations/exc", "model", "lif", &e_));
    OK(snn_h5_attr_u64(h, "/populations/exc", "size", 4, &e_));
    OK(snn_h5_write_str(h, "/config", "line one\nline two", &e_));
    OK(snn_h5_spikes_open(h, "exc", &a, &e_));
    OK(snn_h5_spikes_open(h, "inh", &b, &e_));
    OK(snn_h5_spikes_open(h, "quiet", &c, &e_));
    OK(snn_h5_spikes_append(h, a, te, ie, 5, &e_));
    OK(snn_h5_spikes_append(h, a, te + 5, ie + 5, 3, &e_));
    OK(snn_h5_spikes_append(h, b, ti, ii, 3, &e_));
    OK(snn_h5_close(h, 1, &e_));

    snn_err e;
    char *out = info_text(path, SNN_OK, &e);
    assert_contains(out, "snn_version  9.9.9");
    assert_contains(out, "seed         1234");
    assert_contains(out, "duration_ms  1000");
    assert_contains(out, "exc: model lif, size 4");
    assert_contains(out, "exc: 8 spikes, 4 neurons (size from /populations), 1 silent");
    assert_contains(out, "mean rate 2 Hz over 1000 ms (run duration); across neurons sd 1.581 "
                         "Hz, min 0 Hz, max 4 Hz");
    assert_contains(out, "inh: 3 spikes, 3 neurons (size from max node_id + 1), 1 silent");
    assert_contains(out, "mean rate 1 Hz over 1000 ms (run duration); across neurons sd 0.8165 "
                         "Hz, min 0 Hz, max 2 Hz");
    assert_contains(out, "quiet: 0 spikes");
    assert_contains(out, "config:\n  line one\n  line two\n");
    free(out);
}

/* Info on foreign SONATA files that have only /spikes. */
static void test_info_foreign(void **state)
{
    /* New layout: /spikes/v1/{timestamps float32 in s, node_ids uint32},
       sorting as the SONATA enum.  Span 0.1 .. 0.6 s = 500 ms, counts {2, 2}
       -> 4 Hz each, sd 0. */
    const char *path = in_dir(0, "foreign.h5");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "/spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t p = H5Gcreate2(g, "v1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = 4;
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t dt = H5Dcreate2(p, "timestamps", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    hid_t di = H5Dcreate2(p, "node_ids", H5T_STD_U32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    static const float t[] = {0.1f, 0.2f, 0.5f, 0.6f};
    static const uint32_t id[] = {0, 1, 0, 1};
    H5Dwrite(dt, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t);
    H5Dwrite(di, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, id);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 1);
    hid_t ss = H5Screate(H5S_SCALAR);
    hid_t ua = H5Acreate2(dt, "units", st, ss, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(ua, st, "s");
    hid_t en = H5Tenum_create(H5T_NATIVE_UCHAR);
    unsigned char ev[3] = {0, 1, 2};
    H5Tenum_insert(en, "none", &ev[0]);
    H5Tenum_insert(en, "by_id", &ev[1]);
    H5Tenum_insert(en, "by_time", &ev[2]);
    hid_t sa = H5Acreate2(p, "sorting", en, ss, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(sa, en, &ev[2]);
    H5Aclose(sa);
    H5Aclose(ua);
    H5Tclose(en);
    H5Tclose(st);
    H5Sclose(ss);
    H5Dclose(dt);
    H5Dclose(di);
    H5Sclose(sp);
    H5Gclose(p);
    H5Gclose(g);
    H5Fclose(f);

    snn_err e;
    char *out = info_text(path, SNN_OK, &e);
    assert_contains(out, "v1: 4 spikes, 2 neurons (size from max node_id + 1), 0 silent");
    assert_contains(out, "mean rate 4 Hz over 500 ms (spike time span); across neurons sd 0 Hz");
    free(out);

    /* Old layout: /spikes/{gids, timestamps}, in ms. */
    path = in_dir(0, "old.h5");
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    g = H5Gcreate2(f, "/spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    n = 3;
    sp = H5Screate_simple(1, &n, NULL);
    dt = H5Dcreate2(g, "timestamps", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    di = H5Dcreate2(g, "gids", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dt, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, (const double[]){0, 100, 200});
    H5Dwrite(di, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, (const int64_t[]){4, 4, 0});
    H5Dclose(dt);
    H5Dclose(di);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(f);
    /* 5 neurons from max id + 1, counts {1, 0, 0, 0, 2} over 200 ms:
       mean 3 / (5 * 0.2) = 3 Hz, rates {5, 0, 0, 0, 10}: sd sqrt(
       (4 + 9 + 9 + 9 + 49) / 5) = 4 Hz, 3 silent. */
    out = info_text(path, SNN_OK, &e);
    assert_contains(out, "(no population): 3 spikes, 5 neurons (size from max node_id + 1), 3 "
                         "silent");
    assert_contains(out, "mean rate 3 Hz over 200 ms (spike time span); across neurons sd 4 Hz, "
                         "min 0 Hz, max 10 Hz");
    free(out);
}

static void test_info_errors(void **state)
{
    snn_err e;
    const char *missing = in_dir(0, "missing.h5");
    char *out = info_text(missing, SNN_EIO, &e);
    assert_contains(e.msg, "missing.h5: No such file or directory");
    assert_string_equal(out, "");
    free(out);

    const char *text = in_dir(2, "x.h5");
    FILE *t = fopen(text, "w");
    assert_non_null(t);
    fputs("this is not HDF5\n", t);
    fclose(t);
    out = info_text(text, SNN_EIO, &e);
    char expect[600];
    snprintf(expect, sizeof expect, "%s: not an HDF5 file", text);
    assert_string_equal(e.msg, expect);
    free(out);
    double *v;
    size_t n;
    assert_int_equal(snn_h5_read_f64(text, "/x", &v, &n, &e), SNN_EIO);
    assert_string_equal(e.msg, expect);
    assert_int_equal(snn_h5_read_f64(missing, "/x", &v, &n, &e), SNN_EIO);
    assert_contains(e.msg, "missing.h5: No such file or directory");
}

/* Info on the known file: every section is there. */
static void test_info_known(void **state)
{
    const char *path = in_dir(0, "known2.h5");
    OK(write_known(path, &e_));
    snn_err e;
    char *out = info_text(path, SNN_OK, &e);
    assert_contains(out, "threads      2");
    assert_contains(out, "wall_s       1.25");
    /* exc: 6 spikes, size 5, counts {2, 1, 0, 2, 1} over 100 ms: mean 12 Hz,
       rates {20, 10, 0, 20, 10}: sd sqrt((64 + 4 + 144 + 64 + 4) / 5) = 7.483 */
    assert_contains(out, "exc: 6 spikes, 5 neurons (size from /populations), 1 silent");
    assert_contains(out, "mean rate 12 Hz over 100 ms (run duration); across neurons sd 7.483 Hz");
    assert_contains(out, "state:\n  exc: 3 samples x 2 neurons: I_syn_ex V_m\n");
    assert_contains(out, "in_exc: dense 2 x 3, 2 snapshots");
    assert_contains(out, "rec: sparse, 3 synapses, 3 snapshots");
    assert_contains(out, "  simulation: { dt_ms = 0.1; duration_ms = 100.0; };\n");
    free(out);
}

/* A file imaged mid-run and resumed elsewhere continues its streams where
   they stopped: the result equals one uninterrupted writer's. */
static void open_streams(snn_h5 *h, int hd[3], snn_err *err)
{
    static const char *const vars[] = {"V_m"};
    static const char *const units[] = {"mV"};
    const uint64_t nodes[2] = {0, 3};
    const uint64_t pre[3] = {0, 0, 1}, post[3] = {0, 1, 1};
    assert_int_equal(snn_h5_spikes_open(h, "exc", &hd[0], err), SNN_OK);
    assert_int_equal(snn_h5_state_open(h, "exc", nodes, 2, vars, units, 1, &hd[1], err), SNN_OK);
    assert_int_equal(snn_h5_weights_open(h, "w", 2, 2, pre, post, 3, "nS", &hd[2], err), SNN_OK);
}

static void write_part(snn_h5 *h, const int hd[3], int part, snn_err *err)
{
    for (int k = 0; k < 3; k++) {
        double t = 10.0 * part + k;
        uint64_t id = (uint64_t)(part * 3 + k);
        assert_int_equal(snn_h5_spikes_append(h, hd[0], &t, &id, 1, err), SNN_OK);
        double v0[2] = {t, -t};
        const double *vals[1] = {v0};
        assert_int_equal(snn_h5_state_append(h, hd[1], &t, 1, vals, err), SNN_OK);
        double w[3] = {t, t + 0.5, t + 0.25};
        assert_int_equal(snn_h5_weights_append(h, hd[2], t, w, err), SNN_OK);
    }
}

static void test_resume(void **state)
{
    (void)state;
    snn_err err;
    snn_h5 *a = NULL, *b = NULL;
    /* uninterrupted */
    int hd[3];
    assert_int_equal(snn_h5_create(&a, "resume_ref.h5", 4, &err), SNN_OK);
    open_streams(a, hd, &err);
    write_part(a, hd, 0, &err);
    write_part(a, hd, 1, &err);
    assert_int_equal(snn_h5_close(a, 1, &err), SNN_OK);
    /* interrupted after part 0, imaged, abandoned, resumed under another name */
    assert_int_equal(snn_h5_create(&a, "resume_a.h5", 4, &err), SNN_OK);
    open_streams(a, hd, &err);
    write_part(a, hd, 0, &err);
    unsigned char *img = NULL;
    size_t len = 0;
    assert_int_equal(snn_h5_image(a, &img, &len, &err), SNN_OK);
    assert_true(len > 0);
    assert_int_equal(snn_h5_close(a, 0, &err), SNN_OK);
    assert_int_equal(access("resume_a.h5", F_OK), -1);
    assert_int_equal(snn_h5_resume(&b, "resume_b.h5", 4, img, len, &err), SNN_OK);
    /* time order is still enforced across the resume */
    open_streams(b, hd, &err);
    double early = 1.5;
    uint64_t id = 0;
    assert_int_equal(snn_h5_spikes_append(b, hd[0], &early, &id, 1, &err), SNN_EINTERNAL);
    assert_int_equal(snn_h5_close(b, 0, &err), SNN_OK);
    assert_int_equal(access("resume_b.h5", F_OK), -1);
    /* once more from the same image, cleanly */
    assert_int_equal(snn_h5_resume(&b, "resume_b.h5", 4, img, len, &err), SNN_OK);
    free(img);
    open_streams(b, hd, &err);
    write_part(b, hd, 1, &err);
    assert_int_equal(snn_h5_close(b, 1, &err), SNN_OK);
    const char *dsets[] = {"/spikes/exc/timestamps", "/state/exc/times", "/weights/w/times"};
    for (size_t i = 0; i < 3; i++) {
        double *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;
        assert_int_equal(snn_h5_read_f64("resume_ref.h5", dsets[i], &x, &nx, &err), SNN_OK);
        assert_int_equal(snn_h5_read_f64("resume_b.h5", dsets[i], &y, &ny, &err), SNN_OK);
        assert_int_equal(nx, 6);
        assert_int_equal(ny, nx);
        assert_memory_equal(x, y, nx * sizeof *x);
        free(x);
        free(y);
    }
    /* the values of the 2-D streams and the node ids too */
    hid_t fa = H5Fopen("resume_ref.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t fb = H5Fopen("resume_b.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    const char *vals[] = {"/state/exc/V_m", "/weights/w/values"};
    const size_t nv[] = {12, 18};
    for (size_t i = 0; i < 2; i++) {
        double x[18], y[18];
        hid_t da = H5Dopen2(fa, vals[i], H5P_DEFAULT), db = H5Dopen2(fb, vals[i], H5P_DEFAULT);
        assert_true(H5Dread(da, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
        assert_true(H5Dread(db, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
        assert_memory_equal(x, y, nv[i] * sizeof *x);
        H5Dclose(da);
        H5Dclose(db);
    }
    uint64_t ia[6], ib[6];
    hid_t da = H5Dopen2(fa, "/spikes/exc/node_ids", H5P_DEFAULT);
    hid_t db = H5Dopen2(fb, "/spikes/exc/node_ids", H5P_DEFAULT);
    assert_true(H5Dread(da, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ia) >= 0);
    assert_true(H5Dread(db, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ib) >= 0);
    assert_memory_equal(ia, ib, sizeof ia);
    H5Dclose(da);
    H5Dclose(db);
    H5Fclose(fa);
    H5Fclose(fb);
    unlink("resume_ref.h5");
    unlink("resume_b.h5");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0) {
        snn_err e;
        snn_err_clear(&e);
        if (write_known(argv[2], &e)) {
            fprintf(stderr, "test_h5 --write: %s\n", e.msg);
            return 1;
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_file),
        cmocka_unit_test(test_attrs_and_datasets),
        cmocka_unit_test(test_spikes),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_missing_directory),
        cmocka_unit_test(test_failure_keeps_old_file),
        cmocka_unit_test(test_hdf5_error),
        cmocka_unit_test(test_rename_failure),
        cmocka_unit_test(test_contract_checks),
        cmocka_unit_test(test_info_rates),
        cmocka_unit_test(test_info_foreign),
        cmocka_unit_test(test_info_errors),
        cmocka_unit_test(test_info_known),
        cmocka_unit_test(test_resume),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
