/*
 * tests/unit/test_lif_cond.c: models/lif_cond.c against a high-accuracy ODE
 * solution (GSL odeiv2, rk8pd, tolerances 1e-12), against the closed form
 * of pure relaxation, and bit for bit against the method written out in
 * one pass per neuron.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <gsl/gsl_rng.h>

#include "sim/pop.h"
#include "tests/support.h"

extern const snn_model_type lif_cond_type;

enum { EXC = 0, INH = 1 };

typedef struct fixture {
    snn_pop_spec s;
    snn_pop p;
    int v, g_ex, g_in, theta;
} fixture;

static void setup_spec(fixture *f, size_t n)
{
    snn_err err = {0};
    memset(f, 0, sizeof *f);
    assert_int_equal(snn_pop_spec_defaults(&f->s, &lif_cond_type, n, "exc", &err), SNN_OK);
    f->v = snn_model_state_index(&lif_cond_type, "V_m");
    f->g_ex = snn_model_state_index(&lif_cond_type, "g_ex");
    f->g_in = snn_model_state_index(&lif_cond_type, "g_in");
    f->theta = snn_model_state_index(&lif_cond_type, "theta");
    assert_true(f->v >= 0 && f->g_ex >= 0 && f->g_in >= 0 && f->theta >= 0);
}

static void set_par(fixture *f, const char *key, double v)
{
    int k = snn_model_param_index(&lif_cond_type, key);
    assert_true(k >= 0);
    f->s.par[k] = v;
}

static double par(const fixture *f, const char *key)
{
    int k = snn_model_param_index(&lif_cond_type, key);
    assert_true(k >= 0);
    return f->s.par[k];
}

static void build(fixture *f, double dt)
{
    snn_err err = {0};
    int rc = snn_pop_init(&f->p, &f->s, 0, dt, 99, 1, &err);
    if (rc)
        fail_msg("snn_pop_init: %s", err.msg);
}

static void teardown(fixture *f)
{
    snn_pop_clear(&f->p);
    snn_pop_spec_clear(&f->s);
}

static size_t step_all(fixture *f, size_t k)
{
    size_t n = 0;
    for (size_t b = 0; b < f->p.n_blk; b++) {
        snn_pop_step_block(&f->p, b, 0, k);
        n += f->p.spk[b].n;
    }
    return n;
}

/* Right-hand side of the model's ODE; y = (V, g_ex, g_in). */
typedef struct ode_par {
    double c, g_l, e_l, e_ex, e_in, tau_ex, tau_in, i_e;
} ode_par;

static int rhs(double t, const double y[], double dydt[], void *params)
{
    const ode_par *q = params;
    dydt[0] = (q->g_l * (q->e_l - y[0]) + y[1] * (q->e_ex - y[0]) + y[2] * (q->e_in - y[0]) +
               q->i_e) / q->c;
    dydt[1] = -y[1] / q->tau_ex;
    dydt[2] = -y[2] / q->tau_in;
    return GSL_SUCCESS;
}

/* Starts at V = v0, kicks g_ex by w_ex and g_in by w_in at t = 0 and fills
   v[j] = V(j * dt_out) for j = 1..n_out from the rk8pd reference. */
static void reference(const ode_par *q, double v0, double w_ex, double w_in, double dt_out,
                      size_t n_out, double *v)
{
    gsl_odeiv2_system sys = {rhs, NULL, 3, (void *)q};
    gsl_odeiv2_driver *d =
        gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rk8pd, 1e-3, 1e-12, 1e-12);
    assert_non_null(d);
    double t = 0.0, y[3] = {v0, w_ex, w_in};
    for (size_t j = 1; j <= n_out; j++) {
        assert_int_equal(gsl_odeiv2_driver_apply(d, &t, (double)j * dt_out, y), GSL_SUCCESS);
        v[j] = y[0];
    }
    gsl_odeiv2_driver_free(d);
}

/* Largest |V - V_ref| over the points j * dt_out, j = 1..n_out, for model step
   dt = dt_out / sub. */
static double max_error(double dt_out, size_t sub, size_t n_out, double v0, double w_ex,
                        double w_in, double tau_ex, const double *v_ref)
{
    fixture f;
    setup_spec(&f, 1);
    set_par(&f, "tau_syn_ex", tau_ex);
    set_par(&f, "I_e", 100.0);
    build(&f, dt_out / (double)sub);
    f.p.x[f.v][0] = v0;
    snn_pop_slot(&f.p, 0, EXC)[0] = w_ex;
    snn_pop_slot(&f.p, 0, INH)[0] = w_in;
    double e = 0.0;
    for (size_t k = 0; k < n_out * sub; k++) {
        assert_int_equal(step_all(&f, k), 0);
        if ((k + 1) % sub == 0) {
            double d = fabs(f.p.x[f.v][0] - v_ref[(k + 1) / sub]);
            e = d > e ? d : e;
        }
    }
    teardown(&f);
    return e;
}

/* Sub-threshold response to one excitatory and one inhibitory kick: the
   error against the reference shrinks about fourfold per halving of dt
   (second order); asserted as ratio > 3 over dt, dt/2, dt/4. */
static void test_second_order(void **state)
{
    const double taus[] = {0.2, 1.0};
    for (size_t t = 0; t < 2; t++) {
        fixture f;
        setup_spec(&f, 1);
        set_par(&f, "tau_syn_ex", taus[t]);
        set_par(&f, "I_e", 100.0);
        ode_par q = {par(&f, "C_m"),    par(&f, "g_L"),        par(&f, "E_L"),
                     par(&f, "E_ex"),   par(&f, "E_in"),       par(&f, "tau_syn_ex"),
                     par(&f, "tau_syn_in"), par(&f, "I_e")};
        snn_pop_spec_clear(&f.s);

        /* Start at rest with I_e, so the response is the PSP alone; the same
           excitatory charge for both tau_syn_ex. */
        double dt = 0.1, w_ex = 12.0 / q.tau_ex, w_in = 10.0, v0 = q.e_l + q.i_e / q.g_l;
        size_t n_out = 200;  /* 20 ms */
        double *v_ref = calloc(n_out + 1, sizeof *v_ref);
        assert_non_null(v_ref);
        reference(&q, v0, w_ex, w_in, dt, n_out, v_ref);
        /* Sub-threshold and a visible response. */
        double vmax = -1e9;
        for (size_t j = 1; j <= n_out; j++)
            vmax = v_ref[j] > vmax ? v_ref[j] : vmax;
        assert_true(vmax < -56.0 && vmax > v0 + 0.5);

        double e1 = max_error(dt, 1, n_out, v0, w_ex, w_in, q.tau_ex, v_ref);
        double e2 = max_error(dt, 2, n_out, v0, w_ex, w_in, q.tau_ex, v_ref);
        double e4 = max_error(dt, 4, n_out, v0, w_ex, w_in, q.tau_ex, v_ref);
        print_message("tau_syn_ex %g ms: max |V - V_ref| = %.3e, %.3e, %.3e mV; ratios %.2f %.2f\n",
                      q.tau_ex, e1, e2, e4, e1 / e2, e2 / e4);
        assert_true(e1 > 0.0 && e2 > 0.0 && e4 > 0.0);
        assert_true(e1 / e2 > 3.0);
        assert_true(e2 / e4 > 3.0);
        assert_true(e1 < 1e-2);  /* and small in absolute terms at dt = 0.1 ms */
        free(v_ref);
    }
}

/* The conductances are exact exponentials: g(t) = w e^{-(t - t_a)/tau}. */
static void test_conductance_decay(void **state)
{
    fixture f;
    double dt = 0.1, w = 3.0;
    setup_spec(&f, 300);
    build(&f, dt);
    assert_string_equal(lif_cond_type.weight_unit(f.p.par), "nS");
    assert_true(lif_cond_type.nonneg_weights);
    double tau_ex = par(&f, "tau_syn_ex"), tau_in = par(&f, "tau_syn_in");
    snn_pop_slot(&f.p, 0, EXC)[7] = w;
    snn_pop_slot(&f.p, 0, INH)[290] = 2.0 * w;
    for (size_t k = 0; k < 100; k++) {
        assert_int_equal(step_all(&f, k), 0);
        double t = (double)(k + 1) * dt;
        snn_assert_close(f.p.x[f.g_ex][7], w * exp(-t / tau_ex), 1e-12, 0.0);
        snn_assert_close(f.p.x[f.g_in][290], 2.0 * w * exp(-t / tau_in), 1e-12, 0.0);
        assert_true(f.p.x[f.g_ex][8] == 0.0 && f.p.x[f.g_in][7] == 0.0);
        assert_true(f.p.x[f.v][7] > par(&f, "E_L"));
        assert_true(f.p.x[f.v][290] < par(&f, "E_L"));
        assert_true(f.p.x[f.v][0] == par(&f, "E_L"));
    }
    teardown(&f);
}

/* Without synaptic input V relaxes exactly: V_inf = E_L + I/g_L,
   V(t) = V_inf + (V_0 - V_inf) e^{-t g_L/C}; I from I_e and from i_ext. */
static void test_relaxation(void **state)
{
    const double dts[] = {0.1, 0.5};
    for (size_t d = 0; d < 2; d++) {
        fixture f;
        double dt = dts[d], v0 = -62.0;
        setup_spec(&f, 2);
        set_par(&f, "I_e", 100.0);
        build(&f, dt);
        snn_err err = {0};
        assert_int_equal(snn_pop_enable_iext(&f.p, &err), SNN_OK);
        f.p.i_ext[1] = 50.0;
        f.p.x[f.v][0] = f.p.x[f.v][1] = v0;
        double g_l = par(&f, "g_L"), c = par(&f, "C_m"), e_l = par(&f, "E_L");
        double v_inf[2] = {e_l + 100.0 / g_l, e_l + 150.0 / g_l};
        for (size_t k = 0; k < (size_t)lround(200.0 / dt); k++) {
            assert_int_equal(step_all(&f, k), 0);
            double t = (double)(k + 1) * dt;
            for (size_t i = 0; i < 2; i++)
                snn_assert_close(f.p.x[f.v][i] - v_inf[i],
                                 (v0 - v_inf[i]) * exp(-t * g_l / c), 1e-9,
                                 1e-9 * fabs(v0 - v_inf[i]));
        }
        teardown(&f);
    }
}

/* Threshold, reset, refractoriness and adaptive threshold: a strong kick
   fires the neuron at the end of its step; V then stays at V_reset for
   exactly t_ref while g keeps decaying; theta jumps by theta_plus. */
static void test_spike_refractory_theta(void **state)
{
    fixture f;
    double dt = 0.1, tp = 2.0, tau_th = 100.0;
    setup_spec(&f, 1);
    set_par(&f, "theta_plus", tp);
    set_par(&f, "tau_theta", tau_th);
    build(&f, dt);
    double v_r = par(&f, "V_reset"), tau_ex = par(&f, "tau_syn_ex");
    long ref = lround(par(&f, "t_ref") / dt);
    snn_pop_slot(&f.p, 0, EXC)[0] = 1000.0;
    assert_int_equal(step_all(&f, 0), 1);
    assert_true(f.p.x[f.v][0] == v_r);
    snn_assert_close(f.p.x[f.theta][0], tp, 1e-15, 0.0);
    for (long k = 1; k <= ref; k++) {
        snn_pop_slot(&f.p, 0, EXC)[0] = 1000.0;  /* input while refractory */
        assert_int_equal(step_all(&f, (size_t)k), 0);
        assert_true(f.p.x[f.v][0] == v_r);
        snn_assert_close(f.p.x[f.theta][0], tp * exp(-(double)k * dt / tau_th), 1e-12, 0.0);
    }
    /* The conductance accumulated during refractoriness fires it again now. */
    double g = f.p.x[f.g_ex][0];
    assert_true(g > 1000.0 * exp(-dt / tau_ex));
    assert_int_equal(step_all(&f, (size_t)ref + 1), 1);
    snn_assert_close(f.p.x[f.theta][0], tp * exp(-(double)(ref + 1) * dt / tau_th) + tp, 1e-12,
                     0.0);
    teardown(&f);
}

/* prepare rejects V_reset >= V_th with SNN_EMODEL naming both keys. */
static void test_reject_reset(void **state)
{
    fixture f;
    snn_err err = {0};
    setup_spec(&f, 3);
    set_par(&f, "V_reset", -50.0);
    assert_int_equal(snn_pop_init(&f.p, &f.s, 0, 0.1, 1, 1, &err), SNN_EMODEL);
    assert_non_null(strstr(err.msg, "V_reset"));
    assert_non_null(strstr(err.msg, "V_th"));
    snn_pop_spec_clear(&f.s);
}

/*
 * The step against the method written out per neuron in one pass (the
 * model's header), bit for bit: V, both conductances, theta, refractory
 * counters and the spike lists of 300 neurons (a full block and a partial
 * one) over 400 steps of random excitatory and inhibitory arrivals, with an
 * external current on some neurons.  The run must cover the step's short
 * cuts: neurons without input (g_tot == g_L), neurons whose conductance is
 * below half an ulp of g_L (g_tot == g_L although g > 0), refractory
 * neurons and spikes.
 */
static void test_bits_of_one_pass(void **state)
{
    enum { N = 300, STEPS = 400 };
    const double dt = 0.5;
    fixture f;
    setup_spec(&f, N);
    set_par(&f, "C_m", 100.0);
    set_par(&f, "E_L", -65.0);
    set_par(&f, "V_reset", -65.0);
    set_par(&f, "V_th", -52.0);
    set_par(&f, "t_ref", 5.0);
    set_par(&f, "E_in", -100.0);
    set_par(&f, "tau_syn_ex", 1.0);
    set_par(&f, "theta_plus", 0.5);
    set_par(&f, "tau_theta", 1e4);
    build(&f, dt);
    snn_err err = {0};
    assert_int_equal(snn_pop_enable_iext(&f.p, &err), SNN_OK);
    double v[N], ge[N], gi[N], th[N], iext[N];
    int32_t refr[N];
    for (size_t i = 0; i < N; i++) {
        iext[i] = f.p.i_ext[i] = i % 5 == 0 ? 3.0 + 0.01 * (double)i : 0.0;
        v[i] = f.p.x[f.v][i] = -70.0 + 0.05 * (double)i;
        ge[i] = gi[i] = th[i] = 0.0;
        refr[i] = 0;
    }
    const double h = dt, c_m = par(&f, "C_m"), g_l = par(&f, "g_L"), e_l = par(&f, "E_L");
    const double e_ex = par(&f, "E_ex"), e_in = par(&f, "E_in"), v_th = par(&f, "V_th");
    const double v_reset = par(&f, "V_reset"), i_e = par(&f, "I_e");
    const double tau_ex = par(&f, "tau_syn_ex"), tau_in = par(&f, "tau_syn_in");
    const double decay_ex = exp(-h / tau_ex), decay_in = exp(-h / tau_in);
    const double mean_ex = -expm1(-h / tau_ex) * tau_ex / h;
    const double mean_in = -expm1(-h / tau_in) * tau_in / h;
    const double h_over_c = h / c_m, theta_decay = exp(-h / par(&f, "tau_theta"));
    const int32_t ref_steps = (int32_t)lround(par(&f, "t_ref") / h);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    size_t spikes = 0, leak_only = 0, tiny = 0, refractory = 0;
    for (size_t k = 0; k < STEPS; k++) {
        double *a_ex = snn_pop_slot(&f.p, 0, EXC), *a_in = snn_pop_slot(&f.p, 0, INH);
        double ae[N], ai[N];
        for (size_t i = 0; i < N; i++) {
            /* a third silent, a few with arrivals far below an ulp of g_L */
            int kind = (int)(i % 3);
            double u = gsl_rng_uniform(rng);
            ae[i] = kind == 0 ? 0.0 : (kind == 1 && u < 0.3 ? 40.0 * u : (u > 0.95 ? 1e-20 : 0.0));
            ai[i] = kind == 1 && u > 0.9 ? 5.0 * u : 0.0;
            a_ex[i] = ae[i];
            a_in[i] = ai[i];
        }
        size_t n_sp = 0;
        uint32_t ids[N];
        for (size_t b = 0; b < f.p.n_blk; b++) {
            snn_pop_step_block(&f.p, b, 0, k);
            for (size_t m = 0; m < f.p.spk[b].n; m++) {
                assert_int_equal(f.p.spk[b].mult[m], 1);
                ids[n_sp++] = f.p.spk[b].id[m];
            }
        }
        /* the reference: one pass, one neuron at a time */
        size_t q = 0;
        for (size_t i = 0; i < N; i++) {
            double g_e = ge[i] + ae[i], g_i = gi[i] + ai[i];
            double gbar_ex = g_e * mean_ex, gbar_in = g_i * mean_in;
            double g_tot = g_l + gbar_ex + gbar_in;
            double v_inf = (g_l * e_l + gbar_ex * e_ex + gbar_in * e_in + (i_e + iext[i])) / g_tot;
            leak_only += g_tot == g_l && g_e == 0.0 && g_i == 0.0;
            tiny += g_tot == g_l && (g_e > 0.0 || g_i > 0.0);
            if (refr[i] > 0) {
                refr[i]--;
                v[i] = v_reset;
                refractory++;
            } else {
                v[i] += (v_inf - v[i]) * -expm1(-h_over_c * g_tot);
            }
            ge[i] = g_e * decay_ex;
            gi[i] = g_i * decay_in;
            th[i] *= theta_decay;
            if (v[i] >= v_th + th[i]) {
                v[i] = v_reset;
                refr[i] = ref_steps;
                th[i] += par(&f, "theta_plus");
                assert_true(q < n_sp);
                assert_int_equal(ids[q++], i);
            }
        }
        assert_int_equal(q, n_sp);
        spikes += n_sp;
        assert_memory_equal(f.p.x[f.v], v, sizeof v);
        assert_memory_equal(f.p.x[f.g_ex], ge, sizeof ge);
        assert_memory_equal(f.p.x[f.g_in], gi, sizeof gi);
        assert_memory_equal(f.p.x[f.theta], th, sizeof th);
        assert_memory_equal(f.p.refr, refr, sizeof refr);
    }
    print_message("%zu spikes; neuron-steps: %zu without conductance, %zu with one below an "
                  "ulp of g_L, %zu refractory\n", spikes, leak_only, tiny, refractory);
    assert_true(spikes > 20 && leak_only > 1000 && tiny > 100 && refractory > 100);
    gsl_rng_free(rng);
    teardown(&f);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_order), cmocka_unit_test(test_conductance_decay),
        cmocka_unit_test(test_relaxation), cmocka_unit_test(test_spike_refractory_theta),
        cmocka_unit_test(test_reject_reset), cmocka_unit_test(test_bits_of_one_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
