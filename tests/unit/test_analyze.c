/*
 * tests/unit/test_analyze.c: the metrics of `snn analyze` against closed
 * forms and hand-computed values, and the command on small synthetic HDF5
 * files (written here with the HDF5 C API): /analysis contents, the atomic
 * replacement, and clear errors for missing, non-HDF5 and empty files.
 *
 * Poisson tolerances: for exponential ISIs the sample CV from n intervals
 * has sd ~ 1/sqrt(n) (delta method: Var = (1/4)(8/n) + 1/n - 2/n = 1/n);
 * the Fano factor of K Poisson counts of mean mu has sd ~ sqrt((2 + 1/mu)/K).
 * Means over N independent neurons shrink both by sqrt(N); we allow 4 sd.
 */
#include "../support.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "io/analyze.h"

/* ---- synthetic files ---------------------------------------------------- */

static hid_t new_file(const char *path)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    return f;
}

static void put(hid_t f, const char *path, hid_t ftype, hid_t mtype, int rank,
                const hsize_t *dims, const void *v)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, path, ftype, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    hsize_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    if (n)
        assert_true(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(lcpl);
}

static void put_f64(hid_t f, const char *path, const double *v, hsize_t n)
{
    put(f, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, v);
}

static void put_u64(hid_t f, const char *path, const uint64_t *v, hsize_t n)
{
    put(f, path, H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &n, v);
}

static void put_attr_f64(hid_t f, const char *obj, const char *name, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(f, obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT);
    assert_true(a >= 0);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
    H5Sclose(sp);
}

static void put_str(hid_t f, const char *path, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(f, path, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
}

/* Poisson trains of n neurons at rate_hz for dur_ms (exponential intervals),
   merged in time order; *times and *ids malloc'd. */
static size_t poisson_trains(gsl_rng *r, size_t n, double rate_hz, double dur_ms, double **times,
                             uint64_t **ids)
{
    size_t cap = (size_t)(2.0 * (double)n * rate_hz * dur_ms / 1000.0) + 100, m = 0;
    double *t = malloc(cap * sizeof *t);
    uint64_t *id = malloc(cap * sizeof *id);
    for (size_t i = 0; i < n; i++)
        for (double x = gsl_ran_exponential(r, 1000.0 / rate_hz); x < dur_ms;
             x += gsl_ran_exponential(r, 1000.0 / rate_hz)) {
            assert_true(m < cap);
            t[m] = x;
            id[m++] = i;
        }
    *times = t;
    *ids = id;
    return m;
}

/* ---- metrics ------------------------------------------------------------- */

static void test_cv_regular(void **state)
{
    (void)state;
    double t[101];
    for (int k = 0; k <= 100; k++)
        t[k] = 5.0 + 10.0 * k;
    snn_assert_close(snn_an_cv_isi(t, 101), 0.0, 0, 1e-12);
    /* Two intervals 10 and 30: mean 20, sd (n-1) = sqrt(200) -> CV 0.7071. */
    double u[3] = {0.0, 10.0, 40.0};
    snn_assert_close(snn_an_cv_isi(u, 3), sqrt(200.0) / 20.0, 1e-14, 0);
    assert_true(isnan(snn_an_cv_isi(u, 2)));
    /* Regular train, one spike per 10 ms bin: Fano 0. */
    double c[100];
    snn_an_bin(t, 101, 0.0, 10.0, 100, c);
    for (int b = 0; b < 100; b++)
        snn_assert_close(c[b], 1.0, 0, 0);
    snn_assert_close(snn_an_fano(c, 100), 0.0, 0, 0);
}

static void test_poisson_cv_fano(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 42);
    const size_t N = 100;
    const double rate = 20.0, dur = 20000.0, bin = 100.0;
    double *t;
    uint64_t *id;
    size_t m = poisson_trains(r, N, rate, dur, &t, &id);
    /* Trains are generated neuron by neuron: contiguous and ascending. */
    double cv = 0.0, fano = 0.0, counts[200];
    size_t k = 0;
    for (size_t i = 0; i < N; i++) {
        size_t k0 = k;
        while (k < m && id[k] == i)
            k++;
        cv += snn_an_cv_isi(t + k0, k - k0) / (double)N;
        snn_an_bin(t + k0, k - k0, 0.0, bin, 200, counts);
        fano += snn_an_fano(counts, 200) / (double)N;
    }
    double n_isi = rate * dur / 1000.0, mu = rate * bin / 1000.0;
    snn_assert_close(cv, 1.0, 0, 4.0 / sqrt(n_isi * (double)N));
    snn_assert_close(fano, 1.0, 0, 4.0 * sqrt((2.0 + 1.0 / mu) / 200.0 / (double)N));
    free(t);
    free(id);
    gsl_rng_free(r);
}

static void test_corr(void **state)
{
    (void)state;
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {2, 4, 6, 8, 10}, z[5] = {5, 4, 3, 2, 1};
    double k[5] = {3, 3, 3, 3, 3}, w[5] = {1, 0, 1, 0, 1};
    snn_assert_close(snn_an_corr(x, y, 5), 1.0, 0, 1e-14);
    snn_assert_close(snn_an_corr(x, z, 5), -1.0, 0, 1e-14);
    /* x and w: cov = (1/4) sum (x-3)(w-0.6) = 0 -> 0. */
    snn_assert_close(snn_an_corr(x, w, 5), 0.0, 0, 1e-14);
    assert_true(isnan(snn_an_corr(x, k, 5)));
}

static void test_sparsity(void **state)
{
    (void)state;
    /* Sample 0: one of 4 active -> (1/4)^2 / (1/4) = 1/4; sample 1: two equal
       -> 1/2; sample 2 silent (left out).  Lifetime: neuron 0 (1,1,0) ->
       (2/3)^2/(2/3) = 2/3; neuron 1 (0,1,0) -> 1/3; neurons 2, 3 silent. */
    const double r[3 * 4] = {1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0};
    double ps, ls;
    snn_an_sparsity(r, 3, 4, &ps, &ls);
    snn_assert_close(ps, 0.375, 1e-15, 0);
    snn_assert_close(ls, 0.5, 1e-15, 0);
    /* Dense uniform responses: 1 for both. */
    const double d[2 * 3] = {2, 2, 2, 2, 2, 2};
    snn_an_sparsity(d, 2, 3, &ps, &ls);
    snn_assert_close(ps, 1.0, 1e-15, 0);
    snn_assert_close(ls, 1.0, 1e-15, 0);
}

static void test_selectivity(void **state)
{
    (void)state;
    /* 3 classes, 2 samples each; 4 neurons:
       0: only class 0 (4, 4)          -> mu (4,0,0), sel 1, pref 0
       1: same to all (1)              -> sel 0
       2: mu (1, 3, 2)                 -> (3 - 1.5) / (3 + 1.5) = 1/3, pref 1
       3: silent                       -> 0 */
    const double r[6 * 4] = {4, 1, 0, 0, 4, 1, 2, 0, 0, 1, 3, 0,
                             0, 1, 3, 0, 0, 1, 2, 0, 0, 1, 2, 0};
    const uint64_t lab[6] = {0, 0, 1, 1, 2, 2};
    double sel[4], mean;
    uint64_t pref[4];
    snn_err err;
    assert_int_equal(snn_an_selectivity(r, lab, 6, 4, 3, sel, pref, &mean, &err), SNN_OK);
    snn_assert_close(sel[0], 1.0, 1e-15, 0);
    snn_assert_close(sel[1], 0.0, 0, 1e-15);
    snn_assert_close(sel[2], 1.0 / 3.0, 1e-15, 0);
    snn_assert_close(sel[3], 0.0, 0, 0);
    assert_int_equal(pref[0], 0);
    assert_int_equal(pref[2], 1);
    snn_assert_close(mean, (1.0 + 1.0 / 3.0) / 3.0, 1e-15, 0); /* silent neuron 3 left out */
    /* Nothing responds: mean NaN. */
    const double z[6 * 4] = {0};
    assert_int_equal(snn_an_selectivity(z, lab, 6, 4, 3, sel, NULL, &mean, &err), SNN_OK);
    assert_true(isnan(mean));
    snn_assert_close(sel[0], 0.0, 0, 0);
}

/* Three Gaussian clusters in 4-D (sd 0.1 around distinct centres). */
static void clusters(gsl_rng *r, size_t n, double *x, uint64_t *y)
{
    static const double c[3][4] = {{0, 0, 1, 0}, {3, 0, 0, 1}, {0, 3, 2, 0}};
    for (size_t s = 0; s < n; s++) {
        y[s] = s % 3;
        for (int j = 0; j < 4; j++)
            x[s * 4 + j] = c[y[s]][j] + gsl_ran_gaussian(r, 0.1);
    }
}

static void test_probe_knn(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    double xtr[60 * 4], xte[30 * 4], acc;
    uint64_t ytr[60], yte[30];
    clusters(r, 60, xtr, ytr);
    clusters(r, 30, xte, yte);
    snn_err err;
    assert_int_equal(snn_an_linear_probe(xtr, ytr, 60, xte, yte, 30, 4, 3, 1e-3, &acc, &err),
                     SNN_OK);
    snn_assert_close(acc, 1.0, 0, 0);
    assert_int_equal(snn_an_knn(xtr, ytr, 60, xte, yte, 30, 4, 3, 5, &acc, &err), SNN_OK);
    snn_assert_close(acc, 1.0, 0, 0);
    /* Wrong test labels on 6 of 30 samples: exactly 24/30 for both. */
    for (int s = 0; s < 6; s++)
        yte[s] = (yte[s] + 1) % 3;
    assert_int_equal(snn_an_linear_probe(xtr, ytr, 60, xte, yte, 30, 4, 3, 1e-3, &acc, &err),
                     SNN_OK);
    snn_assert_close(acc, 0.8, 0, 1e-15);
    assert_int_equal(snn_an_knn(xtr, ytr, 60, xte, yte, 30, 4, 3, 5, &acc, &err), SNN_OK);
    snn_assert_close(acc, 0.8, 0, 1e-15);
    gsl_rng_free(r);

    /* kNN by hand in 1-D: train 0,1,2 (class 0), 10,11,12 (class 1).
       6.2 is nearer 10 (3.8) than 2 (4.2): class 1 with k = 1, but with
       k = 3 the neighbours 10, 2, 11 vote 1, 0, 1 -> 1 too; 5.9 is nearer 2:
       k = 1 -> 0, k = 3 (2, 10, 1) -> 0. */
    const double a[6] = {0, 1, 2, 10, 11, 12}, b[3] = {6.2, 5.9, 11.4};
    const uint64_t ya[6] = {0, 0, 0, 1, 1, 1}, yb[3] = {1, 0, 1}, yc[3] = {0, 0, 1};
    assert_int_equal(snn_an_knn(a, ya, 6, b, yb, 3, 1, 2, 1, &acc, &err), SNN_OK);
    snn_assert_close(acc, 1.0, 0, 0);
    assert_int_equal(snn_an_knn(a, ya, 6, b, yc, 3, 1, 2, 3, &acc, &err), SNN_OK);
    snn_assert_close(acc, 2.0 / 3.0, 0, 1e-15);
    /* Labels out of range are an error. */
    const uint64_t bad[3] = {0, 5, 1};
    assert_int_not_equal(snn_an_knn(a, ya, 6, b, bad, 3, 1, 2, 1, &acc, &err), SNN_OK);
    assert_non_null(strstr(err.msg, "label 5"));
}

static void test_receptive_fields(void **state)
{
    (void)state;
    /* n_pre 3, n_post 4 (pre-major): columns e1, 2 e1, e2, (1,1,0)/..:
       cos: (0,1) 1, (0,2) 0, (0,3) 1/sqrt2, (1,2) 0, (1,3) 1/sqrt2, (2,3)
       1/sqrt2 -> mean (1 + 3/sqrt2) / 6.  Prototypes at 0.9: {0,1}, {2}, {3}. */
    const double w[3 * 4] = {1, 2, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0};
    double mc;
    size_t np;
    snn_err err;
    assert_int_equal(snn_an_receptive_fields(w, 3, 4, 0.9, &mc, &np, &err), SNN_OK);
    snn_assert_close(mc, (1.0 + 3.0 / sqrt(2.0)) / 6.0, 1e-14, 0);
    assert_int_equal(np, 3);
    assert_int_equal(snn_an_receptive_fields(w, 3, 4, 0.7, &mc, &np, &err), SNN_OK);
    assert_int_equal(np, 2); /* 3 joins {0, 1} at cos 0.707 */
}

/* ---- the command on files ----------------------------------------------- */

/* A file with spikes of two populations, features (evaluate assign -> test
   via /config), probes at 3 snapshots, dense weights and an alignment curve. */
static void make_run_file(const char *path)
{
    hid_t f = new_file(path);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 3);
    double *t;
    uint64_t *id;
    size_t m = poisson_trains(r, 50, 20.0, 10000.0, &t, &id);
    put_f64(f, "/spikes/exc/timestamps", t, m);
    put_u64(f, "/spikes/exc/node_ids", id, m);
    H5Gcreate2(f, "/populations", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "/populations/exc", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    put_attr_f64(f, "/populations/exc", "size", 52); /* 2 silent neurons */
    put_attr_f64(f, "/", "duration_ms", 10000.0);
    put_attr_f64(f, "/", "dt_ms", 0.1);
    free(t);
    free(id);
    /* A saturated population: 2 neurons with a spike every step (0.1 ms) for
       the whole 10 s, one silent neuron; regular, so CV 0. */
    size_t ns = 200000;
    double *ts = malloc(ns * sizeof *ts);
    uint64_t *is = malloc(ns * sizeof *is);
    for (size_t k = 0; k < ns; k++) {
        ts[k] = 0.1 * (double)(k / 2);
        is[k] = k % 2;
    }
    put_f64(f, "/spikes/sat/timestamps", ts, ns);
    put_u64(f, "/spikes/sat/node_ids", is, ns);
    g = H5Gcreate2(f, "/populations/sat", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    put_attr_f64(f, "/populations/sat", "size", 3);
    free(ts);
    free(is);

    put_str(f, "/config", "evaluate = { method = \"vote\"; population = \"exc\"; "
                          "assign = \"first\"; test = \"second\"; };\n");
    /* Features: 3 separable classes in 4 neurons (counts). */
    uint32_t ftr[60 * 4], fte[30 * 4];
    uint64_t ytr[60], yte[30];
    double x[60 * 4];
    clusters(r, 60, x, ytr);
    for (size_t k = 0; k < 60 * 4; k++)
        ftr[k] = (uint32_t)lround(10.0 * fabs(x[k]));
    clusters(r, 30, x, yte);
    for (size_t k = 0; k < 30 * 4; k++)
        fte[k] = (uint32_t)lround(10.0 * fabs(x[k]));
    hsize_t d2[2] = {60, 4};
    put(f, "/features/first/exc", H5T_STD_U32LE, H5T_NATIVE_UINT32, 2, d2, ftr);
    put_u64(f, "/features/first/labels", ytr, 60);
    d2[0] = 30;
    put(f, "/features/second/exc", H5T_STD_U32LE, H5T_NATIVE_UINT32, 2, d2, fte);
    put_u64(f, "/features/second/labels", yte, 30);

    /* Probes: S = 3 snapshots, P = 12 probes, N = 3 neurons.  Snapshot 0:
       everything silent; 1: neuron c answers class c with 5 spikes; 2: the
       same, plus neuron 0 answers everything with 1 more. */
    enum { S = 3, P = 12, N = 3 };
    uint32_t cnt[S * P * N] = {0};
    uint64_t plab[P], psmp[S] = {0, 100, 200};
    for (size_t j = 0; j < P; j++) {
        plab[j] = j % 3;
        cnt[1 * P * N + j * N + plab[j]] = 5;
        cnt[2 * P * N + j * N + plab[j]] = 5;
        cnt[2 * P * N + j * N + 0] += 1;
    }
    hsize_t d3[3] = {S, P, N};
    put(f, "/probe/exc/counts", H5T_STD_U32LE, H5T_NATIVE_UINT32, 3, d3, cnt);
    put_u64(f, "/probe/labels", plab, P);
    put_u64(f, "/probe/samples", psmp, S);

    /* Dense weights [2, 3, 4]: snapshot 0 all equal, snapshot 1 the matrix of
       test_receptive_fields. */
    const double w[2 * 12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                              1, 2, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0};
    hsize_t dw[3] = {2, 3, 4};
    put(f, "/weights/input/values", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, dw, w);
    const double wt[2] = {0.0, 500.0};
    put_f64(f, "/weights/input/times", wt, 2);
    const uint64_t wsmp[2] = {0, 40};
    put_u64(f, "/weights/input/samples", wsmp, 2);

    const double al[4] = {0.5, -0.1, 0.3, 0.2};
    const uint64_t st[4] = {1, 2, 3, 4};
    put_f64(f, "/readout/alignment/W0", al, 4);
    put_u64(f, "/readout/alignment/step", st, 4);
    gsl_rng_free(r);
    H5Fclose(f);
}

static double attr_of(const char *path, const char *obj, const char *name)
{
    hid_t f;
    snn_err err;
    assert_int_equal(snn_an_open(path, 0, &f, &err), SNN_OK);
    double v = NAN;
    if (!snn_an_attr_num(f, obj, name, &v))
        fail_msg("no attribute %s of %s", name, obj);
    H5Fclose(f);
    return v;
}

static double *vec_of(const char *path, const char *dset, size_t *n)
{
    hid_t f;
    snn_err err;
    assert_int_equal(snn_an_open(path, 0, &f, &err), SNN_OK);
    double *v;
    size_t d[3];
    int rank;
    if (snn_an_read_f64(f, path, dset, &v, d, &rank, &err))
        fail_msg("%s", err.msg);
    H5Fclose(f);
    assert_int_equal(rank, 1);
    *n = d[0];
    return v;
}

static void test_analyze_file(void **state)
{
    (void)state;
    const char *path = "analyze_run.h5";
    make_run_file(path);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    snn_an_opts o;
    snn_an_opts_default(&o);
    o.json = 1;
    snn_err err;
    int rc = snn_analyze(path, &o, out, &err);
    fclose(out);
    if (rc)
        fail_msg("%s", err.msg);
    assert_non_null(strstr(buf, "\"mean_rate_hz\""));
    assert_non_null(strstr(buf, "\"made\": [\"spikes\", \"representation\", \"emergence\", "
                                "\"receptive_fields\", \"alignment\"]"));
    assert_int_equal(access("analyze_run.h5.tmp", F_OK), -1);

    /* Spikes: rate = count / 10 s, 2 silent of 52; Poisson CV and Fano near 1
       (50 neurons, ~200 ISIs and 100 bins of mean 2 each). */
    snn_assert_close(attr_of(path, "/analysis/exc", "n_neurons"), 52, 0, 0);
    snn_assert_close(attr_of(path, "/analysis/exc", "n_silent"), 2, 0, 0);
    snn_assert_close(attr_of(path, "/analysis/exc", "n_saturated"), 0, 0, 0);
    snn_assert_close(attr_of(path, "/analysis/exc", "mean_cv_isi"), 1.0, 0,
                     4.0 / sqrt(200.0 * 50.0) + 0.01);
    snn_assert_close(attr_of(path, "/analysis/exc", "mean_fano"), 1.0, 0,
                     4.0 * sqrt(2.5 / 100.0 / 50.0));
    /* Independent trains: pair correlations ~ N(0, 1/sqrt(100)), 200 pairs. */
    snn_assert_close(attr_of(path, "/analysis/exc", "mean_pair_corr"), 0.0, 0,
                     4.0 * 0.1 / sqrt(200.0));
    size_t n;
    double *rate = vec_of(path, "/analysis/exc/rate_hz", &n);
    assert_int_equal(n, 52);
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += rate[i] / (double)n;
    snn_assert_close(attr_of(path, "/analysis/exc", "mean_rate_hz"), mean, 1e-12, 0);
    snn_assert_close(rate[50], 0.0, 0, 0);
    free(rate);
    double *pc = vec_of(path, "/analysis/exc/pair_corr", &n);
    assert_int_equal(n, 200);
    free(pc);
    double *pairs1 = vec_of(path, "/analysis/exc/pair_i", &n);
    double *pairs1j = vec_of(path, "/analysis/exc/pair_j", &n);
    for (size_t p = 0; p < n; p++)
        assert_true(pairs1[p] < pairs1j[p] && pairs1j[p] < 52);
    /* The saturated population: 2 of 3 neurons spike every step; regular. */
    snn_assert_close(attr_of(path, "/analysis/sat", "n_saturated"), 2, 0, 0);
    snn_assert_close(attr_of(path, "/analysis/sat", "n_silent"), 1, 0, 0);
    snn_assert_close(attr_of(path, "/analysis/sat", "mean_cv_isi"), 0.0, 0, 1e-9);
    snn_assert_close(attr_of(path, "/analysis/sat", "max_rate_hz"), 10000.0, 1e-12, 0);

    /* Representation on the separable features. */
    snn_assert_close(attr_of(path, "/analysis/representation/exc", "linear_probe_accuracy"), 1.0,
                     0, 0);
    snn_assert_close(attr_of(path, "/analysis/representation/exc", "knn_accuracy"), 1.0, 0, 0);

    /* Emergence: snapshot 0 silent (chance-free NaN sparsity, accuracy of a
       constant predictor), 1 and 2 perfectly decodable; population sparsity
       1/3 at snapshot 1 (one of three neurons), (6/3)^2/(26/3) = 6/13 at 2 for
       class 0 probes ((5+1)) and ((1+5)^2... see below). */
    double *acc = vec_of(path, "/analysis/emergence/exc/linear_probe_accuracy", &n);
    assert_int_equal(n, 3);
    snn_assert_close(acc[1], 1.0, 0, 0);
    snn_assert_close(acc[2], 1.0, 0, 0);
    free(acc);
    double *ps = vec_of(path, "/analysis/emergence/exc/population_sparsity", &n);
    assert_true(isnan(ps[0]));
    snn_assert_close(ps[1], 1.0 / 3.0, 1e-14, 0);
    /* Snapshot 2: class 0 probes (6, 0, 0) -> 1/3; classes 1, 2 (1, 5, 0)
       -> (6/3)^2 / (26/3) = 6/13; mean over 12 probes (4 of each class). */
    snn_assert_close(ps[2], (1.0 / 3.0 + 2.0 * 6.0 / 13.0) / 3.0, 1e-14, 0);
    free(ps);
    double *sel = vec_of(path, "/analysis/emergence/exc/mean_selectivity", &n);
    snn_assert_close(sel[1], 1.0, 1e-14, 0);
    /* Snapshot 2: neuron 0 mu (6, 1, 1) -> 5/7; neurons 1, 2 -> 1. */
    snn_assert_close(sel[2], (5.0 / 7.0 + 2.0) / 3.0, 1e-14, 0);
    free(sel);

    /* Receptive fields: snapshot 0 identical columns (cos 1, one prototype). */
    double *mc = vec_of(path, "/analysis/receptive_fields/input/mean_cosine", &n);
    assert_int_equal(n, 2);
    snn_assert_close(mc[0], 1.0, 1e-14, 0);
    snn_assert_close(mc[1], (1.0 + 3.0 / sqrt(2.0)) / 6.0, 1e-14, 0);
    free(mc);
    double *ws = vec_of(path, "/analysis/receptive_fields/input/samples", &n);
    assert_int_equal(n, 2);
    snn_assert_close(ws[1], 40, 0, 0);
    free(ws);
    double *np = vec_of(path, "/analysis/receptive_fields/input/n_prototypes", &n);
    snn_assert_close(np[0], 1, 0, 0);
    snn_assert_close(np[1], 3, 0, 0);
    free(np);

    /* Alignment summary: mean 0.225, last 0.2, 3 of 4 positive. */
    snn_assert_close(attr_of(path, "/analysis/alignment/W0", "mean"), 0.225, 1e-14, 0);
    snn_assert_close(attr_of(path, "/analysis/alignment/W0", "last"), 0.2, 0, 0);
    snn_assert_close(attr_of(path, "/analysis/alignment/W0", "frac_positive"), 0.75, 0, 0);
    free(buf);

    /* A second run replaces /analysis (table output this time). */
    buf = NULL;
    out = open_memstream(&buf, &len);
    o.json = 0;
    o.seed = 2;
    rc = snn_analyze(path, &o, out, &err);
    fclose(out);
    if (rc)
        fail_msg("%s", err.msg);
    assert_non_null(strstr(buf, "mean_rate_hz"));
    assert_non_null(strstr(buf, "made: spikes, representation"));
    snn_assert_close(attr_of(path, "/analysis", "seed"), 2, 0, 0);
    free(buf);
    /* The pairs follow the seed: another seed draws other pairs, the same
       seed the same ones. */
    double *pairs2 = vec_of(path, "/analysis/exc/pair_i", &n);
    assert_memory_not_equal(pairs1, pairs2, n * sizeof *pairs1);
    free(pairs2);
    out = fopen("/dev/null", "w");
    o.seed = 1;
    assert_int_equal(snn_analyze(path, &o, out, &err), SNN_OK);
    fclose(out);
    pairs2 = vec_of(path, "/analysis/exc/pair_i", &n);
    assert_memory_equal(pairs1, pairs2, n * sizeof *pairs1);
    free(pairs2);
    free(pairs1);
    free(pairs1j);
    remove(path);
}

/* SONATA from another simulator: times in s, sorted by id, no /populations,
   no duration attribute. */
/* Per-batch fractions of cumulative counters, by hand: batches of 10, 0,
   30 and 20 local updates with 5, 0, 3 and 20 reversals. */
static void test_batch_fraction(void **state)
{
    (void)state;
    double num[4] = {5, 5, 8, 28}, den[4] = {10, 10, 40, 60}, f[4];
    snn_an_batch_fraction(num, den, 4, f);
    snn_assert_close(f[0], 0.5, 0, 0);
    assert_true(isnan(f[1]));
    snn_assert_close(f[2], 0.1, 1e-15, 0);
    snn_assert_close(f[3], 1.0, 0, 0);
    snn_an_batch_fraction(num, den, 4, num); /* in place */
    assert_memory_equal(num, f, sizeof f);
}

static void test_sonata_seconds(void **state)
{
    (void)state;
    const char *path = "analyze_sonata.h5";
    hid_t f = new_file(path);
    /* neuron 0: 0.1, 0.2, 0.3, 0.4 s (regular); neuron 1: 0.1, 0.3, 0.4 s. */
    const double t[7] = {0.1, 0.2, 0.3, 0.4, 0.4, 0.1, 0.3};
    const uint64_t id[7] = {0, 0, 0, 0, 1, 1, 1};
    put_f64(f, "/spikes/v1/timestamps", t, 7);
    put_u64(f, "/spikes/v1/node_ids", id, 7);
    hid_t d = H5Dopen2(f, "/spikes/v1/timestamps", H5P_DEFAULT);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 2);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(d, "units", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, st, "s");
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(st);
    H5Dclose(d);
    H5Fclose(f);

    hid_t h;
    snn_err err;
    assert_int_equal(snn_an_open(path, 0, &h, &err), SNN_OK);
    snn_an_trains tr;
    assert_int_equal(snn_an_read_trains(h, path, "v1", &tr, &err), SNN_OK);
    H5Fclose(h);
    assert_int_equal(tr.n_neurons, 2);
    assert_int_equal(tr.off[1], 4);
    snn_assert_close(tr.t[0], 100.0, 1e-12, 0);
    snn_assert_close(tr.t[4], 100.0, 1e-12, 0); /* neuron 1 sorted */
    snn_assert_close(tr.t[6], 400.0, 1e-12, 0);
    snn_assert_close(snn_an_cv_isi(tr.t, 4), 0.0, 0, 1e-12);
    snn_an_trains_clear(&tr);

    FILE *out = fopen("/dev/null", "w");
    assert_int_equal(snn_analyze(path, NULL, out, &err), SNN_OK);
    fclose(out);
    /* Duration = span of spike times (300 ms): 4 spikes -> 13.33 Hz. */
    snn_assert_close(attr_of(path, "/analysis/v1", "duration_ms"), 300.0, 1e-12, 0);
    snn_assert_close(attr_of(path, "/analysis/v1", "max_rate_hz"), 4.0 / 0.3, 1e-12, 0);
    remove(path);
}

static void test_errors(void **state)
{
    (void)state;
    snn_err err;
    FILE *out = fopen("/dev/null", "w");
    assert_int_equal(snn_analyze("no_such_file.h5", NULL, out, &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "no_such_file.h5: No such file"));

    FILE *t = fopen("analyze_text.h5", "w");
    fputs("not hdf5 at all\n", t);
    fclose(t);
    assert_int_equal(snn_analyze("analyze_text.h5", NULL, out, &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "not an HDF5 file"));
    remove("analyze_text.h5");

    hid_t f = new_file("analyze_empty.h5");
    put_str(f, "/config", "simulation = { dt_ms = 0.1; };");
    H5Fclose(f);
    assert_int_equal(snn_analyze("analyze_empty.h5", NULL, out, &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "nothing to analyze"));
    assert_int_equal(access("analyze_empty.h5.tmp", F_OK), -1);
    /* The file is untouched: no /analysis. */
    assert_int_equal(snn_an_open("analyze_empty.h5", 0, &f, &err), SNN_OK);
    assert_int_equal(snn_an_exists(f, "/analysis"), 0);
    H5Fclose(f);
    remove("analyze_empty.h5");

    /* Bad features: shapes that disagree -> error, original unchanged, no .tmp. */
    f = new_file("analyze_bad.h5");
    put_str(f, "/config", "evaluate = { assign = \"a\"; test = \"b\"; };");
    uint32_t x[6] = {0};
    uint64_t y[3] = {0, 1, 0};
    hsize_t d2[2] = {3, 2};
    put(f, "/features/a/exc", H5T_STD_U32LE, H5T_NATIVE_UINT32, 2, d2, x);
    put_u64(f, "/features/a/labels", y, 3);
    d2[1] = 3;
    d2[0] = 2;
    put(f, "/features/b/exc", H5T_STD_U32LE, H5T_NATIVE_UINT32, 2, d2, x);
    put_u64(f, "/features/b/labels", y, 2);
    H5Fclose(f);
    assert_int_equal(snn_analyze("analyze_bad.h5", NULL, out, &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "do not match"));
    assert_int_equal(access("analyze_bad.h5.tmp", F_OK), -1);
    assert_int_equal(snn_an_open("analyze_bad.h5", 0, &f, &err), SNN_OK);
    assert_int_equal(snn_an_exists(f, "/analysis"), 0);
    H5Fclose(f);
    remove("analyze_bad.h5");
    fclose(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cv_regular),      cmocka_unit_test(test_poisson_cv_fano),
        cmocka_unit_test(test_corr),            cmocka_unit_test(test_sparsity),
        cmocka_unit_test(test_selectivity),     cmocka_unit_test(test_probe_knn),
        cmocka_unit_test(test_receptive_fields), cmocka_unit_test(test_analyze_file),
        cmocka_unit_test(test_sonata_seconds),  cmocka_unit_test(test_errors),
        cmocka_unit_test(test_batch_fraction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
