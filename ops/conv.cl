/* ops/conv.cl: the kernels around ops/conv.c's GEMMs: im2col, the bias and
 * layout pass after the forward GEMM, the layout pass and the bias reduction
 * before the backward GEMMs, and col2im as a gather. conv_transpose2d reuses
 * them with the roles swapped: its forward is conv2d's input gradient
 * (layout pass, GEMM, col2im with the bias folded in), its backward im2col.
 *
 * Geometry arrives as four int4s:
 *   in   (N, C, H, W)                       the input
 *   geo  (Ho, Wo, kh, kw)                   output size and kernel
 *   step (stride_h, stride_w, pad_h, pad_w)
 *   dil  (dilation_h, dilation_w, unused, unused)
 * col is (N Ho Wo, C kh kw), row-major: a row per output position (n, oh, ow),
 * a column per kernel tap (c, ki, kj). */

#ifndef CONV_WG
#define CONV_WG 64 /* must equal the launch's work-group size (OP_WG) */
#endif

/* col[p, q] = x[n, c, oh sh - ph + ki dh, ow sw - pw + kj dw], 0 in the padding.
 * One work-item per output position p = (n, oh, ow) writes its row of C kh kw
 * taps: the index arithmetic (integer divisions, which dominate a CPU
 * device's time) is paid once per row instead of once per element. */
__kernel void conv2d_im2col(__global const float *x, int x_off, __global float *col, int col_off,
                            int4 in, int4 geo, int4 step, int4 dil, int n)
{
    int p = get_global_id(0);
    if (p >= n)
        return;
    int ow = p % geo.y, t = p / geo.y;
    int oh = t % geo.x, b = t / geo.x;
    int h0 = oh * step.x - step.z, w0 = ow * step.y - step.w;
    __global float *dst = col + col_off + p * in.y * geo.z * geo.w;
    for (int c = 0; c < in.y; c++) {
        __global const float *plane = x + x_off + (b * in.y + c) * in.z * in.w;
        for (int ki = 0; ki < geo.z; ki++) {
            int ih = h0 + ki * dil.x;
            bool row_inside = ih >= 0 && ih < in.z;
            for (int kj = 0; kj < geo.w; kj++) {
                int iw = w0 + kj * dil.y;
                *dst++ = row_inside && iw >= 0 && iw < in.w ? plane[ih * in.w + iw] : 0.0f;
            }
        }
    }
}

/* out (N, K, Ho Wo) (+)= rows (N Ho Wo, K) permuted, plus bias[k] when
 * has_bias. One work-item per output position (n, j) moves its K channels:
 * neighbours read neighbouring rows and write neighbouring j, and the
 * divisions are paid once per position. accumulate: conv_transpose2d's
 * input gradient adds to what is there. */
__kernel void conv2d_output(__global const float *rows, int rows_off, __global const float *bias,
                            int bias_off, int has_bias, __global float *out, int out_off,
                            int channels, int positions, int n, int accumulate)
{
    int p = get_global_id(0);
    if (p >= n)
        return;
    int b = p / positions, j = p - b * positions;
    __global const float *src = rows + rows_off + p * channels;
    __global float *dst = out + out_off + b * channels * positions + j;
    for (int k = 0; k < channels; k++) {
        float v = has_bias ? src[k] + bias[bias_off + k] : src[k];
        dst[k * positions] = accumulate ? dst[k * positions] + v : v;
    }
}

/* grad_rows (N Ho Wo, K) = g (N, K, Ho Wo) permuted: the GEMMs' layout; one
 * work-item per position, as conv2d_output. */
__kernel void conv2d_grad_rows(__global const float *g, int g_off, __global float *grad_rows,
                               int rows_off, int channels, int positions, int n)
{
    int p = get_global_id(0);
    if (p >= n)
        return;
    int b = p / positions, j = p - b * positions;
    __global const float *src = g + g_off + b * channels * positions + j;
    __global float *dst = grad_rows + rows_off + p * channels;
    for (int k = 0; k < channels; k++)
        dst[k] = src[k * positions];
}

/* db[k] (+)= sum over n and the Ho Wo positions of g[n, k]: one work-group
 * per channel, CONV_WG strided partial sums, then a tree in local memory
 * (a fixed order, so the result is the same on every run). */
__kernel void conv2d_bias_grad(__global const float *g, int g_off, __global float *db, int db_off,
                               int batch, int channels, int positions, int accumulate)
{
    __local float partial[CONV_WG];
    int k = get_group_id(0), lid = get_local_id(0);
    if (k >= channels) /* the same for the whole group, so no barrier is skipped by half of it */
        return;
    int total = batch * positions;
    float sum = 0.0f;
    for (int r = lid; r < total; r += CONV_WG) {
        int b = r / positions, j = r - b * positions;
        sum += g[g_off + (b * channels + k) * positions + j];
    }
    partial[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = CONV_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            partial[lid] += partial[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        db[db_off + k] = accumulate ? db[db_off + k] + partial[0] : partial[0];
}

/* The outputs o along one axis whose tap reads input row i:
 * o s + k d = i + p for a tap k in [0, taps), so o s lies in
 * [i + p - (taps - 1) d, i + p]; returns the first such o >= 0 in *lo and
 * the last < size in *hi (lo > hi when there is none). */
inline void covering(int i, int s, int p, int d, int taps, int size, int *lo, int *hi)
{
    int top = i + p - (taps - 1) * d;
    *lo = top <= 0 ? 0 : (top + s - 1) / s;
    *hi = min((i + p) / s, size - 1);
}

/* dx[n, c, ih, iw] (+)= the sum of the dcol entries im2col copied from
 * x[n, c, ih, iw], plus bias[c] when has_bias (conv_transpose2d's output):
 * output (oh, ow) read it through tap (ki, kj) where
 * oh sh + ki dh = ih + ph (and alike along w). A gather, one work-item per
 * input element, looping over the outputs that can reach it: no atomics, a
 * fixed summation order, and divisions only where dilation needs them. */
__kernel void conv2d_col2im(__global const float *dcol, int dcol_off, __global const float *bias,
                            int bias_off, int has_bias, __global float *dx, int dx_off, int4 in,
                            int4 geo, int4 step, int4 dil, int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int iw = i % in.w, t = i / in.w;
    int ih = t % in.z;
    t /= in.z;
    int c = t % in.y, b = t / in.y;
    int taps = in.y * geo.z * geo.w;
    int oh0, oh1, ow0, ow1;
    covering(ih, step.x, step.z, dil.x, geo.z, geo.x, &oh0, &oh1);
    covering(iw, step.y, step.w, dil.y, geo.w, geo.y, &ow0, &ow1);
    float sum = 0.0f;
    for (int oh = oh0; oh <= oh1; oh++) {
        int th = ih + step.z - oh * step.x; /* = ki dh */
        int ki = dil.x == 1 ? th : th / dil.x;
        if (ki * dil.x != th)
            continue;
        for (int ow = ow0; ow <= ow1; ow++) {
            int tw = iw + step.w - ow * step.y;
            int kj = dil.y == 1 ? tw : tw / dil.y;
            if (kj * dil.y != tw)
                continue;
            sum += dcol[dcol_off + ((b * geo.x + oh) * geo.y + ow) * taps +
                        (c * geo.z + ki) * geo.w + kj];
        }
    }
    if (has_bias)
        sum += bias[bias_off + c];
    dx[dx_off + i] = accumulate ? dx[dx_off + i] + sum : sum;
}
