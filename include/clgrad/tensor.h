/* clgrad/tensor.h: tensors on the device and reverse-mode autodiff.
 *
 * A tensor is (buffer, element offset, shape, strides), row-major, outermost
 * dimension first, rank 0 to 4, float32 or int32. Two lifetimes:
 *   persistent: clg_tensor_create; yours until clg_tensor_destroy (parameters,
 *               optimizer state, anything kept across steps);
 *   step:       everything an op or clg_tensor_from_host returns; borrowed
 *               until the next clg_step_end. Copy one into a persistent tensor
 *               (clg_tensor_copy) to keep it.
 * Gradients: an op records itself on the tape when grad mode is on and any
 * input requires a gradient; clg_backward(loss) walks the tape in reverse and
 * accumulates (+=) into the gradient of every tensor that requires one:
 * parameters, and inputs too (d loss / d input for adversarial examples).
 * Named tensor lists (clg_params, at the end) are what layers hand out and
 * optimizers, checkpoints and data parallelism walk. */
#ifndef CLGRAD_TENSOR_H
#define CLGRAD_TENSOR_H

#include "context.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CLG_MAX_RANK 4

typedef enum clg_dtype {
    CLG_DTYPE_F32 = 0,
    CLG_DTYPE_I32 = 1
} clg_dtype;

typedef struct clg_tensor clg_tensor;

/* A persistent, contiguous tensor filled with zeros. shape may be NULL when
 * rank is 0. Returns NULL on error (message in the context). */
CLG_API clg_tensor *clg_tensor_create(clg_context *ctx, clg_dtype dtype, int rank,
                                      const int64_t *shape);
/* Returns the tensor's memory (and its gradient's) to the pool. Accepts NULL.
 * Only for persistent tensors; step tensors go with clg_step_end. */
CLG_API void clg_tensor_destroy(clg_tensor *t);

/* A step tensor holding a copy of `data` (numel elements of dtype). The copy
 * is staged, so `data` may be reused as soon as this returns, and the upload
 * does not block. */
CLG_API clg_tensor *clg_tensor_from_host(clg_context *ctx, clg_dtype dtype, int rank,
                                         const int64_t *shape, const void *data);
/* A step tensor of the given shape filled with `value`. */
CLG_API clg_tensor *clg_tensor_full(clg_context *ctx, int rank, const int64_t *shape,
                                    float value);

/* Writes `count` elements (must equal numel) from host memory; staged and
 * non-blocking like clg_tensor_from_host. The tensor must be contiguous. */
CLG_API clg_status clg_tensor_upload(clg_tensor *t, const void *data, size_t count);
/* Reads `count` elements (must equal numel) in row-major order, also from
 * non-contiguous views. Blocks, and counts as one host sync. A NULL tensor
 * (a failed op's result) returns CLG_STATUS_INVALID_ARGUMENT and leaves the
 * context's message, which names the op that failed, as it is; so do
 * clg_tensor_item, clg_backward and clg_backward_with. */
CLG_API clg_status clg_tensor_download(const clg_tensor *t, void *data, size_t count);
/* Reads a one-element float tensor. Blocks (one host sync). */
CLG_API clg_status clg_tensor_item(const clg_tensor *t, float *value);

/* A read that does not block, for a loop that reads every step's loss
 * without idling the device: start the read of step n's loss, then wait for
 * step n - 1's while step n runs, and the host prepares step n + 1 (gathers
 * its batch, enqueues its ops) meanwhile.
 *
 *   clg_read reads[2];
 *   ... step n: forward, backward, optimizer step ...
 *   clg_tensor_read_start(loss, &losses[n % 2], 1, &reads[n % 2]);
 *   clg_step_end(ctx);
 *   if (n > 0) clg_read_wait(&reads[(n - 1) % 2]); -- losses[(n - 1) % 2] is there
 *
 * clg_tensor_read_start enqueues the copy of `count` elements (numel, in
 * row-major order, also from views) into `data` and returns at once; `data`
 * must stay valid, and untouched, until clg_read_wait on the same clg_read
 * returns. That wait is the host sync (one, counted). The tensor may be a
 * step tensor released meanwhile: the copy runs before any later command
 * that could reuse its memory. Each started read is waited for exactly once;
 * a read that failed to start needs no wait (its `pending` is NULL). The
 * fields are the library's. */
typedef struct clg_read {
    clg_context *ctx;
    void *pending;   /* the driver's event, until the wait */
    uint64_t writes; /* the uploads ordered before the read */
} clg_read;
CLG_API clg_status clg_tensor_read_start(const clg_tensor *t, void *data, size_t count,
                                         clg_read *read);
CLG_API clg_status clg_read_wait(clg_read *read);
/* dst = src on the device; same shape and dtype; dst contiguous. */
CLG_API clg_status clg_tensor_copy(clg_tensor *dst, const clg_tensor *src);
/* Every element = value; t contiguous. */
CLG_API clg_status clg_tensor_fill(clg_tensor *t, float value);

CLG_API clg_context *clg_tensor_context(const clg_tensor *t);
CLG_API clg_dtype clg_tensor_dtype(const clg_tensor *t);
CLG_API int clg_tensor_rank(const clg_tensor *t);
/* Size of one dimension; negative axes count from the end. */
CLG_API int64_t clg_tensor_dim(const clg_tensor *t, int axis);
CLG_API int64_t clg_tensor_numel(const clg_tensor *t);
CLG_API bool clg_tensor_is_contiguous(const clg_tensor *t);
/* "[128, 784]" into buf (always terminated); returns buf. */
CLG_API char *clg_tensor_shape_str(const clg_tensor *t, char *buf, size_t capacity);

/* Marks a tensor as a leaf that wants a gradient (float32 only). */
CLG_API void clg_tensor_set_requires_grad(clg_tensor *t, bool requires_grad);
CLG_API bool clg_tensor_requires_grad(const clg_tensor *t);
/* The accumulated gradient, same shape, contiguous; borrowed (a persistent
 * tensor's gradient lives as long as the tensor, a step tensor's until
 * clg_step_end). NULL when none has been computed since the last zero_grad,
 * as PyTorch's .grad is None. */
CLG_API clg_tensor *clg_tensor_grad(const clg_tensor *t);
/* Forgets the gradient (PyTorch's zero_grad(set_to_none=True)): the next
 * backward writes it afresh instead of adding. Enqueues nothing. */
CLG_API void clg_tensor_zero_grad(clg_tensor *t);

/* Back-propagates from a one-element loss (d loss = 1). Each tape may be
 * walked once per step; a second call is CLG_STATUS_STATE, as in PyTorch. */
CLG_API clg_status clg_backward(clg_tensor *loss);
/* Back-propagates from any output with a given upstream gradient of the same
 * shape (PyTorch's output.backward(gradient)): vector-Jacobian products. */
CLG_API clg_status clg_backward_with(clg_tensor *output, const clg_tensor *grad_output);

/* ---- named tensor lists ---- */

/* A list of named parameters, in insertion order: what optimizers update and
 * checkpoints save. It borrows the tensors; destroying it leaves them. */
typedef struct clg_params clg_params;

CLG_API clg_params *clg_params_create(clg_context *ctx);
CLG_API void clg_params_destroy(clg_params *params);
/* Appends a tensor under a name (copied; e.g. "fc1.weight"). A duplicate name
 * is CLG_STATUS_INVALID_ARGUMENT. Marks the tensor as requiring a gradient. */
CLG_API clg_status clg_params_add(clg_params *params, const char *name, clg_tensor *tensor);
/* Appends a buffer: state saved in checkpoints but never trained (batch
 * norm's running statistics, as PyTorch's register_buffer). It does not
 * require a gradient and optimizers skip it. */
CLG_API clg_status clg_params_add_buffer(clg_params *params, const char *name,
                                         clg_tensor *tensor);
CLG_API bool clg_params_is_buffer(const clg_params *params, size_t index);
/* Appends every entry of `other` (buffers stay buffers), each name prefixed
 * with `prefix`. */
CLG_API clg_status clg_params_extend(clg_params *params, const char *prefix,
                                     const clg_params *other);
/* How many entries (tensors: parameters and buffers), not elements. */
CLG_API size_t clg_params_count(const clg_params *params);
/* How many elements the parameters hold, buffers left out: PyTorch's
 * sum(p.numel() for p in model.parameters()), the figure print(model)
 * summaries quote (235,146 for the 784-256-128-10 MLP). */
CLG_API int64_t clg_params_numel(const clg_params *params);
/* Borrowed. NULL when index is out of range. */
CLG_API const char *clg_params_name(const clg_params *params, size_t index);
CLG_API clg_tensor *clg_params_tensor(const clg_params *params, size_t index);
/* NULL when absent. */
CLG_API clg_tensor *clg_params_find(const clg_params *params, const char *name);
/* Forgets every gradient (clg_tensor_zero_grad on each). */
CLG_API void clg_params_zero_grad(clg_params *params);

#ifdef __cplusplus
}
#endif
#endif
