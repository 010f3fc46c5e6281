/* bench/dist_bench.c: data-parallel training speed (include/clgrad/dist.h).
 * Run plainly, it runs itself under `mpirun -np 1` and `-np 2` and prints
 * both; under mpirun it measures, for the MLP, LeNet-5 and the LSTM of
 * `clgrad train`, training samples/s at a global batch of 128 split across
 * the ranks (random data of Fashion-MNIST's shape), the share of step time
 * rank 0 spends blocked waiting for the gradient allreduce, and the gradient
 * bytes each rank sends per step (what README.md's cost model needs).
 *
 *     build/bench/dist-bench            # -np 1 and -np 2
 *     mpirun -np 4 build/bench/dist-bench --steps 20
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

#include "clgrad/clgrad.h"
#include "clgrad/dist.h"

#define BATCH 128
#define PIXELS 784
#define CLASSES 10

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static clg_model *make(clg_context *ctx, const char *name)
{
    if (strcmp(name, "mlp") == 0)
        return clg_zoo_mlp_create(ctx, PIXELS, (const int64_t[]){256, 128}, 2, CLASSES, 1);
    if (strcmp(name, "lenet5") == 0)
        return clg_zoo_lenet5_create(ctx, NULL, NULL, 1);
    return clg_zoo_recurrent_create(ctx, "lstm", 28, 28, 128, CLASSES, 1);
}

/* One model: `steps` timed steps after three warm-up ones. */
static int measure(clg_context *ctx, const char *name, int steps, int rank, int size)
{
    clg_model *model = make(ctx, name);
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAM);
    clg_optim *opt = model ? clg_optim_create(ctx, clg_model_params(model), &o) : NULL;
    clg_dist *dist = opt ? clg_dist_create(ctx, MPI_COMM_WORLD, clg_model_params(model), NULL)
                         : NULL;
    if (!dist) {
        fprintf(stderr, "dist-bench: %s: %s\n", name, clg_context_error(ctx));
        return 1;
    }
    int64_t first = BATCH * rank / size, n = BATCH * (rank + 1) / size - first;
    clg_dist_set_grad_scale(dist, (float)n / BATCH);
    float *x = malloc((size_t)(n * PIXELS) * sizeof *x);
    int32_t *y = malloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n * PIXELS; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (int64_t i = 0; i < n; i++)
        y[i] = (int32_t)(i % CLASSES);
    clg_dist_stats before = {0};
    double start = 0.0;
    bool ok = true;
    for (int step = 0; ok && step < steps + 3; step++) {
        if (step == 3) {
            MPI_Barrier(MPI_COMM_WORLD);
            clg_dist_stats_get(dist, &before);
            start = now();
        }
        clg_step_begin(ctx);
        clg_tensor *xs = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){n, PIXELS}, x);
        clg_tensor *ys = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, &n, y);
        clg_tensor *loss =
            clg_cross_entropy_loss(clg_model_forward(model, xs), ys, CLG_REDUCTION_MEAN);
        clg_optim_zero_grad(opt);
        clg_backward(loss);
        clg_dist_wait(dist);
        clg_optim_step(opt);
        float value; /* read every step, as a loop reporting its loss would */
        ok = clg_tensor_item(loss, &value) == CLG_STATUS_OK;
        clg_step_end(ctx);
    }
    double seconds = now() - start, slowest = 0.0;
    MPI_Allreduce(&seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    clg_dist_stats after;
    clg_dist_stats_get(dist, &after);
    if (!ok)
        fprintf(stderr, "dist-bench: %s: %s\n", name, clg_context_error(ctx));
    else if (rank == 0)
        printf("result %-7s ranks %d  %7.0f samples/s  %4.1f%% of step time waiting on the "
               "allreduce  %zu KiB of gradients per rank per step in %llu buckets\n",
               name, size, (double)steps * BATCH / slowest,
               100.0 * (after.wait_seconds - before.wait_seconds) / seconds,
               (size_t)(after.bytes_per_step >> 10), (unsigned long long)after.buckets);
    fflush(stdout);
    free(y);
    free(x);
    clg_dist_destroy(dist);
    clg_optim_destroy(opt);
    clg_model_destroy(model);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    int steps = 30;
    if (argc == 3 && strcmp(argv[1], "--steps") == 0)
        steps = atoi(argv[2]) > 0 ? atoi(argv[2]) : steps;
    if (!getenv("OMPI_COMM_WORLD_SIZE")) {
        /* Not under mpirun: run both sizes. */
        for (int ranks = 1; ranks <= 2; ranks++) {
            char command[4096];
            snprintf(command, sizeof command,
                     "%s --allow-run-as-root --oversubscribe -np %d '%s' --steps %d", MPIRUN,
                     ranks, argv[0], steps);
            printf("$ mpirun -np %d %s --steps %d\n", ranks, argv[0], steps);
            fflush(stdout);
            if (system(command) != 0)
                return 1;
        }
        return 0;
    }
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    clg_dist_setup(MPI_COMM_WORLD, NULL, NULL);
    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK) {
        fprintf(stderr, "dist-bench: %s\n", ctx ? clg_context_error(ctx) : "out of memory");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
        printf("%d ranks on %s (rank 0), global batch %d, %d steps\n", size,
               clg_context_device_name(ctx), BATCH, steps);
    const char *models[] = {"mlp", "lenet5", "lstm"};
    int failed = 0;
    for (int i = 0; i < 3 && !failed; i++)
        failed = measure(ctx, models[i], strcmp(models[i], "mlp") == 0 ? steps : steps / 3, rank,
                         size);
    clg_context_destroy(ctx);
    if (failed)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Finalize();
    return 0;
}
