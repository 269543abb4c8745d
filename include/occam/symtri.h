/* occam/symtri.h — a small symmetric matrix reduced to tridiagonal form, and traces of the
 * inverses of its shifts.
 *
 * Used where a count of well-determined directions is needed: the Gauss–Newton effective
 * number of parameters of a noisy regression net, γ(t) = Σ_j tλ_j/(1 + tλ_j) = n −
 * tr((I + tG)⁻¹), for many t (src/nn/dof.c). Householder reduction (4n³/3 flops) once; then
 * each trace in O(n) from the tridiagonal's two-sided pivots, with no eigenvalues. Serial and
 * deterministic: the results depend on the inputs only. */
#ifndef OCCAM_SYMTRI_H
#define OCCAM_SYMTRI_H

/* Reduces the symmetric n×n row-major matrix a (overwritten) to the tridiagonal T = QᵀaQ:
 * diagonal d[n], sub-diagonal e[n−1] (e[i] joins i and i+1). work: n doubles. n >= 1. */
void occam_symtri(double *d, double *e, double *a, int n, double *work);

/* tr((I + tT)⁻¹) for the tridiagonal T of (d, e) and t >= 0, where I + tT is positive
 * definite (T positive semi-definite): 1/(f_i + b_i − a_i) summed, f and b the pivots of
 * eliminating I + tT from the top and from the bottom, a its diagonal. work: n doubles.
 * f_i + b_i − a_i cancels terms of size t·‖T‖ to a result of order 1: when t·‖T‖ passes
 * ~1e12 on a rank-deficient T the trace loses its digits (a caller clamps it; dof.c does). */
double occam_symtri_inv_trace(const double *d, const double *e, int n, double t, double *work);

#endif
