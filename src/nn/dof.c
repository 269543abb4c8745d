/* The Gauss–Newton effective number of parameters of a noisy regression net: see dof.h. */
#include "dof.h"

#include <math.h>
#include <stdlib.h>

#include "occam/symtri.h"

struct noisy_dof {
    int rows;                      /* row capacity: NOISY_DOF_ROWS / outputs, at least 1 */
    double *a[OCCAM_MAX_LAYERS];   /* rows × width[l]: layer l's inputs (a[0]: the features) */
    double *der[OCCAM_MAX_LAYERS]; /* rows × width[l], l ≥ 1: the activation's derivative */
    double *dl[OCCAM_MAX_LAYERS];  /* (rows·K) × width[l+1]: ∂(output k of row i)/∂z_l */
    double *g, *aa, *d, *e, *work; /* M×M Gram (M = rows·K), rows×rows input Gram, the
                                      Gram's tridiagonal form (d, e), M scratch */
};

void noisy_dof_free(noisy_dof *g)
{
    if (!g) return;
    for (int l = 0; l < OCCAM_MAX_LAYERS; l++) {
        free(g->a[l]);
        free(g->der[l]);
        free(g->dl[l]);
    }
    free(g->g), free(g->aa), free(g->d), free(g->e), free(g->work);
    free(g);
}

noisy_dof *noisy_dof_create(const occam_model *m)
{
    const occam_layout *lay = &m->lay;
    int L = lay->nlayers, K = lay->width[L];
    noisy_dof *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->rows = NOISY_DOF_ROWS / K > 0 ? NOISY_DOF_ROWS / K : 1;
    size_t r = (size_t)g->rows, M = r * (size_t)K;
    bool ok = true;
    for (int l = 0; l < L; l++) {
        ok &= (g->a[l] = malloc(sizeof(double) * r * (size_t)lay->width[l])) != NULL;
        if (l > 0) ok &= (g->der[l] = malloc(sizeof(double) * r * (size_t)lay->width[l])) != NULL;
        ok &= (g->dl[l] = malloc(sizeof(double) * M * (size_t)lay->width[l + 1])) != NULL;
    }
    ok &= (g->g = malloc(sizeof(double) * M * M)) != NULL;
    ok &= (g->aa = malloc(sizeof(double) * r * r)) != NULL;
    ok &= (g->d = malloc(sizeof(double) * M)) != NULL;
    ok &= (g->e = malloc(sizeof(double) * M)) != NULL;
    ok &= (g->work = malloc(sizeof(double) * M)) != NULL;
    if (!ok) {
        noisy_dof_free(g);
        return NULL;
    }
    return g;
}

/* the rows the table is made from: all up to the capacity, else a spread of half of it */
static int dof_rows(const noisy_dof *g, size_t rows)
{
    return rows <= (size_t)g->rows ? (int)rows : (g->rows + 1) / 2;
}

bool noisy_dof_due(const noisy_dof *g, const occam_model *m, size_t rows, int epoch,
                   int warmup_epochs)
{
    if (epoch <= warmup_epochs) return true; /* β, which the table holds, still moves */
    const occam_layout *lay = &m->lay;
    int K = lay->width[lay->nlayers];
    double n = dof_rows(g, rows), M = n * K, widths = 0.0;
    for (int l = 0; l <= lay->nlayers; l++) widths += lay->width[l];
    double cost = M * M * M + M * M * widths + n * (double)lay->nweights;
    double epoch_cost = 12.0 * (double)rows * (double)lay->nweights;
    double most = ceil(8.0 * cost / (0.1 * epoch_cost)); /* apart at a tenth of their cost */
    /* the epochs it is made at after the warm-up: e → e + max(1, ⌊e/8⌋, min(most, ⌊e/2⌋)) */
    for (int e = warmup_epochs + 1; e <= epoch;) {
        if (e == epoch) return true;
        double gap = fmax(fmax(1.0, floor(e / 8.0)), fmin(most, floor(e / 2.0)));
        e += (int)fmin(gap, (double)(epoch - e) + 1.0);
    }
    return false;
}

/* a = f(z) and f'(z) of the hidden activation, as src/nn/kernels.c computes them */
static void activate(double z, occam_act act, double *a, double *da)
{
    switch (act) {
    case OCCAM_ACT_RELU: *a = z > 0.0 ? z : 0.0, *da = z > 0.0; return;
    case OCCAM_ACT_TANH: *a = tanh(z), *da = 1.0 - *a * *a; return;
    case OCCAM_ACT_SIGMOID: *a = 1.0 / (1.0 + exp(-z)), *da = *a * (1.0 - *a); return;
    }
}

/* Each layer's inputs and activation derivatives at the means, for n rows: row i is training
 * row ⌊i·N/n⌋. */
static void forward(noisy_dof *g, const occam_model *m, const occam_dataset *ds, int n)
{
    const occam_layout *lay = &m->lay;
    int d = lay->width[0];
    for (int i = 0; i < n; i++) {
        const float *x = ds->x + (size_t)((double)i * (double)ds->n / n) * ds->d;
        for (int u = 0; u < d; u++) g->a[0][(size_t)i * d + u] = x[u];
    }
    for (int l = 0; l + 1 < lay->nlayers; l++) {
        int in = lay->width[l], out = lay->width[l + 1];
        const float *w = m->params + lay->w_off[l], *b = m->params + lay->b_off[l];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < out; j++) {
                double z = b[j];
                const double *a = g->a[l] + (size_t)i * in;
                for (int u = 0; u < in; u++) z += (double)w[(size_t)j * in + u] * a[u];
                activate(z, m->act, &g->a[l + 1][(size_t)i * out + j],
                         &g->der[l + 1][(size_t)i * out + j]);
            }
    }
}

/* dl[l] row (i, k): ∂(output k of row i)/∂z_l, back from the output's unit vectors */
static void backward(noisy_dof *g, const occam_model *m, int n)
{
    const occam_layout *lay = &m->lay;
    int L = lay->nlayers, K = lay->width[L];
    size_t M = (size_t)n * K;
    for (size_t r = 0; r < M; r++)
        for (int j = 0; j < K; j++) g->dl[L - 1][r * K + j] = (int)(r % K) == j;
    for (int l = L - 1; l >= 1; l--) {
        int in = lay->width[l], out = lay->width[l + 1];
        const float *w = m->params + lay->w_off[l];
        for (size_t r = 0; r < M; r++) {
            const double *up = g->dl[l] + r * out, *der = g->der[l] + (r / K) * in;
            double *dn = g->dl[l - 1] + r * in;
            for (int u = 0; u < in; u++) {
                double s = 0.0;
                for (int j = 0; j < out; j++) s += up[j] * w[(size_t)j * in + u];
                dn[u] = s * der[u];
            }
        }
    }
}

void noisy_dof_table(double *table, noisy_dof *g, const occam_model *m, const occam_prior *prior,
                     const occam_dataset *ds, double beta, double sy2, int npts, double step)
{
    const occam_layout *lay = &m->lay;
    int L = lay->nlayers, K = lay->width[L];
    int n = dof_rows(g, ds->n);
    size_t M = (size_t)n * K;
    forward(g, m, ds, n);
    backward(g, m, n);
    for (size_t i = 0; i < M * M; i++) g->g[i] = 0.0;
    for (int l = 0; l < L; l++) {
        int in = lay->width[l], out = lay->width[l + 1];
        /* J's block of W_l for row-output r is dl[l][r] ⊗ a[l][i(r)]: the Gram factors */
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++) {
                double s = 0.0;
                const double *ai = g->a[l] + (size_t)i * in, *aj = g->a[l] + (size_t)j * in;
                for (int u = 0; u < in; u++) s += ai[u] * aj[u];
                g->aa[(size_t)i * n + j] = g->aa[(size_t)j * n + i] = s;
            }
        double c = prior[l].sigma[0] * prior[l].sigma[0] / beta; /* (β p_l)⁻¹ */
        for (size_t r = 0; r < M; r++)
            for (size_t q = r; q < M; q++) {
                double s = 0.0;
                for (int j = 0; j < out; j++) s += g->dl[l][r * out + j] * g->dl[l][q * out + j];
                g->g[r * M + q] += c * s * g->aa[(r / K) * n + q / K];
            }
    }
    double scale = (double)ds->n / (double)n / sy2;
    for (size_t r = 0; r < M; r++)
        for (size_t q = r; q < M; q++) g->g[q * M + r] = g->g[r * M + q] *= scale;
    occam_symtri(g->d, g->e, g->g, (int)M, g->work);
    /* at σ_y·e^δ the Gram scales by e^(−2δ): γ = M − tr((I + e^(−2δ)G)⁻¹), at most the rank
     * min(M, weights); the clamp also holds it where the trace's cancellation loses its
     * digits (a Gram of norm ~1e12 and more: a near-exact fit) */
    double top = fmin((double)M, (double)lay->nweights);
    for (int k = 0; k < npts; k++) {
        double t = exp(-2.0 * step * (k - npts / 2));
        double gam = (double)M - occam_symtri_inv_trace(g->d, g->e, (int)M, t, g->work);
        table[k] = isfinite(gam) ? fmin(fmax(gam, 0.0), top) : top;
    }
}
