/*
 * rules/readout_io.c: the readout learner's configuration (defaults,
 * validation, choice names), its HDF5 output and its checkpoint blob.
 *
 * HDF5 layout (read by `snn analyze` / `snn plot`; keep the names):
 *   /readout            attrs: every configuration value (units in the key
 *                       name: dt_ms, tau_mem_ms, tau_syn_ms, max_rate_hz),
 *                       n_in, n_classes, layers ("784,400,10"), epochs_done
 *   /readout/curves/{loss, train_accuracy, test_accuracy, learning_rate,
 *                    epoch_time_s}          float64 [E]
 *   /readout/weights/W<l>                   float64 [E, n_in_l, n_out_l]
 *   /readout/alignment/W<l>                 float64 [U]
 *   /readout/alignment/step                 uint64 [U] (optimiser step, 1-based)
 *   /readout/results    attrs accuracy, n_test; confusion uint64 [C, C]
 *                       (row = true label), predictions uint64 [n_test]
 *
 * Checkpoint blob (little-endian host layout, version 1): magic, version,
 * shape (layers, dims, n_par, epochs, seed, steps, batch, flags: record
 * weights / alignment, bias, optimizer), counters, parameters, optimiser
 * state (Adam moments; SGD: momentum buffer and an unused zero array),
 * normalisation, the update-noise stream's raw GSL state, curves, weight
 * history, alignment record, and a trailing FNV-1a 64 checksum of
 * everything before it.
 */
#include "readout_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ----------------------------------------------------- */

void snn_readout_cfg_default(snn_readout_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->seed = 1;
    c->norm = SNN_RO_NORM_NONE;
    c->encode = SNN_RO_ENC_CURRENT;
    c->steps = 25;
    c->dt_ms = 1.0;
    c->input_gain = 1.0;
    c->max_rate_hz = 100.0;
    c->n_hidden = 0;
    c->tau_mem_ms = 10.0;
    c->tau_syn_ms = 0.0;
    c->threshold = 1.0;
    c->reset = SNN_RO_RESET_SUBTRACT;
    c->detach_reset = 1;
    c->decode = SNN_RO_DEC_COUNT;
    c->bias = 1;
    c->surrogate = SNN_RO_SG_FAST_SIGMOID;
    c->sg_slope = 10.0;
    c->smooth = 0;
    c->init_gain = 1.0;
    c->lr = 1e-3;
    c->adam_beta1 = 0.9;
    c->adam_beta2 = 0.999;
    c->adam_eps = 1e-8;
    c->optimizer = SNN_RO_OPT_ADAM;
    c->momentum = 0.0;
    c->weight_decay = 0.0;
    c->batch = 128;
    c->epochs = 10;
    c->shuffle = 1;
    c->lr_schedule = SNN_RO_LR_CONSTANT;
    c->lr_step_epochs = 10;
    c->lr_gamma = 0.5;
    c->lr_min = 0.0;
    c->update_noise = 0.0;
    c->dropout_input = 0.0;
    c->dropout_hidden = 0.0;
    c->rule = SNN_RO_RULE_BACKPROP;
    c->record_alignment = 0;
    c->record_weights = 0;
    c->chunk = 16;
    c->sparse_density = 0.125;
}

typedef struct choice {
    const char *key;
    const char *const *names;
    int n;
} choice;

static const char *const norm_names[] = {"none", "max", "zscore"};
static const char *const enc_names[] = {"current", "poisson"};
static const char *const dec_names[] = {"count", "max_mem"};
static const char *const sg_names[] = {"fast_sigmoid", "arctan", "sigmoid"};
static const char *const reset_names[] = {"subtract", "zero"};
static const char *const lr_names[] = {"constant", "step", "cosine"};
static const char *const rule_names[] = {"backprop", "random"};
static const char *const opt_names[] = {"adam", "sgd"};

static const choice choices[] = {
    {"norm", norm_names, 3},       {"encode", enc_names, 2}, {"decode", dec_names, 2},
    {"surrogate", sg_names, 3},    {"reset", reset_names, 2},
    {"lr_schedule", lr_names, 3},  {"rule", rule_names, 2},
    {"optimizer", opt_names, 2},
};

static const choice *find_choice(const char *key)
{
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++)
        if (strcmp(choices[i].key, key) == 0)
            return &choices[i];
    return NULL;
}

const char *snn_readout_choice_name(const char *key, int value)
{
    const choice *c = find_choice(key);
    if (!c || value < 0 || value >= c->n)
        return "?";
    return c->names[value];
}

int snn_readout_choice(const char *key, const char *name, int *value, snn_err *err)
{
    const choice *c = find_choice(key);
    if (!c)
        SNN_FAIL(err, SNN_EINTERNAL, "readout: no choice key '%s'", key);
    char list[256] = "";
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->names[i], name) == 0) {
            *value = i;
            return SNN_OK;
        }
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s\"%s\"", i ? ", " : "", c->names[i]);
    }
    SNN_FAIL(err, SNN_ECFG, "readout.%s = \"%s\" is not one of %s", key, name, list);
}

#define CHECK(cond, ...)                         \
    do {                                         \
        if (!(cond))                             \
            SNN_FAIL(err, SNN_ECFG, __VA_ARGS__); \
    } while (0)

static int check_choice(const char *key, int v, snn_err *err)
{
    const choice *c = find_choice(key);
    CHECK(v >= 0 && v < c->n, "readout.%s = %d is not a valid choice (0..%d)", key, v, c->n - 1);
    return SNN_OK;
}

int snn_readout_cfg_check(const snn_readout_cfg *c, snn_err *err)
{
    int rc;
    if ((rc = check_choice("norm", c->norm, err)) || (rc = check_choice("encode", c->encode, err)) ||
        (rc = check_choice("decode", c->decode, err)) ||
        (rc = check_choice("surrogate", c->surrogate, err)) ||
        (rc = check_choice("reset", c->reset, err)) ||
        (rc = check_choice("lr_schedule", c->lr_schedule, err)) ||
        (rc = check_choice("rule", c->rule, err)))
        return rc;
    CHECK(c->steps >= 1 && c->steps <= 100000, "readout.steps = %u is outside [1, 100000]",
          c->steps);
    CHECK(c->dt_ms > 0 && isfinite(c->dt_ms), "readout.dt_ms = %g ms must be > 0", c->dt_ms);
    CHECK(isfinite(c->input_gain), "readout.input_gain = %g must be finite", c->input_gain);
    CHECK(c->max_rate_hz >= 0 && isfinite(c->max_rate_hz),
          "readout.max_rate_hz = %g Hz must be >= 0", c->max_rate_hz);
    CHECK(c->n_hidden <= SNN_READOUT_MAX_HIDDEN, "readout.n_hidden = %u is outside [0, %d]",
          c->n_hidden, SNN_READOUT_MAX_HIDDEN);
    for (unsigned l = 0; l < c->n_hidden; l++)
        CHECK(c->hidden[l] >= 1 && c->hidden[l] <= 1000000,
              "readout.hidden[%u] = %u neurons is outside [1, 1000000]", l, c->hidden[l]);
    CHECK(c->tau_mem_ms > 0 && isfinite(c->tau_mem_ms), "readout.tau_mem_ms = %g ms must be > 0",
          c->tau_mem_ms);
    CHECK(c->tau_syn_ms >= 0 && isfinite(c->tau_syn_ms),
          "readout.tau_syn_ms = %g ms must be >= 0 (0 = no synaptic current)", c->tau_syn_ms);
    CHECK(c->threshold > 0 && isfinite(c->threshold), "readout.threshold = %g must be > 0",
          c->threshold);
    CHECK(c->sg_slope > 0 && isfinite(c->sg_slope), "readout.sg_slope = %g must be > 0",
          c->sg_slope);
    CHECK(c->init_gain >= 0 && isfinite(c->init_gain), "readout.init_gain = %g must be >= 0",
          c->init_gain);
    CHECK(c->lr >= 0 && isfinite(c->lr), "readout.lr = %g must be >= 0", c->lr);
    CHECK(c->adam_beta1 >= 0 && c->adam_beta1 < 1, "readout.adam_beta1 = %g is outside [0, 1)",
          c->adam_beta1);
    CHECK(c->adam_beta2 >= 0 && c->adam_beta2 < 1, "readout.adam_beta2 = %g is outside [0, 1)",
          c->adam_beta2);
    CHECK(c->adam_eps > 0 && isfinite(c->adam_eps), "readout.adam_eps = %g must be > 0",
          c->adam_eps);
    CHECK(c->optimizer == SNN_RO_OPT_ADAM || c->optimizer == SNN_RO_OPT_SGD,
          "readout.optimizer = %d is not \"adam\" or \"sgd\"", c->optimizer);
    CHECK(c->momentum >= 0 && c->momentum < 1, "readout.momentum = %g is outside [0, 1)",
          c->momentum);
    CHECK(c->weight_decay >= 0 && isfinite(c->weight_decay),
          "readout.weight_decay = %g must be >= 0", c->weight_decay);
    CHECK(c->batch >= 1, "readout.batch = %u must be >= 1", c->batch);
    CHECK(c->epochs >= 1 && c->epochs <= 1000000, "readout.epochs = %u is outside [1, 1000000]",
          c->epochs);
    CHECK(c->lr_step_epochs >= 1, "readout.lr_step_epochs = %u must be >= 1", c->lr_step_epochs);
    CHECK(c->lr_gamma > 0 && isfinite(c->lr_gamma), "readout.lr_gamma = %g must be > 0",
          c->lr_gamma);
    CHECK(c->lr_min >= 0 && c->lr_min <= c->lr, "readout.lr_min = %g is outside [0, lr = %g]",
          c->lr_min, c->lr);
    CHECK(c->update_noise >= 0 && isfinite(c->update_noise),
          "readout.update_noise = %g must be >= 0", c->update_noise);
    CHECK(c->dropout_input >= 0 && c->dropout_input < 1,
          "readout.dropout_input = %g is outside [0, 1)", c->dropout_input);
    CHECK(c->dropout_hidden >= 0 && c->dropout_hidden < 1,
          "readout.dropout_hidden = %g is outside [0, 1)", c->dropout_hidden);
    CHECK(c->chunk >= 1 && c->chunk <= 4096, "readout.chunk = %u samples is outside [1, 4096]",
          c->chunk);
    CHECK(c->sparse_density >= 0 && c->sparse_density <= 1,
          "readout.sparse_density = %g is outside [0, 1]", c->sparse_density);
    CHECK(c->steps * (double)c->chunk <= 2147483647.0,
          "readout.steps x readout.chunk = %u x %u is too large", c->steps, c->chunk);
    return SNN_OK;
}

/* ---- HDF5 -------------------------------------------------------------- */

int snn_readout_write_h5(const snn_readout *r, snn_h5 *h, snn_err *err)
{
    const snn_readout_cfg *c = &r->cfg;
    const char *g = "/readout";
    size_t L = r->n_layers, E = r->epoch, C = r->dim[L];
    int rc = SNN_OK;
    char layers[256] = "";
    for (size_t l = 0; l <= L; l++) {
        size_t used = strlen(layers);
        snprintf(layers + used, sizeof layers - used, "%s%zu", l ? "," : "", r->dim[l]);
    }
    struct { const char *k; double v; } dbl[] = {
        {"dt_ms", c->dt_ms},           {"input_gain", c->input_gain},
        {"max_rate_hz", c->max_rate_hz}, {"tau_mem_ms", c->tau_mem_ms},
        {"tau_syn_ms", c->tau_syn_ms}, {"threshold", c->threshold},
        {"sg_slope", c->sg_slope},     {"init_gain", c->init_gain},
        {"lr", c->lr},                 {"adam_beta1", c->adam_beta1},
        {"adam_beta2", c->adam_beta2}, {"adam_eps", c->adam_eps},
        {"weight_decay", c->weight_decay}, {"lr_gamma", c->lr_gamma},
        {"lr_min", c->lr_min},         {"update_noise", c->update_noise},
        {"sparse_density", c->sparse_density}, {"momentum", c->momentum},
        {"dropout_input", c->dropout_input}, {"dropout_hidden", c->dropout_hidden},
    };
    struct { const char *k; uint64_t v; } u64[] = {
        {"seed", c->seed},           {"steps", c->steps},
        {"n_hidden", c->n_hidden},   {"detach_reset", (uint64_t)c->detach_reset},
        {"bias", (uint64_t)c->bias}, {"smooth", (uint64_t)c->smooth},
        {"batch", c->batch},         {"epochs", c->epochs},
        {"shuffle", (uint64_t)c->shuffle}, {"lr_step_epochs", c->lr_step_epochs},
        {"record_alignment", (uint64_t)c->record_alignment},
        {"record_weights", (uint64_t)c->record_weights}, {"chunk", c->chunk},
        {"n_in", r->dim[0]},         {"n_classes", C},
        {"epochs_done", E},
    };
    struct { const char *k; int v; } str[] = {
        {"norm", c->norm},       {"encode", c->encode},           {"decode", c->decode},
        {"surrogate", c->surrogate}, {"reset", c->reset},
        {"lr_schedule", c->lr_schedule}, {"rule", c->rule},
        {"optimizer", c->optimizer},
    };
    for (size_t i = 0; !rc && i < sizeof dbl / sizeof dbl[0]; i++)
        rc = snn_h5_attr_double(h, g, dbl[i].k, dbl[i].v, err);
    for (size_t i = 0; !rc && i < sizeof u64 / sizeof u64[0]; i++)
        rc = snn_h5_attr_u64(h, g, u64[i].k, u64[i].v, err);
    for (size_t i = 0; !rc && i < sizeof str / sizeof str[0]; i++)
        rc = snn_h5_attr_str(h, g, str[i].k, snn_readout_choice_name(str[i].k, str[i].v), err);
    if (!rc)
        rc = snn_h5_attr_str(h, g, "layers", layers, err);
    for (unsigned l = 0; !rc && l < c->n_hidden; l++) {
        char k[32];
        snprintf(k, sizeof k, "hidden_%u", l);
        rc = snn_h5_attr_u64(h, g, k, c->hidden[l], err);
    }
    if (!rc)
        rc = snn_h5_write_f64(h, "/readout/curves/loss", r->c_loss, E, "1", err);
    if (!rc)
        rc = snn_h5_write_f64(h, "/readout/curves/train_accuracy", r->c_train, E, "1", err);
    if (!rc)
        rc = snn_h5_write_f64(h, "/readout/curves/test_accuracy", r->c_test, E, "1", err);
    if (!rc)
        rc = snn_h5_write_f64(h, "/readout/curves/learning_rate", r->c_lr, E, "1", err);
    if (!rc)
        rc = snn_h5_write_f64(h, "/readout/curves/epoch_time_s", r->c_time, E, "s", err);
    char p[64];
    for (size_t l = 0; !rc && c->record_weights && l < L; l++) {
        snprintf(p, sizeof p, "/readout/weights/W%zu", l);
        rc = snn_h5_write_f64_3d(h, p, r->whist[l], E, r->dim[l], r->dim[l + 1], "1", err);
    }
    if (!rc && c->record_alignment) {
        double *col = malloc((r->n_al ? r->n_al : 1) * sizeof(double));
        if (!col)
            SNN_FAIL(err, SNN_ENOMEM, "readout: out of memory");
        for (size_t l = 0; !rc && l < L; l++) {
            for (size_t u = 0; u < r->n_al; u++)
                col[u] = r->al_cos[u * L + l];
            snprintf(p, sizeof p, "/readout/alignment/W%zu", l);
            rc = snn_h5_write_f64(h, p, col, r->n_al, "1", err);
        }
        free(col);
        if (!rc)
            rc = snn_h5_write_u64(h, "/readout/alignment/step", r->al_step, r->n_al, err);
    }
    if (!rc && r->have_eval) {
        rc = snn_h5_attr_double(h, "/readout/results", "accuracy", r->eval_acc, err);
        if (!rc)
            rc = snn_h5_attr_u64(h, "/readout/results", "n_test", r->n_eval, err);
        if (!rc)
            rc = snn_h5_write_u64_2d(h, "/readout/results/confusion", r->eval_conf, C, C, err);
        if (!rc)
            rc = snn_h5_write_u64(h, "/readout/results/predictions", r->eval_pred, r->n_eval,
                                  err);
    }
    return rc;
}

/* ---- checkpoint blob --------------------------------------------------- */

enum { BLOB_VERSION = 1 };
static const char BLOB_MAGIC[8] = {'S', 'N', 'N', 'R', 'D', 'O', 'U', 'T'};

typedef struct cursor {
    unsigned char *w;       /* writing, or NULL */
    const unsigned char *r; /* reading, or NULL */
    size_t off, len;
    int short_read;
} cursor;

static void put(cursor *c, const void *p, size_t n)
{
    if (c->w && c->off + n <= c->len)
        memcpy(c->w + c->off, p, n);
    c->off += n;
}

static void get(cursor *c, void *p, size_t n)
{
    if (c->off + n > c->len) {
        c->short_read = 1;
        c->off = c->len;
        return;
    }
    memcpy(p, c->r + c->off, n);
    c->off += n;
}

static void put_u64(cursor *c, uint64_t v)
{
    put(c, &v, sizeof v);
}

static uint64_t get_u64(cursor *c)
{
    uint64_t v = 0;
    get(c, &v, sizeof v);
    return v;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The shape words that a blob must match: layers, dims, n_par, and the
   configuration values that size or key the state. */
static size_t shape_words(const snn_readout *r, uint64_t *w)
{
    const snn_readout_cfg *c = &r->cfg;
    size_t k = 0;
    w[k++] = r->n_layers;
    for (size_t l = 0; l <= r->n_layers; l++)
        w[k++] = r->dim[l];
    w[k++] = r->n_par;
    w[k++] = c->epochs;
    w[k++] = c->seed;
    w[k++] = c->steps;
    w[k++] = c->batch;
    w[k++] = (uint64_t)c->record_weights | (uint64_t)c->record_alignment << 1 |
             (uint64_t)c->bias << 2 | (uint64_t)c->optimizer << 3;
    return k;
}

/* Walk the whole state (save when c->w is set, size when neither). */
static void walk_save(const snn_readout *r, cursor *c)
{
    uint64_t sw[RO_MAXL + 16];
    size_t ns = shape_words(r, sw);
    size_t E = r->cfg.epochs, L = r->n_layers;
    put(c, BLOB_MAGIC, sizeof BLOB_MAGIC);
    put_u64(c, BLOB_VERSION);
    put_u64(c, ns);
    put(c, sw, ns * sizeof(uint64_t));
    put_u64(c, r->epoch);
    put_u64(c, r->step);
    put_u64(c, (uint64_t)r->norm_fitted);
    put_u64(c, r->n_al);
    put(c, r->par, r->n_par * sizeof(double));
    put(c, r->m, r->n_par * sizeof(double));
    put(c, r->v, r->n_par * sizeof(double));
    put(c, r->shift, r->dim[0] * sizeof(double));
    put(c, r->scale, r->dim[0] * sizeof(double));
    put_u64(c, gsl_rng_size(r->noise));
    put(c, gsl_rng_state(r->noise), gsl_rng_size(r->noise));
    put(c, r->c_loss, E * sizeof(double));
    put(c, r->c_train, E * sizeof(double));
    put(c, r->c_test, E * sizeof(double));
    put(c, r->c_lr, E * sizeof(double));
    put(c, r->c_time, E * sizeof(double));
    if (r->cfg.record_weights)
        for (size_t l = 0; l < L; l++)
            put(c, r->whist[l], E * r->dim[l] * r->dim[l + 1] * sizeof(double));
    if (r->cfg.record_alignment && r->n_al) {
        put(c, r->al_cos, r->n_al * L * sizeof(double));
        put(c, r->al_step, r->n_al * sizeof(uint64_t));
    }
}

size_t snn_readout_blob_size(const snn_readout *r)
{
    cursor c = {0};
    walk_save(r, &c);
    return c.off + sizeof(uint64_t); /* + checksum */
}

int snn_readout_save(const snn_readout *r, void *buf, size_t len, snn_err *err)
{
    size_t need = snn_readout_blob_size(r);
    if (len < need)
        SNN_FAIL(err, SNN_EINTERNAL, "readout checkpoint: buffer of %zu bytes, need %zu", len,
                 need);
    cursor c = {.w = buf, .len = len};
    walk_save(r, &c);
    uint64_t h = fnv1a(buf, c.off);
    put_u64(&c, h);
    return SNN_OK;
}

int snn_readout_load(snn_readout *r, const void *buf, size_t len, snn_err *err)
{
    const unsigned char *p = buf;
    if (!buf || len < sizeof BLOB_MAGIC + 3 * sizeof(uint64_t))
        SNN_FAIL(err, SNN_ECFG, "readout checkpoint: %zu bytes is too short", buf ? len : 0);
    if (memcmp(p, BLOB_MAGIC, sizeof BLOB_MAGIC) != 0)
        SNN_FAIL(err, SNN_ECFG, "readout checkpoint: not a readout checkpoint (bad magic)");
    uint64_t h;
    memcpy(&h, p + len - sizeof h, sizeof h);
    if (fnv1a(p, len - sizeof h) != h)
        SNN_FAIL(err, SNN_ECFG, "readout checkpoint: checksum mismatch (corrupt or truncated, "
                 "%zu bytes)", len);
    cursor c = {.r = p, .len = len - sizeof h, .off = sizeof BLOB_MAGIC};
    uint64_t ver = get_u64(&c);
    if (ver != BLOB_VERSION)
        SNN_FAIL(err, SNN_ECFG, "readout checkpoint: version %llu, this build reads %d",
                 (unsigned long long)ver, BLOB_VERSION);
    uint64_t want[RO_MAXL + 16], got[RO_MAXL + 16];
    size_t ns = shape_words(r, want);
    if (get_u64(&c) != ns)
        SNN_FAIL(err, SNN_ECFG, "readout checkpoint: saved from a learner of another shape");
    get(&c, got, ns * sizeof(uint64_t));
    if (c.short_read || memcmp(want, got, ns * sizeof(uint64_t)) != 0)
        SNN_FAIL(err, SNN_ECFG, "readout checkpoint: saved from a learner of another shape or "
                 "configuration (layers, seed, steps, batch, epochs, recording flags)");
    uint64_t epoch = get_u64(&c), step = get_u64(&c), fitted = get_u64(&c), n_al = get_u64(&c);
    if (c.short_read || epoch > r->cfg.epochs)
        SNN_FAIL(err, SNN_ECFG, "readout checkpoint: bad epoch count %llu",
                 (unsigned long long)epoch);
    /* Check the total size before touching the learner. */
    snn_readout probe = *r;
    probe.n_al = (size_t)n_al;
    size_t expect = snn_readout_blob_size(&probe);
    if (expect != len)
        SNN_FAIL(err, SNN_ECFG, "readout checkpoint: %zu bytes, expected %zu", len, expect);
    int rc;
    if (r->cfg.record_alignment && (rc = ro_reserve_alignment(r, (size_t)n_al, err)))
        return rc;
    size_t E = r->cfg.epochs, L = r->n_layers;
    get(&c, r->par, r->n_par * sizeof(double));
    get(&c, r->m, r->n_par * sizeof(double));
    get(&c, r->v, r->n_par * sizeof(double));
    get(&c, r->shift, r->dim[0] * sizeof(double));
    get(&c, r->scale, r->dim[0] * sizeof(double));
    if (get_u64(&c) != gsl_rng_size(r->noise))
        SNN_FAIL(err, SNN_ECFG, "readout checkpoint: random stream of another type");
    get(&c, gsl_rng_state(r->noise), gsl_rng_size(r->noise));
    get(&c, r->c_loss, E * sizeof(double));
    get(&c, r->c_train, E * sizeof(double));
    get(&c, r->c_test, E * sizeof(double));
    get(&c, r->c_lr, E * sizeof(double));
    get(&c, r->c_time, E * sizeof(double));
    if (r->cfg.record_weights)
        for (size_t l = 0; l < L; l++)
            get(&c, r->whist[l], E * r->dim[l] * r->dim[l + 1] * sizeof(double));
    if (r->cfg.record_alignment && n_al) {
        get(&c, r->al_cos, n_al * L * sizeof(double));
        get(&c, r->al_step, n_al * sizeof(uint64_t));
    }
    if (c.short_read)
        SNN_FAIL(err, SNN_EINTERNAL, "readout checkpoint: short read after the size check");
    r->epoch = (unsigned)epoch;
    r->step = step;
    r->norm_fitted = (int)fitted;
    r->n_al = r->cfg.record_alignment ? (size_t)n_al : 0;
    return SNN_OK;
}
