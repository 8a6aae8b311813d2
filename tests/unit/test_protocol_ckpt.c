/*
 * tests/unit/test_protocol_ckpt.c: checkpoints of the phases
 * (sim/protocol.h: opts->checkpoint, snn_protocol_ckpt_save, opts->resume).
 *
 * A toy network (Poisson pixels -> 5 LIF neurons, pair STDP) learns on a
 * synthetic three-class dataset with emergence snapshots and a probe, then
 * two frozen phases are voted on.  The checkpoint items go to an in-memory
 * item store (the snn_state_io interface, no files).  A run stopped after
 * sample 5 of the plastic phase, or in the middle of a frozen phase, writes
 * one checkpoint at the right position (a frozen phase on per-thread copies
 * is abandoned: its checkpoint is at its start; one on the network itself
 * is finished: the checkpoint is at the next phase), returns SNN_EINTR, and a run resumed from it
 * on another thread count ends with the same weights, membrane state, step,
 * spike counters, features, boosts and vote as a run that never stopped,
 * and with bit-identical protocol items (snapshot samples and probe counts
 * included) in the checkpoint at the last phase boundary.  Periodic
 * checkpoints fall every K plastic samples and at phase boundaries.  A
 * checkpoint that does not fit the run is a parameter error.
 */
#include "../support.h"

#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "rules/rule.h"
#include "sim/protocol.h"
#include "tests/toy.h"
#include "sim/state.h"

#define ROWS 3
#define COLS 4
#define NPIX (ROWS * COLS)

/* ---- an in-memory item store ---------------------------------------------- */

typedef struct mitem {
    char name[128];
    snn_st_type type;
    size_t n;
    unsigned char *v;
} mitem;

typedef struct mstore {
    mitem it[256];
    size_t n;
} mstore;

static size_t tsize(snn_st_type t)
{
    return t == SNN_ST_F64 || t == SNN_ST_U64 ? 8 : t == SNN_ST_U8 ? 1 : 4;
}

static mitem *find(mstore *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->it[i].name, name) == 0)
            return &m->it[i];
    return NULL;
}

static int m_put(void *ud, const char *name, snn_st_type type, const void *v, size_t n,
                 snn_err *err)
{
    (void)err;
    mstore *m = ud;
    mitem *it = find(m, name);
    if (!it) {
        assert_true(m->n < 256);
        it = &m->it[m->n++];
        it->v = NULL;
        snprintf(it->name, sizeof it->name, "%s", name);
    }
    free(it->v);
    it->type = type;
    it->n = n;
    it->v = malloc(n * tsize(type) + 1);
    memcpy(it->v, v, n * tsize(type));
    return SNN_OK;
}

static int m_get(void *ud, const char *name, snn_st_type type, void *v, size_t n, snn_err *err)
{
    mitem *it = find(ud, name);
    if (!it)
        SNN_FAIL(err, SNN_ECFG, "no item '%s'", name);
    if (it->type != type || it->n != n)
        SNN_FAIL(err, SNN_ECFG, "item '%s' has %zu values, want %zu", name, it->n, n);
    memcpy(v, it->v, n * tsize(type));
    return SNN_OK;
}

static int m_len(void *ud, const char *name, size_t *n, snn_err *err)
{
    mitem *it = find(ud, name);
    if (!it)
        SNN_FAIL(err, SNN_ECFG, "no item '%s'", name);
    *n = it->n;
    return SNN_OK;
}

static snn_state_io m_io(mstore *m)
{
    return (snn_state_io){.put = m_put, .get = m_get, .len = m_len, .ud = m};
}

static void m_clear(mstore *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->it[i].v);
    m->n = 0;
}

/* ---- the toy run -------------------------------------------------------------- */

static snn_dataset *toy(size_t n, unsigned seed)
{
    return toy_bars(n, 7, seed);
}

static void free_toy(snn_dataset *d)
{
    snn_dataset_free(d);
}

static snn_phase_spec *add_phase(snn_spec *s, const char *name, int split, size_t samples,
                                 uint64_t seed, bool plastic)
{
    snn_phase_spec *ph = &s->phases[s->n_phases++];
    snprintf(ph->name, sizeof ph->name, "%s", name);
    ph->split = split;
    ph->samples = samples;
    ph->shuffle_seed = seed;
    ph->plastic = plastic;
    ph->n_features = 1;
    ph->features = malloc(sizeof(uint32_t));
    ph->features[0] = 1;
    snprintf(ph->where.file, sizeof ph->where.file, "toy.cfg");
    ph->where.line = 7;
    return ph;
}

/* learn (plastic, 8 shuffled samples, snapshots every 3 with a probe of 4
   test images), assign (frozen, 12), test (frozen, 7); vote on exc. */
static snn_spec *toy_spec(void)
{
    snn_spec *s = fx_spec(0.5, 1, 3);
    uint32_t in = fx_pop(s, "pix", "poisson", NPIX);
    uint32_t e = fx_pop(s, "exc", "lif", 5);
    fx_par(s, e, "I_e", 450.0);
    snn_proj_spec *pj = fx_proj(s, in, e, SNN_CONN_ALL_TO_ALL, 0.5, 0.5);
    pj->rule = snn_rule_find("stdp_pair");
    pj->rule_par = malloc(pj->rule->n_params * sizeof(double));
    for (size_t k = 0; k < pj->rule->n_params; k++)
        pj->rule_par[k] = pj->rule->params[k].def;
    s->stim = (snn_stim_spec){.input = in, .max_rate_hz = 200.0, .intensity = 1.0,
                              .present_ms = 40.0, .rest_ms = 10.0, .watch = -1};
    s->phases = calloc(3, sizeof *s->phases);
    snn_phase_spec *learn = add_phase(s, "learn", 0, 8, 3, true);
    learn->snapshot_every = 3;
    learn->probe = 4;
    learn->probe_split = 1;
    add_phase(s, "assign", 0, 12, 0, false);
    add_phase(s, "test", 1, 7, 0, false);
    s->eval = (snn_eval_spec){.vote = true, .pop = e, .assign_phase = 1, .test_phase = 2};
    return s;
}

typedef struct run_out {
    snn_protocol_result res;
    double w[NPIX * 5];
    double v[5];
    size_t step;
    uint64_t spikes[2];
} run_out;

/* The checkpoint callback's state: stop at (stop_phase, stop_done) from the
   progress callback; every checkpoint (network + protocol items) goes to
   `store`, its positions to pos[]. */
typedef struct ctl {
    volatile sig_atomic_t stop;
    size_t stop_phase, stop_done;
    const snn_net *net;
    mstore store;
    size_t n_ckpt, pos[32][2], step_at[32];
} ctl;

static void on_progress(void *ud, size_t phase, size_t done, size_t total)
{
    (void)total;
    ctl *c = ud;
    if (phase == c->stop_phase && done == c->stop_done)
        c->stop = 1;
}

static int on_ckpt(void *ud, const snn_protocol_ckpt *pc, snn_err *err)
{
    ctl *c = ud;
    m_clear(&c->store);
    snn_state_io io = m_io(&c->store);
    int rc = snn_net_state_save(c->net, &io, err);
    if (!rc)
        rc = snn_protocol_ckpt_save(pc, &io, err);
    assert_true(c->n_ckpt < 32);
    snn_protocol_ckpt_pos(pc, &c->pos[c->n_ckpt][0], &c->pos[c->n_ckpt][1]);
    c->step_at[c->n_ckpt++] = c->net->step;
    return rc;
}

/* Run the toy spec on `threads`; with `resume`, from that store (network
   state and protocol items).  Returns the protocol's status. */
static int run(snn_spec *s, const snn_dataset *const split[2], int threads, ctl *c,
               size_t every, mstore *resume, run_out *out, snn_err *err)
{
    snn_net *net = NULL;
    if (snn_net_build(&net, s, threads, err))
        fail_msg("%s", err->msg);
    snn_state_io rio;
    if (resume) {
        rio = m_io(resume);
        if (snn_net_state_load(net, &rio, err))
            fail_msg("%s", err->msg);
    }
    c->net = net;
    snn_protocol_opts opts = {.progress = on_progress, .ud = c, .stop = &c->stop,
                              .keep_features = true, .checkpoint = on_ckpt, .ckpt_ud = c,
                              .ckpt_every = every, .resume = resume ? &rio : NULL};
    memset(out, 0, sizeof *out);
    int rc = snn_protocol_run(net, split, NULL, NULL, &opts, &out->res, err);
    snn_net_weights(&net->projs[0], out->w, NULL, NULL);
    memcpy(out->v, net->pops[1].x[0], sizeof out->v);
    out->step = net->step;
    out->spikes[0] = net->spike_count[0];
    out->spikes[1] = net->spike_count[1];
    snn_net_free(net);
    return rc;
}

static void assert_same_run(const run_out *a, const run_out *b)
{
    assert_int_equal(a->step, b->step);
    assert_memory_equal(a->w, b->w, sizeof a->w);
    assert_memory_equal(a->v, b->v, sizeof a->v);
    assert_memory_equal(a->spikes, b->spikes, sizeof a->spikes);
    assert_memory_equal(a->res.boosts, b->res.boosts, sizeof a->res.boosts);
    assert_true(a->res.evaluated && b->res.evaluated);
    assert_memory_equal(&a->res.accuracy, &b->res.accuracy, sizeof(double));
    assert_memory_equal(a->res.confusion, b->res.confusion, sizeof a->res.confusion);
    assert_int_equal(a->res.n_phases, b->res.n_phases);
    for (size_t f = 0; f < a->res.n_phases; f++) {
        const snn_phase_features *x = &a->res.features[f], *y = &b->res.features[f];
        assert_int_equal(x->n, y->n);
        assert_int_equal(x->cols, y->cols);
        assert_memory_equal(x->labels, y->labels, x->n * sizeof *x->labels);
        assert_memory_equal(x->indices, y->indices, x->n * sizeof *x->indices);
        assert_memory_equal(x->counts, y->counts, x->n * x->cols * sizeof *x->counts);
    }
}

/* The protocol items of two stores are identical (wall-clock rates aside). */
static void assert_same_items(mstore *a, mstore *b)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++) {
        const mitem *x = &a->it[i];
        if (strncmp(x->name, "protocol/", 9) != 0 || strcmp(x->name, "protocol/samples_per_s") == 0)
            continue;
        const mitem *y = find(b, x->name);
        if (!y)
            fail_msg("item %s missing", x->name);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->n, y->n);
        assert_memory_equal(x->v, y->v, x->n * tsize(x->type));
        n++;
    }
    for (size_t i = 0; i < b->n; i++)
        if (strncmp(b->it[i].name, "protocol/", 9) == 0)
            n -= strcmp(b->it[i].name, "protocol/samples_per_s") != 0;
    assert_int_equal(n, 0);
}

typedef struct fixture {
    snn_spec *s;
    snn_dataset *train, *test;
    const snn_dataset *split[2];
    run_out ref;
    ctl ref_ctl;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    fx->s = toy_spec();
    fx->train = toy(20, 0);
    fx->test = toy(7, 1);
    fx->split[0] = fx->train;
    fx->split[1] = fx->test;
    /* The reference: 1 thread, checkpoints at the phase boundaries only
       (the last one holds the protocol items at the end). */
    fx->ref_ctl.stop_phase = SIZE_MAX;
    snn_err err;
    if (run(fx->s, fx->split, 1, &fx->ref_ctl, 1000, NULL, &fx->ref, &err))
        fail_msg("%s", err.msg);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    snn_protocol_result_free(&fx->ref.res);
    m_clear(&fx->ref_ctl.store);
    snn_spec_free(fx->s);
    free_toy(fx->train);
    free_toy(fx->test);
    free(fx);
    return 0;
}

/* Run spec s, stop at (phase, done) on `t1` threads, resume on `t2`;
   expect the checkpoint at (at_phase, at) and the reference's results. */
static void stop_and_resume(fixture *fx, snn_spec *s, size_t phase, size_t done,
                            size_t at_phase, size_t at, int t1, int t2)
{
    ctl *c = calloc(1, sizeof *c), *c2 = calloc(1, sizeof *c2);
    c->stop_phase = phase;
    c->stop_done = done;
    run_out *o = calloc(2, sizeof *o);
    snn_err err;
    snn_err_clear(&err);
    assert_int_equal(run(s, fx->split, t1, c, 0, NULL, &o[0], &err), SNN_EINTR);
    assert_non_null(strstr(err.msg, "interrupted in phase"));
    /* One checkpoint, on the stop, at the expected position. */
    assert_int_equal(c->n_ckpt, 1);
    assert_int_equal(c->pos[0][0], at_phase);
    assert_int_equal(c->pos[0][1], at);
    snn_protocol_result_free(&o[0].res);
    c2->stop_phase = SIZE_MAX;
    if (run(s, fx->split, t2, c2, 1000, &c->store, &o[1], &err))
        fail_msg("%s", err.msg);
    assert_same_run(&fx->ref, &o[1]);
    /* The last checkpoint (after all phases) holds the same items. */
    assert_true(c2->n_ckpt >= 1);
    assert_int_equal(c2->pos[c2->n_ckpt - 1][0], 3);
    assert_same_items(&fx->ref_ctl.store, &c2->store);
    snn_protocol_result_free(&o[1].res);
    m_clear(&c->store);
    m_clear(&c2->store);
    free(o);
    free(c);
    free(c2);
}

/* Stopped after sample 5 of 8 of the plastic phase (between snapshots
   3 and 6): 2 threads, resumed on 3. */
static void test_stop_learning(void **state)
{
    fixture *fx = *state;
    stop_and_resume(fx, fx->s, 0, 5, 0, 5, 2, 3);
}

/* Stopped in the middle of the frozen phase 'assign' (sample 4 of 12 done):
   the phase is abandoned, the checkpoint is at its start; 1 thread, resumed
   on 2. */
static void test_stop_frozen(void **state)
{
    fixture *fx = *state;
    stop_and_resume(fx, fx->s, 1, 4, 1, 0, 1, 2);
}

/* With a current input (0 pA: the same results) frozen phases run on the
   network itself, which a stop cannot abandon: 'assign' is finished, the
   checkpoint is at the start of 'test'. */
static void test_stop_frozen_sequential(void **state)
{
    fixture *fx = *state;
    snn_spec *s = toy_spec();
    s->currents = calloc(1, sizeof *s->currents);
    s->n_currents = 1;
    snn_current_spec *cs = &s->currents[0];
    cs->target = 1;
    cs->n_changes = 1;
    cs->t_ms = malloc(sizeof(double));
    cs->amp_pA = malloc(sizeof(double));
    cs->t_ms[0] = 10.0;
    cs->amp_pA[0] = 0.0;
    stop_and_resume(fx, s, 1, 4, 2, 0, 2, 1);
    snn_spec_free(s);
}

/* Periodic checkpoints: every 3 plastic samples (3 and 6 of 8) and at the
   three phase boundaries, each with the network at that sample's step
   (samples of 50 ms at 0.5 ms: 100 steps); and they change nothing. */
static void test_periodic(void **state)
{
    fixture *fx = *state;
    ctl *c = calloc(1, sizeof *c);
    c->stop_phase = SIZE_MAX;
    run_out o;
    snn_err err;
    if (run(fx->s, fx->split, 2, c, 3, NULL, &o, &err))
        fail_msg("%s", err.msg);
    assert_same_run(&fx->ref, &o);
    const size_t want[5][3] = {{0, 3, 300}, {0, 6, 600}, {1, 0, 800}, {2, 0, 2000},
                               {3, 0, 2700}};
    assert_int_equal(c->n_ckpt, 5);
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(c->pos[k][0], want[k][0]);
        assert_int_equal(c->pos[k][1], want[k][1]);
        assert_int_equal(c->step_at[k], want[k][2]);
    }
    assert_same_items(&fx->ref_ctl.store, &c->store);
    snn_protocol_result_free(&o.res);
    m_clear(&c->store);
    free(c);
}

/* A checkpoint of a run with other phases, or past a phase's samples, is a
   parameter error. */
static void test_bad_position(void **state)
{
    fixture *fx = *state;
    ctl *c = calloc(1, sizeof *c), *c2 = calloc(1, sizeof *c2);
    c->stop_phase = 0;
    c->stop_done = 2;
    run_out o;
    snn_err err;
    assert_int_equal(run(fx->s, fx->split, 1, c, 0, NULL, &o, &err), SNN_EINTR);
    snn_protocol_result_free(&o.res);
    uint64_t *pos = (uint64_t *)find(&c->store, "protocol/pos")->v;
    c2->stop_phase = SIZE_MAX;
    pos[0] = 4; /* phases */
    assert_int_equal(run(fx->s, fx->split, 1, c2, 0, &c->store, &o, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "protocol position"));
    snn_protocol_result_free(&o.res);
    pos[0] = 3;
    pos[2] = 8; /* samples done = the phase's samples */
    assert_int_equal(run(fx->s, fx->split, 1, c2, 0, &c->store, &o, &err), SNN_ECFG);
    snn_protocol_result_free(&o.res);
    m_clear(&c->store);
    m_clear(&c2->store);
    free(c);
    free(c2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_learning),
        cmocka_unit_test(test_stop_frozen),
        cmocka_unit_test(test_stop_frozen_sequential),
        cmocka_unit_test(test_periodic),
        cmocka_unit_test(test_bad_position),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
