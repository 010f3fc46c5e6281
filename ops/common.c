/* ops/common.c: helpers shared by the op families (see ops/internal.h). */
#include <stdio.h>

#include "ops/internal.h"

bool op_launch_wg(clg_context *ctx, const char *source, const char *name, size_t n, size_t local,
                  int n_args, const clrt_arg *args)
{
    if (eng_failed(ctx))
        return false;
    cl_kernel k = clrt_kernel(&ctx->rt, source, NULL, name);
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
    cl_kernel k = clrt_kernel(&ctx->rt, source, NULL, name);
    if (!k)
        return false;
    if (cols == 0 || rows == 0)
        return true;
    /* A fixed local size: PoCL compiles a kernel once per local size. */
    size_t global[2] = {cols, rows}, local[2] = {16, 4};
    return clrt_launch(&ctx->rt, k, 2, global, local, n_args, args) == CLG_STATUS_OK;
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
