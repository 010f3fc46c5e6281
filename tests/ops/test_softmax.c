/* tests/ops/test_softmax.c: softmax and log_softmax along an axis
 * (ops/softmax.c) against a host loop in double on transposed views, large
 * inputs (stability), finite differences, PyTorch, and bad axes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

typedef struct softmax_arg {
    bool log_out;
    int axis;
    bool transpose; /* apply to clg_transpose(x, 0, 1) instead of x */
} softmax_arg;

static clg_tensor *run_softmax(clg_tensor *const *in, const void *arg)
{
    const softmax_arg *a = arg;
    clg_tensor *x = a->transpose ? clg_transpose(in[0], 0, 1) : in[0];
    return a->log_out ? clg_log_softmax(x, a->axis) : clg_softmax(x, a->axis);
}

/* check/'s chk_softmax (shared with `clgrad check`) on float arrays */
static void host_softmax(bool log_out, const float *x, int rank, const int64_t *shape, int axis,
                         float *y)
{
    size_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= (size_t)shape[d];
    double *xd = test_doubles(x, n), *yd = test_doubles(x, n);
    chk_softmax(log_out, xd, rank, shape, axis, yd);
    test_floats(yd, y, n);
    free(xd);
    free(yd);
}

/* base (3, 4, 5) seen through clg_transpose(base, 0, 2) as (5, 4, 3): the
 * softmax axis is strided in the input for every choice of axis. */
static void check_against_host(bool log_out)
{
    clg_context *ctx = test_context();
    enum { D0 = 3, D1 = 4, D2 = 5, N = D0 * D1 * D2 };
    float base[N], logical[N];
    test_random(base, N, 80 + log_out, -6, 6);
    for (int i = 0; i < D2; i++)
        for (int j = 0; j < D1; j++)
            for (int k = 0; k < D0; k++)
                logical[(i * D1 + j) * D0 + k] = base[(k * D1 + j) * D2 + i];
    const int64_t view_shape[3] = {D2, D1, D0};
    clg_tensor *t = test_tensor(ctx, 3, (int64_t[]){D0, D1, D2}, base, false);
    for (int axis = -3; axis < 3; axis++) {
        clg_step_begin(ctx);
        clg_tensor *v = clg_transpose(t, 0, 2);
        clg_tensor *out = log_out ? clg_log_softmax(v, axis) : clg_softmax(v, axis);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_rank(out), 3);
        for (int d = 0; d < 3; d++)
            ck_assert_int_eq(clg_tensor_dim(out, d), view_shape[d]);
        float want[N];
        host_softmax(log_out, logical, 3, view_shape, axis < 0 ? axis + 3 : axis, want);
        float *got = test_download(out);
        char what[64];
        snprintf(what, sizeof what, "%s axis %d", log_out ? "log_softmax" : "softmax", axis);
        test_assert_close(got, want, N, test_tol_get("transcendental"), what);
        free(got);
        clg_step_end(ctx);
    }
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}

START_TEST(test_softmax_matches_host)
{
    check_against_host(false);
}
END_TEST
START_TEST(test_log_softmax_matches_host)
{
    check_against_host(true);
}
END_TEST

/* exp(1000) overflows float32: only a softmax that subtracts the maximum
 * gives the softmax of (0, 1, 2) here, and log_softmax stays finite for a
 * probability (e^-1000) that underflows. */
START_TEST(test_softmax_stable_for_large_inputs)
{
    clg_context *ctx = test_context();
    const float x[6] = {1000, 1001, 1002, -1000, 0, -1000};
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){2, 3}, x, false);
    clg_step_begin(ctx);
    float *y = test_download(clg_softmax(t, 1));
    float *ly = test_download(clg_log_softmax(t, -1));
    float want[6], want_log[6];
    host_softmax(false, x, 2, (int64_t[]){2, 3}, 1, want);
    host_softmax(true, x, 2, (int64_t[]){2, 3}, 1, want_log);
    ck_assert_float_eq_tol(want[0], 0.09003057f, 1e-7f); /* softmax(0, 1, 2)[0] */
    test_assert_close(y, want, 6, test_tol_get("transcendental"), "softmax");
    test_assert_close(ly, want_log, 6, test_tol_get("transcendental"), "log_softmax");
    ck_assert_float_eq_tol(ly[3], -1000.0f, 1e-3f);
    free(y);
    free(ly);
    clg_step_end(ctx);
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

static void check_gradients(bool log_out)
{
    clg_context *ctx = test_context();
    float x[24];
    test_random(x, 24, 90 + log_out, -2, 2);
    clg_tensor *t = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, x, true);
    for (int axis = -3; axis < 3; axis++)
        for (int transpose = 0; transpose < 2; transpose++) {
            softmax_arg a = {log_out, axis, transpose};
            test_gradcheck(ctx, run_softmax, &a, 1, &t, test_tol_get("gradcheck"));
        }
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}

START_TEST(test_softmax_gradcheck)
{
    check_gradients(false);
}
END_TEST
START_TEST(test_log_softmax_gradcheck)
{
    check_gradients(true);
}
END_TEST

/* The (case, axis) table of tools/golden/gen_ops_softmax.py. */
START_TEST(test_softmax_golden)
{
    static const struct {
        const char *name;
        int axis;
    } cases[] = {{"r1_a0", 0},   {"r2_a1", 1},   {"r2_a0", 0}, {"r3_a1", 1},
                 {"r3_am3", -3}, {"r4_am1", -1}, {"r4_a2", 2}};
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_softmax");
    for (int log_out = 0; log_out < 2; log_out++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            char name[64];
            snprintf(name, sizeof name, "%s.%s", log_out ? "log_softmax" : "softmax",
                     cases[c].name);
            softmax_arg a = {log_out, cases[c].axis, false};
            test_golden_case(ctx, st, name, run_softmax, &a, 1, 0, test_tol_get("golden"));
        }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_softmax_bad_arguments)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    clg_tensor *ints = clg_tensor_create(ctx, CLG_DTYPE_I32, 1, (int64_t[]){3});
    test_expect_error(ctx, clg_softmax(a, 2), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_softmax: axis 2 is out of range for shape [2, 3]");
    ck_assert_ptr_null(clg_log_softmax(a, -3));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_log_softmax: axis -3 is out of range for shape [2, 3]");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_softmax(ints, 0));
    ck_assert_str_eq(clg_context_error(ctx), "clg_softmax: input must be float32, not an int32 tensor of shape [3]");
    clg_context_clear_error(ctx);
    clg_tensor_destroy(a);
    clg_tensor_destroy(ints);
    clg_context_destroy(ctx);
}
END_TEST

/* Under a bound of 1,024 iterations, a softmax over 400 classes (three
 * passes a row: 1,200) refuses, naming the op; over 300 it runs. The same
 * for cross-entropy's two passes over 600 classes. */
START_TEST(test_softmax_loop_bound)
{
    clg_context *ctx = test_context_loop_limit("1024");
    float *x = calloc(2 * 600, sizeof *x);
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){2, 400}, x, false);
    clg_tensor *wide = test_tensor(ctx, 2, (int64_t[]){2, 600}, x, false);
    clg_tensor *fits = test_tensor(ctx, 2, (int64_t[]){2, 300}, x, false);
    clg_step_begin(ctx);
    test_expect_loop_refusal(ctx, clg_softmax(t, 1), "clg_softmax");
    test_expect_loop_refusal(ctx, clg_log_softmax(t, -1), "clg_log_softmax");
    clg_tensor *labels =
        clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, (int64_t[]){2}, (int32_t[]){0, 1});
    test_expect_loop_refusal(ctx, clg_cross_entropy_loss(wide, labels, CLG_REDUCTION_MEAN),
                        "clg_cross_entropy_loss");
    float *got = test_download(clg_softmax(fits, 1));
    ck_assert_float_eq_tol(got[0], 1.0f / 300, 1e-7f);
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(t);
    clg_tensor_destroy(wide);
    clg_tensor_destroy(fits);
    free(x);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_softmax_matches_host,
                            test_log_softmax_matches_host,
                            test_softmax_stable_for_large_inputs,
                            test_softmax_gradcheck,
                            test_log_softmax_gradcheck,
                            test_softmax_golden,
                            test_softmax_bad_arguments,
                            test_softmax_loop_bound,
                            NULL};
    return test_main("ops/softmax", "softmax", 0, tests);
}
