/*
 * sim/protocol.h: running an experiment as a sequence of phases over a
 * dataset (parameter lists `phases` and `evaluate`).
 *
 * Each phase shows `samples` images of one split, in dataset order or a
 * seeded permutation, one after the other (sim/present.h), with plasticity
 * on or off.  Phases with features store, per sample, the spike counts of
 * the chosen populations:
 *   /features/<phase>/<pop>     uint32 [samples, neurons]
 *   /features/<phase>/labels    uint64 [samples]
 *   /features/<phase>/indices   uint64 [samples] (sample index in the split)
 * and the vote evaluation writes /results/vote (attributes accuracy,
 * n_test; datasets assignments [neurons], confusion [10, 10], predictions).
 *
 * Random numbers.  Before sample s (0-based position in the phase) of phase
 * f, every random population's per-block streams (the Poisson input) are
 * reseeded from (seed, f, s, population, block): a sample's input depends
 * only on those, never on the thread count or on the order samples run in.
 *
 * Frozen phases (plastic = false) are parallel across samples.  Every sample
 * starts from the network state at the start of the phase (state variables,
 * refractory counters, pending ring input, spike lists; the adaptive
 * threshold theta therefore does not creep from sample to sample, as in
 * Diehl & Cook's test mode) and runs on a per-thread copy of the neurons,
 * rings and spike lists that shares the read-only projections.  Counts are
 * bit-identical for any thread count.  After the phase the network holds the
 * state it had at the phase start again (rings re-aligned), net->step has
 * advanced by the steps of all samples and the spike/event counters include
 * them, exactly as if the samples had run one after the other.  When spikes
 * or state are recorded, or the network has current inputs or spike_times
 * populations (their schedules follow absolute time), a frozen phase runs
 * its samples one after the other on the network itself, restoring the
 * phase-start state (plus traces and streams) before each sample and after
 * the last: same counts, and the recorder sees every step with its time
 * (current inputs keep their schedule in absolute time).
 * Weight snapshots (record.weights) due during a parallel frozen phase are
 * written after it, with their times, as a sequential run would write them.
 *
 * Plastic phases run their samples in order on the network.  After each
 * sample, in this order: sparse plasticity (a rule with top_k > 0 learning
 * per spike: the incoming weights of every post neuron that is not among the
 * top_k with the most spikes in the sample's last presentation, ties to the
 * lower index, neurons without spikes never among them, are put back to
 * their values at the sample's start); the rules' on_sample_end hooks
 * (rules/rule.h; per-stimulus rules, given the counts and the top_k flags);
 * normalisation of projections with `normalize` > 0; snapshots.
 *
 * Projections switched off (phases[].off = ["PROJ", ...]).  During the
 * phase the listed projections deliver nothing (transmit() in
 * sim/sched_clock.c skips them: no ring input, no events counted) and learn
 * nothing (no per-spike or per-sample rule, no top_k restore, no
 * normalisation); their weights stay as they are and are still recorded
 * and snapshotted.  Input already in the ring buffers from before the phase
 * is still delivered.  The flags are set on the network before the phase
 * starts, so the copies of a parallel frozen phase (and a plastic phase's
 * probe copies) see the phase's flags and only read them; they are cleared
 * when the protocol ends.  They follow from the phase alone, so checkpoints
 * do not store them and a resumed run sets them again.  Use: learn with the
 * lateral competition, extract the features for a readout without it
 * (off = ["ie"] in the train and test phases), so that every neuron's
 * count reflects how well the image matches its prototype.
 *
 * Projections scaled (phases[].gain = { PROJ = factor; ... }, factor >= 0).
 * During the phase each spike through PROJ adds factor * w instead of w
 * (transmit() multiplies the spike's multiplicity by the factor; a factor
 * of 1 is exactly the unscaled delivery).  Only delivery changes: rules,
 * normalisation, recordings and snapshots see the unscaled w, and events
 * are counted as usual (gain 0 still counts them, unlike off).  Set and
 * reset with `off` (same lifetime, not stored in checkpoints).  Use: learn
 * with Diehl & Cook's strong lateral inhibition, extract the features
 * with a fraction of it (experiments/mnist_hybrid_local_gain.cfg) so that
 * more than the few winners of each image answer, in graded counts.
 *
 * Direct winner-take-all (stimulus.wta = "POP").  Diehl & Cook's lateral
 * inhibition without the inhibitory partner population, in its limit of
 * instant, overwhelming inhibition: at the end of every step (of every
 * phase, presentation and rest) in which neurons of POP spiked, the membrane
 * of every other neuron of POP is reset to its V_reset (conductances,
 * adaptive thresholds and refractory counters are left alone; neurons that
 * spike in the same step all keep their spikes).  Runs in the clock-driven
 * scheduler's one-thread end of step, so it does not depend on the thread
 * count.  The soft form, an inhibitory current to all the others, needs no
 * option: a projection from POP to itself on its inhibitory receptor,
 * connector all_to_all without autapses.
 *
 * Emergence snapshots.  A plastic phase with snapshot_every = K appends,
 * before its first sample and after every K-th, the weights of every plastic
 * projection to /weights/<proj>/{times,values} and the number of plastic
 * training samples seen so far (over all phases) to
 *   /weights/<proj>/samples     uint64 [S]
 * (a projection must then not also be in record.weights).  With probe = N
 * it also presents the first N images of probe_split (dataset order) with
 * plasticity off, in parallel on per-thread copies exactly like a frozen
 * phase (streams from (seed, "probe", image)), and stores
 *   /probe/samples              uint64 [S]
 *   /probe/labels               uint64 [N]
 *   /probe/indices              uint64 [N]
 *   /probe/<pop>/counts         uint32 [S, N, neurons]
 * for every population that is a feature of some phase.  The probe runs on
 * copies and touches nothing of the network: its state, streams, weights,
 * step and spike counters are exactly as before, so the learning run is
 * unaffected by probing (bit-identical with and without probe).
  */
#ifndef SNN_PROTOCOL_H
#define SNN_PROTOCOL_H

#include <signal.h>
#include <stdbool.h>

#include "../io/h5.h"
#include "../io/idx.h"
#include "net.h"
#include "rec.h"
#include "state.h"

/* The protocol's position and data at a checkpoint (opaque; valid only
   during the checkpoint callback). */
typedef struct snn_protocol_ckpt snn_protocol_ckpt;

typedef struct snn_protocol_opts {
    /* Called after every sample (one thread): phase index, samples done. */
    void (*progress)(void *ud, size_t phase, size_t done, size_t total);
    void *ud;
    /* Non-zero: stop at the next sample boundary of a plastic phase, or
       abandon a frozen phase on per-thread copies (it is redone from its
       start on resume; a frozen phase on the network itself is finished
       first), take a checkpoint and return SNN_EINTR. */
    volatile sig_atomic_t *stop;
    /* Keep every phase's features in the result (snn_protocol_result.features). */
    bool keep_features;
    /* Checkpoints (may be NULL): called (one thread, network at a sample
       boundary, recorder and output as they stand) every `ckpt_every`
       samples of a plastic phase and at every phase boundary when
       ckpt_every > 0, and when `stop` ends the run.  The callback saves the
       network and the output itself, and the protocol's items through
       snn_protocol_ckpt_save; a failure ends the run with its error. */
    int (*checkpoint)(void *ud, const snn_protocol_ckpt *pc, snn_err *err);
    void *ckpt_ud;
    size_t ckpt_every;
    /* Resume (may be NULL): the items of such a checkpoint; `net` and the
       output must already hold the checkpoint's network state and image
       (sim/checkpoint.h).  The run continues where the checkpoint was
       taken and finishes bit-identically to a run that never stopped (for
       any thread count on either side). */
    const snn_state_io *resume;
    /* Plastic phases (may be NULL): called after every sample, once for each
       projection whose rule has an on_sample_end hook, right after that hook
       (before normalisation and snapshots), with the phase index, the
       sample's position s of n in the phase, its label and the counts the
       hook got.  It may change pj's weights (GHL's guided update); a non-zero
       return ends the run with that error.  Checkpoints are taken after
       the sample's hook; whatever state the hook keeps is the caller's to
       save and restore with them (sim/main.c: snn_ghl_run_save/_load). */
    int (*on_sample)(void *ud, size_t phase, size_t s, size_t n, unsigned label,
                     struct snn_proj *pj, const snn_sample_stats *st, snn_err *err);
    void *sample_ud;
} snn_protocol_opts;

/* One phase's features in memory: row s is sample s, its columns the spike
   counts of the phase's feature populations, concatenated in the phase's
   feature order (cols = the sum of their sizes). */
typedef struct snn_phase_features {
    size_t n;                     /* samples */
    size_t cols;
    uint32_t *counts;             /* n * cols, row-major; NULL when cols = 0 */
    uint64_t *labels;             /* n */
    uint64_t *indices;            /* n: sample index in the split */
} snn_phase_features;

typedef struct snn_protocol_result {
    bool evaluated;
    double accuracy;              /* vote accuracy on the test phase */
    uint64_t confusion[100];      /* [true * 10 + predicted], 10 classes */
    double samples_per_s[16];     /* per phase (first 16) */
    unsigned boosts[16];          /* total intensity boosts per phase */
    double robust_vote[SNN_MAX_PERTURB]; /* vote accuracy under each robustness perturbation */
    /* With opts->keep_features: n_phases entries in the spec's phase order,
       else NULL.  Owned by the result: release with
       snn_protocol_result_free (also after a failed run). */
    size_t n_phases;
    snn_phase_features *features;
} snn_protocol_result;

/*
 * snn_protocol_run: run net->spec's phases on split[0] (training set) and
 * split[1] (test set; may be NULL when no phase uses it), recording through
 * `rec` (may be NULL) and writing features and results to `h5` (may be NULL).
 * A phase asking for more samples than its split holds is an SNN_ECFG error
 * naming the phase.
 */
int snn_protocol_run(snn_net *net, const snn_dataset *const split[2], snn_rec *rec, snn_h5 *h5,
                     const snn_protocol_opts *opts, snn_protocol_result *res, snn_err *err);

/*
 * snn_protocol_ckpt_save: write the protocol's items through io->put:
 *   protocol/pos          uint64 [n_phases, phase, samples done in it,
 *                         plastic samples seen, weight snapshots taken]
 *   protocol/boosts       uint32 [16]  (intensity boosts per phase so far)
 *   protocol/phases/<f>/{labels,indices}  uint64 [rows]
 *   protocol/phases/<f>/counts/<q>        uint32 [rows * size of feature q]
 *                         (phases before the current one: all samples;
 *                         the current one: the samples done)
 *   protocol/snap/samples uint64 [S], protocol/snap/counts/<q> uint32
 *                         [S * probe images * size] (emergence snapshots)
 * Wall-clock values (samples_per_s) are not saved: a resumed phase reports
 * the rate of its resumed part.
 */
int snn_protocol_ckpt_save(const snn_protocol_ckpt *pc, const snn_state_io *io, snn_err *err);
/* Where a checkpoint stands: phase index (n_phases: all phases done) and
   samples done in it. */
void snn_protocol_ckpt_pos(const snn_protocol_ckpt *pc, size_t *phase, size_t *done);

/* Free the result's features (NULL-safe; the struct itself is the caller's). */
void snn_protocol_result_free(snn_protocol_result *res);

#endif
