/*
 * sim/sched.h: running a built network.
 */
#ifndef SNN_SCHED_H
#define SNN_SCHED_H

#include <signal.h>

#include "net.h"

struct snn_rec;

typedef struct snn_run_opts {
    /* Called by one thread every `progress_every` steps (and at the end). */
    void (*progress)(void *ud, size_t step, size_t n_steps);
    void *ud;
    size_t progress_every;
    /* When *stop becomes non-zero the run ends after the current step with
       SNN_EINTR. May be NULL. */
    volatile sig_atomic_t *stop;
    /* Called by one thread after every step, with the step's spike lists
       complete (e.g. to count responses); may be NULL.  No allocation. */
    void (*on_step)(void *ud, const snn_net *net);
    void *step_ud;
} snn_run_opts;

/*
 * snn_sched_clock_run: advance `net` by `n_steps` clock steps from net->step.
 * Each step, in this fixed order: apply current-input changes; update every
 * (population, block) in parallel (deliver the ring slot, integrate, detect
 * spikes); each thread routes the step's spikes into the ring slots of its
 * own target partition (plasticity on_pre/on_post hooks run there); one
 * thread hands the step to the recorder `rec` (may be NULL).
 * The result is bit-identical for any thread count.
 */
int snn_sched_clock_run(snn_net *net, size_t n_steps, struct snn_rec *rec,
                        const snn_run_opts *opts, snn_err *err);

/*
 * snn_sched_run: advance `net` by `n_steps` steps of dt with the integrator
 * the spec chose (simulation.integrator): snn_sched_clock_run, or
 * snn_sched_event_run (sim/sched_event.h) when the net was built for it.
 */
int snn_sched_run(snn_net *net, size_t n_steps, struct snn_rec *rec, const snn_run_opts *opts,
                  snn_err *err);

#endif
