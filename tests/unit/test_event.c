/*
 * tests/unit/test_event.c: the event-driven integrator (sim/sched_event.c,
 * the event hooks of models/lif.c, poisson.c, spike_times.c).
 *
 * Checks against closed forms: spike times of a LIF neuron under constant
 * drive, membrane values after a known delta-synapse input train (exact
 * continuous delays, input discarded while refractory), the first crossing
 * with exponential currents against a dense evaluation of the analytic
 * trajectory (including a grazing maximum just above threshold), convergence
 * of clock-driven spike times to the event-driven ones (error O(dt)) on one
 * neuron and on a small recurrent network, Poisson inter-spike intervals
 * (mean, CV, Kolmogorov-Smirnov against the exponential), pair STDP on exact
 * times, triplet STDP, Diehl & Cook and the hebb/instar/oja rules on exact
 * times (closed forms at off-grid intervals), exact per-synapse (uniform)
 * delays, thread-count independence and the configuration errors (models
 * and rules without exact times, with the reason).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sort.h>
#include <hdf5.h>

#include "io/cfg.h"
#include "io/h5.h"
#include "rules/rule.h"
#include "sim/net.h"
#include "sim/rec.h"
#include "sim/sched.h"
#include "sim/sched_event.h"
#include "tests/fixture.h"
#include "tests/support.h"

/* ---- helpers -------------------------------------------------------------- */

enum { MAX_SPK = 200000 };

typedef struct spikes {
    size_t n;
    uint32_t pop[MAX_SPK], id[MAX_SPK];
    double t[MAX_SPK];
} spikes;

static void on_spike(void *ud, uint32_t pop, uint32_t id, double t)
{
    spikes *s = ud;
    if (s->n < MAX_SPK) {
        s->pop[s->n] = pop;
        s->id[s->n] = id;
        s->t[s->n++] = t;
    }
}

/* Clock-driven spikes, stamped t_{k+1} (canonical order within a step). */
static void on_step(void *ud, const snn_net *net)
{
    spikes *s = ud;
    double t = (double)net->step * net->dt_ms;
    for (uint32_t i = 0; i < net->n_pops; i++)
        for (size_t b = 0; b < net->pops[i].n_blk; b++) {
            const snn_spikes *l = &net->pops[i].spk[b];
            for (size_t m = 0; m < l->n; m++)
                for (uint32_t c = 0; c < l->mult[m]; c++)
                    on_spike(ud, i, l->id[m], t);
        }
    (void)s;
}

static snn_net *build(snn_spec *s, int threads)
{
    snn_net *net = NULL;
    snn_err err;
    snn_err_clear(&err);
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("build: %s", err.msg);
    return net;
}

/* Run the whole spec with its integrator; collect every spike into out. */
static snn_net *run(snn_spec *s, spikes *out, int threads)
{
    snn_net *net = build(s, threads);
    snn_err err;
    snn_err_clear(&err);
    out->n = 0;
    snn_run_opts o = {.on_step = on_step, .step_ud = out};
    int rc;
    if (net->ev) {
        snn_sched_event_on_spike(net, on_spike, out);
        rc = snn_sched_run(net, net->n_steps, NULL, NULL, &err);
    } else {
        rc = snn_sched_run(net, net->n_steps, NULL, &o, &err);
    }
    if (rc)
        fail_msg("run: %s", err.msg);
    return net;
}

static void set_times(snn_pop_spec *p, const double *t, const uint32_t *id, size_t n)
{
    p->n_spikes = n;
    p->spike_ids = calloc(n ? n : 1, sizeof(uint32_t));
    p->spike_times_ms = malloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        p->spike_times_ms[i] = t[i];
        p->spike_ids[i] = id ? id[i] : 0;
    }
}

static double state(const snn_net *net, uint32_t pop, const char *var, size_t i)
{
    int v = snn_model_state_index(net->pops[pop].type, var);
    assert_true(v >= 0);
    return net->pops[pop].x[v][i];
}

static spikes g_a, g_b; /* large: static */

/* ---- constant drive: closed form ------------------------------------------ */

/* C_m 250 pF, tau_m 10 ms, threshold 15 mV above E_L = V_reset, I_e 500 pA:
   R I = 20 mV, time to threshold T = tau_m ln(RI / (RI - theta)). */
static snn_spec *single_spec(double dt, double dur, int integrator, int synapse)
{
    snn_spec *s = fx_spec(dt, dur, 3);
    s->integrator = integrator;
    uint32_t p = fx_pop(s, "n", "lif", 1);
    fx_par(s, p, "I_e", 500.0);
    fx_par(s, p, "t_ref", 2.0);
    fx_par(s, p, "synapse", synapse);
    return s;
}

static const double T_CROSS_RI = 20.0, T_CROSS_TH = 15.0, TAU_M = 10.0, T_REF = 2.0;

static void test_constant_drive_closed_form(void **st)
{
    (void)st;
    double T = TAU_M * log(T_CROSS_RI / (T_CROSS_RI - T_CROSS_TH));
    for (int syn = 0; syn < 2; syn++) {
        snn_spec *s = single_spec(0.1, 200.0, SNN_INTEGRATOR_EVENT, syn);
        snn_net *net = run(s, &g_a, 1);
        size_t expect = (size_t)floor((200.0 - T) / (T + T_REF)) + 1;
        assert_int_equal(g_a.n, expect);
        for (size_t m = 0; m < g_a.n; m++)
            snn_assert_close(g_a.t[m], T + (double)m * (T + T_REF), 0.0, 1e-9);
        /* Final state at t = 200 ms: relaxing from V_reset since the last
           spike (+ t_ref). */
        double t_last = g_a.t[g_a.n - 1] + T_REF;
        double v = -70.0 + T_CROSS_RI * (1.0 - exp(-(200.0 - t_last) / TAU_M));
        snn_assert_close(state(net, 0, "V_m", 0), v, 0.0, 1e-9);
        snn_net_free(net);
        snn_spec_free(s);
    }
}

/* Adaptive threshold: constant drive, theta += 2 mV per spike decaying with
   tau_theta = 50 ms.  Each interval solves
   R I (1 - e^{-s/tau_m}) = theta_th + theta_free e^{-s/tau_theta}
   (from V_reset = E_L after t_ref), found here by a dense scan + bisection. */
static double theta_gap(double s, double th_free)
{
    return T_CROSS_RI * (1.0 - exp(-s / TAU_M)) - T_CROSS_TH - th_free * exp(-s / 50.0);
}

static void test_adaptive_threshold(void **st)
{
    (void)st;
    snn_spec *s = single_spec(0.1, 150.0, SNN_INTEGRATOR_EVENT, 0);
    fx_par(s, 0, "theta_plus", 2.0);
    fx_par(s, 0, "tau_theta", 50.0);
    snn_net *net = run(s, &g_a, 1);
    double t = 0.0, th = 0.0; /* theta when the neuron becomes free at t */
    size_t m = 0;
    for (; m < g_a.n; m++) {
        double a = 0.0, b = -1.0;
        for (double x = 1e-4; x < 150.0; x += 1e-4)
            if (theta_gap(x, th) >= 0.0) {
                b = x;
                break;
            }
        assert_true(b > 0.0);
        a = b - 1e-4;
        while (b - a > 1e-13) {
            double c = 0.5 * (a + b);
            if (theta_gap(c, th) >= 0.0)
                b = c;
            else
                a = c;
        }
        double t_sp = t + b;
        if (t_sp > 150.0)
            break;
        snn_assert_close(g_a.t[m], t_sp, 0.0, 1e-9);
        th = (th * exp(-b / 50.0) + 2.0) * exp(-T_REF / 50.0);
        t = t_sp + T_REF;
    }
    assert_int_equal(m, g_a.n);
    assert_true(m >= 5);
    snn_net_free(net);
    snn_spec_free(s);
}

/* Piecewise-constant drive through a current input: the crossing moves to
   the exact change time. */
static void test_current_step(void **st)
{
    (void)st;
    snn_spec *s = single_spec(0.1, 60.0, SNN_INTEGRATOR_EVENT, 1);
    fx_par(s, 0, "I_e", 0.0);
    s->currents = calloc(1, sizeof *s->currents);
    s->n_currents = 1;
    snn_current_spec *c = &s->currents[0];
    snprintf(c->name, sizeof c->name, "step");
    c->target = 0;
    c->n_changes = 2;
    c->t_ms = malloc(2 * sizeof(double));
    c->amp_pA = malloc(2 * sizeof(double));
    c->t_ms[0] = 10.03; /* off the grid */
    c->amp_pA[0] = 500.0;
    c->t_ms[1] = 40.0;
    c->amp_pA[1] = 0.0;
    snn_net *net = run(s, &g_a, 1);
    double T = TAU_M * log(T_CROSS_RI / (T_CROSS_RI - T_CROSS_TH));
    assert_true(g_a.n >= 2);
    snn_assert_close(g_a.t[0], 10.03 + T, 0.0, 1e-9);
    snn_assert_close(g_a.t[1], 10.03 + T + T_REF + T, 0.0, 1e-9);
    for (size_t m = 0; m < g_a.n; m++)
        assert_true(g_a.t[m] < 40.0);
    snn_net_free(net);
    snn_spec_free(s);
}

/* ---- delta synapses: known input train, exact delays, refractoriness ---- */

static void test_delta_inputs_exact(void **st)
{
    (void)st;
    /* Inputs off the grid dt = 0.25; delay 1.3 ms (the clock would round it
       to 1.25).  Arrivals 2.31, 4.63, 6.37, 9.0 of +10 mV each:
       4.63 crosses (-70 + 10 e^{-2.32/10} + 10 > -55), the neuron fires at
       exactly 3.33 + 1.3 and is refractory until 6.63, so 6.37 is lost. */
    const double tin[4] = {1.01, 3.33, 5.07, 7.7}, d = 1.3;
    snn_spec *s = fx_spec(0.25, 20.0, 3);
    s->integrator = SNN_INTEGRATOR_EVENT;
    uint32_t src = fx_pop(s, "src", "spike_times", 1);
    set_times(&s->pops[src], tin, NULL, 4);
    uint32_t n = fx_pop(s, "n", "lif", 1);
    fx_par(s, n, "synapse", 1);
    fx_proj(s, src, n, SNN_CONN_ONE_TO_ONE, 10.0, d);
    snn_net *net = run(s, &g_a, 1);
    /* 4 source spikes at their given times, one neuron spike. */
    size_t k = 0, n_src = 0;
    for (size_t m = 0; m < g_a.n; m++) {
        if (g_a.pop[m] == src) {
            assert_true(g_a.t[m] == tin[n_src]);
            n_src++;
        } else {
            k++;
            assert_true(g_a.t[m] == tin[1] + d);
        }
    }
    assert_int_equal(n_src, 4);
    assert_int_equal(k, 1);
    double v = -70.0 + 10.0 * exp(-(20.0 - (tin[3] + d)) / TAU_M);
    snn_assert_close(state(net, n, "V_m", 0), v, 0.0, 1e-12);
    snn_net_free(net);
    snn_spec_free(s);
}

/* ---- exponential currents: root finder vs dense analytic evaluation ----- */

/* V(t) - E_L of a LIF at rest from t = 0 under I_e and current pulses w_a at
   ta (decaying with tau_s), before its first spike. */
typedef struct exp_case {
    double c, tau_m, tau_s, i_e;
    size_t n;
    double ta[8], w[8];
} exp_case;

static double v_exact(const exp_case *x, double t)
{
    double v = x->tau_m / x->c * x->i_e * (1.0 - exp(-t / x->tau_m));
    for (size_t a = 0; a < x->n; a++) {
        if (t <= x->ta[a])
            continue;
        double s = t - x->ta[a];
        v += x->w[a] / x->c * (exp(-s / x->tau_s) - exp(-s / x->tau_m)) /
             (1.0 / x->tau_m - 1.0 / x->tau_s);
    }
    return v;
}

/* First t in (0, t_max] with v_exact >= theta: a grid of h = 1e-4 ms, then
   bisection to 1e-13 ms.  Returns -1 if none. */
static double first_crossing_dense(const exp_case *x, double theta, double t_max)
{
    const double h = 1e-4;
    double prev = 0.0;
    for (double t = h; t <= t_max; t += h) {
        if (v_exact(x, t) >= theta) {
            double a = prev, b = t;
            while (b - a > 1e-13) {
                double m = 0.5 * (a + b);
                if (v_exact(x, m) >= theta)
                    b = m;
                else
                    a = m;
            }
            return b;
        }
        prev = t;
    }
    return -1.0;
}

/* The neuron is population 0; pulse a comes from source population a + 1
   (one spike at ta[a] - 0.1, delay 0.1 ms, weight w[a] pA). */
static snn_net *run_exp_case(const exp_case *x, double dur, snn_spec **sp)
{
    snn_spec *s = fx_spec(0.1, dur, 3);
    s->integrator = SNN_INTEGRATOR_EVENT;
    uint32_t n = fx_pop(s, "n", "lif", 1);
    fx_par(s, n, "C_m", x->c);
    fx_par(s, n, "tau_m", x->tau_m);
    fx_par(s, n, "tau_syn_ex", x->tau_s);
    fx_par(s, n, "tau_syn_in", x->tau_s);
    fx_par(s, n, "I_e", x->i_e);
    for (size_t a = 0; a < x->n; a++) {
        char name[32];
        snprintf(name, sizeof name, "src%u", (unsigned)a);
        uint32_t src = fx_pop(s, name, "spike_times", 1);
        double t = x->ta[a] - 0.1;
        set_times(&s->pops[src], &t, NULL, 1);
        fx_proj(s, src, n, SNN_CONN_ONE_TO_ONE, x->w[a], 0.1)->channel = x->w[a] < 0.0;
    }
    *sp = s;
    return run(s, &g_a, 1);
}

static double first_neuron_spike(const spikes *s, uint32_t pop)
{
    for (size_t m = 0; m < s->n; m++)
        if (s->pop[m] == pop)
            return s->t[m];
    return -1.0;
}

static void test_exp_crossing_matches_dense(void **st)
{
    (void)st;
    /* Subthreshold drive (R I_e = 12 mV < 15 mV) plus three pulses; the
       crossing happens between arrivals, on the rising flank of the last. */
    exp_case x = {250.0, 10.0, 2.0, 300.0, 3, {5.0, 9.37, 12.2}, {400.0, -300.0, 1300.0}};
    snn_spec *s;
    snn_net *net = run_exp_case(&x, 40.0, &s);
    double t_ev = first_neuron_spike(&g_a, 0);
    double t_ref = first_crossing_dense(&x, 15.0, 40.0);
    assert_true(t_ref > 12.2 && t_ref < 40.0);
    snn_assert_close(t_ev, t_ref, 0.0, 1e-9);
    snn_net_free(net);
    snn_spec_free(s);
}

/* A single pulse whose peak lies just above (or just below) threshold:
   f < 0 at the arrival and at every later event, so only a search that
   bounds f between events finds it. */
static void test_exp_grazing(void **st)
{
    (void)st;
    const double c = 250.0, tm = 10.0, ts = 2.0, th = 15.0;
    double sp = tm * ts * log(ts / tm) / (ts - tm); /* peak of the kernel */
    double kpk = (exp(-sp / ts) - exp(-sp / tm)) / (1.0 / tm - 1.0 / ts) / c;
    for (int above = 1; above >= 0; above--) {
        double eps = 1e-7;
        double w = (th + (above ? eps : -eps)) / kpk;
        exp_case x = {c, tm, ts, 0.0, 1, {3.0}, {w}};
        snn_spec *s;
        snn_net *net = run_exp_case(&x, 30.0, &s);
        double t_ev = first_neuron_spike(&g_a, 0);
        if (above) {
            /* V'' ~ -1 mV/ms^2 at the peak: |t - peak| <= sqrt(2 eps). */
            assert_true(t_ev > 0.0);
            snn_assert_close(t_ev, 3.0 + sp, 0.0, 1e-3);
            assert_true(v_exact(&x, t_ev) >= th - 1e-9);
            double t_ref = first_crossing_dense(&x, th, 30.0);
            snn_assert_close(t_ev, t_ref, 0.0, 1e-6);
        } else {
            assert_true(t_ev < 0.0);
            assert_true(first_crossing_dense(&x, th, 30.0) < 0.0);
        }
        snn_net_free(net);
        snn_spec_free(s);
    }
}

/* ---- convergence of the clock to the event times -------------------------- */

static double max_err_first(const spikes *clk, const spikes *ev, size_t n_cmp)
{
    assert_true(clk->n >= n_cmp && ev->n >= n_cmp);
    double e = 0.0;
    for (size_t m = 0; m < n_cmp; m++) {
        if (clk->pop[m] != ev->pop[m] || clk->id[m] != ev->id[m])
            fail_msg("spike %zu: clock (%u, %u) at %.6f, event (%u, %u) at %.6f", m, clk->pop[m],
                     clk->id[m], clk->t[m], ev->pop[m], ev->id[m], ev->t[m]);
        double d = fabs(clk->t[m] - ev->t[m]);
        e = d > e ? d : e;
    }
    return e;
}

static void test_convergence_single(void **st)
{
    (void)st;
    const size_t N = 8;
    double T = TAU_M * log(T_CROSS_RI / (T_CROSS_RI - T_CROSS_TH));
    snn_spec *se = single_spec(0.1, 150.0, SNN_INTEGRATOR_EVENT, 0);
    snn_net *ne = run(se, &g_b, 1);
    const double dts[4] = {0.1, 0.05, 0.025, 0.0125};
    for (int q = 0; q < 4; q++) {
        double dt = dts[q];
        snn_spec *sc = single_spec(dt, 150.0, SNN_INTEGRATOR_CLOCK, 0);
        snn_net *nc = run(sc, &g_a, 1);
        double err = max_err_first(&g_a, &g_b, N);
        /* The clock rounds each time to threshold up to the grid (t_ref is
           a multiple of dt): spike m lags the exact one by (m + 1) delta,
           delta = ceil(T/dt) dt - T in [0, dt).  So the error is O(dt). */
        double delta = ceil(T / dt) * dt - T;
        assert_true(delta >= 0.0 && delta < dt);
        for (size_t m = 0; m < N; m++)
            snn_assert_close(g_a.t[m] - g_b.t[m], (double)(m + 1) * delta, 0.0, 1e-9);
        assert_true(err < (double)N * dt);
        snn_net_free(nc);
        snn_spec_free(sc);
    }
    snn_net_free(ne);
    snn_spec_free(se);
}

/* Four exp-synapse LIF neurons with different drives, all-to-all excitatory
   coupling with delay 1 ms (a multiple of every dt): spike sequences must
   match and times converge linearly. */
static snn_spec *recurrent_spec(double dt, int integrator)
{
    snn_spec *s = fx_spec(dt, 150.0, 5);
    s->integrator = integrator;
    uint32_t p = fx_pop(s, "r", "lif", 4);
    fx_par(s, p, "t_ref", 2.0);
    s->pops[p].init[snn_model_state_index(s->pops[p].type, "V_m")] =
        (snn_dist){.kind = SNN_DIST_ARRAY, .values = malloc(4 * sizeof(double)), .n_values = 4};
    double v0[4] = {-70.0, -66.0, -62.0, -58.0};
    memcpy(s->pops[p].init[0].values, v0, sizeof v0);
    fx_par(s, p, "I_e", 420.0);
    snn_proj_spec *r = fx_proj(s, p, p, SNN_CONN_ALL_TO_ALL, 60.0, 1.0);
    r->autapses = false;
    return s;
}

static void test_convergence_recurrent(void **st)
{
    (void)st;
    const size_t N = 20;
    snn_spec *se = recurrent_spec(0.1, SNN_INTEGRATOR_EVENT);
    snn_net *ne = run(se, &g_b, 1);
    assert_true(g_b.n >= N);
    const double dts[4] = {0.1, 0.05, 0.025, 0.0125};
    double err[4];
    for (int q = 0; q < 4; q++) {
        snn_spec *sc = recurrent_spec(dts[q], SNN_INTEGRATOR_CLOCK);
        snn_net *nc = run(sc, &g_a, 1);
        /* Same order: sort each clock step's spikes like the event ones
           (ties inside a step are resolved by the exact times). */
        err[q] = max_err_first(&g_a, &g_b, N);
        print_message("dt %g: max |t_clock - t_event| over %zu spikes = %.3g ms\n", dts[q], N,
                      err[q]);
        snn_net_free(nc);
        snn_spec_free(sc);
    }
    for (int q = 1; q < 4; q++)
        assert_true(err[q] <= err[q - 1] * 0.75 || err[q] <= 2.0 * dts[q]);
    assert_true(err[3] <= err[0] / 4.0);
    snn_net_free(ne);
    snn_spec_free(se);
}

/* ---- Poisson sources -------------------------------------------------------- */

static void test_poisson_intervals(void **st)
{
    (void)st;
    const double rate = 500.0; /* Hz: mean interval 2 ms */
    snn_spec *s = fx_spec(0.1, 20000.0, 11);
    s->integrator = SNN_INTEGRATOR_EVENT;
    uint32_t p = fx_pop(s, "p", "poisson", 1);
    fx_par(s, p, "rate_hz", rate);
    snn_net *net = run(s, &g_a, 1);
    size_t n = g_a.n - 1;
    assert_true(n > 9000);
    static double isi[MAX_SPK];
    double sum = 0.0, sq = 0.0;
    size_t off_grid = 0;
    for (size_t m = 0; m < n; m++) {
        isi[m] = g_a.t[m + 1] - g_a.t[m];
        sum += isi[m];
        double f = fmod(g_a.t[m], 0.1);
        off_grid += f > 1e-9 && f < 0.1 - 1e-9;
    }
    double mean = sum / (double)n, mu = 1000.0 / rate;
    for (size_t m = 0; m < n; m++)
        sq += (isi[m] - mean) * (isi[m] - mean);
    double cv = sqrt(sq / (double)(n - 1)) / mean;
    /* Mean: sd mu / sqrt(n); CV of an exponential is 1, its estimate has
       sd ~ 1 / sqrt(n) (exponential: Var(s^2)/s^4 -> 8/n, so sd(CV) ~ sqrt(2/n)). */
    snn_assert_close(mean, mu, 0.0, 5.0 * mu / sqrt((double)n));
    snn_assert_close(cv, 1.0, 0.0, 5.0 * sqrt(2.0 / (double)n));
    /* Kolmogorov-Smirnov against 1 - exp(-x/mu): D < 1.95/sqrt(n) (alpha 0.001). */
    gsl_sort(isi, 1, n);
    double D = 0.0;
    for (size_t m = 0; m < n; m++) {
        double F = 1.0 - exp(-isi[m] / mu);
        double d1 = fabs(F - (double)m / (double)n), d2 = fabs((double)(m + 1) / (double)n - F);
        D = fmax(D, fmax(d1, d2));
    }
    assert_true(D < 1.95 / sqrt((double)n));
    /* Continuous times: practically none on the grid. */
    assert_true(off_grid > n - 10);
    snn_net_free(net);
    snn_spec_free(s);
}

/* ---- pair STDP on exact times ------------------------------------------------ */

/* pre (spike_times) -> post (delta LIF) plastic with rule `rule`, one
   synapse; drv fires post at exactly t_drv[m] + 0.7 (weight 100 mV, drive
   times more than t_ref apart).  Stores the post spike times in t_post
   (n_drv of them, checked) and returns the final weight.  g_post_first:
   the post population comes first (index 0). */
static bool g_post_first;

static double rule_case(const char *rule, const double *par, const double *t_pre, size_t n_pre,
                        const double *t_drv, size_t n_drv, double w0, double *t_post)
{
    snn_spec *s = fx_spec(0.1, 60.0, 1);
    s->integrator = SNN_INTEGRATOR_EVENT;
    uint32_t post = g_post_first ? fx_pop(s, "post", "lif", 1) : 0;
    uint32_t pre = fx_pop(s, "pre", "spike_times", 1);
    set_times(&s->pops[pre], t_pre, NULL, n_pre);
    uint32_t drv = fx_pop(s, "drv", "spike_times", 1);
    set_times(&s->pops[drv], t_drv, NULL, n_drv);
    if (!g_post_first)
        post = fx_pop(s, "post", "lif", 1);
    fx_par(s, post, "synapse", 1);
    fx_proj(s, drv, post, SNN_CONN_ONE_TO_ONE, 100.0, 0.7);
    snn_proj_spec *pl = fx_proj(s, pre, post, SNN_CONN_ONE_TO_ONE, w0, 0.5);
    pl->rule = snn_rule_find(rule);
    assert_non_null(pl->rule);
    pl->rule_par = malloc(pl->rule->n_params * sizeof(double));
    memcpy(pl->rule_par, par, pl->rule->n_params * sizeof(double));
    snn_net *net = run(s, &g_a, 1);
    size_t np = 0;
    for (size_t m = 0; m < g_a.n; m++)
        if (g_a.pop[m] == post) {
            assert_true(np < n_drv);
            t_post[np++] = g_a.t[m];
        }
    assert_int_equal(np, n_drv);
    for (size_t m = 0; m < n_drv; m++)
        snn_assert_close(t_post[m], t_drv[m] + 0.7, 0.0, 0.0);
    double w;
    snn_net_weights(&net->projs[1], &w, NULL, NULL);
    snn_net_free(net);
    snn_spec_free(s);
    return w;
}

static double stdp_case(const double *t_pre, size_t n_pre, double t_drv, double w0,
                        const double *par, double *t_post)
{
    return rule_case("stdp_pair", par, t_pre, n_pre, &t_drv, 1, w0, t_post);
}

/* The defaults of rule `name` into par[], then the pairs key=value of kv. */
static const snn_rule_type *rule_par(const char *name, double *par, size_t cap,
                                     const char *const *keys, const double *vals, size_t n_kv)
{
    const snn_rule_type *r = snn_rule_find(name);
    assert_non_null(r);
    assert_true(r->exact_times);
    assert_true(r->n_params <= cap);
    for (size_t i = 0; i < r->n_params; i++)
        par[i] = r->params[i].def;
    for (size_t m = 0; m < n_kv; m++) {
        int q = snn_rule_param_index(r, keys[m]);
        assert_true(q >= 0);
        par[q] = vals[m];
    }
    return r;
}

static void test_stdp_pair_exact(void **st)
{
    (void)st;
    const snn_rule_type *r = snn_rule_find("stdp_pair");
    double par[16];
    assert_true(r->n_params <= 16);
    for (size_t i = 0; i < r->n_params; i++)
        par[i] = r->params[i].def;
    /* A_plus 0.01, A_minus 0.0105, tau_plus 16.8, tau_minus 33.7, bounds [0, 1], additive. */
    double a_plus = par[0], a_minus = par[1], tau_plus = par[2], tau_minus = par[3];
    double w0 = 0.5, t_post;
    /* Potentiation: pre at 10.013, post at 13.0007 + 0.7. */
    double tp = 10.013;
    double w = stdp_case(&tp, 1, 13.0007, w0, par, &t_post);
    snn_assert_close(t_post, 13.0007 + 0.7, 0.0, 0.0);
    snn_assert_close(w - w0, a_plus * exp(-(t_post - tp) / tau_plus), 0.0, 1e-12);
    /* Depression: post at 5.0123 + 0.7, pre at 9.2871. */
    tp = 9.2871;
    w = stdp_case(&tp, 1, 5.0123, w0, par, &t_post);
    snn_assert_close(w - w0, -a_minus * exp(-(tp - t_post) / tau_minus), 0.0, 1e-12);
    /* A pair closer than one clock step still pairs with its exact Delta t. */
    tp = 20.0301;
    w = stdp_case(&tp, 1, 19.3512, w0, par, &t_post); /* post at 20.0512 */
    snn_assert_close(w - w0, a_plus * exp(-(t_post - tp) / tau_plus), 0.0, 1e-12);
    /* A pre and a post spike at exactly the same time do not pair, whichever
       population comes first (as spikes of one clock step do not); an
       earlier pre spike still pairs with that post spike. */
    for (int first = 0; first < 2; first++) {
        g_post_first = first;
        double drv = 9.3, tie[2] = {4.4321, 9.3 + 0.7};
        w = stdp_case(tie + 1, 1, drv, w0, par, &t_post);
        assert_true(t_post == tie[1]);
        snn_assert_close(w, w0, 0.0, 0.0);
        w = stdp_case(tie, 2, drv, w0, par, &t_post);
        snn_assert_close(w - w0, a_plus * exp(-(t_post - tie[0]) / tau_plus), 0.0, 1e-12);
    }
    g_post_first = false;
}

/* Triplet STDP (rules/stdp_triplet.c) at off-grid times: a post-pre-post and
   a pre-post-pre triplet against the closed form with every trace taken
   just before its spike. */
static void test_stdp_triplet_exact(void **st)
{
    (void)st;
    static const char *const k[] = {"A2_plus", "A3_plus", "A2_minus", "A3_minus"};
    const double v[] = {0.005, 0.0062, 0.007, 0.0023};
    double par[16];
    rule_par("stdp_triplet", par, 16, k, v, 4);
    const double a2p = v[0], a3p = v[1], a2m = v[2], a3m = v[3];
    const double tp = 16.8, tm = 33.7, tx = 101.0, ty = 125.0, w0 = 0.5;
    double tpo[2];
    /* post (5.7123), pre (11.3377), post (20.1441): the second post sees
       the first through o2 (A3_plus). */
    double pre1 = 11.3377, drv1[2] = {5.0123, 19.4441};
    double w = rule_case("stdp_triplet", par, &pre1, 1, drv1, 2, w0, tpo);
    double want = -a2m * exp(-(pre1 - tpo[0]) / tm) +
                  exp(-(tpo[1] - pre1) / tp) * (a2p + a3p * exp(-(tpo[1] - tpo[0]) / ty));
    snn_assert_close(w - w0, want, 0.0, 1e-12);
    /* pre (4.2719), post (9.7551), pre (17.9033): the second pre sees the
       first through r2 (A3_minus). */
    double pre2[2] = {4.2719, 17.9033}, drv2 = 9.0551;
    w = rule_case("stdp_triplet", par, pre2, 2, &drv2, 1, w0, tpo);
    want = a2p * exp(-(tpo[0] - pre2[0]) / tp) -
           exp(-(pre2[1] - tpo[0]) / tm) * (a2m + a3m * exp(-(pre2[1] - pre2[0]) / tx));
    snn_assert_close(w - w0, want, 0.0, 1e-12);
}

/* Diehl & Cook (rules/diehl_cook.c), mu = 1, "set" traces: two pre spikes,
   a post spike (x_pre from the later pre only), a pre spike (x_post); and
   the x_tar offset on a pair. */
static void test_diehl_cook_exact(void **st)
{
    (void)st;
    double par[16];
    const snn_rule_type *r = rule_par("diehl_cook", par, 16, NULL, NULL, 0);
    double eta_pre = par[snn_rule_param_index(r, "eta_pre")];
    double eta_post = par[snn_rule_param_index(r, "eta_post")];
    double tau_pre = par[snn_rule_param_index(r, "tau_pre")];
    double tau_post = par[snn_rule_param_index(r, "tau_post")];
    double w_max = par[snn_rule_param_index(r, "w_max")], w0 = 0.5, tpo;
    assert_true(par[snn_rule_param_index(r, "mu")] == 1.0);
    double pre[3] = {3.3311, 8.0173, 21.777}, drv = 12.4087;
    double w = rule_case("diehl_cook", par, pre, 3, &drv, 1, w0, &tpo);
    double w1 = w0 + eta_post * exp(-(tpo - pre[1]) / tau_pre) * (w_max - w0);
    double w2 = w1 - eta_pre * exp(-(pre[2] - tpo) / tau_post) * w1;
    snn_assert_close(w, w2, 0.0, 1e-12);
    static const char *const k[] = {"x_tar"};
    const double xt = 0.3;
    rule_par("diehl_cook", par, 16, k, &xt, 1);
    double p1 = 30.0417, d1 = 33.9009;
    w = rule_case("diehl_cook", par, &p1, 1, &d1, 1, w0, &tpo);
    snn_assert_close(w - w0, eta_post * (exp(-(tpo - p1) / tau_pre) - xt) * (w_max - w0), 0.0,
                     1e-12);
}

/* A rate trace read in Hz at t: 1000/tau sum over the first n spikes
   pre[] of exp(-(t - t_a)/tau). */
static double xh(const double *pre, size_t n, double t, double tau)
{
    double x = 0.0;
    for (size_t a = 0; a < n; a++)
        x += exp(-(t - pre[a]) / tau);
    return 1000.0 / tau * x;
}

/* hebb, instar, oja (rules/hebb.c, mode "spike"): the rate traces at the
   exact post spike times, no update at a pre spike; oja's y from the
   earlier post spike only. */
static void test_hebb_family_exact(void **st)
{
    (void)st;
    double par[16], tpo[2];
    const double pre[3] = {2.5031, 7.1187, 25.3003}, drv[2] = {10.0409, 15.5233}, w0 = 0.5;
    const snn_rule_type *r = rule_par("hebb", par, 16, NULL, NULL, 0);
    double eta = par[snn_rule_param_index(r, "eta")], tau = par[snn_rule_param_index(r, "tau_x")];
    double w = rule_case("hebb", par, pre, 3, drv, 1, w0, tpo);
    snn_assert_close(w - w0, eta * xh(pre, 2, tpo[0], tau), 0.0, 1e-12);

    r = rule_par("instar", par, 16, NULL, NULL, 0);
    eta = par[snn_rule_param_index(r, "eta")];
    tau = par[snn_rule_param_index(r, "tau_x")];
    w = rule_case("instar", par, pre, 3, drv, 1, w0, tpo);
    snn_assert_close(w, w0 + eta * (xh(pre, 2, tpo[0], tau) - w0), 0.0, 1e-12);

    static const char *const k[] = {"tau_x", "tau_y"};
    const double taus[2] = {80.0, 45.0};
    r = rule_par("oja", par, 16, k, taus, 2);
    eta = par[snn_rule_param_index(r, "eta")];
    w = rule_case("oja", par, pre, 3, drv, 2, w0, tpo);
    double w1 = w0 + eta * xh(pre, 2, tpo[0], taus[0]);
    double yh = 1000.0 / taus[1] * exp(-(tpo[1] - tpo[0]) / taus[1]);
    double w2 = w1 + eta * (xh(pre, 2, tpo[1], taus[0]) - yh * w1);
    snn_assert_close(w, w2, 0.0, 1e-12);
}

/* Rules the event integrator refuses, each with the reason. */
static void refused(const char *rule, const char *const *keys, const double *vals, size_t n_kv,
                    const char *why)
{
    snn_spec *s = fx_spec(0.1, 10.0, 1);
    s->integrator = SNN_INTEGRATOR_EVENT;
    uint32_t a = fx_pop(s, "a", "lif", 2), b = fx_pop(s, "b", "lif", 3);
    snn_proj_spec *pl = fx_proj(s, a, b, SNN_CONN_ALL_TO_ALL, 0.5, 1.0);
    pl->rule = snn_rule_find(rule);
    assert_non_null(pl->rule);
    pl->rule_par = malloc(pl->rule->n_params * sizeof(double));
    for (size_t i = 0; i < pl->rule->n_params; i++)
        pl->rule_par[i] = pl->rule->params[i].def;
    for (size_t m = 0; m < n_kv; m++)
        pl->rule_par[snn_rule_param_index(pl->rule, keys[m])] = vals[m];
    snn_net *net = NULL;
    snn_err err;
    snn_err_clear(&err);
    int rc = snn_net_build(&net, s, 1, &err);
    if (rc != SNN_ECFG || !strstr(err.msg, rule) || !strstr(err.msg, why) ||
        !strstr(err.msg, "stdp_triplet"))
        fail_msg("rule %s: rc %d, %s", rule, rc, err.msg);
    assert_null(net);
    snn_spec_free(s);
}

static void test_refused_rules(void **st)
{
    (void)st;
    refused("three_factor", NULL, NULL, 0, "clock-driven state");
    refused("ghl", NULL, NULL, 0, "once per stimulus");
    static const char *const k[] = {"mode"};
    const double stim = 1.0; /* "stimulus" */
    refused("hebb", k, &stim, 1, "once per stimulus");
}

/* Per-synapse (uniform) delays are exact under the event integrator: one
   pre spike at t0 fires each of N delta-LIF targets (100 mV) at exactly
   t0 + its synapse's delay as drawn; the draws are those of the clocked
   build (same stream, same rounding to steps there). */
static void test_uniform_delays_exact(void **st)
{
    (void)st;
    enum { N = 64 };
    const double t0 = 1.0, lo = 0.5, hi = 3.0, dt = 0.1;
    snn_spec *sp[2];
    snn_net *net[2];
    for (int q = 0; q < 2; q++) {
        snn_spec *s = sp[q] = fx_spec(dt, 10.0, 21);
        s->integrator = q ? SNN_INTEGRATOR_EVENT : SNN_INTEGRATOR_CLOCK;
        uint32_t a = fx_pop(s, "src", "spike_times", 1);
        set_times(&s->pops[a], &t0, NULL, 1);
        uint32_t b = fx_pop(s, "tgt", "lif", N);
        fx_par(s, b, "synapse", 1);
        snn_proj_spec *pj = fx_proj(s, a, b, SNN_CONN_ALL_TO_ALL, 100.0, 0.0);
        pj->delay_ms = (snn_dist){.kind = SNN_DIST_UNIFORM, .a = lo, .b = hi};
        net[q] = q ? run(s, &g_a, 2) : build(s, 2);
    }
    const snn_proj *pc = &net[0]->projs[0], *pe = &net[1]->projs[0];
    assert_false(pe->dense);
    assert_int_equal(pc->n_parts, pe->n_parts);
    double t_of[N];
    for (size_t j = 0; j < N; j++)
        t_of[j] = NAN;
    assert_int_equal(g_a.n, N + 1);
    for (size_t m = 0; m < g_a.n; m++)
        if (g_a.pop[m] == 1)
            t_of[g_a.id[m]] = g_a.t[m];
    size_t off_grid = 0, seen = 0;
    for (size_t t = 0; t < pe->n_parts; t++) {
        const snn_part *c = &pc->parts[t], *e = &pe->parts[t];
        assert_null(c->delay_ms);
        assert_non_null(e->delay_ms);
        assert_int_equal(c->nnz, e->nnz);
        for (size_t q = 0; q < e->nnz; q++) {
            double d = e->delay_ms[q];
            assert_true(d >= lo && d <= hi);
            assert_int_equal(e->col[q], c->col[q]);
            assert_int_equal(e->delay[q], c->delay[q]);
            assert_int_equal(c->delay[q], (uint16_t)lround(d / dt));
            snn_assert_close(t_of[e->col[q]], t0 + d, 0.0, 0.0);
            double f = fmod(d, dt);
            off_grid += f > 1e-9 && f < dt - 1e-9;
            seen++;
        }
    }
    assert_int_equal(seen, N);
    assert_true(off_grid > N - 3);
    for (int q = 0; q < 2; q++) {
        snn_net_free(net[q]);
        snn_spec_free(sp[q]);
    }
}

/* Output layout: spikes with exact time stamps and V_m sampled on the grid
   (neurons advanced exactly to each sampling time), read back from HDF5. */
static void read_f64(hid_t f, const char *path, double *v, size_t cap, size_t *n)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    hssize_t m = H5Sget_simple_extent_npoints(sp);
    assert_true(m >= 0 && (size_t)m <= cap);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    *n = (size_t)m;
    H5Sclose(sp);
    H5Dclose(d);
}

static void test_recorded_output(void **st)
{
    (void)st;
    const char *path = "event_rec.h5";
    snn_spec *s = single_spec(0.1, 60.0, SNN_INTEGRATOR_EVENT, 0);
    s->rec_spikes[0] = true;
    s->rec_state = calloc(1, sizeof *s->rec_state);
    s->n_rec_state = 1;
    s->rec_state[0].pop = 0;
    s->rec_state[0].n_vars = 1;
    s->rec_state[0].vars = calloc(1, sizeof(int));
    s->rec_state[0].vars[0] = snn_model_state_index(s->pops[0].type, "V_m");
    s->rec_state[0].n_neurons = 1;
    s->rec_state[0].neurons = calloc(1, sizeof(uint32_t));
    s->rec_state[0].interval_ms = 0.5;
    snn_net *net = build(s, 1);
    snn_err err;
    snn_err_clear(&err);
    snn_h5 *h = NULL;
    snn_rec *rec = NULL;
    if (snn_h5_create(&h, path, 0, &err) || snn_rec_open(&rec, net, h, &err) ||
        snn_sched_run(net, net->n_steps, rec, NULL, &err) || snn_rec_flush(rec, &err))
        fail_msg("%s", err.msg);
    snn_rec_free(rec);
    assert_int_equal(snn_h5_close(h, 1, &err), SNN_OK);
    snn_net_free(net);
    snn_spec_free(s);

    static double t[4096], v[4096], ts[4096];
    size_t nt, nv, ns;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    read_f64(f, "/spikes/n/timestamps", t, 4096, &nt);
    read_f64(f, "/state/n/times", ts, 4096, &ns);
    read_f64(f, "/state/n/V_m", v, 4096, &nv);
    H5Fclose(f);
    remove(path);
    double T = TAU_M * log(T_CROSS_RI / (T_CROSS_RI - T_CROSS_TH));
    assert_int_equal(nt, 3); /* 13.86, 29.73, 45.59 */
    for (size_t m = 0; m < nt; m++)
        snn_assert_close(t[m], T + (double)m * (T + T_REF), 0.0, 1e-9);
    assert_int_equal(ns, 121);
    assert_int_equal(nv, ns);
    for (size_t q = 0; q < ns; q++) {
        double tq = ts[q], free_from = 0.0, expect;
        snn_assert_close(tq, 0.5 * (double)q, 1e-12, 0.0);
        bool refractory = false;
        for (size_t m = 0; m < nt; m++)
            if (t[m] <= tq) {
                free_from = t[m] + T_REF;
                refractory = tq < free_from;
            }
        expect = refractory ? -70.0 : -70.0 + T_CROSS_RI * (1.0 - exp(-(tq - free_from) / TAU_M));
        snn_assert_close(v[q], expect, 0.0, 1e-9);
    }
}

/* ---- determinism and errors -------------------------------------------------- */

static snn_spec *noisy_spec(void)
{
    snn_spec *s = fx_spec(0.1, 200.0, 21);
    s->integrator = SNN_INTEGRATOR_EVENT;
    uint32_t x = fx_pop(s, "x", "poisson", 300);
    fx_par(s, x, "rate_hz", 20.0);
    uint32_t e = fx_pop(s, "e", "lif", 600);
    snn_proj_spec *in = fx_proj(s, x, e, SNN_CONN_BERNOULLI, 150.0, 1.0);
    in->p = 0.1;
    snn_proj_spec *rec = fx_proj(s, e, e, SNN_CONN_BERNOULLI, -40.0, 0.0);
    rec->p = 0.1;
    rec->delay_ms.kind = SNN_DIST_UNIFORM; /* per-synapse delays */
    rec->delay_ms.a = 0.5;
    rec->delay_ms.b = 2.0;
    return s;
}

static void test_threads_identical(void **st)
{
    (void)st;
    snn_spec *s = noisy_spec();
    snn_net *n1 = run(s, &g_a, 1);
    snn_net *n2 = run(s, &g_b, 2);
    assert_true(g_a.n > 1000);
    assert_int_equal(g_a.n, g_b.n);
    assert_memory_equal(g_a.t, g_b.t, g_a.n * sizeof(double));
    assert_memory_equal(g_a.id, g_b.id, g_a.n * sizeof(uint32_t));
    /* Processing order is (time, kind, population, neuron): times ascend. */
    for (size_t m = 1; m < g_a.n; m++)
        assert_true(g_a.t[m] >= g_a.t[m - 1]);
    snn_net_free(n1);
    snn_net_free(n2);
    snn_spec_free(s);
}

/* A run cut into segments (as checkpointing or stimulus phases do) gives
   the same spikes as one run; a Poisson rate set between segments takes
   effect at once (memoryless redraw), an unchanged one keeps its draw. */
static void test_segments(void **st)
{
    (void)st;
    snn_spec *s = noisy_spec();
    snn_net *n1 = run(s, &g_a, 1);
    snn_net *n2 = build(s, 1);
    snn_err err;
    snn_err_clear(&err);
    snn_sched_event_on_spike(n2, on_spike, &g_b);
    g_b.n = 0;
    while (n2->step < n2->n_steps) {
        size_t k = n2->n_steps - n2->step < 37 ? n2->n_steps - n2->step : 37;
        if (snn_sched_run(n2, k, NULL, NULL, &err))
            fail_msg("%s", err.msg);
    }
    assert_int_equal(g_a.n, g_b.n);
    for (size_t m = 0; m < g_a.n; m++) {
        assert_int_equal(g_a.pop[m], g_b.pop[m]);
        assert_int_equal(g_a.id[m], g_b.id[m]);
        snn_assert_close(g_b.t[m], g_a.t[m], 0.0, 1e-9);
    }
    snn_net_free(n2);
    /* Inputs off from t = 100 ms. */
    snn_net *n3 = build(s, 1);
    snn_sched_event_on_spike(n3, on_spike, &g_b);
    g_b.n = 0;
    if (snn_sched_run(n3, 1000, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    size_t before = g_b.n;
    int r = snn_model_state_index(n3->pops[0].type, "rate");
    for (size_t i = 0; i < n3->pops[0].n; i++)
        n3->pops[0].x[r][i] = 0.0;
    if (snn_sched_run(n3, 1000, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    for (size_t m = before; m < g_b.n; m++)
        assert_int_not_equal(g_b.pop[m], 0);
    /* Up to t = 100 ms the spikes are those of the uncut run. */
    for (size_t m = 0; m < before; m++)
        snn_assert_close(g_b.t[m], g_a.t[m], 0.0, 1e-9);
    size_t upto = 0;
    while (upto < g_a.n && g_a.t[upto] <= 100.0)
        upto++;
    assert_int_equal(before, upto);
    assert_true(before > 100);
    snn_net_free(n3);
    snn_net_free(n1);
    snn_spec_free(s);
}

static void test_unsupported_model(void **st)
{
    (void)st;
    snn_spec *s = fx_spec(0.1, 10.0, 1);
    s->integrator = SNN_INTEGRATOR_EVENT;
    fx_pop(s, "cond", "lif_cond", 3);
    snn_net *net = NULL;
    snn_err err;
    snn_err_clear(&err);
    assert_int_equal(snn_net_build(&net, s, 1, &err), SNN_ECFG);
    assert_null(net);
    assert_non_null(strstr(err.msg, "population 'cond' (model lif_cond)"));
    snn_spec_free(s);
}

static void test_unsupported_rule(void **st)
{
    (void)st;
    snn_spec *s = fx_spec(0.1, 10.0, 1);
    s->integrator = SNN_INTEGRATOR_EVENT;
    uint32_t a = fx_pop(s, "a", "lif", 2);
    snn_proj_spec *pl = fx_proj(s, a, a, SNN_CONN_ALL_TO_ALL, 0.5, 1.0);
    const snn_rule_type *r = NULL;
    for (size_t i = 0; (r = snn_rule_at(i)) != NULL; i++)
        if (!r->exact_times && r->on_pre)
            break;
    if (!r) {
        snn_spec_free(s);
        skip();
    }
    pl->rule = r;
    pl->rule_par = malloc((r->n_params ? r->n_params : 1) * sizeof(double));
    for (size_t i = 0; i < r->n_params; i++)
        pl->rule_par[i] = r->params[i].def;
    snn_net *net = NULL;
    snn_err err;
    snn_err_clear(&err);
    int rc = snn_net_build(&net, s, 1, &err);
    if (rc != SNN_ECFG || !strstr(err.msg, r->name))
        fail_msg("rule %s: rc %d, %s", r->name, rc, err.msg);
    assert_null(net);
    snn_spec_free(s);
}

/* The parameter-file key and its errors. */
static void test_cfg_key(void **st)
{
    (void)st;
    snn_spec *sp = NULL;
    snn_err err;
    snn_err_clear(&err);
    const char *ev[] = {"simulation.integrator=\"event\""};
    assert_int_equal(snn_cfg_load(SNN_TEST_DATA "/event_single.cfg", NULL, 0, &sp, &err), SNN_OK);
    assert_int_equal(sp->integrator, SNN_INTEGRATOR_CLOCK);
    assert_non_null(strstr(sp->resolved, "integrator = \"clock\""));
    snn_spec_free(sp);
    sp = NULL;
    assert_int_equal(snn_cfg_load(SNN_TEST_DATA "/event_single.cfg", ev, 1, &sp, &err), SNN_OK);
    assert_int_equal(sp->integrator, SNN_INTEGRATOR_EVENT);
    snn_spec_free(sp);
    sp = NULL;
    const char *bad[] = {"simulation.integrator=\"exact\""};
    assert_int_equal(snn_cfg_load(SNN_TEST_DATA "/event_single.cfg", bad, 1, &sp, &err),
                     SNN_ECFG);
    assert_non_null(strstr(err.msg, "not an integrator"));
    snn_spec_free(sp);
    sp = NULL;
    /* lif_cond under the event integrator: a configuration error (exit 2). */
    assert_int_equal(snn_cfg_load(SNN_TEST_DATA "/event_bad_model.cfg", NULL, 0, &sp, &err),
                     SNN_OK);
    snn_net *net = NULL;
    assert_int_equal(snn_net_build(&net, sp, 1, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "event_bad_model.cfg:"));
    assert_non_null(strstr(err.msg, "'cond' (model lif_cond)"));
    snn_spec_free(sp);
    /* ... and `snn run` exits with status 2 and writes nothing. */
    int ws = system(SNN_BIN " run " SNN_TEST_DATA "/event_bad_model.cfg -o event_bad.h5 "
                    "--quiet 2>/dev/null");
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 2);
    FILE *f = fopen("event_bad.h5", "rb");
    assert_null(f);
}

int main(void)
{
    gsl_set_error_handler_off();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_drive_closed_form),
        cmocka_unit_test(test_adaptive_threshold),
        cmocka_unit_test(test_current_step),
        cmocka_unit_test(test_delta_inputs_exact),
        cmocka_unit_test(test_exp_crossing_matches_dense),
        cmocka_unit_test(test_exp_grazing),
        cmocka_unit_test(test_convergence_single),
        cmocka_unit_test(test_convergence_recurrent),
        cmocka_unit_test(test_poisson_intervals),
        cmocka_unit_test(test_stdp_pair_exact),
        cmocka_unit_test(test_stdp_triplet_exact),
        cmocka_unit_test(test_diehl_cook_exact),
        cmocka_unit_test(test_hebb_family_exact),
        cmocka_unit_test(test_refused_rules),
        cmocka_unit_test(test_uniform_delays_exact),
        cmocka_unit_test(test_recorded_output),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_unsupported_model),
        cmocka_unit_test(test_unsupported_rule),
        cmocka_unit_test(test_cfg_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
