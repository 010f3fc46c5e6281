/* tests/ops/test_conv.c: 2-D convolution and transposed convolution
 * (ops/conv.c) against naive host loops over odd shapes, finite differences
 * for input, weight and bias, PyTorch's F.conv2d and F.conv_transpose2d
 * (tools/golden/gen_ops_conv.py, gen_conv_transpose.py), every shape and
 * parameter error, and the steady-state contract; clg_conv2d_act against
 * clg_conv2d + activation (bit for bit), finite differences and PyTorch. */
#include <math.h>
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

static chk_conv_shape conv_shape(const conv_case *cc)
{
    const clg_conv2d_params *p = &cc->p;
    return (chk_conv_shape){.n = cc->n, .c = cc->c, .h = cc->h, .w = cc->w, .k = cc->k,
                            .kh = cc->kh, .kw = cc->kw, .stride_h = p->stride_h,
                            .stride_w = p->stride_w, .pad_h = p->pad_h, .pad_w = p->pad_w,
                            .dilation_h = p->dilation_h, .dilation_w = p->dilation_w};
}

static int out_h(const conv_case *cc)
{
    chk_conv_shape s = conv_shape(cc);
    return chk_conv2d_out_h(&s);
}

static int out_w(const conv_case *cc)
{
    chk_conv_shape s = conv_shape(cc);
    return chk_conv2d_out_w(&s);
}

/* check/'s naive references (chk_conv2d, chk_conv_transpose2d, shared with
 * `clgrad check`) on float arrays: y = op(x, w) + b (b may be NULL) and, for
 * an upstream gradient g, dx, dw, db. */
static void host_conv_any(bool transposed, const chk_conv_shape *s, const float *x,
                          const float *w, const float *b, const float *g, float *y, float *dx,
                          float *dw, float *db)
{
    int ho = transposed ? chk_conv_transpose2d_out_h(s) : chk_conv2d_out_h(s);
    int wo = transposed ? chk_conv_transpose2d_out_w(s) : chk_conv2d_out_w(s);
    size_t nx = (size_t)s->n * s->c * s->h * s->w, nw = (size_t)s->k * s->c * s->kh * s->kw;
    size_t ny = (size_t)s->n * s->k * ho * wo, nb = (size_t)s->k;
    double *xd = test_doubles(x, nx), *wd = test_doubles(w, nw), *gd = test_doubles(g, ny);
    double *bd = b ? test_doubles(b, nb) : NULL, *yd = test_doubles(g, ny);
    double *dxd = test_doubles(x, nx), *dwd = test_doubles(w, nw), *dbd = malloc(nb * sizeof *dbd);
    ck_assert_ptr_nonnull(dbd);
    (transposed ? chk_conv_transpose2d : chk_conv2d)(s, xd, wd, bd, gd, yd, dxd, dwd, dbd);
    test_floats(yd, y, ny);
    test_floats(dxd, dx, nx);
    test_floats(dwd, dw, nw);
    test_floats(dbd, db, nb);
    free(xd), free(wd), free(gd), free(bd), free(yd), free(dxd), free(dwd), free(dbd);
}

static void host_conv(const conv_case *cc, const float *x, const float *w, const float *b,
                      const float *g, float *y, float *dx, float *dw, float *db)
{
    chk_conv_shape s = conv_shape(cc);
    host_conv_any(false, &s, x, w, b, g, y, dx, dw, db);
}

static void assert_grad(const clg_tensor *t, const float *want, const char *what)
{
    ck_assert_msg(clg_tensor_grad(t) != NULL, "%s: no gradient", what);
    float *got = test_download(clg_tensor_grad(t));
    test_assert_close(got, want, (size_t)clg_tensor_numel(t), test_tol_get("gemm"), what);
    free(got);
}

/* One convolution to check against its host reference: the shapes of x,
 * the weight and the output (K = bias length = out[1]), and the op. */
typedef struct conv_check {
    const char *what; /* "conv2d", "conv_transpose2d" */
    int64_t x[4], w[4], out[4];
    bool bias;
    clg_tensor *(*run)(clg_tensor *x, clg_tensor *w, clg_tensor *b, const void *arg);
    /* y = op(x, w, b) and the gradients of x, w, b for upstream g */
    void (*host)(const void *arg, const float *x, const float *w, const float *b,
                 const float *g, float *y, float *dx, float *dw, float *db);
    const void *arg; /* the case, passed to run and host */
} conv_check;

/* Forward and backward of one case against its host reference; `steps`
 * backward passes without zero_grad, so the second checks the accumulating
 * paths (GEMM beta 1, col2im and the bias reduction adding to what is
 * there). */
static void check_against_host(clg_context *ctx, const conv_check *c, int steps)
{
    size_t nx = (size_t)(c->x[0] * c->x[1] * c->x[2] * c->x[3]);
    size_t nw = (size_t)(c->w[0] * c->w[1] * c->w[2] * c->w[3]);
    size_t ny = (size_t)(c->out[0] * c->out[1] * c->out[2] * c->out[3]);
    int k = (int)c->out[1];
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), b[64];
    float *g = malloc(ny * sizeof *g), *y = malloc(ny * sizeof *y);
    float *dx = malloc(nx * sizeof *dx), *dw = malloc(nw * sizeof *dw), db[64];
    ck_assert_int_le(k, 64);
    test_random(x, nx, 1, -1, 1);
    test_random(w, nw, 2, -0.5f, 0.5f);
    test_random(b, (size_t)k, 3, -1, 1);
    test_random(g, ny, 4, -1, 1);
    c->host(c->arg, x, w, c->bias ? b : NULL, g, y, dx, dw, db);
    clg_tensor *tx = test_tensor(ctx, 4, c->x, x, true);
    clg_tensor *tw = test_tensor(ctx, 4, c->w, w, true);
    clg_tensor *tb = c->bias ? test_tensor(ctx, 1, (int64_t[]){k}, b, true) : NULL;
    char what[64];
    for (int step = 1; step <= steps; step++) {
        clg_step_begin(ctx);
        clg_tensor *out = c->run(tx, tw, tb, c->arg);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_rank(out), 4);
        for (int d = 0; d < 4; d++)
            ck_assert_int_eq(clg_tensor_dim(out, d), c->out[d]);
        float *got = test_download(out);
        snprintf(what, sizeof what, "%s forward", c->what);
        test_assert_close(got, y, ny, test_tol_get("gemm"), what);
        free(got);
        clg_tensor *tg = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 4, c->out, g);
        ck_assert_msg(clg_backward_with(out, tg) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
        clg_step_end(ctx);
        if (step > 1) { /* each pass added the same gradient once more */
            for (size_t i = 0; i < nx; i++)
                dx[i] *= (float)step / (float)(step - 1);
            for (size_t i = 0; i < nw; i++)
                dw[i] *= (float)step / (float)(step - 1);
            for (int i = 0; i < k; i++)
                db[i] *= (float)step / (float)(step - 1);
        }
        snprintf(what, sizeof what, "%s dx", c->what);
        assert_grad(tx, dx, what);
        snprintf(what, sizeof what, "%s dw", c->what);
        assert_grad(tw, dw, what);
        snprintf(what, sizeof what, "%s db", c->what);
        if (tb)
            assert_grad(tb, db, what);
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

static clg_tensor *conv_run(clg_tensor *x, clg_tensor *w, clg_tensor *b, const void *arg)
{
    return clg_conv2d(x, w, b, &((const conv_case *)arg)->p);
}

static void conv_host(const void *arg, const float *x, const float *w, const float *b,
                      const float *g, float *y, float *dx, float *dw, float *db)
{
    host_conv(arg, x, w, b, g, y, dx, dw, db);
}

static void check_case(clg_context *ctx, const conv_case *cc, int steps)
{
    conv_check c = {"conv2d",
                    {cc->n, cc->c, cc->h, cc->w},
                    {cc->k, cc->c, cc->kh, cc->kw},
                    {cc->n, cc->k, out_h(cc), out_w(cc)},
                    cc->bias,
                    conv_run,
                    conv_host,
                    cc};
    check_against_host(ctx, &c, steps);
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

/* test_gradcheck of fn over x (shape xs), w (shape ws) and a bias of `bias`
 * values, all three requiring a gradient; x, w and b hold enough values. */
static void gradcheck_xwb(clg_context *ctx, test_op_fn fn, const void *arg, const int64_t *xs,
                          const int64_t *ws, int64_t bias, const float *x, const float *w,
                          const float *b)
{
    clg_tensor *in[3] = {test_tensor(ctx, 4, xs, x, true), test_tensor(ctx, 4, ws, w, true),
                         test_tensor(ctx, 1, &bias, b, true)};
    test_gradcheck(ctx, fn, arg, 3, in, test_tol_get("gradcheck"));
    for (int i = 0; i < 3; i++)
        clg_tensor_destroy(in[i]);
}

START_TEST(test_conv2d_gradcheck)
{
    clg_context *ctx = test_context();
    float x[120], w[36], b[3];
    test_random(x, 120, 5, -1, 1);
    test_random(w, 36, 6, -1, 1);
    test_random(b, 3, 7, -1, 1);
    /* stride (2, 1), padding (1, 2) */
    conv_arg a = {params(2, 1, 1, 2, 1, 1), false};
    gradcheck_xwb(ctx, run_conv, &a, (int64_t[]){1, 2, 5, 4}, (int64_t[]){3, 2, 3, 2}, 3, x, w, b);
    /* dilation 2, C=3, batch 2, and x reaching the op as a transposed view:
     * x (2, 3, 4, 5) seen as (2, 3, 5, 4) */
    conv_arg d = {params(1, 1, 1, 0, 2, 2), true};
    gradcheck_xwb(ctx, run_conv, &d, (int64_t[]){2, 3, 4, 5}, (int64_t[]){2, 3, 2, 2}, 2, x, w, b);
    clg_context_destroy(ctx);
}
END_TEST

/* Golden cases carry their parameters as <case>.params, `count` int32. */
static const int32_t *golden_ints(const clg_safetensors *st, const char *case_name, int count)
{
    char name[128];
    snprintf(name, sizeof name, "%s.params", case_name);
    const void *data = NULL;
    int rank;
    const int64_t *shape;
    ck_assert_msg(clg_safetensors_get(st, name, NULL, &rank, &shape, &data), "no %s", name);
    ck_assert_int_eq(shape[0], count);
    return data;
}

static clg_conv2d_params golden_params(const clg_safetensors *st, const char *case_name)
{
    const int32_t *v = golden_ints(st, case_name, 6);
    return params(v[0], v[1], v[2], v[3], v[4], v[5]);
}

/* Whether a golden case has a bias (a third input). */
static bool golden_has_bias(const clg_safetensors *st, const char *case_name)
{
    char name[128];
    snprintf(name, sizeof name, "%s.in2", case_name);
    return clg_safetensors_get(st, name, NULL, NULL, NULL, NULL);
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
        golden_arg arg = {golden_has_bias(st, cases[i]) ? 3 : 2, golden_params(st, cases[i])};
        test_golden_case(ctx, st, cases[i], run_conv_golden, &arg, arg.n_inputs, 0,
                         test_tol_get("golden"));
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* ---- clg_conv2d_act ---- */

typedef struct act_arg {
    int v; /* index into test_fused_acts */
    clg_conv2d_params p;
} act_arg;

static clg_tensor *run_conv_act(clg_tensor *const *in, const void *arg)
{
    const act_arg *a = arg;
    return clg_conv2d_act(in[0], in[1], in[2], &a->p, test_fused_acts[a->v].act,
                          test_fused_acts[a->v].slope);
}

/* The same function unfused: clg_conv2d, then the activation op. */
static clg_tensor *run_conv_then_act(clg_tensor *const *in, const void *arg)
{
    const act_arg *a = arg;
    return test_activate(clg_conv2d(in[0], in[1], in[2], &a->p), &test_fused_acts[a->v]);
}

/* The fused op is a drop-in for clg_conv2d + activation: the same float
 * operations in the same order, so the same values and gradients bit for
 * bit, over two accumulating backward passes. */
START_TEST(test_conv2d_act_equals_unfused)
{
    clg_context *ctx = test_context();
    enum { NX = 2 * 3 * 7 * 6, NW = 4 * 3 * 3 * 2, NY = 2 * 4 * 4 * 9 };
    float x[NX], w[NW], b[4], g[NY];
    test_random(x, NX, 21, -1, 1);
    test_random(w, NW, 22, -0.5f, 0.5f);
    test_random(b, 4, 23, -0.5f, 0.5f);
    test_random(g, NY, 24, -1, 1);
    for (int v = 0; v < TEST_N_FUSED_ACTS; v++) {
        act_arg a = {v, params(2, 1, 1, 2, 1, 1)};
        float *got[2][4];
        for (int fused = 0; fused < 2; fused++) {
            clg_tensor *in[3] = {test_tensor(ctx, 4, (int64_t[]){2, 3, 7, 6}, x, true),
                                 test_tensor(ctx, 4, (int64_t[]){4, 3, 3, 2}, w, true),
                                 test_tensor(ctx, 1, (int64_t[]){4}, b, true)};
            clg_tensor *tg = test_tensor(ctx, 4, (int64_t[]){2, 4, 4, 9}, g, false);
            for (int pass = 0; pass < 2; pass++) {
                clg_step_begin(ctx);
                clg_tensor *y = fused ? run_conv_act(in, &a) : run_conv_then_act(in, &a);
                ck_assert_msg(y, "%s", clg_context_error(ctx));
                if (pass == 0)
                    got[fused][0] = test_download(y);
                ck_assert_int_eq(clg_backward_with(y, tg), CLG_STATUS_OK);
                clg_step_end(ctx);
            }
            for (int i = 0; i < 3; i++) {
                got[fused][i + 1] = test_download(clg_tensor_grad(in[i]));
                clg_tensor_destroy(in[i]);
            }
            clg_tensor_destroy(tg);
        }
        const size_t sizes[4] = {NY, NX, NW, 4};
        const char *what[4] = {"y", "dx", "dw", "db"};
        for (int t = 0; t < 4; t++) {
            ck_assert_msg(memcmp(got[0][t], got[1][t], sizes[t] * sizeof(float)) == 0,
                          "%s: %s differs from clg_conv2d + activation", test_fused_acts[v].name,
                          what[t]);
            free(got[0][t]);
            free(got[1][t]);
        }
    }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_conv2d_act_gradcheck)
{
    clg_context *ctx = test_context();
    float x[2 * 2 * 5 * 4], w[3 * 2 * 3 * 2], b[3];
    test_random(x, 80, 31, -1, 1);
    test_random(w, 36, 32, -1, 1);
    test_random(b, 3, 33, -1, 1);
    /* relu, leaky_relu and selu have a kink at 0 and hardsigmoid at -3 and 3,
     * where a central difference is not the derivative; their gradients are
     * checked against the unfused ops above and PyTorch below (elu with
     * alpha 1 has no kink) */
    for (int v = 0; v < TEST_N_FUSED_ACTS; v++) {
        clg_activation act = test_fused_acts[v].act;
        if (act == CLG_ACT_RELU || act == CLG_ACT_LEAKY_RELU || act == CLG_ACT_SELU ||
            act == CLG_ACT_HARDSIGMOID)
            continue;
        act_arg a = {v, params(2, 1, 1, 2, 1, 1)};
        gradcheck_xwb(ctx, run_conv_act, &a, (int64_t[]){2, 2, 5, 4}, (int64_t[]){3, 2, 3, 2}, 3, x,
                      w, b);
    }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_conv2d_act_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_conv");
    for (int v = 1; v < TEST_N_FUSED_ACTS; v++) { /* the identity is test_conv2d_golden */
        char name[64];
        snprintf(name, sizeof name, "act_%s", test_fused_acts[v].name);
        act_arg a = {v, golden_params(st, name)};
        test_golden_case(ctx, st, name, run_conv_act, &a, 3, 0, test_tol_get("golden"));
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

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
    test_expect_error(ctx, clg_conv2d(x3, w, b, &p), CLG_STATUS_SHAPE,
                      "clg_conv2d: input shape [3, 7, 5] is not (N, C, H, W)");
    test_expect_error(ctx, clg_conv2d(x, w3, b, &p), CLG_STATUS_SHAPE,
                      "clg_conv2d: weight shape [5, 3, 3] is not (K, C, kh, kw)");
    test_expect_error(ctx, clg_conv2d(x, w4, b, &p), CLG_STATUS_SHAPE,
                      "clg_conv2d: input [1, 3, 7, 5] has 3 channels but weight [5, 4, 3, 3] "
                      "expects 4");
    test_expect_error(ctx, clg_conv2d(x, w, b4, &p), CLG_STATUS_SHAPE,
                      "clg_conv2d: bias shape [4] does not match the 5 output channels of weight "
                      "[5, 3, 3, 3]");
    test_expect_error(ctx, clg_conv2d_act(x, w, b, &p, (clg_activation)99, 0.0f),
                      CLG_STATUS_INVALID_ARGUMENT, "clg_conv2d: unknown activation 99");
    p.stride_h = 0;
    test_expect_error(ctx, clg_conv2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_conv2d: stride (0, 1) and dilation (1, 1) must be positive");
    p = clg_conv2d_params_default();
    p.dilation_w = -1;
    test_expect_error(ctx, clg_conv2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_conv2d: stride (1, 1) and dilation (1, -1) must be positive");
    p = clg_conv2d_params_default();
    p.pad_h = -1;
    test_expect_error(ctx, clg_conv2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_conv2d: padding (-1, 0) must not be negative");
    p = clg_conv2d_params_default();
    test_expect_error(ctx, clg_conv2d(small, w5, b, &p), CLG_STATUS_SHAPE,
                      "clg_conv2d: weight [5, 3, 5, 5] with dilation (1, 1) spans 5x5, larger than "
                      "the padded input 4x4 (input [1, 3, 4, 4], padding (0, 0))");
    /* dilation 3 stretches the 3x3 kernel over 7x7, wider than the 5 columns */
    p.dilation_h = p.dilation_w = 3;
    test_expect_error(ctx, clg_conv2d(x, w, b, &p), CLG_STATUS_SHAPE,
                      "clg_conv2d: weight [5, 3, 3, 3] with dilation (3, 3) spans 7x7, larger than "
                      "the padded input 7x5 (input [1, 3, 7, 5], padding (0, 0))");
    /* padding one column on each side makes it fit exactly: a 1x1 output */
    p.pad_w = 1;
    clg_tensor *out = clg_conv2d(x, w, b, &p);
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_tensor_dim(out, 2), 1);
    ck_assert_int_eq(clg_tensor_dim(out, 3), 1);
    /* sticky: a failed op's NULL passes through without a new message */
    test_expect_error(ctx, clg_conv2d(x3, w, NULL, NULL), CLG_STATUS_SHAPE,
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
    test_expect_steady(ctx, &before, &after, -1, "a second conv2d step");
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

/* ---- clg_conv_transpose2d ---- */

/* One transposed convolution: input (n, c, h, w), weight (c, k, kh, kw). */
typedef struct tconv_case {
    int n, c, h, w;
    int k, kh, kw;
    bool bias;
    clg_conv_transpose2d_params p;
} tconv_case;

/* stride, padding, output padding, dilation, each (h, w) */
static clg_conv_transpose2d_params tparams(int sh, int sw, int ph, int pw, int oph, int opw,
                                           int dh, int dw)
{
    return (clg_conv_transpose2d_params){sh, sw, ph, pw, oph, opw, dh, dw};
}

static chk_conv_shape tconv_shape(const tconv_case *t)
{
    const clg_conv_transpose2d_params *p = &t->p;
    return (chk_conv_shape){.n = t->n, .c = t->c, .h = t->h, .w = t->w, .k = t->k, .kh = t->kh,
                            .kw = t->kw, .stride_h = p->stride_h, .stride_w = p->stride_w,
                            .pad_h = p->pad_h, .pad_w = p->pad_w, .output_pad_h = p->output_pad_h,
                            .output_pad_w = p->output_pad_w, .dilation_h = p->dilation_h,
                            .dilation_w = p->dilation_w};
}

static int tout_h(const tconv_case *t)
{
    chk_conv_shape s = tconv_shape(t);
    return chk_conv_transpose2d_out_h(&s);
}

static int tout_w(const tconv_case *t)
{
    chk_conv_shape s = tconv_shape(t);
    return chk_conv_transpose2d_out_w(&s);
}

static void host_tconv(const tconv_case *t, const float *x, const float *w, const float *b,
                       const float *g, float *y, float *dx, float *dw, float *db)
{
    chk_conv_shape s = tconv_shape(t);
    host_conv_any(true, &s, x, w, b, g, y, dx, dw, db);
}

static clg_tensor *tconv_run(clg_tensor *x, clg_tensor *w, clg_tensor *b, const void *arg)
{
    return clg_conv_transpose2d(x, w, b, &((const tconv_case *)arg)->p);
}

static void tconv_host(const void *arg, const float *x, const float *w, const float *b,
                       const float *g, float *y, float *dx, float *dw, float *db)
{
    host_tconv(arg, x, w, b, g, y, dx, dw, db);
}

/* Forward and backward against host_tconv (check_against_host). */
static void check_tconv(clg_context *ctx, const tconv_case *t, int steps)
{
    conv_check c = {"conv_transpose2d",
                    {t->n, t->c, t->h, t->w},
                    {t->c, t->k, t->kh, t->kw},
                    {t->n, t->k, tout_h(t), tout_w(t)},
                    t->bias,
                    tconv_run,
                    tconv_host,
                    t};
    check_against_host(ctx, &c, steps);
}

START_TEST(test_conv_transpose2d_matches_host)
{
    clg_context *ctx = test_context();
    const tconv_case cases[] = {
        /* stride 1: a "full" convolution, the output grows by k - 1 */
        {2, 3, 4, 5, 2, 3, 3, true, tparams(1, 1, 0, 0, 0, 0, 1, 1)},
        /* DCGAN's upsampling: 4x4 kernel, stride 2, padding 1 doubles H and W */
        {2, 4, 3, 3, 3, 4, 4, false, tparams(2, 2, 1, 1, 0, 0, 1, 1)},
        /* stride 3 with output padding 2, every parameter different per axis */
        {1, 2, 3, 4, 3, 3, 2, true, tparams(3, 2, 1, 0, 2, 1, 1, 1)},
        /* dilation 2, output padding allowed by the dilation (not the stride) */
        {1, 3, 4, 3, 2, 2, 3, true, tparams(1, 2, 1, 1, 1, 1, 2, 2)},
        /* 1x1 kernel: a per-pixel matrix product with W^T */
        {2, 3, 4, 4, 5, 1, 1, true, tparams(1, 1, 0, 0, 0, 0, 1, 1)},
        /* the MNIST generator's last layer: 64 -> 1 channel, 14x14 -> 28x28 */
        {2, 16, 14, 14, 1, 4, 4, true, tparams(2, 2, 1, 1, 0, 0, 1, 1)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_tconv(ctx, &cases[i], 1);
    const tconv_case twice = {2, 3, 3, 4, 2, 3, 3, true, tparams(2, 1, 1, 1, 1, 0, 1, 1)};
    check_tconv(ctx, &twice, 2);
    clg_context_destroy(ctx);
}
END_TEST

typedef struct tconv_arg {
    int n_inputs; /* 2 without a bias */
    clg_conv_transpose2d_params p;
    bool transposed; /* feed x as a non-contiguous view */
} tconv_arg;

static clg_tensor *run_tconv(clg_tensor *const *in, const void *arg)
{
    const tconv_arg *a = arg;
    clg_tensor *x = a->transposed ? clg_transpose(in[0], 2, 3) : in[0];
    return clg_conv_transpose2d(x, in[1], a->n_inputs > 2 ? in[2] : NULL, &a->p);
}

START_TEST(test_conv_transpose2d_gradcheck)
{
    clg_context *ctx = test_context();
    float x[60], w[48], b[4];
    test_random(x, 60, 15, -1, 1);
    test_random(w, 48, 16, -1, 1);
    test_random(b, 4, 17, -1, 1);
    /* stride (2, 3), padding (1, 0), output padding (1, 2) */
    tconv_arg a = {3, tparams(2, 3, 1, 0, 1, 2, 1, 1), false};
    gradcheck_xwb(ctx, run_tconv, &a, (int64_t[]){1, 2, 3, 4}, (int64_t[]){2, 3, 3, 2}, 3, x, w, b);
    /* batch 2, dilation 2, x as a transposed view: x (2, 2, 3, 5) seen as
     * (2, 2, 5, 3) */
    tconv_arg d = {3, tparams(1, 1, 1, 0, 0, 1, 2, 2), true};
    gradcheck_xwb(ctx, run_tconv, &d, (int64_t[]){2, 2, 3, 5}, (int64_t[]){2, 4, 2, 3}, 4, x, w, b);
    clg_context_destroy(ctx);
}
END_TEST

/* Cases of tools/golden/gen_conv_transpose.py with <case>.params =
 * [stride_h, stride_w, pad_h, pad_w, output_pad_h, output_pad_w,
 * dilation_h, dilation_w]. */
START_TEST(test_conv_transpose2d_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_conv_transpose");
    const char *cases[] = {"basic", "stride2", "dcgan", "outpad", "dilation", "pointwise"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int32_t *v = golden_ints(st, cases[i], 8);
        tconv_arg arg = {golden_has_bias(st, cases[i]) ? 3 : 2,
                         tparams(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]), false};
        test_golden_case(ctx, st, cases[i], run_tconv, &arg, arg.n_inputs, 0,
                         test_tol_get("golden"));
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_conv_transpose2d_bad_input)
{
    clg_context *ctx = test_context();
    clg_tensor *x = test_tensor(ctx, 4, (int64_t[]){1, 3, 4, 4}, NULL, false);
    clg_tensor *x3 = test_tensor(ctx, 3, (int64_t[]){3, 4, 4}, NULL, false);
    clg_tensor *w = test_tensor(ctx, 4, (int64_t[]){3, 2, 3, 3}, NULL, false);
    clg_tensor *w3 = test_tensor(ctx, 3, (int64_t[]){3, 2, 3}, NULL, false);
    clg_tensor *w4 = test_tensor(ctx, 4, (int64_t[]){4, 2, 3, 3}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){2}, NULL, false);
    clg_tensor *b3 = test_tensor(ctx, 1, (int64_t[]){3}, NULL, false);
    clg_conv_transpose2d_params p = clg_conv_transpose2d_params_default();
    clg_step_begin(ctx);
    test_expect_error(ctx, clg_conv_transpose2d(x3, w, b, &p), CLG_STATUS_SHAPE,
                      "clg_conv_transpose2d: input shape [3, 4, 4] is not (N, C_in, H, W)");
    test_expect_error(ctx, clg_conv_transpose2d(x, w3, b, &p), CLG_STATUS_SHAPE,
                      "clg_conv_transpose2d: weight shape [3, 2, 3] is not (C_in, C_out, kh, kw)");
    test_expect_error(ctx, clg_conv_transpose2d(x, w4, b, &p), CLG_STATUS_SHAPE,
                      "clg_conv_transpose2d: input [1, 3, 4, 4] has 3 channels but weight "
                      "[4, 2, 3, 3] expects 4");
    test_expect_error(
        ctx, clg_conv_transpose2d(x, w, b3, &p), CLG_STATUS_SHAPE,
        "clg_conv_transpose2d: bias shape [3] does not match the 2 output channels of "
        "weight [3, 2, 3, 3]");
    p.stride_w = 0;
    test_expect_error(ctx, clg_conv_transpose2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_conv_transpose2d: stride (1, 0) and dilation (1, 1) must be positive");
    p = clg_conv_transpose2d_params_default();
    p.pad_w = -1;
    test_expect_error(ctx, clg_conv_transpose2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_conv_transpose2d: padding (0, -1) must not be negative");
    /* output padding must stay below the stride (or the dilation) */
    p = clg_conv_transpose2d_params_default();
    p.stride_h = p.stride_w = 2;
    p.output_pad_h = 2;
    test_expect_error(
        ctx, clg_conv_transpose2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
        "clg_conv_transpose2d: output padding (2, 0) must be non-negative and smaller "
        "than the stride (2, 2) or the dilation (1, 1)");
    p.output_pad_h = -1;
    test_expect_error(
        ctx, clg_conv_transpose2d(x, w, b, &p), CLG_STATUS_INVALID_ARGUMENT,
        "clg_conv_transpose2d: output padding (-1, 0) must be non-negative and smaller "
        "than the stride (2, 2) or the dilation (1, 1)");
    /* padding that eats the whole output: (4 - 1) + 2 + 1 - 2 * 3 = 0 */
    p = clg_conv_transpose2d_params_default();
    p.pad_h = 3;
    test_expect_error(ctx, clg_conv_transpose2d(x, w, b, &p), CLG_STATUS_SHAPE,
                      "clg_conv_transpose2d: input [1, 3, 4, 4] with weight [3, 2, 3, 3], stride "
                      "(1, 1) and padding (3, 0) gives an output of 0x6");
    /* one row less of padding leaves a 2-row output */
    p.pad_h = 2;
    clg_tensor *out = clg_conv_transpose2d(x, w, NULL, &p);
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_tensor_dim(out, 2), 2);
    ck_assert_int_eq(clg_tensor_dim(out, 3), 6);
    ck_assert_ptr_null(clg_conv_transpose2d(NULL, w, b, NULL));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_step_end(ctx);
    clg_tensor *ts[] = {x, x3, w, w3, w4, b, b3};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        clg_tensor_destroy(ts[i]);
    clg_context_destroy(ctx);
}
END_TEST

/* A DCGAN layer at batch 8: the second identical step allocates nothing and
 * builds nothing; forward one GEMM, backward two. */
START_TEST(test_conv_transpose2d_steady_state)
{
    clg_context *ctx = test_context();
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){8, 16, 7, 7}, NULL, true);
    clg_tensor *tw = test_tensor(ctx, 4, (int64_t[]){16, 8, 4, 4}, NULL, true);
    clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){8}, NULL, true);
    clg_conv_transpose2d_params p = tparams(2, 2, 1, 1, 0, 0, 1, 1);
    clg_counters before = {0}, after;
    for (int step = 0; step < 2; step++) {
        if (step == 1)
            clg_counters_get(ctx, &before);
        clg_step_begin(ctx);
        clg_tensor *out = clg_conv_transpose2d(tx, tw, tb, &p);
        ck_assert_int_eq(clg_tensor_dim(out, 2), 14);
        ck_assert_msg(clg_backward(clg_sum_all(out)) == CLG_STATUS_OK, "%s",
                      clg_context_error(ctx));
        clg_step_end(ctx);
    }
    test_expect_steady(ctx, &before, &after, -1, "a second conv_transpose2d step");
    ck_assert_uint_eq(after.gemm_calls - before.gemm_calls, 3);
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tw);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

/* The layer (nn/conv_transpose2d.c): weight (in, out, kh, kw) and bias
 * drawn within PyTorch's bound 1/sqrt(out kh kw) (reaching near it, so a
 * fan_in of in kh kw, half the bound here, would fail), names "weight" and
 * "bias", and forward equal to the op on the same tensors. */
START_TEST(test_conv_transpose2d_layer)
{
    clg_context *ctx = test_context();
    clg_conv_transpose2d_params p = tparams(2, 2, 1, 1, 1, 1, 1, 1);
    clg_conv_transpose2d_layer *layer = clg_conv_transpose2d_layer_create(ctx, 8, 2, 3, 3, &p,
                                                                          true, 42);
    ck_assert_msg(layer != NULL, "%s", clg_context_error(ctx));
    const clg_params *params = clg_conv_transpose2d_layer_params(layer);
    ck_assert_int_eq(clg_params_count(params), 2);
    clg_tensor *w = clg_params_find(params, "weight"), *b = clg_params_find(params, "bias");
    ck_assert(w && b);
    ck_assert_int_eq(clg_tensor_dim(w, 0), 8);
    ck_assert_int_eq(clg_tensor_dim(w, 1), 2);
    ck_assert_int_eq(clg_tensor_dim(b, 0), 2);
    float *wv = test_download(w);
    double bound = 1 / sqrt(2.0 * 3 * 3), largest = 0;
    for (int i = 0; i < 8 * 2 * 9; i++) {
        ck_assert_msg(fabs(wv[i]) <= bound, "weight %d = %g beyond %g", i, (double)wv[i], bound);
        largest = fmax(largest, fabs(wv[i]));
    }
    ck_assert_msg(largest > 0.9 * bound, "largest weight %g, bound %g", largest, bound);
    free(wv);
    float x[8 * 9];
    test_random(x, 8 * 9, 18, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){1, 8, 3, 3}, x, false);
    clg_step_begin(ctx);
    clg_tensor *y = clg_conv_transpose2d_layer_forward(layer, tx);
    ck_assert_msg(y != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_tensor_dim(y, 2), 6); /* (3 - 1) 2 - 2 + 2 + 1 + 1 */
    float *got = test_download(y), *want = test_download(clg_conv_transpose2d(tx, w, b, &p));
    ck_assert(memcmp(got, want, 2 * 36 * sizeof *got) == 0);
    free(got);
    free(want);
    clg_step_end(ctx);
    ck_assert_ptr_null(clg_conv_transpose2d_layer_create(ctx, 0, 2, 3, 3, NULL, true, 1));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_conv_transpose2d_layer_create: in_channels 0, out_channels 2 and "
                     "kernel 3x3 must be positive");
    clg_context_clear_error(ctx);
    clg_conv_transpose2d_layer_destroy(layer);
    clg_conv_transpose2d_layer_destroy(NULL);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* Under a bound of 1,024 iterations, planes of 36 x 36 (1,296 elements: the
 * cpu plan's im2col, col2im, layout and bias passes would loop past it)
 * take the per-element passes: the forward and every gradient match the
 * host. */
START_TEST(test_conv2d_loop_bound)
{
    clg_context *ctx = test_context_loop_limit("1024");
    const conv_case cc = {2, 2, 36, 36, 3, 3, 3, true, params(1, 1, 1, 1, 1, 1)};
    check_case(ctx, &cc, 1);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_conv2d_matches_host,
                            test_conv2d_accumulates,
                            test_conv2d_gradcheck,
                            test_conv2d_golden,
                            test_conv2d_act_equals_unfused,
                            test_conv2d_act_gradcheck,
                            test_conv2d_act_golden,
                            test_conv2d_bad_input,
                            test_conv2d_steady_state,
                            test_conv_transpose2d_matches_host,
                            test_conv_transpose2d_gradcheck,
                            test_conv_transpose2d_golden,
                            test_conv_transpose2d_bad_input,
                            test_conv_transpose2d_steady_state,
                            test_conv_transpose2d_layer,
                            test_conv2d_loop_bound,
                            NULL};
    return test_main("ops/conv", "conv", 0, tests);
}
