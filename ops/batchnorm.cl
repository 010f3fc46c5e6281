/* ops/batchnorm.cl: batch normalisation's per-channel statistics, the
 * normalisation, and the backward kernels.
 *
 * The input is (N, C) or (N, C, H, W), seen as (N, C, inner) with inner = 1
 * or H W, read through its shape and strides padded to rank 4 (so views need
 * no copy). Element (n, c, s) is row-major element (n C + c) inner + s.
 *
 * Per-channel reductions run one work-group of CLG_REDUCE_GROUP items per channel (the
 * group id is the channel; the launch has exactly `channels` groups): each
 * item sums a strided share of the channel's count = N inner elements, then
 * a tree in local memory adds the CLG_REDUCE_GROUP partial sums. The order of additions
 * depends only on the shape, so results are reproducible. These kernels have
 * no `return` at all: with a (group-uniform, so legal) early return before
 * their barriers, PoCL 3.1's work-group loops ran the `l == 0` tail on every
 * work-item, or never ended. */
#include "cl/common.cl"

/* Where the k-th element (k < count) of channel c lives in x. */
inline int channel_elem(int k, int c, int channels, int inner, int4 shape, int4 strides)
{
    int n = k / inner, s = k - n * inner;
    return offset4((n * channels + c) * inner + s, shape, strides);
}

/* mean[c] and invstd[c] = 1 / sqrt(var + eps) of the batch, for the
 * normalisation in training: the mean and the biased variance in two passes
 * (the mean, then the squared deviations from it: no cancellation, unlike
 * E[x^2] - E[x]^2). The running statistics (when has_rm / has_rv) move
 * towards the batch's: running = (1 - momentum) running + momentum stat,
 * with the unbiased variance var count / (count - 1), as PyTorch. */
__kernel void batchnorm_stats(__global const float *x, int x_off, int4 shape, int4 strides,
                              int channels, int inner, int count, float momentum, float eps,
                              __global float *rm, int rm_off, int rm_stride, int has_rm,
                              __global float *rv, int rv_off, int rv_stride, int has_rv,
                              __global float *mean, int mean_off, __global float *invstd,
                              int invstd_off)
{
    __local float scratch[CLG_REDUCE_GROUP];
    int c = get_group_id(0), l = get_local_id(0);
    float sum = 0.0f;
    for (int k = l; k < count; k += CLG_REDUCE_GROUP)
        sum += x[x_off + channel_elem(k, c, channels, inner, shape, strides)];
    float mu = group_sum(scratch, sum) / (float)count;
    float squares = 0.0f;
    for (int k = l; k < count; k += CLG_REDUCE_GROUP) {
        float d = x[x_off + channel_elem(k, c, channels, inner, shape, strides)] - mu;
        squares += d * d;
    }
    float var = group_sum(scratch, squares) / (float)count;
    if (l == 0) {
        mean[mean_off + c] = mu;
        invstd[invstd_off + c] = 1.0f / sqrt(var + eps);
        if (has_rm) {
            int i = rm_off + c * rm_stride;
            rm[i] = (1.0f - momentum) * rm[i] + momentum * mu;
        }
        if (has_rv) {
            int i = rv_off + c * rv_stride;
            float unbiased = var * (float)count / (float)(count - 1);
            rv[i] = (1.0f - momentum) * rv[i] + momentum * unbiased;
        }
    }
}

/* Not training: mean[c] and invstd[c] from the running statistics, one
 * work-item per channel. */
__kernel void batchnorm_stats_eval(__global const float *rm, int rm_off, int rm_stride,
                                   __global const float *rv, int rv_off, int rv_stride, float eps,
                                   __global float *mean, int mean_off, __global float *invstd,
                                   int invstd_off, int channels)
{
    int c = get_global_id(0);
    if (c >= channels)
        return;
    mean[mean_off + c] = rm[rm_off + c * rm_stride];
    invstd[invstd_off + c] = 1.0f / sqrt(rv[rv_off + c * rv_stride] + eps);
}

/* out (contiguous) = (x - mean[c]) invstd[c] weight[c] + bias[c]; weight 1
 * and bias 0 when absent. */
__kernel void batchnorm_forward(__global const float *x, int x_off, int4 shape, int4 strides,
                                int channels, int inner, __global const float *mean, int mean_off,
                                __global const float *invstd, int invstd_off,
                                __global const float *w, int w_off, int w_stride, int has_w,
                                __global const float *b, int b_off, int b_stride, int has_b,
                                __global float *out, int out_off, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int c = (i / inner) % channels;
    float y = (x[x_off + offset4(i, shape, strides)] - mean[mean_off + c]) * invstd[invstd_off + c];
    if (has_w)
        y *= w[w_off + c * w_stride];
    if (has_b)
        y += b[b_off + c * b_stride];
    out[out_off + i] = y;
}

/* Per channel: sum_g = sum g and sum_gx = sum g xhat, xhat = (x - mean)
 * invstd, written to sums[c] and sums[channels + c] when write_sums (the
 * input's training-mode gradient needs them), and they are the gradients of
 * bias and weight: dbias[c] (+)= sum_g, dweight[c] (+)= sum_gx when has_db /
 * has_dw. g is the output's gradient, contiguous. */
__kernel void batchnorm_backward_stats(__global const float *g, int g_off,
                                       __global const float *x, int x_off, int4 shape,
                                       int4 strides, int channels, int inner, int count,
                                       __global const float *mean, int mean_off,
                                       __global const float *invstd, int invstd_off,
                                       __global float *sums, int sums_off, int write_sums,
                                       __global float *dw, int dw_off, int has_dw, int acc_dw,
                                       __global float *db, int db_off, int has_db, int acc_db)
{
    __local float scratch[CLG_REDUCE_GROUP];
    int c = get_group_id(0), l = get_local_id(0);
    float mu = mean[mean_off + c], is = invstd[invstd_off + c];
    float sg = 0.0f, sgx = 0.0f;
    for (int k = l; k < count; k += CLG_REDUCE_GROUP) {
        int n = k / inner, s = k - n * inner;
        int flat = (n * channels + c) * inner + s;
        float gv = g[g_off + flat];
        sg += gv;
        sgx += gv * (x[x_off + offset4(flat, shape, strides)] - mu) * is;
    }
    sg = group_sum(scratch, sg);
    sgx = group_sum(scratch, sgx);
    if (l == 0) {
        if (write_sums) {
            sums[sums_off + c] = sg;
            sums[sums_off + channels + c] = sgx;
        }
        if (has_db)
            db[db_off + c] = acc_db ? db[db_off + c] + sg : sg;
        if (has_dw)
            dw[dw_off + c] = acc_dw ? dw[dw_off + c] + sgx : sgx;
    }
}

/* dst (contiguous) (+)= weight[c] invstd[c] (g - sum_g / count - xhat
 * sum_gx / count) in training, where the batch statistics depend on every
 * element of the channel; weight[c] invstd[c] g when not training, where
 * they are constants. */
__kernel void batchnorm_backward_input(__global const float *g, int g_off,
                                       __global const float *x, int x_off, int4 shape,
                                       int4 strides, int channels, int inner, int count,
                                       int training, __global const float *mean, int mean_off,
                                       __global const float *invstd, int invstd_off,
                                       __global const float *w, int w_off, int w_stride,
                                       int has_w, __global const float *sums, int sums_off,
                                       __global float *dst, int dst_off, int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int c = (i / inner) % channels;
    float is = invstd[invstd_off + c];
    float d = g[g_off + i];
    if (training) {
        float xhat = (x[x_off + offset4(i, shape, strides)] - mean[mean_off + c]) * is;
        d -= (sums[sums_off + c] + xhat * sums[sums_off + channels + c]) / (float)count;
    }
    d *= is;
    if (has_w)
        d *= w[w_off + c * w_stride];
    dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;
}
