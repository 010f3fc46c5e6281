/* tests/ops/test_binary.c: add, sub, mul, div, pow with broadcasting
 * (ops/binary.c) against a naive host loop, finite differences and PyTorch;
 * the fused backward of same-shaped operands, the strided kernels against
 * the contiguous ones, and pow's values and gradients at 0 and negative
 * bases as PyTorch gives them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "support.h"

typedef clg_tensor *(*binary_fn)(clg_tensor *, clg_tensor *);
static const binary_fn binaries[] = {clg_add, clg_sub, clg_mul, clg_div, clg_pow_tensor};
static const char *const names[] = {"add", "sub", "mul", "div", "pow"};
/* op indexes binaries[] and check/'s chk_binary (the host reference,
 * chk_binary_f and chk_binary_partials, shared with `clgrad check`) alike */
enum { N_OPS = 5, OP_POW = CHK_POW_TENSOR };

/* The random operands' ranges: b away from 0 for div; for pow a positive
 * base (a negative one with a non-integer exponent is nan; the boundary
 * test covers those) and exponents of both signs. */
static float a_low(int op) { return op == OP_POW ? 0.1f : -2; }
static float b_low(int op) { return op == OP_POW ? -1.5f : 0.5f; }

static clg_tensor *run_binary(clg_tensor *const *in, const void *arg)
{
    return binaries[*(const int *)arg](in[0], in[1]);
}

/* a (2,3,4) against b (3,1): b broadcasts along axes 0 and 2. */
START_TEST(test_binary_broadcast_matches_host)
{
    clg_context *ctx = test_context();
    for (int op = 0; op < N_OPS; op++) {
        float a[24], b[3];
        test_random(a, 24, 1, a_low(op), 2);
        test_random(b, 3, 2, b_low(op), 2);
        clg_tensor *ta = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, a, false);
        clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){3, 1}, b, false);
        clg_step_begin(ctx);
        clg_tensor *out = run_binary((clg_tensor *[]){ta, tb}, &op);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_rank(out), 3);
        float *got = test_download(out);
        float want[24];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++)
                    want[(i * 3 + j) * 4 + k] =
                        (float)chk_binary_f((chk_binary)op, a[(i * 3 + j) * 4 + k], b[j]);
        test_assert_close(got, want, 24, test_tol_get("default"), names[op]);
        free(got);
        clg_step_end(ctx);
        clg_tensor_destroy(ta);
        clg_tensor_destroy(tb);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* Same shapes, broadcasting both ways ((2,1,4) with (3,1)), and a transposed
 * (non-contiguous) input. */
START_TEST(test_binary_gradcheck)
{
    clg_context *ctx = test_context();
    const test_tol *tol = test_tol_get("gradcheck");
    for (int op = 0; op < N_OPS; op++) {
        float a[8], b[3], c[12];
        /* pow: bases from 0.5, where the central difference of a^-1.5 is
         * still within the tolerance */
        test_random(a, 8, 10 + op, op == OP_POW ? 0.5f : -2, 2);
        test_random(b, 3, 20 + op, b_low(op), 2);
        test_random(c, 12, 30 + op, 0.5f, 2);
        clg_tensor *ta = test_tensor(ctx, 3, (int64_t[]){2, 1, 4}, a, true);
        clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){3, 1}, b, true);
        test_gradcheck(ctx, run_binary, &op, 2, (clg_tensor *[]){ta, tb}, tol);
        clg_tensor *tc = test_tensor(ctx, 2, (int64_t[]){3, 4}, c, true);
        test_gradcheck(ctx, run_binary, &op, 2, (clg_tensor *[]){tc, tc}, tol);
        clg_tensor_destroy(ta);
        clg_tensor_destroy(tb);
        clg_tensor_destroy(tc);
    }
    clg_context_destroy(ctx);
}
END_TEST

static clg_tensor *run_binary_transposed(clg_tensor *const *in, const void *arg)
{
    return binaries[*(const int *)arg](clg_transpose(in[0], 0, 1), in[1]);
}

START_TEST(test_binary_gradcheck_transposed)
{
    clg_context *ctx = test_context();
    for (int op = 0; op < N_OPS; op++) {
        float a[12], b[12];
        test_random(a, 12, 3, op == OP_POW ? 0.5f : -2, 2);
        test_random(b, 12, 4, b_low(op), 2);
        clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){4, 3}, a, true);
        clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){3, 4}, b, true);
        test_gradcheck(ctx, run_binary_transposed, &op, 2, (clg_tensor *[]){ta, tb},
                       test_tol_get("gradcheck"));
        clg_tensor_destroy(ta);
        clg_tensor_destroy(tb);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* Same-shaped contiguous operands (the _same kernels: one launch for both
 * gradients) with a gradient wanted for a only, b only, or both. The op runs
 * twice and the results are added, so each gradient is first written, then
 * accumulated: 2 g d/d(operand). The operand that wants none gets none. */
START_TEST(test_binary_same_backward_matches_host)
{
    clg_context *ctx = test_context();
    float g[12];
    test_random(g, 12, 42, -1, 1);
    for (int op = 0; op < N_OPS; op++)
        for (int wants = 1; wants <= 3; wants++) {
            float a[12], b[12];
            test_random(a, 12, 40, a_low(op), 2);
            test_random(b, 12, 41, b_low(op), 2);
            bool want_a = wants & 1, want_b = wants & 2;
            clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){3, 4}, a, want_a);
            clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){3, 4}, b, want_b);
            clg_step_begin(ctx);
            clg_tensor *sum = clg_add(run_binary((clg_tensor *[]){ta, tb}, &op),
                                      run_binary((clg_tensor *[]){ta, tb}, &op));
            clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){3, 4}, g);
            ck_assert_msg(sum && gout, "%s", clg_context_error(ctx));
            ck_assert_msg(clg_backward_with(sum, gout) == CLG_STATUS_OK, "%s",
                          clg_context_error(ctx));
            clg_step_end(ctx);
            float want_da[12], want_db[12];
            for (int i = 0; i < 12; i++) {
                double da, db;
                chk_binary_partials((chk_binary)op, g[i], a[i], b[i], &da, &db);
                want_da[i] = (float)(2 * da);
                want_db[i] = (float)(2 * db);
            }
            char what[64];
            for (int which = 0; which < 2; which++) {
                const clg_tensor *grad = clg_tensor_grad(which ? tb : ta);
                if (!(which ? want_b : want_a)) {
                    ck_assert_ptr_null(grad);
                    continue;
                }
                ck_assert_ptr_nonnull(grad);
                float *got = test_download(grad);
                snprintf(what, sizeof what, "%s d%c (wants %d)", names[op], which ? 'b' : 'a',
                         wants);
                test_assert_close(got, which ? want_db : want_da, 12, test_tol_get("default"),
                                  what);
                free(got);
            }
            clg_tensor_destroy(ta);
            clg_tensor_destroy(tb);
        }
    clg_context_destroy(ctx);
}
END_TEST

/* The strided kernels (a transposed view for a) and the _same ones (the
 * same values laid out contiguously) give bit-identical outputs and
 * gradients. */
START_TEST(test_binary_strided_matches_same)
{
    clg_context *ctx = test_context();
    float g[12];
    test_random(g, 12, 52, -1, 1);
    for (int op = 0; op < N_OPS; op++) {
        float a[12], at[12], b[12];
        test_random(a, 12, 50, a_low(op), 2);
        test_random(b, 12, 51, b_low(op), 2);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                at[c * 3 + r] = a[r * 4 + c];
        clg_tensor *src = test_tensor(ctx, 2, (int64_t[]){4, 3}, at, true); /* a transposed */
        clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){3, 4}, a, true);
        clg_tensor *b1 = test_tensor(ctx, 2, (int64_t[]){3, 4}, b, true);
        clg_tensor *b2 = test_tensor(ctx, 2, (int64_t[]){3, 4}, b, true);
        clg_step_begin(ctx);
        clg_tensor *y_strided = run_binary_transposed((clg_tensor *[]){src, b1}, &op);
        clg_tensor *y_same = run_binary((clg_tensor *[]){ta, b2}, &op);
        clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){3, 4}, g);
        ck_assert_msg(y_strided && y_same && gout, "%s", clg_context_error(ctx));
        ck_assert_msg(clg_backward_with(clg_add(y_strided, y_same), gout) == CLG_STATUS_OK, "%s",
                      clg_context_error(ctx));
        float *got = test_download(y_strided), *want = test_download(y_same);
        test_assert_close(got, want, 12, test_tol_get("exact"), names[op]);
        free(got);
        free(want);
        clg_step_end(ctx);
        float *ga_src = test_download(clg_tensor_grad(src)), ga_want[12];
        float *ga = test_download(clg_tensor_grad(ta));
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                ga_want[c * 3 + r] = ga[r * 4 + c];
        test_assert_close(ga_src, ga_want, 12, test_tol_get("exact"), names[op]);
        float *gb1 = test_download(clg_tensor_grad(b1)), *gb2 = test_download(clg_tensor_grad(b2));
        test_assert_close(gb1, gb2, 12, test_tol_get("exact"), names[op]);
        free(ga_src);
        free(ga);
        free(gb1);
        free(gb2);
        clg_tensor_destroy(src);
        clg_tensor_destroy(ta);
        clg_tensor_destroy(b1);
        clg_tensor_destroy(b2);
    }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_binary_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_binary");
    const char *shapes[] = {"same", "row", "col", "scalar", "both"};
    for (int op = 0; op < N_OPS; op++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            char name[64];
            snprintf(name, sizeof name, "%s.%s", names[op], shapes[s]);
            test_golden_case(ctx, st, name, run_binary, &op, 2, 0, test_tol_get("golden"));
        }
    /* pow's own shapes (tools/golden/gen_ops_binary.py): (3,1,5) ^ (4,5), a
     * rank-0 exponent, odd sizes broadcast and same-shaped */
    const char *pow_shapes[] = {"pow.wide", "pow.rank0", "pow.odd", "pow.odd_same"};
    int op = OP_POW;
    for (size_t s = 0; s < sizeof pow_shapes / sizeof pow_shapes[0]; s++)
        test_golden_case(ctx, st, pow_shapes[s], run_binary, &op, 2, 0, test_tol_get("golden"));
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* pow at the edges, as torch 1.13 gives them (torch.pow of two 0-d tensors
 * with requires_grad, backward with 1): x in {0, -2, 2.5} by y in {0, 1, 2,
 * -1, 0.5}; columns x, y, out, d/dx, d/dy. PyTorch masks d/dx to 0 where
 * y == 0 and d/dy to 0 where x == 0 and y >= 0; a negative base gives nan
 * for d/dy (log) and for a non-integer exponent. */
static const float pow_edges[15][5] = {
    {0, 0, 1, 0, 0},
    {0, 1, 0, 1, 0},
    {0, 2, 0, 0, 0},
    {0, -1, INFINITY, -INFINITY, -INFINITY},
    {0, 0.5f, 0, INFINITY, 0},
    {-2, 0, 1, 0, NAN},
    {-2, 1, -2, 1, NAN},
    {-2, 2, 4, -4, NAN},
    {-2, -1, -0.5f, -0.25f, NAN},
    {-2, 0.5f, NAN, NAN, NAN},
    {2.5f, 0, 1, 0, 0.91629076f},
    {2.5f, 1, 2.5f, 1, 2.2907269f},
    {2.5f, 2, 6.25f, 5, 5.72681713f},
    {2.5f, -1, 0.400000006f, -0.159999996f, 0.366516322f},
    {2.5f, 0.5f, 1.58113885f, 0.316227764f, 1.44878292f},
};

/* Infinities must match exactly (test_assert_close's difference of two
 * infinities is nan), nan must meet nan, the rest within `tol`. */
static void assert_edges(const float *got, int column, const char *layout, const char *what)
{
    const test_tol *tol = test_tol_get("default");
    for (int i = 0; i < 15; i++) {
        float want = pow_edges[i][column];
        bool ok = isnan(want)   ? isnan(got[i])
                  : isinf(want) ? got[i] == want
                                : fabs((double)got[i] - want) <= tol->atol + tol->rtol * fabs(want);
        ck_assert_msg(ok, "pow %s %s at x %g, y %g: got %.9g, want %.9g", layout, what,
                      (double)pow_edges[i][0], (double)pow_edges[i][1], (double)got[i],
                      (double)want);
    }
}

/* The table through the _same kernels (x and y contiguous (3, 5)) and the
 * strided ones (y a transposed view of a (5, 3) tensor), upstream gradient
 * 1. */
START_TEST(test_pow_tensor_edges)
{
    clg_context *ctx = test_context();
    float x[15], y[15], yt[15], ones[15];
    for (int i = 0; i < 15; i++) {
        x[i] = pow_edges[i][0];
        y[i] = pow_edges[i][1];
        yt[(i % 5) * 3 + i / 5] = y[i];
        ones[i] = 1;
    }
    for (int strided = 0; strided < 2; strided++) {
        const char *layout = strided ? "strided" : "same";
        clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){3, 5}, x, true);
        clg_tensor *ty = strided ? test_tensor(ctx, 2, (int64_t[]){5, 3}, yt, true)
                                 : test_tensor(ctx, 2, (int64_t[]){3, 5}, y, true);
        clg_step_begin(ctx);
        clg_tensor *out = clg_pow_tensor(tx, strided ? clg_transpose(ty, 0, 1) : ty);
        clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){3, 5}, ones);
        ck_assert_msg(out && gout, "%s", clg_context_error(ctx));
        ck_assert_msg(clg_backward_with(out, gout) == CLG_STATUS_OK, "%s",
                      clg_context_error(ctx));
        float *got = test_download(out);
        assert_edges(got, 2, layout, "x^y");
        free(got);
        clg_step_end(ctx);
        got = test_download(clg_tensor_grad(tx));
        assert_edges(got, 3, layout, "d/dx");
        free(got);
        float *gy = test_download(clg_tensor_grad(ty)), gy_rows[15];
        for (int i = 0; i < 15; i++)
            gy_rows[i] = strided ? gy[(i % 5) * 3 + i / 5] : gy[i];
        assert_edges(gy_rows, 4, layout, "d/dy");
        free(gy);
        clg_tensor_destroy(tx);
        clg_tensor_destroy(ty);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* Under a bound of 1,024 iterations: a base of shape (1) raised to 2,000
 * exponents sums 2,000 terms in one work-item for its gradient, so backward
 * refuses, naming the op and the loop; the exponent's own gradient (no
 * broadcast) and a base against 1,000 exponents still go through, the latter
 * matching the host sum. */
START_TEST(test_pow_tensor_loop_bound)
{
    clg_context *ctx = test_context_loop_limit("1024");
    float x = 1.5f, y[2000];
    test_random(y, 2000, 70, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 1, (int64_t[]){1}, &x, true);
    clg_tensor *wide = test_tensor(ctx, 1, (int64_t[]){2000}, y, true);
    clg_step_begin(ctx);
    clg_tensor *out = clg_sum_all(clg_pow_tensor(tx, wide));
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_ne(clg_backward(out), CLG_STATUS_OK);
    test_expect_loop_refusal(ctx, NULL, "clg_pow_tensor");
    clg_step_end(ctx);
    clg_tensor_destroy(wide);
    clg_tensor_zero_grad(tx); /* whatever the refused backward left */
    clg_tensor *narrow = test_tensor(ctx, 1, (int64_t[]){1000}, y, false);
    clg_step_begin(ctx);
    out = clg_sum_all(clg_pow_tensor(tx, narrow));
    ck_assert_msg(out && clg_backward(out) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    clg_step_end(ctx);
    double want = 0;
    for (int i = 0; i < 1000; i++)
        want += y[i] * pow(x, y[i] - 1);
    float *got = test_download(clg_tensor_grad(tx)), wantf = (float)want;
    test_assert_close(got, &wantf, 1, test_tol_get("reduction"), "d/dx over 1,000 exponents");
    free(got);
    clg_tensor_destroy(tx);
    clg_tensor_destroy(narrow);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_binary_shape_mismatch)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 2, (int64_t[]){4, 3}, NULL, false);
    ck_assert_ptr_null(clg_mul(a, b));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_SHAPE);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_mul: shapes [2, 3] and [4, 3] cannot be broadcast");
    /* sticky: a later op returns NULL without touching the message */
    ck_assert_ptr_null(clg_add(a, a));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_mul: shapes [2, 3] and [4, 3] cannot be broadcast");
    ck_assert_ptr_null(clg_add(NULL, a));
    clg_context_clear_error(ctx);
    ck_assert_ptr_nonnull(clg_add(a, a));
    clg_tensor_destroy(a);
    clg_tensor_destroy(b);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_binary_broadcast_matches_host,
                            test_binary_gradcheck,
                            test_binary_gradcheck_transposed,
                            test_binary_same_backward_matches_host,
                            test_binary_strided_matches_same,
                            test_binary_golden,
                            test_pow_tensor_edges,
                            test_pow_tensor_loop_bound,
                            test_binary_shape_mismatch,
                            NULL};
    return test_main("ops/binary", "binary", 0, tests);
}
