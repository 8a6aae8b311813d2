/*
 * sim/spec.h: the validated, plain description of a run that io/cfg.c builds
 * from a parameter file and sim/net.c builds a network from.
 *
 * No libconfig pointer survives into a spec: every string and array is owned
 * by the spec and released by snn_spec_free().  Values are in the units the
 * descriptor tables state (ms, mV, pA, pF, nS, Hz).
 */
#ifndef SNN_SPEC_H
#define SNN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../io/perturb.h"
#include "../rules/readout.h"
#include "model.h"

#define SNN_NAME_MAX 64
#define SNN_MAX_FILE_POPS 16
/* Longest delay in steps (per-synapse delays are stored as uint16). */
#define SNN_MAX_DELAY_STEPS 65535

/* simulation.integrator: clock-driven steps, or exact event-driven times
   (sim/sched_event.c). */
enum { SNN_INTEGRATOR_CLOCK = 0, SNN_INTEGRATOR_EVENT = 1 };

/* A number drawn per neuron or per synapse. */
typedef enum {
    SNN_DIST_NONE = 0,   /* not given: model default */
    SNN_DIST_CONST,      /* a */
    SNN_DIST_UNIFORM,    /* uniform on [a, b) */
    SNN_DIST_NORMAL,     /* mean a, sd b, truncated to [lo, hi] */
    SNN_DIST_ARRAY       /* values[i], one per neuron */
} snn_dist_kind;

typedef struct snn_dist {
    snn_dist_kind kind;
    double a, b;
    double lo, hi;        /* truncation of NORMAL (-inf/+inf when absent) */
    double *values;       /* ARRAY: owned, n_values entries */
    size_t n_values;
} snn_dist;

/* Where a setting came from, for errors found after parsing. */
typedef struct snn_where {
    char file[256];
    int line;
} snn_where;

typedef struct snn_pop_spec {
    char name[SNN_NAME_MAX];
    const snn_model_type *type;
    size_t n;
    double *par;          /* type->n_params values, defaults applied; owned */
    snn_dist *init;       /* type->n_state initial values; owned */
    /* Spike-list sources (type->takes_spike_list): spike i is neuron
       spike_ids[i] at spike_times_ms[i].  Owned. */
    size_t n_spikes;
    uint32_t *spike_ids;
    double *spike_times_ms;
    snn_where where;
} snn_pop_spec;

typedef enum {
    SNN_CONN_ALL_TO_ALL = 0,
    SNN_CONN_ONE_TO_ONE,
    SNN_CONN_BERNOULLI,   /* pairwise_bernoulli(p) */
    SNN_CONN_INDEGREE,    /* fixed_indegree(k) */
    SNN_CONN_LOCAL,       /* local: image patches (snn_local_spec) */
    SNN_CONN_LOCAL_GROUPS,/* local_groups: all to all within consecutive groups */
    SNN_CONN_N
} snn_conn_kind;

/* Connector names as parameter files spell them, in the order of snn_conn_kind. */
extern const char *const snn_conn_names[SNN_CONN_N];

/*
 * Geometry of the connectors `local` and `local_groups` (sim/connect.c).
 * local: pre is a width x height image, pixel (x, y) = neuron y * width + x;
 * square patches of patch x patch pixels start every `stride` pixels,
 * nx = (width - patch) / stride + 1 across and ny = (height - patch) / stride
 * + 1 down (pixels beyond the last whole patch are not seen); location
 * l = ly * nx + lx; post neuron j = l * per_location + f sees every pixel of
 * patch l, so post must have nx * ny * per_location neurons.
 * local_groups: pre and post of equal size, cut into consecutive groups of
 * group_size neurons; pre i -> post j when i / group_size == j / group_size
 * (minus i -> i under autapses = false onto itself or skip_same_index).
 */
typedef struct snn_local_spec {
    uint32_t width, height;        /* local: pre geometry (neurons) */
    uint32_t patch, stride;        /* local: patch side and step (pixels) */
    uint32_t per_location;         /* local: post neurons per patch */
    uint32_t group_size;           /* local_groups */
} snn_local_spec;

/* Patch locations of connector local across (*nx) and down (*ny); 0 when
   the patch is larger than the image or stride is 0. */
void snn_local_locations(const snn_local_spec *l, uint32_t *nx, uint32_t *ny);

typedef struct snn_proj_spec {
    char name[SNN_NAME_MAX];       /* "pre->post" unless named */
    uint32_t pre, post;            /* indices into snn_spec.pops */
    int channel;                   /* receptor index in the post model */
    snn_conn_kind conn;
    double p;                      /* BERNOULLI */
    size_t k;                      /* INDEGREE */
    bool autapses;                 /* allow i->i when pre == post */
    bool skip_same_index;          /* no i->i between two populations of equal size
                                      (Diehl & Cook's inhibition: all but the partner) */
    bool multapses;                /* INDEGREE: allow repeated pre */
    snn_local_spec local;          /* LOCAL, LOCAL_GROUPS */
    snn_dist weight;               /* post model's weight unit */
    snn_dist delay_ms;             /* CONST or UNIFORM; >= dt after rounding */
    /* Plasticity: NULL for static weights. */
    const struct snn_rule_type *rule;
    double *rule_par;              /* rule->n_params values, defaults applied; owned */
    double normalize;              /* > 0: after each sample of a plastic phase, scale each
                                      target's incoming weights to sum to this; 0: off */
    uint32_t top_k;                /* plasticity.top_k: only the top_k most active post
                                      neurons of a sample learn; 0: all (sim/protocol.h) */
    snn_where where;
} snn_proj_spec;

/* Piecewise-constant current injected into a population (or some of its
   neurons): amplitude amp_pA[j] from t_ms[j] until the next change. */
typedef struct snn_current_spec {
    char name[SNN_NAME_MAX];
    uint32_t target;               /* population index */
    size_t n_neurons;              /* 0: every neuron */
    uint32_t *neurons;             /* owned */
    size_t n_changes;
    double *t_ms;                  /* owned, ascending */
    double *amp_pA;                /* owned */
    snn_where where;
} snn_current_spec;

typedef struct snn_rec_state_spec {
    uint32_t pop;
    size_t n_vars;
    int *vars;                     /* state indices; owned */
    size_t n_neurons;
    uint32_t *neurons;             /* owned */
    double interval_ms;
} snn_rec_state_spec;

typedef struct snn_rec_weight_spec {
    uint32_t proj;
    double interval_ms;
} snn_rec_weight_spec;

/* Image data for experiments with phases (parameter group `data`). */
typedef struct snn_data_spec {
    char dataset[32];              /* "mnist" or "fashion_mnist" */
    char directory[1024];          /* folder of the four IDX files */
} snn_data_spec;

/* How an image is shown (parameter group `stimulus`); see sim/present.h. */
typedef struct snn_stim_spec {
    uint32_t input;                /* population of model "poisson", one neuron per pixel */
    double max_rate_hz;            /* rate of a 255 pixel at intensity 1 */
    double intensity;              /* first intensity */
    double present_ms, rest_ms;
    int watch;                     /* population whose spikes decide a boost, -1: none */
    uint64_t min_spikes;
    double intensity_step;
    unsigned max_boosts;
    bool wta;                      /* direct winner-take-all in population wta_pop */
    uint32_t wta_pop;              /* (sim/protocol.h, "Direct winner-take-all") */
} snn_stim_spec;

/* One phase of an experiment (list `phases`). */
typedef struct snn_phase_spec {
    char name[SNN_NAME_MAX];
    int split;                     /* 0: training set, 1: test set */
    size_t samples;                /* how many samples (<= the split's size) */
    uint64_t shuffle_seed;         /* 0: dataset order, else a seeded permutation */
    bool plastic;                  /* plasticity rules on */
    size_t n_features;
    uint32_t *features;            /* populations whose spike counts are stored; owned */
    size_t n_off;
    uint32_t *off;                 /* projections (indices) that deliver nothing and learn
                                      nothing during the phase; owned (sim/protocol.h) */
    size_t n_gain;
    uint32_t *gain_proj;           /* projections (indices) whose delivered weights are */
    double *gain;                  /* scaled by gain[q] during the phase; owned */
    size_t snapshot_every;         /* plastic phases: weights (and probe) every K samples; 0 off */
    size_t probe;                  /* probe set: the first N images of probe_split; 0 none */
    int probe_split;               /* 0: training set, 1: test set (default) */
    snn_perturb perturb;           /* images perturbed (robustness copies of a test phase) */
    uint64_t perturb_seed;
    snn_where where;
} snn_phase_spec;

/* Pure-Hebbian evaluation by voting (group `evaluate`). */
typedef struct snn_eval_spec {
    bool vote;                     /* evaluate at all */
    uint32_t pop;                  /* population that votes */
    size_t assign_phase;           /* phase whose features assign labels */
    size_t test_phase;             /* phase that is classified */
} snn_eval_spec;

/* The surrogate-gradient readout (group `readout`, rules/readout.h). */
typedef struct snn_readout_spec {
    bool on;
    bool pixels;                   /* input "pixels": the images (pure backprop) */
    size_t train_phase;            /* input "features": phase whose features train */
    size_t test_phase;             /* ... and the phase it is tested on */
    size_t train_samples;          /* input "pixels": first N of each split; 0 = all */
    size_t test_samples;
    /* input "file": the features an earlier run stored (/features/<phase>/
       <pop>) train and test the readout; no network, no images */
    bool from_file;
    char file[4096];               /* that run's result file (absolute path) */
    char train_name[SNN_NAME_MAX]; /* its phases */
    char test_name[SNN_NAME_MAX];
    char file_pops[SNN_MAX_FILE_POPS][SNN_NAME_MAX]; /* populations, in order */
    size_t n_file_pops;            /* 0: every population the train phase stored */
    snn_readout_cfg cfg;
} snn_readout_spec;

#define SNN_MAX_PERTURB 16

/* Robustness evaluation (group `robustness`): the test images perturbed. */
typedef struct snn_robust_spec {
    size_t n;                      /* perturbations, 0 = none */
    snn_perturb p[SNN_MAX_PERTURB];
    uint64_t seed;                 /* seed of the perturbation streams */
    /* The phases added for them (copies of the test phases of evaluate and
       readout, named "<test>_perturb<k>", k from 1), or SIZE_MAX. */
    size_t vote_phase[SNN_MAX_PERTURB];
    size_t readout_phase[SNN_MAX_PERTURB];
} snn_robust_spec;

/* Global-guided Hebbian learning (group `guided`, sim/ghl_run.h): the
   readout (group `readout`) steers a ghl projection during plastic phases. */
typedef struct snn_guided_spec {
    bool on;
    size_t proj;                   /* the projection under rule "ghl" */
    unsigned batch;                /* samples per mini-batch */
    unsigned readout_steps;        /* readout steps per mini-batch */
    int modulator;                 /* rule three_factor: SNN_GUIDED_MOD_* */
    int schedule;                  /* SNN_GUIDED_ALTERNATE | _INTERLEAVE */
} snn_guided_spec;
enum { SNN_GUIDED_ALTERNATE, SNN_GUIDED_INTERLEAVE };
enum { SNN_GUIDED_MOD_SIGN, SNN_GUIDED_MOD_REWARD };

typedef struct snn_spec {
    /* simulation */
    double dt_ms;
    double duration_ms;
    uint64_t seed;
    int threads;                   /* 0: OpenMP default */
    int integrator;                /* SNN_INTEGRATOR_CLOCK (default) or _EVENT */
    bool parallel_learning;        /* plastic phases use every thread (default: one) */
    /* network */
    size_t n_pops;
    snn_pop_spec *pops;            /* neuron populations and spike sources */
    size_t n_projs;
    snn_proj_spec *projs;
    size_t n_currents;
    snn_current_spec *currents;
    /* record */
    bool *rec_spikes;              /* n_pops flags */
    size_t n_rec_state;
    snn_rec_state_spec *rec_state;
    size_t n_rec_weights;
    snn_rec_weight_spec *rec_weights;
    /* experiment protocol: when n_phases > 0 the run is the phases, not
       duration_ms */
    snn_data_spec data;
    snn_stim_spec stim;
    size_t n_phases;
    snn_phase_spec *phases;        /* owned */
    snn_eval_spec eval;
    snn_readout_spec readout;
    snn_robust_spec robust;
    snn_guided_spec guided;
    /* output */
    char output[1024];             /* path of the HDF5 file */
    int compression;               /* deflate level 0..9 */
    char checkpoint[1040];         /* checkpoint file */
    size_t ckpt_every_steps;       /* runs without phases; 0 = on signals only */
    size_t ckpt_every_samples;     /* phases */
    unsigned ckpt_every_epochs;    /* readout */
    /* provenance */
    char source[1024];             /* parameter file path */
    char *resolved;                /* the full resolved parameter set, libconfig text */
} snn_spec;

/* Release everything the spec owns, then the spec itself; NULL is fine. */
void snn_spec_free(snn_spec *s);

#endif
