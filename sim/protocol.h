/*
 * sim/protocol.h: running an experiment as a sequence of phases over a
 * dataset (parameter lists `phases` and `evaluate`).
 *
 * Each phase shows `samples` images of one split, in dataset order or a
 * seeded permutation, one after the other (sim/present.h), with plasticity
 * on or off.  After every sample of a plastic phase, projections with
 * `normalize` > 0 are normalised.  Phases with features store, per sample,
 * the spike counts of the chosen populations:
 *   /features/<phase>/<pop>     uint32 [samples, neurons]
 *   /features/<phase>/labels    uint64 [samples]
 *   /features/<phase>/indices   uint64 [samples] (sample index in the split)
 * and the vote evaluation writes /results/vote (attributes accuracy,
 * n_test; datasets assignments [neurons], confusion [10, 10], predictions).
 */
#ifndef SNN_PROTOCOL_H
#define SNN_PROTOCOL_H

#include <signal.h>

#include "../io/h5.h"
#include "../io/idx.h"
#include "net.h"
#include "rec.h"

typedef struct snn_protocol_opts {
    /* Called after every sample (one thread): phase index, samples done. */
    void (*progress)(void *ud, size_t phase, size_t done, size_t total);
    void *ud;
    volatile sig_atomic_t *stop;
} snn_protocol_opts;

typedef struct snn_protocol_result {
    bool evaluated;
    double accuracy;              /* vote accuracy on the test phase */
    uint64_t confusion[100];      /* [true * 10 + predicted], 10 classes */
    double samples_per_s[16];     /* per phase (first 16) */
    unsigned boosts[16];          /* total intensity boosts per phase */
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

#endif
