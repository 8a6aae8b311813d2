/*
 * tests/unit/test_connect.c: connectors, weight and delay distributions, and
 * independence of the drawn network from the number of partitions.
 *
 * Tolerances come from the sampling distributions: a count X ~ Bin(N, p) is
 * checked within 5 sd = 5 sqrt(N p (1 - p)); a sample variance s^2 of n
 * near-normal values with variance v within 5 * v sqrt(2 / (n - 1)).
 * With 5 sd a correct implementation fails about once in 1.7 million runs,
 * and the seeds are fixed, so the tests are deterministic.
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "sim/net.h"

typedef struct syn {
    size_t nnz;
    double *w;
    uint64_t *pre, *post;
} syn;

static syn get_syn(const snn_proj *pj)
{
    syn s;
    s.nnz = pj->dense ? pj->pre->n * pj->post->n : pj->nnz;
    s.w = malloc((s.nnz + 1) * sizeof *s.w);
    s.pre = malloc((s.nnz + 1) * sizeof *s.pre);
    s.post = malloc((s.nnz + 1) * sizeof *s.post);
    snn_net_weights(pj, s.w, s.pre, s.post);
    return s;
}

static void free_syn(syn *s)
{
    free(s->w);
    free(s->pre);
    free(s->post);
}

static snn_net *build(snn_spec *s, int threads)
{
    snn_net *net = NULL;
    snn_err err;
    int rc = snn_net_build(&net, s, threads, &err);
    if (rc)
        fail_msg("build failed: %s", err.msg);
    return net;
}

static void test_bernoulli(void **state)
{
    (void)state;
    snn_spec *s = fx_spec(0.1, 1, 7);
    uint32_t a = fx_pop(s, "a", "lif", 1000), b = fx_pop(s, "b", "lif", 1200);
    snn_proj_spec *ps = fx_proj(s, a, b, SNN_CONN_BERNOULLI, 1.0, 0.1);
    ps->p = 0.1;
    snn_proj_spec *self = fx_proj(s, b, b, SNN_CONN_BERNOULLI, 1.0, 0.1);
    self->p = 0.05;
    snn_net *net = build(s, 2);

    syn x = get_syn(&net->projs[0]);
    double N = 1000.0 * 1200.0, p = 0.1;
    snn_assert_close((double)x.nnz, N * p, 0, 5 * sqrt(N * p * (1 - p)));
    /* In-degrees ~ Bin(1000, 0.1): mean 100, variance 90. */
    size_t *indeg = calloc(1200, sizeof *indeg);
    for (size_t m = 0; m < x.nnz; m++)
        indeg[x.post[m]]++;
    double mean = 0, var = 0;
    for (size_t j = 0; j < 1200; j++)
        mean += (double)indeg[j] / 1200.0;
    for (size_t j = 0; j < 1200; j++)
        var += ((double)indeg[j] - mean) * ((double)indeg[j] - mean) / 1199.0;
    snn_assert_close(mean, 100.0, 0, 5 * sqrt(90.0 / 1200.0));
    snn_assert_close(var, 90.0, 0, 5 * 90.0 * sqrt(2.0 / 1199.0));
    /* Canonical order: by pre, then post, no duplicates. */
    for (size_t m = 1; m < x.nnz; m++)
        assert_true(x.pre[m - 1] < x.pre[m] ||
                    (x.pre[m - 1] == x.pre[m] && x.post[m - 1] < x.post[m]));
    free_syn(&x);
    free(indeg);

    syn y = get_syn(&net->projs[1]);
    double M = 1200.0 * 1199.0;
    snn_assert_close((double)y.nnz, M * 0.05, 0, 5 * sqrt(M * 0.05 * 0.95));
    for (size_t m = 0; m < y.nnz; m++)
        assert_true(y.pre[m] != y.post[m]);
    free_syn(&y);
    snn_net_free(net);
    snn_spec_free(s);
}

static void check_indegree(size_t n_pre, size_t n_post, size_t k, bool self, bool multapses)
{
    snn_spec *s = fx_spec(0.1, 1, 11);
    uint32_t a = fx_pop(s, "a", "lif", n_pre);
    uint32_t b = self ? a : fx_pop(s, "b", "lif", n_post);
    if (self)
        n_post = n_pre;
    snn_proj_spec *ps = fx_proj(s, a, b, SNN_CONN_INDEGREE, 1.0, 0.1);
    ps->k = k;
    ps->multapses = multapses;
    snn_net *net = build(s, 2);
    syn x = get_syn(&net->projs[0]);
    assert_int_equal(x.nnz, n_post * k);
    size_t *indeg = calloc(n_post, sizeof *indeg), *outdeg = calloc(n_pre, sizeof *outdeg);
    unsigned char *seen = calloc(n_pre * n_post, 1);
    for (size_t m = 0; m < x.nnz; m++) {
        indeg[x.post[m]]++;
        outdeg[x.pre[m]]++;
        if (self)
            assert_true(x.pre[m] != x.post[m]);
        if (!multapses) {
            assert_false(seen[x.pre[m] * n_post + x.post[m]]);
            seen[x.pre[m] * n_post + x.post[m]] = 1;
        }
    }
    for (size_t j = 0; j < n_post; j++)
        assert_int_equal(indeg[j], k);
    /* Out-degrees: each pre is chosen by each target with probability
       q = k / avail (independently across targets), so Bin(n_post, q)
       (approximately, when pre may not be its own target). */
    double avail = (double)(n_pre - (self ? 1 : 0)), q = (double)k / avail;
    double mean = 0, var = 0, v = (double)n_post * q * (1 - q);
    if (multapses)
        v = (double)n_post * (double)k * (1.0 / avail) * (1 - 1.0 / avail);
    for (size_t i = 0; i < n_pre; i++)
        mean += (double)outdeg[i] / (double)n_pre;
    for (size_t i = 0; i < n_pre; i++)
        var += ((double)outdeg[i] - mean) * ((double)outdeg[i] - mean) / (double)(n_pre - 1);
    snn_assert_close(var, v, 0, 5 * v * sqrt(2.0 / (double)(n_pre - 1)) + 1e-12);
    free(indeg);
    free(outdeg);
    free(seen);
    free_syn(&x);
    snn_net_free(net);
    snn_spec_free(s);
}

static void test_indegree(void **state)
{
    (void)state;
    check_indegree(800, 600, 40, false, false);  /* rejection sampling */
    check_indegree(300, 400, 200, false, false); /* selection sampling (k > n/2) */
    check_indegree(700, 0, 50, true, false);     /* no autapses */
    check_indegree(500, 300, 60, false, true);   /* multapses */
}

static void test_one_to_one_all_to_all(void **state)
{
    (void)state;
    snn_spec *s = fx_spec(0.1, 1, 3);
    uint32_t a = fx_pop(s, "a", "lif", 600), b = fx_pop(s, "b", "lif", 600);
    fx_proj(s, a, b, SNN_CONN_ONE_TO_ONE, 2.0, 0.1);
    snn_proj_spec *d = fx_proj(s, a, b, SNN_CONN_ALL_TO_ALL, 0, 0.1);
    d->weight.kind = SNN_DIST_UNIFORM;
    d->weight.a = 1.0;
    d->weight.b = 3.0;
    fx_proj(s, a, a, SNN_CONN_ALL_TO_ALL, 1.0, 0.1); /* no autapses: sparse */
    snn_proj_spec *au = fx_proj(s, a, a, SNN_CONN_ALL_TO_ALL, 1.0, 0.1);
    au->autapses = true; /* dense */
    snn_proj_spec *sk = fx_proj(s, a, b, SNN_CONN_ALL_TO_ALL, 1.0, 0.1);
    sk->skip_same_index = true; /* all but the partner: sparse */
    snn_net *net = build(s, 2);

    syn o = get_syn(&net->projs[0]);
    assert_int_equal(o.nnz, 600);
    for (size_t m = 0; m < o.nnz; m++) {
        assert_int_equal(o.pre[m], m);
        assert_int_equal(o.post[m], m);
        assert_true(o.w[m] == 2.0);
    }
    free_syn(&o);

    assert_true(net->projs[1].dense);
    syn u = get_syn(&net->projs[1]);
    assert_int_equal(u.nnz, 600 * 600);
    double mean = 0, lo = 1e9, hi = -1e9;
    for (size_t m = 0; m < u.nnz; m++) {
        mean += u.w[m] / (double)u.nnz;
        lo = fmin(lo, u.w[m]);
        hi = fmax(hi, u.w[m]);
    }
    /* Uniform on [1, 3): sd 2 / sqrt(12); the mean of N has sd / sqrt(N). */
    snn_assert_close(mean, 2.0, 0, 5 * 2.0 / sqrt(12.0 * (double)u.nnz));
    assert_true(lo >= 1.0 && hi < 3.0);
    free_syn(&u);

    assert_false(net->projs[2].dense);
    assert_int_equal(net->projs[2].nnz, 600 * 599);
    assert_false(net->projs[4].dense);
    syn skv = get_syn(&net->projs[4]);
    assert_int_equal(skv.nnz, 600 * 599);
    for (size_t m = 0; m < skv.nnz; m++)
        assert_true(skv.pre[m] != skv.post[m]);
    free_syn(&skv);
    assert_true(net->projs[3].dense);
    assert_int_equal(net->projs[3].nnz, 600 * 600);
    snn_net_free(net);
    snn_spec_free(s);
}

static void test_weight_delay_distributions(void **state)
{
    (void)state;
    snn_spec *s = fx_spec(0.1, 1, 5);
    uint32_t a = fx_pop(s, "a", "lif", 1000), b = fx_pop(s, "b", "lif", 1000);
    snn_proj_spec *ps = fx_proj(s, a, b, SNN_CONN_BERNOULLI, 0, 0);
    ps->p = 0.2;
    ps->weight.kind = SNN_DIST_NORMAL;
    ps->weight.a = 1.0;
    ps->weight.b = 0.5;
    ps->weight.lo = 0.5;
    ps->weight.hi = 2.0;
    ps->delay_ms.kind = SNN_DIST_UNIFORM;
    ps->delay_ms.a = 1.0;
    ps->delay_ms.b = 2.0;
    snn_net *net = build(s, 2);
    const snn_proj *pj = &net->projs[0];
    assert_int_equal(pj->delay, 0);
    assert_int_equal(pj->max_delay, 20);
    /* Delay steps are lround(U(1, 2) / 0.1): 10..20, mean 15. */
    double n = 0, sum = 0;
    for (size_t t = 0; t < pj->n_parts; t++)
        for (size_t q = 0; q < pj->parts[t].nnz; q++) {
            uint16_t d = pj->parts[t].delay[q];
            assert_true(d >= 10 && d <= 20);
            assert_true(pj->parts[t].w[q] >= 0.5 && pj->parts[t].w[q] <= 2.0);
            sum += d;
            n++;
        }
    /* Var of U(10, 20) is 100/12, plus rounding 1/12. */
    snn_assert_close(sum / n, 15.0, 0, 5 * sqrt((100.0 / 12 + 1.0 / 12) / n));
    snn_net_free(net);
    snn_spec_free(s);
}

/* The same seed gives the same synapses whatever the partition count. */
static void test_partition_independence(void **state)
{
    (void)state;
    syn ref[3];
    for (int th = 1; th <= 3; th++) {
        snn_spec *s = fx_spec(0.1, 1, 99);
        uint32_t a = fx_pop(s, "a", "lif", 2000);
        snn_proj_spec *ps = fx_proj(s, a, a, SNN_CONN_BERNOULLI, 0, 0);
        ps->p = 0.05;
        ps->weight.kind = SNN_DIST_UNIFORM;
        ps->weight.a = -1;
        ps->weight.b = 1;
        ps->delay_ms.kind = SNN_DIST_UNIFORM;
        ps->delay_ms.a = 0.1;
        ps->delay_ms.b = 5;
        snn_net *net = build(s, th);
        assert_int_equal(net->projs[0].n_parts, (size_t)th);
        syn x = get_syn(&net->projs[0]);
        if (th == 1) {
            ref[0] = x;
        } else {
            assert_int_equal(x.nnz, ref[0].nnz);
            assert_memory_equal(x.w, ref[0].w, x.nnz * sizeof *x.w);
            assert_memory_equal(x.pre, ref[0].pre, x.nnz * sizeof *x.pre);
            assert_memory_equal(x.post, ref[0].post, x.nnz * sizeof *x.post);
            free_syn(&x);
        }
        snn_net_free(net);
        snn_spec_free(s);
    }
    free_syn(&ref[0]);
}

/* Normalisation: every target's incoming weights sum to the total, with
   their ratios kept; dense and sparse storage, 1 and 2 partitions. */
static void test_normalize(void **state)
{
    (void)state;
    for (int th = 1; th <= 2; th++) {
        snn_spec *s = fx_spec(0.1, 1, 12);
        uint32_t a = fx_pop(s, "a", "lif", 300), b = fx_pop(s, "b", "lif", 700);
        snn_proj_spec *d = fx_proj(s, a, b, SNN_CONN_ALL_TO_ALL, 0, 0.1);
        snn_proj_spec *sp = fx_proj(s, a, b, SNN_CONN_BERNOULLI, 0, 0.1);
        sp->p = 0.1;
        snn_proj_spec *pp[2] = {d, sp};
        for (int q = 0; q < 2; q++) {
            pp[q]->weight.kind = SNN_DIST_UNIFORM;
            pp[q]->weight.a = 0.0;
            pp[q]->weight.b = 1.0;
        }
        snn_net *net = build(s, th);
        for (int q = 0; q < 2; q++) {
            syn before = get_syn(&net->projs[q]);
            snn_net_normalize(net, &net->projs[q], 78.0);
            syn after = get_syn(&net->projs[q]);
            double *sum_b = calloc(700, sizeof(double)), *sum_a = calloc(700, sizeof(double));
            for (size_t m = 0; m < after.nnz; m++) {
                sum_b[after.post[m]] += before.w[m];
                sum_a[after.post[m]] += after.w[m];
            }
            for (size_t j = 0; j < 700; j++)
                if (sum_b[j] > 0)
                    snn_assert_close(sum_a[j], 78.0, 1e-12, 0);
            for (size_t m = 0; m < after.nnz; m++)
                snn_assert_close(after.w[m], before.w[m] * 78.0 / sum_b[after.post[m]], 1e-12, 0);
            free(sum_a);
            free(sum_b);
            free_syn(&before);
            free_syn(&after);
        }
        snn_net_free(net);
        snn_spec_free(s);
    }
}

static void test_bad_connector(void **state)
{
    (void)state;
    snn_spec *s = fx_spec(0.1, 1, 1);
    uint32_t a = fx_pop(s, "a", "lif", 10), b = fx_pop(s, "b", "lif", 20);
    fx_proj(s, a, b, SNN_CONN_ONE_TO_ONE, 1, 0.1);
    snn_net *net = NULL;
    snn_err err;
    assert_int_equal(snn_net_build(&net, s, 1, &err), SNN_ECFG);
    assert_null(net);
    assert_non_null(strstr(err.msg, "one_to_one needs equal sizes"));
    s->projs[0].conn = SNN_CONN_INDEGREE;
    s->projs[0].k = 21;
    assert_int_equal(snn_net_build(&net, s, 1, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "exceeds"));
    snn_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bernoulli),
        cmocka_unit_test(test_indegree),
        cmocka_unit_test(test_one_to_one_all_to_all),
        cmocka_unit_test(test_weight_delay_distributions),
        cmocka_unit_test(test_partition_independence),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_bad_connector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
