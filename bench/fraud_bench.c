/* bench/fraud_bench.c: fraud-bench, the speed of the lecture's fraud
 * autoencoder (30-100-100-15-100-100-30, tanh, sum of squared errors, Adam,
 * batch 2048) on the current device:
 *   1. the counters of one steady-state training step (device allocations,
 *      program builds, host syncs: 0, 0, 0 without a loss read) and its
 *      kernel launches and GEMMs, the time of a step and where ten steps
 *      spend their device time (clg_context_set_profiling);
 *   2. epochs over 284,807 x 30 rows (the public data set's size) written
 *      by the synthetic generator and MinMax-scaled, through
 *      lecture_autoencoder_train_epoch: seconds and samples/s of the fastest
 *      of --epochs (default 2; on a shared machine slower ones measure the
 *      other load).
 * The epoch runs over every row, frauds included, with all-zero labels: the
 * trainer refuses fraud labels, but what is measured here is the speed of an
 * epoch of that size, not detection. bench/pytorch_autoencoder.py runs the
 * same epoch in PyTorch; bench/run.sh prints the ratio. Lines starting with
 * "result" are for scripts.
 *   fraud-bench [--rows N] [--epochs N] [--batch N]   */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clgrad/clgrad.h"
#include "lecture/lecture.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int die(clg_context *ctx, const char *what)
{
    fprintf(stderr, "fraud-bench: %s: %s\n", what, ctx ? clg_context_error(ctx) : "no context");
    return 1;
}

/* One step as the trainer takes it, without the loss read. */
static void step(clg_context *ctx, clg_model *model, clg_optim *opt, const float *x, int64_t n)
{
    clg_step_begin(ctx);
    clg_tensor *xt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, 30}, x);
    clg_tensor *loss = clg_mse_loss(clg_model_forward(model, xt), xt, CLG_REDUCTION_SUM);
    clg_optim_zero_grad(opt);
    clg_backward(loss);
    clg_optim_step(opt);
    clg_step_end(ctx);
}

int main(int argc, char **argv)
{
    int64_t rows = 284807, batch = 2048;
    int epochs = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rows") == 0)
            rows = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--epochs") == 0)
            epochs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = atoll(argv[i + 1]);
    }
    if (rows < 4 || batch < 1 || epochs < 1) {
        fprintf(stderr, "usage: fraud-bench [--rows N>=4] [--epochs N] [--batch N]\n");
        return 2;
    }
    setenv("POCL_AFFINITY", "1", 0);
    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK)
        return die(ctx, "context");
    printf("fraud-bench on %s: autoencoder 30-100-100-15-100-100-30, batch %lld\n",
           clg_context_device_name(ctx), (long long)batch);

    char path[] = "/tmp/fraud-bench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return die(NULL, "temporary file");
    close(fd);
    double t0 = now();
    clg_fraud_data *data = NULL;
    if (clg_fraud_write_synthetic(ctx, path, rows, 1, NULL) == CLG_STATUS_OK)
        data = clg_fraud_read_csv(ctx, path);
    unlink(path);
    if (!data)
        return die(ctx, "synthetic data");
    printf("  %lld synthetic rows written and read back in %.2f s\n", (long long)rows, now() - t0);
    int64_t *all = malloc((size_t)rows * sizeof *all);
    float *x = malloc((size_t)rows * 30 * sizeof *x);
    int32_t *labels = calloc((size_t)rows, sizeof *labels);
    if (!all || !x || !labels)
        return die(NULL, "out of host memory");
    for (int64_t i = 0; i < rows; i++)
        all[i] = i;
    float lo[30], hi[30];
    clg_minmax_fit(ctx, clg_fraud_data_features(data), 30, all, rows, lo, hi);
    clg_minmax_transform(lo, hi, 30, clg_fraud_data_features(data), rows, x);

    static const int64_t hidden[] = {100, 100};
    clg_model *model = clg_zoo_autoencoder_create(ctx, 30, hidden, 2, 15, 1);
    clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM);
    clg_optim *opt = model ? clg_optim_create(ctx, clg_model_params(model), &adam) : NULL;
    if (!opt)
        return die(ctx, "model");

    /* Two steps first (kernel builds, arena growth), the counters over the
     * third, then ten timed. */
    int64_t n = batch < rows ? batch : rows;
    for (int i = 0; i < 2; i++)
        step(ctx, model, opt, x, n);
    clg_finish(ctx);
    clg_counters before, after;
    clg_counters_get(ctx, &before);
    step(ctx, model, opt, x, n);
    clg_counters_get(ctx, &after);
    printf("  one steady-state step: %llu device allocations, %llu program builds, %llu host "
           "syncs, %llu kernel launches, %llu GEMMs\n",
           (unsigned long long)(after.device_allocations - before.device_allocations),
           (unsigned long long)(after.program_builds - before.program_builds),
           (unsigned long long)(after.host_syncs - before.host_syncs),
           (unsigned long long)(after.kernel_launches - before.kernel_launches),
           (unsigned long long)(after.gemm_calls - before.gemm_calls));
    clg_finish(ctx);
    t0 = now();
    for (int i = 0; i < 10; i++)
        step(ctx, model, opt, x, n);
    clg_finish(ctx);
    double step_seconds = (now() - t0) / 10.0;
    printf("  one step of %lld rows: %.1f ms\n", (long long)n, 1e3 * step_seconds);

    /* Where ten steps spend their device time, the largest first. */
    clg_profile_entry top[8];
    if (clg_context_set_profiling(ctx, true) != CLG_STATUS_OK)
        return die(ctx, "profiling");
    for (int i = 0; i < 10; i++)
        step(ctx, model, opt, x, n);
    size_t kinds = clg_profile_get(ctx, top, 8);
    if (clg_context_set_profiling(ctx, false) != CLG_STATUS_OK)
        return die(ctx, "profiling");
    printf("  device time of ten steps by kernel (top %zu of %zu):\n", kinds < 8 ? kinds : 8,
           kinds);
    for (size_t i = 0; i < kinds && i < 8; i++)
        printf("    %-28s %5llu launches %8.1f ms\n", top[i].name, (unsigned long long)top[i].count,
               1e3 * top[i].seconds);

    lecture_autoencoder_options options = lecture_autoencoder_options_default();
    options.batch = batch;
    lecture_autoencoder_trainer *trainer =
        lecture_autoencoder_trainer_create(model, x, labels, rows, &options);
    if (!trainer)
        return die(ctx, "trainer");
    double best = 0.0;
    for (int e = 0; e < epochs; e++) {
        double loss = 0.0;
        t0 = now();
        if (lecture_autoencoder_train_epoch(trainer, &loss) != CLG_STATUS_OK)
            return die(ctx, "epoch");
        double seconds = now() - t0;
        best = e == 0 || seconds < best ? seconds : best;
        printf("  epoch of %lld rows: %.2f s, %.0f samples/s, mean loss %.4f\n", (long long)rows,
               seconds, (double)rows / seconds, loss);
    }
    printf("result fraud epoch_seconds=%.4f samples=%lld samples_per_second=%.1f "
           "step_ms=%.2f\n",
           best, (long long)rows, (double)rows / best, 1e3 * step_seconds);
    lecture_autoencoder_trainer_destroy(trainer);
    clg_optim_destroy(opt);
    clg_model_destroy(model);
    clg_fraud_data_destroy(data);
    free(all);
    free(x);
    free(labels);
    clg_context_destroy(ctx);
    return 0;
}
