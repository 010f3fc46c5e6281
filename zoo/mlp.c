/* zoo/mlp.c: the multilayer perceptron of the lecture: linear layers fc1,
 * fc2, ... with a ReLU after every one but the last, which gives the class
 * logits (the softmax lives in clg_cross_entropy_loss). */
#include <stdlib.h>

#include "engine/engine.h"
#include "zoo/model.h"

extern const zoo_kind zoo_kind_mlp;

/* x (N, in) -> fc1 -> ReLU -> ... -> fcL -> logits (N, out) */
static clg_tensor *mlp_forward(const clg_model *model, clg_tensor *x)
{
    for (int i = 0; i < model->n_layers; i++) {
        bool hidden = i + 1 < model->n_layers;
        x = clg_linear_forward_act(model->layers[i], x, hidden ? CLG_ACT_RELU : CLG_ACT_IDENTITY,
                                   0.0f); /* (N, widths[i + 1]) */
    }
    return x;
}

CLG_API clg_model *clg_zoo_mlp_create(clg_context *ctx, int64_t in_features, const int64_t *hidden,
                                      int n_hidden, int64_t out_features, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    if (n_hidden < 0 || (n_hidden > 0 && !hidden)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_zoo_mlp_create: n_hidden is %d and hidden is %s; expected n_hidden >= 0 "
                 "widths in hidden",
                 n_hidden, hidden ? "given" : "NULL");
        return NULL;
    }
    /* widths: in, hidden[0], ..., hidden[n_hidden - 1], out */
    int64_t *widths = malloc(((size_t)n_hidden + 2) * sizeof *widths);
    if (!widths) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "clg_zoo_mlp_create: out of host memory");
        return NULL;
    }
    widths[0] = in_features;
    for (int i = 0; i < n_hidden; i++)
        widths[i + 1] = hidden[i];
    widths[n_hidden + 1] = out_features;
    clg_model *model =
        zoo_model_create(ctx, "clg_zoo_mlp_create", &zoo_kind_mlp, widths, n_hidden + 2, seed);
    free(widths);
    return model;
}

/* From a checkpoint's "arch", the widths in - hidden... - out. */
static clg_model *mlp_from_widths(clg_context *ctx, const int64_t *widths, int n)
{
    return clg_zoo_mlp_create(ctx, widths[0], widths + 1, n - 2, widths[n - 1], 0);
}

const zoo_kind zoo_kind_mlp = {.name = "mlp",
                               .forward = mlp_forward,
                               .check = zoo_stack_check,
                               .from_metadata = zoo_stack_from_metadata,
                               .from_widths = mlp_from_widths};
