/*
 * tests/unit/test_phase_off.c: projections switched off or scaled per phase
 * (phases[].off and phases[].gain, sim/protocol.h "Projections switched
 * off").
 *
 * Toy: 12 Poisson pixels (three bars of four pixels, 200 Hz) -> A (3 LIF
 * neurons, all to all, "pa") -> B (3 LIF neurons, one to one, "ab", strong
 * enough that B fires with A).  B's only input is "ab", and nothing feeds
 * back into A, so A's spikes do not depend on "ab" at all.  Phases: learn
 * (plastic, both projections with pair STDP, "ab" also normalised), quiet
 * (frozen), loud (frozen).
 *   - "ab" off in learn and quiet: B is silent there and fires in loud; A's
 *     counts are those of the run without `off`; "ab"'s weights are exactly
 *     the initial ones (neither STDP nor normalisation touched them) while
 *     the run without `off` changes them; "pa" learns the same either way.
 *   - "ab" off in every phase: "ab" counts no event and B never fires.
 *   - features, weights and event counters are bit-identical for 1, 2 and
 *     3 threads (frozen phases run on per-thread copies of the network);
 *   - a run stopped in the middle of the switched-off frozen phase (or in
 *     the plastic one) and resumed from its checkpoint on another thread
 *     count ends exactly as the uninterrupted run: the flag follows from
 *     the phase and is not saved;
 *   - parameter files: off = ["ab"] parses to the projection index; an
 *     unknown name is a file:line error with the nearest valid name; a name
 *     listed twice and a non-list are errors; perturbed copies of a test
 *     phase (robustness) get their own copy of the list.
 * Gains ("ab" kept out of learning by `off`, so its weights stay W_AB):
 *   - gain 0.5 on "ab" in the frozen phases gives, bit for bit, the
 *     features of the run whose "ab" was built with weight W_AB / 2 (a
 *     power of two: the products are exact), and B fires less than at 1;
 *   - gain 0: B is silent, but "ab" still counts its events (unlike off);
 *   - the dense "pa" at gain 0.5 in loud: A fires less; at 0 not at all;
 *   - a gain in one frozen phase (quiet) leaves the learning phase, the
 *     weights and the next phase (loud) exactly as without it;
 *   - 1, 2 and 3 threads and a stop/resume in the scaled phase agree bit
 *     for bit; gain = { ab = 0.5; } parses (integers too), reloads from
 *     the resolved file, is copied into perturbed phases; an unknown
 *     projection (with the nearest name), a negative factor and a
 *     non-group are file:line errors.
 */
#include "../support.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "io/cfg.h"
#include "rules/rule.h"
#include "sim/protocol.h"
#include "sim/state.h"
#include "tests/toy.h"

#define NPIX TOY_NPIX
#define NA 3
#define NB 3
#define W_AB 2000.0 /* pA: one A spike makes its B partner fire */
#define NORM_AB 1500.0
#define N_TRAIN 12

enum { POP_PIX, POP_A, POP_B };
enum { PJ_PA, PJ_AB };
enum { PH_LEARN, PH_QUIET, PH_LOUD, N_PH };

static void plastic_proj(snn_proj_spec *pj)
{
    pj->rule = snn_rule_find("stdp_pair");
    assert_non_null(pj->rule);
    pj->rule_par = malloc(pj->rule->n_params * sizeof(double));
    for (size_t k = 0; k < pj->rule->n_params; k++)
        pj->rule_par[k] = pj->rule->params[k].def;
    int lo = snn_rule_param_index(pj->rule, "w_min"), hi = snn_rule_param_index(pj->rule, "w_max");
    int ap = snn_rule_param_index(pj->rule, "A_plus");
    int am = snn_rule_param_index(pj->rule, "A_minus");
    assert_true(lo >= 0 && hi >= 0 && ap >= 0 && am >= 0);
    pj->rule_par[lo] = 0.0;
    pj->rule_par[hi] = 1e4;
    pj->rule_par[ap] = 20.0;
    pj->rule_par[am] = 21.0;
}

static void add_phase(snn_spec *s, const char *name, int split, size_t n, bool plastic, bool off,
                      uint32_t gain_proj, double gain)
{
    snn_phase_spec *ph = &s->phases[s->n_phases++];
    snprintf(ph->name, sizeof ph->name, "%s", name);
    ph->split = split;
    ph->samples = n;
    ph->shuffle_seed = plastic ? 5 : 0;
    ph->plastic = plastic;
    ph->n_features = 2;
    ph->features = malloc(2 * sizeof *ph->features);
    ph->features[0] = POP_A;
    ph->features[1] = POP_B;
    if (off) {
        ph->n_off = 1;
        ph->off = malloc(sizeof *ph->off);
        ph->off[0] = PJ_AB;
    }
    if (gain != 1.0) {
        ph->n_gain = 1;
        ph->gain_proj = malloc(sizeof *ph->gain_proj);
        ph->gain = malloc(sizeof *ph->gain);
        ph->gain_proj[0] = gain_proj;
        ph->gain[0] = gain;
    }
    snprintf(ph->where.file, sizeof ph->where.file, "toy.cfg");
    ph->where.line = 9;
}

/* off_mask bit f: "ab" is off in phase f; gain_mask bit f: projection gp
   delivers with factor `gain` in phase f; "ab" is built with weight w_ab. */
static snn_spec *toy_spec_gain(unsigned off_mask, uint32_t gp, unsigned gain_mask, double gain,
                               double w_ab)
{
    snn_spec *s = fx_spec(0.5, 1, 11);
    assert_int_equal(fx_pop(s, "pix", "poisson", NPIX), POP_PIX);
    assert_int_equal(fx_pop(s, "A", "lif", NA), POP_A);
    assert_int_equal(fx_pop(s, "B", "lif", NB), POP_B);
    snn_proj_spec *pa = fx_proj(s, POP_PIX, POP_A, SNN_CONN_ALL_TO_ALL, 0.0, 0.5);
    pa->weight = (snn_dist){.kind = SNN_DIST_UNIFORM, .a = 200.0, .b = 900.0};
    plastic_proj(pa);
    snn_proj_spec *ab = fx_proj(s, POP_A, POP_B, SNN_CONN_ONE_TO_ONE, w_ab, 0.5);
    plastic_proj(ab);
    ab->normalize = NORM_AB; /* would rescale 2000 -> 1500 after every learning sample */
    s->stim = (snn_stim_spec){.input = POP_PIX, .max_rate_hz = 200.0, .intensity = 1.0,
                              .present_ms = 40.0, .rest_ms = 20.0, .watch = -1};
    s->phases = calloc(N_PH, sizeof *s->phases);
    add_phase(s, "learn", 0, 6, true, off_mask & 1u << PH_LEARN, gp,
              gain_mask & 1u << PH_LEARN ? gain : 1.0);
    add_phase(s, "quiet", 0, N_TRAIN, false, off_mask & 1u << PH_QUIET, gp,
              gain_mask & 1u << PH_QUIET ? gain : 1.0);
    add_phase(s, "loud", 1, 7, false, off_mask & 1u << PH_LOUD, gp,
              gain_mask & 1u << PH_LOUD ? gain : 1.0);
    return s;
}

static snn_spec *toy_spec(unsigned off_mask)
{
    return toy_spec_gain(off_mask, PJ_AB, 0, 1.0, W_AB);
}

/* ---- an in-memory checkpoint store (snn_state_io) ------------------------------ */

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

/* ---- running it ---------------------------------------------------------------- */

typedef struct ctl {
    volatile sig_atomic_t stop;
    size_t stop_phase, stop_done;
    const snn_net *net;
    mstore store;
    size_t n_ckpt, pos[2];
} ctl;

static void on_progress(void *ud, size_t phase, size_t done, size_t total)
{
    (void)total;
    ctl *c = ud;
    if (phase == c->stop_phase && done == c->stop_done)
        c->stop = 1;
}

/* Keeps the last checkpoint only (the one an interrupted run writes). */
static int on_ckpt(void *ud, const snn_protocol_ckpt *pc, snn_err *err)
{
    ctl *c = ud;
    m_clear(&c->store);
    snn_state_io io = m_io(&c->store);
    int rc = snn_net_state_save(c->net, &io, err);
    if (!rc)
        rc = snn_protocol_ckpt_save(pc, &io, err);
    snn_protocol_ckpt_pos(pc, &c->pos[0], &c->pos[1]);
    c->n_ckpt++;
    return rc;
}

typedef struct run_out {
    snn_protocol_result res;
    double w0[2][NPIX * NA], w1[2][NPIX * NA];
    uint64_t spikes[3];
    uint64_t events[2];
    size_t step;
} run_out;

static uint64_t events(const snn_proj *pj)
{
    uint64_t e = 0;
    for (size_t t = 0; t < pj->n_parts; t++)
        e += pj->parts[t].events;
    return e;
}

/* Runs s on `threads`; with c, stops where c says and checkpoints into c;
   with `resume`, starts from that store.  Returns the protocol's status. */
static int run(const snn_spec *s, const snn_dataset *const split[2], int threads, ctl *c,
               mstore *resume, run_out *o)
{
    snn_net *net = NULL;
    snn_err err;
    snn_err_clear(&err);
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("%s", err.msg);
    memset(o, 0, sizeof *o);
    for (int j = 0; j < 2; j++)
        snn_net_weights(&net->projs[j], o->w0[j], NULL, NULL);
    snn_state_io rio;
    if (resume) {
        rio = m_io(resume);
        if (snn_net_state_load(net, &rio, &err))
            fail_msg("%s", err.msg);
    }
    snn_protocol_opts opts = {.keep_features = true};
    if (c) {
        c->net = net;
        opts.progress = on_progress;
        opts.ud = c;
        opts.stop = &c->stop;
        opts.checkpoint = on_ckpt;
        opts.ckpt_ud = c;
    }
    opts.resume = resume ? &rio : NULL;
    int rc = snn_protocol_run(net, split, NULL, NULL, &opts, &o->res, &err);
    if (rc && rc != SNN_EINTR)
        fail_msg("%s", err.msg);
    for (int j = 0; j < 2; j++) {
        snn_net_weights(&net->projs[j], o->w1[j], NULL, NULL);
        o->events[j] = events(&net->projs[j]);
        assert_false(net->projs[j].off); /* cleared when the protocol ends */
        assert_true(net->projs[j].gain == 1.0);
    }
    for (int i = 0; i < 3; i++)
        o->spikes[i] = net->spike_count[i];
    o->step = net->step;
    snn_net_free(net);
    return rc;
}

/* Sum of population pop's counts (column offset col, n neurons) in phase f. */
static uint64_t phase_sum(const run_out *o, size_t f, size_t col, size_t n)
{
    const snn_phase_features *pf = &o->res.features[f];
    uint64_t t = 0;
    for (size_t s = 0; s < pf->n; s++)
        for (size_t j = 0; j < n; j++)
            t += pf->counts[s * pf->cols + col + j];
    return t;
}

static void assert_same(const run_out *a, const run_out *b)
{
    assert_int_equal(a->step, b->step);
    assert_memory_equal(a->w1, b->w1, sizeof a->w1);
    assert_memory_equal(a->spikes, b->spikes, sizeof a->spikes);
    assert_memory_equal(a->events, b->events, sizeof a->events);
    assert_int_equal(a->res.n_phases, b->res.n_phases);
    for (size_t f = 0; f < a->res.n_phases; f++) {
        const snn_phase_features *x = &a->res.features[f], *y = &b->res.features[f];
        assert_int_equal(x->n, y->n);
        assert_int_equal(x->cols, y->cols);
        assert_memory_equal(x->counts, y->counts, x->n * x->cols * sizeof *x->counts);
    }
}

typedef struct fixture {
    snn_dataset *train, *test;
    const snn_dataset *split[2];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    fx->train = toy_bars(N_TRAIN, 7, 0);
    fx->test = toy_bars(7, 1, 1);
    fx->split[0] = fx->train;
    fx->split[1] = fx->test;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    snn_dataset_free(fx->train);
    snn_dataset_free(fx->test);
    free(fx);
    return 0;
}

/* "ab" off in learn and quiet, against the same run without `off`. */
static void test_off_silences_and_freezes(void **state)
{
    fixture *fx = *state;
    snn_spec *s_off = toy_spec(1u << PH_LEARN | 1u << PH_QUIET), *s_on = toy_spec(0);
    run_out *o = calloc(2, sizeof *o);
    run(s_off, fx->split, 1, NULL, NULL, &o[0]);
    run(s_on, fx->split, 1, NULL, NULL, &o[1]);
    for (size_t f = 0; f < N_PH; f++) {
        uint64_t a_off = phase_sum(&o[0], f, 0, NA), a_on = phase_sum(&o[1], f, 0, NA);
        uint64_t b_off = phase_sum(&o[0], f, NA, NB), b_on = phase_sum(&o[1], f, NA, NB);
        /* A is the same population with the same input either way */
        assert_true(a_off > 0);
        assert_int_equal(a_off, a_on);
        const snn_phase_features *x = &o[0].res.features[f], *y = &o[1].res.features[f];
        for (size_t q = 0; q < x->n; q++)
            assert_memory_equal(x->counts + q * x->cols, y->counts + q * y->cols,
                                NA * sizeof *x->counts);
        /* B hears A through "ab" only */
        assert_true(b_on > 0);
        if (f == PH_LOUD)
            assert_true(b_off > 0);
        else
            assert_int_equal(b_off, 0);
    }
    /* "ab" did not learn while off: exactly the built weights, although
       STDP and normalisation change them in the run without `off` */
    for (size_t j = 0; j < NA; j++) {
        assert_true(o[0].w0[PJ_AB][j] == W_AB);
        assert_true(o[0].w1[PJ_AB][j] == W_AB);
        assert_true(o[1].w1[PJ_AB][j] != W_AB);
    }
    /* "pa" learnt, identically in both runs (its pre and post ignore "ab") */
    assert_memory_not_equal(o[0].w0[PJ_PA], o[0].w1[PJ_PA], sizeof o[0].w0[PJ_PA]);
    assert_memory_equal(o[0].w1[PJ_PA], o[1].w1[PJ_PA], sizeof o[0].w1[PJ_PA]);
    assert_int_equal(o[0].events[PJ_PA], o[1].events[PJ_PA]);
    /* one-to-one: an A spike is one event of "ab" when it is on */
    assert_int_equal(o[1].events[PJ_AB], o[1].spikes[POP_A]);
    assert_true(o[0].events[PJ_AB] > 0);
    assert_true(o[0].events[PJ_AB] < o[1].events[PJ_AB]);
    for (int r = 0; r < 2; r++)
        snn_protocol_result_free(&o[r].res);
    free(o);
    snn_spec_free(s_off);
    snn_spec_free(s_on);
}

/* Off in every phase: not one event through "ab", B never fires. */
static void test_off_everywhere(void **state)
{
    fixture *fx = *state;
    snn_spec *s = toy_spec(1u << PH_LEARN | 1u << PH_QUIET | 1u << PH_LOUD);
    run_out *o = calloc(1, sizeof *o);
    run(s, fx->split, 2, NULL, NULL, o);
    assert_int_equal(o->events[PJ_AB], 0);
    assert_int_equal(o->spikes[POP_B], 0);
    assert_true(o->spikes[POP_A] > 0);
    assert_true(o->events[PJ_PA] > 0);
    assert_memory_equal(o->w0[PJ_AB], o->w1[PJ_AB], sizeof o->w0[PJ_AB]);
    snn_protocol_result_free(&o->res);
    free(o);
    snn_spec_free(s);
}

/* Bit-identical features, weights and counters for 1, 2 and 3 threads. */
static void test_threads(void **state)
{
    fixture *fx = *state;
    snn_spec *s = toy_spec(1u << PH_QUIET | 1u << PH_LOUD);
    run_out *o = calloc(3, sizeof *o);
    for (int t = 0; t < 3; t++)
        run(s, fx->split, t + 1, NULL, NULL, &o[t]);
    assert_int_equal(phase_sum(&o[0], PH_QUIET, NA, NB), 0);
    assert_true(phase_sum(&o[0], PH_LEARN, NA, NB) > 0);
    for (int t = 1; t < 3; t++)
        assert_same(&o[0], &o[t]);
    for (int t = 0; t < 3; t++)
        snn_protocol_result_free(&o[t].res);
    free(o);
    snn_spec_free(s);
}

/* Stopped (phase, done) on t1 threads, checkpoint at (at_phase, at), resumed
   on t2: the uninterrupted run's results. */
static void stop_resume(const fixture *fx, const snn_spec *s, size_t phase, size_t done,
                        size_t at_phase, size_t at, int t1, int t2)
{
    run_out *o = calloc(3, sizeof *o);
    run(s, fx->split, 1, NULL, NULL, &o[0]);
    ctl *c = calloc(1, sizeof *c);
    c->stop_phase = phase;
    c->stop_done = done;
    assert_int_equal(run(s, fx->split, t1, c, NULL, &o[1]), SNN_EINTR);
    assert_true(c->n_ckpt >= 1);
    assert_int_equal(c->pos[0], at_phase);
    assert_int_equal(c->pos[1], at);
    ctl *c2 = calloc(1, sizeof *c2);
    c2->stop_phase = SIZE_MAX;
    assert_int_equal(run(s, fx->split, t2, c2, &c->store, &o[2]), SNN_OK);
    assert_same(&o[0], &o[2]);
    for (int r = 0; r < 3; r++)
        snn_protocol_result_free(&o[r].res);
    m_clear(&c->store);
    m_clear(&c2->store);
    free(c);
    free(c2);
    free(o);
}

static void test_resume(void **state)
{
    fixture *fx = *state;
    snn_spec *s = toy_spec(1u << PH_LEARN | 1u << PH_QUIET);
    /* in the switched-off plastic phase: checkpoint after sample 3 */
    stop_resume(fx, s, PH_LEARN, 3, PH_LEARN, 3, 2, 1);
    /* in the switched-off frozen phase on copies: abandoned, redone */
    stop_resume(fx, s, PH_QUIET, 4, PH_QUIET, 0, 1, 2);
    snn_spec_free(s);
}

/* ---- gains ------------------------------------------------------------------------ */

static void assert_phase_same(const run_out *a, const run_out *b, size_t f)
{
    const snn_phase_features *x = &a->res.features[f], *y = &b->res.features[f];
    assert_int_equal(x->n, y->n);
    assert_int_equal(x->cols, y->cols);
    assert_memory_equal(x->counts, y->counts, x->n * x->cols * sizeof *x->counts);
}

/* Gain 0.5 in the frozen phases = weight W_AB / 2; gain 0 silences B. */
static void test_gain_scales_delivery(void **state)
{
    fixture *fx = *state;
    unsigned frozen = 1u << PH_QUIET | 1u << PH_LOUD, learn_off = 1u << PH_LEARN;
    snn_spec *sp[4] = {toy_spec_gain(learn_off, PJ_AB, frozen, 0.5, W_AB),
                       toy_spec_gain(learn_off, PJ_AB, 0, 1.0, W_AB / 2),
                       toy_spec_gain(learn_off, PJ_AB, 0, 1.0, W_AB),
                       toy_spec_gain(learn_off, PJ_AB, frozen, 0.0, W_AB)};
    run_out *o = calloc(4, sizeof *o);
    for (int r = 0; r < 4; r++)
        run(sp[r], fx->split, 1, NULL, NULL, &o[r]);
    for (size_t f = 0; f < N_PH; f++) {
        assert_phase_same(&o[0], &o[1], f);
        /* A never hears "ab" */
        assert_int_equal(phase_sum(&o[0], f, 0, NA), phase_sum(&o[2], f, 0, NA));
        assert_int_equal(phase_sum(&o[3], f, 0, NA), phase_sum(&o[2], f, 0, NA));
    }
    for (size_t f = PH_QUIET; f <= PH_LOUD; f++) {
        uint64_t half = phase_sum(&o[0], f, NA, NB), full = phase_sum(&o[2], f, NA, NB);
        assert_true(full > 0);
        assert_true(half < full);
        assert_int_equal(phase_sum(&o[3], f, NA, NB), 0);
    }
    /* the weights the rule and the recorder see are not scaled */
    for (size_t j = 0; j < NA; j++)
        assert_true(o[0].w1[PJ_AB][j] == W_AB && o[3].w1[PJ_AB][j] == W_AB);
    /* a scaled projection delivers (and counts) its events, even at gain 0;
       off would not */
    assert_true(o[2].events[PJ_AB] > 0);
    assert_int_equal(o[3].events[PJ_AB], o[2].events[PJ_AB]);
    assert_int_equal(o[0].events[PJ_AB], o[2].events[PJ_AB]);
    for (int r = 0; r < 4; r++) {
        snn_protocol_result_free(&o[r].res);
        snn_spec_free(sp[r]);
    }
    free(o);
}

/* The dense "pa" scaled in loud: A (and so B) fires less at 0.5, not at
   all at 0; learn and quiet as without the gain. */
static void test_gain_dense(void **state)
{
    fixture *fx = *state;
    snn_spec *sp[3] = {toy_spec(0), toy_spec_gain(0, PJ_PA, 1u << PH_LOUD, 0.5, W_AB),
                       toy_spec_gain(0, PJ_PA, 1u << PH_LOUD, 0.0, W_AB)};
    run_out *o = calloc(3, sizeof *o);
    for (int r = 0; r < 3; r++)
        run(sp[r], fx->split, 1, NULL, NULL, &o[r]);
    for (int r = 1; r < 3; r++) {
        assert_phase_same(&o[0], &o[r], PH_LEARN);
        assert_phase_same(&o[0], &o[r], PH_QUIET);
        assert_memory_equal(o[0].w1, o[r].w1, sizeof o[0].w1);
    }
    uint64_t a1 = phase_sum(&o[0], PH_LOUD, 0, NA), a05 = phase_sum(&o[1], PH_LOUD, 0, NA);
    assert_true(a1 > 0 && a05 < a1);
    assert_int_equal(phase_sum(&o[2], PH_LOUD, 0, NA + NB), 0);
    for (int r = 0; r < 3; r++) {
        snn_protocol_result_free(&o[r].res);
        snn_spec_free(sp[r]);
    }
    free(o);
}

/* A gain in quiet only: learn, the weights and loud as without it; 1, 2, 3
   threads and a stop/resume in quiet agree. */
static void test_gain_one_phase(void **state)
{
    fixture *fx = *state;
    snn_spec *s = toy_spec_gain(0, PJ_AB, 1u << PH_QUIET, 0.25, W_AB), *s1 = toy_spec(0);
    run_out *o = calloc(4, sizeof *o);
    run(s1, fx->split, 1, NULL, NULL, &o[3]);
    for (int t = 0; t < 3; t++)
        run(s, fx->split, t + 1, NULL, NULL, &o[t]);
    for (int t = 1; t < 3; t++)
        assert_same(&o[0], &o[t]);
    assert_phase_same(&o[0], &o[3], PH_LEARN);
    assert_phase_same(&o[0], &o[3], PH_LOUD);
    assert_memory_equal(o[0].w1, o[3].w1, sizeof o[0].w1);
    assert_true(phase_sum(&o[0], PH_QUIET, NA, NB) < phase_sum(&o[3], PH_QUIET, NA, NB));
    assert_int_equal(phase_sum(&o[0], PH_QUIET, 0, NA), phase_sum(&o[3], PH_QUIET, 0, NA));
    for (int t = 0; t < 4; t++)
        snn_protocol_result_free(&o[t].res);
    free(o);
    stop_resume(fx, s, PH_QUIET, 4, PH_QUIET, 0, 1, 2);
    snn_spec_free(s);
    snn_spec_free(s1);
}

/* ---- parameter files ------------------------------------------------------------ */

#define HEAD                                                                               \
    "simulation = { dt_ms = 1.0; };\n"                                                     \
    "populations = { e = { model = \"lif\"; size = 2; }; i = { model = \"lif\"; size = 2; "  \
    "}; };\n"                                                                              \
    "inputs = { px = { model = \"poisson\"; size = 784; }; };\n"                           \
    "projections = { ie = { pre = \"i\"; post = \"e\"; receptor = \"inh\"; connector = "   \
    "\"one_to_one\"; weight = 1.0; };\n"                                                   \
    "                ei = { pre = \"e\"; post = \"i\"; connector = \"one_to_one\"; weight = " \
    "1.0; }; };\n"                                                                         \
    "data = { dataset = \"fashion_mnist\"; };\n"                                           \
    "stimulus = { input = \"px\"; };\n"

static void expect_fail(const char *text, const char *want1, const char *want2)
{
    snn_err err = {0};
    snn_spec *s = (snn_spec *)1;
    int rc = snn_cfg_load_string(text, "s.cfg", NULL, 0, &s, &err);
    if (rc != SNN_ECFG)
        fail_msg("expected SNN_ECFG, got %d (%s)", rc, err.msg);
    assert_null(s);
    if (!strstr(err.msg, want1) || (want2 && !strstr(err.msg, want2)))
        fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", err.msg, want1, want2 ? want2 : "");
}

static void test_cfg(void **state)
{
    (void)state;
    snn_err err = {0};
    snn_spec *s = NULL;
    const char *ok = HEAD "phases = ( { name = \"a\"; split = \"train\"; samples = 2; "
                          "plastic = true; },\n"
                          "  { name = \"b\"; split = \"test\"; samples = 2; off = [\"ei\", "
                          "\"ie\"]; } );\n";
    if (snn_cfg_load_string(ok, "s.cfg", NULL, 0, &s, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(s->n_phases, 2);
    assert_int_equal(s->phases[0].n_off, 0);
    assert_int_equal(s->phases[1].n_off, 2);
    assert_string_equal(s->projs[s->phases[1].off[0]].name, "ei");
    assert_string_equal(s->projs[s->phases[1].off[1]].name, "ie");
    /* the resolved parameter set states the default */
    /* the resolved parameter set states the default and reloads the same */
    assert_non_null(strstr(s->resolved, "off = [ ];"));
    assert_non_null(strstr(s->resolved, "off = [ \"ei\", \"ie\" ];"));
    snn_spec *r = NULL;
    if (snn_cfg_load_string(s->resolved, "resolved.cfg", NULL, 0, &r, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(r->phases[1].n_off, 2);
    assert_memory_equal(r->phases[1].off, s->phases[1].off, 2 * sizeof *r->phases[1].off);
    snn_spec_free(r);
    snn_spec_free(s);

    /* the perturbed copy of a test phase keeps its own copy of `off`
       (ASan: no shared or leaked list) */
    const char *rob = HEAD "phases = ( { name = \"a\"; split = \"train\"; samples = 2; "
                           "features = [\"e\"]; off = [\"ie\"]; },\n"
                           "  { name = \"b\"; split = \"test\"; samples = 2; features = "
                           "[\"e\"]; off = [\"ie\"]; } );\n"
                           "evaluate = { method = \"vote\"; population = \"e\"; assign = "
                           "\"a\"; test = \"b\"; };\n"
                           "robustness = { perturbations = [\"gauss:0.1\"]; };\n";
    if (snn_cfg_load_string(rob, "s.cfg", NULL, 0, &s, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(s->n_phases, 3);
    assert_int_equal(s->phases[2].n_off, 1);
    assert_true(s->phases[2].off != s->phases[1].off);
    assert_string_equal(s->projs[s->phases[2].off[0]].name, "ie");
    snn_spec_free(s);

    expect_fail(HEAD "phases = (\n { name = \"b\"; split = \"test\"; samples = 2;\n"
                     "   off = [\"iee\"]; } );\n",
                "s.cfg:10", "no projection is called 'iee'; did you mean 'ie'?");
    expect_fail(HEAD "phases = ( { name = \"b\"; split = \"test\"; samples = 2; off = "
                     "[\"ie\", \"ie\"]; } );\n",
                "s.cfg:8", "projection 'ie' is listed twice");
    expect_fail(HEAD "phases = ( { name = \"b\"; split = \"test\"; samples = 2; off = "
                     "\"ie\"; } );\n",
                "s.cfg:8", "off");
    expect_fail(HEAD "phases = ( { name = \"b\"; split = \"test\"; samples = 2; off = "
                     "[1]; } );\n",
                "s.cfg:8", "projection name");
}

static void test_cfg_gain(void **state)
{
    (void)state;
    snn_err err = {0};
    snn_spec *s = NULL;
    const char *ok = HEAD "phases = ( { name = \"a\"; split = \"train\"; samples = 2; "
                          "features = [\"e\"]; },\n"
                          "  { name = \"b\"; split = \"test\"; samples = 2; features = "
                          "[\"e\"]; gain = { ie = 0.25; ei = 3; }; } );\n"
                          "evaluate = { method = \"vote\"; population = \"e\"; assign = "
                          "\"a\"; test = \"b\"; };\n"
                          "robustness = { perturbations = [\"gauss:0.1\"]; };\n";
    if (snn_cfg_load_string(ok, "s.cfg", NULL, 0, &s, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(s->n_phases, 3);
    assert_int_equal(s->phases[0].n_gain, 0);
    assert_int_equal(s->phases[1].n_gain, 2);
    assert_string_equal(s->projs[s->phases[1].gain_proj[0]].name, "ie");
    assert_true(s->phases[1].gain[0] == 0.25);
    assert_string_equal(s->projs[s->phases[1].gain_proj[1]].name, "ei");
    assert_true(s->phases[1].gain[1] == 3.0);
    /* the perturbed copy of the test phase has its own copy */
    assert_int_equal(s->phases[2].n_gain, 2);
    assert_true(s->phases[2].gain != s->phases[1].gain);
    assert_true(s->phases[2].gain[0] == 0.25);
    snn_spec *r = NULL;
    if (snn_cfg_load_string(s->resolved, "resolved.cfg", NULL, 0, &r, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(r->phases[1].n_gain, 2);
    assert_memory_equal(r->phases[1].gain, s->phases[1].gain, 2 * sizeof *r->phases[1].gain);
    assert_int_equal(r->phases[0].n_gain, 0);
    snn_spec_free(r);
    snn_spec_free(s);

    expect_fail(HEAD "phases = (\n { name = \"b\"; split = \"test\"; samples = 2;\n"
                     "   gain = { iee = 0.5; }; } );\n",
                "s.cfg:10", "no projection is called 'iee'; did you mean 'ie'?");
    expect_fail(HEAD "phases = ( { name = \"b\"; split = \"test\"; samples = 2; gain = "
                     "{ ie = -0.5; }; } );\n",
                "s.cfg:8", "must be a finite number >= 0");
    expect_fail(HEAD "phases = ( { name = \"b\"; split = \"test\"; samples = 2; gain = "
                     "0.5; } );\n",
                "s.cfg:8", "gain");
    expect_fail(HEAD "phases = ( { name = \"b\"; split = \"test\"; samples = 2; gain = "
                     "{ ie = \"x\"; }; } );\n",
                "s.cfg:8", "a factor");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_off_silences_and_freezes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_off_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gain_scales_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gain_one_phase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gain_dense, setup, teardown),
        cmocka_unit_test(test_cfg),
        cmocka_unit_test(test_cfg_gain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
