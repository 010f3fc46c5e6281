/* tests/ops/test_shape.c: clg_transpose and clg_reshape (ops/shape.c). */
#include <stdlib.h>

#include "support.h"

static clg_tensor *run_transpose(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_transpose(in[0], 0, 2);
}

static clg_tensor *run_reshape(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_reshape(in[0], 2, (int64_t[]){4, -1});
}

static clg_tensor *run_reshape_t(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_reshape(clg_transpose(in[0], 0, 1), 1, (int64_t[]){-1});
}

START_TEST(test_transpose_matches_host)
{
    clg_context *ctx = test_context();
    float a[24];
    test_random(a, 24, 1, -1, 1);
    clg_tensor *t = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, a, false);
    clg_step_begin(ctx);
    clg_tensor *v = clg_transpose(t, 0, -1);
    ck_assert_msg(v != NULL, "%s", clg_context_error(ctx));
    ck_assert(!clg_tensor_is_contiguous(v));
    ck_assert_int_eq(clg_tensor_dim(v, 0), 4);
    ck_assert_int_eq(clg_tensor_dim(v, 2), 2);
    float *got = test_download(v), want[24];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 2; k++)
                want[(i * 3 + j) * 2 + k] = a[(k * 3 + j) * 4 + i];
    test_assert_close(got, want, 24, test_tol_get("exact"), "transpose");
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_reshape_views_and_copies)
{
    clg_context *ctx = test_context();
    float a[6] = {1, 2, 3, 4, 5, 6};
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){2, 3}, a, false);
    clg_step_begin(ctx);
    clg_counters before, after;
    clg_counters_get(ctx, &before);
    clg_tensor *r = clg_reshape(t, 3, (int64_t[]){3, 1, -1});
    clg_counters_get(ctx, &after);
    ck_assert_msg(r != NULL, "%s", clg_context_error(ctx));
    ck_assert_uint_eq(after.kernel_launches, before.kernel_launches); /* a view */
    ck_assert_int_eq(clg_tensor_dim(r, 2), 2);
    clg_tensor *rt = clg_reshape(clg_transpose(t, 0, 1), 1, (int64_t[]){6});
    float *got = test_download(rt);
    float want[6] = {1, 4, 2, 5, 3, 6};
    test_assert_close(got, want, 6, test_tol_get("exact"), "reshape of transpose");
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_shape_gradcheck)
{
    clg_context *ctx = test_context();
    float a[24];
    test_random(a, 24, 2, -1, 1);
    clg_tensor *t = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, a, true);
    clg_tensor *m = test_tensor(ctx, 2, (int64_t[]){3, 5}, a, true);
    test_gradcheck(ctx, run_transpose, NULL, 1, &t, test_tol_get("gradcheck"));
    test_gradcheck(ctx, run_reshape, NULL, 1, &t, test_tol_get("gradcheck"));
    test_gradcheck(ctx, run_reshape_t, NULL, 1, &m, test_tol_get("gradcheck"));
    clg_tensor_destroy(t);
    clg_tensor_destroy(m);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_shape_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_shape");
    test_golden_case(ctx, st, "transpose", run_transpose, NULL, 1, 0, test_tol_get("exact"));
    test_golden_case(ctx, st, "reshape", run_reshape, NULL, 1, 0, test_tol_get("exact"));
    test_golden_case(ctx, st, "reshape_t", run_reshape_t, NULL, 1, 0, test_tol_get("exact"));
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_shape_errors)
{
    clg_context *ctx = test_context();
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    test_expect_error(ctx, clg_reshape(t, 2, (int64_t[]){4, -1}), CLG_STATUS_SHAPE,
                      "clg_reshape: cannot reshape [2, 3] (6 elements) to [4, -1]");
    ck_assert_ptr_null(clg_transpose(t, 0, 2));
    ck_assert_str_eq(clg_context_error(ctx), "clg_transpose: axis 2 is out of range for shape [2, 3]");
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

/* clg_flatten (ops/shape.c): a reshape merging axes start.. into one, with
 * negative axes, a transposed (copied) input, gradients through it, and an
 * axis out of range. */
static clg_tensor *run_flatten_t(clg_tensor *const *in, const void *arg)
{
    return clg_flatten(clg_transpose(in[0], 1, 3), *(const int *)arg);
}

START_TEST(test_flatten_merges_trailing_axes)
{
    clg_context *ctx = test_context();
    float a[2 * 3 * 4 * 5];
    test_random(a, 120, 3, -1, 1);
    clg_tensor *t = test_tensor(ctx, 4, (int64_t[]){2, 3, 4, 5}, a, true);
    clg_step_begin(ctx);
    const int starts[] = {0, 1, 2, 3, -3, -1};
    const int64_t cols[] = {120, 60, 20, 5, 60, 5};
    for (int s = 0; s < 6; s++) {
        clg_tensor *f = clg_flatten(t, starts[s]);
        ck_assert_msg(f != NULL, "%s", clg_context_error(ctx));
        int start = starts[s] < 0 ? starts[s] + 4 : starts[s];
        ck_assert_int_eq(clg_tensor_rank(f), start + 1);
        ck_assert_int_eq(clg_tensor_dim(f, -1), cols[s]);
        for (int d = 0; d < start; d++)
            ck_assert_int_eq(clg_tensor_dim(f, d), clg_tensor_dim(t, d));
        float *got = test_download(f);
        test_assert_close(got, a, 120, test_tol_get("exact"), "flatten keeps the order");
        free(got);
    }
    /* a transposed view is copied in row-major order of the view */
    int one = 1;
    clg_tensor *f = run_flatten_t((clg_tensor *[]){t}, &one);
    ck_assert_int_eq(clg_tensor_dim(f, 1), 60);
    float *got = test_download(f), want[120];
    for (int n = 0; n < 2; n++)
        for (int w = 0; w < 5; w++)
            for (int h = 0; h < 4; h++)
                for (int c = 0; c < 3; c++)
                    want[((n * 5 + w) * 4 + h) * 3 + c] = a[((n * 3 + c) * 4 + h) * 5 + w];
    test_assert_close(got, want, 120, test_tol_get("exact"), "flatten of a transpose");
    free(got);
    clg_tensor *scalar = clg_flatten(clg_sum_all(t), 0); /* rank 0 becomes [1] */
    ck_assert_int_eq(clg_tensor_rank(scalar), 1);
    ck_assert_int_eq(clg_tensor_dim(scalar, 0), 1);
    test_expect_error(ctx, clg_flatten(t, 4), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_flatten: axis 4 is out of range for shape [2, 3, 4, 5]");
    clg_step_end(ctx);
    test_gradcheck(ctx, run_flatten_t, &one, 1, &t, test_tol_get("gradcheck"));
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_transpose_matches_host,
                            test_reshape_views_and_copies,
                            test_shape_gradcheck,
                            test_shape_golden,
                            test_shape_errors,
                            test_flatten_merges_trailing_axes,
                            NULL};
    return test_main("ops/shape", "shape", 0, tests);
}
