/* zoo/autoencoder.c: the lecture's autoencoder for fraud detection: a
 * mirrored stack of linear layers with tanh between them, and the per-row
 * reconstruction distance that serves as the anomaly score (clg_mse_loss
 * without reduction summed over the features, so no backward is written
 * here). Its trainer, which learns from normal rows only and corrupts the
 * inputs for the denoising variant, is lecture/autoencoder.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "zoo/model.h"

extern const zoo_kind zoo_kind_autoencoder;

/* x (N, in) -> fc1 -> tanh -> ... -> fcL -> x^ (N, in). The bias add and
 * tanh run as one fused kernel each way (clg_linear_forward_act): the
 * separate tanh kernels took over half of a step's device time. */
static clg_tensor *autoencoder_forward(const clg_model *model, clg_tensor *x)
{
    for (int i = 0; i < model->n_layers; i++)
        x = i + 1 < model->n_layers
                ? clg_linear_forward_act(model->layers[i], x, CLG_ACT_TANH, 0.0f)
                : clg_linear_forward(model->layers[i], x);
    return x;
}

CLG_API clg_model *clg_zoo_autoencoder_create(clg_context *ctx, int64_t in_features,
                                              const int64_t *hidden, int n_hidden, int64_t code,
                                              uint64_t seed)
{
    static const char fn[] = "clg_zoo_autoencoder_create";
    if (eng_failed(ctx))
        return NULL;
    if (n_hidden < 0 || n_hidden > 16 || (n_hidden > 0 && !hidden)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: n_hidden is %d and hidden is %s; expected 0 to 16 widths in hidden", fn,
                 n_hidden, hidden ? "given" : "NULL");
        return NULL;
    }
    /* in, hidden..., code, hidden reversed..., in */
    int64_t widths[2 * 16 + 3];
    int n = 0;
    widths[n++] = in_features;
    for (int i = 0; i < n_hidden; i++)
        widths[n++] = hidden[i];
    widths[n++] = code;
    for (int i = n_hidden - 1; i >= 0; i--)
        widths[n++] = hidden[i];
    widths[n++] = in_features;
    return zoo_model_create(ctx, fn, &zoo_kind_autoencoder, widths, n, seed);
}

/* A checkpoint's "arch": a palindrome of three or more widths, such as
 * "30-100-100-15-100-100-30". */
static bool autoencoder_widths_fit(const int64_t *widths, int n)
{
    bool mirrored = n >= 3 && n % 2 == 1;
    for (int i = 0; mirrored && i < n / 2; i++)
        mirrored = widths[i] == widths[n - 1 - i];
    return mirrored;
}

static clg_model *autoencoder_from_widths(clg_context *ctx, const int64_t *widths, int n)
{
    return clg_zoo_autoencoder_create(ctx, widths[0], widths + 1, n / 2 - 1, widths[n / 2], 0);
}

const zoo_kind zoo_kind_autoencoder = {
    .name = "autoencoder",
    .forward = autoencoder_forward,
    .check = zoo_stack_check,
    .from_metadata = zoo_stack_from_metadata,
    .from_widths = autoencoder_from_widths,
    .widths_fit = autoencoder_widths_fit,
    .widths_rule = "an autoencoder's widths mirror around its code, such as "
                   "\"30-100-100-15-100-100-30\""};

CLG_API clg_tensor *clg_autoencoder_distance(clg_model *model, clg_tensor *x)
{
    if (!model || !x)
        return NULL;
    clg_tensor *squared = clg_mse_loss(clg_model_forward(model, x), x, CLG_REDUCTION_NONE);
    return clg_sum(squared, 1, false); /* (N, in) -> (N) */
}

CLG_API clg_status clg_autoencoder_scores(clg_model *model, const float *x, int64_t rows,
                                          int64_t batch, float *scores)
{
    if (!model)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = model->ctx;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (!x || !scores || rows < 1 || batch < 1)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_autoencoder_scores: %" PRId64 " rows in batches of %" PRId64
                        "; expected x, scores, rows >= 1 and batch >= 1",
                        rows, batch);
    int64_t in = model->in_features;
    bool grad = clg_grad_set_enabled(ctx, false);
    clg_status status = CLG_STATUS_OK;
    for (int64_t first = 0; first < rows && status == CLG_STATUS_OK; first += batch) {
        int64_t count = rows - first < batch ? rows - first : batch;
        clg_step_begin(ctx);
        clg_tensor *xb = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){count, in},
                                              x + first * in);
        status =
            clg_tensor_download(clg_autoencoder_distance(model, xb), scores + first, (size_t)count);
        clg_step_end(ctx);
    }
    clg_grad_set_enabled(ctx, grad);
    return eng_failed(ctx) ? clg_context_status(ctx) : status;
}
