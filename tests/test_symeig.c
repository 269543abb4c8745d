/* occam_symeig against matrices whose eigenvalues are known: Q Λ Qᵀ with Q a product of random
 * Householder reflections (repeated, zero and negative eigenvalues among them), the 1-D
 * Laplacian's closed form, diagonal and tiny cases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "occam/rng.h"
#include "occam/symeig.h"

static int ascending(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* eigenvalues of a (copied), against the sorted reference, within tol × max |λ| */
static void check(const double *a, int n, double *ref, double tol)
{
    double *m = malloc(sizeof(double) * (size_t)n * n), *w = malloc(sizeof(double) * n),
           *work = malloc(sizeof(double) * 3 * n);
    for (size_t i = 0; i < (size_t)n * n; i++) m[i] = a[i];
    occam_symeig(m, n, w, work);
    qsort(ref, (size_t)n, sizeof *ref, ascending);
    double big = 0.0;
    for (int i = 0; i < n; i++) big = fmax(big, fabs(ref[i]));
    for (int i = 0; i < n; i++)
        cr_assert(fabs(w[i] - ref[i]) <= tol * (big > 0 ? big : 1.0),
                  "n %d: λ_%d = %.17g, expected %.17g", n, i, w[i], ref[i]);
    for (int i = 1; i < n; i++) cr_assert(w[i] >= w[i - 1], "not ascending at %d", i);
    free(m), free(w), free(work);
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
        /* a ← (I − 2vvᵀ) a (I − 2vvᵀ) */
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < n; j++) {
                double t = 0.0; /* columns, then rows */
                for (int i = 0; i < n; i++) t += v[i] * a[pass ? (size_t)j * n + i : (size_t)i * n + j];
                for (int i = 0; i < n; i++)
                    a[pass ? (size_t)j * n + i : (size_t)i * n + j] -= 2.0 * v[i] * t;
            }
    }
    free(v);
    return a;
}

Test(symeig, rotated_diagonals_give_their_eigenvalues_back)
{
    occam_rng r = occam_rng_seed(7, 0);
    int sizes[] = {2, 3, 5, 17, 64, 150};
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        int n = sizes[z];
        double *lam = malloc(sizeof(double) * n);
        for (int i = 0; i < n; i++) /* spread over decades, some repeated, zero and negative */
            lam[i] = i % 7 == 0 ? 0.0 : i % 5 == 0 ? lam[i - 1]
                                  : (occam_rng_uniform(&r) - 0.2) * pow(10.0, i % 4);
        double *a = rotated(lam, n, &r);
        check(a, n, lam, 1e-12);
        free(a), free(lam);
    }
}

Test(symeig, laplacian_has_its_closed_form)
{
    int n = 40;
    double *a = calloc((size_t)n * n, sizeof *a), ref[40];
    for (int i = 0; i < n; i++) {
        a[(size_t)i * n + i] = 2.0;
        if (i + 1 < n) a[(size_t)i * n + i + 1] = a[(size_t)(i + 1) * n + i] = -1.0;
        ref[i] = 2.0 - 2.0 * cos((i + 1) * M_PI / (n + 1));
    }
    check(a, n, ref, 1e-13);
    free(a);
}

Test(symeig, small_and_degenerate_cases)
{
    double one[1] = {-3.5}, r1[1] = {-3.5};
    check(one, 1, r1, 0.0);
    double two[4] = {2.0, 1.0, 1.0, 2.0}, r2[2] = {1.0, 3.0};
    check(two, 2, r2, 1e-15);
    double zero[9] = {0}, r0[3] = {0};
    check(zero, 3, r0, 0.0);
    double diag[9] = {5, 0, 0, 0, -1, 0, 0, 0, 5}, rd[3] = {5, -1, 5};
    check(diag, 3, rd, 1e-15);
    double ones[16], r4[4] = {0, 0, 0, 4}; /* rank one: a column already tridiagonal-free */
    for (int i = 0; i < 16; i++) ones[i] = 1.0;
    check(ones, 4, r4, 1e-14);
}
