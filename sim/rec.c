/*
 * sim/rec.c: recorder buffers.  Spikes are kept as (time, id) pairs in the
 * canonical (step, id) order, one row per spike (a Poisson neuron emitting
 * k spikes in a step gives k rows), and appended to /spikes/<pop> whenever a
 * buffer fills.  State samples are rows of [neurons] per variable, weights
 * one snapshot of the whole projection at a time.
 */
#include "rec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SPIKE_BUF 65536
#define STATE_BUF_VALUES 262144

typedef struct rec_spikes {
    const snn_pop *pop;
    int hd;
    size_t n, cap;
    double *t;
    uint64_t *id;
} rec_spikes;

typedef struct rec_state {
    const snn_rec_state_spec *spec;
    const snn_pop *pop;
    int hd;
    size_t every;      /* steps */
    size_t rows, cap;  /* buffered samples, capacity */
    double *t;
    double **v;        /* per var: cap * n_neurons */
} rec_state;

typedef struct rec_weights {
    const snn_proj *pj;
    int hd;
    size_t every;
    double *w;
} rec_weights;

struct snn_rec {
    snn_h5 *h5;
    double dt_ms;
    size_t n_spk, n_st, n_w;
    rec_spikes *spk;
    rec_state *st;
    rec_weights *wt;
};

static int flush_spikes(snn_rec *r, rec_spikes *s, snn_err *err)
{
    if (s->n == 0)
        return SNN_OK;
    int rc = snn_h5_spikes_append(r->h5, s->hd, s->t, s->id, s->n, err);
    s->n = 0;
    return rc;
}

static int flush_state(snn_rec *r, rec_state *s, snn_err *err)
{
    if (s->rows == 0)
        return SNN_OK;
    int rc = snn_h5_state_append(r->h5, s->hd, s->t, s->rows, (const double *const *)s->v, err);
    s->rows = 0;
    return rc;
}

static int sample_state(snn_rec *r, rec_state *s, size_t step, snn_err *err)
{
    size_t nn = s->spec->n_neurons;
    s->t[s->rows] = (double)step * r->dt_ms;
    for (size_t v = 0; v < s->spec->n_vars; v++) {
        const double *x = s->pop->x[s->spec->vars[v]];
        double *dst = s->v[v] + s->rows * nn;
        for (size_t m = 0; m < nn; m++)
            dst[m] = x[s->spec->neurons[m]];
    }
    if (++s->rows == s->cap)
        return flush_state(r, s, err);
    return SNN_OK;
}

static int sample_weights(snn_rec *r, rec_weights *w, size_t step, snn_err *err)
{
    snn_net_weights(w->pj, w->w, NULL, NULL);
    return snn_h5_weights_append(r->h5, w->hd, (double)step * r->dt_ms, w->w, err);
}

int snn_rec_open(snn_rec **out, const snn_net *net, snn_h5 *h5, snn_err *err)
{
    const snn_spec *sp = net->spec;
    *out = NULL;
    snn_rec *r = calloc(1, sizeof *r);
    if (!r)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for recorders");
    r->h5 = h5;
    r->dt_ms = net->dt_ms;
    int rc = SNN_OK;
    size_t ns = 0;
    for (size_t i = 0; i < net->n_pops; i++)
        ns += sp->rec_spikes && sp->rec_spikes[i];
    r->spk = calloc(ns ? ns : 1, sizeof *r->spk);
    r->st = calloc(sp->n_rec_state ? sp->n_rec_state : 1, sizeof *r->st);
    r->wt = calloc(sp->n_rec_weights ? sp->n_rec_weights : 1, sizeof *r->wt);
    if (!r->spk || !r->st || !r->wt)
        goto oom;

    for (size_t i = 0; i < net->n_pops; i++) {
        if (!sp->rec_spikes || !sp->rec_spikes[i])
            continue;
        rec_spikes *s = &r->spk[r->n_spk++];
        s->pop = &net->pops[i];
        s->cap = SPIKE_BUF > 2 * s->pop->n ? SPIKE_BUF : 2 * s->pop->n;
        s->t = malloc(s->cap * sizeof *s->t);
        s->id = malloc(s->cap * sizeof *s->id);
        if (!s->t || !s->id)
            goto oom;
        if ((rc = snn_h5_spikes_open(h5, s->pop->name, &s->hd, err)))
            goto fail;
    }
    for (size_t q = 0; q < sp->n_rec_state; q++) {
        const snn_rec_state_spec *ss = &sp->rec_state[q];
        rec_state *s = &r->st[r->n_st++];
        s->spec = ss;
        s->pop = &net->pops[ss->pop];
        s->every = (size_t)llround(ss->interval_ms / net->dt_ms);
        if (s->every < 1)
            s->every = 1;
        size_t nn = ss->n_neurons ? ss->n_neurons : 1;
        s->cap = STATE_BUF_VALUES / nn;
        if (s->cap < 1)
            s->cap = 1;
        s->t = malloc(s->cap * sizeof *s->t);
        s->v = calloc(ss->n_vars, sizeof *s->v);
        if (!s->t || !s->v)
            goto oom;
        for (size_t v = 0; v < ss->n_vars; v++)
            if (!(s->v[v] = malloc(s->cap * nn * sizeof(double))))
                goto oom;
        uint64_t *ids = malloc(nn * sizeof *ids);
        const char **names = malloc(ss->n_vars * sizeof *names);
        const char **units = malloc(ss->n_vars * sizeof *units);
        if (!ids || !names || !units) {
            free(ids);
            free(names);
            free(units);
            goto oom;
        }
        for (size_t m = 0; m < ss->n_neurons; m++)
            ids[m] = ss->neurons[m];
        for (size_t v = 0; v < ss->n_vars; v++) {
            names[v] = s->pop->type->state[ss->vars[v]];
            units[v] = s->pop->type->state_unit[ss->vars[v]];
        }
        rc = snn_h5_state_open(h5, s->pop->name, ids, ss->n_neurons, names, units, ss->n_vars,
                               &s->hd, err);
        free(ids);
        free(names);
        free(units);
        if (rc || (net->step == 0 && (rc = sample_state(r, s, 0, err))))
            goto fail;
    }
    for (size_t q = 0; q < sp->n_rec_weights; q++) {
        const snn_rec_weight_spec *ws = &sp->rec_weights[q];
        rec_weights *w = &r->wt[r->n_w++];
        w->pj = &net->projs[ws->proj];
        w->every = (size_t)llround(ws->interval_ms / net->dt_ms);
        if (w->every < 1)
            w->every = 1;
        size_t nnz = w->pj->dense ? w->pj->pre->n * w->pj->post->n : w->pj->nnz;
        w->w = malloc((nnz ? nnz : 1) * sizeof *w->w);
        uint64_t *pre = NULL, *post = NULL;
        if (!w->pj->dense) {
            pre = malloc((nnz ? nnz : 1) * sizeof *pre);
            post = malloc((nnz ? nnz : 1) * sizeof *post);
        }
        if (!w->w || (!w->pj->dense && (!pre || !post))) {
            free(pre);
            free(post);
            goto oom;
        }
        if (!w->pj->dense)
            snn_net_weights(w->pj, w->w, pre, post);
        rc = snn_h5_weights_open(h5, w->pj->spec->name, w->pj->pre->n, w->pj->post->n, pre, post,
                                 nnz, w->pj->post->type->weight_unit(w->pj->post->par), &w->hd,
                                 err);
        free(pre);
        free(post);
        if (rc || (net->step == 0 && (rc = sample_weights(r, w, 0, err))))
            goto fail;
    }
    *out = r;
    return SNN_OK;
oom:
    rc = snn_err_set(err, SNN_ENOMEM, "out of memory for recorders");
fail:
    snn_rec_free(r);
    return rc;
}

int snn_rec_spike(snn_rec *r, const snn_pop *p, uint32_t id, double t_ms, snn_err *err)
{
    for (size_t q = 0; q < r->n_spk; q++) {
        rec_spikes *s = &r->spk[q];
        if (s->pop != p)
            continue;
        int rc;
        if (s->n == s->cap && (rc = flush_spikes(r, s, err)))
            return rc;
        s->t[s->n] = t_ms;
        s->id[s->n++] = id;
        break;
    }
    return SNN_OK;
}

int snn_rec_sample(snn_rec *r, const snn_net *net, snn_err *err)
{
    size_t step = net->step;
    int rc;
    for (size_t q = 0; q < r->n_st; q++)
        if (step % r->st[q].every == 0 && (rc = sample_state(r, &r->st[q], step, err)))
            return rc;
    for (size_t q = 0; q < r->n_w; q++)
        if (step % r->wt[q].every == 0 && (rc = sample_weights(r, &r->wt[q], step, err)))
            return rc;
    return SNN_OK;
}

int snn_rec_step(snn_rec *r, const snn_net *net, snn_err *err)
{
    size_t step = net->step; /* steps done: the last one emitted at t = step * dt */
    double t = (double)step * r->dt_ms;
    int rc;
    for (size_t q = 0; q < r->n_spk; q++) {
        rec_spikes *s = &r->spk[q];
        const snn_pop *p = s->pop;
        for (size_t b = 0; b < p->n_blk; b++)
            for (size_t m = 0; m < p->spk[b].n; m++)
                for (uint32_t c = 0; c < p->spk[b].mult[m]; c++) {
                    if (s->n == s->cap && (rc = flush_spikes(r, s, err)))
                        return rc;
                    s->t[s->n] = t;
                    s->id[s->n++] = p->spk[b].id[m];
                }
    }
    for (size_t q = 0; q < r->n_st; q++)
        if (step % r->st[q].every == 0 && (rc = sample_state(r, &r->st[q], step, err)))
            return rc;
    for (size_t q = 0; q < r->n_w; q++)
        if (step % r->wt[q].every == 0 && (rc = sample_weights(r, &r->wt[q], step, err)))
            return rc;
    return SNN_OK;
}

int snn_rec_flush(snn_rec *r, snn_err *err)
{
    int rc;
    for (size_t q = 0; q < r->n_spk; q++)
        if ((rc = flush_spikes(r, &r->spk[q], err)))
            return rc;
    for (size_t q = 0; q < r->n_st; q++)
        if ((rc = flush_state(r, &r->st[q], err)))
            return rc;
    return SNN_OK;
}

void snn_rec_free(snn_rec *r)
{
    if (!r)
        return;
    for (size_t q = 0; q < r->n_spk; q++) {
        free(r->spk[q].t);
        free(r->spk[q].id);
    }
    for (size_t q = 0; q < r->n_st; q++) {
        for (size_t v = 0; r->st[q].v && v < r->st[q].spec->n_vars; v++)
            free(r->st[q].v[v]);
        free(r->st[q].v);
        free(r->st[q].t);
    }
    for (size_t q = 0; q < r->n_w; q++)
        free(r->wt[q].w);
    free(r->spk);
    free(r->st);
    free(r->wt);
    free(r);
}
