/* optim/optim.cl: the fused optimizer updates, one work-item per element,
 * reading the gradient and writing the parameter and its state in one pass.
 * Each line mirrors a PyTorch 1.13 in-place op (_single_tensor_* in
 * torch/optim/), in the same order, so the float32 roundings match:
 *   add(t, alpha)        self + alpha * t
 *   addcmul(a, b, value) self + value * a * b
 *   addcdiv(a, b, value) self + value * (a / b)
 * Scalars such as 1 - beta and the bias corrections arrive precomputed by
 * the host. Unused state buffers are passed as the parameter's buffer and
 * never touched. */
#include "cl/common.cl"

/* torch.optim.SGD. first: the momentum buffer is None in PyTorch, so it
 * becomes a copy of the (decayed) gradient, without dampening. */
__kernel void sgd_step(__global float *param, int param_off, __global const float *grad,
                       int grad_off, __global float *buf, int buf_off, float lr,
                       float weight_decay, float momentum, float one_minus_dampening,
                       int nesterov, int first, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float p = param[param_off + i];
    float d = grad[grad_off + i];
    if (weight_decay != 0.0f)
        d = d + weight_decay * p;
    if (momentum != 0.0f) {
        float b = first ? d : buf[buf_off + i] * momentum + one_minus_dampening * d;
        buf[buf_off + i] = b;
        d = nesterov ? d + momentum * b : b;
    }
    param[param_off + i] = p + (-lr) * d;
}

/* torch.optim.RMSprop: square_avg always; grad_avg when centered; the
 * momentum buffer (zeros at first, unlike SGD's) when momentum > 0. eps is
 * added after the square root. */
__kernel void rmsprop_step(__global float *param, int param_off, __global const float *grad,
                           int grad_off, __global float *square_avg, int square_off,
                           __global float *grad_avg, int grad_avg_off, __global float *buf,
                           int buf_off, float lr, float weight_decay, float alpha,
                           float one_minus_alpha, float eps, float momentum, int centered, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float p = param[param_off + i];
    float g = grad[grad_off + i];
    if (weight_decay != 0.0f)
        g = g + weight_decay * p;
    float sq = square_avg[square_off + i] * alpha + one_minus_alpha * g * g;
    square_avg[square_off + i] = sq;
    float avg;
    if (centered) {
        float ga = grad_avg[grad_avg_off + i] * alpha + one_minus_alpha * g;
        grad_avg[grad_avg_off + i] = ga;
        avg = sqrt(sq + (-1.0f) * ga * ga);
    } else {
        avg = sqrt(sq);
    }
    avg = avg + eps;
    if (momentum > 0.0f) {
        float b = buf[buf_off + i] * momentum + g / avg;
        buf[buf_off + i] = b;
        param[param_off + i] = p + (-lr) * b;
    } else {
        param[param_off + i] = p + (-lr) * (g / avg);
    }
}

/* torch.optim.Adam (decoupled = 0: weight decay added to the gradient) and
 * AdamW (decoupled = 1: param *= 1 - lr weight_decay first, passed as
 * param_scale). step_size = lr / (1 - beta1^t) and
 * bias2_sqrt = sqrt(1 - beta2^t) are the host's, eps is added after the
 * square root and the bias correction, as PyTorch does.
 *
 * A work-item updates CLG_VW elements (the plan's width: float16s on
 * AVX-512, one float on a GPU) as one vector, the same operations on each
 * lane as on a float: the autoencoder's 29,445 parameters took 70 us a step
 * a float a work-item, all of it arithmetic (a square root and a division
 * each). The last vector of a tensor, where fewer elements remain, goes a
 * float at a time. ADAM_MATH updates p, m and v of type T from g. */
#define ADAM_MATH(T, p, g, m, v)                                                              \
    do {                                                                                      \
        if (decoupled)                                                                        \
            p = p * param_scale;                                                              \
        else if (weight_decay != 0.0f)                                                        \
            g = g + weight_decay * p;                                                         \
        m = m * beta1 + one_minus_beta1 * g;                                                  \
        v = v * beta2 + one_minus_beta2 * g * g;                                              \
        T denom_ = sqrt(v) / bias2_sqrt + eps;                                                \
        p = p + (-step_size) * (m / denom_);                                                  \
    } while (0)

/* Elements e .. e + CLG_VW - 1 of one tensor of n elements (pointers at the
 * tensors' first elements), or those of them below n. */
inline void adam_update(__global float *param, __global const float *grad,
                        __global float *exp_avg, __global float *exp_avg_sq, int e, int n,
                        float beta1, float one_minus_beta1, float beta2, float one_minus_beta2,
                        float step_size, float bias2_sqrt, float eps, float weight_decay,
                        int decoupled, float param_scale)
{
    if (e + CLG_VW <= n) {
        floatw p = VLOADW(param + e), g = VLOADW(grad + e);
        floatw m = VLOADW(exp_avg + e), v = VLOADW(exp_avg_sq + e);
        ADAM_MATH(floatw, p, g, m, v);
        VSTOREW(m, exp_avg + e);
        VSTOREW(v, exp_avg_sq + e);
        VSTOREW(p, param + e);
        return;
    }
    for (int i = e; i < n; i++) {
        float p = param[i], g = grad[i], m = exp_avg[i], v = exp_avg_sq[i];
        ADAM_MATH(float, p, g, m, v);
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        param[i] = p;
    }
}

/* The scalars come packed (PoCL copies each kernel argument into an
 * allocation of its own per launch, see cl/gemm.cl): off holds the four
 * tensors' offsets; h beta1, 1 - beta1, beta2, 1 - beta2, eps, weight_decay,
 * param_scale, then step_size and bias2_sqrt (adam_step: h.s7, h.s8;
 * adam_step4: h.s7-sa and h.sb-se, one per tensor); flags decoupled, then
 * n (adam_step), or the four tensors' ends in work-items, then their sizes
 * (adam_step4). A work-item per CLG_VW elements. */
__kernel void adam_step(__global float *param, __global const float *grad,
                        __global float *exp_avg, __global float *exp_avg_sq, int4 off,
                        float16 h, int2 flags)
{
    int e = get_global_id(0) * CLG_VW;
    if (e >= flags.y)
        return;
    adam_update(param + off.s0, grad + off.s1, exp_avg + off.s2, exp_avg_sq + off.s3, e, flags.y,
                h.s0, h.s1, h.s2, h.s3, h.s7, h.s8, h.s4, h.s5, flags.x, h.s6);
}

/* Adam on four small tensors in one launch (optim.c groups those of at most
 * OPTIM_GROUP_MAX elements: PoCL spends about as long readying a launch as
 * updating such a tensor). Tensor k takes work-items ends[k-1] .. ends[k]
 * - 1 (from 0 for the first), CLG_VW elements each; an unused slot ends
 * where the one before it does. Each tensor has its own step count, so its
 * own step_size and bias2_sqrt. */
#define ADAM_TENSOR(k)                                                                        \
    __global float *p##k, __global const float *g##k, __global float *m##k, __global float *v##k
/* tensor k: items from `first`, size n, offsets off.s(4k) .. s(4k+3),
 * step_size and bias2_sqrt s, b */
#define ADAM_CASE(k, first, n, o0, o1, o2, o3, s, b)                                          \
    adam_update(p##k + off.o0, g##k + off.o1, m##k + off.o2, v##k + off.o3,                   \
                (i - (first)) * CLG_VW, n, h.s0, h.s1, h.s2, h.s3, h.s, h.b, h.s4, h.s5,      \
                flags.s0, h.s6)

__kernel void adam_step4(ADAM_TENSOR(0), ADAM_TENSOR(1), ADAM_TENSOR(2), ADAM_TENSOR(3),
                         int16 off, float16 h, int16 flags)
{
    int i = get_global_id(0);
    if (i < flags.s1)
        ADAM_CASE(0, 0, flags.s5, s0, s1, s2, s3, s7, sb);
    else if (i < flags.s2)
        ADAM_CASE(1, flags.s1, flags.s6, s4, s5, s6, s7, s8, sc);
    else if (i < flags.s3)
        ADAM_CASE(2, flags.s2, flags.s7, s8, s9, sa, sb, s9, sd);
    else if (i < flags.s4)
        ADAM_CASE(3, flags.s3, flags.s8, sc, sd, se, sf, sa, se);
}

/* ---- gradient clipping by global norm (clg_clip_grad_norm) ---- */

/* sumsq[slot] = sum of grad^2 over one tensor: one work-group of CLG_REDUCE_GROUP
 * items, strided partial sums, then a tree in local memory, so the order
 * (and the result) is fixed. */
__kernel void clip_sumsq(__global const float *grad, int grad_off, int n,
                         __global float *sumsq, int sumsq_off, int slot,
                         __local float *partial)
{
    float s = 0.0f;
    for (int i = get_local_id(0); i < n; i += CLG_REDUCE_GROUP) {
        float g = grad[grad_off + i];
        s += g * g;
    }
    s = group_sum(partial, s);
    if (get_local_id(0) == 0)
        sumsq[sumsq_off + slot] = s;
}

/* As torch.nn.utils.clip_grad_norm_: total = norm of the per-tensor norms,
 * grad *= min(max_norm / (total + 1e-6), 1). Every work-item recomputes the
 * total from the `count` slots (a handful), so no other launch is needed;
 * item 0 of the first tensor stores it in sumsq[count] for a caller who
 * asks. */
__kernel void clip_scale(__global float *grad, int grad_off, int n, __global float *sumsq,
                         int sumsq_off, int count, float max_norm, int store_total)
{
    int i = get_global_id(0);
    if (i >= n && !(store_total && i == 0))
        return;
    float total = 0.0f;
    for (int k = 0; k < count; k++) {
        float norm = sqrt(sumsq[sumsq_off + k]);
        total += norm * norm;
    }
    total = sqrt(total);
    float coef = fmin(max_norm / (total + 1e-6f), 1.0f);
    if (i < n)
        grad[grad_off + i] *= coef;
    if (store_total && i == 0)
        sumsq[sumsq_off + count] = total;
}
