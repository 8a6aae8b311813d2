/*
 * models/lif.c: leaky integrate-and-fire neuron with current-based synapses
 * (exponentially decaying currents, or delta pulses on V_m), optional
 * adaptive threshold.
 *
 * Method: exact integration.  Between arrivals the sub-threshold dynamics
 *     C_m dV/dt = -C_m (V - E_L)/tau_m + I_syn_ex + I_syn_in + I_e + i_ext,
 *     dI_syn_x/dt = -I_syn_x / tau_syn_x,
 *     dtheta/dt  = -theta / tau_theta
 * are linear, so (V, I_ex, I_in, theta) advance over one step h = dt by
 * constants computed once in lif_prepare():
 *     P22  = exp(-h/tau_m)                      V <- V
 *     P11x = exp(-h/tau_syn_x)                  I <- I
 *     P21x = (1/C) e^{-h/tau_m} (1 - e^{-h a})/a,  a = 1/tau_syn_x - 1/tau_m
 *                                               V <- I (exact for a decaying I)
 *     P20  = (tau_m/C) (1 - e^{-h/tau_m})       V <- constant current
 * P21 is evaluated as (1/C) e^{-h/tau_slow} (-expm1(-h|a|))/|a| with
 * tau_slow = max(tau_m, tau_syn), which equals the expression above, never
 * overflows, keeps full precision when tau_syn is close to tau_m, and has
 * the limit h/C when a == 0 (tau_syn == tau_m).  So dt only affects the
 * binning of spike times, not the sub-threshold trajectory.
 *
 * One step k, [t_k, t_{k+1}], per neuron:
 *   1. arrivals due at t_k jump: exp synapses I_x += w (pA); delta synapses
 *      V += w (mV), discarded while refractory (as NEST iaf_psc_delta);
 *   2. refractory: refr -= 1 and V stays V_reset (the currents still evolve);
 *      otherwise V advances with the currents as they are after the jump;
 *   3. I_x *= P11x;  4. theta *= exp(-h/tau_theta);
 *   5. V >= V_th + theta: spike at t_{k+1}, V = V_reset, refr = lround(t_ref/h),
 *      theta += theta_plus.  With delta synapses a jump that reaches the
 *      threshold in 1. is a spike too (reported at t_{k+1}, like every
 *      crossing inside a step), even if V would have decayed below it by then.
 * Under constant current the inter-spike interval is exactly
 * t_ref + ceil(T/dt) dt, T the continuous time from V_reset to threshold.
 *
 * Units ms, mV, pA, pF.  Weights: pA (exp) or mV (delta).
 * Invariant: refr[i] > 0 implies V[i] == V_reset.
 * Parameters: lif_params[] below (`snn help model lif` prints the same table).
 */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <stdint.h>

#include "../sim/model.h"

enum {
    LIF_C_M, LIF_TAU_M, LIF_E_L, LIF_V_TH, LIF_V_RESET, LIF_T_REF, LIF_TAU_SYN_EX,
    LIF_TAU_SYN_IN, LIF_I_E, LIF_SYNAPSE, LIF_THETA_PLUS, LIF_TAU_THETA, LIF_N_PARAMS
};
enum { LIF_V, LIF_I_EX, LIF_I_IN, LIF_THETA, LIF_N_STATE };
enum { LIF_EXC, LIF_INH, LIF_N_CH };
enum { LIF_SYN_EXP = 0, LIF_SYN_DELTA = 1 };

static const char *const synapse_choices[] = {"exp", "delta", NULL};

static const snn_param_desc lif_params[LIF_N_PARAMS] = {
    [LIF_C_M] = {"C_m", "pF", 250.0, 1e-3, 1e9, "membrane capacitance", NULL},
    [LIF_TAU_M] = {"tau_m", "ms", 10.0, 1e-3, 1e9, "membrane time constant", NULL},
    [LIF_E_L] = {"E_L", "mV", -70.0, -1e3, 1e3, "resting potential", NULL},
    [LIF_V_TH] = {"V_th", "mV", -55.0, -1e3, 1e3, "spike threshold (without theta)", NULL},
    [LIF_V_RESET] = {"V_reset", "mV", -70.0, -1e3, 1e3, "potential after a spike", NULL},
    [LIF_T_REF] = {"t_ref", "ms", 2.0, 0.0, 1e6, "absolute refractory period", NULL},
    [LIF_TAU_SYN_EX] = {"tau_syn_ex", "ms", 2.0, 1e-3, 1e9,
                        "decay time of excitatory currents (synapse = exp)", NULL},
    [LIF_TAU_SYN_IN] = {"tau_syn_in", "ms", 2.0, 1e-3, 1e9,
                        "decay time of inhibitory currents (synapse = exp)", NULL},
    [LIF_I_E] = {"I_e", "pA", 0.0, -1e9, 1e9, "constant external current", NULL},
    [LIF_SYNAPSE] = {"synapse", "1", LIF_SYN_EXP, 0, 1,
                     "\"exp\": current jumps of w pA decaying with tau_syn; "
                     "\"delta\": V_m jumps of w mV",
                     synapse_choices},
    [LIF_THETA_PLUS] = {"theta_plus", "mV", 0.0, 0.0, 1e3,
                        "adaptive threshold increase per spike (0: off)", NULL},
    [LIF_TAU_THETA] = {"tau_theta", "ms", 1e7, 1e-3, 1e12,
                       "decay time of the adaptive threshold", NULL},
};

static const char *const lif_state[LIF_N_STATE] = {"V_m", "I_syn_ex", "I_syn_in", "theta"};
static const char *const lif_state_unit[LIF_N_STATE] = {"mV", "pA", "pA", "mV"};
static const char *const lif_channels[LIF_N_CH] = {"exc", "inh"};

/* Constants derived in lif_prepare() for one step h. */
typedef struct lif_consts {
    double p22;          /* V <- V */
    double p11_ex, p11_in;   /* I <- I */
    double p21_ex, p21_in;   /* V <- I (mV/pA) */
    double p20;          /* V <- constant current (mV/pA) */
    double theta_decay;  /* theta <- theta */
    double e_l, v_th, v_reset, i_e, theta_plus;
    int32_t ref_steps;
    int delta;           /* synapse == "delta" */
} lif_consts;

static const char *lif_weight_unit(const double *par)
{
    return lround(par[LIF_SYNAPSE]) == LIF_SYN_DELTA ? "mV" : "pA";
}

/*
 * propagator_21: exact V <- I propagator over h for a current decaying with
 * tau_s into a membrane with time constant tau_m and capacitance c.
 * Returns (1/c) (e^{-h/tau_s} - e^{-h/tau_m}) / (1/tau_m - 1/tau_s), written
 * in a form without cancellation or overflow; h/c when tau_s == tau_m.
 */
static double propagator_21(double h, double tau_m, double tau_s, double c)
{
    double a = fabs(1.0 / tau_s - 1.0 / tau_m);
    double tau_slow = tau_s > tau_m ? tau_s : tau_m;
    double f = a == 0.0 ? h : -expm1(-h * a) / a;
    return exp(-h / tau_slow) * f / c;
}

/*
 * lif_prepare: check V_reset < V_th and derive the propagators for step
 * dt_ms into p->consts.  Does not allocate.
 */
static int lif_prepare(snn_pop *p, double dt_ms, snn_err *err)
{
    const double *par = p->par;
    lif_consts *k = p->consts;
    if (!(dt_ms > 0.0) || !isfinite(dt_ms))
        SNN_FAIL(err, SNN_EMODEL, "time step dt = %g ms must be positive", dt_ms);
    if (!(par[LIF_V_RESET] < par[LIF_V_TH]))
        SNN_FAIL(err, SNN_EMODEL, "V_reset = %g mV must be below V_th = %g mV",
                 par[LIF_V_RESET], par[LIF_V_TH]);
    if (!(par[LIF_C_M] > 0.0 && par[LIF_TAU_M] > 0.0 && par[LIF_TAU_SYN_EX] > 0.0 &&
          par[LIF_TAU_SYN_IN] > 0.0 && par[LIF_TAU_THETA] > 0.0 && par[LIF_T_REF] >= 0.0))
        SNN_FAIL(err, SNN_EMODEL,
                 "C_m = %g pF, tau_m = %g ms, tau_syn_ex = %g ms, tau_syn_in = %g ms and "
                 "tau_theta = %g ms must be positive, t_ref = %g ms non-negative",
                 par[LIF_C_M], par[LIF_TAU_M], par[LIF_TAU_SYN_EX], par[LIF_TAU_SYN_IN],
                 par[LIF_TAU_THETA], par[LIF_T_REF]);
    if (par[LIF_T_REF] / dt_ms > INT32_MAX)
        SNN_FAIL(err, SNN_EMODEL, "t_ref = %g ms is more than 2^31 steps of dt = %g ms",
                 par[LIF_T_REF], dt_ms);
    double h = dt_ms, c = par[LIF_C_M], tau_m = par[LIF_TAU_M];
    k->p22 = exp(-h / tau_m);
    k->p11_ex = exp(-h / par[LIF_TAU_SYN_EX]);
    k->p11_in = exp(-h / par[LIF_TAU_SYN_IN]);
    k->p21_ex = propagator_21(h, tau_m, par[LIF_TAU_SYN_EX], c);
    k->p21_in = propagator_21(h, tau_m, par[LIF_TAU_SYN_IN], c);
    k->p20 = -tau_m / c * expm1(-h / tau_m);
    k->theta_decay = exp(-h / par[LIF_TAU_THETA]);
    k->e_l = par[LIF_E_L];
    k->v_th = par[LIF_V_TH];
    k->v_reset = par[LIF_V_RESET];
    k->i_e = par[LIF_I_E];
    k->theta_plus = par[LIF_THETA_PLUS];
    k->ref_steps = (int32_t)lround(par[LIF_T_REF] / h);
    k->delta = lround(par[LIF_SYNAPSE]) == LIF_SYN_DELTA;
    return SNN_OK;
}

/* lif_init: V_m = E_L, no synaptic current, no threshold adaptation, not refractory. */
static void lif_init(snn_pop *p)
{
    for (size_t i = 0; i < p->n; i++) {
        p->x[LIF_V][i] = p->par[LIF_E_L];
        p->x[LIF_I_EX][i] = 0.0;
        p->x[LIF_I_IN][i] = 0.0;
        p->x[LIF_THETA][i] = 0.0;
        p->refr[i] = 0;
    }
}

/*
 * propagate_exp / propagate_delta: pass 1 of lif_step over n neurons of a
 * block (pointers offset to the block).  Arrivals jump at t_k, then V and the
 * currents advance exactly over dt; V is clamped to V_reset where clamp != 0.
 * fire[j] = 1 marks a neuron that fires (reached V_th + theta at t_{k+1},
 * or, for delta synapses, by the jump itself); returns how many fire.
 * Separate functions with restrict arguments so the loops vectorise.
 */
static inline __attribute__((always_inline)) double
propagate_exp_t(const lif_consts *k, size_t n, int32_t *restrict refr,
                double *restrict a_ex, double *restrict a_in,
                const double *restrict i_ext, double *restrict v, double *restrict i_ex,
                double *restrict i_in, double *restrict theta, double *restrict fire,
                const bool ext)
{
    const double e_l = k->e_l, p22 = k->p22, p21_ex = k->p21_ex, p21_in = k->p21_in;
    const double p20 = k->p20, i_e = k->i_e, p11_ex = k->p11_ex, p11_in = k->p11_in;
    const double v_reset = k->v_reset, v_th = k->v_th, decay = k->theta_decay;
    double n_fire = 0.0; /* a count of 0/1 flags: exact in any summation order */
#pragma omp simd reduction(+ : n_fire)
    for (size_t j = 0; j < n; j++) {
        int32_t r = refr[j];
        refr[j] = r > 0 ? r - 1 : 0;
        double ie = i_ex[j] + a_ex[j], ii = i_in[j] + a_in[j];
        a_ex[j] = 0.0;
        a_in[j] = 0.0;
        double vf = e_l + p22 * (v[j] - e_l) + p21_ex * ie + p21_in * ii +
                    p20 * (ext ? i_e + i_ext[j] : i_e);
        double vj = r > 0 ? v_reset : vf, th = theta[j] * decay;
        v[j] = vj;
        i_ex[j] = ie * p11_ex;
        i_in[j] = ii * p11_in;
        theta[j] = th;
        fire[j] = vj >= v_th + th ? 1.0 : 0.0;
        n_fire += fire[j];
    }
    return n_fire;
}

/* Specialisations with and without an external current. */
#define LIF_EXP_VARIANT(name, ext)                                                      \
    static double name(const lif_consts *k, size_t n, int32_t *restrict refr,                  \
                       double *restrict a_ex, double *restrict a_in,                           \
                       const double *restrict i_ext, double *restrict v, double *restrict i_ex, \
                       double *restrict i_in, double *restrict theta, double *restrict fire)   \
    {                                                                                          \
        return propagate_exp_t(k, n, refr, a_ex, a_in, i_ext, v, i_ex, i_in, theta, fire,      \
                               ext);                                                    \
    }
LIF_EXP_VARIANT(propagate_exp_0, false)
LIF_EXP_VARIANT(propagate_exp_1, true)

static double propagate_delta(const lif_consts *k, size_t n, const double *restrict clamp,
                              double *restrict a_ex, double *restrict a_in,
                              const double *restrict i_ext, double *restrict v,
                              double *restrict i_ex, double *restrict i_in,
                              double *restrict theta, double *restrict fire)
{
    const double e_l = k->e_l, p22 = k->p22, p21_ex = k->p21_ex, p21_in = k->p21_in;
    const double p20 = k->p20, i_e = k->i_e, p11_ex = k->p11_ex, p11_in = k->p11_in;
    const double v_reset = k->v_reset, v_th = k->v_th, decay = k->theta_decay;
    double n_fire = 0.0;
#pragma omp simd reduction(+ : n_fire)
    for (size_t j = 0; j < n; j++) {
        /* Input during refractoriness is discarded (as NEST iaf_psc_delta).
           A jump that reaches threshold is a spike even if V decays below
           it by the end of the step. */
        double vj = v[j] + (clamp[j] != 0.0 ? 0.0 : a_ex[j] + a_in[j]);
        a_ex[j] = 0.0;
        a_in[j] = 0.0;
        double jump = clamp[j] == 0.0 && vj >= v_th + theta[j] ? 1.0 : 0.0;
        double vf = e_l + p22 * (vj - e_l) + p21_ex * i_ex[j] + p21_in * i_in[j] +
                    p20 * (i_e + i_ext[j]);
        vj = clamp[j] != 0.0 ? v_reset : vf;
        double th = theta[j] * decay;
        v[j] = vj;
        i_ex[j] *= p11_ex;
        i_in[j] *= p11_in;
        theta[j] = th;
        fire[j] = jump != 0.0 || vj >= v_th + th ? 1.0 : 0.0;
        n_fire += fire[j];
    }
    return n_fire;
}

/*
 * lif_step: advance the neurons of block `blk` over one step [t_k, t_{k+1}].
 *
 * Applies the arrivals in->arr (pA for exp synapses, mV for delta) at t_k,
 * integrates exactly with the constant current I_e + in->i_ext (pA; i_ext may
 * be NULL), applies threshold, reset and refractoriness, and appends the ids
 * that spiked at t_{k+1} to `out` in ascending order.  Does not allocate.
 * Safe to run concurrently on different blocks.
 */
static void lif_step(snn_pop *p, size_t blk, const snn_input *in, snn_spikes *out)
{
    static const double no_current[SNN_BLOCK];
    const lif_consts *k = p->consts;
    size_t i0 = blk * SNN_BLOCK, i1 = snn_blk_end(p, blk);
    double *restrict v = p->x[LIF_V] + i0;
    double *restrict i_ex = p->x[LIF_I_EX] + i0;
    double *restrict i_in = p->x[LIF_I_IN] + i0;
    double *restrict theta = p->x[LIF_THETA] + i0;
    int32_t *restrict refr = p->refr + i0;
    double *restrict a_ex = in->arr[LIF_EXC], *restrict a_in = in->arr[LIF_INH];
    const double *restrict i_ext = in->i_ext ? in->i_ext : no_current;
    const size_t n = i1 - i0;

    /* Pass 1 (vectorisable): refractory countdown, arrivals, exact
       propagation, clamp to V_reset while refractory, threshold test. */
    double fire[SNN_BLOCK];
    double n_fire;
    if (k->delta) {
        double clamp[SNN_BLOCK]; /* 1.0 while refractory */
        for (size_t j = 0; j < n; j++) {
            int32_t r = refr[j];
            clamp[j] = r > 0 ? 1.0 : 0.0;
            refr[j] = r > 0 ? r - 1 : 0;
        }
        n_fire = propagate_delta(k, n, clamp, a_ex, a_in, i_ext, v, i_ex, i_in, theta, fire);
    } else if (in->i_ext) {
        n_fire = propagate_exp_1(k, n, refr, a_ex, a_in, i_ext, v, i_ex, i_in, theta, fire);
    } else {
        n_fire = propagate_exp_0(k, n, refr, a_ex, a_in, i_ext, v, i_ex, i_in, theta, fire);
    }
    if (n_fire == 0.0)
        return;
    /* Pass 2: reset, refractoriness, adaptation; ids ascending. */
    for (size_t j = 0; j < n; j++) {
        if (fire[j] != 0.0) {
            v[j] = k->v_reset;
            refr[j] = k->ref_steps;
            theta[j] += k->theta_plus;
            out->id[out->n] = (uint32_t)(i0 + j);
            out->mult[out->n] = 1;
            out->n++;
        }
    }
}

const snn_model_type lif_type = {
    .name = "lif",
    .doc = "Leaky integrate-and-fire neuron with exponential (or delta) current synapses "
           "and an optional adaptive threshold, integrated exactly (NEST iaf_psc_exp / "
           "iaf_psc_delta).",
    .params = lif_params,
    .n_params = LIF_N_PARAMS,
    .state = lif_state,
    .state_unit = lif_state_unit,
    .n_state = LIF_N_STATE,
    .channels = lif_channels,
    .n_channels = LIF_N_CH,
    .weight_unit = lif_weight_unit,
    .nonneg_weights = false,
    .is_source = false,
    .takes_spike_list = false,
    .random = false,
    .consts_size = sizeof(lif_consts),
    .prepare = lif_prepare,
    .init = lif_init,
    .step = lif_step,
    .release = NULL,
};
