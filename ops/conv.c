/* ops/conv.c: 2-D convolution on NCHW (torch.nn.functional.conv2d) as
 * im2col and one GEMM, so the op runs at the speed of the GEMM layer
 * (clrt_gemm), optionally followed by an activation (clg_conv2d_act). With
 * P = N Ho Wo output positions and T = C kh kw taps:
 *
 *   col (T, P)    col[(c,ki,kj), (n,oh,ow)] = x[n, c, oh sh - ph + ki dh, ow sw - pw + kj dw]
 *                 (0 in the padding)
 *   Y (K, P) = W col              W (K, C, kh, kw) is the row-major (K, T) matrix
 *   out[n, k, oh, ow] = act(z),   z = Y[k, (n,oh,ow)] + b[k]
 * Backward, with G (K, P) = dOut act'(z) laid out like Y:
 *   db[k]     (+)= sum of row k of G
 *   dW (K, T) (+)= G col^T        one GEMM whose inner size is P
 *   dcol (T, P) = W^T G           one GEMM
 *   dx        (+)= col2im(dcol): each input element sums the dcol entries
 *                  that im2col copied from it (each work-item owns a plane
 *                  of dx: no atomics)
 * The matrices are channel-major, a row per channel or tap, because then
 * im2col, col2im and the layout passes move along image rows (contiguous
 * on both sides, vectorised on CPUs: the position-major (P, T) layout made
 * them strided gathers, 40% of a LeNet-5 step), and the GEMMs' long side is
 * P, which vector tiles fill even when K is 6. The bias and the activation
 * ride on the layout passes (forward: Y to NCHW; backward: dOut to G), so
 * they cost no pass of their own. col and Y are saved on the tape, so
 * backward rebuilds neither. clg_conv_transpose2d (at the end) runs the
 * same kernels the other way round. Kernels: ops/conv.cl. */
#include <limits.h>
#include <stdio.h>

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

static conv_geometry geometry(const clg_tensor *x, const clg_tensor *w, const clg_conv2d_params *p,
                              int64_t ho, int64_t wo)
{
    conv_geometry g;
    for (int d = 0; d < 4; d++)
        g.in[d] = (cl_int)x->shape[d];
    g.geo[0] = (cl_int)ho;
    g.geo[1] = (cl_int)wo;
    g.geo[2] = (cl_int)w->shape[2];
    g.geo[3] = (cl_int)w->shape[3];
    g.step[0] = p->stride_h;
    g.step[1] = p->stride_w;
    g.step[2] = p->pad_h;
    g.step[3] = p->pad_w;
    g.dil[0] = p->dilation_h;
    g.dil[1] = p->dilation_w;
    g.dil[2] = g.dil[3] = 0;
    g.channels = (size_t)w->shape[0];
    g.positions = (size_t)(x->shape[0] * ho * wo);
    g.taps = (size_t)(w->shape[1] * w->shape[2] * w->shape[3]);
    return g;
}

/* C (m, n) = op(A) op(B), plus C when `accumulate`, on the tensors as
 * row-major matrices: A is (m, k), or stored (k, m) and read transposed when
 * `ta`; B is (k, n), or stored (n, k) when `tb`. false with the context's
 * error set. */
static bool gemm(clg_context *ctx, size_t m, size_t n, size_t k, const clg_tensor *a, bool ta,
                 const clg_tensor *b, bool tb, const clg_tensor *c, bool accumulate)
{
    return clrt_gemm(&ctx->rt, (clrt_gemm_desc){.m = m,
                                                .n = n,
                                                .k = k,
                                                .a = {a->mem, a->offset, ta ? m : k, ta},
                                                .b = {b->mem, b->offset, tb ? k : n, tb},
                                                .c = {c->mem, c->offset, n, false},
                                                .beta = accumulate ? 1.0f : 0.0f}) == CLG_STATUS_OK;
}

/* ---- the passes around the GEMMs (kernels in ops/conv.cl) ---- */

/* Whether a pass runs the gpu plan's variant, a work-item per element: on
 * the gpu plan, and on the cpu plan where its variant's work-items would
 * loop `loops` times, past the driver's bound (llvmpipe: ops/internal.h). */
static bool per_element(const clg_context *ctx, size_t loops)
{
    size_t limit = op_plan(ctx)->loop_limit;
    return op_plan(ctx)->per_element || (limit != 0 && loops > limit);
}

/* col (T, P) = im2col(x): on the cpu plan a work-item per (tap, image)
 * plane, on the gpu plan one per element of col. */
static bool im2col(clg_context *ctx, const clg_tensor *x, const clg_tensor *col,
                   const conv_geometry *geo)
{
    /* the plane kernel: Ho rows of Wo columns */
    if (per_element(ctx, op_loops_mul((size_t)geo->geo[0], (size_t)geo->geo[1] + 1)))
        return OP_LAUNCH(ctx, SOURCE, "conv2d_im2col_element", geo->taps * geo->positions,
                         ENG_ARG_TENSOR(x), ENG_ARG_TENSOR(col), OP_ARG4(geo->in),
                         OP_ARG4(geo->geo), OP_ARG4(geo->step), OP_ARG4(geo->dil),
                         CLRT_ARG_INT(geo->positions));
    return OP_LAUNCH_ROWS(ctx, SOURCE, "conv2d_im2col", (size_t)geo->in[0] * geo->taps,
                          ENG_ARG_TENSOR(x), ENG_ARG_TENSOR(col), OP_ARG4(geo->in),
                          OP_ARG4(geo->geo), OP_ARG4(geo->step), OP_ARG4(geo->dil),
                          CLRT_ARG_INT(geo->positions));
}

/* dx (+)= col2im(col) (+ bias[c] when bias is not NULL); dx has geo->in's
 * shape. A work-item per plane of dx (cpu plan) or per element (gpu plan). */
static bool col2im(clg_context *ctx, const clg_tensor *col, const clg_tensor *bias,
                   const clg_tensor *dx, const conv_geometry *geo, bool accumulate)
{
    const clg_tensor *bias_src = bias ? bias : col; /* any buffer when there is none */
    size_t planes = (size_t)geo->in[0] * (size_t)geo->in[1];
    /* the plane kernel: its H W elements, then per tap up to Ho rows of Wo */
    size_t taps = (size_t)geo->geo[2] * (size_t)geo->geo[3];
    size_t loops = (size_t)geo->in[2] * (size_t)geo->in[3] + (size_t)geo->geo[2] + taps +
                   op_loops_mul(taps, op_loops_mul((size_t)geo->geo[0], (size_t)geo->geo[1] + 1));
    bool each = per_element(ctx, loops);
    return OP_LAUNCH_WG(ctx, SOURCE, each ? "conv2d_col2im_element" : "conv2d_col2im",
                        each ? planes * (size_t)geo->in[2] * (size_t)geo->in[3] : planes,
                        each ? op_plan(ctx)->group : op_plan(ctx)->row_group,
                        ENG_ARG_TENSOR(col), ENG_ARG_TENSOR(bias_src),
                        CLRT_ARG_INT(bias != NULL), ENG_ARG_TENSOR(dx), OP_ARG4(geo->in),
                        OP_ARG4(geo->geo), OP_ARG4(geo->step), OP_ARG4(geo->dil),
                        CLRT_ARG_INT(geo->positions), CLRT_ARG_INT(accumulate));
}

/* The layout passes' launch: a work-item per (n, c) plane of the NCHW
 * tensor t (cpu plan) or per element (gpu plan, kernel name + "_element"). */
static bool layout_launch(clg_context *ctx, const char *kernel, const clg_tensor *t, int n_args,
                          const clrt_arg *args)
{
    size_t planes = (size_t)(t->shape[0] * t->shape[1]);
    if (!per_element(ctx, (size_t)(t->shape[2] * t->shape[3])))
        return op_launch_wg(ctx, SOURCE, kernel, planes, op_plan(ctx)->row_group, n_args, args);
    char element[80];
    snprintf(element, sizeof element, "%s_element", kernel);
    return op_launch_wg(ctx, SOURCE, element, planes * (size_t)(t->shape[2] * t->shape[3]),
                        op_plan(ctx)->group, n_args, args);
}

/* dst (C, N HW) = t (N, C, H, W) with its planes regrouped by channel; with
 * an activation, times its derivative: t is then the gradient of y = act(z),
 * z = pre (C, N HW) + bias[c] (bias may be NULL). */
static bool channel_major(clg_context *ctx, const clg_tensor *t, const clg_tensor *dst,
                          clg_activation act, float slope, const clg_tensor *pre,
                          const clg_tensor *bias, const clg_tensor *y)
{
    char kernel[64];
    snprintf(kernel, sizeof kernel, "conv2d_channel_major_%s", op_activation_name(act));
    /* Unused tensors' arguments point at one that exists. */
    clrt_arg args[] = {ENG_ARG_TENSOR(t),
                       ENG_ARG_TENSOR(pre ? pre : t),
                       ENG_ARG_TENSOR(bias ? bias : t),
                       CLRT_ARG_INT(bias != NULL),
                       ENG_ARG_TENSOR(y ? y : t),
                       CLRT_ARG_FLOAT(slope),
                       ENG_ARG_TENSOR(dst),
                       CLRT_ARG_INT(t->shape[0]),
                       CLRT_ARG_INT(t->shape[1]),
                       CLRT_ARG_INT(t->shape[2] * t->shape[3])};
    return layout_launch(ctx, kernel, t, (int)(sizeof args / sizeof args[0]), args);
}

/* out (N, C, H, W) (+)= act(src (C, N HW) regrouped by image + bias[c]). */
static bool from_channel_major(clg_context *ctx, const clg_tensor *src, const clg_tensor *bias,
                               clg_activation act, float slope, const clg_tensor *out,
                               bool accumulate)
{
    char kernel[64];
    snprintf(kernel, sizeof kernel, "conv2d_from_channel_major_%s", op_activation_name(act));
    clrt_arg args[] = {ENG_ARG_TENSOR(src),
                       ENG_ARG_TENSOR(bias ? bias : src),
                       CLRT_ARG_INT(bias != NULL),
                       CLRT_ARG_FLOAT(slope),
                       ENG_ARG_TENSOR(out),
                       CLRT_ARG_INT(out->shape[0]),
                       CLRT_ARG_INT(out->shape[1]),
                       CLRT_ARG_INT(out->shape[2] * out->shape[3]),
                       CLRT_ARG_INT(accumulate)};
    return layout_launch(ctx, kernel, out, (int)(sizeof args / sizeof args[0]), args);
}

/* db (+)= g, seen as (batch, channels, positions), summed over all but the
 * channels: a work-group per channel (cpu plan), or in two stages over
 * slices of each channel (gpu plan: conv1 of LeNet-5 has 6 channels of
 * 50,176 positions, 6 groups would leave a GPU idle). */
static bool bias_grad(clg_context *ctx, const clg_tensor *g, size_t batch, size_t channels,
                      size_t positions, const clg_tensor *db, bool accumulate)
{
    /* the group kernel: each work-item walks its share of every image's plane */
    size_t loops = op_loops_mul(batch, 1 + op_div_up(positions, op_plan(ctx)->reduce_group)) +
                   op_tree_steps(ctx);
    if (per_element(ctx, loops))
        return op_sum_view(ctx, g, (int64_t)batch, (int64_t)channels, (int64_t)positions,
                           (int64_t)(channels * positions), (int64_t)positions, 1, db,
                           accumulate);
    return OP_LAUNCH_GROUPS(ctx, SOURCE, "conv2d_bias_grad", channels, ENG_ARG_TENSOR(g),
                            ENG_ARG_TENSOR(db), CLRT_ARG_INT(batch), CLRT_ARG_INT(channels),
                            CLRT_ARG_INT(positions), CLRT_ARG_INT(accumulate));
}

/* A (rows, cols) F32 matrix from the step arena. */
static clg_tensor *new_matrix(clg_context *ctx, size_t rows, size_t cols)
{
    return eng_new(ctx, CLG_DTYPE_F32, 2, (int64_t[]){(int64_t)rows, (int64_t)cols});
}

/* What clg_conv2d_act's node keeps besides its inputs x, w (and b) and the
 * saved tensors col (saved[0], im2col's matrix) and the GEMM's output Y
 * (saved[1], before bias and activation). */
typedef struct conv2d_saved {
    clg_conv2d_params params; /* stride, padding and dilation, as resolved */
    clg_activation act;       /* the fused activation, whose derivative scales G */
    float negative_slope;     /* its parameter, after op_activation_param */
} conv2d_saved;

static void conv2d_backward(clg_context *ctx, const eng_node *node)
{
    const conv2d_saved *saved = node->state;
    clg_tensor *x = node->inputs[0], *w = node->inputs[1];
    clg_tensor *b = node->n_inputs > 2 ? node->inputs[2] : NULL;
    clg_tensor *out = node->output, *col = node->saved[0], *rows = node->saved[1];
    conv_geometry geo = geometry(x, w, &saved->params, out->shape[2], out->shape[3]);
    size_t K = geo.channels, P = geo.positions, T = geo.taps;
    bool accumulate = false;

    clg_tensor *grad_rows = new_matrix(ctx, K, P); /* G */
    if (!grad_rows || !channel_major(ctx, out->grad, grad_rows, saved->act,
                                     saved->negative_slope, rows, b, out))
        return;

    clg_tensor *db = eng_grad_dest(ctx, b, &accumulate);
    if (db && !bias_grad(ctx, grad_rows, 1, K, P, db, accumulate))
        return;

    clg_tensor *dw = eng_grad_dest(ctx, w, &accumulate);
    /* dW (K, T) (+)= G (K, P) x col^T (P, T) */
    if (dw && !gemm(ctx, K, T, P, grad_rows, false, col, true, dw, accumulate))
        return;

    if (!x->requires_grad)
        return;
    clg_tensor *dcol = new_matrix(ctx, T, P);
    /* dcol (T, P) = W^T (T, K) x G (K, P) */
    if (!dcol || !gemm(ctx, T, P, K, w, true, grad_rows, false, dcol, false))
        return;
    clg_tensor *dx = eng_grad_dest(ctx, x, &accumulate);
    if (dx)
        col2im(ctx, dcol, NULL, dx, &geo, accumulate);
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

CLG_API clg_tensor *clg_conv2d_act(clg_tensor *input, clg_tensor *weight, clg_tensor *bias,
                                   const clg_conv2d_params *params, clg_activation act,
                                   float negative_slope)
{
    clg_tensor *inputs[3] = {input, weight, bias};
    int n_inputs = bias ? 3 : 2;
    clg_context *ctx = eng_op_begin_f32(OP, n_inputs, inputs);
    if (!ctx)
        return NULL;
    if (!op_activation_name(act)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, OP ": unknown activation %d", (int)act);
        return NULL;
    }
    negative_slope = op_activation_param(act, negative_slope);
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
    conv_geometry geo = geometry(x, w, &p, ho, wo);

    size_t K = geo.channels, P = geo.positions, T = geo.taps;
    clg_tensor *col = new_matrix(ctx, T, P);
    clg_tensor *rows = new_matrix(ctx, K, P); /* Y */
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, 4, (int64_t[]){x->shape[0], w->shape[0], ho, wo});
    if (!col || !rows || !out || !im2col(ctx, x, col, &geo))
        return NULL;
    /* Y (K, P) = W (K, T) x col (T, P) */
    if (!gemm(ctx, K, P, T, w, false, col, false, rows, false) ||
        !from_channel_major(ctx, rows, b, act, negative_slope, out, false))
        return NULL;
    if (eng_needs_grad(ctx, n_inputs, inputs)) {
        eng_node *node = eng_record(ctx, OP, conv2d_backward, out, n_inputs, inputs,
                                    sizeof(conv2d_saved));
        if (!node)
            return NULL;
        node->saved[0] = col;
        node->saved[1] = rows;
        conv2d_saved *saved = node->state;
        saved->params = p;
        saved->act = act;
        saved->negative_slope = negative_slope;
    }
    return out;
}

CLG_API clg_tensor *clg_conv2d(clg_tensor *input, clg_tensor *weight, clg_tensor *bias,
                               const clg_conv2d_params *params)
{
    return clg_conv2d_act(input, weight, bias, params, CLG_ACT_IDENTITY, 0.0f);
}

/* ---- transposed convolution ----
 *
 * torch.nn.functional.conv_transpose2d is the input gradient of a conv2d
 * that maps the output (N, C_out, Ho, Wo) back to the input (N, C_in, H, W)
 * with the same weight (C_in, C_out, kh, kw): conv2d's "K" is C_in and its
 * taps T = C_out kh kw. So with P = N H W input positions, the forward is
 * conv2d's backward and the backward conv2d's forward:
 *   X (C_in, P)     = x regrouped by channel       (conv2d_channel_major)
 *   col (T, P)      = W^T X                        one GEMM
 *   out             = col2im(col) + b              (conv2d_col2im, bias folded in)
 * Backward, with G = dOut:
 *   db   (+)= sum over n, oh, ow of G               (conv2d_bias_grad)
 *   gcol (T, P)     = im2col(G)                    (conv2d_im2col)
 *   dW   (C_in, T) (+)= X gcol^T                   one GEMM whose inner size is P
 *   dX (C_in, P)    = W gcol                       one GEMM
 *   dx   (+)= dX regrouped by image                (conv2d_from_channel_major)
 * X is saved on the tape for dW. */

#define OP_T "clg_conv_transpose2d"

CLG_API clg_conv_transpose2d_params clg_conv_transpose2d_params_default(void)
{
    return (clg_conv_transpose2d_params){.stride_h = 1, .stride_w = 1, .dilation_h = 1,
                                         .dilation_w = 1};
}

/* The conv2d geometry seen from the output: in = the output (N, C_out, Ho,
 * Wo), geo = (H, W, kh, kw) the input's size. */
static conv_geometry transpose_geometry(const clg_tensor *x, const clg_tensor *w,
                                        const int64_t *out_shape,
                                        const clg_conv_transpose2d_params *p)
{
    conv_geometry g;
    for (int d = 0; d < 4; d++)
        g.in[d] = (cl_int)out_shape[d];
    g.geo[0] = (cl_int)x->shape[2];
    g.geo[1] = (cl_int)x->shape[3];
    g.geo[2] = (cl_int)w->shape[2];
    g.geo[3] = (cl_int)w->shape[3];
    g.step[0] = p->stride_h;
    g.step[1] = p->stride_w;
    g.step[2] = p->pad_h;
    g.step[3] = p->pad_w;
    g.dil[0] = p->dilation_h;
    g.dil[1] = p->dilation_w;
    g.dil[2] = g.dil[3] = 0;
    g.channels = (size_t)x->shape[1];
    g.positions = (size_t)(x->shape[0] * x->shape[2] * x->shape[3]);
    g.taps = (size_t)(w->shape[1] * w->shape[2] * w->shape[3]);
    return g;
}

/* What clg_conv_transpose2d's node keeps besides its inputs x, w (and b) and
 * saved[0], x in channel-major rows X. */
typedef struct conv_transpose2d_saved {
    clg_conv_transpose2d_params params; /* stride, padding, dilation (the output padding is
                                           already in the output's shape) */
} conv_transpose2d_saved;

static void conv_transpose2d_backward(clg_context *ctx, const eng_node *node)
{
    const conv_transpose2d_saved *saved = node->state;
    clg_tensor *x = node->inputs[0], *w = node->inputs[1];
    clg_tensor *b = node->n_inputs > 2 ? node->inputs[2] : NULL;
    clg_tensor *out = node->output, *g = out->grad, *rows = node->saved[0];
    conv_geometry geo = transpose_geometry(x, w, out->shape, &saved->params);
    size_t C = geo.channels, P = geo.positions, T = geo.taps;
    bool accumulate = false;

    clg_tensor *db = eng_grad_dest(ctx, b, &accumulate);
    if (db && !bias_grad(ctx, g, (size_t)out->shape[0], (size_t)out->shape[1],
                         (size_t)(out->shape[2] * out->shape[3]), db, accumulate))
        return;
    if (!x->requires_grad && !w->requires_grad)
        return;

    clg_tensor *gcol = new_matrix(ctx, T, P);
    if (!gcol || !im2col(ctx, g, gcol, &geo))
        return;

    clg_tensor *dw = eng_grad_dest(ctx, w, &accumulate);
    /* dW (C_in, T) (+)= X (C_in, P) x gcol^T (P, T) */
    if (dw && !gemm(ctx, C, T, P, rows, false, gcol, true, dw, accumulate))
        return;

    clg_tensor *dx = eng_grad_dest(ctx, x, &accumulate);
    if (!dx)
        return;
    clg_tensor *drows = new_matrix(ctx, C, P);
    /* dX (C_in, P) = W (C_in, T) x gcol (T, P) */
    if (!drows || !gemm(ctx, C, P, T, w, false, gcol, false, drows, false))
        return;
    from_channel_major(ctx, drows, NULL, CLG_ACT_IDENTITY, 0.0f, dx, accumulate);
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
    int64_t out_shape[4] = {x->shape[0], w->shape[1], ho, wo};
    conv_geometry geo = transpose_geometry(x, w, out_shape, &p);
    size_t C = geo.channels, P = geo.positions, T = geo.taps;
    clg_tensor *rows = new_matrix(ctx, C, P); /* X */
    clg_tensor *col = new_matrix(ctx, T, P);
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, 4, out_shape);
    if (!rows || !col || !out ||
        !channel_major(ctx, x, rows, CLG_ACT_IDENTITY, 0.0f, NULL, NULL, NULL))
        return NULL;
    /* col (T, P) = W^T (T, C_in) x X (C_in, P) */
    if (!gemm(ctx, T, P, C, w, true, rows, false, col, false) ||
        !col2im(ctx, col, b, out, &geo, false))
        return NULL;
    if (eng_needs_grad(ctx, n_inputs, inputs)) {
        eng_node *node = eng_record(ctx, OP_T, conv_transpose2d_backward, out, n_inputs, inputs,
                                    sizeof(conv_transpose2d_saved));
        if (!node)
            return NULL;
        node->saved[0] = rows;
        ((conv_transpose2d_saved *)node->state)->params = p;
    }
    return out;
}
