/*
 * sim/net.c: building a network from a spec: populations (sim/pop.c), input
 * rings sized by the longest incoming delay, current-input schedules and
 * projections (sim/connect.c draws the synapses).
 */
#include "net.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connect.h"
#include "sched_event.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Delay of a projection spec in steps: [lo, hi]. */
static void delay_steps(const snn_proj_spec *ps, double dt, uint32_t *lo, uint32_t *hi)
{
    const snn_dist *d = &ps->delay_ms;
    if (d->kind == SNN_DIST_UNIFORM) {
        *lo = (uint32_t)lround(d->a / dt);
        *hi = (uint32_t)lround(d->b / dt);
    } else {
        *lo = *hi = (uint32_t)lround((d->kind == SNN_DIST_CONST ? d->a : dt) / dt);
    }
}

static int build_currents(snn_net *net, snn_err *err)
{
    const snn_spec *s = net->spec;
    net->n_currents = s->n_currents;
    if (!s->n_currents)
        return SNN_OK;
    net->currents = calloc(s->n_currents, sizeof *net->currents);
    if (!net->currents)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for current inputs");
    for (size_t c = 0; c < s->n_currents; c++) {
        const snn_current_spec *cs = &s->currents[c];
        snn_current *cu = &net->currents[c];
        cu->spec = cs;
        cu->target = &net->pops[cs->target];
        cu->n_changes = cs->n_changes;
        cu->step = calloc(cs->n_changes ? cs->n_changes : 1, sizeof *cu->step);
        if (!cu->step)
            SNN_FAIL(err, SNN_ENOMEM, "out of memory for current inputs");
        /* A change at t_ms takes effect from the step that starts at t. */
        for (size_t j = 0; j < cs->n_changes; j++)
            cu->step[j] = (size_t)llround(cs->t_ms[j] / net->dt_ms);
        int rc = snn_pop_enable_iext(cu->target, err);
        if (rc)
            return rc;
    }
    return SNN_OK;
}

/* Instantiate the projection's plasticity rule; its prepare requests traces. */
static int attach_rule(snn_net *net, snn_proj *pj, snn_err *err)
{
    const snn_proj_spec *ps = pj->spec;
    const snn_rule_type *t = ps->rule;
    pj->rule = calloc(1, sizeof *pj->rule);
    if (!pj->rule)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the rule of '%s'", ps->name);
    pj->rule->type = t;
    pj->rule->par = ps->rule_par;
    pj->rule->consts = calloc(1, t->consts_size ? t->consts_size : 1);
    if (!pj->rule->consts)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the rule of '%s'", ps->name);
    int rc = t->prepare ? t->prepare(pj->rule, pj, net->dt_ms, err) : SNN_OK;
    if (rc) {
        char inner[sizeof err->msg];
        snprintf(inner, sizeof inner, "%s", err ? err->msg : "");
        SNN_FAIL(err, rc, "%s:%d: projection '%s' (rule %s): %s", ps->where.file, ps->where.line,
                 ps->name, t->name, inner);
    }
    /* Initial weights outside the rule's bounds would be clipped silently at
       the first spike: refuse them instead. */
    double lo = -INFINITY, hi = INFINITY;
    for (size_t i = 0; i < t->n_params; i++) {
        if (strcmp(t->params[i].key, "w_min") == 0)
            lo = ps->rule_par[i];
        else if (strcmp(t->params[i].key, "w_max") == 0)
            hi = ps->rule_par[i];
    }
    size_t n = pj->dense ? pj->pre->n * pj->post->n : 0;
    for (size_t q = 0; q < n; q++)
        if (pj->w_dense[q] < lo || pj->w_dense[q] > hi)
            goto out_of_bounds;
    for (size_t p = 0; !pj->dense && p < pj->n_parts; p++)
        for (size_t q = 0; q < pj->parts[p].nnz; q++)
            if (pj->parts[p].w[q] < lo || pj->parts[p].w[q] > hi)
                goto out_of_bounds;
    return SNN_OK;
out_of_bounds:
    SNN_FAIL(err, SNN_ECFG,
             "%s:%d: projection '%s': initial weights must lie within the rule's bounds "
             "[w_min, w_max] = [%g, %g] %s",
             ps->where.file, ps->where.line, ps->name, lo, hi,
             pj->post->type->weight_unit(pj->post->par));
}

/*
 * Threads worth using when none are asked for.  Each clock step costs two
 * barriers (spike lists complete; delivery and the serial end of the step
 * done) whatever the network, and a thread saves only the update and
 * delivery of its share of the blocks.  On CUBA (experiments/cuba.cfg, 16
 * blocks of 256 neurons, ~5 Hz) 2 threads are ~1.3x slower than 1 on an
 * idle 2-core machine, and far slower when the cores are shared: the
 * barriers cost as much as updating some 15-30 blocks.  So the default (the
 * OpenMP thread count) is cut to one thread per AUTO_BLOCKS_PER_THREAD
 * blocks of neurons and sources, at least one.  The rule reads only the
 * sizes in the spec, and results are bit-identical for any thread count
 * anyway.  An explicit count (the `threads` argument, simulation.threads,
 * snn --threads) is always used as given, and runs with phases use the
 * OpenMP default (their frozen phases are parallel across samples).
 */
#define AUTO_BLOCKS_PER_THREAD 32

static int auto_threads(const snn_spec *spec)
{
    /* Runs with phases: frozen phases run their samples in parallel, one
       network copy per thread, whatever the network's size (and learning
       phases step on one thread unless simulation.parallel_learning). */
    if (spec->n_phases > 0)
        return omp_get_max_threads();
    size_t blocks = 0;
    for (size_t i = 0; i < spec->n_pops; i++)
        blocks += (spec->pops[i].n + SNN_BLOCK - 1) / SNN_BLOCK;
    size_t useful = blocks / AUTO_BLOCKS_PER_THREAD, max = (size_t)omp_get_max_threads();
    if (useful < 1)
        useful = 1;
    return (int)(useful < max ? useful : max);
}

int snn_net_build(snn_net **out, const snn_spec *spec, int threads, snn_err *err)
{
    double t0 = now_s();
    *out = NULL;
    snn_net *net = calloc(1, sizeof *net);
    if (!net)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory");
    net->spec = spec;
    net->dt_ms = spec->dt_ms;
    net->n_steps = (size_t)llround(spec->duration_ms / spec->dt_ms);
    if (threads <= 0)
        threads = spec->threads;
    if (threads <= 0)
        threads = auto_threads(spec);
    net->threads = threads;

    int rc = SNN_OK;
    net->n_pops = spec->n_pops;
    net->pops = calloc(spec->n_pops ? spec->n_pops : 1, sizeof *net->pops);
    net->spike_count = calloc(spec->n_pops ? spec->n_pops : 1, sizeof *net->spike_count);
    if (!net->pops || !net->spike_count) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory");
        goto fail;
    }
    /* Ring slots: arrivals are written up to max_delay + 1 steps ahead of the
       slot being read, so max_delay + 2 slots never collide. */
    for (size_t i = 0; i < spec->n_pops; i++) {
        uint32_t maxd = 0;
        for (size_t j = 0; j < spec->n_projs; j++) {
            uint32_t lo, hi;
            if (spec->projs[j].post != i)
                continue;
            delay_steps(&spec->projs[j], spec->dt_ms, &lo, &hi);
            if (lo < 1 || hi > SNN_MAX_DELAY_STEPS) {
                rc = snn_err_set(err, SNN_ECFG,
                                 "%s:%d: projection '%s': delay must be between 1 and %d steps",
                                 spec->projs[j].where.file, spec->projs[j].where.line,
                                 spec->projs[j].name, SNN_MAX_DELAY_STEPS);
                goto fail;
            }
            if (hi > maxd)
                maxd = hi;
        }
        rc = snn_pop_init(&net->pops[i], &spec->pops[i], (uint32_t)i, spec->dt_ms, spec->seed,
                          spec->pops[i].type->n_channels ? maxd + 2 : 1, err);
        if (rc) {
            net->n_pops = i; /* only the first i are built */
            goto fail;
        }
    }
    size_t nw = 0;
    for (size_t i = 0; i < net->n_pops; i++)
        nw += net->pops[i].n_blk;
    net->work = malloc((nw ? nw : 1) * sizeof *net->work);
    if (!net->work) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < net->n_pops; i++)
        for (size_t b = 0; b < net->pops[i].n_blk; b++)
            net->work[net->n_work++] = (snn_work){(uint32_t)i, (uint32_t)b};

    rc = build_currents(net, err);
    if (rc)
        goto fail;

    net->n_projs = spec->n_projs;
    net->projs = calloc(spec->n_projs ? spec->n_projs : 1, sizeof *net->projs);
    if (!net->projs) {
        rc = snn_err_set(err, SNN_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t j = 0; j < spec->n_projs; j++) {
        rc = snn_connect(net, &net->projs[j], &spec->projs[j], (uint32_t)j, err);
        net->projs[j].gain = 1.0;
        if (!rc && spec->projs[j].rule)
            rc = attach_rule(net, &net->projs[j], err);
        if (rc) {
            net->n_projs = j + 1; /* snn_connect leaves a clearable projection */
            goto fail;
        }
    }
    if (spec->integrator == SNN_INTEGRATOR_EVENT && (rc = snn_sched_event_prepare(net, err)))
        goto fail;
    net->build_s = now_s() - t0;
    *out = net;
    return SNN_OK;
fail:
    snn_net_free(net);
    return rc;
}

void snn_net_free(snn_net *net)
{
    if (!net)
        return;
    snn_sched_event_free(net->ev);
    for (size_t j = 0; net->projs && j < net->n_projs; j++)
        snn_connect_clear(&net->projs[j]);
    free(net->projs);
    for (size_t c = 0; net->currents && c < net->n_currents; c++)
        free(net->currents[c].step);
    free(net->currents);
    for (size_t i = 0; net->pops && i < net->n_pops; i++)
        snn_pop_clear(&net->pops[i]);
    free(net->pops);
    free(net->work);
    free(net->spike_count);
    free(net);
}

void snn_net_set_plastic(snn_net *net, bool on)
{
    net->plasticity_off = !on;
}

/* Normalise the targets of one partition: sums in canonical (pre) order. */
static void normalize_part(const snn_proj *pj, snn_part *pt, double total)
{
    size_t lo = pt->post_lo, n_loc = pt->post_hi - lo, n_pre = pj->pre->n;
    double *sum = pt->col_sum;
    memset(sum, 0, n_loc * sizeof *sum);
    if (pj->dense) {
        size_t n_post = pj->post->n;
        for (size_t i = 0; i < n_pre; i++) {
            const double *w = pj->w_dense + i * n_post + lo;
            for (size_t j = 0; j < n_loc; j++)
                sum[j] += w[j];
        }
        for (size_t j = 0; j < n_loc; j++)
            sum[j] = sum[j] != 0.0 ? total / sum[j] : 1.0;
        for (size_t i = 0; i < n_pre; i++) {
            double *w = pj->w_dense + i * n_post + lo;
            for (size_t j = 0; j < n_loc; j++)
                w[j] *= sum[j];
        }
        return;
    }
    for (size_t q = 0; q < pt->nnz; q++)
        sum[pt->col[q] - lo] += pt->w[q];
    for (size_t j = 0; j < n_loc; j++)
        sum[j] = sum[j] != 0.0 ? total / sum[j] : 1.0;
    for (size_t q = 0; q < pt->nnz; q++)
        pt->w[q] *= sum[pt->col[q] - lo];
}

/* Partitions normalise independently (same result for any thread count);
   on the calling thread alone while the network steps serially, where a
   parallel region per learning sample costs more than it saves. */
void snn_net_normalize(snn_net *net, snn_proj *pj, double total)
{
#pragma omp parallel for num_threads(net->threads) schedule(static, 1) if (net->threads > 1 && !net->serial)
    for (size_t t = 0; t < pj->n_parts; t++)
        normalize_part(pj, &pj->parts[t], total);
}

int snn_net_pop_index(const snn_net *net, const char *name)
{
    for (size_t i = 0; i < net->n_pops; i++)
        if (strcmp(net->pops[i].name, name) == 0)
            return (int)i;
    return -1;
}

size_t snn_net_synapses(const snn_net *net)
{
    size_t n = 0;
    for (size_t j = 0; j < net->n_projs; j++)
        n += net->projs[j].nnz;
    return n;
}

uint64_t snn_net_events(const snn_net *net)
{
    uint64_t e = 0;
    for (size_t j = 0; j < net->n_projs; j++)
        for (size_t t = 0; t < net->projs[j].n_parts; t++)
            e += net->projs[j].parts[t].events;
    return e;
}

void snn_net_weights(const snn_proj *pj, double *w, uint64_t *pre, uint64_t *post)
{
    size_t n_pre = pj->pre->n, n_post = pj->post->n, m = 0;
    if (pj->dense) {
        memcpy(w, pj->w_dense, n_pre * n_post * sizeof *w);
        if (pre && post)
            for (size_t i = 0; i < n_pre; i++)
                for (size_t j = 0; j < n_post; j++, m++) {
                    pre[m] = i;
                    post[m] = j;
                }
        return;
    }
    for (size_t i = 0; i < n_pre; i++)
        for (size_t t = 0; t < pj->n_parts; t++) {
            const snn_part *pt = &pj->parts[t];
            for (size_t k = pt->row[i]; k < pt->row[i + 1]; k++, m++) {
                w[m] = pt->w[k];
                if (pre && post) {
                    pre[m] = i;
                    post[m] = pt->col[k];
                }
            }
        }
}
