/* clgrad/zoo.h: the lecture's models, built from nn.h layers.
 *
 * A model maps a batch of inputs to outputs (logits for the classifiers) and
 * owns its parameters. Its checkpoint metadata records the architecture, so
 * clg_model_from_checkpoint rebuilds the same model from a file. */
#ifndef CLGRAD_ZOO_H
#define CLGRAD_ZOO_H

#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clg_model clg_model;

/* Multilayer perceptron: in -> hidden[0] -> ... -> out, ReLU between layers,
 * no activation on the output (logits). Layers are named fc1, fc2, ... */
CLG_API clg_model *clg_zoo_mlp_create(clg_context *ctx, int64_t in_features,
                                      const int64_t *hidden, int n_hidden, int64_t out_features,
                                      uint64_t seed);
/* Multinomial logistic regression: one linear layer "fc1" to class logits. */
CLG_API clg_model *clg_zoo_logreg_create(clg_context *ctx, int64_t in_features,
                                         int64_t classes, uint64_t seed);
/* Reads the architecture from a checkpoint's metadata, builds the model and
 * loads its weights. */
CLG_API clg_model *clg_model_from_checkpoint(clg_context *ctx, const char *path);
CLG_API void clg_model_destroy(clg_model *model);

/* x (N, in_features) -> (N, out_features); a step tensor. */
CLG_API clg_tensor *clg_model_forward(clg_model *model, clg_tensor *x);
/* Borrowed for the model's lifetime. */
CLG_API const clg_params *clg_model_params(const clg_model *model);
/* "mlp" or "logreg"; borrowed. */
CLG_API const char *clg_model_kind(const clg_model *model);
/* "784-256-128-10"; borrowed. */
CLG_API const char *clg_model_arch(const clg_model *model);
CLG_API int64_t clg_model_in_features(const clg_model *model);
CLG_API int64_t clg_model_out_features(const clg_model *model);
/* clg_checkpoint_save with the architecture in the metadata. */
CLG_API clg_status clg_model_save(clg_model *model, const char *path);

#ifdef __cplusplus
}
#endif
#endif
