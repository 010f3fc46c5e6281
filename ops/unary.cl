/* ops/unary.cl: elementwise math on one tensor, forward and backward (see
 * ops/unary.c for the formulas). The helpers take an op code: 0 neg, 1 exp,
 * 2 log, 3 sqrt, 4 abs, 5 pow (p0 the exponent), 6 affine (x p0 + p1); each
 * kernel is stamped out for one of them. The input is read through its
 * strides (or directly, by the _contiguous kernels), so transposed views
 * need no copy; the output and gradients are contiguous. Full-precision
 * built-ins only (no native_ or half_ variants): gradient checks depend on
 * it. */
#include "cl/common.cl"

inline float unary_apply(int op, float x, float p0, float p1)
{
    switch (op) {
    case 0: return -x;
    case 1: return exp(x);
    case 2: return log(x);
    case 3: return sqrt(x);
    case 4: return fabs(x);
    case 5: return pow(x, p0);
    default: return x * p0 + p1;
    }
}

/* g f'(x), from the input x or the output y, whichever PyTorch uses. */
inline float unary_partial(int op, float g, float x, float y, float p0)
{
    switch (op) {
    case 0: return -g;
    case 1: return g * y;
    case 2: return g / x;
    case 3: return g / (2.0f * y);
    case 4: return x > 0.0f ? g : (x < 0.0f ? -g : 0.0f); /* sign(0) = 0 */
    case 5: return p0 == 0.0f ? 0.0f : g * p0 * pow(x, p0 - 1.0f);
    default: return g * p0;
    }
}

/* Kernels per function, stamped out with the op a constant: a runtime
 * switch in a kernel's body kept PoCL from vectorising it, and separate
 * kernels in one program cost no extra builds.
 *   unary_<name>_forward: out (contiguous, shape) = f(x)
 *   unary_<name>_backward: dst (contiguous, x's shape) (+)= g f'(x);
 *   g and y are contiguous.
 * The _contiguous variants read x directly, without offset4's index
 * arithmetic. */
#define UNARY_FORWARD(NAME, OP)                                                               \
    __kernel void unary_##NAME##_forward(float p0, float p1, __global const float *x,          \
                                         int x_off, int4 x_str, int4 shape,                    \
                                         __global float *out, int out_off, int n)              \
    {                                                                                          \
        int i = get_global_id(0);                                                              \
        if (i >= n)                                                                            \
            return;                                                                            \
        out[out_off + i] = unary_apply(OP, x[x_off + offset4(i, shape, x_str)], p0, p1);       \
    }                                                                                          \
                                                                                               \
    __kernel void unary_##NAME##_forward_contiguous(float p0, float p1,                       \
                                                    __global const float *x, int x_off,       \
                                                    __global float *out, int out_off, int n)  \
    {                                                                                          \
        int i = get_global_id(0);                                                              \
        if (i >= n)                                                                            \
            return;                                                                            \
        out[out_off + i] = unary_apply(OP, x[x_off + i], p0, p1);                              \
    }

#define UNARY_BACKWARD(NAME, OP)                                                              \
    __kernel void unary_##NAME##_backward(                                                    \
        float p0, __global const float *g, int g_off, __global const float *x, int x_off,     \
        int4 x_str, int4 shape, __global const float *y, int y_off, __global float *dst,      \
        int dst_off, int n, int accumulate)                                                   \
    {                                                                                          \
        int i = get_global_id(0);                                                              \
        if (i >= n)                                                                            \
            return;                                                                            \
        float d = unary_partial(OP, g[g_off + i], x[x_off + offset4(i, shape, x_str)],         \
                                y[y_off + i], p0);                                             \
        dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;                              \
    }                                                                                          \
                                                                                               \
    __kernel void unary_##NAME##_backward_contiguous(                                         \
        float p0, __global const float *g, int g_off, __global const float *x, int x_off,     \
        __global const float *y, int y_off, __global float *dst, int dst_off, int n,          \
        int accumulate)                                                                        \
    {                                                                                          \
        int i = get_global_id(0);                                                              \
        if (i >= n)                                                                            \
            return;                                                                            \
        float d = unary_partial(OP, g[g_off + i], x[x_off + i], y[y_off + i], p0);             \
        dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;                              \
    }

UNARY_FORWARD(neg, 0)
UNARY_FORWARD(exp, 1)
UNARY_FORWARD(log, 2)
UNARY_FORWARD(sqrt, 3)
UNARY_FORWARD(abs, 4)
UNARY_FORWARD(pow, 5)
UNARY_FORWARD(affine, 6)
UNARY_BACKWARD(neg, 0)
UNARY_BACKWARD(exp, 1)
UNARY_BACKWARD(log, 2)
UNARY_BACKWARD(sqrt, 3)
UNARY_BACKWARD(abs, 4)
UNARY_BACKWARD(pow, 5)
UNARY_BACKWARD(affine, 6)
