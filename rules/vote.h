/*
 * rules/vote.h: the pure-Hebbian readout of Diehl & Cook (2015): each neuron
 * is assigned the class it responded to most on labelled training
 * responses; a sample is classified by the class whose assigned neurons
 * respond most on average.
 */
#ifndef SNN_VOTE_H
#define SNN_VOTE_H

#include <stddef.h>
#include <stdint.h>

#include "../sim/err.h"

/*
 * snn_vote_assign: counts[s * n_neurons + i] is neuron i's spike count for
 * sample s with label labels[s] < n_classes.  Sets assign[i] to the class
 * with the highest mean count over that class's samples (ties: the lowest
 * class), or -1 for a neuron that never fired.  If class_mean is not NULL it
 * receives the means, [i * n_classes + c].  Returns SNN_ECFG for a label
 * >= n_classes, SNN_ENOMEM when out of memory.
 */
int snn_vote_assign(const double *counts, const uint8_t *labels, size_t n_samples,
                    size_t n_neurons, size_t n_classes, int32_t *assign, double *class_mean,
                    snn_err *err);

/*
 * snn_vote_predict: pred[s] = the class c maximising the mean count of the
 * neurons assigned to c (classes without neurons never win; ties: the lowest
 * class; -1 if no class has a neuron).
 */
int snn_vote_predict(const double *counts, size_t n_samples, size_t n_neurons,
                     const int32_t *assign, size_t n_classes, int32_t *pred, snn_err *err);

/* Fraction of pred[s] == labels[s]; confusion[true * n_classes + pred] counts
   (may be NULL; predictions of -1 are counted as wrong and not tabulated). */
double snn_vote_accuracy(const int32_t *pred, const uint8_t *labels, size_t n_samples,
                         size_t n_classes, uint64_t *confusion);

#endif
