/*
 * tests/unit/test_connect_local.c: the connectors `local` (image patches) and
 * `local_groups` (all to all within consecutive groups) of sim/connect.c,
 * their parameter keys in io/cfg.c, and Diehl & Cook learning on a local
 * projection.
 *
 * Structure is compared with sets written out independently from the
 * definition (post j = location l * per_location + f sees the pixels
 * (x, y) with lx * stride <= x < lx * stride + patch, likewise y), and with
 * out-degrees counted by hand for chosen pixels.  The learning check replays
 * spike times through the engine and compares every final weight with the
 * rule applied by hand (to 1e-12).
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "io/cfg.h"
#include "rules/rule.h"
#include "sim/net.h"
#include "sim/sched.h"

typedef struct syn {
    size_t nnz;
    double *w;
    uint64_t *pre, *post;
} syn;

static syn get_syn(const snn_proj *pj)
{
    syn s;
    s.nnz = pj->nnz;
    s.w = malloc((s.nnz + 1) * sizeof *s.w);
    s.pre = malloc((s.nnz + 1) * sizeof *s.pre);
    s.post = malloc((s.nnz + 1) * sizeof *s.post);
    snn_net_weights(pj, s.w, s.pre, s.post);
    return s;
}

static void free_syn(syn *s)
{
    free(s->w);
    free(s->pre);
    free(s->post);
}

static snn_proj_spec *local_proj(snn_spec *s, uint32_t pre, uint32_t post, uint32_t width,
                                 uint32_t height, uint32_t patch, uint32_t stride, uint32_t per)
{
    snn_proj_spec *ps = fx_proj(s, pre, post, SNN_CONN_LOCAL, 1.0, 0.1);
    ps->local.width = width;
    ps->local.height = height;
    ps->local.patch = patch;
    ps->local.stride = stride;
    ps->local.per_location = per;
    return ps;
}

/* Does post neuron j of a local projection see pixel i?  From the
   definition, by coordinates. */
static bool in_patch(size_t i, size_t j, size_t width, size_t patch, size_t stride, size_t nx,
                     size_t per)
{
    size_t l = j / per, lx = l % nx, ly = l / nx, x = i % width, y = i / width;
    return x >= lx * stride && x < lx * stride + patch && y >= ly * stride &&
           y < ly * stride + patch;
}

/* Build pre (width x height) -> post (nx * ny * per) with `threads`, check
   every synapse against in_patch and the counts; returns the synapses. */
static syn check_local(size_t width, size_t height, size_t patch, size_t stride, size_t nx,
                       size_t ny, size_t per, int threads)
{
    snn_spec *s = fx_spec(0.1, 1, 5);
    uint32_t a = fx_pop(s, "img", "poisson", width * height);
    uint32_t b = fx_pop(s, "feat", "lif", nx * ny * per);
    snn_proj_spec *ps = local_proj(s, a, b, (uint32_t)width, (uint32_t)height,
                                   (uint32_t)patch, (uint32_t)stride, (uint32_t)per);
    ps->weight.kind = SNN_DIST_UNIFORM;
    ps->weight.a = 0.0;
    ps->weight.b = 0.3;
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, threads, &err))
        fail_msg("build failed: %s", err.msg);
    assert_false(net->projs[0].dense);
    syn x = get_syn(&net->projs[0]);
    size_t n_pre = width * height, n_post = nx * ny * per;
    assert_int_equal(x.nnz, n_post * patch * patch);
    unsigned char *seen = calloc(n_pre * n_post, 1);
    for (size_t m = 0; m < x.nnz; m++) {
        assert_true(x.pre[m] < n_pre && x.post[m] < n_post);
        assert_true(in_patch(x.pre[m], x.post[m], width, patch, stride, nx, per));
        assert_false(seen[x.pre[m] * n_post + x.post[m]]);
        seen[x.pre[m] * n_post + x.post[m]] = 1;
        assert_true(x.w[m] >= 0.0 && x.w[m] < 0.3);
    }
    /* ... and every pixel of every patch is there (the sets are equal). */
    for (size_t i = 0; i < n_pre; i++)
        for (size_t j = 0; j < n_post; j++)
            assert_int_equal(seen[i * n_post + j],
                             in_patch(i, j, width, patch, stride, nx, per));
    free(seen);
    snn_net_free(net);
    snn_spec_free(s);
    return x;
}

static size_t out_degree(const syn *x, size_t pre)
{
    size_t n = 0;
    for (size_t m = 0; m < x->nnz; m++)
        n += x->pre[m] == pre;
    return n;
}

/* MNIST geometry: 28 x 28, patch 12, stride 4 -> 5 x 5 locations. */
static void test_local_mnist(void **state)
{
    (void)state;
    syn x = check_local(28, 28, 12, 4, 5, 5, 4, 2);
    /* Locations covering a coordinate v: l in 0..4 with 4l <= v <= 4l + 11.
       v = 0: {0}; 4: {0, 1}; 11: {0, 1, 2}; 12: {1, 2, 3}; 16: {2, 3, 4};
       27: {4}.  Out-degree = across x down x 4 per location. */
    const struct { size_t x, y, deg; } px[] = {
        {0, 0, 1 * 1 * 4},   {27, 27, 1 * 1 * 4}, {27, 0, 1 * 1 * 4},  {0, 27, 1 * 1 * 4},
        {4, 0, 2 * 1 * 4},   {0, 4, 1 * 2 * 4},   {12, 12, 3 * 3 * 4}, {11, 16, 3 * 3 * 4},
        {16, 27, 3 * 1 * 4}, {4, 11, 2 * 3 * 4},
    };
    for (size_t k = 0; k < sizeof px / sizeof px[0]; k++)
        assert_int_equal(out_degree(&x, px[k].y * 28 + px[k].x), px[k].deg);
    /* Post 0..3 (location 0) see rows 0..11, columns 0..11 only; post 96..99
       (location 24) rows and columns 16..27: first and last pre of each. */
    for (size_t m = 0; m < x.nnz; m++) {
        if (x.post[m] < 4)
            assert_true(x.pre[m] % 28 < 12 && x.pre[m] / 28 < 12);
        if (x.post[m] >= 96)
            assert_true(x.pre[m] % 28 >= 16 && x.pre[m] / 28 >= 16);
    }
    /* Weights uniform on [0, 0.3): mean 0.15 within 5 sd of the mean of
       14,400 draws (sd 0.3 / sqrt(12 * 14400)). */
    double mean = 0.0;
    for (size_t m = 0; m < x.nnz; m++)
        mean += x.w[m] / (double)x.nnz;
    snn_assert_close(mean, 0.15, 0, 5 * 0.3 / sqrt(12.0 * (double)x.nnz));
    /* The same synapses and weights for 1 thread as for 2. */
    syn y = check_local(28, 28, 12, 4, 5, 5, 4, 1);
    assert_int_equal(x.nnz, y.nnz);
    assert_memory_equal(x.pre, y.pre, x.nnz * sizeof *x.pre);
    assert_memory_equal(x.post, y.post, x.nnz * sizeof *x.post);
    assert_memory_equal(x.w, y.w, x.nnz * sizeof *x.w);
    free_syn(&x);
    free_syn(&y);
}

/* A non-square image that the patches do not tile: 10 x 7, patch 3,
   stride 3 -> 3 x 2 locations; column 9 and row 6 are seen by no one.  Also
   patch = image (one location) and stride 1 (every offset). */
static void test_local_edges(void **state)
{
    (void)state;
    syn x = check_local(10, 7, 3, 3, 3, 2, 2, 2);
    for (size_t y = 0; y < 7; y++)
        for (size_t c = 0; c < 10; c++)
            assert_int_equal(out_degree(&x, y * 10 + c), (c == 9 || y == 6) ? 0 : 2);
    free_syn(&x);
    x = check_local(5, 4, 4, 1, 2, 1, 3, 1);     /* 5 x 4, patch 4: 2 x 1 locations */
    free_syn(&x);
    x = check_local(6, 6, 6, 1, 1, 1, 5, 1);     /* one location: all to all */
    assert_int_equal(out_degree(&x, 35), 5);
    free_syn(&x);
    x = check_local(6, 5, 2, 1, 5, 4, 1, 3);     /* stride 1: 5 x 4 locations */
    assert_int_equal(out_degree(&x, 7), 4);     /* (1, 1): 2 across x 2 down */
    free_syn(&x);
}

/* A build that must fail; the message must contain every string of want[]. */
static void expect_build_error(snn_spec *s, const char *const *want, size_t n_want)
{
    snn_net *net = NULL;
    snn_err err;
    int rc = snn_net_build(&net, s, 1, &err);
    assert_int_equal(rc, SNN_ECFG);
    assert_null(net);
    for (size_t k = 0; k < n_want; k++)
        if (!strstr(err.msg, want[k]))
            fail_msg("message '%s' lacks '%s'", err.msg, want[k]);
    snn_spec_free(s);
}

/* Hand-built specs with a wrong geometry are refused by the engine too. */
static void test_local_geometry_errors(void **state)
{
    (void)state;
    struct { uint32_t w, h, patch, stride, per; size_t n_post; const char *want; } bad[] = {
        {27, 28, 12, 4, 4, 100, "got 27 x 28, patch 12, stride 4"},   /* 756 != 784 */
        {28, 28, 29, 4, 4, 100, "got 28 x 28, patch 29"},              /* patch too large */
        {28, 28, 12, 0, 4, 100, "stride 0"},
        {28, 28, 12, 4, 0, 100, "per_location 0"},
        {28, 28, 12, 4, 4, 99, "5 x 5 = 25 locations x 4 per location = 100 post neurons, "
                               "but post has 99"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snn_spec *s = fx_spec(0.1, 1, 5);
        uint32_t a = fx_pop(s, "img", "poisson", 784);
        uint32_t b = fx_pop(s, "feat", "lif", bad[k].n_post);
        snn_proj_spec *ps = local_proj(s, a, b, bad[k].w, bad[k].h, bad[k].patch,
                                       bad[k].stride, bad[k].per);
        snprintf(ps->where.file, sizeof ps->where.file, "net.cfg");
        ps->where.line = 17;
        const char *want[] = {"net.cfg:17:", "proj0", bad[k].want};
        expect_build_error(s, want, 3);
    }
    snn_spec *s = fx_spec(0.1, 1, 5);
    uint32_t a = fx_pop(s, "a", "lif", 12);
    snn_proj_spec *ps = fx_proj(s, a, a, SNN_CONN_LOCAL_GROUPS, 1.0, 0.1);
    ps->local.group_size = 5;
    const char *want[] = {"group_size = 5 with 12 -> 12 neurons"};
    expect_build_error(s, want, 1);
}

/* local_groups: pre i -> post j iff i / g == j / g, minus i -> i when
   excluded. */
static void check_groups(size_t n, size_t g, bool self, bool autapses, bool skip)
{
    snn_spec *s = fx_spec(0.1, 1, 9);
    uint32_t a = fx_pop(s, "a", "lif", n);
    uint32_t b = self ? a : fx_pop(s, "b", "lif", n);
    snn_proj_spec *ps = fx_proj(s, a, b, SNN_CONN_LOCAL_GROUPS, 2.5, 0.1);
    ps->local.group_size = (uint32_t)g;
    ps->autapses = autapses;
    ps->skip_same_index = skip;
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 2, &err))
        fail_msg("build failed: %s", err.msg);
    syn x = get_syn(&net->projs[0]);
    bool excl = (self && !autapses) || skip;
    assert_int_equal(x.nnz, n * (excl ? g - 1 : g));
    unsigned char *seen = calloc(n * n, 1);
    for (size_t m = 0; m < x.nnz; m++) {
        assert_int_equal(x.pre[m] / g, x.post[m] / g);
        assert_false(excl && x.pre[m] == x.post[m]);
        assert_false(seen[x.pre[m] * n + x.post[m]]);
        seen[x.pre[m] * n + x.post[m]] = 1;
        assert_true(x.w[m] == 2.5);
    }
    free(seen);
    free_syn(&x);
    snn_net_free(net);
    snn_spec_free(s);
}

static void test_local_groups(void **state)
{
    (void)state;
    check_groups(12, 4, true, false, false);   /* inhibition within groups, no self */
    check_groups(12, 4, true, true, false);    /* with self */
    check_groups(768, 64 * 3, false, false, true);  /* partner excluded, across blocks */
    check_groups(600, 600, false, false, false);    /* one group: all to all */
    check_groups(7, 1, false, false, false);        /* groups of one: one to one */
}

/* ---- parameter files ------------------------------------------------------- */

static const char *const cfg_head =
    "simulation = { dt_ms = 0.1; duration_ms = 1.0; };\n"          /* 1 */
    "populations = {\n"                                               /* 2 */
    "  img = { model = \"lif\"; size = 784; };\n"                   /* 3 */
    "  feat = { model = \"lif\"; size = 100; };\n"                  /* 4 */
    "};\n"                                                            /* 5 */
    "projections = {\n"                                               /* 6 */
    "  p = {\n"                                                       /* 7 */
    "    pre = \"img\"; post = \"feat\"; weight = 1.0;\n";            /* 8 */

/* Load cfg_head + body (lines 9...) + the closing braces. */
static int load(const char *body, snn_spec **sp, snn_err *err)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s  };\n};\n", cfg_head, body);
    *sp = NULL;
    return snn_cfg_load_string(text, "local.cfg", NULL, 0, sp, err);
}

static void expect_cfg_error(const char *body, const char *where, const char *want)
{
    snn_spec *sp;
    snn_err err;
    int rc = load(body, &sp, &err);
    if (rc != SNN_ECFG)
        fail_msg("expected an error containing '%s' for:\n%s", want, body);
    if (!strstr(err.msg, where) || !strstr(err.msg, want))
        fail_msg("message '%s' lacks '%s' or '%s'", err.msg, where, want);
    snn_spec_free(sp);
}

static void test_cfg_local(void **state)
{
    (void)state;
    snn_spec *sp;
    snn_err err;
    int rc = load("    connector = \"local\"; width = 28; height = 28;\n"
                  "    patch = 12; stride = 4; per_location = 4;\n", &sp, &err);
    if (rc)
        fail_msg("%s", err.msg);
    const snn_proj_spec *p = &sp->projs[0];
    assert_int_equal(p->conn, SNN_CONN_LOCAL);
    assert_int_equal(p->local.width, 28);
    assert_int_equal(p->local.height, 28);
    assert_int_equal(p->local.patch, 12);
    assert_int_equal(p->local.stride, 4);
    assert_int_equal(p->local.per_location, 4);
    /* The resolved parameter set reads back to the same geometry. */
    snn_spec *sp2;
    rc = snn_cfg_load_string(sp->resolved, "resolved", NULL, 0, &sp2, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_memory_equal(&sp2->projs[0].local, &p->local, sizeof p->local);
    snn_spec_free(sp2);
    snn_spec_free(sp);

    expect_cfg_error("    connector = \"local\"; width = 28; height = 28;\n"
                     "    patch = 12; stride = 4;\n",
                     "local.cfg:7:", "has no 'per_location'");
    expect_cfg_error("    connector = \"local\";\n    width = 27; height = 28;\n"
                     "    patch = 12; stride = 4; per_location = 4;\n",
                     "local.cfg:10:", "width x height = 27 x 28 = 756 pixels, but pre 'img' "
                     "has 784 neurons");
    expect_cfg_error("    connector = \"local\"; width = 28; height = 28;\n"
                     "    patch = 29; stride = 4; per_location = 4;\n",
                     "local.cfg:10:", "patch = 29 is larger than the 28 x 28 image");
    expect_cfg_error("    connector = \"local\"; width = 28; height = 28;\n"
                     "    patch = 12; stride = 4;\n    per_location = 5;\n",
                     "local.cfg:11:", "give 5 x 5 = 25 locations, x per_location 5 = 125 "
                     "neurons, but post 'feat' has 100");
    expect_cfg_error("    connector = \"local\"; width = 28; height = 28;\n"
                     "    patch = 12; stride = 0; per_location = 4;\n",
                     "local.cfg:10:", "stride = 0 pixels is outside [1,");
    expect_cfg_error("    connector = \"local\"; width = 28; height = 28; patch = 12;\n"
                     "    stride = 4; per_location = 4; group_size = 4;\n",
                     "local.cfg:10:", "only used by connector 'local_groups'");
    expect_cfg_error("    connector = \"all_to_all\";\n    patch = 3;\n",
                     "local.cfg:10:", "only used by connector 'local'");
    expect_cfg_error("    connector = \"local\"; width = 28; height = 28; patch = 12;\n"
                     "    stride = 4; per_location = 4; p = 0.5;\n",
                     "local.cfg:10:", "only used by connector 'pairwise_bernoulli'");
    expect_cfg_error("    connector = \"locl\";\n", "local.cfg:9:", "did you mean 'local'?");
}

static void test_cfg_local_groups(void **state)
{
    (void)state;
    snn_spec *sp;
    snn_err err;
    static const char *const ok =
        "simulation = { dt_ms = 0.1; duration_ms = 1.0; };\n"
        "populations = { e = { model = \"lif\"; size = 100; }; i = { model = \"lif\"; "
        "size = 100; }; };\n"
        "projections = { ie = { pre = \"i\"; post = \"e\"; connector = \"local_groups\";\n"
        "  group_size = 25; skip_same_index = true; weight = -2.0; }; };\n";
    int rc = snn_cfg_load_string(ok, "g.cfg", NULL, 0, &sp, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(sp->projs[0].conn, SNN_CONN_LOCAL_GROUPS);
    assert_int_equal(sp->projs[0].local.group_size, 25);
    assert_true(sp->projs[0].skip_same_index);
    snn_spec_free(sp);

    expect_cfg_error("    connector = \"local_groups\"; group_size = 4;\n", "local.cfg:9:",
                     "local_groups needs pre and post of equal size, but 'img' has 784 "
                     "neurons and 'feat' has 100");
    expect_cfg_error("    connector = \"local_groups\";\n", "local.cfg:7:",
                     "has no 'group_size'");
    const char *const over[] = {"projections.ie.group_size=30"};
    snn_spec *sp3 = NULL;
    rc = snn_cfg_load_string(ok, "g.cfg", over, 1, &sp3, &err);
    assert_int_equal(rc, SNN_ECFG);
    if (!strstr(err.msg, "group_size = 30 does not divide the 100 neurons of 'e'"))
        fail_msg("message: %s", err.msg);
    snn_spec_free(sp3);
}

/* The experiment file loads, and its layer is what its comments say. */
static void test_experiment_file(void **state)
{
    (void)state;
    snn_spec *sp = NULL;
    snn_err err;
    if (snn_cfg_load(SNN_SOURCE_DIR "/experiments/mnist_hybrid_local.cfg", NULL, 0, &sp, &err))
        fail_msg("%s", err.msg);
    int in = -1, inh = -1;
    for (size_t j = 0; j < sp->n_projs; j++) {
        if (strcmp(sp->projs[j].name, "input") == 0)
            in = (int)j;
        if (strcmp(sp->projs[j].name, "inhibition") == 0)
            inh = (int)j;
    }
    assert_true(in >= 0 && inh >= 0);
    const snn_proj_spec *p = &sp->projs[in];
    assert_int_equal(p->conn, SNN_CONN_LOCAL);
    uint32_t nx, ny;
    snn_local_locations(&p->local, &nx, &ny);
    assert_int_equal(nx * ny * p->local.per_location, sp->pops[p->post].n);
    assert_true(sp->pops[p->post].n <= 1600);
    /* 0.1 per synapse, as Diehl & Cook's 78 over 784 inputs. */
    snn_assert_close(p->normalize, 0.1 * p->local.patch * p->local.patch, 1e-12, 0);
    assert_int_equal(sp->projs[inh].conn, SNN_CONN_LOCAL_GROUPS);
    assert_int_equal(sp->projs[inh].local.group_size, p->local.per_location);
    snn_spec_free(sp);
}

/* ---- learning on a local projection ----------------------------------------- */

enum { ETA_PRE, ETA_POST, X_TAR, TAU_PRE, TAU_POST, W_MAX, MU, TRACE, N_PAR };

static void set_times(snn_pop_spec *p, const uint32_t *id, const double *t, size_t n)
{
    p->n_spikes = n;
    p->spike_ids = malloc(n * sizeof *p->spike_ids);
    p->spike_times_ms = malloc(n * sizeof *p->spike_times_ms);
    memcpy(p->spike_ids, id, n * sizeof *id);
    memcpy(p->spike_times_ms, t, n * sizeof *t);
}

/*
 * Every pixel of a 6 x 6 image (patch 4, stride 2: 2 x 2 overlapping
 * locations, one neuron each, 16 synapses per neuron) spikes at 10 ms and at
 * 40 ms; a drive makes post neurons 0 and 3 fire once in between.  Diehl &
 * Cook's rule must then have potentiated exactly the 16 synapses onto each
 * of them at their spike (x_pre = exp(-(t_post - 10) / tau_pre)) and
 * depressed them at the second pre spike (x_post = exp(-(40 - t_post) /
 * tau_post)), and left the synapses onto neurons 1 and 2 alone.  Pixels in
 * the overlap have non-consecutive targets (e.g. {0, 3}... through {0, 1, 2,
 * 3}), so both paths of on_pre are used.  Then normalisation scales each
 * neuron's 16 weights to the given sum.
 */
static void test_learning(void **state)
{
    (void)state;
    const double dt = 0.1, w0 = 0.4, t_pre[2] = {10.0, 40.0};
    snn_spec *s = fx_spec(dt, 60.0, 3);
    uint32_t img = fx_pop(s, "img", "spike_times", 36);
    uint32_t ids[72];
    double ts[72];
    for (size_t k = 0; k < 72; k++) {
        ids[k] = (uint32_t)(k % 36);
        ts[k] = t_pre[k / 36];
    }
    set_times(&s->pops[img], ids, ts, 72);
    uint32_t drv = fx_pop(s, "drv", "spike_times", 4);
    const uint32_t did[2] = {0, 3};
    const double dts[2] = {14.0, 25.0};
    set_times(&s->pops[drv], did, dts, 2);
    uint32_t post = fx_pop(s, "post", "lif", 4);
    fx_par(s, post, "synapse", 1); /* delta synapses: the drive fires a neuron at once */
    fx_par(s, post, "E_L", 0.0);
    fx_par(s, post, "V_reset", 0.0);
    fx_par(s, post, "V_th", 10.0);
    fx_proj(s, drv, post, SNN_CONN_ONE_TO_ONE, 50.0, dt);
    /* 16 pixels x 0.4 mV = 6.4 mV: the image alone fires no one. */
    snn_proj_spec *pl = local_proj(s, img, post, 6, 6, 4, 2, 1);
    pl->weight.a = w0;
    pl->delay_ms.a = 0.5;
    pl->rule = snn_rule_find("diehl_cook");
    assert_non_null(pl->rule);
    assert_int_equal(pl->rule->n_params, N_PAR);
    const double par[N_PAR] = {[ETA_PRE] = 0.05, [ETA_POST] = 0.1, [X_TAR] = 0.0,
                               [TAU_PRE] = 20.0, [TAU_POST] = 30.0, [W_MAX] = 1.0,
                               [MU] = 1.0,       [TRACE] = 1.0 /* set */};
    pl->rule_par = malloc(sizeof par);
    memcpy(pl->rule_par, par, sizeof par);
    snn_net *net = NULL;
    snn_err err;
    if (snn_net_build(&net, s, 2, &err))
        fail_msg("build failed: %s", err.msg);
    double t_post[4] = {-1, -1, -1, -1}, t_img[2];
    size_t n_img = 0;
    for (size_t k = 0; k < net->n_steps; k++) {
        if (snn_sched_clock_run(net, 1, NULL, NULL, &err))
            fail_msg("%s", err.msg);
        const snn_spikes *sp = &net->pops[post].spk[0];
        if (net->pops[img].spk[0].n) {
            assert_int_equal(net->pops[img].spk[0].n, 36);
            assert_true(n_img < 2);
            t_img[n_img++] = (double)(k + 1) * dt;
        }
        for (size_t q = 0; q < sp->n; q++) {
            assert_true(t_post[sp->id[q]] < 0); /* each fires at most once */
            t_post[sp->id[q]] = (double)(k + 1) * dt;
        }
    }
    assert_int_equal(n_img, 2);
    assert_true(t_post[0] > 14.0 && t_post[0] < 15.0);
    assert_true(t_post[3] > 25.0 && t_post[3] < 26.0);
    assert_true(t_post[1] < 0 && t_post[2] < 0);
    const snn_proj *pj = &net->projs[1];
    syn x = get_syn(pj);
    assert_int_equal(x.nnz, 4 * 16);
    for (size_t m = 0; m < x.nnz; m++) {
        assert_true(in_patch(x.pre[m], x.post[m], 6, 4, 2, 2, 1));
        double w = w0, tp = t_post[x.post[m]];
        if (tp > 0) {
            w += par[ETA_POST] * exp(-(tp - t_img[0]) / par[TAU_PRE]) * (par[W_MAX] - w);
            w -= par[ETA_PRE] * exp(-(t_img[1] - tp) / par[TAU_POST]) * w;
        }
        snn_assert_close(x.w[m], w, 1e-12, 0);
    }
    /* Normalisation over each neuron's own 16 synapses. */
    snn_net_normalize(net, &net->projs[1], 3.2);
    free_syn(&x);
    x = get_syn(pj);
    double sum[4] = {0};
    for (size_t m = 0; m < x.nnz; m++)
        sum[x.post[m]] += x.w[m];
    for (size_t j = 0; j < 4; j++)
        snn_assert_close(sum[j], 3.2, 1e-12, 0);
    free_syn(&x);
    snn_net_free(net);
    snn_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_mnist),        cmocka_unit_test(test_local_edges),
        cmocka_unit_test(test_local_geometry_errors), cmocka_unit_test(test_local_groups),
        cmocka_unit_test(test_cfg_local),          cmocka_unit_test(test_cfg_local_groups),
        cmocka_unit_test(test_experiment_file), cmocka_unit_test(test_learning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
