/* ops/activation_math.cl: the activation functions and their derivatives,
 * included by the kernels that apply them: ops/activation.cl (the
 * activation ops and the fused bias + activation), ops/conv.cl (the fused
 * convolution + activation) and ops/recurrent.cl (the LSTM and RNN steps).
 * `op` selects the function by its code ACT_<NAME>, which the program is
 * built with (-DACT_RELU=1 ..., OP_KERNEL_OPTIONS made from the list
 * OP_ACTIVATIONS in ops/internal.h, whose first part is clg_activation's
 * CLG_ACTIVATIONS): p0 is leaky_relu's negative slope, softplus's beta (p1
 * its threshold), heaviside's value at 0 (forward only), clamp's min (p1
 * max), elu's alpha. The identity returns x (the fused kernels skip the call
 * for it). Callers pass a constant, so no switch survives into a kernel. Where PyTorch's formulas
 * compare (clamp, elu, selu, hardsigmoid), the comparisons are written as
 * its kernels write them, so that nan and the kinks come out as PyTorch's:
 * ternaries rather than fmin/fmax, which would drop a nan. Full-precision built-ins
 * only (no native_ or half_ variants): gradient checks depend on it.
 *
 * Each function comes for float and for float4 (suffix 4), and for the
 * plan's wider vectors where it has them (see the end), from one macro,
 * so the two cannot drift apart: kernels that take four elements per
 * work-item as float4s run the same formulas (PoCL did not vectorise the
 * one-element kernels across work-items: bias + tanh over 2048 x 100 took
 * 0.61 ms one element per work-item, 0.32 ms four). Constants in ?: are cast
 * to T so that a float4 condition selects per component. */
#ifndef CLGRAD_ACTIVATION_MATH_CL
#define CLGRAD_ACTIVATION_MATH_CL

#ifndef ACT_IDENTITY
#error "the activation codes are build options: OP_KERNEL_OPTIONS in ops/internal.h"
#endif

/* SELU's constants (torch.selu), and their product, which PyTorch's kernel
 * forms in float as this one does. */
#define SELU_ALPHA 1.6732632423543772848170429916717f
#define SELU_SCALE 1.0507009873554804934193349852946f

/* tanh(x) = x P(x^2) / Q(x^2) on |x| <= TANH_X, from which float32's tanh is
 * 1: a rational fit (tools/fit_tanh.py: weighted least squares refined
 * towards minimax) of relative error 1.5e-9 in exact arithmetic and 2.8e-7
 * (5 units of 2^-24) evaluated in float32 by Horner's rule with FMAs;
 * |result| <= 1, exactly +-1 at saturation. The exp-based formula
 * it replaced erred by 3.7e-6 near |x| = 0.004 and took 1.6x as long on
 * float4s (bias + tanh over 2048 x 100 on PoCL, AVX-512: 150 -> 91 us). */
#define TANH_X 7.90531110763549805f
#define TANH_P0 9.999999985e-01f
#define TANH_P1 1.312792325e-01f
#define TANH_P2 3.153411727e-03f
#define TANH_P3 1.168692747e-05f
#define TANH_P4 -2.251384613e-08f
#define TANH_P5 6.476339518e-11f
#define TANH_P6 -1.190443929e-13f
#define TANH_Q1 4.646125497e-01f
#define TANH_Q2 2.469095619e-02f
#define TANH_Q3 2.618981297e-04f

#define ACTIVATION_MATH(T, S)                                                                 \
    /* 1 / (1 + exp(-z)) without overflow: exp only of -|z|. */                               \
    inline T stable_sigmoid##S(T z)                                                           \
    {                                                                                         \
        T e = exp(-fabs(z));                                                                  \
        return z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);                                \
    }                                                                                         \
                                                                                              \
    inline T activation_apply##S(int op, T x, float p0, float p1)                             \
    {                                                                                         \
        switch (op) {                                                                         \
        /* exp(-x) = inf gives 0, not nan */                                                  \
        case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));                                     \
        case ACT_TANH: {                                                                      \
            /* x P(x^2) / Q(x^2) (TANH_P*, TANH_Q*), x clamped to +-TANH_X: only FMAs  \
             * and one division, which PoCL vectorises (its tanh() is a scalar library   \
             * call, exp-based formulas cost an exp). Ternaries keep nan.                 \
             */                                                                               \
            T c = x > TANH_X ? (T)(TANH_X) : (x < -TANH_X ? (T)(-TANH_X) : x), s = c * c;     \
            T p = fma(fma(fma(fma(fma(fma(TANH_P6, s, TANH_P5), s, TANH_P4), s, TANH_P3), s,  \
                                  TANH_P2),                                                   \
                              s, TANH_P1),                                                    \
                          s, TANH_P0);                                                        \
            T q = fma(fma(fma(TANH_Q3, s, TANH_Q2), s, TANH_Q1), s, 1.0f);                    \
            return c * p / q;                                                                 \
        }                                                                                     \
        case ACT_RELU: return x < 0.0f ? (T)(0.0f) : x; /* keeps nan, as torch.relu */        \
        case ACT_LEAKY_RELU: return x > 0.0f ? x : x * p0;                                    \
        case ACT_SOFTPLUS: {                                                                  \
            /* log1p(exp(bx)) = max(bx, 0) + log1p(exp(-|bx|)): no overflow for any           \
             * threshold */                                                                   \
            T bx = x * p0;                                                                    \
            return bx > p1 ? x : (fmax(bx, 0.0f) + log1p(exp(-fabs(bx)))) / p0;               \
        }                                                                                     \
        case ACT_HEAVISIDE: /* nan -> 0, as torch */                                          \
            return x == 0.0f ? (T)(p0) : (x > 0.0f ? (T)(1.0f) : (T)(0.0f));                  \
        case ACT_CLAMP: { /* min > max gives max everywhere, as torch.clamp */                \
            T lo = x < p0 ? (T)(p0) : x;                                                      \
            return lo > p1 ? (T)(p1) : lo;                                                    \
        }                                                                                     \
        case ACT_ELU: return x <= 0.0f ? p0 * expm1(x) : x;                                   \
        case ACT_SELU:                                                                        \
            return x <= 0.0f ? (SELU_ALPHA * SELU_SCALE) * expm1(x) : SELU_SCALE * x;         \
        case ACT_HARDSIGMOID: { /* relu6(x + 3) / 6 */                                        \
            T t = x + 3.0f;                                                                   \
            t = t < 0.0f ? (T)(0.0f) : t;                                                     \
            return (t > 6.0f ? (T)(6.0f) : t) / 6.0f;                                         \
        }                                                                                     \
        default: return x; /* ACT_IDENTITY */                                                 \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    /* g f'(x), from the input x or the output y, whichever PyTorch uses. */                  \
    inline T activation_partial##S(int op, T g, T x, T y, float p0, float p1)                 \
    {                                                                                         \
        switch (op) {                                                                         \
        case ACT_SIGMOID: return g * (1.0f - y) * y;                                          \
        case ACT_TANH: return g * (1.0f - y * y);                                             \
        /* relu'(0) = 0; nan passes g, as torch */                                            \
        case ACT_RELU: return y <= 0.0f ? (T)(0.0f) : g;                                      \
        case ACT_LEAKY_RELU: return x > 0.0f ? g : g * p0;                                    \
        case ACT_SOFTPLUS: {                                                                  \
            T bx = x * p0;                                                                    \
            return bx > p1 ? g : g * stable_sigmoid##S(bx);                                   \
        }                                                                                     \
        /* heaviside has no derivative. clamp: bounds included; nan gives 0. */               \
        case ACT_CLAMP: return x >= p0 && x <= p1 ? g : (T)(0.0f);                            \
        case ACT_ELU: return x <= 0.0f ? g * p0 * exp(x) : g; /* elu'(0) = alpha */           \
        case ACT_SELU:                                                                        \
            return x <= 0.0f ? g * (SELU_ALPHA * SELU_SCALE) * exp(x) : g * SELU_SCALE;       \
        case ACT_HARDSIGMOID: /* 0 at -3 and 3 themselves */                                  \
            return x > -3.0f && x < 3.0f ? g * (1.0f / 6.0f) : (T)(0.0f);                     \
        default: return g; /* ACT_IDENTITY */                                                 \
        }                                                                                     \
    }

ACTIVATION_MATH(float, )
ACTIVATION_MATH(float4, 4)

/* And for the plan's vector width CLG_VW when wider (8, 16: the recurrent
 * steps, ops/recurrent.cl), suffix the width. */
#ifndef CLG_VW
#define CLG_VW 4
#endif
/* Loads and stores of W floats, W = 1, 4, 8 or 16, for the kernels stamped
 * out per width (ops/activation.cl, ops/recurrent.cl). */
#define VLOAD1(p) (*(p))
#define VSTORE1(v, p) (*(p) = (v))
#define VLOAD4(p) vload4(0, (p))
#define VSTORE4(v, p) vstore4((v), 0, (p))
#define VLOAD8(p) vload8(0, (p))
#define VSTORE8(v, p) vstore8((v), 0, (p))
#define VLOAD16(p) vload16(0, (p))
#define VSTORE16(v, p) vstore16((v), 0, (p))

#define ACTIVATION_MATH_WIDTH_(W) ACTIVATION_MATH(float##W, W)
#define ACTIVATION_MATH_WIDTH(W) ACTIVATION_MATH_WIDTH_(W)
#if CLG_VW == 8 || CLG_VW == 16
ACTIVATION_MATH_WIDTH(CLG_VW)
#endif

#endif
