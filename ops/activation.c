/* ops/activation.c: activation functions of one tensor: sigmoid, tanh,
 * relu, leaky_relu, softplus, clamp, elu, selu, hardsigmoid, and the
 * perceptron's step (heaviside). The output has the input's shape; the input
 * may be a strided view.
 *
 *   sigmoid     y = 1 / (1 + e^-x)          dx = g (1 - y) y     (from the output)
 *   tanh        y = tanh x                  dx = g (1 - y^2)     (from the output)
 *   relu        y = max(x, 0)               dx = g [y > 0]       relu'(0) = 0
 *   leaky_relu  y = x > 0 ? x : s x         dx = x > 0 ? g : g s
 *   softplus    y = log(1 + e^(b x)) / b    dx = g sigmoid(b x)
 *               y = x where b x > threshold dx = g
 *   heaviside   y = x > 0 ? 1 : x == 0 ? at_zero : 0    (no derivative)
 *   clamp       y = min(max(x, lo), hi)     dx = lo <= x <= hi ? g : 0
 *   elu         y = x > 0 ? x : a (e^x - 1) dx = x > 0 ? g : g a e^x
 *   selu        y = s elu(x, a)             dx = s elu'(x, a)     (a, s PyTorch's)
 *   hardsigmoid y = min(max(x + 3, 0), 6)/6 dx = -3 < x < 3 ? g / 6 : 0
 * The kinks follow PyTorch (torch.nn.functional of the same names), so
 * golden gradients agree at exactly 0 and at clamp's and hardsigmoid's
 * bounds: clamp passes the gradient at its bounds, hardsigmoid does not at
 * -3 and 3, elu and selu take the x <= 0 branch at 0. elu's e^x - 1 is
 * expm1, which PyTorch's kernel is not, so the two differ in the last bits
 * near 0. softplus is evaluated as
 * (max(bx, 0) + log1p(e^-|bx|)) / b and its derivative as a sigmoid built
 * from e^-|bx|, so neither overflows whatever the threshold. heaviside's
 * derivative is 0 almost everywhere and undefined at 0, useless for
 * training: like torch.heaviside it records nothing, and its result never
 * requires a gradient. Kernels: ops/activation.cl. */
#include <math.h>
#include <stdio.h>

#include "ops/internal.h"

#define SOURCE "ops/activation.cl"

/* The codes are OP_ACTIVATIONS' (ops/internal.h): clg_activation's values,
 * and OP_ACT_<NAME> for the functions no fused kernel takes. The kernels are
 * activation_<name>_forward / _backward, stamped out in ops/activation.cl. */
const char *op_activation_function_name(int code)
{
    /* a duplicate code in OP_ACTIVATIONS is a duplicate case: a compile error */
    switch (code) {
#define NAME_CASE_(NAME, name, code)                                                          \
    case code: return #name;
        OP_ACTIVATIONS(NAME_CASE_)
#undef NAME_CASE_
    }
    return NULL;
}

/* node (op_map's): op_map_saved keeps the function's name and its two
 * parameters; backward reads the input and output themselves, which live
 * until the step ends. */
static void activation_backward(clg_context *ctx, const eng_node *node)
{
    op_map_backward(ctx, node, SOURCE, "activation");
}

/* heaviside records nothing: it has no useful derivative. */
static clg_tensor *activation(const char *name, int op, clg_tensor *a, float p0, float p1)
{
    return op_map(name, SOURCE, "activation", op_activation_function_name(op), a, p0, p1,
                  op == OP_ACT_HEAVISIDE ? NULL : activation_backward);
}

CLG_API clg_tensor *clg_sigmoid(clg_tensor *a)
{
    return activation("clg_sigmoid", CLG_ACT_SIGMOID, a, 0, 0);
}

CLG_API clg_tensor *clg_tanh(clg_tensor *a)
{
    return activation("clg_tanh", CLG_ACT_TANH, a, 0, 0);
}

CLG_API clg_tensor *clg_relu(clg_tensor *a)
{
    return activation("clg_relu", CLG_ACT_RELU, a, 0, 0);
}

CLG_API clg_tensor *clg_leaky_relu(clg_tensor *a, float negative_slope)
{
    return activation("clg_leaky_relu", CLG_ACT_LEAKY_RELU, a, negative_slope, 0);
}

CLG_API clg_tensor *clg_softplus(clg_tensor *a, float beta, float threshold)
{
    return activation("clg_softplus", OP_ACT_SOFTPLUS, a, beta, threshold);
}

CLG_API clg_tensor *clg_heaviside(clg_tensor *a, float at_zero)
{
    return activation("clg_heaviside", OP_ACT_HEAVISIDE, a, at_zero, 0);
}

CLG_API clg_tensor *clg_clamp(clg_tensor *a, float min, float max)
{
    /* A nan bound would make every comparison false: refused rather than
     * given one of the meanings PyTorch versions have differed on. */
    if (isnan(min) || isnan(max)) {
        clg_context *ctx = eng_op_begin_f32("clg_clamp", 1, &a);
        if (ctx)
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "clg_clamp: bound is nan (min %g, max %g)",
                     (double)min, (double)max);
        return NULL;
    }
    return activation("clg_clamp", OP_ACT_CLAMP, a, min, max);
}

CLG_API clg_tensor *clg_elu(clg_tensor *a, float alpha)
{
    return activation("clg_elu", CLG_ACT_ELU, a, alpha, 0);
}

CLG_API clg_tensor *clg_selu(clg_tensor *a)
{
    return activation("clg_selu", CLG_ACT_SELU, a, 0, 0);
}

CLG_API clg_tensor *clg_hardsigmoid(clg_tensor *a)
{
    return activation("clg_hardsigmoid", CLG_ACT_HARDSIGMOID, a, 0, 0);
}

/* ---- bias + activation, fused ----
 *
 *   y = act(z),  z = x + b (b broadcast over rows)
 *   dx = g act'(z),  db = sum over rows of g act'(z)
 * act' is taken where the unfused ops take it (sigmoid and tanh from y, relu
 * and leaky_relu from the sign of z), so values and gradients match clg_add
 * then the activation: bit for bit in the one-column kernels, to the last
 * bit of exp in the four-column ones (the forward where 4 divides F, the
 * backward where F >= 4), whose float4 exp may round differently. Each activation has its own kernels
 * (bias_<name>_forward[4] / _backward[4] in activation.cl). */

const char *op_activation_name(clg_activation act)
{
    switch (act) {
#define NAME_CASE_(NAME, name, value)                                                         \
    case CLG_ACT_##NAME: return #name;
        CLG_ACTIVATIONS(NAME_CASE_)
#undef NAME_CASE_
    }
    return NULL;
}

float op_activation_param(clg_activation act, float negative_slope)
{
    return act == CLG_ACT_ELU ? 1.0f : negative_slope;
}

/* What clg_bias_activation's node keeps besides its inputs x (contiguous)
 * and bias (or none) and its output. */
typedef struct bias_activation_saved {
    clg_activation act;   /* the fused activation */
    float negative_slope; /* its parameter, after op_activation_param */
} bias_activation_saved;

/* The vector width of the cpu plan's kernels over rows of `cols`: the
 * plan's, or 4, or 1 on rows narrower than the vector (ops/activation.cl). */
static int bias_act_width(const clrt_plan *plan, int cols)
{
    return cols >= plan->vector_width ? plan->vector_width : cols >= 4 ? 4 : 1;
}

/* Rows per block of the cpu plan's kernels over rows of `cols`: the
 * plan's, fewer on rows so wide that a work-item's walk down its column
 * chunk would span more than the plan's block_bytes (at least 16 rows). */
static size_t bias_act_block_rows(const clrt_plan *plan, int cols)
{
    size_t fit = plan->block_bytes / ((size_t)(cols > 0 ? cols : 1) * sizeof(float));
    return fit >= plan->block_rows ? plan->block_rows : fit > 16 ? fit : 16;
}

/* The gpu plan's backward: d = g act'(z) a work-item per element, then the
 * bias gradient as two-stage column sums of d (a work-item per column,
 * walking its rows, gives a GPU tens of work-items). d is summed from dx
 * when dx holds exactly d, else from a step temporary. */
static void bias_activation_backward_elements(clg_context *ctx, const eng_node *node,
                                              clg_tensor *dx, bool acc_dx, clg_tensor *db,
                                              bool acc_db)
{
    clg_tensor *x = node->inputs[0], *b = node->n_inputs > 1 ? node->inputs[1] : NULL;
    clg_tensor *out = node->output;
    int64_t rows = x->shape[0], cols = x->shape[1];
    clg_tensor *t = db && (!dx || acc_dx) ? eng_new(ctx, CLG_DTYPE_F32, 2, x->shape) : NULL;
    if (db && (!dx || acc_dx) && !t)
        return;
    const bias_activation_saved *saved = node->state;
    char kernel[64];
    snprintf(kernel, sizeof kernel, "bias_%s_backward_element", op_activation_name(saved->act));
    if (!OP_LAUNCH(ctx, SOURCE, kernel, (size_t)(rows * cols),
                   CLRT_ARG_FLOAT(saved->negative_slope), ENG_ARG_TENSOR(out->grad),
                   ENG_ARG_TENSOR(x), ENG_ARG_TENSOR(b ? b : x), CLRT_ARG_INT(b != NULL),
                   ENG_ARG_TENSOR(out), ENG_ARG_TENSOR(dx ? dx : x), CLRT_ARG_INT(dx != NULL),
                   CLRT_ARG_INT(acc_dx), ENG_ARG_TENSOR(t ? t : x), CLRT_ARG_INT(t != NULL),
                   CLRT_ARG_INT(rows), CLRT_ARG_INT(cols)))
        return;
    if (db)
        op_sum_view(ctx, t ? t : dx, rows, cols, 1, cols, 1, 0, db, acc_db);
}

/* The cpu plan's backward over (rows, cols): chunks of the plan's vector
 * width (of 4, or single columns, on narrower rows) over blocks of rows,
 * then the bias gradient from the blocks' sums (see ops/activation.cl).
 * g, x, y contiguous (rows, cols); b, dx and db may be NULL. False, with
 * nothing launched, where the gpu plan's way must run instead: on the gpu
 * plan, or where the blocks would outnumber the driver's loop bound. */
static bool backward_blocks(clg_context *ctx, clg_activation act, float slope,
                            const clg_tensor *g, const clg_tensor *x, const clg_tensor *b,
                            const clg_tensor *y, const clg_tensor *dx, bool acc_dx,
                            const clg_tensor *db, bool acc_db)
{
    int rows = (int)g->shape[0], cols = (int)g->shape[1];
    const clrt_plan *plan = op_plan(ctx);
    size_t block_rows = bias_act_block_rows(plan, cols);
    size_t blocks = ((size_t)rows + block_rows - 1) / block_rows;
    if (plan->per_element || (plan->loop_limit != 0 && blocks > plan->loop_limit))
        return false;
    int width = bias_act_width(plan, cols), chunks = (cols + width - 1) / width;
    /* the block sums straight into db when one block covers the rows */
    int64_t part_shape[2] = {(int64_t)blocks, cols};
    const clg_tensor *part = db && blocks > 1 ? eng_new(ctx, CLG_DTYPE_F32, 2, part_shape) : db;
    if (db && !part)
        return true;
    char kernel[64];
    snprintf(kernel, sizeof kernel, "bias_%s_backward_blocks%d", op_activation_name(act), width);
    /* An absent tensor's argument points at one that exists; the kernel's
     * flags keep it untouched. Offsets, flags and sizes in one int16, in the
     * kernel's order (ops/activation.cl). */
    const clg_tensor *b_arg = b ? b : x, *dx_arg = dx ? dx : x, *part_arg = part ? part : x;
    cl_int16 p = {{(cl_int)g->offset, (cl_int)x->offset, (cl_int)b_arg->offset, b != NULL,
                   (cl_int)y->offset, (cl_int)dx_arg->offset, dx != NULL, acc_dx,
                   (cl_int)part_arg->offset, part != NULL, blocks == 1 && acc_db, rows, cols,
                   chunks, (cl_int)block_rows, 0}};
    if (!OP_LAUNCH_ROWS(ctx, SOURCE, kernel, (size_t)chunks * blocks, ENG_ARG_MEM(g),
                        ENG_ARG_MEM(x), ENG_ARG_MEM(b_arg), ENG_ARG_MEM(y), ENG_ARG_MEM(dx_arg),
                        ENG_ARG_MEM(part_arg), CLRT_ARG_VECTOR(p), CLRT_ARG_FLOAT(slope)))
        return true;
    if (db && blocks > 1)
        OP_LAUNCH(ctx, SOURCE, "bias_grad_blocks", (size_t)cols, ENG_ARG_TENSOR(part),
                  CLRT_ARG_INT((int)blocks), ENG_ARG_TENSOR(db), CLRT_ARG_INT(acc_db),
                  CLRT_ARG_INT(cols));
    return true;
}

/* node: inputs x (contiguous) and bias (or none), bias_activation_saved. */
static void bias_activation_backward(clg_context *ctx, const eng_node *node)
{
    const bias_activation_saved *saved = node->state;
    clg_tensor *x = node->inputs[0], *b = node->n_inputs > 1 ? node->inputs[1] : NULL;
    clg_tensor *out = node->output;
    bool acc_dx = false, acc_db = false;
    clg_tensor *dx = eng_grad_dest(ctx, x, &acc_dx);
    clg_tensor *db = b ? eng_grad_dest(ctx, b, &acc_db) : NULL;
    if (!dx && !db)
        return;
    if (!backward_blocks(ctx, saved->act, saved->negative_slope, out->grad, x, b, out, dx, acc_dx,
                         db, acc_db))
        bias_activation_backward_elements(ctx, node, dx, acc_dx, db, acc_db);
}

bool op_bias_grad(clg_context *ctx, const clg_tensor *g, const clg_tensor *db, bool acc_db)
{
    if (backward_blocks(ctx, CLG_ACT_IDENTITY, 0.0f, g, g, NULL, g, NULL, false, db, acc_db))
        return !eng_failed(ctx);
    return op_sum_view(ctx, g, g->shape[0], g->shape[1], 1, g->shape[1], 1, 0, db, acc_db);
}

CLG_API clg_tensor *clg_bias_activation(clg_tensor *x, clg_tensor *bias, clg_activation act,
                                        float negative_slope)
{
    static const char *name = "clg_bias_activation";
    clg_tensor *in[2] = {x, bias};
    int n_in = bias ? 2 : 1;
    clg_context *ctx = eng_op_begin_f32(name, n_in, in);
    if (!ctx)
        return NULL;
    const char *act_name = op_activation_name(act);
    if (!act_name) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: unknown activation %d", name, (int)act);
        return NULL;
    }
    negative_slope = op_activation_param(act, negative_slope);
    if (x->rank != 2 || (bias && (bias->rank != 1 || bias->shape[0] != x->shape[1]))) {
        op_fail_shapes(ctx, name, "x must be (N, F) and bias [F]", n_in,
                       (const clg_tensor *const *)in);
        return NULL;
    }
    in[0] = eng_contiguous(ctx, x);
    if (!in[0])
        return NULL;
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, 2, x->shape);
    if (!out)
        return NULL;
    int rows = (int)x->shape[0], cols = (int)x->shape[1];
    cl_int b_stride = bias ? (cl_int)bias->strides[0] : 0;
    char kernel[64];
    bool ok;
    const clrt_plan *plan = op_plan(ctx);
    if (!plan->per_element && (!bias || b_stride == 1)) {
        /* the cpu plan's vectors over blocks of rows (ops/activation.cl) */
        int width = bias_act_width(plan, cols), chunks = (cols + width - 1) / width;
        size_t block_rows = bias_act_block_rows(plan, cols);
        size_t blocks = ((size_t)rows + block_rows - 1) / block_rows;
        snprintf(kernel, sizeof kernel, "bias_%s_forward_blocks%d", act_name, width);
        const clg_tensor *b_arg = bias ? bias : in[0];
        cl_int8 p = {{(cl_int)in[0]->offset, (cl_int)b_arg->offset, bias != NULL,
                      (cl_int)out->offset, rows, cols, chunks, (cl_int)block_rows}};
        ok = OP_LAUNCH_ROWS(ctx, SOURCE, kernel, (size_t)chunks * blocks, ENG_ARG_MEM(in[0]),
                            ENG_ARG_MEM(b_arg), ENG_ARG_MEM(out), CLRT_ARG_VECTOR(p),
                            CLRT_ARG_FLOAT(negative_slope));
    } else {
        snprintf(kernel, sizeof kernel, "bias_%s_forward", act_name);
        ok = OP_LAUNCH_2D(ctx, SOURCE, kernel, (size_t)cols, (size_t)rows,
                          CLRT_ARG_FLOAT(negative_slope), ENG_ARG_TENSOR(in[0]),
                          ENG_ARG_TENSOR(bias ? bias : in[0]), CLRT_ARG_INT(b_stride),
                          CLRT_ARG_INT(bias != NULL), ENG_ARG_TENSOR(out), CLRT_ARG_INT(rows),
                          CLRT_ARG_INT(cols));
    }
    if (!ok)
        return NULL;
    /* The backward kernel reads the bias contiguously. */
    if (eng_needs_grad(ctx, n_in, in) && bias && b_stride != 1 &&
        !(in[1] = eng_contiguous(ctx, bias)))
        return NULL;
    return op_bias_activation_record(ctx, in[0], in[1], act, negative_slope, out) ? out : NULL;
}

bool op_bias_activation_record(clg_context *ctx, clg_tensor *x, clg_tensor *bias,
                               clg_activation act, float param, clg_tensor *out)
{
    clg_tensor *in[2] = {x, bias};
    int n_in = bias ? 2 : 1;
    if (!eng_needs_grad(ctx, n_in, in))
        return true;
    eng_node *node = eng_record(ctx, "clg_bias_activation", bias_activation_backward, out, n_in, in,
                                sizeof(bias_activation_saved));
    if (!node)
        return false;
    bias_activation_saved *saved = node->state;
    saved->act = act;
    saved->negative_slope = param;
    return true;
}
