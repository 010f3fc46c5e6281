/* ops/activation_math.cl: the activation functions and their derivatives,
 * included by the kernels that apply them: ops/activation.cl (the
 * activation ops and the fused bias + activation), ops/conv.cl (the fused
 * convolution + activation) and ops/recurrent.cl (the LSTM and RNN steps).
 * `op` selects the function: 0 sigmoid, 1 tanh,
 * 2 relu, 3 leaky_relu (p0 the negative slope), 4 softplus (p0 beta, p1
 * threshold), 5 heaviside (p0 the value at 0; forward only). Callers pass a
 * constant, so no switch survives into a kernel. Full-precision built-ins
 * only (no native_ or half_ variants): gradient checks depend on it. */
#ifndef CLGRAD_ACTIVATION_MATH_CL
#define CLGRAD_ACTIVATION_MATH_CL

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

#endif
