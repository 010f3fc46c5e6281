/* bench/conv_bench.c: clg_conv2d forward + backward speed on the current
 * device, for LeNet-5's two layers at batch 64 and a larger 3x3 layer
 * (N=32, C=64, H=W=32, K=64), as issue 3 asks. Prints GFLOP/s counting the
 * three products of a convolution (forward, d weight, d input: 2 N K C kh kw
 * Ho Wo each), plus the counters of a steady-state step.
 *
 * usage: conv-bench [reps]      (POCL_AFFINITY=1 unless set) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <clgrad/clgrad.h>

typedef struct layer {
    const char *name;
    int64_t n, c, h, w, k;
    int kernel, pad;
} layer;

static const layer layers[] = {
    {"lenet5 conv1 (64x1x28x28, 6 5x5, pad 2)", 64, 1, 28, 28, 6, 5, 2},
    {"lenet5 conv2 (64x6x14x14, 16 5x5)", 64, 6, 14, 14, 16, 5, 0},
    {"3x3 layer (32x64x32x32, 64 3x3, pad 1)", 32, 64, 32, 32, 64, 3, 1},
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int fail(clg_context *ctx)
{
    fprintf(stderr, "conv-bench: %s\n", clg_context_error(ctx));
    clg_context_destroy(ctx);
    return 1;
}

/* One forward and backward of the layer; false on error. */
static bool step(clg_context *ctx, clg_tensor *x, clg_tensor *w, clg_tensor *b,
                 const clg_conv2d_params *p)
{
    clg_step_begin(ctx);
    clg_tensor *y = clg_conv2d(x, w, b, p);
    clg_tensor *g = y ? clg_tensor_full(ctx, 4,
                                        (int64_t[]){clg_tensor_dim(y, 0), clg_tensor_dim(y, 1),
                                                    clg_tensor_dim(y, 2), clg_tensor_dim(y, 3)},
                                        1.0f)
                      : NULL;
    bool ok = g && clg_backward_with(y, g) == CLG_STATUS_OK;
    clg_step_end(ctx);
    return ok;
}

int main(int argc, char **argv)
{
    setenv("POCL_AFFINITY", "1", 0);
    int reps = argc > 1 ? atoi(argv[1]) : 10;
    if (reps < 1)
        reps = 1;
    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK)
        return ctx ? fail(ctx) : 1;
    printf("conv2d forward + backward on %s, %d reps after a warm-up\n",
           clg_context_device_name(ctx), reps);
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const layer *l = &layers[i];
        clg_conv2d_params p = clg_conv2d_params_default();
        p.pad_h = p.pad_w = l->pad;
        clg_tensor *x = clg_tensor_create(ctx, CLG_DTYPE_F32, 4, (int64_t[]){l->n, l->c, l->h, l->w});
        clg_tensor *w = clg_tensor_create(ctx, CLG_DTYPE_F32, 4,
                                          (int64_t[]){l->k, l->c, l->kernel, l->kernel});
        clg_tensor *b = clg_tensor_create(ctx, CLG_DTYPE_F32, 1, (int64_t[]){l->k});
        if (!x || !w || !b || clg_init_uniform(x, 0, 1, 1) || clg_init_uniform(w, -0.1f, 0.1f, 2))
            return fail(ctx);
        clg_tensor_set_requires_grad(x, true);
        clg_tensor_set_requires_grad(w, true);
        clg_tensor_set_requires_grad(b, true);
        for (int warm = 0; warm < 2; warm++)
            if (!step(ctx, x, w, b, &p))
                return fail(ctx);
        clg_counters before, after;
        clg_finish(ctx);
        clg_counters_get(ctx, &before);
        double start = now();
        for (int r = 0; r < reps; r++)
            if (!step(ctx, x, w, b, &p))
                return fail(ctx);
        clg_finish(ctx);
        double seconds = (now() - start) / reps;
        clg_counters_get(ctx, &after);
        int64_t ho = l->h + 2 * l->pad - l->kernel + 1, wo = l->w + 2 * l->pad - l->kernel + 1;
        double flops = 3.0 * 2.0 * (double)(l->n * l->k * l->c * l->kernel * l->kernel * ho * wo);
        printf("  %-42s %8.2f ms  %6.1f GFLOP/s  per step: %.0f allocations, %.0f builds\n",
               l->name, seconds * 1e3, flops / seconds / 1e9,
               (double)(after.device_allocations - before.device_allocations) / reps,
               (double)(after.program_builds - before.program_builds) / reps);
        printf("result conv layer=%zu ms=%.3f gflops=%.2f\n", i, seconds * 1e3,
               flops / seconds / 1e9);
        clg_tensor_destroy(x);
        clg_tensor_destroy(w);
        clg_tensor_destroy(b);
    }
    clg_context_destroy(ctx);
    return 0;
}
