/*
 * io/analyze.c: the metrics of `snn analyze` on plain arrays — ISI CV, Fano
 * factor, count correlation, Treves–Rolls sparsity, class selectivity,
 * ridge linear probe, k-nearest neighbours, receptive-field similarity.
 * Definitions and units are in io/analyze.h.  No I/O here; the file side is
 * io/analyze_run.c.  Dense algebra goes through GSL (CBLAS on OpenBLAS).
 */
#include "analyze.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_statistics_double.h>

void snn_an_opts_default(snn_an_opts *o)
{
    o->bin_ms = 100.0;
    o->n_pairs = 200;
    o->seed = 1;
    o->ridge_lambda = 1e-3;
    o->knn_k = 5;
    o->knn_max_test = 2000;
    o->proto_cos = 0.9;
    o->json = 0;
}

double snn_an_cv_isi(const double *t, size_t n)
{
    if (n < 3)
        return NAN;
    size_t m = n - 1;
    double mean = (t[n - 1] - t[0]) / (double)m, ss = 0.0;
    for (size_t k = 0; k < m; k++) {
        double d = (t[k + 1] - t[k]) - mean;
        ss += d * d;
    }
    return mean > 0 ? sqrt(ss / (double)(m - 1)) / mean : NAN;
}

void snn_an_bin(const double *t, size_t n, double t0_ms, double bin_ms, size_t nb,
                double *counts)
{
    for (size_t b = 0; b < nb; b++)
        counts[b] = 0.0;
    for (size_t k = 0; k < n; k++) {
        double x = (t[k] - t0_ms) / bin_ms;
        if (x >= 0 && x < (double)nb)
            counts[(size_t)x] += 1.0;
    }
}

void snn_an_batch_fraction(const double *num, const double *den, size_t n, double *frac)
{
    double pn = 0.0, pd = 0.0;
    for (size_t k = 0; k < n; k++) {
        double nk = num[k], dk = den[k]; /* (frac may be num) */
        frac[k] = dk > pd ? (nk - pn) / (dk - pd) : NAN;
        pn = nk;
        pd = dk;
    }
}

double snn_an_fano(const double *counts, size_t nb)
{
    if (nb < 2)
        return NAN;
    double m = gsl_stats_mean(counts, 1, nb);
    if (!(m > 0))
        return NAN;
    return gsl_stats_variance_m(counts, 1, nb, m) / m;
}

double snn_an_corr(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double sx = gsl_stats_sd(x, 1, n), sy = gsl_stats_sd(y, 1, n);
    if (!(sx > 0) || !(sy > 0))
        return NAN;
    return gsl_stats_correlation(x, 1, y, 1, n);
}

void snn_an_sparsity(const double *r, size_t ns, size_t nn, double *population,
                     double *lifetime)
{
    if (population) {
        double acc = 0.0;
        size_t cnt = 0;
        for (size_t s = 0; s < ns; s++) {
            double a = 0.0, b = 0.0;
            for (size_t i = 0; i < nn; i++) {
                a += r[s * nn + i];
                b += r[s * nn + i] * r[s * nn + i];
            }
            if (b > 0) {
                acc += (a / (double)nn) * (a / (double)nn) / (b / (double)nn);
                cnt++;
            }
        }
        *population = cnt ? acc / (double)cnt : NAN;
    }
    if (lifetime) {
        double acc = 0.0;
        size_t cnt = 0;
        for (size_t i = 0; i < nn; i++) {
            double a = 0.0, b = 0.0;
            for (size_t s = 0; s < ns; s++) {
                a += r[s * nn + i];
                b += r[s * nn + i] * r[s * nn + i];
            }
            if (b > 0) {
                acc += (a / (double)ns) * (a / (double)ns) / (b / (double)ns);
                cnt++;
            }
        }
        *lifetime = cnt ? acc / (double)cnt : NAN;
    }
}

int snn_an_selectivity(const double *r, const uint64_t *labels, size_t ns, size_t nn,
                       size_t n_classes, double *sel, uint64_t *pref, double *mean,
                       snn_err *err)
{
    if (n_classes < 2)
        SNN_FAIL(err, SNN_EIO, "class selectivity needs at least 2 classes (got %zu)",
                 n_classes);
    double *mu = calloc(n_classes * nn, sizeof *mu);
    size_t *cnt = calloc(n_classes, sizeof *cnt);
    if (!mu || !cnt) {
        free(mu);
        free(cnt);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for class selectivity");
    }
    for (size_t s = 0; s < ns; s++) {
        if (labels[s] >= n_classes)
            continue;
        cnt[labels[s]]++;
        double *m = mu + labels[s] * nn;
        for (size_t i = 0; i < nn; i++)
            m[i] += r[s * nn + i];
    }
    size_t present = 0;
    for (size_t c = 0; c < n_classes; c++) {
        present += cnt[c] > 0;
        for (size_t i = 0; cnt[c] && i < nn; i++)
            mu[c * nn + i] /= (double)cnt[c];
    }
    double acc = 0.0;
    size_t active = 0;
    for (size_t i = 0; i < nn; i++) {
        size_t best = n_classes;
        double mmax = -INFINITY, sum = 0.0;
        for (size_t c = 0; c < n_classes; c++) {
            if (!cnt[c])
                continue;
            double v = mu[c * nn + i];
            sum += v;
            if (v > mmax) {
                mmax = v;
                best = c;
            }
        }
        double s = 0.0;
        if (present >= 2 && mmax > 0) {
            double rest = (sum - mmax) / (double)(present - 1);
            s = (mmax - rest) / (mmax + rest);
            acc += s;
            active++;
        }
        if (sel)
            sel[i] = s;
        if (pref)
            pref[i] = best == n_classes ? 0 : best;
    }
    if (mean)
        *mean = active ? acc / (double)active : NAN;
    free(mu);
    free(cnt);
    return SNN_OK;
}

/* z-score with the training set's column means and sds (constant columns
   become 0); writes ztr [ntr, d] and zte [nte, d]. */
static void zscore(const double *xtr, size_t ntr, const double *xte, size_t nte, size_t d,
                   double *ztr, double *zte)
{
    for (size_t j = 0; j < d; j++) {
        double m = 0.0, ss = 0.0;
        for (size_t s = 0; s < ntr; s++)
            m += xtr[s * d + j];
        m /= (double)(ntr ? ntr : 1);
        for (size_t s = 0; s < ntr; s++)
            ss += (xtr[s * d + j] - m) * (xtr[s * d + j] - m);
        double sd = ntr > 1 ? sqrt(ss / (double)(ntr - 1)) : 0.0;
        double k = sd > 0 ? 1.0 / sd : 0.0;
        for (size_t s = 0; s < ntr; s++)
            ztr[s * d + j] = (xtr[s * d + j] - m) * k;
        for (size_t s = 0; s < nte; s++)
            zte[s * d + j] = (xte[s * d + j] - m) * k;
    }
}

static int check_labels(const uint64_t *y, size_t n, size_t n_classes, snn_err *err)
{
    for (size_t s = 0; s < n; s++)
        if (y[s] >= n_classes)
            SNN_FAIL(err, SNN_EIO, "label %llu of sample %zu is not below %zu classes",
                     (unsigned long long)y[s], s, n_classes);
    return SNN_OK;
}

int snn_an_linear_probe(const double *xtr, const uint64_t *ytr, size_t ntr, const double *xte,
                        const uint64_t *yte, size_t nte, size_t d, size_t n_classes,
                        double lambda, double *acc, snn_err *err)
{
    *acc = NAN;
    if (!ntr || !nte || !d || n_classes < 2)
        SNN_FAIL(err, SNN_EIO, "linear probe needs training and test samples, features and "
                               "2 classes (%zu, %zu, %zu, %zu)", ntr, nte, d, n_classes);
    int rc;
    if ((rc = check_labels(ytr, ntr, n_classes, err)) ||
        (rc = check_labels(yte, nte, n_classes, err)))
        return rc;
    double *ztr = malloc(ntr * d * sizeof *ztr), *zte = malloc(nte * d * sizeof *zte);
    double *ymean = calloc(n_classes, sizeof *ymean);
    gsl_matrix *a = gsl_matrix_alloc(d, d), *b = gsl_matrix_calloc(d, n_classes);
    gsl_vector *col = gsl_vector_alloc(d);
    double *score = malloc(n_classes * sizeof *score);
    rc = SNN_OK;
    if (!ztr || !zte || !ymean || !a || !b || !col || !score) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the linear probe (%zu x %zu)", ntr,
                         d);
        goto out;
    }
    zscore(xtr, ntr, xte, nte, d, ztr, zte);
    /* Centered features, so the bias is the class frequency; the weights solve
       (Z'Z + lambda n I) W = Z'(Y - mean Y) = Z'Y (Z is centered). */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)ntr, 1.0, ztr, (int)d, 0.0,
                a->data, (int)a->tda);
    for (size_t j = 0; j < d; j++)
        for (size_t i = 0; i < j; i++)
            gsl_matrix_set(a, j, i, gsl_matrix_get(a, i, j));
    for (size_t j = 0; j < d; j++)
        a->data[j * a->tda + j] += lambda * (double)ntr;
    for (size_t s = 0; s < ntr; s++) {
        ymean[ytr[s]] += 1.0 / (double)ntr;
        for (size_t j = 0; j < d; j++)
            b->data[j * b->tda + ytr[s]] += ztr[s * d + j];
    }
    if (gsl_linalg_cholesky_decomp1(a) != GSL_SUCCESS) {
        rc = snn_err_set(err, SNN_EINTERNAL, "linear probe: ridge system not positive definite");
        goto out;
    }
    for (size_t c = 0; c < n_classes; c++) {
        gsl_matrix_get_col(col, b, c);
        gsl_linalg_cholesky_svx(a, col);
        gsl_matrix_set_col(b, c, col);
    }
    size_t ok = 0;
    for (size_t s = 0; s < nte; s++) {
        for (size_t c = 0; c < n_classes; c++)
            score[c] = ymean[c];
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)d, (int)n_classes, 1.0, b->data,
                    (int)b->tda, zte + s * d, 1, 1.0, score, 1);
        size_t best = 0;
        for (size_t c = 1; c < n_classes; c++)
            best = score[c] > score[best] ? c : best;
        ok += best == yte[s];
    }
    *acc = (double)ok / (double)nte;
out:
    free(ztr);
    free(zte);
    free(ymean);
    free(score);
    gsl_matrix_free(a);
    gsl_matrix_free(b);
    gsl_vector_free(col);
    return rc;
}

int snn_an_knn(const double *xtr, const uint64_t *ytr, size_t ntr, const double *xte,
               const uint64_t *yte, size_t nte, size_t d, size_t n_classes, size_t k,
               double *acc, snn_err *err)
{
    *acc = NAN;
    if (!ntr || !nte || !d || !k || n_classes < 1)
        SNN_FAIL(err, SNN_EIO, "kNN needs training and test samples, features and k >= 1");
    int rc;
    if ((rc = check_labels(ytr, ntr, n_classes, err)) ||
        (rc = check_labels(yte, nte, n_classes, err)))
        return rc;
    if (k > ntr)
        k = ntr;
    enum { BLK = 128 };
    double *ztr = malloc(ntr * d * sizeof *ztr), *zte = malloc(nte * d * sizeof *zte);
    double *ntr2 = malloc(ntr * sizeof *ntr2), *dot = malloc(BLK * ntr * sizeof *dot);
    double *bd = malloc(k * sizeof *bd), *votes = malloc(n_classes * sizeof *votes);
    size_t *bi = malloc(k * sizeof *bi);
    if (!ztr || !zte || !ntr2 || !dot || !bd || !bi || !votes) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory for kNN (%zu x %zu)", ntr, d);
        goto out;
    }
    zscore(xtr, ntr, xte, nte, d, ztr, zte);
    for (size_t s = 0; s < ntr; s++)
        ntr2[s] = cblas_ddot((int)d, ztr + s * d, 1, ztr + s * d, 1);
    size_t ok = 0;
    for (size_t s0 = 0; s0 < nte; s0 += BLK) {
        size_t m = nte - s0 < BLK ? nte - s0 : BLK;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)ntr, (int)d, 1.0,
                    zte + s0 * d, (int)d, ztr, (int)d, 0.0, dot, (int)ntr);
        for (size_t q = 0; q < m; q++) {
            /* ||a||^2 is the same for every neighbour, so rank by ||b||^2 - 2 a.b;
               insertion into the k best keeps the lower index on ties. */
            size_t nb = 0;
            for (size_t t = 0; t < ntr; t++) {
                double dist = ntr2[t] - 2.0 * dot[q * ntr + t];
                if (nb == k && dist >= bd[k - 1])
                    continue;
                size_t pos = nb < k ? nb++ : k - 1;
                while (pos > 0 && bd[pos - 1] > dist) {
                    bd[pos] = bd[pos - 1];
                    bi[pos] = bi[pos - 1];
                    pos--;
                }
                bd[pos] = dist;
                bi[pos] = t;
            }
            for (size_t c = 0; c < n_classes; c++)
                votes[c] = 0.0;
            for (size_t j = 0; j < nb; j++)
                votes[ytr[bi[j]]] += 1.0;
            size_t best = ytr[bi[0]];
            for (size_t c = 0; c < n_classes; c++)
                best = votes[c] > votes[best] ? c : best;
            ok += best == yte[s0 + q];
        }
    }
    *acc = (double)ok / (double)nte;
out:
    free(ztr);
    free(zte);
    free(ntr2);
    free(dot);
    free(bd);
    free(bi);
    free(votes);
    return rc;
}

int snn_an_receptive_fields(const double *w, size_t n_pre, size_t n_post, double proto_cos,
                            double *mean_cos, size_t *n_proto, snn_err *err)
{
    *mean_cos = NAN;
    *n_proto = 0;
    if (!n_post)
        return SNN_OK;
    /* Normalised columns as rows u [n_post, n_pre]; gram g = u u'. */
    double *u = malloc(n_post * n_pre * sizeof *u), *g = malloc(n_post * n_post * sizeof *g);
    size_t *rep = malloc(n_post * sizeof *rep);
    if (!u || !g || !rep) {
        free(u);
        free(g);
        free(rep);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for receptive fields (%zu x %zu)", n_pre,
                 n_post);
    }
    for (size_t j = 0; j < n_post; j++) {
        double ss = 0.0;
        for (size_t i = 0; i < n_pre; i++)
            ss += w[i * n_post + j] * w[i * n_post + j];
        double k = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        for (size_t i = 0; i < n_pre; i++)
            u[j * n_pre + i] = w[i * n_post + j] * k;
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n_post, (int)n_pre, 1.0, u,
                (int)n_pre, 0.0, g, (int)n_post);
    double acc = 0.0;
    for (size_t a = 0; a < n_post; a++)
        for (size_t b = a + 1; b < n_post; b++)
            acc += g[a * n_post + b];
    if (n_post >= 2)
        *mean_cos = acc / ((double)n_post * (double)(n_post - 1) / 2.0);
    size_t np = 0;
    for (size_t j = 0; j < n_post; j++) {
        size_t q = 0;
        for (; q < np; q++) {
            size_t a = rep[q] < j ? rep[q] : j, b = rep[q] < j ? j : rep[q];
            if (g[a * n_post + b] >= proto_cos)
                break;
        }
        if (q == np)
            rep[np++] = j;
    }
    *n_proto = np;
    free(u);
    free(g);
    free(rep);
    return SNN_OK;
}
