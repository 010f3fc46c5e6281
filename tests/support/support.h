/* tests/support/support.h: what every Check suite shares: a context (or exit
 * 77, meson's skip, when there is no OpenCL device), the tolerance table,
 * comparisons, finite-difference gradient checks and PyTorch golden fixtures. */
#ifndef CLGRAD_TEST_SUPPORT_H
#define CLGRAD_TEST_SUPPORT_H

#include <check.h>
#include <clgrad/clgrad.h>

/* A fresh context on the default device; exits 77 when no device exists.
 * Destroy with clg_context_destroy. */
clg_context *test_context(void);

/* One row of the tolerance table in support.c: |got - want| <= atol + rtol
 * |want|; fd_step is the finite-difference step for gradient checks. */
typedef struct test_tol {
    const char *name;
    double rtol;
    double atol;
    double fd_step;
    const char *why;
} test_tol;

/* The row named `name`; aborts the test when there is none. */
const test_tol *test_tol_get(const char *name);

/* Asserts every element is within tolerance, naming `what` and the index. */
void test_assert_close(const float *got, const float *want, size_t n, const test_tol *tol,
                       const char *what);

/* Deterministic values in [low, high) (splitmix64; not the library's RNG, so
 * tests do not depend on it). */
void test_random(float *x, size_t n, uint64_t seed, float low, float high);

/* A persistent float32 tensor holding `data`; asserts success. */
clg_tensor *test_tensor(clg_context *ctx, int rank, const int64_t *shape, const float *data,
                        bool requires_grad);
/* Downloads numel elements into a malloc'ed array (free it); asserts success. */
float *test_download(const clg_tensor *t);

/* An op under test: returns fn(inputs) or NULL. */
typedef clg_tensor *(*test_op_fn)(clg_tensor *const *inputs, const void *arg);

/* Central-difference check of every input that requires a gradient: the
 * analytic vector-Jacobian product (clg_backward_with a fixed random upstream
 * gradient) against (f(x + h) - f(x - h)) / 2h of the same projection. */
void test_gradcheck(clg_context *ctx, test_op_fn fn, const void *arg, int n_inputs,
                    clg_tensor *const *inputs, const test_tol *tol);

/* tests/golden/<family>.safetensors (made by tools/golden/); asserts it opens. */
clg_safetensors *test_golden_open(clg_context *ctx, const char *family);

/* Runs a golden case written by tools/golden/common.py: inputs "<case>.in0"..,
 * the output "<case>.out", the upstream gradient "<case>.gout" and the input
 * gradients "<case>.grad0".. (present for inputs that require one). Inputs
 * listed in `int_inputs` (bitmask) are int32. Compares forward and backward. */
void test_golden_case(clg_context *ctx, const clg_safetensors *st, const char *case_name,
                      test_op_fn fn, const void *arg, int n_inputs, unsigned int_inputs,
                      const test_tol *tol);

/* Runs a suite with Check's normal output; returns the exit status. */
int test_run(Suite *suite);

#endif
