/* clgrad/nn.h: initialisers and layers (their parameter lists, clg_params,
 * are declared in tensor.h).
 *
 * Layers own persistent parameters and compose ops from ops.h; they have no
 * backward code of their own. Initialisers draw from a counter-based
 * generator (Philox-4x32-10) keyed by a seed, on the host, so a seed gives the
 * same weights on every device. */
#ifndef CLGRAD_NN_H
#define CLGRAD_NN_H

#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* clg_params, the named parameter lists layers hand out, is in tensor.h. */

/* Initialisers, filling a persistent float32 tensor. fan_in / fan_out follow
 * PyTorch: for a weight (out, in, ...), fan_in = in * receptive field. The
 * same (seed, shape) always gives the same values. */
CLG_API clg_status clg_init_uniform(clg_tensor *t, float low, float high, uint64_t seed);
CLG_API clg_status clg_init_normal(clg_tensor *t, float mean, float std, uint64_t seed);
/* Glorot and Bengio 2010: U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)). */
CLG_API clg_status clg_init_xavier_uniform(clg_tensor *t, float gain, uint64_t seed);
/* N(0, gain^2 2 / (fan_in + fan_out)). */
CLG_API clg_status clg_init_xavier_normal(clg_tensor *t, float gain, uint64_t seed);
/* He et al. 2015, fan_in mode: U(-b, b), b = gain sqrt(3 / fan_in); gain
 * sqrt(2) for ReLU. */
CLG_API clg_status clg_init_kaiming_uniform(clg_tensor *t, float gain, uint64_t seed);
/* N(0, gain^2 / fan_in). */
CLG_API clg_status clg_init_kaiming_normal(clg_tensor *t, float gain, uint64_t seed);

/* Fully connected layer, torch.nn.Linear: y = x W^T + b with W (out, in) and
 * b (out); x (N, in) -> y (N, out). Initialised as PyTorch does:
 * W, b ~ U(-1/sqrt(in), 1/sqrt(in)). Parameters are named "weight", "bias". */
typedef struct clg_linear clg_linear;

CLG_API clg_linear *clg_linear_create(clg_context *ctx, int64_t in_features,
                                      int64_t out_features, bool bias, uint64_t seed);
CLG_API void clg_linear_destroy(clg_linear *layer);
CLG_API clg_tensor *clg_linear_forward(clg_linear *layer, clg_tensor *x);
/* act(x W^T + b): clg_linear_forward then the activation, with the bias add
 * and the activation fused into one kernel each way (clg_bias_activation);
 * the same values and gradients in fewer launches. */
CLG_API clg_tensor *clg_linear_forward_act(clg_linear *layer, clg_tensor *x, clg_activation act,
                                           float negative_slope);
/* Borrowed for the layer's lifetime; bias is NULL without one. */
CLG_API clg_tensor *clg_linear_weight(const clg_linear *layer);
CLG_API clg_tensor *clg_linear_bias(const clg_linear *layer);
/* Borrowed for the layer's lifetime. */
CLG_API const clg_params *clg_linear_params(const clg_linear *layer);

/* 2-D convolution layer, torch.nn.Conv2d: weight (out, in, kh, kw), bias
 * (out), both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in kh kw, as
 * PyTorch initialises them (the weight as clg_init_uniform with the seed, the
 * bias from another stream of it). params NULL means
 * clg_conv2d_params_default(); forward is clg_conv2d, which reports shape
 * errors. Parameters "weight", "bias". */
typedef struct clg_conv2d_layer clg_conv2d_layer;

CLG_API clg_conv2d_layer *clg_conv2d_layer_create(clg_context *ctx, int64_t in_channels,
                                                  int64_t out_channels, int kernel_h,
                                                  int kernel_w, const clg_conv2d_params *params,
                                                  bool bias, uint64_t seed);
CLG_API void clg_conv2d_layer_destroy(clg_conv2d_layer *layer);
CLG_API clg_tensor *clg_conv2d_layer_forward(clg_conv2d_layer *layer, clg_tensor *x);
/* act(forward(x)) through clg_conv2d_act: one pass and launch fewer each way. */
CLG_API clg_tensor *clg_conv2d_layer_forward_act(clg_conv2d_layer *layer, clg_tensor *x,
                                                 clg_activation act, float negative_slope);
CLG_API const clg_params *clg_conv2d_layer_params(const clg_conv2d_layer *layer);

/* Batch normalisation layer, torch.nn.BatchNorm1d/2d: weight 1, bias 0,
 * running_mean 0, running_var 1 at creation. Parameters "weight", "bias";
 * buffers "running_mean", "running_var". */
typedef struct clg_batchnorm_layer clg_batchnorm_layer;

CLG_API clg_batchnorm_layer *clg_batchnorm_layer_create(clg_context *ctx, int64_t features,
                                                        float momentum, float eps);
CLG_API void clg_batchnorm_layer_destroy(clg_batchnorm_layer *layer);
CLG_API clg_tensor *clg_batchnorm_layer_forward(clg_batchnorm_layer *layer, clg_tensor *x,
                                                bool training);
CLG_API const clg_params *clg_batchnorm_layer_params(const clg_batchnorm_layer *layer);

/* Dropout layer: clg_dropout with its own seed and a counter that advances by
 * the number of elements each call, so successive steps draw fresh masks and
 * a run is reproducible from the seed. */
typedef struct clg_dropout_layer clg_dropout_layer;

CLG_API clg_dropout_layer *clg_dropout_layer_create(clg_context *ctx, float p, uint64_t seed);
CLG_API void clg_dropout_layer_destroy(clg_dropout_layer *layer);
CLG_API clg_tensor *clg_dropout_layer_forward(clg_dropout_layer *layer, clg_tensor *x,
                                              bool training);

/* Transposed 2-D convolution layer, torch.nn.ConvTranspose2d (groups 1):
 * weight (in, out, kh, kw), bias (out), both U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)) with PyTorch's fan_in = out kh kw (the weight's second
 * axis times the kernel), drawn as clg_conv2d_layer's. params NULL means
 * clg_conv_transpose2d_params_default(); forward is clg_conv_transpose2d,
 * which reports shape errors. Parameters "weight", "bias". */
typedef struct clg_conv_transpose2d_layer clg_conv_transpose2d_layer;

CLG_API clg_conv_transpose2d_layer *
clg_conv_transpose2d_layer_create(clg_context *ctx, int64_t in_channels, int64_t out_channels,
                                  int kernel_h, int kernel_w,
                                  const clg_conv_transpose2d_params *params, bool bias,
                                  uint64_t seed);
CLG_API void clg_conv_transpose2d_layer_destroy(clg_conv_transpose2d_layer *layer);
CLG_API clg_tensor *clg_conv_transpose2d_layer_forward(clg_conv_transpose2d_layer *layer,
                                                       clg_tensor *x);
CLG_API const clg_params *
clg_conv_transpose2d_layer_params(const clg_conv_transpose2d_layer *layer);

/* Recurrent layer, torch.nn.LSTM, torch.nn.GRU or torch.nn.RNN (tanh): one
 * layer, one direction, forward by clg_lstm / clg_gru / clg_rnn. Parameters
 * "weight_ih_l0" (G H, I), "weight_hh_l0" (G H, H), "bias_ih_l0",
 * "bias_hh_l0" (G H), G = 4 for the LSTM (gates i, f, g, o), 3 for the GRU
 * (r, z, n), 1 for the RNN, all
 * U(-1/sqrt(H), 1/sqrt(H)) as PyTorch initialises them. x (T, N, I), or
 * (N, T, I) with batch_first; returns the hidden sequence and, when h_n is
 * not NULL, the last hidden state (1, N, H) (step tensors). The state starts
 * at zeros, unless keep_state is on (truncated BPTT): then each forward
 * starts from the previous forward's last h (and c), carried as values
 * without gradient, as PyTorch's h.detach(); a batch of another size starts
 * from zeros again. */
typedef enum clg_cell { CLG_CELL_RNN = 0, CLG_CELL_LSTM = 1, CLG_CELL_GRU = 2 } clg_cell;
typedef struct clg_recurrent_layer clg_recurrent_layer;

CLG_API clg_recurrent_layer *clg_recurrent_layer_create(clg_context *ctx, clg_cell cell,
                                                        int64_t input_size, int64_t hidden_size,
                                                        bool batch_first, uint64_t seed);
CLG_API void clg_recurrent_layer_destroy(clg_recurrent_layer *layer);
CLG_API clg_tensor *clg_recurrent_layer_forward(clg_recurrent_layer *layer, clg_tensor *x,
                                                clg_tensor **h_n);
/* The same, and for an LSTM its last cell state (1, N, H) into *c_n (NULL
 * for a GRU or an RNN; c_n may be NULL), as torch.nn.LSTM returns (h_n, c_n). Step
 * tensors, with gradients. */
CLG_API clg_tensor *clg_recurrent_layer_forward_state(clg_recurrent_layer *layer, clg_tensor *x,
                                                      clg_tensor **h_n, clg_tensor **c_n);
/* Truncated BPTT on or off (off forgets the carried state). */
CLG_API void clg_recurrent_layer_set_keep_state(clg_recurrent_layer *layer, bool keep);
/* Forgets the carried state: the next forward starts from zeros. */
CLG_API void clg_recurrent_layer_reset_state(clg_recurrent_layer *layer);
CLG_API int64_t clg_recurrent_layer_hidden_size(const clg_recurrent_layer *layer);
CLG_API const clg_params *clg_recurrent_layer_params(const clg_recurrent_layer *layer);

/* Embedding layer, torch.nn.Embedding: weight (V, D) ~ N(0, 1), parameter
 * "weight"; forward is clg_embedding (ids on the device) or
 * clg_embedding_host (ids from host memory, checked there). */
typedef struct clg_embedding_layer clg_embedding_layer;

CLG_API clg_embedding_layer *clg_embedding_layer_create(clg_context *ctx, int64_t num_embeddings,
                                                        int64_t embedding_dim, uint64_t seed);
CLG_API void clg_embedding_layer_destroy(clg_embedding_layer *layer);
CLG_API clg_tensor *clg_embedding_layer_forward(clg_embedding_layer *layer, clg_tensor *ids);
CLG_API clg_tensor *clg_embedding_layer_forward_host(clg_embedding_layer *layer,
                                                     const int32_t *ids, int rank,
                                                     const int64_t *shape);
CLG_API const clg_params *clg_embedding_layer_params(const clg_embedding_layer *layer);

#ifdef __cplusplus
}
#endif
#endif
