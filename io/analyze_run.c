/*
 * io/analyze_run.c: `snn analyze` on a file — reads spikes, features, probes,
 * weight snapshots and readout alignment, computes the metrics of
 * io/analyze.c, prints a table or JSON, and writes /analysis into a copy
 * "<file>.tmp" that is fsynced and renamed over the original only when
 * complete.  Layout and definitions: io/analyze.h.
 */
#include "analyze.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "../sim/version.h"

/* ---- output: a table or JSON, and the HDF5 copy ------------------------- */

typedef struct actx {
    FILE *out;
    int json;
    int depth;
    int first[16];   /* JSON: no element yet at this depth */
    hid_t f;         /* the copy being written */
    const char *fname;
    char made[1024]; /* comma-separated parts made */
} actx;

static void j_sep(actx *c)
{
    if (!c->first[c->depth])
        fputc(',', c->out);
    c->first[c->depth] = 0;
    fprintf(c->out, "\n%*s", 2 * c->depth, "");
}

static void j_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void j_num(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.10g", v);
    else
        fputs("null", out);
}

static void sec_open(actx *c, const char *key)
{
    if (c->json) {
        j_sep(c);
        j_str(c->out, key);
        fputs(": {", c->out);
    } else {
        fprintf(c->out, "%*s%s:\n", 2 * c->depth, "", key);
    }
    if (c->depth < 15)
        c->depth++;
    c->first[c->depth] = 1;
}

static void sec_close(actx *c)
{
    c->depth--;
    if (c->json)
        fprintf(c->out, "\n%*s}", 2 * c->depth, "");
}

static void put_num(actx *c, const char *key, double v, const char *unit)
{
    if (c->json) {
        j_sep(c);
        j_str(c->out, key);
        fputs(": ", c->out);
        j_num(c->out, v);
    } else {
        /* Counts in full, other values to 4 digits. */
        int whole = v == floor(v) && fabs(v) < 1e15;
        fprintf(c->out, whole ? "%*s%-24s %.0f%s%s\n" : "%*s%-24s %.4g%s%s\n", 2 * c->depth, "",
                key, v, unit ? " " : "", unit ? unit : "");
    }
}

static void put_str(actx *c, const char *key, const char *v)
{
    if (c->json) {
        j_sep(c);
        j_str(c->out, key);
        fputs(": ", c->out);
        j_str(c->out, v);
    } else {
        fprintf(c->out, "%*s%-24s %s\n", 2 * c->depth, "", key, v);
    }
}

/* An array: JSON in full; the table shows up to 8 values (first 4 ... last 4). */
static void put_arr(actx *c, const char *key, const double *v, size_t n)
{
    if (c->json) {
        j_sep(c);
        j_str(c->out, key);
        fputs(": [", c->out);
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputs(", ", c->out);
            j_num(c->out, v[i]);
        }
        fputc(']', c->out);
        return;
    }
    fprintf(c->out, "%*s%-24s", 2 * c->depth, "", key);
    for (size_t i = 0; i < n; i++) {
        if (n > 8 && i == 4) {
            fputs(" ...", c->out);
            i = n - 4;
        }
        fprintf(c->out, " %.4g", v[i]);
    }
    fputc('\n', c->out);
}

static void made(actx *c, const char *what)
{
    size_t m = strlen(c->made);
    snprintf(c->made + m, sizeof c->made - m, "%s%s", m ? "," : "", what);
}

static int h5_fail(actx *c, snn_err *err, const char *what)
{
    H5Eclear2(H5E_DEFAULT);
    SNN_FAIL(err, SNN_EIO, "%s.tmp: cannot write %s", c->fname, what);
}

/* Variable-length UTF-8 string type, as io/h5.c writes (h5py reads str). */
static hid_t str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static int w_data(actx *c, const char *path, hid_t ftype, hid_t mtype, const void *v, size_t n,
                  const char *units, snn_err *err)
{
    hsize_t dim = n;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl >= 0)
        H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d = sp < 0 || lcpl < 0 ? -1 : H5Dcreate2(c->f, path, ftype, sp, lcpl, H5P_DEFAULT,
                                                    H5P_DEFAULT);
    int ok = d >= 0 && (!n || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    if (ok && units) {
        hid_t st = str_type();
        hid_t as = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(d, "units", st, as, H5P_DEFAULT, H5P_DEFAULT);
        ok = a >= 0 && H5Awrite(a, st, &units) >= 0;
        if (a >= 0)
            H5Aclose(a);
        H5Sclose(as);
        H5Tclose(st);
    }
    if (d >= 0)
        ok = H5Dclose(d) >= 0 && ok;
    if (sp >= 0)
        H5Sclose(sp);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    return ok ? SNN_OK : h5_fail(c, err, path);
}

static int w_f64(actx *c, const char *path, const double *v, size_t n, const char *units,
                 snn_err *err)
{
    return w_data(c, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, n, units, err);
}

static int w_u64(actx *c, const char *path, const uint64_t *v, size_t n, snn_err *err)
{
    return w_data(c, path, H5T_STD_U64LE, H5T_NATIVE_UINT64, v, n, NULL, err);
}

/* Open group `path` of the copy, creating it and its parents. */
static hid_t w_group(actx *c, const char *path)
{
    if (snn_an_exists(c->f, path))
        return H5Oopen(c->f, path, H5P_DEFAULT);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(c->f, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
}

static int w_attr(actx *c, const char *obj, const char *name, double v, snn_err *err)
{
    hid_t o = w_group(c, obj);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = o < 0 ? -1 : H5Acreate2(o, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &v) >= 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    if (o >= 0)
        H5Oclose(o);
    return ok ? SNN_OK : h5_fail(c, err, name);
}

static int w_attr_str(actx *c, const char *obj, const char *name, const char *v, snn_err *err)
{
    hid_t o = w_group(c, obj);
    hid_t st = str_type();
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = o < 0 ? -1 : H5Acreate2(o, name, st, sp, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, st, &v) >= 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(st);
    if (o >= 0)
        H5Oclose(o);
    return ok ? SNN_OK : h5_fail(c, err, name);
}

/* Scalar: printed and stored as an attribute of `obj`. */
static int num(actx *c, const char *obj, const char *key, double v, const char *unit,
               snn_err *err)
{
    put_num(c, key, v, unit);
    return w_attr(c, obj, key, v, err);
}

/* Mean of the finite values; NaN if none. */
static double finite_mean(const double *v, size_t n)
{
    double s = 0.0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += v[i];
            m++;
        }
    return m ? s / (double)m : NAN;
}

/* ---- spike statistics --------------------------------------------------- */

enum { MIN_BINS = 10 }; /* fewest count windows for Fano factor and correlation */

static int spike_stats(actx *c, const char *pop, const snn_an_opts *o, double dur_attr,
                       double dt_ms, snn_err *err)
{
    snn_an_trains tr;
    int rc = snn_an_read_trains(c->f, c->fname, pop, &tr, err);
    if (rc)
        return rc;
    size_t nn = tr.n_neurons;
    double t0 = 0.0, dur = dur_attr;
    if (!(dur > 0)) {
        t0 = tr.t_min;
        dur = tr.t_max - tr.t_min;
    }
    /* At least MIN_BINS count windows: shorter recordings use dur / MIN_BINS. */
    double bin = o->bin_ms * MIN_BINS <= dur ? o->bin_ms : dur / MIN_BINS;
    size_t nb = bin > 0 ? (size_t)floor(dur / bin + 1e-9) : 0;
    double *rate = malloc((nn ? nn : 1) * sizeof *rate);
    double *cv = malloc((nn ? nn : 1) * sizeof *cv), *fano = malloc((nn ? nn : 1) * sizeof *fano);
    double *sorted = malloc((nn ? nn : 1) * sizeof *sorted);
    double *b1 = malloc((nb ? nb : 1) * sizeof *b1), *b2 = malloc((nb ? nb : 1) * sizeof *b2);
    size_t npair = nn >= 2 && nb >= 2 ? o->n_pairs : 0;
    double *corr = malloc((npair ? npair : 1) * sizeof *corr);
    uint64_t *pi = malloc((npair ? npair : 1) * sizeof *pi);
    uint64_t *pj = malloc((npair ? npair : 1) * sizeof *pj);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rate || !cv || !fano || !sorted || !b1 || !b2 || !corr || !pi || !pj || !rng) {
        rc = snn_err_set(err, SNN_ENOMEM, "%s: out of memory for spike statistics of %s",
                         c->fname, pop);
        goto out;
    }
    size_t silent = 0, saturated = 0;
    for (size_t i = 0; i < nn; i++) {
        const double *t = tr.t + tr.off[i];
        size_t m = tr.off[i + 1] - tr.off[i];
        rate[i] = dur > 0 ? (double)m / (dur / 1000.0) : NAN;
        cv[i] = snn_an_cv_isi(t, m);
        snn_an_bin(t, m, t0, bin, nb, b1);
        fano[i] = snn_an_fano(b1, nb);
        silent += m == 0;
        saturated += dt_ms > 0 && dur > 0 && (double)m >= 0.5 * dur / dt_ms;
    }
    /* Pairs: all of them when there are no more than n_pairs, else drawn with
       a seeded generator (distinct i != j, repeats possible). */
    gsl_rng_set(rng, (unsigned long)o->seed);
    size_t all = nn >= 2 ? nn * (nn - 1) / 2 : 0;
    if (all <= npair) {
        npair = 0;
        for (size_t i = 0; i < nn; i++)
            for (size_t j = i + 1; j < nn; j++) {
                pi[npair] = i;
                pj[npair++] = j;
            }
    } else {
        for (size_t p = 0; p < npair; p++) {
            size_t i = (size_t)gsl_rng_uniform_int(rng, nn);
            size_t j = (size_t)gsl_rng_uniform_int(rng, nn - 1);
            j += j >= i;
            pi[p] = i < j ? i : j;
            pj[p] = i < j ? j : i;
        }
    }
    for (size_t p = 0; p < npair; p++) {
        snn_an_bin(tr.t + tr.off[pi[p]], tr.off[pi[p] + 1] - tr.off[pi[p]], t0, bin, nb, b1);
        snn_an_bin(tr.t + tr.off[pj[p]], tr.off[pj[p] + 1] - tr.off[pj[p]], t0, bin, nb, b2);
        corr[p] = snn_an_corr(b1, b2, nb);
    }
    char g[1200], path[1300];
    snprintf(g, sizeof g, "/analysis/%s", pop[0] ? pop : "spikes");
    sec_open(c, pop[0] ? pop : "spikes");
    snprintf(path, sizeof path, "%s/rate_hz", g);
    if ((rc = w_f64(c, path, rate, nn, "Hz", err)))
        goto out;
    snprintf(path, sizeof path, "%s/cv_isi", g);
    if ((rc = w_f64(c, path, cv, nn, NULL, err)))
        goto out;
    snprintf(path, sizeof path, "%s/fano", g);
    if ((rc = w_f64(c, path, fano, nn, NULL, err)))
        goto out;
    snprintf(path, sizeof path, "%s/pair_corr", g);
    if ((rc = w_f64(c, path, corr, npair, NULL, err)))
        goto out;
    snprintf(path, sizeof path, "%s/pair_i", g);
    if ((rc = w_u64(c, path, pi, npair, err)))
        goto out;
    snprintf(path, sizeof path, "%s/pair_j", g);
    if ((rc = w_u64(c, path, pj, npair, err)))
        goto out;
    double mean = nn ? gsl_stats_mean(rate, 1, nn) : NAN;
    double sd = nn > 1 ? gsl_stats_sd_with_fixed_mean(rate, 1, nn, mean) : NAN;
    memcpy(sorted, rate, nn * sizeof *rate);
    gsl_sort(sorted, 1, nn);
    double q[5] = {NAN, NAN, NAN, NAN, NAN};
    static const double qf[5] = {0.0, 0.1, 0.5, 0.9, 1.0};
    static const char *const qn[5] = {"min_rate_hz", "p10_rate_hz", "median_rate_hz",
                                      "p90_rate_hz", "max_rate_hz"};
    for (int k = 0; nn && dur > 0 && k < 5; k++)
        q[k] = gsl_stats_quantile_from_sorted_data(sorted, 1, nn, qf[k]);
    if ((rc = num(c, g, "n_neurons", (double)nn, NULL, err)) ||
        (rc = num(c, g, "n_spikes", (double)tr.n_spikes, NULL, err)) ||
        (rc = num(c, g, "duration_ms", dur, "ms", err)) ||
        (rc = num(c, g, "bin_ms", bin, "ms", err)) ||
        (rc = num(c, g, "mean_rate_hz", mean, "Hz", err)) ||
        (rc = num(c, g, "sd_rate_hz", sd, "Hz", err)))
        goto out;
    for (int k = 0; k < 5; k++)
        if ((rc = num(c, g, qn[k], q[k], "Hz", err)))
            goto out;
    if ((rc = num(c, g, "mean_cv_isi", finite_mean(cv, nn), NULL, err)) ||
        (rc = num(c, g, "mean_fano", finite_mean(fano, nn), NULL, err)) ||
        (rc = num(c, g, "mean_pair_corr", finite_mean(corr, npair), NULL, err)) ||
        (rc = num(c, g, "n_pairs", (double)npair, NULL, err)) ||
        (rc = num(c, g, "n_silent", (double)silent, NULL, err)) ||
        (rc = num(c, g, "n_saturated", dt_ms > 0 ? (double)saturated : NAN, NULL, err)))
        goto out;
    sec_close(c);
out:
    free(rate);
    free(cv);
    free(fano);
    free(sorted);
    free(b1);
    free(b2);
    free(corr);
    free(pi);
    free(pj);
    gsl_rng_free(rng);
    snn_an_trains_clear(&tr);
    return rc;
}

/* ---- representation ------------------------------------------------------ */

typedef struct rep_out {
    double probe, knn, pop_sparse, life_sparse, mean_sel;
} rep_out;

static size_t n_classes_of(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    uint64_t m = 0;
    for (size_t i = 0; i < na; i++)
        m = a[i] > m && a[i] < 1u << 20 ? a[i] : m;
    for (size_t i = 0; i < nb; i++)
        m = b[i] > m && b[i] < 1u << 20 ? b[i] : m;
    return (size_t)m + 1;
}

/* Probe, kNN on (train -> test) and sparsity / selectivity of `rs` [nrs, d]
   with labels `yrs`; sel/pref may be NULL. */
static int represent(const snn_an_opts *o, const double *xtr, const uint64_t *ytr, size_t ntr,
                     const double *xte, const uint64_t *yte, size_t nte, size_t d,
                     const double *rs, const uint64_t *yrs, size_t nrs, size_t nc, double *sel,
                     uint64_t *pref, rep_out *r, snn_err *err)
{
    int rc;
    r->probe = r->knn = r->mean_sel = NAN;
    snn_an_sparsity(rs, nrs, d, &r->pop_sparse, &r->life_sparse);
    if (nc < 2 || !ntr || !nte)
        return SNN_OK;
    size_t nk = nte < o->knn_max_test ? nte : o->knn_max_test;
    if ((rc = snn_an_linear_probe(xtr, ytr, ntr, xte, yte, nte, d, nc, o->ridge_lambda,
                                  &r->probe, err)) ||
        (rc = snn_an_knn(xtr, ytr, ntr, xte, yte, nk, d, nc, o->knn_k, &r->knn, err)) ||
        (rc = snn_an_selectivity(rs, yrs, nrs, d, nc, sel, pref, &r->mean_sel, err)))
        return rc;
    return SNN_OK;
}

/* The `evaluate` phases from /config (assign -> train, test), else phases
   named "train" or "assign", and "test". */
static void eval_phases(hid_t f, char *tr, char *te, size_t len)
{
    tr[0] = te[0] = '\0';
    char *cfgtext = snn_an_read_str(f, "/config");
    if (cfgtext) {
        config_t cf;
        config_init(&cf);
        const char *a = NULL, *b = NULL;
        if (config_read_string(&cf, cfgtext) == CONFIG_TRUE &&
            config_lookup_string(&cf, "evaluate.assign", &a) == CONFIG_TRUE &&
            config_lookup_string(&cf, "evaluate.test", &b) == CONFIG_TRUE) {
            snprintf(tr, len, "%s", a);
            snprintf(te, len, "%s", b);
        }
        config_destroy(&cf);
        free(cfgtext);
    }
    if (tr[0])
        return;
    if (snn_an_exists(f, "/features/train"))
        snprintf(tr, len, "train");
    else if (snn_an_exists(f, "/features/assign"))
        snprintf(tr, len, "assign");
    if (snn_an_exists(f, "/features/test"))
        snprintf(te, len, "test");
}

static int features(actx *c, const snn_an_opts *o, int *did, snn_err *err)
{
    char trn[256], ten[256];
    eval_phases(c->f, trn, ten, sizeof trn);
    if (!trn[0] || !ten[0])
        return SNN_OK;
    char p[1200], q[1200];
    snprintf(p, sizeof p, "/features/%s", trn);
    char **pops;
    size_t np;
    int rc = snn_an_list(c->f, p, &pops, &np, err);
    if (rc)
        return rc;
    for (size_t k = 0; !rc && k < np; k++) {
        if (!strcmp(pops[k], "labels") || !strcmp(pops[k], "indices"))
            continue;
        snprintf(p, sizeof p, "/features/%s/%s", trn, pops[k]);
        snprintf(q, sizeof q, "/features/%s/%s", ten, pops[k]);
        if (!snn_an_is_dataset(c->f, p) || !snn_an_is_dataset(c->f, q))
            continue;
        double *xtr = NULL, *xte = NULL, *sel = NULL;
        uint64_t *ytr = NULL, *yte = NULL, *pref = NULL;
        size_t d1[3], d2[3], d3[3], d4[3];
        int r1, r2, r3, r4;
        char lp[1200], lq[1200];
        snprintf(lp, sizeof lp, "/features/%s/labels", trn);
        snprintf(lq, sizeof lq, "/features/%s/labels", ten);
        if (!snn_an_is_dataset(c->f, lp) || !snn_an_is_dataset(c->f, lq))
            continue;
        if ((rc = snn_an_read_f64(c->f, c->fname, p, &xtr, d1, &r1, err)) ||
            (rc = snn_an_read_f64(c->f, c->fname, q, &xte, d2, &r2, err)) ||
            (rc = snn_an_read_u64(c->f, c->fname, lp, &ytr, d3, &r3, err)) ||
            (rc = snn_an_read_u64(c->f, c->fname, lq, &yte, d4, &r4, err)))
            goto next;
        if (r1 != 2 || r2 != 2 || d1[1] != d2[1] || r3 != 1 || r4 != 1 || d3[0] != d1[0] ||
            d4[0] != d2[0]) {
            rc = snn_err_set(err, SNN_EIO,
                             "%s: features %s and %s (and their labels) do not match in shape",
                             c->fname, p, q);
            goto next;
        }
        size_t d = d1[1], nc = n_classes_of(ytr, d3[0], yte, d4[0]);
        sel = malloc((d ? d : 1) * sizeof *sel);
        pref = malloc((d ? d : 1) * sizeof *pref);
        if (!sel || !pref) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory");
            goto next;
        }
        rep_out r;
        if ((rc = represent(o, xtr, ytr, d1[0], xte, yte, d2[0], d, xte, yte, d2[0], nc, sel,
                            pref, &r, err)))
            goto next;
        if (!*did)
            sec_open(c, "representation");
        *did = 1;
        sec_open(c, pops[k]);
        char g[600];
        snprintf(g, sizeof g, "/analysis/representation/%.500s", pops[k]);
        put_str(c, "train_phase", trn);
        put_str(c, "test_phase", ten);
        snprintf(p, sizeof p, "%s/selectivity", g);
        snprintf(q, sizeof q, "%s/preferred_class", g);
        if ((rc = w_attr_str(c, g, "train_phase", trn, err)) ||
            (rc = w_attr_str(c, g, "test_phase", ten, err)) ||
            (rc = w_f64(c, p, sel, nc >= 2 ? d : 0, NULL, err)) ||
            (rc = w_u64(c, q, pref, nc >= 2 ? d : 0, err)) ||
            (rc = num(c, g, "linear_probe_accuracy", r.probe, NULL, err)) ||
            (rc = num(c, g, "knn_accuracy", r.knn, NULL, err)) ||
            (rc = num(c, g, "population_sparsity", r.pop_sparse, NULL, err)) ||
            (rc = num(c, g, "lifetime_sparsity", r.life_sparse, NULL, err)) ||
            (rc = num(c, g, "mean_selectivity", r.mean_sel, NULL, err)))
            goto next;
        sec_close(c);
    next:
        free(xtr);
        free(xte);
        free(ytr);
        free(yte);
        free(sel);
        free(pref);
    }
    snn_an_names_free(pops, np);
    return rc;
}

/* /probe/<pop>/counts [S, P, N] at every snapshot, split into train and test
   halves per class (see below). */
static int emergence(actx *c, const snn_an_opts *o, snn_err *err)
{
    if (!snn_an_is_dataset(c->f, "/probe/labels"))
        return SNN_OK;
    char **pops;
    size_t np;
    int rc = snn_an_list(c->f, "/probe", &pops, &np, err);
    if (rc)
        return rc;
    uint64_t *lab = NULL, *samples = NULL;
    unsigned char *side = NULL;
    size_t *pos = NULL, *seen = NULL;
    size_t dl[3], ds[3] = {0, 1, 1};
    int rl, rs = 0, opened = 0;
    if ((rc = snn_an_read_u64(c->f, c->fname, "/probe/labels", &lab, dl, &rl, err)))
        goto out;
    if (snn_an_is_dataset(c->f, "/probe/samples") &&
        (rc = snn_an_read_u64(c->f, c->fname, "/probe/samples", &samples, ds, &rs, err)))
        goto out;
    size_t P = dl[0], nc = n_classes_of(lab, P, NULL, 0);
    /* Split per class: the 1st, 3rd, ... probe of each class trains, the
       2nd, 4th, ... tests (labels beyond the class range share a counter). */
    side = malloc((P ? P : 1) * sizeof *side);
    pos = malloc((P ? P : 1) * sizeof *pos);
    seen = calloc(nc + 1, sizeof *seen);
    if (!side || !pos || !seen) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the probe split");
        goto out;
    }
    size_t fill[2] = {0, 0};
    for (size_t j = 0; j < P; j++) {
        size_t cl = lab[j] < nc ? (size_t)lab[j] : nc;
        side[j] = (unsigned char)(seen[cl]++ % 2);
        pos[j] = fill[side[j]]++;
    }
    for (size_t k = 0; !rc && k < np; k++) {
        char p[1200];
        snprintf(p, sizeof p, "/probe/%s/counts", pops[k]);
        if (!snn_an_is_dataset(c->f, p))
            continue;
        double *x = NULL, *tr = NULL, *te = NULL, *m[5] = {0};
        uint64_t *ytr = NULL, *yte = NULL;
        size_t dx[3];
        int rx;
        if ((rc = snn_an_read_f64(c->f, c->fname, p, &x, dx, &rx, err)))
            goto next;
        if (rx != 3 || dx[1] != P || P < 2 || (samples && ds[0] != dx[0])) {
            rc = snn_err_set(err, SNN_EIO,
                             "%s: %s is not [S, P, N] with P = %zu probe labels%s", c->fname,
                             p, P, samples ? " and S = len(/probe/samples)" : "");
            goto next;
        }
        size_t S = dx[0], N = dx[2], ntr = 0, nte;
        for (size_t j = 0; j < P; j++)
            ntr += !side[j];
        nte = P - ntr;
        tr = malloc((ntr * N + 1) * sizeof *tr);
        te = malloc((nte * N + 1) * sizeof *te);
        ytr = malloc((ntr + 1) * sizeof *ytr);
        yte = malloc((nte + 1) * sizeof *yte);
        for (int q = 0; q < 5; q++)
            m[q] = malloc((S ? S : 1) * sizeof *m[q]);
        if (!tr || !te || !ytr || !yte || !m[0] || !m[1] || !m[2] || !m[3] || !m[4]) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for %s", p);
            goto next;
        }
        for (size_t j = 0; j < P; j++)
            (side[j] ? yte : ytr)[pos[j]] = lab[j];
        for (size_t s = 0; s < S; s++) {
            const double *xs = x + s * P * N;
            for (size_t j = 0; j < P; j++)
                memcpy((side[j] ? te : tr) + pos[j] * N, xs + j * N, N * sizeof *xs);
            rep_out r;
            if ((rc = represent(o, tr, ytr, ntr, te, yte, nte, N, xs, lab, P, nc, NULL, NULL, &r,
                                err)))
                goto next;
            m[0][s] = r.probe;
            m[1][s] = r.knn;
            m[2][s] = r.pop_sparse;
            m[3][s] = r.life_sparse;
            m[4][s] = r.mean_sel;
        }
        if (!opened++) {
            sec_open(c, "emergence");
            if (samples) {
                double *sd = malloc((ds[0] ? ds[0] : 1) * sizeof *sd);
                if (!sd) {
                    rc = snn_err_set(err, SNN_ENOMEM, "out of memory");
                    goto next;
                }
                for (size_t s = 0; s < ds[0]; s++)
                    sd[s] = (double)samples[s];
                put_arr(c, "samples", sd, ds[0]);
                free(sd);
                if ((rc = w_u64(c, "/analysis/emergence/samples", samples, ds[0], err)))
                    goto next;
            }
        }
        sec_open(c, pops[k]);
        static const char *const names[5] = {"linear_probe_accuracy", "knn_accuracy",
                                             "population_sparsity", "lifetime_sparsity",
                                             "mean_selectivity"};
        for (int q = 0; q < 5; q++) {
            char path[1300];
            snprintf(path, sizeof path, "/analysis/emergence/%s/%s", pops[k], names[q]);
            put_arr(c, names[q], m[q], S);
            if ((rc = w_f64(c, path, m[q], S, NULL, err)))
                goto next;
        }
        sec_close(c);
    next:
        free(x);
        free(tr);
        free(te);
        free(ytr);
        free(yte);
        for (int q = 0; q < 5; q++)
            free(m[q]);
    }
    if (opened) {
        sec_close(c);
        made(c, "emergence");
    }
out:
    free(lab);
    free(samples);
    free(side);
    free(pos);
    free(seen);
    snn_an_names_free(pops, np);
    return rc;
}

/* ---- receptive fields ----------------------------------------------------- */

static int receptive(actx *c, const snn_an_opts *o, snn_err *err)
{
    char **projs;
    size_t np;
    int rc = snn_an_list(c->f, "/weights", &projs, &np, err), opened = 0;
    if (rc)
        return rc;
    for (size_t k = 0; !rc && k < np; k++) {
        char p[1200];
        snprintf(p, sizeof p, "/weights/%s/values", projs[k]);
        if (!snn_an_is_dataset(c->f, p))
            continue;
        double *v = NULL, *dense = NULL, *mc = NULL, *npro = NULL, *times = NULL;
        uint64_t *pre = NULL, *post = NULL;
        size_t dv[3], dp[3], dq[3], dt[3] = {0, 1, 1};
        int rv, rp, rq, rt;
        if ((rc = snn_an_read_f64(c->f, c->fname, p, &v, dv, &rv, err)))
            goto next;
        size_t S = dv[0], n_pre, n_post;
        if (rv == 3) {
            n_pre = dv[1];
            n_post = dv[2];
        } else if (rv == 2) {
            char a[1200], b[1200];
            snprintf(a, sizeof a, "/weights/%s/pre", projs[k]);
            snprintf(b, sizeof b, "/weights/%s/post", projs[k]);
            if ((rc = snn_an_read_u64(c->f, c->fname, a, &pre, dp, &rp, err)) ||
                (rc = snn_an_read_u64(c->f, c->fname, b, &post, dq, &rq, err)))
                goto next;
            if (dp[0] != dv[1] || dq[0] != dv[1]) {
                rc = snn_err_set(err, SNN_EIO, "%s: %s has %zu values per snapshot but %zu pre "
                                 "and %zu post indices", c->fname, p, dv[1], dp[0], dq[0]);
                goto next;
            }
            n_pre = n_post = 0;
            for (size_t s = 0; s < dv[1]; s++) {
                n_pre = pre[s] + 1 > n_pre ? (size_t)pre[s] + 1 : n_pre;
                n_post = post[s] + 1 > n_post ? (size_t)post[s] + 1 : n_post;
            }
            if (n_pre > 1u << 20 || n_post > 1u << 20)
                goto next;
            if (!(dense = calloc(n_pre * n_post + 1, sizeof *dense))) {
                rc = snn_err_set(err, SNN_ENOMEM, "out of memory for %s", p);
                goto next;
            }
        } else {
            goto next;
        }
        mc = malloc((S ? S : 1) * sizeof *mc);
        npro = malloc((S ? S : 1) * sizeof *npro);
        if (!mc || !npro) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for %s", p);
            goto next;
        }
        for (size_t s = 0; s < S; s++) {
            const double *w;
            if (rv == 3) {
                w = v + s * n_pre * n_post;
            } else {
                for (size_t e = 0; e < dv[1]; e++)
                    dense[pre[e] * n_post + post[e]] = v[s * dv[1] + e];
                w = dense;
            }
            size_t n_p;
            if ((rc = snn_an_receptive_fields(w, n_pre, n_post, o->proto_cos, &mc[s], &n_p,
                                              err)))
                goto next;
            npro[s] = (double)n_p;
        }
        if (!opened++)
            sec_open(c, "receptive_fields");
        sec_open(c, projs[k]);
        char g[1200], path[1300];
        snprintf(g, sizeof g, "/analysis/receptive_fields/%s", projs[k]);
        snprintf(path, sizeof path, "/weights/%s/times", projs[k]);
        if (snn_an_is_dataset(c->f, path) &&
            (rc = snn_an_read_f64(c->f, c->fname, path, &times, dt, &rt, err)))
            goto next;
        if (times && dt[0] == S) {
            put_arr(c, "times_ms", times, S);
            snprintf(path, sizeof path, "%s/times", g);
            if ((rc = w_f64(c, path, times, S, "ms", err)))
                goto next;
        }
        snprintf(path, sizeof path, "/weights/%s/samples", projs[k]);
        if (snn_an_is_dataset(c->f, path)) {
            uint64_t *smp = NULL;
            size_t dsm[3];
            int rsm;
            if ((rc = snn_an_read_u64(c->f, c->fname, path, &smp, dsm, &rsm, err)))
                goto next;
            snprintf(path, sizeof path, "%s/samples", g);
            double *sd = rsm == 1 && dsm[0] == S ? malloc((S ? S : 1) * sizeof *sd) : NULL;
            if (sd) {
                for (size_t s = 0; s < S; s++)
                    sd[s] = (double)smp[s];
                put_arr(c, "samples", sd, S);
                rc = w_u64(c, path, smp, S, err);
                free(sd);
            }
            free(smp);
            if (rc)
                goto next;
        }
        put_arr(c, "mean_cosine", mc, S);
        put_arr(c, "n_prototypes", npro, S);
        snprintf(path, sizeof path, "%s/mean_cosine", g);
        if ((rc = w_f64(c, path, mc, S, NULL, err)))
            goto next;
        snprintf(path, sizeof path, "%s/n_prototypes", g);
        if ((rc = w_f64(c, path, npro, S, NULL, err)))
            goto next;
        if ((rc = num(c, g, "n_pre", (double)n_pre, NULL, err)) ||
            (rc = num(c, g, "n_post", (double)n_post, NULL, err)) ||
            (rc = num(c, g, "diversity", S ? fmax(0.0, 1.0 - mc[S - 1]) : NAN, NULL, err)))
            goto next;
        sec_close(c);
    next:
        free(v);
        free(dense);
        free(mc);
        free(npro);
        free(times);
        free(pre);
        free(post);
    }
    if (opened) {
        sec_close(c);
        made(c, "receptive_fields");
    }
    snn_an_names_free(projs, np);
    return rc;
}

/* ---- guided learning ---------------------------------------------------------- */

/* Mean of the finite values among the first (last = 0) or last tenth of
   v[0..n), at least one value. */
static double tenth_mean(const double *v, size_t n, int last)
{
    size_t m = n / 10 ? n / 10 : 1;
    if (m > n)
        m = n;
    return finite_mean(last ? v + (n - m) : v, m);
}

static int guidance(actx *c, snn_err *err)
{
    char **projs;
    size_t np;
    int rc = snn_an_list(c->f, "/ghl", &projs, &np, err), opened = 0;
    if (rc)
        return rc;
    for (size_t k = 0; !rc && k < np; k++) {
        snn_an_guidance g;
        if ((rc = snn_an_read_guidance(c->f, c->fname, projs[k], &g, err)))
            break;
        if (!opened++)
            sec_open(c, "guidance");
        sec_open(c, projs[k]);
        char grp[1200], p[1300];
        snprintf(grp, sizeof grp, "/analysis/guidance/%s", projs[k]);
        size_t n = g.n;
        snprintf(p, sizeof p, "%s/reversed_fraction", grp);
        rc = w_f64(c, p, g.reversed, n, NULL, err);
        snprintf(p, sizeof p, "%s/gated_fraction", grp);
        if (!rc)
            rc = w_f64(c, p, g.gated, n, NULL, err);
        if (!rc)
            rc = num(c, grp, "n_batches", (double)n, NULL, err);
        if (!rc)
            rc = num(c, grp, "samples", n ? g.samples[n - 1] : 0.0, NULL, err);
        struct {
            const char *key;
            const double *v;
            int last;
        } m[6] = {{"accuracy_first", g.accuracy, 0}, {"accuracy_last", g.accuracy, 1},
                  {"reversed_first", g.reversed, 0}, {"reversed_last", g.reversed, 1},
                  {"gated_first", g.gated, 0},       {"gated_last", g.gated, 1}};
        for (int q = 0; q < 6 && !rc; q++)
            rc = num(c, grp, m[q].key, n ? tenth_mean(m[q].v, n, m[q].last) : NAN, NULL, err);
        sec_close(c);
        snn_an_guidance_clear(&g);
    }
    if (opened) {
        sec_close(c);
        made(c, "guidance");
    }
    snn_an_names_free(projs, np);
    return rc;
}

/* ---- readout alignment and stored results ----------------------------------- */

static int alignment(actx *c, snn_err *err)
{
    char **ds;
    size_t n;
    int rc = snn_an_list(c->f, "/readout/alignment", &ds, &n, err), opened = 0;
    if (rc)
        return rc;
    for (size_t k = 0; !rc && k < n; k++) {
        char p[1200];
        snprintf(p, sizeof p, "/readout/alignment/%s", ds[k]);
        if (!strcmp(ds[k], "step") || !snn_an_is_dataset(c->f, p))
            continue;
        double *v = NULL;
        size_t dv[3];
        int rv;
        if ((rc = snn_an_read_f64(c->f, c->fname, p, &v, dv, &rv, err)))
            break;
        size_t m = rv == 1 ? dv[0] : 0, pos = 0, fin = 0;
        for (size_t i = 0; i < m; i++) {
            fin += isfinite(v[i]);
            pos += v[i] > 0;
        }
        if (!opened++)
            sec_open(c, "alignment");
        sec_open(c, ds[k]);
        char g[1300];
        snprintf(g, sizeof g, "/analysis/alignment/%s", ds[k]);
        if (!(rc = num(c, g, "n", (double)m, NULL, err)) &&
            !(rc = num(c, g, "mean", finite_mean(v, m), NULL, err)) &&
            !(rc = num(c, g, "last", m ? v[m - 1] : NAN, NULL, err)))
            rc = num(c, g, "frac_positive", fin ? (double)pos / (double)fin : NAN, NULL, err);
        sec_close(c);
        free(v);
    }
    if (opened) {
        sec_close(c);
        made(c, "alignment");
    }
    snn_an_names_free(ds, n);
    return rc;
}

static void results(actx *c)
{
    double a;
    int opened = 0;
    static const char *const grp[2] = {"/results/vote", "/readout/results"};
    static const char *const key[2] = {"vote_accuracy", "readout_accuracy"};
    for (int k = 0; k < 2; k++)
        if (snn_an_attr_num(c->f, grp[k], "accuracy", &a)) {
            if (!opened++)
                sec_open(c, "stored_results");
            put_num(c, key[k], a, NULL);
        }
    if (opened)
        sec_close(c);
}

/* ---- the command ---------------------------------------------------------- */

/* Copy file `from` to `to` (created or truncated, with from's permission
   bits); on failure `to` is removed. */
static int copy_file(const char *from, const char *to, snn_err *err)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        SNN_FAIL(err, SNN_EIO, "%s: %s", from, strerror(errno));
    struct stat sb;
    int fd = fstat(fileno(in), &sb) == 0
                 ? open(to, O_WRONLY | O_CREAT | O_TRUNC, sb.st_mode & 07777)
                 : -1;
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        fclose(in);
        SNN_FAIL(err, SNN_EIO, "%s: %s", to, strerror(e));
    }
    char buf[1 << 16];
    size_t n;
    int bad = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            bad = 1;
            break;
        }
    bad |= ferror(in);
    fclose(in);
    bad |= fclose(out) != 0;
    if (bad) {
        remove(to);
        SNN_FAIL(err, SNN_EIO, "%s: cannot copy to %s: %s", from, to, strerror(errno));
    }
    return SNN_OK;
}

/* fsync a file or directory by name; 0 on success. */
static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

int snn_analyze(const char *path, const snn_an_opts *opts, FILE *out, snn_err *err)
{
    snn_an_opts o;
    if (opts)
        o = *opts;
    else
        snn_an_opts_default(&o);
    if (!out)
        SNN_FAIL(err, SNN_EINTERNAL, "snn_analyze: NULL output stream");
    if (!(o.bin_ms > 0) || !o.knn_k || !(o.ridge_lambda > 0))
        SNN_FAIL(err, SNN_ECFG, "analyze: bin_ms, ridge_lambda and knn_k must be positive");
    /* Check the original first: clear messages, nothing created on failure. */
    hid_t f;
    int rc = snn_an_open(path, 0, &f, err);
    if (rc)
        return rc;
    char **pops = NULL;
    size_t npops = 0;
    rc = snn_an_spike_pops(f, &pops, &npops, err);
    int other = snn_an_exists(f, "/features") || snn_an_exists(f, "/probe") ||
                snn_an_exists(f, "/weights") || snn_an_exists(f, "/readout") ||
                snn_an_exists(f, "/ghl");
    H5Fclose(f);
    if (rc)
        return rc;
    if (!npops && !other) {
        snn_an_names_free(pops, npops);
        SNN_FAIL(err, SNN_EIO,
                 "%s: nothing to analyze: no spikes (/spikes/<pop>/timestamps) and no "
                 "features, probes, weights or readout",
                 path);
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        snn_an_names_free(pops, npops);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    if ((rc = copy_file(path, tmp, err))) {
        snn_an_names_free(pops, npops);
        free(tmp);
        return rc;
    }
    actx c = {.out = out, .json = o.json, .f = H5I_INVALID_HID, .fname = path};
    c.first[0] = 1;
    if ((rc = snn_an_open(tmp, 1, &c.f, err)))
        goto fail;
    if (snn_an_exists(c.f, "/analysis") && H5Ldelete(c.f, "/analysis", H5P_DEFAULT) < 0) {
        rc = h5_fail(&c, err, "/analysis (removing the old one)");
        goto fail;
    }
    double dur = 0.0, dt = 0.0;
    snn_an_attr_num(c.f, "/", "duration_ms", &dur);
    snn_an_attr_num(c.f, "/", "dt_ms", &dt);
    if (c.json) {
        fputc('{', out);
        put_str(&c, "file", path);
    } else {
        fprintf(out, "file: %s\n", path);
    }
    if (npops) {
        sec_open(&c, "spikes");
        for (size_t k = 0; !rc && k < npops; k++)
            rc = spike_stats(&c, pops[k], &o, dur, dt, err);
        sec_close(&c);
        if (rc)
            goto fail;
        made(&c, "spikes");
    }
    int did = 0;
    if ((rc = features(&c, &o, &did, err)))
        goto fail;
    if (did) {
        sec_close(&c);
        made(&c, "representation");
    }
    if ((rc = emergence(&c, &o, err)) || (rc = receptive(&c, &o, err)) ||
        (rc = guidance(&c, err)) || (rc = alignment(&c, err)))
        goto fail;
    results(&c);
    if ((rc = w_attr_str(&c, "/analysis", "snn_version", snn_version, err)) ||
        (rc = w_attr(&c, "/analysis", "bin_ms", o.bin_ms, err)) ||
        (rc = w_attr(&c, "/analysis", "seed", (double)o.seed, err)) ||
        (rc = w_attr_str(&c, "/analysis", "made", c.made, err)))
        goto fail;
    if (c.json) {
        j_sep(&c);
        j_str(out, "made");
        fputs(": [", out);
    } else {
        fprintf(out, "made: ");
    }
    {
        const char *s = c.made;
        int first = 1;
        while (*s) {
            const char *e = strchr(s, ',');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (c.json)
                fprintf(out, "%s\"%.*s\"", first ? "" : ", ", (int)n, s);
            else
                fprintf(out, "%s%.*s", first ? "" : ", ", (int)n, s);
            first = 0;
            s += n + (e != NULL);
        }
    }
    fputs(c.json ? "]\n}\n" : "\n", out);
    if (H5Fclose(c.f) < 0) {
        c.f = H5I_INVALID_HID;
        rc = snn_err_set(err, SNN_EIO, "%s: cannot close the updated copy", tmp);
        goto fail;
    }
    c.f = H5I_INVALID_HID;
    if (fsync_path(tmp) != 0 || rename(tmp, path) != 0) {
        rc = snn_err_set(err, SNN_EIO, "%s: cannot replace with %s: %s", path, tmp,
                         strerror(errno));
        goto fail;
    }
    /* Make the rename durable: sync the directory (best effort). */
    {
        const char *slash = strrchr(path, '/');
        if (slash && slash != path) {
            tmp[slash - path] = '\0'; /* tmp starts with path */
            fsync_path(tmp);
        } else {
            fsync_path(slash ? "/" : ".");
        }
    }
    snn_an_names_free(pops, npops);
    free(tmp);
    return SNN_OK;
fail:
    if (c.f >= 0)
        H5Fclose(c.f);
    remove(tmp);
    snn_an_names_free(pops, npops);
    free(tmp);
    return rc;
}
