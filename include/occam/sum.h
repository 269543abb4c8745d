/* occam/sum.h — the deterministic parallel sum that every code length goes through.
 *
 * Reproducibility contract: occam_sum_chunked cuts the index range into fixed chunks whose size
 * does not depend on the thread count, sums each chunk serially and combines the chunk sums by
 * a fixed pairwise tree. Functions built on it (value bits, KL totals) use the chunk size
 * OCCAM_SUM_CHUNK, so their results depend on the inputs only. */
#ifndef OCCAM_SUM_H
#define OCCAM_SUM_H

#include <stddef.h>

#include "occam/comm.h"

/* Elements per chunk of the code-length sums built on occam_sum_chunked. Changing it changes the
 * last bits of every stored score, so it is part of the format. */
#define OCCAM_SUM_CHUNK 2048

/* Sum over [lo, hi) of some per-element quantity, accumulated in double, in index order.
 * Called concurrently from several threads with disjoint ranges: it must only read ctx, and
 * may write only scratch of its own thread t (0 on the serial path), t < the thread count. */
typedef double (*occam_sum_chunk_fn)(void *ctx, int t, size_t lo, size_t hi);

/* Σ over [0, n): chunk c = [c·chunk, min((c+1)·chunk, n)) is summed by chunk_sum; the chunk
 * sums are combined by the fixed pairwise tree (slots 2i and 2i+1, level by level, an odd
 * last slot carried up). The result is bitwise identical for every thread count.
 * threads > 1 starts its own team (occam_team_run) and must not be called from inside one;
 * threads == 1 runs serially without OpenMP (safe anywhere, e.g. inside a team's worker).
 * chunk > 0 and threads >= 1 (asserted). n == 0 gives 0. Never fails: if the slot array
 * cannot be allocated, or OpenMP starts a smaller team than asked for, it falls back to the
 * serial path, which gives the same bits. */
double occam_sum_chunked(int threads, size_t n, size_t chunk, occam_sum_chunk_fn chunk_sum,
                         void *ctx);

/* The same sum with the chunks shared among the ranks of c: rank r sums its contiguous share of
 * the chunks (occam_comm_share) on `threads` threads, the chunk sums are allgathered and folded
 * by the same tree, so every rank gets in *sum the bits occam_sum_chunked gives alone, at any
 * world size. A collective: every rank calls it with the same n and chunk. c NULL or of one
 * rank: occam_sum_chunked, OCCAM_OK. OCCAM_ERR_RUNTIME on every rank, *sum untouched and no
 * chunk summed, if any rank cannot allocate the chunk slots (the ranks agree first, so none
 * is left waiting in the gather); the caller says "out of memory". */
int occam_sum_chunked_ranks(const occam_comm *c, int threads, size_t n, size_t chunk,
                            occam_sum_chunk_fn chunk_sum, void *ctx, double *sum);

#endif
