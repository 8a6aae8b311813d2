/*
 * rules/readout_bptt.c: one chunk of the readout learner (rules/readout.h):
 * encoding, the LIF forward pass over all steps, decoding and loss, and
 * backpropagation through time, plus the surrogate derivatives.
 *
 * Row t·nb + b of a layer's matrices holds sample b at step t, so one
 * cblas_dgemm gives every step's input current (I = X W), the weight
 * gradient (X^T dL/dI) and the gradient sent down (dL/dI W^T); only the
 * per-neuron time recursion is elementwise.  Under current encoding layer
 * 0's input is the same each step, so its current is computed once and its
 * weight gradient is x^T (Σ_t dL/dI_t).  A layer whose input is spikes
 * (Poisson input; hidden spikes outside smooth mode) and sparse enough
 * (cfg.sparse_density) replaces both of its products by sums over the
 * spiking inputs' weight rows.  Nothing here allocates; a chunk touches only
 * its own ro_slot, so chunks run concurrently.
 */
#include "readout_impl.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_rng.h>

#include "../sim/rng.h"

/* ---- surrogates --------------------------------------------------------- */

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

double snn_readout_surrogate(int kind, double k, double x)
{
    switch (kind) {
    case SNN_RO_SG_ARCTAN: {
        double a = M_PI * k * x;
        return k / (1.0 + a * a);
    }
    case SNN_RO_SG_SIGMOID: {
        double sg = sigmoid(k * x);
        return k * sg * (1.0 - sg);
    }
    default: {
        double a = 1.0 + k * fabs(x);
        return 1.0 / (a * a);
    }
    }
}

/* ---- one chunk: forward and backward ----------------------------------- */

/* Forward time recursion of one layer over nb samples (rows t·nb + b). */
static void lif_forward(const snn_readout *r, ro_slot *sl, size_t nb, size_t n, const double *I,
                        int I_const, ro_layer_ws *w, int spiking)
{
    const snn_readout_cfg *c = &r->cfg;
    size_t T = c->steps, K = nb * n;
    double *syn = sl->st_a, *v = sl->st_b;
    double beta = r->beta, alpha = r->alpha, th = c->threshold, k = c->sg_slope;
    memset(syn, 0, K * sizeof(double));
    memset(v, 0, K * sizeof(double));
    for (size_t t = 0; t < T; t++) {
        const double *It = I_const ? I : I + t * K;
        double *u = w->u + t * K, *s = w->s + t * K;
        for (size_t q = 0; q < K; q++) {
            double sy = alpha * syn[q] + It[q];
            double uu = beta * v[q] + sy;
            double sp = 0.0, vv = uu;
            if (spiking) {
                sp = c->smooth ? sigmoid(k * (uu - th)) : (uu >= th ? 1.0 : 0.0);
                vv = c->reset == SNN_RO_RESET_SUBTRACT ? uu - th * sp : uu * (1.0 - sp);
            }
            syn[q] = sy;
            u[q] = uu;
            s[q] = sp;
            v[q] = vv;
        }
    }
}

/* Backward time recursion: from w->gs (dL/ds_t, or dL/du_t for a
   non-spiking layer) to dL/dI_t, written per step into gI, or summed over
   steps into gI [nb × n] when I_const. */
static void lif_backward(const snn_readout *r, ro_slot *sl, size_t nb, size_t n,
                         const ro_layer_ws *w, double *gI, int I_const, int spiking)
{
    const snn_readout_cfg *c = &r->cfg;
    size_t T = c->steps, K = nb * n;
    double *gu_next = sl->st_a, *gsyn_next = sl->st_b;
    double beta = r->beta, alpha = r->alpha, th = c->threshold, k = c->sg_slope;
    int sub = c->reset == SNN_RO_RESET_SUBTRACT, detach = c->detach_reset;
    int kind = c->smooth ? SNN_RO_SG_SIGMOID : c->surrogate;
    memset(gu_next, 0, K * sizeof(double));
    memset(gsyn_next, 0, K * sizeof(double));
    if (I_const)
        memset(gI, 0, K * sizeof(double));
    for (size_t t = T; t-- > 0;) {
        const double *u = w->u + t * K, *s = w->s + t * K, *gs_ext = w->gs + t * K;
        double *g = I_const ? gI : gI + t * K;
        for (size_t q = 0; q < K; q++) {
            double gv = beta * gu_next[q]; /* dL/dv_t through u_{t+1} */
            double gu;
            if (spiking) {
                double uu = u[q];
                double gs = gs_ext[q];
                if (!detach)
                    gs -= gv * (sub ? th : uu);
                double dvdu = sub ? 1.0 : 1.0 - s[q];
                gu = gv * dvdu + gs * snn_readout_surrogate(kind, k, uu - th);
            } else {
                gu = gv + gs_ext[q];
            }
            double gsyn = gu + alpha * gsyn_next[q];
            gu_next[q] = gu;
            gsyn_next[q] = gsyn;
            if (I_const)
                g[q] += gsyn;
            else
                g[q] = gsyn;
        }
    }
}

/* Add the bias row to each of `rows` rows of an [rows × n] matrix. */
static void add_bias(double *I, size_t rows, size_t n, const double *b)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < n; j++)
            I[i * n + j] += b[j];
}

/* Mean over the T row blocks of an [T·nb × n] matrix into out [nb × n]. */
static void time_mean(const double *a, size_t T, size_t nb, size_t n, double *out)
{
    size_t K = nb * n;
    memset(out, 0, K * sizeof(double));
    for (size_t t = 0; t < T; t++)
        for (size_t q = 0; q < K; q++)
            out[q] += a[t * K + q];
    for (size_t q = 0; q < K; q++)
        out[q] /= (double)T;
}

/* Index the non-zero entries of each row of x [rows × n]; returns their
   number. */
static size_t index_active(const double *x, size_t rows, size_t n, uint32_t *act,
                           size_t *row)
{
    size_t k = 0;
    for (size_t i = 0; i < rows; i++) {
        row[i] = k;
        const double *xi = x + i * n;
        for (size_t j = 0; j < n; j++)
            if (xi[j] != 0.0)
                act[k++] = (uint32_t)j;
    }
    row[rows] = k;
    return k;
}

/* I[i] = b + a·Σ_{j active in row i} W[j] for input rows whose non-zero
   entries all equal a (spikes: a = 1; dropout-masked spikes: 1/(1 - p)). */
static void sparse_forward(const uint32_t *act, const size_t *row, size_t rows, const double *W,
                           const double *b, size_t n_o, double a, double *I)
{
    for (size_t i = 0; i < rows; i++) {
        double *Ii = I + i * n_o;
        /* a = 1: the bias first, as always; otherwise a·(Σ W) + b */
        if (b && a == 1.0)
            memcpy(Ii, b, n_o * sizeof(double));
        else
            memset(Ii, 0, n_o * sizeof(double));
        for (size_t k = row[i]; k < row[i + 1]; k++) {
            const double *w = W + (size_t)act[k] * n_o;
            for (size_t j = 0; j < n_o; j++)
                Ii[j] += w[j];
        }
        if (a != 1.0)
            for (size_t j = 0; j < n_o; j++)
                Ii[j] = a * Ii[j] + (b ? b[j] : 0.0);
    }
}

/* gW = a·Σ_i x_i^T gI_i for input rows as in sparse_forward (rows in
   order). */
static void sparse_grad(const uint32_t *act, const size_t *row, size_t rows, const double *gI,
                        size_t n_i, size_t n_o, double a, double *gW)
{
    memset(gW, 0, n_i * n_o * sizeof(double));
    for (size_t i = 0; i < rows; i++) {
        const double *g = gI + i * n_o;
        for (size_t k = row[i]; k < row[i + 1]; k++) {
            double *w = gW + (size_t)act[k] * n_o;
            for (size_t j = 0; j < n_o; j++)
                w[j] += g[j];
        }
    }
    if (a != 1.0)
        for (size_t k = 0; k < n_i * n_o; k++)
            gW[k] *= a;
}

/* Multiply each of the T row blocks of x [T·nb × n] by the mask [nb × n]
   into out (out may be x). */
static void apply_mask(const double *x, const double *mask, size_t T, size_t nb, size_t n,
                       double *out)
{
    size_t K = nb * n;
    for (size_t t = 0; t < T; t++)
        for (size_t q = 0; q < K; q++)
            out[t * K + q] = x[t * K + q] * mask[q];
}

/* Dropout masks of sample `id` into row b of each masked layer's mask
   (1/(1 - p) kept, 0 dropped), from the stream (seed, DROPOUT, epoch, id):
   the input features first, then hidden layers in order. */
static void draw_masks(const snn_readout *r, ro_slot *sl, const ro_batch *bt, size_t id,
                       size_t b)
{
    const snn_readout_cfg *c = &r->cfg;
    gsl_rng_set(sl->rng, snn_rng_seed(c->seed, ro_owner(RO_RNG_DROPOUT, bt->rng_epoch),
                                      (uint32_t)id));
    for (size_t l = 0; l < r->n_layers; l++) {
        if (!sl->mask[l])
            continue;
        double p = l == 0 ? c->dropout_input : c->dropout_hidden, keep = 1.0 / (1.0 - p);
        double *m = sl->mask[l] + b * r->dim[l];
        for (size_t i = 0; i < r->dim[l]; i++)
            m[i] = gsl_rng_uniform(sl->rng) < p ? 0.0 : keep;
    }
}

/*
 * Input gradient of a chunk (snn_readout_input_grad): from layer 0's
 * dL/dI_t (gI: per step [T·nb × n_1], or its sum over steps [nb × n_1]
 * when I_const), dL/dx0 summed over steps is (Σ_t dL/dI_t) W_0^T; then the
 * chain through the encoding and the normalisation x' = (x - shift)·scale:
 *   current: x0 = x'·gain                    -> dL/dx = gain·scale·dL/dx0
 *   Poisson: E[s_t] = clamp(x'·p_scale, 0, 1) -> dL/dx = p_scale·scale·dL/ds
 * (straight-through: each spike's gradient taken as that of its
 * expectation; zero where x'·p_scale lies outside [0, 1]).  Never under
 * dropout (ro_batch.no_dropout).
 */
static void input_grad(const snn_readout *r, ro_slot *sl, const double *gI, int I_const,
                       size_t nb)
{
    const snn_readout_cfg *c = &r->cfg;
    size_t nin = r->dim[0], n1 = r->dim[1], T = c->steps, K = nb * n1;
    const double *gs = gI;
    if (!I_const) {
        memset(sl->gsum, 0, K * sizeof(double));
        for (size_t t = 0; t < T; t++)
            for (size_t q = 0; q < K; q++)
                sl->gsum[q] += gI[t * K + q];
        gs = sl->gsum;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)nin, (int)n1, 1.0, gs,
                (int)n1, r->par + r->w_off[0], (int)n1, 0.0, sl->gx, (int)nin);
    int cur = c->encode == SNN_RO_ENC_CURRENT;
    for (size_t b = 0; b < nb; b++) {
        double *g = sl->gx + b * nin;
        const double *xn = sl->xn + b * nin;
        for (size_t i = 0; i < nin; i++) {
            double f;
            if (cur) {
                f = c->input_gain;
            } else {
                double p = xn[i] * r->p_scale;
                f = p >= 0.0 && p <= 1.0 ? r->p_scale : 0.0;
            }
            g[i] *= f * r->scale[i];
        }
    }
}

void ro_run_chunk(const snn_readout *r, ro_slot *sl, const ro_batch *bt, size_t pos, size_t nb)
{
    const snn_readout_cfg *c = &r->cfg;
    size_t T = c->steps, L = r->n_layers, nin = r->dim[0], C = r->dim[L];
    int cur = c->encode == SNN_RO_ENC_CURRENT;
    int out_spiking = c->decode == SNN_RO_DEC_COUNT;
    /* dropout: training passes only (masks allocated when p > 0) */
    int drop = bt->rng_kind == RO_RNG_TRAIN && !bt->no_dropout &&
               (c->dropout_input > 0 || c->dropout_hidden > 0);
    const double *mask_in = drop ? sl->mask[0] : NULL;

    /* Dropout masks, normalise and encode. */
    for (size_t b = 0; b < nb; b++) {
        size_t id = bt->idx ? bt->idx[pos + b] : bt->base + pos + b;
        const double *x = bt->X + id * nin;
        double *xn = sl->xn + b * nin;
        if (drop)
            draw_masks(r, sl, bt, id, b);
        for (size_t i = 0; i < nin; i++)
            xn[i] = (x[i] - r->shift[i]) * r->scale[i];
        if (mask_in)
            for (size_t i = 0; i < nin; i++)
                xn[i] *= mask_in[b * nin + i];
        if (cur) {
            for (size_t i = 0; i < nin; i++)
                sl->x0[b * nin + i] = xn[i] * c->input_gain;
        } else {
            gsl_rng_set(sl->rng, snn_rng_seed(c->seed, ro_owner(bt->rng_kind, bt->rng_epoch),
                                              (uint32_t)id));
            for (size_t t = 0; t < T; t++) {
                double *row = sl->x0 + (t * nb + b) * nin;
                for (size_t i = 0; i < nin; i++)
                    row[i] = gsl_rng_uniform(sl->rng) < xn[i] * r->p_scale ? 1.0 : 0.0;
            }
        }
    }

    /* Forward, layer by layer over all steps. */
    for (size_t l = 0; l < L; l++) {
        size_t n_i = r->dim[l], n_o = r->dim[l + 1];
        int cst = l == 0 && cur;
        const double *xin = l == 0 ? sl->x0 : sl->lw[l - 1].s;
        double a = 1.0; /* the value of a spike as this layer sees it */
        if (l > 0 && drop && sl->mask[l]) {
            apply_mask(xin, sl->mask[l], T, nb, n_i, sl->ds[l]);
            xin = sl->ds[l];
            a = 1.0 / (1.0 - c->dropout_hidden);
        }
        size_t rows = cst ? nb : T * nb;
        ro_layer_ws *w = &sl->lw[l];
        const double *bias = r->b_off[l] != SIZE_MAX ? r->par + r->b_off[l] : NULL;
        sl->sparse[l] = 0;
        if (sl->act[l] && (l > 0 ? !c->smooth : !cur)) {
            size_t nnz = index_active(xin, rows, n_i, sl->act[l], sl->act_row[l]);
            sl->sparse[l] = (double)nnz <= c->sparse_density * (double)rows * (double)n_i;
        }
        if (sl->sparse[l]) {
            sparse_forward(sl->act[l], sl->act_row[l], rows, r->par + r->w_off[l], bias, n_o, a,
                           w->cur);
        } else {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)n_o,
                        (int)n_i, 1.0, xin, (int)n_i, r->par + r->w_off[l], (int)n_o, 0.0,
                        w->cur, (int)n_o);
            if (bias)
                add_bias(w->cur, rows, n_o, bias);
        }
        lif_forward(r, sl, nb, n_o, w->cur, cst, w, l + 1 < L || out_spiking);
    }

    /* Decode, loss, dL/dz. */
    const ro_layer_ws *top = &sl->lw[L - 1];
    size_t K = nb * C;
    for (size_t b = 0; b < nb; b++) {
        double *z = sl->z + b * C;
        for (size_t k = 0; k < C; k++) {
            double acc = out_spiking ? 0.0 : -INFINITY;
            for (size_t t = 0; t < T; t++) {
                double q = out_spiking ? top->s[t * K + b * C + k] : top->u[t * K + b * C + k];
                if (out_spiking)
                    acc += q;
                else if (q > acc)
                    acc = q;
            }
            z[k] = acc;
        }
    }
    sl->loss = 0.0;
    sl->correct = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t id = bt->idx ? bt->idx[pos + b] : bt->base + pos + b;
        unsigned lab = bt->y ? bt->y[id] : 0;
        const double *z = sl->z + b * C;
        size_t am = 0;
        for (size_t k = 1; k < C; k++)
            if (z[k] > z[am])
                am = k;
        sl->pred[b] = am;
        sl->correct += bt->y && am == lab;
        double se = 0.0;
        for (size_t k = 0; k < C; k++)
            se += exp(z[k] - z[am]);
        double lse = z[am] + log(se);
        if (bt->y)
            sl->loss += lse - z[lab];
        double *gz = sl->gz + b * C;
        for (size_t k = 0; k < C; k++)
            gz[k] = (exp(z[k] - lse) - (k == lab ? 1.0 : 0.0)) * bt->gscale;
    }
    if (!bt->backward)
        return;

    /* dL/dz into the top layer's gs (spike count: every step; max membrane:
       the first step attaining the maximum). */
    double *gs = sl->lw[L - 1].gs;
    if (out_spiking) {
        for (size_t t = 0; t < T; t++)
            memcpy(gs + t * K, sl->gz, K * sizeof(double));
    } else {
        memset(gs, 0, T * K * sizeof(double));
        for (size_t q = 0; q < K; q++) {
            size_t tm = 0;
            for (size_t t = 1; t < T; t++)
                if (top->u[t * K + q] > top->u[tm * K + q])
                    tm = t;
            gs[tm * K + q] = sl->gz[q];
        }
    }

    for (size_t l = L; l-- > 0;) {
        size_t n_i = r->dim[l], n_o = r->dim[l + 1];
        int cst = l == 0 && cur;
        ro_layer_ws *w = &sl->lw[l];
        double *gI = cst ? sl->gsum : w->cur;
        size_t rows = cst ? nb : T * nb;
        int masked = l > 0 && drop && sl->mask[l];
        const double *xin = l == 0 ? sl->x0 : masked ? sl->ds[l] : sl->lw[l - 1].s;
        double a = masked ? 1.0 / (1.0 - c->dropout_hidden) : 1.0;
        lif_backward(r, sl, nb, n_o, w, gI, cst, l + 1 < L || out_spiking);
        if (sl->sparse[l])
            sparse_grad(sl->act[l], sl->act_row[l], rows, gI, n_i, n_o, a,
                        sl->grad + r->w_off[l]);
        else
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_i, (int)n_o, (int)rows,
                        1.0, xin, (int)n_i, gI, (int)n_o, 0.0, sl->grad + r->w_off[l],
                        (int)n_o);
        if (r->b_off[l] != SIZE_MAX) {
            double *gb = sl->grad + r->b_off[l];
            memset(gb, 0, n_o * sizeof(double));
            for (size_t i = 0; i < rows; i++)
                for (size_t j = 0; j < n_o; j++)
                    gb[j] += gI[i * n_o + j];
        }
        if (c->record_alignment) {
            /* Hebbian term: Σ_b rate_pre rate_post^T (scaled to a batch mean). */
            if (cst)
                memcpy(sl->rate_in, sl->x0, nb * n_i * sizeof(double));
            else
                time_mean(xin, T, nb, n_i, sl->rate_in);
            time_mean(l + 1 < L || out_spiking ? w->s : w->u, T, nb, n_o, sl->rate_out);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_i, (int)n_o, (int)nb,
                        bt->gscale, sl->rate_in, (int)n_i, sl->rate_out, (int)n_o, 0.0,
                        sl->hebb + r->w_off[l], (int)n_o);
        }
        if (l == 0) {
            if (bt->input_grad)
                input_grad(r, sl, gI, cst, nb);
            break;
        }
        double *gs_below = sl->lw[l - 1].gs;
        if (c->rule == SNN_RO_RULE_RANDOM)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(T * nb), (int)n_i,
                        (int)C, 1.0, sl->lw[L - 1].cur, (int)C, r->fb[l - 1], (int)n_i, 0.0,
                        gs_below, (int)n_i);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(T * nb), (int)n_i,
                        (int)n_o, 1.0, gI, (int)n_o, r->par + r->w_off[l], (int)n_o, 0.0,
                        gs_below, (int)n_i);
        if (masked) /* dL/ds = m · dL/d(m s): a dropped neuron gets no gradient */
            apply_mask(gs_below, sl->mask[l], T, nb, n_i, gs_below);
    }
}

/*
 * run_batch: nb samples from position pos of the batch, cut into chunks of
 * cfg.chunk (at most n_slots chunks), run in parallel.  Returns the number
 * of chunks used.
 */
