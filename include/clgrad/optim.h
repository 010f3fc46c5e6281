/* clgrad/optim.h: optimizers with PyTorch's update rules and defaults.
 *
 * Each clg_optim_step enqueues one fused kernel per parameter tensor (the
 * update and the optimizer state together) and does not block. A parameter
 * whose gradient is none (see clg_tensor_grad) is skipped, as in PyTorch. */
#ifndef CLGRAD_OPTIM_H
#define CLGRAD_OPTIM_H

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clg_optim_kind {
    CLG_OPTIM_SGD = 0,  /* torch.optim.SGD; momentum > 0 gives heavy ball */
    CLG_OPTIM_MOMENTUM, /* SGD with momentum (default 0.9) */
    CLG_OPTIM_NESTEROV, /* SGD with Nesterov momentum (default 0.9) */
    CLG_OPTIM_RMSPROP,  /* torch.optim.RMSprop */
    CLG_OPTIM_ADAM,     /* torch.optim.Adam (weight decay added to the gradient) */
    CLG_OPTIM_ADAMW     /* torch.optim.AdamW (decoupled weight decay) */
} clg_optim_kind;

typedef struct clg_optim_options {
    clg_optim_kind kind;
    float lr;
    float momentum;     /* SGD family, RMSprop */
    float dampening;    /* SGD family */
    float weight_decay; /* L2 for all but AdamW, decoupled for AdamW */
    float alpha;        /* RMSprop smoothing */
    float beta1, beta2; /* Adam, AdamW */
    float eps;          /* RMSprop, Adam, AdamW */
    bool centered;      /* RMSprop */
} clg_optim_options;

/* PyTorch's defaults for that kind (lr 1e-3 for the adaptive ones, 1e-2 for
 * RMSprop, 0.1 for the SGD family; AdamW weight decay 1e-2). */
CLG_API clg_optim_options clg_optim_options_default(clg_optim_kind kind);
/* "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"; returns false for
 * anything else. */
CLG_API bool clg_optim_kind_parse(const char *name, clg_optim_kind *kind);
CLG_API const char *clg_optim_kind_name(clg_optim_kind kind);

typedef struct clg_optim clg_optim;

/* Borrows `params` (and its tensors) for the optimizer's lifetime; state
 * tensors are allocated here, never during a step. */
CLG_API clg_optim *clg_optim_create(clg_context *ctx, const clg_params *params,
                                    const clg_optim_options *options);
CLG_API void clg_optim_destroy(clg_optim *opt);
CLG_API clg_status clg_optim_step(clg_optim *opt);
/* clg_params_zero_grad on the optimizer's parameters. */
CLG_API void clg_optim_zero_grad(clg_optim *opt);
CLG_API void clg_optim_set_lr(clg_optim *opt, float lr);

/* torch.nn.utils.clip_grad_norm_ (L2): total = the norm of all the
 * parameters' gradients taken together; every gradient is scaled by
 * min(max_norm / (total + 1e-6), 1). Parameters without a gradient and
 * buffers are skipped. Computed on the device without a host sync; only
 * when total_norm is not NULL is the total read back into it (one sync).
 * Call it between clg_backward and clg_optim_step, inside the step (its
 * scratch comes from the step arena). max_norm < 0 or NaN is
 * CLG_STATUS_INVALID_ARGUMENT. */
CLG_API clg_status clg_clip_grad_norm(const clg_params *params, float max_norm,
                                      float *total_norm);

#ifdef __cplusplus
}
#endif
#endif
