/* The seeded generator used everywhere randomness is needed (synthetic data, bootstraps):
 * splitmix64 to seed, xoshiro256** to draw. Documented so results can be reproduced outside attnlab. */
#ifndef AL_RNG_H
#define AL_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} al_rng;

/* Seeds from (seed, stream): independent streams for e.g. each (sample, layer, head). */
void al_rng_seed(al_rng *r, uint64_t seed, uint64_t stream);
uint64_t al_rng_u64(al_rng *r);
double al_rng_uniform(al_rng *r);          /* [0, 1) with 53 random bits */
uint64_t al_rng_below(al_rng *r, uint64_t n); /* uniform in [0, n), unbiased */
double al_rng_normal(al_rng *r);           /* standard normal, Box-Muller (one value per call) */

#endif
