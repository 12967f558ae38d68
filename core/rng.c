/* xoshiro256** (Blackman and Vigna) seeded through splitmix64. One normal per call keeps the stream
 * position simple to reason about when reproducing a bootstrap. */
#include "rng.h"

#include <math.h>

static uint64_t al_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void al_rng_seed(al_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
    for (int i = 0; i < 4; i++) r->s[i] = al_splitmix64(&x);
}

static uint64_t al_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t al_rng_u64(al_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = al_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = al_rotl(s[3], 45);
    return result;
}

double al_rng_uniform(al_rng *r) { return (double)(al_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t al_rng_below(al_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = al_rng_u64(r);
    while (x >= lim);
    return x % n;
}

double al_rng_normal(al_rng *r) {
    double u1 = al_rng_uniform(r), u2 = al_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
