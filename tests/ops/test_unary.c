/* tests/ops/test_unary.c: neg, exp, log, sqrt, abs, pow and affine
 * (ops/unary.c) against a naive host loop (forward and backward, contiguous
 * and transposed inputs), finite differences, PyTorch (tools/golden/
 * gen_ops_unary.py), the special values PyTorch defines (the kinks, the
 * edges of the domains, a zero exponent), and the strided kernels against
 * the contiguous ones. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pointwise.h"

static const pw_spec NEG_SPEC = {"neg", CHK_NEG, 1, {{0, 0, -2, 2, 0, 0, {0}}}, false, false};
static const pw_spec EXP_SPEC = {"exp", CHK_EXP, 1, {{0, 0, -2, 2, 0, 0, {0}}}, false, false};
static const pw_spec LOG_SPEC = {"log", CHK_LOG, 1, {{0, 0, 0.2f, 3, 0, 0, {0}}}, false, false};
static const pw_spec SQRT_SPEC = {"sqrt", CHK_SQRT, 1, {{0, 0, 0.2f, 3, 0, 0, {0}}}, false, false};
static const pw_spec ABS_SPEC = {"abs", CHK_ABS, 1, {{0, 0, -2, 2, 0.1f, 0, {0}}}, true, false};
static const pw_spec POW_SPEC = {"pow",
                                 CHK_POW,
                                 5,
                                 {{2, 0, -2, 2, 0, 0, {0}},
                                  {3, 0, -2, 2, 0, 0, {0}},
                                  {0.5f, 0, 0.3f, 3, 0, 0, {0}},
                                  {-1.5f, 0, 0.5f, 2.5f, 0, 0, {0}},
                                  {0, 0, -2, 2, 0, 0, {0}}},
                                 true,
                                 false};
static const pw_spec AFFINE_SPEC = {
    "affine", CHK_AFFINE, 2, {{-1, 1, -2, 2, 0, 0, {0}}, {2.5f, -0.3f, -2, 2, 0, 0, {0}}},
    false,    false};

static const pw_spec *const all_specs[] = {&NEG_SPEC, &EXP_SPEC, &LOG_SPEC,   &SQRT_SPEC,
                                           &ABS_SPEC, &POW_SPEC, &AFFINE_SPEC};

static clg_tensor *apply(const pw_spec *spec, int v, clg_tensor *x)
{
    float p0 = spec->v[v].p0, p1 = spec->v[v].p1;
    switch (spec->kind) {
    case CHK_NEG: return clg_neg(x);
    case CHK_EXP: return clg_exp(x);
    case CHK_LOG: return clg_log(x);
    case CHK_SQRT: return clg_sqrt(x);
    case CHK_ABS: return clg_abs(x);
    case CHK_POW: return clg_pow(x, p0);
    default: return clg_affine(x, p0, p1);
    }
}

static const pw_family FAMILY = {"ops_unary", apply};

PW_OP_TESTS(neg, FAMILY, NEG_SPEC)
PW_OP_TESTS(exp, FAMILY, EXP_SPEC)
PW_OP_TESTS(log, FAMILY, LOG_SPEC)
PW_OP_TESTS(sqrt, FAMILY, SQRT_SPEC)
PW_OP_TESTS(abs, FAMILY, ABS_SPEC)
PW_OP_TESTS(pow, FAMILY, POW_SPEC)
PW_OP_TESTS(affine, FAMILY, AFFINE_SPEC)

/* d|x|/dx at 0 is 0 (PyTorch's sgn), for +0 and -0 alike. */
START_TEST(test_abs_grad_at_zero)
{
    clg_context *ctx = test_context();
    float x[4] = {-1.5f, 0.0f, -0.0f, 2.0f}, g[4] = {0.5f, 0.7f, 0.9f, -0.3f};
    const float want_y[4] = {1.5f, 0, 0, 2}, want_dx[4] = {-0.5f, 0, 0, -0.3f};
    pw_check_points(ctx, &FAMILY, &ABS_SPEC, 0, 4, x, g, want_y, want_dx, "exact", "abs");
    clg_context_destroy(ctx);
}
END_TEST

/* IEEE at the domain's edges: log(0) = -inf, log(-1) = nan, log(inf) = inf,
 * sqrt(0) = 0, sqrt(-1) = nan; and the gradients PyTorch gives there:
 * d log(0) = g / 0 = inf, d sqrt(0) = g / (2 * 0) = inf. */
START_TEST(test_log_sqrt_domain_edges)
{
    clg_context *ctx = test_context();
    float x[4] = {0.0f, -1.0f, INFINITY, 1.0f}, g[4] = {1, 1, 1, 1}, y[4], dx[4];
    pw_eval_vector(ctx, &FAMILY, &LOG_SPEC, 0, x, g, 4, y, dx);
    ck_assert(isinf(y[0]) && y[0] < 0);
    ck_assert(isnan(y[1]));
    ck_assert(isinf(y[2]) && y[2] > 0);
    ck_assert_float_eq(y[3], 0.0f);
    ck_assert(isinf(dx[0]) && dx[0] > 0);
    ck_assert_float_eq(dx[1], -1.0f);
    ck_assert_float_eq(dx[2], 0.0f);
    ck_assert_float_eq(dx[3], 1.0f);

    pw_eval_vector(ctx, &FAMILY, &SQRT_SPEC, 0, x, g, 4, y, dx);
    ck_assert_float_eq(y[0], 0.0f);
    ck_assert(isnan(y[1]));
    ck_assert(isinf(y[2]) && y[2] > 0);
    ck_assert_float_eq(y[3], 1.0f);
    ck_assert(isinf(dx[0]) && dx[0] > 0);
    ck_assert(isnan(dx[1]));
    ck_assert_float_eq(dx[2], 0.0f);
    ck_assert_float_eq(dx[3], 0.5f);
    clg_context_destroy(ctx);
}
END_TEST

/* x^0 = 1 everywhere, and its gradient is 0 even at x = 0, where the
 * textbook p x^(p-1) would be 0 * inf = nan (PyTorch special-cases it). */
START_TEST(test_pow_zero_exponent)
{
    clg_context *ctx = test_context();
    float x[3] = {0.0f, -2.0f, 3.0f}, g[3] = {1, -1, 0.5f};
    const float ones[3] = {1, 1, 1}, zeros[3] = {0, 0, 0};
    pw_check_points(ctx, &FAMILY, &POW_SPEC, 4, 3, x, g, ones, zeros, "exact", "x^0");
    clg_context_destroy(ctx);
}
END_TEST

/* The strided kernels (a transposed view) and the _contiguous ones (the same
 * values laid out contiguously) give bit-identical outputs and gradients:
 * both halves of each op in ops/unary.cl compute the same expression. The
 * view's gradient has the (4,3) source's layout, the copy's the (3,4) one. */
START_TEST(test_unary_strided_matches_contiguous)
{
    clg_context *ctx = test_context();
    for (size_t i = 0; i < sizeof all_specs / sizeof all_specs[0]; i++) {
        const pw_spec *spec = all_specs[i];
        for (int v = 0; v < spec->n_variants; v++) {
            float x[12], xt[12], g[12];
            pw_draw(x, 12, 400 + (uint64_t)v, &spec->v[v]);
            test_random(g, 12, 500 + (uint64_t)v, -1, 1);
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 4; c++)
                    xt[r * 4 + c] = x[c * 3 + r];
            clg_tensor *src = test_tensor(ctx, 2, (int64_t[]){4, 3}, x, true);
            clg_tensor *copy = test_tensor(ctx, 2, (int64_t[]){3, 4}, xt, true);
            clg_step_begin(ctx);
            clg_tensor *view = clg_transpose(src, 0, 1);
            ck_assert(view != NULL && !clg_tensor_is_contiguous(view));
            clg_tensor *y_view = apply(spec, v, view), *y_copy = apply(spec, v, copy);
            clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){3, 4}, g);
            /* one backward walk per step: g reaches both through the sum */
            clg_tensor *sum = clg_add(y_view, y_copy);
            ck_assert_msg(sum && gout, "%s: %s", spec->name, clg_context_error(ctx));
            ck_assert_msg(clg_backward_with(sum, gout) == CLG_STATUS_OK, "%s",
                          clg_context_error(ctx));
            char what[64];
            snprintf(what, sizeof what, "%s variant %d strided forward", spec->name, v);
            float *got = test_download(y_view), *want = test_download(y_copy);
            test_assert_close(got, want, 12, test_tol_get("exact"), what);
            free(got);
            free(want);
            clg_step_end(ctx);
            float *grad_src = test_download(clg_tensor_grad(src));
            float *grad_copy = test_download(clg_tensor_grad(copy)), grad_want[12];
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 4; c++)
                    grad_want[c * 3 + r] = grad_copy[r * 4 + c];
            snprintf(what, sizeof what, "%s variant %d strided backward", spec->name, v);
            test_assert_close(grad_src, grad_want, 12, test_tol_get("exact"), what);
            free(grad_src);
            free(grad_copy);
            clg_tensor_destroy(src);
            clg_tensor_destroy(copy);
        }
    }
    clg_context_destroy(ctx);
}
END_TEST

/* An int32 input is refused with a message naming the op and the shape. */
START_TEST(test_unary_rejects_int32)
{
    clg_context *ctx = test_context();
    clg_tensor *a = clg_tensor_create(ctx, CLG_DTYPE_I32, 2, (int64_t[]){2, 3});
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < sizeof all_specs / sizeof all_specs[0]; i++) {
        ck_assert_ptr_null(apply(all_specs[i], 0, a));
        ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
        char want[128];
        snprintf(want, sizeof want,
                 "clg_%s: input must be float32, not an int32 tensor of shape [2, 3]",
                 all_specs[i]->name);
        ck_assert_str_eq(clg_context_error(ctx), want);
        clg_context_clear_error(ctx);
    }
    /* a NULL input (an earlier op failed) gives NULL and records nothing */
    ck_assert_ptr_null(clg_exp(NULL));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_tensor_destroy(a);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops/unary");
    struct {
        const char *name;
        const TTest *tests[6]; /* ending in NULL */
    } cases[] = {
        {"neg", {test_neg_matches_host, test_neg_gradcheck, test_neg_golden}},
        {"exp", {test_exp_matches_host, test_exp_gradcheck, test_exp_golden}},
        {"log",
         {test_log_matches_host, test_log_gradcheck, test_log_golden, test_log_sqrt_domain_edges}},
        {"sqrt", {test_sqrt_matches_host, test_sqrt_gradcheck, test_sqrt_golden}},
        {"abs",
         {test_abs_matches_host, test_abs_gradcheck, test_abs_golden, test_abs_grad_at_zero}},
        {"pow",
         {test_pow_matches_host, test_pow_gradcheck, test_pow_golden, test_pow_zero_exponent}},
        {"affine", {test_affine_matches_host, test_affine_gradcheck, test_affine_golden}},
        {"layouts", {test_unary_strided_matches_contiguous}},
        {"errors", {test_unary_rejects_int32}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        suite_add_tcase(s, test_case(cases[i].name, 0, cases[i].tests));
    return test_run(s);
}
