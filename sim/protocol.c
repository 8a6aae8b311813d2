/*
 * sim/protocol.c: phases over a dataset, feature recording, per-sample
 * streams, parallel frozen phases, sparse plasticity, emergence snapshots
 * and probes, and the voting evaluation (sim/protocol.h).  Buffers and
 * per-thread network copies are allocated per phase before its first
 * sample; the step loop itself allocates nothing.
 */
#include "protocol.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_permutation.h>
#include <gsl/gsl_randist.h>

#include "../io/perturb.h"
#include "../rules/vote.h"
#include "present.h"
#include "rng.h"

#define N_CLASSES 10
/* Stream "phase" of the probe presentations (phases use their index). */
#define STREAM_PROBE 0x7ffu

typedef struct phase_out {
    size_t n;                  /* samples */
    uint32_t **counts;         /* per feature population: n * pop size */
    uint64_t *labels, *indices;
} phase_out;

static void phase_out_free(phase_out *o, size_t n_features)
{
    for (size_t q = 0; o->counts && q < n_features; q++)
        free(o->counts[q]);
    free(o->counts);
    free(o->labels);
    free(o->indices);
    memset(o, 0, sizeof *o);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *zalloc64(size_t bytes)
{
    size_t sz = (bytes + 63) / 64 * 64;
    void *q = aligned_alloc(64, sz ? sz : 64);
    if (q)
        memset(q, 0, sz ? sz : 64);
    return q;
}

/* Sample order of a phase: identity or a permutation from its seed. */
static int order(const snn_phase_spec *ph, size_t n_split, size_t *idx, snn_err *err)
{
    if (ph->shuffle_seed == 0) {
        for (size_t i = 0; i < n_split; i++)
            idx[i] = i;
        return SNN_OK;
    }
    gsl_permutation *p = gsl_permutation_alloc(n_split);
    gsl_rng *r = snn_rng_alloc(ph->shuffle_seed, snn_rng_owner(SNN_RNG_USER, 0), 0);
    if (!p || !r) {
        gsl_permutation_free(p);
        gsl_rng_free(r);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory shuffling phase '%s'", ph->name);
    }
    gsl_permutation_init(p);
    gsl_ran_shuffle(r, p->data, n_split, sizeof(size_t));
    memcpy(idx, p->data, n_split * sizeof *idx);
    gsl_permutation_free(p);
    gsl_rng_free(r);
    return SNN_OK;
}

/* Reseed every random population's block streams for sample s of stream
   phase f: owner (USER, 2^23 | f << 12 | population), block s * n_blk + b. */
static void seed_sample(snn_net *net, uint32_t f, size_t s)
{
    for (size_t i = 0; i < net->n_pops; i++) {
        snn_pop *p = &net->pops[i];
        if (!p->rng)
            continue;
        uint32_t owner = snn_rng_owner(SNN_RNG_USER, (1u << 23) | ((f & 0x7ffu) << 12) |
                                                         (p->index & 0xfffu));
        for (size_t b = 0; b < p->n_blk; b++)
            gsl_rng_set(p->rng[b],
                        snn_rng_seed(net->spec->seed, owner, (uint32_t)(s * p->n_blk + b)));
    }
}

/* ---- per-thread copies of the dynamic state ------------------------------ */

/* A network sharing `net`'s projections (read-only: frozen) and work list,
   with its own neuron state, rings, spike lists, streams and counters. */
typedef struct replica {
    snn_net net;
    uint32_t **row;            /* count rows of the sample being run */
    int rc;                    /* first failure of this copy */
    size_t fail_at;            /* sample that failed */
    snn_err err;
    size_t done;               /* samples finished (progress) */
} replica;

static void pop_copy_free(snn_pop *q)
{
    if (q->x && q->type)
        for (size_t s = 0; s < q->type->n_state; s++)
            free(q->x[s]);
    free(q->x);
    free(q->refr);
    free(q->ring);
    free(q->i_ext);
    if (q->spk)
        for (size_t b = 0; b < q->n_blk; b++) {
            free(q->spk[b].id);
            free(q->spk[b].mult);
        }
    free(q->spk);
    if (q->rng)
        for (size_t b = 0; b < q->n_blk; b++)
            gsl_rng_free(q->rng[b]);
    free(q->rng);
    for (size_t t = 0; q->traces && t < q->n_traces; t++)
        free(q->traces[t].x);
    free(q->traces);
    memset(q, 0, sizeof *q);
}

/* Storage like p's (contents are filled by copy_state); traces only if
   `traces` (the frozen copies step without them: no rule reads them). */
static int pop_copy_init(snn_pop *q, const snn_pop *p, bool traces)
{
    *q = *p;
    q->x = NULL;
    q->refr = NULL;
    q->ring = NULL;
    q->i_ext = NULL;
    q->spk = NULL;
    q->rng = NULL;
    q->traces = NULL;
    q->n_traces = 0;
    const snn_model_type *t = p->type;
    size_t nch = t->n_channels ? t->n_channels : 1;
    if (!(q->x = calloc(t->n_state ? t->n_state : 1, sizeof *q->x)))
        return -1;
    for (size_t s = 0; s < t->n_state; s++)
        if (!(q->x[s] = zalloc64(p->n * sizeof(double))))
            return -1;
    q->refr = zalloc64(p->n * sizeof(int32_t));
    q->ring = zalloc64(p->ring_slots * nch * p->n * sizeof(double));
    q->spk = calloc(p->n_blk ? p->n_blk : 1, sizeof *q->spk);
    if (!q->refr || !q->ring || !q->spk)
        return -1;
    /* A copy steps without external current (no current inputs on the
       parallel path); zeroes keep a model that reads i_ext well defined. */
    if (p->i_ext && !(q->i_ext = zalloc64(p->n * sizeof(double))))
        return -1;
    for (size_t b = 0; b < p->n_blk; b++) {
        size_t len = snn_blk_end(p, b) - b * SNN_BLOCK;
        q->spk[b].id = malloc(len * sizeof(uint32_t));
        q->spk[b].mult = malloc(len * sizeof(uint32_t));
        if (!q->spk[b].id || !q->spk[b].mult)
            return -1;
    }
    if (p->rng) {
        if (!(q->rng = calloc(p->n_blk ? p->n_blk : 1, sizeof *q->rng)))
            return -1;
        for (size_t b = 0; b < p->n_blk; b++)
            if (!(q->rng[b] = gsl_rng_clone(p->rng[b])))
                return -1;
    }
    if (traces && p->n_traces) {
        if (!(q->traces = calloc(p->n_traces, sizeof *q->traces)))
            return -1;
        q->n_traces = p->n_traces;
        for (size_t k = 0; k < p->n_traces; k++) {
            q->traces[k] = p->traces[k];
            q->traces[k].x = zalloc64(p->n * sizeof(double));
            if (!q->traces[k].x)
                return -1;
        }
    }
    return 0;
}

/*
 * copy_state: dst's dynamic state := src's.  Ring slots are re-aligned so
 * that the input src holds for step src->step + j lands in dst's slot for
 * dst->step + j.  `all` also copies traces and random streams.  External
 * currents are not copied: they follow the current inputs' schedule in
 * absolute time (and networks with current inputs never use the copies).
 */
static void copy_state(snn_net *dst, const snn_net *src, bool all)
{
    for (size_t i = 0; i < src->n_pops; i++) {
        snn_pop *q = &dst->pops[i];
        const snn_pop *p = &src->pops[i];
        size_t n = p->n, nch = p->type->n_channels ? p->type->n_channels : 1;
        for (size_t s = 0; s < p->type->n_state; s++)
            memcpy(q->x[s], p->x[s], n * sizeof(double));
        memcpy(q->refr, p->refr, n * sizeof(int32_t));
        size_t D = p->ring_slots, len = nch * n;
        for (size_t j = 0; j < D; j++)
            memcpy(q->ring + ((dst->step + j) % D) * len, p->ring + ((src->step + j) % D) * len,
                   len * sizeof(double));
        for (size_t b = 0; b < p->n_blk; b++) {
            q->spk[b].n = p->spk[b].n;
            memcpy(q->spk[b].id, p->spk[b].id, p->spk[b].n * sizeof(uint32_t));
            memcpy(q->spk[b].mult, p->spk[b].mult, p->spk[b].n * sizeof(uint32_t));
        }
        if (!all)
            continue;
        for (size_t t = 0; t < q->n_traces && t < p->n_traces; t++)
            memcpy(q->traces[t].x, p->traces[t].x, n * sizeof(double));
        for (size_t b = 0; q->rng && p->rng && b < p->n_blk; b++)
            gsl_rng_memcpy(q->rng[b], p->rng[b]);
    }
}

static void replica_free(replica *rp)
{
    for (size_t i = 0; rp->net.pops && i < rp->net.n_pops; i++)
        pop_copy_free(&rp->net.pops[i]);
    free(rp->net.pops);
    for (size_t j = 0; rp->net.projs && j < rp->net.n_projs; j++)
        free(rp->net.projs[j].parts);
    free(rp->net.projs);
    free(rp->net.spike_count);
    free(rp->row);
    memset(rp, 0, sizeof *rp);
}

static int replica_init(replica *rp, const snn_net *net, bool all, size_t n_rows, snn_err *err)
{
    memset(rp, 0, sizeof *rp);
    snn_net *r = &rp->net;
    *r = *net;
    r->threads = 1;
    r->plasticity_off = true;
    r->n_currents = 0;
    r->currents = NULL;
    r->pops = calloc(net->n_pops ? net->n_pops : 1, sizeof *r->pops);
    r->projs = calloc(net->n_projs ? net->n_projs : 1, sizeof *r->projs);
    r->spike_count = calloc(net->n_pops ? net->n_pops : 1, sizeof *r->spike_count);
    rp->row = calloc(n_rows + 1, sizeof *rp->row);
    bool ok = r->pops && r->projs && r->spike_count && rp->row;
    for (size_t i = 0; ok && i < net->n_pops; i++)
        ok = pop_copy_init(&r->pops[i], &net->pops[i], all) == 0;
    for (size_t j = 0; ok && j < net->n_projs; j++) {
        snn_proj *pj = &r->projs[j];
        *pj = net->projs[j];
        pj->pre = &r->pops[net->projs[j].pre->index];
        pj->post = &r->pops[net->projs[j].post->index];
        pj->parts = malloc((pj->n_parts ? pj->n_parts : 1) * sizeof *pj->parts);
        ok = pj->parts != NULL;
        for (size_t t = 0; ok && t < pj->n_parts; t++) {
            pj->parts[t] = net->projs[j].parts[t];
            pj->parts[t].events = 0;
        }
    }
    if (!ok) {
        replica_free(rp);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for a per-thread copy of the network");
    }
    return SNN_OK;
}

/* ---- frozen presentations ------------------------------------------------ */

typedef struct frozen_job {
    const snn_dataset *d;
    const size_t *idx;         /* dataset index of each sample */
    size_t n;
    uint32_t stream;           /* phase index or STREAM_PROBE */
    snn_present pr;            /* rec = NULL */
    uint32_t *const *counts;   /* per counted population: n * its size */
    unsigned *boosts;          /* n */
    size_t *steps;             /* n */
    size_t phase;              /* for progress */
    const snn_protocol_opts *opts;
} frozen_job;

/*
 * Run job's samples on the copies reps[0..T), each from net's present
 * state at net->step; net is only read.  Returns the error of the first
 * failing sample (lowest index).
 */
static int run_parallel(const snn_net *net, replica *reps, int T, const frozen_job *job,
                        snn_err *err)
{
    size_t k0 = net->step, npix = job->d->rows * job->d->cols;
    const snn_protocol_opts *opts = job->opts;
    volatile sig_atomic_t *stop = job->pr.stop;
    int abort_all = 0;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = omp_get_thread_num();
        replica *rp = &reps[tid];
#pragma omp for schedule(dynamic, 1)
        for (size_t s = 0; s < job->n; s++) {
            int ab;
#pragma omp atomic read
            ab = abort_all;
            if (ab || (stop && *stop))
                continue;
            rp->net.step = k0;
            copy_state(&rp->net, net, false);
            seed_sample(&rp->net, job->stream, s);
            for (size_t q = 0; q < job->pr.n_count; q++)
                rp->row[q] = job->counts[q] + s * net->pops[job->pr.count[q]].n;
            unsigned b = 0;
            int rc = snn_present_sample(&rp->net, &job->pr, job->d->images + job->idx[s] * npix,
                                        rp->row, &b, &rp->err);
            if (rc) {
                rp->rc = rc;
                rp->fail_at = s;
#pragma omp atomic write
                abort_all = 1;
                continue;
            }
            job->boosts[s] = b;
            job->steps[s] = rp->net.step - k0;
#pragma omp atomic update
            rp->done++;
            if (tid == 0 && opts && opts->progress) {
                size_t done = 0;
                for (int t = 0; t < T; t++) {
                    size_t d;
#pragma omp atomic read
                    d = reps[t].done;
                    done += d;
                }
                if (done < job->n) /* the caller reports the end */
                    opts->progress(opts->ud, job->phase, done, job->n);
            }
        }
    }
    int first = -1;
    for (int t = 0; t < T; t++)
        if (reps[t].rc && (first < 0 || reps[t].fail_at < reps[first].fail_at))
            first = t;
    if (first >= 0) {
        if (err)
            *err = reps[first].err;
        return reps[first].rc;
    }
    if (stop && *stop)
        SNN_FAIL(err, SNN_EINTR, "interrupted during phase %zu", job->phase);
    return SNN_OK;
}

/* Frozen phases run on copies unless time-dependent inputs or per-step
   recording need the network itself (sim/protocol.h). */
static bool frozen_parallel_ok(const snn_net *net, const snn_rec *rec)
{
    const snn_spec *sp = net->spec;
    if (net->n_currents)
        return false;
    for (size_t i = 0; i < net->n_pops; i++)
        if (net->pops[i].type->takes_spike_list)
            return false;
    if (rec) {
        if (sp->n_rec_state)
            return false;
        for (size_t i = 0; sp->rec_spikes && i < sp->n_pops; i++)
            if (sp->rec_spikes[i])
                return false;
    }
    return true;
}

/* ---- sparse plasticity and per-sample hooks ------------------------------- */

typedef struct learn_buf {
    snn_proj *pj;
    int pre_row, post_row;     /* rows of the counted populations */
    bool restore;              /* top_k with a per-spike rule: undo losers */
    double *saved;             /* weights at the sample start (restore) */
    uint8_t *learn;            /* post->n flags, or NULL (no top_k) */
} learn_buf;

static size_t proj_weights_n(const snn_proj *pj)
{
    return pj->dense ? pj->pre->n * pj->post->n : pj->nnz;
}

static void save_weights(const snn_proj *pj, double *w)
{
    if (pj->dense) {
        memcpy(w, pj->w_dense, pj->pre->n * pj->post->n * sizeof *w);
        return;
    }
    for (size_t t = 0; t < pj->n_parts; t++) {
        if (pj->parts[t].nnz)
            memcpy(w, pj->parts[t].w, pj->parts[t].nnz * sizeof *w);
        w += pj->parts[t].nnz;
    }
}

/* w of every post neuron j with !learn[j] := saved. */
static void restore_losers(snn_proj *pj, const double *saved, const uint8_t *learn)
{
    if (pj->dense) {
        size_t n_pre = pj->pre->n, n_post = pj->post->n;
        for (size_t i = 0; i < n_pre; i++) {
            double *w = pj->w_dense + i * n_post;
            const double *s = saved + i * n_post;
            for (size_t j = 0; j < n_post; j++)
                if (!learn[j])
                    w[j] = s[j];
        }
        return;
    }
    for (size_t t = 0; t < pj->n_parts; t++) {
        snn_part *pt = &pj->parts[t];
        for (size_t q = 0; q < pt->nnz; q++)
            if (!learn[pt->col[q]])
                pt->w[q] = saved[q];
        saved += pt->nnz;
    }
}

/* learn[j] = 1 for the k neurons with the most spikes (> 0), ties to the
   lower index.  O(k n), no allocation. */
static void top_k_flags(const uint32_t *cnt, size_t n, uint32_t k, uint8_t *learn)
{
    memset(learn, 0, n);
    for (uint32_t r = 0; r < k; r++) {
        size_t best = n;
        for (size_t j = 0; j < n; j++)
            if (!learn[j] && cnt[j] > 0 && (best == n || cnt[j] > cnt[best]))
                best = j;
        if (best == n)
            return;
        learn[best] = 1;
    }
}

/* ---- emergence snapshots and probes --------------------------------------- */

typedef struct snapper {
    bool on;                   /* some phase snapshots */
    snn_h5 *h5;
    size_t n_proj;
    snn_proj **proj;           /* plastic projections */
    int *hd;                   /* weight streams */
    double *wbuf;
    size_t S, cap;
    uint64_t *samples;         /* training samples seen, per snapshot */
    /* probe */
    size_t N;                  /* probe images (0: none) */
    int split;
    const snn_dataset *d;
    size_t *idx;               /* 0..N-1 */
    size_t n_pops;
    uint32_t *pops;            /* feature populations */
    uint32_t **counts;         /* per pop: cap * N * size */
    uint32_t **run_counts;     /* per pop: N * size (one probe run) */
    unsigned *boosts;
    size_t *steps;
} snapper;

static void snapper_free(snapper *sn)
{
    free(sn->proj);
    free(sn->hd);
    free(sn->wbuf);
    free(sn->samples);
    free(sn->idx);
    for (size_t q = 0; q < sn->n_pops; q++) {
        free(sn->counts ? sn->counts[q] : NULL);
        free(sn->run_counts ? sn->run_counts[q] : NULL);
    }
    free(sn->counts);
    free(sn->run_counts);
    free(sn->pops);
    free(sn->boosts);
    free(sn->steps);
    memset(sn, 0, sizeof *sn);
}

static int snapper_init(snapper *sn, const snn_net *net, const snn_dataset *const split[2],
                        snn_h5 *h5, snn_err *err)
{
    const snn_spec *sp = net->spec;
    memset(sn, 0, sizeof *sn);
    const snn_phase_spec *first = NULL;
    for (size_t f = 0; f < sp->n_phases; f++) {
        const snn_phase_spec *ph = &sp->phases[f];
        if (!ph->plastic || !ph->snapshot_every)
            continue;
        if (!first)
            first = ph;
        if (ph->probe && (sn->N ? (sn->N != ph->probe || sn->split != ph->probe_split) : 0))
            SNN_FAIL(err, SNN_ECFG, "%s:%d: phase '%s': probe = %zu (%s) differs from an earlier "
                     "phase's probe; all phases must probe the same set", ph->where.file,
                     ph->where.line, ph->name, ph->probe, ph->probe_split ? "test" : "train");
        if (ph->probe) {
            sn->N = ph->probe;
            sn->split = ph->probe_split;
        }
    }
    if (!first)
        return SNN_OK;
    sn->on = true;
    sn->h5 = h5;
    sn->proj = calloc(net->n_projs + 1, sizeof *sn->proj);
    sn->hd = calloc(net->n_projs + 1, sizeof *sn->hd);
    if (!sn->proj || !sn->hd)
        goto oom;
    size_t wmax = 1;
    for (size_t j = 0; j < net->n_projs; j++) {
        snn_proj *pj = &net->projs[j];
        if (!pj->rule)
            continue;
        for (size_t q = 0; q < sp->n_rec_weights; q++)
            if (sp->rec_weights[q].proj == j)
                SNN_FAIL(err, SNN_ECFG, "%s:%d: phase '%s' takes weight snapshots of projection "
                         "'%s' (snapshot_every), which record.weights also records: both "
                         "would write /weights/%s; keep one", first->where.file,
                         first->where.line, first->name, pj->spec->name, pj->spec->name);
        sn->proj[sn->n_proj++] = pj;
        if (proj_weights_n(pj) > wmax)
            wmax = proj_weights_n(pj);
    }
    if (!(sn->wbuf = malloc(wmax * sizeof *sn->wbuf)))
        goto oom;
    for (size_t m = 0; h5 && m < sn->n_proj; m++) {
        snn_proj *pj = sn->proj[m];
        size_t nnz = proj_weights_n(pj);
        uint64_t *pre = NULL, *post = NULL;
        if (!pj->dense) {
            pre = malloc((nnz + 1) * sizeof *pre);
            post = malloc((nnz + 1) * sizeof *post);
            if (!pre || !post) {
                free(pre);
                free(post);
                goto oom;
            }
            snn_net_weights(pj, sn->wbuf, pre, post);
        }
        int rc = snn_h5_weights_open(h5, pj->spec->name, pj->pre->n, pj->post->n, pre, post,
                                     nnz, pj->post->type->weight_unit(pj->post->par), &sn->hd[m],
                                     err);
        free(pre);
        free(post);
        if (rc)
            return rc;
    }
    if (!sn->N)
        return SNN_OK;
    sn->d = split[sn->split];
    if (!sn->d)
        SNN_FAIL(err, SNN_EINTERNAL, "the probe's %s split was not loaded",
                 sn->split ? "test" : "training");
    if (sn->N > sn->d->n)
        SNN_FAIL(err, SNN_ECFG, "%s:%d: phase '%s': probe = %zu images but the %s set has %zu",
                 first->where.file, first->where.line, first->name, sn->N,
                 sn->split ? "test" : "training", sn->d->n);
    sn->pops = calloc(net->n_pops + 1, sizeof *sn->pops);
    if (!sn->pops)
        goto oom;
    for (size_t f = 0; f < sp->n_phases; f++)
        for (size_t q = 0; q < sp->phases[f].n_features; q++) {
            uint32_t p = sp->phases[f].features[q];
            size_t m = 0;
            while (m < sn->n_pops && sn->pops[m] != p)
                m++;
            if (m == sn->n_pops)
                sn->pops[sn->n_pops++] = p;
        }
    sn->idx = malloc(sn->N * sizeof *sn->idx);
    sn->boosts = malloc(sn->N * sizeof *sn->boosts);
    sn->steps = malloc(sn->N * sizeof *sn->steps);
    sn->counts = calloc(sn->n_pops + 1, sizeof *sn->counts);
    sn->run_counts = calloc(sn->n_pops + 1, sizeof *sn->run_counts);
    if (!sn->idx || !sn->boosts || !sn->steps || !sn->counts || !sn->run_counts)
        goto oom;
    for (size_t s = 0; s < sn->N; s++)
        sn->idx[s] = s;
    for (size_t q = 0; q < sn->n_pops; q++)
        if (!(sn->run_counts[q] = malloc(sn->N * net->pops[sn->pops[q]].n * sizeof(uint32_t))))
            goto oom;
    return SNN_OK;
oom:
    SNN_FAIL(err, SNN_ENOMEM, "out of memory for weight snapshots and probes");
}

/* Grow the per-snapshot arrays to hold one more snapshot. */
static int snapper_grow(snapper *sn, const snn_net *net, snn_err *err)
{
    if (sn->S < sn->cap)
        return SNN_OK;
    size_t cap = sn->cap ? 2 * sn->cap : 16;
    uint64_t *s = realloc(sn->samples, cap * sizeof *s);
    if (!s)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for snapshots");
    sn->samples = s;
    for (size_t q = 0; q < sn->n_pops; q++) {
        size_t row = sn->N * net->pops[sn->pops[q]].n;
        uint32_t *c = realloc(sn->counts[q], cap * row * sizeof *c);
        if (!c)
            SNN_FAIL(err, SNN_ENOMEM, "out of memory for probe counts");
        sn->counts[q] = c;
    }
    sn->cap = cap;
    return SNN_OK;
}

/* One snapshot after `seen` training samples: weights, then the probe on
   the copies reps[0..T) (the network is only read). */
static int snapshot(snapper *sn, const snn_net *net, replica *reps, int T, const snn_present *base,
                    uint64_t seen, snn_err *err)
{
    int rc = snapper_grow(sn, net, err);
    if (rc)
        return rc;
    for (size_t m = 0; sn->h5 && m < sn->n_proj; m++) {
        snn_net_weights(sn->proj[m], sn->wbuf, NULL, NULL);
        if ((rc = snn_h5_weights_append(sn->h5, sn->hd[m], (double)net->step * net->dt_ms,
                                        sn->wbuf, err)))
            return rc;
    }
    if (sn->N) {
        frozen_job job = {.d = sn->d, .idx = sn->idx, .n = sn->N, .stream = STREAM_PROBE,
                          .pr = *base, .counts = sn->run_counts, .boosts = sn->boosts,
                          .steps = sn->steps, .phase = 0, .opts = NULL};
        job.pr.rec = NULL;
        job.pr.n_count = sn->n_pops;
        job.pr.count = sn->pops;
        if ((rc = run_parallel(net, reps, T, &job, err)))
            return rc;
        for (size_t q = 0; q < sn->n_pops; q++) {
            size_t row = sn->N * net->pops[sn->pops[q]].n;
            memcpy(sn->counts[q] + sn->S * row, sn->run_counts[q], row * sizeof(uint32_t));
        }
    }
    sn->samples[sn->S++] = seen;
    return SNN_OK;
}

static int snapper_write(const snapper *sn, const snn_net *net, snn_err *err)
{
    if (!sn->on || !sn->h5)
        return SNN_OK;
    char path[256];
    int rc;
    for (size_t m = 0; m < sn->n_proj; m++) {
        snprintf(path, sizeof path, "/weights/%s/samples", sn->proj[m]->spec->name);
        if ((rc = snn_h5_write_u64(sn->h5, path, sn->samples, sn->S, err)))
            return rc;
    }
    if (!sn->N)
        return SNN_OK;
    uint64_t *lab = malloc(sn->N * sizeof *lab), *ix = malloc(sn->N * sizeof *ix);
    if (!lab || !ix) {
        free(lab);
        free(ix);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory writing the probe");
    }
    for (size_t s = 0; s < sn->N; s++) {
        lab[s] = sn->d->labels[s];
        ix[s] = s;
    }
    rc = snn_h5_write_u64(sn->h5, "/probe/samples", sn->samples, sn->S, err);
    if (!rc)
        rc = snn_h5_write_u64(sn->h5, "/probe/labels", lab, sn->N, err);
    if (!rc)
        rc = snn_h5_write_u64(sn->h5, "/probe/indices", ix, sn->N, err);
    free(lab);
    free(ix);
    for (size_t q = 0; !rc && q < sn->n_pops; q++) {
        const snn_pop *p = &net->pops[sn->pops[q]];
        snprintf(path, sizeof path, "/probe/%s/counts", p->name);
        rc = snn_h5_write_u32_3d(sn->h5, path, sn->counts[q], sn->S, sn->N, p->n, err);
    }
    if (!rc)
        rc = snn_h5_attr_str(sn->h5, "/probe", "split", sn->split ? "test" : "train", err);
    return rc;
}

/* ---- checkpoints ------------------------------------------------------------ */

struct snn_protocol_ckpt {
    const snn_net *net;
    const phase_out *outs;
    const snn_protocol_result *res;
    const snapper *sn;
    size_t f, done;            /* phase, samples done in it */
    uint64_t seen;             /* plastic samples seen */
};

void snn_protocol_ckpt_pos(const snn_protocol_ckpt *pc, size_t *phase, size_t *done)
{
    *phase = pc->f;
    *done = pc->done;
}

/* Item names of phase f's features (q = SIZE_MAX: labels, q = SIZE_MAX - 1:
   indices). */
static void phase_item(char *name, size_t len, size_t f, size_t q)
{
    if (q == SIZE_MAX)
        snprintf(name, len, "protocol/phases/%zu/labels", f);
    else if (q == SIZE_MAX - 1)
        snprintf(name, len, "protocol/phases/%zu/indices", f);
    else
        snprintf(name, len, "protocol/phases/%zu/counts/%zu", f, q);
}

/* Put (load = false) or get (load = true) the first `rows` samples of
   phase f's outputs (buffers allocated for all its samples). */
static int phase_rows(const snn_state_io *io, bool load, const snn_net *net, size_t f,
                      phase_out *o, size_t rows, snn_err *err)
{
    const snn_phase_spec *ph = &net->spec->phases[f];
    char name[128];
    int rc;
    phase_item(name, sizeof name, f, SIZE_MAX);
    rc = load ? io->get(io->ud, name, SNN_ST_U64, o->labels, rows, err)
              : io->put(io->ud, name, SNN_ST_U64, o->labels, rows, err);
    if (rc)
        return rc;
    phase_item(name, sizeof name, f, SIZE_MAX - 1);
    rc = load ? io->get(io->ud, name, SNN_ST_U64, o->indices, rows, err)
              : io->put(io->ud, name, SNN_ST_U64, o->indices, rows, err);
    for (size_t q = 0; !rc && q < ph->n_features; q++) {
        size_t m = rows * net->pops[ph->features[q]].n;
        phase_item(name, sizeof name, f, q);
        rc = load ? io->get(io->ud, name, SNN_ST_U32, o->counts[q], m, err)
                  : io->put(io->ud, name, SNN_ST_U32, o->counts[q], m, err);
    }
    return rc;
}

int snn_protocol_ckpt_save(const snn_protocol_ckpt *pc, const snn_state_io *io, snn_err *err)
{
    const snn_net *net = pc->net;
    const snn_spec *sp = net->spec;
    const snapper *sn = pc->sn;
    uint64_t pos[5] = {sp->n_phases, pc->f, pc->done, pc->seen, sn->S};
    int rc = io->put(io->ud, "protocol/pos", SNN_ST_U64, pos, 5, err);
    uint32_t b[16];
    for (size_t f = 0; f < 16; f++)
        b[f] = pc->res->boosts[f];
    if (!rc)
        rc = io->put(io->ud, "protocol/boosts", SNN_ST_U32, b, 16, err);
    if (!rc)
        rc = io->put(io->ud, "protocol/samples_per_s", SNN_ST_F64, pc->res->samples_per_s, 16,
                     err);
    for (size_t f = 0; !rc && f <= pc->f && f < sp->n_phases; f++) {
        size_t rows = f < pc->f ? pc->outs[f].n : pc->done;
        if (rows)
            rc = phase_rows(io, false, net, f, (phase_out *)&pc->outs[f], rows, err);
    }
    if (!rc && sn->S)
        rc = io->put(io->ud, "protocol/snap/samples", SNN_ST_U64, sn->samples, sn->S, err);
    char name[128];
    for (size_t q = 0; !rc && sn->S && q < sn->n_pops; q++) {
        snprintf(name, sizeof name, "protocol/snap/counts/%zu", q);
        rc = io->put(io->ud, name, SNN_ST_U32, sn->counts[q],
                     sn->S * sn->N * net->pops[sn->pops[q]].n, err);
    }
    return rc;
}

/*
 * resume_load: the checkpoint's position (*f0, *s0, *seen), boosts, the
 * complete phases' outputs (allocated here) and the snapshots.  The current
 * phase's first *s0 rows are loaded by the phase loop (phase_rows) once
 * its buffers exist.
 */
static int resume_load(const snn_state_io *io, const snn_net *net, phase_out *outs,
                       snn_protocol_result *res, snapper *sn, size_t *f0, size_t *s0,
                       uint64_t *seen, snn_err *err)
{
    const snn_spec *sp = net->spec;
    uint64_t pos[5];
    int rc = io->get(io->ud, "protocol/pos", SNN_ST_U64, pos, 5, err);
    if (rc)
        return rc;
    if (pos[0] != sp->n_phases || pos[1] > sp->n_phases ||
        (pos[1] < sp->n_phases && pos[2] >= sp->phases[pos[1]].samples) ||
        (pos[1] < sp->n_phases && pos[2] && !sp->phases[pos[1]].plastic) ||
        (pos[1] == sp->n_phases && pos[2] != 0) || (!sn->on && pos[4]))
        SNN_FAIL(err, SNN_ECFG, "checkpoint: protocol position (phase %llu, sample %llu) does "
                 "not fit the run's %zu phases", (unsigned long long)pos[1],
                 (unsigned long long)pos[2], sp->n_phases);
    *f0 = pos[1];
    *s0 = pos[2];
    *seen = pos[3];
    uint32_t b[16];
    if ((rc = io->get(io->ud, "protocol/boosts", SNN_ST_U32, b, 16, err)))
        return rc;
    for (size_t f = 0; f < 16; f++)
        res->boosts[f] = b[f];
    if ((rc = io->get(io->ud, "protocol/samples_per_s", SNN_ST_F64, res->samples_per_s, 16, err)))
        return rc;
    for (size_t f = 0; f < *f0; f++) {
        const snn_phase_spec *ph = &sp->phases[f];
        phase_out *o = &outs[f];
        o->n = ph->samples;
        o->labels = malloc((o->n + 1) * sizeof *o->labels);
        o->indices = malloc((o->n + 1) * sizeof *o->indices);
        o->counts = calloc(ph->n_features + 1, sizeof *o->counts);
        bool ok = o->labels && o->indices && o->counts;
        for (size_t q = 0; ok && q < ph->n_features; q++)
            ok = (o->counts[q] = malloc(o->n * net->pops[ph->features[q]].n *
                                        sizeof(uint32_t) + 1)) != NULL;
        if (!ok)
            SNN_FAIL(err, SNN_ENOMEM, "out of memory restoring phase '%s'", ph->name);
        if ((rc = phase_rows(io, true, net, f, o, o->n, err)))
            return rc;
    }
    while (sn->cap < pos[4])
        if ((rc = snapper_grow(sn, net, err)))
            return rc;
    sn->S = pos[4];
    if (sn->S && (rc = io->get(io->ud, "protocol/snap/samples", SNN_ST_U64, sn->samples, sn->S,
                               err)))
        return rc;
    char name[128];
    for (size_t q = 0; sn->S && q < sn->n_pops; q++) {
        snprintf(name, sizeof name, "protocol/snap/counts/%zu", q);
        if ((rc = io->get(io->ud, name, SNN_ST_U32, sn->counts[q],
                          sn->S * sn->N * net->pops[sn->pops[q]].n, err)))
            return rc;
    }
    return SNN_OK;
}

/* The run's checkpoint state and the callback. */
typedef struct ckpt_ctx {
    const snn_protocol_opts *opts;
    snn_protocol_ckpt pc;      /* outs, res, sn, net fixed; position set per call */
} ckpt_ctx;

/* Take a checkpoint at (f, done) when one is due (`due`) or the run is being
   stopped; a stop then ends the run with SNN_EINTR. */
static int take_ckpt(ckpt_ctx *k, size_t f, size_t done, uint64_t seen, bool due, snn_err *err)
{
    const snn_protocol_opts *o = k->opts;
    bool stop = o && o->stop && *o->stop;
    if (!stop && !due)
        return SNN_OK;
    if (o && o->checkpoint) {
        k->pc.f = f;
        k->pc.done = done;
        k->pc.seen = seen;
        int rc = o->checkpoint(o->ckpt_ud, &k->pc, err);
        if (rc)
            return rc;
    }
    if (!stop)
        return SNN_OK;
    const snn_spec *sp = k->pc.net->spec;
    if (f < sp->n_phases)
        SNN_FAIL(err, SNN_EINTR, "interrupted in phase '%s' after %zu of %zu samples",
                 sp->phases[f].name, done, sp->phases[f].samples);
    SNN_FAIL(err, SNN_EINTR, "interrupted after the last phase");
}

/* ---- output --------------------------------------------------------------- */

static int write_phase(snn_h5 *h5, const snn_net *net, const snn_phase_spec *ph,
                       const phase_out *o, snn_err *err)
{
    char path[256];
    int rc;
    for (size_t q = 0; q < ph->n_features; q++) {
        const snn_pop *p = &net->pops[ph->features[q]];
        snprintf(path, sizeof path, "/features/%s/%s", ph->name, p->name);
        if ((rc = snn_h5_write_u32_2d(h5, path, o->counts[q], o->n, p->n, err)))
            return rc;
    }
    snprintf(path, sizeof path, "/features/%s/labels", ph->name);
    if ((rc = snn_h5_write_u64(h5, path, o->labels, o->n, err)))
        return rc;
    snprintf(path, sizeof path, "/features/%s/indices", ph->name);
    return snn_h5_write_u64(h5, path, o->indices, o->n, err);
}

/* The vote, with the assignments of the clean phases, on each perturbed
   copy of the test phase; /results/robustness/vote. */
static int vote_robust(const snn_net *net, const snn_spec *sp, const phase_out *outs, size_t qt,
                       const int32_t *assign, snn_h5 *h5, snn_protocol_result *res,
                       snn_err *err)
{
    const snn_robust_spec *rb = &sp->robust;
    if (rb->n == 0)
        return SNN_OK;
    size_t n = net->pops[sp->eval.pop].n;
    double acc[SNN_MAX_PERTURB + 1];
    char names[SNN_MAX_PERTURB * 32 + 8] = "none";
    acc[0] = res->accuracy;
    int rc = SNN_OK;
    for (size_t k = 0; k < rb->n && !rc; k++) {
        const phase_out *o = &outs[rb->vote_phase[k]];
        double *ct = malloc((o->n * n + 1) * sizeof *ct);
        uint8_t *lt = malloc(o->n + 1);
        int32_t *pred = malloc((o->n + 1) * sizeof *pred);
        if (!ct || !lt || !pred)
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the robustness vote");
        for (size_t m = 0; !rc && m < o->n * n; m++)
            ct[m] = o->counts[qt][m];
        for (size_t s = 0; !rc && s < o->n; s++)
            lt[s] = (uint8_t)o->labels[s];
        if (!rc && !(rc = snn_vote_predict(ct, o->n, n, assign, N_CLASSES, pred, err)))
            res->robust_vote[k] = acc[k + 1] =
                snn_vote_accuracy(pred, lt, o->n, N_CLASSES, NULL);
        free(ct);
        free(lt);
        free(pred);
        char one[32];
        snn_perturb_format(&rb->p[k], one, sizeof one);
        strcat(names, ",");
        strcat(names, one);
    }
    if (!rc && h5 &&
        !(rc = snn_h5_write_f64(h5, "/results/robustness/vote/accuracy", acc, rb->n + 1, NULL,
                                err)) &&
        !(rc = snn_h5_attr_str(h5, "/results/robustness/vote", "perturbations", names, err)))
        rc = snn_h5_attr_u64(h5, "/results/robustness/vote", "seed", rb->seed, err);
    return rc;
}

static int evaluate(snn_net *net, const snn_spec *sp, phase_out *outs, snn_h5 *h5,
                    snn_protocol_result *res, snn_err *err)
{
    const snn_eval_spec *ev = &sp->eval;
    const snn_phase_spec *pa = &sp->phases[ev->assign_phase], *pt = &sp->phases[ev->test_phase];
    size_t qa = 0, qt = 0;
    while (qa < pa->n_features && pa->features[qa] != ev->pop)
        qa++;
    while (qt < pt->n_features && pt->features[qt] != ev->pop)
        qt++;
    if (qa == pa->n_features || qt == pt->n_features)
        SNN_FAIL(err, SNN_ECFG, "evaluate: population '%s' must be a feature of phases '%s' "
                 "and '%s'", net->pops[ev->pop].name, pa->name, pt->name);
    size_t n = net->pops[ev->pop].n;
    const phase_out *oa = &outs[ev->assign_phase], *ot = &outs[ev->test_phase];
    double *ca = malloc((oa->n * n + 1) * sizeof *ca), *ct = malloc((ot->n * n + 1) * sizeof *ct);
    uint8_t *la = malloc(oa->n + 1), *lt = malloc(ot->n + 1);
    int32_t *assign = malloc((n + 1) * sizeof *assign), *pred = malloc((ot->n + 1) * sizeof *pred);
    int rc = SNN_OK;
    if (!ca || !ct || !la || !lt || !assign || !pred) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the evaluation");
        goto done;
    }
    for (size_t m = 0; m < oa->n * n; m++)
        ca[m] = oa->counts[qa][m];
    for (size_t m = 0; m < ot->n * n; m++)
        ct[m] = ot->counts[qt][m];
    for (size_t s = 0; s < oa->n; s++)
        la[s] = (uint8_t)oa->labels[s];
    for (size_t s = 0; s < ot->n; s++)
        lt[s] = (uint8_t)ot->labels[s];
    if ((rc = snn_vote_assign(ca, la, oa->n, n, N_CLASSES, assign, NULL, err)) ||
        (rc = snn_vote_predict(ct, ot->n, n, assign, N_CLASSES, pred, err)))
        goto done;
    res->accuracy = snn_vote_accuracy(pred, lt, ot->n, N_CLASSES, res->confusion);
    res->evaluated = true;
    if ((rc = vote_robust(net, sp, outs, qt, assign, h5, res, err)))
        goto done;
    if (h5) {
        uint64_t *tmp = malloc((n > ot->n ? n : ot->n) * sizeof *tmp + 1);
        if (!tmp) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for the evaluation");
            goto done;
        }
        uint32_t conf[N_CLASSES * N_CLASSES];
        for (size_t m = 0; m < N_CLASSES * N_CLASSES; m++)
            conf[m] = (uint32_t)res->confusion[m];
        /* -1 (never fired / no prediction) is stored as 2^64 - 1. */
        for (size_t i = 0; i < n; i++)
            tmp[i] = (uint64_t)(int64_t)assign[i];
        if (!(rc = snn_h5_write_u64(h5, "/results/vote/assignments", tmp, n, err))) {
            for (size_t s = 0; s < ot->n; s++)
                tmp[s] = (uint64_t)(int64_t)pred[s];
            rc = snn_h5_write_u64(h5, "/results/vote/predictions", tmp, ot->n, err);
        }
        free(tmp);
        if (!rc)
            rc = snn_h5_write_u32_2d(h5, "/results/vote/confusion", conf, N_CLASSES, N_CLASSES,
                                     err);
        if (!rc)
            rc = snn_h5_attr_double(h5, "/results/vote", "accuracy", res->accuracy, err);
        if (!rc)
            rc = snn_h5_attr_u64(h5, "/results/vote", "n_test", ot->n, err);
        if (!rc)
            rc = snn_h5_attr_str(h5, "/results/vote", "population", net->pops[ev->pop].name,
                                 err);
    }
done:
    free(ca);
    free(ct);
    free(la);
    free(lt);
    free(assign);
    free(pred);
    return rc;
}

/* Move phase outputs into the result's in-memory features. */
static int keep_features(const snn_net *net, const snn_spec *sp, phase_out *outs,
                         snn_protocol_result *res, snn_err *err)
{
    res->features = calloc(sp->n_phases + 1, sizeof *res->features);
    if (!res->features)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the features");
    res->n_phases = sp->n_phases;
    for (size_t f = 0; f < sp->n_phases; f++) {
        const snn_phase_spec *ph = &sp->phases[f];
        phase_out *o = &outs[f];
        snn_phase_features *pf = &res->features[f];
        pf->n = o->n;
        for (size_t q = 0; q < ph->n_features; q++)
            pf->cols += net->pops[ph->features[q]].n;
        pf->labels = o->labels;
        pf->indices = o->indices;
        o->labels = o->indices = NULL;
        if (!pf->cols)
            continue;
        if (!(pf->counts = malloc(pf->n * pf->cols * sizeof *pf->counts + 1)))
            SNN_FAIL(err, SNN_ENOMEM, "out of memory for the features");
        for (size_t s = 0; s < pf->n; s++) {
            uint32_t *dst = pf->counts + s * pf->cols;
            for (size_t q = 0; q < ph->n_features; q++) {
                size_t m = net->pops[ph->features[q]].n;
                memcpy(dst, o->counts[q] + s * m, m * sizeof *dst);
                dst += m;
            }
        }
    }
    return SNN_OK;
}

void snn_protocol_result_free(snn_protocol_result *res)
{
    if (!res)
        return;
    for (size_t f = 0; res->features && f < res->n_phases; f++) {
        free(res->features[f].counts);
        free(res->features[f].labels);
        free(res->features[f].indices);
    }
    free(res->features);
    res->features = NULL;
    res->n_phases = 0;
}

/* ---- phases --------------------------------------------------------------- */

/* pj->off := pj is in ph->off, pj->gain := its factor in ph->gain or 1 (ph
   NULL: every projection on, gains 1).  Both follow from the phase alone, so
   checkpoints need not store them. */
static void set_off(snn_net *net, const snn_phase_spec *ph)
{
    for (size_t j = 0; j < net->n_projs; j++) {
        net->projs[j].off = false;
        net->projs[j].gain = 1.0;
    }
    for (size_t q = 0; ph && q < ph->n_off; q++)
        net->projs[ph->off[q]].off = true;
    for (size_t q = 0; ph && q < ph->n_gain; q++)
        net->projs[ph->gain_proj[q]].gain = ph->gain[q];
}

typedef struct phase_ctx {
    snn_net *net;
    const snn_phase_spec *ph;
    size_t f;
    const snn_dataset *d;
    const size_t *idx;
    phase_out *o;
    snn_present pr;            /* counts: the features (+ learning extras) */
    snn_rec *rec;
    const snn_protocol_opts *opts;
    snn_protocol_result *res;
    struct ckpt_ctx *ck;
    uint64_t *seen;            /* plastic samples seen */
    size_t s0;                 /* first sample to run (resume) */
} phase_ctx;

/* A frozen phase on per-thread copies, then the network re-aligned. */
static int frozen_parallel(phase_ctx *c, snn_err *err)
{
    snn_net *net = c->net;
    size_t n = c->o->n;
    int T = net->threads > 1 ? net->threads : 1;
    if ((size_t)T > n)
        T = (int)(n ? n : 1);
    replica *reps = calloc((size_t)T, sizeof *reps);
    unsigned *boosts = malloc((n + 1) * sizeof *boosts);
    size_t *steps = malloc((n + 1) * sizeof *steps);
    int rc = SNN_OK;
    int built = 0;
    if (!reps || !boosts || !steps)
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory for phase '%s'", c->ph->name);
    for (; !rc && built < T; built++)
        rc = replica_init(&reps[built], net, false, c->pr.n_count, err);
    if (!rc) {
        frozen_job job = {.d = c->d, .idx = c->idx, .n = n, .stream = (uint32_t)c->f,
                          .pr = c->pr, .counts = c->o->counts, .boosts = boosts,
                          .steps = steps, .phase = c->f, .opts = c->opts};
        job.pr.rec = NULL;
        if (c->opts && c->opts->progress)
            c->opts->progress(c->opts->ud, c->f, 0, n);
        rc = run_parallel(net, reps, T, &job, err);
        if (rc == SNN_EINTR) {
            /* Abandoned: the network is still at the phase start, where a
               resumed run redoes the phase. */
            int r2 = take_ckpt(c->ck, c->f, 0, *c->seen, true, err);
            rc = r2 ? r2 : SNN_EINTR;
        }
    }
    if (!rc) {
        size_t total = 0;
        for (size_t s = 0; s < n; s++) {
            total += steps[s];
            if (c->f < 16)
                c->res->boosts[c->f] += boosts[s];
        }
        for (int t = 0; t < T; t++) {
            for (size_t i = 0; i < net->n_pops; i++)
                net->spike_count[i] += reps[t].net.spike_count[i];
            for (size_t j = 0; j < net->n_projs; j++)
                for (size_t q = 0; q < net->projs[j].n_parts; q++)
                    net->projs[j].parts[q].events += reps[t].net.projs[j].parts[q].events;
        }
        /* The network resumes from its phase-start state at k0 + total. */
        reps[0].net.step = net->step;
        copy_state(&reps[0].net, net, false);
        /* On this path the recorder holds weight snapshots only (spikes or
           state force the sequential path): hand it every step so that
           snapshots fall due exactly as in a sequential run. */
        size_t k1 = net->step + total;
        for (size_t k = net->step + 1; c->rec && !rc && k <= k1; k++) {
            net->step = k;
            rc = snn_rec_step(c->rec, net, err);
        }
        net->step = k1;
        copy_state(net, &reps[0].net, false);
        if (c->opts && c->opts->progress)
            c->opts->progress(c->opts->ud, c->f, n, n);
    }
    for (int t = 0; t < built; t++)
        replica_free(&reps[t]);
    free(reps);
    free(boosts);
    free(steps);
    return rc;
}

/* A frozen phase on the network itself (recording, time-dependent inputs). */
static int frozen_sequential(phase_ctx *c, uint32_t **row, snn_err *err)
{
    snn_net *net = c->net;
    replica snap;
    int rc = replica_init(&snap, net, true, 0, err);
    if (rc)
        return rc;
    snap.net.step = net->step;
    copy_state(&snap.net, net, true);
    size_t npix = c->d->rows * c->d->cols;
    if (c->opts && c->opts->progress)
        c->opts->progress(c->opts->ud, c->f, 0, c->o->n);
    for (size_t s = 0; s < c->o->n && !rc; s++) {
        copy_state(net, &snap.net, true);
        seed_sample(net, (uint32_t)c->f, s);
        for (size_t q = 0; q < c->pr.n_count; q++)
            row[q] = c->o->counts[q] + s * net->pops[c->pr.count[q]].n;
        unsigned b = 0;
        rc = snn_present_sample(net, &c->pr, c->d->images + c->idx[s] * npix, row, &b, err);
        if (!rc && c->f < 16)
            c->res->boosts[c->f] += b;
        if (!rc && c->opts && c->opts->progress)
            c->opts->progress(c->opts->ud, c->f, s + 1, c->o->n);
    }
    if (!rc)
        copy_state(net, &snap.net, true);
    replica_free(&snap);
    return rc;
}

/* A plastic phase: samples in order on the network. */
static int plastic(phase_ctx *c, snapper *sn, uint64_t *seen, snn_err *err)
{
    snn_net *net = c->net;
    const snn_spec *sp = net->spec;
    const snn_phase_spec *ph = c->ph;
    size_t nf = ph->n_features, npix = c->d->rows * c->d->cols;
    /* Count the features, then every pre/post population of a projection
       whose rule needs per-sample counts. */
    uint32_t *cnt = malloc((nf + 2 * net->n_projs + 1) * sizeof *cnt);
    uint32_t **row = calloc(nf + 2 * net->n_projs + 1, sizeof *row);
    learn_buf *lb = calloc(net->n_projs + 1, sizeof *lb);
    size_t n_lb = 0, n_cnt = nf;
    replica *reps = NULL;
    int T = net->threads > 1 ? net->threads : 1, built = 0;
    int rc = SNN_OK;
    if (!cnt || !row || !lb) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory for phase '%s'", ph->name);
        goto done;
    }
    if (nf)
        memcpy(cnt, ph->features, nf * sizeof *cnt);
    for (size_t j = 0; j < net->n_projs; j++) {
        snn_proj *pj = &net->projs[j];
        if (!pj->rule || pj->off || (!pj->spec->top_k && !pj->rule->type->on_sample_end))
            continue;
        learn_buf *L = &lb[n_lb++];
        L->pj = pj;
        uint32_t want[2] = {pj->pre->index, pj->post->index};
        int at[2];
        for (int e = 0; e < 2; e++) {
            size_t m = 0;
            while (m < n_cnt && cnt[m] != want[e])
                m++;
            if (m == n_cnt)
                cnt[n_cnt++] = want[e];
            at[e] = (int)m;
        }
        L->pre_row = at[0];
        L->post_row = at[1];
        L->restore = pj->spec->top_k && !pj->rule->spike_off;
        if (pj->spec->top_k && !(L->learn = malloc(pj->post->n)))
            rc = SNN_ENOMEM;
        if (L->restore && !(L->saved = malloc(proj_weights_n(pj) * sizeof(double) + 1)))
            rc = SNN_ENOMEM;
    }
    for (size_t q = nf; !rc && q < n_cnt; q++)
        if (!(row[q] = malloc(net->pops[cnt[q]].n * sizeof(uint32_t) + 1)))
            rc = SNN_ENOMEM;
    if (rc) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory for phase '%s'", ph->name);
        goto done;
    }
    snn_present pr = c->pr;
    pr.n_count = n_cnt;
    pr.count = cnt;
    bool snap = sn->on && ph->snapshot_every > 0;
    if (snap && sn->N) {
        if (!(reps = calloc((size_t)T, sizeof *reps))) {
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for phase '%s'", ph->name);
            goto done;
        }
        for (; !rc && built < T; built++)
            rc = replica_init(&reps[built], net, false, sn->n_pops, err);
        if (rc)
            goto done;
    }
    if (snap && c->s0 == 0 && (sn->S == 0 || sn->samples[sn->S - 1] != *seen) &&
        (rc = snapshot(sn, net, reps, T, &c->pr, *seen, err)))
        goto done;
    size_t every = c->opts ? c->opts->ckpt_every : 0;
    if (c->opts && c->opts->progress) /* where this run starts (resume: s0) */
        c->opts->progress(c->opts->ud, c->f, c->s0, c->o->n);
    for (size_t s = c->s0; s < c->o->n && !rc; s++) {
        size_t i = c->idx[s];
        for (size_t q = 0; q < nf; q++)
            row[q] = c->o->counts[q] + s * net->pops[cnt[q]].n;
        for (size_t m = 0; m < n_lb; m++)
            if (lb[m].restore)
                save_weights(lb[m].pj, lb[m].saved);
        seed_sample(net, (uint32_t)c->f, s);
        unsigned b = 0;
        if ((rc = snn_present_sample(net, &pr, c->d->images + i * npix, row, &b, err)))
            break;
        if (c->f < 16)
            c->res->boosts[c->f] += b;
        for (size_t m = 0; m < n_lb; m++) {
            learn_buf *L = &lb[m];
            snn_proj *pj = L->pj;
            if (L->learn)
                top_k_flags(row[L->post_row], pj->post->n, pj->spec->top_k, L->learn);
            if (L->restore)
                restore_losers(pj, L->saved, L->learn);
            if (pj->rule->type->on_sample_end) {
                snn_sample_stats st = {row[L->pre_row], row[L->post_row], sp->stim.present_ms,
                                       L->learn};
                pj->rule->type->on_sample_end(pj->rule, pj, &st);
                if (c->opts && c->opts->on_sample &&
                    (rc = c->opts->on_sample(c->opts->sample_ud, c->f, s, c->o->n,
                                             c->d->labels[i], pj, &st, err)))
                    break;
            }
        }
        if (rc)
            break;
        for (size_t j = 0; j < net->n_projs; j++)
            if (net->projs[j].spec->normalize > 0 && !net->projs[j].off)
                snn_net_normalize(net, &net->projs[j], net->projs[j].spec->normalize);
        ++*seen;
        if (snap && (s + 1) % ph->snapshot_every == 0 &&
            (rc = snapshot(sn, net, reps, T, &c->pr, *seen, err)))
            break;
        if (c->opts && c->opts->progress)
            c->opts->progress(c->opts->ud, c->f, s + 1, c->o->n);
        if (s + 1 < c->o->n &&
            (rc = take_ckpt(c->ck, c->f, s + 1, *seen, every && (s + 1) % every == 0, err)))
            break;
    }
done:
    for (int t = 0; t < built; t++)
        replica_free(&reps[t]);
    free(reps);
    for (size_t q = nf; row && q < n_cnt; q++)
        free(row[q]);
    for (size_t m = 0; lb && m < n_lb; m++) {
        free(lb[m].learn);
        free(lb[m].saved);
    }
    free(lb);
    free(row);
    free(cnt);
    return rc;
}

int snn_protocol_run(snn_net *net, const snn_dataset *const split[2], snn_rec *rec, snn_h5 *h5,
                     const snn_protocol_opts *opts, snn_protocol_result *res, snn_err *err)
{
    const snn_spec *sp = net->spec;
    memset(res, 0, sizeof *res);
    phase_out *outs = calloc(sp->n_phases + 1, sizeof *outs);
    if (!outs)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory");
    snapper sn;
    int rc = snapper_init(&sn, net, split, h5, err);
    uint64_t seen = 0;
    bool par_ok = frozen_parallel_ok(net, rec);
    snn_dataset *perturbed = NULL;
    size_t f0 = 0, s0 = 0, every = opts ? opts->ckpt_every : 0;
    ckpt_ctx k = {.opts = opts, .pc = {.net = net, .outs = outs, .res = res, .sn = &sn}};
    if (!rc && opts && opts->resume)
        rc = resume_load(opts->resume, net, outs, res, &sn, &f0, &s0, &seen, err);
    for (size_t f = f0; f < sp->n_phases && !rc; f++) {
        const snn_phase_spec *ph = &sp->phases[f];
        const snn_dataset *d = split[ph->split];
        if (!d) {
            rc = snn_err_set(err, SNN_EINTERNAL, "phase '%s': its split was not loaded", ph->name);
            break;
        }
        snn_dataset_free(perturbed);
        perturbed = NULL;
        if (ph->perturb.kind != SNN_PERTURB_NONE) {
            /* image i of the split is perturbed from stream (seed, kind, i),
               as the pixel readout does it (io/perturb.h) */
            if ((rc = snn_perturb_dataset(d, &ph->perturb, ph->perturb_seed, &perturbed, err)))
                break;
            d = perturbed;
        }
        if (ph->samples > d->n) {
            rc = snn_err_set(err, SNN_ECFG,
                             "%s:%d: phase '%s' asks for %zu samples but the %s set has %zu",
                             ph->where.file, ph->where.line, ph->name, ph->samples,
                             ph->split ? "test" : "training", d->n);
            break;
        }
        if (d->rows * d->cols != net->pops[sp->stim.input].n) {
            rc = snn_err_set(err, SNN_ECFG, "stimulus input '%s' has %zu neurons but the images "
                             "have %zu x %zu pixels", net->pops[sp->stim.input].name,
                             net->pops[sp->stim.input].n, d->rows, d->cols);
            break;
        }
        phase_out *o = &outs[f];
        o->n = ph->samples;
        size_t *idx = malloc((d->n + 1) * sizeof *idx);
        o->labels = malloc((o->n + 1) * sizeof *o->labels);
        o->indices = malloc((o->n + 1) * sizeof *o->indices);
        o->counts = calloc(ph->n_features + 1, sizeof *o->counts);
        uint32_t **row = calloc(ph->n_features + 1, sizeof *row);
        bool ok = idx && o->labels && o->indices && o->counts && row;
        for (size_t q = 0; ok && q < ph->n_features; q++)
            ok = (o->counts[q] = malloc(o->n * net->pops[ph->features[q]].n *
                                        sizeof(uint32_t) + 1)) != NULL;
        if (!ok) {
            free(idx);
            free(row);
            rc = snn_err_set(err, SNN_ENOMEM, "out of memory for phase '%s'", ph->name);
            break;
        }
        if ((rc = order(ph, d->n, idx, err))) {
            free(idx);
            free(row);
            break;
        }
        for (size_t s = 0; s < o->n; s++) {
            o->labels[s] = d->labels[idx[s]];
            o->indices[s] = idx[s];
        }
        size_t first = f == f0 ? s0 : 0;
        if (first && (rc = phase_rows(opts->resume, true, net, f, o, first, err))) {
            free(idx);
            free(row);
            break;
        }
        phase_ctx c = {
            .net = net, .ph = ph, .f = f, .d = d, .idx = idx, .o = o, .rec = rec, .opts = opts,
            .res = res,
            .pr = {.input = sp->stim.input, .max_rate_hz = sp->stim.max_rate_hz,
                   .intensity = sp->stim.intensity, .present_ms = sp->stim.present_ms,
                   .rest_ms = sp->stim.rest_ms, .watch = sp->stim.watch,
                   .min_spikes = sp->stim.min_spikes, .intensity_step = sp->stim.intensity_step,
                   .max_boosts = sp->stim.max_boosts, .n_count = ph->n_features,
                   .count = ph->features, .rec = rec, .stop = opts ? opts->stop : NULL},
            .ck = &k, .seen = &seen, .s0 = first};
        /* Only the copies of a parallel frozen phase stop inside a sample:
           plastic phases stop between samples (take_ckpt), and a frozen
           phase on the network itself is finished first. */
        if (ph->plastic || !par_ok)
            c.pr.stop = NULL;
        snn_net_set_plastic(net, ph->plastic);
        /* Switch the phase's `off` projections off and set its gains before
           any copy of the network exists (the copies of a parallel frozen
           phase take them with the projection, and only read them); reset
           after the loop. */
        set_off(net, ph);
        /* learning steps the network partition after partition on one thread
           unless simulation.parallel_learning (identical results) */
        net->serial = ph->plastic && !sp->parallel_learning;
        double t0 = now_s();
        if (ph->plastic)
            rc = plastic(&c, &sn, &seen, err);
        else if (par_ok)
            rc = frozen_parallel(&c, err);
        else
            rc = frozen_sequential(&c, row, err);
        double el = now_s() - t0;
        if (f < 16)
            res->samples_per_s[f] = el > 0 ? (double)(o->n - first) / el : 0;
        free(idx);
        free(row);
        if (!rc && h5)
            rc = write_phase(h5, net, ph, o, err);
        if (!rc)
            rc = take_ckpt(&k, f + 1, 0, seen, every > 0, err);
    }
    snn_dataset_free(perturbed);
    snn_net_set_plastic(net, true);
    set_off(net, NULL);
    net->serial = false;
    if (!rc)
        rc = snapper_write(&sn, net, err);
    if (!rc && sp->eval.vote)
        rc = evaluate(net, sp, outs, h5, res, err);
    if (!rc && opts && opts->keep_features)
        rc = keep_features(net, sp, outs, res, err);
    for (size_t f = 0; f < sp->n_phases; f++)
        phase_out_free(&outs[f], sp->phases[f].n_features);
    free(outs);
    snapper_free(&sn);
    return rc;
}
