/*
 * models/lif_cond.c: leaky integrate-and-fire neuron with exponentially
 * decaying synaptic conductances and an optional adaptive threshold (the
 * excitatory neuron of Diehl & Cook 2015).
 *
 * Dynamics:
 *     C_m dV/dt = g_L (E_L - V) + g_ex (E_ex - V) + g_in (E_in - V) + I_e + i_ext,
 *     dg_x/dt = -g_x / tau_syn_x,    dtheta/dt = -theta / tau_theta.
 *
 * Method (second order in dt): the conductances are exact exponentials.  Over
 * one step h each conductance is replaced by its exact mean over the step,
 *     gbar_x = g_x (tau_x/h) (1 - e^{-h/tau_x})   (computed with expm1),
 * which turns the V equation into a linear ODE with constant coefficients,
 * solved exactly:
 *     G = g_L + gbar_ex + gbar_in,
 *     V_inf = (g_L E_L + gbar_ex E_ex + gbar_in E_in + I) / G,
 *     V(t+h) = V_inf + (V - V_inf) e^{-h G / C_m}.
 * This is the first term of the Magnus expansion (exact averaging of the
 * time-dependent coefficients), so the global error is O(h^2); without
 * synaptic input it is exact.
 *
 * One step k, [t_k, t_{k+1}], per neuron:
 *   1. arrivals due at t_k jump: g_x += w (nS);
 *   2. refractory: refr -= 1 and V stays V_reset (conductances still decay);
 *      otherwise V advances as above with the conductances after the jump;
 *   3. g_x *= exp(-h/tau_x);  4. theta *= exp(-h/tau_theta);
 *   5. V >= V_th + theta: spike at t_{k+1}, V = V_reset, refr = lround(t_ref/h),
 *      theta += theta_plus.
 *
 * Units ms, mV, pA, pF, nS (nS/pF = 1/ms, pA/nS = mV).  Weights are nS and
 * must be >= 0.  Invariant: refr[i] > 0 implies V[i] == V_reset.
 * Parameters: lif_cond_params[] below.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../sim/model.h"

enum {
    LC_C_M, LC_G_L, LC_E_L, LC_E_EX, LC_E_IN, LC_V_TH, LC_V_RESET, LC_T_REF,
    LC_TAU_SYN_EX, LC_TAU_SYN_IN, LC_I_E, LC_THETA_PLUS, LC_TAU_THETA, LC_N_PARAMS
};
enum { LC_V, LC_G_EX, LC_G_IN, LC_THETA, LC_N_STATE };
enum { LC_EXC, LC_INH, LC_N_CH };

static const snn_param_desc lif_cond_params[LC_N_PARAMS] = {
    [LC_C_M] = {"C_m", "pF", 250.0, 1e-3, 1e9, "membrane capacitance", NULL},
    [LC_G_L] = {"g_L", "nS", 16.7, 1e-6, 1e9, "leak conductance", NULL},
    [LC_E_L] = {"E_L", "mV", -70.0, -1e3, 1e3, "leak reversal potential", NULL},
    [LC_E_EX] = {"E_ex", "mV", 0.0, -1e3, 1e3, "excitatory reversal potential", NULL},
    [LC_E_IN] = {"E_in", "mV", -85.0, -1e3, 1e3, "inhibitory reversal potential", NULL},
    [LC_V_TH] = {"V_th", "mV", -55.0, -1e3, 1e3, "spike threshold (without theta)", NULL},
    [LC_V_RESET] = {"V_reset", "mV", -60.0, -1e3, 1e3, "potential after a spike", NULL},
    [LC_T_REF] = {"t_ref", "ms", 2.0, 0.0, 1e6, "absolute refractory period", NULL},
    [LC_TAU_SYN_EX] = {"tau_syn_ex", "ms", 0.2, 1e-3, 1e9,
                       "decay time of the excitatory conductance", NULL},
    [LC_TAU_SYN_IN] = {"tau_syn_in", "ms", 2.0, 1e-3, 1e9,
                       "decay time of the inhibitory conductance", NULL},
    [LC_I_E] = {"I_e", "pA", 0.0, -1e9, 1e9, "constant external current", NULL},
    [LC_THETA_PLUS] = {"theta_plus", "mV", 0.0, 0.0, 1e3,
                       "adaptive threshold increase per spike (0: off)", NULL},
    [LC_TAU_THETA] = {"tau_theta", "ms", 1e7, 1e-3, 1e12,
                      "decay time of the adaptive threshold", NULL},
};

static const char *const lc_state[LC_N_STATE] = {"V_m", "g_ex", "g_in", "theta"};
static const char *const lc_state_unit[LC_N_STATE] = {"mV", "nS", "nS", "mV"};
static const char *const lc_channels[LC_N_CH] = {"exc", "inh"};

/* Constants derived in lif_cond_prepare() for one step h. */
typedef struct lif_cond_consts {
    double decay_ex, decay_in;  /* g <- g over h */
    double mean_ex, mean_in;    /* mean of g over the step / g at its start */
    double h_over_c;            /* h / C_m (ms/pF) */
    double g_l, g_l_e_l;        /* g_L, g_L E_L */
    double e_ex, e_in, v_th, v_reset, i_e, theta_plus;
    double theta_decay;
    double leak_arg, leak_prop; /* -h g_L / C_m and -expm1 of it: no conductance */
    int32_t ref_steps;
} lif_cond_consts;

static const char *lif_cond_weight_unit(const double *par)
{
    return "nS";
}

/*
 * lif_cond_prepare: check V_reset < V_th and derive the decay and averaging
 * factors for step dt_ms into p->consts.  Does not allocate.
 */
static int lif_cond_prepare(snn_pop *p, double dt_ms, snn_err *err)
{
    const double *par = p->par;
    lif_cond_consts *k = p->consts;
    if (!(dt_ms > 0.0) || !isfinite(dt_ms))
        SNN_FAIL(err, SNN_EMODEL, "time step dt = %g ms must be positive", dt_ms);
    if (!(par[LC_V_RESET] < par[LC_V_TH]))
        SNN_FAIL(err, SNN_EMODEL, "V_reset = %g mV must be below V_th = %g mV",
                 par[LC_V_RESET], par[LC_V_TH]);
    if (!(par[LC_C_M] > 0.0 && par[LC_G_L] > 0.0 && par[LC_TAU_SYN_EX] > 0.0 &&
          par[LC_TAU_SYN_IN] > 0.0 && par[LC_TAU_THETA] > 0.0 && par[LC_T_REF] >= 0.0))
        SNN_FAIL(err, SNN_EMODEL,
                 "C_m = %g pF, g_L = %g nS, tau_syn_ex = %g ms, tau_syn_in = %g ms and "
                 "tau_theta = %g ms must be positive, t_ref = %g ms non-negative",
                 par[LC_C_M], par[LC_G_L], par[LC_TAU_SYN_EX], par[LC_TAU_SYN_IN],
                 par[LC_TAU_THETA], par[LC_T_REF]);
    if (par[LC_T_REF] / dt_ms > INT32_MAX)
        SNN_FAIL(err, SNN_EMODEL, "t_ref = %g ms is more than 2^31 steps of dt = %g ms",
                 par[LC_T_REF], dt_ms);
    double h = dt_ms, tau_ex = par[LC_TAU_SYN_EX], tau_in = par[LC_TAU_SYN_IN];
    k->decay_ex = exp(-h / tau_ex);
    k->decay_in = exp(-h / tau_in);
    k->mean_ex = -expm1(-h / tau_ex) * tau_ex / h;
    k->mean_in = -expm1(-h / tau_in) * tau_in / h;
    k->h_over_c = h / par[LC_C_M];
    k->g_l = par[LC_G_L];
    k->g_l_e_l = par[LC_G_L] * par[LC_E_L];
    k->e_ex = par[LC_E_EX];
    k->e_in = par[LC_E_IN];
    k->v_th = par[LC_V_TH];
    k->v_reset = par[LC_V_RESET];
    k->i_e = par[LC_I_E];
    k->theta_plus = par[LC_THETA_PLUS];
    k->theta_decay = exp(-h / par[LC_TAU_THETA]);
    k->ref_steps = (int32_t)lround(par[LC_T_REF] / h);
    /* The exponent step() computes when g_tot == g_L, the same expression. */
    k->leak_arg = -k->h_over_c * k->g_l;
    k->leak_prop = -expm1(k->leak_arg);
    return SNN_OK;
}

/* lif_cond_init: V_m = E_L, conductances 0, no adaptation, not refractory. */
static void lif_cond_init(snn_pop *p)
{
    for (size_t i = 0; i < p->n; i++) {
        p->x[LC_V][i] = p->par[LC_E_L];
        p->x[LC_G_EX][i] = 0.0;
        p->x[LC_G_IN][i] = 0.0;
        p->x[LC_THETA][i] = 0.0;
        p->refr[i] = 0;
    }
}

/* The first 8 flags at f as one word: non-zero if any is set. */
static inline uint64_t flags8(const unsigned char *f)
{
    uint64_t w;
    memcpy(&w, f, sizeof w);
    return w;
}

/*
 * lif_cond_step: advance the neurons of block `blk` over one step.
 *
 * Adds the conductance arrivals in->arr (nS) at t_k, integrates V with the
 * step-averaged conductances and the constant current I_e + in->i_ext (pA;
 * i_ext may be NULL), applies threshold, reset and refractoriness, and
 * appends the ids that spiked at t_{k+1} to `out` in ascending order.
 * Does not allocate.  Safe to run concurrently on different blocks.
 */
static void lif_cond_step(snn_pop *p, size_t blk, const snn_input *in, snn_spikes *out)
{
    const lif_cond_consts *k = p->consts;
    size_t i0 = blk * SNN_BLOCK, i1 = snn_blk_end(p, blk);
    double *restrict v = p->x[LC_V] + i0;
    double *restrict g_ex = p->x[LC_G_EX] + i0;
    double *restrict g_in = p->x[LC_G_IN] + i0;
    double *restrict theta = p->x[LC_THETA] + i0;
    int32_t *restrict refr = p->refr + i0;
    double *restrict a_ex = in->arr[LC_EXC], *restrict a_in = in->arr[LC_INH];
    const double *i_ext = in->i_ext;
    size_t n = i1 - i0;
    /* Passes over the block with the arithmetic of one pass per neuron (so
       the same bits): (1) conductances, the step's V_inf and exponent, and
       whether the neuron needs its exponential: not refractory, and an
       exponent other than the leak's alone (a conductance below half an ulp
       of g_L leaves g_tot == g_L bit for bit; the exponential of that is
       leak_prop, computed once in prepare); branch-free, vectorisable;
       (2) expm1 for the flagged neurons only, skipping 8 flags at a time;
       (3) V, refractoriness, threshold, branch-free and vectorisable;
       (4) the spike list from the flags of (3).  No allocation: the scratch
       lives on the stack.  Flags past n stay 0. */
    double v_inf[SNN_BLOCK], arg[SNN_BLOCK], ex[SNN_BLOCK];
    unsigned char need[SNN_BLOCK], fired[SNN_BLOCK];
    size_t n8 = (n + 7) & ~(size_t)7;
    for (size_t j = n; j < n8; j++)
        need[j] = fired[j] = 0;
    const double mean_ex = k->mean_ex, mean_in = k->mean_in, g_l = k->g_l;
    const double g_l_e_l = k->g_l_e_l, e_ex = k->e_ex, e_in = k->e_in, i_e = k->i_e;
    const double h_over_c = k->h_over_c, decay_ex = k->decay_ex, decay_in = k->decay_in;
    const double leak_arg = k->leak_arg, leak_prop = k->leak_prop;
    for (size_t j = 0; j < n; j++) {
        double ge = g_ex[j] + a_ex[j], gi = g_in[j] + a_in[j];
        a_ex[j] = 0.0; /* consumed: the ring slot is free again */
        a_in[j] = 0.0;
        double gbar_ex = ge * mean_ex, gbar_in = gi * mean_in;
        double g_tot = g_l + gbar_ex + gbar_in;
        double i_c = i_e + (i_ext ? i_ext[j] : 0.0);
        v_inf[j] = (g_l_e_l + gbar_ex * e_ex + gbar_in * e_in + i_c) / g_tot;
        double a = -h_over_c * g_tot;
        arg[j] = a;
        ex[j] = leak_prop;
        need[j] = (unsigned char)((refr[j] <= 0) & (a != leak_arg));
        g_ex[j] = ge * decay_ex;
        g_in[j] = gi * decay_in;
    }
    for (size_t j0 = 0; j0 < n8; j0 += 8)
        if (flags8(need + j0))
            for (size_t j = j0; j < j0 + 8; j++)
                if (need[j])
                    ex[j] = -expm1(arg[j]);
    const double v_reset = k->v_reset, v_th = k->v_th, theta_decay = k->theta_decay;
    const double theta_plus = k->theta_plus;
    const int32_t ref_steps = k->ref_steps;
    for (size_t j = 0; j < n; j++) {
        int32_t r = refr[j];
        double vj = v[j];
        vj = r > 0 ? v_reset : vj + (v_inf[j] - vj) * ex[j];
        r = r > 0 ? r - 1 : r;
        double th = theta[j] * theta_decay;
        int s = vj >= v_th + th;
        v[j] = s ? v_reset : vj;
        refr[j] = s ? ref_steps : r;
        theta[j] = s ? th + theta_plus : th;
        fired[j] = (unsigned char)s;
    }
    for (size_t j0 = 0; j0 < n8; j0 += 8)
        if (flags8(fired + j0))
            for (size_t j = j0; j < j0 + 8; j++)
                if (fired[j]) {
                    out->id[out->n] = (uint32_t)(i0 + j);
                    out->mult[out->n] = 1;
                    out->n++;
                }
}

const snn_model_type lif_cond_type = {
    .name = "lif_cond",
    .doc = "Leaky integrate-and-fire neuron with exponential synaptic conductances and an "
           "optional adaptive threshold (Diehl & Cook 2015); second-order scheme that "
           "averages each conductance exactly over the step.",
    .params = lif_cond_params,
    .n_params = LC_N_PARAMS,
    .state = lc_state,
    .state_unit = lc_state_unit,
    .n_state = LC_N_STATE,
    .channels = lc_channels,
    .n_channels = LC_N_CH,
    .weight_unit = lif_cond_weight_unit,
    .nonneg_weights = true,
    .is_source = false,
    .takes_spike_list = false,
    .random = false,
    .consts_size = sizeof(lif_cond_consts),
    .prepare = lif_cond_prepare,
    .init = lif_cond_init,
    .step = lif_cond_step,
    .release = NULL,
};
