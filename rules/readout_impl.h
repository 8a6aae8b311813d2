/*
 * rules/readout_impl.h: the learner's private state, shared by
 * rules/readout.c (training) and rules/readout_io.c (configuration,
 * HDF5 output, checkpoints).  Not part of the public interface.
 */
#ifndef SNN_READOUT_IMPL_H
#define SNN_READOUT_IMPL_H

#include <gsl/gsl_rng.h>

#include "../sim/rng.h"
#include "readout.h"

#define RO_MAXL (SNN_READOUT_MAX_HIDDEN + 1)

/* Stream kinds: the owner of a GSL stream is (SNN_RNG_USER, kind, epoch). */
enum { RO_RNG_INIT = 1, RO_RNG_TRAIN, RO_RNG_EVAL, RO_RNG_NOISE, RO_RNG_SHUFFLE, RO_RNG_FEEDBACK,
       RO_RNG_DROPOUT };

/* Per-layer work arrays of a chunk; rows are t·nb + b (time-major). */
typedef struct ro_layer_ws {
    double *cur;   /* I_t in the forward pass, dL/dI_t in the backward [T·C × n_out] */
    double *u;     /* pre-reset membrane u_t [T·C × n_out] */
    double *s;     /* spikes s_t [T·C × n_out] */
    double *gs;    /* dL/ds_t from above (dL/du_t for a non-spiking layer) [T·C × n_out] */
} ro_layer_ws;

/* One chunk's workspace and gradient: used by one thread at a time. */
typedef struct ro_slot {
    gsl_rng *rng;              /* Poisson stream, reseeded per sample */
    double *xn;                /* normalised features [C × n_in] */
    double *x0;                /* layer-0 input [C × n_in] (current) or [T·C × n_in] */
    ro_layer_ws lw[RO_MAXL];
    double *st_a, *st_b;       /* recursion state [C × max width] */
    double *gsum;              /* Σ_t dL/dI_t of layer 0 [C × n_1] (current encoding,
                                  or any encoding when the input gradient is asked) */
    double *gx;                /* dL/dx of the raw features [C × n_in] (input_grad) */
    double *z, *gz;            /* logits and dL/dz [C × n_classes] */
    double *grad;              /* [n_par] */
    double *hebb;              /* [n_par] (weights part), alignment only */
    double *rate_in, *rate_out;/* alignment scratch [C × max width] */
    uint64_t *pred;            /* [C] */
    /* Spiking inputs of layer l: indices of the non-zero entries of each
       input row (act[l], rows act_row[l][r]..act_row[l][r+1]); sparse[l]
       says whether this chunk used them. */
    uint32_t *act[RO_MAXL];
    size_t *act_row[RO_MAXL];
    int sparse[RO_MAXL];
    /* Dropout (training passes): mask[l] is layer l's input mask [C ×
       dim[l]] (0 or 1/(1 - p)), allocated when that layer's dropout is on;
       ds[l], l >= 1, the masked spikes of hidden layer l - 1 that layer l
       reads [T·C × dim[l]]. */
    double *mask[RO_MAXL];
    double *ds[RO_MAXL];
    double loss;               /* Σ cross-entropy over the chunk */
    size_t correct;
} ro_slot;

struct snn_readout {
    snn_readout_cfg cfg;
    size_t n_layers;           /* L = n_hidden + 1 */
    size_t dim[RO_MAXL + 1];   /* dim[0] = n_in, dim[L] = n_classes */
    size_t w_off[RO_MAXL], b_off[RO_MAXL]; /* into par; b_off = SIZE_MAX without bias */
    size_t n_par, max_dim;
    double beta, alpha, p_scale;
    double *par, *m, *v, *grad, *prev; /* m: Adam first moment or SGD momentum buffer */
    double *fb[RO_MAXL];       /* rule random: B_l [n_classes × dim[l+1]], l < L-1 */
    double *shift, *scale;     /* normalisation x' = (x - shift)·scale */
    int norm_fitted;
    uint64_t step;             /* optimiser steps taken */
    unsigned epoch;            /* epochs done */
    gsl_rng *noise, *aux;      /* update noise; shuffle (reseeded per epoch) */
    ro_slot *slot;
    size_t n_slots;
    size_t *perm;
    size_t cap_perm;
    /* curves [cfg.epochs] */
    double *c_loss, *c_train, *c_test, *c_lr, *c_time;
    double *whist[RO_MAXL];    /* [cfg.epochs × dim[l] × dim[l+1]] if record_weights */
    double *al_cos;            /* [cap_al × L] */
    uint64_t *al_step;         /* [cap_al] */
    size_t n_al, cap_al;
    /* last evaluation */
    int have_eval;
    double eval_acc;
    uint64_t *eval_conf;       /* [C × C] */
    uint64_t *eval_pred;
    size_t n_eval, cap_eval;
};

static inline uint32_t ro_owner(uint32_t kind, uint32_t epoch)
{
    return snn_rng_owner(SNN_RNG_USER, (kind << 20) ^ (epoch & 0xfffffu));
}

/* What one call of ro_run_chunk works on. */
typedef struct ro_batch {
    const double *X;
    const uint8_t *y;
    const size_t *idx;   /* sample indices, or NULL: base + position */
    size_t base;
    uint32_t rng_kind, rng_epoch;
    int backward;
    double gscale;       /* dL/dz scale: 1 / (samples in the mini-batch) */
    int input_grad;      /* backward only: also fill sl->gx */
    int no_dropout;      /* 1: a training pass without dropout masks */
} ro_batch;

/*
 * ro_run_chunk (rules/readout_bptt.c): forward (and backward if
 * bt->backward) of samples [pos, pos + nb) of the batch in slot sl; fills
 * sl->loss, sl->correct, sl->pred and, when backward, sl->grad (and
 * sl->hebb when recording alignment; sl->gx when bt->input_grad).
 * Touches nothing else.
 */
void ro_run_chunk(const snn_readout *r, ro_slot *sl, const ro_batch *bt, size_t pos, size_t nb);

/* Grow the alignment record to hold `need` entries (SNN_ENOMEM). */
int ro_reserve_alignment(snn_readout *r, size_t need, snn_err *err);

#endif
