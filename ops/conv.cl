/* ops/conv.cl: the kernels around ops/conv.c's GEMMs: im2col, the layout
 * passes between NCHW and the channel-major matrices the GEMMs use (with
 * the bias and an activation folded in), the bias reduction, and col2im.
 * conv_transpose2d reuses them with the roles swapped: its forward is
 * conv2d's input gradient, its backward im2col.
 *
 * Geometry arrives as four int4s:
 *   in   (N, C, H, W)                       the input
 *   geo  (Ho, Wo, kh, kw)                   output size and kernel
 *   step (stride_h, stride_w, pad_h, pad_w)
 *   dil  (dilation_h, dilation_w, unused, unused)
 * col is (C kh kw, N Ho Wo), row-major: a row per kernel tap (c, ki, kj), a
 * column per output position p = (n, oh, ow).
 *
 * One work-item per image plane (im2col: one tap of one image; the layout
 * passes and col2im: one (n, c) plane), looping along its rows: the loops
 * run over contiguous memory on both sides, which a CPU device compiles to
 * vector loads and stores, and the integer divisions that locate a plane
 * (CPUs cannot vectorise them) are paid once per plane. Measured with PoCL:
 * a plane copy this way took 0.15 ms where one work-item per element took
 * 1.0 ms on a 2-D grid and 2.1 ms on a 1-D one. (A GPU would want one
 * work-item per element instead; there was none to measure on.) */

#include "ops/activation_math.cl"

#ifndef CLG_REDUCE_GROUP
#define CLG_REDUCE_GROUP 64 /* the launch plan's reduce_group, which the launch uses */
#endif

/* The outputs o in [0, size_out) whose column o s + shift lies inside
 * [0, size_in): [*lo, *hi), empty when *lo >= *hi. Stride 1 divides
 * nothing (integer divisions are slow on CPUs). */
inline void inside(int shift, int s, int size_in, int size_out, int *lo, int *hi)
{
    int last = size_in - 1 - shift; /* o s <= last */
    if (s == 1) {
        *lo = max(-shift, 0);
        *hi = min(size_out, last + 1);
    } else {
        *lo = shift >= 0 ? 0 : (-shift + s - 1) / s;
        *hi = last < 0 ? 0 : min(size_out, last / s + 1);
    }
    *hi = max(*hi, *lo);
}

/* col[(c, ki, kj), (n, oh, ow)] = x[n, c, oh sh - ph + ki dh, ow sw - pw + kj dw],
 * 0 in the padding. Work-item r = q N + n writes tap q's Ho Wo columns of
 * image n, a contiguous run of col, row by row from one plane of x (the
 * columns inside the image depend on kj alone, so they are found once). */
__kernel void conv2d_im2col(__global const float *x, int x_off, __global float *col, int col_off,
                            int4 in, int4 geo, int4 step, int4 dil, int positions)
{
    int r = get_global_id(0);
    int taps = in.y * geo.z * geo.w;
    if (r >= taps * in.x)
        return;
    int b = r % in.x, q = r / in.x;
    int kj = q % geo.w, t = q / geo.w;
    int ki = t % geo.z, c = t / geo.z;
    int shift = kj * dil.y - step.w, lo, hi;
    inside(shift, step.y, in.w, geo.y, &lo, &hi);
    __global const float *plane = x + x_off + (b * in.y + c) * in.z * in.w;
    __global float *dst = col + col_off + q * positions + b * geo.x * geo.y;
    for (int oh = 0; oh < geo.x; oh++, dst += geo.y) {
        int ih = oh * step.x - step.z + ki * dil.x;
        __global const float *src = plane + ih * in.w;
        bool row_inside = ih >= 0 && ih < in.z;
        int a = row_inside ? lo : geo.y, e = row_inside ? hi : geo.y;
        for (int ow = 0; ow < a; ow++)
            dst[ow] = 0.0f;
        if (step.y == 1) {
            /* float4 moves, then the rest one by one: PoCL left the plain
             * loop scalar (LeNet-5's two im2cols at batch 64: 1.0 ms) */
            int ow = a;
            for (; ow + 4 <= e; ow += 4)
                vstore4(vload4(0, src + ow + shift), 0, dst + ow);
            for (; ow < e; ow++)
                dst[ow] = src[ow + shift];
        } else
            for (int ow = a; ow < e; ow++)
                dst[ow] = src[ow * step.y + shift];
        for (int ow = e; ow < geo.y; ow++)
            dst[ow] = 0.0f;
    }
}

/* The layout passes between the GEMMs' channel-major matrices (C, N
 * positions) and NCHW tensors (N, C, positions), with the bias and an
 * activation fused in (clg_conv2d_act), stamped out per activation as
 * ops/activation.cl's bias kernels are: OP is activation_apply's code
 * ACT_<NAME>. Work-item r = n C + c moves plane r.
 *   conv2d_from_channel_major_<act>: out (+)= f(src + bias[c]) in NCHW, the
 *     forward's last step (accumulate: conv_transpose2d's input gradient);
 *   conv2d_channel_major_<act>: dst = g f'(z) regrouped by channel, the
 *     backward's first step, with z = pre + bias[c] (pre channel-major, the
 *     forward's GEMM output) and y the forward's output, whichever
 *     activation_partial takes. ACT_IDENTITY's is a plain copy (pre, bias and y
 *     unused). */
#define CONV_ACT_KERNELS(NAME, OP)                                                           \
    __kernel void conv2d_from_channel_major_##NAME(                                          \
        __global const float *src, int src_off, __global const float *bias, int bias_off,    \
        int has_bias, float slope, __global float *out, int out_off, int batch,              \
        int channels, int positions, int accumulate)                                         \
    {                                                                                         \
        int r = get_global_id(0);                                                             \
        if (r >= batch * channels)                                                            \
            return;                                                                           \
        int c = r % channels, b = r / channels;                                               \
        __global const float *s = src + src_off + (c * batch + b) * positions;                \
        __global float *d = out + out_off + r * positions;                                    \
        float add = has_bias ? bias[bias_off + c] : 0.0f;                                     \
        for (int j = 0; j < positions; j++) {                                                 \
            float z = has_bias ? s[j] + add : s[j];                                           \
            float v = activation_apply(OP, z, slope, 0.0f);                                   \
            d[j] = accumulate ? d[j] + v : v;                                                 \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    __kernel void conv2d_channel_major_##NAME(                                               \
        __global const float *g, int g_off, __global const float *pre, int pre_off,          \
        __global const float *bias, int bias_off, int has_bias, __global const float *y,     \
        int y_off, float slope, __global float *dst, int dst_off, int batch, int channels,   \
        int positions)                                                                        \
    {                                                                                         \
        int r = get_global_id(0);                                                             \
        if (r >= batch * channels)                                                            \
            return;                                                                           \
        int c = r % channels, b = r / channels;                                               \
        int m = (c * batch + b) * positions; /* the plane's start in (C, N positions) */     \
        __global const float *s = g + g_off + r * positions;                                  \
        __global float *d = dst + dst_off + m;                                                \
        if (OP == ACT_IDENTITY) {                                                             \
            for (int j = 0; j < positions; j++)                                               \
                d[j] = s[j];                                                                  \
            return;                                                                           \
        }                                                                                     \
        __global const float *z = pre + pre_off + m, *out = y + y_off + r * positions;        \
        float add = has_bias ? bias[bias_off + c] : 0.0f;                                     \
        for (int j = 0; j < positions; j++)                                                   \
            d[j] = activation_partial(OP, s[j], has_bias ? z[j] + add : z[j], out[j], slope,  \
                                      0.0f);                                                  \
    }

/* The gpu plan's variants of the two layout passes: a work-item per element
 * e of the NCHW tensor, e = (n C + c) positions + j, the same arithmetic
 * per element (so the same values as the plane kernels). */
#define CONV_ACT_ELEMENT_KERNELS(NAME, OP)                                                   \
    __kernel void conv2d_from_channel_major_##NAME##_element(                                \
        __global const float *src, int src_off, __global const float *bias, int bias_off,    \
        int has_bias, float slope, __global float *out, int out_off, int batch,              \
        int channels, int positions, int accumulate)                                         \
    {                                                                                         \
        int e = get_global_id(0);                                                             \
        if (e >= batch * channels * positions)                                                \
            return;                                                                           \
        int r = e / positions, j = e - r * positions;                                         \
        int c = r % channels, b = r / channels;                                               \
        float s = src[src_off + (c * batch + b) * positions + j];                             \
        float z = has_bias ? s + bias[bias_off + c] : s;                                      \
        float v = activation_apply(OP, z, slope, 0.0f);                                       \
        out[out_off + e] = accumulate ? out[out_off + e] + v : v;                             \
    }                                                                                         \
                                                                                              \
    __kernel void conv2d_channel_major_##NAME##_element(                                     \
        __global const float *g, int g_off, __global const float *pre, int pre_off,          \
        __global const float *bias, int bias_off, int has_bias, __global const float *y,     \
        int y_off, float slope, __global float *dst, int dst_off, int batch, int channels,   \
        int positions)                                                                        \
    {                                                                                         \
        int e = get_global_id(0);                                                             \
        if (e >= batch * channels * positions)                                                \
            return;                                                                           \
        int r = e / positions, j = e - r * positions;                                         \
        int c = r % channels, b = r / channels;                                               \
        int m = (c * batch + b) * positions + j;                                              \
        float gi = g[g_off + e];                                                              \
        if (OP == ACT_IDENTITY) {                                                             \
            dst[dst_off + m] = gi;                                                            \
        } else {                                                                              \
            float z = has_bias ? pre[pre_off + m] + bias[bias_off + c] : pre[pre_off + m];    \
            dst[dst_off + m] = activation_partial(OP, gi, z, y[y_off + e], slope, 0.0f);      \
        }                                                                                     \
    }

CONV_ACT_KERNELS(identity, ACT_IDENTITY)
CONV_ACT_KERNELS(relu, ACT_RELU)
CONV_ACT_KERNELS(leaky_relu, ACT_LEAKY_RELU)
CONV_ACT_KERNELS(sigmoid, ACT_SIGMOID)
CONV_ACT_KERNELS(tanh, ACT_TANH)
CONV_ACT_KERNELS(elu, ACT_ELU)
CONV_ACT_KERNELS(selu, ACT_SELU)
CONV_ACT_KERNELS(hardsigmoid, ACT_HARDSIGMOID)
CONV_ACT_ELEMENT_KERNELS(identity, ACT_IDENTITY)
CONV_ACT_ELEMENT_KERNELS(relu, ACT_RELU)
CONV_ACT_ELEMENT_KERNELS(leaky_relu, ACT_LEAKY_RELU)
CONV_ACT_ELEMENT_KERNELS(sigmoid, ACT_SIGMOID)
CONV_ACT_ELEMENT_KERNELS(tanh, ACT_TANH)
CONV_ACT_ELEMENT_KERNELS(elu, ACT_ELU)
CONV_ACT_ELEMENT_KERNELS(selu, ACT_SELU)
CONV_ACT_ELEMENT_KERNELS(hardsigmoid, ACT_HARDSIGMOID)

/* db[k] (+)= sum over n and the positions of g[n, k]: one work-group per
 * channel, its CLG_REDUCE_GROUP work-items striding along each plane, then a tree in
 * local memory (a fixed order, so the result is the same on every run).
 * conv2d reads its gradient channel-major, as g of shape (1, K, N positions). */
__kernel void conv2d_bias_grad(__global const float *g, int g_off, __global float *db, int db_off,
                               int batch, int channels, int positions, int accumulate)
{
    __local float partial[CLG_REDUCE_GROUP];
    int k = get_group_id(0), lid = get_local_id(0);
    float sum = 0.0f;
    /* No return before the barriers: a group past the channels (none is
     * launched) only skips its loads. */
    /* float4s, each work-item a quad in every CLG_REDUCE_GROUP, then the
     * plane's last positions % 4 one by one: PoCL ran the one-float loop
     * scalar (LeNet-5's two bias gradients at batch 64: 0.3 ms) */
    int quads = positions / 4;
    for (int b = 0; b < batch && k < channels; b++) {
        __global const float *plane = g + g_off + (b * channels + k) * positions;
        float4 acc = (float4)(0.0f);
        for (int j = lid; j < quads; j += CLG_REDUCE_GROUP)
            acc += vload4(j, plane);
        sum += (acc.x + acc.y) + (acc.z + acc.w);
        for (int j = 4 * quads + lid; j < positions; j += CLG_REDUCE_GROUP)
            sum += plane[j];
    }
    partial[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = CLG_REDUCE_GROUP / 2; s > 0; s >>= 1) {
        if (lid < s)
            partial[lid] += partial[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0 && k < channels)
        db[db_off + k] = accumulate ? db[db_off + k] + partial[0] : partial[0];
}

/* dx[n, c, ih, iw] (+)= the sum of the col entries im2col copied from
 * x[n, c, ih, iw], plus bias[c] when has_bias (conv_transpose2d's output):
 * output (oh, ow) read it through tap (ki, kj) where oh sh + ki dh = ih + ph
 * (and alike along w). Work-item r = n C + c owns plane r of dx, so nothing
 * is written twice (no atomics) and the order of the sums is fixed: the
 * plane starts from the bias (or what it held, when accumulating), then
 * each tap adds its Ho Wo entries, row by row, the taps column by column
 * (kj outside ki). That order keeps apart the taps that add into the same
 * row: taps (ki, kj) and (ki, kj + 1) add the same rows one column apart,
 * and run back to back (ki outside kj) each tap's float4 reads overlapped
 * the stores its predecessor had just made, which a CPU cannot forward from
 * its store buffer (LeNet-5's col2im at batch 64: 0.7-1.0 ms a step, 0.48
 * this way; gathering each element's sum in registers instead: 1.2-1.4).
 * Launched in groups of the plan's row groups (a batch of one-channel
 * images has few planes). */
__kernel void conv2d_col2im(__global const float *col, int col_off, __global const float *bias,
                            int bias_off, int has_bias, __global float *dx, int dx_off, int4 in,
                            int4 geo, int4 step, int4 dil, int positions, int accumulate)
{
    int r = get_global_id(0);
    if (r >= in.x * in.y)
        return;
    int c = r % in.y, b = r / in.y;
    __global float *d = dx + dx_off + r * in.z * in.w;
    float start = has_bias ? bias[bias_off + c] : 0.0f;
    for (int i = 0; i < in.z * in.w; i++)
        d[i] = accumulate ? d[i] + start : start;
    for (int kj = 0; kj < geo.w; kj++) {
        int shift = kj * dil.y - step.w, lo, hi;
        inside(shift, step.y, in.w, geo.y, &lo, &hi);
        for (int ki = 0; ki < geo.z; ki++) {
            int shift_h = ki * dil.x - step.z, oh0, oh1;
            inside(shift_h, step.x, in.z, geo.x, &oh0, &oh1);
            __global const float *taps =
                col + col_off + ((c * geo.z + ki) * geo.w + kj) * positions + b * geo.x * geo.y;
            for (int oh = oh0; oh < oh1; oh++) {
                __global float *drow = d + (oh * step.x + shift_h) * in.w;
                __global const float *trow = taps + oh * geo.y;
                if (step.y == 1) {
                    /* float4s, then the rest: the same sums in the same
                     * order per element, which PoCL left scalar */
                    int ow = lo;
                    for (; ow + 4 <= hi; ow += 4)
                        vstore4(vload4(0, drow + ow + shift) + vload4(0, trow + ow), 0,
                                drow + ow + shift);
                    for (; ow < hi; ow++)
                        drow[ow + shift] += trow[ow];
                } else
                    for (int ow = lo; ow < hi; ow++)
                        drow[ow * step.y + shift] += trow[ow];
            }
        }
    }
}

/* ---- the gpu plan's variants: a work-item per element ---- */

/* im2col with work-item e = q P + p writing col[q, p]: tap q = (c, ki, kj),
 * position p = (n, oh, ow). Neighbouring work-items write neighbouring
 * positions, so the writes coalesce. */
__kernel void conv2d_im2col_element(__global const float *x, int x_off, __global float *col,
                                    int col_off, int4 in, int4 geo, int4 step, int4 dil,
                                    int positions)
{
    int e = get_global_id(0);
    int taps = in.y * geo.z * geo.w;
    if (e >= taps * positions)
        return;
    int q = e / positions, p = e - q * positions;
    int kj = q % geo.w, t = q / geo.w;
    int ki = t % geo.z, c = t / geo.z;
    int ow = p % geo.y, u = p / geo.y;
    int oh = u % geo.x, b = u / geo.x;
    int ih = oh * step.x - step.z + ki * dil.x, iw = ow * step.y - step.w + kj * dil.y;
    bool inside_image = ih >= 0 && ih < in.z && iw >= 0 && iw < in.w;
    col[col_off + e] =
        inside_image ? x[x_off + ((b * in.y + c) * in.z + ih) * in.w + iw] : 0.0f;
}

/* col2im gathering: work-item e owns dx[n, c, ih, iw] and adds, tap by tap
 * in the plane kernel's order (ki, then kj), the col entry of each output
 * (oh, ow) that read it: oh sh + ki dh = ih + ph, ow sw + kj dw = iw + pw.
 * No element is written twice, so no atomics. */
__kernel void conv2d_col2im_element(__global const float *col, int col_off,
                                    __global const float *bias, int bias_off, int has_bias,
                                    __global float *dx, int dx_off, int4 in, int4 geo, int4 step,
                                    int4 dil, int positions, int accumulate)
{
    int e = get_global_id(0);
    if (e >= in.x * in.y * in.z * in.w)
        return;
    int iw = e % in.w, u = e / in.w;
    int ih = u % in.z, r = u / in.z;
    int c = r % in.y, b = r / in.y;
    float sum = has_bias ? bias[bias_off + c] : 0.0f;
    sum = accumulate ? dx[dx_off + e] + sum : sum;
    /* the taps in conv2d_col2im's order: kj outside ki */
    for (int kj = 0; kj < geo.w; kj++) {
        int ow_s = iw + step.w - kj * dil.y; /* ow sw */
        if (ow_s < 0 || ow_s % step.y != 0 || ow_s / step.y >= geo.y)
            continue;
        int ow = ow_s / step.y;
        for (int ki = 0; ki < geo.z; ki++) {
            int oh_s = ih + step.z - ki * dil.x; /* oh sh */
            if (oh_s < 0 || oh_s % step.x != 0 || oh_s / step.x >= geo.x)
                continue;
            int oh = oh_s / step.x;
            sum += col[col_off + ((c * geo.z + ki) * geo.w + kj) * positions +
                       (b * geo.x + oh) * geo.y + ow];
        }
    }
    dx[dx_off + e] = sum;
}
