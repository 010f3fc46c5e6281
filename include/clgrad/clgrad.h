/* clgrad/clgrad.h: everything, in one include.
 *
 * clgrad trains neural networks on any OpenCL device. A tape records each op
 * of a forward pass; clg_backward walks it in reverse. A training step:
 *
 *     clg_context *ctx;
 *     if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK) { puts(clg_context_error(ctx)); ... }
 *     clg_model *model = clg_zoo_mlp_create(ctx, 784, (int64_t[]){256, 128}, 2, 10, 42);
 *     clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAM);
 *     clg_optim *opt = clg_optim_create(ctx, clg_model_params(model), &o);
 *     for (each batch) {
 *         clg_step_begin(ctx);
 *         clg_tensor *x = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){n, 784}, images);
 *         clg_tensor *y = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, (int64_t[]){n}, labels);
 *         clg_tensor *loss = clg_cross_entropy_loss(clg_model_forward(model, x), y,
 *                                                   CLG_REDUCTION_MEAN);
 *         clg_optim_zero_grad(opt);
 *         clg_backward(loss);                 // NULL-safe chain: errors are sticky
 *         clg_optim_step(opt);
 *         float value;
 *         if (clg_tensor_item(loss, &value) != CLG_STATUS_OK) { puts(clg_context_error(ctx)); ... }
 *         clg_step_end(ctx);                  // every tensor of the step is released here
 *     }
 *
 * The headers, from the bottom up: context.h (device, errors, steps,
 * counters), tensor.h (tensors and autodiff), ops.h (differentiable ops),
 * nn.h (parameters, initialisers, layers), optim.h (optimizers), data.h
 * (datasets, batching, checkpoints, metrics), zoo.h (the lecture's models). */
#ifndef CLGRAD_CLGRAD_H
#define CLGRAD_CLGRAD_H

#include "context.h"
#include "tensor.h"
#include "ops.h"
#include "nn.h"
#include "optim.h"
#include "data.h"
#include "zoo.h"
#if defined(MPI_VERSION) /* dist.h needs <mpi.h>: included when the program included it first */
#include "dist.h"
#endif

#endif
