/* Sparse inference engine: per layer CSR or a dense masked copy, over transposed row blocks.
 *
 * Each thread owns a contiguous range of rows and walks it in blocks of SPARSE_ROWS rows. A
 * block is transposed once into xt (in × SPARSE_ROWS): feature j of all the block's rows is one
 * contiguous run. Then every layer maps xt to yt (out × SPARSE_ROWS):
 *   - CSR: for each output o, an accumulator of SPARSE_ROWS lanes (SPARSE_NVEC registers)
 *     starts at the bias and takes acc += w_oj · xt[j, :] for each stored (j, w_oj) of row o:
 *     one broadcast and SPARSE_NVEC multiply-adds on contiguous loads per nonzero, no gathers.
 *   - dense: yt = W · xt, one single-threaded BLIS call with the bias pre-filled (beta = 1).
 * yt is the next layer's xt, so nothing is transposed between layers; only the last layer's
 * yt is transposed into the caller's row-major output. Hidden activations go through
 * occam_bias_act_forward with a zero bias (the bias is already in); relu after a CSR layer is
 * fused into its store instead, which saves a pass over yt.
 *
 * Measured on AMD Zen 5 (AVX-512), LeNet-300-100 at 95% sparsity, one thread: the CSR kernel
 * runs at about 100 GFLOP/s of useful work. Written with plain loops, gcc vectorised the
 * update across the nonzeros with gathers instead (6x slower), hence the GCC vector types,
 * which also keep the accumulator in registers. The multiply and the add stay separate
 * (-ffp-contract=off); fusing them measured no faster, as the loads bound the loop. The input
 * transpose reads the only data that comes from memory, and done element by element it cost
 * as much as all the layers; 8 × 8 register transposes bring it near the memory bandwidth.
 * With SPARSE_ROWS = 128, BLIS runs the dense layers' W · xt at about 95% of its rate at 256
 * columns, while xt of a 784-wide input (400 KB) stays in L2.
 *
 * The engine's results do not depend on the thread count: each row is computed alone, in a
 * fixed order. Against the dense path they differ only by summation order. */
#include "occam/sparse.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "occam/gemm.h"
#include "kernels.h"
#include "occam/mem.h"
#include "occam/team.h"

/* The CSR accumulator is SPARSE_NVEC native vectors: enough independent add chains to hide the
 * latency, few enough to stay in registers with room for the loads (8 of 32 AVX-512 or of 16
 * AVX2 registers). A block of rows is exactly one accumulator wide. (AVX-512, a 784 × 300
 * layer at 3.5%: 128-row blocks with 8 registers ran at 68 GFLOP/s, with 2 × 4 at 63, 256-row
 * blocks at 55, 512-row ones at 39 to 46: a longer stride between xt's rows costs.) */
#if defined(__AVX512F__)
#define SPARSE_VEC 16
#elif defined(__AVX__)
#define SPARSE_VEC 8
#else
#define SPARSE_VEC 4
#endif
#define SPARSE_NVEC 8
#define SPARSE_ROWS (SPARSE_VEC * SPARSE_NVEC) /* rows per block */
/* Rows per occam_model_forward_rows call on the dense path: the fastest of 64 to 5000 measured on
 * LeNet-300-100 (1024: 41 ms per 10,000 rows on one thread, 256: 44 ms, 64: 65 ms). */
#define DENSE_ROWS 1024

typedef float sparse_vec __attribute__((vector_size(4 * SPARSE_VEC)));

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
    /* No CSR layer at all: the dense path's flat masked parameters (layer arrays unused). */
    occam_layout lay;
    float *flat;
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
    free(s->flat);
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

static occam_sparse_layer_info sparse_layer_info(const occam_model *m, int l,
                                                 double threshold)
{
    const occam_layout *lay = &m->lay;
    int in = lay->width[l], out = lay->width[l + 1];
    size_t nw = (size_t)in * out, nnz = 0;
    for (size_t i = 0; i < nw; i++) nnz += (size_t)sparse_keep(m, lay->w_off[l] + i);
    occam_sparse_layer_info li = {.in = in, .out = out, .nnz = nnz,
                                  .density = (double)nnz / (double)nw};
    li.format = li.density < threshold ? OCCAM_SPARSE_CSR : OCCAM_SPARSE_DENSE;
    return li;
}

/* Layer l's masked bias and its weights in the layer's format. */
static int sparse_build_layer(sparse_layer *L, const occam_model *m, int l, occam_error *err)
{
    const occam_layout *lay = &m->lay;
    int in = L->info.in, out = L->info.out;
    size_t w0 = lay->w_off[l], b0 = lay->b_off[l], nw = (size_t)in * out, nnz = L->info.nnz;
    L->b = occam_alloc((size_t)out, sizeof(float));
    if (!L->b) return sparse_oom(err, "biases");
    for (int o = 0; o < out; o++)
        L->b[o] = !m->mask || m->mask[b0 + o] ? m->params[b0 + o] : 0.0f;

    if (L->info.format == OCCAM_SPARSE_DENSE) {
        L->w = occam_alloc(nw, sizeof(float));
        if (!L->w) return sparse_oom(err, "dense weights");
        for (size_t i = 0; i < nw; i++)
            L->w[i] = sparse_keep(m, w0 + i) ? m->params[w0 + i] : 0.0f;
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

/* The all-dense case: the model's flat array with the mask applied (padding stays zero). */
static int sparse_build_flat(occam_sparse *s, const occam_model *m, occam_error *err)
{
    s->lay = m->lay;
    s->flat = occam_alloc(m->lay.nparams, sizeof(float));
    if (!s->flat) return sparse_oom(err, "dense weights");
    for (size_t i = 0; i < m->lay.nparams; i++)
        s->flat[i] = !m->mask || m->mask[i] ? m->params[i] : 0.0f;
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
    occam_gemm_init(); /* before any team starts */
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
    int ncsr = 0;
    for (int l = 0; l < lay->nlayers; l++) {
        s->layer[l].info = sparse_layer_info(m, l, density_threshold);
        ncsr += s->layer[l].info.format == OCCAM_SPARSE_CSR;
    }
    int rc = OCCAM_OK;
    s->zero = occam_alloc_zero(SPARSE_ROWS, sizeof(float));
    if (!s->zero) rc = sparse_oom(err, "zero bias");
    if (rc == OCCAM_OK && ncsr == 0) rc = sparse_build_flat(s, m, err);
    for (int l = 0; rc == OCCAM_OK && ncsr > 0 && l < lay->nlayers; l++)
        rc = sparse_build_layer(&s->layer[l], m, l, err);
    if (rc != OCCAM_OK) {
        occam_sparse_free(s);
        return rc;
    }
    *out = s;
    return OCCAM_OK;
}

/* ---- kernels -------------------------------------------------------------------------- */

typedef float sparse_v8 __attribute__((vector_size(32)));

/* d (8 × 8, row stride ds) <- s (8 × 8, row stride ss)ᵀ in registers: pairs of rows
 * interleaved by 1, then 2, then 4 floats. */
static inline __attribute__((always_inline)) void
sparse_transpose8(float *restrict d, size_t ds, const float *restrict s, size_t ss)
{
    sparse_v8 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) memcpy(&r[i], s + i * ss, sizeof r[i]);
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4)
        for (int k = 0; k < 2; k++) {
            u[i + 2 * k] =
                __builtin_shufflevector(t[i + k], t[i + k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[i + 2 * k + 1] =
                __builtin_shufflevector(t[i + k], t[i + k + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    for (int k = 0; k < 4; k++) {
        sparse_v8 lo = __builtin_shufflevector(u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        sparse_v8 hi = __builtin_shufflevector(u[k], u[k + 4], 4, 5, 6, 7, 12, 13, 14, 15);
        memcpy(d + k * ds, &lo, sizeof lo);
        memcpy(d + (k + 4) * ds, &hi, sizeof hi);
    }
}

/* xt (in, SPARSE_ROWS) <- x (rows, in)ᵀ. The input comes from memory, so this pass is
 * bandwidth-bound when done right: 8 × 8 register transposes, two of them per step so the
 * input is read as 16 sequential streams (more would defeat the hardware prefetcher), each
 * writing whole 32-byte runs of xt. A short block (a thread's last) goes element by element,
 * with the missing rows zero (those lanes are computed and dropped). */
static void sparse_transpose_in(float *restrict xt, const float *restrict x, int rows, int in)
{
    int in8 = in / 8 * 8;
    if (rows < SPARSE_ROWS) in8 = 0;
    for (int r0 = 0; r0 < SPARSE_ROWS; r0 += 16) {
        for (int j0 = 0; j0 < in8; j0 += 8)
            for (int h = 0; h < 16; h += 8)
                sparse_transpose8(xt + (size_t)j0 * SPARSE_ROWS + r0 + h, SPARSE_ROWS,
                                  x + (size_t)(r0 + h) * in + j0, (size_t)in);
        for (int j = in8; j < in; j++)
            for (int r = r0; r < r0 + 16; r++)
                xt[(size_t)j * SPARSE_ROWS + r] = r < rows ? x[(size_t)r * in + j] : 0.0f;
    }
}

/* y (rows, out) <- yt (out, SPARSE_ROWS)ᵀ, the first `rows` columns. */
static void sparse_transpose_out(float *restrict y, const float *restrict yt, int rows, int out)
{
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) y[(size_t)r * out + o] = yt[(size_t)o * SPARSE_ROWS + r];
}

/* yt (out, SPARSE_ROWS) = W (CSR, out × in) · xt (in, SPARSE_ROWS) + b; relu applied in the
 * store if `relu`. */
static void sparse_csr_forward(float *restrict yt, const float *restrict xt,
                               const sparse_layer *L, int relu)
{
    const float *restrict val = L->w;
    const int32_t *restrict col = L->col;
    const size_t *restrict rp = L->rowptr;
    for (int o = 0; o < L->info.out; o++) {
        sparse_vec acc[SPARSE_NVEC];
        for (int v = 0; v < SPARSE_NVEC; v++) acc[v] = (sparse_vec){0} + L->b[o];
        for (size_t k = rp[o]; k < rp[o + 1]; k++) {
            const float w = val[k];
            const float *xj = xt + (size_t)col[k] * SPARSE_ROWS;
            for (int v = 0; v < SPARSE_NVEC; v++) {
                sparse_vec x;
                memcpy(&x, xj + v * SPARSE_VEC, sizeof x);
                acc[v] += w * x;
            }
        }
        float *restrict yo = yt + (size_t)o * SPARSE_ROWS;
        memcpy(yo, acc, sizeof acc);
        if (relu)
            for (int r = 0; r < SPARSE_ROWS; r++) yo[r] = !(yo[r] <= 0.0f) ? yo[r] : 0.0f;
    }
}

/* yt (out, SPARSE_ROWS) = W (out × in) · xt (in, SPARSE_ROWS) + b. */
static void sparse_dense_forward(float *restrict yt, const float *restrict xt,
                                 const sparse_layer *L)
{
    int in = L->info.in, out = L->info.out;
    for (int o = 0; o < out; o++) {
        float *yo = yt + (size_t)o * SPARSE_ROWS;
        for (int r = 0; r < SPARSE_ROWS; r++) yo[r] = L->b[o];
    }
    occam_gemm(false, false, out, SPARSE_ROWS, in, 1.0f, L->w, in, xt, SPARSE_ROWS, 1.0f, yt,
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
        sparse_transpose_in(buf[0], x + r * (size_t)in0, rows, in0);
        int cur = 0;
        for (int l = 0; l < s->nlayers; l++) {
            const sparse_layer *L = &s->layer[l];
            bool hidden = l + 1 < s->nlayers;
            bool fused = hidden && s->act == OCCAM_ACT_RELU;
            if (L->info.format == OCCAM_SPARSE_CSR) {
                sparse_csr_forward(buf[cur ^ 1], buf[cur], L, fused);
            } else {
                sparse_dense_forward(buf[cur ^ 1], buf[cur], L);
                fused = false;
            }
            /* yt is (out, SPARSE_ROWS): with a zero bias the kernel is the activation alone. */
            if (hidden && !fused)
                occam_bias_act_forward(buf[cur ^ 1], s->zero, L->info.out, SPARSE_ROWS, s->act);
            cur ^= 1;
        }
        sparse_transpose_out(out + r * (size_t)nout, buf[cur], rows, nout);
    }
}

/* ---- the dense BLIS path -------------------------------------------------------------- */

typedef struct dense_team {
    const occam_layout *lay;
    occam_act act;
    const float *params, *x;
    float *out, *scratch;
    size_t n, per; /* rows; scratch floats per thread */
} dense_team;

static void dense_worker(void *ctx, int t, int nt)
{
    const dense_team *d = ctx;
    const occam_layout *lay = d->lay;
    int L = lay->nlayers, in0 = lay->width[0], nout = lay->width[L];
    float *bufs[OCCAM_MAX_LAYERS];
    float *p = d->scratch + d->per * (size_t)t;
    for (int l = 0; l + 1 < L; l++) {
        bufs[l] = p;
        p += occam_round_up((size_t)DENSE_ROWS * lay->width[l + 1], OCCAM_SEG_ALIGN);
    }
    size_t lo, hi;
    occam_team_split_rows(d->n, t, nt, &lo, &hi);
    for (size_t r = lo; r < hi; r += DENSE_ROWS) {
        int rows = hi - r < DENSE_ROWS ? (int)(hi - r) : DENSE_ROWS;
        bufs[L - 1] = d->out + r * (size_t)nout; /* the last layer writes in place */
        occam_model_forward_rows(lay, d->act, d->params, d->x + r * (size_t)in0, rows, bufs);
    }
}

/* out (n × outputs) = forward of x through lay/params, occam_model_forward_rows on DENSE_ROWS-row
 * blocks, rows split statically over `threads` threads. */
static int dense_rows(const occam_layout *lay, occam_act act, const float *params,
                      const float *x, size_t n, float *out, int threads, occam_error *err)
{
    OCCAM_ASSERT(threads >= 1);
    int rc = occam_gemm_prepare(threads, err);
    if (rc != OCCAM_OK) return rc;
    /* Per thread, every hidden layer's output for DENSE_ROWS rows, on its own cache lines. */
    size_t per = 0;
    for (int l = 0; l + 1 < lay->nlayers; l++)
        per += occam_round_up((size_t)DENSE_ROWS * lay->width[l + 1], OCCAM_SEG_ALIGN);
    float *scratch = occam_alloc(per ? per * (size_t)threads : 1, sizeof(float));
    if (!scratch)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the dense path");
    dense_team d = {lay, act, params, x, out, scratch, n, per};
    rc = occam_team_run(threads, NULL, dense_worker, &d, err);
    free(scratch);
    return rc;
}

int occam_sparse_dense_forward(const occam_model *m, const float *x, size_t n, float *out, int threads,
                        occam_error *err)
{
    return dense_rows(&m->lay, m->act, m->params, x, n, out, threads, err);
}

/* ---- the engine's forward pass -------------------------------------------------------- */

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

typedef struct sparse_team {
    const occam_sparse *s;
    const float *x;
    float *out;
    size_t n;
} sparse_team;

static void sparse_worker(void *ctx, int t, int nt)
{
    const sparse_team *st = ctx;
    size_t lo, hi;
    occam_team_split_rows(st->n, t, nt, &lo, &hi);
    sparse_rows(st->s, st->s->scratch[t], st->x, lo, hi, st->out);
}

int occam_sparse_forward(occam_sparse *s, const float *x, size_t n, float *out, int threads,
                         occam_error *err)
{
    OCCAM_ASSERT(threads >= 1);
    if (s->flat) return dense_rows(&s->lay, s->act, s->flat, x, n, out, threads, err);
    int rc = sparse_reserve(s, threads, err);
    if (rc == OCCAM_OK) rc = occam_gemm_prepare(threads, err); /* dense layers use BLIS */
    if (rc != OCCAM_OK) return rc;
    sparse_team st = {s, x, out, n};
    return occam_team_run(threads, NULL, sparse_worker, &st, err);
}

/* ---- comparison ------------------------------------------------------------------------ */

double occam_sparse_max_rel_diff(const float *a, const float *b, size_t n, int k)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float *ai = a + i * (size_t)k, *bi = b + i * (size_t)k;
        double scale = 0.0;
        for (int j = 0; j < k; j++) scale = fmax(scale, fabs((double)bi[j]));
        if (scale == 0.0) scale = 1.0;
        for (int j = 0; j < k; j++) {
            double d = fabs((double)ai[j] - (double)bi[j]) / scale;
            if (isnan(d)) return d;
            if (d > worst) worst = d;
        }
    }
    return worst;
}

int occam_sparse_argmax(const float *v, int k)
{
    int arg = 0;
    for (int j = 1; j < k; j++)
        if (v[j] > v[arg]) arg = j;
    return arg;
}
