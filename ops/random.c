/* ops/random.c: clg_rand and clg_randn, tensors of uniform or standard
 * normal numbers made on the device (torch.rand / torch.randn).
 *
 * Element i takes index offset + i of stream 0 of Philox-4x32-10 keyed by
 * the seed (engine/random.h), as clg_dropout's mask does: the numbers depend
 * only on (seed, offset, i), so every device and the host generator
 * (eng_random_uniform / eng_random_normal) give the same ones, uniforms bit
 * for bit, normals up to the device's log/cos/sin ulps. No node is recorded:
 * a sample is a constant to the tape (the reparameterisation in
 * ops/gaussian.c takes it as an input). Kernels: ops/random.cl. */
#include "ops/internal.h"

#define SOURCE "ops/random.cl"

#define ARG_UINT(v) ((clrt_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}, 0})

static clg_tensor *fill(const char *name, const char *kernel, clg_context *ctx, int rank,
                        const int64_t *shape, uint64_t seed, uint64_t offset)
{
    if (!ctx || eng_failed(ctx))
        return NULL;
    if (rank < 1 || rank > CLG_MAX_RANK || !shape) {
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: rank must be in [1, %d], not %d", name, CLG_MAX_RANK,
                 rank);
        return NULL;
    }
    for (int d = 0; d < rank; d++)
        if (shape[d] < 1) {
            eng_fail(ctx, CLG_STATUS_SHAPE, "%s: dimension %d is %lld; every size must be >= 1",
                     name, d, (long long)shape[d]);
            return NULL;
        }
    int64_t numel = eng_numel(rank, shape);
    if (numel > INT32_MAX) { /* the kernels index with int */
        eng_fail(ctx, CLG_STATUS_SHAPE, "%s: %lld elements is more than %d", name,
                 (long long)numel, INT32_MAX);
        return NULL;
    }
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, rank, shape);
    if (!out)
        return NULL;
    uint64_t block = offset / 4;
    int first_word = (int)(offset % 4), n = (int)numel;
    size_t blocks = ((size_t)first_word + (size_t)n + 3) / 4;
    if (!OP_LAUNCH(ctx, SOURCE, kernel, blocks, ENG_ARG_TENSOR(out), CLRT_ARG_INT(n),
                   ARG_UINT(seed), ARG_UINT(seed >> 32), ARG_UINT(block), ARG_UINT(block >> 32),
                   CLRT_ARG_INT(first_word)))
        return NULL;
    return out;
}

CLG_API clg_tensor *clg_rand(clg_context *ctx, int rank, const int64_t *shape, uint64_t seed,
                             uint64_t offset)
{
    return fill("clg_rand", "random_uniform", ctx, rank, shape, seed, offset);
}

CLG_API clg_tensor *clg_randn(clg_context *ctx, int rank, const int64_t *shape, uint64_t seed,
                              uint64_t offset)
{
    return fill("clg_randn", "random_normal", ctx, rank, shape, seed, offset);
}
