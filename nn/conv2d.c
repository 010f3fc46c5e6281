/* nn/conv2d.c: the 2-D convolution layer, torch.nn.Conv2d.
 *
 *   y (N, out, Ho, Wo) = conv2d(x (N, in, H, W), W (out, in, kh, kw), b (out))
 * Forward is clg_conv2d, whose backward rule gives the gradients of x, W and
 * b; there is no backward code here. */
#include <stdlib.h>

#include "clgrad/nn.h"
#include "engine/engine.h"
#include "nn/internal.h"

struct clg_conv2d_layer {
    clg_context *ctx;
    nn_weights w; /* weight (out, in, kh, kw), bias (out) or NULL */
    clg_conv2d_params conv;
};

CLG_API clg_conv2d_layer *clg_conv2d_layer_create(clg_context *ctx, int64_t in_channels,
                                                  int64_t out_channels, int kernel_h, int kernel_w,
                                                  const clg_conv2d_params *params, bool bias,
                                                  uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    clg_conv2d_layer *layer = eng_calloc(ctx, "clg_conv2d_layer_create", sizeof *layer);
    if (!layer)
        return NULL;
    layer->ctx = ctx;
    layer->conv = params ? *params : clg_conv2d_params_default();
    if (nn_conv_weights_create(ctx, "clg_conv2d_layer_create", in_channels, out_channels, kernel_h,
                               kernel_w, false, bias, seed, &layer->w) != CLG_STATUS_OK) {
        free(layer);
        return NULL;
    }
    return layer;
}

CLG_API void clg_conv2d_layer_destroy(clg_conv2d_layer *layer)
{
    if (!layer)
        return;
    nn_weights_release(&layer->w);
    free(layer);
}

/* Shape and parameter errors come from clg_conv2d, naming the shapes. */
CLG_API clg_tensor *clg_conv2d_layer_forward(clg_conv2d_layer *layer, clg_tensor *x)
{
    return clg_conv2d(x, layer->w.weight, layer->w.bias, &layer->conv);
}

CLG_API clg_tensor *clg_conv2d_layer_forward_act(clg_conv2d_layer *layer, clg_tensor *x,
                                                 clg_activation act, float negative_slope)
{
    return clg_conv2d_act(x, layer->w.weight, layer->w.bias, &layer->conv, act, negative_slope);
}

CLG_API const clg_params *clg_conv2d_layer_params(const clg_conv2d_layer *layer)
{
    return layer->w.params;
}
