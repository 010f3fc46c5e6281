/* tests/support/pointwise.h: the checks every pointwise op takes, shared by
 * tests/ops/test_unary.c and test_activation.c: against check/'s host
 * reference (forward and backward, contiguous and transposed), finite
 * differences, PyTorch's golden cases, and a vector of chosen values. A
 * suite names its ops' variants (pw_spec) and how to call them (pw_family). */
#ifndef CLGRAD_TEST_POINTWISE_H
#define CLGRAD_TEST_POINTWISE_H

#include "support.h"

/* One parameter setting of an op and the inputs the host and gradient checks
 * draw: [low, high), pushed min_abs away from 0 (kinks); then any draw within
 * 0.05 of one of the n_kinks kinks elsewhere (clamp's bounds, hardsigmoid's
 * -3 and 3) moved 0.05 from it, so that finite differences do not straddle
 * it. */
typedef struct pw_variant {
    float p0, p1; /* the op's parameters: pow's exponent, affine's scale and shift,
                     leaky_relu's slope, softplus's beta and threshold, ... */
    float low, high, min_abs;
    int n_kinks;
    float kinks[2];
} pw_variant;

/* Must list the variants in the order the golden generator (tools/golden/)
 * does: golden cases are named "<op>.<variant>.<shape>". */
typedef struct pw_spec {
    const char *name;
    chk_pointwise kind; /* the host reference: chk_pointwise_f, _df (check/) */
    int n_variants;
    pw_variant v[5];
    bool edge; /* the fixture has "<op>.<variant>.edge": inputs at kinks and thresholds */
    bool odd;  /* ... and "<op>.<variant>.odd", a (3, 5, 7) input */
} pw_spec;

/* A suite's ops: their golden file (tests/golden/<golden>.safetensors) and
 * the op of a spec's variant applied to x. */
typedef struct pw_family {
    const char *golden;
    clg_tensor *(*apply)(const pw_spec *spec, int variant, clg_tensor *x);
} pw_family;

/* n inputs for variant v: see pw_variant. */
void pw_draw(float *x, size_t n, uint64_t seed, const pw_variant *v);

/* Forward and backward against the host, on a contiguous (2,3,4) input and
 * on the transpose of a (4,3) one. The op runs twice on the same input and
 * the results are added, so backward both writes (first visit) and
 * accumulates (second) into the same gradient: dx = 2 g f'(x). heaviside is
 * checked forward only, and that its result does not require a gradient. */
void pw_check_matches_host(const pw_family *family, const pw_spec *spec);
/* Finite differences on a (2,3) input and through a transposed (3,2) one. */
void pw_check_gradcheck(const pw_family *family, const pw_spec *spec);
/* PyTorch's forward and backward (heaviside: forward) on shapes of rank 0
 * to 3, a transposed input, and where the fixture has them the kinks and
 * thresholds (edge) and an odd-sized input. */
void pw_check_golden(const pw_family *family, const pw_spec *spec);
/* f(x) and d/dx sum(f(x) g) for a vector of n values, through the library. */
void pw_eval_vector(clg_context *ctx, const pw_family *family, const pw_spec *spec, int v,
                    const float *x, const float *g, int n, float *out, float *grad);

/* pw_eval_vector at n chosen inputs x with upstream gradient g: the values
 * against want_y and the gradients against want_dx, under the tolerance
 * named `tol`; `what` names them ("d <what>" the gradients). */
void pw_check_points(clg_context *ctx, const pw_family *family, const pw_spec *spec, int v, int n,
                     const float *x, const float *g, const float *want_y, const float *want_dx,
                     const char *tol, const char *what);

/* test_<op>_matches_host, _gradcheck and _golden for a spec of a family. */
#define PW_OP_TESTS(op, family, spec)                                                              \
    START_TEST(test_##op##_matches_host)                                                           \
    {                                                                                              \
        pw_check_matches_host(&family, &spec);                                                     \
    }                                                                                              \
    END_TEST                                                                                       \
    START_TEST(test_##op##_gradcheck)                                                              \
    {                                                                                              \
        pw_check_gradcheck(&family, &spec);                                                        \
    }                                                                                              \
    END_TEST                                                                                       \
    START_TEST(test_##op##_golden)                                                                 \
    {                                                                                              \
        pw_check_golden(&family, &spec);                                                           \
    }                                                                                              \
    END_TEST

#endif
