/*
 * rules/ghl_rule.c: global-guided Hebbian learning (rules/ghl.h) as the
 * plasticity rule "ghl" of a projection, learning once per stimulus from the
 * sample's spike counts, with pruning on a schedule.
 *
 * The rule does nothing per spike (spike_off).  Per stimulus it turns the
 * counts into rates, x_i = pre_count_i · 1000 / present_ms and likewise y_j
 * (Hz), runs snn_ghl_update on the projection's weights w[pre · n_post +
 * post] (the pre-major layout ghl.h expects), clips the changed weights to
 * [w_min, w_max], and every prune_every stimuli zeroes the weakest
 * prune_fraction of the weights (per target or global; pruned weights stay
 * at 0 and never learn again: a mask).  The global gradient (dL/dy [n_post]
 * for sign "neuron", dL/dW [n_pre × n_post] for "synapse") comes from the
 * caller:
 *   - interleaved: snn_ghl_rule_set_grad() before the protocol's
 *     on_sample_end, which then learns from this sample (in a guided mode
 *     a sample without a queued gradient is skipped; mode none always
 *     learns);
 *   - alternating: snn_ghl_rule_apply() with stored counts and gradient,
 *     after a readout step.
 * The projection's top_k is not used: competition is the rule's own k.
 * Sparse projections (connector local, fixed_prob, ...; at most one synapse
 * per pre-post pair): the rule keeps a dense mirror of the weights and a
 * connectivity mask [n_pre × n_post]; per stimulus it copies the synapses'
 * weights into the mirror, runs the same update with the mask (absent
 * synapses neither learn nor count in the counters: exactly the dense
 * update of a matrix whose absent entries are masked out), clips, and copies
 * them back (the mirror costs n_pre × n_post doubles, as dense storage
 * would).  Pruning needs dense weights (its fraction is of the whole
 * matrix) and is refused on sparse projections.
 * decay = "local" keeps Oja's decay term out of the global sign's reach,
 * so the weights stay bounded without w_min/w_max (ghl.h, Stability); the
 * default "guided" is issue 8's definition and relies on the clip.
 * Event-driven integrator: refused (no exact_times); the rule learns only
 * per stimulus of a phase, and experiments with phases run only clocked.
 * Units: rates in Hz, so eta is in 1/Hz^2 (Oja: eta y (x - y w) with w
 * dimensionless) and temperature in Hz.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/net.h"
#include "ghl.h"
#include "rule.h"

enum { GR_ETA, GR_K, GR_TEMP, GR_MODE, GR_SIGN, GR_MIX, GR_TOP_FRAC, GR_W_MIN, GR_W_MAX,
       GR_PRUNE_FRAC, GR_PRUNE_EVERY, GR_PRUNE_SCOPE, GR_DECAY, GR_N_PARAMS };
enum { GR_SCOPE_TARGET, GR_SCOPE_GLOBAL };

static const char *const mode_choices[] = {"none", "direction", "gate", NULL};
static const char *const sign_choices[] = {"neuron", "synapse", NULL};
static const char *const scope_choices[] = {"target", "global", NULL};
static const char *const decay_choices[] = {"guided", "local", NULL};

static const snn_param_desc ghl_params[GR_N_PARAMS] = {
    [GR_ETA] = {"eta", "1/Hz^2", 1e-6, 0.0, 1.0,
                "Oja learning rate per stimulus: dw = eta a_j (x_i - y_j w) with rates in Hz",
                NULL},
    [GR_K] = {"k", "1", 0, 0, 1e9, "winners per stimulus (largest rates); 0: all neurons learn",
              NULL},
    [GR_TEMP] = {"temperature", "Hz", 0.0, 0.0, 1e9,
                 "softmax competition over the winners; 0: hard (a_j = y_j)", NULL},
    [GR_MODE] = {"mode", "1", SNN_GHL_DIRECTION, 0, 2,
                 "global guidance: none (pure Oja), direction (|dw| with -sign(dL/dw)), gate "
                 "(dw only where it agrees with -dL/dw)",
                 mode_choices},
    [GR_SIGN] = {"sign", "1", SNN_GHL_SIGN_NEURON, 0, 1,
                 "granularity of the global sign: per neuron (dL/dy) or per synapse (dL/dw)",
                 sign_choices},
    [GR_MIX] = {"mix", "1", 1.0, 0.0, 1.0,
                "weight of the guided update: dw = (1 - mix) dw_local + mix dw_guided", NULL},
    [GR_TOP_FRAC] = {"top_frac", "1", 1.0, 1e-9, 1.0,
                     "fraction of each learner's synapses (largest |dw|) that change", NULL},
    [GR_W_MIN] = {"w_min", "w", 0.0, -1e12, 1e12, "lower weight bound", NULL},
    [GR_W_MAX] = {"w_max", "w", 1.0, -1e12, 1e12, "upper weight bound", NULL},
    [GR_PRUNE_FRAC] = {"prune_fraction", "1", 0.0, 0.0, 1.0,
                       "fraction of the weights (smallest |w|) zeroed at each pruning", NULL},
    [GR_PRUNE_EVERY] = {"prune_every", "samples", 0, 0, 1e12,
                        "stimuli between prunings; 0: never", NULL},
    [GR_PRUNE_SCOPE] = {"prune_scope", "1", GR_SCOPE_TARGET, 0, 1,
                        "prune the fraction of each target neuron's weights, or of the matrix",
                        scope_choices},
    [GR_DECAY] = {"decay", "1", SNN_GHL_DECAY_GUIDED, 0, 1,
                  "what the global sign steers: guided (all of Oja's dw; direction mode then "
                  "relies on w_min/w_max) or local (the Hebbian term; Oja's decay kept)",
                  decay_choices},
};

typedef struct ghl_consts {
    snn_ghl *g;
    snn_ghl_counts cnt;
    double w_min, w_max, prune_frac;
    uint64_t prune_every, seen;
    int per_target;
    double *x, *y;      /* rates [n_pre], [n_post] */
    double *grad;       /* queued gradient [n_post] or [n_pre × n_post] */
    size_t n_grad;
    int pending;
    uint8_t *mask;      /* [n_pre × n_post] when pruning, else NULL */
    size_t n_pruned;
    double *Wd;         /* sparse projections: dense mirror [n_pre × n_post], else NULL */
    uint8_t *conn;      /* sparse projections: 1 where a synapse exists, else NULL */
} ghl_consts;

static void ghl_release(snn_rule *r)
{
    ghl_consts *c = r->consts;
    if (!c)
        return;
    snn_ghl_free(c->g);
    free(c->x);
    free(c->y);
    free(c->grad);
    free(c->mask);
    free(c->Wd);
    free(c->conn);
    memset(c, 0, sizeof *c);
}

static int ghl_prepare(snn_rule *r, snn_proj *pj, double dt_ms, snn_err *err)
{
    const double *par = r->par;
    ghl_consts *c = r->consts;
    if (!(par[GR_W_MIN] < par[GR_W_MAX]))
        SNN_FAIL(err, SNN_ECFG, "w_min = %g must be below w_max = %g", par[GR_W_MIN],
                 par[GR_W_MAX]);
    if (par[GR_K] != floor(par[GR_K]) || par[GR_K] > (double)pj->post->n)
        SNN_FAIL(err, SNN_ECFG, "k = %g must be a whole number of at most %zu (the target "
                 "population's size)", par[GR_K], pj->post->n);
    if (par[GR_PRUNE_EVERY] != floor(par[GR_PRUNE_EVERY]))
        SNN_FAIL(err, SNN_ECFG, "prune_every = %g must be a whole number of samples",
                 par[GR_PRUNE_EVERY]);
    if (!pj->dense && par[GR_PRUNE_EVERY] > 0 && par[GR_PRUNE_FRAC] > 0)
        SNN_FAIL(err, SNN_ECFG, "pruning (prune_every, prune_fraction) needs dense weights "
                 "(an all_to_all projection with one delay); this projection is sparse");
    r->spike_off = true;
    size_t n_pre = pj->pre->n, n_post = pj->post->n;
    snn_ghl_opts o;
    snn_ghl_opts_default(&o);
    o.eta = par[GR_ETA];
    o.k = (size_t)par[GR_K];
    o.temperature = par[GR_TEMP];
    o.mode = (int)lround(par[GR_MODE]);
    o.sign = (int)lround(par[GR_SIGN]);
    o.mix = par[GR_MIX];
    o.top_frac = par[GR_TOP_FRAC];
    o.decay = (int)lround(par[GR_DECAY]);
    int rc = snn_ghl_alloc(&c->g, n_pre, n_post, &o, err);
    if (rc)
        return rc;
    c->w_min = par[GR_W_MIN];
    c->w_max = par[GR_W_MAX];
    c->prune_frac = par[GR_PRUNE_FRAC];
    c->prune_every = (uint64_t)par[GR_PRUNE_EVERY];
    c->per_target = lround(par[GR_PRUNE_SCOPE]) == GR_SCOPE_TARGET;
    c->n_grad = o.sign == SNN_GHL_SIGN_SYNAPSE ? n_pre * n_post : n_post;
    c->x = calloc(n_pre ? n_pre : 1, sizeof(double));
    c->y = calloc(n_post ? n_post : 1, sizeof(double));
    c->grad = calloc(c->n_grad ? c->n_grad : 1, sizeof(double));
    int ok = c->x && c->y && c->grad;
    if (ok && c->prune_every && c->prune_frac > 0) {
        c->mask = malloc(n_pre * n_post > 0 ? n_pre * n_post : 1);
        ok = c->mask != NULL;
        if (ok)
            memset(c->mask, 1, n_pre * n_post);
    }
    if (ok && !pj->dense) {
        c->Wd = calloc(n_pre * n_post > 0 ? n_pre * n_post : 1, sizeof(double));
        c->conn = calloc(n_pre * n_post > 0 ? n_pre * n_post : 1, 1);
        ok = c->Wd && c->conn;
    }
    if (!ok)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for rule ghl (%zu × %zu)", n_pre, n_post);
    if (c->conn)
        for (size_t t = 0; t < pj->n_parts; t++) {
            const snn_part *pt = &pj->parts[t];
            for (size_t i = 0; i < n_pre; i++)
                for (size_t q = pt->row[i]; q < pt->row[i + 1]; q++) {
                    uint8_t *e = &c->conn[i * n_post + pt->col[q]];
                    if (*e)
                        SNN_FAIL(err, SNN_ECFG, "two synapses from pre %zu to post %u; the "
                                 "rule needs at most one per pair", i, pt->col[q]);
                    *e = 1;
                }
        }
    return SNN_OK;
}

/* Sparse projections: the synapses' weights to the dense mirror (to = 1) or
   back (to = 0). */
static void mirror(snn_proj *pj, double *W, int to)
{
    size_t n_pre = pj->pre->n, n_post = pj->post->n;
    for (size_t t = 0; t < pj->n_parts; t++) {
        snn_part *pt = &pj->parts[t];
        for (size_t i = 0; i < n_pre; i++)
            for (size_t q = pt->row[i]; q < pt->row[i + 1]; q++) {
                double *d = &W[i * n_post + pt->col[q]];
                if (to)
                    *d = pt->w[q];
                else
                    pt->w[q] = *d;
            }
    }
}

/* One stimulus from its counts; g may be NULL in mode none. */
static int learn(snn_proj *pj, ghl_consts *c, const uint32_t *pre_counts,
                 const uint32_t *post_counts, double present_ms, const double *g, snn_err *err)
{
    size_t n_pre = pj->pre->n, n_post = pj->post->n;
    double hz = 1000.0 / present_ms;
    for (size_t i = 0; i < n_pre; i++)
        c->x[i] = (double)pre_counts[i] * hz;
    for (size_t j = 0; j < n_post; j++)
        c->y[j] = (double)post_counts[j] * hz;
    double *W = pj->dense ? pj->w_dense : c->Wd;
    if (!pj->dense)
        mirror(pj, W, 1);
    int rc = snn_ghl_update(c->g, c->x, c->y, g, c->mask ? c->mask : c->conn, W, &c->cnt,
                            err);
    if (rc)
        return rc;
    size_t n = n_pre * n_post;
    for (size_t q = 0; q < n; q++) {
        double w = W[q];
        W[q] = w < c->w_min ? c->w_min : (w > c->w_max ? c->w_max : w);
    }
    if (c->mask)
        for (size_t q = 0; q < n; q++)
            if (!c->mask[q])
                W[q] = 0.0;
    if (!pj->dense)
        mirror(pj, W, 0);
    c->seen++;
    if (c->mask && c->seen % c->prune_every == 0)
        rc = snn_prune_weakest(W, n_pre, n_post, c->prune_frac, c->per_target, 1, c->mask,
                               &c->n_pruned, err);
    return rc;
}

static void ghl_on_sample_end(const snn_rule *r, snn_proj *pj, const snn_sample_stats *st)
{
    ghl_consts *c = r->consts;
    int guided = snn_ghl_options(c->g)->mode != SNN_GHL_NONE;
    if (guided && !c->pending)
        return;
    c->pending = 0;
    snn_err err;
    /* Errors here are internal (sizes were checked at prepare). */
    (void)learn(pj, c, st->pre_counts, st->post_counts, st->present_ms,
                guided ? c->grad : NULL, &err);
}

/* Checkpoints: the counters, the pruning schedule and mask, and a queued
   gradient (none between samples, saved all the same). */
static int ghl_state(snn_rule *r, snn_proj *pj, const snn_rule_io *io, snn_err *err)
{
    ghl_consts *c = r->consts;
    uint64_t u[8] = {c->cnt.stimuli, c->cnt.local,     c->cnt.reversed, c->cnt.gated,
                     c->cnt.dropped, c->seen,          c->n_pruned,     (uint64_t)c->pending};
    int rc = io->item(io->ud, "counters", SNN_RULE_U64, u, 8, err);
    if (!rc)
        rc = io->item(io->ud, "grad", SNN_RULE_F64, c->grad, c->n_grad, err);
    if (!rc && c->mask)
        rc = io->item(io->ud, "mask", SNN_RULE_U8, c->mask, pj->pre->n * pj->post->n, err);
    if (!rc && io->load) {
        c->cnt = (snn_ghl_counts){u[0], u[1], u[2], u[3], u[4]};
        c->seen = u[5];
        c->n_pruned = (size_t)u[6];
        c->pending = u[7] != 0;
    }
    return rc;
}

const snn_rule_type ghl_type = {
    .name = "ghl",
    .doc = "Global-guided Hebbian learning (rules/ghl.h): Oja's rule with k-winner or softmax "
           "competition, once per stimulus on the spike counts, steered by the sign of the "
           "task gradient (mode direction | gate | none); optional top-fraction sparsity and "
           "pruning on a schedule (dense projections only).  Sparse projections: at most one "
           "synapse per pair; absent synapses stay absent.",
    .params = ghl_params,
    .n_params = GR_N_PARAMS,
    .consts_size = sizeof(ghl_consts),
    .prepare = ghl_prepare,
    .on_sample_end = ghl_on_sample_end,
    .release = ghl_release,
    .state = ghl_state,
};

/* ---- caller interface (ghl.h) ------------------------------------------- */

static ghl_consts *consts_of(const snn_proj *pj, snn_err *err)
{
    if (!pj || !pj->rule || pj->rule->type != &ghl_type) {
        snn_err_set(err, SNN_ECFG, "projection '%s' does not use the ghl rule",
                    pj && pj->spec ? pj->spec->name : "?");
        return NULL;
    }
    return pj->rule->consts;
}

int snn_ghl_rule_set_grad(snn_proj *pj, const double *g, size_t n, snn_err *err)
{
    ghl_consts *c = consts_of(pj, err);
    if (!c)
        return err ? err->code : SNN_ECFG;
    if (n != c->n_grad)
        SNN_FAIL(err, SNN_ECFG, "projection '%s' (rule ghl, sign %s): gradient of %zu values, "
                 "expected %zu", pj->spec->name,
                 snn_ghl_sign_name(snn_ghl_options(c->g)->sign), n, c->n_grad);
    memcpy(c->grad, g, n * sizeof(double));
    c->pending = 1;
    return SNN_OK;
}

int snn_ghl_rule_apply(snn_proj *pj, const uint32_t *pre_counts, const uint32_t *post_counts,
                       double present_ms, const double *g, snn_err *err)
{
    ghl_consts *c = consts_of(pj, err);
    if (!c)
        return err ? err->code : SNN_ECFG;
    if (!(present_ms > 0))
        SNN_FAIL(err, SNN_ECFG, "rule ghl: present_ms = %g must be > 0", present_ms);
    return learn(pj, c, pre_counts, post_counts, present_ms, g, err);
}

const snn_ghl_counts *snn_ghl_rule_counts(const snn_proj *pj)
{
    const ghl_consts *c = consts_of(pj, NULL);
    return c ? &c->cnt : NULL;
}

const uint8_t *snn_ghl_rule_mask(const snn_proj *pj, size_t *n_pruned)
{
    const ghl_consts *c = consts_of(pj, NULL);
    if (n_pruned)
        *n_pruned = c ? c->n_pruned : 0;
    return c ? c->mask : NULL;
}

int snn_ghl_rule_opts(const snn_proj *pj, snn_ghl_opts *o, snn_err *err)
{
    const ghl_consts *c = consts_of(pj, err);
    if (!c)
        return err ? err->code : SNN_ECFG;
    *o = *snn_ghl_options(c->g);
    return SNN_OK;
}
