/*
 * tests/unit/test_lif_fast.c: the shortcuts of models/lif.c's clock step
 * and the engine's default thread count (sim/net.c).
 *
 * lif_step skips reading and writing theta while theta_plus == 0 and a
 * block's theta are all +-0 (lif_plan tells it so for a whole run segment
 * at once), and finds the spiking neurons again from the
 * stored V_m and theta a chunk at a time.  Each case is checked against the
 * documented update written out by hand per neuron (same operations in the
 * same order, so the comparison is bit-exact): theta set by hand with
 * theta_plus = 0 (it must decay and raise the threshold), +-0 and subnormal
 * theta, and spikes scattered over blocks and chunks.  The default thread
 * count uses one thread per 32 blocks, an explicit count is kept.
 */
#include "../support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "../fixture.h"
#include "sim/net.h"
#include "sim/pop.h"

extern const snn_model_type lif_type;

typedef struct ref {
    double v, ie, ii, th;
    int32_t refr;
} ref;

typedef struct lif {
    snn_pop_spec s;
    snn_pop p;
    int v, ie, ii, th;
    double e_l, v_th, v_reset, theta_plus, i_e;
    double p22, p11e, p11i, p21e, p21i, p20, decay;
    int32_t ref_steps;
} lif;

static double par_of(const snn_pop_spec *s, const char *key)
{
    int k = snn_model_param_index(&lif_type, key);
    assert_true(k >= 0);
    return s->par[k];
}

static void set_par(lif *f, const char *key, double v)
{
    int k = snn_model_param_index(&lif_type, key);
    assert_true(k >= 0);
    f->s.par[k] = v;
}

static void setup(lif *f, size_t n)
{
    snn_err err = {0};
    memset(f, 0, sizeof *f);
    assert_int_equal(snn_pop_spec_defaults(&f->s, &lif_type, n, "lif", &err), SNN_OK);
    f->v = snn_model_state_index(&lif_type, "V_m");
    f->ie = snn_model_state_index(&lif_type, "I_syn_ex");
    f->ii = snn_model_state_index(&lif_type, "I_syn_in");
    f->th = snn_model_state_index(&lif_type, "theta");
}

/* Build, and derive the propagators as the header of models/lif.c states
   them (tau_syn_ex = 2 ms, tau_syn_in = 5 ms, tau_m = 10 ms: no limit case). */
static void build(lif *f, double dt)
{
    snn_err err = {0};
    if (snn_pop_init(&f->p, &f->s, 0, dt, 7, 1, &err))
        fail_msg("snn_pop_init: %s", err.msg);
    double c = par_of(&f->s, "C_m"), tm = par_of(&f->s, "tau_m");
    double te = par_of(&f->s, "tau_syn_ex"), ti = par_of(&f->s, "tau_syn_in");
    f->e_l = par_of(&f->s, "E_L");
    f->v_th = par_of(&f->s, "V_th");
    f->v_reset = par_of(&f->s, "V_reset");
    f->theta_plus = par_of(&f->s, "theta_plus");
    f->i_e = par_of(&f->s, "I_e");
    f->ref_steps = (int32_t)lround(par_of(&f->s, "t_ref") / dt);
    f->p22 = exp(-dt / tm);
    f->p11e = exp(-dt / te);
    f->p11i = exp(-dt / ti);
    /* (1/C) e^{-h/tau_slow} (-expm1(-h|a|))/|a| */
    double ae = fabs(1.0 / te - 1.0 / tm), ai = fabs(1.0 / ti - 1.0 / tm);
    f->p21e = exp(-dt / (te > tm ? te : tm)) * (-expm1(-dt * ae) / ae) / c;
    f->p21i = exp(-dt / (ti > tm ? ti : tm)) * (-expm1(-dt * ai) / ai) / c;
    f->p20 = -tm / c * expm1(-dt / tm);
    f->decay = exp(-dt / par_of(&f->s, "tau_theta"));
}

static void teardown(lif *f)
{
    snn_pop_clear(&f->p);
    snn_pop_spec_clear(&f->s);
}

static ref ref_of(const lif *f, size_t i)
{
    ref r = {f->p.x[f->v][i], f->p.x[f->ie][i], f->p.x[f->ii][i], f->p.x[f->th][i],
             f->p.refr[i]};
    return r;
}

/* The documented step of one neuron with arrivals (ae, ai); returns 1 on a spike. */
static int ref_step(const lif *f, ref *r, double ae, double ai)
{
    int32_t rf = r->refr;
    r->refr = rf > 0 ? rf - 1 : 0;
    double ie = r->ie + ae, ii = r->ii + ai;
    double vf = f->e_l + f->p22 * (r->v - f->e_l) + f->p21e * ie + f->p21i * ii + f->p20 * f->i_e;
    r->v = rf > 0 ? f->v_reset : vf;
    r->ie = ie * f->p11e;
    r->ii = ii * f->p11i;
    r->th = r->th * f->decay;
    if (r->v >= f->v_th + r->th) {
        r->v = f->v_reset;
        r->refr = f->ref_steps;
        r->th += f->theta_plus;
        return 1;
    }
    return 0;
}

/* Step every block once with arrivals ae(i) = w_e on neurons i % 3 == 0;
   compare spikes and the whole state with the reference, bit for bit, and
   count each neuron's spikes in cnt (if not NULL). */
static size_t step_and_check(lif *f, ref *r, size_t k, double w_e, unsigned *cnt)
{
    size_t n = f->p.n;
    double *ae = snn_pop_slot(&f->p, 0, 0);
    for (size_t i = 0; i < n; i += 3)
        ae[i] += w_e;
    uint32_t want[1024];
    size_t n_want = 0;
    for (size_t i = 0; i < n; i++)
        if (ref_step(f, &r[i], i % 3 == 0 ? w_e : 0.0, 0.0))
            want[n_want++] = (uint32_t)i;
    size_t got = 0;
    for (size_t b = 0; b < f->p.n_blk; b++) {
        snn_pop_step_block(&f->p, b, 0, k);
        const snn_spikes *s = &f->p.spk[b];
        for (size_t m = 0; m < s->n; m++, got++) {
            assert_true(got < n_want);
            assert_int_equal(s->id[m], want[got]);
            assert_int_equal(s->mult[m], 1);
            if (cnt)
                cnt[s->id[m]]++;
        }
    }
    assert_int_equal(got, n_want);
    for (size_t i = 0; i < n; i++) {
        ref now = ref_of(f, i);
        if (memcmp(&now.v, &r[i].v, sizeof now.v) || memcmp(&now.th, &r[i].th, sizeof now.th) ||
            memcmp(&now.ie, &r[i].ie, sizeof now.ie) || now.refr != r[i].refr)
            fail_msg("step %zu neuron %zu: V %.17g theta %.17g I %.17g refr %d, expected "
                     "V %.17g theta %.17g I %.17g refr %d",
                     k, i, now.v, now.th, now.ie, (int)now.refr, r[i].v, r[i].th, r[i].ie,
                     (int)r[i].refr);
    }
    assert_true(snn_pop_slot(&f->p, 0, 0)[0] == 0.0); /* the slot was consumed */
    return got;
}

/* theta_plus = 0 but theta set by hand in one block: it decays exactly and
   holds back the spikes it should; blocks with theta +-0 (and the block
   with a subnormal theta) follow the same update. */
static void test_theta_without_plus(void **state)
{
    (void)state;
    lif f;
    setup(&f, 700); /* blocks of 256, 256, 188 */
    set_par(&f, "I_e", 500.0);  /* V_inf = E_L + 20 mV = V_th + 5 mV */
    set_par(&f, "tau_theta", 50.0);
    set_par(&f, "t_ref", 1.0);
    build(&f, 0.1);
    assert_true(f.theta_plus == 0.0);
    for (size_t i = 0; i < f.p.n; i++) /* spread V over [E_L, V_th) */
        f.p.x[f.v][i] = f.e_l + (f.v_th - f.e_l) * (double)(i % 97) / 97.0;
    for (size_t i = 0; i < 256; i++)
        f.p.x[f.th][i] = i % 2 ? 4.0 : 0.0;       /* block 0: theta moves */
    for (size_t i = 256; i < 512; i++)
        f.p.x[f.th][i] = i % 2 ? -0.0 : 0.0;      /* block 1: +-0 */
    f.p.x[f.th][600] = 4.9406564584124654e-324;  /* block 2: subnormal */
    /* the segment's plan must not promise a resting theta */
    f.p.plan = lif_type.plan(&f.p);
    assert_int_equal(f.p.plan, 0);
    ref r[700];
    for (size_t i = 0; i < f.p.n; i++)
        r[i] = ref_of(&f, i);
    size_t spikes = 0;
    unsigned cnt[700] = {0};
    for (size_t k = 0; k < 400; k++)
        spikes += step_and_check(&f, r, k, k % 5 == 0 ? 30.0 : 0.0, cnt);
    assert_true(spikes > 1000);
    /* the odd neurons of block 0 had a threshold up to 4 mV higher */
    unsigned odd = 0, even = 0;
    for (size_t i = 0; i < 256; i++)
        *(i % 2 ? &odd : &even) += cnt[i];
    if (!(odd > 0 && 10 * odd < 9 * even)) /* 289 vs 382 */
        fail_msg("block 0: %u spikes of odd neurons (theta 4 mV), %u of even ones", odd, even);
    /* theta of block 0 decayed by exactly decay^400 (products, as the model) */
    double want = 4.0;
    for (int k = 0; k < 400; k++)
        want *= f.decay;
    assert_true(f.p.x[f.th][1] == want && want > 0.1);
    assert_true(f.p.x[f.th][0] == 0.0 && f.p.x[f.th][300] == 0.0);
    teardown(&f);
}

/* Many neurons at once in one step, in every chunk of a block and across
   blocks (including a partial one): ids ascending and complete. */
static void test_scattered_spikes(void **state)
{
    (void)state;
    lif f;
    setup(&f, 300);
    set_par(&f, "theta_plus", 0.0);
    build(&f, 0.1);
    size_t n_fire = 0;
    for (size_t i = 0; i < f.p.n; i++) {
        bool fire = i % 7 == 0 || i == 31 || i == 32 || i == 255 || i == 256 || i == 299;
        f.p.x[f.v][i] = fire ? f.v_th + 1.0 : f.v_th - 5.0;
        n_fire += fire;
    }
    /* theta all 0 and theta_plus 0: the plan says theta rests, and the
       steps that rely on it match the reference bit for bit */
    f.p.plan = lif_type.plan(&f.p);
    assert_int_not_equal(f.p.plan, 0);
    f.p.x[f.th][299] = -0.0;
    assert_int_not_equal(lif_type.plan(&f.p), 0);
    f.p.x[f.th][299] = 4.9406564584124654e-324; /* subnormal: it moves */
    assert_int_equal(lif_type.plan(&f.p), 0);
    f.p.x[f.th][299] = 0.0;
    ref r[300];
    for (size_t i = 0; i < f.p.n; i++)
        r[i] = ref_of(&f, i);
    assert_int_equal(step_and_check(&f, r, 0, 0.0, NULL), n_fire);
    /* the next step: the fired ones are refractory at V_reset, the rest quiet */
    assert_int_equal(step_and_check(&f, r, 1, 0.0, NULL), 0);
    assert_true(f.p.x[f.v][299] == f.v_reset && f.p.refr[299] == f.ref_steps - 1);
    teardown(&f);
}

/* The default thread count: one per 32 blocks, at most the OpenMP default;
   an explicit count is used as given. */
static void test_default_threads(void **state)
{
    (void)state;
    int max_t = omp_get_max_threads();
    omp_set_num_threads(4);
    const struct {
        size_t n_exc, n_src;
        int ask, want;
    } cases[] = {
        {4000, 0, 0, 1},     /* 16 blocks (CUBA) */
        {8192, 0, 0, 1},     /* 32 */
        {8192, 8192, 0, 2},  /* 64: sources count too */
        {50000, 0, 0, 4},    /* 196: the OpenMP default caps it */
        {4000, 0, 2, 2},     /* explicit */
        {100, 0, 3, 3},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snn_spec *s = fx_spec(0.1, 1.0, 1);
        s->threads = 0;
        fx_pop(s, "exc", "lif", cases[c].n_exc);
        if (cases[c].n_src)
            fx_pop(s, "src", "poisson", cases[c].n_src);
        snn_net *net = NULL;
        snn_err err;
        if (snn_net_build(&net, s, cases[c].ask, &err))
            fail_msg("build: %s", err.msg);
        if (net->threads != cases[c].want)
            fail_msg("case %zu: %d threads, expected %d", c, net->threads, cases[c].want);
        snn_net_free(net);
        /* the spec's own count is explicit too */
        s->threads = 3;
        if (snn_net_build(&net, s, 0, &err))
            fail_msg("build: %s", err.msg);
        assert_int_equal(net->threads, 3);
        snn_net_free(net);
        snn_spec_free(s);
    }
    omp_set_num_threads(max_t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_theta_without_plus),
        cmocka_unit_test(test_scattered_spikes),
        cmocka_unit_test(test_default_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
