/* ops/activation.c: activation functions of one tensor: sigmoid, tanh,
 * relu, leaky_relu, softplus, and the perceptron's step (heaviside). The
 * output has the input's shape; the input may be a strided view.
 *
 *   sigmoid     y = 1 / (1 + e^-x)          dx = g (1 - y) y     (from the output)
 *   tanh        y = tanh x                  dx = g (1 - y^2)     (from the output)
 *   relu        y = max(x, 0)               dx = g [y > 0]       relu'(0) = 0
 *   leaky_relu  y = x > 0 ? x : s x         dx = x > 0 ? g : g s
 *   softplus    y = log(1 + e^(b x)) / b    dx = g sigmoid(b x)
 *               y = x where b x > threshold dx = g
 *   heaviside   y = x > 0 ? 1 : x == 0 ? at_zero : 0    (no derivative)
 * The kinks follow PyTorch (torch.nn.functional of the same names), so
 * golden gradients agree at exactly 0. softplus is evaluated as
 * (max(bx, 0) + log1p(e^-|bx|)) / b and its derivative as a sigmoid built
 * from e^-|bx|, so neither overflows whatever the threshold. heaviside's
 * derivative is 0 almost everywhere and undefined at 0, useless for
 * training: like torch.heaviside it records nothing, and its result never
 * requires a gradient. Kernels: ops/activation.cl. */
#include "ops/internal.h"

#define SOURCE "ops/activation.cl"

enum { OP_SIGMOID, OP_TANH, OP_RELU, OP_LEAKY_RELU, OP_SOFTPLUS, OP_HEAVISIDE };

/* node: i[0] the op code, f[0..1] its parameters; backward reads the input
 * and output themselves, which live until the step ends. */
static void activation_backward(clg_context *ctx, const eng_node *node)
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
    OP_LAUNCH(ctx, SOURCE, "activation_backward", (size_t)n, CLRT_ARG_INT(node->i[0]),
              CLRT_ARG_FLOAT(node->f[0]), CLRT_ARG_FLOAT(node->f[1]), ENG_ARG_TENSOR(out->grad),
              ENG_ARG_TENSOR(x), OP_ARG4(x_str), OP_ARG4(shape), ENG_ARG_TENSOR(out),
              ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
}

static clg_tensor *activation(const char *name, int op, clg_tensor *a, float p0, float p1)
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
    if (!OP_LAUNCH(ctx, SOURCE, "activation_forward", (size_t)n, CLRT_ARG_INT(op),
                   CLRT_ARG_FLOAT(p0), CLRT_ARG_FLOAT(p1), ENG_ARG_TENSOR(a), OP_ARG4(a_str),
                   OP_ARG4(shape), ENG_ARG_TENSOR(out), CLRT_ARG_INT(n)))
        return NULL;
    if (op != OP_HEAVISIDE && eng_needs_grad(ctx, 1, &a)) {
        eng_node *node = eng_record(ctx, name, activation_backward, out, 1, &a);
        if (!node)
            return NULL;
        node->i[0] = op;
        node->f[0] = p0;
        node->f[1] = p1;
    }
    return out;
}

CLG_API clg_tensor *clg_sigmoid(clg_tensor *a)
{
    return activation("clg_sigmoid", OP_SIGMOID, a, 0, 0);
}

CLG_API clg_tensor *clg_tanh(clg_tensor *a) { return activation("clg_tanh", OP_TANH, a, 0, 0); }
CLG_API clg_tensor *clg_relu(clg_tensor *a) { return activation("clg_relu", OP_RELU, a, 0, 0); }

CLG_API clg_tensor *clg_leaky_relu(clg_tensor *a, float negative_slope)
{
    return activation("clg_leaky_relu", OP_LEAKY_RELU, a, negative_slope, 0);
}

CLG_API clg_tensor *clg_softplus(clg_tensor *a, float beta, float threshold)
{
    return activation("clg_softplus", OP_SOFTPLUS, a, beta, threshold);
}

CLG_API clg_tensor *clg_heaviside(clg_tensor *a, float at_zero)
{
    return activation("clg_heaviside", OP_HEAVISIDE, a, at_zero, 0);
}
