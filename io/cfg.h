/*
 * io/cfg.h: parameter files (libconfig syntax) -> validated snn_spec.
 */
#ifndef SNN_CFG_H
#define SNN_CFG_H

#include "../sim/spec.h"

/*
 * snn_cfg_load: read `path`, apply the command-line overrides
 * `overrides[0..n_overrides)` (each "key.path=value", value in libconfig
 * syntax), validate everything and return a new spec in *out (taken by the
 * caller, release with snn_spec_free).
 *
 * Every error returns SNN_ECFG with a message naming file:line and the key,
 * and for unknown keys the nearest valid key ("did you mean 'tau_m'?").
 * Overrides that fail name the override ("command line -s simulation.dt_ms=x").
 */
int snn_cfg_load(const char *path, const char *const *overrides, size_t n_overrides,
                 snn_spec **out, snn_err *err);

/* Same, from a string (tests); `name` is used in messages as the file name. */
int snn_cfg_load_string(const char *text, const char *name,
                        const char *const *overrides, size_t n_overrides,
                        snn_spec **out, snn_err *err);

/* Levenshtein distance between two keys (exposed for tests). */
size_t snn_cfg_edit_distance(const char *a, const char *b);

#include <stdio.h>

/* Print every parameter-file group and key with unit, default, bounds and
   documentation (the text of `snn help config`). */
void snn_cfg_help(FILE *out);

#endif
