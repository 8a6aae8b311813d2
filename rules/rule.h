/*
 * rules/rule.h: the one interface a plasticity rule implements.
 *
 * A rule is attached to a projection.  The engine calls it once per spike
 * row, never per synapse, so the synapse loop sits inside the rule.  Calls
 * come from the thread that owns the projection's target partition, so a
 * rule writes only w[] entries of that partition: no atomics.
 */
#ifndef SNN_RULE_H
#define SNN_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "../sim/model.h"

struct snn_proj;
struct snn_part;

typedef struct snn_rule {
    const struct snn_rule_type *type;
    double *par;       /* type->n_params */
    void *consts;      /* type->consts_size bytes */
    void *priv;
} snn_rule;

typedef struct snn_rule_type {
    const char *name;
    const snn_param_desc *params;
    size_t n_params;
    size_t consts_size;
    int (*prepare)(snn_rule *r, struct snn_proj *pj, double dt_ms, snn_err *err);
    /* Pre neuron `pre` spiked at step `step`; its synapses in partition `pt`
       are pt->col/w[k0..k1).  Called before the weights are transmitted. */
    void (*on_pre)(snn_rule *r, struct snn_proj *pj, struct snn_part *pt, uint32_t pre,
                   size_t k0, size_t k1, size_t step);
    /* Post neuron `post` (owned by partition pt) spiked at step `step`. */
    void (*on_post)(snn_rule *r, struct snn_proj *pj, struct snn_part *pt, uint32_t post,
                    size_t step);
    void (*release)(snn_rule *r);
} snn_rule_type;

#endif
