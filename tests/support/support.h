/* tests/support/support.h: what every Check suite shares: a context (or exit
 * 77, meson's skip, when there is no OpenCL device), the tolerance table,
 * comparisons, finite-difference gradient checks and PyTorch golden fixtures. */
#ifndef CLGRAD_TEST_SUPPORT_H
#define CLGRAD_TEST_SUPPORT_H

#include <check.h>
#include <clgrad/clgrad.h>

#include "check/check.h"

/* A fresh context on the default device; exits 77 when no device exists.
 * Destroy with clg_context_destroy. */
clg_context *test_context(void);
/* test_context under CLGRAD_LOOP_LIMIT=limit (read when the context is
 * created; unset again after): a plan that bounds a work-item's loops as
 * Mesa's llvmpipe does at 65,535, so the paths that fit or refuse run on
 * any device. */
clg_context *test_context_loop_limit(const char *limit);
/* `got` (what a call returned) is NULL, and the context holds `status` with
 * exactly `message`; the error is cleared. */
void test_expect_error(clg_context *ctx, const void *got, clg_status status, const char *message);
/* The context holds `status` and a message containing every one of the
 * substrings in `parts` (the list ending in NULL); the error is cleared. */
void test_expect_error_parts(clg_context *ctx, clg_status status, const char *const *parts);
/* A call returned `got`, which is `want`, and the context holds `want` with
 * a message containing both `part1` and `part2`; the error is cleared. */
void test_expect_status(clg_context *ctx, clg_status got, clg_status want, const char *part1,
                        const char *part2);
/* `got` (an op's result, or NULL after a failed backward) is NULL, and the
 * context holds CLG_STATUS_DEVICE with a message naming `op` and its loops;
 * the error is cleared. */
void test_expect_loop_refusal(clg_context *ctx, const void *got, const char *op);

/* One row of the tolerance table, check/tolerance.c (shared with `clgrad
 * check`): |got - want| <= atol + rtol |want|; fd_step is the
 * finite-difference step for gradient checks. */
typedef chk_tol test_tol;

/* The row named `name`; aborts the test when there is none. */
const test_tol *test_tol_get(const char *name);

/* Asserts every element is within tolerance, naming `what` and the index. */
void test_assert_close(const float *got, const float *want, size_t n, const test_tol *tol,
                       const char *what);

/* Deterministic values in [low, high): chk_random (splitmix64; not the
 * library's RNG, so tests do not depend on it). */
void test_random(float *x, size_t n, uint64_t seed, float low, float high);

/* For check/'s references, which work in double: x as a malloc'ed array of
 * doubles (free it; asserts success), and doubles rounded into floats. */
double *test_doubles(const float *x, size_t n);
void test_floats(const double *x, float *out, size_t n);

/* A fresh folder /tmp/clgrad-<tag>-XXXXXX; the path is malloc'ed. Asserts
 * success. */
char *test_temp_dir(const char *tag);
/* Removes the files and empty folders in `dir`, then `dir`, and frees the
 * path; asserts each removal, so a test that leaves a stray folder fails. */
void test_remove_temp_dir(char *dir);

/* A persistent float32 tensor holding `data`; asserts success. */
clg_tensor *test_tensor(clg_context *ctx, int rank, const int64_t *shape, const float *data,
                        bool requires_grad);
/* Downloads numel elements into a malloc'ed array (free it); asserts success. */
float *test_download(const clg_tensor *t);

/* Reads the context's counters into *after and asserts that what ran since
 * *before was a steady state: no device allocation, no program build and
 * `host_syncs` host syncs (-1: any number). `what` names it in messages. */
void test_expect_steady(const clg_context *ctx, const clg_counters *before, clg_counters *after,
                        int host_syncs, const char *what);

/* The activations a fused op takes (clg_bias_activation, clg_conv2d_act),
 * each with the slope its tests use, named as in the golden cases. */
typedef struct test_fused_act {
    const char *name;
    clg_activation act;
    float slope;
} test_fused_act;
#define TEST_N_FUSED_ACTS 8
extern const test_fused_act test_fused_acts[TEST_N_FUSED_ACTS];
/* `a` applied to z by its own op, unfused: what the fused op must equal. */
clg_tensor *test_activate(clg_tensor *z, const test_fused_act *a);
/* A fused activation and its derivative on the host, in double (check/'s
 * reference functions; elu's alpha is 1 in the fused ops, slope is
 * leaky_relu's). */
double test_host_act(clg_activation act, double z, double slope);
double test_host_act_d(clg_activation act, double z, double slope);

/* An op under test: returns fn(inputs) or NULL. */
typedef clg_tensor *(*test_op_fn)(clg_tensor *const *inputs, const void *arg);

/* Central-difference check of every input that requires a gradient: the
 * analytic vector-Jacobian product (clg_backward_with a fixed random upstream
 * gradient) against (f(x + h) - f(x - h)) / 2h of the same projection. */
void test_gradcheck(clg_context *ctx, test_op_fn fn, const void *arg, int n_inputs,
                    clg_tensor *const *inputs, const test_tol *tol);

/* tests/golden/<family>.safetensors (made by tools/golden/); asserts it opens. */
clg_safetensors *test_golden_open(clg_context *ctx, const char *family);
/* tests/golden/<family>.safetensors into path, for readers that take a file. */
void test_golden_path(const char *family, char *path, size_t capacity);

/* Runs a golden case written by tools/golden/common.py: inputs "<case>.in0"..,
 * the output "<case>.out", the upstream gradient "<case>.gout" and the input
 * gradients "<case>.grad0".. (present for inputs that require one). Inputs
 * listed in `int_inputs` (bitmask) are int32. Compares forward and backward. */
void test_golden_case(clg_context *ctx, const clg_safetensors *st, const char *case_name,
                      test_op_fn fn, const void *arg, int n_inputs, unsigned int_inputs,
                      const test_tol *tol);

/* ---- training on Fashion-MNIST (the zoo suites) ----
 * Each asserts success, naming the context's error. */

/* The training or test set, from $CLGRAD_FASHION_MNIST or Debian's folder;
 * 784 features, 10 classes. */
clg_dataset *test_fashion_mnist(clg_context *ctx, bool train);
/* An optimizer of `kind` at `lr` over the model's parameters. */
clg_optim *test_optim(clg_context *ctx, const clg_model *model, clg_optim_kind kind, float lr);
/* One training step, the loop of clgrad.h, on a cross-entropy loss; returns
 * the loss, read before clg_step_end (the step's one host sync). */
float test_train_step(clg_context *ctx, clg_model *model, clg_optim *opt, const float *images,
                      const int32_t *labels, int64_t count);
/* Class predictions (argmax on the device) for `count` rows, grad mode off,
 * in batches of 1000; predicted holds count values. */
void test_predict(clg_context *ctx, clg_model *model, const float *images, int64_t count,
                  int32_t *predicted);
/* Test-set accuracy through the confusion matrix, whose entries must add up
 * to the set and whose diagonal must agree with the accuracy. */
double test_accuracy(clg_context *ctx, clg_model *model, const clg_dataset *test);
/* Shuffled epochs of `batch` over `train`, the learning rate decaying
 * linearly from `lr` to 0 over the run: the small steps at the end average
 * out the noise of the last batches, so one epoch gives a steady accuracy.
 * Returns the last step's loss (asserted finite). */
float test_train_epochs(clg_context *ctx, clg_model *model, clg_optim *opt,
                        const clg_dataset *train, int64_t batch, int epochs, float lr,
                        uint64_t seed);
/* Tensor `name` of a fixture, asserting it exists with (rank, shape);
 * `fixture` names the file in the message. */
const void *test_fixture_get(const clg_safetensors *st, const char *fixture, const char *name,
                             int rank, const int64_t *shape);
/* Every tensor of `params` from the fixture's tensor "<prefix><its name>",
 * of its shape: also the check that clgrad names the parameters as
 * PyTorch's state_dict does. */
void test_fixture_load(const clg_safetensors *st, const char *fixture, const char *prefix,
                       const clg_params *params);
/* `steps` training steps of `model` with `opt` (test_train_step) on the
 * fixture's batches "x" (steps, batch, features) and "y" (steps, batch),
 * against PyTorch's losses `loss_name` (steps) in the fixture under the
 * "loss_curve" tolerance; prints the largest relative difference, naming
 * `what`. */
void test_loss_curve(clg_context *ctx, const clg_safetensors *st, const char *fixture,
                     clg_model *model, clg_optim *opt, int steps, int batch, const char *loss_name,
                     const char *what);
/* The performance contract of a training step: after a first step (Adam,
 * lr 1e-3) on the fixture's first batch has built every program and sized
 * the arena, steps 2..5 on its next batches allocate nothing on the device,
 * build nothing, launch kernels and GEMMs, and synchronise only for the
 * loss each step reads. The fixture's "x" and "y" are as test_loss_curve's. */
void test_steady_steps(clg_context *ctx, const clg_safetensors *st, const char *fixture,
                       clg_model *model, int steps, int batch);
/* One epoch of Adam over Fashion-MNIST's training set, batch 64, the
 * learning rate decaying from `lr` to 0 (test_train_epochs, seed 7); returns
 * the test-set accuracy (test_accuracy). */
double test_fashion_mnist_epoch(clg_context *ctx, clg_model *model, float lr);

/* `full`, or `small` when CLGRAD_TEST_SMALL=1: tests/oclgrind.sh sets it so
 * that the suites' largest shapes fit a run under oclgrind, which simulates
 * every work-item; the ordinary run keeps its shapes. A test whose bound
 * depends on the size says how it holds at both. */
int64_t test_size(int64_t full, int64_t small);

/* Runs a suite with Check's normal output; returns the exit status. */
int test_run(Suite *suite);
/* A test case `name` holding the tests (START_TEST names, the list ending in
 * NULL), under a timeout of `timeout` seconds, or Check's default when it is
 * 0. */
TCase *test_case(const char *name, double timeout, const TTest *const *tests);
/* The main of a suite with one case: runs test_case(tcase, timeout, tests)
 * as suite `suite` ("ops/conv"); returns the exit status. */
int test_main(const char *suite, const char *tcase, double timeout, const TTest *const *tests);

#endif
