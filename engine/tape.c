/* engine/tape.c: recording ops, accumulating gradients and walking the
 * tape back. Depends on engine/tensor.c, never the other way round.
 *
 * Nodes live in the step's host arena, linked to their predecessor; ops
 * append them in execution order, which is a topological order, so walking
 * from the last node to the first visits every consumer before its inputs.
 * Each op's backward rule sits beside its forward in ops/. */
#include <string.h>

#include "engine/engine.h"

bool eng_needs_grad(const clg_context *ctx, int n, clg_tensor *const *inputs)
{
    if (!ctx->grad_enabled)
        return false;
    for (int i = 0; i < n; i++)
        if (inputs[i] && inputs[i]->requires_grad)
            return true;
    return false;
}

eng_node *eng_record(clg_context *ctx, const char *name, eng_backward_fn backward,
                     clg_tensor *output, int n, clg_tensor *const *inputs, size_t state_bytes)
{
    eng_node *node = eng_host_alloc(ctx, sizeof *node);
    if (!node)
        return NULL;
    memset(node, 0, sizeof *node);
    if (state_bytes) {
        /* the arena rounds to max_align_t, so any struct fits aligned */
        node->state = eng_host_alloc(ctx, state_bytes);
        if (!node->state)
            return NULL;
        memset(node->state, 0, state_bytes);
    }
    node->name = name;
    node->backward = backward;
    node->output = output;
    node->n_inputs = n;
    for (int i = 0; i < n; i++)
        node->inputs[i] = inputs[i];
    node->prev = ctx->tape_last;
    ctx->tape_last = node;
    output->requires_grad = true;
    return node;
}

clg_tensor *eng_grad_dest(clg_context *ctx, clg_tensor *t, bool *accumulate)
{
    if (!t || !t->requires_grad || eng_failed(ctx))
        return NULL;
    if (!t->grad) {
        if (t->persistent) {
            t->grad = clg_tensor_create(ctx, CLG_DTYPE_F32, t->rank, t->shape);
        } else {
            t->grad = eng_new(ctx, CLG_DTYPE_F32, t->rank, t->shape);
        }
        if (!t->grad)
            return NULL;
        t->has_grad = false;
    }
    *accumulate = t->has_grad;
    t->has_grad = true;
    return t->grad;
}

void eng_grad_accumulate(clg_context *ctx, clg_tensor *t, const clg_tensor *src)
{
    bool accumulate = false;
    clg_tensor *g = eng_grad_dest(ctx, t, &accumulate);
    if (!g)
        return;
    if (!accumulate && clg_tensor_is_contiguous(src)) {
        clrt_copy(&ctx->rt, src->mem, src->offset * 4, g->mem, g->offset * 4,
                  (size_t)clg_tensor_numel(src) * 4);
        return;
    }
    int flag = accumulate;
    eng_launch_strided(ctx, "accumulate_strided", src, g, &flag);
}

static void contiguous_backward(clg_context *ctx, const eng_node *node)
{
    eng_grad_accumulate(ctx, node->inputs[0], node->output->grad);
}

clg_tensor *eng_contiguous(clg_context *ctx, clg_tensor *src)
{
    if (clg_tensor_is_contiguous(src))
        return src;
    clg_tensor *dst = eng_new(ctx, src->dtype, src->rank, src->shape);
    if (!dst || clg_tensor_copy(dst, src) != CLG_STATUS_OK)
        return NULL;
    if (eng_needs_grad(ctx, 1, &src))
        eng_record(ctx, "contiguous", contiguous_backward, dst, 1, &src, 0);
    return dst;
}

/* seed NULL: the output's gradient is 1 (clg_backward's scalar loss). */
static clg_status walk(clg_context *ctx, clg_tensor *output, const clg_tensor *seed)
{
    if (!output->requires_grad)
        return eng_fail(ctx, CLG_STATUS_STATE,
                        "clg_backward: the output does not require a gradient (no tensor that "
                        "requires one reached it, or grad mode was off)");
    if (ctx->tape_consumed)
        return eng_fail(ctx, CLG_STATUS_STATE,
                        "clg_backward: this step's tape was already walked; call it once per "
                        "step (between clg_step_begin and clg_step_end)");
    ctx->tape_consumed = true;
    /* Added to whatever gradient a leaf output already has, as in PyTorch.
     * A loss without one gets its 1 filled straight into its gradient: one
     * command, where filling a seed and copying it there took two, every
     * step. */
    if (!seed && !(output->grad && output->has_grad)) {
        bool accumulate = false;
        clg_tensor *g = eng_grad_dest(ctx, output, &accumulate);
        if (g)
            clg_tensor_fill(g, 1.0f);
    } else if (!seed) {
        clg_tensor *one = clg_tensor_full(ctx, output->rank, output->shape, 1.0f);
        if (one)
            eng_grad_accumulate(ctx, output, one);
    } else {
        eng_grad_accumulate(ctx, output, seed);
    }
    eng_walk_hook hook = ctx->walk_hook;
    if (hook)
        hook(ctx->walk_hook_arg, ENG_WALK_BEGIN, ctx->tape_last);
    for (eng_node *node = ctx->tape_last; node && !eng_failed(ctx); node = node->prev) {
        if (node->output->has_grad)
            node->backward(ctx, node);
        if (hook)
            hook(ctx->walk_hook_arg, ENG_WALK_NODE, node);
    }
    if (hook)
        hook(ctx->walk_hook_arg, ENG_WALK_END, NULL);
    return ctx->rt.error.status;
}

CLG_API clg_status clg_backward(clg_tensor *loss)
{
    if (!loss) /* a failed forward: its error is already in the context */
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = loss->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    char s[64];
    if (loss->dtype != CLG_DTYPE_F32 || clg_tensor_numel(loss) != 1)
        return eng_fail(ctx, CLG_STATUS_SHAPE,
                        "clg_backward: the loss must be one float32 element, not shape %s "
                        "(use clg_backward_with for other outputs)",
                        eng_shape_str(loss, s, sizeof s));
    return walk(ctx, loss, NULL);
}

CLG_API clg_status clg_backward_with(clg_tensor *output, const clg_tensor *grad_output)
{
    if (!output)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = output->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!grad_output || !eng_same_shape(output, grad_output) || grad_output->dtype != CLG_DTYPE_F32) {
        char a[64], b[64] = "none";
        if (grad_output)
            eng_shape_str(grad_output, b, sizeof b);
        return eng_fail(ctx, CLG_STATUS_SHAPE,
                        "clg_backward_with: the gradient's shape %s differs from the output's %s",
                        b, eng_shape_str(output, a, sizeof a));
    }
    return walk(ctx, output, grad_output);
}
