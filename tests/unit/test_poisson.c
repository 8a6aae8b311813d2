/*
 * tests/unit/test_poisson.c: models/poisson.c, statistics of the counts.
 *
 * Each test uses a fixed seed, so it is deterministic; the bounds are 5
 * standard errors derived below, so a correct generator passes them for all
 * but a negligible fraction (~6e-7) of seeds, and a wrong mean, a wrong
 * dispersion or a missing multiplicity fails them by many standard errors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>

#include "sim/pop.h"
#include "tests/support.h"

extern const snn_model_type poisson_type;

typedef struct fixture {
    snn_pop_spec s;
    snn_pop p;
    int rate;  /* state index */
} fixture;

static void setup_spec(fixture *f, size_t n, double rate_hz)
{
    snn_err err = {0};
    memset(f, 0, sizeof *f);
    assert_int_equal(snn_pop_spec_defaults(&f->s, &poisson_type, n, "input", &err), SNN_OK);
    int k = snn_model_param_index(&poisson_type, "rate_hz");
    assert_true(k >= 0);
    f->s.par[k] = rate_hz;
    f->rate = snn_model_state_index(&poisson_type, "rate");
    assert_true(f->rate >= 0);
}

static void build(fixture *f, double dt, uint64_t seed)
{
    snn_err err = {0};
    int rc = snn_pop_init(&f->p, &f->s, 0, dt, seed, 1, &err);
    if (rc)
        fail_msg("snn_pop_init: %s", err.msg);
}

static void teardown(fixture *f)
{
    snn_pop_clear(&f->p);
    snn_pop_spec_clear(&f->s);
}

/* One step of every block: adds each neuron's count to cnt[i] (if not NULL),
   checks ids ascending inside the block and mult >= 1; returns the number
   of list entries with mult > 1. */
static size_t step_all(fixture *f, size_t k, uint64_t *cnt)
{
    size_t multi = 0;
    for (size_t b = 0; b < f->p.n_blk; b++) {
        snn_pop_step_block(&f->p, b, 0, k);
        const snn_spikes *s = &f->p.spk[b];
        for (size_t j = 0; j < s->n; j++) {
            assert_true(s->id[j] >= b * SNN_BLOCK && s->id[j] < snn_blk_end(&f->p, b));
            if (j > 0)
                assert_true(s->id[j] > s->id[j - 1]);
            assert_true(s->mult[j] >= 1);
            multi += s->mult[j] > 1;
            if (cnt)
                cnt[s->id[j]] += s->mult[j];
        }
    }
    return multi;
}

/*
 * Mean and Fano factor of counts in windows of `win` steps.
 *
 * Every neuron's count per step is Poisson(mu), mu = rate dt, so the count in
 * a window is Poisson(lambda), lambda = win mu, independent across windows
 * and neurons.  With N = n * n_win window counts:
 *  - the sample mean m has standard error sqrt(lambda / N);
 *  - the sample variance s^2 has Var(s^2) = (mu_4 - (N-3)/(N-1) sigma^4)/N
 *    with sigma^2 = lambda and mu_4 = lambda (1 + 3 lambda), which is
 *    lambda/N + 2 lambda^2/(N-1); Cov(m, s^2) = mu_3/N = lambda/N.  By the
 *    delta method F = s^2/m has
 *      Var(F) = [Var(s^2) + Var(m) - 2 Cov(m, s^2)] / lambda^2 = 2/(N-1),
 *    i.e. sd(F) = sqrt(2/(N-1)) (the large-mean rule sd(s^2) = mean
 *    sqrt(2/(N-1)); the lambda/N terms cancel exactly).
 * Both are asserted within 5 standard errors.
 */
static void check_counts(size_t n, double rate_hz, double dt, size_t win, size_t n_win,
                         uint64_t seed, bool want_multi)
{
    fixture f;
    setup_spec(&f, n, rate_hz);
    build(&f, dt, seed);
    uint64_t *cnt = calloc(n, sizeof *cnt);
    assert_non_null(cnt);
    double lambda = rate_hz * dt * 1e-3 * (double)win, big_n = (double)(n * n_win);
    double sum = 0.0, sum2 = 0.0;
    size_t multi = 0;
    for (size_t w = 0; w < n_win; w++) {
        memset(cnt, 0, n * sizeof *cnt);
        for (size_t k = 0; k < win; k++)
            multi += step_all(&f, w * win + k, cnt);
        for (size_t i = 0; i < n; i++) {
            sum += (double)cnt[i];
            sum2 += (double)cnt[i] * (double)cnt[i];
        }
    }
    double m = sum / big_n, var = (sum2 - big_n * m * m) / (big_n - 1.0), fano = var / m;
    double se_m = sqrt(lambda / big_n), se_f = sqrt(2.0 / (big_n - 1.0));
    print_message("rate %g Hz, dt %g ms: mean %.5f (expect %.5f +- %.5f), Fano %.4f (+- %.4f), "
                  "%zu entries with mult > 1\n", rate_hz, dt, m, lambda, se_m, fano, se_f, multi);
    assert_true(fabs(m - lambda) < 5.0 * se_m);
    assert_true(fabs(fano - 1.0) < 5.0 * se_f);
    if (want_multi)
        assert_true(multi > 0);
    free(cnt);
    teardown(&f);
}

static void test_low_rate(void **state)
{
    /* 1000 neurons (4 blocks, the last partial), 50 Hz, dt 0.1 ms: mu = 0.005,
       windows of 400 steps: lambda = 2, N = 5000. */
    check_counts(1000, 50.0, 0.1, 400, 5, 7, false);
}

/* 20 kHz at dt = 0.1 ms: mean 2 spikes per step, so multiplicities > 1 are
   common; the per-step count distribution must be Poisson(2):
   P(0) = e^{-2}, P(1) = 2 e^{-2}, checked within 5 binomial standard errors. */
static void test_high_rate(void **state)
{
    check_counts(300, 20000.0, 0.1, 1, 2000, 11, true);

    fixture f;
    size_t n = 500, steps = 400;
    setup_spec(&f, n, 20000.0);
    build(&f, 0.1, 12);
    uint64_t *cnt = calloc(n, sizeof *cnt);
    assert_non_null(cnt);
    double h[3] = {0, 0, 0};  /* steps with count 0, 1, >= 2 */
    for (size_t k = 0; k < steps; k++) {
        memset(cnt, 0, n * sizeof *cnt);
        step_all(&f, k, cnt);
        for (size_t i = 0; i < n; i++)
            h[cnt[i] < 2 ? cnt[i] : 2] += 1.0;
    }
    double m = (double)(n * steps), p0 = exp(-2.0), p1 = 2.0 * exp(-2.0);
    snn_assert_close(h[0] / m, p0, 0.0, 5.0 * sqrt(p0 * (1.0 - p0) / m));
    snn_assert_close(h[1] / m, p1, 0.0, 5.0 * sqrt(p1 * (1.0 - p1) / m));
    free(cnt);
    teardown(&f);
}

/*
 * The whole per-step count distribution is Poisson(mu): Pearson's chi-square
 * over the classes 0..K-1 and ">= K" (K chosen so every class expects >= 20
 * counts) must stay below the chi-square quantile with K degrees of freedom
 * at p = 1e-6.  mu = 0.01 and 0.04 use exponential intervals, 0.3 and 2
 * the inversion sampler, 9.5 its last regime, 25 GSL's rejection sampler.
 */
static void check_distribution(double mu, uint64_t seed)
{
    fixture f;
    size_t n = 1000, steps = 200, kmax = 64;
    double dt = 0.1, rate = mu / (dt * 1e-3);
    setup_spec(&f, n, rate);
    build(&f, dt, seed);
    uint64_t *cnt = calloc(n, sizeof *cnt);
    double *obs = calloc(kmax + 1, sizeof *obs);
    assert_non_null(cnt);
    assert_non_null(obs);
    for (size_t k = 0; k < steps; k++) {
        memset(cnt, 0, n * sizeof *cnt);
        step_all(&f, k, cnt);
        for (size_t i = 0; i < n; i++)
            obs[cnt[i] < kmax ? cnt[i] : kmax] += 1.0;
    }
    double total = (double)(n * steps), chi2 = 0.0, tail = 1.0;
    size_t lo = 0, df = 0;
    /* Merge the low classes until each expects >= 20, then the upper tail. */
    double e_acc = 0.0, o_acc = 0.0;
    for (size_t c = 0; c < kmax; c++) {
        double pc = exp((double)c * log(mu) - mu - gsl_sf_lngamma((double)c + 1.0));
        e_acc += pc * total;
        o_acc += obs[c];
        tail -= pc;
        if (e_acc >= 20.0 && tail * total >= 20.0) {
            chi2 += (o_acc - e_acc) * (o_acc - e_acc) / e_acc;
            df++;
            e_acc = o_acc = 0.0;
            lo = c + 1;
        }
    }
    double o_tail = o_acc;
    for (size_t c = kmax; c <= kmax; c++)
        o_tail += obs[c];
    double e_tail = e_acc + (tail > 0 ? tail : 0) * total;
    chi2 += (o_tail - e_tail) * (o_tail - e_tail) / e_tail;
    double limit = gsl_cdf_chisq_Qinv(1e-6, (double)df);
    print_message("mu %g: chi2 %.2f with %zu dof (limit %.2f), last class >= %zu\n", mu, chi2,
                  df, limit, lo);
    assert_true(df >= 1);
    assert_true(chi2 < limit);
    free(cnt);
    free(obs);
    teardown(&f);
}

/* The sparse regime (exponential intervals) with rates that change every
   few steps (a restart must keep the counts Poisson): total counts of 400
   neurons over 2000 steps alternating mu1 and mu2 every 7 steps have mean
   and variance sum(mu) each, checked within 5 standard errors. */
static void test_sparse_rate_changes(void **state)
{
    fixture f;
    size_t n = 400, steps = 2000;
    double mu1 = 0.01, mu2 = 0.03, dt = 0.1;
    setup_spec(&f, n, mu1 / (dt * 1e-3));
    build(&f, dt, 31);
    uint64_t *cnt = calloc(n, sizeof *cnt);
    double lam = 0.0;
    for (size_t k = 0; k < steps; k++) {
        double mu = (k / 7) % 2 ? mu2 : mu1;
        lam += mu;
        for (size_t i = 0; i < n; i++)
            f.p.x[f.rate][i] = mu / (dt * 1e-3);
        step_all(&f, k, cnt);
    }
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += (double)cnt[i] / (double)n;
    for (size_t i = 0; i < n; i++)
        v += ((double)cnt[i] - m) * ((double)cnt[i] - m) / (double)(n - 1);
    print_message("alternating sparse rates: mean %.3f var %.3f (Poisson %.3f)\n", m, v, lam);
    snn_assert_close(m, lam, 0, 5 * sqrt(lam / (double)n));
    snn_assert_close(v / lam, 1.0, 0, 5 * sqrt(2.0 / (double)(n - 1)));
    free(cnt);
    teardown(&f);
}

static void test_count_distribution(void **state)
{
    check_distribution(0.01, 27);
    check_distribution(0.04, 28);
    check_distribution(0.3, 21);
    check_distribution(2.0, 22);
    check_distribution(9.5, 23);
    check_distribution(25.0, 24);
}

/* Copies every spike list entry of `steps` steps into ids/mults (capacity
   cap); returns the number of entries. */
static size_t record(fixture *f, size_t steps, uint32_t *ids, uint32_t *mults, size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < steps; k++)
        for (size_t b = 0; b < f->p.n_blk; b++) {
            snn_pop_step_block(&f->p, b, 0, k);
            for (size_t j = 0; j < f->p.spk[b].n; j++) {
                assert_true(n < cap);
                ids[n] = f->p.spk[b].id[j] + (uint32_t)(k << 16);
                mults[n++] = f->p.spk[b].mult[j];
            }
        }
    return n;
}

/* The same seed gives the same spikes; another seed gives others. */
static void test_same_seed(void **state)
{
    enum { N = 600, STEPS = 200, CAP = 200000 };
    uint32_t *ids[3], *mults[3];
    size_t cnt[3];
    const uint64_t seeds[3] = {42, 42, 43};
    for (int r = 0; r < 3; r++) {
        fixture f;
        ids[r] = malloc(CAP * sizeof(uint32_t));
        mults[r] = malloc(CAP * sizeof(uint32_t));
        assert_true(ids[r] && mults[r]);
        setup_spec(&f, N, 500.0);
        build(&f, 0.1, seeds[r]);
        cnt[r] = record(&f, STEPS, ids[r], mults[r], CAP);
        teardown(&f);
    }
    assert_true(cnt[0] > 1000);
    assert_int_equal(cnt[0], cnt[1]);
    assert_memory_equal(ids[0], ids[1], cnt[0] * sizeof(uint32_t));
    assert_memory_equal(mults[0], mults[1], cnt[0] * sizeof(uint32_t));
    assert_true(cnt[2] != cnt[0] || memcmp(ids[0], ids[2], cnt[0] * sizeof(uint32_t)) != 0);
    for (int r = 0; r < 3; r++) {
        free(ids[r]);
        free(mults[r]);
    }
}

/* Rate 0: no spikes, and the streams are not touched. */
static void test_rate_zero(void **state)
{
    fixture f;
    setup_spec(&f, 600, 0.0);
    build(&f, 0.1, 5);
    size_t sz = gsl_rng_size(f.p.rng[0]);
    unsigned char *before = malloc(sz * f.p.n_blk);
    assert_non_null(before);
    for (size_t b = 0; b < f.p.n_blk; b++)
        memcpy(before + b * sz, gsl_rng_state(f.p.rng[b]), sz);
    for (size_t k = 0; k < 1000; k++) {
        step_all(&f, k, NULL);
        for (size_t b = 0; b < f.p.n_blk; b++)
            assert_int_equal(f.p.spk[b].n, 0);
    }
    for (size_t b = 0; b < f.p.n_blk; b++)
        assert_memory_equal(before + b * sz, gsl_rng_state(f.p.rng[b]), sz);
    free(before);
    teardown(&f);
}

/* Per-neuron rates from an init array are respected: neuron i has rate
   100 (i mod 4) Hz; group means within 5 standard errors, rate-0 neurons
   silent.  Rates rewritten during the run take effect at the next step. */
static void test_rate_array(void **state)
{
    fixture f;
    size_t n = 800, steps = 5000;
    double dt = 0.1;
    setup_spec(&f, n, 10.0);
    snn_dist *d = &f.s.init[f.rate];
    d->kind = SNN_DIST_ARRAY;
    d->n_values = n;
    d->values = malloc(n * sizeof(double));
    assert_non_null(d->values);
    for (size_t i = 0; i < n; i++)
        d->values[i] = 100.0 * (double)(i % 4);
    build(&f, dt, 3);
    for (size_t i = 0; i < n; i++)
        assert_true(f.p.x[f.rate][i] == 100.0 * (double)(i % 4));
    uint64_t *cnt = calloc(n, sizeof *cnt);
    assert_non_null(cnt);
    for (size_t k = 0; k < steps; k++)
        step_all(&f, k, cnt);
    for (size_t g = 0; g < 4; g++) {
        double sum = 0.0, ng = (double)(n / 4);
        for (size_t i = g; i < n; i += 4)
            sum += (double)cnt[i];
        double lambda = 100.0 * (double)g * dt * 1e-3 * (double)steps;
        if (g == 0) {
            assert_true(sum == 0.0);
            continue;
        }
        snn_assert_close(sum / ng, lambda, 0.0, 5.0 * sqrt(lambda / ng));
    }
    /* Silence everyone but neuron 401, then drive it hard. */
    for (size_t i = 0; i < n; i++)
        f.p.x[f.rate][i] = i == 401 ? 1e6 : 0.0;
    memset(cnt, 0, n * sizeof *cnt);
    for (size_t k = steps; k < steps + 100; k++)
        step_all(&f, k, cnt);
    for (size_t i = 0; i < n; i++)
        if (i != 401)
            assert_true(cnt[i] == 0);
    /* mean 100 per step over 100 steps: 10000 +- 100 */
    assert_true(fabs((double)cnt[401] - 10000.0) < 500.0);
    free(cnt);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_low_rate),  cmocka_unit_test(test_high_rate),
        cmocka_unit_test(test_same_seed), cmocka_unit_test(test_rate_zero),
        cmocka_unit_test(test_rate_array), cmocka_unit_test(test_count_distribution),
        cmocka_unit_test(test_sparse_rate_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
