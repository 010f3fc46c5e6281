/* nn/batchnorm.c: the batch normalisation layer, torch.nn.BatchNorm1d/2d:
 * clg_batch_norm with its own scale and shift (parameters, 1 and 0 at
 * creation) and running statistics (buffers: saved in checkpoints, never
 * trained; mean 0 and variance 1 at creation). Training updates the running
 * statistics in place; evaluation normalises with them. No backward code:
 * the op's rule gives the gradients. */
#include <math.h>
#include <stdlib.h>

#include "clgrad/nn.h"
#include "engine/engine.h"

struct clg_batchnorm_layer {
    clg_context *ctx;
    int64_t features;
    float momentum, eps;
    clg_tensor *weight, *bias;              /* (features), parameters */
    clg_tensor *running_mean, *running_var; /* (features), buffers */
    clg_params *params;
};

static clg_tensor *filled(clg_context *ctx, int64_t features, float value)
{
    clg_tensor *t = clg_tensor_create(ctx, CLG_DTYPE_F32, 1, (int64_t[]){features});
    if (t && value != 0.0f && clg_tensor_fill(t, value) != CLG_STATUS_OK) {
        clg_tensor_destroy(t);
        return NULL;
    }
    return t;
}

CLG_API clg_batchnorm_layer *clg_batchnorm_layer_create(clg_context *ctx, int64_t features,
                                                        float momentum, float eps)
{
    static const char name[] = "clg_batchnorm_layer_create";
    if (eng_failed(ctx))
        return NULL;
    if (features <= 0) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: features %lld must be positive", name,
                 (long long)features);
        return NULL;
    }
    if (!(momentum >= 0.0f && momentum <= 1.0f) || !(eps > 0.0f) || isinf(eps)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: momentum %g must be in [0, 1] and eps %g positive and finite", name,
                 (double)momentum, (double)eps);
        return NULL;
    }
    clg_batchnorm_layer *layer = eng_calloc(ctx, name, sizeof *layer);
    if (!layer)
        return NULL;
    layer->ctx = ctx;
    layer->features = features;
    layer->momentum = momentum;
    layer->eps = eps;
    layer->weight = filled(ctx, features, 1.0f);
    layer->bias = filled(ctx, features, 0.0f);
    layer->running_mean = filled(ctx, features, 0.0f);
    layer->running_var = filled(ctx, features, 1.0f);
    layer->params = clg_params_create(ctx);
    if (!layer->weight || !layer->bias || !layer->running_mean || !layer->running_var ||
        !layer->params || clg_params_add(layer->params, "weight", layer->weight) != CLG_STATUS_OK ||
        clg_params_add(layer->params, "bias", layer->bias) != CLG_STATUS_OK ||
        clg_params_add_buffer(layer->params, "running_mean", layer->running_mean) !=
            CLG_STATUS_OK ||
        clg_params_add_buffer(layer->params, "running_var", layer->running_var) != CLG_STATUS_OK) {
        clg_batchnorm_layer_destroy(layer);
        return NULL;
    }
    return layer;
}

CLG_API void clg_batchnorm_layer_destroy(clg_batchnorm_layer *layer)
{
    if (!layer)
        return;
    clg_params_destroy(layer->params);
    clg_tensor_destroy(layer->weight);
    clg_tensor_destroy(layer->bias);
    clg_tensor_destroy(layer->running_mean);
    clg_tensor_destroy(layer->running_var);
    free(layer);
}

CLG_API clg_tensor *clg_batchnorm_layer_forward(clg_batchnorm_layer *layer, clg_tensor *x,
                                                bool training)
{
    if (!x || eng_failed(layer->ctx))
        return NULL;
    if ((x->rank != 2 && x->rank != 4) || x->shape[1] != layer->features) {
        char s[64];
        eng_fail(layer->ctx, CLG_STATUS_SHAPE,
                 "clg_batchnorm_layer_forward: input %s is not (N, %lld) or (N, %lld, H, W) for "
                 "a layer of %lld features",
                 eng_shape_str(x, s, sizeof s), (long long)layer->features,
                 (long long)layer->features, (long long)layer->features);
        return NULL;
    }
    return clg_batch_norm(x, layer->running_mean, layer->running_var, layer->weight, layer->bias,
                          training, layer->momentum, layer->eps);
}

CLG_API const clg_params *clg_batchnorm_layer_params(const clg_batchnorm_layer *layer)
{
    return layer->params;
}
