/*
 * models/poisson.c: independent Poisson spike sources.
 *
 * Method: in every step each neuron emits k ~ Poisson(rate dt) spikes, drawn
 * from its block's stream p->rng[blk]: by inversion of the CDF (tabulated
 * once per distinct rate)
 * (one uniform per neuron and step) for means up to POISSON_INVERSION_MAX,
 * by gsl_ran_poisson above.  k > 1 happens at high rates and is passed on
 * as the multiplicity of the spike.  Neurons whose rate is 0 (or
 * negative) draw nothing, so they do not advance the stream.
 *
 * The rate is state, not a parameter: x[rate][i] (Hz) starts at rate_hz (or
 * the spec's per-neuron initial values) and may be rewritten between steps,
 * e.g. per stimulus; it is read anew every step.
 * Units: Hz for rates, ms for dt.  No channels (a source takes no input).
 * Parameters: poisson_params[] below.
 */
#include <math.h>
#include <stdint.h>

#include <gsl/gsl_randist.h>

#include "../sim/model.h"

enum { POISSON_RATE_HZ, POISSON_N_PARAMS };
enum { POISSON_RATE, POISSON_NEXT, POISSON_SEEN, POISSON_N_STATE };

static const snn_param_desc poisson_params[POISSON_N_PARAMS] = {
    [POISSON_RATE_HZ] = {"rate_hz", "Hz", 10.0, 0.0, 1e7,
                         "firing rate of every neuron (initial value of state 'rate')", NULL},
};

static const char *const poisson_state[POISSON_N_STATE] = {"rate", "next", "rate_seen"};
static const char *const poisson_state_unit[POISSON_N_STATE] = {"Hz", "steps", "Hz"};

/* Mean counts per step below this are drawn as a process of exponential
   inter-spike intervals (no random number in steps without a spike); above
   it, by inverting the per-step count distribution. */
#define POISSON_SPARSE_MAX 0.05

/* Largest mean count drawn by inversion; above it, GSL's rejection method. */
#define POISSON_INVERSION_MAX 10.0
/* CDF terms tabulated per rate: P(k >= 48) < 1e-13 for mean <= 10. */
#define POISSON_TABLE 48

typedef struct poisson_consts {
    double dt_s;  /* step in seconds: mean count = rate (Hz) * dt_s */
} poisson_consts;

/* A source takes no input; "1" only keeps callers from meeting NULL. */
static const char *poisson_weight_unit(const double *par)
{
    return "1";
}

/* poisson_prepare: store the step length in seconds.  Does not allocate. */
static int poisson_prepare(snn_pop *p, double dt_ms, snn_err *err)
{
    poisson_consts *k = p->consts;
    if (!(dt_ms > 0.0) || !isfinite(dt_ms))
        SNN_FAIL(err, SNN_EMODEL, "time step dt = %g ms must be positive", dt_ms);
    k->dt_s = dt_ms * 1e-3;
    return SNN_OK;
}

/* poisson_init: every neuron's rate = rate_hz. */
static void poisson_init(snn_pop *p)
{
    for (size_t i = 0; i < p->n; i++) {
        p->x[POISSON_RATE][i] = p->par[POISSON_RATE_HZ];
        p->x[POISSON_SEEN][i] = -1.0; /* no interval drawn yet */
        p->x[POISSON_NEXT][i] = 0.0;
    }
}

/*
 * poisson_step: draw this step's spike counts of block `blk` from
 * p->rng[blk] and append the neurons with a count k > 0 to `out` (ascending
 * ids, mult = k).  Does not allocate.  Safe to run concurrently on
 * different blocks (each block has its own stream).
 */
static void poisson_step(snn_pop *p, size_t blk, const snn_input *in, snn_spikes *out)
{
    const poisson_consts *k = p->consts;
    size_t i0 = blk * SNN_BLOCK, i1 = snn_blk_end(p, blk);
    const double *rate = p->x[POISSON_RATE];
    double *next = p->x[POISSON_NEXT], *seen = p->x[POISSON_SEEN];
    gsl_rng *r = p->rng[blk];
    double last_mu = -1.0, cdf[POISSON_TABLE];
    for (size_t i = i0; i < i1; i++) {
        if (!(rate[i] > 0.0))
            continue;
        double mu = rate[i] * k->dt_s;
        unsigned int c;
        if (mu < POISSON_SPARSE_MAX) {
            /* Arrival times of the process, in steps from the start of this
               step: next[i].  A new rate restarts it (memoryless). */
            if (seen[i] != rate[i]) {
                seen[i] = rate[i];
                next[i] = -log1p(-gsl_rng_uniform(r)) / mu;
            }
            c = 0;
            while (next[i] < 1.0) {
                c++;
                next[i] += -log1p(-gsl_rng_uniform(r)) / mu;
            }
            next[i] -= 1.0;
        } else if (mu <= POISSON_INVERSION_MAX) {
            seen[i] = -1.0; /* leaving the sparse regime: restart on return */
            /* Inversion of the CDF: one uniform per neuron.  Neighbours
               usually share a rate, so the CDF table is reused. */
            if (mu != last_mu) {
                last_mu = mu;
                double pk = exp(-mu), acc = pk;
                cdf[0] = acc;
                for (unsigned int q = 1; q < POISSON_TABLE; q++) {
                    pk *= mu / (double)q;
                    acc += pk;
                    cdf[q] = acc;
                }
            }
            double u = gsl_rng_uniform(r);
            c = 0;
            while (c < POISSON_TABLE && u >= cdf[c])
                c++;
            if (c == POISSON_TABLE) {
                /* Beyond the table (probability < 1e-13): continue the
                   sequential search from its last term. */
                double pk = exp((POISSON_TABLE - 1) * log(mu) - mu -
                                lgamma((double)POISSON_TABLE)),
                       acc = cdf[POISSON_TABLE - 1];
                c = POISSON_TABLE - 1;
                while (u >= acc && pk > 0.0) {
                    c++;
                    pk *= mu / (double)c;
                    acc += pk;
                }
            }
        } else {
            seen[i] = -1.0;
            c = gsl_ran_poisson(r, mu);
        }
        if (c > 0) {
            out->id[out->n] = (uint32_t)i;
            out->mult[out->n] = c;
            out->n++;
        }
    }
}

/*
 * poisson_next: for the event-driven integrator, the time from now to
 * neuron i's next spike, exponential with mean 1/rate (continuous times),
 * drawn from its block's stream; INFINITY when the rate is not positive.
 * The rate of the draw is kept in state rate_seen: on `resume` the pending
 * spike stays (NAN) unless the rate changed since; the process is
 * memoryless, so a redraw from the moment of the change is exact.
 */
static double poisson_next(snn_pop *p, size_t i, double now_ms, bool resume)
{
    (void)now_ms;
    double rate = p->x[POISSON_RATE][i];
    if (resume && p->x[POISSON_SEEN][i] == rate)
        return NAN;
    p->x[POISSON_SEEN][i] = rate;
    if (!(rate > 0.0))
        return INFINITY;
    return gsl_ran_exponential(p->rng[i / SNN_BLOCK], 1000.0 / rate);
}

const snn_model_type poisson_type = {
    .name = "poisson",
    .doc = "Independent Poisson spike sources; per-neuron rate (Hz) in state 'rate', "
           "several spikes per step at high rates.",
    .params = poisson_params,
    .n_params = POISSON_N_PARAMS,
    .state = poisson_state,
    .state_unit = poisson_state_unit,
    .n_state = POISSON_N_STATE,
    .channels = NULL,
    .n_channels = 0,
    .weight_unit = poisson_weight_unit,
    .nonneg_weights = false,
    .is_source = true,
    .takes_spike_list = false,
    .random = true,
    .consts_size = sizeof(poisson_consts),
    .prepare = poisson_prepare,
    .init = poisson_init,
    .step = poisson_step,
    .release = NULL,
    .next_spike = poisson_next,
};
