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
#include "ops/internal.h"

#define SOURCE "ops/unary.cl"

enum { OP_NEG, OP_EXP, OP_LOG, OP_SQRT, OP_ABS, OP_POW, OP_AFFINE };
/* The kernels' names by op: unary_<name>_forward / _backward. */
static const char *const op_names[] = {"neg", "exp", "log", "sqrt", "abs", "pow", "affine"};

/* node (op_map's): op_map_saved keeps the function's name, p0 the exponent or
 * scale, p1 the shift; the input and output themselves are what backward
 * reads, and they live until the step ends. */
static void unary_backward(clg_context *ctx, const eng_node *node)
{
    op_map_backward(ctx, node, SOURCE, "unary");
}

static clg_tensor *unary(const char *name, int op, clg_tensor *a, float p0, float p1)
{
    return op_map(name, SOURCE, "unary", op_names[op], a, p0, p1, unary_backward);
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
