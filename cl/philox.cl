/* cl/philox.cl: Philox-4x32-10 (Salmon et al. 2011) in OpenCL C, line for
 * line the host's engine/random.c, so a kernel and the host draw the same
 * numbers for the same (seed, stream, index). The layout is engine/random.h's:
 *   key     = {seed low 32 bits, seed high 32 bits}
 *   counter = {block low, block high, stream low, stream high}
 *   element i of a stream is word i % 4 of block i / 4,
 * and a uniform float is the word's top 24 bits times 2^-24 (exact in float,
 * so identical on every device). Only 32-bit integer operations: no device
 * needs 64-bit integer support. */
#ifndef CLGRAD_PHILOX_CL
#define CLGRAD_PHILOX_CL

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

inline uint4 philox_round(uint4 ctr, uint2 key)
{
    uint hi0 = mul_hi(PHILOX_M0, ctr.x), lo0 = PHILOX_M0 * ctr.x;
    uint hi1 = mul_hi(PHILOX_M1, ctr.z), lo1 = PHILOX_M1 * ctr.z;
    return (uint4)(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
}

/* One block: 10 rounds, the key bumped by the Weyl constants between them. */
inline uint4 philox4x32_10(uint4 ctr, uint2 key)
{
    for (int round = 0; round < 10; round++) {
        if (round > 0)
            key += (uint2)(PHILOX_W0, PHILOX_W1);
        ctr = philox_round(ctr, key);
    }
    return ctr;
}

/* [0, 1): the top 24 bits of x times 2^-24. */
inline float philox_uniform(uint x)
{
    return (float)(x >> 8) * (1.0f / 16777216.0f);
}

#endif
