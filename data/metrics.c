/* data/metrics.c: classification metrics on the host (confusion matrix and
 * accuracy) over labels already downloaded from the device. */
#include <string.h>

#include "clgrad/data.h"

/* A pair with either label outside [0, classes) is left out of the matrix and
 * of the accuracy alike, so the accuracy is always trace / sum of the matrix
 * (as with PyTorch's ignore_index, ignored samples do not dilute it). */
CLG_API double clg_confusion_matrix(const int32_t *predicted, const int32_t *truth, int64_t n,
                                    int classes, int64_t *matrix)
{
    if (classes <= 0)
        return 0.0;
    if (matrix)
        memset(matrix, 0, (size_t)classes * (size_t)classes * sizeof *matrix);
    int64_t counted = 0, correct = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t t = truth[i], p = predicted[i];
        if (t < 0 || t >= classes || p < 0 || p >= classes)
            continue;
        if (matrix)
            matrix[(size_t)t * (size_t)classes + (size_t)p]++;
        counted++;
        correct += t == p;
    }
    return counted ? (double)correct / (double)counted : 0.0;
}
