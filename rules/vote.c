/*
 * rules/vote.c: label assignment and voting (Diehl & Cook 2015), on spike
 * counts of a frozen network.  Sums run in sample order, so the result does
 * not depend on how the counts were computed.
 */
#include "vote.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int snn_vote_assign(const double *counts, const uint8_t *labels, size_t n_samples,
                    size_t n_neurons, size_t n_classes, int32_t *assign, double *class_mean,
                    snn_err *err)
{
    double *sum = calloc(n_neurons * n_classes + 1, sizeof *sum);
    size_t *per_class = calloc(n_classes + 1, sizeof *per_class);
    if (!sum || !per_class) {
        free(sum);
        free(per_class);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory assigning labels to %zu neurons", n_neurons);
    }
    for (size_t s = 0; s < n_samples; s++) {
        if (labels[s] >= n_classes) {
            free(sum);
            free(per_class);
            SNN_FAIL(err, SNN_ECFG, "sample %zu has label %u, but there are %zu classes", s,
                     (unsigned)labels[s], n_classes);
        }
        per_class[labels[s]]++;
        const double *row = counts + s * n_neurons;
        double *dst = sum + labels[s];
        for (size_t i = 0; i < n_neurons; i++)
            dst[i * n_classes] += row[i];
    }
    for (size_t i = 0; i < n_neurons; i++) {
        int32_t best = -1;
        double best_mean = 0.0;
        for (size_t c = 0; c < n_classes; c++) {
            double m = per_class[c] ? sum[i * n_classes + c] / (double)per_class[c] : 0.0;
            if (class_mean)
                class_mean[i * n_classes + c] = m;
            if (m > best_mean) {
                best_mean = m;
                best = (int32_t)c;
            }
        }
        assign[i] = best;
    }
    free(sum);
    free(per_class);
    return SNN_OK;
}

int snn_vote_predict(const double *counts, size_t n_samples, size_t n_neurons,
                     const int32_t *assign, size_t n_classes, int32_t *pred, snn_err *err)
{
    size_t *members = calloc(n_classes + 1, sizeof *members);
    double *score = malloc((n_classes + 1) * sizeof *score);
    if (!members || !score) {
        free(members);
        free(score);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for voting");
    }
    for (size_t i = 0; i < n_neurons; i++)
        if (assign[i] >= 0 && (size_t)assign[i] < n_classes)
            members[assign[i]]++;
    for (size_t s = 0; s < n_samples; s++) {
        const double *row = counts + s * n_neurons;
        memset(score, 0, n_classes * sizeof *score);
        for (size_t i = 0; i < n_neurons; i++)
            if (assign[i] >= 0 && (size_t)assign[i] < n_classes)
                score[assign[i]] += row[i];
        int32_t best = -1;
        double best_score = -INFINITY;
        for (size_t c = 0; c < n_classes; c++) {
            if (!members[c])
                continue;
            double m = score[c] / (double)members[c];
            if (m > best_score) {
                best_score = m;
                best = (int32_t)c;
            }
        }
        pred[s] = best;
    }
    free(members);
    free(score);
    return SNN_OK;
}

double snn_vote_accuracy(const int32_t *pred, const uint8_t *labels, size_t n_samples,
                         size_t n_classes, uint64_t *confusion)
{
    size_t right = 0;
    if (confusion)
        memset(confusion, 0, n_classes * n_classes * sizeof *confusion);
    for (size_t s = 0; s < n_samples; s++) {
        right += pred[s] == (int32_t)labels[s];
        if (confusion && pred[s] >= 0 && (size_t)pred[s] < n_classes && labels[s] < n_classes)
            confusion[labels[s] * n_classes + (size_t)pred[s]]++;
    }
    return n_samples ? (double)right / (double)n_samples : 0.0;
}
