/* tests/ops/test_matmul.c: clg_matmul and clg_matmul_nt (ops/matmul.c)
 * against a naive host GEMM, finite differences and PyTorch, over transposed
 * views and batches. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* in[0], in[1] transposed before the product as the bits of *arg say. */
static clg_tensor *run_matmul(clg_tensor *const *in, const void *arg)
{
    int flags = arg ? *(const int *)arg : 0;
    clg_tensor *a = in[0], *b = in[1];
    int r = clg_tensor_rank(a);
    if (flags & 1)
        a = clg_transpose(a, r - 2, r - 1);
    if (flags & 2)
        b = clg_transpose(b, r - 2, r - 1);
    return clg_matmul(a, b);
}

/* C = op(A) op(B): check/'s chk_gemm (shared with `clgrad check`) on float
 * arrays; A stored (M,K) or (K,M) when ta. */
static void host_gemm(const float *a, const float *b, float *c, int m, int n, int k, bool ta,
                      bool tb)
{
    double *ad = test_doubles(a, (size_t)(m * k)), *bd = test_doubles(b, (size_t)(k * n));
    double *cd = malloc((size_t)(m * n) * sizeof *cd);
    ck_assert_ptr_nonnull(cd);
    chk_gemm(ad, bd, cd, m, n, k, ta, tb);
    test_floats(cd, c, (size_t)(m * n));
    free(ad);
    free(bd);
    free(cd);
}

START_TEST(test_matmul_matches_host)
{
    clg_context *ctx = test_context();
    /* sizes that are not multiples of any tile: 37 x 19 x 23 */
    const int m = 37, n = 19, k = 23;
    float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
    float *want = malloc(m * n * sizeof *want);
    test_random(a, (size_t)(m * k), 5, -1, 1);
    test_random(b, (size_t)(k * n), 6, -1, 1);
    for (int flags = 0; flags < 4; flags++) {
        bool ta = flags & 1, tb = flags & 2;
        clg_tensor *ta_ = test_tensor(ctx, 2, ta ? (int64_t[]){k, m} : (int64_t[]){m, k}, a, false);
        clg_tensor *tb_ = test_tensor(ctx, 2, tb ? (int64_t[]){n, k} : (int64_t[]){k, n}, b, false);
        clg_counters before, after;
        clg_step_begin(ctx);
        clg_counters_get(ctx, &before);
        clg_tensor *c = run_matmul((clg_tensor *[]){ta_, tb_}, &flags);
        clg_counters_get(ctx, &after);
        ck_assert_msg(c != NULL, "%s", clg_context_error(ctx));
        /* transposed views reach CLBlast as flags: no copy kernel */
        ck_assert_uint_eq(after.kernel_launches, before.kernel_launches);
        ck_assert_uint_eq(after.gemm_calls, before.gemm_calls + 1);
        ck_assert_int_eq(clg_tensor_dim(c, 0), m);
        ck_assert_int_eq(clg_tensor_dim(c, 1), n);
        float *got = test_download(c);
        host_gemm(a, b, want, m, n, k, ta, tb);
        test_assert_close(got, want, (size_t)(m * n), test_tol_get("gemm"), "matmul");
        free(got);
        clg_step_end(ctx);
        clg_tensor_destroy(ta_);
        clg_tensor_destroy(tb_);
    }
    free(a);
    free(b);
    free(want);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_batched_matches_host)
{
    clg_context *ctx = test_context();
    float a[3 * 5 * 4], b[3 * 4 * 2], want[3 * 5 * 2];
    test_random(a, 60, 7, -1, 1);
    test_random(b, 24, 8, -1, 1);
    clg_tensor *ta = test_tensor(ctx, 3, (int64_t[]){3, 5, 4}, a, false);
    clg_tensor *tb = test_tensor(ctx, 3, (int64_t[]){3, 4, 2}, b, false);
    clg_step_begin(ctx);
    clg_tensor *c = clg_matmul(ta, tb);
    ck_assert_msg(c != NULL, "%s", clg_context_error(ctx));
    float *got = test_download(c);
    for (int s = 0; s < 3; s++)
        host_gemm(a + s * 20, b + s * 8, want + s * 10, 5, 2, 4, false, false);
    test_assert_close(got, want, 30, test_tol_get("gemm"), "bmm");
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_gradcheck)
{
    clg_context *ctx = test_context();
    float a[12], b[20];
    test_random(a, 12, 9, -1, 1);
    test_random(b, 20, 10, -1, 1);
    for (int flags = 0; flags < 4; flags++) {
        clg_tensor *ta = test_tensor(ctx, 2, flags & 1 ? (int64_t[]){4, 3} : (int64_t[]){3, 4}, a, true);
        clg_tensor *tb = test_tensor(ctx, 2, flags & 2 ? (int64_t[]){5, 4} : (int64_t[]){4, 5}, b, true);
        test_gradcheck(ctx, run_matmul, &flags, 2, (clg_tensor *[]){ta, tb},
                       test_tol_get("gradcheck"));
        clg_tensor_destroy(ta);
        clg_tensor_destroy(tb);
    }
    float c[24], d[16];
    test_random(c, 24, 11, -1, 1);
    test_random(d, 16, 12, -1, 1);
    clg_tensor *tc = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, c, true);
    clg_tensor *td = test_tensor(ctx, 3, (int64_t[]){2, 4, 2}, d, true);
    test_gradcheck(ctx, run_matmul, NULL, 2, (clg_tensor *[]){tc, td}, test_tol_get("gradcheck"));
    clg_tensor_destroy(tc);
    clg_tensor_destroy(td);
    clg_context_destroy(ctx);
}
END_TEST

static clg_tensor *run_nt(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_matmul_nt(in[0], in[1]);
}

/* a b^T forward, and both gradients twice (the second pass accumulates),
 * against the host; W's gradient needs no copy kernel: two GEMMs, nothing else. */
START_TEST(test_matmul_nt_matches_host)
{
    clg_context *ctx = test_context();
    const int m = 37, n = 19, k = 23;
    float a[37 * 23], b[19 * 23], g[37 * 19], want[37 * 19];
    test_random(a, (size_t)(m * k), 41, -1, 1);
    test_random(b, (size_t)(n * k), 42, -1, 1);
    test_random(g, (size_t)(m * n), 43, -1, 1);
    clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){m, k}, a, true);
    clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){n, k}, b, true);
    clg_tensor *tg = test_tensor(ctx, 2, (int64_t[]){m, n}, g, false);
    for (int pass = 0; pass < 2; pass++) {
        clg_step_begin(ctx);
        clg_tensor *c = clg_matmul_nt(ta, tb);
        ck_assert_msg(c != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_dim(c, 0), m);
        ck_assert_int_eq(clg_tensor_dim(c, 1), n);
        float *got = test_download(c);
        host_gemm(a, b, want, m, n, k, false, true);
        test_assert_close(got, want, (size_t)(m * n), test_tol_get("gemm"), "a b^T");
        free(got);
        clg_counters before, after;
        clg_counters_get(ctx, &before);
        ck_assert_int_eq(clg_backward_with(c, tg), CLG_STATUS_OK);
        clg_counters_get(ctx, &after);
        ck_assert_uint_eq(after.kernel_launches, before.kernel_launches);
        ck_assert_uint_eq(after.gemm_calls, before.gemm_calls + 2);
        clg_step_end(ctx);
    }
    /* da = 2 G b (M,N)(N,K); db = 2 G^T a (N,M)(M,K) */
    float da_want[37 * 23], db_want[19 * 23], gt[19 * 37];
    host_gemm(g, b, da_want, m, k, n, false, false);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            gt[j * m + i] = g[i * n + j];
    host_gemm(gt, a, db_want, n, k, m, false, false);
    for (int i = 0; i < m * k; i++)
        da_want[i] *= 2;
    for (int i = 0; i < n * k; i++)
        db_want[i] *= 2;
    float *da = test_download(clg_tensor_grad(ta)), *db = test_download(clg_tensor_grad(tb));
    test_assert_close(da, da_want, (size_t)(m * k), test_tol_get("gemm"), "da");
    test_assert_close(db, db_want, (size_t)(n * k), test_tol_get("gemm"), "db");
    free(da);
    free(db);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_tensor_destroy(tg);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_nt_gradcheck_and_golden)
{
    clg_context *ctx = test_context();
    float a[24], b[40];
    test_random(a, 24, 44, -1, 1);
    test_random(b, 40, 45, -1, 1);
    clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){3, 4}, a, true);
    clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){5, 4}, b, true);
    test_gradcheck(ctx, run_nt, NULL, 2, (clg_tensor *[]){ta, tb}, test_tol_get("gradcheck"));
    clg_tensor *tc = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, a, true);
    clg_tensor *td = test_tensor(ctx, 3, (int64_t[]){2, 5, 4}, b, true);
    test_gradcheck(ctx, run_nt, NULL, 2, (clg_tensor *[]){tc, td}, test_tol_get("gradcheck"));
    /* PyTorch's a @ b.t(), inputs as stored */
    clg_safetensors *st = test_golden_open(ctx, "ops_matmul");
    test_golden_case(ctx, st, "mm_tb", run_nt, NULL, 2, 0, test_tol_get("golden"));
    test_golden_case(ctx, st, "bmm_tb", run_nt, NULL, 2, 0, test_tol_get("golden"));
    clg_safetensors_destroy(st);
    /* inner sizes must agree along b's last axis */
    clg_step_begin(ctx);
    ck_assert_ptr_null(clg_matmul_nt(ta, tc));
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_matmul_nt(ta, clg_transpose(tb, 0, 1)));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_SHAPE);
    ck_assert_msg(strstr(clg_context_error(ctx), "clg_matmul_nt") &&
                      strstr(clg_context_error(ctx), "[3, 4]"),
                  "%s", clg_context_error(ctx));
    clg_context_clear_error(ctx);
    clg_step_end(ctx);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_tensor_destroy(tc);
    clg_tensor_destroy(td);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_matmul");
    static const struct {
        const char *name;
        int flags;
    } cases[] = {{"mm", 0},       {"mm_ta", 1},  {"mm_tb", 2},  {"mm_tab", 3},
                 {"mm_outer", 0}, {"mm_dot", 0}, {"bmm", 0},    {"bmm_tb", 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        test_golden_case(ctx, st, cases[i].name, run_matmul, &cases[i].flags, 2, 0,
                         test_tol_get("golden"));
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* A fresh gradient is written with beta = 0, which must not read the stale
 * contents: fill the old gradient storage with NaN and backward again. */
START_TEST(test_matmul_fresh_gradient_ignores_stale_memory)
{
    clg_context *ctx = test_context();
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1};
    clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){2, 3}, a, true);
    clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){3, 2}, b, true);
    for (int round = 0; round < 2; round++) {
        clg_step_begin(ctx);
        clg_tensor *c = clg_matmul(ta, tb);
        clg_tensor *ones = clg_tensor_full(ctx, 2, (int64_t[]){2, 2}, 1.0f);
        ck_assert_int_eq(clg_backward_with(c, ones), CLG_STATUS_OK);
        clg_step_end(ctx);
        if (round == 0) {
            ck_assert_int_eq(clg_tensor_fill(clg_tensor_grad(ta), NAN), CLG_STATUS_OK);
            ck_assert_int_eq(clg_tensor_fill(clg_tensor_grad(tb), NAN), CLG_STATUS_OK);
            clg_tensor_zero_grad(ta);
            clg_tensor_zero_grad(tb);
        }
    }
    float *ga = test_download(clg_tensor_grad(ta));
    /* dA = 1 B^T: rows of B summed: [1, 1, 2] for each row of A */
    float want[6] = {1, 1, 2, 1, 1, 2};
    test_assert_close(ga, want, 6, test_tol_get("exact"), "dA");
    free(ga);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_shape_errors)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 2, (int64_t[]){4, 5}, NULL, false);
    clg_tensor *v = test_tensor(ctx, 1, (int64_t[]){3}, NULL, false);
    test_expect_error(ctx, clg_matmul(a, b), CLG_STATUS_SHAPE,
                      "clg_matmul: shapes [2, 3] and [4, 5] do not "
                      "multiply (inner sizes or batches differ)");
    ck_assert_ptr_null(clg_matmul(a, v));
    ck_assert_str_eq(clg_context_error(ctx), "clg_matmul: shapes [2, 3] and [3] are not two "
                                             "matrices or two batches of matrices");
    clg_tensor_destroy(a);
    clg_tensor_destroy(b);
    clg_tensor_destroy(v);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_matmul_matches_host,
                            test_matmul_batched_matches_host,
                            test_matmul_gradcheck,
                            test_matmul_golden,
                            test_matmul_fresh_gradient_ignores_stale_memory,
                            test_matmul_shape_errors,
                            test_matmul_nt_matches_host,
                            test_matmul_nt_gradcheck_and_golden,
                            NULL};
    return test_main("ops/matmul", "matmul", 0, tests);
}
