/* tests/ops/test_loss.c: mse, bce, bce with logits and cross-entropy with
 * each reduction (ops/loss.c) against host loops in double (on transposed
 * views), PyTorch's edge rules (clamped logs, huge logits, bad labels),
 * finite differences, PyTorch golden values and the messages for bad
 * arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "support.h"

/* the pointwise kinds are check/'s chk_loss, whose references
 * (chk_loss_pointwise, chk_cross_entropy_row) `clgrad check` shares */
enum { MSE = CHK_MSE, BCE = CHK_BCE, BCE_LOGITS = CHK_BCE_LOGITS, CE };
static const char *const names[] = {"mse", "bce", "bce_logits", "ce"};
static const char *const reduction_names[] = {"mean", "sum", "none"};

typedef struct loss_arg {
    int kind;
    clg_reduction reduction;
    bool transpose;        /* the first input is clg_transpose(in[0], 0, 1) */
    bool transpose_target; /* the second is clg_transpose(in[1], 0, 1) */
} loss_arg;

static clg_tensor *run_loss(clg_tensor *const *in, const void *arg)
{
    const loss_arg *a = arg;
    clg_tensor *x = a->transpose ? clg_transpose(in[0], 0, 1) : in[0];
    clg_tensor *t = a->transpose_target ? clg_transpose(in[1], 0, 1) : in[1];
    switch (a->kind) {
    case MSE: return clg_mse_loss(x, t, a->reduction);
    case BCE: return clg_bce_loss(x, t, a->reduction);
    case BCE_LOGITS: return clg_bce_with_logits_loss(x, t, a->reduction);
    default: return clg_cross_entropy_loss(x, t, a->reduction);
    }
}

/* losses (n values) reduced as `reduction` into want; returns its length */
static size_t host_reduce(const double *losses, size_t n, clg_reduction reduction, float *want)
{
    if (reduction == CLG_REDUCTION_NONE) {
        for (size_t i = 0; i < n; i++)
            want[i] = (float)losses[i];
        return n;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += losses[i];
    want[0] = (float)(reduction == CLG_REDUCTION_SUM ? sum : sum / (double)n);
    return 1;
}

/* Runs the loss on (input, target) and compares with want (count values),
 * checking the shape: the input's for NONE, rank 0 otherwise. */
static void check_loss(clg_context *ctx, const loss_arg *a, clg_tensor *const *in,
                       const float *want, size_t count, const test_tol *tol)
{
    clg_step_begin(ctx);
    clg_tensor *out = run_loss(in, a);
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    if (a->reduction == CLG_REDUCTION_NONE) {
        clg_tensor *x = a->transpose ? clg_transpose(in[0], 0, 1) : in[0];
        int rank = a->kind == CE ? 1 : clg_tensor_rank(x);
        ck_assert_int_eq(clg_tensor_rank(out), rank);
        for (int d = 0; d < rank; d++)
            ck_assert_int_eq(clg_tensor_dim(out, d), clg_tensor_dim(x, d));
    } else {
        ck_assert_int_eq(clg_tensor_rank(out), 0);
    }
    ck_assert_uint_eq((size_t)clg_tensor_numel(out), count);
    float *got = test_download(out);
    char what[64];
    snprintf(what, sizeof what, "%s %s%s%s", names[a->kind], reduction_names[a->reduction],
             a->transpose ? " transposed" : "", a->transpose_target ? " target transposed" : "");
    test_assert_close(got, want, count, tol, what);
    free(got);
    clg_step_end(ctx);
}

/* input = transpose of a (4, 3) tensor, so a non-contiguous (3, 4) view;
 * target a contiguous (3, 4) tensor, then the same values as the transpose
 * of a (4, 3) one; every reduction. */
static void check_pointwise_against_host(int kind, float low, float high)
{
    clg_context *ctx = test_context();
    enum { R = 3, C = 4, N = R * C };
    float base[N], target[N];
    test_random(base, N, 100 + kind, low, high);
    test_random(target, N, 110 + kind, kind == MSE ? -2 : 0, kind == MSE ? 2 : 1);
    double losses[N];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            losses[i * C + j] =
                chk_loss_pointwise((chk_loss)kind, base[j * R + i], target[i * C + j]);
    clg_tensor *x = test_tensor(ctx, 2, (int64_t[]){C, R}, base, false);
    float target_t[N];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            target_t[j * R + i] = target[i * C + j];
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){R, C}, target, false);
    clg_tensor *t_t = test_tensor(ctx, 2, (int64_t[]){C, R}, target_t, false);
    for (int r = 0; r < 3; r++)
        for (int tt = 0; tt < 2; tt++) {
            loss_arg a = {kind, (clg_reduction)r, true, tt};
            float want[N];
            size_t count = host_reduce(losses, N, a.reduction, want);
            check_loss(ctx, &a, (clg_tensor *[]){x, tt ? t_t : t}, want, count,
                       test_tol_get("transcendental"));
        }
    clg_tensor_destroy(x);
    clg_tensor_destroy(t);
    clg_tensor_destroy(t_t);
    clg_context_destroy(ctx);
}

START_TEST(test_mse_loss_matches_host)
{
    check_pointwise_against_host(MSE, -2, 2);
}
END_TEST
START_TEST(test_bce_loss_matches_host)
{
    check_pointwise_against_host(BCE, 0.05f, 0.95f);
}
END_TEST
START_TEST(test_bce_with_logits_loss_matches_host)
{
    check_pointwise_against_host(BCE_LOGITS, -30, 30);
}
END_TEST

/* PyTorch's edge rules: bce clamps each log at -100, so p = 0 or 1 costs
 * at most 100; bce with logits stays finite and exact for |x| = 100, where
 * exp(100) would overflow float32. */
START_TEST(test_bce_loss_edges)
{
    clg_context *ctx = test_context();
    const float p[4] = {0, 1, 0, 1}, pt[4] = {1, 0, 0, 1};
    const float z[4] = {100, -100, 100, -100}, zt[4] = {0, 1, 1, 0};
    clg_tensor *tp = test_tensor(ctx, 1, (int64_t[]){4}, p, false);
    clg_tensor *tpt = test_tensor(ctx, 1, (int64_t[]){4}, pt, false);
    clg_tensor *tz = test_tensor(ctx, 1, (int64_t[]){4}, z, false);
    clg_tensor *tzt = test_tensor(ctx, 1, (int64_t[]){4}, zt, false);
    loss_arg bce = {BCE, CLG_REDUCTION_NONE, false, false};
    check_loss(ctx, &bce, (clg_tensor *[]){tp, tpt}, (const float[]){100, 100, 0, 0}, 4,
               test_tol_get("default"));
    loss_arg logits = {BCE_LOGITS, CLG_REDUCTION_NONE, false, false};
    check_loss(ctx, &logits, (clg_tensor *[]){tz, tzt}, (const float[]){100, 100, 0, 0}, 4,
               test_tol_get("default"));
    clg_tensor_destroy(tp);
    clg_tensor_destroy(tpt);
    clg_tensor_destroy(tz);
    clg_tensor_destroy(tzt);
    clg_context_destroy(ctx);
}
END_TEST

/* A persistent int32 tensor of labels. */
static clg_tensor *labels_tensor(clg_context *ctx, int n, const int32_t *labels)
{
    clg_tensor *t = clg_tensor_create(ctx, CLG_DTYPE_I32, 1, (int64_t[]){n});
    ck_assert_msg(t != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_tensor_upload(t, labels, (size_t)n), CLG_STATUS_OK);
    return t;
}

/* check/'s chk_cross_entropy_row on a float (n, c) x */
static double host_cross_entropy(const float *x, int n, int c, int row, int label)
{
    double *xd = test_doubles(x, (size_t)(n * c));
    double loss = chk_cross_entropy_row(xd, c, row, label);
    free(xd);
    return loss;
}

/* logits: the transpose of a (C, N) tensor, so a non-contiguous (N, C) view */
START_TEST(test_cross_entropy_loss_matches_host)
{
    clg_context *ctx = test_context();
    enum { N = 5, C = 4 };
    float base[C * N], logical[N * C];
    test_random(base, C * N, 120, -4, 4);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < C; j++)
            logical[i * C + j] = base[j * N + i];
    const int32_t labels[N] = {3, 0, 2, 2, 1};
    double losses[N];
    for (int i = 0; i < N; i++)
        losses[i] = host_cross_entropy(logical, N, C, i, labels[i]);
    clg_tensor *x = test_tensor(ctx, 2, (int64_t[]){C, N}, base, false);
    clg_tensor *y = labels_tensor(ctx, N, labels);
    for (int r = 0; r < 3; r++) {
        loss_arg a = {CE, (clg_reduction)r, true, false};
        float want[N];
        size_t count = host_reduce(losses, N, a.reduction, want);
        check_loss(ctx, &a, (clg_tensor *[]){x, y}, want, count, test_tol_get("transcendental"));
    }
    clg_tensor_destroy(x);
    clg_tensor_destroy(y);
    clg_context_destroy(ctx);
}
END_TEST

/* Labels -1 and C are out of range: those rows' losses and gradients are
 * NaN (nothing outside the row is read), the other rows are untouched, and
 * the mean is NaN. */
START_TEST(test_cross_entropy_loss_bad_label_is_nan)
{
    clg_context *ctx = test_context();
    enum { N = 4, C = 3 };
    float x[N * C];
    test_random(x, N * C, 130, -2, 2);
    const int32_t labels[N] = {0, -1, 3, 2};
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){N, C}, x, true);
    clg_tensor *ty = labels_tensor(ctx, N, labels);
    clg_step_begin(ctx);
    clg_tensor *rows = clg_cross_entropy_loss(tx, ty, CLG_REDUCTION_NONE);
    ck_assert_msg(rows != NULL, "%s", clg_context_error(ctx));
    float *got = test_download(rows);
    const float want[N] = {(float)host_cross_entropy(x, N, C, 0, 0), NAN, NAN,
                           (float)host_cross_entropy(x, N, C, 3, 2)};
    test_assert_close(got, want, N, test_tol_get("transcendental"), "rows");
    float mean;
    ck_assert_int_eq(clg_tensor_item(clg_mean_all(rows), &mean), CLG_STATUS_OK);
    ck_assert(isnan(mean));
    ck_assert_int_eq(clg_backward_with(rows, clg_tensor_full(ctx, 1, (int64_t[]){N}, 1.0f)),
                     CLG_STATUS_OK);
    float *g = test_download(clg_tensor_grad(tx));
    for (int i = 0; i < N * C; i++) {
        int row = i / C;
        ck_assert_msg((row == 1 || row == 2) == (bool)isnan(g[i]), "gradient[%d] = %g", i,
                      (double)g[i]);
    }
    free(got);
    free(g);
    clg_step_end(ctx);
    clg_tensor_destroy(tx);
    clg_tensor_destroy(ty);
    clg_context_destroy(ctx);
}
END_TEST

/* Every reduction, on a contiguous input and on a transposed one. */
static void check_pointwise_gradients(int kind, float low, float high, const char *tol)
{
    clg_context *ctx = test_context();
    float x[12], t[12];
    test_random(x, 12, 140 + kind, low, high);
    test_random(t, 12, 150 + kind, kind == MSE ? -2 : 0, kind == MSE ? 2 : 1);
    /* mse differentiates the target too; the others give it no gradient */
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){3, 4}, x, true);
    clg_tensor *tt = test_tensor(ctx, 2, (int64_t[]){3, 4}, t, kind == MSE);
    clg_tensor *tx_t = test_tensor(ctx, 2, (int64_t[]){4, 3}, x, true);
    clg_tensor *tt_t = test_tensor(ctx, 2, (int64_t[]){4, 3}, t, kind == MSE);
    for (int r = 0; r < 3; r++) {
        loss_arg a = {kind, (clg_reduction)r, false, false};
        test_gradcheck(ctx, run_loss, &a, 2, (clg_tensor *[]){tx, tt}, test_tol_get(tol));
        a.transpose = true;
        test_gradcheck(ctx, run_loss, &a, 2, (clg_tensor *[]){tx_t, tt}, test_tol_get(tol));
        a.transpose_target = true;
        test_gradcheck(ctx, run_loss, &a, 2, (clg_tensor *[]){tx_t, tt_t}, test_tol_get(tol));
    }
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tt);
    clg_tensor_destroy(tx_t);
    clg_tensor_destroy(tt_t);
    clg_context_destroy(ctx);
}

START_TEST(test_mse_loss_gradcheck)
{
    check_pointwise_gradients(MSE, -2, 2, "gradcheck");
}
END_TEST
/* bce's third derivative is ~2/p^3, so central differences with h = 1e-2
 * near p = 0.05 are off by ~1%: the loose row. */
START_TEST(test_bce_loss_gradcheck)
{
    check_pointwise_gradients(BCE, 0.05f, 0.95f, "gradcheck_loose");
}
END_TEST
START_TEST(test_bce_with_logits_loss_gradcheck)
{
    check_pointwise_gradients(BCE_LOGITS, -4, 4, "gradcheck");
}
END_TEST

/* The target of bce and bce with logits gets no gradient even when it asks
 * for one (ops.h); the input's gradient is still there. */
START_TEST(test_bce_loss_target_gets_no_gradient)
{
    clg_context *ctx = test_context();
    float x[6], t[6];
    test_random(x, 6, 160, 0.1f, 0.9f);
    test_random(t, 6, 161, 0, 1);
    clg_tensor *tx = test_tensor(ctx, 1, (int64_t[]){6}, x, true);
    clg_tensor *tt = test_tensor(ctx, 1, (int64_t[]){6}, t, true);
    for (int kind = BCE; kind <= BCE_LOGITS; kind++) {
        clg_tensor_zero_grad(tx);
        clg_tensor_zero_grad(tt);
        clg_step_begin(ctx);
        loss_arg a = {kind, CLG_REDUCTION_MEAN, false, false};
        ck_assert_int_eq(clg_backward(run_loss((clg_tensor *[]){tx, tt}, &a)), CLG_STATUS_OK);
        ck_assert_ptr_nonnull(clg_tensor_grad(tx));
        ck_assert_ptr_null(clg_tensor_grad(tt));
        clg_step_end(ctx);
    }
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tt);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_cross_entropy_loss_gradcheck)
{
    clg_context *ctx = test_context();
    enum { N = 4, C = 5 };
    float x[N * C];
    test_random(x, N * C, 170, -3, 3);
    const int32_t labels[N] = {4, 0, 2, 2};
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){N, C}, x, true);
    clg_tensor *tx_t = test_tensor(ctx, 2, (int64_t[]){C, N}, x, true);
    clg_tensor *ty = labels_tensor(ctx, N, labels);
    for (int r = 0; r < 3; r++) {
        loss_arg a = {CE, (clg_reduction)r, false, false};
        test_gradcheck(ctx, run_loss, &a, 2, (clg_tensor *[]){tx, ty}, test_tol_get("gradcheck"));
        a.transpose = true;
        test_gradcheck(ctx, run_loss, &a, 2, (clg_tensor *[]){tx_t, ty}, test_tol_get("gradcheck"));
    }
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tx_t);
    clg_tensor_destroy(ty);
    clg_context_destroy(ctx);
}
END_TEST

/* SUM and MEAN over many elements (the autoencoder's 2048 x 30, whole
 * vectors of the plan's width; 2047 x 30, with elements past the last whole
 * vector): many groups in the first stage, then the second. The result is
 * the host's sum in double, within the reduction tolerance, as is
 * clg_sum_all / clg_mean_all over the NONE losses, and the same bits when
 * run again; the gradient of the scalar (g 1 for the sum, and for the mean
 * that of loss^2: g = 2 loss) reaches every element of both inputs (mse's
 * target too) as the host's formula says, for a contiguous input and a
 * transposed one. */
static double host_loss_grad(int kind, double x, double t)
{
    switch (kind) {
    case MSE: return 2 * (x - t);
    case BCE: return (x - t) / fmax(x * (1 - x), 1e-12);
    default: return 1 / (1 + exp(-x)) - t;
    }
}

static void check_reduced_large(clg_context *ctx, int kind, int R, clg_reduction r, bool transposed)
{
    enum { C = 30 };
    int N = R * C;
    float *x = malloc((size_t)N * sizeof *x), *t = malloc((size_t)N * sizeof *t);
    float *want = malloc((size_t)N * sizeof *want), *want_t = malloc((size_t)N * sizeof *want_t);
    ck_assert(x && t && want && want_t);
    test_random(x, (size_t)N, 180 + kind, kind == BCE ? 0.05f : -2, kind == BCE ? 0.95f : 2);
    test_random(t, (size_t)N, 190 + kind, 0, 1);
    /* a transposed input: x holds the (C, R) tensor whose transpose is read */
    clg_tensor *in =
        test_tensor(ctx, 2, transposed ? (int64_t[]){C, R} : (int64_t[]){R, C}, x, true);
    clg_tensor *tt = test_tensor(ctx, 2, (int64_t[]){R, C}, t, kind == MSE);
    char what[80];
    snprintf(what, sizeof what, "%s %s over %d x %d%s", names[kind], reduction_names[r], R, C,
             transposed ? " transposed" : "");
    double sum = 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            sum += chk_loss_pointwise((chk_loss)kind, transposed ? x[j * R + i] : x[i * C + j],
                                      t[i * C + j]);
    float host = (float)(r == CLG_REDUCTION_SUM ? sum : sum / N);
    loss_arg fused = {kind, r, transposed, false},
             none = {kind, CLG_REDUCTION_NONE, transposed, false};
    clg_step_begin(ctx);
    clg_tensor *loss = run_loss((clg_tensor *[]){in, tt}, &fused);
    clg_tensor *again = run_loss((clg_tensor *[]){in, tt}, &fused);
    clg_tensor *losses = run_loss((clg_tensor *[]){in, tt}, &none);
    clg_tensor *unfused = r == CLG_REDUCTION_SUM ? clg_sum_all(losses) : clg_mean_all(losses);
    ck_assert_msg(loss && again && unfused, "%s: %s", what, clg_context_error(ctx));
    float got[3];
    ck_assert_int_eq(clg_tensor_download(loss, &got[0], 1), CLG_STATUS_OK);
    ck_assert_int_eq(clg_tensor_download(again, &got[1], 1), CLG_STATUS_OK);
    ck_assert_int_eq(clg_tensor_download(unfused, &got[2], 1), CLG_STATUS_OK);
    ck_assert_msg(got[0] == got[1], "%s: %.9g, then %.9g", what, (double)got[0], (double)got[1]);
    test_assert_close(&got[0], &host, 1, test_tol_get("reduction"), what);
    test_assert_close(&got[2], &host, 1, test_tol_get("reduction"), what);
    /* g 1 for the sum (whose square's g, 2 loss, would scale the float32
     * error of bce's terms past the tolerance) */
    bool summed = r == CLG_REDUCTION_SUM;
    ck_assert_int_eq(clg_backward(summed ? loss : clg_mul(loss, loss)), CLG_STATUS_OK);
    double g = summed ? 1.0 : 2.0 * got[0] / N;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            int k = transposed ? j * R + i : i * C + j;
            want[k] = (float)(g * host_loss_grad(kind, x[k], t[i * C + j]));
            want_t[i * C + j] = -want[k]; /* mse's target: the input's, negated */
        }
    float *dx = test_download(clg_tensor_grad(in));
    test_assert_close(dx, want, (size_t)N, test_tol_get("transcendental"), what);
    free(dx);
    if (kind == MSE) {
        float *dt = test_download(clg_tensor_grad(tt));
        test_assert_close(dt, want_t, (size_t)N, test_tol_get("transcendental"), what);
        free(dt);
    } else {
        ck_assert_ptr_null(clg_tensor_grad(tt));
    }
    clg_step_end(ctx);
    clg_tensor_destroy(in);
    clg_tensor_destroy(tt);
    free(x);
    free(t);
    free(want);
    free(want_t);
}

START_TEST(test_pointwise_loss_reduced_large)
{
    clg_context *ctx = test_context();
    for (int kind = MSE; kind <= BCE_LOGITS; kind++)
        for (int rows = 2047; rows <= 2048; rows++)
            for (int r = CLG_REDUCTION_MEAN; r <= CLG_REDUCTION_SUM; r++)
                for (int transposed = 0; transposed <= 1; transposed++)
                    check_reduced_large(ctx, kind, rows, (clg_reduction)r, transposed);
    clg_context_destroy(ctx);
}
END_TEST

/* Cases of tools/golden/gen_ops_loss.py: <loss>.<shape>.<reduction>. */
START_TEST(test_loss_golden)
{
    static const char *const pointwise_shapes[] = {"r1", "r3", "r4"};
    static const char *const ce_shapes[] = {"n5c4", "n1c10", "n8c3"};
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_loss");
    char name[64];
    for (int r = 0; r < 3; r++)
        for (int s = 0; s < 3; s++) {
            for (int kind = MSE; kind <= BCE_LOGITS; kind++) {
                loss_arg a = {kind, (clg_reduction)r, false, false};
                snprintf(name, sizeof name, "%s.%s.%s", names[kind], pointwise_shapes[s],
                         reduction_names[r]);
                test_golden_case(ctx, st, name, run_loss, &a, 2, 0, test_tol_get("golden"));
            }
            loss_arg a = {CE, (clg_reduction)r, false, false};
            snprintf(name, sizeof name, "ce.%s.%s", ce_shapes[s], reduction_names[r]);
            test_golden_case(ctx, st, name, run_loss, &a, 2, 1u << 1, test_tol_get("golden"));
        }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_loss_bad_arguments)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 2, (int64_t[]){3, 2}, NULL, false);
    clg_tensor *logits = test_tensor(ctx, 2, (int64_t[]){4, 3}, NULL, false);
    clg_tensor *logits3 = test_tensor(ctx, 3, (int64_t[]){2, 2, 3}, NULL, false);
    clg_tensor *float_labels = test_tensor(ctx, 1, (int64_t[]){4}, NULL, false);
    clg_tensor *short_labels = labels_tensor(ctx, 3, (const int32_t[]){0, 1, 2});
    clg_tensor *labels = labels_tensor(ctx, 4, (const int32_t[]){0, 1, 2, 0});
    clg_tensor *labels2 = clg_tensor_create(ctx, CLG_DTYPE_I32, 2, (int64_t[]){4, 1});
    test_expect_error(ctx, clg_mse_loss(a, b, CLG_REDUCTION_MEAN), CLG_STATUS_SHAPE,
                      "clg_mse_loss: shapes [2, 3] and [3, 2] differ (input and target must have "
                      "the same shape)");
    test_expect_error(ctx, clg_bce_loss(a, b, CLG_REDUCTION_SUM), CLG_STATUS_SHAPE,
                      "clg_bce_loss: shapes [2, 3] and [3, 2] differ (input and target must have "
                      "the same shape)");
    test_expect_error(ctx, clg_bce_with_logits_loss(b, a, CLG_REDUCTION_NONE), CLG_STATUS_SHAPE,
                      "clg_bce_with_logits_loss: shapes [3, 2] and [2, 3] differ (input and target "
                      "must have the same shape)");
    test_expect_error(ctx, clg_mse_loss(a, a, (clg_reduction)7), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_mse_loss: unknown reduction 7");
    test_expect_error(
        ctx, clg_mse_loss(labels, labels, CLG_REDUCTION_MEAN), CLG_STATUS_INVALID_ARGUMENT,
        "clg_mse_loss: input 1 of 2 must be float32, not an int32 tensor of shape [4]");
    test_expect_error(ctx, clg_cross_entropy_loss(logits, float_labels, CLG_REDUCTION_MEAN),
                      CLG_STATUS_INVALID_ARGUMENT,
                      "clg_cross_entropy_loss: labels must be int32 class indices, not float32");
    test_expect_error(ctx, clg_cross_entropy_loss(logits, short_labels, CLG_REDUCTION_MEAN),
                      CLG_STATUS_SHAPE,
                      "clg_cross_entropy_loss: logits [4, 3] need labels of shape [4], not [3]");
    test_expect_error(ctx, clg_cross_entropy_loss(logits, labels2, CLG_REDUCTION_MEAN),
                      CLG_STATUS_SHAPE,
                      "clg_cross_entropy_loss: logits [4, 3] need labels of shape [4], not [4, 1]");
    test_expect_error(
        ctx, clg_cross_entropy_loss(logits3, labels, CLG_REDUCTION_MEAN), CLG_STATUS_SHAPE,
        "clg_cross_entropy_loss: logits must be float32 of shape (N, C), not [2, 2, 3]");
    test_expect_error(
        ctx, clg_cross_entropy_loss(labels, labels, CLG_REDUCTION_MEAN), CLG_STATUS_SHAPE,
        "clg_cross_entropy_loss: logits must be float32 of shape (N, C), not int32 [4]");
    ck_assert_ptr_nonnull(clg_cross_entropy_loss(logits, labels, CLG_REDUCTION_MEAN));
    clg_tensor_destroy(a);
    clg_tensor_destroy(b);
    clg_tensor_destroy(logits);
    clg_tensor_destroy(logits3);
    clg_tensor_destroy(float_labels);
    clg_tensor_destroy(short_labels);
    clg_tensor_destroy(labels);
    clg_tensor_destroy(labels2);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_mse_loss_matches_host,
                            test_bce_loss_matches_host,
                            test_bce_with_logits_loss_matches_host,
                            test_bce_loss_edges,
                            test_cross_entropy_loss_matches_host,
                            test_cross_entropy_loss_bad_label_is_nan,
                            test_mse_loss_gradcheck,
                            test_bce_loss_gradcheck,
                            test_bce_with_logits_loss_gradcheck,
                            test_bce_loss_target_gets_no_gradient,
                            test_cross_entropy_loss_gradcheck,
                            test_pointwise_loss_reduced_large,
                            test_loss_golden,
                            test_loss_bad_arguments,
                            NULL};
    return test_main("ops/loss", "loss", 0, tests);
}
