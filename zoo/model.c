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

/* A decimal width of the metadata at *c, 1 to 2^31 - 1 (the kernels' int
 * range): digits only, no sign or space; *c moves past it. */
static bool parse_width(const char **c, int64_t *out)
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

/* "784-256-128-10" into widths[max]; false unless it is two to `max`
 * widths joined by dashes. */
static bool parse_arch(const char *arch, int64_t *widths, int max, int *n_widths)
{
    int n = 0;
    const char *c = arch;
    for (;;) {
        if (n == max || !parse_width(&c, &widths[n]))
            return false;
        n++;
        if (*c == '\0')
            break;
        if (*c++ != '-')
            return false;
    }
    *n_widths = n;
    return n >= 2;
}

/* "28x28-128-10": steps, input, hidden, classes. */
static bool parse_recurrent_arch(const char *arch, int64_t *v)
{
    const char *c = arch;
    return parse_width(&c, &v[0]) && *c++ == 'x' && parse_width(&c, &v[1]) && *c++ == '-' &&
           parse_width(&c, &v[2]) && *c++ == '-' && parse_width(&c, &v[3]) && *c == '\0';
}

static void dims_str(int rank, const int64_t *shape, char *buf, size_t size)
{
    clg_tensor fake = {.rank = rank};
    memcpy(fake.shape, shape, (size_t)rank * sizeof *shape);
    eng_shape_str(&fake, buf, size);
}

/* The tensor `name` the metadata implies: present, F32, with `shape`. */
static bool expect_tensor(clg_context *ctx, const char *fn, const char *path,
                          const clg_safetensors *st, const char *arch, const char *name, int rank,
                          const int64_t *shape)
{
    clg_dtype dtype = CLG_DTYPE_F32;
    int file_rank = 0;
    const int64_t *file_shape = NULL;
    char want[96], got[96];
    dims_str(rank, shape, want, sizeof want);
    if (!clg_safetensors_get(st, name, &dtype, &file_rank, &file_shape, NULL)) {
        char names[400];
        data_safetensors_names(st, names, sizeof names);
        eng_fail(ctx, CLG_STATUS_MISMATCH,
                 "%s: %s: metadata \"arch\" \"%s\" implies a tensor \"%s\" of shape %s, which "
                 "the checkpoint lacks; %s",
                 fn, path, arch, name, want, names);
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
                 fn, path, name, got, dtype == CLG_DTYPE_F32 ? "F32" : "I32", arch, want);
        return false;
    }
    return true;
}

/* fc<first>, fc<first+1>, ...: Linear(widths[i] -> widths[i + 1]) each,
 * weight (out, in) and bias (out) as PyTorch stores them. */
static bool expect_linear_stack(clg_context *ctx, const char *fn, const char *path,
                                const clg_safetensors *st, const char *arch,
                                const int64_t *widths, int n_widths, int first)
{
    for (int i = 0; i + 1 < n_widths; i++) {
        char name[48];
        snprintf(name, sizeof name, "fc%d.weight", first + i);
        if (!expect_tensor(ctx, fn, path, st, arch, name, 2, (int64_t[]){widths[i + 1], widths[i]}))
            return false;
        snprintf(name, sizeof name, "fc%d.bias", first + i);
        if (!expect_tensor(ctx, fn, path, st, arch, name, 1, (int64_t[]){widths[i + 1]}))
            return false;
    }
    return true;
}

#define MAX_WIDTHS 35 /* the autoencoder's 2 * 16 hidden + in, code, out */

/* Every "model" a clgrad checkpoint's metadata may name: the one list the
 * checks below, the rebuilding and the error messages read, so that a kind
 * cannot be known to one and missing from another. The generative models
 * are objects of their own (clg_vae, clg_gan, clg_charlstm), saved by
 * `clgrad train vae|gan|charlstm --save` and read back by its --load, not
 * by clg_model_from_checkpoint. */
typedef enum zoo_family {
    ZOO_LENET5,    /* fixed widths; "activation" and "pool" in the metadata */
    ZOO_RECURRENT, /* "arch" STEPSxINPUT-HIDDEN-CLASSES */
    ZOO_STACK,     /* "arch" the widths of a stack of linear layers */
    ZOO_OTHER      /* not a clg_model */
} zoo_family;

static const struct zoo_kind {
    const char *name;
    zoo_family family;
} zoo_kinds[] = {
    {"mlp", ZOO_STACK},     {"logreg", ZOO_STACK},   {"lenet5", ZOO_LENET5},
    {"rnn", ZOO_RECURRENT}, {"lstm", ZOO_RECURRENT}, {"gru", ZOO_RECURRENT},
    {"autoencoder", ZOO_STACK}, {"vae", ZOO_OTHER},  {"gan", ZOO_OTHER},
    {"charlstm", ZOO_OTHER},
};
#define ZOO_KINDS (sizeof zoo_kinds / sizeof zoo_kinds[0])

static const struct zoo_kind *find_kind(const char *name)
{
    for (size_t i = 0; i < ZOO_KINDS; i++)
        if (strcmp(zoo_kinds[i].name, name) == 0)
            return &zoo_kinds[i];
    return NULL;
}

/* "\"mlp\", \"logreg\", ... or \"autoencoder\"": the kinds
 * clg_model_from_checkpoint rebuilds. */
static void kind_list(char *buffer, size_t capacity)
{
    size_t n = 0, used = 0;
    for (size_t i = 0; i < ZOO_KINDS; i++)
        n += zoo_kinds[i].family != ZOO_OTHER;
    buffer[0] = '\0';
    for (size_t i = 0, k = 0; i < ZOO_KINDS && used < capacity; i++) {
        if (zoo_kinds[i].family == ZOO_OTHER)
            continue;
        k++;
        used += (size_t)snprintf(buffer + used, capacity - used, "%s\"%s\"",
                                 k == 1   ? ""
                                 : k == n ? " or "
                                          : ", ",
                                 zoo_kinds[i].name);
    }
}

bool zoo_checkpoint_check(clg_context *ctx, const char *path, const clg_safetensors *st)
{
    static const char fn[] = "clg_model_from_checkpoint";
    if (eng_failed(ctx))
        return false;
    const char *kind = clg_safetensors_metadata(st, "model");
    const char *arch = clg_safetensors_metadata(st, "arch");
    if (!kind) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: no \"model\" in the metadata; not a checkpoint written by "
                 "clg_model_save (a file saved from PyTorch needs \"model\" and \"arch\", and "
                 "for a lenet5 \"activation\" and \"pool\": see clgrad/zoo.h)",
                 fn, path);
        return false;
    }
    const struct zoo_kind *known = find_kind(kind);
    char kinds[256];
    kind_list(kinds, sizeof kinds);
    if (!known) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: metadata \"model\" is \"%s\"; expected %s", fn,
                 path, kind, kinds);
        return false;
    }
    if (known->family == ZOO_OTHER) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"model\" is \"%s\": that model is not a clg_model (clgrad "
                 "train %s --load reads it); this function rebuilds %s",
                 fn, path, kind, kind, kinds);
        return false;
    }
    if (known->family == ZOO_LENET5) {
        /* fixed widths: lenet5_create checks the two strings, and the
         * tensors are checked as they load */
        if (!clg_safetensors_metadata(st, "activation") || !clg_safetensors_metadata(st, "pool")) {
            eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: no \"%s\" in the metadata of a lenet5", fn,
                     path, clg_safetensors_metadata(st, "activation") ? "pool" : "activation");
            return false;
        }
        return true;
    }
    bool recurrent = known->family == ZOO_RECURRENT;
    if (!arch) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: no \"arch\" in the metadata", fn, path);
        return false;
    }
    if (recurrent) {
        int64_t v[4]; /* steps, input, hidden, classes */
        if (!parse_recurrent_arch(arch, v) || v[0] * v[1] > INT32_MAX) {
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: %s: metadata \"arch\" is \"%s\"; a %s has \"STEPSxINPUT-HIDDEN-CLASSES\", "
                     "such as \"28x28-128-10\"",
                     fn, path, arch, kind);
            return false;
        }
        int64_t gates = strcmp(kind, "lstm") == 0 ? 4 : strcmp(kind, "gru") == 0 ? 3 : 1;
        int64_t hidden = v[2];
        char name[48];
        const struct {
            const char *suffix;
            int rank;
            int64_t shape[2];
        } cell[] = {{"weight_ih_l0", 2, {gates * hidden, v[1]}},
                    {"weight_hh_l0", 2, {gates * hidden, hidden}},
                    {"bias_ih_l0", 1, {gates * hidden}},
                    {"bias_hh_l0", 1, {gates * hidden}}};
        for (int i = 0; i < 4; i++) {
            snprintf(name, sizeof name, "%s.%s", kind, cell[i].suffix); /* "lstm.weight_ih_l0" */
            if (!expect_tensor(ctx, fn, path, st, arch, name, cell[i].rank, cell[i].shape))
                return false;
        }
        return expect_linear_stack(ctx, fn, path, st, arch, (int64_t[]){hidden, v[3]}, 2, 1);
    }
    int64_t widths[MAX_WIDTHS];
    int n = 0;
    if (!parse_arch(arch, widths, MAX_WIDTHS, &n)) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"arch\" is \"%s\"; expected 2 to %d layer widths (1 to "
                 "2^31 - 1) joined by dashes, such as \"784-256-128-10\"",
                 fn, path, arch, MAX_WIDTHS);
        return false;
    }
    if (strcmp(kind, "logreg") == 0 && n != 2) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"arch\" is \"%s\"; a logreg has two widths, "
                 "\"inputs-classes\"",
                 fn, path, arch);
        return false;
    }
    bool mirrored = strcmp(kind, "autoencoder") != 0 || (n >= 3 && n % 2 == 1);
    for (int i = 0; mirrored && strcmp(kind, "autoencoder") == 0 && i < n / 2; i++)
        mirrored = widths[i] == widths[n - 1 - i];
    if (!mirrored) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"arch\" is \"%s\"; an autoencoder's widths mirror around "
                 "its code, such as \"30-100-100-15-100-100-30\"",
                 fn, path, arch);
        return false;
    }
    return expect_linear_stack(ctx, fn, path, st, arch, widths, n, 1);
}

/* The model the checked metadata describes, its weights not yet loaded. */
static clg_model *build_from_metadata(clg_context *ctx, const char *path,
                                      const clg_safetensors *st)
{
    static const char fn[] = "clg_model_from_checkpoint";
    const char *kind = clg_safetensors_metadata(st, "model");
    const char *arch = clg_safetensors_metadata(st, "arch");
    if (strcmp(kind, "lenet5") == 0)
        return zoo_lenet5_from_metadata(ctx, fn, path, clg_safetensors_metadata(st, "activation"),
                                        clg_safetensors_metadata(st, "pool"));
    if (strcmp(kind, "rnn") == 0 || strcmp(kind, "lstm") == 0 || strcmp(kind, "gru") == 0)
        return zoo_recurrent_from_metadata(ctx, fn, path, kind, arch);
    if (strcmp(kind, "autoencoder") == 0)
        return zoo_autoencoder_from_metadata(ctx, fn, path, arch);
    int64_t widths[MAX_WIDTHS];
    int n = 0;
    parse_arch(arch, widths, MAX_WIDTHS, &n); /* checked above */
    return strcmp(kind, "mlp") == 0
               ? clg_zoo_mlp_create(ctx, widths[0], widths + 1, n - 2, widths[n - 1], 0)
               : clg_zoo_logreg_create(ctx, widths[0], widths[1], 0);
}

CLG_API clg_model *clg_model_from_checkpoint(clg_context *ctx, const char *path)
{
    clg_safetensors *st = clg_safetensors_read(ctx, path);
    if (!st)
        return NULL;
    clg_model *model = zoo_checkpoint_check(ctx, path, st) ? build_from_metadata(ctx, path, st)
                                                             : NULL;
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
