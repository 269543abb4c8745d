/* The deterministic parallel sum behind every code length (see include/occam/sum.h).
 *
 * Why not reduction(+): the order in which OpenMP adds per-thread partials, and where the
 * per-thread ranges are cut, both change with the thread count, so the last bits of a score
 * would too. Here the cut points are fixed chunks of the index range, and each chunk's sum
 * lands in its own slot whoever computes it; the slots are then folded by a pairwise tree that
 * depends only on the number of chunks. Threads own contiguous runs of slots, so two threads
 * share at most the cache line at a run boundary, written once per chunk.
 *
 * The serial path (one thread, no memory for the slots, or a team OpenMP would not start at
 * full size) builds the same tree without the slot array: a binary counter keeps one partial
 * per completed power-of-two block, and the leftover blocks are folded from the smallest up.
 * Level-by-level pairing with an odd last slot carried up gives every node the range
 * [j·2^L, min((j+1)·2^L, nchunks)), so a ragged root is "largest full block + (next block +
 * (...))" — exactly that fold. The tests compare the two paths bit for bit. */
#include "occam/sum.h"

#include <stdlib.h>

#include "occam/mem.h"
#include "occam/team.h"

static void chunk_bounds(size_t n, size_t chunk, size_t c, size_t *lo, size_t *hi)
{
    *lo = c * chunk;
    *hi = n - *lo > chunk ? *lo + chunk : n;
}

static double sum_serial(size_t n, size_t chunk, size_t nchunks, occam_sum_chunk_fn chunk_sum,
                         void *ctx)
{
    double stack[64]; /* one per bit of the chunk counter */
    int top = 0;
    for (size_t c = 0; c < nchunks; c++) {
        size_t lo, hi;
        chunk_bounds(n, chunk, c, &lo, &hi);
        double v = chunk_sum(ctx, 0, lo, hi);
        /* Every trailing 1 bit of c is a completed block of the same size waiting on the
         * stack: pair it with v (left + right, as slot 2i + slot 2i+1). */
        for (size_t bits = c; bits & 1; bits >>= 1) v = stack[--top] + v;
        stack[top++] = v;
    }
    double acc = stack[--top];
    while (top > 0) acc = stack[--top] + acc;
    return acc;
}

/* The parallel path's shared state: every thread fills the slots of its own run of chunks. */
typedef struct sum_team {
    double *slot;
    size_t n, chunk, nchunks;
    size_t c0, c1;              /* the chunks this process sums (all of them alone) */
    occam_sum_chunk_fn chunk_sum;
    void *ctx;
} sum_team;

static void sum_worker(void *ctx, int t, int nt)
{
    const sum_team *s = ctx;
    size_t clo, chi;
    occam_team_split_rows(s->c1 - s->c0, t, nt, &clo, &chi);
    for (size_t c = s->c0 + clo; c < s->c0 + chi; c++) {
        size_t lo, hi;
        chunk_bounds(s->n, s->chunk, c, &lo, &hi);
        s->slot[c] = s->chunk_sum(s->ctx, t, lo, hi);
    }
}

/* The pairwise tree over the chunk sums (a few thousand additions at most: serial, level by
 * level); frees slot. */
static double fold(double *slot, size_t nchunks)
{
    for (size_t len = nchunks; len > 1; len = len / 2 + (len & 1)) {
        for (size_t i = 0; i < len / 2; i++) slot[i] = slot[2 * i] + slot[2 * i + 1];
        if (len & 1) slot[len / 2] = slot[len - 1];
    }
    double s = slot[0];
    free(slot);
    return s;
}

double occam_sum_chunked(int threads, size_t n, size_t chunk, occam_sum_chunk_fn chunk_sum,
                         void *ctx)
{
    OCCAM_ASSERT(chunk > 0 && threads >= 1 && chunk_sum);
    if (n == 0) return 0.0;
    size_t nchunks = n / chunk + (n % chunk != 0);
    double *slot = threads > 1 && nchunks > 1 ? occam_alloc(nchunks, sizeof(double)) : NULL;
    if (!slot) return sum_serial(n, chunk, nchunks, chunk_sum, ctx);

    /* Nested use would silently run one thread per inner team and is almost surely a bug. */
    OCCAM_ASSERT(!occam_team_in_parallel());
    sum_team st = {slot, n, chunk, nchunks, 0, nchunks, chunk_sum, ctx};
    if (occam_team_run(threads, NULL, sum_worker, &st, NULL) != OCCAM_OK) {
        /* A short team ran no chunk; this function does not fail, and the serial path gives
         * the same bits. */
        free(slot);
        return sum_serial(n, chunk, nchunks, chunk_sum, ctx);
    }
    return fold(slot, nchunks);
}

int occam_sum_chunked_ranks(const occam_comm *c, int threads, size_t n, size_t chunk,
                            occam_sum_chunk_fn chunk_sum, void *ctx, double *sum)
{
    if (!c || c->size <= 1) {
        *sum = occam_sum_chunked(threads, n, chunk, chunk_sum, ctx);
        return OCCAM_OK;
    }
    OCCAM_ASSERT(chunk > 0 && threads >= 1 && chunk_sum);
    if (n == 0) {
        *sum = 0.0;
        return OCCAM_OK;
    }
    size_t nchunks = n / chunk + (n % chunk != 0);
    double *slot = occam_alloc(nchunks, sizeof(double));
    /* The slots receive the allgather, so there is no serial way round them; a rank without
     * them ended every rank (MPI_Abort: exit 1 and Open MPI's banner, no message of occam's).
     * The ranks agree instead, and all return the error. */
    if (occam_comm_max_int(c, !slot)) {
        free(slot);
        return OCCAM_ERR_RUNTIME;
    }
    size_t c0, c1;
    occam_comm_share(c, nchunks, c->rank, &c0, &c1);
    sum_team st = {slot, n, chunk, nchunks, c0, c1, chunk_sum, ctx};
    OCCAM_ASSERT(!occam_team_in_parallel());
    if (c1 > c0 && (threads == 1 ||
                    occam_team_run(threads, NULL, sum_worker, &st, NULL) != OCCAM_OK))
        sum_worker(&st, 0, 1); /* alone, or a short team: the same slots */
    occam_comm_allgather_rows_f64(c, slot, nchunks, 1);
    *sum = fold(slot, nchunks);
    return OCCAM_OK;
}
