/*
 * io/perturb.h: seeded image perturbations for robustness tests.
 *
 * A perturbation is written "kind:level" in parameter files:
 *   gauss:S       additive Gaussian pixel noise, standard deviation S of the
 *                 pixel range (S = 0.1 is 25.5 grey levels), rounded and
 *                 clipped to [0, 255]
 *   occlude:A     a black square patch covering the fraction A of the image
 *                 area (side round(sqrt(A rows cols))), at a uniformly drawn
 *                 position inside the image
 *   saltpepper:P  each pixel, with probability P, becomes 0 or 255 (even odds)
 *   none          the images unchanged
 * Sample i of a set is perturbed from its own stream, seeded from (seed,
 * kind, i) only: the same seed gives the same perturbed image to every
 * paradigm, in any order, with any thread count, and the levels of one kind
 * share their random numbers (gauss:0.2 is gauss:0.1's noise doubled, up to
 * rounding; the occluding patches sit at the same places).
 */
#ifndef SNN_PERTURB_H
#define SNN_PERTURB_H

#include <stddef.h>
#include <stdint.h>

#include "../sim/err.h"
#include "idx.h"

typedef enum {
    SNN_PERTURB_NONE = 0,
    SNN_PERTURB_GAUSS = 1,
    SNN_PERTURB_OCCLUDE = 2,
    SNN_PERTURB_SALTPEPPER = 3
} snn_perturb_kind;

typedef struct snn_perturb {
    snn_perturb_kind kind;
    double level;    /* S, A or P above, in [0, 1] (gauss: [0, 10]) */
} snn_perturb;

/* Parse "kind:level" (or "none").  A bad kind or level is SNN_ECFG with a
   message that lists the valid forms. */
int snn_perturb_parse(const char *text, snn_perturb *p, snn_err *err);

/* Canonical text of p ("gauss:0.1"), for names and HDF5 attributes. */
void snn_perturb_format(const snn_perturb *p, char *buf, size_t len);

/* Perturb image i (rows x cols pixels, in place) of a set with `seed`. */
void snn_perturb_image(const snn_perturb *p, uint64_t seed, size_t i, uint8_t *img,
                       size_t rows, size_t cols);

/* A perturbed copy of `in` (labels copied); *out taken by the caller
   (snn_dataset_free). */
int snn_perturb_dataset(const snn_dataset *in, const snn_perturb *p, uint64_t seed,
                        snn_dataset **out, snn_err *err);

#endif
