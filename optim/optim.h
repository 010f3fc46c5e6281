/* optim/optim.h: the optimizer object, shared by optim.c (the updates) and
 * checkpoint.c (saving and restoring its state). Internal prefix: optim_. */
#ifndef CLGRAD_OPTIM_OPTIM_H
#define CLGRAD_OPTIM_OPTIM_H

#include "clgrad/optim.h"

#define OPTIM_STATES 3

/* Per parameter: up to three state tensors (NULL where the options need
 * none) and the number of steps it took part in (PyTorch's state["step"],
 * and for SGD whether the momentum buffer is still None). */
typedef struct optim_slot {
    clg_tensor *param;
    size_t index; /* in the optimizer's clg_params, for its name */
    clg_tensor *state[OPTIM_STATES];
    int64_t steps;
} optim_slot;

/* SGD: state[0] momentum buffer. RMSprop: square_avg, grad_avg, momentum
 * buffer. Adam(W): exp_avg, exp_avg_sq. Buffers of `params` (running
 * statistics) get no slot. */
struct clg_optim {
    clg_context *ctx;
    const clg_params *params; /* borrowed */
    clg_optim_options options;
    optim_slot *slots;
    size_t count;
};

/* torch.optim's state_dict name of state tensor `s` under these options
 * ("exp_avg", ...), or NULL where that slot holds none. */
const char *optim_state_name(const clg_optim_options *o, int s);

#endif
