/*
 * sim/rec.h: recorders: spikes, sampled state variables and weight
 * snapshots, buffered in memory sized at open and streamed to io/h5.c.
 */
#ifndef SNN_REC_H
#define SNN_REC_H

#include "../io/h5.h"
#include "net.h"

typedef struct snn_rec snn_rec;

/* Create the recorders the spec asks for, writing into `h5` (borrowed).
   Samples state and weights at t = 0 when net->step is 0 (a resumed run,
   net->step > 0, continues the streams of its restored output). */
int snn_rec_open(snn_rec **out, const snn_net *net, snn_h5 *h5, snn_err *err);
/* Take the step that just finished (net->step - 1): its spikes, and state and
   weights when net->step is a multiple of their interval.  Called by one
   thread between steps; no allocation. */
int snn_rec_step(snn_rec *r, const snn_net *net, snn_err *err);
/* Event-driven runs (sim/sched_event.c): one spike of neuron `id` of
   population p at its exact time t_ms (ascending per population), and the
   state/weight samples due at net->step (state brought to t = step * dt by
   the caller).  One thread; no allocation. */
int snn_rec_spike(snn_rec *r, const snn_pop *p, uint32_t id, double t_ms, snn_err *err);
int snn_rec_sample(snn_rec *r, const snn_net *net, snn_err *err);
/* Write out everything still buffered. */
int snn_rec_flush(snn_rec *r, snn_err *err);
void snn_rec_free(snn_rec *r);

#endif
