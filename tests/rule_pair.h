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

static void rp_set_times(snn_pop_spec *p, const double *t, size_t n)
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
static snn_net *rp_build(const char *rule, size_t n_par, snn_spec **sp, const double *pre_t, size_t n_pre, const double *drive_t,
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

static rp_out rp_run(const char *rule, size_t n_par, const double *pre_t, size_t n_pre, const double *drive_t, size_t n_drive,
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

#endif
