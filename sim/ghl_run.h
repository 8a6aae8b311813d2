/*
 * sim/ghl_run.h: the alternating loop of global-guided Hebbian learning
 * (issue 8; parameter group `guided`), driven from the protocol's per-sample
 * hook (snn_protocol_opts.on_sample).
 *
 * The projection P = guided.projection uses rule "ghl" (rules/ghl.h); its
 * target population's spike counts are the input of a guiding readout built
 * from the `readout` group (rules/readout.h; 10 classes).  In every plastic
 * phase the samples are cut into mini-batches of B = guided.batch in phase
 * order (the last one may be shorter).  Per mini-batch:
 *   1. its samples are presented with plasticity on, one after the other,
 *      and each sample's pre and post counts of P and its label are kept.
 *      In a guided mode (direction, gate) the rule has no gradient then and
 *      leaves P alone; in mode none it learns from each sample as in a
 *      plain Hebbian run (step 3 then adds nothing);
 *   2. the readout's normalisation is fitted on the first mini-batch (once),
 *      then guided.readout_steps steps (snn_readout_train_batch, key = the
 *      step's running index) on the mini-batch's post counts;
 *   3. dX = snn_readout_input_grad on the same counts (after the steps):
 *      row s is ∂L/∂(count of neuron j) for sample s, whose sign is that of
 *      ∂L/∂y_j for rates y_j = count_j · 1000 / present_ms; then for each
 *      sample in order snn_ghl_rule_apply(P, pre_s, post_s, present_ms,
 *      g_s) with g_s = dX row s (rule sign "neuron") or G_ij = x_i · dX_sj
 *      (sign "synapse", x the sample's presynaptic rates:
 *      snn_ghl_synapse_grad with f' = 1).
 * guided.schedule "interleave" (rule ghl): steps 1 and 2 as above, but no
 * step 3; instead, right after each presentation, once the readout is
 * fitted (from the second mini-batch on), that sample's gradient
 * (snn_readout_input_grad on it alone, the readout as it stands) steers its
 * update at once (snn_ghl_rule_apply).  Samples of the first mini-batch get
 * no guided update (mode none: the plain update, as always).
 * Rule "three_factor" (rules/three_factor.h) instead of "ghl": steps 1 and
 * 2 as above, no step 3; after each presentation, once the readout is
 * fitted (from the second mini-batch on), the sample's third factor is
 * delivered at once (snn_three_factor_deliver at net->step, after the
 * sample's rest): guided.modulator "sign" gives M = 1 and m_j =
 * -sgn(dL/dy_j) from snn_readout_input_grad on this sample alone, "reward"
 * gives M = +1 if the readout classifies the sample right, else -1, and no
 * m.  Samples of the first mini-batch deliver nothing (the readout has no
 * normalisation yet): their eligibility only decays (tau_e) or, with
 * eligibility "reset", is cleared by the first delivery.
 * Other projections learn as the protocol has them learn.  Everything is
 * in phase order on one thread except the readout's chunked passes, which
 * are bit-identical for any thread count, so the whole run is too.
 *
 * Recorded per mini-batch (snn_ghl_run_write_h5), under /ghl/<P>/:
 *   samples        uint64 [M]  plastic samples of P seen after the batch
 *   loss           float64 [M] readout loss on the batch before its steps
 *   accuracy       float64 [M] readout accuracy on the batch before its steps
 *   local, reversed, gated     uint64 [M] the rule's counters after the batch
 *                  (snn_ghl_counts: local updates, reversed by the global
 *                  sign, gated out or with a zero sign), cumulative; for
 *                  three_factor: local = modulators delivered, the others 0
 * with attributes batch, readout_steps, rule, and mode, sign, decay (ghl)
 * or modulator (three_factor).  Receptive fields: the
 * phases' weight snapshots (snapshot_every) as in any run.
 *
 * Checkpoints: snn_ghl_run_save/_load carry the loop's state (the guiding
 * readout, the mini-batch being collected, the records); the rules' own
 * state goes with the network's (sim/state.h).  A run resumed from a
 * checkpoint taken between samples finishes bit-identically.
 */
#ifndef SNN_GHL_RUN_H
#define SNN_GHL_RUN_H

#include "../io/h5.h"
#include "net.h"
#include "state.h"

typedef struct snn_ghl_run snn_ghl_run;

/* Build the loop for net->spec->guided (must be on): checks that the
   projection uses rule "ghl" or "three_factor" (SNN_ECFG otherwise),
   creates the readout. */
int snn_ghl_run_create(snn_ghl_run **out, snn_net *net, snn_err *err);
void snn_ghl_run_free(snn_ghl_run *g);

/* The protocol hook (snn_protocol_opts.on_sample, sample_ud = the loop). */
int snn_ghl_run_on_sample(void *ud, size_t phase, size_t s, size_t n, unsigned label,
                          snn_proj *pj, const snn_sample_stats *st, snn_err *err);

/* Write /ghl/<projection>/... (see above). */
int snn_ghl_run_write_h5(const snn_ghl_run *g, snn_h5 *h, snn_err *err);

/* Checkpoints: write the loop's state through io->put (items ghl/...),
   or read it back into a loop created for the same run (sizes checked:
   SNN_ECFG naming the first item that differs). */
int snn_ghl_run_save(const snn_ghl_run *g, const snn_state_io *io, snn_err *err);
int snn_ghl_run_load(snn_ghl_run *g, const snn_state_io *io, snn_err *err);

/* Mini-batches done; the last one's data (borrowed, valid until the next
   batch): its size, pre counts [nb × n_pre], post counts [nb × n_post] and
   the gradient dX [nb × n_post] used for the guided update (all zero in
   mode none, where it is not used; three_factor with modulator sign: row s
   is sample s's own dL/dX, unset for samples before the first fit).  For
   tests and analysis. */
size_t snn_ghl_run_batches(const snn_ghl_run *g);
void snn_ghl_run_last(const snn_ghl_run *g, size_t *nb, const uint32_t **pre,
                      const uint32_t **post, const double **dX);

#endif
