/*
 * tests/unit/test_state.c: a network's state saved to a checkpoint file and
 * restored into a freshly built network continues bit-identically, whatever
 * the thread count on either side; checkpoints of another network, or files
 * that are not checkpoints, are refused with a clear error.
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/cfg.h"
#include "io/ckpt.h"
#include "io/h5.h"
#include "rules/three_factor.h"
#include "sim/sched.h"
#include "sim/state.h"

/* Every kind of state: Poisson sources (streams, exponential-interval
   state), LIF with heterogeneous delays (ring buffer) and adaptive θ,
   lif_cond, a current input switching mid-run, and plastic projections
   (traces, weights; dense and sparse; a rule with state of its own:
   three_factor's eligibility traces, sparse, so that their partitions
   differ between thread counts). */
static const char *NET =
    "simulation = { dt_ms = 0.1; duration_ms = 100.0; seed = 11; };\n"
    "populations = {\n"
    "  exc = { model = \"lif\"; size = 300; I_e = 250.0; theta_plus = 0.5; tau_theta = 50.0;\n"
    "          init = { V_m = { uniform = [-70.0, -55.0]; }; }; };\n"
    "  cond = { model = \"lif_cond\"; size = 70; };\n"
    "};\n"
    "inputs = {\n"
    "  drive = { model = \"poisson\"; size = 40; rate_hz = 400.0; };\n"
    "  slow = { model = \"poisson\"; size = 20; rate_hz = 3.0; };\n"
    "  kick = { model = \"current\"; target = \"exc\"; amplitude_pA = 100.0; start_ms = 20.0;\n"
    "           stop_ms = 70.0; };\n"
    "};\n"
    "projections = {\n"
    "  de = { pre = \"drive\"; post = \"exc\"; connector = \"pairwise_bernoulli\"; p = 0.3;\n"
    "         weight = { uniform = [10.0, 40.0]; }; delay_ms = { uniform = [0.5, 3.0]; };\n"
    "         plasticity = { rule = \"stdp_pair\"; A_plus = 0.5; A_minus = 0.5; tau_plus = 20.0;\n"
    "                        tau_minus = 20.0; w_max = 60.0; }; };\n"
    "  sc = { pre = \"slow\"; post = \"cond\"; connector = \"all_to_all\"; weight = 5.0;\n"
    "         delay_ms = 1.0; };\n"
    "  dc = { pre = \"drive\"; post = \"cond\"; connector = \"all_to_all\"; weight = 1.0;\n"
    "         delay_ms = 0.5;\n"
    "         plasticity = { rule = \"stdp_triplet\"; w_max = 5.0; }; };\n"
    "  te = { pre = \"drive\"; post = \"exc\"; connector = \"pairwise_bernoulli\"; p = 0.2;\n"
    "         weight = 2.0; delay_ms = 1.0;\n"
    "         plasticity = { rule = \"three_factor\"; tau_e = 30.0; w_max = 10.0; }; };\n"
    "  ee = { pre = \"exc\"; post = \"exc\"; connector = \"fixed_indegree\"; k = 20; weight = 20.0;\n"
    "         delay_ms = { uniform = [0.5, 2.0]; }; };\n"
    "};\n"
    "output = { path = \"state.h5\"; };\n";

static snn_spec *load(void)
{
    snn_spec *s = NULL;
    snn_err err;
    if (snn_cfg_load_string(NET, "state.cfg", NULL, 0, &s, &err))
        fail_msg("cfg: %s", err.msg);
    return s;
}

static snn_net *build(const snn_spec *s, int threads)
{
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("build: %s", err.msg);
    return net;
}

/* Counts every spike per (pop, neuron, step) into a checksum-like record. */
typedef struct trace {
    uint64_t spikes;
    uint64_t hash;
} trace;

static void on_step(void *ud, const snn_net *net)
{
    trace *t = ud;
    for (size_t q = 0; q < net->n_pops; q++) {
        const snn_pop *p = &net->pops[q];
        for (size_t b = 0; b < p->n_blk; b++)
            for (size_t j = 0; j < p->spk[b].n; j++) {
                uint64_t key = ((uint64_t)net->step << 32) ^ ((uint64_t)q << 24) ^ p->spk[b].id[j];
                t->hash = (t->hash ^ key) * 0x100000001b3ULL + p->spk[b].mult[j];
                t->spikes++;
            }
    }
}

static void run(snn_net *net, size_t steps, trace *t)
{
    snn_run_opts o = {.on_step = on_step, .step_ud = t};
    snn_err err;
    if (snn_sched_clock_run(net, steps, NULL, &o, &err))
        fail_msg("run: %s", err.msg);
}

/* Final weights of every projection, concatenated. */
static double *weights(const snn_net *net, size_t *n)
{
    size_t tot = 0;
    for (size_t q = 0; q < net->n_projs; q++)
        tot += net->projs[q].nnz;
    double *w = malloc(tot * sizeof *w);
    size_t off = 0;
    for (size_t q = 0; q < net->n_projs; q++) {
        snn_net_weights(&net->projs[q], w + off, NULL, NULL);
        off += net->projs[q].nnz;
    }
    *n = tot;
    return w;
}

static void save(const snn_net *net, const char *path)
{
    snn_ckpt *c = NULL;
    snn_err err;
    if (snn_ckpt_create(&c, path, &err))
        fail_msg("create: %s", err.msg);
    snn_state_io io = snn_ckpt_io(c);
    if (snn_net_state_save(net, &io, &err))
        fail_msg("save: %s", err.msg);
    if (snn_ckpt_close(c, 1, &err))
        fail_msg("close: %s", err.msg);
}

static int restore(snn_net *net, const char *path, snn_err *err)
{
    snn_ckpt *c = NULL;
    int rc = snn_ckpt_open(&c, path, err);
    if (rc)
        return rc;
    snn_state_io io = snn_ckpt_io(c);
    rc = snn_net_state_load(net, &io, err);
    snn_ckpt_close(c, 0, NULL);
    return rc;
}

/* The eligibility traces of projection "te" now (canonical order). */
static double *eligibility(const snn_net *net, size_t *n)
{
    for (size_t q = 0; q < net->n_projs; q++)
        if (!strcmp(net->projs[q].spec->name, "te")) {
            *n = net->projs[q].nnz;
            double *e = malloc(*n * sizeof *e);
            snn_err err;
            if (snn_three_factor_eligibility(&net->projs[q], net->step, e, &err))
                fail_msg("eligibility: %s", err.msg);
            return e;
        }
    fail_msg("no projection te");
    return NULL;
}

/* Uninterrupted: 1000 steps.  Interrupted at step 437 (with `t_save`
   threads), restored into a new network with `t_load` threads. */
static void check_resume(int t_save, int t_load)
{
    const size_t total = 1000, cut = 437;
    char path[64];
    snprintf(path, sizeof path, "test_state_%d_%d.ckpt", t_save, t_load);
    snn_spec *s = load();

    snn_net *ref = build(s, 1);
    trace tr = {0, 0};
    run(ref, total, &tr);
    size_t nw_ref;
    double *w_ref = weights(ref, &nw_ref);

    snn_net *a = build(s, t_save);
    trace ta = {0, 0};
    run(a, cut, &ta);
    save(a, path);
    snn_net_free(a);

    snn_net *b = build(s, t_load);
    snn_err err;
    if (restore(b, path, &err))
        fail_msg("restore: %s", err.msg);
    assert_int_equal(b->step, cut);
    run(b, total - cut, &ta);
    size_t nw;
    double *w = weights(b, &nw);

    assert_true(tr.spikes > 1000);          /* the network is active */
    assert_int_equal(ta.spikes, tr.spikes);
    assert_true(ta.hash == tr.hash);
    assert_int_equal(nw, nw_ref);
    assert_memory_equal(w, w_ref, nw * sizeof *w);
    /* The plastic weights did move, so the comparison means something. */
    snn_net *fresh = build(s, 1);
    size_t nf;
    double *wf = weights(fresh, &nf);
    assert_true(memcmp(wf, w_ref, nf * sizeof *wf) != 0);
    /* three_factor's eligibility (restored, decayed from restored time
       stamps) is the uninterrupted run's, and not all zero. */
    size_t ne, ne_ref, nonzero = 0;
    double *e = eligibility(b, &ne), *e_ref = eligibility(ref, &ne_ref);
    assert_int_equal(ne, ne_ref);
    assert_memory_equal(e, e_ref, ne * sizeof *e);
    for (size_t k = 0; k < ne; k++)
        nonzero += e_ref[k] != 0.0;
    assert_true(nonzero > ne / 10);
    free(e);
    free(e_ref);

    free(wf);
    free(w);
    free(w_ref);
    snn_net_free(fresh);
    snn_net_free(b);
    snn_net_free(ref);
    snn_spec_free(s);
    unlink(path);
}

static void test_resume_same_threads(void **state)
{
    (void)state;
    check_resume(1, 1);
}

static void test_resume_other_threads(void **state)
{
    (void)state;
    check_resume(2, 1);
    check_resume(1, 3);
}

/* A checkpoint of a network of another size is refused, naming the item. */
static void test_other_network(void **state)
{
    (void)state;
    snn_spec *s = load();
    snn_net *a = build(s, 1);
    run(a, 10, &(trace){0, 0});
    save(a, "test_state_other.ckpt");
    snn_net_free(a);
    snn_spec_free(s);

    const char *ov[] = {"populations.exc.size=301"};
    snn_err err;
    assert_int_equal(snn_cfg_load_string(NET, "state.cfg", ov, 1, &s, &err), SNN_OK);
    snn_net *b = build(s, 1);
    assert_int_equal(restore(b, "test_state_other.ckpt", &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "pops/exc"));
    assert_non_null(strstr(err.msg, "test_state_other.ckpt"));
    snn_net_free(b);
    snn_spec_free(s);
    unlink("test_state_other.ckpt");
}

/* Files that are not checkpoints: missing, not HDF5, an HDF5 result file. */
static void test_not_a_checkpoint(void **state)
{
    (void)state;
    snn_ckpt *c = NULL;
    snn_err err;
    assert_int_equal(snn_ckpt_open(&c, "no_such_file.ckpt", &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "no_such_file.ckpt"));
    FILE *f = fopen("test_state_text.ckpt", "w");
    fputs("hello\n", f);
    fclose(f);
    assert_int_equal(snn_ckpt_open(&c, "test_state_text.ckpt", &err), SNN_EIO);
    unlink("test_state_text.ckpt");
    snn_h5 *h = NULL;
    assert_int_equal(snn_h5_create(&h, "test_state_result.h5", 0, &err), SNN_OK);
    assert_int_equal(snn_h5_close(h, 1, &err), SNN_OK);
    assert_int_equal(snn_ckpt_open(&c, "test_state_result.h5", &err), SNN_EIO);
    assert_non_null(strstr(err.msg, "not an snn checkpoint"));
    unlink("test_state_result.h5");
    assert_null(c);
}

/* An abandoned checkpoint leaves nothing behind; a committed one replaces
   the old file only when complete. */
static void test_atomic(void **state)
{
    (void)state;
    snn_ckpt *c = NULL;
    snn_err err;
    assert_int_equal(snn_ckpt_create(&c, "test_state_atomic.ckpt", &err), SNN_OK);
    assert_int_equal(snn_ckpt_put_str(c, "config", "x = 1;", &err), SNN_OK);
    assert_int_equal(access("test_state_atomic.ckpt", F_OK), -1);
    assert_int_equal(snn_ckpt_close(c, 0, &err), SNN_OK);
    assert_int_equal(access("test_state_atomic.ckpt", F_OK), -1);
    assert_int_equal(access("test_state_atomic.ckpt.tmp", F_OK), -1);

    assert_int_equal(snn_ckpt_create(&c, "test_state_atomic.ckpt", &err), SNN_OK);
    assert_int_equal(snn_ckpt_put_str(c, "config", "x = 2;", &err), SNN_OK);
    assert_int_equal(snn_ckpt_close(c, 1, &err), SNN_OK);
    assert_int_equal(snn_ckpt_open(&c, "test_state_atomic.ckpt", &err), SNN_OK);
    char *text = NULL;
    assert_int_equal(snn_ckpt_get_str(c, "config", &text, &err), SNN_OK);
    assert_string_equal(text, "x = 2;");
    assert_true(snn_ckpt_has(c, "config"));
    assert_false(snn_ckpt_has(c, "nothing"));
    free(text);
    snn_ckpt_close(c, 0, NULL);
    unlink("test_state_atomic.ckpt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_same_threads),
        cmocka_unit_test(test_resume_other_threads),
        cmocka_unit_test(test_other_network),
        cmocka_unit_test(test_not_a_checkpoint),
        cmocka_unit_test(test_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
