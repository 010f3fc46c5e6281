/* tools/clgrad/tune.c: `clgrad tune`, which times every GEMM implementation
 * on this device for the matrix shapes a model's training step and test-set
 * evaluation use, and stores the fastest in the kernel cache folder, where
 * later runs on the same device and driver find them (clg_gemm_tune). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_SHAPES 64
#define MAX_HIDDEN 8
#define EVAL_BATCH 1000 /* what train and eval use for the test set */

static const char tune_usage[] =
    "usage: clgrad tune [lenet5|mlp|logreg|rnn|lstm|gru] [options]  (or --model NAME)\n"
    "\n"
    "Runs one training step and one test-set forward pass of the model on random\n"
    "data, notes the matrix products (GEMM shapes) they use, times every GEMM\n"
    "implementation (CLBlast's routes and clgrad's own kernels) on each, and stores\n"
    "the fastest in the kernel cache folder (CLGRAD_CACHE_DIR), keyed by device and\n"
    "driver. Later runs on this device use them. Takes a few seconds to a few\n"
    "minutes. The defaults need no tuning; this is for the last few percent on\n"
    "your device.\n"
    "\n"
    "options (as for clgrad train; the model defaults to mlp):\n"
    "  --hidden N,N,...  hidden layer sizes of the mlp (default 256,128); for rnn,\n"
    "                    lstm and gru one size, the hidden state's (default 128)\n"
    "  --batch N         training batch size to tune for (default 128; lenet5: 64)\n"
    "  -h, --help        this help\n";

/* One training step at `batch` and one forward pass at EVAL_BATCH, with the
 * GEMM shapes noted. */
static bool record_shapes(clg_context *ctx, clg_model *model, clg_optim *opt, int64_t batch,
                          int64_t features, int64_t classes)
{
    int64_t rows = batch > EVAL_BATCH ? batch : EVAL_BATCH;
    float *x = malloc((size_t)(rows * features) * sizeof *x);
    int32_t *y = malloc((size_t)batch * sizeof *y);
    bool ok = x && y;
    for (int64_t i = 0; ok && i < rows * features; i++)
        x[i] = (float)((i * 7919) % 1000) / 1000.0f; /* any values: only shapes matter */
    for (int64_t i = 0; ok && i < batch; i++)
        y[i] = (int32_t)(i % classes);
    if (ok) {
        clg_gemm_record(ctx, true);
        clg_step_begin(ctx);
        clg_tensor *xs =
            clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){batch, features}, x);
        clg_tensor *ys = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, (int64_t[]){batch}, y);
        clg_tensor *loss =
            clg_cross_entropy_loss(clg_model_forward(model, xs), ys, CLG_REDUCTION_MEAN);
        clg_optim_zero_grad(opt);
        clg_backward(loss);
        clg_optim_step(opt);
        clg_step_end(ctx);
        bool grad_was = clg_grad_set_enabled(ctx, false);
        clg_step_begin(ctx);
        clg_model_forward(model, clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2,
                                                      (int64_t[]){EVAL_BATCH, features}, x));
        clg_step_end(ctx);
        clg_grad_set_enabled(ctx, grad_was);
        clg_gemm_record(ctx, false);
        ok = clg_finish(ctx) == CLG_STATUS_OK && clg_context_status(ctx) == CLG_STATUS_OK;
    }
    free(x);
    free(y);
    return ok;
}

int cli_tune(int argc, char **argv)
{
    static const char *const valued[] = {"--hidden", "--batch", "--model", NULL};
    const char *model_name = NULL;
    int64_t hidden[MAX_HIDDEN];
    int n_hidden = 0; /* 0: the model's defaults */
    int64_t batch = 0; /* 0: train's default for the model */

    cli_args args;
    cli_args_init(&args, "tune", argc, argv, valued, NULL);
    int exit_code;
    /* the model is named as a positional argument or by --model, once */
    while (cli_args_option(&args, tune_usage, &model_name, &exit_code)) {
        if (strcmp(args.name, "--model") == 0) {
            if (model_name)
                return cli_args_unexpected(&args);
            model_name = args.value;
        } else if (strcmp(args.name, "--hidden") == 0) {
            if (!cli_parse_sizes("--hidden", args.value, hidden, MAX_HIDDEN, &n_hidden))
                return CLI_EXIT_USAGE;
        } else if (!cli_parse_int("--batch", args.value, 1, 1 << 16, &batch)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (exit_code >= 0)
        return exit_code;
    if (!model_name)
        model_name = "mlp";
    if (!cli_classifier_check("tune", model_name, n_hidden))
        return CLI_EXIT_USAGE;
    if (batch == 0)
        batch = strcmp(model_name, "lenet5") == 0 ? 64 : 128;

    /* Fashion-MNIST's shape; the data itself is not needed. */
    const int64_t features = 784, classes = 10;
    int code = CLI_EXIT_FAILURE;
    clg_context *ctx = NULL;
    clg_model *model = NULL;
    clg_optim *opt = NULL;
    clg_gemm_shape shapes[MAX_SHAPES];
    clg_gemm_tuned results[MAX_SHAPES];
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK)
        goto fail;
    model = cli_classifier_create(ctx, model_name, NULL, hidden, n_hidden, features, classes, 42);
    clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM);
    opt = model ? clg_optim_create(ctx, clg_model_params(model), &adam) : NULL;
    if (!opt || !record_shapes(ctx, model, opt, batch, features, classes))
        goto fail;
    size_t count = clg_gemm_recorded(ctx, shapes, MAX_SHAPES);
    if (count > MAX_SHAPES)
        count = MAX_SHAPES;
    printf("tuning the %zu GEMM shapes of %s %s (batch %lld, test batch %d) on %s\n", count,
           model_name, clg_model_arch(model), (long long)batch, EVAL_BATCH,
           clg_context_device_name(ctx));
    fflush(stdout);
    clg_status status = clg_gemm_tune(ctx, shapes, count, results);
    /* The timings hold even when the table could not be written. */
    if (status == CLG_STATUS_OK || status == CLG_STATUS_IO) {
        printf("  %-28s %-30s %s\n", "C(m,n) = A(m,k) B(k,n)", "before", "after");
        for (size_t i = 0; i < count; i++) {
            const clg_gemm_tuned *t = &results[i];
            char shape[64], before[48], after[48];
            snprintf(shape, sizeof shape, "m=%lld n=%lld k=%lld%s%s%s", (long long)t->shape.m,
                     (long long)t->shape.n, (long long)t->shape.k, t->shape.trans_a ? " A^T" : "",
                     t->shape.trans_b ? " B^T" : "", t->shape.batch > 1 ? " batched" : "");
            snprintf(before, sizeof before, "%s %.1f GFLOP/s", t->before, t->before_gflops);
            snprintf(after, sizeof after, "%s %.1f GFLOP/s", t->best, t->best_gflops);
            printf("  %-28s %-30s %s\n", shape, before, after);
        }
    }
    if (status != CLG_STATUS_OK)
        goto fail;
    printf("written to %s; runs on this device and driver use it from now on\n",
           clg_gemm_table_path(ctx));
    code = 0;
    goto done;
fail:
    cli_context_error(ctx);
done:
    clg_optim_destroy(opt);
    clg_model_destroy(model);
    clg_context_destroy(ctx);
    return code;
}
