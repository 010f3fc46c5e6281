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

extern const zoo_kind zoo_kind_lenet5;

/* What LeNet-5 has beyond the linear stack fc1..fc3. */
typedef struct lenet5 {
    clg_conv2d_layer *convs[2]; /* "conv1", "conv2" */
    int n_convs;
    clg_activation activation;   /* relu, tanh or sigmoid */
    const char *activation_name; /* static: its name in ops.h's list */
    const char *pool;            /* static: "max" or "avg" */
} lenet5;

static void lenet5_destroy(void *own)
{
    lenet5 *net = own;
    for (int i = 0; i < net->n_convs; i++)
        clg_conv2d_layer_destroy(net->convs[i]);
    free(net);
}

/* x (N, 784) or (N, 1, 28, 28) -> conv1 (N, 6, 28, 28) -> pool (N, 6, 14, 14)
 * -> conv2 (N, 16, 10, 10) -> pool (N, 16, 5, 5) -> (N, 400) -> fc1 -> fc2 ->
 * fc3 (N, 10) */
static clg_tensor *lenet5_forward(const clg_model *model, clg_tensor *x)
{
    const lenet5 *net = model->own;
    if (clg_tensor_rank(x) == 2)
        x = clg_reshape(x, 4, (const int64_t[]){-1, 1, 28, 28});
    clg_pool2d_params pool = clg_pool2d_params_default(2);
    for (int i = 0; i < net->n_convs; i++) {
        x = clg_conv2d_layer_forward_act(net->convs[i], x, net->activation, 0.0f);
        x = strcmp(net->pool, "avg") == 0 ? clg_avg_pool2d(x, &pool) : clg_max_pool2d(x, &pool);
    }
    x = clg_flatten(x, 1);
    for (int i = 0; i < model->n_layers; i++) {
        bool hidden = i + 1 < model->n_layers;
        x = clg_linear_forward_act(model->layers[i], x, hidden ? net->activation : CLG_ACT_IDENTITY,
                                   0.0f);
    }
    return x;
}

static clg_model *lenet5_create(clg_context *ctx, const char *fn, const char *where,
                                const char *activation, const char *pool, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    /* decoded by its full name, then held to the three of the lecture */
    clg_activation act = CLG_ACT_RELU;
    const char *act_name = zoo_activation_from_name(activation ? activation : "relu", &act);
    bool act_ok =
        act_name && (act == CLG_ACT_RELU || act == CLG_ACT_TANH || act == CLG_ACT_SIGMOID);
    const char *pl = !pool || strcmp(pool, "max") == 0 ? "max"
                     : strcmp(pool, "avg") == 0        ? "avg"
                                                       : NULL;
    if (!act_ok || !pl) {
        eng_fail(ctx, where ? CLG_STATUS_FORMAT : CLG_STATUS_INVALID_ARGUMENT,
                 "%s: %s%s%s is \"%s\"; expected %s", fn, where ? where : "",
                 where ? ": metadata " : "", !act_ok ? "activation" : "pool",
                 !act_ok ? activation : pool,
                 !act_ok ? "\"relu\", \"tanh\" or \"sigmoid\"" : "\"max\" or \"avg\"");
        return NULL;
    }
    static const int64_t widths[] = {16 * 5 * 5, 120, 84, 10};
    clg_model *m = zoo_model_create(ctx, fn, &zoo_kind_lenet5, widths, 4, seed);
    if (!m)
        return NULL;
    m->in_features = 28 * 28;
    lenet5 *net = calloc(1, sizeof *net);
    char arch[48];
    snprintf(arch, sizeof arch, "lenet5-%s-%spool", act_name, pl);
    char *copy = strdup(arch);
    if (!net || !copy) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        free(net);
        free(copy);
        clg_model_destroy(m);
        return NULL;
    }
    net->activation = act;
    net->activation_name = act_name;
    net->pool = pl;
    m->own = net;
    free(m->arch);
    m->arch = copy;
    clg_conv2d_params padded = clg_conv2d_params_default();
    padded.pad_h = padded.pad_w = 2; /* keeps 28x28, as the 1998 net's 32x32 input did */
    const int64_t channels[] = {1, 6, 16};
    for (int i = 0; i < 2; i++) {
        /* seeds after the linear layers' 0..2 */
        net->convs[i] =
            clg_conv2d_layer_create(ctx, channels[i], channels[i + 1], 5, 5,
                                    i == 0 ? &padded : NULL, true, zoo_layer_seed(seed, 3 + i));
        net->n_convs += net->convs[i] != NULL;
        char prefix[16];
        snprintf(prefix, sizeof prefix, "conv%d.", i + 1);
        if (!net->convs[i] ||
            clg_params_extend(m->params, prefix, clg_conv2d_layer_params(net->convs[i])) !=
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

/* Fixed widths: "arch" is not read; "activation" and "pool" must be there
 * (lenet5_create checks their values, and the tensors are checked as they
 * load). */
static bool lenet5_check(clg_context *ctx, const zoo_checkpoint *ck)
{
    const char *activation = clg_safetensors_metadata(ck->st, "activation");
    const char *pool = clg_safetensors_metadata(ck->st, "pool");
    if (!activation || !pool) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: no \"%s\" in the metadata of a lenet5", ck->fn,
                 ck->path, activation ? "pool" : "activation");
        return false;
    }
    return true;
}

static clg_model *lenet5_from_metadata(clg_context *ctx, const zoo_checkpoint *ck)
{
    if (!lenet5_check(ctx, ck))
        return NULL;
    return lenet5_create(ctx, ck->fn, ck->path, clg_safetensors_metadata(ck->st, "activation"),
                         clg_safetensors_metadata(ck->st, "pool"), 0);
}

static size_t lenet5_metadata(const clg_model *model, const char **keys, const char **values)
{
    const lenet5 *net = model->own;
    keys[0] = "activation";
    values[0] = net->activation_name;
    keys[1] = "pool";
    values[1] = net->pool;
    return 2;
}

const zoo_kind zoo_kind_lenet5 = {.name = "lenet5",
                                  .forward = lenet5_forward,
                                  .check = lenet5_check,
                                  .from_metadata = lenet5_from_metadata,
                                  .metadata = lenet5_metadata,
                                  .destroy = lenet5_destroy,
                                  .takes_images = true};
