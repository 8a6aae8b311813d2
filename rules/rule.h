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

#include <stddef.h>
#include <stdint.h>

#include "../sim/model.h"

struct snn_proj;

typedef struct snn_rule {
    const struct snn_rule_type *type;
    const double *par;  /* type->n_params values (borrowed from the spec) */
    void *consts;       /* type->consts_size bytes, zeroed, filled by prepare */
} snn_rule;

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
} snn_rule_type;

/* rules/registry.c */
const snn_rule_type *snn_rule_find(const char *name);
const snn_rule_type *snn_rule_at(size_t i);

#endif
