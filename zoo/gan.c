/* zoo/gan.c: the generative adversarial network of the lecture (Goodfellow
 * et al. 2014) on 28x28 images: an MLP or a DCGAN-style (Radford et al.
 * 2015) generator and discriminator, its noise stream, and the minimax and
 * non-saturating losses on the discriminator's logits. The alternating
 * training steps, each player on its own optimizer, are lecture/gan.c.
 * Composed from layers and ops; no backward here.
 *
 * With l_r, l_f the logits of real and fake images and BCE on logits,
 *   d_loss = BCE(l_r, 1) + BCE(l_f, 0) = -(mean log D(x) + mean log(1 - D(G(z))))
 *   g_loss = -BCE(l_f, 0) = mean log(1 - D(G(z)))          (minimax)
 *          =  BCE(l_f, 1) = -mean log D(G(z))              (non-saturating)
 * so every log is computed stably from the logits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "zoo/model.h"

#define IMAGE 28
#define PIXELS (IMAGE * IMAGE)
#define SLOPE 0.2f /* leaky ReLU slope of the DCGAN paper */
#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f
#define NOISE_KEY 0x67616e2d6e6f6973ULL /* "gan-nois" */

struct clg_gan {
    clg_context *ctx;
    clg_gan_arch arch;
    int64_t noise, hidden;
    uint64_t seed, noise_offset;
    /* MLP: g_fc[0..2], d_fc[0..2]. DCGAN: g_fc[0], g_bn[0..1], g_deconv[0..1];
     * d_conv[0..1], d_fc[0]. */
    clg_linear *g_fc[3], *d_fc[3];
    clg_batchnorm_layer *g_bn[2];
    clg_conv_transpose2d_layer *g_deconv[2];
    clg_conv2d_layer *d_conv[2];
    clg_params *g_params, *d_params;
};

CLG_API void clg_gan_destroy(clg_gan *gan)
{
    if (!gan)
        return;
    clg_params_destroy(gan->g_params);
    clg_params_destroy(gan->d_params);
    for (int i = 0; i < 3; i++) {
        clg_linear_destroy(gan->g_fc[i]);
        clg_linear_destroy(gan->d_fc[i]);
    }
    for (int i = 0; i < 2; i++) {
        clg_batchnorm_layer_destroy(gan->g_bn[i]);
        clg_conv_transpose2d_layer_destroy(gan->g_deconv[i]);
        clg_conv2d_layer_destroy(gan->d_conv[i]);
    }
    free(gan);
}

/* Registers `layer_params` under "<name>." in `params` unless a layer failed. */
static void add(clg_params *params, const char *name, const clg_params *layer_params)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s.", name);
    if (params && layer_params)
        clg_params_extend(params, prefix, layer_params);
}

static void create_mlp(clg_gan *g)
{
    clg_context *ctx = g->ctx;
    const int64_t gw[4] = {g->noise, g->hidden, 2 * g->hidden, PIXELS};
    const int64_t dw[4] = {PIXELS, 2 * g->hidden, g->hidden, 1};
    for (int i = 0; i < 3 && !eng_failed(ctx); i++) {
        char name[8];
        snprintf(name, sizeof name, "fc%d", i + 1);
        g->g_fc[i] = clg_linear_create(ctx, gw[i], gw[i + 1], true, zoo_layer_seed(g->seed, i));
        add(g->g_params, name, g->g_fc[i] ? clg_linear_params(g->g_fc[i]) : NULL);
        g->d_fc[i] =
            clg_linear_create(ctx, dw[i], dw[i + 1], true, zoo_layer_seed(g->seed, 10 + i));
        add(g->d_params, name, g->d_fc[i] ? clg_linear_params(g->d_fc[i]) : NULL);
    }
}

static void create_dcgan(clg_gan *g)
{
    clg_context *ctx = g->ctx;
    int64_t c = g->hidden;
    clg_conv_transpose2d_params up = clg_conv_transpose2d_params_default();
    up.stride_h = up.stride_w = 2;
    up.pad_h = up.pad_w = 1;
    clg_conv2d_params down = clg_conv2d_params_default();
    down.stride_h = down.stride_w = 2;
    down.pad_h = down.pad_w = 1;
    uint64_t s = g->seed;
    g->g_fc[0] = clg_linear_create(ctx, g->noise, 2 * c * 7 * 7, true, zoo_layer_seed(s, 0));
    add(g->g_params, "fc1", g->g_fc[0] ? clg_linear_params(g->g_fc[0]) : NULL);
    g->g_bn[0] = clg_batchnorm_layer_create(ctx, 2 * c, BN_MOMENTUM, BN_EPS);
    add(g->g_params, "bn1", g->g_bn[0] ? clg_batchnorm_layer_params(g->g_bn[0]) : NULL);
    g->g_deconv[0] = clg_conv_transpose2d_layer_create(ctx, 2 * c, c, 4, 4, &up, true,
                                                       zoo_layer_seed(s, 1));
    add(g->g_params, "deconv1",
        g->g_deconv[0] ? clg_conv_transpose2d_layer_params(g->g_deconv[0]) : NULL);
    g->g_bn[1] = clg_batchnorm_layer_create(ctx, c, BN_MOMENTUM, BN_EPS);
    add(g->g_params, "bn2", g->g_bn[1] ? clg_batchnorm_layer_params(g->g_bn[1]) : NULL);
    g->g_deconv[1] =
        clg_conv_transpose2d_layer_create(ctx, c, 1, 4, 4, &up, true, zoo_layer_seed(s, 2));
    add(g->g_params, "deconv2",
        g->g_deconv[1] ? clg_conv_transpose2d_layer_params(g->g_deconv[1]) : NULL);

    g->d_conv[0] = clg_conv2d_layer_create(ctx, 1, c, 4, 4, &down, true, zoo_layer_seed(s, 10));
    add(g->d_params, "conv1", g->d_conv[0] ? clg_conv2d_layer_params(g->d_conv[0]) : NULL);
    g->d_conv[1] =
        clg_conv2d_layer_create(ctx, c, 2 * c, 4, 4, &down, true, zoo_layer_seed(s, 11));
    add(g->d_params, "conv2", g->d_conv[1] ? clg_conv2d_layer_params(g->d_conv[1]) : NULL);
    g->d_fc[0] = clg_linear_create(ctx, 2 * c * 7 * 7, 1, true, zoo_layer_seed(s, 12));
    add(g->d_params, "fc1", g->d_fc[0] ? clg_linear_params(g->d_fc[0]) : NULL);
}

CLG_API clg_gan *clg_gan_create(clg_context *ctx, clg_gan_arch arch, int64_t noise, int64_t hidden,
                                uint64_t seed)
{
    static const char fn[] = "clg_gan_create";
    if (!ctx || eng_failed(ctx))
        return NULL;
    if ((arch != CLG_GAN_MLP && arch != CLG_GAN_DCGAN) || noise < 1 || hidden < 1) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: arch %d, noise %lld, hidden %lld; expected CLG_GAN_MLP or CLG_GAN_DCGAN "
                 "and positive sizes",
                 fn, (int)arch, (long long)noise, (long long)hidden);
        return NULL;
    }
    clg_gan *g = eng_calloc(ctx, fn, sizeof *g);
    if (!g)
        return NULL;
    *g = (clg_gan){.ctx = ctx, .arch = arch, .noise = noise, .hidden = hidden, .seed = seed};
    g->g_params = clg_params_create(ctx);
    g->d_params = clg_params_create(ctx);
    if (arch == CLG_GAN_MLP)
        create_mlp(g);
    else
        create_dcgan(g);
    if (eng_failed(ctx) || !g->g_params || !g->d_params) {
        clg_gan_destroy(g);
        return NULL;
    }
    return g;
}

CLG_API const clg_params *clg_gan_generator_params(const clg_gan *gan) { return gan->g_params; }
CLG_API const clg_params *clg_gan_discriminator_params(const clg_gan *gan)
{
    return gan->d_params;
}
CLG_API int64_t clg_gan_noise(const clg_gan *gan) { return gan->noise; }

/* Batch norm for the generator: the layer (batch statistics that update the
 * running ones in training, the running ones otherwise), or, with
 * `keep_running`, the batch statistics alone with the layer's scale and
 * shift, leaving the running statistics as they are. */
static clg_tensor *norm(clg_batchnorm_layer *bn, clg_tensor *x, bool training, bool keep_running)
{
    if (!keep_running)
        return clg_batchnorm_layer_forward(bn, x, training);
    const clg_params *p = clg_batchnorm_layer_params(bn);
    return clg_batch_norm(x, NULL, NULL, clg_params_find(p, "weight"), clg_params_find(p, "bias"),
                          true, BN_MOMENTUM, BN_EPS);
}

static clg_tensor *generate(clg_gan *g, clg_tensor *z, bool training, bool keep_running)
{
    if (g->arch == CLG_GAN_MLP) {
        clg_tensor *h = clg_linear_forward_act(g->g_fc[0], z, CLG_ACT_LEAKY_RELU, SLOPE);
        h = clg_linear_forward_act(g->g_fc[1], h, CLG_ACT_LEAKY_RELU, SLOPE);
        return clg_linear_forward_act(g->g_fc[2], h, CLG_ACT_TANH, 0.0f);
    }
    int64_t n = z ? clg_tensor_dim(z, 0) : 0;
    clg_tensor *h = clg_linear_forward(g->g_fc[0], z);
    h = clg_reshape(h, 4, (const int64_t[]){n, 2 * g->hidden, 7, 7});
    h = clg_relu(norm(g->g_bn[0], h, training, keep_running));
    h = clg_conv_transpose2d_layer_forward(g->g_deconv[0], h); /* (n, c, 14, 14) */
    h = clg_relu(norm(g->g_bn[1], h, training, keep_running));
    h = clg_tanh(clg_conv_transpose2d_layer_forward(g->g_deconv[1], h)); /* (n, 1, 28, 28) */
    return clg_reshape(h, 2, (const int64_t[]){n, PIXELS});
}

CLG_API clg_tensor *clg_gan_generate(clg_gan *gan, clg_tensor *z, bool training)
{
    return gan && z ? generate(gan, z, training, false) : NULL;
}

CLG_API clg_tensor *clg_gan_discriminate(clg_gan *gan, clg_tensor *x)
{
    if (!gan || !x)
        return NULL;
    clg_gan *g = gan;
    if (g->arch == CLG_GAN_MLP) {
        clg_tensor *h = clg_linear_forward_act(g->d_fc[0], x, CLG_ACT_LEAKY_RELU, SLOPE);
        h = clg_linear_forward_act(g->d_fc[1], h, CLG_ACT_LEAKY_RELU, SLOPE);
        return clg_linear_forward(g->d_fc[2], h);
    }
    int64_t n = clg_tensor_dim(x, 0);
    clg_tensor *h = clg_reshape(x, 4, (const int64_t[]){n, 1, IMAGE, IMAGE});
    /* conv + leaky ReLU fused: one pass and launch fewer each way */
    h = clg_conv2d_layer_forward_act(g->d_conv[0], h, CLG_ACT_LEAKY_RELU, SLOPE);
    h = clg_conv2d_layer_forward_act(g->d_conv[1], h, CLG_ACT_LEAKY_RELU, SLOPE);
    return clg_linear_forward(g->d_fc[0], clg_flatten(h, 1));
}

/* z (n, noise) from the host, or fresh draws from the GAN's stream. */
static clg_tensor *noise(clg_gan *g, int64_t n, const float *z)
{
    const int64_t shape[2] = {n, g->noise};
    if (z)
        return clg_tensor_from_host(g->ctx, CLG_DTYPE_F32, 2, shape, z);
    uint64_t offset = g->noise_offset;
    g->noise_offset += (uint64_t)(n * g->noise);
    return clg_randn(g->ctx, 2, shape, g->seed ^ NOISE_KEY, offset);
}

/* real (n, 784) in [0, 1] from the host, mapped to the generator's [-1, 1] */
static clg_tensor *real_images(clg_gan *g, int64_t n, const float *real)
{
    clg_tensor *x = clg_tensor_from_host(g->ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, PIXELS},
                                         real);
    return clg_affine(x, 2.0f, -1.0f);
}

static clg_tensor *bce_to(clg_tensor *logits, float target)
{
    if (!logits)
        return NULL;
    const int64_t shape[2] = {clg_tensor_dim(logits, 0), 1};
    return clg_bce_with_logits_loss(logits, clg_tensor_full(clg_tensor_context(logits), 2, shape,
                                                            target),
                                    CLG_REDUCTION_MEAN);
}

static clg_tensor *d_loss_of(clg_gan *g, clg_tensor *real, clg_tensor *fake)
{
    return clg_add(bce_to(clg_gan_discriminate(g, real), 1.0f),
                   bce_to(clg_gan_discriminate(g, fake), 0.0f));
}

static clg_tensor *g_loss_of(clg_gan *g, clg_tensor *fake, clg_gan_loss loss)
{
    clg_tensor *logits = clg_gan_discriminate(g, fake);
    return loss == CLG_GAN_MINIMAX ? clg_neg(bce_to(logits, 0.0f)) : bce_to(logits, 1.0f);
}

CLG_API clg_tensor *clg_gan_draw_noise(clg_gan *gan, int64_t n)
{
    if (!gan || eng_failed(gan->ctx))
        return NULL;
    if (n < 1) {
        eng_fail(gan->ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_gan_draw_noise: %lld rows; expected at least one", (long long)n);
        return NULL;
    }
    return noise(gan, n, NULL);
}

CLG_API clg_tensor *clg_gan_discriminator_loss(clg_gan *gan, clg_tensor *real, clg_tensor *fake)
{
    return gan && real && fake ? d_loss_of(gan, real, fake) : NULL;
}

CLG_API clg_tensor *clg_gan_generator_loss(clg_gan *gan, clg_tensor *fake, clg_gan_loss loss)
{
    if (!gan || !fake || eng_failed(gan->ctx))
        return NULL;
    if (loss != CLG_GAN_MINIMAX && loss != CLG_GAN_NONSATURATING) {
        eng_fail(gan->ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_gan_generator_loss: loss %d; expected CLG_GAN_MINIMAX or "
                 "CLG_GAN_NONSATURATING",
                 (int)loss);
        return NULL;
    }
    return g_loss_of(gan, fake, loss);
}

CLG_API clg_status clg_gan_losses(clg_gan *gan, const float *real, int64_t n, const float *z,
                                  clg_gan_loss loss, float *d_loss, float *g_loss)
{
    if (!gan)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = gan->ctx;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (n < 1 || (d_loss && !real) || (loss != CLG_GAN_MINIMAX && loss != CLG_GAN_NONSATURATING))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_gan_losses: batch %lld, real images %s, loss %d; expected a batch "
                        ">= 1, real images where d_loss is asked for, and CLG_GAN_MINIMAX or "
                        "CLG_GAN_NONSATURATING",
                        (long long)n, real ? "given" : "NULL", (int)loss);
    bool grad = clg_grad_set_enabled(ctx, false);
    clg_step_begin(ctx);
    clg_tensor *fake = generate(gan, noise(gan, n, z), true, true);
    clg_status status = CLG_STATUS_OK;
    if (d_loss)
        status = clg_tensor_item(d_loss_of(gan, real_images(gan, n, real), fake), d_loss);
    if (status == CLG_STATUS_OK && g_loss)
        status = clg_tensor_item(g_loss_of(gan, fake, loss), g_loss);
    clg_step_end(ctx);
    clg_grad_set_enabled(ctx, grad);
    return eng_failed(ctx) ? clg_context_status(ctx) : status;
}

/* A checkpoint's "model" may say "gan", but it is no clg_model: `clgrad
 * train gan --load` reads it, and clg_model_from_checkpoint says so. */
extern const zoo_kind zoo_kind_gan;
const zoo_kind zoo_kind_gan = {.name = "gan"};
