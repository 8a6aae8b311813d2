/*
 * rules/stdp_pair.c: pair-based spike-timing-dependent plasticity with traces.
 *
 * A pre spike at t_pre and a post spike at t_post change the weight by
 *   A_plus  f+(w) exp(-(t_post - t_pre) / tau_plus)    if t_post > t_pre,
 *  -A_minus f-(w) exp(-(t_pre - t_post) / tau_minus)   if t_pre > t_post,
 * with soft bounds f+(w) = (w_max - w)^mu, f-(w) = (w - w_min)^mu (mu = 0:
 * additive, mu = 1: multiplicative; Guetig et al. 2003), and the weight
 * clipped to [w_min, w_max].  Pairing "all" sums over all earlier spikes
 * (traces add 1 per spike), "nearest" pairs each spike with the latest one
 * of the other side (traces reset to 1; Morrison et al. 2008).
 *
 * Implementation: a pre trace (tau_plus) and a post trace (tau_minus) per
 * neuron, kept by the engine (sim/model.h, snn_trace).  On a pre spike the
 * rule depresses the spiking row with the post traces, on a post spike it
 * potentiates the incoming column with the pre traces.  Spike times are the
 * emission times (the projection's delay does not enter the window), and a
 * pre and a post spike in the same step do not pair.  Under the event-driven
 * integrator the traces are exact at each spike time, so a pair at
 * Delta t changes w by exactly A exp(-|Delta t| / tau) (exact_times).
 * Units: times in ms; A_plus, A_minus, w_min, w_max in the projection's
 * weight unit (pA, mV or nS, from the target model).
 */
#include <math.h>

#include "../sim/net.h"
#include "rule.h"

enum { SP_A_PLUS, SP_A_MINUS, SP_TAU_PLUS, SP_TAU_MINUS, SP_W_MIN, SP_W_MAX, SP_MU, SP_PAIRING,
       SP_N_PARAMS };
enum { SP_ALL, SP_NEAREST };

static const char *const pairing_choices[] = {"all", "nearest", NULL};

static const snn_param_desc stdp_pair_params[SP_N_PARAMS] = {
    [SP_A_PLUS] = {"A_plus", "w", 0.01, 0.0, 1e6,
                   "potentiation amplitude (weight unit of the projection)", NULL},
    [SP_A_MINUS] = {"A_minus", "w", 0.0105, 0.0, 1e6,
                    "depression amplitude (weight unit of the projection)", NULL},
    [SP_TAU_PLUS] = {"tau_plus", "ms", 16.8, 1e-3, 1e6, "potentiation window time constant",
                     NULL},
    [SP_TAU_MINUS] = {"tau_minus", "ms", 33.7, 1e-3, 1e6, "depression window time constant",
                      NULL},
    [SP_W_MIN] = {"w_min", "w", 0.0, -1e12, 1e12, "lower weight bound", NULL},
    [SP_W_MAX] = {"w_max", "w", 1.0, -1e12, 1e12, "upper weight bound", NULL},
    [SP_MU] = {"mu", "1", 0.0, 0.0, 4.0,
               "soft-bound exponent: 0 additive, 1 multiplicative", NULL},
    [SP_PAIRING] = {"pairing", "1", SP_ALL, 0, 1,
                    "which spikes pair: all earlier ones, or only the nearest", pairing_choices},
};

typedef struct stdp_pair_consts {
    double a_plus, a_minus, w_min, w_max, mu;
    const double *x_pre;   /* pre trace, tau_plus */
    const double *y_post;  /* post trace, tau_minus */
} stdp_pair_consts;

static int stdp_pair_prepare(snn_rule *r, snn_proj *pj, double dt_ms, snn_err *err)
{
    const double *par = r->par;
    stdp_pair_consts *c = r->consts;
    if (!(par[SP_W_MIN] < par[SP_W_MAX]))
        SNN_FAIL(err, SNN_ECFG, "w_min = %g must be below w_max = %g", par[SP_W_MIN],
                 par[SP_W_MAX]);
    c->a_plus = par[SP_A_PLUS];
    c->a_minus = par[SP_A_MINUS];
    c->w_min = par[SP_W_MIN];
    c->w_max = par[SP_W_MAX];
    c->mu = par[SP_MU];
    snn_trace_mode mode = lround(par[SP_PAIRING]) == SP_NEAREST ? SNN_TRACE_SET : SNN_TRACE_ADD;
    size_t ip, iq;
    int rc = snn_pop_trace(pj->pre, par[SP_TAU_PLUS], mode, &ip, err);
    if (!rc)
        rc = snn_pop_trace(pj->post, par[SP_TAU_MINUS], mode, &iq, err);
    if (rc)
        return rc;
    c->x_pre = pj->pre->traces[ip].x;
    c->y_post = pj->post->traces[iq].x;
    return SNN_OK;
}

static inline double clip(double w, double lo, double hi)
{
    return w < lo ? lo : (w > hi ? hi : w);
}

/* Depression of the row of a pre spike. */
static void stdp_pair_on_pre(const snn_rule *r, const snn_proj *pj, uint32_t pre,
                             const uint32_t *post, double *w, size_t n, size_t step)
{
    const stdp_pair_consts *c = r->consts;
    const double *y = c->y_post;
    if (c->mu == 0.0)
        for (size_t m = 0; m < n; m++)
            w[m] = clip(w[m] - c->a_minus * y[post[m]], c->w_min, c->w_max);
    else
        for (size_t m = 0; m < n; m++)
            w[m] = clip(w[m] - c->a_minus * pow(fmax(w[m] - c->w_min, 0.0), c->mu) * y[post[m]],
                        c->w_min, c->w_max);
}

/* Potentiation of the column of a post spike. */
static void stdp_pair_on_post(const snn_rule *r, const snn_proj *pj, uint32_t post,
                              const uint32_t *pre, const size_t *pos, double *w, size_t n,
                              size_t step)
{
    const stdp_pair_consts *c = r->consts;
    const double *x = c->x_pre;
    if (c->mu == 0.0)
        for (size_t m = 0; m < n; m++)
            w[pos[m]] = clip(w[pos[m]] + c->a_plus * x[pre[m]], c->w_min, c->w_max);
    else
        for (size_t m = 0; m < n; m++) {
            double wq = w[pos[m]];
            w[pos[m]] = clip(wq + c->a_plus * pow(fmax(c->w_max - wq, 0.0), c->mu) * x[pre[m]],
                             c->w_min, c->w_max);
        }
}

const snn_rule_type stdp_pair_type = {
    .name = "stdp_pair",
    .doc = "Pair-based STDP with exponential windows, additive or soft-bounded (mu), "
           "all-to-all or nearest-spike pairing.",
    .params = stdp_pair_params,
    .n_params = SP_N_PARAMS,
    .consts_size = sizeof(stdp_pair_consts),
    .prepare = stdp_pair_prepare,
    .on_pre = stdp_pair_on_pre,
    .on_post = stdp_pair_on_post,
    .exact_times = true,
};
