/* ops/binary.cl: add, sub, mul, div, pow with broadcasting, forward and
 * backward (see ops/binary.c for the formulas and pow's masks). The helpers
 * take an op code: 0 add, 1 sub, 2 mul, 3 div, 4 pow; each kernel is stamped
 * out for one of them.
 * Operands are read through broadcast strides (0 along broadcast axes), so
 * one kernel serves every shape combination and transposed views; the
 * _same kernels serve the common case of contiguous operands of the
 * output's shape without any index arithmetic. */
#include "cl/common.cl"

inline float apply(int op, float x, float y)
{
    switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    default: return pow(x, y);
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
BINARY_FORWARD(pow, 4)

/* d out / d (a or b) times g at one output element. */
inline float partial(int op, int which, float g, float x, float y)
{
    switch (op) {
    case 0: return g;
    case 1: return which == 0 ? g : -g;
    case 2: return which == 0 ? g * y : g * x;
    case 3: return which == 0 ? g / y : -g * x / (y * y);
    default:
        /* PyTorch's masks: selected, not multiplied, so a nan or inf in g
         * or in the formula does not leak through them. */
        if (which == 0)
            return y == 0.0f ? 0.0f : g * (y * pow(x, y - 1.0f));
        return x == 0.0f && y >= 0.0f ? 0.0f : g * (pow(x, y) * log(x));
    }
}

/* Element j of one operand's gradient (`which`: 0 for a, 1 for b), summed
 * over the axes along which that operand was broadcast: j indexes the
 * `keep` shape (the output's shape with 1 on broadcast axes), and the sum
 * runs over the `red` shape (the output's sizes on broadcast axes, 1
 * elsewhere). g is the output's gradient, contiguous. */
inline float broadcast_partial(int op, int which, int j, __global const float *g,
                               __global const float *a, int4 a_str, __global const float *b,
                               int4 b_str, int4 shape, int4 keep, int4 red)
{
    int reduced = red.x * red.y * red.z * red.w;
    /* Not broadcast: keep is the output's shape, so j is the output element
     * too; offset4 skips the divisions for contiguous operands. */
    if (reduced == 1)
        return partial(op, which, g[j], a[offset4(j, shape, a_str)], b[offset4(j, shape, b_str)]);
    int4 out_str = (int4)(shape.y * shape.z * shape.w, shape.z * shape.w, shape.w, 1);
    /* coordinates of j in `keep` */
    int4 ck;
    int t = j;
    ck.w = t % keep.w; t /= keep.w;
    ck.z = t % keep.z; t /= keep.z;
    ck.y = t % keep.y; t /= keep.y;
    ck.x = t;
    /* nested loops over `red`: no division per term */
    float sum = 0.0f;
    for (int rx = 0; rx < red.x; rx++)
        for (int ry = 0; ry < red.y; ry++)
            for (int rz = 0; rz < red.z; rz++)
                for (int rw = 0; rw < red.w; rw++) {
                    int4 c = ck + (int4)(rx, ry, rz, rw);
                    int gi = c.x * out_str.x + c.y * out_str.y + c.z * out_str.z + c.w;
                    float x = a[c.x * a_str.x + c.y * a_str.y + c.z * a_str.z + c.w * a_str.w];
                    float y = b[c.x * b_str.x + c.y * b_str.y + c.z * b_str.z + c.w * b_str.w];
                    sum += partial(op, which, g[gi], x, y);
                }
    return sum;
}

/* Backward kernels per operation, stamped out with the op a constant, as
 * the forward ones:
 *   binary_<name>_backward: the gradient of one operand, work-item j owning
 *   element j of it (dst, contiguous, `keep` shape), with the broadcast sum
 *   above;
 *   binary_<name>_backward_same: both operands contiguous with out's shape,
 *   read directly; one launch writes both gradients (a flag per operand
 *   says whether it wants one; an absent one's arguments point at a tensor
 *   that exists and stay untouched). For x op x, da and db are the same
 *   buffer and acc_db is set: each work-item writes da[i] before adding to
 *   db[i], so both terms land. */
#define BINARY_BACKWARD(NAME, OP)                                                            \
    __kernel void binary_##NAME##_backward(                                                  \
        int which, __global const float *g, int g_off, __global const float *a, int a_off,   \
        int4 a_str, __global const float *b, int b_off, int4 b_str, int4 shape, int4 keep,   \
        int4 red, __global float *dst, int dst_off, int n, int accumulate)                   \
    {                                                                                         \
        int j = get_global_id(0);                                                             \
        if (j >= n)                                                                           \
            return;                                                                           \
        float d = broadcast_partial(OP, which, j, g + g_off, a + a_off, a_str, b + b_off,     \
                                    b_str, shape, keep, red);                                 \
        dst[dst_off + j] = accumulate ? dst[dst_off + j] + d : d;                             \
    }                                                                                         \
                                                                                              \
    __kernel void binary_##NAME##_backward_same(                                             \
        __global const float *g, int g_off, __global const float *a, int a_off,              \
        __global const float *b, int b_off, __global float *da, int da_off, int want_da,     \
        int acc_da, __global float *db, int db_off, int want_db, int acc_db, int n)          \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= n)                                                                           \
            return;                                                                           \
        float gi = g[g_off + i], x = a[a_off + i], y = b[b_off + i];                          \
        if (want_da) {                                                                        \
            float d = partial(OP, 0, gi, x, y);                                               \
            da[da_off + i] = acc_da ? da[da_off + i] + d : d;                                 \
        }                                                                                     \
        if (want_db) {                                                                        \
            float d = partial(OP, 1, gi, x, y);                                               \
            db[db_off + i] = acc_db ? db[db_off + i] + d : d;                                 \
        }                                                                                     \
    }

BINARY_BACKWARD(add, 0)
BINARY_BACKWARD(sub, 1)
BINARY_BACKWARD(mul, 2)
BINARY_BACKWARD(div, 3)
BINARY_BACKWARD(pow, 4)
