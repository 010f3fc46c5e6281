/* optim/optim.c: SGD (plain, heavy-ball momentum, Nesterov), RMSprop, Adam
 * and AdamW with PyTorch 1.13's update rules (torch.optim, single-tensor
 * path) and defaults.
 *
 * Each step enqueues one fused kernel (optim/optim.cl) per parameter that has
 * a gradient: the update and the optimizer state together. The scalars that
 * depend on the step count (Adam's bias corrections) are computed here in
 * double, as Python does, and passed as float arguments, so a step never
 * reads from the device. State tensors are allocated by clg_optim_create,
 * never by a step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "optim/optim.h"

#define SOURCE "optim/optim.cl"

static const char *const kind_names[] = {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])

CLG_API clg_optim_options clg_optim_options_default(clg_optim_kind kind)
{
    clg_optim_options o = {
        .kind = kind,
        .lr = 0.1f,
        .momentum = 0.0f,
        .dampening = 0.0f,
        .weight_decay = 0.0f,
        .alpha = 0.99f,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .centered = false,
    };
    switch (kind) {
    case CLG_OPTIM_SGD: break;
    case CLG_OPTIM_MOMENTUM:
    case CLG_OPTIM_NESTEROV: o.momentum = 0.9f; break;
    case CLG_OPTIM_RMSPROP: o.lr = 1e-2f; break;
    case CLG_OPTIM_ADAM: o.lr = 1e-3f; break;
    case CLG_OPTIM_ADAMW:
        o.lr = 1e-3f;
        o.weight_decay = 1e-2f;
        break;
    }
    return o;
}

CLG_API bool clg_optim_kind_parse(const char *name, clg_optim_kind *kind)
{
    for (size_t k = 0; name && k < N_KINDS; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *kind = (clg_optim_kind)k;
            return true;
        }
    return false;
}

CLG_API const char *clg_optim_kind_name(clg_optim_kind kind)
{
    return (unsigned)kind < N_KINDS ? kind_names[kind] : "unknown";
}

/* PyTorch's constructor checks, plus Nesterov's own. */
static bool check_options(clg_context *ctx, const clg_optim_options *o)
{
    const char *bad = NULL;
    if ((unsigned)o->kind >= N_KINDS)
        bad = "kind is not a clg_optim_kind";
    else if (!(o->lr >= 0))
        bad = "lr must be >= 0";
    else if (!(o->momentum >= 0))
        bad = "momentum must be >= 0";
    else if (!(o->weight_decay >= 0))
        bad = "weight_decay must be >= 0";
    else if (!(o->eps >= 0))
        bad = "eps must be >= 0";
    else if (o->kind == CLG_OPTIM_RMSPROP && !(o->alpha >= 0))
        bad = "alpha must be >= 0";
    else if ((o->kind == CLG_OPTIM_ADAM || o->kind == CLG_OPTIM_ADAMW) &&
             !(o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1))
        bad = "beta1 and beta2 must be in [0, 1)";
    else if (o->kind == CLG_OPTIM_NESTEROV && !(o->momentum > 0 && o->dampening == 0))
        bad = "Nesterov momentum needs momentum > 0 and zero dampening";
    if (bad)
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "clg_optim_create (%s): %s",
                 clg_optim_kind_name(o->kind), bad);
    return bad == NULL;
}

const char *optim_state_name(const clg_optim_options *o, int s)
{
    switch (o->kind) {
    case CLG_OPTIM_SGD:
    case CLG_OPTIM_MOMENTUM:
    case CLG_OPTIM_NESTEROV: return s == 0 && o->momentum != 0 ? "momentum_buffer" : NULL;
    case CLG_OPTIM_RMSPROP:
        return s == 0                      ? "square_avg"
               : s == 1 && o->centered     ? "grad_avg"
               : s == 2 && o->momentum > 0 ? "momentum_buffer"
                                           : NULL;
    case CLG_OPTIM_ADAM:
    case CLG_OPTIM_ADAMW: return s == 0 ? "exp_avg" : s == 1 ? "exp_avg_sq" : NULL;
    }
    return NULL;
}

CLG_API clg_optim *clg_optim_create(clg_context *ctx, const clg_params *params,
                                    const clg_optim_options *options)
{
    if (eng_failed(ctx))
        return NULL;
    if (!params || !options) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "clg_optim_create: params and options are "
                                                   "required");
        return NULL;
    }
    if (!check_options(ctx, options))
        return NULL;
    clg_optim *opt = calloc(1, sizeof *opt);
    size_t count = clg_params_count(params);
    if (opt)
        opt->slots = calloc(count ? count : 1, sizeof *opt->slots);
    if (!opt || !opt->slots) {
        free(opt);
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "clg_optim_create: out of host memory");
        return NULL;
    }
    opt->ctx = ctx;
    opt->params = params;
    opt->options = *options;
    opt->count = 0;
    for (size_t i = 0; i < count; i++) {
        if (clg_params_is_buffer(params, i))
            continue; /* saved state such as running statistics: never trained */
        clg_tensor *p = clg_params_tensor(params, i);
        optim_slot *slot = &opt->slots[opt->count++];
        slot->param = p;
        slot->index = i;
        if (p->ctx != ctx || p->dtype != CLG_DTYPE_F32 || !clg_tensor_is_contiguous(p)) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "clg_optim_create: parameter \"%s\" must be a contiguous float32 tensor of "
                     "this context",
                     clg_params_name(params, i));
            clg_optim_destroy(opt);
            return NULL;
        }
        for (int s = 0; s < OPTIM_STATES; s++) {
            if (!optim_state_name(options, s))
                continue;
            /* zeros: PyTorch's initial exp_avg, square_avg, ... */
            slot->state[s] = clg_tensor_create(ctx, CLG_DTYPE_F32, p->rank, p->shape);
            if (!slot->state[s]) {
                clg_optim_destroy(opt);
                return NULL;
            }
        }
    }
    return opt;
}

CLG_API void clg_optim_destroy(clg_optim *opt)
{
    if (!opt)
        return;
    for (size_t i = 0; i < opt->count; i++)
        for (int s = 0; s < OPTIM_STATES; s++)
            clg_tensor_destroy(opt->slots[i].state[s]);
    free(opt->slots);
    free(opt);
}

/* Kernel arguments collected one by one: clrt_arg points at its value, so
 * the values live here, beside the arguments, until the launch. */
typedef struct kernel_args {
    clrt_arg args[24];
    union {
        cl_int i;
        cl_float f;
    } values[24];
    int n;
} kernel_args;

static void arg_mem(kernel_args *a, const clg_tensor *t)
{
    a->args[a->n++] = CLRT_ARG_BUFFER(t->mem, clg_tensor_numel(t));
    a->values[a->n].i = (cl_int)t->offset;
    a->args[a->n] = (clrt_arg){sizeof(cl_int), &a->values[a->n].i, 0};
    a->n++;
}

static void arg_int(kernel_args *a, int v)
{
    a->values[a->n].i = (cl_int)v;
    a->args[a->n] = (clrt_arg){sizeof(cl_int), &a->values[a->n].i, 0};
    a->n++;
}

static void arg_float(kernel_args *a, double v)
{
    a->values[a->n].f = (cl_float)v;
    a->args[a->n] = (clrt_arg){sizeof(cl_float), &a->values[a->n].f, 0};
    a->n++;
}

/* A state tensor's buffer and offset, or the parameter's as a stand-in that
 * the kernel never touches when the options need no such state. */
static void arg_state(kernel_args *a, const optim_slot *slot, int s)
{
    arg_mem(a, slot->state[s] ? slot->state[s] : slot->param);
}

/* Adam's bias corrections at step `step`: lr / (1 - beta1^t) and
 * sqrt(1 - beta2^t), as PyTorch forms them in double. */
static double adam_step_size(const clg_optim_options *o, double step)
{
    return (double)o->lr / (1.0 - pow((double)o->beta1, step));
}

static double adam_bias2_sqrt(const clg_optim_options *o, double step)
{
    return sqrt(1.0 - pow((double)o->beta2, step));
}

/* Adam's scalars in the order of the kernels' float16 h (optim/optim.cl):
 * beta1, 1 - beta1, beta2, 1 - beta2, eps, weight_decay, param_scale; the
 * step sizes and bias corrections follow, per launch. */
static cl_float16 adam_scalars(const clg_optim_options *o)
{
    cl_float16 h = {{0}};
    h.s[0] = o->beta1;
    h.s[1] = (cl_float)(1.0 - (double)o->beta1);
    h.s[2] = o->beta2;
    h.s[3] = (cl_float)(1.0 - (double)o->beta2);
    h.s[4] = o->eps;
    h.s[5] = o->weight_decay;
    h.s[6] = (cl_float)(1.0 - (double)o->lr * (double)o->weight_decay);
    return h;
}

/* A state tensor, or the parameter as a stand-in that the kernel never
 * touches when the options need no such state. */
static const clg_tensor *state_or_param(const optim_slot *slot, int s)
{
    return slot->state[s] ? slot->state[s] : slot->param;
}

/* Adam's work-items for a tensor of n elements: one per vector of the
 * plan's width (optim/optim.cl). */
static size_t adam_items(const clg_context *ctx, int64_t n)
{
    size_t width = (size_t)ctx->rt.plan.vector_width;
    return ((size_t)n + width - 1) / width;
}

/* One tensor's Adam step (adam_step), its scalars packed into three vector
 * arguments. */
static void adam_one(clg_optim *opt, optim_slot *slot, const clg_tensor *grad, double step, int n)
{
    const clg_optim_options *o = &opt->options;
    const clg_tensor *p = slot->param, *m = state_or_param(slot, 0), *v = state_or_param(slot, 1);
    cl_int4 off = {{(cl_int)p->offset, (cl_int)grad->offset, (cl_int)m->offset, (cl_int)v->offset}};
    cl_float16 h = adam_scalars(o);
    h.s[7] = (cl_float)adam_step_size(o, step);
    h.s[8] = (cl_float)adam_bias2_sqrt(o, step);
    cl_int2 flags = {{o->kind == CLG_OPTIM_ADAMW, n}};
    clrt_arg args[] = {CLRT_ARG_BUFFER(p->mem, n),
                       CLRT_ARG_BUFFER(grad->mem, clg_tensor_numel(grad)),
                       CLRT_ARG_BUFFER(m->mem, clg_tensor_numel(m)),
                       CLRT_ARG_BUFFER(v->mem, clg_tensor_numel(v)),
                       CLRT_ARG_VECTOR(off),
                       CLRT_ARG_VECTOR(h),
                       CLRT_ARG_VECTOR(flags)};
    cl_kernel kernel = clrt_kernel(&opt->ctx->rt, SOURCE, NULL, "adam_step");
    if (!kernel)
        return;
    size_t global = adam_items(opt->ctx, n), local = opt->ctx->rt.plan.group;
    clrt_launch(&opt->ctx->rt, kernel, 1, &global, &local, 7, args);
}

static void step_one(clg_optim *opt, optim_slot *slot, const clg_tensor *grad)
{
    clg_context *ctx = opt->ctx;
    const clg_optim_options *o = &opt->options;
    clg_tensor *p = slot->param;
    int n = (int)clg_tensor_numel(p);
    slot->steps++;
    if (n == 0)
        return;
    /* Scalars as PyTorch forms them: Python doubles, rounded to float when
     * they reach the kernel. */
    double step = (double)slot->steps;
    if (o->kind == CLG_OPTIM_ADAM || o->kind == CLG_OPTIM_ADAMW) {
        adam_one(opt, slot, grad, step, n);
        return;
    }
    const char *name = NULL;
    kernel_args a = {.n = 0};
    arg_mem(&a, p);
    arg_mem(&a, grad);
    switch (o->kind) {
    case CLG_OPTIM_SGD:
    case CLG_OPTIM_MOMENTUM:
    case CLG_OPTIM_NESTEROV:
        name = "sgd_step";
        arg_state(&a, slot, 0);
        arg_float(&a, o->lr);
        arg_float(&a, o->weight_decay);
        arg_float(&a, o->momentum);
        arg_float(&a, 1.0 - (double)o->dampening);
        arg_int(&a, o->kind == CLG_OPTIM_NESTEROV);
        arg_int(&a, slot->steps == 1);
        break;
    case CLG_OPTIM_RMSPROP:
        name = "rmsprop_step";
        for (int s = 0; s < OPTIM_STATES; s++)
            arg_state(&a, slot, s);
        arg_float(&a, o->lr);
        arg_float(&a, o->weight_decay);
        arg_float(&a, o->alpha);
        arg_float(&a, 1.0 - (double)o->alpha);
        arg_float(&a, o->eps);
        arg_float(&a, o->momentum);
        arg_int(&a, o->centered);
        break;
    case CLG_OPTIM_ADAM:
    case CLG_OPTIM_ADAMW: return; /* adam_one, above */
    }
    arg_int(&a, n);
    cl_kernel kernel = clrt_kernel(&ctx->rt, SOURCE, NULL, name);
    if (!kernel)
        return;
    size_t global = (size_t)n, local = ctx->rt.plan.group;
    clrt_launch(&ctx->rt, kernel, 1, &global, &local, a.n, a.args);
}

/* Adam's tensors of at most OPTIM_GROUP_MAX elements go OPTIM_GROUP to a
 * launch (adam_step4 in optim/optim.cl): PoCL spends about as long readying
 * a launch as updating such a tensor, so the MLP's six tensors take 3
 * launches instead of 6 and the autoencoder's twelve 3 instead of 12.
 * Larger tensors keep a launch of their own. */
#define OPTIM_GROUP 4
#define OPTIM_GROUP_MAX 16384

/* One launch over `count` (2 to OPTIM_GROUP) tensors; the unused slots of
 * the kernel repeat the first tensor's buffers and are never reached. */
static void adam_group(clg_optim *opt, optim_slot *const *slots, const clg_tensor *const *grads,
                       int count)
{
    clg_context *ctx = opt->ctx;
    const clg_optim_options *o = &opt->options;
    /* Per tensor k: four buffers, offsets off.s[4k..4k+3], step size
     * h.s[7+k], bias correction h.s[11+k], end in work-items flags.s[1+k],
     * size flags.s[5+k] (the kernel's order, optim/optim.cl). */
    clrt_arg args[4 * OPTIM_GROUP + 3];
    cl_int16 off = {{0}};
    cl_float16 h = adam_scalars(o);
    cl_int16 flags = {{o->kind == CLG_OPTIM_ADAMW}};
    size_t end = 0;
    for (int k = 0; k < OPTIM_GROUP; k++) {
        int j = k < count ? k : 0;
        h.s[11 + k] = 1.0f;
        if (k < count) {
            double step = (double)++slots[k]->steps;
            int64_t n = clg_tensor_numel(slots[k]->param);
            h.s[7 + k] = (cl_float)adam_step_size(o, step);
            h.s[11 + k] = (cl_float)adam_bias2_sqrt(o, step);
            end += adam_items(ctx, n);
            flags.s[5 + k] = (cl_int)n;
        }
        flags.s[1 + k] = (cl_int)end;
        const clg_tensor *t[4] = {slots[j]->param, grads[j], state_or_param(slots[j], 0),
                                  state_or_param(slots[j], 1)};
        for (int i = 0; i < 4; i++) {
            off.s[4 * k + i] = (cl_int)t[i]->offset;
            args[4 * k + i] = CLRT_ARG_BUFFER(t[i]->mem, clg_tensor_numel(t[i]));
        }
    }
    args[4 * OPTIM_GROUP] = CLRT_ARG_VECTOR(off);
    args[4 * OPTIM_GROUP + 1] = CLRT_ARG_VECTOR(h);
    args[4 * OPTIM_GROUP + 2] = CLRT_ARG_VECTOR(flags);
    cl_kernel kernel = clrt_kernel(&ctx->rt, SOURCE, NULL, "adam_step4");
    if (!kernel)
        return;
    size_t global = end, local = ctx->rt.plan.group;
    clrt_launch(&ctx->rt, kernel, 1, &global, &local, 4 * OPTIM_GROUP + 3, args);
}

CLG_API clg_status clg_optim_step(clg_optim *opt)
{
    clg_context *ctx = opt->ctx;
    bool adam = opt->options.kind == CLG_OPTIM_ADAM || opt->options.kind == CLG_OPTIM_ADAMW;
    optim_slot *group[OPTIM_GROUP];
    const clg_tensor *grads[OPTIM_GROUP];
    int grouped = 0;
    for (size_t i = 0; i < opt->count && !eng_failed(ctx); i++) {
        optim_slot *slot = &opt->slots[i];
        const clg_tensor *grad = clg_tensor_grad(slot->param);
        if (!grad) /* none: skipped, and its step count stays, as in PyTorch */
            continue;
        int64_t n = clg_tensor_numel(slot->param);
        if (!adam || n == 0 || n > OPTIM_GROUP_MAX) {
            step_one(opt, slot, grad);
            continue;
        }
        group[grouped] = slot;
        grads[grouped++] = grad;
        if (grouped == OPTIM_GROUP) {
            adam_group(opt, group, grads, grouped);
            grouped = 0;
        }
    }
    if (grouped == 1)
        step_one(opt, group[0], grads[0]);
    else if (grouped > 1 && !eng_failed(ctx))
        adam_group(opt, group, grads, grouped);
    return ctx->rt.error.status;
}

CLG_API void clg_optim_zero_grad(clg_optim *opt)
{
    for (size_t i = 0; i < opt->count; i++)
        clg_tensor_zero_grad(opt->slots[i].param);
}

CLG_API void clg_optim_set_lr(clg_optim *opt, float lr)
{
    opt->options.lr = lr;
}

/* The clip_sumsq slots of a gradient of n elements: one, unless the plan
 * bounds a work-item's loops (Mesa's llvmpipe ends them after 65,535
 * iterations, silently: a gradient of more than 4M floats would lose its
 * tail): then pieces of at most `piece` elements, a slot each (the total
 * adds the slots' squares: the same norm). */
static size_t clip_piece(const clg_context *ctx)
{
    const clrt_plan *plan = &ctx->rt.plan;
    size_t tree = 0;
    for (size_t w = plan->reduce_group / 2; w > 0; w /= 2)
        tree++;
    return plan->loop_limit > tree ? (plan->loop_limit - tree) * plan->reduce_group : 0;
}

static size_t clip_slots(size_t piece, size_t n)
{
    return piece == 0 || n <= piece ? 1 : (n + piece - 1) / piece;
}

/* Gradient clipping by global norm: clip_sumsq launches per gradient into
 * step-arena slots (one, or one per piece: clip_slots), then one
 * clip_scale per gradient, which recomputes the total from the slots
 * itself; nothing is read back unless the caller asks for the norm. A
 * clip_scale launch must see every slot written, so all reductions are
 * enqueued first (the queue is in order). */
CLG_API clg_status clg_clip_grad_norm(const clg_params *params, float max_norm,
                                      float *total_norm)
{
    if (!params)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = NULL;
    size_t count = clg_params_count(params), n_grads = 0, piece = 0;
    for (size_t i = 0; i < count; i++) {
        clg_tensor *p = clg_params_tensor(params, i);
        ctx = p->ctx;
        piece = clip_piece(ctx);
        if (!clg_params_is_buffer(params, i) && clg_tensor_grad(p))
            n_grads += clip_slots(piece, (size_t)clg_tensor_numel(clg_tensor_grad(p)));
    }
    if (total_norm)
        *total_norm = 0.0f;
    if (!ctx)
        return CLG_STATUS_OK;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!(max_norm >= 0))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_clip_grad_norm: max_norm must be >= 0, not %g", (double)max_norm);
    if (n_grads == 0)
        return CLG_STATUS_OK;
    /* clip_scale's work-items each add up every slot */
    if (!clrt_loops_fit(&ctx->rt, "clg_clip_grad_norm", n_grads))
        return ctx->rt.error.status;
    int64_t slots = (int64_t)n_grads + 1;
    clg_tensor *sumsq = eng_new(ctx, CLG_DTYPE_F32, 1, &slots);
    cl_kernel reduce = clrt_kernel(&ctx->rt, SOURCE, NULL, "clip_sumsq");
    cl_kernel scale = clrt_kernel(&ctx->rt, SOURCE, NULL, "clip_scale");
    if (!sumsq || !reduce || !scale)
        return ctx->rt.error.status;
    for (int pass = 0; pass < 2; pass++) {
        int slot = 0;
        for (size_t i = 0; i < count && !eng_failed(ctx); i++) {
            const clg_tensor *g = clg_tensor_grad(clg_params_tensor(params, i));
            if (clg_params_is_buffer(params, i) || !g)
                continue;
            int n = (int)clg_tensor_numel(g);
            size_t local = ctx->rt.plan.reduce_group, global = local;
            if (pass == 0) {
                size_t pieces = clip_slots(piece, (size_t)n);
                for (size_t k = 0; k < pieces && !eng_failed(ctx); k++) {
                    size_t begin = k * piece, end = pieces == 1 ? (size_t)n : begin + piece;
                    end = end < (size_t)n ? end : (size_t)n;
                    clrt_arg args[] = {CLRT_ARG_BUFFER(g->mem, clg_tensor_numel(g)),
                                       CLRT_ARG_INT(g->offset + begin),
                                       CLRT_ARG_INT(end - begin),
                                       ENG_ARG_TENSOR(sumsq),
                                       CLRT_ARG_INT(slot),
                                       CLRT_ARG_LOCAL(local * sizeof(cl_float))};
                    clrt_launch(&ctx->rt, reduce, 1, &global, &local,
                                (int)(sizeof args / sizeof args[0]), args);
                    slot++;
                }
                continue;
            }
            global = (size_t)(n > 0 ? n : 1);
            clrt_arg args[] = {ENG_ARG_TENSOR(g),   CLRT_ARG_INT(n),
                               ENG_ARG_TENSOR(sumsq), CLRT_ARG_INT(n_grads),
                               CLRT_ARG_FLOAT(max_norm), CLRT_ARG_INT(slot == 0)};
            clrt_launch(&ctx->rt, scale, 1, &global, &local,
                        (int)(sizeof args / sizeof args[0]), args);
            slot++;
        }
    }
    if (total_norm && !eng_failed(ctx)) {
        clrt_read(&ctx->rt, sumsq->mem, (sumsq->offset + n_grads) * sizeof(float), total_norm,
                  sizeof(float));
    }
    return ctx->rt.error.status;
}
