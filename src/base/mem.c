/* Aligned allocation with overflow checks. */
#include "occam/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *occam_alloc(size_t n, size_t size)
{
    /* n * size and its rounding up to the alignment: within SIZE_MAX - 63 bytes, or a request
     * just short of SIZE_MAX wrapped to a block of 0 bytes */
    if (size != 0 && n > (SIZE_MAX - (OCCAM_ALIGN - 1)) / size) return NULL;
    size_t bytes = occam_round_up(n * size != 0 ? n * size : 1, OCCAM_ALIGN);
    return aligned_alloc(OCCAM_ALIGN, bytes);
}

void *occam_alloc_zero(size_t n, size_t size)
{
    void *p = occam_alloc(n, size);
    if (p) memset(p, 0, n * size);
    return p;
}
