/* tests/ops/test_pool.c: max and average pooling (ops/pool.c) against a
 * naive host loop over odd shapes, finite differences, PyTorch's
 * F.max_pool2d / F.avg_pool2d (tools/golden/gen_ops_pool.py), the rule for
 * ties, every error, and the steady-state contract. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

typedef clg_tensor *(*pool_fn)(clg_tensor *, const clg_pool2d_params *);
static const pool_fn pools[] = {clg_max_pool2d, clg_avg_pool2d};
static const char *const names[] = {"max", "avg"};

typedef struct pool_case {
    int n, c, h, w;
    clg_pool2d_params p;
} pool_case;

static clg_pool2d_params params(int kh, int kw, int sh, int sw, int ph, int pw)
{
    clg_pool2d_params p = clg_pool2d_params_default(1);
    p.kernel_h = kh;
    p.kernel_w = kw;
    p.stride_h = sh;
    p.stride_w = sw;
    p.pad_h = ph;
    p.pad_w = pw;
    return p;
}

/* params with dilation (dh, dw), ceil_mode and count_exclude_pad. */
static clg_pool2d_params options(clg_pool2d_params p, int dh, int dw, bool ceil_mode, bool exclude)
{
    p.dilation_h = dh;
    p.dilation_w = dw;
    p.ceil_mode = ceil_mode;
    p.count_exclude_pad = exclude;
    return p;
}

/* Outputs along an axis: check/'s chk_pool_out (PyTorch's ceil_mode rule). */
static int out_h(const pool_case *pc)
{
    const clg_pool2d_params *p = &pc->p;
    return chk_pool_out(pc->h, p->kernel_h, p->stride_h, p->pad_h, p->dilation_h, p->ceil_mode);
}

static int out_w(const pool_case *pc)
{
    const clg_pool2d_params *p = &pc->p;
    return chk_pool_out(pc->w, p->kernel_w, p->stride_w, p->pad_w, p->dilation_w, p->ceil_mode);
}

/* check/'s naive reference (chk_pool2d, shared with `clgrad check`) on float
 * arrays: y holds each window's max or mean, dx what the windows send back
 * for the upstream gradient g. */
static void host_pool(int kind, const pool_case *pc, const float *x, const float *g, float *y,
                      float *dx)
{
    size_t nx = (size_t)pc->n * pc->c * pc->h * pc->w;
    size_t ny = (size_t)pc->n * pc->c * out_h(pc) * out_w(pc);
    double *xd = test_doubles(x, nx), *gd = test_doubles(g, ny), *yd = test_doubles(g, ny);
    double *dxd = test_doubles(x, nx);
    chk_pool2d(kind, pc->n, pc->c, pc->h, pc->w, &pc->p, xd, gd, yd, dxd);
    test_floats(yd, y, ny);
    test_floats(dxd, dx, nx);
    free(xd), free(gd), free(yd), free(dxd);
}

/* Forward and backward of one case against host_pool, twice: the second
 * backward accumulates into the first's gradient. x may be NULL for random
 * data. */
static void check_case(clg_context *ctx, int kind, const pool_case *pc, const float *data)
{
    int ho = out_h(pc), wo = out_w(pc);
    size_t nx = (size_t)pc->n * pc->c * pc->h * pc->w, ny = (size_t)pc->n * pc->c * ho * wo;
    float *x = malloc(nx * sizeof *x), *g = malloc(ny * sizeof *g);
    float *y = malloc(ny * sizeof *y), *dx = malloc(nx * sizeof *dx);
    if (data)
        for (size_t i = 0; i < nx; i++)
            x[i] = data[i];
    else
        test_random(x, nx, 1, -1, 1);
    test_random(g, ny, 2, -1, 1);
    host_pool(kind, pc, x, g, y, dx);
    float *finite = malloc(ny * sizeof *finite); /* y, its -inf (padding only) zeroed */
    for (size_t i = 0; i < ny; i++)
        finite[i] = isinf(y[i]) ? 0.0f : y[i];
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){pc->n, pc->c, pc->h, pc->w}, x, true);
    for (int pass = 1; pass <= 2; pass++) {
        clg_step_begin(ctx);
        clg_tensor *out = pools[kind](tx, &pc->p);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_dim(out, 0), pc->n);
        ck_assert_int_eq(clg_tensor_dim(out, 1), pc->c);
        ck_assert_msg(clg_tensor_dim(out, 2) == ho && clg_tensor_dim(out, 3) == wo,
                      "%s of %dx%d, window %dx%d: got %lldx%lld outputs, want %dx%d", names[kind],
                      pc->h, pc->w, pc->p.kernel_h, pc->p.kernel_w,
                      (long long)clg_tensor_dim(out, 2), (long long)clg_tensor_dim(out, 3), ho, wo);
        float *got = test_download(out);
        for (size_t i = 0; i < ny; i++)
            if (isinf(y[i])) { /* compared exactly here: -inf - -inf is NaN */
                ck_assert_msg(got[i] == y[i], "%s[%zu]: got %g, want -inf", names[kind], i,
                              (double)got[i]);
                got[i] = 0.0f;
            }
        test_assert_close(got, finite, ny, test_tol_get("default"), names[kind]);
        free(got);
        clg_tensor *tg =
            clg_tensor_from_host(ctx, CLG_DTYPE_F32, 4, (int64_t[]){pc->n, pc->c, ho, wo}, g);
        ck_assert_msg(clg_backward_with(out, tg) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
        clg_step_end(ctx);
        got = test_download(clg_tensor_grad(tx));
        for (size_t i = 0; i < nx; i++)
            got[i] /= (float)pass; /* exact: pass is 1 or 2 */
        test_assert_close(got, dx, nx, test_tol_get("default"), names[kind]);
        free(got);
    }
    clg_tensor_destroy(tx);
    free(x);
    free(g);
    free(y);
    free(finite);
    free(dx);
}

START_TEST(test_pool2d_matches_host)
{
    clg_context *ctx = test_context();
    const pool_case cases[] = {
        {2, 3, 8, 6, params(2, 2, 2, 2, 0, 0)}, /* LeNet's 2x2 */
        /* LeNet-5's first pooling: 14 outputs a row, three float4 groups of
         * the 2x2 kernel and two left over; and 9 leaving a column out */
        {2, 3, 28, 28, params(2, 2, 2, 2, 0, 0)},
        {1, 2, 9, 19, params(2, 2, 2, 2, 0, 0)},
        {2, 2, 7, 5, params(2, 2, 2, 2, 0, 0)}, /* 2x2 leaving a row and a column out */
        {1, 3, 7, 5, params(3, 3, 2, 2, 1, 1)}, /* batch 1, non-square, padded */
        {2, 2, 7, 5, params(3, 2, 1, 2, 1, 1)}, /* rectangular window, stride per axis */
        {1, 5, 6, 6, params(3, 3, 1, 1, 0, 0)}, /* overlapping windows */
        {1, 1, 9, 7, params(5, 5, 2, 3, 2, 2)}, /* padding 2 */
        {2, 3, 7, 7, params(2, 2, 3, 3, 1, 0)}, /* stride > window: some inputs in none */
        {1, 2, 4, 3, params(4, 3, 1, 1, 0, 0)}, /* one window covering everything */
        /* ceil_mode adding a window: a clipped last row and column, through
         * the disjoint backward (max) and with the 2x2 fast path off */
        {2, 2, 7, 5, options(params(2, 2, 2, 2, 0, 0), 1, 1, true, false)},
        {1, 3, 6, 8, options(params(3, 3, 2, 2, 1, 1), 1, 1, true, false)}, /* Ho 3 -> 4 */
        {1, 2, 9, 7, options(params(3, 2, 3, 2, 1, 1), 1, 1, true, false)}, /* stride 3 */
        /* count_exclude_pad with padding, and with ceil_mode */
        {1, 3, 7, 5, options(params(3, 3, 2, 2, 1, 1), 1, 1, false, true)},
        {2, 2, 6, 8, options(params(3, 3, 2, 2, 1, 1), 1, 1, true, true)},
        {1, 1, 9, 7, options(params(5, 4, 2, 3, 2, 2), 1, 1, true, true)},
    };
    /* max only: dilation, alone and with padding and ceil_mode */
    const pool_case dilated[] = {
        {2, 3, 9, 8, options(params(3, 3, 1, 1, 0, 0), 2, 2, false, false)},
        {1, 2, 9, 7, options(params(3, 2, 2, 1, 1, 1), 2, 3, false, false)},
        {1, 3, 8, 10, options(params(3, 3, 2, 3, 1, 1), 2, 2, true, false)},
        /* stride >= span: the disjoint backward with dilation */
        {2, 2, 11, 10, options(params(2, 2, 3, 3, 0, 1), 2, 2, true, false)},
        /* a window of padding only (its taps -1 and 1 miss the 1-wide
         * input): -inf and no gradient, as in PyTorch */
        {1, 2, 5, 1, options(params(2, 2, 1, 1, 1, 1), 1, 2, false, false)},
    };
    for (int kind = 0; kind < 2; kind++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            check_case(ctx, kind, &cases[i], NULL);
    for (size_t i = 0; i < sizeof dilated / sizeof dilated[0]; i++)
        check_case(ctx, 0, &dilated[i], NULL);
    clg_context_destroy(ctx);
}
END_TEST

/* Ties go to the first maximum of the window, in row-major order; padding
 * never wins, even over negative inputs. */
START_TEST(test_max_pool2d_ties_and_padding)
{
    clg_context *ctx = test_context();
    float x[2 * 4 * 5];
    for (int i = 0; i < 20; i++)
        x[i] = 1.0f; /* plane 0: all tied */
    for (int i = 20; i < 40; i++)
        x[i] = -5.0f - (float)(i % 3); /* plane 1: negative, ties in each window */
    const pool_case pc = {1, 2, 4, 5, params(3, 3, 2, 2, 1, 1)};
    check_case(ctx, 0, &pc, x);
    /* and on the device directly: each window's output is a real element */
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){1, 2, 4, 5}, x, false);
    clg_step_begin(ctx);
    clg_tensor *out = clg_max_pool2d(tx, &pc.p);
    float *got = test_download(out);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(got[i], 1.0f);
    for (int i = 6; i < 12; i++)
        ck_assert_float_eq(got[i], -5.0f);
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(tx);
    /* a NaN is the maximum, and takes the gradient, as in PyTorch */
    tx = test_tensor(ctx, 4, (int64_t[]){1, 1, 2, 2}, (float[]){1, NAN, 3, 2}, true);
    clg_step_begin(ctx);
    clg_pool2d_params p22 = params(2, 2, 2, 2, 0, 0);
    out = clg_max_pool2d(tx, &p22);
    got = test_download(out);
    ck_assert(isnan(got[0]));
    free(got);
    ck_assert_int_eq(clg_backward(clg_sum_all(out)), CLG_STATUS_OK);
    clg_step_end(ctx);
    got = test_download(clg_tensor_grad(tx));
    test_assert_close(got, (float[]){0, 1, 0, 0}, 4, test_tol_get("exact"), "NaN's gradient");
    free(got);
    clg_tensor_destroy(tx);
    /* the 2x2 kernel's four-window float4 path: a tie (the first wins), a
     * NaN after a real maximum and one before a larger value (the NaN wins
     * both), a maximum in the last tap */
    tx = test_tensor(ctx, 4, (int64_t[]){1, 1, 2, 8},
                     (float[]){1, 1, 2, 0, NAN, 5, 7, 3, 1, 1, NAN, 4, 6, 9, 8, 9}, true);
    clg_step_begin(ctx);
    out = clg_max_pool2d(tx, &p22);
    got = test_download(out);
    ck_assert(got[0] == 1.0f && isnan(got[1]) && isnan(got[2]) && got[3] == 9.0f);
    free(got);
    ck_assert_int_eq(clg_backward(clg_sum_all(out)), CLG_STATUS_OK);
    clg_step_end(ctx);
    got = test_download(clg_tensor_grad(tx));
    test_assert_close(got, (float[]){1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, 16,
                      test_tol_get("exact"), "four windows' gradients");
    free(got);
    clg_tensor_destroy(tx);
    /* the same through the general kernel (overlapping windows, stride 1):
     * both windows hold the NaN, so it takes both gradients */
    tx = test_tensor(ctx, 4, (int64_t[]){1, 1, 2, 3}, (float[]){1, NAN, 3, 2, 5, 0}, true);
    clg_step_begin(ctx);
    clg_pool2d_params p21 = params(2, 2, 1, 1, 0, 0);
    out = clg_max_pool2d(tx, &p21);
    got = test_download(out);
    ck_assert(isnan(got[0]) && isnan(got[1]));
    free(got);
    ck_assert_int_eq(clg_backward(clg_sum_all(out)), CLG_STATUS_OK);
    clg_step_end(ctx);
    got = test_download(clg_tensor_grad(tx));
    test_assert_close(got, (float[]){0, 2, 0, 0, 0, 0}, 6, test_tol_get("exact"),
                      "NaN's gradient, overlapping windows");
    free(got);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

typedef struct pool_arg {
    int kind; /* index into pools[] */
    clg_pool2d_params p;
} pool_arg;

static clg_tensor *run_pool(clg_tensor *const *in, const void *arg)
{
    const pool_arg *a = arg;
    return pools[a->kind](in[0], &a->p);
}

START_TEST(test_pool2d_gradcheck)
{
    clg_context *ctx = test_context();
    /* Distinct values 0.1 apart, shuffled: the finite-difference step (1e-2)
     * never changes which element is a window's maximum. */
    enum { N = 2 * 3 * 5 * 4 };
    float x[N], u[N];
    test_random(u, N, 9, 0, 1);
    for (int i = 0; i < N; i++) {
        int rank = 0;
        for (int j = 0; j < N; j++)
            rank += u[j] < u[i] || (u[j] == u[i] && j < i);
        x[i] = 0.1f * (float)rank - 3.0f;
    }
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){2, 3, 5, 4}, x, true);
    for (int kind = 0; kind < 2; kind++) {
        pool_arg a = {kind, params(3, 2, 2, 1, 1, 1)};
        test_gradcheck(ctx, run_pool, &a, 1, &tx, test_tol_get("gradcheck"));
        pool_arg b = {kind, params(2, 2, 2, 2, 0, 0)};
        test_gradcheck(ctx, run_pool, &b, 1, &tx, test_tol_get("gradcheck"));
        /* ceil_mode's clipped windows, with and without count_exclude_pad */
        pool_arg c = {kind, options(params(2, 3, 2, 2, 1, 1), 1, 1, true, kind == 1)};
        test_gradcheck(ctx, run_pool, &c, 1, &tx, test_tol_get("gradcheck"));
        pool_arg d = {kind, options(params(3, 3, 2, 2, 1, 1), 1, 1, true, false)};
        test_gradcheck(ctx, run_pool, &d, 1, &tx, test_tol_get("gradcheck"));
    }
    /* max pooling dilated, with ceil_mode, overlapping and disjoint */
    pool_arg e = {0, options(params(2, 2, 1, 2, 1, 1), 2, 2, true, false)};
    test_gradcheck(ctx, run_pool, &e, 1, &tx, test_tol_get("gradcheck"));
    pool_arg f = {0, options(params(2, 2, 3, 3, 0, 0), 2, 2, true, false)};
    test_gradcheck(ctx, run_pool, &f, 1, &tx, test_tol_get("gradcheck"));
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_pool2d_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_pool");
    const char *cases[] = {"k2",      "k3s2p1",    "rect",        "overlap",   "k5s2p2",
                           "ceil_k2", "ceil_k3p1", "exclude_p1",  "ceil_excl", "dil2",
                           "dil2_p1", "dil_ceil",  "dil_disjoint"};
    for (int kind = 0; kind < 2; kind++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            if (kind == 1 && strncmp(cases[i], "dil", 3) == 0)
                continue; /* PyTorch's avg_pool2d has no dilation */
            char name[64], pname[80];
            snprintf(name, sizeof name, "%s.%s", names[kind], cases[i]);
            snprintf(pname, sizeof pname, "%s.params", name);
            const void *data = NULL;
            int rank;
            const int64_t *shape;
            ck_assert_msg(clg_safetensors_get(st, pname, NULL, &rank, &shape, &data), "no %s",
                          pname);
            ck_assert_int_eq(shape[0], 10);
            const int32_t *v = data;
            pool_arg a = {kind, options(params(v[0], v[1], v[2], v[3], v[4], v[5]), v[6], v[7],
                                        v[8] != 0, v[9] == 0)};
            test_golden_case(ctx, st, name, run_pool, &a, 1, 0, test_tol_get("golden"));
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

START_TEST(test_pool2d_bad_input)
{
    clg_context *ctx = test_context();
    clg_tensor *x = test_tensor(ctx, 4, (int64_t[]){1, 1, 4, 4}, NULL, false);
    clg_tensor *x2 = test_tensor(ctx, 2, (int64_t[]){7, 5}, NULL, false);
    clg_pool2d_params p = clg_pool2d_params_default(2);
    clg_step_begin(ctx);
    expect_error(ctx, clg_max_pool2d(x2, &p), CLG_STATUS_SHAPE,
                 "clg_max_pool2d: input shape [7, 5] is not (N, C, H, W)");
    p.stride_h = 0;
    expect_error(ctx, clg_max_pool2d(x, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_max_pool2d: window 2x2 and stride (0, 2) must be positive");
    p = clg_pool2d_params_default(0);
    expect_error(ctx, clg_avg_pool2d(x, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_avg_pool2d: window 0x0 and stride (0, 0) must be positive");
    p = clg_pool2d_params_default(3);
    p.pad_h = 2; /* PyTorch: at most half the window */
    expect_error(ctx, clg_avg_pool2d(x, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_avg_pool2d: padding (2, 0) must be between 0 and half the window 3x3");
    p.pad_h = -1;
    expect_error(ctx, clg_max_pool2d(x, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_max_pool2d: padding (-1, 0) must be between 0 and half the window 3x3");
    p = clg_pool2d_params_default(5);
    expect_error(ctx, clg_max_pool2d(x, &p), CLG_STATUS_SHAPE,
                 "clg_max_pool2d: window 5x5 is larger than the padded input 4x4 (input "
                 "[1, 1, 4, 4], padding (0, 0))");
    /* a dilated window wider than the padded input, and a dilation PyTorch
     * does not take */
    p = options(params(2, 3, 1, 1, 1, 1), 6, 2, false, false);
    expect_error(ctx, clg_max_pool2d(x, &p), CLG_STATUS_SHAPE,
                 "clg_max_pool2d: window 2x3 dilated (6, 2) spans 7x5 (dilation (kernel - 1) + "
                 "1), larger than the padded input 6x6 (input [1, 1, 4, 4], padding (1, 1))");
    p = options(params(3, 3, 1, 1, 1, 1), 2, 2, true, false);
    p.pad_w = 2; /* half the window, not of its span 5x5, as in PyTorch */
    expect_error(ctx, clg_max_pool2d(x, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_max_pool2d: padding (1, 2) must be between 0 and half the window 3x3");
    p = options(params(2, 2, 1, 1, 0, 0), 2, 1, false, false);
    expect_error(ctx, clg_avg_pool2d(x, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_avg_pool2d: dilation (2, 1) must be 1: average pooling is not dilated (as "
                 "PyTorch's avg_pool2d)");
    p.dilation_h = -1;
    expect_error(ctx, clg_max_pool2d(x, &p), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_max_pool2d: dilation (-1, 1) must be positive (0 reads as 1)");
    /* ceil_mode never adds a window starting in the right padding: H 4,
     * padding 1, window 2, stride 3 rounds (4 + 2 - 2) / 3 + 1 up to 3, but
     * the third window would start at row 5, past H + padding (PyTorch: 2) */
    p = options(params(2, 2, 3, 3, 1, 1), 0, 0, true, false);
    clg_tensor *ceiled = clg_avg_pool2d(x, &p);
    ck_assert_msg(ceiled != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_tensor_dim(ceiled, 2), 2);
    /* padding 2 makes the 5x5 window fit: one output */
    p = clg_pool2d_params_default(5);
    p.pad_h = p.pad_w = 2;
    clg_tensor *out = clg_max_pool2d(x, &p);
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_tensor_dim(out, 2), 1);
    expect_error(ctx, clg_avg_pool2d(x, NULL), CLG_STATUS_INVALID_ARGUMENT,
                 "clg_avg_pool2d: params is NULL (use clg_pool2d_params_default(kernel))");
    ck_assert_ptr_null(clg_max_pool2d(NULL, &p)); /* an earlier op failed */
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_step_end(ctx);
    clg_tensor_destroy(x);
    clg_tensor_destroy(x2);
    clg_context_destroy(ctx);
}
END_TEST

/* After a first step, an identical max and avg pool step (forward, sum,
 * backward) allocates nothing on the device and builds nothing. */
START_TEST(test_pool2d_steady_state)
{
    clg_context *ctx = test_context();
    float x[4 * 6 * 12 * 12];
    test_random(x, sizeof x / sizeof x[0], 3, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){4, 6, 12, 12}, x, true);
    clg_pool2d_params p = clg_pool2d_params_default(2);
    clg_counters before, after;
    for (int step = 0; step < 2; step++) {
        if (step == 1)
            clg_counters_get(ctx, &before);
        clg_step_begin(ctx);
        clg_tensor *loss =
            clg_add(clg_sum_all(clg_max_pool2d(tx, &p)), clg_sum_all(clg_avg_pool2d(tx, &p)));
        ck_assert_msg(clg_backward(loss) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
        clg_step_end(ctx);
    }
    clg_counters_get(ctx, &after);
    ck_assert_uint_eq(after.device_allocations, before.device_allocations);
    ck_assert_uint_eq(after.program_builds, before.program_builds);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* Under a bound of 1,024 iterations, pooling rows of 550 windows of 2 x 2
 * (a work-item per output row: 3,850 iterations) refuses with
 * CLG_STATUS_DEVICE naming the op; rows of 100 windows run. */
START_TEST(test_pool2d_loop_bound)
{
    clg_context *ctx = test_context_loop_limit("1024");
    float *x = calloc(2 * 1100, sizeof *x);
    clg_tensor *wide = test_tensor(ctx, 4, (int64_t[]){1, 1, 2, 1100}, x, false);
    clg_tensor *fits = test_tensor(ctx, 4, (int64_t[]){1, 1, 2, 200}, x, false);
    clg_pool2d_params p = clg_pool2d_params_default(2);
    clg_step_begin(ctx);
    const char *ops[2] = {"clg_max_pool2d", "clg_avg_pool2d"};
    for (int k = 0; k < 2; k++) {
        clg_tensor *got = k == 0 ? clg_max_pool2d(wide, &p) : clg_avg_pool2d(wide, &p);
        test_expect_loop_refusal(ctx, got, ops[k]);
    }
    ck_assert_ptr_nonnull(clg_max_pool2d(fits, &p));
    clg_step_end(ctx);
    clg_tensor_destroy(wide);
    clg_tensor_destroy(fits);
    free(x);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {test_pool2d_matches_host, test_max_pool2d_ties_and_padding,
                                  test_pool2d_gradcheck,    test_pool2d_golden,
                                  test_pool2d_bad_input,    test_pool2d_steady_state,
                                  test_pool2d_loop_bound,   NULL};
    return test_main("ops/pool", "pool", 0, tests);
}
