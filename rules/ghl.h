/*
 * rules/ghl.h: global-guided Hebbian learning (GHL, issue 8) on plain
 * arrays: Oja's rule with competition as the local part, the sign of the
 * task gradient as the global part; plus pruning of the weakest weights.
 *
 * Data per stimulus: presynaptic rates x [n_in], postsynaptic activations y
 * [n_out], weights W [n_in × n_out] (pre-major, W[i·n_out + j], the layout
 * of dense projections and of the readout), and the global gradient: per
 * neuron g = ∂L/∂y [n_out] or per synapse G = ∂L/∂W [n_in × n_out].
 *
 * Competition (which neurons learn, and with what postsynaptic factor a_j):
 *   k = 0: every neuron; k > 0: the k largest y_j (ties: lower index first);
 *   temperature T = 0 (hard):   a_j = y_j for a learner, 0 otherwise;
 *   temperature T > 0 (soft):   a_j = exp(y_j/T) / Σ_{m learner} exp(y_m/T)
 *                               over the learners (SoftHebb, Moraitis et al.
 *                               2022), 0 otherwise.
 * Local update (Oja's rule with the competitive factor):
 *   Δl_ij = eta · a_j · (x_i − y_j · w_ij)
 * which for hard competition is Oja's Δw_ij = eta y_j (x_i − y_j w_ij)
 * exactly (same floating-point operations, so mode none reproduces a plain
 * Oja loop bit for bit).
 *
 * Global sign s_ij = sgn(g_j) (granularity neuron) or sgn(G_ij) (synapse),
 * sgn(0) = 0.  The descent direction is −s_ij.  Guided update:
 *   none:      Δg = Δl (the global signal is ignored; mix too)
 *   direction: Δg = |Δl| · (−s_ij)
 *   gate:      Δg = Δl if sgn(Δl) = −s_ij, else 0
 * Applied update in the guided modes: Δw = (1 − mix) Δl + mix Δg,
 * evaluated as written (mix = 1 gives Δg and mix = 0 gives Δl, up to the
 * sign of a zero).  A zero global sign gives no guided update.
 *
 * Stability and the option `decay`.  Write Oja's update as a Hebbian term
 * minus a decay term, Δl_ij = h_ij − d_ij, h_ij = eta a_j x_i, d_ij = eta
 * a_j y_j w_ij.  Only d bounds the weights: for a linear neuron y_j = w_j·x
 * with a_j = y_j, w_j·Δl_j = eta y_j² (1 − |w_j|²), which draws |w_j| to 1.
 *   decay = guided (the default; issue 8's definition, as above): the
 *     global sign steers all of Δl.  Direction mode then turns the decay
 *     into growth wherever y_j w_ij > x_i and the global sign asks for
 *     more; y_j grows with w_j and |Δl| ≈ eta y_j² |w_ij| with it, so the
 *     weights diverge unless something else bounds them (the toy of
 *     tests/unit/test_ghl_toy.c, 24 inputs, 4 neurons, eta 0.01, mix 1:
 *     |w| passes 1e3 or turns non-finite after 7 to 61 mini-batches of 32
 *     samples over 12 seeds).  The rule "ghl" clips to [w_min, w_max] and
 *     a projection's `normalize` rescales after each sample; the bare core
 *     has neither.  Gate mode applies a subset of Oja's own steps, each
 *     moving w_ij toward x_i / y_j without passing it (eta a_j y_j <= 1),
 *     and stayed bounded in the toy (|w_j| <= 1.11 over 12 seeds), but
 *     nothing proves a bound.
 *   decay = local: the global sign steers only the Hebbian term; Oja's
 *     decay term is applied as it is:
 *       direction: Δg = |h_ij| · (−s_ij) − d_ij
 *       gate:      Δg = h_ij if sgn(h_ij) = −s_ij, else 0; then − d_ij
 *     (mode none is unchanged).  With x >= 0, a_j >= 0 and one sign per
 *     neuron (or per synapse: where x_i = 0, h_ij = 0 anyway) the applied
 *     update is Δw_j = c_j h_j − d_j with c_j in [−1, 1] (c_j = 1 − mix +
 *     mix·(−s_j) for direction), so w_j·Δw_j = eta a_j y_j (c_j − |w_j|²)
 *     for a linear neuron: |w_j| never grows past max(1, |w_j(0)|) beyond
 *     O(eta) — Oja's own bound, whatever the global signal says.  A
 *     negative sign then gives anti-Hebbian learning with decay (w_j
 *     shrinks), a positive one Oja's rule, a zero sign the decay alone.
 *     The counters look at h instead of Δl: reversed = h reversed
 *     (direction), gated = h dropped (gate) or s = 0; local still counts
 *     Δl != 0.
 *   The default stays "guided" so that runs made before the option keep
 *     their bits (experiments/mnist_ghl.cfg and fmnist_ghl.cfg clip to [0, 1]
 *     and normalise, so they stay bounded).
 * On the toy task of tests/unit/test_ghl_toy.c (a frequent label-free
 * pattern F, weak label patterns A / B) pure Oja learns F (linear probe at
 * chance), direction mode with decay local learns A − B (probe 0.93-0.95)
 * and gate mode (decay guided) splits its F-like neurons along A − B
 * (probe 0.90-0.95).
 *
 * Identity (per-synapse sign = per-neuron sign).  For a layer y_j = f(u_j),
 * u_j = Σ_i x_i w_ij + b_j, with a surrogate derivative f'(u) > 0 (all of
 * rules/readout.h's surrogates are positive for finite u), the chain rule
 * gives ∂L/∂w_ij = x_i · f'(u_j) · ∂L/∂y_j (snn_ghl_synapse_grad), so
 *   sgn(∂L/∂w_ij) = sgn(x_i) · sgn(∂L/∂y_j).
 * Hence on every synapse with x_i > 0 the two granularities give the same
 * sign and the same update, bit for bit; with all x_i > 0 the whole update
 * is identical.  Where x_i = 0 the per-synapse sign is 0, so direction and
 * gate leave that synapse alone, while the per-neuron sign still steers
 * Oja's decay term −eta a_j y_j w_ij there (with decay local, h_ij = 0
 * there and both apply the decay alone: identical again).  Where x_i < 0 (not possible
 * for rates or spike counts; possible for z-scored or signed inputs) the
 * signs are opposite.  The identity needs the per-stimulus factorisation:
 * over the time steps of BPTT, ∂L/∂w_ij = Σ_t x_i(t) δ_j(t) with δ_j(t)
 * changing sign over t need not have the sign of Σ_t δ_j(t) unless x_i(t)
 * is constant in t (rates, current encoding).
 *
 * Sparse plasticity: top_frac < 1 keeps, per learning neuron, only the
 * ceil(top_frac · n_in) synapses with the largest |Δw| (ties: lower i first);
 * a mask (from snn_prune_weakest) excludes pruned synapses from all updates.
 *
 * Counters (snn_ghl_counts) let a run report the fraction of local updates
 * the global sign reversed (direction) or suppressed (gate, or a zero sign).
 *
 * Units: x and y in the same rate unit (e.g. Hz or spikes per stimulus), w
 * dimensionless (y_j w_ij is compared with x_i), eta in 1/(rate unit)^2
 * per stimulus for the hard rule, 1/(rate unit) for the soft one (a_j is a
 * probability).  T is in the unit of y.
 *
 * Determinism: the update of synapse (i, j) depends only on x_i, y, w_ij and
 * g, so results are bit-identical for any OpenMP thread count (rows or
 * learners are split across threads; counters are integer sums).  Nothing is
 * allocated by snn_ghl_update.
 */
#ifndef SNN_GHL_H
#define SNN_GHL_H

#include <stddef.h>
#include <stdint.h>

#include "../sim/err.h"

enum { SNN_GHL_NONE, SNN_GHL_DIRECTION, SNN_GHL_GATE };
enum { SNN_GHL_SIGN_NEURON, SNN_GHL_SIGN_SYNAPSE };
enum { SNN_GHL_DECAY_GUIDED, SNN_GHL_DECAY_LOCAL };

typedef struct snn_ghl_opts {
    double eta;          /* learning rate (see Units above), >= 0 */
    size_t k;            /* winners per stimulus, 0 = all neurons learn */
    double temperature;  /* softmax temperature (unit of y); 0 = hard competition */
    int mode;            /* SNN_GHL_NONE | _DIRECTION | _GATE */
    int sign;            /* SNN_GHL_SIGN_NEURON (g [n_out]) | _SYNAPSE (G [n_in × n_out]) */
    double mix;          /* weight of the guided update, [0, 1] */
    double top_frac;     /* (0, 1]: fraction of each learner's synapses that change */
    int decay;           /* SNN_GHL_DECAY_GUIDED (the sign steers all of Δl) | _LOCAL
                            (only the Hebbian term; Oja's decay kept): see Stability */
} snn_ghl_opts;

/* Defaults: eta 1e-3, k 0, T 0, mode direction, sign neuron, mix 1,
   top_frac 1, decay guided. */
void snn_ghl_opts_default(snn_ghl_opts *o);

/* Validate o: SNN_ECFG naming the field, its value and the allowed range. */
int snn_ghl_opts_check(const snn_ghl_opts *o, snn_err *err);

/* Mode, sign and decay names ("none", "direction", "gate"; "neuron",
   "synapse"; "guided", "local") for files and messages; snn_ghl_choice
   parses them for key "mode", "sign" or "decay" (SNN_ECFG otherwise). */
const char *snn_ghl_mode_name(int mode);
const char *snn_ghl_sign_name(int sign);
const char *snn_ghl_decay_name(int decay);
int snn_ghl_choice(const char *key, const char *name, int *value, snn_err *err);

/* Accumulated by snn_ghl_update (added to, never cleared by it). */
typedef struct snn_ghl_counts {
    uint64_t stimuli;   /* calls */
    uint64_t local;     /* learner synapses (not masked) with Δl != 0 */
    uint64_t reversed;  /* direction: Δg has the opposite sign of Δl */
    uint64_t gated;     /* gate: Δl disagrees with −s; either mode: s = 0 */
    uint64_t dropped;   /* Δw != 0 left out by top_frac */
} snn_ghl_counts;

typedef struct snn_ghl snn_ghl;

/*
 * snn_ghl_alloc: check and copy `o` and allocate the workspace of an
 * n_in × n_out layer (competition factors, learner list, per-thread columns
 * for top_frac).  *out is taken by the caller (snn_ghl_free).
 */
int snn_ghl_alloc(snn_ghl **out, size_t n_in, size_t n_out, const snn_ghl_opts *o,
                  snn_err *err);
void snn_ghl_free(snn_ghl *g);
const snn_ghl_opts *snn_ghl_options(const snn_ghl *g);

/*
 * snn_ghl_update: one stimulus.  x [n_in], y [n_out] and grad (g [n_out] or
 * G [n_in × n_out] by o.sign; may be NULL in mode none) are borrowed;
 * mask [n_in × n_out] (1 = plastic, 0 = pruned) may be NULL; W is updated
 * in place.  cnt (may be NULL) is added to.  No allocation.
 */
int snn_ghl_update(snn_ghl *g, const double *x, const double *y, const double *grad,
                   const uint8_t *mask, double *W, snn_ghl_counts *cnt, snn_err *err);

/* The competition factors a [n_out] of the last update (borrowed). */
const double *snn_ghl_factors(const snn_ghl *g);

/*
 * snn_ghl_synapse_grad: G_ij = x_i · fprime_j · gy_j, the per-synapse
 * gradient of a layer whose neuron j has surrogate slope fprime_j (NULL: 1)
 * and output gradient gy_j = ∂L/∂y_j.  G [n_in × n_out].
 */
void snn_ghl_synapse_grad(size_t n_in, size_t n_out, const double *x, const double *fprime,
                          const double *gy, double *G);

/*
 * snn_prune_weakest: zero the fraction `frac` in [0, 1] of the weights of W
 * [n_in × n_out] with the smallest |w|: per target neuron (per_target = 1:
 * floor(frac · n_in) weights of each column) or over the whole matrix
 * (floor(frac · n_in · n_out)).  Ties are pruned lower flat index first.
 * mask [n_in × n_out] gets 1 for kept, 0 for pruned weights.  Weights that
 * are already masked out (mask 0 on entry, with keep_mask = 1) count as
 * pruned first and stay pruned.  *n_pruned (may be NULL) gets the number
 * of zeros in the mask.  Allocates a scratch of one column or the whole
 * matrix (SNN_ENOMEM).
 */
int snn_prune_weakest(double *W, size_t n_in, size_t n_out, double frac, int per_target,
                      int keep_mask, uint8_t *mask, size_t *n_pruned, snn_err *err);

/* ---- as the plasticity rule "ghl" of a projection (ghl_rule.c) ----------
   Dense or sparse (at most one synapse per pair; a dense mirror and a
   connectivity mask; no pruning).
   Parameters: `snn help rule ghl`.  All return SNN_ECFG for a projection
   without the rule. */
struct snn_proj;

/* Queue the global gradient of the next stimulus (copied): n = n_post for
   sign neuron (dL/dy, e.g. a row of snn_readout_input_grad), n_pre · n_post
   for sign synapse.  The protocol's on_sample_end then learns from the
   sample; in a guided mode a sample without a queued gradient is skipped. */
int snn_ghl_rule_set_grad(struct snn_proj *pj, const double *g, size_t n, snn_err *err);

/* Learn now from one stimulus's spike counts (pre [n_pre], post [n_post],
   over present_ms) and its gradient g (NULL in mode none): the alternating
   loop's guided update.  Counts the stimulus for the pruning schedule. */
int snn_ghl_rule_apply(struct snn_proj *pj, const uint32_t *pre_counts,
                       const uint32_t *post_counts, double present_ms, const double *g,
                       snn_err *err);

/* Counters since the build (borrowed), and the pruning mask [n_pre × n_post]
   (1 kept, 0 pruned; NULL without pruning) with the number pruned. */
const snn_ghl_counts *snn_ghl_rule_counts(const struct snn_proj *pj);
const uint8_t *snn_ghl_rule_mask(const struct snn_proj *pj, size_t *n_pruned);
/* The rule's options (mode, sign, ...) copied into *o; SNN_ECFG for a
   projection without the rule. */
int snn_ghl_rule_opts(const struct snn_proj *pj, snn_ghl_opts *o, snn_err *err);

#endif
