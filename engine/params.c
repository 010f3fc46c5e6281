/* engine/params.c: named parameter lists, what optimizers and checkpoints
 * walk. A list of named tensors needs nothing above the engine, so it lives
 * here, where nn/, optim/, data/ (checkpoints) and dist/ may all use it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgrad/tensor.h"
#include "engine/engine.h"

struct clg_params {
    clg_context *ctx;
    char **names;
    clg_tensor **tensors;
    bool *buffers; /* true: saved, never trained */
    size_t count;
    size_t capacity;
};

CLG_API clg_params *clg_params_create(clg_context *ctx)
{
    clg_params *ps = calloc(1, sizeof *ps);
    if (!ps) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    ps->ctx = ctx;
    return ps;
}

CLG_API void clg_params_destroy(clg_params *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->count; i++)
        free(ps->names[i]);
    free(ps->names);
    free(ps->tensors);
    free(ps->buffers);
    free(ps);
}

static clg_status add(clg_params *ps, const char *name, clg_tensor *tensor, bool buffer)
{
    clg_context *ctx = ps->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!name)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "clg_params_add: the name is NULL");
    if (!tensor || !tensor->persistent || tensor->dtype != CLG_DTYPE_F32)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_params_add: \"%s\" must be a persistent float32 tensor", name);
    if (clg_params_find(ps, name))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_params_add: a parameter named \"%s\" is already there", name);
    if (ps->count == ps->capacity) {
        size_t cap = ps->capacity ? 2 * ps->capacity : 8;
        char **names = realloc(ps->names, cap * sizeof *names);
        if (names)
            ps->names = names;
        clg_tensor **tensors = realloc(ps->tensors, cap * sizeof *tensors);
        if (tensors)
            ps->tensors = tensors;
        bool *buffers = realloc(ps->buffers, cap * sizeof *buffers);
        if (buffers)
            ps->buffers = buffers;
        if (!names || !tensors || !buffers)
            return eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
        ps->capacity = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
    ps->names[ps->count] = copy;
    ps->tensors[ps->count] = tensor;
    ps->buffers[ps->count] = buffer;
    ps->count++;
    tensor->requires_grad = !buffer;
    return CLG_STATUS_OK;
}

CLG_API clg_status clg_params_add(clg_params *ps, const char *name, clg_tensor *tensor)
{
    return add(ps, name, tensor, false);
}

CLG_API clg_status clg_params_add_buffer(clg_params *ps, const char *name, clg_tensor *tensor)
{
    return add(ps, name, tensor, true);
}

CLG_API bool clg_params_is_buffer(const clg_params *ps, size_t index)
{
    return index < ps->count && ps->buffers[index];
}

CLG_API clg_status clg_params_extend(clg_params *ps, const char *prefix, const clg_params *other)
{
    size_t count = other->count; /* fixed first: `other` may be `ps` itself */
    for (size_t i = 0; i < count; i++) {
        char name[512];
        if (snprintf(name, sizeof name, "%s%s", prefix ? prefix : "", other->names[i]) >=
            (int)sizeof name)
            return eng_fail(ps->ctx, CLG_STATUS_INVALID_ARGUMENT,
                            "clg_params_extend: \"%s%s\" is longer than %zu bytes",
                            prefix ? prefix : "", other->names[i], sizeof name - 1);
        clg_status status = add(ps, name, other->tensors[i], other->buffers[i]);
        if (status != CLG_STATUS_OK)
            return status;
    }
    return CLG_STATUS_OK;
}

CLG_API size_t clg_params_count(const clg_params *ps) { return ps->count; }

CLG_API int64_t clg_params_numel(const clg_params *ps)
{
    int64_t total = 0;
    for (size_t i = 0; i < ps->count; i++)
        if (!ps->buffers[i])
            total += clg_tensor_numel(ps->tensors[i]);
    return total;
}

CLG_API const char *clg_params_name(const clg_params *ps, size_t index)
{
    return index < ps->count ? ps->names[index] : NULL;
}

CLG_API clg_tensor *clg_params_tensor(const clg_params *ps, size_t index)
{
    return index < ps->count ? ps->tensors[index] : NULL;
}

CLG_API clg_tensor *clg_params_find(const clg_params *ps, const char *name)
{
    for (size_t i = 0; i < ps->count; i++)
        if (strcmp(ps->names[i], name) == 0)
            return ps->tensors[i];
    return NULL;
}

CLG_API void clg_params_zero_grad(clg_params *ps)
{
    for (size_t i = 0; i < ps->count; i++)
        clg_tensor_zero_grad(ps->tensors[i]);
}
