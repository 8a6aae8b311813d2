/*
 * sim/present.h: presenting one image to a network, Diehl & Cook style.
 *
 * The image drives a Poisson population, one neuron per pixel, at
 * rate = pixel / 255 * max_rate_hz * intensity.  After `present_ms` the
 * input falls silent for `rest_ms` so the network relaxes.  If the watched
 * population fired fewer than `min_spikes` spikes during the presentation,
 * the image is shown again (after the rest) with intensity raised by
 * `intensity_step`, at most `max_boosts` times.  The spike counts of the
 * last presentation are returned.
 */
#ifndef SNN_PRESENT_H
#define SNN_PRESENT_H

#include <stdint.h>

#include <signal.h>

#include "net.h"

typedef struct snn_present {
    uint32_t input;           /* a population of model "poisson", one neuron per pixel */
    double max_rate_hz;       /* rate of a 255 pixel at intensity 1 (Hz) */
    double intensity;         /* first intensity (1) */
    double present_ms;        /* stimulus duration (ms) */
    double rest_ms;           /* silence after each presentation (ms) */
    int watch;                /* population whose spikes decide a boost, -1: none */
    uint64_t min_spikes;      /* boost while `watch` fires fewer spikes than this */
    double intensity_step;    /* added to the intensity per boost */
    unsigned max_boosts;
    /* Populations whose per-neuron spike counts are returned. */
    size_t n_count;
    const uint32_t *count;    /* population indices, borrowed */
    struct snn_rec *rec;      /* recorder fed every step, or NULL (borrowed) */
    volatile sig_atomic_t *stop; /* ends the presentation with SNN_EINTR, or NULL */
} snn_present;

/*
 * snn_present_sample: present `pixels` (net->pops[pr->input].n values) as
 * above.  counts[q] (net->pops[pr->count[q]].n entries each, provided by the
 * caller) receive the spike counts of the last presentation; *boosts the
 * number of boosts used.  Runs present_ms + rest_ms per presentation on the
 * clock-driven scheduler; allocates nothing.
 */
int snn_present_sample(snn_net *net, const snn_present *pr, const uint8_t *pixels,
                       uint32_t *const *counts, unsigned *boosts, snn_err *err);

#endif
