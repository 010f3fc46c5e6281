/* ops/activation.cl: activation functions, forward and backward (see
 * ops/activation.c for the formulas; the functions themselves are in
 * ops/activation_math.cl, by their codes ACT_<NAME>, build options made from
 * OP_ACTIVATIONS in ops/internal.h), each stamped out by ops/map.cl's macros,
 * and the fused bias + activation, a family per clg_activation. */
#include "ops/activation_math.cl"
#include "ops/map.cl"

MAP_FORWARD(activation, sigmoid, activation_apply, ACT_SIGMOID)
MAP_FORWARD(activation, tanh, activation_apply, ACT_TANH)
MAP_FORWARD(activation, relu, activation_apply, ACT_RELU)
MAP_FORWARD(activation, leaky_relu, activation_apply, ACT_LEAKY_RELU)
MAP_FORWARD(activation, softplus, activation_apply, ACT_SOFTPLUS)
MAP_FORWARD(activation, heaviside, activation_apply, ACT_HEAVISIDE)
MAP_FORWARD(activation, clamp, activation_apply, ACT_CLAMP)
MAP_FORWARD(activation, elu, activation_apply, ACT_ELU)
MAP_FORWARD(activation, selu, activation_apply, ACT_SELU)
MAP_FORWARD(activation, hardsigmoid, activation_apply, ACT_HARDSIGMOID)
MAP_BACKWARD(activation, sigmoid, activation_partial, ACT_SIGMOID)
MAP_BACKWARD(activation, tanh, activation_partial, ACT_TANH)
MAP_BACKWARD(activation, relu, activation_partial, ACT_RELU)
MAP_BACKWARD(activation, leaky_relu, activation_partial, ACT_LEAKY_RELU)
MAP_BACKWARD(activation, softplus, activation_partial, ACT_SOFTPLUS)
MAP_BACKWARD(activation, clamp, activation_partial, ACT_CLAMP)
MAP_BACKWARD(activation, elu, activation_partial, ACT_ELU)
MAP_BACKWARD(activation, selu, activation_partial, ACT_SELU)
MAP_BACKWARD(activation, hardsigmoid, activation_partial, ACT_HARDSIGMOID)

/* ---- bias + activation, fused (ops/activation.c) ----
 * Kernels per activation, stamped out by BIAS_ACT_KERNELS and
 * BIAS_ACT_BLOCKS with the activation a constant: a runtime switch in the
 * loop body kept PoCL from vectorising it well (measured: 25% slower), and
 * separate kernels in the one program cost no extra builds. OP is
 * activation_apply's code ACT_<NAME> (ACT_IDENTITY returns z and g as they
 * are). x, y, g and dx are contiguous (rows, cols); b is read with stride
 * b_str. The cpu plan's kernels take vectors over blocks of rows
 * (BIAS_ACT_BLOCKS below); the gpu plan's forward runs over a cols x rows
 * grid (no i % cols), its backward a work-item per element. The derivative
 * comes from y or z as activation_partial takes it. */

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
        y[y_off + i] = activation_apply(OP, z, slope, 0.0f);                                  \
    }

/* The cpu plan's kernels: work-item (chunk, block) takes the W columns
 * from chunk W on (W = 1, 4 as float4s, or the plan's width CLG_VW) over one
 * block of block_rows rows. Forward: y = act(x + b). Backward: d = g act'(z)
 * into dx, and the block's column sums of d into row `block` of part, a
 * (blocks, cols) scratch (or db itself, when one block covers the rows),
 * which bias_grad_blocks then adds down in block order. Vectors along a row
 * and short stretches of rows, so that loads and the activation's
 * arithmetic are whole vectors (PoCL runs its built-ins at the host's full
 * width) and there are work-items enough for every core. 2048 x 100 tanh on
 * PoCL, AVX-512: the backward took 130 us with a float4 work-item per four
 * columns walking every row, 45 us so; in the autoencoder's step the
 * forward took 83 us as float4s over the flat array, 60 us so. A row's last
 * chunk, if it would reach past cols, slides left to end there (the host
 * ensures cols >= W) and writes only the lanes from its own first column on,
 * one by one. b is contiguous. */
/* p[l] (+)= v's lane l for the lanes l >= from (a slid chunk) */
#define STORE_LANES(W, T, v, p, from, acc)                                                    \
    do {                                                                                      \
        float lanes_[W];                                                                      \
        VSTORE##W((v), lanes_);                                                               \
        for (int l_ = (from); l_ < W; l_++)                                                   \
            (p)[l_] = (acc) ? (p)[l_] + lanes_[l_] : lanes_[l_];                              \
    } while (0)

/* Offsets, flags and sizes come packed in an int8 (forward) or int16
 * (backward), in the order below: PoCL copies each kernel argument into an
 * allocation of its own per launch (see cl/gemm.cl). */
#define BIAS_ACT_BLOCKS(KERNEL, OP, W, S, T)                                                  \
    __kernel void KERNEL##_forward_blocks##W(__global const float *x, __global const float *b, \
                                             __global float *y, int8 p, float slope)         \
    {                                                                                         \
        int x_off = p.s0, b_off = p.s1, has_b = p.s2, y_off = p.s3, rows = p.s4, cols = p.s5,  \
            chunks = p.s6, block_rows = p.s7;                                                 \
        int id = get_global_id(0), block = id / chunks, own = (id - block * chunks) * W;     \
        int r0 = block * block_rows;                                                          \
        if (r0 >= rows)                                                                       \
            return;                                                                           \
        int s = min(own, cols - W), skip = own - s, r1 = min(rows, r0 + block_rows);          \
        T bj = has_b ? VLOAD##W(b + b_off + s) : (T)(0.0f);                                   \
        for (int r = r0; r < r1; r++) {                                                       \
            int i = r * cols + s;                                                             \
            T v = activation_apply##S(OP, VLOAD##W(x + x_off + i) + bj, slope, 0.0f);         \
            if (skip == 0)                                                                    \
                VSTORE##W(v, y + y_off + i);                                                  \
            else                                                                              \
                STORE_LANES(W, T, v, y + y_off + i, skip, 0);                                 \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    __kernel void KERNEL##_backward_blocks##W(                                                \
        __global const float *g, __global const float *x, __global const float *b,           \
        __global const float *y, __global float *dx, __global float *part, int16 p,          \
        float slope)                                                                          \
    {                                                                                         \
        int g_off = p.s0, x_off = p.s1, b_off = p.s2, has_b = p.s3, y_off = p.s4,             \
            dx_off = p.s5, want_dx = p.s6, acc_dx = p.s7, part_off = p.s8, want_part = p.s9,  \
            acc_part = p.sa, rows = p.sb, cols = p.sc, chunks = p.sd, block_rows = p.se;      \
        int id = get_global_id(0), block = id / chunks, own = (id - block * chunks) * W;     \
        int r0 = block * block_rows;                                                          \
        if (r0 >= rows)                                                                       \
            return;                                                                           \
        int s = min(own, cols - W), skip = own - s, r1 = min(rows, r0 + block_rows);          \
        T bj = has_b ? VLOAD##W(b + b_off + s) : (T)(0.0f);                                   \
        T sum = (T)(0.0f);                                                                    \
        for (int r = r0; r < r1; r++) {                                                       \
            int i = r * cols + s;                                                             \
            T d = activation_partial##S(OP, VLOAD##W(g + g_off + i),                          \
                                        VLOAD##W(x + x_off + i) + bj, VLOAD##W(y + y_off + i), \
                                        slope, 0.0f);                                         \
            if (want_dx) {                                                                    \
                __global float *o = dx + dx_off + i;                                          \
                if (skip == 0)                                                                \
                    VSTORE##W(acc_dx ? VLOAD##W(o) + d : d, o);                               \
                else                                                                          \
                    STORE_LANES(W, T, d, o, skip, acc_dx);                                    \
            }                                                                                 \
            sum += d;                                                                         \
        }                                                                                     \
        if (want_part) {                                                                      \
            __global float *o = part + part_off + block * cols + s;                           \
            if (skip == 0)                                                                    \
                VSTORE##W(acc_part ? VLOAD##W(o) + sum : sum, o);                             \
            else                                                                              \
                STORE_LANES(W, T, sum, o, skip, acc_part);                                    \
        }                                                                                     \
    }
/* W = 1 and 4, and the plan's width where wider (8, 16). The kernel's name
 * is pasted first: a name passed on through a macro would be expanded, and
 * PoCL defines tanh as a macro. */
#define BIAS_ACT_BLOCKS_ALL(NAME, OP)                                                         \
    BIAS_ACT_BLOCKS(bias_##NAME, OP, 1, , float)                                              \
    BIAS_ACT_BLOCKS(bias_##NAME, OP, 4, 4, float4)                                            \
    BIAS_ACT_BLOCKS_WIDE(bias_##NAME, OP, CLG_VW)
#if CLG_VW == 8 || CLG_VW == 16
#define BIAS_ACT_BLOCKS_WIDE_(KERNEL, OP, VW) BIAS_ACT_BLOCKS(KERNEL, OP, VW, VW, float##VW)
#define BIAS_ACT_BLOCKS_WIDE(KERNEL, OP, VW) BIAS_ACT_BLOCKS_WIDE_(KERNEL, OP, VW)
#else
#define BIAS_ACT_BLOCKS_WIDE(KERNEL, OP, VW)
#endif

/* db (+)= the sum of part's `blocks` rows (cols wide), in row order: the bias
 * gradient from bias_<name>_backward_blocks<W>'s block sums. */
__kernel void bias_grad_blocks(__global const float *part, int part_off, int blocks,
                               __global float *db, int db_off, int acc_db, int cols)
{
    int j = get_global_id(0);
    if (j >= cols)
        return;
    float sum = 0.0f;
    for (int k = 0; k < blocks; k++)
        sum += part[part_off + k * cols + j];
    db[db_off + j] = acc_db ? db[db_off + j] + sum : sum;
}

/* The gpu plan's backward: a work-item per element writing d = g act'(z) to
 * dx (want_dx, acc_dx) and to t (want_t), a plain copy for the bias
 * gradient's two-stage column sums (op_sum_view) when dx is absent or
 * accumulates. */
#define BIAS_ACT_ELEMENT_KERNEL(NAME, OP)                                                    \
    __kernel void bias_##NAME##_backward_element(                                            \
        float slope, __global const float *g, int g_off, __global const float *x, int x_off, \
        __global const float *b, int b_off, int has_b, __global const float *y, int y_off,   \
        __global float *dx, int dx_off, int want_dx, int acc_dx, __global float *t,          \
        int t_off, int want_t, int rows, int cols)                                           \
    {                                                                                         \
        int i = get_global_id(0);                                                             \
        if (i >= rows * cols)                                                                 \
            return;                                                                           \
        float gi = g[g_off + i];                                                              \
        float z = x[x_off + i] + (has_b ? b[b_off + i % cols] : 0.0f);                        \
        float d = activation_partial(OP, gi, z, y[y_off + i], slope, 0.0f);                   \
        if (want_dx)                                                                          \
            dx[dx_off + i] = acc_dx ? dx[dx_off + i] + d : d;                                 \
        if (want_t)                                                                           \
            t[t_off + i] = d;                                                                 \
    }

BIAS_ACT_KERNELS(identity, ACT_IDENTITY)
BIAS_ACT_KERNELS(sigmoid, ACT_SIGMOID)
BIAS_ACT_KERNELS(tanh, ACT_TANH)
BIAS_ACT_KERNELS(relu, ACT_RELU)
BIAS_ACT_KERNELS(leaky_relu, ACT_LEAKY_RELU)
BIAS_ACT_KERNELS(elu, ACT_ELU)
BIAS_ACT_KERNELS(selu, ACT_SELU)
BIAS_ACT_KERNELS(hardsigmoid, ACT_HARDSIGMOID)
BIAS_ACT_BLOCKS_ALL(identity, ACT_IDENTITY)
BIAS_ACT_BLOCKS_ALL(sigmoid, ACT_SIGMOID)
BIAS_ACT_BLOCKS_ALL(tanh, ACT_TANH)
BIAS_ACT_BLOCKS_ALL(relu, ACT_RELU)
BIAS_ACT_BLOCKS_ALL(leaky_relu, ACT_LEAKY_RELU)
BIAS_ACT_BLOCKS_ALL(elu, ACT_ELU)
BIAS_ACT_BLOCKS_ALL(selu, ACT_SELU)
BIAS_ACT_BLOCKS_ALL(hardsigmoid, ACT_HARDSIGMOID)
BIAS_ACT_ELEMENT_KERNEL(identity, ACT_IDENTITY)
BIAS_ACT_ELEMENT_KERNEL(sigmoid, ACT_SIGMOID)
BIAS_ACT_ELEMENT_KERNEL(tanh, ACT_TANH)
BIAS_ACT_ELEMENT_KERNEL(relu, ACT_RELU)
BIAS_ACT_ELEMENT_KERNEL(leaky_relu, ACT_LEAKY_RELU)
BIAS_ACT_ELEMENT_KERNEL(elu, ACT_ELU)
BIAS_ACT_ELEMENT_KERNEL(selu, ACT_SELU)
BIAS_ACT_ELEMENT_KERNEL(hardsigmoid, ACT_HARDSIGMOID)
