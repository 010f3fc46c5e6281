/* engine/context.c: contexts, the sticky error, step brackets, grad mode,
 * counters, and the host arena for step-lifetime structs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

#define HOST_CHUNK_BYTES (256u * 1024u)

CLG_API const char *clg_status_name(clg_status status)
{
    switch (status) {
    case CLG_STATUS_OK: return "ok";
    case CLG_STATUS_INVALID_ARGUMENT: return "invalid argument";
    case CLG_STATUS_SHAPE: return "shape";
    case CLG_STATUS_OUT_OF_MEMORY: return "out of memory";
    case CLG_STATUS_DEVICE: return "device";
    case CLG_STATUS_BUILD: return "kernel build";
    case CLG_STATUS_NO_DEVICE: return "no device";
    case CLG_STATUS_IO: return "i/o";
    case CLG_STATUS_FORMAT: return "format";
    case CLG_STATUS_MISMATCH: return "mismatch";
    case CLG_STATUS_STATE: return "state";
    }
    return "unknown";
}

CLG_API clg_context_options clg_context_options_default(void)
{
    return (clg_context_options){.device = NULL, .cache_dir = NULL, .disk_cache = true,
                                 .kernel_dir = NULL, .gemm = NULL};
}

CLG_API clg_status clg_context_create(const clg_context_options *opts, clg_context **out)
{
    *out = NULL;
    clg_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return CLG_STATUS_OUT_OF_MEMORY;
    ctx->grad_enabled = true;
    clg_context_options defaults = clg_context_options_default();
    *out = ctx;
    return clrt_init(&ctx->rt, opts ? opts : &defaults);
}

CLG_API void clg_context_destroy(clg_context *ctx)
{
    if (!ctx)
        return;
    clrt_release(&ctx->rt);
    eng_host_chunk *c = ctx->host_chunks;
    while (c) {
        eng_host_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(ctx);
}

CLG_API clg_status clg_context_status(const clg_context *ctx)
{
    return ctx->rt.error.status;
}

CLG_API const char *clg_context_error(const clg_context *ctx)
{
    return ctx->rt.error.status == CLG_STATUS_OK ? "" : ctx->rt.error.message;
}

CLG_API void clg_context_clear_error(clg_context *ctx)
{
    ctx->rt.error.status = CLG_STATUS_OK;
    ctx->rt.error.message[0] = '\0';
}

CLG_API const char *clg_context_device_name(const clg_context *ctx)
{
    return ctx->rt.desc.name;
}

CLG_API const char *clg_context_launch_plan(const clg_context *ctx)
{
    return ctx->rt.plan.name ? ctx->rt.plan.name : "none";
}

CLG_API clg_status clg_finish(clg_context *ctx)
{
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    return clrt_finish(&ctx->rt);
}

clg_status eng_fail(clg_context *ctx, clg_status status, const char *fmt, ...)
{
    if (eng_failed(ctx))
        return status;
    ctx->rt.error.status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->rt.error.message, sizeof ctx->rt.error.message, fmt, ap);
    va_end(ap);
    return status;
}

void *eng_calloc(clg_context *ctx, const char *op, size_t bytes)
{
    void *p = calloc(1, bytes);
    if (!p)
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", op);
    return p;
}

void *eng_host_alloc(clg_context *ctx, size_t bytes)
{
    bytes = (bytes + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    eng_host_chunk *c = ctx->host_current;
    while (c && c->used + bytes > c->capacity) {
        c = c->next;
        if (c)
            c->used = 0;
    }
    if (!c) {
        size_t capacity = bytes > HOST_CHUNK_BYTES ? bytes : HOST_CHUNK_BYTES;
        c = malloc(sizeof *c + capacity);
        if (!c) {
            eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
            return NULL;
        }
        c->capacity = capacity;
        c->used = 0;
        /* Append after the current chunk so the list stays in use order. */
        if (ctx->host_current) {
            c->next = ctx->host_current->next;
            ctx->host_current->next = c;
        } else {
            c->next = NULL;
            ctx->host_chunks = c;
        }
    }
    ctx->host_current = c;
    void *p = (char *)c->data + c->used;
    c->used += bytes;
    return p;
}

static void step_reset(clg_context *ctx)
{
    ctx->tape_last = NULL;
    ctx->tape_consumed = false;
    ctx->host_current = ctx->host_chunks;
    if (ctx->host_current)
        ctx->host_current->used = 0;
    clrt_arena_reset(&ctx->rt);
}

CLG_API void clg_step_begin(clg_context *ctx)
{
    step_reset(ctx);
}

CLG_API void clg_step_end(clg_context *ctx)
{
    step_reset(ctx);
}

CLG_API bool clg_grad_set_enabled(clg_context *ctx, bool enabled)
{
    bool previous = ctx->grad_enabled;
    ctx->grad_enabled = enabled;
    return previous;
}

CLG_API bool clg_grad_is_enabled(const clg_context *ctx)
{
    return ctx->grad_enabled;
}

CLG_API void clg_memstats_get(const clg_context *ctx, clg_memstats *out)
{
    *out = ctx->rt.mem;
}

CLG_API void clg_counters_get(const clg_context *ctx, clg_counters *out)
{
    *out = ctx->rt.counters;
}

/* Kernel profiling: cl/profile.c does the work. */
CLG_API clg_status clg_context_set_profiling(clg_context *ctx, bool on)
{
    return clrt_profile_set(&ctx->rt, on);
}

CLG_API size_t clg_profile_get(clg_context *ctx, clg_profile_entry *out, size_t capacity)
{
    return clrt_profile_get(&ctx->rt, out, capacity);
}

/* GEMM dispatch and tuning: cl/gemm.c does the work. */
CLG_API void clg_gemm_record(clg_context *ctx, bool on)
{
    clrt_gemm_record(&ctx->rt, on);
}

CLG_API size_t clg_gemm_recorded(const clg_context *ctx, clg_gemm_shape *out, size_t capacity)
{
    return clrt_gemm_recorded(&ctx->rt, out, capacity);
}

CLG_API const char *clg_gemm_choice(const clg_context *ctx, const clg_gemm_shape *shape)
{
    return clrt_gemm_candidate_get(clrt_gemm_pick(&ctx->rt, shape))->name;
}

CLG_API clg_status clg_gemm_tune(clg_context *ctx, const clg_gemm_shape *shapes, size_t count,
                                 clg_gemm_tuned *results)
{
    return clrt_gemm_tune(&ctx->rt, shapes, count, results);
}

CLG_API const char *clg_gemm_table_path(const clg_context *ctx)
{
    return ctx->rt.gemm.table_path;
}
