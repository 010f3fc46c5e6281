/* ops/map.cl: the kernels of an elementwise function of one tensor, stamped
 * out per function by the families that include this file (ops/unary.cl,
 * ops/activation.cl) and launched by op_map / op_map_backward (ops/common.c).
 * APPLY(op, x, p0, p1) is the function and PARTIAL(op, g, x, y, p0, p1) its
 * g f'(x), taken from the input x or the output y, whichever PyTorch uses;
 * op is a constant in each kernel (a runtime switch kept PoCL from
 * vectorising the body: 2.6x slower), and separate kernels in one program
 * cost no extra builds.
 *   <prefix>_<name>_forward: out (contiguous, shape) = f(x), x read through
 *     its strides (transposed views need no copy);
 *   <prefix>_<name>_backward: dst (contiguous, x's shape) (+)= g f'(x); g and
 *     y are contiguous;
 *   the _contiguous variants read x directly, without offset4's index
 *     arithmetic (2x faster).
 * Invoke the macros directly, not through another macro: PoCL #defines
 * names such as exp and log, which an extra level of expansion would
 * rewrite inside the kernel names. */
#include "cl/common.cl"

#define MAP_FORWARD(PREFIX, NAME, APPLY, OP)                                                  \
    __kernel void PREFIX##_##NAME##_forward(float p0, float p1, __global const float *x,      \
                                            int x_off, int4 x_str, int4 shape,                \
                                            __global float *out, int out_off, int n)          \
    {                                                                                          \
        int i = get_global_id(0);                                                              \
        if (i >= n)                                                                            \
            return;                                                                            \
        out[out_off + i] = APPLY(OP, x[x_off + offset4(i, shape, x_str)], p0, p1);             \
    }                                                                                          \
                                                                                               \
    __kernel void PREFIX##_##NAME##_forward_contiguous(float p0, float p1,                    \
                                                       __global const float *x, int x_off,    \
                                                       __global float *out, int out_off,      \
                                                       int n)                                 \
    {                                                                                          \
        int i = get_global_id(0);                                                              \
        if (i >= n)                                                                            \
            return;                                                                            \
        out[out_off + i] = APPLY(OP, x[x_off + i], p0, p1);                                    \
    }

#define MAP_BACKWARD(PREFIX, NAME, PARTIAL, OP)                                               \
    __kernel void PREFIX##_##NAME##_backward(                                                 \
        float p0, float p1, __global const float *g, int g_off, __global const float *x,      \
        int x_off, int4 x_str, int4 shape, __global const float *y, int y_off,                \
        __global float *dst, int dst_off, int n, int accumulate)                              \
    {                                                                                          \
        int i = get_global_id(0);                                                              \
        if (i >= n)                                                                            \
            return;                                                                            \
        float d = PARTIAL(OP, g[g_off + i], x[x_off + offset4(i, shape, x_str)], y[y_off + i], \
                          p0, p1);                                                             \
        dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;                              \
    }                                                                                          \
                                                                                               \
    __kernel void PREFIX##_##NAME##_backward_contiguous(                                      \
        float p0, float p1, __global const float *g, int g_off, __global const float *x,      \
        int x_off, __global const float *y, int y_off, __global float *dst, int dst_off,      \
        int n, int accumulate)                                                                 \
    {                                                                                          \
        int i = get_global_id(0);                                                              \
        if (i >= n)                                                                            \
            return;                                                                            \
        float d = PARTIAL(OP, g[g_off + i], x[x_off + i], y[y_off + i], p0, p1);               \
        dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;                              \
    }
