/*
 * sim/connect.h: drawing a projection's synapses (connectors, weights,
 * delays) and storing them per target partition.
 */
#ifndef SNN_CONNECT_H
#define SNN_CONNECT_H

#include "net.h"

/* Build projection `pj` (memory provided, zeroed by the caller) from `ps`
   into `net`, whose populations are built.  On failure pj stays clearable. */
int snn_connect(snn_net *net, snn_proj *pj, const snn_proj_spec *ps, uint32_t index,
                snn_err *err);
void snn_connect_clear(snn_proj *pj);

#endif
