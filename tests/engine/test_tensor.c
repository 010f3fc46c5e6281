/* tests/engine/test_tensor.c: creating, moving and describing tensors
 * (engine/tensor.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

START_TEST(test_tensor_create_is_zero_and_round_trips)
{
    clg_context *ctx = test_context();
    clg_tensor *t = clg_tensor_create(ctx, CLG_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(clg_tensor_numel(t), 24);
    ck_assert_int_eq(clg_tensor_dim(t, -1), 4);
    ck_assert(clg_tensor_is_contiguous(t));
    float *zeros = test_download(t);
    for (int i = 0; i < 24; i++)
        ck_assert_float_eq(zeros[i], 0.0f);
    free(zeros);
    float data[24];
    test_random(data, 24, 1, -5, 5);
    ck_assert_int_eq(clg_tensor_upload(t, data, 24), CLG_STATUS_OK);
    float *back = test_download(t);
    test_assert_close(back, data, 24, test_tol_get("exact"), "round trip");
    free(back);
    char s[32];
    ck_assert_str_eq(clg_tensor_shape_str(t, s, sizeof s), "[2, 3, 4]");
    clg_tensor_destroy(t);
    clg_tensor_destroy(NULL);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_tensor_int32_and_scalars)
{
    clg_context *ctx = test_context();
    int32_t labels[5] = {3, -1, 0, 9, 2147483647};
    clg_tensor *t = clg_tensor_create(ctx, CLG_DTYPE_I32, 1, (int64_t[]){5});
    ck_assert_int_eq(clg_tensor_upload(t, labels, 5), CLG_STATUS_OK);
    int32_t back[5];
    ck_assert_int_eq(clg_tensor_download(t, back, 5), CLG_STATUS_OK);
    ck_assert_mem_eq(back, labels, sizeof labels);
    clg_tensor_set_requires_grad(t, true);
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    clg_context_clear_error(ctx);
    clg_tensor *s = clg_tensor_create(ctx, CLG_DTYPE_F32, 0, NULL);
    ck_assert_int_eq(clg_tensor_numel(s), 1);
    ck_assert_int_eq(clg_tensor_fill(s, 2.5f), CLG_STATUS_OK);
    float v = 0;
    ck_assert_int_eq(clg_tensor_item(s, &v), CLG_STATUS_OK);
    ck_assert_float_eq(v, 2.5f);
    ck_assert_int_eq(clg_tensor_item(t, &v), CLG_STATUS_INVALID_ARGUMENT);
    clg_tensor_destroy(t);
    clg_tensor_destroy(s);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_tensor_step_tensors_and_copies)
{
    clg_context *ctx = test_context();
    float data[6] = {1, 2, 3, 4, 5, 6};
    clg_tensor *keep = clg_tensor_create(ctx, CLG_DTYPE_F32, 2, (int64_t[]){3, 2});
    clg_step_begin(ctx);
    float staged[6];
    memcpy(staged, data, sizeof data);
    clg_tensor *x = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){2, 3}, staged);
    memset(staged, 0, sizeof staged); /* the upload was staged: reuse is safe */
    clg_tensor *full = clg_tensor_full(ctx, 1, (int64_t[]){4}, -1.5f);
    float *f = test_download(full);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(f[i], -1.5f);
    free(f);
    /* copying a transposed view gathers it */
    ck_assert_int_eq(clg_tensor_copy(keep, clg_transpose(x, 0, 1)), CLG_STATUS_OK);
    clg_step_end(ctx);
    float *k = test_download(keep);
    float want[6] = {1, 4, 2, 5, 3, 6};
    test_assert_close(k, want, 6, test_tol_get("exact"), "copy of transpose");
    free(k);
    clg_tensor_destroy(keep);
    clg_context_destroy(ctx);
}
END_TEST

/* Copies of views: transposes of the last two axes (rank 2, and rank 3
 * with a batch) take the blocked transpose, at sizes that leave partial
 * 32 x 32 blocks; other permutations and int32 take copy_strided. Each
 * against the host's index arithmetic. */
START_TEST(test_tensor_transposed_copies)
{
    clg_context *ctx = test_context();
    enum { B = 3, R = 37, C = 70 };
    float *x = malloc(sizeof(float) * B * R * C), *want = malloc(sizeof(float) * B * R * C);
    test_random(x, B * R * C, 5, -1, 1);
    clg_step_begin(ctx);
    clg_tensor *m = test_tensor(ctx, 2, (int64_t[]){R, C}, x, false);
    clg_tensor *t3 = test_tensor(ctx, 3, (int64_t[]){B, R, C}, x, false);
    /* rank 2: (C, R) */
    for (int i = 0; i < C; i++)
        for (int j = 0; j < R; j++)
            want[i * R + j] = x[j * C + i];
    clg_tensor *dst = clg_tensor_create(ctx, CLG_DTYPE_F32, 2, (int64_t[]){C, R});
    ck_assert_int_eq(clg_tensor_copy(dst, clg_transpose(m, 0, 1)), CLG_STATUS_OK);
    float *got = test_download(dst);
    test_assert_close(got, want, (size_t)(R * C), test_tol_get("exact"), "(37, 70)^T copied");
    free(got);
    got = test_download(clg_transpose(m, 0, 1)); /* a download gathers */
    test_assert_close(got, want, (size_t)(R * C), test_tol_get("exact"), "(37, 70)^T read");
    free(got);
    clg_tensor_destroy(dst);
    /* rank 3, the last two axes: (B, C, R) */
    for (int b = 0; b < B; b++)
        for (int i = 0; i < C; i++)
            for (int j = 0; j < R; j++)
                want[(b * C + i) * R + j] = x[(b * R + j) * C + i];
    got = test_download(clg_transpose(t3, 1, 2));
    test_assert_close(got, want, (size_t)(B * R * C), test_tol_get("exact"), "(3, 37, 70) 1<->2");
    free(got);
    /* rank 3, the first two axes (copy_strided): (R, B, C) */
    for (int j = 0; j < R; j++)
        for (int b = 0; b < B; b++)
            for (int i = 0; i < C; i++)
                want[(j * B + b) * C + i] = x[(b * R + j) * C + i];
    got = test_download(clg_transpose(t3, 0, 1));
    test_assert_close(got, want, (size_t)(B * R * C), test_tol_get("exact"), "(3, 37, 70) 0<->1");
    free(got);
    /* int32, rank 2 (copy_strided) */
    int32_t ints[6] = {1, -2, 3, -4, 5, 1 << 30}, ints_t[6];
    clg_tensor *xi = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 2, (int64_t[]){2, 3}, ints);
    ck_assert_int_eq(clg_tensor_download(clg_transpose(xi, 0, 1), ints_t, 6), CLG_STATUS_OK);
    const int32_t ints_want[6] = {1, -4, -2, 5, 3, 1 << 30};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(ints_t[i], ints_want[i]);
    clg_step_end(ctx);
    clg_tensor_destroy(m);
    clg_tensor_destroy(t3);
    free(x);
    free(want);
    clg_context_destroy(ctx);
}
END_TEST

/* clg_tensor_read_start / clg_read_wait as a training loop uses them: the
 * read of step n's value waited for after step n + 1 has been enqueued, on
 * step tensors whose memory the next step reuses; each wait one host sync
 * and nothing else a sync (the uploads' staging slots come free with the
 * waits); a view read in row-major order; misuse refused with a message. */
START_TEST(test_tensor_read_start)
{
    clg_context *ctx = test_context();
    enum { STEPS = 12 };
    float got[2][3], data[3];
    clg_read reads[2];
    clg_counters before, after;
    for (int n = 0; n < STEPS; n++) {
        if (n == 2)
            clg_counters_get(ctx, &before);
        clg_step_begin(ctx);
        for (int i = 0; i < 3; i++)
            data[i] = (float)(10 * n + i);
        /* two uploads a step, as a batch's images and labels */
        clg_tensor *x = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, (int64_t[]){3}, data);
        clg_tensor *y = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, (int64_t[]){3}, data);
        clg_tensor *sum = clg_add(x, y);
        ck_assert_int_eq(clg_tensor_read_start(sum, got[n % 2], 3, &reads[n % 2]), CLG_STATUS_OK);
        clg_step_end(ctx);
        if (n > 0) {
            ck_assert_int_eq(clg_read_wait(&reads[(n - 1) % 2]), CLG_STATUS_OK);
            for (int i = 0; i < 3; i++)
                ck_assert_float_eq(got[(n - 1) % 2][i], (float)(2 * (10 * (n - 1) + i)));
        }
    }
    clg_counters_get(ctx, &after);
    ck_assert_int_eq(clg_read_wait(&reads[(STEPS - 1) % 2]), CLG_STATUS_OK);
    ck_assert_float_eq(got[(STEPS - 1) % 2][2], (float)(2 * (10 * (STEPS - 1) + 2)));
    ck_assert_int_eq(after.host_syncs - before.host_syncs, STEPS - 2);

    /* a transposed view: row-major order, as clg_tensor_download */
    clg_step_begin(ctx);
    float m[6] = {1, 2, 3, 4, 5, 6}, mt[6];
    clg_tensor *t = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){2, 3}, m);
    clg_read read;
    ck_assert_int_eq(clg_tensor_read_start(clg_transpose(t, 0, 1), mt, 6, &read), CLG_STATUS_OK);
    clg_step_end(ctx);
    ck_assert_int_eq(clg_read_wait(&read), CLG_STATUS_OK);
    float want[6] = {1, 4, 2, 5, 3, 6};
    test_assert_close(mt, want, 6, test_tol_get("exact"), "read of a transpose");

    /* a second wait, a wrong count, no destination */
    ck_assert_int_eq(clg_read_wait(&read), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx), "clg_read_wait: the read was waited for already");
    clg_context_clear_error(ctx);
    clg_tensor *p = clg_tensor_create(ctx, CLG_DTYPE_F32, 1, (int64_t[]){3});
    ck_assert_int_eq(clg_tensor_read_start(p, mt, 4, &read), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_tensor_read_start: 4 elements given for a tensor of shape [3]");
    ck_assert_ptr_null(read.pending);
    clg_context_clear_error(ctx);
    ck_assert_int_eq(clg_tensor_read_start(p, NULL, 3, &read), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx), "clg_tensor_read_start: data is NULL");
    clg_context_clear_error(ctx);
    ck_assert_int_eq(clg_tensor_read_start(NULL, mt, 3, &read), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clg_read_wait(&read), CLG_STATUS_INVALID_ARGUMENT); /* never started */
    ck_assert_int_eq(clg_read_wait(NULL), CLG_STATUS_INVALID_ARGUMENT);
    clg_tensor_destroy(p);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_tensor_bad_input)
{
    clg_context *ctx = test_context();
    ck_assert_ptr_null(clg_tensor_create(ctx, CLG_DTYPE_F32, 5, (int64_t[]){1, 1, 1, 1, 1}));
    ck_assert_str_eq(clg_context_error(ctx), "clg_tensor_create: rank 5 is outside 0..4");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_tensor_create(ctx, CLG_DTYPE_F32, 2, (int64_t[]){65536, 65536}));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    clg_context_clear_error(ctx);
    clg_tensor *t = clg_tensor_create(ctx, CLG_DTYPE_F32, 1, (int64_t[]){3});
    float data[4] = {0};
    ck_assert_int_eq(clg_tensor_upload(t, data, 4), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_tensor_upload: 4 elements given for a tensor of shape [3]");
    clg_context_clear_error(ctx);
    clg_tensor *u = clg_tensor_create(ctx, CLG_DTYPE_F32, 1, (int64_t[]){4});
    ck_assert_int_eq(clg_tensor_copy(u, t), CLG_STATUS_SHAPE);
    clg_tensor_destroy(t);
    clg_tensor_destroy(u);
    clg_context_destroy(ctx);
}
END_TEST

/* Shapes whose element count overflows int64 (or only int32) are refused
 * with the dimension named, before anything is allocated: the size check
 * multiplies nothing it has not bounded first. A zero dim does not let a
 * huge one through. */
START_TEST(test_tensor_shape_overflow)
{
    const int64_t shapes[][2] = {{INT64_C(4611686018427387904), 10},
                                 {10, INT64_C(4611686018427387904)},
                                 {INT64_MAX, INT64_MAX},
                                 {65536, 65536},
                                 {0, INT64_C(1) << 40},
                                 {INT64_C(1) << 31, 1}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        clg_context *ctx = test_context();
        ck_assert_ptr_null(clg_tensor_create(ctx, CLG_DTYPE_F32, 2, shapes[i]));
        ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
        ck_assert_msg(strstr(clg_context_error(ctx), "more than 2^31 - 1 elements") != NULL,
                      "%s", clg_context_error(ctx));
        clg_context_destroy(ctx);
    }
    /* The largest that fits is accepted by the check (no allocation here:
     * a zero dim). */
    clg_context *ctx = test_context();
    clg_tensor *t = clg_tensor_create(ctx, CLG_DTYPE_F32, 2, (int64_t[]){0, INT32_MAX});
    ck_assert_msg(t != NULL, "%s", clg_context_error(ctx));
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_tensor_create_is_zero_and_round_trips,
                            test_tensor_int32_and_scalars,
                            test_tensor_step_tensors_and_copies,
                            test_tensor_transposed_copies,
                            test_tensor_read_start,
                            test_tensor_bad_input,
                            test_tensor_shape_overflow,
                            NULL};
    return test_main("engine/tensor", "tensor", 0, tests);
}
