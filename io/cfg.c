/*
 * io/cfg.c: parameter files (libconfig syntax) -> validated snn_spec.
 *
 * Method: libconfig parses the file (@include is resolved relative to the
 * file's directory); the command-line overrides (-s key.path=value) are
 * spliced into the parsed tree; then every group is checked against a
 * descriptor table: the key_desc tables below for the run-level keys, the
 * model's snn_param_desc table for its parameters, and the rule's table for
 * the parameters of a projection's plasticity group (unit "w": the
 * projection's weight unit, which messages spell out).  Validation, defaults and
 * `snn help config` all read the same tables.  Unknown keys and names get the
 * nearest valid one as a suggestion (edit distance).
 *
 * Every default applied is also written back into the tree, and the tree is
 * printed as spec->resolved.  That printer is ours, not config_write():
 * libconfig 1.5 prints doubles with 15 significant digits, which would not
 * reproduce every value; ours prints the shortest text that reads back to the
 * same double, so loading spec->resolved gives the same spec.
 *
 * Errors: SNN_ECFG with "FILE:LINE: message" (the line of the setting, or of
 * the enclosing group for a missing key), or "command line -s KEY=VALUE:
 * message" for values that came from an override.  Units as in the tables
 * (ms, mV, pA, pF, nS, Hz).  No libconfig pointer survives into the spec.
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <libconfig.h>

#include "../rules/rule.h"
#include "../sim/pop.h"

/* libconfig's own limit on nested @include. */
#define MAX_INCLUDE_DEPTH 10
/* Longest delay in steps: sim/net.c stores delays in 16 bits. */
#define MAX_DELAY_STEPS SNN_MAX_DELAY_STEPS
/* Least probability mass a truncated normal must keep: values are drawn by
   rejection, so a tiny mass would loop (almost) forever. */
#define MIN_NORMAL_MASS 1e-3
/* An interval is "a multiple of dt" when interval/dt is within this relative
   distance of an integer (absorbs the rounding of decimal inputs). */
#define MULTIPLE_RTOL 1e-9

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- descriptor tables of the run-level keys ---------------------------- */

typedef enum {
    V_NUM,    /* number (int or float) */
    V_INT,    /* integer (int or int64) */
    V_BOOL,
    V_STR,
    V_GROUP,  /* { ... } */
    V_LIST,   /* ( {...}, ... ) */
    V_NUMS,   /* [numbers] */
    V_INTS,   /* [integers] */
    V_STRS,   /* [strings] */
    V_DIST    /* number | { uniform = [a, b]; } | { normal = [m, sd]; min; max; } */
} vkind;

enum {
    K_REQ = 1,      /* required */
    K_LO_OPEN = 2,  /* lower bound excluded */
    K_NODEF = 4,    /* optional, no default value */
    K_HI_OPEN = 8   /* upper bound excluded */
};

typedef struct key_desc {
    const char *key;
    vkind kind;
    const char *unit;     /* NULL: none */
    double def, lo, hi;   /* numeric default and bounds (V_NUM, V_INT) */
    int flags;
    const char *defstr;   /* default in words (help), NULL: use def */
    const char *doc;
} key_desc;

enum { TOP_SIM, TOP_POPS, TOP_INPUTS, TOP_PROJS, TOP_DATA, TOP_STIM, TOP_PHASES, TOP_EVAL,
       TOP_READOUT, TOP_ROBUST, TOP_RECORD, TOP_OUTPUT, TOP_GUIDED, TOP_N };
static const key_desc top_keys[TOP_N] = {
    [TOP_SIM] = {"simulation", V_GROUP, NULL, 0, 0, 0, K_REQ, NULL,
                 "time step, duration, seed and threads"},
    [TOP_POPS] = {"populations", V_GROUP, NULL, 0, 0, 0, K_NODEF, NULL,
                  "named neuron populations, in file order"},
    [TOP_INPUTS] = {"inputs", V_GROUP, NULL, 0, 0, 0, K_NODEF, NULL,
                    "named spike sources and current injections, in file order"},
    [TOP_PROJS] = {"projections", V_GROUP, NULL, 0, 0, 0, K_NODEF, NULL,
                   "named synaptic projections"},
    [TOP_DATA] = {"data", V_GROUP, NULL, 0, 0, 0, K_NODEF, NULL,
                  "the image dataset of the phases (required with phases)"},
    [TOP_STIM] = {"stimulus", V_GROUP, NULL, 0, 0, 0, K_NODEF, NULL,
                  "how an image is shown (required with phases)"},
    [TOP_PHASES] = {"phases", V_LIST, NULL, 0, 0, 0, K_NODEF, NULL,
                    "the experiment: ( { name; split; samples; ... }, ... ), run in order "
                    "instead of simulation.duration_ms"},
    [TOP_EVAL] = {"evaluate", V_GROUP, NULL, 0, 0, 0, K_NODEF, NULL,
                  "classification by voting after the phases"},
    [TOP_READOUT] = {"readout", V_GROUP, NULL, 0, 0, 0, K_NODEF, NULL,
                     "a spiking readout trained by surrogate gradients, on the features of "
                     "phases (hybrid) or on the pixels (pure backprop)"},
    [TOP_ROBUST] = {"robustness", V_GROUP, NULL, 0, 0, 0, K_NODEF, NULL,
                    "test accuracy again under seeded image perturbations"},
    [TOP_RECORD] = {"record", V_GROUP, NULL, 0, 0, 0, 0, NULL, "what is recorded"},
    [TOP_OUTPUT] = {"output", V_GROUP, NULL, 0, 0, 0, 0, NULL, "the HDF5 result file"},
    [TOP_GUIDED] = {"guided", V_GROUP, NULL, 0, 0, 0, K_NODEF, NULL,
                    "global-guided Hebbian learning: the readout steers a ghl projection "
                    "during the plastic phases"},
};

enum { SIM_DT, SIM_DURATION, SIM_SEED, SIM_THREADS, SIM_INTEGRATOR, SIM_PAR_LEARN, SIM_N };
static const key_desc sim_keys[SIM_N] = {
    [SIM_DT] = {"dt_ms", V_NUM, "ms", 0.1, 0.0, 10.0, K_LO_OPEN, NULL, "integration time step"},
    [SIM_DURATION] = {"duration_ms", V_NUM, "ms", 0.0, 0.0, INFINITY, K_NODEF | K_LO_OPEN,
                      "required without phases",
                      "simulated time, at least one step; with phases optional and unused"},
    [SIM_SEED] = {"seed", V_INT, NULL, 1.0, 0.0, 9223372036854775807.0, 0, NULL,
                  "master random seed: same seed, same results for any thread count; "
                  "above 2147483647 add the suffix L, e.g. 5000000000L"},
    [SIM_THREADS] = {"threads", V_INT, NULL, 0.0, 0.0, 1024.0, 0, NULL,
                     "OpenMP threads; 0 = the OpenMP default, OMP_NUM_THREADS"},
    [SIM_INTEGRATOR] = {"integrator", V_STR, NULL, 0, 0, 0, 0, "\"clock\"",
                        "\"clock\": clock-driven steps of dt_ms (OpenMP); \"event\": exact "
                        "continuous spike times, single-threaded (lif, poisson, spike_times)"},
    [SIM_PAR_LEARN] = {"parallel_learning", V_BOOL, NULL, 0.0, 0, 1, 0, "false",
                       "phases: plastic phases step the network on every thread too; by "
                       "default on one (a barrier per step costs more than a small network's "
                       "update); results are identical either way"},
};

enum { POP_MODEL, POP_SIZE, POP_INIT, POP_N };
static const key_desc pop_keys[POP_N] = {
    [POP_MODEL] = {"model", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                   "model name, see `snn help models`; its parameters are keys of this group"},
    [POP_SIZE] = {"size", V_INT, NULL, 0, 1.0, 4294967295.0, K_REQ, NULL, "number of neurons"},
    [POP_INIT] = {"init", V_GROUP, NULL, 0, 0, 0, K_NODEF, "the model's",
                  "initial values: { VAR = number | {uniform = [a, b];} | {normal = [mean, sd]; "
                  "min = lo; max = hi;} | [size numbers]; } for the model's state variables"},
};

enum { SPK_TIMES, SPK_IDS, SPK_N };
static const key_desc spk_keys[SPK_N] = {
    [SPK_TIMES] = {"spike_times_ms", V_NUMS, "ms", 0, 0, 0, K_REQ, NULL,
                   "spike times (model spike_times), each >= dt_ms after rounding to the grid"},
    [SPK_IDS] = {"spike_ids", V_INTS, NULL, 0, 0, 0, K_NODEF, "all 0 when size = 1",
                 "neuron of each spike, < size; same length as spike_times_ms"},
};

enum { CUR_MODEL, CUR_TARGET, CUR_NEURONS, CUR_AMP, CUR_START, CUR_STOP, CUR_TIMES, CUR_AMPS,
       CUR_N };
static const key_desc cur_keys[CUR_N] = {
    [CUR_MODEL] = {"model", V_STR, NULL, 0, 0, 0, K_REQ, NULL, "\"current\""},
    [CUR_TARGET] = {"target", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                    "population receiving the current"},
    [CUR_NEURONS] = {"neurons", V_INTS, NULL, 0, 0, 0, K_NODEF, "all",
                     "ids of the target neurons that receive it"},
    [CUR_AMP] = {"amplitude_pA", V_NUM, "pA", 0, -1e9, 1e9, K_NODEF, NULL,
                 "pulse form: amplitude from start_ms to stop_ms"},
    [CUR_START] = {"start_ms", V_NUM, "ms", 0.0, 0.0, INFINITY, 0, NULL, "pulse form: onset"},
    [CUR_STOP] = {"stop_ms", V_NUM, "ms", 0, 0.0, INFINITY, K_NODEF, "never",
                  "pulse form: end, after start_ms"},
    [CUR_TIMES] = {"times_ms", V_NUMS, "ms", 0, 0.0, INFINITY, K_NODEF, NULL,
                   "step form: times of the changes, strictly ascending, >= 0"},
    [CUR_AMPS] = {"amplitudes_pA", V_NUMS, "pA", 0, -1e9, 1e9, K_NODEF, NULL,
                  "step form: amplitude from each time on, one per time"},
};

enum { PJ_PRE, PJ_POST, PJ_RECEPTOR, PJ_CONNECTOR, PJ_P, PJ_K, PJ_AUTAPSES, PJ_SKIP_SAME,
       PJ_MULTAPSES, PJ_WIDTH, PJ_HEIGHT, PJ_PATCH, PJ_STRIDE, PJ_PER_LOC, PJ_GROUP_SIZE,
       PJ_WEIGHT, PJ_DELAY, PJ_PLASTICITY, PJ_NORMALIZE, PJ_N };
static const key_desc proj_keys[PJ_N] = {
    [PJ_PRE] = {"pre", V_STR, NULL, 0, 0, 0, K_REQ, NULL, "source: a population or spike input"},
    [PJ_POST] = {"post", V_STR, NULL, 0, 0, 0, K_REQ, NULL, "target population"},
    [PJ_RECEPTOR] = {"receptor", V_STR, NULL, 0, 0, 0, 0, "first channel",
                     "receptor channel of the post model (lif, lif_cond: exc, inh)"},
    [PJ_CONNECTOR] = {"connector", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                      "all_to_all | one_to_one | pairwise_bernoulli | fixed_indegree | local "
                      "(each target sees one image patch of pre) | local_groups (all to all "
                      "within consecutive groups of group_size)"},
    [PJ_P] = {"p", V_NUM, NULL, 0, 0.0, 1.0, K_NODEF, NULL,
              "connection probability; pairwise_bernoulli only, required there"},
    [PJ_K] = {"k", V_INT, NULL, 0, 0.0, 4294967295.0, K_NODEF, NULL,
              "sources per target; fixed_indegree only, required there; at most "
              "the size of pre unless multapses"},
    [PJ_AUTAPSES] = {"autapses", V_BOOL, NULL, 0.0, 0, 1, 0, "false",
                     "allow i -> i when pre == post"},
    [PJ_SKIP_SAME] = {"skip_same_index", V_BOOL, NULL, 0.0, 0, 1, 0, "false",
                      "no synapse i -> i between two populations of equal size (Diehl & Cook's "
                      "inhibition: every target but the partner)"},
    [PJ_MULTAPSES] = {"multapses", V_BOOL, NULL, 0.0, 0, 1, 0, "false",
                      "fixed_indegree: allow the same source more than once"},
    [PJ_WIDTH] = {"width", V_INT, "pixels", 0, 1.0, 4294967295.0, K_NODEF, NULL,
                  "local only, required there: pre is an image width pixels across "
                  "(pixel (x, y) = neuron y * width + x; MNIST: 28)"},
    [PJ_HEIGHT] = {"height", V_INT, "pixels", 0, 1.0, 4294967295.0, K_NODEF, NULL,
                   "local only, required there: image height; width * height = size of pre"},
    [PJ_PATCH] = {"patch", V_INT, "pixels", 0, 1.0, 4294967295.0, K_NODEF, NULL,
                  "local only, required there: side of the square patch each target sees "
                  "(patch^2 synapses per target), at most width and height"},
    [PJ_STRIDE] = {"stride", V_INT, "pixels", 0, 1.0, 4294967295.0, K_NODEF, NULL,
                   "local only, required there: step between patches; (width - patch) / "
                   "stride + 1 locations across, likewise down (pixels past the last whole "
                   "patch are not seen)"},
    [PJ_PER_LOC] = {"per_location", V_INT, "neurons", 0, 1.0, 4294967295.0, K_NODEF, NULL,
                    "local only, required there: targets per patch; post neuron "
                    "l * per_location + f sees patch l (row-major); size of post = locations "
                    "* per_location"},
    [PJ_GROUP_SIZE] = {"group_size", V_INT, "neurons", 0, 1.0, 4294967295.0, K_NODEF, NULL,
                       "local_groups only, required there: pre i -> post j when "
                       "i / group_size = j / group_size (pre and post of equal size, a "
                       "multiple of it; e.g. per_location: competition within a patch)"},
    [PJ_WEIGHT] = {"weight", V_DIST, NULL, 0, 0, 0, K_REQ, NULL,
                   "number | {uniform = [a, b];} | {normal = [mean, sd]; min = lo; max = hi;} in "
                   "the post model's unit (lif: pA, or mV with synapse = \"delta\"; lif_cond: "
                   "nS, >= 0)"},
    [PJ_DELAY] = {"delay_ms", V_DIST, "ms", 0, 0.0, INFINITY, 0, "dt_ms",
                  "number | {uniform = [a, b];}; >= dt_ms after rounding to steps, "
                  "at most 65535 steps"},
    [PJ_PLASTICITY] = {"plasticity", V_GROUP, NULL, 0, 0, 0, 0, "none: static",
                       "plastic weights: { rule = \"NAME\"; the rule's parameters }, see below"},
    [PJ_NORMALIZE] = {"normalize", V_NUM, "w", 0.0, 0.0, INFINITY, 0, "0 (off)",
                      "after every sample of a plastic phase, scale each target's incoming "
                      "weights to sum to this (Diehl & Cook: 78 over 784 inputs, 0.1 per synapse; "
                      "the sum is over the target's own synapses, so with connector local "
                      "scale it with patch^2); w = the weight unit"},
};

/* Keys of a projection's plasticity group besides the rule's parameters. */
enum { PL_RULE, PL_TOP_K, PL_N };
static const key_desc plast_keys[PL_N] = {
    [PL_RULE] = {"rule", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                 "name of the plasticity rule; `snn help rules` lists them"},
    [PL_TOP_K] = {"top_k", V_INT, "neurons", 0.0, 0.0, 4294967295.0, 0, "0 (off)",
                  "sparse plasticity: only the top_k post neurons with the most spikes in a "
                  "sample learn from it; per-spike rules' changes to the others are "
                  "undone at the sample's end"},
};

/* Unit string of rule parameters in the projection's weight unit. */
#define RULE_UNIT_W "w"

enum { REC_SPIKES, REC_STATE, REC_WEIGHTS, REC_N };
static const key_desc rec_keys[REC_N] = {
    [REC_SPIKES] = {"spikes", V_STRS, NULL, 0, 0, 0, 0, "every population",
                    "names of populations and spike inputs, \"all\" (every population and "
                    "input), or [] (none)"},
    [REC_STATE] = {"state", V_LIST, NULL, 0, 0, 0, K_NODEF, NULL,
                   "( { population; variables; neurons; interval_ms; }, ... ), at most one "
                   "entry per population"},
    [REC_WEIGHTS] = {"weights", V_LIST, NULL, 0, 0, 0, K_NODEF, NULL,
                     "( { projection; interval_ms; }, ... )"},
};

enum { RS_POP, RS_VARS, RS_NEURONS, RS_INTERVAL, RS_N };
static const key_desc rec_state_keys[RS_N] = {
    [RS_POP] = {"population", V_STR, NULL, 0, 0, 0, K_REQ, NULL, "population or input to sample"},
    [RS_VARS] = {"variables", V_STRS, NULL, 0, 0, 0, K_REQ, NULL,
                 "state variable names of its model"},
    [RS_NEURONS] = {"neurons", V_INTS, NULL, 0, 0, 0, 0, "all", "neuron ids to sample"},
    [RS_INTERVAL] = {"interval_ms", V_NUM, "ms", 0, 0.0, INFINITY, K_LO_OPEN, "dt_ms",
                     "sampling interval, a multiple of dt_ms"},
};

enum { RW_PROJ, RW_INTERVAL, RW_N };
static const key_desc rec_w_keys[RW_N] = {
    [RW_PROJ] = {"projection", V_STR, NULL, 0, 0, 0, K_REQ, NULL, "projection name"},
    [RW_INTERVAL] = {"interval_ms", V_NUM, "ms", 0, 0.0, INFINITY, K_REQ | K_LO_OPEN, NULL,
                     "sampling interval, a multiple of dt_ms"},
};

enum { OUT_PATH, OUT_COMPRESSION, OUT_CKPT, OUT_CK_MS, OUT_CK_SAMPLES, OUT_CK_EPOCHS, OUT_N };
static const key_desc out_keys[OUT_N] = {
    [OUT_PATH] = {"path", V_STR, NULL, 0, 0, 0, 0, "<file name>.h5",
                  "HDF5 result file (default in the current directory)"},
    [OUT_COMPRESSION] = {"compression", V_INT, NULL, 4.0, 0.0, 9.0, 0, NULL,
                         "deflate level, 0 = none"},
    [OUT_CKPT] = {"checkpoint", V_STR, NULL, 0, 0, 0, 0, "<path>.ckpt",
                  "checkpoint file, written as the run goes (see below) and on SIGINT/SIGTERM; "
                  "`snn run --resume FILE` finishes the run"},
    [OUT_CK_MS] = {"checkpoint_every_ms", V_NUM, "ms", 0.0, 0.0, INFINITY, 0, NULL,
                   "runs without phases: a checkpoint every this much simulated time; 0 = "
                   "only on a signal"},
    [OUT_CK_SAMPLES] = {"checkpoint_every_samples", V_INT, NULL, 0.0, 0.0, 4294967295.0, 0,
                        NULL, "phases: a checkpoint every this many samples; 0 = only on a "
                        "signal"},
    [OUT_CK_EPOCHS] = {"checkpoint_every_epochs", V_INT, NULL, 0.0, 0.0, 1e6, 0, NULL,
                       "readout: a checkpoint every this many epochs; 0 = only on a signal"},
};

/* ---- the experiment protocol: data, stimulus, phases, evaluate ---- */

/* Pixels of a (Fashion-)MNIST image, 28 x 28: the size the input must have. */
#define IMAGE_ROWS 28
#define IMAGE_COLS 28
/* Where Debian's dataset-fashion-mnist package puts the IDX files. */
#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
/* Environment variable with the MNIST folder when data.directory is absent. */
#define MNIST_DIR_ENV "SNN_MNIST_DIR"

static const char *const datasets[] = {"mnist", "fashion_mnist"};
static const char *const splits[] = {"train", "test"};   /* index = snn_phase_spec.split */
static const char *const eval_methods[] = {"vote"};

enum { DATA_DATASET, DATA_DIR, DATA_N };
static const key_desc data_keys[DATA_N] = {
    [DATA_DATASET] = {"dataset", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                      "\"mnist\" | \"fashion_mnist\" (28 x 28 images, IDX files)"},
    [DATA_DIR] = {"directory", V_STR, NULL, 0, 0, 0, K_NODEF, "see below",
                  "folder of train-/t10k-images-idx3-ubyte[.gz] and the label files; "
                  "relative to the parameter file's folder (on the command line: to the "
                  "current directory); the resolved text holds the absolute path"},
};

enum { ST_INPUT, ST_RATE, ST_INTENSITY, ST_PRESENT, ST_REST, ST_BOOST, ST_WTA, ST_N };
static const key_desc stim_keys[ST_N] = {
    [ST_INPUT] = {"input", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                  "spike input of model \"poisson\" with one neuron per pixel (size 784)"},
    [ST_RATE] = {"max_rate_hz", V_NUM, "Hz", 63.75, 0.0, 1e6, K_LO_OPEN, NULL,
                 "rate of a 255 pixel at intensity 1 (Diehl & Cook: pixel / 4 Hz)"},
    [ST_INTENSITY] = {"intensity", V_NUM, NULL, 1.0, 0.0, 1e6, K_LO_OPEN, NULL,
                      "first intensity; rate = pixel / 255 * max_rate_hz * intensity"},
    [ST_PRESENT] = {"present_ms", V_NUM, "ms", 350.0, 0.0, INFINITY, K_LO_OPEN, NULL,
                    "how long an image is shown, at least dt_ms"},
    [ST_REST] = {"rest_ms", V_NUM, "ms", 150.0, 0.0, INFINITY, 0, NULL,
                 "silence after each presentation"},
    [ST_BOOST] = {"boost", V_GROUP, NULL, 0, 0, 0, K_NODEF, "none",
                  "show an image again, brighter, while a population fires too little"},
    [ST_WTA] = {"wta", V_STR, NULL, 0, 0, 0, K_NODEF, "none",
                "direct winner-take-all: a population (with V_m and V_reset) whose spikes in "
                "a step reset the membrane of all its other neurons to V_reset"},
};

enum { BO_POP, BO_MIN, BO_STEP, BO_MAX, BO_N };
static const key_desc boost_keys[BO_N] = {
    [BO_POP] = {"population", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                "population whose spikes during a presentation are counted"},
    [BO_MIN] = {"min_spikes", V_INT, NULL, 5.0, 1.0, 4294967295.0, 0, NULL,
                "show the image again while the population fires fewer spikes than this"},
    [BO_STEP] = {"intensity_step", V_NUM, NULL, 1.0, 0.0, 1e6, K_LO_OPEN, NULL,
                 "added to the intensity per boost"},
    [BO_MAX] = {"max_boosts", V_INT, NULL, 10.0, 0.0, 1000.0, 0, NULL,
                "at most this many boosts per image"},
};

enum { PH_NAME, PH_SPLIT, PH_SAMPLES, PH_SEED, PH_PLASTIC, PH_FEATURES, PH_SNAP, PH_PROBE,
       PH_PROBE_SPLIT, PH_OFF, PH_GAIN, PH_N };
static const key_desc phase_keys[PH_N] = {
    [PH_NAME] = {"name", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                 "unique name (letters, digits, _), used by evaluate"},
    [PH_SPLIT] = {"split", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                  "\"train\" | \"test\": the part of the dataset shown"},
    [PH_SAMPLES] = {"samples", V_INT, NULL, 0, 1.0, 4294967295.0, K_REQ, NULL,
                    "images shown, at most the split's size (checked when it is loaded)"},
    [PH_SEED] = {"shuffle_seed", V_INT, NULL, 0.0, 0.0, 9223372036854775807.0, 0, NULL,
                 "0 = dataset order, else the seed of a random order"},
    [PH_PLASTIC] = {"plastic", V_BOOL, NULL, 0.0, 0, 1, 0, "false",
                    "plasticity rules learn (and normalize applies) during this phase"},
    [PH_FEATURES] = {"features", V_STRS, NULL, 0, 0, 0, 0, "[]",
                     "populations whose per-image spike counts are stored"},
    [PH_SNAP] = {"snapshot_every", V_INT, "samples", 0.0, 0.0, 4294967295.0, 0, "0 (off)",
                 "plastic phases: every K samples (and before the first) append the plastic "
                 "weights to /weights/<proj> with /weights/<proj>/samples (training samples "
                 "seen)"},
    [PH_PROBE] = {"probe", V_INT, "images", 0.0, 0.0, 4294967295.0, 0, "0 (none)",
                  "with snapshot_every: at each snapshot present the first N images of "
                  "probe_split, plasticity off, on copies of the network; /probe/<pop>/counts "
                  "[S, N, neurons] for the feature populations"},
    [PH_PROBE_SPLIT] = {"probe_split", V_STR, NULL, 0, 0, 0, 0, "\"test\"",
                        "\"train\" | \"test\": the split the probe images come from"},
    [PH_OFF] = {"off", V_STRS, NULL, 0, 0, 0, 0, "[]",
                "projections switched off during this phase: they deliver nothing and learn "
                "nothing, their weights stay (e.g. learn with the lateral inhibition, extract "
                "features without it: off = [\"ie\"])"},
    [PH_GAIN] = {"gain", V_GROUP, "1", 0, 0, 0, 0, "{} (all 1)",
                 "per projection, a factor on the weights it delivers during this phase, "
                 "{ name = factor; ... } with factors >= 0; plasticity, normalisation and the "
                 "recorded weights see the unscaled weights (e.g. learn with the full lateral "
                 "inhibition, extract features with a tenth of it: gain = { inhibition = 0.1; })"},
};

enum { EV_METHOD, EV_POP, EV_ASSIGN, EV_TEST, EV_N };
static const key_desc eval_keys[EV_N] = {
    [EV_METHOD] = {"method", V_STR, NULL, 0, 0, 0, 0, "\"vote\"",
                   "\"vote\": label each neuron by its mean response, classify by vote"},
    [EV_POP] = {"population", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                "population that votes; in the features of both phases"},
    [EV_ASSIGN] = {"assign", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                   "phase whose spike counts assign the labels"},
    [EV_TEST] = {"test", V_STR, NULL, 0, 0, 0, K_REQ, NULL, "phase that is classified"},
};

static const char *const ro_inputs[] = {"features", "pixels", "file"};
/* In the order of rules/readout.h's enums. */
static const char *const ro_norms[] = {"none", "max", "zscore"};
static const char *const ro_encodings[] = {"current", "poisson"};
static const char *const ro_decodes[] = {"count", "max_mem"};
static const char *const ro_surrogates[] = {"fast_sigmoid", "arctan", "sigmoid"};
static const char *const ro_resets[] = {"subtract", "zero"};
static const char *const ro_schedules[] = {"constant", "step", "cosine"};
static const char *const ro_rules[] = {"backprop", "random"};
static const char *const ro_optimizers[] = {"adam", "sgd"};

enum { RO_INPUT, RO_TRAIN, RO_TEST, RO_TRAIN_N, RO_TEST_N, RO_NORM, RO_ENC, RO_STEPS, RO_DT,
       RO_GAIN, RO_RATE, RO_HIDDEN, RO_TAU_MEM, RO_TAU_SYN, RO_THETA, RO_RESET, RO_DETACH,
       RO_DECODE, RO_BIAS, RO_SG, RO_SLOPE, RO_INIT, RO_OPT, RO_LR, RO_B1, RO_B2, RO_EPS,
       RO_MOMENTUM, RO_WD,
       RO_BATCH, RO_EPOCHS, RO_SHUFFLE, RO_SCHED, RO_STEP_EP, RO_GAMMA, RO_LR_MIN, RO_NOISE,
       RO_DROP_IN, RO_DROP_HID, RO_RULE, RO_ALIGN, RO_WEIGHTS, RO_CHUNK, RO_SEED, RO_FILE,
       RO_POPS, RO_N };
static const key_desc ro_keys[RO_N] = {
    [RO_INPUT] = {"input", V_STR, NULL, 0, 0, 0, 0, "\"features\"",
                  "\"features\": spike counts of phases (hybrid); \"pixels\": the images, "
                  "pixel / 255 (pure backprop; needs data, no phases); \"file\": the "
                  "features an earlier run stored in its result file (readout.file; no "
                  "network, no phases)"},
    [RO_TRAIN] = {"train", V_STR, NULL, 0, 0, 0, K_NODEF, "required (features, file)",
                  "phase whose features (all its feature populations) train the readout "
                  "(input file: a phase of that run)"},
    [RO_TEST] = {"test", V_STR, NULL, 0, 0, 0, K_NODEF, "required (features, file)",
                 "phase whose features test it"},
    [RO_TRAIN_N] = {"train_samples", V_INT, NULL, 0.0, 0.0, 4294967295.0, 0, NULL,
                    "input pixels: the first N training images; 0 = all"},
    [RO_TEST_N] = {"test_samples", V_INT, NULL, 0.0, 0.0, 4294967295.0, 0, NULL,
                   "input pixels: the first N test images; 0 = all"},
    [RO_NORM] = {"normalize", V_STR, NULL, 0, 0, 0, 0, "\"max\"",
                 "\"none\" | \"max\" (divide by the training set's largest value) | "
                 "\"zscore\" (per feature, training-set statistics)"},
    [RO_ENC] = {"encoding", V_STR, NULL, 0, 0, 0, 0, "\"current\"",
                "\"current\": constant current x * input_gain; \"poisson\": spikes at "
                "x * max_rate_hz"},
    [RO_STEPS] = {"steps", V_INT, NULL, 25.0, 1.0, 100000.0, 0, NULL,
                  "time steps per sample (T)"},
    [RO_DT] = {"dt_ms", V_NUM, "ms", 1.0, 0.0, 1000.0, K_LO_OPEN, NULL, "readout time step"},
    [RO_GAIN] = {"input_gain", V_NUM, NULL, 1.0, 0.0, 1e9, 0, NULL,
                 "current encoding: input current per unit feature (membrane units per step)"},
    [RO_RATE] = {"max_rate_hz", V_NUM, "Hz", 100.0, 0.0, 1e6, 0, NULL,
                 "poisson encoding: rate of a unit feature"},
    [RO_HIDDEN] = {"hidden", V_INTS, NULL, 0, 0, 0, 0, "[]",
                   "sizes of hidden LIF layers before the output layer (at most 4)"},
    [RO_TAU_MEM] = {"tau_mem_ms", V_NUM, "ms", 10.0, 0.0, 1e6, K_LO_OPEN, NULL,
                    "membrane time constant of the readout neurons"},
    [RO_TAU_SYN] = {"tau_syn_ms", V_NUM, "ms", 0.0, 0.0, 1e6, 0, NULL,
                    "synaptic current time constant; 0 = input goes straight to the membrane"},
    [RO_THETA] = {"threshold", V_NUM, NULL, 1.0, 0.0, 1e6, K_LO_OPEN, NULL,
                  "firing threshold (membrane units)"},
    [RO_RESET] = {"reset", V_STR, NULL, 0, 0, 0, 0, "\"subtract\"",
                  "\"subtract\" the threshold or reset to \"zero\" after a spike"},
    [RO_DETACH] = {"detach_reset", V_BOOL, NULL, 1.0, 0, 1, 0, "true",
                   "the reset is not differentiated through"},
    [RO_DECODE] = {"decode", V_STR, NULL, 0, 0, 0, 0, "\"count\"",
                   "\"count\": output spike counts are the logits; \"max_mem\": maximum "
                   "membrane potential of non-spiking output neurons"},
    [RO_BIAS] = {"bias", V_BOOL, NULL, 1.0, 0, 1, 0, "true", "a trained bias per neuron"},
    [RO_SG] = {"surrogate", V_STR, NULL, 0, 0, 0, 0, "\"fast_sigmoid\"",
               "surrogate spike derivative: \"fast_sigmoid\" (SuperSpike) | \"arctan\" | "
               "\"sigmoid\""},
    [RO_SLOPE] = {"slope", V_NUM, NULL, 10.0, 0.0, 1e6, K_LO_OPEN, NULL,
                  "surrogate slope beta (per membrane unit)"},
    [RO_INIT] = {"init_gain", V_NUM, NULL, 1.0, 0.0, 1e6, K_LO_OPEN, NULL,
                 "initial weights ~ N(0, init_gain^2 / fan-in)"},
    [RO_OPT] = {"optimizer", V_STR, NULL, 0, 0, 0, 0, "\"adam\"",
                "\"adam\" (with decoupled weight decay, AdamW) | \"sgd\" (plain SGD, optional "
                "momentum, L2 weight decay)"},
    [RO_LR] = {"lr", V_NUM, NULL, 1e-3, 0.0, 10.0, K_LO_OPEN, NULL,
               "learning rate (Adam or SGD)"},
    [RO_B1] = {"beta1", V_NUM, NULL, 0.9, 0.0, 1.0, 0, NULL, "Adam first-moment decay, < 1"},
    [RO_B2] = {"beta2", V_NUM, NULL, 0.999, 0.0, 1.0, 0, NULL, "Adam second-moment decay, < 1"},
    [RO_EPS] = {"eps", V_NUM, NULL, 1e-8, 0.0, 1.0, K_LO_OPEN, NULL, "Adam epsilon"},
    [RO_MOMENTUM] = {"momentum", V_NUM, NULL, 0.0, 0.0, 1.0, 0, NULL,
                     "SGD momentum, < 1 (0 = plain SGD); not used by Adam"},
    [RO_WD] = {"weight_decay", V_NUM, NULL, 0.0, 0.0, 10.0, 0, NULL,
               "weights only; Adam: decoupled decay lr*wd*W per step (AdamW); SGD: L2 term "
               "wd*W added to the gradient"},
    [RO_BATCH] = {"batch", V_INT, NULL, 128.0, 1.0, 1e6, 0, NULL, "mini-batch size (samples)"},
    [RO_EPOCHS] = {"epochs", V_INT, NULL, 10.0, 1.0, 1e6, 0, NULL, "passes over the training set"},
    [RO_SHUFFLE] = {"shuffle", V_BOOL, NULL, 1.0, 0, 1, 0, "true",
                    "seeded reshuffle of the training set every epoch"},
    [RO_SCHED] = {"lr_schedule", V_STR, NULL, 0, 0, 0, 0, "\"constant\"",
                  "\"constant\" | \"step\" (lr * lr_gamma every lr_step_epochs) | \"cosine\" "
                  "(to lr_min)"},
    [RO_STEP_EP] = {"lr_step_epochs", V_INT, NULL, 10.0, 1.0, 1e6, 0, NULL,
                    "step schedule: epochs per decay"},
    [RO_GAMMA] = {"lr_gamma", V_NUM, NULL, 0.1, 0.0, 1.0, K_LO_OPEN, NULL,
                  "step schedule: decay factor"},
    [RO_LR_MIN] = {"lr_min", V_NUM, NULL, 0.0, 0.0, 10.0, 0, NULL, "cosine schedule: final lr"},
    [RO_NOISE] = {"update_noise", V_NUM, NULL, 0.0, 0.0, 1e3, 0, NULL,
                  "standard deviation of Gaussian noise added to every weight update"},
    [RO_DROP_IN] = {"dropout_input", V_NUM, NULL, 0.0, 0.0, 1.0, K_HI_OPEN, NULL,
                    "training only: probability that a feature is silenced for a whole "
                    "sample (kept ones scaled by 1 / (1 - p))"},
    [RO_DROP_HID] = {"dropout_hidden", V_NUM, NULL, 0.0, 0.0, 1.0, K_HI_OPEN, NULL,
                     "training only: probability that a hidden neuron's spikes are cut for a "
                     "whole sample (kept ones scaled by 1 / (1 - p))"},
    [RO_RULE] = {"rule", V_STR, NULL, 0, 0, 0, 0, "\"backprop\"",
                 "\"backprop\" | \"random\" (fixed random feedback of the output error to "
                 "the hidden layers)"},
    [RO_ALIGN] = {"record_alignment", V_BOOL, NULL, 0.0, 0, 1, 0, "false",
                  "record cos(weight update, Hebbian term) per update"},
    [RO_WEIGHTS] = {"record_weights", V_BOOL, NULL, 0.0, 0, 1, 0, "false",
                    "record the weights after every epoch"},
    [RO_CHUNK] = {"chunk", V_INT, NULL, 16.0, 1.0, 4096.0, 0, NULL,
                  "samples per parallel work item (results do not depend on the thread count "
                  "for a given chunk)"},
    [RO_SEED] = {"seed", V_INT, NULL, 0.0, 0.0, 9223372036854775807.0, 0, "simulation.seed",
                 "seed of initial weights, batch order, Poisson input and noise"},
    [RO_FILE] = {"file", V_STR, NULL, 0, 0, 0, K_NODEF, "required for input file",
                 "input file: an earlier run's result file whose /features/<train> and "
                 "/features/<test> are the readout's input (relative to the parameter file's "
                 "folder; on the command line to the current one)"},
    [RO_POPS] = {"populations", V_STRS, NULL, 0, 0, 0, K_NODEF,
                 "all stored, by name",
                 "input file: the feature populations to use, side by side in this order (default: "
                 "every population the train phase stored, in name order)"},
};

enum { RB_PERTURB, RB_SEED, RB_N };
static const key_desc rb_keys[RB_N] = {
    [RB_PERTURB] = {"perturbations", V_STRS, NULL, 0, 0, 0, K_REQ, NULL,
                    "[\"gauss:0.1\", \"occlude:0.25\", \"saltpepper:0.1\", ...]: Gaussian "
                    "noise (sd, fraction of the pixel range), a black square (fraction of the "
                    "area), salt and pepper (fraction of pixels)"},
    [RB_SEED] = {"seed", V_INT, NULL, 1.0, 0.0, 9223372036854775807.0, 0, NULL,
                 "seed of the perturbations: every paradigm sees the same perturbed images"},
};

/* Keys of a distribution group. */
static const char *const dist_keys[] = {"uniform", "normal", "min", "max"};

/* ---- context, locations and messages ------------------------------------ */

typedef struct ctx {
    config_t cfg;
    const char *name;              /* file name used in messages */
    const char *incdir;            /* directory of @include files, or NULL */
    snn_err *err;
    snn_spec *spec;
    double dt;
    size_t n_neur;                 /* spec->pops[0..n_neur) are populations */
    size_t n_cur;
    const char **names;            /* spec->pops[i]'s name (borrowed from the tree) */
    config_setting_t **pop_set;    /* its group */
    const snn_model_type **types;
    const char **cur_names;        /* current inputs */
    config_setting_t **cur_set;
    bool has_phases;               /* the file has a `phases` list */
    bool pixels;                   /* readout.input = "pixels" (no simulation needed) */
    bool file;                     /* readout.input = "file" (no simulation, no data) */
    char pbuf[4][320];             /* ring of path buffers for messages */
    unsigned pi;
} ctx;

/* Dotted path of a setting ("populations.exc.tau_m", "record.state[0]"). */
static void path_into(const config_setting_t *s, char *buf, size_t n)
{
    const config_setting_t *par = s ? config_setting_parent(s) : NULL;
    if (!par) {
        buf[0] = '\0';
        return;
    }
    path_into(par, buf, n);
    size_t used = strlen(buf);
    if (config_setting_is_group(par))
        snprintf(buf + used, n - used, "%s%s", used ? "." : "", config_setting_name(s));
    else
        snprintf(buf + used, n - used, "[%d]", config_setting_index(s));
}

/* Path of s in one of four rotating buffers (valid for a few calls). */
static const char *pth(ctx *c, const config_setting_t *s)
{
    char *b = c->pbuf[c->pi++ % 4];
    path_into(s, b, sizeof c->pbuf[0]);
    if (!b[0])
        snprintf(b, sizeof c->pbuf[0], "the parameter file");
    return b;
}

/* The file a setting came from: the parameter file, or an included file
   (libconfig keeps the @include argument; we prefix the include directory). */
static void src_file(const ctx *c, const config_setting_t *s, char *buf, size_t n)
{
    const char *f = s ? config_setting_source_file(s) : NULL;
    if (!f || strcmp(f, c->name) == 0)
        snprintf(buf, n, "%s", c->name);
    else if (f[0] != '/' && c->incdir && strcmp(c->incdir, ".") != 0)
        snprintf(buf, n, "%s%s%s", c->incdir,
                 c->incdir[strlen(c->incdir) - 1] == '/' ? "" : "/", f);
    else
        snprintf(buf, n, "%s", f);
}

/* "FILE:LINE" of a setting, or the override it came from. */
static void loc(const ctx *c, const config_setting_t *s, char *buf, size_t n)
{
    const void *hook = s ? config_setting_get_hook(s) : NULL;
    if (hook) {
        snprintf(buf, n, "command line -s %s", (const char *)hook);
        return;
    }
    src_file(c, s, buf, n);
    int line = s ? (int)config_setting_source_line(s) : 0;
    size_t used = strlen(buf);
    if (line > 0 && used < n)
        snprintf(buf + used, n - used, ":%d", line);
}

static void set_where(const ctx *c, const config_setting_t *s, snn_where *w)
{
    const void *hook = config_setting_get_hook(s);
    if (hook) {
        snprintf(w->file, sizeof w->file, "command line -s %s", (const char *)hook);
        w->line = 0;
    } else {
        src_file(c, s, w->file, sizeof w->file);
        w->line = (int)config_setting_source_line(s);
    }
}

/* Set a "LOCATION: message" SNN_ECFG error located at setting s. */
__attribute__((format(printf, 3, 4)))
static int fail(ctx *c, const config_setting_t *s, const char *fmt, ...)
{
    char where[400], msg[1024];
    loc(c, s, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return snn_err_set(c->err, SNN_ECFG, "%.400s: %.600s", where, msg);
}

static int oom(ctx *c)
{
    return snn_err_set(c->err, SNN_ENOMEM, "%s: out of memory while reading the parameters",
                       c->name);
}

/* "a string \"abc\"", "an integer 3", ... for type errors. */
static void type_desc(const config_setting_t *s, char *buf, size_t n)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP: snprintf(buf, n, "a group"); break;
    case CONFIG_TYPE_INT: snprintf(buf, n, "an integer %d", config_setting_get_int(s)); break;
    case CONFIG_TYPE_INT64:
        snprintf(buf, n, "an integer %lld", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT: snprintf(buf, n, "a float %g", config_setting_get_float(s)); break;
    case CONFIG_TYPE_STRING:
        snprintf(buf, n, "a string \"%.60s\"", config_setting_get_string(s));
        break;
    case CONFIG_TYPE_BOOL:
        snprintf(buf, n, "a boolean %s", config_setting_get_bool(s) ? "true" : "false");
        break;
    case CONFIG_TYPE_ARRAY: snprintf(buf, n, "an array"); break;
    case CONFIG_TYPE_LIST: snprintf(buf, n, "a list"); break;
    default: snprintf(buf, n, "nothing"); break;
    }
}

/* "<path> must be <what>, got <type>". */
static int fail_type(ctx *c, const config_setting_t *s, const char *what)
{
    char got[96];
    type_desc(s, got, sizeof got);
    return fail(c, s, "%s must be %s, got %s", pth(c, s), what, got);
}

/* Missing required key in group g. */
static int missing(ctx *c, const config_setting_t *g, const char *key, const char *doc)
{
    return fail(c, g, "%s has no '%s' (%s, required)", pth(c, g), key, doc);
}

/* ---- suggestions ---------------------------------------------------------- */

size_t snn_cfg_edit_distance(const char *a, const char *b)
{
    if (!a)
        a = "";
    if (!b)
        b = "";
    size_t n = strlen(a), m = strlen(b);
    size_t *row = malloc((m + 1) * sizeof *row);
    if (!row)
        return n > m ? n : m;
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0]; /* d[i-1][j-1] */
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j]; /* d[i-1][j] */
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    size_t d = row[m];
    free(row);
    return d;
}

/* The candidate nearest to `word`, if within max(2, len/3) edits; else NULL. */
static const char *nearest(const char *word, const char *const *cand, size_t n)
{
    const char *best = NULL;
    size_t bd = SIZE_MAX, len = strlen(word);
    size_t lim = len / 3 > 2 ? len / 3 : 2;
    for (size_t i = 0; i < n; i++) {
        if (!cand[i])
            continue;
        size_t d = snn_cfg_edit_distance(word, cand[i]);
        if (d < bd) {
            bd = d;
            best = cand[i];
        }
    }
    return bd <= lim ? best : NULL;
}

/* "'a', 'b', 'c'" into buf (truncated with "..."). */
static void join(const char *const *cand, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + used, size - used, "%s'%s'", i ? ", " : "", cand[i]);
        if (w < 0 || (size_t)w >= size - used) {
            if (size > 4)
                snprintf(buf + size - 4, 4, "...");
            return;
        }
        used += (size_t)w;
    }
}

/* The end of an "unknown X" message: "; did you mean 'y'?" when a candidate
   is near, and the list of valid ones when none is or when `list` is set. */
static void suggest(const char *word, const char *const *cand, size_t n, bool list, char *buf,
                    size_t size)
{
    const char *best = nearest(word, cand, n);
    char all[600];
    join(cand, n, all, sizeof all);
    if (best && list)
        snprintf(buf, size, "; did you mean '%s'? (valid: %s)", best, all);
    else if (best)
        snprintf(buf, size, "; did you mean '%s'?", best);
    else if (n)
        snprintf(buf, size, "; valid: %s", all);
    else
        snprintf(buf, size, " (there are none)");
}

/* A growable set of valid keys of one scope. */
typedef struct keyset {
    const char **k;
    size_t n, cap;
} keyset;

static int ks_add(ctx *c, keyset *ks, const char *key)
{
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? 2 * ks->cap : 32;
        const char **k = realloc(ks->k, cap * sizeof *k);
        if (!k)
            return oom(c);
        ks->k = k;
        ks->cap = cap;
    }
    ks->k[ks->n++] = key;
    return SNN_OK;
}

static int ks_add_desc(ctx *c, keyset *ks, const key_desc *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ks_add(c, ks, t[i].key))
            return SNN_ENOMEM;
    return SNN_OK;
}

static bool in_list(const char *key, const char *const *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i], key) == 0)
            return true;
    return false;
}

/* Fail on the first member of group g that is not in ks. */
static int check_keys(ctx *c, const config_setting_t *g, const char *const *k, size_t n)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        if (in_list(name, k, n))
            continue;
        char tail[700];
        suggest(name, k, n, false, tail, sizeof tail);
        if (config_setting_is_root(g))
            return fail(c, m, "unknown top-level group '%s'%s", name, tail);
        return fail(c, m, "unknown key '%s' in %s%s", name, pth(c, g), tail);
    }
    return SNN_OK;
}

/* ---- typed access ---------------------------------------------------------- */

/*
 * num_of: a finite number from an int, int64 or float setting.  An integer
 * setting is turned into a float in the tree (in place: libconfig has no
 * call to change a setting's type; an int holds no memory), so that the
 * resolved text shows every number-valued key as a float: "tau_m = 20.0",
 * whether the file or an override said 20 or 20.0.
 */
static int num_of(ctx *c, config_setting_t *s, double *v)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: *v = config_setting_get_int(s); break;
    case CONFIG_TYPE_INT64: *v = (double)config_setting_get_int64(s); break;
    case CONFIG_TYPE_FLOAT: *v = config_setting_get_float(s); break;
    default: return fail_type(c, s, "a number");
    }
    if (!isfinite(*v))
        return fail(c, s, "%s = %g is not a finite number", pth(c, s), *v);
    if (config_setting_type(s) != CONFIG_TYPE_FLOAT) {
        s->type = CONFIG_TYPE_FLOAT;
        s->format = CONFIG_FORMAT_DEFAULT;
        s->value.fval = *v;
    }
    return SNN_OK;
}

static int int_of(ctx *c, const config_setting_t *s, long long *v)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: *v = config_setting_get_int(s); return SNN_OK;
    case CONFIG_TYPE_INT64: *v = config_setting_get_int64(s); return SNN_OK;
    default: return fail_type(c, s, "an integer");
    }
}

static const char *unit_sp(const char *unit)
{
    return unit && unit[0] && strcmp(unit, "1") != 0 ? " " : "";
}

static const char *unit_of(const char *unit)
{
    return unit && unit[0] && strcmp(unit, "1") != 0 ? unit : "";
}

/* Check lo <= v <= hi (lo < v with K_LO_OPEN in flags, v < hi with
   K_HI_OPEN). */
static int range(ctx *c, const config_setting_t *s, double v, const char *unit, double lo,
                 double hi, int flags, const char *doc)
{
    bool lo_open = flags & K_LO_OPEN, hi_open = (flags & K_HI_OPEN) || isinf(hi);
    bool ok = (lo_open ? v > lo : v >= lo) && ((flags & K_HI_OPEN) ? v < hi : v <= hi);
    if (ok)
        return SNN_OK;
    return fail(c, s, "%s = %.10g%s%s is outside %c%g, %g%c (%s)", pth(c, s), v, unit_sp(unit),
                unit_of(unit), lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']', doc);
}

/* Number `k` of group g: *at = its setting, NULL when absent (then *v = def). */
static int get_num(ctx *c, config_setting_t *g, const key_desc *k, double *v,
                   config_setting_t **at)
{
    config_setting_t *s = config_setting_get_member(g, k->key);
    if (at)
        *at = s;
    if (!s) {
        if (k->flags & K_REQ)
            return missing(c, g, k->key, k->doc);
        *v = k->def;
        return SNN_OK;
    }
    int rc = num_of(c, s, v);
    if (rc)
        return rc;
    return range(c, s, *v, k->unit, k->lo, k->hi, k->flags, k->doc);
}

static int get_int(ctx *c, config_setting_t *g, const key_desc *k, long long *v,
                   config_setting_t **at)
{
    config_setting_t *s = config_setting_get_member(g, k->key);
    if (at)
        *at = s;
    if (!s) {
        if (k->flags & K_REQ)
            return missing(c, g, k->key, k->doc);
        *v = (long long)k->def;
        return SNN_OK;
    }
    int rc = int_of(c, s, v);
    if (rc)
        return rc;
    return range(c, s, (double)*v, k->unit, k->lo, k->hi, k->flags, k->doc);
}

static int get_bool(ctx *c, config_setting_t *g, const key_desc *k, bool *v,
                    config_setting_t **at)
{
    config_setting_t *s = config_setting_get_member(g, k->key);
    if (at)
        *at = s;
    if (!s) {
        if (k->flags & K_REQ)
            return missing(c, g, k->key, k->doc);
        *v = k->def != 0.0;
        return SNN_OK;
    }
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return fail_type(c, s, "true or false");
    *v = config_setting_get_bool(s);
    return SNN_OK;
}

/* String `k` of group g; *v = NULL when absent and optional. */
static int get_str(ctx *c, config_setting_t *g, const key_desc *k, const char **v,
                   config_setting_t **at)
{
    config_setting_t *s = config_setting_get_member(g, k->key);
    if (at)
        *at = s;
    *v = NULL;
    if (!s) {
        if (k->flags & K_REQ)
            return missing(c, g, k->key, k->doc);
        return SNN_OK;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail_type(c, s, "a string in double quotes");
    *v = config_setting_get_string(s);
    return SNN_OK;
}

static bool is_seq(const config_setting_t *s)
{
    return config_setting_is_array(s) || config_setting_is_list(s);
}

/* Defaults written back into the tree (for spec->resolved). */
static int add_float(ctx *c, config_setting_t *g, const char *key, double v)
{
    config_setting_t *s = config_setting_add(g, key, CONFIG_TYPE_FLOAT);
    if (!s || !config_setting_set_float(s, v))
        return oom(c);
    return SNN_OK;
}

static int add_int(ctx *c, config_setting_t *g, const char *key, long long v)
{
    bool big = v > INT32_MAX || v < INT32_MIN;
    config_setting_t *s = config_setting_add(g, key, big ? CONFIG_TYPE_INT64 : CONFIG_TYPE_INT);
    if (!s || !(big ? config_setting_set_int64(s, v) : config_setting_set_int(s, (int)v)))
        return oom(c);
    return SNN_OK;
}

static int add_bool(ctx *c, config_setting_t *g, const char *key, bool v)
{
    config_setting_t *s = config_setting_add(g, key, CONFIG_TYPE_BOOL);
    if (!s || !config_setting_set_bool(s, v))
        return oom(c);
    return SNN_OK;
}

static int add_str(ctx *c, config_setting_t *g, const char *key, const char *v)
{
    config_setting_t *s = config_setting_add(g, key, CONFIG_TYPE_STRING);
    if (!s || !config_setting_set_string(s, v))
        return oom(c);
    return SNN_OK;
}

/* Member `key` of g, created as an empty group when absent. */
static int ensure_group(ctx *c, config_setting_t *g, const char *key, config_setting_t **out)
{
    *out = config_setting_get_member(g, key);
    if (*out)
        return config_setting_is_group(*out) ? SNN_OK : fail_type(c, *out, "a group { ... }");
    *out = config_setting_add(g, key, CONFIG_TYPE_GROUP);
    return *out ? SNN_OK : oom(c);
}

/* A name usable as an HDF5 group and in references: [A-Za-z_][A-Za-z0-9_]*. */
static bool valid_ident(const char *s)
{
    if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_')
            return false;
    return n < SNN_NAME_MAX;
}

/* ---- distributions -------------------------------------------------------- */

enum { D_ARRAY = 1, D_NORMAL = 2 };

/* [a, b]: two numbers. */
static int pair_of(ctx *c, config_setting_t *s, const char *form, double *a, double *b)
{
    if (!is_seq(s) || config_setting_length(s) != 2)
        return fail(c, s, "%s must be %s, two numbers", pth(c, s), form);
    int rc = num_of(c, config_setting_get_elem(s, 0), a);
    if (!rc)
        rc = num_of(c, config_setting_get_elem(s, 1), b);
    return rc;
}

/* Probability mass of N(mean, sd) inside [lo, hi]. */
static double normal_mass(double mean, double sd, double lo, double hi)
{
    if (sd == 0.0)
        return lo <= mean && mean <= hi ? 1.0 : 0.0;
    /* Use the tail on the side of the interval, so that a far interval
       does not become the difference of two numbers close to 1. */
    if (lo > mean) {
        double q_lo = gsl_cdf_gaussian_Q(lo - mean, sd);
        double q_hi = isinf(hi) ? 0.0 : gsl_cdf_gaussian_Q(hi - mean, sd);
        return q_lo - q_hi;
    }
    double p_hi = isinf(hi) ? 1.0 : gsl_cdf_gaussian_P(hi - mean, sd);
    double p_lo = isinf(lo) ? 0.0 : gsl_cdf_gaussian_P(lo - mean, sd);
    return p_hi - p_lo;
}

/*
 * parse_dist: a distribution setting into *d: a number (CONST), a group with
 * uniform = [a, b] or (D_NORMAL) normal = [mean, sd] and optional min, max,
 * or (D_ARRAY) an array of exactly n_array numbers.  d->values is owned by
 * *d as soon as it is allocated.
 */
static int parse_dist(ctx *c, config_setting_t *s, int allow, size_t n_array, const char *unit,
                      snn_dist *d)
{
    memset(d, 0, sizeof *d);
    int rc;
    const char *forms = allow & D_NORMAL
        ? (allow & D_ARRAY ? "a number, {uniform = [a, b];}, {normal = [mean, sd];} or an array "
                             "of one number per neuron"
                           : "a number, {uniform = [a, b];} or {normal = [mean, sd];}")
        : "a number or {uniform = [a, b];}";
    if (config_setting_is_number(s)) {
        d->kind = SNN_DIST_CONST;
        return num_of(c, s, &d->a);
    }
    if (is_seq(s)) {
        if (!(allow & D_ARRAY))
            return fail_type(c, s, forms);
        size_t n = (size_t)config_setting_length(s);
        if (n != n_array)
            return fail(c, s, "%s has %zu values for %zu neurons (an array gives one value per "
                        "neuron)", pth(c, s), n, n_array);
        d->kind = SNN_DIST_ARRAY;
        d->values = malloc((n ? n : 1) * sizeof *d->values);
        if (!d->values)
            return oom(c);
        d->n_values = n;
        for (size_t i = 0; i < n; i++)
            if ((rc = num_of(c, config_setting_get_elem(s, (unsigned)i), &d->values[i])))
                return rc;
        return SNN_OK;
    }
    if (!config_setting_is_group(s))
        return fail_type(c, s, forms);
    if ((rc = check_keys(c, s, dist_keys, allow & D_NORMAL ? 4 : 1)))
        return rc;
    config_setting_t *u = config_setting_get_member(s, "uniform");
    config_setting_t *nm = config_setting_get_member(s, "normal");
    config_setting_t *mn = config_setting_get_member(s, "min");
    config_setting_t *mx = config_setting_get_member(s, "max");
    if (!u == !nm)
        return fail(c, s, "%s must have exactly one of 'uniform' or 'normal'%s", pth(c, s),
                    allow & D_NORMAL ? "" : " (here only 'uniform')");
    if (u) {
        if (mn || mx)
            return fail(c, mn ? mn : mx, "%s: 'min' and 'max' apply only to a normal "
                        "distribution", pth(c, s));
        d->kind = SNN_DIST_UNIFORM;
        if ((rc = pair_of(c, u, "[low, high]", &d->a, &d->b)))
            return rc;
        if (!(d->a <= d->b))
            return fail(c, u, "%s = [%g, %g] needs low <= high", pth(c, u), d->a, d->b);
        return SNN_OK;
    }
    d->kind = SNN_DIST_NORMAL;
    if ((rc = pair_of(c, nm, "[mean, sd]", &d->a, &d->b)))
        return rc;
    if (!(d->b >= 0.0))
        return fail(c, nm, "%s = [%g, %g]: the standard deviation must be >= 0", pth(c, nm),
                    d->a, d->b);
    d->lo = -INFINITY;
    d->hi = INFINITY;
    if (mn && (rc = num_of(c, mn, &d->lo)))
        return rc;
    if (mx && (rc = num_of(c, mx, &d->hi)))
        return rc;
    if (!(d->lo <= d->hi))
        return fail(c, mx, "%s: min = %g is above max = %g", pth(c, s), d->lo, d->hi);
    double mass = normal_mass(d->a, d->b, d->lo, d->hi);
    if (!(mass >= MIN_NORMAL_MASS))
        return fail(c, s, "%s: normal [mean %g, sd %g]%s%s truncated to [%g, %g] keeps %.3g of "
                    "its mass, less than %g: values could not be drawn; widen min/max or move "
                    "the mean", pth(c, s), d->a, d->b, unit_sp(unit), unit_of(unit), d->lo,
                    d->hi, mass, MIN_NORMAL_MASS);
    return SNN_OK;
}

/* ---- populations and spike inputs ---------------------------------------- */

/* A string-option parameter: one of d->choices, stored as its index. */
static int parse_choice(ctx *c, config_setting_t *s, const snn_param_desc *d, double *v)
{
    size_t n = 0;
    while (d->choices[n])
        n++;
    char all[400];
    join(d->choices, n, all, sizeof all);
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        char what[480];
        snprintf(what, sizeof what, "a string, one of %s", all);
        return fail_type(c, s, what);
    }
    const char *str = config_setting_get_string(s);
    for (size_t i = 0; i < n; i++)
        if (strcmp(str, d->choices[i]) == 0) {
            *v = (double)i;
            return SNN_OK;
        }
    char tail[700];
    suggest(str, d->choices, n, true, tail, sizeof tail);
    return fail(c, s, "%s = \"%s\" is not a valid choice (%s)%s", pth(c, s), str, d->doc, tail);
}

/* Unit of parameter d as the user sees it: RULE_UNIT_W ("w", a rule's
   weight-valued parameter) is the projection's weight unit `wunit`. */
static const char *param_unit(const snn_param_desc *d, const char *wunit)
{
    return wunit && d->unit && strcmp(d->unit, RULE_UNIT_W) == 0 ? wunit : d->unit;
}

/*
 * parse_params: the parameters params[0..n) of group g into par[0..n):
 * numbers checked against their bounds, options against their names (value:
 * the index); a missing one gets its default, which is also written into the
 * tree (for spec->resolved).  `wunit` is the unit shown for "w" parameters
 * (rules), NULL for models.
 */
static int parse_params(ctx *c, config_setting_t *g, const snn_param_desc *params, size_t n,
                        double *par, const char *wunit)
{
    for (size_t j = 0; j < n; j++) {
        const snn_param_desc *d = &params[j];
        config_setting_t *s = config_setting_get_member(g, d->key);
        int rc;
        if (!s) {
            par[j] = d->def;
            rc = d->choices ? add_str(c, g, d->key, d->choices[(size_t)lround(d->def)])
                            : add_float(c, g, d->key, d->def);
        } else if (d->choices) {
            rc = parse_choice(c, s, d, &par[j]);
        } else if (!(rc = num_of(c, s, &par[j]))) {
            rc = range(c, s, par[j], param_unit(d, wunit), d->lo, d->hi, 0, d->doc);
        }
        if (rc)
            return rc;
    }
    return SNN_OK;
}

/* Read a group's "model" while collecting names; a typo of the key itself
   is reported as an unknown key. */
static int entry_model(ctx *c, config_setting_t *e, bool input, const snn_model_type **type,
                       bool *current)
{
    const char *m;
    config_setting_t *ms = config_setting_get_member(e, "model");
    *type = NULL;
    *current = false;
    static const char *const model_key[] = {"model"};
    if (!ms && config_setting_get_hook(e) && config_setting_source_line(e) == 0) {
        /* created on the way by an override such as -s populations.exx.tau_m=3
           (a group the override gives in full has the line of its text): a typo? */
        const config_setting_t *par = config_setting_parent(e);
        const char *cand[64];
        size_t n = 0;
        for (int i = 0; i < config_setting_length(par) && n < 64; i++) {
            const config_setting_t *x = config_setting_get_elem(par, (unsigned)i);
            if (x != e)
                cand[n++] = config_setting_name(x);
        }
        const char *best = nearest(config_setting_name(e), cand, n);
        if (best)
            return fail(c, e, "there is no %s; did you mean '%s'?", pth(c, e), best);
    }
    for (int i = 0; !ms && i < config_setting_length(e); i++) {
        const config_setting_t *x = config_setting_get_elem(e, (unsigned)i);
        if (nearest(config_setting_name(x), model_key, 1))
            return fail(c, x, "unknown key '%s' in %s; did you mean 'model'?",
                        config_setting_name(x), pth(c, e));
    }
    int rc = get_str(c, e, &pop_keys[POP_MODEL], &m, &ms);
    if (rc)
        return rc;
    if (input && strcmp(m, "current") == 0) {
        *current = true;
        return SNN_OK;
    }
    *type = snn_model_find(m);
    if (!*type) {
        keyset ks = {0};
        for (size_t i = 0; snn_model_at(i) && !rc; i++)
            rc = ks_add(c, &ks, snn_model_at(i)->name);
        if (!rc && input)
            rc = ks_add(c, &ks, "current");
        if (!rc) {
            char tail[700];
            suggest(m, ks.k, ks.n, true, tail, sizeof tail);
            rc = fail(c, ms, "%s = \"%s\" is not a known model%s", pth(c, ms), m, tail);
        }
        free(ks.k);
        return rc;
    }
    if (!input && (*type)->is_source)
        return fail(c, ms, "%s = \"%s\" is a spike source: declare '%s' under inputs, not "
                    "populations", pth(c, ms), m, config_setting_name(e));
    if (input && !(*type)->is_source)
        return fail(c, ms, "%s = \"%s\" is a neuron model: declare '%s' under populations "
                    "(inputs take spike sources such as poisson or spike_times, or "
                    "\"current\")", pth(c, ms), m, config_setting_name(e));
    return SNN_OK;
}

/* Check an entry of populations/inputs/projections: a group with a valid name. */
static int entry_group(ctx *c, const config_setting_t *e, const char *what)
{
    if (!config_setting_is_group(e)) {
        char form[160];
        snprintf(form, sizeof form, "a group { ... } describing %s", what);
        return fail_type(c, e, form);
    }
    if (!valid_ident(config_setting_name(e)))
        return fail(c, e, "%s: '%s' is not a valid name (letters, digits and _, not starting "
                    "with a digit, at most %d characters)", pth(c, e), config_setting_name(e),
                    SNN_NAME_MAX - 1);
    return SNN_OK;
}

/* Collect the names of populations and inputs (one name space), their
   models, and allocate spec->pops and spec->currents. */
static int collect(ctx *c, config_setting_t *pops, config_setting_t *inputs)
{
    size_t np = pops ? (size_t)config_setting_length(pops) : 0;
    size_t ni = inputs ? (size_t)config_setting_length(inputs) : 0;
    size_t cap = np + ni ? np + ni : 1;
    c->names = calloc(cap, sizeof *c->names);
    c->pop_set = calloc(cap, sizeof *c->pop_set);
    c->types = calloc(cap, sizeof *c->types);
    c->cur_names = calloc(cap, sizeof *c->cur_names);
    c->cur_set = calloc(cap, sizeof *c->cur_set);
    if (!c->names || !c->pop_set || !c->types || !c->cur_names || !c->cur_set)
        return oom(c);
    int rc;
    size_t n = 0;
    for (size_t i = 0; i < np; i++) {
        config_setting_t *e = config_setting_get_elem(pops, (unsigned)i);
        bool cur;
        if ((rc = entry_group(c, e, "a population")) ||
            (rc = entry_model(c, e, false, &c->types[n], &cur)))
            return rc;
        c->names[n] = config_setting_name(e);
        c->pop_set[n++] = e;
    }
    c->n_neur = n;
    for (size_t i = 0; i < ni; i++) {
        config_setting_t *e = config_setting_get_elem(inputs, (unsigned)i);
        const char *name = config_setting_name(e);
        if ((rc = entry_group(c, e, "an input")))
            return rc;
        for (size_t j = 0; j < c->n_neur; j++)
            if (strcmp(c->names[j], name) == 0) {
                char at[400];
                const config_setting_t *o = c->pop_set[j];
                if (!config_setting_get_hook(o) && !config_setting_get_hook(e) &&
                    config_setting_source_file(o) == config_setting_source_file(e))
                    snprintf(at, sizeof at, "line %u", config_setting_source_line(o));
                else
                    loc(c, o, at, sizeof at);
                return fail(c, e, "%s: the name '%s' is already used by populations.%s at %s "
                            "(populations and inputs share one name space)", pth(c, e), name,
                            name, at);
            }
        const snn_model_type *t;
        bool cur;
        if ((rc = entry_model(c, e, true, &t, &cur)))
            return rc;
        if (cur) {
            c->cur_names[c->n_cur] = name;
            c->cur_set[c->n_cur++] = e;
        } else {
            c->types[n] = t;
            c->names[n] = name;
            c->pop_set[n++] = e;
        }
    }
    snn_spec *sp = c->spec;
    sp->pops = calloc(n ? n : 1, sizeof *sp->pops);
    sp->currents = calloc(c->n_cur ? c->n_cur : 1, sizeof *sp->currents);
    if (!sp->pops || !sp->currents)
        return oom(c);
    sp->n_pops = n;
    sp->n_currents = c->n_cur;
    if (n == 0 && !c->pixels && !c->file)
        return fail(c, config_root_setting(&c->cfg), "nothing to simulate: the parameter file "
                    "defines no populations and no spike inputs");
    return SNN_OK;
}

/* The spike list of a spike_times source. */
static int parse_spike_list(ctx *c, config_setting_t *g, snn_pop_spec *ps)
{
    config_setting_t *ts = config_setting_get_member(g, spk_keys[SPK_TIMES].key);
    config_setting_t *is = config_setting_get_member(g, spk_keys[SPK_IDS].key);
    if (!ts)
        return missing(c, g, spk_keys[SPK_TIMES].key, spk_keys[SPK_TIMES].doc);
    if (!is_seq(ts))
        return fail_type(c, ts, "an array of times [t1, t2, ...]");
    size_t n = (size_t)config_setting_length(ts);
    ps->spike_times_ms = malloc((n ? n : 1) * sizeof *ps->spike_times_ms);
    ps->spike_ids = calloc(n ? n : 1, sizeof *ps->spike_ids);
    if (!ps->spike_times_ms || !ps->spike_ids)
        return oom(c);
    ps->n_spikes = n;
    int rc;
    for (size_t i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(ts, (unsigned)i);
        double t;
        if ((rc = num_of(c, e, &t)))
            return rc;
        /* The grid point lround(t/dt) must be >= 1 (models/spike_times.c). */
        if (!(t / c->dt >= 0.5))
            return fail(c, e, "%s = %g ms is before the first step: spike times must be >= "
                        "dt_ms = %g after rounding to the time grid (t >= %g)", pth(c, e), t,
                        c->dt, 0.5 * c->dt);
        ps->spike_times_ms[i] = t;
    }
    if (!is) {
        if (ps->n != 1)
            return fail(c, g, "%s has no 'spike_ids' (the neuron of each spike; required when "
                        "size > 1)", pth(c, g));
        return SNN_OK;
    }
    if (!is_seq(is))
        return fail_type(c, is, "an array of neuron ids [i1, i2, ...]");
    if ((size_t)config_setting_length(is) != n)
        return fail(c, is, "%s has %d entries but spike_times_ms has %zu: give one id per spike",
                    pth(c, is), config_setting_length(is), n);
    for (size_t i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(is, (unsigned)i);
        long long id = 0;
        if ((rc = int_of(c, e, &id)))
            return rc;
        if (id < 0 || (unsigned long long)id >= ps->n)
            return fail(c, e, "%s = %lld is not a neuron of '%s' (ids 0..%zu)", pth(c, e), id,
                        ps->name, ps->n - 1);
        ps->spike_ids[i] = (uint32_t)id;
    }
    return SNN_OK;
}

/* Population or spike input i: size, parameters, init, spike list. */
static int parse_pop(ctx *c, size_t i)
{
    config_setting_t *g = c->pop_set[i];
    const snn_model_type *t = c->types[i];
    snn_pop_spec *ps = &c->spec->pops[i];
    keyset ks = {0};
    int rc = ks_add_desc(c, &ks, pop_keys, POP_N);
    for (size_t j = 0; !rc && j < t->n_params; j++)
        rc = ks_add(c, &ks, t->params[j].key);
    if (!rc && t->takes_spike_list)
        rc = ks_add_desc(c, &ks, spk_keys, SPK_N);
    if (!rc)
        rc = check_keys(c, g, ks.k, ks.n);
    free(ks.k);
    if (rc)
        return rc;

    long long n;
    if ((rc = get_int(c, g, &pop_keys[POP_SIZE], &n, NULL)))
        return rc;
    if ((rc = snn_pop_spec_defaults(ps, t, (size_t)n, c->names[i], c->err)))
        return rc;
    set_where(c, g, &ps->where);

    if ((rc = parse_params(c, g, t->params, t->n_params, ps->par, NULL)))
        return rc;

    config_setting_t *ig = config_setting_get_member(g, pop_keys[POP_INIT].key);
    if (ig) {
        if (!config_setting_is_group(ig))
            return fail_type(c, ig, "a group { VARIABLE = value; ... }");
        for (int k = 0; k < config_setting_length(ig); k++) {
            config_setting_t *m = config_setting_get_elem(ig, (unsigned)k);
            int v = snn_model_state_index(t, config_setting_name(m));
            if (v < 0) {
                char tail[700];
                suggest(config_setting_name(m), t->state, t->n_state, true, tail, sizeof tail);
                return fail(c, m, "unknown state variable '%s' in %s (model %s)%s",
                            config_setting_name(m), pth(c, ig), t->name, tail);
            }
            if ((rc = parse_dist(c, m, D_ARRAY | D_NORMAL, ps->n, t->state_unit[v],
                                 &ps->init[v])))
                return rc;
        }
    }
    if (t->takes_spike_list)
        return parse_spike_list(c, g, ps);
    return SNN_OK;
}

/* Index of the population or spike input called `name`, referenced by s. */
static int ref_pop(ctx *c, const config_setting_t *s, const char *name, bool allow_source,
                   uint32_t *idx)
{
    size_t n = c->spec->n_pops;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(c->names[i], name) != 0)
            continue;
        if (!allow_source && i >= c->n_neur)
            return fail(c, s, "%s = \"%s\" is a spike input (model %s): it takes no input",
                        pth(c, s), name, c->types[i]->name);
        *idx = (uint32_t)i;
        return SNN_OK;
    }
    for (size_t q = 0; q < c->n_cur; q++)
        if (strcmp(c->cur_names[q], name) == 0)
            return fail(c, s, "%s = \"%s\" is a current input, not a population%s", pth(c, s),
                        name, allow_source ? " or spike input" : "");
    char tail[700];
    suggest(name, c->names, allow_source ? n : c->n_neur, false, tail, sizeof tail);
    return fail(c, s, "%s = \"%s\": no population%s is called '%s'%s", pth(c, s), name,
                allow_source ? " or spike input" : "", name, tail);
}

/* A list of distinct neuron ids of population `pop`, not empty. */
static int parse_ids(ctx *c, const config_setting_t *s, const snn_pop_spec *pop, uint32_t **out,
                     size_t *n_out)
{
    if (!is_seq(s))
        return fail_type(c, s, "an array of neuron ids [i1, i2, ...]");
    size_t n = (size_t)config_setting_length(s);
    if (n == 0)
        return fail(c, s, "%s is empty (leave it out to mean every neuron)", pth(c, s));
    *out = malloc(n * sizeof **out);
    unsigned char *seen = calloc(pop->n / 8 + 1, 1);
    int rc = SNN_OK;
    if (!*out || !seen) {
        rc = oom(c);
        goto done;
    }
    *n_out = n;
    for (size_t i = 0; i < n && !rc; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        long long id = 0;
        if ((rc = int_of(c, e, &id)))
            break;
        if (id < 0 || (unsigned long long)id >= pop->n) {
            rc = fail(c, e, "%s = %lld is not a neuron of '%s' (ids 0..%zu)", pth(c, e), id,
                      pop->name, pop->n - 1);
            break;
        }
        if (seen[id / 8] >> (id % 8) & 1) {
            rc = fail(c, e, "%s: neuron %lld is listed twice", pth(c, s), id);
            break;
        }
        seen[id / 8] |= (unsigned char)(1u << (id % 8));
        (*out)[i] = (uint32_t)id;
    }
done:
    free(seen);
    return rc;
}

/* An array of numbers into a new array *out of *n values. */
static int parse_nums(ctx *c, config_setting_t *s, double **out, size_t *n)
{
    if (!is_seq(s))
        return fail_type(c, s, "an array of numbers [a, b, ...]");
    *n = (size_t)config_setting_length(s);
    *out = malloc((*n ? *n : 1) * sizeof **out);
    if (!*out)
        return oom(c);
    for (size_t i = 0; i < *n; i++) {
        int rc = num_of(c, config_setting_get_elem(s, (unsigned)i), &(*out)[i]);
        if (rc)
            return rc;
    }
    return SNN_OK;
}

/* Current input q: target, neurons, and the pulse or the step form. */
static int parse_current(ctx *c, size_t q)
{
    config_setting_t *g = c->cur_set[q];
    snn_current_spec *cs = &c->spec->currents[q];
    snprintf(cs->name, sizeof cs->name, "%s", c->cur_names[q]);
    set_where(c, g, &cs->where);
    const char *keys[CUR_N];
    for (size_t i = 0; i < CUR_N; i++)
        keys[i] = cur_keys[i].key;
    int rc = check_keys(c, g, keys, CUR_N);
    if (rc)
        return rc;
    const char *target;
    config_setting_t *s;
    if ((rc = get_str(c, g, &cur_keys[CUR_TARGET], &target, &s)) ||
        (rc = ref_pop(c, s, target, false, &cs->target)))
        return rc;
    const snn_pop_spec *tp = &c->spec->pops[cs->target];
    if ((s = config_setting_get_member(g, cur_keys[CUR_NEURONS].key)) &&
        (rc = parse_ids(c, s, tp, &cs->neurons, &cs->n_neurons)))
        return rc;

    config_setting_t *amp = config_setting_get_member(g, cur_keys[CUR_AMP].key);
    config_setting_t *start = config_setting_get_member(g, cur_keys[CUR_START].key);
    config_setting_t *stop = config_setting_get_member(g, cur_keys[CUR_STOP].key);
    config_setting_t *times = config_setting_get_member(g, cur_keys[CUR_TIMES].key);
    config_setting_t *amps = config_setting_get_member(g, cur_keys[CUR_AMPS].key);
    bool pulse = amp || start || stop, steps = times || amps;
    if (pulse && steps)
        return fail(c, times ? times : amps, "%s mixes the pulse form (amplitude_pA, start_ms, "
                    "stop_ms) with the step form (times_ms, amplitudes_pA); use one of them",
                    pth(c, g));
    if (!pulse && !steps)
        return fail(c, g, "%s has no 'amplitude_pA' (pulse form, with start_ms and stop_ms) "
                    "nor 'times_ms' and 'amplitudes_pA' (step form)", pth(c, g));
    if (pulse) {
        double a, t0, t1 = 0.0;
        if ((rc = get_num(c, g, &cur_keys[CUR_AMP], &a, NULL)))
            return rc;
        if (!amp)
            return missing(c, g, cur_keys[CUR_AMP].key, cur_keys[CUR_AMP].doc);
        if ((rc = get_num(c, g, &cur_keys[CUR_START], &t0, NULL)) ||
            (rc = get_num(c, g, &cur_keys[CUR_STOP], &t1, NULL)))
            return rc;
        if (stop && !(t1 > t0))
            return fail(c, stop, "%s = %g ms must be after start_ms = %g ms", pth(c, stop), t1,
                        t0);
        if (!start && (rc = add_float(c, g, cur_keys[CUR_START].key, t0)))
            return rc;
        cs->n_changes = stop ? 2 : 1;
        cs->t_ms = malloc(2 * sizeof *cs->t_ms);
        cs->amp_pA = malloc(2 * sizeof *cs->amp_pA);
        if (!cs->t_ms || !cs->amp_pA)
            return oom(c);
        cs->t_ms[0] = t0;
        cs->amp_pA[0] = a;
        cs->t_ms[1] = t1;
        cs->amp_pA[1] = 0.0;
        return SNN_OK;
    }
    if (!times)
        return missing(c, g, cur_keys[CUR_TIMES].key, cur_keys[CUR_TIMES].doc);
    if (!amps)
        return missing(c, g, cur_keys[CUR_AMPS].key, cur_keys[CUR_AMPS].doc);
    size_t nt, na;
    if ((rc = parse_nums(c, times, &cs->t_ms, &nt)))
        return rc;
    cs->n_changes = nt;
    if ((rc = parse_nums(c, amps, &cs->amp_pA, &na)))
        return rc;
    if (nt == 0)
        return fail(c, times, "%s is empty", pth(c, times));
    if (na != nt)
        return fail(c, amps, "%s has %zu values but times_ms has %zu (one amplitude per time)",
                    pth(c, amps), na, nt);
    for (size_t i = 0; i < nt; i++) {
        const config_setting_t *e = config_setting_get_elem(times, (unsigned)i);
        if ((rc = range(c, e, cs->t_ms[i], "ms", 0.0, INFINITY, 0, cur_keys[CUR_TIMES].doc)))
            return rc;
        if (i > 0 && !(cs->t_ms[i] > cs->t_ms[i - 1]))
            return fail(c, e, "%s = %g ms is not after the previous time %g ms (times_ms must "
                        "be strictly ascending)", pth(c, e), cs->t_ms[i], cs->t_ms[i - 1]);
        e = config_setting_get_elem(amps, (unsigned)i);
        if ((rc = range(c, e, cs->amp_pA[i], "pA", cur_keys[CUR_AMPS].lo, cur_keys[CUR_AMPS].hi,
                        0, cur_keys[CUR_AMPS].doc)))
            return rc;
    }
    return SNN_OK;
}

/* ---- projections ---------------------------------------------------------- */

/* Fail when a connector-specific key is given for another connector. */
static int only_for(ctx *c, const config_setting_t *s, snn_conn_kind want, snn_conn_kind have)
{
    if (!s || want == have)
        return SNN_OK;
    return fail(c, s, "%s is only used by connector '%s'; this projection's connector is '%s'",
                pth(c, s), snn_conn_names[want], snn_conn_names[have]);
}

static int check_weight_sign(ctx *c, const config_setting_t *s, const snn_dist *w,
                             const snn_pop_spec *post, const char *unit)
{
    const snn_model_type *t = post->type;
    if (!t->nonneg_weights)
        return SNN_OK;
    char chans[200], what[200];
    join(t->channels, t->n_channels, chans, sizeof chans);
    if (w->kind == SNN_DIST_CONST && w->a < 0)
        snprintf(what, sizeof what, "= %g %s is negative", w->a, unit);
    else if (w->kind == SNN_DIST_UNIFORM && w->a < 0)
        snprintf(what, sizeof what, "= uniform [%g, %g] %s allows negative values", w->a, w->b,
                 unit);
    else if (w->kind == SNN_DIST_NORMAL && w->lo < 0)
        snprintf(what, sizeof what, "= normal [%g, %g] %s allows negative values (give min >= "
                 "0)", w->a, w->b, unit);
    else
        return SNN_OK;
    return fail(c, s, "%s %s, but model %s (post '%s') takes only non-negative weights; the "
                "sign comes from the receptor (%s)", pth(c, s), what, t->name, post->name, chans);
}

static int parse_delay(ctx *c, config_setting_t *g, snn_proj_spec *pj)
{
    config_setting_t *s = config_setting_get_member(g, proj_keys[PJ_DELAY].key);
    if (!s) {
        pj->delay_ms.kind = SNN_DIST_CONST;
        pj->delay_ms.a = c->dt;
        return add_float(c, g, proj_keys[PJ_DELAY].key, c->dt);
    }
    int rc = parse_dist(c, s, 0, 0, "ms", &pj->delay_ms);
    if (rc)
        return rc;
    double lo = pj->delay_ms.a;
    double hi = pj->delay_ms.kind == SNN_DIST_UNIFORM ? pj->delay_ms.b : lo;
    if (!(lo >= 0.0) || lround(lo / c->dt) < 1)
        return fail(c, s, "%s: a delay of %g ms is shorter than one step: delays must be >= "
                    "dt_ms = %g (after rounding to steps)", pth(c, s), lo, c->dt);
    if (hi / c->dt > MAX_DELAY_STEPS + 0.5)
        return fail(c, s, "%s: a delay of %g ms is %.0f steps of dt_ms = %g; at most %d steps",
                    pth(c, s), hi, hi / c->dt, c->dt, MAX_DELAY_STEPS);
    return SNN_OK;
}

/*
 * parse_plasticity: the optional group `plasticity` of projection g: `rule`
 * names a rule of the registry (rules/registry.c), the other keys are its
 * parameters (rule->params), given in the projection's weight unit `wunit`
 * where the table says "w".  No group: static weights, pj->rule = NULL.
 */
static int int_def(ctx *c, config_setting_t *g, const key_desc *k, long long *v,
                   config_setting_t **at);

static int parse_plasticity(ctx *c, config_setting_t *g, snn_proj_spec *pj, const char *wunit)
{
    config_setting_t *pg = config_setting_get_member(g, proj_keys[PJ_PLASTICITY].key);
    pj->rule = NULL;
    pj->rule_par = NULL;
    if (!pg)
        return SNN_OK;
    if (!config_setting_is_group(pg))
        return fail_type(c, pg, "a group { rule = \"NAME\"; PARAMETER = value; ... }");
    const key_desc *rk = &plast_keys[PL_RULE];
    config_setting_t *rs = config_setting_get_member(pg, rk->key);
    static const char *const rule_key[] = {"rule"};
    for (int i = 0; !rs && i < config_setting_length(pg); i++) {
        const config_setting_t *x = config_setting_get_elem(pg, (unsigned)i);
        if (nearest(config_setting_name(x), rule_key, 1))
            return fail(c, x, "unknown key '%s' in %s; did you mean 'rule'?",
                        config_setting_name(x), pth(c, pg));
    }
    const char *name;
    int rc = get_str(c, pg, rk, &name, &rs);
    if (rc)
        return rc;
    const snn_rule_type *t = snn_rule_find(name);
    if (!t) {
        keyset ks = {0};
        for (size_t i = 0; snn_rule_at(i) && !rc; i++)
            rc = ks_add(c, &ks, snn_rule_at(i)->name);
        if (!rc) {
            char tail[700];
            suggest(name, ks.k, ks.n, true, tail, sizeof tail);
            rc = fail(c, rs, "%s = \"%s\" is not a known plasticity rule%s", pth(c, rs), name,
                      tail);
        }
        free(ks.k);
        return rc;
    }
    keyset ks = {0};
    rc = ks_add_desc(c, &ks, plast_keys, PL_N);
    for (size_t j = 0; !rc && j < t->n_params; j++)
        rc = ks_add(c, &ks, t->params[j].key);
    if (!rc)
        rc = check_keys(c, pg, ks.k, ks.n);
    free(ks.k);
    if (rc)
        return rc;
    pj->rule = t;
    if (t->n_params) {
        pj->rule_par = calloc(t->n_params, sizeof *pj->rule_par);
        if (!pj->rule_par)
            return oom(c);
    }
    long long k;
    config_setting_t *ks_at;
    if ((rc = int_def(c, pg, &plast_keys[PL_TOP_K], &k, &ks_at)))
        return rc;
    pj->top_k = (uint32_t)k;
    return parse_params(c, pg, t->params, t->n_params, pj->rule_par, wunit);
}

/*
 * parse_local: the geometry keys of connectors local and local_groups
 * (snn_local_spec, sim/spec.h) into pj->local: each is refused for another
 * connector and required for its own; the sizes of pre and post must match
 * the geometry.  conn_s is the connector setting (its line for size errors).
 */
static int parse_local(ctx *c, config_setting_t *g, snn_proj_spec *pj, const snn_pop_spec *pre,
                       const snn_pop_spec *post, const config_setting_t *conn_s)
{
    static const int keys[] = {PJ_WIDTH, PJ_HEIGHT, PJ_PATCH, PJ_STRIDE, PJ_PER_LOC,
                               PJ_GROUP_SIZE};
    uint32_t *dst[] = {&pj->local.width, &pj->local.height, &pj->local.patch,
                       &pj->local.stride, &pj->local.per_location, &pj->local.group_size};
    config_setting_t *at[N_OF(keys)];
    for (size_t i = 0; i < N_OF(keys); i++) {
        const key_desc *k = &proj_keys[keys[i]];
        snn_conn_kind own = keys[i] == PJ_GROUP_SIZE ? SNN_CONN_LOCAL_GROUPS : SNN_CONN_LOCAL;
        long long v = 0;
        int rc = get_int(c, g, k, &v, &at[i]);
        if (!rc)
            rc = only_for(c, at[i], own, pj->conn);
        if (rc)
            return rc;
        if (!at[i] && pj->conn == own)
            return fail(c, g, "%s has no '%s' (%s)", pth(c, g), k->key, k->doc);
        *dst[i] = at[i] ? (uint32_t)v : 0;
    }
    const snn_local_spec *l = &pj->local;
    if (pj->conn == SNN_CONN_LOCAL_GROUPS) {
        if (pre->n != post->n)
            return fail(c, conn_s, "%s: local_groups needs pre and post of equal size, but "
                        "'%s' has %zu neurons and '%s' has %zu", pth(c, g), pre->name, pre->n,
                        post->name, post->n);
        if (post->n % l->group_size != 0)
            return fail(c, at[5], "%s = %u does not divide the %zu neurons of '%s' into whole "
                        "groups", pth(c, at[5]), l->group_size, post->n, post->name);
        return SNN_OK;
    }
    if (pj->conn != SNN_CONN_LOCAL)
        return SNN_OK;
    if ((size_t)l->width * l->height != pre->n)
        return fail(c, at[0], "%s: width x height = %u x %u = %zu pixels, but pre '%s' has %zu "
                    "neurons", pth(c, g), l->width, l->height, (size_t)l->width * l->height,
                    pre->name, pre->n);
    if (l->patch > l->width || l->patch > l->height)
        return fail(c, at[2], "%s = %u is larger than the %u x %u image", pth(c, at[2]),
                    l->patch, l->width, l->height);
    uint32_t nx, ny;
    snn_local_locations(l, &nx, &ny);
    size_t need = (size_t)nx * ny * l->per_location;
    if (need != post->n)
        return fail(c, at[4], "%s: patch %u, stride %u on %u x %u pixels give %u x %u = %u "
                    "locations, x per_location %u = %zu neurons, but post '%s' has %zu",
                    pth(c, g), l->patch, l->stride, l->width, l->height, nx, ny, nx * ny,
                    l->per_location, need, post->name, post->n);
    return SNN_OK;
}

static int parse_proj(ctx *c, config_setting_t *g, snn_proj_spec *pj)
{
    int rc = entry_group(c, g, "a projection");
    if (rc)
        return rc;
    snprintf(pj->name, sizeof pj->name, "%s", config_setting_name(g));
    set_where(c, g, &pj->where);
    const char *keys[PJ_N];
    for (size_t i = 0; i < PJ_N; i++)
        keys[i] = proj_keys[i].key;
    if ((rc = check_keys(c, g, keys, PJ_N)))
        return rc;

    const char *str;
    config_setting_t *s;
    if ((rc = get_str(c, g, &proj_keys[PJ_PRE], &str, &s)) ||
        (rc = ref_pop(c, s, str, true, &pj->pre)) ||
        (rc = get_str(c, g, &proj_keys[PJ_POST], &str, &s)) ||
        (rc = ref_pop(c, s, str, false, &pj->post)))
        return rc;
    const snn_pop_spec *pre = &c->spec->pops[pj->pre], *post = &c->spec->pops[pj->post];
    const snn_model_type *pt = post->type;

    if ((rc = get_str(c, g, &proj_keys[PJ_CONNECTOR], &str, &s)))
        return rc;
    size_t conn = 0;
    while (conn < SNN_CONN_N && strcmp(snn_conn_names[conn], str) != 0)
        conn++;
    if (conn == SNN_CONN_N) {
        char tail[700];
        suggest(str, snn_conn_names, SNN_CONN_N, true, tail, sizeof tail);
        return fail(c, s, "%s = \"%s\" is not a connector%s", pth(c, s), str, tail);
    }
    pj->conn = (snn_conn_kind)conn;
    config_setting_t *conn_s = s;

    /* receptor: a channel of the post model */
    if ((rc = get_str(c, g, &proj_keys[PJ_RECEPTOR], &str, &s)))
        return rc;
    if (!str) {
        pj->channel = 0;
        if ((rc = add_str(c, g, proj_keys[PJ_RECEPTOR].key, pt->channels[0])))
            return rc;
    } else {
        size_t ch = 0;
        while (ch < pt->n_channels && strcmp(pt->channels[ch], str) != 0)
            ch++;
        if (ch == pt->n_channels) {
            char tail[700];
            suggest(str, pt->channels, pt->n_channels, true, tail, sizeof tail);
            return fail(c, s, "%s = \"%s\" is not a receptor of model %s (post '%s')%s",
                        pth(c, s), str, pt->name, post->name, tail);
        }
        pj->channel = (int)ch;
    }

    bool aut, mult, skip;
    config_setting_t *ps_, *ks_, *ms_, *sk_;
    double p;
    long long k;
    if ((rc = get_bool(c, g, &proj_keys[PJ_AUTAPSES], &aut, &s)) ||
        (!s && (rc = add_bool(c, g, proj_keys[PJ_AUTAPSES].key, aut))) ||
        (rc = get_bool(c, g, &proj_keys[PJ_SKIP_SAME], &skip, &sk_)) ||
        (!sk_ && (rc = add_bool(c, g, proj_keys[PJ_SKIP_SAME].key, skip))) ||
        (rc = get_bool(c, g, &proj_keys[PJ_MULTAPSES], &mult, &ms_)) ||
        (rc = get_num(c, g, &proj_keys[PJ_P], &p, &ps_)) ||
        (rc = get_int(c, g, &proj_keys[PJ_K], &k, &ks_)) ||
        (rc = only_for(c, ps_, SNN_CONN_BERNOULLI, pj->conn)) ||
        (rc = only_for(c, ks_, SNN_CONN_INDEGREE, pj->conn)) ||
        (rc = only_for(c, ms_, SNN_CONN_INDEGREE, pj->conn)) ||
        (rc = parse_local(c, g, pj, pre, post, conn_s)))
        return rc;
    pj->autapses = aut;
    pj->skip_same_index = skip;
    pj->multapses = mult;
    bool self = pj->pre == pj->post;
    if (skip && pre->n != post->n)
        return fail(c, sk_, "%s = true needs pre and post of equal size, but '%s' has %zu "
                    "neurons and '%s' has %zu", pth(c, sk_), pre->name, pre->n, post->name,
                    post->n);
    if (skip && pj->conn == SNN_CONN_ONE_TO_ONE)
        return fail(c, sk_, "%s = true with connector one_to_one leaves no synapse at all",
                    pth(c, sk_));
    /* i -> i excluded: by autapses = false onto itself, or by skip_same_index */
    bool excl = (self && !aut) || skip;
    switch (pj->conn) {
    case SNN_CONN_ONE_TO_ONE:
        if (pre->n != post->n)
            return fail(c, conn_s, "%s: one_to_one needs pre and post of equal size, but '%s' "
                        "has %zu neurons and '%s' has %zu", pth(c, g), pre->name, pre->n,
                        post->name, post->n);
        break;
    case SNN_CONN_BERNOULLI:
        if (!ps_)
            return fail(c, g, "%s has no 'p' (connection probability, required for "
                        "pairwise_bernoulli)", pth(c, g));
        pj->p = p;
        break;
    case SNN_CONN_INDEGREE: {
        if (!ks_)
            return fail(c, g, "%s has no 'k' (sources per target, required for "
                        "fixed_indegree)", pth(c, g));
        pj->k = (size_t)k;
        if (!ms_ && (rc = add_bool(c, g, proj_keys[PJ_MULTAPSES].key, mult)))
            return rc;
        size_t avail = pre->n - (excl ? 1 : 0);
        if (!mult && pj->k > avail)
            return fail(c, ks_, "%s = %lld is more than the %zu distinct sources in '%s'%s; "
                        "lower k or set multapses = true", pth(c, ks_), k, avail, pre->name,
                        excl ? (skip ? " (same index excluded)" : " (autapses excluded)") : "");
        if (mult && pj->k > 0 && avail == 0)
            return fail(c, ks_, "%s: '%s' has a single neuron and %s, so there is no source "
                        "to draw", pth(c, ks_), pre->name,
                        skip ? "skip_same_index is on" : "autapses are off");
        break;
    }
    default: break;
    }

    /* weight, in the post model's unit */
    const char *unit = pt->weight_unit(post->par);
    if (!(s = config_setting_get_member(g, proj_keys[PJ_WEIGHT].key)))
        return fail(c, g, "%s has no 'weight' (synaptic weight in %s, required)", pth(c, g),
                    unit);
    if ((rc = parse_dist(c, s, D_NORMAL, 0, unit, &pj->weight)) ||
        (rc = check_weight_sign(c, s, &pj->weight, post, unit)) ||
        (rc = parse_delay(c, g, pj)) || (rc = parse_plasticity(c, g, pj, unit)))
        return rc;
    const key_desc *nk = &proj_keys[PJ_NORMALIZE];
    if (!(s = config_setting_get_member(g, nk->key))) {
        pj->normalize = nk->def;
        return add_float(c, g, nk->key, nk->def);
    }
    if ((rc = num_of(c, s, &pj->normalize)))
        return rc;
    return range(c, s, pj->normalize, unit, nk->lo, nk->hi, 0, nk->doc);
}

/* ---- record and output ---------------------------------------------------- */

/* Check that interval iv (ms) is a positive whole number of steps (within rounding). */
static int interval_steps(ctx *c, const config_setting_t *s, double iv)
{
    double q = iv / c->dt;
    double k = nearbyint(q);
    if (k < 1.0 || fabs(q - k) > MULTIPLE_RTOL * q)
        return fail(c, s, "%s = %g ms is not a positive multiple of dt_ms = %g", pth(c, s), iv,
                    c->dt);
    return SNN_OK;
}

static int parse_rec_spikes(ctx *c, config_setting_t *rec)
{
    snn_spec *sp = c->spec;
    config_setting_t *s = config_setting_get_member(rec, rec_keys[REC_SPIKES].key);
    int rc;
    if (!s) {
        /* default: every population, written out in the tree */
        for (size_t i = 0; i < c->n_neur; i++)
            sp->rec_spikes[i] = true;
        s = config_setting_add(rec, rec_keys[REC_SPIKES].key, CONFIG_TYPE_ARRAY);
        if (!s)
            return oom(c);
        for (size_t i = 0; i < c->n_neur; i++)
            if (!config_setting_set_string_elem(s, -1, c->names[i]))
                return oom(c);
        return SNN_OK;
    }
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        if (strcmp(config_setting_get_string(s), "all") != 0)
            return fail(c, s, "%s = \"%s\": give an array of names, e.g. [\"%s\"], or \"all\"",
                        pth(c, s), config_setting_get_string(s), config_setting_get_string(s));
        for (size_t i = 0; i < sp->n_pops; i++)
            sp->rec_spikes[i] = true;
        return SNN_OK;
    }
    if (!is_seq(s))
        return fail_type(c, s, "an array of names [\"a\", \"b\"] or \"all\"");
    for (int i = 0; i < config_setting_length(s); i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        uint32_t idx;
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail_type(c, e, "a name in double quotes");
        if ((rc = ref_pop(c, e, config_setting_get_string(e), true, &idx)))
            return rc;
        sp->rec_spikes[idx] = true;
    }
    return SNN_OK;
}

static int parse_rec_state_entry(ctx *c, config_setting_t *e, snn_rec_state_spec *rs,
                                 const config_setting_t **seen)
{
    if (!config_setting_is_group(e))
        return fail_type(c, e, "a group { population = ...; variables = [...]; }");
    const char *keys[RS_N];
    for (size_t i = 0; i < RS_N; i++)
        keys[i] = rec_state_keys[i].key;
    int rc = check_keys(c, e, keys, RS_N);
    const char *name;
    config_setting_t *s;
    if (rc || (rc = get_str(c, e, &rec_state_keys[RS_POP], &name, &s)) ||
        (rc = ref_pop(c, s, name, true, &rs->pop)))
        return rc;
    if (seen[rs->pop])
        return fail(c, s, "%s: population '%s' is already recorded by %s; list all its "
                    "variables and neurons in one entry", pth(c, e), name, pth(c, seen[rs->pop]));
    seen[rs->pop] = e;
    const snn_pop_spec *pop = &c->spec->pops[rs->pop];
    const snn_model_type *t = pop->type;

    config_setting_t *vs = config_setting_get_member(e, rec_state_keys[RS_VARS].key);
    if (!vs)
        return missing(c, e, rec_state_keys[RS_VARS].key, rec_state_keys[RS_VARS].doc);
    if (!is_seq(vs))
        return fail_type(c, vs, "an array of variable names [\"V_m\", ...]");
    size_t nv = (size_t)config_setting_length(vs);
    if (nv == 0)
        return fail(c, vs, "%s is empty: name at least one state variable of model %s",
                    pth(c, vs), t->name);
    rs->vars = malloc(nv * sizeof *rs->vars);
    if (!rs->vars)
        return oom(c);
    for (size_t i = 0; i < nv; i++) {
        config_setting_t *v = config_setting_get_elem(vs, (unsigned)i);
        if (config_setting_type(v) != CONFIG_TYPE_STRING)
            return fail_type(c, v, "a variable name in double quotes");
        const char *vn = config_setting_get_string(v);
        int x = snn_model_state_index(t, vn);
        if (x < 0) {
            char tail[700];
            suggest(vn, t->state, t->n_state, true, tail, sizeof tail);
            return fail(c, v, "%s = \"%s\" is not a state variable of model %s (population "
                        "'%s')%s", pth(c, v), vn, t->name, pop->name, tail);
        }
        for (size_t j = 0; j < i; j++)
            if (rs->vars[j] == x)
                return fail(c, v, "%s: variable '%s' is listed twice", pth(c, vs), vn);
        rs->vars[i] = x;
        rs->n_vars = i + 1;
    }

    if ((s = config_setting_get_member(e, rec_state_keys[RS_NEURONS].key))) {
        if ((rc = parse_ids(c, s, pop, &rs->neurons, &rs->n_neurons)))
            return rc;
    } else {
        rs->neurons = malloc((pop->n ? pop->n : 1) * sizeof *rs->neurons);
        if (!rs->neurons)
            return oom(c);
        for (size_t i = 0; i < pop->n; i++)
            rs->neurons[i] = (uint32_t)i;
        rs->n_neurons = pop->n;
    }

    if ((rc = get_num(c, e, &rec_state_keys[RS_INTERVAL], &rs->interval_ms, &s)))
        return rc;
    if (!s) {
        rs->interval_ms = c->dt;
        return add_float(c, e, rec_state_keys[RS_INTERVAL].key, c->dt);
    }
    return interval_steps(c, s, rs->interval_ms);
}

static int parse_rec_weight_entry(ctx *c, config_setting_t *e, snn_rec_weight_spec *rw,
                                  const config_setting_t **seen)
{
    if (!config_setting_is_group(e))
        return fail_type(c, e, "a group { projection = ...; interval_ms = ...; }");
    const char *keys[RW_N];
    for (size_t i = 0; i < RW_N; i++)
        keys[i] = rec_w_keys[i].key;
    int rc = check_keys(c, e, keys, RW_N);
    const char *name;
    config_setting_t *s;
    if (rc || (rc = get_str(c, e, &rec_w_keys[RW_PROJ], &name, &s)))
        return rc;
    snn_spec *sp = c->spec;
    size_t j = 0;
    while (j < sp->n_projs && strcmp(sp->projs[j].name, name) != 0)
        j++;
    if (j == sp->n_projs) {
        const char **cand = malloc((sp->n_projs ? sp->n_projs : 1) * sizeof *cand);
        if (!cand)
            return oom(c);
        for (size_t i = 0; i < sp->n_projs; i++)
            cand[i] = sp->projs[i].name;
        char tail[700];
        suggest(name, cand, sp->n_projs, false, tail, sizeof tail);
        free(cand);
        return fail(c, s, "%s = \"%s\": no projection is called '%s'%s", pth(c, s), name, name,
                    tail);
    }
    if (seen[j])
        return fail(c, s, "%s: projection '%s' is already recorded by %s", pth(c, e), name,
                    pth(c, seen[j]));
    seen[j] = e;
    rw->proj = (uint32_t)j;
    if ((rc = get_num(c, e, &rec_w_keys[RW_INTERVAL], &rw->interval_ms, &s)))
        return rc;
    return interval_steps(c, s, rw->interval_ms);
}

static int parse_record(ctx *c, config_setting_t *rec)
{
    snn_spec *sp = c->spec;
    const char *keys[REC_N];
    for (size_t i = 0; i < REC_N; i++)
        keys[i] = rec_keys[i].key;
    int rc = check_keys(c, rec, keys, REC_N);
    if (rc)
        return rc;
    sp->rec_spikes = calloc(sp->n_pops ? sp->n_pops : 1, sizeof *sp->rec_spikes);
    if (!sp->rec_spikes)
        return oom(c);
    if ((rc = parse_rec_spikes(c, rec)))
        return rc;

    config_setting_t *st = config_setting_get_member(rec, rec_keys[REC_STATE].key);
    if (st) {
        if (!is_seq(st))
            return fail_type(c, st, "a list ( { population = ...; variables = [...]; }, ... )");
        size_t n = (size_t)config_setting_length(st);
        const config_setting_t **seen = calloc(sp->n_pops, sizeof *seen);
        sp->rec_state = calloc(n ? n : 1, sizeof *sp->rec_state);
        if (!seen || !sp->rec_state) {
            free(seen);
            return oom(c);
        }
        sp->n_rec_state = n;
        for (size_t i = 0; i < n && !rc; i++)
            rc = parse_rec_state_entry(c, config_setting_get_elem(st, (unsigned)i),
                                       &sp->rec_state[i], seen);
        free(seen);
        if (rc)
            return rc;
    }

    config_setting_t *wt = config_setting_get_member(rec, rec_keys[REC_WEIGHTS].key);
    if (wt) {
        if (!is_seq(wt))
            return fail_type(c, wt, "a list ( { projection = ...; interval_ms = ...; }, ... )");
        size_t n = (size_t)config_setting_length(wt);
        const config_setting_t **seen = calloc(sp->n_projs ? sp->n_projs : 1, sizeof *seen);
        sp->rec_weights = calloc(n ? n : 1, sizeof *sp->rec_weights);
        if (!seen || !sp->rec_weights) {
            free(seen);
            return oom(c);
        }
        sp->n_rec_weights = n;
        for (size_t i = 0; i < n && !rc; i++)
            rc = parse_rec_weight_entry(c, config_setting_get_elem(wt, (unsigned)i),
                                        &sp->rec_weights[i], seen);
        free(seen);
    }
    return rc;
}

/* "<basename of name without extension>.h5". */
static void default_output(const char *name, char *buf, size_t n)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t len = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        len = (size_t)(dot - base);
    if (len == 0)
        snprintf(buf, n, "snn.h5");
    else
        snprintf(buf, n, "%.*s.h5", (int)(len < 900 ? len : 900), base);
}

static int num_def(ctx *c, config_setting_t *g, const key_desc *k, double *v,
                   config_setting_t **at);
static int int_def(ctx *c, config_setting_t *g, const key_desc *k, long long *v,
                   config_setting_t **at);

static int parse_output(ctx *c, config_setting_t *out)
{
    snn_spec *sp = c->spec;
    const char *keys[OUT_N];
    for (size_t i = 0; i < OUT_N; i++)
        keys[i] = out_keys[i].key;
    int rc = check_keys(c, out, keys, OUT_N);
    const char *path;
    config_setting_t *s;
    if (rc || (rc = get_str(c, out, &out_keys[OUT_PATH], &path, &s)))
        return rc;
    if (!path) {
        default_output(c->name, sp->output, sizeof sp->output);
        if ((rc = add_str(c, out, out_keys[OUT_PATH].key, sp->output)))
            return rc;
    } else {
        if (!path[0])
            return fail(c, s, "%s is empty", pth(c, s));
        if (strlen(path) >= sizeof sp->output)
            return fail(c, s, "%s is longer than %zu characters", pth(c, s),
                        sizeof sp->output - 1);
        snprintf(sp->output, sizeof sp->output, "%s", path);
    }
    long long z;
    if ((rc = get_int(c, out, &out_keys[OUT_COMPRESSION], &z, &s)) ||
        (!s && (rc = add_int(c, out, out_keys[OUT_COMPRESSION].key, z))))
        return rc;
    sp->compression = (int)z;
    const char *ck;
    if ((rc = get_str(c, out, &out_keys[OUT_CKPT], &ck, &s)))
        return rc;
    if (ck && !ck[0])
        return fail(c, s, "%s is empty", pth(c, s));
    if (snprintf(sp->checkpoint, sizeof sp->checkpoint, "%s%s", ck ? ck : sp->output,
                 ck ? "" : ".ckpt") >= (int)sizeof sp->checkpoint)
        return fail(c, s ? s : out, "the checkpoint path is too long");
    if (!ck && (rc = add_str(c, out, out_keys[OUT_CKPT].key, sp->checkpoint)))
        return rc;
    double ms;
    if ((rc = num_def(c, out, &out_keys[OUT_CK_MS], &ms, &s)) ||
        (rc = int_def(c, out, &out_keys[OUT_CK_SAMPLES], &z, &s)))
        return rc;
    if (ms > 0 && sp->integrator == SNN_INTEGRATOR_EVENT)
        return fail(c, s, "%s: the event integrator takes no checkpoints (its pending spikes "
                    "are not saved); use integrator = \"clock\" or remove this key", pth(c, s));
    sp->ckpt_every_steps = ms > 0 ? (size_t)llround(ms / sp->dt_ms) : 0;
    if (ms > 0 && sp->ckpt_every_steps == 0)
        sp->ckpt_every_steps = 1;
    sp->ckpt_every_samples = (size_t)z;
    if ((rc = int_def(c, out, &out_keys[OUT_CK_EPOCHS], &z, &s)))
        return rc;
    sp->ckpt_every_epochs = (unsigned)z;
    return SNN_OK;
}

/* ---- the experiment protocol ------------------------------------------------ */

/* String `k` of group g that must be one of ch[0..n): *idx its index, or
   SIZE_MAX when absent and optional. */
static int get_choice(ctx *c, config_setting_t *g, const key_desc *k, const char *const *ch,
                      size_t n, const char *what, size_t *idx, config_setting_t **at)
{
    const char *v;
    int rc = get_str(c, g, k, &v, at);
    *idx = SIZE_MAX;
    if (rc || !v)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, ch[i]) == 0) {
            *idx = i;
            return SNN_OK;
        }
    char tail[700];
    suggest(v, ch, n, true, tail, sizeof tail);
    return fail(c, *at, "%s = \"%s\" is not a known %s%s", pth(c, *at), v, what, tail);
}

/* Index of the neuron population `name` (not a spike input), referenced by s,
   for the protocol keys that count spikes. */
static int ref_neurons(ctx *c, const config_setting_t *s, const char *name, uint32_t *idx)
{
    for (size_t i = c->n_neur; i < c->spec->n_pops; i++)
        if (strcmp(c->names[i], name) == 0)
            return fail(c, s, "%s = \"%s\" is a spike input (model %s); name a population of "
                        "neurons here", pth(c, s), name, c->types[i]->name);
    return ref_pop(c, s, name, false, idx);
}

/* Append `part` to the path in buf (length *len): "." parts are dropped,
   ".." is kept (no symbolic-link guesswork). */
static bool path_push(char *buf, size_t n, size_t *len, const char *part, size_t plen)
{
    if (plen == 0 || (plen == 1 && part[0] == '.'))
        return true;
    bool sep = *len > 0 && buf[*len - 1] != '/';
    if (*len + sep + plen + 1 > n)
        return false;
    if (sep)
        buf[(*len)++] = '/';
    memcpy(buf + *len, part, plen);
    *len += plen;
    buf[*len] = '\0';
    return true;
}

/* Append every component of path p to buf. */
static bool path_join(char *buf, size_t n, size_t *len, const char *p)
{
    while (*p) {
        size_t k = strcspn(p, "/");
        if (!path_push(buf, n, len, p, k))
            return false;
        p += k;
        p += strspn(p, "/");
    }
    return true;
}

/*
 * abs_dir: the absolute form of directory `p` into out: p itself when
 * absolute, else base/p, where a relative base (or none) is taken from the
 * current directory.  Fails (at setting s) when the result is too long or
 * the current directory is unknown.
 */
static int abs_dir(ctx *c, const config_setting_t *s, const char *base, const char *p,
                   char *out, size_t n)
{
    char cwd[4096];
    size_t len = 1;
    bool ok = true;
    snprintf(out, n, "/");
    if (p[0] != '/') {
        if (!base || base[0] != '/') {
            if (!getcwd(cwd, sizeof cwd))
                return fail(c, s, "%s: cannot resolve the relative path \"%.200s\": the "
                            "current directory is unknown (%s)", pth(c, s), p, strerror(errno));
            ok = path_join(out, n, &len, cwd);
        }
        if (ok && base)
            ok = path_join(out, n, &len, base);
    }
    if (ok)
        ok = path_join(out, n, &len, p);
    if (!ok)
        return fail(c, s, "%s: \"%.200s\" resolves to a path longer than %zu "
                    "characters", pth(c, s), p, n - 1);
    return SNN_OK;
}

/* Path setting s (value p) made absolute: relative to the folder of the
   file that says it (an @include'd file's own folder); from an override or
   a string, to the current one. */
static int resolve_path(ctx *c, config_setting_t *s, const char *p, char *out, size_t n)
{
    char base[1200] = "";
    bool from_file = c->incdir && !config_setting_get_hook(s);
    if (from_file) {
        src_file(c, s, base, sizeof base);
        char *slash = strrchr(base, '/');
        if (slash)
            *(slash == base ? slash + 1 : slash) = '\0';
        else
            base[0] = '\0';
    }
    return abs_dir(c, s, base[0] ? base : NULL, p, out, n);
}

/* data = { dataset; directory; }: directory resolved to an absolute path,
   written back into the tree. */
static int parse_data(ctx *c, config_setting_t *g)
{
    snn_data_spec *d = &c->spec->data;
    const char *keys[DATA_N];
    for (size_t i = 0; i < DATA_N; i++)
        keys[i] = data_keys[i].key;
    int rc = check_keys(c, g, keys, DATA_N);
    size_t ds;
    config_setting_t *s;
    if (rc || (rc = get_choice(c, g, &data_keys[DATA_DATASET], datasets, N_OF(datasets),
                               "dataset", &ds, &s)))
        return rc;
    snprintf(d->dataset, sizeof d->dataset, "%s", datasets[ds]);
    const char *dir;
    if ((rc = get_str(c, g, &data_keys[DATA_DIR], &dir, &s)))
        return rc;
    if (dir) {
        if (!dir[0])
            return fail(c, s, "%s is empty", pth(c, s));
        if ((rc = resolve_path(c, s, dir, d->directory, sizeof d->directory)))
            return rc;
        if (!config_setting_set_string(s, d->directory))
            return oom(c);
        return SNN_OK;
    }
    if (ds == 1)
        snprintf(d->directory, sizeof d->directory, "%s", FASHION_MNIST_DIR);
    else {
        const char *env = getenv(MNIST_DIR_ENV);
        if (!env || !env[0])
            return fail(c, g, "%s has no 'directory' and the environment variable %s is not "
                        "set: set `data.directory` to the folder of the MNIST IDX files "
                        "(train-images-idx3-ubyte, ...) or set %s", pth(c, g), MNIST_DIR_ENV,
                        MNIST_DIR_ENV);
        if ((rc = abs_dir(c, g, NULL, env, d->directory, sizeof d->directory)))
            return rc;
    }
    return add_str(c, g, data_keys[DATA_DIR].key, d->directory);
}

/* Number k of group g with its default written back. */
static int num_def(ctx *c, config_setting_t *g, const key_desc *k, double *v,
                   config_setting_t **at)
{
    int rc = get_num(c, g, k, v, at);
    if (!rc && !*at)
        rc = add_float(c, g, k->key, *v);
    return rc;
}

static int int_def(ctx *c, config_setting_t *g, const key_desc *k, long long *v,
                   config_setting_t **at)
{
    int rc = get_int(c, g, k, v, at);
    if (!rc && !*at)
        rc = add_int(c, g, k->key, *v);
    return rc;
}

/* stimulus.boost = { population; min_spikes; intensity_step; max_boosts; }. */
static int parse_boost(ctx *c, config_setting_t *g, snn_stim_spec *st)
{
    if (!config_setting_is_group(g))
        return fail_type(c, g, "a group { population = \"NAME\"; min_spikes = N; ... }");
    const char *keys[BO_N];
    for (size_t i = 0; i < BO_N; i++)
        keys[i] = boost_keys[i].key;
    int rc = check_keys(c, g, keys, BO_N);
    const char *name;
    config_setting_t *s;
    uint32_t pop;
    long long v;
    if (rc || (rc = get_str(c, g, &boost_keys[BO_POP], &name, &s)) ||
        (rc = ref_neurons(c, s, name, &pop)))
        return rc;
    st->watch = (int)pop;
    if ((rc = int_def(c, g, &boost_keys[BO_MIN], &v, &s)))
        return rc;
    st->min_spikes = (uint64_t)v;
    if ((rc = num_def(c, g, &boost_keys[BO_STEP], &st->intensity_step, &s)) ||
        (rc = int_def(c, g, &boost_keys[BO_MAX], &v, &s)))
        return rc;
    st->max_boosts = (unsigned)v;
    return SNN_OK;
}

/* stimulus = { input; max_rate_hz; intensity; present_ms; rest_ms; boost; }. */
static int parse_stim(ctx *c, config_setting_t *g)
{
    snn_spec *sp = c->spec;
    snn_stim_spec *st = &sp->stim;
    const char *keys[ST_N];
    for (size_t i = 0; i < ST_N; i++)
        keys[i] = stim_keys[i].key;
    int rc = check_keys(c, g, keys, ST_N);
    const char *name;
    config_setting_t *s;
    if (rc || (rc = get_str(c, g, &stim_keys[ST_INPUT], &name, &s)) ||
        (rc = ref_pop(c, s, name, true, &st->input)))
        return rc;
    const snn_pop_spec *in = &sp->pops[st->input];
    if (st->input < c->n_neur)
        return fail(c, s, "%s = \"%s\" is a population (model %s); the stimulus drives a spike "
                    "input of model \"poisson\" (declared under inputs)", pth(c, s), name,
                    in->type->name);
    if (strcmp(in->type->name, "poisson") != 0)
        return fail(c, s, "%s = \"%s\" is a spike input of model %s; the stimulus needs one of "
                    "model \"poisson\"", pth(c, s), name, in->type->name);
    if (in->n != (size_t)IMAGE_ROWS * IMAGE_COLS)
        return fail(c, s, "%s = \"%s\": input '%s' has %zu neurons, but a %s image has %d x %d "
                    "= %d pixels (one neuron per pixel); set its size = %d", pth(c, s), name,
                    name, in->n, sp->data.dataset[0] ? sp->data.dataset : "dataset",
                    IMAGE_ROWS, IMAGE_COLS, IMAGE_ROWS * IMAGE_COLS, IMAGE_ROWS * IMAGE_COLS);
    if ((rc = num_def(c, g, &stim_keys[ST_RATE], &st->max_rate_hz, &s)) ||
        (rc = num_def(c, g, &stim_keys[ST_INTENSITY], &st->intensity, &s)) ||
        (rc = num_def(c, g, &stim_keys[ST_PRESENT], &st->present_ms, &s)))
        return rc;
    if (llround(st->present_ms / c->dt) < 1)
        return fail(c, s ? s : g, "%s = %g ms is shorter than one step of dt_ms = %g",
                    s ? pth(c, s) : "stimulus.present_ms", st->present_ms, c->dt);
    if ((rc = num_def(c, g, &stim_keys[ST_REST], &st->rest_ms, &s)))
        return rc;
    st->watch = -1;
    st->wta = false;
    if (config_setting_get_member(g, stim_keys[ST_WTA].key)) {
        uint32_t pop;
        if ((rc = get_str(c, g, &stim_keys[ST_WTA], &name, &s)) ||
            (rc = ref_neurons(c, s, name, &pop)))
            return rc;
        const snn_model_type *t = sp->pops[pop].type;
        if (snn_model_state_index(t, "V_m") < 0 || snn_model_param_index(t, "V_reset") < 0)
            return fail(c, s, "%s = \"%s\": model %s has no membrane V_m with a V_reset to "
                        "reset it to", pth(c, s), name, t->name);
        st->wta = true;
        st->wta_pop = pop;
    }
    config_setting_t *b = config_setting_get_member(g, stim_keys[ST_BOOST].key);
    return b ? parse_boost(c, b, st) : SNN_OK;
}

/* *j := the index of projection `name`, named by setting e; else a file:line
   error with the nearest valid name. */
static int proj_by_name(ctx *c, config_setting_t *e, const char *name, size_t *j)
{
    snn_spec *sp = c->spec;
    for (*j = 0; *j < sp->n_projs; (*j)++)
        if (strcmp(sp->projs[*j].name, name) == 0)
            return SNN_OK;
    const char **cand = malloc((sp->n_projs ? sp->n_projs : 1) * sizeof *cand);
    if (!cand)
        return oom(c);
    for (size_t q = 0; q < sp->n_projs; q++)
        cand[q] = sp->projs[q].name;
    char tail[700];
    suggest(name, cand, sp->n_projs, false, tail, sizeof tail);
    free(cand);
    return fail(c, e, "%s: no projection is called '%s'%s", pth(c, e), name, tail);
}

/* phases[i].off: names of projections, each once, into ph->off (indices). */
static int parse_phase_off(ctx *c, config_setting_t *g, snn_phase_spec *ph)
{
    config_setting_t *os = config_setting_get_member(g, phase_keys[PH_OFF].key);
    if (!os)
        return config_setting_add(g, phase_keys[PH_OFF].key, CONFIG_TYPE_ARRAY) ? SNN_OK
                                                                                : oom(c);
    if (!is_seq(os))
        return fail_type(c, os, "an array of projection names [\"a\", \"b\"] (or [])");
    size_t n = (size_t)config_setting_length(os);
    ph->off = malloc((n ? n : 1) * sizeof *ph->off);
    if (!ph->off)
        return oom(c);
    for (size_t k = 0; k < n; k++) {
        config_setting_t *e = config_setting_get_elem(os, (unsigned)k);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail_type(c, e, "a projection name in double quotes");
        const char *name = config_setting_get_string(e);
        size_t j = 0;
        int rc = proj_by_name(c, e, name, &j);
        if (rc)
            return rc;
        for (size_t q = 0; q < k; q++)
            if (ph->off[q] == j)
                return fail(c, e, "%s: projection '%s' is listed twice", pth(c, os), name);
        ph->off[k] = (uint32_t)j;
        ph->n_off = k + 1;
    }
    return SNN_OK;
}

/* phases[i].gain: { projection = factor; ... } into ph->gain_proj, ph->gain. */
static int parse_phase_gain(ctx *c, config_setting_t *g, snn_phase_spec *ph)
{
    config_setting_t *gs = config_setting_get_member(g, phase_keys[PH_GAIN].key);
    if (!gs)
        return config_setting_add(g, phase_keys[PH_GAIN].key, CONFIG_TYPE_GROUP) ? SNN_OK
                                                                                : oom(c);
    if (!config_setting_is_group(gs))
        return fail_type(c, gs, "a group of factors { projection = 0.5; }");
    size_t n = (size_t)config_setting_length(gs);
    ph->gain_proj = malloc((n ? n : 1) * sizeof *ph->gain_proj);
    ph->gain = malloc((n ? n : 1) * sizeof *ph->gain);
    if (!ph->gain_proj || !ph->gain)
        return oom(c);
    for (size_t k = 0; k < n; k++) {
        config_setting_t *e = config_setting_get_elem(gs, (unsigned)k);
        const char *name = config_setting_name(e);
        size_t j = 0;
        int rc = proj_by_name(c, e, name, &j);
        if (rc)
            return rc;
        int t = config_setting_type(e);
        if (t != CONFIG_TYPE_FLOAT && t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
            return fail_type(c, e, "a factor (a number >= 0)");
        double v = config_setting_get_float(e);
        if (t != CONFIG_TYPE_FLOAT)
            v = (double)config_setting_get_int64(e);
        if (!(v >= 0.0 && isfinite(v)))
            return fail(c, e, "%s = %g: a gain must be a finite number >= 0", pth(c, e), v);
        ph->gain_proj[k] = (uint32_t)j;
        ph->gain[k] = v;
        ph->n_gain = k + 1;
    }
    return SNN_OK;
}

/* Entry i of the list `phases`. */
static int parse_phase(ctx *c, config_setting_t *list, size_t i)
{
    snn_spec *sp = c->spec;
    snn_phase_spec *ph = &sp->phases[i];
    config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
    if (!config_setting_is_group(g))
        return fail_type(c, g, "a group { name = \"NAME\"; split = \"train\"; samples = N; }");
    set_where(c, g, &ph->where);
    const char *keys[PH_N];
    for (size_t k = 0; k < PH_N; k++)
        keys[k] = phase_keys[k].key;
    int rc = check_keys(c, g, keys, PH_N);
    const char *name;
    config_setting_t *s;
    if (rc || (rc = get_str(c, g, &phase_keys[PH_NAME], &name, &s)))
        return rc;
    if (!valid_ident(name))
        return fail(c, s, "%s = \"%s\" is not a valid name (letters, digits and _, not starting "
                    "with a digit, at most %d characters)", pth(c, s), name, SNN_NAME_MAX - 1);
    for (size_t j = 0; j < i; j++)
        if (strcmp(sp->phases[j].name, name) == 0) {
            char at[400];
            const config_setting_t *o = config_setting_get_elem(list, (unsigned)j);
            loc(c, o, at, sizeof at);
            return fail(c, s, "%s = \"%s\": phases[%zu] at %s already has this name (phase "
                        "names must be unique)", pth(c, s), name, j, at);
        }
    snprintf(ph->name, sizeof ph->name, "%s", name);
    size_t split;
    long long v;
    if ((rc = get_choice(c, g, &phase_keys[PH_SPLIT], splits, N_OF(splits), "split", &split,
                         &s)) ||
        (rc = get_int(c, g, &phase_keys[PH_SAMPLES], &v, &s)))
        return rc;
    ph->split = (int)split;
    ph->samples = (size_t)v;
    if ((rc = int_def(c, g, &phase_keys[PH_SEED], &v, &s)))
        return rc;
    ph->shuffle_seed = (uint64_t)v;
    if ((rc = get_bool(c, g, &phase_keys[PH_PLASTIC], &ph->plastic, &s)) ||
        (!s && (rc = add_bool(c, g, phase_keys[PH_PLASTIC].key, ph->plastic))))
        return rc;

    if ((rc = int_def(c, g, &phase_keys[PH_SNAP], &v, &s)))
        return rc;
    ph->snapshot_every = (size_t)v;
    if (v && !ph->plastic)
        return fail(c, s, "%s = %lld: snapshots are taken in plastic phases only (set plastic "
                    "= true or remove it)", pth(c, s), v);
    if ((rc = int_def(c, g, &phase_keys[PH_PROBE], &v, &s)))
        return rc;
    ph->probe = (size_t)v;
    if (v && !ph->snapshot_every)
        return fail(c, s, "%s = %lld: the probe runs at snapshots; set snapshot_every too",
                    pth(c, s), v);
    ph->probe_split = 1;
    if (config_setting_get_member(g, phase_keys[PH_PROBE_SPLIT].key)) {
        size_t ps;
        if ((rc = get_choice(c, g, &phase_keys[PH_PROBE_SPLIT], splits, N_OF(splits), "split",
                             &ps, &s)))
            return rc;
        ph->probe_split = (int)ps;
    } else if ((rc = add_str(c, g, phase_keys[PH_PROBE_SPLIT].key, "test"))) {
        return rc;
    }
    if ((rc = parse_phase_off(c, g, ph)) || (rc = parse_phase_gain(c, g, ph)))
        return rc;
    config_setting_t *fs = config_setting_get_member(g, phase_keys[PH_FEATURES].key);
    if (!fs)
        return config_setting_add(g, phase_keys[PH_FEATURES].key, CONFIG_TYPE_ARRAY)
                   ? SNN_OK : oom(c);
    if (!is_seq(fs))
        return fail_type(c, fs, "an array of population names [\"a\", \"b\"] (or [])");
    size_t n = (size_t)config_setting_length(fs);
    ph->features = malloc((n ? n : 1) * sizeof *ph->features);
    if (!ph->features)
        return oom(c);
    for (size_t k = 0; k < n; k++) {
        config_setting_t *e = config_setting_get_elem(fs, (unsigned)k);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail_type(c, e, "a population name in double quotes");
        uint32_t pop;
        if ((rc = ref_neurons(c, e, config_setting_get_string(e), &pop)))
            return rc;
        for (size_t q = 0; q < k; q++)
            if (ph->features[q] == pop)
                return fail(c, e, "%s: population '%s' is listed twice", pth(c, fs),
                            sp->pops[pop].name);
        ph->features[k] = pop;
        ph->n_features = k + 1;
    }
    return SNN_OK;
}

static int parse_phases(ctx *c, config_setting_t *list)
{
    snn_spec *sp = c->spec;
    if (!is_seq(list))
        return fail_type(c, list, "a list ( { name = \"NAME\"; split = \"train\"; samples = N; "
                         "}, ... )");
    size_t n = (size_t)config_setting_length(list);
    if (n == 0)
        return fail(c, list, "%s is empty: give at least one phase, or leave `phases` out (then "
                    "the run lasts simulation.duration_ms)", pth(c, list));
    if (config_setting_is_array(list))
        return fail_type(c, list, "a list ( { name = \"NAME\"; ... }, ... ) of groups");
    sp->phases = calloc(n, sizeof *sp->phases);
    if (!sp->phases)
        return oom(c);
    sp->n_phases = n;
    for (size_t i = 0; i < n; i++) {
        int rc = parse_phase(c, list, i);
        if (rc)
            return rc;
    }
    return SNN_OK;
}

/* Index of the phase named by string setting `key` of g. */
static int ref_phase(ctx *c, config_setting_t *g, const key_desc *k, size_t *idx,
                     config_setting_t **at)
{
    const snn_spec *sp = c->spec;
    const char *name;
    int rc = get_str(c, g, k, &name, at);
    if (rc)
        return rc;
    for (size_t i = 0; i < sp->n_phases; i++)
        if (strcmp(sp->phases[i].name, name) == 0) {
            *idx = i;
            return SNN_OK;
        }
    const char **cand = malloc(sp->n_phases * sizeof *cand);
    if (!cand)
        return oom(c);
    for (size_t i = 0; i < sp->n_phases; i++)
        cand[i] = sp->phases[i].name;
    char tail[700];
    suggest(name, cand, sp->n_phases, true, tail, sizeof tail);
    free(cand);
    return fail(c, *at, "%s = \"%s\": no phase is called '%s'%s", pth(c, *at), name, name,
                tail);
}

/* evaluate = { method; population; assign; test; }. */
static int parse_eval(ctx *c, config_setting_t *g, config_setting_t *list)
{
    snn_spec *sp = c->spec;
    snn_eval_spec *ev = &sp->eval;
    const char *keys[EV_N];
    for (size_t i = 0; i < EV_N; i++)
        keys[i] = eval_keys[i].key;
    int rc = check_keys(c, g, keys, EV_N);
    size_t m;
    config_setting_t *s, *ps;
    if (rc || (rc = get_choice(c, g, &eval_keys[EV_METHOD], eval_methods, N_OF(eval_methods),
                               "evaluation method", &m, &s)) ||
        (!s && (rc = add_str(c, g, eval_keys[EV_METHOD].key, eval_methods[0]))))
        return rc;
    const char *name;
    if ((rc = get_str(c, g, &eval_keys[EV_POP], &name, &ps)) ||
        (rc = ref_neurons(c, ps, name, &ev->pop)) ||
        (rc = ref_phase(c, g, &eval_keys[EV_ASSIGN], &ev->assign_phase, &s)) ||
        (rc = ref_phase(c, g, &eval_keys[EV_TEST], &ev->test_phase, &s)))
        return rc;
    size_t both[2] = {ev->assign_phase, ev->test_phase};
    for (size_t k = 0; k < 2; k++) {
        const snn_phase_spec *ph = &sp->phases[both[k]];
        bool found = false;
        for (size_t q = 0; q < ph->n_features; q++)
            found |= ph->features[q] == ev->pop;
        if (!found) {
            char at[400];
            loc(c, config_setting_get_elem(list, (unsigned)both[k]), at, sizeof at);
            return fail(c, ps, "%s = \"%s\" is not among the features of phase '%s' (%s, "
                        "evaluate.%s): add \"%s\" to its features so that its spike counts "
                        "are stored", pth(c, ps), name, ph->name, at,
                        eval_keys[k ? EV_TEST : EV_ASSIGN].key, name);
        }
    }
    ev->vote = true;
    return SNN_OK;
}

/*
 * parse_protocol: the groups data, stimulus, evaluate and the list phases.
 * Without phases none of the others may appear; with phases, data and
 * stimulus are required.
 */
static int parse_protocol(ctx *c, config_setting_t *data, config_setting_t *stim,
                          config_setting_t *list, config_setting_t *eval)
{
    c->spec->stim.watch = -1;
    if (!list && c->pixels) {
        if (!data)
            return fail(c, config_lookup(&c->cfg, "readout"), "readout input \"pixels\" needs a "
                        "`data` group: data = { dataset = \"mnist\" | \"fashion_mnist\"; }");
        int rc = parse_data(c, data);
        if (rc)
            return rc;
        config_setting_t *lone[] = {stim, eval};
        for (size_t i = 0; i < N_OF(lone); i++)
            if (lone[i])
                return fail(c, lone[i], "%s is only used with phases", config_setting_name(lone[i]));
        return SNN_OK;
    }
    if (!list) {
        config_setting_t *lone[] = {data, stim, eval};
        for (size_t i = 0; i < N_OF(lone); i++)
            if (lone[i])
                return fail(c, lone[i], "%s is only used with phases: add a `phases` list "
                            "( { name; split; samples; ... }, ... ) or remove `%s`",
                            config_setting_name(lone[i]), config_setting_name(lone[i]));
        return SNN_OK;
    }
    if (!data)
        return fail(c, list, "phases need a `data` group: data = { dataset = \"mnist\" | "
                    "\"fashion_mnist\"; directory = \"...\"; }");
    if (!stim)
        return fail(c, list, "phases need a `stimulus` group: stimulus = { input = \"NAME\"; } "
                    "(a poisson input of 784 neurons, one per pixel)");
    int rc;
    if ((rc = parse_data(c, data)) || (rc = parse_stim(c, stim)) ||
        (rc = parse_phases(c, list)))
        return rc;
    return eval ? parse_eval(c, eval, list) : SNN_OK;
}

/* ---- readout and robustness -------------------------------------------------- */

/* Choice k of g (index into ch) with default index `def` written back. */
static int choice_def(ctx *c, config_setting_t *g, const key_desc *k, const char *const *ch,
                      size_t n, const char *what, size_t def, int *out)
{
    size_t i;
    config_setting_t *s;
    int rc = get_choice(c, g, k, ch, n, what, &i, &s);
    if (rc)
        return rc;
    *out = (int)(s ? i : def);
    return s ? SNN_OK : add_str(c, g, k->key, ch[def]);
}

static int bool_def(ctx *c, config_setting_t *g, const key_desc *k, int *out)
{
    bool v = false;
    config_setting_t *s;
    int rc = get_bool(c, g, k, &v, &s);
    if (!rc && !s)
        rc = add_bool(c, g, k->key, v);
    *out = v;
    return rc;
}

static int uint_def(ctx *c, config_setting_t *g, const key_desc *k, unsigned *out)
{
    long long v;
    config_setting_t *s;
    int rc = int_def(c, g, k, &v, &s);
    *out = (unsigned)v;
    return rc;
}

/* readout.input is `what`?  Looked at before the protocol (pixels need data,
   not phases; a file needs neither). */
static bool readout_input_is(const config_setting_t *g, const char *what)
{
    const char *v = NULL;
    return g && config_setting_lookup_string(g, ro_keys[RO_INPUT].key, &v) &&
           strcmp(v, what) == 0;
}

static int parse_hidden(ctx *c, config_setting_t *g, snn_readout_cfg *rc_)
{
    config_setting_t *s = config_setting_get_member(g, ro_keys[RO_HIDDEN].key);
    rc_->n_hidden = 0;
    if (!s) {
        config_setting_t *a = config_setting_add(g, ro_keys[RO_HIDDEN].key, CONFIG_TYPE_ARRAY);
        return a ? SNN_OK : oom(c);
    }
    if (!is_seq(s))
        return fail_type(c, s, "an array of layer sizes [n1, n2, ...]");
    int n = config_setting_length(s);
    if (n > SNN_READOUT_MAX_HIDDEN)
        return fail(c, s, "%s has %d layers; at most %d hidden layers", pth(c, s), n,
                    SNN_READOUT_MAX_HIDDEN);
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        long long v = 0;
        int rc = int_of(c, e, &v);
        if (rc)
            return rc;
        if (v < 1 || v > 1000000)
            return fail(c, e, "%s = %lld: a layer size must be in [1, 1000000]", pth(c, e), v);
        rc_->hidden[i] = (unsigned)v;
    }
    rc_->n_hidden = (unsigned)n;
    return SNN_OK;
}

/* The phases of readout.train/test must store the same feature populations. */
static int readout_phases(ctx *c, config_setting_t *g, snn_readout_spec *ro)
{
    config_setting_t *st, *se;
    int rc;
    if (!config_setting_get_member(g, ro_keys[RO_TRAIN].key) ||
        !config_setting_get_member(g, ro_keys[RO_TEST].key))
        return fail(c, g, "%s needs `train` and `test`: the phases whose features train and "
                    "test the readout (or input = \"pixels\")", pth(c, g));
    if ((rc = ref_phase(c, g, &ro_keys[RO_TRAIN], &ro->train_phase, &st)) ||
        (rc = ref_phase(c, g, &ro_keys[RO_TEST], &ro->test_phase, &se)))
        return rc;
    const snn_phase_spec *a = &c->spec->phases[ro->train_phase];
    const snn_phase_spec *b = &c->spec->phases[ro->test_phase];
    if (a->n_features == 0)
        return fail(c, st, "%s: phase '%s' stores no features; give it features = [\"...\"]",
                    pth(c, st), a->name);
    bool same = a->n_features == b->n_features;
    for (size_t q = 0; same && q < a->n_features; q++)
        same = a->features[q] == b->features[q];
    if (!same)
        return fail(c, se, "%s: phase '%s' must store the same features, in the same order, "
                    "as phase '%s'", pth(c, se), b->name, a->name);
    return SNN_OK;
}

/* input = "file": the result file, its phases and the populations (checked
   against the file when the run starts: sim/main.c). */
static int readout_file(ctx *c, config_setting_t *g, snn_readout_spec *ro)
{
    if (c->has_phases)
        return fail(c, config_lookup(&c->cfg, "phases"), "phases: readout input \"file\" "
                    "trains on the features an earlier run stored, so this run simulates "
                    "nothing: remove `phases` (or use input = \"features\")");
    if (c->spec->n_pops)
        return fail(c, g, "%s: input = \"file\" runs no network, but the parameter file "
                    "defines populations or inputs: remove them (or use input = "
                    "\"features\")", pth(c, g));
    const char *v;
    config_setting_t *s;
    int rc = get_str(c, g, &ro_keys[RO_FILE], &v, &s);
    if (rc)
        return rc;
    if (!v || !v[0])
        return fail(c, s ? s : g, "%s needs `file`: the result file of an earlier run whose "
                    "/features train and test the readout", pth(c, g));
    if ((rc = resolve_path(c, s, v, ro->file, sizeof ro->file)))
        return rc;
    if (!config_setting_set_string(s, ro->file))
        return oom(c);
    const key_desc *ph[2] = {&ro_keys[RO_TRAIN], &ro_keys[RO_TEST]};
    char *dst[2] = {ro->train_name, ro->test_name};
    for (int i = 0; i < 2; i++) {
        if ((rc = get_str(c, g, ph[i], &v, &s)))
            return rc;
        if (!v || !v[0])
            return fail(c, s ? s : g, "%s needs `%s`: a phase of the earlier run whose "
                        "features %s the readout", pth(c, g), ph[i]->key,
                        i ? "test" : "train");
        if (strlen(v) >= SNN_NAME_MAX || strchr(v, '/'))
            return fail(c, s, "%s = \"%.100s\": not a phase name", pth(c, s), v);
        snprintf(dst[i], SNN_NAME_MAX, "%s", v);
    }
    config_setting_t *ps = config_setting_get_member(g, ro_keys[RO_POPS].key);
    ro->n_file_pops = 0;
    if (!ps)
        return SNN_OK;
    if (!is_seq(ps))
        return fail_type(c, ps, "an array of population names [\"a\", \"b\"]");
    int n = config_setting_length(ps);
    if (n > SNN_MAX_FILE_POPS)
        return fail(c, ps, "%s lists %d populations; at most %d", pth(c, ps), n,
                    SNN_MAX_FILE_POPS);
    for (int k = 0; k < n; k++) {
        config_setting_t *e = config_setting_get_elem(ps, (unsigned)k);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail_type(c, e, "a population name in double quotes");
        const char *name = config_setting_get_string(e);
        if (!name[0] || strlen(name) >= SNN_NAME_MAX || strchr(name, '/') ||
            !strcmp(name, "labels"))
            return fail(c, e, "%s = \"%.100s\": not a population name", pth(c, e), name);
        for (int q = 0; q < k; q++)
            if (!strcmp(ro->file_pops[q], name))
                return fail(c, e, "%s: population '%s' is listed twice", pth(c, ps), name);
        snprintf(ro->file_pops[k], SNN_NAME_MAX, "%s", name);
        ro->n_file_pops = (size_t)k + 1;
    }
    return SNN_OK;
}

static int parse_readout(ctx *c, config_setting_t *g)
{
    snn_readout_spec *ro = &c->spec->readout;
    snn_readout_cfg *k = &ro->cfg;
    const char *keys[RO_N];
    for (size_t i = 0; i < RO_N; i++)
        keys[i] = ro_keys[i].key;
    int rc = check_keys(c, g, keys, RO_N), input = 0;
    if (rc || (rc = choice_def(c, g, &ro_keys[RO_INPUT], ro_inputs, N_OF(ro_inputs),
                               "readout input", 0, &input)))
        return rc;
    ro->pixels = input == 1;
    ro->from_file = input == 2;
    snn_readout_cfg_default(k);
    if (input != 2) {
        const key_desc *only[] = {&ro_keys[RO_FILE], &ro_keys[RO_POPS]};
        for (size_t i = 0; i < 2; i++) {
            config_setting_t *s = config_setting_get_member(g, only[i]->key);
            if (s)
                return fail(c, s, "%s is only used with input = \"file\"", pth(c, s));
        }
    }
    if (input != 1) {
        const key_desc *only[] = {&ro_keys[RO_TRAIN_N], &ro_keys[RO_TEST_N]};
        for (size_t i = 0; i < 2; i++) {
            config_setting_t *s = config_setting_get_member(g, only[i]->key);
            if (s)
                return fail(c, s, "%s is only used with input = \"pixels\"; with features "
                            "the phases decide the samples", pth(c, s));
        }
    }
    if (input == 2) {
        if ((rc = readout_file(c, g, ro)))
            return rc;
    } else if (input == 1) {
        long long v;
        config_setting_t *s;
        if (config_setting_get_member(g, ro_keys[RO_TRAIN].key) ||
            config_setting_get_member(g, ro_keys[RO_TEST].key))
            return fail(c, config_setting_get_member(g, ro_keys[RO_TRAIN].key)
                               ? config_setting_get_member(g, ro_keys[RO_TRAIN].key)
                               : config_setting_get_member(g, ro_keys[RO_TEST].key),
                        "%s: train and test name phases, which input = \"pixels\" does not "
                        "use; use train_samples and test_samples", pth(c, g));
        if ((rc = int_def(c, g, &ro_keys[RO_TRAIN_N], &v, &s)))
            return rc;
        ro->train_samples = (size_t)v;
        if ((rc = int_def(c, g, &ro_keys[RO_TEST_N], &v, &s)))
            return rc;
        ro->test_samples = (size_t)v;
    } else {
        if ((rc = readout_phases(c, g, ro)))
            return rc;
    }
    config_setting_t *s;
    long long v;
    if ((rc = choice_def(c, g, &ro_keys[RO_NORM], ro_norms, N_OF(ro_norms), "normalisation", 1,
                         &k->norm)) ||
        (rc = choice_def(c, g, &ro_keys[RO_ENC], ro_encodings, N_OF(ro_encodings), "encoding",
                         0, &k->encode)) ||
        (rc = uint_def(c, g, &ro_keys[RO_STEPS], &k->steps)) ||
        (rc = num_def(c, g, &ro_keys[RO_DT], &k->dt_ms, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_GAIN], &k->input_gain, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_RATE], &k->max_rate_hz, &s)) ||
        (rc = parse_hidden(c, g, k)) ||
        (rc = num_def(c, g, &ro_keys[RO_TAU_MEM], &k->tau_mem_ms, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_TAU_SYN], &k->tau_syn_ms, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_THETA], &k->threshold, &s)) ||
        (rc = choice_def(c, g, &ro_keys[RO_RESET], ro_resets, N_OF(ro_resets), "reset", 0,
                         &k->reset)) ||
        (rc = bool_def(c, g, &ro_keys[RO_DETACH], &k->detach_reset)) ||
        (rc = choice_def(c, g, &ro_keys[RO_DECODE], ro_decodes, N_OF(ro_decodes), "decoding",
                         0, &k->decode)) ||
        (rc = bool_def(c, g, &ro_keys[RO_BIAS], &k->bias)) ||
        (rc = choice_def(c, g, &ro_keys[RO_SG], ro_surrogates, N_OF(ro_surrogates),
                         "surrogate", 0, &k->surrogate)) ||
        (rc = num_def(c, g, &ro_keys[RO_SLOPE], &k->sg_slope, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_INIT], &k->init_gain, &s)) ||
        (rc = choice_def(c, g, &ro_keys[RO_OPT], ro_optimizers, N_OF(ro_optimizers),
                         "optimizer", 0, &k->optimizer)) ||
        (rc = num_def(c, g, &ro_keys[RO_LR], &k->lr, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_B1], &k->adam_beta1, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_B2], &k->adam_beta2, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_EPS], &k->adam_eps, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_MOMENTUM], &k->momentum, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_WD], &k->weight_decay, &s)) ||
        (rc = uint_def(c, g, &ro_keys[RO_BATCH], &k->batch)) ||
        (rc = uint_def(c, g, &ro_keys[RO_EPOCHS], &k->epochs)) ||
        (rc = bool_def(c, g, &ro_keys[RO_SHUFFLE], &k->shuffle)) ||
        (rc = choice_def(c, g, &ro_keys[RO_SCHED], ro_schedules, N_OF(ro_schedules),
                         "learning-rate schedule", 0, &k->lr_schedule)) ||
        (rc = uint_def(c, g, &ro_keys[RO_STEP_EP], &k->lr_step_epochs)) ||
        (rc = num_def(c, g, &ro_keys[RO_GAMMA], &k->lr_gamma, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_LR_MIN], &k->lr_min, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_NOISE], &k->update_noise, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_DROP_IN], &k->dropout_input, &s)) ||
        (rc = num_def(c, g, &ro_keys[RO_DROP_HID], &k->dropout_hidden, &s)) ||
        (rc = choice_def(c, g, &ro_keys[RO_RULE], ro_rules, N_OF(ro_rules), "learning rule", 0,
                         &k->rule)) ||
        (rc = bool_def(c, g, &ro_keys[RO_ALIGN], &k->record_alignment)) ||
        (rc = bool_def(c, g, &ro_keys[RO_WEIGHTS], &k->record_weights)) ||
        (rc = uint_def(c, g, &ro_keys[RO_CHUNK], &k->chunk)))
        return rc;
    const char *beta[] = {ro_keys[RO_B1].key, ro_keys[RO_B2].key, ro_keys[RO_MOMENTUM].key};
    double bv[] = {k->adam_beta1, k->adam_beta2, k->momentum};
    for (size_t i = 0; i < 3; i++)
        if (bv[i] >= 1.0)
            return fail(c, config_setting_get_member(g, beta[i]),
                        "%s.%s = %g must be below 1", pth(c, g), beta[i], bv[i]);
    if ((rc = get_int(c, g, &ro_keys[RO_SEED], &v, &s)))
        return rc;
    k->seed = s ? (uint64_t)v : c->spec->seed;
    if (!s && (rc = add_int(c, g, ro_keys[RO_SEED].key, (long long)k->seed)))
        return rc;
    k->smooth = 0;
    ro->on = true;
    return SNN_OK;
}

/* Copy of phase `base` showing its images under perturbation k; returns its
   index in *at (an existing copy is reused). */
static int robust_phase(ctx *c, config_setting_t *g, size_t base, size_t k, size_t *at)
{
    snn_spec *sp = c->spec;
    char name[SNN_NAME_MAX];
    if (snprintf(name, sizeof name, "%s_perturb%zu", sp->phases[base].name, k + 1) >=
        (int)sizeof name)
        return fail(c, g, "phase name '%s' is too long to name its perturbed copies",
                    sp->phases[base].name);
    for (size_t f = 0; f < sp->n_phases; f++)
        if (strcmp(sp->phases[f].name, name) == 0) {
            if (sp->phases[f].perturb.kind == SNN_PERTURB_NONE)
                return fail(c, g, "%s: the phase name '%s' is taken; it names the copy of phase "
                            "'%s' under perturbation %zu", pth(c, g), name,
                            sp->phases[base].name, k + 1);
            *at = f;
            return SNN_OK;
        }
    snn_phase_spec *ph = realloc(sp->phases, (sp->n_phases + 1) * sizeof *ph);
    if (!ph)
        return oom(c);
    sp->phases = ph;
    snn_phase_spec *cp = &ph[sp->n_phases];
    *cp = ph[base];
    snprintf(cp->name, sizeof cp->name, "%s", name);
    cp->features = malloc((cp->n_features + 1) * sizeof *cp->features);
    if (!cp->features)
        return oom(c);
    memcpy(cp->features, ph[base].features, cp->n_features * sizeof *cp->features);
    cp->off = malloc((cp->n_off + 1) * sizeof *cp->off);
    if (!cp->off) {
        free(cp->features);
        return oom(c);
    }
    if (cp->n_off)
        memcpy(cp->off, ph[base].off, cp->n_off * sizeof *cp->off);
    cp->gain_proj = malloc((cp->n_gain + 1) * sizeof *cp->gain_proj);
    cp->gain = malloc((cp->n_gain + 1) * sizeof *cp->gain);
    if (!cp->gain_proj || !cp->gain) {
        free(cp->features);
        free(cp->off);
        free(cp->gain_proj);
        free(cp->gain);
        return oom(c);
    }
    if (cp->n_gain) {
        memcpy(cp->gain_proj, ph[base].gain_proj, cp->n_gain * sizeof *cp->gain_proj);
        memcpy(cp->gain, ph[base].gain, cp->n_gain * sizeof *cp->gain);
    }
    cp->plastic = false;
    cp->snapshot_every = 0;
    cp->probe = 0;
    cp->perturb = sp->robust.p[k];
    cp->perturb_seed = sp->robust.seed;
    *at = sp->n_phases++;
    return SNN_OK;
}

/* The perturbed copies of the test phases of evaluate and readout. */
static int robust_phases(ctx *c, config_setting_t *g)
{
    snn_spec *sp = c->spec;
    snn_robust_spec *rb = &sp->robust;
    for (size_t k = 0; k < SNN_MAX_PERTURB; k++)
        rb->vote_phase[k] = rb->readout_phase[k] = SIZE_MAX;
    for (size_t k = 0; k < rb->n; k++) {
        int rc;
        if (sp->eval.vote && (rc = robust_phase(c, g, sp->eval.test_phase, k, &rb->vote_phase[k])))
            return rc;
        if (sp->readout.on && !sp->readout.pixels &&
            (rc = robust_phase(c, g, sp->readout.test_phase, k, &rb->readout_phase[k])))
            return rc;
    }
    return SNN_OK;
}

static int parse_robust(ctx *c, config_setting_t *g)
{
    snn_robust_spec *rb = &c->spec->robust;
    const char *keys[RB_N];
    for (size_t i = 0; i < RB_N; i++)
        keys[i] = rb_keys[i].key;
    int rc = check_keys(c, g, keys, RB_N);
    if (rc)
        return rc;
    if (c->spec->readout.from_file)
        return fail(c, g, "%s perturbs images, which readout input \"file\" does not have: "
                    "name a perturbed test phase the earlier run stored as readout.test "
                    "instead (e.g. \"test_perturb1\")", pth(c, g));
    if (!c->spec->eval.vote && !c->spec->readout.on)
        return fail(c, g, "%s needs something to evaluate: an `evaluate` group (vote) or a "
                    "`readout` group", pth(c, g));
    config_setting_t *s = config_setting_get_member(g, rb_keys[RB_PERTURB].key);
    if (!s)
        return missing(c, g, rb_keys[RB_PERTURB].key, rb_keys[RB_PERTURB].doc);
    if (!is_seq(s))
        return fail_type(c, s, "an array of strings [\"gauss:0.1\", ...]");
    int n = config_setting_length(s);
    if (n < 1 || n > SNN_MAX_PERTURB)
        return fail(c, s, "%s: give 1 to %d perturbations", pth(c, s), SNN_MAX_PERTURB);
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail_type(c, e, "a string such as \"gauss:0.1\"");
        snn_err pe;
        if (snn_perturb_parse(config_setting_get_string(e), &rb->p[i], &pe))
            return fail(c, e, "%s: %s", pth(c, e), pe.msg);
    }
    rb->n = (size_t)n;
    long long v;
    if ((rc = int_def(c, g, &rb_keys[RB_SEED], &v, &s)))
        return rc;
    rb->seed = (uint64_t)v;
    return robust_phases(c, g);
}

/* ---- guided (GHL) ------------------------------------------------------------ */

enum { GU_PROJ, GU_SCHEDULE, GU_BATCH, GU_RO_STEPS, GU_MOD, GU_N };
static const key_desc gu_keys[GU_N] = {
    [GU_PROJ] = {"projection", V_STR, NULL, 0, 0, 0, K_REQ, NULL,
                 "the projection (rule \"ghl\" or \"three_factor\") whose learning the "
                 "readout steers; the "
                 "readout's input is its target population's spike counts"},
    [GU_SCHEDULE] = {"schedule", V_STR, NULL, 0, 0, 0, 0, "\"alternate\"",
                     "\"alternate\": per mini-batch, present the samples (plastic), one "
                     "readout step on their counts, then each sample's guided update; "
                     "\"interleave\": each sample's guided update right after it, with the "
                     "readout as it stands (rule ghl)"},
    [GU_BATCH] = {"batch", V_INT, "samples", 128.0, 1.0, 1e9, 0, NULL,
                  "samples per mini-batch (at most readout.batch)"},
    [GU_RO_STEPS] = {"readout_steps", V_INT, NULL, 1.0, 0.0, 1e6, 0, NULL,
                     "readout steps on each mini-batch before its gradient is taken"},
    [GU_MOD] = {"modulator", V_STR, NULL, 0, 0, 0, 0, "\"sign\"",
                "rule three_factor, after each sample: \"sign\" (m_j = -sgn dL/dy_j, M = 1) "
                "or \"reward\" (M = +1 if the readout classifies the sample right, else -1)"},
};

static int parse_guided(ctx *c, config_setting_t *g)
{
    snn_spec *sp = c->spec;
    snn_guided_spec *gu = &sp->guided;
    const char *keys[GU_N];
    for (size_t i = 0; i < GU_N; i++)
        keys[i] = gu_keys[i].key;
    static const char *const schedules[] = {"alternate", "interleave"};
    static const char *const modulators[] = {"sign", "reward"};
    int sched = 0, rc = check_keys(c, g, keys, GU_N);
    const char *name;
    config_setting_t *s;
    if (rc || (rc = get_str(c, g, &gu_keys[GU_PROJ], &name, &s)) ||
        (rc = choice_def(c, g, &gu_keys[GU_SCHEDULE], schedules, N_OF(schedules), "schedule",
                         0, &sched)) ||
        (rc = uint_def(c, g, &gu_keys[GU_BATCH], &gu->batch)) ||
        (rc = uint_def(c, g, &gu_keys[GU_RO_STEPS], &gu->readout_steps)) ||
        (rc = choice_def(c, g, &gu_keys[GU_MOD], modulators, N_OF(modulators), "modulator", 0,
                         &gu->modulator)))
        return rc;
    size_t j = 0;
    while (j < sp->n_projs && strcmp(sp->projs[j].name, name) != 0)
        j++;
    if (j == sp->n_projs)
        return fail(c, s, "%s = \"%s\": no such projection", pth(c, s), name);
    gu->proj = j;
    if (!sp->readout.on || sp->readout.pixels || sp->readout.from_file)
        return fail(c, g, "%s needs a `readout` group on phase features (the learner whose "
                    "gradient guides the projection)", pth(c, g));
    if (gu->batch > sp->readout.cfg.batch)
        return fail(c, config_setting_get_member(g, gu_keys[GU_BATCH].key),
                    "%s.batch = %u must be at most readout.batch = %u", pth(c, g), gu->batch,
                    sp->readout.cfg.batch);
    if (sp->n_phases == 0)
        return fail(c, g, "%s needs phases (the guided projection learns in plastic phases)",
                    pth(c, g));
    gu->schedule = sched;
    gu->on = true;
    return SNN_OK;
}

/* ---- simulation ------------------------------------------------------------ */

static int parse_sim(ctx *c, config_setting_t *g)
{
    snn_spec *sp = c->spec;
    const char *keys[SIM_N];
    for (size_t i = 0; i < SIM_N; i++)
        keys[i] = sim_keys[i].key;
    int rc = check_keys(c, g, keys, SIM_N);
    config_setting_t *s;
    long long v;
    if (rc || (rc = get_num(c, g, &sim_keys[SIM_DT], &sp->dt_ms, &s)) ||
        (!s && (rc = add_float(c, g, sim_keys[SIM_DT].key, sp->dt_ms))))
        return rc;
    c->dt = sp->dt_ms;
    if ((rc = get_num(c, g, &sim_keys[SIM_DURATION], &sp->duration_ms, &s)))
        return rc;
    if (!s && !c->has_phases && !c->pixels && !c->file)
        return fail(c, g, "%s has no '%s' (simulated time in ms, required unless the file has "
                    "`phases`)", pth(c, g), sim_keys[SIM_DURATION].key);
    if (s && llround(sp->duration_ms / sp->dt_ms) < 1)
        return fail(c, s, "%s = %g ms is shorter than one step of dt_ms = %g", pth(c, s),
                    sp->duration_ms, sp->dt_ms);
    if ((rc = get_int(c, g, &sim_keys[SIM_SEED], &v, &s)) ||
        (!s && (rc = add_int(c, g, sim_keys[SIM_SEED].key, v))))
        return rc;
    sp->seed = (uint64_t)v;
    if ((rc = get_int(c, g, &sim_keys[SIM_THREADS], &v, &s)) ||
        (!s && (rc = add_int(c, g, sim_keys[SIM_THREADS].key, v))))
        return rc;
    sp->threads = (int)v;
    bool pl;
    if ((rc = get_bool(c, g, &sim_keys[SIM_PAR_LEARN], &pl, &s)) ||
        (!s && (rc = add_bool(c, g, sim_keys[SIM_PAR_LEARN].key, pl))))
        return rc;
    sp->parallel_learning = pl;
    const char *integ;
    if ((rc = get_str(c, g, &sim_keys[SIM_INTEGRATOR], &integ, &s)))
        return rc;
    if (!integ)
        return add_str(c, g, sim_keys[SIM_INTEGRATOR].key, "clock");
    if (strcmp(integ, "clock") && strcmp(integ, "event"))
        return fail(c, s, "%s = \"%s\" is not an integrator; use \"clock\" or \"event\"",
                    pth(c, s), integ);
    sp->integrator = strcmp(integ, "event") == 0 ? SNN_INTEGRATOR_EVENT : SNN_INTEGRATOR_CLOCK;
    return SNN_OK;
}

/* ---- the resolved text ------------------------------------------------------ */

static void put_indent(FILE *f, int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", f);
}

/* Shortest decimal text that reads back to exactly v, always a float literal. */
static void put_float(FILE *f, double v)
{
    char b[48];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    if (!strpbrk(b, ".eEn"))
        strcat(b, ".0");
    fputs(b, f);
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                fprintf(f, "\\x%02X", ch);
            else
                fputc(ch, f);
        }
    }
    fputc('"', f);
}

static void put_setting(FILE *f, const config_setting_t *s, int depth);

static void put_value(FILE *f, const config_setting_t *s, int depth, bool as_float)
{
    int n = config_setting_length(s);
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
        if (as_float)
            put_float(f, config_setting_get_int(s));
        else
            fprintf(f, "%d", config_setting_get_int(s));
        break;
    case CONFIG_TYPE_INT64:
        if (as_float)
            put_float(f, (double)config_setting_get_int64(s));
        else
            fprintf(f, "%lldL", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT: put_float(f, config_setting_get_float(s)); break;
    case CONFIG_TYPE_BOOL: fputs(config_setting_get_bool(s) ? "true" : "false", f); break;
    case CONFIG_TYPE_STRING: put_string(f, config_setting_get_string(s)); break;
    case CONFIG_TYPE_GROUP:
        fputs("{\n", f);
        for (int i = 0; i < n; i++)
            put_setting(f, config_setting_get_elem(s, (unsigned)i), depth + 1);
        put_indent(f, depth);
        fputc('}', f);
        break;
    case CONFIG_TYPE_ARRAY: {
        /* libconfig arrays are homogeneous: mixed int/float print as floats */
        bool fl = false;
        for (int i = 0; i < n; i++)
            fl |= config_setting_type(config_setting_get_elem(s, (unsigned)i)) ==
                  CONFIG_TYPE_FLOAT;
        fputc('[', f);
        for (int i = 0; i < n; i++) {
            fputs(i ? ", " : " ", f);
            put_value(f, config_setting_get_elem(s, (unsigned)i), depth, fl);
        }
        fputs(" ]", f);
        break;
    }
    case CONFIG_TYPE_LIST:
        fputc('(', f);
        for (int i = 0; i < n; i++) {
            fputs(i ? ",\n" : "\n", f);
            put_indent(f, depth + 1);
            put_value(f, config_setting_get_elem(s, (unsigned)i), depth + 1, false);
        }
        if (n) {
            fputc('\n', f);
            put_indent(f, depth);
        } else {
            fputc(' ', f);
        }
        fputc(')', f);
        break;
    default: break;
    }
}

static void put_setting(FILE *f, const config_setting_t *s, int depth)
{
    put_indent(f, depth);
    fprintf(f, "%s = ", config_setting_name(s));
    put_value(f, s, depth, false);
    fputs(";\n", f);
}

static int write_resolved(ctx *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return oom(c);
    fputs("# snn: resolved parameter set (every default filled in) of ", f);
    for (const char *p = c->spec->source; *p; p++)
        fputc((unsigned char)*p < 0x20 ? '?' : *p, f);
    fputc('\n', f);
    const config_setting_t *root = config_root_setting(&c->cfg);
    for (int i = 0; i < config_setting_length(root); i++)
        put_setting(f, config_setting_get_elem(root, (unsigned)i), 0);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return oom(c);
    }
    c->spec->resolved = buf;
    return SNN_OK;
}

/* ---- command-line overrides ------------------------------------------------- */

static void set_hook_all(config_setting_t *s, void *hook)
{
    config_setting_set_hook(s, hook);
    if (config_setting_is_aggregate(s))
        for (int i = 0; i < config_setting_length(s); i++)
            set_hook_all(config_setting_get_elem(s, (unsigned)i), hook);
}

/*
 * copy_setting: deep-copy src into the aggregate dst as `name` (ignored in
 * lists and arrays), keeping its source file, line and hook.  The file name
 * pointer is borrowed from the config that parsed src, which must outlive
 * the copy.  Returns the copy, or NULL when out of memory.
 */
static config_setting_t *copy_setting(config_setting_t *dst, const char *name,
                                      const config_setting_t *src)
{
    int type = config_setting_type(src);
    config_setting_t *d = config_setting_add(dst, name, type);
    if (!d)
        return NULL;
    int ok = 1;
    switch (type) {
    case CONFIG_TYPE_INT: ok = config_setting_set_int(d, config_setting_get_int(src)); break;
    case CONFIG_TYPE_INT64:
        ok = config_setting_set_int64(d, config_setting_get_int64(src));
        break;
    case CONFIG_TYPE_FLOAT:
        ok = config_setting_set_float(d, config_setting_get_float(src));
        break;
    case CONFIG_TYPE_BOOL: ok = config_setting_set_bool(d, config_setting_get_bool(src)); break;
    case CONFIG_TYPE_STRING:
        ok = config_setting_set_string(d, config_setting_get_string(src));
        break;
    default:
        for (int i = 0; ok && i < config_setting_length(src); i++) {
            const config_setting_t *e = config_setting_get_elem(src, (unsigned)i);
            ok = copy_setting(d, config_setting_name(e), e) != NULL;
        }
    }
    if (!ok)
        return NULL;
    config_setting_set_format(d, config_setting_get_format(src));
    config_setting_set_hook(d, config_setting_get_hook(src));
    d->line = src->line;
    d->file = src->file;
    return d;
}

/*
 * replace_at: put a copy of `val` at position idx of the aggregate `parent`
 * (name `name` in a group), replacing the element there if idx < length,
 * appending otherwise.  libconfig can only append, so the elements after idx
 * are copied aside and re-appended, which keeps the file order (population
 * order is index order).  Returns the new setting or NULL (out of memory).
 */
static config_setting_t *replace_at(config_setting_t *parent, unsigned idx, const char *name,
                                    const config_setting_t *val)
{
    unsigned len = (unsigned)config_setting_length(parent);
    config_t tmp;
    config_init(&tmp);
    config_setting_t *hold = config_setting_add(config_root_setting(&tmp), "hold",
                                                config_setting_type(parent));
    config_setting_t *d = NULL;
    bool ok = hold != NULL;
    for (unsigned k = idx + 1; ok && k < len; k++) {
        const config_setting_t *e = config_setting_get_elem(parent, k);
        ok = copy_setting(hold, config_setting_name(e), e) != NULL;
    }
    if (ok) {
        for (unsigned k = len; k-- > idx;)
            config_setting_remove_elem(parent, k);
        d = copy_setting(parent, name, val);
        for (int k = 0; d && k < config_setting_length(hold); k++) {
            const config_setting_t *e = config_setting_get_elem(hold, (unsigned)k);
            if (!copy_setting(parent, config_setting_name(e), e))
                d = NULL;
        }
    }
    config_destroy(&tmp);
    return d;
}

/* A key libconfig accepts: [A-Za-z*][-A-Za-z0-9_*]*. */
static bool lc_name_ok(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '*'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("-_*", *s)))
            return false;
    return true;
}

/* A value with no libconfig syntax that reads naturally as a string
   (-s output.path=run1.h5, -s populations.exc.model=lif_cond). */
static bool bare_word(const char *v)
{
    if (!(isalpha((unsigned char)v[0]) || v[0] == '_' || v[0] == '/'))
        return false;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
        return false;
    for (const char *p = v; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("_-./+:", *p)))
            return false;
    return true;
}

/* Parse "v = VALUE;" into tmp; *val is its only setting. */
static int parse_override_value(ctx *c, const char *ov, const char *value, config_t *tmp,
                                config_setting_t **val)
{
    size_t n = strlen(value);
    char *text = malloc(n + 16);
    if (!text)
        return oom(c);
    snprintf(text, n + 16, "v = %s;", value);
    int ok = config_read_string(tmp, text);
    if (!ok && bare_word(value)) {
        snprintf(text, n + 16, "v = \"%s\";", value);
        ok = config_read_string(tmp, text);
    }
    free(text);
    if (!ok)
        return snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: cannot read the value "
                           "'%.200s': %s (strings in double quotes, arrays [a, b], groups "
                           "{ key = value; })", ov, value, config_error_text(tmp));
    config_setting_t *root = config_root_setting(tmp);
    if (config_setting_length(root) != 1)
        return snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: the value '%.200s' is "
                           "more than one value", ov, value);
    *val = config_setting_get_elem(root, 0);
    return SNN_OK;
}

/*
 * apply_override: splice "a.b[2].c=VALUE" into the tree: replace the
 * setting at that path or add it to its (existing or created) group.  Every
 * setting it adds carries the override text as hook, so later errors name
 * the override instead of a line.
 */
static int apply_override(ctx *c, const char *ov)
{
    const char *eq = strchr(ov, '=');
    if (!eq || eq == ov)
        return snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: expected KEY=VALUE, e.g. "
                           "-s simulation.dt_ms=0.05", ov);
    size_t klen = (size_t)(eq - ov);
    char *key = malloc(klen + 1);
    if (!key)
        return oom(c);
    memcpy(key, ov, klen);
    key[klen] = '\0';
    config_t tmp;
    config_init(&tmp);
    config_setting_t *val = NULL;
    int rc = parse_override_value(c, ov, eq + 1, &tmp, &val);
    void *hook = (void *)ov;
    config_setting_t *cur = config_root_setting(&c->cfg);
    char *save = NULL;
    bool done = false;
    for (char *comp = strtok_r(key, ".", &save); !rc && comp; comp = strtok_r(NULL, ".", &save)) {
        bool last_comp = save == NULL || *save == '\0';
        char *br = strchr(comp, '[');
        if (br)
            *br = '\0';
        if (comp[0]) {
            if (!config_setting_is_group(cur)) {
                rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: %s is not a group, "
                                 "so it has no key '%s'", ov, pth(c, cur), comp);
                break;
            }
            config_setting_t *next = config_setting_get_member(cur, comp);
            if (last_comp && !br) {
                unsigned idx = next ? (unsigned)config_setting_index(next)
                                    : (unsigned)config_setting_length(cur);
                if (!next && !lc_name_ok(comp)) {
                    rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: '%s' is not a "
                                     "valid key", ov, comp);
                    break;
                }
                config_setting_t *d = replace_at(cur, idx, comp, val);
                if (!d)
                    rc = oom(c);
                else
                    set_hook_all(d, hook);
                done = true;
                break;
            }
            if (!next && br) {
                rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: %s%s%s does not "
                                 "exist, so it cannot be indexed", ov,
                                 config_setting_is_root(cur) ? "" : pth(c, cur),
                                 config_setting_is_root(cur) ? "" : ".", comp);
                break;
            }
            if (!next) {
                if (!lc_name_ok(comp)) {
                    rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: '%s' is not a "
                                     "valid key", ov, comp);
                    break;
                }
                next = config_setting_add(cur, comp, CONFIG_TYPE_GROUP);
                if (!next) {
                    rc = oom(c);
                    break;
                }
                config_setting_set_hook(next, hook);
            }
            cur = next;
        } else if (!br) {
            rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: empty key component",
                             ov);
            break;
        }
        /* indices: [N][M]... */
        for (char *p = br ? br + 1 : NULL; !rc && p;) {
            char *end;
            errno = 0;
            long i = strtol(p, &end, 10);
            if (end == p || *end != ']' || errno || i < 0) {
                rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: bad index '[%s' "
                                 "(expected [N], N >= 0)", ov, p);
                break;
            }
            bool last = last_comp && end[1] == '\0';
            if (end[1] != '\0' && end[1] != '[') {
                rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: unexpected '%s' "
                                 "after an index", ov, end + 1);
                break;
            }
            if (!is_seq(cur) || i >= config_setting_length(cur)) {
                rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: %s has no element "
                                 "%ld", ov, pth(c, cur), i);
                break;
            }
            if (last) {
                if (config_setting_is_array(cur) && !config_setting_is_scalar(val)) {
                    rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: an array holds "
                                     "only numbers, strings or booleans", ov);
                    break;
                }
                config_setting_t *d = replace_at(cur, (unsigned)i, NULL, val);
                if (!d)
                    rc = oom(c);
                else
                    set_hook_all(d, hook);
                done = true;
                cur = NULL;
                break;
            }
            cur = config_setting_get_elem(cur, (unsigned)i);
            p = end[1] == '[' ? end + 2 : NULL;
        }
        if (!cur)
            break;
    }
    if (!rc && !done)
        rc = snn_err_set(c->err, SNN_ECFG, "command line -s %.500s: no key before '='", ov);
    config_destroy(&tmp);
    free(key);
    return rc;
}

/* ---- loading ------------------------------------------------------------- */

static int validate(ctx *c)
{
    snn_spec *sp = c->spec;
    config_setting_t *root = config_root_setting(&c->cfg);
    const char *keys[TOP_N];
    for (size_t i = 0; i < TOP_N; i++)
        keys[i] = top_keys[i].key;
    int rc = check_keys(c, root, keys, TOP_N);
    if (rc)
        return rc;
    config_setting_t *grp[TOP_N];
    for (size_t i = 0; i < TOP_N; i++) {
        grp[i] = config_setting_get_member(root, top_keys[i].key);
        if (grp[i] && top_keys[i].kind == V_GROUP && !config_setting_is_group(grp[i]))
            return fail_type(c, grp[i], "a group { ... }");
    }
    c->has_phases = grp[TOP_PHASES] != NULL;
    c->pixels = readout_input_is(grp[TOP_READOUT], "pixels");
    c->file = readout_input_is(grp[TOP_READOUT], "file");
    if (!grp[TOP_SIM])
        return missing(c, root, top_keys[TOP_SIM].key, "a group with duration_ms");
    if ((rc = ensure_group(c, root, top_keys[TOP_RECORD].key, &grp[TOP_RECORD])) ||
        (rc = ensure_group(c, root, top_keys[TOP_OUTPUT].key, &grp[TOP_OUTPUT])) ||
        (rc = parse_sim(c, grp[TOP_SIM])) ||
        (rc = collect(c, grp[TOP_POPS], grp[TOP_INPUTS])))
        return rc;
    for (size_t i = 0; i < sp->n_pops; i++)
        if ((rc = parse_pop(c, i)))
            return rc;
    for (size_t q = 0; q < c->n_cur; q++)
        if ((rc = parse_current(c, q)))
            return rc;
    config_setting_t *pj = grp[TOP_PROJS];
    size_t npj = pj ? (size_t)config_setting_length(pj) : 0;
    sp->projs = calloc(npj ? npj : 1, sizeof *sp->projs);
    if (!sp->projs)
        return oom(c);
    sp->n_projs = npj;
    for (size_t j = 0; j < npj; j++)
        if ((rc = parse_proj(c, config_setting_get_elem(pj, (unsigned)j), &sp->projs[j])))
            return rc;
    if ((rc = parse_protocol(c, grp[TOP_DATA], grp[TOP_STIM], grp[TOP_PHASES], grp[TOP_EVAL])) ||
        (grp[TOP_READOUT] && (rc = parse_readout(c, grp[TOP_READOUT]))) ||
        (grp[TOP_ROBUST] && (rc = parse_robust(c, grp[TOP_ROBUST]))) ||
        (grp[TOP_GUIDED] && (rc = parse_guided(c, grp[TOP_GUIDED]))) ||
        (rc = parse_record(c, grp[TOP_RECORD])) || (rc = parse_output(c, grp[TOP_OUTPUT])))
        return rc;
    return write_resolved(c);
}

/* Common part of both loaders once c->cfg holds the parsed text. */
static int finish(ctx *c, const char *const *overrides, size_t n_overrides, snn_spec **out)
{
    int rc = SNN_OK;
    c->spec = calloc(1, sizeof *c->spec);
    if (!c->spec)
        rc = oom(c);
    else
        snprintf(c->spec->source, sizeof c->spec->source, "%s", c->name);
    for (size_t i = 0; !rc && i < n_overrides; i++)
        rc = overrides[i] ? apply_override(c, overrides[i]) : SNN_OK;
    if (!rc)
        rc = validate(c);
    free(c->names);
    free(c->pop_set);
    free(c->types);
    free(c->cur_names);
    free(c->cur_set);
    config_destroy(&c->cfg);
    if (rc) {
        snn_spec_free(c->spec);
        return rc;
    }
    *out = c->spec;
    return SNN_OK;
}

/* The text of line `line` (1-based) of `text`, trimmed, into buf. */
static void line_of(const char *text, int line, char *buf, size_t n)
{
    buf[0] = '\0';
    for (int l = 1; text && *text && l < line; text++)
        if (*text == '\n')
            l++;
    if (!text || line < 1)
        return;
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strcspn(text, "\r\n");
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len > 100)
        len = 100;
    snprintf(buf, n, "%.*s", (int)len, text);
}

/* SNN_ECFG for a libconfig read failure; `text` is the file's text when known. */
static int read_error(ctx *c, const char *text)
{
    const char *f = config_error_file(&c->cfg) ? config_error_file(&c->cfg) : c->name;
    const char *what = config_error_text(&c->cfg) ? config_error_text(&c->cfg) : "error";
    int line = config_error_line(&c->cfg);
    char near[128] = "", hint[400] = "";
    if (text && strcmp(f, c->name) == 0)
        line_of(text, line, near, sizeof near);
    if (strstr(what, "include"))
        snprintf(hint, sizeof hint, " (include paths are relative to %.300s)",
                 config_get_include_dir(&c->cfg) ? config_get_include_dir(&c->cfg)
                                                 : "the current directory");
    if (strcmp(what, "syntax error") == 0)
        what = "";
    return snn_err_set(c->err, SNN_ECFG, "%.300s:%d: syntax error%s%.200s%s%.128s%s%s", f, line,
                       what[0] ? ": " : "", what, near[0] ? " in '" : "", near,
                       near[0] ? "'" : "", hint);
}

static char *slurp(const char *path);

/*
 * check_includes: libconfig 1.5 calls exit() when an @include names a
 * directory (its scanner fails on reading it), so every @include line of
 * `text` (and, recursively, of the files it includes) is looked at first:
 * a target that exists but is not a regular file is an SNN_ECFG error at
 * the @include line.  Missing files are left to libconfig, which reports
 * them.  Only the @include directives are inspected (libconfig accepts them
 * only at the start of a line); parsing stays libconfig's.
 */
static int check_includes(ctx *c, const char *text, const char *label, int depth)
{
    int line = 1, rc = SNN_OK;
    for (const char *p = text; p && *p && !rc; line++) {
        const char *q = p + strspn(p, " \t");
        const char *eol = strchr(p, '\n');
        p = eol ? eol + 1 : NULL;
        if (strncmp(q, "@include", 8) != 0)
            continue;
        q += 8;
        q += strspn(q, " \t");
        if (*q != '"')
            continue;
        size_t n = strcspn(q + 1, "\"\\\n");
        if (q[1 + n] != '"')
            continue; /* escapes or no closing quote: libconfig's business */
        char name[1024], path[2048];
        snprintf(name, sizeof name, "%.*s", (int)(n < 1000 ? n : 1000), q + 1);
        if (c->incdir)
            snprintf(path, sizeof path, "%s/%s", c->incdir, name);
        else
            snprintf(path, sizeof path, "%s", name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (!S_ISREG(st.st_mode))
            return snn_err_set(c->err, SNN_ECFG, "%.300s:%d: @include \"%.300s\": %.300s is %s, "
                               "not a parameter file", label, line, name, path,
                               S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        if (depth + 1 >= MAX_INCLUDE_DEPTH)
            continue; /* libconfig reports the nesting */
        char *sub = slurp(path);
        if (sub)
            rc = check_includes(c, sub, path, depth + 1);
        free(sub);
    }
    return rc;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (cap - n < 4096) {
            char *b = realloc(buf, cap = cap ? 2 * cap : 8192);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

int snn_cfg_load(const char *path, const char *const *overrides, size_t n_overrides,
                 snn_spec **out, snn_err *err)
{
    snn_err local;
    if (!err)
        err = &local;
    *out = NULL;
    if (!path || !path[0])
        return snn_err_set(err, SNN_ECFG, "no parameter file given");
    ctx c;
    memset(&c, 0, sizeof c);
    c.name = path;
    c.err = err;
    FILE *f = fopen(path, "r");
    if (!f)
        return snn_err_set(err, SNN_ECFG, "%s: cannot open the parameter file: %s", path,
                           strerror(errno));
    fclose(f);
    /* @include "x.cfg" is relative to the file's directory */
    char *dir = strdup(path);
    if (!dir)
        return snn_err_set(err, SNN_ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        strcpy(dir, ".");
    c.incdir = dir;
    char *text = slurp(path);
    int rc = text ? check_includes(&c, text, path, 0) : SNN_OK;
    free(text);
    if (rc) {
        free(dir);
        return rc;
    }
    config_init(&c.cfg);
    config_set_include_dir(&c.cfg, dir);
    errno = 0;
    if (!config_read_file(&c.cfg, path)) {
        int e = errno;
        if (config_error_type(&c.cfg) == CONFIG_ERR_FILE_IO) {
            config_destroy(&c.cfg);
            free(dir);
            return snn_err_set(err, SNN_ECFG, "%s: cannot read the parameter file: %s", path,
                               e ? strerror(e) : "I/O error");
        }
        text = slurp(path);
        rc = read_error(&c, text);
        free(text);
        config_destroy(&c.cfg);
        free(dir);
        return rc;
    }
    rc = finish(&c, overrides, n_overrides, out);
    free(dir);
    return rc;
}

int snn_cfg_load_string(const char *text, const char *name, const char *const *overrides,
                        size_t n_overrides, snn_spec **out, snn_err *err)
{
    snn_err local;
    if (!err)
        err = &local;
    *out = NULL;
    ctx c;
    memset(&c, 0, sizeof c);
    c.name = name && name[0] ? name : "<string>";
    c.err = err;
    int rc = check_includes(&c, text ? text : "", c.name, 0);
    if (rc)
        return rc;
    config_init(&c.cfg);
    if (!config_read_string(&c.cfg, text ? text : "")) {
        rc = read_error(&c, text);
        config_destroy(&c.cfg);
        return rc;
    }
    return finish(&c, overrides, n_overrides, out);
}

/* ---- help ------------------------------------------------------------------ */

static void help_table(FILE *out, const char *title, const key_desc *t, size_t n)
{
    fprintf(out, "\n%s\n", title);
    for (size_t i = 0; i < n; i++) {
        const key_desc *k = &t[i];
        char def[64], bounds[64];
        if (k->flags & K_REQ)
            snprintf(def, sizeof def, "required");
        else if (k->defstr && strncmp(k->defstr, "required", 8) == 0)
            snprintf(def, sizeof def, "%s", k->defstr);
        else if (k->defstr)
            snprintf(def, sizeof def, "default %s", k->defstr);
        else if (k->flags & K_NODEF)
            snprintf(def, sizeof def, "optional");
        else
            snprintf(def, sizeof def, "default %g", k->def);
        bounds[0] = '\0';
        if (k->kind == V_INT)
            snprintf(bounds, sizeof bounds, "[%.0f, %.0f]", k->lo, k->hi);
        else if (k->kind == V_NUM && !(k->lo == 0 && k->hi == 0))
            snprintf(bounds, sizeof bounds, "%c%g, %g%c", k->flags & K_LO_OPEN ? '(' : '[',
                     k->lo, k->hi, isinf(k->hi) || (k->flags & K_HI_OPEN) ? ')' : ']');
        fprintf(out, "  %-15s %-4s %-26s %-21s %s\n", k->key, k->unit ? k->unit : "", def,
                bounds, k->doc);
    }
}

void snn_cfg_help(FILE *out)
{
    fputs("Parameter files use libconfig syntax: key = value; groups { ... }, arrays [a, b],\n"
          "lists ( ... ), \"strings\", true/false, # comments, @include \"file\" (relative to\n"
          "the file).  Units are fixed per key and shown below (ms, mV, pA, pF, nS, Hz).\n"
          "Model parameters (tau_m, V_th, rate_hz, ...) are keys of a population's group;\n"
          "`snn help model NAME` lists them with units, defaults and bounds.  Likewise a\n"
          "projection's plasticity group takes its rule's parameters: `snn help rule NAME`.\n"
          "Every unknown key is an error.  `snn run FILE -s key.path=value` overrides or\n"
          "adds one value (libconfig syntax; a bare word is taken as a string), e.g.\n"
          "-s simulation.dt_ms=0.05 -s populations.exc.tau_m=15 -s output.path=run2.h5.\n",
          out);
    fputs("\nTop level: only these groups.\n", out);
    for (size_t i = 0; i < TOP_N; i++)
        fprintf(out, "  %-15s %s%s\n", top_keys[i].key, top_keys[i].doc,
                top_keys[i].flags & K_REQ ? " (required)" : "");
    help_table(out, "simulation = { ... }", sim_keys, SIM_N);
    help_table(out, "populations = { NAME = { ... }; ... }   NAME: letters, digits, _ (unique "
               "across populations and inputs)", pop_keys, POP_N);
    fputs("  ...             any parameter of the model: a number (a string for options such "
          "as synapse = \"delta\")\n", out);
    help_table(out, "inputs = { NAME = { model = \"poisson\" | \"spike_times\"; size; params; "
               "}; ... }   spike sources, indexed after the populations", pop_keys, POP_N);
    help_table(out, "  model = \"spike_times\" also takes", spk_keys, SPK_N);
    help_table(out, "inputs = { NAME = { model = \"current\"; ... }; }   current injection: "
               "the pulse form or the step form", cur_keys, CUR_N);
    help_table(out, "projections = { NAME = { ... }; ... }", proj_keys, PJ_N);
    help_table(out, "projections.NAME.plasticity = { ... }   optional: plastic weights (without "
               "it the weights stay fixed)", plast_keys, PL_N);
    fputs("  ...             any parameter of the rule: a number (a string for options such as "
          "pairing = \"nearest\");\n"
          "                  `snn help rule NAME` lists them; unit w is the projection's weight "
          "unit (pA, mV or nS)\n"
          "  rules:         ", out);
    for (size_t i = 0; snn_rule_at(i); i++)
        fprintf(out, " %s", snn_rule_at(i)->name);
    fputs("   (`snn help rules`)\n", out);
    fputs("\nExperiment protocol: with a `phases` list the run is a sequence of phases that "
          "show images\n"
          "of a dataset, one after the other, instead of simulation.duration_ms; `data` and "
          "`stimulus`\n"
          "are then required, `evaluate` is optional; without `phases` none of them may "
          "appear.\n", out);
    help_table(out, "data = { ... }", data_keys, DATA_N);
    fputs("                  default directory: fashion_mnist " FASHION_MNIST_DIR " (Debian's "
          "dataset-fashion-mnist);\n"
          "                  mnist: the environment variable " MNIST_DIR_ENV " (relative: to "
          "the current directory), else an error\n", out);
    help_table(out, "stimulus = { ... }   rate = pixel / 255 * max_rate_hz * intensity during "
               "present_ms, then rest_ms of silence", stim_keys, ST_N);
    help_table(out, "stimulus.boost = { ... }   optional; while `population` fires fewer than "
               "min_spikes spikes, show the image again (after the rest) with intensity + "
               "intensity_step", boost_keys, BO_N);
    help_table(out, "phases = ( { ... }, ... )   in order; one entry per phase", phase_keys,
               PH_N);
    fputs("                  the number of samples is checked against the dataset when it is "
          "loaded\n", out);
    help_table(out, "evaluate = { ... }   optional", eval_keys, EV_N);
    fputs("  Overrides index lists with [N]: -s phases[0].samples=10 (also phases.[0].samples=10)"
          ",\n  -s 'phases[1].features=[\"exc\"]', -s stimulus.boost.max_boosts=5.\n", out);
    help_table(out, "readout = { ... }   optional; trained after the phases on the features of "
               "`train`, tested on `test` (rules/readout.h has the equations)", ro_keys, RO_N);
    help_table(out, "robustness = { ... }   optional; the test phase (or test images) again "
               "under each perturbation, for the vote and the readout", rb_keys, RB_N);
    help_table(out, "guided = { ... }   optional; global-guided Hebbian learning "
               "(sim/ghl_run.h), with a `readout` group", gu_keys, GU_N);
    help_table(out, "record = { ... }", rec_keys, REC_N);
    help_table(out, "record.state = ( { ... }, ... )", rec_state_keys, RS_N);
    help_table(out, "record.weights = ( { ... }, ... )", rec_w_keys, RW_N);
    help_table(out, "output = { ... }", out_keys, OUT_N);
    fputs("\nDistributions (init values, weight; delay_ms takes a number or uniform):\n"
          "  x = 1.5;                                 constant\n"
          "  x = { uniform = [a, b]; };               uniform on [a, b)\n"
          "  x = { normal = [mean, sd]; min = lo; max = hi; };   normal, truncated to "
          "[lo, hi]\n"
          "                                           (min, max optional; must keep >= 0.1%"
          " of the mass)\n"
          "  x = [v0, v1, ...];                       init only: one value per neuron\n"
          "Integers above 2147483647 need the suffix L (libconfig), e.g. seed = "
          "5000000000L;\n",
          out);
}
