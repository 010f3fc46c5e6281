/* tests/ops/test_conv.c: 2-D convolution (ops/conv.c) against a naive host
 * loop over odd shapes, finite differences for input, weight and bias,
 * PyTorch's F.conv2d (tools/golden/gen_ops_conv.py), every shape and
 * parameter error, and the steady-state contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* One convolution: shapes and clg_conv2d_params. */
typedef struct conv_case {
    int n, c, h, w; /* input */
    int k, kh, kw;  /* weight */
    bool bias;
    clg_conv2d_params p;
} conv_case;

static clg_conv2d_params params(int sh, int sw, int ph, int pw, int dh, int dw)
{
    return (clg_conv2d_params){sh, sw, ph, pw, dh, dw};
}

static int out_h(const conv_case *cc)
{
    return (cc->h + 2 * cc->p.pad_h - cc->p.dilation_h * (cc->kh - 1) - 1) / cc->p.stride_h + 1;
}

static int out_w(const conv_case *cc)
{
    return (cc->w + 2 * cc->p.pad_w - cc->p.dilation_w * (cc->kw - 1) - 1) / cc->p.stride_w + 1;
}

/* The naive host reference, in double: y = conv(x, w) + b and, for an
 * upstream gradient g, dx, dw, db, all by direct loops over every
 * (output, tap) pair that reads a real input element. */
static void host_conv(const conv_case *cc, const float *x, const float *w, const float *b,
                      const float *g, float *y, float *dx, float *dw, float *db)
{
    int ho = out_h(cc), wo = out_w(cc);
    size_t nx = (size_t)cc->n * cc->c * cc->h * cc->w, nw = (size_t)cc->k * cc->c * cc->kh * cc->kw;
    double *ax = calloc(nx, sizeof *ax), *aw = calloc(nw, sizeof *aw);
    for (int k = 0; k < cc->k; k++)
        db[k] = 0;
    for (int n = 0; n < cc->n; n++)
        for (int k = 0; k < cc->k; k++)
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++) {
                    int o = ((n * cc->k + k) * ho + oh) * wo + ow;
                    double s = b ? b[k] : 0;
                    for (int c = 0; c < cc->c; c++)
                        for (int i = 0; i < cc->kh; i++)
                            for (int j = 0; j < cc->kw; j++) {
                                int ih = oh * cc->p.stride_h - cc->p.pad_h + i * cc->p.dilation_h;
                                int iw = ow * cc->p.stride_w - cc->p.pad_w + j * cc->p.dilation_w;
                                if (ih < 0 || ih >= cc->h || iw < 0 || iw >= cc->w)
                                    continue;
                                size_t xi = (((size_t)n * cc->c + c) * cc->h + ih) * cc->w + iw;
                                size_t wi = (((size_t)k * cc->c + c) * cc->kh + i) * cc->kw + j;
                                s += (double)x[xi] * w[wi];
                                ax[xi] += (double)g[o] * w[wi];
                                aw[wi] += (double)g[o] * x[xi];
                            }
                    y[o] = (float)s;
                    db[k] += g[o];
                }
    for (size_t i = 0; i < nx; i++)
        dx[i] = (float)ax[i];
    for (size_t i = 0; i < nw; i++)
        dw[i] = (float)aw[i];
    free(ax);
    free(aw);
}

static void assert_grad(const clg_tensor *t, const float *want, const char *what)
{
    ck_assert_msg(clg_tensor_grad(t) != NULL, "%s: no gradient", what);
    float *got = test_download(clg_tensor_grad(t));
    test_assert_close(got, want, (size_t)clg_tensor_numel(t), test_tol_get("gemm"), what);
    free(got);
}

/* Forward and backward of one case against host_conv; `steps` backward
 * passes without zero_grad, so the second checks the accumulating paths
 * (GEMM beta 1, col2im and the bias reduction adding to what is there). */
static void check_case(clg_context *ctx, const conv_case *cc, int steps)
{
    int ho = out_h(cc), wo = out_w(cc);
    size_t nx = (size_t)cc->n * cc->c * cc->h * cc->w;
    size_t nw = (size_t)cc->k * cc->c * cc->kh * cc->kw;
    size_t ny = (size_t)cc->n * cc->k * ho * wo;
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), b[64];
    float *g = malloc(ny * sizeof *g), *y = malloc(ny * sizeof *y);
    float *dx = malloc(nx * sizeof *dx), *dw = malloc(nw * sizeof *dw), db[64];
    ck_assert_int_le(cc->k, 64);
    test_random(x, nx, 1, -1, 1);
    test_random(w, nw, 2, -0.5f, 0.5f);
    test_random(b, (size_t)cc->k, 3, -1, 1);
    test_random(g, ny, 4, -1, 1);
    host_conv(cc, x, w, cc->bias ? b : NULL, g, y, dx, dw, db);
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){cc->n, cc->c, cc->h, cc->w}, x, true);
    clg_tensor *tw = test_tensor(ctx, 4, (int64_t[]){cc->k, cc->c, cc->kh, cc->kw}, w, true);
    clg_tensor *tb = cc->bias ? test_tensor(ctx, 1, (int64_t[]){cc->k}, b, true) : NULL;
    for (int step = 1; step <= steps; step++) {
        clg_step_begin(ctx);
        clg_tensor *out = clg_conv2d(tx, tw, tb, &cc->p);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_rank(out), 4);
        ck_assert_int_eq(clg_tensor_dim(out, 0), cc->n);
        ck_assert_int_eq(clg_tensor_dim(out, 1), cc->k);
        ck_assert_int_eq(clg_tensor_dim(out, 2), ho);
        ck_assert_int_eq(clg_tensor_dim(out, 3), wo);
        float *got = test_download(out);
        test_assert_close(got, y, ny, test_tol_get("gemm"), "conv2d forward");
        free(got);
        clg_tensor *tg =
            clg_tensor_from_host(ctx, CLG_DTYPE_F32, 4, (int64_t[]){cc->n, cc->k, ho, wo}, g);
        ck_assert_msg(clg_backward_with(out, tg) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
        clg_step_end(ctx);
        if (step > 1) { /* each pass added the same gradient once more */
            for (size_t i = 0; i < nx; i++)
                dx[i] *= (float)step / (float)(step - 1);
            for (size_t i = 0; i < nw; i++)
                dw[i] *= (float)step / (float)(step - 1);
            for (int i = 0; i < cc->k; i++)
                db[i] *= (float)step / (float)(step - 1);
        }
        assert_grad(tx, dx, "conv2d dx");
        assert_grad(tw, dw, "conv2d dw");
        if (tb)
            assert_grad(tb, db, "conv2d db");
    }
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tw);
    clg_tensor_destroy(tb);
    free(x);
    free(w);
    free(g);
    free(y);
    free(dx);
    free(dw);
}

START_TEST(test_conv2d_matches_host)
{
    clg_context *ctx = test_context();
    const conv_case cases[] = {
        /* batch 1, non-square, C=3 K=5, stride 2, padding 2 */
        {1, 3, 7, 5, 5, 3, 3, true, params(2, 2, 2, 2, 1, 1)},
        /* dilation 2, a 3x2 kernel, stride only along w, no bias */
        {2, 3, 7, 6, 4, 3, 2, false, params(1, 2, 1, 1, 2, 2)},
        /* 1x1 kernel: a per-pixel matrix product */
        {2, 3, 5, 4, 5, 1, 1, true, params(1, 1, 0, 0, 1, 1)},
        /* every parameter different per axis */
        {1, 2, 6, 9, 3, 2, 3, true, params(2, 1, 0, 2, 1, 2)},
        /* a kernel as large as the padded input: a 1x1 output */
        {2, 3, 4, 3, 2, 4, 5, true, params(1, 1, 0, 1, 1, 1)},
        /* LeNet-5's second layer, at batch 3 */
        {3, 6, 10, 10, 16, 5, 5, true, params(1, 1, 0, 0, 1, 1)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(ctx, &cases[i], 1);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_conv2d_accumulates)
{
    clg_context *ctx = test_context();
    const conv_case cc = {2, 3, 7, 5, 5, 3, 3, true, params(2, 1, 2, 1, 1, 2)};
    check_case(ctx, &cc, 2);
    clg_context_destroy(ctx);
}
END_TEST

typedef struct conv_arg {
    clg_conv2d_params p;
    bool transposed; /* feed x as a non-contiguous view */
} conv_arg;

static clg_tensor *run_conv(clg_tensor *const *in, const void *arg)
{
    const conv_arg *a = arg;
    clg_tensor *x = a->transposed ? clg_transpose(in[0], 2, 3) : in[0];
    return clg_conv2d(x, in[1], in[2], &a->p);
}

START_TEST(test_conv2d_gradcheck)
{
    clg_context *ctx = test_context();
    const test_tol *tol = test_tol_get("gradcheck");
    float x[120], w[36], b[3];
    test_random(x, 120, 5, -1, 1);
    test_random(w, 36, 6, -1, 1);
    test_random(b, 3, 7, -1, 1);
    /* stride (2, 1), padding (1, 2) */
    conv_arg a = {params(2, 1, 1, 2, 1, 1), false};
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){1, 2, 5, 4}, x, true);
    clg_tensor *tw = test_tensor(ctx, 4, (int64_t[]){3, 2, 3, 2}, w, true);
    clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){3}, b, true);
    test_gradcheck(ctx, run_conv, &a, 3, (clg_tensor *[]){tx, tw, tb}, tol);
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tw);
    clg_tensor_destroy(tb);
    /* dilation 2, C=3, batch 2, and x reaching the op as a transposed view */
    conv_arg d = {params(1, 1, 1, 0, 2, 2), true};
    tx = test_tensor(ctx, 4, (int64_t[]){2, 3, 4, 5}, x, true); /* seen as (2, 3, 5, 4) */
    tw = test_tensor(ctx, 4, (int64_t[]){2, 3, 2, 2}, w, true);
    tb = test_tensor(ctx, 1, (int64_t[]){2}, b, true);
    test_gradcheck(ctx, run_conv, &d, 3, (clg_tensor *[]){tx, tw, tb}, tol);
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tw);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

/* Golden cases carry their parameters as <case>.params (int32). */
static clg_conv2d_params golden_params(const clg_safetensors *st, const char *case_name)
{
    char name[128];
    snprintf(name, sizeof name, "%s.params", case_name);
    const void *data = NULL;
    int rank;
    const int64_t *shape;
    ck_assert_msg(clg_safetensors_get(st, name, NULL, &rank, &shape, &data), "no %s", name);
    ck_assert_int_eq(shape[0], 6);
    const int32_t *v = data;
    return params(v[0], v[1], v[2], v[3], v[4], v[5]);
}

typedef struct golden_arg {
    int n_inputs; /* 2 without a bias */
    clg_conv2d_params p;
} golden_arg;

static clg_tensor *run_conv_golden(clg_tensor *const *in, const void *arg)
{
    const golden_arg *a = arg;
    return clg_conv2d(in[0], in[1], a->n_inputs > 2 ? in[2] : NULL, &a->p);
}

START_TEST(test_conv2d_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_conv");
    const char *cases[] = {"basic", "stride2_pad2", "dilation2", "pointwise", "lenet", "mixed"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s.in2", cases[i]);
        golden_arg arg = {clg_safetensors_get(st, name, NULL, NULL, NULL, NULL) ? 3 : 2,
                          golden_params(st, cases[i])};
        test_golden_case(ctx, st, cases[i], run_conv_golden, &arg, arg.n_inputs, 0,
                         test_tol_get("golden"));
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

static void expect_error(clg_context *ctx, clg_tensor *out, clg_status status, const char *message)
{
    ck_assert_ptr_null(out);
    ck_assert_int_eq(clg_context_status(ctx), status);
    ck_assert_str_eq(clg_context_error(ctx), message);
    clg_context_clear_error(ctx);
}

START_TEST(test_conv2d_bad_input)
{
    clg_context *ctx = test_context();
    clg_tensor *x = test_tensor(ctx, 4, (int64_t[]){1, 3, 7, 5}, NULL, false);
    clg_tensor *x3 = test_tensor(ctx, 3, (int64_t[]){3, 7, 5}, NULL, false);
    clg_tensor *small = test_tensor(ctx, 4, (int64_t[]){1, 3, 4, 4}, NULL, false);
    clg_tensor *w = test_tensor(ctx, 4, (int64_t[]){5, 3, 3, 3}, NULL, false);
    clg_tensor *w3 = test_tensor(ctx, 3, (int64_t[]){5, 3, 3}, NULL, false);
    clg_tensor *w4 = test_tensor(ctx, 4, (int64_t[]){5, 4, 3, 3}, NULL, false);
    clg_tensor *w5 = test_tensor(ctx, 4, (int64_t[]){5, 3, 5, 5}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){5}, NULL, false);
    clg_tensor *b4 = test_tensor(ctx, 1, (int64_t[]){4}, NULL, false);
    clg_conv2d_params p = clg_conv2d_params_default();
    clg_step_begin(ctx);
    expect_error(ctx, clg_conv2d(x3, w, b, &p), CLG_STATUS_SHAPE,
                 "clg_conv2d: input shape [3, 7, 5] is not (N, C, H, W)");
    expect_error(ctx, clg_conv2d(x, w3, b, &p), CLG_STATUS_SHAPE,
                 "clg_conv2d: weight shape [5, 3, 3] is not (K, C, kh, kw)");
    expect_error(ctx, clg_conv2d(x, w4, b, &p), CLG_STATUS_SHAPE,
                 "clg_conv2d: input [1, 3, 7, 5] has 3 channels but weight [5, 4, 3, 3] "
                 "expects 4");
    expect_error(ctx, clg_conv2d(x, w, b4, &p), CLG_STATUS_SHAPE,
                 "clg_conv2d: bias shape [4] does not match the 5 output channels of weight "
                 "[5, 3, 3, 3]");
    p.stride_h = 0;
    expect_error(ctx, clg_conv2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_conv2d: stride (0, 1) and dilation (1, 1) must be positive");
    p = clg_conv2d_params_default();
    p.dilation_w = -1;
    expect_error(ctx, clg_conv2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_conv2d: stride (1, 1) and dilation (1, -1) must be positive");
    p = clg_conv2d_params_default();
    p.pad_h = -1;
    expect_error(ctx, clg_conv2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_conv2d: padding (-1, 0) must not be negative");
    p = clg_conv2d_params_default();
    expect_error(ctx, clg_conv2d(small, w5, b, &p), CLG_STATUS_SHAPE,
                 "clg_conv2d: weight [5, 3, 5, 5] with dilation (1, 1) spans 5x5, larger than "
                 "the padded input 4x4 (input [1, 3, 4, 4], padding (0, 0))");
    /* dilation 3 stretches the 3x3 kernel over 7x7, wider than the 5 columns */
    p.dilation_h = p.dilation_w = 3;
    expect_error(ctx, clg_conv2d(x, w, b, &p), CLG_STATUS_SHAPE,
                 "clg_conv2d: weight [5, 3, 3, 3] with dilation (3, 3) spans 7x7, larger than "
                 "the padded input 7x5 (input [1, 3, 7, 5], padding (0, 0))");
    /* padding one column on each side makes it fit exactly: a 1x1 output */
    p.pad_w = 1;
    clg_tensor *out = clg_conv2d(x, w, b, &p);
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_tensor_dim(out, 2), 1);
    ck_assert_int_eq(clg_tensor_dim(out, 3), 1);
    /* sticky: a failed op's NULL passes through without a new message */
    expect_error(ctx, clg_conv2d(x3, w, NULL, NULL), CLG_STATUS_SHAPE,
                 "clg_conv2d: input shape [3, 7, 5] is not (N, C, H, W)");
    ck_assert_ptr_null(clg_conv2d(NULL, w, b, NULL));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_step_end(ctx);
    clg_tensor *ts[] = {x, x3, small, w, w3, w4, w5, b, b4};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        clg_tensor_destroy(ts[i]);
    clg_context_destroy(ctx);
}
END_TEST

/* One training-like step: conv, sum, backward into persistent gradients. */
static void conv_step(clg_context *ctx, clg_tensor *x, clg_tensor *w, clg_tensor *b,
                      const clg_conv2d_params *p)
{
    clg_step_begin(ctx);
    clg_tensor *loss = clg_sum_all(clg_conv2d(x, w, b, p));
    ck_assert_msg(clg_backward(loss) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    clg_step_end(ctx);
}

/* LeNet-5's first layer at batch 8: once the first step has built the
 * programs and sized the arena, a second identical step allocates nothing on
 * the device and builds nothing, and runs its fixed kernel and GEMM count:
 * forward im2col, GEMM, bias+layout; backward bias reduction, layout, two
 * GEMMs, col2im (and the sum and its backward). */
START_TEST(test_conv2d_steady_state)
{
    clg_context *ctx = test_context();
    float *x = malloc(8 * 28 * 28 * sizeof *x);
    test_random(x, 8 * 28 * 28, 8, 0, 1);
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){8, 1, 28, 28}, x, true);
    clg_tensor *tw = test_tensor(ctx, 4, (int64_t[]){6, 1, 5, 5}, NULL, true);
    clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){6}, NULL, true);
    clg_conv2d_params p = clg_conv2d_params_default();
    p.pad_h = p.pad_w = 2;
    conv_step(ctx, tx, tw, tb, &p);
    clg_counters before, after;
    clg_counters_get(ctx, &before);
    conv_step(ctx, tx, tw, tb, &p);
    clg_counters_get(ctx, &after);
    ck_assert_uint_eq(after.device_allocations, before.device_allocations);
    ck_assert_uint_eq(after.program_builds, before.program_builds);
    ck_assert_uint_eq(after.gemm_calls - before.gemm_calls, 3);
    clg_counters first = after;
    /* the conv's own launches: a step without the conv's backward into x
     * differs by exactly col2im and nothing else */
    clg_tensor_set_requires_grad(tx, false);
    conv_step(ctx, tx, tw, tb, &p);
    clg_counters_get(ctx, &after);
    ck_assert_uint_eq(after.gemm_calls - first.gemm_calls, 2);
    ck_assert_uint_eq((after.kernel_launches - first.kernel_launches) + 1,
                      first.kernel_launches - before.kernel_launches);
    ck_assert_uint_eq(after.device_allocations, before.device_allocations);
    free(x);
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tw);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops/conv");
    TCase *tc = tcase_create("conv");
    tcase_add_test(tc, test_conv2d_matches_host);
    tcase_add_test(tc, test_conv2d_accumulates);
    tcase_add_test(tc, test_conv2d_gradcheck);
    tcase_add_test(tc, test_conv2d_golden);
    tcase_add_test(tc, test_conv2d_bad_input);
    tcase_add_test(tc, test_conv2d_steady_state);
    suite_add_tcase(s, tc);
    return test_run(s);
}
