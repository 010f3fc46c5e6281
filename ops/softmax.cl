/* ops/softmax.cl: softmax and log-softmax along one axis, forward and
 * backward. One work-item per row (a row is every element along the axis).
 * The forward reads the input through its strides: row j, numbered in the
 * "keepdim" shape (size 1 on the axis), starts at offset4(j, kshape,
 * strides) and steps `step` apart. Outputs and gradients are contiguous, so
 * there row j = (o, r) of (outer, inner) starts at o * count * inner + r and
 * steps `inner` apart. */
#include "cl/common.cl"

/* y = exp(x - m) / s, or log y = x - m - log s, with m the row's maximum
 * (so no exp overflows) and s = sum exp(x - m). */
__kernel void softmax_forward(int log_out, __global const float *x, int x_off, int4 kshape,
                              int4 strides, int step, int count, int inner,
                              __global float *y, int y_off, int rows)
{
    int j = get_global_id(0);
    if (j >= rows)
        return;
    int base = x_off + offset4(j, kshape, strides);
    int out = y_off + j / inner * count * inner + j % inner;
    float m = -INFINITY;
    for (int a = 0; a < count; a++)
        m = fmax(m, x[base + a * step]);
    float s = 0.0f;
    for (int a = 0; a < count; a++)
        s += exp(x[base + a * step] - m);
    if (log_out) {
        float log_s = log(s);
        for (int a = 0; a < count; a++)
            y[out + a * inner] = x[base + a * step] - m - log_s;
    } else {
        float inv = 1.0f / s;
        for (int a = 0; a < count; a++)
            y[out + a * inner] = exp(x[base + a * step] - m) * inv;
    }
}

/* softmax:     dx = y (g - sum(g y))
 * log-softmax: dx = g - exp(y) sum(g)
 * y (the forward's output), g and dst contiguous. */
__kernel void softmax_backward(int log_out, __global const float *y, int y_off,
                               __global const float *g, int g_off, int count, int inner,
                               __global float *dst, int dst_off, int rows, int accumulate)
{
    int j = get_global_id(0);
    if (j >= rows)
        return;
    int row = j / inner * count * inner + j % inner;
    float s = 0.0f;
    for (int a = 0; a < count; a++) {
        int e = row + a * inner;
        s += log_out ? g[g_off + e] : g[g_off + e] * y[y_off + e];
    }
    for (int a = 0; a < count; a++) {
        int e = row + a * inner;
        float gy = g[g_off + e], yy = y[y_off + e];
        float v = log_out ? gy - exp(yy) * s : yy * (gy - s);
        dst[dst_off + e] = accumulate ? dst[dst_off + e] + v : v;
    }
}
