/* ops/softmax.c: softmax and log-softmax along one axis (torch.softmax,
 * torch.log_softmax).
 *
 *   y = exp(x - m) / sum exp(x - m)     dx = y (g - sum(g y))
 *   y = x - m - log sum exp(x - m)      dx = g - exp(y) sum(g)
 * m is the maximum along the axis: subtracting it changes nothing
 * mathematically and keeps exp from overflowing. Sums run along the axis.
 * The backward rules need only the output y, so nothing else is saved.
 * Kernels: ops/softmax.cl. */
#include "ops/internal.h"

#define SOURCE "ops/softmax.cl"

/* What a softmax node keeps besides its input and its output y. */
typedef struct softmax_saved {
    bool log_out; /* log_softmax rather than softmax */
    int count;    /* elements along the axis */
    int inner;    /* elements between two of them: the product of later axes */
} softmax_saved;

static void softmax_backward(clg_context *ctx, const eng_node *node)
{
    const softmax_saved *saved = node->state;
    clg_tensor *a = node->inputs[0], *y = node->output;
    bool accumulate = false;
    clg_tensor *dst = eng_grad_dest(ctx, a, &accumulate);
    if (!dst)
        return;
    int count = saved->count, inner = saved->inner;
    int rows = count ? (int)(clg_tensor_numel(a) / count) : 0;
    OP_LAUNCH(ctx, SOURCE, "softmax_backward", (size_t)rows, CLRT_ARG_INT(saved->log_out),
              ENG_ARG_TENSOR(y), ENG_ARG_TENSOR(y->grad), CLRT_ARG_INT(count), CLRT_ARG_INT(inner),
              ENG_ARG_TENSOR(dst), CLRT_ARG_INT(rows), CLRT_ARG_INT(accumulate));
}

static clg_tensor *softmax(const char *name, clg_tensor *a, int axis, bool log_out)
{
    clg_context *ctx = eng_op_begin_f32(name, 1, &a);
    if (!ctx)
        return NULL;
    int ax = eng_axis(ctx, name, a, axis);
    if (ax < 0)
        return NULL;
    int64_t kshape[CLG_MAX_RANK];
    int inner = 1;
    for (int d = 0; d < a->rank; d++) {
        kshape[d] = d == ax ? 1 : a->shape[d];
        if (d > ax)
            inner *= (int)a->shape[d];
    }
    cl_int kshape4[4], strides4[4];
    op_pad4(a->rank, kshape, kshape4);
    eng_strides4(a, strides4);
    int count = (int)a->shape[ax];
    int rows = count ? (int)(clg_tensor_numel(a) / count) : 0;
    /* a work-item walks its row three times (the backward, twice: no check
     * of its own) */
    char s[64];
    if (!op_loops_fit(ctx, rows ? op_loops_mul(3, (size_t)count) : 0,
                      "%s of shape %s along axis %d", name, eng_shape_str(a, s, sizeof s), ax))
        return NULL;
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, a->rank, a->shape);
    if (!out)
        return NULL;
    if (!OP_LAUNCH(ctx, SOURCE, "softmax_forward", (size_t)rows, CLRT_ARG_INT(log_out),
                   ENG_ARG_TENSOR(a), OP_ARG4(kshape4), OP_ARG4(strides4),
                   CLRT_ARG_INT(a->strides[ax]), CLRT_ARG_INT(count), CLRT_ARG_INT(inner),
                   ENG_ARG_TENSOR(out), CLRT_ARG_INT(rows)))
        return NULL;
    if (eng_needs_grad(ctx, 1, &a)) {
        eng_node *node = eng_record(ctx, name, softmax_backward, out, 1, &a,
                                    sizeof(softmax_saved));
        if (!node)
            return NULL;
        softmax_saved *saved = node->state;
        saved->log_out = log_out;
        saved->count = count;
        saved->inner = inner;
    }
    return out;
}

CLG_API clg_tensor *clg_softmax(clg_tensor *a, int axis)
{
    return softmax("clg_softmax", a, axis, false);
}

CLG_API clg_tensor *clg_log_softmax(clg_tensor *a, int axis)
{
    return softmax("clg_log_softmax", a, axis, true);
}
