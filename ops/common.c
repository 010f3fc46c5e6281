/* ops/common.c: helpers shared by the op families (see ops/internal.h). */
#include <stdarg.h>
#include <stdio.h>

#include "ops/internal.h"

bool op_launch_wg(clg_context *ctx, const char *source, const char *name, size_t n, size_t local,
                  int n_args, const clrt_arg *args)
{
    if (eng_failed(ctx))
        return false;
    cl_kernel k = clrt_kernel(&ctx->rt, source, OP_KERNEL_OPTIONS, name);
    if (!k)
        return false;
    if (n == 0)
        return true;
    return clrt_launch(&ctx->rt, k, 1, &n, &local, n_args, args) == CLG_STATUS_OK;
}

bool op_launch_2d(clg_context *ctx, const char *source, const char *name, size_t cols,
                  size_t rows, int n_args, const clrt_arg *args)
{
    if (eng_failed(ctx))
        return false;
    cl_kernel k = clrt_kernel(&ctx->rt, source, OP_KERNEL_OPTIONS, name);
    if (!k)
        return false;
    if (cols == 0 || rows == 0)
        return true;
    /* A fixed local size: PoCL compiles a kernel once per local size. */
    size_t global[2] = {cols, rows}, local[2] = {op_plan(ctx)->tile[0], op_plan(ctx)->tile[1]};
    return clrt_launch(&ctx->rt, k, 2, global, local, n_args, args) == CLG_STATUS_OK;
}

bool op_loops_fit(clg_context *ctx, size_t iterations, const char *fmt, ...)
{
    size_t limit = op_plan(ctx)->loop_limit;
    if (limit == 0 || iterations <= limit)
        return true;
    char op[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op, sizeof op, fmt, ap);
    va_end(ap);
    return clrt_loops_fit(&ctx->rt, op, iterations);
}

void op_fail_shapes(clg_context *ctx, const char *op, const char *what, int n,
                    const clg_tensor *const *ts)
{
    char msg[512];
    size_t used = (size_t)snprintf(msg, sizeof msg, "%s: shape%s ", op, n > 1 ? "s" : "");
    for (int i = 0; i < n && used < sizeof msg; i++) {
        char s[64];
        used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s",
                                 i == 0 ? "" : (i == n - 1 ? " and " : ", "),
                                 eng_shape_str(ts[i], s, sizeof s));
    }
    eng_fail(ctx, CLG_STATUS_SHAPE, "%s %s", msg, what);
}

bool op_broadcast_shape(clg_context *ctx, const char *op, const clg_tensor *a,
                        const clg_tensor *b, int *rank, int64_t *shape)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->shape[ia] : 1;
        int64_t db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            const clg_tensor *ts[2] = {a, b};
            op_fail_shapes(ctx, op, "cannot be broadcast", 2, ts);
            return false;
        }
        shape[i] = da == 1 ? db : da;
    }
    *rank = r;
    return true;
}

void op_broadcast_strides4(const clg_tensor *t, int rank, cl_int *strides4)
{
    for (int i = 0; i < 4; i++) {
        int out_axis = i - (4 - rank);     /* axis in the output */
        int t_axis = out_axis - (rank - t->rank); /* axis in t */
        strides4[i] = (t_axis >= 0 && t->shape[t_axis] != 1) ? (cl_int)t->strides[t_axis] : 0;
    }
}

void op_pad4(int rank, const int64_t *shape, cl_int *shape4)
{
    for (int i = 0; i < 4; i++)
        shape4[i] = i < 4 - rank ? 1 : (cl_int)shape[i - (4 - rank)];
}

/* What an op_map node keeps for op_map_backward. */
typedef struct op_map_saved {
    const char *fn; /* the function's part of the kernel names (static storage) */
    float p0, p1;   /* its parameters, passed to the backward kernel as to the forward */
} op_map_saved;

clg_tensor *op_map(const char *name, const char *source, const char *prefix, const char *fn,
                   clg_tensor *a, float p0, float p1, eng_backward_fn backward)
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
    snprintf(kernel, sizeof kernel, "%s_%s_forward%s", prefix, fn, contiguous ? "_contiguous" : "");
    bool ok = contiguous
                  ? OP_LAUNCH(ctx, source, kernel, (size_t)n, CLRT_ARG_FLOAT(p0),
                              CLRT_ARG_FLOAT(p1), ENG_ARG_TENSOR(a), ENG_ARG_TENSOR(out),
                              CLRT_ARG_INT(n))
                  : OP_LAUNCH(ctx, source, kernel, (size_t)n, CLRT_ARG_FLOAT(p0),
                              CLRT_ARG_FLOAT(p1), ENG_ARG_TENSOR(a), OP_ARG4(a_str),
                              OP_ARG4(shape), ENG_ARG_TENSOR(out), CLRT_ARG_INT(n));
    if (!ok)
        return NULL;
    if (backward && eng_needs_grad(ctx, 1, &a)) {
        eng_node *node = eng_record(ctx, name, backward, out, 1, &a, sizeof(op_map_saved));
        if (!node)
            return NULL;
        op_map_saved *saved = node->state;
        saved->fn = fn;
        saved->p0 = p0;
        saved->p1 = p1;
    }
    return out;
}

void op_map_backward(clg_context *ctx, const eng_node *node, const char *source,
                     const char *prefix)
{
    const op_map_saved *saved = node->state;
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
    snprintf(kernel, sizeof kernel, "%s_%s_backward%s", prefix, saved->fn,
             contiguous ? "_contiguous" : "");
    if (contiguous)
        OP_LAUNCH(ctx, source, kernel, (size_t)n, CLRT_ARG_FLOAT(saved->p0),
                  CLRT_ARG_FLOAT(saved->p1), ENG_ARG_TENSOR(out->grad), ENG_ARG_TENSOR(x),
                  ENG_ARG_TENSOR(out), ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n),
                  CLRT_ARG_INT(accumulate));
    else
        OP_LAUNCH(ctx, source, kernel, (size_t)n, CLRT_ARG_FLOAT(saved->p0),
                  CLRT_ARG_FLOAT(saved->p1), ENG_ARG_TENSOR(out->grad), ENG_ARG_TENSOR(x),
                  OP_ARG4(x_str), OP_ARG4(shape), ENG_ARG_TENSOR(out), ENG_ARG_TENSOR(dst),
                  CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
}
