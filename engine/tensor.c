/* engine/tensor.c: creating, moving and describing tensors; the engine's
 * strided copy; the argument checks every op starts with (same context, no
 * pending error, dtype, axis). Ops live in ops/, not here; gradients and
 * their accumulation belong to the tape (engine/tape.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

size_t eng_dtype_size(clg_dtype dtype)
{
    (void)dtype; /* float32 and int32 */
    return 4;
}

int64_t eng_numel(int rank, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= shape[i];
    return n;
}

void eng_contiguous_strides(int rank, const int64_t *shape, int64_t *strides)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i];
    }
}

bool eng_same_shape(const clg_tensor *a, const clg_tensor *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

char *eng_shape_str(const clg_tensor *t, char *buf, size_t capacity)
{
    size_t used = (size_t)snprintf(buf, capacity, "[");
    for (int i = 0; i < t->rank && used < capacity; i++)
        used += (size_t)snprintf(buf + used, capacity - used, "%s%lld", i ? ", " : "",
                                 (long long)t->shape[i]);
    if (used < capacity)
        snprintf(buf + used, capacity - used, "]");
    return buf;
}

void eng_shape4(const clg_tensor *t, cl_int *shape4)
{
    int pad = 4 - t->rank;
    for (int i = 0; i < 4; i++)
        shape4[i] = i < pad ? 1 : (cl_int)t->shape[i - pad];
}

void eng_strides4(const clg_tensor *t, cl_int *strides4)
{
    int pad = 4 - t->rank;
    for (int i = 0; i < 4; i++)
        strides4[i] = i < pad ? 0 : (cl_int)t->strides[i - pad];
}

/* ---- op argument checks: every op's first lines ---- */

clg_context *eng_op_begin(const char *op, int n, clg_tensor *const *inputs)
{
    clg_context *ctx = NULL;
    for (int i = 0; i < n; i++) {
        if (!inputs[i])
            return NULL; /* an earlier op failed and recorded why */
        if (!ctx)
            ctx = inputs[i]->ctx;
        else if (inputs[i]->ctx != ctx) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: inputs belong to different contexts",
                     op);
            return NULL;
        }
    }
    if (!ctx || eng_failed(ctx))
        return NULL;
    return ctx;
}

clg_context *eng_op_begin_f32(const char *op, int n, clg_tensor *const *inputs)
{
    clg_context *ctx = eng_op_begin(op, n, inputs);
    for (int i = 0; ctx && i < n; i++) {
        if (inputs[i]->dtype != CLG_DTYPE_F32) {
            char s[64], which[32] = "input";
            if (n > 1)
                snprintf(which, sizeof which, "input %d of %d", i + 1, n);
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "%s: %s must be float32, not an int32 tensor of shape %s", op, which,
                     eng_shape_str(inputs[i], s, sizeof s));
            return NULL;
        }
    }
    return ctx;
}

int eng_axis(clg_context *ctx, const char *op, const clg_tensor *t, int axis)
{
    int a = axis < 0 ? axis + t->rank : axis;
    if (a < 0 || a >= t->rank) {
        char s[64];
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: axis %d is out of range for shape %s", op,
                 axis, eng_shape_str(t, s, sizeof s));
        return -1;
    }
    return a;
}

/* Shapes are limited so that every index fits the kernels' 32-bit ints. */
static bool check_shape(clg_context *ctx, const char *op, int rank, const int64_t *shape)
{
    if (rank < 0 || rank > CLG_MAX_RANK)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: rank %d is outside 0..%d", op,
                        rank, CLG_MAX_RANK),
               false;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0)
            return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: dimension %d is negative (%lld)",
                            op, i, (long long)shape[i]),
                   false;
        /* Each dim, and the product so far, checked before multiplying: a
         * dim of 2^62 would overflow int64 and pass a check made after. A
         * zero dim does not excuse a huge one: the kernels take every dim as
         * a 32-bit int. */
        if (shape[i] > INT32_MAX || (shape[i] > 0 && n > INT32_MAX / shape[i]))
            return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                            "%s: more than 2^31 - 1 elements (dimension %d is %lld)", op, i,
                            (long long)shape[i]),
                   false;
        n *= shape[i];
    }
    return true;
}

static void set_shape(clg_tensor *t, clg_context *ctx, clg_dtype dtype, int rank,
                      const int64_t *shape)
{
    t->ctx = ctx;
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->shape[i] = shape[i];
    eng_contiguous_strides(rank, t->shape, t->strides);
}

clg_tensor *eng_new(clg_context *ctx, clg_dtype dtype, int rank, const int64_t *shape)
{
    if (!check_shape(ctx, "tensor", rank, shape))
        return NULL;
    clg_tensor *t = eng_host_alloc(ctx, sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    set_shape(t, ctx, dtype, rank, shape);
    size_t byte_offset = 0;
    size_t bytes = (size_t)eng_numel(rank, shape) * eng_dtype_size(dtype);
    if (clrt_arena_alloc(&ctx->rt, bytes, &t->mem, &byte_offset) != CLG_STATUS_OK)
        return NULL;
    t->offset = byte_offset / eng_dtype_size(dtype);
    return t;
}

clg_tensor *eng_view(clg_context *ctx, const clg_tensor *src, int rank, const int64_t *shape,
                     const int64_t *strides, size_t offset)
{
    clg_tensor *t = eng_host_alloc(ctx, sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->dtype = src->dtype;
    t->rank = rank;
    t->mem = src->mem;
    t->offset = offset;
    for (int i = 0; i < rank; i++) {
        t->shape[i] = shape[i];
        t->strides[i] = strides[i];
    }
    return t;
}

CLG_API clg_tensor *clg_tensor_create(clg_context *ctx, clg_dtype dtype, int rank,
                                      const int64_t *shape)
{
    if (eng_failed(ctx) || !check_shape(ctx, "clg_tensor_create", rank, shape))
        return NULL;
    clg_tensor *t = calloc(1, sizeof *t);
    if (!t) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    set_shape(t, ctx, dtype, rank, shape);
    t->persistent = true;
    size_t bytes = (size_t)eng_numel(rank, shape) * eng_dtype_size(dtype);
    t->block = clrt_pool_get(&ctx->rt, bytes);
    if (!t->block) {
        free(t);
        return NULL;
    }
    t->mem = t->block->mem;
    const cl_uint zero = 0;
    if (clrt_fill(&ctx->rt, t->mem, 0, bytes, &zero, sizeof zero) != CLG_STATUS_OK) {
        clg_tensor_destroy(t);
        return NULL;
    }
    return t;
}

CLG_API void clg_tensor_destroy(clg_tensor *t)
{
    if (!t || !t->persistent)
        return;
    clg_tensor_destroy(t->grad);
    clrt_pool_put(&t->ctx->rt, t->block);
    free(t);
}

CLG_API clg_tensor *clg_tensor_from_host(clg_context *ctx, clg_dtype dtype, int rank,
                                         const int64_t *shape, const void *data)
{
    if (eng_failed(ctx))
        return NULL;
    clg_tensor *t = eng_new(ctx, dtype, rank, shape);
    if (!t)
        return NULL;
    size_t bytes = (size_t)eng_numel(rank, shape) * eng_dtype_size(dtype);
    if (clrt_write(&ctx->rt, t->mem, t->offset * 4, data, bytes) != CLG_STATUS_OK)
        return NULL;
    return t;
}

CLG_API clg_tensor *clg_tensor_full(clg_context *ctx, int rank, const int64_t *shape, float value)
{
    if (eng_failed(ctx))
        return NULL;
    clg_tensor *t = eng_new(ctx, CLG_DTYPE_F32, rank, shape);
    if (!t || clrt_fill(&ctx->rt, t->mem, t->offset * 4, (size_t)eng_numel(rank, shape) * 4,
                        &value, sizeof value) != CLG_STATUS_OK)
        return NULL;
    return t;
}

static bool check_count(const clg_tensor *t, const char *op, size_t count)
{
    if ((int64_t)count != clg_tensor_numel(t)) {
        char s[64];
        eng_fail(t->ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: %zu elements given for a tensor of shape %s",
                 op, count, eng_shape_str(t, s, sizeof s));
        return false;
    }
    return true;
}

CLG_API clg_status clg_tensor_upload(clg_tensor *t, const void *data, size_t count)
{
    clg_context *ctx = t->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!check_count(t, "clg_tensor_upload", count))
        return ctx->rt.error.status;
    if (!clg_tensor_is_contiguous(t))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_tensor_upload: the tensor is a non-contiguous view");
    return clrt_write(&ctx->rt, t->mem, t->offset * 4, data, count * 4);
}

clg_status eng_launch_strided(clg_context *ctx, const char *kernel, const clg_tensor *src,
                              clg_tensor *dst, const int *flag)
{
    cl_kernel k = clrt_kernel(&ctx->rt, "engine/tensor.cl", NULL, kernel);
    if (!k)
        return ctx->rt.error.status;
    cl_int shape[4], strides[4];
    eng_shape4(src, shape);
    eng_strides4(src, strides);
    int n = (int)clg_tensor_numel(src);
    size_t global = (size_t)n, local = ctx->rt.plan.group;
    clrt_arg args[] = {ENG_ARG_TENSOR(src), CLRT_ARG_INT4(shape[0], shape[1], shape[2], shape[3]),
                       CLRT_ARG_INT4(strides[0], strides[1], strides[2], strides[3]),
                       ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n), CLRT_ARG_INT(flag ? *flag : 0)};
    return clrt_launch(&ctx->rt, k, 1, &global, &local, flag ? 8 : 7, args);
}

/* src, a strided view, into dst, contiguous of its shape. A float32 view
 * whose last two axes are a stored matrix transposed (strides (1, ld), rank
 * 2, or rank 3 with any batch stride: clg_transpose(w, 0, 1) and the like)
 * goes through the blocked transpose, which reads each cache line once;
 * copy_strided, a work-item per element, reads a line per element there. */
static clg_status copy_view(clg_context *ctx, const clg_tensor *src, clg_tensor *dst)
{
    int r = src->rank;
    if (src->dtype == CLG_DTYPE_F32 && (r == 2 || r == 3) && src->strides[r - 2] == 1 &&
        src->shape[r - 2] > 1 && src->shape[r - 1] > 1 && src->strides[r - 1] >= src->shape[r - 2]) {
        /* view (A, B) = stored (B, A; ld strides[r - 1])^T */
        size_t a = (size_t)src->shape[r - 2], b = (size_t)src->shape[r - 1];
        size_t batch = r == 3 ? (size_t)src->shape[0] : 1;
        size_t stride = r == 3 ? (size_t)src->strides[0] : 0;
        clrt_matrix stored = {src->mem, (size_t)src->offset, (size_t)src->strides[r - 1], false};
        if (src->strides[0] >= 0 && clrt_transpose_fits(b, a, stored, stride, batch, dst->offset))
            return clrt_transpose(&ctx->rt, b, a, stored, stride, batch, dst->mem,
                                  (size_t)dst->offset);
    }
    return eng_launch_strided(ctx, "copy_strided", src, dst, NULL);
}

/* A contiguous copy of a strided view (no tape record: engine internal). */
static clg_tensor *gather(clg_context *ctx, const clg_tensor *src)
{
    clg_tensor *dst = eng_new(ctx, src->dtype, src->rank, src->shape);
    if (!dst || copy_view(ctx, src, dst) != CLG_STATUS_OK)
        return NULL;
    return dst;
}

CLG_API clg_status clg_tensor_download(const clg_tensor *t, void *data, size_t count)
{
    if (!t) /* the result of a failed op: its error is already in the context */
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = t->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!check_count(t, "clg_tensor_download", count))
        return ctx->rt.error.status;
    const clg_tensor *src = t;
    if (!clg_tensor_is_contiguous(t) && !(src = gather(ctx, t)))
        return ctx->rt.error.status;
    return clrt_read(&ctx->rt, src->mem, src->offset * 4, data, count * 4);
}

CLG_API clg_status clg_tensor_read_start(const clg_tensor *t, void *data, size_t count,
                                         clg_read *read)
{
    if (read)
        *read = (clg_read){0};
    if (!t)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = t->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!read || !data)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "clg_tensor_read_start: %s is NULL",
                        read ? "data" : "read");
    if (!check_count(t, "clg_tensor_read_start", count))
        return ctx->rt.error.status;
    const clg_tensor *src = t;
    if (!clg_tensor_is_contiguous(t) && !(src = gather(ctx, t)))
        return ctx->rt.error.status;
    cl_event event = NULL;
    uint64_t writes = 0;
    clg_status status =
        clrt_read_start(&ctx->rt, src->mem, src->offset * 4, data, count * 4, &event, &writes);
    if (status != CLG_STATUS_OK) {
        if (event) /* enqueued, then the flush failed: let it finish before data goes */
            clrt_read_wait(&ctx->rt, event, 0);
        return status;
    }
    *read = (clg_read){ctx, event, writes};
    return CLG_STATUS_OK;
}

CLG_API clg_status clg_read_wait(clg_read *read)
{
    if (!read)
        return CLG_STATUS_INVALID_ARGUMENT;
    if (!read->pending)
        return read->ctx ? eng_fail(read->ctx, CLG_STATUS_INVALID_ARGUMENT,
                                    "clg_read_wait: the read was waited for already")
                         : CLG_STATUS_INVALID_ARGUMENT;
    cl_event event = read->pending;
    read->pending = NULL;
    return clrt_read_wait(&read->ctx->rt, event, read->writes);
}

CLG_API clg_status clg_tensor_item(const clg_tensor *t, float *value)
{
    if (!t)
        return CLG_STATUS_INVALID_ARGUMENT;
    if (t->dtype != CLG_DTYPE_F32)
        return eng_fail(t->ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_tensor_item: the tensor is not float32");
    return clg_tensor_download(t, value, 1);
}

CLG_API clg_status clg_tensor_copy(clg_tensor *dst, const clg_tensor *src)
{
    clg_context *ctx = dst->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!eng_same_shape(dst, src) || dst->dtype != src->dtype || !clg_tensor_is_contiguous(dst)) {
        char a[64], b[64];
        return eng_fail(ctx, CLG_STATUS_SHAPE,
                        "clg_tensor_copy: cannot copy %s into %s (same shape and dtype, and a "
                        "contiguous destination, are needed)",
                        eng_shape_str(src, a, sizeof a), eng_shape_str(dst, b, sizeof b));
    }
    if (!clg_tensor_is_contiguous(src)) /* straight into dst: no temporary */
        return copy_view(ctx, src, dst);
    return clrt_copy(&ctx->rt, src->mem, src->offset * 4, dst->mem, dst->offset * 4,
                     (size_t)clg_tensor_numel(src) * 4);
}

CLG_API clg_status clg_tensor_fill(clg_tensor *t, float value)
{
    clg_context *ctx = t->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!clg_tensor_is_contiguous(t))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_tensor_fill: the tensor is a non-contiguous view");
    if (t->dtype == CLG_DTYPE_I32) {
        cl_int v = (cl_int)value;
        return clrt_fill(&ctx->rt, t->mem, t->offset * 4, (size_t)clg_tensor_numel(t) * 4, &v, 4);
    }
    return clrt_fill(&ctx->rt, t->mem, t->offset * 4, (size_t)clg_tensor_numel(t) * 4, &value, 4);
}

CLG_API clg_context *clg_tensor_context(const clg_tensor *t) { return t->ctx; }
CLG_API clg_dtype clg_tensor_dtype(const clg_tensor *t) { return t->dtype; }
CLG_API int clg_tensor_rank(const clg_tensor *t) { return t->rank; }
CLG_API int64_t clg_tensor_numel(const clg_tensor *t) { return eng_numel(t->rank, t->shape); }

CLG_API int64_t clg_tensor_dim(const clg_tensor *t, int axis)
{
    if (axis < 0)
        axis += t->rank;
    return (axis >= 0 && axis < t->rank) ? t->shape[axis] : 0;
}

CLG_API bool clg_tensor_is_contiguous(const clg_tensor *t)
{
    int64_t s = 1;
    for (int i = t->rank - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->strides[i] != s)
            return false;
        s *= t->shape[i];
    }
    return true;
}

CLG_API char *clg_tensor_shape_str(const clg_tensor *t, char *buf, size_t capacity)
{
    return eng_shape_str(t, buf, capacity);
}

CLG_API void clg_tensor_set_requires_grad(clg_tensor *t, bool requires_grad)
{
    if (t->dtype != CLG_DTYPE_F32 && requires_grad) {
        eng_fail(t->ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_tensor_set_requires_grad: only float32 tensors can require a gradient");
        return;
    }
    t->requires_grad = requires_grad;
}

CLG_API bool clg_tensor_requires_grad(const clg_tensor *t) { return t->requires_grad; }

CLG_API clg_tensor *clg_tensor_grad(const clg_tensor *t)
{
    return t->has_grad ? t->grad : NULL;
}

CLG_API void clg_tensor_zero_grad(clg_tensor *t)
{
    if (t)
        t->has_grad = false;
}
