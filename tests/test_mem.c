/* Aligned allocation: 64-byte aligned blocks, and NULL, never a short block, for a size that
 * overflows. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "occam/mem.h"

Test(mem, blocks_are_aligned_and_zeroed)
{
    for (size_t n = 0; n < 200; n += 37) {
        unsigned char *p = occam_alloc_zero(n, 3);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % OCCAM_ALIGN, 0);
        for (size_t i = 0; i < 3 * n; i++) cr_assert_eq(p[i], 0);
        free(p);
    }
}

/* The size rounded up to 64 bytes wrapped past SIZE_MAX: SIZE_MAX - 10 bytes became a block of
 * 0 (aligned_alloc(64, 0) returns one), and occam_alloc_zero then wrote SIZE_MAX - 10 zeros
 * into it. */
Test(mem, a_size_that_rounds_past_size_max_is_refused)
{
    cr_assert_null(occam_alloc(1, SIZE_MAX - 10));
    cr_assert_null(occam_alloc(SIZE_MAX - 62, 1));
    cr_assert_null(occam_alloc_zero((SIZE_MAX - 40) / 2, 2));
    cr_assert_null(occam_alloc(SIZE_MAX / 4 + 1, 4)); /* n * size itself overflows */
    /* the largest size that rounds up without wrapping is still a request (that fails) */
    cr_assert_eq(occam_round_up(SIZE_MAX - 63, 64), SIZE_MAX - 63);
}
