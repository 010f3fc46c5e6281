/* ops/pool.c: 2-D max and average pooling on NCHW
 * (torch.nn.functional.max_pool2d / avg_pool2d). A window (oh, ow) starts
 * at row oh sh - ph and reads kh rows dh apart (columns alike; dh = 1 for
 * average pooling, which PyTorch does not dilate), so it spans
 * eh = dh (kh - 1) + 1 rows, and
 *   Ho = (H + 2 ph - eh) / sh + 1, the division rounded up under ceil_mode,
 *        less one if the last window would start past H + ph (PyTorch's
 *        pooling_output_shape: each window starts in the input or the left
 *        padding), Wo alike.
 *
 *   max:  out = max over the window's taps (padding is -inf)
 *         dx[e] += g[o] for each window o whose first maximum is e; the
 *         forward saves that position (int32, per output, -1 for a window
 *         of padding only) for backward
 *   avg:  out = sum over the window / count, count = the window clipped to
 *         the padded input (H + ph, count_include_pad=True, PyTorch's
 *         default: only ceil_mode's last window is clipped) or to the input
 *         (count_exclude_pad); PyTorch's avg_pool2d CPU and CUDA kernels
 *         count alike
 *         dx[e] += g[o] / count(o) for each window o covering e
 * Both backward kernels gather per input element, so they need no atomics.
 * Max pooling with disjoint windows (stride >= the window's span, LeNet's
 * 2x2 stride 2) takes a shorter road: each input element is in at most one
 * window, so a scatter from the outputs (after zeroing dx, unless
 * accumulating) writes every element at most once. It needs a quarter of the
 * work-items and no window search; the gather spent 30% of a LeNet-5 step's
 * device time.
 * Kernels: ops/pool.cl. */
#include "ops/internal.h"

#define SOURCE "ops/pool.cl"

enum { POOL_MAX, POOL_AVG };

CLG_API clg_pool2d_params clg_pool2d_params_default(int kernel)
{
    return (clg_pool2d_params){.kernel_h = kernel,
                               .kernel_w = kernel,
                               .stride_h = kernel,
                               .stride_w = kernel,
                               .pad_h = 0,
                               .pad_w = 0,
                               .dilation_h = 1,
                               .dilation_w = 1,
                               .ceil_mode = false,
                               .count_exclude_pad = false};
}

/* The kernels' geometry from p as pool2d resolved it (pool_saved.params):
 * in (N, C, H, W), geo (Ho, Wo, kh, kw), step (stride_h, stride_w, pad_h,
 * pad_w) and opt (dilation_h, dilation_w, count_exclude_pad, 0). */
static void pool_geometry(const clg_tensor *x, const clg_tensor *out, const clg_pool2d_params *p,
                          cl_int *in, cl_int *geo, cl_int *step, cl_int *opt)
{
    for (int d = 0; d < 4; d++)
        in[d] = (cl_int)x->shape[d];
    geo[0] = (cl_int)out->shape[2];
    geo[1] = (cl_int)out->shape[3];
    geo[2] = p->kernel_h;
    geo[3] = p->kernel_w;
    step[0] = p->stride_h;
    step[1] = p->stride_w;
    step[2] = p->pad_h;
    step[3] = p->pad_w;
    opt[0] = p->dilation_h;
    opt[1] = p->dilation_w;
    opt[2] = p->count_exclude_pad;
    opt[3] = 0;
}

/* A window's span along an axis: taps k, dilation apart. */
static int64_t pool_span(int kernel, int dilation)
{
    return (int64_t)dilation * (kernel - 1) + 1;
}

/* Max pooling's windows are disjoint when each stride is at least the span. */
static bool pool_disjoint(const cl_int *geo, const cl_int *step, const cl_int *opt)
{
    return step[0] >= pool_span(geo[2], opt[0]) && step[1] >= pool_span(geo[3], opt[1]);
}

/* The loop iterations of one work-item of the kernel `kind` (forward or
 * backward) runs for this geometry, counted as the kernels in pool.cl
 * loop (a bound, rounded up where a window's rows vary): checked against
 * the driver's bound (llvmpipe: ops/internal.h). */
static size_t pool_loops(int kind, bool backward, const cl_int *in, const cl_int *geo,
                         const cl_int *step, const cl_int *opt)
{
    size_t h = (size_t)in[2], w = (size_t)in[3], ho = (size_t)geo[0], wo = (size_t)geo[1];
    size_t kh = (size_t)geo[2], kw = (size_t)geo[3], span_h = (size_t)pool_span(geo[2], opt[0]);
    if (!backward) /* per output column, the window's rows and columns */
        return op_loops_mul(wo, 1 + op_loops_mul(kh, 1 + kw));
    if (kind == POOL_MAX && pool_disjoint(geo, step, opt)) {
        /* a band of input rows: sh, or more for the first and last */
        size_t sh = (size_t)step[0], ph = (size_t)step[2];
        size_t last = h + ph - (ho - 1) * sh, band = ho == 1 ? h : sh > last ? sh : last;
        return op_loops_mul(band, w) + wo;
    }
    /* the row's W elements, then each covering output row's columns (at
     * most span_h + 1 output rows' windows reach one input row) */
    size_t per_row = kind == POOL_MAX ? wo : op_loops_mul(wo, 1 + kw);
    return w + op_loops_mul(span_h + 1, 1 + per_row);
}

/* What a pooling node keeps besides its input x and, for max pooling,
 * saved[0]: each output's first maximum (int32, -1 for padding only). */
typedef struct pool_saved {
    int kind;                 /* POOL_MAX or POOL_AVG */
    clg_pool2d_params params; /* as pool2d resolved them: the dilation the
                                 kernels use, count_exclude_pad only for avg */
} pool_saved;

static void pool_backward(clg_context *ctx, const eng_node *node)
{
    const pool_saved *saved = node->state;
    clg_tensor *x = node->inputs[0], *g = node->output->grad;
    cl_int in[4], geo[4], step[4], opt[4];
    pool_geometry(x, node->output, &saved->params, in, geo, step, opt);
    bool accumulate = false;
    clg_tensor *dx = eng_grad_dest(ctx, x, &accumulate);
    if (!dx)
        return;
    char s[64];
    if (!op_loops_fit(ctx, pool_loops(saved->kind, true, in, geo, step, opt),
                      "%s backward of input %s", node->name, eng_shape_str(x, s, sizeof s)))
        return;
    if (saved->kind == POOL_MAX && pool_disjoint(geo, step, opt)) {
        size_t rows = (size_t)in[0] * (size_t)in[1] * (size_t)geo[0];
        OP_LAUNCH(ctx, SOURCE, "max_pool2d_backward_disjoint", rows, ENG_ARG_TENSOR(g),
                  ENG_ARG_TENSOR(node->saved[0]), ENG_ARG_TENSOR(dx), OP_ARG4(in), OP_ARG4(geo),
                  OP_ARG4(step), OP_ARG4(opt), CLRT_ARG_INT(rows), CLRT_ARG_INT(accumulate));
    } else {
        size_t rows = (size_t)in[0] * (size_t)in[1] * (size_t)in[2];
        if (saved->kind == POOL_MAX)
            OP_LAUNCH(ctx, SOURCE, "max_pool2d_backward", rows, ENG_ARG_TENSOR(g),
                      ENG_ARG_TENSOR(node->saved[0]), ENG_ARG_TENSOR(dx), OP_ARG4(in), OP_ARG4(geo),
                      OP_ARG4(step), OP_ARG4(opt), CLRT_ARG_INT(rows), CLRT_ARG_INT(accumulate));
        else
            OP_LAUNCH(ctx, SOURCE, "avg_pool2d_backward", rows, ENG_ARG_TENSOR(g),
                      ENG_ARG_TENSOR(dx), OP_ARG4(in), OP_ARG4(geo), OP_ARG4(step), OP_ARG4(opt),
                      CLRT_ARG_INT(rows), CLRT_ARG_INT(accumulate));
    }
}

/* PyTorch's pooling_output_shape along one axis: span <= size + 2 pad is
 * checked, so the division is a floor; under ceil_mode a last window
 * starting past the input and left padding is dropped. */
static int64_t pool_out(int64_t size, int64_t span, int stride, int pad, bool ceil_mode)
{
    int64_t room = size + 2 * (int64_t)pad - span;
    int64_t out = (ceil_mode ? room + stride - 1 : room) / stride + 1;
    if (ceil_mode && (out - 1) * stride >= size + pad)
        out--;
    return out;
}

/* The shape rule and the op's errors; sets the output size and the
 * dilation (0 read as 1). */
static bool pool_check(clg_context *ctx, const char *op, int kind, const clg_tensor *x,
                       const clg_pool2d_params *p, int64_t *ho, int64_t *wo, int *dil)
{
    char s[64];
    if (!p) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: params is NULL (use clg_pool2d_params_default(kernel))", op);
        return false;
    }
    if (x->rank != 4) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: input shape %s is not (N, C, H, W)", op,
                 eng_shape_str(x, s, sizeof s));
        return false;
    }
    if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: window %dx%d and stride (%d, %d) must be positive", op, p->kernel_h,
                 p->kernel_w, p->stride_h, p->stride_w);
        return false;
    }
    dil[0] = p->dilation_h == 0 ? 1 : p->dilation_h;
    dil[1] = p->dilation_w == 0 ? 1 : p->dilation_w;
    if (dil[0] < 1 || dil[1] < 1) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: dilation (%d, %d) must be positive (0 reads as 1)", op, p->dilation_h,
                 p->dilation_w);
        return false;
    }
    if (kind == POOL_AVG && (dil[0] != 1 || dil[1] != 1)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: dilation (%d, %d) must be 1: average pooling is not dilated (as PyTorch's "
                 "avg_pool2d)",
                 op, p->dilation_h, p->dilation_w);
        return false;
    }
    /* PyTorch's rule, on the window and not its dilated span: a window
     * starting in the left padding still reaches a real element */
    if (p->pad_h < 0 || p->pad_w < 0 || p->pad_h > p->kernel_h / 2 || p->pad_w > p->kernel_w / 2) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: padding (%d, %d) must be between 0 and half the window %dx%d", op, p->pad_h,
                 p->pad_w, p->kernel_h, p->kernel_w);
        return false;
    }
    int64_t padded_h = x->shape[2] + 2 * (int64_t)p->pad_h;
    int64_t padded_w = x->shape[3] + 2 * (int64_t)p->pad_w;
    int64_t span_h = pool_span(p->kernel_h, dil[0]), span_w = pool_span(p->kernel_w, dil[1]);
    if (span_h > padded_h || span_w > padded_w) {
        if (dil[0] == 1 && dil[1] == 1)
            eng_fail(ctx, CLG_STATUS_SHAPE,
                     "%s: window %dx%d is larger than the padded input %lldx%lld (input %s, "
                     "padding (%d, %d))",
                     op, p->kernel_h, p->kernel_w, (long long)padded_h, (long long)padded_w,
                     eng_shape_str(x, s, sizeof s), p->pad_h, p->pad_w);
        else
            eng_fail(ctx, CLG_STATUS_SHAPE,
                     "%s: window %dx%d dilated (%d, %d) spans %lldx%lld (dilation (kernel - 1) + "
                     "1), larger than the padded input %lldx%lld (input %s, padding (%d, %d))",
                     op, p->kernel_h, p->kernel_w, dil[0], dil[1], (long long)span_h,
                     (long long)span_w, (long long)padded_h, (long long)padded_w,
                     eng_shape_str(x, s, sizeof s), p->pad_h, p->pad_w);
        return false;
    }
    *ho = pool_out(x->shape[2], span_h, p->stride_h, p->pad_h, p->ceil_mode);
    *wo = pool_out(x->shape[3], span_w, p->stride_w, p->pad_w, p->ceil_mode);
    return true;
}

static clg_tensor *pool2d(const char *op, int kind, clg_tensor *input, const clg_pool2d_params *p)
{
    clg_context *ctx = eng_op_begin_f32(op, 1, &input);
    if (!ctx)
        return NULL;
    int64_t ho, wo;
    int dil[2];
    if (!pool_check(ctx, op, kind, input, p, &ho, &wo, dil))
        return NULL;
    clg_tensor *x = eng_contiguous(ctx, input);
    if (!x)
        return NULL;
    int64_t shape[4] = {x->shape[0], x->shape[1], ho, wo};
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, 4, shape);
    if (!out)
        return NULL;
    clg_pool2d_params resolved = *p;
    resolved.dilation_h = dil[0];
    resolved.dilation_w = dil[1];
    resolved.count_exclude_pad = kind == POOL_AVG && p->count_exclude_pad;
    cl_int in[4], geo[4], step[4], opt[4];
    pool_geometry(x, out, &resolved, in, geo, step, opt);
    size_t rows = (size_t)(x->shape[0] * x->shape[1] * ho); /* the kernels' work-items */
    char s[64];
    if (rows > 0 && !op_loops_fit(ctx, pool_loops(kind, false, in, geo, step, opt),
                                  "%s of input %s, window %dx%d", op, eng_shape_str(x, s, sizeof s),
                                  p->kernel_h, p->kernel_w))
        return NULL;
    clg_tensor *index = NULL;
    if (kind == POOL_MAX) {
        index = eng_new(ctx, CLG_DTYPE_I32, 4, shape);
        if (!index || !OP_LAUNCH(ctx, SOURCE, "max_pool2d_forward", rows, ENG_ARG_TENSOR(x),
                                 ENG_ARG_TENSOR(out), ENG_ARG_TENSOR(index), OP_ARG4(in),
                                 OP_ARG4(geo), OP_ARG4(step), OP_ARG4(opt), CLRT_ARG_INT(rows)))
            return NULL;
    } else if (!OP_LAUNCH(ctx, SOURCE, "avg_pool2d_forward", rows, ENG_ARG_TENSOR(x),
                          ENG_ARG_TENSOR(out), OP_ARG4(in), OP_ARG4(geo), OP_ARG4(step),
                          OP_ARG4(opt), CLRT_ARG_INT(rows))) {
        return NULL;
    }
    if (eng_needs_grad(ctx, 1, &x)) {
        eng_node *node = eng_record(ctx, op, pool_backward, out, 1, &x, sizeof(pool_saved));
        if (!node)
            return NULL;
        node->saved[0] = index;
        pool_saved *saved = node->state;
        saved->kind = kind;
        saved->params = resolved;
    }
    return out;
}

CLG_API clg_tensor *clg_max_pool2d(clg_tensor *input, const clg_pool2d_params *params)
{
    return pool2d("clg_max_pool2d", POOL_MAX, input, params);
}

CLG_API clg_tensor *clg_avg_pool2d(clg_tensor *input, const clg_pool2d_params *params)
{
    return pool2d("clg_avg_pool2d", POOL_AVG, input, params);
}
