/*
 * rules/registry.c: the list of built-in plasticity rules, looked up by name.
 */
#include <string.h>

#include "rule.h"

extern const snn_rule_type stdp_pair_type;
extern const snn_rule_type stdp_triplet_type;
extern const snn_rule_type diehl_cook_type;
extern const snn_rule_type hebb_type;
extern const snn_rule_type instar_type;
extern const snn_rule_type oja_type;
extern const snn_rule_type three_factor_type;
extern const snn_rule_type ghl_type;

static const snn_rule_type *const rules[] = {
    &stdp_pair_type,
    &stdp_triplet_type,
    &diehl_cook_type,
    &hebb_type,
    &instar_type,
    &oja_type,
    &three_factor_type,
    &ghl_type,
};

const snn_rule_type *snn_rule_at(size_t i)
{
    return i < sizeof rules / sizeof rules[0] ? rules[i] : NULL;
}

const snn_rule_type *snn_rule_find(const char *name)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i]->name, name) == 0)
            return rules[i];
    return NULL;
}

int snn_rule_param_index(const snn_rule_type *t, const char *key)
{
    for (size_t i = 0; t && i < t->n_params; i++)
        if (strcmp(t->params[i].key, key) == 0)
            return (int)i;
    return -1;
}
