/*
 * models/spike_times.c: sources that replay a given list of spikes.
 *
 * Method: the spec's spike list (spike_ids[i] at spike_times_ms[i]) is turned
 * in spike_times_prepare() into one schedule per block, sorted by (step, id),
 * with repeated (step, id) pairs merged into one entry whose multiplicity is
 * their count.  A spike at t ms is put on the grid point m = lround(t/dt) and
 * emitted by step m-1 (which ends at t_m = m dt), so it arrives downstream at
 * exactly t_m + delay.  Rule: after rounding to the grid, spike times must be
 * >= dt (m >= 1, i.e. t >= dt/2 before rounding); ids must be < n.
 *
 * step() finds the entries of its step by a per-block cursor, checked on
 * every call and re-found by binary search when the step does not follow the
 * previous one (a restarted or rewound run), so the output depends only on
 * the step index.  Units: ms.  No parameters, no state, no channels.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "../sim/model.h"
#include "../sim/spec.h"

/* Largest t/dt accepted: beyond 2^53 grid points steps are not exact. */
#define ST_MAX_STEPS 9007199254740992.0

typedef struct st_event {
    uint64_t step;  /* emitting step k: the spike is stamped t_{k+1} */
    uint32_t id;    /* global neuron id */
    uint32_t mult;  /* spikes of `id` in this step */
} st_event;

typedef struct st_sched {
    size_t n_blk;
    size_t *off;    /* n_blk + 1: block b owns ev[off[b] .. off[b+1]) */
    size_t *next;   /* n_blk: cursor, first entry not yet emitted */
    st_event *ev;
    /* Event-driven runs (spike_times_ev_prepare): neuron i's exact times
       t_ms[t_off[i] .. t_off[i+1]) ascending, t_next[i] the next to emit. */
    size_t *t_off, *t_next;
    double *t_ms;
} st_sched;

static const char *spike_times_weight_unit(const double *par)
{
    return "1";  /* a source takes no input; never used for it */
}

static int event_cmp(const void *a, const void *b)
{
    const st_event *x = a, *y = b;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* spike_times_release: free the schedule (priv may be NULL). */
static void spike_times_release(snn_pop *p)
{
    st_sched *s = p->priv;
    if (!s)
        return;
    free(s->off);
    free(s->next);
    free(s->ev);
    free(s->t_off);
    free(s->t_next);
    free(s->t_ms);
    free(s);
    p->priv = NULL;
}

/*
 * spike_times_prepare: validate the spec's spike list for step dt_ms and
 * build the per-block schedule in p->priv (allocated here, freed by
 * spike_times_release).  Rejects ids >= n and times that round to a grid
 * point before dt, with SNN_EMODEL and a message naming the spike.
 */
static int spike_times_prepare(snn_pop *p, double dt_ms, snn_err *err)
{
    const snn_pop_spec *sp = p->spec;
    size_t ns = sp->n_spikes;
    spike_times_release(p);
    if (!(dt_ms > 0.0) || !isfinite(dt_ms))
        SNN_FAIL(err, SNN_EMODEL, "time step dt = %g ms must be positive", dt_ms);
    if (ns > 0 && (!sp->spike_ids || !sp->spike_times_ms))
        SNN_FAIL(err, SNN_EMODEL, "%zu spikes given without ids or times", ns);
    for (size_t i = 0; i < ns; i++) {
        double t = sp->spike_times_ms[i], q = t / dt_ms;
        if (sp->spike_ids[i] >= p->n)
            SNN_FAIL(err, SNN_EMODEL, "spike %zu (t = %g ms): neuron id %u is not below n = %zu",
                     i, t, sp->spike_ids[i], p->n);
        if (!isfinite(q) || q >= ST_MAX_STEPS)
            SNN_FAIL(err, SNN_EMODEL, "spike %zu: time t = %g ms of neuron %u is not a finite "
                     "time on the grid of dt = %g ms", i, t, sp->spike_ids[i], dt_ms);
        /* llround(q) >= 1 exactly when q >= 1/2 (halves round away from 0). */
        if (q < 0.5)
            SNN_FAIL(err, SNN_EMODEL, "spike %zu: time t = %g ms of neuron %u rounds to a grid "
                     "point before dt; spike times must be >= dt = %g ms after rounding to "
                     "the time grid (t >= %g ms)",
                     i, t, sp->spike_ids[i], dt_ms, 0.5 * dt_ms);
    }

    st_sched *s = calloc(1, sizeof *s);
    if (!s)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for a spike schedule of %zu spikes", ns);
    p->priv = s;
    s->n_blk = p->n_blk;
    s->off = calloc(p->n_blk + 1, sizeof *s->off);
    s->next = calloc(p->n_blk ? p->n_blk : 1, sizeof *s->next);
    s->ev = malloc((ns ? ns : 1) * sizeof *s->ev);
    if (!s->off || !s->next || !s->ev) {
        spike_times_release(p);
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for a spike schedule of %zu spikes", ns);
    }

    /* Bucket by block (counting sort), then sort each block by (step, id). */
    for (size_t i = 0; i < ns; i++)
        s->off[sp->spike_ids[i] / SNN_BLOCK + 1]++;
    for (size_t b = 0; b < p->n_blk; b++)
        s->off[b + 1] += s->off[b];
    for (size_t b = 0; b < p->n_blk; b++)
        s->next[b] = s->off[b];
    for (size_t i = 0; i < ns; i++) {
        uint32_t id = sp->spike_ids[i];
        st_event *e = &s->ev[s->next[id / SNN_BLOCK]++];
        e->step = (uint64_t)(llround(sp->spike_times_ms[i] / dt_ms) - 1);
        e->id = id;
        e->mult = 1;
    }
    /* Merge repeated (step, id) pairs, compacting the blocks leftwards. */
    size_t w = 0;
    for (size_t b = 0; b < p->n_blk; b++) {
        size_t r0 = s->off[b], r1 = s->off[b + 1];
        qsort(s->ev + r0, r1 - r0, sizeof *s->ev, event_cmp);
        s->off[b] = w;
        for (size_t r = r0; r < r1; r++) {
            if (w > s->off[b] && s->ev[w - 1].step == s->ev[r].step &&
                s->ev[w - 1].id == s->ev[r].id)
                s->ev[w - 1].mult++;
            else
                s->ev[w++] = s->ev[r];
        }
        s->next[b] = s->off[b];
    }
    s->off[p->n_blk] = w;
    return SNN_OK;
}

/*
 * spike_times_step: append the spikes of block `blk` scheduled for step
 * in->step to `out` (ascending ids, with multiplicities).  Does not
 * allocate.  Writes only the block's own cursor, so it is safe to run
 * concurrently on different blocks.
 */
static void spike_times_step(snn_pop *p, size_t blk, const snn_input *in, snn_spikes *out)
{
    st_sched *s = p->priv;
    const st_event *ev = s->ev;
    size_t lo = s->off[blk], hi = s->off[blk + 1], c = s->next[blk];
    uint64_t k = in->step;
    /* The cursor is right when every entry before it is earlier than k and
       the entry at it is not. */
    if (!(c >= lo && c <= hi && (c == lo || ev[c - 1].step < k) && (c == hi || ev[c].step >= k))) {
        size_t a = lo, b = hi;  /* lower bound of k in [lo, hi) */
        while (a < b) {
            size_t m = a + (b - a) / 2;
            if (ev[m].step < k)
                a = m + 1;
            else
                b = m;
        }
        c = a;
    }
    for (; c < hi && ev[c].step == k; c++) {
        out->id[out->n] = ev[c].id;
        out->mult[out->n] = ev[c].mult;
        out->n++;
    }
    s->next[blk] = c;
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * spike_times_ev_prepare: for the event-driven integrator, keep every
 * neuron's spike times exactly as given (not on the grid), ascending.
 * Allocates into the schedule made by spike_times_prepare.
 */
static int spike_times_ev_prepare(snn_pop *p, snn_err *err)
{
    const snn_pop_spec *sp = p->spec;
    st_sched *s = p->priv;
    size_t ns = sp->n_spikes;
    s->t_off = calloc(p->n + 1, sizeof *s->t_off);
    s->t_next = calloc(p->n ? p->n : 1, sizeof *s->t_next);
    s->t_ms = malloc((ns ? ns : 1) * sizeof *s->t_ms);
    if (!s->t_off || !s->t_next || !s->t_ms)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for a spike schedule of %zu spikes", ns);
    for (size_t i = 0; i < ns; i++)
        s->t_off[sp->spike_ids[i] + 1]++;
    for (size_t i = 0; i < p->n; i++)
        s->t_off[i + 1] += s->t_off[i];
    for (size_t i = 0; i < p->n; i++)
        s->t_next[i] = s->t_off[i];
    for (size_t i = 0; i < ns; i++)
        s->t_ms[s->t_next[sp->spike_ids[i]]++] = sp->spike_times_ms[i];
    for (size_t i = 0; i < p->n; i++) {
        qsort(s->t_ms + s->t_off[i], s->t_off[i + 1] - s->t_off[i], sizeof *s->t_ms, double_cmp);
        s->t_next[i] = s->t_off[i];
    }
    return SNN_OK;
}

/* spike_times_next: the next spike of neuron i not yet emitted, as time from
   now_ms (never negative); INFINITY when the list is exhausted.  On resume
   the pending spike stays (NAN). */
static double spike_times_next(snn_pop *p, size_t i, double now_ms, bool resume)
{
    st_sched *s = p->priv;
    if (resume)
        return NAN;
    if (s->t_next[i] >= s->t_off[i + 1])
        return INFINITY;
    double t = s->t_ms[s->t_next[i]++] - now_ms;
    return t > 0.0 ? t : 0.0;
}

const snn_model_type spike_times_type = {
    .name = "spike_times",
    .doc = "Spike sources that replay the spike list given in the parameter file "
           "(spike_times_ms, ids); a time t is emitted on the grid point lround(t/dt)*dt, "
           "which must be >= dt.",
    .params = NULL,
    .n_params = 0,
    .state = NULL,
    .state_unit = NULL,
    .n_state = 0,
    .channels = NULL,
    .n_channels = 0,
    .weight_unit = spike_times_weight_unit,
    .nonneg_weights = false,
    .is_source = true,
    .takes_spike_list = true,
    .random = false,
    .consts_size = 0,
    .prepare = spike_times_prepare,
    .init = NULL,
    .step = spike_times_step,
    .release = spike_times_release,
    .ev_prepare = spike_times_ev_prepare,
    .next_spike = spike_times_next,
};
