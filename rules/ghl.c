/*
 * rules/ghl.c: global-guided Hebbian learning on plain arrays and pruning
 * of the weakest weights (rules/ghl.h has the equations, the identity
 * between per-neuron and per-synapse signs, and the units).
 *
 * Layout: W is pre-major [n_in × n_out].  Without top_frac the update runs
 * row by row (contiguous in j; whole rows with learner flags when at least
 * a quarter of the layer learns, else the listed learners), rows split
 * across OpenMP threads.  With top_frac each learner's column is formed in
 * a per-thread scratch, the m-th largest |Δw| found by quickselect
 * (gsl_stats_select), and the synapses above it (ties: lower index first)
 * written back, learners split across threads.  Each synapse is written by
 * one thread from values that do not depend on the split, and the counters
 * are integer sums, so the result is bit-identical for any thread count.
 * snn_ghl_update does not allocate.  Winners are ranked with qsort on
 * (value, index), so ties go to the lower index.
 */
#include "ghl.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

/* A value and its index; ranked by value, descending, then index. */
typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int by_value_desc(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v > b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

struct snn_ghl {
    snn_ghl_opts o;
    size_t n_in, n_out;
    double *a;          /* competition factors [n_out] */
    ranked *rank;       /* [n_out] for choosing the k winners */
    uint8_t *is_learner;/* [n_out] */
    uint8_t *ones;      /* [n_out] of 1: the mask row when there is none */
    size_t *learners;   /* ascending [n_learn] */
    size_t n_learn;
    size_t m_keep;      /* synapses kept per learner (top_frac) */
    int n_scratch;      /* per-thread scratches for top_frac */
    double *dw, *mag;   /* [n_scratch × n_in] */
};

static const char *const mode_names[] = {"none", "direction", "gate", NULL};
static const char *const sign_names[] = {"neuron", "synapse", NULL};
static const char *const decay_names[] = {"guided", "local", NULL};

void snn_ghl_opts_default(snn_ghl_opts *o)
{
    *o = (snn_ghl_opts){.eta = 1e-3, .k = 0, .temperature = 0.0, .mode = SNN_GHL_DIRECTION,
                        .sign = SNN_GHL_SIGN_NEURON, .mix = 1.0, .top_frac = 1.0,
                        .decay = SNN_GHL_DECAY_GUIDED};
}

int snn_ghl_opts_check(const snn_ghl_opts *o, snn_err *err)
{
    if (!(o->eta >= 0.0 && isfinite(o->eta)))
        SNN_FAIL(err, SNN_ECFG, "ghl: eta = %g must be finite and >= 0", o->eta);
    if (!(o->temperature >= 0.0 && isfinite(o->temperature)))
        SNN_FAIL(err, SNN_ECFG, "ghl: temperature = %g must be finite and >= 0 (0: hard "
                 "competition)", o->temperature);
    if (o->mode < SNN_GHL_NONE || o->mode > SNN_GHL_GATE)
        SNN_FAIL(err, SNN_ECFG, "ghl: mode = %d is not one of none, direction, gate", o->mode);
    if (o->sign != SNN_GHL_SIGN_NEURON && o->sign != SNN_GHL_SIGN_SYNAPSE)
        SNN_FAIL(err, SNN_ECFG, "ghl: sign = %d is not one of neuron, synapse", o->sign);
    if (!(o->mix >= 0.0 && o->mix <= 1.0))
        SNN_FAIL(err, SNN_ECFG, "ghl: mix = %g is outside [0, 1]", o->mix);
    if (!(o->top_frac > 0.0 && o->top_frac <= 1.0))
        SNN_FAIL(err, SNN_ECFG, "ghl: top_frac = %g is outside (0, 1]", o->top_frac);
    if (o->decay != SNN_GHL_DECAY_GUIDED && o->decay != SNN_GHL_DECAY_LOCAL)
        SNN_FAIL(err, SNN_ECFG, "ghl: decay = %d is not one of guided, local", o->decay);
    return SNN_OK;
}

const char *snn_ghl_mode_name(int mode)
{
    return mode >= 0 && mode <= SNN_GHL_GATE ? mode_names[mode] : "?";
}

const char *snn_ghl_sign_name(int sign)
{
    return sign >= 0 && sign <= SNN_GHL_SIGN_SYNAPSE ? sign_names[sign] : "?";
}

const char *snn_ghl_decay_name(int decay)
{
    return decay >= 0 && decay <= SNN_GHL_DECAY_LOCAL ? decay_names[decay] : "?";
}

int snn_ghl_choice(const char *key, const char *name, int *value, snn_err *err)
{
    const char *const *list = strcmp(key, "mode") == 0    ? mode_names
                              : strcmp(key, "sign") == 0  ? sign_names
                              : strcmp(key, "decay") == 0 ? decay_names
                                                          : NULL;
    if (!list)
        SNN_FAIL(err, SNN_ECFG, "ghl: no choice key '%s' (mode, sign, decay)", key);
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0) {
            *value = i;
            return SNN_OK;
        }
    SNN_FAIL(err, SNN_ECFG, "ghl: %s = \"%s\" is not one of %s%s%s%s%s", key, name, list[0],
             list[1] ? ", " : "", list[1] ? list[1] : "", list[2] ? ", " : "",
             list[2] ? list[2] : "");
}

void snn_ghl_free(snn_ghl *g)
{
    if (!g)
        return;
    free(g->a);
    free(g->rank);
    free(g->is_learner);
    free(g->ones);
    free(g->learners);
    free(g->dw);
    free(g->mag);
    free(g);
}

int snn_ghl_alloc(snn_ghl **out, size_t n_in, size_t n_out, const snn_ghl_opts *o,
                  snn_err *err)
{
    *out = NULL;
    int rc = snn_ghl_opts_check(o, err);
    if (rc)
        return rc;
    if (n_in == 0 || n_out == 0)
        SNN_FAIL(err, SNN_ECFG, "ghl: the layer needs n_in >= 1 and n_out >= 1 (got %zu × %zu)",
                 n_in, n_out);
    if (o->k > n_out)
        SNN_FAIL(err, SNN_ECFG, "ghl: k = %zu winners, but the layer has %zu neurons", o->k,
                 n_out);
    snn_ghl *g = calloc(1, sizeof *g);
    if (!g)
        SNN_FAIL(err, SNN_ENOMEM, "ghl: out of memory");
    g->o = *o;
    g->n_in = n_in;
    g->n_out = n_out;
    g->m_keep = (size_t)ceil(o->top_frac * (double)n_in);
    if (g->m_keep < 1)
        g->m_keep = 1;
    if (g->m_keep > n_in)
        g->m_keep = n_in;
    g->n_scratch = g->m_keep < n_in ? omp_get_max_threads() : 0;
    size_t ns = (size_t)g->n_scratch;
    g->a = calloc(n_out, sizeof(double));
    g->rank = calloc(n_out, sizeof(ranked));
    g->is_learner = calloc(n_out, 1);
    g->ones = malloc(n_out);
    if (g->ones)
        memset(g->ones, 1, n_out);
    g->learners = calloc(n_out, sizeof(size_t));
    int ok = g->a && g->rank && g->ones && g->is_learner && g->learners;
    if (ns) {
        g->dw = calloc(ns * n_in, sizeof(double));
        g->mag = calloc(ns * n_in, sizeof(double));
        ok = ok && g->dw && g->mag;
    }
    if (!ok) {
        snn_ghl_free(g);
        SNN_FAIL(err, SNN_ENOMEM, "ghl: out of memory (%zu × %zu layer)", n_in, n_out);
    }
    *out = g;
    return SNN_OK;
}

const snn_ghl_opts *snn_ghl_options(const snn_ghl *g)
{
    return &g->o;
}

const double *snn_ghl_factors(const snn_ghl *g)
{
    return g->a;
}

static inline int sgn(double v)
{
    return (v > 0.0) - (v < 0.0);
}

/* Learners and their factors a_j (see ghl.h, Competition). */
static void compete(snn_ghl *g, const double *y)
{
    size_t n = g->n_out, k = g->o.k;
    double T = g->o.temperature;
    memset(g->is_learner, 0, n);
    if (k == 0 || k == n) {
        memset(g->is_learner, 1, n);
    } else {
        for (size_t j = 0; j < n; j++)
            g->rank[j] = (ranked){y[j], j};
        qsort(g->rank, n, sizeof(ranked), by_value_desc);
        for (size_t q = 0; q < k; q++)
            g->is_learner[g->rank[q].i] = 1;
    }
    g->n_learn = 0;
    double ymax = -INFINITY;
    for (size_t j = 0; j < n; j++) {
        g->a[j] = 0.0;
        if (g->is_learner[j]) {
            g->learners[g->n_learn++] = j;
            if (y[j] > ymax)
                ymax = y[j];
        }
    }
    if (T > 0.0) {
        double z = 0.0;
        for (size_t q = 0; q < g->n_learn; q++) {
            size_t j = g->learners[q];
            g->a[j] = exp((y[j] - ymax) / T);
            z += g->a[j];
        }
        for (size_t q = 0; q < g->n_learn; q++)
            g->a[g->learners[q]] /= z;
    } else {
        for (size_t q = 0; q < g->n_learn; q++)
            g->a[g->learners[q]] = y[g->learners[q]];
    }
}

/* Counters of one kernel call. */
typedef struct tally {
    uint64_t loc, rev, gat;
} tally;

/*
 * The per-synapse arithmetic of ghl.h, written branch-free so the row loops
 * vectorise: dg = -sgn(g)|dl| (direction) or agree ? dl : 0 (gate), and
 * Δw = (1 - mix) dl + mix dg for both guided modes (mix = 1 gives dg, mix =
 * 0 gives dl, up to the sign of a zero).
 */
typedef struct kern {
    int mode;              /* SNN_GHL_*, or one of the two below */
    double eta, mix, lmix; /* lmix = 1 - mix */
} kern;

/* Kernel modes for decay "local": the global sign steers only the Hebbian
   term h = eta a_j x_i; Oja's decay term d = eta a_j y_j w_ij is applied as
   is (ghl.h, Stability). */
enum { K_DIRECTION_LOCAL = SNN_GHL_GATE + 1, K_GATE_LOCAL };

/* One row i over the learners (list L of n, or all n_out when L is NULL);
   mi: the row's mask (all ones without a mask).  Inlined at both call
   sites, so the L == NULL copy is a contiguous loop. */
static inline __attribute__((always_inline)) void
row_update(const kern *k, size_t n, const size_t *L, const uint8_t *learn, const double *a,
           const double *y, double xi, const double *gr, const uint8_t *mi, double *wi, tally *t)
{
    uint32_t nl = 0, nr = 0, ng = 0; /* per row: n_out < 2^32 */
    double eta = k->eta, cl = k->lmix, cg = k->mix;
    switch (k->mode) {
    case SNN_GHL_NONE:
        for (size_t q = 0; q < n; q++) {
            size_t j = L ? L[q] : q;
            int on = learn[j] & mi[j];
            double w = wi[j];
            double dl = eta * a[j] * (xi - y[j] * w);
            nl += on & (dl != 0.0);
            wi[j] = on ? w + dl : w;
        }
        break;
    case SNN_GHL_DIRECTION:
        for (size_t q = 0; q < n; q++) {
            size_t j = L ? L[q] : q;
            int on = learn[j] & mi[j];
            double w = wi[j], gj = gr[j];
            double dl = eta * a[j] * (xi - y[j] * w);
            int up = dl > 0.0, down = dl < 0.0, gp = gj > 0.0, gn = gj < 0.0;
            double dg = (double)(gn - gp) * fabs(dl); /* -sgn(g)|dl|; 0 for g = 0 */
            nl += on & (up | down);
            nr += on & ((up & gp) | (down & gn));
            ng += on & (!(gp | gn)) & (up | down);
            double d = cl * dl + cg * dg;
            wi[j] = on ? w + d : w;
        }
        break;
    case SNN_GHL_GATE:
        for (size_t q = 0; q < n; q++) {
            size_t j = L ? L[q] : q;
            int on = learn[j] & mi[j];
            double w = wi[j], gj = gr[j];
            double dl = eta * a[j] * (xi - y[j] * w);
            int up = dl > 0.0, down = dl < 0.0;
            int agree = (up & (gj < 0.0)) | (down & (gj > 0.0));
            double dg = agree ? dl : 0.0;
            nl += on & (up | down);
            ng += on & (!agree) & (up | down);
            double d = cl * dl + cg * dg;
            wi[j] = on ? w + d : w;
        }
        break;
    case K_DIRECTION_LOCAL:
        for (size_t q = 0; q < n; q++) {
            size_t j = L ? L[q] : q;
            int on = learn[j] & mi[j];
            double w = wi[j], gj = gr[j];
            double dl = eta * a[j] * (xi - y[j] * w);
            double h = eta * a[j] * xi, dec = eta * a[j] * (y[j] * w);
            int hu = h > 0.0, hd = h < 0.0, gp = gj > 0.0, gn = gj < 0.0;
            double dg = (double)(gn - gp) * fabs(h) - dec; /* -sgn(g)|h| - d */
            nl += on & (dl != 0.0);
            nr += on & ((hu & gp) | (hd & gn));
            ng += on & (!(gp | gn)) & (hu | hd);
            double d = cl * dl + cg * dg;
            wi[j] = on ? w + d : w;
        }
        break;
    default: /* K_GATE_LOCAL */
        for (size_t q = 0; q < n; q++) {
            size_t j = L ? L[q] : q;
            int on = learn[j] & mi[j];
            double w = wi[j], gj = gr[j];
            double dl = eta * a[j] * (xi - y[j] * w);
            double h = eta * a[j] * xi, dec = eta * a[j] * (y[j] * w);
            int hu = h > 0.0, hd = h < 0.0;
            int agree = (hu & (gj < 0.0)) | (hd & (gj > 0.0));
            double dg = (agree ? h : 0.0) - dec;
            nl += on & (dl != 0.0);
            ng += on & (!agree) & (hu | hd);
            double d = cl * dl + cg * dg;
            wi[j] = on ? w + d : w;
        }
        break;
    }
    t->loc += nl;
    t->rev += nr;
    t->gat += ng;
}

/* Δw of synapse (i, j) (scalar form of row_update, for top_frac columns):
   dl = eta a_j (x_i - y_j w_ij), and for decay "local" its Hebbian term h =
   eta a_j x_i and decay term dec = eta a_j y_j w_ij. */
static inline double syn_update(const kern *k, double dl, double h, double dec, double gj,
                                tally *t)
{
    int up = dl > 0.0, down = dl < 0.0, gp = gj > 0.0, gn = gj < 0.0;
    int hu = h > 0.0, hd = h < 0.0;
    t->loc += up | down;
    double dg;
    switch (k->mode) {
    case SNN_GHL_NONE:
        return dl;
    case SNN_GHL_DIRECTION:
        dg = (double)(gn - gp) * fabs(dl);
        t->rev += (up & gp) | (down & gn);
        t->gat += (!(gp | gn)) & (up | down);
        break;
    case SNN_GHL_GATE: {
        int agree = (up & gn) | (down & gp);
        dg = agree ? dl : 0.0;
        t->gat += (!agree) & (up | down);
        break;
    }
    case K_DIRECTION_LOCAL:
        dg = (double)(gn - gp) * fabs(h) - dec;
        t->rev += (hu & gp) | (hd & gn);
        t->gat += (!(gp | gn)) & (hu | hd);
        break;
    default: { /* K_GATE_LOCAL */
        int agree = (hu & gn) | (hd & gp);
        dg = (agree ? h : 0.0) - dec;
        t->gat += (!agree) & (hu | hd);
        break;
    }
    }
    return k->lmix * dl + k->mix * dg;
}

int snn_ghl_update(snn_ghl *g, const double *x, const double *y, const double *grad,
                   const uint8_t *mask, double *W, snn_ghl_counts *cnt, snn_err *err)
{
    const snn_ghl_opts *o = &g->o;
    if (o->mode != SNN_GHL_NONE && !grad)
        SNN_FAIL(err, SNN_EINTERNAL, "ghl: mode %s needs the global gradient",
                 snn_ghl_mode_name(o->mode));
    compete(g, y);
    size_t n_in = g->n_in, n_out = g->n_out, nl = g->n_learn;
    const size_t *L = g->learners;
    const double *a = g->a;
    const uint8_t *learn = g->is_learner;
    int km = o->mode;
    if (o->decay == SNN_GHL_DECAY_LOCAL && km == SNN_GHL_DIRECTION)
        km = K_DIRECTION_LOCAL;
    else if (o->decay == SNN_GHL_DECAY_LOCAL && km == SNN_GHL_GATE)
        km = K_GATE_LOCAL;
    kern k = {km, o->eta, o->mix, 1.0 - o->mix};
    int per_syn = o->sign == SNN_GHL_SIGN_SYNAPSE;
    uint64_t n_loc = 0, n_rev = 0, n_gat = 0, n_drop = 0;
    int big = n_in * nl > 65536;

    if (g->m_keep >= n_in) {
        /* Many learners: sweep whole rows (contiguous, vectorised) and let
           the learner flags select; few: only the listed columns. */
        const size_t *list = 4 * nl >= n_out ? NULL : L;
        size_t n = list ? nl : n_out;
#pragma omp parallel for schedule(static) reduction(+ : n_loc, n_rev, n_gat) if (big)
        for (size_t i = 0; i < n_in; i++) {
            tally t = {0, 0, 0};
            const double *gr = grad && per_syn ? grad + i * n_out : grad;
            const uint8_t *mi = mask ? mask + i * n_out : g->ones;
            if (list)
                row_update(&k, n, list, learn, a, y, x[i], gr, mi, W + i * n_out, &t);
            else
                row_update(&k, n, NULL, learn, a, y, x[i], gr, mi, W + i * n_out, &t);
            n_loc += t.loc;
            n_rev += t.rev;
            n_gat += t.gat;
        }
    } else {
        /* top_frac: per learner, the column's Δw, the m-th largest |Δw| by
           quickselect (gsl_stats_select), then the synapses above it and,
           among those equal to it, the lowest indices. */
        size_t m = g->m_keep;
#pragma omp parallel for num_threads(g->n_scratch) schedule(static)                        \
    reduction(+ : n_loc, n_rev, n_gat, n_drop) if (big)
        for (size_t q = 0; q < nl; q++) {
            size_t tid = (size_t)omp_get_thread_num();
            double *dw = g->dw + tid * n_in, *mag = g->mag + tid * n_in;
            size_t j = L[q];
            tally t = {0, 0, 0};
            uint64_t nz = 0;
            for (size_t i = 0; i < n_in; i++) {
                size_t p = i * n_out + j;
                dw[i] = 0.0;
                if (mask && !mask[p])
                    continue;
                double dl = k.eta * a[j] * (x[i] - y[j] * W[p]);
                double h = k.eta * a[j] * x[i], dec = k.eta * a[j] * (y[j] * W[p]);
                double gj = k.mode == SNN_GHL_NONE ? 0.0 : (per_syn ? grad[p] : grad[j]);
                dw[i] = syn_update(&k, dl, h, dec, gj, &t);
                nz += dw[i] != 0.0;
            }
            for (size_t i = 0; i < n_in; i++)
                mag[i] = fabs(dw[i]);
            double thr = gsl_stats_select(mag, 1, n_in, n_in - m);
            size_t above = 0;
            for (size_t i = 0; i < n_in; i++)
                above += fabs(dw[i]) > thr;
            size_t ties = m - above, kept = 0;
            for (size_t i = 0; i < n_in; i++) {
                double v = fabs(dw[i]);
                int keep = v > thr || (v == thr && ties > 0);
                if (v == thr && keep)
                    ties--;
                if (keep) {
                    kept += dw[i] != 0.0;
                    W[i * n_out + j] += dw[i];
                }
            }
            n_drop += nz - kept;
            n_loc += t.loc;
            n_rev += t.rev;
            n_gat += t.gat;
        }
    }
    if (cnt) {
        cnt->stimuli++;
        cnt->local += n_loc;
        cnt->reversed += n_rev;
        cnt->gated += n_gat;
        cnt->dropped += n_drop;
    }
    return SNN_OK;
}

void snn_ghl_synapse_grad(size_t n_in, size_t n_out, const double *x, const double *fprime,
                          const double *gy, double *G)
{
    for (size_t i = 0; i < n_in; i++)
        for (size_t j = 0; j < n_out; j++)
            G[i * n_out + j] = x[i] * (fprime ? fprime[j] * gy[j] : gy[j]);
}

/* ---- pruning ------------------------------------------------------------ */

/* Prune the m entries v[q·stride] (keys key[q]: |w|, or -1 for an already
   pruned entry) of one group: the cnt smallest keys, ties lower q first. */
static void prune_group(double *W, uint8_t *mask, size_t m, size_t stride, size_t cnt,
                        double *key, double *sorted)
{
    memcpy(sorted, key, m * sizeof(double));
    gsl_sort(sorted, 1, m);
    double thr = cnt ? sorted[cnt - 1] : -INFINITY;
    size_t below = 0;
    for (size_t q = 0; q < m; q++)
        below += key[q] < thr;
    size_t ties = cnt > below ? cnt - below : 0;
    for (size_t q = 0; q < m; q++) {
        size_t p = q * stride;
        int prune = key[q] < 0.0 || key[q] < thr;
        if (!prune && cnt && key[q] == thr && ties) {
            prune = 1;
            ties--;
        }
        mask[p] = !prune;
        if (prune)
            W[p] = 0.0;
    }
}

int snn_prune_weakest(double *W, size_t n_in, size_t n_out, double frac, int per_target,
                      int keep_mask, uint8_t *mask, size_t *n_pruned, snn_err *err)
{
    if (!(frac >= 0.0 && frac <= 1.0))
        SNN_FAIL(err, SNN_ECFG, "prune: fraction = %g is outside [0, 1]", frac);
    size_t m = per_target ? n_in : n_in * n_out, stride = per_target ? n_out : 1;
    size_t groups = per_target ? n_out : 1;
    double *key = malloc((m ? m : 1) * sizeof(double));
    double *sorted = malloc((m ? m : 1) * sizeof(double));
    if (!key || !sorted) {
        free(key);
        free(sorted);
        SNN_FAIL(err, SNN_ENOMEM, "prune: out of memory (%zu weights)", m);
    }
    size_t cnt = (size_t)floor(frac * (double)m);
    for (size_t gq = 0; gq < groups; gq++) {
        double *Wg = W + (per_target ? gq : 0);
        uint8_t *Mg = mask + (per_target ? gq : 0);
        for (size_t q = 0; q < m; q++) {
            size_t p = q * stride;
            key[q] = keep_mask && !Mg[p] ? -1.0 : fabs(Wg[p]);
        }
        prune_group(Wg, Mg, m, stride, cnt, key, sorted);
    }
    free(key);
    free(sorted);
    if (n_pruned) {
        size_t z = 0;
        for (size_t p = 0; p < n_in * n_out; p++)
            z += !mask[p];
        *n_pruned = z;
    }
    return SNN_OK;
}
