/* ops/gaussian.cl: the reparameterisation z = mu + exp(0.5 logvar) eps and
 * the per-element Gaussian KL term, forward and backward (ops/gaussian.c).
 * Inputs may be strided views (shape and strides padded to rank 4);
 * outputs and gradients are contiguous. */
#include "cl/common.cl"

__kernel void reparameterize_forward(__global const float *mu, int mu_off, int4 mu_str,
                                     __global const float *logvar, int lv_off, int4 lv_str,
                                     __global const float *eps, int eps_off, int4 eps_str,
                                     int4 shape, __global float *z, int z_off, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float m = mu[mu_off + offset4(i, shape, mu_str)];
    float lv = logvar[lv_off + offset4(i, shape, lv_str)];
    float e = eps[eps_off + offset4(i, shape, eps_str)];
    z[z_off + i] = m + exp(0.5f * lv) * e;
}

/* which 0: dmu = g; 1: dlogvar = 0.5 g eps sigma; 2: deps = g sigma, with
 * sigma = exp(0.5 logvar) recomputed rather than saved. */
__kernel void reparameterize_backward(int which, __global const float *g, int g_off,
                                      __global const float *logvar, int lv_off, int4 lv_str,
                                      __global const float *eps, int eps_off, int4 eps_str,
                                      int4 shape, __global float *dst, int dst_off, int n,
                                      int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float gi = g[g_off + i], d;
    if (which == 0) {
        d = gi;
    } else {
        float sigma = exp(0.5f * logvar[lv_off + offset4(i, shape, lv_str)]);
        d = which == 1 ? 0.5f * gi * eps[eps_off + offset4(i, shape, eps_str)] * sigma
                       : gi * sigma;
    }
    dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;
}

/* kl = -0.5 (1 + logvar - mu^2 - exp(logvar)) */
__kernel void gaussian_kl_forward(__global const float *mu, int mu_off, int4 mu_str,
                                  __global const float *logvar, int lv_off, int4 lv_str,
                                  int4 shape, __global float *kl, int kl_off, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float m = mu[mu_off + offset4(i, shape, mu_str)];
    float lv = logvar[lv_off + offset4(i, shape, lv_str)];
    kl[kl_off + i] = -0.5f * (1.0f + lv - m * m - exp(lv));
}

/* which 0: dmu = g mu; 1: dlogvar = 0.5 g (exp(logvar) - 1). */
__kernel void gaussian_kl_backward(int which, __global const float *g, int g_off,
                                   __global const float *x, int x_off, int4 x_str, int4 shape,
                                   __global float *dst, int dst_off, int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[x_off + offset4(i, shape, x_str)];
    float d = which == 0 ? g[g_off + i] * v : 0.5f * g[g_off + i] * (exp(v) - 1.0f);
    dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;
}
