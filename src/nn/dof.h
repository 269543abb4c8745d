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
 * of the outputs and A_l the layer's inputs, and γ = Σ_j λ_j/(1 + λ_j) over its eigenvalues:
 * an n×n problem for n rows × outputs, whatever the width. Above NOISY_DOF_ROWS row-outputs a
 * fixed even spread of rows stands in, their Gram scaled by N over their count. */
#ifndef OCCAM_NN_DOF_H
#define OCCAM_NN_DOF_H

#include <stdbool.h>

#include "occam/data.h"
#include "occam/model.h"
#include "occam/prior.h"

#define NOISY_DOF_ROWS 256

typedef struct noisy_dof noisy_dof;

/* Scratch for m's shape; NULL when memory runs out. */
noisy_dof *noisy_dof_create(const occam_model *m);
void noisy_dof_free(noisy_dof *g);

/* table[k] = γ at the noise level σ_y·e^(step·(k − npts/2)), for the training rows ds, the
 * model's means, one Gaussian prior per layer (prior[l].sigma[0]) at weight β > 0, and the
 * current level sy2 = σ_y². Serial; depends on its inputs only. */
void noisy_dof_table(noisy_dof *g, const occam_model *m, const occam_prior *prior,
                     const occam_dataset *ds, double beta, double sy2, double *table, int npts,
                     double step);

#endif
