/* ops/shape.c: views and shape changes. No kernels of their own: a
 * transpose swaps strides; a reshape of a contiguous tensor is a view, and
 * of anything else a contiguous copy first (engine/tensor.cl).
 *
 *   transpose(a, i, j)   da = transpose(g, i, j)
 *   reshape(a, shape)    da = reshape(g, a.shape)
 * Both backward rules accumulate a strided view of g into a's gradient.
 * flatten is a reshape. */
#include <stdio.h>
#include <string.h>

#include "ops/internal.h"

/* What a transpose or reshape node keeps besides its input. */
typedef struct view_saved {
    bool transpose; /* a transpose; false (as recorded, zeroed) for a reshape */
    int axis0;      /* the swapped axes: the output's axis0 and axis1 */
    int axis1;      /* are the input's axis1 and axis0 */
} view_saved;

static void view_backward(clg_context *ctx, const eng_node *node)
{
    const view_saved *saved = node->state;
    clg_tensor *a = node->inputs[0], *g = node->output->grad;
    /* Re-express g with a's shape: for a transpose, swap g's strides back;
     * for a reshape, g is contiguous, so a contiguous view of a's shape. */
    int64_t strides[CLG_MAX_RANK];
    if (saved->transpose) {
        for (int d = 0; d < g->rank; d++)
            strides[d] = g->strides[d];
        int64_t t = strides[saved->axis0];
        strides[saved->axis0] = strides[saved->axis1];
        strides[saved->axis1] = t;
    } else {
        eng_contiguous_strides(a->rank, a->shape, strides);
    }
    clg_tensor *view = eng_view(ctx, g, a->rank, a->shape, strides, g->offset);
    if (view)
        eng_grad_accumulate(ctx, a, view);
}

CLG_API clg_tensor *clg_transpose(clg_tensor *a, int axis0, int axis1)
{
    clg_context *ctx = eng_op_begin("clg_transpose", 1, &a);
    if (!ctx)
        return NULL;
    int i = eng_axis(ctx, "clg_transpose", a, axis0);
    int j = i < 0 ? -1 : eng_axis(ctx, "clg_transpose", a, axis1);
    if (j < 0)
        return NULL;
    int64_t shape[CLG_MAX_RANK], strides[CLG_MAX_RANK];
    for (int d = 0; d < a->rank; d++) {
        shape[d] = a->shape[d];
        strides[d] = a->strides[d];
    }
    shape[i] = a->shape[j];
    shape[j] = a->shape[i];
    strides[i] = a->strides[j];
    strides[j] = a->strides[i];
    clg_tensor *out = eng_view(ctx, a, a->rank, shape, strides, a->offset);
    if (out && eng_needs_grad(ctx, 1, &a)) {
        eng_node *node = eng_record(ctx, "clg_transpose", view_backward, out, 1, &a,
                                    sizeof(view_saved));
        if (!node)
            return NULL;
        view_saved *saved = node->state;
        saved->transpose = true;
        saved->axis0 = i;
        saved->axis1 = j;
    }
    return out;
}

CLG_API clg_tensor *clg_reshape(clg_tensor *a, int rank, const int64_t *shape)
{
    clg_context *ctx = eng_op_begin("clg_reshape", 1, &a);
    if (!ctx)
        return NULL;
    char s[64];
    if (rank < 0 || rank > CLG_MAX_RANK) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "clg_reshape: rank %d is outside 0..%d", rank,
                 CLG_MAX_RANK);
        return NULL;
    }
    int64_t resolved[CLG_MAX_RANK], known = 1;
    int inferred = -1;
    for (int d = 0; d < rank; d++) {
        resolved[d] = shape[d];
        if (shape[d] == -1 && inferred < 0)
            inferred = d;
        else if (shape[d] < 0) {
            eng_fail(ctx, CLG_STATUS_SHAPE, "clg_reshape: invalid size %lld in the new shape",
                     (long long)shape[d]);
            return NULL;
        } else
            known *= shape[d];
    }
    int64_t numel = clg_tensor_numel(a);
    if (inferred >= 0)
        resolved[inferred] = known ? numel / known : 0;
    if (eng_numel(rank, resolved) != numel || (inferred >= 0 && known && numel % known)) {
        char want[96] = "[";
        for (int d = 0; d < rank; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? ", " : "",
                     (long long)shape[d]);
        strncat(want, "]", sizeof want - strlen(want) - 1);
        eng_fail(ctx, CLG_STATUS_SHAPE, "clg_reshape: cannot reshape %s (%lld elements) to %s",
                 eng_shape_str(a, s, sizeof s), (long long)numel, want);
        return NULL;
    }
    clg_tensor *src = eng_contiguous(ctx, a);
    if (!src)
        return NULL;
    int64_t strides[CLG_MAX_RANK];
    eng_contiguous_strides(rank, resolved, strides);
    clg_tensor *out = eng_view(ctx, src, rank, resolved, strides, src->offset);
    if (out && eng_needs_grad(ctx, 1, &src))
        if (!eng_record(ctx, "clg_reshape", view_backward, out, 1, &src, sizeof(view_saved)))
            return NULL;
    return out;
}

/* torch.flatten(a, start_axis): a reshape merging axes start_axis.. into one
 * (a rank-0 tensor becomes shape [1], as in PyTorch). */
CLG_API clg_tensor *clg_flatten(clg_tensor *a, int start_axis)
{
    clg_context *ctx = eng_op_begin("clg_flatten", 1, &a);
    if (!ctx)
        return NULL;
    if (a->rank == 0 && (start_axis == 0 || start_axis == -1))
        return clg_reshape(a, 1, (int64_t[]){1});
    int start = eng_axis(ctx, "clg_flatten", a, start_axis);
    if (start < 0)
        return NULL;
    int64_t shape[CLG_MAX_RANK];
    for (int d = 0; d < start; d++)
        shape[d] = a->shape[d];
    shape[start] = eng_numel(a->rank - start, a->shape + start);
    return clg_reshape(a, start + 1, shape);
}
