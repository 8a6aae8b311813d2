/*
 * tests/toy.h: a toy image set for protocol tests: 3 x 4 pixel images of
 * three classes, class c lighting pixels 4c..4c+3 (one row) at 255.
 */
#ifndef SNN_TEST_TOY_H
#define SNN_TEST_TOY_H

#include <stdint.h>
#include <stdlib.h>

#include "io/idx.h"

#define TOY_ROWS 3
#define TOY_COLS 4
#define TOY_NPIX (TOY_ROWS * TOY_COLS)

/* n images; image s has class (s * mult + seed) mod 3.  Free with
   snn_dataset_free. */
static inline snn_dataset *toy_bars(size_t n, unsigned mult, unsigned seed)
{
    snn_dataset *d = calloc(1, sizeof *d);
    d->n = n;
    d->rows = TOY_ROWS;
    d->cols = TOY_COLS;
    d->images = calloc(n * TOY_NPIX + 1, 1);
    d->labels = malloc(n + 1);
    for (size_t s = 0; s < n; s++) {
        uint8_t c = (uint8_t)((s * mult + seed) % 3);
        d->labels[s] = c;
        for (size_t p = 4 * (size_t)c; p < 4 * (size_t)c + 4; p++)
            d->images[s * TOY_NPIX + p] = 255;
    }
    return d;
}

#endif
