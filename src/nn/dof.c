/* The Gauss–Newton effective number of parameters of a noisy regression net: see dof.h. */
#include "dof.h"

#include <math.h>
#include <stdlib.h>

#include "occam/gemm.h"
#include "occam/rng.h"
#include "occam/symtri.h"
#include "occam/team.h"

struct noisy_dof {
    int rows;                      /* row capacity (see noisy_dof_rows) */
    double *a[OCCAM_MAX_LAYERS];   /* rows × width[l]: layer l's inputs (a[0]: the features) */
    double *der[OCCAM_MAX_LAYERS]; /* rows × width[l], l ≥ 1: the activation's derivative */
    double *dl[OCCAM_MAX_LAYERS];  /* (rows·K) × width[l+1]: ∂(output k of row i)/∂z_l */
    double *g;                     /* M×M Gram (M = rows·K; with the weight-space trace, the
                                      exact trace's: for a table from fewer rows) */
    double *aa, *d, *e, *work;     /* the exact trace's: rows×rows input Gram, the Gram's
                                      tridiagonal form (d, e), M scratch (M ≤ NOISY_DOF_ROWS) */
    double *jac, *h;               /* the weight-space trace's: the scaled Jacobian (M ×
                                      weights) and its Gram (weights²), weights ≤ NOISY_DOF_WEIGHTS */
    double *ta, *td, *q, *w;       /* the estimate's: a block of the input and of the output
                                      Grams, the Lanczos bases ((steps+1) × dim × probes, dim
                                      = min(M, weights)) and their product (dim × probes) */
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
    free(g->jac), free(g->h), free(g->ta), free(g->td), free(g->q), free(g->w);
    free(g);
}

/* rows of the set in a block of the rows' Gram as gram_blas builds it (dl's rows: GRAM_BLOCK·K),
 * and row-outputs in a tile of its mirror */
#define GRAM_BLOCK 64
/* columns (rows of the set) of a chunk of the Gram's block: one thread's dgemm pair */
#define GRAM_CHUNK 256
/* the buffers dof_sizes counts: a, der and dl per layer, then g … w */
#define DOF_BUFFERS (3 * OCCAM_MAX_LAYERS + 11)

/* t at point k of a table of npts: at σ_y·e^δ the Gram scales by t = e^(−2δ) */
static double level_t(int k, int npts, double step)
{
    return exp(-2.0 * step * (k - npts / 2));
}

/* doubles per row of capacity: a, der and dl */
static double per_row(const occam_layout *lay)
{
    int L = lay->nlayers, K = lay->width[L];
    double f = 0.0;
    for (int l = 0; l < L; l++) f += lay->width[l] + (l > 0 ? lay->width[l] : 0) +
                                     (double)K * lay->width[l + 1];
    return f;
}

int noisy_dof_rows(const occam_layout *lay, size_t rows)
{
    int K = lay->width[lay->nlayers];
    double r = rows > 0 ? (double)rows : (double)(NOISY_DOF_ROWS / K);
    r = fmin(r, (double)(NOISY_DOF_CAP / K));
    r = fmin(r, floor(NOISY_DOF_BYTES / (sizeof(double) * per_row(lay))));
    return r >= 1.0 ? (int)r : 1;
}

/* every buffer's doubles for `r` rows of capacity, into n[] in create's order; their sum */
static double dof_sizes(const occam_layout *lay, int r, size_t *n)
{
    int L = lay->nlayers, K = lay->width[L], k = 0;
    size_t M = (size_t)r * K, ex = M <= NOISY_DOF_ROWS ? M : NOISY_DOF_ROWS / K * (size_t)K;
    size_t W = lay->nweights, big = M > NOISY_DOF_ROWS, exr = ex / K;
    /* A table may be made from fewer rows than the capacity (the rows are a hint), so each
     * buffer is sized for every path some n ≤ r takes: the exact row-space trace (≤
     * NOISY_DOF_ROWS row-outputs), the exact weight-space one (≤ NOISY_DOF_WEIGHTS weights),
     * or the estimate, over the weights where they are fewer than the row-outputs (J̃ and
     * J̃ᵀJ̃), else over the rows (the Gram, at most min(M, W) square). */
    bool wsp = big && W <= NOISY_DOF_WEIGHTS, est = big && !wsp, west = est && W < M;
    size_t dim = est ? (M < W ? M : W) : 0, steps = dim < NOISY_DOF_STEPS ? dim : NOISY_DOF_STEPS;
    size_t blk = (size_t)r < GRAM_BLOCK ? (size_t)r : GRAM_BLOCK;
    for (int l = 0; l < L; l++) {
        n[k++] = (size_t)r * lay->width[l];
        n[k++] = l > 0 ? (size_t)r * lay->width[l] : 0;
        n[k++] = M * lay->width[l + 1];
    }
    n[k++] = est ? (dim * dim > ex * ex ? dim * dim : ex * ex) : big ? ex * ex : M * M;
    size_t tri = wsp && W > ex ? W : ex; /* the tridiagonal form's: rows' or weights' */
    n[k++] = exr * exr, n[k++] = tri, n[k++] = tri, n[k++] = tri;
    n[k++] = wsp || west ? M * W : 0, n[k++] = wsp || west ? W * W : 0;
    n[k++] = est ? blk * (size_t)r : 0;
    n[k++] = est ? blk * K * dim : 0;
    n[k++] = est ? (steps + 1) * dim * NOISY_DOF_PROBES : 0;
    n[k++] = est ? dim * NOISY_DOF_PROBES : 0;
    double sum = 0.0;
    for (int i = 0; i < k; i++) sum += (double)n[i];
    return sum;
}

double noisy_dof_bytes(const occam_layout *lay, size_t rows)
{
    size_t n[DOF_BUFFERS];
    return sizeof(double) * dof_sizes(lay, noisy_dof_rows(lay, rows), n);
}

noisy_dof *noisy_dof_create(const occam_model *m, size_t rows)
{
    const occam_layout *lay = &m->lay;
    int L = lay->nlayers;
    noisy_dof *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->rows = noisy_dof_rows(lay, rows);
    size_t n[DOF_BUFFERS];
    dof_sizes(lay, g->rows, n);
    double **to[DOF_BUFFERS];
    int k = 0;
    for (int l = 0; l < L; l++) to[k++] = &g->a[l], to[k++] = &g->der[l], to[k++] = &g->dl[l];
    to[k++] = &g->g, to[k++] = &g->aa, to[k++] = &g->d, to[k++] = &g->e, to[k++] = &g->work;
    to[k++] = &g->jac, to[k++] = &g->h;
    to[k++] = &g->ta, to[k++] = &g->td, to[k++] = &g->q, to[k++] = &g->w;
    bool ok = true;
    for (int i = 0; i < k; i++)
        if (n[i] > 0) ok &= (*to[i] = malloc(sizeof(double) * n[i])) != NULL;
    if (!ok) {
        noisy_dof_free(g);
        return NULL;
    }
    return g;
}

/* the rows the table is made from: all up to the capacity, else an even spread of it */
static int dof_rows(const noisy_dof *g, size_t rows)
{
    return rows <= (size_t)g->rows ? (int)rows : g->rows;
}

bool noisy_dof_due(const noisy_dof *g, const occam_model *m, size_t rows, int epoch,
                   int warmup_epochs)
{
    if (epoch <= warmup_epochs) return true; /* β, which the table holds, still moves */
    const occam_layout *lay = &m->lay;
    int K = lay->width[lay->nlayers];
    double n = dof_rows(g, rows), M = n * K, widths = 0.0;
    for (int l = 0; l <= lay->nlayers; l++) widths += lay->width[l];
    /* in serial-loop flops (the exact trace: M³ for the tridiagonal form; BLIS's flops count
     * an eighth), on one thread: the estimate's Gram (2 dgemm a layer over the rows, or J̃ᵀJ̃),
     * its products (dim² per probe and step, memory-bound loops: counted at BLIS's rate they
     * made it look 4× cheaper than it ran) and reorthogonalisation, the forward and backward
     * passes */
    double W = (double)lay->nweights, dim = fmin(M, W);
    double cost = M <= NOISY_DOF_ROWS ? M * M * M + M * M * widths + n * W
                  : W <= NOISY_DOF_WEIGHTS
                      ? W * W * W + M * W * W / 4.0 + n * W * (1.0 + K)
                      : (W < M ? M * W * W / 4.0 : M * M * widths / 2.0) +
                            2.0 * NOISY_DOF_PROBES * NOISY_DOF_STEPS * dim * dim +
                            2.0 * NOISY_DOF_PROBES * NOISY_DOF_STEPS * NOISY_DOF_STEPS * dim +
                            n * W * (1.0 + K);
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
    case OCCAM_ACT_RELU: *a = !(z <= 0.0) ? z : 0.0, *da = z > 0.0; return; /* NaN stays */
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
            /* Wᵀ·up a row of W at a time: each dn[u] still sums over j in order, so the bits
             * are those of the dot product per u, which walked W's columns with a stride of
             * `in` floats (4.8× slower at in = 1024 than at 1000, every access a cache miss) */
            for (int u = 0; u < in; u++) dn[u] = 0.0;
            for (int j = 0; j < out; j++) {
                const double uj = up[j];
                const float *wj = w + (size_t)j * in;
                for (int u = 0; u < in; u++) dn[u] += uj * wj[u];
            }
            for (int u = 0; u < in; u++) dn[u] *= der[u];
        }
    }
}

/* The rows' Gram for the exact trace (M ≤ NOISY_DOF_ROWS), in serial loops. */
static void gram_loops(noisy_dof *g, const occam_model *m, const occam_prior *prior,
                       double beta, int n, double scale)
{
    const occam_layout *lay = &m->lay;
    int L = lay->nlayers, K = lay->width[L];
    size_t M = (size_t)n * K; /* G is zero on entry */
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
    for (size_t r = 0; r < M; r++)
        for (size_t q = r; q < M; q++) g->g[q * M + r] = g->g[r * M + q] *= scale;
}

/* The exact table from the dim×dim matrix A (the rows' Gram, or J̃ᵀJ̃: the same nonzero
 * eigenvalues): its tridiagonal form once, then γ = dim − tr((I + tA)⁻¹) at every point, at
 * most top = min(M, weights), the rank; the clamp also holds it where the trace's cancellation
 * loses its digits (a Gram of norm ~1e12 and more: a near-exact fit). */
static void table_exact(double *table, noisy_dof *g, double *A, int dim, double top, int npts,
                        double step)
{
    occam_symtri(g->d, g->e, A, dim, g->work);
    for (int k = 0; k < npts; k++) {
        double t = level_t(k, npts, step);
        double gam = (double)dim - occam_symtri_inv_trace(g->d, g->e, dim, t, g->work);
        table[k] = isfinite(gam) ? fmin(fmax(gam, 0.0), top) : top;
    }
}

/* g->h = J̃ᵀJ̃·scale (weights × weights, M > NOISY_DOF_ROWS row-outputs): G's nonzero
 * eigenvalues are its, J̃ the Jacobian with each layer's columns scaled by (β p_l)^(−1/2), so
 * γ = W − tr((I + tJ̃ᵀJ̃)⁻¹), the rows' count out of the trace. (Few weights over many rows:
 * the rows' Gram has a null space of M − W dimensions, which the estimate's quadrature
 * resolved badly, counting γ 20–70% high over the rows against 10–13% over the weights.) */
static void weight_gram(noisy_dof *g, const occam_model *m, const occam_prior *prior,
                        double beta, int n, double scale)
{
    const occam_layout *lay = &m->lay;
    int L = lay->nlayers, K = lay->width[L], W = (int)lay->nweights;
    size_t M = (size_t)n * K;
    for (size_t r = 0; r < M; r++) {
        double *jl = g->jac + r * W; /* the layers' weights, one after another */
        for (int l = 0; l < L; l++) {
            int in = lay->width[l], out = lay->width[l + 1];
            double c = prior[l].sigma[0] / sqrt(beta);
            const double *dl = g->dl[l] + r * out, *a = g->a[l] + (r / K) * in;
            for (int j = 0; j < out; j++, jl += in)
                for (int u = 0; u < in; u++) jl[u] = c * dl[j] * a[u];
        }
    }
    occam_dgemm(true, false, W, W, (int)M, scale, g->jac, W, g->jac, W, 0.0, g->h, W);
}

/* What the estimate's team shares: the matrix (built first where it is the rows' Gram), then
 * the Lanczos recurrences of the probes (est_worker). */
typedef struct est_job {
    noisy_dof *g;
    const occam_model *m;
    const occam_prior *prior;
    double beta, scale;
    int n;            /* rows (the rows' Gram) */
    bool build;       /* build the rows' Gram into A first */
    double *A;        /* dim × dim, full */
    int dim, steps, npts;
    double step;
    int len[NOISY_DOF_PROBES];
    double al[NOISY_DOF_PROBES][NOISY_DOF_STEPS + 1], be[NOISY_DOF_PROBES][NOISY_DOF_STEPS];
    double norm[NOISY_DOF_PROBES];
    bool live[NOISY_DOF_PROBES], closed[NOISY_DOF_PROBES];
} est_job;

/* The estimate's team waits for all its threads. A team of one has none to wait for, and
 * passes no barrier: est_worker(e, 0, 1) also runs on the caller's thread alone, where that
 * thread is a worker of another team (occam_team_in_parallel), and an orphaned barrier there
 * binds to that team and waited for threads that never came. */
static void team_wait(int nt)
{
    if (nt > 1) {
#pragma omp barrier
    }
}

/* The rows' Gram (M > NOISY_DOF_ROWS) by BLIS, a block of GRAM_BLOCK rows at a time from its
 * diagonal on, its columns in chunks of GRAM_CHUNK rows dealt to the team's threads in turn:
 * the layer's input Gram A_b·Aᵀ and output Gram D_b·Dᵀ of the chunk, multiplied entrywise into
 * G's rows. Then the lower triangle from the upper (entries left of the diagonal within a
 * block are filled too, and overwritten). Every entry is one chunk's work, its sum over the
 * layers in their order: the same bits for every team size. */
static void gram_blas(est_job *e, int t, int nt)
{
    noisy_dof *g = e->g;
    const occam_layout *lay = &e->m->lay;
    int L = lay->nlayers, K = lay->width[L], n = e->n;
    size_t M = (size_t)n * K; /* G is zero on entry */
    double *G = e->A;
    for (int l = 0; l < L; l++) {
        int in = lay->width[l], out = lay->width[l + 1];
        double c = e->prior[l].sigma[0] * e->prior[l].sigma[0] / e->beta * e->scale;
        for (int i0 = 0; i0 < n; i0 += GRAM_BLOCK) {
            int nb = n - i0 < GRAM_BLOCK ? n - i0 : GRAM_BLOCK, cols = n - i0;
            size_t r0 = (size_t)i0 * K, mc = M - r0;
            for (int c0 = t * GRAM_CHUNK; c0 < cols; c0 += nt * GRAM_CHUNK) {
                int ch = cols - c0 < GRAM_CHUNK ? cols - c0 : GRAM_CHUNK;
                occam_dgemm(false, true, nb, ch, in, 1.0, g->a[l] + (size_t)i0 * in, in,
                            g->a[l] + (size_t)(i0 + c0) * in, in, 0.0, g->ta + c0, cols);
                occam_dgemm(false, true, nb * K, ch * K, out, 1.0, g->dl[l] + r0 * out, out,
                            g->dl[l] + (r0 + (size_t)c0 * K) * out, out, 0.0,
                            g->td + (size_t)c0 * K, (int)mc);
                for (size_t r = 0; r < (size_t)nb * K; r++) {
                    double *gr = G + (r0 + r) * M + r0;
                    const double *td = g->td + r * mc, *ta = g->ta + (r / K) * cols;
                    for (int qi = c0; qi < c0 + ch; qi++) {
                        double f = c * ta[qi];
                        for (int k = 0; k < K; k++)
                            gr[(size_t)qi * K + k] += f * td[(size_t)qi * K + k];
                    }
                }
            }
            team_wait(nt);
        }
    }
    /* the lower triangle, a tile of GRAM_BLOCK rows at a time */
    for (size_t b0 = (size_t)t * GRAM_BLOCK; b0 < M; b0 += (size_t)nt * GRAM_BLOCK) {
        size_t b1 = M - b0 < GRAM_BLOCK ? M : b0 + GRAM_BLOCK;
        for (size_t c0 = 0; c0 < b1; c0 += GRAM_BLOCK)
            for (size_t r = b0; r < b1; r++)
                for (size_t q = c0; q < c0 + GRAM_BLOCK && q < r; q++) G[r * M + q] = G[q * M + r];
    }
}

/* Σ of a row's eight lanes, in a fixed order */
static double lanes(const double *a)
{
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* Rows [lo, hi) of w = A·v for the probes' block (probe-major: v[c·dim + r]), A full (dim ×
 * dim): two rows at a time against all the probes, so each probe's entries are read once for
 * two rows, in eight lanes. A row's sums depend on that row alone, so the rows can be split
 * anyhow. At dim = 2,048 one product reads A's 32 MB in 4 ms on one core of the development
 * machine, memory-bound, and in 2 ms on two; the symmetric product, which read half of A once
 * (with an axpy into the rows below for the other half), also took 4 ms, and could not be split
 * between threads without changing its sums. */
static void rows_times(const double *A, int dim, const double *v, double *w, int lo, int hi)
{
    enum { P = NOISY_DOF_PROBES, LN = 8 };
    for (int r = lo; r < hi; r += 2) {
        bool two = r + 1 < hi;
        const double *g0 = A + (size_t)r * dim, *g1 = two ? g0 + dim : g0;
        double a[2][P][LN] = {{{0.0}}};
        int q = 0;
        for (; q + LN <= dim; q += LN)
            for (int c = 0; c < P; c++)
                for (int k = 0; k < LN; k++) {
                    double x = v[(size_t)c * dim + q + k];
                    a[0][c][k] += g0[q + k] * x;
                    a[1][c][k] += g1[q + k] * x;
                }
        for (; q < dim; q++)
            for (int c = 0; c < P; c++) {
                double x = v[(size_t)c * dim + q];
                a[0][c][0] += g0[q] * x;
                a[1][c][0] += g1[q] * x;
            }
        for (int c = 0; c < P; c++) {
            w[(size_t)c * dim + r] = lanes(a[0][c]);
            if (two) w[(size_t)c * dim + r + 1] = lanes(a[1][c]);
        }
    }
}

/* Σ x_r·y_r over n in a fixed order, four partial sums (one chain of dependent adds took
 * much of the estimate's time) */
static double dot(const double *x, const double *y, int n)
{
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    int r = 0;
    for (; r + 4 <= n; r += 4)
        for (int k = 0; k < 4; k++) s[k] += x[r + k] * y[r + k];
    for (; r < n; r++) s[0] += x[r] * y[r];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* e_1ᵀ(I + tT)⁻¹e_1 for the Lanczos tridiagonal T (diagonal al, off-diagonal be, n rows), by
 * eliminating from the bottom. Each pivot is a Schur complement of I + tT, at least 1 for a
 * positive semi-definite T: the clamp holds that where t·‖T‖ has rounded the 1 away. */
static double resolvent_00(const double *al, const double *be, int n, double t)
{
    double d = 1.0 + t * al[n - 1];
    for (int i = n - 2; i >= 0; i--) {
        d = fmax(d, 1.0);
        d = 1.0 + t * al[i] - (t * be[i]) * (t * be[i]) / d;
    }
    return 1.0 / fmax(d, 1.0);
}

/* The Gauss–Radau rule's last diagonal entry, al[n] = α̃ = β_n²·[T⁻¹]_nn (the last pivot of
 * T's elimination from the top), so that the extended T has 0 as an eigenvalue; false where T
 * is numerically singular (no extension). */
static bool radau_extend(double *al, const double *be, int n)
{
    double d = al[0];
    for (int i = 1; i < n && d > 0.0; i++) d = al[i] - be[i - 1] * be[i - 1] / d;
    if (!(d > 0.0)) return false;
    al[n] = be[n - 1] * be[n - 1] / d;
    return true;
}

/* zᵀ(I + tG)⁻¹z/|z|² from a probe's n Lanczos steps (al: n + 1 entries of room, be: n, be[n −
 * 1] the next off-diagonal): where its Krylov space closed, the Gauss rule, exact. Else the
 * mean of the Gauss rule, which under-states it (1/(1 + tλ) has positive even derivatives),
 * and the Gauss–Radau rule with a node fixed at 0 ≤ λ_min, which over-states it (Golub &
 * Meurant): T extended by the row (β_n, α̃), α̃ = β_n²·[T⁻¹]_nn, so that 0 is an eigenvalue.
 * The Gauss rule alone counted γ 12–24% high where the spectrum spreads over decades. */
static double probe_resolvent(double *al, const double *be, int n, bool closed, double t)
{
    double gauss = resolvent_00(al, be, n, t);
    if (closed || !radau_extend(al, be, n)) return gauss;
    return 0.5 * (gauss + resolvent_00(al, be, n + 1, t));
}

/* Whether a probe's Gauss and Gauss–Radau rules (below and above zᵀ(I + tG)⁻¹z/|z|², which
 * lies in [0, 1]) agree within NOISY_DOF_TOL at every point of the table: its Lanczos steps
 * can stop. */
static bool bracketed(double *al, const double *be, int n, int npts, double step)
{
    if (!radau_extend(al, be, n)) return false;
    for (int k = 0; k < npts; k++) {
        double t = level_t(k, npts, step);
        if (resolvent_00(al, be, n + 1, t) - resolvent_00(al, be, n, t) > NOISY_DOF_TOL)
            return false;
    }
    return true;
}

/* Step j of probe c's Lanczos recurrence, from w = A·q_j: α_j, w orthogonalised against the
 * basis (twice), β_j, the next basis vector, and whether the probe goes on. */
static void lanczos_step(est_job *e, int c, int j)
{
    noisy_dof *g = e->g;
    int M = e->dim;
    size_t blk = (size_t)M * NOISY_DOF_PROBES; /* a step's basis vectors, probe-major */
    const double *qc = g->q + (size_t)j * blk + (size_t)c * M;
    double *w = g->w + (size_t)c * M, *next = g->q + (size_t)(j + 1) * blk + (size_t)c * M;
    double *al = e->al[c], *be = e->be[c];
    if (!e->live[c]) {
        if (j + 1 < e->steps)
            for (int r = 0; r < M; r++) next[r] = 0.0;
        return;
    }
    double a = dot(qc, w, M);
    al[j] = a;
    e->len[c] = j + 1;
    for (int r = 0; r < M; r++) w[r] -= a * qc[r];
    if (j > 0)
        for (int r = 0; r < M; r++) w[r] -= be[j - 1] * (qc - blk)[r];
    for (int pass = 0; pass < 2; pass++) /* full reorthogonalisation, twice */
        for (int i = 0; i <= j; i++) {
            const double *qi = g->q + (size_t)i * blk + (size_t)c * M;
            double h = dot(qi, w, M);
            for (int r = 0; r < M; r++) w[r] -= h * qi[r];
        }
    double b = sqrt(dot(w, w, M));
    e->norm[c] = fmax(e->norm[c], fmax(fabs(a), j > 0 ? be[j - 1] : 0.0));
    /* the Krylov space is invariant (its quadrature is exact) or the steps are spent */
    e->closed[c] = !(b > 1e-12 * e->norm[c]);
    be[j] = b;
    e->live[c] = j + 1 < e->steps && !e->closed[c] &&
                 ((j + 1) % 8 || !bracketed(al, be, j + 1, e->npts, e->step));
    if (j + 1 < e->steps)
        for (int r = 0; r < M; r++) next[r] = e->live[c] ? w[r] / b : 0.0;
}

/* The estimate on thread t of nt: the rows' Gram where it is built here, then every Lanczos
 * step: the team's rows of the product (rows_times), then each probe's recurrence on one
 * thread (lanczos_step). What a thread computes depends on nothing but its part, so the
 * table is the same for every team size. */
static void est_worker(void *ctx, int t, int nt)
{
    est_job *e = ctx;
    noisy_dof *g = e->g;
    int M = e->dim;
    size_t blk = (size_t)M * NOISY_DOF_PROBES, lo, hi;
    if (e->build) gram_blas(e, t, nt);
    occam_team_split_rows((size_t)M, t, nt, &lo, &hi);
    team_wait(nt);
    for (int j = 0; j < e->steps; j++) {
        rows_times(e->A, M, g->q + (size_t)j * blk, g->w, (int)lo, (int)hi);
        team_wait(nt);
        for (int c = t; c < NOISY_DOF_PROBES; c += nt) lanczos_step(e, c, j);
        team_wait(nt);
        bool any = false;
        for (int c = 0; c < NOISY_DOF_PROBES; c++) any |= e->live[c];
        if (!any) break;
    }
}

/* The estimate (M > NOISY_DOF_ROWS, W > NOISY_DOF_WEIGHTS), on a team of `threads`, for the
 * dim×dim matrix e->A (the rows' Gram, built by the team where e->build, or J̃ᵀJ̃ where the
 * weights are fewer; full): γ = dim − tr((I + tA)⁻¹) by Hutchinson's trace estimator over
 * NOISY_DOF_PROBES fixed Rademacher probes z, each zᵀ(I + tA)⁻¹z by the quadrature that up to
 * NOISY_DOF_STEPS steps of Lanczos from z give (stochastic Lanczos quadrature: Ubaru, Chen &
 * Saad 2017), for every t from the one recurrence (probe_resolvent). The probes run together,
 * so each step reads A once, its rows split between the team (rows_times); each basis is fully
 * reorthogonalised, each probe on one thread; a probe stops once its Gauss and Gauss–Radau
 * rules agree (bracketed). The same probes for every t keep the table monotone, and the run
 * reproducible. (q holds steps + 1 blocks: the last step writes a next block it
 * never reads.)
 * Against the exact trace (numpy's eigenvalues of the dumped Jacobian) on 11 nets of 400 to
 * 2,048 rows, the table's centre is within 0.05–2% and its ends within 6%, but where γ is
 * a small part of N (21% at γ = 36 of 1,500 rows), where σ_y hardly depends on it. The Gauss
 * rule alone, at 32 steps over the rows, was up to 28% high at the centre. Saturated units
 * (inputs ×100 to ×1,000, unstandardised) spread the spectrum past what 64 steps resolve: the
 * centre 9–151% high, the side that holds σ_y up. */
static void table_estimate(double *table, est_job *e, int threads, double top)
{
    enum { P = NOISY_DOF_PROBES };
    noisy_dof *g = e->g;
    int M = e->dim;
    e->steps = M < NOISY_DOF_STEPS ? M : NOISY_DOF_STEPS;
    occam_rng rng = occam_rng_seed(NOISY_DOF_SEED, 0);
    double z = 1.0 / sqrt((double)M);
    for (size_t i = 0; i < (size_t)M * P; i++) g->q[i] = occam_rng_next(&rng) >> 63 ? z : -z;
    for (int c = 0; c < P; c++)
        e->live[c] = true, e->closed[c] = false, e->len[c] = 0, e->norm[c] = 0.0;
    /* the table depends on the team's size in no bit, so a short team (nested inside another
     * one) runs it on this thread alone */
    occam_error err;
    if (threads < 2 || occam_team_in_parallel() ||
        occam_team_run(threads, NULL, est_worker, e, &err) != OCCAM_OK)
        est_worker(e, 0, 1);
    for (int k = 0; k < e->npts; k++) {
        double t = level_t(k, e->npts, e->step), tr = 0.0;
        for (int c = 0; c < P; c++)
            tr += probe_resolvent(e->al[c], e->be[c], e->len[c], e->closed[c], t);
        double gam = (double)M - (double)M * tr / P;
        table[k] = isfinite(gam) ? fmin(fmax(gam, 0.0), top) : top;
    }
}

void noisy_dof_table(double *table, noisy_dof *g, const occam_model *m, const occam_prior *prior,
                     const occam_dataset *ds, double beta, double sy2, int npts, double step,
                     int threads)
{
    const occam_layout *lay = &m->lay;
    int K = lay->width[lay->nlayers];
    int n = dof_rows(g, ds->n);
    forward(g, m, ds, n);
    backward(g, m, n);
    double scale = (double)ds->n / (double)n / sy2;
    size_t M = (size_t)n * K, W = lay->nweights;
    double top = fmin((double)M, (double)W);
    if (M <= NOISY_DOF_ROWS) {
        for (size_t i = 0; i < M * M; i++) g->g[i] = 0.0;
        gram_loops(g, m, prior, beta, n, scale);
        table_exact(table, g, g->g, (int)M, top, npts, step);
        return;
    }
    if (W <= NOISY_DOF_WEIGHTS) {
        weight_gram(g, m, prior, beta, n, scale);
        table_exact(table, g, g->h, (int)W, top, npts, step);
        return;
    }
    est_job e = {.g = g, .m = m, .prior = prior, .beta = beta, .scale = scale, .n = n,
                 .npts = npts, .step = step};
    if (W < M) {
        weight_gram(g, m, prior, beta, n, scale);
        e.A = g->h, e.dim = (int)W;
    } else {
        for (size_t i = 0; i < M * M; i++) g->g[i] = 0.0;
        e.A = g->g, e.dim = (int)M, e.build = true;
    }
    table_estimate(table, &e, threads, top);
}
