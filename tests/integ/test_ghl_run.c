/*
 * tests/integ/test_ghl_run.c: GHL's alternating loop (sim/ghl_run.c) on
 * tests/data/ghl_small.cfg (784 Fashion-MNIST pixels -> 20 LIF neurons,
 * rule "ghl", one mini-batch of 16 samples).
 *
 * - Direction mode: the readout step and the gradient the loop used are
 *   those of a fresh readout given the same batch (bit for bit), and the
 *   projection's weights after the phase equal Oja's closed form
 *   w + |eta y (x - y w)| · (-sgn g_j), clipped to [w_min, w_max], applied
 *   sample after sample from the initial weights (the presentations leave
 *   the weights alone); the rule's reversal counter equals the hand count.
 *   Again with decay = "local": w + |eta y x| · (-sgn g_j) - eta y^2 w,
 *   clipped, and the reversals of the Hebbian term.
 * - Mode none: the run with the loop gives the same weights and features,
 *   bit for bit, as the plain Hebbian run without it (and they did learn).
 * - The same closed form on a sparse xe (connector local: 4 patches of 5
 *   neurons, 256 synapses each): absent synapses neither learn nor count,
 *   and stay absent.
 * - The same weights for 1 and 2 threads (network and readout), with
 *   mini-batches of 6 + 6 + 4 samples and the per-synapse sign, dense and
 *   sparse.
 * - /ghl/xe/{samples,local,reversed,accuracy,loss}: one row per mini-batch,
 *   the counters ending at the rule's own.
 * - Schedule interleave: after the first mini-batch, each sample's update is
 *   Oja's direction-mode closed form with the gradient an independent
 *   readout (same batch, same step) gives for that sample alone; samples of
 *   the first mini-batch change nothing.
 * - Rule three_factor: the hook delivers, once the readout is fitted, the
 *   sample's modulator: w = clip(w + eta · M · m_j · e_ij) with the
 *   eligibility e read just before, m_j = -sgn(dL/dy_j) (modulator sign) or
 *   M = ±1 from the readout's verdict (reward), M and m computed by an
 *   independent readout given the same batch; samples of the first batch
 *   change nothing.
 * - Refusals: checkpoints with the hook, a non-ghl projection, the
 *   `guided` group's configuration errors, pruning on a sparse projection,
 *   a sparse projection with two synapses for one pair (multapses).
 */
#include "../support.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/cfg.h"
#include "io/idx.h"
#include "rules/ghl.h"
#include "rules/readout.h"
#include "rules/three_factor.h"
#include "sim/sched.h"
#include "sim/ghl_run.h"
#include "sim/protocol.h"

#define CFG SNN_TEST_DATA "/ghl_small.cfg"

typedef struct run_out {
    double *w;            /* the weights of xe after the phases, dense [pre × post] */
    double *w0;           /* ... and after the build */
    uint8_t *conn;        /* 1 where xe has a synapse (all ones when dense) */
    size_t nnz;           /* synapses after the phases */
    snn_phase_features *feat;  /* per phase, kept */
    size_t n_phases, n_w, batches;
    size_t nb;
    uint32_t *pre, *post; /* the last batch */
    double *dX;
    snn_ghl_counts cnt;
} run_out;

static snn_spec *load(const char *const *ov, size_t n_ov)
{
    snn_spec *sp = NULL;
    snn_err err;
    if (snn_cfg_load(CFG, ov, n_ov, &sp, &err))
        fail_msg("%s", err.msg);
    return sp;
}

/* xe's weights as a dense matrix W [pre × post]: absent synapses 0, conn 0. */
static void dense_weights(const snn_proj *pj, double *W, uint8_t *conn)
{
    size_t n_pre = pj->pre->n, n_post = pj->post->n;
    double *w = malloc(pj->nnz * sizeof *w);
    uint64_t *pre = malloc(pj->nnz * sizeof *pre), *post = malloc(pj->nnz * sizeof *post);
    snn_net_weights(pj, w, pre, post);
    memset(W, 0, n_pre * n_post * sizeof *W);
    if (conn)
        memset(conn, 0, n_pre * n_post);
    for (size_t q = 0; q < pj->nnz; q++) {
        W[pre[q] * n_post + post[q]] = w[q];
        if (conn)
            conn[pre[q] * n_post + post[q]] = 1;
    }
    free(w);
    free(pre);
    free(post);
}

/* Run sp's phases with the loop (guided != 0) or without. */
static void run_h5(snn_spec *sp, int threads, int guided, run_out *o, const char *h5path)
{
    snn_err err;
    snn_dataset *split[2] = {NULL, NULL};
    if (snn_idx_load_dir(sp->data.directory, "train", 40, &split[0], &err) ||
        snn_idx_load_dir(sp->data.directory, "test", 20, &split[1], &err))
        fail_msg("%s", err.msg);
    omp_set_num_threads(threads);
    snn_net *net = NULL;
    if (snn_net_build(&net, sp, threads, &err))
        fail_msg("%s", err.msg);
    snn_proj *pj = &net->projs[0];
    o->n_w = pj->pre->n * pj->post->n;
    o->w0 = malloc(o->n_w * sizeof(double));
    o->conn = malloc(o->n_w);
    dense_weights(pj, o->w0, o->conn);
    snn_ghl_run *g = NULL;
    if (guided && snn_ghl_run_create(&g, net, &err))
        fail_msg("%s", err.msg);
    snn_protocol_opts po = {.keep_features = true,
                            .on_sample = g ? snn_ghl_run_on_sample : NULL, .sample_ud = g};
    snn_protocol_result res;
    const snn_dataset *const cs[2] = {split[0], split[1]};
    snn_h5 *h5 = NULL;
    if (h5path && snn_h5_create(&h5, h5path, 0, &err))
        fail_msg("%s", err.msg);
    if (snn_protocol_run(net, cs, NULL, h5, &po, &res, &err))
        fail_msg("%s", err.msg);
    if (h5 && (snn_ghl_run_write_h5(g, h5, &err) || snn_h5_close(h5, 1, &err)))
        fail_msg("%s", err.msg);
    o->w = malloc(o->n_w * sizeof(double));
    dense_weights(pj, o->w, NULL);
    o->nnz = pj->nnz;
    o->n_phases = res.n_phases;
    o->feat = res.features;
    res.features = NULL;
    o->cnt = *snn_ghl_rule_counts(pj);
    if (g) {
        const uint32_t *pre, *post;
        const double *dX;
        o->batches = snn_ghl_run_batches(g);
        snn_ghl_run_last(g, &o->nb, &pre, &post, &dX);
        o->pre = malloc(o->nb * pj->pre->n * sizeof(uint32_t));
        o->post = malloc(o->nb * pj->post->n * sizeof(uint32_t));
        o->dX = malloc(o->nb * pj->post->n * sizeof(double));
        memcpy(o->pre, pre, o->nb * pj->pre->n * sizeof(uint32_t));
        memcpy(o->post, post, o->nb * pj->post->n * sizeof(uint32_t));
        memcpy(o->dX, dX, o->nb * pj->post->n * sizeof(double));
    }
    snn_ghl_run_free(g);
    snn_protocol_result_free(&res);
    snn_net_free(net);
    snn_dataset_free(split[0]);
    snn_dataset_free(split[1]);
}

static void run(snn_spec *sp, int threads, int guided, run_out *o)
{
    run_h5(sp, threads, guided, o, NULL);
}

static void run_free(run_out *o)
{
    snn_protocol_result r = {.n_phases = o->n_phases, .features = o->feat};
    snn_protocol_result_free(&r);
    free(o->w);
    free(o->w0);
    free(o->conn);
    free(o->pre);
    free(o->post);
    free(o->dX);
    memset(o, 0, sizeof *o);
}

static double sgn(double v)
{
    return (v > 0) - (v < 0);
}

/* A sparse xe: 4 locations (16 x 16 patches every 12 pixels) of 5
   neurons, 256 of the 784 pixels each. */
#define LOCAL_XE "projections.xe.connector=\"local\"", "projections.xe.width=28",              \
    "projections.xe.height=28", "projections.xe.patch=16", "projections.xe.stride=12",        \
    "projections.xe.per_location=5"

/* Direction mode through the loop with decay guided (the default) or
   local (projections.xe.plasticity.decay = "local"), on the dense xe or
   on a sparse one (the update skips absent synapses, which stay absent). */
static void direction_closed_form(int keep_decay, int sparse)
{
    const char *dense_ov[] = {"projections.xe.plasticity.decay=\"local\""};
    const char *sparse_ov[] = {LOCAL_XE, "projections.xe.plasticity.decay=\"local\""};
    const char *const *ov = sparse ? sparse_ov : dense_ov;
    size_t n_ov = (sparse ? 6 : 0) + (keep_decay ? 1 : 0);
    snn_spec *sp = load(ov, n_ov);
    run_out o = {0};
    run(sp, 1, 1, &o);
    const size_t NI = 784, NO = 20, B = 16;
    assert_int_equal(o.batches, 1);
    assert_int_equal(o.nb, B);
    const double eta = 1e-6, hz = 1000.0 / sp->stim.present_ms;

    /* The loop's readout: fit on the batch, one step (key 0), then dL/dX. */
    snn_readout *r = NULL;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, &sp->readout.cfg, NO, 10, &err), SNN_OK);
    double *X = malloc(B * NO * sizeof *X), *dX = malloc(B * NO * sizeof *dX);
    uint8_t lab[16];
    for (size_t k = 0; k < B * NO; k++)
        X[k] = (double)o.post[k];
    /* labels: the learn phase shows train images 0..15 in order */
    snn_dataset *tr = NULL;
    assert_int_equal(snn_idx_load_dir(sp->data.directory, "train", B, &tr, &err), SNN_OK);
    memcpy(lab, tr->labels, B);
    snn_dataset_free(tr);
    assert_int_equal(snn_readout_fit_norm(r, X, B, &err), SNN_OK);
    assert_int_equal(snn_readout_train_batch(r, X, lab, B, 0, NULL, NULL, &err), SNN_OK);
    assert_int_equal(snn_readout_input_grad(r, X, lab, B, NULL, NULL, dX, &err), SNN_OK);
    assert_memory_equal(dX, o.dX, B * NO * sizeof *dX);
    snn_readout_free(r);

    /* Oja in direction mode, sample after sample, from the initial weights. */
    double *w = malloc(NI * NO * sizeof *w);
    memcpy(w, o.w0, NI * NO * sizeof *w);
    uint64_t reversed = 0, local = 0, nonzero_g = 0;
    for (size_t s = 0; s < B; s++)
        for (size_t i = 0; i < NI; i++)
            for (size_t j = 0; j < NO; j++) {
                if (!o.conn[i * NO + j])
                    continue;
                double x = o.pre[s * NI + i] * hz, y = o.post[s * NO + j] * hz;
                double g = o.dX[s * NO + j], *wij = &w[i * NO + j];
                double dl = eta * y * (x - y * *wij);
                double h = eta * y * x, d = eta * y * (y * *wij);
                nonzero_g += g != 0;
                if (dl == 0)
                    continue;
                local++;
                double dg;
                if (keep_decay) {
                    /* only the Hebbian term takes the global sign */
                    dg = fabs(h) * -sgn(g) - d;
                    reversed += h != 0 && g != 0 && sgn(h) == sgn(g);
                } else {
                    dg = fabs(dl) * -sgn(g);
                    reversed += dg != 0 && sgn(dg) != sgn(dl);
                }
                double v = *wij + dg;
                *wij = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
            }
    assert_true(nonzero_g > 0);
    assert_true(reversed > 0 && reversed < local);
    assert_int_equal(o.cnt.local, local);
    assert_int_equal(o.cnt.reversed, reversed);
    size_t changed = 0, n_conn = 0;
    for (size_t q = 0; q < NI * NO; q++) {
        snn_assert_close(o.w[q], w[q], 1e-12, 1e-15);
        changed += o.w[q] != o.w0[q];
        n_conn += o.conn[q];
    }
    assert_true(changed > 100);
    assert_int_equal(n_conn, sparse ? NO * 256 : NI * NO);
    assert_int_equal(o.nnz, n_conn);
    free(w);
    free(X);
    free(dX);
    run_free(&o);
    snn_spec_free(sp);
}

static void test_direction_closed_form(void **state)
{
    (void)state;
    direction_closed_form(0, 0);
    direction_closed_form(1, 0);
    direction_closed_form(0, 1);
    direction_closed_form(1, 1);
}

static void same_features(const run_out *a, const run_out *b)
{
    assert_int_equal(a->n_phases, b->n_phases);
    for (size_t f = 0; f < a->n_phases; f++) {
        const snn_phase_features *p = &a->feat[f], *q = &b->feat[f];
        assert_int_equal(p->n, q->n);
        assert_int_equal(p->cols, q->cols);
        if (p->cols)
            assert_memory_equal(p->counts, q->counts, p->n * p->cols * sizeof(uint32_t));
    }
}

static void test_none_is_plain_hebbian(void **state)
{
    (void)state;
    const char *ov[] = {"projections.xe.plasticity.mode=\"none\""};
    snn_spec *sp = load(ov, 1);
    run_out a = {0}, b = {0};
    run(sp, 1, 1, &a);
    run(sp, 1, 0, &b);
    assert_int_equal(a.batches, 1);
    assert_memory_equal(a.w, b.w, a.n_w * sizeof(double));
    same_features(&a, &b);
    size_t changed = 0;
    for (size_t q = 0; q < a.n_w; q++)
        changed += a.w[q] != a.w0[q];
    assert_true(changed > 100);   /* it did learn: Oja on every sample */
    assert_int_equal(a.cnt.stimuli, 16);
    run_free(&a);
    run_free(&b);
    snn_spec_free(sp);
}

static void threads_case(int sparse)
{
    const char *ov[] = {"guided.batch=6", "projections.xe.plasticity.sign=\"synapse\"",
                        LOCAL_XE};
    snn_spec *sp = load(ov, sparse ? 8 : 2);
    run_out a = {0}, b = {0};
    run(sp, 1, 1, &a);
    run(sp, 2, 1, &b);
    assert_int_equal(a.batches, 3);       /* 6 + 6 + 4 samples */
    assert_int_equal(a.nb, 4);
    assert_memory_equal(a.w, b.w, a.n_w * sizeof(double));
    assert_memory_equal(a.dX, b.dX, a.nb * 20 * sizeof(double));
    same_features(&a, &b);
    assert_true(a.cnt.gated > 0);   /* synapse sign: silent pixels have a zero sign */
    run_free(&a);
    run_free(&b);
    snn_spec_free(sp);
}

static void test_threads(void **state)
{
    (void)state;
    threads_case(0);
    threads_case(1);
}

/* Schedule interleave: hook calls on hand-made counts. */
static void test_interleave(void **state)
{
    (void)state;
    const char *ov[] = {"guided.batch=2", "guided.schedule=\"interleave\""};
    snn_spec *sp = load(ov, 2);
    snn_err err;
    snn_net *net = NULL;
    if (snn_net_build(&net, sp, 1, &err))
        fail_msg("%s", err.msg);
    snn_proj *pj = &net->projs[0];
    const size_t NI = 784, NO = 20, NW = NI * NO;
    const double eta = 1e-6, hz = 1000.0 / 50.0;
    snn_ghl_run *g = NULL;
    assert_int_equal(snn_ghl_run_create(&g, net, &err), SNN_OK);
    uint32_t pre[NI], post[3][NO];
    uint8_t lab[3] = {1, 8, 3};
    for (size_t i = 0; i < NI; i++)
        pre[i] = (uint32_t)((i * 7) % 5);
    for (size_t j = 0; j < NO; j++)
        for (size_t s = 0; s < 3; s++)
            post[s][j] = (uint32_t)((j * (s + 2) + 3 * s) % 7);
    double *w0 = malloc(NW * sizeof *w0);
    memcpy(w0, pj->w_dense, NW * sizeof *w0);
    for (size_t s = 0; s < 2; s++) {
        snn_sample_stats st = {pre, post[s], 50.0, NULL};
        assert_int_equal(snn_ghl_run_on_sample(g, 0, s, 10, lab[s], pj, &st, &err), SNN_OK);
    }
    assert_memory_equal(w0, pj->w_dense, NW * sizeof *w0);
    snn_readout *r = NULL;
    assert_int_equal(snn_readout_create(&r, &sp->readout.cfg, NO, 10, &err), SNN_OK);
    double X[3 * NO], dx[NO];
    for (size_t s = 0; s < 3; s++)
        for (size_t j = 0; j < NO; j++)
            X[s * NO + j] = post[s][j];
    assert_int_equal(snn_readout_fit_norm(r, X, 2, &err), SNN_OK);
    assert_int_equal(snn_readout_train_batch(r, X, lab, 2, 0, NULL, NULL, &err), SNN_OK);
    assert_int_equal(snn_readout_input_grad(r, X + 2 * NO, lab + 2, 1, NULL, NULL, dx, &err),
                     SNN_OK);
    snn_readout_free(r);
    snn_sample_stats st = {pre, post[2], 50.0, NULL};
    assert_int_equal(snn_ghl_run_on_sample(g, 0, 2, 10, lab[2], pj, &st, &err), SNN_OK);
    size_t changed = 0;
    for (size_t i = 0; i < NI; i++)
        for (size_t j = 0; j < NO; j++) {
            size_t q = i * NO + j;
            double x = pre[i] * hz, y = post[2][j] * hz;
            double dl = eta * y * (x - y * w0[q]);
            double v = w0[q] + (dl == 0 ? 0.0 : fabs(dl) * -sgn(dx[j]));
            v = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
            snn_assert_close(pj->w_dense[q], v, 1e-12, 1e-15);
            changed += pj->w_dense[q] != w0[q];
        }
    assert_true(changed > 1000);
    free(w0);
    snn_ghl_run_free(g);
    snn_net_free(net);
    snn_spec_free(sp);
}

/* Rule three_factor: hook calls on hand-made counts around a stretch of
   simulation that fills the eligibility traces. */
static void three_factor_case(int reward)
{
    const char *ov[] = {"projections.xe.plasticity={rule=\"three_factor\"; eta=0.5; "
                        "A_plus=0.05; A_minus=0.04; tau_e=50.0; w_max=1.0;}",
                        "guided.batch=2",
                        reward ? "guided.modulator=\"reward\"" : "guided.modulator=\"sign\"",
                        "inputs.pixels.rate_hz=40.0"};
    snn_spec *sp = load(ov, 4);
    snn_err err;
    snn_net *net = NULL;
    if (snn_net_build(&net, sp, 1, &err))
        fail_msg("%s", err.msg);
    snn_proj *pj = &net->projs[0];
    const size_t NI = 784, NO = 20, NW = NI * NO;
    snn_ghl_run *g = NULL;
    assert_int_equal(snn_ghl_run_create(&g, net, &err), SNN_OK);
    uint32_t pre[NI], post[3][NO];
    uint8_t lab[3] = {4, 7, reward ? 7 : 2};
    memset(pre, 0, sizeof pre);
    for (size_t j = 0; j < NO; j++)
        for (size_t s = 0; s < 3; s++)
            post[s][j] = (uint32_t)((j * (s + 3) + 5 * s) % 9);
    double *w0 = malloc(NW * sizeof *w0), *e = malloc(NW * sizeof *e);
    memcpy(w0, pj->w_dense, NW * sizeof *w0);
    assert_int_equal(snn_sched_run(net, 400, NULL, NULL, &err), SNN_OK);
    assert_memory_equal(w0, pj->w_dense, NW * sizeof *w0);   /* pairings alone: no change */
    /* the first mini-batch: the readout is fitted and steps; nothing delivered */
    for (size_t s = 0; s < 2; s++) {
        snn_sample_stats st = {pre, post[s], 50.0, NULL};
        assert_int_equal(snn_ghl_run_on_sample(g, 0, s, 10, lab[s], pj, &st, &err), SNN_OK);
    }
    assert_int_equal(snn_ghl_run_batches(g), 1);
    assert_memory_equal(w0, pj->w_dense, NW * sizeof *w0);
    assert_int_equal(snn_three_factor_eligibility(pj, net->step, e, &err), SNN_OK);
    size_t nz = 0;
    for (size_t q = 0; q < NW; q++)
        nz += e[q] != 0;
    assert_true(nz > 100);

    /* the independent readout: the same batch, then the third sample */
    snn_readout *r = NULL;
    assert_int_equal(snn_readout_create(&r, &sp->readout.cfg, NO, 10, &err), SNN_OK);
    double X[3 * NO], dx[NO], M = 1.0, m[NO];
    for (size_t s = 0; s < 3; s++)
        for (size_t j = 0; j < NO; j++)
            X[s * NO + j] = post[s][j];
    assert_int_equal(snn_readout_fit_norm(r, X, 2, &err), SNN_OK);
    assert_int_equal(snn_readout_train_batch(r, X, lab, 2, 0, NULL, NULL, &err), SNN_OK);
    if (reward) {
        double acc;
        assert_int_equal(snn_readout_evaluate(r, X + 2 * NO, lab + 2, 1, &acc, NULL, NULL, &err),
                         SNN_OK);
        M = acc > 0.5 ? 1.0 : -1.0;
        for (size_t j = 0; j < NO; j++)
            m[j] = 1.0;
    } else {
        assert_int_equal(snn_readout_input_grad(r, X + 2 * NO, lab + 2, 1, NULL, NULL, dx, &err),
                         SNN_OK);
        size_t nonzero = 0;
        for (size_t j = 0; j < NO; j++) {
            m[j] = dx[j] > 0 ? -1.0 : (dx[j] < 0 ? 1.0 : 0.0);
            nonzero += m[j] != 0;
        }
        assert_true(nonzero > 0);
    }
    snn_readout_free(r);
    snn_sample_stats st = {pre, post[2], 50.0, NULL};
    assert_int_equal(snn_ghl_run_on_sample(g, 0, 2, 10, lab[2], pj, &st, &err), SNN_OK);
    size_t changed = 0;
    for (size_t i = 0; i < NI; i++)
        for (size_t j = 0; j < NO; j++) {
            size_t q = i * NO + j;
            double v = w0[q] + 0.5 * M * m[j] * e[q];
            v = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
            snn_assert_close(pj->w_dense[q], v, 1e-12, 1e-15);
            changed += pj->w_dense[q] != w0[q];
        }
    assert_true(changed > 50);
    free(w0);
    free(e);
    snn_ghl_run_free(g);
    snn_net_free(net);
    snn_spec_free(sp);
}

static void test_three_factor_sign(void **state)
{
    (void)state;
    three_factor_case(0);
}

static void test_three_factor_reward(void **state)
{
    (void)state;
    three_factor_case(1);
}

/* /ghl/xe/... per mini-batch: 6 + 6 + 4 samples, the rule's counters. */
static void test_h5_record(void **state)
{
    (void)state;
    const char *ov[] = {"guided.batch=6"};
    snn_spec *sp = load(ov, 1);
    run_out o = {0};
    char path[] = "/tmp/snn_ghl_runXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    run_h5(sp, 1, 1, &o, path);
    snn_err err;
    uint64_t *v = NULL;
    double *d = NULL;
    size_t n = 0;
    assert_int_equal(snn_h5_read_u64(path, "/ghl/xe/samples", &v, &n, &err), SNN_OK);
    assert_int_equal(n, 3);
    assert_int_equal(v[0], 6);
    assert_int_equal(v[1], 12);
    assert_int_equal(v[2], 16);
    free(v);
    assert_int_equal(snn_h5_read_u64(path, "/ghl/xe/local", &v, &n, &err), SNN_OK);
    assert_int_equal(n, 3);
    assert_true(v[0] > 0 && v[0] < v[1] && v[1] < v[2]);
    assert_int_equal(v[2], o.cnt.local);
    free(v);
    assert_int_equal(snn_h5_read_u64(path, "/ghl/xe/reversed", &v, &n, &err), SNN_OK);
    assert_int_equal(v[2], o.cnt.reversed);
    assert_true(v[0] > 0);
    free(v);
    assert_int_equal(snn_h5_read_f64(path, "/ghl/xe/accuracy", &d, &n, &err), SNN_OK);
    assert_int_equal(n, 3);
    for (size_t k = 0; k < n; k++) /* fraction of 6, 6 and 4 samples */
        assert_true(d[k] >= 0 && d[k] <= 1 && fmod(d[k] * (k < 2 ? 6 : 4), 1.0) < 1e-9);
    free(d);
    assert_int_equal(snn_h5_read_f64(path, "/ghl/xe/loss", &d, &n, &err), SNN_OK);
    assert_true(d[0] > 0 && isfinite(d[2]));
    free(d);
    unlink(path);
    run_free(&o);
    snn_spec_free(sp);
}

static void expect_cfg_fail(const char *const *ov, size_t n, const char *what)
{
    snn_spec *sp = NULL;
    snn_err err;
    assert_int_equal(snn_cfg_load(CFG, ov, n, &sp, &err), SNN_ECFG);
    if (!strstr(err.msg, what))
        fail_msg("expected \"%s\" in: %s", what, err.msg);
}

static void test_refusals(void **state)
{
    (void)state;
    snn_err err;
    snn_net *net = NULL;
    snn_ghl_run *g = NULL;
    const char *hebb[] = {"projections.xe.plasticity={rule=\"oja\";}"};
    snn_spec *sp = load(hebb, 1);
    assert_int_equal(snn_net_build(&net, sp, 1, &err), SNN_OK);
    assert_int_equal(snn_ghl_run_create(&g, net, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "must use plasticity rule \"ghl\""));
    snn_net_free(net);
    snn_spec_free(sp);

    const char *o1[] = {"guided.projection=\"xx\""};
    expect_cfg_fail(o1, 1, "no such projection");
    const char *o2[] = {"guided.batch=17"};
    expect_cfg_fail(o2, 1, "must be at most readout.batch = 16");
    const char *o3[] = {"guided.schedule=\"sometimes\""};
    expect_cfg_fail(o3, 1, "schedule");
    const char *o4[] = {"guided.batchs=3"};
    expect_cfg_fail(o4, 1, "batchs");

    /* pruning needs dense weights */
    const char *o5[] = {LOCAL_XE, "projections.xe.plasticity.prune_every=4",
                        "projections.xe.plasticity.prune_fraction=0.1"};
    sp = load(o5, 8);
    assert_int_equal(snn_net_build(&net, sp, 1, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "pruning (prune_every, prune_fraction) needs dense weights"));
    assert_non_null(strstr(err.msg, "projection 'xe'"));
    snn_spec_free(sp);

    /* at most one synapse per pair: 700 of 784 sources drawn with repeats
       (k = 700) repeat some pair (the birthday bound makes it certain) */
    const char *o6[] = {"projections.xe.connector=\"fixed_indegree\"", "projections.xe.k=700",
                        "projections.xe.multapses=true"};
    sp = load(o6, 3);
    assert_int_equal(snn_net_build(&net, sp, 1, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "the rule needs at most one per pair"));
    assert_non_null(strstr(err.msg, "ghl_small.cfg:"));
    snn_spec_free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direction_closed_form),
        cmocka_unit_test(test_none_is_plain_hebbian),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_h5_record),
        cmocka_unit_test(test_interleave),
        cmocka_unit_test(test_three_factor_sign),
        cmocka_unit_test(test_three_factor_reward),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
