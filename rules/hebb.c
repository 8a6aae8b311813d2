/*
 * rules/hebb.c: the Hebbian family of rate rules (Miconi 2021), driven by
 * spikes: plain Hebb, Grossberg's instar and Oja's rule.
 *
 * Rate rules.  With presynaptic rate x, postsynaptic rate y and learning
 * rate eta, in continuous time
 *     hebb:    dw/dt = eta y x
 *     instar:  dw/dt = eta y (x - w)
 *     oja:     dw/dt = eta y (x - y w).
 * All three have the form dw/dt = eta y g(x, y, w).
 *
 * Rate estimates.  The engine keeps a presynaptic trace x_i (tau_x) and, for
 * oja only, a postsynaptic trace y_j (tau_y), both mode add (sim/model.h,
 * snn_trace): at time t
 *     x_i(t) = sum over spikes of i at t_a < t of exp(-(t - t_a) / tau_x),
 * so a stationary train of rate nu has E[x_i] = nu tau_x.  The rule reads the
 * traces as rates in Hz (tau in ms):
 *     xh_i = x_i * 1000 / tau_x,    yh_j = y_j * 1000 / tau_y.
 *
 * Discrete update (the exact formula implemented).  A pre spike changes
 * nothing.  When post neuron j fires at t_f, each of its incoming weights
 * w = w_ij becomes clip(w + dw, w_min, w_max), with
 *     hebb:    dw = eta xh_i
 *     instar:  dw = eta (xh_i - w)
 *     oja:     dw = eta (xh_i - yh_j w),
 * xh_i and yh_j taken at t_f from the spikes before t_f: spikes in the same
 * step as the post spike (the post spike itself included) do not count.
 *
 * Why this is the rate rule.  The leading factor y of g is replaced by the
 * post spike train rho(t) = sum_f delta(t - t_f): dw/dt = eta rho(t) g is the
 * update above, and on average E[dw/dt] = eta nu_post E_f[g], with E_f the
 * mean over post spikes, i.e. eta y g.  The y inside oja's bracket must be
 * the trace of the earlier post spikes only: counting the current spike would
 * add 1000/tau_y Hz to yh at every post spike, the self-pairing (delta) term
 * of rho's autocorrelation, which turns E[rho yh] = nu^2 into
 * nu^2 + nu 1000/tau_y and shrinks oja's weights.  With the exclusion, a
 * linear post neuron of rate lambda = sum_i w_i x_i (x_i in Hz, w_i plain
 * numbers) averages oja's update to Oja's equation
 *     dw/dt = eta (C w - (w'C w) w),  C_ik = E[xbar_i(t) x_k(t)]
 * (xbar: x filtered by the trace; y's filter must be the same, tau_x =
 * tau_y), whose |w| -> 1 when C is symmetric.  For any post neuron the
 * fixed points are w_ij = E_f[xh_i] (instar: the mean presynaptic rate at
 * post spikes) and, to first order in eta, w_ij = E_f[xh_i] / E_f[yh_j] (oja).
 *
 * Units: times in ms, rates in Hz.  The rules read a weight as a plain
 * number: hebb adds eta (w/Hz) per Hz of xh; instar moves w toward xh, so
 * one weight unit stands for 1 Hz and eta (1) is the fraction of the gap
 * closed per post spike; oja's w is dimensionless (yh w is compared with xh)
 * and eta is in 1/Hz.  w_min, w_max are in the projection's weight unit.
 * Stability: instar needs eta <= 1 and oja eta yh < 1 (per post spike).
 *
 * Clock grid: the trace at a post spike on the grid is a sum of powers of
 * d = exp(-dt/tau), whose stationary mean is nu dt d / (1 - d) =
 * nu tau (1 - dt/(2 tau) + O(dt^2/tau^2)): xh is low by dt/(2 tau) relative.
 * A neuron with several spikes in one step (Poisson sources) gets one post
 * update, while its trace counts every spike.
 * Event-driven integrator: mode "spike" reads time only through the traces,
 * which are exact at each spike time there, so xh, yh are the sums above at
 * the exact t_f (no dt/(2 tau) bias) and every post spike updates
 * (exact_times).  Mode "stimulus" needs the phases the event integrator
 * does not run; it is refused there (sim/sched_event.c).
 * Mode "stimulus" (parameter mode): no traces and no per-spike update;
 * once per sample of a plastic phase the rule is applied to the sample's
 * rates (on_sample_end below).  With the plasticity group's top_k > 0 only
 * the top_k post neurons with the most spikes in the sample learn
 * (sim/protocol.h, "sparse plasticity").
 * Parameters: hebb_params[], instar_params[], oja_params[] below; the three
 * types share prepare and on_post.
 */
#include <math.h>

#include "../sim/net.h"
#include "rule.h"

/* Parameter layout shared by the three tables; tau_y exists for oja only. */
enum { HB_ETA, HB_TAU_X, HB_W_MIN, HB_W_MAX, HB_MODE, HB_TAU_Y, HB_N_PARAMS };
enum { HB_N_PARAMS_NO_Y = HB_TAU_Y };

typedef enum { HB_HEBB, HB_INSTAR, HB_OJA } hebb_kind;
enum { HB_SPIKE, HB_STIMULUS };

static const char *const mode_choices[] = {"spike", "stimulus", NULL};

#define HB_COMMON_PARAMS(eta_def, eta_hi, eta_unit, eta_doc, w_max_def)                         \
    [HB_ETA] = {"eta", eta_unit, eta_def, 0.0, eta_hi, eta_doc, NULL},                           \
    [HB_TAU_X] = {"tau_x", "ms", 100.0, 1e-3, 1e6,                                               \
                  "time constant of the presynaptic rate trace (rate = trace * 1000/tau_x Hz)", \
                  NULL},                                                                         \
    [HB_W_MIN] = {"w_min", "w", 0.0, -1e12, 1e12, "lower weight bound", NULL},                   \
    [HB_W_MAX] = {"w_max", "w", w_max_def, -1e12, 1e12, "upper weight bound", NULL},            \
    [HB_MODE] = {"mode", "1", HB_SPIKE, 0, 1,                                                    \
                 "\"spike\": update at each post spike from the traces; \"stimulus\": once "      \
                 "per sample from its spike counts (rates over present_ms)",                    \
                 mode_choices}

static const snn_param_desc hebb_params[HB_N_PARAMS_NO_Y] = {
    HB_COMMON_PARAMS(1e-4, 1e6, "w/Hz", "weight change per post spike per Hz of presynaptic rate",
                     1.0),
};

static const snn_param_desc instar_params[HB_N_PARAMS_NO_Y] = {
    HB_COMMON_PARAMS(0.01, 1.0, "1",
                     "fraction of (rate - w) added per post spike; w is read in Hz", 1000.0),
};

static const snn_param_desc oja_params[HB_N_PARAMS] = {
    HB_COMMON_PARAMS(1e-4, 1.0, "1/Hz",
                     "change of the dimensionless w per post spike per Hz of (x - y w)", 1.0),
    [HB_TAU_Y] = {"tau_y", "ms", 100.0, 1e-3, 1e6,
                  "time constant of the postsynaptic rate trace (rate = trace * 1000/tau_y Hz)",
                  NULL},
};

typedef struct hebb_consts {
    hebb_kind kind;
    bool stimulus;       /* mode "stimulus": on_sample_end only */
    double eta, w_min, w_max;
    double x_hz;         /* 1000 / tau_x: pre trace -> Hz */
    double y_hz;         /* 1000 / tau_y: post trace -> Hz (oja) */
    const double *x;     /* pre trace, tau_x */
    const double *y;     /* post trace, tau_y; NULL unless oja */
} hebb_consts;

/*
 * prepare: check w_min < w_max, copy the parameters and request the pre
 * trace (tau_x) and, for oja, the post trace (tau_y), both mode add.  Build
 * time; the traces belong to the populations.
 */
static int prepare(snn_rule *r, snn_proj *pj, hebb_kind kind, snn_err *err)
{
    const double *par = r->par;
    hebb_consts *c = r->consts;
    if (!(par[HB_W_MIN] < par[HB_W_MAX]))
        SNN_FAIL(err, SNN_ECFG, "w_min = %g must be below w_max = %g", par[HB_W_MIN],
                 par[HB_W_MAX]);
    c->kind = kind;
    c->eta = par[HB_ETA];
    c->w_min = par[HB_W_MIN];
    c->w_max = par[HB_W_MAX];
    c->x_hz = 1000.0 / par[HB_TAU_X];
    c->stimulus = lround(par[HB_MODE]) == HB_STIMULUS;
    r->spike_off = c->stimulus;
    if (c->stimulus)
        return SNN_OK; /* counts, not traces */
    size_t ix, iy;
    int rc = snn_pop_trace(pj->pre, par[HB_TAU_X], SNN_TRACE_ADD, &ix, err);
    if (rc)
        return rc;
    c->x = pj->pre->traces[ix].x;
    if (kind == HB_OJA) {
        rc = snn_pop_trace(pj->post, par[HB_TAU_Y], SNN_TRACE_ADD, &iy, err);
        if (rc)
            return rc;
        c->y_hz = 1000.0 / par[HB_TAU_Y];
        c->y = pj->post->traces[iy].x;
    }
    return SNN_OK;
}

static int hebb_prepare(snn_rule *r, snn_proj *pj, double dt_ms, snn_err *err)
{
    return prepare(r, pj, HB_HEBB, err);
}

static int instar_prepare(snn_rule *r, snn_proj *pj, double dt_ms, snn_err *err)
{
    return prepare(r, pj, HB_INSTAR, err);
}

static int oja_prepare(snn_rule *r, snn_proj *pj, double dt_ms, snn_err *err)
{
    return prepare(r, pj, HB_OJA, err);
}

static inline double clip(double w, double lo, double hi)
{
    return w < lo ? lo : (w > hi ? hi : w);
}

/*
 * on_post: post neuron `post` fired; update its incoming weights w[pos[m]]
 * from pre[m] by the rule's discrete formula (file header).  Does not
 * allocate; called by the thread that owns the column's partition.
 */
static void on_post(const snn_rule *r, const snn_proj *pj, uint32_t post, const uint32_t *pre,
                    const size_t *pos, double *w, size_t n, size_t step)
{
    const hebb_consts *c = r->consts;
    const double *x = c->x;
    const double eta = c->eta, x_hz = c->x_hz, lo = c->w_min, hi = c->w_max;
    switch (c->kind) {
    case HB_HEBB:
        for (size_t m = 0; m < n; m++)
            w[pos[m]] = clip(w[pos[m]] + eta * (x_hz * x[pre[m]]), lo, hi);
        break;
    case HB_INSTAR:
        for (size_t m = 0; m < n; m++) {
            double wq = w[pos[m]];
            w[pos[m]] = clip(wq + eta * (x_hz * x[pre[m]] - wq), lo, hi);
        }
        break;
    case HB_OJA: {
        const double yh = c->y_hz * c->y[post];
        for (size_t m = 0; m < n; m++) {
            double wq = w[pos[m]];
            w[pos[m]] = clip(wq + eta * (x_hz * x[pre[m]] - yh * wq), lo, hi);
        }
        break;
    }
    }
}

/* The per-stimulus update of one weight: n post spikes, rates x, y (Hz). */
static inline double stim_update(const hebb_consts *c, double wq, double n, double x, double y)
{
    switch (c->kind) {
    case HB_HEBB:
        return clip(wq + c->eta * n * x, c->w_min, c->w_max);
    case HB_INSTAR:
        return clip(wq + c->eta * n * (x - wq), c->w_min, c->w_max);
    case HB_OJA:
        return clip(wq + c->eta * n * (x - y * wq), c->w_min, c->w_max);
    }
    return wq;
}

/*
 * on_sample_end (mode "stimulus"): with x_i = pre_counts[i] * 1000 /
 * present_ms, y_j likewise and n_j = post_counts[j] (= y_j T), every weight
 * of a post neuron that may learn (st->learn) becomes
 *     hebb:    clip(w + eta n_j x_i)
 *     instar:  clip(w + eta n_j (x_i - w))
 *     oja:     clip(w + eta n_j (x_i - y_j w)).
 * This is the rate rule eta' y g(x, y, w) with eta' = eta T, i.e. the sum of
 * the spike mode's n_j per-spike updates when x, y and w stay constant over
 * the presentation, so eta keeps its unit in both modes.  Post neurons
 * without spikes do not change.  One thread, every partition; no allocation.
 */
static void on_sample_end(const snn_rule *r, snn_proj *pj, const snn_sample_stats *st)
{
    const hebb_consts *c = r->consts;
    if (!c->stimulus)
        return;
    const double hz = 1000.0 / st->present_ms;
    const uint32_t *xc = st->pre_counts, *yc = st->post_counts;
    const uint8_t *learn = st->learn;
    size_t n_pre = pj->pre->n, n_post = pj->post->n;
    if (pj->dense) {
        for (size_t i = 0; i < n_pre; i++) {
            double *w = pj->w_dense + i * n_post, x = hz * xc[i];
            for (size_t j = 0; j < n_post; j++)
                if (yc[j] && (!learn || learn[j]))
                    w[j] = stim_update(c, w[j], yc[j], x, hz * yc[j]);
        }
        return;
    }
    for (size_t t = 0; t < pj->n_parts; t++) {
        snn_part *pt = &pj->parts[t];
        for (size_t i = 0; i < n_pre; i++) {
            double x = hz * xc[i];
            for (size_t q = pt->row[i]; q < pt->row[i + 1]; q++) {
                uint32_t j = pt->col[q];
                if (yc[j] && (!learn || learn[j]))
                    pt->w[q] = stim_update(c, pt->w[q], yc[j], x, hz * yc[j]);
            }
        }
    }
}

const snn_rule_type hebb_type = {
    .name = "hebb",
    .doc = "Plain Hebbian rule dw/dt = eta y x on rate traces: at each post spike "
           "w += eta x (x: presynaptic rate estimate in Hz); clipped to [w_min, w_max].  "
           "mode = \"stimulus\": once per sample, w += eta n x (n post spikes, x the "
           "sample's pre rate).",
    .params = hebb_params,
    .n_params = HB_N_PARAMS_NO_Y,
    .consts_size = sizeof(hebb_consts),
    .prepare = hebb_prepare,
    .on_pre = NULL,
    .on_post = on_post,
    .on_sample_end = on_sample_end,
    .exact_times = true,
};

const snn_rule_type instar_type = {
    .name = "instar",
    .doc = "Grossberg's instar dw/dt = eta y (x - w): at each post spike w += eta (x - w), "
           "so weights track the presynaptic rate (Hz, read in the weight unit).  "
           "mode = \"stimulus\": once per sample, w += eta n (x - w).",
    .params = instar_params,
    .n_params = HB_N_PARAMS_NO_Y,
    .consts_size = sizeof(hebb_consts),
    .prepare = instar_prepare,
    .on_pre = NULL,
    .on_post = on_post,
    .on_sample_end = on_sample_end,
    .exact_times = true,
};

const snn_rule_type oja_type = {
    .name = "oja",
    .doc = "Oja's rule dw/dt = eta y (x - y w): at each post spike w += eta (x - y w) with "
           "y the post rate from earlier spikes; normalises |w| to 1 for a linear neuron.  "
           "mode = \"stimulus\": once per sample, w += eta n (x - y w) on the sample's rates.",
    .params = oja_params,
    .n_params = HB_N_PARAMS,
    .consts_size = sizeof(hebb_consts),
    .prepare = oja_prepare,
    .on_pre = NULL,
    .on_post = on_post,
    .on_sample_end = on_sample_end,
    .exact_times = true,
};
