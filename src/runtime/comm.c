/* The ranks of a run over MPI (see include/occam/comm.h). MPI's calls take int counts and int
 * displacements (this Open MPI, 4.1, has no MPI-4 large-count variants): a count or a
 * displacement past `piece` (INT_MAX, lower in the tests) is sent in pieces, by a ring of
 * point-to-point exchanges at 64-bit offsets where a collective would need a larger
 * displacement. Everything else is a thin, checked wrapper, so that the callers read as the
 * algorithm and never as MPI. */
#include "occam/comm.h"

#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "occam/cpumask.h"
#include "occam/team.h"

static occam_comm world = {.rank = 0, .size = 1, .local_rank = 0, .local_size = 1};
static MPI_Comm local_comm = MPI_COMM_NULL;

bool occam_comm_launched(void)
{
    /* Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMIx and PMI launchers (srun, hydra) set
     * theirs. Without any of them MPI_Init would start a singleton: a daemon for no one. */
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return true;
    return false;
}

int occam_comm_launched_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *r = getenv(vars[i]);
        char *end = NULL;
        long v = r && r[0] >= '0' && r[0] <= '9' ? strtol(r, &end, 10) : -1;
        if (end && !*end && v >= 0 && v <= INT_MAX) return (int)v;
    }
    return -1;
}

int occam_comm_init(int *argc, char ***argv, occam_error *err)
{
    if (world.mpi || !occam_comm_launched()) return OCCAM_OK;
    int provided = MPI_THREAD_SINGLE;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    world.mpi = true;
    if (provided < MPI_THREAD_FUNNELED)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "this MPI library does not support MPI_THREAD_FUNNELED (gives %d)",
                               provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world.size);
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world.rank, MPI_INFO_NULL,
                        &local_comm);
    MPI_Comm_rank(local_comm, &world.local_rank);
    MPI_Comm_size(local_comm, &world.local_size);
    /* Did mpirun bind the host's ranks apart (--bind-to core, its default for 2 ranks) or leave
     * them the same CPUs (--bind-to none, or oversubscribed)? */
    /* Read at the kernel's size: a fixed cpu_set_t fails (EINVAL) on a kernel with more than
     * 1,024 possible CPUs, and every rank then looked unbound. The host's ranks agree on the
     * largest size first. An unreadable mask is empty: nothing to compare. */
    size_t size = 0;
    cpu_set_t *mine = occam_cpumask_self(&size);
    unsigned long long mine_size = size, most = 0;
    MPI_Allreduce(&mine_size, &most, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, local_comm);
    size_t cpus = (size_t)most * 8 < CPU_SETSIZE ? CPU_SETSIZE : (size_t)most * 8;
    size_t bytes = CPU_ALLOC_SIZE(cpus);
    cpu_set_t *full = CPU_ALLOC(cpus);
    unsigned char *all = full ? malloc(bytes * (size_t)world.local_size) : NULL;
    if (full) {
        CPU_ZERO_S(bytes, full);
        if (mine) memcpy(full, mine, size < bytes ? size : bytes);
    }
    if (mine) CPU_FREE(mine);
    /* every rank takes part in the gather, even one short of memory, then all agree */
    int ok = all != NULL, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, local_comm);
    if (!all_ok) {
        free(all);
        if (full) CPU_FREE(full);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory at MPI start-up");
    }
    MPI_Allgather(full, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, local_comm);
    world.cores_shared = true;
    for (int r = 0; r < world.local_size; r++)
        world.cores_shared &= CPU_EQUAL_S(bytes, (cpu_set_t *)(all + bytes * (size_t)r), full);
    free(all);
    CPU_FREE(full);
    return OCCAM_OK;
}

void occam_comm_finalize(void)
{
    if (!world.mpi) return;
    if (local_comm != MPI_COMM_NULL) MPI_Comm_free(&local_comm);
    MPI_Finalize();
    world.mpi = false;
}

_Noreturn void occam_comm_abort(int code)
{
    if (world.mpi) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

const occam_comm *occam_comm_world(void) { return &world; }

static bool solo(const occam_comm *c) { return !c || c->size <= 1 || !c->mpi; }

/* The largest count one MPI call carries, and the largest displacement a collective is given:
 * an int's. occam_comm_set_piece lowers it, so that the tests take the paths of counts past
 * INT_MAX with a few elements. */
static size_t piece = INT_MAX;

size_t occam_comm_set_piece(size_t n)
{
    size_t was = piece;
    piece = n >= 1 && n <= (size_t)INT_MAX ? n : (size_t)INT_MAX;
    return was;
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

void occam_comm_share(const occam_comm *c, size_t n, int r, size_t *lo, size_t *hi)
{
    occam_team_split_rows(n, r, c ? c->size : 1, lo, hi);
}

enum { RING_TAG = 0x7273 };

/* One step of a ring: the ns elements at s go to rank `next` while nr elements come from rank
 * `prev` (the same message: prev sends nr), in pieces of at most `piece` elements, piece i of
 * each at once. A piece is received into d at its offset or, with sum (floats), into sum
 * (`piece` floats) and added there. Sender and receiver count the same pieces of a message, so
 * every posted operation has its match in the same round, whatever the sizes of the others. */
static void ring_exchange(const void *s, size_t ns, void *d, size_t nr, MPI_Datatype elem,
                          size_t esize, int next, int prev, float *sum)
{
    size_t sp = (ns + piece - 1) / piece, rp = (nr + piece - 1) / piece;
    for (size_t i = 0; i < sp || i < rp; i++) {
        size_t at = i * piece, ks = i < sp ? min_size(piece, ns - at) : 0,
               kr = i < rp ? min_size(piece, nr - at) : 0;
        char *into = (char *)d + at * esize;
        MPI_Request q[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
        if (kr)
            MPI_Irecv(sum ? (void *)sum : into, (int)kr, elem, prev, RING_TAG, MPI_COMM_WORLD,
                      &q[0]);
        if (ks)
            MPI_Isend((const char *)s + at * esize, (int)ks, elem, next, RING_TAG,
                      MPI_COMM_WORLD, &q[1]);
        MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
        for (size_t k = 0; sum && k < kr; k++) ((float *)into)[k] += sum[k];
    }
}

/* Block r of buf (cnt[r] elements at element off[r]), from rank r to every rank, in place: a
 * ring of R - 1 steps, in step s rank r passing block (r - s) mod R on to rank r + 1. For what
 * MPI_Allgatherv cannot take: a block or a displacement past `piece`. Each rank moves the
 * (R - 1)/R of the data a ring allgather does, Open MPI's own choice for large ones. */
static void ring_allgather(const occam_comm *c, void *buf, MPI_Datatype elem, size_t esize,
                           const size_t *off, const size_t *cnt)
{
    int R = c->size, r = c->rank, next = (r + 1) % R, prev = (r + R - 1) % R;
    char *b = buf;
    for (int st = 0; st < R - 1; st++) {
        int sb = ((r - st) % R + R) % R, rb = ((r - st - 1) % R + R) % R;
        ring_exchange(b + off[sb] * esize, cnt[sb], b + off[rb] * esize, cnt[rb], elem, esize,
                      next, prev, NULL);
    }
}

void occam_comm_reduce_scatter_sum(const occam_comm *c, float *buf, size_t n)
{
    if (solo(c) || n == 0) return;
    /* A ring, by hand: Open MPI 4.1's MPI_Reduce_scatter moved these sizes at half the speed
     * of its allreduce here (perf/mpi_scaling.sh), which defeats its purpose. In step s of
     * R - 1, rank r sends its partial sum of block (r - s - 1) mod R to rank r + 1 and adds
     * rank r - 1's partial of block (r - s - 2) mod R into its own; the last block it
     * receives, r, then holds every rank's contribution (summed in ring order: the same bits on
     * every run of this world size, in pieces or not). */
    static float *scratch;
    static size_t cap;
    int R = c->size, r = c->rank, next = (r + 1) % R, prev = (r + R - 1) % R;
    size_t most = min_size(n / (size_t)R + 1, piece);
    if (most > cap) {
        free(scratch);
        scratch = malloc(most * sizeof(float));
        if (!scratch) occam_comm_abort(OCCAM_ERR_RUNTIME);
        cap = most;
    }
    for (int st = 0; st < R - 1; st++) {
        size_t slo, shi, rlo, rhi;
        occam_comm_share(c, n, ((r - st - 1) % R + R) % R, &slo, &shi);
        occam_comm_share(c, n, ((r - st - 2) % R + R) % R, &rlo, &rhi);
        ring_exchange(buf + slo, shi - slo, buf + rlo, rhi - rlo, MPI_FLOAT, sizeof(float), next,
                      prev, scratch);
    }
}

void occam_comm_allreduce_sum(const occam_comm *c, float *buf, size_t n)
{
    if (solo(c)) return;
    for (size_t off = 0; off < n; off += piece)
        MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)min_size(n - off, piece), MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
}

/* The row type of `width` elements, made once per width and kept (a step gathers the same few
 * widths every time; they are freed by MPI_Finalize). Past KEEP widths (neuron pruning changes
 * them, and so does a select grid over model.layers) *kept is false: the caller frees the type
 * after its gather. Such types were never freed, and every step of the owner path made new
 * ones: an iterative neuron prune of 60 steps with 200 fine-tuning epochs grew each rank to
 * 465 MB (21 MB without the leak). */
static MPI_Datatype row_type(size_t width, MPI_Datatype elem, bool *kept_it)
{
    enum { KEEP = 32 };
    static struct kept_type { size_t width; MPI_Datatype elem, type; } kept[KEEP];
    static int n;
    *kept_it = true;
    for (int i = 0; i < n; i++)
        if (kept[i].width == width && kept[i].elem == elem) return kept[i].type;
    MPI_Datatype row;
    MPI_Type_contiguous((int)width, elem, &row);
    MPI_Type_commit(&row);
    if (n < KEEP) kept[n++] = (struct kept_type){width, elem, row};
    else *kept_it = false;
    return row;
}

static void allgather_rows(const occam_comm *c, void *buf, size_t rows, size_t width,
                           MPI_Datatype elem, size_t esize)
{
    if (solo(c) || rows == 0 || width == 0) return;
    int n = c->size;
    size_t lo[n], hi[n], most = 0;
    for (int r = 0; r < n; r++) {
        occam_comm_share(c, rows, r, &lo[r], &hi[r]);
        most = hi[r] - lo[r] > most ? hi[r] - lo[r] : most;
    }
    /* A row type keeps MPI's counts and displacements in rows. A rank's share past `piece`
     * elements (a shard-path layer of over 2^31 weights gathers rows of one), or rows or a row
     * past it, go around the ring instead. */
    if (rows <= piece && width <= piece && most <= piece / width) {
        int counts[n], displs[n];
        for (int r = 0; r < n; r++) {
            counts[r] = (int)(hi[r] - lo[r]);
            displs[r] = (int)lo[r];
        }
        bool kept;
        MPI_Datatype row = row_type(width, elem, &kept);
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, row,
                       MPI_COMM_WORLD);
        if (!kept) MPI_Type_free(&row);
        return;
    }
    OCCAM_ASSERT(rows <= SIZE_MAX / width);
    for (int r = 0; r < n; r++) {
        hi[r] = (hi[r] - lo[r]) * width; /* the counts, in elements */
        lo[r] *= width;
    }
    ring_allgather(c, buf, elem, esize, lo, hi);
}

void occam_comm_allgather_rows(const occam_comm *c, float *buf, size_t rows, size_t width)
{
    allgather_rows(c, buf, rows, width, MPI_FLOAT, sizeof(float));
}

void occam_comm_allgather_rows_f64(const occam_comm *c, double *buf, size_t rows, size_t width)
{
    allgather_rows(c, buf, rows, width, MPI_DOUBLE, sizeof(double));
}

void occam_comm_sum_ordered(const occam_comm *c, double *v, int n)
{
    OCCAM_ASSERT(n >= 0 && n <= 64);
    if (solo(c) || n == 0) return;
    /* called every step (the loss): the gather buffer is kept, grown once */
    static double *all;
    static size_t cap;
    size_t need = (size_t)n * (size_t)c->size;
    if (need > cap) {
        free(all);
        all = malloc(sizeof(double) * need);
        if (!all) occam_comm_abort(OCCAM_ERR_RUNTIME);
        cap = need;
    }
    MPI_Allgather(v, n, MPI_DOUBLE, all, n, MPI_DOUBLE, MPI_COMM_WORLD);
    for (int i = 0; i < n; i++) {
        double s = all[i];
        for (int r = 1; r < c->size; r++) s += all[(size_t)r * (size_t)n + (size_t)i];
        v[i] = s;
    }
}

int64_t occam_comm_sum_i64(const occam_comm *c, int64_t v)
{
    if (solo(c)) return v;
    int64_t s = 0;
    MPI_Allreduce(&v, &s, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    return s;
}

int occam_comm_max_int(const occam_comm *c, int v)
{
    if (solo(c)) return v;
    int m = v;
    MPI_Allreduce(&v, &m, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return m;
}

void occam_comm_bcast(const occam_comm *c, void *buf, size_t bytes, int root)
{
    if (solo(c)) return;
    for (size_t off = 0; off < bytes; off += piece)
        MPI_Bcast((char *)buf + off, (int)min_size(bytes - off, piece), MPI_BYTE, root,
                  MPI_COMM_WORLD);
}

void occam_comm_allgather_bytes(const occam_comm *c, const void *mine, void *all, size_t bytes)
{
    if (solo(c)) {
        memcpy(all, mine, bytes);
        return;
    }
    if (bytes <= piece) {
        MPI_Allgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, MPI_COMM_WORLD);
        return;
    }
    int n = c->size;
    size_t off[n], cnt[n];
    for (int r = 0; r < n; r++) {
        off[r] = (size_t)r * bytes;
        cnt[r] = bytes;
    }
    memcpy((char *)all + off[c->rank], mine, bytes);
    ring_allgather(c, all, MPI_BYTE, 1, off, cnt);
}

void occam_comm_allgatherv_bytes(const occam_comm *c, const void *mine, void *all,
                                 const size_t *counts)
{
    if (solo(c)) {
        memcpy(all, mine, counts[0]);
        return;
    }
    int n = c->size, cnt[n], displs[n];
    size_t off[n], total = 0;
    bool fits = true;
    for (int r = 0; r < n; r++) {
        off[r] = total;
        total += counts[r];
        fits &= counts[r] <= piece && off[r] <= piece;
    }
    if (!fits) {
        memcpy((char *)all + off[c->rank], mine, counts[c->rank]);
        ring_allgather(c, all, MPI_BYTE, 1, off, counts);
        return;
    }
    for (int r = 0; r < n; r++) {
        cnt[r] = (int)counts[r];
        displs[r] = (int)off[r];
    }
    MPI_Allgatherv(mine, cnt[c->rank], MPI_BYTE, all, cnt, displs, MPI_BYTE, MPI_COMM_WORLD);
}

int occam_comm_agree(const occam_comm *c, int rc, int *who)
{
    if (solo(c)) {
        *who = rc == OCCAM_OK ? -1 : c ? c->rank : 0;
        return rc;
    }
    int n = c->size, *all = malloc(sizeof(int) * (size_t)n);
    if (!all) occam_comm_abort(1);
    MPI_Allgather(&rc, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    int out = OCCAM_OK;
    *who = -1;
    for (int r = 0; r < n; r++)
        if (all[r] != OCCAM_OK) {
            out = all[r];
            *who = r;
            break;
        }
    free(all);
    return out;
}

void occam_comm_host(char *out, size_t n)
{
    if (n == 0) return;
    if (gethostname(out, n) != 0) snprintf(out, n, "?");
    out[n - 1] = '\0';
}
