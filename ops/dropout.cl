/* ops/dropout.cl: inverted dropout, forward and backward. The mask is never
 * stored: both kernels recompute it from (seed, offset) with the Philox
 * generator, which costs a few integer multiplies per element and no memory.
 *
 * Element i of the tensor (row-major) takes element offset + i of stream 0
 * of the seed, exactly what engine/random.c's eng_random_uniform gives on
 * the host. Work-item j computes one Philox block (offset / 4 + j), whose
 * four words serve the four consecutive elements that fall in it; the first
 * block may start before element 0 (offset % 4 = first_word words of it
 * belong to earlier calls) and the last may run past n. */
#include "cl/common.cl"
#include "cl/philox.cl"

/* The four words of work-item j's block: block number (block_hi:block_lo) + j
 * with the carry done in 32 bits, stream 0. */
inline uint4 dropout_block(int j, uint seed_lo, uint seed_hi, uint block_lo, uint block_hi)
{
    uint lo = block_lo + (uint)j;
    uint hi = block_hi + (lo < block_lo ? 1u : 0u);
    return philox4x32_10((uint4)(lo, hi, 0u, 0u), (uint2)(seed_lo, seed_hi));
}

/* out (contiguous) = x / (1 - p) where the element's uniform u >= p, else 0;
 * scale = 1 / (1 - p), or 0 when p = 1 (then nothing is kept). */
__kernel void dropout_forward(__global const float *x, int x_off, int4 shape, int4 strides,
                              __global float *out, int out_off, int n, uint seed_lo,
                              uint seed_hi, uint block_lo, uint block_hi, int first_word, float p,
                              float scale)
{
    int j = get_global_id(0);
    int begin = 4 * j - first_word; /* the element that word 0 of the block serves */
    if (begin >= n)
        return;
    uint4 block = dropout_block(j, seed_lo, seed_hi, block_lo, block_hi);
    uint words[4] = {block.x, block.y, block.z, block.w};
    for (int w = 0; w < 4; w++) {
        int i = begin + w;
        if (i < 0 || i >= n)
            continue;
        float v = x[x_off + offset4(i, shape, strides)];
        out[out_off + i] = philox_uniform(words[w]) >= p ? v * scale : 0.0f;
    }
}

/* dst (contiguous) (+)= g / (1 - p) where the same mask kept the element,
 * else 0; g is the output's gradient, contiguous. */
__kernel void dropout_backward(__global const float *g, int g_off, __global float *dst,
                               int dst_off, int n, int accumulate, uint seed_lo, uint seed_hi,
                               uint block_lo, uint block_hi, int first_word, float p,
                               float scale)
{
    int j = get_global_id(0);
    int begin = 4 * j - first_word;
    if (begin >= n)
        return;
    uint4 block = dropout_block(j, seed_lo, seed_hi, block_lo, block_hi);
    uint words[4] = {block.x, block.y, block.z, block.w};
    for (int w = 0; w < 4; w++) {
        int i = begin + w;
        if (i < 0 || i >= n)
            continue;
        float d = philox_uniform(words[w]) >= p ? g[g_off + i] * scale : 0.0f;
        dst[dst_off + i] = accumulate ? dst[dst_off + i] + d : d;
    }
}
