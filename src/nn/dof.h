/* The effective number of parameters γ of a noisy regression net, from its Gauss–Newton
 * matrix (private to src/nn).
 *
 * The learned noise level (noisy_level_step) is MacKay's σ_y² = Σr²/(N − γ): the residuals
 * leave N − γ degrees of freedom, γ = tr(H (H + βP)⁻¹) the directions the data determine, H
 * = JᵀJ/σ_y² the Gauss–Newton matrix (J: the outputs' Jacobian over the training rows), P the
 * prior's precision. The mean-field σ fixed point sees only H's diagonal, and Σ_i H_ii/(H_ii +
 * βP_ii) counts every one of a set of correlated weights as determined: on collinear inputs it
 * came to 88 of 100 rows where the data fixes a few directions, and σ_y grew eightfold.
 *
 * With a Gaussian prior of one precision per layer, the rows' Gram matrix G = J(βP)⁻¹Jᵀ/σ_y²
 * splits by layer into (Δ_l Δ_lᵀ) ∘ (A_l A_lᵀ) / (β p_l), Δ_l the back-propagated unit vectors
 * of the outputs and A_l the layer's inputs, and γ = Σ_j λ_j/(1 + λ_j) over its eigenvalues
 * = n − tr((I + G)⁻¹): an n×n problem for n rows × outputs, whatever the width, reduced to
 * tridiagonal form once (occam_symtri) and then traced in O(n) for every noise level of the
 * table (G scales as 1/σ_y²).
 *
 * Up to NOISY_DOF_ROWS row-outputs the trace is exact, and past them too where the net has at
 * most NOISY_DOF_WEIGHTS weights (in weight space: J̃ᵀJ̃ has G's nonzero eigenvalues). Else it
 * is estimated over every row up to NOISY_DOF_CAP row-outputs (and NOISY_DOF_BYTES of
 * scratch): the Gram by BLIS, then stochastic Lanczos quadrature (dof.c). Past the cap a fixed
 * even spread of that many rows stands in, their Gram scaled by N over their count; its rank
 * is at most their count, so where more weights than that are determined γ is counted short.
 *
 * Counted short, γ let a net that can interpolate its rows drive σ_y down with its training
 * error: the estimate from 128 rows held γ ≤ 128 on 1,000 rows × 300 inputs (15,000 weights),
 * σ_y fell to 1e-7, the KL's pull (which scales with σ_y²) vanished, and the means
 * interpolated (test relative error 0.258, bits-back length 227,037 bits). Counted over every
 * row, γ nears N as the fit does, σ_y holds near the noise, and the same run tests at 0.077
 * with a length of 12,282 bits. */
#ifndef OCCAM_NN_DOF_H
#define OCCAM_NN_DOF_H

#include <stdbool.h>

#include "occam/data.h"
#include "occam/model.h"
#include "occam/prior.h"

#define NOISY_DOF_ROWS 256         /* row-outputs up to which the trace is exact */
#define NOISY_DOF_WEIGHTS 512      /* weights up to which it is exact in weight space */
#define NOISY_DOF_CAP 2048         /* row-outputs the estimate counts at most */
#define NOISY_DOF_BYTES 268435456.0 /* the scratch's bound (rows give way first) */
#define NOISY_DOF_PROBES 4         /* the estimate's Rademacher probes */
#define NOISY_DOF_STEPS 64         /* its Lanczos steps per probe, at most */
#define NOISY_DOF_TOL 1e-3         /* ... fewer where Gauss and Gauss–Radau agree to this */
#define NOISY_DOF_SEED 0x646f66u   /* its probes' generator ("dof") */

typedef struct noisy_dof noisy_dof;

/* The rows of capacity for `rows` training rows (0: unknown, NOISY_DOF_ROWS / outputs), and
 * the bytes noisy_dof_create allocates for them. */
int noisy_dof_rows(const occam_layout *lay, size_t rows);
double noisy_dof_bytes(const occam_layout *lay, size_t rows);

/* Scratch for m's shape and `rows` training rows (0: unknown); NULL when memory runs out. */
noisy_dof *noisy_dof_create(const occam_model *m, size_t rows);
void noisy_dof_free(noisy_dof *g);

/* Whether epoch `epoch` remakes the table. The exact reduction costs about M³ + M²·Σwidths
 * flops for n rows and M = n·outputs, the estimate about 2·probes·steps·dim² in its products
 * (dim = min(M, weights)), in loops at roughly an eighth of the rate of the trainer's GEMMs,
 * against ~12·N·(weights) for an epoch of N rows; made every epoch it tripled a run on 100
 * rows of a 10-50-1 net. So it is made at every epoch of the warm-up (β, which it holds,
 * moves), then at epochs spaced by max(1, ⌊e/8⌋, min(c, ⌊e/2⌋)), c the gap at which it costs
 * a tenth of the epochs between (on one thread: the team's size changes no epoch it is made
 * at): a function of the epoch alone, so a resumed run remakes it where the straight run did. */
bool noisy_dof_due(const noisy_dof *g, const occam_model *m, size_t rows, int epoch,
                   int warmup_epochs);

/* table[k] = γ at the noise level σ_y·e^(step·(k − npts/2)), for the training rows ds, the
 * model's means, one Gaussian prior per layer (prior[l].sigma[0]) at weight β > 0, and the
 * current level sy2 = σ_y². The estimate runs on a team of `threads` (serial where it is
 * called inside a team); the table depends on its inputs only, in every bit, whatever the
 * team's size. */
void noisy_dof_table(double *table, noisy_dof *g, const occam_model *m, const occam_prior *prior,
                     const occam_dataset *ds, double beta, double sy2, int npts, double step,
                     int threads);

#endif
