/*
 * sim/sched_event.c: the event-driven integrator (see sim/sched_event.h).
 *
 * Units: every neuron of every population is one unit u = off[pop] + i.
 * Per unit the engine keeps t_now[u], the time its state refers to, and
 * tr_t[u], the time its plasticity traces refer to; both only move forward.
 *
 * Processing an event at time t:
 *   current change  every neuron of the target is advanced to t, the
 *                   amplitude changes, crossings are predicted anew;
 *   arrival         each target is advanced to t, receives the weight and
 *                   gets a new crossing prediction (or none);
 *   spike           a neuron is advanced to t and fires (a source just
 *                   emits and draws its next spike); the spike is counted,
 *                   recorded at t, handed to the plasticity rules (traces
 *                   refreshed to t), queued for the neuron's traces and put in
 *                   flight: one arrival per (spike, projection) at t + delay
 *                   for a homogeneous delay (the exact delay_ms of the
 *                   parameter file), one per synapse for per-synapse delays
 *                   (t + the delay as drawn at build, unrounded:
 *                   snn_part.delay_ms).
 *   check           a model's look-ahead window ended without a crossing
 *                   (SNN_CROSS_CHECK): the neuron is advanced and predicted
 *                   again.
 * Trace increments wait until the first spike at a later time (or the end of
 * the segment): spikes at exactly the same time do not see each other in the
 * rules, whatever the order of their populations, as spikes of one step do
 * not in the clock-driven engine.
 * Predictions reach only to the end of the current run segment; the next
 * segment predicts again.  An input that cannot bring a crossing earlier
 * (receive() returns false, e.g. inhibition) keeps a "no crossing before t"
 * prediction without a new search.  The weight an arrival carries is read
 * when it arrives (the clock-driven engine reads it at emission: the two
 * differ only when a plastic weight changes while a spike is in flight).
 * Queues grow by doubling when their high-water mark rises; nothing else is
 * allocated while running.
 */
#include "sched_event.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

#define NONE SIZE_MAX
#define ROW SIZE_MAX      /* an arrival for a whole row (homogeneous delay) */

typedef struct ev_arrival {
    double t;
    uint64_t seq;         /* emission order: FIFO among equal (t, proj) */
    uint32_t proj, pre, part, pad;
    size_t q;             /* synapse index in part, or ROW */
} ev_arrival;

struct snn_event {
    size_t n_units;
    size_t *off;          /* n_pops + 1 */
    uint32_t *unit_pop;   /* n_units */
    double *t_now, *tr_t; /* n_units */
    /* Trace increments of the spikes at t_pend, not yet added: units
       pend[0..n_pend), pend_cnt[u] spikes each (n_units). */
    size_t *pend, n_pend;
    uint32_t *pend_cnt;
    double t_pend;
    /* Indexed heap of pending spikes by (key, unit). */
    double *key;          /* n_units, INFINITY: none */
    size_t *heap, *pos;   /* heap[0..hn), pos[u] (NONE: not queued) */
    size_t hn;
    uint8_t *check;       /* n_units: the queued time is a look-ahead check */
    /* Binary heap of arrivals by (t, proj, seq). */
    ev_arrival *aq;
    size_t an, acap;
    uint64_t seq;
    double *delay_ms;     /* n_projs: homogeneous delay, NAN: per synapse */
    size_t *every;        /* n_rec_state: sampling interval in steps */
    double horizon;       /* end of the current segment (ms) */
    bool started;
    snn_event_spike_fn on_spike;
    void *on_spike_ud;
};

/* ---- the neuron heap ---------------------------------------------------- */

static inline bool u_less(const struct snn_event *e, size_t a, size_t b)
{
    return e->key[a] < e->key[b] || (e->key[a] == e->key[b] && a < b);
}

static void u_swap(struct snn_event *e, size_t i, size_t j)
{
    size_t a = e->heap[i], b = e->heap[j];
    e->heap[i] = b;
    e->heap[j] = a;
    e->pos[b] = i;
    e->pos[a] = j;
}

static void u_up(struct snn_event *e, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!u_less(e, e->heap[i], e->heap[p]))
            break;
        u_swap(e, i, p);
        i = p;
    }
}

static void u_down(struct snn_event *e, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->hn && u_less(e, e->heap[l], e->heap[m]))
            m = l;
        if (r < e->hn && u_less(e, e->heap[r], e->heap[m]))
            m = r;
        if (m == i)
            return;
        u_swap(e, i, m);
        i = m;
    }
}

static void u_remove(struct snn_event *e, size_t u)
{
    size_t i = e->pos[u];
    e->key[u] = INFINITY;
    if (i == NONE)
        return;
    e->pos[u] = NONE;
    if (i == --e->hn)
        return;
    size_t moved = e->heap[e->hn];
    e->heap[i] = moved;
    e->pos[moved] = i;
    u_up(e, i);
    u_down(e, e->pos[moved]);
}

/* Queue unit u at time t (INFINITY: remove). */
static void u_set(struct snn_event *e, size_t u, double t)
{
    if (!(t < INFINITY)) {
        u_remove(e, u);
        return;
    }
    size_t i = e->pos[u];
    if (i == NONE) {
        e->key[u] = t;
        i = e->hn++;
        e->heap[i] = u;
        e->pos[u] = i;
        u_up(e, i);
        return;
    }
    double old = e->key[u];
    e->key[u] = t;
    if (t < old)
        u_up(e, i);
    else
        u_down(e, i);
}

/* ---- the arrival heap --------------------------------------------------- */

static inline bool a_less(const ev_arrival *a, const ev_arrival *b)
{
    if (a->t != b->t)
        return a->t < b->t;
    if (a->proj != b->proj)
        return a->proj < b->proj;
    return a->seq < b->seq;
}

static int a_push(struct snn_event *e, ev_arrival a, snn_err *err)
{
    if (e->an == e->acap) {
        size_t cap = e->acap * 2;
        ev_arrival *q = realloc(e->aq, cap * sizeof *q);
        if (!q)
            SNN_FAIL(err, SNN_ENOMEM, "out of memory for %zu spikes in flight", cap);
        e->aq = q;
        e->acap = cap;
    }
    a.seq = e->seq++;
    size_t i = e->an++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!a_less(&a, &e->aq[p]))
            break;
        e->aq[i] = e->aq[p];
        i = p;
    }
    e->aq[i] = a;
    return SNN_OK;
}

static ev_arrival a_pop(struct snn_event *e)
{
    ev_arrival top = e->aq[0], last = e->aq[--e->an];
    size_t i = 0, n = e->an;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = l;
        if (l >= n)
            break;
        if (r < n && a_less(&e->aq[r], &e->aq[l]))
            m = r;
        if (!a_less(&e->aq[m], &last))
            break;
        e->aq[i] = e->aq[m];
        i = m;
    }
    if (n > 0)
        e->aq[i] = last;
    return top;
}

/* ---- setup ---------------------------------------------------------------- */

void snn_sched_event_free(struct snn_event *e)
{
    if (!e)
        return;
    free(e->off);
    free(e->unit_pop);
    free(e->t_now);
    free(e->tr_t);
    free(e->pend);
    free(e->pend_cnt);
    free(e->key);
    free(e->heap);
    free(e->pos);
    free(e->check);
    free(e->aq);
    free(e->delay_ms);
    free(e->every);
    free(e);
}

static bool has_event_hooks(const snn_model_type *t)
{
    if (t->is_source)
        return t->next_spike != NULL;
    return t->advance && t->receive && t->crossing && t->fire;
}

int snn_sched_event_prepare(snn_net *net, snn_err *err)
{
    const snn_spec *sp = net->spec;
    if (sp->n_phases)
        SNN_FAIL(err, SNN_ECFG,
                 "%s: simulation.integrator = \"event\" does not run experiments with phases; "
                 "use \"clock\"",
                 sp->source);
    for (size_t i = 0; i < net->n_pops; i++) {
        const snn_pop *p = &net->pops[i];
        if (!has_event_hooks(p->type))
            SNN_FAIL(err, SNN_ECFG,
                     "%s:%d: population '%s' (model %s) has no event-driven integration; "
                     "simulation.integrator = \"event\" supports lif, poisson and spike_times "
                     "(use \"clock\")",
                     p->spec->where.file, p->spec->where.line, p->name, p->type->name);
    }
    for (size_t j = 0; j < net->n_projs; j++) {
        const snn_proj *pj = &net->projs[j];
        if (!pj->rule || (pj->rule->type->exact_times && !pj->rule->spike_off))
            continue;
        /* The rules that do run: every exact_times one of the registry. */
        char ok[256] = "";
        size_t len = 0;
        const snn_rule_type *t;
        for (size_t q = 0; (t = snn_rule_at(q)) != NULL && len < sizeof ok; q++)
            if (t->exact_times)
                len += (size_t)snprintf(ok + len, sizeof ok - len, "%s%s", len ? ", " : "",
                                        t->name);
        const char *why = pj->rule->spike_off || (!pj->rule->type->on_pre &&
                                                  !pj->rule->type->on_post)
                              ? "learns once per stimulus of a phase, and experiments with "
                                "phases run only clocked"
                              : "keeps clock-driven state of its own (e.g. an eligibility "
                                "trace decaying in steps of dt)";
        SNN_FAIL(err, SNN_ECFG,
                 "%s:%d: projection '%s': plasticity rule %s does not support exact spike "
                 "times (simulation.integrator = \"event\"): it %s; use \"clock\" or a "
                 "per-spike rule with exact times (%s)",
                 pj->spec->where.file, pj->spec->where.line, pj->spec->name,
                 pj->rule->type->name, why, ok);
    }
    struct snn_event *e = calloc(1, sizeof *e);
    if (!e)
        SNN_FAIL(err, SNN_ENOMEM, "out of memory for the event queues");
    net->ev = e;
    e->off = calloc(net->n_pops + 1, sizeof *e->off);
    if (!e->off)
        goto oom;
    for (size_t i = 0; i < net->n_pops; i++)
        e->off[i + 1] = e->off[i] + net->pops[i].n;
    size_t n = e->n_units = e->off[net->n_pops], n1 = n ? n : 1;
    e->unit_pop = malloc(n1 * sizeof *e->unit_pop);
    e->t_now = calloc(n1, sizeof *e->t_now);
    e->tr_t = calloc(n1, sizeof *e->tr_t);
    e->pend = malloc(n1 * sizeof *e->pend);
    e->pend_cnt = calloc(n1, sizeof *e->pend_cnt);
    e->key = malloc(n1 * sizeof *e->key);
    e->heap = malloc(n1 * sizeof *e->heap);
    e->pos = malloc(n1 * sizeof *e->pos);
    e->check = calloc(n1, sizeof *e->check);
    e->acap = 4096 + 2 * n;
    e->aq = malloc(e->acap * sizeof *e->aq);
    e->delay_ms = calloc(net->n_projs ? net->n_projs : 1, sizeof *e->delay_ms);
    e->every = calloc(sp->n_rec_state ? sp->n_rec_state : 1, sizeof *e->every);
    if (!e->unit_pop || !e->t_now || !e->tr_t || !e->pend || !e->pend_cnt || !e->key || !e->heap ||
        !e->pos || !e->check || !e->aq || !e->delay_ms || !e->every)
        goto oom;
    for (size_t i = 0; i < net->n_pops; i++)
        for (size_t u = e->off[i]; u < e->off[i + 1]; u++)
            e->unit_pop[u] = (uint32_t)i;
    for (size_t u = 0; u < n; u++) {
        e->key[u] = INFINITY;
        e->pos[u] = NONE;
    }
    for (size_t j = 0; j < net->n_projs; j++) {
        const snn_proj *pj = &net->projs[j];
        bool per_syn = false;
        for (size_t t = 0; t < pj->n_parts; t++)
            per_syn |= pj->parts[t].delay != NULL;
        if (per_syn)
            e->delay_ms[j] = NAN;
        else if (pj->spec->delay_ms.kind == SNN_DIST_CONST)
            e->delay_ms[j] = pj->spec->delay_ms.a;
        else
            e->delay_ms[j] = (double)pj->delay * net->dt_ms;
    }
    for (size_t q = 0; q < sp->n_rec_state; q++) {
        long long every = llround(sp->rec_state[q].interval_ms / net->dt_ms);
        e->every[q] = every < 1 ? 1 : (size_t)every;
    }
    for (size_t i = 0; i < net->n_pops; i++) {
        snn_pop *p = &net->pops[i];
        int rc = p->type->ev_prepare ? p->type->ev_prepare(p, err) : SNN_OK;
        if (rc) {
            char inner[sizeof err->msg];
            snprintf(inner, sizeof inner, "%s", err ? err->msg : "");
            SNN_FAIL(err, rc, "population '%s' (model %s): %s", p->name, p->type->name, inner);
        }
    }
    return SNN_OK;
oom:
    SNN_FAIL(err, SNN_ENOMEM, "out of memory for the event queues");
}

/* ---- processing ----------------------------------------------------------- */

typedef struct ev_run {
    snn_net *net;
    struct snn_event *e;
    snn_rec *rec;
    size_t k;             /* step the current time lies in */
    snn_err *err;
} ev_run;

/* Advance neuron i of population pi to time t (no-op for sources). */
static inline void bring(ev_run *r, uint32_t pi, size_t i, double t)
{
    snn_pop *p = &r->net->pops[pi];
    size_t u = r->e->off[pi] + i;
    if (t > r->e->t_now[u]) {
        if (!p->type->is_source)
            p->type->advance(p, i, t - r->e->t_now[u]);
        r->e->t_now[u] = t;
    }
}

/* Predict neuron i's next crossing up to the segment's end. */
static inline void predict(ev_run *r, uint32_t pi, size_t i)
{
    const snn_pop *p = &r->net->pops[pi];
    struct snn_event *e = r->e;
    size_t u = e->off[pi] + i;
    double s;
    int c = p->type->crossing(p, i, e->horizon - e->t_now[u], &s);
    if (c == SNN_CROSS_NONE) {
        u_remove(e, u);
        return;
    }
    e->check[u] = c == SNN_CROSS_CHECK;
    u_set(e, u, e->t_now[u] + s);
}

/* Decay the traces of neuron i of population pi exactly to t. */
static inline void refresh(ev_run *r, uint32_t pi, size_t i, double t)
{
    snn_pop *p = &r->net->pops[pi];
    size_t u = r->e->off[pi] + i;
    double d = t - r->e->tr_t[u];
    if (d > 0.0) {
        for (size_t q = 0; q < p->n_traces; q++)
            p->traces[q].x[i] *= exp(-d / p->traces[q].tau_ms);
        r->e->tr_t[u] = t;
    }
}

static void rule_pre(ev_run *r, snn_proj *pj, uint32_t pre, double t)
{
    const snn_rule *rl = pj->rule;
    uint32_t po = pj->post->index;
    refresh(r, pj->pre->index, pre, t);
    for (size_t pt_i = 0; pt_i < pj->n_parts; pt_i++) {
        snn_part *pt = &pj->parts[pt_i];
        if (pj->dense) {
            size_t lo = pt->post_lo, nn = pt->post_hi - lo;
            for (size_t j = lo; j < pt->post_hi; j++)
                refresh(r, po, j, t);
            rl->type->on_pre(rl, pj, pre, pt->post_ids,
                             pj->w_dense + (size_t)pre * pj->post->n + lo, nn, r->k);
        } else {
            size_t k0 = pt->row[pre], k1 = pt->row[pre + 1];
            if (k1 == k0)
                continue;
            for (size_t q = k0; q < k1; q++)
                refresh(r, po, pt->col[q], t);
            rl->type->on_pre(rl, pj, pre, pt->col + k0, pt->w + k0, k1 - k0, r->k);
        }
    }
}

static void rule_post(ev_run *r, snn_proj *pj, uint32_t post, double t)
{
    const snn_rule *rl = pj->rule;
    uint32_t pr = pj->pre->index;
    refresh(r, pj->post->index, post, t);
    for (size_t pt_i = 0; pt_i < pj->n_parts; pt_i++) {
        snn_part *pt = &pj->parts[pt_i];
        if (post < pt->post_lo || post >= pt->post_hi)
            continue;
        if (pj->dense) {
            size_t n_pre = pj->pre->n, n_post = pj->post->n;
            for (size_t i = 0; i < n_pre; i++) {
                pt->cpos[i] = i * n_post + post;
                refresh(r, pr, i, t);
            }
            rl->type->on_post(rl, pj, post, pt->all_pre, pt->cpos, pj->w_dense, n_pre, r->k);
        } else {
            size_t c0 = pt->cptr[post - pt->post_lo], c1 = pt->cptr[post - pt->post_lo + 1];
            for (size_t c = c0; c < c1; c++)
                refresh(r, pr, pt->cpre[c], t);
            rl->type->on_post(rl, pj, post, pt->cpre + c0, pt->cpos + c0, pt->w, c1 - c0, r->k);
        }
    }
}

/* Add the queued spikes of t_pend to their neurons' traces. */
static void flush_traces(ev_run *r)
{
    struct snn_event *e = r->e;
    for (size_t m = 0; m < e->n_pend; m++) {
        size_t u = e->pend[m];
        uint32_t pi = e->unit_pop[u];
        snn_pop *p = &r->net->pops[pi];
        size_t i = u - e->off[pi];
        refresh(r, pi, i, e->t_pend);
        for (size_t q = 0; q < p->n_traces; q++)
            p->traces[q].x[i] = p->traces[q].mode == SNN_TRACE_ADD
                                    ? p->traces[q].x[i] + (double)e->pend_cnt[u]
                                    : 1.0;
        e->pend_cnt[u] = 0;
    }
    e->n_pend = 0;
}

/* Neuron i of population pi spikes at t: count, record, learn, trace, send. */
static int emit(ev_run *r, uint32_t pi, size_t i, double t)
{
    snn_net *net = r->net;
    snn_pop *p = &net->pops[pi];
    int rc;
    if (r->e->n_pend && t > r->e->t_pend)
        flush_traces(r);
    net->spike_count[pi]++;
    if (r->e->on_spike)
        r->e->on_spike(r->e->on_spike_ud, pi, (uint32_t)i, t);
    if (r->rec && (rc = snn_rec_spike(r->rec, p, (uint32_t)i, t, r->err)))
        return rc;
    if (!net->plasticity_off) {
        for (size_t j = 0; j < net->n_projs; j++) {
            snn_proj *pj = &net->projs[j];
            if (pj->pre == p && pj->rule && !pj->rule->spike_off && pj->rule->type->on_pre)
                rule_pre(r, pj, (uint32_t)i, t);
        }
        for (size_t j = 0; j < net->n_projs; j++) {
            snn_proj *pj = &net->projs[j];
            if (pj->post == p && pj->rule && !pj->rule->spike_off && pj->rule->type->on_post)
                rule_post(r, pj, (uint32_t)i, t);
        }
    }
    if (p->n_traces) {
        size_t u = r->e->off[pi] + i;
        r->e->t_pend = t;
        if (r->e->pend_cnt[u]++ == 0)
            r->e->pend[r->e->n_pend++] = u;
    }
    for (size_t j = 0; j < net->n_projs; j++) {
        snn_proj *pj = &net->projs[j];
        if (pj->pre != p)
            continue;
        double d = r->e->delay_ms[j];
        ev_arrival a = {0.0, 0, (uint32_t)j, (uint32_t)i, 0, 0, ROW};
        if (!isnan(d)) {
            a.t = t + d;
            if ((rc = a_push(r->e, a, r->err)))
                return rc;
            continue;
        }
        for (size_t pt_i = 0; pt_i < pj->n_parts; pt_i++) {
            const snn_part *pt = &pj->parts[pt_i];
            for (size_t q = pt->row[i]; q < pt->row[i + 1]; q++) {
                a.t = t + (pt->delay_ms ? pt->delay_ms[q] : (double)pt->delay[q] * net->dt_ms);
                a.part = (uint32_t)pt_i;
                a.q = q;
                if ((rc = a_push(r->e, a, r->err)))
                    return rc;
            }
        }
    }
    return SNN_OK;
}

static inline void deliver(ev_run *r, snn_pop *post, size_t j, size_t ch, double w, double t)
{
    if (w == 0.0)
        return;
    bring(r, post->index, j, t);
    size_t u = r->e->off[post->index] + j;
    bool spike_due = r->e->pos[u] != NONE && !r->e->check[u];
    /* An input that cannot advance a crossing leaves "none before t" true. */
    if (post->type->receive(post, j, ch, w) || spike_due)
        predict(r, post->index, j);
}

static void arrive(ev_run *r, const ev_arrival *a)
{
    snn_proj *pj = &r->net->projs[a->proj];
    snn_pop *post = pj->post;
    size_t ch = (size_t)pj->channel;
    if (a->q != ROW) {
        snn_part *pt = &pj->parts[a->part];
        deliver(r, post, pt->col[a->q], ch, pt->w[a->q], a->t);
        pt->events++;
        return;
    }
    for (size_t pt_i = 0; pt_i < pj->n_parts; pt_i++) {
        snn_part *pt = &pj->parts[pt_i];
        if (pj->dense) {
            const double *w = pj->w_dense + (size_t)a->pre * post->n;
            for (size_t j = pt->post_lo; j < pt->post_hi; j++)
                deliver(r, post, j, ch, w[j], a->t);
            pt->events += pt->post_hi - pt->post_lo;
        } else {
            size_t k0 = pt->row[a->pre], k1 = pt->row[a->pre + 1];
            for (size_t q = k0; q < k1; q++)
                deliver(r, post, pt->col[q], ch, pt->w[q], a->t);
            pt->events += k1 - k0;
        }
    }
}

/* The earliest pending current change, or INFINITY. */
static double next_change(const snn_net *net, size_t *which)
{
    double t = INFINITY;
    for (size_t c = 0; c < net->n_currents; c++) {
        const snn_current *cu = &net->currents[c];
        if (cu->next < cu->n_changes && cu->spec->t_ms[cu->next] < t) {
            t = cu->spec->t_ms[cu->next];
            *which = c;
        }
    }
    return t;
}

/* Apply current c's changes due at t (its target first advanced to t). */
static void change_current(ev_run *r, size_t c, double t)
{
    snn_net *net = r->net;
    snn_current *cu = &net->currents[c];
    snn_pop *tg = cu->target;
    for (size_t i = 0; i < tg->n; i++)
        bring(r, tg->index, i, t);
    while (cu->next < cu->n_changes && cu->spec->t_ms[cu->next] <= t)
        cu->amp = cu->spec->amp_pA[cu->next++];
    /* From scratch, in file order, as the clock-driven engine does. */
    for (size_t q = 0; q < net->n_currents; q++)
        memset(net->currents[q].target->i_ext, 0,
               net->currents[q].target->n * sizeof(double));
    for (size_t q = 0; q < net->n_currents; q++) {
        const snn_current *cq = &net->currents[q];
        double *ie = cq->target->i_ext;
        if (cq->spec->n_neurons == 0)
            for (size_t i = 0; i < cq->target->n; i++)
                ie[i] += cq->amp;
        else
            for (size_t m = 0; m < cq->spec->n_neurons; m++)
                ie[cq->spec->neurons[m]] += cq->amp;
    }
    if (!tg->type->is_source)
        for (size_t i = 0; i < tg->n; i++)
            predict(r, tg->index, i);
}

/* Process every event with t <= t_end, in (time, kind, index) order. */
static int run_until(ev_run *r, double t_end)
{
    snn_net *net = r->net;
    struct snn_event *e = r->e;
    int rc;
    for (;;) {
        size_t c = 0;
        double tc = next_change(net, &c);
        double ta = e->an ? e->aq[0].t : INFINITY;
        double tn = e->hn ? e->key[e->heap[0]] : INFINITY;
        if (tc <= ta && tc <= tn) {
            if (!(tc <= t_end))
                return SNN_OK;
            change_current(r, c, tc);
        } else if (ta <= tn) {
            if (!(ta <= t_end))
                return SNN_OK;
            ev_arrival a = a_pop(e);
            arrive(r, &a);
        } else {
            if (!(tn <= t_end))
                return SNN_OK;
            size_t u = e->heap[0];
            uint32_t pi = e->unit_pop[u];
            snn_pop *p = &net->pops[pi];
            size_t i = u - e->off[pi];
            u_remove(e, u);
            if (p->type->is_source) {
                e->t_now[u] = tn;
                if ((rc = emit(r, pi, i, tn)))
                    return rc;
                u_set(e, u, tn + p->type->next_spike(p, i, tn, false));
            } else if (e->check[u]) {
                bring(r, pi, i, tn);          /* end of a look-ahead window */
                predict(r, pi, i);
            } else {
                bring(r, pi, i, tn);
                p->type->fire(p, i);
                if ((rc = emit(r, pi, i, tn)))
                    return rc;
                predict(r, pi, i);
            }
        }
    }
}

/* Bring every neuron of population pi to t. */
static void bring_pop(ev_run *r, uint32_t pi, double t)
{
    const snn_pop *p = &r->net->pops[pi];
    for (size_t i = 0; i < p->n; i++)
        bring(r, pi, i, t);
}

int snn_sched_event_run(snn_net *net, size_t n_steps, snn_rec *rec, const snn_run_opts *opts,
                        snn_err *err)
{
    struct snn_event *e = net->ev;
    if (!e)
        SNN_FAIL(err, SNN_EINTERNAL, "the network was not built for the event integrator");
    if (opts && opts->on_step)
        SNN_FAIL(err, SNN_ECFG, "simulation.integrator = \"event\" has no per-step callbacks");
    const double dt = net->dt_ms;
    size_t k0 = net->step, k1 = k0 + n_steps;
    double t0 = (double)k0 * dt;
    ev_run r = {net, e, rec, k0, err};
    e->horizon = (double)k1 * dt;
    int rc = SNN_OK;

    if (!e->started)
        for (size_t u = 0; u < e->n_units; u++)
            e->t_now[u] = e->tr_t[u] = t0;
    /* Sources: the first spikes; in later segments the pending ones stay
       unless the source changed (e.g. a new Poisson rate). */
    for (uint32_t pi = 0; pi < net->n_pops; pi++) {
        snn_pop *p = &net->pops[pi];
        if (!p->type->is_source)
            continue;
        for (size_t i = 0; i < p->n; i++) {
            double d = p->type->next_spike(p, i, t0, e->started);
            if (!isnan(d))
                u_set(e, e->off[pi] + i, t0 + d);
        }
    }
    e->started = true;
    size_t c = 0;
    while (next_change(net, &c) <= t0)
        change_current(&r, c, t0);
    for (uint32_t pi = 0; pi < net->n_pops; pi++)
        if (!net->pops[pi].type->is_source)
            for (size_t i = 0; i < net->pops[pi].n; i++)
                predict(&r, pi, i);

    const snn_spec *sp = net->spec;
    for (size_t k = k0; k < k1; k++) {
        double tb = (double)(k + 1) * dt;
        r.k = k;
        if ((rc = run_until(&r, tb)))
            break;
        net->step = k + 1;
        if (rec) {
            for (size_t q = 0; q < sp->n_rec_state; q++)
                if ((k + 1) % e->every[q] == 0)
                    bring_pop(&r, sp->rec_state[q].pop, tb);
            if ((rc = snn_rec_sample(rec, net, err)))
                break;
        }
        if (opts && opts->progress && opts->progress_every &&
            ((k + 1 - k0) % opts->progress_every == 0 || k + 1 == k1))
            opts->progress(opts->ud, k + 1, net->n_steps);
        if (opts && opts->stop && *opts->stop) {
            rc = SNN_EINTR;
            break;
        }
    }
    flush_traces(&r);
    double t_end = (double)net->step * dt;
    for (uint32_t pi = 0; pi < net->n_pops; pi++)
        if (!net->pops[pi].type->is_source)
            bring_pop(&r, pi, t_end);
    if (rc == SNN_EINTR)
        SNN_FAIL(err, SNN_EINTR, "interrupted at t = %g ms (step %zu of %zu)", t_end, net->step,
                 net->n_steps);
    return rc;
}

void snn_sched_event_on_spike(snn_net *net, snn_event_spike_fn fn, void *ud)
{
    if (net->ev) {
        net->ev->on_spike = fn;
        net->ev->on_spike_ud = ud;
    }
}

int snn_sched_run(snn_net *net, size_t n_steps, snn_rec *rec, const snn_run_opts *opts,
                  snn_err *err)
{
    if (net->ev)
        return snn_sched_event_run(net, n_steps, rec, opts, err);
    return snn_sched_clock_run(net, n_steps, rec, opts, err);
}
