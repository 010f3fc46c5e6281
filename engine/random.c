/* engine/random.c: Philox-4x32-10 on the host and the float conversions
 * built on it (see engine/random.h for the counter layout). Written with
 * 32-bit integer operations and float math only, so an OpenCL C version is
 * the same lines with mul_hi for the high halves. */
#include <math.h>

#include "engine/random.h"

/* The round multipliers and the Weyl sequence that bumps the key between
 * rounds (Salmon et al. 2011, table 2; Random123's philox.h). */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void philox_round(uint32_t ctr[4], const uint32_t key[2])
{
    uint64_t p0 = (uint64_t)PHILOX_M0 * ctr[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * ctr[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t c1 = ctr[1], c3 = ctr[3];
    ctr[0] = hi1 ^ c1 ^ key[0];
    ctr[1] = lo1;
    ctr[2] = hi0 ^ c3 ^ key[1];
    ctr[3] = lo0;
}

void eng_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t ctr[4] = {counter[0], counter[1], counter[2], counter[3]};
    uint32_t k[2] = {key[0], key[1]};
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k[0] += PHILOX_W0;
            k[1] += PHILOX_W1;
        }
        philox_round(ctr, k);
    }
    for (int i = 0; i < 4; i++)
        out[i] = ctr[i];
}

float eng_random_to_uniform(uint32_t x)
{
    return (float)(x >> 8) * 0x1.0p-24f;
}

/* Block `block` of the stream: four words. */
static void stream_block(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4])
{
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)stream,
                             (uint32_t)(stream >> 32)};
    eng_philox4x32_10(ctr, key, out);
}

void eng_random_uniform(uint64_t seed, uint64_t stream, float *out, size_t n)
{
    uint32_t words[4];
    for (size_t i = 0; i < n; i++) {
        if (i % 4 == 0)
            stream_block(seed, stream, i / 4, words);
        out[i] = eng_random_to_uniform(words[i % 4]);
    }
}

void eng_random_normal(uint64_t seed, uint64_t stream, float *out, size_t n)
{
    const float two_pi = 6.28318530717958647692f;
    uint32_t words[4];
    for (size_t i = 0; i < n; i++) {
        if (i % 4 == 0)
            stream_block(seed, stream, i / 4, words);
        size_t pair = i % 4 / 2 * 2;
        /* (x >> 8) + 1 in 1..2^24: u1 in (0, 1], so log(u1) is finite */
        float u1 = (float)((words[pair] >> 8) + 1u) * 0x1.0p-24f;
        float u2 = eng_random_to_uniform(words[pair + 1]);
        float r = sqrtf(-2.0f * logf(u1));
        float theta = two_pi * u2;
        out[i] = i % 2 == 0 ? r * cosf(theta) : r * sinf(theta);
    }
}
