/* tests/data/test_fraud.c: the fraud data beyond reading it (data/fraud.c):
 * the synthetic generator read back (layout, imbalance, determinism) and the
 * lecture's split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

/* One fresh folder per test, emptied and removed by the fixture. */
static char *dir;

static void setup(void)
{
    dir = test_temp_dir("test-fraud");
}

static void teardown(void)
{
    test_remove_temp_dir(dir);
}

static const char header[] = "Time,V1,V2,V3,V4,V5,V6,V7,V8,V9,V10,V11,V12,V13,V14,V15,V16,V17,"
                             "V18,V19,V20,V21,V22,V23,V24,V25,V26,V27,V28,Amount,Class\n";

START_TEST(test_fraud_synthetic_round_trip)
{
    clg_context *ctx = test_context();
    char a[256], b[256], c[256];
    snprintf(a, sizeof a, "%s/a.csv", dir);
    snprintf(b, sizeof b, "%s/b.csv", dir);
    snprintf(c, sizeof c, "%s/c.csv", dir);
    int64_t frauds = 0;
    ck_assert_int_eq(clg_fraud_write_synthetic(ctx, a, 3000, 5, &frauds), CLG_STATUS_OK);
    /* round(3000 * 492 / 284807) = 5, the public file's 0.17% */
    ck_assert_int_eq(frauds, 5);
    ck_assert_int_eq(clg_fraud_write_synthetic(ctx, b, 3000, 5, NULL), CLG_STATUS_OK);
    ck_assert_int_eq(clg_fraud_write_synthetic(ctx, c, 3000, 6, NULL), CLG_STATUS_OK);

    clg_fraud_data *d = clg_fraud_read_csv(ctx, a);
    ck_assert_msg(d != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_fraud_data_rows(d), 3000);
    ck_assert_int_eq(clg_fraud_data_frauds(d), 5);
    const float *x = clg_fraud_data_features(d);
    const int32_t *y = clg_fraud_data_labels(d);
    int64_t counted = 0;
    for (int64_t i = 0; i < 3000; i++) {
        counted += y[i];
        if (i > 0) /* Time never decreases, as in the public file */
            ck_assert(x[i * CLG_FRAUD_FEATURES] >= x[(i - 1) * CLG_FRAUD_FEATURES]);
        ck_assert(x[i * CLG_FRAUD_FEATURES + 29] > 0.0f); /* amounts are positive */
    }
    ck_assert_int_eq(counted, 5);
    ck_assert(x[2999 * CLG_FRAUD_FEATURES] < 172792.0f + 1);

    /* Same seed, same bytes; another seed, another file. */
    char command[1024];
    snprintf(command, sizeof command, "cmp -s %s %s", a, b);
    ck_assert_int_eq(system(command), 0);
    snprintf(command, sizeof command, "cmp -s %s %s", a, c);
    ck_assert_int_ne(system(command), 0);
    /* The header is the layout's, exactly. */
    FILE *f = fopen(a, "rb");
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_str_eq(line, header);

    ck_assert_int_eq(clg_fraud_write_synthetic(ctx, a, 3, 1, NULL), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "at least 4"));
    clg_fraud_data_destroy(d);
    clg_context_destroy(ctx);
}
END_TEST

/* Training rows are normal, half of the normal rows (the larger half); the
 * test rows are the rest and every fraud; together each row once. */
START_TEST(test_fraud_split)
{
    clg_context *ctx = test_context();
    char path[256];
    snprintf(path, sizeof path, "%s/s.csv", dir);
    ck_assert_int_eq(clg_fraud_write_synthetic(ctx, path, 2001, 9, NULL), CLG_STATUS_OK);
    clg_fraud_data *d = clg_fraud_read_csv(ctx, path);
    ck_assert_ptr_nonnull(d);
    int64_t rows = clg_fraud_data_rows(d), frauds = clg_fraud_data_frauds(d);
    int64_t *train = malloc((size_t)rows * sizeof *train),
            *test = malloc((size_t)rows * sizeof *test);
    int64_t n_train = 0, n_test = 0;
    ck_assert_int_eq(clg_fraud_split(ctx, d, 3, train, &n_train, test, &n_test), CLG_STATUS_OK);
    int64_t normal = rows - frauds;
    ck_assert_int_eq(n_train, normal - normal / 2);
    ck_assert_int_eq(n_train + n_test, rows);
    char *seen = calloc((size_t)rows, 1);
    const int32_t *y = clg_fraud_data_labels(d);
    int64_t test_frauds = 0;
    for (int64_t i = 0; i < n_train; i++) {
        ck_assert_int_eq(y[train[i]], 0);
        seen[train[i]]++;
    }
    for (int64_t i = 0; i < n_test; i++) {
        test_frauds += y[test[i]];
        seen[test[i]]++;
    }
    ck_assert_int_eq(test_frauds, frauds);
    for (int64_t i = 0; i < rows; i++)
        ck_assert_int_eq(seen[i], 1);
    free(seen);
    free(train);
    free(test);
    clg_fraud_data_destroy(d);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_fraud_synthetic_round_trip, test_fraud_split, NULL};
    Suite *s = suite_create("data/fraud");
    TCase *tc = test_case("fraud", 0, tests);
    tcase_add_checked_fixture(tc, setup, teardown);
    suite_add_tcase(s, tc);
    return test_run(s);
}
