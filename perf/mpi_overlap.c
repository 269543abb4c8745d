/* Does a nonblocking allreduce overlap with computation under this MPI library?
 *
 *   perf/mpi_overlap.sh [MB] [ROUNDS]   (builds this with mpicc and runs it on 2 ranks)
 *
 * The question behind occam's shard path: its gradient allreduce could be started per layer
 * (bucketed) while the backward pass of the layers below runs, and completed before the
 * update. That pays only if the library moves the data while the rank computes. Each rank
 * here times, for a gradient of MB megabytes and a compute phase of about the allreduce's own
 * length (a memory-bound triad over 64 MiB, no MPI calls inside, as a BLIS GEMM would be):
 *   blocking   compute, then MPI_Allreduce
 *   overlapped MPI_Iallreduce, compute, MPI_Wait
 *   polled     MPI_Iallreduce, compute in 16 slices with an MPI_Test after each, MPI_Wait
 * and prints the medians as JSON. overlapped ≈ blocking means no progress without MPI calls
 * (Open MPI's default: no progress thread); polled shows what calls between layers could buy. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double now(void) { return MPI_Wtime(); }

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One slice of the compute phase: a[i] = b[i] + s·c[i] over part k of `parts`, `reps` times. */
static void work(float *a, const float *b, const float *c, size_t n, int reps, int k, int parts)
{
    size_t lo = n * (size_t)k / (size_t)parts, hi = n * (size_t)(k + 1) / (size_t)parts;
    for (int r = 0; r < reps; r++)
        for (size_t i = lo; i < hi; i++) a[i] = b[i] + 1.0001f * c[i];
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    double mb = argc > 1 ? atof(argv[1]) : 32.0;
    int rounds = argc > 2 ? atoi(argv[2]) : 7;
    size_t n = (size_t)(mb * 1e6 / 4), m = (size_t)16 << 20;
    float *g = malloc(n * sizeof *g), *a = malloc(m * 4), *b = malloc(m * 4), *c = malloc(m * 4);
    if (!g || !a || !b || !c) MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t i = 0; i < n; i++) g[i] = (float)(i % 1000) * 1e-3f;
    for (size_t i = 0; i < m; i++) a[i] = b[i] = c[i] = 1.0f;

    /* calibrate: the allreduce alone, and compute reps to match it */
    double t0 = now();
    MPI_Allreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    double t_ar = now() - t0;
    t0 = now();
    work(a, b, c, m, 1, 0, 1);
    double t_rep = now() - t0;
    int reps = (int)(t_ar / t_rep) + 1;
    MPI_Bcast(&reps, 1, MPI_INT, 0, MPI_COMM_WORLD);

    double *bl = malloc(sizeof(double) * (size_t)rounds), *ov = malloc(sizeof(double) * (size_t)rounds);
    double *po = malloc(sizeof(double) * (size_t)rounds), *cm = malloc(sizeof(double) * (size_t)rounds);
    double *ar = malloc(sizeof(double) * (size_t)rounds);
    for (int r = 0; r < rounds; r++) {
        MPI_Request q;
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = now();
        work(a, b, c, m, reps, 0, 1);
        cm[r] = now() - t0;
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = now();
        MPI_Allreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        ar[r] = now() - t0;
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = now();
        work(a, b, c, m, reps, 0, 1);
        MPI_Allreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        bl[r] = now() - t0;
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = now();
        MPI_Iallreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &q);
        work(a, b, c, m, reps, 0, 1);
        MPI_Wait(&q, MPI_STATUS_IGNORE);
        ov[r] = now() - t0;
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = now();
        MPI_Iallreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &q);
        for (int k = 0; k < 16; k++) {
            int done;
            work(a, b, c, m, reps, k, 16);
            MPI_Test(&q, &done, MPI_STATUS_IGNORE);
        }
        MPI_Wait(&q, MPI_STATUS_IGNORE);
        po[r] = now() - t0;
    }
    if (rank == 0) {
        double C = median(cm, rounds), A = median(ar, rounds), B = median(bl, rounds);
        double O = median(ov, rounds), P = median(po, rounds);
        /* hidden: the share of the allreduce's time that the overlap saved */
        printf("{\"bench\": \"mpi_overlap\", \"ranks\": %d, \"mb\": %.1f, \"rounds\": %d, "
               "\"compute_ms\": %.3f, \"allreduce_ms\": %.3f, \"blocking_ms\": %.3f, "
               "\"overlapped_ms\": %.3f, \"polled_ms\": %.3f, \"hidden_overlapped\": %.3f, "
               "\"hidden_polled\": %.3f}\n", size, mb, rounds, 1e3 * C, 1e3 * A, 1e3 * B,
               1e3 * O, 1e3 * P, (B - O) / A, (B - P) / A);
    }
    free(g), free(a), free(b), free(c), free(bl), free(ov), free(po), free(cm), free(ar);
    MPI_Finalize();
    return 0;
}
