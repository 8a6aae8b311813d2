/*
 * io/h5.h: the HDF5 result file.
 *
 * Layout (SONATA spike report for spikes; h5py-friendly elsewhere):
 *   /                         attrs: snn_version, seed, threads, start_time,
 *                             end_time, wall_s, dt_ms, duration_ms, source
 *   /config                   scalar string: the fully resolved parameter set
 *   /spikes                   attr: magic (SONATA), units "ms"
 *   /spikes/<pop>             attr: sorting = "by_time"
 *   /spikes/<pop>/timestamps  float64 [n], attr units = "ms"
 *   /spikes/<pop>/node_ids    uint64  [n]
 *   /state/<pop>/times        float64 [T], attr units = "ms"
 *   /state/<pop>/node_ids     uint64  [N]
 *   /state/<pop>/<var>        float64 [T, N], attr units
 *   /weights/<proj>/times     float64 [S], attr units = "ms"
 *   /weights/<proj>/values    dense: float64 [S, n_pre, n_post]
 *                             sparse: float64 [S, nnz], with
 *   /weights/<proj>/pre, post uint64 [nnz] (canonical order: by pre, then post)
 *   /populations/<pop>        attrs: model, size, and each param (with unit)
 *
 * Growing datasets are chunked and deflate-compressed, appended in pieces,
 * so memory stays bounded however long the run.  The file is written as
 * "<path>.tmp" and renamed to <path> by snn_h5_close(commit = 1) only when
 * complete; closing without commit removes the temporary file.
 */
#ifndef SNN_H5_H
#define SNN_H5_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../sim/err.h"

typedef struct snn_h5 snn_h5;

/* Create "<path>.tmp" (truncating an old one).  `compression` is the
   deflate level 0..9.  *out is taken by the caller: close it. */
int snn_h5_create(snn_h5 **out, const char *path, int compression, snn_err *err);

/* Close.  commit != 0: flush, close, fsync and rename to the final path.
   commit == 0 (or an earlier failure): remove the temporary file.
   NULL is fine.  Returns the first error met. */
int snn_h5_close(snn_h5 *h, int commit, snn_err *err);

/* Attributes on a group (created with parents if missing; "/" is the root). */
int snn_h5_attr_str(snn_h5 *h, const char *group, const char *name, const char *val,
                    snn_err *err);
int snn_h5_attr_double(snn_h5 *h, const char *group, const char *name, double val,
                       snn_err *err);
int snn_h5_attr_u64(snn_h5 *h, const char *group, const char *name, uint64_t val,
                    snn_err *err);

/* Write a whole scalar string dataset (e.g. /config). */
int snn_h5_write_str(snn_h5 *h, const char *path, const char *val, snn_err *err);
/* Write a whole 1-D dataset. `units` may be NULL. */
int snn_h5_write_f64(snn_h5 *h, const char *path, const double *v, size_t n,
                     const char *units, snn_err *err);
int snn_h5_write_u64(snn_h5 *h, const char *path, const uint64_t *v, size_t n,
                     snn_err *err);
int snn_h5_write_u32(snn_h5 *h, const char *path, const uint32_t *v, size_t n, snn_err *err);
int snn_h5_write_i32(snn_h5 *h, const char *path, const int32_t *v, size_t n, snn_err *err);
int snn_h5_write_u8(snn_h5 *h, const char *path, const uint8_t *v, size_t n, snn_err *err);

/* Write a whole 2-D dataset [rows, cols] (row-major v), chunked and
   compressed.  cols must be >= 1. */
int snn_h5_write_u32_2d(snn_h5 *h, const char *path, const uint32_t *v, size_t rows,
                        size_t cols, snn_err *err);
int snn_h5_write_f64_2d(snn_h5 *h, const char *path, const double *v, size_t rows, size_t cols,
                        const char *units, snn_err *err);
/* Write a whole 3-D uint32 dataset [d0, d1, d2] (row-major v), one chunk
   per [d1, d2] slice when compressed. */
int snn_h5_write_u32_3d(snn_h5 *h, const char *path, const uint32_t *v, size_t d0, size_t d1,
                        size_t d2, snn_err *err);

/* Streams: each open returns a handle >= 0 in *hd. */

/* /spikes/<pop>: empty timestamps and node_ids, sorting "by_time". */
int snn_h5_spikes_open(snn_h5 *h, const char *pop, int *hd, snn_err *err);
int snn_h5_spikes_append(snn_h5 *h, int hd, const double *t_ms, const uint64_t *ids,
                         size_t n, snn_err *err);

/* /state/<pop>: times, node_ids, and one [T, n_nodes] dataset per var. */
int snn_h5_state_open(snn_h5 *h, const char *pop, const uint64_t *node_ids, size_t n_nodes,
                      const char *const *vars, const char *const *units, size_t n_vars,
                      int *hd, snn_err *err);
/* Append `rows` samples: times[rows], vals[var][row * n_nodes + node]. */
int snn_h5_state_append(snn_h5 *h, int hd, const double *times, size_t rows,
                        const double *const *vals, snn_err *err);

/* /weights/<proj>: dense (pre,post NULL: values are [S, n_pre, n_post]) or
   sparse (pre[nnz], post[nnz] written once, values [S, nnz]). */
int snn_h5_weights_open(snn_h5 *h, const char *proj, size_t n_pre, size_t n_post,
                        const uint64_t *pre, const uint64_t *post, size_t nnz,
                        const char *units, int *hd, snn_err *err);
/* Append one snapshot at time t_ms: w has n_pre*n_post (dense) or nnz values. */
int snn_h5_weights_append(snn_h5 *h, int hd, double t_ms, const double *w, snn_err *err);

/*
 * Checkpoints.  snn_h5_image: flush and read back the whole temporary file
 * as it stands (*buf malloc'd, taken by the caller).  snn_h5_resume: write
 * such an image to "<path>.tmp" and open it for writing again; the stream
 * opens (spikes, state, weights) then attach to the datasets that exist and
 * append after their last row, and everything else is written as usual.
 */
int snn_h5_image(snn_h5 *h, unsigned char **buf, size_t *len, snn_err *err);
int snn_h5_resume(snn_h5 **out, const char *path, int compression, const unsigned char *buf,
                  size_t len, snn_err *err);

/*
 * snn_h5_info: print a human summary of a result file to `out`: populations,
 * neurons, duration, spike counts, mean rate and its spread across neurons,
 * and the stored parameters.  Also works on any SONATA spike file (then only
 * what is there).
 */
int snn_h5_info(const char *path, FILE *out, snn_err *err);

/* Read a whole 1-D dataset (tests, info).  *v is malloc'd, taken by caller. */
int snn_h5_read_f64(const char *path, const char *dset, double **v, size_t *n, snn_err *err);
int snn_h5_read_u64(const char *path, const char *dset, uint64_t **v, size_t *n, snn_err *err);

/* Added for rules/readout.c (issue 5): a whole uint64 2-D dataset [rows,
   cols] and a whole float64 3-D dataset [d0, d1, d2] (row-major v; chunked
   by d0 rows and compressed when the file is).  cols, d1, d2 must be >= 1. */
int snn_h5_write_u64_2d(snn_h5 *h, const char *path, const uint64_t *v, size_t rows,
                        size_t cols, snn_err *err);
int snn_h5_write_f64_3d(snn_h5 *h, const char *path, const double *v, size_t d0, size_t d1,
                        size_t d2, const char *units, snn_err *err);

#endif
