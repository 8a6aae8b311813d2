/*
 * tests/unit/test_stdp_triplet.c: rules/stdp_triplet.c through the engine.
 *
 * One pre neuron (a spike-time source) projects plastically onto one LIF
 * neuron that a second source makes fire at chosen times.  Spike times of
 * both sides are measured in the run, and the final weight must equal the
 * rule evaluated by hand from the trace definitions (r1, r2, o1, o2 each a sum
 * of exp(-(t - t_spike) / tau) over earlier spikes of its side), to 1e-12:
 * single pairs (pair STDP with A2_plus, A2_minus, whatever A3), the triplets
 * post-pre-post, pre-post-post and pre-post-pre, all-to-all sums of two pre
 * or two post spikes, clipping, a bad parameter set, and bit-identical
 * plastic weights for 1, 2 and 3 threads.
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

enum { A2_PLUS, A3_PLUS, A2_MINUS, A3_MINUS, TAU_PLUS, TAU_MINUS, TAU_X, TAU_Y, W_MIN, W_MAX,
       N_PAR };

typedef rp_out run_out;

static snn_net *build(snn_spec **sp, const double *pre_t, size_t n_pre, const double *drive_t,
                      size_t n_drive, double w0, const double *par, int threads, snn_err *err)
{
    return rp_build("stdp_triplet", N_PAR, sp, pre_t, n_pre, drive_t, n_drive, w0, par, threads, err);
}

static run_out run(const double *pre_t, size_t n_pre, const double *drive_t, size_t n_drive,
                   double w0, const double *par)
{
    return rp_run("stdp_triplet", N_PAR, pre_t, n_pre, drive_t, n_drive, w0, par);
}

/* Trace of one spike at ts seen at t > ts. */
static double tr(double t, double ts, double tau)
{
    return exp(-(t - ts) / tau);
}

static const double base_par[N_PAR] = {
    [A2_PLUS] = 0.01,  [A3_PLUS] = 0.02,   [A2_MINUS] = 0.012, [A3_MINUS] = 0.004,
    [TAU_PLUS] = 16.8, [TAU_MINUS] = 33.7, [TAU_X] = 101.0,    [TAU_Y] = 125.0,
    [W_MIN] = 0.0,     [W_MAX] = 1.0,
};

/* One pre and one post spike: pair STDP with A2 (r2, o2 are 0 at the only
   spike of their side, so the A3 terms vanish). */
static void test_pair(void **state)
{
    (void)state;
    const double *p = base_par, w0 = 0.5, t_pre = 40.0;
    const double drive[] = {10.0, 25.0, 37.0, 39.5, 39.8, 39.9, 40.2, 43.0, 55.0, 80.0};
    for (size_t q = 0; q < sizeof drive / sizeof drive[0]; q++) {
        run_out r = run(&t_pre, 1, &drive[q], 1, w0, p);
        double d = r.t_post[0] - r.t_pre[0], want;
        if (d > 1e-9)
            want = w0 + tr(r.t_post[0], r.t_pre[0], p[TAU_PLUS]) * p[A2_PLUS];
        else if (d < -1e-9)
            want = w0 - tr(r.t_pre[0], r.t_post[0], p[TAU_MINUS]) * p[A2_MINUS];
        else
            want = w0; /* same step: no pairing */
        print_message("dt = %+6.1f ms: w = %.15f (closed form %.15f)\n", d, r.w, want);
        snn_assert_close(r.w, want, 1e-12, 0);
    }
}

/* post (t1) - pre (t2) - post (t3). */
static void test_post_pre_post(void **state)
{
    (void)state;
    const double *p = base_par, w0 = 0.5, t_pre = 30.0, drive[] = {20.0, 45.0};
    run_out r = run(&t_pre, 1, drive, 2, w0, p);
    double t1 = r.t_post[0], t2 = r.t_pre[0], t3 = r.t_post[1];
    assert_true(t1 < t2 && t2 < t3);
    /* t1: r1 = 0.  t2: o1 = tr(t2, t1), r2 = 0.  t3: r1 = tr(t3, t2),
       o2 = tr(t3, t1) (before the spike at t3). */
    double want = w0 - tr(t2, t1, p[TAU_MINUS]) * p[A2_MINUS] +
                  tr(t3, t2, p[TAU_PLUS]) * (p[A2_PLUS] + p[A3_PLUS] * tr(t3, t1, p[TAU_Y]));
    print_message("post %.1f pre %.1f post %.1f: w = %.15f (closed form %.15f)\n", t1, t2, t3,
                  r.w, want);
    snn_assert_close(r.w, want, 1e-12, 0);
    /* The triplet term is what makes it differ from pair STDP. */
    assert_true(r.w - (w0 - tr(t2, t1, p[TAU_MINUS]) * p[A2_MINUS] +
                       tr(t3, t2, p[TAU_PLUS]) * p[A2_PLUS]) > 1e-3);
}

/* pre (t1) - post (t2) - post (t3). */
static void test_pre_post_post(void **state)
{
    (void)state;
    const double *p = base_par, w0 = 0.5, t_pre = 20.0, drive[] = {30.0, 45.0};
    run_out r = run(&t_pre, 1, drive, 2, w0, p);
    double t1 = r.t_pre[0], t2 = r.t_post[0], t3 = r.t_post[1];
    assert_true(t1 < t2 && t2 < t3);
    /* t2: r1 = tr(t2, t1), o2 = 0.  t3: r1 = tr(t3, t1), o2 = tr(t3, t2). */
    double want = w0 + tr(t2, t1, p[TAU_PLUS]) * p[A2_PLUS] +
                  tr(t3, t1, p[TAU_PLUS]) * (p[A2_PLUS] + p[A3_PLUS] * tr(t3, t2, p[TAU_Y]));
    print_message("pre %.1f post %.1f post %.1f: w = %.15f (closed form %.15f)\n", t1, t2, t3,
                  r.w, want);
    snn_assert_close(r.w, want, 1e-12, 0);
}

/* pre (t1) - post (t2) - pre (t3): the A3_minus term. */
static void test_pre_post_pre(void **state)
{
    (void)state;
    const double *p = base_par, w0 = 0.5, pre_t[] = {20.0, 45.0}, drive = 30.0;
    run_out r = run(pre_t, 2, &drive, 1, w0, p);
    double t1 = r.t_pre[0], t2 = r.t_post[0], t3 = r.t_pre[1];
    assert_true(t1 < t2 && t2 < t3);
    /* t1: o1 = 0.  t2: r1 = tr(t2, t1).  t3: o1 = tr(t3, t2), r2 = tr(t3, t1). */
    double want = w0 + tr(t2, t1, p[TAU_PLUS]) * p[A2_PLUS] -
                  tr(t3, t2, p[TAU_MINUS]) * (p[A2_MINUS] + p[A3_MINUS] * tr(t3, t1, p[TAU_X]));
    print_message("pre %.1f post %.1f pre %.1f: w = %.15f (closed form %.15f)\n", t1, t2, t3,
                  r.w, want);
    snn_assert_close(r.w, want, 1e-12, 0);
}

/* All-to-all: the fast traces sum over every earlier spike of their side. */
static void test_all_to_all_sums(void **state)
{
    (void)state;
    const double *p = base_par, w0 = 0.5;
    /* pre - pre - post: r1 at the post sums both pre spikes; o2 = 0. */
    const double pre_t[] = {20.0, 28.0}, drive1 = 35.0;
    run_out a = run(pre_t, 2, &drive1, 1, w0, p);
    double ta = a.t_post[0];
    double want = w0 + (tr(ta, a.t_pre[0], p[TAU_PLUS]) + tr(ta, a.t_pre[1], p[TAU_PLUS])) *
                           p[A2_PLUS];
    snn_assert_close(a.w, want, 1e-12, 0);
    /* post - post - pre: o1 at the pre sums both post spikes; r2 = 0.  The
       second post spike sees r1 = 0 and changes nothing. */
    const double t_pre = 50.0, drive2[] = {20.0, 35.0};
    run_out b = run(&t_pre, 1, drive2, 2, w0, p);
    double tb = b.t_pre[0];
    want = w0 - (tr(tb, b.t_post[0], p[TAU_MINUS]) + tr(tb, b.t_post[1], p[TAU_MINUS])) *
                    p[A2_MINUS];
    snn_assert_close(b.w, want, 1e-12, 0);
}

static void test_clipping(void **state)
{
    (void)state;
    double par[N_PAR];
    memcpy(par, base_par, sizeof par);
    par[A2_PLUS] = par[A2_MINUS] = 10.0;
    par[W_MIN] = -0.25;
    const double t_pre = 40.0, up = 45.0, dn = 30.0, w0 = 0.5;
    assert_true(run(&t_pre, 1, &up, 1, w0, par).w == par[W_MAX]);
    assert_true(run(&t_pre, 1, &dn, 1, w0, par).w == par[W_MIN]);
    /* Clipped by the triplet term alone: the pair term stays inside. */
    memcpy(par, base_par, sizeof par);
    par[A3_PLUS] = 50.0;
    const double drive[] = {30.0, 45.0};
    const double t1 = 20.0;
    assert_true(run(&t1, 1, drive, 2, w0, par).w == par[W_MAX]);
}

static void test_defaults_and_bad_bounds(void **state)
{
    (void)state;
    const snn_rule_type *t = snn_rule_find("stdp_triplet");
    assert_non_null(t);
    assert_string_equal(t->params[A2_PLUS].key, "A2_plus");
    assert_string_equal(t->params[A3_MINUS].key, "A3_minus");
    assert_string_equal(t->params[TAU_Y].key, "tau_y");
    assert_true(t->params[A3_PLUS].def == 6.2e-3 && t->params[TAU_X].def == 101.0);
    for (size_t i = 0; i < t->n_params; i++)
        assert_true(t->params[i].def >= t->params[i].lo && t->params[i].def <= t->params[i].hi);
    double par[N_PAR];
    memcpy(par, base_par, sizeof par);
    par[W_MIN] = par[W_MAX];
    snn_spec *s;
    snn_err err;
    const double t_pre = 40.0, drive = 45.0;
    snn_net *net = build(&s, &t_pre, 1, &drive, 1, 0.5, par, 1, &err);
    assert_null(net);
    assert_non_null(strstr(err.msg, "w_min"));
    snn_spec_free(s);
}

/* A plastic recurrent network: the same weights for any thread count. */
static void test_threads_identical(void **state)
{
    (void)state;
    double par[N_PAR];
    memcpy(par, base_par, sizeof par);
    par[W_MAX] = 60.0;
    par[A2_PLUS] = 0.5;
    par[A3_PLUS] = 0.5;
    par[A2_MINUS] = 1.05;
    par[A3_MINUS] = 0.1;
    rp_check_threads_identical("stdp_triplet", par, par, N_PAR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pair),
        cmocka_unit_test(test_post_pre_post),
        cmocka_unit_test(test_pre_post_post),
        cmocka_unit_test(test_pre_post_pre),
        cmocka_unit_test(test_all_to_all_sums),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_defaults_and_bad_bounds),
        cmocka_unit_test(test_threads_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
