/*
 * rules/stdp_triplet.c: triplet spike-timing-dependent plasticity
 * (Pfister & Gerstner 2006, J Neurosci 26:9673), all-to-all interactions.
 *
 * Four traces, each jumping by 1 per spike and decaying exponentially:
 * r1 (tau_plus) and r2 (tau_x) on the pre side, o1 (tau_minus) and o2
 * (tau_y) on the post side.  At a post spike every incoming weight changes by
 *   +r1 (A2_plus + A3_plus o2),
 * at a pre spike every outgoing weight by
 *   -o1 (A2_minus + A3_minus r2),
 * where each trace is taken just before the spike, so o2 at a post spike and
 * r2 at a pre spike exclude that spike itself.  The weight is then clipped to
 * [w_min, w_max].  A3_plus = A3_minus = 0 gives pair STDP with amplitudes
 * A2_plus, A2_minus; A3_minus = 0 is the paper's "minimal" model (its
 * visual-cortex minimal fit also has A2_plus = 0).
 *
 * Implementation: the four traces are per neuron and kept by the engine
 * (sim/model.h, snn_trace, mode add).  The engine's traces exclude the spikes
 * of the current step, which is exactly the "just before" above; a pre and a
 * post spike in the same step do not see each other.  Spike times are the
 * emission times (the projection's delay does not enter).  The rule reads
 * time only through the four traces (not `step`, not dt), so under the
 * event-driven integrator, which decays them exactly to each spike time and
 * adds a spike to them after the calls, every pair and triplet enters with
 * its exact intervals (exact_times).
 *
 * Defaults: the paper's all-to-all "full" fit to visual-cortex data
 * (Sjoestroem et al. 2001), as reproduced in several simulators' examples:
 * A2_plus = 5e-10, A3_plus = 6.2e-3, A2_minus = 7e-3, A3_minus = 2.3e-4,
 * tau_x = 101 ms, tau_y = 125 ms, tau_plus = 16.8 ms, tau_minus = 33.7 ms.
 * The same sources give the all-to-all "minimal" visual-cortex fit as
 * A2_plus = 0, A3_plus = 6.5e-3, A2_minus = 7.1e-3, A3_minus = 0,
 * tau_y = 114 ms (tau_x then unused).  Neither set was checked against the
 * paper's table itself.  The amplitudes are relative to a unit weight; scale
 * them to the projection's weight unit.
 * Units: times in ms; amplitudes and bounds in the projection's weight unit
 * (pA, mV or nS, from the target model).
 */
#include "../sim/net.h"
#include "rule.h"

enum { ST_A2_PLUS, ST_A3_PLUS, ST_A2_MINUS, ST_A3_MINUS, ST_TAU_PLUS, ST_TAU_MINUS, ST_TAU_X,
       ST_TAU_Y, ST_W_MIN, ST_W_MAX, ST_N_PARAMS };

static const snn_param_desc stdp_triplet_params[ST_N_PARAMS] = {
    [ST_A2_PLUS] = {"A2_plus", "w", 5e-10, 0.0, 1e6,
                    "pair potentiation amplitude, times r1 at a post spike", NULL},
    [ST_A3_PLUS] = {"A3_plus", "w", 6.2e-3, 0.0, 1e6,
                    "triplet potentiation amplitude, times r1 o2 at a post spike", NULL},
    [ST_A2_MINUS] = {"A2_minus", "w", 7e-3, 0.0, 1e6,
                     "pair depression amplitude, times o1 at a pre spike", NULL},
    [ST_A3_MINUS] = {"A3_minus", "w", 2.3e-4, 0.0, 1e6,
                     "triplet depression amplitude, times o1 r2 at a pre spike (0: minimal model)",
                     NULL},
    [ST_TAU_PLUS] = {"tau_plus", "ms", 16.8, 1e-3, 1e6,
                     "time constant of the fast pre trace r1 (potentiation window)", NULL},
    [ST_TAU_MINUS] = {"tau_minus", "ms", 33.7, 1e-3, 1e6,
                      "time constant of the fast post trace o1 (depression window)", NULL},
    [ST_TAU_X] = {"tau_x", "ms", 101.0, 1e-3, 1e6,
                  "time constant of the slow pre trace r2 (triplet depression)", NULL},
    [ST_TAU_Y] = {"tau_y", "ms", 125.0, 1e-3, 1e6,
                  "time constant of the slow post trace o2 (triplet potentiation)", NULL},
    [ST_W_MIN] = {"w_min", "w", 0.0, -1e12, 1e12, "lower weight bound", NULL},
    [ST_W_MAX] = {"w_max", "w", 1.0, -1e12, 1e12, "upper weight bound", NULL},
};

typedef struct stdp_triplet_consts {
    double a2_plus, a3_plus, a2_minus, a3_minus, w_min, w_max;
    const double *r1, *r2;  /* pre traces: tau_plus, tau_x */
    const double *o1, *o2;  /* post traces: tau_minus, tau_y */
} stdp_triplet_consts;

/*
 * stdp_triplet_prepare: check w_min < w_max, copy the amplitudes and request
 * the four traces (mode add) from the engine.  Build time; the traces are
 * allocated by the populations, not by the rule.
 */
static int stdp_triplet_prepare(snn_rule *r, snn_proj *pj, double dt_ms, snn_err *err)
{
    const double *par = r->par;
    stdp_triplet_consts *c = r->consts;
    if (!(par[ST_W_MIN] < par[ST_W_MAX]))
        SNN_FAIL(err, SNN_ECFG, "w_min = %g must be below w_max = %g", par[ST_W_MIN],
                 par[ST_W_MAX]);
    c->a2_plus = par[ST_A2_PLUS];
    c->a3_plus = par[ST_A3_PLUS];
    c->a2_minus = par[ST_A2_MINUS];
    c->a3_minus = par[ST_A3_MINUS];
    c->w_min = par[ST_W_MIN];
    c->w_max = par[ST_W_MAX];
    size_t i1, i2, j1, j2;
    int rc = snn_pop_trace(pj->pre, par[ST_TAU_PLUS], SNN_TRACE_ADD, &i1, err);
    if (!rc)
        rc = snn_pop_trace(pj->pre, par[ST_TAU_X], SNN_TRACE_ADD, &i2, err);
    if (!rc)
        rc = snn_pop_trace(pj->post, par[ST_TAU_MINUS], SNN_TRACE_ADD, &j1, err);
    if (!rc)
        rc = snn_pop_trace(pj->post, par[ST_TAU_Y], SNN_TRACE_ADD, &j2, err);
    if (rc)
        return rc;
    c->r1 = pj->pre->traces[i1].x;
    c->r2 = pj->pre->traces[i2].x;
    c->o1 = pj->post->traces[j1].x;
    c->o2 = pj->post->traces[j2].x;
    return SNN_OK;
}

static inline double clip(double w, double lo, double hi)
{
    return w < lo ? lo : (w > hi ? hi : w);
}

/*
 * stdp_triplet_on_pre: depress the n synapses w[] of pre neuron `pre` onto
 * post[] by o1 (A2_minus + A3_minus r2), with r2 of `pre` before this spike.
 * Writes only w[]; safe on different partitions concurrently.
 */
static void stdp_triplet_on_pre(const snn_rule *r, const snn_proj *pj, uint32_t pre,
                                const uint32_t *post, double *w, size_t n, size_t step)
{
    const stdp_triplet_consts *c = r->consts;
    const double *o1 = c->o1;
    const double a = c->a2_minus + c->a3_minus * c->r2[pre];
    for (size_t m = 0; m < n; m++)
        w[m] = clip(w[m] - a * o1[post[m]], c->w_min, c->w_max);
}

/*
 * stdp_triplet_on_post: potentiate the n incoming synapses w[pos[m]] of post
 * neuron `post` from pre[m] by r1 (A2_plus + A3_plus o2), with o2 of `post`
 * before this spike.  Writes only w[pos[]]; safe on different partitions
 * concurrently.
 */
static void stdp_triplet_on_post(const snn_rule *r, const snn_proj *pj, uint32_t post,
                                 const uint32_t *pre, const size_t *pos, double *w, size_t n,
                                 size_t step)
{
    const stdp_triplet_consts *c = r->consts;
    const double *r1 = c->r1;
    const double a = c->a2_plus + c->a3_plus * c->o2[post];
    for (size_t m = 0; m < n; m++)
        w[pos[m]] = clip(w[pos[m]] + a * r1[pre[m]], c->w_min, c->w_max);
}

const snn_rule_type stdp_triplet_type = {
    .name = "stdp_triplet",
    .doc = "Triplet STDP (Pfister & Gerstner 2006), all-to-all: a post spike adds "
           "r1 (A2_plus + A3_plus o2), a pre spike subtracts o1 (A2_minus + A3_minus r2); "
           "additive, clipped to [w_min, w_max].  Defaults: visual-cortex all-to-all full fit.",
    .params = stdp_triplet_params,
    .n_params = ST_N_PARAMS,
    .consts_size = sizeof(stdp_triplet_consts),
    .prepare = stdp_triplet_prepare,
    .on_pre = stdp_triplet_on_pre,
    .on_post = stdp_triplet_on_post,
    .exact_times = true,
};
