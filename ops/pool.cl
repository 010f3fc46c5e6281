/* ops/pool.cl: max and average pooling 2-D, forward and backward.
 *
 * Geometry arrives as three int4s:
 *   in   (N, C, H, W)                       the input; a "plane" is one (n, c)
 *   geo  (Ho, Wo, kh, kw)                   output size and window
 *   step (stride_h, stride_w, pad_h, pad_w)
 * Window (oh, ow) covers rows oh sh - ph .. oh sh - ph + kh - 1 (columns
 * alike). Padding is at most half the window, so every window holds at
 * least one real element. Backward kernels gather: one work-item per input
 * element visits the windows covering it, so nothing is written twice. */

/* The windows covering input row `i` along one axis: outputs o with
 * o s - p <= i <= o s - p + k - 1, clipped to [0, size). */
inline int first_window(int i, int k, int s, int p)
{
    int lowest = i + p - k + 1; /* o s >= this */
    return lowest <= 0 ? 0 : (lowest + s - 1) / s;
}

inline int last_window(int i, int s, int p, int size)
{
    return min((i + p) / s, size - 1);
}

/* out = the window's maximum; index = its position ih W + iw in the plane.
 * Padding never wins (it is -inf, as in PyTorch); the first maximum does,
 * and a NaN takes over as PyTorch's kernel lets it (val > max || isnan). */
__kernel void max_pool2d_forward(__global const float *x, int x_off, __global float *out,
                                 int out_off, __global int *index, int index_off, int4 in,
                                 int4 geo, int4 step, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int ow = i % geo.y, t = i / geo.y;
    int oh = t % geo.x, plane = t / geo.x;
    int h0 = oh * step.x - step.z, w0 = ow * step.y - step.w;
    int h1 = min(h0 + geo.z, in.z), w1 = min(w0 + geo.w, in.w);
    h0 = max(h0, 0);
    w0 = max(w0, 0);
    __global const float *src = x + x_off + plane * in.z * in.w;
    float best = -INFINITY;
    int arg = h0 * in.w + w0;
    for (int ih = h0; ih < h1; ih++)
        for (int iw = w0; iw < w1; iw++) {
            float v = src[ih * in.w + iw];
            if (v > best || isnan(v)) {
                best = v;
                arg = ih * in.w + iw;
            }
        }
    out[out_off + i] = best;
    index[index_off + i] = arg;
}

/* dx[plane, ih, iw] (+)= the sum of g over the windows whose saved maximum
 * is this element. */
__kernel void max_pool2d_backward(__global const float *g, int g_off,
                                  __global const int *index, int index_off, __global float *dx,
                                  int dx_off, int4 in, int4 geo, int4 step, int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int iw = i % in.w, t = i / in.w;
    int ih = t % in.z, plane = t / in.z;
    int self = ih * in.w + iw;
    int oh1 = last_window(ih, step.x, step.z, geo.x);
    int ow0 = first_window(iw, geo.w, step.y, step.w);
    int ow1 = last_window(iw, step.y, step.w, geo.y);
    float sum = 0.0f;
    for (int oh = first_window(ih, geo.z, step.x, step.z); oh <= oh1; oh++)
        for (int ow = ow0; ow <= ow1; ow++) {
            int j = (plane * geo.x + oh) * geo.y + ow;
            if (index[index_off + j] == self)
                sum += g[g_off + j];
        }
    dx[dx_off + i] = accumulate ? dx[dx_off + i] + sum : sum;
}

/* Disjoint windows (stride >= window): dx[plane, index[j]] += g[j] for each
 * output j; no two windows share an element, so no two work-items write the
 * same one. dx was zeroed first unless it accumulates. */
__kernel void max_pool2d_backward_disjoint(__global const float *g, int g_off,
                                           __global const int *index, int index_off,
                                           __global float *dx, int dx_off, int out_plane,
                                           int in_plane, int n)
{
    int j = get_global_id(0);
    if (j >= n)
        return;
    int plane = j / out_plane;
    dx[dx_off + plane * in_plane + index[index_off + j]] += g[g_off + j];
}

/* out = the window's sum / (kh kw): padded zeros count in the divisor
 * (count_include_pad). Without ceil_mode no window reaches past the padding,
 * so the divisor is always the full window. */
__kernel void avg_pool2d_forward(__global const float *x, int x_off, __global float *out,
                                 int out_off, int4 in, int4 geo, int4 step, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int ow = i % geo.y, t = i / geo.y;
    int oh = t % geo.x, plane = t / geo.x;
    int h0 = oh * step.x - step.z, w0 = ow * step.y - step.w;
    int h1 = min(h0 + geo.z, in.z), w1 = min(w0 + geo.w, in.w);
    h0 = max(h0, 0);
    w0 = max(w0, 0);
    __global const float *src = x + x_off + plane * in.z * in.w;
    float sum = 0.0f;
    for (int ih = h0; ih < h1; ih++)
        for (int iw = w0; iw < w1; iw++)
            sum += src[ih * in.w + iw];
    out[out_off + i] = sum / (float)(geo.z * geo.w);
}

/* dx[plane, ih, iw] (+)= sum of g / (kh kw) over the windows covering it. */
__kernel void avg_pool2d_backward(__global const float *g, int g_off, __global float *dx,
                                  int dx_off, int4 in, int4 geo, int4 step, int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int iw = i % in.w, t = i / in.w;
    int ih = t % in.z, plane = t / in.z;
    float area = (float)(geo.z * geo.w);
    int oh1 = last_window(ih, step.x, step.z, geo.x);
    int ow0 = first_window(iw, geo.w, step.y, step.w);
    int ow1 = last_window(iw, step.y, step.w, geo.y);
    float sum = 0.0f;
    for (int oh = first_window(ih, geo.z, step.x, step.z); oh <= oh1; oh++)
        for (int ow = ow0; ow <= ow1; ow++)
            sum += g[g_off + (plane * geo.x + oh) * geo.y + ow] / area;
    dx[dx_off + i] = accumulate ? dx[dx_off + i] + sum : sum;
}
