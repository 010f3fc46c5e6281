/* tests/lecture/test_discriminant.c: LDA and QDA (lecture/discriminant.c) against
 * scikit-learn 1.2 on the committed fixture tests/golden/zoo_discriminant
 * (tools/golden/gen_discriminant.py): the same predictions exactly, the same
 * probabilities within the "discriminant" tolerance; a host reference of the
 * class means; LDA's score is linear (w^T x + b, as the slides derive); bad
 * input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture/lecture.h"
#include "support.h"

static const void *entry(const clg_safetensors *st, const char *name_case, const char *key,
                         int64_t *rows, int64_t *cols)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", name_case, key);
    clg_dtype dtype;
    int rank;
    const int64_t *shape;
    const void *data;
    ck_assert_msg(clg_safetensors_get(st, name, &dtype, &rank, &shape, &data), "no %s", name);
    *rows = shape[0];
    *cols = rank > 1 ? shape[1] : 1;
    return data;
}

static void golden_case(clg_context *ctx, const clg_safetensors *st, const char *name,
                        bool quadratic)
{
    int64_t n, d, m, md, one;
    const float *x = entry(st, name, "x", &n, &d);
    const int32_t *y = entry(st, name, "y", &n, &one);
    const float *test = entry(st, name, "test", &m, &md);
    const int32_t *want_predict = entry(st, name, "predict", &m, &one);
    const float *want_prob = entry(st, name, "prob", &m, &one);
    ck_assert_int_eq(md, d);

    lecture_discriminant *model = lecture_discriminant_fit(ctx, x, y, n, d, quadratic);
    ck_assert_msg(model != NULL, "%s: %s", name, clg_context_error(ctx));
    float *score = malloc((size_t)m * sizeof *score), *prob = malloc((size_t)m * sizeof *prob);
    int32_t *predicted = malloc((size_t)m * sizeof *predicted);
    ck_assert_msg(lecture_discriminant_predict(model, test, m, score, prob, predicted) ==
                      CLG_STATUS_OK,
                  "%s", clg_context_error(ctx));
    for (int64_t i = 0; i < m; i++)
        ck_assert_msg(predicted[i] == want_predict[i], "%s: point %lld predicted %d, sklearn %d",
                      name, (long long)i, predicted[i], want_predict[i]);
    char what[64];
    snprintf(what, sizeof what, "%s probabilities", name);
    test_assert_close(prob, want_prob, (size_t)m, test_tol_get("discriminant"), what);

    /* Host reference of the class means. */
    float means[2 * 16];
    ck_assert_int_le(d, 16);
    lecture_discriminant_means(model, means);
    for (int k = 0; k < 2; k++)
        for (int64_t j = 0; j < d; j++) {
            double sum = 0.0;
            int64_t count = 0;
            for (int64_t i = 0; i < n; i++)
                if (y[i] == k) {
                    sum += x[i * d + j];
                    count++;
                }
            ck_assert_msg(fabs(means[k * d + j] - sum / count) < 1e-5,
                          "%s: mean of class %d, feature %lld: %g, host %g", name, k, (long long)j,
                          (double)means[k * d + j], sum / count);
        }

    float w[16], b;
    if (!quadratic) {
        /* The score is w^T x + b, the sigmoid form of the slides. */
        ck_assert(lecture_discriminant_linear(model, w, &b) == CLG_STATUS_OK);
        for (int64_t i = 0; i < m; i++) {
            double z = b;
            for (int64_t j = 0; j < d; j++)
                z += w[j] * test[i * d + j];
            ck_assert_msg(fabs(score[i] - z) < 1e-4 * (1 + fabs(z)), "%s: score %g, w.x+b %g", name,
                          (double)score[i], z);
            ck_assert_msg(fabs(prob[i] - 1 / (1 + exp(-z))) < 1e-5, "%s: not sigmoid(score)", name);
        }
    } else {
        ck_assert_int_eq(lecture_discriminant_linear(model, w, &b), CLG_STATUS_STATE);
        clg_context_clear_error(ctx);
    }
    free(score);
    free(prob);
    free(predicted);
    lecture_discriminant_destroy(model);
}

START_TEST(test_discriminant_matches_sklearn)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "zoo_discriminant");
    golden_case(ctx, st, "lda2", false);
    golden_case(ctx, st, "lda3", false);
    golden_case(ctx, st, "qda2", true);
    golden_case(ctx, st, "qda3", true);
    golden_case(ctx, st, "lda10", false);
    golden_case(ctx, st, "qda10", true);
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

static void expect_fit_error(clg_context *ctx, lecture_discriminant *model, const char *part1,
                             const char *part2)
{
    ck_assert_msg(model == NULL, "fit succeeded; expected \"%s\"", part1);
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    const char *message = clg_context_error(ctx);
    ck_assert_msg(strstr(message, part1) && strstr(message, part2), "message: %s", message);
    clg_context_clear_error(ctx);
}

START_TEST(test_discriminant_bad_input)
{
    clg_context *ctx = test_context();
    const float x[] = {0, 0, 1, 0, 0, 1, 1, 1, 2, 1, 1, 3};
    expect_fit_error(
        ctx, lecture_discriminant_fit(ctx, x, (const int32_t[]){0, 1, 2, 0, 1, 1}, 6, 2, false),
        "lecture_discriminant_fit: label 2 is 2", "classes are 0 and 1");
    /* QDA needs features + 1 = 3 points of class 0 for its covariance. */
    expect_fit_error(
        ctx, lecture_discriminant_fit(ctx, x, (const int32_t[]){0, 0, 1, 1, 1, 1}, 6, 2, true),
        "class 0 has 2 points", "QDA needs at least 3");
    expect_fit_error(
        ctx, lecture_discriminant_fit(ctx, x, (const int32_t[]){1, 1, 1, 1, 1, 1}, 6, 2, false),
        "class 0 has 0 points", "LDA needs at least 1");
    expect_fit_error(ctx, lecture_discriminant_fit(ctx, x, (const int32_t[]){0, 1, 0}, 3, 2, false),
                     "3 points for 2 features", "n - 2 >= features");
    /* Collinear points: the covariance is singular. */
    const float line[] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5};
    expect_fit_error(
        ctx, lecture_discriminant_fit(ctx, line, (const int32_t[]){0, 0, 0, 1, 1, 1}, 6, 2, true),
        "class 0 covariance is singular", "lower-dimensional");
    expect_fit_error(ctx, lecture_discriminant_fit(ctx, x, (const int32_t[]){0}, 0, 2, false),
                     "0 samples", "at least one");
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_discriminant_matches_sklearn, test_discriminant_bad_input, NULL};
    return test_main("lecture/discriminant", "discriminant", 0, tests);
}
