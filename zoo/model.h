/* zoo/model.h: what the model files share. Every clg_model is a stack of
 * linear layers fc1, fc2, ... (widths[0] -> widths[1] -> ...), perhaps after
 * layers of its own (LeNet-5's convolutions, the recurrent layer), and has a
 * kind: the zoo_kind its file defines, which says how it runs forward, what
 * it writes into a checkpoint's metadata and how it is rebuilt from one.
 * zoo/kinds.c lists the kinds; model.c knows none of them by name.
 * Internal prefix: zoo_. */
#ifndef CLGRAD_ZOO_MODEL_H
#define CLGRAD_ZOO_MODEL_H

#include "clgrad/zoo.h"

typedef struct zoo_kind zoo_kind;

/* A checkpoint being read: the function to name in errors, the file and
 * its parsed header (only the header: the checks allocate nothing and use
 * no device, so the fuzzer runs them alone). */
typedef struct zoo_checkpoint {
    const char *fn;
    const char *path;
    const clg_safetensors *st;
    const zoo_kind *kind; /* the kind its "model" names */
} zoo_checkpoint;

struct zoo_kind {
    const char *name; /* the checkpoint's "model": "mlp" */
    /* The functions below are all NULL for a kind a checkpoint may name but
     * that is no clg_model (the VAE, the GAN, the char-LSTM: `clgrad train
     * <kind> --load` reads them); a clg_model's kind sets all but `metadata`
     * and `destroy`, which are optional. */
    /* x (N, in_features), or what `takes_images` allows -> the model's output */
    clg_tensor *(*forward)(const clg_model *model, clg_tensor *x);
    /* Checks the metadata ("arch" and the kind's own keys) and that every
     * tensor it implies is in the file with its shape; false with the
     * context error set. */
    bool (*check)(clg_context *ctx, const zoo_checkpoint *ck);
    /* The model that checked metadata describes, its weights not loaded. */
    clg_model *(*from_metadata)(clg_context *ctx, const zoo_checkpoint *ck);
    /* Metadata beyond "model" and "arch", strings borrowed for the model's
     * lifetime: at most CLG_MODEL_METADATA_MAX - 2 pairs; the count. */
    size_t (*metadata)(const clg_model *model, const char **keys, const char **values);
    /* Frees clg_model's `own`. */
    void (*destroy)(void *own);
    /* Also takes (N, 1, 28, 28) images when in_features is 784. */
    bool takes_images;
    /* Kinds whose "arch" is just the widths of their linear stack (mlp,
     * logreg, autoencoder) set from_widths, and widths_fit with its rule in
     * words where not every list of widths will do, and take
     * zoo_stack_check and zoo_stack_from_metadata as check and
     * from_metadata. */
    clg_model *(*from_widths)(clg_context *ctx, const int64_t *widths, int n_widths);
    bool (*widths_fit)(const int64_t *widths, int n_widths);
    const char *widths_rule; /* "a logreg has two widths, \"inputs-classes\"" */
};

/* Every kind, in the order error messages list them (zoo/kinds.c). */
extern const zoo_kind *const zoo_kinds[];
extern const size_t zoo_kind_count;

struct clg_model {
    clg_context *ctx;
    const zoo_kind *kind;
    char *arch;      /* "784-256-128-10" */
    int64_t *widths; /* n_layers + 1 */
    int n_layers;
    clg_linear **layers; /* layers[i] is "fc<i+1>" */
    clg_params *params;  /* "fc1.weight", "fc1.bias", ... and the kind's own */
    int64_t in_features; /* widths[0], unless the kind has layers before fc1 */
    void *own;           /* the kind's state beyond the linear stack, or NULL */
    /* Loaded from a checkpoint: its NaN / infinite weights, and the first
     * tensor holding one. */
    int64_t nonfinite;
    char nonfinite_tensor[128];
};

/* A model of `kind` with linear layers between consecutive widths, initialised
 * as PyTorch does from `seed`; `fn` names the public constructor in errors.
 * NULL (message in the context) on a bad width or out of memory. */
clg_model *zoo_model_create(clg_context *ctx, const char *fn, const zoo_kind *kind,
                            const int64_t *widths, int n_widths, uint64_t seed);

/* The seed of layer `layer` of a model seeded with `seed`. */
uint64_t zoo_layer_seed(uint64_t seed, int layer);

/* *act from the name ops.h's CLG_ACTIVATIONS gives it ("relu",
 * "leaky_relu"); returns that name as a static string, NULL (and *act
 * untouched) for any other string. */
const char *zoo_activation_from_name(const char *name, clg_activation *act);

/* ---- for the kinds' metadata readers ---- */

/* A decimal width at *c, 1 to 2^31 - 1 (the kernels' int range): digits
 * only, no sign or space; *c moves past it. */
bool zoo_parse_width(const char **c, int64_t *out);
/* The check and from_metadata of a kind whose "arch" is two to
 * 35 widths joined by dashes ("784-256-128-10") that its
 * widths_fit accepts: a FORMAT error otherwise; then the tensors fc1, fc2,
 * ... those widths imply. */
bool zoo_stack_check(clg_context *ctx, const zoo_checkpoint *ck);
clg_model *zoo_stack_from_metadata(clg_context *ctx, const zoo_checkpoint *ck);
/* The tensor `name` the metadata implies: present, F32, with `shape`;
 * false with a MISMATCH error naming it, both shapes and the file's names. */
bool zoo_expect_tensor(clg_context *ctx, const zoo_checkpoint *ck, const char *name, int rank,
                       const int64_t *shape);
/* fc<first>, fc<first+1>, ...: Linear(widths[i] -> widths[i + 1]) each,
 * weight (out, in) and bias (out) as PyTorch stores them. */
bool zoo_expect_linear_stack(clg_context *ctx, const zoo_checkpoint *ck, const int64_t *widths,
                             int n_widths, int first);

/* Whether `st`, read from `path`, is a checkpoint clg_model_from_checkpoint
 * can rebuild: the metadata names a known kind whose reader accepts it.
 * Reads only the file's header: nothing is allocated and no device is used,
 * so the fuzzer calls it alone. false with the context error set. */
bool zoo_checkpoint_check(clg_context *ctx, const char *path, const clg_safetensors *st);

#endif
