/* zoo/vae.c: the variational autoencoder of the lecture (Kingma and
 * Welling 2013) as in PyTorch's examples: an MLP encoder to (mu, logvar), the
 * reparameterisation, an MLP decoder to pixel logits, and the negative ELBO
 * = Bernoulli reconstruction + Gaussian KL, both summed over the batch.
 * Composed from ops (clg_reparameterize, clg_gaussian_kl,
 * clg_bce_with_logits_loss), so no backward is written here. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "zoo/model.h"

/* Where the reparameterisation noise comes from: a stream keyed apart from
 * the weights' seeds. */
#define NOISE_KEY 0x7661652d65707369ULL /* "vae-epsi" */

enum { FC1, FC21, FC22, FC3, FC4, LAYERS };
static const char *const layer_names[LAYERS] = {"fc1", "fc21", "fc22", "fc3", "fc4"};

struct clg_vae {
    clg_context *ctx;
    int64_t in_features, latent;
    clg_linear *layers[LAYERS];
    clg_params *params;
    uint64_t seed;
    uint64_t noise_offset; /* Philox counter of the next eps */
};

CLG_API void clg_vae_destroy(clg_vae *vae)
{
    if (!vae)
        return;
    clg_params_destroy(vae->params);
    for (int i = 0; i < LAYERS; i++)
        clg_linear_destroy(vae->layers[i]);
    free(vae);
}

CLG_API clg_vae *clg_vae_create(clg_context *ctx, int64_t in_features, int64_t hidden,
                                int64_t latent, uint64_t seed)
{
    static const char fn[] = "clg_vae_create";
    if (!ctx || eng_failed(ctx))
        return NULL;
    if (in_features < 1 || hidden < 1 || latent < 1) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: in_features %lld, hidden %lld and latent %lld must be positive", fn,
                 (long long)in_features, (long long)hidden, (long long)latent);
        return NULL;
    }
    clg_vae *vae = eng_calloc(ctx, fn, sizeof *vae);
    if (!vae)
        return NULL;
    *vae = (clg_vae){.ctx = ctx, .in_features = in_features, .latent = latent, .seed = seed};
    const int64_t sizes[LAYERS][2] = {{in_features, hidden}, {hidden, latent},
                                      {hidden, latent},      {latent, hidden},
                                      {hidden, in_features}};
    vae->params = clg_params_create(ctx);
    for (int i = 0; i < LAYERS && vae->params; i++) {
        vae->layers[i] =
            clg_linear_create(ctx, sizes[i][0], sizes[i][1], true, zoo_layer_seed(seed, i));
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%s.", layer_names[i]);
        if (!vae->layers[i] ||
            clg_params_extend(vae->params, prefix, clg_linear_params(vae->layers[i])) !=
                CLG_STATUS_OK)
            break;
    }
    if (eng_failed(ctx) || !vae->params) {
        clg_vae_destroy(vae);
        return NULL;
    }
    return vae;
}

CLG_API const clg_params *clg_vae_params(const clg_vae *vae) { return vae->params; }
CLG_API int64_t clg_vae_latent(const clg_vae *vae) { return vae->latent; }

CLG_API clg_tensor *clg_vae_encode(clg_vae *vae, clg_tensor *x, clg_tensor **logvar)
{
    clg_tensor *h = clg_linear_forward_act(vae->layers[FC1], x, CLG_ACT_RELU, 0.0f);
    if (logvar)
        *logvar = clg_linear_forward(vae->layers[FC22], h);
    return clg_linear_forward(vae->layers[FC21], h);
}

/* z (N, latent) -> pixel logits (N, in) */
static clg_tensor *decode_logits(clg_vae *vae, clg_tensor *z)
{
    clg_tensor *h = clg_linear_forward_act(vae->layers[FC3], z, CLG_ACT_RELU, 0.0f);
    return clg_linear_forward(vae->layers[FC4], h);
}

CLG_API clg_tensor *clg_vae_decode(clg_vae *vae, clg_tensor *z)
{
    return clg_sigmoid(decode_logits(vae, z));
}

CLG_API clg_tensor *clg_vae_loss(clg_vae *vae, clg_tensor *x, clg_tensor *eps,
                                 clg_tensor **reconstruction, clg_tensor **kl)
{
    static const char fn[] = "clg_vae_loss";
    if (!vae || !x || eng_failed(vae->ctx))
        return NULL;
    clg_context *ctx = vae->ctx;
    char s[64];
    if (clg_tensor_rank(x) != 2 || clg_tensor_dim(x, 1) != vae->in_features) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: x has shape %s; the VAE takes (N, %lld)", fn,
                 clg_tensor_shape_str(x, s, sizeof s), (long long)vae->in_features);
        return NULL;
    }
    int64_t shape[2] = {clg_tensor_dim(x, 0), vae->latent};
    if (eps && (clg_tensor_rank(eps) != 2 || clg_tensor_dim(eps, 0) != shape[0] ||
                clg_tensor_dim(eps, 1) != shape[1])) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: eps has shape %s; x needs (%lld, %lld)", fn,
                 clg_tensor_shape_str(eps, s, sizeof s), (long long)shape[0],
                 (long long)shape[1]);
        return NULL;
    }
    if (!eps) {
        eps = clg_randn(ctx, 2, shape, vae->seed ^ NOISE_KEY, vae->noise_offset);
        vae->noise_offset += (uint64_t)(shape[0] * shape[1]);
    }
    clg_tensor *logvar = NULL;
    clg_tensor *mu = clg_vae_encode(vae, x, &logvar);
    clg_tensor *z = clg_reparameterize(mu, logvar, eps);
    clg_tensor *rec = clg_bce_with_logits_loss(decode_logits(vae, z), x, CLG_REDUCTION_SUM);
    clg_tensor *divergence = clg_gaussian_kl(mu, logvar, CLG_REDUCTION_SUM);
    if (reconstruction)
        *reconstruction = rec;
    if (kl)
        *kl = divergence;
    return clg_add(rec, divergence);
}

/* A checkpoint's "model" may say "vae", but it is no clg_model: `clgrad
 * train vae --load` reads it, and clg_model_from_checkpoint says so. */
extern const zoo_kind zoo_kind_vae;
const zoo_kind zoo_kind_vae = {.name = "vae"};
