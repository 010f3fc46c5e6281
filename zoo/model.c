/* zoo/model.c: the clg_model object every zoo model shares: its stack of
 * linear layers and their named parameters, the architecture string, and
 * saving to / rebuilding from a checkpoint whose metadata records "model"
 * (the kind) and "arch" (the layer widths), plus what the kind adds. Which
 * kinds exist, what runs between their layers and how each reads its
 * metadata live in the models' own files (mlp.c, lenet5.c, ...), each
 * registered once in zoo/kinds.c: nothing here names a model. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/safetensors.h"
#include "engine/engine.h"
#include "engine/random.h"
#include "zoo/model.h"

/* Layers of one model get distinct seeds (splitmix64 of the model's seed and
 * the layer index), so two layers of the same shape do not start equal. */
uint64_t zoo_layer_seed(uint64_t seed, int layer)
{
    /* One step from seed + layer * golden: the mix of seed + (layer + 1) * golden. */
    uint64_t state = seed + 0x9e3779b97f4a7c15ULL * (uint64_t)layer;
    return eng_splitmix64(&state);
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

clg_model *zoo_model_create(clg_context *ctx, const char *fn, const zoo_kind *kind,
                            const int64_t *widths, int n_widths, uint64_t seed)
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
    if (model->own)
        model->kind->destroy(model->own);
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
    /* an image model also takes its images as (N, 1, 28, 28) */
    bool images = model->kind->takes_images && clg_tensor_rank(x) == 4 &&
                  clg_tensor_dim(x, 1) == 1 &&
                  clg_tensor_dim(x, 2) * clg_tensor_dim(x, 3) == clg_model_in_features(model) &&
                  clg_tensor_dim(x, 2) == 28;
    if (!images &&
        (clg_tensor_rank(x) != 2 || clg_tensor_dim(x, 1) != clg_model_in_features(model))) {
        char shape[64];
        eng_fail(model->ctx, CLG_STATUS_SHAPE,
                 "clg_model_forward: input of shape %s, but the %s %s takes (N, %" PRId64 ")%s",
                 clg_tensor_shape_str(x, shape, sizeof shape), model->kind->name, model->arch,
                 clg_model_in_features(model),
                 model->kind->takes_images ? " or (N, 1, 28, 28)" : "");
        return NULL;
    }
    return model->kind->forward(model, x);
}

CLG_API const clg_params *clg_model_params(const clg_model *model)
{
    return model->params;
}
CLG_API const char *clg_model_kind(const clg_model *model)
{
    return model->kind->name;
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
    keys[0] = "model";
    values[0] = model->kind->name;
    keys[1] = "arch";
    values[1] = model->arch;
    return 2 + (model->kind->metadata ? model->kind->metadata(model, keys + 2, values + 2) : 0);
}

CLG_API clg_status clg_model_save(clg_model *model, const char *path)
{
    const char *keys[CLG_MODEL_METADATA_MAX], *values[CLG_MODEL_METADATA_MAX];
    size_t n = clg_model_metadata(model, keys, values);
    return clg_checkpoint_save(model->ctx, model->params, path, keys, values, n);
}

const char *zoo_activation_from_name(const char *name, clg_activation *act)
{
#define FROM_NAME_(NAME, name_, value)                                                             \
    if (strcmp(name, #name_) == 0) {                                                               \
        *act = CLG_ACT_##NAME;                                                                     \
        return #name_;                                                                             \
    }
    CLG_ACTIVATIONS(FROM_NAME_)
#undef FROM_NAME_
    return NULL;
}

bool zoo_parse_width(const char **c, int64_t *out)
{
    int64_t v = 0;
    const char *p = *c;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = 10 * v + (*p - '0');
        if (v > INT32_MAX)
            return false;
    }
    *c = p;
    *out = v;
    return v > 0;
}

#define MAX_WIDTHS 35 /* the autoencoder's 2 * 16 hidden + in, code, out */

/* The checkpoint's "arch" as widths its kind accepts, into widths[MAX_WIDTHS]. */
static bool stack_widths(clg_context *ctx, const zoo_checkpoint *ck, int64_t *widths, int *n_widths)
{
    const char *arch = clg_safetensors_metadata(ck->st, "arch");
    if (!arch) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: no \"arch\" in the metadata", ck->fn, ck->path);
        return false;
    }
    int n = 0;
    for (const char *c = arch;;) {
        if (n == MAX_WIDTHS || !zoo_parse_width(&c, &widths[n])) {
            n = 0;
            break;
        }
        n++;
        if (*c == '\0')
            break;
        if (*c++ != '-') {
            n = 0;
            break;
        }
    }
    if (n < 2) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"arch\" is \"%s\"; expected 2 to %d layer widths (1 to "
                 "2^31 - 1) joined by dashes, such as \"784-256-128-10\"",
                 ck->fn, ck->path, arch, MAX_WIDTHS);
        return false;
    }
    if (ck->kind->widths_fit && !ck->kind->widths_fit(widths, n)) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: metadata \"arch\" is \"%s\"; %s", ck->fn,
                 ck->path, arch, ck->kind->widths_rule);
        return false;
    }
    *n_widths = n;
    return true;
}

static void dims_str(int rank, const int64_t *shape, char *buf, size_t size)
{
    clg_tensor fake = {.rank = rank};
    memcpy(fake.shape, shape, (size_t)rank * sizeof *shape);
    eng_shape_str(&fake, buf, size);
}

bool zoo_expect_tensor(clg_context *ctx, const zoo_checkpoint *ck, const char *name, int rank,
                       const int64_t *shape)
{
    const char *arch = clg_safetensors_metadata(ck->st, "arch");
    clg_dtype dtype = CLG_DTYPE_F32;
    int file_rank = 0;
    const int64_t *file_shape = NULL;
    char want[96], got[96];
    dims_str(rank, shape, want, sizeof want);
    if (!clg_safetensors_get(ck->st, name, &dtype, &file_rank, &file_shape, NULL)) {
        char names[400];
        data_safetensors_names(ck->st, names, sizeof names);
        eng_fail(ctx, CLG_STATUS_MISMATCH,
                 "%s: %s: metadata \"arch\" \"%s\" implies a tensor \"%s\" of shape %s, which "
                 "the checkpoint lacks; %s",
                 ck->fn, ck->path, arch, name, want, names);
        return false;
    }
    bool same = dtype == CLG_DTYPE_F32 && file_rank == rank;
    for (int d = 0; same && d < rank; d++)
        same = file_shape[d] == shape[d];
    if (!same) {
        dims_str(file_rank, file_shape, got, sizeof got);
        eng_fail(ctx, CLG_STATUS_MISMATCH,
                 "%s: %s: tensor \"%s\" is %s %s in the checkpoint, but metadata \"arch\" \"%s\" "
                 "makes it %s F32",
                 ck->fn, ck->path, name, got, dtype == CLG_DTYPE_F32 ? "F32" : "I32", arch, want);
        return false;
    }
    return true;
}

bool zoo_expect_linear_stack(clg_context *ctx, const zoo_checkpoint *ck, const int64_t *widths,
                             int n_widths, int first)
{
    for (int i = 0; i + 1 < n_widths; i++) {
        char name[48];
        snprintf(name, sizeof name, "fc%d.weight", first + i);
        if (!zoo_expect_tensor(ctx, ck, name, 2, (int64_t[]){widths[i + 1], widths[i]}))
            return false;
        snprintf(name, sizeof name, "fc%d.bias", first + i);
        if (!zoo_expect_tensor(ctx, ck, name, 1, (int64_t[]){widths[i + 1]}))
            return false;
    }
    return true;
}

bool zoo_stack_check(clg_context *ctx, const zoo_checkpoint *ck)
{
    int64_t widths[MAX_WIDTHS];
    int n = 0;
    return stack_widths(ctx, ck, widths, &n) && zoo_expect_linear_stack(ctx, ck, widths, n, 1);
}

clg_model *zoo_stack_from_metadata(clg_context *ctx, const zoo_checkpoint *ck)
{
    int64_t widths[MAX_WIDTHS];
    int n = 0;
    return stack_widths(ctx, ck, widths, &n) ? ck->kind->from_widths(ctx, widths, n) : NULL;
}

static const zoo_kind *find_kind(const char *name)
{
    for (size_t i = 0; i < zoo_kind_count; i++)
        if (strcmp(zoo_kinds[i]->name, name) == 0)
            return zoo_kinds[i];
    return NULL;
}

/* "\"mlp\", \"logreg\", ... or \"autoencoder\"": the kinds
 * clg_model_from_checkpoint rebuilds. */
static void kind_list(char *buffer, size_t capacity)
{
    size_t n = 0, used = 0;
    for (size_t i = 0; i < zoo_kind_count; i++)
        n += zoo_kinds[i]->check != NULL;
    buffer[0] = '\0';
    for (size_t i = 0, k = 0; i < zoo_kind_count && used < capacity; i++) {
        if (!zoo_kinds[i]->check)
            continue;
        k++;
        used += (size_t)snprintf(buffer + used, capacity - used, "%s\"%s\"",
                                 k == 1   ? ""
                                 : k == n ? " or "
                                          : ", ",
                                 zoo_kinds[i]->name);
    }
}

/* The kind the checkpoint names, if its reader accepts the metadata; sets
 * ck->kind. */
static const zoo_kind *checked_kind(clg_context *ctx, zoo_checkpoint *ck)
{
    if (eng_failed(ctx))
        return NULL;
    const char *kind = clg_safetensors_metadata(ck->st, "model");
    if (!kind) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: no \"model\" in the metadata; not a checkpoint written by "
                 "clg_model_save (a file saved from PyTorch needs \"model\" and \"arch\", and "
                 "the keys its kind adds: see clgrad/zoo.h)",
                 ck->fn, ck->path);
        return NULL;
    }
    const zoo_kind *known = find_kind(kind);
    char kinds[256];
    kind_list(kinds, sizeof kinds);
    if (!known) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: metadata \"model\" is \"%s\"; expected %s",
                 ck->fn, ck->path, kind, kinds);
        return NULL;
    }
    if (!known->check) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"model\" is \"%s\": that model is not a clg_model (clgrad "
                 "train %s --load reads it); this function rebuilds %s",
                 ck->fn, ck->path, kind, kind, kinds);
        return NULL;
    }
    ck->kind = known;
    return known->check(ctx, ck) ? known : NULL;
}

bool zoo_checkpoint_check(clg_context *ctx, const char *path, const clg_safetensors *st)
{
    zoo_checkpoint ck = {.fn = "clg_model_from_checkpoint", .path = path, .st = st};
    return checked_kind(ctx, &ck) != NULL;
}

CLG_API clg_model *clg_model_from_checkpoint(clg_context *ctx, const char *path)
{
    clg_safetensors *st = clg_safetensors_read(ctx, path);
    if (!st)
        return NULL;
    zoo_checkpoint ck = {.fn = "clg_model_from_checkpoint", .path = path, .st = st};
    const zoo_kind *kind = checked_kind(ctx, &ck);
    clg_model *model = kind ? kind->from_metadata(ctx, &ck) : NULL;
    if (model && data_checkpoint_load_from(ctx, model->params, path, st) != CLG_STATUS_OK) {
        clg_model_destroy(model);
        model = NULL;
    }
    for (size_t i = 0; model && i < clg_params_count(model->params); i++) {
        const char *name = clg_params_name(model->params, i);
        int64_t bad = clg_safetensors_nonfinite(st, name);
        if (bad && !model->nonfinite)
            snprintf(model->nonfinite_tensor, sizeof model->nonfinite_tensor, "%s", name);
        model->nonfinite += bad;
    }
    clg_safetensors_destroy(st);
    return model;
}

CLG_API int64_t clg_model_nonfinite(const clg_model *model, const char **tensor)
{
    if (tensor)
        *tensor = model->nonfinite ? model->nonfinite_tensor : NULL;
    return model->nonfinite;
}
