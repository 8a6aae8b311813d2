/*
 * rules/readout.c: the surrogate-gradient readout learner (rules/readout.h):
 * construction, normalisation, mini-batches and epochs, Adam / SGD, evaluation.
 * One chunk's forward and backward pass lives in rules/readout_bptt.c; the
 * configuration, HDF5 output and checkpoints in rules/readout_io.c.
 *
 * Determinism: a mini-batch is cut into chunks of cfg.chunk samples; every
 * chunk owns its workspace and gradient (ro_slot), so which thread runs it
 * does not matter, OpenBLAS runs single-threaded inside our parallel
 * region, and chunk gradients are summed in chunk order.  Nothing is
 * allocated inside the mini-batch loop.
 */
#include "readout_impl.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>

#include "../sim/rng.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- optimiser ---------------------------------------------------------- */

void snn_readout_adam(double *p, double *m, double *v, const double *g, size_t n, uint64_t t,
                      double lr, double beta1, double beta2, double eps, double weight_decay)
{
    double c1 = 1.0 / (1.0 - pow(beta1, (double)t));
    double c2 = 1.0 / (1.0 - pow(beta2, (double)t));
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        double mi = beta1 * m[i] + (1.0 - beta1) * g[i];
        double vi = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * (mi * c1 / (sqrt(vi * c2) + eps) + weight_decay * p[i]);
    }
}

void snn_readout_sgd(double *p, double *buf, const double *g, size_t n, double lr,
                     double momentum, double weight_decay)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        double b = momentum * buf[i] + (g[i] + weight_decay * p[i]);
        buf[i] = b;
        p[i] -= lr * b;
    }
}

/* One optimiser step on the n parameters at offset o (decay 0 for biases). */
static void step_params(snn_readout *r, size_t o, size_t n, double lr, double decay)
{
    const snn_readout_cfg *c = &r->cfg;
    if (c->optimizer == SNN_RO_OPT_SGD)
        snn_readout_sgd(r->par + o, r->m + o, r->grad + o, n, lr, c->momentum, decay);
    else
        snn_readout_adam(r->par + o, r->m + o, r->v + o, r->grad + o, n, r->step, lr,
                         c->adam_beta1, c->adam_beta2, c->adam_eps, decay);
}

/* ---- learner construction ---------------------------------------------- */

static void *zalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

static void slot_free(ro_slot *s, size_t n_layers)
{
    gsl_rng_free(s->rng);
    free(s->xn);
    free(s->x0);
    for (size_t l = 0; l < n_layers; l++) {
        free(s->lw[l].cur);
        free(s->lw[l].u);
        free(s->lw[l].s);
        free(s->lw[l].gs);
    }
    free(s->st_a);
    free(s->st_b);
    free(s->gsum);
    free(s->gx);
    free(s->z);
    free(s->gz);
    free(s->grad);
    free(s->hebb);
    free(s->rate_in);
    free(s->rate_out);
    free(s->pred);
    for (size_t l = 0; l < n_layers; l++) {
        free(s->act[l]);
        free(s->act_row[l]);
        free(s->mask[l]);
        free(s->ds[l]);
    }
}

static int slot_alloc(const snn_readout *r, ro_slot *s)
{
    size_t C = r->cfg.chunk, T = r->cfg.steps, L = r->n_layers;
    int cur = r->cfg.encode == SNN_RO_ENC_CURRENT;
    s->rng = gsl_rng_alloc(gsl_rng_mt19937);
    s->xn = zalloc(C * r->dim[0], sizeof(double));
    s->x0 = zalloc((cur ? 1 : T) * C * r->dim[0], sizeof(double));
    int ok = s->rng && s->xn && s->x0;
    for (size_t l = 0; l < L; l++) {
        size_t k = T * C * r->dim[l + 1];
        s->lw[l].cur = zalloc(k, sizeof(double));
        s->lw[l].u = zalloc(k, sizeof(double));
        s->lw[l].s = zalloc(k, sizeof(double));
        s->lw[l].gs = zalloc(k, sizeof(double));
        ok = ok && s->lw[l].cur && s->lw[l].u && s->lw[l].s && s->lw[l].gs;
    }
    s->st_a = zalloc(C * r->max_dim, sizeof(double));
    s->st_b = zalloc(C * r->max_dim, sizeof(double));
    s->gsum = zalloc(C * r->dim[1], sizeof(double));
    s->gx = zalloc(C * r->dim[0], sizeof(double));
    s->z = zalloc(C * r->dim[L], sizeof(double));
    s->gz = zalloc(C * r->dim[L], sizeof(double));
    s->grad = zalloc(r->n_par, sizeof(double));
    s->pred = zalloc(C, sizeof(uint64_t));
    for (size_t l = 0; l < L && r->cfg.sparse_density > 0; l++)
        if (l > 0 || !cur) {
            s->act[l] = zalloc(T * C * r->dim[l], sizeof(uint32_t));
            s->act_row[l] = zalloc(T * C + 1, sizeof(size_t));
            ok = ok && s->act[l] && s->act_row[l];
        }
    ok = ok && s->st_a && s->st_b && s->gsum && s->gx && s->z && s->gz && s->grad && s->pred;
    for (size_t l = 0; l < L; l++)
        if (l == 0 ? r->cfg.dropout_input > 0 : r->cfg.dropout_hidden > 0) {
            s->mask[l] = zalloc(C * r->dim[l], sizeof(double));
            ok = ok && s->mask[l];
            if (l > 0) {
                s->ds[l] = zalloc(T * C * r->dim[l], sizeof(double));
                ok = ok && s->ds[l];
            }
        }
    if (r->cfg.record_alignment) {
        s->hebb = zalloc(r->n_par, sizeof(double));
        s->rate_in = zalloc(C * r->max_dim, sizeof(double));
        s->rate_out = zalloc(C * r->max_dim, sizeof(double));
        ok = ok && s->hebb && s->rate_in && s->rate_out;
    }
    return ok;
}

void snn_readout_free(snn_readout *r)
{
    if (!r)
        return;
    if (r->slot)
        for (size_t i = 0; i < r->n_slots; i++)
            slot_free(&r->slot[i], r->n_layers);
    free(r->slot);
    free(r->par);
    free(r->m);
    free(r->v);
    free(r->grad);
    free(r->prev);
    for (size_t l = 0; l < RO_MAXL; l++) {
        free(r->fb[l]);
        free(r->whist[l]);
    }
    free(r->shift);
    free(r->scale);
    gsl_rng_free(r->noise);
    gsl_rng_free(r->aux);
    free(r->perm);
    free(r->c_loss);
    free(r->c_train);
    free(r->c_test);
    free(r->c_lr);
    free(r->c_time);
    free(r->al_cos);
    free(r->al_step);
    free(r->eval_conf);
    free(r->eval_pred);
    free(r);
}

int snn_readout_create(snn_readout **out, const snn_readout_cfg *cfg, size_t n_in,
                       size_t n_classes, snn_err *err)
{
    *out = NULL;
    int rc = snn_readout_cfg_check(cfg, err);
    if (rc)
        return rc;
    if (n_in == 0 || n_classes < 2 || n_classes > 256)
        SNN_FAIL(err, SNN_ECFG, "readout: need n_in >= 1 (got %zu) and 2 <= n_classes <= 256 "
                 "(got %zu)", n_in, n_classes);
    snn_readout *r = calloc(1, sizeof *r);
    if (!r)
        SNN_FAIL(err, SNN_ENOMEM, "readout: out of memory");
    r->cfg = *cfg;
    const snn_readout_cfg *c = &r->cfg;
    size_t L = c->n_hidden + 1;
    r->n_layers = L;
    r->dim[0] = n_in;
    for (size_t l = 0; l < c->n_hidden; l++)
        r->dim[l + 1] = c->hidden[l];
    r->dim[L] = n_classes;
    r->max_dim = 0;
    for (size_t l = 0; l <= L; l++)
        if (r->dim[l] > r->max_dim)
            r->max_dim = r->dim[l];
    size_t off = 0;
    for (size_t l = 0; l < L; l++) {
        r->w_off[l] = off;
        off += r->dim[l] * r->dim[l + 1];
        r->b_off[l] = c->bias ? off : SIZE_MAX;
        if (c->bias)
            off += r->dim[l + 1];
    }
    r->n_par = off;
    r->beta = exp(-c->dt_ms / c->tau_mem_ms);
    r->alpha = c->tau_syn_ms > 0 ? exp(-c->dt_ms / c->tau_syn_ms) : 0.0;
    r->p_scale = c->max_rate_hz * c->dt_ms * 1e-3; /* Hz · ms -> probability per step */

    r->par = zalloc(r->n_par, sizeof(double));
    r->m = zalloc(r->n_par, sizeof(double));
    r->v = zalloc(r->n_par, sizeof(double));
    r->grad = zalloc(r->n_par, sizeof(double));
    r->prev = zalloc(r->n_par, sizeof(double));
    r->shift = zalloc(n_in, sizeof(double));
    r->scale = zalloc(n_in, sizeof(double));
    r->noise = gsl_rng_alloc(gsl_rng_mt19937);
    r->aux = gsl_rng_alloc(gsl_rng_mt19937);
    r->c_loss = zalloc(c->epochs, sizeof(double));
    r->c_train = zalloc(c->epochs, sizeof(double));
    r->c_test = zalloc(c->epochs, sizeof(double));
    r->c_lr = zalloc(c->epochs, sizeof(double));
    r->c_time = zalloc(c->epochs, sizeof(double));
    r->eval_conf = zalloc(n_classes * n_classes, sizeof(uint64_t));
    int ok = r->par && r->m && r->v && r->grad && r->prev && r->shift && r->scale && r->noise &&
             r->aux && r->c_loss && r->c_train && r->c_test && r->c_lr && r->c_time &&
             r->eval_conf;
    for (size_t l = 0; ok && l < L; l++) {
        if (c->record_weights) {
            r->whist[l] = zalloc((size_t)c->epochs * r->dim[l] * r->dim[l + 1], sizeof(double));
            ok = r->whist[l] != NULL;
        }
        if (ok && c->rule == SNN_RO_RULE_RANDOM && l + 1 < L) {
            r->fb[l] = zalloc(n_classes * r->dim[l + 1], sizeof(double));
            ok = r->fb[l] != NULL;
        }
    }
    r->n_slots = (c->batch + c->chunk - 1) / c->chunk;
    r->slot = ok ? calloc(r->n_slots, sizeof *r->slot) : NULL;
    ok = ok && r->slot;
    for (size_t i = 0; ok && i < r->n_slots; i++)
        ok = slot_alloc(r, &r->slot[i]);
    if (!ok) {
        snn_readout_free(r);
        SNN_FAIL(err, SNN_ENOMEM, "readout: out of memory (%zu parameters, chunk %u, T %u)",
                 off, c->chunk, c->steps);
    }

    for (size_t i = 0; i < n_in; i++)
        r->scale[i] = 1.0;
    /* Weights: layer l from its own stream, N(0, init_gain^2 / n_in_l). */
    for (size_t l = 0; l < L; l++) {
        gsl_rng_set(r->aux, snn_rng_seed(c->seed, ro_owner(RO_RNG_INIT, 0), (uint32_t)l));
        double sd = c->init_gain / sqrt((double)r->dim[l]);
        double *w = r->par + r->w_off[l];
        for (size_t k = 0; k < r->dim[l] * r->dim[l + 1]; k++)
            w[k] = gsl_ran_gaussian(r->aux, sd);
        if (r->fb[l]) {
            gsl_rng_set(r->aux, snn_rng_seed(c->seed, ro_owner(RO_RNG_FEEDBACK, 0), (uint32_t)l));
            double fsd = 1.0 / sqrt((double)n_classes);
            for (size_t k = 0; k < n_classes * r->dim[l + 1]; k++)
                r->fb[l][k] = gsl_ran_gaussian(r->aux, fsd);
        }
    }
    gsl_rng_set(r->noise, snn_rng_seed(c->seed, ro_owner(RO_RNG_NOISE, 0), 0));
    for (unsigned e = 0; e < c->epochs; e++)
        r->c_test[e] = NAN;
    *out = r;
    return SNN_OK;
}

int ro_reserve_alignment(snn_readout *r, size_t need, snn_err *err)
{
    if (need <= r->cap_al)
        return SNN_OK;
    size_t cap = r->cap_al ? r->cap_al : 64;
    while (cap < need)
        cap *= 2;
    double *a = realloc(r->al_cos, cap * r->n_layers * sizeof(double));
    if (!a)
        SNN_FAIL(err, SNN_ENOMEM, "readout: out of memory (alignment record)");
    r->al_cos = a;
    uint64_t *s = realloc(r->al_step, cap * sizeof(uint64_t));
    if (!s)
        SNN_FAIL(err, SNN_ENOMEM, "readout: out of memory (alignment record)");
    r->al_step = s;
    r->cap_al = cap;
    return SNN_OK;
}

/* ---- normalisation ----------------------------------------------------- */

int snn_readout_fit_norm(snn_readout *r, const double *X, size_t n, snn_err *err)
{
    size_t d = r->dim[0];
    if (r->cfg.norm != SNN_RO_NORM_NONE && n == 0)
        SNN_FAIL(err, SNN_ECFG, "readout: cannot fit the normalisation on 0 samples");
    for (size_t i = 0; i < d; i++) {
        r->shift[i] = 0.0;
        r->scale[i] = 1.0;
    }
    if (r->cfg.norm == SNN_RO_NORM_MAX) {
        double mx = 0.0;
        for (size_t k = 0; k < n * d; k++)
            if (X[k] > mx)
                mx = X[k];
        if (mx > 0)
            for (size_t i = 0; i < d; i++)
                r->scale[i] = 1.0 / mx;
    } else if (r->cfg.norm == SNN_RO_NORM_ZSCORE) {
        for (size_t i = 0; i < d; i++) {
            double mean = 0.0, ss = 0.0;
            for (size_t s = 0; s < n; s++)
                mean += X[s * d + i];
            mean /= (double)n;
            for (size_t s = 0; s < n; s++) {
                double q = X[s * d + i] - mean;
                ss += q * q;
            }
            double sd = sqrt(ss / (double)n);
            r->shift[i] = mean;
            r->scale[i] = sd > 0 ? 1.0 / sd : 0.0;
        }
    }
    r->norm_fitted = 1;
    return SNN_OK;
}

void snn_readout_norm(const snn_readout *r, const double **shift, const double **scale)
{
    *shift = r->shift;
    *scale = r->scale;
}

static size_t run_batch(snn_readout *r, const ro_batch *bt, size_t pos, size_t nb)
{
    size_t C = r->cfg.chunk;
    size_t nc = (nb + C - 1) / C;
    /* Always a parallel region, even for one chunk: inside it OpenBLAS runs
       single-threaded, so no product depends on the thread count. */
#pragma omp parallel for schedule(static, 1)
    for (size_t ci = 0; ci < nc; ci++) {
        size_t p0 = ci * C;
        size_t cnt = nb - p0 < C ? nb - p0 : C;
        ro_run_chunk(r, &r->slot[ci], bt, pos + p0, cnt);
    }
    return nc;
}

/* out[i] (+)= Σ_c slot[c].grad[i], chunks in order. */
static void reduce_grad(snn_readout *r, size_t nc, double *out, int accumulate)
{
    size_t n = r->n_par;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        double s = accumulate ? out[i] : 0.0;
        for (size_t c = 0; c < nc; c++)
            s += r->slot[c].grad[i];
        out[i] = s;
    }
}

static int check_labels(const snn_readout *r, const uint8_t *y, size_t n, snn_err *err)
{
    size_t C = r->dim[r->n_layers];
    for (size_t i = 0; i < n; i++)
        if (y[i] >= C)
            SNN_FAIL(err, SNN_ECFG, "readout: sample %zu has label %u, but there are only %zu "
                     "classes", i, (unsigned)y[i], C);
    return SNN_OK;
}

/* ---- training ---------------------------------------------------------- */

static double lr_at(const snn_readout_cfg *c, unsigned e)
{
    switch (c->lr_schedule) {
    case SNN_RO_LR_STEP:
        return c->lr * pow(c->lr_gamma, (double)(e / c->lr_step_epochs));
    case SNN_RO_LR_COSINE:
        return c->lr_min + (c->lr - c->lr_min) * 0.5 * (1.0 + cos(M_PI * e / c->epochs));
    default:
        return c->lr;
    }
}

/* cosine between a and b over n elements (NaN when either is zero). */
static double cosine(const double *a, const double *b, size_t n)
{
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t i = 0; i < n; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : NAN;
}

/* One optimiser step from r->grad; records the alignment if enabled. */
static void update(snn_readout *r, double lr, size_t nc)
{
    const snn_readout_cfg *c = &r->cfg;
    size_t L = r->n_layers;
    if (c->record_alignment)
        memcpy(r->prev, r->par, r->n_par * sizeof(double));
    r->step++;
    for (size_t l = 0; l < L; l++) {
        step_params(r, r->w_off[l], r->dim[l] * r->dim[l + 1], lr, c->weight_decay);
        if (r->b_off[l] != SIZE_MAX)
            step_params(r, r->b_off[l], r->dim[l + 1], lr, 0.0);
    }
    if (c->update_noise > 0)
        for (size_t l = 0; l < L; l++) {
            double *w = r->par + r->w_off[l];
            for (size_t k = 0; k < r->dim[l] * r->dim[l + 1]; k++)
                w[k] += gsl_ran_gaussian(r->noise, c->update_noise);
        }
    if (c->record_alignment) {
        /* Hebbian term summed over chunks in order into r->grad (no longer needed). */
        size_t n = r->n_par;
        for (size_t i = 0; i < n; i++) {
            double s = 0.0;
            for (size_t ci = 0; ci < nc; ci++)
                s += r->slot[ci].hebb[i];
            r->grad[i] = s;
            r->prev[i] = r->par[i] - r->prev[i];
        }
        for (size_t l = 0; l < L; l++)
            r->al_cos[r->n_al * L + l] = cosine(r->prev + r->w_off[l], r->grad + r->w_off[l],
                                                r->dim[l] * r->dim[l + 1]);
        r->al_step[r->n_al] = r->step;
        r->n_al++;
    }
}

int snn_readout_train_epoch(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                            snn_readout_epoch *stats, snn_err *err)
{
    const snn_readout_cfg *c = &r->cfg;
    if (r->epoch >= c->epochs)
        SNN_FAIL(err, SNN_ECFG, "readout: all %u epochs (readout.epochs) are done", c->epochs);
    if (n == 0)
        SNN_FAIL(err, SNN_ECFG, "readout: no training samples");
    if (n > UINT32_MAX)
        SNN_FAIL(err, SNN_ECFG, "readout: %zu training samples, at most 2^32 - 1", n);
    int rc = check_labels(r, y, n, err);
    if (rc)
        return rc;
    if (n > r->cap_perm) {
        size_t *p = realloc(r->perm, n * sizeof(size_t));
        if (!p)
            SNN_FAIL(err, SNN_ENOMEM, "readout: out of memory (%zu samples)", n);
        r->perm = p;
        r->cap_perm = n;
    }
    size_t B = c->batch, n_batches = (n + B - 1) / B;
    if (c->record_alignment && (rc = ro_reserve_alignment(r, r->n_al + n_batches, err)))
        return rc;
    double t0 = now_s();
    unsigned e = r->epoch;
    for (size_t i = 0; i < n; i++)
        r->perm[i] = i;
    if (c->shuffle) {
        gsl_rng_set(r->aux, snn_rng_seed(c->seed, ro_owner(RO_RNG_SHUFFLE, e), 0));
        gsl_ran_shuffle(r->aux, r->perm, n, sizeof(size_t));
    }
    double lr = lr_at(c, e), loss = 0.0;
    size_t correct = 0;
    for (size_t start = 0; start < n; start += B) {
        size_t nb = n - start < B ? n - start : B;
        ro_batch bt = {X, y, r->perm, 0, RO_RNG_TRAIN, e, 1, 1.0 / (double)nb, 0, 0};
        size_t nc = run_batch(r, &bt, start, nb);
        for (size_t ci = 0; ci < nc; ci++) {
            loss += r->slot[ci].loss;
            correct += r->slot[ci].correct;
        }
        reduce_grad(r, nc, r->grad, 0);
        update(r, lr, nc);
    }
    r->c_loss[e] = loss / (double)n;
    r->c_train[e] = (double)correct / (double)n;
    r->c_lr[e] = lr;
    if (c->record_weights)
        for (size_t l = 0; l < r->n_layers; l++) {
            size_t nw = r->dim[l] * r->dim[l + 1];
            memcpy(r->whist[l] + (size_t)e * nw, r->par + r->w_off[l], nw * sizeof(double));
        }
    r->c_time[e] = now_s() - t0;
    r->epoch++;
    if (stats) {
        stats->epoch = e;
        stats->loss = r->c_loss[e];
        stats->train_accuracy = r->c_train[e];
        stats->test_accuracy = r->c_test[e];
        stats->learning_rate = lr;
        stats->time_s = r->c_time[e];
    }
    return SNN_OK;
}

int snn_readout_evaluate(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                         double *acc, uint64_t *confusion, uint64_t *predictions, snn_err *err)
{
    size_t C = r->dim[r->n_layers];
    if (n && (!X || !y))
        SNN_FAIL(err, SNN_EINTERNAL, "readout: evaluation without features or labels");
    int rc = check_labels(r, y, n, err);
    if (rc)
        return rc;
    if (n > UINT32_MAX)
        SNN_FAIL(err, SNN_ECFG, "readout: %zu samples, at most 2^32 - 1", n);
    if (n > r->cap_eval) {
        uint64_t *p = realloc(r->eval_pred, n * sizeof(uint64_t));
        if (!p)
            SNN_FAIL(err, SNN_ENOMEM, "readout: out of memory (%zu samples)", n);
        r->eval_pred = p;
        r->cap_eval = n;
    }
    memset(r->eval_conf, 0, C * C * sizeof(uint64_t));
    size_t group = r->n_slots * r->cfg.chunk, correct = 0;
    for (size_t start = 0; start < n; start += group) {
        size_t nb = n - start < group ? n - start : group;
        ro_batch bt = {X, y, NULL, start, RO_RNG_EVAL, 0, 0, 1.0, 0, 0};
        size_t nc = run_batch(r, &bt, 0, nb);
        for (size_t ci = 0; ci < nc; ci++) {
            size_t p0 = start + ci * r->cfg.chunk;
            size_t cnt = nb - ci * r->cfg.chunk < r->cfg.chunk ? nb - ci * r->cfg.chunk
                                                               : r->cfg.chunk;
            for (size_t b = 0; b < cnt; b++) {
                uint64_t p = r->slot[ci].pred[b];
                r->eval_pred[p0 + b] = p;
                r->eval_conf[y[p0 + b] * C + p]++;
                correct += p == y[p0 + b];
            }
        }
    }
    r->n_eval = n;
    r->have_eval = 1;
    r->eval_acc = n ? (double)correct / (double)n : NAN;
    if (acc)
        *acc = r->eval_acc;
    if (confusion)
        memcpy(confusion, r->eval_conf, C * C * sizeof(uint64_t));
    if (predictions && n)
        memcpy(predictions, r->eval_pred, n * sizeof(uint64_t));
    return SNN_OK;
}

int snn_readout_train(snn_readout *r, const double *Xtr, const uint8_t *ytr, size_t ntr,
                      const double *Xte, const uint8_t *yte, size_t nte,
                      snn_readout_epoch_fn cb, void *ctx, snn_err *err)
{
    int rc;
    if (r->epoch == 0 && (rc = snn_readout_fit_norm(r, Xtr, ntr, err)))
        return rc;
    while (r->epoch < r->cfg.epochs) {
        snn_readout_epoch st;
        if ((rc = snn_readout_train_epoch(r, Xtr, ytr, ntr, &st, err)))
            return rc;
        if (nte) {
            double a;
            if ((rc = snn_readout_evaluate(r, Xte, yte, nte, &a, NULL, NULL, err)))
                return rc;
            r->c_test[st.epoch] = a;
            st.test_accuracy = a;
        }
        if (cb && (rc = cb(ctx, &st, err)))
            return rc;
    }
    return SNN_OK;
}

int snn_readout_loss_and_grad(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                              double *loss, double *grad, snn_err *err)
{
    int rc = check_labels(r, y, n, err);
    if (rc)
        return rc;
    if (n == 0)
        SNN_FAIL(err, SNN_ECFG, "readout: no samples");
    memset(grad, 0, r->n_par * sizeof(double));
    size_t group = r->n_slots * r->cfg.chunk;
    double ls = 0.0;
    for (size_t start = 0; start < n; start += group) {
        size_t nb = n - start < group ? n - start : group;
        ro_batch bt = {X, y, NULL, start, RO_RNG_TRAIN, r->epoch, 1, 1.0 / (double)n, 0, 0};
        size_t nc = run_batch(r, &bt, 0, nb);
        for (size_t ci = 0; ci < nc; ci++)
            ls += r->slot[ci].loss;
        reduce_grad(r, nc, grad, 1);
    }
    if (loss)
        *loss = ls / (double)n;
    return SNN_OK;
}

int snn_readout_input_grad(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                           double *loss, double *grad, double *dX, snn_err *err)
{
    int rc = check_labels(r, y, n, err);
    if (rc)
        return rc;
    if (n == 0)
        SNN_FAIL(err, SNN_ECFG, "readout: no samples");
    if (n > UINT32_MAX)
        SNN_FAIL(err, SNN_ECFG, "readout: %zu samples, at most 2^32 - 1", n);
    size_t C = r->cfg.chunk, group = r->n_slots * C, nin = r->dim[0];
    double ls = 0.0;
    if (grad)
        memset(grad, 0, r->n_par * sizeof(double));
    for (size_t start = 0; start < n; start += group) {
        size_t nb = n - start < group ? n - start : group;
        ro_batch bt = {X, y, NULL, start, RO_RNG_TRAIN, r->epoch, 1, 1.0 / (double)n, 1, 1};
        size_t nc = run_batch(r, &bt, 0, nb);
        for (size_t ci = 0; ci < nc; ci++) {
            size_t cnt = nb - ci * C < C ? nb - ci * C : C;
            ls += r->slot[ci].loss;
            memcpy(dX + (start + ci * C) * nin, r->slot[ci].gx, cnt * nin * sizeof(double));
        }
        if (grad)
            reduce_grad(r, nc, grad, 1);
    }
    if (loss)
        *loss = ls / (double)n;
    return SNN_OK;
}

/* ---- introspection ----------------------------------------------------- */

size_t snn_readout_n_layers(const snn_readout *r)
{
    return r->n_layers;
}

size_t snn_readout_n_params(const snn_readout *r)
{
    return r->n_par;
}

unsigned snn_readout_epochs_done(const snn_readout *r)
{
    return r->epoch;
}

double *snn_readout_param(snn_readout *r, size_t l, int bias, size_t *n)
{
    if (l >= r->n_layers) {
        *n = 0;
        return NULL;
    }
    if (bias) {
        *n = r->b_off[l] == SIZE_MAX ? 0 : r->dim[l + 1];
        return r->b_off[l] == SIZE_MAX ? NULL : r->par + r->b_off[l];
    }
    *n = r->dim[l] * r->dim[l + 1];
    return r->par + r->w_off[l];
}

const double *snn_readout_curve(const snn_readout *r, const char *name)
{
    if (strcmp(name, "loss") == 0)
        return r->c_loss;
    if (strcmp(name, "train_accuracy") == 0)
        return r->c_train;
    if (strcmp(name, "test_accuracy") == 0)
        return r->c_test;
    if (strcmp(name, "learning_rate") == 0)
        return r->c_lr;
    if (strcmp(name, "epoch_time_s") == 0)
        return r->c_time;
    return NULL;
}

double *snn_readout_feedback(snn_readout *r, size_t l, size_t *n)
{
    *n = l < RO_MAXL && r->fb[l] ? r->dim[r->n_layers] * r->dim[l + 1] : 0;
    return *n ? r->fb[l] : NULL;
}

/* ---- one mini-batch step (GHL's alternating loop) ---------------------- */

int snn_readout_train_batch(snn_readout *r, const double *X, const uint8_t *y, size_t n,
                            uint32_t key, double *loss, double *accuracy, snn_err *err)
{
    const snn_readout_cfg *c = &r->cfg;
    if (n == 0 || n > c->batch)
        SNN_FAIL(err, SNN_ECFG, "readout: a training step takes 1 to %u samples "
                 "(readout.batch), not %zu", c->batch, n);
    int rc = check_labels(r, y, n, err);
    if (rc || (c->record_alignment && (rc = ro_reserve_alignment(r, r->n_al + 1, err))))
        return rc;
    ro_batch bt = {X, y, NULL, 0, RO_RNG_TRAIN, key, 1, 1.0 / (double)n, 0, 0};
    size_t nc = run_batch(r, &bt, 0, n), correct = 0;
    double ls = 0.0;
    for (size_t ci = 0; ci < nc; ci++) {
        ls += r->slot[ci].loss;
        correct += r->slot[ci].correct;
    }
    reduce_grad(r, nc, r->grad, 0);
    update(r, lr_at(c, r->epoch < c->epochs ? r->epoch : c->epochs - 1), nc);
    if (loss)
        *loss = ls / (double)n;
    if (accuracy)
        *accuracy = (double)correct / (double)n;
    return SNN_OK;
}
