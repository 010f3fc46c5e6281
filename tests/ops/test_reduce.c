/* tests/ops/test_reduce.c: sum, mean, max, argmax over an axis and over all
 * elements (ops/reduce.c) against a naive host loop on transposed views,
 * finite differences, PyTorch, a 1e6-element double-precision sum, and the
 * messages for bad arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

enum { SUM, MEAN, MAX, ARGMAX };
static const char *const names[] = {"sum", "mean", "max", "argmax"};

typedef struct axis_arg {
    int op;
    int axis;
    bool keepdim;
    bool transpose; /* reduce clg_transpose(x, 0, 1) instead of x */
} axis_arg;

static clg_tensor *run_axis(clg_tensor *const *in, const void *arg)
{
    const axis_arg *a = arg;
    clg_tensor *x = a->transpose ? clg_transpose(in[0], 0, 1) : in[0];
    switch (a->op) {
    case SUM: return clg_sum(x, a->axis, a->keepdim);
    case MEAN: return clg_mean(x, a->axis, a->keepdim);
    case MAX: return clg_max(x, a->axis, a->keepdim);
    default: return clg_argmax(x, a->axis, a->keepdim);
    }
}

static clg_tensor *run_all(clg_tensor *const *in, const void *arg)
{
    const axis_arg *a = arg;
    clg_tensor *x = a->transpose ? clg_transpose(in[0], 0, 1) : in[0];
    switch (a->op) {
    case SUM: return clg_sum_all(x);
    case MEAN: return clg_mean_all(x);
    default: return clg_max_all(x);
    }
}

/* check/'s chk_reduce (shared with `clgrad check`) on float arrays: out
 * holds the values, idx the first maximum's position (for MAX/ARGMAX). */
static void host_reduce(int op, const float *x, int rank, const int64_t *shape, int axis,
                        float *out, int *idx)
{
    size_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= (size_t)shape[d];
    double *xd = test_doubles(x, n), *outd = test_doubles(x, n);
    chk_reduce(op == SUM ? CHK_SUM : op == MEAN ? CHK_MEAN : CHK_MAX, xd, rank, shape, axis, outd,
               idx);
    test_floats(outd, out, n / (size_t)shape[axis]);
    free(xd);
    free(outd);
}

/* base (3, 4, 5) viewed as its transpose (5, 4, 3): every axis of the view
 * is non-contiguous or strided. logical[] is the view in row-major order. */
#define T0 3
#define T1 4
#define T2 5
static void transposed_logical(const float *base, float *logical)
{
    for (int i = 0; i < T2; i++)
        for (int j = 0; j < T1; j++)
            for (int k = 0; k < T0; k++)
                logical[(i * T1 + j) * T0 + k] = base[(k * T1 + j) * T2 + i];
}

/* Each axis of a transposed view, negative and positive, keepdim both ways,
 * for one op; values and output shapes against host_reduce. */
static void check_axis_op_against_host(int op)
{
    clg_context *ctx = test_context();
    float base[T0 * T1 * T2], logical[T0 * T1 * T2];
    test_random(base, T0 * T1 * T2, 40 + op, -2, 2);
    transposed_logical(base, logical);
    clg_tensor *t = test_tensor(ctx, 3, (int64_t[]){T0, T1, T2}, base, false);
    const int64_t view_shape[3] = {T2, T1, T0};
    for (int axis = -3; axis < 3; axis++)
        for (int keep = 0; keep < 2; keep++) {
            int ax = axis < 0 ? axis + 3 : axis;
            clg_step_begin(ctx);
            clg_tensor *v = clg_transpose(t, 0, 2);
            clg_tensor *out = op == SUM    ? clg_sum(v, axis, keep)
                              : op == MEAN ? clg_mean(v, axis, keep)
                              : op == MAX  ? clg_max(v, axis, keep)
                                           : clg_argmax(v, axis, keep);
            ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
            ck_assert_int_eq(clg_tensor_rank(out), keep ? 3 : 2);
            for (int d = 0, od = 0; d < 3; d++) {
                if (d == ax && !keep)
                    continue;
                ck_assert_int_eq(clg_tensor_dim(out, od++), d == ax ? 1 : view_shape[d]);
            }
            float want[T0 * T1 * T2];
            int want_idx[T0 * T1 * T2];
            host_reduce(op, logical, 3, view_shape, ax, want, want_idx);
            size_t n = (size_t)clg_tensor_numel(out);
            char what[64];
            snprintf(what, sizeof what, "%s axis %d keepdim %d", names[op], axis, keep);
            if (op == ARGMAX) {
                ck_assert_int_eq(clg_tensor_dtype(out), CLG_DTYPE_I32);
                int got[T0 * T1 * T2];
                ck_assert_int_eq(clg_tensor_download(out, got, n), CLG_STATUS_OK);
                for (size_t i = 0; i < n; i++)
                    ck_assert_msg(got[i] == want_idx[i], "%s[%zu]: got %d, want %d", what, i,
                                  got[i], want_idx[i]);
            } else {
                float *got = test_download(out);
                test_assert_close(got, want, n, test_tol_get(op == MAX ? "exact" : "reduction"),
                                  what);
                free(got);
            }
            clg_step_end(ctx);
        }
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}

START_TEST(test_sum_matches_host)
{
    check_axis_op_against_host(SUM);
}
END_TEST
START_TEST(test_mean_matches_host)
{
    check_axis_op_against_host(MEAN);
}
END_TEST
START_TEST(test_max_matches_host)
{
    check_axis_op_against_host(MAX);
}
END_TEST
START_TEST(test_argmax_matches_host)
{
    check_axis_op_against_host(ARGMAX);
}
END_TEST

/* Whole-tensor reductions of a transposed view: rank 0 results, and the same
 * numbers as the host (for max: the value and, through the gradient, the
 * position). */
START_TEST(test_sum_all_matches_host)
{
    clg_context *ctx = test_context();
    float base[T0 * T1 * T2], logical[T0 * T1 * T2];
    test_random(base, T0 * T1 * T2, 50, -2, 2);
    transposed_logical(base, logical);
    double sum = 0;
    float max = -INFINITY;
    for (int i = 0; i < T0 * T1 * T2; i++) {
        sum += logical[i];
        max = fmaxf(max, logical[i]);
    }
    clg_tensor *t = test_tensor(ctx, 3, (int64_t[]){T0, T1, T2}, base, false);
    clg_step_begin(ctx);
    clg_tensor *v = clg_transpose(t, 0, 2);
    clg_tensor *outs[3] = {clg_sum_all(v), clg_mean_all(v), clg_max_all(v)};
    const float want[3] = {(float)sum, (float)(sum / (T0 * T1 * T2)), max};
    for (int op = 0; op < 3; op++) {
        ck_assert_msg(outs[op] != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_rank(outs[op]), 0);
        float got;
        ck_assert_int_eq(clg_tensor_item(outs[op], &got), CLG_STATUS_OK);
        test_assert_close(&got, &want[op], 1, test_tol_get(op == MAX ? "exact" : "reduction"),
                          names[op]);
    }
    clg_step_end(ctx);
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

/* 1e6 elements, summed on the device in float32 and on the host in double,
 * contiguous and as a transposed view. A single running float sum of these
 * terms is off by 5e-6 relative; blocked and tree sums stay within 1 ulp.
 * The small size (300 x 200, for oclgrind) has fewer terms, so the same
 * bound holds with room to spare. */
START_TEST(test_sum_all_1e6_elements)
{
    clg_context *ctx = test_context();
    const int64_t ROWS = test_size(1000, 300), COLS = test_size(1000, 200), N = ROWS * COLS;
    float *x = malloc((size_t)N * sizeof *x);
    test_random(x, (size_t)N, 60, 0, 1);
    double sum = 0;
    for (int64_t i = 0; i < N; i++)
        sum += x[i];
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){ROWS, COLS}, x, false);
    const test_tol *tol = test_tol_get("sum_1e6");
    for (int transpose = 0; transpose < 2; transpose++) {
        clg_step_begin(ctx);
        clg_tensor *v = transpose ? clg_transpose(t, 0, 1) : t;
        float got[2], want[2] = {(float)sum, (float)(sum / N)};
        ck_assert_int_eq(clg_tensor_item(clg_sum_all(v), &got[0]), CLG_STATUS_OK);
        ck_assert_int_eq(clg_tensor_item(clg_mean_all(v), &got[1]), CLG_STATUS_OK);
        test_assert_close(got, want, 2, tol, transpose ? "transposed sum, mean" : "sum, mean");
        clg_step_end(ctx);
    }
    clg_tensor_destroy(t);
    free(x);
    clg_context_destroy(ctx);
}
END_TEST

/* The order of additions depends only on the element count: the same input
 * gives the same bits on every run. */
START_TEST(test_sum_all_deterministic)
{
    clg_context *ctx = test_context();
    enum { N = 100003 };
    float *x = malloc(N * sizeof *x);
    test_random(x, N, 61, -1, 1);
    clg_tensor *t = test_tensor(ctx, 1, (int64_t[]){N}, x, false);
    float first = 0;
    for (int run = 0; run < 5; run++) {
        clg_step_begin(ctx);
        float got;
        ck_assert_int_eq(clg_tensor_item(clg_sum_all(t), &got), CLG_STATUS_OK);
        if (run == 0)
            first = got;
        ck_assert_msg(memcmp(&got, &first, sizeof got) == 0, "run %d: %.9g differs from %.9g", run,
                      (double)got, (double)first);
        clg_step_end(ctx);
    }
    clg_tensor_destroy(t);
    free(x);
    clg_context_destroy(ctx);
}
END_TEST

/* Ties: the first maximum gets the index and the whole gradient, over an
 * axis and over all elements. NaN counts as the largest value. */
START_TEST(test_max_ties_go_to_first)
{
    clg_context *ctx = test_context();
    /* (2, 4): row 0 ties at columns 1 and 2; row 1 holds a NaN at column 3 */
    const float x[8] = {1, 3, 3, 2, 5, 5, 0, NAN};
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){2, 4}, x, true);
    clg_step_begin(ctx);
    clg_tensor *idx = clg_argmax(t, 1, false);
    clg_tensor *max = clg_max(t, 1, false);
    int got_idx[2];
    ck_assert_int_eq(clg_tensor_download(idx, got_idx, 2), CLG_STATUS_OK);
    ck_assert_int_eq(got_idx[0], 1);
    ck_assert_int_eq(got_idx[1], 3);
    float got[2];
    ck_assert_int_eq(clg_tensor_download(max, got, 2), CLG_STATUS_OK);
    ck_assert_float_eq(got[0], 3);
    ck_assert(isnan(got[1]));
    ck_assert_int_eq(clg_backward(clg_sum_all(max)), CLG_STATUS_OK);
    float *g = test_download(clg_tensor_grad(t));
    const float want_g[8] = {0, 1, 0, 0, 0, 0, 0, 1};
    test_assert_close(g, want_g, 8, test_tol_get("exact"), "max gradient");
    free(g);
    clg_step_end(ctx);

    /* whole tensor: 5 at positions 4 and 5 (no NaN this time) */
    const float y[8] = {1, 3, 3, 2, 5, 5, 0, -1};
    clg_tensor_upload(t, y, 8);
    clg_tensor_zero_grad(t);
    clg_step_begin(ctx);
    ck_assert_int_eq(clg_backward(clg_max_all(t)), CLG_STATUS_OK);
    g = test_download(clg_tensor_grad(t));
    const float want_all[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    test_assert_close(g, want_all, 8, test_tol_get("exact"), "max_all gradient");
    free(g);
    clg_step_end(ctx);
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

/* Distinct values at least 0.25 apart (a permutation of a grid), so the
 * finite-difference step never changes which element is the maximum. */
static void untied(float *x, int n, int seed)
{
    for (int i = 0; i < n; i++)
        x[i] = (float)((i * 7 + seed) % n) * 0.25f - 0.125f * (float)n;
}

START_TEST(test_sum_gradcheck)
{
    clg_context *ctx = test_context();
    float x[24];
    test_random(x, 24, 70, -2, 2);
    clg_tensor *t = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, x, true);
    for (int op = SUM; op <= MEAN; op++)
        for (int axis = -3; axis < 3; axis += 2) {
            axis_arg a = {op, axis, axis > 0, false};
            test_gradcheck(ctx, run_axis, &a, 1, &t, test_tol_get("gradcheck"));
            a.transpose = true;
            test_gradcheck(ctx, run_axis, &a, 1, &t, test_tol_get("gradcheck"));
        }
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_max_gradcheck)
{
    clg_context *ctx = test_context();
    float x[24];
    untied(x, 24, 3);
    clg_tensor *t = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, x, true);
    for (int axis = -3; axis < 3; axis++) {
        axis_arg a = {MAX, axis, axis % 2 == 0, false};
        test_gradcheck(ctx, run_axis, &a, 1, &t, test_tol_get("gradcheck"));
        a.transpose = true;
        test_gradcheck(ctx, run_axis, &a, 1, &t, test_tol_get("gradcheck"));
    }
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_sum_all_gradcheck)
{
    clg_context *ctx = test_context();
    float x[24];
    untied(x, 24, 5);
    clg_tensor *t = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, x, true);
    for (int op = SUM; op <= MAX; op++)
        for (int transpose = 0; transpose < 2; transpose++) {
            axis_arg a = {op, 0, false, transpose};
            test_gradcheck(ctx, run_all, &a, 1, &t, test_tol_get("gradcheck"));
        }
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

/* Two reductions of one input: the second backward adds to the first's
 * gradient instead of overwriting it. */
static clg_tensor *run_max_plus_mean(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_add(clg_max(in[0], 1, false), clg_mean(in[0], 1, false));
}

START_TEST(test_max_gradients_accumulate)
{
    clg_context *ctx = test_context();
    float x[12];
    untied(x, 12, 1);
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){3, 4}, x, true);
    test_gradcheck(ctx, run_max_plus_mean, NULL, 1, &t, test_tol_get("gradcheck"));
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

/* The (case, axis, keepdim) table of tools/golden/gen_ops_reduce.py. */
static const struct {
    const char *name;
    int axis;
    bool keepdim;
} golden_axis[] = {
    {"r1_a0", 0, false},   {"r1_a0_keep", 0, true},   {"r2_a0", 0, false}, {"r3_a1_keep", 1, true},
    {"r3_am1", -1, false}, {"r4_am3_keep", -3, true}, {"r4_a0", 0, false}, {"r4_a3", 3, false},
};
#define N_GOLDEN_AXIS (sizeof golden_axis / sizeof golden_axis[0])

START_TEST(test_reduce_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_reduce");
    char name[64];
    for (int op = SUM; op <= MAX; op++)
        for (size_t c = 0; c < N_GOLDEN_AXIS; c++) {
            axis_arg a = {op, golden_axis[c].axis, golden_axis[c].keepdim, false};
            snprintf(name, sizeof name, "%s.%s", names[op], golden_axis[c].name);
            test_golden_case(ctx, st, name, run_axis, &a, 1, 0, test_tol_get("golden"));
        }
    const char *all_names[] = {"sum_all", "mean_all", "max_all"};
    const char *all_cases[] = {"r1", "r3", "r4", "big"};
    for (int op = SUM; op <= MAX; op++)
        for (size_t c = 0; c < 4; c++) {
            axis_arg a = {op, 0, false, false};
            snprintf(name, sizeof name, "%s.%s", all_names[op], all_cases[c]);
            test_golden_case(ctx, st, name, run_all, &a, 1, 0, test_tol_get("golden"));
        }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* argmax is int32, which test_golden_case (float outputs) does not compare:
 * indices must match torch.argmax exactly. */
START_TEST(test_argmax_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_reduce");
    for (size_t c = 0; c < N_GOLDEN_AXIS; c++) {
        char name[64];
        snprintf(name, sizeof name, "argmax.%s.in0", golden_axis[c].name);
        clg_tensor *x = clg_safetensors_tensor(st, ctx, name);
        ck_assert_msg(x != NULL, "%s", clg_context_error(ctx));
        snprintf(name, sizeof name, "argmax.%s.out", golden_axis[c].name);
        clg_dtype dtype;
        int rank;
        const int64_t *shape;
        const void *data;
        ck_assert_msg(clg_safetensors_get(st, name, &dtype, &rank, &shape, &data), "no %s", name);
        ck_assert_int_eq(dtype, CLG_DTYPE_I32);
        clg_step_begin(ctx);
        clg_tensor *out = clg_argmax(x, golden_axis[c].axis, golden_axis[c].keepdim);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_rank(out), rank);
        for (int d = 0; d < rank; d++)
            ck_assert_int_eq(clg_tensor_dim(out, d), shape[d]);
        size_t n = (size_t)clg_tensor_numel(out);
        int32_t got[64];
        ck_assert_uint_le(n, 64);
        ck_assert_int_eq(clg_tensor_download(out, got, n), CLG_STATUS_OK);
        ck_assert_msg(memcmp(got, data, n * sizeof *got) == 0, "%s differs", name);
        clg_step_end(ctx);
        clg_tensor_destroy(x);
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_reduce_bad_arguments)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    clg_tensor *empty = test_tensor(ctx, 2, (int64_t[]){0, 3}, NULL, false);
    clg_tensor *ints = clg_tensor_create(ctx, CLG_DTYPE_I32, 1, (int64_t[]){4});
    test_expect_error(ctx, clg_sum(a, 2, false), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_sum: axis 2 is out of range for shape [2, 3]");
    test_expect_error(ctx, clg_mean(a, -3, true), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_mean: axis -3 is out of range for shape [2, 3]");
    test_expect_error(ctx, clg_max(a, 5, false), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_max: axis 5 is out of range for shape [2, 3]");
    test_expect_error(ctx, clg_argmax(a, -4, false), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_argmax: axis -4 is out of range for shape [2, 3]");
    test_expect_error(ctx, clg_max(empty, 0, false), CLG_STATUS_SHAPE,
                      "clg_max: shape [0, 3] has no elements to take the maximum of");
    test_expect_error(ctx, clg_max_all(empty), CLG_STATUS_SHAPE,
                      "clg_max_all: shape [0, 3] has no elements to take the maximum of");
    test_expect_error(ctx, clg_sum_all(ints), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_sum_all: input must be float32, not an int32 tensor of shape [4]");
    ck_assert_ptr_null(clg_sum(NULL, 0, false));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);

    /* empty but valid: sums of nothing are 0, the mean of nothing is NaN */
    clg_step_begin(ctx);
    float s, m, col[3];
    ck_assert_int_eq(clg_tensor_item(clg_sum_all(empty), &s), CLG_STATUS_OK);
    ck_assert_int_eq(clg_tensor_item(clg_mean_all(empty), &m), CLG_STATUS_OK);
    ck_assert_int_eq(clg_tensor_download(clg_sum(empty, 0, false), col, 3), CLG_STATUS_OK);
    ck_assert_float_eq(s, 0);
    ck_assert(isnan(m));
    ck_assert_float_eq(col[0] + col[1] + col[2], 0);
    clg_step_end(ctx);
    clg_tensor_destroy(a);
    clg_tensor_destroy(empty);
    clg_tensor_destroy(ints);
    clg_context_destroy(ctx);
}
END_TEST

/* Under a bound of 1,024 iterations: a whole-tensor sum and max of 4.5M
 * elements take more groups than the plan's (on the cpu plan, 64 groups of
 * 64 would loop 1,099 times each) and match the host; a sum, mean or max
 * along an axis of 2,000 refuses, naming the op. */
START_TEST(test_reduce_loop_bound)
{
    clg_context *ctx = test_context_loop_limit("1024");
    const int64_t N = test_size(4500000, 5000);
    float *x = malloc((size_t)N * sizeof *x);
    test_random(x, (size_t)N, 61, -1, 1);
    double sum = 0;
    int64_t best = 0;
    for (int64_t i = 0; i < N; i++) {
        sum += x[i];
        best = x[i] > x[best] ? i : best;
    }
    clg_tensor *t = test_tensor(ctx, 1, (int64_t[]){N}, x, false);
    clg_step_begin(ctx);
    float got[2], want[2] = {(float)sum, x[best]};
    ck_assert_msg(clg_tensor_item(clg_sum_all(t), &got[0]) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
    ck_assert_msg(clg_tensor_item(clg_max_all(t), &got[1]) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
    test_assert_close(got, want, 2, test_tol_get("sum_1e6"), "sum_all, max_all");
    clg_step_end(ctx);
    clg_tensor_destroy(t);
    free(x);

    float *y = calloc(2000 * 3, sizeof *y);
    clg_tensor *u = test_tensor(ctx, 2, (int64_t[]){2000, 3}, y, false);
    clg_step_begin(ctx);
    test_expect_loop_refusal(ctx, clg_sum(u, 0, false), "clg_sum");
    test_expect_loop_refusal(ctx, clg_mean(u, 0, false), "clg_mean");
    test_expect_loop_refusal(ctx, clg_max(u, 0, false), "clg_max");
    /* along the short axis it fits */
    ck_assert_ptr_nonnull(clg_sum(u, 1, false));
    clg_step_end(ctx);
    clg_tensor_destroy(u);
    free(y);
    clg_context_destroy(ctx);
}
END_TEST

/* A sum along an axis of 70,000, past llvmpipe's real bound of 65,535
 * iterations a work-item: the right sums, or (on a driver with the bound)
 * CLG_STATUS_DEVICE naming the op, never the sum of a prefix. */
START_TEST(test_sum_axis_past_driver_bound)
{
    clg_context *ctx = test_context();
    const int64_t N = test_size(70000, 3000);
    /* small integers: every partial sum is exact in float32, in any order */
    float *x = malloc((size_t)N * 2 * sizeof *x);
    double want_d[2] = {0, 0};
    for (int64_t i = 0; i < N; i++)
        for (int j = 0; j < 2; j++) {
            x[i * 2 + j] = (float)((i * (j + 3)) % 7);
            want_d[j] += x[i * 2 + j];
        }
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){N, 2}, x, false);
    clg_step_begin(ctx);
    clg_tensor *s = clg_sum(t, 0, false);
    if (s) {
        float *got = test_download(s);
        /* a sum cut at 65,535 terms would miss thousands */
        ck_assert_float_eq(got[0], (float)want_d[0]);
        ck_assert_float_eq(got[1], (float)want_d[1]);
        free(got);
    } else {
        test_expect_loop_refusal(ctx, s, "clg_sum");
    }
    clg_step_end(ctx);
    clg_tensor_destroy(t);
    free(x);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_sum_matches_host,
                            test_mean_matches_host,
                            test_max_matches_host,
                            test_argmax_matches_host,
                            test_sum_all_matches_host,
                            test_sum_all_1e6_elements,
                            test_sum_all_deterministic,
                            test_max_ties_go_to_first,
                            test_sum_gradcheck,
                            test_max_gradcheck,
                            test_sum_all_gradcheck,
                            test_max_gradients_accumulate,
                            test_reduce_golden,
                            test_argmax_golden,
                            test_reduce_bad_arguments,
                            test_reduce_loop_bound,
                            test_sum_axis_past_driver_bound,
                            NULL};
    return test_main("ops/reduce", "reduce", 0, tests);
}
