/* ops/batchnorm.c: batch normalisation, torch.nn.functional.batch_norm
 * (Ioffe and Szegedy 2015), over (N, C) or (N, C, H, W), per channel c.
 *
 *   xhat = (x - mean_c) / sqrt(var_c + eps)     out = w_c xhat + b_c
 * Training: mean_c and the biased var_c are the batch's, over N (and H, W),
 * and the running statistics move towards them: running = (1 - momentum)
 * running + momentum stat, the variance unbiased (times M / (M - 1), M the
 * count per channel). Since the statistics depend on every element,
 *   dx = w_c / sqrt(var_c + eps) (g - mean_c(g) - xhat mean_c(g xhat)).
 * Not training: mean_c, var_c are the running statistics, constants, so
 *   dx = g w_c / sqrt(var_c + eps).
 * Both modes: dw_c = sum_c(g xhat), db_c = sum_c(g); the running statistics
 * get no gradient. Forward saves mean_c and 1 / sqrt(var_c + eps) per
 * channel. Kernels: ops/batchnorm.cl (two launches forward, two backward). */
#include <math.h>

#include "ops/internal.h"

#define SOURCE "ops/batchnorm.cl"

static const char NAME[] = "clg_batch_norm";

/* The input as (N, C, inner) and its strided reading. */
typedef struct bn_view {
    int channels, inner, count; /* count = N inner: elements per channel */
    cl_int shape[4], strides[4];
} bn_view;

static bn_view view_of(const clg_tensor *x)
{
    bn_view v;
    v.channels = (int)x->shape[1];
    v.inner = x->rank == 4 ? (int)(x->shape[2] * x->shape[3]) : 1;
    v.count = (int)x->shape[0] * v.inner;
    eng_shape4(x, v.shape);
    eng_strides4(x, v.strides);
    return v;
}

/* A buffer argument from an expression (CLRT_ARG_MEM needs an lvalue). */
#define ARG_MEM_OF(m) ((clrt_arg){sizeof(cl_mem), &(cl_mem){(m)}, 0})

/* An optional tensor's buffer and offset; an absent one passes `other`'s
 * buffer, which the kernel never reads through it. */
#define ARG_OPTIONAL(t, other)                                                                     \
    ARG_MEM_OF((t) ? (t)->mem : (other)->mem), CLRT_ARG_INT((t) ? (t)->offset : 0)

/* A per-channel vector as kernel arguments (buffer, offset, stride, present). */
#define ARG_CHANNEL_VEC(t, other)                                                                  \
    ARG_OPTIONAL(t, other), CLRT_ARG_INT((t) ? (t)->strides[0] : 0), CLRT_ARG_INT((t) != NULL)

/* What a batch norm node keeps besides its inputs x, weight, bias (either
 * may be NULL) and saved[0] mean, saved[1] invstd. */
typedef struct batchnorm_saved {
    bool training; /* batch statistics (they depend on x) rather than running ones */
} batchnorm_saved;

static void batchnorm_backward(clg_context *ctx, const eng_node *node)
{
    const batchnorm_saved *saved = node->state;
    clg_tensor *x = node->inputs[0], *w = node->inputs[1], *b = node->inputs[2];
    clg_tensor *mean = node->saved[0], *invstd = node->saved[1], *g = node->output->grad;
    bool training = saved->training;
    bn_view v = view_of(x);
    bool acc_x = false, acc_w = false, acc_b = false;
    clg_tensor *dx = eng_grad_dest(ctx, x, &acc_x);
    clg_tensor *dw = eng_grad_dest(ctx, w, &acc_w);
    clg_tensor *db = eng_grad_dest(ctx, b, &acc_b);
    bool need_sums = dx && training;
    clg_tensor *sums =
        need_sums ? eng_new(ctx, CLG_DTYPE_F32, 1, (int64_t[]){2 * v.channels}) : NULL;
    if (need_sums && !sums)
        return;
    /* a work-group per channel: each work-item walks its share once, then two trees */
    char s[64];
    if ((need_sums || dw || db) &&
        !op_loops_fit(ctx, op_div_up((size_t)v.count, op_plan(ctx)->reduce_group) +
                               2 * op_tree_steps(ctx),
                      "%s backward of input %s", NAME, eng_shape_str(x, s, sizeof s)))
        return;
    if ((need_sums || dw || db) &&
        !OP_LAUNCH_GROUPS(ctx, SOURCE, "batchnorm_backward_stats", v.channels,
                   ENG_ARG_TENSOR(g), ENG_ARG_TENSOR(x), OP_ARG4(v.shape), OP_ARG4(v.strides),
                   CLRT_ARG_INT(v.channels), CLRT_ARG_INT(v.inner), CLRT_ARG_INT(v.count),
                   ENG_ARG_TENSOR(mean), ENG_ARG_TENSOR(invstd), ARG_OPTIONAL(sums, g),
                   CLRT_ARG_INT(need_sums), ARG_OPTIONAL(dw, g), CLRT_ARG_INT(dw != NULL),
                   CLRT_ARG_INT(acc_w), ARG_OPTIONAL(db, g), CLRT_ARG_INT(db != NULL),
                   CLRT_ARG_INT(acc_b)))
        return;
    if (!dx)
        return;
    int n = (int)clg_tensor_numel(x);
    OP_LAUNCH(ctx, SOURCE, "batchnorm_backward_input", (size_t)n, ENG_ARG_TENSOR(g),
              ENG_ARG_TENSOR(x), OP_ARG4(v.shape), OP_ARG4(v.strides), CLRT_ARG_INT(v.channels),
              CLRT_ARG_INT(v.inner), CLRT_ARG_INT(v.count), CLRT_ARG_INT(training),
              ENG_ARG_TENSOR(mean), ENG_ARG_TENSOR(invstd), ARG_CHANNEL_VEC(w, x),
              ARG_OPTIONAL(sums, g), ENG_ARG_TENSOR(dx), CLRT_ARG_INT(n), CLRT_ARG_INT(acc_x));
}

/* A per-channel tensor (running statistic, weight or bias) must be [C]. */
static bool check_channel_vec(clg_context *ctx, const clg_tensor *x, const clg_tensor *t,
                              const char *what)
{
    if (!t || (t->rank == 1 && t->shape[0] == x->shape[1]))
        return true;
    char s[64], u[64];
    eng_fail(ctx, CLG_STATUS_SHAPE,
             "%s: %s of shape %s does not match the %lld channels of input %s", NAME, what,
             eng_shape_str(t, s, sizeof s), (long long)x->shape[1], eng_shape_str(x, u, sizeof u));
    return false;
}

static bool check_args(clg_context *ctx, clg_tensor *x, clg_tensor *rm, clg_tensor *rv,
                       clg_tensor *w, clg_tensor *b, bool training, float momentum, float eps)
{
    char s[64];
    if (x->rank != 2 && x->rank != 4) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: input must be (N, C) or (N, C, H, W), not %s", NAME,
                 eng_shape_str(x, s, sizeof s));
        return false;
    }
    if (!check_channel_vec(ctx, x, rm, "running_mean") ||
        !check_channel_vec(ctx, x, rv, "running_var") || !check_channel_vec(ctx, x, w, "weight") ||
        !check_channel_vec(ctx, x, b, "bias"))
        return false;
    if (!training && (!rm || !rv)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: running_mean and running_var are needed when not training (input %s)", NAME,
                 eng_shape_str(x, s, sizeof s));
        return false;
    }
    int64_t per_channel = x->shape[0] * (x->rank == 4 ? x->shape[2] * x->shape[3] : 1);
    if (training && per_channel <= 1) {
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 "%s: expected more than 1 value per channel when training, got input %s", NAME,
                 eng_shape_str(x, s, sizeof s));
        return false;
    }
    if (!(momentum >= 0.0f && momentum <= 1.0f)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: momentum %g is outside [0, 1]", NAME,
                 (double)momentum);
        return false;
    }
    if (!(eps > 0.0f) || isinf(eps)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: eps %g must be positive and finite", NAME,
                 (double)eps);
        return false;
    }
    return true;
}

CLG_API clg_tensor *clg_batch_norm(clg_tensor *input, clg_tensor *running_mean,
                                   clg_tensor *running_var, clg_tensor *weight, clg_tensor *bias,
                                   bool training, float momentum, float eps)
{
    /* the optional tensors take part in the context, sticky-error and dtype
     * checks only when given */
    clg_tensor *given[5];
    int n_given = 0;
    given[n_given++] = input;
    clg_tensor *optional[4] = {running_mean, running_var, weight, bias};
    for (int k = 0; k < 4; k++)
        if (optional[k])
            given[n_given++] = optional[k];
    clg_context *ctx = eng_op_begin_f32(NAME, n_given, given);
    if (!ctx ||
        !check_args(ctx, input, running_mean, running_var, weight, bias, training, momentum, eps))
        return NULL;
    bn_view v = view_of(input);
    int64_t c_shape[1] = {v.channels};
    clg_tensor *mean = eng_new(ctx, CLG_DTYPE_F32, 1, c_shape);
    clg_tensor *invstd = eng_new(ctx, CLG_DTYPE_F32, 1, c_shape);
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, input->rank, input->shape);
    if (!mean || !invstd || !out)
        return NULL;
    /* a work-group per channel: each work-item walks its share twice (the
     * mean, then the squared deviations), each pass followed by a tree */
    char s[64];
    if (training &&
        !op_loops_fit(ctx, 2 * (op_div_up((size_t)v.count, op_plan(ctx)->reduce_group) +
                                op_tree_steps(ctx)),
                      "%s of input %s", NAME, eng_shape_str(input, s, sizeof s)))
        return NULL;
    bool stats_ok =
        training
            ? OP_LAUNCH_GROUPS(ctx, SOURCE, "batchnorm_stats", v.channels,
                        ENG_ARG_TENSOR(input), OP_ARG4(v.shape), OP_ARG4(v.strides),
                        CLRT_ARG_INT(v.channels), CLRT_ARG_INT(v.inner), CLRT_ARG_INT(v.count),
                        CLRT_ARG_FLOAT(momentum), CLRT_ARG_FLOAT(eps),
                        ARG_CHANNEL_VEC(running_mean, input), ARG_CHANNEL_VEC(running_var, input),
                        ENG_ARG_TENSOR(mean), ENG_ARG_TENSOR(invstd))
            : OP_LAUNCH(ctx, SOURCE, "batchnorm_stats_eval", (size_t)v.channels,
                        ENG_ARG_TENSOR(running_mean), CLRT_ARG_INT(running_mean->strides[0]),
                        ENG_ARG_TENSOR(running_var), CLRT_ARG_INT(running_var->strides[0]),
                        CLRT_ARG_FLOAT(eps), ENG_ARG_TENSOR(mean), ENG_ARG_TENSOR(invstd),
                        CLRT_ARG_INT(v.channels));
    if (!stats_ok)
        return NULL;
    int n = (int)clg_tensor_numel(out);
    if (!OP_LAUNCH(ctx, SOURCE, "batchnorm_forward", (size_t)n, ENG_ARG_TENSOR(input),
                   OP_ARG4(v.shape), OP_ARG4(v.strides), CLRT_ARG_INT(v.channels),
                   CLRT_ARG_INT(v.inner), ENG_ARG_TENSOR(mean), ENG_ARG_TENSOR(invstd),
                   ARG_CHANNEL_VEC(weight, input), ARG_CHANNEL_VEC(bias, input),
                   ENG_ARG_TENSOR(out), CLRT_ARG_INT(n)))
        return NULL;
    clg_tensor *inputs[3] = {input, weight, bias};
    if (eng_needs_grad(ctx, 3, inputs)) {
        eng_node *node = eng_record(ctx, NAME, batchnorm_backward, out, 3, inputs,
                                    sizeof(batchnorm_saved));
        if (!node)
            return NULL;
        node->saved[0] = mean;
        node->saved[1] = invstd;
        ((batchnorm_saved *)node->state)->training = training;
    }
    return out;
}
