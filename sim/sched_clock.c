/*
 * sim/sched_clock.c: the clock-driven step loop.
 *
 * One OpenMP parallel region spans the whole run.  Per step:
 *   1. current-input changes due at t_k are in place (applied by one
 *      thread at the end of the previous step);
 *   2. all threads update (population, block) work items: deliver ring slot
 *      k mod D, integrate exactly over dt, list the spikes (at t_{k+1});
 *   3. thread t routes every spike into partition t of each projection
 *      (ring slot k+1+delay mod D of the target), calling the plasticity
 *      hooks of that partition;
 *   4. one thread applies the direct winner-take-all reset (stimulus.wta,
 *      sim/protocol.h), counts spikes and hands the step to the recorder (while
 *      the others may still deliver, unless weights are plastic).
 * Barriers separate the phases; no atomics, no locks, no allocation.
 */
#include "sched.h"

#include <omp.h>
#include <string.h>

#include "rec.h"

static void apply_currents(snn_net *net, size_t k)
{
    bool changed = false;
    for (size_t c = 0; c < net->n_currents; c++) {
        snn_current *cu = &net->currents[c];
        while (cu->next < cu->n_changes && cu->step[cu->next] <= k) {
            cu->amp = cu->spec->amp_pA[cu->next++];
            changed = true;
        }
    }
    if (!changed)
        return;
    /* Recompute the external current of every target from scratch, inputs
       added in file order, so the sum never drifts. */
    for (size_t c = 0; c < net->n_currents; c++)
        memset(net->currents[c].target->i_ext, 0, net->currents[c].target->n * sizeof(double));
    for (size_t c = 0; c < net->n_currents; c++) {
        const snn_current *cu = &net->currents[c];
        double *ie = cu->target->i_ext;
        if (cu->spec->n_neurons == 0)
            for (size_t i = 0; i < cu->target->n; i++)
                ie[i] += cu->amp;
        else
            for (size_t m = 0; m < cu->spec->n_neurons; m++)
                ie[cu->spec->neurons[m]] += cu->amp;
    }
}

/* Plasticity of partition pt at step k: on_pre for each pre spike's row,
   then on_post for each post spike of the partition (sim/net.h views). */
static void plasticity_pre(snn_proj *pj, snn_part *pt, uint32_t pre, size_t k)
{
    const snn_rule *r = pj->rule;
    if (pj->dense) {
        size_t lo = pt->post_lo, n = pt->post_hi - lo;
        r->type->on_pre(r, pj, pre, pt->post_ids, pj->w_dense + (size_t)pre * pj->post->n + lo,
                        n, k);
    } else {
        size_t k0 = pt->row[pre], k1 = pt->row[pre + 1];
        if (k1 > k0)
            r->type->on_pre(r, pj, pre, pt->col + k0, pt->w + k0, k1 - k0, k);
    }
}

static void plasticity_post(snn_proj *pj, snn_part *pt, size_t k)
{
    const snn_rule *r = pj->rule;
    const snn_pop *post = pj->post;
    for (size_t b = pt->post_lo / SNN_BLOCK; b < post->n_blk && b * SNN_BLOCK < pt->post_hi; b++) {
        const snn_spikes *s = &post->spk[b];
        for (size_t m = 0; m < s->n; m++) {
            uint32_t j = s->id[m];
            if (pj->dense) {
                size_t n_pre = pj->pre->n, n_post = post->n;
                for (size_t i = 0; i < n_pre; i++)
                    pt->cpos[i] = i * n_post + j;
                r->type->on_post(r, pj, j, pt->all_pre, pt->cpos, pj->w_dense, n_pre, k);
            } else {
                size_t c0 = pt->cptr[j - pt->post_lo], c1 = pt->cptr[j - pt->post_lo + 1];
                r->type->on_post(r, pj, j, pt->cpre + c0, pt->cpos + c0, pt->w, c1 - c0, k);
            }
        }
    }
}

/* Route the spikes of pj's pre population at step k into partition pt.
   A projection switched off for the phase (pj->off, sim/protocol.h)
   delivers nothing, counts no events and calls no rule.  Each spike (of
   multiplicity m) adds m * gain * w to its targets (pj->gain: the phase's
   factor, 1 otherwise). */
static void transmit(snn_proj *pj, snn_part *pt, size_t k, bool frozen)
{
    if (pj->off)
        return;
    const snn_pop *pre = pj->pre;
    snn_pop *post = pj->post;
    size_t D = post->ring_slots;
    uint64_t ev = 0;
    bool rule_on = !frozen && pj->rule && !pj->rule->spike_off;
    bool pre_rule = rule_on && pj->rule->type->on_pre;
    double gain = pj->gain;   /* 1 outside phases that scale pj: mu * 1 is mu, exactly */
    if (pj->dense) {
        double *dst = snn_pop_slot(post, (k + 1 + pj->delay) % D, (size_t)pj->channel);
        size_t lo = pt->post_lo, hi = pt->post_hi, n_post = post->n;
        for (size_t b = 0; b < pre->n_blk; b++) {
            const snn_spikes *s = &pre->spk[b];
            for (size_t m = 0; m < s->n; m++) {
                if (pre_rule)
                    plasticity_pre(pj, pt, s->id[m], k);
                const double *w = pj->w_dense + (size_t)s->id[m] * n_post;
                double mu = (double)s->mult[m] * gain;
                if (mu == 1.0)
                    for (size_t j = lo; j < hi; j++)
                        dst[j] += w[j];
                else
                    for (size_t j = lo; j < hi; j++)
                        dst[j] += mu * w[j];
                ev += (uint64_t)s->mult[m] * (hi - lo);
            }
        }
    } else {
        const size_t *row = pt->row;
        const uint32_t *col = pt->col;
        const double *w = pt->w;
        /* one ring slot for a homogeneous delay */
        double *dst = pt->delay ? NULL
                                : snn_pop_slot(post, (k + 1 + pj->delay) % D, (size_t)pj->channel);
        for (size_t b = 0; b < pre->n_blk; b++) {
            const snn_spikes *s = &pre->spk[b];
            for (size_t m = 0; m < s->n; m++) {
                uint32_t i = s->id[m];
                size_t k0 = row[i], k1 = row[i + 1];
                if (k0 == k1)
                    continue;
                if (pre_rule)
                    plasticity_pre(pj, pt, i, k);
                double mu = (double)s->mult[m] * gain;
                if (pt->delay) {
                    for (size_t q = k0; q < k1; q++) {
                        double *slot = snn_pop_slot(post, (k + 1 + pt->delay[q]) % D,
                                                    (size_t)pj->channel);
                        slot[col[q]] += mu * w[q];
                    }
                } else {
                    if (mu == 1.0)
                        for (size_t q = k0; q < k1; q++)
                            dst[col[q]] += w[q];
                    else
                        for (size_t q = k0; q < k1; q++)
                            dst[col[q]] += mu * w[q];
                }
                ev += (uint64_t)s->mult[m] * (k1 - k0);
            }
        }
    }
    pt->events += ev;
    if (rule_on && pj->rule->type->on_post)
        plasticity_post(pj, pt, k);
}

/* Direct winner-take-all (spec->stim.wta, sim/protocol.h): if neurons of
   the population spiked in this step, the membrane of every other neuron is
   reset to V_reset at t_{k+1}.  One thread; delivery never reads V. */
static void wta_reset(snn_net *net)
{
    const snn_stim_spec *st = &net->spec->stim;
    if (!st->wta)
        return;
    snn_pop *p = &net->pops[st->wta_pop];
    size_t fired = 0;
    for (size_t b = 0; b < p->n_blk; b++)
        fired += p->spk[b].n;
    int v = snn_model_state_index(p->type, "V_m"), r = snn_model_param_index(p->type, "V_reset");
    if (!fired || v < 0 || r < 0)
        return;
    double *V = p->x[v], vr = p->par[r];
    for (size_t b = 0; b < p->n_blk; b++) {
        const snn_spikes *s = &p->spk[b];
        size_t m = 0;
        for (size_t i = b * SNN_BLOCK; i < snn_blk_end(p, b); i++) {
            if (m < s->n && s->id[m] == i)
                m++;
            else
                V[i] = vr;
        }
    }
}

/* The one-thread part of a step, after all spikes are routed: count spikes,
   hand the step to the recorder, apply the next step's current changes,
   report progress.  Returns non-zero when the run must stop. */
static int end_step(snn_net *net, size_t k, size_t k0, size_t k1, snn_rec *rec,
                    const snn_run_opts *opts, int *status, snn_err *rec_err)
{
    wta_reset(net);
    for (size_t i = 0; i < net->n_pops; i++) {
        const snn_pop *p = &net->pops[i];
        uint64_t c = 0;
        for (size_t b = 0; b < p->n_blk; b++)
            for (size_t m = 0; m < p->spk[b].n; m++)
                c += p->spk[b].mult[m];
        net->spike_count[i] += c;
    }
    net->step = k + 1;
    int quit = 0;
    if (rec && snn_rec_step(rec, net, rec_err)) {
        *status = rec_err->code;
        quit = 1;
    }
    if (opts && opts->on_step)
        opts->on_step(opts->step_ud, net);
    if (opts && opts->stop && *opts->stop && !quit) {
        *status = SNN_EINTR;
        quit = 1;
    }
    if (k + 1 < k1)
        apply_currents(net, k + 1);
    if (opts && opts->progress && opts->progress_every &&
        ((k + 1 - k0) % opts->progress_every == 0 || k + 1 == k1))
        opts->progress(opts->ud, k + 1, net->n_steps);
    return quit;
}

int snn_sched_clock_run(snn_net *net, size_t n_steps, snn_rec *rec, const snn_run_opts *opts,
                        snn_err *err)
{
    size_t k0 = net->step, k1 = net->step + n_steps;
    int status = SNN_OK;
    snn_err rec_err;
    snn_err_clear(&rec_err);
    volatile int quit = 0;

    if (k0 < k1)
        apply_currents(net, k0);
    for (size_t i = 0; i < net->n_pops; i++) {
        snn_pop *p = &net->pops[i];
        p->plan = p->type->plan ? p->type->plan(p) : 0;
    }
    bool plastic = false;
    for (size_t j = 0; j < net->n_projs; j++)
        plastic |= net->projs[j].rule != NULL && !net->projs[j].rule->spike_off &&
                   !net->plasticity_off;
    if (net->threads <= 1 || net->serial) {
        /* No OpenMP region: even a team of one pays barrier system calls. */
        for (size_t k = k0; k < k1 && !quit; k++) {
            for (size_t w = 0; w < net->n_work; w++) {
                snn_pop *p = &net->pops[net->work[w].pop];
                snn_pop_step_block(p, net->work[w].blk, k % p->ring_slots, k);
            }
            for (size_t j = 0; j < net->n_projs; j++)
                for (size_t t = 0; t < net->projs[j].n_parts; t++)
                    transmit(&net->projs[j], &net->projs[j].parts[t], k, net->plasticity_off);
            quit = end_step(net, k, k0, k1, rec, opts, &status, &rec_err);
        }
    } else {
#pragma omp parallel num_threads(net->threads)
        {
            int tid = omp_get_thread_num(), nth = omp_get_num_threads();
            for (size_t k = k0; k < k1; k++) {
                /* Thread t updates the same contiguous block range of each
                   population as it owns in every projection partition
                   (sim/connect.c), so the ring slots it fills stay in its
                   own cache; no scheduling atomics. */
                for (size_t i = 0; i < net->n_pops; i++) {
                    snn_pop *p = &net->pops[i];
                    size_t b0 = (size_t)tid * p->n_blk / (size_t)nth;
                    size_t b1 = (size_t)(tid + 1) * p->n_blk / (size_t)nth;
                    for (size_t b = b0; b < b1; b++)
                        snn_pop_step_block(p, b, k % p->ring_slots, k);
                }
#pragma omp barrier
                /* every spike list of step k is complete */
                for (size_t j = 0; j < net->n_projs; j++) {
                    snn_proj *pj = &net->projs[j];
                    for (size_t t = (size_t)tid; t < pj->n_parts; t += (size_t)nth)
                        transmit(pj, &pj->parts[t], k, net->plasticity_off);
                }
                /* The recorder reads spike lists and state, which delivery
                   leaves alone; only plastic weights need delivery done. */
                if (plastic) {
#pragma omp barrier
                }
#pragma omp single
                quit = end_step(net, k, k0, k1, rec, opts, &status, &rec_err);
                /* implicit barrier: everyone sees quit */
                if (quit)
                    break;
            }
        }
    }
    if (status == SNN_EINTR)
        SNN_FAIL(err, SNN_EINTR, "interrupted at t = %g ms (step %zu of %zu)",
                 (double)net->step * net->dt_ms, net->step, net->n_steps);
    if (status) {
        if (err)
            *err = rec_err;
        return status;
    }
    return SNN_OK;
}
