/*
 * tests/unit/test_lif.c: models/lif.c against closed-form solutions.
 *
 * The model integrates exactly, so sub-threshold trajectories must equal the
 * analytic solutions at every grid point up to rounding (relative 1e-9), and
 * spike times must equal the analytic crossing time rounded up to the grid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/pop.h"
#include "tests/support.h"

extern const snn_model_type lif_type;

enum { EXC = 0, INH = 1 };

typedef struct fixture {
    snn_pop_spec s;
    snn_pop p;
    int v, i_ex, i_in, theta;  /* state indices */
} fixture;

static void setup_spec(fixture *f, size_t n)
{
    snn_err err = {0};
    memset(f, 0, sizeof *f);
    assert_int_equal(snn_pop_spec_defaults(&f->s, &lif_type, n, "lif", &err), SNN_OK);
    f->v = snn_model_state_index(&lif_type, "V_m");
    f->i_ex = snn_model_state_index(&lif_type, "I_syn_ex");
    f->i_in = snn_model_state_index(&lif_type, "I_syn_in");
    f->theta = snn_model_state_index(&lif_type, "theta");
    assert_true(f->v >= 0 && f->i_ex >= 0 && f->i_in >= 0 && f->theta >= 0);
}

static void set_par(fixture *f, const char *key, double v)
{
    int k = snn_model_param_index(&lif_type, key);
    assert_true(k >= 0);
    f->s.par[k] = v;
}

static double par(const fixture *f, const char *key)
{
    int k = snn_model_param_index(&lif_type, key);
    assert_true(k >= 0);
    return f->s.par[k];
}

static void build(fixture *f, double dt)
{
    snn_err err = {0};
    int rc = snn_pop_init(&f->p, &f->s, 0, dt, 1234, 1, &err);
    if (rc)
        fail_msg("snn_pop_init: %s", err.msg);
}

static void teardown(fixture *f)
{
    snn_pop_clear(&f->p);
    snn_pop_spec_clear(&f->s);
}

/* One step of every block; returns the number of spikes and, if `first` is
   not NULL, the id of the first one. */
static size_t step_all(fixture *f, size_t k, uint32_t *first)
{
    size_t n = 0;
    for (size_t b = 0; b < f->p.n_blk; b++) {
        snn_pop_step_block(&f->p, b, 0, k);
        const snn_spikes *s = &f->p.spk[b];
        for (size_t j = 0; j < s->n; j++) {
            assert_int_equal(s->mult[j], 1);
            if (j > 0)
                assert_true(s->id[j] > s->id[j - 1]);
            if (n == 0 && first)
                *first = s->id[j];
            n++;
        }
    }
    return n;
}

static void arrive(fixture *f, size_t ch, size_t i, double w)
{
    snn_pop_slot(&f->p, 0, ch)[i] += w;
}

/* Sub-threshold response to a current step from t = 0, given either as I_e
   or per neuron as i_ext: V(t) = E_L + R I (1 - e^{-t/tau_m}), R = tau_m/C. */
static void test_current_step(void **state)
{
    const double dts[] = {0.1, 0.05, 0.25, 1.0};
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        for (int use_iext = 0; use_iext < 2; use_iext++) {
            fixture f;
            double dt = dts[d];
            size_t n = use_iext ? 300 : 1;  /* i_ext case spans two blocks */
            setup_spec(&f, n);
            set_par(&f, "I_e", use_iext ? 0.0 : 200.0);
            build(&f, dt);
            if (use_iext) {
                snn_err err = {0};
                assert_int_equal(snn_pop_enable_iext(&f.p, &err), SNN_OK);
                for (size_t i = 0; i < n; i++)
                    f.p.i_ext[i] = (double)i;  /* up to 299 pA: R I < 12 mV */
            }
            double tau = par(&f, "tau_m"), r = tau / par(&f, "C_m"), e_l = par(&f, "E_L");
            size_t steps = (size_t)lround(100.0 / dt);
            for (size_t k = 0; k < steps; k++) {
                assert_int_equal(step_all(&f, k, NULL), 0);
                double t = (double)(k + 1) * dt;
                for (size_t i = 0; i < n; i++) {
                    double amp = use_iext ? (double)i : 200.0;
                    double want = r * amp * -expm1(-t / tau);
                    snn_assert_close(f.p.x[f.v][i] - e_l, want, 1e-9, 1e-12);
                }
            }
            teardown(&f);
        }
    }
}

/* Under constant suprathreshold current the k-th spike (k >= 2) follows the
   previous one by exactly t_ref + ceil(T/dt) dt with
   T = tau_m ln((R I + E_L - V_reset)/(R I + E_L - V_th)); the first spike,
   from V = E_L, comes after ceil(T0/dt) dt with V_reset replaced by E_L.
   Spike times are integers of steps, so the comparison is exact; the
   currents are chosen with T/dt at least 1e-6 away from an integer, which
   keeps the floating-point threshold test on the right side. */
static void test_fi_curve(void **state)
{
    const double currents[] = {400.0, 500.0, 800.0, 1500.0, 3000.0, 10000.0};
    const double dts[] = {0.1, 0.25};
    const double resets[] = {-70.0, -65.0};
    for (size_t d = 0; d < 2; d++)
        for (size_t r = 0; r < 2; r++)
            for (size_t c = 0; c < sizeof currents / sizeof currents[0]; c++) {
                fixture f;
                double dt = dts[d], amp = currents[c];
                setup_spec(&f, 1);
                set_par(&f, "I_e", amp);
                set_par(&f, "V_reset", resets[r]);
                build(&f, dt);
                double tau = par(&f, "tau_m"), rm = tau / par(&f, "C_m");
                double e_l = par(&f, "E_L"), v_th = par(&f, "V_th"), v_r = par(&f, "V_reset");
                double t_ref = par(&f, "t_ref");
                double t_isi = tau * log((rm * amp + e_l - v_r) / (rm * amp + e_l - v_th));
                double t_first = tau * log((rm * amp) / (rm * amp + e_l - v_th));
                double q = t_isi / dt, q0 = t_first / dt;
                assert_true(fabs(q - nearbyint(q)) > 1e-6 && fabs(q0 - nearbyint(q0)) > 1e-6);
                long isi = lround(t_ref / dt) + (long)ceil(q), first = (long)ceil(q0);

                long last = -1, n_spk = 0;
                for (size_t k = 0; k < 4000; k++) {
                    if (step_all(&f, k, NULL)) {
                        long t_steps = (long)k + 1;  /* spike stamped t_{k+1} */
                        if (last < 0)
                            assert_int_equal(t_steps, first);
                        else
                            assert_int_equal(t_steps - last, isi);
                        last = t_steps;
                        n_spk++;
                    }
                }
                assert_true(n_spk >= 5);
                teardown(&f);
            }
}

/* After a spike V stays exactly at V_reset and no spike occurs for
   t_ref/dt steps, however strong the drive; the currents keep evolving. */
static void test_refractory(void **state)
{
    fixture f;
    double dt = 0.1;
    setup_spec(&f, 1);
    set_par(&f, "I_e", 1e5);  /* R I = 4000 mV: threshold within one step */
    set_par(&f, "V_reset", -65.0);
    set_par(&f, "t_ref", 2.0);
    build(&f, dt);
    long ref = lround(2.0 / dt);
    double p11 = exp(-dt / par(&f, "tau_syn_ex"));
    long last = -1, n_spk = 0;
    for (size_t k = 0; k < 200; k++) {
        if (k == 50)
            arrive(&f, EXC, 0, 1e4);
        size_t ns = step_all(&f, k, NULL);
        long t = (long)k + 1;
        if (ns) {
            if (last >= 0)
                assert_int_equal(t - last, ref + 1);
            last = t;
            n_spk++;
        } else {
            /* Inside the refractory period: clamped to V_reset exactly. */
            assert_true(last >= 0 && t - last <= ref);
            assert_true(f.p.x[f.v][0] == par(&f, "V_reset"));
        }
        if (k >= 50)
            snn_assert_close(f.p.x[f.i_ex][0], 1e4 * pow(p11, (double)(k - 49)), 1e-12, 0.0);
    }
    assert_true(n_spk >= 200 / (ref + 1) - 1);
    teardown(&f);

    /* Delta synapses: input during refractoriness is discarded. */
    setup_spec(&f, 1);
    set_par(&f, "synapse", 1);
    build(&f, dt);
    double e_l = par(&f, "E_L"), p22 = exp(-dt / par(&f, "tau_m"));
    arrive(&f, EXC, 0, 100.0);
    assert_int_equal(step_all(&f, 0, NULL), 1);
    for (size_t k = 1; k <= (size_t)ref; k++) {
        arrive(&f, EXC, 0, 100.0);
        assert_int_equal(step_all(&f, k, NULL), 0);
        assert_true(f.p.x[f.v][0] == par(&f, "V_reset"));
    }
    arrive(&f, EXC, 0, 1.0);
    assert_int_equal(step_all(&f, (size_t)ref + 1, NULL), 0);
    snn_assert_close(f.p.x[f.v][0] - e_l, (par(&f, "V_reset") + 1.0 - e_l) * p22, 1e-12, 1e-13);
    teardown(&f);
}

/* One arrival of w pA at t_a: V(t) - E_L = w/(C a) (e^{-s/tau_m} - e^{-s/tau_s}),
   s = t - t_a, a = 1/tau_s - 1/tau_m, and I(t) = w e^{-s/tau_s}. */
static void check_psp(double tau_s, double tau_m, double dt, size_t ch, double w, double rtol)
{
    fixture f;
    setup_spec(&f, 1);
    set_par(&f, ch == EXC ? "tau_syn_ex" : "tau_syn_in", tau_s);
    set_par(&f, "tau_m", tau_m);
    build(&f, dt);
    double c = par(&f, "C_m"), e_l = par(&f, "E_L"), a = 1.0 / tau_s - 1.0 / tau_m;
    int iv = ch == EXC ? f.i_ex : f.i_in;
    size_t ka = 5;
    for (size_t k = 0; k < (size_t)lround(60.0 / dt); k++) {
        if (k == ka)
            arrive(&f, ch, 0, w);
        assert_int_equal(step_all(&f, k, NULL), 0);
        double s = (double)(k + 1 - ka) * dt;
        if (k < ka) {
            assert_true(f.p.x[f.v][0] == e_l);
            continue;
        }
        double want = a == 0.0 ? w * s / c * exp(-s / tau_m)
                               : w / (c * a) * (exp(-s / tau_m) - exp(-s / tau_s));
        snn_assert_close(f.p.x[f.v][0] - e_l, want, rtol, 1e-300);
        snn_assert_close(f.p.x[iv][0], w * exp(-s / tau_s), 1e-12, 0.0);
    }
    teardown(&f);
}

static void test_psp_shape(void **state)
{
    check_psp(2.0, 10.0, 0.1, EXC, 100.0, 1e-9);
    check_psp(2.0, 10.0, 0.5, EXC, 100.0, 1e-9);
    check_psp(30.0, 10.0, 0.1, EXC, 100.0, 1e-9);  /* tau_s > tau_m */
    check_psp(0.5, 20.0, 0.1, EXC, 300.0, 1e-9);
}

/* tau_syn == tau_m: the limit w s/C e^{-s/tau}.  And tau_syn a relative
   1e-9 or 1e-12 away from tau_m: the exact response differs from that limit
   by about (relative offset) s/tau, far below 1e-7, while evaluating the
   propagator without care (a difference of nearly equal exponentials, or
   1 - exp(-h a) instead of expm1) loses 5 to 10 digits. */
static void test_equal_taus(void **state)
{
    check_psp(10.0, 10.0, 0.1, EXC, 100.0, 1e-9);
    check_psp(5.0, 5.0, 0.25, INH, -100.0, 1e-9);

    const double offsets[] = {1e-9, 1e-12, -1e-12};
    for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
        fixture f;
        double dt = 0.1, tau = 10.0, tau_s = 10.0 * (1.0 + offsets[o]), w = 100.0;
        setup_spec(&f, 1);
        set_par(&f, "tau_syn_ex", tau_s);
        set_par(&f, "tau_m", tau);
        build(&f, dt);
        double c = par(&f, "C_m"), e_l = par(&f, "E_L");
        arrive(&f, EXC, 0, w);
        for (size_t k = 0; k < 400; k++) {
            step_all(&f, k, NULL);
            double s = (double)(k + 1) * dt;
            snn_assert_close(f.p.x[f.v][0] - e_l, w * s / c * exp(-s / tau), 1e-7, 0.0);
        }
        teardown(&f);
    }
}

/* Delta synapses: V jumps by exactly w mV at t_k, then relaxes with tau_m;
   a jump that reaches threshold is a spike even if V decays below it within
   the step. */
static void test_delta(void **state)
{
    fixture f;
    double dt = 0.1, w = 2.5;
    setup_spec(&f, 1);
    set_par(&f, "synapse", 1);
    build(&f, dt);
    assert_string_equal(lif_type.weight_unit(f.p.par), "mV");
    double tau = par(&f, "tau_m"), e_l = par(&f, "E_L");
    size_t ka = 3;
    for (size_t k = 0; k < 300; k++) {
        if (k == ka)
            arrive(&f, EXC, 0, w);
        if (k == 100)
            arrive(&f, INH, 0, -w);
        assert_int_equal(step_all(&f, k, NULL), 0);
        double want = 0.0;
        if (k >= ka)
            want += w * exp(-(double)(k + 1 - ka) * dt / tau);
        if (k >= 100)
            want -= w * exp(-(double)(k + 1 - 100) * dt / tau);
        if (k < ka)
            assert_true(f.p.x[f.v][0] == e_l);
        else
            snn_assert_close(f.p.x[f.v][0] - e_l, want, 1e-9, 1e-12);
        assert_true(f.p.x[f.i_ex][0] == 0.0 && f.p.x[f.i_in][0] == 0.0);
    }
    /* From 1 mV below threshold, a 1.05 mV kick crosses; after one step of
       decay V would be below V_th again, yet the spike counts. */
    double v_th = par(&f, "V_th");
    f.p.x[f.v][0] = v_th - 1.0;
    arrive(&f, EXC, 0, 1.05);
    assert_true(e_l + (v_th + 0.05 - e_l) * exp(-dt / tau) < v_th);
    assert_int_equal(step_all(&f, 300, NULL), 1);
    assert_true(f.p.x[f.v][0] == par(&f, "V_reset"));
    teardown(&f);
}

/* Inhibitory channel: its own tau_syn_in, negative weights, I_syn_in state. */
static void test_inhibitory(void **state)
{
    check_psp(5.0, 10.0, 0.1, INH, -200.0, 1e-9);
    fixture f;
    setup_spec(&f, 1);
    build(&f, 0.1);
    assert_string_equal(lif_type.weight_unit(f.p.par), "pA");
    assert_int_equal(lif_type.n_channels, 2);
    assert_string_equal(lif_type.channels[INH], "inh");
    teardown(&f);
}

/* Adaptive threshold: theta jumps by theta_plus at every spike, decays with
   tau_theta exactly, and raises the threshold. */
static void test_theta(void **state)
{
    fixture f;
    double dt = 0.1, tp = 5.0, tau_th = 50.0;
    setup_spec(&f, 1);
    set_par(&f, "synapse", 1);
    set_par(&f, "theta_plus", tp);
    set_par(&f, "tau_theta", tau_th);
    build(&f, dt);
    double v_th = par(&f, "V_th"), v_r = par(&f, "V_reset");
    const size_t kick[] = {10, 100};
    double want = 0.0;
    for (size_t k = 0; k < 400; k++) {
        bool fire = k == kick[0] || k == kick[1];
        if (fire)
            arrive(&f, EXC, 0, 100.0);
        if (k == 60) /* crosses V_th but not V_th + theta */
            arrive(&f, EXC, 0, v_th - v_r + 1.0);
        size_t ns = step_all(&f, k, NULL);
        want = want * exp(-dt / tau_th) + (fire ? tp : 0.0);
        assert_int_equal(ns, fire ? 1 : 0);
        snn_assert_close(f.p.x[f.theta][0], want, 1e-12, 0.0);
    }
    /* theta after the second spike: tp (1 + e^{-(90 dt)/tau_theta}) decayed. */
    double t_end = 400 * dt, t1 = (kick[0] + 1) * dt, t2 = (kick[1] + 1) * dt;
    snn_assert_close(f.p.x[f.theta][0],
                     tp * (exp(-(t_end - t1) / tau_th) + exp(-(t_end - t2) / tau_th)), 1e-9, 0.0);
    teardown(&f);
}

/* Threshold edge: V == V_th + theta fires (the test is >=), V a hair below
   does not.  Checked at the end of a step (E_L on the threshold) and right
   after a delta jump that lands exactly on it. */
static void test_threshold_edge(void **state)
{
    const double below[] = {0.0, 1e-9};
    for (size_t b = 0; b < 2; b++) {
        fixture f;
        setup_spec(&f, 1);
        set_par(&f, "E_L", par(&f, "V_th") - below[b]);
        build(&f, 0.1);
        size_t n_spk = 0;
        for (size_t k = 0; k < 1000; k++)
            n_spk += step_all(&f, k, NULL);
        if (below[b] == 0.0)
            assert_true(n_spk >= 1 && f.p.x[f.v][0] < par(&f, "V_th"));
        else
            assert_int_equal(n_spk, 0);
        teardown(&f);

        setup_spec(&f, 1);
        set_par(&f, "synapse", 1);
        build(&f, 0.1);
        double w = par(&f, "V_th") - par(&f, "E_L") - below[b];
        arrive(&f, EXC, 0, w);
        assert_int_equal(step_all(&f, 0, NULL), below[b] == 0.0 ? 1 : 0);
        teardown(&f);
    }
}

/* prepare rejects V_reset >= V_th with SNN_EMODEL naming both keys. */
static void test_reject_reset(void **state)
{
    const double resets[] = {-55.0, -50.0};
    for (size_t r = 0; r < 2; r++) {
        fixture f;
        snn_err err = {0};
        setup_spec(&f, 10);
        set_par(&f, "V_reset", resets[r]);
        assert_int_equal(snn_pop_init(&f.p, &f.s, 0, 0.1, 1, 1, &err), SNN_EMODEL);
        assert_non_null(strstr(err.msg, "V_reset"));
        assert_non_null(strstr(err.msg, "V_th"));
        snn_pop_spec_clear(&f.s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_current_step), cmocka_unit_test(test_fi_curve),
        cmocka_unit_test(test_refractory),   cmocka_unit_test(test_psp_shape),
        cmocka_unit_test(test_equal_taus),   cmocka_unit_test(test_delta),
        cmocka_unit_test(test_inhibitory),   cmocka_unit_test(test_theta),
        cmocka_unit_test(test_threshold_edge), cmocka_unit_test(test_reject_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
