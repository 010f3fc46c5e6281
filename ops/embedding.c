/* ops/embedding.c: embedding lookup, torch.nn.functional.embedding.
 *
 *   out[..., d] = weight[ids[...], d]        weight (V, D), ids int32 (...)
 *   dweight[v, d] = sum over positions p with ids[p] == v of g[p, d]
 * The ids get no gradient. The backward is a gather, not a scatter: each
 * work-item owns one element of dweight (ops/embedding.cl), so it is
 * deterministic and atomic-free.
 * Ids live on the device, so clg_embedding cannot check them without a host
 * sync: an out-of-range id turns its output row into NaN (and adds nothing to
 * the gradient). clg_embedding_host takes the ids from host memory, checks
 * each one there and reports the first bad one as an error. */
#include <stdio.h>

#include "ops/internal.h"

#define SOURCE "ops/embedding.cl"

static void embedding_backward(clg_context *ctx, const eng_node *node)
{
    clg_tensor *weight = node->inputs[0], *ids = node->saved[0], *g = node->output->grad;
    bool accumulate = false;
    clg_tensor *dw = eng_grad_dest(ctx, weight, &accumulate);
    if (!dw)
        return;
    int V = (int)weight->shape[0], D = (int)weight->shape[1], M = (int)clg_tensor_numel(ids);
    /* a work-item scans every id */
    char s[64];
    if (!op_loops_fit(ctx, V > 0 && D > 0 ? (size_t)M : 0, "clg_embedding backward of ids %s",
                      eng_shape_str(ids, s, sizeof s)))
        return;
    OP_LAUNCH(ctx, SOURCE, "embedding_backward", (size_t)V * (size_t)D, ENG_ARG_TENSOR(g),
              ENG_ARG_TENSOR(ids), ENG_ARG_TENSOR(dw), CLRT_ARG_INT(M), CLRT_ARG_INT(V),
              CLRT_ARG_INT(D), CLRT_ARG_INT(accumulate));
}

CLG_API clg_tensor *clg_embedding(clg_tensor *weight, clg_tensor *ids)
{
    clg_tensor *inputs[2] = {weight, ids};
    clg_context *ctx = eng_op_begin("clg_embedding", 2, inputs);
    if (!ctx)
        return NULL;
    char a[64], b[64];
    if (weight->dtype != CLG_DTYPE_F32 || weight->rank != 2 || ids->dtype != CLG_DTYPE_I32 ||
        ids->rank >= CLG_MAX_RANK) {
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 "clg_embedding: weight %s must be float32 (V, D) and ids %s int32 of rank < %d",
                 eng_shape_str(weight, a, sizeof a), eng_shape_str(ids, b, sizeof b), CLG_MAX_RANK);
        return NULL;
    }
    clg_tensor *w = eng_contiguous(ctx, weight);
    if (!w || !(ids = eng_contiguous(ctx, ids)))
        return NULL;
    int64_t shape[CLG_MAX_RANK];
    for (int d = 0; d < ids->rank; d++)
        shape[d] = ids->shape[d];
    shape[ids->rank] = weight->shape[1];
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, ids->rank + 1, shape);
    if (!out)
        return NULL;
    int M = (int)clg_tensor_numel(ids), V = (int)weight->shape[0], D = (int)weight->shape[1];
    if (M > 0 && D > 0 &&
        !OP_LAUNCH(ctx, SOURCE, "embedding_forward", (size_t)M * (size_t)D, ENG_ARG_TENSOR(w),
                   ENG_ARG_TENSOR(ids), ENG_ARG_TENSOR(out), CLRT_ARG_INT(M), CLRT_ARG_INT(V),
                   CLRT_ARG_INT(D)))
        return NULL;
    if (eng_needs_grad(ctx, 1, &w)) {
        eng_node *node = eng_record(ctx, "clg_embedding", embedding_backward, out, 1, &w, 0);
        if (!node)
            return NULL;
        node->saved[0] = ids;
    }
    return out;
}

CLG_API clg_tensor *clg_embedding_host(clg_tensor *weight, const int32_t *ids, int rank,
                                       const int64_t *shape)
{
    clg_context *ctx = eng_op_begin("clg_embedding", 1, &weight);
    if (!ctx)
        return NULL;
    if (weight->rank != 2 || rank < 0 || rank >= CLG_MAX_RANK || (!ids && rank > 0)) {
        char a[64];
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 "clg_embedding: weight %s must be (V, D) and the ids of rank 0..%d (got %d)",
                 eng_shape_str(weight, a, sizeof a), CLG_MAX_RANK - 1, rank);
        return NULL;
    }
    int64_t n = eng_numel(rank, shape), V = weight->shape[0];
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V) {
            char a[64], b[128] = "[";
            size_t used = 1;
            for (int d = 0; d < rank && used < sizeof b; d++)
                used += (size_t)snprintf(b + used, sizeof b - used, "%s%lld", d ? ", " : "",
                                         (long long)shape[d]);
            if (used < sizeof b)
                snprintf(b + used, sizeof b - used, "]");
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "clg_embedding: id %d at position %lld of ids %s is outside [0, %lld) for "
                     "weight %s",
                     (int)ids[i], (long long)i, b, (long long)V,
                     eng_shape_str(weight, a, sizeof a));
            return NULL;
        }
    clg_tensor *t = clg_tensor_from_host(ctx, CLG_DTYPE_I32, rank, shape, ids);
    return t ? clg_embedding(weight, t) : NULL;
}
