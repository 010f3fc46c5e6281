/* tests/data/test_metrics.c: the confusion matrix and accuracy
 * (data/metrics.c) on cases worked out by hand. */
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
    const int32_t truth[] = {0, 0, 1, 1, 2, 2, 2};
    const int32_t pred[] = {0, 1, 1, 1, 2, 0, 2};
    int64_t m[9];
    memset(m, 0x5a, sizeof m); /* stale contents must be overwritten */
    double acc = clg_confusion_matrix(pred, truth, 7, 3, m);
    ck_assert_double_eq_tol(acc, 5.0 / 7.0, 1e-15);
    const int64_t want[9] = {1, 1, 0, 0, 2, 0, 1, 0, 2};
    ck_assert_mem_eq(m, want, sizeof want);
    /* The accuracy alone, without a matrix. */
    ck_assert_double_eq_tol(clg_confusion_matrix(pred, truth, 7, 3, NULL), 5.0 / 7.0, 1e-15);
}
END_TEST

/* Pairs with a label outside [0, classes) on either side are left out of the
 * matrix and of the accuracy: the hand case plus five such pairs gives the
 * same answer. */
START_TEST(test_confusion_matrix_out_of_range)
{
    const int32_t truth[] = {0, 0, 1, 3, 1, 2, -1, 2, 2, 1, 0};
    const int32_t pred[] = {0, 1, 1, 0, 1, 2, 1, 0, 2, -1, 3};
    int64_t m[9];
    double acc = clg_confusion_matrix(pred, truth, 11, 3, m);
    ck_assert_double_eq_tol(acc, 5.0 / 7.0, 1e-15);
    const int64_t want[9] = {1, 1, 0, 0, 2, 0, 1, 0, 2};
    ck_assert_mem_eq(m, want, sizeof want);

    /* Nothing in range: an empty matrix and accuracy 0. */
    const int32_t bad[] = {5, -2};
    ck_assert_double_eq(clg_confusion_matrix(bad, bad, 2, 3, m), 0.0);
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(m[i], 0);
}
END_TEST

START_TEST(test_confusion_matrix_empty_and_perfect)
{
    int64_t m[4] = {7, 7, 7, 7};
    ck_assert_double_eq(clg_confusion_matrix(NULL, NULL, 0, 2, m), 0.0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(m[i], 0);

    const int32_t labels[] = {1, 0, 1, 1};
    ck_assert_double_eq(clg_confusion_matrix(labels, labels, 4, 2, m), 1.0);
    ck_assert_mem_eq(m, ((const int64_t[]){1, 0, 0, 3}), sizeof m);

    const int32_t flipped[] = {0, 1, 0, 0};
    ck_assert_double_eq(clg_confusion_matrix(flipped, labels, 4, 2, m), 0.0);
    ck_assert_mem_eq(m, ((const int64_t[]){0, 1, 3, 0}), sizeof m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data/metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_confusion_matrix_hand_case);
    tcase_add_test(tc, test_confusion_matrix_out_of_range);
    tcase_add_test(tc, test_confusion_matrix_empty_and_perfect);
    suite_add_tcase(s, tc);
    return test_run(s);
}
