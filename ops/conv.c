/* ops/conv.c: 2-D convolution on NCHW (torch.nn.functional.conv2d) as
 * im2col and one GEMM, so the op runs at the speed of the GEMM layer
 * (clrt_gemm). With P = N Ho Wo output positions and T = C kh kw taps:
 *
 *   col (P, T)    col[(n,oh,ow), (c,ki,kj)] = x[n, c, oh sh - ph + ki dh, ow sw - pw + kj dw]
 *                 (0 in the padding)
 *   rows (P, K) = col W^T        W (K, C, kh, kw) is the row-major (K, T) matrix, so
 *                                W^T is a transpose flag, not a copy
 *   out[n, k, oh, ow] = rows[(n,oh,ow), k] + b[k]
 * Backward, with G (P, K) the output's gradient permuted like rows:
 *   dW (K, T) (+)= G^T col       one GEMM whose inner size is P
 *   db[k]     (+)= sum over n, oh, ow of dOut[n, k, oh, ow]
 *   dcol (P, T) = G W            one GEMM
 *   dx        (+)= col2im(dcol): each input element sums the dcol entries
 *                  that im2col copied from it (a gather: no atomics)
 * col is saved on the tape, so backward does not rebuild it.
 * clg_conv_transpose2d (at the end) runs the same kernels the other way
 * round. Kernels: ops/conv.cl. */
#include <limits.h>

#include "ops/internal.h"

#define SOURCE "ops/conv.cl"
#define OP "clg_conv2d"

CLG_API clg_conv2d_params clg_conv2d_params_default(void)
{
    return (clg_conv2d_params){
        .stride_h = 1, .stride_w = 1, .pad_h = 0, .pad_w = 0, .dilation_h = 1, .dilation_w = 1};
}

/* Everything the kernels and GEMMs need, from the shapes and parameters. */
typedef struct conv_geometry {
    cl_int in[4];     /* N, C, H, W */
    cl_int geo[4];    /* Ho, Wo, kh, kw */
    cl_int step[4];   /* stride_h, stride_w, pad_h, pad_w */
    cl_int dil[4];    /* dilation_h, dilation_w, 0, 0 */
    size_t channels;  /* K */
    size_t positions; /* P = N Ho Wo */
    size_t taps;      /* T = C kh kw */
} conv_geometry;

/* p: stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w. */
static conv_geometry geometry(const clg_tensor *x, const clg_tensor *w, const int *p, int64_t ho,
                              int64_t wo)
{
    conv_geometry g;
    for (int d = 0; d < 4; d++)
        g.in[d] = (cl_int)x->shape[d];
    g.geo[0] = (cl_int)ho;
    g.geo[1] = (cl_int)wo;
    g.geo[2] = (cl_int)w->shape[2];
    g.geo[3] = (cl_int)w->shape[3];
    for (int d = 0; d < 4; d++)
        g.step[d] = p[d];
    g.dil[0] = p[4];
    g.dil[1] = p[5];
    g.dil[2] = g.dil[3] = 0;
    g.channels = (size_t)w->shape[0];
    g.positions = (size_t)(x->shape[0] * ho * wo);
    g.taps = (size_t)(w->shape[1] * w->shape[2] * w->shape[3]);
    return g;
}

static clrt_matrix matrix(const clg_tensor *t, size_t ld, bool trans)
{
    return (clrt_matrix){t->mem, t->offset, ld, trans};
}

static void conv2d_backward(clg_context *ctx, const eng_node *node)
{
    clg_tensor *x = node->inputs[0], *w = node->inputs[1];
    clg_tensor *b = node->n_inputs > 2 ? node->inputs[2] : NULL;
    clg_tensor *out = node->output, *g = out->grad, *col = node->saved[0];
    conv_geometry geo = geometry(x, w, node->i, out->shape[2], out->shape[3]);
    clrt *rt = &ctx->rt;
    bool accumulate = false;

    clg_tensor *db = eng_grad_dest(ctx, b, &accumulate);
    if (db)
        OP_LAUNCH(ctx, SOURCE, "conv2d_bias_grad", geo.channels * OP_WG, ENG_ARG_TENSOR(g),
                  ENG_ARG_TENSOR(db), CLRT_ARG_INT(geo.in[0]), CLRT_ARG_INT(geo.channels),
                  CLRT_ARG_INT(geo.geo[0] * geo.geo[1]), CLRT_ARG_INT(accumulate));
    if (!x->requires_grad && !w->requires_grad)
        return;

    int64_t rows_shape[2] = {(int64_t)geo.positions, (int64_t)geo.channels};
    clg_tensor *grad_rows = eng_new(ctx, CLG_DTYPE_F32, 2, rows_shape); /* G (P, K) */
    if (!grad_rows ||
        !OP_LAUNCH(ctx, SOURCE, "conv2d_grad_rows", geo.positions, ENG_ARG_TENSOR(g),
                   ENG_ARG_TENSOR(grad_rows), CLRT_ARG_INT(geo.channels),
                   CLRT_ARG_INT(geo.geo[0] * geo.geo[1]), CLRT_ARG_INT(geo.positions)))
        return;

    clg_tensor *dw = eng_grad_dest(ctx, w, &accumulate);
    if (dw && clrt_gemm(rt, geo.channels, geo.taps, geo.positions, 1.0f,
                        matrix(grad_rows, geo.channels, true), matrix(col, geo.taps, false),
                        accumulate ? 1.0f : 0.0f, matrix(dw, geo.taps, false), 1, 0, 0,
                        0) != CLG_STATUS_OK)
        return;

    if (!x->requires_grad)
        return;
    int64_t col_shape[2] = {(int64_t)geo.positions, (int64_t)geo.taps};
    clg_tensor *dcol = eng_new(ctx, CLG_DTYPE_F32, 2, col_shape);
    if (!dcol || clrt_gemm(rt, geo.positions, geo.taps, geo.channels, 1.0f,
                           matrix(grad_rows, geo.channels, false), matrix(w, geo.taps, false), 0.0f,
                           matrix(dcol, geo.taps, false), 1, 0, 0, 0) != CLG_STATUS_OK)
        return;
    clg_tensor *dx = eng_grad_dest(ctx, x, &accumulate);
    if (dx) {
        size_t n = (size_t)clg_tensor_numel(x);
        OP_LAUNCH(ctx, SOURCE, "conv2d_col2im", n, ENG_ARG_TENSOR(dcol), ENG_ARG_TENSOR(dcol),
                  CLRT_ARG_INT(0), ENG_ARG_TENSOR(dx), OP_ARG4(geo.in), OP_ARG4(geo.geo),
                  OP_ARG4(geo.step), OP_ARG4(geo.dil), CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
    }
}

/* The checks conv2d and conv_transpose2d share, with the layouts their
 * messages name: x of rank 4, a 4-D weight whose axis `in_axis` matches x's
 * channels and axis `out_axis` the bias, positive stride and dilation,
 * padding not negative. */
static bool conv_check_common(clg_context *ctx, const char *op, const char *x_layout,
                              const char *w_layout, const clg_tensor *x, const clg_tensor *w,
                              const clg_tensor *b, int in_axis, int out_axis, int stride_h,
                              int stride_w, int pad_h, int pad_w, int dilation_h, int dilation_w)
{
    char s[64], t[64];
    if (x->rank != 4) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: input shape %s is not %s", op,
                 eng_shape_str(x, s, sizeof s), x_layout);
        return false;
    }
    if (w->rank != 4 || w->shape[2] < 1 || w->shape[3] < 1) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: weight shape %s is not %s", op,
                 eng_shape_str(w, s, sizeof s), w_layout);
        return false;
    }
    if (x->shape[1] != w->shape[in_axis]) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: input %s has %lld channels but weight %s expects %lld",
                 op, eng_shape_str(x, s, sizeof s), (long long)x->shape[1],
                 eng_shape_str(w, t, sizeof t), (long long)w->shape[in_axis]);
        return false;
    }
    if (b && (b->rank != 1 || b->shape[0] != w->shape[out_axis])) {
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 "%s: bias shape %s does not match the %lld output channels of weight %s", op,
                 eng_shape_str(b, s, sizeof s), (long long)w->shape[out_axis],
                 eng_shape_str(w, t, sizeof t));
        return false;
    }
    if (stride_h < 1 || stride_w < 1 || dilation_h < 1 || dilation_w < 1) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: stride (%d, %d) and dilation (%d, %d) must be positive", op, stride_h,
                 stride_w, dilation_h, dilation_w);
        return false;
    }
    if (pad_h < 0 || pad_w < 0) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: padding (%d, %d) must not be negative", op,
                 pad_h, pad_w);
        return false;
    }
    return true;
}

/* The shape rule and every error the op reports; sets the output size. */
static bool conv2d_check(clg_context *ctx, const clg_tensor *x, const clg_tensor *w,
                         const clg_tensor *b, const clg_conv2d_params *p, int64_t *ho, int64_t *wo)
{
    if (!conv_check_common(ctx, OP, "(N, C, H, W)", "(K, C, kh, kw)", x, w, b, 1, 0, p->stride_h,
                           p->stride_w, p->pad_h, p->pad_w, p->dilation_h, p->dilation_w))
        return false;
    char s[64], t[64];
    /* the extent a dilated kernel covers, and the padded input it slides over */
    int64_t span_h = (int64_t)p->dilation_h * (w->shape[2] - 1) + 1;
    int64_t span_w = (int64_t)p->dilation_w * (w->shape[3] - 1) + 1;
    int64_t padded_h = x->shape[2] + 2 * (int64_t)p->pad_h;
    int64_t padded_w = x->shape[3] + 2 * (int64_t)p->pad_w;
    if (span_h > padded_h || span_w > padded_w) {
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 OP ": weight %s with dilation (%d, %d) spans %lldx%lld, larger than the padded "
                    "input %lldx%lld (input %s, padding (%d, %d))",
                 eng_shape_str(w, t, sizeof t), p->dilation_h, p->dilation_w, (long long)span_h,
                 (long long)span_w, (long long)padded_h, (long long)padded_w,
                 eng_shape_str(x, s, sizeof s), p->pad_h, p->pad_w);
        return false;
    }
    *ho = (padded_h - span_h) / p->stride_h + 1;
    *wo = (padded_w - span_w) / p->stride_w + 1;
    /* the kernels index with int */
    int64_t positions = x->shape[0] * *ho * *wo;
    int64_t taps = w->shape[1] * w->shape[2] * w->shape[3];
    if (positions * taps > INT_MAX || positions * w->shape[0] > INT_MAX ||
        eng_numel(4, x->shape) > INT_MAX) {
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 OP ": input %s with weight %s needs a %lld x %lld im2col matrix, more than "
                    "2^31 - 1 elements",
                 eng_shape_str(x, s, sizeof s), eng_shape_str(w, t, sizeof t), (long long)positions,
                 (long long)taps);
        return false;
    }
    return true;
}

CLG_API clg_tensor *clg_conv2d(clg_tensor *input, clg_tensor *weight, clg_tensor *bias,
                               const clg_conv2d_params *params)
{
    clg_tensor *inputs[3] = {input, weight, bias};
    int n_inputs = bias ? 3 : 2;
    clg_context *ctx = eng_op_begin_f32(OP, n_inputs, inputs);
    if (!ctx)
        return NULL;
    clg_conv2d_params p = params ? *params : clg_conv2d_params_default();
    int64_t ho, wo;
    if (!conv2d_check(ctx, input, weight, bias, &p, &ho, &wo))
        return NULL;
    /* The kernels and GEMMs read dense NCHW; views become copies (recorded,
     * so their gradients flow back). */
    for (int i = 0; i < n_inputs; i++)
        if (!(inputs[i] = eng_contiguous(ctx, inputs[i])))
            return NULL;
    clg_tensor *x = inputs[0], *w = inputs[1], *b = n_inputs > 2 ? inputs[2] : NULL;
    int pv[6] = {p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w};
    conv_geometry geo = geometry(x, w, pv, ho, wo);

    clg_tensor *col =
        eng_new(ctx, CLG_DTYPE_F32, 2, (int64_t[]){(int64_t)geo.positions, (int64_t)geo.taps});
    clg_tensor *rows =
        eng_new(ctx, CLG_DTYPE_F32, 2, (int64_t[]){(int64_t)geo.positions, (int64_t)geo.channels});
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, 4, (int64_t[]){x->shape[0], w->shape[0], ho, wo});
    if (!col || !rows || !out)
        return NULL;
    if (!OP_LAUNCH(ctx, SOURCE, "conv2d_im2col", geo.positions, ENG_ARG_TENSOR(x),
                   ENG_ARG_TENSOR(col), OP_ARG4(geo.in), OP_ARG4(geo.geo), OP_ARG4(geo.step),
                   OP_ARG4(geo.dil), CLRT_ARG_INT(geo.positions)))
        return NULL;
    /* rows (P, K) = col (P, T) x W^T (T, K) */
    if (clrt_gemm(&ctx->rt, geo.positions, geo.channels, geo.taps, 1.0f,
                  matrix(col, geo.taps, false), matrix(w, geo.taps, true), 0.0f,
                  matrix(rows, geo.channels, false), 1, 0, 0, 0) != CLG_STATUS_OK)
        return NULL;
    const clg_tensor *bias_src = b ? b : rows; /* any buffer when there is no bias */
    if (!OP_LAUNCH(ctx, SOURCE, "conv2d_output", geo.positions, ENG_ARG_TENSOR(rows),
                   ENG_ARG_TENSOR(bias_src), CLRT_ARG_INT(b != NULL), ENG_ARG_TENSOR(out),
                   CLRT_ARG_INT(geo.channels), CLRT_ARG_INT(ho * wo), CLRT_ARG_INT(geo.positions),
                   CLRT_ARG_INT(0)))
        return NULL;
    if (eng_needs_grad(ctx, n_inputs, inputs)) {
        eng_node *node = eng_record(ctx, OP, conv2d_backward, out, n_inputs, inputs);
        if (!node)
            return NULL;
        node->saved[0] = col;
        for (int i = 0; i < 6; i++)
            node->i[i] = pv[i];
    }
    return out;
}

/* ---- transposed convolution ----
 *
 * torch.nn.functional.conv_transpose2d is the input gradient of a conv2d
 * that maps the output (N, C_out, Ho, Wo) back to the input (N, C_in, H, W)
 * with the same weight (C_in, C_out, kh, kw): conv2d's "K" is C_in and its
 * taps T = C_out kh kw. So with P = N H W input positions, the forward is
 * conv2d's backward and the backward conv2d's forward:
 *   rows (P, C_in)  = x permuted                   (conv2d_grad_rows)
 *   col  (P, T)     = rows W                       one GEMM
 *   out             = col2im(col) + b              (conv2d_col2im, bias folded in)
 * Backward, with G = dOut:
 *   db   (+)= sum over n, oh, ow of G               (conv2d_bias_grad)
 *   gcol (P, T)     = im2col(G)                    (conv2d_im2col)
 *   dW   (C_in, T) (+)= rows^T gcol                one GEMM whose inner size is P
 *   drows (P, C_in) = gcol W^T                     one GEMM
 *   dx   (+)= drows permuted                       (conv2d_output)
 * rows is saved on the tape for dW. */

#define OP_T "clg_conv_transpose2d"

CLG_API clg_conv_transpose2d_params clg_conv_transpose2d_params_default(void)
{
    return (clg_conv_transpose2d_params){.stride_h = 1, .stride_w = 1, .dilation_h = 1,
                                         .dilation_w = 1};
}

/* The conv2d geometry seen from the output: in = the output (N, C_out, Ho,
 * Wo), geo = (H, W, kh, kw) the input's size. p: stride_h, stride_w, pad_h,
 * pad_w, dilation_h, dilation_w. */
static conv_geometry transpose_geometry(const clg_tensor *x, const clg_tensor *w,
                                        const int64_t *out_shape, const int *p)
{
    conv_geometry g;
    for (int d = 0; d < 4; d++)
        g.in[d] = (cl_int)out_shape[d];
    g.geo[0] = (cl_int)x->shape[2];
    g.geo[1] = (cl_int)x->shape[3];
    g.geo[2] = (cl_int)w->shape[2];
    g.geo[3] = (cl_int)w->shape[3];
    for (int d = 0; d < 4; d++)
        g.step[d] = p[d];
    g.dil[0] = p[4];
    g.dil[1] = p[5];
    g.dil[2] = g.dil[3] = 0;
    g.channels = (size_t)x->shape[1];
    g.positions = (size_t)(x->shape[0] * x->shape[2] * x->shape[3]);
    g.taps = (size_t)(w->shape[1] * w->shape[2] * w->shape[3]);
    return g;
}

static void conv_transpose2d_backward(clg_context *ctx, const eng_node *node)
{
    clg_tensor *x = node->inputs[0], *w = node->inputs[1];
    clg_tensor *b = node->n_inputs > 2 ? node->inputs[2] : NULL;
    clg_tensor *out = node->output, *g = out->grad, *rows = node->saved[0];
    conv_geometry geo = transpose_geometry(x, w, out->shape, node->i);
    size_t hw = (size_t)(x->shape[2] * x->shape[3]);
    clrt *rt = &ctx->rt;
    bool accumulate = false;

    clg_tensor *db = eng_grad_dest(ctx, b, &accumulate);
    if (db)
        OP_LAUNCH(ctx, SOURCE, "conv2d_bias_grad", (size_t)out->shape[1] * OP_WG,
                  ENG_ARG_TENSOR(g), ENG_ARG_TENSOR(db), CLRT_ARG_INT(out->shape[0]),
                  CLRT_ARG_INT(out->shape[1]), CLRT_ARG_INT(out->shape[2] * out->shape[3]),
                  CLRT_ARG_INT(accumulate));
    if (!x->requires_grad && !w->requires_grad)
        return;

    int64_t col_shape[2] = {(int64_t)geo.positions, (int64_t)geo.taps};
    clg_tensor *gcol = eng_new(ctx, CLG_DTYPE_F32, 2, col_shape);
    if (!gcol || !OP_LAUNCH(ctx, SOURCE, "conv2d_im2col", geo.positions, ENG_ARG_TENSOR(g),
                            ENG_ARG_TENSOR(gcol), OP_ARG4(geo.in), OP_ARG4(geo.geo),
                            OP_ARG4(geo.step), OP_ARG4(geo.dil), CLRT_ARG_INT(geo.positions)))
        return;

    clg_tensor *dw = eng_grad_dest(ctx, w, &accumulate);
    if (dw && clrt_gemm(rt, geo.channels, geo.taps, geo.positions, 1.0f,
                        matrix(rows, geo.channels, true), matrix(gcol, geo.taps, false),
                        accumulate ? 1.0f : 0.0f, matrix(dw, geo.taps, false), 1, 0, 0,
                        0) != CLG_STATUS_OK)
        return;

    clg_tensor *dx = eng_grad_dest(ctx, x, &accumulate);
    if (!dx)
        return;
    int64_t rows_shape[2] = {(int64_t)geo.positions, (int64_t)geo.channels};
    clg_tensor *drows = eng_new(ctx, CLG_DTYPE_F32, 2, rows_shape);
    if (!drows || clrt_gemm(rt, geo.positions, geo.channels, geo.taps, 1.0f,
                            matrix(gcol, geo.taps, false), matrix(w, geo.taps, true), 0.0f,
                            matrix(drows, geo.channels, false), 1, 0, 0, 0) != CLG_STATUS_OK)
        return;
    OP_LAUNCH(ctx, SOURCE, "conv2d_output", geo.positions, ENG_ARG_TENSOR(drows),
              ENG_ARG_TENSOR(drows), CLRT_ARG_INT(0), ENG_ARG_TENSOR(dx),
              CLRT_ARG_INT(geo.channels), CLRT_ARG_INT(hw), CLRT_ARG_INT(geo.positions),
              CLRT_ARG_INT(accumulate));
}

/* The shape rule and every error the op reports; sets the output size. */
static bool conv_transpose2d_check(clg_context *ctx, const clg_tensor *x, const clg_tensor *w,
                                   const clg_tensor *b, const clg_conv_transpose2d_params *p,
                                   int64_t *ho, int64_t *wo)
{
    if (!conv_check_common(ctx, OP_T, "(N, C_in, H, W)", "(C_in, C_out, kh, kw)", x, w, b, 0, 1,
                           p->stride_h, p->stride_w, p->pad_h, p->pad_w, p->dilation_h,
                           p->dilation_w))
        return false;
    char s[64], t[64];
    /* PyTorch's rule: beyond it the extra rows would be reached by no input */
    if (p->output_pad_h < 0 || p->output_pad_w < 0 ||
        (p->output_pad_h >= p->stride_h && p->output_pad_h >= p->dilation_h) ||
        (p->output_pad_w >= p->stride_w && p->output_pad_w >= p->dilation_w)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 OP_T ": output padding (%d, %d) must be non-negative and smaller than the "
                      "stride (%d, %d) or the dilation (%d, %d)",
                 p->output_pad_h, p->output_pad_w, p->stride_h, p->stride_w, p->dilation_h,
                 p->dilation_w);
        return false;
    }
    *ho = (x->shape[2] - 1) * p->stride_h - 2 * (int64_t)p->pad_h +
          (int64_t)p->dilation_h * (w->shape[2] - 1) + p->output_pad_h + 1;
    *wo = (x->shape[3] - 1) * p->stride_w - 2 * (int64_t)p->pad_w +
          (int64_t)p->dilation_w * (w->shape[3] - 1) + p->output_pad_w + 1;
    if (*ho < 1 || *wo < 1) {
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 OP_T ": input %s with weight %s, stride (%d, %d) and padding (%d, %d) gives an "
                      "output of %lldx%lld",
                 eng_shape_str(x, s, sizeof s), eng_shape_str(w, t, sizeof t), p->stride_h,
                 p->stride_w, p->pad_h, p->pad_w, (long long)*ho, (long long)*wo);
        return false;
    }
    int64_t positions = x->shape[0] * x->shape[2] * x->shape[3];
    int64_t taps = w->shape[1] * w->shape[2] * w->shape[3];
    if (positions * taps > INT_MAX || x->shape[0] * w->shape[1] * *ho * *wo > INT_MAX ||
        positions * x->shape[1] > INT_MAX) {
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 OP_T ": input %s with weight %s needs a %lld x %lld column matrix, more than "
                      "2^31 - 1 elements",
                 eng_shape_str(x, s, sizeof s), eng_shape_str(w, t, sizeof t), (long long)positions,
                 (long long)taps);
        return false;
    }
    return true;
}

CLG_API clg_tensor *clg_conv_transpose2d(clg_tensor *input, clg_tensor *weight, clg_tensor *bias,
                                         const clg_conv_transpose2d_params *params)
{
    clg_tensor *inputs[3] = {input, weight, bias};
    int n_inputs = bias ? 3 : 2;
    clg_context *ctx = eng_op_begin_f32(OP_T, n_inputs, inputs);
    if (!ctx)
        return NULL;
    clg_conv_transpose2d_params p = params ? *params : clg_conv_transpose2d_params_default();
    int64_t ho, wo;
    if (!conv_transpose2d_check(ctx, input, weight, bias, &p, &ho, &wo))
        return NULL;
    for (int i = 0; i < n_inputs; i++)
        if (!(inputs[i] = eng_contiguous(ctx, inputs[i])))
            return NULL;
    clg_tensor *x = inputs[0], *w = inputs[1], *b = n_inputs > 2 ? inputs[2] : NULL;
    int pv[6] = {p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w};
    int64_t out_shape[4] = {x->shape[0], w->shape[1], ho, wo};
    conv_geometry geo = transpose_geometry(x, w, out_shape, pv);
    size_t hw = (size_t)(x->shape[2] * x->shape[3]);

    clg_tensor *rows =
        eng_new(ctx, CLG_DTYPE_F32, 2, (int64_t[]){(int64_t)geo.positions, (int64_t)geo.channels});
    clg_tensor *col =
        eng_new(ctx, CLG_DTYPE_F32, 2, (int64_t[]){(int64_t)geo.positions, (int64_t)geo.taps});
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, 4, out_shape);
    if (!rows || !col || !out)
        return NULL;
    if (!OP_LAUNCH(ctx, SOURCE, "conv2d_grad_rows", geo.positions, ENG_ARG_TENSOR(x),
                   ENG_ARG_TENSOR(rows), CLRT_ARG_INT(geo.channels), CLRT_ARG_INT(hw),
                   CLRT_ARG_INT(geo.positions)))
        return NULL;
    /* col (P, T) = rows (P, C_in) x W (C_in, T) */
    if (clrt_gemm(&ctx->rt, geo.positions, geo.taps, geo.channels, 1.0f,
                  matrix(rows, geo.channels, false), matrix(w, geo.taps, false), 0.0f,
                  matrix(col, geo.taps, false), 1, 0, 0, 0) != CLG_STATUS_OK)
        return NULL;
    size_t n = (size_t)clg_tensor_numel(out);
    const clg_tensor *bias_src = b ? b : col; /* any buffer when there is no bias */
    if (!OP_LAUNCH(ctx, SOURCE, "conv2d_col2im", n, ENG_ARG_TENSOR(col), ENG_ARG_TENSOR(bias_src),
                   CLRT_ARG_INT(b != NULL), ENG_ARG_TENSOR(out), OP_ARG4(geo.in),
                   OP_ARG4(geo.geo), OP_ARG4(geo.step), OP_ARG4(geo.dil), CLRT_ARG_INT(n),
                   CLRT_ARG_INT(0)))
        return NULL;
    if (eng_needs_grad(ctx, n_inputs, inputs)) {
        eng_node *node = eng_record(ctx, OP_T, conv_transpose2d_backward, out, n_inputs, inputs);
        if (!node)
            return NULL;
        node->saved[0] = rows;
        for (int i = 0; i < 6; i++)
            node->i[i] = pv[i];
    }
    return out;
}
