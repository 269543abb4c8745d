/* occam/rng.h — seeded, splittable pseudo-random numbers (xoshiro256**).
 *
 * Every consumer owns its generator: one per thread, shard or purpose, derived from the run's
 * seed with occam_rng_seed(seed, stream). Nothing in occam calls rand(). The state is a plain
 * struct so that it can be checkpointed byte for byte. */
#ifndef OCCAM_RNG_H
#define OCCAM_RNG_H

#include <stdint.h>

typedef struct occam_rng {
    uint64_t s[4];
} occam_rng;

/* Independent stream `stream` of generator `seed` (splitmix64 expansion of both). */
occam_rng occam_rng_seed(uint64_t seed, uint64_t stream);
uint64_t occam_rng_next(occam_rng *r);
/* Uniform double in [0, 1), 53 random bits. */
double occam_rng_uniform(occam_rng *r);
/* Uniform integer in [0, n), unbiased (Lemire's method with rejection). n > 0. */
uint64_t occam_rng_below(occam_rng *r, uint64_t n);
/* Standard normal (Box–Muller). Each call draws a fresh pair of uniforms and returns one of
 * the two normals: the state stays the four words above, at twice the cost per draw. */
double occam_rng_normal(occam_rng *r);
/* Both normals of one Box–Muller pair: *a is what occam_rng_normal returns from the same state
 * (bit for bit), *b the independent sine partner, for half the cost per draw. */
void occam_rng_normal_pair(occam_rng *r, double *a, double *b);
/* Fisher–Yates shuffle of perm[0..n). */
void occam_rng_shuffle_u32(occam_rng *r, uint32_t *perm, uint64_t n);

#endif
