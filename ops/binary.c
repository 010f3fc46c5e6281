/* ops/binary.c: elementwise arithmetic on two tensors with NumPy/PyTorch
 * broadcasting: add, sub, mul, div, pow.
 *
 *   out = a + b   da = g             db = g
 *   out = a - b   da = g             db = -g
 *   out = a * b   da = g b           db = g a
 *   out = a / b   da = g / b         db = -g a / b^2
 *   out = a ^ b   da = g b a^(b-1)   db = g a^b log(a)
 * pow's gradients are masked as in PyTorch's pow_backward_self/_exponent:
 * da is 0 where b == 0 (so 0^0 gives 0, not nan), db is 0 where a == 0 and
 * b >= 0 (where log(0) = -inf would multiply 0 or 1); elsewhere the formulas
 * give nan and inf as they fall (a < 0: log(a) is nan).
 * Each operand's gradient is summed over the axes it was broadcast along
 * (torch.Tensor.sum_to_size). Kernels: ops/binary.cl. */
#include <stdio.h>

#include "ops/internal.h"

#define SOURCE "ops/binary.cl"

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW };
/* The kernels' names by op: binary_<name>_forward / _backward. */
static const char *const op_names[] = {"add", "sub", "mul", "div", "pow"};

/* Both operands contiguous with the output's shape: the _same kernels read
 * them directly, and one backward launch serves both gradients. */
static bool same_layout(const clg_tensor *a, const clg_tensor *b, const clg_tensor *out)
{
    return eng_same_shape(a, out) && eng_same_shape(b, out) && clg_tensor_is_contiguous(a) &&
           clg_tensor_is_contiguous(b);
}

/* What a binary op's node keeps besides its inputs, which backward reads
 * themselves (they live until the step ends). */
typedef struct binary_saved {
    int op; /* OP_ADD ... OP_POW */
} binary_saved;

static void binary_backward(clg_context *ctx, const eng_node *node)
{
    const binary_saved *saved = node->state;
    const char *op_name = op_names[saved->op];
    clg_tensor *a = node->inputs[0], *b = node->inputs[1], *out = node->output;
    char kernel[64];
    if (same_layout(a, b, out)) {
        /* For a op a, the second call returns a's gradient again with acc_db
         * set: the kernel adds db's term after writing da's. */
        bool acc_da = false, acc_db = false;
        clg_tensor *da = eng_grad_dest(ctx, a, &acc_da);
        clg_tensor *db = eng_grad_dest(ctx, b, &acc_db);
        if (!da && !db)
            return;
        int n = (int)clg_tensor_numel(out);
        snprintf(kernel, sizeof kernel, "binary_%s_backward_same", op_name);
        /* An absent gradient's argument points at one that exists; the
         * kernel's flags keep it untouched. */
        OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, ENG_ARG_TENSOR(out->grad), ENG_ARG_TENSOR(a),
                  ENG_ARG_TENSOR(b), ENG_ARG_TENSOR(da ? da : db), CLRT_ARG_INT(da != NULL),
                  CLRT_ARG_INT(acc_da), ENG_ARG_TENSOR(db ? db : da), CLRT_ARG_INT(db != NULL),
                  CLRT_ARG_INT(acc_db), CLRT_ARG_INT(n));
        return;
    }
    snprintf(kernel, sizeof kernel, "binary_%s_backward", op_name);
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
        cl_int keep[4], red[4], x_shape[4];
        op_pad4(x->rank, x->shape, x_shape);
        for (int d = 0; d < 4; d++) {
            bool broadcast = x_shape[d] == 1 && shape[d] != 1;
            keep[d] = broadcast ? 1 : shape[d];
            red[d] = broadcast ? shape[d] : 1;
        }
        int n = (int)clg_tensor_numel(x);
        /* a work-item sums its element's gradient over every broadcast copy */
        size_t reduced = op_loops_mul(op_loops_mul((size_t)red[0], (size_t)red[1]),
                                      op_loops_mul((size_t)red[2], (size_t)red[3]));
        char s[64], u[64];
        if (!op_loops_fit(ctx, n > 0 && reduced > 1 ? reduced : 0,
                          "%s backward of %s broadcast to %s", node->name,
                          eng_shape_str(x, s, sizeof s), eng_shape_str(out, u, sizeof u)))
            return;
        OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, CLRT_ARG_INT(which), ENG_ARG_TENSOR(out->grad),
                  ENG_ARG_TENSOR(a), OP_ARG4(a_str), ENG_ARG_TENSOR(b), OP_ARG4(b_str),
                  OP_ARG4(shape), OP_ARG4(keep), OP_ARG4(red), ENG_ARG_TENSOR(dst),
                  CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
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
    bool same = same_layout(a, b, out);
    char kernel[64];
    snprintf(kernel, sizeof kernel, "binary_%s_forward%s", op_names[op], same ? "_same" : "");
    bool ok = same ? OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, ENG_ARG_TENSOR(a),
                               ENG_ARG_TENSOR(b), ENG_ARG_TENSOR(out), CLRT_ARG_INT(n))
                   : OP_LAUNCH(ctx, SOURCE, kernel, (size_t)n, ENG_ARG_TENSOR(a), OP_ARG4(a_str),
                               ENG_ARG_TENSOR(b), OP_ARG4(b_str), ENG_ARG_TENSOR(out),
                               OP_ARG4(shape4), CLRT_ARG_INT(n));
    if (!ok)
        return NULL;
    if (eng_needs_grad(ctx, 2, inputs)) {
        eng_node *node = eng_record(ctx, name, binary_backward, out, 2, inputs,
                                    sizeof(binary_saved));
        if (!node)
            return NULL;
        ((binary_saved *)node->state)->op = op;
    }
    return out;
}

CLG_API clg_tensor *clg_add(clg_tensor *a, clg_tensor *b) { return binary("clg_add", OP_ADD, a, b); }
CLG_API clg_tensor *clg_sub(clg_tensor *a, clg_tensor *b) { return binary("clg_sub", OP_SUB, a, b); }
CLG_API clg_tensor *clg_mul(clg_tensor *a, clg_tensor *b) { return binary("clg_mul", OP_MUL, a, b); }
CLG_API clg_tensor *clg_div(clg_tensor *a, clg_tensor *b) { return binary("clg_div", OP_DIV, a, b); }
/* clg_pow (unary.c) keeps its constant exponent; this is its tensor form. */
CLG_API clg_tensor *clg_pow_tensor(clg_tensor *a, clg_tensor *b)
{
    return binary("clg_pow_tensor", OP_POW, a, b);
}
