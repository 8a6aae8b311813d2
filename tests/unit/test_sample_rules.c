/*
 * tests/unit/test_sample_rules.c: end-of-sample plasticity (sim/protocol.c,
 * rules/rule.h on_sample_end): the Hebbian family in mode "stimulus" against
 * its closed form on the sample's own spike counts, sparse plasticity (top_k)
 * for a per-stimulus and a per-spike rule, and weight snapshots with an
 * emergence probe that leaves the learning run bit-identical, and the direct
 * winner-take-all reset.
 *
 * Network: 12 Poisson pixels (three classes light four pixels each) onto 5
 * current-based LIF neurons driven close to threshold (I_e = 450 pA) through
 * random weights, so the neurons fire different numbers of spikes.
 */
#include "../support.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fixture.h"
#include "io/h5.h"
#include "rules/rule.h"
#include "sim/protocol.h"
#include "tests/toy.h"
#include "sim/sched.h"

#define NPIX 12
#define NEXC 5
#define PRESENT_MS 50.0

static snn_dataset *toy(size_t n)
{
    return toy_bars(n, 1, 0);
}

static void free_toy(snn_dataset *d)
{
    snn_dataset_free(d);
}

static void set_rule_par(snn_proj_spec *pj, const char *key, double v)
{
    int k = snn_rule_param_index(pj->rule, key);
    assert_true(k >= 0);
    pj->rule_par[k] = v;
}

/* pix -> exc with `rule` (defaults), one plastic phase of `samples` samples
   whose features are pix and exc. */
static snn_spec *spec(const char *rule, size_t samples)
{
    snn_spec *s = fx_spec(0.5, 1, 7);
    uint32_t in = fx_pop(s, "pix", "poisson", NPIX);
    uint32_t e = fx_pop(s, "exc", "lif", NEXC);
    fx_par(s, e, "I_e", 450.0);
    snn_proj_spec *pj = fx_proj(s, in, e, SNN_CONN_ALL_TO_ALL, 0.0, 0.5);
    pj->weight = (snn_dist){.kind = SNN_DIST_UNIFORM, .a = 0.0, .b = 1.0};
    pj->rule = snn_rule_find(rule);
    assert_non_null(pj->rule);
    pj->rule_par = malloc(pj->rule->n_params * sizeof(double));
    for (size_t k = 0; k < pj->rule->n_params; k++)
        pj->rule_par[k] = pj->rule->params[k].def;
    s->stim = (snn_stim_spec){.input = in, .max_rate_hz = 300.0, .intensity = 1.0,
                              .present_ms = PRESENT_MS, .rest_ms = 20.0, .watch = -1};
    s->phases = calloc(2, sizeof *s->phases);
    snn_phase_spec *ph = &s->phases[s->n_phases++];
    snprintf(ph->name, sizeof ph->name, "learn");
    ph->samples = samples;
    ph->plastic = true;
    ph->n_features = 2;
    ph->features = malloc(2 * sizeof *ph->features);
    ph->features[0] = in;
    ph->features[1] = e;
    return s;
}

/* Scale the uniform [0, 1] initial weights to [0, hi] pA-as-rule-units. */
static void weight_range(snn_spec *s, double hi)
{
    s->projs[0].weight.b = hi;
}

typedef struct out {
    double w0[NPIX * NEXC], w1[NPIX * NEXC];
    uint32_t pix[NPIX], exc[NEXC];
} out;

static void run(snn_spec *s, const snn_dataset *d, int threads, out *o)
{
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("%s", err.msg);
    snn_net_weights(&net->projs[0], o->w0, NULL, NULL);
    const snn_dataset *split[2] = {d, NULL};
    snn_protocol_opts opts = {.keep_features = true};
    snn_protocol_result res;
    if (snn_protocol_run(net, split, NULL, NULL, &opts, &res, &err))
        fail_msg("%s", err.msg);
    snn_net_weights(&net->projs[0], o->w1, NULL, NULL);
    const snn_phase_features *pf = &res.features[0];
    assert_int_equal(pf->cols, NPIX + NEXC);
    /* The last sample's counts. */
    memcpy(o->pix, pf->counts + (pf->n - 1) * pf->cols, sizeof o->pix);
    memcpy(o->exc, pf->counts + (pf->n - 1) * pf->cols + NPIX, sizeof o->exc);
    snn_protocol_result_free(&res);
    snn_net_free(net);
}

static double clip(double w, double lo, double hi)
{
    return w < lo ? lo : (w > hi ? hi : w);
}

/* One sample: w1 = clip(w0 + eta n_j g(x_i, y_j, w0)), x, y in Hz from the
   counts over present_ms, for hebb, instar and oja. */
static void test_stimulus_closed_form(void **state)
{
    (void)state;
    static const char *const rules[] = {"hebb", "instar", "oja"};
    static const double eta[] = {1e-4, 0.002, 1e-4};
    snn_dataset *d = toy(3);
    for (int r = 0; r < 3; r++) {
        snn_spec *s = spec(rules[r], 1);
        weight_range(s, 100.0); /* pA: the neurons fire unequally */
        snn_proj_spec *pj = &s->projs[0];
        set_rule_par(pj, "mode", 1);
        set_rule_par(pj, "eta", eta[r]);
        set_rule_par(pj, "w_min", 0.0);
        set_rule_par(pj, "w_max", 1e4);
        out o;
        run(s, d, 1, &o);
        const double hz = 1000.0 / PRESENT_MS;
        size_t changed = 0, active = 0;
        for (size_t j = 0; j < NEXC; j++)
            active += o.exc[j] > 0;
        assert_true(active >= 2);
        for (size_t i = 0; i < NPIX; i++)
            for (size_t j = 0; j < NEXC; j++) {
                double w = o.w0[i * NEXC + j], n = o.exc[j], x = hz * o.pix[i], y = hz * o.exc[j];
                double g = r == 0 ? x : (r == 1 ? x - w : x - y * w);
                double want = o.exc[j] ? clip(w + eta[r] * n * g, 0.0, 1e4) : w;
                snn_assert_close(o.w1[i * NEXC + j], want, 1e-12, 1e-12);
                changed += o.w1[i * NEXC + j] != w;
            }
        /* Lit pixels of active neurons moved (and only rule-given ones). */
        assert_true(changed >= 4 * active);
        snn_spec_free(s);
    }
    free_toy(d);
}

/* Expected winners: the k largest counts > 0, ties to the lower index. */
static void winners(const uint32_t *c, size_t k, int *win)
{
    memset(win, 0, NEXC * sizeof *win);
    for (size_t r = 0; r < k; r++) {
        int best = -1;
        for (int j = 0; j < NEXC; j++)
            if (!win[j] && c[j] > 0 && (best < 0 || c[j] > c[best]))
                best = j;
        if (best >= 0)
            win[best] = 1;
    }
}

/* top_k = 2 with a per-stimulus rule: only the two most active neurons'
   columns change, by the closed form. */
static void test_top_k_stimulus(void **state)
{
    (void)state;
    snn_dataset *d = toy(3);
    snn_spec *s = spec("hebb", 1);
    weight_range(s, 100.0);
    s->projs[0].top_k = 2;
    set_rule_par(&s->projs[0], "mode", 1);
    set_rule_par(&s->projs[0], "w_max", 1e4);
    out o;
    run(s, d, 2, &o);
    int win[NEXC];
    winners(o.exc, 2, win);
    int n_win = 0;
    for (size_t j = 0; j < NEXC; j++)
        n_win += win[j];
    assert_int_equal(n_win, 2);
    const double eta = snn_rule_find("hebb")->params[snn_rule_param_index(
                           snn_rule_find("hebb"), "eta")].def,
                 hz = 1000.0 / PRESENT_MS;
    for (size_t i = 0; i < NPIX; i++)
        for (size_t j = 0; j < NEXC; j++) {
            double w = o.w0[i * NEXC + j];
            double want = win[j] ? clip(w + eta * (double)o.exc[j] * (hz * o.pix[i]), 0, 1e4) : w;
            snn_assert_close(o.w1[i * NEXC + j], want, 1e-12, 1e-12);
        }
    snn_spec_free(s);
    free_toy(d);
}

/* top_k = 1 with Diehl & Cook's per-spike rule: the winner's column is what
   the rule learnt without top_k (the dynamics within the sample are the
   same), every other column is back at its start value. */
static void test_top_k_per_spike(void **state)
{
    (void)state;
    snn_dataset *d = toy(3);
    out all, one;
    snn_spec *s = spec("diehl_cook", 1);
    set_rule_par(&s->projs[0], "eta_post", 0.05);
    set_rule_par(&s->projs[0], "eta_pre", 0.01);
    weight_range(s, 1.0);
    /* Diehl & Cook's weights are at most w_max = 1: drive the neurons
       through a higher rate instead. */
    s->stim.max_rate_hz = 2000.0;
    fx_par(s, 1, "I_e", 470.0);
    run(s, d, 1, &all);
    s->projs[0].top_k = 1;
    run(s, d, 2, &one);
    assert_memory_equal(all.w0, one.w0, sizeof all.w0);
    assert_memory_equal(all.exc, one.exc, sizeof all.exc);
    int win[NEXC];
    winners(one.exc, 1, win);
    size_t moved_losers = 0;
    for (size_t i = 0; i < NPIX; i++)
        for (size_t j = 0; j < NEXC; j++) {
            size_t q = i * NEXC + j;
            if (win[j]) {
                assert_true(one.w1[q] == all.w1[q]);
            } else {
                assert_true(one.w1[q] == one.w0[q]);
                moved_losers += all.w1[q] != all.w0[q];
            }
        }
    /* Without top_k the other neurons did learn: the test can fail. */
    assert_true(moved_losers > 0);
    snn_spec_free(s);
    free_toy(d);
}

/* snapshot_every = 2 over 5 samples: snapshots after 0, 2, 4 samples; the
   probe (first 3 test images) does not change what is learnt. */
static void test_snapshots_and_probe(void **state)
{
    (void)state;
    snn_dataset *train = toy(6), *test = toy(4);
    const snn_dataset *split[2] = {train, test};
    double w_plain[NPIX * NEXC], w_probe[NPIX * NEXC];
    char dir[] = "/tmp/snn_snapXXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s.h5", dir);
    for (int probe = 0; probe < 2; probe++) {
        snn_spec *s = spec("diehl_cook", 5);
        s->phases[0].snapshot_every = 2;
        s->phases[0].probe = probe ? 3 : 0;
        s->phases[0].probe_split = 1;
        s->stim.max_rate_hz = 2000.0;
        snn_net *net = NULL;
        snn_err err;
        if (snn_net_build(&net, s, 2, &err))
            fail_msg("%s", err.msg);
        snn_h5 *h5 = NULL;
        assert_int_equal(snn_h5_create(&h5, path, 4, &err), SNN_OK);
        snn_protocol_result res;
        if (snn_protocol_run(net, split, NULL, h5, NULL, &res, &err))
            fail_msg("%s", err.msg);
        snn_net_weights(&net->projs[0], probe ? w_probe : w_plain, NULL, NULL);
        assert_int_equal(snn_h5_close(h5, 1, &err), SNN_OK);
        uint64_t *smp;
        size_t n;
        assert_int_equal(snn_h5_read_u64(path, "/weights/proj0/samples", &smp, &n, &err), SNN_OK);
        assert_int_equal(n, 3);
        assert_int_equal(smp[0], 0);
        assert_int_equal(smp[1], 2);
        assert_int_equal(smp[2], 4);
        free(smp);
        double *t;
        assert_int_equal(snn_h5_read_f64(path, "/weights/proj0/times", &t, &n, &err), SNN_OK);
        assert_int_equal(n, 3);
        snn_assert_close(t[2], 4 * 140 * 0.5, 0, 0); /* 4 samples of 70 ms */
        free(t);
        if (probe) {
            uint64_t *lab;
            assert_int_equal(snn_h5_read_u64(path, "/probe/labels", &lab, &n, &err), SNN_OK);
            assert_int_equal(n, 3);
            for (size_t m = 0; m < 3; m++)
                assert_int_equal(lab[m], test->labels[m]);
            free(lab);
            assert_int_equal(snn_h5_read_u64(path, "/probe/samples", &smp, &n, &err), SNN_OK);
            assert_int_equal(n, 3);
            free(smp);
        }
        unlink(path);
        snn_net_free(net);
        snn_spec_free(s);
    }
    rmdir(dir);
    assert_memory_equal(w_plain, w_probe, sizeof w_plain);
    free_toy(train);
    free_toy(test);
}

/* stimulus.wta: a step in which neuron 0 spikes resets the membranes of the
   others to V_reset; without the option they keep relaxing. */
static void test_wta_reset(void **state)
{
    (void)state;
    for (int wta = 0; wta < 2; wta++) {
        snn_spec *s = fx_spec(0.1, 1, 1);
        uint32_t e = fx_pop(s, "exc", "lif", 3);
        fx_par(s, e, "I_e", 450.0);
        s->stim.wta = wta;
        s->stim.wta_pop = e;
        snn_net *net = NULL;
        snn_err err;
        if (snn_net_build(&net, s, 1, &err))
            fail_msg("%s", err.msg);
        snn_pop *p = &net->pops[0];
        int v = snn_model_state_index(p->type, "V_m");
        double v_th = p->par[snn_model_param_index(p->type, "V_th")];
        double v_r = p->par[snn_model_param_index(p->type, "V_reset")];
        p->x[v][0] = v_th + 1.0; /* fires in the first step */
        p->x[v][1] = p->x[v][2] = v_th - 5.0;
        assert_int_equal(snn_sched_clock_run(net, 1, NULL, NULL, &err), SNN_OK);
        assert_int_equal(net->spike_count[0], 1);
        assert_true(p->x[v][0] == v_r);
        for (int i = 1; i < 3; i++) {
            if (wta)
                assert_true(p->x[v][i] == v_r);
            else
                assert_true(p->x[v][i] > v_th - 5.0); /* rising towards V_inf */
        }
        snn_net_free(net);
        snn_spec_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stimulus_closed_form),
        cmocka_unit_test(test_top_k_stimulus),
        cmocka_unit_test(test_top_k_per_spike),
        cmocka_unit_test(test_snapshots_and_probe),
        cmocka_unit_test(test_wta_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
