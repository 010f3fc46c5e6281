/* zoo/lenet5.c: LeNet-5 for 28x28 Fashion-MNIST images: two 5x5
 * convolutions, each followed by the activation and a 2x2 pooling, then the
 * three linear layers of the shared model (400 -> 120 -> 84 -> 10). Max
 * pooling and ReLU by default (they train faster); average pooling and
 * tanh/sigmoid give the 1998 network as the lecture shows it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "zoo/model.h"

static const char *const activations[] = {"relu", "tanh", "sigmoid"};
static const char *const pools[] = {"max", "avg"};

static clg_activation activation_of(const clg_model *model)
{
    switch (model->activation[0]) {
    case 't': return CLG_ACT_TANH;
    case 's': return CLG_ACT_SIGMOID;
    default: return CLG_ACT_RELU;
    }
}

/* x (N, 784) or (N, 1, 28, 28) -> conv1 (N, 6, 28, 28) -> pool (N, 6, 14, 14)
 * -> conv2 (N, 16, 10, 10) -> pool (N, 16, 5, 5) -> (N, 400) -> fc1 -> fc2 ->
 * fc3 (N, 10) */
static clg_tensor *lenet5_forward(const clg_model *model, clg_tensor *x)
{
    if (clg_tensor_rank(x) == 2)
        x = clg_reshape(x, 4, (const int64_t[]){-1, 1, 28, 28});
    clg_pool2d_params pool = clg_pool2d_params_default(2);
    for (int i = 0; i < model->n_convs; i++) {
        x = clg_conv2d_layer_forward_act(model->convs[i], x, activation_of(model), 0.0f);
        x = model->pool[0] == 'a' ? clg_avg_pool2d(x, &pool) : clg_max_pool2d(x, &pool);
    }
    x = clg_flatten(x, 1);
    for (int i = 0; i < model->n_layers; i++) {
        bool hidden = i + 1 < model->n_layers;
        x = clg_linear_forward_act(model->layers[i], x,
                                   hidden ? activation_of(model) : CLG_ACT_IDENTITY, 0.0f);
    }
    return x;
}

/* The static string of `table` equal to `name`, NULL if none. */
static const char *lookup(const char *const *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i], name) == 0)
            return table[i];
    return NULL;
}

static clg_model *lenet5_create(clg_context *ctx, const char *fn, const char *where,
                                const char *activation, const char *pool, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    const char *act = lookup(activations, 3, activation ? activation : "relu");
    const char *pl = lookup(pools, 2, pool ? pool : "max");
    if (!act || !pl) {
        bool bad_act = !act;
        eng_fail(ctx, where ? CLG_STATUS_FORMAT : CLG_STATUS_INVALID_ARGUMENT,
                 "%s: %s%s%s is \"%s\"; expected %s", fn, where ? where : "",
                 where ? ": metadata " : "", bad_act ? "activation" : "pool",
                 bad_act ? activation : pool,
                 bad_act ? "\"relu\", \"tanh\" or \"sigmoid\"" : "\"max\" or \"avg\"");
        return NULL;
    }
    static const int64_t widths[] = {16 * 5 * 5, 120, 84, 10};
    clg_model *m = zoo_model_create(ctx, fn, "lenet5", widths, 4, seed, lenet5_forward);
    if (!m)
        return NULL;
    m->in_features = 28 * 28;
    m->activation = act;
    m->pool = pl;
    char arch[32];
    snprintf(arch, sizeof arch, "lenet5-%s-%spool", act, pl);
    char *copy = strdup(arch);
    if (!copy) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        clg_model_destroy(m);
        return NULL;
    }
    free(m->arch);
    m->arch = copy;
    clg_conv2d_params padded = clg_conv2d_params_default();
    padded.pad_h = padded.pad_w = 2; /* keeps 28x28, as the 1998 net's 32x32 input did */
    const int64_t channels[] = {1, 6, 16};
    for (int i = 0; i < 2; i++) {
        /* seeds after the linear layers' 0..2 */
        m->convs[i] =
            clg_conv2d_layer_create(ctx, channels[i], channels[i + 1], 5, 5,
                                    i == 0 ? &padded : NULL, true, zoo_layer_seed(seed, 3 + i));
        m->n_convs += m->convs[i] != NULL;
        char prefix[16];
        snprintf(prefix, sizeof prefix, "conv%d.", i + 1);
        if (!m->convs[i] ||
            clg_params_extend(m->params, prefix, clg_conv2d_layer_params(m->convs[i])) !=
                CLG_STATUS_OK) {
            clg_model_destroy(m);
            return NULL;
        }
    }
    return m;
}

CLG_API clg_model *clg_zoo_lenet5_create(clg_context *ctx, const char *activation, const char *pool,
                                         uint64_t seed)
{
    return lenet5_create(ctx, "clg_zoo_lenet5_create", NULL, activation, pool, seed);
}

clg_model *zoo_lenet5_from_metadata(clg_context *ctx, const char *fn, const char *path,
                                    const char *activation, const char *pool)
{
    if (!activation || !pool) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: no \"%s\" in the metadata of a lenet5", fn, path,
                 activation ? "pool" : "activation");
        return NULL;
    }
    return lenet5_create(ctx, fn, path, activation, pool, 0);
}
