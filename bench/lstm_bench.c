/* bench/lstm_bench.c: LSTM training throughput (issue 5): one layer of hidden
 * 128 over input 28, batch 64, sequence lengths 28, 100 and 400; a step is
 * forward over the sequence, a linear layer on the last hidden state, mean
 * cross-entropy, BPTT and an Adam update. Prints sequences/s, the 400/100
 * time ratio (linear cost in T gives 4.0), and device memory: what clg_lstm
 * keeps for BPTT (the four gates and the (h, c) sequence, 6 T N H floats,
 * which is what BPTT needs) beside the whole step arena's peak (every
 * intermediate and gradient of the step) from clg_memstats_get.
 *
 * usage: lstm-bench [reps] [profile]   (POCL_AFFINITY=1 unless set); with
 * "profile", per step, the device time and launches of the 16 kernels that
 * take the most, over the timed steps of each length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clgrad/clgrad.h>

enum { HIDDEN = 128, BATCH = 64, INPUT = 28, CLASSES = 10 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct net {
    clg_recurrent_layer *lstm;
    clg_linear *fc;
    clg_params *params;
    clg_optim *opt;
    clg_read read; /* the last step's loss read, until waited for */
    float loss[2];
    int64_t steps;
} net;

/* Waits for the last step's loss read (none pending: true). */
static bool finish(net *m)
{
    return !m->read.pending || clg_read_wait(&m->read) == CLG_STATUS_OK;
}

/* One training step; false on error. Its loss is read as a training loop
 * that reports every step's would, while the next step runs: the read
 * starts here and the previous step's is waited for (the step's one host
 * sync); finish waits for the last. */
static bool step(clg_context *ctx, net *m, const float *x, const int32_t *y, int64_t T)
{
    clg_step_begin(ctx);
    clg_tensor *xt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 3, (int64_t[]){T, BATCH, INPUT}, x);
    clg_tensor *yt = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, (int64_t[]){BATCH}, y);
    clg_tensor *h_n = NULL;
    clg_recurrent_layer_forward(m->lstm, xt, &h_n);
    clg_tensor *logits = clg_linear_forward(m->fc, clg_reshape(h_n, 2, (int64_t[]){BATCH, HIDDEN}));
    clg_tensor *loss = clg_cross_entropy_loss(logits, yt, CLG_REDUCTION_MEAN);
    clg_optim_zero_grad(m->opt);
    clg_backward(loss);
    clg_optim_step(m->opt);
    clg_read read = {0};
    bool ok = clg_tensor_read_start(loss, &m->loss[m->steps++ % 2], 1, &read) == CLG_STATUS_OK;
    clg_step_end(ctx);
    ok = finish(m) && ok;
    m->read = read;
    return ok;
}

int main(int argc, char **argv)
{
    setenv("POCL_AFFINITY", "1", 0);
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    if (reps < 1)
        reps = 1;
    bool profile = argc > 2 && strcmp(argv[2], "profile") == 0;
    const int64_t lengths[3] = {28, 100, 400};
    double seconds[3];
    int32_t y[BATCH];
    for (int i = 0; i < BATCH; i++)
        y[i] = i % CLASSES;
    printf("LSTM training step, hidden %d, batch %d, input %d (Adam; %d timed steps each)\n",
           HIDDEN, BATCH, INPUT, reps);
    for (int l = 0; l < 3; l++) {
        /* a fresh context per length, so its memory figures are its own */
        clg_context *ctx = NULL;
        if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK) {
            fprintf(stderr, "lstm-bench: %s\n", ctx ? clg_context_error(ctx) : "no context");
            return 1;
        }
        net m = {0};
        m.lstm = clg_recurrent_layer_create(ctx, CLG_CELL_LSTM, INPUT, HIDDEN, false, 1);
        m.fc = clg_linear_create(ctx, HIDDEN, CLASSES, true, 2);
        m.params = clg_params_create(ctx);
        clg_params_extend(m.params, "lstm.", clg_recurrent_layer_params(m.lstm));
        clg_params_extend(m.params, "fc.", clg_linear_params(m.fc));
        clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM);
        m.opt = clg_optim_create(ctx, m.params, &adam);
        int64_t T = lengths[l];
        float *x = malloc(sizeof(float) * (size_t)(T * BATCH * INPUT));
        for (int64_t i = 0; i < T * BATCH * INPUT; i++)
            x[i] = (float)((i * 7919) % 1000) / 1000.0f;
        clg_memstats before, after;
        clg_memstats_get(ctx, &before);
        /* warm-up: program builds, arena growth; after the second step the
         * arena is one chunk the size of a step's need */
        if (!m.opt || !step(ctx, &m, x, y, T) || !step(ctx, &m, x, y, T) || !finish(&m)) {
            fprintf(stderr, "lstm-bench: %s\n", clg_context_error(ctx));
            return 1;
        }
        clg_memstats_get(ctx, &after);
        if (profile)
            clg_context_set_profiling(ctx, true);
        double start = now();
        for (int r = 0; r < reps; r++)
            step(ctx, &m, x, y, T);
        finish(&m);
        seconds[l] = (now() - start) / reps;
        if (profile) {
            /* per step, the kernels that take the most device time */
            clg_profile_entry entries[16];
            size_t n = clg_profile_get(ctx, entries, 16);
            for (size_t e = 0; e < n && e < 16; e++)
                printf("  %-28s %7.1f launches %8.3f ms a step\n", entries[e].name,
                       (double)entries[e].count / reps, 1e3 * entries[e].seconds / reps);
        }
        double mib = 1048576.0, floats = (double)(T * BATCH * HIDDEN) * sizeof(float);
        printf("T = %3lld: %8.3f s per step, %8.1f sequences/s\n"
               "         saved for BPTT by clg_lstm: %.2f MiB = 6 T N H floats (gates i, f, g, "
               "o; c_t; h_t), what BPTT needs;\n"
               "         x-projection %.2f MiB (4 T N H); whole step (arena: inputs, "
               "activations, gradients) %.2f MiB\n",
               (long long)T, seconds[l], BATCH / seconds[l], 6 * floats / mib, 4 * floats / mib,
               (double)(after.bytes_in_use - before.bytes_in_use) / mib);
        printf("result lstm T=%lld seconds_per_step=%.5f\n", (long long)T, seconds[l]);
        fflush(stdout);
        free(x);
        clg_optim_destroy(m.opt);
        clg_params_destroy(m.params);
        clg_linear_destroy(m.fc);
        clg_recurrent_layer_destroy(m.lstm);
        clg_context_destroy(ctx);
    }
    printf("time ratio T=400 / T=100: %.2f (linear in T: 4.00)\n", seconds[2] / seconds[1]);
    return 0;
}
