/* zoo/model.h: what the model files share. Every model of the zoo is a stack
 * of linear layers fc1, fc2, ... (widths[0] -> widths[1] -> ...); each model
 * file says what goes between them in its forward function. Internal prefix:
 * zoo_. */
#ifndef CLGRAD_ZOO_MODEL_H
#define CLGRAD_ZOO_MODEL_H

#include "clgrad/zoo.h"

typedef clg_tensor *(*zoo_forward_fn)(const clg_model *model, clg_tensor *x);

struct clg_model {
    clg_context *ctx;
    const char *kind; /* static: one of model.c's zoo_kinds */
    char *arch;       /* "784-256-128-10" */
    int64_t *widths;  /* n_layers + 1 */
    int n_layers;
    clg_linear **layers; /* layers[i] is "fc<i+1>" */
    clg_params *params;  /* "fc1.weight", "fc1.bias", ... */
    zoo_forward_fn forward;
    int64_t in_features; /* widths[0], except for models that start with convolutions */
    /* Convolutional models only (lenet5.c); zero / NULL for the others. */
    int n_convs;
    clg_conv2d_layer *convs[2]; /* convs[i] is "conv<i+1>" */
    const char *activation;     /* static: "relu", "tanh", "sigmoid" */
    const char *pool;           /* static: "max", "avg" */
    /* Recurrent classifiers only (recurrent.c): the RNN/LSTM layer before
     * fc1, and the number of time steps each input row is split into. */
    clg_recurrent_layer *recurrent;
    int64_t steps;
    /* Loaded from a checkpoint: its NaN / infinite weights, and the first
     * tensor holding one. */
    int64_t nonfinite;
    char nonfinite_tensor[128];
};

/* A model of `kind` with linear layers between consecutive widths, initialised
 * as PyTorch does from `seed`; `fn` names the public constructor in errors.
 * NULL (message in the context) on a bad width or out of memory. */
clg_model *zoo_model_create(clg_context *ctx, const char *fn, const char *kind,
                            const int64_t *widths, int n_widths, uint64_t seed,
                            zoo_forward_fn forward);

/* The seed of layer `layer` of a model seeded with `seed`. */
uint64_t zoo_layer_seed(uint64_t seed, int layer);

/* LeNet-5 (lenet5.c) from its checkpoint metadata: activation and pool are
 * the strings clg_model_save wrote; NULL with a message naming `fn` and
 * `path` when they are missing or unknown. */
clg_model *zoo_lenet5_from_metadata(clg_context *ctx, const char *fn, const char *path,
                                    const char *activation, const char *pool);

/* The autoencoder (autoencoder.c) from its checkpoint's "arch"; NULL with a
 * message naming `fn` and `path` unless the widths mirror around the code. */
clg_model *zoo_autoencoder_from_metadata(clg_context *ctx, const char *fn, const char *path,
                                         const char *arch);

/* The "rnn" / "lstm" / "gru" classifiers (recurrent.c) from their checkpoint
 * metadata; NULL with a message naming `fn` and `path` on a bad arch. */
clg_model *zoo_recurrent_from_metadata(clg_context *ctx, const char *fn, const char *path,
                                       const char *kind, const char *arch);

/* Whether `st`, read from `path`, is a checkpoint clg_model_from_checkpoint
 * can rebuild: the metadata names a known kind with a well-formed "arch",
 * and every tensor that arch implies is in the file with that shape. Reads
 * only the file's header: nothing is allocated and no device is used, so the
 * fuzzer calls it alone. false with the context error set. */
bool zoo_checkpoint_check(clg_context *ctx, const char *path, const clg_safetensors *st);

#endif
