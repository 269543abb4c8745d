/* Sparse inference engine: per layer CSR or a dense masked copy, over transposed row blocks.
 *
 * Each thread owns a contiguous range of rows and walks it in blocks of SPARSE_ROWS rows. A
 * block is transposed once into xt (in × SPARSE_ROWS): feature j of all the block's rows is one
 * contiguous run. Then every layer maps xt to yt (out × SPARSE_ROWS):
 *   - CSR: for each output o, in chunks of SPARSE_LANES rows, an accumulator initialised with
 *     the bias takes acc += w_oj · xt[j, chunk] for each stored (j, w_oj) of row o. The chunk
 *     is a few SIMD registers wide, so every nonzero costs one broadcast and a few FMAs on
 *     contiguous loads; no gathers, and the column indices are read once per chunk.
 *   - dense: yt = W · xt, one single-threaded BLIS call with the bias pre-filled (beta = 1).
 * yt is the next layer's xt, so nothing is transposed between layers; only the last layer's
 * yt is transposed into the caller's row-major output. Hidden activations go through
 * occam_bias_act_forward with a zero bias (the bias is already in); relu after a CSR layer is
 * fused into the store instead, as that pass would cost about as much as the layer itself.
 *
 * SPARSE_ROWS = 256 keeps the dense layers' GEMMs efficient (BLIS packs W on every call, so
 * narrow calls pay for it) while a CSR chunk's working set (in × SPARSE_LANES floats) stays
 * in L2. The FMA is explicit (fmaf): the build has -ffp-contract=off, and without it the
 * update would be a multiply and an add. Rounding thus differs from the dense path only by
 * summation order, within 1e-5 of the row's scale on the models we ship.
 *
 * The crossover density (OCCAM_SPARSE_THRESHOLD_DEFAULT) was measured on this design; see
 * sparse.h. */
#include "occam/sparse.h"

#include <math.h>
#include <omp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "occam/gemm.h"
#include "occam/kernels.h"
#include "occam/mem.h"
#include "occam/team.h"

#ifndef SPARSE_LANES
#define SPARSE_LANES 64 /* rows per CSR accumulator: 4 AVX-512 registers */
#endif
#ifndef SPARSE_ROWS
#define SPARSE_ROWS 256 /* rows per block, a multiple of SPARSE_LANES */
#endif
#ifndef DENSE_ROWS
#define DENSE_ROWS 256 /* rows per occam_forward_rows call on the dense path */
#endif

typedef struct sparse_layer {
    occam_sparse_layer_info info;
    float *b;        /* out: masked bias */
    float *w;        /* dense: out × in masked weights; CSR: nnz values */
    int32_t *col;    /* CSR: nnz input indices, ascending within a row */
    size_t *rowptr;  /* CSR: out + 1 */
} sparse_layer;

struct occam_sparse {
    int nlayers;
    int width[OCCAM_MAX_LAYERS];
    int maxw;            /* widest layer, input included */
    occam_act act;
    double threshold;
    sparse_layer layer[OCCAM_MAX_LAYERS];
    float *zero;         /* SPARSE_ROWS zeros: the bias of the activation pass */
    float **scratch;     /* per thread: xt and yt, 2 · maxw · SPARSE_ROWS floats */
    int nscratch;
};

const char *occam_sparse_format_name(occam_sparse_format f)
{
    return f == OCCAM_SPARSE_CSR ? "csr" : "dense";
}

int occam_sparse_nlayers(const occam_sparse *s) { return s->nlayers; }

occam_sparse_layer_info occam_sparse_layer(const occam_sparse *s, int l)
{
    OCCAM_ASSERT(l >= 0 && l < s->nlayers);
    return s->layer[l].info;
}

double occam_sparse_threshold(const occam_sparse *s) { return s->threshold; }

void occam_sparse_free(occam_sparse *s)
{
    if (!s) return;
    for (int l = 0; l < s->nlayers; l++) {
        free(s->layer[l].b);
        free(s->layer[l].w);
        free(s->layer[l].col);
        free(s->layer[l].rowptr);
    }
    for (int t = 0; t < s->nscratch; t++) free(s->scratch[t]);
    free(s->scratch);
    free(s->zero);
    free(s);
}

/* ---- building ------------------------------------------------------------------------- */

static int sparse_oom(occam_error *err, const char *what)
{
    return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the sparse engine's %s",
                           what);
}

/* Whether flat element i is stored: active and nonzero. */
static int sparse_keep(const occam_model *m, size_t i)
{
    return (!m->mask || m->mask[i]) && m->params[i] != 0.0f;
}

static int sparse_build_layer(sparse_layer *L, const occam_model *m, int l, double threshold,
                              occam_error *err)
{
    const occam_layout *lay = &m->lay;
    int in = lay->width[l], out = lay->width[l + 1];
    size_t w0 = lay->w_off[l], b0 = lay->b_off[l], nw = (size_t)in * out;
    size_t nnz = 0;
    for (size_t i = 0; i < nw; i++) nnz += (size_t)sparse_keep(m, w0 + i);
    L->info = (occam_sparse_layer_info){.in = in, .out = out, .nnz = nnz,
                                        .density = (double)nnz / (double)nw};
    L->info.format = L->info.density < threshold ? OCCAM_SPARSE_CSR : OCCAM_SPARSE_DENSE;

    L->b = occam_alloc((size_t)out, sizeof(float));
    if (!L->b) return sparse_oom(err, "biases");
    for (int o = 0; o < out; o++)
        L->b[o] = !m->mask || m->mask[b0 + o] ? m->params[b0 + o] : 0.0f;

    if (L->info.format == OCCAM_SPARSE_DENSE) {
        L->w = occam_alloc(nw, sizeof(float));
        if (!L->w) return sparse_oom(err, "dense weights");
        for (size_t i = 0; i < nw; i++) L->w[i] = sparse_keep(m, w0 + i) ? m->params[w0 + i] : 0.0f;
        return OCCAM_OK;
    }
    /* nnz may be 0: keep the arrays non-NULL so the layer reads as built. */
    L->w = occam_alloc(nnz ? nnz : 1, sizeof(float));
    L->col = occam_alloc(nnz ? nnz : 1, sizeof(int32_t));
    L->rowptr = occam_alloc((size_t)out + 1, sizeof(size_t));
    if (!L->w || !L->col || !L->rowptr) return sparse_oom(err, "CSR arrays");
    size_t k = 0;
    for (int o = 0; o < out; o++) {
        L->rowptr[o] = k;
        for (int j = 0; j < in; j++) {
            size_t i = w0 + (size_t)o * in + j;
            if (!sparse_keep(m, i)) continue;
            L->w[k] = m->params[i];
            L->col[k] = j;
            k++;
        }
    }
    L->rowptr[out] = k;
    OCCAM_ASSERT(k == nnz);
    return OCCAM_OK;
}

int occam_sparse_create(occam_sparse **out, const occam_model *m, double density_threshold,
                        occam_error *err)
{
    *out = NULL;
    if (!(density_threshold >= 0.0)) /* also catches NaN */
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "sparse density threshold %g: must be a number >= 0",
                               density_threshold);
    occam_blas_init(); /* before any team starts */
    occam_sparse *s = calloc(1, sizeof *s);
    if (!s) return sparse_oom(err, "header");
    const occam_layout *lay = &m->lay;
    s->nlayers = lay->nlayers;
    s->act = m->act;
    s->threshold = density_threshold;
    for (int l = 0; l <= lay->nlayers; l++) {
        s->width[l] = lay->width[l];
        if (lay->width[l] > s->maxw) s->maxw = lay->width[l];
    }
    int rc = OCCAM_OK;
    s->zero = occam_alloc_zero(SPARSE_ROWS, sizeof(float));
    if (!s->zero) rc = sparse_oom(err, "zero bias");
    for (int l = 0; rc == OCCAM_OK && l < lay->nlayers; l++)
        rc = sparse_build_layer(&s->layer[l], m, l, density_threshold, err);
    if (rc != OCCAM_OK) {
        occam_sparse_free(s);
        return rc;
    }
    *out = s;
    return OCCAM_OK;
}

/* ---- kernels -------------------------------------------------------------------------- */

/* xt (in, SPARSE_ROWS) <- x (rows, in)ᵀ, columns rows..nl zero-padded (nl: rows rounded up to
 * whole chunks). Tiles of 16 × 16 keep both sides' lines in L1. */
static void sparse_transpose_in(float *restrict xt, const float *restrict x, int rows, int nl,
                                int in)
{
    enum { T = 16 };
    for (int j0 = 0; j0 < in; j0 += T) {
        int j1 = j0 + T < in ? j0 + T : in;
        for (int r0 = 0; r0 < rows; r0 += T) {
            int r1 = r0 + T < rows ? r0 + T : rows;
            for (int r = r0; r < r1; r++)
                for (int j = j0; j < j1; j++)
                    xt[(size_t)j * SPARSE_ROWS + r] = x[(size_t)r * in + j];
        }
        for (int j = j0; j < j1; j++)
            for (int r = rows; r < nl; r++) xt[(size_t)j * SPARSE_ROWS + r] = 0.0f;
    }
}

/* y (rows, out) <- yt (out, SPARSE_ROWS)ᵀ, the first `rows` columns. */
static void sparse_transpose_out(float *restrict y, const float *restrict yt, int rows, int out)
{
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) y[(size_t)r * out + o] = yt[(size_t)o * SPARSE_ROWS + r];
}

/* yt (out, SPARSE_ROWS) = W (CSR, out × in) · xt (in, SPARSE_ROWS) + b, columns [0, nl), nl a
 * multiple of SPARSE_LANES; relu applied in the store if `relu`. */
static void sparse_csr_forward(float *restrict yt, const float *restrict xt,
                               const sparse_layer *L, int nl, int relu)
{
    const float *restrict val = L->w;
    const int32_t *restrict col = L->col;
    const size_t *restrict rp = L->rowptr;
    for (int c = 0; c < nl; c += SPARSE_LANES) {
        const float *xc = xt + c;
        for (int o = 0; o < L->info.out; o++) {
            float acc[SPARSE_LANES];
            const float bo = L->b[o];
            for (int r = 0; r < SPARSE_LANES; r++) acc[r] = bo;
            for (size_t k = rp[o]; k < rp[o + 1]; k++) {
                const float w = val[k];
                const float *restrict xj = xc + (size_t)col[k] * SPARSE_ROWS;
                for (int r = 0; r < SPARSE_LANES; r++) acc[r] = fmaf(w, xj[r], acc[r]);
            }
            float *restrict yo = yt + (size_t)o * SPARSE_ROWS + c;
            if (relu)
                for (int r = 0; r < SPARSE_LANES; r++) yo[r] = acc[r] > 0.0f ? acc[r] : 0.0f;
            else
                for (int r = 0; r < SPARSE_LANES; r++) yo[r] = acc[r];
        }
    }
}

/* yt (out, SPARSE_ROWS) = W (out × in) · xt (in, SPARSE_ROWS) + b, columns [0, nl). */
static void sparse_dense_forward(float *restrict yt, const float *restrict xt,
                                 const sparse_layer *L, int nl)
{
    int in = L->info.in, out = L->info.out;
    for (int o = 0; o < out; o++) {
        float *yo = yt + (size_t)o * SPARSE_ROWS;
        for (int r = 0; r < nl; r++) yo[r] = L->b[o];
    }
    occam_gemm(false, false, out, nl, in, 1.0f, L->w, in, xt, SPARSE_ROWS, 1.0f, yt,
               SPARSE_ROWS);
}

/* The rows [r0, r1) of x through every layer into out, with this thread's scratch. */
static void sparse_rows(const occam_sparse *s, float *scratch, const float *x, size_t r0,
                        size_t r1, float *out)
{
    int in0 = s->width[0], nout = s->width[s->nlayers];
    float *buf[2] = {scratch, scratch + (size_t)s->maxw * SPARSE_ROWS};
    for (size_t r = r0; r < r1; r += SPARSE_ROWS) {
        int rows = r1 - r < SPARSE_ROWS ? (int)(r1 - r) : SPARSE_ROWS;
        int nl = (rows + SPARSE_LANES - 1) / SPARSE_LANES * SPARSE_LANES;
        sparse_transpose_in(buf[0], x + r * (size_t)in0, rows, nl, in0);
        int cur = 0;
        for (int l = 0; l < s->nlayers; l++) {
            const sparse_layer *L = &s->layer[l];
            bool hidden = l + 1 < s->nlayers;
            bool fused = hidden && s->act == OCCAM_ACT_RELU;
            if (L->info.format == OCCAM_SPARSE_CSR) {
                sparse_csr_forward(buf[cur ^ 1], buf[cur], L, nl, fused);
            } else {
                sparse_dense_forward(buf[cur ^ 1], buf[cur], L, nl);
                fused = false;
            }
            /* With a zero bias the kernel is the activation alone; one call per unit, as yt's
             * rows are SPARSE_ROWS apart but only nl columns are defined. */
            for (int o = 0; hidden && !fused && o < L->info.out; o++)
                occam_bias_act_forward(buf[cur ^ 1] + (size_t)o * SPARSE_ROWS, s->zero, 1, nl,
                                       s->act);
            cur ^= 1;
        }
        sparse_transpose_out(out + r * (size_t)nout, buf[cur], rows, nout);
    }
}

static int sparse_reserve(occam_sparse *s, int threads, occam_error *err)
{
    if (threads <= s->nscratch) return OCCAM_OK;
    float **p = realloc(s->scratch, (size_t)threads * sizeof *p);
    if (!p) return sparse_oom(err, "scratch table");
    s->scratch = p;
    for (; s->nscratch < threads; s->nscratch++) {
        p[s->nscratch] = occam_alloc(2 * (size_t)s->maxw * SPARSE_ROWS, sizeof(float));
        if (!p[s->nscratch]) return sparse_oom(err, "scratch");
    }
    return OCCAM_OK;
}

int occam_sparse_forward(occam_sparse *s, const float *x, size_t n, float *out, int threads,
                         occam_error *err)
{
    OCCAM_ASSERT(threads >= 1);
    int rc = sparse_reserve(s, threads, err);
    if (rc != OCCAM_OK) return rc;
    const occam_sparse *cs = s;
#pragma omp parallel num_threads(threads) default(none) shared(cs, x, out) firstprivate(n)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        size_t lo, hi;
        occam_split_rows(n, t, nt, &lo, &hi);
        sparse_rows(cs, cs->scratch[t], x, lo, hi, out);
    }
    return OCCAM_OK;
}

/* ---- the dense BLIS path -------------------------------------------------------------- */

int occam_dense_forward(const occam_model *m, const float *x, size_t n, float *out, int threads,
                        occam_error *err)
{
    OCCAM_ASSERT(threads >= 1);
    occam_blas_init();
    const occam_layout *lay = &m->lay;
    int L = lay->nlayers, in0 = lay->width[0], nout = lay->width[L];
    /* Per thread, every hidden layer's output for DENSE_ROWS rows, on its own cache lines. */
    size_t per = 0;
    for (int l = 0; l + 1 < L; l++)
        per += occam_round_up((size_t)DENSE_ROWS * lay->width[l + 1], OCCAM_SEG_ALIGN);
    float *scratch = occam_alloc(per ? per * (size_t)threads : 1, sizeof(float));
    if (!scratch)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the dense path");
#pragma omp parallel num_threads(threads) default(none) \
    shared(lay, m, x, out, scratch) firstprivate(n, per, L, in0, nout)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *bufs[OCCAM_MAX_LAYERS];
        float *p = scratch + per * (size_t)t;
        for (int l = 0; l + 1 < L; l++) {
            bufs[l] = p;
            p += occam_round_up((size_t)DENSE_ROWS * lay->width[l + 1], OCCAM_SEG_ALIGN);
        }
        size_t lo, hi;
        occam_split_rows(n, t, nt, &lo, &hi);
        for (size_t r = lo; r < hi; r += DENSE_ROWS) {
            int rows = hi - r < DENSE_ROWS ? (int)(hi - r) : DENSE_ROWS;
            bufs[L - 1] = out + r * (size_t)nout; /* the last layer writes in place */
            occam_forward_rows(lay, m->act, m->params, x + r * (size_t)in0, rows, bufs);
        }
    }
    free(scratch);
    return OCCAM_OK;
}

/* ---- comparison ------------------------------------------------------------------------ */

double occam_max_rel_diff(const float *a, const float *b, size_t n, int k)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float *ai = a + i * (size_t)k, *bi = b + i * (size_t)k;
        double scale = 0.0;
        for (int j = 0; j < k; j++) scale = fmax(scale, fabs((double)bi[j]));
        if (scale == 0.0) scale = 1.0;
        for (int j = 0; j < k; j++) {
            double d = fabs((double)ai[j] - (double)bi[j]) / scale;
            if (!(d <= worst)) worst = d; /* NaN propagates */
        }
    }
    return worst;
}

int occam_argmax(const float *v, int k)
{
    int arg = 0;
    for (int j = 1; j < k; j++)
        if (v[j] > v[arg]) arg = j;
    return arg;
}
