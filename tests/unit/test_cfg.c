/*
 * tests/unit/test_cfg.c: parameter files -> snn_spec (io/cfg.c).
 *
 * A complete good file is checked field by field; every tests/data/bad_*.cfg
 * must fail with SNN_ECFG and a message naming "bad_x.cfg:LINE" and the
 * offending key or the suggestion; command-line overrides change, add and
 * reject values; the resolved text loads back to the same spec.  Uses the
 * real model registry (models/lif.c, lif_cond.c, poisson.c, spike_times.c)
 * and rule registry (rules/stdp_pair.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "tests/support.h"

#include "io/cfg.h"
#include "rules/rule.h"

#define DATA(f) SNN_TEST_DATA "/" f

/* Load a file; assert success. */
static snn_spec *load_ok(const char *path, const char *const *ov, size_t n_ov)
{
    snn_err err = {0};
    snn_spec *s = NULL;
    int rc = snn_cfg_load(path, ov, n_ov, &s, &err);
    if (rc != SNN_OK)
        fail_msg("loading %s failed (%d): %s", path, rc, err.msg);
    assert_non_null(s);
    return s;
}

static snn_spec *load_str_ok(const char *text, const char *name, const char *const *ov,
                             size_t n_ov)
{
    snn_err err = {0};
    snn_spec *s = NULL;
    int rc = snn_cfg_load_string(text, name, ov, n_ov, &s, &err);
    if (rc != SNN_OK)
        fail_msg("loading string '%s' failed (%d): %s", name, rc, err.msg);
    assert_non_null(s);
    return s;
}

/* The message must contain each of the NULL-terminated substrings. */
static void assert_msg(const char *msg, const char *const *want)
{
    for (size_t i = 0; want[i]; i++)
        if (!strstr(msg, want[i]))
            fail_msg("message \"%s\" lacks \"%s\"", msg, want[i]);
}

static void expect_fail_file(const char *path, const char *const *ov, size_t n_ov,
                             const char *const *want)
{
    snn_err err = {0};
    snn_spec *s = (snn_spec *)1;
    int rc = snn_cfg_load(path, ov, n_ov, &s, &err);
    if (rc != SNN_ECFG)
        fail_msg("%s: expected SNN_ECFG, got %d (%s)", path, rc, err.msg);
    assert_null(s);
    assert_int_equal(err.code, SNN_ECFG);
    assert_msg(err.msg, want);
}

static void expect_fail_str(const char *text, const char *name, const char *const *ov,
                            size_t n_ov, const char *const *want)
{
    snn_err err = {0};
    snn_spec *s = (snn_spec *)1;
    int rc = snn_cfg_load_string(text, name, ov, n_ov, &s, &err);
    if (rc != SNN_ECFG)
        fail_msg("%s: expected SNN_ECFG, got %d (%s)", name, rc, err.msg);
    assert_null(s);
    assert_msg(err.msg, want);
}

static size_t pop_index(const snn_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_pops; i++)
        if (strcmp(s->pops[i].name, name) == 0)
            return i;
    fail_msg("no population %s", name);
    return 0;
}

static double par(const snn_pop_spec *p, const char *key)
{
    int j = snn_model_param_index(p->type, key);
    if (j < 0)
        fail_msg("model %s has no parameter %s", p->type->name, key);
    return p->par[j];
}

/* Rule parameter `key` of a plastic projection. */
static double rpar(const snn_proj_spec *p, const char *key)
{
    assert_non_null(p->rule);
    for (size_t j = 0; j < p->rule->n_params; j++)
        if (strcmp(p->rule->params[j].key, key) == 0)
            return p->rule_par[j];
    fail_msg("rule %s has no parameter %s", p->rule->name, key);
    return 0;
}

/* Default of rule parameter `key`. */
static double rdef(const snn_rule_type *t, const char *key)
{
    for (size_t j = 0; j < t->n_params; j++)
        if (strcmp(t->params[j].key, key) == 0)
            return t->params[j].def;
    fail_msg("rule %s has no parameter %s", t->name, key);
    return 0;
}

static const snn_dist *init_of(const snn_pop_spec *p, const char *var)
{
    int v = snn_model_state_index(p->type, var);
    if (v < 0)
        fail_msg("model %s has no state %s", p->type->name, var);
    return &p->init[v];
}

/* ---- the good file ---------------------------------------------------------- */

static void test_good_file(void **state)
{
    snn_spec *s = load_ok(DATA("good_net.cfg"), NULL, 0);

    snn_assert_close(s->dt_ms, 0.1, 0, 0);
    snn_assert_close(s->duration_ms, 250.0, 0, 0);
    assert_int_equal(s->seed, 42);
    assert_int_equal(s->threads, 0);

    /* populations in file order (two from the @include), then spike inputs */
    const char *names[] = {"exc", "inh", "single", "ten", "ext", "stim", "one"};
    const char *models[] = {"lif", "lif_cond", "lif", "lif", "poisson", "spike_times",
                            "spike_times"};
    size_t sizes[] = {80, 20, 1, 10, 10, 2, 1};
    assert_int_equal(s->n_pops, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(s->pops[i].name, names[i]);
        assert_string_equal(s->pops[i].type->name, models[i]);
        assert_int_equal(s->pops[i].n, sizes[i]);
        assert_non_null(s->pops[i].par);
        assert_non_null(s->pops[i].init);
    }
    assert_int_equal(s->pops[0].where.line, 10);
    assert_non_null(strstr(s->pops[0].where.file, "good_net.cfg"));
    assert_int_equal(s->pops[2].where.line, 2);
    assert_string_equal(s->pops[2].where.file, DATA("good_net_inc.cfg"));

    /* parameters: given (int accepted), option index, defaults */
    const snn_pop_spec *exc = &s->pops[0], *inh = &s->pops[1], *single = &s->pops[2];
    snn_assert_close(par(exc, "tau_m"), 20.0, 0, 0);
    snn_assert_close(par(exc, "V_th"), -50.0, 0, 0);
    snn_assert_close(par(exc, "synapse"), 1.0, 0, 0); /* "delta" */
    snn_assert_close(par(exc, "C_m"), 250.0, 0, 0);
    snn_assert_close(par(&s->pops[3], "synapse"), 0.0, 0, 0); /* default "exp" */
    snn_assert_close(par(single, "I_e"), 376.0, 0, 0);
    snn_assert_close(par(single, "t_ref"), 0.0, 0, 0);
    snn_assert_close(par(inh, "g_L"), 16.7, 0, 0);
    snn_assert_close(par(&s->pops[4], "rate_hz"), 20.0, 0, 0);

    /* initial values */
    const snn_dist *d = init_of(exc, "V_m");
    assert_int_equal(d->kind, SNN_DIST_UNIFORM);
    snn_assert_close(d->a, -70.0, 0, 0);
    snn_assert_close(d->b, -55.0, 0, 0);
    assert_int_equal(init_of(exc, "I_syn_ex")->kind, SNN_DIST_NONE);
    d = init_of(inh, "V_m");
    assert_int_equal(d->kind, SNN_DIST_NORMAL);
    snn_assert_close(d->a, -60.0, 0, 0);
    snn_assert_close(d->b, 2.0, 0, 0);
    snn_assert_close(d->lo, -65.0, 0, 0);
    snn_assert_close(d->hi, -55.0, 0, 0);
    d = init_of(inh, "g_ex");
    assert_int_equal(d->kind, SNN_DIST_CONST);
    snn_assert_close(d->a, 0.5, 0, 0);
    d = init_of(&s->pops[4], "rate");
    assert_int_equal(d->kind, SNN_DIST_ARRAY);
    assert_int_equal(d->n_values, 10);
    for (size_t i = 0; i < 10; i++)
        snn_assert_close(d->values[i], (double)(i + 1), 0, 0);

    /* spike lists */
    const snn_pop_spec *stim = &s->pops[5], *one = &s->pops[6];
    assert_int_equal(stim->n_spikes, 3);
    uint32_t ids[] = {0, 1, 0};
    double ts[] = {1.0, 2.5, 2.5};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(stim->spike_ids[i], ids[i]);
        snn_assert_close(stim->spike_times_ms[i], ts[i], 0, 0);
    }
    assert_int_equal(one->n_spikes, 1);
    assert_int_equal(one->spike_ids[0], 0);
    snn_assert_close(one->spike_times_ms[0], 0.1, 0, 0);

    /* currents: pulse with neurons, step form, pulse without stop */
    assert_int_equal(s->n_currents, 3);
    const snn_current_spec *c = &s->currents[0];
    assert_string_equal(c->name, "pulse");
    assert_int_equal(c->target, 0);
    assert_int_equal(c->n_neurons, 2);
    assert_int_equal(c->neurons[0], 0);
    assert_int_equal(c->neurons[1], 1);
    assert_int_equal(c->n_changes, 2);
    snn_assert_close(c->t_ms[0], 10.0, 0, 0);
    snn_assert_close(c->amp_pA[0], 100.0, 0, 0);
    snn_assert_close(c->t_ms[1], 50.0, 0, 0);
    snn_assert_close(c->amp_pA[1], 0.0, 0, 0);
    c = &s->currents[1];
    assert_string_equal(c->name, "steps");
    assert_int_equal(c->target, 1);
    assert_int_equal(c->n_neurons, 0);
    assert_int_equal(c->n_changes, 2);
    snn_assert_close(c->t_ms[0], 0.0, 0, 0);
    snn_assert_close(c->amp_pA[0], 50.0, 0, 0);
    snn_assert_close(c->t_ms[1], 100.0, 0, 0);
    snn_assert_close(c->amp_pA[1], 0.0, 0, 0);
    c = &s->currents[2];
    assert_int_equal(c->target, 2);
    assert_int_equal(c->n_changes, 1);
    snn_assert_close(c->t_ms[0], 0.0, 0, 0);
    snn_assert_close(c->amp_pA[0], -5.0, 0, 0);

    /* projections */
    assert_int_equal(s->n_projs, 7);
    for (size_t j = 0; j < 6; j++) {
        assert_null(s->projs[j].rule); /* no plasticity group: static */
        assert_null(s->projs[j].rule_par);
    }
    const snn_proj_spec *p = &s->projs[0];
    assert_string_equal(p->name, "ee");
    assert_int_equal(p->pre, 0);
    assert_int_equal(p->post, 0);
    assert_int_equal(p->channel, 0);
    assert_int_equal(p->conn, SNN_CONN_BERNOULLI);
    snn_assert_close(p->p, 0.1, 0, 0);
    assert_false(p->autapses);
    assert_int_equal(p->weight.kind, SNN_DIST_CONST);
    snn_assert_close(p->weight.a, 0.5, 0, 0);
    assert_int_equal(p->delay_ms.kind, SNN_DIST_CONST);
    snn_assert_close(p->delay_ms.a, 1.5, 0, 0);
    assert_int_equal(p->where.line, 43);

    p = &s->projs[1];
    assert_string_equal(p->name, "ei");
    assert_int_equal(p->post, 1);
    assert_int_equal(p->channel, 0);
    assert_int_equal(p->conn, SNN_CONN_INDEGREE);
    assert_int_equal(p->k, 8);
    assert_false(p->multapses);
    assert_int_equal(p->weight.kind, SNN_DIST_NORMAL);
    snn_assert_close(p->weight.a, 1.0, 0, 0);
    snn_assert_close(p->weight.b, 0.2, 0, 0);
    snn_assert_close(p->weight.lo, 0.0, 0, 0);
    assert_true(isinf(p->weight.hi) && p->weight.hi > 0);
    assert_int_equal(p->delay_ms.kind, SNN_DIST_UNIFORM);
    snn_assert_close(p->delay_ms.a, 1.0, 0, 0);
    snn_assert_close(p->delay_ms.b, 2.0, 0, 0);

    p = &s->projs[2];
    assert_int_equal(p->pre, 1);
    assert_int_equal(p->post, 0);
    assert_int_equal(p->channel, 1);
    assert_int_equal(p->conn, SNN_CONN_ALL_TO_ALL);
    assert_int_equal(p->weight.kind, SNN_DIST_UNIFORM);
    snn_assert_close(p->weight.a, -2.0, 0, 0);
    snn_assert_close(p->weight.b, -1.0, 0, 0);
    assert_int_equal(p->delay_ms.kind, SNN_DIST_CONST);
    snn_assert_close(p->delay_ms.a, 0.1, 0, 0); /* default dt_ms */

    p = &s->projs[3];
    assert_int_equal(p->k, 30);
    assert_true(p->multapses);
    assert_true(p->autapses);
    assert_int_equal(p->channel, 1);

    p = &s->projs[4];
    assert_int_equal(p->pre, pop_index(s, "stim"));
    assert_int_equal(p->post, pop_index(s, "single"));

    p = &s->projs[5];
    assert_int_equal(p->pre, 4);
    assert_int_equal(p->post, 3);
    assert_int_equal(p->conn, SNN_CONN_ONE_TO_ONE);
    assert_true(p->weight.a == 0.123456789012345678);

    /* plasticity: given values (an int is a number), an option, defaults */
    p = &s->projs[6];
    assert_string_equal(p->name, "tt");
    const snn_rule_type *stdp = snn_rule_find("stdp_pair");
    assert_non_null(stdp);
    assert_ptr_equal(p->rule, stdp);
    assert_non_null(p->rule_par);
    snn_assert_close(rpar(p, "A_plus"), 0.5, 0, 0);
    snn_assert_close(rpar(p, "tau_plus"), 20.0, 0, 0);
    snn_assert_close(rpar(p, "pairing"), 1.0, 0, 0); /* "nearest" */
    const char *dflt[] = {"A_minus", "tau_minus", "w_min", "w_max", "mu"};
    for (size_t i = 0; i < 5; i++)
        snn_assert_close(rpar(p, dflt[i]), rdef(stdp, dflt[i]), 0, 0);
    snn_assert_close(rpar(p, "A_minus"), 0.0105, 0, 0);

    /* record */
    bool spikes[] = {true, false, false, false, true, false, false};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(s->rec_spikes[i], spikes[i]);
    assert_int_equal(s->n_rec_state, 2);
    const snn_rec_state_spec *r = &s->rec_state[0];
    assert_int_equal(r->pop, 0);
    assert_int_equal(r->n_vars, 2);
    assert_int_equal(r->vars[0], snn_model_state_index(exc->type, "V_m"));
    assert_int_equal(r->vars[1], snn_model_state_index(exc->type, "I_syn_ex"));
    assert_int_equal(r->n_neurons, 3);
    assert_int_equal(r->neurons[2], 2);
    snn_assert_close(r->interval_ms, 1.0, 0, 0);
    r = &s->rec_state[1];
    assert_int_equal(r->pop, 4);
    assert_int_equal(r->n_vars, 1);
    assert_int_equal(r->vars[0], 0);
    assert_int_equal(r->n_neurons, 10); /* default: all, listed */
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(r->neurons[i], i);
    snn_assert_close(r->interval_ms, 0.1, 0, 0); /* default dt_ms */
    assert_int_equal(s->n_rec_weights, 1);
    assert_int_equal(s->rec_weights[0].proj, 0);
    snn_assert_close(s->rec_weights[0].interval_ms, 100.0, 0, 0);

    /* output and provenance */
    assert_string_equal(s->output, "good_out.h5");
    assert_int_equal(s->compression, 4);
    assert_string_equal(s->source, DATA("good_net.cfg"));
    assert_non_null(s->resolved);
    assert_non_null(strstr(s->resolved, "tau_syn_ex = 2.0;"));  /* a default written out */
    assert_non_null(strstr(s->resolved, "0.12345678901234568")); /* full precision */
    assert_non_null(strstr(s->resolved, "V_th = -50.0;"));       /* numbers print as floats */
    assert_non_null(strstr(s->resolved, "size = 80;"));          /* integers stay integers */
    /* the plasticity group with every default filled in */
    assert_non_null(strstr(s->resolved, "rule = \"stdp_pair\";"));
    assert_non_null(strstr(s->resolved, "tau_plus = 20.0;"));
    assert_non_null(strstr(s->resolved, "pairing = \"nearest\";"));
    assert_non_null(strstr(s->resolved, "A_minus = 0.0105;"));
    assert_non_null(strstr(s->resolved, "tau_minus = 33.7;"));
    assert_non_null(strstr(s->resolved, "mu = 0.0;"));
    snn_spec_free(s);
}

/* Defaults of everything optional, and the default output name. */
static void test_defaults(void **state)
{
    const char *text = "simulation = { duration_ms = 10; };\n"
                       "populations = { a = { model = \"lif\"; size = 3; }; };\n"
                       "inputs = { src = { model = \"poisson\"; size = 2; }; };\n";
    snn_spec *s = load_str_ok(text, "minimal", NULL, 0);
    snn_assert_close(s->dt_ms, 0.1, 0, 0);
    snn_assert_close(s->duration_ms, 10.0, 0, 0);
    assert_int_equal(s->seed, 1);
    assert_int_equal(s->threads, 0);
    assert_int_equal(s->n_pops, 2);
    const snn_model_type *t = s->pops[0].type;
    for (size_t j = 0; j < t->n_params; j++)
        snn_assert_close(s->pops[0].par[j], t->params[j].def, 0, 0);
    for (size_t v = 0; v < t->n_state; v++)
        assert_int_equal(s->pops[0].init[v].kind, SNN_DIST_NONE);
    assert_true(s->rec_spikes[0]);  /* every population */
    assert_false(s->rec_spikes[1]); /* but not inputs */
    assert_int_equal(s->n_projs, 0);
    assert_int_equal(s->n_currents, 0);
    assert_int_equal(s->n_rec_state, 0);
    assert_int_equal(s->n_rec_weights, 0);
    assert_string_equal(s->output, "minimal.h5");
    assert_int_equal(s->compression, 4);
    assert_string_equal(s->source, "minimal");
    snn_spec_free(s);

    s = load_str_ok(text, "some/dir/net.v2.cfg", NULL, 0);
    assert_string_equal(s->output, "net.v2.h5");
    snn_spec_free(s);

    /* record.spikes = "all" and [] */
    const char *ov_all[] = {"record.spikes=\"all\""};
    s = load_str_ok(text, "x", ov_all, 1);
    assert_true(s->rec_spikes[0] && s->rec_spikes[1]);
    snn_spec_free(s);
    const char *ov_none[] = {"record.spikes=[]"};
    s = load_str_ok(text, "x", ov_none, 1);
    assert_false(s->rec_spikes[0] || s->rec_spikes[1]);
    snn_spec_free(s);

    /* 64-bit seed */
    const char *ov_seed[] = {"simulation.seed=5000000000L"};
    s = load_str_ok(text, "x", ov_seed, 1);
    assert_true(s->seed == 5000000000ULL);
    assert_non_null(strstr(s->resolved, "seed = 5000000000L;"));
    snn_spec_free(s);
}

/* ---- bad files ------------------------------------------------------------- */

typedef struct bad_case {
    const char *file;
    const char *where;   /* "bad_x.cfg:LINE:" */
    const char *want[4]; /* further substrings, NULL-terminated */
} bad_case;

static const bad_case bad_cases[] = {
    {"bad_unknown_key.cfg", "bad_unknown_key.cfg:7: ",
     {"unknown key 'tau_mm' in populations.exc", "did you mean 'tau_m'?"}},
    {"bad_syntax.cfg", "bad_syntax.cfg:4: ", {"syntax error", "duration_ms = ;"}},
    {"bad_type.cfg", "bad_type.cfg:3: ", {"simulation.dt_ms must be a number, got a string"}},
    {"bad_range.cfg", "bad_range.cfg:7: ",
     {"populations.exc.tau_m = -1 ms is outside [0.001, 1e+09]", "(membrane time constant)"}},
    {"bad_missing_size.cfg", "bad_missing_size.cfg:4: ",
     {"populations.exc has no 'size' (number of neurons, required)"}},
    {"bad_undefined_pop.cfg", "bad_undefined_pop.cfg:8: ",
     {"projections.ee.pre", "'exx'", "did you mean 'exc'?"}},
    {"bad_model.cfg", "bad_model.cfg:4: ", {"\"liff\" is not a known model", "did you mean 'lif'?"}},
    {"bad_receptor.cfg", "bad_receptor.cfg:6: ",
     {"receptor = \"ampa\"", "model lif", "valid: 'exc', 'inh'"}},
    {"bad_spike_ids.cfg", "bad_spike_ids.cfg:9: ",
     {"inputs.stim.spike_ids[2] = 2 is not a neuron of 'stim'"}},
    {"bad_spike_len.cfg", "bad_spike_len.cfg:5: ", {"spike_ids has 1 entries", "has 2"}},
    {"bad_spike_time.cfg", "bad_spike_time.cfg:4: ",
     {"spike_times_ms[1] = 0.01 ms", "dt_ms = 0.1"}},
    {"bad_delay.cfg", "bad_delay.cfg:6: ",
     {"projections.ee.delay_ms", "0.04 ms is shorter than one step", "dt_ms = 0.1"}},
    {"bad_duplicate.cfg", "bad_duplicate.cfg:7: ",
     {"name 'exc' is already used by populations.exc at line 4"}},
    {"bad_top_group.cfg", "bad_top_group.cfg:2: ",
     {"unknown top-level group 'simulaton'", "did you mean 'simulation'?"}},
    {"bad_choice.cfg", "bad_choice.cfg:5: ", {"synapse = \"delt\"", "did you mean 'delta'?"}},
    {"bad_normal_mass.cfg", "bad_normal_mass.cfg:6: ",
     {"projections.ee.weight", "keeps 7.62e-24 of its mass", "widen min/max"}},
    {"bad_nonneg.cfg", "bad_nonneg.cfg:6: ",
     {"weight = -1 nS is negative", "lif_cond", "non-negative"}},
    {"bad_state_var.cfg", "bad_state_var.cfg:6: ",
     {"\"Vm\" is not a state variable of model lif", "did you mean 'V_m'?"}},
    {"bad_indegree.cfg", "bad_indegree.cfg:6: ",
     {"projections.ee.k = 10", "9 distinct sources", "multapses = true"}},
    {"bad_current_mixed.cfg", "bad_current_mixed.cfg:6: ", {"inputs.inj mixes the pulse form"}},
    {"bad_current_order.cfg", "bad_current_order.cfg:7: ",
     {"inputs.inj.times_ms[2] = 20 ms", "strictly ascending"}},
    {"bad_interval.cfg", "bad_interval.cfg:6: ",
     {"record.state[0].interval_ms = 0.25 ms is not a positive multiple of dt_ms = 0.1"}},
    {"bad_init_array.cfg", "bad_init_array.cfg:5: ",
     {"populations.exc.init.V_m has 2 values for 3 neurons"}},
    {"bad_name.cfg", "bad_name.cfg:4: ", {"'exc-1' is not a valid name"}},
    {"bad_missing_duration.cfg", "bad_missing_duration.cfg:2: ",
     {"simulation has no 'duration_ms'", "required"}},
    {"bad_record_twice.cfg", "bad_record_twice.cfg:6: ",
     {"population 'exc' is already recorded by record.state[0]"}},
    {"bad_connector.cfg", "bad_connector.cfg:6: ",
     {"\"pairwise_bernouli\" is not a connector", "did you mean 'pairwise_bernoulli'?"}},
    {"bad_p.cfg", "bad_p.cfg:6: ", {"projections.ee.p = 1.5 is outside [0, 1]"}},
    {"bad_p_unused.cfg", "bad_p_unused.cfg:6: ",
     {"projections.ee.p is only used by connector 'pairwise_bernoulli'", "'all_to_all'"}},
    {"bad_include.cfg", "bad_include.cfg:3: ",
     {"cannot open include file", "no_such_file.cfg", "relative to"}},
    {"bad_post_source.cfg", "bad_post_source.cfg:7: ",
     {"projections.pe.post = \"ext\" is a spike input", "takes no input"}},
    {"bad_source_in_pops.cfg", "bad_source_in_pops.cfg:4: ",
     {"\"poisson\" is a spike source", "under inputs"}},
    {"bad_record_spikes.cfg", "bad_record_spikes.cfg:6: ",
     {"record.spikes[1]", "'ihn'", "did you mean 'inh'?"}},
    {"bad_wrong_group.cfg", "bad_wrong_group.cfg:2: ",
     {"simulation must be a group", "got an integer 5"}},
    {"bad_missing_weight.cfg", "bad_missing_weight.cfg:5: ",
     {"projections.ee has no 'weight'", "pA", "required"}},
    /* the location is the included file's (path relative to the includer) */
    {"bad_in_include.cfg", "inc_bad_part.cfg:3: ",
     {"populations.exc.V_reset = 2000 mV is outside [-1000, 1000]"}},
    {"bad_include_dir.cfg", "bad_include_dir.cfg:3: ", {"@include \".\"", "is a directory"}},
    {"bad_rule.cfg", "bad_rule.cfg:7: ",
     {"projections.ee.plasticity.rule = \"stdp_pairs\" is not a known plasticity rule",
      "did you mean 'stdp_pair'?"}},
    {"bad_rule_key.cfg", "bad_rule_key.cfg:7: ",
     {"unknown key 'A_plu' in projections.ee.plasticity", "did you mean 'A_plus'?"}},
    /* "w" parameters show the projection's weight unit: lif, current synapses */
    {"bad_rule_range.cfg", "bad_rule_range.cfg:7: ",
     {"projections.ee.plasticity.A_plus = -1 pA is outside [0, 1e+06] (potentiation "
      "amplitude"}},
    {"bad_rule_choice.cfg", "bad_rule_choice.cfg:8: ",
     {"projections.ee.plasticity.pairing = \"nearst\" is not a valid choice",
      "did you mean 'nearest'?", "'all', 'nearest'"}},
    {"bad_rule_missing.cfg", "bad_rule_missing.cfg:6: ",
     {"projections.ee.plasticity has no 'rule'", "required"}},
    /* the experiment protocol */
    {"bad_phases_no_data.cfg", "bad_phases_no_data.cfg:6: ", {"phases need a `data` group"}},
    {"bad_phases_no_stim.cfg", "bad_phases_no_stim.cfg:6: ",
     {"phases need a `stimulus` group", "poisson input of 784 neurons"}},
    {"bad_data_no_phases.cfg", "bad_data_no_phases.cfg:5: ", {"data is only used with phases"}},
    {"bad_stim_no_phases.cfg", "bad_stim_no_phases.cfg:5: ",
     {"stimulus is only used with phases"}},
    {"bad_eval_no_phases.cfg", "bad_eval_no_phases.cfg:5: ",
     {"evaluate is only used with phases"}},
    {"bad_dataset.cfg", "bad_dataset.cfg:5: ",
     {"data.dataset = \"mnsit\" is not a known dataset", "did you mean 'mnist'?",
      "'mnist', 'fashion_mnist'"}},
    {"bad_data_key.cfg", "bad_data_key.cfg:5: ",
     {"unknown key 'directry' in data", "did you mean 'directory'?"}},
    {"bad_data_dir_empty.cfg", "bad_data_dir_empty.cfg:5: ", {"data.directory is empty"}},
    {"bad_stim_input.cfg", "bad_stim_input.cfg:6: ",
     {"stimulus.input = \"exc\" is a population (model lif)", "model \"poisson\""}},
    {"bad_stim_model.cfg", "bad_stim_model.cfg:7: ",
     {"stimulus.input = \"st\" is a spike input of model spike_times", "\"poisson\""}},
    {"bad_stim_size.cfg", "bad_stim_size.cfg:6: ",
     {"input 'pixels' has 100 neurons", "28 x 28 = 784 pixels", "size = 784"}},
    {"bad_stim_missing_input.cfg", "bad_stim_missing_input.cfg:6: ",
     {"stimulus has no 'input'", "required"}},
    {"bad_stim_rate.cfg", "bad_stim_rate.cfg:8: ",
     {"stimulus.max_rate_hz = 0 Hz is outside (0, 1e+06]"}},
    {"bad_stim_present.cfg", "bad_stim_present.cfg:8: ",
     {"stimulus.present_ms = 0.1 ms is shorter than one step of dt_ms = 0.5"}},
    {"bad_stim_key.cfg", "bad_stim_key.cfg:8: ",
     {"unknown key 'max_rate_Hz' in stimulus", "did you mean 'max_rate_hz'?"}},
    {"bad_boost_pop.cfg", "bad_boost_pop.cfg:8: ",
     {"stimulus.boost.population = \"ex\": no population is called 'ex'",
      "did you mean 'exc'?"}},
    {"bad_boost_range.cfg", "bad_boost_range.cfg:9: ",
     {"stimulus.boost.max_boosts = 2000 is outside [0, 1000]"}},
    {"bad_phases_type.cfg", "bad_phases_type.cfg:7: ", {"phases must be a list", "got a group"}},
    {"bad_phases_empty.cfg", "bad_phases_empty.cfg:7: ", {"phases is empty"}},
    {"bad_phase_missing_samples.cfg", "bad_phase_missing_samples.cfg:8: ",
     {"phases[0] has no 'samples'", "required"}},
    {"bad_phase_dup.cfg", "bad_phase_dup.cfg:9: ",
     {"phases[1].name = \"learn\"", "phases[0] at ", "bad_phase_dup.cfg:8 already has this name"}},
    {"bad_phase_name.cfg", "bad_phase_name.cfg:9: ",
     {"phases[1].name = \"2nd\" is not a valid name"}},
    {"bad_phase_split.cfg", "bad_phase_split.cfg:9: ",
     {"phases[1].split = \"tset\" is not a known split", "did you mean 'test'?"}},
    {"bad_phase_samples.cfg", "bad_phase_samples.cfg:9: ",
     {"phases[1].samples = 0 is outside [1, "}},
    {"bad_phase_plastic.cfg", "bad_phase_plastic.cfg:8: ",
     {"phases[0].plastic must be true or false, got an integer 1"}},
    {"bad_phase_key.cfg", "bad_phase_key.cfg:8: ",
     {"unknown key 'sample' in phases[0]", "did you mean 'samples'?"}},
    {"bad_phase_seed.cfg", "bad_phase_seed.cfg:8: ",
     {"phases[0].shuffle_seed = -1 is outside [0, "}},
    {"bad_phase_feature.cfg", "bad_phase_feature.cfg:9: ",
     {"phases[1].features[1] = \"pixels\" is a spike input (model poisson)"}},
    {"bad_phase_feature_unknown.cfg", "bad_phase_feature_unknown.cfg:9: ",
     {"phases[1].features[0] = \"exx\": no population is called 'exx'",
      "did you mean 'exc'?"}},
    {"bad_phase_feature_twice.cfg", "bad_phase_feature_twice.cfg:9: ",
     {"phases[1].features: population 'exc' is listed twice"}},
    {"bad_eval_phase.cfg", "bad_eval_phase.cfg:12: ",
     {"evaluate.assign = \"lern\": no phase is called 'lern'", "did you mean 'learn'?"}},
    {"bad_eval_feature.cfg", "bad_eval_feature.cfg:11: ",
     {"evaluate.population = \"exc\" is not among the features of phase 'learn'",
      "bad_eval_feature.cfg:8, evaluate.assign", "add \"exc\" to its features"}},
    {"bad_eval_method.cfg", "bad_eval_method.cfg:11: ",
     {"evaluate.method = \"svm\" is not a known evaluation method", "'vote'"}},
    {"bad_eval_missing.cfg", "bad_eval_missing.cfg:11: ",
     {"evaluate has no 'test'", "required"}},
    {"bad_skip_same.cfg", "bad_skip_same.cfg:6: ",
     {"projections.ie.skip_same_index = true needs pre and post of equal size",
      "'inh' has 5 neurons and 'exc' has 10"}},
    {"bad_normalize.cfg", "bad_normalize.cfg:7: ",
     {"projections.xe.normalize = -1 pA is outside [0, inf)"}},
    {"bad_readout_phase.cfg", "bad_readout_phase.cfg:11: ",
     {"readout.train = \"asign\": no phase is called 'asign'", "did you mean 'assign'?"}},
    {"bad_readout_nofeat.cfg", "bad_readout_nofeat.cfg:12: ",
     {"readout.train: phase 'learn' stores no features"}},
    {"bad_readout_key.cfg", "bad_readout_key.cfg:5: ",
     {"unknown key 'epochz'", "did you mean 'epochs'?"}},
    {"bad_readout_choice.cfg", "bad_readout_choice.cfg:5: ",
     {"readout.surrogate = \"fast_sigmoidd\" is not a known surrogate",
      "did you mean 'fast_sigmoid'?"}},
    {"bad_readout_hidden.cfg", "bad_readout_hidden.cfg:5: ",
     {"readout.hidden has 5 layers; at most 4 hidden layers"}},
    {"bad_readout_nodata.cfg", "bad_readout_nodata.cfg:3: ",
     {"readout input \"pixels\" needs a `data` group"}},
    {"bad_robust.cfg", "bad_robust.cfg:6: ",
     {"robustness.perturbations[1]", "unknown perturbation 'blur:0.2'", "gauss:S"}},
};

static void test_bad_files(void **state)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *b = &bad_cases[i];
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", SNN_TEST_DATA, b->file);
        snn_err err = {0};
        snn_spec *s = (snn_spec *)1;
        int rc = snn_cfg_load(path, NULL, 0, &s, &err);
        if (rc != SNN_ECFG)
            fail_msg("%s: expected SNN_ECFG, got %d (%s)", b->file, rc, err.msg);
        assert_null(s);
        /* FILE:LINE: comes first */
        char prefix[1100];
        snprintf(prefix, sizeof prefix, "%s/%s", SNN_TEST_DATA, b->where);
        if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
            fail_msg("%s: message \"%s\" does not start with \"%s\"", b->file, err.msg, prefix);
        assert_msg(err.msg, b->want);
    }
}

/* A pure-backprop readout: no network, no duration; every key resolved. */
static void test_readout_pixels(void **state)
{
    snn_spec *s = load_ok(DATA("good_readout_pixels.cfg"), NULL, 0);
    const snn_readout_spec *ro = &s->readout;
    assert_true(ro->on);
    assert_true(ro->pixels);
    assert_int_equal(ro->train_samples, 100);
    assert_int_equal(ro->test_samples, 50);
    assert_int_equal(ro->cfg.n_hidden, 1);
    assert_int_equal(ro->cfg.hidden[0], 20);
    assert_int_equal(ro->cfg.epochs, 2);
    assert_int_equal(ro->cfg.lr_schedule, SNN_RO_LR_COSINE);
    assert_int_equal(ro->cfg.norm, SNN_RO_NORM_MAX);
    assert_int_equal(ro->cfg.surrogate, SNN_RO_SG_FAST_SIGMOID);
    assert_int_equal(ro->cfg.steps, 25);
    assert_int_equal(ro->cfg.seed, 3); /* simulation.seed */
    assert_true(ro->cfg.detach_reset);
    assert_int_equal(s->n_phases, 0);
    assert_int_equal(s->n_pops, 0);
    assert_int_equal(s->robust.n, 3);
    assert_int_equal(s->robust.p[1].kind, SNN_PERTURB_OCCLUDE);
    snn_assert_close(s->robust.p[1].level, 0.25, 0, 0);
    assert_int_equal(s->robust.seed, 1);
    /* defaults are written into the resolved text */
    assert_non_null(strstr(s->resolved, "surrogate = \"fast_sigmoid\""));
    assert_non_null(strstr(s->resolved, "normalize = \"max\""));
    snn_spec_free(s);

    const char *ov[] = {"readout.rule=random", "readout.decode=max_mem", "readout.seed=9"};
    s = load_ok(DATA("good_readout_pixels.cfg"), ov, 3);
    assert_int_equal(s->readout.cfg.rule, SNN_RO_RULE_RANDOM);
    assert_int_equal(s->readout.cfg.decode, SNN_RO_DEC_MAX_MEM);
    assert_int_equal(s->readout.cfg.seed, 9);
    snn_assert_close(s->readout.cfg.dropout_input, 0.0, 0, 0); /* off by default */
    snn_spec_free(s);

    const char *dov[] = {"readout.dropout_input=0.2", "readout.dropout_hidden=0.5"};
    s = load_ok(DATA("good_readout_pixels.cfg"), dov, 2);
    snn_assert_close(s->readout.cfg.dropout_input, 0.2, 0, 0);
    snn_assert_close(s->readout.cfg.dropout_hidden, 0.5, 0, 0);
    snn_spec_free(s);
    /* p = 1 would drop everything: the upper bound is open */
    const char *bad[] = {"readout.dropout_hidden=1.0"};
    const char *want[] = {"readout.dropout_hidden = 1 is outside [0, 1)", NULL};
    expect_fail_file(DATA("good_readout_pixels.cfg"), bad, 1, want);
}

static void test_missing_file(void **state)
{
    const char *want[] = {"no_such_dir/x.cfg: cannot open the parameter file", NULL};
    expect_fail_file(DATA("no_such_dir/x.cfg"), NULL, 0, want);
    const char *want_dir[] = {"cannot read the parameter file", NULL};
    expect_fail_file(SNN_TEST_DATA, NULL, 0, want_dir);
}

static void test_string_errors(void **state)
{
    const char *want1[] = {"str.cfg:2: syntax error", NULL};
    expect_fail_str("simulation = { duration_ms = 1.0; };\npopulations = { a = { size = ; }; };\n",
                    "str.cfg", NULL, 0, want1);
    const char *want2[] = {"str.cfg: nothing to simulate", NULL};
    expect_fail_str("simulation = { duration_ms = 1.0; };\n", "str.cfg", NULL, 0, want2);
    const char *want3[] = {"str.cfg", "has no 'simulation'", NULL};
    expect_fail_str("", "str.cfg", NULL, 0, want3);
    /* a typo of the key "model" itself */
    const char *want4[] = {"str.cfg:2: unknown key 'modle' in populations.a",
                           "did you mean 'model'?", NULL};
    expect_fail_str("simulation = { duration_ms = 1.0; };\n"
                    "populations = { a = { modle = \"lif\"; size = 2; }; };\n",
                    "str.cfg", NULL, 0, want4);
    /* duration shorter than one step */
    const char *want5[] = {"str.cfg:1: simulation.duration_ms = 0.01 ms is shorter than one step",
                           NULL};
    expect_fail_str("simulation = { duration_ms = 0.01; };\n"
                    "populations = { a = { model = \"lif\"; size = 2; }; };\n",
                    "str.cfg", NULL, 0, want5);
    /* fixed_indegree with multapses but no possible source */
    const char *want6[] = {"str.cfg:3: projections.s.k", "no source to draw", NULL};
    expect_fail_str("simulation = { duration_ms = 1.0; };\n"
                    "populations = { a = { model = \"lif\"; size = 1; }; };\n"
                    "projections = { s = { pre = \"a\"; post = \"a\"; connector = \"fixed_indegree\";"
                    " k = 1; multapses = true; weight = 1.0; }; };\n",
                    "str.cfg", NULL, 0, want6);
}

/* ---- plasticity ------------------------------------------------------------- */

/* Load a->resolved again and compare (defined with the round-trip tests). */
static void round_trip(snn_spec *a);

#define PL_HEAD "simulation = { duration_ms = 1.0; };\n"                                     \
                "populations = { a = { model = \"lif\"; size = 2; synapse = \"delta\"; };\n" \
                "                b = { model = \"lif_cond\"; size = 2; };\n"                 \
                "                c = { model = \"lif\"; size = 2; }; };\n"

static void test_plasticity(void **state)
{
    /* only the rule: every parameter its default, written out */
    snn_spec *s = load_str_ok(PL_HEAD "projections = { p = { pre = \"c\"; post = \"c\"; "
                              "connector = \"all_to_all\"; weight = 1.0;\n"
                              "  plasticity = { rule = \"stdp_pair\"; }; }; };\n",
                              "pl.cfg", NULL, 0);
    const snn_rule_type *t = snn_rule_find("stdp_pair");
    assert_ptr_equal(s->projs[0].rule, t);
    for (size_t j = 0; j < t->n_params; j++)
        snn_assert_close(s->projs[0].rule_par[j], t->params[j].def, 0, 0);
    assert_non_null(strstr(s->resolved, "pairing = \"all\";"));
    assert_non_null(strstr(s->resolved, "A_plus = 0.01;"));
    round_trip(s);
    snn_spec_free(s);

    /* "w" parameters in the weight unit of the post model: mV (delta), nS */
    struct {
        const char *text;
        const char *want[4];
    } cases[] = {
        {PL_HEAD "projections = { p = { pre = \"c\"; post = \"a\"; connector = \"all_to_all\";"
                 " weight = 1.0;\n  plasticity = { rule = \"stdp_pair\"; A_minus = 2e6; }; }; };\n",
         {"pl.cfg:6: projections.p.plasticity.A_minus = 2000000 mV is outside [0, 1e+06]"}},
        {PL_HEAD "projections = { p = { pre = \"c\"; post = \"b\"; connector = \"all_to_all\";"
                 " weight = 1.0;\n  plasticity = { rule = \"stdp_pair\"; w_max = 1e13; }; }; };\n",
         {"pl.cfg:6: projections.p.plasticity.w_max = 1e+13 nS is outside [-1e+12, 1e+12]",
          "(upper weight bound)"}},
        /* other units stay: ms */
        {PL_HEAD "projections = { p = { pre = \"c\"; post = \"b\"; connector = \"all_to_all\";"
                 " weight = 1.0;\n  plasticity = { rule = \"stdp_pair\"; tau_minus = 0; }; }; };\n",
         {"pl.cfg:6: projections.p.plasticity.tau_minus = 0 ms is outside [0.001, 1e+06]"}},
        {PL_HEAD "projections = { p = { pre = \"c\"; post = \"c\"; connector = \"all_to_all\";"
                 " weight = 1.0;\n  plasticity = \"stdp_pair\"; }; };\n",
         {"pl.cfg:6: projections.p.plasticity must be a group", "got a string \"stdp_pair\""}},
        /* a typo of the key "rule" itself */
        {PL_HEAD "projections = { p = { pre = \"c\"; post = \"c\"; connector = \"all_to_all\";"
                 " weight = 1.0;\n  plasticity = { A_plus = 0.1;\n rul = \"stdp_pair\"; }; }; };\n",
         {"pl.cfg:7: unknown key 'rul' in projections.p.plasticity", "did you mean 'rule'?"}},
        {PL_HEAD "projections = { p = { pre = \"c\"; post = \"c\"; connector = \"all_to_all\";"
                 " weight = 1.0;\n  plasticity = { rule = 3; }; }; };\n",
         {"pl.cfg:6: projections.p.plasticity.rule must be a string", "got an integer 3"}},
        {PL_HEAD "projections = { p = { pre = \"c\"; post = \"c\"; connector = \"all_to_all\";"
                 " weight = 1.0;\n  plasticity = { rule = \"stdp_pair\"; pairing = 1; }; }; };\n",
         {"pl.cfg:6: projections.p.plasticity.pairing must be a string, one of 'all', 'nearest'",
          "got an integer 1"}},
        {PL_HEAD "projections = { p = { pre = \"c\"; post = \"c\"; connector = \"all_to_all\";"
                 " weight = 1.0;\n  plasticity = { rule = \"no_such_rule\"; }; }; };\n",
         {"pl.cfg:6: projections.p.plasticity.rule = \"no_such_rule\" is not a known plasticity rule",
          "valid: 'stdp_pair'"}},
        /* a typo of the group name */
        {PL_HEAD "projections = { p = { pre = \"c\"; post = \"c\"; connector = \"all_to_all\";"
                 " weight = 1.0;\n  plastcity = { rule = \"stdp_pair\"; }; }; };\n",
         {"pl.cfg:6: unknown key 'plastcity' in projections.p", "did you mean 'plasticity'?"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_fail_str(cases[i].text, "pl.cfg", NULL, 0, cases[i].want);
}

static void test_plasticity_overrides(void **state)
{
    /* change a given value, add a parameter, switch an option */
    const char *ov[] = {"projections.tt.plasticity.A_plus=0.02",
                        "projections.tt.plasticity.mu=1",
                        "projections.tt.plasticity.pairing=all"};
    snn_spec *s = load_ok(DATA("good_net.cfg"), ov, 3);
    const snn_proj_spec *p = &s->projs[6];
    snn_assert_close(rpar(p, "A_plus"), 0.02, 0, 0);
    snn_assert_close(rpar(p, "mu"), 1.0, 0, 0);
    snn_assert_close(rpar(p, "pairing"), 0.0, 0, 0);
    snn_assert_close(rpar(p, "tau_plus"), 20.0, 0, 0); /* from the file */
    assert_non_null(strstr(s->resolved, "A_plus = 0.02;"));
    assert_non_null(strstr(s->resolved, "mu = 1.0;"));
    round_trip(s);
    snn_spec_free(s);

    /* make a static projection plastic */
    const char *ov2[] = {"projections.ee.plasticity={rule=\"stdp_pair\"; A_minus=0.02;}"};
    s = load_ok(DATA("good_net.cfg"), ov2, 1);
    p = &s->projs[0];
    assert_ptr_equal(p->rule, snn_rule_find("stdp_pair"));
    snn_assert_close(rpar(p, "A_minus"), 0.02, 0, 0);
    snn_assert_close(rpar(p, "A_plus"), rdef(p->rule, "A_plus"), 0, 0);
    round_trip(s);
    snn_spec_free(s);

    struct {
        const char *ov;
        const char *want[4];
    } cases[] = {
        /* ee's post exc has delta synapses: mV */
        {"projections.ee.plasticity={rule=\"stdp_pair\"; A_plus=-1;}",
         {"command line -s projections.ee.plasticity={rule=\"stdp_pair\"; A_plus=-1;}: ",
          "projections.ee.plasticity.A_plus = -1 mV is outside [0, 1e+06]"}},
        {"projections.tt.plasticity.A_plus=-1",
         {"command line -s projections.tt.plasticity.A_plus=-1: ",
          "projections.tt.plasticity.A_plus = -1 pA is outside [0, 1e+06]"}},
        {"projections.tt.plasticity.A_plu=1",
         {"command line -s projections.tt.plasticity.A_plu=1: ",
          "unknown key 'A_plu' in projections.tt.plasticity", "did you mean 'A_plus'?"}},
        {"projections.tt.plasticity.rule=stdp",
         {"command line -s projections.tt.plasticity.rule=stdp: ",
          "\"stdp\" is not a known plasticity rule"}},
        /* a parameter for a projection that has no plasticity group */
        {"projections.ee.plasticity.A_plus=0.02",
         {"command line -s projections.ee.plasticity.A_plus=0.02: ",
          "projections.ee.plasticity has no 'rule'"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *o[] = {cases[i].ov};
        expect_fail_file(DATA("good_net.cfg"), o, 1, cases[i].want);
    }
}

/* ---- overrides --------------------------------------------------------------- */

static void test_override_change_and_add(void **state)
{
    const char *ov[] = {
        "simulation.dt_ms=0.05",                       /* change */
        "populations.exc.C_m=100",                     /* add a parameter */
        "populations.exc.synapse=exp",                 /* a bare word is a string */
        "projections.ee.delay_ms={uniform=[1.0,3.0];}", /* scalar -> group */
        "record.state[1].interval_ms=0.5",             /* through a list index */
        "inputs.stim.spike_times_ms[0]=3",             /* array element, int into floats */
        "populations.extra={model=\"lif\"; size=4;}",  /* a new population, last */
        "output.path=\"run2.h5\"",
    };
    snn_spec *s = load_ok(DATA("good_net.cfg"), ov, sizeof ov / sizeof ov[0]);
    snn_assert_close(s->dt_ms, 0.05, 0, 0);
    snn_assert_close(par(&s->pops[0], "C_m"), 100.0, 0, 0);
    snn_assert_close(par(&s->pops[0], "synapse"), 0.0, 0, 0);
    assert_int_equal(s->projs[0].delay_ms.kind, SNN_DIST_UNIFORM);
    snn_assert_close(s->projs[0].delay_ms.b, 3.0, 0, 0);
    snn_assert_close(s->rec_state[1].interval_ms, 0.5, 0, 0);
    snn_assert_close(s->pops[pop_index(s, "stim")].spike_times_ms[0], 3.0, 0, 0);
    snn_assert_close(s->pops[pop_index(s, "stim")].spike_times_ms[1], 2.5, 0, 0);
    /* order kept: populations first, the new one after the included ones */
    assert_int_equal(s->n_pops, 8);
    assert_string_equal(s->pops[0].name, "exc");
    assert_string_equal(s->pops[4].name, "extra");
    assert_string_equal(s->pops[5].name, "ext");
    assert_string_equal(s->output, "run2.h5");
    assert_string_equal(s->pops[4].where.file, "command line -s populations.extra={model=\"lif\"; "
                        "size=4;}");
    /* the untouched sibling keeps its line */
    assert_int_equal(s->projs[1].where.line, 45);
    snn_spec_free(s);

    /* replacing a whole population keeps its place in the order */
    const char *ov2[] = {"populations.inh={model=\"lif\"; size=5;}"};
    s = load_ok(DATA("good_net.cfg"), ov2, 1);
    assert_string_equal(s->pops[1].name, "inh");
    assert_string_equal(s->pops[1].type->name, "lif");
    assert_int_equal(s->pops[1].n, 5);
    assert_string_equal(s->pops[2].name, "single");
    snn_spec_free(s);

    /* later overrides win; an integer given for a number prints as a float */
    const char *ov3[] = {"simulation.seed=7", "simulation.seed=8", "simulation.duration_ms=100"};
    s = load_ok(DATA("good_net.cfg"), ov3, 3);
    assert_int_equal(s->seed, 8);
    assert_non_null(strstr(s->resolved, "duration_ms = 100.0;"));
    assert_non_null(strstr(s->resolved, "seed = 8;"));
    snn_spec_free(s);
}

static void test_override_errors(void **state)
{
    struct {
        const char *ov;
        const char *want[4];
    } cases[] = {
        {"simulation.dt_ms=abc",
         {"command line -s simulation.dt_ms=abc: ", "simulation.dt_ms must be a number, got a string"}},
        {"simulation.dt_ms=[1,", {"command line -s simulation.dt_ms=[1,: ", "cannot read the value"}},
        {"simulation.dt_ms", {"command line -s simulation.dt_ms: expected KEY=VALUE"}},
        {"populations.exc.tau_mm=5",
         {"command line -s populations.exc.tau_mm=5: ", "unknown key 'tau_mm' in populations.exc",
          "did you mean 'tau_m'?"}},
        {"populations.exc.tau_m=-1",
         {"command line -s populations.exc.tau_m=-1: ",
          "populations.exc.tau_m = -1 ms is outside [0.001, 1e+09] (membrane time constant)"}},
        {"simulaton.dt_ms=0.2",
         {"command line -s simulaton.dt_ms=0.2: ", "did you mean 'simulation'?"}},
        {"populations.exx.tau_m=3",
         {"command line -s populations.exx.tau_m=3: ", "did you mean 'exc'?"}},
        {"record.state[5].interval_ms=2", {"record.state has no element 5"}},
        {"simulation.dt_ms.x=1", {"simulation.dt_ms is not a group"}},
        {"projections.ee.pre=\"exx\"",
         {"command line -s projections.ee.pre=\"exx\": ", "did you mean 'exc'?"}},
        {"simulation.dt_ms=1; x = 2", {"more than one value"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *ov[] = {cases[i].ov};
        expect_fail_file(DATA("good_net.cfg"), ov, 1, cases[i].want);
    }
}

/* ---- the resolved text ------------------------------------------------------- */

static void assert_dist_equal(const snn_dist *a, const snn_dist *b)
{
    assert_int_equal(a->kind, b->kind);
    if (a->kind == SNN_DIST_NONE)
        return;
    assert_true(a->a == b->a);
    if (a->kind == SNN_DIST_UNIFORM || a->kind == SNN_DIST_NORMAL)
        assert_true(a->b == b->b);
    if (a->kind == SNN_DIST_NORMAL)
        assert_true(a->lo == b->lo && a->hi == b->hi);
    assert_int_equal(a->n_values, b->n_values);
    for (size_t i = 0; i < a->n_values; i++)
        assert_true(a->values[i] == b->values[i]);
}

static void assert_spec_equal(const snn_spec *a, const snn_spec *b)
{
    assert_true(a->dt_ms == b->dt_ms);
    assert_true(a->duration_ms == b->duration_ms);
    assert_true(a->seed == b->seed);
    assert_int_equal(a->threads, b->threads);
    assert_int_equal(a->n_pops, b->n_pops);
    for (size_t i = 0; i < a->n_pops; i++) {
        const snn_pop_spec *p = &a->pops[i], *q = &b->pops[i];
        assert_string_equal(p->name, q->name);
        assert_ptr_equal(p->type, q->type);
        assert_int_equal(p->n, q->n);
        for (size_t j = 0; j < p->type->n_params; j++)
            assert_true(p->par[j] == q->par[j]);
        for (size_t v = 0; v < p->type->n_state; v++)
            assert_dist_equal(&p->init[v], &q->init[v]);
        assert_int_equal(p->n_spikes, q->n_spikes);
        for (size_t k = 0; k < p->n_spikes; k++) {
            assert_int_equal(p->spike_ids[k], q->spike_ids[k]);
            assert_true(p->spike_times_ms[k] == q->spike_times_ms[k]);
        }
    }
    assert_int_equal(a->n_projs, b->n_projs);
    for (size_t j = 0; j < a->n_projs; j++) {
        const snn_proj_spec *p = &a->projs[j], *q = &b->projs[j];
        assert_string_equal(p->name, q->name);
        assert_int_equal(p->pre, q->pre);
        assert_int_equal(p->post, q->post);
        assert_int_equal(p->channel, q->channel);
        assert_int_equal(p->conn, q->conn);
        assert_true(p->p == q->p);
        assert_int_equal(p->k, q->k);
        assert_int_equal(p->autapses, q->autapses);
        assert_int_equal(p->multapses, q->multapses);
        assert_dist_equal(&p->weight, &q->weight);
        assert_dist_equal(&p->delay_ms, &q->delay_ms);
        assert_ptr_equal(p->rule, q->rule);
        for (size_t r = 0; p->rule && r < p->rule->n_params; r++)
            assert_true(p->rule_par[r] == q->rule_par[r]);
        assert_true(p->normalize == q->normalize);
        assert_int_equal(p->skip_same_index, q->skip_same_index);
    }
    assert_string_equal(a->data.dataset, b->data.dataset);
    assert_string_equal(a->data.directory, b->data.directory);
    assert_int_equal(a->stim.input, b->stim.input);
    assert_true(a->stim.max_rate_hz == b->stim.max_rate_hz);
    assert_true(a->stim.intensity == b->stim.intensity);
    assert_true(a->stim.present_ms == b->stim.present_ms);
    assert_true(a->stim.rest_ms == b->stim.rest_ms);
    assert_int_equal(a->stim.watch, b->stim.watch);
    assert_int_equal(a->stim.min_spikes, b->stim.min_spikes);
    assert_true(a->stim.intensity_step == b->stim.intensity_step);
    assert_int_equal(a->stim.max_boosts, b->stim.max_boosts);
    assert_int_equal(a->n_phases, b->n_phases);
    for (size_t i = 0; i < a->n_phases; i++) {
        const snn_phase_spec *p = &a->phases[i], *q = &b->phases[i];
        assert_string_equal(p->name, q->name);
        assert_int_equal(p->split, q->split);
        assert_int_equal(p->samples, q->samples);
        assert_int_equal(p->shuffle_seed, q->shuffle_seed);
        assert_int_equal(p->plastic, q->plastic);
        assert_int_equal(p->n_features, q->n_features);
        for (size_t k = 0; k < p->n_features; k++)
            assert_int_equal(p->features[k], q->features[k]);
    }
    assert_int_equal(a->eval.vote, b->eval.vote);
    assert_int_equal(a->eval.pop, b->eval.pop);
    assert_int_equal(a->eval.assign_phase, b->eval.assign_phase);
    assert_int_equal(a->eval.test_phase, b->eval.test_phase);
    assert_int_equal(a->n_currents, b->n_currents);
    for (size_t c = 0; c < a->n_currents; c++) {
        const snn_current_spec *p = &a->currents[c], *q = &b->currents[c];
        assert_string_equal(p->name, q->name);
        assert_int_equal(p->target, q->target);
        assert_int_equal(p->n_neurons, q->n_neurons);
        for (size_t k = 0; k < p->n_neurons; k++)
            assert_int_equal(p->neurons[k], q->neurons[k]);
        assert_int_equal(p->n_changes, q->n_changes);
        for (size_t k = 0; k < p->n_changes; k++)
            assert_true(p->t_ms[k] == q->t_ms[k] && p->amp_pA[k] == q->amp_pA[k]);
    }
    for (size_t i = 0; i < a->n_pops; i++)
        assert_int_equal(a->rec_spikes[i], b->rec_spikes[i]);
    assert_int_equal(a->n_rec_state, b->n_rec_state);
    for (size_t r = 0; r < a->n_rec_state; r++) {
        const snn_rec_state_spec *p = &a->rec_state[r], *q = &b->rec_state[r];
        assert_int_equal(p->pop, q->pop);
        assert_int_equal(p->n_vars, q->n_vars);
        for (size_t k = 0; k < p->n_vars; k++)
            assert_int_equal(p->vars[k], q->vars[k]);
        assert_int_equal(p->n_neurons, q->n_neurons);
        for (size_t k = 0; k < p->n_neurons; k++)
            assert_int_equal(p->neurons[k], q->neurons[k]);
        assert_true(p->interval_ms == q->interval_ms);
    }
    assert_int_equal(a->n_rec_weights, b->n_rec_weights);
    for (size_t r = 0; r < a->n_rec_weights; r++) {
        assert_int_equal(a->rec_weights[r].proj, b->rec_weights[r].proj);
        assert_true(a->rec_weights[r].interval_ms == b->rec_weights[r].interval_ms);
    }
    assert_string_equal(a->output, b->output);
    assert_int_equal(a->compression, b->compression);
}

static void round_trip(snn_spec *a)
{
    snn_spec *b = load_str_ok(a->resolved, "resolved", NULL, 0);
    assert_spec_equal(a, b);
    /* a fixed point: resolving the resolved text changes nothing but the
       provenance comment on the first line */
    const char *ta = strchr(a->resolved, '\n'), *tb = strchr(b->resolved, '\n');
    assert_non_null(ta);
    assert_non_null(tb);
    assert_string_equal(ta, tb);
    snn_spec_free(b);
}

static void test_round_trip(void **state)
{
    snn_spec *a = load_ok(DATA("good_net.cfg"), NULL, 0);
    round_trip(a);
    snn_spec_free(a);

    /* with overrides, odd doubles and strings needing escapes */
    const char *ov[] = {"simulation.dt_ms=0.025", "populations.exc.tau_m=0.1234567890123456789",
                        "populations.exc.E_L=-1e-7", "output.path=\"a \\\"b\\\"\\\\c.h5\"",
                        "populations.exc.init.V_m=-65"};
    a = load_ok(DATA("good_net.cfg"), ov, sizeof ov / sizeof ov[0]);
    assert_string_equal(a->output, "a \"b\"\\c.h5");
    round_trip(a);
    snn_spec_free(a);

    a = load_str_ok("simulation = { duration_ms = 5; };\n"
                    "populations = { a = { model = \"lif\"; size = 1; }; };\n",
                    "tiny", NULL, 0);
    round_trip(a);
    snn_spec_free(a);
}

/* ---- the experiment protocol -------------------------------------------------- */

static void assert_has(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("text lacks \"%s\":\n%s", want, text);
}

static void test_protocol_good(void **state)
{
    snn_spec *s = load_ok(DATA("good_protocol.cfg"), NULL, 0);
    snn_assert_close(s->dt_ms, 0.5, 0, 0);
    snn_assert_close(s->duration_ms, 0.0, 0, 0); /* not required with phases */
    assert_int_equal(s->n_pops, 3);
    assert_string_equal(s->pops[2].name, "pixels");
    assert_int_equal(s->n_projs, 2);
    snn_assert_close(s->projs[0].normalize, 78.0, 0, 0);
    snn_assert_close(s->projs[1].normalize, 0.0, 0, 0);

    assert_string_equal(s->data.dataset, "fashion_mnist");
    assert_string_equal(s->data.directory, "/usr/share/datasets/fashion-mnist");

    assert_int_equal(s->stim.input, 2);
    snn_assert_close(s->stim.max_rate_hz, 100.0, 0, 0);
    snn_assert_close(s->stim.intensity, 1.0, 0, 0);
    snn_assert_close(s->stim.present_ms, 50.0, 0, 0);
    snn_assert_close(s->stim.rest_ms, 150.0, 0, 0);
    assert_int_equal(s->stim.watch, 0);
    assert_int_equal(s->stim.min_spikes, 3);
    snn_assert_close(s->stim.intensity_step, 1.0, 0, 0);
    assert_int_equal(s->stim.max_boosts, 10);

    assert_int_equal(s->n_phases, 3);
    const snn_phase_spec *p = s->phases;
    assert_string_equal(p[0].name, "learn");
    assert_int_equal(p[0].split, 0);
    assert_int_equal(p[0].samples, 100);
    assert_int_equal(p[0].shuffle_seed, 3);
    assert_true(p[0].plastic);
    assert_int_equal(p[0].n_features, 0);
    assert_int_equal(p[0].where.line, 24);
    assert_non_null(strstr(p[0].where.file, "good_protocol.cfg"));
    assert_string_equal(p[1].name, "assign");
    assert_int_equal(p[1].split, 0);
    assert_int_equal(p[1].samples, 50);
    assert_int_equal(p[1].shuffle_seed, 0);
    assert_false(p[1].plastic);
    assert_int_equal(p[1].n_features, 2);
    assert_int_equal(p[1].features[0], 0);
    assert_int_equal(p[1].features[1], 1);
    assert_string_equal(p[2].name, "test");
    assert_int_equal(p[2].split, 1);
    assert_int_equal(p[2].samples, 20);
    assert_false(p[2].plastic);
    assert_int_equal(p[2].n_features, 1);
    assert_int_equal(p[2].features[0], 0);
    assert_int_equal(p[2].where.line, 26);

    assert_true(s->eval.vote);
    assert_int_equal(s->eval.pop, 0);
    assert_int_equal(s->eval.assign_phase, 1);
    assert_int_equal(s->eval.test_phase, 2);

    /* every default is written out */
    const char *want[] = {"directory = \"/usr/share/datasets/fashion-mnist\";",
                          "normalize = 78.0;", "normalize = 0.0;", "max_rate_hz = 100.0;",
                          "intensity = 1.0;", "rest_ms = 150.0;", "intensity_step = 1.0;",
                          "max_boosts = 10;", "min_spikes = 3;", "shuffle_seed = 0;",
                          "plastic = false;", "features = [ ];", "method = \"vote\";",
                          "phases = (", NULL};
    for (size_t i = 0; want[i]; i++)
        assert_has(s->resolved, want[i]);
    assert_null(strstr(s->resolved, "duration_ms"));
    round_trip(s);
    snn_spec_free(s);

    /* without phases: nothing of the protocol */
    s = load_str_ok("simulation = { duration_ms = 5; };\n"
                    "populations = { a = { model = \"lif\"; size = 1; }; };\n",
                    "plain", NULL, 0);
    assert_int_equal(s->n_phases, 0);
    assert_null(s->phases);
    assert_false(s->eval.vote);
    assert_int_equal(s->stim.watch, -1);
    assert_null(strstr(s->resolved, "data"));
    snn_spec_free(s);
}

/* Restore SNN_MNIST_DIR as it was (saved by save_env). */
static char *save_env(void)
{
    const char *v = getenv("SNN_MNIST_DIR");
    return v ? strdup(v) : NULL;
}

static void restore_env(char *saved)
{
    if (saved)
        setenv("SNN_MNIST_DIR", saved, 1);
    else
        unsetenv("SNN_MNIST_DIR");
    free(saved);
}

static void test_protocol_mnist_dir(void **state)
{
    char *env = save_env();
    setenv("SNN_MNIST_DIR", "/not/used/when/directory/is/given", 1);
    snn_spec *s = load_ok(DATA("good_protocol_mnist.cfg"), NULL, 0);
    assert_string_equal(s->data.dataset, "mnist");
    /* "./idx//mnist/" relative to the file's folder, tidied */
    assert_string_equal(s->data.directory, SNN_TEST_DATA "/idx/mnist");
    assert_has(s->resolved, "directory = \"" SNN_TEST_DATA "/idx/mnist\";");
    snn_assert_close(s->duration_ms, 10.0, 0, 0);
    assert_int_equal(s->stim.input, 1);
    snn_assert_close(s->stim.max_rate_hz, 63.75, 0, 0);
    snn_assert_close(s->stim.intensity, 1.0, 0, 0);
    snn_assert_close(s->stim.present_ms, 350.0, 0, 0);
    snn_assert_close(s->stim.rest_ms, 150.0, 0, 0);
    assert_int_equal(s->stim.watch, -1);
    assert_int_equal(s->n_phases, 1);
    assert_string_equal(s->phases[0].name, "only");
    assert_int_equal(s->phases[0].split, 1);
    assert_int_equal(s->phases[0].samples, 1);
    assert_int_equal(s->phases[0].shuffle_seed, 0);
    assert_false(s->phases[0].plastic);
    assert_int_equal(s->phases[0].n_features, 0);
    assert_false(s->eval.vote);
    round_trip(s);
    snn_spec_free(s);

    /* a file given by a relative path: still relative to the file's folder */
    char old[4096], cwd[4096], want[4200];
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(SNN_TEST_DATA "/.."), 0);
    assert_non_null(getcwd(cwd, sizeof cwd));
    s = load_ok("data/good_protocol_mnist.cfg", NULL, 0);
    snprintf(want, sizeof want, "%s/data/idx/mnist", cwd);
    assert_string_equal(s->data.directory, want);
    snn_spec_free(s);
    assert_int_equal(chdir(SNN_TEST_DATA), 0);
    assert_non_null(getcwd(cwd, sizeof cwd));
    s = load_ok("good_protocol_mnist.cfg", NULL, 0);
    snprintf(want, sizeof want, "%s/idx/mnist", cwd);
    assert_string_equal(s->data.directory, want);
    snn_spec_free(s);
    assert_int_equal(chdir(old), 0);
    restore_env(env);
}

#define MNIST_NODIR                                                                  \
    "simulation = { dt_ms = 1.0; };\n"                                               \
    "populations = { e = { model = \"lif\"; size = 2; }; };\n"                       \
    "inputs = { px = { model = \"poisson\"; size = 784; }; };\n"                     \
    "data = { dataset = \"mnist\"; };\n"                                             \
    "stimulus = { input = \"px\"; };\n"                                              \
    "phases = ( { name = \"a\"; split = \"train\"; samples = 2; plastic = true; } );\n"

static void test_protocol_env(void **state)
{
    char *env = save_env();
    setenv("SNN_MNIST_DIR", "/data/mnist", 1);
    snn_spec *s = load_str_ok(MNIST_NODIR, "str.cfg", NULL, 0);
    assert_string_equal(s->data.directory, "/data/mnist");
    assert_has(s->resolved, "directory = \"/data/mnist\";");
    /* the resolved text no longer depends on the environment */
    unsetenv("SNN_MNIST_DIR");
    round_trip(s);
    snn_spec_free(s);

    /* relative: to the current directory */
    char cwd[4096], want[4200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    setenv("SNN_MNIST_DIR", "rel/./m/", 1);
    s = load_str_ok(MNIST_NODIR, "str.cfg", NULL, 0);
    snprintf(want, sizeof want, "%s/rel/m", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(s->data.directory, want);
    snn_spec_free(s);

    /* unset or empty: an error that says what to set */
    const char *err[] = {"str.cfg:4: data has no 'directory'", "SNN_MNIST_DIR is not set",
                         "`data.directory`", NULL};
    unsetenv("SNN_MNIST_DIR");
    expect_fail_str(MNIST_NODIR, "str.cfg", NULL, 0, err);
    setenv("SNN_MNIST_DIR", "", 1);
    expect_fail_str(MNIST_NODIR, "str.cfg", NULL, 0, err);

    /* an override gives the directory instead */
    const char *ov[] = {"data.directory=/over/here"};
    s = load_str_ok(MNIST_NODIR, "str.cfg", ov, 1);
    assert_string_equal(s->data.directory, "/over/here");
    snn_spec_free(s);

    /* fashion_mnist ignores the variable */
    setenv("SNN_MNIST_DIR", "/data/mnist", 1);
    const char *ov2[] = {"data.dataset=fashion_mnist"};
    s = load_str_ok(MNIST_NODIR, "str.cfg", ov2, 1);
    assert_string_equal(s->data.directory, "/usr/share/datasets/fashion-mnist");
    snn_spec_free(s);
    restore_env(env);
}

static void test_protocol_overrides(void **state)
{
    const char *ov[] = {"phases[0].samples=10", "phases.[1].samples=7",
                        "phases[2].features=[\"exc\", \"inh\"]", "phases[0].plastic=false",
                        "stimulus.boost.max_boosts=2", "stimulus.rest_ms=0",
                        "data.directory=rel/dir", "projections.ei.normalize=5",
                        "evaluate.test=assign"};
    snn_spec *s = load_ok(DATA("good_protocol.cfg"), ov, sizeof ov / sizeof ov[0]);
    assert_int_equal(s->phases[0].samples, 10);
    assert_false(s->phases[0].plastic);
    assert_int_equal(s->phases[1].samples, 7);
    assert_int_equal(s->phases[2].n_features, 2);
    assert_int_equal(s->phases[2].features[1], 1);
    assert_int_equal(s->stim.max_boosts, 2);
    snn_assert_close(s->stim.rest_ms, 0.0, 0, 0);
    snn_assert_close(s->projs[1].normalize, 5.0, 0, 0);
    assert_int_equal(s->eval.test_phase, 1);
    /* an override's relative directory: relative to the current directory */
    char cwd[4096], want[4200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "%s/rel/dir", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(s->data.directory, want);
    round_trip(s);
    snn_spec_free(s);

    struct {
        const char *ov;
        const char *want[4];
    } cases[] = {
        {"phases[0].samples=0",
         {"command line -s phases[0].samples=0: ", "phases[0].samples = 0 is outside [1, "}},
        {"phases[5].samples=1", {"command line -s phases[5].samples=1: ", "has no element 5"}},
        {"phases[1].split=tst", {"command line -s phases[1].split=tst: ", "did you mean 'test'?"}},
        {"evaluate.assign=nope",
         {"command line -s evaluate.assign=nope: ", "no phase is called 'nope'"}},
        {"stimulus.input=exc", {"command line -s stimulus.input=exc: ", "is a population"}},
        {"stimulus.boost.populaton=exc",
         {"command line -s stimulus.boost.populaton=exc: ", "did you mean 'population'?"}},
        {"projections.xe.normalize=-2",
         {"command line -s projections.xe.normalize=-2: ", "-2 pA is outside [0, inf)"}},
        /* the voting population no longer a feature of the assign phase: the
           error is at evaluate.population and names the phase */
        {"phases[1].features=[\"inh\"]",
         {"good_protocol.cfg:28: ", "not among the features of phase 'assign'",
          "good_protocol.cfg:25"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *o[] = {cases[i].ov};
        expect_fail_file(DATA("good_protocol.cfg"), o, 1, cases[i].want);
    }
}

#define PROTO_HEAD                                                                   \
    "simulation = { dt_ms = 1.0; };\n"                                               \
    "populations = { e = { model = \"lif\"; size = 2; }; };\n"                       \
    "inputs = { px = { model = \"poisson\"; size = 784; }; };\n"                     \
    "data = { dataset = \"fashion_mnist\"; };\n"                                     \
    "stimulus = { input = \"px\"; };\n"

static void test_protocol_strings(void **state)
{
    /* assign and test may be the same phase; features given as a list */
    snn_spec *s = load_str_ok(PROTO_HEAD "phases = ( { name = \"t\"; split = \"test\"; "
                              "samples = 3; features = ( \"e\" ); } );\n"
                              "evaluate = { population = \"e\"; assign = \"t\"; test = \"t\"; };\n",
                              "s.cfg", NULL, 0);
    assert_int_equal(s->eval.assign_phase, 0);
    assert_int_equal(s->eval.test_phase, 0);
    assert_int_equal(s->phases[0].n_features, 1);
    round_trip(s);
    snn_spec_free(s);

    const char *w1[] = {"s.cfg:6: phases must be a list", "got an array", NULL};
    expect_fail_str(PROTO_HEAD "phases = [1, 2];\n", "s.cfg", NULL, 0, w1);
    const char *w2[] = {"s.cfg:6: phases[0] must be a group", "got an integer 1", NULL};
    expect_fail_str(PROTO_HEAD "phases = ( 1 );\n", "s.cfg", NULL, 0, w2);
    const char *w3[] = {"s.cfg:6: phases[0].features must be an array of population names",
                        NULL};
    expect_fail_str(PROTO_HEAD "phases = ( { name = \"a\"; split = \"train\"; samples = 1; "
                    "features = \"e\"; } );\n", "s.cfg", NULL, 0, w3);
    const char *w4[] = {"s.cfg:6: phases[0] has no 'split'", NULL};
    expect_fail_str(PROTO_HEAD "phases = ( { name = \"a\"; samples = 1; } );\n", "s.cfg", NULL,
                    0, w4);
    /* skip_same_index: default false, written out; one_to_one refused */
    s = load_str_ok("simulation = { duration_ms = 1.0; };\n"
                    "populations = { a = { model = \"lif\"; size = 3; };\n"
                    "                b = { model = \"lif\"; size = 3; }; };\n"
                    "projections = { ab = { pre = \"a\"; post = \"b\"; connector = \"all_to_all\";"
                    " weight = 1.0; skip_same_index = true; };\n"
                    "                ba = { pre = \"b\"; post = \"a\"; connector = \"fixed_indegree\";"
                    " k = 3; weight = 1.0; }; };\n", "s.cfg", NULL, 0);
    assert_true(s->projs[0].skip_same_index);
    assert_false(s->projs[1].skip_same_index);
    assert_has(s->resolved, "skip_same_index = false;");
    round_trip(s);
    snn_spec_free(s);
    const char *w8[] = {"s.cfg:3: projections.ab.skip_same_index = true with connector one_to_one",
                        NULL};
    expect_fail_str("simulation = { duration_ms = 1.0; };\n"
                    "populations = { a = { model = \"lif\"; size = 3; }; b = { model = \"lif\"; size = 3; }; };\n"
                    "projections = { ab = { pre = \"a\"; post = \"b\"; connector = \"one_to_one\";"
                    " weight = 1.0; skip_same_index = true; }; };\n", "s.cfg", NULL, 0, w8);
    const char *w9[] = {"s.cfg:3: projections.ab.k = 3 is more than the 2 distinct sources in 'a' "
                        "(same index excluded)", NULL};
    expect_fail_str("simulation = { duration_ms = 1.0; };\n"
                    "populations = { a = { model = \"lif\"; size = 3; }; b = { model = \"lif\"; size = 3; }; };\n"
                    "projections = { ab = { pre = \"a\"; post = \"b\"; connector = \"fixed_indegree\";"
                    " k = 3; weight = 1.0; skip_same_index = true; }; };\n", "s.cfg", NULL, 0, w9);
    /* without phases, duration_ms is required again */
    const char *w5[] = {"s.cfg:1: simulation has no 'duration_ms'", "required", NULL};
    expect_fail_str("simulation = { dt_ms = 1.0; };\n"
                    "populations = { e = { model = \"lif\"; size = 2; }; };\n",
                    "s.cfg", NULL, 0, w5);
    /* a too-short duration is still an error with phases */
    const char *w6[] = {"s.cfg:1: simulation.duration_ms = 0.1 ms is shorter than one step",
                        NULL};
    expect_fail_str("simulation = { dt_ms = 1.0; duration_ms = 0.1; };\n"
                    "populations = { e = { model = \"lif\"; size = 2; }; };\n"
                    "inputs = { px = { model = \"poisson\"; size = 784; }; };\n"
                    "data = { dataset = \"fashion_mnist\"; };\n"
                    "stimulus = { input = \"px\"; };\n"
                    "phases = ( { name = \"a\"; split = \"train\"; samples = 1; } );\n",
                    "s.cfg", NULL, 0, w6);
    /* the watched population of a boost must be a population */
    const char *w7[] = {"s.cfg:5: stimulus.boost.population = \"px\" is a spike input", NULL};
    expect_fail_str("simulation = { dt_ms = 1.0; };\n"
                    "populations = { e = { model = \"lif\"; size = 2; }; };\n"
                    "inputs = { px = { model = \"poisson\"; size = 784; }; };\n"
                    "data = { dataset = \"fashion_mnist\"; };\n"
                    "stimulus = { input = \"px\"; boost = { population = \"px\"; }; };\n"
                    "phases = ( { name = \"a\"; split = \"train\"; samples = 1; } );\n",
                    "s.cfg", NULL, 0, w7);
}

/* ---- helpers ------------------------------------------------------------------ */

static void test_edit_distance(void **state)
{
    assert_int_equal(snn_cfg_edit_distance("", ""), 0);
    assert_int_equal(snn_cfg_edit_distance("tau_m", "tau_m"), 0);
    assert_int_equal(snn_cfg_edit_distance("tau_m", "tau_mm"), 1);
    assert_int_equal(snn_cfg_edit_distance("V_m", "v_m"), 1);
    assert_int_equal(snn_cfg_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(snn_cfg_edit_distance("flaw", "lawn"), 2);
    assert_int_equal(snn_cfg_edit_distance("abc", ""), 3);
    assert_int_equal(snn_cfg_edit_distance("", "abcd"), 4);
    assert_int_equal(snn_cfg_edit_distance("simulaton", "simulation"), 1);
    assert_int_equal(snn_cfg_edit_distance(NULL, "ab"), 2);
}

static void test_help(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    snn_cfg_help(f);
    fclose(f);
    const char *want[] = {"simulation", "dt_ms", "duration_ms", "required", "snn help model",
                          "pairwise_bernoulli", "interval_ms", "compression", "uniform",
                          "amplitudes_pA", "plasticity", "snn help rule NAME", "stdp_pair",
                          "weight unit", "normalize", "dataset", "fashion_mnist",
                          "/usr/share/datasets/fashion-mnist", "SNN_MNIST_DIR", "max_rate_hz",
                          "Hz", "present_ms", "min_spikes", "shuffle_seed", "features",
                          "evaluate", "phases[0].samples=10", NULL};
    assert_msg(buf, want);
    free(buf);
}

/* Every example parameter file in experiments/ loads as it is (they are
   the documentation users copy from); the readout-from-file example names
   its source file and phases. */
static void test_experiment_files(void **state)
{
    (void)state;
    DIR *d = opendir(SNN_SOURCE_DIR "/experiments");
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".cfg"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/experiments/%s", SNN_SOURCE_DIR, e->d_name);
        snn_spec *s = load_ok(path, NULL, 0);
        if (!strcmp(e->d_name, "mnist_readout_file.cfg")) {
            assert_true(s->readout.from_file && s->n_pops == 0);
            assert_string_equal(s->readout.file, SNN_SOURCE_DIR "/experiments/out/mnist_hybrid.h5");
            assert_string_equal(s->readout.train_name, "train");
            assert_string_equal(s->readout.test_name, "test");
            assert_int_equal(s->readout.n_file_pops, 1);
        }
        snn_spec_free(s);
        n++;
    }
    closedir(d);
    assert_true(n >= 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_readout_pixels),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_string_errors),
        cmocka_unit_test(test_plasticity),
        cmocka_unit_test(test_plasticity_overrides),
        cmocka_unit_test(test_override_change_and_add),
        cmocka_unit_test(test_override_errors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_protocol_good),
        cmocka_unit_test(test_protocol_mnist_dir),
        cmocka_unit_test(test_protocol_env),
        cmocka_unit_test(test_protocol_overrides),
        cmocka_unit_test(test_protocol_strings),
        cmocka_unit_test(test_edit_distance),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_experiment_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
