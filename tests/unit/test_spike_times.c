/*
 * tests/unit/test_spike_times.c: models/spike_times.c, replay of a spike list.
 *
 * A spike at t ms is stamped on grid point m = lround(t/dt) and emitted by
 * step m-1; spikes of one neuron in one step merge into one entry with mult.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/pop.h"
#include "tests/support.h"

extern const snn_model_type spike_times_type;

typedef struct fixture {
    snn_pop_spec s;
    snn_pop p;
} fixture;

typedef struct emitted {
    size_t step;
    uint32_t id, mult;
} emitted;

static void setup_spec(fixture *f, size_t n, size_t ns, const uint32_t *ids, const double *t)
{
    snn_err err = {0};
    memset(f, 0, sizeof *f);
    assert_int_equal(snn_pop_spec_defaults(&f->s, &spike_times_type, n, "stim", &err), SNN_OK);
    f->s.n_spikes = ns;
    f->s.spike_ids = malloc((ns ? ns : 1) * sizeof(uint32_t));
    f->s.spike_times_ms = malloc((ns ? ns : 1) * sizeof(double));
    assert_true(f->s.spike_ids && f->s.spike_times_ms);
    if (ns) {
        memcpy(f->s.spike_ids, ids, ns * sizeof(uint32_t));
        memcpy(f->s.spike_times_ms, t, ns * sizeof(double));
    }
}

static void build(fixture *f, double dt)
{
    snn_err err = {0};
    int rc = snn_pop_init(&f->p, &f->s, 0, dt, 1, 1, &err);
    if (rc)
        fail_msg("snn_pop_init: %s", err.msg);
}

static void teardown(fixture *f)
{
    snn_pop_clear(&f->p);
    snn_pop_spec_clear(&f->s);
}

/* Runs steps k0..k1-1 and appends every emitted entry to out (capacity cap). */
static size_t run(fixture *f, size_t k0, size_t k1, emitted *out, size_t cap)
{
    size_t n = 0;
    for (size_t k = k0; k < k1; k++)
        for (size_t b = 0; b < f->p.n_blk; b++) {
            snn_pop_step_block(&f->p, b, 0, k);
            const snn_spikes *s = &f->p.spk[b];
            for (size_t j = 0; j < s->n; j++) {
                assert_true(s->id[j] >= b * SNN_BLOCK && s->id[j] < snn_blk_end(&f->p, b));
                if (j > 0)
                    assert_true(s->id[j] > s->id[j - 1]);
                assert_true(n < cap);
                out[n++] = (emitted){k, s->id[j], s->mult[j]};
            }
        }
    return n;
}

static void check_list(const emitted *got, size_t n_got, const emitted *want, size_t n_want)
{
    assert_int_equal(n_got, n_want);
    for (size_t j = 0; j < n_want; j++) {
        if (got[j].step != want[j].step || got[j].id != want[j].id ||
            got[j].mult != want[j].mult)
            fail_msg("entry %zu: got (step %zu, id %u, mult %u), want (step %zu, id %u, mult %u)",
                     j, got[j].step, got[j].id, got[j].mult, want[j].step, want[j].id,
                     want[j].mult);
    }
}

/* Unsorted input over three blocks; rounding to the grid; merging into mult;
   ascending ids within a step. */
static void test_schedule(void **state)
{
    const uint32_t ids[] = {5, 3, 300, 5, 599, 0, 5, 256, 255, 3};
    const double t[] = {1.0, 1.0, 1.04, 0.96, 0.1, 2.549, 1.0, 0.14, 7.5, 30.0};
    /* dt = 0.1: grid points 10, 10, 10, 10, 1, 25, 10, 1, 75, 300 */
    const emitted want[] = {
        {0, 256, 1}, {0, 599, 1},                     /* t = 0.1 ms (step 0) */
        {9, 3, 1},   {9, 5, 3},   {9, 300, 1},        /* t = 1.0 ms */
        {24, 0, 1},                                   /* 2.549 -> 2.5 ms */
        {74, 255, 1},                                 /* 7.5 ms */
        {299, 3, 1},                                  /* 30 ms */
    };
    size_t nw = sizeof want / sizeof want[0];
    fixture f;
    setup_spec(&f, 600, sizeof ids / sizeof ids[0], ids, t);
    build(&f, 0.1);
    assert_int_equal(f.p.n_blk, 3);
    emitted got[32];
    check_list(got, run(&f, 0, 400, got, 32), want, nw);

    /* Rewound or restarted runs replay the same spikes (the per-block
       cursor is re-found); a run starting late emits only the later ones. */
    check_list(got, run(&f, 0, 400, got, 32), want, nw);
    check_list(got, run(&f, 9, 80, got, 32), want + 2, 5);
    check_list(got, run(&f, 24, 25, got, 32), want + 5, 1);
    check_list(got, run(&f, 0, 1, got, 32), want, 2);
    teardown(&f);
}

/* The same list at another dt lands on that grid. */
static void test_other_dt(void **state)
{
    const uint32_t ids[] = {1, 1, 2};
    const double t[] = {0.5, 0.74, 1.26};  /* dt 0.25: m = 2, 3, 5 */
    const emitted want[] = {{1, 1, 1}, {2, 1, 1}, {4, 2, 1}};
    fixture f;
    setup_spec(&f, 3, 3, ids, t);
    build(&f, 0.25);
    emitted got[8];
    check_list(got, run(&f, 0, 20, got, 8), want, 3);
    teardown(&f);
}

/* No spikes: nothing emitted; no parameters or state are needed. */
static void test_empty(void **state)
{
    assert_int_equal(spike_times_type.n_params, 0);
    assert_true(spike_times_type.is_source && spike_times_type.takes_spike_list);
    assert_false(spike_times_type.random);
    fixture f;
    setup_spec(&f, 300, 0, NULL, NULL);
    build(&f, 0.1);
    emitted got[1];
    assert_int_equal(run(&f, 0, 100, got, 1), 0);
    teardown(&f);
}

/* Ids >= n and times that round to a grid point before dt (t < dt/2), or
   are not finite, are rejected with SNN_EMODEL naming the spike. */
static void test_reject(void **state)
{
    struct {
        uint32_t id;
        double t;
        const char *needle;
    } bad[] = {
        {10, 1.0, "neuron id 10"},
        {2, 0.04, "must be >= dt"},
        {2, 0.0, "must be >= dt"},
        {2, -3.0, "must be >= dt"},
        {2, NAN, "not a finite"},
        {2, INFINITY, "not a finite"},
    };
    for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
        const uint32_t ids[] = {0, bad[j].id};
        const double t[] = {1.0, bad[j].t};
        fixture f;
        snn_err err = {0};
        setup_spec(&f, 10, 2, ids, t);
        assert_int_equal(snn_pop_init(&f.p, &f.s, 0, 0.1, 1, 1, &err), SNN_EMODEL);
        if (!strstr(err.msg, bad[j].needle) || !strstr(err.msg, "spike 1"))
            fail_msg("case %zu: message '%s' lacks '%s'", j, err.msg, bad[j].needle);
        snn_pop_spec_clear(&f.s);
    }
    /* The boundary: t = dt/2 rounds to dt and is accepted. */
    const uint32_t ids[] = {4};
    const double t[] = {0.125};
    fixture f;
    setup_spec(&f, 10, 1, ids, t);
    build(&f, 0.25);
    emitted got[2];
    const emitted want[] = {{0, 4, 1}};
    check_list(got, run(&f, 0, 3, got, 2), want, 1);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule), cmocka_unit_test(test_other_dt),
        cmocka_unit_test(test_empty), cmocka_unit_test(test_reject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
