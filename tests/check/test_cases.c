/* tests/check/test_cases.c: check/ (what `clgrad check` runs): every case of
 * the table passes on this device, so does matmul through each GEMM
 * implementation the dispatcher uses here, and a few references against
 * values worked out by hand (PyTorch's documented results), so that a
 * reference bent to agree with a wrong kernel would not go unnoticed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

START_TEST(test_case_passes)
{
    clg_context *ctx = test_context();
    for (size_t i = 0; i < chk_case_count(); i++) {
        chk_result r;
        chk_case_run(ctx, i, &r);
        ck_assert_msg(r.passed, "%s: %s", chk_case_name(i), r.detail);
        ck_assert_msg(r.max_rel_err >= 0 && r.max_rel_err < 1e-3, "%s: max rel err %g",
                      chk_case_name(i), r.max_rel_err);
        ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    }
    ck_assert_ptr_null(chk_case_name(chk_case_count()));
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_gemm_implementations_pass)
{
    clg_context *ctx = test_context();
    const char *names[16];
    size_t n = chk_gemm_implementations(ctx, names, 16);
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_le(n, 16);
    /* the dispatcher's choices for an ordinary product and for a one-row
     * one (a bias gradient's ones^T dY, a class of its own) are among them */
    const char *plain = clg_gemm_choice(ctx, &(clg_gemm_shape){64, 64, 64, 1, false, false});
    const char *one_row = clg_gemm_choice(ctx, &(clg_gemm_shape){1, 64, 64, 1, false, false});
    bool found = false, found_one_row = false;
    for (size_t i = 0; i < n; i++) {
        found = found || strcmp(names[i], plain) == 0;
        found_one_row = found_one_row || strcmp(names[i], one_row) == 0;
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(names[i], names[j]);
        static const char *const cases[] = {"matmul", "matmul_batched", "matmul_long_k"};
        for (int c = 0; c < 3; c++) {
            chk_result r;
            chk_gemm_case_run(NULL, names[i], cases[c], &r);
            ck_assert_msg(r.passed, "%s[%s]: %s", cases[c], names[i], r.detail);
        }
    }
    ck_assert_msg(found, "%s is not listed", plain);
    ck_assert_msg(found_one_row, "%s (one row) is not listed", one_row);
    ck_assert_ptr_null(getenv("CLGRAD_GEMM")); /* the environment is left alone */
    /* an implementation that does not exist is a failure, not a crash */
    chk_result r;
    chk_gemm_case_run(NULL, "no-such-gemm", "matmul", &r);
    ck_assert(!r.passed);
    ck_assert_msg(strstr(r.detail, "no-such-gemm") != NULL, "%s", r.detail);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_tolerances)
{
    ck_assert_ptr_null(chk_tol_get("no such row"));
    const chk_tol *fd = chk_tol_get("fd64");
    ck_assert_ptr_nonnull(fd);
    ck_assert(fd->fd_step > 0 && fd->rtol > 0 && fd->why[0]);
}
END_TEST

/* Values from the definitions, by hand. */
START_TEST(test_references_by_hand)
{
    /* [[1,2],[3,4]] [[5,6],[7,8]] = [[19,22],[43,50]]; with B transposed
     * [[17,23],[39,53]] */
    const double a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    double c[4];
    chk_gemm(a, b, c, 2, 2, 2, false, false);
    ck_assert(c[0] == 19 && c[1] == 22 && c[2] == 43 && c[3] == 50);
    chk_gemm(a, b, c, 2, 2, 2, false, true);
    ck_assert(c[0] == 17 && c[1] == 23 && c[2] == 39 && c[3] == 53);
    /* torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True) on 7 and 6: 4 and 4;
     * (2, 2, 0, ceil_mode=True) on 5: 3; without ceil_mode: 2 */
    ck_assert_int_eq(chk_pool_out(7, 3, 2, 1, 1, true), 4);
    ck_assert_int_eq(chk_pool_out(6, 3, 2, 1, 1, true), 4);
    ck_assert_int_eq(chk_pool_out(5, 2, 2, 0, 1, true), 3);
    ck_assert_int_eq(chk_pool_out(5, 2, 2, 0, 1, false), 2);
    /* softmax of (0, log 3) is (1/4, 3/4) */
    double x[2] = {0, log(3.0)}, y[2];
    chk_softmax(false, x, 1, (const int64_t[]){2}, 0, y);
    ck_assert(fabs(y[0] - 0.25) < 1e-15 && fabs(y[1] - 0.75) < 1e-15);
    /* selu(-1) = 1.0507 * 1.67326 * (e^-1 - 1) = -1.1113307 */
    ck_assert(fabs(chk_pointwise_f(CHK_SELU, -1, 0, 0) + 1.1113307) < 1e-7);
    ck_assert(chk_pointwise_f(CHK_HARDSIGMOID, 1.5, 0, 0) == 0.75);
    /* Adam's first step moves each parameter by lr sign(g) (m / sqrt(v) =
     * g / |g| after bias correction), AdamW's also shrinks it by lr wd */
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAMW);
    double p[2] = {1, 1}, g[2] = {0.5, -2}, m[2] = {0}, v[2] = {0}, unused[2] = {0};
    chk_optim_step(&o, 1, 2, p, g, m, v, unused);
    double shrunk = 1 - (double)o.lr * o.weight_decay;
    ck_assert(fabs(p[0] - (shrunk - o.lr)) < 1e-9 && fabs(p[1] - (shrunk + o.lr)) < 1e-9);
    /* SGD with momentum: the first step's buffer is the gradient itself */
    o = clg_optim_options_default(CLG_OPTIM_MOMENTUM);
    p[0] = 1, g[0] = 0.5, m[0] = 123;
    chk_optim_step(&o, 1, 1, p, g, m, v, unused);
    ck_assert(m[0] == 0.5 && fabs(p[0] - (1 - (double)o.lr * 0.5)) < 1e-12);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_case_passes, test_gemm_implementations_pass, test_tolerances,
                            test_references_by_hand, NULL};
    return test_main("check", "check", 600, tests);
}
