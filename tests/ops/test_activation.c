/* tests/ops/test_activation.c: sigmoid, tanh, relu, leaky_relu, softplus,
 * heaviside, clamp, elu, selu and hardsigmoid (ops/activation.c) against a
 * naive host loop (forward and backward, contiguous and transposed inputs),
 * finite differences, PyTorch
 * (tools/golden/gen_ops_activation.py), and the special values PyTorch
 * defines: the kinks at 0, softplus's threshold, saturation, heaviside's
 * step and its absence from the tape, clamp's and hardsigmoid's bounds, nan. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pointwise.h"

static const pw_spec SIGMOID_SPEC = {"sigmoid", CHK_SIGMOID, 1, {{0, 0, -4, 4, 0, 0, {0}}},
                                     false,     false};
static const pw_spec TANH_SPEC = {"tanh", CHK_TANH, 1, {{0, 0, -3, 3, 0, 0, {0}}}, false, false};
static const pw_spec RELU_SPEC = {"relu", CHK_RELU, 1, {{0, 0, -2, 2, 0.1f, 0, {0}}}, true, false};
static const pw_spec LEAKY_RELU_SPEC = {
    "leaky_relu",
    CHK_LEAKY_RELU,
    2,
    {{0.01f, 0, -2, 2, 0.1f, 0, {0}}, {0.2f, 0, -2, 2, 0.1f, 0, {0}}},
    true,
    false};
/* the second and third straddle beta x = 5 from below and from above */
static const pw_spec SOFTPLUS_SPEC = {
    "softplus", CHK_SOFTPLUS,
    3,          {{1, 20, -4, 4, 0, 0, {0}}, {2, 5, -3, 2, 0, 0, {0}}, {2, 5, 3, 5, 0, 0, {0}}},
    true,       false};
static const pw_spec HEAVISIDE_SPEC = {
    "heaviside",
    CHK_HEAVISIDE,
    3,
    {{0.5f, 0, -2, 2, 0.1f, 0, {0}}, {0, 0, -2, 2, 0.1f, 0, {0}}, {1, 0, -2, 2, 0.1f, 0, {0}}},
    true,
    false};

/* both bounds, min only, max only, and min > max (every element max, no
 * gradient anywhere) */
static const pw_spec CLAMP_SPEC = {"clamp",
                                   CHK_CLAMP,
                                   4,
                                   {{-0.5f, 0.7f, -1, 1, 0, 2, {-0.5f, 0.7f}},
                                    {0.2f, INFINITY, -1, 1, 0, 1, {0.2f}},
                                    {-INFINITY, -0.3f, -1, 1, 0, 1, {-0.3f}},
                                    {0.5f, -0.5f, -1, 1, 0, 2, {0.5f, -0.5f}}},
                                   true,
                                   true};
static const pw_spec ELU_SPEC = {
    "elu", CHK_ELU, 2, {{1, 0, -3, 2, 0.1f, 0, {0}}, {0.5f, 0, -3, 2, 0.1f, 0, {0}}}, true, true};
static const pw_spec SELU_SPEC = {"selu", CHK_SELU, 1, {{0, 0, -3, 2, 0.1f, 0, {0}}}, true, true};
static const pw_spec HARDSIGMOID_SPEC = {
    "hardsigmoid", CHK_HARDSIGMOID, 1, {{0, 0, -5, 5, 0, 2, {-3, 3}}}, true, true};

static const pw_spec *const all_specs[] = {
    &SIGMOID_SPEC,   &TANH_SPEC,  &RELU_SPEC, &LEAKY_RELU_SPEC, &SOFTPLUS_SPEC,
    &HEAVISIDE_SPEC, &CLAMP_SPEC, &ELU_SPEC,  &SELU_SPEC,       &HARDSIGMOID_SPEC};

static clg_tensor *apply(const pw_spec *spec, int v, clg_tensor *x)
{
    float p0 = spec->v[v].p0, p1 = spec->v[v].p1;
    switch (spec->kind) {
    case CHK_SIGMOID: return clg_sigmoid(x);
    case CHK_TANH: return clg_tanh(x);
    case CHK_RELU: return clg_relu(x);
    case CHK_LEAKY_RELU: return clg_leaky_relu(x, p0);
    case CHK_SOFTPLUS: return clg_softplus(x, p0, p1);
    case CHK_CLAMP: return clg_clamp(x, p0, p1);
    case CHK_ELU: return clg_elu(x, p0);
    case CHK_SELU: return clg_selu(x);
    case CHK_HARDSIGMOID: return clg_hardsigmoid(x);
    default: return clg_heaviside(x, p0);
    }
}

static const pw_family FAMILY = {"ops_activation", apply};

PW_OP_TESTS(sigmoid, FAMILY, SIGMOID_SPEC)
PW_OP_TESTS(tanh, FAMILY, TANH_SPEC)
PW_OP_TESTS(relu, FAMILY, RELU_SPEC)
PW_OP_TESTS(leaky_relu, FAMILY, LEAKY_RELU_SPEC)
PW_OP_TESTS(softplus, FAMILY, SOFTPLUS_SPEC)
PW_OP_TESTS(clamp, FAMILY, CLAMP_SPEC)
PW_OP_TESTS(elu, FAMILY, ELU_SPEC)
PW_OP_TESTS(selu, FAMILY, SELU_SPEC)
PW_OP_TESTS(hardsigmoid, FAMILY, HARDSIGMOID_SPEC)

/* heaviside has no derivative to check by finite differences. */
START_TEST(test_heaviside_matches_host)
{
    pw_check_matches_host(&FAMILY, &HEAVISIDE_SPEC);
}
END_TEST
START_TEST(test_heaviside_golden)
{
    pw_check_golden(&FAMILY, &HEAVISIDE_SPEC);
}
END_TEST

/* relu'(0) = 0 (PyTorch's threshold_backward on the output), for +0 and -0. */
START_TEST(test_relu_grad_at_zero)
{
    clg_context *ctx = test_context();
    float x[4] = {-1.0f, 0.0f, -0.0f, 1.5f}, g[4] = {0.5f, 0.7f, 0.9f, -0.3f};
    const float want_y[4] = {0, 0, 0, 1.5f}, want_dx[4] = {0, 0, 0, -0.3f};
    pw_check_points(ctx, &FAMILY, &RELU_SPEC, 0, 4, x, g, want_y, want_dx, "exact", "relu");
    clg_context_destroy(ctx);
}
END_TEST

/* leaky_relu'(0) is the slope: PyTorch tests x > 0. */
START_TEST(test_leaky_relu_grad_at_zero)
{
    clg_context *ctx = test_context();
    float x[3] = {-1.0f, 0.0f, 2.0f}, g[3] = {0.5f, 0.7f, -0.3f};
    const float want_y[3] = {-0.2f, 0, 2}, want_dx[3] = {0.2f * 0.5f, 0.2f * 0.7f, -0.3f};
    pw_check_points(ctx, &FAMILY, &LEAKY_RELU_SPEC, 1, 3, x, g, want_y, want_dx, "default",
                    "leaky_relu");
    clg_context_destroy(ctx);
}
END_TEST

/* Above beta x > threshold softplus is x itself and its gradient g, exactly.
 * With no threshold at all it still neither overflows nor loses precision:
 * log(1 + e^100) is 100, not inf, and its gradient 1, not inf/inf = nan. */
START_TEST(test_softplus_above_threshold)
{
    clg_context *ctx = test_context();
    float x[3] = {20.5f, 25.0f, 1000.0f}, g[3] = {0.5f, -0.7f, 0.9f};
    pw_check_points(ctx, &FAMILY, &SOFTPLUS_SPEC, 0, 3, x, g, x, g, "exact",
                    "softplus above threshold");

    static const pw_spec no_threshold = {
        "softplus", CHK_SOFTPLUS, 1, {{1, INFINITY, 0, 0, 0, 0, {0}}}, false, false};
    float xs[4] = {100.0f, -100.0f, 30.0f, 0.0f}, gs[4] = {1, 1, 1, 1};
    const float want_y[4] = {100.0f, 0.0f, 30.0f, (float)log(2.0)};
    const float want_dx[4] = {1.0f, 0.0f, 1.0f, 0.5f};
    pw_check_points(ctx, &FAMILY, &no_threshold, 0, 4, xs, gs, want_y, want_dx, "transcendental",
                    "softplus, no threshold");
    clg_context_destroy(ctx);
}
END_TEST

/* Far from 0 the output is exactly 0 or 1 and the gradient 0, not nan. */
START_TEST(test_sigmoid_saturates)
{
    clg_context *ctx = test_context();
    float x[3] = {-100.0f, 100.0f, 0.0f}, g[3] = {1, 1, 1};
    const float want_y[3] = {0, 1, 0.5f}, want_dx[3] = {0, 0, 0.25f};
    pw_check_points(ctx, &FAMILY, &SIGMOID_SPEC, 0, 3, x, g, want_y, want_dx, "exact", "sigmoid");
    clg_context_destroy(ctx);
}
END_TEST

/* Not bit-exact: PoCL's tanh stops one ulp short of 1 (0.99999994 from
 * |x| = 9 on, within OpenCL's 5-ulp bound), so the gradient there is
 * 1.2e-7 where PyTorch's is 0. */
START_TEST(test_tanh_saturates)
{
    clg_context *ctx = test_context();
    float x[3] = {-100.0f, 100.0f, 0.0f}, g[3] = {1, 1, 1};
    const float want_y[3] = {-1, 1, 0}, want_dx[3] = {0, 0, 1};
    pw_check_points(ctx, &FAMILY, &TANH_SPEC, 0, 3, x, g, want_y, want_dx, "transcendental",
                    "tanh");
    clg_context_destroy(ctx);
}
END_TEST

/* got == want element by element, nan matching nan: test_assert_close's
 * |got - want| is nan for two equal infinities. */
static void assert_same(const float *got, const float *want, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i] || (isnan(got[i]) && isnan(want[i])),
                      "%s[%d]: got %.9g, want %.9g", what, i, (double)got[i], (double)want[i]);
}

/* clamp at and beyond its bounds, nan and infinities, each bound alone, and
 * min > max; the wanted values are PyTorch 1.13's: the gradient passes at
 * the bounds themselves and not for nan; min > max gives max everywhere and
 * no gradient. A nan bound is refused, naming the op. */
START_TEST(test_clamp_bounds)
{
    clg_context *ctx = test_context();
    const float x[9] = {-3.5f, -1.0f, -0.5f, 0.0f, 1.0f, 3.5f, NAN, -INFINITY, INFINITY};
    const float g[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    float y[9], dx[9];
    static const struct {
        float lo, hi;
        float y[9], dx[9];
    } cases[] = {
        {-1, 1, {-1, -1, -0.5f, 0, 1, 1, NAN, -1, 1}, {0, 1, 1, 1, 1, 0, 0, 0, 0}},
        {-1, INFINITY, {-1, -1, -0.5f, 0, 1, 3.5f, NAN, -1, INFINITY}, {0, 1, 1, 1, 1, 1, 0, 0, 1}},
        {-INFINITY,
         -0.5f,
         {-3.5f, -1, -0.5f, -0.5f, -0.5f, -0.5f, NAN, -INFINITY, -0.5f},
         {1, 1, 1, 0, 0, 0, 0, 1, 0}},
        {1, -1, {-1, -1, -1, -1, -1, -1, NAN, -1, -1}, {0, 0, 0, 0, 0, 0, 0, 0, 0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const pw_spec spec = {"clamp", CHK_CLAMP, 1, {{cases[c].lo, cases[c].hi, 0, 0, 0, 0, {0}}},
                              false,   false};
        pw_eval_vector(ctx, &FAMILY, &spec, 0, x, g, 9, y, dx);
        char what[64];
        snprintf(what, sizeof what, "clamp(x, %g, %g)", (double)cases[c].lo, (double)cases[c].hi);
        assert_same(y, cases[c].y, 9, what);
        snprintf(what, sizeof what, "d clamp(x, %g, %g)", (double)cases[c].lo, (double)cases[c].hi);
        assert_same(dx, cases[c].dx, 9, what);
    }
    clg_tensor *tx = test_tensor(ctx, 1, (int64_t[]){9}, x, false);
    clg_step_begin(ctx);
    test_expect_error(ctx, clg_clamp(tx, NAN, 1), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_clamp: bound is nan (min nan, max 1)");
    clg_step_end(ctx);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* elu (alpha 0.5) and selu at the kink (both signs of 0, where the
 * derivative is the x <= 0 branch's), far out, at -inf and at nan (whose
 * gradient is the x > 0 branch's: PyTorch tests x <= 0). The wanted values
 * are PyTorch 1.13's. */
START_TEST(test_elu_selu_kink)
{
    clg_context *ctx = test_context();
    const float x[8] = {-3.5f, -3.0f, -1.0f, 0.0f, -0.0f, 1.0f, NAN, -INFINITY};
    const float g[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    const float elu_y[8] = {
        -0.4849013090133667f, -0.47510647773742676f, -0.31606027483940125f, 0, 0, 1, NAN, -0.5f};
    const float elu_dx[8] = {
        0.015098691917955875f, 0.024893533438444138f, 0.18393972516059875f, 0.5f, 0.5f, 1, 1, 0};
    pw_check_points(ctx, &FAMILY, &ELU_SPEC, 1, 8, x, g, elu_y, elu_dx, "transcendental", "elu");
    const float selu_y[8] = {-1.7050093412399292f,
                             -1.6705687046051025f,
                             -1.1113307476043701f,
                             0,
                             0,
                             1.0507010221481323f,
                             NAN,
                             -1.7580993175506592f};
    const float selu_dx[8] = {
        0.05308999866247177f, 0.08753060549497604f, 0.6467686295509338f, 1.7580993175506592f,
        1.7580993175506592f,  1.0507010221481323f,  1.0507010221481323f, 0};
    pw_check_points(ctx, &FAMILY, &SELU_SPEC, 0, 8, x, g, selu_y, selu_dx, "transcendental",
                    "selu");
    clg_context_destroy(ctx);
}
END_TEST

/* hardsigmoid saturates at -3 and 3, where its gradient is already 0 (PyTorch
 * tests -3 < x < 3), and keeps nan with no gradient. */
START_TEST(test_hardsigmoid_bounds)
{
    clg_context *ctx = test_context();
    const float x[8] = {-3.5f, -3.0f, -1.0f, 0.0f, 1.0f, 3.0f, 3.5f, NAN};
    const float g[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    const float six = 1.0f / 6.0f;
    const float want_y[8] = {0, 0, 2.0f / 6.0f, 0.5f, 4.0f / 6.0f, 1, 1, NAN};
    const float want_dx[8] = {0, 0, six, six, six, 0, 0, 0};
    pw_check_points(ctx, &FAMILY, &HARDSIGMOID_SPEC, 0, 8, x, g, want_y, want_dx, "exact",
                    "hardsigmoid");
    clg_context_destroy(ctx);
}
END_TEST

/* The step at -1, 0 (both signs) and 1 for each value at 0. */
START_TEST(test_heaviside_values)
{
    clg_context *ctx = test_context();
    const float x[4] = {-1.0f, 0.0f, -0.0f, 1.0f};
    clg_tensor *tx = test_tensor(ctx, 1, (int64_t[]){4}, x, false);
    for (int v = 0; v < HEAVISIDE_SPEC.n_variants; v++) {
        float at_zero = HEAVISIDE_SPEC.v[v].p0;
        clg_step_begin(ctx);
        clg_tensor *y = clg_heaviside(tx, at_zero);
        ck_assert_msg(y != NULL, "%s", clg_context_error(ctx));
        float *got = test_download(y);
        const float want[4] = {0, at_zero, at_zero, 1};
        test_assert_close(got, want, 4, test_tol_get("exact"), "heaviside");
        free(got);
        clg_step_end(ctx);
    }
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* Its result never requires a gradient, even from an input that does, and
 * it adds nothing to the tape: in y = heaviside(x) * x only the direct path
 * carries a gradient, dx = g heaviside(x). */
START_TEST(test_heaviside_no_gradient)
{
    clg_context *ctx = test_context();
    const float x[3] = {-1.0f, 0.0f, 2.0f}, g[3] = {0.5f, 0.7f, -0.3f};
    clg_tensor *tx = test_tensor(ctx, 1, (int64_t[]){3}, x, true);
    clg_step_begin(ctx);
    clg_tensor *step = clg_heaviside(tx, 1.0f);
    ck_assert_msg(step != NULL, "%s", clg_context_error(ctx));
    ck_assert(!clg_tensor_requires_grad(step));
    ck_assert_int_eq(clg_backward_with(step, step), CLG_STATUS_STATE);
    clg_context_clear_error(ctx);
    clg_tensor *y = clg_mul(step, tx);
    ck_assert(clg_tensor_requires_grad(y));
    clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, (int64_t[]){3}, g);
    ck_assert_msg(clg_backward_with(y, gout) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    clg_step_end(ctx);
    float *dx = test_download(clg_tensor_grad(tx));
    const float want[3] = {0, 0.7f, -0.3f};
    test_assert_close(dx, want, 3, test_tol_get("exact"), "d (heaviside(x) x)");
    free(dx);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* An int32 input is refused with a message naming the op and the shape. */
START_TEST(test_activation_rejects_int32)
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
    clg_tensor_destroy(a);
    clg_context_destroy(ctx);
}
END_TEST

/* ---- clg_bias_activation ---- */

static clg_tensor *run_bias_act(clg_tensor *const *in, const void *arg)
{
    int v = *(const int *)arg;
    return clg_bias_activation(in[0], in[1], test_fused_acts[v].act, test_fused_acts[v].slope);
}

/* The same function unfused: clg_add, then the activation. */
static clg_tensor *run_add_then_act(clg_tensor *const *in, const void *arg)
{
    int v = *(const int *)arg;
    return test_activate(clg_add(in[0], in[1]), &test_fused_acts[v]);
}

/* Forward and both gradients against a naive host loop, on shapes that are
 * not multiples of the work-group size, with an accumulating second backward.
 * R = 150: two blocks of the cpu plan's 128 rows, the second partial. */
START_TEST(test_bias_act_matches_host)
{
    clg_context *ctx = test_context();
    enum { R = 150, CMAX = 600, SHAPES = 3 };
    float *x = malloc(sizeof(float) * R * CMAX), *g = malloc(sizeof(float) * R * CMAX);
    float b[CMAX];
    /* C = 70: one column per work-item forward, vectors of the plan's width
     * backward with the last slid left (16 and 8 with AVX-512 and AVX2: 70 is
     * a multiple of neither); 72: float4s forward; 600: rows so wide that
     * the cpu plan's blocks are shorter (54 rows: three, the last partial) */
    const int widths[SHAPES] = {70, 72, CMAX};
    for (int c = 0; c < SHAPES * TEST_N_FUSED_ACTS; c++) {
        int v = c % TEST_N_FUSED_ACTS, C = widths[c / TEST_N_FUSED_ACTS];
        test_random(x, (size_t)(R * C), 11, -2, 2);
        test_random(b, (size_t)C, 12, -1, 1);
        test_random(g, (size_t)(R * C), 13, -1, 1);
        clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){R, C}, x, true);
        clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){C}, b, true);
        clg_tensor *tg = test_tensor(ctx, 2, (int64_t[]){R, C}, g, false);
        for (int pass = 0; pass < 2; pass++) {
            clg_step_begin(ctx);
            clg_tensor *y =
                clg_bias_activation(tx, tb, test_fused_acts[v].act, test_fused_acts[v].slope);
            ck_assert_msg(y, "%s", clg_context_error(ctx));
            float *got = test_download(y);
            ck_assert_int_eq(clg_backward_with(y, tg), CLG_STATUS_OK);
            clg_step_end(ctx);
            for (int i = 0; i < R * C; i++) {
                double want = test_host_act(test_fused_acts[v].act, (double)x[i] + b[i % C],
                                            test_fused_acts[v].slope);
                ck_assert_msg(fabs(got[i] - want) <= 1e-6 + 2e-6 * fabs(want),
                              "%s: y[%d] = %g, want %g", test_fused_acts[v].name, i, got[i], want);
            }
            free(got);
        }
        /* Two backward passes accumulated: gradients are twice one pass's. */
        float *dx = test_download(clg_tensor_grad(tx)), *db = test_download(clg_tensor_grad(tb));
        for (int j = 0; j < C; j++) {
            double sum = 0;
            for (int r = 0; r < R; r++) {
                int i = r * C + j;
                double d = g[i] * test_host_act_d(test_fused_acts[v].act, (double)x[i] + b[j],
                                                  test_fused_acts[v].slope);
                ck_assert_msg(fabs(dx[i] - 2 * d) <= 1e-6 + 2e-5 * fabs(d),
                              "%s: dx[%d] = %g, want %g", test_fused_acts[v].name, i, dx[i], 2 * d);
                sum += d;
            }
            ck_assert_msg(fabs(db[j] - 2 * sum) <= 1e-5 + 1e-4 * fabs(sum),
                          "%s: db[%d] = %g, want %g", test_fused_acts[v].name, j, db[j], 2 * sum);
        }
        free(dx);
        free(db);
        clg_tensor_destroy(tx);
        clg_tensor_destroy(tb);
        clg_tensor_destroy(tg);
    }
    free(x);
    free(g);
    clg_context_destroy(ctx);
}
END_TEST

/* The fused op is a drop-in for clg_add + activation: the same values and
 * gradients to the summation order of the bias gradient. C = 3: one column
 * per work-item, forward and backward; 13: the forward one column per
 * work-item, the backward float4s, the last slid left by three columns; 16:
 * float4s forward, the plan's width backward. */
START_TEST(test_bias_act_equals_unfused)
{
    clg_context *ctx = test_context();
    enum { R = 9, CMAX = 16 };
    float x[R * CMAX], b[CMAX], g[R * CMAX];
    const test_tol *tol = test_tol_get("reduction");
    static const int widths[3] = {3, 13, 16};
    for (int c = 0; c < 3 * TEST_N_FUSED_ACTS; c++) {
        int C = widths[c / TEST_N_FUSED_ACTS];
        int v = c % TEST_N_FUSED_ACTS;
        test_random(x, (size_t)(R * C), 21, -2, 2);
        test_random(b, (size_t)C, 22, -1, 1);
        test_random(g, (size_t)(R * C), 23, -1, 1);
        float *out[2], *dx[2], *db[2];
        for (int fused = 0; fused < 2; fused++) {
            clg_tensor *in[2] = {test_tensor(ctx, 2, (int64_t[]){R, C}, x, true),
                                 test_tensor(ctx, 1, (int64_t[]){C}, b, true)};
            clg_tensor *tg = test_tensor(ctx, 2, (int64_t[]){R, C}, g, false);
            clg_step_begin(ctx);
            clg_tensor *y = (fused ? run_bias_act : run_add_then_act)(in, &v);
            ck_assert_msg(y, "%s", clg_context_error(ctx));
            out[fused] = test_download(y);
            ck_assert_int_eq(clg_backward_with(y, tg), CLG_STATUS_OK);
            clg_step_end(ctx);
            dx[fused] = test_download(clg_tensor_grad(in[0]));
            db[fused] = test_download(clg_tensor_grad(in[1]));
            clg_tensor_destroy(in[0]);
            clg_tensor_destroy(in[1]);
            clg_tensor_destroy(tg);
        }
        /* one column per work-item: the same operations, bit for bit; float4s:
         * PoCL's vector exp may round the last bit differently */
        const test_tol *t = test_tol_get("transcendental");
        if (C % 4 != 0)
            for (int i = 0; i < R * C; i++)
                ck_assert_msg(out[0][i] == out[1][i], "%s: y[%d] %g != %g", test_fused_acts[v].name,
                              i, out[1][i], out[0][i]);
        else
            test_assert_close(out[1], out[0], (size_t)(R * C), t, test_fused_acts[v].name);
        if (C < 4)
            for (int i = 0; i < R * C; i++)
                ck_assert_msg(dx[0][i] == dx[1][i], "%s: dx[%d] %g != %g", test_fused_acts[v].name,
                              i, dx[1][i], dx[0][i]);
        else
            test_assert_close(dx[1], dx[0], (size_t)(R * C), t, test_fused_acts[v].name);
        test_assert_close(db[1], db[0], C, tol, test_fused_acts[v].name);
        for (int k = 0; k < 2; k++) {
            free(out[k]);
            free(dx[k]);
            free(db[k]);
        }
    }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_bias_act_gradcheck)
{
    clg_context *ctx = test_context();
    float x[4 * 5], b[5];
    test_random(x, 20, 31, -2, 2);
    test_random(b, 5, 32, -1, 1);
    for (int v = 0; v < TEST_N_FUSED_ACTS; v++) {
        /* Keep z = x + b away from relu's kink, where differences straddle it. */
        for (int i = 0; i < 20; i++)
            if (fabsf(x[i] + b[i % 5]) < 0.05f)
                x[i] += 0.2f;
        clg_tensor *in[2] = {test_tensor(ctx, 2, (int64_t[]){4, 5}, x, true),
                             test_tensor(ctx, 1, (int64_t[]){5}, b, true)};
        test_gradcheck(ctx, run_bias_act, &v, 2, in, test_tol_get("gradcheck"));
        clg_tensor_destroy(in[0]);
        clg_tensor_destroy(in[1]);
    }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_bias_act_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_activation");
    for (int v = 0; v < TEST_N_FUSED_ACTS; v++) {
        char name[64];
        snprintf(name, sizeof name, "bias_act.%s", test_fused_acts[v].name);
        test_golden_case(ctx, st, name, run_bias_act, &v, 2, 0, test_tol_get("golden"));
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* One list, include/clgrad/ops.h's CLG_ACTIVATIONS, makes the enum, the
 * kernel names (ops/activation.c) and the kernels' codes (ops/internal.h's
 * build options, ops/activation_math.cl's switch): walked here, each entry
 * must be in test_fused_acts under its own name and value, must run forward and
 * backward, and must compute the function of that name (a kernel stamped
 * out with another's code fails the host comparison). Every value outside
 * the list is refused, the codes of the unfused-only functions (softplus,
 * heaviside, clamp) among them. */
START_TEST(test_bias_act_every_activation)
{
    static const struct {
        const char *name;
        clg_activation act;
    } listed[] = {
#define LISTED_(NAME, name, value) {#name, CLG_ACT_##NAME},
        CLG_ACTIVATIONS(LISTED_)
#undef LISTED_
    };
    enum { N_LISTED = sizeof listed / sizeof listed[0] };
    ck_assert_int_eq(N_LISTED, TEST_N_FUSED_ACTS);
    clg_context *ctx = test_context();
    float x[6] = {-1, 2, -3, 4, 0, 0.5f}, g[6] = {1, 1, 1, 1, 1, 1};
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){2, 3}, x, true);
    clg_tensor *tg = test_tensor(ctx, 2, (int64_t[]){2, 3}, g, false);
    for (int l = 0; l < N_LISTED; l++) {
        int v = 0;
        while (v < TEST_N_FUSED_ACTS && strcmp(test_fused_acts[v].name, listed[l].name) != 0)
            v++;
        ck_assert_msg(v < TEST_N_FUSED_ACTS, "%s: not in test_fused_acts", listed[l].name);
        ck_assert_int_eq((int)test_fused_acts[v].act, (int)listed[l].act);
        clg_step_begin(ctx);
        clg_tensor *y = clg_bias_activation(tx, NULL, listed[l].act, test_fused_acts[v].slope);
        ck_assert_msg(y != NULL, "%s: %s", listed[l].name, clg_context_error(ctx));
        float *got = test_download(y), want[6];
        for (int i = 0; i < 6; i++)
            want[i] = (float)test_host_act(listed[l].act, x[i], test_fused_acts[v].slope);
        test_assert_close(got, want, 6, test_tol_get("transcendental"), listed[l].name);
        free(got);
        ck_assert_int_eq(clg_backward_with(y, tg), CLG_STATUS_OK);
        clg_step_end(ctx);
    }
    for (int value = -1; value < 128; value++) {
        bool in_list = false;
        for (int l = 0; l < N_LISTED; l++)
            in_list = in_list || (int)listed[l].act == value;
        if (in_list)
            continue;
        clg_step_begin(ctx);
        ck_assert_ptr_null(clg_bias_activation(tx, NULL, (clg_activation)value, 0));
        ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
        clg_context_clear_error(ctx);
        clg_step_end(ctx);
    }
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tg);
    clg_context_destroy(ctx);
}
END_TEST

/* Without a bias, and the errors: a bias of the wrong length, a rank-1 x and
 * an unknown activation each name the op. */
START_TEST(test_bias_act_no_bias_and_errors)
{
    clg_context *ctx = test_context();
    float x[6] = {-1, 2, -3, 4, 0, 0.5f};
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){2, 3}, x, false);
    clg_tensor *bad_b = test_tensor(ctx, 1, (int64_t[]){2}, x, false);
    clg_tensor *vec = test_tensor(ctx, 1, (int64_t[]){6}, x, false);
    clg_step_begin(ctx);
    float *got = test_download(clg_bias_activation(tx, NULL, CLG_ACT_RELU, 0));
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(got[i], x[i] > 0 ? x[i] : 0);
    free(got);
    ck_assert_ptr_null(clg_bias_activation(tx, bad_b, CLG_ACT_RELU, 0));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_SHAPE);
    ck_assert_msg(strstr(clg_context_error(ctx), "clg_bias_activation") &&
                      strstr(clg_context_error(ctx), "[2, 3]") &&
                      strstr(clg_context_error(ctx), "[2]"),
                  "%s", clg_context_error(ctx));
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_bias_activation(vec, NULL, CLG_ACT_TANH, 0));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_SHAPE);
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_bias_activation(tx, NULL, (clg_activation)42, 0));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(clg_context_error(ctx), "clg_bias_activation: unknown activation 42"),
                  "%s", clg_context_error(ctx));
    clg_context_clear_error(ctx);
    clg_step_end(ctx);
    clg_tensor_destroy(tx);
    clg_tensor_destroy(bad_b);
    clg_tensor_destroy(vec);
    clg_context_destroy(ctx);
}
END_TEST

/* Under a bound of 1,024 iterations, 3,000 rows: the cpu plan's blocks of
 * rows stay inside it (24 blocks, float4s with the last slid left by three
 * columns); the same dx and db as the host. */
START_TEST(test_bias_act_loop_bound)
{
    clg_context *ctx = test_context_loop_limit("1024");
    enum { ROWS = 3000, COLS = 5 };
    float *x = malloc(ROWS * COLS * sizeof *x), *g = malloc(ROWS * COLS * sizeof *g);
    float b[COLS] = {0.5f, -0.25f, 0, 1, -1};
    test_random(x, ROWS * COLS, 63, -2, 2);
    test_random(g, ROWS * COLS, 64, -1, 1);
    double db_want[COLS] = {0};
    float *dx_want = malloc(ROWS * COLS * sizeof *dx_want);
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++) {
            float d = x[r * COLS + c] + b[c] > 0 ? g[r * COLS + c] : 0.0f;
            dx_want[r * COLS + c] = d;
            db_want[c] += d;
        }
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){ROWS, COLS}, x, true);
    clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){COLS}, b, true);
    clg_step_begin(ctx);
    clg_tensor *y = clg_bias_activation(tx, tb, CLG_ACT_RELU, 0);
    clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){ROWS, COLS}, g);
    ck_assert_msg(clg_backward_with(y, gout) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    clg_step_end(ctx);
    float *dx = test_download(clg_tensor_grad(tx)), *db = test_download(clg_tensor_grad(tb));
    float want[COLS];
    for (int c = 0; c < COLS; c++)
        want[c] = (float)db_want[c];
    test_assert_close(dx, dx_want, ROWS * COLS, test_tol_get("exact"), "dx");
    test_assert_close(db, want, COLS, test_tol_get("reduction"), "db");
    free(dx);
    free(db);
    free(dx_want);
    free(x);
    free(g);
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops/activation");
    struct {
        const char *name;
        const TTest *tests[6]; /* ending in NULL */
    } cases[] = {
        {"sigmoid",
         {test_sigmoid_matches_host, test_sigmoid_gradcheck, test_sigmoid_golden,
          test_sigmoid_saturates}},
        {"tanh",
         {test_tanh_matches_host, test_tanh_gradcheck, test_tanh_golden, test_tanh_saturates}},
        {"relu",
         {test_relu_matches_host, test_relu_gradcheck, test_relu_golden, test_relu_grad_at_zero}},
        {"leaky_relu",
         {test_leaky_relu_matches_host, test_leaky_relu_gradcheck, test_leaky_relu_golden,
          test_leaky_relu_grad_at_zero}},
        {"softplus",
         {test_softplus_matches_host, test_softplus_gradcheck, test_softplus_golden,
          test_softplus_above_threshold}},
        {"heaviside",
         {test_heaviside_matches_host, test_heaviside_golden, test_heaviside_values,
          test_heaviside_no_gradient}},
        {"clamp",
         {test_clamp_matches_host, test_clamp_gradcheck, test_clamp_golden, test_clamp_bounds}},
        {"elu", {test_elu_matches_host, test_elu_gradcheck, test_elu_golden, test_elu_selu_kink}},
        {"selu", {test_selu_matches_host, test_selu_gradcheck, test_selu_golden}},
        {"hardsigmoid",
         {test_hardsigmoid_matches_host, test_hardsigmoid_gradcheck, test_hardsigmoid_golden,
          test_hardsigmoid_bounds}},
        {"errors", {test_activation_rejects_int32}},
        {"loop_bound", {test_bias_act_loop_bound}},
        {"bias_activation",
         {test_bias_act_matches_host, test_bias_act_equals_unfused, test_bias_act_gradcheck,
          test_bias_act_golden, test_bias_act_no_bias_and_errors}},
        {"activation_enum", {test_bias_act_every_activation}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        suite_add_tcase(s, test_case(cases[i].name, 0, cases[i].tests));
    return test_run(s);
}
