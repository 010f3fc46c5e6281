/* ops/activation.cl: activation functions, forward and backward (see
 * ops/activation.c for the formulas; the functions themselves are in
 * ops/activation_math.cl, by op code); each kernel is stamped out for one of
 * them. The input is read through its strides (or
 * directly, by the _contiguous kernels); the output and gradients are
 * contiguous. Full-precision built-ins only (no native_ or half_ variants). */
#include "cl/common.cl"

#include "ops/activation_math.cl"

/* Kernels per function, stamped out with the op a constant: a runtime
 * switch in a kernel's body kept PoCL from vectorising it (measured 2.6x
 * slower), and separate kernels in one program cost no extra builds.
 *   activation_<name>_forward: out (contiguous, shape) = f(x)
 *   activation_<name>_backward: dst (contiguous, x's shape) (+)= g f'(x);
 *   g and y are contiguous. */
#define ACTIVATION_FORWARD(NAME, OP)                                                         \
    __kernel void activation_##NAME##_forward(float p0, float p1, __global const float *x,   \
                                              int x_off, int4 x_str, int4 shape,             \
                                              __global float *out, int out_off, int n)       \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        out[out_off + i] = activation_apply(OP, x[x_off + offset4(i, shape, x_str)], p0, p1); \
    }                                                                                         \
                                                                                              \
    /* x contiguous: no index arithmetic at all (2x faster than through offset4) */         \
    __kernel void activation_##NAME##_forward_contiguous(float p0, float p1,                 \
                                                         __global const float *x, int x_off, \
                                                         __global float *out, int out_off,   \
                                                         int n)                              \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        out[out_off + i] = activation_apply(OP, x[x_off + i], p0, p1);                       \
    }

#define ACTIVATION_BACKWARD(NAME, OP)                                                        \
    __kernel void activation_##NAME##_backward(                                              \
        float p0, float p1, __global const float *g, int g_off, __global const float *x,     \
        int x_off, int4 x_str, int4 shape, __global const float *y, int y_off,               \
        __global float *dst, int dst_off, int n, int accumulate)                             \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        float d = activation_partial(OP, g[g_off + i], x[x_off + offset4(i, shape, x_str)],   \
                                     y[y_off + i], p0, p1);                                   \
        dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;                             \
    }                                                                                         \
                                                                                              \
    __kernel void activation_##NAME##_backward_contiguous(                                   \
        float p0, float p1, __global const float *g, int g_off, __global const float *x,     \
        int x_off, __global const float *y, int y_off, __global float *dst, int dst_off,     \
        int n, int accumulate)                                                                \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        float d = activation_partial(OP, g[g_off + i], x[x_off + i], y[y_off + i], p0, p1);   \
        dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;                             \
    }

ACTIVATION_FORWARD(sigmoid, 0)
ACTIVATION_FORWARD(tanh, 1)
ACTIVATION_FORWARD(relu, 2)
ACTIVATION_FORWARD(leaky_relu, 3)
ACTIVATION_FORWARD(softplus, 4)
ACTIVATION_FORWARD(heaviside, 5)
ACTIVATION_BACKWARD(sigmoid, 0)
ACTIVATION_BACKWARD(tanh, 1)
ACTIVATION_BACKWARD(relu, 2)
ACTIVATION_BACKWARD(leaky_relu, 3)
ACTIVATION_BACKWARD(softplus, 4)

/* ---- bias + activation, fused (ops/activation.c) ----
 * One kernel pair per activation, stamped out by BIAS_ACT_KERNELS with the
 * activation a constant: a runtime switch in the loop body kept PoCL from
 * vectorising it well (measured: 25% slower), and separate kernels in the
 * one program cost no extra builds. OP is activation_apply's code, or -1
 * for the identity. x, y, g and dx are contiguous (rows, cols); b is read
 * with stride b_str. The forward runs over a cols x rows grid (no i % cols);
 * the backward has one work-item per column, walking its rows, so the bias
 * sum needs no second launch and no atomics. The derivative comes from y or
 * z as activation_partial takes it. */

#define BIAS_ACT_KERNELS(NAME, OP)                                                           \
    __kernel void bias_##NAME##_forward(float slope, __global const float *x, int x_off,     \
                                        __global const float *b, int b_off, int b_str,       \
                                        int has_b, __global float *y, int y_off, int rows,   \
                                        int cols)                                            \
    {                                                                                         \
        int j = get_global_id(0), r = get_global_id(1);                                      \
        if (j >= cols || r >= rows)                                                           \
            return;                                                                           \
        int i = r * cols + j;                                                                 \
        float z = x[x_off + i] + (has_b ? b[b_off + j * b_str] : 0.0f);                      \
        y[y_off + i] = OP < 0 ? z : activation_apply(OP, z, slope, 0.0f);                    \
    }                                                                                         \
                                                                                              \
    __kernel void bias_##NAME##_backward(                                                    \
        float slope, __global const float *g, int g_off, __global const float *x, int x_off, \
        __global const float *b, int b_off, int has_b, __global const float *y, int y_off,   \
        __global float *dx, int dx_off, int want_dx, int acc_dx, __global float *db,         \
        int db_off, int want_db, int acc_db, int rows, int cols)                             \
    {                                                                                         \
        int j = get_global_id(0);                                                             \
        if (j >= cols)                                                                        \
            return;                                                                           \
        float bj = has_b ? b[b_off + j] : 0.0f;                                               \
        float sum = 0.0f;                                                                     \
        for (int r = 0; r < rows; r++) {                                                      \
            int i = r * cols + j;                                                             \
            float gi = g[g_off + i];                                                          \
            float d = OP < 0 ? gi                                                             \
                             : activation_partial(OP, gi, x[x_off + i] + bj, y[y_off + i],    \
                                                  slope, 0.0f);                               \
            if (want_dx)                                                                      \
                dx[dx_off + i] = acc_dx ? dx[dx_off + i] + d : d;                             \
            sum += d;                                                                         \
        }                                                                                     \
        if (want_db)                                                                          \
            db[db_off + j] = acc_db ? db[db_off + j] + sum : sum;                             \
    }

BIAS_ACT_KERNELS(identity, -1)
BIAS_ACT_KERNELS(sigmoid, 0)
BIAS_ACT_KERNELS(tanh, 1)
BIAS_ACT_KERNELS(relu, 2)
BIAS_ACT_KERNELS(leaky_relu, 3)
