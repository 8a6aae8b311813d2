/*
 * tests/unit/test_vote.c: label assignment and voting on hand-made response
 * matrices with known answers.
 */
#include "../support.h"

#include <stdint.h>
#include <string.h>

#include "rules/vote.h"

/* 4 neurons, 3 classes, 6 training samples (2 per class).
   Neuron 0 prefers class 0, neuron 1 class 2, neuron 2 ties classes 1 and 2
   (lowest wins: 1), neuron 3 never fires. */
static const double train[6 * 4] = {
    /* label 0 */ 5, 0, 0, 0, /* label 0 */ 3, 1, 0, 0,
    /* label 1 */ 1, 0, 2, 0, /* label 1 */ 0, 1, 2, 0,
    /* label 2 */ 0, 6, 1, 0, /* label 2 */ 0, 4, 3, 0,
};
static const uint8_t train_labels[6] = {0, 0, 1, 1, 2, 2};

static void test_assign(void **state)
{
    (void)state;
    int32_t assign[4];
    double mean[4 * 3];
    snn_err err;
    assert_int_equal(snn_vote_assign(train, train_labels, 6, 4, 3, assign, mean, &err), SNN_OK);
    assert_int_equal(assign[0], 0);
    assert_int_equal(assign[1], 2);
    assert_int_equal(assign[2], 1);
    assert_int_equal(assign[3], -1);
    snn_assert_close(mean[0 * 3 + 0], 4.0, 0, 0);
    snn_assert_close(mean[1 * 3 + 2], 5.0, 0, 0);
    snn_assert_close(mean[2 * 3 + 1], 2.0, 0, 0);
    snn_assert_close(mean[2 * 3 + 2], 2.0, 0, 0);
    uint8_t bad[6] = {0, 0, 1, 1, 2, 3};
    assert_int_equal(snn_vote_assign(train, bad, 6, 4, 3, assign, NULL, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "label 3"));
}

static void test_predict_and_accuracy(void **state)
{
    (void)state;
    int32_t assign[4] = {0, 2, 1, -1};
    /* Sample 0: class 0 neuron strongest.  Sample 1: class 2.  Sample 2:
       class 1.  Sample 3: silent -> all scores 0, the lowest class with a
       neuron wins (0).  Sample 4: ties of 0 and 2 -> 0. */
    const double test[5 * 4] = {
        9, 1, 1, 9, 0, 7, 2, 0, 1, 1, 5, 0, 0, 0, 0, 0, 3, 3, 0, 0,
    };
    const uint8_t labels[5] = {0, 2, 1, 2, 2};
    int32_t pred[5];
    snn_err err;
    assert_int_equal(snn_vote_predict(test, 5, 4, assign, 3, pred, &err), SNN_OK);
    const int32_t want[5] = {0, 2, 1, 0, 0};
    assert_memory_equal(pred, want, sizeof want);
    uint64_t conf[9];
    double acc = snn_vote_accuracy(pred, labels, 5, 3, conf);
    snn_assert_close(acc, 3.0 / 5.0, 0, 1e-15);
    const uint64_t want_conf[9] = {1, 0, 0, 0, 1, 0, 2, 0, 1};
    assert_memory_equal(conf, want_conf, sizeof want_conf);
    /* Class means, not sums: two weak class-1 neurons against one strong
       class-0 neuron. */
    int32_t assign2[3] = {0, 1, 1};
    const double r[3] = {4, 3, 3};
    int32_t p;
    assert_int_equal(snn_vote_predict(r, 1, 3, assign2, 2, &p, &err), SNN_OK);
    assert_int_equal(p, 0);
    /* No neuron assigned at all: -1. */
    int32_t none[3] = {-1, -1, -1};
    assert_int_equal(snn_vote_predict(r, 1, 3, none, 2, &p, &err), SNN_OK);
    assert_int_equal(p, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assign),
        cmocka_unit_test(test_predict_and_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
