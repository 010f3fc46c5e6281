/* ops/activation.cl: activation functions, forward and backward (see
 * ops/activation.c for the formulas). `op` selects the function: 0 sigmoid,
 * 1 tanh, 2 relu, 3 leaky_relu (p0 the negative slope), 4 softplus (p0 beta,
 * p1 threshold), 5 heaviside (p0 the value at 0; forward only). The input is
 * read through its strides; the output and gradients are contiguous.
 * Full-precision built-ins only (no native_ or half_ variants). */
#include "cl/common.cl"

/* 1 / (1 + exp(-z)) without overflow: exp only of -|z|. */
inline float stable_sigmoid(float z)
{
    float e = exp(-fabs(z));
    return z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

inline float activation_apply(int op, float x, float p0, float p1)
{
    switch (op) {
    case 0: return 1.0f / (1.0f + exp(-x)); /* exp(-x) = inf gives 0, not nan */
    case 1: return tanh(x);
    case 2: return x < 0.0f ? 0.0f : x; /* keeps nan, as torch.relu */
    case 3: return x > 0.0f ? x : x * p0;
    case 4: {
        /* log1p(exp(bx)) = max(bx, 0) + log1p(exp(-|bx|)): no overflow for
         * any threshold */
        float bx = x * p0;
        return bx > p1 ? x : (fmax(bx, 0.0f) + log1p(exp(-fabs(bx)))) / p0;
    }
    default: return x == 0.0f ? p0 : (x > 0.0f ? 1.0f : 0.0f); /* nan -> 0, as torch */
    }
}

/* out (contiguous, shape) = f(x) */
__kernel void activation_forward(int op, float p0, float p1, __global const float *x, int x_off,
                                 int4 x_str, int4 shape, __global float *out, int out_off, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    out[out_off + i] = activation_apply(op, x[x_off + offset4(i, shape, x_str)], p0, p1);
}

/* g f'(x), from the input x or the output y, whichever PyTorch uses. */
inline float activation_partial(int op, float g, float x, float y, float p0, float p1)
{
    switch (op) {
    case 0: return g * (1.0f - y) * y;
    case 1: return g * (1.0f - y * y);
    case 2: return y <= 0.0f ? 0.0f : g; /* relu'(0) = 0; nan passes g, as torch */
    case 3: return x > 0.0f ? g : g * p0;
    default: {
        float bx = x * p0;
        return bx > p1 ? g : g * stable_sigmoid(bx);
    }
    }
}

/* dst (contiguous, x's shape) (+)= g f'(x); g and y are contiguous. */
__kernel void activation_backward(int op, float p0, float p1, __global const float *g, int g_off,
                                  __global const float *x, int x_off, int4 x_str, int4 shape,
                                  __global const float *y, int y_off, __global float *dst,
                                  int dst_off, int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float d = activation_partial(op, g[g_off + i], x[x_off + offset4(i, shape, x_str)],
                                 y[y_off + i], p0, p1);
    dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;
}
