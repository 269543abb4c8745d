/* xoshiro256** seeded through splitmix64. Reference: Blackman & Vigna, "Scrambled linear
 * pseudorandom number generators" (2018). Written from the published recurrences. */
#include "occam/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

occam_rng occam_rng_seed(uint64_t seed, uint64_t stream)
{
    occam_rng r;
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull + 0x2545f4914f6cdd1dull);
    for (int i = 0; i < 4; i++) r.s[i] = splitmix64(&x);
    return r;
}

uint64_t occam_rng_next(occam_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double occam_rng_uniform(occam_rng *r) { return (double)(occam_rng_next(r) >> 11) * 0x1.0p-53; }

__extension__ typedef unsigned __int128 u128;

uint64_t occam_rng_below(occam_rng *r, uint64_t n)
{
    /* Lemire: multiply-shift, reject the few values that would bias the result. */
    u128 m = (u128)occam_rng_next(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t thresh = -n % n;
        while (lo < thresh) {
            m = (u128)occam_rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double occam_rng_normal(occam_rng *r)
{
    double u1 = occam_rng_uniform(r);
    double u2 = occam_rng_uniform(r);
    /* 1 - u1 lies in (0, 1], so the log is finite. */
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

void occam_rng_normal_pair(occam_rng *r, double *a, double *b)
{
    double u1 = occam_rng_uniform(r);
    double u2 = occam_rng_uniform(r);
    double rad = sqrt(-2.0 * log(1.0 - u1)), theta = 6.283185307179586 * u2;
    *a = rad * cos(theta);
    *b = rad * sin(theta);
}

void occam_rng_shuffle_u32(occam_rng *r, uint32_t *perm, uint64_t n)
{
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = occam_rng_below(r, i);
        uint32_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}
