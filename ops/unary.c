/* ops/unary.c: elementwise math on one tensor: neg, exp, log, sqrt, abs, pow
 * with a constant exponent, and affine (x scale + shift). The output has the
 * input's shape; the input may be a strided view.
 *
 *   out = -x               dx = -g
 *   out = exp(x)           dx = g out                (from the output, as PyTorch)
 *   out = log(x)           dx = g / x
 *   out = sqrt(x)          dx = g / (2 out)          (from the output, as PyTorch)
 *   out = |x|              dx = g sign(x)            sign(0) = 0, as PyTorch
 *   out = x^p              dx = g p x^(p-1)          0 when p == 0, as PyTorch
 *   out = x scale + shift  dx = g scale
 * log and sqrt follow IEEE outside their domains (log(0) = -inf, log(-1) =
 * nan, sqrt(-1) = nan), as torch.log and torch.sqrt do; so do their
 * gradients (d sqrt at 0 is inf). Kernels: ops/unary.cl. */
#include <stdio.h>

#include "ops/internal.h"

#define SOURCE "ops/unary.cl"

enum { OP_NEG, OP_EXP, OP_LOG, OP_SQRT, OP_ABS, OP_POW, OP_AFFINE };
/* The kernels' names by op: unary_<name>_forward / _backward. */
static const char *const op_names[] = {"neg", "exp", "log", "sqrt", "abs", "pow", "affine"};

/* node: i[0] the op code, f[0] the exponent or scale; the input and output
 * themselves are what backward reads, and they live until the step ends. */
static void unary_backward(clg_context *ctx, const eng_node *node)
{
    clg_tensor *x = node->inputs[0], *out = node->output;
    bool accumulate = false;
    clg_tensor *dst = eng_grad_dest(ctx, x, &accumulate);
    if (!dst)
        return;
    cl_int shape[4], x_str[4];
    eng_shape4(x, shape);
    eng_strides4(x, x_str);
    int n = (int)clg_tensor_numel(x);
    char kernel[64];
    bool contiguous = clg_tensor_is_contiguous(x);
    snprintf(kernel, sizeof kernel, "unary_%s_backward%s", op_names[node->i[0]],
             contiguous ? "_contiguous" : "");
    if (contiguous)
        OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, CLRT_ARG_FLOAT(node->f[0]),
                  ENG_ARG_TENSOR(out->grad), ENG_ARG_TENSOR(x), ENG_ARG_TENSOR(out),
                  ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
    else
        OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, CLRT_ARG_FLOAT(node->f[0]),
                  ENG_ARG_TENSOR(out->grad), ENG_ARG_TENSOR(x), OP_ARG4(x_str), OP_ARG4(shape),
                  ENG_ARG_TENSOR(out), ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n),
                  CLRT_ARG_INT(accumulate));
}

static clg_tensor *unary(const char *name, int op, clg_tensor *a, float p0, float p1)
{
    clg_context *ctx = eng_op_begin_f32(name, 1, &a);
    if (!ctx)
        return NULL;
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, a->rank, a->shape);
    if (!out)
        return NULL;
    cl_int shape[4], a_str[4];
    eng_shape4(a, shape);
    eng_strides4(a, a_str);
    int n = (int)clg_tensor_numel(out);
    char kernel[64];
    bool contiguous = clg_tensor_is_contiguous(a);
    snprintf(kernel, sizeof kernel, "unary_%s_forward%s", op_names[op],
             contiguous ? "_contiguous" : "");
    bool ok = contiguous
                  ? OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, CLRT_ARG_FLOAT(p0),
                              CLRT_ARG_FLOAT(p1), ENG_ARG_TENSOR(a), ENG_ARG_TENSOR(out),
                              CLRT_ARG_INT(n))
                  : OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, CLRT_ARG_FLOAT(p0),
                              CLRT_ARG_FLOAT(p1), ENG_ARG_TENSOR(a), OP_ARG4(a_str),
                              OP_ARG4(shape), ENG_ARG_TENSOR(out), CLRT_ARG_INT(n));
    if (!ok)
        return NULL;
    if (eng_needs_grad(ctx, 1, &a)) {
        eng_node *node = eng_record(ctx, name, unary_backward, out, 1, &a);
        if (!node)
            return NULL;
        node->i[0] = op;
        node->f[0] = p0;
    }
    return out;
}

CLG_API clg_tensor *clg_neg(clg_tensor *a) { return unary("clg_neg", OP_NEG, a, 0, 0); }
CLG_API clg_tensor *clg_exp(clg_tensor *a) { return unary("clg_exp", OP_EXP, a, 0, 0); }
CLG_API clg_tensor *clg_log(clg_tensor *a) { return unary("clg_log", OP_LOG, a, 0, 0); }
CLG_API clg_tensor *clg_sqrt(clg_tensor *a) { return unary("clg_sqrt", OP_SQRT, a, 0, 0); }
CLG_API clg_tensor *clg_abs(clg_tensor *a) { return unary("clg_abs", OP_ABS, a, 0, 0); }

CLG_API clg_tensor *clg_pow(clg_tensor *a, float exponent)
{
    return unary("clg_pow", OP_POW, a, exponent, 0);
}

CLG_API clg_tensor *clg_affine(clg_tensor *a, float scale, float shift)
{
    return unary("clg_affine", OP_AFFINE, a, scale, shift);
}
