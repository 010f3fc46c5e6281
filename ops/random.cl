/* ops/random.cl: filling a tensor with uniform or standard normal numbers
 * from Philox-4x32-10 (cl/philox.cl), the same numbers engine/random.c draws
 * on the host.
 *
 * Element i of the output takes index offset + i of stream 0 of the seed.
 * Work-item j computes one Philox block (offset / 4 + j), whose four words
 * serve the four consecutive indices in it; the first block may begin
 * before element 0 (first_word of its words belong to earlier calls) and the
 * last may run past n. A normal at stream index k uses the word pair
 * (k % 4 / 2 * 2, + 1) of its block: r cos(theta) for even k, r sin(theta)
 * for odd k, so each block yields two Box-Muller pairs. */
#include "cl/philox.cl"

/* Work-item j's block: block number (block_hi:block_lo) + j with the carry
 * done in 32 bits, stream 0. */
inline uint4 random_block(int j, uint seed_lo, uint seed_hi, uint block_lo, uint block_hi)
{
    uint lo = block_lo + (uint)j;
    uint hi = block_hi + (lo < block_lo ? 1u : 0u);
    return philox4x32_10((uint4)(lo, hi, 0u, 0u), (uint2)(seed_lo, seed_hi));
}

/* Writes the four values of a block to elements begin .. begin + 3, those
 * that lie in [0, n). Named lanes rather than an indexed array, so the
 * compiler keeps them in registers. */
inline void store4(__global float *out, int n, int begin, float4 v)
{
    if (begin >= 0 && begin + 4 <= n) {
        out[begin] = v.x;
        out[begin + 1] = v.y;
        out[begin + 2] = v.z;
        out[begin + 3] = v.w;
        return;
    }
    if (begin >= 0 && begin < n)
        out[begin] = v.x;
    if (begin + 1 >= 0 && begin + 1 < n)
        out[begin + 1] = v.y;
    if (begin + 2 >= 0 && begin + 2 < n)
        out[begin + 2] = v.z;
    if (begin + 3 < n)
        out[begin + 3] = v.w;
}

/* out[i] = uniform in [0, 1): the word's top 24 bits times 2^-24. */
__kernel void random_uniform(__global float *out, int out_off, int n, uint seed_lo, uint seed_hi,
                             uint block_lo, uint block_hi, int first_word)
{
    int j = get_global_id(0);
    int begin = 4 * j - first_word; /* the element that word 0 of the block serves */
    if (begin >= n)
        return;
    uint4 b = random_block(j, seed_lo, seed_hi, block_lo, block_hi);
    store4(out + out_off, n, begin,
           (float4)(philox_uniform(b.x), philox_uniform(b.y), philox_uniform(b.z),
                    philox_uniform(b.w)));
}

/* r = sqrt(-2 log u1) with u1 = ((x >> 8) + 1) 2^-24 in (0, 1], so log(u1) is
 * finite and r at most about 5.8. */
inline float box_muller_radius(uint x)
{
    float u1 = (float)((x >> 8) + 1u) * (1.0f / 16777216.0f);
    return sqrt(-2.0f * log(u1));
}

/* out[i] = standard normal by Box-Muller on the block's word pairs (x, y)
 * and (z, w). */
__kernel void random_normal(__global float *out, int out_off, int n, uint seed_lo, uint seed_hi,
                            uint block_lo, uint block_hi, int first_word)
{
    int j = get_global_id(0);
    int begin = 4 * j - first_word;
    if (begin >= n)
        return;
    const float two_pi = 6.28318530717958647692f;
    uint4 b = random_block(j, seed_lo, seed_hi, block_lo, block_hi);
    float r0 = box_muller_radius(b.x), theta0 = two_pi * philox_uniform(b.y);
    float r1 = box_muller_radius(b.z), theta1 = two_pi * philox_uniform(b.w);
    store4(out + out_off, n, begin,
           (float4)(r0 * cos(theta0), r0 * sin(theta0), r1 * cos(theta1), r1 * sin(theta1)));
}
