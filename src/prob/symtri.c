/* Householder tridiagonalisation and traces of shifted tridiagonal inverses: see
 * occam/symtri.h. */
#include "occam/symtri.h"

#include <math.h>
#include <stddef.h>

/* a ← H a H, H = I − 2vvᵀ/vᵀv chosen to zero column k below the sub-diagonal, for
 * k = 0..n−3. v lives in e's tail (free until then), p in work. */
void occam_symtri(double *d, double *e, double *a, int n, double *work)
{
    double *p = work;
    for (int k = 0; k + 2 < n; k++) {
        int m = n - k - 1; /* the trailing block's size */
        double *v = e + k + 1, *blk = a + (size_t)(k + 1) * n + (k + 1);
        double norm = 0.0;
        for (int i = 0; i < m; i++) {
            v[i] = a[(size_t)(k + 1 + i) * n + k];
            norm += v[i] * v[i];
        }
        norm = sqrt(norm);
        d[k] = a[(size_t)k * n + k];
        if (norm == 0.0) {
            e[k] = 0.0;
            continue;
        }
        double alpha = v[0] >= 0.0 ? -norm : norm;
        v[0] -= alpha;
        double vtv = 0.0, vp = 0.0;
        for (int i = 0; i < m; i++) vtv += v[i] * v[i];
        e[k] = alpha;
        for (int i = 0; i < m; i++) { /* p = (2/vᵀv) A22 v */
            double s = 0.0;
            for (int j = 0; j < m; j++) s += blk[(size_t)i * n + j] * v[j];
            p[i] = 2.0 * s / vtv;
            vp += v[i] * p[i];
        }
        double kk = vp / vtv; /* q = p − K v; A22 −= v qᵀ + q vᵀ */
        for (int i = 0; i < m; i++) p[i] -= kk * v[i];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) blk[(size_t)i * n + j] -= v[i] * p[j] + p[i] * v[j];
    }
    if (n >= 2) {
        d[n - 2] = a[(size_t)(n - 2) * n + n - 2];
        e[n - 2] = a[(size_t)(n - 1) * n + n - 2];
    }
    d[n - 1] = a[(size_t)(n - 1) * n + n - 1];
}

double occam_symtri_inv_trace(const double *d, const double *e, int n, double t, double *work)
{
    /* A = I + tT. Pivots from the top, f_i = a_i − c_{i−1}²/f_{i−1}, and from the bottom,
     * b_i = a_i − c_i²/b_{i+1} (c = t·e); then (A⁻¹)_ii = 1/(f_i + b_i − a_i). Two passes over
     * the same n doubles: f is kept in work, b runs. */
    double *f = work;
    f[0] = 1.0 + t * d[0];
    for (int i = 1; i < n; i++) {
        double c = t * e[i - 1];
        f[i] = 1.0 + t * d[i] - c * c / f[i - 1];
    }
    double tr = 0.0, b = 0.0;
    for (int i = n - 1; i >= 0; i--) {
        double a = 1.0 + t * d[i];
        if (i == n - 1) {
            b = a;
        } else {
            double c = t * e[i];
            b = a - c * c / b;
        }
        tr += 1.0 / (f[i] + b - a);
    }
    return tr;
}
