/* nn/init.c: weight initialisers (torch.nn.init's uniform_, normal_,
 * xavier_*, kaiming_*). Values are drawn on the host from stream 0 of the
 * Philox generator keyed by the seed (engine/random.h) and uploaded once:
 * initialisation is not a training-step op, and drawing on the host makes a
 * seed give the same weights on every device. */
#include <math.h>
#include <stdlib.h>

#include "clgrad/nn.h"
#include "engine/engine.h"
#include "engine/random.h"
#include "nn/internal.h"

enum { DRAW_UNIFORM, DRAW_NORMAL };

/* t = a + b u (u uniform in [0, 1)) or a + b z (z standard normal). */
static clg_status fill(const char *op, clg_tensor *t, int draw, float a, float b, uint64_t seed)
{
    clg_context *ctx = t->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (t->dtype != CLG_DTYPE_F32 || !clg_tensor_is_contiguous(t)) {
        char s[64];
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: the tensor %s must be float32 and contiguous", op,
                        eng_shape_str(t, s, sizeof s));
    }
    size_t n = (size_t)clg_tensor_numel(t);
    float *values = malloc((n ? n : 1) * sizeof *values);
    if (!values)
        return eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", op);
    if (draw == DRAW_UNIFORM)
        eng_random_uniform(seed, 0, values, n);
    else
        eng_random_normal(seed, 0, values, n);
    for (size_t i = 0; i < n; i++)
        values[i] = a + b * values[i];
    clg_status status = clg_tensor_upload(t, values, n);
    free(values);
    return status;
}

/* torch.nn.init._calculate_fan_in_and_fan_out: a weight is (out, in, ...),
 * and every trailing axis (a convolution's kernel) multiplies both fans. */
static bool fans(const char *op, const clg_tensor *t, double *fan_in, double *fan_out)
{
    if (t->rank < 2) {
        char s[64];
        eng_fail(t->ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: fan in and fan out need a tensor of rank 2 or more, not %s", op,
                 eng_shape_str(t, s, sizeof s));
        return false;
    }
    double receptive = 1;
    for (int d = 2; d < t->rank; d++)
        receptive *= (double)t->shape[d];
    *fan_in = (double)t->shape[1] * receptive;
    *fan_out = (double)t->shape[0] * receptive;
    return true;
}

CLG_API clg_status clg_init_uniform(clg_tensor *t, float low, float high, uint64_t seed)
{
    if (!(low <= high))
        return eng_fail(t->ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_init_uniform: low %g must not exceed high %g", (double)low,
                        (double)high);
    return fill("clg_init_uniform", t, DRAW_UNIFORM, low, high - low, seed);
}

CLG_API clg_status clg_init_normal(clg_tensor *t, float mean, float std, uint64_t seed)
{
    if (!(std >= 0))
        return eng_fail(t->ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_init_normal: std %g must be non-negative", (double)std);
    return fill("clg_init_normal", t, DRAW_NORMAL, mean, std, seed);
}

CLG_API clg_status clg_init_xavier_uniform(clg_tensor *t, float gain, uint64_t seed)
{
    double fan_in, fan_out;
    if (!fans("clg_init_xavier_uniform", t, &fan_in, &fan_out))
        return t->ctx->rt.error.status;
    float a = (float)(gain * sqrt(6.0 / (fan_in + fan_out)));
    return fill("clg_init_xavier_uniform", t, DRAW_UNIFORM, -a, 2 * a, seed);
}

CLG_API clg_status clg_init_xavier_normal(clg_tensor *t, float gain, uint64_t seed)
{
    double fan_in, fan_out;
    if (!fans("clg_init_xavier_normal", t, &fan_in, &fan_out))
        return t->ctx->rt.error.status;
    float std = (float)(gain * sqrt(2.0 / (fan_in + fan_out)));
    return fill("clg_init_xavier_normal", t, DRAW_NORMAL, 0, std, seed);
}

CLG_API clg_status clg_init_kaiming_uniform(clg_tensor *t, float gain, uint64_t seed)
{
    double fan_in, fan_out;
    if (!fans("clg_init_kaiming_uniform", t, &fan_in, &fan_out))
        return t->ctx->rt.error.status;
    float b = (float)(gain * sqrt(3.0 / fan_in));
    return fill("clg_init_kaiming_uniform", t, DRAW_UNIFORM, -b, 2 * b, seed);
}

CLG_API clg_status clg_init_kaiming_normal(clg_tensor *t, float gain, uint64_t seed)
{
    double fan_in, fan_out;
    if (!fans("clg_init_kaiming_normal", t, &fan_in, &fan_out))
        return t->ctx->rt.error.status;
    float std = (float)(gain / sqrt(fan_in));
    return fill("clg_init_kaiming_normal", t, DRAW_NORMAL, 0, std, seed);
}

/* U(-bound, bound) from one stream of the seed. */
static clg_status uniform_stream(const char *op, clg_tensor *t, float bound, uint64_t seed,
                                 uint64_t stream)
{
    size_t n = (size_t)clg_tensor_numel(t);
    float *values = malloc((n ? n : 1) * sizeof *values);
    if (!values)
        return eng_fail(t->ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", op);
    eng_random_uniform(seed, stream, values, n);
    for (size_t i = 0; i < n; i++)
        values[i] = -bound + 2 * bound * values[i];
    clg_status status = clg_tensor_upload(t, values, n);
    free(values);
    return status;
}

void nn_weights_release(nn_weights *w)
{
    clg_params_destroy(w->params);
    clg_tensor_destroy(w->weight);
    clg_tensor_destroy(w->bias);
    *w = (nn_weights){0};
}

clg_status nn_weight_bias_create(clg_context *ctx, const char *op, int w_rank,
                                 const int64_t *w_shape, int64_t fan_in, int64_t bias_size,
                                 bool bias, uint64_t seed, nn_weights *out)
{
    float bound = (float)(1.0 / sqrt((double)fan_in));
    clg_tensor *w = clg_tensor_create(ctx, CLG_DTYPE_F32, w_rank, w_shape);
    clg_tensor *b = bias ? clg_tensor_create(ctx, CLG_DTYPE_F32, 1, (int64_t[]){bias_size}) : NULL;
    clg_params *ps = clg_params_create(ctx);
    *out = (nn_weights){w, b, ps};
    if (!w || (bias && !b) || !ps || uniform_stream(op, w, bound, seed, 0) != CLG_STATUS_OK ||
        (bias && uniform_stream(op, b, bound, seed, 1) != CLG_STATUS_OK) ||
        clg_params_add(ps, "weight", w) != CLG_STATUS_OK ||
        (bias && clg_params_add(ps, "bias", b) != CLG_STATUS_OK)) {
        nn_weights_release(out);
        return ctx->rt.error.status;
    }
    return CLG_STATUS_OK;
}

clg_status nn_conv_weights_create(clg_context *ctx, const char *op, int64_t in_channels,
                                  int64_t out_channels, int kernel_h, int kernel_w, bool transposed,
                                  bool bias, uint64_t seed, nn_weights *out)
{
    if (in_channels <= 0 || out_channels <= 0 || kernel_h <= 0 || kernel_w <= 0)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: in_channels %lld, out_channels %lld and kernel %dx%d must be positive",
                        op, (long long)in_channels, (long long)out_channels, kernel_h, kernel_w);
    int64_t area = (int64_t)kernel_h * kernel_w;
    int64_t shape[4] = {transposed ? in_channels : out_channels,
                        transposed ? out_channels : in_channels, kernel_h, kernel_w};
    return nn_weight_bias_create(ctx, op, 4, shape,
                                 (transposed ? out_channels : in_channels) * area, out_channels,
                                 bias, seed, out);
}
