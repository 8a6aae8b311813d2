/*
 * sim/sched_event.h: the event-driven integrator (simulation.integrator =
 * "event"): spikes at exact, continuous times.
 *
 * Neurons are advanced only when something happens to them (an input
 * arrives, they fire, their current changes, their state is sampled), with
 * the model's exact event hooks (sim/model.h: advance, receive, crossing,
 * fire; sources: next_spike).  Pending work sits in two priority queues:
 * every neuron's next threshold crossing or source spike (an indexed binary
 * heap keyed by (t, population, neuron)) and spikes in flight (a binary heap
 * keyed by (t, projection, emission order)).  Events with equal times are
 * processed in a fixed order: current changes, then arrivals, then spikes.
 * Single-threaded, so the same seed gives the same spikes for any thread
 * count.  The clock grid dt only sets when state and weights are sampled,
 * progress is reported and an interrupt is noticed.
 */
#ifndef SNN_SCHED_EVENT_H
#define SNN_SCHED_EVENT_H

#include "sched.h"

struct snn_event;
/* Called for every spike as it is processed (time order): population
   index, neuron, exact time.  For tests and per-spike consumers. */
typedef void (*snn_event_spike_fn)(void *ud, uint32_t pop, uint32_t id, double t_ms);

/*
 * snn_sched_event_prepare: check that every population, input and plastic
 * projection of `net` supports exact times (SNN_ECFG naming the one that
 * does not), run the models' ev_prepare and allocate the queues into
 * net->ev.  Called by snn_net_build for simulation.integrator = "event".
 */
int snn_sched_event_prepare(snn_net *net, snn_err *err);
void snn_sched_event_free(struct snn_event *ev);

/*
 * snn_sched_event_run: advance `net` by `n_steps` steps of dt (to t_{k1},
 * k1 = net->step + n_steps), processing every event with t <= t_{k1} at its
 * exact time.  Spikes go to `rec` (may be NULL) with exact time stamps;
 * state and weights are sampled at multiples of their interval, neurons
 * being advanced exactly to the sampling time.  At the end every neuron's
 * state refers to t_{k1}.  opts->on_step is not supported (SNN_ECFG).
 * Allocates only when a queue outgrows its high-water mark (doubling).
 */
int snn_sched_event_run(snn_net *net, size_t n_steps, struct snn_rec *rec,
                        const snn_run_opts *opts, snn_err *err);

/* Set (or clear, fn = NULL) the spike callback of an event-driven net. */
void snn_sched_event_on_spike(snn_net *net, snn_event_spike_fn fn, void *ud);

#endif
