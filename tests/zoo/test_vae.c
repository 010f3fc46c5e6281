/* tests/zoo/test_vae.c: the variational autoencoder (zoo/vae.c): ten Adam
 * steps against PyTorch from the same weights and the same noise
 * (tools/golden/gen_vae.py), both ELBO terms; the shapes of encode and
 * decode; noise drawn on the device reproducible from the seed and fresh on
 * each call; a few steps on the fixture's images lowering the loss; bad
 * sizes and shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define STEPS 10
#define BATCH 8
#define PIXELS 784
#define HIDDEN 32
#define LATENT 3

/* A VAE holding the fixture's initial weights, found by name: also the check
 * that clgrad names the layers as PyTorch's state_dict does. */
static clg_vae *fixture_vae(clg_context *ctx, const clg_safetensors *st)
{
    clg_vae *vae = clg_vae_create(ctx, PIXELS, HIDDEN, LATENT, 5);
    ck_assert_msg(vae != NULL, "%s", clg_context_error(ctx));
    const clg_params *params = clg_vae_params(vae);
    ck_assert_uint_eq(clg_params_count(params), 10);
    test_fixture_load(st, "vae_curve", "", params);
    return vae;
}

static clg_optim *adam(clg_context *ctx, clg_vae *vae)
{
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAM);
    clg_optim *opt = clg_optim_create(ctx, clg_vae_params(vae), &o);
    ck_assert_msg(opt != NULL, "%s", clg_context_error(ctx));
    return opt;
}

/* One step on x (BATCH, PIXELS) with eps (BATCH, LATENT) or device noise;
 * the two terms before the update. */
static void train_step(clg_context *ctx, clg_vae *vae, clg_optim *opt, const float *x,
                       const float *eps, float *rec, float *kl)
{
    clg_step_begin(ctx);
    clg_tensor *tx = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){BATCH, PIXELS}, x);
    clg_tensor *te =
        eps ? clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){BATCH, LATENT}, eps) : NULL;
    clg_tensor *trec = NULL, *tkl = NULL;
    clg_tensor *loss = clg_vae_loss(vae, tx, te, &trec, &tkl);
    clg_optim_zero_grad(opt);
    ck_assert_msg(clg_backward(loss) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_optim_step(opt), CLG_STATUS_OK);
    ck_assert_int_eq(clg_tensor_item(trec, rec), CLG_STATUS_OK);
    ck_assert_int_eq(clg_tensor_item(tkl, kl), CLG_STATUS_OK);
    clg_step_end(ctx);
}

START_TEST(test_vae_loss_curve_matches_pytorch)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "vae_curve");
    const float *x = test_fixture_get(st, "vae_curve", "x", 3, (int64_t[]){STEPS, BATCH, PIXELS});
    const float *eps =
        test_fixture_get(st, "vae_curve", "eps", 3, (int64_t[]){STEPS, BATCH, LATENT});
    const float *want_rec =
        test_fixture_get(st, "vae_curve", "loss.reconstruction", 1, (int64_t[]){STEPS});
    const float *want_kl = test_fixture_get(st, "vae_curve", "loss.kl", 1, (int64_t[]){STEPS});
    clg_vae *vae = fixture_vae(ctx, st);
    clg_optim *opt = adam(ctx, vae);
    float rec[STEPS], kl[STEPS];
    for (int s = 0; s < STEPS; s++)
        train_step(ctx, vae, opt, x + s * BATCH * PIXELS, eps + s * BATCH * LATENT, &rec[s],
                   &kl[s]);
    double worst = 0;
    for (int s = 0; s < STEPS; s++) {
        worst = fmax(worst, fabs(rec[s] - want_rec[s]) / want_rec[s]);
        worst = fmax(worst, fabs(kl[s] - want_kl[s]) / want_kl[s]);
    }
    printf("vae: reconstruction %.2f -> %.2f, KL %.4f -> %.4f; largest relative difference from "
           "PyTorch over %d steps %.2g\n",
           (double)rec[0], (double)rec[STEPS - 1], (double)kl[0], (double)kl[STEPS - 1], STEPS,
           worst);
    fflush(stdout);
    test_assert_close(rec, want_rec, STEPS, test_tol_get("loss_curve"), "reconstruction");
    test_assert_close(kl, want_kl, STEPS, test_tol_get("loss_curve"), "kl");
    clg_optim_destroy(opt);
    clg_vae_destroy(vae);
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* encode gives (N, latent) twice, decode (N, in) probabilities in (0, 1);
 * with eps NULL two VAEs of the same seed give the same losses, and a
 * second call draws fresh noise (another loss on the same batch); and
 * training on one batch with device noise lowers its loss. */
START_TEST(test_vae_shapes_and_device_noise)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "vae_curve");
    const float *x = test_fixture_get(st, "vae_curve", "x", 3, (int64_t[]){STEPS, BATCH, PIXELS});
    clg_vae *a = clg_vae_create(ctx, PIXELS, HIDDEN, LATENT, 9);
    clg_vae *b = clg_vae_create(ctx, PIXELS, HIDDEN, LATENT, 9);
    ck_assert_int_eq(clg_vae_latent(a), LATENT);
    clg_step_begin(ctx);
    clg_tensor *tx = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){BATCH, PIXELS}, x);
    clg_tensor *logvar = NULL, *mu = clg_vae_encode(a, tx, &logvar);
    ck_assert_int_eq(clg_tensor_dim(mu, 1), LATENT);
    ck_assert_int_eq(clg_tensor_dim(logvar, 0), BATCH);
    clg_tensor *p = clg_vae_decode(a, mu);
    ck_assert_int_eq(clg_tensor_dim(p, 1), PIXELS);
    float *pv = test_download(p);
    for (int i = 0; i < BATCH * PIXELS; i++)
        ck_assert(pv[i] > 0.0f && pv[i] < 1.0f);
    free(pv);
    float la1, la2, lb1;
    ck_assert_int_eq(clg_tensor_item(clg_vae_loss(a, tx, NULL, NULL, NULL), &la1), 0);
    ck_assert_int_eq(clg_tensor_item(clg_vae_loss(a, tx, NULL, NULL, NULL), &la2), 0);
    ck_assert_int_eq(clg_tensor_item(clg_vae_loss(b, tx, NULL, NULL, NULL), &lb1), 0);
    clg_step_end(ctx);
    ck_assert_msg(la1 == lb1, "same seed, same first noise: %g vs %g", (double)la1, (double)lb1);
    ck_assert_msg(la1 != la2, "the second call reused the noise");

    clg_optim *opt = adam(ctx, a);
    float first = 0, last = 0, rec, kl;
    for (int s = 0; s < 20; s++) {
        train_step(ctx, a, opt, x, NULL, &rec, &kl);
        ck_assert(kl >= 0.0f);
        if (s == 0)
            first = rec + kl;
        last = rec + kl;
    }
    ck_assert_msg(last < 0.97f * first, "20 Adam steps on one batch: loss %g -> %g", (double)first,
                  (double)last);
    clg_optim_destroy(opt);
    clg_vae_destroy(a);
    clg_vae_destroy(b);
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_vae_bad_input)
{
    clg_context *ctx = test_context();
    test_expect_error(ctx, clg_vae_create(ctx, PIXELS, HIDDEN, 0, 1), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_vae_create: in_features 784, hidden 32 and "
                      "latent 0 must be positive");
    clg_vae *vae = clg_vae_create(ctx, PIXELS, HIDDEN, LATENT, 1);
    clg_step_begin(ctx);
    clg_tensor *x = clg_tensor_full(ctx, 2, (int64_t[]){4, 10}, 0.5f);
    ck_assert_ptr_null(clg_vae_loss(vae, x, NULL, NULL, NULL));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_SHAPE);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_vae_loss: x has shape [4, 10]; the VAE takes (N, 784)");
    clg_context_clear_error(ctx);
    x = clg_tensor_full(ctx, 2, (int64_t[]){4, PIXELS}, 0.5f);
    clg_tensor *eps = clg_tensor_full(ctx, 2, (int64_t[]){4, 2}, 0.0f);
    ck_assert_ptr_null(clg_vae_loss(vae, x, eps, NULL, NULL));
    ck_assert_str_eq(clg_context_error(ctx), "clg_vae_loss: eps has shape [4, 2]; x needs (4, 3)");
    clg_context_clear_error(ctx);
    clg_step_end(ctx);
    clg_vae_destroy(vae);
    clg_vae_destroy(NULL);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_vae_loss_curve_matches_pytorch, test_vae_shapes_and_device_noise,
                            test_vae_bad_input, NULL};
    return test_main("zoo/vae", "vae", 0, tests);
}
