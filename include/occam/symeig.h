/* occam/symeig.h — eigenvalues of a small symmetric matrix.
 *
 * Used where a count of well-determined directions is needed (the Gauss–Newton effective
 * number of parameters of a noisy regression net, nn/noisy.c). The matrices are at most a few
 * hundred rows, once an epoch: Householder reduction to tridiagonal form (4n³/3 flops), then
 * each eigenvalue by bisection on the Sturm count of the tridiagonal matrix. Serial and
 * deterministic: the result depends on the input only. */
#ifndef OCCAM_SYMEIG_H
#define OCCAM_SYMEIG_H

/* The n eigenvalues of the symmetric n×n row-major matrix a, ascending, into w[n]. a is
 * overwritten. work: 3n doubles of scratch. Each eigenvalue is found to
 * within a few units of 1e-15 × the matrix's Gershgorin bound. n >= 1; a must be finite. */
void occam_symeig(double *a, int n, double *w, double *work);

#endif
