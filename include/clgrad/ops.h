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

/* Matrix product through CLBlast: (M,K)x(K,N) -> (M,N), or batched
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

#ifdef __cplusplus
}
#endif
#endif
