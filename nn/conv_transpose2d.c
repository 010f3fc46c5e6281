/* nn/conv_transpose2d.c: the transposed 2-D convolution layer,
 * torch.nn.ConvTranspose2d (groups 1), the upsampling layer of a DCGAN
 * generator.
 *
 *   y (N, out, Ho, Wo) = conv_transpose2d(x (N, in, H, W), W (in, out, kh, kw), b (out))
 * Forward is clg_conv_transpose2d, whose backward rule gives the gradients
 * of x, W and b; there is no backward code here. */
#include <stdlib.h>

#include "clgrad/nn.h"
#include "engine/engine.h"
#include "nn/internal.h"

struct clg_conv_transpose2d_layer {
    clg_context *ctx;
    nn_weights w; /* weight (in, out, kh, kw), bias (out) or NULL */
    clg_conv_transpose2d_params conv;
};

CLG_API clg_conv_transpose2d_layer *clg_conv_transpose2d_layer_create(
    clg_context *ctx, int64_t in_channels, int64_t out_channels, int kernel_h, int kernel_w,
    const clg_conv_transpose2d_params *params, bool bias, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    clg_conv_transpose2d_layer *layer =
        eng_calloc(ctx, "clg_conv_transpose2d_layer_create", sizeof *layer);
    if (!layer)
        return NULL;
    layer->ctx = ctx;
    layer->conv = params ? *params : clg_conv_transpose2d_params_default();
    if (nn_conv_weights_create(ctx, "clg_conv_transpose2d_layer_create", in_channels, out_channels,
                               kernel_h, kernel_w, true, bias, seed, &layer->w) != CLG_STATUS_OK) {
        free(layer);
        return NULL;
    }
    return layer;
}

CLG_API void clg_conv_transpose2d_layer_destroy(clg_conv_transpose2d_layer *layer)
{
    if (!layer)
        return;
    nn_weights_release(&layer->w);
    free(layer);
}

/* Shape and parameter errors come from clg_conv_transpose2d. */
CLG_API clg_tensor *clg_conv_transpose2d_layer_forward(clg_conv_transpose2d_layer *layer,
                                                       clg_tensor *x)
{
    return clg_conv_transpose2d(x, layer->w.weight, layer->w.bias, &layer->conv);
}

CLG_API const clg_params *clg_conv_transpose2d_layer_params(const clg_conv_transpose2d_layer *layer)
{
    return layer->w.params;
}
