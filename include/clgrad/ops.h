/* clgrad/ops.h: the differentiable primitives.
 *
 * Every op enqueues its kernel on the device and returns a step tensor
 * (borrowed until clg_step_end), or NULL when an input is NULL or the shapes
 * do not fit; then the context holds a message such as
 *   "clg_add: shapes [2, 3] and [4, 3] cannot be broadcast".
 * Semantics follow PyTorch's ops of the same names: broadcasting as in NumPy,
 * negative axes count from the end, reductions default to the mean. Inputs
 * may be non-contiguous views (transposes). Nothing blocks. */
#ifndef CLGRAD_OPS_H
#define CLGRAD_OPS_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Binary arithmetic with broadcasting: out = a (op) b. */
CLG_API clg_tensor *clg_add(clg_tensor *a, clg_tensor *b);
CLG_API clg_tensor *clg_sub(clg_tensor *a, clg_tensor *b);
CLG_API clg_tensor *clg_mul(clg_tensor *a, clg_tensor *b);
CLG_API clg_tensor *clg_div(clg_tensor *a, clg_tensor *b);
/* out = a * scale + shift, elementwise (1 - x is clg_affine(x, -1, 1)). */
CLG_API clg_tensor *clg_affine(clg_tensor *a, float scale, float shift);

/* Elementwise math. clg_pow raises to a constant exponent. */
CLG_API clg_tensor *clg_neg(clg_tensor *a);
CLG_API clg_tensor *clg_exp(clg_tensor *a);
CLG_API clg_tensor *clg_log(clg_tensor *a);
CLG_API clg_tensor *clg_sqrt(clg_tensor *a);
CLG_API clg_tensor *clg_abs(clg_tensor *a); /* d|x|/dx at 0 is 0, as in PyTorch */
CLG_API clg_tensor *clg_pow(clg_tensor *a, float exponent);

/* Activations. */
CLG_API clg_tensor *clg_sigmoid(clg_tensor *a);
CLG_API clg_tensor *clg_tanh(clg_tensor *a);
CLG_API clg_tensor *clg_relu(clg_tensor *a); /* derivative at 0 is 0, as in PyTorch */
CLG_API clg_tensor *clg_leaky_relu(clg_tensor *a, float negative_slope);
/* log(1 + exp(beta x)) / beta, linear above x * beta > threshold (PyTorch
 * defaults: beta 1, threshold 20). */
CLG_API clg_tensor *clg_softplus(clg_tensor *a, float beta, float threshold);
/* The threshold (step) unit of the perceptron: 1 where a > 0, `at_zero` where
 * a == 0, 0 elsewhere (torch.heaviside). It has no useful derivative, so it
 * records nothing on the tape and its result never requires a gradient. */
CLG_API clg_tensor *clg_heaviside(clg_tensor *a, float at_zero);

/* Reductions over one axis (keepdim keeps it with size 1) or over all
 * elements (a one-element tensor of rank 0). clg_max's gradient goes to the
 * first maximal element, as torch.max(dim) does; clg_max_all's to the first
 * in row-major order (torch.max() would split it among ties). NaN counts as
 * the largest value, so it propagates. */
CLG_API clg_tensor *clg_sum(clg_tensor *a, int axis, bool keepdim);
CLG_API clg_tensor *clg_mean(clg_tensor *a, int axis, bool keepdim);
CLG_API clg_tensor *clg_max(clg_tensor *a, int axis, bool keepdim);
CLG_API clg_tensor *clg_sum_all(clg_tensor *a);
CLG_API clg_tensor *clg_mean_all(clg_tensor *a);
CLG_API clg_tensor *clg_max_all(clg_tensor *a);
/* Index of the first maximum along an axis, int32, no gradient. */
CLG_API clg_tensor *clg_argmax(clg_tensor *a, int axis, bool keepdim);

/* Matrix product through the GEMM layer (clgrad's own kernels or CLBlast,
 * see clg_gemm_tune): (M,K)x(K,N) -> (M,N), or batched
 * (B,M,K)x(B,K,N) -> (B,M,N). Transposed views are passed to the GEMM as
 * transpose flags, not copied. */
CLG_API clg_tensor *clg_matmul(clg_tensor *a, clg_tensor *b);

/* Views and shape changes. clg_transpose swaps two axes without copying;
 * clg_reshape keeps the element order (one size may be -1) and copies only
 * when the input is not contiguous. */
CLG_API clg_tensor *clg_transpose(clg_tensor *a, int axis0, int axis1);
CLG_API clg_tensor *clg_reshape(clg_tensor *a, int rank, const int64_t *shape);

/* Along one axis: exp(x) / sum(exp(x)) and its logarithm, both computed
 * stably (max subtracted). */
CLG_API clg_tensor *clg_softmax(clg_tensor *a, int axis);
CLG_API clg_tensor *clg_log_softmax(clg_tensor *a, int axis);

/* Losses, as torch.nn.functional's. */
typedef enum clg_reduction {
    CLG_REDUCTION_MEAN = 0, /* PyTorch's default */
    CLG_REDUCTION_SUM,
    CLG_REDUCTION_NONE
} clg_reduction;

/* (input - target)^2; gradients to both. */
CLG_API clg_tensor *clg_mse_loss(clg_tensor *input, clg_tensor *target, clg_reduction reduction);
/* -(t log p + (1 - t) log(1 - p)) with each log clamped at -100, as PyTorch;
 * input holds probabilities in [0, 1]; the target gets no gradient. */
CLG_API clg_tensor *clg_bce_loss(clg_tensor *input, clg_tensor *target, clg_reduction reduction);
/* The same on logits, computed stably: max(x,0) - x t + log(1 + exp(-|x|)). */
CLG_API clg_tensor *clg_bce_with_logits_loss(clg_tensor *input, clg_tensor *target,
                                             clg_reduction reduction);
/* logits (N, C) float32, labels (N) int32 in [0, C): fused log-softmax and
 * negative log-likelihood. A label outside [0, C) is an error caught on the
 * device: the loss becomes NaN, and no memory outside the tensors is read. */
CLG_API clg_tensor *clg_cross_entropy_loss(clg_tensor *logits, clg_tensor *labels,
                                           clg_reduction reduction);

/* ---- Convolutional networks (NCHW) ---- */

/* Stride, zero padding and dilation of a 2-D convolution, per axis. */
typedef struct clg_conv2d_params {
    int stride_h, stride_w;
    int pad_h, pad_w;
    int dilation_h, dilation_w;
} clg_conv2d_params;

/* stride 1, padding 0, dilation 1 (torch.nn.functional.conv2d's defaults). */
CLG_API clg_conv2d_params clg_conv2d_params_default(void);

/* torch.nn.functional.conv2d: input (N, C, H, W), weight (K, C, kh, kw),
 * bias (K) or NULL -> (N, K, Ho, Wo) with
 * Ho = (H + 2 pad_h - dilation_h (kh - 1) - 1) / stride_h + 1 (Wo alike).
 * The products go through the GEMM layer (im2col, then GEMM), so the op runs
 * at the device's GEMM speed. Gradients to input, weight and bias. params
 * NULL means clg_conv2d_params_default(). Errors (CLG_STATUS_SHAPE unless
 * said): a rank other than 4, input and weight channels that differ, a bias
 * whose length is not K, a stride or dilation below 1 or a negative padding
 * (CLG_STATUS_INVALID_ARGUMENT), a dilated kernel larger than the padded
 * input. */
CLG_API clg_tensor *clg_conv2d(clg_tensor *input, clg_tensor *weight, clg_tensor *bias,
                               const clg_conv2d_params *params);

/* Window, stride and zero padding of a 2-D pooling. */
typedef struct clg_pool2d_params {
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_h, pad_w;
} clg_pool2d_params;

/* A square window, stride = window, no padding (PyTorch's defaults). */
CLG_API clg_pool2d_params clg_pool2d_params_default(int kernel);

/* torch.nn.functional.max_pool2d / avg_pool2d on (N, C, H, W); padding may
 * be at most half the window, as in PyTorch. Max pooling sends the gradient
 * to the first maximum of each window (a NaN counts as the maximum, as in
 * PyTorch); average pooling counts padded zeros in the divisor
 * (count_include_pad=True, PyTorch's default). params must not be NULL.
 * Errors: an input of rank other than 4 or a window larger than the padded
 * input (CLG_STATUS_SHAPE); a window or stride below 1, a padding negative
 * or above half the window (CLG_STATUS_INVALID_ARGUMENT). */
CLG_API clg_tensor *clg_max_pool2d(clg_tensor *input, const clg_pool2d_params *params);
CLG_API clg_tensor *clg_avg_pool2d(clg_tensor *input, const clg_pool2d_params *params);

/* torch.flatten(a, start_axis): axes start_axis.. merged into one;
 * (N, C, H, W) -> (N, C H W) for start_axis 1. */
CLG_API clg_tensor *clg_flatten(clg_tensor *a, int start_axis);

/* Inverted dropout (torch.nn.functional.dropout): in training, each element
 * is zeroed with probability p and the rest scaled by 1 / (1 - p); the mask
 * comes from the counter-based Philox-4x32-10 generator on the device, keyed
 * by `seed` and starting at counter `offset` (the element index is added),
 * so the same (seed, offset) gives the same mask on every device and costs no
 * host round trip: element i uses index offset + i of stream 0, which is
 * also what the host generator draws for that seed, so consecutive calls
 * should advance offset by the element count (clg_dropout_layer does). Not
 * training, or p = 0: returns `a` itself (no copy, nothing recorded). p = 1
 * gives zeros; p outside [0, 1] is CLG_STATUS_INVALID_ARGUMENT. */
CLG_API clg_tensor *clg_dropout(clg_tensor *a, float p, bool training, uint64_t seed,
                                uint64_t offset);

/* ---- sampling (ops/random.c) ----
 *
 * Fresh step tensors of `shape` filled on the device from Philox-4x32-10,
 * keyed by `seed`, element i drawing from counter offset + i (as clg_dropout),
 * so the same (seed, offset) gives the same numbers on every device and on
 * the host generator (engine/random.h). Advance offset by the element count
 * between calls for fresh numbers. Not differentiable (nothing recorded).
 * clg_rand: uniform on [0, 1) (torch.rand). clg_randn: standard normal
 * (torch.randn), by Box-Muller from two uniforms. Errors: a rank outside
 * [1, CLG_MAX_RANK] or a dimension below 1 (CLG_STATUS_SHAPE). */
CLG_API clg_tensor *clg_rand(clg_context *ctx, int rank, const int64_t *shape, uint64_t seed,
                             uint64_t offset);
CLG_API clg_tensor *clg_randn(clg_context *ctx, int rank, const int64_t *shape, uint64_t seed,
                              uint64_t offset);

/* torch.nn.functional.batch_norm over (N, C) or (N, C, H, W), per channel
 * C. Training: normalises with the batch's mean and biased variance, and
 * updates running_mean and running_var in place (momentum, unbiased variance
 * for the running update, as PyTorch). Not training: uses the running
 * statistics. weight (scale) and bias (shift) may be NULL, and so may the
 * running statistics in training (then nothing is updated). Gradients to
 * input, weight and bias; the running statistics get none. Errors: a rank
 * other than 2 or 4, a running statistic, weight or bias not of shape [C],
 * no running statistics when not training, a training batch with one value
 * per channel, momentum outside [0, 1], eps not positive. */
CLG_API clg_tensor *clg_batch_norm(clg_tensor *input, clg_tensor *running_mean,
                                   clg_tensor *running_var, clg_tensor *weight,
                                   clg_tensor *bias, bool training, float momentum, float eps);

#ifdef __cplusplus
}
#endif
#endif
