/*
 * sim/model.h: the one interface a neuron or source model implements, and the
 * population record the engine hands it.
 *
 * A model is one file models/<name>.c exporting one const snn_model_type.
 * The engine owns state arrays, ring buffers, spike lists and random streams;
 * the model owns only its maths.  Four kinds of data are kept apart:
 *   params  user-set, validated against the descriptor table, fixed per run;
 *   consts  derived once in prepare() (propagators, refractory steps);
 *   state   structure-of-arrays x[var][neuron], recorded and checkpointed;
 *   buffers engine-owned (ring slots, i_ext, spike lists).
 *
 * Time convention of the clock-driven engine: step k advances the state over
 * [t_k, t_{k+1}] with t_k = k*dt.  Input due at t_k (in->arr) is applied at
 * the start of the step and zeroed by the model as it is read (one pass over
 * memory instead of two); a threshold crossing detected at the end of the step
 * is a spike at t_{k+1}.
 */
#ifndef SNN_MODEL_H
#define SNN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "err.h"

/* Neurons per block: the unit of OpenMP work, random streams and spike
   buffers.  Block boundaries never depend on the thread count. */
#define SNN_BLOCK 256
/* Most receptor channels a model may have (exc, inh, ...). */
#define SNN_MAX_CH 4

/* One user-settable parameter. `choices` != NULL makes it a string option:
   the parameter file gives one of the names, the value is its index. */
typedef struct snn_param_desc {
    const char *key;             /* parameter-file key, NEST spelling: "tau_m" */
    const char *unit;            /* "ms", "mV", "pA", "pF", "nS", "Hz", "1" */
    double def, lo, hi;          /* default and inclusive bounds */
    const char *doc;             /* one line, printed by `snn help model NAME` */
    const char *const *choices;  /* NULL-terminated names, or NULL for a number */
} snn_param_desc;

/* Spikes of one block in one step, ids ascending; mult[j] >= 1 is the number
   of spikes neuron id[j] emitted in the step (Poisson sources can emit
   several).  Capacity is the block length. */
typedef struct snn_spikes {
    uint32_t *id;
    uint32_t *mult;
    size_t n;
} snn_spikes;

struct snn_pop_spec;

/* How a spike changes a trace: all-to-all pairing adds 1 per spike,
   nearest-spike pairing resets the trace to 1. */
typedef enum { SNN_TRACE_ADD = 0, SNN_TRACE_SET = 1 } snn_trace_mode;

/*
 * A per-neuron spike trace for plasticity rules, owned by the population and
 * shared by every rule that asks for the same (tau, mode).  While rules run
 * in step k (the transmit phase) x[i] holds the trace at t_{k+1} from the
 * spikes before that instant: the spikes of step k itself are added at the
 * start of step k + 1.  So a pre and a post spike in the same step do not
 * see each other.
 */
typedef struct snn_trace {
    double tau_ms;
    snn_trace_mode mode;
    double decay;       /* exp(-dt / tau) */
    double *x;          /* n values */
} snn_trace;

typedef struct snn_pop {
    const struct snn_model_type *type;
    const struct snn_pop_spec *spec; /* borrowed; lives as long as the net */
    const char *name;                /* borrowed from spec */
    uint32_t index;                  /* position in the net's population list */
    size_t n;                        /* neurons */
    size_t n_blk;                    /* blocks: ceil(n / SNN_BLOCK) */
    double dt_ms;
    const double *par;               /* type->n_params values */
    void *consts;                    /* type->consts_size bytes, zeroed */
    double **x;                      /* x[s][i]: type->n_state arrays of n */
    int32_t *refr;                   /* steps of refractoriness left, n */
    gsl_rng **rng;                   /* one stream per block */
    /* Engine-owned buffers. */
    double *ring;                    /* [slot][channel][n] input arrivals */
    size_t ring_slots;
    unsigned plan;                   /* type->plan's flags for this segment */
    double *i_ext;                   /* n, external current (pA); NULL if none */
    snn_spikes *spk;                 /* n_blk spike lists of the current step */
    size_t n_traces;
    snn_trace *traces;               /* requested by plasticity rules at build */
    void *priv;                      /* model-private data made in prepare */
} snn_pop;

/* What model step() sees for one block.  Pointers are already offset to
   the block's first neuron i0 = blk * SNN_BLOCK. */
typedef struct snn_input {
    double *arr[SNN_MAX_CH];         /* arrivals due at t_k, per channel: step()
                                        reads each entry once and sets it to 0,
                                        freeing the ring slot for reuse */
    const double *i_ext;             /* external current (pA) or NULL */
    size_t step;                     /* k */
} snn_input;

/* What a model's event-driven crossing hook found (see snn_model_type). */
enum { SNN_CROSS_NONE = 0, SNN_CROSS_SPIKE = 1, SNN_CROSS_CHECK = 2 };

typedef struct snn_model_type {
    const char *name;                   /* "lif", "lif_cond", "poisson" */
    const char *doc;                    /* one paragraph for `snn help model` */
    const snn_param_desc *params;
    size_t n_params;
    const char *const *state;           /* SoA variable names, recordable */
    const char *const *state_unit;      /* unit of each state variable */
    size_t n_state;
    const char *const *channels;        /* receptor names: "exc", "inh" */
    size_t n_channels;                  /* 0 for sources */
    /* Unit of a synaptic weight into this model (depends on params: delta
       synapses take mV, current synapses pA, conductances nS). */
    const char *(*weight_unit)(const double *par);
    bool nonneg_weights;                /* conductances: weights must be >= 0 */
    bool is_source;                     /* emits spikes, takes no input */
    bool takes_spike_list;              /* parameter file gives spike_times_ms */
    bool random;                        /* step() draws from p->rng[blk] */
    size_t consts_size;
    /* Cross-check params, derive consts for step dt_ms; may allocate priv. */
    int (*prepare)(snn_pop *p, double dt_ms, snn_err *err);
    /* Set every state variable of neurons [0,n) to its default from params. */
    void (*init)(snn_pop *p);
    /*
     * Optional: look at the whole state before a clock-driven run segment
     * and return flags that step() may read from p->plan to skip work
     * that cannot change anything in this segment (lif: whether theta can
     * move at all).  Nothing but step() writes neuron state while a
     * segment runs (initial values, restores and the protocol's copies all
     * happen between segments), so the flags hold until the next call.
     */
    unsigned (*plan)(const snn_pop *p);
    /* Advance block `blk` by one step; append spiking ids to out.
       No allocation.  Safe to run concurrently on different blocks. */
    void (*step)(snn_pop *p, size_t blk, const snn_input *in, snn_spikes *out);
    /* Free priv (may be NULL). */
    void (*release)(snn_pop *p);
    /*
     * Event-driven hooks (sim/sched_event.c, simulation.integrator = "event");
     * NULL for models without event support, which the event integrator
     * rejects.  Times are relative to the neuron's own clock: the engine
     * keeps, per neuron, the time its state refers to.  Neuron models:
     *   ev_prepare  allocate per-neuron event state (e.g. refractory time
     *               left) in priv; build time, after prepare and init;
     *   advance     evolve neuron i exactly over h_ms >= 0 without input;
     *   receive     input of weight w on channel ch arrives now; returns
     *               false if it cannot bring a threshold crossing earlier
     *               (the engine then keeps a "none before t" prediction);
     *   crossing    the first time t in [0, h_ms] at which neuron i reaches
     *               threshold if left alone (no input): SNN_CROSS_SPIKE with
     *               *t_ms = t, SNN_CROSS_NONE if there is none, or
     *               SNN_CROSS_CHECK with *t_ms: none before it, ask again
     *               then (a model's look-ahead window);
     *   fire        the neuron spikes now: reset, refractoriness, adaptation.
     * Sources (is_source) implement only next_spike: the time t >= 0 from
     * now of neuron i's next spike, INFINITY for none; `now_ms` is absolute
     * (spike lists), random sources draw from p->rng[i / SNN_BLOCK].  With
     * `resume` (a later run segment; the spike drawn before is still
     * pending) it returns NAN to keep that spike, or a fresh time if the
     * source changed meanwhile (a Poisson rate set between segments).
     * None of them allocates; they are called from one thread.
     */
    int (*ev_prepare)(snn_pop *p, snn_err *err);
    void (*advance)(snn_pop *p, size_t i, double h_ms);
    bool (*receive)(snn_pop *p, size_t i, size_t ch, double w);
    int (*crossing)(const snn_pop *p, size_t i, double h_ms, double *t_ms);
    void (*fire)(snn_pop *p, size_t i);
    double (*next_spike)(snn_pop *p, size_t i, double now_ms, bool resume);
} snn_model_type;

/* models/registry.c */
const snn_model_type *snn_model_find(const char *name);
/* The i-th registered model, or NULL past the end. */
const snn_model_type *snn_model_at(size_t i);
/* Index of state variable `name` in type, or -1. */
int snn_model_state_index(const snn_model_type *t, const char *name);
/* Index of param `key` in type, or -1. */
int snn_model_param_index(const snn_model_type *t, const char *key);

/* Block range helper. */
static inline size_t snn_blk_end(const snn_pop *p, size_t blk)
{
    size_t e = (blk + 1) * (size_t)SNN_BLOCK;
    return e < p->n ? e : p->n;
}

#endif
