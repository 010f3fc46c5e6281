/* nn/linear.c: the fully connected layer, torch.nn.Linear.
 *
 *   y (N, out) = x (N, in) W^T + b,   W (out, in), b (out)
 * Forward is clg_linear_activation: clg_matmul_nt (x W^T with W as stored:
 * W's gradient comes out of one GEMM in W's layout) and clg_bias_activation
 * (the bias add, fused with the activation that usually follows), or, where
 * the GEMM can, both in the GEMM's store. The gradients of x, W and b come
 * from those ops' backward rules; there is no backward code here. */
#include <stdlib.h>

#include "clgrad/nn.h"
#include "engine/engine.h"
#include "nn/internal.h"

struct clg_linear {
    clg_context *ctx;
    int64_t in_features, out_features;
    nn_weights w; /* weight (out, in), bias (out) or NULL */
};

CLG_API clg_linear *clg_linear_create(clg_context *ctx, int64_t in_features,
                                      int64_t out_features, bool bias, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    if (in_features <= 0 || out_features <= 0) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_linear_create: in_features %lld and out_features %lld must be positive",
                 (long long)in_features, (long long)out_features);
        return NULL;
    }
    clg_linear *layer = eng_calloc(ctx, "clg_linear_create", sizeof *layer);
    if (!layer)
        return NULL;
    layer->ctx = ctx;
    layer->in_features = in_features;
    layer->out_features = out_features;
    if (nn_weight_bias_create(ctx, "clg_linear_create", 2, (int64_t[]){out_features, in_features},
                              in_features, out_features, bias, seed, &layer->w) != CLG_STATUS_OK) {
        free(layer);
        return NULL;
    }
    return layer;
}

CLG_API void clg_linear_destroy(clg_linear *layer)
{
    if (!layer)
        return;
    nn_weights_release(&layer->w);
    free(layer);
}

CLG_API clg_tensor *clg_linear_forward(clg_linear *layer, clg_tensor *x)
{
    return clg_linear_forward_act(layer, x, CLG_ACT_IDENTITY, 0.0f);
}

CLG_API clg_tensor *clg_linear_forward_act(clg_linear *layer, clg_tensor *x, clg_activation act,
                                           float negative_slope)
{
    if (!x || eng_failed(layer->ctx))
        return NULL;
    if (x->rank != 2 || x->shape[1] != layer->in_features) {
        char s[64];
        eng_fail(layer->ctx, CLG_STATUS_SHAPE,
                 "clg_linear_forward: input shape %s does not fit (N, %lld) for a layer of "
                 "weight [%lld, %lld]",
                 eng_shape_str(x, s, sizeof s), (long long)layer->in_features,
                 (long long)layer->out_features, (long long)layer->in_features);
        return NULL;
    }
    return clg_linear_activation(x, layer->w.weight, layer->w.bias, act, negative_slope);
}

CLG_API clg_tensor *clg_linear_weight(const clg_linear *layer)
{
    return layer->w.weight;
}
CLG_API clg_tensor *clg_linear_bias(const clg_linear *layer)
{
    return layer->w.bias;
}
CLG_API const clg_params *clg_linear_params(const clg_linear *layer)
{
    return layer->w.params;
}
