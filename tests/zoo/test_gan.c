/* tests/zoo/test_gan.c: the GAN model (zoo/gan.c): shapes and ranges of
 * both players, the noise stream, the two losses as tensors agreeing with
 * clg_gan_losses on host arrays, bad arguments. Its training, against
 * PyTorch, is tests/lecture/test_gan.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define BATCH 3
#define NOISE 8
#define PIXELS 784

/* generate gives (N, 784) in (-1, 1), discriminate (N, 1), and the noise
 * stream (N, noise) moves on between draws. */
START_TEST(test_gan_shapes)
{
    clg_context *ctx = test_context();
    for (int arch = CLG_GAN_MLP; arch <= CLG_GAN_DCGAN; arch++) {
        clg_gan *gan = clg_gan_create(ctx, (clg_gan_arch)arch, NOISE, 4, 1);
        ck_assert_msg(gan != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_gan_noise(gan), NOISE);
        clg_step_begin(ctx);
        clg_tensor *z = clg_gan_draw_noise(gan, BATCH);
        ck_assert_msg(z != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_dim(z, 0), BATCH);
        ck_assert_int_eq(clg_tensor_dim(z, 1), NOISE);
        float *first = test_download(z), *second = test_download(clg_gan_draw_noise(gan, BATCH));
        ck_assert(memcmp(first, second, BATCH * NOISE * sizeof *first) != 0);
        free(first);
        free(second);
        clg_tensor *images = clg_gan_generate(gan, z, false);
        ck_assert_msg(images != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_dim(images, 1), PIXELS);
        float *v = test_download(images);
        for (int i = 0; i < BATCH * PIXELS; i++)
            ck_assert(v[i] > -1.0f && v[i] < 1.0f);
        free(v);
        clg_tensor *logits = clg_gan_discriminate(gan, images);
        ck_assert_int_eq(clg_tensor_dim(logits, 0), BATCH);
        ck_assert_int_eq(clg_tensor_dim(logits, 1), 1);
        clg_step_end(ctx);
        clg_gan_destroy(gan);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* The losses as step tensors are clg_gan_losses' on the same real images
 * (mapped from [0, 1] to [-1, 1]) and noise, for both losses of G. */
START_TEST(test_gan_loss_tensors_match_host_losses)
{
    clg_context *ctx = test_context();
    float real[BATCH * PIXELS], z[BATCH * NOISE];
    test_random(real, BATCH * PIXELS, 1, 0.0f, 1.0f);
    test_random(z, BATCH * NOISE, 2, -1.0f, 1.0f);
    for (int arch = CLG_GAN_MLP; arch <= CLG_GAN_DCGAN; arch++)
        for (int loss = CLG_GAN_MINIMAX; loss <= CLG_GAN_NONSATURATING; loss++) {
            clg_gan *gan = clg_gan_create(ctx, (clg_gan_arch)arch, NOISE, 4, 7);
            float want_d, want_g, got_d, got_g;
            ck_assert_int_eq(
                clg_gan_losses(gan, real, BATCH, z, (clg_gan_loss)loss, &want_d, &want_g),
                CLG_STATUS_OK);
            bool grad = clg_grad_set_enabled(ctx, false);
            clg_step_begin(ctx);
            clg_tensor *x = clg_affine(
                clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){BATCH, PIXELS}, real), 2.0f,
                -1.0f);
            clg_tensor *fake = clg_gan_generate(
                gan, clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){BATCH, NOISE}, z),
                true);
            ck_assert_int_eq(clg_tensor_item(clg_gan_discriminator_loss(gan, x, fake), &got_d),
                             CLG_STATUS_OK);
            ck_assert_int_eq(
                clg_tensor_item(clg_gan_generator_loss(gan, fake, (clg_gan_loss)loss), &got_g),
                CLG_STATUS_OK);
            clg_step_end(ctx);
            clg_grad_set_enabled(ctx, grad);
            ck_assert_msg(fabsf(got_d - want_d) <= 1e-6f * fabsf(want_d) &&
                              fabsf(got_g - want_g) <= 1e-6f * fabsf(want_g),
                          "arch %d loss %d: d %g g %g, clg_gan_losses %g %g", arch, loss,
                          (double)got_d, (double)got_g, (double)want_d, (double)want_g);
            clg_gan_destroy(gan);
        }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_gan_bad_input)
{
    clg_context *ctx = test_context();
    ck_assert_ptr_null(clg_gan_create(ctx, (clg_gan_arch)5, NOISE, 4, 1));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_gan_create: arch 5, noise 8, hidden 4; expected CLG_GAN_MLP or "
                     "CLG_GAN_DCGAN and positive sizes");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_gan_create(ctx, CLG_GAN_MLP, 0, 4, 1));
    clg_context_clear_error(ctx);
    clg_gan *gan = clg_gan_create(ctx, CLG_GAN_MLP, NOISE, 4, 1);
    clg_step_begin(ctx);
    ck_assert_ptr_null(clg_gan_draw_noise(gan, 0));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    clg_context_clear_error(ctx);
    clg_tensor *fake = clg_gan_generate(gan, clg_gan_draw_noise(gan, 2), true);
    ck_assert_ptr_null(clg_gan_generator_loss(gan, fake, (clg_gan_loss)3));
    ck_assert_str_eq(clg_context_error(ctx), "clg_gan_generator_loss: loss 3; expected "
                                             "CLG_GAN_MINIMAX or CLG_GAN_NONSATURATING");
    clg_context_clear_error(ctx);
    clg_step_end(ctx);
    float d;
    ck_assert_int_eq(clg_gan_losses(gan, NULL, 4, NULL, CLG_GAN_MINIMAX, &d, NULL),
                     CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "real images NULL"));
    clg_context_clear_error(ctx);
    clg_gan_destroy(gan);
    clg_gan_destroy(NULL);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_gan_shapes, test_gan_loss_tensors_match_host_losses,
                            test_gan_bad_input, NULL};
    return test_main("zoo/gan", "gan", 0, tests);
}
