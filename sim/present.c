/*
 * sim/present.c: one image presentation with rest and intensity boost.
 */
#include "present.h"

#include <math.h>
#include <string.h>

#include "sched.h"

typedef struct count_ctx {
    const snn_present *pr;
    uint32_t *const *counts;
    uint64_t watched;
} count_ctx;

/* Per step (one thread): add the step's spikes to the counts. */
static void count_step(void *ud, const snn_net *net)
{
    count_ctx *c = ud;
    for (size_t q = 0; q < c->pr->n_count; q++) {
        const snn_pop *p = &net->pops[c->pr->count[q]];
        for (size_t b = 0; b < p->n_blk; b++)
            for (size_t m = 0; m < p->spk[b].n; m++)
                c->counts[q][p->spk[b].id[m]] += p->spk[b].mult[m];
    }
    if (c->pr->watch >= 0) {
        const snn_pop *p = &net->pops[c->pr->watch];
        for (size_t b = 0; b < p->n_blk; b++)
            for (size_t m = 0; m < p->spk[b].n; m++)
                c->watched += p->spk[b].mult[m];
    }
}

static int set_rates(snn_net *net, const snn_present *pr, const uint8_t *pixels,
                     double intensity, snn_err *err)
{
    snn_pop *in = &net->pops[pr->input];
    int r = snn_model_state_index(in->type, "rate");
    if (r < 0)
        SNN_FAIL(err, SNN_ECFG, "population '%s' (model %s) cannot take images: it has no "
                 "'rate' state (use model \"poisson\")", in->name, in->type->name);
    double *rate = in->x[r];
    double scale = pr->max_rate_hz * intensity / 255.0;
    for (size_t i = 0; i < in->n; i++)
        rate[i] = pixels ? (double)pixels[i] * scale : 0.0;
    return SNN_OK;
}

int snn_present_sample(snn_net *net, const snn_present *pr, const uint8_t *pixels,
                       uint32_t *const *counts, unsigned *boosts, snn_err *err)
{
    size_t present = (size_t)llround(pr->present_ms / net->dt_ms);
    size_t rest = (size_t)llround(pr->rest_ms / net->dt_ms);
    count_ctx ctx = {pr, counts, 0};
    snn_run_opts counting = {.on_step = count_step, .step_ud = &ctx, .stop = pr->stop};
    snn_run_opts resting = {.stop = pr->stop};
    double intensity = pr->intensity;
    unsigned b = 0;
    int rc;
    for (;;) {
        for (size_t q = 0; q < pr->n_count; q++)
            memset(counts[q], 0, net->pops[pr->count[q]].n * sizeof(uint32_t));
        ctx.watched = 0;
        if ((rc = set_rates(net, pr, pixels, intensity, err)) ||
            (rc = snn_sched_clock_run(net, present, pr->rec, &counting, err)) ||
            (rc = set_rates(net, pr, NULL, 0.0, err)) ||
            (rc = snn_sched_clock_run(net, rest, pr->rec, &resting, err)))
            return rc;
        if (pr->watch < 0 || ctx.watched >= pr->min_spikes || b >= pr->max_boosts)
            break;
        intensity += pr->intensity_step;
        b++;
    }
    if (boosts)
        *boosts = b;
    return SNN_OK;
}
