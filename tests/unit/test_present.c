/*
 * tests/unit/test_present.c: sim/present.c.  Pixel-to-rate coding (counts
 * within 5 Poisson standard deviations of pixel/255 * max_rate * T, zero for
 * black pixels), silence during the rest, the step count of a presentation,
 * and the intensity boost.
 */
#include "../support.h"

#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "sim/net.h"
#include "sim/present.h"

static snn_net *build(snn_spec *s)
{
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 2, &err))
        fail_msg("%s", err.msg);
    return net;
}

static void test_rate_coding(void **state)
{
    (void)state;
    const size_t n = 600;
    snn_spec *s = fx_spec(0.5, 1, 9);
    uint32_t in = fx_pop(s, "in", "poisson", n);
    snn_net *net = build(s);
    uint8_t *px = malloc(n);
    for (size_t i = 0; i < n; i++)
        px[i] = (uint8_t)(i % 4 == 0 ? 0 : (i % 4) * 85); /* 0, 85, 170, 255 */
    uint32_t *cnt = calloc(n, sizeof *cnt);
    uint32_t *counts[1] = {cnt};
    uint32_t which[1] = {in};
    snn_present pr = {.input = in, .max_rate_hz = 63.75, .intensity = 2.0, .present_ms = 350,
                      .rest_ms = 150, .watch = -1, .n_count = 1, .count = which};
    snn_err err;
    unsigned boosts = 9;
    assert_int_equal(snn_present_sample(net, &pr, px, counts, &boosts, &err), SNN_OK);
    assert_int_equal(boosts, 0);
    assert_int_equal(net->step, 700 + 300); /* present + rest steps */
    /* Every spike of the input happened during the presentation. */
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += cnt[i];
    assert_int_equal(total, net->spike_count[in]);
    /* Per grey level: the summed count of its 150 pixels is Poisson with
       mean 150 * rate * 0.35 s; black pixels never fire. */
    for (int g = 0; g < 4; g++) {
        double sum = 0, rate = (double)(g * 85) / 255.0 * 63.75 * 2.0, lam = 150 * rate * 0.35;
        for (size_t i = (size_t)g; i < n; i += 4)
            sum += cnt[i];
        if (g == 0)
            assert_true(sum == 0);
        else
            snn_assert_close(sum, lam, 0, 5 * sqrt(lam));
    }
    free(px);
    free(cnt);
    snn_net_free(net);
    snn_spec_free(s);
}

static void test_boost(void **state)
{
    (void)state;
    snn_spec *s = fx_spec(0.5, 1, 2);
    uint32_t in = fx_pop(s, "in", "poisson", 1);
    snn_net *net = build(s);
    uint8_t px = 255;
    uint32_t cnt = 0, *counts[1] = {&cnt};
    uint32_t which[1] = {in};
    /* At intensity 1 the expected count is 1e-4: no spike, so a boost; the
       boost multiplies the rate by ~1e6, so the second showing fires. */
    snn_present pr = {.input = in, .max_rate_hz = 1e-3, .intensity = 1.0, .present_ms = 100,
                      .rest_ms = 50, .watch = (int)in, .min_spikes = 1, .intensity_step = 1e6,
                      .max_boosts = 5, .n_count = 1, .count = which};
    snn_err err;
    unsigned boosts = 0;
    assert_int_equal(snn_present_sample(net, &pr, &px, counts, &boosts, &err), SNN_OK);
    assert_int_equal(boosts, 1);
    assert_true(cnt > 10); /* counts are those of the last showing */
    assert_int_equal(net->step, 2 * (200 + 100));
    /* A threshold that is never reached: stops after max_boosts. */
    pr.min_spikes = 1000000;
    size_t before = net->step;
    assert_int_equal(snn_present_sample(net, &pr, &px, counts, &boosts, &err), SNN_OK);
    assert_int_equal(boosts, 5);
    assert_int_equal(net->step - before, 6 * 300);
    /* A population without rates cannot take images. */
    snn_net_free(net);
    snn_spec_free(s);
    s = fx_spec(0.5, 1, 2);
    uint32_t lif = fx_pop(s, "l", "lif", 1);
    net = build(s);
    pr.input = lif;
    pr.watch = -1;
    assert_int_equal(snn_present_sample(net, &pr, &px, counts, &boosts, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "no 'rate' state"));
    snn_net_free(net);
    snn_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_coding),
        cmocka_unit_test(test_boost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
