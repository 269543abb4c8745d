/* The noisy step's vector math (src/nn/vmath.c) against libm in double, in ulps of the exact
 * result, over wide ranges and their extremes; its normals against a double Box–Muller of the
 * same uniforms and against the normal distribution; and SLEEF's claim that its deterministic
 * ("finz") functions give the same bits on AVX2 and on AVX-512, where both run. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/nn/vmath.h"
#include "occam/rng.h"

/* |y − ref| in units of the last place of ref as a float (subnormal spacing below FLT_MIN). */
static double ulps(float y, double ref)
{
    if (isinf(ref)) return (double)y == ref ? 0.0 : INFINITY;
    int e;
    frexp(fabs(ref), &e); /* ref in [2^(e−1), 2^e) */
    double ulp = ldexp(1.0, e - 24 > -149 ? e - 24 : -149);
    return fabs((double)y - ref) / ulp;
}

/* The largest error the implementation states: SLEEF's u10 functions 1 ulp; glibc's float
 * functions (the portable build) are documented within 2. */
static double bound(void) { return strcmp(vmath_impl(), "libm") == 0 ? 2.0 : 1.0; }

enum { N = 200003 }; /* odd: the last vector is partial */

/* n points from lo to hi: evenly spaced, then the interval's ends and zero (if inside). */
static float *grid(double lo, double hi, size_t n)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * (double)i / (double)(n - 1));
    x[0] = (float)lo;
    x[n - 1] = (float)hi;
    if (lo < 0 && hi > 0) x[n / 2] = 0.0f;
    return x;
}

typedef void (*vfun)(float *, const float *, size_t);

/* The largest error of f against ref over x[0..n); every result is finite where ref is. */
static double max_ulps(vfun f, double (*ref)(double), const float *x, size_t n, float *worst)
{
    float *y = malloc(n * sizeof *y);
    f(y, x, n);
    double mx = 0.0;
    for (size_t i = 0; i < n; i++) {
        double u = ulps(y[i], ref(x[i]));
        if (u > mx) {
            mx = u;
            *worst = x[i];
        }
    }
    free(y);
    return mx;
}

static void check(const char *name, vfun f, double (*ref)(double), double lo, double hi,
                  double limit)
{
    float *x = grid(lo, hi, N), worst = 0.0f;
    double u = max_ulps(f, ref, x, N, &worst);
    cr_log_info("%s on [%g, %g] (%s): max %.3f ulp at %.9g", name, lo, hi, vmath_impl(), u,
                (double)worst);
    cr_assert(u <= limit, "%s: %.3f ulp at %.9g (limit %.2f)", name, u, (double)worst, limit);
    free(x);
}

Test(vmath, exp_within_one_ulp)
{
    check("exp", vmath_exp, exp, -103.0, 88.7, bound()); /* the whole finite range of e^x */
    check("exp", vmath_exp, exp, -1.0, 1.0, bound());
    float sp[] = {-INFINITY, -200.0f, 0.0f, 89.0f, INFINITY, NAN}, y[6];
    vmath_exp(y, sp, 6);
    cr_assert(y[0] == 0.0f && y[1] == 0.0f && y[2] == 1.0f && isinf(y[3]) && isinf(y[4]) &&
              isnan(y[5]));
}

Test(vmath, log_within_one_ulp)
{
    check("log", vmath_log, log, 1e-37, 1.0, bound());
    check("log", vmath_log, log, 0.5, 2.0, bound());
    check("log", vmath_log, log, 1.0, 3e38, bound());
    float sp[] = {0.0f, 1.0f, INFINITY, -1.0f}, y[4];
    vmath_log(y, sp, 4);
    cr_assert(y[0] == -INFINITY && y[1] == 0.0f && y[2] == INFINITY && isnan(y[3]));
}

Test(vmath, log1p_within_one_ulp)
{
    check("log1p", vmath_log1p, log1p, -0.999, 1.0, bound());
    check("log1p", vmath_log1p, log1p, -1e-6, 1e-6, bound());
    check("log1p", vmath_log1p, log1p, 1.0, 1e30, bound());
}

static double sinpi(double a) { return sin(M_PI * a); }
static double cospi(double a) { return cos(M_PI * a); }
static void vsinpi(float *y, const float *a, size_t n)
{
    float *c = malloc(n * sizeof *c);
    vmath_sincospi(y, c, a, n);
    free(c);
}
static void vcospi(float *y, const float *a, size_t n)
{
    float *s = malloc(n * sizeof *s);
    vmath_sincospi(s, y, a, n);
    free(s);
}

Test(vmath, sincospi_within_half_an_ulp_and_a_bit)
{
    /* SLEEF's u05: 0.506 ulp. Near its zeros sin(πa) is small and the reference's own double
     * rounding of π·a is an error of ~1e-16 absolute: points there are left out. */
    float *a = grid(-1.0, 1.0, N);
    size_t k = 0;
    for (size_t i = 0; i < N; i++)
        if (fabs(sinpi(a[i])) > 1e-6 && fabs(cospi(a[i])) > 1e-6) a[k++] = a[i];
    float ws = 0, wc = 0;
    double limit = strcmp(vmath_impl(), "libm") == 0 ? 1.0 : 0.506;
    double us = max_ulps(vsinpi, sinpi, a, k, &ws), uc = max_ulps(vcospi, cospi, a, k, &wc);
    cr_log_info("sincospi (%s): sin max %.3f ulp, cos max %.3f ulp", vmath_impl(), us, uc);
    cr_assert(us <= limit && uc <= limit, "sin %.3f ulp at %g, cos %.3f ulp at %g", us,
              (double)ws, uc, (double)wc);
    free(a);
}

static double softplus(double r) { return r > 30 ? r : log1p(exp(r)); }
static void vsoftplus(float *y, const float *x, size_t n) { vmath_softplus(y, NULL, x, n); }

/* σ = softplus(ρ) as the update computes it: exp, then log1p, two roundings of at most an ulp
 * each, and the argument of log1p carries exp's error (relative, so at most another ulp of
 * ln(1 + t)): within 2 ulp. Extremes: ρ where σ underflows towards subnormals, ±30 around
 * the switch to σ = ρ, and large ρ. */
Test(vmath, softplus_within_two_ulps)
{
    check("softplus", vsoftplus, softplus, -87.0, 30.0, 2.0);
    check("softplus", vsoftplus, softplus, -30.5, -29.5, 2.0);
    check("softplus", vsoftplus, softplus, 29.5, 30.5, 2.0);
    check("softplus", vsoftplus, softplus, 30.0, 1e6, 0.5); /* ρ itself: correctly rounded */
    /* below e^-87 σ is subnormal; it stays within a few subnormal steps and never negative */
    float r[] = {-100.0f, -103.0f, -200.0f, -INFINITY, NAN}, s[5];
    vmath_softplus(s, NULL, r, 5);
    for (int i = 0; i < 3; i++)
        cr_assert(s[i] >= 0.0f && ulps(s[i], softplus(r[i])) <= 2.0, "softplus(%g) = %g", r[i],
                  s[i]);
    cr_assert(s[3] == 0.0f && isnan(s[4]));
}

/* The update's dσ/dρ = sigmoid(ρ) = e^ρ/(1 + e^ρ) from softplus's exp: exp's ulp, then the sum
 * and the quotient rounded: within 2.5 ulp of 1/(1 + e^−ρ), also where it is tiny (ρ → −∞)
 * and where it rounds to 1 (ρ > 17). */
Test(vmath, sigmoid_within_two_and_a_half_ulps)
{
    float *rho = grid(-87.0, 60.0, N), *sg = malloc(N * sizeof *sg), *s = malloc(N * sizeof *s);
    float worst = 0;
    vmath_softplus(sg, s, rho, N);
    double mx = 0.0;
    for (size_t i = 0; i < N; i++) {
        double u = ulps(s[i], 1.0 / (1.0 + exp(-(double)rho[i])));
        if (u > mx) {
            mx = u;
            worst = rho[i];
        }
    }
    cr_log_info("sigmoid (%s): max %.3f ulp at %g", vmath_impl(), mx, (double)worst);
    cr_assert(mx <= 2.5, "%.3f ulp at ρ = %g", mx, (double)worst);
    float big[] = {1e4f, INFINITY}, bs[2], bg[2];
    vmath_softplus(bg, bs, big, 2);
    cr_assert(bs[0] == 1.0f && bs[1] == 1.0f && bg[0] == 1e4f && isinf(bg[1]));
    free(rho);
    free(sg);
    free(s);
}

/* The mixture's responsibility sums against double over x from −2 to 2, for 1 to 8
 * components. A term's exp argument a = lw − ½(x − m)²v − max l is computed in float, an
 * absolute error of a few ulp of the magnitudes entering it, M = |lw| + ½(x − m)²v + |max l|,
 * and so a relative error of the term of that size, besides exp's own ulp: each sum's error
 * is measured in units of Σ |term|·(1 + M)·2⁻²⁴ and must stay within 4 of them. A term below
 * float's normal range may be lost whole. */
Test(vmath, mixture_sums_match_double)
{
    enum { M = 4001 };
    float x[M], t[M], g[M], c[M];
    for (int i = 0; i < M; i++) x[i] = (float)(-2.0 + 4.0 * i / (M - 1));
    for (int k = 1; k <= VMATH_MIX_MAX; k++) {
        float lw[VMATH_MIX_MAX], m[VMATH_MIX_MAX], v[VMATH_MIX_MAX];
        for (int j = 0; j < k; j++) {
            double s = 0.02 + 0.3 * j, pi = 1.0 / k;
            m[j] = (float)(j % 2 ? 0.4 * j : -0.3 * j);
            v[j] = (float)(1.0 / (s * s));
            lw[j] = (float)(log(pi) - log(s));
        }
        vmath_mixture_sums(t, g, c, x, k, lw, m, v, M);
        double worst = 0.0;
        for (int i = 0; i < M; i++) {
            double l[VMATH_MIX_MAX], mx = -INFINITY, rt = 0, rg = 0, rc = 0, ut = 0, ug = 0, uc = 0;
            for (int j = 0; j < k; j++) {
                double d = (double)x[i] - m[j];
                l[j] = lw[j] - 0.5 * d * d * v[j];
                mx = fmax(mx, l[j]);
            }
            for (int j = 0; j < k; j++) {
                double r = exp(l[j] - mx), d = (double)x[i] - m[j];
                double w = 1.0 + fabs(lw[j]) + 0.5 * d * d * v[j] + fabs(mx);
                if (r < 0x1p-126) w = 0x1p24; /* below float's normal range: may be lost whole */
                rt += r;
                rg += r * d * v[j];
                rc += r * v[j];
                ut += r * w;
                ug += r * fabs(d) * v[j] * w;
                uc += r * v[j] * w;
            }
            double et = fabs(t[i] - rt) / (ut * 0x1p-24), eg = fabs(g[i] - rg) / (ug * 0x1p-24 + 1e-300);
            double ec = fabs(c[i] - rc) / (uc * 0x1p-24);
            cr_assert(et <= 4.0 && eg <= 4.0 && ec <= 4.0, "k %d x %g: %g %g %g units", k,
                      (double)x[i], et, eg, ec);
            worst = fmax(worst, fmax(et, fmax(eg, ec)));
        }
        cr_log_info("mixture sums, %d components (%s): max %.3f units", k, vmath_impl(), worst);
    }
}

/* Each normal against Box–Muller in double from the same uniforms (the generator's own
 * formulas, exact in float): within 3 ulp of the radius, absolutely (a normal near a zero of
 * the cosine is small, and only its absolute error matters). */
Test(vmath, normals_match_double_box_muller)
{
    enum { P = 100001 };
    float *z = malloc(2 * P * sizeof *z);
    occam_rng r = occam_rng_seed(3, 14), q = r;
    vmath_normals(z, &r, P);
    double worst = 0.0, maxrad = 0.0;
    for (size_t i = 0; i < P; i++) {
        uint64_t x = occam_rng_next(&q);
        float u = ((float)(uint32_t)(x >> 32) + 0.5f) * 0x1p-32f;
        float a = (float)((int64_t)(x & 0xffffffffu) - 0x80000000LL) * 0x1p-31f;
        double rad = sqrt(-2.0 * log((double)u));
        double ec = fabs(z[2 * i] - rad * cos(M_PI * a)), es = fabs(z[2 * i + 1] - rad * sin(M_PI * a));
        double e = fmax(ec, es) / (ldexp(1.0, -23) * fmax(rad, 1e-30));
        worst = fmax(worst, e);
        maxrad = fmax(maxrad, rad);
    }
    cr_assert_eq(memcmp(&r, &q, sizeof r), 0, "one draw per pair");
    cr_log_info("normals (%s): max error %.3f ulp of the radius; largest radius %.3f",
                vmath_impl(), worst, maxrad);
    cr_assert(worst <= 3.0, "%.3f ulp of the radius", worst);
    free(z);
}

/* Two million normals: mean, variance, the mass beyond 2 and 3 σ, and the fourth moment, each
 * within about 5 standard errors of N(0, 1)'s; the pair's two normals uncorrelated. */
Test(vmath, normals_are_standard_normal)
{
    enum { P = 1000000 };
    float *z = malloc(2 * P * sizeof *z);
    occam_rng r = occam_rng_seed(11, 2);
    vmath_normals(z, &r, P);
    double n = 2.0 * P, s1 = 0, s2 = 0, s4 = 0, b2 = 0, b3 = 0, cross = 0;
    for (size_t i = 0; i < 2 * (size_t)P; i++) {
        double v = z[i], v2 = v * v;
        s1 += v;
        s2 += v2;
        s4 += v2 * v2;
        b2 += fabs(v) > 2.0;
        b3 += fabs(v) > 3.0;
        if (i % 2 == 0) cross += v * z[i + 1];
    }
    double mean = s1 / n, var = s2 / n - mean * mean, kurt = s4 / n;
    cr_assert(fabs(mean) < 5 / sqrt(n), "mean %g", mean);
    cr_assert(fabs(var - 1.0) < 5 * sqrt(2.0 / n), "variance %g", var);
    cr_assert(fabs(kurt - 3.0) < 5 * sqrt(96.0 / n), "fourth moment %g", kurt);
    double p2 = 0.0455002638963584, p3 = 0.0026997960632601866;
    cr_assert(fabs(b2 / n - p2) < 5 * sqrt(p2 / n), "beyond 2σ: %g", b2 / n);
    cr_assert(fabs(b3 / n - p3) < 5 * sqrt(p3 / n), "beyond 3σ: %g", b3 / n);
    cr_assert(fabs(cross / P) < 5 / sqrt((double)P), "pair correlation %g", cross / P);
    free(z);
}

/* Results do not depend on an element's place in the array (the partial last vector is
 * padded): every length from 1 to 40 gives the bits of one long call. */
Test(vmath, results_do_not_depend_on_the_split)
{
    enum { M = 40 };
    float x[M], whole[M], part[M];
    for (int i = 0; i < M; i++) x[i] = (float)(0.37 * i - 7.0);
    vmath_exp(whole, x, M);
    for (int len = 1; len <= M; len++)
        for (int at = 0; at < M; at += len) {
            int k = M - at < len ? M - at : len;
            vmath_exp(part + at, x + at, (size_t)k);
        }
    cr_assert_eq(memcmp(whole, part, sizeof whole), 0);
    float zw[2 * M], zp[2 * M];
    occam_rng a = occam_rng_seed(1, 1), b = a;
    vmath_normals(zw, &a, M);
    vmath_normals(zp, &b, 3);
    vmath_normals(zp + 6, &b, 0);
    vmath_normals(zp + 6, &b, M - 3);
    cr_assert_eq(memcmp(zw, zp, sizeof zw), 0);
}

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include <sleef.h>

/* SLEEF's deterministic functions give the same bits with 8 AVX2 lanes as with 16 AVX-512
 * lanes: a build for either ISA trains to the same numbers (vmath.c relies on it). */
Test(vmath, finz_functions_agree_across_isas)
{
    enum { M = 1 << 16 };
    float *x = malloc(M * sizeof *x), *a = malloc(M * sizeof *a), *b = malloc(M * sizeof *b);
    occam_rng r = occam_rng_seed(5, 5);
    for (int f = 0; f < 4; f++) {
        for (int i = 0; i < M; i++) {
            double u = occam_rng_uniform(&r);
            x[i] = f == 0   ? (float)(190.0 * u - 100.0)       /* exp */
                   : f == 1 ? (float)exp(170.0 * u - 85.0)   /* log: (0, ∞) */
                   : f == 2 ? (float)expm1(60.0 * u - 30.0 > 0 ? 60.0 * u - 30.0 : -u)
                            : (float)(2.0 * u - 1.0);        /* sincospi */
        }
        for (int i = 0; i < M; i += 16) {
            __m512 v16 = _mm512_loadu_ps(x + i), r16;
            __m256 lo = _mm256_loadu_ps(x + i), hi = _mm256_loadu_ps(x + i + 8), rl, rh;
            switch (f) {
            case 0: r16 = Sleef_finz_expf16_u10avx512f(v16);
                rl = Sleef_finz_expf8_u10avx2(lo), rh = Sleef_finz_expf8_u10avx2(hi); break;
            case 1: r16 = Sleef_finz_logf16_u10avx512f(v16);
                rl = Sleef_finz_logf8_u10avx2(lo), rh = Sleef_finz_logf8_u10avx2(hi); break;
            case 2: r16 = Sleef_finz_log1pf16_u10avx512f(v16);
                rl = Sleef_finz_log1pf8_u10avx2(lo), rh = Sleef_finz_log1pf8_u10avx2(hi); break;
            default: r16 = Sleef_finz_sincospif16_u05avx512f(v16).x;
                rl = Sleef_finz_sincospif8_u05avx2(lo).x, rh = Sleef_finz_sincospif8_u05avx2(hi).x;
            }
            _mm512_storeu_ps(a + i, r16);
            _mm256_storeu_ps(b + i, rl);
            _mm256_storeu_ps(b + i + 8, rh);
        }
        cr_assert_eq(memcmp(a, b, M * sizeof *a), 0, "function %d differs between ISAs", f);
    }
    free(x);
    free(a);
    free(b);
}
#endif

/* Subnormal arguments, which the grids above never reach: ln of a subnormal within the bound
 * (it is a normal number, −87.3 to −103.3), and log1p and exp of one within a subnormal step
 * of x and of 1; sincospi exactly 0 and ±1 at the multiples of ½ (any sign of zero). Each in a
 * partial last vector and a full one. */
Test(vmath, subnormal_arguments_and_exact_sincospi)
{
    enum { M = 21 };
    float x[M], y[M];
    for (int i = 0; i < M; i++) x[i] = ldexpf(1.0f + (float)i / M, -127 - i); /* 2^-127 .. 2^-147 */
    for (size_t n = 3; n <= M; n += M - 3) {
        vmath_log(y, x, n);
        for (size_t i = 0; i < n; i++)
            cr_assert(ulps(y[i], log((double)x[i])) <= bound(), "log(%a) = %.9g", x[i], y[i]);
        vmath_log1p(y, x, n);
        for (size_t i = 0; i < n; i++)
            cr_assert(fabs((double)y[i] - x[i]) <= 0x1p-149, "log1p(%a) = %a", x[i], y[i]);
        vmath_exp(y, x, n);
        for (size_t i = 0; i < n; i++) cr_assert(y[i] == 1.0f, "exp(%a) = %a", x[i], y[i]);
    }
    float a[M], s[M], c[M];
    for (int i = 0; i < M; i++) a[i] = 0.5f * (float)(i - 10); /* -5 .. 5 by halves */
    vmath_sincospi(s, c, a, M);
    for (int i = 0; i < M; i++) {
        int k = ((i - 10) % 4 + 4) % 4; /* a = k/2 (mod 2) */
        float ws = k == 1 ? 1.0f : k == 3 ? -1.0f : 0.0f, wc = k == 0 ? 1.0f : k == 2 ? -1.0f : 0.0f;
        cr_assert(s[i] == ws && c[i] == wc, "sincospi(%g) = %g, %g", a[i], s[i], c[i]);
    }
    float z[2] = {-0.0f, 0.0f}; /* sin keeps zero's sign (the libm path's once lost −0's) */
    vmath_sincospi(s, c, z, 2);
    cr_assert(signbit(s[0]) && !signbit(s[1]) && c[0] == 1.0f && c[1] == 1.0f,
              "sincospi(∓0) = %g, %g", s[0], s[1]);
}

/* A NaN point gives NaN sums and leaves its vector's other lanes, and the padded tail's, as
 * they are without it (lanes are independent: the mixture's max over components is per
 * lane); an infinite one is not a finite number either. */
Test(vmath, mixture_sums_keep_a_nan_point_to_its_lane)
{
    enum { M = 37 };
    float x[M], t[M], g[M], cv[M], t2[M], g2[M], c2[M];
    const float lw[3] = {1.2f, -0.3f, 0.1f}, m[3] = {0.0f, 0.5f, -0.7f}, v[3] = {2500.0f, 4.0f, 9.0f};
    for (int i = 0; i < M; i++) x[i] = (float)(-1.0 + 2.0 * i / (M - 1));
    vmath_mixture_sums(t, g, cv, x, 3, lw, m, v, M);
    const int at[] = {0, 5, 33, 36};
    for (size_t a = 0; a < sizeof at / sizeof *at; a++) {
        float xb[M];
        memcpy(xb, x, sizeof x);
        xb[at[a]] = a % 2 ? INFINITY : NAN;
        vmath_mixture_sums(t2, g2, c2, xb, 3, lw, m, v, M);
        for (int i = 0; i < M; i++) {
            if (i == at[a]) {
                cr_assert(!isfinite(t2[i]) || !isfinite(g2[i]) || !isfinite(c2[i]),
                          "x = %g: %g %g %g", xb[i], t2[i], g2[i], c2[i]);
                if (isnan(xb[i])) cr_assert(isnan(t2[i]) && isnan(g2[i]) && isnan(c2[i]));
                continue;
            }
            cr_assert(t2[i] == t[i] && g2[i] == g[i] && c2[i] == cv[i],
                      "a %g at %d changed lane %d", xb[at[a]], at[a], i);
        }
    }
}
