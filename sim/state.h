/*
 * sim/state.h: the complete dynamic state of a built network, for
 * checkpoints (io/ckpt.h stores it in HDF5).
 *
 * The state is what changes while stepping and cannot be derived from the
 * spec: the step counter and spike counts; per population its state
 * variables, refractory counters, random streams (one per block), pending
 * ring-buffer input, external current, plasticity traces and the current
 * step's spike lists; per projection its weights (in the canonical order of
 * snn_net_weights, so a checkpoint restores into a network built with any
 * thread count) and its delivered-event count; per current input its
 * cursor; per plastic projection the rule's own state, if it keeps any
 * (snn_rule_type.state: the eligibility traces of three_factor, the
 * counters and pruning mask of ghl), under projs/<name>/rule/.  Not saved:
 * the event integrator's queues (event runs take no checkpoints).  Restoring it into a network
 * freshly built from the same spec and stepping on gives bit-identical
 * results to never having stopped.
 *
 * The state goes through a small sink/source interface so that sim/ knows
 * nothing about file formats: each item is a named 1-D array of one type.
 * Names are paths ("pops/exc/x/v", "projs/ee/w").
 */
#ifndef SNN_STATE_H
#define SNN_STATE_H

#include <stddef.h>

#include "err.h"
#include "net.h"

typedef enum { SNN_ST_F64 = 0, SNN_ST_I32 = 1, SNN_ST_U64 = 2, SNN_ST_U32 = 3, SNN_ST_U8 = 4 } snn_st_type;

typedef struct snn_state_io {
    /* Save: store `n` elements under `name`. */
    int (*put)(void *ud, const char *name, snn_st_type type, const void *v, size_t n,
               snn_err *err);
    /* Load: fill exactly `n` elements from `name`; an absent item or one of
       another length or type is an error naming the item. */
    int (*get)(void *ud, const char *name, snn_st_type type, void *v, size_t n, snn_err *err);
    /* Load: the element count of item `name` (an error if absent). */
    int (*len)(void *ud, const char *name, size_t *n, snn_err *err);
    void *ud;
} snn_state_io;

/* One item in either direction: io->get when `load`, else io->put (for
   walkers that list their items once for saving and loading). */
static inline int snn_state_item(const snn_state_io *io, int load, const char *name,
                                 snn_st_type type, void *v, size_t n, snn_err *err)
{
    return load ? io->get(io->ud, name, type, v, n, err) : io->put(io->ud, name, type, v, n, err);
}

/* Write net's state through io->put.  Allocates scratch (not in a step loop). */
int snn_net_state_save(const snn_net *net, const snn_state_io *io, snn_err *err);

/*
 * Read net's state through io->get into a network built from the same spec
 * (any thread count).  Sizes are checked item by item: a checkpoint of
 * another network is an SNN_ECFG error naming the first item that differs.
 * On error the network is left in an unspecified state: rebuild it.
 */
int snn_net_state_load(snn_net *net, const snn_state_io *io, snn_err *err);

/* Set projection pj's weights from w in canonical order (the inverse of
   snn_net_weights). */
void snn_net_set_weights(snn_proj *pj, const double *w);

#endif
