/*
 * tests/unit/test_hebb.c: rules/hebb.c (hebb, instar, oja) through the engine.
 *
 * The rules' discrete update (rules/hebb.c header): at a spike of post
 * neuron j at t_f every incoming weight becomes clip(w + dw), with
 *     hebb: dw = eta xh_i,  instar: dw = eta (xh_i - w),  oja: dw = eta (xh_i - yh_j w),
 * xh_i = (1000/tau_x) sum_{t_a < t_f} exp(-(t_f - t_a)/tau_x) over pre spikes,
 * yh_j the same over the earlier spikes of j with tau_y.
 *
 * 1. Closed form: spike-time sources before and after the plastic
 *    projection give exact pre and post trains; the final weights equal the
 *    formula applied spike by spike, to 1e-12, for dense and sparse storage,
 *    including coincident pre/post spikes (which must not pair) and clipping.
 * 2. Drift: Poisson pre (4 rate groups) and an independent Poisson post.
 *    Given the post train, each rule's final weight is affine in the pre
 *    traces, so its exact mean and variance follow from the Poisson counts;
 *    the sample means must lie within 5 sigma, the sample variances within
 *    [0.5, 1.5] of the prediction (3.5 sigma for 96 degrees of freedom), and
 *    the means must match the rate rules (hebb: w0 + eta x N_post; instar:
 *    w -> x).
 * 3. Oja's normalisation: a linear Poisson neuron (rate sum_i w_i r_i, set by
 *    the test every step) with four correlated inputs: |w| -> 1 from below
 *    and from above.
 * 4. Bit-identical weights for 1, 2 and 3 threads on a plastic LIF network;
 *    an error for w_min >= w_max.
 *
 * The hand-built specs project onto spike sources (io/cfg.c does not allow
 * that): the post spikes are then exactly the ones the test prescribes, and
 * the arrivals land in a ring slot the source never reads.
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "../fixture.h"
#include "rules/rule.h"
#include "sim/net.h"
#include "sim/sched.h"

enum { R_HEBB, R_INSTAR, R_OJA, R_N };
static const char *const rule_name[R_N] = {"hebb", "instar", "oja"};

static void set_spikes(snn_pop_spec *p, const uint32_t *ids, const double *t, size_t n)
{
    p->n_spikes = n;
    p->spike_ids = malloc(n * sizeof(uint32_t));
    p->spike_times_ms = malloc(n * sizeof(double));
    memcpy(p->spike_ids, ids, n * sizeof(uint32_t));
    memcpy(p->spike_times_ms, t, n * sizeof(double));
}

/* Attach rule `name` to pj: every parameter at its default, then
   keys[q] = vals[q].  The keys must exist. */
static void set_rule(snn_proj_spec *pj, const char *name, const char *const *keys,
                     const double *vals, size_t nk)
{
    const snn_rule_type *t = snn_rule_find(name);
    assert_non_null(t);
    pj->rule = t;
    pj->rule_par = malloc(t->n_params * sizeof(double));
    for (size_t i = 0; i < t->n_params; i++)
        pj->rule_par[i] = t->params[i].def;
    for (size_t q = 0; q < nk; q++) {
        size_t i = 0;
        while (i < t->n_params && strcmp(t->params[i].key, keys[q]) != 0)
            i++;
        if (i == t->n_params)
            fail_msg("rule %s has no parameter %s", name, keys[q]);
        pj->rule_par[i] = vals[q];
    }
}

/* Rule parameters of one run: eta, tau_x, tau_y (oja only), w_min, w_max. */
typedef struct rule_par {
    int rule;
    double eta, tau_x, tau_y, w_min, w_max;
} rule_par;

static void attach(snn_proj_spec *pj, const rule_par *rp)
{
    static const char *const keys[] = {"eta", "tau_x", "w_min", "w_max", "tau_y"};
    const double vals[] = {rp->eta, rp->tau_x, rp->w_min, rp->w_max, rp->tau_y};
    set_rule(pj, rule_name[rp->rule], keys, vals, rp->rule == R_OJA ? 5 : 4);
}

static inline double clip(double w, double lo, double hi)
{
    return w < lo ? lo : (w > hi ? hi : w);
}

/* ---- 1. closed form ------------------------------------------------------ */

#define CF_DT 0.1
#define CF_NPRE 2
#define CF_NPOST 2
/* Pre and post trains; post spikes in time order.  Pre and post coincide at
   20.0 ms (post 0) and 40.0 ms (post 1): those pairs must not count. */
static const uint32_t cf_pre_id[] = {0, 1, 0, 0, 1, 0, 1, 0, 1, 0};
static const double cf_pre_t[] = {5.0, 8.0, 12.3, 20.0, 20.0, 31.7, 35.2, 40.0, 44.4, 58.1};
static const uint32_t cf_post_id[] = {0, 1, 0, 0, 0, 1, 1, 0, 0, 1};
static const double cf_post_t[] = {10.0, 15.0, 20.0, 25.0, 33.4, 40.0, 41.0, 45.0, 60.0, 70.0};
#define CF_NS_PRE (sizeof cf_pre_t / sizeof cf_pre_t[0])
#define CF_NS_POST (sizeof cf_post_t / sizeof cf_post_t[0])

/* (1000/tau) sum over spikes of `who` strictly before grid time tb of
   exp(-(tb - ta)/tau): the rule's rate estimate in Hz. */
static double rate_est(const uint32_t *id, const double *t, size_t n, uint32_t who, double tb,
                       double tau)
{
    long mb = lround(tb / CF_DT);
    double s = 0.0;
    for (size_t a = 0; a < n; a++) {
        long ma = lround(t[a] / CF_DT);
        if (id[a] == who && ma < mb)
            s += exp(-(double)(mb - ma) * CF_DT / tau);
    }
    return 1000.0 / tau * s;
}

/* The discrete formula applied post spike by post spike; returns the number
   of updates that hit a bound. */
static size_t cf_reference(const rule_par *rp, double w0, double w[CF_NPRE][CF_NPOST])
{
    size_t clipped = 0;
    for (size_t i = 0; i < CF_NPRE; i++)
        for (size_t j = 0; j < CF_NPOST; j++)
            w[i][j] = w0;
    for (size_t q = 0; q < CF_NS_POST; q++) {
        uint32_t j = cf_post_id[q];
        double tb = cf_post_t[q];
        double yh = rp->rule == R_OJA
                        ? rate_est(cf_post_id, cf_post_t, CF_NS_POST, j, tb, rp->tau_y)
                        : 0.0;
        for (uint32_t i = 0; i < CF_NPRE; i++) {
            double xh = rate_est(cf_pre_id, cf_pre_t, CF_NS_PRE, i, tb, rp->tau_x);
            double dw = rp->rule == R_HEBB     ? rp->eta * xh
                        : rp->rule == R_INSTAR ? rp->eta * (xh - w[i][j])
                                               : rp->eta * (xh - yh * w[i][j]);
            double v = w[i][j] + dw;
            clipped += v < rp->w_min || v > rp->w_max;
            w[i][j] = clip(v, rp->w_min, rp->w_max);
        }
    }
    return clipped;
}

static void cf_run(const rule_par *rp, double w0, snn_conn_kind conn, double w[CF_NPRE * CF_NPOST])
{
    snn_spec *s = fx_spec(CF_DT, 100, 1);
    uint32_t pre = fx_pop(s, "pre", "spike_times", CF_NPRE);
    set_spikes(&s->pops[pre], cf_pre_id, cf_pre_t, CF_NS_PRE);
    uint32_t post = fx_pop(s, "post", "spike_times", CF_NPOST);
    set_spikes(&s->pops[post], cf_post_id, cf_post_t, CF_NS_POST);
    snn_proj_spec *pj = fx_proj(s, pre, post, conn, w0, 1.0);
    pj->p = 1.0;
    attach(pj, rp);
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 1, &err) ||
        snn_sched_clock_run(net, net->n_steps, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    assert_true(net->projs[0].dense == (conn == SNN_CONN_ALL_TO_ALL));
    assert_int_equal(net->projs[0].nnz, CF_NPRE * CF_NPOST);
    assert_int_equal(net->spike_count[post], CF_NS_POST);
    snn_net_weights(&net->projs[0], w, NULL, NULL);
    snn_net_free(net);
    snn_spec_free(s);
}

/* Run case rp from w0 with dense and sparse storage; compare with the
   reference to 1e-12.  Returns the reference's number of clipped updates. */
static size_t cf_check(const rule_par *rp, double w0)
{
    double want[CF_NPRE][CF_NPOST];
    size_t clipped = cf_reference(rp, w0, want);
    const snn_conn_kind conns[] = {SNN_CONN_ALL_TO_ALL, SNN_CONN_BERNOULLI};
    for (size_t c = 0; c < 2; c++) {
        double got[CF_NPRE * CF_NPOST];
        cf_run(rp, w0, conns[c], got);
        for (size_t i = 0; i < CF_NPRE; i++)
            for (size_t j = 0; j < CF_NPOST; j++) {
                if (c == 0)
                    print_message("%-6s w[%zu][%zu] = %.15f (closed form %.15f)\n",
                                  rule_name[rp->rule], i, j, got[i * CF_NPOST + j], want[i][j]);
                snn_assert_close(got[i * CF_NPOST + j], want[i][j], 1e-12, 1e-15);
            }
    }
    return clipped;
}

static void test_closed_form(void **state)
{
    (void)state;
    const rule_par hebb = {R_HEBB, 1e-3, 20.0, 0.0, 0.0, 1.0};
    const rule_par instar = {R_INSTAR, 0.3, 20.0, 0.0, 0.0, 1000.0};
    const rule_par oja = {R_OJA, 0.01, 20.0, 30.0, 0.0, 10.0};
    assert_int_equal(cf_check(&hebb, 0.5), 0);
    assert_int_equal(cf_check(&instar, 5.0), 0);
    assert_int_equal(cf_check(&oja, 0.5), 0);
    /* A different tau_x must give different weights (the trace is used). */
    rule_par h2 = hebb;
    h2.tau_x = 5.0;
    double a[CF_NPRE][CF_NPOST], b[CF_NPRE][CF_NPOST];
    cf_reference(&hebb, 0.5, a);
    cf_reference(&h2, 0.5, b);
    assert_true(fabs(a[0][0] - b[0][0]) > 1e-3);
}

static void test_clipping(void **state)
{
    (void)state;
    /* hebb: a huge eta runs into w_max; instar: w_min = 60 Hz above most
       rate estimates holds the weights there; oja: w falls below w_min.  The
       reference clips after every update as the rule does. */
    const rule_par hebb = {R_HEBB, 1.0, 20.0, 0.0, 0.0, 1.0};
    const rule_par instar = {R_INSTAR, 0.5, 20.0, 0.0, 60.0, 1000.0};
    const rule_par oja = {R_OJA, 0.05, 20.0, 30.0, 0.2, 10.0};
    assert_true(cf_check(&hebb, 0.5) > 0);
    assert_true(cf_check(&instar, 80.0) > 0);
    assert_true(cf_check(&oja, 5.0) > 0);
}

/* ---- 2. drift with Poisson trains --------------------------------------- */

#define DR_DT 0.5
#define DR_NPRE 100
#define DR_GROUPS 4
#define DR_TAU_X 50.0
#define DR_TAU_Y 200.0
#define DR_WARM 1000      /* steps (500 ms = 10 tau_x) with a silent post neuron */
#define DR_STEPS 41000    /* 20.5 s */
#define DR_NU_POST 30.0   /* Hz */
static const double dr_nu[DR_GROUPS] = {5.0, 10.0, 20.0, 40.0};

/*
 * Exact mean and variance of one synapse's final weight given the post
 * events ev[0..nb) (steps) with post rate estimates yh[b]: every rule maps
 * w_b = a_b w_{b-1} + eta xh_b (a_b = 1, 1 - eta, 1 - eta yh_b), so
 * w_final = A w0 + sum_b c_b xh_b with c_b = eta prod_{b' > b} a_b'.  The
 * pre trace at step k is sum_{j < k} n_j d^(k-j) with Poisson counts n_j of
 * mean mu, whence the mean (recurrence M_k = d (M_{k-1} + mu)) and the
 * variance mu sum_j G_j^2 with G_j = sum_{b: k_b > j} c_b (1000/tau_x) d^(k_b - j).
 */
static void dr_predict(int rule, double eta, double w0, double nu, const size_t *ev,
                       const double *yh, size_t nb, double *mean, double *var)
{
    const double d = exp(-DR_DT / DR_TAU_X), xs = 1000.0 / DR_TAU_X, mu = nu * DR_DT * 1e-3;
    double *c = malloc(nb * sizeof *c), *ec = calloc(DR_STEPS, sizeof *ec);
    double prod = 1.0;
    for (size_t b = nb; b-- > 0;) {
        c[b] = eta * prod;
        prod *= rule == R_HEBB ? 1.0 : rule == R_INSTAR ? 1.0 - eta : 1.0 - eta * yh[b];
        ec[ev[b]] = c[b] * xs;
    }
    double m = 0.0, e = prod * w0;
    size_t b = 0;
    for (size_t k = 0; k < DR_STEPS; k++) {
        if (k > 0)
            m = d * (m + mu);
        if (b < nb && ev[b] == k)
            e += c[b++] * xs * m;
    }
    double g = 0.0, v = 0.0;
    for (size_t j = DR_STEPS - 1; j-- > 0;) {
        g = d * (g + ec[j + 1]);
        v += g * g;
    }
    *mean = e;
    *var = mu * v;
    free(c);
    free(ec);
}

static void test_drift(void **state)
{
    (void)state;
    const rule_par rp[R_N] = {
        {R_HEBB, 1e-4, DR_TAU_X, 0.0, -1e6, 1e6},
        {R_INSTAR, 0.02, DR_TAU_X, 0.0, -1e6, 1e6},
        {R_OJA, 1e-3, DR_TAU_X, DR_TAU_Y, -1e6, 1e6},
    };
    const double w0[R_N] = {0.5, 8.0, 0.5};
    snn_spec *s = fx_spec(DR_DT, DR_STEPS * DR_DT, 2024);
    uint32_t pre = fx_pop(s, "pre", "poisson", DR_NPRE);
    uint32_t post = fx_pop(s, "post", "poisson", 1);
    for (int r = 0; r < R_N; r++)
        attach(fx_proj(s, pre, post, SNN_CONN_ALL_TO_ALL, w0[r], 1.0), &rp[r]);
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 1, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(net->n_steps, DR_STEPS);
    int ri = snn_model_state_index(net->pops[pre].type, "rate");
    assert_true(ri >= 0);
    for (size_t i = 0; i < DR_NPRE; i++)
        net->pops[pre].x[ri][i] = dr_nu[i * DR_GROUPS / DR_NPRE];
    net->pops[post].x[ri][0] = 0.0;
    if (snn_sched_clock_run(net, DR_WARM, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    net->pops[post].x[ri][0] = DR_NU_POST;
    /* Post events and the post trace at each (the engine's recurrence). */
    size_t *ev = malloc(DR_STEPS * sizeof *ev), nb = 0;
    double *yh = malloc(DR_STEPS * sizeof *yh);
    const double dy = exp(-DR_DT / DR_TAU_Y);
    double y = 0.0;
    uint32_t last_mult = 0;
    for (size_t k = DR_WARM; k < DR_STEPS; k++) {
        if (snn_sched_clock_run(net, 1, NULL, NULL, &err))
            fail_msg("%s", err.msg);
        y = dy * (y + last_mult);
        const snn_spikes *sp = &net->pops[post].spk[0];
        last_mult = sp->n ? sp->mult[0] : 0;
        if (sp->n) {
            ev[nb] = k;
            yh[nb++] = 1000.0 / DR_TAU_Y * y;
        }
    }
    assert_true(nb > 500);
    double y_late = 0.0;
    for (size_t b = nb / 2; b < nb; b++)
        y_late += yh[b];
    y_late /= (double)(nb - nb / 2);
    /* Stationary mean of xh on the grid relative to nu (rules/hebb.c). */
    const double dx = exp(-DR_DT / DR_TAU_X), f = DR_DT / DR_TAU_X * dx / (1.0 - dx);
    const size_t per = DR_NPRE / DR_GROUPS;
    for (int r = 0; r < R_N; r++) {
        const double *w = net->projs[r].w_dense;
        assert_true(net->projs[r].dense);
        double chi = 0.0;
        for (size_t g = 0; g < DR_GROUPS; g++) {
            double m = 0.0, ss = 0.0, e, v;
            for (size_t i = g * per; i < (g + 1) * per; i++)
                m += w[i];
            m /= (double)per;
            for (size_t i = g * per; i < (g + 1) * per; i++)
                ss += (w[i] - m) * (w[i] - m);
            dr_predict(r, rp[r].eta, w0[r], dr_nu[g], ev, yh, nb, &e, &v);
            chi += ss / v;
            double sd = sqrt(v / (double)per);
            /* The rate rules, integrated per post spike with the observed
               post train: hebb adds eta x per post spike, instar relaxes to
               x.  (Up to the 5e-5 left of the warm-up these equal the exact
               means, as both rules are linear in the stationary trace.)  Oja
               relaxes to x / y with y the mean of yh over the post spikes the
               final weight remembers (the last ~1/(eta y) = 33): that mean
               fluctuates with the post train by ~10 %, so x / (long-run y) is
               printed but only the exact conditional mean is asserted; the
               rate rule itself is test_oja_normalises. */
            double nu = dr_nu[g] * f, rate = 0.0;
            if (r == R_HEBB)
                rate = w0[r] + rp[r].eta * nu * (double)nb;
            else if (r == R_INSTAR)
                rate = nu + (w0[r] - nu) * pow(1.0 - rp[r].eta, (double)nb);
            else
                rate = nu / y_late;
            print_message("%-6s nu_pre %4.0f Hz: mean w %.6f, exact %.6f +- %.6f, rate rule %.6f\n",
                          rule_name[r], dr_nu[g], m, e, sd, rate);
            snn_assert_close(m, e, 0, 5 * sd);
            if (r != R_OJA)
                snn_assert_close(m, rate, 0, 5 * sd + 1e-4 * rate);
        }
        chi /= (double)(DR_NPRE - DR_GROUPS);
        print_message("%-6s sample / predicted variance %.3f\n", rule_name[r], chi);
        assert_true(chi > 0.5 && chi < 1.5);
    }
    free(ev);
    free(yh);
    snn_net_free(net);
    snn_spec_free(s);
}

/* ---- 3. Oja's normalisation --------------------------------------------- */

/*
 * Four Poisson inputs r_i = a_i + b_i s(t), s in {0, 1} redrawn every 100 ms,
 * so they are correlated; a Poisson neuron of rate lambda = sum_i w_i r_i
 * (set by the test before every step).  With tau_x = tau_y the mean update
 * is Oja's equation and |w|^2 = n obeys dn/dt = 2 eta E[lambda^2] (1 - n).
 * Fluctuations: near n = 1 the bracket w.xh - yh is shot noise of variance
 * V = (sum w_i^2 r_i + lambda) 500/tau Hz^2 and correlation time tau, so the
 * time average of n over T has variance ~ 2 V tau / (E[lambda^2] T) =
 * (sum w_i^2 r_i + lambda) / (E[lambda^2] T) ~ 140 Hz / (1e4 Hz^2 * 30 s)
 * ~ 5e-4, i.e. sigma(|w|) ~ 0.011 for the mean over the last 30 s of 60 s
 * (16 seeds gave mean 0.994, sd 0.013).  Bias terms (eta^2 |dw|^2, Jensen,
 * lag of the trace) are below 1e-2.  The tolerance 0.05 is about 4 sigma.
 */
#define OJ_DT 0.5
#define OJ_STEPS 120000   /* 60 s */
#define OJ_SWITCH 200     /* steps between pattern draws (100 ms) */
#define OJ_N 4

static double oja_norm(double w0, uint64_t seed)
{
    static const double a[OJ_N] = {20.0, 20.0, 20.0, 20.0}, b[OJ_N] = {80.0, 60.0, 40.0, 20.0};
    const rule_par rp = {R_OJA, 1e-5, 100.0, 100.0, 0.0, 10.0};
    snn_spec *s = fx_spec(OJ_DT, OJ_STEPS * OJ_DT, seed);
    uint32_t in = fx_pop(s, "in", "poisson", OJ_N);
    uint32_t out = fx_pop(s, "out", "poisson", 1);
    attach(fx_proj(s, in, out, SNN_CONN_ALL_TO_ALL, w0, 1.0), &rp);
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 1, &err))
        fail_msg("%s", err.msg);
    int ri = snn_model_state_index(net->pops[in].type, "rate");
    double *r = net->pops[in].x[ri], *lam = net->pops[out].x[ri];
    const double *w = net->projs[0].w_dense;
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, (unsigned long)seed);
    double sum = 0.0;
    for (size_t k = 0; k < OJ_STEPS; k++) {
        if (k % OJ_SWITCH == 0) {
            double sw = gsl_rng_uniform(g) < 0.5 ? 1.0 : 0.0;
            for (size_t i = 0; i < OJ_N; i++)
                r[i] = a[i] + b[i] * sw;
        }
        double l = 0.0;
        for (size_t i = 0; i < OJ_N; i++)
            l += w[i] * r[i];
        lam[0] = l;
        if (snn_sched_clock_run(net, 1, NULL, NULL, &err))
            fail_msg("%s", err.msg);
        if (k >= OJ_STEPS / 2) {
            double n2 = 0.0;
            for (size_t i = 0; i < OJ_N; i++)
                n2 += w[i] * w[i];
            sum += sqrt(n2);
        }
    }
    print_message("oja from |w0| = %.2f: w = (%.3f %.3f %.3f %.3f), mean |w| over the last 30 s "
                  "%.4f\n",
                  w0 * sqrt(OJ_N), w[0], w[1], w[2], w[3], sum / (OJ_STEPS / 2));
    /* The principal component of correlated positive inputs: all positive,
       ordered like b. */
    for (size_t i = 0; i + 1 < OJ_N; i++)
        assert_true(w[i] > w[i + 1] && w[OJ_N - 1] > 0.0);
    gsl_rng_free(g);
    snn_net_free(net);
    snn_spec_free(s);
    return sum / (OJ_STEPS / 2);
}

static void test_oja_normalises(void **state)
{
    (void)state;
    snn_assert_close(oja_norm(0.1, 5), 1.0, 0, 0.05);  /* |w0| = 0.2 */
    snn_assert_close(oja_norm(0.9, 6), 1.0, 0, 0.05);  /* |w0| = 1.8 */
}

/* ---- 4. threads, errors ------------------------------------------------- */

/* A plastic LIF network: oja on a dense input projection, hebb on a sparse
   one, instar on the recurrent one. */
static void plastic_net(int threads, double **w, size_t *nnz, size_t *n0, size_t *n1,
                        double **w_init)
{
    snn_spec *s = fx_spec(0.1, 200, 77);
    uint32_t ext = fx_pop(s, "ext", "poisson", 300);
    fx_par(s, ext, "rate_hz", 50.0);
    uint32_t e = fx_pop(s, "e", "lif", 900);
    snn_proj_spec *in = fx_proj(s, ext, e, SNN_CONN_ALL_TO_ALL, 0, 0.5);
    in->weight.kind = SNN_DIST_UNIFORM;
    in->weight.a = 0.0;
    in->weight.b = 40.0;
    snn_proj_spec *sp = fx_proj(s, ext, e, SNN_CONN_BERNOULLI, 5.0, 1.5);
    sp->p = 0.1;
    snn_proj_spec *rec = fx_proj(s, e, e, SNN_CONN_BERNOULLI, 20.0, 1.0);
    rec->p = 0.05;
    const rule_par oja = {R_OJA, 1e-4, 20.0, 30.0, 0.0, 60.0};
    const rule_par hebb = {R_HEBB, 1e-3, 20.0, 0.0, 0.0, 60.0};
    const rule_par instar = {R_INSTAR, 0.05, 20.0, 0.0, 0.0, 60.0};
    attach(in, &oja);
    attach(sp, &hebb);
    attach(rec, &instar);
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("%s", err.msg);
    *w_init = malloc(net->projs[0].nnz * sizeof **w_init);
    snn_net_weights(&net->projs[0], *w_init, NULL, NULL);
    if (snn_sched_clock_run(net, net->n_steps, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    assert_true(net->projs[0].dense && !net->projs[1].dense && !net->projs[2].dense);
    assert_true(net->spike_count[e] > 100);
    *n0 = net->projs[0].nnz;
    *n1 = net->projs[1].nnz;
    *nnz = *n0 + *n1 + net->projs[2].nnz;
    *w = malloc(*nnz * sizeof **w);
    snn_net_weights(&net->projs[0], *w, NULL, NULL);
    snn_net_weights(&net->projs[1], *w + *n0, NULL, NULL);
    snn_net_weights(&net->projs[2], *w + *n0 + *n1, NULL, NULL);
    snn_net_free(net);
    snn_spec_free(s);
}

static void test_threads_identical(void **state)
{
    (void)state;
    double *w[3], *w_init[3];
    size_t nnz[3], n0, n1;
    for (int t = 0; t < 3; t++)
        plastic_net(t + 1, &w[t], &nnz[t], &n0, &n1, &w_init[t]);
    assert_int_equal(nnz[0], nnz[1]);
    assert_int_equal(nnz[0], nnz[2]);
    assert_memory_equal(w[0], w[1], nnz[0] * sizeof(double));
    assert_memory_equal(w[0], w[2], nnz[0] * sizeof(double));
    /* Each rule moved some weights. */
    size_t moved_oja = 0, moved_hebb = 0, moved_instar = 0;
    for (size_t q = 0; q < n0; q++)
        moved_oja += w[0][q] != w_init[0][q];
    for (size_t q = n0; q < n0 + n1; q++)
        moved_hebb += w[0][q] != 5.0;
    for (size_t q = n0 + n1; q < nnz[0]; q++)
        moved_instar += w[0][q] != 20.0;
    print_message("moved: oja %zu of %zu, hebb %zu of %zu, instar %zu of %zu\n", moved_oja, n0,
                  moved_hebb, n1, moved_instar, nnz[0] - n0 - n1);
    assert_true(moved_oja > 0 && moved_hebb > 0 && moved_instar > 0);
    for (int t = 0; t < 3; t++) {
        free(w[t]);
        free(w_init[t]);
    }
}

static void test_bounds_error(void **state)
{
    (void)state;
    for (int r = 0; r < R_N; r++) {
        snn_spec *s = fx_spec(0.1, 10, 1);
        uint32_t a = fx_pop(s, "a", "poisson", 2);
        uint32_t b = fx_pop(s, "b", "lif", 2);
        const rule_par rp = {r, 0.01, 20.0, 20.0, 1.0, 1.0};
        attach(fx_proj(s, a, b, SNN_CONN_ALL_TO_ALL, 1.0, 1.0), &rp);
        snn_net *net = NULL;
        snn_err err;
        assert_int_not_equal(snn_net_build(&net, s, 1, &err), SNN_OK);
        assert_null(net);
        assert_non_null(strstr(err.msg, "w_min = 1 must be below w_max = 1"));
        assert_non_null(strstr(err.msg, rule_name[r]));
        snn_spec_free(s);
    }
    /* Only oja has (and asks for) a post trace. */
    assert_int_equal(snn_rule_find("hebb")->n_params, 5);
    assert_int_equal(snn_rule_find("instar")->n_params, 5);
    assert_int_equal(snn_rule_find("oja")->n_params, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_drift),
        cmocka_unit_test(test_oja_normalises),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_bounds_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
