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
    case 1: {
        /* tanh from exp: PoCL's tanh() is a scalar library call, about 5x
         * slower than its vectorised exp. Near 0, where 1 - e^-2|x| loses
         * digits, the series x - x^3/3 is exact to float precision. */
        float ax = fabs(x), e = exp(-2.0f * ax);
        float t = ax < 0.004f ? ax - ax * ax * ax / 3.0f : (1.0f - e) / (1.0f + e);
        return copysign(t, x);
    }
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

/* ---- bias + activation, fused (ops/activation.c) ----
 * op: activation_apply's code, or -1 for the identity. x, y, g and dx are
 * contiguous (rows, cols); b is read with stride b_str. */

inline float bias_act_apply(int op, float z, float slope)
{
    return op < 0 ? z : activation_apply(op, z, slope, 0.0f);
}

__kernel void bias_activation_forward(int op, float slope, __global const float *x, int x_off,
                                      __global const float *b, int b_off, int b_str, int has_b,
                                      __global float *y, int y_off, int rows, int cols)
{
    int i = get_global_id(0);
    if (i >= rows * cols)
        return;
    float z = x[x_off + i] + (has_b ? b[b_off + (i % cols) * b_str] : 0.0f);
    y[y_off + i] = bias_act_apply(op, z, slope);
}

/* One work-item per column: dx (+)= g act'(z) down the column, db (+)= its
 * sum. The derivative comes from y or z as activation_partial takes it. */
__kernel void bias_activation_backward(int op, float slope, __global const float *g, int g_off,
                                       __global const float *x, int x_off,
                                       __global const float *b, int b_off, int has_b,
                                       __global const float *y, int y_off, __global float *dx,
                                       int dx_off, int want_dx, int acc_dx, __global float *db,
                                       int db_off, int want_db, int acc_db, int rows, int cols)
{
    int j = get_global_id(0);
    if (j >= cols)
        return;
    float bj = has_b ? b[b_off + j] : 0.0f;
    float sum = 0.0f;
    for (int r = 0; r < rows; r++) {
        int i = r * cols + j;
        float gi = g[g_off + i];
        float d = op < 0 ? gi
                         : activation_partial(op, gi, x[x_off + i] + bj, y[y_off + i], slope, 0.0f);
        if (want_dx)
            dx[dx_off + i] = acc_dx ? dx[dx_off + i] + d : d;
        sum += d;
    }
    if (want_db)
        db[db_off + j] = acc_db ? db[db_off + j] + sum : sum;
}
