/* ops/unary.cl: elementwise math on one tensor, forward and backward (see
 * ops/unary.c for the formulas). The helpers take an op code: 0 neg, 1 exp,
 * 2 log, 3 sqrt, 4 abs, 5 pow (p0 the exponent), 6 affine (x p0 + p1); each
 * kernel is stamped out for one of them by ops/map.cl's macros.
 * Full-precision built-ins only (no native_ or half_ variants): gradient
 * checks depend on it. */
#include "ops/map.cl"

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
inline float unary_partial(int op, float g, float x, float y, float p0, float p1)
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

MAP_FORWARD(unary, neg, unary_apply, 0)
MAP_FORWARD(unary, exp, unary_apply, 1)
MAP_FORWARD(unary, log, unary_apply, 2)
MAP_FORWARD(unary, sqrt, unary_apply, 3)
MAP_FORWARD(unary, abs, unary_apply, 4)
MAP_FORWARD(unary, pow, unary_apply, 5)
MAP_FORWARD(unary, affine, unary_apply, 6)
MAP_BACKWARD(unary, neg, unary_partial, 0)
MAP_BACKWARD(unary, exp, unary_partial, 1)
MAP_BACKWARD(unary, log, unary_partial, 2)
MAP_BACKWARD(unary, sqrt, unary_partial, 3)
MAP_BACKWARD(unary, abs, unary_partial, 4)
MAP_BACKWARD(unary, pow, unary_partial, 5)
MAP_BACKWARD(unary, affine, unary_partial, 6)
