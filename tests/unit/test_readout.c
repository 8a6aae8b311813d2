/*
 * tests/unit/test_readout.c: the surrogate-gradient readout learner
 * (rules/readout.h): BPTT against central finite differences in smooth
 * mode, a separable problem learned exactly, bit-identity for 1/2/3
 * threads, checkpoint round trip, normalisation, surrogates, Adam and SGD
 * against closed forms, the recorded Hebbian alignment in closed form, the random-feedback rule, the HDF5 layout.
 */
#include "../support.h"

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <hdf5.h>

#include "io/h5.h"
#include "rules/readout.h"

/* A random data set: features uniform in [0, 1), labels uniform. */
static void random_data(size_t n, size_t d, size_t C, unsigned long seed, double *X, uint8_t *y)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, seed);
    for (size_t i = 0; i < n * d; i++)
        X[i] = gsl_rng_uniform(g);
    for (size_t i = 0; i < n; i++)
        y[i] = (uint8_t)gsl_rng_uniform_int(g, C);
    gsl_rng_free(g);
}

/* ---- gradient check ---------------------------------------------------- */

enum { GN = 6, GD = 5, GH = 4, GC = 3 };

static void grad_check_drop(int n_hidden, int decode, double tau_syn, int reset, int encode,
                            double dropout)
{
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    c.dropout_input = dropout;
    c.dropout_hidden = 1.5 * dropout;
    c.smooth = 1;
    c.detach_reset = 0;
    c.steps = 8;
    c.sg_slope = 4.0;
    c.n_hidden = (unsigned)n_hidden;
    c.hidden[0] = GH;
    c.hidden[1] = GH - 1;
    c.decode = decode;
    c.tau_syn_ms = tau_syn;
    c.reset = reset;
    c.encode = encode;
    c.max_rate_hz = 400.0;
    c.input_gain = 0.8;
    c.init_gain = 2.0;
    c.batch = 8;
    c.chunk = 4; /* two chunks: the reduction is covered */
    c.seed = 7;
    c.sparse_density = encode == SNN_RO_ENC_POISSON ? 1.0 : 0.0; /* both input paths */
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, &c, GD, GC, &err), SNN_OK);
    /* Non-zero biases so their gradients are generic. */
    for (size_t l = 0; l < snn_readout_n_layers(r); l++) {
        size_t nb;
        double *b = snn_readout_param(r, l, 1, &nb);
        for (size_t j = 0; j < nb; j++)
            b[j] = 0.1 * (double)j - 0.05;
    }
    double X[GN * GD];
    uint8_t y[GN];
    random_data(GN, GD, GC, 11, X, y);
    size_t np = snn_readout_n_params(r);
    double *g = malloc(np * sizeof(double));
    double loss;
    assert_int_equal(snn_readout_loss_and_grad(r, X, y, GN, &loss, g, &err), SNN_OK);
    assert_true(isfinite(loss) && loss > 0);
    double *scratch = malloc(np * sizeof(double));
    const double h = 1e-6;
    size_t off = 0;
    for (size_t l = 0; l < snn_readout_n_layers(r); l++)
        for (int bias = 0; bias <= 1; bias++) {
            size_t n;
            double *p = snn_readout_param(r, l, bias, &n);
            double num = 0, den = 0;
            for (size_t k = 0; k < n; k++) {
                double p0 = p[k], lp, lm;
                p[k] = p0 + h;
                assert_int_equal(snn_readout_loss_and_grad(r, X, y, GN, &lp, scratch, &err), 0);
                p[k] = p0 - h;
                assert_int_equal(snn_readout_loss_and_grad(r, X, y, GN, &lm, scratch, &err), 0);
                p[k] = p0;
                double fd = (lp - lm) / (2 * h);
                double d = g[off + k] - fd;
                num += d * d;
                den += fd * fd;
            }
            if (n) {
                double rel = sqrt(num / den);
                if (getenv("RO_VERBOSE"))
                    print_message("hidden %d decode %d tau_syn %g reset %d encode %d layer %zu "
                                  "%s: rel %.3g |fd| %.3g\n", n_hidden, decode, tau_syn, reset,
                                  encode, l, bias ? "b" : "W", rel, sqrt(den));
                if (!(rel <= 1e-5) || !(den > 0))
                    fail_msg("hidden %d decode %d tau_syn %g reset %d encode %d: layer %zu %s "
                             "relative error %.3g (|fd| %.3g)", n_hidden, decode, tau_syn, reset,
                             encode, l, bias ? "bias" : "W", rel, sqrt(den));
            }
            off += n;
        }
    assert_int_equal(off, np);
    free(scratch);
    free(g);
    snn_readout_free(r);
}

static void grad_check(int n_hidden, int decode, double tau_syn, int reset, int encode)
{
    grad_check_drop(n_hidden, decode, tau_syn, reset, encode, 0.0);
}

/* ---- input gradient ---------------------------------------------------- */

/* dL/dX against central differences of the mean loss in smooth mode
   (current encoding: the encoding is differentiable), through hidden
   layers and both normalisations that rescale features. */
static void input_grad_fd(int n_hidden, int norm, double tau_syn)
{
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    c.smooth = 1;
    c.detach_reset = 0;
    c.steps = 8;
    c.sg_slope = 4.0;
    c.n_hidden = (unsigned)n_hidden;
    c.hidden[0] = GH;
    c.norm = norm;
    c.tau_syn_ms = tau_syn;
    c.input_gain = 0.8;
    c.init_gain = 2.0;
    c.batch = 8;
    c.chunk = 4;
    c.seed = 5;
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, &c, GD, GC, &err), SNN_OK);
    double X[GN * GD], dX[GN * GD], scratch_g[4096];
    uint8_t y[GN];
    random_data(GN, GD, GC, 13, X, y);
    assert_int_equal(snn_readout_fit_norm(r, X, GN, &err), 0);
    assert_true(snn_readout_n_params(r) <= 4096);
    double loss, l2;
    double both_g[4096];
    assert_int_equal(snn_readout_input_grad(r, X, y, GN, &loss, both_g, dX, &err), 0);
    assert_int_equal(snn_readout_loss_and_grad(r, X, y, GN, &l2, scratch_g, &err), 0);
    assert_true(loss == l2);
    /* The parameter gradient of the same pass is loss_and_grad's, bit for bit. */
    assert_memory_equal(both_g, scratch_g, snn_readout_n_params(r) * sizeof(double));
    const double h = 1e-6;
    double num = 0, den = 0;
    for (size_t k = 0; k < GN * GD; k++) {
        double x0 = X[k], lp, lm;
        X[k] = x0 + h;
        assert_int_equal(snn_readout_loss_and_grad(r, X, y, GN, &lp, scratch_g, &err), 0);
        X[k] = x0 - h;
        assert_int_equal(snn_readout_loss_and_grad(r, X, y, GN, &lm, scratch_g, &err), 0);
        X[k] = x0;
        double fd = (lp - lm) / (2 * h), d = dX[k] - fd;
        num += d * d;
        den += fd * fd;
    }
    double rel = sqrt(num / den);
    if (getenv("RO_VERBOSE"))
        print_message("input grad: hidden %d norm %d tau_syn %g: rel %.3g |fd| %.3g\n", n_hidden,
                      norm, tau_syn, rel, sqrt(den));
    if (!(rel <= 1e-5) || !(den > 0))
        fail_msg("input gradient, hidden %d norm %d: relative error %.3g (|fd| %.3g)", n_hidden,
                 norm, rel, sqrt(den));
    snn_readout_free(r);
}

static void test_input_gradient_fd(void **state)
{
    (void)state;
    input_grad_fd(0, SNN_RO_NORM_NONE, 0.0);
    input_grad_fd(1, SNN_RO_NORM_ZSCORE, 5.0);
    input_grad_fd(1, SNN_RO_NORM_MAX, 0.0);
}

/* One sample: layer 0's bias gradient is Σ_t dL/dI_t, so the input gradient
   must be f_i · scale_i · Σ_j W_ij dL/db_j with f = input_gain (current) or
   p = max_rate·dt (Poisson, straight-through; 0 for a saturated feature,
   x·p > 1).  Checks both encodings, spiking forward (not smooth). */
static void test_input_gradient_closed_form(void **state)
{
    (void)state;
    for (int enc = SNN_RO_ENC_CURRENT; enc <= SNN_RO_ENC_POISSON; enc++) {
        snn_readout_cfg c;
        snn_readout_cfg_default(&c);
        c.encode = enc;
        c.steps = 20;
        c.n_hidden = 1;
        c.hidden[0] = 6;
        c.init_gain = 3.0;
        c.max_rate_hz = 400.0; /* p = 0.4 per step */
        c.input_gain = 0.7;
        c.sg_slope = 2.0;
        c.norm = SNN_RO_NORM_MAX;
        c.sparse_density = enc == SNN_RO_ENC_POISSON ? 1.0 : 0.0;
        snn_readout *r;
        snn_err err;
        assert_int_equal(snn_readout_create(&r, &c, GD, GC, &err), SNN_OK);
        double X[GD] = {0.9, 0.0, 0.45, 3.0, 1.2}, dX[GD];
        uint8_t y[1] = {2};
        /* norm max: fitted on a set whose max is 1.5 (scale 2/3) for
           current encoding; for Poisson on max 1 (scale 1), so feature 3
           has x·p = 1.2 > 1 (saturated: gradient 0). */
        double fitX[GD] = {1.5, 0.1, 0.2, 0.3, 0.4};
        if (enc == SNN_RO_ENC_POISSON)
            fitX[0] = 1.0;
        assert_int_equal(snn_readout_fit_norm(r, fitX, 1, &err), 0);
        const double *shift, *scale;
        snn_readout_norm(r, &shift, &scale);
        size_t np = snn_readout_n_params(r), nw, nb;
        double *g = malloc(np * sizeof(double));
        double loss;
        assert_int_equal(snn_readout_loss_and_grad(r, X, y, 1, &loss, g, &err), 0);
        assert_int_equal(snn_readout_input_grad(r, X, y, 1, NULL, NULL, dX, &err), 0);
        const double *W = snn_readout_param(r, 0, 0, &nw);
        snn_readout_param(r, 0, 1, &nb);
        const double *gb = g + nw; /* layer 0: W then b */
        double p = 400.0 * 1.0 / 1000.0, norm_g = 0.0;
        for (size_t i = 0; i < GD; i++) {
            double s = 0.0;
            for (size_t j = 0; j < nb; j++)
                s += W[i * nb + j] * gb[j];
            double xp = (X[i] - shift[i]) * scale[i] * p;
            double f = enc == SNN_RO_ENC_CURRENT ? 0.7 : (xp >= 0 && xp <= 1 ? p : 0.0);
            snn_assert_close(dX[i], f * scale[i] * s, 1e-12, 1e-15);
            norm_g += fabs(dX[i]);
        }
        assert_true(norm_g > 0);
        if (enc == SNN_RO_ENC_POISSON)
            assert_true(dX[3] == 0.0);
        free(g);
        snn_readout_free(r);
    }
}

static void test_gradient_no_hidden(void **state)
{
    (void)state;
    for (int dec = 0; dec < 2; dec++)
        for (int syn = 0; syn < 2; syn++)
            grad_check(0, dec, syn ? 5.0 : 0.0, SNN_RO_RESET_SUBTRACT, SNN_RO_ENC_CURRENT);
}

static void test_gradient_hidden(void **state)
{
    (void)state;
    for (int dec = 0; dec < 2; dec++)
        for (int syn = 0; syn < 2; syn++)
            grad_check(1, dec, syn ? 5.0 : 0.0, SNN_RO_RESET_SUBTRACT, SNN_RO_ENC_CURRENT);
    grad_check(1, SNN_RO_DEC_COUNT, 5.0, SNN_RO_RESET_ZERO, SNN_RO_ENC_CURRENT);
    grad_check(1, SNN_RO_DEC_COUNT, 0.0, SNN_RO_RESET_SUBTRACT, SNN_RO_ENC_POISSON);
    grad_check(2, SNN_RO_DEC_MAX_MEM, 5.0, SNN_RO_RESET_SUBTRACT, SNN_RO_ENC_POISSON);
}

/* With dropout the masks of a training pass depend on (seed, epoch,
   sample) only, so the loss is a smooth function of the parameters with
   the masks held fixed: BPTT through the masks equals finite differences. */
static void test_gradient_dropout(void **state)
{
    (void)state;
    grad_check_drop(1, SNN_RO_DEC_COUNT, 5.0, SNN_RO_RESET_SUBTRACT, SNN_RO_ENC_CURRENT, 0.3);
    grad_check_drop(2, SNN_RO_DEC_MAX_MEM, 0.0, SNN_RO_RESET_ZERO, SNN_RO_ENC_CURRENT, 0.3);
    grad_check_drop(1, SNN_RO_DEC_MAX_MEM, 5.0, SNN_RO_RESET_SUBTRACT, SNN_RO_ENC_POISSON, 0.3);
}

/* Counts of zero rows / columns of one sample's weight gradient, where a
   dropped unit shows as exactly zero. */
enum { MD = 3000, MH = 2000, MC = 3 };

static void test_dropout_masks(void **state)
{
    (void)state;
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    c.smooth = 1; /* every kept unit gets a non-zero gradient */
    c.sg_slope = 1.0;
    c.steps = 4;
    c.n_hidden = 1;
    c.hidden[0] = MH;
    c.dropout_input = 0.3;
    c.dropout_hidden = 0.6;
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, &c, MD, MC, &err), SNN_OK);
    double *X = malloc(MD * sizeof(double));
    for (size_t i = 0; i < MD; i++)
        X[i] = 1.0;
    uint8_t y = 1;
    size_t np = snn_readout_n_params(r);
    double *g = malloc(np * sizeof(double)), loss;
    assert_int_equal(snn_readout_loss_and_grad(r, X, &y, 1, &loss, g, &err), SNN_OK);
    /* W0 [MD × MH]: row i is zero iff feature i was dropped (p 0.3);
       column j is zero iff hidden neuron j was dropped (p 0.6).  W1 [MH ×
       MC]: row j is zero iff j was dropped.  Binomial: mean n·p, sd
       sqrt(n·p·(1 - p)); allow 5 sd. */
    size_t zrow = 0, zcol = 0, zrow1 = 0, mismatch = 0;
    for (size_t i = 0; i < MD; i++) {
        int z = 1;
        for (size_t j = 0; j < MH && z; j++)
            z = g[i * MH + j] == 0.0;
        zrow += z;
    }
    const double *g1 = g + MD * MH + MH; /* after W0 and b0 */
    for (size_t j = 0; j < MH; j++) {
        int z = 1;
        for (size_t i = 0; i < MD && z; i++)
            z = g[i * MH + j] == 0.0;
        zcol += z;
        int z1 = g1[j * MC] == 0.0 && g1[j * MC + 1] == 0.0 && g1[j * MC + 2] == 0.0;
        zrow1 += z1;
        mismatch += z != z1;
    }
    assert_true(fabs((double)zrow - MD * 0.3) <= 5 * sqrt(MD * 0.3 * 0.7));
    assert_true(fabs((double)zcol - MH * 0.6) <= 5 * sqrt(MH * 0.6 * 0.4));
    assert_int_equal(mismatch, 0);
    assert_int_equal(zcol, zrow1);

    /* A kept feature counts 1/(1 - p): with input dropout alone, the
       gradient equals, bit for bit, that of a learner without dropout fed
       the masked input itself (0 where a row of W0's gradient is zero,
       1/(1 - p) elsewhere). */
    snn_readout_free(r);
    c.dropout_hidden = 0.0;
    assert_int_equal(snn_readout_create(&r, &c, MD, MC, &err), SNN_OK);
    assert_int_equal(snn_readout_loss_and_grad(r, X, &y, 1, &loss, g, &err), SNN_OK);
    double *Xm = malloc(MD * sizeof(double));
    size_t nk = 0;
    for (size_t i = 0; i < MD; i++) {
        int z = 1;
        for (size_t j = 0; j < MH && z; j++)
            z = g[i * MH + j] == 0.0;
        Xm[i] = z ? 0.0 : 1.0 / (1.0 - 0.3);
        nk += !z;
    }
    assert_true(fabs((double)nk - MD * 0.7) <= 5 * sqrt(MD * 0.3 * 0.7));
    snn_readout_free(r);
    c.dropout_input = 0.0;
    assert_int_equal(snn_readout_create(&r, &c, MD, MC, &err), SNN_OK);
    double *ref = malloc(np * sizeof(double)), loss_ref;
    assert_int_equal(snn_readout_loss_and_grad(r, Xm, &y, 1, &loss_ref, ref, &err), SNN_OK);
    assert_memory_equal(&loss, &loss_ref, sizeof loss);
    assert_memory_equal(g, ref, np * sizeof(double));
    free(Xm);
    free(ref);
    free(g);
    free(X);
    snn_readout_free(r);
}

/* ---- learning ---------------------------------------------------------- */

/* Class c has feature c at 1 and the others at 0.1·noise: linearly separable. */
static void separable(size_t n, size_t d, size_t C, unsigned long seed, double *X, uint8_t *y)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (uint8_t)(i % C);
        for (size_t k = 0; k < d; k++)
            X[i * d + k] = (k == y[i] ? 1.0 : 0.0) + 0.1 * gsl_rng_uniform(g);
    }
    gsl_rng_free(g);
}

static void test_learns_separable(void **state)
{
    (void)state;
    enum { N = 60, NT = 30, D = 6, C = 3 };
    double X[N * D], Xt[NT * D];
    uint8_t y[N], yt[NT];
    separable(N, D, C, 3, X, y);
    separable(NT, D, C, 4, Xt, yt);
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    c.steps = 10;
    c.input_gain = 0.5;
    c.batch = 10;
    c.chunk = 4;
    c.epochs = 30;
    c.lr = 0.05;
    c.norm = SNN_RO_NORM_MAX;
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, &c, D, C, &err), SNN_OK);
    double acc0;
    assert_int_equal(snn_readout_fit_norm(r, X, N, &err), SNN_OK);
    assert_int_equal(snn_readout_evaluate(r, Xt, yt, NT, &acc0, NULL, NULL, &err), SNN_OK);
    assert_int_equal(snn_readout_train(r, X, y, N, Xt, yt, NT, NULL, NULL, &err), SNN_OK);
    double acc;
    uint64_t conf[C * C], pred[NT];
    assert_int_equal(snn_readout_evaluate(r, Xt, yt, NT, &acc, conf, pred, &err), SNN_OK);
    snn_assert_close(acc, 1.0, 0, 0);
    for (size_t i = 0; i < C; i++)
        for (size_t j = 0; j < C; j++)
            assert_int_equal(conf[i * C + j], i == j ? NT / C : 0);
    for (size_t i = 0; i < NT; i++)
        assert_int_equal(pred[i], yt[i]);
    const double *loss = snn_readout_curve(r, "loss");
    assert_true(loss[c.epochs - 1] < 0.5 * loss[0]);
    snn_assert_close(snn_readout_curve(r, "test_accuracy")[c.epochs - 1], 1.0, 0, 0);
    snn_readout_free(r);
}

/* ---- determinism ------------------------------------------------------- */

static snn_readout_cfg det_cfg(void)
{
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    c.encode = SNN_RO_ENC_POISSON;
    c.max_rate_hz = 300.0;
    c.steps = 12;
    c.n_hidden = 1;
    c.hidden[0] = 9;
    c.tau_syn_ms = 3.0;
    c.batch = 32;
    c.chunk = 8;
    c.epochs = 3;
    c.lr = 0.01;
    c.update_noise = 1e-3;
    c.record_alignment = 1;
    c.record_weights = 1;
    c.weight_decay = 0.01;
    c.lr_schedule = SNN_RO_LR_COSINE;
    return c;
}

enum { DN = 70, DD = 13, DC = 4 };

static double *train_params(const snn_readout_cfg *c, int threads, unsigned epochs,
                            const double *X, const uint8_t *y)
{
    omp_set_num_threads(threads);
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, c, DD, DC, &err), SNN_OK);
    assert_int_equal(snn_readout_fit_norm(r, X, DN, &err), SNN_OK);
    for (unsigned e = 0; e < epochs; e++)
        assert_int_equal(snn_readout_train_epoch(r, X, y, DN, NULL, &err), SNN_OK);
    size_t np = snn_readout_n_params(r), n;
    double *out = malloc(np * sizeof(double));
    size_t off = 0;
    for (size_t l = 0; l < snn_readout_n_layers(r); l++)
        for (int b = 0; b <= 1; b++) {
            double *p = snn_readout_param(r, l, b, &n);
            memcpy(out + off, p, n * sizeof(double));
            off += n;
        }
    snn_readout_free(r);
    return out;
}

/* det_cfg() with dropout p_in / p_hid: training for 1, 2 and 3 threads
   gives the same parameters, bit for bit, and they differ in more than half
   of the entries from a reference: the initial weights without dropout (the
   comparison is not of untouched values), the same training without it
   with dropout (the masks act). */
static void check_threads_identical(double p_in, double p_hid)
{
    double X[DN * DD];
    uint8_t y[DN];
    random_data(DN, DD, DC, 5, X, y);
    snn_readout_cfg c = det_cfg();
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, &c, DD, DC, &err), SNN_OK);
    size_t np = snn_readout_n_params(r);
    snn_readout_free(r);
    int drop = p_in > 0 || p_hid > 0;
    double *ref = train_params(&c, 1, drop ? c.epochs : 0, X, y);
    c.dropout_input = p_in;
    c.dropout_hidden = p_hid;
    int saved = omp_get_max_threads();
    double *p1 = train_params(&c, 1, c.epochs, X, y);
    double *p2 = train_params(&c, 2, c.epochs, X, y);
    double *p3 = train_params(&c, 3, c.epochs, X, y);
    omp_set_num_threads(saved);
    assert_memory_equal(p1, p2, np * sizeof(double));
    assert_memory_equal(p1, p3, np * sizeof(double));
    size_t differ = 0;
    for (size_t i = 0; i < np; i++)
        differ += ref[i] != p1[i];
    assert_true(differ > np / 2);
    free(ref);
    free(p1);
    free(p2);
    free(p3);
}

static void test_threads_bit_identical(void **state)
{
    (void)state;
    check_threads_identical(0.0, 0.0);
}

/* Dropout masks are keyed by (seed, epoch, sample): the same training for
   any thread count. */
static void test_dropout_threads_bit_identical(void **state)
{
    (void)state;
    check_threads_identical(0.2, 0.3);
}

/* Dropout acts in training passes only.  A learner with dropout and the
   same learner without it (same seed, so the same initial weights) give
   the same predictions at evaluation and the same input gradient (GHL's
   global signal is the whole network's) with the same parameter gradient
   and loss, bit for bit, while their training passes (loss_and_grad)
   differ. */
static void test_dropout_only_in_training(void **state)
{
    (void)state;
    enum { N = 200, D = 30 };
    double X[N * D], loss[2], tl[2], *dX[2], *g[2], *tg[2];
    uint8_t y[N];
    uint64_t pred[2][N];
    random_data(N, D, 4, 21, X, y);
    snn_readout_cfg c = det_cfg();
    c.encode = SNN_RO_ENC_CURRENT;
    c.hidden[0] = 40;
    size_t np = 0;
    for (int k = 0; k < 2; k++) {
        c.dropout_input = k ? 0.4 : 0.0;
        c.dropout_hidden = k ? 0.5 : 0.0;
        snn_readout *r;
        snn_err err;
        assert_int_equal(snn_readout_create(&r, &c, D, 4, &err), SNN_OK);
        assert_int_equal(snn_readout_fit_norm(r, X, N, &err), SNN_OK);
        np = snn_readout_n_params(r);
        g[k] = malloc(np * sizeof(double));
        tg[k] = malloc(np * sizeof(double));
        dX[k] = malloc(N * D * sizeof(double));
        assert_int_equal(snn_readout_evaluate(r, X, y, N, NULL, NULL, pred[k], &err), SNN_OK);
        assert_int_equal(snn_readout_input_grad(r, X, y, N, &loss[k], g[k], dX[k], &err), 0);
        assert_int_equal(snn_readout_loss_and_grad(r, X, y, N, &tl[k], tg[k], &err), 0);
        snn_readout_free(r);
    }
    assert_memory_equal(pred[0], pred[1], sizeof pred[0]);
    assert_memory_equal(dX[0], dX[1], N * D * sizeof(double));
    assert_memory_equal(g[0], g[1], np * sizeof(double));
    assert_memory_equal(&loss[0], &loss[1], sizeof loss[0]);
    assert_true(tl[0] != tl[1]);
    for (int k = 0; k < 2; k++) {
        free(g[k]);
        free(tg[k]);
        free(dX[k]);
    }
}

/* The Poisson encoding depends on (seed, epoch, sample) only: cutting the
   same samples into other chunks changes only the summation order. */
static void test_chunking_invariant(void **state)
{
    (void)state;
    double X[DN * DD];
    uint8_t y[DN];
    random_data(DN, DD, DC, 6, X, y);
    snn_readout_cfg c = det_cfg();
    double loss[2];
    double *g[2];
    for (int k = 0; k < 2; k++) {
        c.chunk = k ? 5 : 16;
        snn_readout *r;
        snn_err err;
        assert_int_equal(snn_readout_create(&r, &c, DD, DC, &err), SNN_OK);
        g[k] = malloc(snn_readout_n_params(r) * sizeof(double));
        assert_int_equal(snn_readout_loss_and_grad(r, X, y, DN, &loss[k], g[k], &err), SNN_OK);
        if (k) {
            for (size_t i = 0; i < snn_readout_n_params(r); i++)
                snn_assert_close(g[1][i], g[0][i], 1e-12, 1e-15);
        }
        snn_readout_free(r);
    }
    snn_assert_close(loss[1], loss[0], 1e-13, 0);
    free(g[0]);
    free(g[1]);
}

/* Spike inputs summed row-sparse or through dgemm: the same gradient up to
   rounding (non-smooth, Poisson input, hidden spikes). */
static void test_sparse_equals_dense(void **state)
{
    double X[DN * DD];
    uint8_t y[DN];
    random_data(DN, DD, DC, 14, X, y);
    snn_readout_cfg c = det_cfg();
    c.hidden[0] = 30;
    if (*state) /* the dropout variant: masked hidden spikes count 1/(1 - p) */
        c.dropout_hidden = 0.4;
    double loss[2], *g[2];
    size_t np = 0;
    for (int k = 0; k < 2; k++) {
        c.sparse_density = k ? 1.0 : 0.0;
        snn_readout *r;
        snn_err err;
        assert_int_equal(snn_readout_create(&r, &c, DD, DC, &err), SNN_OK);
        np = snn_readout_n_params(r);
        g[k] = malloc(np * sizeof(double));
        assert_int_equal(snn_readout_loss_and_grad(r, X, y, DN, &loss[k], g[k], &err), SNN_OK);
        snn_readout_free(r);
    }
    snn_assert_close(loss[1], loss[0], 1e-13, 0);
    double norm = 0;
    for (size_t i = 0; i < np; i++)
        norm += g[0][i] * g[0][i];
    assert_true(norm > 0);
    for (size_t i = 0; i < np; i++)
        snn_assert_close(g[1][i], g[0][i], 1e-12, 1e-14 * sqrt(norm));
    free(g[0]);
    free(g[1]);
}

/* ---- checkpoints ------------------------------------------------------- */

static void checkpoint_round_trip(snn_readout_cfg c)
{
    double X[DN * DD];
    uint8_t y[DN];
    random_data(DN, DD, DC, 8, X, y);
    snn_err err;
    snn_readout *a, *b, *d;
    assert_int_equal(snn_readout_create(&a, &c, DD, DC, &err), SNN_OK);
    assert_int_equal(snn_readout_fit_norm(a, X, DN, &err), SNN_OK);
    for (unsigned e = 0; e < c.epochs; e++)
        assert_int_equal(snn_readout_train_epoch(a, X, y, DN, NULL, &err), SNN_OK);

    assert_int_equal(snn_readout_create(&b, &c, DD, DC, &err), SNN_OK);
    assert_int_equal(snn_readout_fit_norm(b, X, DN, &err), SNN_OK);
    assert_int_equal(snn_readout_train_epoch(b, X, y, DN, NULL, &err), SNN_OK);
    size_t len = snn_readout_blob_size(b);
    unsigned char *blob = malloc(len);
    assert_int_equal(snn_readout_save(b, blob, len, &err), SNN_OK);
    snn_readout_free(b);

    assert_int_equal(snn_readout_create(&d, &c, DD, DC, &err), SNN_OK);
    assert_int_equal(snn_readout_load(d, blob, len, &err), SNN_OK);
    assert_int_equal(snn_readout_epochs_done(d), 1);
    while (snn_readout_epochs_done(d) < c.epochs)
        assert_int_equal(snn_readout_train_epoch(d, X, y, DN, NULL, &err), SNN_OK);
    size_t na = snn_readout_blob_size(a);
    assert_int_equal(snn_readout_blob_size(d), na);
    for (size_t l = 0; l < snn_readout_n_layers(a); l++)
        for (int bias = 0; bias <= 1; bias++) {
            size_t n1, n2;
            double *p1 = snn_readout_param(a, l, bias, &n1);
            double *p2 = snn_readout_param(d, l, bias, &n2);
            assert_int_equal(n1, n2);
            assert_memory_equal(p1, p2, n1 * sizeof(double));
        }
    const char *curves[] = {"loss", "train_accuracy", "learning_rate"};
    for (int k = 0; k < 3; k++)
        assert_memory_equal(snn_readout_curve(a, curves[k]), snn_readout_curve(d, curves[k]),
                            c.epochs * sizeof(double));
    /* The whole state agrees once the wall-clock times are equalised. */
    memcpy((double *)snn_readout_curve(d, "epoch_time_s"), snn_readout_curve(a, "epoch_time_s"),
           c.epochs * sizeof(double));
    unsigned char *sa = malloc(na), *sd = malloc(na);
    assert_int_equal(snn_readout_save(a, sa, na, &err), SNN_OK);
    assert_int_equal(snn_readout_save(d, sd, na, &err), SNN_OK);
    assert_memory_equal(sa, sd, na);
    free(sa);
    free(sd);

    /* Rejections: short, corrupted, other shape; the learner is untouched. */
    snn_readout *e;
    assert_int_equal(snn_readout_create(&e, &c, DD, DC, &err), SNN_OK);
    assert_int_equal(snn_readout_load(e, blob, len - 1, &err), SNN_ECFG);
    assert_int_equal(snn_readout_load(e, blob, 10, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "too short"));
    blob[len / 2] ^= 0x10;
    assert_int_equal(snn_readout_load(e, blob, len, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "checksum"));
    blob[len / 2] ^= 0x10;
    assert_int_equal(snn_readout_epochs_done(e), 0);
    snn_readout *f;
    snn_readout_cfg c2 = c;
    c2.hidden[0] = 10;
    assert_int_equal(snn_readout_create(&f, &c2, DD, DC, &err), SNN_OK);
    assert_int_equal(snn_readout_load(f, blob, len, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "shape"));
    assert_int_equal(snn_readout_load(e, blob, len, &err), SNN_OK);
    snn_readout_free(f);
    snn_readout_free(e);
    free(blob);
    snn_readout_free(a);
    snn_readout_free(d);
}

static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    snn_readout_cfg c = det_cfg();
    checkpoint_round_trip(c);
    /* dropout masks are keyed by (seed, epoch, sample): nothing to save */
    c.dropout_input = 0.2;
    c.dropout_hidden = 0.3;
    checkpoint_round_trip(c);
}

/* SGD with momentum: the momentum buffer is saved, so an interrupted run
   resumes bit-identically; a blob of another optimiser is refused. */
static void test_checkpoint_round_trip_sgd(void **state)
{
    (void)state;
    snn_readout_cfg c = det_cfg();
    c.optimizer = SNN_RO_OPT_SGD;
    c.momentum = 0.9;
    c.lr = 0.05;
    checkpoint_round_trip(c);
    snn_readout *a, *b;
    snn_err err;
    snn_readout_cfg ca = det_cfg();
    assert_int_equal(snn_readout_create(&a, &ca, DD, DC, &err), SNN_OK);
    assert_int_equal(snn_readout_create(&b, &c, DD, DC, &err), SNN_OK);
    size_t len = snn_readout_blob_size(a);
    assert_int_equal(snn_readout_blob_size(b), len);
    unsigned char *blob = malloc(len);
    assert_int_equal(snn_readout_save(a, blob, len, &err), SNN_OK);
    assert_int_equal(snn_readout_load(b, blob, len, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "shape"));
    free(blob);
    snn_readout_free(a);
    snn_readout_free(b);
}

/* ---- normalisation ----------------------------------------------------- */

static void test_normalisation(void **state)
{
    (void)state;
    /* Columns: (1, 3, 5) mean 3, population std sqrt(8/3); (2, 6, 10) mean
       6, std sqrt(32/3); (4, 4, 4) constant.  Global max 10. */
    const double X[3 * 3] = {1, 2, 4, 3, 6, 4, 5, 10, 4};
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    snn_err err;
    snn_readout *r;
    const double *sh, *sc;
    c.norm = SNN_RO_NORM_ZSCORE;
    assert_int_equal(snn_readout_create(&r, &c, 3, 2, &err), SNN_OK);
    assert_int_equal(snn_readout_fit_norm(r, X, 3, &err), SNN_OK);
    snn_readout_norm(r, &sh, &sc);
    snn_assert_close(sh[0], 3.0, 1e-15, 0);
    snn_assert_close(sh[1], 6.0, 1e-15, 0);
    snn_assert_close(sh[2], 4.0, 1e-15, 0);
    snn_assert_close(sc[0], 1.0 / sqrt(8.0 / 3.0), 1e-14, 0);
    snn_assert_close(sc[1], 1.0 / sqrt(32.0 / 3.0), 1e-14, 0);
    snn_assert_close(sc[2], 0.0, 0, 0);
    /* (5 - 3)/sqrt(8/3) = sqrt(1.5) */
    snn_assert_close((X[6] - sh[0]) * sc[0], sqrt(1.5), 1e-14, 0);
    snn_readout_free(r);
    c.norm = SNN_RO_NORM_MAX;
    assert_int_equal(snn_readout_create(&r, &c, 3, 2, &err), SNN_OK);
    assert_int_equal(snn_readout_fit_norm(r, X, 3, &err), SNN_OK);
    snn_readout_norm(r, &sh, &sc);
    for (int i = 0; i < 3; i++) {
        snn_assert_close(sh[i], 0.0, 0, 0);
        snn_assert_close(sc[i], 0.1, 1e-15, 0);
    }
    snn_readout_free(r);
}

/* ---- closed forms ------------------------------------------------------ */

static void test_surrogates(void **state)
{
    (void)state;
    double k = 10.0;
    /* fast sigmoid 1/(1 + k|x|)^2 */
    snn_assert_close(snn_readout_surrogate(SNN_RO_SG_FAST_SIGMOID, k, 0.0), 1.0, 1e-15, 0);
    snn_assert_close(snn_readout_surrogate(SNN_RO_SG_FAST_SIGMOID, k, 0.3), 1.0 / 16.0, 1e-15, 0);
    snn_assert_close(snn_readout_surrogate(SNN_RO_SG_FAST_SIGMOID, k, -0.1), 0.25, 1e-15, 0);
    /* arctan k / (1 + (pi k x)^2): x = 1/(pi k) gives k/2 */
    snn_assert_close(snn_readout_surrogate(SNN_RO_SG_ARCTAN, k, 0.0), k, 1e-15, 0);
    snn_assert_close(snn_readout_surrogate(SNN_RO_SG_ARCTAN, k, 1.0 / (M_PI * k)), k / 2, 1e-15,
                     0);
    /* sigmoid k σ(kx)(1 - σ(kx)): k/4 at 0; at kx = ln 3, σ = 3/4 -> 3k/16 */
    snn_assert_close(snn_readout_surrogate(SNN_RO_SG_SIGMOID, k, 0.0), k / 4, 1e-15, 0);
    snn_assert_close(snn_readout_surrogate(SNN_RO_SG_SIGMOID, k, log(3.0) / k), 3 * k / 16,
                     1e-14, 0);
    snn_assert_close(snn_readout_surrogate(SNN_RO_SG_SIGMOID, k, -log(3.0) / k), 3 * k / 16,
                     1e-14, 0);
}

static void test_adam_closed_form(void **state)
{
    (void)state;
    double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
    double p[2] = {1.0, -2.0}, m[2] = {0, 0}, v[2] = {0, 0};
    double g[2] = {0.5, -3.0};
    snn_readout_adam(p, m, v, g, 2, 1, lr, b1, b2, eps, wd);
    /* Step 1: m̂ = g, v̂ = g^2: p -= lr (g/(|g| + eps) + wd p). */
    snn_assert_close(p[0], 1.0 - lr * (0.5 / (0.5 + eps) + wd * 1.0), 1e-15, 0);
    snn_assert_close(p[1], -2.0 - lr * (-3.0 / (3.0 + eps) + wd * -2.0), 1e-15, 0);
    snn_assert_close(m[0], 0.05, 1e-15, 0);
    snn_assert_close(v[1], 0.001 * 9.0, 1e-15, 0);
    /* Step 2 with g = -0.2 on p[0]: m = 0.025, v = 0.999·0.00025 + 0.001·0.04
       = 0.00028975, m̂ = 0.025/0.19, v̂ = 0.00028975/0.001999. */
    double p0 = p[0], g2[2] = {-0.2, 0.0};
    snn_readout_adam(p, m, v, g2, 2, 2, lr, b1, b2, eps, 0.0);
    double mh = 0.025 / 0.19, vh = 0.00028975 / 0.001999;
    snn_assert_close(p[0], p0 - lr * mh / (sqrt(vh) + eps), 1e-13, 0);
}

static void test_sgd_closed_form(void **state)
{
    (void)state;
    double lr = 0.1, mu = 0.5, wd = 0.01;
    double p[2] = {1.0, -2.0}, buf[2] = {0, 0}, g[2] = {0.5, -3.0};
    /* Plain SGD + L2: p -= lr (g + wd p). */
    snn_readout_sgd(p, buf, g, 2, lr, 0.0, wd);
    snn_assert_close(p[0], 1.0 - 0.1 * (0.5 + 0.01 * 1.0), 1e-15, 0);
    snn_assert_close(p[1], -2.0 - 0.1 * (-3.0 + 0.01 * -2.0), 1e-15, 0);
    /* Momentum: buf1 = g1 + wd p0, buf2 = mu buf1 + g2 + wd p1, p2 = p1 - lr buf2. */
    double q[1] = {1.0}, b[1] = {0.0}, g1[1] = {0.5}, g2[1] = {-0.2};
    snn_readout_sgd(q, b, g1, 1, lr, mu, wd);
    double b1 = 0.5 + 0.01 * 1.0, q1 = 1.0 - 0.1 * b1;
    snn_assert_close(b[0], b1, 1e-15, 0);
    snn_assert_close(q[0], q1, 1e-15, 0);
    snn_readout_sgd(q, b, g2, 1, lr, mu, wd);
    double b2 = 0.5 * b1 + (-0.2 + 0.01 * q1);
    snn_assert_close(b[0], b2, 1e-15, 0);
    snn_assert_close(q[0], q1 - 0.1 * b2, 1e-15, 0);
}

/* Read /readout/alignment/W<l> of r through a temporary HDF5 file. */
static double *alignment_of(const snn_readout *r, int l, size_t *n)
{
    char path[128], ds[64];
    snprintf(path, sizeof path, "test_readout_al_%d.h5", (int)getpid());
    snprintf(ds, sizeof ds, "/readout/alignment/W%d", l);
    snn_h5 *h;
    snn_err err;
    assert_int_equal(snn_h5_create(&h, path, 0, &err), SNN_OK);
    assert_int_equal(snn_readout_write_h5(r, h, &err), SNN_OK);
    assert_int_equal(snn_h5_close(h, 1, &err), SNN_OK);
    double *v;
    assert_int_equal(snn_h5_read_f64(path, ds, &v, n, &err), SNN_OK);
    unlink(path);
    return v;
}

static double cos_of(const double *a, const double *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

/*
 * One SGD step of the learner, no hidden layer, current encoding, max_mem
 * output (no spikes, so everything is closed form): the whole training set
 * is one batch, so the step is W' = W - lr (g + wd W) with g from
 * snn_readout_loss_and_grad, biases b' = b - lr g_b (no decay).  The
 * recorded alignment is cos(W' - W, H) with the Hebbian term in closed
 * form: r_pre = x·input_gain, r_post = mean_t u_t = I·(1 - m)/(1 - beta),
 * m = (1/T) Σ_{t=1..T} beta^t, I = x W + b, H = (1/N) Σ_b r_pre r_post^T.
 * With update noise the recorded cosine is that of the change actually
 * applied, not of the noise-free step.
 */
static void test_sgd_step_and_alignment(void **state)
{
    (void)state;
    enum { N = 12, D = 5, C = 3 };
    double X[N * D];
    uint8_t y[N];
    random_data(N, D, C, 21, X, y);
    for (int noisy = 0; noisy <= 1; noisy++) {
        snn_readout_cfg c;
        snn_readout_cfg_default(&c);
        c.optimizer = SNN_RO_OPT_SGD;
        c.decode = SNN_RO_DEC_MAX_MEM;
        c.steps = 7;
        c.input_gain = 0.8;
        c.lr = 0.3;
        c.weight_decay = 0.05;
        c.batch = N;
        c.epochs = 1;
        c.shuffle = 0;
        c.record_alignment = 1;
        c.update_noise = noisy ? 0.02 : 0.0;
        snn_readout *r;
        snn_err err;
        assert_int_equal(snn_readout_create(&r, &c, D, C, &err), SNN_OK);
        size_t np = snn_readout_n_params(r), nw, nb;
        double *W = snn_readout_param(r, 0, 0, &nw);
        double *bias = snn_readout_param(r, 0, 1, &nb);
        assert_int_equal(nw, (size_t)D * C);
        for (size_t j = 0; j < nb; j++)
            bias[j] = 0.1 * (double)j - 0.05;
        double W0[D * C], b0[C], loss;
        memcpy(W0, W, sizeof W0);
        memcpy(b0, bias, sizeof b0);
        double *g = malloc(np * sizeof(double));
        assert_int_equal(snn_readout_loss_and_grad(r, X, y, N, &loss, g, &err), SNN_OK);
        /* Hebbian term in closed form. */
        double beta = exp(-c.dt_ms / c.tau_mem_ms), m = 0, bt = 1;
        for (unsigned t = 1; t <= c.steps; t++) {
            bt *= beta;
            m += bt;
        }
        m /= c.steps;
        double H[D * C] = {0};
        for (size_t s = 0; s < N; s++)
            for (size_t k = 0; k < C; k++) {
                double I = b0[k];
                for (size_t i = 0; i < D; i++)
                    I += c.input_gain * X[s * D + i] * W0[i * C + k];
                double post = I * (1.0 - m) / (1.0 - beta);
                for (size_t i = 0; i < D; i++)
                    H[i * C + k] += c.input_gain * X[s * D + i] * post / N;
            }
        assert_int_equal(snn_readout_train_epoch(r, X, y, N, NULL, &err), SNN_OK);
        double dW[D * C], want[D * C];
        for (size_t i = 0; i < nw; i++) {
            dW[i] = W[i] - W0[i];
            want[i] = -c.lr * (g[i] + c.weight_decay * W0[i]);
            if (!noisy)
                snn_assert_close(W[i], W0[i] + want[i], 1e-12, 1e-15);
        }
        if (!noisy)
            for (size_t j = 0; j < nb; j++)
                snn_assert_close(bias[j], b0[j] - c.lr * g[nw + j], 1e-12, 1e-15);
        size_t n;
        double *al = alignment_of(r, 0, &n);
        assert_int_equal(n, 1);
        snn_assert_close(al[0], cos_of(dW, H, nw), 1e-12, 1e-14);
        if (noisy) /* the noise moved the cosine away from the noise-free step's */
            assert_true(fabs(al[0] - cos_of(want, H, nw)) > 1e-6);
        else
            snn_assert_close(al[0], cos_of(want, H, nw), 1e-12, 1e-14);
        free(al);
        free(g);
        snn_readout_free(r);
    }
}

/* SGD + momentum + L2 + noise keeps the bit-identity for 1/2/3 threads. */
static void test_sgd_threads_bit_identical(void **state)
{
    (void)state;
    double X[DN * DD];
    uint8_t y[DN];
    random_data(DN, DD, DC, 15, X, y);
    snn_readout_cfg c = det_cfg();
    c.optimizer = SNN_RO_OPT_SGD;
    c.momentum = 0.9;
    c.lr = 0.05;
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, &c, DD, DC, &err), SNN_OK);
    size_t np = snn_readout_n_params(r);
    snn_readout_free(r);
    int saved = omp_get_max_threads();
    double *p1 = train_params(&c, 1, c.epochs, X, y);
    double *p2 = train_params(&c, 2, c.epochs, X, y);
    double *p3 = train_params(&c, 3, c.epochs, X, y);
    double *p0 = train_params(&c, 1, 0, X, y);
    omp_set_num_threads(saved);
    assert_memory_equal(p1, p2, np * sizeof(double));
    assert_memory_equal(p1, p3, np * sizeof(double));
    size_t moved = 0;
    for (size_t i = 0; i < np; i++)
        moved += p0[i] != p1[i];
    assert_true(moved > np / 2);
    /* And SGD is not Adam: the same run under Adam ends elsewhere. */
    c.optimizer = SNN_RO_OPT_ADAM;
    double *pa = train_params(&c, 1, c.epochs, X, y);
    assert_true(memcmp(pa, p1, np * sizeof(double)) != 0);
    free(pa);
    free(p0);
    free(p1);
    free(p2);
    free(p3);
}

/* ---- rules and recording ----------------------------------------------- */

static void test_random_feedback(void **state)
{
    (void)state;
    double X[DN * DD];
    uint8_t y[DN];
    random_data(DN, DD, DC, 9, X, y);
    snn_readout_cfg c = det_cfg();
    c.record_alignment = 0;
    double *g[2];
    size_t np = 0, nw0 = 0, off_top = 0;
    for (int k = 0; k < 2; k++) {
        c.rule = k ? SNN_RO_RULE_RANDOM : SNN_RO_RULE_BACKPROP;
        snn_readout *r;
        snn_err err;
        assert_int_equal(snn_readout_create(&r, &c, DD, DC, &err), SNN_OK);
        np = snn_readout_n_params(r);
        size_t nb;
        snn_readout_param(r, 0, 0, &nw0);
        snn_readout_param(r, 0, 1, &nb);
        off_top = nw0 + nb;
        g[k] = malloc(np * sizeof(double));
        double loss;
        assert_int_equal(snn_readout_loss_and_grad(r, X, y, DN, &loss, g[k], &err), SNN_OK);
        snn_readout_free(r);
    }
    /* With B_0 = W_1^T the random rule is backprop: same gradient. */
    {
        c.rule = SNN_RO_RULE_RANDOM;
        snn_readout *r;
        snn_err err;
        assert_int_equal(snn_readout_create(&r, &c, DD, DC, &err), SNN_OK);
        size_t nf, n1;
        double *B = snn_readout_feedback(r, 0, &nf);
        const double *W1 = snn_readout_param(r, 1, 0, &n1);
        assert_int_equal(nf, n1);
        size_t nh = c.hidden[0];
        for (size_t k = 0; k < DC; k++)
            for (size_t j = 0; j < nh; j++)
                B[k * nh + j] = W1[j * DC + k];
        double *ge = malloc(np * sizeof(double)), loss;
        assert_int_equal(snn_readout_loss_and_grad(r, X, y, DN, &loss, ge, &err), SNN_OK);
        for (size_t i = 0; i < np; i++)
            snn_assert_close(ge[i], g[0][i], 1e-12, 1e-15);
        assert_null(snn_readout_feedback(r, 1, &nf));
        free(ge);
        snn_readout_free(r);
    }
    /* The output layer's gradient is the true one under both rules ... */
    assert_memory_equal(g[0] + off_top, g[1] + off_top, (np - off_top) * sizeof(double));
    /* ... the hidden layer's is not. */
    double diff = 0, norm = 0;
    for (size_t i = 0; i < nw0; i++) {
        diff += (g[0][i] - g[1][i]) * (g[0][i] - g[1][i]);
        norm += g[0][i] * g[0][i];
    }
    assert_true(norm > 0 && diff > 1e-6 * norm);
    free(g[0]);
    free(g[1]);
}

/* Update noise alone (lr = 0): each weight takes U independent N(0, σ²)
   steps, biases stay put, and the recorded cosine between a pure-noise ΔW
   and the Hebbian term is O(1/sqrt(n_w)). */
static void test_update_noise(void **state)
{
    (void)state;
    enum { N = 40, D = 60, C = 3 };
    double X[N * D];
    uint8_t y[N];
    random_data(N, D, C, 12, X, y);
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    c.n_hidden = 1;
    c.hidden[0] = 50;
    c.lr = 0.0;
    c.update_noise = 0.01;
    c.batch = 10;
    c.epochs = 2;
    c.record_alignment = 1;
    c.encode = SNN_RO_ENC_POISSON;
    c.max_rate_hz = 500;
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, &c, D, C, &err), SNN_OK);
    size_t n0, nb;
    double *w0 = snn_readout_param(r, 0, 0, &n0);
    double *init = malloc(n0 * sizeof(double));
    memcpy(init, w0, n0 * sizeof(double));
    double *b0 = snn_readout_param(r, 0, 1, &nb);
    for (size_t j = 0; j < nb; j++)
        b0[j] = 0.25;
    for (unsigned e = 0; e < c.epochs; e++)
        assert_int_equal(snn_readout_train_epoch(r, X, y, N, NULL, &err), SNN_OK);
    double U = c.epochs * (N / c.batch), ss = 0, mean = 0;
    for (size_t k = 0; k < n0; k++) {
        double d = w0[k] - init[k];
        mean += d;
        ss += d * d;
    }
    mean /= (double)n0;
    double var = ss / (double)n0, want = U * c.update_noise * c.update_noise;
    /* The variance estimate of n0 = 3000 normals has relative sd
       sqrt(2/n0) = 2.6 %; allow 5 sd.  The mean has sd sqrt(want/n0). */
    snn_assert_close(var, want, 5 * sqrt(2.0 / (double)n0), 0);
    assert_true(fabs(mean) < 5 * sqrt(want / (double)n0));
    for (size_t j = 0; j < nb; j++)
        snn_assert_close(b0[j], 0.25, 0, 0);
    free(init);
    /* Cosines of pure noise against a fixed direction: sd 1/sqrt(n_w). */
    char path[128];
    snprintf(path, sizeof path, "test_readout_noise_%d.h5", (int)getpid());
    snn_h5 *h;
    assert_int_equal(snn_h5_create(&h, path, 0, &err), SNN_OK);
    assert_int_equal(snn_readout_write_h5(r, h, &err), SNN_OK);
    assert_int_equal(snn_h5_close(h, 1, &err), SNN_OK);
    double *v;
    size_t n;
    assert_int_equal(snn_h5_read_f64(path, "/readout/alignment/W0", &v, &n, &err), SNN_OK);
    assert_int_equal(n, (size_t)U);
    size_t finite = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            finite++;
            assert_true(fabs(v[i]) < 5.0 / sqrt((double)n0));
        }
    assert_true(finite > 0);
    free(v);
    unlink(path);
    snn_readout_free(r);
}

/* The learning-rate curve follows the schedules' closed forms. */
static void test_lr_schedules(void **state)
{
    (void)state;
    enum { N = 8, D = 3, C = 2 };
    double X[N * D];
    uint8_t y[N];
    random_data(N, D, C, 13, X, y);
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    c.steps = 3;
    c.epochs = 6;
    c.lr = 0.2;
    for (int sch = 0; sch < 3; sch++) {
        c.lr_schedule = sch;
        c.lr_step_epochs = 4;
        c.lr_gamma = 0.1;
        c.lr_min = 0.02;
        snn_readout *r;
        snn_err err;
        assert_int_equal(snn_readout_create(&r, &c, D, C, &err), SNN_OK);
        assert_int_equal(snn_readout_train(r, X, y, N, NULL, NULL, 0, NULL, NULL, &err), 0);
        const double *lr = snn_readout_curve(r, "learning_rate");
        for (unsigned e = 0; e < c.epochs; e++) {
            double want = sch == SNN_RO_LR_CONSTANT ? 0.2
                          : sch == SNN_RO_LR_STEP ? (e < 4 ? 0.2 : 0.02)
                                                  : 0.02 + 0.18 * 0.5 * (1 + cos(M_PI * e / 6.0));
            snn_assert_close(lr[e], want, 1e-15, 0);
        }
        snn_assert_close(lr[3], sch == SNN_RO_LR_COSINE ? 0.11 : 0.2, 1e-15, 0);
        assert_true(isnan(snn_readout_curve(r, "test_accuracy")[0]));
        snn_readout_free(r);
    }
}

static void test_h5_layout(void **state)
{
    (void)state;
    double X[DN * DD];
    uint8_t y[DN];
    random_data(DN, DD, DC, 10, X, y);
    snn_readout_cfg c = det_cfg();
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, &c, DD, DC, &err), SNN_OK);
    assert_int_equal(snn_readout_train(r, X, y, DN, X, y, 20, NULL, NULL, &err), SNN_OK);
    double acc;
    assert_int_equal(snn_readout_evaluate(r, X, y, DN, &acc, NULL, NULL, &err), SNN_OK);
    char path[128];
    snprintf(path, sizeof path, "test_readout_%d.h5", (int)getpid());
    snn_h5 *h;
    assert_int_equal(snn_h5_create(&h, path, 4, &err), SNN_OK);
    assert_int_equal(snn_readout_write_h5(r, h, &err), SNN_OK);
    assert_int_equal(snn_h5_close(h, 1, &err), SNN_OK);
    double *v;
    uint64_t *u;
    size_t n;
    assert_int_equal(snn_h5_read_f64(path, "/readout/curves/loss", &v, &n, &err), SNN_OK);
    assert_int_equal(n, c.epochs);
    assert_memory_equal(v, snn_readout_curve(r, "loss"), n * sizeof(double));
    free(v);
    assert_int_equal(snn_h5_read_f64(path, "/readout/curves/test_accuracy", &v, &n, &err), 0);
    assert_int_equal(n, c.epochs);
    assert_true(v[0] >= 0 && v[0] <= 1);
    free(v);
    /* One alignment entry per update: ceil(70 / 32) = 3 per epoch. */
    size_t U = 3 * c.epochs;
    assert_int_equal(snn_h5_read_u64(path, "/readout/alignment/step", &u, &n, &err), SNN_OK);
    assert_int_equal(n, U);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(u[i], i + 1);
    free(u);
    for (int l = 0; l < 2; l++) {
        char p[64];
        snprintf(p, sizeof p, "/readout/alignment/W%d", l);
        assert_int_equal(snn_h5_read_f64(path, p, &v, &n, &err), SNN_OK);
        assert_int_equal(n, U);
        for (size_t i = 0; i < n; i++)
            assert_true(v[i] >= -1.0 && v[i] <= 1.0);
        free(v);
    }
    assert_int_equal(snn_h5_read_u64(path, "/readout/results/predictions", &u, &n, &err), 0);
    assert_int_equal(n, DN);
    size_t correct = 0;
    for (size_t i = 0; i < n; i++)
        correct += u[i] == y[i];
    snn_assert_close((double)correct / DN, acc, 1e-15, 0);
    free(u);

    /* Weight snapshots [E, n_in, n_out]: the last one is the final weights;
       confusion [C, C] counts every sample; attributes carry the config. */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    for (size_t l = 0; l < 2; l++) {
        char p[64];
        snprintf(p, sizeof p, "/readout/weights/W%zu", l);
        hid_t d = H5Dopen2(f, p, H5P_DEFAULT);
        assert_true(d >= 0);
        hid_t sp = H5Dget_space(d);
        hsize_t dims[3] = {0, 0, 0};
        assert_int_equal(H5Sget_simple_extent_dims(sp, dims, NULL), 3);
        size_t nw;
        const double *w = snn_readout_param(r, l, 0, &nw);
        assert_int_equal(dims[0], c.epochs);
        assert_int_equal(dims[1] * dims[2], nw);
        assert_int_equal(dims[1], l == 0 ? DD : 9);
        double *all = malloc(dims[0] * nw * sizeof(double));
        assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0);
        assert_memory_equal(all + (dims[0] - 1) * nw, w, nw * sizeof(double));
        free(all);
        H5Sclose(sp);
        H5Dclose(d);
    }
    hid_t d = H5Dopen2(f, "/readout/results/confusion", H5P_DEFAULT);
    assert_true(d >= 0);
    uint64_t conf[DC * DC], total = 0;
    assert_true(H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, conf) >= 0);
    for (int i = 0; i < DC * DC; i++)
        total += conf[i];
    assert_int_equal(total, DN);
    H5Dclose(d);
    hid_t a = H5Aopen_by_name(f, "/readout", "tau_syn_ms", H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    double tau;
    assert_true(H5Aread(a, H5T_NATIVE_DOUBLE, &tau) >= 0);
    snn_assert_close(tau, c.tau_syn_ms, 0, 0);
    H5Aclose(a);
    assert_true(H5Aexists_by_name(f, "/readout", "rule", H5P_DEFAULT) > 0);
    H5Fclose(f);
    unlink(path);
    snn_readout_free(r);
}

static void test_bad_config(void **state)
{
    (void)state;
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    snn_err err;
    snn_readout *r;
    c.tau_mem_ms = -1;
    assert_int_equal(snn_readout_create(&r, &c, 4, 2, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "tau_mem_ms"));
    assert_null(r);
    snn_readout_cfg_default(&c);
    c.n_hidden = 5;
    assert_int_equal(snn_readout_cfg_check(&c, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "n_hidden"));
    int v;
    assert_int_equal(snn_readout_choice("surrogate", "arctan", &v, &err), SNN_OK);
    assert_int_equal(v, SNN_RO_SG_ARCTAN);
    assert_int_equal(snn_readout_choice("decode", "spikes", &v, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "\"max_mem\""));
    assert_int_equal(snn_readout_choice("optimizer", "sgd", &v, &err), SNN_OK);
    assert_int_equal(v, SNN_RO_OPT_SGD);
    assert_int_equal(snn_readout_choice("optimizer", "rmsprop", &v, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "\"sgd\""));
    snn_readout_cfg_default(&c);
    c.momentum = 1.0;
    assert_int_equal(snn_readout_cfg_check(&c, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "momentum"));
    /* A label out of range is refused. */
    snn_readout_cfg_default(&c);
    assert_int_equal(snn_readout_create(&r, &c, 2, 2, &err), SNN_OK);
    double X[4] = {0, 1, 1, 0};
    uint8_t y[2] = {0, 2};
    assert_int_equal(snn_readout_train_epoch(r, X, y, 2, NULL, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "label 2"));
    snn_readout_free(r);
}

int main(void)
{
    static int dropout_on = 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_surrogates),
        cmocka_unit_test(test_adam_closed_form),
        cmocka_unit_test(test_sgd_closed_form),
        cmocka_unit_test(test_sgd_step_and_alignment),
        cmocka_unit_test(test_sgd_threads_bit_identical),
        cmocka_unit_test(test_checkpoint_round_trip_sgd),
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_gradient_no_hidden),
        cmocka_unit_test(test_gradient_hidden),
        cmocka_unit_test(test_input_gradient_fd),
        cmocka_unit_test(test_input_gradient_closed_form),
        cmocka_unit_test(test_random_feedback),
        cmocka_unit_test(test_learns_separable),
        cmocka_unit_test(test_chunking_invariant),
        cmocka_unit_test(test_sparse_equals_dense),
        cmocka_unit_test_prestate(test_sparse_equals_dense, &dropout_on),
        cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_dropout_threads_bit_identical),
        cmocka_unit_test(test_gradient_dropout),
        cmocka_unit_test(test_dropout_masks),
        cmocka_unit_test(test_dropout_only_in_training),
        cmocka_unit_test(test_checkpoint_round_trip),
        cmocka_unit_test(test_update_noise),
        cmocka_unit_test(test_lr_schedules),
        cmocka_unit_test(test_h5_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
