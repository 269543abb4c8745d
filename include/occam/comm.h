/* occam/comm.h — the processes of a run: one, or the ranks `mpirun` started (Open MPI).
 *
 * occam is hybrid: each rank runs today's OpenMP team on its share of every minibatch, and the
 * ranks exchange gradients, activations and updated weights through the calls below. They are
 * the only place occam touches MPI (tools/layers.sh keeps <mpi.h> inside this module).
 *
 * A plain `occam` (no mpirun) never initialises MPI: no daemon, no output, the world is one
 * rank and every call is a no-op or a copy. Under mpirun (Open MPI or PMIx set the environment)
 * occam_comm_init calls MPI_Init_thread with MPI_THREAD_FUNNELED: inside a team only thread 0,
 * the process's main thread, calls MPI, between barriers.
 *
 * Determinism. Sums that results depend on and that must not depend on the world size are never
 * left to MPI's reduction order: occam_comm_sum_ordered gathers every rank's value and adds them
 * in rank order, the same on every rank. Shard-path gradients (runtime.grad = shard) are summed
 * by a ring reduce-scatter (noisy weights: MPI's allreduce): identical on every rank and across
 * runs of one world size, but not across world sizes; runtime.grad = owner avoids them (see
 * nn/trainer.c).
 *
 * Errors inside MPI are fatal (MPI_ERRORS_ARE_FATAL): a rank that dies makes mpirun end the
 * others, instead of leaving them waiting in a collective. */
#ifndef OCCAM_COMM_H
#define OCCAM_COMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/error.h"

typedef struct occam_comm {
    int rank, size;             /* this process and the world: 0 and 1 without mpirun */
    int local_rank, local_size; /* among the ranks on this host */
    bool cores_shared;          /* the ranks on this host may all run on the same CPUs (mpirun
                                   did not bind them apart): occam divides them (team.h) */
    bool mpi;                   /* MPI is initialised */
} occam_comm;

/* Whether the environment says mpirun (or another PMIx/PMI launcher) started this process. */
bool occam_comm_launched(void);
/* This process's rank as the launcher's environment numbers it, before MPI starts; -1 when no
 * launcher set one (or it does not read as a rank). */
int occam_comm_launched_rank(void);

/* Starts MPI if occam_comm_launched(), else sets up a world of one. Call once, first thing in
 * main. OCCAM_ERR_RUNTIME if MPI cannot give MPI_THREAD_FUNNELED. */
int occam_comm_init(int *argc, char ***argv, occam_error *err);
/* MPI_Finalize if MPI was started; safe to call twice. */
void occam_comm_finalize(void);
/* Ends every rank at once with `code` (MPI_Abort), or exits with it without MPI. */
_Noreturn void occam_comm_abort(int code);

/* The world (a world of one before occam_comm_init). */
const occam_comm *occam_comm_world(void);

/* The collectives. c may be NULL or of size 1: then each is a no-op (or returns its input).
 * Every rank of c must make the same calls in the same order. */

/* buf[0..n) ← Σ over ranks, in place (MPI_Allreduce). */
void occam_comm_allreduce_sum(const occam_comm *c, float *buf, size_t n);
/* buf holds `rows` rows of `width` floats; rank r holds rows occam_comm_share(rows, r) and
 * receives every other rank's (MPI_Allgatherv, in place). */
void occam_comm_allgather_rows(const occam_comm *c, float *buf, size_t rows, size_t width);
/* The same for doubles. */
void occam_comm_allgather_rows_f64(const occam_comm *c, double *buf, size_t rows, size_t width);
/* buf[0..n) summed over the ranks, but each rank receives only its share of the sums,
 * occam_comm_share(n, rank), in place there (a ring of R - 1 exchanges); the rest of buf is
 * left partly summed. Half an allreduce's traffic; the other half is the allgather of what the ranks
 * then compute from their shares. */
void occam_comm_reduce_scatter_sum(const occam_comm *c, float *buf, size_t n);
/* Rows [*lo, *hi) of n that rank r of c holds: contiguous, in rank order, sizes differ by at
 * most one (occam_team_split_rows over ranks). */
void occam_comm_share(const occam_comm *c, size_t n, int r, size_t *lo, size_t *hi);
/* v[0..n) ← Σ over ranks in rank order (gathered, then added on every rank alike): the same
 * bits on every rank, and for a fixed split of the work the same bits as one process adding
 * the same partial values in that order. n <= 64. */
void occam_comm_sum_ordered(const occam_comm *c, double *v, int n);
/* Σ over ranks of exact integers. */
int64_t occam_comm_sum_i64(const occam_comm *c, int64_t v);
/* max over ranks. */
int occam_comm_max_int(const occam_comm *c, int v);
/* Copies root's bytes to every rank. */
void occam_comm_bcast(const occam_comm *c, void *buf, size_t bytes, int root);
/* Every rank's `bytes` bytes at rank r's slot of all (size × bytes), on every rank. */
void occam_comm_allgather_bytes(const occam_comm *c, const void *mine, void *all, size_t bytes);
/* The same with counts[r] bytes from rank r, placed one after another in rank order. */
void occam_comm_allgatherv_bytes(const occam_comm *c, const void *mine, void *all,
                                 const size_t *counts);
/* For the tests: the largest count one MPI call carries (default and at most INT_MAX, MPI's int
 * counts; 0 restores it). The collectives above take any size_t count: larger ones go in
 * pieces of this many elements, and a displacement past it through a ring of point-to-point
 * exchanges, with the same result. Returns the previous value. */
size_t occam_comm_set_piece(size_t n);
/* This host's name (gethostname), for the plans `occam topo` prints. */
void occam_comm_host(char *out, size_t n);

/* Agreement after a phase that may fail on some ranks and not others (reading a file, say):
 * every rank passes its status; all get the status of the lowest-numbered failing rank (or
 * OCCAM_OK) and, in *who, that rank (-1 if none). Only that rank should print its message, so
 * a bad config under mpirun -np 4 says so once. */
int occam_comm_agree(const occam_comm *c, int rc, int *who);

/* Whether this process speaks for the run: rank 0 (reports, checkpoints, progress). */
static inline bool occam_comm_is_root(const occam_comm *c) { return !c || c->rank == 0; }

#endif
