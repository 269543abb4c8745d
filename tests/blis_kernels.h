/* tests/blis_kernels.h — run a test beside one of BLIS's kernel sets. BLIS reads
 * BLIS_ARCH_TYPE once, when occam_gemm_init first starts it: so one set per test (Criterion's
 * process), chosen before anything multiplies. */
#ifndef OCCAM_TESTS_BLIS_KERNELS_H
#define OCCAM_TESTS_BLIS_KERNELS_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "occam/gemm.h"

/* BLIS on the kernel set `arch`; the test skips where this CPU cannot run it (occam refuses
 * the value, naming the sets it can). */
static inline void use_blis_kernels(const char *arch)
{
    setenv("BLIS_ARCH_TYPE", arch, 1);
    occam_error err;
    if (occam_gemm_check_env(&err) != OCCAM_OK) cr_skip_test("%s", err.msg);
    cr_assert_str_eq(occam_gemm_init(), arch, "BLIS started before the test set its kernels");
}

#endif
