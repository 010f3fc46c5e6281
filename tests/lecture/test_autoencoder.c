/* tests/lecture/test_autoencoder.c: the trainer of the fraud-detection
 * autoencoder (lecture/autoencoder.c): the refusal to train on fraud rows,
 * the AUC it reaches on a small synthetic fraud file (plain,
 * Gaussian-denoising and masking), the performance contract of its
 * training epochs, and the corruption reaching the input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lecture/lecture.h"
#include "support.h"

static const int64_t lecture_hidden[] = {100, 100};

/* Training on normal rows only is enforced: a fraud label (or any label
 * but 0) is refused, naming the row; a NULL label array too. */
START_TEST(test_autoencoder_trains_on_normal_rows_only)
{
    clg_context *ctx = test_context();
    clg_model *m = clg_zoo_autoencoder_create(ctx, 30, lecture_hidden, 2, 15, 1);
    float x[4 * 30] = {0};
    const int32_t labels[] = {0, 0, 1, 0};
    ck_assert_ptr_null(lecture_autoencoder_trainer_create(m, x, labels, 4, NULL));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx),
                     "lecture_autoencoder_trainer_create: row 2 is labelled 1; the autoencoder "
                     "learns normal transactions only (label 0): pass the training split's "
                     "normal rows");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(lecture_autoencoder_trainer_create(m, x, NULL, 4, NULL));
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "labels NULL"));
    clg_context_clear_error(ctx);
    const int32_t normal[] = {0, 0, 0, 0};
    lecture_autoencoder_trainer *t = lecture_autoencoder_trainer_create(m, x, normal, 4, NULL);
    ck_assert_msg(t != NULL, "%s", clg_context_error(ctx));
    lecture_autoencoder_trainer_destroy(t);
    /* Not an autoencoder: refused too. */
    clg_model *mlp = clg_zoo_mlp_create(ctx, 30, lecture_hidden, 2, 30, 1);
    ck_assert_ptr_null(lecture_autoencoder_trainer_create(mlp, x, normal, 4, NULL));
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "the model is a mlp"));
    clg_model_destroy(mlp);
    clg_model_destroy(m);
    clg_context_destroy(ctx);
}
END_TEST

/* The case study end to end on a small synthetic file, as `clgrad fraud`
 * does it: split, MinMax on the training half, train on normal rows, score
 * the test split. */
typedef struct fraud_case {
    int64_t n_train, n_test;
    float *x_train, *x_test;
    int32_t *y_train, *y_test;
} fraud_case;

static void fraud_case_load(clg_context *ctx, int64_t rows, uint64_t seed, fraud_case *fc)
{
    char path[] = "/tmp/clgrad-test-ae-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(clg_fraud_write_synthetic(ctx, path, rows, seed, NULL), CLG_STATUS_OK);
    clg_fraud_data *d = clg_fraud_read_csv(ctx, path);
    ck_assert_msg(d != NULL, "%s", clg_context_error(ctx));
    unlink(path);
    int64_t *train = malloc((size_t)rows * sizeof *train);
    int64_t *test = malloc((size_t)rows * sizeof *test);
    ck_assert_int_eq(clg_fraud_split(ctx, d, seed, train, &fc->n_train, test, &fc->n_test),
                     CLG_STATUS_OK);
    float lo[CLG_FRAUD_FEATURES], hi[CLG_FRAUD_FEATURES];
    const float *x = clg_fraud_data_features(d);
    const int32_t *y = clg_fraud_data_labels(d);
    ck_assert_int_eq(clg_minmax_fit(ctx, x, CLG_FRAUD_FEATURES, train, fc->n_train, lo, hi),
                     CLG_STATUS_OK);
    size_t row_bytes = CLG_FRAUD_FEATURES * sizeof(float);
    fc->x_train = malloc((size_t)fc->n_train * row_bytes);
    fc->x_test = malloc((size_t)fc->n_test * row_bytes);
    fc->y_train = malloc((size_t)fc->n_train * sizeof(int32_t));
    fc->y_test = malloc((size_t)fc->n_test * sizeof(int32_t));
    for (int64_t i = 0; i < fc->n_train; i++) {
        memcpy(fc->x_train + i * CLG_FRAUD_FEATURES, x + train[i] * CLG_FRAUD_FEATURES, row_bytes);
        fc->y_train[i] = y[train[i]];
    }
    for (int64_t i = 0; i < fc->n_test; i++) {
        memcpy(fc->x_test + i * CLG_FRAUD_FEATURES, x + test[i] * CLG_FRAUD_FEATURES, row_bytes);
        fc->y_test[i] = y[test[i]];
    }
    clg_minmax_transform(lo, hi, CLG_FRAUD_FEATURES, fc->x_train, fc->n_train, fc->x_train);
    clg_minmax_transform(lo, hi, CLG_FRAUD_FEATURES, fc->x_test, fc->n_test, fc->x_test);
    free(train);
    free(test);
    clg_fraud_data_destroy(d);
}

static void fraud_case_free(fraud_case *fc)
{
    free(fc->x_train);
    free(fc->x_test);
    free(fc->y_train);
    free(fc->y_test);
}

static double test_auc(clg_context *ctx, clg_model *m, const fraud_case *fc)
{
    float *scores = malloc((size_t)fc->n_test * sizeof *scores);
    ck_assert_int_eq(clg_autoencoder_scores(m, fc->x_test, fc->n_test, 1024, scores),
                     CLG_STATUS_OK);
    double auc = 0;
    ck_assert_int_eq(clg_roc_auc(ctx, scores, fc->y_test, fc->n_test, &auc), CLG_STATUS_OK);
    free(scores);
    return auc;
}

#define AUC_ROWS 12000 /* 21 frauds, all in the test split of ~6000 rows */
#define AUC_EPOCHS 12
#define AUC_BATCH 256 /* the lecture's 2048 would give 3 steps an epoch here */

/* The floor: 0.85. The synthetic frauds stray from the normal clusters by a
 * uniform fraction of their shift, so the ones that stray least are
 * indistinguishable from normal rows by construction and no detector reaches
 * 1; at this size twelve epochs give about 0.90 for all three variants
 * (the lecture's 500 epochs on the real data give about 0.95), while the
 * untrained network scores about 0.34, worse than chance (checked below: the
 * floor is out of its reach), so the floor can only be met by learning the
 * normal rows. One fraud of 21 moves the AUC by at most 0.048, so the floor
 * sits one fraud's worth under the trained figure. */
static void check_auc(lecture_noise noise, float level, const char *what)
{
    clg_context *ctx = test_context();
    fraud_case fc;
    fraud_case_load(ctx, AUC_ROWS, 1, &fc);
    clg_model *m = clg_zoo_autoencoder_create(ctx, CLG_FRAUD_FEATURES, lecture_hidden, 2, 15, 3);
    ck_assert_ptr_nonnull(m);
    double untrained = test_auc(ctx, m, &fc);
    lecture_autoencoder_options o = lecture_autoencoder_options_default();
    o.batch = AUC_BATCH;
    o.noise = noise;
    o.noise_level = level;
    o.seed = 5;
    lecture_autoencoder_trainer *t =
        lecture_autoencoder_trainer_create(m, fc.x_train, fc.y_train, fc.n_train, &o);
    ck_assert_msg(t != NULL, "%s", clg_context_error(ctx));
    double first = 0, loss = 0;
    for (int e = 0; e < AUC_EPOCHS; e++) {
        ck_assert_msg(lecture_autoencoder_train_epoch(t, &loss) == CLG_STATUS_OK, "%s",
                      clg_context_error(ctx));
        if (e == 0)
            first = loss;
    }
    double auc = test_auc(ctx, m, &fc);
    fprintf(stderr, "%s autoencoder: loss %.4f -> %.4f, test AUC %.4f (untrained %.4f)\n", what,
            first, loss, auc, untrained);
    ck_assert_msg(loss < first, "%s: the loss did not fall (%g -> %g)", what, first, loss);
    ck_assert_msg(untrained < 0.85, "%s: untrained AUC %.4f is already above the floor", what,
                  untrained);
    ck_assert_msg(auc > 0.85, "%s: test AUC %.4f below the floor 0.85", what, auc);
    lecture_autoencoder_trainer_destroy(t);
    clg_model_destroy(m);
    fraud_case_free(&fc);
    clg_context_destroy(ctx);
}

START_TEST(test_autoencoder_fraud_auc_plain)
{
    check_auc(LECTURE_NOISE_NONE, 0.0f, "plain");
}
END_TEST

START_TEST(test_autoencoder_fraud_auc_gaussian)
{
    check_auc(LECTURE_NOISE_GAUSSIAN, 0.05f, "gaussian-denoising");
}
END_TEST

START_TEST(test_autoencoder_fraud_auc_mask)
{
    check_auc(LECTURE_NOISE_MASK, 0.1f, "masking-denoising");
}
END_TEST

/* From the second epoch on, training allocates no device memory and builds
 * no program, and reads the device once per epoch (the mean loss), also
 * with noise drawn on the device. */
START_TEST(test_autoencoder_epoch_performance_contract)
{
    clg_context *ctx = test_context();
    enum { ROWS = 1000 };
    float *x = malloc(ROWS * 30 * sizeof *x);
    int32_t *y = calloc(ROWS, sizeof *y);
    test_random(x, ROWS * 30, 3, 0.0f, 1.0f);
    clg_model *m = clg_zoo_autoencoder_create(ctx, 30, lecture_hidden, 2, 15, 1);
    for (int noise = LECTURE_NOISE_NONE; noise <= LECTURE_NOISE_MASK; noise++) {
        lecture_autoencoder_options o = lecture_autoencoder_options_default();
        o.batch = 256; /* three full batches and a short one */
        o.noise = (lecture_noise)noise;
        lecture_autoencoder_trainer *t = lecture_autoencoder_trainer_create(m, x, y, ROWS, &o);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(lecture_autoencoder_train_epoch(t, NULL), CLG_STATUS_OK);
        clg_counters before, after;
        clg_counters_get(ctx, &before);
        double loss = -1;
        ck_assert_int_eq(lecture_autoencoder_train_epoch(t, &loss), CLG_STATUS_OK);
        char what[32];
        snprintf(what, sizeof what, "noise %d: a steady epoch", noise);
        test_expect_steady(ctx, &before, &after, 1, what);
        ck_assert(loss > 0 && isfinite(loss));
        lecture_autoencoder_trainer_destroy(t);
    }
    clg_model_destroy(m);
    free(x);
    free(y);
    clg_context_destroy(ctx);
}
END_TEST

/* The corruption reaches the input: from the same weights and rows, one
 * epoch's loss equals the plain one exactly with a noise level of 0, and is
 * higher with masking (p 0.5) or Gaussian noise (sigma 1): the loss compares
 * g(f(x~)) with the clean x, and the corrupted inputs move the output away
 * from it (by about 1% here, where the untrained network's output barely
 * depends on its input; deterministic for the seeds). */
static double one_epoch_loss(clg_context *ctx, const float *x, const int32_t *y, int64_t rows,
                             lecture_noise noise, float level)
{
    clg_model *m = clg_zoo_autoencoder_create(ctx, 30, lecture_hidden, 2, 15, 8);
    lecture_autoencoder_options o = lecture_autoencoder_options_default();
    o.batch = 128;
    o.noise = noise;
    o.noise_level = level;
    lecture_autoencoder_trainer *t = lecture_autoencoder_trainer_create(m, x, y, rows, &o);
    ck_assert_msg(t != NULL, "%s", clg_context_error(ctx));
    double loss = 0;
    ck_assert_int_eq(lecture_autoencoder_train_epoch(t, &loss), CLG_STATUS_OK);
    lecture_autoencoder_trainer_destroy(t);
    clg_model_destroy(m);
    return loss;
}

START_TEST(test_autoencoder_noise_reaches_the_input)
{
    clg_context *ctx = test_context();
    enum { ROWS = 256 };
    float *x = malloc(ROWS * 30 * sizeof *x);
    int32_t *y = calloc(ROWS, sizeof *y);
    test_random(x, ROWS * 30, 9, 0.4f, 0.6f);
    double plain = one_epoch_loss(ctx, x, y, ROWS, LECTURE_NOISE_NONE, 0.0f);
    ck_assert_double_eq(one_epoch_loss(ctx, x, y, ROWS, LECTURE_NOISE_MASK, 0.0f), plain);
    ck_assert_double_eq(one_epoch_loss(ctx, x, y, ROWS, LECTURE_NOISE_GAUSSIAN, 0.0f), plain);
    double masked = one_epoch_loss(ctx, x, y, ROWS, LECTURE_NOISE_MASK, 0.5f);
    double gaussian = one_epoch_loss(ctx, x, y, ROWS, LECTURE_NOISE_GAUSSIAN, 1.0f);
    ck_assert_msg(masked > plain && gaussian > plain,
                  "epoch losses: plain %g, masked %g, gaussian %g", plain, masked, gaussian);
    clg_context_clear_error(ctx);
    clg_model *m = clg_zoo_autoencoder_create(ctx, 30, lecture_hidden, 2, 15, 8);
    lecture_autoencoder_options o = lecture_autoencoder_options_default();
    o.noise = LECTURE_NOISE_MASK;
    o.noise_level = 1.0f; /* would erase every input */
    ck_assert_ptr_null(lecture_autoencoder_trainer_create(m, x, y, ROWS, &o));
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "below 1 for masking"));
    clg_model_destroy(m);
    free(x);
    free(y);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_autoencoder_trains_on_normal_rows_only,
                            test_autoencoder_fraud_auc_plain,
                            test_autoencoder_fraud_auc_gaussian,
                            test_autoencoder_fraud_auc_mask,
                            test_autoencoder_epoch_performance_contract,
                            test_autoencoder_noise_reaches_the_input,
                            NULL};
    return test_main("lecture/autoencoder", "autoencoder", 600, tests);
}
