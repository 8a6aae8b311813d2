/*
 * sim/rng.h: random streams keyed by (master seed, owner, block).
 *
 * Every stream belongs to a population block, a projection's target block or
 * an initialisation role, never to a thread, so the same seed gives the same
 * numbers for any thread count.  Generator: GSL's mt19937.
 */
#ifndef SNN_RNG_H
#define SNN_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

/* Owner roles, combined with an index: snn_rng_owner(SNN_RNG_POP, 3). */
enum { SNN_RNG_POP = 1, SNN_RNG_INIT = 2, SNN_RNG_CONN = 3, SNN_RNG_USER = 4 };

static inline uint32_t snn_rng_owner(uint32_t role, uint32_t index)
{
    return (role << 24) ^ index;
}

/* Seed for the stream of (owner, blk) under `master`; never 0. */
unsigned long snn_rng_seed(uint64_t master, uint32_t owner, uint32_t blk);

/* A new generator seeded for (owner, blk); NULL when out of memory. */
gsl_rng *snn_rng_alloc(uint64_t master, uint32_t owner, uint32_t blk);

#endif
