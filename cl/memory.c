/* cl/memory.c: device memory. The pool keeps freed blocks for reuse (sizes
 * rounded to classes of 2^k and 1.5 * 2^k, so a freed block fits the next
 * request of similar size); the step arena bump-allocates a step's
 * intermediates out of pooled chunks; uploads are staged through host copies
 * so that they never block; the GEMMs' scratch is one pooled block grown on
 * demand. */
#include <stdlib.h>
#include <string.h>

#include "cl/runtime.h"

#define ARENA_ALIGN 256      /* bytes: keeps views aligned for vector loads */
#define MIN_CHUNK (1u << 20) /* the first arena chunk */

static size_t size_class(size_t bytes)
{
    size_t c = 256;
    while (c < bytes) {
        size_t mid = c + c / 2;
        if (mid >= bytes)
            return mid;
        c *= 2;
    }
    return c;
}

clrt_block *clrt_pool_get(clrt *rt, size_t bytes)
{
    size_t want = size_class(bytes ? bytes : 1);
    for (clrt_block **link = &rt->free_blocks; *link; link = &(*link)->next) {
        if ((*link)->bytes == want) {
            clrt_block *b = *link;
            *link = b->next;
            b->next = NULL;
            rt->mem.bytes_in_use += b->bytes;
            if (rt->mem.bytes_in_use > rt->mem.bytes_peak)
                rt->mem.bytes_peak = rt->mem.bytes_in_use;
            return b;
        }
    }
    if (rt->desc.max_alloc_bytes && want > rt->desc.max_alloc_bytes) {
        clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY,
                  "a buffer of %zu bytes exceeds the device's largest allocation (%llu bytes)",
                  want, (unsigned long long)rt->desc.max_alloc_bytes);
        return NULL;
    }
    clrt_block *b = calloc(1, sizeof *b);
    if (!b) {
        clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    cl_int err = CL_SUCCESS;
    b->mem = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, want, NULL, &err);
    rt->counters.device_allocations++;
    if (err != CL_SUCCESS) {
        /* Give pooled memory back to the driver once and retry. */
        while (rt->free_blocks) {
            clrt_block *f = rt->free_blocks;
            rt->free_blocks = f->next;
            rt->mem.bytes_held -= f->bytes;
            clReleaseMemObject(f->mem);
            free(f);
        }
        b->mem = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, want, NULL, &err);
        rt->counters.device_allocations++;
    }
    if (err != CL_SUCCESS) {
        free(b);
        clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY,
                  "device allocation of %zu bytes failed with %s (%zu bytes in use)", want,
                  clrt_code_name(err), rt->mem.bytes_in_use);
        return NULL;
    }
    b->bytes = want;
    rt->mem.bytes_held += want;
    rt->mem.bytes_in_use += want;
    if (rt->mem.bytes_in_use > rt->mem.bytes_peak)
        rt->mem.bytes_peak = rt->mem.bytes_in_use;
    return b;
}

void clrt_pool_put(clrt *rt, clrt_block *block)
{
    if (!block)
        return;
    rt->mem.bytes_in_use -= block->bytes;
    block->next = rt->free_blocks;
    rt->free_blocks = block;
}

void clrt_pool_release(clrt *rt)
{
    while (rt->free_blocks) {
        clrt_block *b = rt->free_blocks;
        rt->free_blocks = b->next;
        clReleaseMemObject(b->mem);
        free(b);
    }
    rt->mem.bytes_held = rt->mem.bytes_in_use;
}

static bool arena_push_chunk(clrt *rt, size_t bytes)
{
    clrt_arena *a = &rt->arena;
    if (a->n_chunks == a->capacity) {
        int cap = a->capacity ? 2 * a->capacity : 8;
        clrt_block **grown = realloc(a->chunks, (size_t)cap * sizeof *grown);
        if (!grown) {
            clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
            return false;
        }
        a->chunks = grown;
        a->capacity = cap;
    }
    clrt_block *b = clrt_pool_get(rt, bytes);
    if (!b)
        return false;
    a->chunks[a->n_chunks++] = b;
    return true;
}

clg_status clrt_arena_alloc(clrt *rt, size_t bytes, cl_mem *mem, size_t *offset)
{
    clrt_arena *a = &rt->arena;
    size_t need = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (need == 0)
        need = ARENA_ALIGN;
    a->step_need += need;
    while (a->current < a->n_chunks && a->used + need > a->chunks[a->current]->bytes) {
        a->current++;
        a->used = 0;
    }
    if (a->current == a->n_chunks) {
        size_t last = a->n_chunks ? a->chunks[a->n_chunks - 1]->bytes : MIN_CHUNK / 2;
        size_t size = 2 * last > need ? 2 * last : need;
        if (rt->desc.max_alloc_bytes && size > rt->desc.max_alloc_bytes && need <= rt->desc.max_alloc_bytes)
            size = rt->desc.max_alloc_bytes;
        if (!arena_push_chunk(rt, size))
            return rt->error.status;
        a->spilled = a->n_chunks > 1;
        a->used = 0;
    }
    *mem = a->chunks[a->current]->mem;
    *offset = a->used;
    a->used += need;
    return CLG_STATUS_OK;
}

void clrt_arena_reset(clrt *rt)
{
    clrt_arena *a = &rt->arena;
    /* Merge into one chunk sized for this step's peak, so that the next step
     * of the same shape bump-allocates from it without any allocation, as
     * long as the peak fits one allocation. */
    if (a->spilled && (!rt->desc.max_alloc_bytes || a->step_need <= rt->desc.max_alloc_bytes)) {
        size_t peak = a->step_need;
        /* The old chunks go straight back to the driver: their size classes
         * will not be asked for again, so pooling them would only hold
         * memory for nothing. */
        for (int i = 0; i < a->n_chunks; i++) {
            clrt_block *b = a->chunks[i];
            rt->mem.bytes_in_use -= b->bytes;
            rt->mem.bytes_held -= b->bytes;
            clReleaseMemObject(b->mem);
            free(b);
        }
        a->n_chunks = 0;
        if (!arena_push_chunk(rt, peak))
            a->n_chunks = 0;
    }
    a->current = 0;
    a->used = 0;
    a->step_need = 0;
    a->spilled = false;
}

void clrt_arena_release(clrt *rt)
{
    clrt_arena *a = &rt->arena;
    for (int i = 0; i < a->n_chunks; i++)
        clrt_pool_put(rt, a->chunks[i]);
    free(a->chunks);
    memset(a, 0, sizeof *a);
}

/* A staging slot whose previous write has finished; waits (one counted host
 * sync) only when it has not, which a loop that reads its loss never sees:
 * a blocking read retires every slot (clrt_staging_retire), and the wait
 * for a read started a step earlier those of the writes before it. */
static clrt_staging *staging_slot(clrt *rt, size_t bytes)
{
    clrt_staging *s = &rt->staging[rt->staging_next];
    rt->staging_next = (rt->staging_next + 1) % CLRT_STAGING_SLOTS;
    if (s->event) {
        cl_int state = CL_COMPLETE;
        clGetEventInfo(s->event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state, NULL);
        if (state != CL_COMPLETE && state >= 0) {
            clWaitForEvents(1, &s->event);
            rt->counters.host_syncs++;
        }
        clReleaseEvent(s->event);
        s->event = NULL;
    }
    if (s->capacity < bytes) {
        void *grown = realloc(s->host, bytes);
        if (!grown) {
            clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY, "out of host memory staging %zu bytes", bytes);
            return NULL;
        }
        s->host = grown;
        s->capacity = bytes;
    }
    return s;
}

clg_status clrt_write(clrt *rt, cl_mem mem, size_t offset, const void *data, size_t bytes)
{
    clg_status status = CLG_STATUS_OK;
    if (bytes == 0)
        return status;
    clrt_staging *s = staging_slot(rt, bytes);
    if (!s)
        return rt->error.status;
    memcpy(s->host, data, bytes);
    CLRT_CHECK(rt, clEnqueueWriteBuffer(rt->queue, mem, CL_FALSE, offset, bytes, s->host, 0, NULL,
                                        &s->event));
    s->write = ++rt->staging_writes;
    /* Hand the queue to the device now: a driver may hold commands until a
     * flush (rusticl runs nothing before one), and then the slot's write
     * would still be waiting to start when the slot comes round again, the
     * device having sat idle meanwhile. */
    CLRT_CHECK(rt, clFlush(rt->queue));
cleanup:
    return status;
}

void clrt_staging_retire(clrt *rt)
{
    for (int i = 0; i < CLRT_STAGING_SLOTS; i++)
        if (rt->staging[i].event) {
            clReleaseEvent(rt->staging[i].event);
            rt->staging[i].event = NULL;
        }
}

clg_status clrt_read(clrt *rt, cl_mem mem, size_t offset, void *data, size_t bytes)
{
    clg_status status = CLG_STATUS_OK;
    rt->counters.host_syncs++;
    CLRT_CHECK(rt, clEnqueueReadBuffer(rt->queue, mem, CL_TRUE, offset, bytes, data, 0, NULL,
                                       NULL));
    clrt_staging_retire(rt);
    if (rt->profile.n_pending)
        clrt_profile_drain(rt); /* the queue has run everything before the read */
cleanup:
    return status;
}

clg_status clrt_read_start(clrt *rt, cl_mem mem, size_t offset, void *data, size_t bytes,
                           cl_event *event, uint64_t *writes)
{
    clg_status status = CLG_STATUS_OK;
    *event = NULL;
    *writes = rt->staging_writes;
    CLRT_CHECK(rt,
               clEnqueueReadBuffer(rt->queue, mem, CL_FALSE, offset, bytes, data, 0, NULL, event));
    CLRT_CHECK(rt, clFlush(rt->queue)); /* see clrt_write */
cleanup:
    return status;
}

clg_status clrt_read_wait(clrt *rt, cl_event event, uint64_t writes)
{
    rt->counters.host_syncs++;
    cl_int code = clWaitForEvents(1, &event);
    clReleaseEvent(event);
    if (code != CL_SUCCESS)
        return clrt_fail_code(rt, code, "clWaitForEvents", __FILE__, __LINE__);
    /* The in-order queue ran the writes before the read: their slots are
     * free, whatever their own events say yet (rusticl marks them later).
     * Later commands may still be running, so the profile is not drained. */
    for (int i = 0; i < CLRT_STAGING_SLOTS; i++) {
        clrt_staging *s = &rt->staging[i];
        if (s->event && s->write <= writes) {
            clReleaseEvent(s->event);
            s->event = NULL;
        }
    }
    return CLG_STATUS_OK;
}

/* A fill of whole 32-bit words as the fill_words kernel (cl/memory.cl): PoCL
 * runs clEnqueueFillBuffer on one thread, a pattern at a time, 4x slower
 * than the kernel over two cores (the LSTM's state gradient, 6.5 MB of
 * zeros at T = 100: 0.54 -> 0.13 ms). */
static clg_status fill_words(clrt *rt, cl_mem mem, size_t offset, size_t bytes,
                             const void *pattern)
{
    cl_kernel kernel = clrt_kernel(rt, "cl/memory.cl", NULL, "fill_words");
    if (!kernel)
        return rt->error.status;
    cl_uint value;
    memcpy(&value, pattern, sizeof value);
    size_t words = bytes / 4, run = rt->plan.fill_run;
    clrt_arg args[] = {CLRT_ARG_MEM(mem), CLRT_ARG_INT(offset / 4), CLRT_ARG_INT(words),
                       {sizeof value, &value, 0}, CLRT_ARG_INT(run)};
    const size_t global[1] = {(words + run - 1) / run}, local[1] = {rt->plan.row_group};
    return clrt_enqueue(rt, kernel, 1, global, local, 5, args, "(fill)");
}

clg_status clrt_fill(clrt *rt, cl_mem mem, size_t offset, size_t bytes, const void *pattern,
                     size_t pattern_bytes)
{
    clg_status status = CLG_STATUS_OK;
    if (bytes == 0)
        return status;
    /* the kernel's indices are int */
    if (pattern_bytes == 4 && offset % 4 == 0 && bytes % 4 == 0 && rt->plan.fill_run > 0 &&
        (offset + bytes) / 4 < (size_t)0x7fffffff)
        return fill_words(rt, mem, offset, bytes, pattern);
    cl_event event = NULL;
    CLRT_CHECK(rt, clEnqueueFillBuffer(rt->queue, mem, pattern, pattern_bytes, offset, bytes, 0,
                                       NULL, CLRT_PROFILE_EVENT(rt, event)));
    if (event)
        clrt_profile_keep(rt, event, NULL, "(fill)");
cleanup:
    return status;
}

clg_status clrt_copy(clrt *rt, cl_mem src, size_t src_offset, cl_mem dst, size_t dst_offset,
                     size_t bytes)
{
    clg_status status = CLG_STATUS_OK;
    if (bytes == 0)
        return status;
    cl_event event = NULL;
    CLRT_CHECK(rt, clEnqueueCopyBuffer(rt->queue, src, dst, src_offset, dst_offset, bytes, 0, NULL,
                                       CLRT_PROFILE_EVENT(rt, event)));
    if (event)
        clrt_profile_keep(rt, event, NULL, "(copy)");
cleanup:
    return status;
}

void clrt_staging_release(clrt *rt)
{
    for (int i = 0; i < CLRT_STAGING_SLOTS; i++) {
        if (rt->staging[i].event) {
            clWaitForEvents(1, &rt->staging[i].event);
            clReleaseEvent(rt->staging[i].event);
        }
        free(rt->staging[i].host);
        memset(&rt->staging[i], 0, sizeof rt->staging[i]);
    }
}

clrt_block *clrt_gemm_scratch(clrt *rt, size_t bytes)
{
    if (!rt->gemm_temp || rt->gemm_temp->bytes < bytes) {
        /* Commands already queued on the old block run before anything that
         * reuses it: the queue is in order. */
        clrt_pool_put(rt, rt->gemm_temp);
        rt->gemm_temp = clrt_pool_get(rt, bytes);
    }
    return rt->gemm_temp;
}
