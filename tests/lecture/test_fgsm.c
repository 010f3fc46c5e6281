/* tests/lecture/test_fgsm.c: the FGSM attack of lecture/fgsm.c on a LeNet-5 trained
 * briefly inside the test on real Fashion-MNIST: eps 0 changes nothing, the
 * adversarial images stay within eps of the originals and inside [0, 1], the
 * accuracy falls as eps grows, and bad arguments give clear errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture/lecture.h"
#include "support.h"

#define PIXELS 784
#define CLASSES 10
#define TRAIN_STEPS 300
#define TRAIN_BATCH 64
#define ATTACK_COUNT 1000

/* TRAIN_STEPS steps of Adam on the first TRAIN_STEPS * TRAIN_BATCH training
 * images, in order: enough for some 80% test accuracy. */
static clg_model *trained_lenet5(clg_context *ctx)
{
    clg_dataset *train = test_fashion_mnist(ctx, true);
    clg_model *model = clg_zoo_lenet5_create(ctx, NULL, NULL, 11);
    ck_assert_msg(model != NULL, "%s", clg_context_error(ctx));
    clg_optim_options options = clg_optim_options_default(CLG_OPTIM_ADAM);
    options.lr = 2e-3f;
    clg_optim *opt = clg_optim_create(ctx, clg_model_params(model), &options);
    ck_assert_msg(opt != NULL, "%s", clg_context_error(ctx));
    const float *images = clg_dataset_images(train);
    const int32_t *labels = clg_dataset_labels(train);
    for (int64_t step = 0; step < TRAIN_STEPS; step++) {
        int64_t n = TRAIN_BATCH, start = step * TRAIN_BATCH;
        clg_step_begin(ctx);
        clg_tensor *x = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, PIXELS},
                                             images + start * PIXELS);
        clg_tensor *y = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, &n, labels + start);
        clg_tensor *loss =
            clg_cross_entropy_loss(clg_model_forward(model, x), y, CLG_REDUCTION_MEAN);
        clg_optim_zero_grad(opt);
        clg_backward(loss);
        clg_optim_step(opt);
        clg_step_end(ctx);
    }
    ck_assert_msg(clg_context_status(ctx) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    clg_optim_destroy(opt);
    clg_dataset_destroy(train);
    return model;
}

START_TEST(test_fgsm_accuracy_falls_with_eps)
{
    clg_context *ctx = test_context();
    clg_model *model = trained_lenet5(ctx);
    clg_dataset *test = test_fashion_mnist(ctx, false);
    const float eps[] = {0.0f, 0.02f, 0.05f, 0.1f, 0.2f};
    enum { N_EPS = 5 };
    double clean = -1, adv[N_EPS];
    ck_assert_msg(lecture_fgsm_evaluate(model, test, ATTACK_COUNT, 250, eps, N_EPS, &clean, adv) ==
                      CLG_STATUS_OK,
                  "%s", clg_context_error(ctx));
    printf("fgsm: clean accuracy %.3f;", clean);
    for (int e = 0; e < N_EPS; e++)
        printf(" eps %.2f: %.3f", (double)eps[e], adv[e]);
    printf("\n");
    fflush(stdout);
    ck_assert_msg(clean >= 0.7, "the briefly trained LeNet-5 reaches only %.3f", clean);
    ck_assert_double_eq(adv[0], clean);
    for (int e = 1; e < N_EPS; e++)
        ck_assert_msg(adv[e] < adv[e - 1], "accuracy %.3f at eps %g is not below %.3f at eps %g",
                      adv[e], (double)eps[e], adv[e - 1], (double)eps[e - 1]);
    ck_assert_msg(adv[N_EPS - 1] < 0.5 * clean, "eps 0.2 leaves accuracy %.3f of %.3f",
                  adv[N_EPS - 1], clean);
    clg_dataset_destroy(test);
    clg_model_destroy(model);
    clg_context_destroy(ctx);
}
END_TEST

/* The adversarial images themselves: eps 0 gives the originals bit for bit;
 * for eps 0.1 each pixel moves by exactly +-eps (or 0 where the gradient
 * is 0) unless clamped to [0, 1]; and the predictions agree with a plain
 * forward pass of those images. */
START_TEST(test_fgsm_adversarial_images)
{
    clg_context *ctx = test_context();
    clg_model *model = clg_zoo_lenet5_create(ctx, "tanh", "avg", 12);
    ck_assert_msg(model != NULL, "%s", clg_context_error(ctx));
    clg_dataset *test = test_fashion_mnist(ctx, false);
    enum { N = 7 };
    const float *x = clg_dataset_images(test);
    const float eps[] = {0.0f, 0.1f};
    int32_t clean[N], predicted[2 * N];
    static float adversarial[2 * N * PIXELS];
    ck_assert_msg(lecture_fgsm_batch(model, x, clg_dataset_labels(test), N, eps, 2, clean,
                                     predicted, adversarial) == CLG_STATUS_OK,
                  "%s", clg_context_error(ctx));
    ck_assert_mem_eq(adversarial, x, N * PIXELS * sizeof(float));
    ck_assert_mem_eq(predicted, clean, N * sizeof(int32_t));
    int moved = 0;
    for (int i = 0; i < N * PIXELS; i++) {
        float a = adversarial[N * PIXELS + i];
        bool ok = a == x[i] || a == x[i] + 0.1f || a == x[i] - 0.1f || (a == 0.0f && x[i] < 0.1f) ||
                  (a == 1.0f && x[i] > 0.9f);
        ck_assert_msg(ok, "pixel %d: %.9g became %.9g with eps 0.1", i, (double)x[i], (double)a);
        moved += a != x[i];
    }
    ck_assert_msg(moved > N * PIXELS / 2, "only %d of %d pixels moved", moved, N * PIXELS);
    clg_step_begin(ctx);
    clg_tensor *logits = clg_model_forward(model, clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2,
                                                                       (const int64_t[]){N, PIXELS},
                                                                       adversarial + N * PIXELS));
    int32_t again[N];
    ck_assert_int_eq(clg_tensor_download(clg_argmax(logits, 1, false), again, N), CLG_STATUS_OK);
    clg_step_end(ctx);
    ck_assert_mem_eq(again, predicted + N, N * sizeof(int32_t));
    clg_dataset_destroy(test);
    clg_model_destroy(model);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_fgsm_bad_input)
{
    clg_context *ctx = test_context();
    clg_dataset *test = test_fashion_mnist(ctx, false);
    clg_model *model = clg_zoo_lenet5_create(ctx, NULL, NULL, 1);
    ck_assert_msg(model != NULL, "%s", clg_context_error(ctx));
    double clean, adv[2];
    test_expect_status(
        ctx,
        lecture_fgsm_evaluate(model, test, 10, 10, (const float[]){0.1f, -0.05f}, 2, &clean, adv),
        CLG_STATUS_INVALID_ARGUMENT, "lecture_fgsm_evaluate", "eps -0.05");
    test_expect_status(
        ctx, lecture_fgsm_evaluate(model, test, 10, 10, (const float[]){NAN}, 1, &clean, adv),
        CLG_STATUS_INVALID_ARGUMENT, "lecture_fgsm_evaluate", "eps nan");
    test_expect_status(
        ctx, lecture_fgsm_evaluate(model, test, 10, 10, (const float[]){1.5f}, 1, &clean, adv),
        CLG_STATUS_INVALID_ARGUMENT, "eps 1.5", "[0, 1]");
    test_expect_status(ctx, lecture_fgsm_evaluate(model, test, 10, 10, NULL, 0, &clean, adv),
                       CLG_STATUS_INVALID_ARGUMENT, "lecture_fgsm_evaluate", "0 eps values");
    int32_t p[4];
    test_expect_status(ctx,
                       lecture_fgsm_batch(model, clg_dataset_images(test), clg_dataset_labels(test),
                                          0, (const float[]){0.1f}, 1, p, p, NULL),
                       CLG_STATUS_INVALID_ARGUMENT, "lecture_fgsm_batch", "0 images");
    clg_model_destroy(model);

    /* models that are not classifiers of the data set's 784 pixels into its
     * 10 classes, as a checkpoint of another model would give */
    clg_model *wide = clg_zoo_logreg_create(ctx, 100, CLASSES, 1);
    ck_assert_msg(wide != NULL, "%s", clg_context_error(ctx));
    test_expect_status(
        ctx, lecture_fgsm_evaluate(wide, test, 10, 10, (const float[]){0.1f}, 1, &clean, adv),
        CLG_STATUS_SHAPE, "lecture_fgsm_evaluate: the logreg 100-10 maps 100 inputs",
        "784 features and 10 classes");
    clg_model_destroy(wide);
    clg_model *five = clg_zoo_mlp_create(ctx, PIXELS, (const int64_t[]){16}, 1, 5, 1);
    ck_assert_msg(five != NULL, "%s", clg_context_error(ctx));
    test_expect_status(
        ctx, lecture_fgsm_evaluate(five, test, 10, 10, (const float[]){0.1f}, 1, &clean, adv),
        CLG_STATUS_SHAPE, "784-16-5 maps 784 inputs to 5 outputs", "10 classes");
    clg_model_destroy(five);
    clg_dataset_destroy(test);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_fgsm_bad_input, test_fgsm_adversarial_images,
                            test_fgsm_accuracy_falls_with_eps, NULL};
    return test_main("lecture/fgsm", "fgsm", 0, tests);
}
