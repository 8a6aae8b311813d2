/*
 * tests/rule_pair.h: the harness the plasticity-rule tests share.
 *
 * A spike-time source `pre` projects plastically (one synapse, delay 0.5 ms)
 * onto one delta-synapse LIF neuron that a second source `drv` makes fire
 * one step after each of its spikes arrives.  rp_run() replays the given
 * spike times through the engine and returns the final weight with the
 * measured pre and post spike times, for closed-form checks.
 */
#ifndef SNN_TEST_RULE_PAIR_H
#define SNN_TEST_RULE_PAIR_H

#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "rules/rule.h"
#include "sim/net.h"
#include "sim/sched.h"
#include "support.h"

enum { RP_MAX_SPIKES = 8 };

static inline void rp_set_times(snn_pop_spec *p, const double *t, size_t n)
{
    p->n_spikes = n;
    p->spike_ids = calloc(n ? n : 1, sizeof(uint32_t));
    p->spike_times_ms = malloc((n ? n : 1) * sizeof(double));
    if (n)
        memcpy(p->spike_times_ms, t, n * sizeof(double));
}

typedef struct rp_out {
    double w;                        /* final weight */
    double t_pre[RP_MAX_SPIKES], t_post[RP_MAX_SPIKES]; /* measured spike times (ms) */
    size_t n_pre, n_post;
} rp_out;

/* Build the pre -> post test net with rule parameters par[]; returns NULL
   and fills err if the build fails. */
static inline snn_net *rp_build(const char *rule, size_t n_par, snn_spec **sp, const double *pre_t, size_t n_pre, const double *drive_t,
                      size_t n_drive, double w0, const double *par, int threads, snn_err *err)
{
    const double dt = 0.1;
    snn_spec *s = fx_spec(dt, 150, 1);
    uint32_t pre = fx_pop(s, "pre", "spike_times", 1);
    rp_set_times(&s->pops[pre], pre_t, n_pre);
    uint32_t drv = fx_pop(s, "drv", "spike_times", 1);
    rp_set_times(&s->pops[drv], drive_t, n_drive);
    uint32_t post = fx_pop(s, "post", "lif", 1);
    fx_par(s, post, "synapse", 1); /* delta: the drive fires it in one step */
    fx_par(s, post, "E_L", 0.0);
    fx_par(s, post, "V_reset", 0.0);
    fx_par(s, post, "V_th", 10.0);
    fx_proj(s, drv, post, SNN_CONN_ONE_TO_ONE, 50.0, dt);
    snn_proj_spec *pl = fx_proj(s, pre, post, SNN_CONN_ONE_TO_ONE, w0, 0.5);
    pl->rule = snn_rule_find(rule);
    assert_non_null(pl->rule);
    assert_int_equal(pl->rule->n_params, n_par);
    pl->rule_par = malloc(n_par * sizeof(double));
    memcpy(pl->rule_par, par, n_par * sizeof(double));
    *sp = s;
    snn_net *net = NULL;
    if (snn_net_build(&net, s, threads, err))
        return NULL;
    return net;
}

static inline rp_out rp_run(const char *rule, size_t n_par, const double *pre_t, size_t n_pre, const double *drive_t, size_t n_drive,
                   double w0, const double *par)
{
    snn_spec *s;
    snn_err err;
    snn_net *net = rp_build(rule, n_par, &s, pre_t, n_pre, drive_t, n_drive, w0, par, 1, &err);
    if (!net)
        fail_msg("%s", err.msg);
    rp_out r;
    memset(&r, 0, sizeof r);
    for (size_t k = 0; k < net->n_steps; k++) {
        if (snn_sched_clock_run(net, 1, NULL, NULL, &err))
            fail_msg("%s", err.msg);
        double t = (double)(k + 1) * net->dt_ms;
        if (net->pops[0].spk[0].n) {
            assert_true(r.n_pre < RP_MAX_SPIKES);
            r.t_pre[r.n_pre++] = t;
        }
        if (net->pops[2].spk[0].n) {
            assert_true(r.n_post < RP_MAX_SPIKES);
            r.t_post[r.n_post++] = t;
        }
    }
    assert_int_equal(r.n_pre, n_pre);
    assert_int_equal(r.n_post, n_drive);
    r.w = net->projs[1].parts[0].w[0];
    snn_net_free(net);
    snn_spec_free(s);
    return r;
}

/* A plastic recurrent network (300 Poisson inputs onto 900 LIF neurons
   through a dense plastic projection with parameters par_in, plus sparse
   plastic recurrence with par_rec) run for 200 ms with `threads` threads;
   returns all plastic weights in canonical order. */
static inline void rp_plastic_net(const char *rule, const double *par_in, const double *par_rec,
                           size_t n_par, int threads, double **w, size_t *nnz)
{
    snn_spec *s = fx_spec(0.1, 200, 77);
    uint32_t ext = fx_pop(s, "ext", "poisson", 300);
    fx_par(s, ext, "rate_hz", 50.0);
    uint32_t e = fx_pop(s, "e", "lif", 900);
    snn_proj_spec *in = fx_proj(s, ext, e, SNN_CONN_ALL_TO_ALL, 0, 0.5);
    in->weight.kind = SNN_DIST_UNIFORM;
    in->weight.a = 0.0;
    in->weight.b = 40.0;
    snn_proj_spec *rec = fx_proj(s, e, e, SNN_CONN_BERNOULLI, 20.0, 1.0);
    rec->p = 0.05;
    snn_proj_spec *pp[2] = {in, rec};
    const double *pars[2] = {par_in, par_rec};
    for (int q = 0; q < 2; q++) {
        pp[q]->rule = snn_rule_find(rule);
        assert_non_null(pp[q]->rule);
        pp[q]->rule_par = malloc(n_par * sizeof(double));
        memcpy(pp[q]->rule_par, pars[q], n_par * sizeof(double));
    }
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, threads, &err) ||
        snn_sched_clock_run(net, net->n_steps, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    assert_true(net->projs[0].dense);
    assert_true(net->spike_count[e] > 100);
    size_t n0 = 300 * 900, n1 = net->projs[1].nnz;
    *nnz = n0 + n1;
    *w = malloc(*nnz * sizeof **w);
    snn_net_weights(&net->projs[0], *w, NULL, NULL);
    snn_net_weights(&net->projs[1], *w + n0, NULL, NULL);
    snn_net_free(net);
    snn_spec_free(s);
}

/* The plastic network gives bit-identical weights for 1, 2 and 3 threads,
   and the rule did act (recurrent weights left their initial 20). */
static inline void rp_check_threads_identical(const char *rule, const double *par_in,
                                       const double *par_rec, size_t n_par)
{
    double *w[3];
    size_t n[3];
    for (int t = 0; t < 3; t++)
        rp_plastic_net(rule, par_in, par_rec, n_par, t + 1, &w[t], &n[t]);
    for (int t = 1; t < 3; t++) {
        assert_int_equal(n[t], n[0]);
        assert_memory_equal(w[t], w[0], n[0] * sizeof *w[0]);
    }
    size_t moved = 0;
    for (size_t q = 300 * 900; q < n[0]; q++)
        moved += w[0][q] != 20.0;
    assert_true(moved > 0);
    for (int t = 0; t < 3; t++)
        free(w[t]);
}

#endif
