/* tests/lecture/test_perceptron.c: Rosenblatt's perceptron (lecture/perceptron.c):
 * convergence within Novikoff's bound (R / gamma)^2 on separable data, the
 * same run as a host reference of the lecture's rule, the epoch limit on
 * non-separable data, and bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lecture/lecture.h"
#include "support.h"

/* A known separator u = (u0, u1, u2) (bias first) and n points in [-1, 1]^2
 * on a grid of eighths (so every sum the rule forms is exact in float32),
 * keeping only those at distance >= min_margin from the line u . x* = 0;
 * t = sign(u . x*). Returns how many points were kept. */
static int64_t separable(const double u[3], double min_margin, int64_t n, uint64_t seed, float *x,
                         int32_t *t)
{
    double norm = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    float r[2];
    int64_t kept = 0;
    for (uint64_t s = seed; kept < n; s++) {
        test_random(r, 2, s, -1.0f, 1.0f);
        float x0 = roundf(r[0] * 8.0f) / 8.0f, x1 = roundf(r[1] * 8.0f) / 8.0f;
        double score = (u[0] + u[1] * x0 + u[2] * x1) / norm;
        if (fabs(score) < min_margin)
            continue;
        x[2 * kept] = x0;
        x[2 * kept + 1] = x1;
        t[kept++] = score > 0 ? 1 : -1;
    }
    return kept;
}

/* The lecture's rule on the host, in float32 like the device. */
static void host_perceptron(const float *x, const int32_t *t, int64_t n, float eta, int max_epochs,
                            float w[3], lecture_perceptron_result *r)
{
    memset(w, 0, 3 * sizeof *w);
    memset(r, 0, sizeof *r);
    for (int e = 0; e < max_epochs; e++) {
        int64_t mistakes = 0;
        for (int64_t i = 0; i < n; i++) {
            float a = w[0] + w[1] * x[2 * i] + w[2] * x[2 * i + 1];
            if ((float)t[i] * a <= 0.0f) {
                w[0] += eta * (float)t[i];
                w[1] += eta * (float)t[i] * x[2 * i];
                w[2] += eta * (float)t[i] * x[2 * i + 1];
                mistakes++;
            }
        }
        r->updates += mistakes;
        r->epochs = e + 1;
        r->last_mistakes = mistakes;
        if (mistakes == 0) {
            r->converged = true;
            return;
        }
    }
}

START_TEST(test_perceptron_converges_within_novikoff_bound)
{
    clg_context *ctx = test_context();
    enum { N = 200 };
    const double u[3] = {0.25, 1.0, -0.75};
    float x[2 * N];
    int32_t t[N];
    separable(u, 0.05, N, 7, x, t);
    /* Novikoff (1962): at most (R / gamma)^2 updates, R = max |x*| and gamma
     * the margin of any unit separator, here u / |u|. */
    double norm = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]), r2 = 0.0, gamma = INFINITY;
    for (int i = 0; i < N; i++) {
        r2 = fmax(r2, 1.0 + x[2 * i] * x[2 * i] + x[2 * i + 1] * x[2 * i + 1]);
        gamma = fmin(gamma, t[i] * (u[0] + u[1] * x[2 * i] + u[2] * x[2 * i + 1]) / norm);
    }
    double bound = r2 / (gamma * gamma);
    float w[3];
    lecture_perceptron_result r;
    ck_assert_msg(lecture_perceptron_train(ctx, x, t, N, 2, 1.0f, 1000, w, &r) == CLG_STATUS_OK,
                  "%s", clg_context_error(ctx));
    ck_assert_msg(r.converged, "no convergence after %d epochs, %lld mistakes in the last",
                  r.epochs, (long long)r.last_mistakes);
    ck_assert_int_eq(r.last_mistakes, 0);
    ck_assert_msg(r.updates >= 1 && (double)r.updates <= bound,
                  "%lld updates; Novikoff's bound (R/gamma)^2 = %.1f (R^2 %.3f, gamma %.4f)",
                  (long long)r.updates, bound, r2, gamma);
    for (int i = 0; i < N; i++)
        ck_assert_msg(t[i] * (w[0] + w[1] * x[2 * i] + w[2] * x[2 * i + 1]) > 0.0f,
                      "converged weights misclassify point %d", i);

    /* The same run as the host reference: updates, epochs and weights (the
     * data are eighths, so every sum is exact). */
    float hw[3];
    lecture_perceptron_result hr;
    host_perceptron(x, t, N, 1.0f, 1000, hw, &hr);
    ck_assert_int_eq(r.updates, hr.updates);
    ck_assert_int_eq(r.epochs, hr.epochs);
    for (int j = 0; j < 3; j++)
        ck_assert_msg(w[j] == hw[j], "w[%d]: device %g, host %g", j, (double)w[j], (double)hw[j]);

    /* From zero weights, eta only scales w: the same mistakes, w times eta. */
    float w2[3];
    lecture_perceptron_result r2nd;
    ck_assert(lecture_perceptron_train(ctx, x, t, N, 2, 0.5f, 1000, w2, &r2nd) == CLG_STATUS_OK);
    ck_assert_int_eq(r2nd.updates, r.updates);
    for (int j = 0; j < 3; j++)
        ck_assert_float_eq(w2[j], 0.5f * w[j]);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_perceptron_stops_at_limit_when_not_separable)
{
    clg_context *ctx = test_context();
    /* XOR: no line separates it. */
    const float x[] = {0, 0, 1, 1, 0, 1, 1, 0};
    const int32_t t[] = {-1, -1, 1, 1};
    float w[3];
    lecture_perceptron_result r;
    ck_assert(lecture_perceptron_train(ctx, x, t, 4, 2, 1.0f, 37, w, &r) == CLG_STATUS_OK);
    ck_assert_msg(!r.converged, "XOR reported as converged");
    ck_assert_int_eq(r.epochs, 37);
    ck_assert_int_gt(r.last_mistakes, 0);
    ck_assert_int_ge(r.updates, 37);
    float hw[3];
    lecture_perceptron_result hr;
    host_perceptron(x, t, 4, 1.0f, 37, hw, &hr);
    ck_assert_int_eq(r.updates, hr.updates);
    ck_assert_int_eq(r.last_mistakes, hr.last_mistakes);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_perceptron_bad_input)
{
    clg_context *ctx = test_context();
    const float x[] = {0, 0, 1, 1, 0, 1};
    float w[3];
    lecture_perceptron_result r;
    test_expect_status(
        ctx, lecture_perceptron_train(ctx, x, (const int32_t[]){1, 0, -1}, 3, 2, 1, 10, w, &r),
        CLG_STATUS_INVALID_ARGUMENT, "lecture_perceptron_train: target 1 is 0", "+1 and -1");
    test_expect_status(
        ctx, lecture_perceptron_train(ctx, x, (const int32_t[]){1, 1, -1}, 3, 2, 0, 10, w, &r),
        CLG_STATUS_INVALID_ARGUMENT, "eta 0", "eta > 0");
    test_expect_status(
        ctx, lecture_perceptron_train(ctx, x, (const int32_t[]){1, 1, -1}, 3, 2, 1, 0, w, &r),
        CLG_STATUS_INVALID_ARGUMENT, "max_epochs 0", "at least one epoch");
    test_expect_status(ctx,
                       lecture_perceptron_train(ctx, x, (const int32_t[]){1}, 0, 2, 1, 10, w, &r),
                       CLG_STATUS_INVALID_ARGUMENT, "0 samples", "at least one");
    const float bad[] = {0, NAN};
    test_expect_status(ctx,
                       lecture_perceptron_train(ctx, bad, (const int32_t[]){1}, 1, 2, 1, 10, w, &r),
                       CLG_STATUS_INVALID_ARGUMENT, "x[0, 1]", "not a finite number");
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_perceptron_converges_within_novikoff_bound,
                            test_perceptron_stops_at_limit_when_not_separable,
                            test_perceptron_bad_input, NULL};
    return test_main("lecture/perceptron", "perceptron", 0, tests);
}
