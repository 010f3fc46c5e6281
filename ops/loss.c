/* ops/loss.c: the losses of torch.nn.functional with reduction MEAN, SUM or
 * NONE: mse_loss, binary_cross_entropy, binary_cross_entropy_with_logits and
 * cross_entropy (class-index labels).
 *
 *   mse:        l = (x - t)^2                        dx = 2 (x - t) g   dt = -dx
 *   bce:        l = -(t log x + (1 - t) log(1 - x))  dx = g (x - t) / max(x (1 - x), 1e-12)
 *               each log clamped at -100 (PyTorch's rule, so x = 0 or 1 stays finite)
 *   bce logits: l = max(x, 0) - x t + log(1 + exp(-|x|))   dx = g (sigmoid(x) - t)
 *   cross-entropy, row n of logits x (N, C) with label y:
 *               l = logsumexp(x[n]) - x[n, y]        dx[n, c] = g[n] (softmax(x[n])_c - [c = y])
 * The per-element (or per-row) losses come from one kernel with its own
 * backward. For cross-entropy, SUM and MEAN are then clg_sum_all /
 * clg_mean_all, whose backward supplies g (and g / count for MEAN); the
 * per-element losses with SUM or MEAN are never stored: a kernel sums them as
 * it computes them, as clg_sum_all would (the same additions), and the
 * backward gives every element the scalar's g (g / count). Cross-entropy is fused (STYLE.md
 * item 10): a separate log_softmax would write and read back a whole (N, C)
 * tensor, where the fused kernel keeps only N logsumexps for backward.
 * bce and bce with logits give the target no gradient (documented in ops.h).
 * A label outside [0, C) makes its row's loss and gradient NaN.
 * Kernels: ops/loss.cl. */
#include <stdio.h>

#include "ops/internal.h"

#define SOURCE "ops/loss.cl"

enum { LOSS_MSE, LOSS_BCE, LOSS_BCE_LOGITS };
/* the kernels' names: pointwise_loss_{forward,backward}_<name> */
static const char *const loss_names[] = {"mse", "bce", "bce_logits"};

static bool check_reduction(clg_context *ctx, const char *name, clg_reduction reduction)
{
    if (reduction != CLG_REDUCTION_MEAN && reduction != CLG_REDUCTION_SUM &&
        reduction != CLG_REDUCTION_NONE) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: unknown reduction %d", name,
                 (int)reduction);
        return false;
    }
    return true;
}

static clg_tensor *reduce(clg_tensor *losses, clg_reduction reduction)
{
    switch (reduction) {
    case CLG_REDUCTION_SUM: return clg_sum_all(losses);
    case CLG_REDUCTION_MEAN: return clg_mean_all(losses);
    default: return losses;
    }
}

/* ---- per-element losses ---- */

/* What a per-element loss's node keeps besides its inputs x and t. */
typedef struct pointwise_saved {
    int kind;     /* LOSS_MSE, LOSS_BCE or LOSS_BCE_LOGITS */
    bool reduced; /* the output is the losses' sum or mean, a scalar whose
                   * gradient every element gets, not each element's loss */
    float scale;  /* 1, or 1 / count for MEAN */
} pointwise_saved;

/* node: inputs x and t (contiguous), pointwise_saved. */
static void pointwise_backward(clg_context *ctx, const eng_node *node)
{
    const pointwise_saved *saved = node->state;
    clg_tensor *x = node->inputs[0], *t = node->inputs[1], *out = node->output;
    int n = (int)clg_tensor_numel(x);
    /* only mse differentiates the target */
    int inputs = saved->kind == LOSS_MSE ? 2 : 1;
    char kernel[48];
    snprintf(kernel, sizeof kernel, "pointwise_loss_backward_%s%s", saved->reduced ? "sum_" : "",
             loss_names[saved->kind]);
    for (int which = 0; which < inputs; which++) {
        bool accumulate = false;
        clg_tensor *dst = eng_grad_dest(ctx, node->inputs[which], &accumulate);
        if (!dst)
            continue;
        if (saved->reduced)
            OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, CLRT_ARG_INT(which),
                      ENG_ARG_TENSOR(out->grad), CLRT_ARG_FLOAT(saved->scale), ENG_ARG_TENSOR(x),
                      ENG_ARG_TENSOR(t), ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n),
                      CLRT_ARG_INT(accumulate));
        else
            OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, CLRT_ARG_INT(which),
                      ENG_ARG_TENSOR(out->grad), ENG_ARG_TENSOR(x), ENG_ARG_TENSOR(t),
                      ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
    }
}

/* The losses of x against t (contiguous), each stored (NONE), or their sum
 * or mean without storing them: pointwise_loss_sum_<name> is the first stage
 * of a whole-tensor sum over the plan's vectors of losses, op_sum_all_finish
 * the second (see ops/loss.cl). *scale: 1, or 1 / count for MEAN. */
static clg_tensor *pointwise_forward(clg_context *ctx, const char *name, int kind, clg_tensor *x,
                                     clg_tensor *t, clg_reduction reduction, float *scale)
{
    int n = (int)clg_tensor_numel(x);
    char kernel[48];
    *scale = 1.0f;
    if (reduction == CLG_REDUCTION_NONE) {
        clg_tensor *losses = eng_new(ctx, CLG_DTYPE_F32, x->rank, x->shape);
        snprintf(kernel, sizeof kernel, "pointwise_loss_forward_%s", loss_names[kind]);
        bool ok = losses && OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, ENG_ARG_TENSOR(x),
                                      ENG_ARG_TENSOR(t), ENG_ARG_TENSOR(losses), CLRT_ARG_INT(n));
        return ok ? losses : NULL;
    }
    /* the plan's vectors of losses (the elements past the last one take a
     * work-item each: every plan's reduce_group is at least its width) */
    op_sum_all sum;
    if (!op_sum_all_setup(ctx, name, n / op_plan(ctx)->vector_width, &sum))
        return NULL;
    if (reduction == CLG_REDUCTION_MEAN)
        *scale = 1.0f / (float)n; /* the mean of nothing is NaN, as in PyTorch */
    snprintf(kernel, sizeof kernel, "pointwise_loss_sum_%s", loss_names[kind]);
    if (!OP_LAUNCH_GROUPS(ctx, SOURCE, kernel, sum.groups, ENG_ARG_TENSOR(x), ENG_ARG_TENSOR(t),
                          CLRT_ARG_INT(n), ENG_ARG_TENSOR(sum.partial),
                          CLRT_ARG_FLOAT(sum.groups > 1 ? 1.0f : *scale)) ||
        !op_sum_all_finish(ctx, &sum, *scale))
        return NULL;
    return sum.out;
}

static clg_tensor *pointwise_loss(const char *name, int kind, clg_tensor *x, clg_tensor *t,
                                  clg_reduction reduction)
{
    clg_tensor *inputs[2] = {x, t};
    clg_context *ctx = eng_op_begin_f32(name, 2, inputs);
    if (!ctx || !check_reduction(ctx, name, reduction))
        return NULL;
    if (!eng_same_shape(x, t)) {
        const clg_tensor *ts[2] = {x, t};
        op_fail_shapes(ctx, name, "differ (input and target must have the same shape)", 2, ts);
        return NULL;
    }
    /* the kernels read both contiguously (views are copied, on the tape) */
    if (!(inputs[0] = eng_contiguous(ctx, x)) || !(inputs[1] = eng_contiguous(ctx, t)))
        return NULL;
    float scale;
    clg_tensor *out = pointwise_forward(ctx, name, kind, inputs[0], inputs[1], reduction, &scale);
    if (!out)
        return NULL;
    /* the target of bce takes no gradient, so only its input decides */
    int n_grad_inputs = kind == LOSS_MSE ? 2 : 1;
    if (eng_needs_grad(ctx, n_grad_inputs, inputs)) {
        eng_node *node =
            eng_record(ctx, name, pointwise_backward, out, 2, inputs, sizeof(pointwise_saved));
        if (!node)
            return NULL;
        *(pointwise_saved *)node->state = (pointwise_saved){
            .kind = kind, .reduced = reduction != CLG_REDUCTION_NONE, .scale = scale};
    }
    return out;
}

CLG_API clg_tensor *clg_mse_loss(clg_tensor *input, clg_tensor *target, clg_reduction reduction)
{
    return pointwise_loss("clg_mse_loss", LOSS_MSE, input, target, reduction);
}

CLG_API clg_tensor *clg_bce_loss(clg_tensor *input, clg_tensor *target, clg_reduction reduction)
{
    return pointwise_loss("clg_bce_loss", LOSS_BCE, input, target, reduction);
}

CLG_API clg_tensor *clg_bce_with_logits_loss(clg_tensor *input, clg_tensor *target,
                                             clg_reduction reduction)
{
    return pointwise_loss("clg_bce_with_logits_loss", LOSS_BCE_LOGITS, input, target, reduction);
}

/* ---- cross-entropy ---- */

/* saved[0] logsumexp per row (N) */
static void cross_entropy_backward(clg_context *ctx, const eng_node *node)
{
    clg_tensor *x = node->inputs[0], *labels = node->inputs[1], *lse = node->saved[0];
    bool accumulate = false;
    clg_tensor *dst = eng_grad_dest(ctx, x, &accumulate);
    if (!dst)
        return;
    int n = (int)clg_tensor_numel(x);
    OP_LAUNCH(ctx, SOURCE, "cross_entropy_backward", (size_t)n, ENG_ARG_TENSOR(x),
              CLRT_ARG_INT(x->strides[0]), CLRT_ARG_INT(x->strides[1]), CLRT_ARG_INT(x->shape[1]),
              ENG_ARG_TENSOR(labels), CLRT_ARG_INT(labels->strides[0]), ENG_ARG_TENSOR(lse),
              ENG_ARG_TENSOR(node->output->grad), ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n),
              CLRT_ARG_INT(accumulate));
}

CLG_API clg_tensor *clg_cross_entropy_loss(clg_tensor *logits, clg_tensor *labels,
                                           clg_reduction reduction)
{
    static const char name[] = "clg_cross_entropy_loss";
    clg_tensor *inputs[2] = {logits, labels};
    clg_context *ctx = eng_op_begin(name, 2, inputs);
    if (!ctx || !check_reduction(ctx, name, reduction))
        return NULL;
    char s[64], u[64];
    if (logits->rank != 2 || logits->dtype != CLG_DTYPE_F32) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: logits must be float32 of shape (N, C), not %s%s",
                 name, logits->dtype == CLG_DTYPE_F32 ? "" : "int32 ",
                 eng_shape_str(logits, s, sizeof s));
        return NULL;
    }
    if (labels->dtype != CLG_DTYPE_I32) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: labels must be int32 class indices, not float32", name);
        return NULL;
    }
    if (labels->rank != 1 || labels->shape[0] != logits->shape[0]) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: logits %s need labels of shape [%lld], not %s", name,
                 eng_shape_str(logits, s, sizeof s), (long long)logits->shape[0],
                 eng_shape_str(labels, u, sizeof u));
        return NULL;
    }
    int rows = (int)logits->shape[0];
    /* a work-item walks its row of logits twice (the backward has no loop) */
    if (!op_loops_fit(ctx, rows ? op_loops_mul(2, (size_t)logits->shape[1]) : 0,
                      "%s of logits %s", name, eng_shape_str(logits, s, sizeof s)))
        return NULL;
    clg_tensor *losses = eng_new(ctx, CLG_DTYPE_F32, 1, logits->shape);
    clg_tensor *lse = eng_new(ctx, CLG_DTYPE_F32, 1, logits->shape);
    if (!losses || !lse)
        return NULL;
    if (!OP_LAUNCH(ctx, SOURCE, "cross_entropy_forward", (size_t)rows, ENG_ARG_TENSOR(logits),
                   CLRT_ARG_INT(logits->strides[0]), CLRT_ARG_INT(logits->strides[1]),
                   CLRT_ARG_INT(logits->shape[1]), ENG_ARG_TENSOR(labels),
                   CLRT_ARG_INT(labels->strides[0]), ENG_ARG_TENSOR(losses), ENG_ARG_TENSOR(lse),
                   CLRT_ARG_INT(rows)))
        return NULL;
    if (eng_needs_grad(ctx, 1, &logits)) {
        eng_node *node = eng_record(ctx, name, cross_entropy_backward, losses, 2, inputs, 0);
        if (!node)
            return NULL;
        node->saved[0] = lse;
    }
    return reduce(losses, reduction);
}
