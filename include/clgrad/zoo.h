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
/* LeNet-5 (LeCun et al. 1998) for 28x28 grey images: conv1 5x5 1->6
 * (padding 2) - pool 2 - conv2 5x5 6->16 - pool 2 - flatten - fc1 400->120 -
 * fc2 120->84 - fc3 84->10 (logits), the activation after both convolutions
 * and fc1, fc2. activation: "relu" (NULL: the default), "tanh" or "sigmoid"
 * (the lecture's era); pool: "max" (NULL: the default) or "avg" (the 1998
 * original's subsampling, without its trainable scale). Takes (N, 784) or
 * (N, 1, 28, 28); in_features is 784. Parameters conv1.weight, conv1.bias,
 * conv2.*, fc1.*, fc2.*, fc3.*, as torch.nn names them; initialised as
 * PyTorch does. Kind "lenet5", arch "lenet5-<activation>-<pool>pool". */
CLG_API clg_model *clg_zoo_lenet5_create(clg_context *ctx, const char *activation,
                                         const char *pool, uint64_t seed);
/* ---- FGSM adversarial examples (Goodfellow et al. 2015) ----
 *
 * x_adv = clamp(x + eps sign(d loss / d x), 0, 1) with the mean
 * cross-entropy loss of the true labels, computed on the device (sign(0) is
 * 0, as torch.sign). Pixels must lie in [0, 1] and every eps in [0, 1] (a
 * larger step saturates every pixel anyway); eps 0 gives the images back.
 * The backward also reaches the model's parameters: their gradients are left
 * as it leaves them, so zero them before training on. */

/* One batch: images (n, in_features) and labels (n) on the host. Fills
 * clean_predicted (n), adv_predicted (n_eps, n) and, unless NULL,
 * adversarial (n_eps, n, in_features). Errors: n < 1, n_eps < 1, an eps
 * outside [0, 1] or not a number (CLG_STATUS_INVALID_ARGUMENT). */
CLG_API clg_status clg_fgsm_batch(clg_model *model, const float *images, const int32_t *labels,
                                  int64_t n, const float *eps, int n_eps,
                                  int32_t *clean_predicted, int32_t *adv_predicted,
                                  float *adversarial);
/* The first `count` samples of `data` (count <= 0: all of them) in batches
 * of `batch`: clean accuracy and adv_accuracy[i] for eps[i]. Besides
 * clg_fgsm_batch's errors: a model whose inputs or classes differ from the
 * data set's (CLG_STATUS_SHAPE). */
CLG_API clg_status clg_fgsm_evaluate(clg_model *model, const clg_dataset *data, int64_t count,
                                     int64_t batch, const float *eps, int n_eps,
                                     double *clean_accuracy, double *adv_accuracy);

/* Reads the architecture from a checkpoint's metadata, builds the model and
 * loads its weights. */
CLG_API clg_model *clg_model_from_checkpoint(clg_context *ctx, const char *path);
CLG_API void clg_model_destroy(clg_model *model);

/* x (N, in_features) -> (N, out_features); a step tensor. */
CLG_API clg_tensor *clg_model_forward(clg_model *model, clg_tensor *x);
/* Borrowed for the model's lifetime. */
CLG_API const clg_params *clg_model_params(const clg_model *model);
/* "mlp", "logreg" or "lenet5"; borrowed. */
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
