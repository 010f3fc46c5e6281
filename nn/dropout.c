/* nn/dropout.c: the dropout layer, torch.nn.Dropout: clg_dropout with the
 * layer's seed and a counter that advances by the number of elements on
 * every training call, so successive steps draw fresh masks from disjoint
 * stretches of one Philox stream and a run replays exactly from its seed.
 * No parameters, no backward code of its own. */
#include <stdlib.h>

#include "clgrad/nn.h"
#include "engine/engine.h"

struct clg_dropout_layer {
    clg_context *ctx;
    float p;
    uint64_t seed;
    uint64_t counter; /* the stream index the next training call starts at */
};

CLG_API clg_dropout_layer *clg_dropout_layer_create(clg_context *ctx, float p, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    if (!(p >= 0.0f && p <= 1.0f)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_dropout_layer_create: p must be a probability in [0, 1], not %g", (double)p);
        return NULL;
    }
    clg_dropout_layer *layer = eng_calloc(ctx, "clg_dropout_layer_create", sizeof *layer);
    if (!layer)
        return NULL;
    *layer = (clg_dropout_layer){ctx, p, seed, 0};
    return layer;
}

CLG_API void clg_dropout_layer_destroy(clg_dropout_layer *layer)
{
    free(layer);
}

CLG_API clg_tensor *clg_dropout_layer_forward(clg_dropout_layer *layer, clg_tensor *x,
                                              bool training)
{
    clg_tensor *out = clg_dropout(x, layer->p, training, layer->seed, layer->counter);
    if (out && training)
        layer->counter += (uint64_t)clg_tensor_numel(x);
    return out;
}
