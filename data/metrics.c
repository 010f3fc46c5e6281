/* data/metrics.c: classification metrics on the host over labels and scores
 * already downloaded from the device: the confusion matrix and accuracy, and
 * for binary detection (fraud) the ROC curve, its AUC as scikit-learn
 * computes them, and the confusion matrix and rates at a threshold. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgrad/data.h"
#include "engine/engine.h"

/* Every label is checked before the matrix is written, so a refused call
 * leaves it as it was. */
CLG_API clg_status clg_confusion_matrix(clg_context *ctx, const int32_t *predicted,
                                        const int32_t *truth, int64_t n, int classes,
                                        int64_t *matrix, double *accuracy)
{
    static const char fn[] = "clg_confusion_matrix";
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (classes <= 0 || n < 0 || (n > 0 && (!predicted || !truth)))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: %d classes and %" PRId64 " samples%s; expected at least one class",
                        fn, classes, n, n > 0 && (!predicted || !truth) ? " with a NULL array" : "");
    for (int64_t i = 0; i < n; i++)
        if (truth[i] < 0 || truth[i] >= classes || predicted[i] < 0 || predicted[i] >= classes)
            return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                            "%s: sample %" PRId64 " has truth %d and prediction %d; labels must "
                            "be in [0, %d)",
                            fn, i, (int)truth[i], (int)predicted[i], classes);
    if (matrix)
        memset(matrix, 0, (size_t)classes * (size_t)classes * sizeof *matrix);
    int64_t correct = 0;
    for (int64_t i = 0; i < n; i++) {
        if (matrix)
            matrix[(size_t)truth[i] * (size_t)classes + (size_t)predicted[i]]++;
        correct += truth[i] == predicted[i];
    }
    if (accuracy)
        *accuracy = n ? (double)correct / (double)n : 0.0;
    return CLG_STATUS_OK;
}

/* ---- binary detection: ROC, AUC, rates at a threshold ---- */

/* Checks the arguments every binary metric shares; counts the positives and
 * negatives. */
static clg_status binary_check(clg_context *ctx, const char *fn, const float *scores,
                               const int32_t *truth, int64_t n, int64_t *positives,
                               int64_t *negatives)
{
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (n < 1 || !scores || !truth)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: %" PRId64 " scores%s; expected at least one with its truth", fn, n,
                        n >= 1 ? " and a NULL array" : "");
    int64_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(scores[i]))
            return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: score %" PRId64 " is NaN", fn,
                            i);
        if (truth[i] != 0 && truth[i] != 1)
            return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                            "%s: truth %" PRId64 " is %d; expected 0 (negative) or 1 (positive)",
                            fn, i, (int)truth[i]);
        pos += truth[i];
    }
    if (pos == 0 || pos == n)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: all %" PRId64 " samples are %s; the true and false positive rates "
                        "need both classes",
                        fn, n, pos ? "positive (1)" : "negative (0)");
    *positives = pos;
    *negatives = n - pos;
    return CLG_STATUS_OK;
}

typedef struct scored {
    float score;
    int32_t truth;
} scored;

static int by_score_descending(const void *a, const void *b)
{
    float x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x < y) - (x > y);
}

/* Walks the distinct scores from the highest; calls back with the counts of
 * positives and negatives scored at or above each. Sorting is O(n log n) on
 * the host: a few tens of milliseconds for the 142,000 test rows. */
typedef void (*roc_visit)(void *user, float threshold, int64_t fp, int64_t tp);

static clg_status roc_walk(clg_context *ctx, const char *fn, const float *scores,
                           const int32_t *truth, int64_t n, void *user, roc_visit visit)
{
    scored *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY,
                        "%s: out of host memory for %" PRId64 " scores", fn, n);
    for (int64_t i = 0; i < n; i++)
        s[i] = (scored){scores[i], truth[i]};
    qsort(s, (size_t)n, sizeof *s, by_score_descending);
    int64_t fp = 0, tp = 0;
    visit(user, INFINITY, 0, 0);
    for (int64_t i = 0; i < n; i++) {
        tp += s[i].truth;
        fp += 1 - s[i].truth;
        if (i + 1 == n || s[i + 1].score != s[i].score)
            visit(user, s[i].score, fp, tp);
    }
    free(s);
    return CLG_STATUS_OK;
}

typedef struct roc_points {
    double *fpr, *tpr;
    float *thresholds;
    int64_t count;
    int64_t positives, negatives;
    /* AUC in units of positive-negative pairs: trapezoids over the
     * integer counts, exact in double up to 2^53 pairs. */
    double area2; /* twice the area */
    int64_t last_fp, last_tp;
} roc_points;

static void roc_record(void *user, float threshold, int64_t fp, int64_t tp)
{
    roc_points *r = user;
    if (r->fpr)
        r->fpr[r->count] = (double)fp / (double)r->negatives;
    if (r->tpr)
        r->tpr[r->count] = (double)tp / (double)r->positives;
    if (r->thresholds)
        r->thresholds[r->count] = threshold;
    r->area2 += (double)(fp - r->last_fp) * (double)(tp + r->last_tp);
    r->last_fp = fp;
    r->last_tp = tp;
    r->count++;
}

/* roc_record needs the class counts from the start: the check gives them. */
static clg_status roc_run(clg_context *ctx, const char *fn, const float *scores,
                          const int32_t *truth, int64_t n, roc_points *r)
{
    clg_status status = binary_check(ctx, fn, scores, truth, n, &r->positives, &r->negatives);
    if (status != CLG_STATUS_OK)
        return status;
    return roc_walk(ctx, fn, scores, truth, n, r, roc_record);
}

CLG_API clg_status clg_roc_curve(clg_context *ctx, const float *scores, const int32_t *truth,
                                 int64_t n, double *fpr, double *tpr, float *thresholds,
                                 int64_t *points)
{
    roc_points r = {.fpr = fpr, .tpr = tpr, .thresholds = thresholds};
    clg_status status = roc_run(ctx, "clg_roc_curve", scores, truth, n, &r);
    if (status == CLG_STATUS_OK && points)
        *points = r.count;
    return status;
}

CLG_API clg_status clg_roc_auc(clg_context *ctx, const float *scores, const int32_t *truth,
                               int64_t n, double *auc)
{
    roc_points r = {0};
    clg_status status = roc_run(ctx, "clg_roc_auc", scores, truth, n, &r);
    if (status == CLG_STATUS_OK && auc)
        *auc = r.area2 / 2.0 / ((double)r.positives * (double)r.negatives);
    return status;
}

CLG_API clg_status clg_binary_counts_at(clg_context *ctx, const float *scores, const int32_t *truth,
                                        int64_t n, float threshold, clg_binary_counts *out)
{
    int64_t positives = 0, negatives = 0;
    clg_status status =
        binary_check(ctx, "clg_binary_counts_at", scores, truth, n, &positives, &negatives);
    if (status != CLG_STATUS_OK)
        return status;
    clg_binary_counts c = {0};
    for (int64_t i = 0; i < n; i++) {
        bool flagged = scores[i] > threshold;
        if (truth[i])
            flagged ? c.tp++ : c.fn++;
        else
            flagged ? c.fp++ : c.tn++;
    }
    c.tpr = (double)c.tp / (double)positives;
    c.fpr = (double)c.fp / (double)negatives;
    if (out)
        *out = c;
    return CLG_STATUS_OK;
}

static int float_descending(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

CLG_API clg_status clg_threshold_for_fpr(clg_context *ctx, const float *scores,
                                         const int32_t *truth, int64_t n, double target_fpr,
                                         float *threshold)
{
    static const char fn[] = "clg_threshold_for_fpr";
    int64_t positives = 0, negatives = 0;
    clg_status status = binary_check(ctx, fn, scores, truth, n, &positives, &negatives);
    if (status != CLG_STATUS_OK)
        return status;
    if (!(target_fpr >= 0.0 && target_fpr < 1.0) || !threshold)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: target false-positive rate %g%s; expected a value in [0, 1)", fn,
                        target_fpr, threshold ? "" : " and a NULL threshold");
    float *neg = malloc((size_t)negatives * sizeof *neg);
    if (!neg)
        return eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (!truth[i])
            neg[k++] = scores[i];
    qsort(neg, (size_t)negatives, sizeof *neg, float_descending);
    /* At most `allowed` negatives may lie above the threshold: the
     * (allowed+1)-th highest negative score is the lowest threshold that
     * keeps them there; any lower one flags it too. The factor guards
     * against target * negatives landing a rounding error below an
     * integer. */
    int64_t allowed = (int64_t)floor(target_fpr * (double)negatives * (1.0 + 1e-12));
    *threshold = neg[allowed < negatives ? allowed : negatives - 1];
    free(neg);
    return CLG_STATUS_OK;
}
