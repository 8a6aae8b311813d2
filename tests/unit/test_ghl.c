/*
 * tests/unit/test_ghl.c: rules/ghl.c, global-guided Hebbian learning and
 * pruning, against hand-computed closed forms.
 *
 * The hand case: two inputs x = (1, 0.5), two neurons y = (0.8, 0.3),
 * W = [[0.2, 0.4], [0.9, -0.1]] (pre-major), eta = 0.1, so Oja's local
 * update eta y_j (x_i - y_j w_ij) is
 *     dl = [[0.08·0.84, 0.03·0.88], [0.08·(-0.22), 0.03·0.53]]
 *        = [[0.0672, 0.0264], [-0.0176, 0.0159]],
 * and the gradient g = dL/dy = (+1.5, -2) asks neuron 0 to go down and
 * neuron 1 to go up.  Each mode's update is checked against its closed
 * form, `none` against a plain Oja loop bit for bit, per-neuron against
 * per-synapse signs (equal for positive inputs, different for a negative
 * or zero input), the counters, hard/soft competition, top-fraction
 * sparsity, thread-count independence and pruning.
 *
 * decay "local" (the global sign steers only the Hebbian term h = eta y_j
 * x_i; Oja's decay d = eta y_j^2 w_ij is kept): in the hand case
 *     h = [[0.08, 0.03], [0.04, 0.015]],  d = [[0.0128, 0.0036], [0.0576, -0.0009]]
 * (h - d = dl), so direction gives -sgn(g_j)|h| - d and gate h - d where
 * sgn(h) = -sgn(g_j), else -d.  Its weights stay bounded where decay
 * "guided" diverges (test_decay_bounds).
 */
#include "../support.h"

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fixture.h"
#include "rules/ghl.h"
#include "rules/rule.h"
#include "sim/net.h"

static const double X2[2] = {1.0, 0.5}, Y2[2] = {0.8, 0.3};
static const double W2[4] = {0.2, 0.4, 0.9, -0.1};
static const double G2[2] = {1.5, -2.0};
static const double DL2[4] = {0.0672, 0.0264, -0.0176, 0.0159};

static snn_ghl *make(size_t n_in, size_t n_out, const snn_ghl_opts *o)
{
    snn_ghl *g;
    snn_err err;
    if (snn_ghl_alloc(&g, n_in, n_out, o, &err))
        fail_msg("%s", err.msg);
    return g;
}

static void run(const snn_ghl_opts *o, size_t n_in, size_t n_out, const double *x,
                const double *y, const double *grad, const uint8_t *mask, double *W,
                snn_ghl_counts *cnt)
{
    snn_ghl *g = make(n_in, n_out, o);
    snn_err err;
    if (snn_ghl_update(g, x, y, grad, mask, W, cnt, &err))
        fail_msg("%s", err.msg);
    snn_ghl_free(g);
}

static snn_ghl_opts opts(int mode, double mix)
{
    snn_ghl_opts o;
    snn_ghl_opts_default(&o);
    o.eta = 0.1;
    o.mode = mode;
    o.mix = mix;
    return o;
}

static void expect(const double *W, const double *want, size_t n)
{
    for (size_t p = 0; p < n; p++)
        snn_assert_close(W[p], want[p], 0, 1e-15);
}

/* Closed forms of the three modes and of the mixing weight. */
static void test_modes_closed_form(void **state)
{
    (void)state;
    double W[4];
    snn_ghl_counts c;

    /* none: W + dl (and the gradient and mix are ignored) */
    snn_ghl_opts o = opts(SNN_GHL_NONE, 0.3);
    memcpy(W, W2, sizeof W);
    memset(&c, 0, sizeof c);
    run(&o, 2, 2, X2, Y2, G2, NULL, W, &c);
    double want_none[4] = {0.2 + 0.0672, 0.4 + 0.0264, 0.9 - 0.0176, -0.1 + 0.0159};
    expect(W, want_none, 4);
    assert_int_equal(c.local, 4);
    assert_int_equal(c.reversed + c.gated, 0);

    /* direction: |dl| · (-sgn g_j): column 0 down, column 1 up.  Only
       (0,0) had a local update up the gradient: one reversal. */
    o = opts(SNN_GHL_DIRECTION, 1.0);
    memcpy(W, W2, sizeof W);
    memset(&c, 0, sizeof c);
    run(&o, 2, 2, X2, Y2, G2, NULL, W, &c);
    double want_dir[4] = {0.2 - 0.0672, 0.4 + 0.0264, 0.9 - 0.0176, -0.1 + 0.0159};
    expect(W, want_dir, 4);
    assert_int_equal(c.local, 4);
    assert_int_equal(c.reversed, 1);
    assert_int_equal(c.gated, 0);
    assert_int_equal(c.stimuli, 1);

    /* gate: dl where sgn(dl) = -sgn(g_j): (0,0) is gated out. */
    o = opts(SNN_GHL_GATE, 1.0);
    memcpy(W, W2, sizeof W);
    memset(&c, 0, sizeof c);
    run(&o, 2, 2, X2, Y2, G2, NULL, W, &c);
    double want_gate[4] = {0.2, 0.4 + 0.0264, 0.9 - 0.0176, -0.1 + 0.0159};
    expect(W, want_gate, 4);
    assert_int_equal(c.gated, 1);
    assert_int_equal(c.reversed, 0);

    /* mix 0.25: 0.75 dl + 0.25 dg. */
    o = opts(SNN_GHL_DIRECTION, 0.25);
    memcpy(W, W2, sizeof W);
    run(&o, 2, 2, X2, Y2, G2, NULL, W, NULL);
    double want_mix[4] = {0.2 + 0.5 * 0.0672, 0.4 + 0.0264, 0.9 - 0.0176, -0.1 + 0.0159};
    expect(W, want_mix, 4);
    o = opts(SNN_GHL_GATE, 0.25);
    memcpy(W, W2, sizeof W);
    run(&o, 2, 2, X2, Y2, G2, NULL, W, NULL);
    double want_mixg[4] = {0.2 + 0.75 * 0.0672, 0.4 + 0.0264, 0.9 - 0.0176, -0.1 + 0.0159};
    expect(W, want_mixg, 4);
    /* mix 0: the local update whatever the mode. */
    o = opts(SNN_GHL_GATE, 0.0);
    memcpy(W, W2, sizeof W);
    run(&o, 2, 2, X2, Y2, G2, NULL, W, NULL);
    expect(W, want_none, 4);

    /* Flipping the gradient flips which synapses are reversed or gated. */
    const double gneg[2] = {-1.5, 2.0};
    o = opts(SNN_GHL_DIRECTION, 1.0);
    memcpy(W, W2, sizeof W);
    memset(&c, 0, sizeof c);
    run(&o, 2, 2, X2, Y2, gneg, NULL, W, &c);
    double want_dirn[4] = {0.2 + 0.0672, 0.4 - 0.0264, 0.9 + 0.0176, -0.1 - 0.0159};
    expect(W, want_dirn, 4);
    assert_int_equal(c.reversed, 3);

    /* A zero gradient gives no guided update: counted as gated. */
    const double gzero[2] = {0.0, -2.0};
    o = opts(SNN_GHL_DIRECTION, 1.0);
    memcpy(W, W2, sizeof W);
    memset(&c, 0, sizeof c);
    run(&o, 2, 2, X2, Y2, gzero, NULL, W, &c);
    double want_z[4] = {0.2, 0.4 + 0.0264, 0.9, -0.1 + 0.0159};
    expect(W, want_z, 4);
    assert_int_equal(c.gated, 2);
    (void)DL2;
}

/* Uniform values in [lo, hi) from an xorshift stream keyed by seed. */
static void fill(double *v, size_t n, unsigned seed, double lo, double hi)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v[i] = lo + (hi - lo) * (double)(s >> 11) / 9007199254740992.0;
    }
}

/* decay "local": closed forms of direction, gate, mix and a zero sign. */
static void test_local_decay_closed_form(void **state)
{
    (void)state;
    double W[4];
    snn_ghl_counts c;
    /* h and d of the hand case (header) */
    const double h[4] = {0.08, 0.03, 0.04, 0.015}, d[4] = {0.0128, 0.0036, 0.0576, -0.0009};
    for (int p = 0; p < 4; p++)
        snn_assert_close(h[p] - d[p], DL2[p], 0, 1e-15);

    /* direction: column 0 (g > 0) down, column 1 up: -sgn(g)|h| - d. */
    snn_ghl_opts o = opts(SNN_GHL_DIRECTION, 1.0);
    o.decay = SNN_GHL_DECAY_LOCAL;
    memcpy(W, W2, sizeof W);
    memset(&c, 0, sizeof c);
    run(&o, 2, 2, X2, Y2, G2, NULL, W, &c);
    double want_dir[4] = {0.2 - h[0] - d[0], 0.4 + h[1] - d[1], 0.9 - h[2] - d[2],
                          -0.1 + h[3] - d[3]};
    expect(W, want_dir, 4);
    assert_int_equal(c.local, 4);
    assert_int_equal(c.reversed, 2); /* h > 0 in column 0, which must go down */
    assert_int_equal(c.gated, 0);

    /* gate: column 0 keeps only the decay, column 1 Oja's dl. */
    o.mode = SNN_GHL_GATE;
    memcpy(W, W2, sizeof W);
    memset(&c, 0, sizeof c);
    run(&o, 2, 2, X2, Y2, G2, NULL, W, &c);
    double want_gate[4] = {0.2 - d[0], 0.4 + DL2[1], 0.9 - d[2], -0.1 + DL2[3]};
    expect(W, want_gate, 4);
    assert_int_equal(c.gated, 2);
    assert_int_equal(c.reversed, 0);

    /* mix 0.25: 0.75 dl + 0.25 dg. */
    o.mode = SNN_GHL_DIRECTION;
    o.mix = 0.25;
    memcpy(W, W2, sizeof W);
    run(&o, 2, 2, X2, Y2, G2, NULL, W, NULL);
    double want_mix[4] = {0.2 + 0.75 * DL2[0] + 0.25 * (-h[0] - d[0]), 0.4 + DL2[1],
                          0.9 + 0.75 * DL2[2] + 0.25 * (-h[2] - d[2]), -0.1 + DL2[3]};
    expect(W, want_mix, 4);

    /* A zero sign drops the Hebbian term and keeps the decay. */
    const double gzero[2] = {0.0, -2.0};
    o.mix = 1.0;
    for (int mode = SNN_GHL_DIRECTION; mode <= SNN_GHL_GATE; mode++) {
        o.mode = mode;
        memcpy(W, W2, sizeof W);
        memset(&c, 0, sizeof c);
        run(&o, 2, 2, X2, Y2, gzero, NULL, W, &c);
        double want_z[4] = {0.2 - d[0], 0.4 + DL2[1], 0.9 - d[2], -0.1 + DL2[3]};
        expect(W, want_z, 4);
        assert_int_equal(c.gated, 2);
    }

    /* top_frac path: one neuron, y = 1, W = (0.5, 0.1, 0, 0.2), eta 0.1,
       g = +1: dg = -0.1 (x + w) = (-0.06, -0.05, -0.03, -0.04); top_frac
       0.5 keeps synapses 0 and 1. */
    const double x4[4] = {0.1, 0.4, 0.3, 0.2}, y1[1] = {1.0}, gp[1] = {1.0};
    double W4[4] = {0.5, 0.1, 0.0, 0.2};
    o = opts(SNN_GHL_DIRECTION, 1.0);
    o.decay = SNN_GHL_DECAY_LOCAL;
    o.top_frac = 0.5;
    memset(&c, 0, sizeof c);
    run(&o, 4, 1, x4, y1, gp, NULL, W4, &c);
    snn_assert_close(W4[0], 0.44, 0, 1e-15);
    snn_assert_close(W4[1], 0.05, 0, 1e-15);
    assert_true(W4[2] == 0.0 && W4[3] == 0.2);
    assert_int_equal(c.reversed, 4);
    assert_int_equal(c.dropped, 2);
    /* gate, same sign: Hebbian terms dropped, decay -0.1 w: (-0.05, -0.01,
       0, -0.02); top 2: synapses 0 and 3. */
    double W5[4] = {0.5, 0.1, 0.0, 0.2};
    o.mode = SNN_GHL_GATE;
    memset(&c, 0, sizeof c);
    run(&o, 4, 1, x4, y1, gp, NULL, W5, &c);
    snn_assert_close(W5[0], 0.45, 0, 1e-15);
    snn_assert_close(W5[3], 0.18, 0, 1e-15);
    assert_true(W5[1] == 0.1 && W5[2] == 0.0);
    assert_int_equal(c.gated, 4);
}

/*
 * One linear neuron y = w·x on random inputs x in [0, 1]^8, eta 0.05, mix
 * 1, the global sign always "up" (g = -1, as a readout gives a neuron that
 * votes for the right class) or random.  decay "local": w·Δw = eta y^2 (c
 * - |w|^2) with c = ±1, so |w| stays below max(1, |w0|) up to O(eta) (here
 * + 0.1), in both modes; decay "guided": direction mode with the sign
 * always up turns Oja's decay into growth and |w| passes 1e3 (or
 * overflows) within the 2,000 stimuli.  Gate mode with decay "guided"
 * applies a subset of Oja's own steps, each moving w_i toward x_i / y
 * without passing it (eta y^2 < 1 here), so it stays bounded, though not
 * by 1 (sign up: it only grows; |w| reaches 1.65): checked below 10.
 */
static void test_decay_bounds(void **state)
{
    (void)state;
    enum { N = 8, S = 2000 };
    for (int variant = 0; variant < 8; variant++) {
        int mode = variant & 1 ? SNN_GHL_GATE : SNN_GHL_DIRECTION;
        int decay = variant & 2 ? SNN_GHL_DECAY_LOCAL : SNN_GHL_DECAY_GUIDED;
        int random_sign = variant & 4;
        snn_ghl_opts o = opts(mode, 1.0);
        o.eta = 0.05;
        o.decay = decay;
        snn_ghl *h = make(N, 1, &o);
        snn_err err;
        double w[N], x[N], y[1], g[1] = {-1.0}, r[1];
        fill(w, N, 70, 0.0, 0.5);
        double w0 = 0, wmax = 0;
        for (size_t i = 0; i < N; i++)
            w0 += w[i] * w[i];
        w0 = sqrt(w0);
        int blew = 0;
        for (unsigned s = 0; s < S && !blew; s++) {
            fill(x, N, 100 + s, 0.0, 1.0);
            if (random_sign) {
                fill(r, 1, 5000 + s, -1.0, 1.0);
                g[0] = r[0] < 0 ? -1.0 : 1.0;
            }
            y[0] = 0;
            for (size_t i = 0; i < N; i++)
                y[0] += w[i] * x[i];
            assert_int_equal(snn_ghl_update(h, x, y, g, NULL, w, NULL, &err), 0);
            double n2 = 0;
            for (size_t i = 0; i < N; i++)
                n2 += w[i] * w[i];
            blew = !(sqrt(n2) < 1e3);
            if (sqrt(n2) > wmax)
                wmax = sqrt(n2);
        }
        snn_ghl_free(h);
        const char *what = random_sign ? "random sign" : "sign up";
        if (mode == SNN_GHL_DIRECTION && decay == SNN_GHL_DECAY_GUIDED && !random_sign) {
            if (!blew)
                fail_msg("direction, decay guided, %s: max |w| = %g stayed bounded", what,
                         wmax);
        } else if (decay == SNN_GHL_DECAY_GUIDED) {
            if (mode == SNN_GHL_GATE && !(wmax < 10.0))
                fail_msg("gate, decay guided, %s: max |w| = %g", what, wmax);
            /* direction with a random sign: no bound claimed */
        } else if (blew || wmax > fmax(1.0, w0) + 0.1) {
            fail_msg("%s, decay %s, %s: max |w| = %g > max(1, |w0| = %g) + 0.1",
                     snn_ghl_mode_name(mode), snn_ghl_decay_name(decay), what, wmax, w0);
        }
    }
}

/* Plain Oja loop, the reference for mode none. */
static void oja_ref(size_t n_in, size_t n_out, const double *x, const double *y,
                    const uint8_t *learn, double eta, double *W)
{
    for (size_t i = 0; i < n_in; i++)
        for (size_t j = 0; j < n_out; j++)
            if (!learn || learn[j])
                W[i * n_out + j] += eta * y[j] * (x[i] - y[j] * W[i * n_out + j]);
}

/* mode none == Oja bit for bit, with all neurons and with k winners, over
   several stimuli. */
static void test_none_is_oja(void **state)
{
    (void)state;
    enum { NI = 37, NO = 11, S = 5 };
    double W[NI * NO], R[NI * NO], x[NI], y[NO], g[NO];
    fill(W, NI * NO, 1, -0.5, 0.5);
    memcpy(R, W, sizeof W);
    snn_ghl_opts o = opts(SNN_GHL_NONE, 0.7);
    o.eta = 0.01;
    snn_ghl *h = make(NI, NO, &o);
    snn_err err;
    for (unsigned s = 0; s < S; s++) {
        fill(x, NI, 10 + s, 0.0, 2.0);
        fill(y, NO, 20 + s, 0.0, 3.0);
        fill(g, NO, 30 + s, -1.0, 1.0);
        assert_int_equal(snn_ghl_update(h, x, y, g, NULL, W, NULL, &err), 0);
        oja_ref(NI, NO, x, y, NULL, o.eta, R);
    }
    snn_ghl_free(h);
    assert_memory_equal(W, R, sizeof W);

    /* k = 3 winners: the three largest y learn, the rest keep their weights. */
    o.k = 3;
    h = make(NI, NO, &o);
    fill(x, NI, 40, 0.0, 2.0);
    fill(y, NO, 41, 0.0, 3.0);
    uint8_t learn[NO] = {0};
    for (int q = 0; q < 3; q++) {
        size_t best = NO;
        for (size_t j = 0; j < NO; j++)
            if (!learn[j] && (best == NO || y[j] > y[best]))
                best = j;
        learn[best] = 1;
    }
    double W0[NI * NO];
    memcpy(W0, W, sizeof W);
    assert_int_equal(snn_ghl_update(h, x, y, NULL, NULL, W, NULL, &err), 0);
    oja_ref(NI, NO, x, y, learn, o.eta, R);
    assert_memory_equal(W, R, sizeof W);
    for (size_t j = 0; j < NO; j++) {
        if (learn[j])
            assert_true(W[j] != W0[j]);
        else
            for (size_t i = 0; i < NI; i++)
                assert_true(W[i * NO + j] == W0[i * NO + j]);
    }
    snn_ghl_free(h);
}

/* Per-neuron vs per-synapse signs through G_ij = x_i f'_j g_j. */
static void test_sign_identity(void **state)
{
    (void)state;
    const double fp[2] = {0.7, 0.2}; /* surrogate slopes, positive */
    for (int mode = SNN_GHL_DIRECTION; mode <= SNN_GHL_GATE; mode++) {
        snn_ghl_opts on = opts(mode, 1.0), os = on;
        os.sign = SNN_GHL_SIGN_SYNAPSE;
        double G[4], Wn[4], Ws[4];

        /* Positive inputs: identical updates, bit for bit. */
        snn_ghl_synapse_grad(2, 2, X2, fp, G2, G);
        for (int p = 0; p < 4; p++)
            assert_int_equal(G[p] > 0, G2[p % 2] > 0);
        memcpy(Wn, W2, sizeof Wn);
        memcpy(Ws, W2, sizeof Ws);
        run(&on, 2, 2, X2, Y2, G2, NULL, Wn, NULL);
        run(&os, 2, 2, X2, Y2, G, NULL, Ws, NULL);
        assert_memory_equal(Wn, Ws, sizeof Wn);

        /* A negative input flips its row's per-synapse sign. */
        const double xneg[2] = {1.0, -0.5};
        snn_ghl_synapse_grad(2, 2, xneg, fp, G2, G);
        memcpy(Wn, W2, sizeof Wn);
        memcpy(Ws, W2, sizeof Ws);
        run(&on, 2, 2, xneg, Y2, G2, NULL, Wn, NULL);
        run(&os, 2, 2, xneg, Y2, G, NULL, Ws, NULL);
        /* dl of row 1 with x_1 = -0.5: 0.08·(-0.5 - 0.72), 0.03·(-0.5 + 0.03) */
        double d10 = 0.1 * 0.8 * (-0.5 - 0.8 * 0.9), d11 = 0.1 * 0.3 * (-0.5 - 0.3 * -0.1);
        assert_true(Wn[0] == Ws[0] && Wn[1] == Ws[1]); /* row 0 agrees */
        if (mode == SNN_GHL_DIRECTION) {
            /* neuron: column 0 down, column 1 up; synapse row 1: the opposite */
            snn_assert_close(Wn[2], 0.9 - fabs(d10), 0, 1e-15);
            snn_assert_close(Ws[2], 0.9 + fabs(d10), 0, 1e-15);
            snn_assert_close(Wn[3], -0.1 + fabs(d11), 0, 1e-15);
            snn_assert_close(Ws[3], -0.1 - fabs(d11), 0, 1e-15);
        } else {
            /* both dl < 0: neuron 0 wants down (kept), neuron 1 up (gated);
               per synapse the other way round */
            snn_assert_close(Wn[2], 0.9 + d10, 0, 1e-15);
            assert_true(Wn[3] == -0.1);
            assert_true(Ws[2] == 0.9);
            snn_assert_close(Ws[3], -0.1 + d11, 0, 1e-15);
        }

        /* A zero input: per synapse that row is left alone (sign 0), per
           neuron Oja's decay term -eta y_j^2 w_ij is steered. */
        const double xz[2] = {1.0, 0.0};
        snn_ghl_synapse_grad(2, 2, xz, fp, G2, G);
        memcpy(Wn, W2, sizeof Wn);
        memcpy(Ws, W2, sizeof Ws);
        snn_ghl_counts cs = {0};
        run(&on, 2, 2, xz, Y2, G2, NULL, Wn, NULL);
        run(&os, 2, 2, xz, Y2, G, NULL, Ws, &cs);
        assert_true(Ws[2] == 0.9 && Ws[3] == -0.1);
        assert_true(Wn[2] != 0.9 && Wn[3] != -0.1);
        assert_int_equal(cs.gated, 2 + (mode == SNN_GHL_GATE)); /* + (0,0) in gate */

        /* decay local: where x_i = 0 the Hebbian term is 0, so both
           granularities leave only Oja's decay there: identical updates. */
        on.decay = os.decay = SNN_GHL_DECAY_LOCAL;
        memcpy(Wn, W2, sizeof Wn);
        memcpy(Ws, W2, sizeof Ws);
        run(&on, 2, 2, xz, Y2, G2, NULL, Wn, NULL);
        run(&os, 2, 2, xz, Y2, G, NULL, Ws, NULL);
        assert_memory_equal(Wn, Ws, sizeof Wn);
        snn_assert_close(Wn[2], 0.9 - 0.1 * 0.64 * 0.9, 0, 1e-15);
    }
}

/* Hard k winners (ties to the lower index) and softmax competition. */
static void test_competition(void **state)
{
    (void)state;
    const double x[2] = {1.0, 0.5};
    const double y[3] = {0.5, 0.5, 0.9};
    const double W0[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    double W[6];

    /* k = 2: neurons 2 and 0 (the tie 0/1 goes to 0). */
    snn_ghl_opts o = opts(SNN_GHL_NONE, 1.0);
    o.k = 2;
    snn_ghl *g = make(2, 3, &o);
    snn_err err;
    memcpy(W, W0, sizeof W);
    assert_int_equal(snn_ghl_update(g, x, y, NULL, NULL, W, NULL, &err), 0);
    const double *a = snn_ghl_factors(g);
    assert_true(a[0] == 0.5 && a[1] == 0.0 && a[2] == 0.9);
    for (size_t i = 0; i < 2; i++) {
        assert_true(W[i * 3 + 1] == W0[i * 3 + 1]);
        for (size_t j = 0; j < 3; j += 2) {
            double w0 = W0[i * 3 + j];
            snn_assert_close(W[i * 3 + j], w0 + 0.1 * y[j] * (x[i] - y[j] * w0), 0, 1e-15);
        }
    }
    snn_ghl_free(g);

    /* Softmax over all neurons at T = 0.25:
       a = exp(y/T) / sum = (e^2, e^2, e^3.6) / (2 e^2 + e^3.6). */
    o.k = 0;
    o.temperature = 0.25;
    g = make(2, 3, &o);
    memcpy(W, W0, sizeof W);
    assert_int_equal(snn_ghl_update(g, x, y, NULL, NULL, W, NULL, &err), 0);
    a = snn_ghl_factors(g);
    double z = 2 * exp(2.0) + exp(3.6), want_a[3] = {exp(2.0) / z, exp(2.0) / z, exp(3.6) / z};
    for (size_t j = 0; j < 3; j++)
        snn_assert_close(a[j], want_a[j], 1e-14, 0);
    snn_assert_close(a[0] + a[1] + a[2], 1.0, 1e-15, 0);
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 3; j++)
            snn_assert_close(W[i * 3 + j],
                             W0[i * 3 + j] + 0.1 * want_a[j] * (x[i] - y[j] * W0[i * 3 + j]),
                             0, 1e-15);
    snn_ghl_free(g);

    /* Softmax among the k = 2 winners only: a = (1, 0, e^1.6) / (1 + e^1.6). */
    o.k = 2;
    g = make(2, 3, &o);
    memcpy(W, W0, sizeof W);
    assert_int_equal(snn_ghl_update(g, x, y, NULL, NULL, W, NULL, &err), 0);
    a = snn_ghl_factors(g);
    snn_assert_close(a[0], 1.0 / (1.0 + exp(1.6)), 1e-14, 0);
    assert_true(a[1] == 0.0);
    snn_assert_close(a[2], exp(1.6) / (1.0 + exp(1.6)), 1e-14, 0);
    snn_ghl_free(g);
}

/* top_frac: only the ceil(frac · n_in) largest |dw| of each learner change. */
static void test_top_fraction(void **state)
{
    (void)state;
    /* One neuron y = 1, w = 0: dw_i = eta x_i.  x = (0.1, -0.4, 0.3, 0.2),
       top_frac 0.5 keeps i = 1 and 2. */
    const double x[4] = {0.1, -0.4, 0.3, 0.2}, y[1] = {1.0};
    double W[4] = {0, 0, 0, 0};
    snn_ghl_opts o = opts(SNN_GHL_NONE, 1.0);
    o.top_frac = 0.5;
    snn_ghl_counts c = {0};
    run(&o, 4, 1, x, y, NULL, NULL, W, &c);
    assert_true(W[0] == 0.0 && W[3] == 0.0);
    snn_assert_close(W[1], -0.04, 0, 1e-16);
    snn_assert_close(W[2], 0.03, 0, 1e-16);
    assert_int_equal(c.dropped, 2);
    assert_int_equal(c.local, 4);

    /* ceil(0.3 · 4) = 2 as well; 0.2 keeps 1; ties keep the lower index. */
    const double xt[4] = {0.3, 0.3, 0.3, 0.1};
    memset(W, 0, sizeof W);
    o.top_frac = 0.2;
    run(&o, 4, 1, xt, y, NULL, NULL, W, NULL);
    assert_true(W[0] != 0.0 && W[1] == 0.0 && W[2] == 0.0 && W[3] == 0.0);

    /* Selection acts on the guided update: in gate mode the gated synapse
       (dw = 0) is not selected over a live one. */
    const double g[1] = {-1.0}; /* wants w up: negative dl are gated */
    memset(W, 0, sizeof W);
    o = opts(SNN_GHL_GATE, 1.0);
    o.top_frac = 0.5;
    memset(&c, 0, sizeof c);
    run(&o, 4, 1, x, y, g, NULL, W, &c);
    assert_true(W[1] == 0.0 && W[3] != 0.0 && W[2] != 0.0 && W[0] == 0.0);
    assert_int_equal(c.gated, 1);
    assert_int_equal(c.dropped, 1);

    /* A mask excludes pruned synapses from every update. */
    uint8_t mask[4] = {1, 0, 1, 1};
    memset(W, 0, sizeof W);
    o = opts(SNN_GHL_NONE, 1.0);
    run(&o, 4, 1, x, y, NULL, mask, W, NULL);
    assert_true(W[1] == 0.0 && W[0] != 0.0 && W[2] != 0.0 && W[3] != 0.0);
}

/* Scalar reference of ghl.h's formulas (hard competition, no top_frac). */
static void ghl_ref(const snn_ghl_opts *o, size_t n_in, size_t n_out, const double *x,
                    const double *y, const double *grad, const uint8_t *learn, double *W)
{
    for (size_t i = 0; i < n_in; i++)
        for (size_t j = 0; j < n_out; j++) {
            if (!learn[j])
                continue;
            size_t p = i * n_out + j;
            double dl = o->eta * y[j] * (x[i] - y[j] * W[p]);
            if (o->mode == SNN_GHL_NONE) {
                W[p] = W[p] + dl;
                continue;
            }
            double gj = o->sign == SNN_GHL_SIGN_SYNAPSE ? grad[p] : grad[j];
            double s = gj > 0 ? 1.0 : (gj < 0 ? -1.0 : 0.0), dg;
            double h = o->eta * y[j] * x[i], d = o->eta * y[j] * (y[j] * W[p]);
            if (o->decay == SNN_GHL_DECAY_LOCAL && o->mode == SNN_GHL_DIRECTION)
                dg = -s * fabs(h) - d;
            else if (o->decay == SNN_GHL_DECAY_LOCAL)
                dg = ((h > 0 && s < 0) || (h < 0 && s > 0) ? h : 0.0) - d;
            else if (o->mode == SNN_GHL_DIRECTION)
                dg = -s * fabs(dl);
            else
                dg = (dl > 0 && s < 0) || (dl < 0 && s > 0) ? dl : 0.0;
            W[p] = W[p] + ((1.0 - o->mix) * dl + o->mix * dg);
        }
}

/* Every mode × sign × mix × learner path (few listed learners or whole
   rows) × decay against the scalar reference, bit for bit, on random data
   with some zero gradients and some negative inputs. */
static void test_against_reference(void **state)
{
    (void)state;
    enum { NI = 23, NO = 17 };
    double x[NI], y[NO], G[NI * NO], W[NI * NO], R[NI * NO];
    fill(x, NI, 50, 0.0, 1.0);
    x[3] = -0.4; /* a negative input: |h| differs from h */
    fill(y, NO, 51, 0.0, 2.0);
    fill(G, NI * NO, 52, -1.0, 1.0);
    for (size_t p = 0; p < NI * NO; p += 7)
        G[p] = 0.0;
    const double mixes[3] = {0.0, 0.35, 1.0};
    const size_t ks[3] = {0, 2, 9}; /* all; 2 of 17: listed; 9: whole rows */
    for (int decay = 0; decay <= SNN_GHL_DECAY_LOCAL; decay++)
    for (int mode = 0; mode <= SNN_GHL_GATE; mode++)
        for (int sign = 0; sign <= 1; sign++)
            for (int mi = 0; mi < 3; mi++)
                for (int ki = 0; ki < 3; ki++) {
                    snn_ghl_opts o = opts(mode, mixes[mi]);
                    o.sign = sign;
                    o.k = ks[ki];
                    o.decay = decay;
                    fill(W, NI * NO, 53 + (unsigned)ki, -0.5, 0.5);
                    memcpy(R, W, sizeof W);
                    uint8_t learn[NO];
                    memset(learn, ks[ki] ? 0 : 1, sizeof learn);
                    for (size_t q = 0; q < ks[ki]; q++) { /* the k largest y */
                        size_t best = NO;
                        for (size_t j = 0; j < NO; j++)
                            if (!learn[j] && (best == NO || y[j] > y[best]))
                                best = j;
                        learn[best] = 1;
                    }
                    snn_ghl_counts c = {0};
                    run(&o, NI, NO, x, y, sign ? G : G + 5, NULL, W, &c);
                    ghl_ref(&o, NI, NO, x, y, sign ? G : G + 5, learn, R);
                    if (memcmp(W, R, sizeof W) != 0)
                        fail_msg("mode %d sign %d mix %g k %zu decay %d differs from the "
                                 "reference", mode, sign, mixes[mi], ks[ki], decay);
                    size_t nl = ks[ki] ? ks[ki] : NO;
                    assert_int_equal(c.local, nl * NI);
                }
}

/* Both code paths give the same bits for 1 and 3 threads. */
static void test_threads(void **state)
{
    (void)state;
    enum { NI = 400, NO = 200 };
    double *x = malloc(NI * sizeof(double)), *y = malloc(NO * sizeof(double));
    double *G = malloc(NI * NO * sizeof(double));
    double *W0 = malloc(NI * NO * sizeof(double)), *W1 = malloc(NI * NO * sizeof(double));
    double *W3 = malloc(NI * NO * sizeof(double));
    fill(x, NI, 3, 0.0, 1.0);
    fill(y, NO, 4, 0.0, 1.0);
    fill(G, NI * NO, 5, -1.0, 1.0);
    fill(W0, NI * NO, 6, -0.2, 0.2);
    for (int variant = 0; variant < 4; variant++) {
        snn_ghl_opts o = opts(SNN_GHL_DIRECTION, 0.6);
        o.sign = SNN_GHL_SIGN_SYNAPSE;
        o.top_frac = variant % 2 ? 0.3 : 1.0;
        o.decay = variant < 2 ? SNN_GHL_DECAY_GUIDED : SNN_GHL_DECAY_LOCAL;
        snn_ghl_counts c1 = {0}, c3 = {0};
        memcpy(W1, W0, NI * NO * sizeof(double));
        memcpy(W3, W0, NI * NO * sizeof(double));
        int nt = omp_get_max_threads();
        omp_set_num_threads(1);
        run(&o, NI, NO, x, y, G, NULL, W1, &c1);
        omp_set_num_threads(3);
        run(&o, NI, NO, x, y, G, NULL, W3, &c3);
        omp_set_num_threads(nt);
        assert_memory_equal(W1, W3, NI * NO * sizeof(double));
        assert_memory_equal(&c1, &c3, sizeof c1);
        assert_true(c1.reversed > 0 && c1.local == (uint64_t)NI * NO);
        assert_true(memcmp(W0, W1, NI * NO * sizeof(double)) != 0);
    }
    free(x);
    free(y);
    free(G);
    free(W0);
    free(W1);
    free(W3);
}

static void test_prune(void **state)
{
    (void)state;
    /* 4 × 2: column 0 (0.3, -0.1, 0.05, 0.2), column 1 (-0.5, 0.02, 0.4, -0.02). */
    const double W0[8] = {0.3, -0.5, -0.1, 0.02, 0.05, 0.4, 0.2, -0.02};
    double W[8];
    uint8_t m[8];
    size_t np;
    snn_err err;

    /* Per target, half: column 0 loses -0.1 and 0.05, column 1 0.02 and
       -0.02 (equal |w|: both, as the count is 2). */
    memcpy(W, W0, sizeof W);
    assert_int_equal(snn_prune_weakest(W, 4, 2, 0.5, 1, 0, m, &np, &err), 0);
    const uint8_t want_t[8] = {1, 1, 0, 0, 0, 1, 1, 0};
    assert_memory_equal(m, want_t, 8);
    assert_int_equal(np, 4);
    for (int p = 0; p < 8; p++)
        assert_true(W[p] == (want_t[p] ? W0[p] : 0.0));

    /* Global, 3 of 8: |w| 0.02, 0.02, 0.05; then 1 of 8: the tie between
       0.02 (flat index 3) and -0.02 (7) goes to the lower index. */
    memcpy(W, W0, sizeof W);
    assert_int_equal(snn_prune_weakest(W, 4, 2, 3.0 / 8.0, 0, 0, m, &np, &err), 0);
    const uint8_t want_g[8] = {1, 1, 1, 0, 0, 1, 1, 0};
    assert_memory_equal(m, want_g, 8);
    memcpy(W, W0, sizeof W);
    assert_int_equal(snn_prune_weakest(W, 4, 2, 0.125, 0, 0, m, &np, &err), 0);
    const uint8_t want_1[8] = {1, 1, 1, 0, 1, 1, 1, 1};
    assert_memory_equal(m, want_1, 8);
    assert_int_equal(np, 1);

    /* Schedule: keep_mask keeps earlier prunings and counts them first.
       With (3) pruned, 2/8 adds the next weakest, -0.02 at 7. */
    assert_int_equal(snn_prune_weakest(W, 4, 2, 0.25, 0, 1, m, &np, &err), 0);
    const uint8_t want_2[8] = {1, 1, 1, 0, 1, 1, 1, 0};
    assert_memory_equal(m, want_2, 8);
    /* frac 0: nothing new, earlier prunings stay. */
    assert_int_equal(snn_prune_weakest(W, 4, 2, 0.0, 0, 1, m, &np, &err), 0);
    assert_memory_equal(m, want_2, 8);
    assert_int_equal(np, 2);
    assert_true(W[3] == 0.0 && W[7] == 0.0 && W[4] == 0.05);

    assert_int_equal(snn_prune_weakest(W, 4, 2, 1.5, 0, 0, m, &np, &err), SNN_ECFG);
}

/* ---- the rule "ghl" on a dense projection -------------------------------- */

enum { RP = 6, RQ = 4 };

/* pre (6 Poisson) -> post (4 LIF), all_to_all, weights uniform [0.1, 0.5],
   rule ghl with its defaults and `set` applied. */
static snn_net *ghl_net(snn_spec **sp, const char *const *keys, const double *vals, size_t nk,
                        snn_conn_kind conn, snn_err *err)
{
    snn_spec *s = fx_spec(0.1, 10, 3);
    uint32_t a = fx_pop(s, "pre", "poisson", RP);
    uint32_t b = fx_pop(s, "post", "lif", RQ);
    snn_proj_spec *pj = fx_proj(s, a, b, conn, 0.0, 1.0);
    pj->p = 1.0;
    pj->weight = (snn_dist){.kind = SNN_DIST_UNIFORM, .a = 0.1, .b = 0.5};
    pj->rule = snn_rule_find("ghl");
    assert_non_null(pj->rule);
    pj->rule_par = malloc(pj->rule->n_params * sizeof(double));
    for (size_t k = 0; k < pj->rule->n_params; k++)
        pj->rule_par[k] = pj->rule->params[k].def;
    for (size_t q = 0; q < nk; q++) {
        int k = snn_rule_param_index(pj->rule, keys[q]);
        assert_true(k >= 0);
        pj->rule_par[k] = vals[q];
    }
    *sp = s;
    snn_net *net = NULL;
    if (snn_net_build(&net, s, 1, err))
        return NULL;
    return net;
}

/* Through the rule: the same bits as snn_ghl_update on the rates (counts
   · 1000 / present_ms) then clipping; set_grad + on_sample_end equals
   apply; a guided sample without a gradient is skipped; pruning on its
   schedule, pruned weights stay 0; errors. */
static void test_rule_adapter(void **state)
{
    (void)state;
    const char *keys[] = {"eta", "k", "mode", "prune_fraction", "prune_every", "w_min"};
    const double vals[] = {1e-5, 2, SNN_GHL_DIRECTION, 0.25, 2, -1.0};
    snn_spec *s;
    snn_err err;
    snn_net *net = ghl_net(&s, keys, vals, 6, SNN_CONN_ALL_TO_ALL, &err);
    if (!net)
        fail_msg("%s", err.msg);
    snn_proj *pj = &net->projs[0];
    assert_true(pj->dense && pj->rule->spike_off);
    const uint32_t pre[RP] = {3, 0, 7, 1, 2, 5}, post[RQ] = {4, 9, 1, 6};
    const double gy[RQ] = {0.3, -0.2, 0.5, 0.0};
    const double present = 50.0;
    double W0[RP * RQ], Wr[RP * RQ], x[RP], y[RQ];
    memcpy(W0, pj->w_dense, sizeof W0);
    memcpy(Wr, W0, sizeof Wr);
    for (size_t i = 0; i < RP; i++)
        x[i] = pre[i] * (1000.0 / present);
    for (size_t j = 0; j < RQ; j++)
        y[j] = post[j] * (1000.0 / present);
    snn_ghl_opts o;
    snn_ghl_opts_default(&o);
    o.eta = 1e-5;
    o.k = 2;
    snn_ghl_counts c = {0};
    run(&o, RP, RQ, x, y, gy, NULL, Wr, &c);
    for (size_t q = 0; q < RP * RQ; q++)
        Wr[q] = Wr[q] < -1.0 ? -1.0 : (Wr[q] > 1.0 ? 1.0 : Wr[q]);
    assert_int_equal(snn_ghl_rule_apply(pj, pre, post, present, gy, &err), 0);
    assert_memory_equal(pj->w_dense, Wr, sizeof Wr);
    assert_true(memcmp(W0, Wr, sizeof Wr) != 0);
    assert_memory_equal(snn_ghl_rule_counts(pj), &c, sizeof c);
    size_t np;
    assert_non_null(snn_ghl_rule_mask(pj, &np));
    assert_int_equal(np, 0);

    /* A guided sample without a queued gradient: nothing. */
    snn_sample_stats st = {pre, post, present, NULL};
    memcpy(Wr, pj->w_dense, sizeof Wr);
    pj->rule->type->on_sample_end(pj->rule, pj, &st);
    assert_memory_equal(pj->w_dense, Wr, sizeof Wr);
    /* Queued: the same as apply, and the second sample prunes
       floor(0.25 · 6) = 1 weight per target (the weakest). */
    run(&o, RP, RQ, x, y, gy, NULL, Wr, NULL);
    for (size_t q = 0; q < RP * RQ; q++)
        Wr[q] = Wr[q] < -1.0 ? -1.0 : (Wr[q] > 1.0 ? 1.0 : Wr[q]);
    uint8_t mask[RP * RQ];
    memset(mask, 1, sizeof mask);
    assert_int_equal(snn_prune_weakest(Wr, RP, RQ, 0.25, 1, 1, mask, NULL, &err), 0);
    assert_int_equal(snn_ghl_rule_set_grad(pj, gy, RQ, &err), 0);
    pj->rule->type->on_sample_end(pj->rule, pj, &st);
    assert_memory_equal(pj->w_dense, Wr, sizeof Wr);
    const uint8_t *m = snn_ghl_rule_mask(pj, &np);
    assert_int_equal(np, RQ);
    assert_memory_equal(m, mask, sizeof mask);
    /* Pruned weights stay 0 through later updates. */
    assert_int_equal(snn_ghl_rule_apply(pj, pre, post, present, gy, &err), 0);
    for (size_t q = 0; q < RP * RQ; q++)
        if (!m[q])
            assert_true(pj->w_dense[q] == 0.0);

    /* Errors: gradient size, projection without the rule. */
    assert_int_equal(snn_ghl_rule_set_grad(pj, gy, RQ + 1, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "expected 4"));
    snn_net_free(net);
    snn_spec_free(s);

    /* Sparse weights are refused at build. */
    net = ghl_net(&s, keys, vals, 6, SNN_CONN_BERNOULLI, &err);
    assert_null(net);
    assert_non_null(strstr(err.msg, "dense"));
    snn_spec_free(s);
    /* k above the layer size. */
    const char *kk[] = {"k"};
    const double kv[] = {5};
    net = ghl_net(&s, kk, kv, 1, SNN_CONN_ALL_TO_ALL, &err);
    assert_null(net);
    assert_non_null(strstr(err.msg, "k = 5"));
    snn_spec_free(s);
}

static void test_bad_options(void **state)
{
    (void)state;
    snn_ghl_opts o;
    snn_ghl *g;
    snn_err err;
    snn_ghl_opts_default(&o);
    o.mix = 1.5;
    assert_int_equal(snn_ghl_alloc(&g, 2, 2, &o, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "mix"));
    snn_ghl_opts_default(&o);
    o.k = 3;
    assert_int_equal(snn_ghl_alloc(&g, 2, 2, &o, &err), SNN_ECFG);
    snn_ghl_opts_default(&o);
    o.top_frac = 0.0;
    assert_int_equal(snn_ghl_alloc(&g, 2, 2, &o, &err), SNN_ECFG);
    int v;
    assert_int_equal(snn_ghl_choice("mode", "gate", &v, &err), 0);
    assert_int_equal(v, SNN_GHL_GATE);
    assert_int_equal(snn_ghl_choice("sign", "synapse", &v, &err), 0);
    assert_int_equal(v, SNN_GHL_SIGN_SYNAPSE);
    assert_int_equal(snn_ghl_choice("mode", "gated", &v, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "direction"));
    assert_int_equal(snn_ghl_choice("decay", "local", &v, &err), 0);
    assert_int_equal(v, SNN_GHL_DECAY_LOCAL);
    assert_int_equal(snn_ghl_choice("decay", "oja", &v, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "guided, local"));
    snn_ghl_opts_default(&o);
    assert_int_equal(o.decay, SNN_GHL_DECAY_GUIDED);
    o.decay = 2;
    assert_int_equal(snn_ghl_alloc(&g, 2, 2, &o, &err), SNN_ECFG);
    assert_non_null(strstr(err.msg, "decay"));
    /* A guided mode without a gradient is an error, not a crash. */
    snn_ghl_opts_default(&o);
    assert_int_equal(snn_ghl_alloc(&g, 2, 2, &o, &err), 0);
    double W[4] = {0};
    assert_int_equal(snn_ghl_update(g, X2, Y2, NULL, NULL, W, NULL, &err), SNN_EINTERNAL);
    snn_ghl_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes_closed_form), cmocka_unit_test(test_none_is_oja),
        cmocka_unit_test(test_local_decay_closed_form), cmocka_unit_test(test_decay_bounds),
        cmocka_unit_test(test_sign_identity),     cmocka_unit_test(test_competition),
        cmocka_unit_test(test_top_fraction),      cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_prune),             cmocka_unit_test(test_rule_adapter),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
