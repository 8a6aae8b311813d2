/*
 * sim/ghl_run.c: the alternating loop of global-guided Hebbian learning
 * (sim/ghl_run.h).
 */
#include "ghl_run.h"

#include <stdlib.h>
#include <string.h>

#include "../rules/ghl.h"
#include "state.h"
#include "../rules/readout.h"
#include "../rules/three_factor.h"

enum { N_CLASSES = 10 };

struct snn_ghl_run {
    snn_net *net;
    snn_proj *pj;
    snn_ghl_opts o;
    int tf;                 /* rule three_factor (else ghl) */
    int modulator;          /* SNN_GUIDED_MOD_* (three_factor) */
    int interleave;         /* schedule interleave (ghl) */
    double *m;              /* three_factor: m_post [n_post] */
    uint64_t n_mod;         /* modulators delivered */
    unsigned B, steps;
    size_t n_pre, n_post;
    snn_readout *ro;
    int fitted;
    uint32_t key;           /* readout steps taken (Poisson stream key) */
    /* the mini-batch being collected */
    size_t nb, last_nb;
    double present_ms;
    uint32_t *pre, *post;   /* [B × n_pre], [B × n_post] */
    uint8_t *lab;           /* [B] */
    double *X, *dX;         /* [B × n_post] */
    double *G, *x;          /* sign synapse: [n_pre × n_post], rates [n_pre] */
    uint64_t seen;
    /* per mini-batch records, capacity cap */
    size_t M, cap;
    uint64_t *r_samples, *r_local, *r_reversed, *r_gated;
    double *r_loss, *r_acc;
};

void snn_ghl_run_free(snn_ghl_run *g)
{
    if (!g)
        return;
    snn_readout_free(g->ro);
    free(g->pre);
    free(g->post);
    free(g->lab);
    free(g->X);
    free(g->dX);
    free(g->G);
    free(g->x);
    free(g->m);
    free(g->r_samples);
    free(g->r_local);
    free(g->r_reversed);
    free(g->r_gated);
    free(g->r_loss);
    free(g->r_acc);
    free(g);
}

int snn_ghl_run_create(snn_ghl_run **out, snn_net *net, snn_err *err)
{
    const snn_spec *sp = net->spec;
    const snn_guided_spec *gu = &sp->guided;
    *out = NULL;
    if (!gu->on || gu->proj >= net->n_projs)
        SNN_FAIL(err, SNN_EINTERNAL, "guided learning without a `guided` group");
    snn_ghl_run *g = calloc(1, sizeof *g);
    if (!g)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for guided learning");
    g->net = net;
    g->pj = &net->projs[gu->proj];
    snn_err e2;
    g->tf = snn_three_factor_is(g->pj);
    snn_ghl_opts_default(&g->o);
    g->o.mode = SNN_GHL_NONE;
    if (!g->tf && snn_ghl_rule_opts(g->pj, &g->o, &e2)) {
        snn_ghl_run_free(g);
        SNN_FAIL(err, SNN_ECFG, "guided.projection = \"%s\" must use plasticity rule \"ghl\" "
                 "or \"three_factor\"", sp->projs[gu->proj].name);
    }
    g->modulator = gu->modulator;
    g->interleave = gu->schedule == SNN_GUIDED_INTERLEAVE;
    g->B = gu->batch;
    g->steps = gu->readout_steps;
    g->n_pre = g->pj->pre->n;
    g->n_post = g->pj->post->n;
    for (size_t f = 0; f < sp->n_phases; f++)
        if (sp->phases[f].plastic)
            g->cap += (sp->phases[f].samples + g->B - 1) / g->B;
    size_t B = g->B, np = g->n_pre, nq = g->n_post, cap = g->cap ? g->cap : 1;
    g->pre = malloc(B * np * sizeof *g->pre + 1);
    g->post = malloc(B * nq * sizeof *g->post + 1);
    g->lab = malloc(B + 1);
    g->X = malloc(B * nq * sizeof *g->X + 1);
    g->dX = calloc(B * nq + 1, sizeof *g->dX);
    if (g->tf)
        g->m = malloc(nq * sizeof *g->m + 1);
    if (g->o.sign == SNN_GHL_SIGN_SYNAPSE) {
        g->G = malloc(np * nq * sizeof *g->G + 1);
        g->x = malloc(np * sizeof *g->x + 1);
    }
    g->r_samples = malloc(cap * sizeof(uint64_t));
    g->r_local = malloc(cap * sizeof(uint64_t));
    g->r_reversed = malloc(cap * sizeof(uint64_t));
    g->r_gated = malloc(cap * sizeof(uint64_t));
    g->r_loss = malloc(cap * sizeof(double));
    g->r_acc = malloc(cap * sizeof(double));
    if (!g->pre || !g->post || !g->lab || !g->X || !g->dX ||
        (g->o.sign == SNN_GHL_SIGN_SYNAPSE && (!g->G || !g->x)) || (g->tf && !g->m) ||
        !g->r_samples ||
        !g->r_local || !g->r_reversed || !g->r_gated || !g->r_loss || !g->r_acc) {
        snn_ghl_run_free(g);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for guided learning (batch %u)", g->B);
    }
    int rc = snn_readout_create(&g->ro, &sp->readout.cfg, nq, N_CLASSES, err);
    if (rc) {
        snn_ghl_run_free(g);
        return rc;
    }
    *out = g;
    return SNN_OK;
}

/* One sample's guided update from its gradient dx = dL/dX [n_post]. */
static int guided_update(snn_ghl_run *g, const uint32_t *pre, const uint32_t *post,
                         const double *dx, snn_err *err)
{
    const double *gs = dx;
    if (g->o.sign == SNN_GHL_SIGN_SYNAPSE) {
        double hz = 1000.0 / g->present_ms;
        for (size_t i = 0; i < g->n_pre; i++)
            g->x[i] = (double)pre[i] * hz;
        snn_ghl_synapse_grad(g->n_pre, g->n_post, g->x, NULL, dx, g->G);
        gs = g->G;
    }
    return snn_ghl_rule_apply(g->pj, pre, post, g->present_ms, gs, err);
}

/* Steps 2 and 3 on the collected mini-batch. */
static int flush(snn_ghl_run *g, snn_err *err)
{
    size_t nb = g->nb, nq = g->n_post, np = g->n_pre;
    for (size_t k = 0; k < nb * nq; k++)
        g->X[k] = (double)g->post[k];
    int rc = SNN_OK;
    if (!g->fitted) {
        if ((rc = snn_readout_fit_norm(g->ro, g->X, nb, err)))
            return rc;
        g->fitted = 1;
    }
    double loss = 0.0, acc = 0.0;
    for (unsigned k = 0; k < g->steps; k++) {
        double l, a;
        if ((rc = snn_readout_train_batch(g->ro, g->X, g->lab, nb, g->key++, &l, &a, err)))
            return rc;
        if (k == 0) {
            loss = l;
            acc = a;
        }
    }
    if (!g->tf && !g->interleave && g->o.mode != SNN_GHL_NONE) {
        double l;
        if ((rc = snn_readout_input_grad(g->ro, g->X, g->lab, nb, &l, NULL, g->dX, err)))
            return rc;
        if (g->steps == 0)
            loss = l;
        for (size_t s = 0; s < nb && !rc; s++)
            rc = guided_update(g, g->pre + s * np, g->post + s * nq, g->dX + s * nq, err);
        if (rc)
            return rc;
    }
    if (g->M >= g->cap)
        SNN_FAIL(err, SNN_EINTERNAL, "guided learning: more mini-batches than planned (%zu)",
                 g->cap);
    const snn_ghl_counts *cn = g->tf ? NULL : snn_ghl_rule_counts(g->pj);
    g->r_samples[g->M] = g->seen;
    g->r_loss[g->M] = loss;
    g->r_acc[g->M] = g->steps ? acc : 0.0;
    g->r_local[g->M] = cn ? cn->local : g->n_mod;
    g->r_reversed[g->M] = cn ? cn->reversed : 0;
    g->r_gated[g->M] = cn ? cn->gated : 0;
    g->M++;
    g->last_nb = nb;
    g->nb = 0;
    return SNN_OK;
}

int snn_ghl_run_on_sample(void *ud, size_t phase, size_t s, size_t n, unsigned label,
                          snn_proj *pj, const snn_sample_stats *st, snn_err *err)
{
    snn_ghl_run *g = ud;
    (void)phase;
    if (pj != g->pj)
        return SNN_OK;
    if (label >= N_CLASSES)
        SNN_FAIL(err, SNN_ECFG, "guided learning: label %u, the readout has %d classes", label,
                 N_CLASSES);
    size_t k = g->nb;
    memcpy(g->pre + k * g->n_pre, st->pre_counts, g->n_pre * sizeof(uint32_t));
    memcpy(g->post + k * g->n_post, st->post_counts, g->n_post * sizeof(uint32_t));
    g->lab[k] = (uint8_t)label;
    g->present_ms = st->present_ms;
    if (g->tf && g->fitted) {
        /* three_factor: this sample's modulator from the readout as it stands */
        double *x = g->X + k * g->n_post, *dx = g->dX + k * g->n_post, M = 1.0;
        for (size_t j = 0; j < g->n_post; j++)
            x[j] = (double)st->post_counts[j];
        int rc;
        const double *m_post = NULL;
        if (g->modulator == SNN_GUIDED_MOD_REWARD) {
            double acc;
            if ((rc = snn_readout_evaluate(g->ro, x, g->lab + k, 1, &acc, NULL, NULL, err)))
                return rc;
            M = acc > 0.5 ? 1.0 : -1.0;
        } else {
            if ((rc = snn_readout_input_grad(g->ro, x, g->lab + k, 1, NULL, NULL, dx, err)))
                return rc;
            for (size_t j = 0; j < g->n_post; j++)
                g->m[j] = (double)((dx[j] < 0) - (dx[j] > 0));
            m_post = g->m;
        }
        if ((rc = snn_three_factor_deliver(g->pj, M, m_post, g->net->step, err)))
            return rc;
        g->n_mod++;
    }
    if (!g->tf && g->interleave && g->fitted && g->o.mode != SNN_GHL_NONE) {
        /* interleave: this sample's guided update with the readout as it stands */
        double *x = g->X + k * g->n_post, *dx = g->dX + k * g->n_post;
        for (size_t j = 0; j < g->n_post; j++)
            x[j] = (double)st->post_counts[j];
        int rc = snn_readout_input_grad(g->ro, x, g->lab + k, 1, NULL, NULL, dx, err);
        if (!rc)
            rc = guided_update(g, st->pre_counts, st->post_counts, dx, err);
        if (rc)
            return rc;
    }
    g->nb++;
    g->seen++;
    if (g->nb == g->B || s + 1 == n)
        return flush(g, err);
    return SNN_OK;
}

int snn_ghl_run_write_h5(const snn_ghl_run *g, snn_h5 *h, snn_err *err)
{
    if (!h)
        return SNN_OK;
    char grp[SNN_NAME_MAX + 16], path[SNN_NAME_MAX + 48];
    snprintf(grp, sizeof grp, "/ghl/%s", g->pj->spec->name);
    struct {
        const char *name;
        const uint64_t *v;
    } u[] = {{"samples", g->r_samples},
             {"local", g->r_local},
             {"reversed", g->r_reversed},
             {"gated", g->r_gated}};
    int rc = SNN_OK;
    for (size_t q = 0; q < 4 && !rc; q++) {
        snprintf(path, sizeof path, "%s/%s", grp, u[q].name);
        rc = snn_h5_write_u64(h, path, u[q].v, g->M, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/loss", grp);
        rc = snn_h5_write_f64(h, path, g->r_loss, g->M, NULL, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/accuracy", grp);
        rc = snn_h5_write_f64(h, path, g->r_acc, g->M, NULL, err);
    }
    if (!rc)
        rc = snn_h5_attr_u64(h, grp, "batch", g->B, err);
    if (!rc)
        rc = snn_h5_attr_u64(h, grp, "readout_steps", g->steps, err);
    if (!rc)
        rc = snn_h5_attr_str(h, grp, "rule", g->tf ? "three_factor" : "ghl", err);
    if (!rc && g->tf)
        rc = snn_h5_attr_str(h, grp, "modulator",
                             g->modulator == SNN_GUIDED_MOD_REWARD ? "reward" : "sign", err);
    if (!rc && !g->tf)
        rc = snn_h5_attr_str(h, grp, "mode", snn_ghl_mode_name(g->o.mode), err);
    if (!rc && !g->tf)
        rc = snn_h5_attr_str(h, grp, "sign", snn_ghl_sign_name(g->o.sign), err);
    if (!rc && !g->tf)
        rc = snn_h5_attr_str(h, grp, "decay", snn_ghl_decay_name(g->o.decay), err);
    return rc;
}

size_t snn_ghl_run_batches(const snn_ghl_run *g)
{
    return g->M;
}

void snn_ghl_run_last(const snn_ghl_run *g, size_t *nb, const uint32_t **pre,
                      const uint32_t **post, const double **dX)
{
    *nb = g->last_nb;
    *pre = g->pre;
    *post = g->post;
    *dX = g->dX;
}

/*
 * Checkpoints (items under ghl/): the loop's counters, the mini-batch being
 * collected, the per-batch records so far and the guiding readout (its
 * whole learner state, rules/readout.h).  Taken between samples (the
 * protocol's checkpoints come after the sample's hook), so that a resumed
 * run continues the mini-batch where it stopped.
 *   ghl/head      uint64 [7]  fitted, key, nb, last_nb, seen, M, n_mod
 *   ghl/present   float64 [1] present_ms
 *   ghl/pre, ghl/post         uint32 [B × n_pre], [B × n_post]
 *   ghl/lab       uint8 [B]
 *   ghl/X, ghl/dX float64 [B × n_post]
 *   ghl/records/{samples,local,reversed,gated} uint64 [M]
 *   ghl/records/{loss,accuracy}                float64 [M]
 *   ghl/readout   uint8 [blob]
 */
typedef struct gio {
    const snn_state_io *io;
    int load;
    snn_err *err;
} gio;

static int gitem(gio *c, const char *name, snn_st_type t, void *v, size_t n)
{
    return snn_state_item(c->io, c->load, name, t, v, n, c->err);
}

static int ghl_items(snn_ghl_run *g, gio *c)
{
    uint64_t head[7] = {(uint64_t)g->fitted, g->key, g->nb, g->last_nb, g->seen, g->M, g->n_mod};
    int rc = gitem(c, "ghl/head", SNN_ST_U64, head, 7);
    if (rc)
        return rc;
    if (c->load) {
        if (head[2] >= g->B || head[3] > g->B || head[5] > g->cap || head[1] > UINT32_MAX)
            SNN_FAIL(c->err, SNN_ECFG, "checkpoint: guided learning state does not fit this run "
                     "(batch %llu of %u, %llu mini-batches of %zu)",
                     (unsigned long long)head[2], g->B, (unsigned long long)head[5], g->cap);
        g->fitted = head[0] != 0;
        g->key = (uint32_t)head[1];
        g->nb = (size_t)head[2];
        g->last_nb = (size_t)head[3];
        g->seen = head[4];
        g->M = (size_t)head[5];
        g->n_mod = head[6];
    }
    size_t B = g->B, np = g->n_pre, nq = g->n_post, M = g->M;
    if ((rc = gitem(c, "ghl/present", SNN_ST_F64, &g->present_ms, 1)) ||
        (rc = gitem(c, "ghl/pre", SNN_ST_U32, g->pre, B * np)) ||
        (rc = gitem(c, "ghl/post", SNN_ST_U32, g->post, B * nq)) ||
        (rc = gitem(c, "ghl/lab", SNN_ST_U8, g->lab, B)) ||
        (rc = gitem(c, "ghl/X", SNN_ST_F64, g->X, B * nq)) ||
        (rc = gitem(c, "ghl/dX", SNN_ST_F64, g->dX, B * nq)) ||
        (rc = gitem(c, "ghl/records/samples", SNN_ST_U64, g->r_samples, M)) ||
        (rc = gitem(c, "ghl/records/local", SNN_ST_U64, g->r_local, M)) ||
        (rc = gitem(c, "ghl/records/reversed", SNN_ST_U64, g->r_reversed, M)) ||
        (rc = gitem(c, "ghl/records/gated", SNN_ST_U64, g->r_gated, M)) ||
        (rc = gitem(c, "ghl/records/loss", SNN_ST_F64, g->r_loss, M)) ||
        (rc = gitem(c, "ghl/records/accuracy", SNN_ST_F64, g->r_acc, M)))
        return rc;
    size_t len = snn_readout_blob_size(g->ro);
    unsigned char *blob = malloc(len ? len : 1);
    if (!blob)
        SNN_FAIL(c->err, SNN_ENOMEM, "out of memory for the guiding readout's checkpoint");
    if (!c->load)
        rc = snn_readout_save(g->ro, blob, len, c->err);
    if (!rc)
        rc = gitem(c, "ghl/readout", SNN_ST_U8, blob, len);
    if (!rc && c->load)
        rc = snn_readout_load(g->ro, blob, len, c->err);
    free(blob);
    return rc;
}

int snn_ghl_run_save(const snn_ghl_run *g, const snn_state_io *io, snn_err *err)
{
    gio c = {io, 0, err};
    /* Saving only reads: the shared walker takes a non-const loop. */
    return ghl_items((snn_ghl_run *)g, &c);
}

int snn_ghl_run_load(snn_ghl_run *g, const snn_state_io *io, snn_err *err)
{
    gio c = {io, 1, err};
    return ghl_items(g, &c);
}
