/*
 * io/plot.h: `snn plot` — PNG figures of a recorded HDF5 file through cairo.
 *
 * Each figure is made only when its data is in the file; the list of files
 * written is reported.  Files written into `dir` (names use the population
 * or projection name):
 *   raster_<pop>.png        spike raster (neuron id vs time, ms) with the
 *                           population rate (Hz, all neurons) in 200 bins
 *                           beneath; any file in the SONATA spike layout
 *                           (units ms or s).  At most 500 rows (the lowest
 *                           ids) and about 50000 dots: longer runs show their
 *                           first part; the title says what is shown.
 *   rf_<proj>.png           receptive-field grid of the last weight snapshot:
 *                           each post neuron's input weights as a square
 *                           image (28 x 28 for MNIST), grey scale 0 .. max
 *                           weight; rf_<proj>_<k>.png for every snapshot k
 *                           with all_snapshots.  Needs n_pre a perfect square.
 *   weights_<proj>.png      weight histograms over time (snapshot time on x,
 *                           weight on y, colour = fraction of synapses)
 *   learning_curves.png     /readout/curves: loss, train / test accuracy per
 *                           epoch
 *   confusion_vote.png,     /results/vote/confusion, /readout/results/
 *   confusion_readout.png   confusion: counts, colour = row fraction
 *   emergence.png           /analysis/emergence (written by `snn analyze`):
 *                           probe and kNN accuracy, sparsity vs samples seen
 *   alignment.png           /readout/alignment/W<l> vs step
 *   ghl_<proj>.png          /ghl/<proj> (guided learning): the guiding
 *                           readout's batch accuracy, and the fractions of
 *                           each batch's local updates the global sign
 *                           reversed or gated, vs training samples seen
 * snn_plot_alignment (below) overlays the alignment curves of several files.
 */
#ifndef SNN_IO_PLOT_H
#define SNN_IO_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "../sim/err.h"

typedef struct snn_plot_opts {
    int all_snapshots; /* one receptive-field grid per snapshot too */
} snn_plot_opts;

/* Figure sizes in pixels. */
enum {
    SNN_PLOT_W = 960,       /* line plots, raster, histograms */
    SNN_PLOT_H = 640,
    SNN_PLOT_RF_CELL = 56,  /* one receptive field (2 px per input) */
    SNN_PLOT_RF_GAP = 4,
    SNN_PLOT_RF_X0 = 20,    /* top-left corner of the first field */
    SNN_PLOT_RF_Y0 = 60,
    SNN_PLOT_CONF = 640     /* confusion matrices are square */
};

/* Size in pixels of the receptive-field grid for n_pre inputs (a perfect
   square, side s) and n_post neurons: ceil(sqrt(n_post)) columns of cells of
   s * max(1, SNN_PLOT_RF_CELL / s) pixels plus SNN_PLOT_RF_GAP, 20 px margins,
   110 px for titles, at least 480 wide.  0 if no grid is drawn (n_pre not a
   square of at least 2, or the image would exceed cairo's 32767 px). */
int snn_plot_rf_size(size_t n_pre, size_t n_post, int *w, int *h);

/*
 * snn_plot: make every figure whose data `path` holds, into directory `dir`
 * (created if missing; NULL means "."), and print one line per file written
 * to `out` ("made: DIR/raster_exc.png (spike raster ...)").  Errors: missing,
 * non-HDF5 file, or one with nothing to plot (no spikes, weights, readout,
 * results or analysis) -> SNN_EIO; an unwritable directory -> SNN_EIO.
 * *n_made (may be NULL) receives the number of files written.
 */
int snn_plot(const char *path, const char *dir, const snn_plot_opts *o, FILE *out,
             size_t *n_made, snn_err *err);

/*
 * snn_plot_alignment: overlay the readout alignment curves of several result
 * files (`snn plot --alignment A.h5 B.h5 ... -o DIR`) into DIR/alignment.png
 * (dir NULL means "."): one panel per weight matrix W<l> side by side, one
 * colour per file, the legend labelled with each file's name without its
 * directory and ".h5".  Size (P·SNN_PLOT_AL_PANEL + 2·SNN_PLOT_AL_MARGIN) x
 * SNN_PLOT_H, P the largest number of matrices in any file (at most 5);
 * panel l's axes box spans x from SNN_PLOT_AL_MARGIN + l·SNN_PLOT_AL_PANEL
 * + 80 over SNN_PLOT_AL_PANEL - 110 px, y from 60 over SNN_PLOT_H - 140 px.
 * x is the training step (/readout/alignment/step; the update index if
 * absent or of another length); y the cosine, a common range for all panels
 * that contains 0 and stays within [-1, 1], with a grey line at 0.  Each
 * curve is a centred running mean over `smooth` updates (NaN entries are
 * skipped; 0 or 1 = raw).  Errors: no files, more than 6 files or a label
 * that repeats -> SNN_ECFG; a missing or non-HDF5 file, or one without
 * /readout/alignment/W0 -> SNN_EIO naming it.  One "made:" line to `out`.
 */
enum { SNN_PLOT_AL_PANEL = 560, SNN_PLOT_AL_MARGIN = 20, SNN_PLOT_AL_FILES = 6 };
int snn_plot_alignment(const char *const *paths, size_t n, const char *dir, size_t smooth,
                       FILE *out, snn_err *err);

#endif
