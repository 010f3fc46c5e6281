/* nn/internal.h: what the layers of nn/ share. Internal prefix: nn_. */
#ifndef CLGRAD_NN_INTERNAL_H
#define CLGRAD_NN_INTERNAL_H

#include "clgrad/nn.h"

/* A layer's weight, its bias (NULL without one) and the list naming them
 * "weight" and "bias"; the layer owns all three. */
typedef struct nn_weights {
    clg_tensor *weight;
    clg_tensor *bias;
    clg_params *params;
} nn_weights;

/* Destroys the list and the tensors (each may be NULL). */
void nn_weights_release(nn_weights *w);

/* A layer's weight (w_rank, w_shape) and optional bias (bias_size), drawn as
 * PyTorch's reset_parameters does for Linear and Conv2d: kaiming_uniform_
 * with a = sqrt(5) on the weight is U(+-1/sqrt(fan_in)), and the bias takes
 * the same bound. The weight uses stream 0 of the seed (the numbers
 * clg_init_uniform gives), the bias stream 1, so they never share draws.
 * Both are registered as "weight" and "bias" in a new list, all three in
 * *out. On failure everything made here is released, the error (naming
 * `op`) is in the context, and *out is all NULL. */
clg_status nn_weight_bias_create(clg_context *ctx, const char *op, int w_rank,
                                 const int64_t *w_shape, int64_t fan_in, int64_t bias_size,
                                 bool bias, uint64_t seed, nn_weights *out);

/* A convolution layer's parameters, as nn_weight_bias_create makes them,
 * after checking that the sizes are positive (the error names `op`):
 * weight (out, in, kh, kw), fan_in in kh kw, for conv2d; (in, out, kh, kw),
 * fan_in out kh kw (PyTorch's: the weight's second axis times the receptive
 * field) when transposed; bias (out). */
clg_status nn_conv_weights_create(clg_context *ctx, const char *op, int64_t in_channels,
                                  int64_t out_channels, int kernel_h, int kernel_w, bool transposed,
                                  bool bias, uint64_t seed, nn_weights *out);

#endif
