/*
 * io/ckpt.h: checkpoint files.
 *
 * A checkpoint is an HDF5 file of named 1-D arrays (the items of
 * sim/state.h, plus whatever the protocol and the readout add), readable
 * with h5py for inspection.  Like the result file, it is written as
 * "<path>.tmp" and renamed to <path> only when complete, so a checkpoint
 * interrupted while being written never replaces the previous good one.
 *
 *   /                 attrs: kind = "snn checkpoint", format (integer)
 *   /config           scalar string: the parameter set of the run
 *   /<item path>      one dataset per item (groups follow the '/' in names)
 */
#ifndef SNN_CKPT_H
#define SNN_CKPT_H

#include "../sim/state.h"

typedef struct snn_ckpt snn_ckpt;

/* Start writing a checkpoint to "<path>.tmp". */
int snn_ckpt_create(snn_ckpt **out, const char *path, snn_err *err);
/* Open a checkpoint for reading; a file that is not a checkpoint is an
   SNN_EIO error naming it. */
int snn_ckpt_open(snn_ckpt **out, const char *path, snn_err *err);
/* Close.  A checkpoint being written is renamed to its final path when
   commit != 0 (and no earlier write failed), otherwise removed.  NULL is
   fine.  Returns the first error met. */
int snn_ckpt_close(snn_ckpt *c, int commit, snn_err *err);

/* The item interface over this file (sim/state.h). */
snn_state_io snn_ckpt_io(snn_ckpt *c);

/* Whole strings (e.g. "config"): *text is malloc'd, taken by the caller. */
int snn_ckpt_put_str(snn_ckpt *c, const char *name, const char *text, snn_err *err);
int snn_ckpt_get_str(snn_ckpt *c, const char *name, char **text, snn_err *err);
/* Whether an item exists (reading). */
int snn_ckpt_has(snn_ckpt *c, const char *name);

#endif
