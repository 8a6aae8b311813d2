/*
 * sim/net.h: a built network: populations, projections, current inputs and
 * the clock-driven scheduler's bookkeeping.
 *
 * Ownership: snn_net_build() borrows the spec (it must outlive the net) and
 * allocates everything the run needs; snn_net_free() releases it all.
 * Nothing is allocated while stepping.
 *
 * Projections are stored once per target partition: the post population is
 * cut into contiguous ranges of whole blocks, one per thread, and each
 * partition keeps the synapses onto its range as CSR rows by pre neuron
 * (row[pre]..row[pre+1] index col/w/delay; col ascending).  Only the thread
 * owning a partition writes its weights and its targets' ring slots, so
 * delivery needs no atomics, and because every target sums its inputs in the
 * canonical spike order, results do not depend on the number of partitions.
 * All-to-all projections with one delay are dense, w[pre * n_post + post].
 */
#ifndef SNN_NET_H
#define SNN_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../rules/rule.h"
#include "pop.h"
#include "spec.h"

typedef struct snn_part {
    uint32_t post_lo, post_hi;   /* target range [lo, hi) */
    size_t nnz;
    size_t *row;                 /* n_pre + 1 (sparse only) */
    uint32_t *col;               /* post ids */
    double *w;                   /* weights, the post model's unit */
    uint16_t *delay;             /* per-synapse delay in steps, or NULL */
    double *delay_ms;            /* the same delays as drawn (ms), unrounded: event
                                    integrator only (sim/sched_event.h), else NULL */
    /* Plastic projections only: each target's incoming synapses, for
       on_post.  Sparse: cptr[j - post_lo].. index cpre (pre id) and cpos
       (position in w).  Dense: post_ids (post_lo..post_hi), all_pre
       (0..n_pre) and cpos, a scratch column filled per post spike. */
    size_t *cptr;
    uint32_t *cpre;
    size_t *cpos;
    uint32_t *post_ids, *all_pre;
    double *col_sum;             /* post_hi - post_lo scratch sums (normalisation) */
    uint64_t events;             /* synaptic events delivered (counter) */
    char pad[64];                /* keep counters of partitions apart */
} snn_part;

typedef struct snn_proj {
    const snn_proj_spec *spec;
    uint32_t index;
    snn_pop *pre, *post;
    int channel;
    bool dense;
    double *w_dense;             /* dense: n_pre * n_post */
    uint32_t delay;              /* homogeneous delay in steps, 0 if per synapse */
    uint32_t max_delay;          /* steps */
    size_t nnz;
    size_t n_parts;
    snn_part *parts;
    snn_rule *rule;              /* plasticity (owned); NULL: static weights */
    bool off;                    /* delivers nothing, learns nothing: set by sim/protocol.c
                                    for the phases that list it in `off` */
    double gain;                 /* delivered weight = gain * w (clock integrator); 1 except
                                    in the phases that list it in `gain` (sim/protocol.c) */
} snn_proj;

/* Piecewise-constant current input, applied at step boundaries. */
typedef struct snn_current {
    const snn_current_spec *spec;
    snn_pop *target;
    size_t n_changes;
    size_t *step;                /* step at which change j takes effect */
    size_t next;                 /* next change to apply */
    double amp;                  /* amplitude in effect (pA) */
} snn_current;

typedef struct snn_work {
    uint32_t pop, blk;
} snn_work;

typedef struct snn_net {
    const snn_spec *spec;
    double dt_ms;
    size_t n_steps;              /* of the whole run */
    size_t step;                 /* steps done so far */
    int threads;                 /* OpenMP threads = target partitions */
    size_t n_pops;
    snn_pop *pops;
    size_t n_projs;
    snn_proj *projs;
    size_t n_currents;
    snn_current *currents;
    size_t n_work;
    snn_work *work;              /* every (population, block), canonical order */
    uint64_t *spike_count;       /* n_pops, spikes so far */
    bool plasticity_off;         /* rules are not called (frozen phases) */
    bool serial;                 /* step on the calling thread only, partition after
                                    partition (same results; no barriers) */
    double build_s;              /* wall time of snn_net_build */
    struct snn_event *ev;        /* event-driven integrator state (sim/sched_event.h),
                                    NULL for simulation.integrator = "clock" */
} snn_net;

/*
 * snn_net_build: allocate and connect the network described by `spec`
 * (borrowed).  Connectivity, weights and delays are drawn per target block
 * from that block's stream, so they do not depend on the thread count.
 * `threads` <= 0 takes spec->threads, then the OpenMP default, cut to one
 * thread per 32 blocks of neurons and sources (at least one) for runs
 * without phases (sim/net.c).
 */
int snn_net_build(snn_net **out, const snn_spec *spec, int threads, snn_err *err);

void snn_net_free(snn_net *net);

/* Switch every plasticity rule off (frozen weights) or back on. */
void snn_net_set_plastic(snn_net *net, bool on);

/*
 * snn_net_normalize: scale the incoming weights of every target neuron of
 * projection pj so that they sum to `total` (Diehl & Cook's normalisation;
 * the ratios between a neuron's weights are kept).  Targets whose weights sum
 * to 0 are left alone.  Runs on the partitions' threads; no allocation.
 */
void snn_net_normalize(snn_net *net, snn_proj *pj, double total);

/* Index of a population / projection by name, or -1. */
int snn_net_pop_index(const snn_net *net, const char *name);

/* Total synapses, and synaptic events delivered so far (sum over partitions). */
size_t snn_net_synapses(const snn_net *net);
uint64_t snn_net_events(const snn_net *net);

/*
 * snn_net_weights: copy projection pj's weights in canonical order (by pre,
 * then post) into w (pj->nnz values).  If pre/post are not NULL, also fill
 * the indices.  Dense projections give n_pre * n_post values row-major.
 */
void snn_net_weights(const snn_proj *pj, double *w, uint64_t *pre, uint64_t *post);

#endif
