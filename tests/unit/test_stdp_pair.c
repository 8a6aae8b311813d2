/*
 * tests/unit/test_stdp_pair.c: rules/stdp_pair.c through the engine.
 *
 * One pre neuron (a spike-time source) projects plastically onto one LIF
 * neuron that a second source makes fire at a chosen time.  The final weight
 * must equal the closed form of the STDP window at the measured spike-time
 * difference, to 1e-12: w0 + A+ exp(-dt/tau+) for post after pre,
 * w0 - A- exp(-dt/tau-) for pre after post, for several dt of both signs;
 * then soft bounds (mu), clipping, all-to-all vs nearest pairing, and
 * bit-identical plastic weights for 1, 2 and 3 threads.
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

enum { A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, W_MIN, W_MAX, MU, PAIRING };

static void set_times(snn_pop_spec *p, const double *t, size_t n)
{
    p->n_spikes = n;
    p->spike_ids = calloc(n, sizeof(uint32_t));
    p->spike_times_ms = malloc(n * sizeof(double));
    memcpy(p->spike_times_ms, t, n * sizeof(double));
}

typedef struct pair_run {
    double w;          /* final weight */
    double t_post;     /* measured post spike time (ms) */
    size_t n_post;
} pair_run;

static bool g_frozen = false;

/* Pre spikes at pre_t[], a post spike driven to happen near t_drive;
   rule parameters par[] (stdp_pair order).  With g_frozen the rules are
   switched off. */
static pair_run run_pair(const double *pre_t, size_t n_pre, double t_drive, double w0,
                         const double *par, int threads)
{
    const double dt = 0.1;
    snn_spec *s = fx_spec(dt, 100, 1);
    uint32_t pre = fx_pop(s, "pre", "spike_times", 1);
    set_times(&s->pops[pre], pre_t, n_pre);
    uint32_t drv = fx_pop(s, "drv", "spike_times", 1);
    set_times(&s->pops[drv], &t_drive, 1);
    uint32_t post = fx_pop(s, "post", "lif", 1);
    fx_par(s, post, "synapse", 1); /* delta: the drive fires it in one step */
    fx_par(s, post, "E_L", 0.0);
    fx_par(s, post, "V_reset", 0.0);
    fx_par(s, post, "V_th", 10.0);
    fx_proj(s, drv, post, SNN_CONN_ONE_TO_ONE, 50.0, dt);
    snn_proj_spec *pl = fx_proj(s, pre, post, SNN_CONN_ONE_TO_ONE, w0, 0.5);
    pl->rule = snn_rule_find("stdp_pair");
    assert_non_null(pl->rule);
    pl->rule_par = malloc(pl->rule->n_params * sizeof(double));
    memcpy(pl->rule_par, par, pl->rule->n_params * sizeof(double));
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("%s", err.msg);
    pair_run r = {0, 0, 0};
    snn_net_set_plastic(net, !g_frozen);
    for (size_t k = 0; k < net->n_steps; k++) {
        if (snn_sched_clock_run(net, 1, NULL, NULL, &err))
            fail_msg("%s", err.msg);
        if (net->pops[post].spk[0].n) {
            r.n_post++;
            r.t_post = (double)(k + 1) * dt;
        }
    }
    r.w = net->projs[1].parts[0].w[0];
    snn_net_free(net);
    snn_spec_free(s);
    return r;
}

static const double base_par[] = {[A_PLUS] = 0.01, [A_MINUS] = 0.012, [TAU_PLUS] = 16.8,
                                  [TAU_MINUS] = 33.7, [W_MIN] = 0.0, [W_MAX] = 1.0,
                                  [MU] = 0.0, [PAIRING] = 0};

static void test_window(void **state)
{
    (void)state;
    const double w0 = 0.5, t_pre = 40.0;
    const double drive[] = {10.0, 25.0, 37.0, 39.5, 40.2, 43.0, 55.0, 80.0};
    for (size_t q = 0; q < sizeof drive / sizeof drive[0]; q++) {
        pair_run r = run_pair(&t_pre, 1, drive[q], w0, base_par, 1);
        assert_int_equal(r.n_post, 1);
        double d = r.t_post - t_pre, want;
        if (d > 1e-9)
            want = w0 + base_par[A_PLUS] * exp(-d / base_par[TAU_PLUS]);
        else if (d < -1e-9)
            want = w0 - base_par[A_MINUS] * exp(d / base_par[TAU_MINUS]);
        else
            want = w0;
        print_message("dt = %+6.1f ms: w = %.15f (closed form %.15f)\n", d, r.w, want);
        snn_assert_close(r.w, want, 1e-12, 0);
    }
}

/* Frozen weights: the same spikes change nothing. */
static void test_frozen(void **state)
{
    (void)state;
    const double t_pre = 40.0;
    g_frozen = true;
    pair_run a = run_pair(&t_pre, 1, 45.0, 0.5, base_par, 2);
    pair_run b = run_pair(&t_pre, 1, 30.0, 0.5, base_par, 1);
    g_frozen = false;
    assert_int_equal(a.n_post, 1);
    assert_true(a.w == 0.5 && b.w == 0.5);
}

static void test_soft_bounds_and_clipping(void **state)
{
    (void)state;
    double par[8];
    memcpy(par, base_par, sizeof par);
    par[MU] = 1.0;
    const double t_pre = 40.0, w0 = 0.8;
    pair_run up = run_pair(&t_pre, 1, 45.0, w0, par, 1);
    double d = up.t_post - t_pre;
    snn_assert_close(up.w, w0 + par[A_PLUS] * (par[W_MAX] - w0) * exp(-d / par[TAU_PLUS]), 1e-12,
                     0);
    pair_run dn = run_pair(&t_pre, 1, 30.0, w0, par, 1);
    d = t_pre - dn.t_post;
    snn_assert_close(dn.w, w0 - par[A_MINUS] * (w0 - par[W_MIN]) * exp(-d / par[TAU_MINUS]),
                     1e-12, 0);
    /* Additive with a huge amplitude: clipped at the bounds. */
    par[MU] = 0.0;
    par[A_PLUS] = par[A_MINUS] = 10.0;
    assert_true(run_pair(&t_pre, 1, 45.0, w0, par, 1).w == par[W_MAX]);
    assert_true(run_pair(&t_pre, 1, 30.0, w0, par, 1).w == par[W_MIN]);
}

static void test_pairing(void **state)
{
    (void)state;
    const double pre_t[] = {30.0, 38.0}, w0 = 0.5;
    double par[8];
    memcpy(par, base_par, sizeof par);
    pair_run all = run_pair(pre_t, 2, 43.0, w0, par, 1);
    double d1 = all.t_post - pre_t[0], d2 = all.t_post - pre_t[1];
    /* All-to-all: both earlier pre spikes count; the post spike also pairs
       with nothing later.  Nearest: only the latest pre spike.  (The second
       pre spike also sees the post trace, which is 0 before the post.) */
    snn_assert_close(all.w, w0 + par[A_PLUS] * (exp(-d1 / par[TAU_PLUS]) + exp(-d2 / par[TAU_PLUS])),
                     1e-12, 0);
    par[PAIRING] = 1;
    pair_run near = run_pair(pre_t, 2, 43.0, w0, par, 1);
    snn_assert_close(near.w, w0 + par[A_PLUS] * exp(-d2 / par[TAU_PLUS]), 1e-12, 0);
}

/* A plastic recurrent network: the same weights for any thread count. */
static void test_threads_identical(void **state)
{
    (void)state;
    double par[8];
    memcpy(par, base_par, sizeof par);
    par[W_MAX] = 60.0;
    par[A_PLUS] = 1.0;
    par[A_MINUS] = 1.05;
    rp_check_threads_identical("stdp_pair", par, par, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_frozen),
        cmocka_unit_test(test_soft_bounds_and_clipping),
        cmocka_unit_test(test_pairing),
        cmocka_unit_test(test_threads_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
