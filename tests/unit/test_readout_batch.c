/*
 * tests/unit/test_readout_batch.c: snn_readout_train_batch (rules/readout.c),
 * the one-step API of GHL's alternating loop.
 *
 * Under current encoding without shuffling, an epoch over n = batch samples
 * is one step on one mini-batch: snn_readout_train_batch on the same samples
 * gives the same parameters bit for bit (hidden layer, Adam with decay,
 * update noise), and reports the epoch's loss and train accuracy; the epoch
 * count does not move.  A batch of 0 or more than cfg.batch samples and a
 * bad label are SNN_ECFG.  Under Poisson encoding the key selects the input
 * streams: the same key twice from the same state gives the same step, two
 * keys give different ones; and the step is the same for 1 and 2 threads.
 */
#include "../support.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "rules/readout.h"

enum { N = 24, D = 7, C = 3 };

static void data(double *X, uint8_t *y)
{
    for (size_t s = 0; s < N; s++) {
        y[s] = (uint8_t)(s % C);
        for (size_t i = 0; i < D; i++)
            X[s * D + i] = (double)((s * 31 + i * 17) % 11) / 10.0 + (i == y[s] ? 1.0 : 0.0);
    }
}

static snn_readout_cfg cfg(void)
{
    snn_readout_cfg c;
    snn_readout_cfg_default(&c);
    c.n_hidden = 1;
    c.hidden[0] = 5;
    c.batch = N;
    c.chunk = 8;
    c.epochs = 2;
    c.lr = 0.02;
    c.shuffle = 0;
    c.weight_decay = 0.01;
    c.update_noise = 1e-3;
    c.steps = 8;
    c.norm = SNN_RO_NORM_MAX;
    return c;
}

static snn_readout *make(const snn_readout_cfg *c, const double *X)
{
    snn_readout *r;
    snn_err err;
    assert_int_equal(snn_readout_create(&r, c, D, C, &err), SNN_OK);
    assert_int_equal(snn_readout_fit_norm(r, X, N, &err), SNN_OK);
    return r;
}

static void params(snn_readout *r, double *out)
{
    size_t n, off = 0;
    for (size_t l = 0; l < snn_readout_n_layers(r); l++)
        for (int b = 0; b <= 1; b++) {
            double *p = snn_readout_param(r, l, b, &n);
            memcpy(out + off, p, n * sizeof(double));
            off += n;
        }
}

static void test_equals_epoch_step(void **state)
{
    (void)state;
    double X[N * D];
    uint8_t y[N];
    data(X, y);
    snn_readout_cfg c = cfg();
    snn_readout *a = make(&c, X), *b = make(&c, X);
    snn_err err;
    snn_readout_epoch st;
    assert_int_equal(snn_readout_train_epoch(a, X, y, N, &st, &err), SNN_OK);
    double loss = -1, acc = -1;
    assert_int_equal(snn_readout_train_batch(b, X, y, N, 0, &loss, &acc, &err), SNN_OK);
    assert_int_equal(snn_readout_epochs_done(b), 0);
    size_t np = snn_readout_n_params(a);
    double *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb);
    params(a, pa);
    params(b, pb);
    assert_memory_equal(pa, pb, np * sizeof *pa);
    assert_true(st.loss > 0);
    assert_true(loss == st.loss);
    assert_true(acc == st.train_accuracy);
    /* a second step differs from the first: the learner did change */
    assert_int_equal(snn_readout_train_batch(b, X, y, N, 1, NULL, NULL, &err), SNN_OK);
    params(b, pb);
    assert_memory_not_equal(pa, pb, np * sizeof *pa);
    free(pa);
    free(pb);
    snn_readout_free(a);
    snn_readout_free(b);
}

static void test_errors(void **state)
{
    (void)state;
    double X[N * D];
    uint8_t y[N];
    data(X, y);
    snn_readout_cfg c = cfg();
    c.batch = 10;
    snn_readout *r = make(&c, X);
    snn_err err;
    assert_int_equal(snn_readout_train_batch(r, X, y, 11, 0, NULL, NULL, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "1 to 10 samples"));
    assert_int_equal(snn_readout_train_batch(r, X, y, 0, 0, NULL, NULL, &err), SNN_ECFG);
    y[3] = C;
    assert_int_equal(snn_readout_train_batch(r, X, y, 10, 0, NULL, NULL, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "label"));
    snn_readout_free(r);
}

static void poisson_step(int threads, uint32_t key, double *out)
{
    double X[N * D];
    uint8_t y[N];
    data(X, y);
    snn_readout_cfg c = cfg();
    c.encode = SNN_RO_ENC_POISSON;
    c.max_rate_hz = 400.0;
    c.update_noise = 0.0;
    omp_set_num_threads(threads);
    snn_readout *r = make(&c, X);
    snn_err err;
    assert_int_equal(snn_readout_train_batch(r, X, y, N, key, NULL, NULL, &err), SNN_OK);
    params(r, out);
    snn_readout_free(r);
}

static void test_poisson_key_and_threads(void **state)
{
    (void)state;
    int saved = omp_get_max_threads();
    enum { NP = D * 5 + 5 + 5 * C + C };
    double a[NP], b[NP], k2[NP];
    poisson_step(1, 3, a);
    poisson_step(2, 3, b);
    poisson_step(1, 4, k2);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, k2, sizeof a);
    omp_set_num_threads(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equals_epoch_step),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_poisson_key_and_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
