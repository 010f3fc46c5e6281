/* tests/lecture/test_gan.c: training the GAN (lecture/gan.c over
 * zoo/gan.c): the first rounds of the game against PyTorch from the same
 * weights and the same noise, both players' losses, for the MLP (minimax)
 * and DCGAN (non-saturating) architectures (tools/golden/gen_gan.py); the
 * losses moving as the minimax game says (each player's step lowers its own
 * loss and the generator's step raises the discriminator's); the value at
 * the start near -log 4; the steady state; bad arguments. The model alone
 * is tests/zoo/test_gan.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture/lecture.h"
#include "support.h"

#define STEPS 6
#define BATCH 8
#define NOISE 8
#define PIXELS 784

/* The fixture's GAN of `arch` ("mlp": hidden 16; "dcgan": 4 channels). */
static clg_gan *fixture_gan(clg_context *ctx, const clg_safetensors *st, clg_gan_arch arch)
{
    const char *name = arch == CLG_GAN_MLP ? "mlp" : "dcgan";
    clg_gan *gan = clg_gan_create(ctx, arch, NOISE, arch == CLG_GAN_MLP ? 16 : 4, 3);
    ck_assert_msg(gan != NULL, "%s", clg_context_error(ctx));
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s.g.", name);
    test_fixture_load(st, "gan_steps", prefix, clg_gan_generator_params(gan));
    snprintf(prefix, sizeof prefix, "%s.d.", name);
    test_fixture_load(st, "gan_steps", prefix, clg_gan_discriminator_params(gan));
    return gan;
}

/* Adam with the DCGAN paper's lr 2e-4 and beta1 0.5. */
static clg_optim *adam(clg_context *ctx, const clg_params *params)
{
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAM);
    o.lr = 2e-4f;
    o.beta1 = 0.5f;
    clg_optim *opt = clg_optim_create(ctx, params, &o);
    ck_assert_msg(opt != NULL, "%s", clg_context_error(ctx));
    return opt;
}

/* A GAN with an Adam optimizer for each player and the lecture's trainer;
 * rig_destroy destroys the GAN too. */
typedef struct gan_rig {
    clg_gan *gan;
    clg_optim *d_opt, *g_opt;
    lecture_gan_trainer *trainer;
} gan_rig;

static gan_rig rig_create(clg_context *ctx, clg_gan *gan)
{
    gan_rig r = {gan, adam(ctx, clg_gan_discriminator_params(gan)),
                 adam(ctx, clg_gan_generator_params(gan)), lecture_gan_trainer_create(gan)};
    ck_assert_msg(r.trainer != NULL, "%s", clg_context_error(ctx));
    return r;
}

static void rig_destroy(gan_rig *r)
{
    lecture_gan_trainer_destroy(r->trainer);
    clg_optim_destroy(r->d_opt);
    clg_optim_destroy(r->g_opt);
    clg_gan_destroy(r->gan);
}

static void check_steps(clg_context *ctx, const clg_safetensors *st, clg_gan_arch arch,
                        clg_gan_loss loss)
{
    const char *name = arch == CLG_GAN_MLP ? "mlp" : "dcgan";
    char key[64];
    const float *x = test_fixture_get(st, "gan_steps", "x", 3, (int64_t[]){STEPS, BATCH, PIXELS});
    snprintf(key, sizeof key, "%s.z_d", name);
    const float *z_d = test_fixture_get(st, "gan_steps", key, 3, (int64_t[]){STEPS, BATCH, NOISE});
    snprintf(key, sizeof key, "%s.z_g", name);
    const float *z_g = test_fixture_get(st, "gan_steps", key, 3, (int64_t[]){STEPS, BATCH, NOISE});
    snprintf(key, sizeof key, "%s.d_loss", name);
    const float *want_d = test_fixture_get(st, "gan_steps", key, 1, (int64_t[]){STEPS});
    snprintf(key, sizeof key, "%s.g_loss", name);
    const float *want_g = test_fixture_get(st, "gan_steps", key, 1, (int64_t[]){STEPS});
    gan_rig r = rig_create(ctx, fixture_gan(ctx, st, arch));
    float d[STEPS], g[STEPS];
    for (int s = 0; s < STEPS; s++) {
        ck_assert_msg(lecture_gan_train_discriminator(r.trainer, r.d_opt, x + s * BATCH * PIXELS,
                                                      BATCH, z_d + s * BATCH * NOISE,
                                                      &d[s]) == CLG_STATUS_OK,
                      "%s", clg_context_error(ctx));
        ck_assert_msg(lecture_gan_train_generator(r.trainer, r.g_opt, BATCH,
                                                  z_g + s * BATCH * NOISE, loss,
                                                  &g[s]) == CLG_STATUS_OK,
                      "%s", clg_context_error(ctx));
    }
    double worst = 0;
    for (int s = 0; s < STEPS; s++)
        worst = fmax(worst, fmax(fabs(d[s] - want_d[s]) / fabs(want_d[s]),
                                 fabs(g[s] - want_g[s]) / fabs(want_g[s])));
    printf("gan %s: d_loss %.4f -> %.4f, g_loss %.4f -> %.4f; largest relative difference from "
           "PyTorch over %d rounds %.2g\n",
           name, (double)d[0], (double)d[STEPS - 1], (double)g[0], (double)g[STEPS - 1], STEPS,
           worst);
    fflush(stdout);
    test_assert_close(d, want_d, STEPS, test_tol_get("loss_curve"), "d_loss");
    test_assert_close(g, want_g, STEPS, test_tol_get("loss_curve"), "g_loss");
    /* the device-side sums saw the same losses */
    float d_mean, g_mean, d_sum = 0, g_sum = 0;
    for (int s = 0; s < STEPS; s++) {
        d_sum += d[s];
        g_sum += g[s];
    }
    ck_assert_int_eq(lecture_gan_mean_losses(r.trainer, &d_mean, &g_mean), CLG_STATUS_OK);
    ck_assert_msg(fabsf(d_mean - d_sum / STEPS) <= 1e-6f * fabsf(d_sum) &&
                      fabsf(g_mean - g_sum / STEPS) <= 1e-6f * fabsf(g_sum),
                  "mean losses %g %g, want %g %g", (double)d_mean, (double)g_mean,
                  (double)(d_sum / STEPS), (double)(g_sum / STEPS));
    ck_assert_int_eq(lecture_gan_mean_losses(r.trainer, &d_mean, NULL), CLG_STATUS_OK);
    ck_assert(isnan(d_mean)); /* no steps since the last read */
    rig_destroy(&r);
}

START_TEST(test_gan_first_steps_match_pytorch)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "gan_steps");
    check_steps(ctx, st, CLG_GAN_MLP, CLG_GAN_MINIMAX);
    check_steps(ctx, st, CLG_GAN_DCGAN, CLG_GAN_NONSATURATING);
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* The game, round by round on a fixed (real, z): D's step raises V, i.e.
 * lowers d_loss = -V; G's step lowers its own loss and so raises d_loss on
 * the fakes, D being fixed. At the start D knows nothing, D(.) is near 1/2
 * and d_loss near log 4 = -V at the game's equilibrium. */
static void check_game(clg_context *ctx, const clg_safetensors *st, clg_gan_arch arch,
                       clg_gan_loss loss)
{
    const float *x = test_fixture_get(st, "gan_steps", "x", 3, (int64_t[]){STEPS, BATCH, PIXELS});
    const float *z =
        test_fixture_get(st, "gan_steps", arch == CLG_GAN_MLP ? "mlp.z_d" : "dcgan.z_d", 3,
                         (int64_t[]){STEPS, BATCH, NOISE});
    gan_rig r = rig_create(ctx, fixture_gan(ctx, st, arch));
    float d0, g0, d1, g1, d2, g2;
    ck_assert_int_eq(clg_gan_losses(r.gan, x, BATCH, z, loss, &d0, &g0), CLG_STATUS_OK);
    ck_assert_msg(fabs(d0 - log(4.0)) < 0.1, "d_loss at the start %g, not near log 4", (double)d0);
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(lecture_gan_train_discriminator(r.trainer, r.d_opt, x, BATCH, z, NULL), 0);
        ck_assert_int_eq(clg_gan_losses(r.gan, x, BATCH, z, loss, &d1, &g1), CLG_STATUS_OK);
        ck_assert_msg(d1 < d0, "round %d: D's step moved d_loss %g -> %g", round, (double)d0,
                      (double)d1);
        ck_assert_msg(g1 > g0, "round %d: D's step moved g_loss %g -> %g", round, (double)g0,
                      (double)g1);
        ck_assert_int_eq(lecture_gan_train_generator(r.trainer, r.g_opt, BATCH, z, loss, NULL), 0);
        ck_assert_int_eq(clg_gan_losses(r.gan, x, BATCH, z, loss, &d2, &g2), CLG_STATUS_OK);
        ck_assert_msg(g2 < g1, "round %d: G's step moved g_loss %g -> %g", round, (double)g1,
                      (double)g2);
        ck_assert_msg(d2 > d1, "round %d: G's step moved d_loss %g -> %g", round, (double)d1,
                      (double)d2);
        if (loss == CLG_GAN_MINIMAX) /* mean log(1 - D(G(z))) < 0 */
            ck_assert(g2 < 0.0f);
        d0 = d2;
        g0 = g2;
    }
    rig_destroy(&r);
}

START_TEST(test_gan_losses_move_as_the_game_says)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "gan_steps");
    check_game(ctx, st, CLG_GAN_MLP, CLG_GAN_MINIMAX);
    check_game(ctx, st, CLG_GAN_DCGAN, CLG_GAN_NONSATURATING);
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* With device noise a round of both steps allocates nothing, builds
 * nothing and reads nothing once warm. */
START_TEST(test_gan_steady_state)
{
    clg_context *ctx = test_context();
    for (int arch = CLG_GAN_MLP; arch <= CLG_GAN_DCGAN; arch++) {
        clg_gan *gan = clg_gan_create(ctx, (clg_gan_arch)arch, NOISE, 4, 1);
        ck_assert_msg(gan != NULL, "%s", clg_context_error(ctx));
        gan_rig r = rig_create(ctx, gan);
        float *real = calloc(BATCH * PIXELS, sizeof *real);
        clg_counters before = {0}, after;
        for (int round = 0; round < 3; round++) {
            if (round == 2)
                clg_counters_get(ctx, &before);
            ck_assert_int_eq(
                lecture_gan_train_discriminator(r.trainer, r.d_opt, real, BATCH, NULL, NULL), 0);
            ck_assert_int_eq(lecture_gan_train_generator(r.trainer, r.g_opt, BATCH, NULL,
                                                         CLG_GAN_NONSATURATING, NULL),
                             0);
        }
        test_expect_steady(ctx, &before, &after, 0, "steady GAN steps");
        free(real);
        rig_destroy(&r);
    }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_gan_training_bad_input)
{
    clg_context *ctx = test_context();
    clg_gan *gan = clg_gan_create(ctx, CLG_GAN_MLP, NOISE, 4, 1);
    clg_optim *opt = adam(ctx, clg_gan_generator_params(gan));
    lecture_gan_trainer *trainer = lecture_gan_trainer_create(gan);
    ck_assert_int_eq(lecture_gan_train_generator(trainer, opt, 0, NULL, CLG_GAN_MINIMAX, NULL),
                     CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx),
                     "lecture_gan_train_generator: batch 0 and loss 0; expected a batch >= 1 and "
                     "CLG_GAN_MINIMAX or CLG_GAN_NONSATURATING");
    clg_context_clear_error(ctx);
    ck_assert_int_eq(lecture_gan_train_generator(trainer, opt, 4, NULL, (clg_gan_loss)3, NULL),
                     CLG_STATUS_INVALID_ARGUMENT);
    clg_context_clear_error(ctx);
    ck_assert_int_eq(lecture_gan_train_discriminator(trainer, opt, NULL, 4, NULL, NULL),
                     CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx),
                     "lecture_gan_train_discriminator: no real images (real is NULL)");
    clg_context_clear_error(ctx);
    lecture_gan_trainer_destroy(trainer);
    lecture_gan_trainer_destroy(NULL);
    clg_optim_destroy(opt);
    clg_gan_destroy(gan);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_gan_first_steps_match_pytorch,
                            test_gan_losses_move_as_the_game_says, test_gan_steady_state,
                            test_gan_training_bad_input, NULL};
    return test_main("lecture/gan", "gan", 0, tests);
}
