/*
 * sim/readout_run.h: the readout stage of a run (parameter group `readout`):
 * build the input matrices (phase features, or pixels for pure backprop),
 * train the surrogate-gradient readout (rules/readout.h), test it, test it
 * again on perturbed test images (group `robustness`), and write it all.
 *
 * HDF5, beside what snn_readout_write_h5 writes under /readout:
 *   /readout              attrs input ("features" | "pixels"), n_train,
 *                         n_test, n_in, train_s, samples_per_s
 *   /results/robustness/readout   attr perturbations ("none,gauss:0.1,...")
 *                         dataset accuracy float64 [1 + n_perturb]
 */
#ifndef SNN_READOUT_RUN_H
#define SNN_READOUT_RUN_H

#include <signal.h>

#include "../io/h5.h"
#include "../io/idx.h"
#include "spec.h"

/* A feature matrix: counts [n × dim] (row-major) and labels [n]; borrowed. */
typedef struct snn_feature_set {
    const uint32_t *counts;
    const uint8_t *labels;
    size_t n, dim;
} snn_feature_set;

typedef struct snn_readout_inputs {
    /* input "features": the train and test phases' features, and one test
       set per robustness perturbation (robust[k] for spec->robust.p[k]) */
    snn_feature_set train, test;
    snn_feature_set robust[SNN_MAX_PERTURB];
    /* input "pixels": the dataset splits (training, test) */
    const snn_dataset *split[2];
} snn_readout_inputs;

typedef struct snn_readout_run_opts {
    /* After every epoch (one thread): epochs done, total, last stats. */
    void (*epoch)(void *ud, unsigned done, unsigned total, double loss, double train_acc,
                  double test_acc);
    void *ud;
    volatile sig_atomic_t *stop;   /* non-zero: stop after the current epoch (SNN_EINTR) */
    /* Checkpoints: `checkpoint` (may be NULL) gets the learner's state
       (snn_readout_save) every `every` epochs (0: never) and when `stop`
       ends the run. */
    int (*checkpoint)(void *ud, const void *blob, size_t len, snn_err *err);
    void *ckpt_ud;
    unsigned every;
    /* Resume: the learner's state to continue from (NULL: a fresh start). */
    const void *resume;
    size_t resume_len;
} snn_readout_run_opts;

typedef struct snn_readout_run_result {
    double accuracy;               /* test accuracy */
    uint64_t confusion[100];       /* first 10 classes, [true * 10 + predicted] */
    double robust[SNN_MAX_PERTURB];/* accuracy under each perturbation */
    size_t n_train, n_test, n_in;
    double train_s;                /* wall time of training */
    double samples_per_s;          /* training samples (× epochs) per second */
} snn_readout_run_result;

int snn_readout_run(const snn_spec *sp, const snn_readout_inputs *in, snn_h5 *h5,
                    const snn_readout_run_opts *opts, snn_readout_run_result *res,
                    snn_err *err);

#endif
