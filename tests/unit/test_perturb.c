/*
 * tests/unit/test_perturb.c: image perturbations have the statistics they
 * promise, are reproducible per (seed, sample), and reject bad text.
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/perturb.h"

enum { R = 28, C = 28, PX = R * C };

static snn_dataset *flat_set(size_t n, uint8_t v)
{
    snn_dataset *d = calloc(1, sizeof *d);
    d->n = n;
    d->rows = R;
    d->cols = C;
    d->images = malloc(n * PX);
    d->labels = malloc(n);
    memset(d->images, v, n * PX);
    for (size_t i = 0; i < n; i++)
        d->labels[i] = (uint8_t)(i % 10);
    return d;
}

static snn_perturb parse(const char *s)
{
    snn_perturb p;
    snn_err err;
    if (snn_perturb_parse(s, &p, &err))
        fail_msg("%s: %s", s, err.msg);
    return p;
}

/* Mid-grey images (no clipping at 128 ± 4σ for σ = 0.05): the added noise has
   mean 0 and standard deviation 255 S; with N = 200 * 784 draws the standard
   errors are σ/√N for the mean and σ/√(2N) for the sd (plus 1/12 of a grey
   level of rounding variance).  Tolerance: 5 standard errors. */
static void test_gauss_statistics(void **state)
{
    (void)state;
    snn_dataset *d = flat_set(200, 128), *o = NULL;
    snn_perturb p = parse("gauss:0.05");
    snn_err err;
    assert_int_equal(snn_perturb_dataset(d, &p, 7, &o, &err), SNN_OK);
    double s1 = 0, s2 = 0, N = 200.0 * PX;
    for (size_t k = 0; k < 200 * PX; k++) {
        double e = (double)o->images[k] - 128.0;
        s1 += e;
        s2 += e * e;
    }
    double mean = s1 / N, sd = sqrt(s2 / N - mean * mean), sigma = 255 * 0.05;
    double expect_sd = sqrt(sigma * sigma + 1.0 / 12.0);
    assert_true(fabs(mean) < 5 * sigma / sqrt(N));
    snn_assert_close(sd, expect_sd, 0, 5 * sigma / sqrt(2 * N));
    assert_memory_equal(o->labels, d->labels, 200);
    snn_dataset_free(o);
    snn_dataset_free(d);
}

/* Clipping keeps pixels in range, and a higher level of the same kind reuses
   the same normal draws: the difference image doubles (up to rounding). */
static void test_gauss_shared_draws(void **state)
{
    (void)state;
    uint8_t a[PX], b[PX];
    memset(a, 128, PX);
    memset(b, 128, PX);
    snn_perturb p1 = parse("gauss:0.02"), p2 = parse("gauss:0.04");
    snn_perturb_image(&p1, 3, 5, a, R, C);
    snn_perturb_image(&p2, 3, 5, b, R, C);
    for (size_t k = 0; k < PX; k++)
        assert_true(fabs(((double)b[k] - 128) - 2 * ((double)a[k] - 128)) <= 1.0 + 1e-9);
}

/* The occluding patch is one black square of the promised area, fully
   inside the image, at positions that vary between samples. */
static void test_occlusion(void **state)
{
    (void)state;
    snn_dataset *d = flat_set(50, 255), *o = NULL;
    snn_perturb p = parse("occlude:0.25");
    snn_err err;
    assert_int_equal(snn_perturb_dataset(d, &p, 1, &o, &err), SNN_OK);
    size_t side = 14; /* round(sqrt(0.25 * 784)) */
    size_t first_r0 = 99, moved = 0;
    for (size_t i = 0; i < 50; i++) {
        const uint8_t *im = o->images + i * PX;
        size_t zeros = 0, rmin = R, cmin = C, rmax = 0, cmax = 0;
        for (size_t r = 0; r < R; r++)
            for (size_t c = 0; c < C; c++)
                if (im[r * C + c] == 0) {
                    zeros++;
                    rmin = r < rmin ? r : rmin;
                    rmax = r > rmax ? r : rmax;
                    cmin = c < cmin ? c : cmin;
                    cmax = c > cmax ? c : cmax;
                } else {
                    assert_int_equal(im[r * C + c], 255);
                }
        assert_int_equal(zeros, side * side);
        assert_int_equal(rmax - rmin + 1, side);
        assert_int_equal(cmax - cmin + 1, side);
        if (i == 0)
            first_r0 = rmin;
        else if (rmin != first_r0)
            moved++;
    }
    assert_true(moved > 0);
    snn_dataset_free(o);
    snn_dataset_free(d);
}

/* Salt and pepper: the fraction of changed pixels is P within 5 binomial
   standard errors, half of them white; values are only 0 or 255. */
static void test_saltpepper(void **state)
{
    (void)state;
    snn_dataset *d = flat_set(100, 100), *o = NULL;
    snn_perturb p = parse("saltpepper:0.1");
    snn_err err;
    assert_int_equal(snn_perturb_dataset(d, &p, 2, &o, &err), SNN_OK);
    double N = 100.0 * PX, changed = 0, white = 0;
    for (size_t k = 0; k < 100 * PX; k++) {
        uint8_t v = o->images[k];
        if (v != 100) {
            assert_true(v == 0 || v == 255);
            changed++;
            white += v == 255;
        }
    }
    snn_assert_close(changed / N, 0.1, 0, 5 * sqrt(0.1 * 0.9 / N));
    snn_assert_close(white / changed, 0.5, 0, 5 * sqrt(0.25 / changed));
    snn_dataset_free(o);
    snn_dataset_free(d);
}

/* Sample i's perturbation depends only on (seed, kind, i). */
static void test_reproducible(void **state)
{
    (void)state;
    snn_perturb p = parse("saltpepper:0.3");
    uint8_t a[PX], b[PX], c[PX];
    memset(a, 50, PX);
    memset(b, 50, PX);
    memset(c, 50, PX);
    snn_perturb_image(&p, 11, 42, a, R, C);
    snn_perturb_image(&p, 11, 43, c, R, C); /* another sample in between */
    snn_perturb_image(&p, 11, 42, b, R, C);
    assert_memory_equal(a, b, PX);
    assert_true(memcmp(a, c, PX) != 0);
    memset(c, 50, PX);
    snn_perturb_image(&p, 12, 42, c, R, C);
    assert_true(memcmp(a, c, PX) != 0);
    snn_perturb n = parse("none");
    snn_perturb_image(&n, 11, 42, b, R, C);
    assert_memory_equal(a, b, PX);
}

static void test_parse(void **state)
{
    (void)state;
    snn_perturb p;
    snn_err err;
    char buf[64];
    assert_int_equal(snn_perturb_parse("occlude:0.1", &p, &err), SNN_OK);
    assert_int_equal(p.kind, SNN_PERTURB_OCCLUDE);
    snn_perturb_format(&p, buf, sizeof buf);
    assert_string_equal(buf, "occlude:0.1");
    const char *bad[] = {"blur:0.1", "gauss", "gauss:", "gauss:x", "occlude:1.5", "saltpepper:-0.1",
                         "gauss:0.1x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(snn_perturb_parse(bad[i], &p, &err), SNN_ECFG);
        assert_non_null(strstr(err.msg, "saltpepper:P"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gauss_statistics), cmocka_unit_test(test_gauss_shared_draws),
        cmocka_unit_test(test_occlusion),        cmocka_unit_test(test_saltpepper),
        cmocka_unit_test(test_reproducible),     cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
