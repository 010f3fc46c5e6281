/* ops/loss.cl: per-element losses (mse, bce, bce with logits), each alone or
 * summed as it is computed, and the fused per-row cross-entropy, forward and
 * backward. The other reductions over the losses are not here: ops/loss.c
 * calls the reduce ops.
 *
 * The per-element losses' tensors are contiguous; cross-entropy reads its
 * logits through row and column strides. */
#include "cl/common.cl"

/* PyTorch's floor for the denominator of bce's gradient. */
#define BCE_EPSILON 1e-12f

/* Each loss is stamped as kernels of its own (pointwise_loss_forward_<name>,
 * pointwise_loss_sum_<name>, pointwise_loss_backward_<name> and
 * pointwise_loss_backward_sum_<name>, POINTWISE_LOSS below) over contiguous tensors: PoCL vectorises a kernel
 * across work-items only without a runtime switch and without offset4's
 * strided indexing, whose divisions cannot be if-converted (mse over the
 * autoencoder's 2048 x 30: 50 -> 20 us forward, 60 -> 20 backward). In the
 * formulas xv is the input, tv the target, gv the gradient of the loss,
 * sign +1 for the input's gradient and -1 for the target's (only mse has
 * it).
 *
 * With reduction SUM or MEAN the losses are never stored. The sum kernel is
 * the first stage of a two-stage sum (ops/reduce.c's op_sum_all_finish
 * runs the second) over the losses as it computes them, CLG_VW at a time (the
 * plan's width: whole float16s on AVX-512, where a float a work-item ran the
 * autoencoder's 61,440 in 50 us), each work-item a grid-strided share of the
 * vectors, then the elements past the last whole vector, one each; the
 * backward reads the scalar's one gradient. The autoencoder's sum of squared
 * errors went from 6 launches (the losses, two sum stages, the seed,
 * sum_backward's broadcast, the backward) to 4, with 245 KB fewer written
 * and read twice. The order of additions depends on n and the plan only. */
#if CLG_VW == 1
#define LOSS_HSUM(v) (v)
#else
#define LOSS_HSUM(v) CLG_CAT(loss_hsum, CLG_VW)(v)
#endif
inline float loss_hsum4(float4 v)
{
    return (v.s0 + v.s1) + (v.s2 + v.s3);
}
#if CLG_VW >= 8
inline float loss_hsum8(float8 v)
{
    return loss_hsum4(v.lo + v.hi);
}
#endif
#if CLG_VW >= 16
inline float loss_hsum16(float16 v)
{
    return loss_hsum8(v.lo + v.hi);
}
#endif

/* mse */
#define MSE_LOSS (xv - tv) * (xv - tv)
#define MSE_GRAD sign * 2.0f * (xv - tv) * gv
/* bce: each log clamped at -100, so p = 0 or 1 gives a finite loss;
 * log1p(-p) is log(1 - p) without the rounding of 1 - p */
#define BCE_LOSS (tv - 1.0f) * fmax(log1p(-xv), -100.0f) - tv * fmax(log(xv), -100.0f)
#define BCE_GRAD gv * (xv - tv) / fmax((1.0f - xv) * xv, BCE_EPSILON)
/* bce with logits: log(1 + exp(-|x|)) never overflows; max(x, 0) carries
 * the rest */
#define BCE_LOGITS_LOSS fmax(xv, 0.0f) - xv * tv + log1p(exp(-fabs(xv)))
#define BCE_LOGITS_GRAD gv * (1.0f / (1.0f + exp(-xv)) - tv)

#define POINTWISE_LOSS(NAME, LOSS, GRAD)                                                      \
    __kernel void pointwise_loss_forward_##NAME(__global const float *x, int x_off,           \
                                                __global const float *t, int t_off,           \
                                                __global float *out, int out_off, int n)      \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        float xv = x[x_off + i], tv = t[t_off + i];                                           \
        out[out_off + i] = LOSS;                                                              \
    }                                                                                         \
    /* out[group] = scale * this group's share of the sum of the losses (no                  \
     * return: every item reaches the barriers) */                                           \
    __kernel void pointwise_loss_sum_##NAME(__global const float *x, int x_off,               \
                                            __global const float *t, int t_off, int n,        \
                                            __global float *out, int out_off, float scale)    \
    {                                                                                         \
        __local float scratch[CLG_REDUCE_GROUP];                                              \
        int item = get_global_id(0), vectors = n / CLG_VW;                                   \
        floatw acc = 0.0f;                                                                    \
        for (int v = item; v < vectors; v += get_global_size(0)) {                            \
            floatw xv = VLOADW(x + x_off + v * CLG_VW), tv = VLOADW(t + t_off + v * CLG_VW);  \
            acc += LOSS;                                                                      \
        }                                                                                     \
        float sum = LOSS_HSUM(acc);                                                           \
        int i = vectors * CLG_VW + item; /* past the whole vectors */                         \
        if (i < n) {                                                                          \
            float xv = x[x_off + i], tv = t[t_off + i];                                       \
            sum += LOSS;                                                                      \
        }                                                                                     \
        sum = group_sum(scratch, sum);                                                        \
        if (get_local_id(0) == 0)                                                             \
            out[out_off + get_group_id(0)] = sum * scale;                                     \
    }                                                                                         \
    /* dst (+)= g * d loss / d (x if which is 0, t if which is 1), g each loss's             \
     * gradient */                                                                            \
    __kernel void pointwise_loss_backward_##NAME(                                             \
        int which, __global const float *g, int g_off, __global const float *x, int x_off,    \
        __global const float *t, int t_off, __global float *dst, int dst_off, int n,          \
        int accumulate)                                                                       \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        float xv = x[x_off + i], tv = t[t_off + i];                                           \
        float gv = g[g_off + i], sign = which == 0 ? 1.0f : -1.0f;                            \
        float v = GRAD;                                                                       \
        dst[dst_off + i] = accumulate ? dst[dst_off + i] + v : v;                             \
    }                                                                                         \
    /* the same for the losses' sum or mean: g the scalar's gradient, times scale            \
     * (1, or 1 / n for the mean) */                                                          \
    __kernel void pointwise_loss_backward_sum_##NAME(                                         \
        int which, __global const float *g, int g_off, float scale, __global const float *x, \
        int x_off, __global const float *t, int t_off, __global float *dst, int dst_off,      \
        int n, int accumulate)                                                                \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        float xv = x[x_off + i], tv = t[t_off + i];                                           \
        float gv = g[g_off] * scale, sign = which == 0 ? 1.0f : -1.0f;                        \
        float v = GRAD;                                                                       \
        dst[dst_off + i] = accumulate ? dst[dst_off + i] + v : v;                             \
    }

POINTWISE_LOSS(mse, MSE_LOSS, MSE_GRAD)
POINTWISE_LOSS(bce, BCE_LOSS, BCE_GRAD)
POINTWISE_LOSS(bce_logits, BCE_LOGITS_LOSS, BCE_LOGITS_GRAD)

/* One work-item per row n of logits x (N, C) (strides x_rs, x_cs):
 * lse[n] = log sum_c exp(x[n, c]) (computed with the row maximum subtracted)
 * and loss[n] = lse[n] - x[n, label[n]], or NaN when the label lies outside
 * [0, C), so a bad label never reads outside the row. */
__kernel void cross_entropy_forward(__global const float *x, int x_off, int x_rs, int x_cs,
                                    int classes, __global const int *labels, int l_off, int l_str,
                                    __global float *loss, int loss_off, __global float *lse,
                                    int lse_off, int rows)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int base = x_off + r * x_rs;
    float m = -INFINITY;
    for (int c = 0; c < classes; c++)
        m = fmax(m, x[base + c * x_cs]);
    float s = 0.0f;
    for (int c = 0; c < classes; c++)
        s += exp(x[base + c * x_cs] - m);
    float row_lse = m + log(s);
    int label = labels[l_off + r * l_str];
    lse[lse_off + r] = row_lse;
    loss[loss_off + r] = label >= 0 && label < classes ? row_lse - x[base + label * x_cs] : NAN;
}

/* d loss[n] / d x[n, c] = softmax(x)[n, c] - (c == label[n]), times g[n];
 * NaN for a row whose label is out of range. One work-item per element. */
__kernel void cross_entropy_backward(__global const float *x, int x_off, int x_rs, int x_cs,
                                     int classes, __global const int *labels, int l_off, int l_str,
                                     __global const float *lse, int lse_off,
                                     __global const float *g, int g_off, __global float *dst,
                                     int dst_off, int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int r = i / classes, c = i % classes;
    int label = labels[l_off + r * l_str];
    float p = exp(x[x_off + r * x_rs + c * x_cs] - lse[lse_off + r]);
    float v = label >= 0 && label < classes ? (p - (c == label ? 1.0f : 0.0f)) * g[g_off + r]
                                            : NAN;
    dst[dst_off + i] = accumulate ? dst[dst_off + i] + v : v;
}
