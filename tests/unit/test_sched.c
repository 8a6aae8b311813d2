/*
 * tests/unit/test_sched.c: the clock-driven step loop: exact arrival time of
 * delayed spikes (homogeneous and per-synapse delays), current-input timing,
 * the plasticity hooks' call pattern, spike multiplicity, event counting,
 * and bit-identical results for 1, 2 and 3 threads.
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "sim/net.h"
#include "sim/sched.h"

#include <omp.h>

static snn_net *build(snn_spec *s, int threads)
{
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("build failed: %s", err.msg);
    return net;
}

static void run(snn_net *net, size_t steps)
{
    snn_err err;
    if (snn_sched_clock_run(net, steps, NULL, NULL, &err))
        fail_msg("run failed: %s", err.msg);
}

/* One source spike at t_s; one_to_one onto LIF neurons with delay d.  The
   current must be exactly 0 before t_s + d and w exp(-(t - t_s - d)/tau) after. */
static void test_arrival_time(void **state)
{
    (void)state;
    const double dt = 0.1, ts = 1.0, d = 1.5, w = 50.0, tau = 2.0;
    snn_spec *s = fx_spec(dt, 10, 1);
    uint32_t src = fx_pop(s, "src", "spike_times", 1);
    s->pops[src].n_spikes = 1;
    s->pops[src].spike_ids = calloc(1, sizeof(uint32_t));
    s->pops[src].spike_times_ms = malloc(sizeof(double));
    s->pops[src].spike_times_ms[0] = ts;
    uint32_t tgt = fx_pop(s, "tgt", "lif", 1);
    fx_par(s, tgt, "tau_syn_ex", tau);
    fx_proj(s, src, tgt, SNN_CONN_ONE_TO_ONE, w, d);
    snn_net *net = build(s, 1);
    int iex = snn_model_state_index(net->pops[tgt].type, "I_syn_ex");
    size_t arrive = (size_t)llround((ts + d) / dt);
    for (size_t k = 0; k < 60; k++) {
        run(net, 1); /* now at t_{k+1} */
        double t = (double)(k + 1) * dt, I = net->pops[tgt].x[iex][0];
        if (k < arrive)
            assert_true(I == 0.0);
        else
            snn_assert_close(I, w * exp(-(t - (ts + d)) / tau), 1e-12, 0);
        if (k + 1 == (size_t)llround(ts / dt))
            assert_int_equal(net->spike_count[src], 1); /* emitted with time stamp ts */
    }
    snn_net_free(net);
    snn_spec_free(s);
}

/* Per-synapse delays: each target's delta-synapse jump appears exactly at
   t_s + its own delay. */
static void test_heterogeneous_delays(void **state)
{
    (void)state;
    const double dt = 0.1, ts = 0.5;
    snn_spec *s = fx_spec(dt, 10, 4);
    uint32_t src = fx_pop(s, "src", "spike_times", 1);
    s->pops[src].n_spikes = 1;
    s->pops[src].spike_ids = calloc(1, sizeof(uint32_t));
    s->pops[src].spike_times_ms = malloc(sizeof(double));
    s->pops[src].spike_times_ms[0] = ts;
    uint32_t tgt = fx_pop(s, "tgt", "lif", 300);
    fx_par(s, tgt, "synapse", 1); /* delta */
    fx_par(s, tgt, "E_L", 0.0);
    fx_par(s, tgt, "V_reset", -10.0);
    fx_par(s, tgt, "V_th", 100.0);
    snn_proj_spec *ps = fx_proj(s, src, tgt, SNN_CONN_ALL_TO_ALL, 1.0, 0);
    ps->delay_ms.kind = SNN_DIST_UNIFORM;
    ps->delay_ms.a = 0.1;
    ps->delay_ms.b = 4.0;
    snn_net *net = build(s, 2);
    const snn_proj *pj = &net->projs[0];
    assert_false(pj->dense);
    /* Expected arrival step per target from the stored delays. */
    size_t *arr = calloc(300, sizeof *arr);
    for (size_t t = 0; t < pj->n_parts; t++)
        for (size_t q = 0; q < pj->parts[t].nnz; q++)
            arr[pj->parts[t].col[q]] = (size_t)llround(ts / dt) + pj->parts[t].delay[q];
    int iv = snn_model_state_index(net->pops[tgt].type, "V_m");
    double tau_m = s->pops[tgt].par[snn_model_param_index(s->pops[tgt].type, "tau_m")];
    for (size_t k = 0; k < 50; k++) {
        run(net, 1);
        for (size_t j = 0; j < 300; j++) {
            double v = net->pops[tgt].x[iv][j];
            if (k < arr[j])
                assert_true(v == 0.0);
            else
                snn_assert_close(v, exp(-((double)(k + 1 - arr[j]) * dt) / tau_m), 1e-12, 0);
        }
    }
    free(arr);
    snn_net_free(net);
    snn_spec_free(s);
}

/* A current step switched on at t_on: V stays at E_L until t_on, then
   follows E_L + R I (1 - exp(-(t - t_on)/tau_m)); switched off at t_off. */
static void test_current_step(void **state)
{
    (void)state;
    const double dt = 0.1, ton = 2.0, toff = 6.0, I = 100.0;
    snn_spec *s = fx_spec(dt, 10, 1);
    uint32_t p = fx_pop(s, "p", "lif", 3);
    s->currents = calloc(1, sizeof *s->currents);
    s->n_currents = 1;
    snn_current_spec *c = &s->currents[0];
    c->target = p;
    c->n_neurons = 1;
    c->neurons = malloc(sizeof(uint32_t));
    c->neurons[0] = 1;
    c->n_changes = 2;
    c->t_ms = malloc(2 * sizeof(double));
    c->amp_pA = malloc(2 * sizeof(double));
    c->t_ms[0] = ton;
    c->amp_pA[0] = I;
    c->t_ms[1] = toff;
    c->amp_pA[1] = 0;
    snn_net *net = build(s, 1);
    const double *par = s->pops[p].par;
    const snn_model_type *t = s->pops[p].type;
    double C = par[snn_model_param_index(t, "C_m")], tau = par[snn_model_param_index(t, "tau_m")];
    double EL = par[snn_model_param_index(t, "E_L")], R = tau / C;
    int iv = snn_model_state_index(t, "V_m");
    double v_off = 0;
    for (size_t k = 0; k < 100; k++) {
        run(net, 1);
        double tt = (double)(k + 1) * dt, v = net->pops[p].x[iv][1];
        assert_true(net->pops[p].x[iv][0] == EL && net->pops[p].x[iv][2] == EL);
        if (tt <= ton + 1e-9) {
            assert_true(v == EL);
        } else if (tt <= toff + 1e-9) {
            v_off = EL + R * I * (1 - exp(-(tt - ton) / tau));
            snn_assert_close(v, v_off, 1e-9, 0);
        } else {
            snn_assert_close(v, EL + (v_off - EL) * exp(-(tt - toff) / tau), 1e-9, 0);
        }
    }
    snn_net_free(net);
    snn_spec_free(s);
}

/* ---- plasticity hook call pattern ---- */

/* Per-thread logs (hooks of different partitions run concurrently). */
#define MAX_TH 8
typedef struct hook_log {
    size_t pre_calls, post_calls, pre_syn, post_syn;
    int bad;
    char pad[64];
} hook_log;
static hook_log g_log[MAX_TH];
static size_t *g_indeg;

/* Which partition holds post neuron j. */
static const snn_part *part_of(const snn_proj *pj, uint32_t j)
{
    for (size_t t = 0; t < pj->n_parts; t++)
        if (j >= pj->parts[t].post_lo && j < pj->parts[t].post_hi)
            return &pj->parts[t];
    return NULL;
}

static void log_pre(const snn_rule *r, const snn_proj *pj, uint32_t pre, const uint32_t *post,
                    double *w, size_t n, size_t step)
{
    hook_log *h = &g_log[omp_get_thread_num()];
    h->pre_calls++;
    h->pre_syn += n;
    /* One partition's part of the row, ascending, weights where the row is. */
    const snn_part *pt = n ? part_of(pj, post[0]) : NULL;
    if (!pt || w != pt->w + pt->row[pre] || n != pt->row[pre + 1] - pt->row[pre])
        h->bad |= 1;
    for (size_t m = 0; m < n; m++)
        if (post[m] < pt->post_lo || post[m] >= pt->post_hi || (m && post[m] <= post[m - 1]))
            h->bad |= 2;
}

static void log_post(const snn_rule *r, const snn_proj *pj, uint32_t post, const uint32_t *pre,
                     const size_t *pos, double *w, size_t n, size_t step)
{
    hook_log *h = &g_log[omp_get_thread_num()];
    const snn_part *pt = part_of(pj, post);
    h->post_calls++;
    h->post_syn += n;
    if (!pt || w != pt->w || n != g_indeg[post])
        h->bad |= 4;
    for (size_t m = 0; m < n; m++)
        if (pos[m] >= pt->nnz || pt->col[pos[m]] != post || pos[m] < pt->row[pre[m]] ||
            pos[m] >= pt->row[pre[m] + 1])
            h->bad |= 8;
}

static const snn_rule_type log_rule = {.name = "log", .on_pre = log_pre, .on_post = log_post};

static void test_rule_hooks(void **state)
{
    (void)state;
    snn_spec *s = fx_spec(0.1, 50, 3);
    uint32_t src = fx_pop(s, "src", "poisson", 400);
    fx_par(s, src, "rate_hz", 200.0);
    uint32_t tgt = fx_pop(s, "tgt", "lif", 700);
    fx_par(s, tgt, "I_e", 400.0);
    snn_proj_spec *ps = fx_proj(s, src, tgt, SNN_CONN_BERNOULLI, 5.0, 1.0);
    ps->p = 0.1;
    ps->rule = &log_rule;
    snn_net *net = build(s, 2);
    const snn_proj *pj = &net->projs[0];
    assert_int_equal(pj->n_parts, 2);
    g_indeg = calloc(700, sizeof *g_indeg);
    for (size_t t = 0; t < pj->n_parts; t++)
        for (size_t q = 0; q < pj->parts[t].nnz; q++)
            g_indeg[pj->parts[t].col[q]]++;
    memset(g_log, 0, sizeof g_log);
    run(net, 500);
    hook_log h = {0};
    for (int t = 0; t < MAX_TH; t++) {
        h.pre_calls += g_log[t].pre_calls;
        h.post_calls += g_log[t].post_calls;
        h.pre_syn += g_log[t].pre_syn;
        h.post_syn += g_log[t].post_syn;
        h.bad |= g_log[t].bad;
    }
    /* on_pre once per (spiking pre, partition holding some of its synapses),
       seeing each synapse of the spike once; on_post once per post spike,
       seeing every incoming synapse. */
    assert_int_equal(h.bad, 0);
    assert_int_equal(h.post_calls, net->spike_count[tgt]);
    assert_true(h.post_calls > 0);
    assert_true(h.pre_calls >= net->spike_count[src] / 2);
    assert_true(snn_net_events(net) >= h.pre_syn); /* events also count multiplicity */
    free(g_indeg);
    snn_net_free(net);
    snn_spec_free(s);
}

/* ---- determinism across thread counts ---- */

typedef struct trace {
    uint64_t hash;
    uint64_t spikes;
} trace;

static uint64_t fnv(uint64_t h, uint64_t x)
{
    for (int i = 0; i < 8; i++) {
        h ^= (x >> (8 * i)) & 0xff;
        h *= 1099511628211ULL;
    }
    return h;
}

static trace run_recurrent(int threads, double **v_out)
{
    snn_spec *s = fx_spec(0.1, 100, 2024);
    uint32_t ext = fx_pop(s, "ext", "poisson", 1000);
    fx_par(s, ext, "rate_hz", 2000.0);
    uint32_t e = fx_pop(s, "e", "lif", 1600), i = fx_pop(s, "i", "lif", 400);
    snn_proj_spec *p;
    p = fx_proj(s, ext, e, SNN_CONN_BERNOULLI, 30.0, 0.5);
    p->p = 0.05;
    p = fx_proj(s, ext, i, SNN_CONN_BERNOULLI, 30.0, 0.5);
    p->p = 0.05;
    p = fx_proj(s, e, e, SNN_CONN_BERNOULLI, 20.0, 0);
    p->p = 0.1;
    p->delay_ms.kind = SNN_DIST_UNIFORM;
    p->delay_ms.a = 0.5;
    p->delay_ms.b = 3.0;
    p = fx_proj(s, e, i, SNN_CONN_INDEGREE, 20.0, 1.0);
    p->k = 100;
    p = fx_proj(s, i, e, SNN_CONN_ALL_TO_ALL, -4.0, 1.0);
    p = fx_proj(s, i, i, SNN_CONN_BERNOULLI, -30.0, 1.0);
    p->p = 0.2;
    s->pops[e].init[0].kind = SNN_DIST_UNIFORM;
    s->pops[e].init[0].a = -70;
    s->pops[e].init[0].b = -56;
    snn_net *net = build(s, threads);
    trace tr = {14695981039346656037ULL, 0};
    for (size_t k = 0; k < 1000; k++) {
        run(net, 1);
        for (size_t q = 0; q < net->n_pops; q++)
            for (size_t b = 0; b < net->pops[q].n_blk; b++)
                for (size_t m = 0; m < net->pops[q].spk[b].n; m++) {
                    tr.hash = fnv(tr.hash, (k << 40) ^ (q << 32) ^ net->pops[q].spk[b].id[m]);
                    tr.hash = fnv(tr.hash, net->pops[q].spk[b].mult[m]);
                    tr.spikes += q ? 1 : 0;
                }
    }
    *v_out = malloc(1600 * sizeof(double));
    memcpy(*v_out, net->pops[e].x[0], 1600 * sizeof(double));
    snn_net_free(net);
    snn_spec_free(s);
    return tr;
}

static void test_threads_identical(void **state)
{
    (void)state;
    double *v1, *v2, *v3;
    trace a = run_recurrent(1, &v1), b = run_recurrent(2, &v2), c = run_recurrent(3, &v3);
    assert_true(a.spikes > 1000); /* the network is active */
    assert_int_equal(a.spikes, b.spikes);
    assert_int_equal(a.spikes, c.spikes);
    assert_true(a.hash == b.hash && a.hash == c.hash);
    assert_memory_equal(v1, v2, 1600 * sizeof(double));
    assert_memory_equal(v1, v3, 1600 * sizeof(double));
    free(v1);
    free(v2);
    free(v3);
}

static void test_interrupt(void **state)
{
    (void)state;
    snn_spec *s = fx_spec(0.1, 100, 1);
    fx_pop(s, "p", "lif", 10);
    snn_net *net = build(s, 1);
    volatile sig_atomic_t stop = 1;
    snn_run_opts o = {.stop = &stop};
    snn_err err;
    assert_int_equal(snn_sched_clock_run(net, 1000, NULL, &o, &err), SNN_EINTR);
    assert_int_equal(net->step, 1); /* stops after the step in progress */
    assert_non_null(strstr(err.msg, "interrupted"));
    snn_net_free(net);
    snn_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arrival_time),     cmocka_unit_test(test_heterogeneous_delays),
        cmocka_unit_test(test_current_step),     cmocka_unit_test(test_rule_hooks),
        cmocka_unit_test(test_threads_identical), cmocka_unit_test(test_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
