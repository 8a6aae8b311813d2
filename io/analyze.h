/*
 * io/analyze.h: `snn analyze` — statistics and representation metrics of a
 * recorded HDF5 file, printed and written back under /analysis.
 *
 * Everything is computed from the file, never from live state.  Each part is
 * skipped silently when its input is absent; the report says what was made.
 *
 * Layout written (the old /analysis, if any, is replaced; units in brackets):
 *   /analysis                          attrs: snn_version, bin_ms [ms],
 *                                      seed, made (comma-separated list)
 *   /analysis/<pop>/rate_hz            float64 [N]  spikes / duration [Hz]
 *   /analysis/<pop>/cv_isi             float64 [N]  CV of inter-spike intervals
 *                                                   [1]; NaN if < 3 spikes
 *   /analysis/<pop>/fano               float64 [N]  variance / mean of spike
 *                                                   counts in bin_ms windows
 *                                                   [1]; NaN if silent
 *   /analysis/<pop>/pair_corr          float64 [M]  Pearson correlation of the
 *                                                   binned counts of M sampled
 *                                                   pairs (seeded) [1]
 *   /analysis/<pop>/pair_i, pair_j     uint64 [M]   the pairs, i < j: all of
 *                                                   them when there are at most
 *                                                   n_pairs, else n_pairs drawn
 *                                                   with the seed (repeats
 *                                                   possible)
 *     attrs: n_neurons, n_spikes, duration_ms [ms] (root attr duration_ms,
 *     else the span of the spike times), bin_ms [ms] (the requested window,
 *     or duration / 10 when that gives fewer than 10 windows), mean_rate_hz,
 *     sd_rate_hz, min/p10/median/p90/max_rate_hz [Hz], mean_cv_isi,
 *     mean_fano, mean_pair_corr (means over the finite values), n_pairs,
 *     n_silent (no spike), n_saturated (a spike in at least half of the
 *     dt_ms steps, i.e. rate >= 500/dt_ms Hz; NaN without root attr dt_ms)
 *   /analysis/representation/<pop>/selectivity      float64 [N] (test phase)
 *   /analysis/representation/<pop>/preferred_class  uint64 [N]
 *     attrs: train_phase, test_phase, linear_probe_accuracy, knn_accuracy
 *     [fraction], population_sparsity, lifetime_sparsity, mean_selectivity
 *   /analysis/emergence/samples        uint64 [S] training samples seen
 *                                      (/probe/samples)
 *   /analysis/emergence/<pop>/{linear_probe_accuracy, knn_accuracy,
 *     population_sparsity, lifetime_sparsity, mean_selectivity} float64 [S]
 *   /analysis/receptive_fields/<proj>/{times [ms], mean_cosine, n_prototypes}
 *     [S]: per weight snapshot, the mean pairwise cosine similarity of the
 *     post neurons' input-weight vectors and the number of prototypes
 *     (greedy clusters at cosine >= proto_cos); attr diversity = 1 - last
 *     mean_cosine.  samples [S] too when /weights/<proj>/samples exists.
 *   /analysis/guidance/<proj>/{reversed_fraction, gated_fraction} float64
 *     [M]: per mini-batch of guided learning (/ghl/<proj>), the fraction of
 *     the batch's local updates whose sign the global signal reversed, and
 *     the fraction it gated out (NaN where the batch made no local update,
 *     and for rule three_factor); attrs: n_batches, samples (seen at the
 *     end), accuracy_first, accuracy_last (the guiding readout's batch
 *     accuracy [fraction], mean over the first and the last tenth of the
 *     batches, at least one), reversed_first, reversed_last, gated_first,
 *     gated_last (the same means over the batches' finite fractions)
 *   /analysis/alignment/W<l>           attrs: n, mean, last, frac_positive of
 *                                      /readout/alignment/W<l> (cosine between
 *                                      weight update and Hebbian term)
 *
 * Definitions (r_{s,i}: response of neuron i to sample s, counts):
 *   population sparsity (Treves & Rolls 1991), per sample,
 *     a_s = (sum_i r_si / N)^2 / (sum_i r_si^2 / N), averaged over samples
 *     with any response (1 = dense, 1/N = one neuron active);
 *   lifetime sparsity: the same over samples for each neuron, averaged over
 *     neurons that respond at all;
 *   class selectivity (Morcos et al. 2018): (mu_max - mu_rest) /
 *     (mu_max + mu_rest), mu_c the neuron's mean response to class c, mu_max
 *     the largest, mu_rest the mean of the other class means; 0 if silent,
 *     and the mean (mean_selectivity) is over neurons that respond at all;
 *   linear probe: ridge regression onto one-hot labels, features z-scored
 *     with the training set's mean and sd, penalty ridge_lambda * n_train,
 *     predicted class = argmax; kNN: Euclidean on the same z-scored features,
 *     knn_k neighbours, majority vote; a tie goes to the nearest neighbour's
 *     class when it is among the tied, else to the lowest class.  kNN uses
 *     the first knn_max_test test samples.
 *   Probe sets (/probe) are split deterministically within each class: its
 *   1st, 3rd, 5th, ... probe (in file order) trains, its 2nd, 4th, ... tests.
 *   /features: the `evaluate` assign phase trains, its test phase tests
 *   (evaluate.assign and evaluate.test from /config; else the phases named
 *   "train" or "assign", and "test").
 *   Samples are rows of spike counts (uint32 in the file, used as double).
 */
#ifndef SNN_ANALYZE_H
#define SNN_ANALYZE_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../sim/err.h"

typedef struct snn_an_opts {
    double bin_ms;       /* count window for Fano and correlation (ms) */
    size_t n_pairs;      /* sampled pairs for the correlation */
    uint64_t seed;       /* pair sampling */
    double ridge_lambda; /* ridge penalty per training sample */
    size_t knn_k;        /* neighbours */
    size_t knn_max_test; /* at most this many test samples for kNN (first ones) */
    double proto_cos;    /* cosine at which two receptive fields are one prototype */
    int json;            /* print JSON instead of the table */
} snn_an_opts;

/* Defaults: bin 100 ms, 200 pairs, seed 1, lambda 1e-3, k 5, 2000 test
   samples for kNN, prototypes at cosine 0.9, table output. */
void snn_an_opts_default(snn_an_opts *o);

/* ---- metrics on arrays (no I/O; tested against hand-computed values) ---- */

/* CV of the inter-spike intervals of ascending times t[0..n): sd / mean of
   the n - 1 intervals (sd with n - 2 in the denominator).  NaN if n < 3. */
double snn_an_cv_isi(const double *t, size_t n);

/* Spike counts of ascending times t[0..n) in nb windows of bin_ms starting at
   t0_ms (times outside are ignored) into counts[nb]. */
void snn_an_bin(const double *t, size_t n, double t0_ms, double bin_ms, size_t nb,
                double *counts);

/* Fano factor of counts[0..nb): sample variance (nb - 1) / mean; NaN if the
   mean is 0 or nb < 2. */
double snn_an_fano(const double *counts, size_t nb);

/* Pearson correlation of x, y [n]; NaN if either is constant. */
double snn_an_corr(const double *x, const double *y, size_t n);

/* Sparsity of responses r [ns, nn] (row = sample); see the header comment.
   Either output may be NULL.  NaN when nothing responds. */
void snn_an_sparsity(const double *r, size_t ns, size_t nn, double *population,
                     double *lifetime);

/* Class selectivity of each neuron of r [ns, nn] with labels [ns] in
   [0, n_classes): sel[nn] and preferred class pref[nn] (either may be NULL).
   Classes without samples are left out; a neuron that never responds gets
   selectivity 0.  *mean (may be NULL) is the mean over the neurons that
   respond to some class (NaN if none does).  Allocates n_classes * nn doubles. */
int snn_an_selectivity(const double *r, const uint64_t *labels, size_t ns, size_t nn,
                       size_t n_classes, double *sel, uint64_t *pref, double *mean,
                       snn_err *err);

/* Linear probe: train on xtr [ntr, d] / ytr, test on xte [nte, d] / yte;
   labels in [0, n_classes).  *acc is the test accuracy (fraction). */
int snn_an_linear_probe(const double *xtr, const uint64_t *ytr, size_t ntr, const double *xte,
                        const uint64_t *yte, size_t nte, size_t d, size_t n_classes,
                        double lambda, double *acc, snn_err *err);

/* k-nearest-neighbour accuracy, same arguments (k >= 1). */
int snn_an_knn(const double *xtr, const uint64_t *ytr, size_t ntr, const double *xte,
               const uint64_t *yte, size_t nte, size_t d, size_t n_classes, size_t k,
               double *acc, snn_err *err);

/* Receptive fields of a dense weight matrix w [n_pre, n_post] (pre-major):
   the mean cosine similarity over all pairs of columns (*mean_cos; NaN if
   n_post < 2; zero columns count as similarity 0) and the number of greedy
   prototypes: in column order, a column joins the first prototype whose
   representative has cosine >= proto_cos, else it founds a new one. */
int snn_an_receptive_fields(const double *w, size_t n_pre, size_t n_post, double proto_cos,
                            double *mean_cos, size_t *n_proto, snn_err *err);

/* Per-batch fractions from cumulative counters (guided learning's /ghl
   records): frac[k] = (num[k] - num[k-1]) / (den[k] - den[k-1]) with
   num[-1] = den[-1] = 0; NaN where den did not grow.  frac may be num. */
void snn_an_batch_fraction(const double *num, const double *den, size_t n, double *frac);

/* ---- file access shared by analyze and plot (io/analyze_h5.c) ---------- */

/* Open read-only (rw = 0) or read-write, with clear messages for a missing,
   directory or non-HDF5 file.  Close with H5Fclose. */
int snn_an_open(const char *path, int rw, hid_t *f, snn_err *err);

/* 1 if every component of `path` exists in f, 0 if not. */
int snn_an_exists(hid_t f, const char *path);

/* Read a whole numeric dataset of rank <= 3 converted to double (or
   uint64 with snn_an_read_u64); dims[3] (unused = 1), *rank.  *v malloc'd,
   taken by the caller. */
int snn_an_read_f64(hid_t f, const char *fname, const char *dset, double **v, size_t dims[3],
                    int *rank, snn_err *err);
int snn_an_read_u64(hid_t f, const char *fname, const char *dset, uint64_t **v,
                    size_t dims[3], int *rank, snn_err *err);

/* Numeric scalar attribute of object `obj` (path) as double; 1 if present. */
int snn_an_attr_num(hid_t f, const char *obj, const char *name, double *v);
/* The same on an open object. */
int snn_an_attr_num_at(hid_t obj, const char *name, double *v);
/* String attribute into buf; 1 if present. */
int snn_an_attr_str(hid_t f, const char *obj, const char *name, char *buf, size_t len);

/* 1 if `path` is a dataset. */
int snn_an_is_dataset(hid_t f, const char *path);

/* A scalar string dataset (e.g. /config) as malloc'd text; NULL if absent. */
char *snn_an_read_str(hid_t f, const char *dset);

/* Names of the links in group `path` (sorted by name); *names malloc'd,
   free with snn_an_names_free.  0 names if the group is absent. */
int snn_an_list(hid_t f, const char *path, char ***names, size_t *n, snn_err *err);
void snn_an_names_free(char **names, size_t n);

/* Spikes of one population in a SONATA layout: /spikes/<pop>/{timestamps,
   node_ids} (or /spikes/{timestamps, gids|node_ids} when pop is NULL), time
   units ms or s (converted to ms), any sorting.  On return the trains are
   grouped by neuron: neuron i's ascending times are t[off[i] .. off[i+1]).
   *n_neurons is /populations/<pop> size, else max id + 1.  All malloc'd. */
typedef struct snn_an_trains {
    size_t n_neurons, n_spikes;
    size_t *off;   /* [n_neurons + 1] */
    double *t;     /* [n_spikes], ms */
    double t_min, t_max; /* over all spikes; 0 if none */
} snn_an_trains;
int snn_an_read_trains(hid_t f, const char *fname, const char *pop, snn_an_trains *tr,
                       snn_err *err);
void snn_an_trains_clear(snn_an_trains *tr);

/* The features a run stored for phase `phase`: /features/<phase>/<pop>
   (samples x neurons) for the populations pops[0..npops) side by side in
   that order (npops = 0: every population stored there, by name) as
   counts [n x dim] (uint32; the values must be whole numbers in range),
   and /features/<phase>/labels as labels [n] (uint8; below 256).  Both
   malloc'd.  Errors (SNN_EIO) name the file and the dataset: a missing
   phase or population, shapes that disagree. */
int snn_an_read_phase_features(hid_t f, const char *fname, const char *phase,
                               const char (*pops)[64], size_t npops, uint32_t **counts,
                               uint8_t **labels, size_t *n, size_t *dim, snn_err *err);

/* Guided learning's record of projection `proj` (/ghl/<proj>, written by
   sim/ghl_run.c): per mini-batch the training samples seen, the guiding
   readout's accuracy and loss on the batch before its steps, and the
   fractions of the batch's local updates that the global sign reversed
   and gated (snn_an_batch_fraction of the cumulative counters; NaN for rule
   three_factor, whose counter is the modulators delivered).  All malloc'd;
   snn_an_guidance_clear frees them. */
typedef struct snn_an_guidance {
    size_t n;
    double *samples, *accuracy, *loss, *reversed, *gated;
    int ghl;   /* rule "ghl" (else "three_factor") */
} snn_an_guidance;
int snn_an_read_guidance(hid_t f, const char *fname, const char *proj, snn_an_guidance *g,
                         snn_err *err);
void snn_an_guidance_clear(snn_an_guidance *g);

/* Spike populations in the file: names under /spikes that hold timestamps
   (an unnamed layout /spikes/timestamps is listed as ""). */
int snn_an_spike_pops(hid_t f, char ***names, size_t *n, snn_err *err);

/* ---- the command -------------------------------------------------------- */

/*
 * snn_analyze: analyze the file at `path`, print the results to `out` (a
 * table, or JSON when o->json) and write them under /analysis.  The file is
 * copied to "<path>.tmp", the results are written into the copy, which is
 * fsynced and renamed over the original only when complete; on failure the
 * copy is removed and the original is untouched.  A file with neither spikes
 * nor features, probes, weights or readout results is an error (SNN_EIO).
 */
int snn_analyze(const char *path, const snn_an_opts *o, FILE *out, snn_err *err);

#endif
