/* ops/binary.c: elementwise arithmetic on two tensors with NumPy/PyTorch
 * broadcasting: add, sub, mul, div.
 *
 *   out = a + b   da = g             db = g
 *   out = a - b   da = g             db = -g
 *   out = a * b   da = g b           db = g a
 *   out = a / b   da = g / b         db = -g a / b^2
 * Each operand's gradient is summed over the axes it was broadcast along
 * (torch.Tensor.sum_to_size). Kernels: ops/binary.cl. */
#include <stdio.h>

#include "ops/internal.h"

#define SOURCE "ops/binary.cl"

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV };

static void binary_backward(clg_context *ctx, const eng_node *node)
{
    int op = node->i[0];
    clg_tensor *a = node->inputs[0], *b = node->inputs[1], *out = node->output;
    cl_int shape[4], a_str[4], b_str[4];
    op_pad4(out->rank, out->shape, shape);
    op_broadcast_strides4(a, out->rank, a_str);
    op_broadcast_strides4(b, out->rank, b_str);
    for (int which = 0; which < 2; which++) {
        clg_tensor *x = node->inputs[which];
        bool accumulate = false;
        clg_tensor *dst = eng_grad_dest(ctx, x, &accumulate);
        if (!dst)
            continue;
        /* keep: the output's shape where x was not broadcast; red: where it was */
        cl_int keep[4], red[4], x_str[4];
        op_broadcast_strides4(x, out->rank, x_str);
        cl_int x_shape[4];
        op_pad4(x->rank, x->shape, x_shape);
        for (int d = 0; d < 4; d++) {
            bool broadcast = x_shape[d] == 1 && shape[d] != 1;
            keep[d] = broadcast ? 1 : shape[d];
            red[d] = broadcast ? shape[d] : 1;
        }
        int n = (int)clg_tensor_numel(x);
        OP_LAUNCH(ctx, SOURCE, "binary_backward", (size_t)n, CLRT_ARG_INT(op), CLRT_ARG_INT(which),
                  ENG_ARG_TENSOR(out->grad), ENG_ARG_TENSOR(a), OP_ARG4(a_str),
                  ENG_ARG_TENSOR(b), OP_ARG4(b_str), OP_ARG4(shape), OP_ARG4(keep),
                  OP_ARG4(red), ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
    }
}

static clg_tensor *binary(const char *name, int op, clg_tensor *a, clg_tensor *b)
{
    clg_tensor *inputs[2] = {a, b};
    clg_context *ctx = eng_op_begin_f32(name, 2, inputs);
    if (!ctx)
        return NULL;
    int rank;
    int64_t shape[CLG_MAX_RANK];
    if (!op_broadcast_shape(ctx, name, a, b, &rank, shape))
        return NULL;
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, rank, shape);
    if (!out)
        return NULL;
    cl_int shape4[4], a_str[4], b_str[4];
    op_pad4(rank, shape, shape4);
    op_broadcast_strides4(a, rank, a_str);
    op_broadcast_strides4(b, rank, b_str);
    int n = (int)clg_tensor_numel(out);
    static const char *const names[] = {"add", "sub", "mul", "div"};
    bool same = eng_same_shape(a, out) && eng_same_shape(b, out) &&
                clg_tensor_is_contiguous(a) && clg_tensor_is_contiguous(b);
    char kernel[64];
    snprintf(kernel, sizeof kernel, "binary_%s_forward%s", names[op], same ? "_same" : "");
    bool ok = same ? OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, ENG_ARG_TENSOR(a),
                               ENG_ARG_TENSOR(b), ENG_ARG_TENSOR(out), CLRT_ARG_INT(n))
                   : OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, ENG_ARG_TENSOR(a), OP_ARG4(a_str),
                               ENG_ARG_TENSOR(b), OP_ARG4(b_str), ENG_ARG_TENSOR(out),
                               OP_ARG4(shape4), CLRT_ARG_INT(n));
    if (!ok)
        return NULL;
    if (eng_needs_grad(ctx, 2, inputs)) {
        eng_node *node = eng_record(ctx, name, binary_backward, out, 2, inputs);
        if (!node)
            return NULL;
        node->i[0] = op;
    }
    return out;
}

CLG_API clg_tensor *clg_add(clg_tensor *a, clg_tensor *b) { return binary("clg_add", OP_ADD, a, b); }
CLG_API clg_tensor *clg_sub(clg_tensor *a, clg_tensor *b) { return binary("clg_sub", OP_SUB, a, b); }
CLG_API clg_tensor *clg_mul(clg_tensor *a, clg_tensor *b) { return binary("clg_mul", OP_MUL, a, b); }
CLG_API clg_tensor *clg_div(clg_tensor *a, clg_tensor *b) { return binary("clg_div", OP_DIV, a, b); }
