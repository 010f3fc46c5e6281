/* lecture/gan.c: training the lecture's GAN (clg_gan, zoo/gan.c): one step
 * of each player in a step of its own, each on its own optimizer, playing
 * the losses the model defines (clg_gan_discriminator_loss,
 * clg_gan_generator_loss); the losses are summed on the device as the steps
 * run, so a training loop needs no host read per step. */
#include <math.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "lecture/lecture.h"

#define PIXELS (28 * 28)

struct lecture_gan_trainer {
    clg_gan *gan;
    clg_context *ctx;
    /* The losses of the training steps since lecture_gan_mean_losses last
     * read them, summed on the device: sums[0] the discriminator's, sums[1]
     * the generator's (1-element tensors), counts[] the steps. */
    clg_tensor *sums[2];
    int64_t counts[2];
};

void lecture_gan_trainer_destroy(lecture_gan_trainer *trainer)
{
    if (!trainer)
        return;
    clg_tensor_destroy(trainer->sums[0]);
    clg_tensor_destroy(trainer->sums[1]);
    free(trainer);
}

lecture_gan_trainer *lecture_gan_trainer_create(clg_gan *gan)
{
    /* the GAN's context, through its first parameter */
    clg_context *ctx =
        gan ? clg_tensor_context(clg_params_tensor(clg_gan_generator_params(gan), 0)) : NULL;
    lecture_gan_trainer *t = ctx && !eng_failed(ctx) ? calloc(1, sizeof *t) : NULL;
    if (ctx && !eng_failed(ctx) && !t)
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "lecture_gan_trainer_create: out of host memory");
    if (t)
        *t = (lecture_gan_trainer){.gan = gan, .ctx = ctx};
    for (int i = 0; t && i < 2; i++) {
        t->sums[i] = clg_tensor_create(ctx, CLG_DTYPE_F32, 1, (int64_t[]){1});
        if (t->sums[i])
            clg_tensor_fill(t->sums[i], 0.0f);
    }
    if (t && eng_failed(ctx)) {
        lecture_gan_trainer_destroy(t);
        return NULL;
    }
    return t;
}

/* Checks the arguments of a training step; records the error. */
static bool check(lecture_gan_trainer *t, const char *fn, int64_t n, int loss, bool needs_real,
                  const float *real)
{
    if (!t || eng_failed(t->ctx))
        return false;
    if (n < 1 || (loss != CLG_GAN_MINIMAX && loss != CLG_GAN_NONSATURATING)) {
        eng_fail(t->ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: batch %lld and loss %d; expected a batch >= 1 and CLG_GAN_MINIMAX or "
                 "CLG_GAN_NONSATURATING",
                 fn, (long long)n, loss);
        return false;
    }
    if (needs_real && !real) {
        eng_fail(t->ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: no real images (real is NULL)", fn);
        return false;
    }
    return true;
}

/* z (n, noise) from the host, or fresh draws from the GAN's stream. */
static clg_tensor *noise(lecture_gan_trainer *t, int64_t n, const float *z)
{
    if (!z)
        return clg_gan_draw_noise(t->gan, n);
    return clg_tensor_from_host(t->ctx, CLG_DTYPE_F32, 2,
                                (const int64_t[]){n, clg_gan_noise(t->gan)}, z);
}

/* Backward, the update, the loss added to the player's running sum on the
 * device (outside the tape), and the loss read when `value` asks for it;
 * ends the step. */
static clg_status finish(lecture_gan_trainer *t, clg_optim *opt, int player, clg_tensor *loss,
                         float *value)
{
    clg_optim_zero_grad(opt);
    clg_status status = clg_backward(loss);
    if (status == CLG_STATUS_OK)
        status = clg_optim_step(opt);
    if (status == CLG_STATUS_OK) {
        bool grad = clg_grad_set_enabled(t->ctx, false);
        clg_tensor *sum = clg_add(t->sums[player], loss); /* [1] + [] */
        status = sum ? clg_tensor_copy(t->sums[player], sum) : clg_context_status(t->ctx);
        clg_grad_set_enabled(t->ctx, grad);
        t->counts[player]++;
    }
    if (status == CLG_STATUS_OK && value)
        status = clg_tensor_item(loss, value);
    clg_step_end(t->ctx);
    return eng_failed(t->ctx) ? clg_context_status(t->ctx) : status;
}

clg_status lecture_gan_mean_losses(lecture_gan_trainer *trainer, float *d_mean, float *g_mean)
{
    if (!trainer)
        return CLG_STATUS_INVALID_ARGUMENT;
    lecture_gan_trainer *t = trainer;
    if (eng_failed(t->ctx))
        return clg_context_status(t->ctx);
    float *out[2] = {d_mean, g_mean};
    for (int i = 0; i < 2; i++) {
        float sum = 0.0f;
        if (t->counts[i] > 0 && clg_tensor_download(t->sums[i], &sum, 1) != CLG_STATUS_OK)
            return clg_context_status(t->ctx);
        if (out[i])
            *out[i] = t->counts[i] > 0 ? sum / (float)t->counts[i] : NAN;
        t->counts[i] = 0;
        if (clg_tensor_fill(t->sums[i], 0.0f) != CLG_STATUS_OK)
            return clg_context_status(t->ctx);
    }
    return CLG_STATUS_OK;
}

clg_status lecture_gan_train_discriminator(lecture_gan_trainer *trainer, clg_optim *d_opt,
                                           const float *real, int64_t n, const float *z,
                                           float *d_loss)
{
    lecture_gan_trainer *t = trainer;
    if (!check(t, "lecture_gan_train_discriminator", n, CLG_GAN_MINIMAX, true, real))
        return t ? clg_context_status(t->ctx) : CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = t->ctx;
    clg_step_begin(ctx);
    /* real images from [0, 1] to the generator's [-1, 1] */
    clg_tensor *x =
        clg_affine(clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, PIXELS}, real),
                   2.0f, -1.0f);
    /* G(z) as a constant: D's loss must not reach G (PyTorch's detach()) */
    bool grad = clg_grad_set_enabled(ctx, false);
    clg_tensor *fake = clg_gan_generate(t->gan, noise(t, n, z), true);
    clg_grad_set_enabled(ctx, grad);
    return finish(t, d_opt, 0, clg_gan_discriminator_loss(t->gan, x, fake), d_loss);
}

clg_status lecture_gan_train_generator(lecture_gan_trainer *trainer, clg_optim *g_opt, int64_t n,
                                       const float *z, clg_gan_loss loss, float *g_loss)
{
    lecture_gan_trainer *t = trainer;
    if (!check(t, "lecture_gan_train_generator", n, (int)loss, false, NULL))
        return t ? clg_context_status(t->ctx) : CLG_STATUS_INVALID_ARGUMENT;
    clg_step_begin(t->ctx);
    clg_tensor *fake = clg_gan_generate(t->gan, noise(t, n, z), true);
    return finish(t, g_opt, 1, clg_gan_generator_loss(t->gan, fake, loss), g_loss);
}
