/* occam_symtri and occam_symtri_inv_trace against matrices whose spectra are known: Q Λ Qᵀ with Q
 * a product of random Householder reflections (repeated and zero eigenvalues among them), the
 * 1-D Laplacian's closed form, and tiny cases; tr((I + tA)⁻¹) = Σ 1/(1 + tλ). The reduction
 * keeps the trace and the Frobenius norm. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "occam/rng.h"
#include "occam/symtri.h"

/* tr((I + tA)⁻¹) through the reduction, against Σ 1/(1 + tλ), for several t; and the
 * tridiagonal's trace and squared Frobenius norm against Σλ and Σλ². */
static void check(const double *a, int n, const double *lam)
{
    double *m = malloc(sizeof(double) * (size_t)n * n), *d = malloc(sizeof(double) * n),
           *e = malloc(sizeof(double) * n), *w = malloc(sizeof(double) * n);
    for (size_t i = 0; i < (size_t)n * n; i++) m[i] = a[i];
    occam_symtri(d, e, m, n, w);
    double tr = 0, fro = 0, tl = 0, fl = 0, big = 0;
    for (int i = 0; i < n; i++) {
        tr += d[i], fro += d[i] * d[i] + (i + 1 < n ? 2 * e[i] * e[i] : 0);
        tl += lam[i], fl += lam[i] * lam[i], big = fmax(big, fabs(lam[i]));
    }
    cr_assert(fabs(tr - tl) <= 1e-11 * (1 + n * big), "n %d: trace %.17g, Σλ %.17g", n, tr, tl);
    cr_assert(fabs(fro - fl) <= 1e-11 * (1 + fl), "n %d: ‖T‖² %.17g, Σλ² %.17g", n, fro, fl);
    double ts[] = {0.0, 1e-3, 0.1, 1.0, 7.5, 1e3};
    for (size_t k = 0; k < sizeof ts / sizeof *ts; k++) {
        double want = 0.0;
        for (int i = 0; i < n; i++) want += 1.0 / (1.0 + ts[k] * lam[i]);
        double got = occam_symtri_inv_trace(d, e, n, ts[k], w);
        cr_assert(fabs(got - want) <= 1e-10 * n, "n %d, t %g: %.17g, expected %.17g", n, ts[k],
                  got, want);
    }
    free(m), free(d), free(e), free(w);
}

/* a = Q diag(lam) Qᵀ, Q = H1 H2 H3 (reflections through random unit vectors) */
static double *rotated(const double *lam, int n, occam_rng *r)
{
    double *a = calloc((size_t)n * n, sizeof *a), *v = malloc(sizeof(double) * n);
    for (int i = 0; i < n; i++) a[(size_t)i * n + i] = lam[i];
    for (int h = 0; h < 3; h++) {
        double s = 0.0;
        for (int i = 0; i < n; i++) {
            v[i] = occam_rng_uniform(r) - 0.5;
            s += v[i] * v[i];
        }
        for (int i = 0; i < n; i++) v[i] /= sqrt(s);
        /* a ← (I − 2vvᵀ) a (I − 2vvᵀ): columns, then rows */
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < n; j++) {
                double t = 0.0;
                for (int i = 0; i < n; i++) t += v[i] * a[pass ? (size_t)j * n + i : (size_t)i * n + j];
                for (int i = 0; i < n; i++)
                    a[pass ? (size_t)j * n + i : (size_t)i * n + j] -= 2.0 * v[i] * t;
            }
    }
    free(v);
    return a;
}

Test(symtri, rotated_spectra_give_their_traces)
{
    occam_rng r = occam_rng_seed(7, 0);
    int sizes[] = {1, 2, 3, 5, 17, 64, 150};
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        int n = sizes[z];
        double *lam = malloc(sizeof(double) * n);
        for (int i = 0; i < n; i++) /* positive semi-definite, over decades, some repeated */
            lam[i] = i % 7 == 3 ? 0.0 : i % 5 == 4 ? lam[i - 1]
                                  : occam_rng_uniform(&r) * pow(10.0, i % 4 - 1);
        double *a = rotated(lam, n, &r);
        check(a, n, lam);
        free(a), free(lam);
    }
}

Test(symtri, laplacian_and_small_cases)
{
    int n = 40;
    double *a = calloc((size_t)n * n, sizeof *a), lam[40];
    for (int i = 0; i < n; i++) {
        a[(size_t)i * n + i] = 2.0;
        if (i + 1 < n) a[(size_t)i * n + i + 1] = a[(size_t)(i + 1) * n + i] = -1.0;
        lam[i] = 2.0 - 2.0 * cos((i + 1) * M_PI / (n + 1));
    }
    check(a, n, lam);
    free(a);
    double two[4] = {2.0, 1.0, 1.0, 2.0}, l2[2] = {1.0, 3.0};
    check(two, 2, l2);
    double zero[9] = {0}, l0[3] = {0};
    check(zero, 3, l0);
    double ones[16], l4[4] = {0, 0, 0, 4}; /* rank one */
    for (int i = 0; i < 16; i++) ones[i] = 1.0;
    check(ones, 4, l4);
}
