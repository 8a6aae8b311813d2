/*
 * sim/checkpoint.h: checkpoints of a whole run, and resuming from them.
 *
 * A run checkpoint (an io/ckpt.h file) holds everything needed to finish
 * the run as if it had never stopped:
 *   config          the resolved parameter set (the run is rebuilt from it)
 *   stage           "simulate" | "phases" | "readout": where the run was
 *   pops/, projs/, net/, currents/   the network's state (sim/state.h)
 *   output/image    the result file written so far (its HDF5 bytes)
 *   ...             items the stage adds (protocol position, features so
 *                   far, the readout's optimiser state)
 * Checkpoints are taken at step boundaries with the recorder flushed, so
 * that the restored output and network continue bit-identically, rules'
 * own state included (snn_rule_type.state).
 */
#ifndef SNN_CHECKPOINT_H
#define SNN_CHECKPOINT_H

#include "../io/ckpt.h"
#include "../io/h5.h"
#include "net.h"
#include "rec.h"
#include "spec.h"

/* Adds the stage's own items to a checkpoint being written. */
typedef int (*snn_ckpt_extra_fn)(void *ud, snn_ckpt *c, snn_err *err);

/*
 * snn_checkpoint_write: flush `rec` (may be NULL), then write `path`
 * (through "<path>.tmp", renamed when complete) with the config, `stage`,
 * the state of `net` (may be NULL: no network), the image of `out` and the
 * items `extra` adds (may be NULL).
 */
int snn_checkpoint_write(const char *path, const snn_spec *sp, const snn_net *net, snn_rec *rec,
                         snn_h5 *out, const char *stage, snn_ckpt_extra_fn extra, void *ud,
                         snn_err *err);

/*
 * snn_checkpoint_open: open checkpoint `path` and rebuild its spec from
 * the stored parameter set (*sp taken by the caller, snn_spec_free), with
 * `overrides` applied (only simulation.threads may differ from the run; any
 * other override is an SNN_ECFG error).  *stage is a malloc'd copy.
 */
int snn_checkpoint_open(const char *path, snn_ckpt **c, snn_spec **sp, char **stage,
                        const char *const *overrides, size_t n_overrides, snn_err *err);

/*
 * snn_checkpoint_restore: load the network state into `net` (built from
 * the checkpoint's spec; may be NULL when the run has no network) and
 * reopen the output at sp->output from its image (*out, taken by the
 * caller: the stream opens of the recorder attach to what it holds).
 */
int snn_checkpoint_restore(snn_ckpt *c, const snn_spec *sp, snn_net *net, snn_h5 **out,
                           snn_err *err);

/* Helpers for stages: a whole byte blob item. */
int snn_ckpt_put_blob(snn_ckpt *c, const char *name, const void *buf, size_t len, snn_err *err);
int snn_ckpt_get_blob(snn_ckpt *c, const char *name, unsigned char **buf, size_t *len,
                      snn_err *err);

#endif
