/* ops/reduce.c: reductions over one axis or over every element: sum, mean,
 * max, and argmax (no gradient).
 *
 *   out = sum_a x     dx = g broadcast along the axis
 *   out = mean_a x    dx = g / count broadcast (the mean of nothing is NaN)
 *   out = max_a x     dx = g at the first maximal element, 0 elsewhere
 * torch.sum / torch.mean / torch.max(dim) semantics: negative axes, keepdim.
 * Ties in max: the first maximum (smallest index along the axis, or in
 * row-major order for clg_max_all) wins the whole gradient, as torch.max(dim)
 * does; torch.max() without a dim would split it among the ties instead. NaN
 * counts as the largest value, so it propagates. Kernels: ops/reduce.cl. */
#include "ops/internal.h"

#define SOURCE "ops/reduce.cl"

/* Whole-tensor reductions: at least this many elements per work-item before
 * a second group is used, and at most the plan's reduce_group groups in the
 * first stage (the second stage is one such group). */
#define ALL_MIN_PER_ITEM 16

/* One axis of a tensor, seen as (outer, count, inner) in row-major order. */
typedef struct axis_view {
    int axis;
    cl_int kshape[4];  /* the input's shape with 1 on the axis, padded to 4 */
    cl_int strides[4]; /* the input's strides, padded to 4 */
    int step;          /* the input's stride along the axis */
    int count;         /* the axis' size */
    int inner;         /* product of the sizes after the axis */
    int out_rank;
    int64_t out_shape[CLG_MAX_RANK];
} axis_view;

static bool check_nonempty(clg_context *ctx, const char *name, const clg_tensor *a, int64_t count)
{
    if (count == 0) {
        char s[64];
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: shape %s has no elements to take the maximum of", name,
                 eng_shape_str(a, s, sizeof s));
        return false;
    }
    return true;
}

static bool axis_setup(clg_context *ctx, const char *name, const clg_tensor *a, int axis,
                       bool keepdim, axis_view *v)
{
    v->axis = eng_axis(ctx, name, a, axis);
    if (v->axis < 0)
        return false;
    int64_t kshape[CLG_MAX_RANK];
    v->inner = 1;
    v->out_rank = 0;
    for (int d = 0; d < a->rank; d++) {
        kshape[d] = d == v->axis ? 1 : a->shape[d];
        if (d > v->axis)
            v->inner *= (int)a->shape[d];
        if (d != v->axis || keepdim)
            v->out_shape[v->out_rank++] = kshape[d];
    }
    op_pad4(a->rank, kshape, v->kshape);
    eng_strides4(a, v->strides);
    v->step = (int)a->strides[v->axis];
    v->count = (int)a->shape[v->axis];
    return true;
}

/* ---- sum and mean ---- */

/* What a sum or mean node keeps besides its input: the reduced axis as the
 * kernel sees it (see sum_backward in reduce.cl). */
typedef struct sum_saved {
    int count;   /* elements along the reduced axis (or all, for a full reduction) */
    int inner;   /* elements between two of them: the product of later axes */
    float scale; /* 1 for a sum, 1 / count for a mean */
} sum_saved;

static void sum_backward(clg_context *ctx, const eng_node *node)
{
    const sum_saved *saved = node->state;
    clg_tensor *a = node->inputs[0];
    bool accumulate = false;
    clg_tensor *dst = eng_grad_dest(ctx, a, &accumulate);
    if (!dst)
        return;
    int n = (int)clg_tensor_numel(a);
    OP_LAUNCH(ctx, SOURCE, "sum_backward", (size_t)n, ENG_ARG_TENSOR(node->output->grad),
              CLRT_ARG_INT(saved->count), CLRT_ARG_INT(saved->inner), CLRT_ARG_FLOAT(saved->scale),
              ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
}

static clg_tensor *record_sum(clg_context *ctx, const char *name, clg_tensor *a, clg_tensor *out,
                              int count, int inner, float scale)
{
    if (eng_needs_grad(ctx, 1, &a)) {
        eng_node *node = eng_record(ctx, name, sum_backward, out, 1, &a, sizeof(sum_saved));
        if (!node)
            return NULL;
        sum_saved *saved = node->state;
        saved->count = count;
        saved->inner = inner;
        saved->scale = scale;
    }
    return out;
}

static clg_tensor *sum_axis(const char *name, clg_tensor *a, int axis, bool keepdim, bool mean)
{
    clg_context *ctx = eng_op_begin_f32(name, 1, &a);
    axis_view v;
    if (!ctx || !axis_setup(ctx, name, a, axis, keepdim, &v))
        return NULL;
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, v.out_rank, v.out_shape);
    if (!out)
        return NULL;
    float scale = mean ? 1.0f / (float)v.count : 1.0f;
    int n = (int)clg_tensor_numel(out);
    char s[64];
    if (!op_loops_fit(ctx, n ? (size_t)v.count : 0, "%s of shape %s along axis %d", name,
                      eng_shape_str(a, s, sizeof s), v.axis))
        return NULL;
    if (!OP_LAUNCH(ctx, SOURCE, "sum_axis", (size_t)n, ENG_ARG_TENSOR(a), OP_ARG4(v.kshape),
                   OP_ARG4(v.strides), CLRT_ARG_INT(v.step), CLRT_ARG_INT(v.count),
                   ENG_ARG_TENSOR(out), CLRT_ARG_INT(n), CLRT_ARG_FLOAT(scale)))
        return NULL;
    return record_sum(ctx, name, a, out, v.count, v.inner, scale);
}

/* Work-groups for the first stage of a whole-tensor reduction of n elements:
 * a function of n and the plan only, so the order of additions is
 * reproducible. Where the plan bounds a work-item's loops (llvmpipe), more
 * than reduce_group groups if a work-item's share would not fit, and the
 * second stage's work-items loop over several partials each; fails the
 * context (and returns 0) if even that would not fit. */
int op_reduce_all_groups(clg_context *ctx, const char *name, int64_t n)
{
    int64_t group = (int64_t)op_plan(ctx)->reduce_group;
    int64_t groups = n / (group * ALL_MIN_PER_ITEM);
    groups = groups < 1 ? 1 : groups > group ? group : groups;
    size_t limit = op_plan(ctx)->loop_limit, tree = op_tree_steps(ctx);
    if (limit > tree) {
        /* each of a group's work-items loops n / (groups group) times, then the tree */
        int64_t need = (int64_t)op_div_up(op_div_up((size_t)n, (size_t)group), limit - tree);
        groups = need > groups ? need : groups;
    }
    size_t first = op_div_up((size_t)n, (size_t)(groups * group)) + tree;
    size_t second = groups > 1 ? op_div_up((size_t)groups, (size_t)group) + tree : 0;
    if (!op_loops_fit(ctx, first > second ? first : second, "%s of %lld elements", name,
                      (long long)n))
        return 0;
    return (int)groups;
}

bool op_sum_all_setup(clg_context *ctx, const char *name, int64_t n, op_sum_all *sum)
{
    *sum = (op_sum_all){op_reduce_all_groups(ctx, name, n), NULL, NULL};
    if (sum->groups == 0)
        return false;
    sum->out = eng_new(ctx, CLG_DTYPE_F32, 0, NULL);
    sum->partial =
        sum->groups > 1 ? eng_new(ctx, CLG_DTYPE_F32, 1, (int64_t[]){sum->groups}) : sum->out;
    return sum->out && sum->partial;
}

bool op_sum_all_finish(clg_context *ctx, const op_sum_all *sum, float scale)
{
    return sum->groups == 1 ||
           OP_LAUNCH_GROUPS(ctx, SOURCE, "sum_all", 1, ENG_ARG_TENSOR(sum->partial),
                            CLRT_ARG_INT4(1, 1, 1, sum->groups), CLRT_ARG_INT4(0, 0, 0, 1),
                            CLRT_ARG_INT(sum->groups), ENG_ARG_TENSOR(sum->out),
                            CLRT_ARG_FLOAT(scale));
}

static clg_tensor *sum_all(const char *name, clg_tensor *a, bool mean)
{
    clg_context *ctx = eng_op_begin_f32(name, 1, &a);
    int n = ctx ? (int)clg_tensor_numel(a) : 0;
    op_sum_all sum;
    if (!ctx || !op_sum_all_setup(ctx, name, n, &sum))
        return NULL;
    float scale = mean ? 1.0f / (float)n : 1.0f;
    cl_int shape[4], strides[4];
    eng_shape4(a, shape);
    eng_strides4(a, strides);
    if (!OP_LAUNCH_GROUPS(ctx, SOURCE, "sum_all", sum.groups, ENG_ARG_TENSOR(a), OP_ARG4(shape),
                          OP_ARG4(strides), CLRT_ARG_INT(n), ENG_ARG_TENSOR(sum.partial),
                          CLRT_ARG_FLOAT(sum.groups > 1 ? 1.0f : scale)) ||
        !op_sum_all_finish(ctx, &sum, scale))
        return NULL;
    return record_sum(ctx, name, a, sum.out, n, 1, scale);
}

CLG_API clg_tensor *clg_sum(clg_tensor *a, int axis, bool keepdim)
{
    return sum_axis("clg_sum", a, axis, keepdim, false);
}

CLG_API clg_tensor *clg_mean(clg_tensor *a, int axis, bool keepdim)
{
    return sum_axis("clg_mean", a, axis, keepdim, true);
}

CLG_API clg_tensor *clg_sum_all(clg_tensor *a)
{
    return sum_all("clg_sum_all", a, false);
}
CLG_API clg_tensor *clg_mean_all(clg_tensor *a)
{
    return sum_all("clg_mean_all", a, true);
}

/* ---- max and argmax ---- */

/* What a max node keeps besides its input and saved[0], the int32 index of
 * the maximum per output element (see max_backward in reduce.cl). */
typedef struct max_saved {
    int count; /* elements along the reduced axis */
    int inner; /* elements between two of them: the product of later axes */
} max_saved;

static void max_backward(clg_context *ctx, const eng_node *node)
{
    const max_saved *saved = node->state;
    clg_tensor *a = node->inputs[0];
    bool accumulate = false;
    clg_tensor *dst = eng_grad_dest(ctx, a, &accumulate);
    if (!dst)
        return;
    int n = (int)clg_tensor_numel(a);
    OP_LAUNCH(ctx, SOURCE, "max_backward", (size_t)n, ENG_ARG_TENSOR(node->output->grad),
              ENG_ARG_TENSOR(node->saved[0]), CLRT_ARG_INT(saved->count),
              CLRT_ARG_INT(saved->inner), ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n),
              CLRT_ARG_INT(accumulate));
}

static clg_tensor *record_max(clg_context *ctx, const char *name, clg_tensor *a, clg_tensor *out,
                              clg_tensor *idx, int count, int inner)
{
    if (eng_needs_grad(ctx, 1, &a)) {
        eng_node *node = eng_record(ctx, name, max_backward, out, 1, &a, sizeof(max_saved));
        if (!node)
            return NULL;
        node->saved[0] = idx;
        max_saved *saved = node->state;
        saved->count = count;
        saved->inner = inner;
    }
    return out;
}

/* The values (unless argmax) and the int32 indices of the first maxima. */
static clg_tensor *max_axis(const char *name, clg_tensor *a, int axis, bool keepdim, bool argmax)
{
    clg_context *ctx = eng_op_begin_f32(name, 1, &a);
    axis_view v;
    if (!ctx || !axis_setup(ctx, name, a, axis, keepdim, &v) ||
        !check_nonempty(ctx, name, a, v.count))
        return NULL;
    clg_tensor *idx = eng_new(ctx, CLG_DTYPE_I32, v.out_rank, v.out_shape);
    clg_tensor *out = argmax ? idx : eng_new(ctx, CLG_DTYPE_F32, v.out_rank, v.out_shape);
    if (!idx || !out)
        return NULL;
    int n = (int)clg_tensor_numel(idx);
    char s[64];
    if (!op_loops_fit(ctx, n ? (size_t)v.count : 0, "%s of shape %s along axis %d", name,
                      eng_shape_str(a, s, sizeof s), v.axis))
        return NULL;
    if (!OP_LAUNCH(ctx, SOURCE, "max_axis", (size_t)n, ENG_ARG_TENSOR(a), OP_ARG4(v.kshape),
                   OP_ARG4(v.strides), CLRT_ARG_INT(v.step), CLRT_ARG_INT(v.count),
                   ENG_ARG_TENSOR(out), CLRT_ARG_INT(!argmax), ENG_ARG_TENSOR(idx),
                   CLRT_ARG_INT(n)))
        return NULL;
    return argmax ? idx : record_max(ctx, name, a, out, idx, v.count, v.inner);
}

CLG_API clg_tensor *clg_max(clg_tensor *a, int axis, bool keepdim)
{
    return max_axis("clg_max", a, axis, keepdim, false);
}

CLG_API clg_tensor *clg_argmax(clg_tensor *a, int axis, bool keepdim)
{
    return max_axis("clg_argmax", a, axis, keepdim, true);
}

CLG_API clg_tensor *clg_max_all(clg_tensor *a)
{
    clg_context *ctx = eng_op_begin_f32("clg_max_all", 1, &a);
    if (!ctx ||
        !check_nonempty(ctx, "clg_max_all", a, clg_tensor_numel(a)))
        return NULL;
    int n = (int)clg_tensor_numel(a);
    int groups = op_reduce_all_groups(ctx, "clg_max_all", n);
    if (groups == 0)
        return NULL;
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, 0, NULL);
    clg_tensor *idx = eng_new(ctx, CLG_DTYPE_I32, 0, NULL);
    clg_tensor *partial = out, *partial_idx = idx;
    if (groups > 1) {
        partial = eng_new(ctx, CLG_DTYPE_F32, 1, (int64_t[]){groups});
        partial_idx = eng_new(ctx, CLG_DTYPE_I32, 1, (int64_t[]){groups});
    }
    if (!out || !idx || !partial || !partial_idx)
        return NULL;
    cl_int shape[4], strides[4];
    eng_shape4(a, shape);
    eng_strides4(a, strides);
    /* the first stage numbers elements itself; idx_in is only a placeholder */
    if (!OP_LAUNCH_GROUPS(ctx, SOURCE, "max_all", groups, ENG_ARG_TENSOR(a),
                   OP_ARG4(shape), OP_ARG4(strides), CLRT_ARG_INT(n), ENG_ARG_TENSOR(partial_idx),
                   CLRT_ARG_INT(0), ENG_ARG_TENSOR(partial), ENG_ARG_TENSOR(partial_idx)))
        return NULL;
    if (groups > 1 && !OP_LAUNCH_GROUPS(ctx, SOURCE, "max_all", 1, ENG_ARG_TENSOR(partial),
                                 CLRT_ARG_INT4(1, 1, 1, groups), CLRT_ARG_INT4(0, 0, 0, 1),
                                 CLRT_ARG_INT(groups), ENG_ARG_TENSOR(partial_idx), CLRT_ARG_INT(1),
                                 ENG_ARG_TENSOR(out), ENG_ARG_TENSOR(idx)))
        return NULL;
    return record_max(ctx, "clg_max_all", a, out, idx, n, 1);
}

/* ---- sums of a strided view, for the gpu plan's bias gradients ---- */

/* Slices of at least reduce_chunk elements a work-item (lanes of them in a
 * group), at most reduce_split: a function of the sizes and the plan only,
 * so the order of additions is reproducible. Where the plan bounds a
 * work-item's loops (llvmpipe), at least enough slices that a work-item's
 * share and the tree after it fit (`tree` iterations). */
static int64_t sum_slices(const clrt_plan *plan, int64_t length, int64_t lanes, size_t tree)
{
    int64_t per_group = lanes * (int64_t)plan->reduce_chunk;
    int64_t slices = (length + per_group - 1) / per_group;
    slices = slices < 1 ? 1 : slices > (int64_t)plan->reduce_split ? (int64_t)plan->reduce_split
                                                                   : slices;
    if (plan->loop_limit > tree) {
        int64_t need = (int64_t)op_div_up(op_div_up((size_t)length, (size_t)lanes),
                                          plan->loop_limit - tree);
        slices = need > slices ? need : slices;
    }
    return slices;
}

/* Columns per work-group of sum_columns_partial (a half-warp of floats: 64
 * bytes a row, one memory transaction on most GPUs). */
#define SUM_COLUMNS_WIDTH 16

bool op_sum_view(clg_context *ctx, const clg_tensor *x, int64_t outer, int64_t outputs,
                 int64_t inner, int64_t outer_stride, int64_t output_stride,
                 int64_t inner_stride, const clg_tensor *out, bool accumulate)
{
    const clrt_plan *plan = op_plan(ctx);
    size_t group = plan->reduce_group;
    bool columns = output_stride == 1 && inner == 1 && group >= SUM_COLUMNS_WIDTH;
    int64_t lanes = columns ? (int64_t)(group / SUM_COLUMNS_WIDTH) : (int64_t)group;
    /* sum_columns_partial's tree runs over the lanes, sum_view_partial's over the group */
    size_t tree = op_tree_steps(ctx);
    int64_t slices = sum_slices(plan, outer * inner, lanes, tree);
    /* a work-item adds every lanes-th of its slice's elements; sum_view_finish
     * adds a row of slices */
    size_t per_item = op_div_up(op_div_up((size_t)(outer * inner), (size_t)slices), (size_t)lanes);
    if (!op_loops_fit(ctx, per_item + tree > (size_t)slices ? per_item + tree : (size_t)slices,
                      "the sum of %lld outputs over %lld x %lld elements", (long long)outputs,
                      (long long)outer, (long long)inner))
        return false;
    clg_tensor *partial =
        slices > 1 ? eng_new(ctx, CLG_DTYPE_F32, 1, (int64_t[]){outputs * slices}) : NULL;
    if (slices > 1 && !partial)
        return false;
    const clg_tensor *dst = partial ? partial : out;
    if (eng_failed(ctx))
        return false;
    if (columns) {
        cl_kernel k = clrt_kernel(&ctx->rt, SOURCE, OP_KERNEL_OPTIONS, "sum_columns_partial");
        size_t tiles = (size_t)((outputs + SUM_COLUMNS_WIDTH - 1) / SUM_COLUMNS_WIDTH);
        size_t global[2] = {tiles * SUM_COLUMNS_WIDTH, (size_t)(lanes * slices)};
        size_t local[2] = {SUM_COLUMNS_WIDTH, (size_t)lanes};
        clrt_arg args[] = {ENG_ARG_TENSOR(x),          CLRT_ARG_INT(outer),
                           CLRT_ARG_INT(outputs),      CLRT_ARG_INT(outer_stride),
                           CLRT_ARG_INT(slices),       ENG_ARG_TENSOR(dst),
                           CLRT_ARG_INT(accumulate)};
        if (!k || clrt_launch(&ctx->rt, k, 2, global, local, (int)(sizeof args / sizeof args[0]),
                              args) != CLG_STATUS_OK)
            return false;
    } else if (!OP_LAUNCH_GROUPS(ctx, SOURCE, "sum_view_partial", outputs * slices,
                                 ENG_ARG_TENSOR(x), CLRT_ARG_INT4(outer, outputs, inner, slices),
                                 CLRT_ARG_INT4(outer_stride, output_stride, inner_stride, 0),
                                 ENG_ARG_TENSOR(dst), CLRT_ARG_INT(accumulate))) {
        return false;
    }
    return !partial ||
           OP_LAUNCH(ctx, SOURCE, "sum_view_finish", (size_t)outputs, ENG_ARG_TENSOR(partial),
                     CLRT_ARG_INT(outputs), CLRT_ARG_INT(slices), ENG_ARG_TENSOR(out),
                     CLRT_ARG_INT(accumulate));
}
