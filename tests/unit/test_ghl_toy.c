/*
 * tests/unit/test_ghl_toy.c: issue 8's toy task.  On inputs whose most
 * frequent pattern says nothing about the label, pure Oja (mode none)
 * learns that pattern and a linear probe on its outputs is at chance, while
 * GHL (the same Oja updates steered by the sign of a readout's ∂L/∂y)
 * learns the label-relevant difference and the probe classifies.
 *
 * Data (24 non-negative inputs, fixed seed, sim/rng.h streams):
 *   F  = inputs 0-7:   1.0 on all eight with probability p = 0.8, else 0,
 *                      independent of the label (the frequent pattern);
 *   A  = inputs 8-13:  0.3 each if the label is 0;
 *   B  = inputs 14-19: 0.3 each if the label is 1 (labels 0/1 equally often);
 *   noise: every input independently + 1.0 with probability q = 0.1
 *   ("salt": non-negative, mean 0.1, so it adds little to the mean).
 * Its correlation matrix C = E[x xᵀ] has a closed form (toy_corr): with s
 * the noise-free signal, C = E[s sᵀ] + q(μ 1ᵀ + 1 μᵀ) + q² 11ᵀ + q(1-q) I,
 * μ = E[s].  Oja's rule converges to C's top eigenvector e1 (uncentred
 * data): λ1 = 8.52 (mostly the F block, 8 p = 6.4, plus F's salt and the
 * cross terms), λ2 = 0.36, cos(e1, F) = 0.9588.  Swapping the A and B
 * inputs maps class 0 onto class 1 and leaves C unchanged, so e1 has no
 * component along u = (A - B)/|A - B| (checked to 1e-12): nothing Oja
 * converges to tells the classes apart.  Along u itself they separate:
 * u·x = (±6·0.3 + D)/√12 with D the difference of two Binomial(6, 0.1)
 * salt counts, so the best threshold errs iff D <= -2 (class 0) or D >= 2
 * (class 1): accuracy 1 - P(D <= -2) = 0.9335 (test_construction checks
 * the probe on u alone against it).
 *
 * Layer: 4 linear neurons y_j = w_j·x, weights pre-major [24 × 4], initial
 * U[0, 0.3] from the training stream, every neuron a learner (k = 0, hard
 * factors a_j = y_j: per neuron exactly Oja's rule), eta = 0.01, weights
 * clipped to [w_min, w_max] = [0, 1] after each update as the rule "ghl"
 * does (rules/ghl_rule.c, its default bounds).  4,096 training samples,
 * the same for every variant.
 *   Oja (mode none): one update per sample with the current weights, as
 *   the loop does in mode none (sim/ghl_run.h, step 1).
 *   GHL: sim/ghl_run.c's alternating schedule written out on arrays: per
 *   mini-batch of 32, the outputs y of all its samples with the batch's
 *   starting weights; the guiding readout is the loop's own (rules/
 *   readout.h: a spiking LIF output layer trained by BPTT, current
 *   encoding, 25 steps, max_mem decoding, normalisation "max" fitted once
 *   on the first batch, Adam lr 0.01, 2 classes): one
 *   snn_readout_train_batch step (key = batch index), then
 *   snn_readout_input_grad on the same batch gives g = ∂L/∂y per sample,
 *   and snn_ghl_update applies each sample's guided update in order (sign
 *   per neuron, mix 1), then the clip.  (The loop's y are spike counts of
 *   a network; here the layer is linear.)
 *   GHL direction uses decay "local" (ghl.h, Stability).  With decay
 *   "guided" and no bounds it leaves |w| < 1e3 (or turns non-finite)
 *   within the run (test_direction_guided_diverges: after 23 mini-batches
 *   at seed 1, 7-61 over seeds 1-12): why the first attempt at this test
 *   was dropped.  GHL gate uses issue 8's definition (decay guided): it
 *   applies a subset of Oja's own steps and stays bounded here.
 * Probe: least squares of ±1 on [1, y] (gsl_multifit_linear_tsvd, singular
 * values below 1e-8 of the largest dropped: rounding-level directions) on
 * 2,000 fresh samples, accuracy on 2,000 held-out ones, the same samples
 * for every layer.
 *
 * Margins (checked by hand with -DTOY_SEED=n -DTOY_VERBOSE for seeds 1-12;
 * "seen" gives seeds 1 / 2 / 3, then the range over the 12):
 *   Oja: the four neurons coincide (max |w_j - w_k| <= 1e-9: they see the
 *     same inputs and, near e1, Oja's map shrinks every difference by
 *     about eta (λ1 - λ2) = 0.08 per sample; seen 0 in all 12).
 *     cos(w, e1) >= 0.98: the stationary scatter of Oja's weights around
 *     e1 has mean square angle ≈ eta E[y² |x_⊥|²] / (2 λ1) ≈ eta (tr C -
 *     λ1) / 2 = 0.012, i.e. 1 - cos ≈ 0.006 (seen 0.9932 / 0.9962 /
 *     0.9968, 0.9895-0.9969).  cos(w, F) >= 0.88 follows from that and
 *     cos(e1, F) (seen 0.950 / 0.950 / 0.959, 0.937-0.963).
 *     |cos(w, u)| <= 0.2: the u-component scatters with s.d. ≈ (eta
 *     λ1 E[(u·x)²] / (2(λ1 - λu)))^½ ≈ 0.04 (seen 0.038 / 0.015 / 0.011,
 *     at most 0.078).  Probe <= 0.65: one feature whose class means differ
 *     by at most 2·0.3·√3·0.2 ≈ 0.21 against a within-class spread of at
 *     least the salt's s.d. 0.3 gives a threshold at most Φ(0.35) ≈ 0.64
 *     (seen 0.510 / 0.513 / 0.507, 0.481-0.559).
 *   GHL direction: max_j |cos(w_j, u)| >= 0.4 (seen 0.60 / 0.59 / 0.65,
 *     0.575-0.697, against Oja's <= 0.078); probe >= 0.9 (seen 0.932 /
 *     0.940 / 0.951, 0.932-0.951; the best single direction u gives
 *     0.9335); |w_j| <= 1.05 (decay local keeps Oja's bound max(1,
 *     |w(0)|) + O(eta), |w(0)| ≈ 0.85; seen at most 0.66).
 *   GHL gate: probe >= 0.85 (seen 0.920 / 0.904 / 0.945, 0.900-0.945).
 *     Its neurons keep F as their main direction (cos(w, F) >= 0.85, seen
 *     at least 0.920) but answer A - B differently: the range of w_j·u
 *     over the neurons is >= 0.08 (seen 0.158 / 0.134 / 0.177,
 *     0.133-0.195; Oja's is 0); |w_j| <= 1.25 (seen at most 1.103).
 * Competition: with k = 2 winners of 4 instead of k = 0 (-DTOY_K=2), pure
 * Oja is no longer Oja's rule per neuron but competitive learning: two
 * neurons take F and the other two specialise on the samples without it,
 * and the probe on that Oja layer reaches 0.877 / 0.944 / 0.933 (seeds
 * 1-3).  The task's premise (pure Oja learns only the frequent pattern)
 * needs every neuron to learn; hence k = 0.
 * Deterministic: fixed streams, no timing; the GHL run gives the same bits
 * with 1 and 2 OpenMP threads (the readout's chunks run in parallel).
 */
#include "../support.h"

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_randist.h>

#include "rules/ghl.h"
#include "rules/readout.h"
#include "sim/rng.h"

#ifndef TOY_SEED
#define TOY_SEED 1
#endif
/* Winners per stimulus; 0 = every neuron learns (header, Competition). */
#ifndef TOY_K
#define TOY_K 0
#endif
/* -DTOY_VERBOSE prints the measured values (for checking other seeds). */
#ifdef TOY_VERBOSE
#define toy_report(...) print_message(__VA_ARGS__)
#else
#define toy_report(...) ((void)0)
#endif

enum { NI = 24, NO = 4, BATCH = 32, N_BATCHES = 128, N_PROBE = 2000 };
enum { F1 = 8, A1 = 14, B1 = 20 };           /* F [0, 8), A [8, 14), B [14, 20) */
enum { S_TRAIN, S_PROBE, S_CORR };           /* stream owners (SNN_RNG_USER) */

static const double F_AMP = 1.0, P_F = 0.8, ALPHA = 0.3, Q_SALT = 0.1, H_SALT = 1.0;
static const double ETA = 0.01, W_MIN = 0.0, W_MAX = 1.0, W_INIT = 0.3;

static gsl_rng *stream(uint32_t which)
{
    gsl_rng *r = snn_rng_alloc(TOY_SEED, snn_rng_owner(SNN_RNG_USER, which), 0);
    assert_non_null(r);
    return r;
}

/* One sample x [NI] from r; returns its label. */
static unsigned toy_sample(gsl_rng *r, double *x)
{
    unsigned c = gsl_rng_uniform(r) < 0.5 ? 0 : 1;
    int f_on = gsl_rng_uniform(r) < P_F;
    for (size_t i = 0; i < NI; i++) {
        double v = 0.0;
        if (i < F1)
            v = f_on ? F_AMP : 0.0;
        else if (i < A1)
            v = c == 0 ? ALPHA : 0.0;
        else if (i < B1)
            v = c == 1 ? ALPHA : 0.0;
        x[i] = v + (gsl_rng_uniform(r) < Q_SALT ? H_SALT : 0.0);
    }
    return c;
}

/* The unit directions F/|F| and u = (A - B)/|A - B|. */
static void directions(double *f, double *u)
{
    for (size_t i = 0; i < NI; i++) {
        f[i] = i < F1 ? 1.0 / sqrt((double)F1) : 0.0;
        u[i] = i >= F1 && i < A1 ? 1.0 : (i >= A1 && i < B1 ? -1.0 : 0.0);
        u[i] /= sqrt((double)(B1 - F1));
    }
}

/* Column j of W [NI × m]: its norm and its cosine with the unit vector v. */
static double col_norm(const double *W, size_t m, size_t j)
{
    return cblas_dnrm2(NI, W + j, (int)m);
}

static double col_cos(const double *W, size_t m, size_t j, const double *v)
{
    return cblas_ddot(NI, W + j, (int)m, v, 1) / col_norm(W, m, j);
}

/* y = Wᵀx for W [NI × m]. */
static void layer(const double *W, size_t m, const double *x, double *y)
{
    cblas_dgemv(CblasRowMajor, CblasTrans, NI, (int)m, 1.0, W, (int)m, x, 1, 0.0, y, 1);
}

/* C = E[x xᵀ] of the construction in closed form (header). */
static void toy_corr(double *C)
{
    double mu[NI] = {0};
    memset(C, 0, NI * NI * sizeof(double));
    for (int z = 0; z < 2; z++)
        for (int c = 0; c < 2; c++) {
            double pi = (z ? P_F : 1.0 - P_F) * 0.5, s[NI];
            for (size_t i = 0; i < NI; i++)
                s[i] = (i < F1 && z ? F_AMP : 0.0) + (i >= F1 && i < A1 && c == 0 ? ALPHA : 0.0) +
                       (i >= A1 && i < B1 && c == 1 ? ALPHA : 0.0);
            cblas_dsyr(CblasRowMajor, CblasUpper, NI, pi, s, 1, C, NI);
            cblas_daxpy(NI, pi, s, 1, mu, 1);
        }
    double q = Q_SALT, h = H_SALT;
    for (size_t i = 0; i < NI; i++)
        for (size_t j = i; j < NI; j++) {
            C[i * NI + j] += q * h * (mu[i] + mu[j]) + q * q * h * h +
                             (i == j ? q * (1 - q) * h * h : 0.0);
            C[j * NI + i] = C[i * NI + j];
        }
}

/* Eigenvalues (descending) and the top eigenvector of the symmetric C,
   signed so that its components sum to > 0. */
static void top_eigen(const double *C, double *lambda, double *e1)
{
    gsl_matrix *M = gsl_matrix_alloc(NI, NI), *V = gsl_matrix_alloc(NI, NI);
    gsl_vector *ev = gsl_vector_alloc(NI);
    gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(NI);
    memcpy(M->data, C, NI * NI * sizeof(double));
    assert_int_equal(gsl_eigen_symmv(M, ev, V, w), GSL_SUCCESS);
    gsl_eigen_symmv_sort(ev, V, GSL_EIGEN_SORT_VAL_DESC);
    double sum = 0;
    for (size_t i = 0; i < NI; i++) {
        lambda[i] = gsl_vector_get(ev, i);
        e1[i] = gsl_matrix_get(V, i, 0);
        sum += e1[i];
    }
    if (sum < 0)
        cblas_dscal(NI, -1.0, e1, 1);
    gsl_eigen_symmv_free(w);
    gsl_vector_free(ev);
    gsl_matrix_free(V);
    gsl_matrix_free(M);
}

/*
 * Linear probe on the features Wᵀx (W [NI × m]): least squares of ±1 on
 * [1, Wᵀx] over N_PROBE samples, accuracy of sgn on the next N_PROBE.
 */
static double probe(const double *W, size_t m)
{
    gsl_rng *r = stream(S_PROBE);
    gsl_matrix *X = gsl_matrix_alloc(N_PROBE, m + 1), *cov = gsl_matrix_alloc(m + 1, m + 1);
    gsl_vector *t = gsl_vector_alloc(N_PROBE), *c = gsl_vector_alloc(m + 1);
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(N_PROBE, m + 1);
    double x[NI], y[NO + 1];
    for (size_t s = 0; s < N_PROBE; s++) {
        unsigned lab = toy_sample(r, x);
        layer(W, m, x, y);
        gsl_matrix_set(X, s, 0, 1.0);
        for (size_t j = 0; j < m; j++)
            gsl_matrix_set(X, s, j + 1, y[j]);
        gsl_vector_set(t, s, lab ? 1.0 : -1.0);
    }
    double chi2;
    size_t rank;
    assert_int_equal(gsl_multifit_linear_tsvd(X, t, 1e-8, c, cov, &chi2, &rank, ws), GSL_SUCCESS);
    size_t ok = 0;
    for (size_t s = 0; s < N_PROBE; s++) {
        unsigned lab = toy_sample(r, x);
        layer(W, m, x, y);
        double z = gsl_vector_get(c, 0);
        for (size_t j = 0; j < m; j++)
            z += gsl_vector_get(c, j + 1) * y[j];
        ok += (z > 0) == (lab == 1);
    }
    gsl_multifit_linear_free(ws);
    gsl_vector_free(c);
    gsl_vector_free(t);
    gsl_matrix_free(cov);
    gsl_matrix_free(X);
    gsl_rng_free(r);
    return (double)ok / N_PROBE;
}

typedef struct toy_run {
    double W[NI * NO];
    snn_ghl_counts cnt;
    int bounded;     /* every weight finite and every |w_j| < 1e3 after each batch */
    size_t batches;  /* mini-batches run (stops at the first unbounded one) */
} toy_run;

static void clip(double *W, int on)
{
    for (size_t p = 0; on && p < NI * NO; p++)
        W[p] = W[p] < W_MIN ? W_MIN : (W[p] > W_MAX ? W_MAX : W[p]);
}

/* Train the layer in `mode` with `decay` (header); clip to [W_MIN, W_MAX]
   if `bounds`. */
static void train(int mode, int decay, int bounds, toy_run *out)
{
    snn_err err;
    snn_ghl_opts o;
    snn_ghl_opts_default(&o);
    o.eta = ETA;
    o.k = TOY_K;
    o.mode = mode;
    o.decay = decay;
    o.mix = 1.0;
    o.sign = SNN_GHL_SIGN_NEURON;
    snn_ghl *g = NULL;
    if (snn_ghl_alloc(&g, NI, NO, &o, &err))
        fail_msg("%s", err.msg);
    snn_readout *ro = NULL;
    if (mode != SNN_GHL_NONE) {
        snn_readout_cfg rc;
        snn_readout_cfg_default(&rc);
        rc.seed = TOY_SEED;
        rc.norm = SNN_RO_NORM_MAX;
        rc.decode = SNN_RO_DEC_MAX_MEM;
        rc.lr = 0.01;
        rc.batch = BATCH;
        if (snn_readout_create(&ro, &rc, NO, 2, &err))
            fail_msg("%s", err.msg);
    }
    gsl_rng *r = stream(S_TRAIN);
    memset(out, 0, sizeof *out);
    for (size_t p = 0; p < NI * NO; p++)
        out->W[p] = W_INIT * gsl_rng_uniform(r);
    double X[BATCH * NI], Y[BATCH * NO], dY[BATCH * NO];
    uint8_t lab[BATCH];
    out->bounded = 1;
    for (size_t b = 0; b < N_BATCHES && out->bounded; b++) {
        for (size_t s = 0; s < BATCH; s++) {
            lab[s] = (uint8_t)toy_sample(r, X + s * NI);
            layer(out->W, NO, X + s * NI, Y + s * NO);
            if (mode == SNN_GHL_NONE) {
                assert_int_equal(snn_ghl_update(g, X + s * NI, Y + s * NO, NULL, NULL, out->W,
                                                &out->cnt, &err), SNN_OK);
                clip(out->W, bounds);
            }
        }
        if (mode != SNN_GHL_NONE) {
            if (b == 0 && snn_readout_fit_norm(ro, Y, BATCH, &err))
                fail_msg("%s", err.msg);
            if (snn_readout_train_batch(ro, Y, lab, BATCH, (uint32_t)b, NULL, NULL, &err) ||
                snn_readout_input_grad(ro, Y, lab, BATCH, NULL, NULL, dY, &err))
                fail_msg("%s", err.msg);
            for (size_t s = 0; s < BATCH; s++) {
                assert_int_equal(snn_ghl_update(g, X + s * NI, Y + s * NO, dY + s * NO, NULL,
                                                out->W, &out->cnt, &err), SNN_OK);
                clip(out->W, bounds);
            }
        }
        out->batches = b + 1;
        for (size_t j = 0; j < NO; j++)
            out->bounded &= col_norm(out->W, NO, j) < 1e3; /* false for NaN */
    }
    gsl_rng_free(r);
    snn_readout_free(ro);
    snn_ghl_free(g);
}

/* max_{j,k} |w_j - w_k| and the range of the u-components, max_j w_j·u -
   min_j w_j·u (how differently the neurons answer A - B). */
static void spread(const double *W, const double *u, double *dist, double *u_range)
{
    double lo = INFINITY, hi = -INFINITY;
    *dist = 0.0;
    for (size_t j = 0; j < NO; j++) {
        double wu = cblas_ddot(NI, W + j, NO, u, 1);
        lo = fmin(lo, wu);
        hi = fmax(hi, wu);
        for (size_t k = j + 1; k < NO; k++) {
            double d[NI];
            for (size_t i = 0; i < NI; i++)
                d[i] = W[i * NO + j] - W[i * NO + k];
            *dist = fmax(*dist, cblas_dnrm2(NI, d, 1));
        }
    }
    *u_range = hi - lo;
}

/* The construction: C's top eigenvector is F's (cos >= 0.95), has no u
   component, stands alone (λ2 < 0.05 λ1); the sampler has that correlation
   matrix; and a probe on u alone reaches the closed-form accuracy. */
static void test_construction(void **state)
{
    (void)state;
    double C[NI * NI], lambda[NI], e1[NI], f[NI], u[NI];
    directions(f, u);
    toy_corr(C);
    top_eigen(C, lambda, e1);
    double cf = cblas_ddot(NI, e1, 1, f, 1), cu = cblas_ddot(NI, e1, 1, u, 1);
    if (!(cf >= 0.95) || !(fabs(cu) <= 1e-12) || !(lambda[1] < 0.05 * lambda[0]))
        fail_msg("cos(e1, F) = %g, cos(e1, u) = %g, λ = %g, %g", cf, cu, lambda[0], lambda[1]);
    toy_report("construction: lambda %.4f %.4f, cos(e1, F) %.4f, cos(e1, u) %.2g\n",
               lambda[0], lambda[1], cf, cu);
    snn_assert_close(cf, 0.9588, 0, 1e-4);

    /* The sampler: the sample correlation of 20,000 inputs has e1 on top
       (perturbation: angle ~ |ΔC| / (λ1 - λ2) ~ 0.03 / 8). */
    double Cs[NI * NI] = {0}, ls[NI], es[NI], x[NI];
    gsl_rng *r = stream(S_CORR);
    const size_t n = 20000;
    for (size_t s = 0; s < n; s++) {
        toy_sample(r, x);
        cblas_dsyr(CblasRowMajor, CblasUpper, NI, 1.0 / n, x, 1, Cs, NI);
    }
    gsl_rng_free(r);
    for (size_t i = 0; i < NI; i++)
        for (size_t j = 0; j < i; j++)
            Cs[i * NI + j] = Cs[j * NI + i];
    top_eigen(Cs, ls, es);
    assert_true(cblas_ddot(NI, es, 1, e1, 1) > 0.999);
    snn_assert_close(ls[0], lambda[0], 0.02, 0);

    /* Probe on u alone: 1 - P(D <= -2), D = Bin(6, q) - Bin(6, q). */
    double p_err = 0.0;
    for (unsigned a = 0; a <= 6; a++)
        for (unsigned b = a + 2; b <= 6; b++)
            p_err += gsl_ran_binomial_pdf(a, Q_SALT, 6) * gsl_ran_binomial_pdf(b, Q_SALT, 6);
    snn_assert_close(1.0 - p_err, 0.9335, 0, 1e-4);
    double acc = probe(u, 1); /* s.d. 0.0056 on 2,000 samples */
    toy_report("probe on u alone: %.4f (closed form %.4f)\n", acc, 1.0 - p_err);
    snn_assert_close(acc, 1.0 - p_err, 0, 0.025);
}

/* Pure Oja learns F: every neuron ends at e1, and the probe is at chance. */
static void test_oja_learns_frequent(void **state)
{
    (void)state;
    double C[NI * NI], lambda[NI], e1[NI], f[NI], u[NI];
    directions(f, u);
    toy_corr(C);
    top_eigen(C, lambda, e1);
    toy_run o;
    train(SNN_GHL_NONE, SNN_GHL_DECAY_GUIDED, 1, &o);
    assert_true(o.bounded);
    assert_int_equal(o.cnt.stimuli, N_BATCHES * BATCH);
    double dist, u_range, acc = probe(o.W, NO);
    spread(o.W, u, &dist, &u_range);
    toy_report("oja: spread %.3g, probe %.4f\n", dist, acc);
    if (!(dist <= 1e-9))
        fail_msg("Oja's neurons differ by %g", dist);
    for (size_t j = 0; j < NO; j++) {
        double ce = col_cos(o.W, NO, j, e1), cf = col_cos(o.W, NO, j, f);
        double cu = col_cos(o.W, NO, j, u), n = col_norm(o.W, NO, j);
        toy_report("oja %zu: |w| %.4f cos(w, e1) %.4f cos(w, F) %.4f cos(w, u) %+.4f\n", j, n,
                   ce, cf, cu);
        if (!(ce >= 0.98 && cf >= 0.88 && fabs(cu) <= 0.2 && n >= 0.9 && n <= 1.1))
            fail_msg("Oja neuron %zu: cos(w, e1) = %g, cos(w, F) = %g, cos(w, u) = %g, "
                     "|w| = %g", j, ce, cf, cu, n);
    }
    if (!(acc <= 0.65))
        fail_msg("probe on Oja's layer: %g > 0.65", acc);
}

/* GHL direction (decay local): the neurons carry A - B, the probe
   classifies; the same bits for 1 and 2 threads. */
static void test_ghl_direction_learns_label(void **state)
{
    (void)state;
    double f[NI], u[NI];
    directions(f, u);
    int nt = omp_get_max_threads();
    toy_run g, g2;
    omp_set_num_threads(1);
    train(SNN_GHL_DIRECTION, SNN_GHL_DECAY_LOCAL, 1, &g);
    omp_set_num_threads(2);
    train(SNN_GHL_DIRECTION, SNN_GHL_DECAY_LOCAL, 1, &g2);
    omp_set_num_threads(nt);
    assert_memory_equal(g.W, g2.W, sizeof g.W);
    assert_memory_equal(&g.cnt, &g2.cnt, sizeof g.cnt);
    assert_true(g.bounded);
    assert_true(g.cnt.reversed > 0 && g.cnt.reversed < g.cnt.local);
    double best_u = 0.0;
    for (size_t j = 0; j < NO; j++) {
        double n = col_norm(g.W, NO, j);
        if (!(n <= 1.05))
            fail_msg("GHL direction neuron %zu: |w| = %g > 1.05", j, n);
        if (n > 0)
            best_u = fmax(best_u, fabs(col_cos(g.W, NO, j, u)));
        toy_report("direction %zu: |w| %.4f cos(w, F) %+.4f cos(w, u) %+.4f\n", j, n,
                   n > 0 ? col_cos(g.W, NO, j, f) : 0.0, n > 0 ? col_cos(g.W, NO, j, u) : 0.0);
    }
    if (!(best_u >= 0.4))
        fail_msg("GHL direction: max |cos(w, u)| = %g < 0.4", best_u);
    double acc = probe(g.W, NO);
    toy_report("direction: max |cos(w, u)| %.4f, probe %.4f, reversed %llu of %llu\n", best_u,
               acc, (unsigned long long)g.cnt.reversed, (unsigned long long)g.cnt.local);
    if (!(acc >= 0.9))
        fail_msg("probe on GHL direction's layer: %g < 0.9", acc);
}

/* GHL gate (issue 8's definition): neurons stay F-like but split along
   A - B, and the probe classifies. */
static void test_ghl_gate_learns_label(void **state)
{
    (void)state;
    double f[NI], u[NI];
    directions(f, u);
    toy_run g;
    train(SNN_GHL_GATE, SNN_GHL_DECAY_GUIDED, 1, &g);
    assert_true(g.bounded);
    assert_true(g.cnt.gated > 0 && g.cnt.gated < g.cnt.local);
    for (size_t j = 0; j < NO; j++) {
        double n = col_norm(g.W, NO, j), cf = col_cos(g.W, NO, j, f);
        toy_report("gate %zu: |w| %.4f cos(w, F) %.4f cos(w, u) %+.4f\n", j, n, cf,
                   col_cos(g.W, NO, j, u));
        if (!(n <= 1.25 && cf >= 0.85))
            fail_msg("GHL gate neuron %zu: |w| = %g, cos(w, F) = %g", j, n, cf);
    }
    double dist, u_range;
    spread(g.W, u, &dist, &u_range);
    if (!(u_range >= 0.08))
        fail_msg("GHL gate: the neurons' u-components span only %g", u_range);
    double acc = probe(g.W, NO);
    toy_report("gate: spread %.4f, u-range %.4f, probe %.4f\n", dist, u_range, acc);
    if (!(acc >= 0.85))
        fail_msg("probe on GHL gate's layer: %g < 0.85", acc);
}

/* Direction mode with decay guided and no bounds: |w| passes 1e3 (or
   turns non-finite) within the run (after 23 of the 128 mini-batches at
   seed 1; ghl.h, Stability). */
static void test_direction_guided_diverges(void **state)
{
    (void)state;
    toy_run g;
    train(SNN_GHL_DIRECTION, SNN_GHL_DECAY_GUIDED, 0, &g);
    toy_report("direction, decay guided, no bounds: bounded %d after %zu mini-batches\n",
               g.bounded, g.batches);
    if (g.bounded)
        fail_msg("direction, decay guided, no bounds: bounded = %d after %zu mini-batches",
                 g.bounded, g.batches);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_construction),
        cmocka_unit_test(test_oja_learns_frequent),
        cmocka_unit_test(test_ghl_direction_learns_label),
        cmocka_unit_test(test_ghl_gate_learns_label),
        cmocka_unit_test(test_direction_guided_diverges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
