/*
 * models/registry.c: the list of built-in models, looked up by name.
 */
#include <string.h>

#include "../sim/model.h"

extern const snn_model_type lif_type;
extern const snn_model_type lif_cond_type;
extern const snn_model_type poisson_type;
extern const snn_model_type spike_times_type;

static const snn_model_type *const models[] = {
    &lif_type, &lif_cond_type, &poisson_type, &spike_times_type,
};

const snn_model_type *snn_model_at(size_t i)
{
    return i < sizeof models / sizeof models[0] ? models[i] : NULL;
}

const snn_model_type *snn_model_find(const char *name)
{
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        if (strcmp(models[i]->name, name) == 0)
            return models[i];
    return NULL;
}

int snn_model_state_index(const snn_model_type *t, const char *name)
{
    for (size_t i = 0; i < t->n_state; i++)
        if (strcmp(t->state[i], name) == 0)
            return (int)i;
    return -1;
}

int snn_model_param_index(const snn_model_type *t, const char *key)
{
    for (size_t i = 0; i < t->n_params; i++)
        if (strcmp(t->params[i].key, key) == 0)
            return (int)i;
    return -1;
}
