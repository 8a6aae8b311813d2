/*
 * rules/three_factor.h: the modulator plumbing of the three-factor rule
 * (rules/three_factor.c, rule "three_factor"): how a caller delivers the
 * global third factor M (reward, error, or GHL's per-neuron sign) to a
 * projection's eligibility traces once per stimulus.
 *
 * Two ways, same result:
 *   - snn_three_factor_deliver(pj, M, m_post, net->step) applies it now;
 *   - snn_three_factor_set_modulator(...) queues it, and the rule's
 *     on_sample_end hook (called by sim/protocol.c after each sample of a
 *     plastic phase) delivers it, restricted to the sample's learners
 *     (snn_sample_stats.learn, the projection's top_k) when there are any.
 *     Without a queued modulator on_sample_end does nothing.
 * The effective modulator of synapse (i, j) is M · m_post[j] (m_post NULL:
 * 1), so a per-neuron signal such as −sgn(∂L/∂y_j) reaches spiking
 * synapses as a third factor.
 */
#ifndef SNN_THREE_FACTOR_H
#define SNN_THREE_FACTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "../sim/err.h"

struct snn_proj;

/* True when pj is plastic under the three-factor rule. */
bool snn_three_factor_is(const struct snn_proj *pj);

/*
 * snn_three_factor_deliver: w_ij <- clip(w_ij + eta · M · m_post[j] ·
 * e_ij(t), w_min, w_max) for every synapse of pj, with e decayed to t =
 * now_step · dt (pass net->step after the stimulus), then e reset to 0
 * (parameter eligibility = "reset") or kept.  m_post [n_post] is borrowed
 * and may be NULL.  Main thread, between steps; no allocation.  SNN_ECFG if
 * pj does not use the rule or M is not finite.
 */
int snn_three_factor_deliver(struct snn_proj *pj, double M, const double *m_post,
                             size_t now_step, snn_err *err);

/* Queue M (and a copy of m_post, may be NULL) for the next on_sample_end,
   which delivers it at now_step.  Replaces a modulator queued before. */
int snn_three_factor_set_modulator(struct snn_proj *pj, double M, const double *m_post,
                                   size_t now_step, snn_err *err);

/* Every synapse's eligibility decayed to now_step, in the canonical order of
   snn_net_weights (pj->nnz values, or n_pre · n_post when dense). */
int snn_three_factor_eligibility(const struct snn_proj *pj, size_t now_step, double *e,
                                 snn_err *err);

#endif
