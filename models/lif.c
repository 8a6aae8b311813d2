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
 * Event-driven integration (simulation.integrator = "event"): the hooks at
 * the end of this file advance one neuron over any interval, find its next
 * threshold crossing exactly (closed form, or a bracketing search with GSL's
 * Brent solver) and keep refractoriness in continuous time.
 *
 * Units ms, mV, pA, pF.  Weights: pA (exp) or mV (delta).
 * Invariant: refr[i] > 0 implies V[i] == V_reset.
 * Parameters: lif_params[] below (`snn help model lif` prints the same table).
 */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>

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

/* Look-ahead of the crossing search, in units of the shortest time
   constant: beyond it the search only proves that no crossing follows, or
   asks the engine to call again (inputs usually change the trajectory
   first).  Changes cost, not results. */
#define LIF_EV_WINDOW 0.5

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
    /* Event-driven integration (any interval h): time constants, and the
       time at which the V <- I propagator P21(h) peaks, per channel. */
    double c_m, tau_m, tau_ex, tau_in, tau_theta, t_ref;
    double peak_ex, peak_in, pmax_ex, pmax_in;
    double window;       /* look-ahead of the crossing search (ms) */
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
 * propagator_21_peak: the h > 0 at which propagator_21(h) is largest (it
 * rises from 0, peaks once and decays): tau_m tau_s ln(tau_s/tau_m) /
 * (tau_s - tau_m), and tau_m when tau_s == tau_m.
 */
static double propagator_21_peak(double tau_m, double tau_s)
{
    double d = (tau_s - tau_m) / tau_m;
    return tau_s * (d == 0.0 ? 1.0 : log1p(d) / d);
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
    k->c_m = c;
    k->tau_m = tau_m;
    k->tau_ex = par[LIF_TAU_SYN_EX];
    k->tau_in = par[LIF_TAU_SYN_IN];
    k->tau_theta = par[LIF_TAU_THETA];
    k->t_ref = par[LIF_T_REF];
    k->peak_ex = propagator_21_peak(tau_m, k->tau_ex);
    k->peak_in = propagator_21_peak(tau_m, k->tau_in);
    k->pmax_ex = propagator_21(k->peak_ex, tau_m, k->tau_ex, c);
    k->pmax_in = propagator_21(k->peak_in, tau_m, k->tau_in, c);
    k->window = LIF_EV_WINDOW * fmin(tau_m, fmin(k->tau_ex, k->tau_in));
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
 * Returns how many neurons fire (reach V_th + theta at t_{k+1}, or, for delta
 * synapses, by the jump itself).  The exp variants store nothing but the
 * state: a neuron fired iff its stored V_m >= V_th + theta (lif_step's pass
 * 2 tests exactly that again); propagate_delta marks fire[j] = 1.
 * Separate functions with restrict arguments so the loops vectorise.
 */
static inline __attribute__((always_inline)) size_t
propagate_exp_t(const lif_consts *k, size_t n, int32_t *restrict refr,
                double *restrict a_ex, double *restrict a_in,
                const double *restrict i_ext, double *restrict v, double *restrict i_ex,
                double *restrict i_in, double *restrict theta, const bool ext,
                const bool adapt)
{
    const double e_l = k->e_l, p22 = k->p22, p21_ex = k->p21_ex, p21_in = k->p21_in;
    const double p20 = k->p20, i_e = k->i_e, p11_ex = k->p11_ex, p11_in = k->p11_in;
    const double v_reset = k->v_reset, v_th = k->v_th, decay = k->theta_decay;
    size_t n_fire = 0; /* an integer count vectorises without reordering any sum */
    for (size_t j = 0; j < n; j++) {
        int32_t r = refr[j];
        refr[j] = r > 0 ? r - 1 : 0;
        double ie = i_ex[j] + a_ex[j], ii = i_in[j] + a_in[j];
        a_ex[j] = 0.0;
        a_in[j] = 0.0;
        double vf = e_l + p22 * (v[j] - e_l) + p21_ex * ie + p21_in * ii +
                    p20 * (ext ? i_e + i_ext[j] : i_e);
        double vj = r > 0 ? v_reset : vf;
        v[j] = vj;
        i_ex[j] = ie * p11_ex;
        i_in[j] = ii * p11_in;
        double th = 0.0; /* without adaptation theta is +-0 and stays so */
        if (adapt) {
            th = theta[j] * decay;
            theta[j] = th;
        }
        n_fire += vj >= v_th + th;
    }
    return n_fire;
}

/* Specialisations with and without an external current, with and without
   a threshold that moves. */
#define LIF_EXP_VARIANT(name, ext, adapt)                                                      \
    static size_t name(const lif_consts *k, size_t n, int32_t *restrict refr,                  \
                       double *restrict a_ex, double *restrict a_in,                           \
                       const double *restrict i_ext, double *restrict v, double *restrict i_ex, \
                       double *restrict i_in, double *restrict theta)                          \
    {                                                                                          \
        return propagate_exp_t(k, n, refr, a_ex, a_in, i_ext, v, i_ex, i_in, theta, ext,       \
                               adapt);                                                         \
    }
LIF_EXP_VARIANT(propagate_exp_00, false, false)
LIF_EXP_VARIANT(propagate_exp_10, true, false)
LIF_EXP_VARIANT(propagate_exp_01, false, true)
LIF_EXP_VARIANT(propagate_exp_11, true, true)

/*
 * theta_moves: whether theta of the n neurons at `theta` can change in this
 * step.  It cannot when theta_plus == 0 and every theta is +-0 (then
 * theta * decay is the same +-0 and V_th + theta == V_th), which lets the
 * exp update skip reading and writing it; any other value (NaN too) moves.
 */
static bool theta_moves(const lif_consts *k, const double *restrict theta, size_t n)
{
    if (k->theta_plus != 0.0)
        return true;
    uint64_t bits = 0; /* the bits of every theta but its sign: 0 iff all are +-0 */
#pragma omp simd reduction(| : bits)
    for (size_t j = 0; j < n; j++) {
        uint64_t u;
        memcpy(&u, &theta[j], sizeof u);
        bits |= u << 1;
    }
    return bits != 0;
}

/* lif_plan flag: no theta of the population can move in this segment (see
   theta_moves), so lif_step need not look.  Without it (plan 0: nothing
   known) lif_step checks each block. */
#define LIF_PLAN_THETA_REST 1u

/* theta_moves over the whole population, once per run segment instead of
   once per block and step. */
static unsigned lif_plan(const snn_pop *p)
{
    return theta_moves(p->consts, p->x[LIF_THETA], p->n) ? 0u : LIF_PLAN_THETA_REST;
}

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

/* Neurons scanned at once by lif_step's pass 2. */
#define LIF_SCAN 32

/* Spike of neuron i0 + j at t_{k+1}: reset, refractoriness, adaptation. */
static inline void fire_one(const lif_consts *k, size_t i0, size_t j, double *v, int32_t *refr,
                            double *theta, snn_spikes *out)
{
    v[j] = k->v_reset;
    refr[j] = k->ref_steps;
    theta[j] += k->theta_plus;
    out->id[out->n] = (uint32_t)(i0 + j);
    out->mult[out->n] = 1;
    out->n++;
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
    if (k->delta) {
        double fire[SNN_BLOCK], clamp[SNN_BLOCK]; /* clamp: 1.0 while refractory */
        for (size_t j = 0; j < n; j++) {
            int32_t r = refr[j];
            clamp[j] = r > 0 ? 1.0 : 0.0;
            refr[j] = r > 0 ? r - 1 : 0;
        }
        if (propagate_delta(k, n, clamp, a_ex, a_in, i_ext, v, i_ex, i_in, theta, fire) == 0.0)
            return;
        for (size_t j = 0; j < n; j++)
            if (fire[j] != 0.0)
                fire_one(k, i0, j, v, refr, theta, out);
        return;
    }
    bool adapt = !(p->plan & LIF_PLAN_THETA_REST) && theta_moves(k, theta, n);
    size_t left;
    if (in->i_ext)
        left = adapt ? propagate_exp_11(k, n, refr, a_ex, a_in, i_ext, v, i_ex, i_in, theta)
                     : propagate_exp_10(k, n, refr, a_ex, a_in, i_ext, v, i_ex, i_in, theta);
    else
        left = adapt ? propagate_exp_01(k, n, refr, a_ex, a_in, i_ext, v, i_ex, i_in, theta)
                     : propagate_exp_00(k, n, refr, a_ex, a_in, i_ext, v, i_ex, i_in, theta);
    /* Pass 2: the `left` neurons with V_m >= V_th + theta (pass 1's test on
       the values it stored), found a chunk at a time (a vectorised test
       skips chunks without any) and ascending; stop after the last. */
    const double v_th = k->v_th;
    for (size_t c = 0; left > 0 && c < n; c += LIF_SCAN) {
        size_t e = c + LIF_SCAN < n ? c + LIF_SCAN : n;
        int any = 0;
#pragma omp simd reduction(| : any)
        for (size_t j = c; j < e; j++)
            any |= v[j] >= v_th + theta[j];
        if (!any)
            continue;
        for (size_t j = c; j < e; j++)
            if (v[j] >= v_th + theta[j]) {
                fire_one(k, i0, j, v, refr, theta, out);
                left--;
            }
    }
}

/* ---- event-driven integration (sim/sched_event.c) ---------------------------
 *
 * The engine keeps each neuron's own time; between inputs the state evolves
 * exactly over any interval h with the propagators above evaluated for h.
 * Refractoriness is continuous: ref_left[i] ms remain, during which V stays
 * V_reset (delta inputs are discarded) while currents and theta decay.
 *
 * Threshold crossing, measured from the end of refractoriness (s >= 0):
 *   f(s) = V(s) - V_th - theta(s)
 *        = a0 + am e^{-s/tau_m} + I_ex P21_ex(s) + I_in P21_in(s) - th e^{-s/tau_theta},
 *   a0 = E_L + R I_c - V_th,  am = V - E_L - R I_c,  R = tau_m / C_m,
 * I_c = I_e + i_ext constant between inputs.  Without synaptic currents and
 * adaptation the crossing is closed form, s = tau_m ln((V_inf - V)/(V_inf - V_th)).
 * Otherwise a branch-and-bound search finds the FIRST s with f(s) >= 0:
 * every term of f is monotone or (I P21) unimodal with a known peak, so
 * exact bounds of f and f' over an interval follow from its end points (and
 * the peak when inside).  Intervals where f < 0 surely are dropped, the
 * earliest interval where f is monotone and changes sign goes to GSL's
 * Brent solver, anything else is halved (left half first).  A grazing
 * maximum is resolved down to LIF_EV_TOL, so no crossing is missed.
 */

/* Absolute resolution of crossing times (ms). */
#define LIF_EV_TOL 1e-12
/* Branch-and-bound stack: depth <= log2(horizon / LIF_EV_TOL) + 1. */
#define LIF_EV_STACK 160

typedef struct lif_ev {
    double *ref_left;            /* n: refractory time left (ms) */
    gsl_root_fsolver *solver;    /* Brent, reused */
} lif_ev;

/* f(s) of one neuron from a non-refractory state. */
typedef struct lif_fn {
    const lif_consts *k;
    double a0, am, ie, ii, th;
} lif_fn;

static void lif_release(snn_pop *p)
{
    lif_ev *e = p->priv;
    if (!e)
        return;
    free(e->ref_left);
    if (e->solver)
        gsl_root_fsolver_free(e->solver);
    free(e);
    p->priv = NULL;
}

/* lif_ev_prepare: allocate the refractory clock and the root solver. */
static int lif_ev_prepare(snn_pop *p, snn_err *err)
{
    lif_release(p);
    lif_ev *e = calloc(1, sizeof *e);
    if (!e)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for event state");
    p->priv = e;
    e->ref_left = calloc(p->n ? p->n : 1, sizeof *e->ref_left);
    e->solver = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!e->ref_left || !e->solver) {
        lif_release(p);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for event state");
    }
    return SNN_OK;
}

static double lif_drive(const snn_pop *p, const lif_consts *k, size_t i)
{
    return k->i_e + (p->i_ext ? p->i_ext[i] : 0.0);
}

/* P21_x(s) from e^{-s/tau_x} and e^{-s/tau_m} when that does not cancel
   (|1/tau_m - 1/tau_x| s > 1/8), else the cancellation-free form. */
static inline double p21_at(const lif_consts *k, double s, double ex, double em, double tau_s)
{
    double d = 1.0 / k->tau_m - 1.0 / tau_s;
    if (fabs(d) * s > 0.125)
        return (ex - em) / (k->c_m * d);
    return propagator_21(s, k->tau_m, tau_s, k->c_m);
}

/* lif_advance: evolve neuron i exactly over h_ms without input. */
static void lif_advance(snn_pop *p, size_t i, double h_ms)
{
    const lif_consts *k = p->consts;
    lif_ev *e = p->priv;
    double *v = &p->x[LIF_V][i], *ie = &p->x[LIF_I_EX][i], *ii = &p->x[LIF_I_IN][i];
    double *th = &p->x[LIF_THETA][i];
    double h = h_ms;
    if (!(h > 0.0))
        return;
    double r = e->ref_left[i];
    if (r > 0.0) {
        double s = h < r ? h : r;
        *ie *= exp(-s / k->tau_ex);
        *ii *= exp(-s / k->tau_in);
        *th *= exp(-s / k->tau_theta);
        *v = k->v_reset;
        e->ref_left[i] = h < r ? r - h : 0.0;
        h -= s;
        if (!(h > 0.0))
            return;
    }
    double ic = lif_drive(p, k, i);
    double em = exp(-h / k->tau_m), ex = exp(-h / k->tau_ex), ei = exp(-h / k->tau_in);
    double vn = k->e_l + em * (*v - k->e_l) - k->tau_m / k->c_m * expm1(-h / k->tau_m) * ic;
    if (*ie != 0.0)
        vn += p21_at(k, h, ex, em, k->tau_ex) * *ie;
    if (*ii != 0.0)
        vn += p21_at(k, h, ei, em, k->tau_in) * *ii;
    *v = vn;
    *ie *= ex;
    *ii *= ei;
    if (*th != 0.0)
        *th *= exp(-h / k->tau_theta);
}

/* lif_receive: an input of w (pA, or mV for delta synapses) on channel ch.
   A negative w lowers V(t) for all later t (P21 > 0), so it can only delay
   a crossing: returns w > 0. */
static bool lif_receive(snn_pop *p, size_t i, size_t ch, double w)
{
    const lif_consts *k = p->consts;
    const lif_ev *e = p->priv;
    if (k->delta) {
        if (!(e->ref_left[i] > 0.0)) /* discarded while refractory */
            p->x[LIF_V][i] += w;
    } else {
        p->x[ch == LIF_INH ? LIF_I_IN : LIF_I_EX][i] += w;
    }
    return w > 0.0;
}

/* lif_fire: reset, start refractoriness, raise the adaptive threshold. */
static void lif_fire(snn_pop *p, size_t i)
{
    const lif_consts *k = p->consts;
    lif_ev *e = p->priv;
    p->x[LIF_V][i] = k->v_reset;
    p->x[LIF_THETA][i] += k->theta_plus;
    e->ref_left[i] = k->t_ref;
}

/* The exponentials of f at one point s, and f(s). */
typedef struct fn_pt {
    double s, em, eth, pex, pin, f;
} fn_pt;

static inline fn_pt fn_eval(const lif_fn *F, double s)
{
    const lif_consts *k = F->k;
    fn_pt q = {s, exp(-s / k->tau_m), 0.0, 0.0, 0.0, 0.0};
    if (F->th != 0.0)
        q.eth = exp(-s / k->tau_theta);
    if (F->ie != 0.0)
        q.pex = p21_at(k, s, exp(-s / k->tau_ex), q.em, k->tau_ex);
    if (F->ii != 0.0)
        q.pin = p21_at(k, s, exp(-s / k->tau_in), q.em, k->tau_in);
    q.f = F->a0 + F->am * q.em + F->ie * q.pex + F->ii * q.pin - F->th * q.eth;
    return q;
}

static double fn_f(double s, void *ud)
{
    return fn_eval(ud, s).f;
}

/* Range [*lo, *hi] over [a, b] of c * P21 (unimodal: peak value pmax at pk),
   given its end-point values pa, pb. */
static inline void p21_range(double c, double a, double b, double pa, double pb, double pk,
                             double pmax, double *lo, double *hi)
{
    double mn = pa < pb ? pa : pb;
    double mx = pk > a && pk < b ? pmax : (pa < pb ? pb : pa);
    *lo = c >= 0.0 ? c * mn : c * mx;
    *hi = c >= 0.0 ? c * mx : c * mn;
}

/* Range of a monotone term with end-point values va, vb. */
static inline void mono_range(double va, double vb, double *lo, double *hi)
{
    *lo = va < vb ? va : vb;
    *hi = va < vb ? vb : va;
}

/*
 * Upper bound of f and bounds of f' over [A.s, B.s], from the end points only:
 *   f' = -am/tau_m e^{-s/tau_m} + th/tau_theta e^{-s/tau_theta}
 *        + sum_x I_x (e^{-s/tau_x} / C - P21_x(s) / tau_m),
 * each term monotone or (P21) unimodal; e^{-s/tau_x} at the end points is
 * recovered as e^{-s/tau_m} + C d P21_x(s), d = 1/tau_m - 1/tau_x.
 */
static void fn_bounds(const lif_fn *F, const fn_pt *A, const fn_pt *B, double *fmax,
                      double *dmin, double *dmax)
{
    const lif_consts *k = F->k;
    double a = A->s, b = B->s, lo, hi;
    double fhi = F->a0, dlo = 0.0, dhi = 0.0;
    mono_range(F->am * A->em, F->am * B->em, &lo, &hi);
    fhi += hi;
    mono_range(-F->am / k->tau_m * A->em, -F->am / k->tau_m * B->em, &lo, &hi);
    dlo += lo, dhi += hi;
    if (F->th != 0.0) {
        mono_range(-F->th * A->eth, -F->th * B->eth, &lo, &hi);
        fhi += hi;
        mono_range(F->th / k->tau_theta * A->eth, F->th / k->tau_theta * B->eth, &lo, &hi);
        dlo += lo, dhi += hi;
    }
    const double cs[2] = {F->ie, F->ii}, pas[2] = {A->pex, A->pin}, pbs[2] = {B->pex, B->pin};
    const double taus[2] = {k->tau_ex, k->tau_in}, pks[2] = {k->peak_ex, k->peak_in};
    const double pms[2] = {k->pmax_ex, k->pmax_in};
    for (int x = 0; x < 2; x++) {
        double c = cs[x];
        if (c == 0.0)
            continue;
        p21_range(c, a, b, pas[x], pbs[x], pks[x], pms[x], &lo, &hi);
        fhi += hi;
        p21_range(-c / k->tau_m, a, b, pas[x], pbs[x], pks[x], pms[x], &lo, &hi);
        dlo += lo, dhi += hi;
        /* (c / C) e^{-s/tau_x}: monotone; recover it from the points. */
        double d = 1.0 / k->tau_m - 1.0 / taus[x];
        double ea = A->em + k->c_m * d * pas[x], eb = B->em + k->c_m * d * pbs[x];
        mono_range(c / k->c_m * ea, c / k->c_m * eb, &lo, &hi);
        dlo += lo, dhi += hi;
    }
    *fmax = fhi;
    *dmin = dlo;
    *dmax = dhi;
}

/* Root of F in [a, b] where f(a) < 0 <= f(b) and f is monotone (GSL Brent). */
static double fn_root(lif_fn *F, gsl_root_fsolver *sv, double a, double b, double fb)
{
    if (fb == 0.0)
        return b;
    gsl_function gf = {fn_f, F};
    if (gsl_root_fsolver_set(sv, &gf, a, b) != GSL_SUCCESS)
        return b;
    double x = b;
    for (int it = 0; it < 200; it++) {
        if (gsl_root_fsolver_iterate(sv) != GSL_SUCCESS)
            break;
        x = gsl_root_fsolver_root(sv);
        if (gsl_root_test_interval(gsl_root_fsolver_x_lower(sv), gsl_root_fsolver_x_upper(sv),
                                   LIF_EV_TOL * 0.1, 0.0) == GSL_SUCCESS)
            break;
    }
    return x;
}

/* First s in [0, H] with f(s) >= 0 (see the section comment). */
static bool fn_first(lif_fn *F, gsl_root_fsolver *sv, double H, double *s_out)
{
    fn_pt p0 = fn_eval(F, 0.0);
    if (p0.f >= 0.0) {
        *s_out = 0.0;
        return true;
    }
    struct { fn_pt a, b; } st[LIF_EV_STACK];
    size_t n = 0;
    st[n].a = p0, st[n].b = fn_eval(F, H), n++;
    while (n > 0) {
        n--;
        fn_pt A = st[n].a, B = st[n].b;
        double fmax, dmin, dmax;
        fn_bounds(F, &A, &B, &fmax, &dmin, &dmax);
        if (fmax < 0.0 || dmax <= 0.0)
            continue;                         /* f < 0 on [a, b], or falls from f(a) < 0 */
        if (dmin >= 0.0) {                    /* rising: one crossing iff f(b) >= 0 */
            if (B.f >= 0.0) {
                *s_out = fn_root(F, sv, A.s, B.s, B.f);
                return true;
            }
            continue;
        }
        fn_pt M = fn_eval(F, 0.5 * (A.s + B.s));
        if (B.s - A.s <= LIF_EV_TOL || n + 2 > LIF_EV_STACK) {
            if (M.f >= 0.0 || B.f >= 0.0) {
                *s_out = M.f >= 0.0 ? M.s : B.s;
                return true;
            }
            continue;
        }
        if (M.f >= 0.0) {                     /* a crossing in [a, m]: the right half is later */
            st[n].a = A, st[n].b = M, n++;
            continue;
        }
        st[n].a = M, st[n].b = B, n++;
        st[n].a = A, st[n].b = M, n++;
    }
    return false;
}

/*
 * lif_crossing: the first time t in [0, h_ms] from now at which neuron i,
 * left without input, reaches V_th + theta (after any refractory time left).
 */
static int lif_crossing(const snn_pop *p, size_t i, double h_ms, double *t_ms)
{
    const lif_consts *k = p->consts;
    lif_ev *e = p->priv;
    double s0 = e->ref_left[i];
    if (s0 > h_ms)
        return SNN_CROSS_NONE;
    double v = p->x[LIF_V][i], ie = p->x[LIF_I_EX][i], ii = p->x[LIF_I_IN][i];
    double th = p->x[LIF_THETA][i];
    if (s0 > 0.0) {
        v = k->v_reset;
        ie *= exp(-s0 / k->tau_ex);
        ii *= exp(-s0 / k->tau_in);
        th *= exp(-s0 / k->tau_theta);
    }
    double v_inf = k->e_l + k->tau_m / k->c_m * lif_drive(p, k, i);
    double H = h_ms - s0, s;
    if (ie == 0.0 && ii == 0.0 && th == 0.0) {
        /* Closed form: V relaxes to v_inf. */
        if (v >= k->v_th)
            s = 0.0;
        else if (v_inf > k->v_th)
            s = k->tau_m * log((v_inf - v) / (v_inf - k->v_th));
        else
            return SNN_CROSS_NONE;
        if (s > H)
            return SNN_CROSS_NONE;
    } else {
        lif_fn F = {k, v_inf - k->v_th, v - v_inf, ie, ii, th};
        /* f below its bound over all s >= 0 (theta >= 0 only lowers it). */
        double ub = F.a0 + (F.am > 0.0 ? F.am : 0.0) + (ie > 0.0 ? ie * k->pmax_ex : 0.0) +
                    (ii > 0.0 ? ii * k->pmax_in : 0.0) + (th < 0.0 ? -th : 0.0);
        if (ub < 0.0)
            return SNN_CROSS_NONE;
        double W = k->window;
        if (H <= W)
            return fn_first(&F, e->solver, H, &s) ? (*t_ms = s0 + s, SNN_CROSS_SPIKE)
                                                   : SNN_CROSS_NONE;
        /* Search the look-ahead window [0, W] exactly; beyond it only prove
           that no crossing follows, else ask to be called again at W. */
        if (fn_first(&F, e->solver, W, &s)) {
            *t_ms = s0 + s;
            return SNN_CROSS_SPIKE;
        }
        fn_pt A = fn_eval(&F, W), B = fn_eval(&F, H); /* f(W) < 0 */
        double fmax, dmin, dmax;
        fn_bounds(&F, &A, &B, &fmax, &dmin, &dmax);
        if (fmax < 0.0 || dmax <= 0.0)
            return SNN_CROSS_NONE;
        *t_ms = s0 + W;
        return SNN_CROSS_CHECK;
    }
    *t_ms = s0 + s;
    return SNN_CROSS_SPIKE;
}

const snn_model_type lif_type = {
    .name = "lif",
    .doc = "Leaky integrate-and-fire neuron with exponential (or delta) current synapses "
           "and an optional adaptive threshold, integrated exactly (NEST iaf_psc_exp / "
           "iaf_psc_delta); supports simulation.integrator = \"event\" (exact spike times).",
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
    .plan = lif_plan,
    .step = lif_step,
    .release = lif_release,
    .ev_prepare = lif_ev_prepare,
    .advance = lif_advance,
    .receive = lif_receive,
    .crossing = lif_crossing,
    .fire = lif_fire,
};
