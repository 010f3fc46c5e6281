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
 * One kernel pair per activation, stamped out by BIAS_ACT_KERNELS with the
 * activation a constant: a runtime switch in the loop body kept PoCL from
 * vectorising it well (measured: 25% slower), and separate kernels in the
 * one program cost no extra builds. OP is activation_apply's code ACT_<NAME>
 * (ACT_IDENTITY returns z and g as they are). x, y, g and dx are contiguous (rows, cols); b is read
 * with stride b_str. The forward runs over a cols x rows grid (no i % cols);
 * the backward has one work-item per column, walking its rows, so the bias
 * sum needs no second launch and no atomics. The derivative comes from y or
 * z as activation_partial takes it. Where 4 divides cols, the _forward4 and
 * _backward4 kernels take four columns at a time as float4s (bias + tanh
 * over 2048 x 100: 0.61 -> 0.32 ms forward). */

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
            float d = activation_partial(OP, gi, x[x_off + i] + bj, y[y_off + i], slope,      \
                                         0.0f);                                               \
            if (want_dx)                                                                      \
                dx[dx_off + i] = acc_dx ? dx[dx_off + i] + d : d;                             \
            sum += d;                                                                         \
        }                                                                                     \
        if (want_db)                                                                          \
            db[db_off + j] = acc_db ? db[db_off + j] + sum : sum;                             \
    }                                                                                         \
                                                                                              \
    /* The same four columns at a time as float4s, when b is contiguous: forward            \
     * over the n = rows cols elements when 4 divides cols, backward a work-item            \
     * per four columns, the last one taking the cols % 4 left one by one (the              \
     * autoencoder's 30- and 15-wide layers: 0.23 and 0.14 ms a step in the                 \
     * one-column kernel). Per element the same operations in the same order. */            \
    __kernel void bias_##NAME##_forward4(float slope, __global const float *x, int x_off,    \
                                         __global const float *b, int b_off, int has_b,      \
                                         __global float *y, int y_off, int n, int cols)      \
    {                                                                                         \
        int e = get_global_id(0) * 4;                                                         \
        if (e >= n)                                                                           \
            return;                                                                           \
        float4 z = vload4(0, x + x_off + e) +                                                 \
                   (has_b ? vload4(0, b + b_off + e % cols) : (float4)(0.0f));                \
        vstore4(activation_apply4(OP, z, slope, 0.0f), 0, y + y_off + e);                     \
    }                                                                                         \
                                                                                              \
    __kernel void bias_##NAME##_backward4(                                                   \
        float slope, __global const float *g, int g_off, __global const float *x, int x_off, \
        __global const float *b, int b_off, int has_b, __global const float *y, int y_off,   \
        __global float *dx, int dx_off, int want_dx, int acc_dx, __global float *db,         \
        int db_off, int want_db, int acc_db, int rows, int cols)                             \
    {                                                                                         \
        int j = get_global_id(0) * 4;                                                         \
        if (j >= cols)                                                                        \
            return;                                                                           \
        if (j + 4 > cols) {                                                                   \
            /* the last cols % 4 columns, one at a time as bias_##NAME##_backward */          \
            for (; j < cols; j++) {                                                           \
                float bs = has_b ? b[b_off + j] : 0.0f, s = 0.0f;                             \
                for (int r = 0; r < rows; r++) {                                              \
                    int i = r * cols + j;                                                     \
                    float d = activation_partial(OP, g[g_off + i], x[x_off + i] + bs,         \
                                                 y[y_off + i], slope, 0.0f);                  \
                    if (want_dx)                                                              \
                        dx[dx_off + i] = acc_dx ? dx[dx_off + i] + d : d;                     \
                    s += d;                                                                   \
                }                                                                             \
                if (want_db)                                                                  \
                    db[db_off + j] = acc_db ? db[db_off + j] + s : s;                         \
            }                                                                                 \
            return;                                                                           \
        }                                                                                     \
        float4 bj = has_b ? vload4(0, b + b_off + j) : (float4)(0.0f);                        \
        float4 sum = (float4)(0.0f);                                                          \
        for (int r = 0; r < rows; r++) {                                                      \
            int i = r * cols + j;                                                             \
            float4 gi = vload4(0, g + g_off + i);                                             \
            float4 d = activation_partial4(OP, gi, vload4(0, x + x_off + i) + bj,             \
                                           vload4(0, y + y_off + i), slope, 0.0f);            \
            if (want_dx)                                                                      \
                vstore4(acc_dx ? vload4(0, dx + dx_off + i) + d : d, 0, dx + dx_off + i);     \
            sum += d;                                                                         \
        }                                                                                     \
        if (want_db)                                                                          \
            vstore4(acc_db ? vload4(0, db + db_off + j) + sum : sum, 0, db + db_off + j);     \
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
BIAS_ACT_ELEMENT_KERNEL(identity, ACT_IDENTITY)
BIAS_ACT_ELEMENT_KERNEL(sigmoid, ACT_SIGMOID)
BIAS_ACT_ELEMENT_KERNEL(tanh, ACT_TANH)
BIAS_ACT_ELEMENT_KERNEL(relu, ACT_RELU)
BIAS_ACT_ELEMENT_KERNEL(leaky_relu, ACT_LEAKY_RELU)
BIAS_ACT_ELEMENT_KERNEL(elu, ACT_ELU)
BIAS_ACT_ELEMENT_KERNEL(selu, ACT_SELU)
BIAS_ACT_ELEMENT_KERNEL(hardsigmoid, ACT_HARDSIGMOID)
