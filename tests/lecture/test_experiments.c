/* tests/lecture/test_experiments.c: the lecture's small experiments
 * (lecture/experiments.c): logistic regression on the synthetic student exam
 * recovers the generating boundary by gradient descent and by mini-batch
 * SGD; universal approximation fits better with 13 ReLU units than with 1;
 * at initialisation a deep sigmoid MLP's first layer gets a far smaller
 * gradient than its last, a ReLU one much less so; bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture/lecture.h"
#include "support.h"

/* The relative distance |w - truth| / |truth| of two boundaries
 * w0 + w1 x1 + w2 x2 = 0 seen as vectors (w0, w1, w2). */
static double relative_error(const float *w, const float *truth)
{
    double diff = 0.0, norm = 0.0;
    for (int j = 0; j < 3; j++) {
        diff += (w[j] - truth[j]) * (w[j] - truth[j]);
        norm += truth[j] * truth[j];
    }
    return sqrt(diff / norm);
}

START_TEST(test_logistic_recovers_exam_boundary)
{
    clg_context *ctx = test_context();
    enum { N = 3000 };
    float *x = malloc(2 * N * sizeof *x);
    int32_t *t = malloc(N * sizeof *t);
    const float truth[3] = {LECTURE_EXAM_TRUE_W0, LECTURE_EXAM_TRUE_W1, LECTURE_EXAM_TRUE_W2};
    ck_assert(lecture_exam_generate(ctx, N, NULL, 5, x, t) == CLG_STATUS_OK);
    int passed = 0;
    for (int i = 0; i < N; i++)
        passed += t[i];
    /* The data are a real mix of both classes. */
    ck_assert_msg(passed > N / 5 && passed < 4 * N / 5, "%d of %d passed", passed, N);

    float w_gd[3], w_sgd[3], loss_gd, loss_sgd;
    double acc_gd, acc_sgd;
    lecture_logistic_options gd = lecture_logistic_options_default();
    ck_assert_msg(lecture_logistic_fit(ctx, x, t, N, 2, &gd, w_gd, &loss_gd, &acc_gd) ==
                      CLG_STATUS_OK,
                  "%s", clg_context_error(ctx));
    lecture_logistic_options sgd = lecture_logistic_options_default();
    sgd.batch = 32;
    sgd.epochs = 40;
    sgd.lr = 0.1f;
    ck_assert_msg(lecture_logistic_fit(ctx, x, t, N, 2, &sgd, w_sgd, &loss_sgd, &acc_sgd) ==
                      CLG_STATUS_OK,
                  "%s", clg_context_error(ctx));
    /* 3000 Bernoulli labels pin the maximum-likelihood weights to a few
     * per cent of the truth (about 5% for this seed); GD and SGD both reach
     * them. 12% is loose enough for any seed, tight enough that a wrong
     * sign, scale or unstandardisation fails. */
    double err_gd = relative_error(w_gd, truth), err_sgd = relative_error(w_sgd, truth);
    ck_assert_msg(err_gd < 0.12, "GD: w = (%.3f, %.3f, %.3f), |w - true| / |true| = %.3f", w_gd[0],
                  w_gd[1], w_gd[2], err_gd);
    ck_assert_msg(err_sgd < 0.12, "SGD: w = (%.3f, %.3f, %.3f), |w - true| / |true| = %.3f",
                  w_sgd[0], w_sgd[1], w_sgd[2], err_sgd);
    ck_assert_msg(relative_error(w_sgd, w_gd) < 0.05, "SGD and GD disagree: %.3f",
                  relative_error(w_sgd, w_gd));
    /* The boundary studied = -(w0 + w2 slept) / w1 at 0 and 10 hours slept. */
    for (int slept = 0; slept <= 10; slept += 10) {
        double want = -(truth[0] + truth[2] * slept) / truth[1];
        double got = -(w_gd[0] + w_gd[2] * slept) / w_gd[1];
        ck_assert_msg(fabs(got - want) < 0.5, "boundary at %d hours slept: %.2f, true %.2f", slept,
                      got, want);
    }
    ck_assert_msg(acc_gd > 0.8 && acc_sgd > 0.8, "accuracy GD %.3f, SGD %.3f", acc_gd, acc_sgd);
    ck_assert_msg(loss_gd > 0.1 && loss_gd < 0.5, "loss %.4f", (double)loss_gd);
    ck_assert_msg(fabsf(loss_sgd - loss_gd) < 0.01, "loss SGD %.4f, GD %.4f", (double)loss_sgd,
                  (double)loss_gd);

    /* The generator is a function of its seed. */
    float *again = malloc(2 * N * sizeof *again);
    int32_t *t_again = malloc(N * sizeof *t_again);
    ck_assert(lecture_exam_generate(ctx, N, NULL, 5, again, t_again) == CLG_STATUS_OK);
    ck_assert(memcmp(again, x, 2 * N * sizeof *x) == 0 && memcmp(t_again, t, N * sizeof *t) == 0);
    free(again);
    free(t_again);
    free(x);
    free(t);
    clg_context_destroy(ctx);
}
END_TEST

static float target(float x)
{
    return sinf(2.0f * x) + 0.3f * x * x;
}

START_TEST(test_approx_error_falls_with_width)
{
    clg_context *ctx = test_context();
    enum { N = 128 };
    float x[N], y[N], fitted[N];
    for (int i = 0; i < N; i++) {
        x[i] = -2.0f + 4.0f * (float)i / (N - 1);
        y[i] = target(x[i]);
    }
    const int64_t widths[] = {1, 2, 3, 6, 13};
    float mse[5];
    for (int k = 0; k < 5; k++) {
        ck_assert_msg(lecture_approx_fit(ctx, x, y, N, widths[k], 1500, 0.02f, 3, fitted,
                                         &mse[k]) == CLG_STATUS_OK,
                      "%s", clg_context_error(ctx));
        /* The reported error is the error of the returned fit. */
        double host = 0.0;
        for (int i = 0; i < N; i++)
            host += (fitted[i] - y[i]) * (fitted[i] - y[i]) / N;
        ck_assert_msg(fabs(host - mse[k]) <= 1e-4 * (1 + host), "width %lld: mse %g, host %g",
                      (long long)widths[k], (double)mse[k], host);
    }
    /* One unit is one bend: it cannot follow a sine (mse ~0.4); 13 units
     * follow it to ~1e-4. Loosely: 13 units at least 20 times better, and
     * the widest fit is good in absolute terms. */
    ck_assert_msg(mse[4] * 20 < mse[0], "mse with 13 units %g, with 1 unit %g", (double)mse[4],
                  (double)mse[0]);
    ck_assert_msg(mse[4] < 0.01, "mse with 13 units %g", (double)mse[4]);
    ck_assert_msg(mse[3] < mse[0], "mse with 6 units %g, with 1 unit %g", (double)mse[3],
                  (double)mse[0]);
    clg_context_destroy(ctx);
}
END_TEST

static double layer_norm(const float *g, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return sqrt(s / (double)n);
}

/* first-layer / last-layer rms gradient of a run of `activation`. */
static void vanishing_ratios(clg_context *ctx, const char *activation, double *at_init,
                             double *trained)
{
    lecture_vanishing_options o = lecture_vanishing_options_default();
    o.activation = activation;
    o.steps = 10;
    int64_t total = 0;
    for (int l = 0; l < o.layers; l++)
        total += lecture_vanishing_layer_size(&o, l);
    ck_assert_int_eq(lecture_vanishing_layer_size(&o, o.layers - 1), o.width);
    ck_assert_int_eq(lecture_vanishing_layer_size(&o, o.layers), 0);
    float *g0 = malloc((size_t)total * sizeof *g0), *g1 = malloc((size_t)total * sizeof *g1);
    float loss = NAN;
    ck_assert_msg(lecture_vanishing_run(ctx, &o, g0, g1, &loss) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
    ck_assert_msg(isfinite(loss) && loss > 0, "%s: loss %g", activation, (double)loss);
    int64_t first = lecture_vanishing_layer_size(&o, 0),
            last = lecture_vanishing_layer_size(&o, o.layers - 1);
    *at_init = layer_norm(g0, first) / layer_norm(g0 + total - last, last);
    *trained = layer_norm(g1, first) / layer_norm(g1 + total - last, last);
    /* The second snapshot is another batch after 10 updates. */
    ck_assert_msg(memcmp(g0, g1, (size_t)total * sizeof *g0) != 0, "%s: snapshots equal",
                  activation);
    free(g0);
    free(g1);
}

START_TEST(test_vanishing_gradients)
{
    clg_context *ctx = test_context();
    double sigmoid0, sigmoid1, relu0, relu1, leaky0, leaky1, tanh0, tanh1;
    vanishing_ratios(ctx, "sigmoid", &sigmoid0, &sigmoid1);
    vanishing_ratios(ctx, "relu", &relu0, &relu1);
    vanishing_ratios(ctx, "leaky_relu", &leaky0, &leaky1);
    vanishing_ratios(ctx, "tanh", &tanh0, &tanh1);
    /* sigmoid' <= 1/4: nine sigmoid layers shrink the first layer's gradient
     * by ~1e-5 against the last's (measured 4e-6); ReLU passes it on (~3e-2:
     * the last layer is special, it sees the loss directly). */
    ck_assert_msg(sigmoid0 < 1e-3, "sigmoid: first/last %.2e at init", sigmoid0);
    ck_assert_msg(relu0 > 1e-2, "relu: first/last %.2e at init", relu0);
    ck_assert_msg(leaky0 > 1e-2, "leaky_relu: first/last %.2e at init", leaky0);
    ck_assert_msg(tanh0 > 1e-2, "tanh: first/last %.2e at init", tanh0);
    ck_assert_msg(relu0 > 1000 * sigmoid0, "relu %.2e vs sigmoid %.2e", relu0, sigmoid0);
    ck_assert_msg(sigmoid1 < 1e-3 && relu1 > 1e-2, "after training: sigmoid %.2e, relu %.2e",
                  sigmoid1, relu1);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_experiments_bad_input)
{
    clg_context *ctx = test_context();
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, w[3], out[4], mse;
    lecture_logistic_options o = lecture_logistic_options_default();
    test_expect_status(
        ctx, lecture_logistic_fit(ctx, x, (const int32_t[]){0, 1, 2, 1}, 4, 2, &o, w, NULL, NULL),
        CLG_STATUS_INVALID_ARGUMENT, "lecture_logistic_fit: label 2 is 2", "classes are 0 and 1");
    const float constant[8] = {1, 3, 1, 4, 1, 5, 1, 6};
    test_expect_status(
        ctx,
        lecture_logistic_fit(ctx, constant, (const int32_t[]){0, 1, 0, 1}, 4, 2, &o, w, NULL, NULL),
        CLG_STATUS_INVALID_ARGUMENT, "feature 0 is constant", "standardised");
    o.batch = 5;
    test_expect_status(
        ctx, lecture_logistic_fit(ctx, x, (const int32_t[]){0, 1, 0, 1}, 4, 2, &o, w, NULL, NULL),
        CLG_STATUS_INVALID_ARGUMENT, "batch 5", "at most n = 4");
    o = lecture_logistic_options_default();
    o.lr = 0;
    test_expect_status(
        ctx, lecture_logistic_fit(ctx, x, (const int32_t[]){0, 1, 0, 1}, 4, 2, &o, w, NULL, NULL),
        CLG_STATUS_INVALID_ARGUMENT, "lr 0", "> 0");
    test_expect_status(ctx, lecture_exam_generate(ctx, 0, NULL, 1, x, (int32_t[4]){0}),
                       CLG_STATUS_INVALID_ARGUMENT, "lecture_exam_generate", "0 students");
    test_expect_status(ctx, lecture_approx_fit(ctx, x, x, 4, 0, 10, 0.01f, 1, out, &mse),
                       CLG_STATUS_INVALID_ARGUMENT, "0 hidden units", "lecture_approx_fit");
    lecture_vanishing_options v = lecture_vanishing_options_default();
    v.activation = "swish";
    test_expect_status(ctx, lecture_vanishing_run(ctx, &v, NULL, NULL, NULL),
                       CLG_STATUS_INVALID_ARGUMENT, "activation \"swish\"",
                       "sigmoid, tanh, relu or leaky_relu");
    v = lecture_vanishing_options_default();
    v.layers = 1;
    test_expect_status(ctx, lecture_vanishing_run(ctx, &v, NULL, NULL, NULL),
                       CLG_STATUS_INVALID_ARGUMENT, "layers 1", "2 to 64");
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_logistic_recovers_exam_boundary,
                            test_approx_error_falls_with_width, test_vanishing_gradients,
                            test_experiments_bad_input, NULL};
    return test_main("lecture/experiments", "experiments", 0, tests);
}
