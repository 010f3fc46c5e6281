/* ops/pool.cl: max and average pooling 2-D, forward and backward.
 *
 * Geometry arrives as three int4s:
 *   in   (N, C, H, W)                       the input; a "plane" is one (n, c)
 *   geo  (Ho, Wo, kh, kw)                   output size and window
 *   step (stride_h, stride_w, pad_h, pad_w)
 * Window (oh, ow) covers rows oh sh - ph .. oh sh - ph + kh - 1 (columns
 * alike). Padding is at most half the window, so every window holds at
 * least one real element. Every kernel has one work-item per row (an
 * output row forward, an input row or band of rows backward) looping along
 * it: the divisions that locate a row are paid once per row, and backward
 * work-items write only their own rows, so nothing is written twice and no
 * atomics are needed. */

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
 * and a NaN takes over as PyTorch's kernel lets it (val > max || isnan).
 * One work-item per output row r = plane Ho + oh, looping along it: the
 * divisions that locate the row are paid once per row (per element they
 * cost more than the comparisons; measured 2.5x with PoCL). */
__kernel void max_pool2d_forward(__global const float *x, int x_off, __global float *out,
                                 int out_off, __global int *index, int index_off, int4 in,
                                 int4 geo, int4 step, int rows)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int oh = r % geo.x, plane = r / geo.x;
    int h0 = oh * step.x - step.z, h1 = min(h0 + geo.z, in.z);
    h0 = max(h0, 0);
    __global const float *src = x + x_off + plane * in.z * in.w;
    __global float *o = out + out_off + r * geo.y;
    __global int *arg_out = index + index_off + r * geo.y;
    if (geo.z == 2 && geo.w == 2 && step.x == 2 && step.y == 2 && step.z == 0 && step.w == 0) {
        /* The common 2x2 window, stride 2, no padding: four loads and
         * selects per output, no loops (1.45x faster on PoCL). */
        int top = 2 * oh * in.w;
        __global const float *r0 = src + top, *r1 = r0 + in.w;
        for (int ow = 0; ow < geo.y; ow++) {
            float best = r0[2 * ow], v = r0[2 * ow + 1];
            int arg = 0;
            bool take = v > best || isnan(v);
            best = take ? v : best;
            arg = take ? 1 : arg;
            v = r1[2 * ow];
            take = v > best || isnan(v);
            best = take ? v : best;
            arg = take ? in.w : arg;
            v = r1[2 * ow + 1];
            take = v > best || isnan(v);
            best = take ? v : best;
            arg = take ? in.w + 1 : arg;
            o[ow] = best;
            arg_out[ow] = top + 2 * ow + arg;
        }
        return;
    }
    for (int ow = 0; ow < geo.y; ow++) {
        int w0 = ow * step.y - step.w, w1 = min(w0 + geo.w, in.w);
        w0 = max(w0, 0);
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
        o[ow] = best;
        arg_out[ow] = arg;
    }
}

/* dx[plane, ih, iw] (+)= the sum of g over the windows whose saved maximum
 * is this element. Work-item r = plane H + ih owns input row ih: it visits
 * the output rows whose windows cover it and adds each window's g at the
 * saved maximum when that lies in its row (a scatter inside its own row, so
 * no two work-items write one element, and no division per element). */
__kernel void max_pool2d_backward(__global const float *g, int g_off,
                                  __global const int *index, int index_off, __global float *dx,
                                  int dx_off, int4 in, int4 geo, int4 step, int rows,
                                  int accumulate)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int ih = r % in.z, plane = r / in.z;
    __global float *d = dx + dx_off + r * in.w;
    if (!accumulate)
        for (int iw = 0; iw < in.w; iw++)
            d[iw] = 0.0f;
    int row_start = ih * in.w, oh1 = last_window(ih, step.x, step.z, geo.x);
    for (int oh = first_window(ih, geo.z, step.x, step.z); oh <= oh1; oh++) {
        int j0 = (plane * geo.x + oh) * geo.y;
        for (int ow = 0; ow < geo.y; ow++) {
            int at = index[index_off + j0 + ow] - row_start;
            if (at >= 0 && at < in.w)
                d[at] += g[g_off + j0 + ow];
        }
    }
}

/* Disjoint windows (stride >= window): dx[plane, index[j]] += g[j] for each
 * output j. Work-item r = plane Ho + oh owns a band of input rows, from its
 * windows' first row (row 0 for the first band) to the next band's (H for
 * the last), which holds its windows whole: every element of dx is written
 * by exactly one work-item, zeros first (unless accumulating) and then g at
 * each window's saved maximum, so dx needs no fill beforehand. */
__kernel void max_pool2d_backward_disjoint(__global const float *g, int g_off,
                                           __global const int *index, int index_off,
                                           __global float *dx, int dx_off, int4 in, int4 geo,
                                           int4 step, int rows, int accumulate)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int oh = r % geo.x, plane = r / geo.x;
    int first = oh == 0 ? 0 : oh * step.x - step.z;
    int end = oh == geo.x - 1 ? in.z : (oh + 1) * step.x - step.z;
    __global float *d = dx + dx_off + plane * in.z * in.w;
    if (!accumulate)
        for (int i = first * in.w; i < end * in.w; i++)
            d[i] = 0.0f;
    int j0 = r * geo.y;
    for (int ow = 0; ow < geo.y; ow++)
        d[index[index_off + j0 + ow]] += g[g_off + j0 + ow];
}

/* out = the window's sum / (kh kw): padded zeros count in the divisor
 * (count_include_pad). Without ceil_mode no window reaches past the padding,
 * so the divisor is always the full window. A work-item per output row, as
 * max_pool2d_forward. */
__kernel void avg_pool2d_forward(__global const float *x, int x_off, __global float *out,
                                 int out_off, int4 in, int4 geo, int4 step, int rows)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int oh = r % geo.x, plane = r / geo.x;
    int h0 = oh * step.x - step.z, h1 = min(h0 + geo.z, in.z);
    h0 = max(h0, 0);
    __global const float *src = x + x_off + plane * in.z * in.w;
    __global float *o = out + out_off + r * geo.y;
    float area = (float)(geo.z * geo.w);
    for (int ow = 0; ow < geo.y; ow++) {
        int w0 = ow * step.y - step.w, w1 = min(w0 + geo.w, in.w);
        w0 = max(w0, 0);
        float sum = 0.0f;
        for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
                sum += src[ih * in.w + iw];
        o[ow] = sum / area;
    }
}

/* dx[plane, ih, iw] (+)= sum of g / (kh kw) over the windows covering it.
 * Work-item r = plane H + ih owns input row ih, as max_pool2d_backward:
 * each covering output row spreads g / (kh kw) over its windows' columns. */
__kernel void avg_pool2d_backward(__global const float *g, int g_off, __global float *dx,
                                  int dx_off, int4 in, int4 geo, int4 step, int rows,
                                  int accumulate)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int ih = r % in.z, plane = r / in.z;
    __global float *d = dx + dx_off + r * in.w;
    if (!accumulate)
        for (int iw = 0; iw < in.w; iw++)
            d[iw] = 0.0f;
    float area = (float)(geo.z * geo.w);
    int oh1 = last_window(ih, step.x, step.z, geo.x);
    for (int oh = first_window(ih, geo.z, step.x, step.z); oh <= oh1; oh++) {
        __global const float *grow = g + g_off + (plane * geo.x + oh) * geo.y;
        for (int ow = 0; ow < geo.y; ow++) {
            float v = grow[ow] / area;
            int w0 = ow * step.y - step.w;
            for (int iw = max(w0, 0); iw < min(w0 + geo.w, in.w); iw++)
                d[iw] += v;
        }
    }
}
