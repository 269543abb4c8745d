/* occam/floatkey.h — floats as unsigned 32-bit keys with the same order, for radix passes.
 * Negatives get every bit flipped, non-negatives the sign bit set; -0 is first mapped to +0 so
 * the two compare equal, as they do as floats (occam_key_float gives +0 back). NaN keys fall
 * outside [key(-Inf), key(+Inf)]. */
#ifndef OCCAM_FLOATKEY_H
#define OCCAM_FLOATKEY_H

#include <stdint.h>
#include <string.h>

static inline uint32_t occam_float_key(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    u = u == 0x80000000u ? 0u : u; /* -0 sorts with +0 */
    return u ^ (-(u >> 31) | 0x80000000u);
}

static inline float occam_key_float(uint32_t key)
{
    uint32_t u = key & 0x80000000u ? key ^ 0x80000000u : ~key;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#endif
