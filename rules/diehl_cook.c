/*
 * rules/diehl_cook.c: the "pre-and-post" STDP rule with weight dependence of
 * Diehl & Cook 2015 (Front Comput Neurosci 9:99), with the target offset
 * x_tar of their presynaptic-trace rule.
 *
 * A pre trace x_pre (tau_pre) and a post trace x_post (tau_post) per neuron.
 * At a post spike every incoming weight changes by
 *   +eta_post (x_pre - x_tar) (w_max - w)^mu,
 * at a pre spike every outgoing weight by
 *   -eta_pre x_post w^mu,
 * with the traces taken just before the spike; the weight is then clipped to
 * [0, w_max].  x_tar = 0 is the pre-and-post rule; eta_pre = 0 with x_tar > 0
 * is the paper's presynaptic-trace rule, where a post spike depresses inputs
 * whose trace is below x_tar (a post spike with no recent pre spike changes w
 * by -eta_post x_tar (w_max - w)^mu).  mu = 0 makes both terms additive.
 *
 * Traces: `trace = "set"` (default) resets a trace to 1 at each spike, as the
 * authors' published simulation code does; `trace = "add"` adds 1 per spike,
 * as the paper's text describes x_pre.  The two agree unless a neuron fires
 * again within a few tau.  Default x_tar = 0: with "set" traces x_pre < 1 at
 * every post spike, so any x_tar >= 1 would make every post spike depress.
 * eta_pre, eta_post, tau_pre, tau_post and w_max default to the values of the
 * authors' code (nu_ee_pre, nu_ee_post, tc_pre_ee, tc_post_1_ee, wmax_ee).
 *
 * Implementation: both traces are kept by the engine (sim/model.h,
 * snn_trace); they exclude the current step's spikes, so a pre and a post
 * spike in the same step do not see each other.  Spike times are the emission
 * times (the projection's delay does not enter).  Time enters only through
 * the two traces, so under the event-driven integrator every pair counts
 * with its exact interval (exact_times).
 * Units: times in ms; w_max in the projection's weight unit; eta_pre and
 * eta_post are pure numbers for mu = 1 (in general weight unit^(1 - mu);
 * the table lists them as "1").
 */
#include <math.h>

#include "../sim/net.h"
#include "rule.h"

enum { DC_ETA_PRE, DC_ETA_POST, DC_X_TAR, DC_TAU_PRE, DC_TAU_POST, DC_W_MAX, DC_MU, DC_TRACE,
       DC_N_PARAMS };
enum { DC_ADD, DC_SET };

static const char *const trace_choices[] = {"add", "set", NULL};

static const snn_param_desc diehl_cook_params[DC_N_PARAMS] = {
    [DC_ETA_PRE] = {"eta_pre", "1", 1e-4, 0.0, 1e6,
                    "depression rate at a pre spike, times x_post w^mu", NULL},
    [DC_ETA_POST] = {"eta_post", "1", 1e-2, 0.0, 1e6,
                     "potentiation rate at a post spike, times (x_pre - x_tar) (w_max - w)^mu",
                     NULL},
    [DC_X_TAR] = {"x_tar", "1", 0.0, 0.0, 1e6,
                  "target of the pre trace at a post spike: inputs below it are depressed", NULL},
    [DC_TAU_PRE] = {"tau_pre", "ms", 20.0, 1e-3, 1e6, "time constant of the pre trace x_pre",
                    NULL},
    [DC_TAU_POST] = {"tau_post", "ms", 20.0, 1e-3, 1e6, "time constant of the post trace x_post",
                     NULL},
    [DC_W_MAX] = {"w_max", "w", 1.0, 0.0, 1e12, "upper weight bound (the lower one is 0)", NULL},
    [DC_MU] = {"mu", "1", 1.0, 0.0, 4.0,
               "weight-dependence exponent: 0 additive, 1 multiplicative", NULL},
    [DC_TRACE] = {"trace", "1", DC_SET, 0, 1,
                  "a spike adds 1 to its trace, or sets it to 1", trace_choices},
};

typedef struct diehl_cook_consts {
    double eta_pre, eta_post, x_tar, w_max, mu;
    const double *x_pre;   /* pre trace, tau_pre */
    const double *x_post;  /* post trace, tau_post */
} diehl_cook_consts;

/*
 * diehl_cook_prepare: check w_max > 0, copy the rates and request the two
 * traces in the chosen mode from the engine.  Build time; the traces are
 * allocated by the populations, not by the rule.
 */
static int diehl_cook_prepare(snn_rule *r, snn_proj *pj, double dt_ms, snn_err *err)
{
    const double *par = r->par;
    diehl_cook_consts *c = r->consts;
    if (!(par[DC_W_MAX] > 0.0))
        SNN_FAIL(err, SNN_ECFG, "w_max = %g must be positive (weights are clipped to [0, w_max])",
                 par[DC_W_MAX]);
    c->eta_pre = par[DC_ETA_PRE];
    c->eta_post = par[DC_ETA_POST];
    c->x_tar = par[DC_X_TAR];
    c->w_max = par[DC_W_MAX];
    c->mu = par[DC_MU];
    snn_trace_mode mode = lround(par[DC_TRACE]) == DC_ADD ? SNN_TRACE_ADD : SNN_TRACE_SET;
    size_t ip, iq;
    int rc = snn_pop_trace(pj->pre, par[DC_TAU_PRE], mode, &ip, err);
    if (!rc)
        rc = snn_pop_trace(pj->post, par[DC_TAU_POST], mode, &iq, err);
    if (rc)
        return rc;
    c->x_pre = pj->pre->traces[ip].x;
    c->x_post = pj->post->traces[iq].x;
    return SNN_OK;
}

static inline double clip(double w, double hi)
{
    return w < 0.0 ? 0.0 : (w > hi ? hi : w);
}

/* b^mu for b >= 0, exact for the common exponents 0 and 1 (0^0 = 1). */
static inline double pow_mu(double b, double mu)
{
    return mu == 1.0 ? b : (mu == 0.0 ? 1.0 : pow(b, mu));
}

/*
 * diehl_cook_on_pre: depress the n synapses w[] of pre neuron `pre` onto
 * post[] by eta_pre x_post w^mu.  Writes only w[]; safe on different
 * partitions concurrently.
 */
static void diehl_cook_on_pre(const snn_rule *r, const snn_proj *pj, uint32_t pre,
                              const uint32_t *post, double *w, size_t n, size_t step)
{
    const diehl_cook_consts *c = r->consts;
    const double *y = c->x_post;
    const double eta = c->eta_pre, hi = c->w_max;
    if (n == 0)
        return;
    if (c->mu == 1.0 && post[n - 1] - post[0] == n - 1) {
        /* The common case (mu = 1, a row of consecutive targets, e.g. all to
           all): a contiguous loop that vectorises.  Same arithmetic as below. */
        const double *yc = y + post[0];
        for (size_t m = 0; m < n; m++) {
            double b = w[m] > 0.0 ? w[m] : 0.0;
            w[m] = clip(w[m] - eta * yc[m] * b, hi);
        }
        return;
    }
    for (size_t m = 0; m < n; m++) {
        double b = w[m] > 0.0 ? w[m] : 0.0;
        w[m] = clip(w[m] - eta * y[post[m]] * pow_mu(b, c->mu), hi);
    }
}

/*
 * diehl_cook_on_post: change the n incoming synapses w[pos[m]] of post neuron
 * `post` from pre[m] by eta_post (x_pre - x_tar) (w_max - w)^mu.  Writes only
 * w[pos[]]; safe on different partitions concurrently.
 */
static void diehl_cook_on_post(const snn_rule *r, const snn_proj *pj, uint32_t post,
                               const uint32_t *pre, const size_t *pos, double *w, size_t n,
                               size_t step)
{
    const diehl_cook_consts *c = r->consts;
    const double *x = c->x_pre;
    const double eta = c->eta_post, x_tar = c->x_tar, hi = c->w_max;
    size_t stride = pj->post->n;
    if (c->mu == 1.0 && pj->dense && w == pj->w_dense && n == pj->pre->n && n > 0 &&
        pre[0] == 0 && pre[n - 1] == n - 1 && pos[0] == post &&
        pos[n - 1] == (n - 1) * stride + post) {
        /* A dense projection's column (sim/net.h: pre = 0..n_pre, pos[m] =
           m n_post + post): strided, no indices to load.  Same arithmetic
           as below. */
        double *restrict wc = w + post;
        for (size_t m = 0; m < n; m++) {
            double wq = wc[m * stride], b = hi - wq;
            wc[m * stride] = clip(wq + eta * (x[m] - x_tar) * (b > 0.0 ? b : 0.0), hi);
        }
        return;
    }
    for (size_t m = 0; m < n; m++) {
        double wq = w[pos[m]], b = c->w_max - wq;
        w[pos[m]] = clip(wq + c->eta_post * (x[pre[m]] - c->x_tar) * pow_mu(b > 0.0 ? b : 0.0, c->mu),
                         c->w_max);
    }
}

const snn_rule_type diehl_cook_type = {
    .name = "diehl_cook",
    .doc = "Diehl & Cook (2015) pre-and-post STDP with weight dependence: a post spike adds "
           "eta_post (x_pre - x_tar) (w_max - w)^mu, a pre spike subtracts eta_pre x_post w^mu; "
           "clipped to [0, w_max]; traces set to 1 (or incremented) per spike.",
    .params = diehl_cook_params,
    .n_params = DC_N_PARAMS,
    .consts_size = sizeof(diehl_cook_consts),
    .prepare = diehl_cook_prepare,
    .on_pre = diehl_cook_on_pre,
    .on_post = diehl_cook_on_post,
    .exact_times = true,
};
