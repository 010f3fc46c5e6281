/* bench/clgrad_bench.c: clgrad-bench, the figures behind the performance
 * contract, on the current device (CLGRAD_DEVICE picks it):
 *   1. matmul GFLOP/s through clg_matmul against a direct CLBlastSgemm on the
 *      same buffers, n = 256 ... 2048;
 *   2. MLP 784-256-128-10 training, batch 128, Adam: one epoch of Fashion-MNIST
 *      (random data of the same shape without the dataset), samples/s;
 *   3. per steady-state step: device allocations, program builds, host syncs
 *      (0, 0 and 1 for the loss read);
 *   4. time from process start to the end of the first training step, run as
 *      a child with an empty kernel cache, then with warm ones;
 *   --parallelism: every launch of one steady-state step of the MLP (batch
 *      128) and LeNet-5 (batch 64) under the launch plan in force, from the
 *      real enqueue calls: work-groups below 64 work-items, and launches that
 *      starve a GPU (a buffer argument of at least 16,384 floats but fewer
 *      than 4,096 work-items). GEMMs are listed apart: through CLBlast they
 *      enqueue kernels of CLBlast's own sizes.
 * Lines starting with "result" are for scripts (bench/run.sh). Not part of
 * meson test: run on demand (bench/README.md).
 *
 * The direct CLBlast call needs the tensors' cl_mem and the context's queue,
 * which the public API hides on purpose; a benchmark may look inside, so this
 * file reads them through the private headers (engine/engine.h). */
#include <clblast_c.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clgrad/clgrad.h"
#include "engine/engine.h"

#define BATCH 128
#define FEATURES 784
#define CLASSES 10

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int die(const clg_context *ctx, const char *what)
{
    fprintf(stderr, "clgrad-bench: %s: %s\n", what, ctx ? clg_context_error(ctx) : "no context");
    return 1;
}

/* ---- 1. matmul ---- */

/* Repetitions per round so that all rounds of all sides take about
 * `budget` seconds, given one timed product. */
#define ROUNDS 5
static int reps_for(double one_run, double budget)
{
    int reps = one_run > 0 ? (int)(budget / (3 * ROUNDS * one_run)) : 20; /* 3 sides */
    return reps < 1 ? 1 : reps > 40 ? 40 : reps;
}

/* clgrad's way: each product in its own step, as in training; the arena makes
 * every step after the first allocation-free. */
static bool clgrad_products(clg_context *ctx, clg_tensor *a, clg_tensor *b, int reps)
{
    for (int r = 0; r < reps; r++) {
        clg_step_begin(ctx);
        clg_matmul(a, b);
        clg_step_end(ctx);
    }
    return clg_finish(ctx) == CLG_STATUS_OK && clg_context_status(ctx) == CLG_STATUS_OK;
}

/* CLBlast directly, on the same buffers, the way a C user would call it. */
static bool direct_products(clg_context *ctx, clg_tensor *a, clg_tensor *b, clg_tensor *c,
                            int64_t n, int reps)
{
    cl_command_queue queue = ctx->rt.queue;
    for (int r = 0; r < reps; r++) {
        CLBlastStatusCode code =
            CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, (size_t)n,
                         (size_t)n, (size_t)n, 1.0f, a->mem, a->offset, (size_t)n, b->mem,
                         b->offset, (size_t)n, 0.0f, c->mem, c->offset, (size_t)n, &queue, NULL);
        if (code != CLBlastSuccess) {
            fprintf(stderr, "clgrad-bench: CLBlastSgemm failed with %d\n", (int)code);
            return false;
        }
    }
    return clFinish(queue) == CL_SUCCESS;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Three sides, each on its own operands: clg_matmul as dispatched by default
 * (on a CPU, clgrad's own kernels), clg_matmul forced through CLBlast
 * (CLGRAD_GEMM=clblast, in a second context), and CLBlastSgemm called
 * directly on that second context's buffers and queue. The bridge's overhead
 * is the second against the third. */
enum { SIDE_DEFAULT, SIDE_BRIDGE, SIDE_DIRECT, SIDES };

static bool run_side(int side, clg_context *ctx, clg_context *blas, clg_tensor *const *t, int64_t n,
                     int reps)
{
    switch (side) {
    case SIDE_DEFAULT: return clgrad_products(ctx, t[0], t[1], reps);
    case SIDE_BRIDGE: return clgrad_products(blas, t[2], t[3], reps);
    default: return direct_products(blas, t[2], t[3], t[4], n, reps);
    }
}

static int bench_matmul(clg_context *ctx, clg_context *blas, int64_t n, double budget)
{
    int64_t shape[2] = {n, n};
    clg_tensor *t[5]; /* a and b in ctx; a, b and c in blas */
    for (int i = 0; i < 5; i++) {
        t[i] = clg_tensor_create(i < 2 ? ctx : blas, CLG_DTYPE_F32, 2, shape);
        if (!t[i] || clg_init_uniform(t[i], -1, 1, (uint64_t)(i % 2 + 1)) != CLG_STATUS_OK)
            return die(i < 2 ? ctx : blas, "matmul setup");
    }
    double flops = 2.0 * (double)n * (double)n * (double)n;
    const char *choice = clg_gemm_choice(ctx, &(clg_gemm_shape){n, n, n, 1, false, false});

    /* Warm-up (kernel builds, the arena's first chunk, CLBlast's temporary
     * buffer), then one timed product to size the rounds. */
    for (int side = 0; side < SIDES; side++)
        if (!run_side(side, ctx, blas, t, n, 2))
            return die(side == SIDE_DEFAULT ? ctx : blas, "matmul warm-up");
    double t0 = now();
    run_side(SIDE_BRIDGE, ctx, blas, t, n, 1);
    int reps = reps_for(now() - t0, budget);

    /* Rounds rotate which side goes first and each side's figure is its best
     * round (as Python's timeit advises: slower rounds measure other load,
     * not the code), so that a slow spell on a shared machine does not land
     * on one side only. */
    double seconds[SIDES][ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        for (int turn = 0; turn < SIDES; turn++) {
            int side = (round + turn) % SIDES;
            t0 = now();
            if (!run_side(side, ctx, blas, t, n, reps))
                return die(side == SIDE_DEFAULT ? ctx : blas, "matmul");
            seconds[side][round] = (now() - t0) / reps;
        }
    }
    double gflops[SIDES];
    for (int side = 0; side < SIDES; side++) {
        qsort(seconds[side], ROUNDS, sizeof(double), compare_doubles);
        gflops[side] = flops / seconds[side][0] * 1e-9;
    }
    double ratio = gflops[SIDE_BRIDGE] / gflops[SIDE_DIRECT];
    printf("  %-6lld %9.2f  %-12s %12.2f %15.2f %11.1f%%   (best of %d rounds of %d)\n",
           (long long)n, gflops[SIDE_DEFAULT], choice, gflops[SIDE_BRIDGE], gflops[SIDE_DIRECT],
           100.0 * ratio, ROUNDS, reps);
    printf("result matmul n=%lld default=%s default_gflops=%.3f clgrad_clblast_gflops=%.3f "
           "clblast_gflops=%.3f ratio=%.4f\n",
           (long long)n, choice, gflops[SIDE_DEFAULT], gflops[SIDE_BRIDGE], gflops[SIDE_DIRECT],
           ratio);
    for (int i = 0; i < 5; i++)
        clg_tensor_destroy(t[i]);
    return 0;
}

/* ---- 2-4. MLP training ---- */

typedef struct mlp_run {
    clg_context *ctx;
    clg_model *model;
    clg_optim *opt;
    float x[BATCH * FEATURES];
    int32_t y[BATCH];
    /* the last step's loss read, started but not yet waited for */
    clg_read read;
    float losses[2];
    int64_t steps;
} mlp_run;

/* The MLP, or with lenet LeNet-5 (bench/pytorch_lenet5.py's model). */
static bool mlp_setup(mlp_run *r, clg_context *ctx, bool lenet)
{
    r->ctx = ctx;
    r->model = lenet ? clg_zoo_lenet5_create(ctx, NULL, NULL, 42)
                     : clg_zoo_mlp_create(ctx, FEATURES, (int64_t[]){256, 128}, 2, CLASSES, 42);
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAM);
    r->opt = r->model ? clg_optim_create(ctx, clg_model_params(r->model), &o) : NULL;
    return r->opt != NULL;
}

/* Waits for the last step's loss read; *loss_value = that loss. */
static bool mlp_finish(mlp_run *r, float *loss_value)
{
    if (!r->read.pending)
        return true;
    bool ok = clg_read_wait(&r->read) == CLG_STATUS_OK;
    *loss_value = r->losses[(r->steps - 1) % 2];
    return ok;
}

static void mlp_release(mlp_run *r)
{
    float loss;
    mlp_finish(r, &loss);
    clg_optim_destroy(r->opt);
    clg_model_destroy(r->model);
}

/* One step on r->x, r->y (count rows), reading every step's loss as a
 * training loop that reports it would, without idling the device: the
 * step's read is started, then the previous step's waited for (the step's
 * one host sync) while this one runs, so the host gathers and enqueues the
 * next step meanwhile. *loss_value is the previous step's loss (untouched
 * on the first step); mlp_finish waits for the last. */
static bool mlp_step(mlp_run *r, int64_t count, float *loss_value)
{
    clg_step_begin(r->ctx);
    clg_tensor *x =
        clg_tensor_from_host(r->ctx, CLG_DTYPE_F32, 2, (int64_t[]){count, FEATURES}, r->x);
    clg_tensor *y = clg_tensor_from_host(r->ctx, CLG_DTYPE_I32, 1, (int64_t[]){count}, r->y);
    clg_tensor *loss =
        clg_cross_entropy_loss(clg_model_forward(r->model, x), y, CLG_REDUCTION_MEAN);
    clg_optim_zero_grad(r->opt);
    clg_backward(loss);
    clg_optim_step(r->opt);
    clg_read read = {0};
    bool ok =
        loss && clg_tensor_read_start(loss, &r->losses[r->steps % 2], 1, &read) == CLG_STATUS_OK;
    clg_step_end(r->ctx);
    if (ok && !mlp_finish(r, loss_value))
        ok = false;
    r->read = read;
    r->steps++;
    return ok;
}

static void random_batch(mlp_run *r, uint64_t *state)
{
    for (int i = 0; i < BATCH * FEATURES; i++) {
        *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
        r->x[i] = (float)(*state >> 40) / (float)(1 << 24);
    }
    for (int i = 0; i < BATCH; i++)
        r->y[i] = (int32_t)(i % CLASSES);
}

/* batch <= BATCH: the MLP takes BATCH, LeNet-5 64 (the figure). */
/* With --profile: PROFILE_STEPS more steps on the last batch with OpenCL
 * profiling events on (clg_context_set_profiling), then the device time per
 * kernel name per step, GEMMs included, and the wall time of those steps,
 * whose difference is what the host and the driver add between commands. */
#define PROFILE_STEPS 20
static int profile_steps(mlp_run *r, int64_t batch)
{
    clg_profile_entry top[16];
    float loss = 0.0f;
    if (clg_context_set_profiling(r->ctx, true) != CLG_STATUS_OK)
        return die(r->ctx, "profiling");
    double t0 = now();
    for (int i = 0; i < PROFILE_STEPS; i++)
        if (!mlp_step(r, batch, &loss))
            return die(r->ctx, "training step");
    double wall = (now() - t0) / PROFILE_STEPS;
    size_t kinds = clg_profile_get(r->ctx, top, 16);
    if (clg_context_set_profiling(r->ctx, false) != CLG_STATUS_OK)
        return die(r->ctx, "profiling");
    double device = 0.0;
    for (size_t i = 0; i < kinds && i < 16; i++)
        device += top[i].seconds;
    printf("  device time per step by kernel over %d profiled steps (top %zu of %zu; wall %.3f ms "
           "per step, profiled):\n",
           PROFILE_STEPS, kinds < 16 ? kinds : (size_t)16, kinds, 1e3 * wall);
    for (size_t i = 0; i < kinds && i < 16; i++)
        printf("    %-34s %6.2f launches %8.3f ms %5.1f%%\n", top[i].name,
               (double)top[i].count / PROFILE_STEPS, 1e3 * top[i].seconds / PROFILE_STEPS,
               100.0 * top[i].seconds / device);
    return 0;
}

static int bench_training(clg_context *ctx, const char *data_dir, bool quick, bool lenet,
                          int64_t batch, bool profile)
{
    mlp_run *r = calloc(1, sizeof *r);
    clg_dataset *train = NULL;
    clg_batcher *batcher = NULL;
    if (!r || !mlp_setup(r, ctx, lenet))
        return die(ctx, "mlp setup");
    train = clg_dataset_load_mnist(ctx, data_dir, true);
    if (!train) {
        printf("  (no Fashion-MNIST in %s: random data of the same shape)\n", data_dir);
        clg_context_clear_error(ctx);
    }
    int64_t size = train ? clg_dataset_size(train) : 60000;
    if (quick)
        size = size < 12800 ? size : 12800;
    batcher = clg_batcher_create(ctx, size, batch, true, false, 42);
    uint64_t state = 1;
    float loss = 0.0f;

    /* Two steps first: the first builds every kernel, the second may still
     * grow the step arena to its final size. */
    random_batch(r, &state);
    for (int i = 0; i < 2; i++)
        if (!mlp_step(r, batch, &loss))
            return die(ctx, "training step");

    /* The counters over one steady-state step. */
    clg_counters before, after;
    clg_counters_get(ctx, &before);
    if (!mlp_step(r, batch, &loss))
        return die(ctx, "training step");
    clg_counters_get(ctx, &after);
    printf("  one steady-state step: %llu device allocations, %llu program builds, %llu host "
           "syncs, %llu kernel launches, %llu GEMMs\n",
           (unsigned long long)(after.device_allocations - before.device_allocations),
           (unsigned long long)(after.program_builds - before.program_builds),
           (unsigned long long)(after.host_syncs - before.host_syncs),
           (unsigned long long)(after.kernel_launches - before.kernel_launches),
           (unsigned long long)(after.gemm_calls - before.gemm_calls));

    /* One epoch (batch gathering included, as in a real loop), from no
     * read pending. */
    if (!mlp_finish(r, &loss))
        return die(ctx, "training step");
    clg_counters_get(ctx, &before);
    clg_batcher_begin_epoch(batcher);
    const int64_t *indices;
    int64_t count, steps = 0, samples = 0;
    double t0 = now();
    while (clg_batcher_next(batcher, &indices, &count)) {
        if (train)
            clg_dataset_gather(train, indices, count, r->x, r->y);
        if (!mlp_step(r, count, &loss))
            return die(ctx, "training step");
        steps++;
        samples += count;
    }
    if (!mlp_finish(r, &loss)) /* the epoch ends with its last loss read */
        return die(ctx, "training step");
    double seconds = now() - t0;
    clg_counters_get(ctx, &after);
    double per_step = 1.0 / (double)steps;
    printf("  epoch of %lld samples (%lld steps): %.2f s, %.0f samples/s, final loss %.4f\n",
           (long long)samples, (long long)steps, seconds, (double)samples / seconds, (double)loss);
    printf("  per step over the epoch: %.2f device allocations, %.2f program builds, %.2f host "
           "syncs\n",
           (double)(after.device_allocations - before.device_allocations) * per_step,
           (double)(after.program_builds - before.program_builds) * per_step,
           (double)(after.host_syncs - before.host_syncs) * per_step);
    printf("result %s samples=%lld epoch_seconds=%.4f samples_per_second=%.1f "
           "allocations_per_step=%.4f builds_per_step=%.4f syncs_per_step=%.4f data=%s\n",
           lenet ? "lenet5" : "mlp", (long long)samples, seconds, (double)samples / seconds,
           (double)(after.device_allocations - before.device_allocations) * per_step,
           (double)(after.program_builds - before.program_builds) * per_step,
           (double)(after.host_syncs - before.host_syncs) * per_step,
           train ? "fashion-mnist" : "random");
    if (profile && profile_steps(r, batch) != 0)
        return 1;
    clg_batcher_destroy(batcher);
    clg_dataset_destroy(train);
    mlp_release(r);
    free(r);
    return 0;
}

/* One steady-state step traced: a line per model, and with `verbose` a line
 * per launch. */
#define GPU_GROUP_MIN 64
#define STARVED_BUFFER 16384
#define STARVED_ITEMS 4096
static int bench_parallelism(clg_context *ctx, bool lenet, int64_t batch, bool verbose)
{
    mlp_run *r = calloc(1, sizeof *r);
    if (!r || !mlp_setup(r, ctx, lenet))
        return die(ctx, "model setup");
    uint64_t state = 1;
    float loss;
    random_batch(r, &state);
    for (int i = 0; i < 2; i++)
        if (!mlp_step(r, batch, &loss))
            return die(ctx, "training step");
    /* The trace's fields are private (cl/runtime.h); a benchmark may look
     * inside, as the matmul section does with the queue. */
    clrt *rt = &ctx->rt;
    rt->trace.n = 0;
    rt->trace.on = true;
    bool ok = mlp_step(r, batch, &loss);
    rt->trace.on = false;
    if (!ok)
        return die(ctx, "training step");
    int launches = 0, small = 0, starved = 0, gemms = 0, gemms_starved = 0;
    const char *model = lenet ? "lenet5" : "mlp";
    for (int i = 0; i < rt->trace.n; i++) {
        const clrt_launch_record *l = &rt->trace.records[i];
        bool is_small = !l->gemm && l->local < GPU_GROUP_MIN;
        bool is_starved = l->largest >= STARVED_BUFFER && l->global < STARVED_ITEMS;
        if (l->gemm) {
            gemms++;
            gemms_starved += is_starved; /* few outputs over a long inner size */
        } else {
            launches++;
            small += is_small;
            starved += is_starved;
        }
        if (verbose)
            printf("  %-6s %-40s global %8zu local %4zu largest %8zu%s%s\n", model, l->kernel,
                   l->global, l->local, l->largest, is_small ? "  SMALL-GROUP" : "",
                   is_starved ? "  STARVED" : "");
    }
    printf("result parallelism plan=%s model=%s launches=%d small_groups=%d starved=%d gemms=%d "
           "gemms_starved=%d\n",
           rt->plan.name, model, launches, small, starved, gemms, gemms_starved);
    mlp_release(r);
    free(r);
    return 0;
}

/* The child's side of the start-up measurement: from main() to the end of the
 * first step, on random data (the dataset's unzipping is not start-up). */
static int first_step(double start)
{
    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK)
        return die(ctx, "context");
    mlp_run *r = calloc(1, sizeof *r);
    uint64_t state = 1;
    float loss;
    if (!r || !mlp_setup(r, ctx, false))
        return die(ctx, "mlp setup");
    random_batch(r, &state);
    if (!mlp_step(r, BATCH, &loss) || !mlp_finish(r, &loss))
        return die(ctx, "first step");
    double seconds = now() - start;
    clg_counters counters;
    clg_counters_get(ctx, &counters);
    printf("%.4f %llu %llu\n", seconds, (unsigned long long)counters.program_builds,
           (unsigned long long)counters.disk_cache_hits);
    mlp_release(r);
    free(r);
    clg_context_destroy(ctx);
    return 0;
}

/* Runs this program as `self --first-step` with the given caches and reads
 * back its time; false when the child failed. */
static bool run_child(const char *self, const char *clgrad_cache, const char *pocl_cache,
                      bool pocl_cache_on, double *seconds, unsigned long long *builds,
                      unsigned long long *hits)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        setenv("CLGRAD_CACHE_DIR", clgrad_cache, 1);
        unsetenv("CLGRAD_CACHE");
        setenv("POCL_CACHE_DIR", pocl_cache, 1);
        setenv("POCL_KERNEL_CACHE", pocl_cache_on ? "1" : "0", 1);
        execl(self, self, "--first-step", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char text[128] = "";
    size_t used = 0;
    ssize_t got;
    while (used + 1 < sizeof text && (got = read(fds[0], text + used, sizeof text - 1 - used)) > 0)
        used += (size_t)got;
    text[used] = '\0';
    close(fds[0]);
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 &&
           sscanf(text, "%lf %llu %llu", seconds, builds, hits) == 3;
}

static int bench_startup(const char *self)
{
    char root[] = "/tmp/clgrad-bench-XXXXXX";
    if (!mkdtemp(root)) {
        fprintf(stderr, "clgrad-bench: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char clgrad_cache[64], pocl_cache[64];
    snprintf(clgrad_cache, sizeof clgrad_cache, "%s/clgrad", root);
    snprintf(pocl_cache, sizeof pocl_cache, "%s/pocl", root);

    static const struct {
        const char *label;
        bool pocl_cache;
    } runs[] = {
        {"empty caches (clgrad's and PoCL's)      ", false},
        {"warm clgrad cache, PoCL cache off       ", false},
        {"warm clgrad cache, PoCL cache filling   ", true},
        {"warm clgrad cache and PoCL cache        ", true},
    };
    int code = 0;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        double seconds;
        unsigned long long builds, hits;
        if (!run_child(self, clgrad_cache, pocl_cache, runs[i].pocl_cache, &seconds, &builds,
                       &hits)) {
            fprintf(stderr, "clgrad-bench: the --first-step child failed\n");
            code = 1;
            break;
        }
        printf("  %s %6.3f s  (%llu program builds, %llu from clgrad's disk cache)\n",
               runs[i].label, seconds, builds, hits);
        printf("result first_step case=%zu seconds=%.4f builds=%llu cache_hits=%llu\n", i, seconds,
               builds, hits);
    }
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", root);
    if (system(command) != 0)
        fprintf(stderr, "clgrad-bench: could not remove %s\n", root);
    return code;
}

static const char usage[] =
    "usage: clgrad-bench [--quick] [--data DIR] [--no-matmul] [--no-training] [--no-startup]\n"
    "                    [--profile]\n"
    "       clgrad-bench --parallelism [--verbose]\n"
    "Prints matmul GFLOP/s (clg_matmul and direct CLBlastSgemm), MLP and LeNet-5 training\n"
    "samples/s, the counters of a steady-state step and the time to the first step with\n"
    "cold and warm kernel caches, on the device CLGRAD_DEVICE picks. --quick: smaller runs.\n"
    "--parallelism: every launch of one training step of the MLP and LeNet-5 under the\n"
    "launch plan in force (CLGRAD_LAUNCH), counting small work-groups and starved launches.\n"
    "--profile: after each timed epoch, the device time per kernel of 20 more steps.\n";

int main(int argc, char **argv)
{
    double start = now();
    setenv("POCL_AFFINITY", "1", 0); /* see README.md: else PoCL's threads may share a core */
    const char *data_dir = CLG_FASHION_MNIST_DIR;
    bool quick = false, matmul = true, training = true, startup = true;
    bool parallelism = false, verbose = false, profile = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--first-step") == 0)
            return first_step(start);
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--no-matmul") == 0)
            matmul = false;
        else if (strcmp(argv[i], "--no-training") == 0)
            training = false;
        else if (strcmp(argv[i], "--no-startup") == 0)
            startup = false;
        else if (strcmp(argv[i], "--parallelism") == 0)
            parallelism = true;
        else if (strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--profile") == 0)
            profile = true;
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else {
            fputs(usage, strcmp(argv[i], "--help") == 0 ? stdout : stderr);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }

    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK)
        return die(ctx, "context");
    printf("clgrad-bench on %s (POCL_AFFINITY=%s)\n", clg_context_device_name(ctx),
           getenv("POCL_AFFINITY"));
    int code = 0;
    if (parallelism) {
        code = bench_parallelism(ctx, false, BATCH, verbose);
        if (code == 0)
            code = bench_parallelism(ctx, true, 64, verbose);
        clg_context_destroy(ctx);
        return code;
    }
    if (matmul) {
        /* The second context sends every product through CLBlast. */
        const char *gemm = getenv("CLGRAD_GEMM");
        char *saved = gemm ? strdup(gemm) : NULL;
        setenv("CLGRAD_GEMM", "clblast", 1);
        clg_context *blas = NULL;
        if (clg_context_create(NULL, &blas) != CLG_STATUS_OK)
            code = die(blas, "context with CLGRAD_GEMM=clblast");
        if (saved)
            setenv("CLGRAD_GEMM", saved, 1);
        else
            unsetenv("CLGRAD_GEMM");
        free(saved);
        printf(
            "\nmatmul, n x n times n x n, float32, GFLOP/s. clg_matmul as dispatched, "
            "clg_matmul\nthrough CLBlast (CLGRAD_GEMM=clblast), CLBlastSgemm called "
            "directly:\n"
            "  n      clg_matmul  its choice    via CLBlast  CLBlastSgemm  via CLBlast/direct\n");
        static const int64_t sizes[] = {256, 512, 1024, 2048};
        for (size_t i = 0; i < (quick ? 3u : 4u) && code == 0; i++)
            code = bench_matmul(ctx, blas, sizes[i], quick ? 0.5 : 2.0);
        clg_context_destroy(blas);
    }
    if (training && code == 0) {
        printf(
            "\nMLP 784-256-128-10, batch %d, Adam, loss read every step (while the next runs):\n",
            BATCH);
        code = bench_training(ctx, data_dir, quick, false, BATCH, profile);
    }
    if (training && code == 0) {
        printf("\nLeNet-5 (relu, max pool), batch 64, Adam, loss read every step (while the next "
               "runs):\n");
        code = bench_training(ctx, data_dir, quick, true, 64, profile);
    }
    clg_context_destroy(ctx);
    if (startup && code == 0) {
        printf("\ntime from process start to the end of the first training step:\n");
        code = bench_startup("/proc/self/exe");
    }
    return code;
}
