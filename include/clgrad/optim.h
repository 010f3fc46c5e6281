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

/* ---- Learning-rate schedules ----
 *
 * A schedule is a small value: the learning rate as a function of the step
 * (the batches taken so far, from 0). It touches no device and no
 * optimizer; before each step, give the optimizer the step's rate:
 *
 *     clg_schedule sched = clg_schedule_cosine(1e-3f, 0.0f, epochs * batches);
 *     for (int64_t step = 0; step < epochs * batches; step++) {
 *         clg_optim_set_lr(opt, clg_schedule_lr(&sched, step));
 *         ... forward, clg_backward, clg_optim_step ...
 *     }
 *
 * which is torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps,
 * eta_min=lr_min) with scheduler.step() after every batch. Annealing lets the
 * last steps settle into a minimum instead of bouncing around it at the full
 * rate. A schedule holds no state, so a resumed run (clg_optim_checkpoint_load)
 * asks for the rate of the step it stands at and goes on bit for bit. */

typedef enum clg_schedule_kind {
    CLG_SCHEDULE_CONSTANT = 0, /* lr at every step */
    CLG_SCHEDULE_COSINE        /* half a cosine from lr down to lr_min */
} clg_schedule_kind;

typedef struct clg_schedule {
    clg_schedule_kind kind;
    float lr;            /* the rate at step 0 */
    float lr_min;        /* COSINE: the rate from total_steps on */
    int64_t total_steps; /* COSINE: PyTorch's T_max */
} clg_schedule;

/* The rate stays at lr. */
CLG_API clg_schedule clg_schedule_constant(float lr);
/* CosineAnnealingLR's closed form (PyTorch's _get_closed_form_lr), computed
 * in double and rounded once to float:
 *
 *     lr_min + (lr - lr_min) * (1 + cos(pi * step / total_steps)) / 2
 *
 * for 0 <= step <= total_steps: lr at step 0, (lr + lr_min) / 2 at half way,
 * lr_min at total_steps. Past total_steps the rate stays at lr_min (PyTorch's
 * formula would climb back up along the cosine; a run that is extended
 * makes a new schedule with the new total instead). A step below 0 is step
 * 0; total_steps <= 0 gives lr_min at every step. PyTorch's scheduler.step()
 * uses a recursive form of the same curve, equal up to float rounding. */
CLG_API clg_schedule clg_schedule_cosine(float lr, float lr_min, int64_t total_steps);
/* The rate of `step`. */
CLG_API float clg_schedule_lr(const clg_schedule *schedule, int64_t step);

/* ---- Training checkpoints: stop, and go on later ----
 *
 * A training checkpoint is a safetensors file holding what a run needs to
 * continue exactly where it stopped:
 *
 *   - every tensor of the clg_params the optimizer was created with, under
 *     its own name, as clg_checkpoint_save writes it: the weights stay a
 *     plain checkpoint for clg_checkpoint_load, clg_model_from_checkpoint and
 *     PyTorch (load_state_dict of the entries without the "optim." prefix);
 *   - the optimizer's state, one F32 tensor of the parameter's shape each,
 *     "optim.<param>.<buffer>" with <buffer> as torch.optim's state_dict
 *     names it: momentum_buffer (the SGD family with momentum != 0, RMSprop
 *     with momentum > 0), square_avg and grad_avg (RMSprop; grad_avg when
 *     centered), exp_avg and exp_avg_sq (Adam, AdamW);
 *   - string metadata: "optim.kind" (clg_optim_kind_name), the options as
 *     they stand ("optim.lr", "optim.momentum", "optim.dampening",
 *     "optim.weight_decay", "optim.alpha", "optim.beta1", "optim.beta2",
 *     "optim.eps" in %.9g, which reads back to the same float;
 *     "optim.centered" "true" or "false"), "optim.<param>.step" (the steps
 *     that parameter took part in, PyTorch's state["step"], in decimal),
 *     and the caller's own keys.
 *
 * Saved, loaded into an optimizer made with the same options over
 * parameters of the same names and shapes, and stepped on, the run goes on
 * bit for bit as if it had never stopped. */

/* Writes a training checkpoint of `opt` and its parameters to `path`, with
 * the caller's metadata `keys[i]` = `values[i]` (n_meta of them, read
 * during the call only; may be NULL when 0; keys starting with "optim." are
 * the optimizer's and are CLG_STATUS_INVALID_ARGUMENT), atomically as
 * clg_checkpoint_save (a temporary file in the same folder, renamed into
 * place): a crash leaves the previous file or the new one, never a mix.
 * Call it between steps; it blocks to read the tensors. Errors:
 * CLG_STATUS_IO naming the path, CLG_STATUS_OUT_OF_MEMORY. */
CLG_API clg_status clg_optim_checkpoint_save(const clg_optim *opt, const char *path,
                                             const char *const *keys, const char *const *values,
                                             size_t n_meta);
/* Restores `opt`'s parameters, state and step counts from a checkpoint
 * written by clg_optim_checkpoint_save. The options stay those `opt` was
 * created with (the file's are in its metadata, for the caller to compare;
 * PyTorch's load_state_dict would take them from the file). Everything is
 * checked before anything changes, so on an error the parameters and
 * state are as they were: CLG_STATUS_FORMAT for a file without optimizer
 * state or with a step count that is not a number; CLG_STATUS_MISMATCH,
 * naming the tensor or key, for another kind of optimizer, a parameter or
 * state tensor missing or of another shape, or an "optim." tensor that
 * `opt` has no use for (state of other options: momentum, centered); the
 * errors of clg_safetensors_read. Reads the file whole; the uploads are
 * staged, as clg_tensor_upload's, and do not block. */
CLG_API clg_status clg_optim_checkpoint_load(clg_optim *opt, const char *path);

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
