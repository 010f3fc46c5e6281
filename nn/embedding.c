/* nn/embedding.c: the embedding layer, torch.nn.Embedding: a table weight
 * (V, D) drawn from N(0, 1) as PyTorch does, looked up by clg_embedding
 * (ops/embedding.c). Parameter "weight". */
#include <stdlib.h>

#include "clgrad/nn.h"
#include "engine/engine.h"

struct clg_embedding_layer {
    clg_context *ctx;
    clg_tensor *weight;
    clg_params *params;
};

CLG_API clg_embedding_layer *clg_embedding_layer_create(clg_context *ctx, int64_t num_embeddings,
                                                        int64_t embedding_dim, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    if (num_embeddings <= 0 || embedding_dim <= 0) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_embedding_layer_create: num_embeddings %lld and embedding_dim %lld must "
                 "be positive",
                 (long long)num_embeddings, (long long)embedding_dim);
        return NULL;
    }
    clg_embedding_layer *layer = eng_calloc(ctx, "clg_embedding_layer_create", sizeof *layer);
    if (!layer)
        return NULL;
    layer->ctx = ctx;
    layer->weight =
        clg_tensor_create(ctx, CLG_DTYPE_F32, 2, (int64_t[]){num_embeddings, embedding_dim});
    layer->params = clg_params_create(ctx);
    if (!layer->weight || !layer->params ||
        clg_init_normal(layer->weight, 0.0f, 1.0f, seed) != CLG_STATUS_OK ||
        clg_params_add(layer->params, "weight", layer->weight) != CLG_STATUS_OK) {
        clg_embedding_layer_destroy(layer);
        return NULL;
    }
    return layer;
}

CLG_API void clg_embedding_layer_destroy(clg_embedding_layer *layer)
{
    if (!layer)
        return;
    clg_params_destroy(layer->params);
    clg_tensor_destroy(layer->weight);
    free(layer);
}

CLG_API clg_tensor *clg_embedding_layer_forward(clg_embedding_layer *layer, clg_tensor *ids)
{
    return clg_embedding(layer->weight, ids);
}

CLG_API clg_tensor *clg_embedding_layer_forward_host(clg_embedding_layer *layer, const int32_t *ids,
                                                     int rank, const int64_t *shape)
{
    return clg_embedding_host(layer->weight, ids, rank, shape);
}

CLG_API const clg_params *clg_embedding_layer_params(const clg_embedding_layer *layer)
{
    return layer->params;
}
