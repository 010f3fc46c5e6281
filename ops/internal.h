/* ops/internal.h: what op files share: launching a 1-D kernel, broadcasting
 * rules, and reducing a broadcast gradient back to an input's shape.
 * Internal prefix: op_. */
#ifndef CLGRAD_OPS_INTERNAL_H
#define CLGRAD_OPS_INTERNAL_H

#include <stdint.h>

#include "clgrad/ops.h"
#include "engine/engine.h"

/* The launch plan in force (cl/launch.c): every launch size, and which
 * variant of a kernel family to run, comes from it. */
static inline const clrt_plan *op_plan(const clg_context *ctx)
{
    return &ctx->rt.plan;
}

/* Enqueues kernel `name` of `source` over n work-items in groups of `local`
 * (a size from the plan: PoCL compiles a kernel once per local size). */
bool op_launch_wg(clg_context *ctx, const char *source, const char *name, size_t n, size_t local,
                  int n_args, const clrt_arg *args);
#define OP_LAUNCH_WG(ctx, source, name, n, local, ...)                                        \
    op_launch_wg((ctx), (source), (name), (n), (local),                                       \
                 (int)(sizeof((clrt_arg[]){__VA_ARGS__}) / sizeof(clrt_arg)),                  \
                 (clrt_arg[]){__VA_ARGS__})
/* An elementwise kernel: a work-item per element, the plan's groups; every
 * kernel guards its tail. */
#define OP_LAUNCH(ctx, source, name, n, ...)                                                  \
    OP_LAUNCH_WG(ctx, source, name, n, op_plan(ctx)->group, __VA_ARGS__)
/* A kernel whose work-items each loop along a whole row or plane (the cpu
 * plan's variant of the gather families): the plan's row groups. */
#define OP_LAUNCH_ROWS(ctx, source, name, n, ...)                                             \
    OP_LAUNCH_WG(ctx, source, name, n, op_plan(ctx)->row_group, __VA_ARGS__)
/* A tree reduction with a work-group per output: `groups` groups of the
 * plan's reduce_group (CLG_REDUCE_GROUP in the kernels). */
#define OP_LAUNCH_GROUPS(ctx, source, name, groups, ...)                                      \
    OP_LAUNCH_WG(ctx, source, name, (size_t)(groups) * op_plan(ctx)->reduce_group,             \
                 op_plan(ctx)->reduce_group, __VA_ARGS__)

/* Enqueues kernel `name` over a cols x rows grid: get_global_id(0) is the
 * column, get_global_id(1) the row, in the plan's tiles. For kernels
 * that need an element's column (a bias, a per-feature statistic): i % cols
 * in a 1-D kernel is an integer division per element, which CPUs cannot
 * vectorise (measured: 2.2x slower than the same kernel without it). */
bool op_launch_2d(clg_context *ctx, const char *source, const char *name, size_t cols,
                  size_t rows, int n_args, const clrt_arg *args);
#define OP_LAUNCH_2D(ctx, source, name, cols, rows, ...)                                      \
    op_launch_2d((ctx), (source), (name), (cols), (rows),                                     \
                 (int)(sizeof((clrt_arg[]){__VA_ARGS__}) / sizeof(clrt_arg)),                  \
                 (clrt_arg[]){__VA_ARGS__})

/* out[o] (+)= the sum over a < outer, b < inner of
 * x[a outer_stride + o output_stride + b inner_stride], for o < outputs, in
 * two stages sized by the plan (ops/reduce.c): the gpu plan's bias
 * gradients, where a work-item per output would leave a GPU idle. */
bool op_sum_view(clg_context *ctx, const clg_tensor *x, int64_t outer, int64_t outputs,
                 int64_t inner, int64_t outer_stride, int64_t output_stride,
                 int64_t inner_stride, const clg_tensor *out, bool accumulate);
/* A whole-tensor reduction of n values runs in two stages (clg_sum_all's
 * and clg_max_all's, ops/reduce.c): op_reduce_all_groups gives the first
 * stage's work-groups of reduce_group items, a function of n and the plan
 * (0: the context failed, as the plan's loop bound would be passed). A sum
 * (its first stage clg_sum_all's kernel or a kernel of its own, as a loss
 * that sums the values as it computes them) takes an op_sum_all:
 * op_sum_all_setup plans it and creates its tensors, the first stage writes
 * `groups` partial sums into `partial`, and op_sum_all_finish runs the
 * second stage, out = scale * their sum. A first stage of one group writes
 * out itself (partial is out), scaled, and needs no second. */
int op_reduce_all_groups(clg_context *ctx, const char *name, int64_t n);
typedef struct op_sum_all {
    int groups;
    clg_tensor *out;     /* the scalar */
    clg_tensor *partial; /* (groups), or out */
} op_sum_all;
bool op_sum_all_setup(clg_context *ctx, const char *name, int64_t n, op_sum_all *sum);
bool op_sum_all_finish(clg_context *ctx, const op_sum_all *sum, float scale);
/* db (cols) = (or += with acc_db) the column sums of g (rows, cols),
 * contiguous: the gradient of a bias added along rows elsewhere (the
 * recurrent ops' gate bias), by clg_bias_activation's backward kernels for
 * the identity (ops/activation.c). False when it failed. */
bool op_bias_grad(clg_context *ctx, const clg_tensor *g, const clg_tensor *db, bool acc_db);

/* ---- the driver's bound on a work-item's loops ----
 * OpenCL sets no bound, but Mesa's llvmpipe ends every work-item's loops
 * after 65,535 iterations in all (over every loop of the kernel), silently:
 * a sum along an axis of 70,000 returned the sum of its first 65,535
 * elements there. The plan carries the bound (loop_limit, 0 for none;
 * CLGRAD_LOOP_LIMIT imposes one anywhere, for tests). Each launch whose
 * loops grow with the data counts its work-items' iterations: a reduction
 * with a multi-group path takes more groups where the bound asks for it
 * (only then, so nothing changes on a device without one); any other
 * launch past the bound fails the op with a message rather than return a
 * wrong result. */

/* Whether work-items looping `iterations` times in all fit the plan's
 * bound; if not, records CLG_STATUS_DEVICE with a message starting with
 * the printf-formatted op and shape, and returns false. */
bool op_loops_fit(clg_context *ctx, size_t iterations, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* a * b, saturated (iteration counts of nested loops). */
static inline size_t op_loops_mul(size_t a, size_t b)
{
    return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}
/* The iterations of a tree over the plan's reduce_group in local memory
 * (log2 of it: the loops `for (width = CLG_REDUCE_GROUP / 2; ...)`). */
static inline size_t op_tree_steps(const clg_context *ctx)
{
    size_t steps = 0;
    for (size_t w = op_plan(ctx)->reduce_group / 2; w > 0; w /= 2)
        steps++;
    return steps;
}
/* ceil(a / b) for b > 0 */
static inline size_t op_div_up(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

/* An int4 kernel argument from 4 cl_ints. */
#define OP_ARG4(v) CLRT_ARG_INT4((v)[0], (v)[1], (v)[2], (v)[3])

/* NumPy broadcasting of a's and b's shapes into (rank, shape); records an
 * error naming `op` and both shapes when they do not broadcast. */
bool op_broadcast_shape(clg_context *ctx, const char *op, const clg_tensor *a,
                        const clg_tensor *b, int *rank, int64_t *shape);
/* t's strides seen from a broadcast output of shape (rank, shape), padded to
 * rank 4: 0 along broadcast axes. */
void op_broadcast_strides4(const clg_tensor *t, int rank, cl_int *strides4);
/* shape padded on the left to rank 4. */
void op_pad4(int rank, const int64_t *shape, cl_int *shape4);

/* An elementwise function of one tensor (the families ops/unary.c and
 * ops/activation.c): out = f(a) through kernel <prefix>_<fn>_forward, or its
 * _contiguous variant when a is contiguous, of `source` (stamped out by
 * ops/map.cl). When a gradient is wanted and `backward` is not NULL, records
 * a node `name` keeping fn, p0 and p1 (ops/common.c's op_map_saved). */
clg_tensor *op_map(const char *name, const char *source, const char *prefix, const char *fn,
                   clg_tensor *a, float p0, float p1, eng_backward_fn backward);
/* The backward of an op_map node: dst (+)= g f'(x) through
 * <prefix>_<fn>_backward[_contiguous], fn the one op_map saved. */
void op_map_backward(clg_context *ctx, const eng_node *node, const char *source,
                     const char *prefix);

/* The functions of ops/activation_math.cl: every clg_activation
 * (CLG_ACTIVATIONS, include/clgrad/ops.h), then those only ops/activation.c's
 * unfused ops take, as X(NAME, name, code), with codes apart from
 * clg_activation's values. The kernels know each function as ACT_<NAME>
 * (OP_KERNEL_OPTIONS); its kernels are named after `name`. */
#define OP_ACTIVATIONS_UNFUSED(X)                                                             \
    X(SOFTPLUS, softplus, 64)                                                                 \
    X(HEAVISIDE, heaviside, 65)                                                               \
    X(CLAMP, clamp, 66)
#define OP_ACTIVATIONS(X) CLG_ACTIVATIONS(X) OP_ACTIVATIONS_UNFUSED(X)
enum {
#define OP_ACT_ENUMERATOR_(NAME, name, code) OP_ACT_##NAME = code,
    OP_ACTIVATIONS_UNFUSED(OP_ACT_ENUMERATOR_)
#undef OP_ACT_ENUMERATOR_
};
/* The build options of every program of ops/: -DACT_<NAME>=<code> for each
 * function of OP_ACTIVATIONS, a string literal made from the list at compile
 * time, so the kernels' codes cannot drift from the C side's. */
#define OP_ACT_DEFINE_(NAME, name, code) " -DACT_" #NAME "=" #code
#define OP_KERNEL_OPTIONS OP_ACTIVATIONS(OP_ACT_DEFINE_)

/* The kernel-name suffix of a function of OP_ACTIVATIONS by its code
 * ("relu" for CLG_ACT_RELU, "clamp" for OP_ACT_CLAMP), NULL for any other
 * value. */
const char *op_activation_function_name(int code);
/* The same for a clg_activation, as the fused kernels of ops/activation.cl
 * and ops/conv.cl are named ("identity", ..., "hardsigmoid"): NULL for a
 * value outside the enum. */
const char *op_activation_name(clg_activation act);
/* The parameter the fused kernels pass activation_apply as p0: the negative
 * slope for CLG_ACT_LEAKY_RELU, alpha = 1 for CLG_ACT_ELU, unused (the slope
 * as given) for the others. */
float op_activation_param(clg_activation act, float negative_slope);

/* clg_bias_activation's node for out = act(x + bias), computed elsewhere
 * (clg_linear_activation's GEMM epilogue), when x or bias needs a gradient:
 * x (N, F) and bias [F] (or NULL) contiguous, param from
 * op_activation_param. False when recording failed (the context says why). */
bool op_bias_activation_record(clg_context *ctx, clg_tensor *x, clg_tensor *bias,
                               clg_activation act, float param, clg_tensor *out);

/* Records "op: <what>" with the shapes of the inputs: "clg_add: shapes [2, 3]
 * and [4, 3] cannot be broadcast". */
void op_fail_shapes(clg_context *ctx, const char *op, const char *what, int n,
                    const clg_tensor *const *ts);

#endif
