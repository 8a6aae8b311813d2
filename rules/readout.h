/*
 * rules/readout.h: a spiking readout trained by backpropagation through time
 * with a surrogate spike derivative (issue 5), as a self-contained library.
 *
 * Data: a feature matrix X [n × n_in] (row-major double, e.g. spike counts
 * of a Hebbian layer or pixels) and labels y[n] < n_classes.
 *
 * Per sample the features are normalised (none | max | z-score, statistics
 * from the training set, see snn_readout_fit_norm) and encoded over T =
 * `steps` steps of dt_ms: a constant current x·input_gain every step, or
 * Poisson spikes with probability clamp(x·max_rate_hz·dt_ms/1000, 0, 1)
 * drawn from a GSL mt19937 stream keyed by (seed, epoch, sample index) only,
 * so results never depend on batching or on the thread count.
 *
 * Layers l = 0..L-1 (0..4 hidden LIF layers, then the output layer), weights
 * W_l [n_in_l × n_out_l] (pre-major), optional bias b_l [n_out_l].  Per
 * neuron, per step t (dimensionless membrane units, threshold theta):
 *     I_t   = x_t W + b                     x_t: layer input at step t
 *     syn_t = alpha·syn_{t-1} + I_t         alpha = exp(-dt/tau_syn), 0 if tau_syn = 0
 *     u_t   = beta·v_{t-1} + syn_t          beta  = exp(-dt/tau_mem)
 *     s_t   = H(u_t - theta)                (smooth mode: sigmoid(slope·(u_t - theta)))
 *     v_t   = u_t - theta·s_t   (reset "subtract")   or   u_t·(1 - s_t)   (reset "zero")
 * Spikes s_t of layer l are the input of layer l+1 at the same step.  With
 * detach_reset the s_t of the reset term is a constant for the gradient.
 * Decoding: "count" gives logits z = Σ_t s_t of the output layer; "max_mem"
 * makes the output layer a non-spiking leaky integrator (no threshold, no
 * reset) and z = max_t u_t.  Loss: softmax cross-entropy, mean over samples.
 *
 * Surrogate derivative of H at x = u - theta, slope k (cfg.sg_slope):
 *     fast_sigmoid (SuperSpike): 1 / (1 + k|x|)^2
 *     arctan:                    k / (1 + (pi·k·x)^2)
 *     sigmoid:                   k·σ(kx)(1 - σ(kx))
 * In smooth mode the forward spike is σ(kx) and its derivative the sigmoid
 * one whatever cfg.surrogate says, so BPTT equals finite differences.
 *
 * Optimiser (cfg.optimizer), g the mini-batch mean gradient:
 *   "adam": Adam with DECOUPLED weight decay (AdamW: p -= lr·(m̂/(√v̂+eps)
 *           + weight_decay·p), weights only, never biases);
 *   "sgd":  plain SGD with CLASSIC L2 weight decay, i.e. the gradient of
 *           L + (weight_decay/2)·|W|^2 (as in Koplow, Poggio & Ziyin 2025):
 *           g' = g + weight_decay·p (weights only), and with momentum mu
 *           (default 0) buf = mu·buf + g', p -= lr·buf (buf starts at 0 and
 *           is kept in the Adam first-moment array); mu = 0 gives exactly
 *           p -= lr·(g + weight_decay·p).
 * Mini-batches in a seeded shuffled order, learning-rate schedule per
 * epoch (constant; step: lr ·
 * gamma^floor(epoch/step_epochs); cosine: lr_min + (lr - lr_min)(1 +
 * cos(pi·epoch/epochs))/2).  Optional Gaussian update noise of standard
 * deviation update_noise added to every weight after each update, from its
 * own seeded stream.  rule "random" replaces, for the layers below the
 * output, the backpropagated spike gradient by the output layer's current
 * gradient times a fixed seeded random matrix B_l [n_classes × n_out_l],
 * entries N(0, 1/n_classes) (direct feedback alignment).
 *
 * Alignment recording (record_alignment): after each update, per weight
 * matrix W_l, cos(ΔW_l, H_l) = <ΔW_l, H_l> / (|ΔW_l| |H_l|) (Frobenius),
 * where
 *   ΔW_l = W_l(after) - W_l(before) is the change actually applied by the
 *          step: optimiser (Adam or SGD, momentum included), weight decay
 *          (decoupled or L2) and update noise all included;
 *   H_l  = (1/B) Σ_b r_pre,b r_post,b^T  [n_in_l × n_out_l], the Hebbian
 *          term "pre rate × post rate", batch mean over the B samples of
 *          the mini-batch, computed in the same forward pass as the
 *          gradient (i.e. with the weights before the update).  A rate is
 *          the mean over the T steps of a neuron's spikes s_t (spikes per
 *          step, in [0, 1], not Hz).  Per layer:
 *            r_pre of layer 0: the encoded input, mean over T of the Poisson
 *              spikes, or x'·input_gain under current encoding (x' the
 *              normalised feature);
 *            r_pre of layer l > 0: the spike rate of hidden layer l-1;
 *            r_post: the layer's spike rate; for a non-spiking max_mem
 *              output layer, its mean membrane (1/T) Σ_t u_t.
 *          Rates are non-negative, so H_l >= 0 elementwise (except a
 *          max_mem output's membrane).
 * Positive cosine = "Hebbian", negative = "anti-Hebbian".  NaN when ΔW_l or
 * H_l is zero.  Biases are not part of it.
 *
 * Dropout (Srivastava et al. 2014, "inverted": nothing changes at
 * evaluation).  In every training pass (epochs, snn_readout_train_batch
 * and snn_readout_loss_and_grad; not snn_readout_input_grad) each sample draws,
 * once for all T steps, a mask m_i = 1/(1 - p) with probability 1 - p and
 * 0 otherwise:
 *   dropout_input  (p_in):  per feature, on the normalised feature, x' ← m·x'
 *                           (before the encoding: under Poisson encoding a
 *                           kept feature fires at 1/(1 - p_in) times its rate,
 *                           clamped to one spike per step);
 *   dropout_hidden (p_h):   per hidden neuron, on its spikes as the next
 *                           layer sees them, m·s_t (the neuron itself still
 *                           spikes and resets; only what it sends is cut).
 * The gradient flows through the same masks (dL/ds_t = m·dL/d(m s_t)), so
 * finite differences with the masks held fixed equal BPTT.  The masks come
 * from their own stream keyed by (seed, epoch or batch key, sample), like
 * the Poisson inputs, so results do not depend on batching or threads.
 *
 * Streams: weights (seed, layer), feedback matrices, the epoch's shuffle
 * (seed, epoch), Poisson inputs (seed, epoch, sample; evaluation uses a
 * fixed epoch of its own), dropout masks (seed, epoch, sample) and the
 * update noise (one stream, saved in checkpoints); all GSL mt19937 seeded
 * through sim/rng.h.
 *
 * Arithmetic is double throughout; matrix products go through cblas_dgemm
 * (OpenBLAS).  Each mini-batch is cut into chunks of cfg.chunk samples
 * whose boundaries depend on the batch only; every chunk owns its workspace
 * and gradient, an OpenMP loop runs the chunks and the gradients are summed
 * in chunk order, so results are bit-identical for any thread count.
 * Nothing is allocated inside the mini-batch loop.  Memory: ceil(batch /
 * chunk) chunk workspaces of about 8·(4·T·chunk·Σ_l n_out_l + n_params)
 * bytes each (784-400-10, T 25, chunk 16, batch 128: about 8 × 7.7 MB),
 * plus 8·T·chunk per hidden neuron with dropout_hidden.
 */
#ifndef SNN_READOUT_H
#define SNN_READOUT_H

#include <stddef.h>
#include <stdint.h>

#include "../io/h5.h"
#include "../sim/err.h"

#define SNN_READOUT_MAX_HIDDEN 4

enum { SNN_RO_NORM_NONE, SNN_RO_NORM_MAX, SNN_RO_NORM_ZSCORE };
enum { SNN_RO_ENC_CURRENT, SNN_RO_ENC_POISSON };
enum { SNN_RO_DEC_COUNT, SNN_RO_DEC_MAX_MEM };
enum { SNN_RO_SG_FAST_SIGMOID, SNN_RO_SG_ARCTAN, SNN_RO_SG_SIGMOID };
enum { SNN_RO_RESET_SUBTRACT, SNN_RO_RESET_ZERO };
enum { SNN_RO_LR_CONSTANT, SNN_RO_LR_STEP, SNN_RO_LR_COSINE };
enum { SNN_RO_RULE_BACKPROP, SNN_RO_RULE_RANDOM };
enum { SNN_RO_OPT_ADAM, SNN_RO_OPT_SGD };

/* Plain configuration; snn_readout_cfg_default fills every field. */
typedef struct snn_readout_cfg {
    uint64_t seed;          /* master seed: init, shuffle, Poisson, noise, feedback */
    int norm;               /* SNN_RO_NORM_*: none; max (÷ the training set's
                               global max); zscore (per feature, population std;
                               a constant feature maps to 0) */
    int encode;             /* SNN_RO_ENC_* */
    unsigned steps;         /* T, time steps per sample */
    double dt_ms;           /* step (ms) */
    double input_gain;      /* current encoding: current per unit feature (1) */
    double max_rate_hz;     /* Poisson encoding: rate of a unit feature (Hz) */
    unsigned n_hidden;      /* hidden LIF layers, 0..SNN_READOUT_MAX_HIDDEN */
    unsigned hidden[SNN_READOUT_MAX_HIDDEN]; /* their sizes */
    double tau_mem_ms;      /* membrane time constant (ms), > 0 */
    double tau_syn_ms;      /* synaptic current time constant (ms), 0 = none */
    double threshold;       /* theta (membrane units), > 0 */
    int reset;              /* SNN_RO_RESET_* */
    int detach_reset;       /* 1: reset term excluded from the gradient */
    int decode;             /* SNN_RO_DEC_* */
    int bias;               /* 1: a trained bias per neuron */
    int surrogate;          /* SNN_RO_SG_* */
    double sg_slope;        /* k (1 / membrane unit), > 0 */
    int smooth;             /* test mode: sigmoid forward spike */
    double init_gain;       /* W ~ N(0, (init_gain)^2 / n_in_l) */
    int optimizer;          /* SNN_RO_OPT_*: Adam (default) or plain SGD */
    double lr;              /* learning rate (Adam or SGD) */
    double adam_beta1, adam_beta2, adam_eps;
    double momentum;        /* SGD momentum mu in [0, 1) (0 = plain SGD); Adam ignores it */
    double weight_decay;    /* weights only: decoupled for Adam (AdamW), L2 term
                               weight_decay·W added to the gradient for SGD */
    unsigned batch;         /* mini-batch size (samples) */
    unsigned epochs;        /* epochs snn_readout_train runs (also curve capacity) */
    int shuffle;            /* 1: seeded reshuffle of the training set each epoch */
    int lr_schedule;        /* SNN_RO_LR_* */
    unsigned lr_step_epochs;/* step schedule: epochs per decay */
    double lr_gamma;        /* step schedule factor */
    double lr_min;          /* cosine schedule floor */
    double update_noise;    /* σ of Gaussian noise added to each weight update (0 = off) */
    double dropout_input;   /* training only: probability that a feature is dropped
                               for a sample (all T steps), [0, 1); 0 = off */
    double dropout_hidden;  /* training only: probability that a hidden neuron's
                               spikes are dropped for a sample (all T steps) */
    int rule;               /* SNN_RO_RULE_* */
    int record_alignment;   /* 1: cosine(ΔW, Hebbian term) per update and matrix */
    int record_weights;     /* 1: keep the weights after each epoch for /readout/weights */
    unsigned chunk;         /* samples per work chunk (fixed; not a thread count) */
    double sparse_density;  /* a layer whose input is spikes (Poisson input, or hidden
                               spikes outside smooth mode) uses row-sparse sums instead
                               of dgemm for I and dL/dW when at most this fraction of
                               a chunk's inputs spike; 0 = always dgemm, 1 = always
                               sparse.  Only the summation order differs. */
} snn_readout_cfg;

typedef struct snn_readout snn_readout;

/* Per-epoch statistics returned by snn_readout_train_epoch. */
typedef struct snn_readout_epoch {
    unsigned epoch;         /* 0-based index of the epoch just trained */
    double loss;            /* mean cross-entropy over the epoch's samples (before each update) */
    double train_accuracy;  /* fraction correct on the fly (before each update;
                               with dropout, of the masked network) */
    double test_accuracy;   /* filled by snn_readout_train; NaN without test data */
    double learning_rate;   /* lr used in this epoch */
    double time_s;          /* wall time of the epoch (s) */
} snn_readout_epoch;

/* Defaults: seed 1, no normalisation, current encoding, T 25, dt 1 ms, gain
   1, 100 Hz, no hidden layer, tau_mem 10 ms, tau_syn 0, theta 1, subtract,
   detach_reset 1, count, bias 1, fast sigmoid slope 10, Adam 1e-3 / 0.9 /
   0.999 / 1e-8 (SGD momentum 0), no decay, batch 128, 10 epochs, shuffle, constant lr,
   no dropout, chunk 16, sparse_density 0.125. */
void snn_readout_cfg_default(snn_readout_cfg *c);

/* Validate `c`: SNN_ECFG naming the key, the value and the allowed range. */
int snn_readout_cfg_check(const snn_readout_cfg *c, snn_err *err);

/* Names of the enum values ("none", "max", "zscore", ...), for files and
   messages; snn_readout_choice parses them back (SNN_ECFG on a bad name). */
const char *snn_readout_choice_name(const char *key, int value);
int snn_readout_choice(const char *key, const char *name, int *value, snn_err *err);

/*
 * snn_readout_create: validate `cfg` (copied) and build a learner for n_in
 * features and n_classes classes: weights initialised from the seed, Adam
 * state zero, every work buffer allocated.  *out is taken by the caller
 * (snn_readout_free).  SNN_ECFG on a bad configuration, SNN_ENOMEM.
 */
int snn_readout_create(snn_readout **out, const snn_readout_cfg *cfg, size_t n_in,
                       size_t n_classes, snn_err *err);
void snn_readout_free(snn_readout *r);

/* Fit the normalisation statistics on the training matrix X [n × n_in]
   (a no-op for norm none); they are applied to every later input. */
int snn_readout_fit_norm(snn_readout *r, const double *X, size_t n, snn_err *err);
/* Normalisation statistics: x' = (x - shift[i]) · scale[i] (borrowed). */
void snn_readout_norm(const snn_readout *r, const double **shift, const double **scale);

/*
 * snn_readout_train_epoch: one epoch of mini-batch training on X, y (n
 * samples, borrowed).  Records the curves (loss, train accuracy, lr, time;
 * test accuracy NaN until snn_readout_train fills it) and, if enabled, the
 * weights and the alignment.  Fails with SNN_ECFG after cfg.epochs epochs
 * (the curve capacity) or on a label >= n_classes.
 */
int snn_readout_train_epoch(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                            snn_readout_epoch *stats, snn_err *err);

/*
 * snn_readout_evaluate: classify X (n samples).  acc, confusion [C × C]
 * (row = true label) and predictions [n] may each be NULL.  The result is
 * also kept for snn_readout_write_h5 (/readout/results).  Prediction: the
 * largest logit, ties to the lowest class.
 */
int snn_readout_evaluate(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                         double *acc, uint64_t *confusion, uint64_t *predictions, snn_err *err);

typedef int (*snn_readout_epoch_fn)(void *ctx, const snn_readout_epoch *stats, snn_err *err);

/* Fit the normalisation on the training set if no epoch ran yet, then train
   the remaining epochs up to cfg.epochs, evaluating on the test set (may be
   n_test = 0) after each; `cb` (may be NULL) is called after each epoch and
   stops the run by returning non-zero (that code is returned). */
int snn_readout_train(snn_readout *r, const double *Xtr, const uint8_t *ytr, size_t ntr,
                      const double *Xte, const uint8_t *yte, size_t nte,
                      snn_readout_epoch_fn cb, void *ctx, snn_err *err);

/* Write the /readout group: attributes (every configuration value), curves,
   weights (record_weights), alignment (record_alignment) and the last
   evaluation's results; the layout is listed in rules/readout_io.c. */
int snn_readout_write_h5(const snn_readout *r, snn_h5 *h, snn_err *err);

/* ---- checkpoints ----
   The blob holds the whole learner state: parameters, Adam moments and
   step count, epochs done, normalisation statistics, the update-noise
   stream's raw GSL state (the shuffle and Poisson streams are keyed by
   epoch and sample), curves, weight snapshots and the alignment record,
   with a version, the learner's shape and a checksum.  Host byte order. */
size_t snn_readout_blob_size(const snn_readout *r);
/* Write exactly snn_readout_blob_size(r) bytes into buf (size `len`). */
int snn_readout_save(const snn_readout *r, void *buf, size_t len, snn_err *err);
/* Restore into a learner created with the same configuration and sizes:
   SNN_ECFG if the blob is short, corrupt, of another version or shape. */
int snn_readout_load(snn_readout *r, const void *buf, size_t len, snn_err *err);

/* ---- introspection and test hooks ---- */
size_t snn_readout_n_layers(const snn_readout *r);
/* Layer l's weights [n_in_l × n_out_l] (bias = 0) or bias [n_out_l] (bias =
   1, NULL without biases); *n gets the element count.  Borrowed, writable. */
double *snn_readout_param(snn_readout *r, size_t l, int bias, size_t *n);
unsigned snn_readout_epochs_done(const snn_readout *r);
/* rule random: the feedback matrix B_l [n_classes × n_out_l] of hidden
   layer l (NULL otherwise); borrowed, writable (tests). */
double *snn_readout_feedback(snn_readout *r, size_t l, size_t *n);
/* Curve "loss", "train_accuracy", "test_accuracy", "learning_rate" or
   "epoch_time_s" ([epochs done], borrowed), NULL for another name. */
const double *snn_readout_curve(const snn_readout *r, const char *name);

/*
 * snn_readout_loss_and_grad: mean loss over the n samples and its gradient
 * with respect to every parameter, laid out like snn_readout_param (for each
 * layer W_l then b_l) in grad (length snn_readout_n_params).  Uses the
 * current epoch's Poisson streams; does not change the learner's state.
 */
size_t snn_readout_n_params(const snn_readout *r);
int snn_readout_loss_and_grad(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                              double *loss, double *grad, snn_err *err);

/*
 * snn_readout_input_grad: mean loss over the n samples and its gradient with
 * respect to the raw input features, dX [n × n_in] (row s is (1/n)·dℓ_s/dx_s,
 * ℓ_s the sample's cross-entropy: only row s's own loss depends on x_s).
 * The gradient passes through layer 0 (Σ_t dL/dI_t W_0^T; with rule random
 * and hidden layers, dL/dI of layer 0 is the feedback-aligned one), the
 * encoding and the normalisation x' = (x - shift)·scale:
 *   current encoding: exact, dL/dx_i = input_gain · scale_i · dL/dx0_i;
 *   Poisson encoding: straight-through estimate, each spike's derivative
 *     taken as that of its expectation clamp(x'_i·p, 0, 1), p =
 *     max_rate_hz·dt_ms/1000: dL/dx_i = p · scale_i · Σ_t dL/ds_{t,i} where
 *     0 <= x'_i·p <= 1 (a silent feature keeps its gradient), 0 outside.
 * Uses the current epoch's Poisson streams like snn_readout_loss_and_grad
 * (the same forward pass); grad (may be NULL) gets the parameter gradient
 * of the same pass, bit-identical to snn_readout_loss_and_grad's, so one
 * pass serves both.  Does not change the learner's state.  For GHL
 * the readout's input features are the early layer's outputs y, so this is
 * the global signal dL/dy (ghl.h).  Dropout is not applied here: the
 * signal is that of the whole network (so with dropout on, grad differs
 * from snn_readout_loss_and_grad's, which is a training pass).
 */
int snn_readout_input_grad(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                           double *loss, double *grad, double *dX, snn_err *err);

/* Surrogate derivative of kind SNN_RO_SG_* at x = u - theta with slope k. */
double snn_readout_surrogate(int kind, double k, double x);

/* One AdamW step on n parameters at step count t >= 1 (after increment):
   m, v updated in place; decay applies weight_decay·p (pass 0 for biases). */
void snn_readout_adam(double *p, double *m, double *v, const double *g, size_t n, uint64_t t,
                      double lr, double beta1, double beta2, double eps, double weight_decay);

/*
 * snn_readout_train_batch: one optimiser step (AdamW, the epoch's learning
 * rate, update noise and alignment as in an epoch) on the mini-batch X, y
 * of n samples, 1 <= n <= cfg.batch, in the given order: the mean loss over
 * them, exactly the step snn_readout_train_epoch takes on a mini-batch of
 * the same samples under current encoding.  Poisson inputs come from the
 * streams keyed by (seed, `key`, position in the batch), so a caller that
 * passes a new key per batch gets fresh spikes, the same for any thread
 * count.  The
 * epoch count and the curves are not changed (the normalisation must be
 * fitted before: snn_readout_fit_norm).  *loss and *accuracy (may be NULL)
 * get the batch's mean loss and fraction correct before the step.
 */
int snn_readout_train_batch(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                            uint32_t key, double *loss, double *accuracy, snn_err *err);

/* One SGD step on n parameters: g' = g + weight_decay·p (L2; pass 0 for
   biases); buf = momentum·buf + g'; p -= lr·buf.  With momentum 0, buf is
   just g' and p -= lr·(g + weight_decay·p). */
void snn_readout_sgd(double *p, double *buf, const double *g, size_t n, double lr,
                     double momentum, double weight_decay);

#endif
