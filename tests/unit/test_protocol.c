/*
 * tests/unit/test_protocol.c: phases over a dataset (sim/protocol.c).
 *
 * A synthetic dataset of three classes, each lighting its own block of
 * pixels, shown to a Poisson input: the features of the input itself must
 * classify the test phase perfectly by voting; labels and indices follow the
 * (shuffled) sample order; a plastic phase changes weights and a frozen one
 * does not; the features and results land in the HDF5 file; asking for more
 * samples than the split holds is a located parameter error.
 */
#include "../support.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fixture.h"
#include "io/h5.h"
#include "rules/rule.h"
#include "sim/protocol.h"

#define ROWS 3
#define COLS 4
#define NPIX (ROWS * COLS)

static snn_dataset *toy(size_t n, unsigned seed)
{
    snn_dataset *d = calloc(1, sizeof *d);
    d->n = n;
    d->rows = ROWS;
    d->cols = COLS;
    d->images = calloc(n * NPIX, 1);
    d->labels = malloc(n);
    for (size_t s = 0; s < n; s++) {
        uint8_t c = (uint8_t)((s * 7 + seed) % 3);
        d->labels[s] = c;
        for (size_t p = 4 * (size_t)c; p < 4 * (size_t)c + 4; p++)
            d->images[s * NPIX + p] = 255;
    }
    return d;
}

static void free_toy(snn_dataset *d)
{
    free(d->images);
    free(d->labels);
    free(d);
}

static snn_phase_spec *add_phase(snn_spec *s, const char *name, int split, size_t samples,
                                 uint64_t seed, bool plastic, uint32_t feature)
{
    snn_phase_spec *ph = &s->phases[s->n_phases++];
    snprintf(ph->name, sizeof ph->name, "%s", name);
    ph->split = split;
    ph->samples = samples;
    ph->shuffle_seed = seed;
    ph->plastic = plastic;
    ph->n_features = 1;
    ph->features = malloc(sizeof(uint32_t));
    ph->features[0] = feature;
    snprintf(ph->where.file, sizeof ph->where.file, "toy.cfg");
    ph->where.line = 7;
    return ph;
}

static snn_spec *toy_spec(void)
{
    snn_spec *s = fx_spec(0.5, 1, 3);
    uint32_t in = fx_pop(s, "pix", "poisson", NPIX);
    uint32_t e = fx_pop(s, "exc", "lif", 5);
    fx_par(s, e, "I_e", 450.0); /* fires on its own: V_inf = -52 mV */
    snn_proj_spec *pj = fx_proj(s, in, e, SNN_CONN_ALL_TO_ALL, 0.5, 0.5);
    pj->rule = snn_rule_find("stdp_pair");
    pj->rule_par = malloc(pj->rule->n_params * sizeof(double));
    for (size_t k = 0; k < pj->rule->n_params; k++)
        pj->rule_par[k] = pj->rule->params[k].def;
    s->stim = (snn_stim_spec){.input = in, .max_rate_hz = 200.0, .intensity = 1.0,
                              .present_ms = 50.0, .rest_ms = 20.0, .watch = -1};
    s->phases = calloc(4, sizeof *s->phases);
    return s;
}

static void weights(const snn_net *net, double *w)
{
    snn_net_weights(&net->projs[0], w, NULL, NULL);
}

static void test_phases_and_vote(void **state)
{
    (void)state;
    snn_spec *s = toy_spec();
    add_phase(s, "learn", 0, 20, 0, true, 1);
    add_phase(s, "assign", 0, 30, 5, false, 0);
    add_phase(s, "test", 1, 15, 0, false, 0);
    s->eval = (snn_eval_spec){.vote = true, .pop = 0, .assign_phase = 1, .test_phase = 2};
    snn_dataset *train = toy(40, 0), *test = toy(15, 1);
    const snn_dataset *split[2] = {train, test};
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 2, &err))
        fail_msg("%s", err.msg);
    char dir[] = "/tmp/snn_protoXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/p.h5", dir);
    snn_h5 *h5 = NULL;
    assert_int_equal(snn_h5_create(&h5, path, 4, &err), SNN_OK);

    double w0[NPIX * 5], w1[NPIX * 5];
    weights(net, w0);
    snn_protocol_result res;
    int rc = snn_protocol_run(net, split, NULL, h5, NULL, &res, &err);
    if (rc)
        fail_msg("%s", err.msg);
    weights(net, w1);
    assert_int_equal(snn_h5_close(h5, 1, &err), SNN_OK);
    /* 20 + 30 + 15 samples of (50 + 20) ms at 0.5 ms. */
    assert_int_equal(net->step, (20 + 30 + 15) * 140);
    /* Learning moved weights. */
    assert_true(memcmp(w0, w1, sizeof w0) != 0);
    /* The input's own counts classify perfectly. */
    assert_true(res.evaluated);
    snn_assert_close(res.accuracy, 1.0, 0, 0);
    for (int c = 0; c < 3; c++)
        assert_int_equal(res.confusion[c * 10 + c], 5);

    /* The file: labels follow the (shuffled) indices, predictions are right. */
    uint64_t *lab, *idx, *pred;
    size_t n1, n2, n3;
    assert_int_equal(snn_h5_read_u64(path, "/features/assign/labels", &lab, &n1, &err), SNN_OK);
    assert_int_equal(snn_h5_read_u64(path, "/features/assign/indices", &idx, &n2, &err), SNN_OK);
    assert_int_equal(n1, 30);
    assert_int_equal(n2, 30);
    int shuffled = 0, seen[40] = {0};
    for (size_t m = 0; m < 30; m++) {
        assert_true(idx[m] < 40);
        assert_false(seen[idx[m]]++);
        assert_int_equal(lab[m], train->labels[idx[m]]);
        shuffled |= idx[m] != m;
    }
    assert_true(shuffled);
    assert_int_equal(snn_h5_read_u64(path, "/results/vote/predictions", &pred, &n3, &err), SNN_OK);
    assert_int_equal(n3, 15);
    for (size_t m = 0; m < 15; m++)
        assert_int_equal(pred[m], test->labels[m]);
    free(lab);
    free(idx);
    free(pred);
    unlink(path);
    rmdir(dir);
    snn_net_free(net);
    snn_spec_free(s);
    free_toy(train);
    free_toy(test);
}

static void test_frozen_and_errors(void **state)
{
    (void)state;
    snn_spec *s = toy_spec();
    add_phase(s, "frozen", 0, 10, 0, false, 1);
    snn_dataset *train = toy(12, 0);
    const snn_dataset *split[2] = {train, NULL};
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 1, &err))
        fail_msg("%s", err.msg);
    double w0[NPIX * 5], w1[NPIX * 5];
    weights(net, w0);
    snn_protocol_result res;
    assert_int_equal(snn_protocol_run(net, split, NULL, NULL, NULL, &res, &err), SNN_OK);
    weights(net, w1);
    assert_memory_equal(w0, w1, sizeof w0);
    assert_true(net->spike_count[1] > 0);
    assert_false(res.evaluated);
    /* More samples than the split holds. */
    s->phases[0].samples = 13;
    assert_int_equal(snn_protocol_run(net, split, NULL, NULL, NULL, &res, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "toy.cfg:7: phase 'frozen' asks for 13 samples"));
    snn_net_free(net);
    snn_spec_free(s);
    free_toy(train);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phases_and_vote),
        cmocka_unit_test(test_frozen_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
