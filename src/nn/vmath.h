/* vmath.h — private to src/nn: the noisy step's transcendental functions over float arrays
 * (softplus and its derivative, the mixture's responsibilities, Box–Muller normals), evaluated
 * a SIMD vector at a time by SLEEF. vmath.c says which variant a build uses and why the bits
 * are the same on every run of a machine.
 *
 * Every array function takes outputs first, then inputs, then the length; an output may be its
 * input (in place). Every element goes through the same vector function, whatever its position
 * (a partial last vector is padded), so a result does not depend on how an array is split. */
#ifndef OCCAM_VMATH_H
#define OCCAM_VMATH_H

#include <stddef.h>

#include "occam/rng.h"

/* y[i] = e^x[i], i < n. */
void vmath_exp(float *y, const float *x, size_t n);
/* y[i] = ln x[i]. */
void vmath_log(float *y, const float *x, size_t n);
/* y[i] = ln(1 + x[i]). */
void vmath_log1p(float *y, const float *x, size_t n);
/* s[i] = sin(π a[i]), c[i] = cos(π a[i]). */
void vmath_sincospi(float *s, float *c, const float *a, size_t n);

/* sigma[i] = softplus(rho[i]) = ln(1 + e^rho[i]), and rho[i] itself above 30 (where the two
 * agree in float, and e^rho would overflow soon after); with sig, also its derivative
 * sig[i] = sigmoid(rho[i]) = e^rho/(1 + e^rho), from the same exp. The outputs must not be rho. */
void vmath_softplus(float *sigma, float *sig, const float *rho, size_t n);

/* The most components vmath_mixture_sums takes. */
enum { VMATH_MIX_MAX = 8 };

/* A one-dimensional Gaussian mixture's responsibility-weighted sums at the points x[i], i < n,
 * for k ≤ VMATH_MIX_MAX components with log weights lw[j] (ln π_j − ln s_j), means m[j] and
 * precisions v[j] = 1/s_j²: with r_j = exp(l_j − max_c l_c), l_j = lw[j] − ½ (x − m[j])² v[j]
 * (the likeliest component's r is 1, so nothing overflows and tot ≥ 1),
 *   tot[i] = Σ_j r_j,  gm[i] = Σ_j r_j (x − m[j]) v[j],  curv[i] = Σ_j r_j v[j],
 * each summed in component order. */
void vmath_mixture_sums(float *tot, float *gm, float *curv, const float *x, int k,
                        const float *lw, const float *m, const float *v, size_t n);

/* z[0 .. 2·npairs) ~ N(0, 1) by Box–Muller, both normals of each pair (cosine, then sine), one
 * 64-bit draw of r per pair: its high half gives the radius from a uniform in (0, 1] (32 bits:
 * the tail reaches 6.8 σ), its low half the angle, uniform in [−π, π). */
void vmath_normals(float *z, occam_rng *r, size_t npairs);

/* The implementation this build uses: "sleef-finz-avx512f", "sleef-finz-avx2" or "libm". */
const char *vmath_impl(void);

#endif
