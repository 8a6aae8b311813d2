/*
 * sim/rng.c: stream seeding by splitmix64 mixing of (master, owner, block).
 */
#include "rng.h"

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

unsigned long snn_rng_seed(uint64_t master, uint32_t owner, uint32_t blk)
{
    uint64_t s = splitmix64(master ^ splitmix64(((uint64_t)owner << 32) | blk));
    /* mt19937 takes the low 32 bits of an unsigned long; fold the high half in. */
    s ^= s >> 32;
    s &= 0xffffffffULL;
    return s ? (unsigned long)s : 1UL;
}

gsl_rng *snn_rng_alloc(uint64_t master, uint32_t owner, uint32_t blk)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r)
        gsl_rng_set(r, snn_rng_seed(master, owner, blk));
    return r;
}
