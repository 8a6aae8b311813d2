/*
 * tests/unit/test_three_factor.c: rules/three_factor.c through the engine.
 *
 * The shared pair harness (tests/rule_pair.h): one spike-time pre neuron
 * onto one LIF neuron that a driver makes fire at chosen times.  Checked
 * against hand-computed values at the measured spike times:
 *   - a pre->post pair leaves e = A+ exp(-d/tau+) exp(-(t - t_post)/tau_e)
 *     and a post->pre pair e = -A- exp(-d/tau-) exp(-(t - t_pre)/tau_e),
 *     with the weight untouched until a modulator is delivered;
 *   - the trace decays by exp(-Δt/tau_e) between two reads;
 *   - delivery changes w by eta M e, then resets (or keeps) e;
 *   - M = 0 leaves every weight bit-identical;
 *   - M = 1 (tau_e = 0, eta = 1) gives pair STDP's weight (stdp_pair) for
 *     all-to-all and nearest pairing, delivered once or after each "sample";
 *   - the per-post factor and the learners of on_sample_end;
 *   - bit-identical weights for 1 and 2 threads on a dense + sparse
 *     plastic network; errors for the wrong projection or a NaN M.
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "rules/rule.h"
#include "rules/three_factor.h"
#include "sim/net.h"
#include "sim/sched.h"

#include "../rule_pair.h"

enum { A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, TAU_E, ETA, W_MIN, W_MAX, PAIRING, ELIG, NPAR };

static const double base_par[NPAR] = {[A_PLUS] = 0.01,  [A_MINUS] = 0.012, [TAU_PLUS] = 16.8,
                                      [TAU_MINUS] = 33.7, [TAU_E] = 50.0,  [ETA] = 1.0,
                                      [W_MIN] = 0.0,    [W_MAX] = 1.0,     [PAIRING] = 0,
                                      [ELIG] = 0};

typedef struct tf_run {
    snn_net *net;
    snn_spec *spec;
    double t_pre[RP_MAX_SPIKES], t_post[RP_MAX_SPIKES];
    size_t n_pre, n_post;
} tf_run;

/* Build the pair net and run it for `steps` steps (all if 0), recording
   the spike times; with deliver_every > 0, deliver M = 1 every that many
   steps (and at the end). */
static tf_run run_pairs(const char *rule, size_t n_par, const double *pre_t, size_t n_pre,
                        const double *drive_t, size_t n_drive, double w0, const double *par,
                        size_t deliver_every)
{
    tf_run r;
    memset(&r, 0, sizeof r);
    snn_err err;
    r.net = rp_build(rule, n_par, &r.spec, pre_t, n_pre, drive_t, n_drive, w0, par, 1, &err);
    if (!r.net)
        fail_msg("%s", err.msg);
    snn_net *net = r.net;
    for (size_t k = 0; k < net->n_steps; k++) {
        if (snn_sched_clock_run(net, 1, NULL, NULL, &err))
            fail_msg("%s", err.msg);
        double t = (double)(k + 1) * net->dt_ms;
        if (net->pops[0].spk[0].n)
            r.t_pre[r.n_pre++] = t;
        if (net->pops[2].spk[0].n)
            r.t_post[r.n_post++] = t;
        if (deliver_every && ((k + 1) % deliver_every == 0 || k + 1 == net->n_steps))
            assert_int_equal(snn_three_factor_deliver(&net->projs[1], 1.0, NULL, net->step, &err),
                             0);
    }
    assert_int_equal(r.n_pre, n_pre);
    assert_int_equal(r.n_post, n_drive);
    return r;
}

static void done(tf_run *r)
{
    snn_net_free(r->net);
    snn_spec_free(r->spec);
}

static double weight(const tf_run *r)
{
    return r->net->projs[1].parts[0].w[0];
}

static double elig(const tf_run *r, size_t now_step)
{
    double e;
    snn_err err;
    assert_int_equal(snn_three_factor_eligibility(&r->net->projs[1], now_step, &e, &err), 0);
    return e;
}

/* One pair each way: the eligibility's closed form, the weight untouched. */
static void test_eligibility_of_a_pair(void **state)
{
    (void)state;
    const double t_pre = 40.0, w0 = 0.5;
    const double drive[] = {25.0, 39.0, 44.0, 60.0};
    for (size_t q = 0; q < sizeof drive / sizeof drive[0]; q++) {
        tf_run r = run_pairs("three_factor", NPAR, &t_pre, 1, &drive[q], 1, w0, base_par, 0);
        double t_end = (double)r.net->step * r.net->dt_ms;
        double d = r.t_post[0] - r.t_pre[0], want;
        if (d > 0)
            want = base_par[A_PLUS] * exp(-d / base_par[TAU_PLUS]) *
                   exp(-(t_end - r.t_post[0]) / base_par[TAU_E]);
        else
            want = -base_par[A_MINUS] * exp(d / base_par[TAU_MINUS]) *
                   exp(-(t_end - r.t_pre[0]) / base_par[TAU_E]);
        print_message("dt = %+5.1f ms: e(%g ms) = %.15g (closed form %.15g)\n", d, t_end,
                      elig(&r, r.net->step), want);
        assert_true(fabs(d) > 0.5); /* a real pairing */
        snn_assert_close(elig(&r, r.net->step), want, 1e-12, 0);
        assert_true(weight(&r) == w0);
        done(&r);
    }
}

/* Decay between two reads, then delivery with eta M; reset or keep. */
static void test_decay_and_delivery(void **state)
{
    (void)state;
    const double t_pre = 40.0, drive = 44.0, w0 = 0.5;
    for (int keep = 0; keep <= 1; keep++) {
        double par[NPAR];
        memcpy(par, base_par, sizeof par);
        par[ELIG] = keep;
        par[ETA] = 2.0;
        tf_run r = run_pairs("three_factor", NPAR, &t_pre, 1, &drive, 1, w0, par, 0);
        size_t now = r.net->step;
        double e0 = elig(&r, now), e1 = elig(&r, now + 250);
        assert_true(e0 > 0);
        snn_assert_close(e1, e0 * exp(-250 * r.net->dt_ms / par[TAU_E]), 1e-13, 0);
        /* Past the tabulated gaps (4096 steps): the same exponential. */
        snn_assert_close(elig(&r, now + 6000), e0 * exp(-6000 * r.net->dt_ms / par[TAU_E]), 1e-12,
                         0);
        /* A read at an earlier step does not "undecay". */
        assert_true(elig(&r, now) == e0);

        snn_err err;
        const double M = 0.5;
        assert_int_equal(snn_three_factor_deliver(&r.net->projs[1], M, NULL, now + 250, &err), 0);
        snn_assert_close(weight(&r), w0 + par[ETA] * M * e1, 1e-14, 0);
        if (keep) {
            snn_assert_close(elig(&r, now + 250), e1, 1e-15, 0);
            snn_assert_close(elig(&r, now + 500), e1 * exp(-250 * r.net->dt_ms / par[TAU_E]),
                             1e-13, 0);
        } else {
            assert_true(elig(&r, now + 250) == 0.0);
        }
        /* Negative modulator: the opposite change (from the kept trace, or
           nothing after a reset). */
        double w1 = weight(&r);
        assert_int_equal(snn_three_factor_deliver(&r.net->projs[1], -1.0, NULL, now + 250, &err),
                         0);
        if (keep)
            snn_assert_close(weight(&r), w1 - par[ETA] * e1, 1e-14, 0);
        else
            assert_true(weight(&r) == w1);
        done(&r);
    }
}

/* M = 0: no weight changes, whatever the pairings. */
static void test_zero_modulator(void **state)
{
    (void)state;
    const double pre_t[] = {20.0, 50.0, 80.0}, drive[] = {30.0, 45.0, 85.0, 100.0};
    tf_run r = run_pairs("three_factor", NPAR, pre_t, 3, drive, 4, 0.5, base_par, 0);
    assert_true(elig(&r, r.net->step) != 0.0);
    snn_err err;
    assert_int_equal(snn_three_factor_deliver(&r.net->projs[1], 0.0, NULL, r.net->step, &err), 0);
    assert_true(weight(&r) == 0.5);
    done(&r);
}

/* M = 1, no decay, eta 1: pair STDP's weight. */
static void test_reduces_to_pair_stdp(void **state)
{
    (void)state;
    const double pre_t[] = {20.0, 38.0, 50.0, 90.0}, drive[] = {30.0, 45.0, 52.0, 70.0, 88.0};
    for (int pairing = 0; pairing <= 1; pairing++) {
        double tf[NPAR], sp[8];
        memcpy(tf, base_par, sizeof tf);
        tf[TAU_E] = 0.0;
        tf[PAIRING] = pairing;
        /* stdp_pair: A_plus, A_minus, tau_plus, tau_minus, w_min, w_max, mu, pairing */
        const double spv[8] = {tf[A_PLUS], tf[A_MINUS], tf[TAU_PLUS], tf[TAU_MINUS],
                               tf[W_MIN],  tf[W_MAX],   0.0,          pairing};
        memcpy(sp, spv, sizeof sp);
        rp_out ref = rp_run("stdp_pair", 8, pre_t, 4, drive, 5, 0.5, sp);
        assert_true(fabs(ref.w - 0.5) > 1e-3);
        /* delivered once at the end, and after every 100 steps */
        size_t every[2] = {1u << 30, 100};
        for (int v = 0; v < 2; v++) {
            tf_run r = run_pairs("three_factor", NPAR, pre_t, 4, drive, 5, 0.5, tf, every[v]);
            print_message("pairing %d, delivery every %zu steps: w = %.15f, stdp_pair %.15f\n",
                          pairing, every[v], weight(&r), ref.w);
            snn_assert_close(weight(&r), ref.w, 1e-12, 0);
            assert_true(elig(&r, r.net->step) == 0.0);
            done(&r);
        }
    }
}

/* The queued modulator, the per-post factor and the learners of
   on_sample_end. */
static void test_on_sample_end(void **state)
{
    (void)state;
    const double t_pre = 40.0, drive = 44.0, w0 = 0.5;
    for (int variant = 0; variant < 4; variant++) {
        tf_run r = run_pairs("three_factor", NPAR, &t_pre, 1, &drive, 1, w0, base_par, 0);
        snn_proj *pj = &r.net->projs[1];
        const snn_rule *rule = pj->rule;
        double e = elig(&r, r.net->step);
        uint8_t learn[1] = {variant == 2 ? 0 : 1};
        snn_sample_stats st = {NULL, NULL, 50.0, variant >= 2 ? learn : NULL};
        const double m_post[1] = {0.25};
        snn_err err;
        if (variant > 0) /* variant 0: nothing queued */
            assert_int_equal(snn_three_factor_set_modulator(pj, 3.0, variant == 1 ? m_post : NULL,
                                                            r.net->step, &err),
                             0);
        rule->type->on_sample_end(rule, pj, &st);
        double want = variant == 0 ? w0
                      : variant == 1 ? w0 + 3.0 * 0.25 * e
                      : variant == 2 ? w0
                                     : w0 + 3.0 * e;
        snn_assert_close(weight(&r), want, 1e-14, 0);
        /* Delivered once: a second call does nothing. */
        rule->type->on_sample_end(rule, pj, &st);
        snn_assert_close(weight(&r), want, 1e-14, 0);
        done(&r);
    }
}

/* Dense (input) and sparse (recurrent) plastic projections, 1 vs 2 threads,
   modulators delivered every 250 steps: identical bits. */
static void plastic_net(int threads, double **w, size_t *nnz, size_t moved[2])
{
    snn_spec *s = fx_spec(0.1, 100, 77);
    uint32_t ext = fx_pop(s, "ext", "poisson", 100);
    fx_par(s, ext, "rate_hz", 60.0);
    uint32_t e = fx_pop(s, "e", "lif", 600);
    snn_proj_spec *in = fx_proj(s, ext, e, SNN_CONN_ALL_TO_ALL, 0, 0.5);
    in->weight.kind = SNN_DIST_UNIFORM;
    in->weight.a = 0.0;
    in->weight.b = 1.0;
    snn_proj_spec *rec = fx_proj(s, e, e, SNN_CONN_BERNOULLI, 0.5, 1.0);
    rec->p = 0.05;
    double par[NPAR];
    memcpy(par, base_par, sizeof par);
    par[A_PLUS] = 0.05;
    par[A_MINUS] = 0.05;
    snn_proj_spec *pp[2] = {in, rec};
    for (int q = 0; q < 2; q++) {
        pp[q]->rule = snn_rule_find("three_factor");
        assert_non_null(pp[q]->rule);
        pp[q]->rule_par = malloc(NPAR * sizeof(double));
        memcpy(pp[q]->rule_par, par, sizeof par);
    }
    fx_par(s, e, "I_e", 380.0); /* close to threshold: the inputs make it fire */
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("%s", err.msg);
    assert_true(net->projs[0].dense && !net->projs[1].dense);
    size_t n0 = 100 * 600, n1 = net->projs[1].nnz;
    *nnz = n0 + n1;
    *w = malloc(*nnz * sizeof **w);
    double *w0 = malloc(*nnz * sizeof *w0);
    snn_net_weights(&net->projs[0], w0, NULL, NULL);
    snn_net_weights(&net->projs[1], w0 + n0, NULL, NULL);
    const double M[4] = {1.0, -0.5, 2.0, 0.3};
    for (int c = 0; c < 4; c++) {
        if (snn_sched_clock_run(net, net->n_steps / 4, NULL, NULL, &err))
            fail_msg("%s", err.msg);
        for (int q = 0; q < 2; q++)
            assert_int_equal(snn_three_factor_deliver(&net->projs[q], M[c], NULL, net->step, &err),
                             0);
    }
    assert_true(net->spike_count[e] > 100);
    snn_net_weights(&net->projs[0], *w, NULL, NULL);
    snn_net_weights(&net->projs[1], *w + n0, NULL, NULL);
    moved[0] = moved[1] = 0;
    for (size_t q = 0; q < *nnz; q++)
        moved[q >= n0] += (*w)[q] != w0[q];
    free(w0);
    snn_net_free(net);
    snn_spec_free(s);
}

static void test_threads_bit_identical(void **state)
{
    (void)state;
    double *w1, *w2;
    size_t n1, n2, m1[2], m2[2];
    plastic_net(1, &w1, &n1, m1);
    plastic_net(2, &w2, &n2, m2);
    assert_int_equal(n1, n2);
    assert_memory_equal(w1, w2, n1 * sizeof(double));
    print_message("weights moved: dense %zu of %d, sparse %zu of %zu\n", m1[0], 100 * 600, m1[1],
                  n1 - 100 * 600);
    assert_true(m1[0] > 1000 && m1[1] > 100);
    free(w1);
    free(w2);
}

static void test_errors(void **state)
{
    (void)state;
    const double t_pre = 40.0, drive = 44.0;
    tf_run r = run_pairs("three_factor", NPAR, &t_pre, 1, &drive, 1, 0.5, base_par, 0);
    snn_err err;
    /* projs[0] is the static driver projection */
    assert_int_equal(snn_three_factor_deliver(&r.net->projs[0], 1.0, NULL, 0, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "three_factor"));
    assert_int_equal(snn_three_factor_deliver(&r.net->projs[1], NAN, NULL, 0, &err), SNN_ECFG);
    assert_int_equal(snn_three_factor_set_modulator(&r.net->projs[1], INFINITY, NULL, 0, &err),
                     SNN_ECFG);
    assert_true(weight(&r) == 0.5);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eligibility_of_a_pair), cmocka_unit_test(test_decay_and_delivery),
        cmocka_unit_test(test_zero_modulator),        cmocka_unit_test(test_reduces_to_pair_stdp),
        cmocka_unit_test(test_on_sample_end),         cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
