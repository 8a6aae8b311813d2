/*
 * sim/pop.h: building one population (state arrays, streams, spike lists)
 * from its spec.  Used by sim/net.c and directly by model unit tests.
 */
#ifndef SNN_POP_H
#define SNN_POP_H

#include "spec.h"

/*
 * snn_pop_spec_defaults: fill `s` for `n` neurons of `type` with every
 * parameter at its default and no initial-value overrides.  `s->par` and
 * `s->init` are allocated (release with snn_pop_spec_clear).
 */
int snn_pop_spec_defaults(snn_pop_spec *s, const snn_model_type *type, size_t n,
                          const char *name, snn_err *err);
void snn_pop_spec_clear(snn_pop_spec *s);

/*
 * snn_pop_init: build population `p` (memory provided by the caller) from
 * `spec` (borrowed, must outlive p): allocate state, refractory counters,
 * consts, per-block streams and spike lists; run the model's prepare and
 * init; then draw the spec's initial values from the SNN_RNG_INIT streams.
 * `ring_slots` slots of input per channel are allocated (>= 1).
 * On failure everything allocated is freed and the error names the population.
 */
int snn_pop_init(snn_pop *p, const snn_pop_spec *spec, uint32_t index, double dt_ms,
                 uint64_t seed, size_t ring_slots, snn_err *err);
void snn_pop_clear(snn_pop *p);

/* Enable the external-current buffer (zeroed).  Returns SNN_ENOMEM on failure. */
int snn_pop_enable_iext(snn_pop *p, snn_err *err);

/*
 * snn_pop_trace: the index of p's trace with time constant tau_ms and `mode`,
 * created (zeroed) if no rule asked for it yet.  Build time only.
 */
int snn_pop_trace(snn_pop *p, double tau_ms, snn_trace_mode mode, size_t *index, snn_err *err);

/* Pointer to the arrival buffer of channel `ch` in ring slot `slot`. */
static inline double *snn_pop_slot(const snn_pop *p, size_t slot, size_t ch)
{
    return p->ring + (slot * (p->type->n_channels ? p->type->n_channels : 1) + ch) * p->n;
}

/*
 * snn_pop_step_block: run one clock step of block `blk` reading ring slot
 * `slot` (the model zeroes what it reads) and filling p->spk[blk].  The
 * block's traces first take the previous step's spikes, then decay by one
 * step after the update (see snn_trace).
 */
void snn_pop_step_block(snn_pop *p, size_t blk, size_t slot, size_t step);

#endif
