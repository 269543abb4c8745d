/* Eigenvalues of a small symmetric matrix: Householder tridiagonalisation, then bisection on
 * the Sturm count. See occam/symeig.h. */
#include "occam/symeig.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

/* a ← H a H, H = I − 2vvᵀ/vᵀv chosen to zero column k below the subdiagonal, for k = 0..n−3;
 * the tridiagonal's diagonal goes to d, its subdiagonal (e[i] joins i and i+1) to e. v lives in
 * the zeroed column; p is scratch. */
static void tridiagonalize(double *a, int n, double *d, double *e, double *p)
{
    for (int k = 0; k + 2 < n; k++) {
        double *col = p; /* x = a[k+1.., k], kept apart from the rows the update rewrites */
        double norm = 0.0;
        for (int i = k + 1; i < n; i++) norm += a[(size_t)i * n + k] * a[(size_t)i * n + k];
        norm = sqrt(norm);
        d[k] = a[(size_t)k * n + k];
        if (norm == 0.0) {
            e[k] = 0.0;
            continue;
        }
        double x0 = a[(size_t)(k + 1) * n + k], alpha = x0 >= 0.0 ? -norm : norm;
        double *v = e + k + 1; /* v over rows k+1..n−1 (e's tail is free until then) */
        for (int i = k + 1; i < n; i++) v[i - k - 1] = a[(size_t)i * n + k];
        v[0] -= alpha;
        double vtv = 0.0;
        for (int i = 0; i < n - k - 1; i++) vtv += v[i] * v[i];
        e[k] = alpha;
        double vp = 0.0;
        for (int i = k + 1; i < n; i++) { /* p = (2/vᵀv) A22 v */
            double s = 0.0;
            for (int j = k + 1; j < n; j++) s += a[(size_t)i * n + j] * v[j - k - 1];
            col[i - k - 1] = 2.0 * s / vtv;
            vp += v[i - k - 1] * col[i - k - 1];
        }
        double kk = vp / vtv; /* q = p − K v; A22 −= v qᵀ + q vᵀ */
        for (int i = 0; i < n - k - 1; i++) col[i] -= kk * v[i];
        for (int i = k + 1; i < n; i++)
            for (int j = k + 1; j < n; j++)
                a[(size_t)i * n + j] -= v[i - k - 1] * col[j - k - 1] +
                                        col[i - k - 1] * v[j - k - 1];
    }
    if (n >= 2) {
        d[n - 2] = a[(size_t)(n - 2) * n + n - 2];
        e[n - 2] = a[(size_t)(n - 1) * n + n - 2];
    }
    d[n - 1] = a[(size_t)(n - 1) * n + n - 1];
}

/* How many eigenvalues of the tridiagonal (d, e) lie below x: the negative pivots of the LDLᵀ
 * factorisation of T − xI (Sylvester's law of inertia). A zero pivot is nudged off zero. */
static int sturm_count(const double *d, const double *e, int n, double x, double tiny)
{
    int c = 0;
    double q = d[0] - x;
    for (int i = 0;;) {
        if (fabs(q) < tiny) q = -tiny;
        c += q < 0.0;
        if (++i == n) return c;
        q = d[i] - x - e[i - 1] * e[i - 1] / q;
    }
}

void occam_symeig(double *a, int n, double *w, double *work)
{
    double *d = work, *e = work + n, *p = work + 2 * n;
    tridiagonalize(a, n, d, e, p);
    double lo = d[0], hi = d[0]; /* Gershgorin: every eigenvalue lies in [lo, hi] */
    for (int i = 0; i < n; i++) {
        double r = (i > 0 ? fabs(e[i - 1]) : 0.0) + (i + 1 < n ? fabs(e[i]) : 0.0);
        lo = fmin(lo, d[i] - r);
        hi = fmax(hi, d[i] + r);
    }
    double scale = fmax(fabs(lo), fabs(hi)), tiny = DBL_MIN / DBL_EPSILON + DBL_EPSILON * scale * 1e-3;
    double tol = 4.0 * DBL_EPSILON * scale;
    double floor_k = lo;
    for (int k = 0; k < n; k++) { /* λ_k: the least x with more than k eigenvalues below it */
        double l = floor_k, h = hi;
        for (int it = 0; it < 200 && h - l > tol; it++) {
            double mid = 0.5 * (l + h);
            if (mid <= l || mid >= h) break;
            if (sturm_count(d, e, n, mid, tiny) > k) h = mid;
            else l = mid;
        }
        w[k] = 0.5 * (l + h);
        if (k > 0 && w[k] < w[k - 1]) w[k] = w[k - 1]; /* a repeated one: brackets overlap */
        floor_k = l; /* λ_{k+1} ≥ λ_k */
    }
}
