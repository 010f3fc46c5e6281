/* ops/binary.cl: add, sub, mul, div with broadcasting, forward and backward.
 * The helpers' op codes: 0 add, 1 sub, 2 mul, 3 div. Operands are read
 * through broadcast strides (0 along broadcast axes), so one kernel serves
 * every shape combination and transposed views. */
#include "cl/common.cl"

inline float apply(int op, float x, float y)
{
    switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    default: return x / y;
    }
}

/* Forward kernels per operation, stamped out with the op a constant (a
 * runtime switch kept PoCL from vectorising the body):
 *   binary_<name>_forward: out (contiguous, shape) = a (op) b, operands
 *   through broadcast strides;
 *   binary_<name>_forward_same: both operands contiguous with out's shape,
 *   read directly (no index arithmetic: about 2x faster). */
#define BINARY_FORWARD(NAME, OP)                                                             \
    __kernel void binary_##NAME##_forward(__global const float *a, int a_off, int4 a_str,    \
                                          __global const float *b, int b_off, int4 b_str,    \
                                          __global float *out, int out_off, int4 shape,      \
                                          int n)                                             \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        out[out_off + i] = apply(OP, a[a_off + offset4(i, shape, a_str)],                     \
                                 b[b_off + offset4(i, shape, b_str)]);                        \
    }                                                                                         \
                                                                                              \
    __kernel void binary_##NAME##_forward_same(__global const float *a, int a_off,           \
                                               __global const float *b, int b_off,           \
                                               __global float *out, int out_off, int n)      \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        out[out_off + i] = apply(OP, a[a_off + i], b[b_off + i]);                             \
    }

BINARY_FORWARD(add, 0)
BINARY_FORWARD(sub, 1)
BINARY_FORWARD(mul, 2)
BINARY_FORWARD(div, 3)

/* d out / d (a or b) times g at one output element. */
inline float partial(int op, int which, float g, float x, float y)
{
    switch (op) {
    case 0: return g;
    case 1: return which == 0 ? g : -g;
    case 2: return which == 0 ? g * y : g * x;
    default: return which == 0 ? g / y : -g * x / (y * y);
    }
}

/* The gradient of one operand (`which`: 0 for a, 1 for b), summed over the
 * axes along which it was broadcast. Work-item j owns element j of the
 * operand's gradient (dst, contiguous, `keep` shape: the output's shape with
 * 1 on broadcast axes); it loops over the `red` shape (the output's sizes on
 * broadcast axes, 1 elsewhere). g is the output's gradient, contiguous. */
__kernel void binary_backward(int op, int which, __global const float *g, int g_off,
                              __global const float *a, int a_off, int4 a_str,
                              __global const float *b, int b_off, int4 b_str, int4 shape,
                              int4 keep, int4 red, __global float *dst, int dst_off, int n,
                              int accumulate)
{
    int j = get_global_id(0);
    if (j >= n)
        return;
    int4 out_str = (int4)(shape.y * shape.z * shape.w, shape.z * shape.w, shape.w, 1);
    /* coordinates of j in `keep` */
    int4 ck;
    int t = j;
    ck.w = t % keep.w; t /= keep.w;
    ck.z = t % keep.z; t /= keep.z;
    ck.y = t % keep.y; t /= keep.y;
    ck.x = t;
    int reduced = red.x * red.y * red.z * red.w;
    float sum = 0.0f;
    for (int r = 0; r < reduced; r++) {
        int4 c = ck;
        int u = r;
        c.w += u % red.w; u /= red.w;
        c.z += u % red.z; u /= red.z;
        c.y += u % red.y; u /= red.y;
        c.x += u;
        int gi = c.x * out_str.x + c.y * out_str.y + c.z * out_str.z + c.w;
        float x = a[a_off + c.x * a_str.x + c.y * a_str.y + c.z * a_str.z + c.w * a_str.w];
        float y = b[b_off + c.x * b_str.x + c.y * b_str.y + c.z * b_str.z + c.w * b_str.w];
        sum += partial(op, which, g[g_off + gi], x, y);
    }
    dst[dst_off + j] = accumulate ? dst[dst_off + j] + sum : sum;
}
