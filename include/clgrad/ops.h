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
/* out = a ^ b elementwise (torch.pow(Tensor, Tensor)): a negative base with a
 * non-integer exponent gives nan, as C's pow. Named apart from clg_pow, which
 * keeps its constant float exponent (C has no overloading); like the ops
 * above it takes two tensors and broadcasts. Gradients as PyTorch's, which
 * masks them at the edges: d/da is 0 where b == 0 (0^0 gives 0, not nan), and
 * d/db = a^b log(a) is 0 where a == 0 and b >= 0. */
CLG_API clg_tensor *clg_pow_tensor(clg_tensor *a, clg_tensor *b);
/* out = a * scale + shift, elementwise (1 - x is clg_affine(x, -1, 1)). */
CLG_API clg_tensor *clg_affine(clg_tensor *a, float scale, float shift);

/* Elementwise math. clg_pow raises to a constant exponent (clg_pow_tensor,
 * above, to a tensor one). */
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
/* x limited to [min, max] (torch.clamp): -INFINITY or INFINITY for a bound
 * that is absent; where min > max every element becomes max, and nan stays
 * nan. The gradient passes where min <= x <= max, bounds included, and is 0
 * elsewhere (nan included), as in PyTorch. A nan bound is refused. */
CLG_API clg_tensor *clg_clamp(clg_tensor *a, float min, float max);
/* x for x > 0, alpha (e^x - 1) for x <= 0 (torch.nn.functional.elu; PyTorch's
 * default alpha is 1). The derivative at 0 is alpha, as in PyTorch. */
CLG_API clg_tensor *clg_elu(clg_tensor *a, float alpha);
/* scale elu(x, alpha) with PyTorch's constants alpha = 1.6732632423543772848
 * and scale = 1.0507009873554804934 (torch.selu); derivative at 0: scale alpha. */
CLG_API clg_tensor *clg_selu(clg_tensor *a);
/* relu6(x + 3) / 6 (torch.nn.functional.hardsigmoid): 0 up to -3, 1 from 3;
 * the derivative is 1/6 strictly inside (-3, 3) and 0 at -3 and 3 themselves,
 * as in PyTorch. */
CLG_API clg_tensor *clg_hardsigmoid(clg_tensor *a);

/* A layer's bias and activation in one kernel each way, for x (N, F), the
 * output of a matrix product, and bias (F) or NULL:
 *   y = act(x + bias)
 * with the values and gradients (to x and bias) of clg_add followed by the
 * activation of the same name, but one launch forward and one backward (which
 * also sums the bias gradient over the batch) instead of two and three, and no
 * intermediate tensor. negative_slope is used by CLG_ACT_LEAKY_RELU only;
 * CLG_ACT_ELU is clg_elu with alpha 1 (PyTorch's default).
 * Errors: x not of rank 2, bias not of shape [F], an unknown act.
 *
 * The activations are one list, X(NAME, name, value): the enum value
 * CLG_ACT_<NAME> = value (values are ABI: append, never renumber), the
 * kernel-name suffix `name` (bias_<name>_forward, conv2d_..._<name>), and the
 * code ACT_<NAME> the kernels are built with (ops/internal.h). Adding one
 * means a line here, its case in ops/activation_math.cl, and its kernels
 * stamped out in ops/activation.cl and ops/conv.cl. */
#define CLG_ACTIVATIONS(X)                                                                    \
    X(IDENTITY, identity, 0)                                                                  \
    X(RELU, relu, 1)                                                                          \
    X(LEAKY_RELU, leaky_relu, 2)                                                              \
    X(SIGMOID, sigmoid, 3)                                                                    \
    X(TANH, tanh, 4)                                                                          \
    X(ELU, elu, 5)                                                                            \
    X(SELU, selu, 6)                                                                          \
    X(HARDSIGMOID, hardsigmoid, 7)
typedef enum clg_activation {
#define CLG_ACT_ENUMERATOR_(NAME, name, value) CLG_ACT_##NAME = value,
    CLG_ACTIVATIONS(CLG_ACT_ENUMERATOR_)
#undef CLG_ACT_ENUMERATOR_
} clg_activation;
CLG_API clg_tensor *clg_bias_activation(clg_tensor *x, clg_tensor *bias, clg_activation act,
                                        float negative_slope);

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
/* a b^T with b given untransposed (torch.nn.functional.linear without the
 * bias): (M,K)x(N,K) -> (M,N), or batched (B,M,K)x(B,N,K) -> (B,M,N). The
 * same values as clg_matmul(a, clg_transpose(b, -2, -1)), but b's gradient
 * comes out of one GEMM in b's own layout, where the transposed view's would
 * be computed transposed and then copied back element by element. */
CLG_API clg_tensor *clg_matmul_nt(clg_tensor *a, clg_tensor *b);
/* A fully connected layer: y (N, out) = act(x (N, in) weight^T + bias), bias
 * [out] or NULL (torch.nn.functional.linear, then the activation): the values
 * and gradients of clg_bias_activation(clg_matmul_nt(x, weight), bias, act,
 * negative_slope). With CLG_ACT_IDENTITY (and a bias), RELU, SIGMOID or TANH,
 * whose derivatives need only y, the GEMM adds the bias and applies the
 * activation as it stores y, where the GEMM layer can (clgrad's own kernels:
 * the usual choice on a CPU): one launch and one pass over y instead of two
 * and three. Elsewhere, and for the other activations, the two ops run.
 * Errors: x not (N, in), weight not (out, in), bias not [out], an unknown act. */
CLG_API clg_tensor *clg_linear_activation(clg_tensor *x, clg_tensor *weight, clg_tensor *bias,
                                          clg_activation act, float negative_slope);

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
/* act(clg_conv2d(input, weight, bias, params)), the activation fused into
 * the convolution's last pass forward and its first backward: values and
 * gradients equal clg_conv2d followed by clg_relu, clg_leaky_relu,
 * clg_sigmoid or clg_tanh bit for bit, with two launches and two passes over
 * the output fewer. negative_slope is used by CLG_ACT_LEAKY_RELU only.
 * Errors: clg_conv2d's, and an unknown act (CLG_STATUS_INVALID_ARGUMENT). */
CLG_API clg_tensor *clg_conv2d_act(clg_tensor *input, clg_tensor *weight, clg_tensor *bias,
                                   const clg_conv2d_params *params, clg_activation act,
                                   float negative_slope);

/* Window, stride and zero padding of a 2-D pooling, and PyTorch's options.
 * A block of zeros past pad_w means PyTorch's defaults, so blocks written
 * before the options existed keep their meaning: dilation 0 is read as 1,
 * ceil_mode false, count_exclude_pad false (count_include_pad=True). */
typedef struct clg_pool2d_params {
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_h, pad_w;
    int dilation_h, dilation_w; /* max pooling only (PyTorch's avg_pool2d has none) */
    bool ceil_mode;             /* Ho rounded up, as below */
    bool count_exclude_pad;     /* avg pooling: count_include_pad=False */
} clg_pool2d_params;

/* A square window, stride = window, no padding, dilation 1, ceil_mode and
 * count_exclude_pad false (PyTorch's defaults). */
CLG_API clg_pool2d_params clg_pool2d_params_default(int kernel);

/* torch.nn.functional.max_pool2d / avg_pool2d on (N, C, H, W) -> (N, C, Ho,
 * Wo) with Ho = (H + 2 pad_h - dilation_h (kernel_h - 1) - 1) / stride_h + 1,
 * the division rounded up under ceil_mode, less one where the last window
 * would then start past the input and left padding ((Ho - 1) stride_h >=
 * H + pad_h); Wo alike. Padding may be at most half the window (kernel, not
 * dilated), as in PyTorch. Max pooling reads taps dilation apart, padding
 * never wins (a window of padding only is -inf, its gradient dropped, as in
 * PyTorch), and it sends the gradient to the first maximum of each window (a
 * NaN counts as the maximum, as in PyTorch). Average pooling divides by the
 * window clipped to the padded input (count_include_pad=True, PyTorch's
 * default; only ceil_mode's last window is ever clipped), or with
 * count_exclude_pad by the window's real elements. params must not be NULL.
 * Errors: an input of rank other than 4 or a (dilated) window larger than
 * the padded input (CLG_STATUS_SHAPE); a window or stride below 1, a negative
 * dilation, a dilation above 1 for avg pooling, a padding negative or above
 * half the window (CLG_STATUS_INVALID_ARGUMENT). */
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

/* ---- Gaussian latents, for variational autoencoders (ops/gaussian.c) ---- */

/* The reparameterisation trick (Kingma and Welling 2013, 1312.6114):
 * z = mu + exp(0.5 logvar) eps, elementwise, with eps ~ N(0, I) given as a
 * tensor (clg_randn's), so the sample is a differentiable function of mu and
 * logvar. Gradients to all three, as PyTorch's expression
 * mu + torch.exp(0.5 * logvar) * eps: dmu = g,
 * dlogvar = 0.5 g eps exp(0.5 logvar), deps = g exp(0.5 logvar). Errors:
 * shapes that differ (CLG_STATUS_SHAPE; no broadcasting). */
CLG_API clg_tensor *clg_reparameterize(clg_tensor *mu, clg_tensor *logvar, clg_tensor *eps);
/* The KL divergence of N(mu, exp(logvar)) from N(0, I), per element
 *   -0.5 (1 + logvar - mu^2 - exp(logvar)),
 * the lecture's first ELBO term with its sign flipped (a loss to minimise).
 * reduction as the losses: SUM gives the usual VAE term
 * -0.5 sum(1 + logvar - mu^2 - exp(logvar)) over batch and latent, MEAN
 * divides it by the element count, NONE keeps mu's shape. Gradients:
 * dmu = g mu, dlogvar = 0.5 g (exp(logvar) - 1). Errors: mu and logvar of
 * different shapes (CLG_STATUS_SHAPE), an unknown reduction
 * (CLG_STATUS_INVALID_ARGUMENT). */
CLG_API clg_tensor *clg_gaussian_kl(clg_tensor *mu, clg_tensor *logvar, clg_reduction reduction);

/* ---- Transposed convolution (ops/conv.c) ---- */

/* Stride, zero padding, output padding and dilation of a transposed 2-D
 * convolution, per axis, as torch.nn.functional.conv_transpose2d's. */
typedef struct clg_conv_transpose2d_params {
    int stride_h, stride_w;
    int pad_h, pad_w;
    int output_pad_h, output_pad_w;
    int dilation_h, dilation_w;
} clg_conv_transpose2d_params;

/* stride 1, padding 0, output padding 0, dilation 1 (PyTorch's defaults). */
CLG_API clg_conv_transpose2d_params clg_conv_transpose2d_params_default(void);

/* torch.nn.functional.conv_transpose2d (groups 1): input (N, C_in, H, W),
 * weight (C_in, C_out, kh, kw), bias (C_out) or NULL -> (N, C_out, Ho, Wo),
 * Ho = (H - 1) stride_h - 2 pad_h + dilation_h (kh - 1) + output_pad_h + 1
 * (Wo alike): the gradient of clg_conv2d with respect to its input, so each
 * input pixel scatters a weighted copy of the kernel into the output. A GEMM
 * then col2im (conv2d's backward kernels), gradients to input, weight and
 * bias. params NULL means the defaults. Errors (CLG_STATUS_SHAPE unless
 * said): a rank other than 4, input channels other than the weight's first
 * axis, a bias whose length is not C_out, an output size below 1; a stride
 * or dilation below 1, a negative padding, an output padding negative or not
 * smaller than the stride or the dilation (CLG_STATUS_INVALID_ARGUMENT, as
 * PyTorch). */
CLG_API clg_tensor *clg_conv_transpose2d(clg_tensor *input, clg_tensor *weight, clg_tensor *bias,
                                         const clg_conv_transpose2d_params *params);

/* ---- recurrent networks (ops/recurrent.c) ----
 *
 * torch.nn.LSTM, torch.nn.GRU and torch.nn.RNN (tanh), one layer, one
 * direction, over a whole sequence, differentiable by back-propagation
 * through time.
 * input (T, N, I), or (N, T, I) when batch_first (PyTorch's option name);
 * weight_ih (G H, I), weight_hh (G H, H), bias_ih and bias_hh (G H) or NULL,
 * with G = 4 gates in PyTorch's order i, f, g, o for the LSTM, G = 3 in the
 * order r, z, n for the GRU and G = 1 for the RNN: torch.nn.LSTM's (GRU's)
 * weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 as they are. The GRU
 * is torch.nn.GRU's, b_hn inside the reset product:
 *   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r (W_hn h + b_hn))     h' = (1 - z) n + z h h0, c0: (1, N, H) as PyTorch (or (N, H)), or NULL
 * for zeros. Returns the hidden sequence (T, N, H), or (N, T, H) when
 * batch_first, and when the pointers are not NULL the last hidden state h_n
 * and (LSTM) cell c_n, each (1, N, H) as PyTorch; all are step tensors (the
 * batch-first sequence is a strided view). Gradients flow from any of the
 * three to the input, weights, biases, h0 and c0. The input projection of
 * all steps is one GEMM; each step is one GEMM h_{t-1} W_hh^T and one fused
 * kernel, each way; the tape keeps the gates and the (h, c) sequence, which
 * is what BPTT needs. For truncated BPTT pass the previous batch's h_n / c_n
 * copied into persistent tensors (no gradient crosses batches).
 * Errors (CLG_STATUS_SHAPE): an empty sequence (T, N or H of 0), input not
 * of rank 3, weights or biases that do not fit, an h0 or c0 of another
 * shape; each message names the op and the shapes. */
CLG_API clg_tensor *clg_lstm(clg_tensor *input, clg_tensor *h0, clg_tensor *c0,
                             clg_tensor *weight_ih, clg_tensor *weight_hh, clg_tensor *bias_ih,
                             clg_tensor *bias_hh, bool batch_first, clg_tensor **h_n,
                             clg_tensor **c_n);
CLG_API clg_tensor *clg_gru(clg_tensor *input, clg_tensor *h0, clg_tensor *weight_ih,
                            clg_tensor *weight_hh, clg_tensor *bias_ih, clg_tensor *bias_hh,
                            bool batch_first, clg_tensor **h_n);
CLG_API clg_tensor *clg_rnn(clg_tensor *input, clg_tensor *h0, clg_tensor *weight_ih,
                            clg_tensor *weight_hh, clg_tensor *bias_ih, clg_tensor *bias_hh,
                            bool batch_first, clg_tensor **h_n);

/* torch.nn.functional.embedding: weight (V, D) float32, ids int32 of any
 * shape (rank < 4) -> (ids..., D). The gradient goes to weight only
 * (deterministic: no atomics). The ids are on the device and are not read
 * back: an id outside [0, V) makes its output row NaN. clg_embedding_host
 * takes the ids from host memory, checks every one (an id outside [0, V) is
 * CLG_STATUS_INVALID_ARGUMENT naming the id, its position and the shapes),
 * uploads them into the step and calls clg_embedding. */
CLG_API clg_tensor *clg_embedding(clg_tensor *weight, clg_tensor *ids);
CLG_API clg_tensor *clg_embedding_host(clg_tensor *weight, const int32_t *ids, int rank,
                                       const int64_t *shape);

#ifdef __cplusplus
}
#endif
#endif
