/*
 * sim/spec.c: releasing a spec.
 */
#include "spec.h"

#include <stdlib.h>

#include "pop.h"

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
    for (size_t i = 0; s->phases && i < s->n_phases; i++)
        free(s->phases[i].features);
    free(s->phases);
    free(s->resolved);
    free(s);
}
