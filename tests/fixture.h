/*
 * tests/fixture.h: building small specs by hand (no parameter file), for
 * tests of the engine that must not depend on io/cfg.c.
 */
#ifndef SNN_TEST_FIXTURE_H
#define SNN_TEST_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "sim/pop.h"
#include "sim/spec.h"

static inline snn_spec *fx_spec(double dt_ms, double duration_ms, uint64_t seed)
{
    snn_spec *s = calloc(1, sizeof *s);
    s->dt_ms = dt_ms;
    s->duration_ms = duration_ms;
    s->seed = seed;
    s->threads = 1;
    s->pops = calloc(16, sizeof *s->pops);
    s->projs = calloc(16, sizeof *s->projs);
    s->rec_spikes = calloc(16, sizeof *s->rec_spikes);
    snprintf(s->output, sizeof s->output, "fixture.h5");
    return s;
}

/* Add a population of `model` with default params; returns its index. */
static inline uint32_t fx_pop(snn_spec *s, const char *name, const char *model, size_t n)
{
    snn_pop_spec *p = &s->pops[s->n_pops];
    snn_err err;
    if (snn_pop_spec_defaults(p, snn_model_find(model), n, name, &err))
        abort();
    return (uint32_t)s->n_pops++;
}

static inline void fx_par(snn_spec *s, uint32_t pop, const char *key, double v)
{
    int k = snn_model_param_index(s->pops[pop].type, key);
    if (k < 0)
        abort();
    s->pops[pop].par[k] = v;
}

static inline snn_proj_spec *fx_proj(snn_spec *s, uint32_t pre, uint32_t post,
                                     snn_conn_kind conn, double w, double delay_ms)
{
    snn_proj_spec *p = &s->projs[s->n_projs];
    snprintf(p->name, sizeof p->name, "proj%zu", s->n_projs);
    s->n_projs++;
    p->pre = pre;
    p->post = post;
    p->conn = conn;
    p->weight.kind = SNN_DIST_CONST;
    p->weight.a = w;
    p->delay_ms.kind = SNN_DIST_CONST;
    p->delay_ms.a = delay_ms;
    return p;
}

#endif
