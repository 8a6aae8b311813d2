/*
 * rules/rule.h: the one interface a plasticity rule implements.
 *
 * A rule is attached to a projection (parameter file: the projection's
 * `plasticity` group).  The engine calls it once per spike, never per
 * synapse per step, so the synapse loop sits inside the rule and can
 * vectorise.  Calls come from the thread that owns the projection's target
 * partition, and hand the rule only synapses of that partition, so a rule
 * writes its weights without atomics and the result does not depend on the
 * thread count.  Within a step, every on_pre of the partition comes before
 * its on_post calls; traces (sim/model.h, snn_trace) exclude the spikes of
 * the current step.
 */
#ifndef SNN_RULE_H
#define SNN_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../sim/model.h"

struct snn_proj;

typedef struct snn_rule {
    const struct snn_rule_type *type;
    const double *par;  /* type->n_params values (borrowed from the spec) */
    void *consts;       /* type->consts_size bytes, zeroed, filled by prepare */
    /* Set by prepare: the engine skips on_pre/on_post for this projection
       (per-stimulus mode: the rule learns in on_sample_end only). */
    bool spike_off;
} snn_rule;

/*
 * What a rule sees at the end of a sample of a plastic phase: the spike
 * counts of the last presentation of the stimulus (sim/present.h) for every
 * pre and post neuron, the presentation's length, and which post neurons may
 * learn from this sample (top_k; NULL: all).
 */
typedef struct snn_sample_stats {
    const uint32_t *pre_counts;   /* pj->pre->n */
    const uint32_t *post_counts;  /* pj->post->n */
    double present_ms;            /* rates are counts * 1000 / present_ms (Hz) */
    const uint8_t *learn;         /* pj->post->n flags, or NULL */
} snn_sample_stats;

/* Element types of a rule's saved arrays. */
typedef enum { SNN_RULE_F64, SNN_RULE_U64, SNN_RULE_U8 } snn_rule_elem;

/* The sink (save) or source (load) of a rule's state: item() stores the
   `n` elements at v under `name`, or fills them from it (an absent item or
   one of another length is an error naming it). */
typedef struct snn_rule_io {
    int (*item)(void *ud, const char *name, snn_rule_elem type, void *v, size_t n,
                snn_err *err);
    void *ud;
    bool load;
} snn_rule_io;

typedef struct snn_rule_type {
    const char *name;                 /* "stdp_pair" */
    const char *doc;                  /* one paragraph for `snn help rule` */
    const snn_param_desc *params;
    size_t n_params;
    size_t consts_size;
    /* Check parameters, derive constants, request traces (snn_pop_trace on
       pj->pre / pj->post).  Build time: may allocate. */
    int (*prepare)(snn_rule *r, struct snn_proj *pj, double dt_ms, snn_err *err);
    /* Pre neuron `pre` spiked in step `step` (time stamp t_{step+1}): its
       synapses in one partition are w[0..n) onto post[0..n).  Called before
       the weights are transmitted, so the spike carries the updated weight. */
    void (*on_pre)(const snn_rule *r, const struct snn_proj *pj, uint32_t pre,
                   const uint32_t *post, double *w, size_t n, size_t step);
    /* Post neuron `post` spiked in step `step`: its incoming synapses are
       w[pos[m]] from pre[m], m < n. */
    void (*on_post)(const snn_rule *r, const struct snn_proj *pj, uint32_t post,
                    const uint32_t *pre, const size_t *pos, double *w, size_t n, size_t step);
    /* Optional (NULL: none).  After every sample of a plastic phase, before
       normalisation, one thread: update pj's weights (every partition) from
       the sample's spike counts.  No allocation. */
    void (*on_sample_end)(const snn_rule *r, struct snn_proj *pj, const snn_sample_stats *st);
    /* Exact spike times (simulation.integrator = "event"): true when the rule
       depends on time only through the engine's traces (it ignores `step`
       and dt and keeps no clock-driven state of its own).  The event
       integrator then calls on_pre/on_post at each exact spike time with
       every trace the call may read (the spiking neuron's and those of the
       synapses handed over) decayed exactly to that time, and adds the spike
       to its own traces after the calls.  Rules without it, and rules that
       learn per stimulus (spike_off), are rejected there with a
       configuration error. */
    bool exact_times;
    /* Optional (NULL: none).  Free what prepare allocated (per-synapse
       state, e.g. eligibility traces) and hung on r->consts; called once
       when the projection is freed, also after a failed prepare (consts
       start zeroed).  Must not free r->consts itself. */
    void (*release)(snn_rule *r);
    /* Optional (NULL: the rule keeps no state beyond the weights and the
       engine's traces).  Save or restore the rule's own state (eligibility
       traces, counters, masks) for checkpoints (sim/state.h), one named
       array at a time through io->item, in an order that does not depend on
       the thread count (a checkpoint may be resumed with another partition
       layout).  Called between steps, never inside one; may allocate. */
    int (*state)(snn_rule *r, struct snn_proj *pj, const snn_rule_io *io, snn_err *err);
} snn_rule_type;

/* rules/registry.c */
const snn_rule_type *snn_rule_find(const char *name);
const snn_rule_type *snn_rule_at(size_t i);
/* Index of parameter `key` in t's table, or -1. */
int snn_rule_param_index(const snn_rule_type *t, const char *key);

#endif
