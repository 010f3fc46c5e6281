/* ops/pool.cl: max and average pooling 2-D, forward and backward.
 *
 * Geometry arrives as four int4s:
 *   in   (N, C, H, W)                       the input; a "plane" is one (n, c)
 *   geo  (Ho, Wo, kh, kw)                   output size and window
 *   step (stride_h, stride_w, pad_h, pad_w)
 *   opt  (dilation_h, dilation_w, count_exclude_pad, 0)
 * Window (oh, ow) reads rows oh sh - ph + i dh for i < kh (columns alike),
 * spanning dh (kh - 1) + 1 rows. Padding is at most half the window and
 * each window starts inside the input or its left padding (ceil_mode's rule
 * in pool.c), so a window holds a real element unless dilation steps over
 * it (max pooling then gives -inf and index -1, as PyTorch's -inf and zero
 * gradient). Every kernel has one work-item per row (an output row forward,
 * an input row or band of rows backward) looping along it: the divisions
 * that locate a row are paid once per row, and backward work-items write
 * only their own rows, so nothing is written twice and no atomics are
 * needed. */

/* The windows whose span covers input row `i` along one axis: outputs o
 * with o s - p <= i <= o s - p + span - 1, clipped to [0, size). */
inline int first_window(int i, int span, int s, int p)
{
    int lowest = i + p - span + 1; /* o s >= this */
    return lowest <= 0 ? 0 : (lowest + s - 1) / s;
}

inline int last_window(int i, int s, int p, int size)
{
    return min((i + p) / s, size - 1);
}

/* The first tap at or after 0 of a window starting at `start`, taps d apart. */
inline int first_tap(int start, int d)
{
    return start >= 0 ? start : start + (-start + d - 1) / d * d;
}

/* Average pooling's count along one axis for a window starting at `start`:
 * clipped to the padded input (size + pad; count_include_pad), or to the
 * input (exclude). PyTorch's avg_pool2d kernels count so. */
inline int window_count(int start, int k, int pad, int size, int exclude)
{
    int end = min(start + k, size + pad);
    return exclude ? min(end, size) - max(start, 0) : end - start;
}

/* out = the window's maximum; index = its position ih W + iw in the plane.
 * Padding never wins (it is -inf, as in PyTorch); the first maximum does,
 * and a NaN takes over as PyTorch's kernel lets it (val > max || isnan).
 * One work-item per output row r = plane Ho + oh, looping along it: the
 * divisions that locate the row are paid once per row (per element they
 * cost more than the comparisons; measured 2.5x with PoCL). */
__kernel void max_pool2d_forward(__global const float *x, int x_off, __global float *out,
                                 int out_off, __global int *index, int index_off, int4 in,
                                 int4 geo, int4 step, int4 opt, int rows)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int oh = r % geo.x, plane = r / geo.x;
    int h0 = oh * step.x - step.z, h1 = min(h0 + opt.x * (geo.z - 1) + 1, in.z);
    h0 = first_tap(h0, opt.x);
    __global const float *src = x + x_off + plane * in.z * in.w;
    __global float *o = out + out_off + r * geo.y;
    __global int *arg_out = index + index_off + r * geo.y;
    if (geo.z == 2 && geo.w == 2 && step.x == 2 && step.y == 2 && step.z == 0 && step.w == 0 &&
        opt.x == 1 && opt.y == 1 && 2 * geo.x <= in.z && 2 * geo.y <= in.w) {
        /* The common 2x2 window, stride 2, no padding, none clipped by
         * ceil_mode: four loads and selects per output, no loops (1.45x
         * faster on PoCL). */
        int top = 2 * oh * in.w;
        __global const float *r0 = src + top, *r1 = r0 + in.w;
        int ow = 0;
        /* Four outputs at a time: a float8 of each input row holds four
         * windows' columns, .even and .odd their left and right taps; the
         * same comparisons in the same order as the loop below, per lane
         * (PoCL ran the scalar loop at 0.34 ms for LeNet-5's first pooling
         * at batch 64). */
        for (; ow + 4 <= geo.y; ow += 4) {
            float8 a = vload8(0, r0 + 2 * ow), b = vload8(0, r1 + 2 * ow);
            float4 best = a.even, v = a.odd;
            int4 arg = (int4)(0);
            int4 take = isgreater(v, best) | isnan(v);
            best = select(best, v, take);
            arg = select(arg, (int4)(1), take);
            v = b.even;
            take = isgreater(v, best) | isnan(v);
            best = select(best, v, take);
            arg = select(arg, (int4)(in.w), take);
            v = b.odd;
            take = isgreater(v, best) | isnan(v);
            best = select(best, v, take);
            arg = select(arg, (int4)(in.w + 1), take);
            vstore4(best, 0, o + ow);
            vstore4((int4)(top + 2 * ow) + (int4)(0, 2, 4, 6) + arg, 0, arg_out + ow);
        }
        for (; ow < geo.y; ow++) {
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
        int w0 = ow * step.y - step.w, w1 = min(w0 + opt.y * (geo.w - 1) + 1, in.w);
        w0 = first_tap(w0, opt.y);
        float best = -INFINITY;
        /* PyTorch's index before any comparison: the first real tap */
        int arg = h0 < h1 && w0 < w1 ? h0 * in.w + w0 : -1;
        for (int ih = h0; ih < h1; ih += opt.x)
            for (int iw = w0; iw < w1; iw += opt.y) {
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
                                  int dx_off, int4 in, int4 geo, int4 step, int4 opt,
                                  int rows, int accumulate)
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
    for (int oh = first_window(ih, opt.x * (geo.z - 1) + 1, step.x, step.z); oh <= oh1; oh++) {
        int j0 = (plane * geo.x + oh) * geo.y;
        for (int ow = 0; ow < geo.y; ow++) {
            int at = index[index_off + j0 + ow] - row_start; /* index -1: no real tap */
            if (at >= 0 && at < in.w)
                d[at] += g[g_off + j0 + ow];
        }
    }
}

/* Disjoint windows (stride >= the window's span): dx[plane, index[j]] += g[j] for each
 * output j. Work-item r = plane Ho + oh owns a band of input rows, from its
 * windows' first row (row 0 for the first band) to the next band's (H for
 * the last), which holds its windows whole: every element of dx is written
 * by exactly one work-item, zeros first (unless accumulating) and then g at
 * each window's saved maximum, so dx needs no fill beforehand. */
__kernel void max_pool2d_backward_disjoint(__global const float *g, int g_off,
                                           __global const int *index, int index_off,
                                           __global float *dx, int dx_off, int4 in, int4 geo,
                                           int4 step, int4 opt, int rows, int accumulate)
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
    for (int ow = 0; ow < geo.y; ow++) {
        int at = index[index_off + j0 + ow];
        if (at >= 0) /* -1: a window of padding only */
            d[at] += g[g_off + j0 + ow];
    }
}

/* out = the window's sum / its count (window_count per axis): the full
 * window unless ceil_mode's last one runs past the padding, or only real
 * elements with count_exclude_pad. A work-item per output row, as
 * max_pool2d_forward. */
__kernel void avg_pool2d_forward(__global const float *x, int x_off, __global float *out,
                                 int out_off, int4 in, int4 geo, int4 step, int4 opt, int rows)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int oh = r % geo.x, plane = r / geo.x;
    int h0 = oh * step.x - step.z, h1 = min(h0 + geo.z, in.z);
    int count_h = window_count(h0, geo.z, step.z, in.z, opt.z);
    h0 = max(h0, 0);
    __global const float *src = x + x_off + plane * in.z * in.w;
    __global float *o = out + out_off + r * geo.y;
    for (int ow = 0; ow < geo.y; ow++) {
        int w0 = ow * step.y - step.w, w1 = min(w0 + geo.w, in.w);
        float count = (float)(count_h * window_count(w0, geo.w, step.w, in.w, opt.z));
        w0 = max(w0, 0);
        float sum = 0.0f;
        for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
                sum += src[ih * in.w + iw];
        o[ow] = sum / count;
    }
}

/* dx[plane, ih, iw] (+)= sum of g / count over the windows covering it.
 * Work-item r = plane H + ih owns input row ih, as max_pool2d_backward:
 * each covering output row spreads g / count over its windows' columns. */
__kernel void avg_pool2d_backward(__global const float *g, int g_off, __global float *dx,
                                  int dx_off, int4 in, int4 geo, int4 step, int4 opt, int rows,
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
    int oh1 = last_window(ih, step.x, step.z, geo.x);
    for (int oh = first_window(ih, geo.z, step.x, step.z); oh <= oh1; oh++) {
        __global const float *grow = g + g_off + (plane * geo.x + oh) * geo.y;
        int count_h = window_count(oh * step.x - step.z, geo.z, step.z, in.z, opt.z);
        for (int ow = 0; ow < geo.y; ow++) {
            int w0 = ow * step.y - step.w;
            float v = grow[ow] / (float)(count_h * window_count(w0, geo.w, step.w, in.w, opt.z));
            for (int iw = max(w0, 0); iw < min(w0 + geo.w, in.w); iw++)
                d[iw] += v;
        }
    }
}
