/* ops/perceptron.h: what lecture/perceptron.c needs of ops/ beyond the public
 * API: one epoch of Rosenblatt's perceptron rule on the device. It is not
 * differentiable and records nothing on the tape; it lives in ops/ because
 * launching kernels is ops' business, so lecture/ never reaches into
 * ops/internal.h. Internal prefix: op_. */
#ifndef CLGRAD_OPS_PERCEPTRON_H
#define CLGRAD_OPS_PERCEPTRON_H

#include "clgrad/tensor.h"

/* Enqueues one epoch of the rule (ops/perceptron.cl) over the samples in
 * order: x (n, d) float32, t (n) int32 of +1 / -1, w (d + 1) float32 with
 * the bias first, updated in place, and state (4) int32: [0] updates so far,
 * [1] epochs run, [2] 1 once an epoch made no mistake (later epochs then do
 * nothing), [3] mistakes in the last epoch. The tensors must be contiguous.
 * Returns false with the error in the context (naming the op and shapes). */
bool op_perceptron_epoch(clg_tensor *x, clg_tensor *t, clg_tensor *w, clg_tensor *state, float eta);

#endif
