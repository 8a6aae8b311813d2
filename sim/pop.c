/*
 * sim/pop.c: one population's storage: SoA state (64-byte aligned), refractory
 * counters, derived constants, one random stream per block, spike lists and
 * the input ring.  All of it is allocated here, none during the run.
 */
#include "pop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "rng.h"

static void *aligned_zalloc(size_t bytes)
{
    size_t sz = (bytes + 63) / 64 * 64;
    if (sz == 0)
        sz = 64;
    void *q = aligned_alloc(64, sz);
    if (q)
        memset(q, 0, sz);
    return q;
}

int snn_pop_spec_defaults(snn_pop_spec *s, const snn_model_type *type, size_t n,
                          const char *name, snn_err *err)
{
    memset(s, 0, sizeof *s);
    s->type = type;
    s->n = n;
    snprintf(s->name, sizeof s->name, "%s", name ? name : type->name);
    s->par = calloc(type->n_params ? type->n_params : 1, sizeof *s->par);
    s->init = calloc(type->n_state ? type->n_state : 1, sizeof *s->init);
    if (!s->par || !s->init) {
        snn_pop_spec_clear(s);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for population '%s'", s->name);
    }
    for (size_t i = 0; i < type->n_params; i++)
        s->par[i] = type->params[i].def;
    return SNN_OK;
}

void snn_pop_spec_clear(snn_pop_spec *s)
{
    if (!s)
        return;
    if (s->init && s->type)
        for (size_t i = 0; i < s->type->n_state; i++)
            free(s->init[i].values);
    free(s->init);
    free(s->par);
    free(s->spike_ids);
    free(s->spike_times_ms);
    s->init = NULL;
    s->par = NULL;
    s->spike_ids = NULL;
    s->spike_times_ms = NULL;
}

/* Draw the spec's initial value of state variable `v`. */
static int apply_init(snn_pop *p, size_t v, const snn_dist *d, uint64_t seed, snn_err *err)
{
    double *x = p->x[v];
    if (d->kind == SNN_DIST_NONE)
        return SNN_OK;
    if (d->kind == SNN_DIST_CONST) {
        for (size_t i = 0; i < p->n; i++)
            x[i] = d->a;
        return SNN_OK;
    }
    if (d->kind == SNN_DIST_ARRAY) {
        if (d->n_values != p->n)
            SNN_FAIL(err, SNN_ECFG, "population '%s': init of %s has %zu values for %zu neurons",
                     p->name, p->type->state[v], d->n_values, p->n);
        memcpy(x, d->values, p->n * sizeof *x);
        return SNN_OK;
    }
    /* Random: one stream per (population, variable, block). */
    for (size_t b = 0; b < p->n_blk; b++) {
        gsl_rng *r = snn_rng_alloc(seed, snn_rng_owner(SNN_RNG_INIT, (p->index << 8) | (uint32_t)v),
                                   (uint32_t)b);
        if (!r)
            SNN_FAIL(err, SNN_ENOMEM, "out of memory for population '%s'", p->name);
        for (size_t i = b * SNN_BLOCK; i < snn_blk_end(p, b); i++) {
            if (d->kind == SNN_DIST_UNIFORM) {
                x[i] = d->a + (d->b - d->a) * gsl_rng_uniform(r);
            } else {
                double y;
                do
                    y = d->a + gsl_ran_gaussian(r, d->b);
                while (y < d->lo || y > d->hi);
                x[i] = y;
            }
        }
        gsl_rng_free(r);
    }
    return SNN_OK;
}

int snn_pop_init(snn_pop *p, const snn_pop_spec *spec, uint32_t index, double dt_ms,
                 uint64_t seed, size_t ring_slots, snn_err *err)
{
    const snn_model_type *t = spec->type;
    memset(p, 0, sizeof *p);
    p->type = t;
    p->spec = spec;
    p->name = spec->name;
    p->index = index;
    p->n = spec->n;
    p->n_blk = (spec->n + SNN_BLOCK - 1) / SNN_BLOCK;
    p->dt_ms = dt_ms;
    p->par = spec->par;
    if (ring_slots < 1)
        ring_slots = 1;
    p->ring_slots = ring_slots;
    size_t nch = t->n_channels ? t->n_channels : 1;

    int ok = 1;
    p->consts = t->consts_size ? aligned_zalloc(t->consts_size) : NULL;
    ok &= !t->consts_size || p->consts != NULL;
    p->x = calloc(t->n_state ? t->n_state : 1, sizeof *p->x);
    ok &= p->x != NULL;
    for (size_t s = 0; ok && s < t->n_state; s++)
        ok &= (p->x[s] = aligned_zalloc(p->n * sizeof(double))) != NULL;
    p->refr = aligned_zalloc(p->n * sizeof(int32_t));
    p->ring = aligned_zalloc(ring_slots * nch * p->n * sizeof(double));
    p->spk = calloc(p->n_blk ? p->n_blk : 1, sizeof *p->spk);
    ok &= p->refr && p->ring && p->spk;
    for (size_t b = 0; ok && b < p->n_blk; b++) {
        size_t len = snn_blk_end(p, b) - b * SNN_BLOCK;
        p->spk[b].id = malloc(len * sizeof(uint32_t));
        p->spk[b].mult = malloc(len * sizeof(uint32_t));
        ok &= p->spk[b].id && p->spk[b].mult;
    }
    if (ok && t->random) {
        p->rng = calloc(p->n_blk ? p->n_blk : 1, sizeof *p->rng);
        ok &= p->rng != NULL;
        for (size_t b = 0; ok && b < p->n_blk; b++)
            ok &= (p->rng[b] = snn_rng_alloc(seed, snn_rng_owner(SNN_RNG_POP, index),
                                             (uint32_t)b)) != NULL;
    }
    if (!ok) {
        snn_pop_clear(p);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory building population '%s' (%zu neurons)",
                 spec->name, spec->n);
    }
    int rc = t->prepare ? t->prepare(p, dt_ms, err) : SNN_OK;
    if (rc) {
        char inner[sizeof err->msg];
        snprintf(inner, sizeof inner, "%s", err ? err->msg : "");
        snn_pop_clear(p);
        if (spec->where.line > 0)
            SNN_FAIL(err, rc, "%s:%d: population '%s' (model %s): %s", spec->where.file,
                     spec->where.line, spec->name, t->name, inner);
        SNN_FAIL(err, rc, "population '%s' (model %s): %s", spec->name, t->name, inner);
    }
    if (t->init)
        t->init(p);
    for (size_t s = 0; spec->init && s < t->n_state; s++) {
        rc = apply_init(p, s, &spec->init[s], seed, err);
        if (rc) {
            snn_pop_clear(p);
            return rc;
        }
    }
    return SNN_OK;
}

void snn_pop_clear(snn_pop *p)
{
    if (!p)
        return;
    if (p->type && p->type->release)
        p->type->release(p);
    if (p->x)
        for (size_t s = 0; s < p->type->n_state; s++)
            free(p->x[s]);
    free(p->x);
    if (p->spk)
        for (size_t b = 0; b < p->n_blk; b++) {
            free(p->spk[b].id);
            free(p->spk[b].mult);
        }
    free(p->spk);
    if (p->rng)
        for (size_t b = 0; b < p->n_blk; b++)
            gsl_rng_free(p->rng[b]);
    free(p->rng);
    for (size_t t = 0; p->traces && t < p->n_traces; t++)
        free(p->traces[t].x);
    free(p->traces);
    free(p->refr);
    free(p->ring);
    free(p->i_ext);
    free(p->consts);
    memset(p, 0, sizeof *p);
}

int snn_pop_enable_iext(snn_pop *p, snn_err *err)
{
    if (p->i_ext)
        return SNN_OK;
    p->i_ext = aligned_zalloc(p->n * sizeof(double));
    if (!p->i_ext)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the input current of '%s'", p->name);
    return SNN_OK;
}

int snn_pop_trace(snn_pop *p, double tau_ms, snn_trace_mode mode, size_t *index, snn_err *err)
{
    if (!(tau_ms > 0.0))
        SNN_FAIL(err, SNN_EMODEL, "population '%s': trace time constant %g ms must be positive",
                 p->name, tau_ms);
    for (size_t t = 0; t < p->n_traces; t++)
        if (p->traces[t].tau_ms == tau_ms && p->traces[t].mode == mode) {
            *index = t;
            return SNN_OK;
        }
    snn_trace *tr = realloc(p->traces, (p->n_traces + 1) * sizeof *tr);
    if (!tr)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the traces of '%s'", p->name);
    p->traces = tr;
    snn_trace *nt = &tr[p->n_traces];
    nt->tau_ms = tau_ms;
    nt->mode = mode;
    nt->decay = exp(-p->dt_ms / tau_ms);
    nt->x = aligned_zalloc(p->n * sizeof(double));
    if (!nt->x)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the traces of '%s'", p->name);
    *index = p->n_traces++;
    return SNN_OK;
}

/* Add the block's spikes of the previous step to its traces. */
static void traces_take(snn_pop *p, size_t blk)
{
    const snn_spikes *s = &p->spk[blk];
    for (size_t t = 0; t < p->n_traces; t++) {
        double *x = p->traces[t].x;
        if (p->traces[t].mode == SNN_TRACE_ADD)
            for (size_t m = 0; m < s->n; m++)
                x[s->id[m]] += (double)s->mult[m];
        else
            for (size_t m = 0; m < s->n; m++)
                x[s->id[m]] = 1.0;
    }
}

static void traces_decay(snn_pop *p, size_t blk)
{
    size_t i0 = blk * SNN_BLOCK, i1 = snn_blk_end(p, blk);
    for (size_t t = 0; t < p->n_traces; t++) {
        double *restrict x = p->traces[t].x;
        const double d = p->traces[t].decay;
        for (size_t i = i0; i < i1; i++)
            x[i] *= d;
    }
}

void snn_pop_step_block(snn_pop *p, size_t blk, size_t slot, size_t step)
{
    const snn_model_type *t = p->type;
    size_t i0 = blk * SNN_BLOCK;
    if (p->n_traces)
        traces_take(p, blk);
    snn_input in;
    memset(&in, 0, sizeof in);
    for (size_t c = 0; c < t->n_channels; c++)
        in.arr[c] = snn_pop_slot(p, slot, c) + i0;
    in.i_ext = p->i_ext ? p->i_ext + i0 : NULL;
    in.step = step;
    p->spk[blk].n = 0;
    t->step(p, blk, &in, &p->spk[blk]);
    if (p->n_traces)
        traces_decay(p, blk);
}
