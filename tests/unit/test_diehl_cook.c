/*
 * tests/unit/test_diehl_cook.c: rules/diehl_cook.c through the engine.
 *
 * One pre neuron (a spike-time source) projects plastically onto one LIF
 * neuron that a second source makes fire at chosen times.  Spike times of
 * both sides are measured in the run, and the final weight must equal the
 * rule applied by hand, event by event, to 1e-12: pre-before-post and
 * post-before-pre pairs at several dt (mu = 1 and mu = 0.5), the x_tar term
 * (post spikes without any pre spike), "set" against "add" traces, clipping
 * at 0 and w_max, a bad parameter set, and bit-identical plastic weights for
 * 1, 2 and 3 threads; on_post on a dense column against the definition,
 * bit for bit.
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "rules/rule.h"
#include "sim/net.h"
#include "sim/sched.h"

#include "../rule_pair.h"

enum { ETA_PRE, ETA_POST, X_TAR, TAU_PRE, TAU_POST, W_MAX, MU, TRACE, N_PAR };
enum { ADD = 0, SET = 1 };

typedef rp_out run_out;

static snn_net *build(snn_spec **sp, const double *pre_t, size_t n_pre, const double *drive_t,
                      size_t n_drive, double w0, const double *par, int threads, snn_err *err)
{
    return rp_build("diehl_cook", N_PAR, sp, pre_t, n_pre, drive_t, n_drive, w0, par, threads, err);
}

static run_out run(const double *pre_t, size_t n_pre, const double *drive_t, size_t n_drive,
                   double w0, const double *par)
{
    return rp_run("diehl_cook", N_PAR, pre_t, n_pre, drive_t, n_drive, w0, par);
}

/* Trace of one spike at ts seen at t > ts. */
static double tr(double t, double ts, double tau)
{
    return exp(-(t - ts) / tau);
}

/* The rule's two updates, written out from the definitions. */
static double at_post(double w, double x_pre, const double *p)
{
    double f = p[MU] == 0.0 ? 1.0 : pow(p[W_MAX] - w, p[MU]);
    return w + p[ETA_POST] * (x_pre - p[X_TAR]) * f;
}

static double at_pre(double w, double x_post, const double *p)
{
    double f = p[MU] == 0.0 ? 1.0 : pow(w, p[MU]);
    return w - p[ETA_PRE] * x_post * f;
}

static const double base_par[N_PAR] = {
    [ETA_PRE] = 0.05, [ETA_POST] = 0.1, [X_TAR] = 0.2, [TAU_PRE] = 20.0,
    [TAU_POST] = 20.0, [W_MAX] = 1.0,   [MU] = 1.0,    [TRACE] = SET,
};

/* One pre and one post spike at several dt, for mu = 1 and mu = 0.5. */
static void test_pairs(void **state)
{
    (void)state;
    double par[N_PAR];
    memcpy(par, base_par, sizeof par);
    par[TAU_POST] = 30.0; /* tell the two windows apart */
    const double w0 = 0.6, t_pre = 40.0;
    const double drive[] = {10.0, 25.0, 37.0, 39.5, 39.8, 39.9, 40.2, 43.0, 55.0, 80.0};
    const double mus[] = {1.0, 0.5};
    for (size_t u = 0; u < 2; u++) {
        par[MU] = mus[u];
        for (size_t q = 0; q < sizeof drive / sizeof drive[0]; q++) {
            run_out r = run(&t_pre, 1, &drive[q], 1, w0, par);
            double tp = r.t_pre[0], tq = r.t_post[0], d = tq - tp, want;
            if (d > 1e-9) /* pre then post: the pre spike sees x_post = 0 */
                want = at_post(w0, tr(tq, tp, par[TAU_PRE]), par);
            else if (d < -1e-9) /* post (x_pre = 0) then pre */
                want = at_pre(at_post(w0, 0.0, par), tr(tp, tq, par[TAU_POST]), par);
            else /* same step: neither sees the other */
                want = at_pre(at_post(w0, 0.0, par), 0.0, par);
            print_message("mu = %.1f, dt = %+6.1f ms: w = %.15f (closed form %.15f)\n", par[MU],
                          d, r.w, want);
            snn_assert_close(r.w, want, 1e-12, 0);
        }
    }
}

/* Post spikes with no pre spike at all: each depresses by
   eta_post x_tar (w_max - w)^mu. */
static void test_x_tar(void **state)
{
    (void)state;
    double par[N_PAR];
    memcpy(par, base_par, sizeof par);
    const double w0 = 0.3, drive[] = {20.0, 50.0};
    const double mus[] = {1.0, 0.5, 0.0};
    for (size_t u = 0; u < 3; u++) {
        par[MU] = mus[u];
        run_out r = run(NULL, 0, drive, 2, w0, par);
        double f1 = pow(par[W_MAX] - w0, par[MU]);
        double w1 = w0 - par[ETA_POST] * par[X_TAR] * f1;
        double w2 = w1 - par[ETA_POST] * par[X_TAR] * pow(par[W_MAX] - w1, par[MU]);
        print_message("mu = %.1f: w = %.15f (closed form %.15f)\n", par[MU], r.w, w2);
        snn_assert_close(r.w, w2, 1e-12, 0);
        assert_true(r.w < w0);
    }
    /* x_tar = 0: nothing happens without pre spikes. */
    par[X_TAR] = 0.0;
    assert_true(run(NULL, 0, drive, 2, w0, par).w == w0);
}

/* Two spikes of one side before a spike of the other: "set" keeps only the
   latest, "add" sums both. */
static void test_trace_modes(void **state)
{
    (void)state;
    double par[N_PAR];
    memcpy(par, base_par, sizeof par);
    par[X_TAR] = 0.0;
    const double w0 = 0.5;
    const double pre2[] = {30.0, 36.0}, drive1 = 45.0;
    const double pre1 = 60.0, drive2[] = {40.0, 48.0};
    for (int mode = ADD; mode <= SET; mode++) {
        par[TRACE] = mode;
        /* pre - pre - post */
        run_out a = run(pre2, 2, &drive1, 1, w0, par);
        double tq = a.t_post[0];
        double x = tr(tq, a.t_pre[1], par[TAU_PRE]);
        if (mode == ADD)
            x += tr(tq, a.t_pre[0], par[TAU_PRE]);
        snn_assert_close(a.w, at_post(w0, x, par), 1e-12, 0);
        /* post - post - pre (x_tar = 0: the post spikes change nothing) */
        run_out b = run(&pre1, 1, drive2, 2, w0, par);
        double tp = b.t_pre[0];
        double y = tr(tp, b.t_post[1], par[TAU_POST]);
        if (mode == ADD)
            y += tr(tp, b.t_post[0], par[TAU_POST]);
        snn_assert_close(b.w, at_pre(w0, y, par), 1e-12, 0);
        print_message("trace %s: w = %.15f, %.15f\n", mode == ADD ? "add" : "set", a.w, b.w);
    }
}

static void test_clipping(void **state)
{
    (void)state;
    double par[N_PAR];
    memcpy(par, base_par, sizeof par);
    par[MU] = 0.0; /* additive: nothing keeps w inside but the clip */
    par[ETA_PRE] = par[ETA_POST] = 10.0;
    par[X_TAR] = 0.0;
    const double t_pre = 40.0, up = 45.0, dn = 30.0, w0 = 0.5;
    assert_true(run(&t_pre, 1, &up, 1, w0, par).w == par[W_MAX]);
    assert_true(run(&t_pre, 1, &dn, 1, w0, par).w == 0.0);
    /* The x_tar term alone, down to 0. */
    par[X_TAR] = 1.0;
    assert_true(run(NULL, 0, &up, 1, w0, par).w == 0.0);
    /* Soft bound with "add" traces above 1: the step overshoots w_max. */
    memcpy(par, base_par, sizeof par);
    par[TRACE] = ADD;
    par[ETA_POST] = 1.0;
    par[X_TAR] = 0.0;
    const double pre_t[] = {40.0, 40.5, 41.0}, late = 41.5;
    assert_true(run(pre_t, 3, &late, 1, w0, par).w == par[W_MAX]);
}

static void test_defaults_and_bad_bounds(void **state)
{
    (void)state;
    const snn_rule_type *t = snn_rule_find("diehl_cook");
    assert_non_null(t);
    assert_string_equal(t->params[ETA_PRE].key, "eta_pre");
    assert_string_equal(t->params[X_TAR].key, "x_tar");
    assert_string_equal(t->params[TRACE].key, "trace");
    assert_string_equal(t->params[TRACE].choices[(int)t->params[TRACE].def], "set");
    assert_true(t->params[ETA_PRE].def == 1e-4 && t->params[ETA_POST].def == 1e-2);
    for (size_t i = 0; i < t->n_params; i++)
        assert_true(t->params[i].def >= t->params[i].lo && t->params[i].def <= t->params[i].hi);
    double par[N_PAR];
    memcpy(par, base_par, sizeof par);
    par[W_MAX] = 0.0;
    snn_spec *s;
    snn_err err;
    const double t_pre = 40.0, drive = 45.0;
    snn_net *net = build(&s, &t_pre, 1, &drive, 1, 0.5, par, 1, &err);
    assert_null(net);
    assert_non_null(strstr(err.msg, "w_max"));
    snn_spec_free(s);
}

/* A plastic recurrent network: the same weights for any thread count. */
static void test_threads_identical(void **state)
{
    (void)state;
    double a[N_PAR], b[N_PAR];
    memcpy(a, base_par, sizeof a);
    a[W_MAX] = 60.0;
    a[ETA_PRE] = 0.01;
    a[ETA_POST] = 0.02;
    a[X_TAR] = 0.1;
    memcpy(b, a, sizeof b);
    a[TRACE] = ADD; /* dense input: add traces, mu 1 */
    a[MU] = 1.0;
    b[TRACE] = SET; /* sparse recurrence: set traces, mu 0.7 */
    b[MU] = 0.7;
    rp_check_threads_identical("diehl_cook", a, b, N_PAR);
}

/*
 * on_post on a dense projection (all to all, one delay: the engine hands
 * over a column of w_dense with pos[m] = m n_post + post), mu = 1: every
 * synapse of the column must equal the update written out from the
 * definition, bit for bit (clipped to [0, w_max], including weights above
 * w_max and pre traces of 0), the other columns must not move, and the
 * same column held outside w_dense (the indexed path) must give the same
 * bits.  37 pre neurons (not a multiple of the vector width), 5 post.
 */
static void test_dense_column(void **state)
{
    (void)state;
    enum { NPRE = 37, NPOST = 5 };
    const double dt = 0.1;
    double par[N_PAR];
    memcpy(par, base_par, sizeof par);
    snn_spec *s = fx_spec(dt, 10.0, 1);
    uint32_t pre = fx_pop(s, "pre", "poisson", NPRE);
    uint32_t post = fx_pop(s, "post", "lif", NPOST);
    snn_proj_spec *pl = fx_proj(s, pre, post, SNN_CONN_ALL_TO_ALL, 0.5, 0.5);
    pl->rule = snn_rule_find("diehl_cook");
    assert_non_null(pl->rule);
    pl->rule_par = malloc(N_PAR * sizeof(double));
    memcpy(pl->rule_par, par, N_PAR * sizeof(double));
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 1, &err))
        fail_msg("%s", err.msg);
    snn_proj *pj = &net->projs[0];
    assert_true(pj->dense && pj->n_parts == 1);
    snn_part *pt = &pj->parts[0];
    assert_int_equal(pj->pre->n_traces, 1);
    double *x = pj->pre->traces[0].x;
    double *w = pj->w_dense, w0[NPRE * NPOST], w2[NPRE * NPOST];
    for (size_t i = 0; i < NPRE; i++) {
        x[i] = i % 4 == 0 ? 0.0 : 0.03 * (double)i; /* around x_tar = 0.2, and 0 */
        for (size_t j = 0; j < NPOST; j++)
            w[i * NPOST + j] = i % 9 == 0 ? 1.3 : (i % 7 == 0 ? 0.0 : 0.027 * (double)(i + j));
    }
    w[5 * NPOST + 2] = par[W_MAX];
    memcpy(w0, w, sizeof w0);
    memcpy(w2, w, sizeof w2);
    const uint32_t j = 2;
    for (size_t i = 0; i < NPRE; i++)
        pt->cpos[i] = i * NPOST + j;
    const snn_rule *r = pj->rule;
    r->type->on_post(r, pj, j, pt->all_pre, pt->cpos, w, NPRE, 0);
    r->type->on_post(r, pj, j, pt->all_pre, pt->cpos, w2, NPRE, 0);
    size_t clipped_hi = 0, clipped_lo = 0;
    for (size_t i = 0; i < NPRE; i++)
        for (size_t q = 0; q < NPOST; q++) {
            size_t k = i * NPOST + q;
            if (q != j) {
                assert_true(w[k] == w0[k]);
                continue;
            }
            double b = par[W_MAX] - w0[k];
            double e = w0[k] + par[ETA_POST] * (x[i] - par[X_TAR]) * (b > 0.0 ? b : 0.0);
            e = e < 0.0 ? 0.0 : (e > par[W_MAX] ? par[W_MAX] : e);
            clipped_hi += w0[k] > par[W_MAX];
            clipped_lo += w0[k] == 0.0 && x[i] < par[X_TAR];
            assert_true(w[k] == e);
        }
    assert_true(clipped_hi > 0 && clipped_lo > 0);
    assert_memory_equal(w, w2, sizeof w2);
    snn_net_free(net);
    snn_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_x_tar),
        cmocka_unit_test(test_trace_modes),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_defaults_and_bad_bounds),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_dense_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
