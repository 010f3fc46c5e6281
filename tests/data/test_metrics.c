/* tests/data/test_metrics.c: the metrics of data/metrics.c: the confusion
 * matrix and accuracy on cases worked out by hand; the binary detection
 * metrics (ROC points, AUC with ties, confusion matrix and rates at a
 * threshold, the threshold for a target false-positive rate) by hand and
 * against scikit-learn's roc_curve and roc_auc_score on a committed fixture
 * (tools/golden/gen_roc.py); and their errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* truth   0 0 1 1 2 2 2
 * pred    0 1 1 1 2 0 2
 * rows are the truth, columns the prediction:
 *   [1 1 0]
 *   [0 2 0]
 *   [1 0 2]   accuracy 5/7 */
START_TEST(test_confusion_matrix_hand_case)
{
    clg_context *ctx = test_context();
    const int32_t truth[] = {0, 0, 1, 1, 2, 2, 2};
    const int32_t pred[] = {0, 1, 1, 1, 2, 0, 2};
    int64_t m[9];
    memset(m, 0x5a, sizeof m); /* stale contents must be overwritten */
    double acc = -1.0;
    ck_assert_int_eq(clg_confusion_matrix(ctx, pred, truth, 7, 3, m, &acc), CLG_STATUS_OK);
    ck_assert_double_eq_tol(acc, 5.0 / 7.0, 1e-15);
    const int64_t want[9] = {1, 1, 0, 0, 2, 0, 1, 0, 2};
    ck_assert_mem_eq(m, want, sizeof want);
    /* The accuracy alone, without a matrix. */
    acc = -1.0;
    ck_assert_int_eq(clg_confusion_matrix(ctx, pred, truth, 7, 3, NULL, &acc), CLG_STATUS_OK);
    ck_assert_double_eq_tol(acc, 5.0 / 7.0, 1e-15);
    clg_context_destroy(ctx);
}
END_TEST

/* A label outside [0, classes), on either side and at either end of the
 * range, is refused naming the sample, and the matrix is left untouched: a
 * matrix of `classes` rows has no room for it (the heap overflow that a test
 * split with more classes than the model once caused). */
START_TEST(test_confusion_matrix_out_of_range)
{
    const int32_t good[] = {0, 1, 2, 1};
    const struct {
        int32_t truth, pred;
        const char *says;
    } cases[] = {{3, 0, "sample 2 has truth 3 and prediction 0"},
                 {-1, 0, "sample 2 has truth -1"},
                 {0, 3, "prediction 3"},
                 {0, -7, "prediction -7"},
                 {200, 200, "truth 200 and prediction 200"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        clg_context *ctx = test_context();
        int32_t truth[4], pred[4];
        memcpy(truth, good, sizeof truth);
        memcpy(pred, good, sizeof pred);
        truth[2] = cases[c].truth;
        pred[2] = cases[c].pred;
        int64_t m[9];
        memset(m, 0x5a, sizeof m);
        double acc = -1.0;
        ck_assert_int_eq(clg_confusion_matrix(ctx, pred, truth, 4, 3, m, &acc),
                         CLG_STATUS_INVALID_ARGUMENT);
        ck_assert_msg(strstr(clg_context_error(ctx), cases[c].says) != NULL, "%s",
                      clg_context_error(ctx));
        ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "[0, 3)"));
        ck_assert_double_eq(acc, -1.0);
        for (int i = 0; i < 9; i++)
            ck_assert_int_eq(m[i], 0x5a5a5a5a5a5a5a5aLL);
        clg_context_destroy(ctx);
    }
    /* No classes at all is refused too. */
    clg_context *ctx = test_context();
    ck_assert_int_eq(clg_confusion_matrix(ctx, good, good, 4, 0, NULL, NULL),
                     CLG_STATUS_INVALID_ARGUMENT);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_confusion_matrix_empty_and_perfect)
{
    clg_context *ctx = test_context();
    int64_t m[4] = {7, 7, 7, 7};
    double acc = -1.0;
    ck_assert_int_eq(clg_confusion_matrix(ctx, NULL, NULL, 0, 2, m, &acc), CLG_STATUS_OK);
    ck_assert_double_eq(acc, 0.0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(m[i], 0);

    const int32_t labels[] = {1, 0, 1, 1};
    ck_assert_int_eq(clg_confusion_matrix(ctx, labels, labels, 4, 2, m, &acc), CLG_STATUS_OK);
    ck_assert_double_eq(acc, 1.0);
    ck_assert_mem_eq(m, ((const int64_t[]){1, 0, 0, 3}), sizeof m);

    const int32_t flipped[] = {0, 1, 0, 0};
    ck_assert_int_eq(clg_confusion_matrix(ctx, flipped, labels, 4, 2, m, &acc), CLG_STATUS_OK);
    ck_assert_double_eq(acc, 0.0);
    ck_assert_mem_eq(m, ((const int64_t[]){0, 1, 3, 0}), sizeof m);
    clg_context_destroy(ctx);
}
END_TEST

/* The binary hand case, with ties inside a class (0.6, 0.6) and across
 * classes (a positive and a negative at 0.8):
 *   score 0.9 0.8 0.8 0.7 0.6 0.6 0.3
 *   truth  1   1   0   1   0   0   0        3 positives, 4 negatives
 * ROC from the highest score: (0,0) at +inf, (0,1/3) at 0.9, (1/4,2/3) at
 * 0.8, (1/4,1) at 0.7, (3/4,1) at 0.6, (1,1) at 0.3. AUC by pairs: 0.9 beats
 * all 4 negatives, 0.8 beats 3 and ties 1 (half), 0.7 beats 3: 10.5 / 12. */
static const float hand_scores[] = {0.9f, 0.8f, 0.8f, 0.7f, 0.6f, 0.6f, 0.3f};
static const int32_t hand_truth[] = {1, 1, 0, 1, 0, 0, 0};

START_TEST(test_roc_curve_hand_case)
{
    clg_context *ctx = test_context();
    double fpr[8], tpr[8];
    float thresholds[8];
    int64_t points = 0;
    ck_assert_int_eq(clg_roc_curve(ctx, hand_scores, hand_truth, 7, fpr, tpr, thresholds, &points),
                     CLG_STATUS_OK);
    ck_assert_int_eq(points, 6);
    const double want_fpr[] = {0, 0, 0.25, 0.25, 0.75, 1};
    const double want_tpr[] = {0, 1.0 / 3, 2.0 / 3, 1, 1, 1};
    const float want_thr[] = {INFINITY, 0.9f, 0.8f, 0.7f, 0.6f, 0.3f};
    for (int i = 0; i < 6; i++) {
        ck_assert_double_eq_tol(fpr[i], want_fpr[i], 1e-15);
        ck_assert_double_eq_tol(tpr[i], want_tpr[i], 1e-15);
        ck_assert_float_eq(thresholds[i], want_thr[i]);
    }
    double auc = 0;
    ck_assert_int_eq(clg_roc_auc(ctx, hand_scores, hand_truth, 7, &auc), CLG_STATUS_OK);
    ck_assert_double_eq_tol(auc, 10.5 / 12.0, 1e-15);
    clg_context_destroy(ctx);
}
END_TEST

/* Perfect ranking 1, reversed 0, every score tied 0.5 (one diagonal step). */
START_TEST(test_roc_auc_extremes_and_full_tie)
{
    clg_context *ctx = test_context();
    const int32_t truth[] = {0, 1, 0, 1, 1};
    const float good[] = {0.1f, 0.9f, 0.2f, 0.8f, 0.7f};
    const float bad[] = {0.9f, 0.1f, 0.8f, 0.2f, 0.3f};
    const float tied[] = {2, 2, 2, 2, 2};
    double auc = -1;
    ck_assert_int_eq(clg_roc_auc(ctx, good, truth, 5, &auc), CLG_STATUS_OK);
    ck_assert_double_eq(auc, 1.0);
    ck_assert_int_eq(clg_roc_auc(ctx, bad, truth, 5, &auc), CLG_STATUS_OK);
    ck_assert_double_eq(auc, 0.0);
    ck_assert_int_eq(clg_roc_auc(ctx, tied, truth, 5, &auc), CLG_STATUS_OK);
    ck_assert_double_eq(auc, 0.5);
    int64_t points = 0;
    double fpr[6], tpr[6];
    ck_assert_int_eq(clg_roc_curve(ctx, tied, truth, 5, fpr, tpr, NULL, &points), CLG_STATUS_OK);
    ck_assert_int_eq(points, 2);
    ck_assert(fpr[1] == 1.0 && tpr[1] == 1.0);
    clg_context_destroy(ctx);
}
END_TEST

/* The hand case at two thresholds: above 0.65 are 0.9 (1), 0.8 (1), 0.8 (0),
 * 0.7 (1); above 0.8 (strictly) only 0.9. */
START_TEST(test_binary_counts_hand_case)
{
    clg_context *ctx = test_context();
    clg_binary_counts c;
    ck_assert_int_eq(clg_binary_counts_at(ctx, hand_scores, hand_truth, 7, 0.65f, &c),
                     CLG_STATUS_OK);
    ck_assert_int_eq(c.tp, 3);
    ck_assert_int_eq(c.fp, 1);
    ck_assert_int_eq(c.fn, 0);
    ck_assert_int_eq(c.tn, 3);
    ck_assert_double_eq(c.tpr, 1.0);
    ck_assert_double_eq(c.fpr, 0.25);
    ck_assert_int_eq(clg_binary_counts_at(ctx, hand_scores, hand_truth, 7, 0.8f, &c),
                     CLG_STATUS_OK);
    ck_assert(c.tp == 1 && c.fp == 0 && c.fn == 2 && c.tn == 4);
    ck_assert_double_eq_tol(c.tpr, 1.0 / 3.0, 1e-15);
    ck_assert_double_eq(c.fpr, 0.0);
    clg_context_destroy(ctx);
}
END_TEST

/* Negatives sorted: 0.8, 0.6, 0.6, 0.3. A target of 0.25 allows one above
 * the threshold: 0.6. A target of 0.5 allows two, but the tie at 0.6 makes
 * any threshold below 0.6 flag three, so 0.6 again (rate 0.25). 0 gives the
 * highest negative, 0.8; 0.99 allows three: 0.3. */
START_TEST(test_threshold_for_fpr_hand_case)
{
    clg_context *ctx = test_context();
    const double targets[] = {0.0, 0.25, 0.5, 0.99};
    const float want[] = {0.8f, 0.6f, 0.6f, 0.3f};
    for (int i = 0; i < 4; i++) {
        float t = NAN;
        ck_assert_int_eq(clg_threshold_for_fpr(ctx, hand_scores, hand_truth, 7, targets[i], &t),
                         CLG_STATUS_OK);
        ck_assert_msg(t == want[i], "target %g: threshold %g, want %g", targets[i], (double)t,
                      (double)want[i]);
        clg_binary_counts c;
        clg_binary_counts_at(ctx, hand_scores, hand_truth, 7, t, &c);
        ck_assert(c.fpr <= targets[i]);
    }
    float t = 0;
    ck_assert_int_eq(clg_threshold_for_fpr(ctx, hand_scores, hand_truth, 7, 1.0, &t),
                     CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "in [0, 1)"));
    clg_context_destroy(ctx);
}
END_TEST

/* One class only, a NaN score, a truth outside {0, 1}, no samples: each
 * refused with a message naming the function and the reason. */
START_TEST(test_binary_metrics_bad_input)
{
    clg_context *ctx = test_context();
    const float scores[] = {0.1f, 0.2f, NAN};
    const int32_t zeros[] = {0, 0, 0};
    const int32_t ones[] = {1, 1, 1};
    const int32_t two[] = {0, 2, 1};
    const int32_t mixed[] = {0, 1, 1};
    double auc = 0;
    ck_assert_int_eq(clg_roc_auc(ctx, scores, zeros, 2, &auc), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx), "clg_roc_auc: all 2 samples are negative (0); the "
                                             "true and false positive rates need both classes");
    clg_context_clear_error(ctx);
    clg_binary_counts c;
    ck_assert_int_eq(clg_binary_counts_at(ctx, scores, ones, 2, 0.5f, &c),
                     CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "clg_binary_counts_at: all 2 samples "
                                                         "are positive (1)"));
    clg_context_clear_error(ctx);
    int64_t points;
    ck_assert_int_eq(clg_roc_curve(ctx, scores, mixed, 3, NULL, NULL, NULL, &points),
                     CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx), "clg_roc_curve: score 2 is NaN");
    clg_context_clear_error(ctx);
    ck_assert_int_eq(clg_roc_curve(ctx, scores, two, 2, NULL, NULL, NULL, &points),
                     CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "truth 1 is 2"));
    clg_context_clear_error(ctx);
    ck_assert_int_eq(clg_roc_auc(ctx, scores, zeros, 0, &auc), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "clg_roc_auc: 0 scores"));
    clg_context_destroy(ctx);
}
END_TEST

/* scikit-learn on the fixture: the AUC to double rounding (the fixture's
 * metadata holds it in full), every ROC point, and every threshold but the
 * first (sklearn 1.2 writes max + 1 there, clgrad +inf). */
START_TEST(test_roc_against_sklearn)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "metrics_roc");
    const char *cases[] = {"ties", "rare"};
    for (int k = 0; k < 2; k++) {
        char name[64];
        const int64_t *shape;
        const void *scores_data, *truth_data, *fpr_data, *tpr_data, *thr_data;
        clg_dtype dtype;
        int rank;
        snprintf(name, sizeof name, "%s.scores", cases[k]);
        ck_assert(clg_safetensors_get(st, name, &dtype, &rank, &shape, &scores_data));
        int64_t n = shape[0];
        snprintf(name, sizeof name, "%s.truth", cases[k]);
        ck_assert(clg_safetensors_get(st, name, &dtype, &rank, &shape, &truth_data));
        snprintf(name, sizeof name, "%s.fpr", cases[k]);
        ck_assert(clg_safetensors_get(st, name, &dtype, &rank, &shape, &fpr_data));
        int64_t want_points = shape[0];
        snprintf(name, sizeof name, "%s.tpr", cases[k]);
        ck_assert(clg_safetensors_get(st, name, &dtype, &rank, &shape, &tpr_data));
        snprintf(name, sizeof name, "%s.thresholds", cases[k]);
        ck_assert(clg_safetensors_get(st, name, &dtype, &rank, &shape, &thr_data));
        snprintf(name, sizeof name, "%s.auc", cases[k]);
        const char *auc_text = clg_safetensors_metadata(st, name);
        ck_assert_ptr_nonnull(auc_text);

        const float *scores = scores_data;
        const int32_t *truth = truth_data;
        double auc = 0;
        ck_assert_int_eq(clg_roc_auc(ctx, scores, truth, n, &auc), CLG_STATUS_OK);
        ck_assert_msg(fabs(auc - strtod(auc_text, NULL)) < 1e-12, "%s: AUC %.15f, sklearn %s",
                      cases[k], auc, auc_text);

        double *fpr = malloc((size_t)(n + 1) * sizeof *fpr);
        double *tpr = malloc((size_t)(n + 1) * sizeof *tpr);
        float *thr = malloc((size_t)(n + 1) * sizeof *thr);
        int64_t points = 0;
        ck_assert_int_eq(clg_roc_curve(ctx, scores, truth, n, fpr, tpr, thr, &points),
                         CLG_STATUS_OK);
        ck_assert_int_eq(points, want_points);
        const float *want_fpr = fpr_data, *want_tpr = tpr_data, *want_thr = thr_data;
        for (int64_t i = 0; i < points; i++) {
            /* the fixture holds the rates as float32 */
            ck_assert_msg(fabs(fpr[i] - want_fpr[i]) < 1e-7 && fabs(tpr[i] - want_tpr[i]) < 1e-7,
                          "%s point %lld: (%g, %g), sklearn (%g, %g)", cases[k], (long long)i,
                          fpr[i], tpr[i], (double)want_fpr[i], (double)want_tpr[i]);
            if (i > 0)
                ck_assert_float_eq(thr[i], want_thr[i]);
        }
        ck_assert(isinf(thr[0]) && thr[0] > 0);
        free(fpr);
        free(tpr);
        free(thr);
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_confusion_matrix_hand_case,
                            test_confusion_matrix_out_of_range,
                            test_confusion_matrix_empty_and_perfect,
                            test_roc_curve_hand_case,
                            test_roc_auc_extremes_and_full_tie,
                            test_binary_counts_hand_case,
                            test_threshold_for_fpr_hand_case,
                            test_binary_metrics_bad_input,
                            test_roc_against_sklearn,
                            NULL};
    return test_main("data/metrics", "metrics", 0, tests);
}
