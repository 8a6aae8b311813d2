/*
 * tests/unit/test_selectivity.c: emergence of selectivity in a toy Diehl &
 * Cook network (sim/protocol.c with rules/diehl_cook.c, lif_cond with an
 * adaptive threshold, lateral inhibition).
 *
 * Four orthogonal patterns, vertical bars two pixels wide on an 8 x 8 image,
 * are shown in a shuffled order to 8 competing excitatory neurons.  After
 * learning, with the weights frozen, each pattern must be claimed by a
 * different neuron (the one that fires most to it), and that neuron's input
 * weights must correlate with the pattern (Pearson r above R_MIN; a neuron
 * that learnt a single bar of 16 out of 64 pixels perfectly has r = 1, one
 * that learnt the union of two bars r = 0.58).  Both kinds of lateral
 * inhibition are checked: Diehl & Cook's inhibitory partner population and
 * the direct winner-take-all (stimulus.wta).
 */
#include "../support.h"

#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "rules/rule.h"
#include "sim/protocol.h"

#define SIDE 8
#define NPIX (SIDE * SIDE)
#define NPAT 4
#define NEXC 8
#define R_MIN 0.8

/* n samples cycling through the four bars (label = bar). */
static snn_dataset *bars(size_t n)
{
    snn_dataset *d = calloc(1, sizeof *d);
    d->n = n;
    d->rows = SIDE;
    d->cols = SIDE;
    d->images = calloc(n * NPIX, 1);
    d->labels = malloc(n);
    for (size_t s = 0; s < n; s++) {
        size_t b = s % NPAT;
        d->labels[s] = (uint8_t)b;
        for (size_t r = 0; r < SIDE; r++)
            for (size_t c = 2 * b; c < 2 * b + 2; c++)
                d->images[s * NPIX + r * SIDE + c] = 255;
    }
    return d;
}

static void free_bars(snn_dataset *d)
{
    free(d->images);
    free(d->labels);
    free(d);
}

static void lif_cond_exc(snn_spec *s, uint32_t p)
{
    static const char *const k[] = {"C_m", "g_L", "E_L", "V_reset", "V_th", "t_ref", "E_ex",
                                    "E_in", "tau_syn_ex", "tau_syn_in", "theta_plus",
                                    "tau_theta"};
    static const double v[] = {100.0, 1.0, -65.0, -65.0, -52.0, 5.0, 0.0,
                               -100.0, 1.0, 2.0, 0.05, 1e7};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        fx_par(s, p, k[i], v[i]);
}

static snn_phase_spec *phase(snn_spec *s, const char *name, size_t n, uint64_t seed,
                             bool plastic, uint32_t feature)
{
    snn_phase_spec *ph = &s->phases[s->n_phases++];
    snprintf(ph->name, sizeof ph->name, "%s", name);
    ph->samples = n;
    ph->shuffle_seed = seed;
    ph->plastic = plastic;
    if (feature != UINT32_MAX) {
        ph->n_features = 1;
        ph->features = malloc(sizeof *ph->features);
        ph->features[0] = feature;
    }
    return ph;
}

/* wta: direct winner-take-all instead of the inhibitory partners. */
static snn_spec *network(bool wta)
{
    snn_spec *s = fx_spec(0.5, 1, 3);
    uint32_t in = fx_pop(s, "pix", "poisson", NPIX);
    uint32_t e = fx_pop(s, "exc", "lif_cond", NEXC);
    lif_cond_exc(s, e);
    snn_proj_spec *pj = fx_proj(s, in, e, SNN_CONN_ALL_TO_ALL, 0.0, 0.5);
    pj->weight = (snn_dist){.kind = SNN_DIST_UNIFORM, .a = 0.0, .b = 0.3};
    pj->normalize = 8.0;
    pj->rule = snn_rule_find("diehl_cook");
    pj->rule_par = malloc(pj->rule->n_params * sizeof(double));
    for (size_t k = 0; k < pj->rule->n_params; k++)
        pj->rule_par[k] = pj->rule->params[k].def;
    pj->rule_par[snn_rule_param_index(pj->rule, "eta_post")] = 0.05;
    pj->rule_par[snn_rule_param_index(pj->rule, "eta_pre")] = 0.005;
    if (wta) {
        s->stim.wta = true;
        s->stim.wta_pop = e;
    } else {
        uint32_t i = fx_pop(s, "inh", "lif_cond", NEXC);
        static const char *const k[] = {"C_m", "g_L", "E_L", "V_reset", "V_th", "t_ref",
                                        "E_ex", "E_in"};
        static const double v[] = {10.0, 1.0, -60.0, -45.0, -40.0, 2.0, 0.0, -85.0};
        for (size_t q = 0; q < sizeof k / sizeof k[0]; q++)
            fx_par(s, i, k[q], v[q]);
        fx_proj(s, e, i, SNN_CONN_ONE_TO_ONE, 10.4, 0.5);
        fx_proj(s, i, e, SNN_CONN_ALL_TO_ALL, 17.0, 0.5)->skip_same_index = true;
    }
    s->stim.input = in;
    s->stim.max_rate_hz = 200.0;
    s->stim.intensity = 1.0;
    s->stim.present_ms = 100.0;
    s->stim.rest_ms = 50.0;
    s->stim.watch = (int)e;
    s->stim.min_spikes = 3;
    s->stim.intensity_step = 1.0;
    s->stim.max_boosts = 5;
    s->phases = calloc(2, sizeof *s->phases);
    phase(s, "learn", 120, 11, true, UINT32_MAX);
    phase(s, "probe", 4 * NPAT, 0, false, e);
    return s;
}

static double pearson(const double *a, const uint8_t *b, size_t n)
{
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0.0;
}

static void check_selective(bool wta)
{
    snn_spec *s = network(wta);
    snn_dataset *d = bars(120);
    const snn_dataset *split[2] = {d, NULL};
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 1, &err))
        fail_msg("%s", err.msg);
    snn_protocol_opts opts = {.keep_features = true};
    snn_protocol_result res;
    if (snn_protocol_run(net, split, NULL, NULL, &opts, &res, &err))
        fail_msg("%s", err.msg);
    const snn_phase_features *pf = &res.features[1];
    double resp[NPAT][NEXC] = {{0}};
    for (size_t m = 0; m < pf->n; m++)
        for (size_t j = 0; j < NEXC; j++)
            resp[pf->labels[m]][j] += pf->counts[m * pf->cols + j];
    double w[NPIX * NEXC], col[NPIX];
    snn_net_weights(&net->projs[0], w, NULL, NULL);
    int owner[NPAT];
    for (int p = 0; p < NPAT; p++) {
        int best = 0;
        for (int j = 1; j < NEXC; j++)
            if (resp[p][j] > resp[p][best])
                best = j;
        owner[p] = best;
        assert_true(resp[p][best] > 0);
        for (int q = 0; q < p; q++)
            if (owner[q] == best)
                fail_msg("%s: patterns %d and %d are both claimed by neuron %d", wta ? "wta" :
                         "partners", q, p, best);
        for (size_t i = 0; i < NPIX; i++)
            col[i] = w[i * NEXC + (size_t)best];
        double r = pearson(col, d->images + (size_t)p * NPIX, NPIX);
        print_message("%s: bar %d -> neuron %d (%.0f spikes), r = %.3f\n",
                      wta ? "wta" : "partners", p, best, resp[p][best], r);
        assert_true(r > R_MIN);
    }
    snn_protocol_result_free(&res);
    snn_net_free(net);
    snn_spec_free(s);
    free_bars(d);
}

static void test_partners(void **state)
{
    (void)state;
    check_selective(false);
}

static void test_direct_wta(void **state)
{
    (void)state;
    check_selective(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partners),
        cmocka_unit_test(test_direct_wta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
