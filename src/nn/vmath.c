/* Vector math for the noisy step (see vmath.h), the one file that includes <sleef.h>.
 *
 * Which functions. SLEEF's plain vector functions may round differently from one ISA to
 * another (with or without FMA, and a lane needing a slow path can change its neighbours), and
 * its dispatchers pick the ISA when the program starts. Its deterministic "finz" variants
 * instead return the same bits on every ISA that has FMA (they equal SLEEF's scalar
 * Sleef_finz_*_purecfma), within 1 ulp (u10; sincospi u05). So the ISA is fixed at compile
 * time from the target (the build uses -march=native): AVX-512F with FMA takes the 16-lane
 * finz functions, AVX2 with FMA the 8-lane ones, and those two give identical results
 * (tests/test_vmath.c checks it where both run). A given build therefore always gives the same
 * bits, as the rest of occam promises; between machines the finz results agree, though BLIS's
 * kernels and the compiler's vectorisation of the other loops may not.
 *
 * Anything else (no FMA, not x86-64, or -DOCCAM_VMATH_LIBM) takes libm's scalar functions
 * element by element, through the same code with one-lane "vectors": portable and just as
 * reproducible on its machine, but slower, and not the same bits as the SLEEF builds.
 *
 * The composite functions (softplus, the mixture's sums) keep a vector's intermediate values
 * in registers: one pass over memory, one SLEEF call per function and vector. Their arithmetic
 * is the IEEE operations the C reads as (the build has -ffp-contract=off: no fused
 * multiply-adds), so both SLEEF widths agree on them too. A partial last vector is copied into
 * a padded one, so every element goes through the same code; padding lanes hold 1, a harmless
 * argument of every function here. */
#include "vmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "occam/error.h"

#if !defined(OCCAM_VMATH_LIBM) && defined(__x86_64__) && defined(__FMA__) && \
    (defined(__AVX512F__) || defined(__AVX2__))
#include <immintrin.h>
#include <sleef.h>
/* GCC's vector types: + − × ÷ act lane by lane on vf as on float. */
#if defined(__AVX512F__)
enum { W = 16 };
typedef __m512 vf;
typedef Sleef___m512_2 vf2;
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VSET _mm512_set1_ps
#define VMAX _mm512_max_ps /* a > b ? a : b, as the scalar form below */
#define VSEL_GT(a, b, x, y) _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x)
#define SLEEF_FN(f, ulp) Sleef_finz_##f##f16_##ulp##avx512f
#define IMPL "sleef-finz-avx512f"
#else
enum { W = 8 };
typedef __m256 vf;
typedef Sleef___m256_2 vf2;
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VSET _mm256_set1_ps
#define VMAX _mm256_max_ps
#define VSEL_GT(a, b, x, y) _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GT_OQ))
#define SLEEF_FN(f, ulp) Sleef_finz_##f##f8_##ulp##avx2
#define IMPL "sleef-finz-avx2"
#endif
#define V_EXP SLEEF_FN(exp, u10)
#define V_LOG SLEEF_FN(log, u10)
#define V_LOG1P SLEEF_FN(log1p, u10)
#define V_SINCOSPI SLEEF_FN(sincospi, u05)

#else /* libm, one lane */
enum { W = 1 };
typedef float vf;
typedef struct { float x, y; } vf2; /* sin, cos */
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VSET(x) (x)
#define VMAX(a, b) ((a) > (b) ? (a) : (b))
#define VSEL_GT(a, b, x, y) ((a) > (b) ? (x) : (y))
#define V_EXP expf
#define V_LOG logf
#define V_LOG1P log1pf
#define IMPL "libm"
static vf2 V_SINCOSPI(float a)
{
    /* a = q/2 + r, q whole and |r| ≤ 1/4, exactly (in double); sin and cos of π·r in double,
     * where its error does not matter in float, turned by q quarter turns: multiples of ½ give
     * exactly 0 and ±1 (sin(π·a) alone gave sinpi(−5) = −6.1e-16), −0 keeps its sign, as in
     * SLEEF's functions over the arguments occam gives them (past 1e7 SLEEF's give (0, 1)) */
    double x = a;
    if (!isfinite(x)) return (vf2){NAN, NAN};
    double q = nearbyint(2.0 * x), t = 3.14159265358979323846 * (q == 0 ? x : x - 0.5 * q);
    double s = sin(t), c = cos(t);
    switch ((int)(q - 4.0 * floor(q / 4.0))) { /* q mod 4: exact for every float */
    case 0: return (vf2){(float)s, (float)c};
    case 1: return (vf2){(float)c, (float)-s};
    case 2: return (vf2){(float)-s, (float)-c};
    default: return (vf2){(float)-c, (float)s};
    }
}
#endif

const char *vmath_impl(void) { return IMPL; }

/* Copies the partial last vector's n < W inputs into a padded one (the lanes past n: 1). */
static void pad_in(float *pad, const float *x, size_t n)
{
    for (size_t j = 0; j < (size_t)W; j++) pad[j] = j < n ? x[j] : 1.0f;
}

#define MAP(y, x, n, F)                                                                           \
    do {                                                                                          \
        size_t i_ = 0;                                                                            \
        for (; i_ + W <= (n); i_ += W) VSTORE((y) + i_, F(VLOAD((x) + i_)));                      \
        if (i_ < (n)) {                                                                           \
            float pad_[W];                                                                        \
            pad_in(pad_, (x) + i_, (n) - i_);                                                     \
            VSTORE(pad_, F(VLOAD(pad_)));                                                         \
            memcpy((y) + i_, pad_, ((n) - i_) * sizeof(float));                                   \
        }                                                                                         \
    } while (0)

void vmath_exp(float *y, const float *x, size_t n) { MAP(y, x, n, V_EXP); }
void vmath_log(float *y, const float *x, size_t n) { MAP(y, x, n, V_LOG); }
void vmath_log1p(float *y, const float *x, size_t n) { MAP(y, x, n, V_LOG1P); }

/* W lanes of sincospi: s, c from a. */
static inline void sincospi_v(float *s, float *c, const float *a)
{
    vf2 r = V_SINCOSPI(VLOAD(a));
    VSTORE(s, r.x);
    VSTORE(c, r.y);
}

void vmath_sincospi(float *s, float *c, const float *a, size_t n)
{
    size_t i = 0;
    for (; i + W <= n; i += W) sincospi_v(s + i, c + i, a + i);
    if (i == n) return;
    float pa[W], ps[W], pc[W];
    pad_in(pa, a + i, n - i);
    sincospi_v(ps, pc, pa);
    memcpy(s + i, ps, (n - i) * sizeof *s);
    memcpy(c + i, pc, (n - i) * sizeof *c);
}

/* W lanes of softplus and, if sig, its derivative. */
static inline void softplus_v(float *sigma, float *sig, const float *rho)
{
    const vf r = VLOAD(rho), top = VSET(30.0f);
    /* clamped so that e^ρ stays finite; a NaN stays NaN */
    const vf e = V_EXP(VSEL_GT(r, top, top, r));
    VSTORE(sigma, VSEL_GT(r, top, r, V_LOG1P(e)));
    if (sig) VSTORE(sig, e / (VSET(1.0f) + e));
}

void vmath_softplus(float *restrict sigma, float *restrict sig, const float *restrict rho,
                    size_t n)
{
    size_t i = 0;
    for (; i + W <= n; i += W) softplus_v(sigma + i, sig ? sig + i : NULL, rho + i);
    if (i == n) return;
    float pr[W], ps[W], pg[W];
    pad_in(pr, rho + i, n - i);
    softplus_v(ps, pg, pr);
    memcpy(sigma + i, ps, (n - i) * sizeof *sigma);
    if (sig) memcpy(sig + i, pg, (n - i) * sizeof *sig);
}

/* W lanes of the mixture's sums (see vmath.h); d and l stay in registers. */
static inline void mixture_v(float *tot, float *gm, float *curv, const float *x, int k,
                             const float *lw, const float *m, const float *v)
{
    const vf xv = VLOAD(x);
    vf d[VMATH_MIX_MAX], l[VMATH_MIX_MAX], mx = VSET(-INFINITY);
    for (int j = 0; j < k; j++) {
        d[j] = xv - VSET(m[j]);
        l[j] = VSET(lw[j]) - VSET(0.5f) * d[j] * d[j] * VSET(v[j]);
        mx = VMAX(l[j], mx);
    }
    vf t = VSET(0.0f), g = VSET(0.0f), c = VSET(0.0f);
    for (int j = 0; j < k; j++) {
        const vf r = V_EXP(l[j] - mx), vj = VSET(v[j]);
        t = t + r;
        g = g + r * d[j] * vj;
        c = c + r * vj;
    }
    VSTORE(tot, t);
    VSTORE(gm, g);
    VSTORE(curv, c);
}

void vmath_mixture_sums(float *tot, float *gm, float *curv, const float *x, int k,
                        const float *lw, const float *m, const float *v, size_t n)
{
    OCCAM_ASSERT(k >= 1 && k <= VMATH_MIX_MAX);
    size_t i = 0;
    for (; i + W <= n; i += W) mixture_v(tot + i, gm + i, curv + i, x + i, k, lw, m, v);
    if (i == n) return;
    float px[W], pt[W], pg[W], pc[W];
    pad_in(px, x + i, n - i);
    mixture_v(pt, pg, pc, px, k, lw, m, v);
    memcpy(tot + i, pt, (n - i) * sizeof *tot);
    memcpy(gm + i, pg, (n - i) * sizeof *gm);
    memcpy(curv + i, pc, (n - i) * sizeof *curv);
}

/* Pairs per pass of the normals: their scratch stays in L1. */
enum { CHUNK = 256 };

void vmath_normals(float *z, occam_rng *r, size_t npairs)
{
    float u[CHUNK], a[CHUNK], s[CHUNK], c[CHUNK];
    for (size_t b = 0; b < npairs; b += CHUNK) {
        size_t m = npairs - b < CHUNK ? npairs - b : CHUNK;
        for (size_t i = 0; i < m; i++) {
            uint64_t x = occam_rng_next(r);
            /* (h + 1/2)·2⁻³² lies in (0, 1]: the log is finite (float(h) may round up to 2³²) */
            u[i] = ((float)(uint32_t)(x >> 32) + 0.5f) * 0x1p-32f;
            a[i] = (float)((int64_t)(x & 0xffffffffu) - 0x80000000LL) * 0x1p-31f;
        }
        vmath_log(u, u, m);
        vmath_sincospi(s, c, a, m);
        float *zb = z + 2 * b;
        for (size_t i = 0; i < m; i++) {
            float rad = sqrtf(-2.0f * u[i]);
            zb[2 * i] = rad * c[i];
            zb[2 * i + 1] = rad * s[i];
        }
    }
}
