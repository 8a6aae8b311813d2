/*
 * tests/unit/test_protocol.c: phases over a dataset (sim/protocol.c).
 *
 * A synthetic dataset of three classes, each lighting its own block of
 * pixels, shown to a Poisson input: the features of the input itself must
 * classify the test phase perfectly by voting; labels and indices follow the
 * (shuffled) sample order; a plastic phase changes weights and a frozen one
 * does not; the features and results land in the HDF5 file; asking for more
 * samples than the split holds is a located parameter error.  Frozen phases
 * (run on per-thread copies) give the same counts, weights, state, step and
 * spike counters for 1, 2 and 3 threads and on the sequential recording
 * path, leave the network in its phase-start state, and a sample's counts do
 * not depend on the samples before it; features come back in memory in the
 * phase's feature order.
 */
#include "../support.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fixture.h"
#include "io/h5.h"
#include "rules/rule.h"
#include "sim/protocol.h"
#include "tests/toy.h"
#include "sim/rec.h"

#define ROWS 3
#define COLS 4
#define NPIX (ROWS * COLS)

static snn_dataset *toy(size_t n, unsigned seed)
{
    return toy_bars(n, 7, seed);
}

static void free_toy(snn_dataset *d)
{
    snn_dataset_free(d);
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

/* Run the toy phases on `threads` threads, with spikes of exc recorded (the
   sequential frozen path) or not; keep features, weights, step, counts, V. */
typedef struct run_out {
    snn_protocol_result res;
    double w[NPIX * 5];
    double v[5];
    size_t step;
    uint64_t spikes[2];
} run_out;

static void run_toy(snn_spec *s, const snn_dataset *const split[2], int threads, bool record,
                    run_out *out)
{
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("%s", err.msg);
    char dir[] = "/tmp/snn_protoXXXXXX", path[256];
    snn_h5 *h5 = NULL;
    snn_rec *rec = NULL;
    if (record) {
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/r.h5", dir);
        assert_int_equal(snn_h5_create(&h5, path, 0, &err), SNN_OK);
        s->rec_spikes[1] = true;
        if (snn_rec_open(&rec, net, h5, &err))
            fail_msg("%s", err.msg);
    }
    snn_protocol_opts opts = {.keep_features = true};
    if (snn_protocol_run(net, split, rec, h5, &opts, &out->res, &err))
        fail_msg("%s", err.msg);
    weights(net, out->w);
    memcpy(out->v, net->pops[1].x[0], sizeof out->v);
    out->step = net->step;
    out->spikes[0] = net->spike_count[0];
    out->spikes[1] = net->spike_count[1];
    if (record) {
        assert_int_equal(snn_rec_flush(rec, &err), SNN_OK);
        snn_rec_free(rec);
        assert_int_equal(snn_h5_close(h5, 1, &err), SNN_OK);
        /* The recorder saw the frozen phase's spikes of exc. */
        double *t;
        size_t n;
        assert_int_equal(snn_h5_read_f64(path, "/spikes/exc/timestamps", &t, &n, &err), SNN_OK);
        assert_int_equal(n, out->spikes[1]);
        free(t);
        unlink(path);
        rmdir(dir);
        s->rec_spikes[1] = false;
    }
    snn_net_free(net);
}

static void assert_same_run(const run_out *a, const run_out *b)
{
    assert_int_equal(a->step, b->step);
    assert_memory_equal(a->w, b->w, sizeof a->w);
    assert_memory_equal(a->v, b->v, sizeof a->v);
    assert_memory_equal(a->spikes, b->spikes, sizeof a->spikes);
    assert_int_equal(a->res.n_phases, b->res.n_phases);
    for (size_t f = 0; f < a->res.n_phases; f++) {
        const snn_phase_features *x = &a->res.features[f], *y = &b->res.features[f];
        assert_int_equal(x->n, y->n);
        assert_int_equal(x->cols, y->cols);
        assert_memory_equal(x->labels, y->labels, x->n * sizeof *x->labels);
        if (x->cols)
            assert_memory_equal(x->counts, y->counts, x->n * x->cols * sizeof *x->counts);
    }
}

/* Frozen phases run on per-thread copies: the same counts for 1, 2 and 3
   threads and on the sequential (recording) path; the network comes back
   to its phase-start state; features in memory match the phase layout. */
static void test_frozen_parallel_identity(void **state)
{
    (void)state;
    snn_spec *s = toy_spec();
    add_phase(s, "learn", 0, 8, 3, true, 1);
    snn_phase_spec *fz = add_phase(s, "frozen", 0, 13, 0, false, 1);
    /* Two feature populations: the columns are pix then exc. */
    fz->n_features = 2;
    fz->features = realloc(fz->features, 2 * sizeof *fz->features);
    fz->features[0] = 0;
    fz->features[1] = 1;
    add_phase(s, "test", 1, 7, 0, false, 1);
    snn_dataset *train = toy(20, 0), *test = toy(7, 1);
    const snn_dataset *split[2] = {train, test};
    run_out *r = calloc(4, sizeof *r);
    run_toy(s, split, 1, false, &r[0]);
    run_toy(s, split, 2, false, &r[1]);
    run_toy(s, split, 3, false, &r[2]);
    run_toy(s, split, 2, true, &r[3]);
    for (int k = 1; k < 4; k++)
        assert_same_run(&r[0], &r[k]);
    const snn_phase_features *pf = &r[0].res.features[1];
    assert_int_equal(pf->n, 13);
    assert_int_equal(pf->cols, NPIX + 5);
    assert_int_equal(r[0].res.features[0].cols, 5); /* learn: exc */
    /* Input columns: only the pixels of the sample's class are lit. */
    for (size_t m = 0; m < pf->n; m++) {
        assert_int_equal(pf->labels[m], train->labels[m]);
        assert_int_equal(pf->indices[m], m);
        size_t c = pf->labels[m];
        uint32_t lit = 0, dark = 0;
        for (size_t p = 0; p < NPIX; p++)
            *(p / 4 == c ? &lit : &dark) += pf->counts[m * pf->cols + p];
        assert_true(lit > 0);
        assert_int_equal(dark, 0);
    }
    /* Samples 0 and 3 show the same image (class 0) but draw from their own
       streams: their input counts differ. */
    assert_int_equal(pf->labels[0], pf->labels[3]);
    assert_true(memcmp(pf->counts, pf->counts + 3 * pf->cols, NPIX * sizeof(uint32_t)) != 0);
    for (int k = 0; k < 4; k++)
        snn_protocol_result_free(&r[k].res);
    free(r);
    snn_spec_free(s);
    free_toy(train);
    free_toy(test);
}

/* A frozen phase leaves the network as it found it (state, weights), and a
   sample's counts do not depend on which samples ran before it: the same
   image at the same position gives the same counts whatever precedes. */
static void test_frozen_independent(void **state)
{
    (void)state;
    snn_spec *s = toy_spec();
    add_phase(s, "frozen", 0, 6, 0, false, 1);
    snn_dataset *a = toy(6, 0), *b = toy(6, 0);
    /* b differs from a in samples 0..4 only (blank images). */
    for (size_t m = 0; m < 5 * NPIX; m++)
        b->images[m] = 0;
    const snn_dataset *sa[2] = {a, NULL}, *sb[2] = {b, NULL};
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 2, &err))
        fail_msg("%s", err.msg);
    double v0[5];
    memcpy(v0, net->pops[1].x[0], sizeof v0);
    snn_protocol_opts opts = {.keep_features = true};
    snn_protocol_result ra, rb;
    assert_int_equal(snn_protocol_run(net, sa, NULL, NULL, &opts, &ra, &err), SNN_OK);
    assert_memory_equal(v0, net->pops[1].x[0], sizeof v0);
    assert_int_equal(net->step, 6 * 140);
    assert_int_equal(snn_protocol_run(net, sb, NULL, NULL, &opts, &rb, &err), SNN_OK);
    assert_int_equal(net->step, 12 * 140);
    const snn_phase_features *x = &ra.features[0], *y = &rb.features[0];
    assert_memory_equal(x->counts + 5 * x->cols, y->counts + 5 * y->cols, 5 * sizeof(uint32_t));
    snn_protocol_result_free(&ra);
    snn_protocol_result_free(&rb);
    snn_net_free(net);
    snn_spec_free(s);
    free_toy(a);
    free_toy(b);
}

/* With a current input (time-dependent) frozen phases run sequentially on
   the network: still the same for 1 and 2 threads, and the current acts. */
static void test_frozen_with_current(void **state)
{
    (void)state;
    snn_dataset *train = toy(8, 0);
    const snn_dataset *split[2] = {train, NULL};
    uint64_t spikes[2][2];
    for (int amp = 0; amp < 2; amp++) {
        run_out r[2];
        for (int t = 0; t < 2; t++) {
            snn_spec *s = toy_spec();
            add_phase(s, "frozen", 0, 8, 0, false, 1);
            s->currents = calloc(1, sizeof *s->currents);
            s->n_currents = 1;
            snn_current_spec *cs = &s->currents[0];
            cs->target = 1;
            cs->n_changes = 1;
            cs->t_ms = malloc(sizeof(double));
            cs->amp_pA = malloc(sizeof(double));
            cs->t_ms[0] = 100.0;
            cs->amp_pA[0] = amp ? 200.0 : 0.0;
            memset(&r[t], 0, sizeof r[t]);
            run_toy(s, split, t + 1, false, &r[t]);
            snn_spec_free(s);
        }
        assert_same_run(&r[0], &r[1]);
        memcpy(spikes[amp], r[0].spikes, sizeof spikes[amp]);
        snn_protocol_result_free(&r[0].res);
        snn_protocol_result_free(&r[1].res);
    }
    assert_true(spikes[1][1] > spikes[0][1]); /* +200 pA from 100 ms on */
    free_toy(train);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phases_and_vote),
        cmocka_unit_test(test_frozen_and_errors),
        cmocka_unit_test(test_frozen_parallel_identity),
        cmocka_unit_test(test_frozen_independent),
        cmocka_unit_test(test_frozen_with_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
