/*
 * sim/spec.c: releasing a spec; the connectors' names.
 */
#include "spec.h"

#include <stdlib.h>

#include "pop.h"

const char *const snn_conn_names[SNN_CONN_N] = {
    [SNN_CONN_ALL_TO_ALL] = "all_to_all",       [SNN_CONN_ONE_TO_ONE] = "one_to_one",
    [SNN_CONN_BERNOULLI] = "pairwise_bernoulli", [SNN_CONN_INDEGREE] = "fixed_indegree",
    [SNN_CONN_LOCAL] = "local",                 [SNN_CONN_LOCAL_GROUPS] = "local_groups",
};

void snn_local_locations(const snn_local_spec *l, uint32_t *nx, uint32_t *ny)
{
    bool ok = l->stride > 0 && l->patch > 0;
    *nx = ok && l->patch <= l->width ? (l->width - l->patch) / l->stride + 1 : 0;
    *ny = ok && l->patch <= l->height ? (l->height - l->patch) / l->stride + 1 : 0;
}

void snn_spec_free(snn_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->pops && i < s->n_pops; i++)
        snn_pop_spec_clear(&s->pops[i]);
    free(s->pops);
    for (size_t i = 0; s->projs && i < s->n_projs; i++) {
        free(s->projs[i].weight.values);
        free(s->projs[i].delay_ms.values);
        free(s->projs[i].rule_par);
    }
    free(s->projs);
    for (size_t i = 0; s->currents && i < s->n_currents; i++) {
        free(s->currents[i].neurons);
        free(s->currents[i].t_ms);
        free(s->currents[i].amp_pA);
    }
    free(s->currents);
    free(s->rec_spikes);
    for (size_t i = 0; s->rec_state && i < s->n_rec_state; i++) {
        free(s->rec_state[i].vars);
        free(s->rec_state[i].neurons);
    }
    free(s->rec_state);
    free(s->rec_weights);
    for (size_t i = 0; s->phases && i < s->n_phases; i++) {
        free(s->phases[i].features);
        free(s->phases[i].off);
        free(s->phases[i].gain_proj);
        free(s->phases[i].gain);
    }
    free(s->phases);
    free(s->resolved);
    free(s);
}
