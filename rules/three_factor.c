/*
 * rules/three_factor.c: reward- or error-modulated STDP with a per-synapse
 * eligibility trace (a three-factor rule: Izhikevich 2007; Frémaux &
 * Gerstner 2016).
 *
 * Pairings do not change the weight; they add to the synapse's eligibility
 * e_ij, which decays with tau_e:
 *     de_ij/dt = -e_ij / tau_e
 *                + A_plus  x_i(t) sum_f delta(t - t_j^f)     (post spike)
 *                - A_minus y_j(t) sum_f delta(t - t_i^f)     (pre spike)
 * with the engine's pre trace x (tau_plus) and post trace y (tau_minus)
 * exactly as in stdp_pair (rules/stdp_pair.c: all-to-all or nearest
 * pairing, spikes of the same step do not pair, spike times are the
 * emission times t_{k+1} of step k).  So one pre spike at t_pre and one
 * post spike at t_post > t_pre leave, at time t >= t_post,
 *     e(t) = A_plus exp(-(t_post - t_pre)/tau_plus) exp(-(t - t_post)/tau_e)
 * (pre after post: -A_minus exp(-(t_pre - t_post)/tau_minus) exp(-(t - t_pre)/tau_e)).
 * The third factor M is delivered once per stimulus (rules/three_factor.h):
 *     w_ij <- clip(w_ij + eta M m_j e_ij(t), w_min, w_max),
 * then e is reset to 0 (eligibility = "reset") or keeps decaying ("keep").
 * M = 0 changes no weight.  With tau_e = 0 (no decay), eta = 1, M = 1 at
 * every delivery and reset, the weight change is the sum of the pairings,
 * i.e. additive pair STDP (stdp_pair, mu = 0) as long as no bound is hit
 * (pair STDP clips at every pairing, this rule at delivery).
 *
 * Implementation: e and the step of its last update are stored per synapse
 * beside the weights (one array for a dense projection, one per partition
 * for a sparse one); decay is applied lazily, exactly, when a synapse is
 * touched: e <- e exp(-(k' - k) dt / tau_e) (the factor tabulated for gaps
 * below TF_TABLE steps, the same double as the direct formula).  on_pre/on_post run on the
 * partition's thread and touch only its synapses, so results do not depend
 * on the thread count.  Delivery runs on the calling thread.  Checkpoints
 * save the eligibility and its time stamps (three_factor_state).
 * Event-driven integrator: refused (exact_times false).  The eligibility
 * decays on the step grid (`last` holds step indices, the decay table steps
 * of dt / tau_e), so pairings inside a step would be stamped t_{k+1}, and the
 * modulator arrives once per stimulus of a phase, which the event integrator
 * does not run: making it exact needs the exact spike time in on_pre/on_post
 * (the interface passes the step) and a time-stamped delivery.
 * Units: times in ms; A_plus, A_minus (eligibility per pairing), w_min,
 * w_max in the projection's weight unit; eta and M dimensionless.
 */
#include "three_factor.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/net.h"
#include "rule.h"

enum { TF_A_PLUS, TF_A_MINUS, TF_TAU_PLUS, TF_TAU_MINUS, TF_TAU_E, TF_ETA, TF_W_MIN, TF_W_MAX,
       TF_PAIRING, TF_ELIG, TF_N_PARAMS };
enum { TF_ALL, TF_NEAREST };
/* Decay factors tabulated for gaps below this many steps (exp beyond). */
enum { TF_TABLE = 4096 };
enum { TF_RESET, TF_KEEP };

static const char *const pairing_choices[] = {"all", "nearest", NULL};
static const char *const elig_choices[] = {"reset", "keep", NULL};

static const snn_param_desc three_factor_params[TF_N_PARAMS] = {
    [TF_A_PLUS] = {"A_plus", "w", 0.01, 0.0, 1e6,
                   "eligibility added by a pre-before-post pairing (weight unit)", NULL},
    [TF_A_MINUS] = {"A_minus", "w", 0.0105, 0.0, 1e6,
                    "eligibility removed by a post-before-pre pairing (weight unit)", NULL},
    [TF_TAU_PLUS] = {"tau_plus", "ms", 16.8, 1e-3, 1e6, "potentiation window time constant",
                     NULL},
    [TF_TAU_MINUS] = {"tau_minus", "ms", 33.7, 1e-3, 1e6, "depression window time constant",
                      NULL},
    [TF_TAU_E] = {"tau_e", "ms", 200.0, 0.0, 1e9,
                  "eligibility trace time constant; 0: no decay until delivery", NULL},
    [TF_ETA] = {"eta", "1", 1.0, 0.0, 1e6,
                "learning rate: dw = eta * M * e at each delivery of the modulator M", NULL},
    [TF_W_MIN] = {"w_min", "w", 0.0, -1e12, 1e12, "lower weight bound", NULL},
    [TF_W_MAX] = {"w_max", "w", 1.0, -1e12, 1e12, "upper weight bound", NULL},
    [TF_PAIRING] = {"pairing", "1", TF_ALL, 0, 1,
                    "which spikes pair: all earlier ones, or only the nearest", pairing_choices},
    [TF_ELIG] = {"eligibility", "1", TF_RESET, 0, 1,
                 "after a delivery: reset the traces to 0, or keep them decaying",
                 elig_choices},
};

typedef struct tf_consts {
    double a_plus, a_minus, eta, w_min, w_max;
    double k_e;             /* dt / tau_e (0: no decay) */
    double *decay;          /* decay[d] = exp(-d k_e), d < TF_TABLE */
    int reset;
    const double *x_pre, *y_post;
    size_t n_arr;           /* 1 (dense) or pj->n_parts */
    double **e;             /* eligibility beside each weight array */
    uint64_t **last;        /* step index of e's last update */
    double *m_post;         /* queued per-post factors [n_post] */
    int has_m_post, pending;
    double pending_M;
    size_t pending_step;
} tf_consts;

static void three_factor_release(snn_rule *r)
{
    tf_consts *c = r->consts;
    if (!c)
        return;
    for (size_t a = 0; c->e && a < c->n_arr; a++)
        free(c->e[a]);
    for (size_t a = 0; c->last && a < c->n_arr; a++)
        free(c->last[a]);
    free(c->e);
    free(c->last);
    free(c->m_post);
    free(c->decay);
    c->decay = NULL;
    c->e = NULL;
    c->last = NULL;
    c->m_post = NULL;
}

static size_t arr_len(const snn_proj *pj, size_t a)
{
    return pj->dense ? pj->pre->n * pj->post->n : pj->parts[a].nnz;
}

static int three_factor_prepare(snn_rule *r, snn_proj *pj, double dt_ms, snn_err *err)
{
    const double *par = r->par;
    tf_consts *c = r->consts;
    if (!(par[TF_W_MIN] < par[TF_W_MAX]))
        SNN_FAIL(err, SNN_ECFG, "w_min = %g must be below w_max = %g", par[TF_W_MIN],
                 par[TF_W_MAX]);
    c->a_plus = par[TF_A_PLUS];
    c->a_minus = par[TF_A_MINUS];
    c->eta = par[TF_ETA];
    c->w_min = par[TF_W_MIN];
    c->w_max = par[TF_W_MAX];
    c->k_e = par[TF_TAU_E] > 0 ? dt_ms / par[TF_TAU_E] : 0.0;
    c->reset = lround(par[TF_ELIG]) == TF_RESET;
    snn_trace_mode mode = lround(par[TF_PAIRING]) == TF_NEAREST ? SNN_TRACE_SET : SNN_TRACE_ADD;
    size_t ip, iq;
    int rc = snn_pop_trace(pj->pre, par[TF_TAU_PLUS], mode, &ip, err);
    if (!rc)
        rc = snn_pop_trace(pj->post, par[TF_TAU_MINUS], mode, &iq, err);
    if (rc)
        return rc;
    c->x_pre = pj->pre->traces[ip].x;
    c->y_post = pj->post->traces[iq].x;
    c->n_arr = pj->dense ? 1 : pj->n_parts;
    c->e = calloc(c->n_arr ? c->n_arr : 1, sizeof *c->e);
    c->last = calloc(c->n_arr ? c->n_arr : 1, sizeof *c->last);
    c->m_post = calloc(pj->post->n ? pj->post->n : 1, sizeof(double));
    c->decay = malloc(TF_TABLE * sizeof(double));
    int ok = c->e && c->last && c->m_post && c->decay;
    for (size_t d = 0; ok && d < TF_TABLE; d++)
        c->decay[d] = exp(-(double)d * c->k_e);
    for (size_t a = 0; ok && a < c->n_arr; a++) {
        size_t n = arr_len(pj, a);
        c->e[a] = calloc(n ? n : 1, sizeof(double));
        c->last[a] = calloc(n ? n : 1, sizeof(uint64_t));
        ok = c->e[a] && c->last[a];
    }
    if (!ok)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the eligibility traces (%zu synapses)",
                 pj->dense ? pj->pre->n * pj->post->n : pj->nnz);
    return SNN_OK;
}

/* The weight array holding w (a pointer into it) and its offset. */
static size_t which_arr(const snn_proj *pj, const double *w, size_t *off)
{
    if (pj->dense) {
        *off = (size_t)(w - pj->w_dense);
        return 0;
    }
    uintptr_t p = (uintptr_t)w;
    for (size_t a = 0; a < pj->n_parts; a++) {
        uintptr_t b = (uintptr_t)pj->parts[a].w;
        if (p >= b && p < b + pj->parts[a].nnz * sizeof(double)) {
            *off = (size_t)(p - b) / sizeof(double);
            return a;
        }
    }
    *off = 0;
    return SIZE_MAX; /* not reached: the engine hands over its own arrays */
}

/* e decayed from step index `from` to `to` (unchanged if to <= from). */
static inline double decayed(const tf_consts *c, double e, uint64_t from, uint64_t to)
{
    if (c->k_e == 0.0 || to <= from || e == 0.0)
        return e;
    uint64_t d = to - from;
    return e * (d < TF_TABLE ? c->decay[d] : exp(-(double)d * c->k_e));
}

/* Pre spike in step `step`: depression of its row's eligibility. */
static void three_factor_on_pre(const snn_rule *r, const snn_proj *pj, uint32_t pre,
                                const uint32_t *post, double *w, size_t n, size_t step)
{
    const tf_consts *c = r->consts;
    size_t off, a = which_arr(pj, w, &off);
    if (a == SIZE_MAX)
        return;
    double *e = c->e[a] + off;
    uint64_t *last = c->last[a] + off, t = (uint64_t)step + 1;
    const double *y = c->y_post;
    for (size_t m = 0; m < n; m++) {
        e[m] = decayed(c, e[m], last[m], t) - c->a_minus * y[post[m]];
        last[m] = t;
    }
}

/* Post spike in step `step`: potentiation of its column's eligibility. */
static void three_factor_on_post(const snn_rule *r, const snn_proj *pj, uint32_t post,
                                 const uint32_t *pre, const size_t *pos, double *w, size_t n,
                                 size_t step)
{
    const tf_consts *c = r->consts;
    size_t off, a = which_arr(pj, w, &off);
    if (a == SIZE_MAX)
        return;
    double *e = c->e[a] + off;
    uint64_t *last = c->last[a] + off, t = (uint64_t)step + 1;
    const double *x = c->x_pre;
    for (size_t m = 0; m < n; m++) {
        size_t p = pos[m];
        e[p] = decayed(c, e[p], last[p], t) + c->a_plus * x[pre[m]];
        last[p] = t;
    }
}

static inline double clip(double w, double lo, double hi)
{
    return w < lo ? lo : (w > hi ? hi : w);
}

/* Delivery to every synapse; learn (NULL: all) restricts it to some posts. */
static void deliver(snn_proj *pj, tf_consts *c, double M, const double *m_post,
                    const uint8_t *learn, uint64_t t)
{
    size_t n_post = pj->post->n;
    for (size_t a = 0; a < c->n_arr; a++) {
        double *w = pj->dense ? pj->w_dense : pj->parts[a].w;
        const uint32_t *col = pj->dense ? NULL : pj->parts[a].col;
        double *e = c->e[a];
        uint64_t *last = c->last[a];
        size_t n = arr_len(pj, a);
        for (size_t q = 0; q < n; q++) {
            size_t j = col ? col[q] : q % n_post;
            double eq = decayed(c, e[q], last[q], t);
            if (!learn || learn[j]) {
                double f = m_post ? M * m_post[j] : M;
                double dw = c->eta * f * eq;
                if (dw != 0.0)
                    w[q] = clip(w[q] + dw, c->w_min, c->w_max);
            }
            e[q] = c->reset ? 0.0 : eq;
            last[q] = t;
        }
    }
}

static void three_factor_on_sample_end(const snn_rule *r, snn_proj *pj,
                                       const snn_sample_stats *st)
{
    tf_consts *c = r->consts;
    if (!c->pending)
        return;
    c->pending = 0;
    deliver(pj, c, c->pending_M, c->has_m_post ? c->m_post : NULL, st ? st->learn : NULL,
            (uint64_t)c->pending_step);
}

/* Copy e and its time stamps between the rule's arrays and flat arrays
   in canonical synapse order (snn_net_weights': pre-major, partitions in
   order within a row): to the flat ones, or back (`back`). */
static void canonical(const snn_proj *pj, tf_consts *c, double *e, uint64_t *last, bool back)
{
    size_t m = 0;
    for (size_t i = 0; i < pj->pre->n; i++)
        for (size_t a = 0; a < c->n_arr; a++) {
            size_t lo = pj->dense ? i * pj->post->n : pj->parts[a].row[i];
            size_t hi = pj->dense ? lo + pj->post->n : pj->parts[a].row[i + 1];
            for (size_t k = lo; k < hi; k++, m++)
                if (back) {
                    c->e[a][k] = e[m];
                    c->last[a][k] = last[m];
                } else {
                    e[m] = c->e[a][k];
                    last[m] = c->last[a][k];
                }
        }
}

/* Checkpoints: e and the step of its last update in canonical order (a
   network resumed with another thread count has other partitions), then a
   queued modulator. */
static int three_factor_state(snn_rule *r, snn_proj *pj, const snn_rule_io *io, snn_err *err)
{
    tf_consts *c = r->consts;
    size_t n = pj->dense ? pj->pre->n * pj->post->n : pj->nnz;
    double *e = malloc((n ? n : 1) * sizeof *e);
    uint64_t *last = malloc((n ? n : 1) * sizeof *last);
    int rc = SNN_OK;
    if (!e || !last)
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory saving the eligibility of '%s'",
                         pj->spec->name);
    if (!rc && !io->load)
        canonical(pj, c, e, last, false);
    if (!rc)
        rc = io->item(io->ud, "e", SNN_RULE_F64, e, n, err);
    if (!rc)
        rc = io->item(io->ud, "last", SNN_RULE_U64, last, n, err);
    if (!rc && io->load)
        canonical(pj, c, e, last, true);
    free(e);
    free(last);
    uint64_t head[3] = {(uint64_t)c->pending, (uint64_t)c->has_m_post, c->pending_step};
    if (!rc)
        rc = io->item(io->ud, "pending", SNN_RULE_U64, head, 3, err);
    if (!rc)
        rc = io->item(io->ud, "pending_M", SNN_RULE_F64, &c->pending_M, 1, err);
    if (!rc)
        rc = io->item(io->ud, "m_post", SNN_RULE_F64, c->m_post, pj->post->n, err);
    if (!rc && io->load) {
        c->pending = head[0] != 0;
        c->has_m_post = head[1] != 0;
        c->pending_step = (size_t)head[2];
    }
    return rc;
}

const snn_rule_type three_factor_type = {
    .name = "three_factor",
    .doc = "Reward/error-modulated pair STDP: pairings fill a per-synapse eligibility trace "
           "(decay tau_e); the weight changes by eta * M * e when a modulator M is delivered "
           "once per stimulus (rules/three_factor.h).",
    .params = three_factor_params,
    .n_params = TF_N_PARAMS,
    .consts_size = sizeof(tf_consts),
    .prepare = three_factor_prepare,
    .on_pre = three_factor_on_pre,
    .on_post = three_factor_on_post,
    .on_sample_end = three_factor_on_sample_end,
    .exact_times = false,
    .release = three_factor_release,
    .state = three_factor_state,
};

/* ---- modulator plumbing (three_factor.h) -------------------------------- */

bool snn_three_factor_is(const snn_proj *pj)
{
    return pj && pj->rule && pj->rule->type == &three_factor_type;
}

static int check(const snn_proj *pj, double M, snn_err *err)
{
    if (!snn_three_factor_is(pj))
        SNN_FAIL(err, SNN_ECFG, "projection '%s' does not use the three_factor rule",
                 pj && pj->spec ? pj->spec->name : "?");
    if (!isfinite(M))
        SNN_FAIL(err, SNN_ECFG, "projection '%s': modulator M = %g is not finite",
                 pj->spec ? pj->spec->name : "?", M);
    return SNN_OK;
}

int snn_three_factor_deliver(snn_proj *pj, double M, const double *m_post, size_t now_step,
                             snn_err *err)
{
    int rc = check(pj, M, err);
    if (rc)
        return rc;
    deliver(pj, pj->rule->consts, M, m_post, NULL, (uint64_t)now_step);
    return SNN_OK;
}

int snn_three_factor_set_modulator(snn_proj *pj, double M, const double *m_post,
                                   size_t now_step, snn_err *err)
{
    int rc = check(pj, M, err);
    if (rc)
        return rc;
    tf_consts *c = pj->rule->consts;
    c->pending = 1;
    c->pending_M = M;
    c->pending_step = now_step;
    c->has_m_post = m_post != NULL;
    if (m_post)
        memcpy(c->m_post, m_post, pj->post->n * sizeof(double));
    return SNN_OK;
}

int snn_three_factor_eligibility(const snn_proj *pj, size_t now_step, double *e, snn_err *err)
{
    int rc = check(pj, 0.0, err);
    if (rc)
        return rc;
    const tf_consts *c = pj->rule->consts;
    uint64_t t = (uint64_t)now_step;
    if (pj->dense) {
        size_t n = pj->pre->n * pj->post->n;
        for (size_t q = 0; q < n; q++)
            e[q] = decayed(c, c->e[0][q], c->last[0][q], t);
        return SNN_OK;
    }
    size_t m = 0;
    for (size_t i = 0; i < pj->pre->n; i++)
        for (size_t a = 0; a < pj->n_parts; a++)
            for (size_t k = pj->parts[a].row[i]; k < pj->parts[a].row[i + 1]; k++)
                e[m++] = decayed(c, c->e[a][k], c->last[a][k], t);
    return SNN_OK;
}
