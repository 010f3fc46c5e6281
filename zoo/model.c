/* zoo/model.c: the clg_model object every zoo model shares: its stack of
 * linear layers and their named parameters, the architecture string, and
 * saving to / rebuilding from a checkpoint whose metadata records "model"
 * (the kind) and "arch" (the layer widths; LeNet-5 adds "activation" and
 * "pool"). The layers of each model, and what goes between them, live in the
 * model's own file (mlp.c, logreg.c, lenet5.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "zoo/model.h"

/* Layers of one model get distinct seeds (splitmix64 of the model's seed and
 * the layer index), so two layers of the same shape do not start equal. */
uint64_t zoo_layer_seed(uint64_t seed, int layer)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(layer + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* "784-256-128-10", malloc'ed. */
static char *arch_string(const int64_t *widths, int n_widths)
{
    size_t capacity = (size_t)n_widths * 21 + 1; /* 20 digits and a dash each */
    char *arch = malloc(capacity);
    if (!arch)
        return NULL;
    size_t used = 0;
    for (int i = 0; i < n_widths; i++)
        used +=
            (size_t)snprintf(arch + used, capacity - used, "%s%" PRId64, i ? "-" : "", widths[i]);
    return arch;
}

clg_model *zoo_model_create(clg_context *ctx, const char *fn, const char *kind,
                            const int64_t *widths, int n_widths, uint64_t seed,
                            zoo_forward_fn forward)
{
    if (eng_failed(ctx))
        return NULL;
    for (int i = 0; i < n_widths; i++)
        if (widths[i] <= 0) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "%s: layer width %d is %" PRId64 "; widths must be positive", fn, i,
                     widths[i]);
            return NULL;
        }
    clg_model *m = calloc(1, sizeof *m);
    if (!m) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        return NULL;
    }
    m->ctx = ctx;
    m->kind = kind;
    m->forward = forward;
    m->n_layers = n_widths - 1;
    m->in_features = widths[0];
    m->arch = arch_string(widths, n_widths);
    m->widths = malloc((size_t)n_widths * sizeof *m->widths);
    m->layers = calloc((size_t)m->n_layers, sizeof *m->layers);
    m->params = clg_params_create(ctx);
    if (!m->arch || !m->widths || !m->layers || !m->params) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        clg_model_destroy(m);
        return NULL;
    }
    memcpy(m->widths, widths, (size_t)n_widths * sizeof *widths);
    for (int i = 0; i < m->n_layers; i++) {
        m->layers[i] =
            clg_linear_create(ctx, widths[i], widths[i + 1], true, zoo_layer_seed(seed, i));
        char prefix[32];
        snprintf(prefix, sizeof prefix, "fc%d.", i + 1);
        if (!m->layers[i] || clg_params_extend(m->params, prefix,
                                               clg_linear_params(m->layers[i])) != CLG_STATUS_OK) {
            clg_model_destroy(m);
            return NULL;
        }
    }
    return m;
}

CLG_API void clg_model_destroy(clg_model *model)
{
    if (!model)
        return;
    for (int i = 0; model->layers && i < model->n_layers; i++)
        clg_linear_destroy(model->layers[i]);
    for (int i = 0; i < model->n_convs; i++)
        clg_conv2d_layer_destroy(model->convs[i]);
    clg_recurrent_layer_destroy(model->recurrent);
    clg_params_destroy(model->params);
    free(model->layers);
    free(model->widths);
    free(model->arch);
    free(model);
}

CLG_API clg_tensor *clg_model_forward(clg_model *model, clg_tensor *x)
{
    if (!model || !x)
        return NULL;
    if (eng_failed(model->ctx))
        return NULL;
    /* a convolutional model also takes its images as (N, 1, 28, 28) */
    bool images = model->n_convs > 0 && clg_tensor_rank(x) == 4 && clg_tensor_dim(x, 1) == 1 &&
                  clg_tensor_dim(x, 2) * clg_tensor_dim(x, 3) == clg_model_in_features(model) &&
                  clg_tensor_dim(x, 2) == 28;
    if (!images &&
        (clg_tensor_rank(x) != 2 || clg_tensor_dim(x, 1) != clg_model_in_features(model))) {
        char shape[64];
        eng_fail(model->ctx, CLG_STATUS_SHAPE,
                 "clg_model_forward: input of shape %s, but the %s %s takes (N, %" PRId64 ")%s",
                 clg_tensor_shape_str(x, shape, sizeof shape), model->kind, model->arch,
                 clg_model_in_features(model), model->n_convs > 0 ? " or (N, 1, 28, 28)" : "");
        return NULL;
    }
    return model->forward(model, x);
}

CLG_API const clg_params *clg_model_params(const clg_model *model)
{
    return model->params;
}
CLG_API const char *clg_model_kind(const clg_model *model)
{
    return model->kind;
}
CLG_API const char *clg_model_arch(const clg_model *model)
{
    return model->arch;
}
CLG_API int64_t clg_model_in_features(const clg_model *model)
{
    return model->in_features;
}

CLG_API int64_t clg_model_out_features(const clg_model *model)
{
    return model->widths[model->n_layers];
}

CLG_API size_t clg_model_metadata(const clg_model *model, const char **keys, const char **values)
{
    static const char *const names[CLG_MODEL_METADATA_MAX] = {"model", "arch", "activation",
                                                              "pool"};
    const char *const own[CLG_MODEL_METADATA_MAX] = {model->kind, model->arch, model->activation,
                                                     model->pool};
    size_t n = model->activation ? 4 : 2;
    for (size_t i = 0; i < n; i++) {
        keys[i] = names[i];
        values[i] = own[i];
    }
    return n;
}

CLG_API clg_status clg_model_save(clg_model *model, const char *path)
{
    const char *keys[CLG_MODEL_METADATA_MAX], *values[CLG_MODEL_METADATA_MAX];
    size_t n = clg_model_metadata(model, keys, values);
    return clg_checkpoint_save(model->ctx, model->params, path, keys, values, n);
}

/* "784-256-128-10" into widths (malloc'ed); false unless it is two or more
 * positive decimal integers joined by dashes. */
static bool parse_arch(const char *arch, int64_t **widths, int *n_widths)
{
    int count = 1;
    for (const char *c = arch; *c; c++)
        count += *c == '-';
    int64_t *w = malloc((size_t)count * sizeof *w);
    bool ok = w != NULL && count >= 2;
    const char *c = arch;
    for (int i = 0; ok && i < count; i++) {
        char *end = NULL;
        errno = 0;
        /* strtoll alone would accept leading signs and spaces */
        ok = *c >= '0' && *c <= '9';
        long long v = ok ? strtoll(c, &end, 10) : 0;
        ok = ok && errno == 0 && v > 0 && *end == (i == count - 1 ? '\0' : '-');
        w[i] = v;
        c = ok ? end + 1 : c;
    }
    if (!ok) {
        free(w);
        return false;
    }
    *widths = w;
    *n_widths = count;
    return true;
}

CLG_API clg_model *clg_model_from_checkpoint(clg_context *ctx, const char *path)
{
    static const char fn[] = "clg_model_from_checkpoint";
    clg_safetensors *st = clg_safetensors_read(ctx, path);
    if (!st)
        return NULL;
    const char *kind = clg_safetensors_metadata(st, "model");
    const char *arch = clg_safetensors_metadata(st, "arch");
    int64_t *widths = NULL;
    int n = 0;
    bool recurrent = kind && (strcmp(kind, "rnn") == 0 || strcmp(kind, "lstm") == 0);
    if (kind && (strcmp(kind, "lenet5") == 0 || recurrent)) {
        clg_model *model =
            recurrent ? zoo_recurrent_from_metadata(ctx, fn, path, kind, arch)
                      : zoo_lenet5_from_metadata(ctx, fn, path,
                                                 clg_safetensors_metadata(st, "activation"),
                                                 clg_safetensors_metadata(st, "pool"));
        clg_safetensors_destroy(st);
        if (model && clg_checkpoint_load(ctx, model->params, path) != CLG_STATUS_OK) {
            clg_model_destroy(model);
            return NULL;
        }
        return model;
    }
    if (kind && strcmp(kind, "autoencoder") == 0) {
        clg_model *model = zoo_autoencoder_from_metadata(ctx, fn, path, arch);
        clg_safetensors_destroy(st);
        if (model && clg_checkpoint_load(ctx, model->params, path) != CLG_STATUS_OK) {
            clg_model_destroy(model);
            return NULL;
        }
        return model;
    }
    if (!kind)
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: no \"model\" in the metadata; not a checkpoint written by "
                 "clg_model_save",
                 fn, path);
    else if (strcmp(kind, "mlp") != 0 && strcmp(kind, "logreg") != 0)
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"model\" is \"%s\"; expected \"mlp\", \"logreg\" or "
                 "\"lenet5\"",
                 fn, path, kind);
    else if (!arch)
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: no \"arch\" in the metadata", fn, path);
    else if (!parse_arch(arch, &widths, &n))
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"arch\" is \"%s\"; expected positive layer widths joined "
                 "by dashes, such as \"784-256-128-10\"",
                 fn, path, arch);
    else if (strcmp(kind, "logreg") == 0 && n != 2)
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"arch\" is \"%s\"; a logreg has two widths, "
                 "\"inputs-classes\"",
                 fn, path, arch);
    clg_model *model = NULL;
    if (!eng_failed(ctx))
        model = strcmp(kind, "mlp") == 0
                    ? clg_zoo_mlp_create(ctx, widths[0], widths + 1, n - 2, widths[n - 1], 0)
                    : clg_zoo_logreg_create(ctx, widths[0], widths[1], 0);
    free(widths);
    clg_safetensors_destroy(st);
    if (model && clg_checkpoint_load(ctx, model->params, path) != CLG_STATUS_OK) {
        clg_model_destroy(model);
        return NULL;
    }
    return model;
}
